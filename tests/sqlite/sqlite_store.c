/*
 * sqlite_store.c - tests of the sqlite3 store (liberis/stores/sqlite.c)
 * beyond what every store must do: persistence across reopen, the write
 * queue (accepted vs acknowledged puts), where a put is checked (the
 * store API hashes it, the back end trusts its caller),
 * refusal of files that are not eris stores (not a database, another
 * schema version or application), corrupt rows caught on read (R3), two
 * processes at once (a reader never waits for a writer, writers wait for
 * each other), threads, and the crash test: a writer killed with SIGKILL
 * at random moments loses no acknowledged block.
 *
 * The database is also opened directly with the sqlite3 C API, as a
 * damaged or foreign file would be made by someone else.
 */
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char tmpdir[512];
static char dbpath[700];
static char spec[720];

static void setup(void)
{
	const char *base = getenv("TMPDIR");

	snprintf(tmpdir, sizeof(tmpdir), "%s/eris-sqlite-test-XXXXXX",
		 base && base[0] ? base : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	snprintf(dbpath, sizeof(dbpath), "%s/sub/dir/store.sqlite", tmpdir);
	snprintf(spec, sizeof(spec), "sqlite:%s", dbpath);
}

static void teardown(void)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	ck_assert_int_eq(system(cmd), 0);
}

/* Block number `seed`: 1 KiB for even seeds, 32 KiB for odd ones. */
static size_t make_block(uint8_t *block, uint8_t ref[32], uint64_t seed)
{
	size_t len = seed % 2 ? ERIS_BLOCK_SIZE_32K : ERIS_BLOCK_SIZE_1K;

	fill_random(block, len, seed, 0);
	crypto_generichash_blake2b(ref, 32, block, len, NULL, 0);
	return len;
}

static eris_store *open_store(int create)
{
	eris_store *s = NULL;

	ck_assert_eris(eris_store_open(&s, spec, create), ERIS_OK);
	return s;
}

static void put_seed(eris_store *s, uint64_t seed)
{
	uint8_t block[ERIS_BLOCK_SIZE_MAX], ref[32];
	size_t len = make_block(block, ref, seed);

	ck_assert_eris(eris_store_put(s, ref, block, len), ERIS_OK);
}

/* Assert that block `seed` is in `s` (fetched and verified) or not. */
static void check_seed(eris_store *s, uint64_t seed, int present)
{
	uint8_t block[ERIS_BLOCK_SIZE_MAX], got[ERIS_BLOCK_SIZE_MAX], ref[32];
	size_t len = make_block(block, ref, seed), got_len = 0;
	int rc = eris_store_get(s, ref, got, sizeof(got), &got_len);

	if (present) {
		ck_assert_msg(rc == ERIS_OK, "block %llu: %s",
			      (unsigned long long)seed, eris_error_last());
		ck_assert_uint_eq(got_len, len);
		ck_assert_mem_eq(got, block, len);
		ck_assert_int_eq(eris_store_has(s, ref), 1);
	} else {
		ck_assert_msg(rc == ERIS_ENOTFOUND, "block %llu: got %d",
			      (unsigned long long)seed, rc);
		ck_assert_int_eq(eris_store_has(s, ref), 0);
	}
}

static sqlite3 *raw_open(const char *path)
{
	sqlite3 *db;

	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 10000);
	return db;
}

static void raw_exec(sqlite3 *db, const char *sql)
{
	char *err = NULL;

	ck_assert_msg(sqlite3_exec(db, sql, NULL, NULL, &err) == SQLITE_OK,
		      "%s: %s", sql, err ? err : "?");
}

static long long raw_count(const char *path)
{
	sqlite3 *db = raw_open(path);
	sqlite3_stmt *st;
	long long n;

	ck_assert_int_eq(sqlite3_prepare_v2(db, "SELECT count(*) FROM blocks",
					    -1, &st, NULL),
			 SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n;
}

/* foreach: count the blocks, check each length and that it verifies. */
typedef struct {
	eris_store *s;
	size_t n, n1k, n32k;
	int bad;
} listing;

static int list_cb(const uint8_t ref[ERIS_REF_BYTES], size_t len,
		   void *payload)
{
	listing *l = payload;
	uint8_t buf[ERIS_BLOCK_SIZE_MAX];
	size_t got;

	l->n++;
	l->n1k += len == ERIS_BLOCK_SIZE_1K;
	l->n32k += len == ERIS_BLOCK_SIZE_32K;
	if (eris_store_get(l->s, ref, buf, sizeof(buf), &got) != ERIS_OK ||
	    got != len)
		l->bad++;
	return 0;
}

static listing list_all(eris_store *s)
{
	listing l = { s, 0, 0, 0, 0 };

	ck_assert_eris(eris_store_foreach(s, list_cb, &l), ERIS_OK);
	return l;
}

static int remove_cb(const uint8_t ref[ERIS_REF_BYTES], size_t len,
		     void *payload)
{
	(void)len;
	return eris_store_remove(payload, ref);
}

static int stop_cb(const uint8_t ref[ERIS_REF_BYTES], size_t len,
		   void *payload)
{
	(void)ref;
	(void)len;
	(void)payload;
	return 42;
}

/* ---- persistence and the queue ---------------------------------------- */

START_TEST(test_reopen_persistence)
{
	eris_store *s = open_store(1);
	struct stat st;
	listing l;

	/* create made the parent directories and an eris database. */
	ck_assert_int_eq(stat(dbpath, &st), 0);
	for (uint64_t i = 0; i < 300; i++)
		put_seed(s, i);
	put_seed(s, 7); /* again: idempotent */
	/* Accepted puts are readable at once, before any flush. */
	for (uint64_t i = 0; i < 300; i++)
		check_seed(s, i, 1);
	check_seed(s, 300, 0);
	ck_assert_eris(eris_store_flush(s), ERIS_OK);
	eris_store_free(s);

	s = open_store(0);
	for (uint64_t i = 0; i < 300; i++)
		check_seed(s, i, 1);
	l = list_all(s);
	ck_assert_uint_eq(l.n, 300);
	ck_assert_uint_eq(l.n1k, 150);
	ck_assert_uint_eq(l.n32k, 150);
	ck_assert_int_eq(l.bad, 0);
	/* remove: absent is fine; removed blocks stay gone after reopen. */
	for (uint64_t i = 0; i < 300; i += 3) {
		uint8_t block[ERIS_BLOCK_SIZE_MAX], ref[32];

		make_block(block, ref, i);
		ck_assert_eris(eris_store_remove(s, ref), ERIS_OK);
		ck_assert_eris(eris_store_remove(s, ref), ERIS_OK);
		check_seed(s, i, 0);
	}
	ck_assert_eris(eris_store_flush(s), ERIS_OK);
	eris_store_free(s);

	s = open_store(0);
	for (uint64_t i = 0; i < 300; i++)
		check_seed(s, i, i % 3 != 0);
	ck_assert_uint_eq(list_all(s).n, 200);
	eris_store_free(s);
	ck_assert_int_eq(raw_count(dbpath), 200);
}
END_TEST

static long long monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

START_TEST(test_queue)
{
	eris_store *s = open_store(1), *other = open_store(0);
	uint8_t block[ERIS_BLOCK_SIZE_MAX], ref[32];
	long long t0;

	/* An accepted put is visible to its own store, not to another
	 * connection, until it is flushed. */
	put_seed(s, 1000);
	check_seed(s, 1000, 1);
	check_seed(other, 1000, 0);
	ck_assert_eris(eris_store_flush(s), ERIS_OK);
	check_seed(other, 1000, 1);

	/* put then remove, remove then put, before any flush. */
	t0 = monotonic_ms();
	put_seed(s, 1001);
	make_block(block, ref, 1001);
	ck_assert_eris(eris_store_remove(s, ref), ERIS_OK);
	check_seed(s, 1001, 0);
	make_block(block, ref, 1000);
	ck_assert_eris(eris_store_remove(s, ref), ERIS_OK);
	check_seed(s, 1000, 0);
	if (monotonic_ms() - t0 < 1000) /* else a write-out may have come */
		check_seed(other, 1000, 1); /* not committed yet */
	put_seed(s, 1000);
	check_seed(s, 1000, 1);
	ck_assert_eris(eris_store_flush(s), ERIS_OK);
	check_seed(other, 1000, 1);
	check_seed(other, 1001, 0);

	/* The queue is written out by itself when it holds 1024
	 * operations: of 1500 puts of 1 KiB, the first 1024 are committed
	 * when the 1025th comes. The queue is also written out once its
	 * oldest operation is a second old; on a slow machine (a sanitizer
	 * build) that can come first, so the exact counts are checked only
	 * when the puts took less than that. */
	t0 = monotonic_ms();
	for (uint64_t i = 0; i < 1500; i++)
		put_seed(s, 2000 + 2 * i);
	if (monotonic_ms() - t0 < 1000)
		ck_assert_int_eq(raw_count(dbpath), 1 + 1024);
	ck_assert_eris(eris_store_flush(s), ERIS_OK);
	ck_assert_int_eq(raw_count(dbpath), 1 + 1500);
	/* ... or 4 MiB of blocks: 128 blocks of 32 KiB. */
	t0 = monotonic_ms();
	for (uint64_t i = 0; i < 130; i++)
		put_seed(s, 2001 + 2 * i);
	if (monotonic_ms() - t0 < 1000)
		ck_assert_int_eq(raw_count(dbpath), 1 + 1500 + 128);
	ck_assert_eris(eris_store_flush(s), ERIS_OK);
	ck_assert_int_eq(raw_count(dbpath), 1 + 1500 + 130);
	/* ... or when its oldest entry is a second old (seen on a put). */
	put_seed(s, 5000);
	sleep(1);
	usleep(100000);
	put_seed(s, 5002);
	check_seed(other, 5000, 1);
	check_seed(other, 5002, 1);
	eris_store_free(other);

	/* free() commits what is queued. */
	put_seed(s, 6000);
	eris_store_free(s);
	s = open_store(0);
	check_seed(s, 6000, 1);
	eris_store_free(s);
}
END_TEST

/* ---- where a put is checked ------------------------------------------ */

/* The store API is the one place a put is hashed: it refuses a block that
 * does not hash to its reference, and nothing is queued or stored. The
 * back end trusts its caller (it does not hash again), so a block handed
 * to it directly is filed as given, and the API's get catches it. It still
 * refuses a size that does not fit its queue. */
START_TEST(test_put_trust_boundary)
{
	/* The trust boundary: eris_store_put() hashes every block before the
	 * back end sees it, and the back end does not hash again. */
	eris_store *s = open_store(1);
	eris_store_backend *b = test_backend_of(s);
	uint8_t block[ERIS_BLOCK_SIZE_MAX], got[ERIS_BLOCK_SIZE_MAX];
	uint8_t ref[32], other[32];
	size_t len;

	make_block(block, ref, 2);
	make_block(block, other, 4); /* block now hashes to other */
	ck_assert_eris(eris_store_put(s, ref, block, ERIS_BLOCK_SIZE_1K),
		       ERIS_EMISMATCH);
	ck_assert_eris(eris_store_put(s, other, block, 1000), ERIS_EBLOCKSIZE);
	ck_assert_int_eq(eris_store_has(s, ref), 0);
	ck_assert_int_eq(eris_store_has(s, other), 0);
	ck_assert_eris(eris_store_flush(s), ERIS_OK);
	ck_assert_int_eq(raw_count(dbpath), 0);

	/* Straight to the back end: sizes are still checked... */
	ck_assert_eris(b->put(b, other, block, 1000), ERIS_EBLOCKSIZE);
	ck_assert_eris(b->put(b, other, block, 2048), ERIS_EBLOCKSIZE);
	ck_assert_eris(eris_store_flush(s), ERIS_OK);
	ck_assert_int_eq(raw_count(dbpath), 0);
	/* ...the hash is not: the mismatching block is filed, and a read
	 * through the API refuses it and hands out none of its bytes. */
	ck_assert_eris(b->put(b, ref, block, ERIS_BLOCK_SIZE_1K), ERIS_OK);
	ck_assert_eris(eris_store_flush(s), ERIS_OK);
	ck_assert_int_eq(raw_count(dbpath), 1);
	memset(got, 0, sizeof(got));
	ck_assert_eris(eris_store_get(s, ref, got, sizeof(got), &len),
		       ERIS_EMISMATCH);
	ck_assert_int_ne(memcmp(got, block, 64), 0);
	/* A good put through the API is stored. */
	ck_assert_eris(eris_store_put(s, other, block, ERIS_BLOCK_SIZE_1K),
		       ERIS_OK);
	ck_assert_eris(eris_store_flush(s), ERIS_OK);
	ck_assert_int_eq(raw_count(dbpath), 2);
	ck_assert_eris(eris_store_get(s, other, got, sizeof(got), &len),
		       ERIS_OK);
	ck_assert_uint_eq(len, ERIS_BLOCK_SIZE_1K);
	eris_store_free(s);
}
END_TEST

START_TEST(test_get_many_and_foreach_remove)
{
	eris_store *s = open_store(1);
	eris_store_backend *b = test_backend_of(s);
	uint8_t refs[4][ERIS_REF_BYTES], block[ERIS_BLOCK_SIZE_MAX];
	uint8_t *bufs[4];
	size_t lens[4];
	int results[4];
	listing l;

	for (int i = 0; i < 4; i++) {
		bufs[i] = malloc(ERIS_BLOCK_SIZE_MAX);
		make_block(block, refs[i], (uint64_t)i);
	}
	put_seed(s, 0);
	put_seed(s, 1);
	ck_assert_eris(eris_store_flush(s), ERIS_OK);
	put_seed(s, 2); /* queued, not committed */
	ck_assert_eris(b->get_many(b, 4, (const uint8_t(*)[32])refs, bufs,
				   ERIS_BLOCK_SIZE_MAX, lens, results),
		       ERIS_OK);
	ck_assert_int_eq(results[0], ERIS_OK);
	ck_assert_uint_eq(lens[0], ERIS_BLOCK_SIZE_1K);
	ck_assert_int_eq(results[1], ERIS_OK);
	ck_assert_uint_eq(lens[1], ERIS_BLOCK_SIZE_32K);
	ck_assert_int_eq(results[2], ERIS_OK);
	ck_assert_int_eq(results[3], ERIS_ENOTFOUND);
	for (int i = 0; i < 3; i++) {
		make_block(block, refs[i], (uint64_t)i);
		ck_assert_mem_eq(bufs[i], block, lens[i]);
	}
	/* A buffer too small for a 32 KiB block. */
	ck_assert_eris(b->get_many(b, 2, (const uint8_t(*)[32])refs, bufs,
				   ERIS_BLOCK_SIZE_1K, lens, results),
		       ERIS_OK);
	ck_assert_int_eq(results[0], ERIS_OK);
	ck_assert_int_eq(results[1], ERIS_EBLOCKSIZE);

	/* foreach lists queued puts too, and its callback may remove the
	 * block it was given: 3000 blocks span several listing chunks. */
	for (uint64_t i = 10; i < 3000; i++)
		put_seed(s, i * 2);
	l = list_all(s);
	ck_assert_uint_eq(l.n, 3 + 2990);
	ck_assert_int_eq(l.bad, 0);
	ck_assert_eris(eris_store_foreach(s, remove_cb, s), ERIS_OK);
	ck_assert_uint_eq(list_all(s).n, 0);
	ck_assert_eris(eris_store_flush(s), ERIS_OK);
	ck_assert_int_eq(raw_count(dbpath), 0);
	/* A non-zero return stops the listing and is returned. */
	put_seed(s, 0);
	put_seed(s, 1);
	ck_assert_int_eq(eris_store_foreach(s, stop_cb, NULL), 42);
	for (int i = 0; i < 4; i++)
		free(bufs[i]);
	eris_store_free(s);
}
END_TEST

/* ---- files that are not (our) stores ---------------------------------- */

static void write_bytes(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(data, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
}

/* Open `path` as a store; expect ERIS_ESTORE with `needle` in the
 * message, and (create or not) the file left as it was. */
static void expect_refused(const char *path, int create, const char *needle)
{
	char s_spec[800];
	struct stat before, after;
	eris_store *s = NULL;
	int existed = stat(path, &before) == 0;

	snprintf(s_spec, sizeof(s_spec), "sqlite:%s", path);
	ck_assert_eris(eris_store_open(&s, s_spec, create), ERIS_ESTORE);
	ck_assert_ptr_null(s);
	ck_assert_msg(strstr(eris_error_last(), needle) != NULL,
		      "'%s' not in '%s'", needle, eris_error_last());
	ck_assert_msg(strstr(eris_error_last(), path) != NULL,
		      "the message does not name the file: %s",
		      eris_error_last());
	if (existed) {
		ck_assert_int_eq(stat(path, &after), 0);
		ck_assert_int_eq(after.st_size, before.st_size);
	} else {
		ck_assert_int_ne(stat(path, &after), 0);
	}
}

START_TEST(test_open_refusals)
{
	/* 96 bytes: the text, then zeros. */
	static const char garbage[96] =
		"this is not an sqlite database, not at all. really not. "
		"0123456789abcdef0123456789abcdef";
	char path[800];
	sqlite3 *db;
	eris_store *s;

	/* Missing, without create: nothing is created. */
	snprintf(path, sizeof(path), "%s/missing.sqlite", tmpdir);
	expect_refused(path, 0, "No such file");
	snprintf(path, sizeof(path), "%s/no/such/dir/store.sqlite", tmpdir);
	expect_refused(path, 0, "No such file");

	/* Not a database (create or not: never overwritten). */
	snprintf(path, sizeof(path), "%s/garbage.sqlite", tmpdir);
	write_bytes(path, garbage, sizeof(garbage));
	expect_refused(path, 0, "not an sqlite database");
	expect_refused(path, 1, "not an sqlite database");

	/* A directory. */
	expect_refused(tmpdir, 1, "directory");

	/* Someone else's database. */
	snprintf(path, sizeof(path), "%s/other.sqlite", tmpdir);
	db = raw_open(path);
	raw_exec(db, "CREATE TABLE t(x)");
	sqlite3_close(db);
	expect_refused(path, 1, "not an eris store");
	snprintf(path, sizeof(path), "%s/otherapp.sqlite", tmpdir);
	db = raw_open(path);
	raw_exec(db, "PRAGMA application_id=1234");
	sqlite3_close(db);
	expect_refused(path, 1, "another application");

	/* An empty database is initialised only with create. */
	snprintf(path, sizeof(path), "%s/empty.sqlite", tmpdir);
	write_bytes(path, "", 0);
	expect_refused(path, 0, "empty database");

	/* Our store, from a future version of the schema. */
	s = open_store(1);
	put_seed(s, 1);
	eris_store_free(s);
	db = raw_open(dbpath);
	raw_exec(db, "PRAGMA user_version=2");
	sqlite3_close(db);
	expect_refused(dbpath, 0, "schema version is 2");
	expect_refused(dbpath, 1, "schema version is 2");
	db = raw_open(dbpath);
	raw_exec(db, "PRAGMA user_version=1");
	sqlite3_close(db);
	s = open_store(0);
	check_seed(s, 1, 1);
	eris_store_free(s);

	/* Its identity and settings, as docs/PERFORMANCE.md describes. */
	db = raw_open(dbpath);
	{
		sqlite3_stmt *st;
		const char *q[] = { "PRAGMA application_id", "PRAGMA page_size",
				    "PRAGMA journal_mode" };
		const char *want[] = { "1163020627", "8192", "wal" };

		for (int i = 0; i < 3; i++) {
			ck_assert_int_eq(sqlite3_prepare_v2(db, q[i], -1, &st,
							    NULL),
					 SQLITE_OK);
			ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
			ck_assert_str_eq(
				(const char *)sqlite3_column_text(st, 0),
				want[i]);
			sqlite3_finalize(st);
		}
	}
	sqlite3_close(db);
}
END_TEST

/* ---- a corrupt row ---------------------------------------------------- */

/* Flip one byte of the stored block `ref` behind the store's back. */
static void corrupt_row(const uint8_t *ref)
{
	sqlite3 *db = raw_open(dbpath);
	sqlite3_stmt *st;

	ck_assert_int_eq(sqlite3_prepare_v2(db,
					    "UPDATE blocks SET data = "
					    "substr(data, 1, 10) || CASE "
					    "WHEN substr(data, 11, 1) = "
					    "x'5A' THEN x'A5' ELSE x'5A' "
					    "END || substr(data, 12) "
					    "WHERE ref = ?1",
					    -1, &st, NULL),
			 SQLITE_OK);
	sqlite3_bind_blob(st, 1, ref, 32, SQLITE_STATIC);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_DONE);
	ck_assert_int_eq(sqlite3_changes(db), 1);
	sqlite3_finalize(st);
	sqlite3_close(db);
}

typedef struct {
	uint8_t refs[64][32];
	unsigned levels[64];
	size_t n;
} ref_list;

static int collect_cb(const uint8_t ref[ERIS_REF_BYTES], unsigned level,
		      void *payload)
{
	ref_list *l = payload;

	ck_assert_uint_lt(l->n, 64);
	memcpy(l->refs[l->n], ref, 32);
	l->levels[l->n++] = level;
	return 0;
}

START_TEST(test_corrupt_row)
{
	eris_store *s = open_store(1);
	uint8_t content[5000], out[5000], buf[ERIS_BLOCK_SIZE_MAX];
	eris_encode_options opts = ERIS_ENCODE_OPTIONS_INIT;
	eris_read_cap cap;
	eris_decoder *dec = NULL;
	ref_list l = { .n = 0 };
	size_t got, len;

	fill_random(content, sizeof(content), 99, 0);
	opts.block_size = ERIS_BLOCK_SIZE_1K;
	ck_assert_eris(eris_encode(&cap, s, &opts, content, sizeof(content)),
		       ERIS_OK);
	ck_assert_eris(eris_store_flush(s), ERIS_OK);
	ck_assert_eris(eris_walk(s, &cap, collect_cb, &l), ERIS_OK);
	ck_assert_uint_eq(l.n, 6); /* root + 5 leaves */
	ck_assert_uint_eq(l.levels[2], 0);

	/* A leaf in the middle: the decoder refuses it (R3), and so does
	 * eris_store_get and eris_verify. */
	corrupt_row(l.refs[2]);
	ck_assert_eris(eris_store_get(s, l.refs[2], buf, sizeof(buf), &len),
		       ERIS_EMISMATCH);
	ck_assert_eris(eris_decoder_new(&dec, s, &cap), ERIS_OK);
	ck_assert_eris(eris_decoder_pread(dec, out, sizeof(out), 0, &got),
		       ERIS_EMISMATCH);
	ck_assert_str_eq(eris_error_rule(ERIS_EMISMATCH), "R3");
	eris_decoder_free(dec);
	ck_assert_eris(eris_verify(s, &cap, NULL, NULL, NULL), ERIS_EMISMATCH);
	/* The other blocks are untouched. */
	ck_assert_eris(eris_store_get(s, l.refs[1], buf, sizeof(buf), &len),
		       ERIS_OK);
	/* Putting the block again does not repair it (blocks never change);
	 * removing it and putting it again does. */
	ck_assert_eris(eris_encode(&cap, s, &opts, content, sizeof(content)),
		       ERIS_OK);
	ck_assert_eris(eris_store_flush(s), ERIS_OK);
	ck_assert_eris(eris_verify(s, &cap, NULL, NULL, NULL), ERIS_EMISMATCH);
	ck_assert_eris(eris_store_remove(s, l.refs[2]), ERIS_OK);
	ck_assert_eris(eris_verify(s, &cap, NULL, NULL, NULL), ERIS_ENOTFOUND);
	ck_assert_eris(eris_encode(&cap, s, &opts, content, sizeof(content)),
		       ERIS_OK);
	ck_assert_eris(eris_store_flush(s), ERIS_OK);
	ck_assert_eris(eris_verify(s, &cap, NULL, NULL, NULL), ERIS_OK);

	/* A row cut short: the wrapper reports the size (R2). */
	{
		sqlite3 *db = raw_open(dbpath);
		sqlite3_stmt *st;

		ck_assert_int_eq(sqlite3_prepare_v2(db,
						    "UPDATE blocks SET data = "
						    "substr(data, 1, 1000) "
						    "WHERE ref = ?1",
						    -1, &st, NULL),
				 SQLITE_OK);
		sqlite3_bind_blob(st, 1, l.refs[3], 32, SQLITE_STATIC);
		ck_assert_int_eq(sqlite3_step(st), SQLITE_DONE);
		sqlite3_finalize(st);
		sqlite3_close(db);
	}
	ck_assert_eris(eris_store_get(s, l.refs[3], buf, sizeof(buf), &len),
		       ERIS_EBLOCKSIZE);
	ck_assert_eris(eris_verify(s, &cap, NULL, NULL, NULL),
		       ERIS_EBLOCKSIZE);
	eris_store_free(s);
}
END_TEST

/* ---- two processes ---------------------------------------------------- */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Wait for a child; assert it exited with 0. */
static void reap(pid_t pid)
{
	int st;

	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		      "child failed: status %d", st);
}

/* A child holds the write lock (an open write transaction that has
 * written) until this process has read 1000 blocks: had a read waited for
 * the lock, it would have failed after the busy timeout, since the lock
 * is only let go after the reads. Then the child keeps the lock 1.5 s
 * more, and this process's own write waits for it and then succeeds. */
START_TEST(test_reader_never_waits_for_writer)
{
	eris_store *s = open_store(1);
	int ready[2], go[2];
	char c;
	pid_t pid;
	double t;

	for (uint64_t i = 0; i < 50; i++)
		put_seed(s, i);
	ck_assert_eris(eris_store_flush(s), ERIS_OK);
	ck_assert_int_eq(pipe(ready), 0);
	ck_assert_int_eq(pipe(go), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		sqlite3 *db;

		close(ready[0]);
		close(go[1]);
		if (sqlite3_open(dbpath, &db) != SQLITE_OK ||
		    sqlite3_exec(db,
				 "BEGIN IMMEDIATE; DELETE FROM blocks WHERE "
				 "id IN (SELECT id FROM blocks LIMIT 10)",
				 NULL, NULL, NULL) != SQLITE_OK)
			_exit(1);
		if (write(ready[1], "x", 1) != 1 || read(go[0], &c, 1) != 1)
			_exit(1);
		usleep(1500000);
		/* Roll back: the reader must never have seen the delete. */
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		sqlite3_close(db);
		_exit(0);
	}
	close(ready[1]);
	close(go[0]);
	ck_assert_int_eq(read(ready[0], &c, 1), 1);

	/* The child holds the lock until told to go on. */
	for (int round = 0; round < 20; round++)
		for (uint64_t i = 0; i < 50; i++)
			check_seed(s, i, 1);
	/* The child keeps the lock 1.5 s after this; a write waits for it
	 * (a lower bound on time, which load can only lengthen). */
	t = now_s();
	ck_assert_int_eq(write(go[1], "x", 1), 1);
	put_seed(s, 100);
	ck_assert_eris(eris_store_flush(s), ERIS_OK);
	ck_assert_msg(now_s() - t > 0.5, "the write did not wait (%.3f s)",
		      now_s() - t);
	reap(pid);
	check_seed(s, 100, 1);
	ck_assert_int_eq(raw_count(dbpath), 51);
	close(ready[0]);
	close(go[1]);
	eris_store_free(s);
}
END_TEST

/* A writer process puts blocks and reports each flushed batch on a pipe;
 * this process, a reader with its own connection, fetches every reported
 * block at once: acknowledged puts are visible to other processes. */
START_TEST(test_concurrent_writer_and_reader)
{
	eris_store *s = open_store(1);
	int p[2];
	pid_t pid;
	uint64_t seed, seen = 0;
	ssize_t n;

	ck_assert_int_eq(pipe(p), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		eris_store *w = NULL;

		close(p[0]);
		if (eris_store_open(&w, spec, 0) != ERIS_OK)
			_exit(1);
		for (uint64_t i = 0; i < 1200; i++) {
			uint8_t block[ERIS_BLOCK_SIZE_MAX], ref[32];
			size_t len = make_block(block, ref, i);

			if (eris_store_put(w, ref, block, len) != ERIS_OK)
				_exit(2);
			if (i % 25 == 24) {
				if (eris_store_flush(w) != ERIS_OK)
					_exit(3);
				for (uint64_t k = i - 24; k <= i; k++)
					if (write(p[1], &k, sizeof(k)) !=
					    sizeof(k))
						_exit(4);
			}
		}
		eris_store_free(w);
		_exit(0);
	}
	close(p[1]);
	while ((n = read(p[0], &seed, sizeof(seed))) == sizeof(seed)) {
		check_seed(s, seed, 1);
		seen++;
	}
	ck_assert_int_eq(n, 0);
	reap(pid);
	ck_assert_uint_eq(seen, 1200);
	ck_assert_uint_eq(list_all(s).n, 1200);
	close(p[0]);
	eris_store_free(s);
}
END_TEST

/* ---- threads ---------------------------------------------------------- */

typedef struct {
	eris_store *s;
	uint64_t first;
	int failures;
} thread_arg;

static void *thread_main(void *p)
{
	thread_arg *a = p;
	uint8_t block[ERIS_BLOCK_SIZE_MAX], got[ERIS_BLOCK_SIZE_MAX], ref[32];

	for (uint64_t i = a->first; i < a->first + 400; i++) {
		size_t len = make_block(block, ref, i), got_len;

		if (eris_store_put(a->s, ref, block, len) != ERIS_OK ||
		    eris_store_get(a->s, ref, got, sizeof(got), &got_len) !=
			    ERIS_OK ||
		    got_len != len)
			a->failures++;
		if (i % 97 == 0 && eris_store_flush(a->s) != ERIS_OK)
			a->failures++;
	}
	return NULL;
}

START_TEST(test_threads)
{
	eris_store *s = open_store(1);
	pthread_t t[4];
	thread_arg a[4];

	for (int i = 0; i < 4; i++) {
		a[i] = (thread_arg){ s, (uint64_t)i * 400, 0 };
		ck_assert_int_eq(pthread_create(&t[i], NULL, thread_main,
						&a[i]),
				 0);
	}
	for (int i = 0; i < 4; i++) {
		ck_assert_int_eq(pthread_join(t[i], NULL), 0);
		ck_assert_int_eq(a[i].failures, 0);
	}
	ck_assert_eris(eris_store_flush(s), ERIS_OK);
	ck_assert_uint_eq(list_all(s).n, 1600);
	eris_store_free(s);
	ck_assert_int_eq(raw_count(dbpath), 1600);
}
END_TEST

/* ---- the crash test --------------------------------------------------- */

/*
 * A child bulk-puts blocks (batches of 1 to 300, both sizes), and after
 * each eris_store_flush() that returns ERIS_OK writes the seeds of the
 * batch to a pipe: from then on they are acknowledged. The parent kills
 * it with SIGKILL after a random delay, then reopens the store and checks
 * that every acknowledged block is present and valid, that the database
 * passes PRAGMA integrity_check, and that every listed block verifies.
 * Each round uses fresh seeds; the store keeps growing across rounds.
 */
static void crash_child(int fd, uint64_t first, unsigned rnd)
{
	eris_store *w = NULL;
	uint64_t seed = first;

	if (eris_store_open(&w, spec, 1) != ERIS_OK)
		_exit(1);
	for (;;) {
		unsigned batch = 1 + (rnd = rnd * 1103515245u + 12345u) % 300;
		uint64_t start = seed;

		for (unsigned k = 0; k < batch; k++, seed++) {
			uint8_t block[ERIS_BLOCK_SIZE_MAX], ref[32];
			size_t len = make_block(block, ref, seed);

			if (eris_store_put(w, ref, block, len) != ERIS_OK)
				_exit(2);
		}
		if (eris_store_flush(w) != ERIS_OK)
			_exit(3);
		for (uint64_t k = start; k < seed; k++)
			if (write(fd, &k, sizeof(k)) != sizeof(k))
				_exit(4);
	}
}

START_TEST(test_crash_kill9)
{
	unsigned rnd = (unsigned)time(NULL) ^ (unsigned)getpid();
	uint64_t *acked = NULL;
	size_t n_acked = 0, cap = 0;

	fprintf(stderr, "crash test: random seed %u\n", rnd);
	for (int round = 0; round < 6; round++) {
		uint64_t first = (uint64_t)round * 10000000u, seed;
		unsigned delay_ms;
		int p[2], st;
		pid_t pid;
		ssize_t n;
		size_t before = n_acked;
		sqlite3 *db;
		listing l;
		eris_store *s;

		rnd = rnd * 1103515245u + 12345u;
		delay_ms = 150 + (rnd >> 8) % 900;
		ck_assert_int_eq(pipe(p), 0);
		pid = fork();
		ck_assert_int_ge(pid, 0);
		if (pid == 0) {
			close(p[0]);
			crash_child(p[1], first, rnd);
		}
		close(p[1]);
		usleep(delay_ms * 1000u);
		ck_assert_int_eq(kill(pid, SIGKILL), 0);
		ck_assert_int_eq(waitpid(pid, &st, 0), pid);
		ck_assert_msg(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL,
			      "the writer ended by itself (status %d)", st);
		/* Whole 8-byte records only: pipe writes that small are
		 * atomic, so a partial one cannot happen. */
		while ((n = read(p[0], &seed, sizeof(seed))) ==
		       sizeof(seed)) {
			if (n_acked == cap) {
				cap = cap ? 2 * cap : 4096;
				acked = realloc(acked, cap * sizeof(*acked));
				ck_assert_ptr_nonnull(acked);
			}
			acked[n_acked++] = seed;
		}
		ck_assert_int_eq(n, 0);
		close(p[0]);
		fprintf(stderr,
			"crash test round %d: killed after %u ms, %zu blocks "
			"acknowledged\n",
			round, delay_ms, n_acked - before);

		/* The store opens cleanly and holds every acknowledged
		 * block, intact. */
		s = open_store(0);
		for (size_t i = 0; i < n_acked; i++)
			check_seed(s, acked[i], 1);
		l = list_all(s);
		ck_assert_int_eq(l.bad, 0);
		ck_assert_uint_ge(l.n, n_acked);
		eris_store_free(s);
		db = raw_open(dbpath);
		{
			sqlite3_stmt *q;

			ck_assert_int_eq(sqlite3_prepare_v2(
						 db, "PRAGMA integrity_check",
						 -1, &q, NULL),
					 SQLITE_OK);
			ck_assert_int_eq(sqlite3_step(q), SQLITE_ROW);
			ck_assert_str_eq((const char *)sqlite3_column_text(q,
									   0),
					 "ok");
			sqlite3_finalize(q);
		}
		sqlite3_close(db);
	}
	ck_assert_msg(n_acked > 0, "no round acknowledged anything");
	free(acked);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sqlite");
	TCase *tc = tcase_create("store");
	TCase *procs = tcase_create("processes");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_reopen_persistence);
	tcase_add_test(tc, test_queue);
	tcase_add_test(tc, test_put_trust_boundary);
	tcase_add_test(tc, test_get_many_and_foreach_remove);
	tcase_add_test(tc, test_open_refusals);
	tcase_add_test(tc, test_corrupt_row);
	tcase_add_test(tc, test_threads);
	suite_add_tcase(s, tc);

	tcase_add_checked_fixture(procs, setup, teardown);
	tcase_set_timeout(procs, 300);
	tcase_add_test(procs, test_reader_never_waits_for_writer);
	tcase_add_test(procs, test_concurrent_writer_and_reader);
	tcase_add_test(procs, test_crash_kill9);
	suite_add_tcase(s, procs);
	return run_suite(s);
}
