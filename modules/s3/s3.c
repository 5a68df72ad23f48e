/*
 * s3.c - the S3 store: s3://BUCKET[/PREFIX][?endpoint=URL&region=R&...],
 * blocks as objects of any S3 server (radosgw, AWS, MinIO, Swift's s3api,
 * Garage, R2, B2...) through libcurl, signed with AWS Signature Version 4.
 *
 * Why: users whose blocks outgrow one machine already run an object
 * store; content addressing makes its objects immutable, so a plain
 * PUT/GET/HEAD/DELETE mapping is all it takes. The server is not trusted:
 * store.c re-hashes every block this back end returns.
 *
 * Addressing (path style, which every server accepts):
 *
 *   ENDPOINT/BUCKET/PREFIX/REF    REF = the 52-character base32 reference
 *
 * PREFIX is optional ("s3://b/blocks" and "s3://b/blocks/" both give keys
 * "blocks/REF"); its characters are A-Z a-z 0-9 . _ ~ - and '/', without
 * empty, "." or ".." segments, so a key never needs escaping. ENDPOINT is
 * "endpoint=" in the specification, else the options' s3_endpoint (the
 * eris programs take it from AWS_ENDPOINT_URL), else
 * https://s3.REGION.amazonaws.com; REGION likewise ("region=", s3_region,
 * us-east-1). Values in the query may be %-encoded. tries=N (1 to 10,
 * default S3_TRIES) and backoff=MS (0 to 60000, default S3_BACKOFF_MS)
 * set the retries below.
 *
 * Requests and their outcomes:
 *
 *   get      GET KEY: 200 -> the block (a body larger than the buffer or
 *            32768 bytes -> ERIS_EBLOCKSIZE; the transfer stops there),
 *            404 -> ERIS_ENOTFOUND
 *   has      HEAD KEY: 200 -> 1, 404 -> 0
 *   put      PUT KEY (the block as body): 200/201/204 -> ERIS_OK. Blocks
 *            are immutable, so a second PUT rewrites the same bytes.
 *   remove   DELETE KEY: 200/204, and 404 (absent) -> ERIS_OK
 *   foreach  GET BUCKET?list-type=2&prefix=PREFIX (ListObjectsV2), page
 *            after page with continuation-token; every key PREFIX+REF
 *            with REF a valid reference is reported with its <Size>;
 *            other keys are skipped. The XML is parsed by expat
 *            (s3_list.c); a page's entries are reported after the page
 *            is read, so `cb` may use the store.
 *   get_many GETs on one curl multi handle, S3_PARALLEL at once.
 *   flush    nothing: every PUT was acknowledged.
 *
 * Errors: 401/403 are "access denied (HTTP 403 CODE)" with the server's
 * error code (SignatureDoesNotMatch, InvalidAccessKeyId, AccessDenied...):
 * ERIS_EREADONLY for put and remove, ERIS_ERROR otherwise. Another status
 * or a transport failure is ERIS_ERROR naming the method, the URL and the
 * status or cause. A 5xx answer, a timeout or a dropped connection is
 * tried again, S3_TRIES times in all, after 0.1 s, then 0.2 s (the pause
 * doubles; tries= and backoff= change both); a 4xx
 * never is. Timeouts: 10 s to connect, 60 s per transfer.
 *
 * Credentials: the access key and secret of the options (both or
 * neither; neither means unsigned requests, for a public bucket). They
 * are handed to libcurl as CURLOPT_USERNAME and CURLOPT_PASSWORD, never
 * put into a URL, a message or a log, and the secret is wiped when the
 * store is freed. Credentials in the endpoint URL are refused. libcurl
 * 7.88 signs but does not send x-amz-content-sha256, which S3 requires:
 * every request carries "x-amz-content-sha256: UNSIGNED-PAYLOAD" (the
 * block is verified by its hash anyway). PUTs send their body as
 * POSTFIELDS, so that no "Expect: 100-continue" round trip delays them
 * (libcurl 7.88 would sign an "Expect:" header that removes it).
 *
 * Threads: the store may be shared. A single request (get, has, put,
 * remove, a listing page) runs on an idle easy handle of its own, taken
 * from a list under a mutex, so that requests of several threads are in
 * flight at once, each handle keeping its connection alive; get_many
 * batches run one at a time on the multi handle, with its own handles.
 */
#include "module.h"
#include "s3_list.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define S3_PARALLEL 16
#define S3_CONNECT_TIMEOUT 10L
#define S3_TIMEOUT 60L
#define S3_TRIES 3
#define S3_BACKOFF_MS 100 /* before the second try; doubled after */
/* Bodies that are not a block or a listing (error pages) are read up to
 * this much for their error code; a longer one ends the transfer. */
#define S3_DISCARD_MAX 65536
#define S3_PAGE_MAX 100000 /* objects in one listing page */
#define S3_ENDPOINT_MAX 512
#define S3_BUCKET_MAX 255
#define S3_PREFIX_MAX 512
#define S3_URL_MAX                                                         \
	(S3_ENDPOINT_MAX + S3_BUCKET_MAX + S3_PREFIX_MAX + ERIS_REF_BASE32_LEN + 8)

typedef enum { REQ_GET, REQ_HEAD, REQ_PUT, REQ_DELETE, REQ_LIST } req_kind;

/* One transfer: a request, its buffers and its outcome. */
typedef struct xfer {
	struct xfer *next;   /* in the idle list */
	CURL *easy;
	req_kind kind;
	const char *url;     /* url_buf, or a listing's URL */
	char url_buf[S3_URL_MAX];
	uint8_t *buf;        /* GET: receives the body, at most cap bytes */
	size_t cap;
	size_t len;
	int overflow;        /* the body was larger than cap */
	const uint8_t *body; /* PUT */
	size_t body_len;
	s3_list *list;       /* LIST: the page's parser */
	int list_rc;         /* ... its failure */
	s3_list *err;        /* an error body's parser, for its <Code> */
	size_t discarded;    /* bytes of an error body read */
	int too_long;        /* ... more than S3_DISCARD_MAX */
	long status;
	CURLcode res;
	char errbuf[CURL_ERROR_SIZE];
} xfer;

typedef struct {
	eris_store_backend parent;
	char *name;       /* s3://BUCKET[/PREFIX], for messages */
	char *bucket_url; /* ENDPOINT/BUCKET */
	char *key_url;    /* ENDPOINT/BUCKET/PREFIX */
	char *prefix;     /* "" or ending in '/' */
	char *sigv4;      /* "aws:amz:REGION:s3" */
	int tries;        /* in all, for a transient failure */
	long backoff_ms;  /* before the second try; doubled after */
	char *access_key; /* NULL: unsigned requests */
	char *secret_key;
	struct curl_slist *headers;     /* GET, HEAD, DELETE, LIST */
	struct curl_slist *put_headers; /* PUT */
	pthread_mutex_t idle_lock;
	xfer *idle;             /* handles for single requests, kept alive */
	pthread_mutex_t batch_lock;
	CURLM *multi;           /* get_many's, with its own handles: */
	xfer pool[S3_PARALLEL]; /* created on first use */
} s3_store;

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc = CURLE_FAILED_INIT;

static void global_init(void)
{
	global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static const char *method_name(req_kind kind)
{
	static const char *const names[] = {"GET", "HEAD", "PUT", "DELETE",
					    "GET"};

	return names[kind];
}

/* ---- one transfer ----------------------------------------------------- */

static size_t on_write(char *data, size_t size, size_t nmemb, void *p)
{
	xfer *x = p;
	size_t n = size * nmemb;

	if (x->status == 0)
		curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &x->status);
	if (x->status == 200 && x->kind == REQ_GET) {
		if (n > x->cap - x->len) {
			x->overflow = 1;
			return 0; /* aborts the transfer: CURLE_WRITE_ERROR */
		}
		memcpy(x->buf + x->len, data, n);
		x->len += n;
		return n;
	}
	if (x->status == 200 && x->kind == REQ_LIST) {
		x->list_rc = eris__s3_list_feed(x->list, data, n, 0);
		return x->list_rc == ERIS_OK ? n : 0;
	}
	/* An error body (or a PUT's reply): read it for its error code. */
	if (n > S3_DISCARD_MAX - x->discarded) {
		x->too_long = 1;
		return 0;
	}
	x->discarded += n;
	if (x->status >= 400 && x->status != 404) {
		if (x->err == NULL &&
		    eris__s3_list_new(&x->err, NULL, NULL) < 0)
			return n; /* no code then */
		eris__s3_list_feed(x->err, data, n, 0);
	}
	return n;
}

static void xfer_drop_parsers(xfer *x)
{
	eris__s3_list_free(x->list);
	eris__s3_list_free(x->err);
	x->list = NULL;
	x->err = NULL;
}

/* Prepare transfer `x` (its easy handle created or reset) for a request
 * on the key of `ref`, or, for REQ_LIST, on x->url set by the caller. */
static int xfer_setup(s3_store *s, xfer *x, req_kind kind, const uint8_t *ref)
{
	CURL *e;

	if (x->easy == NULL) {
		x->easy = curl_easy_init();
		if (x->easy == NULL)
			return eris_error_set(ERIS_ENOMEM,
					      "s3 store %s: cannot create a "
					      "curl handle",
					      s->name);
	} else {
		curl_easy_reset(x->easy); /* keeps connections and caches */
	}
	e = x->easy;
	if (ref != NULL) {
		char name[ERIS_REF_BASE32_LEN + 1];

		eris_base32_encode(name, ref, ERIS_REF_BYTES);
		snprintf(x->url_buf, sizeof(x->url_buf), "%s%s", s->key_url,
			 name);
		x->url = x->url_buf;
	}
	xfer_drop_parsers(x);
	x->kind = kind;
	x->len = 0;
	x->overflow = 0;
	x->list_rc = ERIS_OK;
	x->discarded = 0;
	x->too_long = 0;
	x->status = 0;
	x->res = CURLE_OK;
	x->errbuf[0] = '\0';
	curl_easy_setopt(e, CURLOPT_URL, x->url);
	curl_easy_setopt(e, CURLOPT_PRIVATE, (void *)x);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, S3_CONNECT_TIMEOUT);
	curl_easy_setopt(e, CURLOPT_TIMEOUT, S3_TIMEOUT);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, (void *)x);
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
#else
	curl_easy_setopt(e, CURLOPT_PROTOCOLS,
			 (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	if (s->access_key != NULL) {
		curl_easy_setopt(e, CURLOPT_AWS_SIGV4, s->sigv4);
		curl_easy_setopt(e, CURLOPT_USERNAME, s->access_key);
		curl_easy_setopt(e, CURLOPT_PASSWORD, s->secret_key);
	}
	curl_easy_setopt(e, CURLOPT_HTTPHEADER,
			 kind == REQ_PUT ? s->put_headers : s->headers);
	if (kind == REQ_PUT) {
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, "PUT");
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, (const void *)x->body);
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
				 (curl_off_t)x->body_len);
	} else if (kind == REQ_HEAD) {
		curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
	} else if (kind == REQ_DELETE) {
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, "DELETE");
	}
	return ERIS_OK;
}

/* Worth another try: a 5xx, a timeout, a connection lost mid-way. */
static int transient(const xfer *x)
{
	if (x->res == CURLE_OK)
		return x->status >= 500 && x->status <= 599;
	return x->res == CURLE_OPERATION_TIMEDOUT ||
	       x->res == CURLE_SEND_ERROR || x->res == CURLE_RECV_ERROR ||
	       x->res == CURLE_GOT_NOTHING || x->res == CURLE_PARTIAL_FILE;
}

static int access_denied(s3_store *s, const xfer *x, int code)
{
	const char *c = x->err ? eris__s3_list_error_code(x->err) : "";

	return eris_error_set(code,
			      "s3 store %s: %s %s: %saccess denied (HTTP "
			      "%ld%s%s)",
			      s->name, method_name(x->kind), x->url,
			      code == ERIS_EREADONLY ? "write refused: " : "",
			      x->status, c[0] ? " " : "", c);
}

static int bad_status(s3_store *s, const xfer *x)
{
	const char *c = x->err ? eris__s3_list_error_code(x->err) : "";

	return eris_error_set(ERIS_ERROR,
			      "s3 store %s: %s %s: unexpected HTTP status "
			      "%ld%s%s",
			      s->name, method_name(x->kind), x->url, x->status,
			      c[0] ? " " : "", c);
}

/* The result of a finished transfer, as the store call returns it (has:
 * 1 or 0). */
static int result_of(s3_store *s, xfer *x)
{
	long st = x->status;

	if (x->kind == REQ_GET && x->overflow)
		return eris_error_set(ERIS_EBLOCKSIZE,
				      "s3 store %s: GET %s: the object is "
				      "larger than %zu bytes",
				      s->name, x->url, x->cap);
	if (x->list_rc != ERIS_OK)
		return x->list_rc; /* its message is set */
	if (x->res != CURLE_OK)
		return eris_error_set(ERIS_ERROR, "s3 store %s: %s %s: %s",
				      s->name, method_name(x->kind), x->url,
				      x->errbuf[0] ? x->errbuf
						   : curl_easy_strerror(x->res));
	if (x->err != NULL)
		eris__s3_list_feed(x->err, NULL, 0, 1);
	if (st == 401 || st == 403)
		return access_denied(s, x,
				     x->kind == REQ_PUT || x->kind == REQ_DELETE
					     ? ERIS_EREADONLY
					     : ERIS_ERROR);
	switch (x->kind) {
	case REQ_GET:
		return st == 200 ? ERIS_OK
		       : st == 404 ? ERIS_ENOTFOUND
				   : bad_status(s, x);
	case REQ_HEAD:
		return st == 200 ? 1 : st == 404 ? 0 : bad_status(s, x);
	case REQ_PUT:
		return st == 200 || st == 201 || st == 204 ? ERIS_OK
							   : bad_status(s, x);
	case REQ_DELETE:
		return st == 200 || st == 204 || st == 404 ? ERIS_OK
							   : bad_status(s, x);
	case REQ_LIST:
		if (st == 404)
			return eris_error_set(ERIS_ESTORE,
					      "s3 store %s: no such bucket "
					      "(GET %s: HTTP 404)",
					      s->name, x->url);
		return st == 200 ? ERIS_OK : bad_status(s, x);
	}
	return bad_status(s, x);
}

/* ---- batches of transfers, with retries ------------------------------- */

/* `start` sets up the i-th request in pool slot x (a failure is recorded
 * by start itself, and the request skipped); `done` collects its outcome
 * and returns 1 when it should be tried again (only if `may_retry`). */
typedef int (*start_fn)(s3_store *s, size_t i, xfer *x, void *ctx);
typedef int (*done_fn)(s3_store *s, size_t i, xfer *x, int may_retry,
		       void *ctx);

/* One round over requests items[0..n-1], at most S3_PARALLEL in flight;
 * those to retry are written to again[] (*n_again of them). ERIS_OK
 * unless the multi handle itself failed. */
static int run_round(s3_store *s, const size_t *items, size_t n,
		     start_fn start, done_fn done, int may_retry, void *ctx,
		     size_t *again, size_t *n_again)
{
	size_t item_of[S3_PARALLEL];
	int busy[S3_PARALLEL] = {0};
	size_t next = 0, active = 0;
	int rc = ERIS_OK;

	*n_again = 0;
	while (next < n || active > 0) {
		CURLMcode mc = CURLM_OK;
		CURLMsg *msg;
		int running = 0, left = 0;

		for (int k = 0; k < S3_PARALLEL && next < n; k++) {
			if (busy[k])
				continue;
			if (start(s, items[next], &s->pool[k], ctx) < 0) {
				next++;
				continue;
			}
			mc = curl_multi_add_handle(s->multi, s->pool[k].easy);
			if (mc != CURLM_OK)
				break;
			item_of[k] = items[next++];
			busy[k] = 1;
			active++;
		}
		if (mc == CURLM_OK && active > 0) {
			mc = curl_multi_perform(s->multi, &running);
			if (mc == CURLM_OK && running > 0)
				mc = curl_multi_poll(s->multi, NULL, 0, 1000,
						     NULL);
		}
		if (mc != CURLM_OK) {
			rc = eris_error_set(ERIS_ERROR, "s3 store %s: %s",
					    s->name, curl_multi_strerror(mc));
			break;
		}
		while ((msg = curl_multi_info_read(s->multi, &left)) != NULL) {
			char *priv = NULL;
			xfer *x;
			int k;

			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE,
					  &priv);
			x = (xfer *)(void *)priv;
			x->res = msg->data.result;
			curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE,
					  &x->status);
			if (x->res == CURLE_WRITE_ERROR && x->too_long &&
			    x->status != 0)
				x->res = CURLE_OK; /* a long error page: its
						    * status decides */
			curl_multi_remove_handle(s->multi, x->easy);
			k = (int)(x - s->pool);
			busy[k] = 0;
			active--;
			if (done(s, item_of[k], x, may_retry, ctx))
				again[(*n_again)++] = item_of[k];
		}
	}
	for (int k = 0; k < S3_PARALLEL; k++)
		if (busy[k])
			curl_multi_remove_handle(s->multi, s->pool[k].easy);
	return rc;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0)
		;
}

/* One request (number 0) on an idle handle of its own, so that threads
 * do not wait for each other; a transient failure is tried again after a
 * pause, S3_TRIES times in all. */
static int run_single(s3_store *s, start_fn start, done_fn done, void *ctx)
{
	long pause = s->backoff_ms;
	xfer *x;

	pthread_mutex_lock(&s->idle_lock);
	x = s->idle;
	if (x != NULL)
		s->idle = x->next;
	pthread_mutex_unlock(&s->idle_lock);
	if (x == NULL && (x = calloc(1, sizeof(*x))) == NULL)
		return eris_error_set(ERIS_ENOMEM, "out of memory");
	for (int attempt = 1;; attempt++) {
		if (start(s, 0, x, ctx) < 0)
			break;
		x->res = curl_easy_perform(x->easy);
		curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &x->status);
		if (x->res == CURLE_WRITE_ERROR && x->too_long && x->status != 0)
			x->res = CURLE_OK; /* a long error page */
		if (!done(s, 0, x, attempt < s->tries, ctx))
			break;
		sleep_ms(pause);
		pause *= 2;
	}
	xfer_drop_parsers(x);
	pthread_mutex_lock(&s->idle_lock);
	x->next = s->idle;
	s->idle = x;
	pthread_mutex_unlock(&s->idle_lock);
	return ERIS_OK;
}

/* Run requests 0..n-1 on the multi handle, trying the transient failures
 * again after a pause, S3_TRIES times in all. Call with batch_lock held. */
static int run(s3_store *s, size_t n, start_fn start, done_fn done, void *ctx)
{
	size_t two[2], *items = two, *again;
	size_t n_items = n;
	long pause = s->backoff_ms;
	int rc = ERIS_OK;

	if (n > 1) {
		items = malloc(2 * n * sizeof(*items));
		if (items == NULL)
			return eris_error_set(ERIS_ENOMEM, "out of memory");
	}
	again = items + n;
	for (size_t i = 0; i < n; i++)
		items[i] = i;
	for (int attempt = 1; rc == ERIS_OK && n_items > 0; attempt++) {
		size_t n_again = 0;

		if (attempt > 1) {
			sleep_ms(pause);
			pause *= 2;
		}
		rc = run_round(s, items, n_items, start, done,
			       attempt < s->tries, ctx, again, &n_again);
		memmove(items, again, n_again * sizeof(*items));
		n_items = n_again;
	}
	if (items != two)
		free(items);
	return rc;
}

/* ---- get and get_many ------------------------------------------------- */

typedef struct {
	const uint8_t (*refs)[ERIS_REF_BYTES];
	uint8_t *const *bufs;
	size_t buf_size;
	size_t *out_lens;
	int *results;
} get_ctx;

static int get_start(s3_store *s, size_t i, xfer *x, void *p)
{
	get_ctx *c = p;
	int rc;

	c->out_lens[i] = 0;
	x->buf = c->bufs[i];
	x->cap = c->buf_size < ERIS_BLOCK_SIZE_MAX ? c->buf_size
						   : ERIS_BLOCK_SIZE_MAX;
	rc = xfer_setup(s, x, REQ_GET, c->refs[i]);
	c->results[i] = rc;
	return rc;
}

static int get_done(s3_store *s, size_t i, xfer *x, int may_retry, void *p)
{
	get_ctx *c = p;

	if (may_retry && transient(x))
		return 1;
	c->results[i] = result_of(s, x);
	if (c->results[i] == ERIS_OK)
		c->out_lens[i] = x->len;
	return 0;
}

static int s3_get_many(eris_store_backend *b, size_t n,
		       const uint8_t (*refs)[ERIS_REF_BYTES],
		       uint8_t *const *bufs, size_t buf_size, size_t *out_lens,
		       int *results)
{
	s3_store *s = (s3_store *)b;
	get_ctx c = {refs, bufs, buf_size, out_lens, results};
	int rc;

	for (size_t i = 0; i < n; i++) {
		out_lens[i] = 0;
		results[i] = ERIS_ERROR; /* until its transfer is done */
	}
	pthread_mutex_lock(&s->batch_lock);
	rc = run(s, n, get_start, get_done, &c);
	pthread_mutex_unlock(&s->batch_lock);
	return rc;
}

static int s3_get(eris_store_backend *b, const uint8_t *ref, uint8_t *buf,
		  size_t buf_size, size_t *out_len)
{
	uint8_t *const bufs[1] = {buf};
	int result = ERIS_ERROR;
	get_ctx c = {(const uint8_t(*)[ERIS_REF_BYTES])ref, bufs, buf_size,
		     out_len, &result};
	int rc = run_single((s3_store *)b, get_start, get_done, &c);

	return rc < 0 ? rc : result;
}

/* ---- has, put, remove ------------------------------------------------- */

typedef struct {
	req_kind kind;
	const uint8_t *ref;
	const uint8_t *body;
	size_t body_len;
	int result;
} one_ctx;

static int one_start(s3_store *s, size_t i, xfer *x, void *p)
{
	one_ctx *c = p;

	(void)i;
	x->body = c->body;
	x->body_len = c->body_len;
	c->result = xfer_setup(s, x, c->kind, c->ref);
	return c->result;
}

static int one_done(s3_store *s, size_t i, xfer *x, int may_retry, void *p)
{
	one_ctx *c = p;

	(void)i;
	if (may_retry && transient(x))
		return 1;
	c->result = result_of(s, x);
	return 0;
}

static int run_one(s3_store *s, req_kind kind, const uint8_t *ref,
		   const uint8_t *body, size_t len)
{
	one_ctx c = {kind, ref, body, len, ERIS_ERROR};
	int rc = run_single(s, one_start, one_done, &c);

	return rc < 0 ? rc : c.result;
}

static int s3_has(eris_store_backend *b, const uint8_t *ref)
{
	return run_one((s3_store *)b, REQ_HEAD, ref, NULL, 0);
}

static int s3_put(eris_store_backend *b, const uint8_t *ref,
		  const uint8_t *block, size_t len)
{
	return run_one((s3_store *)b, REQ_PUT, ref, block, len);
}

static int s3_remove(eris_store_backend *b, const uint8_t *ref)
{
	return run_one((s3_store *)b, REQ_DELETE, ref, NULL, 0);
}

static int s3_flush(eris_store_backend *b)
{
	(void)b;
	return ERIS_OK;
}

/* ---- foreach ---------------------------------------------------------- */

typedef struct {
	const char *prefix;
	size_t prefix_len;
	char *url;                      /* this page's request */
	uint8_t (*refs)[ERIS_REF_BYTES]; /* this page's blocks */
	size_t *lens;
	size_t n, cap;
	int truncated;
	char token[S3_LIST_MAX_TOKEN + 1]; /* the next page's */
	int result;
} list_ctx;

/* A listed key: a block when it is PREFIX + a valid reference. */
static int on_object(const char *key, uint64_t size, void *p)
{
	list_ctx *c = p;
	const char *name = key + c->prefix_len;

	if (strncmp(key, c->prefix, c->prefix_len) != 0 ||
	    strlen(name) != ERIS_REF_BASE32_LEN || size > SIZE_MAX)
		return 0;
	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 1024;
		void *r, *l;

		if (cap > S3_PAGE_MAX)
			return eris_error_set(ERIS_ESTORE,
					      "s3 listing: more than %d "
					      "objects in one page",
					      S3_PAGE_MAX);
		r = realloc(c->refs, cap * sizeof(*c->refs));
		if (r != NULL)
			c->refs = r;
		l = realloc(c->lens, cap * sizeof(*c->lens));
		if (l != NULL)
			c->lens = l;
		if (r == NULL || l == NULL)
			return eris_error_set(ERIS_ENOMEM, "out of memory");
		c->cap = cap;
	}
	if (eris_base32_decode(c->refs[c->n], ERIS_REF_BYTES, name,
			       ERIS_REF_BASE32_LEN) != ERIS_OK)
		return 0;
	c->lens[c->n++] = (size_t)size;
	return 0;
}

static int list_start(s3_store *s, size_t i, xfer *x, void *p)
{
	list_ctx *c = p;
	int rc;

	(void)i;
	c->n = 0;
	c->truncated = 0;
	c->token[0] = '\0';
	x->url = c->url;
	rc = xfer_setup(s, x, REQ_LIST, NULL);
	if (rc == ERIS_OK)
		rc = eris__s3_list_new(&x->list, on_object, c);
	c->result = rc;
	return rc;
}

static int list_done(s3_store *s, size_t i, xfer *x, int may_retry, void *p)
{
	list_ctx *c = p;

	(void)i;
	if (may_retry && transient(x) && x->list_rc == ERIS_OK)
		return 1;
	if (x->res == CURLE_OK && x->status == 200 && x->list_rc == ERIS_OK)
		x->list_rc = eris__s3_list_feed(x->list, NULL, 0, 1);
	c->result = result_of(s, x);
	if (c->result == ERIS_OK) {
		c->truncated = eris__s3_list_truncated(x->list);
		strcpy(c->token, eris__s3_list_next_token(x->list));
	}
	return 0;
}

/* %-encode `in` into `out` as SigV4's canonical query wants it: all but
 * A-Z a-z 0-9 - _ . ~, with upper-case hex. */
static char *query_encode(char *out, const char *in)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *in; in++) {
		unsigned char ch = (unsigned char)*in;

		if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		    (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' ||
		    ch == '.' || ch == '~') {
			*out++ = (char)ch;
		} else {
			*out++ = '%';
			*out++ = hex[ch >> 4];
			*out++ = hex[ch & 15];
		}
	}
	*out = '\0';
	return out;
}

/* BUCKET?[continuation-token=T&]list-type=2[&prefix=P]: the parameters in
 * the sorted order the signature needs. */
static char *list_url(const s3_store *s, const char *token)
{
	size_t size = strlen(s->bucket_url) + 3 * strlen(token) +
		      3 * strlen(s->prefix) + 64;
	char *url = malloc(size), *w;

	if (url == NULL)
		return NULL;
	w = url + sprintf(url, "%s?", s->bucket_url);
	if (token[0] != '\0') {
		w += sprintf(w, "continuation-token=");
		w = query_encode(w, token);
		*w++ = '&';
	}
	w += sprintf(w, "list-type=2");
	if (s->prefix[0] != '\0') {
		w += sprintf(w, "&prefix=");
		query_encode(w, s->prefix);
	}
	return url;
}

static int s3_foreach(eris_store_backend *b,
		      int (*cb)(const uint8_t ref[ERIS_REF_BYTES], size_t len,
				void *payload),
		      void *payload)
{
	s3_store *s = (s3_store *)b;
	list_ctx c;
	char previous[S3_LIST_MAX_TOKEN + 1] = "";
	int rc;

	memset(&c, 0, sizeof(c));
	c.prefix = s->prefix;
	c.prefix_len = strlen(s->prefix);
	do {
		free(c.url);
		c.url = list_url(s, c.token);
		if (c.url == NULL) {
			rc = eris_error_set(ERIS_ENOMEM, "out of memory");
			break;
		}
		strcpy(previous, c.token);
		rc = run_single(s, list_start, list_done, &c);
		if (rc == ERIS_OK)
			rc = c.result;
		/* After the request: cb may use the store. */
		for (size_t i = 0; rc == ERIS_OK && i < c.n; i++)
			rc = cb(c.refs[i], c.lens[i], payload);
		if (rc == ERIS_OK && c.truncated &&
		    (c.token[0] == '\0' || strcmp(c.token, previous) == 0))
			rc = eris_error_set(ERIS_ESTORE,
					    "s3 store %s: a truncated listing "
					    "without a new continuation token",
					    s->name);
	} while (rc == ERIS_OK && c.truncated);
	free(c.url);
	free(c.refs);
	free(c.lens);
	return rc;
}

/* ---- opening and closing ---------------------------------------------- */

static void s3_free(eris_store_backend *b)
{
	s3_store *s = (s3_store *)b;

	while (s->idle != NULL) {
		xfer *x = s->idle;

		s->idle = x->next;
		if (x->easy)
			curl_easy_cleanup(x->easy);
		free(x);
	}
	for (int k = 0; k < S3_PARALLEL; k++) {
		xfer_drop_parsers(&s->pool[k]);
		if (s->pool[k].easy)
			curl_easy_cleanup(s->pool[k].easy);
	}
	if (s->multi)
		curl_multi_cleanup(s->multi);
	curl_slist_free_all(s->headers);
	curl_slist_free_all(s->put_headers);
	pthread_mutex_destroy(&s->idle_lock);
	pthread_mutex_destroy(&s->batch_lock);
	if (s->secret_key)
		eris_memzero(s->secret_key, strlen(s->secret_key));
	free(s->secret_key);
	free(s->access_key);
	free(s->sigv4);
	free(s->prefix);
	free(s->key_url);
	free(s->bucket_url);
	free(s->name);
	free(s);
}

/* What the specification says, decoded. */
typedef struct {
	char bucket[S3_BUCKET_MAX + 1];
	char prefix[S3_PREFIX_MAX + 2]; /* "" or ending in '/' */
	char endpoint[S3_ENDPOINT_MAX + 1];
	char region[65];
	int tries;
	long backoff_ms;
} s3_spec;

static int is_alnum(char ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
	       (ch >= '0' && ch <= '9');
}

static int hex_value(char ch)
{
	return ch >= '0' && ch <= '9'   ? ch - '0'
	       : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
	       : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10
					: -1;
}

/* %-decode in[0..len) into out (`size` bytes); -1 if bad or too long. */
static int value_decode(char *out, size_t size, const char *in, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		char ch = in[i];

		if (ch == '%') {
			int hi, lo;

			if (i + 2 >= len)
				return -1;
			hi = hex_value(in[i + 1]);
			lo = hex_value(in[i + 2]);
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
				return -1;
			ch = (char)(hi << 4 | lo);
			i += 2;
		}
		if (n + 1 >= size)
			return -1;
		out[n++] = ch;
	}
	out[n] = '\0';
	return 0;
}

/* An endpoint: http[s]://AUTHORITY[/PATH], without credentials, a query
 * or a fragment; a trailing '/' is dropped. */
static int check_endpoint(char *url)
{
	size_t skip, len = strlen(url);
	const char *auth, *end;

	if (strncmp(url, "http://", 7) == 0)
		skip = 7;
	else if (strncmp(url, "https://", 8) == 0)
		skip = 8;
	else
		return eris_error_set(ERIS_ESTORE,
				      "s3 store: the endpoint \"%s\" is not an "
				      "http:// or https:// URL",
				      url);
	auth = url + skip;
	end = auth + strcspn(auth, "/");
	if (memchr(auth, '@', (size_t)(end - auth)) != NULL)
		return eris_error_set(ERIS_ESTORE,
				      "s3 store: credentials in the endpoint "
				      "URL are not supported");
	if (end == auth || strpbrk(url, "?# \t\r\n") != NULL)
		return eris_error_set(ERIS_ESTORE,
				      "s3 store: the endpoint \"%s\" names no "
				      "host, or has a query, a fragment or "
				      "spaces",
				      url);
	while (len > skip && url[len - 1] == '/')
		url[--len] = '\0';
	return ERIS_OK;
}

/* BUCKET: letters, digits, '.', '-', '_'. PREFIX: also '~' and '/', in
 * non-empty segments other than "." and "..". */
static int parse_path(s3_spec *sp, const char *path, size_t len)
{
	size_t b = 0, plen;
	const char *prefix;

	while (b < len && path[b] != '/')
		b++;
	if (b == 0 || b > S3_BUCKET_MAX)
		return eris_error_set(ERIS_ESTORE,
				      "s3 store: the bucket name must have 1 "
				      "to %d characters",
				      S3_BUCKET_MAX);
	for (size_t i = 0; i < b; i++)
		if (!is_alnum(path[i]) && !strchr(".-_", path[i]))
			return eris_error_set(ERIS_ESTORE,
					      "s3 store: the bucket name may "
					      "have only letters, digits, '.', "
					      "'-' and '_'");
	memcpy(sp->bucket, path, b);
	sp->bucket[b] = '\0';
	prefix = b < len ? path + b + 1 : path + b;
	plen = (size_t)(path + len - prefix);
	while (plen > 0 && prefix[plen - 1] == '/')
		plen--;
	if (plen > S3_PREFIX_MAX)
		return eris_error_set(ERIS_ESTORE,
				      "s3 store: the prefix is longer than %d "
				      "characters",
				      S3_PREFIX_MAX);
	for (size_t i = 0, seg = 0; i <= plen; i++) {
		if (i < plen && prefix[i] != '/') {
			if (!is_alnum(prefix[i]) && !strchr(".-_~", prefix[i]))
				return eris_error_set(
					ERIS_ESTORE,
					"s3 store: the prefix may have only "
					"letters, digits, '.', '-', '_', '~' "
					"and '/'");
			continue;
		}
		if (plen > 0 &&
		    (i == seg || (i - seg == 1 && prefix[seg] == '.') ||
		     (i - seg == 2 && prefix[seg] == '.' &&
		      prefix[seg + 1] == '.')))
			return eris_error_set(ERIS_ESTORE,
					      "s3 store: the prefix may not "
					      "have empty, \".\" or \"..\" "
					      "segments");
		seg = i + 1;
	}
	memcpy(sp->prefix, prefix, plen);
	if (plen > 0)
		sp->prefix[plen++] = '/';
	sp->prefix[plen] = '\0';
	return ERIS_OK;
}

/* A whole number in [lo, hi] from `len` bytes of text; -1 if not. */
static long parse_number(const char *t, size_t len, long lo, long hi)
{
	long v = 0;

	if (len == 0 || len > 6)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (t[i] < '0' || t[i] > '9')
			return -1;
		v = v * 10 + (t[i] - '0');
	}
	return v < lo || v > hi ? -1 : v;
}

/* endpoint=URL&region=R&tries=N&backoff=MS, each at most once. */
static int parse_query(s3_spec *sp, const char *q)
{
	int have_endpoint = 0, have_region = 0, have_tries = 0;
	int have_backoff = 0;

	while (*q) {
		size_t len = strcspn(q, "&"), nlen = strcspn(q, "=&");
		const char *value = q + nlen + 1;
		size_t vlen = nlen < len ? len - nlen - 1 : 0;
		char *out = NULL;
		size_t size = 0;
		int *seen = NULL;

		if (nlen == 8 && strncmp(q, "endpoint", 8) == 0) {
			out = sp->endpoint;
			size = sizeof(sp->endpoint);
			seen = &have_endpoint;
		} else if (nlen == 6 && strncmp(q, "region", 6) == 0) {
			out = sp->region;
			size = sizeof(sp->region);
			seen = &have_region;
		} else if ((nlen == 5 && strncmp(q, "tries", 5) == 0) ||
			   (nlen == 7 && strncmp(q, "backoff", 7) == 0)) {
			int tries = nlen == 5;
			long v = parse_number(value, vlen, tries ? 1 : 0,
					      tries ? 10 : 60000);

			seen = tries ? &have_tries : &have_backoff;
			if (*seen || nlen == len || v < 0)
				return eris_error_set(
					ERIS_ESTORE,
					"s3 store: parameter \"%s\": given "
					"twice or not a number in %s",
					tries ? "tries" : "backoff",
					tries ? "1..10" : "0..60000 (ms)");
			if (tries)
				sp->tries = (int)v;
			else
				sp->backoff_ms = v;
			*seen = 1;
			q += len;
			if (*q == '&')
				q++;
			continue;
		}
		if (out == NULL)
			return eris_error_set(ERIS_ESTORE,
					      "s3 store: unknown parameter "
					      "\"%.*s\" (known: endpoint, "
					      "region, tries, backoff)",
					      (int)(nlen > 32 ? 32 : nlen), q);
		if (*seen || nlen == len || vlen == 0 ||
		    value_decode(out, size, value, vlen) < 0)
			return eris_error_set(ERIS_ESTORE,
					      "s3 store: parameter \"%.*s\": "
					      "given twice, empty, too long or "
					      "badly %%-encoded",
					      (int)nlen, q);
		*seen = 1;
		q += len;
		if (*q == '&')
			q++;
	}
	return ERIS_OK;
}

static int parse_spec(s3_spec *sp, const char *arg,
		      const eris_store_options *opts)
{
	size_t path_len;
	int rc;

	memset(sp, 0, sizeof(*sp));
	sp->tries = S3_TRIES;
	sp->backoff_ms = S3_BACKOFF_MS;
	if (strncmp(arg, "//", 2) != 0)
		return eris_error_set(ERIS_ESTORE,
				      "s3 store: expected s3://BUCKET[/PREFIX]"
				      "[?endpoint=URL&region=R&tries=N&"
				      "backoff=MS]");
	arg += 2;
	path_len = strcspn(arg, "?");
	if ((rc = parse_path(sp, arg, path_len)) < 0)
		return rc;
	if (arg[path_len] == '?' &&
	    (rc = parse_query(sp, arg + path_len + 1)) < 0)
		return rc;
	if (sp->region[0] == '\0')
		snprintf(sp->region, sizeof(sp->region), "%s",
			 opts->s3_region && opts->s3_region[0]
				 ? opts->s3_region
				 : "us-east-1");
	for (const char *p = sp->region; *p; p++)
		if (!is_alnum(*p) && *p != '-' && *p != '_')
			return eris_error_set(ERIS_ESTORE,
					      "s3 store: the region may have "
					      "only letters, digits, '-' and "
					      "'_'");
	if (strlen(sp->region) >= sizeof(sp->region) - 1)
		return eris_error_set(ERIS_ESTORE,
				      "s3 store: the region is too long");
	if (sp->endpoint[0] == '\0') {
		if (opts->s3_endpoint && opts->s3_endpoint[0])
			rc = snprintf(sp->endpoint, sizeof(sp->endpoint), "%s",
				      opts->s3_endpoint);
		else
			rc = snprintf(sp->endpoint, sizeof(sp->endpoint),
				      "https://s3.%s.amazonaws.com",
				      sp->region);
		if (rc < 0 || (size_t)rc >= sizeof(sp->endpoint))
			return eris_error_set(ERIS_ESTORE,
					      "s3 store: the endpoint is "
					      "longer than %d characters",
					      S3_ENDPOINT_MAX);
	}
	return check_endpoint(sp->endpoint);
}

static char *str_printf(const char *fmt, const char *a, const char *b,
			const char *c)
{
	int n = snprintf(NULL, 0, fmt, a, b, c);
	char *s = n >= 0 ? malloc((size_t)n + 1) : NULL;

	if (s)
		snprintf(s, (size_t)n + 1, fmt, a, b, c);
	return s;
}

static int s3_open(eris_store **out, const char *arg,
		   const eris_store_options *opts)
{
	const char *ak = opts->s3_access_key, *sk = opts->s3_secret_key;
	int have_ak = ak && ak[0], have_sk = sk && sk[0];
	struct curl_slist *l;
	s3_spec sp;
	s3_store *s;
	int rc;

	*out = NULL;
	if ((rc = parse_spec(&sp, arg, opts)) < 0)
		return rc;
	if (have_ak != have_sk)
		return eris_error_set(ERIS_ESTORE,
				      "s3 store: %s without %s",
				      have_ak ? "an access key" : "a secret key",
				      have_ak ? "a secret key" : "an access key");
	pthread_once(&global_once, global_init);
	if (global_rc != CURLE_OK)
		return eris_error_set(ERIS_ERROR,
				      "s3 store: cannot initialize libcurl: "
				      "%s",
				      curl_easy_strerror(global_rc));
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return eris_error_set(ERIS_ENOMEM, "out of memory");
	if (pthread_mutex_init(&s->idle_lock, NULL) != 0) {
		free(s);
		return eris_error_set(ERIS_ERROR,
				      "s3 store: cannot create a mutex");
	}
	if (pthread_mutex_init(&s->batch_lock, NULL) != 0) {
		pthread_mutex_destroy(&s->idle_lock);
		free(s);
		return eris_error_set(ERIS_ERROR,
				      "s3 store: cannot create a mutex");
	}
	s->parent.version = ERIS_STORE_BACKEND_VERSION;
	s->parent.get = s3_get;
	s->parent.put = s3_put;
	s->parent.has = s3_has;
	s->parent.get_many = s3_get_many;
	s->parent.flush = s3_flush;
	s->parent.foreach = s3_foreach;
	s->parent.remove = s3_remove;
	s->parent.free = s3_free;
	s->name = str_printf("s3://%s%s%s", sp.bucket, sp.prefix[0] ? "/" : "",
			     sp.prefix);
	s->bucket_url = str_printf("%s/%s%s", sp.endpoint, sp.bucket, "");
	s->key_url = str_printf("%s/%s/%s", sp.endpoint, sp.bucket, sp.prefix);
	s->prefix = str_printf("%s%s%s", sp.prefix, "", "");
	s->sigv4 = str_printf("aws:amz:%s:%s%s", sp.region, "s3", "");
	s->tries = sp.tries;
	s->backoff_ms = sp.backoff_ms;
	if (have_ak) {
		s->access_key = str_printf("%s%s%s", ak, "", "");
		s->secret_key = str_printf("%s%s%s", sk, "", "");
	}
	s->multi = curl_multi_init();
	rc = s->name && s->bucket_url && s->key_url && s->prefix && s->sigv4 &&
			     (!have_ak || (s->access_key && s->secret_key)) &&
			     s->multi
		     ? ERIS_OK
		     : ERIS_ENOMEM;
	if (rc == ERIS_OK) {
		l = curl_slist_append(NULL,
				      "x-amz-content-sha256: UNSIGNED-PAYLOAD");
		s->headers = l;
		l = curl_slist_append(NULL,
				      "x-amz-content-sha256: UNSIGNED-PAYLOAD");
		if (l != NULL)
			s->put_headers = l;
		if (l != NULL)
			l = curl_slist_append(l, "Content-Type: "
						 "application/octet-stream");
		if (s->headers == NULL || l == NULL)
			rc = ERIS_ENOMEM;
	}
	if (rc < 0) {
		s3_free(&s->parent);
		return eris_error_set(rc, "out of memory");
	}
	curl_multi_setopt(s->multi, CURLMOPT_MAX_HOST_CONNECTIONS,
			  (long)S3_PARALLEL);
	curl_multi_setopt(s->multi, CURLMOPT_MAXCONNECTS, (long)S3_PARALLEL);
	return eris_store_new_from_backend(out, &s->parent);
}

static int module_open(eris_store **out, const eris_module_request *r)
{
	return s3_open(out, r->arg, r->opts);
}

ERIS_MODULE_EXPORT const eris_module eris_module_s3 = {
	ERIS_MODULE_ABI, "s3", module_open, NULL
};
