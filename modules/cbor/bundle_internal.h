/*
 * bundle_internal.h - the cbor module's functions: the implementations of
 * eris/bundle.h and eris/link.h (liberis's eris_bundle_* and eris_link_*
 * call them through the module's eris_cbor_api), and what the cbor store
 * (cbor_store.c) needs from the bundle reader (bundle.c).
 */
#ifndef ERIS_BUNDLE_INTERNAL_H
#define ERIS_BUNDLE_INTERNAL_H

#include "module.h"

#include <eris/bundle.h>
#include <eris/link.h>

/* bundle.c: eris_bundle_* of eris/bundle.h. */
int cbormod_bundle_writer_new(eris_bundle_writer **out, int fd,
			      uint64_t n_blocks, uint64_t n_caps);
int cbormod_bundle_writer_add_block(eris_bundle_writer *w,
				    const uint8_t ref[ERIS_REF_BYTES],
				    const uint8_t *block, size_t len);
int cbormod_bundle_writer_add_cap(eris_bundle_writer *w,
				  const eris_read_cap *cap);
int cbormod_bundle_writer_finish(eris_bundle_writer *w);
void cbormod_bundle_writer_free(eris_bundle_writer *w);
int cbormod_bundle_open(eris_bundle **out, const char *path, unsigned flags);
int cbormod_bundle_open_fd(eris_bundle **out, int fd, const char *name,
			   unsigned flags);
int cbormod_bundle_open_buffer(eris_bundle **out, const void *data,
			       size_t len, const char *name, unsigned flags);
uint64_t cbormod_bundle_block_count(const eris_bundle *b);
size_t cbormod_bundle_cap_count(const eris_bundle *b);
const eris_read_cap *cbormod_bundle_cap(const eris_bundle *b, size_t i);
int cbormod_bundle_foreach(eris_bundle *b,
			   int (*cb)(const uint8_t ref[ERIS_REF_BYTES],
				     size_t len, void *payload),
			   void *payload);
void cbormod_bundle_free(eris_bundle *b);

/* cbor_store.c: eris_store_new_bundle. */
int cbormod_store_new_bundle(eris_store **out, eris_bundle *bundle);

/* linkfile.c: eris_link_* of eris/link.h. */
int cbormod_link_encode(uint8_t *out, size_t size, size_t *out_len,
			const eris_link *link);
int cbormod_link_decode(eris_link **out, const uint8_t *in, size_t len);
void cbormod_link_free(eris_link *link);

/* Copy the block stored under `ref` into `buf`, unverified (the store
 * wrapper verifies). ERIS_ENOTFOUND if absent, ERIS_EBLOCKSIZE if it does
 * not fit, ERIS_ERROR if the file cannot be read or changed. */
int cbormod_bundle_read(eris_bundle *b, const uint8_t *ref, uint8_t *buf,
			size_t buf_size, size_t *out_len);

/* 1 if the bundle holds `ref`, else 0. */
int cbormod_bundle_has(const eris_bundle *b, const uint8_t *ref);

/* The name given at open (the path for eris_bundle_open). */
const char *cbormod_bundle_name(const eris_bundle *b);

#endif
