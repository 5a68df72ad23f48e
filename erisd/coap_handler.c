/*
 * coap_handler.c - the answers of erisd's CoAP server (see
 * coap_handler.h and, for the protocol, coap_server.c).
 */
#include "coap_handler.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

/* The reference in the single Uri-Query: the 32 raw bytes or the 52
 * base32 characters. 1 and `ref` filled in, else 0. */
static int query_ref(const erisd_coap_request *req,
		     uint8_t ref[ERIS_REF_BYTES])
{
	if (req->n_queries != 1 || !req->query)
		return 0;
	if (req->query_len == ERIS_REF_BYTES) {
		memcpy(ref, req->query, ERIS_REF_BYTES);
		return 1;
	}
	if (req->query_len == ERIS_REF_BASE32_LEN)
		return eris_base32_decode(ref, ERIS_REF_BYTES,
					  (const char *)req->query,
					  req->query_len) == ERIS_OK;
	return 0;
}

static void on_get(eris_store *store, const erisd_coap_request *req,
		   erisd_coap_response *resp)
{
	uint8_t ref[ERIS_REF_BYTES];
	uint8_t *buf;
	size_t len = 0;
	int rc;

	if (!query_ref(req, ref)) {
		resp->code = 400;
		return;
	}
	buf = malloc(ERIS_BLOCK_SIZE_MAX);
	if (!buf) {
		resp->code = 500;
		return;
	}
	/* eris_store_get() hashes the block against `ref`. */
	rc = eris_store_get(store, ref, buf, ERIS_BLOCK_SIZE_MAX, &len);
	if (rc != ERIS_OK) {
		free(buf);
		resp->code = rc == ERIS_ENOTFOUND ? 404 : 500;
		return;
	}
	resp->code = 205;
	resp->payload = buf;
	resp->payload_len = len;
}

static void on_put(eris_store *store, int writable,
		   const erisd_coap_request *req, erisd_coap_response *resp)
{
	uint8_t ref[ERIS_REF_BYTES];

	if (!writable) {
		resp->code = 403;
		return;
	}
	if (req->payload_partial || !req->payload ||
	    (req->payload_len != ERIS_BLOCK_SIZE_1K &&
	     req->payload_len != ERIS_BLOCK_SIZE_MAX)) {
		resp->code = 406;
		return;
	}
	crypto_generichash(ref, sizeof ref, req->payload, req->payload_len,
			   NULL, 0);
	if (eris_store_put(store, ref, req->payload, req->payload_len) !=
		    ERIS_OK ||
	    eris_store_flush(store) != ERIS_OK) {
		resp->code = 500;
		return;
	}
	resp->code = 201;
}

void erisd_coap_handle(eris_store *store, int writable,
		       const erisd_coap_request *req,
		       erisd_coap_response *resp)
{
	memset(resp, 0, sizeof *resp);
	if (req->method == ERISD_COAP_GET)
		on_get(store, req, resp);
	else if (req->method == ERISD_COAP_PUT)
		on_put(store, writable, req, resp);
	else
		resp->code = 405;
}
