/*
 * tests/hostile/hostile.c - the network client stores (coap://,
 * coap+tcp://, http://) against small servers that misbehave on purpose,
 * on 127.0.0.1.
 *
 * Why: a store server is not trusted. Whatever it sends, a GET of one
 * block must end, soon, with the specific error, having held little
 * memory, and a composite cache:LOCAL,REMOTE must not keep anything of
 * it. The servers here (plain sockets, one thread each) answer with:
 *
 *   endless    CoAP: Block2 M=1 for ever; HTTP: a chunked body that never
 *              ends, or a Content-Length of 1 GB.
 *   drip       one piece (CoAP UDP) or one byte (CoAP TCP, HTTP) a second.
 *   sizes      a body of 1000 or 1025 bytes, or 32 KiB where 1 KiB was
 *              asked for.
 *   lie        a body of the right size that does not hash to the
 *              reference.
 *   honest     the right block (the control: it is cached).
 *
 * Each case checks: the error code and a message fragment (naming the
 * server), the growth of the process's peak RSS (below MEM_BOUND: the old
 * coap client buffered 100+ MB of an endless body), the time (a bound on a
 * hang only: the clients' own timeouts are 10 s for CoAP, 60 s for HTTP),
 * and that LOCAL of the cache stays empty. Check runs every test in a
 * process of its own, so the peak RSS is the test's.
 */
#include "testutil.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MEM_BOUND (8L * 1024 * 1024)
#define HANG_BOUND 120 /* seconds */

enum proto { P_UDP, P_TCP, P_HTTP };

enum mode {
	M_BODY,     /* serve body (whole; over UDP Block2 pieces if > 1 KiB) */
	M_ENDLESS,  /* CoAP Block2 M=1 for ever; HTTP chunked for ever */
	M_HUGE_LEN, /* HTTP: Content-Length 1 GB, then data for ever */
	M_DRIP,     /* a piece or a byte a second */
};

typedef struct {
	enum proto proto;
	enum mode mode;
	uint8_t body[ERIS_BLOCK_SIZE_32K];
	size_t body_len;
	int fd;
	int port;
	atomic_int stop;
	atomic_long requests;
	pthread_t thread;
} server;

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

/* Send all of buf on a stream socket; 0, or -1 once the peer is gone or
 * the server is stopping. */
static int send_all(server *s, int fd, const uint8_t *buf, size_t len)
{
	while (len > 0) {
		struct pollfd p = {fd, POLLOUT, 0};
		ssize_t n;

		if (atomic_load(&s->stop))
			return -1;
		if (poll(&p, 1, 100) <= 0)
			continue;
		n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* ---- CoAP messages ------------------------------------------------------ */

/* A parsed request: its token and Block2 option. */
typedef struct {
	uint8_t type;
	uint16_t mid;
	uint8_t token[8];
	size_t tkl;
	int has_block2;
	uint32_t block2;
} coap_req;

/* Parse options (from p to end) for Block2 (23). */
static void parse_options(coap_req *r, const uint8_t *p, const uint8_t *end)
{
	unsigned number = 0;

	while (p < end && *p != 0xff) {
		unsigned delta = *p >> 4, len = *p & 15;

		p++;
		if (delta == 13 && p < end)
			delta = 13u + *p++;
		else if (delta == 14 && p + 1 < end) {
			delta = 269u + (unsigned)(p[0] << 8 | p[1]);
			p += 2;
		}
		if (len == 13 && p < end)
			len = 13u + *p++;
		else if (len == 14 && p + 1 < end) {
			len = 269u + (unsigned)(p[0] << 8 | p[1]);
			p += 2;
		}
		if (delta > 14 || len > 269 + 65535 || p + len > end)
			return;
		number += delta;
		if (number == 23 && len <= 3) {
			r->has_block2 = 1;
			r->block2 = 0;
			for (unsigned i = 0; i < len; i++)
				r->block2 = r->block2 << 8 | p[i];
		}
		p += len;
	}
}

/* Options and payload of a 2.05 response: Block2 (if block2 >= 0), then
 * the payload. Returns the length written to out. */
static size_t build_tail(uint8_t *out, long block2, const uint8_t *payload,
			 size_t len)
{
	size_t n = 0;

	if (block2 >= 0) {
		uint8_t v[3];
		size_t vl = block2 > 0xffff ? 3 : block2 > 0xff ? 2 : 1;

		for (size_t i = 0; i < vl; i++)
			v[i] = (uint8_t)(block2 >> (8 * (vl - 1 - i)));
		out[n++] = (uint8_t)(13 << 4 | vl); /* delta 23 = 13 + 10 */
		out[n++] = 10;
		memcpy(out + n, v, vl);
		n += vl;
	}
	if (len > 0) {
		out[n++] = 0xff;
		memcpy(out + n, payload, len);
		n += len;
	}
	return n;
}

/* What to answer to request r: Block2 value (-1: none) and payload. */
static void choose_answer(server *s, const coap_req *r, long *block2,
			  const uint8_t **payload, size_t *len)
{
	static const uint8_t filler[ERIS_BLOCK_SIZE_1K];
	uint32_t num = r->has_block2 ? r->block2 >> 4 : 0;

	if (s->mode == M_ENDLESS) {
		*block2 = (long)(num << 4 | 8 | 6); /* M=1, 1024 bytes */
		*payload = filler;
		*len = sizeof(filler);
	} else if (s->mode == M_DRIP && s->proto == P_UDP) {
		*block2 = (long)(num << 4 | 8 | 0); /* M=1, 16 bytes */
		*payload = filler;
		*len = 16;
	} else if (s->proto == P_UDP && s->body_len > ERIS_BLOCK_SIZE_1K) {
		size_t off = (size_t)num * 1024;
		int more;

		if (off > s->body_len)
			off = s->body_len;
		more = s->body_len - off > 1024;
		*block2 = (long)(num << 4 | (uint32_t)more << 3 | 6);
		*payload = s->body + off;
		*len = more ? 1024 : s->body_len - off;
	} else {
		*block2 = -1;
		*payload = s->body;
		*len = s->body_len;
	}
}

static void *udp_server(void *p)
{
	server *s = p;
	static uint8_t in[2048], out[2048];

	while (!atomic_load(&s->stop)) {
		struct pollfd pf = {s->fd, POLLIN, 0};
		struct sockaddr_storage from;
		socklen_t fl = sizeof(from);
		coap_req r;
		const uint8_t *payload;
		size_t len, n;
		long block2;
		ssize_t got;

		if (poll(&pf, 1, 100) <= 0)
			continue;
		got = recvfrom(s->fd, in, sizeof(in), 0,
			       (struct sockaddr *)&from, &fl);
		if (got < 4 || (in[0] >> 6) != 1 || (in[0] & 15) > 8)
			continue;
		memset(&r, 0, sizeof(r));
		r.type = (in[0] >> 4) & 3;
		r.tkl = in[0] & 15;
		r.mid = (uint16_t)(in[2] << 8 | in[3]);
		if ((size_t)got < 4 + r.tkl || in[1] == 0 || r.type > 1)
			continue; /* a ping, an ACK or a RST */
		memcpy(r.token, in + 4, r.tkl);
		parse_options(&r, in + 4 + r.tkl, in + got);
		atomic_fetch_add(&s->requests, 1);
		if (s->mode == M_DRIP)
			sleep_ms(1000);
		choose_answer(s, &r, &block2, &payload, &len);
		/* A piggybacked ACK (or a NON answer to a NON). */
		out[0] = (uint8_t)(1 << 6 | (r.type == 0 ? 2 : 1) << 4 | r.tkl);
		out[1] = 0x45; /* 2.05 */
		out[2] = (uint8_t)(r.mid >> 8);
		out[3] = (uint8_t)r.mid;
		memcpy(out + 4, r.token, r.tkl);
		n = 4 + r.tkl;
		n += build_tail(out + n, block2, payload, len);
		sendto(s->fd, out, n, 0, (struct sockaddr *)&from, fl);
	}
	return NULL;
}

/* Frame a CoAP-over-TCP message (RFC 8323 section 3.2). */
static size_t tcp_frame(uint8_t *out, uint8_t code, const uint8_t *token,
			size_t tkl, const uint8_t *tail, size_t tail_len)
{
	size_t n = 0;

	if (tail_len < 13) {
		out[n++] = (uint8_t)(tail_len << 4 | tkl);
	} else if (tail_len < 269) {
		out[n++] = (uint8_t)(13 << 4 | tkl);
		out[n++] = (uint8_t)(tail_len - 13);
	} else if (tail_len < 65805) {
		out[n++] = (uint8_t)(14 << 4 | tkl);
		out[n++] = (uint8_t)((tail_len - 269) >> 8);
		out[n++] = (uint8_t)(tail_len - 269);
	} else {
		size_t v = tail_len - 65805;

		out[n++] = (uint8_t)(15 << 4 | tkl);
		for (int i = 3; i >= 0; i--)
			out[n++] = (uint8_t)(v >> (8 * i));
	}
	out[n++] = code;
	if (tkl > 0) /* an empty token may be NULL */
		memcpy(out + n, token, tkl);
	n += tkl;
	if (tail_len > 0)
		memcpy(out + n, tail, tail_len);
	return n + tail_len;
}

/* Serve one CoAP-over-TCP connection until the peer leaves. */
static void tcp_conn(server *s, int fd)
{
	static uint8_t in[65536], tail[ERIS_BLOCK_SIZE_32K + 64],
		out[ERIS_BLOCK_SIZE_32K + 128];
	size_t have = 0, n;

	/* Our CSM first: no options. */
	n = tcp_frame(out, 0xe1, NULL, 0, NULL, 0);
	if (send_all(s, fd, out, n) < 0)
		return;
	while (!atomic_load(&s->stop)) {
		struct pollfd pf = {fd, POLLIN, 0};
		size_t len, hdr, tkl, total;
		ssize_t got;

		if (poll(&pf, 1, 100) <= 0)
			continue;
		got = recv(fd, in + have, sizeof(in) - have, 0);
		if (got <= 0)
			return;
		have += (size_t)got;
		for (;;) {
			coap_req r;
			const uint8_t *payload;
			size_t plen;
			long block2;

			if (have < 2)
				break;
			len = in[0] >> 4;
			tkl = in[0] & 15;
			hdr = len == 13 ? 2 : len == 14 ? 3 : len == 15 ? 5 : 1;
			if (have < hdr + 1)
				break;
			if (len == 13)
				len = 13u + in[1];
			else if (len == 14)
				len = 269u + (size_t)(in[1] << 8 | in[2]);
			else if (len == 15)
				return; /* never sent by the client here */
			total = hdr + 1 + tkl + len;
			if (tkl > 8 || total > sizeof(in))
				return;
			if (have < total)
				break;
			memset(&r, 0, sizeof(r));
			r.tkl = tkl;
			memcpy(r.token, in + hdr + 1, tkl);
			if (in[hdr] == 0x01) { /* GET */
				parse_options(&r, in + hdr + 1 + tkl,
					      in + total);
				atomic_fetch_add(&s->requests, 1);
				choose_answer(s, &r, &block2, &payload, &plen);
				n = build_tail(tail, block2, payload, plen);
				n = tcp_frame(out, 0x45, r.token, r.tkl, tail,
					      n);
				if (s->mode == M_DRIP) {
					for (size_t i = 0; i < n; i++) {
						if (send_all(s, fd, out + i,
							     1) < 0)
							return;
						sleep_ms(1000);
					}
				} else if (send_all(s, fd, out, n) < 0) {
					return;
				}
			} else if (in[hdr] == 0xe2) { /* Ping: Pong */
				n = tcp_frame(out, 0xe3, r.token, r.tkl, NULL,
					      0);
				if (send_all(s, fd, out, n) < 0)
					return;
			}
			memmove(in, in + total, have - total);
			have -= total;
		}
	}
}

/* ---- HTTP ---------------------------------------------------------------- */

static void http_conn(server *s, int fd)
{
	static uint8_t chunk[16384 + 16];
	char head[4096];
	size_t have = 0;

	while (!atomic_load(&s->stop)) {
		struct pollfd pf = {fd, POLLIN, 0};
		char hdr[256];
		ssize_t got;
		int n;

		if (poll(&pf, 1, 100) <= 0)
			continue;
		got = recv(fd, head + have, sizeof(head) - 1 - have, 0);
		if (got <= 0)
			return;
		have += (size_t)got;
		head[have] = '\0';
		if (strstr(head, "\r\n\r\n") == NULL)
			continue;
		atomic_fetch_add(&s->requests, 1);
		have = 0;
		if (s->mode == M_ENDLESS) {
			n = snprintf(hdr, sizeof(hdr),
				     "HTTP/1.1 200 OK\r\nTransfer-Encoding: "
				     "chunked\r\n\r\n");
			if (send_all(s, fd, (uint8_t *)hdr, (size_t)n) < 0)
				return;
			memset(chunk, 'x', sizeof(chunk));
			memcpy(chunk, "4000\r\n", 6);
			memcpy(chunk + 6 + 16384, "\r\n", 2);
			while (send_all(s, fd, chunk, 6 + 16384 + 2) == 0)
				;
			return;
		}
		if (s->mode == M_HUGE_LEN) {
			n = snprintf(hdr, sizeof(hdr),
				     "HTTP/1.1 200 OK\r\nContent-Length: "
				     "1000000000\r\n\r\n");
			if (send_all(s, fd, (uint8_t *)hdr, (size_t)n) < 0)
				return;
			memset(chunk, 'x', sizeof(chunk));
			while (send_all(s, fd, chunk, sizeof(chunk)) == 0)
				;
			return;
		}
		n = snprintf(hdr, sizeof(hdr),
			     "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n",
			     s->body_len);
		if (send_all(s, fd, (uint8_t *)hdr, (size_t)n) < 0)
			return;
		if (s->mode == M_DRIP) {
			for (size_t i = 0; i < s->body_len; i++) {
				if (send_all(s, fd, s->body + i, 1) < 0)
					return;
				sleep_ms(1000);
			}
		} else if (send_all(s, fd, s->body, s->body_len) < 0) {
			return;
		}
	}
}

static void *stream_server(void *p)
{
	server *s = p;

	while (!atomic_load(&s->stop)) {
		struct pollfd pf = {s->fd, POLLIN, 0};
		int fd;

		if (poll(&pf, 1, 100) <= 0)
			continue;
		fd = accept(s->fd, NULL, NULL);
		if (fd < 0)
			continue;
		if (s->proto == P_TCP)
			tcp_conn(s, fd);
		else
			http_conn(s, fd);
		close(fd);
	}
	return NULL;
}

static void server_start(server *s, enum proto proto, enum mode mode)
{
	struct sockaddr_in a;
	socklen_t al = sizeof(a);
	int one = 1;

	s->proto = proto;
	s->mode = mode;
	atomic_store(&s->stop, 0);
	atomic_store(&s->requests, 0);
	s->fd = socket(AF_INET, proto == P_UDP ? SOCK_DGRAM : SOCK_STREAM, 0);
	ck_assert_int_ge(s->fd, 0);
	setsockopt(s->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(s->fd, (struct sockaddr *)&a, sizeof(a)), 0);
	if (proto != P_UDP)
		ck_assert_int_eq(listen(s->fd, 4), 0);
	ck_assert_int_eq(getsockname(s->fd, (struct sockaddr *)&a, &al), 0);
	s->port = ntohs(a.sin_port);
	ck_assert_int_eq(pthread_create(&s->thread, NULL,
					proto == P_UDP ? udp_server
						       : stream_server,
					s),
			 0);
}

static void server_stop(server *s)
{
	atomic_store(&s->stop, 1);
	pthread_join(s->thread, NULL);
	close(s->fd);
}

/* ---- the cases ------------------------------------------------------------ */

static long peak_rss_bytes(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss * 1024L;
}

static int count_block(const uint8_t ref[ERIS_REF_BYTES], size_t len,
		       void *payload)
{
	(void)ref;
	(void)len;
	(*(size_t *)payload)++;
	return 0;
}

/* GET one block (asking for a buffer of want bytes) through
 * cache:mem:,URL from a server in mode; the right block is
 * right_len bytes, the server serves body_len bytes of it (flipped
 * when lie is set). Checks the code, the message, memory, time and the
 * cache. */
static void run_case(enum proto proto, enum mode mode, size_t right_len,
		     size_t body_len, int lie, size_t want, int expect,
		     const char *fragment)
{
	static server s;
	uint8_t ref[ERIS_REF_BYTES];
	uint8_t *buf = malloc(ERIS_BLOCK_SIZE_32K);
	char url[128], remote[96];
	eris_store *store = NULL;
	struct timespec t0, t1;
	size_t len = 0, cached = 0;
	long rss0, grown;
	int rc;

	ck_assert_ptr_nonnull(buf);
	memset(&s, 0, sizeof(s));
	fill_random(s.body, sizeof(s.body), 42, 0);
	crypto_generichash(ref, ERIS_REF_BYTES, s.body, right_len, NULL, 0);
	s.body_len = body_len;
	if (lie)
		s.body[body_len / 2] ^= 1;
	server_start(&s, proto, mode);
	snprintf(remote, sizeof(remote), "%s://127.0.0.1:%d",
		 proto == P_UDP ? "coap" : proto == P_TCP ? "coap+tcp" : "http",
		 s.port);
	snprintf(url, sizeof(url), "cache:mem:,%s", remote);
	ck_assert_eris(eris_store_open(&store, url, 0), ERIS_OK);
	rss0 = peak_rss_bytes();
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = eris_store_get(store, ref, buf, want, &len);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	grown = peak_rss_bytes() - rss0;
	printf("%s mode %d body %zu want %zu: rc %d (%s) in %ld s, peak RSS "
	       "+%ld KiB, %ld requests\n",
	       remote, (int)mode, body_len, want, rc, eris_error_last(),
	       (long)(t1.tv_sec - t0.tv_sec), grown / 1024,
	       atomic_load(&s.requests));
	fflush(stdout); /* a failed check ends the process */
	ck_assert_eris(rc, expect);
	if (fragment != NULL)
		ck_assert_msg(strstr(eris_error_last(), fragment) != NULL,
			      "message \"%s\" lacks \"%s\"", eris_error_last(),
			      fragment);
	if (expect == ERIS_OK)
		ck_assert_mem_eq(buf, s.body, right_len);
	else if (expect != ERIS_EMISMATCH)
		/* The error names the server (the wrapper's own size and
		 * hash messages name the block instead). */
		ck_assert_msg(strstr(eris_error_last(), remote) != NULL ||
				      strstr(eris_error_last(), "block ") !=
					      NULL,
			      "message \"%s\" names neither the server nor the "
			      "block",
			      eris_error_last());
	ck_assert_msg(grown < MEM_BOUND, "peak RSS grew by %ld bytes", grown);
	ck_assert_msg(t1.tv_sec - t0.tv_sec < HANG_BOUND, "took %ld s",
		      (long)(t1.tv_sec - t0.tv_sec));
	/* foreach on a cache lists LOCAL only. */
	ck_assert_eris(eris_store_foreach(store, count_block, &cached),
		       ERIS_OK);
	ck_assert_uint_eq(cached, expect == ERIS_OK ? 1 : 0);
	eris_store_free(store);
	server_stop(&s);
	free(buf);
}

#define K1 ERIS_BLOCK_SIZE_1K
#define K32 ERIS_BLOCK_SIZE_32K

/* _i: the transport (P_UDP, P_TCP, P_HTTP). */
START_TEST(honest)
{
	run_case(_i, M_BODY, K1, K1, 0, K1, ERIS_OK, NULL);
}
END_TEST

START_TEST(honest_32k)
{
	run_case(_i, M_BODY, K32, K32, 0, K32, ERIS_OK, NULL);
}
END_TEST

/* An endless body, for a 32 KiB block and for a 1 KiB one. */
START_TEST(endless)
{
	run_case(_i, M_ENDLESS, K32, K32, 0, K32, ERIS_EBLOCKSIZE,
		 "larger than 32768");
	run_case(_i, M_ENDLESS, K1, K1, 0, K1, ERIS_EBLOCKSIZE,
		 "larger than 1024");
}
END_TEST

START_TEST(endless_http_length)
{
	run_case(P_HTTP, M_HUGE_LEN, K32, K32, 0, K32, ERIS_EBLOCKSIZE,
		 "larger than 32768");
}
END_TEST

START_TEST(drip)
{
	run_case(_i, M_DRIP, K1, K1, 0, K1, ERIS_ERROR,
		 _i == P_HTTP ? "timed out" : "no response within");
}
END_TEST

START_TEST(wrong_sizes)
{
	run_case(_i, M_BODY, K1, 1000, 0, K1, ERIS_EBLOCKSIZE,
		 "has 1000 bytes");
	run_case(_i, M_BODY, K1, 1025, 0, K1, ERIS_EBLOCKSIZE,
		 "larger than 1024");
	run_case(_i, M_BODY, K1, K32, 0, K1, ERIS_EBLOCKSIZE,
		 "larger than 1024");
}
END_TEST

START_TEST(lie)
{
	run_case(_i, M_BODY, K1, K1, 1, K1, ERIS_EMISMATCH, "does not hash");
	run_case(_i, M_BODY, K32, K32, 1, K32, ERIS_EMISMATCH,
		 "does not hash");
}
END_TEST

int main(int argc, char **argv)
{
	Suite *s = suite_create("hostile");
	TCase *tc = tcase_create("servers");
	/* argv[1]: "coap" (UDP and TCP) or "http", the transports to run. */
	int lo = argc > 1 && strcmp(argv[1], "http") == 0 ? P_HTTP : P_UDP;
	int hi = lo == P_HTTP ? P_HTTP + 1 : P_TCP + 1;

	tcase_set_timeout(tc, 2 * HANG_BOUND);
	tcase_add_loop_test(tc, honest, lo, hi);
	tcase_add_loop_test(tc, honest_32k, lo, hi);
	tcase_add_loop_test(tc, endless, lo, hi);
	if (lo == P_HTTP)
		tcase_add_test(tc, endless_http_length);
	tcase_add_loop_test(tc, drip, lo, hi);
	tcase_add_loop_test(tc, wrong_sizes, lo, hi);
	tcase_add_loop_test(tc, lie, lo, hi);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
