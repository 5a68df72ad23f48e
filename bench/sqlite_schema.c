/*
 * sqlite_schema.c - eris-sqlite-schema: measures the candidate schemas and
 * settings of the sqlite3 block store (liberis/stores/sqlite.c) so the
 * choice in docs/PERFORMANCE.md ("sqlite store: schema") rests on numbers.
 *
 * Why a separate program: the store's schema is fixed once databases exist
 * in the wild, and sqlite's behaviour with 1 KiB and 32 KiB blobs depends
 * on the page size (overflow pages), the b-tree kind (rowid table vs
 * WITHOUT ROWID, whose index b-tree keeps less payload per cell) and the
 * journal. This talks to sqlite directly, with the statements the store
 * would use, and leaves liberis out.
 *
 * Each variant builds a fresh database in a scratch directory: N1 1 KiB
 * and N2 32 KiB blocks (pseudo-random bytes under uniformly random 32-byte
 * references, as BLAKE2b references are), inserted in transactions of B
 * puts, then looks every block up again in random order, then probes for
 * absent references, then lists every reference and length (as foreach
 * does). It reports blocks/s for each phase and the file bytes per stored
 * byte for each block size. Warm page cache: the files were just written
 * and the machine has far more memory than they take.
 *
 * Usage: eris-sqlite-schema [--dir DIR] [--n1k N] [--n32k N] [--only NAME]
 * Not part of ctest. A default run takes a few minutes.
 */
#include <sqlite3.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum schema {
	ROWID,      /* blocks(id INTEGER PRIMARY KEY, ref UNIQUE, data) */
	NOROWID,    /* blocks(ref PRIMARY KEY, data) WITHOUT ROWID */
	SPLIT,      /* refs(ref PRIMARY KEY, id, size) WITHOUT ROWID +
		       data(id INTEGER PRIMARY KEY, block) */
};

typedef struct {
	const char *name;
	enum schema schema;
	int page_size;
	int wal;       /* 1: journal_mode=WAL, 0: DELETE (rollback) */
	int full;      /* 1: synchronous=FULL, 0: NORMAL */
	int batch;     /* puts per transaction */
	int blob_api;  /* get through sqlite3_blob_read (rowid schemas) */
	long long mmap; /* PRAGMA mmap_size, 0 = off */
	int scale;     /* divide the block counts by this (slow variants) */
	int cache_kib; /* PRAGMA cache_size=-N, 0 = sqlite's default (2 MiB) */
} variant;

static const variant variants[] = {
	/* b-tree kind, at sqlite's default page size */
	{ "rowid-4k", ROWID, 4096, 1, 0, 1000, 0, 0, 1, 0 },
	{ "rowid-4k-blobapi", ROWID, 4096, 1, 0, 1000, 1, 0, 1, 0 },
	{ "norowid-4k", NOROWID, 4096, 1, 0, 1000, 0, 0, 1, 0 },
	{ "split-4k", SPLIT, 4096, 1, 0, 1000, 1, 0, 1, 0 },
	/* page size */
	{ "rowid-8k", ROWID, 8192, 1, 0, 1000, 0, 0, 1, 0 },
	{ "rowid-16k", ROWID, 16384, 1, 0, 1000, 0, 0, 1, 0 },
	{ "rowid-32k", ROWID, 32768, 1, 0, 1000, 0, 0, 1, 0 },
	{ "rowid-64k", ROWID, 65536, 1, 0, 1000, 0, 0, 1, 0 },
	{ "norowid-8k", NOROWID, 8192, 1, 0, 1000, 0, 0, 1, 0 },
	{ "norowid-16k", NOROWID, 16384, 1, 0, 1000, 0, 0, 1, 0 },
	{ "split-8k", SPLIT, 8192, 1, 0, 1000, 1, 0, 1, 0 },
	/* memory-mapped reads */
	{ "rowid-4k-mmap", ROWID, 4096, 1, 0, 1000, 0, 1LL << 30, 1, 0 },
	{ "rowid-8k-mmap", ROWID, 8192, 1, 0, 1000, 0, 1LL << 30, 1, 0 },
	{ "rowid-8k-blobapi", ROWID, 8192, 1, 0, 1000, 1, 0, 1, 0 },
	/* page cache (matters once the reference index outgrows 2 MiB) */
	{ "rowid-8k-cache64m", ROWID, 8192, 1, 0, 1000, 0, 0, 1, 65536 },
	{ "rowid-8k-cache8m", ROWID, 8192, 1, 0, 1000, 0, 0, 1, 8192 },
	/* journal and sync */
	{ "rowid-8k-full", ROWID, 8192, 1, 1, 1000, 0, 0, 1, 0 },
	{ "rowid-8k-rollback", ROWID, 8192, 0, 0, 1000, 0, 0, 1, 0 },
	{ "rowid-8k-rollback-full", ROWID, 8192, 0, 1, 1000, 0, 0, 1, 0 },
	/* transaction size (fewer blocks: one commit per put is slow) */
	{ "rowid-8k-full-batch100", ROWID, 8192, 1, 1, 100, 0, 0, 1, 0 },
	{ "rowid-8k-full-batch1", ROWID, 8192, 1, 1, 1, 0, 0, 100, 0 },
	{ "rowid-8k-normal-batch1", ROWID, 8192, 1, 0, 1, 0, 0, 100, 0 },
};

#define N_VARIANTS (sizeof(variants) / sizeof(variants[0]))
#define POOL_BYTES ((size_t)64 << 20)
#define MIB (1024.0 * 1024.0)

static uint64_t rng = 0x9E3779B97F4A7C15ull;

static uint64_t next_rand(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545F4914F6CDD1Dull;
}

static void fill(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i += 8) {
		uint64_t x = next_rand();

		memcpy(p + i, &x, n - i < 8 ? n - i : 8);
	}
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die_db(sqlite3 *db, const char *what)
{
	fprintf(stderr, "eris-sqlite-schema: %s: %s\n", what,
		sqlite3_errmsg(db));
	exit(1);
}

static void exec(sqlite3 *db, const char *sql)
{
	char *err = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
		fprintf(stderr, "eris-sqlite-schema: %s: %s\n", sql, err);
		exit(1);
	}
}

static sqlite3_stmt *prep(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;

	if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st,
			       NULL) != SQLITE_OK)
		die_db(db, sql);
	return st;
}

/* What one variant does with its database. */
typedef struct {
	sqlite3 *db;
	const variant *v;
	sqlite3_stmt *ins, *ins2, *get, *has, *list;
	sqlite3_blob *blob;
	uint8_t *pool;
} bench;

static void open_db(bench *b, const char *path)
{
	char sql[256];
	const variant *v = b->v;

	if (sqlite3_open(path, &b->db) != SQLITE_OK)
		die_db(b->db, path);
	snprintf(sql, sizeof(sql), "PRAGMA page_size=%d", v->page_size);
	exec(b->db, sql);
	exec(b->db, v->wal ? "PRAGMA journal_mode=WAL"
			   : "PRAGMA journal_mode=DELETE");
	exec(b->db, v->full ? "PRAGMA synchronous=FULL"
			    : "PRAGMA synchronous=NORMAL");
	snprintf(sql, sizeof(sql), "PRAGMA mmap_size=%lld", v->mmap);
	exec(b->db, sql);
	if (v->cache_kib) {
		snprintf(sql, sizeof(sql), "PRAGMA cache_size=-%d",
			 v->cache_kib);
		exec(b->db, sql);
	}
	b->list = NULL;
	switch (v->schema) {
	case ROWID:
		exec(b->db, "CREATE TABLE blocks(id INTEGER PRIMARY KEY, "
			    "ref BLOB NOT NULL UNIQUE, data BLOB NOT NULL)");
		b->ins = prep(b->db, "INSERT OR IGNORE INTO blocks(ref, data) "
				     "VALUES (?1, ?2)");
		b->get = prep(b->db, v->blob_api
					     ? "SELECT id FROM blocks WHERE "
					       "ref = ?1"
					     : "SELECT data FROM blocks WHERE "
					       "ref = ?1");
		b->has = prep(b->db, "SELECT 1 FROM blocks WHERE ref = ?1");
		break;
	case NOROWID:
		exec(b->db, "CREATE TABLE blocks(ref BLOB PRIMARY KEY, "
			    "data BLOB NOT NULL) WITHOUT ROWID");
		b->ins = prep(b->db, "INSERT OR IGNORE INTO blocks(ref, data) "
				     "VALUES (?1, ?2)");
		b->get = prep(b->db, "SELECT data FROM blocks WHERE ref = ?1");
		b->has = prep(b->db, "SELECT 1 FROM blocks WHERE ref = ?1");
		break;
	case SPLIT:
		exec(b->db, "CREATE TABLE data(id INTEGER PRIMARY KEY, "
			    "block BLOB NOT NULL)");
		exec(b->db, "CREATE TABLE refs(ref BLOB PRIMARY KEY, "
			    "id INTEGER NOT NULL, size INTEGER NOT NULL) "
			    "WITHOUT ROWID");
		b->ins = prep(b->db, "INSERT INTO data(block) VALUES (?2)");
		b->ins2 = prep(b->db, "INSERT INTO refs(ref, id, size) "
				      "VALUES (?1, last_insert_rowid(), ?2)");
		b->get = prep(b->db, "SELECT id FROM refs WHERE ref = ?1");
		b->has = prep(b->db, "SELECT 1 FROM refs WHERE ref = ?1");
		b->list = prep(b->db, "SELECT ref, size FROM refs");
		break;
	}
}

static void put(bench *b, const uint8_t *ref, const uint8_t *data, int len)
{
	sqlite3_stmt *st = b->ins;

	sqlite3_bind_blob(st, 1, ref, 32, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, data, len, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		die_db(b->db, "insert");
	sqlite3_reset(st);
	if (b->ins2) {
		sqlite3_bind_blob(b->ins2, 1, ref, 32, SQLITE_STATIC);
		sqlite3_bind_int(b->ins2, 2, len);
		if (sqlite3_step(b->ins2) != SQLITE_DONE)
			die_db(b->db, "insert ref");
		sqlite3_reset(b->ins2);
	}
}

/* Fetch a block into buf; returns its length (0 if absent). */
static int get(bench *b, const uint8_t *ref, uint8_t *buf)
{
	sqlite3_stmt *st = b->get;
	int len = 0;

	sqlite3_bind_blob(st, 1, ref, 32, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		if (b->v->blob_api) {
			sqlite3_int64 id = sqlite3_column_int64(st, 0);
			const char *table =
				b->v->schema == SPLIT ? "data" : "blocks";
			const char *col =
				b->v->schema == SPLIT ? "block" : "data";
			int rc = b->blob ? sqlite3_blob_reopen(b->blob, id)
					 : sqlite3_blob_open(b->db, "main",
							     table, col, id, 0,
							     &b->blob);

			if (rc != SQLITE_OK)
				die_db(b->db, "blob open");
			len = sqlite3_blob_bytes(b->blob);
			if (sqlite3_blob_read(b->blob, buf, len, 0) !=
			    SQLITE_OK)
				die_db(b->db, "blob read");
		} else {
			len = sqlite3_column_bytes(st, 0);
			memcpy(buf, sqlite3_column_blob(st, 0), (size_t)len);
		}
	}
	sqlite3_reset(st);
	return len;
}

/* List every reference and length, as foreach does; returns the count. */
static size_t list_all(bench *b)
{
	sqlite3_stmt *st = b->list;
	size_t n = 0;

	if (st == NULL)
		st = b->list = prep(b->db, "SELECT ref, length(data) FROM "
					   "blocks");
	while (sqlite3_step(st) == SQLITE_ROW)
		if (sqlite3_column_bytes(st, 0) == 32 &&
		    sqlite3_column_int(st, 1) > 0)
			n++;
	sqlite3_reset(st);
	return n;
}

static int has(bench *b, const uint8_t *ref)
{
	int found;

	sqlite3_bind_blob(b->has, 1, ref, 32, SQLITE_STATIC);
	found = sqlite3_step(b->has) == SQLITE_ROW;
	sqlite3_reset(b->has);
	return found;
}

static long long file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (long long)st.st_size : 0;
}

static void shuffle(uint32_t *idx, size_t n)
{
	for (size_t i = n; i > 1; i--) {
		size_t j = (size_t)(next_rand() % i);
		uint32_t t = idx[i - 1];

		idx[i - 1] = idx[j];
		idx[j] = t;
	}
}

/* Checkpoint (WAL) so the database file holds everything; its size. */
static long long settled_size(bench *b, const char *path)
{
	if (b->v->wal)
		exec(b->db, "PRAGMA wal_checkpoint(TRUNCATE)");
	return file_size(path);
}

static void run(const variant *v, const char *dir, size_t n1, size_t n32,
		uint8_t *pool)
{
	char path[4096], side[4200];
	bench b = { 0 };
	size_t n[2] = { n1 / (size_t)v->scale, n32 / (size_t)v->scale };
	const int len[2] = { 1024, 32768 };
	double put_rate[2], get_rate[2], miss_rate, list_rate, t;
	long long size[3];
	uint8_t *refs[2], buf[32768], probe[32];
	uint32_t *idx;

	snprintf(path, sizeof(path), "%s/%s.sqlite", dir, v->name);
	unlink(path);
	snprintf(side, sizeof(side), "%s-wal", path);
	unlink(side);
	snprintf(side, sizeof(side), "%s-shm", path);
	unlink(side);
	b.v = v;
	b.pool = pool;
	open_db(&b, path);
	size[0] = settled_size(&b, path);

	for (int k = 0; k < 2; k++) {
		size_t in_txn = 0;

		refs[k] = malloc(n[k] * 32);
		if (refs[k] == NULL) {
			fputs("out of memory\n", stderr);
			exit(1);
		}
		fill(refs[k], n[k] * 32);
		t = now();
		exec(b.db, "BEGIN");
		for (size_t i = 0; i < n[k]; i++) {
			size_t off = (i * 4099 + (size_t)k * 7919) %
				     (POOL_BYTES - 32768);

			put(&b, refs[k] + i * 32, pool + off, len[k]);
			if (++in_txn == (size_t)v->batch) {
				exec(b.db, "COMMIT");
				exec(b.db, "BEGIN");
				in_txn = 0;
			}
		}
		exec(b.db, "COMMIT");
		put_rate[k] = (double)n[k] / (now() - t);
		size[k + 1] = settled_size(&b, path); /* untimed */
	}

	for (int k = 0; k < 2; k++) {
		idx = malloc(n[k] * sizeof(*idx));
		for (size_t i = 0; i < n[k]; i++)
			idx[i] = (uint32_t)i;
		shuffle(idx, n[k]);
		t = now();
		exec(b.db, "BEGIN");
		for (size_t i = 0; i < n[k]; i++)
			if (get(&b, refs[k] + (size_t)idx[i] * 32, buf) !=
			    len[k]) {
				fprintf(stderr, "%s: block %u lost\n",
					v->name, idx[i]);
				exit(1);
			}
		exec(b.db, "COMMIT");
		get_rate[k] = (double)n[k] / (now() - t);
		free(idx);
	}

	t = now();
	exec(b.db, "BEGIN");
	for (size_t i = 0; i < n[0]; i++) {
		fill(probe, sizeof(probe));
		if (has(&b, probe)) {
			fprintf(stderr, "%s: phantom block\n", v->name);
			exit(1);
		}
	}
	exec(b.db, "COMMIT");
	miss_rate = (double)n[0] / (now() - t);

	t = now();
	if (list_all(&b) != n[0] + n[1]) {
		fprintf(stderr, "%s: listing is incomplete\n", v->name);
		exit(1);
	}
	list_rate = (double)(n[0] + n[1]) / (now() - t);

	if (b.blob)
		sqlite3_blob_close(b.blob);
	sqlite3_finalize(b.ins);
	sqlite3_finalize(b.ins2);
	sqlite3_finalize(b.get);
	sqlite3_finalize(b.has);
	sqlite3_finalize(b.list);
	if (sqlite3_close(b.db) != SQLITE_OK)
		die_db(b.db, "close");
	printf("| %s | %zu / %zu | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f "
	       "| %.3f | %.3f |\n",
	       v->name, n[0], n[1], put_rate[0], put_rate[1], get_rate[0],
	       get_rate[1], miss_rate, list_rate,
	       (double)(size[1] - size[0]) / ((double)n[0] * len[0]),
	       (double)(size[2] - size[1]) / ((double)n[1] * len[1]));
	fflush(stdout);
	unlink(path);
	free(refs[0]);
	free(refs[1]);
}

int main(int argc, char **argv)
{
	const char *dir = NULL, *only = NULL;
	size_t n1 = 200000, n32 = 20000;
	uint8_t *pool;
	char tmpl[4096];

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
			dir = argv[++i];
		else if (strcmp(argv[i], "--n1k") == 0 && i + 1 < argc)
			n1 = strtoul(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--n32k") == 0 && i + 1 < argc)
			n32 = strtoul(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc)
			only = argv[++i];
		else {
			fprintf(stderr, "usage: %s [--dir DIR] [--n1k N] "
					"[--n32k N] [--only NAME]\n",
				argv[0]);
			return 2;
		}
	}
	if (dir == NULL) {
		const char *t = getenv("TMPDIR");

		snprintf(tmpl, sizeof(tmpl), "%s/eris-sqlite-schema-XXXXXX",
			 t && t[0] ? t : "/tmp");
		if (mkdtemp(tmpl) == NULL) {
			perror("mkdtemp");
			return 1;
		}
		dir = tmpl;
	}
	pool = malloc(POOL_BYTES);
	if (pool == NULL)
		return 1;
	fill(pool, POOL_BYTES);

	printf("sqlite %s, %zu x 1 KiB + %zu x 32 KiB blocks per variant, "
	       "in %s\n\n",
	       sqlite3_libversion(), n1, n32, dir);
	printf("| variant | blocks 1K / 32K | put 1K/s | put 32K/s | "
	       "get 1K/s | get 32K/s | miss/s | list/s | file/data 1K | "
	       "file/data 32K |\n");
	printf("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: "
	       "| ---: |\n");
	for (size_t i = 0; i < N_VARIANTS; i++)
		if (only == NULL || strcmp(only, variants[i].name) == 0)
			run(&variants[i], dir, n1, n32, pool);
	if (dir == tmpl)
		rmdir(tmpl);
	free(pool);
	return 0;
}
