#!/bin/bash
# check-portable-core.sh [CC] - compile every source of liberis's core as a
# port to another C library would: C11 plus POSIX.1-2008 only
# (_POSIX_C_SOURCE, no _GNU_SOURCE or _DEFAULT_SOURCE) and with Linux's
# predefined macros removed, warnings as errors. docs/PORTING.md says
# what the core may use; this keeps it true.
set -eu
cd "$(dirname "$0")/.."
cc=${1:-cc}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# The generated header module.c reads (modules/CMakeLists.txt).
printf '#define ERIS_MODULE_DIR "/nonexistent"\n#define ERIS_BUILT_MODULES\n' \
	>"$out/eris_module_config.h"
n=0
for src in liberis/*.c liberis/stores/*.c liberis/crypto/*.c; do
	"$cc" -std=c11 -Wall -Wextra -Werror -D_POSIX_C_SOURCE=200809L \
		-U__linux__ -U__linux -Ulinux -U__gnu_linux__ \
		-Iinclude -Iliberis -I"$out" -c "$src" -o "$out/o.o"
	n=$((n + 1))
done
echo "check-portable-core: $n core sources compile with C11 + POSIX only, without Linux"
