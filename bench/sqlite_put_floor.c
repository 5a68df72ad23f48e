/*
 * sqlite_put_floor.c - eris-sqlite-put-floor: what sqlite alone costs to
 * store a file's worth of 32 KiB blocks the way the sqlite store does, so
 * `eris put` into the default store can be compared with its floor
 * (bench/put_bench.sh, docs/PERFORMANCE.md "eris put against eris sum").
 *
 * It creates DB with the store's schema and settings (page_size 8192, WAL,
 * synchronous FULL, cache_size 8 MiB), cuts FILE into 32 KiB pieces (the
 * last one zero-padded) and inserts each under a pseudo-random 32-byte
 * reference with the store's INSERT OR IGNORE, committing every 128
 * pieces (the store's 4 MiB queue), then closes the database, which
 * checkpoints the write-ahead log, as the last `eris put` connection
 * does. No hashing and no encryption: the time is sqlite's and the
 * disk's. Time it from outside (/usr/bin/time).
 *
 * Usage: eris-sqlite-put-floor FILE DB   (DB must not exist)
 * Not part of ctest.
 */
#include <sqlite3.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BLOCK 32768
#define PER_COMMIT 128

static void die(sqlite3 *db, const char *what)
{
	fprintf(stderr, "eris-sqlite-put-floor: %s: %s\n", what,
		db ? sqlite3_errmsg(db) : "failed");
	exit(1);
}

static void exec(sqlite3 *db, const char *sql)
{
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		die(db, sql);
}

int main(int argc, char **argv)
{
	static uint8_t block[BLOCK];
	uint64_t rng = 0x9E3779B97F4A7C15ull;
	sqlite3 *db = NULL;
	sqlite3_stmt *ins;
	size_t n, pending = 0;
	FILE *in;

	if (argc != 3) {
		fprintf(stderr, "usage: %s FILE DB\n", argv[0]);
		return 2;
	}
	in = fopen(argv[1], "rb");
	if (in == NULL) {
		perror(argv[1]);
		return 1;
	}
	if (sqlite3_open_v2(argv[2], &db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
			    NULL) != SQLITE_OK)
		die(db, argv[2]);
	exec(db, "PRAGMA page_size=8192");
	exec(db, "PRAGMA journal_mode=WAL");
	exec(db, "CREATE TABLE blocks(id INTEGER PRIMARY KEY, "
		 "ref BLOB NOT NULL UNIQUE, data BLOB NOT NULL)");
	exec(db, "PRAGMA synchronous=FULL");
	exec(db, "PRAGMA cache_size=-8192");
	if (sqlite3_prepare_v2(db,
			       "INSERT OR IGNORE INTO blocks(ref, data) "
			       "VALUES (?1, ?2)",
			       -1, &ins, NULL) != SQLITE_OK)
		die(db, "prepare");
	while ((n = fread(block, 1, BLOCK, in)) > 0) {
		uint64_t ref[4];

		memset(block + n, 0, BLOCK - n);
		for (int i = 0; i < 4; i++) { /* xorshift64* */
			rng ^= rng >> 12;
			rng ^= rng << 25;
			rng ^= rng >> 27;
			ref[i] = rng * 0x2545F4914F6CDD1Dull;
		}
		if (pending == 0)
			exec(db, "BEGIN IMMEDIATE");
		sqlite3_bind_blob(ins, 1, ref, 32, SQLITE_STATIC);
		sqlite3_bind_blob(ins, 2, block, BLOCK, SQLITE_STATIC);
		if (sqlite3_step(ins) != SQLITE_DONE)
			die(db, "insert");
		sqlite3_reset(ins);
		if (++pending == PER_COMMIT) {
			exec(db, "COMMIT");
			pending = 0;
		}
	}
	if (pending > 0)
		exec(db, "COMMIT");
	fclose(in);
	sqlite3_finalize(ins);
	if (sqlite3_close(db) != SQLITE_OK) /* checkpoints the log */
		die(db, "close");
	return 0;
}
