#!/bin/sh
# pins.sh - `eris pin`, the pins put and import make, and what `eris store
# gc` keeps, on an sqlite and a directory store:
#   - put pins under the file's base name (put -r: the directory's),
#     NAME~2 when another content holds the name, nothing when the URN is
#     pinned already; --no-pin pins nothing; import pins under the URN;
#   - pin ls (table) and pin ls --json (read with jq), pin add --name,
#     --force, pin rm by name and by URN, and their errors;
#   - gc keeps every pin's content, an ERIS-FS tree with all its files,
#     deletes the rest, and refuses with no pin and no --keep;
#   - an sqlite store made before pins gains the table when opened;
#   - race: puts of fresh content in the background while gc runs again
#     and again; afterwards every URN a put printed gets back byte for
#     byte.
#
# Usage: pins.sh ERIS
set -u
ERIS=$1
fails=0
tmp=$(mktemp -d "${TMPDIR:-/tmp}/eris-pins-XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

fail() {
	echo "FAIL: $*"
	fails=$((fails + 1))
}

# STATUS ARGS...: run eris, expect STATUS; output in $tmp/out, $tmp/err.
expect() {
	want=$1
	shift
	"$ERIS" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	[ "$rc" = "$want" ] ||
		fail "eris $*: exit $rc, expected $want: $(cat "$tmp/err")"
}

# Text equality.
same() {
	[ "$1" = "$2" ] || fail "$3: got '$1', expected '$2'"
}

head -c 5000 /dev/urandom >"$tmp/a.bin"
head -c 100000 /dev/urandom >"$tmp/b.bin"
head -c 3000 /dev/urandom >"$tmp/c.bin"
mkdir -p "$tmp/photos/sub" "$tmp/other"
head -c 40000 /dev/urandom >"$tmp/photos/sub/big"
echo hello >"$tmp/photos/small"
head -c 2000 /dev/urandom >"$tmp/other/a.bin" # same name, other content

for st in "sqlite:$tmp/s.db" "dir:$tmp/d"; do
	echo "== $st"
	expect 0 put -q --store "$st" "$tmp/a.bin"
	ua=$(cat "$tmp/out")
	expect 0 put -q --store "$st" --no-pin "$tmp/b.bin"
	ub=$(cat "$tmp/out")
	expect 0 put -q -r --store "$st" "$tmp/photos/"
	ut=$(cat "$tmp/out")
	expect 0 put -q --store "$st" "$tmp/other/a.bin"
	uo=$(cat "$tmp/out")
	expect 0 put -q --store "$st" "$tmp/a.bin" # pinned already
	# A tree's size: its files' and its index's.
	expect 0 get --store "$st" "$ut"
	tsize=$((40006 + $(wc -c <"$tmp/out")))
	expect 0 pin ls --json --store "$st"
	same "$(jq -r '.[] | "\(.name) \(.size) \(.urn)"' "$tmp/out")" \
		"a.bin 5000 $ua
a.bin~2 2000 $uo
photos $tsize $ut" "pins after put"
	same "$(jq '[.[].date | type] | unique | .[0]' "$tmp/out")" \
		'"number"' "date is a number"
	now=$(date +%s)
	same "$(jq --argjson now "$now" \
		'[.[] | select(.date > $now - 600 and .date <= $now)] | length' \
		"$tmp/out")" 3 "dates are now"
	expect 0 pin ls --store "$st"
	same "$(head -n 1 "$tmp/out" | tr -s ' ')" "NAME SIZE DATE URN" \
		"table header"
	same "$(sed -n 2p "$tmp/out" | awk '{print $1, $2, $4}')" \
		"a.bin 5000 $ua" "table row"

	# pin add: needs the content, --name, same pin again, a taken name.
	expect 0 pin add --store "$st" --name blob "$ub"
	expect 0 pin add --store "$st" --name blob "$ub"
	expect 2 pin add --store "$st" --name blob "$ua"
	grep -qF "a pin named 'blob' exists for $ub" "$tmp/err" ||
		fail "pin add taken name: $(cat "$tmp/err")"
	expect 0 pin add --store "$st" --name blob --force "$ua"
	expect 0 pin add --store "$st" --name blob --force "$ub"
	expect 2 pin add --store "$st" --name "a/b" "$ub"
	grep -qF "'/' and control characters are not allowed" "$tmp/err" ||
		fail "pin add a/b: $(cat "$tmp/err")"
	expect 0 sum "$tmp/c.bin"
	uc=$(cut -c1-115 "$tmp/out")
	expect 1 pin add --store "$st" "$uc" # never put
	grep -q "R1.*not pinned" "$tmp/err" ||
		fail "pin add of missing content: $(cat "$tmp/err")"
	expect 0 pin add --store "$st" "$ub" # named after its URN
	expect 0 pin ls --json --store "$st"
	same "$(jq -r --arg u "$ub" '[.[] | select(.urn == $u) | .name] | sort | join(" ")' \
		"$tmp/out")" "blob $ub" "names of b"
	expect 0 pin rm --store "$st" "$ub" # both pins of b
	expect 1 pin rm --store "$st" "$ub"
	grep -qF "no pin named or pinning '$ub'" "$tmp/err" ||
		fail "pin rm twice: $(cat "$tmp/err")"
	expect 0 pin rm --store "$st" a.bin~2
	expect 0 pin ls --json --store "$st"
	same "$(jq -r '[.[].name] | join(" ")' "$tmp/out")" "a.bin photos" \
		"pins before gc"

	# gc keeps a.bin and the tree with its files; b and other/a go.
	expect 0 store gc -q --store "$st"
	grep -q "of 2 pins and 0 URNs; deleted 8 blocks" "$tmp/out" ||
		fail "gc: $(cat "$tmp/out")"
	expect 0 get --store "$st" "$ua"
	cmp -s "$tmp/out" "$tmp/a.bin" || fail "a.bin after gc"
	rm -rf "$tmp/x" "$tmp/y"
	expect 0 get -r --store "$st" "$ut" -o "$tmp/x"
	diff -r "$tmp/x" "$tmp/photos" >/dev/null || fail "tree after gc"
	expect 1 get --store "$st" "$ub"
	expect 1 get --store "$st" "$uo"

	# No pin left, no --keep: refused; --all empties the store.
	expect 0 pin rm --store "$st" a.bin
	expect 0 pin rm --store "$st" photos
	expect 2 store gc -q --store "$st"
	grep -qF "refusing to delete every block" "$tmp/err" ||
		fail "gc without pins: $(cat "$tmp/err")"
	expect 0 get --store "$st" "$ua"
	expect 0 store gc -q --store "$st" --keep "$ut"
	grep -q "of 0 pins and 1 URN; deleted" "$tmp/out" ||
		fail "gc --keep tree: $(cat "$tmp/out")"
	expect 1 get --store "$st" "$ua"
	expect 0 get -r --store "$st" "$ut" -o "$tmp/y"
	expect 0 store gc -q --store "$st" --all
	grep -q "kept 0 blocks of 0 pins and 0 URNs" "$tmp/out" ||
		fail "gc --all: $(cat "$tmp/out")"

	# import pins under the URN, unless --no-pin.
	expect 0 put -q --store mem: "$tmp/c.bin"
	expect 0 put -q --store "dir:$tmp/src" "$tmp/c.bin"
	expect 0 export --store "dir:$tmp/src" -o "$tmp/c.cbor" "$uc"
	expect 0 import -q --no-pin --store "$st" "$tmp/c.cbor"
	expect 0 pin ls --json --store "$st"
	same "$(jq length "$tmp/out")" 0 "import --no-pin"
	expect 0 import -q --store "$st" "$tmp/c.cbor"
	same "$(cat "$tmp/out")" "$uc" "import prints the URN"
	expect 0 pin ls --json --store "$st"
	same "$(jq -r '.[] | "\(.name) \(.size)"' "$tmp/out")" "$uc 3000" \
		"import pin"
done

# A store without pins says so; a mem store has none yet.
expect 5 pin ls --store "cbor:$tmp/c.cbor"
grep -qF "this store cannot hold pins" "$tmp/err" ||
	fail "pin ls of a bundle: $(cat "$tmp/err")"
expect 0 pin ls --store mem: --json
same "$(cat "$tmp/out")" "[]" "empty list"

# An sqlite store made before pins: the table appears when it is opened.
expect 0 put -q --store "sqlite:$tmp/old.db" "$tmp/a.bin"
sqlite3 "$tmp/old.db" "DROP TABLE pins" || fail "sqlite3"
expect 0 pin ls --store "sqlite:$tmp/old.db" --json
same "$(cat "$tmp/out")" "[]" "old store has no pins"
expect 0 put -q --store "sqlite:$tmp/old.db" "$tmp/c.bin"
expect 0 pin ls --store "sqlite:$tmp/old.db" --json
same "$(jq -r '.[].name' "$tmp/out")" "c.bin" "old store pins"

# The race: fresh content put in the background while gc runs.
for st in "sqlite:$tmp/race.db" "dir:$tmp/race"; do
	echo "== race $st"
	rm -f "$tmp/urns" "$tmp/done"
	expect 0 put -q --no-pin --store "$st" "$tmp/c.bin" # creates it
	(
		i=0
		while [ $i -lt 40 ]; do
			i=$((i + 1))
			head -c $((3000 + i * 997)) /dev/urandom >"$tmp/r$i"
			u=$("$ERIS" put -q --store "$st" "$tmp/r$i") ||
				echo "put $i failed" >>"$tmp/urns.err"
			echo "$i $u" >>"$tmp/urns"
		done
		touch "$tmp/done"
	) &
	bg=$!
	gcs=0
	while [ ! -e "$tmp/done" ]; do
		"$ERIS" store gc -q --all --store "$st" >/dev/null 2>"$tmp/gcerr" ||
			fail "gc during puts: $(cat "$tmp/gcerr")"
		gcs=$((gcs + 1))
	done
	wait "$bg"
	[ -e "$tmp/urns.err" ] && fail "$(cat "$tmp/urns.err")"
	echo "$gcs gc runs during 40 puts"
	[ "$gcs" -ge 2 ] || fail "gc ran only $gcs times"
	"$ERIS" store gc -q --all --store "$st" >/dev/null
	n=0
	while read -r i u; do
		"$ERIS" get --store "$st" "$u" >"$tmp/got" 2>"$tmp/err" ||
			fail "race: content $i lost: $(cat "$tmp/err")"
		cmp -s "$tmp/got" "$tmp/r$i" || fail "race: content $i differs"
		n=$((n + 1))
	done <"$tmp/urns"
	same "$n" 40 "race: URNs printed"
done

if [ "$fails" -gt 0 ]; then
	echo "$fails failure(s)"
	exit 1
fi
echo "all passed"
