/*
 * coap.c - the CoAP client store: coap://HOST[:PORT][/PATH] (CoAP over
 * UDP, RFC 7252) and coap+tcp://HOST[:PORT][/PATH] (CoAP over TCP, RFC
 * 8323), speaking "ERIS over CoAP" (ERIS.md section 10) with libcoap 3.
 *
 * Why: CoAP is the transport ERIS names for small devices and
 * peer-to-peer links; erisd can serve it (erisd/coap_server.c). The
 * server is not trusted: the library wrapper (store.c) re-hashes every
 * block this back end returns.
 *
 * Resource: BLOCKS = PATH/blocks, or .well-known/eris/blocks when the
 * URL has no path (the endpoint-wide store). REF is the 52-character
 * upper-case base32 of the reference, sent as the one Uri-Query option.
 *
 *   get       GET BLOCKS?REF (confirmable over UDP)
 *             2.05 -> the payload is the block. A body larger than the
 *             caller's buffer or than 32768 bytes is ERIS_EBLOCKSIZE,
 *             found before more of it is asked for; a broken Block2
 *             sequence is ERIS_ERROR (rules: coap_body.h).
 *             4.04 -> ERIS_ENOTFOUND. Another code, a reset, a failed
 *             connection or a timeout -> ERIS_ERROR naming the URL and
 *             the code or cause.
 *   has       the same GET (the protocol has no cheaper test):
 *             2.05 -> 1, 4.04 -> 0, else as for get.
 *   put       PUT BLOCKS with the block as payload (the server hashes
 *             it). 2.01/2.04 -> ERIS_OK. 4.01/4.03/4.05 -> ERIS_EREADONLY
 *             ("write refused"). Else ERIS_ERROR.
 *   get_many  up to COAP_PARALLEL requests in flight at once on the one
 *             session, each response matched to its request by token.
 *             (Over UDP libcoap itself sends at most NSTART = 1
 *             confirmable request at a time and queues the rest.)
 *   flush     nothing to do: every PUT was acknowledged by the server.
 *   foreach, remove
 *             not supported (ERIS_ENOTSUP from the wrapper).
 *
 * Block-wise transfer (RFC 7959). GET: the body is assembled here
 * (coap_body.c), straight into the caller's buffer: each Block2 piece
 * must follow the last, every piece but the last must be a whole block,
 * and the body (or an announced Size2) may not grow past the caller's
 * cap, so a server can make the client hold at most one block and send
 * at most cap / 16 requests for it. (libcoap's own assembly buffered
 * whatever a server sent: 150-200 MB in 10 s from one that answered
 * M=1 for ever.) PUT: libcoap's block mode (COAP_BLOCK_USE_LIBCOAP, on a
 * session of its own) splits a 32 KiB body into Block1 requests; a PUT
 * answered block-wise drops that session, so that libcoap stops asking
 * for the answer's pieces. Over TCP the client's CSM asks for messages
 * of at most 33 KiB; libcoap 3 still reads one incoming message of up to
 * 8 MiB before this code sees it (its fixed limit).
 *
 * Timeouts: every request has COAP_TIMEOUT_S (10 s) to complete, all its
 * Block2 pieces and (over TCP) waiting for the server's CSM included, so
 * a server that drips or never finishes is given up on after 10 s. Over
 * UDP the first retransmission comes after
 * 1 s and at most 2 are made. When a request times out, the session is
 * dropped (with whatever else was in flight on it, which fails with the
 * same error) and a new one is made for the next request.
 *
 * Not sent: the Size1 option (the Nim implementation sends the expected
 * block size in it; a client that only has the reference does not know
 * it). Servers that require it answer 4.00, reported as ERIS_ERROR.
 * No DTLS (coaps://): this store uses libcoap's no-TLS flavour.
 *
 * Threads: one libcoap context and one session per store, created on
 * first use and reused; one mutex serializes all requests (a get_many
 * batch holds it until the whole batch is done). libcoap is started once
 * per process (pthread_once). libcoap's own log messages (warnings such
 * as a refused connection) go to stderr at libcoap's default level; an
 * application can change that with coap_set_log_level().
 */
#include "module.h"
#include "coap_body.h"

#include <coap3/coap.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define COAP_PARALLEL 8
#define COAP_TIMEOUT_S 10
#define COAP_MAX_SEGMENTS 16
#define COAP_DEFAULT_PORT_TEXT "5683"

typedef enum { REQ_GET, REQ_PUT } req_kind;

/* One request in flight. */
typedef struct {
	int busy;           /* sent, waiting for its outcome */
	int done;           /* response or failure received */
	size_t index;       /* position in the batch */
	uint8_t token[8];
	size_t token_len;
	coap_session_t *session; /* the session it was sent on */
	uint8_t *buf;       /* GET: receives the body */
	size_t cap;         /* GET: at most this many bytes */
	size_t len;         /* GET: bytes received */
	eris__coap_body body; /* GET: the body assembled so far */
	int more;           /* GET: ask for the Block2 piece next_block2 */
	uint32_t next_block2;
	int bad;            /* GET: the body broke a rule (coap_body.h) */
	const char *why;    /* ... which one */
	int block2_seen;    /* PUT: the response had a Block2 option */
	coap_pdu_code_t code; /* the response code, 0 if none */
	int nack;           /* failed without a response */
	coap_nack_reason_t reason;
	struct timespec deadline;
} req;

typedef struct {
	eris_store_backend parent;
	char *url;          /* for messages */
	char *path;         /* owned copy holding the path segments */
	const char *seg[COAP_MAX_SEGMENTS];
	size_t seg_len[COAP_MAX_SEGMENTS];
	size_t nseg;
	coap_proto_t proto;
	coap_address_t server;
	pthread_mutex_t lock;
	coap_context_t *ctx;
	/* GETs and PUTs go on sessions of their own: GET bodies are
	 * assembled here (coap_body.c, bounded), PUT bodies are split into
	 * Block1 pieces by libcoap. NULL until used, or after a failure. */
	coap_session_t *session;     /* GET */
	coap_session_t *put_session; /* PUT */
	req slots[COAP_PARALLEL];
} coap_store;

static pthread_once_t global_once = PTHREAD_ONCE_INIT;

static void global_init(void)
{
	coap_startup();
}

static req *find_slot(coap_store *c, coap_session_t *session,
		      coap_bin_const_t token)
{
	for (int s = 0; s < COAP_PARALLEL; s++) {
		req *r = &c->slots[s];

		if (r->busy && !r->done && r->session == session &&
		    r->token_len == token.length &&
		    memcmp(r->token, token.s, token.length) == 0)
			return r;
	}
	return NULL;
}

/* The value of option number in pdu, as an unsigned integer; 0 if absent
 * (then *present is 0). */
static uint64_t uint_option(const coap_pdu_t *pdu, coap_option_num_t number,
			    int *present)
{
	coap_opt_iterator_t it;
	coap_opt_t *opt = coap_check_option(pdu, number, &it);
	const uint8_t *v;
	uint64_t value = 0;
	size_t n;

	*present = opt != NULL;
	if (opt == NULL)
		return 0;
	v = coap_opt_value(opt);
	n = coap_opt_length(opt);
	for (size_t i = 0; i < n && i < 8; i++)
		value = value << 8 | v[i];
	/* More than 8 bytes (not a valid Size2 or Block2): saturate, so that
	 * the size checks refuse it. */
	return n > 8 ? UINT64_MAX : value;
}

/* A 2.05 piece of a GET body: add it under the rules of coap_body.h. */
static void add_piece(req *r, const coap_pdu_t *received)
{
	int has_block2, has_size2, rc;
	uint64_t block2 = uint_option(received, COAP_OPTION_BLOCK2,
				      &has_block2);
	uint64_t size2 = uint_option(received, COAP_OPTION_SIZE2, &has_size2);
	const uint8_t *data = NULL;
	size_t len = 0;

	if (!coap_get_data(received, &len, &data))
		len = 0;
	if (block2 > 0xffffff) {
		/* Block2 has at most 3 bytes (RFC 7959 section 2.2). */
		r->bad = ERIS_ERROR;
		r->why = "a Block2 option longer than 3 bytes";
		return;
	}
	rc = eris__coap_body_add(&r->body, has_block2, (uint32_t)block2,
				 has_size2, size2, data, len, &r->next_block2,
				 &r->why);
	if (rc == ERIS__COAP_BODY_MORE)
		r->more = 1;
	else if (rc < 0)
		r->bad = rc;
	else
		r->len = r->body.len;
}

static coap_response_t on_response(coap_session_t *session,
				   const coap_pdu_t *sent,
				   const coap_pdu_t *received,
				   const coap_mid_t mid)
{
	coap_store *c = coap_session_get_app_data(session);
	req *r;

	(void)sent;
	(void)mid;
	if (c == NULL)
		return COAP_RESPONSE_OK;
	r = find_slot(c, session, coap_pdu_get_token(received));
	if (r == NULL)
		return COAP_RESPONSE_OK; /* a late answer to a dropped request */
	r->code = coap_pdu_get_code(received);
	if (r->buf != NULL && r->code == COAP_RESPONSE_CODE_CONTENT) {
		add_piece(r, received);
		if (r->more)
			return COAP_RESPONSE_OK; /* run_batch asks for more */
	}
	if (r->buf == NULL) {
		int present;

		(void)uint_option(received, COAP_OPTION_BLOCK2, &present);
		r->block2_seen = present;
	}
	r->done = 1;
	return COAP_RESPONSE_OK;
}

static void on_nack(coap_session_t *session, const coap_pdu_t *sent,
		    const coap_nack_reason_t reason, const coap_mid_t mid)
{
	coap_store *c = coap_session_get_app_data(session);

	(void)mid;
	if (c == NULL)
		return;
	for (int s = 0; s < COAP_PARALLEL; s++) {
		req *r = &c->slots[s];

		if (!r->busy || r->done || r->session != session)
			continue;
		if (sent != NULL) {
			coap_bin_const_t t = coap_pdu_get_token(sent);

			if (t.length != r->token_len ||
			    memcmp(t.s, r->token, t.length) != 0)
				continue;
		}
		r->nack = 1;
		r->reason = reason;
		r->done = 1;
	}
}

static const char *nack_text(coap_nack_reason_t reason)
{
	switch (reason) {
	case COAP_NACK_TOO_MANY_RETRIES:
		return "no answer (too many retransmissions)";
	case COAP_NACK_NOT_DELIVERABLE:
		return "cannot be delivered (connection failed?)";
	case COAP_NACK_RST:
		return "reset by the server";
	case COAP_NACK_ICMP_ISSUE:
		return "host or port unreachable";
	default:
		return "failed";
	}
}

static coap_session_t **session_of(coap_store *c, req_kind kind)
{
	return kind == REQ_GET ? &c->session : &c->put_session;
}

/* Drop a session and everything in flight on it. */
static void drop_session(coap_store *c, req_kind kind)
{
	coap_session_t **s = session_of(c, kind);

	if (*s) {
		coap_session_set_app_data(*s, NULL);
		coap_session_release(*s);
		*s = NULL;
	}
}

static int ensure_session(coap_store *c, req_kind kind)
{
	coap_session_t **s = session_of(c, kind);

	if (*s && coap_session_get_state(*s) == COAP_SESSION_STATE_NONE)
		drop_session(c, kind);
	if (*s)
		return ERIS_OK;
	/* A session takes the context's block mode when it is made: libcoap
	 * splits PUT bodies into Block1 pieces, but never assembles a GET
	 * body (it would buffer whatever the server sends). */
	coap_context_set_block_mode(c->ctx, kind == REQ_PUT
						    ? COAP_BLOCK_USE_LIBCOAP
						    : 0);
	*s = coap_new_client_session(c->ctx, NULL, &c->server, c->proto);
	if (*s == NULL)
		return eris_error_set(ERIS_ERROR,
				      "coap store %s: cannot open a session",
				      c->url);
	coap_session_set_app_data(*s, c);
	if (c->proto == COAP_PROTO_UDP) {
		coap_fixed_point_t ack = {1, 0};

		coap_session_set_ack_timeout(*s, ack);
		coap_session_set_max_retransmit(*s, 2);
	}
	return ERIS_OK;
}

static void release_copy(coap_session_t *session, void *p)
{
	(void)session;
	free(p);
}

/* Build and send a request in slot r (for a GET, the Block2 piece
 * r->next_block2 when r->more is set); ERIS_OK or an error. The deadline
 * is set by the caller: all pieces of a GET share one. */
static int send_request(coap_store *c, req *r, req_kind kind,
			const uint8_t *ref, const uint8_t *body, size_t len)
{
	char name[ERIS_REF_BASE32_LEN + 1];
	coap_session_t *session = *session_of(c, kind);
	coap_pdu_t *pdu;
	int ok = 1;

	pdu = coap_new_pdu(COAP_MESSAGE_CON,
			   kind == REQ_GET ? COAP_REQUEST_CODE_GET
					   : COAP_REQUEST_CODE_PUT,
			   session);
	if (pdu == NULL)
		return eris_error_set(ERIS_ENOMEM,
				      "coap store %s: cannot create a request",
				      c->url);
	coap_session_new_token(session, &r->token_len, r->token);
	ok = coap_add_token(pdu, r->token_len, r->token);
	for (size_t i = 0; ok && i < c->nseg; i++)
		ok = coap_add_option(pdu, COAP_OPTION_URI_PATH, c->seg_len[i],
				     (const uint8_t *)c->seg[i]) != 0;
	if (ok && kind == REQ_GET) {
		eris_base32_encode(name, ref, ERIS_REF_BYTES);
		ok = coap_add_option(pdu, COAP_OPTION_URI_QUERY,
				     ERIS_REF_BASE32_LEN,
				     (const uint8_t *)name) != 0;
	}
	if (ok && kind == REQ_GET && r->more) {
		uint8_t opt[4];
		size_t n = coap_encode_var_safe(opt, sizeof(opt),
						r->next_block2);

		ok = coap_add_option(pdu, COAP_OPTION_BLOCK2, n, opt) != 0;
	}
	if (ok && kind == REQ_PUT) {
		/* A copy, so that a request dropped on a timeout never reads
		 * the caller's buffer after put has returned. */
		uint8_t *copy = malloc(len);
		uint8_t fmt[2];
		size_t n = coap_encode_var_safe(
			fmt, sizeof(fmt),
			COAP_MEDIATYPE_APPLICATION_OCTET_STREAM);

		ok = copy != NULL &&
		     coap_add_option(pdu, COAP_OPTION_CONTENT_FORMAT, n, fmt);
		if (ok) {
			memcpy(copy, body, len);
			ok = coap_add_data_large_request(session, pdu, len,
							 copy, release_copy,
							 copy);
		}
		if (!ok)
			free(copy);
	}
	if (!ok) {
		coap_delete_pdu(pdu);
		return eris_error_set(ERIS_ERROR,
				      "coap store %s: cannot build a request",
				      c->url);
	}
	r->session = session;
	r->busy = 1;
	r->done = 0;
	r->more = 0;
	r->code = 0;
	r->nack = 0;
	if (coap_send(session, pdu) == COAP_INVALID_MID) {
		r->busy = 0;
		return eris_error_set(ERIS_ERROR,
				      "coap store %s: cannot send a request",
				      c->url);
	}
	return ERIS_OK;
}

static int expired(const struct timespec *deadline)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > deadline->tv_sec ||
	       (now.tv_sec == deadline->tv_sec &&
		now.tv_nsec >= deadline->tv_nsec);
}

/* A request of a batch: what to send and where its outcome goes. */
typedef struct {
	req_kind kind;
	const uint8_t (*refs)[ERIS_REF_BYTES];
	uint8_t *const *bufs;
	size_t cap;
	const uint8_t *body;
	size_t body_len;
	size_t *out_lens;
	coap_pdu_code_t *codes;
	int *results; /* ERIS_OK when codes[i] is set, else an error */
} batch;

static const char *method_name(req_kind kind)
{
	return kind == REQ_GET ? "GET" : "PUT";
}

/* Start request i of the batch in the free slot r. */
static int start_request(coap_store *c, req *r, batch *b, size_t i)
{
	int rc = ensure_session(c, b->kind);

	if (rc < 0)
		return rc;
	/* The clock starts now: over TCP, libcoap may wait inside
	 * coap_new_pdu/coap_send for the CSM exchange (up to 5 s). */
	clock_gettime(CLOCK_MONOTONIC, &r->deadline);
	r->deadline.tv_sec += COAP_TIMEOUT_S;
	r->buf = b->kind == REQ_GET ? b->bufs[i] : NULL;
	r->cap = b->cap;
	r->index = i;
	r->len = 0;
	r->more = 0;
	r->bad = 0;
	r->why = NULL;
	r->block2_seen = 0;
	if (r->buf != NULL)
		eris__coap_body_init(&r->body, r->buf, r->cap);
	return send_request(c, r, b->kind, b->refs[i], b->body, b->body_len);
}

/* The outcome of a finished (or expired) request. */
static int outcome(coap_store *c, req *r, batch *b, const char *name)
{
	if (!r->done)
		return eris_error_set(ERIS_ERROR,
				      "coap store %s: %s %s: no response "
				      "within %d s",
				      c->url, method_name(b->kind), name,
				      COAP_TIMEOUT_S);
	if (r->nack)
		return eris_error_set(ERIS_ERROR, "coap store %s: %s %s: %s",
				      c->url, method_name(b->kind), name,
				      nack_text(r->reason));
	if (r->bad == ERIS_EBLOCKSIZE)
		return eris_error_set(ERIS_EBLOCKSIZE,
				      "coap store %s: GET %s: %s is larger "
				      "than %zu bytes",
				      c->url, name, r->why, r->body.cap);
	if (r->bad < 0)
		return eris_error_set(r->bad,
				      "coap store %s: GET %s: bad block-wise "
				      "response: %s",
				      c->url, name, r->why);
	b->codes[r->index] = r->code;
	if (b->out_lens)
		b->out_lens[r->index] = r->len;
	return ERIS_OK;
}

/* Run requests 0..n-1, at most COAP_PARALLEL at once. results[i] is
 * ERIS_OK with codes[i] set when a response came, or an error. */
static void run_batch(coap_store *c, size_t n, batch *b)
{
	size_t next = 0, active = 0;

	for (size_t i = 0; i < n; i++) {
		b->results[i] = ERIS_ERROR;
		b->codes[i] = 0;
		if (b->out_lens)
			b->out_lens[i] = 0;
	}
	while (next < n || active > 0) {
		int timed_out = 0, drop = 0;

		for (int s = 0; s < COAP_PARALLEL && next < n; s++) {
			req *r = &c->slots[s];
			int rc;

			if (r->busy)
				continue;
			rc = start_request(c, r, b, next);
			if (rc < 0) {
				b->results[next++] = rc;
				continue;
			}
			next++;
			active++;
		}
		if (active == 0)
			continue;
		coap_io_process(c->ctx, 200);
		for (int s = 0; s < COAP_PARALLEL; s++) {
			req *r = &c->slots[s];
			char name[ERIS_REF_BASE32_LEN + 1];
			int rc;

			if (!r->busy)
				continue;
			if (r->more && !r->done && !expired(&r->deadline)) {
				/* The next Block2 piece, on a new token. */
				rc = send_request(c, r, b->kind,
						  b->refs[r->index], NULL, 0);
				if (rc == ERIS_OK)
					continue;
				b->results[r->index] = rc;
				r->busy = 0;
				active--;
				continue;
			}
			if (!r->done && !expired(&r->deadline))
				continue;
			eris_base32_encode(name, b->refs[r->index],
					   ERIS_REF_BYTES);
			if (!r->done)
				timed_out = 1;
			/* libcoap would go on asking for the Block2 pieces of
			 * a PUT's response (for ever, if the server wants):
			 * start afresh. (A GET's stray pieces are ignored:
			 * each piece has its own token.) */
			if (r->done && r->block2_seen)
				drop = 1;
			b->results[r->index] = outcome(c, r, b, name);
			r->busy = 0;
			active--;
		}
		if (timed_out) {
			/* The server is not answering: give up on everything
			 * in flight with it and start afresh next time. */
			for (int s = 0; s < COAP_PARALLEL; s++) {
				req *r = &c->slots[s];

				if (!r->busy)
					continue;
				b->results[r->index] = eris_error_set(
					ERIS_ERROR,
					"coap store %s: no response within "
					"%d s",
					c->url, COAP_TIMEOUT_S);
				r->busy = 0;
				active--;
			}
		}
		if (timed_out || drop)
			drop_session(c, b->kind);
	}
}

static int bad_code(coap_store *c, req_kind kind, const uint8_t *ref,
		    coap_pdu_code_t code)
{
	char name[ERIS_REF_BASE32_LEN + 1];

	eris_base32_encode(name, ref, ERIS_REF_BYTES);
	return eris_error_set(ERIS_ERROR,
			      "coap store %s: %s %s: unexpected response "
			      "code %d.%02d",
			      c->url, method_name(kind), name,
			      COAP_RESPONSE_CLASS(code), (int)(code & 0x1f));
}

/* ---- get, get_many and has ------------------------------------------- */

static int coap_get_many(eris_store_backend *be, size_t n,
			 const uint8_t (*refs)[ERIS_REF_BYTES],
			 uint8_t *const *bufs, size_t buf_size,
			 size_t *out_lens, int *results)
{
	coap_store *c = (coap_store *)be;
	coap_pdu_code_t *codes = calloc(n ? n : 1, sizeof(*codes));
	batch b = {REQ_GET, refs, bufs, 0, NULL, 0, out_lens, codes, results};

	if (codes == NULL)
		return eris_error_set(ERIS_ENOMEM, "out of memory");
	b.cap = buf_size < ERIS_BLOCK_SIZE_MAX ? buf_size : ERIS_BLOCK_SIZE_MAX;
	pthread_mutex_lock(&c->lock);
	run_batch(c, n, &b);
	pthread_mutex_unlock(&c->lock);
	for (size_t i = 0; i < n; i++) {
		if (results[i] < 0)
			continue;
		if (codes[i] == COAP_RESPONSE_CODE_CONTENT)
			continue;
		out_lens[i] = 0;
		results[i] = codes[i] == COAP_RESPONSE_CODE_NOT_FOUND
				     ? ERIS_ENOTFOUND
				     : bad_code(c, REQ_GET, refs[i], codes[i]);
	}
	free(codes);
	return ERIS_OK;
}

static int coap_get(eris_store_backend *be, const uint8_t *ref, uint8_t *buf,
		    size_t buf_size, size_t *out_len)
{
	const uint8_t(*refs)[ERIS_REF_BYTES] =
		(const uint8_t(*)[ERIS_REF_BYTES])ref;
	uint8_t *const bufs[1] = {buf};
	int result = ERIS_ERROR;
	int rc = coap_get_many(be, 1, refs, bufs, buf_size, out_len, &result);

	return rc < 0 ? rc : result;
}

static int coap_has(eris_store_backend *be, const uint8_t *ref)
{
	uint8_t *buf = malloc(ERIS_BLOCK_SIZE_MAX);
	size_t len = 0;
	int rc;

	if (buf == NULL)
		return eris_error_set(ERIS_ENOMEM, "out of memory");
	rc = coap_get(be, ref, buf, ERIS_BLOCK_SIZE_MAX, &len);
	free(buf);
	if (rc == ERIS_ENOTFOUND)
		return 0;
	return rc < 0 ? rc : 1;
}

/* ---- put and flush ----------------------------------------------------- */

static int coap_put(eris_store_backend *be, const uint8_t *ref,
		    const uint8_t *block, size_t len)
{
	coap_store *c = (coap_store *)be;
	const uint8_t(*refs)[ERIS_REF_BYTES] =
		(const uint8_t(*)[ERIS_REF_BYTES])ref;
	coap_pdu_code_t code = 0;
	int result = ERIS_ERROR;
	batch b = {REQ_PUT, refs, NULL, 0, block, len, NULL, &code, &result};

	pthread_mutex_lock(&c->lock);
	run_batch(c, 1, &b);
	pthread_mutex_unlock(&c->lock);
	if (result < 0)
		return result;
	if (code == COAP_RESPONSE_CODE_CREATED ||
	    code == COAP_RESPONSE_CODE_CHANGED)
		return ERIS_OK;
	if (code == COAP_RESPONSE_CODE_UNAUTHORIZED ||
	    code == COAP_RESPONSE_CODE_FORBIDDEN ||
	    code == COAP_RESPONSE_CODE_NOT_ALLOWED)
		return eris_error_set(ERIS_EREADONLY,
				      "coap store %s: PUT: write refused "
				      "(%d.%02d)",
				      c->url, COAP_RESPONSE_CLASS(code),
				      (int)(code & 0x1f));
	return bad_code(c, REQ_PUT, ref, code);
}

static int coap_flush(eris_store_backend *be)
{
	(void)be;
	return ERIS_OK;
}

/* ---- opening and closing --------------------------------------------- */

static void coap_free_store(eris_store_backend *be)
{
	coap_store *c = (coap_store *)be;

	drop_session(c, REQ_GET);
	drop_session(c, REQ_PUT);
	if (c->ctx)
		coap_free_context(c->ctx);
	pthread_mutex_destroy(&c->lock);
	free(c->url);
	free(c->path);
	free(c);
}

/* Parse SCHEME://HOST[:PORT][/PATH]: fill in proto, server and the path
 * segments (PATH's segments then "blocks", or .well-known/eris/blocks). */
static int parse_url(coap_store *c, const char *url)
{
	const char *auth, *end, *host, *port = COAP_DEFAULT_PORT_TEXT;
	char hostbuf[256], portbuf[8];
	struct addrinfo hints, *res = NULL;
	size_t skip, hlen;
	int gai, has_port = 0;

	if (strncmp(url, "coap://", 7) == 0) {
		skip = 7;
		c->proto = COAP_PROTO_UDP;
	} else if (strncmp(url, "coap+tcp://", 11) == 0) {
		skip = 11;
		c->proto = COAP_PROTO_TCP;
	} else {
		return eris_error_set(ERIS_ESTORE,
				      "coap store: \"%s\" is not a coap:// or "
				      "coap+tcp:// URL",
				      url);
	}
	if (strpbrk(url, "?#@ \t\r\n") != NULL)
		return eris_error_set(ERIS_ESTORE,
				      "coap store: \"%s\": the URL may not "
				      "have credentials, a query, a fragment "
				      "or spaces",
				      url);
	auth = url + skip;
	end = auth + strcspn(auth, "/");
	if (auth[0] == '[') {
		const char *close = memchr(auth, ']', (size_t)(end - auth));

		if (close == NULL)
			return eris_error_set(ERIS_ESTORE,
					      "coap store: \"%s\": unclosed "
					      "'['",
					      url);
		host = auth + 1;
		hlen = (size_t)(close - host);
		if (close + 1 < end && close[1] != ':')
			return eris_error_set(ERIS_ESTORE,
					      "coap store: \"%s\": bad host",
					      url);
		if (close + 1 < end) {
			port = close + 2;
			has_port = 1;
		}
	} else {
		const char *colon = memchr(auth, ':', (size_t)(end - auth));

		host = auth;
		hlen = (size_t)((colon ? colon : end) - auth);
		if (colon) {
			port = colon + 1;
			has_port = 1;
		}
	}
	if (hlen == 0 || hlen >= sizeof(hostbuf))
		return eris_error_set(ERIS_ESTORE,
				      "coap store: \"%s\" names no usable host",
				      url);
	memcpy(hostbuf, host, hlen);
	hostbuf[hlen] = '\0';
	if (has_port) {
		size_t plen = (size_t)(end - port);

		if (plen == 0 || plen >= sizeof(portbuf) ||
		    strspn(port, "0123456789") < plen ||
		    strtol(port, NULL, 10) > 65535)
			return eris_error_set(ERIS_ESTORE,
					      "coap store: \"%s\": bad port",
					      url);
		memcpy(portbuf, port, plen);
		portbuf[plen] = '\0';
		port = portbuf;
	}
	/* The path segments. */
	c->path = malloc(strlen(end) + 1);
	if (c->path == NULL)
		return eris_error_set(ERIS_ENOMEM, "out of memory");
	memcpy(c->path, end, strlen(end) + 1);
	for (char *p = c->path; *p;) {
		size_t n;

		while (*p == '/')
			p++;
		n = strcspn(p, "/");
		if (n == 0)
			break;
		if (c->nseg == COAP_MAX_SEGMENTS - 1 || n > 255)
			return eris_error_set(ERIS_ESTORE,
					      "coap store: \"%s\": the path is "
					      "too long",
					      url);
		c->seg[c->nseg] = p;
		c->seg_len[c->nseg++] = n;
		p += n;
	}
	if (c->nseg == 0) {
		c->seg[0] = ".well-known";
		c->seg_len[0] = 11;
		c->seg[1] = "eris";
		c->seg_len[1] = 4;
		c->nseg = 2;
	}
	c->seg[c->nseg] = "blocks";
	c->seg_len[c->nseg++] = 6;
	/* The server's address. */
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype =
		c->proto == COAP_PROTO_UDP ? SOCK_DGRAM : SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	gai = getaddrinfo(hostbuf, port, &hints, &res);
	if (gai != 0 || res == NULL)
		return eris_error_set(ERIS_ESTORE,
				      "coap store: \"%s\": cannot resolve "
				      "%s: %s",
				      url, hostbuf, gai_strerror(gai));
	coap_address_init(&c->server);
	if (res->ai_addrlen > sizeof(c->server.addr)) {
		freeaddrinfo(res);
		return eris_error_set(ERIS_ESTORE,
				      "coap store: \"%s\": unusable address",
				      url);
	}
	c->server.size = res->ai_addrlen;
	memcpy(&c->server.addr, res->ai_addr, res->ai_addrlen);
	freeaddrinfo(res);
	return ERIS_OK;
}

static int coap_open(eris_store **out, const char *url)
{
	coap_store *c;
	size_t len;
	int rc;

	if (out == NULL || url == NULL)
		return eris_error_set(ERIS_EINVAL, "invalid argument");
	*out = NULL;
	pthread_once(&global_once, global_init);
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return eris_error_set(ERIS_ENOMEM, "out of memory");
	if (pthread_mutex_init(&c->lock, NULL) != 0) {
		free(c);
		return eris_error_set(ERIS_ERROR,
				      "coap store: cannot create a mutex");
	}
	c->parent.version = ERIS_STORE_BACKEND_VERSION;
	c->parent.get = coap_get;
	c->parent.put = coap_put;
	c->parent.has = coap_has;
	c->parent.get_many = coap_get_many;
	c->parent.flush = coap_flush;
	c->parent.free = coap_free_store;
	len = strlen(url);
	while (len > 0 && url[len - 1] == '/')
		len--;
	c->url = malloc(len + 1);
	if (c->url == NULL) {
		coap_free_store(&c->parent);
		return eris_error_set(ERIS_ENOMEM, "out of memory");
	}
	memcpy(c->url, url, len);
	c->url[len] = '\0';
	if ((rc = parse_url(c, url)) < 0) {
		coap_free_store(&c->parent);
		return rc;
	}
	c->ctx = coap_new_context(NULL);
	if (c->ctx == NULL) {
		coap_free_store(&c->parent);
		return eris_error_set(ERIS_ERROR,
				      "coap store: cannot create a libcoap "
				      "context");
	}
	/* Over TCP, ask the server for messages of at most one 32 KiB
	 * block and some options. (libcoap itself accepts one incoming
	 * message of up to 8 MiB whatever this says; coap_body.c refuses
	 * a body larger than asked for.) */
	coap_context_set_csm_max_message_size(c->ctx,
					      ERIS__COAP_BODY_MAX + 1024);
	coap_register_response_handler(c->ctx, on_response);
	coap_register_nack_handler(c->ctx, on_nack);
	return eris_store_new_from_backend(out, &c->parent);
}

static int module_open(eris_store **out, const eris_module_request *r)
{
	return coap_open(out, r->spec);
}

ERIS_MODULE_EXPORT const eris_module eris_module_coap = {
	ERIS_MODULE_ABI, "coap", module_open, NULL
};
