/*
 * internal.h - declarations shared inside liberis; not installed.
 */
#ifndef ERIS_INTERNAL_H
#define ERIS_INTERNAL_H

#include <eris/eris.h>
#include <eris/sys/store_backend.h>

#include "crypto/crypto.h"

/* A store is a thin wrapper around its back end: the wrapper is where every
 * returned block gets verified, whatever the back end. */
struct eris_store {
	eris_store_backend *backend;
	unsigned flags; /* ERIS_STORE_READONLY: put and remove refused */
	/* Reads wait on a network round trip (http, coap, s3, rados, or a
	 * composite with such a member): the decoder then fetches the next
	 * batch of leaves while the current one is checked. */
	int remote;
	int locked; /* the mode eris_store_lock() took, or 0 */
};

/* Put without re-hashing: for the encoder, which just computed `ref`. */
int eris__store_put_trusted(eris_store *store, const uint8_t *ref,
			    const uint8_t *block, size_t len);

/* Fetch without verifying (the decoder applies R2 before R3 itself). */
int eris__store_get_raw(eris_store *store, const uint8_t *ref, uint8_t *buf,
			size_t buf_size, size_t *out_len);
/* The back end's get_cached (version 4), raw: every result ERIS_EAGAIN
 * when it has none. Never blocks. */
void eris__store_get_cached_raw(eris_store *store, size_t n,
				const uint8_t (*refs)[ERIS_REF_BYTES],
				uint8_t *const *bufs, size_t buf_size,
				size_t *out_lens, int *results);

/* The most blocks of one eris_store_get_many() or try_get_many() call. */
#define GET_MANY_MAX 64

/* Batched raw fetch; falls back to one get per block. */
int eris__store_get_many_raw(eris_store *store, size_t n,
			     const uint8_t (*refs)[ERIS_REF_BYTES],
			     uint8_t *const *bufs, size_t buf_size,
			     size_t *out_lens, int *results);

/* Check every block of an open decoder (eris_verify's walk). */
int eris__decoder_verify_all(eris_decoder *dec, uint64_t *out_blocks,
			     void (*progress)(uint64_t, void *), void *payload);

/* Visit every block reference of an open decoder's tree (eris_walk). */
int eris__decoder_walk(eris_decoder *dec,
		       int (*cb)(const uint8_t *, unsigned, void *),
		       void *payload);

/* The module path of eris_configure(), copied into `out` (`size` at least
 * ERIS_CONFIG_MODULE_PATH_MAX) and NUL-terminated. Returns its length;
 * 0 means none was set: use the default directory. */
size_t eris__config_module_path(char *out, size_t size);

/* Allocation goes through these so tests can inject failures. */
/* Report a warning to the handler of eris_set_warning_handler(). */
void eris__warn(const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
	__attribute__((format(printf, 1, 2)))
#endif
	;

void *eris__malloc(size_t size);
void *eris__calloc(size_t n, size_t size);
void *eris__realloc(void *p, size_t size);
void eris__free(void *p);

static inline int eris__valid_block_size(size_t bs)
{
	return bs == ERIS_BLOCK_SIZE_1K || bs == ERIS_BLOCK_SIZE_32K;
}

/* fs.c: ERIS_EINVAL (message naming it) unless every '/'-separated
 * component of `path` is valid in an ERIS-FS index. */
int eris__fs_path_check(const char *path);

#endif
