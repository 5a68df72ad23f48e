/*
 * bundle_internal.h - what the CBOR store (stores/cbor.c) needs from the
 * bundle reader (bundle.c). Internal to liberis; not installed.
 */
#ifndef ERIS_BUNDLE_INTERNAL_H
#define ERIS_BUNDLE_INTERNAL_H

#include "internal.h"

#include <eris/bundle.h>

/* Copy the block stored under `ref` into `buf`, unverified (the store
 * wrapper verifies). ERIS_ENOTFOUND if absent, ERIS_EBLOCKSIZE if it does
 * not fit, ERIS_ERROR if the file cannot be read or changed. */
int eris__bundle_read(eris_bundle *b, const uint8_t *ref, uint8_t *buf,
		      size_t buf_size, size_t *out_len);

/* 1 if the bundle holds `ref`, else 0. */
int eris__bundle_has(const eris_bundle *b, const uint8_t *ref);

/* The name given at open (the path for eris_bundle_open). */
const char *eris__bundle_name(const eris_bundle *b);

#endif
