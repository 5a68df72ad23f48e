/*
 * eris/sys/store_backend.h - the interface a block-store back end implements.
 *
 * A back end embeds `eris_store_backend` as its first member, fills in the
 * callbacks and hands itself to eris_store_new_from_backend(), which takes
 * ownership. Only get, put and free are required.
 *
 * Contract for every callback:
 *   - return ERIS_OK or a negative eris_error_code, and set a message with
 *     eris_error_set() for anything but a plain ERIS_ENOTFOUND;
 *   - get: copy the block into `buf` (at most `buf_size` bytes) and set
 *     `*out_len`; ERIS_ENOTFOUND if absent; ERIS_EBLOCKSIZE if it does not
 *     fit. The library verifies the bytes; the back end need not.
 *   - put: `block` is 1024 or 32768 bytes and hashes to `ref` (the library
 *     checks before calling, or made the block itself): trust it, do not
 *     hash it again. Storing an existing block again succeeds.
 *   - has: 1 present, 0 absent, negative on failure.
 *   - get_many (optional): like get for `n` references; results[i] receives
 *     each per-block code; return ERIS_OK unless the batch itself failed.
 *   - foreach (optional): call `cb` once per stored block with its
 *     reference and length, in any order; stop and return cb's value if
 *     it is non-zero. The back end must tolerate cb calling remove on
 *     the block it was just given.
 *   - remove (optional): delete a block; ERIS_OK if it was absent too.
 *   - compact (optional, version 2): eris_store_compact(); `progress`
 *     may be NULL.
 *   - space (optional, version 2): eris_store_space(); fill in every
 *     field of `out`.
 *   - pin_add, pin_remove, pin_foreach (optional, version 3): the
 *     store's pins (eris_store_pin_add() and the others). The library
 *     checks the name and the URN first (the URN is canonical) and fills
 *     in the time. pin_add is atomic: with flags 0 it fails with
 *     ERIS_EEXIST when the name is taken (even by the same URN), with
 *     ERIS_PIN_REPLACE it replaces that pin. A pin must not become
 *     durable before the blocks put before it (commit or sync them
 *     first). pin_remove returns ERIS_ENOTFOUND for an unknown name.
 *     pin_foreach may hold no lock while `cb` runs: cb may add or
 *     remove pins.
 *   - lock (optional, version 3): eris_store_lock(); `mode` is
 *     ERIS_LOCK_SHARED, ERIS_LOCK_EXCLUSIVE or 0 to release. It must
 *     exclude other processes and other store handles of the same
 *     process, and may block.
 *   - get_cached (optional, version 4): get_many, but only for the blocks
 *     that can be had without waiting for a disk or a network (for a
 *     file: its name and bytes in the kernel's caches); results[i] is
 *     ERIS_EAGAIN for the others, and for any failure get would describe
 *     better. It must never block: eris_store_try_get_many() runs it on
 *     event-loop threads. Taking the blocks together lets a back end
 *     read them with fewer system calls.
 *   A read-only back end returns ERIS_EREADONLY from put, remove,
 *   compact, pin_add and pin_remove.
 *
 * Versions: 2 added compact and space, 3 pin_add, pin_remove,
 * pin_foreach and lock, 4 get_cached, each at the end of the struct. A back end built
 * against an older version (without them) is still accepted; the
 * library never reads past the members of the version it is given.
 */
#ifndef ERIS_SYS_STORE_BACKEND_H
#define ERIS_SYS_STORE_BACKEND_H

#include "../store.h"

#ifdef __cplusplus
extern "C" {
#endif

#define ERIS_STORE_BACKEND_VERSION 4

typedef struct eris_store_backend eris_store_backend;

struct eris_store_backend {
	unsigned version; /**< ERIS_STORE_BACKEND_VERSION */
	int (*get)(eris_store_backend *b, const uint8_t ref[ERIS_REF_BYTES],
		   uint8_t *buf, size_t buf_size, size_t *out_len);
	int (*put)(eris_store_backend *b, const uint8_t ref[ERIS_REF_BYTES],
		   const uint8_t *block, size_t len);
	int (*has)(eris_store_backend *b, const uint8_t ref[ERIS_REF_BYTES]);
	int (*get_many)(eris_store_backend *b, size_t n,
			const uint8_t (*refs)[ERIS_REF_BYTES], uint8_t *const *bufs,
			size_t buf_size, size_t *out_lens, int *results);
	int (*flush)(eris_store_backend *b);
	void (*free)(eris_store_backend *b);
	int (*foreach)(eris_store_backend *b,
		       int (*cb)(const uint8_t ref[ERIS_REF_BYTES], size_t len,
				 void *payload),
		       void *payload);
	int (*remove)(eris_store_backend *b, const uint8_t ref[ERIS_REF_BYTES]);
	/* version 2 */
	int (*compact)(eris_store_backend *b, unsigned flags,
		       void (*progress)(uint64_t done, uint64_t total,
					void *payload),
		       void *payload);
	int (*space)(eris_store_backend *b, eris_store_space_info *out);
	/* version 3 */
	int (*pin_add)(eris_store_backend *b, const eris_pin *pin,
		       unsigned flags);
	int (*pin_remove)(eris_store_backend *b, const char *name);
	int (*pin_foreach)(eris_store_backend *b,
			   int (*cb)(const eris_pin *pin, void *payload),
			   void *payload);
	int (*lock)(eris_store_backend *b, int mode);
	/* version 4 */
	int (*get_cached)(eris_store_backend *b, size_t n,
			  const uint8_t (*refs)[ERIS_REF_BYTES],
			  uint8_t *const *bufs, size_t buf_size,
			  size_t *out_lens, int *results);
};

#define ERIS_STORE_BACKEND_INIT                                              \
	{ ERIS_STORE_BACKEND_VERSION, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,          \
	  0, 0, 0, 0, 0 }

/**
 * Wrap a back end in a store. Takes ownership of `backend` even on failure
 * (then backend->free is called).
 */
ERIS_EXTERN int eris_store_new_from_backend(eris_store **out,
					    eris_store_backend *backend);

/** Set this thread's error message (printf-style) and return `code`. */
ERIS_EXTERN int eris_error_set(int code, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
	__attribute__((format(printf, 2, 3)))
#endif
	;

#ifdef __cplusplus
}
#endif
#endif
