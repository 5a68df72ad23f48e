/*
 * coap_client_fuzz.c - libFuzzer target for the CoAP client store's
 * assembly of a GET body from a server's sequence of 2.05 responses
 * (liberis/stores/coap_body.c, used by liberis/stores/coap.c). Input:
 *   byte 0   bit 0: the caller's buffer is 32 KiB (else 1 KiB)
 *   then     records, one response each, until the input ends:
 *            flags (bit 0: Block2 present, bit 1: Size2 present),
 *            Block2 value (3 bytes, big-endian), Size2 (4 bytes),
 *            payload length (2 bytes), payload (cut to what is left)
 * Besides crashes and sanitizer reports (the buffer is allocated at its
 * exact size) it checks the promises of coap_body.h: the body never
 * exceeds the buffer and is exactly the accepted payloads in order, a
 * piece announced with M=1 is asked for only after a whole block, each
 * request for more names the piece that starts where the body ends, and
 * no more than cap / 16 further pieces are ever asked for.
 */
#include "coap_body.h"

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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t shadow[ERIS__COAP_BODY_MAX];
	eris__coap_body b;
	size_t cap, rounds = 0;
	uint8_t *buf;

	if (size < 1)
		return 0;
	cap = (data[0] & 1) ? 32768 : 1024;
	data++;
	size--;
	buf = malloc(cap);
	CHECK(buf != NULL);
	eris__coap_body_init(&b, buf, cap);
	while (size >= 10) {
		int has_block2 = data[0] & 1, has_size2 = (data[0] >> 1) & 1;
		uint32_t block2 = (uint32_t)data[1] << 16 |
				  (uint32_t)data[2] << 8 | data[3];
		uint64_t size2 = (uint64_t)data[4] << 24 |
				 (uint64_t)data[5] << 16 |
				 (uint64_t)data[6] << 8 | data[7];
		size_t len = (size_t)data[8] << 8 | data[9];
		size_t before = b.len;
		uint32_t next = 0xffffffff;
		const char *why = NULL;
		int rc;

		data += 10;
		size -= 10;
		if (len > size)
			len = size;
		rc = eris__coap_body_add(&b, has_block2, block2, has_size2,
					 size2, data, len, &next, &why);
		CHECK(b.len <= cap);
		if (rc == ERIS__COAP_BODY_DONE || rc == ERIS__COAP_BODY_MORE) {
			/* Accepted: appended whole, or (no Block2) the body. */
			CHECK(b.len == (has_block2 ? before + len : len));
			memcpy(shadow + b.len - len, data, len);
			CHECK(memcmp(buf, shadow, b.len) == 0);
		} else {
			CHECK(rc == ERIS_EBLOCKSIZE || rc == ERIS_ERROR);
			CHECK(why != NULL);
			CHECK(b.len == before);
		}
		if (rc == ERIS__COAP_BODY_MORE) {
			size_t piece = (size_t)16 << (block2 & 7);

			CHECK(has_block2 && (block2 & 8) && len == piece);
			CHECK((next & 7) == (block2 & 7));
			CHECK((size_t)(next >> 4) * piece == b.len);
			CHECK(++rounds <= cap / 16);
		}
		data += len;
		size -= len;
		if (rc != ERIS__COAP_BODY_MORE)
			break; /* the client stops at the first outcome */
	}
	free(buf);
	return 0;
}
