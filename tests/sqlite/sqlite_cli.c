/*
 * sqlite_cli.c - end-to-end tests of `eris store stats|fsck|gc`, run on
 * sqlite stores through the real binary (ERIS_BIN), in a fresh temporary
 * directory per test (removed when the test passes).
 *
 * Damage is done behind the tool's back with the sqlite3 C API: a row's
 * block changed (R3) or cut short (R2), a row deleted (R1).
 */
#include "clirun.h"

#include <eris/eris.h>

#include <check.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef ERIS_BIN
#error "ERIS_BIN must name the eris binary"
#endif

static char tmp[1024];
static char db[1100];
static char store[1200]; /* sqlite:DB */

static void setup(void)
{
	clirun_set_binary(ERIS_BIN);
	clirun_make_temp_dir(tmp, sizeof(tmp), "eris-sqlite-cli");
	snprintf(db, sizeof(db), "%s/store.sqlite", tmp);
	snprintf(store, sizeof(store), "sqlite:%s", db);
	/* Nothing may fall back on the user's own store. */
	setenv("ERIS_STORE", store, 1);
	setenv("HOME", tmp, 1);
	setenv("XDG_DATA_HOME", tmp, 1);
	signal(SIGPIPE, SIG_IGN);
}

static void teardown(void)
{
	ck_assert_int_eq(clirun_remove_tree(tmp), 0);
}

static const char *T(const char *name)
{
	return clirun_path(tmp, name);
}

/* ---- helpers ---------------------------------------------------------- */

/* eris put FILE into the test store; returns the URN (malloc'd). */
static char *put(const char *path)
{
	/* Unpinned: these tests say what gc keeps with --keep. */
	clirun_result r = clirun_run("put", "--no-pin", "--store", store, path,
				     NULL);
	char *u;

	ck_status(r, 0);
	ck_assert_uint_eq(strlen(r.out), 116);
	r.out[115] = '\0';
	u = strdup(r.out);
	clirun_free(&r);
	return u;
}

static void expect_stats(const char *blocks, const char *n1k,
			 const char *n32k)
{
	clirun_result r = clirun_run("store", "stats", "--store", store, NULL);

	ck_status(r, 0);
	ck_contains(r.out, blocks);
	ck_contains(r.out, n1k);
	ck_contains(r.out, n32k);
	ck_contains(r.out, "file bytes: ");
	clirun_free(&r);
}

static void expect_status(int code, const char *first, ...)
{
	va_list ap;
	clirun_result r;

	va_start(ap, first);
	r = clirun_run_va(NULL, first, ap);
	va_end(ap);
	ck_status(r, code);
	clirun_free(&r);
}

/* Every row's reference, in base32, in id order. */
static int row_refs(char refs[][ERIS_REF_BASE32_LEN + 1], int max)
{
	sqlite3 *h;
	sqlite3_stmt *st;
	int n = 0;

	ck_assert_int_eq(sqlite3_open(db, &h), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(h,
					    "SELECT ref FROM blocks ORDER BY "
					    "id",
					    -1, &st, NULL),
			 SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW && n < max)
		eris_base32_encode(refs[n++], sqlite3_column_blob(st, 0), 32);
	sqlite3_finalize(st);
	sqlite3_close(h);
	return n;
}

/* Run `sql` with ?1 bound to the reference given in base32. */
static void damage(const char *sql, const char *ref_b32)
{
	uint8_t ref[32];
	sqlite3 *h;
	sqlite3_stmt *st;

	ck_assert_int_eq(eris_base32_decode(ref, 32, ref_b32,
					    strlen(ref_b32)),
			 ERIS_OK);
	ck_assert_int_eq(sqlite3_open(db, &h), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(h, sql, -1, &st, NULL),
			 SQLITE_OK);
	sqlite3_bind_blob(st, 1, ref, 32, SQLITE_STATIC);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_DONE);
	ck_assert_int_eq(sqlite3_changes(h), 1);
	sqlite3_finalize(st);
	sqlite3_close(h);
}

/* ---- tests ------------------------------------------------------------ */

START_TEST(test_help_and_usage)
{
	clirun_result r = clirun_run("store", "--help", NULL);

	ck_status(r, 0);
	ck_contains(r.out, "Usage: eris store stats");
	ck_contains(r.out, "fsck");
	ck_contains(r.out, "gc");
	ck_contains(r.out, "--keep-file");
	ck_contains(r.out, "--dry-run");
	ck_contains(r.out, "sqlite:PATH");
	ck_contains(r.out, "Exit status");
	clirun_free(&r);
	r = clirun_run("help", "store", NULL);
	ck_status(r, 0);
	ck_contains(r.out, "Usage: eris store stats");
	clirun_free(&r);
	r = clirun_run("store", "gc", "-h", NULL);
	ck_status(r, 0);
	ck_contains(r.out, "Usage: eris store stats");
	clirun_free(&r);

	r = clirun_run("store", NULL);
	ck_status(r, 2);
	ck_contains(r.err, "no command given");
	clirun_free(&r);
	r = clirun_run("store", "frob", NULL);
	ck_status(r, 2);
	ck_contains(r.err, "unknown command 'frob'");
	clirun_free(&r);
	r = clirun_run("store", "stats", "--delete", NULL);
	ck_status(r, 2);
	ck_contains(r.err, "--delete");
	clirun_free(&r);
	r = clirun_run("store", "fsck", "--keep", "x", NULL);
	ck_status(r, 2);
	clirun_free(&r);
	r = clirun_run("store", "stats", "extra", NULL);
	ck_status(r, 2);
	ck_contains(r.err, "unexpected argument 'extra'");
	clirun_free(&r);
	r = clirun_run("store", "stats", "--bogus", NULL);
	ck_status(r, 2);
	ck_contains(r.err, "--bogus");
	clirun_free(&r);

	/* These commands never create a store. */
	r = clirun_run("store", "stats", NULL);
	ck_status(r, 3);
	ck_contains(r.err, "No such file");
	clirun_free(&r);
	ck_assert_int_ne(access(db, F_OK), 0);
}
END_TEST

START_TEST(test_stats)
{
	uint8_t *a = clirun_random_bytes(3000, 1),
		*c = clirun_random_bytes(100000, 3);
	char *ua, *uc;
	clirun_result r;

	clirun_write_file(T("empty"), "", 0);
	free(put(T("empty"))); /* creates the store; 1 block of 1 KiB */
	/* a: 1 KiB blocks, 3 leaves + root; c: 32 KiB blocks, 4 leaves +
	 * root. */
	clirun_write_file(T("a"), a, 3000);
	clirun_write_file(T("c"), c, 100000);
	ua = put(T("a"));
	uc = put(T("c"));
	r = clirun_run("store", "stats", NULL); /* $ERIS_STORE */
	ck_status(r, 0);
	ck_contains(r.out, "blocks: 10\n");
	ck_contains(r.out, "1 KiB blocks: 5\n");
	ck_contains(r.out, "32 KiB blocks: 5\n");
	ck_contains(r.out, "block bytes: 168960\n"); /* 5 KiB + 160 KiB */
	ck_contains(r.out, "file bytes: ");
	ck_not_contains(r.out, "other sizes");
	ck_assert_uint_eq(strlen(r.err), 0);
	clirun_free(&r);
	free(ua);
	free(uc);
	free(a);
	free(c);
}
END_TEST

START_TEST(test_fsck)
{
	uint8_t *a = clirun_random_bytes(3000, 1);
	char refs[8][ERIS_REF_BASE32_LEN + 1], line[200];
	char *ua;
	clirun_result r;
	int n;

	clirun_write_file(T("a"), a, 3000);
	ua = put(T("a"));
	r = clirun_run("store", "fsck", NULL);
	ck_status(r, 0);
	ck_contains(r.out, "checked 4 blocks (4096 bytes): 0 bad");
	clirun_free(&r);

	/* Change one byte of the second block, cut the third short. */
	n = row_refs(refs, 8);
	ck_assert_int_eq(n, 4);
	damage("UPDATE blocks SET data = substr(data, 1, 99) || CASE WHEN "
	       "substr(data, 100, 1) = x'00' THEN x'01' ELSE x'00' END || "
	       "substr(data, 101) WHERE ref = ?1",
	       refs[1]);
	damage("UPDATE blocks SET data = substr(data, 1, 1000) WHERE ref = "
	       "?1",
	       refs[2]);
	r = clirun_run("get", ua, NULL);
	ck_status(r, 1);
	clirun_free(&r);

	r = clirun_run("store", "fsck", NULL);
	ck_status(r, 1);
	snprintf(line, sizeof(line), "%s: R3 mismatch", refs[1]);
	ck_contains(r.out, line);
	snprintf(line, sizeof(line), "%s: R2 wrong size: 1000 bytes",
		 refs[2]);
	ck_contains(r.out, line);
	ck_not_contains(r.out, refs[0]);
	ck_not_contains(r.out, refs[3]);
	ck_contains(r.out, "checked 4 blocks");
	ck_contains(r.out, ": 2 bad\n");
	ck_contains(r.err, "2 bad blocks");
	clirun_free(&r);

	/* --delete removes exactly those; put repairs the content. */
	r = clirun_run("store", "fsck", "--delete", NULL);
	ck_status(r, 0);
	ck_contains(r.out, "2 bad, deleted");
	clirun_free(&r);
	expect_stats("blocks: 2\n", "1 KiB blocks: 2\n", "32 KiB blocks: 0\n");
	r = clirun_run("store", "fsck", NULL);
	ck_status(r, 0);
	ck_contains(r.out, "checked 2 blocks (2048 bytes): 0 bad");
	clirun_free(&r);
	r = clirun_run("verify", ua, NULL);
	ck_status(r, 1);
	ck_contains(r.out, "R1");
	clirun_free(&r);
	free(put(T("a")));
	expect_status(0, "verify", ua, NULL);
	free(ua);
	free(a);
}
END_TEST

START_TEST(test_gc)
{
	/* a and b share their first two 1 KiB leaves; c has 32 KiB blocks. */
	uint8_t *a = clirun_random_bytes(3000, 1), *b = malloc(3000);
	uint8_t *c = clirun_random_bytes(100000, 3),
		*x = clirun_random_bytes(5000, 4);
	char *ua, *ub, *uc, *ux, refs[16][ERIS_REF_BASE32_LEN + 1];
	char keep[1200], sumline[300];
	clirun_result r;

	memcpy(b, a, 2048);
	memset(b + 2048, 'b', 952);
	clirun_write_file(T("a"), a, 3000);
	clirun_write_file(T("b"), b, 3000);
	clirun_write_file(T("c"), c, 100000);
	clirun_write_file(T("x"), x, 5000);
	ua = put(T("a"));
	ub = put(T("b"));
	uc = put(T("c"));
	/* x is never put: a well-formed URN of missing content. */
	r = clirun_run("sum", T("x"), NULL);
	ck_status(r, 0);
	r.out[115] = '\0';
	ux = strdup(r.out);
	clirun_free(&r);
	/* a 4 + b 2 of its own + c 5 */
	expect_stats("blocks: 11\n", "1 KiB blocks: 6\n", "32 KiB blocks: 5\n");

	/* Refusals: nothing to keep; a malformed URN; a URN whose content
	 * is not there; a kept content with a missing block. Nothing is
	 * deleted by any of them. */
	r = clirun_run("store", "gc", NULL);
	ck_status(r, 2);
	ck_contains(r.err, "refusing to delete every block");
	clirun_free(&r);
	r = clirun_run("store", "gc", "--keep", ua, "--keep", "urn:eris:B4AXYZ",
		NULL);
	ck_status(r, 2);
	clirun_free(&r);
	r = clirun_run("store", "gc", "--keep", ua, "--keep", ux, NULL);
	ck_status(r, 1);
	ck_contains(r.err, "R1");
	ck_contains(r.err, "nothing deleted");
	clirun_free(&r);
	r = clirun_run("store", "gc", "--keep", ua, "--keep-file", T("no-such"),
		NULL);
	ck_status(r, 4);
	clirun_free(&r);
	clirun_write_file(T("bad-keep"), "# comment\n\nurn:eris:nonsense\n",
			  29);
	r = clirun_run("store", "gc", "--keep", ua, "--keep-file",
		       T("bad-keep"), NULL);
	ck_status(r, 2);
	ck_contains(r.err, "bad-keep:3:");
	clirun_free(&r);
	expect_stats("blocks: 11\n", "1 KiB blocks: 6\n", "32 KiB blocks: 5\n");

	/* A leaf of c deleted behind our back: gc --keep c must not go on. */
	ck_assert_int_eq(row_refs(refs, 16), 11);
	damage("DELETE FROM blocks WHERE ref = ?1 AND length(data) = 32768 "
	       "AND id = (SELECT max(id) - 1 FROM blocks)",
	       refs[9]);
	r = clirun_run("store", "gc", "--keep", ua, "--keep", uc, NULL);
	ck_status(r, 1);
	ck_contains(r.err, "nothing deleted");
	clirun_free(&r);
	expect_stats("blocks: 10\n", "1 KiB blocks: 6\n", "32 KiB blocks: 4\n");
	free(put(T("c"))); /* restored */
	expect_status(0, "verify", uc, NULL);

	/* --dry-run lists b's own two blocks and deletes nothing. */
	snprintf(sumline, sizeof(sumline), "# kept\n%s  c\n", uc);
	clirun_write_file(T("keep"), sumline, strlen(sumline));
	snprintf(keep, sizeof(keep), "%s", T("keep"));
	r = clirun_run("store", "gc", "--keep", ua, "--keep-file", keep,
		       "--dry-run", NULL);
	ck_status(r, 0);
	ck_contains(r.out, " 1024\n");
	ck_contains(r.out, "kept 9 blocks of 0 pins and 2 URNs; would delete 2 blocks "
			   "(2048 bytes)");
	clirun_free(&r);
	expect_stats("blocks: 11\n", "1 KiB blocks: 6\n", "32 KiB blocks: 5\n");
	expect_status(0, "verify", ub, NULL);

	/* The real thing. */
	r = clirun_run("store", "gc", "--keep", ua, "--keep-file", keep, NULL);
	ck_status(r, 0);
	ck_contains(r.out, "kept 9 blocks of 0 pins and 2 URNs; deleted 2 blocks (2048 "
			   "bytes)");
	clirun_free(&r);
	expect_stats("blocks: 9\n", "1 KiB blocks: 4\n", "32 KiB blocks: 5\n");
	expect_status(0, "verify", ua, uc, NULL);
	r = clirun_run("get", ua, NULL);
	ck_status(r, 0);
	ck_assert_mem_eq(r.out, a, 3000);
	clirun_free(&r);
	r = clirun_run("get", ub, NULL);
	ck_status(r, 1);
	ck_contains(r.err, "R1");
	clirun_free(&r);
	expect_status(0, "store", "fsck", NULL);

	/* Again: nothing left to delete. --all empties the store. */
	r = clirun_run("store", "gc", "--keep", ua, "--keep", uc, NULL);
	ck_status(r, 0);
	ck_contains(r.out, "deleted 0 blocks (0 bytes)");
	clirun_free(&r);
	r = clirun_run("store", "gc", "--all", NULL);
	ck_status(r, 0);
	ck_contains(r.out, "kept 0 blocks of 0 pins and 0 URNs; deleted 9 blocks");
	clirun_free(&r);
	expect_stats("blocks: 0\n", "1 KiB blocks: 0\n", "32 KiB blocks: 0\n");

	free(ua);
	free(ub);
	free(uc);
	free(ux);
	free(a);
	free(b);
	free(c);
	free(x);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sqlite-cli");
	TCase *tc = tcase_create("store-commands");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 300);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_help_and_usage);
	tcase_add_test(tc, test_stats);
	tcase_add_test(tc, test_fsck);
	tcase_add_test(tc, test_gc);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
