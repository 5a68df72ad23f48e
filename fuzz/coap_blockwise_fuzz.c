/*
 * coap_blockwise_fuzz.c - libFuzzer target for the block-wise state of
 * erisd's CoAP server (erisd/coap_handler.c): SEQUENCES of requests from
 * up to 32 peers into one erisd_coap_state and one in-memory store, so
 * that Block1 reassembly (interleaved peers, gaps, restarts, size
 * changes, expiry, a full table) and Block2 slicing are exercised.
 *
 * Input: records of 5 bytes (a trailing partial record is ignored).
 *   a  bits 0-4 peer; bit 5 PUT (else GET); bit 6 the peer is loopback;
 *      bit 7 the clock moves on by half the transfer TTL first
 *   b  bit 0 a Block option (Block1 on PUT, Block2 on GET); bit 1 M;
 *      bit 2 writable; bits 3-5 SZX; bit 6 Size1 (bit 7: 65536, else
 *      32768)
 *   c d  NUM (big-endian)
 *   e  PUT: bit 7: a piece of exactly 2^(SZX+4) bytes, else (e & 127) * 16
 *      bytes; GET: max_payload = e * 8 (0: no limit)
 * Payloads are not in the input: byte i of a body from peer p is
 * body_byte(p, i), wherever it is sent from. So whatever pieces arrive,
 * a block the server stores after a Block1 transfer must be exactly
 * body_byte(p, 0..len-1): a piece stored at the wrong offset, or a
 * piece stored as a block, aborts.
 * Also checked: 2.05 pieces are the right slice of a verified block and
 * fit max_payload; 2.01 only from a writable, loopback request; the
 * table never holds more than ERISD_COAP_MAX_TRANSFERS transfers.
 */
#include "coap_handler.h"

#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t body_byte(unsigned peer, size_t i)
{
	return (uint8_t)(i * 7 + peer * 13 + (i >> 8) * 3);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t piece[ERIS_BLOCK_SIZE_MAX], want[ERIS_BLOCK_SIZE_MAX];
	static uint8_t got[ERIS_BLOCK_SIZE_MAX];
	uint8_t ref[ERIS_REF_BYTES], peer[1];
	erisd_coap_state *st;
	eris_store *store;
	uint64_t now = 1000;

	if (sodium_init() < 0)
		return 0;
	if (eris_store_new_mem(&store) != ERIS_OK ||
	    !(st = erisd_coap_state_new()))
		abort();
	/* A block to GET until one is PUT: peer 0's 32 KiB body. */
	for (size_t i = 0; i < ERIS_BLOCK_SIZE_MAX; i++)
		want[i] = body_byte(0, i);
	crypto_generichash(ref, sizeof ref, want, ERIS_BLOCK_SIZE_MAX, NULL, 0);
	if (eris_store_put(store, ref, want, ERIS_BLOCK_SIZE_MAX) != ERIS_OK)
		abort();

	for (size_t at = 0; at + 5 <= size; at += 5) {
		const uint8_t *r = data + at;
		erisd_coap_request q;
		erisd_coap_response a;
		erisd_coap_block *b;
		int writable = (r[1] >> 2) & 1;
		size_t len, gl = 0;

		memset(&q, 0, sizeof q);
		peer[0] = r[0] & 31;
		q.peer = peer;
		q.peer_len = 1;
		q.method = r[0] & 0x20 ? ERISD_COAP_PUT : ERISD_COAP_GET;
		q.peer_loopback = (r[0] >> 6) & 1;
		if (r[0] & 0x80)
			now += ERISD_COAP_TRANSFER_TTL / 2;
		q.now = now;
		b = q.method == ERISD_COAP_PUT ? &q.block1 : &q.block2;
		b->present = r[1] & 1;
		b->more = (r[1] >> 1) & 1;
		b->szx = (r[1] >> 3) & 7;
		b->num = (uint32_t)r[2] << 8 | r[3];
		q.has_size1 = (r[1] >> 6) & 1;
		q.size1 = r[1] & 0x80 ? 65536 : 32768;
		if (q.method == ERISD_COAP_PUT) {
			uint64_t off = b->present
					       ? (uint64_t)b->num << (b->szx + 4)
					       : 0;

			len = r[4] & 0x80 ? (size_t)16 << b->szx
					  : (size_t)(r[4] & 0x7f) * 16;
			if (len > sizeof piece)
				len = sizeof piece;
			for (size_t i = 0; i < len; i++)
				piece[i] = body_byte(peer[0], off + i);
			q.payload = piece;
			q.payload_len = len;
		} else {
			q.n_queries = 1;
			q.query = ref;
			q.query_len = sizeof ref;
			q.max_payload = (size_t)r[4] * 8;
		}
		erisd_coap_handle(st, store, writable, &q, &a);
		if (erisd_coap_state_transfers(st) > ERISD_COAP_MAX_TRANSFERS)
			abort();
		if (a.code == 231 &&
		    (q.method != ERISD_COAP_PUT || !q.block1.more ||
		     !a.block1.present))
			abort();
		if (a.code == 201) {
			if (!writable || !q.peer_loopback ||
			    q.method != ERISD_COAP_PUT ||
			    eris_store_get(store, a.ref, got, sizeof got,
					   &gl) != ERIS_OK ||
			    (gl != ERIS_BLOCK_SIZE_1K &&
			     gl != ERIS_BLOCK_SIZE_MAX))
				abort();
			for (size_t i = 0; i < gl; i++)
				if (got[i] != body_byte(peer[0], i))
					abort();
			memcpy(ref, a.ref, sizeof ref); /* GET it from now */
		}
		if (a.code == 205) {
			size_t off = 0;

			if (eris_store_get(store, ref, got, sizeof got, &gl) !=
			    ERIS_OK)
				abort();
			if (a.block2.present)
				off = (size_t)a.block2.num << (a.block2.szx + 4);
			if (!a.block || a.payload < a.block || off >= gl ||
			    a.payload_len > gl - off ||
			    memcmp(a.payload, got + off, a.payload_len) != 0 ||
			    (!a.block2.present && a.payload_len != gl) ||
			    (q.max_payload >= 16 &&
			     a.payload_len > q.max_payload) ||
			    (a.block2.present &&
			     a.block2.more != (off + a.payload_len < gl)))
				abort();
		}
		free(a.block);
	}
	erisd_coap_state_free(st);
	eris_store_free(store);
	return 0;
}
