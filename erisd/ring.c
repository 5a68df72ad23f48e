/*
 * ring.c - erisd's io_uring ring: submission, completion, linked
 * timeouts, accept, and reads of an eventfd or a signalfd. Nothing here
 * waits but io_uring_submit_and_wait. See ring.h.
 *
 * Knows nothing of HTTP nor ERIS; its callers (conn.c) give each
 * operation an owner and a tag, and get both back with the completion.
 * May call: liburing and libc only.
 */
#define _GNU_SOURCE
#include "ring.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define OP_MASK 7u

struct io_uring_sqe *ring_sqe(ring *r)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&r->uring);

	while (!sqe) {
		io_uring_submit(&r->uring);
		sqe = io_uring_get_sqe(&r->uring);
	}
	return sqe;
}

void ring_set_data(struct io_uring_sqe *sqe, void *p, unsigned op)
{
	io_uring_sqe_set_data64(sqe, (uint64_t)(uintptr_t)p | op);
}

void ring_link_timeout(ring *r, struct io_uring_sqe *sqe, void *owner,
		       struct __kernel_timespec *ts, uint64_t ns)
{
	struct io_uring_sqe *t;

	sqe->flags |= IOSQE_IO_LINK;
	ts->tv_sec = (long long)(ns / 1000000000u);
	ts->tv_nsec = (long long)(ns % 1000000000u);
	t = ring_sqe(r);
	io_uring_prep_link_timeout(t, ts, 0);
	ring_set_data(t, owner, RING_OP_TIMEOUT);
	/* The kernel copies the timespec when the SQE is submitted, which
	 * happens before the owner can arm its next operation. */
}

void ring_accept(ring *r)
{
	struct io_uring_sqe *sqe;

	r->accept_len = sizeof r->accept_addr;
	sqe = ring_sqe(r);
	io_uring_prep_accept(sqe, r->listen_fd,
			     (struct sockaddr *)&r->accept_addr,
			     &r->accept_len, SOCK_CLOEXEC | SOCK_NONBLOCK);
	ring_set_data(sqe, NULL, RING_OP_ACCEPT);
	r->accepting = 1;
}

void ring_cancel_accept(ring *r)
{
	struct io_uring_sqe *sqe = ring_sqe(r);

	io_uring_prep_cancel64(sqe, RING_OP_ACCEPT, 0);
	ring_set_data(sqe, NULL, RING_OP_CANCEL);
}

void ring_read(ring *r, int fd, void *buf, size_t len, unsigned op)
{
	struct io_uring_sqe *sqe = ring_sqe(r);

	io_uring_prep_read(sqe, fd, buf, (unsigned)len, 0);
	ring_set_data(sqe, NULL, op);
}

int ring_run_once(ring *r, ring_handler *fn, void *arg)
{
	struct io_uring_cqe *cqe;
	unsigned head, n = 0;
	int rc;

	rc = io_uring_submit_and_wait(&r->uring, 1);
	if (rc < 0 && rc != -EINTR && rc != -EBUSY && rc != -EAGAIN) {
		fprintf(stderr, "erisd: io_uring_submit: %s\n", strerror(-rc));
		return -1;
	}
	io_uring_for_each_cqe(&r->uring, head, cqe) {
		uint64_t data = io_uring_cqe_get_data64(cqe);

		fn(arg, (void *)(uintptr_t)(data & ~(uint64_t)OP_MASK),
		   (unsigned)(data & OP_MASK), cqe->res);
		n++;
	}
	io_uring_cq_advance(&r->uring, n);
	return 0;
}

int ring_probe(char *why, size_t size)
{
	static const struct {
		int op;
		const char *name;
	} ops[] = {
		{ IORING_OP_ACCEPT, "ACCEPT" },
		{ IORING_OP_RECV, "RECV" },
		{ IORING_OP_SENDMSG, "SENDMSG" },
		{ IORING_OP_READ, "READ" },
		{ IORING_OP_CLOSE, "CLOSE" },
		{ IORING_OP_LINK_TIMEOUT, "LINK_TIMEOUT" },
		{ IORING_OP_ASYNC_CANCEL, "ASYNC_CANCEL" },
		{ IORING_OP_SHUTDOWN, "SHUTDOWN" },
	};
	struct io_uring u;
	struct io_uring_probe *probe;
	size_t i;
	int rc;

	rc = io_uring_queue_init(8, &u, 0);
	if (rc < 0) {
		snprintf(why, size, "io_uring is unavailable: %s",
			 strerror(-rc));
		return -1;
	}
	probe = io_uring_get_probe_ring(&u);
	if (!probe) {
		io_uring_queue_exit(&u);
		snprintf(why, size, "io_uring cannot be probed");
		return -1;
	}
	for (i = 0; i < sizeof ops / sizeof ops[0]; i++) {
		if (!io_uring_opcode_supported(probe, ops[i].op)) {
			snprintf(why, size, "io_uring lacks IORING_OP_%s",
				 ops[i].name);
			io_uring_free_probe(probe);
			io_uring_queue_exit(&u);
			return -1;
		}
	}
	io_uring_free_probe(probe);
	io_uring_queue_exit(&u);
	return 0;
}

int ring_init(ring *r, unsigned cq_entries, int listen_fd)
{
	struct io_uring_params params;
	int rc;

	r->listen_fd = listen_fd;
	memset(&params, 0, sizeof params);
	/* COOP_TASKRUN (Linux 5.19): completions are processed when this
	 * thread next enters the kernel instead of interrupting it; only
	 * this thread submits. Older kernels refuse the flags: then
	 * without. */
	params.flags = IORING_SETUP_CQSIZE | IORING_SETUP_COOP_TASKRUN |
		       IORING_SETUP_TASKRUN_FLAG;
	params.cq_entries = cq_entries < 4096 ? 4096 : cq_entries;
	rc = io_uring_queue_init_params(1024, &r->uring, &params);
	if (rc == -EINVAL) {
		memset(&params, 0, sizeof params);
		params.flags = IORING_SETUP_CQSIZE;
		params.cq_entries = cq_entries < 4096 ? 4096 : cq_entries;
		rc = io_uring_queue_init_params(1024, &r->uring, &params);
	}
	if (rc < 0) {
		fprintf(stderr, "erisd: io_uring_queue_init: %s\n",
			strerror(-rc));
		return -1;
	}
	r->ok = 1;
	return 0;
}

void ring_fini(ring *r)
{
	if (r->ok)
		io_uring_queue_exit(&r->uring);
	r->ok = 0;
}
