/*
 * sqlite.c - the sqlite3 store: every block is a row of one table in one
 * database file. For stores of millions of blocks, where one file per
 * block (dir.c) costs an inode and a directory entry per kilobyte, and for
 * the embedded default store, which `eris` and erisd share across
 * processes.
 *
 * Schema, version 1 (PRAGMA application_id 0x45524953 "ERIS", PRAGMA
 * user_version 1; an unknown version or application is refused):
 *
 *   CREATE TABLE blocks(id INTEGER PRIMARY KEY,
 *                       ref BLOB NOT NULL UNIQUE, -- 32 bytes
 *                       data BLOB NOT NULL);      -- 1024 or 32768 bytes
 *
 *   CREATE TABLE pins(name TEXT PRIMARY KEY, urn TEXT NOT NULL,
 *                     size INTEGER NOT NULL, time INTEGER NOT NULL);
 *
 * The pins table came later without a new schema version: it is only
 * added, and a store without it has no pins. Opening a store for writing
 * creates it when missing; an older eris ignores it (its gc needs --keep
 * or --all anyway).
 *
 * with page_size 8192, journal_mode WAL, auto_vacuum INCREMENTAL (stores
 * created before it have NONE and keep working; a full compaction
 * converts them) and, per connection, synchronous FULL, cache_size 8 MiB
 * and busy_timeout 10 s.
 * docs/PERFORMANCE.md ("sqlite store: schema") has the measurements
 * behind each choice: a rowid table appends blocks in insertion order and
 * keeps the random references in a small separate index, where a WITHOUT
 * ROWID table keyed by the reference spills 1 KiB rows out of its cells
 * and was up to 5 times slower to fill and 6 times slower to read; 8 KiB
 * pages hold seven 1 KiB rows (4 KiB pages three) and larger pages slow
 * down lookups; WAL lets readers run while a writer commits; batched
 * commits make FULL cost what NORMAL does. Blocks are read with
 * sqlite3_column_blob: sqlite3_blob_open needs the rowid first and an
 * open blob handle pins a read snapshot. No mmap: it read 1.7 times
 * faster, but an I/O error would be SIGBUS, not an error code.
 *
 * Writes are queued (the state of a store):
 *
 *        put/remove                 PENDING_MAX_OPS ops, PENDING_MAX_BYTES,
 *   idle ----------> queued ------> oldest op PENDING_MAX_MS old (checked
 *    ^               |    ^         on the next put/remove), flush(),
 *    |               |    |         foreach(), free()
 *    |  write_out()  |    | failed: ROLLBACK, queue kept, error returned
 *    +---------------+----+
 *   write_out(): BEGIN IMMEDIATE; DELETE and/or INSERT OR IGNORE per op;
 *                COMMIT
 *
 * put() trusts its caller to have hashed the block (eris_store_put()
 * does, and the encoder makes the blocks it hands over), checks only the
 * size (1024 or 32768 bytes: the queue's arena relies on it) and copies
 * it into the queue: the put is *accepted*. Reads
 * look at the queue first, so a store sees its own writes. No transaction
 * stays open between calls: another process's writer waits for one batch
 * at most, and readers never wait for writers (WAL).
 *
 * Durability: a put is *acknowledged* when a later eris_store_flush() on
 * the same store returns ERIS_OK. The commit is then in the WAL, so it
 * survives kill -9 of the writer, and the WAL was fsync'd (synchronous
 * FULL), so it survives an OS crash or power loss too, on a disk that
 * honours fsync. Accepted but unflushed puts may be lost by a crash. A
 * failed write-out keeps the queue and reports the error, so flush() never
 * returns ERIS_OK while a block accepted before it is uncommitted. free()
 * writes the queue out too, but cannot report a failure.
 *
 * Read-only: a database this process cannot write is opened
 * SQLITE_OPEN_READONLY (read_only_mode()), so a user can read a store
 * someone else owns, or one on a read-only mount; the identity check only
 * reads PRAGMAs, and put/remove say ERIS_EREADONLY.
 *
 * Space: deleting a row frees its pages inside the file, which sqlite
 * reuses but never gives back by itself. compact() gives them back:
 * incrementally (PRAGMA incremental_vacuum of VACUUM_STEP_PAGES pages per
 * write transaction, the mutex released between steps, so other writers
 * wait for one step at most and readers never wait), or whole (VACUUM,
 * which also turns an old store's auto_vacuum NONE into INCREMENTAL).
 * Both end with a TRUNCATE checkpoint, so that the space is not merely
 * moved into the write-ahead log. `eris store gc` runs the incremental
 * one after deleting.
 *
 * Pins are written in their own transaction after the queue is committed,
 * so a pin is never durable before the blocks put before it. The gc lock
 * (eris_store_lock) is flock() on the directory holding the database: an
 * sqlite lock cannot be held across transactions without blocking every
 * writer, opening the database file itself to lock it would drop
 * sqlite's own POSIX locks when closed, and a lock file beside it would
 * be one more file that a read-only user cannot create. Stores in one
 * directory share the lock: a gc of one waits for puts into another.
 *
 * Threads: one mutex serializes the connection and the queue (the
 * connection is opened SQLITE_OPEN_NOMUTEX: the mutex is ours). foreach()
 * releases it while its callback runs, so the callback may use the store.
 */
#include "module.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define APPLICATION_ID 0x45524953 /* "ERIS" */
#define SCHEMA_VERSION 1
#define PAGE_SIZE 8192
#define BUSY_TIMEOUT_MS 10000
/* The write queue: at most this many operations, bytes of blocks, age. */
#define PENDING_MAX_OPS 1024
#define PENDING_MAX_BYTES ((size_t)4 << 20)
#define PENDING_MAX_MS 1000
/* foreach() reads the listing in chunks of this many rows. */
#define LIST_CHUNK 1024
/* Pages given back per incremental step (8 MiB): one short write
 * transaction, then the lock is released. */
#define VACUUM_STEP_PAGES 1024
/* The final checkpoint waits this long for readers of an old snapshot;
 * if they stay, the log is truncated by a later checkpoint instead. */
#define CHECKPOINT_WAIT_MS 1000
/* During a VACUUM, report progress every this many VM instructions. */
#define VACUUM_PROGRESS_OPS 200000

static const char schema_sql[] =
	"CREATE TABLE blocks(id INTEGER PRIMARY KEY, "
	"ref BLOB NOT NULL UNIQUE, data BLOB NOT NULL)";
static const char pins_sql[] =
	"CREATE TABLE IF NOT EXISTS pins(name TEXT PRIMARY KEY, "
	"urn TEXT NOT NULL, size INTEGER NOT NULL, time INTEGER NOT NULL)";

/* A queued operation on one reference (which appears at most once in the
 * queue): delete the row if `del`, then insert the block at `off` in the
 * arena if `len` > 0. A remove followed by a put is both, so a damaged row
 * is replaced rather than kept by INSERT OR IGNORE. */
typedef struct {
	uint8_t ref[ERIS_REF_BYTES];
	uint32_t len;
	uint32_t off;
	int del;
} pending_op;

typedef struct {
	eris_store_backend parent;
	pthread_mutex_t lock;
	sqlite3 *db;
	char *path;
	sqlite3_stmt *st_get, *st_has, *st_ins, *st_del, *st_list;
	sqlite3_stmt *st_begin_write, *st_begin_read, *st_commit,
		*st_rollback;
	pending_op ops[PENDING_MAX_OPS];
	size_t n_ops;
	uint8_t *arena; /* PENDING_MAX_BYTES, allocated on the first put */
	size_t arena_used;
	long long since_ms; /* when the oldest queued op was queued */
	const char *readonly; /* why it was opened read-only, or NULL */
	int open_readonly;    /* ERIS_STORE_READONLY was asked for */
	int has_pins;         /* the pins table exists */
	int lock_fd;          /* PATH-lock while locked, else -1 */
} sqlite_store;

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Report the connection's last error: ERIS_ENOMEM or ERIS_ERROR (I/O). */
static int db_error(const sqlite_store *s, const char *what)
{
	int code = sqlite3_errcode(s->db);

	return eris_error_set(code == SQLITE_NOMEM ? ERIS_ENOMEM : ERIS_ERROR,
			      "sqlite store %s: %s: %s", s->path, what,
			      sqlite3_errmsg(s->db));
}

/* After a statement: reset it and drop the SQLITE_STATIC bindings, which
 * point into the caller's buffers. */
static void done(sqlite3_stmt *st)
{
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

/* Run a prepared statement that returns no rows. */
static int run(sqlite_store *s, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);

	rc = rc == SQLITE_DONE ? ERIS_OK : db_error(s, what);
	done(st);
	return rc;
}

static pending_op *find_op(sqlite_store *s, const uint8_t *ref)
{
	for (size_t i = 0; i < s->n_ops; i++)
		if (memcmp(s->ops[i].ref, ref, ERIS_REF_BYTES) == 0)
			return &s->ops[i];
	return NULL;
}

/* Commit the queue in one transaction. On failure nothing is committed,
 * the queue is kept (the next write-out retries) and the error returned. */
static int write_out(sqlite_store *s)
{
	int rc;

	if (s->n_ops == 0)
		return ERIS_OK;
	if ((rc = run(s, s->st_begin_write, "cannot start a write")) < 0)
		return rc;
	for (size_t i = 0; i < s->n_ops && rc == ERIS_OK; i++) {
		const pending_op *op = &s->ops[i];

		if (op->del) {
			sqlite3_bind_blob(s->st_del, 1, op->ref,
					  ERIS_REF_BYTES, SQLITE_STATIC);
			rc = run(s, s->st_del, "cannot delete a block");
		}
		if (op->len > 0 && rc == ERIS_OK) {
			sqlite3_bind_blob(s->st_ins, 1, op->ref,
					  ERIS_REF_BYTES, SQLITE_STATIC);
			sqlite3_bind_blob(s->st_ins, 2, s->arena + op->off,
					  (int)op->len, SQLITE_STATIC);
			rc = run(s, s->st_ins, "cannot store a block");
		}
	}
	if (rc == ERIS_OK)
		rc = run(s, s->st_commit, "cannot commit");
	if (rc < 0) {
		if (!sqlite3_get_autocommit(s->db)) {
			sqlite3_step(s->st_rollback);
			done(s->st_rollback);
		}
		return rc;
	}
	s->n_ops = 0;
	s->arena_used = 0;
	return ERIS_OK;
}

/* After queueing: write out once the oldest op has waited long enough. */
static int maybe_write_out(sqlite_store *s)
{
	if (s->n_ops == 1)
		s->since_ms = now_ms();
	else if (now_ms() - s->since_ms >= PENDING_MAX_MS)
		return write_out(s);
	return ERIS_OK;
}

/* Fetch from the database (not the queue); caller holds the lock. */
static int db_get(sqlite_store *s, const uint8_t *ref, uint8_t *buf,
		  size_t buf_size, size_t *out_len)
{
	sqlite3_stmt *st = s->st_get;
	int rc;

	sqlite3_bind_blob(st, 1, ref, ERIS_REF_BYTES, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const void *p = sqlite3_column_blob(st, 0);
		size_t n = (size_t)sqlite3_column_bytes(st, 0);

		if (p == NULL && sqlite3_errcode(s->db) == SQLITE_NOMEM)
			rc = eris_error_set(ERIS_ENOMEM, "out of memory");
		else if (n > buf_size)
			rc = eris_error_set(ERIS_EBLOCKSIZE,
					    "sqlite store %s: stored block of "
					    "%zu bytes does not fit in %zu",
					    s->path, n, buf_size);
		else {
			if (n > 0)
				memcpy(buf, p, n);
			*out_len = n;
			rc = ERIS_OK;
		}
	} else if (rc == SQLITE_DONE) {
		rc = ERIS_ENOTFOUND;
	} else {
		rc = db_error(s, "cannot read a block");
	}
	done(st);
	return rc;
}

/* get from the queue or the database; caller holds the lock. */
static int locked_get(sqlite_store *s, const uint8_t *ref, uint8_t *buf,
		      size_t buf_size, size_t *out_len)
{
	const pending_op *op = find_op(s, ref);

	if (op == NULL)
		return db_get(s, ref, buf, buf_size, out_len);
	if (op->len == 0)
		return ERIS_ENOTFOUND; /* queued for removal */
	if (op->len > buf_size)
		return eris_error_set(ERIS_EBLOCKSIZE,
				      "sqlite store %s: block of %u bytes "
				      "does not fit in %zu",
				      s->path, (unsigned)op->len, buf_size);
	memcpy(buf, s->arena + op->off, op->len);
	*out_len = op->len;
	return ERIS_OK;
}

static int sq_get(eris_store_backend *b, const uint8_t *ref, uint8_t *buf,
		  size_t buf_size, size_t *out_len)
{
	sqlite_store *s = (sqlite_store *)b;
	int rc;

	pthread_mutex_lock(&s->lock);
	rc = locked_get(s, ref, buf, buf_size, out_len);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

/* One read transaction for the batch, so the blocks come from one
 * snapshot and the WAL read lock is taken once; one statement reused. */
static int sq_get_many(eris_store_backend *b, size_t n,
		       const uint8_t (*refs)[ERIS_REF_BYTES],
		       uint8_t *const *bufs, size_t buf_size, size_t *out_lens,
		       int *results)
{
	sqlite_store *s = (sqlite_store *)b;
	int rc;

	pthread_mutex_lock(&s->lock);
	rc = run(s, s->st_begin_read, "cannot start a read");
	if (rc == ERIS_OK) {
		for (size_t i = 0; i < n; i++) {
			out_lens[i] = 0;
			results[i] = locked_get(s, refs[i], bufs[i], buf_size,
						&out_lens[i]);
		}
		/* Ending a read transaction cannot lose anything. */
		sqlite3_step(s->st_commit);
		done(s->st_commit);
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

static int sq_has(eris_store_backend *b, const uint8_t *ref)
{
	sqlite_store *s = (sqlite_store *)b;
	const pending_op *op;
	int rc;

	pthread_mutex_lock(&s->lock);
	op = find_op(s, ref);
	if (op) {
		rc = op->len > 0;
	} else {
		sqlite3_bind_blob(s->st_has, 1, ref, ERIS_REF_BYTES,
				  SQLITE_STATIC);
		rc = sqlite3_step(s->st_has);
		if (rc == SQLITE_ROW)
			rc = 1;
		else if (rc == SQLITE_DONE)
			rc = 0;
		else
			rc = db_error(s, "cannot look up a block");
		done(s->st_has);
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

static int readonly_error(const sqlite_store *s)
{
	return eris_error_set(ERIS_EREADONLY,
			      "sqlite store %s is open read-only (%s)",
			      s->path, s->readonly);
}

static int sq_put(eris_store_backend *b, const uint8_t *ref,
		  const uint8_t *block, size_t len)
{
	sqlite_store *s = (sqlite_store *)b;
	pending_op *op;
	int rc = ERIS_OK;

	/* The caller hashed the block (eris_store_put, or the encoder that
	 * made it); the size is checked because the queue's arena relies on
	 * it. */
	if (!mod_valid_block_size(len))
		return eris_error_set(ERIS_EBLOCKSIZE,
				      "block of %zu bytes: only 1024 or 32768 "
				      "are valid",
				      len);

	if (s->readonly)
		return readonly_error(s);
	pthread_mutex_lock(&s->lock);
	op = find_op(s, ref);
	if (op && op->len > 0)
		goto out; /* queued already; blocks never change */
	if (s->arena == NULL) {
		s->arena = malloc(PENDING_MAX_BYTES);
		if (s->arena == NULL) {
			rc = eris_error_set(ERIS_ENOMEM, "out of memory");
			goto out;
		}
	}
	if ((op == NULL && s->n_ops == PENDING_MAX_OPS) ||
	    s->arena_used + len > PENDING_MAX_BYTES) {
		if ((rc = write_out(s)) < 0)
			goto out; /* not accepted */
		op = NULL;
	}
	if (op == NULL) {
		op = &s->ops[s->n_ops++];
		memcpy(op->ref, ref, ERIS_REF_BYTES);
		op->del = 0;
	} /* else a queued remove: keep its DELETE, add the INSERT */
	memcpy(s->arena + s->arena_used, block, len);
	op->off = (uint32_t)s->arena_used;
	op->len = (uint32_t)len;
	s->arena_used += len;
	rc = maybe_write_out(s);
out:
	pthread_mutex_unlock(&s->lock);
	return rc;
}

static int sq_remove(eris_store_backend *b, const uint8_t *ref)
{
	sqlite_store *s = (sqlite_store *)b;
	pending_op *op;
	int rc = ERIS_OK;

	if (s->readonly)
		return readonly_error(s);
	pthread_mutex_lock(&s->lock);
	op = find_op(s, ref);
	if (op == NULL) {
		if (s->n_ops == PENDING_MAX_OPS && (rc = write_out(s)) < 0)
			goto out;
		op = &s->ops[s->n_ops++];
		memcpy(op->ref, ref, ERIS_REF_BYTES);
	}
	/* A queued put turns into the remove (the block may be in the
	 * database already, so the DELETE must run). */
	op->del = 1;
	op->len = 0;
	rc = maybe_write_out(s);
out:
	pthread_mutex_unlock(&s->lock);
	return rc;
}

static int sq_flush(eris_store_backend *b)
{
	sqlite_store *s = (sqlite_store *)b;
	int rc;

	pthread_mutex_lock(&s->lock);
	rc = write_out(s);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

typedef struct {
	sqlite3_int64 id;
	uint8_t ref[ERIS_REF_BYTES];
	size_t len;
} list_row;

/* List in chunks by ascending rowid, holding the lock only while a chunk
 * is read: the callback may put, get or remove. Rows whose reference is
 * not 32 bytes (damaged by hand) cannot be named and are skipped. */
static int sq_foreach(eris_store_backend *b,
		      int (*cb)(const uint8_t ref[ERIS_REF_BYTES], size_t len,
				void *payload),
		      void *payload)
{
	sqlite_store *s = (sqlite_store *)b;
	list_row *rows = malloc(LIST_CHUNK * sizeof(*rows));
	sqlite3_int64 last = 0;
	size_t n;
	int rc;

	if (rows == NULL)
		return eris_error_set(ERIS_ENOMEM, "out of memory");
	pthread_mutex_lock(&s->lock);
	rc = write_out(s); /* list what was put before */
	pthread_mutex_unlock(&s->lock);
	while (rc == ERIS_OK) {
		size_t rows_read = 0;

		pthread_mutex_lock(&s->lock);
		n = 0;
		sqlite3_bind_int64(s->st_list, 1, last);
		sqlite3_bind_int(s->st_list, 2, LIST_CHUNK);
		while ((rc = sqlite3_step(s->st_list)) == SQLITE_ROW) {
			rows_read++;
			last = sqlite3_column_int64(s->st_list, 0);
			if (sqlite3_column_bytes(s->st_list, 1) !=
			    ERIS_REF_BYTES)
				continue;
			rows[n].id = last;
			memcpy(rows[n].ref, sqlite3_column_blob(s->st_list, 1),
			       ERIS_REF_BYTES);
			rows[n].len =
				(size_t)sqlite3_column_int64(s->st_list, 2);
			n++;
		}
		rc = rc == SQLITE_DONE ? ERIS_OK
				       : db_error(s, "cannot list blocks");
		done(s->st_list);
		pthread_mutex_unlock(&s->lock);
		for (size_t i = 0; i < n && rc == ERIS_OK; i++)
			rc = cb(rows[i].ref, rows[i].len, payload);
		if (rows_read < LIST_CHUNK)
			break;
	}
	free(rows);
	return rc;
}

static int sibling(const char *path, const char *suffix, off_t *size);

/* The integer result of `sql` (a PRAGMA or a count), failures reported
 * by `error`; *out is 0 on failure, so that no caller reads an unset
 * value. */
static int int_result(sqlite_store *s, const char *sql, long long *out,
		      int (*error)(const sqlite_store *, const char *))
{
	sqlite3_stmt *st;
	int rc;

	*out = 0;
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return error(s, sql);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*out = sqlite3_column_int64(st, 0);
		rc = ERIS_OK;
	} else {
		rc = error(s, sql);
	}
	sqlite3_finalize(st);
	return rc;
}

/* An integer from a PRAGMA; caller holds the lock. */
static int pragma_int(sqlite_store *s, const char *sql, long long *out)
{
	return int_result(s, sql, out, db_error);
}

static int free_bytes(sqlite_store *s, long long *out)
{
	long long pages, size;
	int rc;

	*out = 0;
	if ((rc = pragma_int(s, "PRAGMA freelist_count", &pages)) < 0 ||
	    (rc = pragma_int(s, "PRAGMA page_size", &size)) < 0)
		return rc;
	*out = pages * size;
	return ERIS_OK;
}

/* Move the write-ahead log into the database and truncate it, so that
 * the database file shrinks and the log does not keep the space. A
 * reader holding an old snapshot past CHECKPOINT_WAIT_MS leaves it to a
 * later checkpoint: not an error. Caller holds the lock. */
static int checkpoint(sqlite_store *s)
{
	int rc;

	sqlite3_busy_timeout(s->db, CHECKPOINT_WAIT_MS);
	rc = sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_TRUNCATE,
				       NULL, NULL);
	sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);
	if (rc != SQLITE_OK && rc != SQLITE_BUSY && rc != SQLITE_LOCKED)
		return db_error(s, "cannot checkpoint");
	return ERIS_OK;
}

typedef struct {
	void (*cb)(uint64_t done, uint64_t total, void *payload);
	void *payload;
} vacuum_progress;

/* sqlite's progress handler: a heartbeat while VACUUM runs. */
static int on_vacuum_progress(void *arg)
{
	const vacuum_progress *p = arg;

	p->cb(0, 0, p->payload);
	return 0; /* go on */
}

/* VACUUM, after setting the auto_vacuum mode it gives the database;
 * caller holds the lock. */
static int full_vacuum(sqlite_store *s,
		       void (*progress)(uint64_t, uint64_t, void *),
		       void *payload)
{
	vacuum_progress p = { progress, payload };
	int rc;

	if (sqlite3_exec(s->db, "PRAGMA auto_vacuum=INCREMENTAL", NULL, NULL,
			 NULL) != SQLITE_OK)
		return db_error(s, "cannot set auto_vacuum");
	if (progress)
		sqlite3_progress_handler(s->db, VACUUM_PROGRESS_OPS,
					 on_vacuum_progress, &p);
	rc = sqlite3_exec(s->db, "VACUUM", NULL, NULL, NULL);
	sqlite3_progress_handler(s->db, 0, NULL, NULL);
	return rc == SQLITE_OK ? ERIS_OK : db_error(s, "cannot VACUUM");
}

/* Give back free pages VACUUM_STEP_PAGES at a time, each step its own
 * write transaction, the lock released in between. Stops when nothing is
 * free or a step gave nothing back (another writer refilled the free
 * list, or the database has auto_vacuum NONE). Caller holds the lock. */
static int incremental_vacuum(sqlite_store *s,
			      void (*progress)(uint64_t, uint64_t, void *),
			      void *payload)
{
	char sql[64];
	long long mode, start, now, before;
	int rc;

	if ((rc = pragma_int(s, "PRAGMA auto_vacuum", &mode)) < 0 ||
	    (rc = free_bytes(s, &start)) < 0)
		return rc;
	if (mode != 2) /* not INCREMENTAL: only a full VACUUM can */
		return ERIS_OK;
	snprintf(sql, sizeof(sql), "PRAGMA incremental_vacuum(%d)",
		 VACUUM_STEP_PAGES);
	for (now = start; now > 0;) {
		before = now;
		if ((rc = run(s, s->st_begin_write, "cannot start a write")) <
		    0)
			return rc;
		if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
			rc = db_error(s, "cannot give back free pages");
			sqlite3_step(s->st_rollback);
			done(s->st_rollback);
			return rc;
		}
		if ((rc = run(s, s->st_commit, "cannot commit")) < 0) {
			if (!sqlite3_get_autocommit(s->db)) {
				sqlite3_step(s->st_rollback);
				done(s->st_rollback);
			}
			return rc;
		}
		if ((rc = free_bytes(s, &now)) < 0)
			return rc;
		if (progress)
			progress((uint64_t)(start > now ? start - now : 0),
				 (uint64_t)start, payload);
		if (now >= before)
			break;
		/* Let this process's other threads in between steps. */
		pthread_mutex_unlock(&s->lock);
		pthread_mutex_lock(&s->lock);
	}
	return ERIS_OK;
}

static int sq_compact(eris_store_backend *b, unsigned flags,
		      void (*progress)(uint64_t done, uint64_t total,
				       void *payload),
		      void *payload)
{
	sqlite_store *s = (sqlite_store *)b;
	int rc;

	if (s->readonly)
		return readonly_error(s);
	pthread_mutex_lock(&s->lock);
	rc = write_out(s); /* queued removes free pages too */
	if (rc == ERIS_OK)
		rc = flags & ERIS_COMPACT_FULL
			     ? full_vacuum(s, progress, payload)
			     : incremental_vacuum(s, progress, payload);
	if (rc == ERIS_OK)
		rc = checkpoint(s);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

static int sq_space(eris_store_backend *b, eris_store_space_info *out)
{
	sqlite_store *s = (sqlite_store *)b;
	long long mode, bytes = 0;
	off_t db = 0, wal = 0;
	int rc;

	pthread_mutex_lock(&s->lock);
	rc = pragma_int(s, "PRAGMA auto_vacuum", &mode);
	if (rc == ERIS_OK)
		rc = free_bytes(s, &bytes);
	pthread_mutex_unlock(&s->lock);
	if (rc < 0)
		return rc;
	sibling(s->path, "", &db);
	sibling(s->path, "-wal", &wal);
	out->file_bytes = (uint64_t)db + (uint64_t)wal;
	out->free_bytes = (uint64_t)bytes;
	out->incremental = mode == 2;
	return ERIS_OK;
}

/* ---- pins and the gc lock ---------------------------------------------- */

/* Run `sql` with `pin`'s name (and the rest, if `all`) bound; caller
 * holds the lock. SQLITE_DONE or SQLITE_CONSTRAINT come back as they
 * are, anything else as an eris error. */
static int pin_statement(sqlite_store *s, const char *sql, const eris_pin *pin,
			 int all)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return db_error(s, "cannot prepare a pin statement");
	sqlite3_bind_text(st, 1, pin->name, -1, SQLITE_STATIC);
	if (all) {
		sqlite3_bind_text(st, 2, pin->urn, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, (sqlite3_int64)pin->size);
		sqlite3_bind_int64(st, 4, (sqlite3_int64)pin->time);
	}
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE && (rc & 0xff) != SQLITE_CONSTRAINT)
		rc = db_error(s, "cannot write a pin");
	else
		rc = rc & 0xff;
	sqlite3_finalize(st);
	return rc;
}

static int sq_pin_add(eris_store_backend *b, const eris_pin *pin,
		      unsigned flags)
{
	sqlite_store *s = (sqlite_store *)b;
	int rc;

	if (s->readonly)
		return readonly_error(s);
	pthread_mutex_lock(&s->lock);
	/* The blocks first: the pin must not be durable before them. */
	rc = write_out(s);
	if (rc == ERIS_OK)
		rc = pin_statement(s,
				   flags & ERIS_PIN_REPLACE
					   ? "INSERT OR REPLACE INTO pins"
					     "(name, urn, size, time) "
					     "VALUES (?1, ?2, ?3, ?4)"
					   : "INSERT INTO pins(name, urn, size, "
					     "time) VALUES (?1, ?2, ?3, ?4)",
				   pin, 1);
	pthread_mutex_unlock(&s->lock);
	if (rc == SQLITE_CONSTRAINT)
		return eris_error_set(ERIS_EEXIST, "pin '%s' exists",
				      pin->name);
	return rc == SQLITE_DONE ? ERIS_OK : rc;
}

static int sq_pin_remove(eris_store_backend *b, const char *name)
{
	sqlite_store *s = (sqlite_store *)b;
	eris_pin pin = { name, NULL, 0, 0 };
	int rc, changed = 0;

	if (s->readonly)
		return readonly_error(s);
	pthread_mutex_lock(&s->lock);
	rc = pin_statement(s, "DELETE FROM pins WHERE name = ?1", &pin, 0);
	if (rc == SQLITE_DONE) {
		changed = sqlite3_changes(s->db);
		rc = ERIS_OK;
	}
	pthread_mutex_unlock(&s->lock);
	if (rc == ERIS_OK && changed == 0)
		return eris_error_set(ERIS_ENOTFOUND, "no pin named '%s'",
				      name);
	return rc < 0 ? rc : ERIS_OK;
}

typedef struct {
	char *name, *urn;
	uint64_t size;
	int64_t time;
} sq_pin;

static char *column_text(sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	size_t n = t ? strlen((const char *)t) : 0;
	char *copy = malloc(n + 1);

	if (copy) {
		if (n)
			memcpy(copy, t, n);
		copy[n] = '\0';
	}
	return copy;
}

/* Read every pin under the lock, then call back without it. */
static int sq_pin_foreach(eris_store_backend *b,
			  int (*cb)(const eris_pin *pin, void *payload),
			  void *payload)
{
	sqlite_store *s = (sqlite_store *)b;
	sqlite3_stmt *st = NULL;
	sq_pin *pins = NULL;
	size_t n = 0, cap = 0;
	int rc = ERIS_OK;

	pthread_mutex_lock(&s->lock);
	if (!s->has_pins) { /* an older store opened read-only */
		pthread_mutex_unlock(&s->lock);
		return ERIS_OK;
	}
	if (sqlite3_prepare_v2(s->db,
			       "SELECT name, urn, size, time FROM pins", -1,
			       &st, NULL) != SQLITE_OK)
		rc = db_error(s, "cannot list pins");
	while (rc == ERIS_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		rc = ERIS_OK;
		if (n == cap) {
			size_t c = cap ? cap * 2 : 16;
			sq_pin *v = realloc(pins, c * sizeof(*v));

			if (v == NULL) {
				rc = eris_error_set(ERIS_ENOMEM,
						    "out of memory");
				break;
			}
			pins = v;
			cap = c;
		}
		pins[n].name = column_text(st, 0);
		pins[n].urn = column_text(st, 1);
		pins[n].size = (uint64_t)sqlite3_column_int64(st, 2);
		pins[n].time = (int64_t)sqlite3_column_int64(st, 3);
		n++;
		if (pins[n - 1].name == NULL || pins[n - 1].urn == NULL)
			rc = eris_error_set(ERIS_ENOMEM, "out of memory");
	}
	if (rc == SQLITE_DONE)
		rc = ERIS_OK;
	else if (rc > 0)
		rc = db_error(s, "cannot list pins");
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->lock);
	for (size_t i = 0; i < n && rc == ERIS_OK; i++) {
		eris_pin p = { pins[i].name, pins[i].urn, pins[i].size,
			       pins[i].time };

		rc = cb(&p, payload);
	}
	for (size_t i = 0; i < n; i++) {
		free(pins[i].name);
		free(pins[i].urn);
	}
	free(pins);
	return rc;
}

/* flock() on the database's directory, opened anew so that two handles
 * of one process exclude each other too. */
static int sq_lock(eris_store_backend *b, int mode)
{
	sqlite_store *s = (sqlite_store *)b;
	const char *slash = strrchr(s->path, '/');
	char dir[4200];
	int rc;

	if (mode == 0) {
		if (s->lock_fd >= 0)
			close(s->lock_fd); /* releases the flock */
		s->lock_fd = -1;
		return ERIS_OK;
	}
	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == s->path)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - s->path),
			 s->path);
	s->lock_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->lock_fd < 0)
		return eris_error_set(ERIS_ERROR, "sqlite store %s: cannot "
						  "open %s: %s",
				      s->path, dir, strerror(errno));
	do
		rc = flock(s->lock_fd,
			   mode == ERIS_LOCK_EXCLUSIVE ? LOCK_EX : LOCK_SH);
	while (rc < 0 && errno == EINTR);
	if (rc < 0) {
		rc = eris_error_set(ERIS_ERROR,
				    "sqlite store %s: cannot lock %s: %s",
				    s->path, dir, strerror(errno));
		close(s->lock_fd);
		s->lock_fd = -1;
	}
	return rc < 0 ? rc : ERIS_OK;
}

static void sq_free(eris_store_backend *b)
{
	sqlite_store *s = (sqlite_store *)b;
	sqlite3_stmt **stmts[] = {
		&s->st_get, &s->st_has, &s->st_ins,
		&s->st_del, &s->st_list, &s->st_begin_write,
		&s->st_begin_read, &s->st_commit, &s->st_rollback,
	};

	if (s->db && s->st_commit)
		write_out(s); /* nobody to tell if it fails: flush first */
	if (s->lock_fd >= 0)
		close(s->lock_fd);
	for (size_t i = 0; i < sizeof(stmts) / sizeof(stmts[0]); i++)
		sqlite3_finalize(*stmts[i]);
	sqlite3_close_v2(s->db); /* checkpoints the WAL when last */
	free(s->arena);
	free(s->path);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

/* ---- opening ------------------------------------------------------------ */

/* mkdir -p of the directory part of `path`. */
static int make_parent_dirs(const char *path)
{
	char buf[4096];
	size_t n = strlen(path);
	char *slash;

	if (n >= sizeof(buf)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(buf, path, n + 1);
	slash = strrchr(buf, '/');
	if (slash == NULL || slash == buf)
		return 0;
	*slash = '\0';
	for (char *p = buf + 1;; p++) {
		char c = *p;

		if (c != '/' && c != '\0')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return -1;
		*p = c;
		if (c == '\0')
			return 0;
	}
}

/* An opening failure: ERIS_ESTORE with the connection's message. */
static int open_error(const sqlite_store *s, const char *what)
{
	int code = sqlite3_errcode(s->db);

	if (code == SQLITE_NOTADB)
		return eris_error_set(ERIS_ESTORE,
				      "cannot open sqlite store %s: not an "
				      "sqlite database",
				      s->path);
	return eris_error_set(code == SQLITE_NOMEM ? ERIS_ENOMEM : ERIS_ESTORE,
			      "cannot open sqlite store %s: %s: %s", s->path,
			      what, sqlite3_errmsg(s->db));
}

static int exec(sqlite_store *s, const char *sql)
{
	if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return open_error(s, sql);
	return ERIS_OK;
}

/* int_result while opening: failures name the store's path. */
static int query_int(sqlite_store *s, const char *sql, long long *out)
{
	return int_result(s, sql, out, open_error);
}

/* Read the identity of the database; ERIS_OK with *fresh = 1 if it is
 * an empty database (no eris identity and no tables). */
static int check_identity(sqlite_store *s, int *fresh)
{
	long long app, version, tables;
	int rc;

	*fresh = 0;
	if ((rc = query_int(s, "PRAGMA application_id", &app)) < 0 ||
	    (rc = query_int(s, "PRAGMA user_version", &version)) < 0)
		return rc;
	if (app == APPLICATION_ID) {
		if (version == SCHEMA_VERSION)
			return ERIS_OK;
		return eris_error_set(ERIS_ESTORE,
				      "cannot open sqlite store %s: its schema "
				      "version is %lld, this liberis knows "
				      "version %d only (written by a newer "
				      "eris?)",
				      s->path, version, SCHEMA_VERSION);
	}
	if (app != 0)
		return eris_error_set(ERIS_ESTORE,
				      "cannot open sqlite store %s: an sqlite "
				      "database of another application "
				      "(application_id 0x%08llx), not an "
				      "eris store",
				      s->path,
				      (unsigned long long)app & 0xffffffffu);
	if ((rc = query_int(s, "SELECT count(*) FROM sqlite_master",
			    &tables)) < 0)
		return rc;
	if (tables > 0 || version != 0)
		return eris_error_set(ERIS_ESTORE,
				      "cannot open sqlite store %s: an sqlite "
				      "database, but not an eris store",
				      s->path);
	*fresh = 1;
	return ERIS_OK;
}

/* Give a fresh database the eris schema. Another process may be doing the
 * same: the identity is checked again inside the write transaction. */
static int initialise(sqlite_store *s)
{
	char sql[128];
	int rc, fresh;

	/* The page size and auto_vacuum must be set before WAL mode first
	 * writes the header (auto_vacuum before the first table at the
	 * latest); all are ignored if someone else got there first. */
	snprintf(sql, sizeof(sql), "PRAGMA page_size=%d", PAGE_SIZE);
	if ((rc = exec(s, sql)) < 0 ||
	    (rc = exec(s, "PRAGMA auto_vacuum=INCREMENTAL")) < 0 ||
	    (rc = exec(s, "PRAGMA journal_mode=WAL")) < 0 ||
	    (rc = exec(s, "BEGIN IMMEDIATE")) < 0)
		return rc;
	rc = check_identity(s, &fresh);
	if (rc == ERIS_OK && fresh) {
		snprintf(sql, sizeof(sql),
			 "PRAGMA application_id=%d; PRAGMA user_version=%d",
			 APPLICATION_ID, SCHEMA_VERSION);
		if ((rc = exec(s, schema_sql)) == ERIS_OK)
			rc = exec(s, sql);
	}
	if (rc == ERIS_OK)
		rc = exec(s, "COMMIT");
	if (rc < 0 && !sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

static int prepare(sqlite_store *s, sqlite3_stmt **st, const char *sql)
{
	if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st,
			       NULL) != SQLITE_OK)
		return open_error(s, sql);
	return ERIS_OK;
}

/* Whether `path` with `suffix` exists; its size in *size. */
static int sibling(const char *path, const char *suffix, off_t *size)
{
	char buf[4200];
	struct stat st;

	snprintf(buf, sizeof(buf), "%s%s", path, suffix);
	if (stat(buf, &st) < 0)
		return 0;
	*size = st.st_size;
	return 1;
}

/*
 * How to open an existing database this process cannot write (a user
 * reading someone else's store, a read-only mount): read-only, and
 * without the writes a read-write open or WAL recovery would attempt.
 * A WAL reader needs the -shm file; when the directory is not writable
 * and there is none, the database is opened immutable=1 (no locks, no
 * -shm), which is right only while no write-ahead log holds commits:
 * with a non-empty -wal and no -shm it cannot be read safely and is
 * refused. Writes then fail with ERIS_EREADONLY.
 *
 * Returns 0 (open read-write), 1 (read-only), 2 (read-only immutable),
 * or a negative code.
 */
static int read_only_mode(sqlite_store *s)
{
	char dir[4200];
	const char *slash = strrchr(s->path, '/');
	off_t wal = 0, shm = 0;
	int db_w, dir_w;

	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == s->path)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - s->path),
			 s->path);
	if (access(s->path, F_OK) < 0)
		return 0; /* to be created: a read-write open reports it */
	db_w = access(s->path, W_OK) == 0;
	dir_w = access(dir, W_OK) == 0;
	if (db_w && dir_w) {
		if (!s->open_readonly)
			return 0;
		s->readonly = "it was opened read-only";
		return 1;
	}
	s->readonly = db_w ? "its directory is not writable"
			   : "the database is not writable";
	if (dir_w || sibling(s->path, "-shm", &shm))
		return 1;
	if (sibling(s->path, "-wal", &wal) && wal > 0)
		return eris_error_set(ERIS_ESTORE,
				      "cannot open sqlite store %s read-only: "
				      "its write-ahead log holds commits but "
				      "there is no -shm file and the directory "
				      "is not writable (open it once with "
				      "write access to checkpoint it)",
				      s->path);
	return 2;
}

/* "file:PATH?mode=ro&immutable=1" with the URI's special characters of
 * PATH percent-encoded. */
static int immutable_uri(char *out, size_t size, const char *path)
{
	size_t o = 0;

	o += (size_t)snprintf(out, size, "file:");
	for (const char *p = path; *p; p++) {
		if (o + 4 >= size)
			return -1;
		if (*p == '%' || *p == '?' || *p == '#')
			o += (size_t)snprintf(out + o, size - o, "%%%02X",
					      (unsigned char)*p);
		else
			out[o++] = *p;
	}
	if (o + 32 >= size)
		return -1;
	snprintf(out + o, size - o, "?mode=ro&immutable=1");
	return 0;
}

static int open_db(sqlite_store *s, int create)
{
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX |
		    (create ? SQLITE_OPEN_CREATE : 0);
	int rc, fresh, mode = read_only_mode(s);
	long long tables;
	char uri[4300];
	const char *name = s->path;

	if (mode < 0)
		return mode;
	if (mode > 0)
		flags = SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX;
	if (mode == 2) {
		if (immutable_uri(uri, sizeof(uri), s->path) < 0)
			return eris_error_set(ERIS_ESTORE,
					      "sqlite store path too long");
		flags |= SQLITE_OPEN_URI;
		name = uri;
	}
	if (sqlite3_open_v2(name, &s->db, flags, NULL) != SQLITE_OK)
		return s->db ? open_error(s, "open")
			     : eris_error_set(ERIS_ENOMEM, "out of memory");
	sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);
	if ((rc = check_identity(s, &fresh)) < 0)
		return rc;
	if (fresh && s->readonly)
		return eris_error_set(ERIS_ESTORE,
				      "cannot open sqlite store %s: an empty "
				      "database, not an eris store (and %s)",
				      s->path, s->readonly);
	if (fresh) {
		if (!create)
			return eris_error_set(ERIS_ESTORE,
					      "cannot open sqlite store %s: "
					      "an empty database, not an "
					      "eris store",
					      s->path);
		if ((rc = initialise(s)) < 0)
			return rc;
	}
	/* An 8 MiB cache: a put fills it with the pages it writes, and at
	 * 64 MiB they were two thirds of `eris put`'s memory (PERFORMANCE.md,
	 * "eris put against eris sum"). */
	if ((rc = exec(s, "PRAGMA synchronous=FULL")) < 0 ||
	    (rc = exec(s, "PRAGMA cache_size=-8192")) < 0)
		return rc;
	/* Stores made before pins existed gain the table (only writers can
	 * add it; a reader of such a store sees no pins). */
	if ((rc = query_int(s,
			    "SELECT count(*) FROM sqlite_master WHERE "
			    "type = 'table' AND name = 'pins'",
			    &tables)) < 0)
		return rc;
	if (tables == 0 && !s->readonly) {
		if ((rc = exec(s, pins_sql)) < 0)
			return rc;
		tables = 1;
	}
	s->has_pins = tables > 0;
	if ((rc = prepare(s, &s->st_get,
			  "SELECT data FROM blocks WHERE ref = ?1")) < 0 ||
	    (rc = prepare(s, &s->st_has,
			  "SELECT 1 FROM blocks WHERE ref = ?1")) < 0 ||
	    (rc = prepare(s, &s->st_ins,
			  "INSERT OR IGNORE INTO blocks(ref, data) "
			  "VALUES (?1, ?2)")) < 0 ||
	    (rc = prepare(s, &s->st_del,
			  "DELETE FROM blocks WHERE ref = ?1")) < 0 ||
	    (rc = prepare(s, &s->st_list,
			  "SELECT id, ref, length(data) FROM blocks "
			  "WHERE id > ?1 ORDER BY id LIMIT ?2")) < 0 ||
	    (rc = prepare(s, &s->st_begin_write, "BEGIN IMMEDIATE")) < 0 ||
	    (rc = prepare(s, &s->st_begin_read, "BEGIN")) < 0 ||
	    (rc = prepare(s, &s->st_commit, "COMMIT")) < 0 ||
	    (rc = prepare(s, &s->st_rollback, "ROLLBACK")) < 0)
		return rc;
	return ERIS_OK;
}

static int sqlite_open(eris_store **out, const char *path, unsigned flags)
{
	int create = (flags & ERIS_STORE_CREATE) != 0;
	sqlite_store *s;
	struct stat st;
	size_t n;
	int rc;

	*out = NULL;
	if (path == NULL || path[0] == '\0')
		return eris_error_set(ERIS_ESTORE, "empty sqlite store path");
	if (stat(path, &st) == 0) {
		if (S_ISDIR(st.st_mode))
			return eris_error_set(ERIS_ESTORE,
					      "cannot open sqlite store %s: "
					      "it is a directory (a directory "
					      "store is dir:%s)",
					      path, path);
	} else if (errno != ENOENT || !create) {
		return eris_error_set(ERIS_ESTORE,
				      "cannot open sqlite store %s: %s", path,
				      strerror(errno));
	} else if (make_parent_dirs(path) < 0) {
		return eris_error_set(ERIS_ESTORE,
				      "cannot create the directory of sqlite "
				      "store %s: %s",
				      path, strerror(errno));
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return eris_error_set(ERIS_ENOMEM, "out of memory");
	n = strlen(path);
	s->path = malloc(n + 1);
	if (s->path == NULL) {
		free(s);
		return eris_error_set(ERIS_ENOMEM, "out of memory");
	}
	memcpy(s->path, path, n + 1);
	s->open_readonly = (flags & ERIS_STORE_READONLY) != 0;
	s->lock_fd = -1;
	pthread_mutex_init(&s->lock, NULL);
	if ((rc = open_db(s, create)) < 0) {
		sq_free(&s->parent);
		return rc;
	}
	s->parent.version = ERIS_STORE_BACKEND_VERSION;
	s->parent.get = sq_get;
	s->parent.put = sq_put;
	s->parent.has = sq_has;
	s->parent.get_many = sq_get_many;
	s->parent.flush = sq_flush;
	s->parent.free = sq_free;
	s->parent.foreach = sq_foreach;
	s->parent.remove = sq_remove;
	s->parent.compact = sq_compact;
	s->parent.space = sq_space;
	s->parent.pin_add = sq_pin_add;
	s->parent.pin_remove = sq_pin_remove;
	s->parent.pin_foreach = sq_pin_foreach;
	s->parent.lock = sq_lock;
	return eris_store_new_from_backend(out, &s->parent);
}

static int module_open(eris_store **out, const eris_module_request *r)
{
	return sqlite_open(out, r->arg, r->opts->flags);
}

ERIS_MODULE_EXPORT const eris_module eris_module_sqlite = {
	ERIS_MODULE_ABI, "sqlite", module_open, NULL
};
