/*
 * coap_request_fuzz.c - libFuzzer target for the answers of erisd's CoAP
 * server (erisd/coap_handler.c), against a fresh in-memory store that
 * holds one known 1 KiB block. Input layout:
 *   byte 0   bit 0: PUT (else GET); bit 1: writable; bit 2: the body is
 *            a first Block1 piece (M set); bits 3-4: number of Uri-Query options (0-3)
 *   byte 1   length of the first Uri-Query value (cut to what is left)
 *   then     the Uri-Query value, then the payload (the rest)
 * Besides crashes and sanitizer reports it checks that a 2.05 answer is
 * a block that hashes to the requested reference, and that a block
 * acknowledged by 2.01 can be read back.
 */
#include "coap_handler.h"

#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The block the store starts with (the seed corpus asks for it). */
static void known_block(uint8_t blk[ERIS_BLOCK_SIZE_1K])
{
	size_t i;

	for (i = 0; i < ERIS_BLOCK_SIZE_1K; i++)
		blk[i] = (uint8_t)(i * 31 + 7);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t blk[ERIS_BLOCK_SIZE_1K];
	uint8_t ref[ERIS_REF_BYTES], got_ref[ERIS_REF_BYTES];
	erisd_coap_request req;
	erisd_coap_response resp;
	erisd_coap_state *st;
	eris_store *store;
	size_t qlen;
	int writable;

	if (size < 2 || sodium_init() < 0)
		return 0;
	if (eris_store_new_mem(&store) != ERIS_OK ||
	    !(st = erisd_coap_state_new()))
		abort();
	known_block(blk);
	crypto_generichash(ref, sizeof ref, blk, sizeof blk, NULL, 0);
	if (eris_store_put(store, ref, blk, sizeof blk) != ERIS_OK)
		abort();

	memset(&req, 0, sizeof req);
	req.method = data[0] & 1 ? ERISD_COAP_PUT : ERISD_COAP_GET;
	writable = (data[0] >> 1) & 1;
	/* bit 2: the body is the first of several Block1 pieces */
	if ((data[0] >> 2) & 1) {
		req.block1.present = 1;
		req.block1.more = 1;
		req.block1.szx = 6;
	}
	req.peer_loopback = 1;
	req.n_queries = (data[0] >> 3) & 3;
	qlen = data[1];
	if (qlen > size - 2)
		qlen = size - 2;
	if (req.n_queries > 0) {
		req.query = data + 2;
		req.query_len = qlen;
	}
	req.payload = data + 2 + qlen;
	req.payload_len = size - 2 - qlen;

	erisd_coap_handle(st, store, writable, &req, &resp);
	if (resp.code == 205) {
		/* Only a verified block of the asked reference. */
		crypto_generichash(got_ref, sizeof got_ref, resp.payload,
				   resp.payload_len, NULL, 0);
		if (req.method != ERISD_COAP_GET || !resp.payload ||
		    resp.payload != resp.block ||
		    (req.query_len == ERIS_REF_BYTES &&
		     memcmp(got_ref, req.query, ERIS_REF_BYTES) != 0))
			abort();
	}
	if (resp.code == 201) {
		erisd_coap_request get;
		erisd_coap_response back;

		if (!writable)
			abort();
		crypto_generichash(got_ref, sizeof got_ref, req.payload,
				   req.payload_len, NULL, 0);
		memset(&get, 0, sizeof get);
		get.method = ERISD_COAP_GET;
		get.n_queries = 1;
		get.query = got_ref;
		get.query_len = sizeof got_ref;
		erisd_coap_handle(st, store, 0, &get, &back);
		if (back.code != 205 || back.payload_len != req.payload_len ||
		    memcmp(back.payload, req.payload, req.payload_len) != 0 ||
		    memcmp(resp.ref, got_ref, sizeof got_ref) != 0)
			abort();
		free(back.block);
	}
	free(resp.block);
	erisd_coap_state_free(st);
	eris_store_free(store);
	return 0;
}
