#!/bin/sh
# build-matrix.sh - build everything (library, programs, tests, fuzz
# replay drivers, benchmarks) in several configurations with warnings as
# errors, to show that each one builds warning-free. From the repository
# root; each configuration in build-matrix/COMPILER-TYPE/.
#
# Usage: tools/build-matrix.sh [CONFIG...]
#   CONFIG is COMPILER-TYPE: COMPILER gcc or clang, TYPE Debug, Release,
#   RelWithDebInfo or debian (Debian's packaging flags, as dpkg-buildflags
#   gives them for Debian 12, with CMAKE_BUILD_TYPE=None). Without
#   arguments: all eight.
# Exit status: 0 if every configuration built, else 1 (each failure is
# named at the end).
set -u
cd "$(dirname "$0")/.." || exit 2

configs=${*:-gcc-Debug gcc-Release gcc-RelWithDebInfo gcc-debian \
	clang-Debug clang-Release clang-RelWithDebInfo clang-debian}
jobs=$(nproc 2>/dev/null || echo 2)
src=$(pwd)
failed=""
mkdir -p build-matrix

# Debian 12's dpkg-buildflags for C (CFLAGS and CPPFLAGS; LDFLAGS).
debian_cflags="-g -O2 -ffile-prefix-map=$src=. -fstack-protector-strong \
-Wformat -Werror=format-security -Wdate-time -D_FORTIFY_SOURCE=2"
debian_ldflags="-Wl,-z,relro"

for config in $configs; do
	cc=${config%%-*}
	type=${config#*-}
	dir=build-matrix/$config
	case $cc in
	gcc | clang) ;;
	*)
		echo "build-matrix: unknown compiler in '$config'" >&2
		exit 2
		;;
	esac
	set -- -DCMAKE_C_COMPILER="$cc" -DERIS_WERROR=ON -DERIS_BUILD_BENCH=ON
	case $type in
	Debug | Release | RelWithDebInfo)
		set -- "$@" -DCMAKE_BUILD_TYPE="$type"
		;;
	debian)
		set -- "$@" -DCMAKE_BUILD_TYPE=None \
			-DCMAKE_C_FLAGS="$debian_cflags" \
			-DCMAKE_EXE_LINKER_FLAGS="$debian_ldflags" \
			-DCMAKE_SHARED_LINKER_FLAGS="$debian_ldflags"
		;;
	*)
		echo "build-matrix: unknown build type in '$config'" >&2
		exit 2
		;;
	esac
	echo "=== build-matrix: $config"
	start=$(date +%s)
	if cmake -S . -B "$dir" "$@" >"$dir.log" 2>&1 &&
		cmake --build "$dir" -j"$jobs" >>"$dir.log" 2>&1; then
		echo "=== build-matrix: $config ok ($(($(date +%s) - start))s)"
	else
		grep -E 'warning|error' "$dir.log" | sort -u | head -n 40
		echo "=== build-matrix: $config FAILED (log: $dir.log)"
		failed="$failed $config"
	fi
done
if [ -n "$failed" ]; then
	echo "build-matrix: failed:$failed" >&2
	exit 1
fi
echo "build-matrix: all built warning-free:" $configs
