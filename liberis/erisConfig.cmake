# CMake package for liberis: find_package(eris) gives eris::eris (shared)
# and eris::eris_static (which needs libsodium, found here with pkg-config).
include(CMakeFindDependencyMacro)
find_dependency(Threads)
find_dependency(PkgConfig)
pkg_check_modules(SODIUM REQUIRED IMPORTED_TARGET libsodium)
include("${CMAKE_CURRENT_LIST_DIR}/erisTargets.cmake")
