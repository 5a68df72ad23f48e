/*
 * cmd.c - what erisd answers: GET/HEAD/PUT of one block and GET/HEAD of
 * decoded content (ERIS over HTTP, spec §9), against the store vtable.
 *
 * These functions block (sqlite, fsync, decoding), so jobs.c calls them
 * on its worker threads; they touch only their arguments and the store
 * (thread-safe, see eris/store.h), plus the access log (stdio locks it).
 * May call: the store, cache.c, proto.c.
 *
 * Choices (documented in erisd(8)):
 *   - PUT answers 200 with "Content-Location: /uri-res/N2R?urn:blake2b:
 *     REF", new block or not, as the Nim server does (its client takes
 *     anything else for a failure); only after eris_store_flush() gave
 *     ERIS_OK: an acknowledged block survives kill -9 and power loss.
 *     jobs.c lets PUTs queued together share one flush (group commit,
 *     see cmd_flushed()); a failed flush turns their answers into 500.
 *   - A body that is not 1024/32768 bytes, or does not hash to the
 *     reference, is 400 (as the Nim server does).
 *   - Writes: --writable lets loopback peers write; --token-file lets any
 *     peer with "Authorization: Bearer TOKEN" write. A peer that could
 *     write with the token gets 401; writes disabled entirely give 403.
 *   - Content: one Range "bytes=a-b", "a-" or "-n" gives 206; several
 *     ranges or a malformed Range are ignored (200, everything);
 *     unsatisfiable is 416. A missing block (R1) is 404, any other
 *     verification failure (R2-R6) or store error is 500 with the reason
 *     in the body. Once the head is out, a failure closes the connection
 *     early: the client sees fewer bytes than Content-Length.
 */
#define _GNU_SOURCE
#include "cmd.h"

/* Reads go through the upstream cache when there is one (--upstream). */
#define READ_STORE(cfg) ((cfg)->read_store ? (cfg)->read_store : (cfg)->store)

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static void access_log(const erisd_config *cfg, const cmd_peer *peer,
		       const http_request *req, int status, uint64_t bytes)
{
	static const char *const methods[] = { "-", "GET", "HEAD", "PUT" };
	char when[32], what[ERIS_URN_BUFSIZE + 16];
	struct tm tm;
	time_t now;

	if (!cfg->access_log)
		return;
	now = time(NULL);
	gmtime_r(&now, &tm);
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (!req) {
		strcpy(what, "- -");
	} else if (req->kind == TARGET_BLOCK) {
		char b32[ERIS_REF_BASE32_LEN + 1];

		eris_base32_encode(b32, req->ref, sizeof req->ref);
		snprintf(what, sizeof what, "%s urn:blake2b:%s",
			 methods[req->method], b32);
	} else {
		/* The capability is a secret: log only its root reference. */
		char b32[ERIS_REF_BASE32_LEN + 1];

		eris_base32_encode(b32, req->cap.root_ref, ERIS_REF_BYTES);
		snprintf(what, sizeof what, "%s content:%s",
			 methods[req->method], b32);
	}
	fprintf(cfg->access_log, "%s %s %s %d %" PRIu64 "\n", when,
		peer->addr, what, status, bytes);
	fflush(cfg->access_log);
}

/* The Date header's value, formatted once a second per thread. */
static const char *http_date(void)
{
	static _Thread_local time_t last = (time_t)-1;
	static _Thread_local char date[64];
	time_t now = time(NULL);
	struct tm tm;

	if (now != last) {
		gmtime_r(&now, &tm);
		strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
		last = now;
	}
	return date;
}

/* Start the head: status line, Date, Server. */
static void head_start(cmd_response *resp, int status)
{
	const char *date = http_date();
	int n;

	n = snprintf(resp->head, sizeof resp->head,
		     "HTTP/1.1 %d %s\r\nDate: %s\r\nServer: erisd/%s\r\n",
		     status, http_reason(status), date, ERIS_VERSION);
	resp->head_len = (size_t)n;
	resp->status = status;
}

#if defined(__GNUC__) || defined(__clang__)
__attribute__((format(printf, 2, 3)))
#endif
static void head_add(cmd_response *resp, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(resp->head + resp->head_len,
		      sizeof resp->head - resp->head_len, fmt, ap);
	va_end(ap);
	if (n > 0 && (size_t)n < sizeof resp->head - resp->head_len)
		resp->head_len += (size_t)n;
}

/* End the head: Connection and the empty line. */
static void head_end(cmd_response *resp, const http_request *req)
{
	if (resp->close)
		head_add(resp, "Connection: close\r\n");
	else if (req && req->version_minor == 0)
		head_add(resp, "Connection: keep-alive\r\n");
	head_add(resp, "\r\n");
}

/* A text/plain error answer; `msg` may be NULL (the reason phrase). */
static void error_response(cmd_response *resp, const http_request *req,
			   int status, const char *msg, cmd_state *st)
{
	char *text;
	int n;

	/* The message goes into the connection's chunk buffer when there
	 * is one, so that it outlives this call. */
	if (st && !st->chunk)
		st->chunk = malloc(CMD_CHUNK);
	text = st && st->chunk ? (char *)st->chunk : NULL;
	head_start(resp, status);
	if (status == 401)
		head_add(resp, "WWW-Authenticate: Bearer realm=\"erisd\"\r\n");
	if (status == 405)
		head_add(resp, "Allow: GET, HEAD, PUT\r\n");
	if (text) {
		n = snprintf(text, 512, "%d %s%s%s\n", status,
			     http_reason(status), msg ? ": " : "",
			     msg ? msg : "");
		if (n < 0)
			n = 0;
		if (n >= 512)
			n = 511;
		resp->body = (const uint8_t *)text;
	} else {
		/* No state (parser errors): the reason only, from a table
		 * that never changes. */
		resp->body = (const uint8_t *)http_reason(status);
		n = (int)strlen(http_reason(status));
	}
	head_add(resp, "Content-Type: text/plain; charset=utf-8\r\n"
		       "Content-Length: %d\r\n", n);
	resp->body_len = (size_t)n;
	if (req && req->method == HTTP_HEAD)
		resp->body_len = 0;
	head_end(resp, req);
}

void cmd_error(const erisd_config *cfg, cmd_state *st, const cmd_peer *peer,
	       const http_request *req, int status, cmd_response *resp)
{
	int hint = status == 400 && req->hint[0];

	memset(resp, 0, sizeof *resp);
	resp->close = 1;
	/* The head may not have parsed: no request for error_response. */
	error_response(resp, NULL, status, hint ? req->hint : NULL,
		       hint ? st : NULL);
	access_log(cfg, peer, NULL, status, resp->body_len);
}

int cmd_auth_ok(const erisd_config *cfg, const http_request *req)
{
	static const char prefix[] = "Bearer ";
	const size_t plen = sizeof prefix - 1;
	const char *given;
	size_t glen, i;
	unsigned char diff = 0;

	if (!cfg->token || !req->has_auth || req->auth_too_long)
		return 0;
	glen = strlen(req->auth);
	if (glen < plen || strncasecmp(req->auth, prefix, plen) != 0)
		return 0;
	given = req->auth + plen;
	glen -= plen;
	/* Time depends only on the token's length, not on where the given
	 * value first differs. */
	diff = (unsigned char)(glen != cfg->token_len);
	for (i = 0; i < cfg->token_len; i++)
		diff |= (unsigned char)(cfg->token[i] ^
					(i < glen ? given[i] : 0));
	return diff == 0;
}

int cmd_put_refused(const erisd_config *cfg, const cmd_peer *peer,
		    const http_request *req)
{
	if ((cfg->writable && peer->loopback) || cmd_auth_ok(cfg, req))
		return 0;
	return cfg->token ? 401 : 403;
}

static void put_block(const erisd_config *cfg, cmd_state *st,
		      const cmd_peer *peer, const http_request *req,
		      const uint8_t *body, cmd_response *resp)
{
	char b32[ERIS_REF_BASE32_LEN + 1];
	size_t len = (size_t)req->content_length;
	int rc, refused = cmd_put_refused(cfg, peer, req);

	if (refused) {
		error_response(resp, req, refused,
			       refused == 401 ? "a Bearer token is required "
						"to write"
					      : "this server is read-only",
			       st);
		return;
	}
	if (len != ERIS_BLOCK_SIZE_1K && len != ERIS_BLOCK_SIZE_32K) {
		error_response(resp, req, 400, "a block is 1024 or 32768 "
			       "bytes", st);
		return;
	}
	rc = eris_store_put(cfg->store, req->ref, body, len);
	if (rc == ERIS_OK && !st->defer_flush)
		rc = eris_store_flush(cfg->store);
	if (rc == ERIS_EMISMATCH || rc == ERIS_EBLOCKSIZE) {
		error_response(resp, req, 400, "the body does not hash to "
			       "the reference", st);
		return;
	}
	if (rc == ERIS_EREADONLY) {
		error_response(resp, req, 403, "the store is read-only", st);
		return;
	}
	if (rc != ERIS_OK) {
		error_response(resp, req, 500, eris_error_last(), st);
		return;
	}
	resp->flush_pending = st->defer_flush;
	eris_base32_encode(b32, req->ref, sizeof req->ref);
	head_start(resp, 200);
	head_add(resp, "Content-Location: /uri-res/N2R?urn:blake2b:%s\r\n"
		       "Content-Length: 0\r\n", b32);
	head_end(resp, req);
}

void cmd_block_head(const http_request *req, size_t len,
		    cmd_response *resp)
{
	head_start(resp, 200);
	head_add(resp, "Content-Type: application/octet-stream\r\n"
		       "Content-Length: %zu\r\n"
		       "Cache-Control: public, max-age=31536000, immutable\r\n",
		 len);
	head_end(resp, req);
	resp->body_len = req->method == HTTP_HEAD ? 0 : len;
}

static void get_block(const erisd_config *cfg, cmd_state *st,
		      const http_request *req, cmd_response *resp)
{
	const erisd_cache_entry *hit;
	char why[320];
	size_t len = 0;
	int rc;

	if (!st->block)
		st->block = malloc(ERIS_BLOCK_SIZE_MAX);
	if (!st->block) {
		error_response(resp, req, 500, "out of memory", st);
		return;
	}
	/* Read and verified in a batch by cmd_prefetch_blocks(). */
	if (st->pre_ok &&
	    memcmp(st->pre_ref, req->ref, ERIS_REF_BYTES) == 0) {
		st->pre_ok = 0;
		cmd_block_head(req, st->pre_len, resp);
		resp->body = st->block;
		return;
	}
	st->pre_ok = 0;
	/* A cached block was verified when it entered: no re-hash. */
	hit = cfg->cache ? erisd_cache_get(cfg->cache, req->ref) : NULL;
	if (hit) {
		len = erisd_cache_len(hit);
		memcpy(st->block, erisd_cache_data(hit), len);
		erisd_cache_release(cfg->cache, hit);
	} else {
		rc = eris_store_get(READ_STORE(cfg), req->ref, st->block,
				    ERIS_BLOCK_SIZE_MAX, &len);
		if (rc == ERIS_ENOTFOUND) {
			error_response(resp, req, 404, "no such block", st);
			return;
		}
		if (rc != ERIS_OK) {
			snprintf(why, sizeof why, "%s%s%s",
				 eris_error_rule(rc) ? eris_error_rule(rc) : "",
				 eris_error_rule(rc) ? ": " : "",
				 eris_error_last());
			error_response(resp, req, 500, why, st);
			return;
		}
		/* eris_store_get() hashed it against req->ref. */
		if (cfg->cache)
			erisd_cache_put(cfg->cache, req->ref, st->block, len);
	}
	cmd_block_head(req, len, resp);
	resp->body = st->block;
}

void cmd_prefetch_blocks(const erisd_config *cfg, size_t n,
			 cmd_state *const *st, const http_request *const *req,
			 int nowait)
{
	uint8_t refs[CMD_PREFETCH_MAX][ERIS_REF_BYTES];
	uint8_t *bufs[CMD_PREFETCH_MAX];
	size_t lens[CMD_PREFETCH_MAX], idx[CMD_PREFETCH_MAX], k = 0;
	int results[CMD_PREFETCH_MAX];

	for (size_t i = 0; i < n && i < CMD_PREFETCH_MAX; i++) {
		const erisd_cache_entry *hit;

		st[i]->pre_ok = 0;
		/* With nowait the caller has just missed the cache. */
		hit = cfg->cache && !nowait
			      ? erisd_cache_get(cfg->cache, req[i]->ref)
			      : NULL;
		if (hit) { /* answered from the cache */
			erisd_cache_release(cfg->cache, hit);
			continue;
		}
		if (!st[i]->block)
			st[i]->block = malloc(ERIS_BLOCK_SIZE_MAX);
		if (!st[i]->block)
			continue;
		memcpy(refs[k], req[i]->ref, ERIS_REF_BYTES);
		bufs[k] = st[i]->block;
		idx[k++] = i;
	}
	if (k == 0 || (k == 1 && !nowait)) /* cmd_handle() reads it */
		return;
	if ((nowait ? eris_store_try_get_many : eris_store_get_many)(
		    READ_STORE(cfg), k, (const uint8_t(*)[ERIS_REF_BYTES])refs,
		    bufs, ERIS_BLOCK_SIZE_MAX, lens, results) != ERIS_OK)
		return;
	for (size_t j = 0; j < k; j++) {
		cmd_state *s = st[idx[j]];

		if (results[j] != ERIS_OK)
			continue;
		/* eris_store_get_many() hashed it against its reference. */
		s->pre_ok = 1;
		s->pre_len = lens[j];
		memcpy(s->pre_ref, refs[j], ERIS_REF_BYTES);
		if (cfg->cache)
			erisd_cache_put(cfg->cache, refs[j], s->block, lens[j]);
	}
}

/* Decode the next piece of [st->next, st->end) into st->chunk. */
static int next_chunk(const erisd_config *cfg, cmd_state *st,
		      cmd_response *resp)
{
	uint64_t want = st->end - st->next;
	size_t got = 0;
	int rc;

	(void)cfg;
	if (want > CMD_CHUNK)
		want = CMD_CHUNK;
	rc = eris_decoder_pread(st->dec, st->chunk, (size_t)want, st->next,
				&got);
	if (rc != ERIS_OK)
		return rc;
	if (got != want)
		return ERIS_ERROR;
	st->next += got;
	resp->body = st->chunk;
	resp->body_len = got;
	resp->more = st->next < st->end;
	if (!resp->more) {
		eris_decoder_free(st->dec);
		st->dec = NULL;
	}
	return ERIS_OK;
}

static void get_content(const erisd_config *cfg, cmd_state *st,
			const http_request *req, cmd_response *resp)
{
	uint64_t length, first = 0, last = 0;
	int rc, range = RANGE_NONE;
	char why[320];

	if (!st->chunk)
		st->chunk = malloc(CMD_CHUNK);
	if (!st->chunk) {
		error_response(resp, req, 500, "out of memory", st);
		return;
	}
	eris_decoder_free(st->dec);
	st->dec = NULL;
	rc = eris_decoder_new(&st->dec, READ_STORE(cfg), &req->cap);
	if (rc != ERIS_OK)
		goto fail;
	length = eris_decoder_length(st->dec);
	if (req->has_range)
		range = http_range(req->range, strlen(req->range), length,
				   &first, &last);
	if (range == RANGE_UNSATISFIABLE) {
		eris_decoder_free(st->dec);
		st->dec = NULL;
		error_response(resp, req, 416, NULL, st);
		/* error_response ended the head; add Content-Range before
		 * the empty line. */
		resp->head_len -= 2;
		head_add(resp, "Content-Range: bytes */%" PRIu64 "\r\n\r\n",
			 length);
		return;
	}
	if (range == RANGE_NONE) {
		first = 0;
		last = length ? length - 1 : 0;
	}
	st->next = first;
	st->end = length ? last + 1 : 0;
	if (req->method == HTTP_GET && st->next < st->end) {
		rc = next_chunk(cfg, st, resp);
		if (rc != ERIS_OK)
			goto fail;
	} else {
		eris_decoder_free(st->dec);
		st->dec = NULL;
	}
	head_start(resp, range == RANGE_OK ? 206 : 200);
	head_add(resp, "Content-Type: application/octet-stream\r\n"
		       "Accept-Ranges: bytes\r\n"
		       "Content-Length: %" PRIu64 "\r\n",
		 length ? last + 1 - first : 0);
	if (range == RANGE_OK)
		head_add(resp, "Content-Range: bytes %" PRIu64 "-%" PRIu64
			       "/%" PRIu64 "\r\n", first, last, length);
	head_end(resp, req);
	return;
fail:
	snprintf(why, sizeof why, "%s%s%s",
		 eris_error_rule(rc) ? eris_error_rule(rc) : "",
		 eris_error_rule(rc) ? ": " : "", eris_error_last());
	eris_decoder_free(st->dec);
	st->dec = NULL;
	resp->body = NULL;
	resp->body_len = 0;
	resp->more = 0;
	error_response(resp, req, rc == ERIS_ENOTFOUND ? 404 : 500, why, st);
}

void cmd_handle(const erisd_config *cfg, cmd_state *st,
		const cmd_peer *peer, const http_request *req,
		const uint8_t *body, cmd_response *resp)
{
	memset(resp, 0, sizeof *resp);
	resp->close = !req->keep_alive;
	eris_error_clear();
	if (req->method == HTTP_PUT)
		put_block(cfg, st, peer, req, body, resp);
	else if (req->kind == TARGET_BLOCK)
		get_block(cfg, st, req, resp);
	else
		get_content(cfg, st, req, resp);
	if (resp->flush_pending)
		return; /* logged by cmd_flushed() */
	access_log(cfg, peer, req, resp->status,
		   req->kind == TARGET_CONTENT && resp->status / 100 == 2 &&
				   req->method == HTTP_GET
			   ? st->end - st->next + resp->body_len
			   : resp->body_len);
}

void cmd_flushed(const erisd_config *cfg, cmd_state *st,
		 const cmd_peer *peer, const http_request *req, int rc,
		 cmd_response *resp)
{
	resp->flush_pending = 0;
	if (rc != ERIS_OK)
		error_response(resp, req, 500, eris_error_last(), st);
	access_log(cfg, peer, req, resp->status, resp->body_len);
}

void cmd_continue(const erisd_config *cfg, cmd_state *st,
		  cmd_response *resp)
{
	int close_ = resp->close;

	memset(resp, 0, sizeof *resp);
	resp->close = close_;
	if (!st->dec || next_chunk(cfg, st, resp) != ERIS_OK) {
		if (!cfg->quiet)
			fprintf(stderr, "erisd: content failed mid-response, "
				"closing: %s\n", eris_error_last());
		eris_decoder_free(st->dec);
		st->dec = NULL;
		resp->body = NULL;
		resp->body_len = 0;
		resp->more = 0;
		resp->close = 1;
	}
}

void cmd_state_free(cmd_state *st)
{
	eris_decoder_free(st->dec);
	free(st->block);
	free(st->chunk);
	memset(st, 0, sizeof *st);
}
