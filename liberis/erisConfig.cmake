# CMake package for liberis: find_package(eris) gives eris::eris (shared)
# and eris::eris_static (which needs libsodium, libcbor, sqlite3 and
# libcurl and libcoap 3, found here with pkg-config).
include(CMakeFindDependencyMacro)
find_dependency(Threads)
find_dependency(PkgConfig)
pkg_check_modules(SODIUM REQUIRED IMPORTED_TARGET libsodium)
pkg_check_modules(CBOR REQUIRED IMPORTED_TARGET libcbor)
pkg_check_modules(SQLITE3 REQUIRED IMPORTED_TARGET sqlite3)
pkg_check_modules(CURL REQUIRED IMPORTED_TARGET libcurl)
pkg_search_module(COAP REQUIRED IMPORTED_TARGET
  libcoap-3-notls libcoap-3-openssl libcoap-3-gnutls)
include("${CMAKE_CURRENT_LIST_DIR}/erisTargets.cmake")
