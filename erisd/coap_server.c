/*
 * coap_server.c - "ERIS over CoAP" server (ERIS.md section 10) for erisd,
 * on libcoap 3.
 *
 * Why: CoAP is the ERIS transport for constrained devices and peers; the
 * client side is liberis/stores/coap.c (coap:// and coap+tcp:// stores).
 * This module is self-contained: erisd_coap_start() binds one endpoint
 * (UDP or TCP) and runs libcoap's I/O loop on its own thread until
 * erisd_coap_stop(); the daemon only has to call the two.
 *
 * Resource .well-known/eris/blocks (the endpoint-wide store):
 *
 *   GET   the reference in exactly one Uri-Query option, either the 32
 *         raw bytes or the 52 upper-case base32 characters. A Size1
 *         option (the expected block size, sent by the Nim client) is
 *         accepted and ignored.
 *         2.05 Content, payload = the block (Content-Format
 *              application/octet-stream); it was read with
 *              eris_store_get, so it is verified before it is served
 *         4.04 Not Found     the store lacks it
 *         4.00 Bad Request   no Uri-Query, several, or not a reference
 *         5.00 Internal Server Error
 *                            the store failed, or holds a corrupt copy
 *   PUT   the block as the payload; the server computes its reference
 *         (BLAKE2b-256, libsodium) and stores it, then flushes the store
 *         (so 2.01 means durable for stores that have a flush).
 *         2.01 Created
 *         4.06 Not Acceptable  the payload is not 1024 or 32768 bytes
 *                              (the code the Nim server uses, ERIS.md
 *                              section 10)
 *         4.03 Forbidden     the server is read-only (writable = 0);
 *                            the client store maps this to
 *                            ERIS_EREADONLY
 *         5.00               the store failed
 *   other methods: 4.05 Method Not Allowed (sent by libcoap for methods
 *         without a handler).
 *
 * Block-wise transfer (RFC 7959): libcoap's block mode
 * (COAP_BLOCK_USE_LIBCOAP | COAP_BLOCK_SINGLE_BODY) sends 32 KiB
 * responses as Block2 and reassembles Block1 PUTs, so the handlers see
 * whole bodies. libcoap 4.3.1 has no setting for the largest request body
 * it reassembles; the PUT handler refuses anything but the two block
 * sizes, and libcoap drops incomplete bodies after a timeout.
 *
 * The answers themselves come from coap_handler.c (no libcoap there, so
 * that the fuzzer reaches them); this file maps PDUs to and from them.
 *
 * Threads: the store is used only from the server's thread (plus the
 * caller's own use of it, so it must be thread-safe if the caller keeps
 * using it: the built-in stores are). The loop wakes at least every
 * 100 ms to check the stop flag.
 */
#include "coap_server.h"
#include "coap_handler.h"

#include <eris/eris.h>
#include <eris/sys/store_backend.h> /* eris_error_set */

#include <coap3/coap.h>
#include <netdb.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define BLOCKS_PATH ".well-known/eris/blocks"
#define LOOP_WAKE_MS 100

struct erisd_coap {
	coap_context_t *ctx;
	eris_store *store;
	int writable;
	pthread_t thread;
	atomic_int stop;
};

static pthread_once_t global_once = PTHREAD_ONCE_INIT;

static void global_init(void)
{
	coap_startup();
}

static void set_code(coap_pdu_t *response, coap_pdu_code_t code)
{
	coap_pdu_set_code(response, code);
}

/* The Uri-Query options of `request`: how many, and the first. */
static void query_of(const coap_pdu_t *request, erisd_coap_request *req)
{
	coap_opt_iterator_t it;
	coap_opt_filter_t filter;
	coap_opt_t *opt;

	coap_option_filter_clear(&filter);
	coap_option_filter_set(&filter, COAP_OPTION_URI_QUERY);
	coap_option_iterator_init(request, &it, &filter);
	while ((opt = coap_option_next(&it)) != NULL) {
		if (req->n_queries++ == 0) {
			req->query = coap_opt_value(opt);
			req->query_len = coap_opt_length(opt);
		}
	}
}

static void release_block(coap_session_t *session, void *p)
{
	(void)session;
	free(p);
}

static void on_get(coap_resource_t *resource, coap_session_t *session,
		   const coap_pdu_t *request, const coap_string_t *query,
		   coap_pdu_t *response)
{
	erisd_coap *srv = coap_resource_get_userdata(resource);
	erisd_coap_request req;
	erisd_coap_response resp;

	memset(&req, 0, sizeof req);
	req.method = ERISD_COAP_GET;
	query_of(request, &req);
	erisd_coap_handle(srv->store, srv->writable, &req, &resp);
	set_code(response, (coap_pdu_code_t)COAP_RESPONSE_CODE(resp.code));
	if (!resp.payload)
		return;
	/* libcoap owns the block from here (freed by release_block),
	 * sending it in Block2 pieces if it does not fit one message. */
	if (!coap_add_data_large_response(
		    resource, session, request, response, query,
		    COAP_MEDIATYPE_APPLICATION_OCTET_STREAM, -1, 0,
		    resp.payload_len, resp.payload, release_block,
		    resp.payload))
		set_code(response, COAP_RESPONSE_CODE_INTERNAL_ERROR);
}

static void on_put(coap_resource_t *resource, coap_session_t *session,
		   const coap_pdu_t *request, const coap_string_t *query,
		   coap_pdu_t *response)
{
	erisd_coap *srv = coap_resource_get_userdata(resource);
	erisd_coap_request req;
	erisd_coap_response resp;
	const uint8_t *data = NULL;
	size_t len = 0, offset = 0, total = 0;

	(void)session;
	(void)query;
	memset(&req, 0, sizeof req);
	req.method = ERISD_COAP_PUT;
	if (!coap_get_data_large(request, &len, &data, &offset, &total))
		len = total = offset = 0;
	req.payload = data;
	req.payload_len = len;
	req.payload_partial = offset != 0 || total != len;
	erisd_coap_handle(srv->store, srv->writable, &req, &resp);
	free(resp.payload);
	set_code(response, (coap_pdu_code_t)COAP_RESPONSE_CODE(resp.code));
}

static void *loop(void *p)
{
	erisd_coap *srv = p;

	while (!atomic_load(&srv->stop))
		if (coap_io_process(srv->ctx, LOOP_WAKE_MS) < 0)
			break;
	return NULL;
}

/* Split "HOST:PORT" or "[HOST]:PORT" and resolve it for listening. */
static int listen_address(const char *spec, int proto, coap_address_t *out)
{
	char host[256], port[8];
	const char *colon = strrchr(spec, ':');
	const char *h = spec, *hend;
	struct addrinfo hints, *res = NULL;
	size_t plen;

	if (colon == NULL)
		return eris_error_set(ERIS_EINVAL,
				      "coap server: \"%s\" is not HOST:PORT",
				      spec);
	hend = colon;
	if (spec[0] == '[') {
		h = spec + 1;
		if (colon == spec || colon[-1] != ']')
			return eris_error_set(ERIS_EINVAL,
					      "coap server: \"%s\" is not "
					      "[HOST]:PORT",
					      spec);
		hend = colon - 1;
	}
	plen = strlen(colon + 1);
	if (hend <= h || (size_t)(hend - h) >= sizeof(host) || plen == 0 ||
	    plen >= sizeof(port) || strspn(colon + 1, "0123456789") != plen)
		return eris_error_set(ERIS_EINVAL,
				      "coap server: bad address \"%s\"", spec);
	memcpy(host, h, (size_t)(hend - h));
	host[hend - h] = '\0';
	memcpy(port, colon + 1, plen + 1);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = proto == ERISD_COAP_TCP ? SOCK_STREAM : SOCK_DGRAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if (getaddrinfo(host, port, &hints, &res) != 0 || res == NULL)
		return eris_error_set(ERIS_EINVAL,
				      "coap server: cannot resolve \"%s\"",
				      spec);
	coap_address_init(out);
	if (res->ai_addrlen > sizeof(out->addr)) {
		freeaddrinfo(res);
		return eris_error_set(ERIS_EINVAL,
				      "coap server: unusable address \"%s\"",
				      spec);
	}
	out->size = res->ai_addrlen;
	memcpy(&out->addr, res->ai_addr, res->ai_addrlen);
	freeaddrinfo(res);
	return ERIS_OK;
}

static void free_server(erisd_coap *srv)
{
	if (srv->ctx)
		coap_free_context(srv->ctx); /* endpoints, resources too */
	free(srv);
}

int erisd_coap_start(erisd_coap **out, eris_store *store,
		     const char *listen_addr, int proto, int writable,
		     char *bound_addr_out, size_t size)
{
	coap_address_t addr;
	coap_endpoint_t *ep;
	coap_resource_t *res;
	erisd_coap *srv;
	int rc;

	if (out == NULL || store == NULL || listen_addr == NULL ||
	    (proto != ERISD_COAP_UDP && proto != ERISD_COAP_TCP))
		return eris_error_set(ERIS_EINVAL, "invalid argument");
	*out = NULL;
	if (proto == ERISD_COAP_TCP && !coap_tcp_is_supported())
		return eris_error_set(ERIS_ERROR,
				      "coap server: this libcoap lacks TCP");
	if ((rc = listen_address(listen_addr, proto, &addr)) < 0)
		return rc;
	if (sodium_init() < 0)
		return eris_error_set(ERIS_ERROR,
				      "coap server: libsodium cannot start");
	pthread_once(&global_once, global_init);
	srv = calloc(1, sizeof(*srv));
	if (srv == NULL)
		return eris_error_set(ERIS_ENOMEM, "out of memory");
	srv->store = store;
	srv->writable = writable;
	atomic_init(&srv->stop, 0);
	srv->ctx = coap_new_context(NULL);
	if (srv->ctx == NULL) {
		free_server(srv);
		return eris_error_set(ERIS_ERROR,
				      "coap server: cannot create a libcoap "
				      "context");
	}
	coap_context_set_block_mode(srv->ctx, COAP_BLOCK_USE_LIBCOAP |
						      COAP_BLOCK_SINGLE_BODY);
	ep = coap_new_endpoint(srv->ctx, &addr,
			       proto == ERISD_COAP_TCP ? COAP_PROTO_TCP
						       : COAP_PROTO_UDP);
	if (ep == NULL) {
		free_server(srv);
		return eris_error_set(ERIS_ERROR,
				      "coap server: cannot listen on %s (%s)",
				      listen_addr,
				      proto == ERISD_COAP_TCP ? "TCP" : "UDP");
	}
	res = coap_resource_init(coap_make_str_const(BLOCKS_PATH), 0);
	if (res == NULL) {
		free_server(srv);
		return eris_error_set(ERIS_ENOMEM, "out of memory");
	}
	coap_resource_set_userdata(res, srv);
	coap_register_request_handler(res, COAP_REQUEST_GET, on_get);
	coap_register_request_handler(res, COAP_REQUEST_PUT, on_put);
	coap_add_resource(srv->ctx, res);
	if (bound_addr_out != NULL && size > 0) {
		/* coap_endpoint_str gives "ADDRESS:PORT PROTO", with the
		 * port the socket was actually bound to. */
		const char *s = coap_endpoint_str(ep);
		size_t n = strcspn(s, " ");

		if (n >= size) {
			free_server(srv);
			return eris_error_set(ERIS_EINVAL,
					      "coap server: address buffer "
					      "too small");
		}
		memcpy(bound_addr_out, s, n);
		bound_addr_out[n] = '\0';
	}
	if (pthread_create(&srv->thread, NULL, loop, srv) != 0) {
		free_server(srv);
		return eris_error_set(ERIS_ERROR,
				      "coap server: cannot start a thread");
	}
	*out = srv;
	return ERIS_OK;
}

void erisd_coap_stop(erisd_coap *srv)
{
	if (srv == NULL)
		return;
	atomic_store(&srv->stop, 1);
	pthread_join(srv->thread, NULL);
	free_server(srv);
}
