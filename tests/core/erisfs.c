/*
 * erisfs.c - the ERIS-FS index (eris/fs.h): exact bytes of the worked
 * examples, canonical key order, round trips, every refusal of the
 * strict parser with its code and message, and eris_fs_put_tree() on
 * real trees (determinism, types, special files, names).
 */
#define _GNU_SOURCE
#include "testutil.h"

#include <eris/fs.h>

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* capA: "Hello world!", 1 KiB, null secret (ERIS vector 00). */
#define CAPA                                                              \
	"0a003ffe034b0a056707d0ee1a67007ed97cec69cd4b887465b0bd3f76d228a9d969" \
	"13e63264fc02e4b1063f436680d96b3313f634a511aff7b144003ba564632cdb"
/* capB: "#!/bin/sh\necho hi\n", 1 KiB, null secret. */
#define CAPB                                                              \
	"0a0061345d34444414bd256d795042cbd2731c15a280b82661d4fd06ed10ceab82"   \
	"b1d5d371621ea1b319b47c817e2c0cce4ee375ccdeede38fa30379cfa57246c063"
#define HEAD "da657269748201"
/* An entry of type 0 with capA. */
#define ENT "8200d901145842" CAPA

static const char *ex1_hex =
	HEAD "a1816968656c6c6f2e747874" ENT;

static const char *ex2_hex =
	"da657269748201a58161618200d9011458420a0061345d34444414bd256d795042cbd2731c15a280"
	"b82661d4fd06ed10ceab82b1d5d371621ea1b319b47c817e2c0cce4ee375ccdeede38fa30379cfa5"
	"7246c063816968656c6c6f2e7478748200d9011458420a003ffe034b0a056707d0ee1a67007ed97c"
	"ec69cd4b887465b0bd3f76d228a9d96913e63264fc02e4b1063f436680d96b3313f634a511aff7b1"
	"44003ba564632cdb826362696e64746f6f6c8201d9011458420a0061345d34444414bd256d795042"
	"cbd2731c15a280b82661d4fd06ed10ceab82b1d5d371621ea1b319b47c817e2c0cce4ee375ccdeed"
	"e38fa30379cfa57246c06382636c6962676c6962782e736f8202696c6962782e736f2e3182636c69"
	"62696c6962782e736f2e318200d9011458420a003ffe034b0a056707d0ee1a67007ed97cec69cd4b"
	"887465b0bd3f76d228a9d96913e63264fc02e4b1063f436680d96b3313f634a511aff7b144003ba5"
	"64632cdb";

static uint8_t *unhex(const char *hex, size_t *n)
{
	size_t l = strlen(hex);
	uint8_t *out = malloc(l / 2 + 1);

	ck_assert_ptr_nonnull(out);
	ck_assert_uint_eq(l % 2, 0);
	for (size_t i = 0; i < l / 2; i++) {
		unsigned v;

		ck_assert_int_eq(sscanf(hex + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
	*n = l / 2;
	return out;
}

static eris_read_cap cap_of(const char *hex)
{
	eris_read_cap cap;
	size_t n;
	uint8_t *b = unhex(hex, &n);

	ck_assert_uint_eq(n, ERIS_READ_CAP_BYTES);
	ck_assert_eris(eris_read_cap_from_bytes(&cap, b), ERIS_OK);
	free(b);
	return cap;
}

/* Encode `idx` and compare with `hex`. */
static void assert_encodes_to(eris_fs_index *idx, const char *hex)
{
	uint8_t *got, *want;
	size_t got_n, want_n;

	want = unhex(hex, &want_n);
	ck_assert_eris(eris_fs_index_encode(&got, &got_n, idx), ERIS_OK);
	ck_assert_uint_eq(got_n, want_n);
	ck_assert_mem_eq(got, want, want_n);
	free(got);
	free(want);
}

static void add_ex2(eris_fs_index *idx, const int order[5])
{
	eris_read_cap a = cap_of(CAPA), b = cap_of(CAPB);

	for (int i = 0; i < 5; i++) {
		switch (order[i]) {
		case 0:
			ck_assert_eris(eris_fs_index_add_path(idx, "a", ERIS_FS_FILE, &b, NULL), ERIS_OK);
			break;
		case 1:
			ck_assert_eris(eris_fs_index_add_path(idx, "hello.txt", ERIS_FS_FILE, &a, NULL), ERIS_OK);
			break;
		case 2:
			ck_assert_eris(eris_fs_index_add_path(idx, "bin/tool", ERIS_FS_EXECUTABLE, &b, NULL), ERIS_OK);
			break;
		case 3:
			ck_assert_eris(eris_fs_index_add_path(idx, "lib/libx.so", ERIS_FS_SYMLINK, NULL, "libx.so.1"), ERIS_OK);
			break;
		default:
			ck_assert_eris(eris_fs_index_add_path(idx, "lib/libx.so.1", ERIS_FS_FILE, &a, NULL), ERIS_OK);
			break;
		}
	}
}

START_TEST(test_examples)
{
	static const int orders[4][5] = { { 0, 1, 2, 3, 4 },
					  { 4, 3, 2, 1, 0 },
					  { 3, 0, 4, 2, 1 },
					  { 2, 4, 1, 3, 0 } };
	eris_fs_index *idx;
	eris_read_cap a = cap_of(CAPA), cap;
	eris_encode_options eo = ERIS_ENCODE_OPTIONS_INIT;
	char urn[ERIS_URN_BUFSIZE];
	uint8_t *bytes;
	size_t n;

	ck_assert_eris(eris_fs_index_new(&idx, 0), ERIS_OK);
	ck_assert_eris(eris_fs_index_add_path(idx, "hello.txt", ERIS_FS_FILE, &a, NULL), ERIS_OK);
	assert_encodes_to(idx, ex1_hex);
	eris_fs_index_free(idx);

	/* EX1 as ERIS content (1 KiB, null secret): the URN of the digest. */
	bytes = unhex(ex1_hex, &n);
	eo.block_size = ERIS_BLOCK_SIZE_1K;
	ck_assert_eris(eris_encode(&cap, NULL, &eo, bytes, n), ERIS_OK);
	ck_assert_eris(eris_urn_format(urn, &cap), ERIS_OK);
	ck_assert_str_eq(urn, "urn:eris:BIAP2M7WO6Y6XU3563UWU5DVATDM46MG5HO4RJ2SFQZS42ORJFDSWB3UWHELRBLRMMYTOKVKYSWS3IB4TIXO7YNBFDODGKMFAWUB6UE5OY");
	free(bytes);

	/* EX2 in any order gives the same bytes. */
	for (int k = 0; k < 4; k++) {
		ck_assert_eris(eris_fs_index_new(&idx, 0), ERIS_OK);
		add_ex2(idx, orders[k]);
		assert_encodes_to(idx, ex2_hex);
		eris_fs_index_free(idx);
	}
	bytes = unhex(ex2_hex, &n);
	ck_assert_eris(eris_encode(&cap, NULL, &eo, bytes, n), ERIS_OK);
	ck_assert_eris(eris_urn_format(urn, &cap), ERIS_OK);
	ck_assert_str_eq(urn, "urn:eris:BIAHLN5WOGBAOSC6BK2CYSMMHAYITGMQU4UQXO7M5NOXR7ILBG4GJPJKIXOFIXGRCTUAYDHB63D5RAUQV3ZP6R2AF3YB2TULHVYMUTFGFQ");
	free(bytes);
}
END_TEST

/* Parse `hex`, check the entries come out in the canonical order and
 * re-encode to the same bytes. */
START_TEST(test_parse_roundtrip)
{
	eris_fs_index *idx;
	eris_fs_entry e;
	uint8_t *in, *out;
	size_t n, out_n;
	static const char *paths[] = { "a", "hello.txt", "bin/tool",
				       "lib/libx.so", "lib/libx.so.1" };

	in = unhex(ex2_hex, &n);
	ck_assert(eris_fs_has_magic(in, n));
	ck_assert_eris(eris_fs_index_parse(&idx, in, n, 0), ERIS_OK);
	ck_assert_uint_eq(eris_fs_index_count(idx), 5);
	for (size_t i = 0; i < 5; i++) {
		ck_assert_eris(eris_fs_index_entry(idx, i, &e), ERIS_OK);
		ck_assert_str_eq(e.path, paths[i]);
	}
	ck_assert_eris(eris_fs_index_entry(idx, 2, &e), ERIS_OK);
	ck_assert_int_eq(e.type, ERIS_FS_EXECUTABLE);
	ck_assert_uint_eq(e.n_components, 2);
	ck_assert_eris(eris_fs_index_entry(idx, 3, &e), ERIS_OK);
	ck_assert_int_eq(e.type, ERIS_FS_SYMLINK);
	ck_assert_str_eq(e.target, "libx.so.1");
	ck_assert_eris(eris_fs_index_entry(idx, 5, &e), ERIS_EINVAL);
	ck_assert_eris(eris_fs_index_encode(&out, &out_n, idx), ERIS_OK);
	ck_assert_uint_eq(out_n, n);
	ck_assert_mem_eq(out, in, n);
	free(out);
	eris_fs_index_free(idx);
	free(in);

	/* The empty index: a tree with nothing in it. */
	in = unhex(HEAD "a0", &n);
	ck_assert_eris(eris_fs_index_parse(&idx, in, n, 0), ERIS_OK);
	ck_assert_uint_eq(eris_fs_index_count(idx), 0);
	eris_fs_index_free(idx);
	free(in);
}
END_TEST

/* Key order of RFC 8949 4.2.1, and the head size classes. */
START_TEST(test_key_order_and_heads)
{
	eris_read_cap a = cap_of(CAPA);
	eris_fs_index *idx, *back;
	eris_fs_entry e;
	uint8_t *out, *out2;
	size_t n, n2;
	char name[300], path[200];

	ck_assert_eris(eris_fs_index_new(&idx, 0), ERIS_OK);
	/* Added in the reverse of the expected order. */
	ck_assert_eris(eris_fs_index_add_path(idx, "a/b", ERIS_FS_FILE, &a, NULL), ERIS_OK);
	ck_assert_eris(eris_fs_index_add_path(idx, "aaaaaaaa", ERIS_FS_FILE, &a, NULL), ERIS_OK);
	ck_assert_eris(eris_fs_index_add_path(idx, "z", ERIS_FS_FILE, &a, NULL), ERIS_OK);
	ck_assert_eris(eris_fs_index_add_path(idx, "aa", ERIS_FS_FILE, &a, NULL), ERIS_OK);
	ck_assert_eris(eris_fs_index_add_path(idx, "b", ERIS_FS_FILE, &a, NULL), ERIS_OK);
	/* UTF-8 bytes order, no normalisation: NFC "\xc3\xa4" and NFD
	 * "a\xcc\x88" are two names. */
	ck_assert_eris(eris_fs_index_add_path(idx, "\xc3\xa4", ERIS_FS_FILE, &a, NULL), ERIS_OK);
	ck_assert_eris(eris_fs_index_add_path(idx, "a\xcc\x88", ERIS_FS_FILE, &a, NULL), ERIS_OK);
	ck_assert_eris(eris_fs_index_sort(idx), ERIS_OK);
	{
		static const char *want[] = { "b", "z", "aa", "\xc3\xa4",
					      "a\xcc\x88", "aaaaaaaa", "a/b" };
		for (size_t i = 0; i < 7; i++) {
			ck_assert_eris(eris_fs_index_entry(idx, i, &e), ERIS_OK);
			ck_assert_str_eq(e.path, want[i]);
		}
	}
	/* 24- and 256-byte components, more than 255 entries, 24 components. */
	memset(name, 'n', sizeof(name));
	name[24] = '\0';
	ck_assert_eris(eris_fs_index_add_path(idx, name, ERIS_FS_FILE, &a, NULL), ERIS_OK);
	name[24] = 'n';
	name[256] = '\0';
	ck_assert_eris(eris_fs_index_add_path(idx, name, ERIS_FS_FILE, &a, NULL), ERIS_OK);
	for (int i = 0; i < 300; i++) {
		snprintf(path, sizeof(path), "many/%03d", i);
		ck_assert_eris(eris_fs_index_add_path(idx, path, ERIS_FS_FILE, &a, NULL), ERIS_OK);
	}
	path[0] = '\0';
	for (int i = 0; i < 24; i++)
		strcat(path, i ? "/d" : "d");
	ck_assert_eris(eris_fs_index_add_path(idx, path, ERIS_FS_SYMLINK, NULL, "x"), ERIS_OK);
	ck_assert_eris(eris_fs_index_encode(&out, &n, idx), ERIS_OK);
	/* 310 entries: map head B9 01 36. */
	ck_assert_uint_eq(out[7], 0xB9);
	ck_assert_uint_eq(out[8], 0x01);
	ck_assert_uint_eq(out[9], 0x36);
	ck_assert_eris(eris_fs_index_parse(&back, out, n, 0), ERIS_OK);
	ck_assert_uint_eq(eris_fs_index_count(back), 310);
	ck_assert_eris(eris_fs_index_encode(&out2, &n2, back), ERIS_OK);
	ck_assert_uint_eq(n2, n);
	ck_assert_mem_eq(out2, out, n);
	ck_assert_eris(eris_fs_index_entry(back, 309, &e), ERIS_OK);
	ck_assert_uint_eq(e.n_components, 24);
	free(out);
	free(out2);
	eris_fs_index_free(back);
	eris_fs_index_free(idx);
}
END_TEST

/* The writer refuses what the reader would. */
START_TEST(test_add_refusals)
{
	eris_read_cap a = cap_of(CAPA);
	eris_fs_index *idx;
	uint8_t *out;
	size_t n;
	static const struct {
		const char *path;
		const char *msg;
	} bad[] = {
		{ "", "an empty component" },
		{ "a//b", "an empty component" },
		{ "/a", "an empty component" },
		{ "a/./b", "a component \".\"" },
		{ "../a", "a component \"..\"" },
		{ "a/\xff", "not valid UTF-8" },
		{ "\xc0\xaf", "not valid UTF-8" },       /* overlong '/' */
		{ "\xed\xa0\x80", "not valid UTF-8" },   /* surrogate */
	};

	ck_assert_eris(eris_fs_index_new(&idx, 0), ERIS_OK);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_eris(eris_fs_index_add_path(idx, bad[i].path, ERIS_FS_FILE, &a, NULL), ERIS_EINVAL);
		ck_assert_msg(strstr(eris_error_last(), bad[i].msg) != NULL,
			      "%s: %s", bad[i].path, eris_error_last());
	}
	{
		const char *comps[] = { "a", "b/c" };

		ck_assert_eris(eris_fs_index_add(idx, comps, 2, ERIS_FS_FILE, &a, NULL), ERIS_EINVAL);
		ck_assert_ptr_nonnull(strstr(eris_error_last(), "containing '/'"));
		ck_assert_eris(eris_fs_index_add(idx, comps, 0, ERIS_FS_FILE, &a, NULL), ERIS_EINVAL);
	}
	ck_assert_eris(eris_fs_index_add_path(idx, "l", ERIS_FS_SYMLINK, NULL, "/etc"), ERIS_EINVAL);
	ck_assert_ptr_nonnull(strstr(eris_error_last(), "an absolute symlink target"));
	ck_assert_eris(eris_fs_index_add_path(idx, "l", ERIS_FS_SYMLINK, NULL, "x/../.."), ERIS_EINVAL);
	ck_assert_ptr_nonnull(strstr(eris_error_last(), "leading out of the tree"));
	ck_assert_eris(eris_fs_index_add_path(idx, "l", ERIS_FS_SYMLINK, NULL, ""), ERIS_EINVAL);
	ck_assert_ptr_nonnull(strstr(eris_error_last(), "an empty symlink target"));
	ck_assert_eris(eris_fs_index_add_path(idx, "l", ERIS_FS_SYMLINK, &a, "x"), ERIS_EINVAL);
	ck_assert_eris(eris_fs_index_add_path(idx, "f", ERIS_FS_FILE, NULL, NULL), ERIS_EINVAL);
	ck_assert_eris(eris_fs_index_add_path(idx, "f", (eris_fs_type)3, &a, NULL), ERIS_EINVAL);
	ck_assert_ptr_nonnull(strstr(eris_error_last(), "unknown ERIS-FS entry type 3"));
	ck_assert_uint_eq(eris_fs_index_count(idx), 0);
	/* Allowed: a link one level down climbing to the root, "." parts. */
	ck_assert_eris(eris_fs_index_add_path(idx, "d/l", ERIS_FS_SYMLINK, NULL, "../x"), ERIS_OK);
	ck_assert_eris(eris_fs_index_add_path(idx, "d/m", ERIS_FS_SYMLINK, NULL, "./.././d//m"), ERIS_OK);

	/* Set-wide rules, found at encode. */
	ck_assert_eris(eris_fs_index_add_path(idx, "a", ERIS_FS_FILE, &a, NULL), ERIS_OK);
	ck_assert_eris(eris_fs_index_add_path(idx, "a", ERIS_FS_EXECUTABLE, &a, NULL), ERIS_OK);
	ck_assert_eris(eris_fs_index_encode(&out, &n, idx), ERIS_EINVAL);
	ck_assert_str_eq(eris_error_last(), "ERIS-FS path 'a' appears twice");
	eris_fs_index_free(idx);

	ck_assert_eris(eris_fs_index_new(&idx, 0), ERIS_OK);
	ck_assert_eris(eris_fs_index_add_path(idx, "d/l", ERIS_FS_SYMLINK, NULL, "x"), ERIS_OK);
	ck_assert_eris(eris_fs_index_add_path(idx, "d/l.x", ERIS_FS_FILE, &a, NULL), ERIS_OK);
	ck_assert_eris(eris_fs_index_add_path(idx, "d/l/y", ERIS_FS_FILE, &a, NULL), ERIS_OK);
	ck_assert_eris(eris_fs_index_encode(&out, &n, idx), ERIS_EINVAL);
	ck_assert_str_eq(eris_error_last(), "ERIS-FS path 'd/l' is both a symlink and a directory (of 'd/l/y')");
	eris_fs_index_free(idx);

	/* External links with the flag. */
	ck_assert_eris(eris_fs_index_new(&idx, 7), ERIS_EINVAL);
	ck_assert_eris(eris_fs_index_new(&idx, ERIS_FS_EXTERNAL_LINKS), ERIS_OK);
	ck_assert_eris(eris_fs_index_add_path(idx, "l", ERIS_FS_SYMLINK, NULL, "/nix/store/x"), ERIS_OK);
	ck_assert_eris(eris_fs_index_add_path(idx, "m", ERIS_FS_SYMLINK, NULL, "../../x"), ERIS_OK);
	ck_assert_eris(eris_fs_index_encode(&out, &n, idx), ERIS_OK);
	free(out);
	eris_fs_index_free(idx);
}
END_TEST

/* Every malformed index: ERIS_EFSINDEX and a message saying what. */
static const struct bad_case {
	const char *hex;
	const char *msg;
	unsigned flags;
} bad_cases[] = {
	/* Tag and outer structure. */
	{ "da657269738201a18161618200d901145842" CAPA, "not an ERIS-FS index: tag 1701996915, not 1701996916", 0 },
	{ "8201a18161618200d901145842" CAPA, "not an ERIS-FS index: starts with an array, not tag 1701996916", 0 },
	{ "d9d9f7" HEAD "a0", "tag 55799, not 1701996916", 0 },
	{ "da657269748200a0", "unsupported ERIS-FS version 0 (only 1 is known)", 0 },
	{ "da657269748202a0", "unsupported ERIS-FS version 2 (only 1 is known)", 0 },
	{ "da657269748220a0", "unsupported ERIS-FS version -1 (only 1 is known)", 0 },
	{ "da65726974826131a0", "byte 6: version is a text string, not an unsigned integer", 0 },
	{ "da657269748101", "byte 5: the tagged item must be an array of 2", 0 },
	{ "da657269748301a000", "byte 5: the tagged item must be an array of 2", 0 },
	{ HEAD "8161", "byte 7: entries are an array, not a map", 0 },
	{ HEAD "ba00010000", "entries cannot fit", 0 },
	/* Paths. */
	{ HEAD "a163612f62" ENT, "byte 8: path is a text string, not an array", 0 },
	{ HEAD "a1814161" ENT, "byte 9: path component is a byte string, not a text string", 0 },
	{ HEAD "a18160" ENT, "byte 9: an empty component", 0 },
	{ HEAD "a180" ENT, "byte 8: empty path", 0 },
	{ HEAD "a181612e" ENT, "a component \".\"", 0 },
	{ HEAD "a181622e2e" ENT, "a component \"..\"", 0 },
	{ HEAD "a18163612f62" ENT, "a component containing '/'", 0 },
	{ HEAD "a181626100" ENT, "a component containing NUL", 0 },
	{ HEAD "a18161ff" ENT, "a component that is not valid UTF-8", 0 },
	{ HEAD "a18162c0af" ENT, "a component that is not valid UTF-8", 0 },
	/* Set rules. */
	{ HEAD "a2816161" ENT "816161" ENT, "byte 84: path 'a' appears twice", 0 },
	{ HEAD "a2816162" ENT "816161" ENT, "byte 84: path 'a' out of order", 0 },
	{ HEAD "a2816161" ENT "8261616162" ENT, "ERIS-FS path 'a' is both a file and a directory (of 'a/b')", 0 },
	{ HEAD "a281616182026162" "8261616162" ENT, "ERIS-FS path 'a' is both a symlink and a directory (of 'a/b')", 0 },
	/* Entries. */
	{ HEAD "a18161618203d901145842" CAPA, "byte 12: unknown entry type 3 for 'a'", 0 },
	{ HEAD "a181616182183fd901145842" CAPA, "unknown entry type 63 for 'a'", 0 },
	{ HEAD "a1816161a000", "byte 11: entry of 'a' is a map, not an array", 0 },
	{ HEAD "a18161618300d901145842" CAPA "00", "byte 11: entry of 'a' has 3 elements, not 2", 0 },
	{ HEAD "a181616182206161", "entry type of 'a' is a negative integer, not an unsigned integer", 0 },
	{ HEAD "a18161618200" "6161", "byte 13: content of 'a' is not a read capability (tag 276)", 0 },
	{ HEAD "a18161618200" "5842" CAPA, "content of 'a' is not a read capability (tag 276)", 0 },
	{ HEAD "a18161618202d901145842" CAPA, "byte 13: symlink target is a tag, not a text string", 0 },
	{ HEAD "a1816161820260", "byte 13: 'a' has an empty symlink target", 0 },
	{ HEAD "a18161618202642f746d70", "byte 13: 'a' has an absolute symlink target", 0 },
	{ HEAD "a1816161820264" "2e2e2f78", "byte 13: 'a' has a symlink target leading out of the tree", 0 },
	{ HEAD "a18161618202626100", "'a' has a symlink target containing NUL", 0 },
	/* Not deterministic CBOR. */
	{ "da65726974821801a0", "byte 6: integer or length 1 not in its shortest form", 0 },
	{ "db0000000065726974" "8201a0", "byte 0: integer or length 1701996916 not in its shortest form", 0 },
	{ HEAD "b800", "byte 7: integer or length 0 not in its shortest form", 0 },
	{ HEAD "bf816161" ENT "ff", "byte 7: indefinite length (not deterministic CBOR)", 0 },
	{ HEAD "a19f6161ff" ENT, "byte 8: indefinite length", 0 },
	{ HEAD "a1817f6161ff" ENT, "byte 9: indefinite length", 0 },
	{ HEAD "a1816161" "8200d90114" "5f5842" CAPA "ff", "indefinite length", 0 },
	{ HEAD "a0" "00", "byte 8: 1 bytes after the index", 0 },
	{ HEAD "a1816161" ENT "a0", "byte 84: 1 bytes after the index", 0 },
	{ HEAD "a1816161" "8200d901145842" "0a", "byte 16: truncated", 0 },
	{ HEAD "a1", "byte 7: 1 entries cannot fit in 0 bytes", 0 },
	{ HEAD "a1816161" "821c", "byte 12: reserved additional information 28", 0 },
	{ "", "not an ERIS-FS index: empty content", 0 },
	{ "da6572", "byte 0: truncated", 0 },
};

START_TEST(test_parse_refusals)
{
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *c = &bad_cases[i];
		eris_fs_index *idx = (eris_fs_index *)1;
		uint8_t *in;
		size_t n;

		if (c->msg == NULL)
			continue;
		in = unhex(c->hex, &n);
		ck_assert_msg(eris_fs_index_parse(&idx, in, n, c->flags) == ERIS_EFSINDEX,
			      "case %zu (%s): not refused: %s", i, c->msg,
			      eris_error_last());
		ck_assert_ptr_null(idx);
		ck_assert_msg(strstr(eris_error_last(), c->msg) != NULL,
			      "case %zu: want \"%s\", got \"%s\"", i, c->msg,
			      eris_error_last());
		free(in);
	}
}
END_TEST

/* Capabilities inside entries. */
START_TEST(test_parse_capability)
{
	eris_fs_index *idx;
	uint8_t *in;
	size_t n;
	char hex[400];

	/* 65 bytes. */
	snprintf(hex, sizeof(hex), HEAD "a18161618200d901145841%.130s", CAPA);
	in = unhex(hex, &n);
	ck_assert_eris(eris_fs_index_parse(&idx, in, n, 0), ERIS_EFSINDEX);
	ck_assert_str_eq(eris_error_last(), "ERIS-FS index, byte 16: read capability of 'a' has 65 bytes, not 66");
	free(in);
	/* Block-size code 0x0b. */
	snprintf(hex, sizeof(hex), HEAD "a18161618200d9011458420b%s", &CAPA[2]);
	in = unhex(hex, &n);
	ck_assert_eris(eris_fs_index_parse(&idx, in, n, 0), ERIS_EFSINDEX);
	ck_assert_str_eq(eris_error_last(), "ERIS-FS index, byte 16: read capability of 'a' has an invalid block-size code 0x0b");
	free(in);
	/* Tag 277. */
	snprintf(hex, sizeof(hex), HEAD "a18161618200d901155842%s", CAPA);
	in = unhex(hex, &n);
	ck_assert_eris(eris_fs_index_parse(&idx, in, n, 0), ERIS_EFSINDEX);
	ck_assert_ptr_nonnull(strstr(eris_error_last(), "not a read capability (tag 276)"));
	free(in);
	/* A 32 KiB capability is fine. */
	snprintf(hex, sizeof(hex), HEAD "a18161618201d9011458420f%s", &CAPA[2]);
	in = unhex(hex, &n);
	ck_assert_eris(eris_fs_index_parse(&idx, in, n, 0), ERIS_OK);
	eris_fs_index_free(idx);
	free(in);
}
END_TEST

/* Link targets: refused by default, accepted with the flag. */
START_TEST(test_parse_external_links)
{
	static const char *hex[] = {
		HEAD "a18161618202642f746d70",          /* a -> /tmp */
		HEAD "a1816161820264" "2e2e2f78",       /* a -> ../x */
	};
	eris_fs_index *idx;
	uint8_t *in;
	size_t n;

	for (size_t i = 0; i < 2; i++) {
		in = unhex(hex[i], &n);
		ck_assert_eris(eris_fs_index_parse(&idx, in, n, 0), ERIS_EFSINDEX);
		ck_assert_eris(eris_fs_index_parse(&idx, in, n, ERIS_FS_EXTERNAL_LINKS), ERIS_OK);
		eris_fs_index_free(idx);
		free(in);
	}
	/* d/a -> ../x stays inside. */
	in = unhex(HEAD "a182616461618202642e2e2f78", &n);
	ck_assert_eris(eris_fs_index_parse(&idx, in, n, 0), ERIS_OK);
	eris_fs_index_free(idx);
	free(in);
}
END_TEST

/* ---- trees on disk ---- */

static void write_file(const char *dir, const char *rel, const char *data,
		       size_t len, mode_t mode)
{
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
	close(fd);
	ck_assert_int_eq(chmod(path, mode), 0);
}

static void mk(const char *dir, const char *rel)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	ck_assert_int_eq(mkdir(path, 0755), 0);
}

static void ln(const char *dir, const char *rel, const char *target)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	ck_assert_int_eq(symlink(target, path), 0);
}

static char *big;
#define BIG_LEN (100000u)

/* The same tree, built in one of two orders with different modes. */
static void make_tree(const char *dir, int variant)
{
	if (variant == 0) {
		mk(dir, "bin");
		mk(dir, "lib");
		mk(dir, "share");
		mk(dir, "share/doc");
		mk(dir, "share/empty");
		write_file(dir, "bin/tool", "#!/bin/sh\necho hi\n", 18, 0755);
		write_file(dir, "lib/libx.so.1", big, BIG_LEN, 0644);
		ln(dir, "lib/libx.so", "libx.so.1");
		write_file(dir, "share/doc/empty", "", 0, 0644);
		write_file(dir, "share/doc/gr\xc3\xbc\xc3\x9f \xe2\x9c\x93.txt", "x", 1, 0644);
		write_file(dir, "hello.txt", "Hello world!", 12, 0644);
	} else {
		write_file(dir, "hello.txt", "Hello world!", 12, 0600);
		mk(dir, "share");
		mk(dir, "share/doc");
		write_file(dir, "share/doc/gr\xc3\xbc\xc3\x9f \xe2\x9c\x93.txt", "x", 1, 0400);
		write_file(dir, "share/doc/empty", "", 0, 0640);
		mk(dir, "lib");
		ln(dir, "lib/libx.so", "libx.so.1");
		write_file(dir, "lib/libx.so.1", big, BIG_LEN, 0600);
		mk(dir, "bin");
		write_file(dir, "bin/tool", "#!/bin/sh\necho hi\n", 18, 0100);
	}
}

static void rm_tree(const char *dir)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "chmod -R u+rwx '%s' && rm -rf '%s'", dir, dir);
	ck_assert_int_eq(system(cmd), 0);
}

static int warnings;
static void count_warning(const char *msg, void *payload)
{
	(void)payload;
	if (strstr(msg, "empty directory not recorded") != NULL)
		warnings++;
}

START_TEST(test_put_tree)
{
	char d1[] = "/tmp/erisfs-test-XXXXXX", d2[] = "/tmp/erisfs-test-XXXXXX";
	eris_fs_put_options o = ERIS_FS_PUT_OPTIONS_INIT;
	eris_read_cap c1, c2, c3, cap;
	eris_store *store;
	eris_fs_index *idx;
	eris_fs_entry e;
	eris_decoder *dec;
	uint8_t buf[32];
	size_t got;

	big = malloc(BIG_LEN);
	fill_random((uint8_t *)big, BIG_LEN, 7, 0);
	ck_assert_ptr_nonnull(mkdtemp(d1));
	ck_assert_ptr_nonnull(mkdtemp(d2));
	make_tree(d1, 0);
	make_tree(d2, 1);
	ck_assert_eris(eris_store_new_mem(&store), ERIS_OK);
	eris_set_warning_handler(count_warning, NULL);
	ck_assert_eris(eris_fs_put_tree(&c1, store, d1, &o), ERIS_OK);
	eris_set_warning_handler(NULL, NULL);
	ck_assert_int_eq(warnings, 1);
	o.threads = 4;
	ck_assert_eris(eris_fs_put_tree(&c2, store, d2, &o), ERIS_OK);
	ck_assert_cap_eq(c1, c2);
	/* Other block sizes give another image. */
	o.block_size = ERIS_BLOCK_SIZE_32K;
	ck_assert_eris(eris_fs_put_tree(&c3, store, d2, &o), ERIS_OK);
	ck_assert_int_eq(eris_read_cap_equal(&c1, &c3), 0);

	ck_assert_eris(eris_fs_index_load(&idx, store, &c1, 0, 0), ERIS_OK);
	ck_assert_uint_eq(eris_fs_index_count(idx), 6);
	{
		static const char *want[] = {
			"hello.txt", "bin/tool", "lib/libx.so", "lib/libx.so.1",
			"share/doc/empty",
			"share/doc/gr\xc3\xbc\xc3\x9f \xe2\x9c\x93.txt" };
		static const eris_fs_type types[] = {
			ERIS_FS_FILE, ERIS_FS_EXECUTABLE, ERIS_FS_SYMLINK,
			ERIS_FS_FILE, ERIS_FS_FILE, ERIS_FS_FILE };
		for (size_t i = 0; i < 6; i++) {
			ck_assert_eris(eris_fs_index_entry(idx, i, &e), ERIS_OK);
			ck_assert_str_eq(e.path, want[i]);
			ck_assert_int_eq(e.type, types[i]);
		}
	}
	/* hello.txt is vector 00; the big file has 32 KiB blocks; the
	 * empty file is content of length 0. */
	ck_assert_eris(eris_fs_index_entry(idx, 0, &e), ERIS_OK);
	cap = cap_of(CAPA);
	ck_assert_cap_eq(e.cap, cap);
	ck_assert_eris(eris_fs_index_entry(idx, 3, &e), ERIS_OK);
	ck_assert_uint_eq(e.cap.block_size, ERIS_BLOCK_SIZE_32K);
	ck_assert_eris(eris_decoder_new(&dec, store, &e.cap), ERIS_OK);
	ck_assert_uint_eq(eris_decoder_length(dec), BIG_LEN);
	ck_assert_eris(eris_decoder_pread(dec, buf, sizeof(buf), 1000, &got), ERIS_OK);
	ck_assert_mem_eq(buf, big + 1000, sizeof(buf));
	eris_decoder_free(dec);
	ck_assert_eris(eris_fs_index_entry(idx, 4, &e), ERIS_OK);
	ck_assert_uint_eq(e.cap.block_size, ERIS_BLOCK_SIZE_1K);
	ck_assert_uint_eq(e.cap.level, 0);
	eris_fs_index_free(idx);

	/* A file's capability is not an index. */
	ck_assert_eris(eris_fs_index_load(&idx, store, &cap, 0, 0), ERIS_EFSINDEX);
	ck_assert_str_eq(eris_error_last(), "not an ERIS-FS index: starts with a byte string, not tag 1701996916");
	ck_assert_eris(eris_fs_index_load(&idx, store, &c1, 0, 10), ERIS_EFSINDEX);
	ck_assert_ptr_nonnull(strstr(eris_error_last(), "longer than the limit of 10"));

	/* An absolute link is refused, then accepted with the flag. */
	ln(d1, "abs", "/etc/passwd");
	o.block_size = 0;
	ck_assert_eris(eris_fs_put_tree(&c3, store, d1, &o), ERIS_EINVAL);
	ck_assert_str_eq(eris_error_last(), "ERIS-FS path 'abs': an absolute symlink target");
	o.flags = ERIS_FS_EXTERNAL_LINKS;
	ck_assert_eris(eris_fs_put_tree(&c3, store, d1, &o), ERIS_OK);
	o.flags = 0;

	/* A FIFO. */
	{
		char p[600];

		snprintf(p, sizeof(p), "%s/share/fifo", d2);
		ck_assert_int_eq(mkfifo(p, 0644), 0);
		ck_assert_eris(eris_fs_put_tree(&c3, store, d2, &o), ERIS_EINVAL);
		ck_assert_ptr_nonnull(strstr(eris_error_last(), "/share/fifo: a FIFO; ERIS-FS holds only files, directories and symlinks"));
		unlink(p);
		/* A name that is not UTF-8. */
		write_file(d2, "bad\xff", "", 0, 0644);
		ck_assert_eris(eris_fs_put_tree(&c3, store, d2, &o), ERIS_EINVAL);
		ck_assert_str_eq(eris_error_last(), "ERIS-FS path 'bad\xff': a component that is not valid UTF-8");
	}
	/* Not a directory; an empty one (an index without entries). */
	{
		char p[600];

		snprintf(p, sizeof(p), "%s/hello.txt", d1);
		ck_assert_eris(eris_fs_put_tree(&c3, store, p, &o), ERIS_ERROR);
		ck_assert_ptr_nonnull(strstr(eris_error_last(), "Not a directory"));
		snprintf(p, sizeof(p), "%s/share/empty", d1);
		ck_assert_eris(eris_fs_put_tree(&c3, store, p, &o), ERIS_OK);
		ck_assert_eris(eris_fs_index_load(&idx, store, &c3, 0, 0), ERIS_OK);
		ck_assert_uint_eq(eris_fs_index_count(idx), 0);
		eris_fs_index_free(idx);
	}
	o.version = 99;
	ck_assert_eris(eris_fs_put_tree(&c3, store, d1, &o), ERIS_EINVAL);
	eris_store_free(store);
	rm_tree(d1);
	rm_tree(d2);
	free(big);
}
END_TEST

/* exclude leaves out a file and a whole directory; a path that is not
 * there changes nothing. */
START_TEST(test_put_tree_exclude)
{
	char d[] = "/tmp/erisfs-test-XXXXXX";
	static const char *const none[] = { "no/such/file", NULL };
	static const char *const some[] = { "hello.txt", "lib", NULL };
	eris_fs_put_options o = ERIS_FS_PUT_OPTIONS_INIT;
	eris_read_cap all, same, less;
	eris_store *store;
	eris_fs_index *idx;
	eris_fs_entry e;

	big = malloc(BIG_LEN);
	fill_random((uint8_t *)big, BIG_LEN, 7, 0);
	ck_assert_ptr_nonnull(mkdtemp(d));
	make_tree(d, 0);
	ck_assert_eris(eris_store_new_mem(&store), ERIS_OK);
	ck_assert_eris(eris_fs_put_tree(&all, store, d, &o), ERIS_OK);
	o.exclude = none;
	ck_assert_eris(eris_fs_put_tree(&same, store, d, &o), ERIS_OK);
	ck_assert_cap_eq(all, same);
	o.exclude = some;
	ck_assert_eris(eris_fs_put_tree(&less, store, d, &o), ERIS_OK);
	ck_assert_eris(eris_fs_index_load(&idx, store, &less, 0, 0), ERIS_OK);
	ck_assert_uint_eq(eris_fs_index_count(idx), 3);
	for (size_t i = 0; i < 3; i++) {
		ck_assert_eris(eris_fs_index_entry(idx, i, &e), ERIS_OK);
		ck_assert_str_ne(e.path, "hello.txt");
		ck_assert_int_ne(strncmp(e.path, "lib/", 4), 0);
	}
	eris_fs_index_free(idx);
	eris_store_free(store);
	rm_tree(d);
	free(big);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("erisfs");
	TCase *tc = tcase_create("erisfs");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_examples);
	tcase_add_test(tc, test_parse_roundtrip);
	tcase_add_test(tc, test_key_order_and_heads);
	tcase_add_test(tc, test_add_refusals);
	tcase_add_test(tc, test_parse_refusals);
	tcase_add_test(tc, test_parse_capability);
	tcase_add_test(tc, test_parse_external_links);
	tcase_add_test(tc, test_put_tree);
	tcase_add_test(tc, test_put_tree_exclude);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
