/*
 * decode_check.c - see decode_check.h.
 */
#include "decode_check.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#define MARKER 0xA5

int decode_check(eris_store *store, const eris_read_cap *cap,
		 const uint8_t *content, size_t len)
{
	eris_decoder *dec = NULL;
	uint8_t *buf = malloc(len);
	size_t got = 0, i = 0;
	int rc;

	ck_assert_ptr_nonnull(buf);
	memset(buf, MARKER, len);
	rc = eris_decoder_new(&dec, store, cap);
	if (rc == ERIS_OK) {
		rc = eris_decoder_pread(dec, buf, len, 0, &got);
		eris_decoder_free(dec);
	}
	if (rc == ERIS_OK) {
		ck_assert_uint_eq(got, len);
		ck_assert_mem_eq(buf, content, len);
	} else {
		/* One assertion, not one per byte: Check logs each. */
		while (i < len && (buf[i] == MARKER || buf[i] == content[i]))
			i++;
		ck_assert_msg(i == len,
			      "byte %zu is neither untouched nor the "
			      "content's", i);
	}
	free(buf);
	return rc;
}
