/*
 * decode_check.h - the read both fault suites make: the whole content
 * into a buffer filled with a marker first. On failure every byte must
 * still be the marker or the right byte: a failed read never leaves
 * unverified or foreign bytes behind.
 */
#ifndef ERIS_TESTS_FAULT_DECODE_CHECK_H
#define ERIS_TESTS_FAULT_DECODE_CHECK_H

#include <eris/eris.h>

#include <stddef.h>
#include <stdint.h>

/* Returns the decoder's code (ERIS_OK with the exact content). */
int decode_check(eris_store *store, const eris_read_cap *cap,
		 const uint8_t *content, size_t len);

#endif
