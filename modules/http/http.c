/*
 * http.c - the HTTP client store: http://HOST[:PORT][/PREFIX] and
 * https://..., speaking "ERIS over HTTP" (ERIS.md section 9) with libcurl.
 *
 * Why: blocks are often published by a plain web server over a directory
 * store, or by erisd; this back end lets every eris tool read (and, where
 * the server allows it, write) them. The server is not trusted: the
 * library wrapper (store.c) re-hashes every block this back end returns.
 *
 * Requests, with BASE = the URL without a trailing '/' and REF the
 * 52-character base32 of the reference:
 *
 *   get       GET  BASE/uri-res/N2R?urn:blake2b:REF
 *             200 -> the body is the block. A body larger than the
 *             caller's buffer or than 32768 bytes is ERIS_EBLOCKSIZE; the
 *             write callback stops the transfer as soon as it goes past
 *             that cap, so at most one more chunk (16 KiB) is read. The
 *             bodies of other responses are dropped (at most 64 KiB
 *             read).
 *             404 -> ERIS_ENOTFOUND. Anything else (another status, a
 *             transport error, a timeout) -> ERIS_ERROR, with a message
 *             naming the URL and the status or curl's error.
 *   has       HEAD on the same URL: 200 -> 1, 404 -> 0, else ERIS_ERROR.
 *   put       PUT  on the same URL with the block as body
 *             (Content-Type: application/octet-stream).
 *             200/201/204 -> ERIS_OK (the server has acknowledged it).
 *             401/403/405 -> ERIS_EREADONLY "write refused (HTTP nnn)":
 *             the server does not accept writes from us (a read-only
 *             server, or a missing or wrong token). Else ERIS_ERROR.
 *   get_many  parallel GETs through the curl multi interface, at most
 *             HTTP_PARALLEL transfers at once, each block with its own
 *             result code as for get.
 *   flush     nothing to do: every PUT was acknowledged by the server.
 *   foreach, remove
 *             not supported (ERIS_ENOTSUP from the wrapper): the
 *             protocol can neither list nor delete.
 *
 * Authentication: if the environment variable ERIS_HTTP_TOKEN is set and
 * non-empty when the store is opened, every request carries
 * "Authorization: Bearer <token>". Credentials in the URL (user:pass@)
 * are refused, so that they cannot leak into error messages.
 *
 * Timeouts: 10 s to connect, 60 s for a whole transfer. Redirects are not
 * followed. Only the http and https protocols are allowed.
 *
 * Connections are kept alive and reused: all transfers, single or
 * batched, run on one curl multi handle (one connection cache) with a
 * pool of HTTP_PARALLEL easy handles.
 *
 * Threads: one mutex guards the handles, so the store may be shared by
 * threads, whose requests are then serialized (a get_many batch holds the
 * lock until the whole batch is done). curl_global_init() runs once per
 * process (pthread_once).
 */
#include "module.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HTTP_PARALLEL 16
#define HTTP_CONNECT_TIMEOUT 10L
#define HTTP_TIMEOUT 60L
#define HTTP_PATH "/uri-res/N2R?urn:blake2b:"
/* Bodies of other responses (error pages) are read and dropped, up to
 * this much; a longer one ends the transfer (its status still counts). */
#define HTTP_DISCARD_MAX 65536

typedef enum { REQ_GET, REQ_HEAD, REQ_PUT } req_kind;

/* One transfer: a request, its buffer and its outcome. */
typedef struct {
	CURL *easy;
	req_kind kind;
	char url[1024];
	uint8_t *buf;        /* GET: receives the body */
	size_t cap;          /* GET: at most this many bytes */
	size_t len;          /* bytes received (GET) or sent (PUT) */
	int overflow;        /* the block was larger than cap */
	size_t discarded;    /* bytes of other bodies dropped */
	int too_long;        /* ... more than HTTP_DISCARD_MAX */
	const uint8_t *body; /* PUT */
	size_t body_len;
	long status;
	CURLcode res;
	char errbuf[CURL_ERROR_SIZE];
} xfer;

typedef struct {
	eris_store_backend parent;
	char *base; /* BASE, for messages */
	char *url_prefix; /* BASE HTTP_PATH */
	struct curl_slist *headers;     /* GET/HEAD */
	struct curl_slist *put_headers; /* PUT */
	pthread_mutex_t lock;
	CURLM *multi;
	xfer pool[HTTP_PARALLEL]; /* easy handles created on first use */
} http_store;

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc = CURLE_FAILED_INIT;

static void global_init(void)
{
	global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static size_t on_write(char *data, size_t size, size_t nmemb, void *p)
{
	xfer *x = p;
	size_t n = size * nmemb;

	if (x->status == 0)
		curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &x->status);
	if (x->kind != REQ_GET || x->status != 200) {
		/* Not a block (an error page, a PUT's reply): drop it. */
		if (n > HTTP_DISCARD_MAX - x->discarded) {
			x->too_long = 1;
			return 0;
		}
		x->discarded += n;
		return n;
	}
	if (n > x->cap - x->len) {
		x->overflow = 1;
		return 0; /* aborts the transfer: CURLE_WRITE_ERROR */
	}
	memcpy(x->buf + x->len, data, n);
	x->len += n;
	return n;
}

static size_t on_read(char *data, size_t size, size_t nmemb, void *p)
{
	xfer *x = p;
	size_t n = size * nmemb, left = x->body_len - x->len;

	if (n > left)
		n = left;
	memcpy(data, x->body + x->len, n);
	x->len += n;
	return n;
}

/* Prepare pool slot `x` (its easy handle created or reset) for a request
 * on `ref`. */
static int xfer_setup(http_store *h, xfer *x, req_kind kind,
		      const uint8_t *ref)
{
	char name[ERIS_REF_BASE32_LEN + 1];
	CURL *e;

	if (x->easy == NULL) {
		x->easy = curl_easy_init();
		if (x->easy == NULL)
			return eris_error_set(ERIS_ENOMEM,
					      "http store %s: cannot create a "
					      "curl handle",
					      h->base);
	} else {
		curl_easy_reset(x->easy); /* keeps connections and caches */
	}
	e = x->easy;
	eris_base32_encode(name, ref, ERIS_REF_BYTES);
	snprintf(x->url, sizeof(x->url), "%s%s", h->url_prefix, name);
	x->kind = kind;
	x->len = 0;
	x->overflow = 0;
	x->discarded = 0;
	x->too_long = 0;
	x->status = 0;
	x->res = CURLE_OK;
	x->errbuf[0] = '\0';
	curl_easy_setopt(e, CURLOPT_URL, x->url);
	curl_easy_setopt(e, CURLOPT_PRIVATE, (void *)x);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, HTTP_CONNECT_TIMEOUT);
	curl_easy_setopt(e, CURLOPT_TIMEOUT, HTTP_TIMEOUT);
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
	if (kind == REQ_PUT) {
		curl_easy_setopt(e, CURLOPT_HTTPHEADER, h->put_headers);
		curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(e, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(e, CURLOPT_READDATA, (void *)x);
		curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE,
				 (curl_off_t)x->body_len);
	} else {
		curl_easy_setopt(e, CURLOPT_HTTPHEADER, h->headers);
		if (kind == REQ_HEAD)
			curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
	}
	return ERIS_OK;
}

static const char *method_name(req_kind kind)
{
	return kind == REQ_GET ? "GET" : kind == REQ_HEAD ? "HEAD" : "PUT";
}

/* The transport-level outcome of a finished transfer: ERIS_OK when an
 * HTTP status was received (x->status), else an error with a message. */
static int xfer_transport(http_store *h, xfer *x)
{
	(void)h;
	if (x->kind == REQ_GET && x->overflow)
		return eris_error_set(ERIS_EBLOCKSIZE,
				      "http store: GET %s: the body is larger "
				      "than %zu bytes",
				      x->url, x->cap);
	if (x->res == CURLE_WRITE_ERROR && x->too_long && x->status != 0)
		return ERIS_OK; /* a long error page: its status decides */
	if (x->res != CURLE_OK)
		return eris_error_set(ERIS_ERROR, "http store: %s %s: %s",
				      method_name(x->kind), x->url,
				      x->errbuf[0] ? x->errbuf
						   : curl_easy_strerror(x->res));
	return ERIS_OK;
}

static int bad_status(const xfer *x)
{
	if (x->status == 401 || x->status == 403)
		return eris_error_set(ERIS_ERROR,
				      "http store: %s %s: access denied (HTTP "
				      "%ld; is ERIS_HTTP_TOKEN right?)",
				      method_name(x->kind), x->url, x->status);
	return eris_error_set(ERIS_ERROR,
			      "http store: %s %s: unexpected HTTP status %ld",
			      method_name(x->kind), x->url, x->status);
}

/* Run transfers 0..n-1 on the multi handle, at most HTTP_PARALLEL at
 * once: `start` sets up the i-th in a free pool slot (recording its own
 * failure) and `done` collects its outcome. Returns ERIS_OK unless the
 * multi handle itself failed. */
typedef int (*start_fn)(http_store *h, size_t i, xfer *slot, void *ctx);
typedef void (*done_fn)(http_store *h, size_t i, xfer *slot, void *ctx);

static int run_batch(http_store *h, size_t n, start_fn start, done_fn done,
		     void *ctx)
{
	size_t index[HTTP_PARALLEL];
	int busy[HTTP_PARALLEL] = {0};
	size_t next = 0, active = 0;
	int rc = ERIS_OK;

	while (rc == ERIS_OK && (next < n || active > 0)) {
		int running = 0, left = 0;
		CURLMsg *msg;
		CURLMcode mc;

		for (int s = 0; s < HTTP_PARALLEL && next < n; s++) {
			if (busy[s])
				continue;
			if (start(h, next, &h->pool[s], ctx) < 0) {
				/* This transfer could not be set up (its result
				 * is recorded by start); go on with the rest. */
				next++;
				continue;
			}
			mc = curl_multi_add_handle(h->multi, h->pool[s].easy);
			if (mc != CURLM_OK) {
				rc = eris_error_set(ERIS_ERROR,
						    "http store %s: %s",
						    h->base,
						    curl_multi_strerror(mc));
				break;
			}
			index[s] = next++;
			busy[s] = 1;
			active++;
		}
		if (rc < 0)
			break;
		if (active == 0)
			continue; /* every start failed; try the rest */
		mc = curl_multi_perform(h->multi, &running);
		if (mc == CURLM_OK && running > 0)
			mc = curl_multi_poll(h->multi, NULL, 0, 1000, NULL);
		if (mc != CURLM_OK) {
			rc = eris_error_set(ERIS_ERROR, "http store %s: %s",
					    h->base, curl_multi_strerror(mc));
			break;
		}
		while ((msg = curl_multi_info_read(h->multi, &left)) != NULL) {
			char *priv = NULL;
			xfer *x;
			int s;

			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE,
					  &priv);
			x = (xfer *)(void *)priv;
			x->res = msg->data.result;
			curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE,
					  &x->status);
			curl_multi_remove_handle(h->multi, x->easy);
			s = (int)(x - h->pool);
			busy[s] = 0;
			active--;
			done(h, index[s], x, ctx);
		}
	}
	/* On a multi failure, detach whatever is still attached. */
	for (int s = 0; s < HTTP_PARALLEL; s++)
		if (busy[s])
			curl_multi_remove_handle(h->multi, h->pool[s].easy);
	return rc;
}

/* ---- get and get_many ------------------------------------------------ */

typedef struct {
	const uint8_t (*refs)[ERIS_REF_BYTES];
	uint8_t *const *bufs;
	size_t buf_size;
	size_t *out_lens;
	int *results;
} get_ctx;

static size_t get_cap(size_t buf_size)
{
	return buf_size < ERIS_BLOCK_SIZE_MAX ? buf_size : ERIS_BLOCK_SIZE_MAX;
}

static int get_start(http_store *h, size_t i, xfer *x, void *p)
{
	get_ctx *c = p;
	int rc;

	c->out_lens[i] = 0;
	x->buf = c->bufs[i];
	x->cap = get_cap(c->buf_size);
	rc = xfer_setup(h, x, REQ_GET, c->refs[i]);
	c->results[i] = rc;
	return rc;
}

static void get_done(http_store *h, size_t i, xfer *x, void *p)
{
	get_ctx *c = p;
	int rc = xfer_transport(h, x);

	if (rc == ERIS_OK) {
		if (x->status == 200)
			c->out_lens[i] = x->len;
		else if (x->status == 404)
			rc = ERIS_ENOTFOUND;
		else
			rc = bad_status(x);
	}
	c->results[i] = rc;
}

static int http_get_many(eris_store_backend *b, size_t n,
			 const uint8_t (*refs)[ERIS_REF_BYTES],
			 uint8_t *const *bufs, size_t buf_size,
			 size_t *out_lens, int *results)
{
	http_store *h = (http_store *)b;
	get_ctx c = {refs, bufs, buf_size, out_lens, results};
	int rc;

	for (size_t i = 0; i < n; i++) {
		out_lens[i] = 0;
		results[i] = ERIS_ERROR; /* until its transfer is done */
	}
	pthread_mutex_lock(&h->lock);
	rc = run_batch(h, n, get_start, get_done, &c);
	pthread_mutex_unlock(&h->lock);
	return rc;
}

static int http_get(eris_store_backend *b, const uint8_t *ref, uint8_t *buf,
		    size_t buf_size, size_t *out_len)
{
	const uint8_t(*refs)[ERIS_REF_BYTES] =
		(const uint8_t(*)[ERIS_REF_BYTES])ref;
	uint8_t *const bufs[1] = {buf};
	int result = ERIS_ERROR;
	int rc = http_get_many(b, 1, refs, bufs, buf_size, out_len, &result);

	return rc < 0 ? rc : result;
}

/* ---- has and put ------------------------------------------------------ */

typedef struct {
	const uint8_t *ref;
	req_kind kind;
	const uint8_t *body;
	size_t body_len;
	int result;
} one_ctx;

static int one_start(http_store *h, size_t i, xfer *x, void *p)
{
	one_ctx *c = p;

	(void)i;
	x->body = c->body;
	x->body_len = c->body_len;
	c->result = xfer_setup(h, x, c->kind, c->ref);
	return c->result;
}

static void one_done(http_store *h, size_t i, xfer *x, void *p)
{
	one_ctx *c = p;
	int rc = xfer_transport(h, x);

	(void)i;
	if (rc < 0) {
		c->result = rc;
	} else if (c->kind == REQ_HEAD) {
		c->result = x->status == 200   ? 1
			    : x->status == 404 ? 0
					       : bad_status(x);
	} else if (x->status == 200 || x->status == 201 ||
		   x->status == 204) {
		c->result = ERIS_OK;
	} else if (x->status == 401 || x->status == 403 ||
		   x->status == 405) {
		c->result = eris_error_set(ERIS_EREADONLY,
					   "http store: PUT %s: write refused "
					   "(HTTP %ld)",
					   x->url, x->status);
	} else {
		c->result = bad_status(x);
	}
}

static int run_one(http_store *h, one_ctx *c)
{
	int rc;

	pthread_mutex_lock(&h->lock);
	rc = run_batch(h, 1, one_start, one_done, c);
	pthread_mutex_unlock(&h->lock);
	return rc < 0 ? rc : c->result;
}

static int http_has(eris_store_backend *b, const uint8_t *ref)
{
	one_ctx c = {ref, REQ_HEAD, NULL, 0, ERIS_ERROR};

	return run_one((http_store *)b, &c);
}

static int http_put(eris_store_backend *b, const uint8_t *ref,
		    const uint8_t *block, size_t len)
{
	one_ctx c = {ref, REQ_PUT, block, len, ERIS_ERROR};

	return run_one((http_store *)b, &c);
}

static int http_flush(eris_store_backend *b)
{
	(void)b;
	return ERIS_OK;
}

/* ---- opening and closing --------------------------------------------- */

static void http_free(eris_store_backend *b)
{
	http_store *h = (http_store *)b;

	for (int s = 0; s < HTTP_PARALLEL; s++)
		if (h->pool[s].easy)
			curl_easy_cleanup(h->pool[s].easy);
	if (h->multi)
		curl_multi_cleanup(h->multi);
	curl_slist_free_all(h->headers);
	curl_slist_free_all(h->put_headers);
	pthread_mutex_destroy(&h->lock);
	free(h->base);
	free(h->url_prefix);
	free(h);
}

/* Check the URL's shape: http(s)://AUTHORITY[/PATH], no credentials, no
 * query or fragment; a trailing '/' is dropped. */
static int check_url(const char *url, size_t *out_len)
{
	size_t len = strlen(url), skip;
	const char *auth, *end;

	if (strncmp(url, "http://", 7) == 0)
		skip = 7;
	else if (strncmp(url, "https://", 8) == 0)
		skip = 8;
	else
		return eris_error_set(ERIS_ESTORE,
				      "http store: \"%s\" is not an http:// or "
				      "https:// URL",
				      url);
	auth = url + skip;
	end = auth + strcspn(auth, "/");
	if (end == auth)
		return eris_error_set(ERIS_ESTORE,
				      "http store: \"%s\" names no host", url);
	if (memchr(auth, '@', (size_t)(end - auth)) != NULL)
		return eris_error_set(ERIS_ESTORE,
				      "http store: credentials in the URL are "
				      "not supported (set ERIS_HTTP_TOKEN)");
	if (strpbrk(url, "?# \t\r\n") != NULL)
		return eris_error_set(ERIS_ESTORE,
				      "http store: \"%s\": the URL may not "
				      "have a query, a fragment or spaces",
				      url);
	while (len > skip && url[len - 1] == '/')
		len--;
	if (len > 900)
		return eris_error_set(ERIS_ESTORE,
				      "http store: the URL is too long");
	*out_len = len;
	return ERIS_OK;
}

static char *dup_printf(const char *a, size_t a_len, const char *b)
{
	size_t b_len = strlen(b);
	char *s = malloc(a_len + b_len + 1);

	if (s) {
		memcpy(s, a, a_len);
		memcpy(s + a_len, b, b_len + 1);
	}
	return s;
}

static int http_open(eris_store **out, const char *url, const char *token)
{
	http_store *h;
	size_t len = 0;
	int rc;

	if (out == NULL || url == NULL)
		return eris_error_set(ERIS_EINVAL, "invalid argument");
	*out = NULL;
	if ((rc = check_url(url, &len)) < 0)
		return rc;
	pthread_once(&global_once, global_init);
	if (global_rc != CURLE_OK)
		return eris_error_set(ERIS_ERROR,
				      "http store: cannot initialize libcurl: "
				      "%s",
				      curl_easy_strerror(global_rc));
	h = calloc(1, sizeof(*h));
	if (h == NULL)
		return eris_error_set(ERIS_ENOMEM, "out of memory");
	if (pthread_mutex_init(&h->lock, NULL) != 0) {
		free(h);
		return eris_error_set(ERIS_ERROR,
				      "http store: cannot create a mutex");
	}
	h->parent.version = ERIS_STORE_BACKEND_VERSION;
	h->parent.get = http_get;
	h->parent.put = http_put;
	h->parent.has = http_has;
	h->parent.get_many = http_get_many;
	h->parent.flush = http_flush;
	h->parent.free = http_free;
	h->base = dup_printf(url, len, "");
	h->url_prefix = dup_printf(url, len, HTTP_PATH);
	h->multi = curl_multi_init();
	rc = h->base && h->url_prefix && h->multi ? ERIS_OK : ERIS_ENOMEM;
	if (rc == ERIS_OK && token != NULL && token[0] != '\0') {
		char *auth = dup_printf("Authorization: Bearer ", 22, token);
		struct curl_slist *l1 = NULL, *l2 = NULL;

		if (auth) {
			l1 = curl_slist_append(NULL, auth);
			l2 = curl_slist_append(NULL, auth);
			eris_memzero(auth, strlen(auth));
			free(auth);
		}
		h->headers = l1;
		h->put_headers = l2;
		if (l1 == NULL || l2 == NULL)
			rc = ERIS_ENOMEM;
	}
	if (rc == ERIS_OK) {
		struct curl_slist *l;

		l = curl_slist_append(h->put_headers,
				      "Content-Type: application/octet-stream");
		if (l != NULL) {
			h->put_headers = l;
			/* No "Expect: 100-continue" round trip. */
			l = curl_slist_append(l, "Expect:");
		}
		if (l == NULL)
			rc = ERIS_ENOMEM;
		else
			h->put_headers = l;
	}
	if (rc == ERIS_OK && h->multi) {
		curl_multi_setopt(h->multi, CURLMOPT_MAX_HOST_CONNECTIONS,
				  (long)HTTP_PARALLEL);
		curl_multi_setopt(h->multi, CURLMOPT_MAXCONNECTS,
				  (long)HTTP_PARALLEL);
	}
	if (rc < 0) {
		http_free(&h->parent);
		return eris_error_set(rc, "out of memory");
	}
	return eris_store_new_from_backend(out, &h->parent);
}

static int module_open(eris_store **out, const eris_module_request *r)
{
	return http_open(out, r->spec, r->opts->bearer_token);
}

ERIS_MODULE_EXPORT const eris_module eris_module_http = {
	ERIS_MODULE_ABI, "http", module_open, NULL
};
