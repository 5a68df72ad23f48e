#!/bin/bash
# modules.sh CASE ERIS ERISPATCH BAD_ABI_SO NO_SYMBOL_SO MODULE_DIR SANITIZED BUILT
# (tests/modules/CMakeLists.txt). Exit 0 pass, 1 fail, 77 skipped.
set -uo pipefail
case_=$1 ERIS=$2 ERISPATCH=$3 BAD_ABI=$4 NO_SYMBOL=$5 MODULE_DIR=$6
SANITIZED=$7 BUILT=$8
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
unset ERIS_STORE ERIS_MODULE_PATH ERIS_HTTP_TOKEN
export HOME=$tmp/home XDG_DATA_HOME=
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }
has_module() { [[ ",$BUILT," == *",$1,"* ]]; }

# The libraries a command initialises, by file name (LD_DEBUG=libs).
loaded() {
	LD_DEBUG=libs "$@" 2>&1 >/dev/null |
		sed -n 's/.*calling init: \(.*\)$/\1/p' | xargs -rn1 basename |
		sort -u
}

# Only the C library, libsodium and liberis (and, in a sanitizer build,
# its runtime).
only_core() {
	local what=$1 lib extra=0
	shift
	for lib in $(loaded "$@"); do
		case $lib in
		ld-linux*|libc.so.*|libpthread.so.*|libsodium.so.*|liberis.so.*) ;;
		libasan.so.*|libubsan.so.*|libtsan.so.*|libgcc_s.so.*|libstdc++.so.*|libm.so.*|libdl.so.*|librt.so.*)
			[ "$SANITIZED" = ON ] || { fail "$what loads $lib"; extra=1; } ;;
		*) fail "$what loads $lib"; extra=1 ;;
		esac
	done
	[ $extra = 0 ] && ok "$what loads only libc, libsodium and liberis"
}

# A copy of liberis with no modules beside it, so only MODULE_PATH and
# the compiled-in directory remain.
bare_lib() {
	local lib
	lib=$(ldd "$ERIS" | awk '$1 ~ /^liberis\.so\./ { print $3 }')
	mkdir -p "$tmp/lib"
	cp "$lib" "$tmp/lib/"
}

case $case_ in
load)
	printf x >"$tmp/one"
	only_core "eris sum" "$ERIS" sum "$tmp/one"
	if [ -n "$ERISPATCH" ]; then
		only_core "erispatch print-needed" "$ERISPATCH" print-needed "$ERIS"
	fi
	if has_module sqlite; then
		libs=$(loaded "$ERIS" put --store "sqlite:$tmp/s.sqlite" "$tmp/one")
		if grep -q '^store-sqlite\.so$' <<<"$libs" &&
		   grep -q '^libsqlite3\.so' <<<"$libs"; then
			ok "a put into sqlite: loads store-sqlite.so and libsqlite3"
		else
			fail "a put into sqlite: loaded: $(echo $libs)"
		fi
	fi
	;;
missing)
	bare_lib
	if [ -e "$MODULE_DIR/store-sqlite.so" ]; then
		echo "SKIP: $MODULE_DIR/store-sqlite.so is installed, so liberis finds a module anyway"
		exit 77
	fi
	printf x >"$tmp/one"
	LD_LIBRARY_PATH=$tmp/lib "$ERIS" put --store "sqlite:$tmp/s.sqlite" \
		"$tmp/one" >/dev/null 2>"$tmp/err"
	rc=$?
	err=$(cat "$tmp/err")
	if has_module sqlite; then
		want="store-sqlite.so is not installed"
	else
		want="this liberis was built without it"
	fi
	if [ $rc = 3 ] && [[ $err == *"\"sqlite:\" stores need the sqlite module"* ]] &&
	   [[ $err == *"$want"* ]] && [[ $err == *ERIS_WITH_SQLITE* ]] &&
	   [[ $err == *libsqlite3-0* ]]; then
		ok "missing sqlite module: exit 3, $err"
	else
		fail "missing sqlite module: exit $rc, stderr: $err"
	fi
	[ -e "$tmp/s.sqlite" ] && fail "a database was created without the module"
	# The same for bundles: the cbor module.
	urn=$(LD_LIBRARY_PATH=$tmp/lib "$ERIS" sum "$tmp/one" | cut -d" " -f1)
	LD_LIBRARY_PATH=$tmp/lib "$ERIS" get --store "cbor:$tmp/none.cbor" \
		"$urn" >/dev/null 2>"$tmp/err"
	rc=$?
	err=$(cat "$tmp/err")
	if [ $rc != 0 ] && [ $rc -lt 128 ] && [[ $err == *"the cbor module"* ]] &&
	   [[ $err == *ERIS_WITH_CBOR* ]]; then
		ok "missing cbor module: exit $rc, $err"
	else
		fail "missing cbor module: exit $rc, stderr: $err"
	fi
	;;
broken)
	bare_lib
	mkdir "$tmp/mods"
	cp "$BAD_ABI" "$tmp/mods/store-sqlite.so"
	cp "$NO_SYMBOL" "$tmp/mods/store-cbor.so"
	echo "not an ELF file" >"$tmp/mods/store-http.so"
	printf x >"$tmp/one"
	check() { # NAME WANT COMMAND...
		local name=$1 want=$2 rc err
		shift 2
		ERIS_MODULE_PATH=$tmp/mods LD_LIBRARY_PATH=$tmp/lib "$@" \
			>/dev/null 2>"$tmp/err"
		rc=$?
		err=$(cat "$tmp/err")
		if [ $rc = 3 ] && [[ $err == *"$want"* ]]; then
			ok "$name: exit 3, $err"
		else
			fail "$name: exit $rc (want 3 and \"$want\"), stderr: $err"
		fi
	}
	check "module of another interface" "was built for module interface" \
		"$ERIS" put --store "sqlite:$tmp/s.sqlite" "$tmp/one"
	check "module without its descriptor" "has no symbol eris_module_cbor" \
		"$ERIS" put --store "cbor:$tmp/b.cbor" "$tmp/one"
	check "module that is no shared object" "cannot load $tmp/mods/store-http.so" \
		"$ERIS" put --store "http://127.0.0.1:9/" "$tmp/one"
	;;
*)
	echo "unknown case $case_"
	exit 1
	;;
esac
[ $fails = 0 ]
