/*
 * coap_body.c - the Block2 body assembly of the CoAP client store; the
 * rules are in coap_body.h.
 */
#include "coap_body.h"

#include <eris/errors.h>
#include <string.h>

void eris__coap_body_init(eris__coap_body *b, uint8_t *buf, size_t cap)
{
	b->buf = buf;
	b->cap = cap < ERIS__COAP_BODY_MAX ? cap : ERIS__COAP_BODY_MAX;
	b->len = 0;
	b->started = 0;
}

int eris__coap_body_add(eris__coap_body *b, int has_block2, uint32_t block2,
			int has_size2, uint64_t size2, const uint8_t *data,
			size_t len, uint32_t *next_block2, const char **why)
{
	uint64_t num, size, offset;
	unsigned szx;
	int more;

	if (has_size2 && size2 > b->cap) {
		*why = "the announced size (Size2)";
		return ERIS_EBLOCKSIZE;
	}
	if (!has_block2) {
		if (b->started) {
			*why = "a response without Block2 in a block-wise "
			       "transfer";
			return ERIS_ERROR;
		}
		b->started = 1;
		if (len > b->cap) {
			*why = "the body";
			return ERIS_EBLOCKSIZE;
		}
		if (len > 0)
			memcpy(b->buf, data, len);
		b->len = len;
		return ERIS__COAP_BODY_DONE;
	}
	b->started = 1;
	num = block2 >> 4;
	more = (block2 >> 3) & 1;
	szx = block2 & 7;
	if (szx == 7) {
		*why = "Block2 with SZX 7 (BERT), which was not asked for";
		return ERIS_ERROR;
	}
	size = (uint64_t)16 << szx;
	offset = num * size;
	if (offset != b->len) {
		*why = "a Block2 piece out of order";
		return ERIS_ERROR;
	}
	if (len > size || (more && len != size)) {
		*why = "a Block2 piece of the wrong size";
		return ERIS_ERROR;
	}
	/* The piece is at most 1024 bytes and b->len <= cap, so this cannot
	 * overflow. A body that needs more than cap bytes stops here, before
	 * another piece is asked for. */
	if (b->len + len > b->cap || (more && b->len + len == b->cap)) {
		*why = "the body";
		return ERIS_EBLOCKSIZE;
	}
	if (len > 0)
		memcpy(b->buf + b->len, data, len);
	b->len += len;
	if (!more)
		return ERIS__COAP_BODY_DONE;
	/* The next piece, of the same size: NUM < 2^20 as cap / 16 is. */
	*next_block2 = (uint32_t)((b->len / size) << 4) | szx;
	return ERIS__COAP_BODY_MORE;
}
