/*
 * s3_list_fuzz.c - libFuzzer target for the s3 store's ListObjectsV2
 * parser (modules/s3/s3_list.c), as it is fed by the HTTP transfer.
 * Input:
 *   byte 0   bits 0-5: the body arrives in pieces of (value * 7 + 1)
 *            bytes; bit 6: the object callback stops the parse (returns
 *            a marker) at the third object; bit 7: the parser is an
 *            error-body parser (no object callback)
 *   then     the response body
 * Besides crashes and sanitizer reports it checks the promises of
 * s3_list.h: every key handed over is NUL-terminated and at most
 * S3_LIST_MAX_KEY bytes, the callback's value comes back unchanged and
 * stops the objects, a failure is sticky, the next token is at most
 * S3_LIST_MAX_TOKEN bytes and an error code is letters and digits.
 */
#include "s3_list.h"

#include <eris/errors.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)               \
	do {                      \
		if (!(cond))      \
			abort();  \
	} while (0)

#define STOP_MARKER 12345

typedef struct {
	int stop_at_third;
	size_t seen;
	int stopped;
} state;

static int on_object(const char *key, uint64_t size, void *p)
{
	state *st = p;

	(void)size;
	CHECK(!st->stopped);
	CHECK(strlen(key) <= S3_LIST_MAX_KEY);
	if (++st->seen == 3 && st->stop_at_third) {
		st->stopped = 1;
		return STOP_MARKER;
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	state st = {0, 0, 0};
	s3_list *l = NULL;
	size_t piece;
	int rc = ERIS_OK, error_body;

	if (size < 1)
		return 0;
	piece = (size_t)(data[0] & 63) * 7 + 1;
	st.stop_at_third = (data[0] >> 6) & 1;
	error_body = data[0] >> 7;
	data++;
	size--;
	if (eris__s3_list_new(&l, error_body ? NULL : on_object, &st) != ERIS_OK)
		return 0;
	while (rc == ERIS_OK && size > 0) {
		size_t n = size < piece ? size : piece;

		rc = eris__s3_list_feed(l, (const char *)data, n, 0);
		data += n;
		size -= n;
	}
	if (rc == ERIS_OK)
		rc = eris__s3_list_feed(l, NULL, 0, 1);
	if (st.stopped)
		CHECK(rc == STOP_MARKER);
	else
		CHECK(rc == ERIS_OK || rc == ERIS_ESTORE || rc == ERIS_ENOMEM);
	/* A failure is sticky: feeding more changes nothing. */
	if (rc != ERIS_OK)
		CHECK(eris__s3_list_feed(l, "<x/>", 4, 1) == rc);
	CHECK(strlen(eris__s3_list_next_token(l)) <= S3_LIST_MAX_TOKEN);
	for (const char *c = eris__s3_list_error_code(l); *c; c++)
		CHECK((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') ||
		      (*c >= '0' && *c <= '9'));
	eris__s3_list_free(l);
	return 0;
}
