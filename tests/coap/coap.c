/*
 * tests/coap/coap.c - "ERIS over CoAP" end to end: the server module
 * (erisd/coap_server.c) on a loopback port, over UDP and over TCP, with
 * the client store (liberis/stores/coap.c) opened through
 * eris_store_open("coap://...") / ("coap+tcp://...").
 *
 * Why: proves the two halves agree with each other and with ERIS.md
 * section 10: round trips of 1 KiB and 32 KiB blocks (32 KiB over UDP
 * needs block-wise transfer), encoding and decoding content through the
 * store (get_many), the response codes (raw requests made with libcoap's
 * client API), a read-only server, a server that lies about a block
 * (the client verifies: ERIS_EMISMATCH) and a server that is gone.
 *
 * Every loop test runs once per transport: _i = 0 is UDP, 1 is TCP.
 * Everything stays on 127.0.0.1; every wait is bounded.
 */
#include "testutil.h"

#include "coap_server.h"

#include <arpa/inet.h>
#include <coap3/coap.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const char *scheme(int proto)
{
	return proto == ERISD_COAP_TCP ? "coap+tcp" : "coap";
}

/* A server on 127.0.0.1 (a free port) over a test store, and a client
 * store talking to it. */
typedef struct {
	eris_store *served; /* the server's store */
	test_store *ts;     /* its back end */
	erisd_coap *srv;
	eris_store *client;
	char addr[64];
	char url[96];
} rig;

static void rig_start(rig *r, int proto, int writable)
{
	int rc;

	memset(r, 0, sizeof(*r));
	r->served = test_store_new(&r->ts);
	ck_assert_ptr_nonnull(r->served);
	rc = erisd_coap_start(&r->srv, r->served, "127.0.0.1:0", proto,
			      writable, r->addr, sizeof(r->addr));
	ck_assert_eris(rc, ERIS_OK);
	ck_assert_msg(strncmp(r->addr, "127.0.0.1:", 10) == 0 &&
			      strcmp(r->addr, "127.0.0.1:0") != 0,
		      "bound address %s", r->addr);
	snprintf(r->url, sizeof(r->url), "%s://%s", scheme(proto), r->addr);
	rc = eris_store_open(&r->client, r->url, 0);
	ck_assert_eris(rc, ERIS_OK);
}

static void rig_stop(rig *r)
{
	eris_store_free(r->client);
	erisd_coap_stop(r->srv);
	eris_store_free(r->served);
}

static void make_block(uint8_t *block, size_t len, uint64_t seed,
		       uint8_t ref[ERIS_REF_BYTES])
{
	fill_random(block, len, seed, 0);
	crypto_generichash(ref, ERIS_REF_BYTES, block, len, NULL, 0);
}

/* put, get and has of one block of each size. */
START_TEST(round_trip)
{
	static const size_t sizes[] = {ERIS_BLOCK_SIZE_1K, ERIS_BLOCK_SIZE_32K};
	uint8_t *block = malloc(ERIS_BLOCK_SIZE_MAX);
	uint8_t *buf = malloc(ERIS_BLOCK_SIZE_MAX);
	uint8_t ref[ERIS_REF_BYTES];
	size_t len;
	rig r;

	rig_start(&r, _i, 1);
	for (size_t k = 0; k < 2; k++) {
		make_block(block, sizes[k], 100 + k, ref);
		ck_assert_int_eq(eris_store_has(r.client, ref), 0);
		ck_assert_eris(eris_store_get(r.client, ref, buf,
					      ERIS_BLOCK_SIZE_MAX, &len),
			       ERIS_ENOTFOUND);
		ck_assert_eris(eris_store_put(r.client, ref, block, sizes[k]),
			       ERIS_OK);
		ck_assert_eris(eris_store_flush(r.client), ERIS_OK);
		ck_assert_ptr_nonnull(test_store_find(r.ts, ref));
		ck_assert_int_eq(eris_store_has(r.client, ref), 1);
		memset(buf, 0, ERIS_BLOCK_SIZE_MAX);
		ck_assert_eris(eris_store_get(r.client, ref, buf,
					      ERIS_BLOCK_SIZE_MAX, &len),
			       ERIS_OK);
		ck_assert_uint_eq(len, sizes[k]);
		ck_assert_mem_eq(buf, block, sizes[k]);
		/* Again: the session is reused; put is idempotent. */
		ck_assert_eris(eris_store_put(r.client, ref, block, sizes[k]),
			       ERIS_OK);
	}
	/* A buffer too small for the 32 KiB block. */
	ck_assert_eris(eris_store_get(r.client, ref, buf, ERIS_BLOCK_SIZE_1K,
				      &len),
		       ERIS_EBLOCKSIZE);
	rig_stop(&r);
	free(block);
	free(buf);
}
END_TEST

/* Content encoded into the CoAP store decodes back through it (the
 * decoder fetches with get_many). */
START_TEST(encode_decode)
{
	static const uint32_t bs[] = {ERIS_BLOCK_SIZE_1K, ERIS_BLOCK_SIZE_32K};
	static const size_t lens[] = {40000, 300000};
	rig r;

	rig_start(&r, _i, 1);
	for (size_t k = 0; k < 2; k++) {
		eris_encode_options o = ERIS_ENCODE_OPTIONS_INIT;
		uint8_t *data = malloc(lens[k]), *back = malloc(lens[k] + 1);
		eris_read_cap cap;
		eris_decoder *dec = NULL;
		size_t got = 0, n;

		o.block_size = bs[k];
		fill_random(data, lens[k], 7 + k, 0);
		ck_assert_eris(eris_encode(&cap, r.client, &o, data, lens[k]),
			       ERIS_OK);
		ck_assert_eris(eris_decoder_new(&dec, r.client, &cap),
			       ERIS_OK);
		ck_assert_uint_eq(eris_decoder_length(dec), lens[k]);
		for (int guard = 0; guard < 100000 && got <= lens[k];
		     guard++) {
			ck_assert_eris(eris_decoder_read(dec, back + got,
							 lens[k] + 1 - got,
							 &n),
				       ERIS_OK);
			if (n == 0)
				break;
			got += n;
		}
		ck_assert_uint_eq(got, lens[k]);
		ck_assert_mem_eq(back, data, lens[k]);
		eris_decoder_free(dec);
		free(data);
		free(back);
	}
	rig_stop(&r);
}
END_TEST

/* A corrupt copy in the server's store is not served: the server
 * verifies with eris_store_get and answers 5.00 (ERIS_ERROR here). */
START_TEST(corrupt_on_server)
{
	uint8_t block[ERIS_BLOCK_SIZE_1K], other[ERIS_BLOCK_SIZE_1K];
	uint8_t ref[ERIS_REF_BYTES], ref2[ERIS_REF_BYTES];
	uint8_t buf[ERIS_BLOCK_SIZE_1K];
	eris_store_backend *be;
	size_t len;
	rig r;

	rig_start(&r, _i, 1);
	make_block(block, sizeof(block), 1, ref);
	make_block(other, sizeof(other), 2, ref2);
	be = eris_store_backend_of(r.served);
	ck_assert_eris(be->put(be, ref, other, sizeof(other)), ERIS_OK);
	ck_assert_eris(eris_store_get(r.client, ref, buf, sizeof(buf), &len),
		       ERIS_ERROR);
	ck_assert_msg(strstr(eris_error_last(), r.url) != NULL &&
			      strstr(eris_error_last(), "5.00") != NULL,
		      "message: %s", eris_error_last());
	rig_stop(&r);
}
END_TEST

START_TEST(read_only)
{
	uint8_t block[ERIS_BLOCK_SIZE_1K], buf[ERIS_BLOCK_SIZE_1K];
	uint8_t ref[ERIS_REF_BYTES];
	size_t len;
	rig r;

	rig_start(&r, _i, 0);
	make_block(block, sizeof(block), 3, ref);
	ck_assert_eris(eris_store_put(r.client, ref, block, sizeof(block)),
		       ERIS_EREADONLY);
	ck_assert_ptr_null(test_store_find(r.ts, ref));
	/* Reads still work. */
	ck_assert_eris(eris_store_put(r.served, ref, block, sizeof(block)),
		       ERIS_OK);
	ck_assert_eris(eris_store_get(r.client, ref, buf, sizeof(buf), &len),
		       ERIS_OK);
	ck_assert_mem_eq(buf, block, sizeof(block));
	rig_stop(&r);
}
END_TEST

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* A server that is gone: ERIS_ERROR naming the URL, within the 10 s
 * timeout (plus slack). */
START_TEST(server_down)
{
	uint8_t block[ERIS_BLOCK_SIZE_1K], buf[ERIS_BLOCK_SIZE_1K];
	uint8_t ref[ERIS_REF_BYTES];
	size_t len;
	double t0;
	rig r;
	int rc;

	rig_start(&r, _i, 1);
	erisd_coap_stop(r.srv);
	r.srv = NULL;
	make_block(block, sizeof(block), 4, ref);
	t0 = now_s();
	rc = eris_store_get(r.client, ref, buf, sizeof(buf), &len);
	ck_assert_eris(rc, ERIS_ERROR);
	ck_assert_msg(strstr(eris_error_last(), r.url) != NULL, "message: %s",
		      eris_error_last());
	ck_assert_msg(now_s() - t0 < 60.0, "took %.1f s", now_s() - t0);
	t0 = now_s();
	ck_assert_eris(eris_store_put(r.client, ref, block, sizeof(block)),
		       ERIS_ERROR);
	ck_assert_msg(now_s() - t0 < 60.0, "took %.1f s", now_s() - t0);
	rig_stop(&r);
}
END_TEST

/* A server that never answers (a bound UDP socket; a TCP socket that
 * listens but never accepts, so the CSM exchange never ends): ERIS_ERROR
 * "no response within 10 s", not a hang. */
START_TEST(silent_server)
{
	uint8_t ref[ERIS_REF_BYTES] = {0}, buf[ERIS_BLOCK_SIZE_1K];
	struct sockaddr_in sa;
	socklen_t salen = sizeof(sa);
	char url[96];
	eris_store *s;
	size_t len;
	double t0;
	int fd = socket(AF_INET, _i == ERISD_COAP_TCP ? SOCK_STREAM : SOCK_DGRAM,
			0);

	ck_assert_int_ge(fd, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(0x7f000001);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	if (_i == ERISD_COAP_TCP)
		ck_assert_int_eq(listen(fd, 4), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &salen), 0);
	snprintf(url, sizeof(url), "%s://127.0.0.1:%u", scheme(_i),
		 (unsigned)ntohs(sa.sin_port));
	ck_assert_eris(eris_store_open(&s, url, 0), ERIS_OK);
	t0 = now_s();
	ck_assert_eris(eris_store_get(s, ref, buf, sizeof(buf), &len),
		       ERIS_ERROR);
	ck_assert_msg(strstr(eris_error_last(), url) != NULL, "message: %s",
		      eris_error_last());
	ck_assert_msg(now_s() - t0 < 60.0, "took %.1f s", now_s() - t0);
	eris_store_free(s);
	close(fd);
}
END_TEST

START_TEST(bad_urls)
{
	static const char *bad[] = {
		"coap://",          "coap://:5683",      "coap://h:x",
		"coap://u@h:1",     "coap://h:1?q",      "coap://[::1",
		"coap+tcp://127.0.0.1:123456",
	};
	eris_store *s = NULL;

	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++)
		ck_assert_msg(eris_store_open(&s, bad[k], 0) == ERIS_ESTORE,
			      "%s accepted", bad[k]);
	ck_assert_eris(eris_store_open(&s, "coap://127.0.0.1", 0), ERIS_OK);
	eris_store_free(s);
	ck_assert_eris(eris_store_open(&s, "coap+tcp://[::1]:5/x/y/", 0),
		       ERIS_OK);
	eris_store_free(s);
}
END_TEST

/* ---- raw CoAP requests (libcoap's client API) ------------------------- */

typedef struct {
	int done;
	coap_pdu_code_t code;
	uint8_t body[ERIS_BLOCK_SIZE_MAX];
	size_t len;
} raw_reply;

static coap_response_t raw_on_response(coap_session_t *session,
				       const coap_pdu_t *sent,
				       const coap_pdu_t *received,
				       const coap_mid_t mid)
{
	raw_reply *out = coap_session_get_app_data(session);
	const uint8_t *data;
	size_t len, off, total;

	(void)sent;
	(void)mid;
	out->code = coap_pdu_get_code(received);
	if (coap_get_data_large(received, &len, &data, &off, &total) &&
	    len <= sizeof(out->body)) {
		memcpy(out->body, data, len);
		out->len = len;
	}
	out->done = 1;
	return COAP_RESPONSE_OK;
}

/* One request to BLOCKS on 127.0.0.1:port; returns the response code
 * (0 if none within 30 s). query may hold nqueries options of qlen bytes
 * each. */
static coap_pdu_code_t raw_request(const char *addr, int proto,
				   coap_pdu_code_t method,
				   const uint8_t *query, size_t qlen,
				   int nqueries, const uint8_t *payload,
				   size_t plen, raw_reply *out)
{
	static const char *segs[] = {".well-known", "eris", "blocks"};
	coap_context_t *ctx = coap_new_context(NULL);
	coap_address_t dst;
	coap_session_t *ses;
	coap_pdu_t *pdu;
	uint8_t token[8];
	size_t tlen;
	int port = atoi(strchr(addr, ':') + 1);

	ck_assert_ptr_nonnull(ctx);
	coap_context_set_block_mode(ctx, COAP_BLOCK_USE_LIBCOAP |
						 COAP_BLOCK_SINGLE_BODY);
	coap_register_response_handler(ctx, raw_on_response);
	coap_address_init(&dst);
	dst.size = sizeof(dst.addr.sin);
	dst.addr.sin.sin_family = AF_INET;
	dst.addr.sin.sin_addr.s_addr = htonl(0x7f000001);
	dst.addr.sin.sin_port = htons((uint16_t)port);
	ses = coap_new_client_session(ctx, NULL, &dst,
				      proto == ERISD_COAP_TCP ? COAP_PROTO_TCP
							      : COAP_PROTO_UDP);
	ck_assert_ptr_nonnull(ses);
	memset(out, 0, sizeof(*out));
	coap_session_set_app_data(ses, out);
	pdu = coap_new_pdu(COAP_MESSAGE_CON, method, ses);
	ck_assert_ptr_nonnull(pdu);
	coap_session_new_token(ses, &tlen, token);
	coap_add_token(pdu, tlen, token);
	for (int k = 0; k < 3; k++)
		coap_add_option(pdu, COAP_OPTION_URI_PATH, strlen(segs[k]),
				(const uint8_t *)segs[k]);
	for (int k = 0; k < nqueries; k++)
		coap_add_option(pdu, COAP_OPTION_URI_QUERY, qlen, query);
	if (payload)
		coap_add_data_large_request(ses, pdu, plen, payload, NULL,
					    NULL);
	ck_assert_int_ne(coap_send(ses, pdu), COAP_INVALID_MID);
	/* Over UDP a 32 KiB answer comes in many small Block2 pieces (the
	 * server's amplification bound): wait by time, not by rounds. */
	for (double t0 = now_s(); !out->done && now_s() - t0 < 30.0;)
		coap_io_process(ctx, 100);
	coap_session_release(ses);
	coap_free_context(ctx);
	return out->done ? out->code : 0;
}

START_TEST(raw_codes)
{
	static raw_reply reply;
	uint8_t *block = malloc(ERIS_BLOCK_SIZE_MAX);
	uint8_t ref[ERIS_REF_BYTES];
	char name[ERIS_REF_BASE32_LEN + 1];
	rig r;

	rig_start(&r, _i, 1);
	make_block(block, ERIS_BLOCK_SIZE_32K, 5, ref);
	/* PUT: the server computes the reference. */
	ck_assert_uint_eq(raw_request(r.addr, _i, COAP_REQUEST_CODE_PUT, NULL,
				      0, 0, block, ERIS_BLOCK_SIZE_32K, &reply),
			  COAP_RESPONSE_CODE_CREATED);
	ck_assert_ptr_nonnull(test_store_find(r.ts, ref));
	/* Wrong sizes: 4.06. */
	ck_assert_uint_eq(raw_request(r.addr, _i, COAP_REQUEST_CODE_PUT, NULL,
				      0, 0, block, 1000, &reply),
			  COAP_RESPONSE_CODE_NOT_ACCEPTABLE);
	ck_assert_uint_eq(raw_request(r.addr, _i, COAP_REQUEST_CODE_PUT, NULL,
				      0, 0, block, 2048, &reply),
			  COAP_RESPONSE_CODE_NOT_ACCEPTABLE);
	/* GET with the raw reference, then base32. */
	ck_assert_uint_eq(raw_request(r.addr, _i, COAP_REQUEST_CODE_GET, ref,
				      sizeof(ref), 1, NULL, 0, &reply),
			  COAP_RESPONSE_CODE_CONTENT);
	ck_assert_uint_eq(reply.len, ERIS_BLOCK_SIZE_32K);
	ck_assert_mem_eq(reply.body, block, ERIS_BLOCK_SIZE_32K);
	eris_base32_encode(name, ref, sizeof(ref));
	ck_assert_uint_eq(raw_request(r.addr, _i, COAP_REQUEST_CODE_GET,
				      (const uint8_t *)name,
				      ERIS_REF_BASE32_LEN, 1, NULL, 0, &reply),
			  COAP_RESPONSE_CODE_CONTENT);
	/* Missing, repeated, malformed (lower case) query: 4.00. */
	ck_assert_uint_eq(raw_request(r.addr, _i, COAP_REQUEST_CODE_GET, NULL,
				      0, 0, NULL, 0, &reply),
			  COAP_RESPONSE_CODE_BAD_REQUEST);
	ck_assert_uint_eq(raw_request(r.addr, _i, COAP_REQUEST_CODE_GET, ref,
				      sizeof(ref), 2, NULL, 0, &reply),
			  COAP_RESPONSE_CODE_BAD_REQUEST);
	name[0] = (char)(name[0] | 0x20);
	ck_assert_uint_eq(raw_request(r.addr, _i, COAP_REQUEST_CODE_GET,
				      (const uint8_t *)name,
				      ERIS_REF_BASE32_LEN, 1, NULL, 0, &reply),
			  COAP_RESPONSE_CODE_BAD_REQUEST);
	/* Absent: 4.04. Other methods: 4.05. */
	ref[0] ^= 1;
	ck_assert_uint_eq(raw_request(r.addr, _i, COAP_REQUEST_CODE_GET, ref,
				      sizeof(ref), 1, NULL, 0, &reply),
			  COAP_RESPONSE_CODE_NOT_FOUND);
	ck_assert_uint_eq(raw_request(r.addr, _i, COAP_REQUEST_CODE_POST, NULL,
				      0, 0, block, ERIS_BLOCK_SIZE_1K, &reply),
			  COAP_RESPONSE_CODE_NOT_ALLOWED);
	ck_assert_uint_eq(raw_request(r.addr, _i, COAP_REQUEST_CODE_DELETE,
				      ref, sizeof(ref), 1, NULL, 0, &reply),
			  COAP_RESPONSE_CODE_NOT_ALLOWED);
	rig_stop(&r);
	free(block);
}
END_TEST

/* ---- a lying server: the client must not trust it --------------------- */

typedef struct {
	coap_context_t *ctx;
	pthread_t thread;
	atomic_int stop;
	uint8_t block[ERIS_BLOCK_SIZE_1K];
} liar;

static void liar_get(coap_resource_t *res, coap_session_t *session,
		     const coap_pdu_t *request, const coap_string_t *query,
		     coap_pdu_t *response)
{
	liar *l = coap_resource_get_userdata(res);

	coap_pdu_set_code(response, COAP_RESPONSE_CODE_CONTENT);
	coap_add_data_large_response(res, session, request, response, query,
				     COAP_MEDIATYPE_APPLICATION_OCTET_STREAM,
				     -1, 0, sizeof(l->block), l->block, NULL,
				     NULL);
}

static void *liar_loop(void *p)
{
	liar *l = p;

	while (!atomic_load(&l->stop))
		coap_io_process(l->ctx, 100);
	return NULL;
}

START_TEST(lying_server)
{
	liar l;
	coap_address_t a;
	coap_endpoint_t *ep;
	coap_resource_t *res;
	char url[96];
	uint8_t ref[ERIS_REF_BYTES], buf[ERIS_BLOCK_SIZE_MAX];
	size_t len;
	eris_store *s;

	memset(&l, 0, sizeof(l));
	fill_random(l.block, sizeof(l.block), 9, 0);
	fill_random(ref, sizeof(ref), 10, 0); /* not the block's hash */
	l.ctx = coap_new_context(NULL);
	ck_assert_ptr_nonnull(l.ctx);
	coap_context_set_block_mode(l.ctx, COAP_BLOCK_USE_LIBCOAP |
						   COAP_BLOCK_SINGLE_BODY);
	coap_address_init(&a);
	a.size = sizeof(a.addr.sin);
	a.addr.sin.sin_family = AF_INET;
	a.addr.sin.sin_addr.s_addr = htonl(0x7f000001);
	ep = coap_new_endpoint(l.ctx, &a,
			       _i == ERISD_COAP_TCP ? COAP_PROTO_TCP
						    : COAP_PROTO_UDP);
	ck_assert_ptr_nonnull(ep);
	res = coap_resource_init(coap_make_str_const(".well-known/eris/blocks"),
				 0);
	coap_resource_set_userdata(res, &l);
	coap_register_request_handler(res, COAP_REQUEST_GET, liar_get);
	coap_add_resource(l.ctx, res);
	snprintf(url, sizeof(url), "%s://%.*s", scheme(_i),
		 (int)strcspn(coap_endpoint_str(ep), " "),
		 coap_endpoint_str(ep));
	atomic_init(&l.stop, 0);
	ck_assert_int_eq(pthread_create(&l.thread, NULL, liar_loop, &l), 0);
	ck_assert_eris(eris_store_open(&s, url, 0), ERIS_OK);
	ck_assert_eris(eris_store_get(s, ref, buf, sizeof(buf), &len),
		       ERIS_EMISMATCH);
	eris_store_free(s);
	atomic_store(&l.stop, 1);
	pthread_join(l.thread, NULL);
	coap_free_context(l.ctx);
}
END_TEST

static Suite *coap_suite(void)
{
	Suite *s = suite_create("coap");
	TCase *tc = tcase_create("coap");

	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, round_trip, 0, 2);
	tcase_add_loop_test(tc, encode_decode, 0, 2);
	tcase_add_loop_test(tc, corrupt_on_server, 0, 2);
	tcase_add_loop_test(tc, read_only, 0, 2);
	tcase_add_loop_test(tc, raw_codes, 0, 2);
	tcase_add_loop_test(tc, lying_server, 0, 2);
	tcase_add_loop_test(tc, server_down, 0, 2);
	tcase_add_loop_test(tc, silent_server, 0, 2);
	tcase_add_test(tc, bad_urls);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	coap_startup();
	coap_set_log_level(LOG_EMERG); /* refused connections are expected */
	return run_suite(coap_suite());
}
