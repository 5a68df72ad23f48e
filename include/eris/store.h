/*
 * eris/store.h - block stores.
 *
 * A store maps a 32-byte reference to an encrypted block of 1024 or 32768
 * bytes. Stores are opened from a specification string:
 *
 *   mem:          an in-memory store, empty, gone when freed
 *   dir:PATH      a directory store: PATH/XX/REF (see below)
 *   PATH          a bare path is a directory store
 *   sqlite:PATH   an sqlite3 database (the embedded default)
 *   cbor:FILE     a CBOR block bundle, read-only, indexed on open
 *   http://HOST[:PORT][/PREFIX], https://...
 *                 an "ERIS over HTTP" server (GET/HEAD/PUT on
 *                 PREFIX/uri-res/N2R?urn:blake2b:REF); see
 *                 eris_store_new_http()
 *   coap://HOST[:PORT][/PATH], coap+tcp://HOST[:PORT][/PATH]
 *                 an "ERIS over CoAP" server over UDP or TCP (GET/PUT on
 *                 PATH/blocks, default .well-known/eris/blocks, port
 *                 5683); see eris_store_new_coap()
 *   s3://BUCKET[/PREFIX][?endpoint=URL&region=R&tries=N&backoff=MS]
 *                 an S3 bucket: each block is the object PREFIX/REF,
 *                 reached path-style at ENDPOINT/BUCKET/PREFIX/REF and
 *                 signed with AWS SigV4 (the s3_* options below; the
 *                 specification's endpoint= and region= win). GET/HEAD/
 *                 PUT/DELETE, ListObjectsV2 for foreach; 401/403 are
 *                 ERIS_EREADONLY for put and remove, ERIS_ERROR
 *                 ("access denied") otherwise; 5xx, timeouts and
 *                 dropped connections are tried tries= times in all
 *                 (default 3, at most 10), after backoff= ms (default
 *                 100), doubled each time. No credential is ever
 *                 printed.
 *   rados:POOL[?conf=PATH&id=CLIENT&namespace=NS&timeout=SECONDS]
 *                 a pool of a Ceph cluster, through librados (see
 *                 below)
 *   cache:LOCAL,REMOTE
 *                 read-through cache: reads try LOCAL, then REMOTE; a
 *                 block found in REMOTE is verified and copied to LOCAL;
 *                 puts go to LOCAL and then REMOTE
 *   fallback:S1,S2[,...]
 *                 reads try each store in turn; puts go to S1
 *   Inside cache: and fallback:, members are separated by ',' and a
 *   literal ',' in a member is written '\,'.
 *
 * Directory layout (fixed; other tools rely on it): each block lives in
 * PATH/XX/REF where REF is the 52-character upper-case base32 of its
 * reference and XX the first two characters of REF. A file holds exactly
 * the encrypted block. Writes go to a temporary file that is renamed into
 * place; a block that exists already is not rewritten.
 *
 * sqlite store: one database file (with its -wal and -shm files beside
 * it) holding table blocks(id, ref UNIQUE, data), schema version 1
 * (application_id "ERIS", user_version 1; other versions are refused with
 * ERIS_ESTORE), WAL mode. A database this process cannot write (its
 * file or directory not writable, a read-only mount) is opened read-only,
 * without writing anything (immutable=1 when the directory is not
 * writable and there is no -shm file; refused if a write-ahead log still
 * holds commits then); put and remove return ERIS_EREADONLY. Many
 * processes may read while one writes;
 * readers never wait, writers wait up to 10 s for each other. Puts and
 * removes are queued and committed in batches (1024 operations, 4 MiB of
 * blocks, 1 s, or a flush). Durability: a put is *acknowledged* when a
 * later eris_store_flush() of the same store returns ERIS_OK; it then
 * survives kill -9 of the writer and, since commits are fsync'd
 * (synchronous=FULL), an OS crash or power loss. A put that returned
 * ERIS_OK but was not flushed may be lost in a crash; eris_store_free()
 * commits the queue but cannot report a failure.
 *
 * rados store: one RADOS object per block in pool POOL (and namespace
 * NS, if given), named by the block's 52-character base32 reference and
 * holding exactly the block. conf= names the cluster's configuration
 * file (default: where Ceph's tools look: $CEPH_CONF, /etc/ceph/ceph.conf,
 * ...), id= the client (default client.admin; "admin" means the same),
 * whose key comes from the keyring the configuration names. A put is one
 * atomic exclusive create: a block already there is success and is not
 * rewritten. A write acknowledged by the cluster is on as many replicas
 * as the pool requires, so flush has nothing to do. A get is one plain
 * read (of one byte more than the buffer, to tell an object too large);
 * get_many keeps 16 asynchronous reads in flight; foreach lists the namespace and skips
 * objects whose names are not references. Connecting and every monitor
 * or OSD operation give up after timeout= seconds (default 15), so a
 * cluster that is down or unhealthy gives ERIS_ESTORE with librados's
 * reason ("Connection timed out") instead of a hang; so does a missing
 * pool, named. Values are taken literally (no '&' in them).
 *
 * Blocks never change, so put is idempotent. eris_store_put() hashes
 * every block it is given and eris_store_get() every block it returns:
 * the store API is the one place blocks are verified, a store is never
 * trusted, and a back end never hashes again what it is handed.
 *
 * Threads: the built-in stores (mem, dir, sqlite, http, coap, rados) may
 * be used from several threads at once (sqlite, http and coap serialize
 * calls with one mutex; rados runs them concurrently). A store from
 * another back end is as thread-safe as that back end.
 *
 * Modules. sqlite:, cbor:, http://, https://, coap://, coap+tcp://,
 * s3:// and rados: need third-party libraries, so their back ends are
 * modules: in the shared library, store-NAME.so files loaded from LIBDIR/eris/modules
 * (the directory beside liberis.so) or from the directories given with
 * eris_configure(); in the static library, the modules chosen at build
 * time are linked in. A scheme whose module is missing fails with
 * ERIS_ENOTSUP and a message saying what provides it.
 *
 * Backend writers: see eris/sys/store_backend.h.
 */
#ifndef ERIS_STORE_H
#define ERIS_STORE_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** An open block store (opaque). */
typedef struct eris_store eris_store;

/** Flags of eris_store_open(). */
enum {
	/** Create a missing directory store, or a missing sqlite database
	 * and its parent directories (otherwise they are ERIS_ESTORE). */
	ERIS_STORE_CREATE = 1u << 0,
	/** Never write: put and remove fail with ERIS_EREADONLY, whatever
	 * the back end could do. An sqlite database is opened read-only. */
	ERIS_STORE_READONLY = 1u << 1
};

/** Options of eris_store_open_opts(). Initialise with
 * ERIS_STORE_OPTIONS_INIT. */
typedef struct eris_store_options {
	unsigned version; /**< ERIS_STORE_OPTIONS_VERSION */
	unsigned flags;   /**< ERIS_STORE_CREATE, ERIS_STORE_READONLY */
	/** http:// and https:// stores: every request carries
	 * "Authorization: Bearer TOKEN"; NULL or "" for none. Copied. */
	const char *bearer_token;
	/* Version 2. A version 1 struct ends here; liberis then treats the
	 * fields below as NULL. */
	/** s3:// stores: the access key id and the secret access key that
	 * sign every request (AWS Signature Version 4). Both or neither
	 * (NULL or "": unsigned, anonymous requests). Copied; never printed. */
	const char *s3_access_key;
	const char *s3_secret_key;
	/** s3:// stores: the region in the signature; NULL or "" for
	 * "us-east-1". A "region=" in the specification overrides it. */
	const char *s3_region;
	/** s3:// stores: the endpoint, http[s]://HOST[:PORT]; NULL or "" for
	 * https://s3.REGION.amazonaws.com. An "endpoint=" in the specification
	 * overrides it. */
	const char *s3_endpoint;
} eris_store_options;

#define ERIS_STORE_OPTIONS_VERSION 2
#define ERIS_STORE_OPTIONS_INIT                                            \
	{ ERIS_STORE_OPTIONS_VERSION, 0, NULL, NULL, NULL, NULL, NULL }

/**
 * Open a store from its specification (see above) with `flags`
 * (ERIS_STORE_CREATE, ERIS_STORE_READONLY; 0 for none). The scheme is
 * looked up in liberis's table of back ends; a back end that needs a
 * third-party library is a module (sqlite:, cbor:, http://, https://,
 * coap://, coap+tcp://, rados:), loaded the first time it is used.
 *
 * @param out   receives the store; free with eris_store_free()
 * @return ERIS_OK; ERIS_ESTORE (bad or unknown specification, cannot
 *         open); ERIS_ENOTSUP (the scheme's module was not built or is
 *         not installed: the message names the module file, the build
 *         option and the package); ERIS_ENOMEM
 */
ERIS_EXTERN int eris_store_open(eris_store **out, const char *spec,
				unsigned flags);

/**
 * eris_store_open() with options (flags and per-back-end settings).
 * `opts` may be NULL for the defaults.
 * `opts->version` may be 1 (up to bearer_token) or 2 (the s3 fields).
 * @return as eris_store_open(); ERIS_EINVAL for an unknown options
 *         version or unknown flags
 */
ERIS_EXTERN int eris_store_open_opts(eris_store **out, const char *spec,
				     const eris_store_options *opts);

/**
 * Check that `block` is a valid block stored under `ref`: 1024 or 32768
 * bytes that hash (BLAKE2b-256) to `ref`.
 * @return ERIS_OK, ERIS_EBLOCKSIZE, ERIS_EMISMATCH or ERIS_EINVAL (NULL)
 */
ERIS_EXTERN int eris_block_verify(const uint8_t ref[ERIS_REF_BYTES],
				  const uint8_t *block, size_t len);

/** Create an empty in-memory store. */
ERIS_EXTERN int eris_store_new_mem(eris_store **out);

/** Open a directory store rooted at `path` (created when `create`). */
ERIS_EXTERN int eris_store_new_dir(eris_store **out, const char *path,
				   int create);

/**
 * Fetch a block and check that it hashes to `ref`.
 *
 * @param buf       receives the block; `buf_size` bytes available
 * @param out_len   receives the block's length
 * @return ERIS_OK; ERIS_ENOTFOUND if absent; ERIS_EMISMATCH if the stored
 *         bytes do not hash to `ref`; ERIS_EBLOCKSIZE if the block is not
 *         1024/32768 bytes or does not fit; ERIS_ERROR on I/O failure.
 */
ERIS_EXTERN int eris_store_get(eris_store *store,
			       const uint8_t ref[ERIS_REF_BYTES], uint8_t *buf,
			       size_t buf_size, size_t *out_len);

/**
 * eris_store_get() for `n` blocks at once (at most 64): the back end's
 * batched read where it has one, and blocks of the same size hashed
 * together (8 or 4 at a time where the CPU has AVX-512 or AVX2).
 * `bufs[i]` (`buf_size` bytes each) receives block i and `results[i]`
 * what eris_store_get() would have returned for it, with the same checks;
 * eris_error_last() describes only one of the failures, if any.
 * @return ERIS_OK once every results[i] is set, or ERIS_EINVAL
 */
ERIS_EXTERN int eris_store_get_many(eris_store *store, size_t n,
				    const uint8_t (*refs)[ERIS_REF_BYTES],
				    uint8_t *const *bufs, size_t buf_size,
				    size_t *out_lens, int *results);

/**
 * eris_store_get_many() without waiting: only the blocks the store can
 * hand over at once (a dir store's files whose names and bytes are in
 * the kernel's caches), verified the same way. Every other block gets
 * results[i] = ERIS_EAGAIN, as does every block of a store that cannot
 * tell (all but dir:, and cache: through its local store);
 * eris_store_get() then reads it, and reports
 * any failure this call only saw as ERIS_EAGAIN. For event loops, which
 * must not wait for a disk: erisd answers cache misses this way on its
 * network threads.
 * @return ERIS_OK once every results[i] is set, or ERIS_EINVAL
 */
ERIS_EXTERN int eris_store_try_get_many(eris_store *store, size_t n,
					const uint8_t (*refs)[ERIS_REF_BYTES],
					uint8_t *const *bufs, size_t buf_size,
					size_t *out_lens, int *results);

/**
 * Store a block under `ref`. The block must be 1024 or 32768 bytes and
 * hash to `ref` (checked: ERIS_EMISMATCH otherwise, nothing stored).
 */
ERIS_EXTERN int eris_store_put(eris_store *store,
			       const uint8_t ref[ERIS_REF_BYTES],
			       const uint8_t *block, size_t len);

/** 1 if the store holds `ref`, 0 if not, a negative code on failure. */
ERIS_EXTERN int eris_store_has(eris_store *store,
			       const uint8_t ref[ERIS_REF_BYTES]);

/**
 * Open an sqlite3 store at `path` (created, with its directories, when
 * `create`). See the sqlite store above.
 * @return ERIS_OK; ERIS_ESTORE if it is missing (and not `create`), not
 *         an sqlite database, not an eris store, of an unknown schema
 *         version, or cannot be opened; ERIS_ENOMEM
 */
ERIS_EXTERN int eris_store_new_sqlite(eris_store **out, const char *path,
				      int create);

/**
 * Open a CBOR block bundle read-only (indexed, not loaded whole; see
 * eris/bundle.h). put and remove return ERIS_EREADONLY.
 * @return ERIS_OK, ERIS_ESTORE (cannot be read, or not a valid bundle:
 *         the message gives the byte offset) or ERIS_ENOMEM
 */
ERIS_EXTERN int eris_store_new_cbor(eris_store **out, const char *path);

/**
 * Open an HTTP client store on `url`, http://HOST[:PORT][/PREFIX] or
 * https://..., speaking "ERIS over HTTP": blocks are fetched with
 * GET PREFIX/uri-res/N2R?urn:blake2b:REF (200 = the block, 404 = not
 * found), tested with HEAD and stored with PUT (body = the block,
 * Content-Type application/octet-stream; 200/201/204 = stored). No
 * request is made on open. The server is not trusted: every block is
 * verified like any store's.
 *
 * Errors: a transport failure or an unexpected status is ERIS_ERROR with
 * the URL and the status or cause in the message; a body larger than the
 * buffer or 32768 bytes is ERIS_EBLOCKSIZE; a PUT answered 401, 403 or
 * 405 is ERIS_EREADONLY ("write refused"). foreach and remove are
 * ERIS_ENOTSUP; flush does nothing (each PUT is acknowledged).
 *
 * Opened through eris_store_open_opts() with a bearer_token, every
 * request carries "Authorization: Bearer TOKEN" (the eris program takes
 * it from $ERIS_HTTP_TOKEN).
 * Credentials in the URL are refused. Timeouts: 10 s to connect, 60 s
 * per transfer. get_many runs up to 16 transfers in parallel over
 * kept-alive connections. Thread-safe: requests are serialized.
 * @return ERIS_OK, ERIS_ESTORE (not a usable URL), ERIS_ERROR (libcurl
 *         cannot start) or ERIS_ENOMEM
 */
ERIS_EXTERN int eris_store_new_http(eris_store **out, const char *url);

/**
 * Open a CoAP client store on `url`, coap://HOST[:PORT][/PATH] (CoAP over
 * UDP, RFC 7252) or coap+tcp://HOST[:PORT][/PATH] (CoAP over TCP, RFC
 * 8323), speaking "ERIS over CoAP". HOST may be a name, an IPv4 address
 * or [IPv6]; PORT defaults to 5683. Blocks live at PATH/blocks, or at
 * .well-known/eris/blocks when there is no PATH. A block is fetched with
 * GET and the 52-character base32 reference as the Uri-Query option
 * (2.05 = the block, 4.04 = not found); has is the same GET; put sends
 * PUT with the block as payload, which the server hashes (2.01/2.04 =
 * stored). Blocks of 32 KiB travel block-wise (RFC 7959) where needed.
 * HOST is resolved on open; no request is made then. The server is not
 * trusted: every block is verified like any store's.
 *
 * Errors: no response within 10 s (per request, retransmissions and
 * block-wise transfer included), a reset, a failed connection or an
 * unexpected code is ERIS_ERROR with the URL and the code or cause in the
 * message; a body larger than the buffer or 32768 bytes is
 * ERIS_EBLOCKSIZE; a PUT answered 4.01, 4.03 or 4.05 is ERIS_EREADONLY
 * ("write refused"). foreach and remove are ERIS_ENOTSUP; flush does
 * nothing (each PUT is acknowledged). get_many keeps up to 8 requests in
 * flight on one reused session. No DTLS (coaps://). Thread-safe:
 * requests are serialized.
 * @return ERIS_OK, ERIS_ESTORE (not a usable URL, or HOST cannot be
 *         resolved), ERIS_ERROR (libcoap cannot start) or ERIS_ENOMEM
 */
ERIS_EXTERN int eris_store_new_coap(eris_store **out, const char *url);

/**
 * A read-through cache of `remote` in `local`. Takes ownership of both
 * (freed with the cache, or at once on failure).
 *
 * get reads `local`; only a block `local` lacks is read from `remote`,
 * verified, copied into `local` (a failure to copy is ignored) and
 * returned; a corrupt remote block is not cached (ERIS_EMISMATCH). put
 * goes to `local`, then `remote`. has asks both. foreach and remove
 * concern `local` only (remove evicts; the next get fetches it again).
 * flush flushes both.
 * @return ERIS_OK, ERIS_EINVAL (a NULL store) or ERIS_ENOMEM
 */
ERIS_EXTERN int eris_store_new_cache(eris_store **out, eris_store *local,
				     eris_store *remote);

/**
 * A fallback list: reads try stores[0], stores[1], ... in turn; puts go to
 * stores[0]. Takes ownership of the `n` stores (freed with the list, or at
 * once on failure); the array itself is copied.
 *
 * get returns the first good copy: a store that lacks the block, holds a
 * corrupt copy or fails is passed over; if none succeeds the result is
 * ERIS_ENOTFOUND when every store lacks it, else the last other error.
 * has asks every store. foreach lists the union, each block once
 * (ERIS_ENOTSUP if a store cannot list). remove and flush act on every
 * store.
 * @return ERIS_OK, ERIS_EINVAL (n is 0 or a store is NULL) or ERIS_ENOMEM
 */
ERIS_EXTERN int eris_store_new_fallback(eris_store **out, eris_store **stores,
					size_t n);

/**
 * Call `cb` once for every block the store holds (reference and length),
 * in no particular order, without reading the blocks. A non-zero return
 * from `cb` stops the listing and is returned.
 * @return ERIS_OK, cb's value, ERIS_ENOTSUP if the store cannot list.
 */
ERIS_EXTERN int eris_store_foreach(eris_store *store,
				   int (*cb)(const uint8_t ref[ERIS_REF_BYTES],
					     size_t len, void *payload),
				   void *payload);

/**
 * Delete a block (absent is fine). For garbage collection and fsck only:
 * content whose blocks are removed can no longer be decoded.
 * @return ERIS_OK, ERIS_ENOTSUP, ERIS_EREADONLY or a store error.
 */
ERIS_EXTERN int eris_store_remove(eris_store *store,
				  const uint8_t ref[ERIS_REF_BYTES]);

/**
 * Make every put so far durable (directory stores fsync; sqlite stores
 * commit their queue). ERIS_OK acknowledges every put made before it.
 */
ERIS_EXTERN int eris_store_flush(eris_store *store);

/** The disk space of a store (eris_store_space()). */
typedef struct eris_store_space_info {
	/** Bytes of the store's files as the file system counts their
	 * sizes (sqlite: the database and its write-ahead log). */
	uint64_t file_bytes;
	/** Of those, bytes no block uses (the space of deleted blocks)
	 * that eris_store_compact() can give back (sqlite: free pages). */
	uint64_t free_bytes;
	/** 1 if eris_store_compact() without ERIS_COMPACT_FULL gives the
	 * free bytes back; 0 if only ERIS_COMPACT_FULL can (an sqlite
	 * store created before this version, without incremental
	 * auto-vacuum). */
	int incremental;
} eris_store_space_info;

/** Flags of eris_store_compact(). */
enum {
	/** Rebuild the whole store instead of giving back free space in
	 * steps: slower, blocks other writers while it runs, needs free
	 * disk space of up to twice the store's size, and also converts
	 * an sqlite store made before incremental compaction existed. */
	ERIS_COMPACT_FULL = 1u << 0,
};

/**
 * Give the space of deleted blocks back to the file system.
 *
 * Without ERIS_COMPACT_FULL, the free space is returned in short steps
 * (sqlite: PRAGMA incremental_vacuum of a bounded number of pages per
 * write transaction), so readers never wait and another writer waits for
 * one step at most; on a store that cannot do it (sqlite made without
 * incremental auto-vacuum, see eris_store_space_info.incremental) this
 * returns ERIS_OK having given nothing back. With ERIS_COMPACT_FULL the
 * store is rewritten whole (sqlite: VACUUM). Either way the write-ahead
 * log is checkpointed and truncated if no reader holds it, so the file
 * sizes shrink before the call returns.
 *
 * `progress`, if not NULL, is called now and then with the bytes given
 * back so far and the bytes free at the start; during a full rebuild,
 * which cannot tell how far it got, with done = total = 0.
 *
 * A directory store gives space back as soon as a block's file is
 * deleted: it has nothing to compact and returns ERIS_OK at once.
 * @return ERIS_OK, ERIS_ENOTSUP (the store cannot be compacted: mem, http,
 *         coap, s3, rados, cbor, cache and fallback stores),
 *         ERIS_EREADONLY or a store error
 */
ERIS_EXTERN int eris_store_compact(eris_store *store, unsigned flags,
				   void (*progress)(uint64_t done,
						    uint64_t total,
						    void *payload),
				   void *payload);

/**
 * How much disk space the store takes and how much of it is free.
 * @return ERIS_OK or ERIS_ENOTSUP (only sqlite stores know), or a store
 *         error
 */
ERIS_EXTERN int eris_store_space(eris_store *store,
				 eris_store_space_info *out);

/* ---- Pins ------------------------------------------------------------ */

/**
 * A pin: a named root of the store. `eris store gc` keeps the blocks of
 * every pinned content (and, for an ERIS-FS index, of every file it
 * names) and deletes the rest.
 *
 * Where pins live: in an sqlite store the table pins(name PRIMARY KEY,
 * urn, size, time), created in an existing store the first time it is
 * opened for writing; in a directory store the file PATH/pins/NAME, one
 * per pin, holding three lines: the URN, the size and the time, written
 * to a temporary file in PATH that is synced and renamed (or, without
 * ERIS_PIN_REPLACE, hard-linked, which fails if the name exists) into
 * place; in a mem store, memory. A cache: store keeps its pins in the
 * local member; a fallback: store adds them to its first member, lists
 * the pins of every member (each pin once, by name, the first member's
 * winning) and removes a pin from every member that has it. Other stores
 * have no pins: ERIS_ENOTSUP.
 */
typedef struct eris_pin {
	/** Unique in the store: 1 to 255 bytes, no '/', no control
	 * character (bytes below 0x20 and 0x7f), not "." or "..". */
	const char *name;
	/** The content's read capability, urn:eris:...; the library
	 * stores it in canonical form. */
	const char *urn;
	/** The content's length in bytes (as the caller says). */
	uint64_t size;
	/** When it was pinned: seconds since 1970-01-01 UTC; 0 in
	 * eris_store_pin_add() means now. */
	int64_t time;
} eris_pin;

/** Flags of eris_store_pin_add(). */
enum {
	/** Replace the pin of the same name instead of failing. */
	ERIS_PIN_REPLACE = 1u << 0,
};

/**
 * Pin `pin->urn` under `pin->name`. The pin is durable when this returns
 * ERIS_OK, and so is every block put into the same store handle before
 * the call (sqlite commits its queue, a directory store syncs first):
 * a pin never outlives the blocks it names in a crash. The library does
 * not read the content: check that the store holds it (eris_verify())
 * first.
 * @return ERIS_OK; ERIS_EINVAL (a name against the rules above, NULL);
 *         ERIS_EURN (not a URN); ERIS_EEXIST (the name is taken and no
 *         ERIS_PIN_REPLACE); ERIS_ENOTSUP (the store has no pins: the
 *         message says which store); ERIS_EREADONLY; a store error
 */
ERIS_EXTERN int eris_store_pin_add(eris_store *store, const eris_pin *pin,
				   unsigned flags);

/**
 * Remove the pin named `name` (the content stays until a gc).
 * @return ERIS_OK, ERIS_ENOTFOUND (no such pin), ERIS_EINVAL,
 *         ERIS_ENOTSUP, ERIS_EREADONLY or a store error
 */
ERIS_EXTERN int eris_store_pin_remove(eris_store *store, const char *name);

/**
 * Call `cb` once for every pin, in no particular order. The pin and its
 * strings are valid during the call only. A non-zero return from `cb`
 * stops the listing and is returned. A store that cannot list its pins
 * (a malformed pin file, an I/O error) fails rather than list part of
 * them, so that gc never runs on a partial list.
 * @return ERIS_OK, cb's value, ERIS_ENOTSUP or a store error
 */
ERIS_EXTERN int eris_store_pin_foreach(eris_store *store,
				       int (*cb)(const eris_pin *pin,
						 void *payload),
				       void *payload);

/* ---- The gc lock ------------------------------------------------------- */

/** Modes of eris_store_lock(). */
enum {
	/** Held by writers (eris put, eris import) from their first
	 * block to their pin: any number at once. */
	ERIS_LOCK_SHARED = 1,
	/** Held by gc from its mark to the end of its sweep: alone. */
	ERIS_LOCK_EXCLUSIVE = 2,
};

/**
 * Take the store's gc lock, waiting for it. Writers that hold it shared
 * while they put and pin never lose a block to a gc that holds it
 * exclusively: the gc either finishes before the first block is put, or
 * starts after the pin exists. sqlite stores flock() the directory
 * holding the database (stores in one directory share the lock),
 * directory stores their root directory, so the lock holds across
 * processes and between store handles of one process, and no file is
 * created; a mem store uses a read-write lock (release it on the thread
 * that took it). A cache: store locks its members that have a lock, a
 * fallback: store every member that has one. One lock per store handle
 * at a time.
 * @return ERIS_OK; ERIS_EINVAL (a bad mode, or this handle holds the
 *         lock already); ERIS_ENOTSUP (the store has no lock: http,
 *         coap, s3, rados, cbor); a store error
 */
ERIS_EXTERN int eris_store_lock(eris_store *store, int mode);

/** Release the lock taken with eris_store_lock(); ERIS_OK if none. */
ERIS_EXTERN int eris_store_unlock(eris_store *store);

/** Close the store and free it. NULL is allowed. */
ERIS_EXTERN void eris_store_free(eris_store *store);

#ifdef __cplusplus
}
#endif
#endif
