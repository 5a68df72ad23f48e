/*
 * coap_handler.h - what erisd's CoAP server answers (ERIS over CoAP,
 * ERIS.md section 10), as a function from the request's fields to a
 * response: no sockets and no libcoap, so that tests and the fuzzer can
 * call it directly. coap_server.c extracts the fields from the libcoap
 * PDU and copies the answer back (see there for the protocol).
 */
#ifndef ERISD_COAP_HANDLER_H
#define ERISD_COAP_HANDLER_H

#include <eris/eris.h>

#include <stddef.h>
#include <stdint.h>

enum { ERISD_COAP_GET = 1, ERISD_COAP_PUT = 3 };

/* The request fields the handler looks at. */
typedef struct erisd_coap_request {
	int method;              /* ERISD_COAP_GET or ERISD_COAP_PUT */
	unsigned n_queries;      /* Uri-Query options present */
	const uint8_t *query;    /* the first one's value (GET) */
	size_t query_len;
	const uint8_t *payload;  /* the whole body (PUT), or NULL */
	size_t payload_len;
	int payload_partial;     /* the body arrived incomplete */
} erisd_coap_request;

/* The answer: a response code as class * 100 + detail (205 for 2.05)
 * and, for a 2.05, the block (malloc'd; the caller frees it). */
typedef struct erisd_coap_response {
	int code;
	uint8_t *payload;
	size_t payload_len;
} erisd_coap_response;

/*
 * Answer `req` against `store` (PUT only if `writable`). GET: 205 with the
 * verified block, 404, 400 (no single well-formed reference), 500. PUT:
 * 201, 403 (read-only), 406 (not a 1 KiB or 32 KiB body), 500. Other
 * methods: 405.
 */
void erisd_coap_handle(eris_store *store, int writable,
		       const erisd_coap_request *req,
		       erisd_coap_response *resp);

#endif
