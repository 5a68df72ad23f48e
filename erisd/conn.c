/*
 * conn.c - erisd's HTTP/1.1 connections: the per-connection state
 * machine, driven by the completions of one io_uring ring (ring.c:
 * accept, recv, send, close, timeouts, cancellation, and reads of the
 * workers' eventfd and a signalfd). Nothing here waits but the ring (and
 * the job queue's mutex, held for a few instructions). Store work
 * (sqlite, fsync, decoding) runs on the worker pool (jobs.c), which wakes
 * the ring through its eventfd when a job is done; only blocks the store
 * has at hand (eris_store_try_get_many, which cannot wait) are read here.
 *
 * May call: ring.c, jobs.c, cmd.c (cmd_block_head, cmd_put_refused and
 * the connection state it owns), cache.c, proto.c (the parser).
 *
 * A connection has at most one socket operation (plus its linked timeout;
 * LINGER adds a shutdown) or one job in flight, so its buffers need no locks: whoever holds the
 * connection's single "turn" owns them, and the job queue's mutex orders
 * the hand-overs. Pipelined requests are parsed from the buffered bytes
 * one after the other, so answers go out in order.
 *
 * Connection states (the function making each transition in brackets):
 *
 *   accept [on_accept]
 *      |
 *      v        more bytes [on_recv -> advance]
 *   READ_HEAD <--------------------------------------------+
 *      |    \                                              |
 *      |     `-- parse error, or 408 [advance, on_recv] -. |
 *      | head complete [advance]                         | |
 *      v                                                 | |
 *   READ_BODY <--> SEND_CONTINUE (Expect: 100-continue)  | |
 *      |           [advance, on_send]                    | |
 *      | body complete [advance]                         | |
 *      v                                                 | |
 *    WORK (cmd.c: a worker, or this thread for a block   | |
 *      |   at hand [answer_misses]) <--------------------' |
 *      |    ^                                              |
 *      |    | all sent, resp.more [on_send]                |
 *      v    |                                              |
 *    SEND --+-- all sent, keep-alive [on_send -> next_request]
 *      |
 *      | all sent, close or draining [on_send -> linger]
 *      v
 *    LINGER (our side shut down; drop input until EOF or 2 s)
 *      |
 *      v   also from any state: peer closed, timeout, error
 *    CLOSING [conn_close: cancel what is in flight, wait for the job]
 *      |   no op in flight, no job: IORING_OP_CLOSE [conn_close]
 *      v
 *    freed [dispatch -> conn_free]; accept again if below the limit
 *
 * Timeouts are linked to each recv/send (IORING_OP_LINK_TIMEOUT): the
 * idle timeout while waiting for a request's first byte, for body bytes
 * and for the peer to take our bytes; the header timeout from a request's
 * first byte to the end of its head (a slowloris gets 408 and is closed).
 *
 * --max-connections: at the limit the loop stops accepting (connections
 * wait in the kernel's backlog) until one closes.
 *
 * SIGTERM/SIGINT (a signalfd read through the ring): stop accepting,
 * close connections that wait for or are reading a request's head, let
 * every request whose head has arrived finish, then return.
 *
 * Fast path: a GET/HEAD of a block in the cache of verified blocks
 * (cache.c) is answered on this thread, with no worker, no store access
 * and no re-hash; the entry stays pinned until its bytes are sent.
 * A GET/HEAD of a block the cache lacks waits (as a job, in WORK) until
 * the end of the pass over the ring's completions; then the blocks the
 * store has at hand (in the kernel's caches, so reading them cannot
 * wait) are read and hashed together on this thread and answered, and
 * only the others go to a worker: no hand-over between threads for a
 * block that is a read away.
 * Every response is first offered to the (non-blocking) socket at once;
 * only what it does not take goes through the ring.
 */
#define _GNU_SOURCE
#include "conn.h"
#include "jobs.h"
#include "ring.h"

#include <errno.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* The largest connection buffer: one complete request always fits. */
#define IN_MAX (HTTP_MAX_HEAD + HTTP_MAX_BODY)
#define IN_MIN 4096u

enum cstate {
	READ_HEAD,
	READ_BODY,
	SEND_CONTINUE,
	WORK,
	SEND,
	LINGER,
	CLOSING
};

typedef struct conn {
	int fd;
	enum cstate state;
	unsigned pending;       /* io_uring ops in flight */
	int job_busy;           /* a job is queued or running */
	int want_close;
	uint8_t *in;
	size_t in_len, in_cap;
	size_t need;            /* head + body bytes of the current request */
	uint64_t head_deadline; /* ns, CLOCK_MONOTONIC; 0 = none yet */
	http_parser parser;
	http_request req;
	cmd_state st;
	cmd_response resp;
	cmd_peer peer;
	size_t sent;
	struct iovec iov[2];
	struct msghdr msg;
	struct __kernel_timespec ts;
	jobs_item job;          /* the job in flight, if job_busy */
	struct conn *prev, *next; /* all connections */
	const erisd_cache_entry *hit; /* pinned while resp.body points in */
	struct conn *miss_next; /* in the loop's list of misses */
} conn;

struct conn_loop {
	const erisd_config *cfg;
	unsigned max_conns;     /* this loop's share of --max-connections */
	atomic_int *stop;       /* shared by every loop of the daemon */
	conn_stop_fn *stop_all;
	void *stop_arg;
	ring ring;
	jobs jobs;
	int signal_fd;          /* -1 but in the loop that reads signals */
	int draining;
	unsigned nconns;
	unsigned njobs;         /* jobs queued or running, misses waiting */
	conn *conns;
	conn *miss_head, *miss_tail; /* block GETs to answer after this pass */
};

static const char continue_line[] = "HTTP/1.1 100 Continue\r\n\r\n";

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static conn *conn_of_job(jobs_item *j)
{
	return (conn *)(void *)((char *)j - offsetof(conn, job));
}

static void job_submit(conn_loop *l, conn *c, enum jobs_kind kind, int status)
{
	c->job.kind = kind;
	c->job.status = status;
	c->job.st = &c->st;
	c->job.peer = &c->peer;
	c->job.req = &c->req;
	c->job.body = kind == JOBS_HANDLE ? c->in + c->req.head_len : NULL;
	c->job.resp = &c->resp;
	c->job_busy = 1;
	c->state = WORK;
	l->njobs++;
	jobs_submit(&l->jobs, &c->job);
}

/* ---- connections ------------------------------------------------------ */

static void arm_accept(conn_loop *l);
static void advance(conn_loop *l, conn *c);

/* Unpin the cached block the last response was sent from, if any. */
static void release_hit(conn_loop *l, conn *c)
{
	if (c->hit) {
		erisd_cache_release(l->cfg->cache, c->hit);
		c->hit = NULL;
	}
}

static void conn_free(conn_loop *l, conn *c)
{
	release_hit(l, c);
	if (c->prev)
		c->prev->next = c->next;
	else
		l->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	cmd_state_free(&c->st);
	free(c->in);
	free(c);
	l->nconns--;
	if (!l->ring.accepting && !l->draining)
		arm_accept(l);
}

/* Close once nothing is in flight; otherwise cancel what is. */
static void conn_close(conn_loop *l, conn *c)
{
	struct io_uring_sqe *sqe;

	c->want_close = 1;
	if (c->job_busy)
		return; /* on_job_done comes back here */
	if (c->state == CLOSING && c->fd < 0)
		return;
	if (c->pending) {
		if (c->state != CLOSING) {
			sqe = ring_sqe(&l->ring);
			io_uring_prep_cancel64(sqe, (uint64_t)(uintptr_t)c |
						       RING_OP_RECV, 0);
			ring_set_data(sqe, c, RING_OP_CANCEL);
			c->pending++;
			c->state = CLOSING;
		}
		return;
	}
	c->state = CLOSING;
	sqe = ring_sqe(&l->ring);
	io_uring_prep_close(sqe, c->fd);
	ring_set_data(sqe, c, RING_OP_CLOSE);
	c->fd = -1;
	c->pending++;
}

/* Submit `sqe` linked to a timeout of `ns` nanoseconds. */
static void link_timeout(conn_loop *l, conn *c, struct io_uring_sqe *sqe,
			 uint64_t ns)
{
	ring_link_timeout(&l->ring, sqe, c, &c->ts, ns);
	c->pending += 2;
}

static int grow(conn *c, size_t want)
{
	size_t cap = c->in_cap ? c->in_cap : IN_MIN;
	uint8_t *p;

	while (cap < want)
		cap *= 2;
	if (cap > IN_MAX)
		cap = IN_MAX;
	if (cap < want)
		return -1;
	if (cap == c->in_cap)
		return 0;
	p = realloc(c->in, cap);
	if (!p)
		return -1;
	c->in = p;
	c->in_cap = cap;
	return 0;
}

static void arm_recv(conn_loop *l, conn *c)
{
	struct io_uring_sqe *sqe;
	uint64_t ns, now;

	if (c->in_len == c->in_cap && grow(c, c->in_len + 1) < 0) {
		conn_close(l, c);
		return;
	}
	now = now_ns();
	if ((c->state == READ_HEAD || c->state == LINGER) && c->head_deadline)
		ns = c->head_deadline > now ? c->head_deadline - now : 1;
	else
		ns = (uint64_t)l->cfg->idle_timeout * 1000000000u;
	sqe = ring_sqe(&l->ring);
	io_uring_prep_recv(sqe, c->fd, c->in + c->in_len,
			   c->in_cap - c->in_len, 0);
	ring_set_data(sqe, c, RING_OP_RECV);
	link_timeout(l, c, sqe, ns);
}

/* Point c->msg at what is left to send. */
static void fill_msg(conn *c)
{
	size_t off = c->sent;
	int n = 0;

	if (c->state == SEND_CONTINUE) {
		c->iov[0].iov_base = (char *)continue_line + off;
		c->iov[0].iov_len = sizeof continue_line - 1 - off;
		n = 1;
	} else {
		if (off < c->resp.head_len) {
			c->iov[n].iov_base = c->resp.head + off;
			c->iov[n].iov_len = c->resp.head_len - off;
			n++;
			off = 0;
		} else {
			off -= c->resp.head_len;
		}
		if (c->resp.body_len > off) {
			c->iov[n].iov_base = (uint8_t *)c->resp.body + off;
			c->iov[n].iov_len = c->resp.body_len - off;
			n++;
		}
	}
	memset(&c->msg, 0, sizeof c->msg);
	c->msg.msg_iov = c->iov;
	c->msg.msg_iovlen = (size_t)n;
}

static void arm_send(conn_loop *l, conn *c)
{
	struct io_uring_sqe *sqe;

	fill_msg(c);
	sqe = ring_sqe(&l->ring);
	io_uring_prep_sendmsg(sqe, c->fd, &c->msg, MSG_NOSIGNAL);
	ring_set_data(sqe, c, RING_OP_SEND);
	link_timeout(l, c, sqe, (uint64_t)l->cfg->idle_timeout * 1000000000u);
}

static size_t send_total(const conn *c)
{
	return c->state == SEND_CONTINUE ? sizeof continue_line - 1
					 : c->resp.head_len + c->resp.body_len;
}

/*
 * Send the response (c->state SEND) at once if the socket takes it all,
 * which is the common case and saves a trip through the ring: 1 if all
 * was sent. Otherwise (a full socket buffer, a partial send or an error)
 * the rest goes through an io_uring send, which also reports the error,
 * and 0.
 */
static int send_now(conn_loop *l, conn *c)
{
	size_t total = send_total(c);
	ssize_t n;

	fill_msg(c);
	n = sendmsg(c->fd, &c->msg, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (n > 0)
		c->sent += (size_t)n;
	if (c->sent == total)
		return 1;
	arm_send(l, c);
	return 0;
}

/* Drop the bytes of the request just answered and get ready for the
 * next one (c->state READ_HEAD); -1 if the connection is closing. */
static int consume_request(conn_loop *l, conn *c)
{
	size_t rest = c->in_len - c->need;

	memmove(c->in, c->in + c->need, rest);
	c->in_len = rest;
	c->need = 0;
	if (rest == 0 && c->in_cap > IN_MIN) {
		free(c->in);
		c->in = NULL;
		c->in_cap = 0;
		if (grow(c, IN_MIN) < 0) {
			conn_close(l, c);
			return -1;
		}
	}
	http_parser_init(&c->parser);
	c->head_deadline = rest ? now_ns() + (uint64_t)l->cfg->header_timeout *
						     1000000000u
				: 0;
	c->state = READ_HEAD;
	return 0;
}

/* Begin the next request. */
static void next_request(conn_loop *l, conn *c)
{
	if (consume_request(l, c) == 0)
		advance(l, c);
}

/*
 * Answer a GET/HEAD of a cached block right here, without a worker:
 * 1 if c->resp now holds the answer (its body pinned in the cache).
 * With an access log the worker answers (from the cache too), so that
 * this thread never waits for a file.
 */
static int answer_hit(conn_loop *l, conn *c)
{
	const erisd_cache_entry *e;

	if (!l->cfg->cache || l->cfg->access_log ||
	    c->req.kind != TARGET_BLOCK || c->req.method == HTTP_PUT)
		return 0;
	e = erisd_cache_get(l->cfg->cache, c->req.ref);
	if (!e)
		return 0;
	memset(&c->resp, 0, sizeof c->resp);
	c->resp.close = !c->req.keep_alive;
	cmd_block_head(&c->req, erisd_cache_len(e), &c->resp);
	c->resp.body = erisd_cache_data(e);
	c->hit = e;
	return 1;
}

/* A GET/HEAD of a block the cache lacks: try it on this thread at the
 * end of the pass (answer_misses) rather than hand it to a worker now.
 * With an access log a worker answers, as for hits. */
static int queue_miss(conn_loop *l, conn *c)
{
	if (l->cfg->access_log || c->req.kind != TARGET_BLOCK ||
	    c->req.method == HTTP_PUT)
		return 0;
	c->job_busy = 1; /* as if submitted: conn_close waits for it */
	c->state = WORK;
	l->njobs++;
	c->miss_next = NULL;
	if (l->miss_tail)
		l->miss_tail->miss_next = c;
	else
		l->miss_head = c;
	l->miss_tail = c;
	return 1;
}

static void on_job_done(conn_loop *l, conn *c);

/* The misses queued during this pass, CMD_PREFETCH_MAX at a time: the
 * blocks the store has at hand are read and hashed together here and
 * answered; the others (and every failure, which a worker reads again
 * and reports) become jobs. Answering may queue more (pipelining). */
static void answer_misses(conn_loop *l)
{
	while (l->miss_head) {
		conn *batch[CMD_PREFETCH_MAX];
		cmd_state *st[CMD_PREFETCH_MAX];
		const http_request *req[CMD_PREFETCH_MAX];
		size_t n = 0, i;

		while (n < CMD_PREFETCH_MAX && l->miss_head) {
			conn *c = l->miss_head;

			l->miss_head = c->miss_next;
			batch[n] = c;
			st[n] = &c->st;
			req[n++] = &c->req;
		}
		if (!l->miss_head)
			l->miss_tail = NULL;
		cmd_prefetch_blocks(l->cfg, n, st, req, 1);
		for (i = 0; i < n; i++) {
			conn *c = batch[i];

			if (c->want_close) {
				c->st.pre_ok = 0;
				on_job_done(l, c); /* closes it */
			} else if (c->st.pre_ok) {
				cmd_handle(l->cfg, &c->st, &c->peer, &c->req,
					   c->in + c->req.head_len, &c->resp);
				on_job_done(l, c);
			} else {
				l->njobs--; /* job_submit counts it again */
				job_submit(l, c, JOBS_HANDLE, 0);
			}
		}
	}
}

static void linger(conn_loop *l, conn *c);

/* Make progress with the bytes we have. Pipelined requests answered from
 * the cache loop here rather than recurse. */
static void advance(conn_loop *l, conn *c)
{
	int rc;

again:
	if (c->state == READ_HEAD) {
		rc = http_parse(&c->parser, c->in, c->in_len, &c->req);
		if (rc == HTTP_NEED_MORE) {
			if (l->draining)
				conn_close(l, c);
			else
				arm_recv(l, c);
			return;
		}
		if (rc != HTTP_DONE) {
			job_submit(l, c, JOBS_ERROR, rc);
			return;
		}
		c->need = c->req.head_len + (size_t)c->req.content_length;
		c->state = READ_BODY;
		if (c->req.expect_continue && c->req.version_minor == 1 &&
		    c->in_len < c->need) {
			int refused = c->req.method == HTTP_PUT
					      ? cmd_put_refused(l->cfg,
								&c->peer,
								&c->req)
					      : 0;

			if (refused) { /* no 100: refuse, then close */
				job_submit(l, c, JOBS_ERROR, refused);
				return;
			}
			c->state = SEND_CONTINUE;
			c->sent = 0;
			arm_send(l, c);
			return;
		}
	}
	if (c->state == READ_BODY) {
		if (c->in_len < c->need) {
			if (grow(c, c->need) < 0)
				conn_close(l, c);
			else
				arm_recv(l, c);
			return;
		}
		if (answer_hit(l, c)) {
			c->state = SEND;
			c->sent = 0;
			if (!send_now(l, c))
				return; /* on_send takes over */
			release_hit(l, c);
			if (c->resp.close || l->draining) {
				linger(l, c);
				return;
			}
			if (consume_request(l, c) < 0)
				return;
			goto again;
		}
		if (!queue_miss(l, c))
			job_submit(l, c, JOBS_HANDLE, 0);
	}
}

static void on_recv(conn_loop *l, conn *c, int res)
{
	if (c->state == CLOSING || c->want_close) {
		conn_close(l, c);
		return;
	}
	if (res == -ECANCELED && c->state == READ_HEAD && c->in_len > 0) {
		job_submit(l, c, JOBS_ERROR, 408); /* slowloris */
		return;
	}
	if (res <= 0) {
		conn_close(l, c);
		return;
	}
	if (c->state == LINGER) {
		c->in_len = 0; /* dropped */
		arm_recv(l, c);
		return;
	}
	if (c->state == READ_HEAD && c->in_len == 0)
		c->head_deadline = now_ns() +
				   (uint64_t)l->cfg->header_timeout * 1000000000u;
	c->in_len += (size_t)res;
	advance(l, c);
}

/*
 * Close after a response that ends the connection: shut our side down,
 * then read and drop what the peer still sends for up to LINGER_NS, so
 * that unread request bytes do not make the kernel answer with a reset
 * that could destroy the response before the peer has read it.
 */
#define LINGER_NS (2000000000u)

static void linger(conn_loop *l, conn *c)
{
	struct io_uring_sqe *sqe;

	c->state = LINGER;
	c->head_deadline = now_ns() + LINGER_NS;
	sqe = ring_sqe(&l->ring);
	io_uring_prep_shutdown(sqe, c->fd, SHUT_WR);
	ring_set_data(sqe, c, RING_OP_SHUTDOWN);
	c->pending++;
	c->in_len = 0;
	arm_recv(l, c);
}

static void sent_all(conn_loop *l, conn *c);

static void on_send(conn_loop *l, conn *c, int res)
{
	size_t total;

	if (c->state == CLOSING || c->want_close || res <= 0) {
		conn_close(l, c);
		return;
	}
	c->sent += (size_t)res;
	total = send_total(c);
	if (c->sent < total) {
		arm_send(l, c);
		return;
	}
	sent_all(l, c);
}

/* The whole of c->resp (or the 100 Continue line) is out. */
static void sent_all(conn_loop *l, conn *c)
{
	release_hit(l, c);
	if (c->state == SEND_CONTINUE) {
		c->state = READ_BODY;
		advance(l, c);
		return;
	}
	if (c->resp.more) {
		job_submit(l, c, JOBS_CONTINUE, 0);
		return;
	}
	if (c->resp.close || l->draining) {
		linger(l, c);
		return;
	}
	next_request(l, c);
}

static void on_job_done(conn_loop *l, conn *c)
{
	c->job_busy = 0;
	l->njobs--;
	if (c->want_close) {
		conn_close(l, c);
		return;
	}
	if (c->resp.head_len == 0 && c->resp.body_len == 0) {
		conn_close(l, c); /* failed mid-response */
		return;
	}
	/* A head already sent (resp.more earlier) is not sent again. */
	c->state = SEND;
	c->sent = 0;
	if (send_now(l, c))
		sent_all(l, c);
}

/* ---- loop-wide operations --------------------------------------------- */

static void arm_accept(conn_loop *l)
{
	if (l->ring.accepting || l->draining ||
	    l->nconns >= l->max_conns)
		return;
	ring_accept(&l->ring);
}

static void peer_of(cmd_peer *p, const struct sockaddr_storage *ss)
{
	char host[INET6_ADDRSTRLEN] = "?";

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *a = (const void *)ss;

		inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const void *)ss;

		inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
	}
	p->loopback = erisd_peer_is_loopback((const struct sockaddr *)ss);
	snprintf(p->addr, sizeof p->addr, "%s", host);
}

static void on_accept(conn_loop *l, int res)
{
	conn *c;

	l->ring.accepting = 0;
	if (res < 0) {
		/* EMFILE and the like: try again when a connection closes,
		 * or at once if there is none to wait for. */
		if (l->nconns == 0 || (res != -EMFILE && res != -ENFILE &&
				       res != -ENOBUFS && res != -ENOMEM))
			arm_accept(l);
		return;
	}
	c = calloc(1, sizeof *c);
	if (!c || grow(c, IN_MIN) < 0) {
		free(c);
		/* No memory: refuse this one. close(2) of a fresh socket
		 * does not block. */
		close(res);
		arm_accept(l);
		return;
	}
	c->fd = res;
	peer_of(&c->peer, &l->ring.accept_addr);
	http_parser_init(&c->parser);
	c->state = READ_HEAD;
	c->next = l->conns;
	if (l->conns)
		l->conns->prev = c;
	l->conns = c;
	l->nconns++;
	arm_accept(l);
	arm_recv(l, c);
}

static void arm_event(conn_loop *l)
{
	ring_read(&l->ring, l->jobs.event_fd, &l->ring.event_buf,
		  sizeof l->ring.event_buf, RING_OP_EVENT);
}

static void arm_signal(conn_loop *l)
{
	ring_read(&l->ring, l->signal_fd, &l->ring.sig_buf,
		  sizeof l->ring.sig_buf, RING_OP_SIGNAL);
}

static void start_draining(conn_loop *l);

static void on_event(conn_loop *l)
{
	jobs_item *j, *next;

	if (atomic_load(l->stop))
		start_draining(l);
	for (j = jobs_take_done(&l->jobs); j; j = next) {
		next = j->next;
		on_job_done(l, conn_of_job(j));
	}
	arm_event(l);
}

static void start_draining(conn_loop *l)
{
	conn *c, *next;

	if (l->draining)
		return;
	l->draining = 1;
	l->stop_all(l->stop_arg, l);
	if (!l->cfg->quiet && l->signal_fd >= 0)
		fprintf(stderr, "erisd: stopping: finishing the requests "
			"in flight\n");
	if (l->ring.accepting)
		ring_cancel_accept(&l->ring);
	for (c = l->conns; c; c = next) {
		next = c->next;
		if (c->state == READ_HEAD)
			conn_close(l, c);
	}
}

/* A completion from the ring (a ring_handler). */
static void dispatch(void *arg, void *owner, unsigned op, int res)
{
	conn_loop *l = arg;
	conn *c = owner;

	if (!c) {
		switch (op) {
		case RING_OP_ACCEPT:
			if (l->draining) {
				l->ring.accepting = 0;
				if (res >= 0)
					close(res);
			} else {
				on_accept(l, res);
			}
			break;
		case RING_OP_EVENT:
			on_event(l);
			break;
		case RING_OP_SIGNAL:
			if (res > 0)
				start_draining(l);
			else
				arm_signal(l);
			break;
		default: /* RING_OP_CANCEL of the accept */
			break;
		}
		return;
	}
	c->pending--;
	switch (op) {
	case RING_OP_RECV:
		on_recv(l, c, res);
		break;
	case RING_OP_SEND:
		on_send(l, c, res);
		break;
	case RING_OP_CLOSE:
		if (c->pending == 0)
			conn_free(l, c);
		return;
	default: /* RING_OP_TIMEOUT, RING_OP_CANCEL */
		break;
	}
	if (c->state == CLOSING && c->pending == 0 && !c->job_busy) {
		if (c->fd >= 0)
			conn_close(l, c);
	}
}

/* ---- set-up ------------------------------------------------------------ */

conn_loop *conn_loop_new(const erisd_config *cfg, int listen_fd,
			 unsigned max_conns, int with_signals,
			 atomic_int *stop, conn_stop_fn *stop_all,
			 void *stop_arg)
{
	conn_loop *l = calloc(1, sizeof *l);
	sigset_t mask;

	if (!l) {
		fprintf(stderr, "erisd: out of memory\n");
		return NULL;
	}
	l->cfg = cfg;
	l->max_conns = max_conns;
	l->stop = stop;
	l->stop_all = stop_all;
	l->stop_arg = stop_arg;
	l->signal_fd = -1;
	l->jobs.event_fd = -1;
	/* Every connection has at most about four CQEs outstanding (op,
	 * linked timeout, cancel, close). */
	if (ring_init(&l->ring, 4 * max_conns + 64, listen_fd) < 0)
		goto fail;
	if (with_signals) {
		sigemptyset(&mask);
		sigaddset(&mask, SIGTERM);
		sigaddset(&mask, SIGINT);
		l->signal_fd = signalfd(-1, &mask, SFD_CLOEXEC);
		if (l->signal_fd < 0) {
			fprintf(stderr, "erisd: eventfd/signalfd: %s\n",
				strerror(errno));
			goto fail;
		}
	}
	if (jobs_init(&l->jobs, cfg) < 0)
		goto fail;
	return l;
fail:
	conn_loop_free(l);
	return NULL;
}

int conn_loop_serve(conn_loop *l)
{
	if (l->signal_fd >= 0)
		arm_signal(l);
	arm_event(l);
	arm_accept(l);
	if (atomic_load(l->stop))
		start_draining(l);
	while (!(l->draining && l->nconns == 0 && l->njobs == 0)) {
		if (ring_run_once(&l->ring, dispatch, l) < 0) {
			l->stop_all(l->stop_arg, l);
			return -1;
		}
		answer_misses(l);
	}
	return 0;
}

void conn_loop_wake(conn_loop *l)
{
	jobs_wake(&l->jobs);
}

void conn_loop_free(conn_loop *l)
{
	if (!l)
		return;
	jobs_fini(&l->jobs);
	while (l->conns) { /* only after a fatal error */
		conn *c = l->conns;

		l->conns = c->next;
		if (c->fd >= 0)
			close(c->fd);
		release_hit(l, c);
		cmd_state_free(&c->st);
		free(c->in);
		free(c);
	}
	if (l->signal_fd >= 0)
		close(l->signal_fd);
	ring_fini(&l->ring);
	free(l);
}
