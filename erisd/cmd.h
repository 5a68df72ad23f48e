/*
 * cmd.h - erisd's request handlers: a parsed request and the store in, a
 * response (head + body slice) out. They block on the store, so the loop
 * runs them on its worker threads (jobs.c), never on an io_uring thread.
 *
 * May call: the store, cache.c, proto.c (the shapes of requests).
 */
#ifndef ERISD_CMD_H
#define ERISD_CMD_H

#include "erisd.h"
#include "proto.h"

#include <eris/eris.h>

#include <stdio.h>

/* Per-connection state that outlives one call: the buffers the response
 * body points into and the decoder of a content response in progress. */
typedef struct cmd_state {
	uint8_t *block;        /* ERIS_BLOCK_SIZE_MAX bytes, lazily */
	uint8_t *chunk;        /* CMD_CHUNK bytes, lazily */
	eris_decoder *dec;     /* content being streamed, or NULL */
	uint64_t next, end;    /* remaining content range [next, end) */
	int defer_flush;       /* PUT: leave the flush to the caller */
	int pre_ok;            /* `block` holds pre_ref, verified ... */
	size_t pre_len;        /* ... by cmd_prefetch_blocks() */
	uint8_t pre_ref[ERIS_REF_BYTES];
} cmd_state;

/* The most blocks cmd_prefetch_blocks() reads and hashes together. */
#define CMD_PREFETCH_MAX 8

/* Bytes of content decoded per step of a content response. */
#define CMD_CHUNK (128u * 1024u)

/* What to send. `head` then `body`; then, if `more`, call cmd_continue()
 * for the next piece; then close the connection if `close`. */
typedef struct cmd_response {
	char head[1024];
	size_t head_len;
	const uint8_t *body;   /* into cmd_state or static; may be NULL */
	size_t body_len;
	int status;
	int more;
	int close;
	int flush_pending;     /* a deferred PUT: call cmd_flushed() */
} cmd_response;

/* The peer of a connection. */
typedef struct cmd_peer {
	int loopback;          /* 127.0.0.0/8, ::1 or ::ffff:127.0.0.0/104 */
	char addr[64];         /* printable, for the access log */
} cmd_peer;

/* Answer `req`, whose body (content_length bytes) is at `body`. */
void cmd_handle(const erisd_config *cfg, cmd_state *st,
		const cmd_peer *peer, const http_request *req,
		const uint8_t *body, cmd_response *resp);

/*
 * Batched misses: read the blocks that GET/HEAD requests req[0..n-1]
 * (n <= CMD_PREFETCH_MAX, TARGET_BLOCK) ask for and that are not in the
 * cache, with one eris_store_get_many() (the blocks hashed together),
 * into st[i]->block; cmd_handle() then answers each from there. A block
 * that fails is left to cmd_handle(), which reads it again and reports
 * its own error. Every block is verified before it can be sent.
 *
 * With `nowait`, only what the store has at hand is read (with
 * eris_store_try_get_many(): never a wait for a disk, so an io_uring
 * thread may call it), even a single block; st[i]->pre_ok says which
 * were, and cmd_handle() answers those without touching the store.
 */
void cmd_prefetch_blocks(const erisd_config *cfg, size_t n,
			 cmd_state *const *st, const http_request *const *req,
			 int nowait);

/*
 * Group commit: with st->defer_flush set, a successful PUT is stored but
 * not flushed and resp->flush_pending is set; the caller flushes the
 * store once for a batch of PUTs and then calls cmd_flushed() with the
 * result for each, which keeps the answer (201/200) only if the flush
 * succeeded. A PUT is never acknowledged before its flush.
 */
void cmd_flushed(const erisd_config *cfg, cmd_state *st,
		 const cmd_peer *peer, const http_request *req, int rc,
		 cmd_response *resp);

/* The next piece of a content response (resp->more was set). A failure
 * here (a block gone bad after the head was sent) sets resp->close with
 * nothing to send: the client sees a short body. */
void cmd_continue(const erisd_config *cfg, cmd_state *st,
		  cmd_response *resp);

/* An error answer to a request the parser rejected (always closes);
 * req->hint, when set, is said in the body (kept in st's buffer). */
void cmd_error(const erisd_config *cfg, cmd_state *st, const cmd_peer *peer,
	       const http_request *req, int status, cmd_response *resp);

/* The head of a 200 answer to a GET/HEAD of a block of `len` bytes
 * (resp->body is left to the caller; resp->body_len is set). Pure and
 * cheap: the loop answers cache hits with it on its own thread. */
void cmd_block_head(const http_request *req, size_t len,
		    cmd_response *resp);

/* Free what `st` holds (the decoder, the buffers). */
void cmd_state_free(cmd_state *st);

/* Constant-time check of an Authorization value against "Bearer TOKEN". */
int cmd_auth_ok(const erisd_config *cfg, const http_request *req);

/* 0 if this peer may PUT, else the status to refuse it with (401, 403).
 * Also asked before answering "Expect: 100-continue", so that a refused
 * client is not invited to send its body. */
int cmd_put_refused(const erisd_config *cfg, const cmd_peer *peer,
		    const http_request *req);

#endif
