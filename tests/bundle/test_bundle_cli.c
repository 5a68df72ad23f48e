/*
 * test_bundle_cli.c - end-to-end tests of `eris export`, `eris import`,
 * `eris link`, `eris info FILE.eris` and the cbor: store, running the
 * real binary (ERIS_BIN).
 *
 * Each test gets a fresh temporary directory with HOME, XDG_DATA_HOME and
 * ERIS_STORE inside it, as tests/cli/test_cli.c does. The focus is on
 * what a user relies on: a round trip through a bundle gives back the
 * original content and URNs; a damaged bundle imports nothing (the
 * target store stays empty) and exits with the documented status; an
 * export that meets a missing or corrupt block names the rule and leaves
 * no -o file; binary output is never written to a terminal.
 *
 * Set ERIS_TEST_WRAPPER (e.g. "valgrind -q --error-exitcode=99") to run
 * every invocation of eris under a tool.
 */
#define _GNU_SOURCE /* posix_openpt, memmem */
#include "clirun.h"

#include <check.h>
#include <eris/eris.h>

#include <cbor.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef ERIS_BIN
#error "ERIS_BIN must name the eris binary"
#endif

/* ---- environment ------------------------------------------------------ */

static char tmp[1024];
static char store_dir[1100]; /* $ERIS_STORE's directory */

static void setup(void)
{
	char buf[2200];

	clirun_set_binary(ERIS_BIN);
	clirun_make_temp_dir(tmp, sizeof(tmp), "eris-bundle-cli");
	snprintf(store_dir, sizeof(store_dir), "%s/store", tmp);
	snprintf(buf, sizeof(buf), "%s/home", tmp);
	mkdir(buf, 0700);
	setenv("HOME", buf, 1);
	snprintf(buf, sizeof(buf), "%s/xdg", tmp);
	setenv("XDG_DATA_HOME", buf, 1);
	snprintf(buf, sizeof(buf), "dir:%s", store_dir);
	setenv("ERIS_STORE", buf, 1);
	setenv("TMPDIR", tmp, 1); /* import spools stdin here */
	umask(022);
	signal(SIGPIPE, SIG_IGN);
}

static void teardown(void)
{
	clirun_remove_tree(tmp);
}

/* A path in the test directory (rotating static buffers). */
static const char *T(const char *name)
{
	return clirun_path(tmp, name);
}

/* ---- helpers ---------------------------------------------------------- */

/* Regular files below `dir` (hidden ones included); 0 if it is absent. */
static int count_files(const char *dir)
{
	int n = clirun_count_files(dir, 0);

	return n < 0 ? 0 : n;
}

/* eris put FILE into the default store -> URN (static buffer). */
static const char *put_file(const char *path)
{
	static char urns[4][ERIS_URN_BUFSIZE];
	static int next;
	char *u = urns[next++ % 4];
	/* Unpinned, so that the store holds blocks only (count_files). */
	clirun_result r = clirun_run("put", "--no-pin", path, NULL);

	ck_status(r, 0);
	ck_assert_uint_eq(r.out_len, ERIS_URN_LEN + 1);
	memcpy(u, r.out, ERIS_URN_LEN);
	u[ERIS_URN_LEN] = '\0';
	clirun_free(&r);
	return u;
}

/* Two files in the default store: 50000 bytes (32 KiB blocks) and 3000
 * bytes (1 KiB blocks). */
static const char *urn_a, *urn_b;
static uint8_t *data_a, *data_b;
#define LEN_A 50000u
#define LEN_B 3000u

static void two_files(void)
{
	data_a = clirun_random_bytes(LEN_A, 1);
	data_b = clirun_random_bytes(LEN_B, 2);
	clirun_write_file(T("a"), data_a, LEN_A);
	clirun_write_file(T("b"), data_b, LEN_B);
	urn_a = put_file(T("a"));
	urn_b = put_file(T("b"));
}

/* eris export URN_A URN_B -> the bundle (malloc'd). */
static uint8_t *export_both(size_t *len)
{
	clirun_result r = clirun_run("export", urn_a, urn_b, NULL);
	uint8_t *b;

	ck_status(r, 0);
	ck_assert_uint_eq(r.err_len, 0);
	b = (uint8_t *)r.out;
	*len = r.out_len;
	free(r.err);
	return b;
}

/* `eris get --store SPEC URN` gives `data`. */
static void check_get(const char *spec, const char *urn, const uint8_t *data,
		      size_t len)
{
	clirun_result r = clirun_run("get", "--store", spec, urn, NULL);

	ck_status(r, 0);
	ck_assert_uint_eq(r.out_len, len);
	ck_assert_mem_eq(r.out, data, len);
	clirun_free(&r);
}

/* ---- export / import round trips -------------------------------------- */

START_TEST(test_round_trip)
{
	char spec[2300], want[2 * (ERIS_URN_LEN + 1) + 1];
	uint8_t *bundle, *file;
	size_t len, file_len;
	eris_bundle *b;
	clirun_result r;

	two_files();
	bundle = export_both(&len);
	snprintf(want, sizeof(want), "%s\n%s\n", urn_a, urn_b);

	/* The bundle: tags, every block of the store once, both URNs. */
	ck_assert_uint_gt(len, 8);
	ck_assert_mem_eq(bundle, "\xD9\xD9\xF7\xDA\x65\x72\x69\x73", 8);
	ck_assert_int_eq(eris_bundle_open_buffer(&b, bundle, len, NULL,
						 ERIS_BUNDLE_VERIFY),
			 ERIS_OK);
	ck_assert_uint_eq(eris_bundle_block_count(b),
			  (uint64_t)count_files(store_dir));
	ck_assert_uint_eq(eris_bundle_cap_count(b), 2);
	eris_bundle_free(b);

	/* -o writes the same bytes; a URN given twice is exported once. */
	r = clirun_run("export", "-o", T("x.cbor"), urn_a, urn_b, urn_a, NULL);
	ck_status(r, 0);
	ck_assert_uint_eq(r.out_len, 0);
	clirun_free(&r);
	file = clirun_read_file(T("x.cbor"), &file_len);
	ck_assert_ptr_nonnull(file);
	ck_assert_uint_eq(file_len, len);
	ck_assert_mem_eq(file, bundle, len);
	free(file);

	/* Import from a file into a fresh store: prints the URNs. */
	snprintf(spec, sizeof(spec), "dir:%s", T("s2"));
	r = clirun_run("import", "--no-pin", "--store", spec, T("x.cbor"),
		       NULL);
	ck_status(r, 0);
	ck_assert_str_eq(r.out, want);
	ck_assert_uint_eq(r.err_len, 0);
	clirun_free(&r);
	ck_assert_int_eq(count_files(T("s2")), count_files(store_dir));
	check_get(spec, urn_a, data_a, LEN_A);
	check_get(spec, urn_b, data_b, LEN_B);
	r = clirun_run("verify", "--store", spec, urn_a, urn_b, NULL);
	ck_status(r, 0);
	clirun_free(&r);

	/* Importing again changes nothing and succeeds. */
	r = clirun_run("import", "--no-pin", "--store", spec, T("x.cbor"),
		       NULL);
	ck_status(r, 0);
	ck_assert_str_eq(r.out, want);
	clirun_free(&r);

	/* From standard input (a pipe), "-" or no argument. */
	snprintf(spec, sizeof(spec), "dir:%s", T("s3"));
	r = clirun_run_in(bundle, len, "import", "--no-pin", "--store", spec,
			  "-", NULL);
	ck_status(r, 0);
	ck_assert_str_eq(r.out, want);
	clirun_free(&r);
	check_get(spec, urn_a, data_a, LEN_A);
	snprintf(spec, sizeof(spec), "dir:%s", T("s4"));
	r = clirun_run_in(bundle, len, "import", "--no-pin", "--store", spec,
			  NULL);
	ck_status(r, 0);
	ck_assert_str_eq(r.out, want);
	clirun_free(&r);
	check_get(spec, urn_b, data_b, LEN_B);
	/* The spooled copy of standard input is gone. */
	ck_assert_int_eq(count_files(T("")) -
				 count_files(T("s2")) - count_files(T("s3")) -
				 count_files(T("s4")) - count_files(store_dir),
			 3); /* a, b, x.cbor */

	/* The bundle is a store: cbor:FILE. */
	snprintf(spec, sizeof(spec), "cbor:%s", T("x.cbor"));
	check_get(spec, urn_a, data_a, LEN_A);
	check_get(spec, urn_b, data_b, LEN_B);
	r = clirun_run("put", "--store", spec, T("a"), NULL);
	ck_status(r, 5);
	ck_contains(r.err, "read-only");
	clirun_free(&r);
	free(bundle);
	free(data_a);
	free(data_b);
}
END_TEST

/* A bundle exported with one URN imports and prints just that URN. */
START_TEST(test_export_one)
{
	char spec[2300];
	clirun_result r;

	two_files();
	r = clirun_run("export", "-q", "--output", T("b.cbor"), urn_b, NULL);
	ck_status(r, 0);
	clirun_free(&r);
	snprintf(spec, sizeof(spec), "dir:%s", T("s2"));
	r = clirun_run("import", "-q", "--no-pin", "--store", spec,
		       T("b.cbor"), NULL);
	ck_status(r, 0);
	ck_assert_uint_eq(r.out_len, ERIS_URN_LEN + 1);
	ck_assert_mem_eq(r.out, urn_b, ERIS_URN_LEN);
	clirun_free(&r);
	check_get(spec, urn_b, data_b, LEN_B);
	r = clirun_run("get", "--store", spec, urn_a, NULL);
	ck_status(r, 1); /* only b's blocks were exported */
	ck_contains(r.err, "R1");
	clirun_free(&r);
	free(data_a);
	free(data_b);
}
END_TEST

/* ---- export failures -------------------------------------------------- */

/* The path of the block file of `ref` in the default store. */
static const char *block_path(const uint8_t *ref)
{
	static char path[2300];
	char name[ERIS_REF_BASE32_LEN + 1];

	eris_base32_encode(name, ref, ERIS_REF_BYTES);
	snprintf(path, sizeof(path), "%s/%.2s/%s", store_dir, name, name);
	return path;
}

/* The reference of a leaf of `urn` other than the root (the last one the
 * walk visits). */
static int last_ref_cb(const uint8_t ref[ERIS_REF_BYTES], unsigned level,
		       void *payload)
{
	if (level == 0)
		memcpy(payload, ref, ERIS_REF_BYTES);
	return 0;
}

static void some_leaf(const char *urn, uint8_t ref[ERIS_REF_BYTES])
{
	eris_read_cap cap;
	eris_store *store;

	ck_assert_int_eq(eris_urn_parse(&cap, urn, strlen(urn)), ERIS_OK);
	ck_assert_int_eq(eris_store_new_dir(&store, store_dir, 0), ERIS_OK);
	ck_assert_int_eq(eris_walk(store, &cap, last_ref_cb, ref), ERIS_OK);
	eris_store_free(store);
}

START_TEST(test_export_missing_or_corrupt)
{
	uint8_t ref[ERIS_REF_BYTES], *block;
	const char *path;
	size_t len;
	clirun_result r;

	two_files();
	some_leaf(urn_a, ref);
	path = block_path(ref);
	block = clirun_read_file(path, &len);
	ck_assert_ptr_nonnull(block);

	/* Missing: exit 1, R1, no output file, no temporary file. */
	ck_assert_int_eq(unlink(path), 0);
	r = clirun_run("export", "-o", T("out.cbor"), urn_b, urn_a, NULL);
	ck_status(r, 1);
	ck_contains(r.err, "R1");
	ck_contains(r.err, "is not in the store");
	ck_assert(!clirun_exists(T("out.cbor")));
	ck_assert_int_eq(count_files(T("")), count_files(store_dir) + 2);
	clirun_free(&r);

	/* An existing output file is left as it was. */
	clirun_write_file(T("out.cbor"), "old", 3);
	r = clirun_run("export", "-o", T("out.cbor"), urn_a, NULL);
	ck_status(r, 1);
	clirun_free(&r);
	{
		uint8_t *old = clirun_read_file(T("out.cbor"), &len);

		ck_assert_uint_eq(len, 3);
		ck_assert_mem_eq(old, "old", 3);
		free(old);
	}

	/* Corrupt: exit 1, R3. */
	block[100] ^= 1;
	clirun_write_file(path, block, ERIS_BLOCK_SIZE_32K);
	r = clirun_run("export", "-o", T("out2.cbor"), urn_a, NULL);
	ck_status(r, 1);
	ck_contains(r.err, "R3");
	ck_assert(!clirun_exists(T("out2.cbor")));
	clirun_free(&r);

	/* The other content still exports. */
	r = clirun_run("export", "-o", T("out2.cbor"), urn_b, NULL);
	ck_status(r, 0);
	clirun_free(&r);
	free(block);
	free(data_a);
	free(data_b);
}
END_TEST

START_TEST(test_export_usage)
{
	clirun_opts tty = { .stdout_flags = O_RDWR | O_NOCTTY };
	int master;
	clirun_result r;

	two_files();
	r = clirun_run("export", NULL);
	ck_status(r, 2);
	ck_contains(r.err, "no URN given");
	clirun_free(&r);
	r = clirun_run("export", "urn:eris:nope", NULL);
	ck_status(r, 2);
	clirun_free(&r);
	r = clirun_run("export", "--store", T("absent"), urn_a, NULL);
	ck_status(r, 3);
	clirun_free(&r);
	r = clirun_run("export", "--bogus", urn_a, NULL);
	ck_status(r, 2);
	clirun_free(&r);

	/* Never binary CBOR to a terminal; -o is fine. */
	master = posix_openpt(O_RDWR | O_NOCTTY);
	ck_assert_int_ge(master, 0);
	ck_assert_int_eq(grantpt(master), 0);
	ck_assert_int_eq(unlockpt(master), 0);
	tty.stdout_path = ptsname(master);
	ck_assert_ptr_nonnull(tty.stdout_path);
	r = clirun_run_opts(&tty, "export", urn_a, NULL);
	ck_status(r, 2);
	ck_contains(r.err, "terminal");
	clirun_free(&r);
	r = clirun_run_opts(&tty, "link", urn_a, NULL);
	ck_status(r, 2);
	ck_contains(r.err, "terminal");
	clirun_free(&r);
	r = clirun_run_opts(&tty, "export", "-o", T("ok.cbor"), urn_a, NULL);
	ck_status(r, 0);
	clirun_free(&r);
	close(master);
	free(data_a);
	free(data_b);
}
END_TEST

/* ---- import of damaged bundles ---------------------------------------- */

/* `eris import` of `data` (from a file, and from a pipe when `pipe_too`)
 * fails with `status` and a message containing `msg`, storing nothing. */
static void import_fails(const uint8_t *data, size_t len, int status,
			 const char *msg, int pipe_too)
{
	char spec[2300];
	clirun_result r;

	clirun_write_file(T("bad.cbor"), data, len);
	snprintf(spec, sizeof(spec), "dir:%s", T("target"));
	r = clirun_run("import", "--store", spec, T("bad.cbor"), NULL);
	ck_assert_msg(r.status == status && strstr(r.err, msg) &&
			      strstr(r.err, "nothing imported"),
		      "import of %zu bytes: exit %d (expected %d), stderr %s "
		      "(expected '%s')",
		      len, r.status, status, r.err, msg);
	ck_assert_uint_eq(r.out_len, 0);
	ck_assert_int_eq(count_files(T("target")), 0);
	clirun_free(&r);
	if (!pipe_too)
		return;
	r = clirun_run_in(data, len, "import", "--store", spec, NULL);
	ck_assert_msg(r.status == status && strstr(r.err, msg) &&
			      strstr(r.err, "standard input"),
		      "import of %zu bytes from a pipe: exit %d, stderr %s",
		      len, r.status, r.err);
	ck_assert_int_eq(count_files(T("target")), 0);
	clirun_free(&r);
}

START_TEST(test_import_truncated)
{
	uint8_t *bundle;
	size_t len;

	two_files();
	bundle = export_both(&len);
	/* Every length in the first 200 bytes (tags, heads, the first key
	 * and block head), then every 997th, and the last few. */
	for (size_t n = 0; n < len; n += n < 200 ? 1 : n + 8 >= len ? 1 : 997)
		import_fails(bundle, n, 4, "truncated", n % 7 == 0);
	free(bundle);
	free(data_a);
	free(data_b);
}
END_TEST

/* A valid single-block bundle by hand, then damaged in various ways. */
START_TEST(test_import_invalid)
{
	static const uint8_t key_head[] = { 0x81, 0xA1, 0x58, 0x20 };
	uint8_t *bundle, *bad;
	size_t len, at, n;

	two_files();
	bundle = export_both(&len);

	/* Not CBOR at all. */
	import_fails((const uint8_t *)"hello", 5, 4, "at byte 0", 1);
	/* A link file is not a bundle. */
	{
		clirun_result r = clirun_run("link", urn_b, NULL);

		ck_status(r, 0);
		import_fails((const uint8_t *)r.out, r.out_len, 4,
			     "an ERIS link file?", 0);
		clirun_free(&r);
	}
	/* Trailing garbage after a good bundle. */
	bad = malloc(len + 2);
	memcpy(bad, bundle, len);
	bad[len] = 0x00;
	bad[len + 1] = 0x01;
	import_fails(bad, len + 2, 4, "2 bytes of trailing data", 1);

	/* A block that does not hash to its key (flip a byte in the middle of
	 * the first block): exit 1, R3. */
	memcpy(bad, bundle, len);
	at = 8 + 2 + 2 + 32 + 3 + 500; /* tags, heads, key, value head */
	bad[at] ^= 0x40;
	import_fails(bad, len, 1, "does not hash to its key", 1);
	import_fails(bad, len, 1, "R3", 0);
	free(bad);

	/* Key of 31 bytes. */
	bad = malloc(64 + ERIS_BLOCK_SIZE_1K);
	memcpy(bad, key_head, sizeof(key_head));
	bad[3] = 0x1F;
	memset(bad + 4, 1, 31);
	n = 4 + 31;
	bad[n++] = 0x59; /* byte string, 2-byte length 1024 */
	bad[n++] = 0x04;
	bad[n++] = 0x00;
	memset(bad + n, 2, ERIS_BLOCK_SIZE_1K);
	n += ERIS_BLOCK_SIZE_1K;
	import_fails(bad, n, 4, "has 31 bytes, not 32", 0);

	/* A block of 1000 bytes: exit 1 (wrong block size). */
	memcpy(bad, key_head, sizeof(key_head));
	memset(bad + 4, 1, 32);
	n = 4 + 32;
	bad[n++] = 0x59;
	bad[n++] = 0x03;
	bad[n++] = 0xE8;
	memset(bad + n, 2, 1000);
	n += 1000;
	import_fails(bad, n, 1, "a block of 1000 bytes", 0);

	/* Key of 33 bytes. */
	memcpy(bad, key_head, sizeof(key_head));
	bad[3] = 0x21;
	memset(bad + 4, 1, 33);
	n = 4 + 33;
	bad[n++] = 0x59;
	bad[n++] = 0x04;
	bad[n++] = 0x00;
	memset(bad + n, 2, ERIS_BLOCK_SIZE_1K);
	n += ERIS_BLOCK_SIZE_1K;
	import_fails(bad, n, 4, "has 33 bytes, not 32", 0);

	/* A map key that is not a byte string. */
	n = 0;
	bad[n++] = 0x81;
	bad[n++] = 0xA1;
	bad[n++] = 0x07;
	bad[n++] = 0x59;
	bad[n++] = 0x04;
	bad[n++] = 0x00;
	memset(bad + n, 2, ERIS_BLOCK_SIZE_1K);
	n += ERIS_BLOCK_SIZE_1K;
	import_fails(bad, n, 4, "a map key (block reference) is an unsigned "
				"integer", 0);
	free(bad);
	free(bundle);
	free(data_a);
	free(data_b);
}
END_TEST

START_TEST(test_import_usage)
{
	clirun_result r;

	r = clirun_run("import", T("absent.cbor"), NULL);
	ck_status(r, 4);
	ck_contains(r.err, "absent.cbor");
	ck_contains(r.err, "nothing imported");
	clirun_free(&r);
	r = clirun_run("import", "a", "b", NULL);
	ck_status(r, 2);
	clirun_free(&r);
	/* Empty standard input. */
	r = clirun_run("import", NULL);
	ck_status(r, 4);
	ck_contains(r.err, "standard input: at byte 0: truncated");
	clirun_free(&r);
	ck_assert(!clirun_exists(store_dir));
}
END_TEST

/* ---- link files ------------------------------------------------------- */

/* The link file the library makes for `urn` (malloc'd). */
static uint8_t *expected_link(const char *urn, uint64_t size,
			      const char *mime, size_t *len)
{
	eris_link link;
	uint8_t *buf;

	memset(&link, 0, sizeof(link));
	ck_assert_int_eq(eris_urn_parse(&link.cap, urn, strlen(urn)), ERIS_OK);
	link.size = size;
	link.mime = mime;
	ck_assert_int_eq(eris_link_encode(NULL, 0, len, &link), ERIS_OK);
	buf = malloc(*len);
	ck_assert_int_eq(eris_link_encode(buf, *len, len, &link), ERIS_OK);
	return buf;
}

START_TEST(test_link)
{
	uint8_t *want, *file;
	size_t want_len, len;
	char json[1024];
	clirun_result r;

	two_files();

	/* To standard output, default MIME type. */
	want = expected_link(urn_a, LEN_A, NULL, &want_len);
	r = clirun_run("link", urn_a, NULL);
	ck_status(r, 0);
	ck_assert_uint_eq(r.out_len, want_len);
	ck_assert_mem_eq(r.out, want, want_len);
	ck_assert_mem_eq(r.out, "\xD9\xD9\xF7\x84\xD9\x01\x14\x58\x42", 9);
	clirun_free(&r);
	free(want);

	/* To a file, with a MIME type; then info reads it. */
	want = expected_link(urn_b, LEN_B, "text/x-\"odd\"\\type", &want_len);
	r = clirun_run("link", "--mime", "text/x-\"odd\"\\type", "-o",
		       T("b.eris"), urn_b, NULL);
	ck_status(r, 0);
	ck_assert_uint_eq(r.out_len, 0);
	clirun_free(&r);
	file = clirun_read_file(T("b.eris"), &len);
	ck_assert_ptr_nonnull(file);
	ck_assert_uint_eq(len, want_len);
	ck_assert_mem_eq(file, want, len);
	free(file);
	free(want);

	r = clirun_run("info", T("b.eris"), NULL);
	ck_status(r, 0);
	ck_contains(r.out, urn_b);
	ck_contains(r.out, "Size:           3000\n");
	ck_contains(r.out, "MIME type:      text/x-\"odd\"\\type\n");
	ck_contains(r.out, "Attributes:     0\n");
	ck_contains(r.out, "Block size:     1024\n");
	ck_contains(r.out, "Level:          ");
	ck_contains(r.out, "Root reference: ");
	clirun_free(&r);

	r = clirun_run("info", "--json", "--store", store_dir, T("b.eris"),
		       NULL);
	ck_status(r, 0);
	snprintf(json, sizeof(json),
		 "{\"urn\":\"%s\",\"block_size\":1024,\"level\":", urn_b);
	ck_assert_msg(strncmp(r.out, json, strlen(json)) == 0, "%s", r.out);
	ck_contains(r.out, ",\"size\":3000,\"mime\":\"text/x-\\\"odd\\\"\\\\type"
			   "\",\"attributes\":0,\"length\":3000}\n");
	clirun_free(&r);

	/* A URN still works, and "urn:..." is never taken for a file. */
	r = clirun_run("info", urn_b, NULL);
	ck_status(r, 0);
	ck_assert_msg(strstr(r.out, "MIME") == NULL, "%s", r.out);
	clirun_free(&r);
	free(data_a);
	free(data_b);
}
END_TEST

START_TEST(test_link_errors)
{
	char long_mime[300];
	uint8_t *link, *bad;
	size_t len;
	clirun_result r;

	two_files();

	/* The content must be in the store. */
	mkdir(T("empty"), 0755);
	r = clirun_run("link", "--store", T("empty"), "-o", T("x.eris"), urn_a,
		       NULL);
	ck_status(r, 1);
	ck_contains(r.err, "R1");
	ck_assert(!clirun_exists(T("x.eris")));
	clirun_free(&r);

	/* MIME types: too long, empty, control characters. */
	memset(long_mime, 'm', 256);
	long_mime[256] = '\0';
	r = clirun_run("link", "--mime", long_mime, "-o", T("x.eris"), urn_a,
		       NULL);
	ck_status(r, 2);
	ck_contains(r.err, "256 bytes");
	clirun_free(&r);
	r = clirun_run("link", "--mime", "", "-o", T("x.eris"), urn_a, NULL);
	ck_status(r, 2);
	clirun_free(&r);
	r = clirun_run("link", "--mime", "a\nb", "-o", T("x.eris"), urn_a,
		       NULL);
	ck_status(r, 2);
	ck_contains(r.err, "printable ASCII");
	clirun_free(&r);
	r = clirun_run("link", "-o", T("x.eris"), NULL);
	ck_status(r, 2);
	clirun_free(&r);
	ck_assert(!clirun_exists(T("x.eris")));

	/* info: not a link file (wrong magic, wrong array length, too
	 * short for the magic): exit 2. */
	clirun_write_file(T("plain"), "hello world", 11);
	r = clirun_run("info", T("plain"), NULL);
	ck_status(r, 2);
	ck_contains(r.err, "neither a URN nor an ERIS link file");
	clirun_free(&r);
	link = expected_link(urn_a, LEN_A, "a/b", &len);
	bad = malloc(len + 1);
	memcpy(bad, link, len);
	bad[3] = 0x83;
	clirun_write_file(T("bad.eris"), bad, len);
	r = clirun_run("info", T("bad.eris"), NULL);
	ck_status(r, 2);
	clirun_free(&r);
	clirun_write_file(T("bad.eris"), link, 8);
	r = clirun_run("info", T("bad.eris"), NULL);
	ck_status(r, 2);
	clirun_free(&r);

	/* A damaged link file: exit 4. Truncated after the magic, trailing
	 * bytes. */
	for (size_t n = 9; n < len; n += 7) {
		clirun_write_file(T("bad.eris"), link, n);
		r = clirun_run("info", T("bad.eris"), NULL);
		ck_status(r, 4);
		ck_contains(r.err, "damaged link file");
		ck_contains(r.err, "truncated");
		clirun_free(&r);
	}
	memcpy(bad, link, len);
	bad[len] = 0xA0;
	clirun_write_file(T("bad.eris"), bad, len + 1);
	r = clirun_run("info", T("bad.eris"), NULL);
	ck_status(r, 4);
	ck_contains(r.err, "trailing data");
	clirun_free(&r);
	free(bad);
	free(link);

	/* A MIME type of 256 bytes, written by hand. */
	{
		eris_read_cap cap;
		uint8_t buf[600], *p = buf;

		ck_assert_int_eq(eris_urn_parse(&cap, urn_a, strlen(urn_a)),
				 ERIS_OK);
		memcpy(p, "\xD9\xD9\xF7\x84\xD9\x01\x14\x58\x42", 9);
		p += 9;
		ck_assert_int_eq(eris_read_cap_to_bytes(p, &cap), ERIS_OK);
		p += 66;
		p += cbor_encode_uint(LEN_A, p, 9);
		p += cbor_encode_string_start(256, p, 9);
		memset(p, 'm', 256);
		p += 256;
		*p++ = 0xA0;
		clirun_write_file(T("long.eris"), buf, (size_t)(p - buf));
		r = clirun_run("info", T("long.eris"), NULL);
		ck_status(r, 4);
		ck_contains(r.err, "256 bytes");
		clirun_free(&r);

		/* The size disagrees with the content: exit 1 with
		 * --store. */
		link = expected_link(urn_a, LEN_A + 1, NULL, &len);
		clirun_write_file(T("wrong.eris"), link, len);
		r = clirun_run("info", T("wrong.eris"), NULL);
		ck_status(r, 0);
		clirun_free(&r);
		r = clirun_run("info", "--store", store_dir, T("wrong.eris"),
			       NULL);
		ck_status(r, 1);
		ck_contains(r.err, "50001 bytes, but it has 50000");
		clirun_free(&r);
		free(link);
	}
	free(data_a);
	free(data_b);
}
END_TEST

/* ---- help ------------------------------------------------------------- */

START_TEST(test_help)
{
	static const char *const want[3][5] = {
		{ "export", "--store", "--output", "terminal", NULL },
		{ "import", "--store", "Nothing", "standard input", NULL },
		{ "link", "--mime", "--store", "--output", "application/" },
	};

	for (int i = 0; i < 3; i++) {
		clirun_result r = clirun_run(want[i][0], "--help", NULL);

		ck_status(r, 0);
		ck_contains(r.out, "Usage: eris ");
		for (int k = 1; k < 5 && want[i][k]; k++)
			ck_contains(r.out, want[i][k]);
		clirun_free(&r);
	}
	{
		clirun_result r = clirun_run("info", "--help", NULL);

		ck_status(r, 0);
		ck_contains(r.out, "link file");
		clirun_free(&r);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("bundle_cli");
	TCase *tc = tcase_create("bundle_cli");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 240);
	tcase_add_test(tc, test_round_trip);
	tcase_add_test(tc, test_export_one);
	tcase_add_test(tc, test_export_missing_or_corrupt);
	tcase_add_test(tc, test_export_usage);
	tcase_add_test(tc, test_import_truncated);
	tcase_add_test(tc, test_import_invalid);
	tcase_add_test(tc, test_import_usage);
	tcase_add_test(tc, test_link);
	tcase_add_test(tc, test_link_errors);
	tcase_add_test(tc, test_help);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
