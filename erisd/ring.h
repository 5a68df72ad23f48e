/*
 * ring.h - erisd's io_uring ring: submission and completion, timeouts
 * linked to an operation, cancellation, accept on the listening socket
 * and reads of plain descriptors (an eventfd, a signalfd).
 *
 * It knows nothing of HTTP nor of ERIS. Every operation carries an owner
 * (a pointer at least 8-byte aligned, or NULL for a ring-wide operation)
 * and a RING_OP_* tag, both handed back with its completion.
 *
 * May call: liburing and libc only.
 */
#ifndef ERISD_RING_H
#define ERISD_RING_H

#include <liburing.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/signalfd.h>
#include <sys/socket.h>

/* Operation tags in the low bits of user_data (owners are at least
 * 8-byte aligned, being malloc'd). A NULL owner means a ring-wide op. */
enum {
	RING_OP_RECV = 1,
	RING_OP_SEND = 2,
	RING_OP_TIMEOUT = 3, /* a linked timeout */
	RING_OP_CLOSE = 4,
	RING_OP_CANCEL = 5,
	RING_OP_SHUTDOWN = RING_OP_TIMEOUT, /* counted like a timeout */
	RING_OP_ACCEPT = 6,  /* ring-wide */
	RING_OP_EVENT = 7,   /* ring-wide */
	RING_OP_SIGNAL = 0   /* ring-wide: user_data 0 */
};

typedef struct ring {
	struct io_uring uring;
	int ok;                 /* `uring` was set up */
	int listen_fd;
	int accepting;          /* an accept is in flight */
	struct sockaddr_storage accept_addr;
	socklen_t accept_len;
	uint64_t event_buf;
	struct signalfd_siginfo sig_buf;
} ring;

/*
 * Check that io_uring works here and has every operation the ring uses.
 * @return 0, or -1 with a reason in `why` (`size` bytes).
 */
int ring_probe(char *why, size_t size);

/* Set up `r` (zeroed) for at least `cq_entries` completions in flight,
 * accepting on `listen_fd`. 0, or -1 after saying why on stderr. */
int ring_init(ring *r, unsigned cq_entries, int listen_fd);

/* Tear down `r` (after ring_init, whether it succeeded or not). */
void ring_fini(ring *r);

/* A free submission entry (submitting what is queued if there is none). */
struct io_uring_sqe *ring_sqe(ring *r);

/* Tag `sqe` with its owner and operation. */
void ring_set_data(struct io_uring_sqe *sqe, void *owner, unsigned op);

/* Link a timeout of `ns` nanoseconds to `sqe`, kept in `ts` (which must
 * live until the next submission). Two completions will come back. */
void ring_link_timeout(ring *r, struct io_uring_sqe *sqe, void *owner,
		       struct __kernel_timespec *ts, uint64_t ns);

/* Accept on the listening socket (non-blocking, close-on-exec sockets);
 * the peer's address is in r->accept_addr on completion. */
void ring_accept(ring *r);

/* Cancel the accept in flight. */
void ring_cancel_accept(ring *r);

/* Read `len` bytes of `fd` into `buf`, completing as ring-wide `op`. */
void ring_read(ring *r, int fd, void *buf, size_t len, unsigned op);

/*
 * Submit what is queued, wait for at least one completion, and hand each
 * one to `fn` (owner, RING_OP_* tag, result). 0, or -1 on a fatal error
 * (said on stderr).
 */
typedef void ring_handler(void *arg, void *owner, unsigned op, int res);
int ring_run_once(ring *r, ring_handler *fn, void *arg);

#endif
