/*
 * tests/erisd/http.c - integration tests of erisd: each test starts the
 * real daemon on a free loopback port (--listen 127.0.0.1:0; the port is
 * read from its "listening on" line) with a fresh sqlite store in a
 * temporary directory, and talks to it through raw sockets with a tiny
 * HTTP client written here.
 *
 * Test cases (select one with CK_RUN_CASE):
 *   http  - round trips, every status of erisd(8), malformed requests,
 *           pipelining, Expect: 100-continue, timeouts, SIGTERM, the
 *           cache of verified blocks, --io-threads (seconds)
 *   load  - 1000 concurrent keep-alive clients; kill -9 under PUT load,
 *           then every acknowledged block present after a restart
 * Exits 77 (skipped) when io_uring is unavailable, and only then.
 *
 * DEBUGGING HINTS: CK_FORK=no runs in one process; the daemon's stderr
 * goes to the test's stderr after the "listening" line; every request
 * goes to 127.0.0.1 only.
 */
#define _GNU_SOURCE
#include <eris/eris.h>

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef ERISD_BIN
#error "ERISD_BIN must name the erisd binary"
#endif

/* ---- the daemon --------------------------------------------------------- */

typedef struct daemon_ {
	pid_t pid;
	int port;
	char dir[256];
	char store[300];
} daemon_;

static void rm_rf(const char *dir)
{
	char cmd[512];

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
}

/* Start erisd on `d->store` (made up when empty) with extra options
 * (NULL-terminated). */
static void daemon_start_v(daemon_ *d, const char *const *extra)
{
	const char *argv[32];
	int pfd[2], n = 0;
	char buf[512];
	size_t len = 0;
	FILE *f;

	if (!d->dir[0]) {
		const char *tmp = getenv("TMPDIR");

		snprintf(d->dir, sizeof d->dir, "%s/erisd-test-XXXXXX",
			 tmp && *tmp ? tmp : "/tmp");
		ck_assert_ptr_nonnull(mkdtemp(d->dir));
		snprintf(d->store, sizeof d->store, "sqlite:%s/store.sqlite",
			 d->dir);
		/* A read-only erisd does not create its store. */
		{
			eris_store *s;

			ck_assert_int_eq(eris_store_open(&s, d->store,
							 ERIS_STORE_CREATE),
					 ERIS_OK);
			eris_store_free(s);
		}
	}
	argv[n++] = ERISD_BIN;
	argv[n++] = "--listen";
	argv[n++] = "127.0.0.1:0";
	argv[n++] = "--store";
	argv[n++] = d->store;
	while (extra && *extra && n < 30)
		argv[n++] = *extra++;
	argv[n] = NULL;
	ck_assert_int_eq(pipe(pfd), 0);
	d->pid = fork();
	ck_assert_int_ge(d->pid, 0);
	if (d->pid == 0) {
		dup2(pfd[1], 2);
		close(pfd[0]);
		close(pfd[1]);
		execv(ERISD_BIN, (char *const *)argv);
		_exit(127);
	}
	close(pfd[1]);
	f = fdopen(pfd[0], "r");
	d->port = 0;
	while (fgets(buf + len, (int)(sizeof buf - len), f)) {
		const char *p = strstr(buf, "listening on 127.0.0.1:");

		if (p) {
			d->port = atoi(p + strlen("listening on 127.0.0.1:"));
			break;
		}
		fputs(buf, stderr);
	}
	ck_assert_msg(d->port > 0, "erisd did not start");
	/* Pass the rest of its stderr through, without blocking it. */
	if (fork() == 0) {
		while (fgets(buf, sizeof buf, f))
			fputs(buf, stderr);
		_exit(0);
	}
	fclose(f);
}

static void daemon_start(daemon_ *d, ...)
{
	const char *extra[16];
	va_list ap;
	int n = 0;

	va_start(ap, d);
	while (n < 15 && (extra[n] = va_arg(ap, const char *)) != NULL)
		n++;
	va_end(ap);
	extra[n] = NULL;
	daemon_start_v(d, extra);
}

/* SIGTERM, then the exit status (-1 if it had to be killed). */
static int daemon_stop(daemon_ *d)
{
	int status, i;

	kill(d->pid, SIGTERM);
	for (i = 0; i < 1200; i++) {
		if (waitpid(d->pid, &status, WNOHANG) == d->pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
		usleep(50000);
	}
	kill(d->pid, SIGKILL);
	waitpid(d->pid, &status, 0);
	return -1;
}

static void daemon_free(daemon_ *d)
{
	if (d->pid > 0 && waitpid(d->pid, NULL, WNOHANG) == 0) {
		kill(d->pid, SIGKILL);
		waitpid(d->pid, NULL, 0);
	}
	if (d->dir[0])
		rm_rf(d->dir);
}

/* ---- a tiny HTTP client ------------------------------------------------- */

static int connect_to(int port)
{
	struct sockaddr_in a;
	struct timeval tv = { 10, 0 };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	ck_assert_int_ge(fd, 0);
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	return fd;
}

static int send_all(int fd, const void *p, size_t n)
{
	const char *s = p;

	while (n > 0) {
		ssize_t w = send(fd, s, n, MSG_NOSIGNAL);

		if (w <= 0)
			return -1;
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

typedef struct response {
	int status;
	char head[4096];
	uint8_t *body;
	size_t body_len;
} response;

/* A connection's buffered input. */
typedef struct client {
	int fd;
	char buf[1 << 20];
	size_t len;
} client;

static ssize_t fill(client *c)
{
	ssize_t r;

	if (c->len == sizeof c->buf)
		return -1;
	r = recv(c->fd, c->buf + c->len, sizeof c->buf - c->len, 0);
	if (r > 0)
		c->len += (size_t)r;
	return r;
}

static void drop(client *c, size_t n)
{
	memmove(c->buf, c->buf + n, c->len - n);
	c->len -= n;
}

/* The value of header `name` in `head`, or NULL. */
static const char *header(const response *r, const char *name)
{
	static _Thread_local char value[512];
	const char *p = r->head;
	size_t n = strlen(name);

	while ((p = strstr(p, "\r\n")) != NULL) {
		p += 2;
		if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
			const char *v = p + n + 1, *e = strstr(v, "\r\n");

			while (*v == ' ')
				v++;
			snprintf(value, sizeof value, "%.*s", (int)(e - v), v);
			return value;
		}
	}
	return NULL;
}

/* Read one response; `head_only` for answers to HEAD. Returns 0, or -1
 * when the connection ends first. */
static int read_response(client *c, response *r, int head_only)
{
	char *end;
	size_t hl, bl = 0;
	const char *cl;

	memset(r, 0, sizeof *r);
	for (;;) {
		end = memmem(c->buf, c->len, "\r\n\r\n", 4);
		if (end)
			break;
		if (fill(c) <= 0)
			return -1;
	}
	hl = (size_t)(end - c->buf) + 4;
	ck_assert_uint_lt(hl, sizeof r->head);
	memcpy(r->head, c->buf, hl);
	r->head[hl] = '\0';
	drop(c, hl);
	ck_assert_int_eq(sscanf(r->head, "HTTP/1.1 %d", &r->status), 1);
	cl = header(r, "Content-Length");
	if (cl && !head_only)
		bl = (size_t)strtoull(cl, NULL, 10);
	while (c->len < bl)
		if (fill(c) <= 0)
			return -1;
	r->body = malloc(bl + 1);
	memcpy(r->body, c->buf, bl);
	r->body[bl] = 0;
	r->body_len = bl;
	drop(c, bl);
	return 0;
}

static client *client_new(int port)
{
	client *c = calloc(1, sizeof *c);

	c->fd = connect_to(port);
	return c;
}

static void client_free(client *c)
{
	close(c->fd);
	free(c);
}

/* 1 if the server closes the connection (after any pending bytes). */
static int closed_by_server(client *c)
{
	char b[4096];
	ssize_t r;

	while ((r = recv(c->fd, b, sizeof b, 0)) > 0)
		;
	return r == 0 || (r < 0 && errno == ECONNRESET);
}

/* Send `req` (+ `body`) on a new connection and read one response. */
static int exchange(int port, const char *req, const void *body,
		    size_t body_len, response *r)
{
	client *c = client_new(port);
	int head = strncmp(req, "HEAD ", 5) == 0, rc;

	ck_assert_int_eq(send_all(c->fd, req, strlen(req)), 0);
	if (body_len)
		ck_assert_int_eq(send_all(c->fd, body, body_len), 0);
	rc = read_response(c, r, head);
	client_free(c);
	return rc;
}

static void response_free(response *r)
{
	free(r->body);
	r->body = NULL;
}

/* ---- blocks ------------------------------------------------------------- */

static void make_block(uint8_t *blk, size_t len, uint64_t seed,
		       uint8_t ref[32], char b32[53])
{
	uint8_t nonce[crypto_stream_chacha20_NONCEBYTES] = { 0 };
	uint8_t key[crypto_stream_chacha20_KEYBYTES] = { 0 };

	memcpy(key, &seed, sizeof seed);
	crypto_stream_chacha20(blk, len, nonce, key);
	crypto_generichash(ref, 32, blk, len, NULL, 0);
	eris_base32_encode(b32, ref, 32);
}

static char *put_req(const char *b32, size_t len, const char *extra)
{
	static _Thread_local char req[1024];
	int n;

	n = snprintf(req, sizeof req,
		     "PUT /uri-res/N2R?urn:blake2b:%s HTTP/1.1\r\nHost: t\r\n"
		     "Content-Length: %zu\r\n%s\r\n", b32, len,
		     extra ? extra : "");
	ck_assert_int_lt(n, (int)sizeof req);
	return req;
}

static char *get_req(const char *method, const char *urn, const char *extra)
{
	static _Thread_local char req[1024];

	snprintf(req, sizeof req,
		 "%s /uri-res/N2R?%s HTTP/1.1\r\nHost: t\r\n%s\r\n", method,
		 urn, extra ? extra : "");
	return req;
}

static int put_block(int port, const uint8_t *blk, size_t len,
		     const char *b32, const char *extra)
{
	response r;
	int status;

	ck_assert_int_eq(exchange(port, put_req(b32, len, extra), blk, len,
				  &r), 0);
	status = r.status;
	response_free(&r);
	return status;
}

/* A valid capability: 1 KiB blocks, level 0, all-zero reference and key. */
#define CAP0 "BIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" \
	"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"

/* ---- the quick case ----------------------------------------------------- */

START_TEST(test_roundtrip)
{
	daemon_ d = { 0 };
	static uint8_t blk[32768];
	uint8_t ref[32];
	char b32[53], urn[80];
	size_t sizes[] = { 1024, 32768 };
	response r;
	size_t i;

	char log[300], line[512];
	FILE *f;
	int found = 0;

	d.dir[0] = '\0';
	daemon_start(&d, "--writable", NULL); /* makes d.dir */
	ck_assert_int_eq(daemon_stop(&d), 0);
	snprintf(log, sizeof log, "%s/access.log", d.dir);
	daemon_start(&d, "--writable", "--access-log", log, NULL);
	for (i = 0; i < 2; i++) {
		make_block(blk, sizes[i], i + 1, ref, b32);
		snprintf(urn, sizeof urn, "urn:blake2b:%s", b32);
		ck_assert_int_eq(exchange(d.port, get_req("GET", urn, NULL),
					  NULL, 0, &r), 0);
		ck_assert_int_eq(r.status, 404);
		response_free(&r);
		/* 200 and where it is, new block or not (as the Nim server
		 * answers). */
		for (int k = 0; k < 2; k++) {
			ck_assert_int_eq(exchange(d.port, put_req(b32, sizes[i],
								  NULL),
						  blk, sizes[i], &r), 0);
			ck_assert_int_eq(r.status, 200);
			snprintf(line, sizeof line, "/uri-res/N2R?%s", urn);
			ck_assert_str_eq(header(&r, "Content-Location"), line);
			response_free(&r);
		}
		ck_assert_int_eq(exchange(d.port, get_req("GET", urn, NULL),
					  NULL, 0, &r), 0);
		ck_assert_int_eq(r.status, 200);
		ck_assert_uint_eq(r.body_len, sizes[i]);
		ck_assert_mem_eq(r.body, blk, sizes[i]);
		ck_assert_str_eq(header(&r, "Content-Type"),
				 "application/octet-stream");
		response_free(&r);
		ck_assert_int_eq(exchange(d.port, get_req("HEAD", urn, NULL),
					  NULL, 0, &r), 0);
		ck_assert_int_eq(r.status, 200);
		ck_assert_uint_eq(strtoul(header(&r, "Content-Length"), NULL,
					  10), sizes[i]);
		response_free(&r);
	}
	ck_assert_int_eq(daemon_stop(&d), 0);
	/* The access log has a line per request. */
	f = fopen(log, "r");
	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof line, f))
		if (strstr(line, " 127.0.0.1 PUT urn:blake2b:") &&
		    strstr(line, b32) && strstr(line, " 200 0"))
			found++;
	fclose(f);
	ck_assert_int_eq(found, 2);
	/* Still there after a restart. */
	daemon_start(&d, NULL);
	ck_assert_int_eq(exchange(d.port, get_req("GET", urn, NULL), NULL, 0,
				  &r), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_mem_eq(r.body, blk, 32768);
	response_free(&r);
	ck_assert_int_eq(daemon_stop(&d), 0);
	daemon_free(&d);
}
END_TEST

/* A bad request gets `status` and the connection is closed. */
static void expect_closing(int port, const char *req, size_t len, int status)
{
	client *c = client_new(port);
	response r;

	ck_assert_int_eq(send_all(c->fd, req, len), 0);
	ck_assert_int_eq(read_response(c, &r, 0), 0);
	ck_assert_msg(r.status == status, "%.60s...: got %d, want %d", req,
		      r.status, status);
	ck_assert_str_eq(header(&r, "Connection"), "close");
	ck_assert(closed_by_server(c));
	response_free(&r);
	client_free(c);
}

START_TEST(test_statuses)
{
	daemon_ d = { 0 };
	static uint8_t blk[32768], big[40000];
	uint8_t ref[32];
	char b32[53], urn[80], req[1024];
	const char *zero = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
	response r;
	char *s;

	daemon_start(&d, "--writable", NULL);
	make_block(blk, 1024, 7, ref, b32);
	snprintf(urn, sizeof urn, "urn:blake2b:%s", b32);
	/* 400: the body does not hash to the reference, or wrong size. */
	ck_assert_int_eq(put_block(d.port, blk, 1024, zero, NULL), 400);
	ck_assert_int_eq(put_block(d.port, blk, 1000, b32, NULL), 400);
	ck_assert_int_eq(put_block(d.port, blk, 32767, b32, NULL), 400);
	ck_assert_int_eq(exchange(d.port, get_req("GET", urn, NULL), NULL, 0,
				  &r), 0);
	ck_assert_int_eq(r.status, 404); /* nothing was stored */
	response_free(&r);
	/* Parser errors: the status, then the connection is closed. */
#define X(req, st) expect_closing(d.port, req, strlen(req), st)
	X("POST /uri-res/N2R?urn:blake2b:AAAA HTTP/1.1\r\nHost: t\r\n\r\n",
	  405);
	X("PUT /uri-res/N2R?urn:eris:" CAP0 " HTTP/1.1\r\nHost: t\r\n"
	  "Content-Length: 0\r\n\r\n", 405);
	X("GET /index.html HTTP/1.1\r\nHost: t\r\n\r\n", 404);
	X("GET /uri-res/N2R?urn:blake2b:AAAA HTTP/1.1\r\nHost: t\r\n\r\n",
	  400);
	X("GET /uri-res/N2R?urn:blake2b:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaa HTTP/1.1\r\nHost: t\r\n\r\n", 400);
	X("GET /uri-res/N2R?urn:eris:XYZ HTTP/1.1\r\nHost: t\r\n\r\n", 400);
	X("GET /uri-res/N2R?urn:blake2b:AAAA HTTP/1.1\nHost: t\n\n", 400);
	X("GET /uri-res/N2R?x HTTP/1.1\r\n\r\n", 400); /* no Host */
	X("GET /uri-res/N2R?x HTTP/3.0\r\nHost: t\r\n\r\n", 505);
	X("PUT /uri-res/N2R?urn:blake2b:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	  "AAAAAAAAAAAAAA HTTP/1.1\r\nHost: t\r\n\r\n", 411);
	X("PUT /uri-res/N2R?urn:blake2b:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	  "AAAAAAAAAAAAAA HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked"
	  "\r\n\r\n", 501);
	X("GET /uri-res/N2R?urn:blake2b:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	  "AAAAAAAAAAAAAA HTTP/1.1\r\nHost: t\r\nExpect: x\r\n\r\n", 417);
	/* 413 with a body following: the answer must still arrive. */
	s = put_req(b32, sizeof big, NULL);
	memcpy(big, s, strlen(s));
	expect_closing(d.port, (const char *)big, sizeof big, 413);
	/* 414, 431 */
	s = malloc(20000);
	memset(s, 'a', 20000);
	memcpy(s, "GET /", 5);
	strcpy(s + 9000, " HTTP/1.1\r\nHost: t\r\n\r\n");
	expect_closing(d.port, s, strlen(s), 414);
	memset(s, 'a', 20000);
	snprintf(req, sizeof req, "GET /uri-res/N2R?%s HTTP/1.1\r\nX: ", urn);
	memcpy(s, req, strlen(req));
	strcpy(s + 18000, "\r\n\r\n");
	expect_closing(d.port, s, strlen(s), 431);
	free(s);
#undef X
	/* 404 then keep-alive: the connection stays usable. */
	{
		client *c = client_new(d.port);
		const char *q = get_req("GET", urn, NULL);

		ck_assert_int_eq(send_all(c->fd, q, strlen(q)), 0);
		ck_assert_int_eq(read_response(c, &r, 0), 0);
		ck_assert_int_eq(r.status, 404);
		response_free(&r);
		ck_assert_int_eq(send_all(c->fd, q, strlen(q)), 0);
		ck_assert_int_eq(read_response(c, &r, 0), 0);
		ck_assert_int_eq(r.status, 404);
		response_free(&r);
		client_free(c);
	}
	/* A short body, then the client goes away: nothing stored, the
	 * daemon goes on. */
	{
		client *c = client_new(d.port);
		const char *q = put_req(b32, 1024, NULL);

		ck_assert_int_eq(send_all(c->fd, q, strlen(q)), 0);
		ck_assert_int_eq(send_all(c->fd, blk, 100), 0);
		client_free(c);
		usleep(100000);
		ck_assert_int_eq(exchange(d.port, get_req("GET", urn, NULL),
					  NULL, 0, &r), 0);
		ck_assert_int_eq(r.status, 404);
		response_free(&r);
	}
	ck_assert_int_eq(daemon_stop(&d), 0);

	/* 403: writes disabled. */
	daemon_start(&d, NULL);
	ck_assert_int_eq(put_block(d.port, blk, 1024, b32, NULL), 403);
	ck_assert_int_eq(daemon_stop(&d), 0);

	/* 401 / 200 with a token. */
	{
		char tf[300];
		FILE *f;

		snprintf(tf, sizeof tf, "%s/token", d.dir);
		f = fopen(tf, "w");
		fputs("s3cret-token\n", f);
		fclose(f);
		daemon_start(&d, "--token-file", tf, NULL);
		ck_assert_int_eq(put_block(d.port, blk, 1024, b32, NULL), 401);
		ck_assert_int_eq(put_block(d.port, blk, 1024, b32,
					   "Authorization: Bearer wrong\r\n"),
				 401);
		ck_assert_int_eq(put_block(d.port, blk, 1024, b32,
					   "Authorization: Bearer s3cret-toke\r\n"),
				 401);
		ck_assert_int_eq(put_block(d.port, blk, 1024, b32,
					   "Authorization: Bearer s3cret-token\r\n"),
				 200);
		ck_assert_int_eq(daemon_stop(&d), 0);
	}
	daemon_free(&d);
}
END_TEST

/* Encode content into a memory store and upload every block. */
typedef struct upload {
	eris_store *mem;
	int port;
} upload;

static int upload_one(const uint8_t ref[32], size_t len, void *payload)
{
	upload *u = payload;
	static uint8_t blk[32768];
	char b32[53];
	size_t got;

	ck_assert_int_eq(eris_store_get(u->mem, ref, blk, sizeof blk, &got),
			 ERIS_OK);
	ck_assert_uint_eq(got, len);
	eris_base32_encode(b32, ref, 32);
	ck_assert_int_eq(put_block(u->port, blk, len, b32, NULL), 200);
	return 0;
}

START_TEST(test_content)
{
	daemon_ d = { 0 };
	const size_t n = 300000;
	uint8_t *content = malloc(n), key[32] = { 1 }, nonce[8] = { 0 };
	eris_read_cap cap;
	char urn[ERIS_URN_BUFSIZE], u2[200];
	upload u;
	response r;

	crypto_stream_chacha20(content, n, nonce, key);
	ck_assert_int_eq(eris_store_new_mem(&u.mem), ERIS_OK);
	ck_assert_int_eq(eris_encode(&cap, u.mem, NULL, content, n), ERIS_OK);
	ck_assert_int_eq(eris_urn_format(urn, &cap), ERIS_OK);
	daemon_start(&d, "--writable", NULL);
	/* Missing blocks (R1): 404. */
	ck_assert_int_eq(exchange(d.port, get_req("GET", urn, NULL), NULL, 0,
				  &r), 0);
	ck_assert_int_eq(r.status, 404);
	response_free(&r);
	u.port = d.port;
	ck_assert_int_eq(eris_store_foreach(u.mem, upload_one, &u), ERIS_OK);
	ck_assert_int_eq(exchange(d.port, get_req("GET", urn, NULL), NULL, 0,
				  &r), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_uint_eq(r.body_len, n);
	ck_assert_mem_eq(r.body, content, n);
	ck_assert_str_eq(header(&r, "Accept-Ranges"), "bytes");
	response_free(&r);
	/* urn:eris: is case-insensitive in its prefix. */
	snprintf(u2, sizeof u2, "URN:ERIS:%s", urn + 9);
	ck_assert_int_eq(exchange(d.port, get_req("HEAD", u2, NULL), NULL, 0,
				  &r), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(header(&r, "Content-Length"), "300000");
	response_free(&r);
	ck_assert_int_eq(exchange(d.port, get_req("GET", urn,
				  "Range: bytes=100000-100099\r\n"), NULL, 0,
				  &r), 0);
	ck_assert_int_eq(r.status, 206);
	ck_assert_str_eq(header(&r, "Content-Range"),
			 "bytes 100000-100099/300000");
	ck_assert_uint_eq(r.body_len, 100);
	ck_assert_mem_eq(r.body, content + 100000, 100);
	response_free(&r);
	ck_assert_int_eq(exchange(d.port, get_req("GET", urn,
				  "Range: bytes=-10\r\n"), NULL, 0, &r), 0);
	ck_assert_int_eq(r.status, 206);
	ck_assert_mem_eq(r.body, content + n - 10, 10);
	response_free(&r);
	ck_assert_int_eq(exchange(d.port, get_req("GET", urn,
				  "Range: bytes=299990-\r\n"), NULL, 0, &r), 0);
	ck_assert_int_eq(r.status, 206);
	ck_assert_uint_eq(r.body_len, 10);
	response_free(&r);
	ck_assert_int_eq(exchange(d.port, get_req("GET", urn,
				  "Range: bytes=300000-\r\n"), NULL, 0, &r), 0);
	ck_assert_int_eq(r.status, 416);
	ck_assert_str_eq(header(&r, "Content-Range"), "bytes */300000");
	response_free(&r);
	/* At 2^64-1: a last position clamps to the content (206), a first
	 * position is past its end (416). */
	ck_assert_int_eq(exchange(d.port, get_req("GET", urn,
				  "Range: bytes=0-18446744073709551615\r\n"),
				  NULL, 0, &r), 0);
	ck_assert_int_eq(r.status, 206);
	ck_assert_str_eq(header(&r, "Content-Range"), "bytes 0-299999/300000");
	ck_assert_uint_eq(r.body_len, n);
	ck_assert_mem_eq(r.body, content, n);
	response_free(&r);
	ck_assert_int_eq(exchange(d.port, get_req("GET", urn,
				  "Range: bytes=18446744073709551615-\r\n"),
				  NULL, 0, &r), 0);
	ck_assert_int_eq(r.status, 416);
	ck_assert_str_eq(header(&r, "Content-Range"), "bytes */300000");
	response_free(&r);
	/* Several ranges: ignored, everything sent. */
	ck_assert_int_eq(exchange(d.port, get_req("GET", urn,
				  "Range: bytes=0-1,5-6\r\n"), NULL, 0, &r), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_uint_eq(r.body_len, n);
	response_free(&r);
	ck_assert_int_eq(daemon_stop(&d), 0);
	daemon_free(&d);
	eris_store_free(u.mem);
	free(content);
}
END_TEST

START_TEST(test_pipelining)
{
	daemon_ d = { 0 };
	static uint8_t blk[4][1024];
	uint8_t ref[32];
	char b32[4][53], urn[80], all[8192] = "";
	client *c;
	response r;
	int i;

	daemon_start(&d, "--writable", NULL);
	for (i = 0; i < 4; i++) {
		make_block(blk[i], 1024, 100 + (uint64_t)i, ref, b32[i]);
		if (i < 3)
			ck_assert_int_eq(put_block(d.port, blk[i], 1024,
						   b32[i], NULL), 200);
	}
	/* Ten requests in one write, answered in order. */
	for (i = 0; i < 10; i++) {
		snprintf(urn, sizeof urn, "urn:blake2b:%s", b32[i % 4]);
		strcat(all, get_req(i == 5 ? "HEAD" : "GET", urn, NULL));
	}
	c = client_new(d.port);
	ck_assert_int_eq(send_all(c->fd, all, strlen(all)), 0);
	for (i = 0; i < 10; i++) {
		ck_assert_int_eq(read_response(c, &r, i == 5), 0);
		ck_assert_int_eq(r.status, i % 4 == 3 ? 404 : 200);
		if (i % 4 != 3 && i != 5)
			ck_assert_mem_eq(r.body, blk[i % 4], 1024);
		response_free(&r);
	}
	/* HTTP/1.0 closes unless keep-alive; Connection: close is honoured. */
	snprintf(all, sizeof all, "GET /uri-res/N2R?urn:blake2b:%s HTTP/1.0"
		 "\r\n\r\n", b32[0]);
	ck_assert_int_eq(send_all(c->fd, all, strlen(all)), 0);
	ck_assert_int_eq(read_response(c, &r, 0), 0);
	ck_assert_int_eq(r.status, 200);
	response_free(&r);
	ck_assert(closed_by_server(c));
	client_free(c);
	c = client_new(d.port);
	snprintf(all, sizeof all, "GET /uri-res/N2R?urn:blake2b:%s HTTP/1.0"
		 "\r\nConnection: keep-alive\r\n\r\n", b32[0]);
	ck_assert_int_eq(send_all(c->fd, all, strlen(all)), 0);
	ck_assert_int_eq(read_response(c, &r, 0), 0);
	ck_assert_str_eq(header(&r, "Connection"), "keep-alive");
	response_free(&r);
	snprintf(all, sizeof all, "GET /uri-res/N2R?urn:blake2b:%s HTTP/1.1"
		 "\r\nHost: t\r\nConnection: close\r\n\r\n", b32[0]);
	ck_assert_int_eq(send_all(c->fd, all, strlen(all)), 0);
	ck_assert_int_eq(read_response(c, &r, 0), 0);
	ck_assert_int_eq(r.status, 200);
	response_free(&r);
	ck_assert(closed_by_server(c));
	client_free(c);
	/* Expect: 100-continue. */
	c = client_new(d.port);
	{
		const char *q = put_req(b32[3], 1024,
					"Expect: 100-continue\r\n");

		ck_assert_int_eq(send_all(c->fd, q, strlen(q)), 0);
		ck_assert_int_eq(read_response(c, &r, 1), 0);
		ck_assert_int_eq(r.status, 100);
		response_free(&r);
		ck_assert_int_eq(send_all(c->fd, blk[3], 1024), 0);
		ck_assert_int_eq(read_response(c, &r, 0), 0);
		ck_assert_int_eq(r.status, 200);
		response_free(&r);
	}
	client_free(c);
	ck_assert_int_eq(daemon_stop(&d), 0);
	daemon_free(&d);
}
END_TEST

/* A PUT that will be refused gets its refusal at once, not an invitation
 * (100 Continue) to send a body it would only throw away. */
START_TEST(test_continue_refused)
{
	daemon_ d = { 0 };
	static uint8_t blk[1024];
	uint8_t ref[32];
	char b32[53];
	response r;
	client *c;

	make_block(blk, sizeof blk, 77, ref, b32);
	daemon_start(&d, NULL); /* read-only */
	c = client_new(d.port);
	{
		const char *q = put_req(b32, 1024, "Expect: 100-continue\r\n");

		ck_assert_int_eq(send_all(c->fd, q, strlen(q)), 0);
		ck_assert_int_eq(read_response(c, &r, 0), 0);
		ck_assert_int_eq(r.status, 403);
		response_free(&r);
		ck_assert(closed_by_server(c));
	}
	client_free(c);
	ck_assert_int_eq(daemon_stop(&d), 0);
	daemon_free(&d);
}
END_TEST

/* A corrupt block in a directory store: 500, never the bad bytes. */
START_TEST(test_corrupt)
{
	daemon_ d = { 0 };
	static uint8_t blk[1024];
	uint8_t ref[32];
	char b32[53], urn[80], path[400];
	response r;
	FILE *f;
	eris_store *mem;
	eris_read_cap cap;
	char curn[ERIS_URN_BUFSIZE];

	daemon_start(&d, NULL); /* makes d.dir */
	ck_assert_int_eq(daemon_stop(&d), 0);
	snprintf(d.store, sizeof d.store, "dir:%s/blocks", d.dir);
	/* Content of one 1 KiB leaf; its block stored with a flipped bit. */
	ck_assert_int_eq(eris_store_new_mem(&mem), ERIS_OK);
	{
		eris_encode_options o = ERIS_ENCODE_OPTIONS_INIT;
		size_t got;

		o.block_size = 1024;
		ck_assert_int_eq(eris_encode(&cap, mem, &o, "hello", 5),
				 ERIS_OK);
		ck_assert_int_eq(eris_store_get(mem, cap.root_ref, blk,
						sizeof blk, &got), ERIS_OK);
	}
	eris_store_free(mem);
	memcpy(ref, cap.root_ref, 32);
	eris_base32_encode(b32, ref, 32);
	ck_assert_int_eq(eris_urn_format(curn, &cap), ERIS_OK);
	daemon_start(&d, "--writable", NULL);
	ck_assert_int_eq(put_block(d.port, blk, 1024, b32, NULL), 200);
	snprintf(urn, sizeof urn, "urn:blake2b:%s", b32);
	ck_assert_int_eq(exchange(d.port, get_req("GET", curn, NULL), NULL, 0,
				  &r), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq((char *)r.body, "hello");
	response_free(&r);
	snprintf(path, sizeof path, "%s/blocks/%.2s/%s", d.dir, b32, b32);
	blk[100] ^= 1;
	f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	fwrite(blk, 1, 1024, f);
	fclose(f);
	ck_assert_int_eq(exchange(d.port, get_req("GET", urn, NULL), NULL, 0,
				  &r), 0);
	ck_assert_int_eq(r.status, 500);
	response_free(&r);
	ck_assert_int_eq(exchange(d.port, get_req("GET", curn, NULL), NULL, 0,
				  &r), 0);
	ck_assert_int_eq(r.status, 500);
	ck_assert_ptr_nonnull(strstr((char *)r.body, "R3"));
	response_free(&r);
	ck_assert_int_eq(daemon_stop(&d), 0);
	daemon_free(&d);
}
END_TEST

/* Overwrite block `b32` of the dir store in `dir` with `blk` (`len`
 * bytes) with one bit flipped. */
static void corrupt_block(const char *dir, const char *b32,
			  const uint8_t *blk, size_t len)
{
	char path[400];
	uint8_t *bad = malloc(len);
	FILE *f;

	memcpy(bad, blk, len);
	bad[len / 2] ^= 1;
	snprintf(path, sizeof path, "%s/blocks/%.2s/%s", dir, b32, b32);
	f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(bad, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
	free(bad);
}

/* GET block `b32` on `c`: the status, and with 200 the exact bytes. */
static int get_on(client *c, const char *method, const char *b32,
		  const uint8_t *want, size_t len)
{
	char urn[80];
	response r;
	int status;

	snprintf(urn, sizeof urn, "urn:blake2b:%s", b32);
	ck_assert_int_eq(send_all(c->fd, get_req(method, urn, NULL),
				  strlen(get_req(method, urn, NULL))), 0);
	ck_assert_int_eq(read_response(c, &r, method[0] == 'H'), 0);
	status = r.status;
	if (status == 200) {
		ck_assert_str_eq(header(&r, "Content-Length"),
				 len == 1024 ? "1024" : "32768");
		if (method[0] == 'G') {
			ck_assert_uint_eq(r.body_len, len);
			ck_assert_mem_eq(r.body, want, len);
		}
	} else if (status == 500) {
		ck_assert_ptr_nonnull(strstr((char *)r.body, "R3"));
	}
	response_free(&r);
	return status;
}

#define CACHE_BLOCKS 40

/*
 * The cache of verified blocks (--cache-size). A block corrupted in the
 * store after it was served once is still served correctly (it was
 * verified when it entered the cache); without the cache, or once
 * evicted, the corrupt copy gives 500 naming R3. A cache far smaller than
 * the blocks read keeps serving the right bytes, also pipelined.
 */
START_TEST(test_cache)
{
	daemon_ d = { 0 };
	static uint8_t big[32768], small[CACHE_BLOCKS][1024];
	char bb32[53], sb32[CACHE_BLOCKS][53], pipe_req[8192];
	uint8_t ref[32];
	client *c;
	size_t off = 0;
	int i, round;

	daemon_start(&d, NULL); /* makes d.dir */
	ck_assert_int_eq(daemon_stop(&d), 0);
	snprintf(d.store, sizeof d.store, "dir:%s/blocks", d.dir);
	daemon_start(&d, "--writable", NULL); /* the default cache */
	make_block(big, sizeof big, 4242, ref, bb32);
	ck_assert_int_eq(put_block(d.port, big, sizeof big, bb32, NULL), 200);
	for (i = 0; i < CACHE_BLOCKS; i++) {
		make_block(small[i], 1024, 5000 + (uint64_t)i, ref, sb32[i]);
		ck_assert_int_eq(put_block(d.port, small[i], 1024, sb32[i],
					   NULL), 200);
	}
	c = client_new(d.port);
	ck_assert_int_eq(get_on(c, "GET", bb32, big, sizeof big), 200);
	ck_assert_int_eq(get_on(c, "GET", sb32[0], small[0], 1024), 200);
	corrupt_block(d.dir, bb32, big, sizeof big);
	corrupt_block(d.dir, sb32[0], small[0], 1024);
	/* From the cache: the verified bytes, keep-alive, HEAD too. */
	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(get_on(c, "GET", bb32, big, sizeof big), 200);
		ck_assert_int_eq(get_on(c, "HEAD", bb32, big, sizeof big), 200);
		ck_assert_int_eq(get_on(c, "GET", sb32[0], small[0], 1024),
				 200);
	}
	client_free(c);
	ck_assert_int_eq(daemon_stop(&d), 0);

	/* No cache: the corrupt copies are refused. */
	daemon_start(&d, "--cache-size", "0", NULL);
	c = client_new(d.port);
	ck_assert_int_eq(get_on(c, "GET", bb32, big, sizeof big), 500);
	client_free(c);
	c = client_new(d.port);
	ck_assert_int_eq(get_on(c, "GET", sb32[0], small[0], 1024), 500);
	client_free(c);
	ck_assert_int_eq(daemon_stop(&d), 0);

	/* With --access-log the workers answer hits, from the cache too. */
	{
		char path[400], log[300];
		FILE *f;

		snprintf(path, sizeof path, "%s/blocks/%.2s/%s", d.dir, bb32,
			 bb32);
		f = fopen(path, "wb");
		ck_assert_ptr_nonnull(f);
		ck_assert_uint_eq(fwrite(big, 1, sizeof big, f), sizeof big);
		ck_assert_int_eq(fclose(f), 0);
		snprintf(log, sizeof log, "%s/access.log", d.dir);
		daemon_start(&d, "--access-log", log, NULL);
	}
	c = client_new(d.port);
	ck_assert_int_eq(get_on(c, "GET", bb32, big, sizeof big), 200);
	corrupt_block(d.dir, bb32, big, sizeof big);
	ck_assert_int_eq(get_on(c, "GET", bb32, big, sizeof big), 200);
	ck_assert_int_eq(get_on(c, "HEAD", bb32, big, sizeof big), 200);
	client_free(c);
	ck_assert_int_eq(daemon_stop(&d), 0);

	/* A 32 KiB cache (32 small blocks) read through 40 blocks, three
	 * times: evictions, and always the right bytes. */
	{
		char path[400];
		FILE *f;

		/* Repair block 0: every block is good again. */
		snprintf(path, sizeof path, "%s/blocks/%.2s/%s", d.dir,
			 sb32[0], sb32[0]);
		f = fopen(path, "wb");
		ck_assert_ptr_nonnull(f);
		ck_assert_uint_eq(fwrite(small[0], 1, 1024, f), 1024);
		ck_assert_int_eq(fclose(f), 0);
	}
	daemon_start(&d, "--cache-size", "32K", NULL);
	c = client_new(d.port);
	for (round = 0; round < 3; round++)
		for (i = 0; i < CACHE_BLOCKS; i++)
			ck_assert_int_eq(get_on(c, "GET", sb32[i], small[i],
						1024), 200);
	client_free(c);
	ck_assert_int_eq(daemon_stop(&d), 0);
	/* A fresh 32 KiB cache: block 0 enters first, is never read again,
	 * and 32 others enter after it (the last one, read when the cache
	 * is full, on its second read), so the hand evicts it; a corrupt
	 * copy in the store is then refused. */
	daemon_start(&d, "--cache-size", "32K", NULL);
	c = client_new(d.port);
	for (i = 0; i < 33; i++)
		ck_assert_int_eq(get_on(c, "GET", sb32[i], small[i], 1024),
				 200);
	ck_assert_int_eq(get_on(c, "GET", sb32[32], small[32], 1024), 200);
	corrupt_block(d.dir, sb32[0], small[0], 1024);
	ck_assert_int_eq(get_on(c, "GET", sb32[0], small[0], 1024), 500);
	client_free(c);
	/* Pipelined: ten cached and uncached GETs in one write. */
	c = client_new(d.port);
	for (i = 1; i <= 10; i++) {
		char urn[80];

		snprintf(urn, sizeof urn, "urn:blake2b:%s", sb32[i * 3]);
		off += (size_t)snprintf(pipe_req + off, sizeof pipe_req - off,
					"%s", get_req("GET", urn, NULL));
	}
	ck_assert_int_eq(send_all(c->fd, pipe_req, off), 0);
	for (i = 1; i <= 10; i++) {
		response r;

		ck_assert_int_eq(read_response(c, &r, 0), 0);
		ck_assert_int_eq(r.status, 200);
		ck_assert_uint_eq(r.body_len, 1024);
		ck_assert_mem_eq(r.body, small[i * 3], 1024);
		response_free(&r);
	}
	client_free(c);
	ck_assert_int_eq(daemon_stop(&d), 0);
	daemon_free(&d);
}
END_TEST

/* Remove block `b32` from the dir store behind erisd's back. */
static void remove_block(const char *dir, const char *b32)
{
	char path[4096];

	snprintf(path, sizeof path, "%s/blocks/%.2s/%s", dir, b32, b32);
	ck_assert_int_eq(unlink(path), 0);
}

#define ADMIT_BLOCKS 36

/*
 * Admission (--cache-size): while the cache has room a block enters on
 * its first read; once full, a block read once is served but not kept,
 * and one read twice is kept. Seen from outside by removing the files
 * from the dir store: a block still served after that came from the
 * cache, one refused with 404 did not.
 */
START_TEST(test_cache_admission)
{
	daemon_ d = { 0 };
	static uint8_t blk[ADMIT_BLOCKS][1024];
	char b32[ADMIT_BLOCKS][53];
	uint8_t ref[32];
	client *c;
	int i;

	daemon_start(&d, NULL); /* makes d.dir */
	ck_assert_int_eq(daemon_stop(&d), 0);
	snprintf(d.store, sizeof d.store, "dir:%s/blocks", d.dir);
	daemon_start(&d, "--writable", "--cache-size", "0", NULL);
	for (i = 0; i < ADMIT_BLOCKS; i++) {
		make_block(blk[i], 1024, 7000 + (uint64_t)i, ref, b32[i]);
		ck_assert_int_eq(put_block(d.port, blk[i], 1024, b32[i], NULL),
				 200);
	}
	ck_assert_int_eq(daemon_stop(&d), 0);

	/* 32 KiB: room for 32 blocks of 1 KiB. */
	daemon_start(&d, "--cache-size", "32K", NULL);
	c = client_new(d.port);
	for (i = 0; i < 32; i++) /* fill it: each enters on its first read */
		ck_assert_int_eq(get_on(c, "GET", b32[i], blk[i], 1024), 200);
	ck_assert_int_eq(get_on(c, "GET", b32[32], blk[32], 1024), 200);
	for (i = 33; i < 35; i++) { /* read twice: the second read enters */
		ck_assert_int_eq(get_on(c, "GET", b32[i], blk[i], 1024), 200);
		ck_assert_int_eq(get_on(c, "GET", b32[i], blk[i], 1024), 200);
	}
	for (i = 0; i < ADMIT_BLOCKS; i++)
		remove_block(d.dir, b32[i]);
	/* Read once when full: not kept. */
	ck_assert_int_eq(get_on(c, "GET", b32[32], blk[32], 1024), 404);
	/* Never read: not there either. */
	ck_assert_int_eq(get_on(c, "GET", b32[35], blk[35], 1024), 404);
	/* Read twice when full: kept. */
	for (i = 33; i < 35; i++)
		ck_assert_int_eq(get_on(c, "GET", b32[i], blk[i], 1024), 200);
	/* Of the 32 read when there was room, two made room for them. */
	{
		int kept = 0;

		for (i = 0; i < 32; i++) {
			int st = get_on(c, "GET", b32[i], blk[i], 1024);

			ck_assert(st == 200 || st == 404);
			kept += st == 200;
		}
		ck_assert_int_eq(kept, 30);
	}
	client_free(c);
	ck_assert_int_eq(daemon_stop(&d), 0);
	daemon_free(&d);
}
END_TEST

#define RECYCLE_BLOCKS 24
#define RECYCLE_CONNS 4

/*
 * Cache hits go out straight from the cache's entries, which stay pinned
 * until the socket has taken all of them. A 64 KiB cache (two 32 KiB
 * blocks), 24 blocks each asked for three times in a row (a miss that the
 * full cache only notes, a miss that evicts an entry, then a hit) in one
 * pipelined burst on each of four connections with small receive
 * buffers, read only after every burst was sent: entries are evicted
 * while earlier answers still wait to be sent, and every body must still
 * hash to the reference asked for.
 */
START_TEST(test_cache_recycle)
{
	daemon_ d = { 0 };
	static uint8_t blk[RECYCLE_BLOCKS][32768];
	static char req[RECYCLE_BLOCKS * 3 * 160];
	char b32[RECYCLE_BLOCKS][53];
	uint8_t ref[RECYCLE_BLOCKS][32], h[32];
	client *c[RECYCLE_CONNS];
	int i, k, small = 4096;

	daemon_start(&d, "--writable", "--cache-size", "64K", NULL);
	for (i = 0; i < RECYCLE_BLOCKS; i++) {
		make_block(blk[i], 32768, 9000 + (uint64_t)i, ref[i], b32[i]);
		ck_assert_int_eq(put_block(d.port, blk[i], 32768, b32[i],
					   NULL), 200);
	}
	for (k = 0; k < RECYCLE_CONNS; k++) {
		struct sockaddr_in a;
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		size_t off = 0;

		ck_assert_int_ge(fd, 0);
		/* Before connect, so that the window starts small. */
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
		memset(&a, 0, sizeof a);
		a.sin_family = AF_INET;
		a.sin_port = htons((uint16_t)d.port);
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		ck_assert_int_eq(connect(fd, (struct sockaddr *)&a, sizeof a),
				 0);
		c[k] = calloc(1, sizeof *c[k]);
		c[k]->fd = fd;
		for (i = 0; i < 3 * RECYCLE_BLOCKS; i++) {
			char urn[80];

			snprintf(urn, sizeof urn, "urn:blake2b:%s",
				 b32[(i / 3 + 5 * k) % RECYCLE_BLOCKS]);
			off += (size_t)snprintf(req + off, sizeof req - off,
						"%s",
						get_req("GET", urn, NULL));
		}
		ck_assert_int_eq(send_all(fd, req, off), 0);
	}
	for (k = 0; k < RECYCLE_CONNS; k++) {
		for (i = 0; i < 3 * RECYCLE_BLOCKS; i++) {
			int want = (i / 3 + 5 * k) % RECYCLE_BLOCKS;
			response r;

			ck_assert_int_eq(read_response(c[k], &r, 0), 0);
			ck_assert_int_eq(r.status, 200);
			ck_assert_uint_eq(r.body_len, 32768);
			crypto_generichash(h, 32, r.body, r.body_len, NULL, 0);
			ck_assert_msg(memcmp(h, ref[want], 32) == 0,
				      "connection %d, answer %d: the body "
				      "does not hash to its reference", k, i);
			response_free(&r);
		}
		client_free(c[k]);
	}
	ck_assert_int_eq(daemon_stop(&d), 0);
	daemon_free(&d);
}
END_TEST

#define BATCH_BLOCKS 16
#define BATCH_CONNS 12

/*
 * Block GETs queued together are read and verified in one batch (one
 * worker, no cache: every GET is a miss). Many connections pipeline GETs
 * of 1 KiB and 32 KiB blocks at once; every answer is 200 with the exact
 * bytes, and the two blocks corrupted in the store, asked for on
 * connections of their own in the same burst, are 500 naming R3.
 */
START_TEST(test_batched_gets)
{
	daemon_ d = { 0 };
	static uint8_t blk[BATCH_BLOCKS][32768];
	static char req[BATCH_BLOCKS * 160];
	char b32[BATCH_BLOCKS][53], urn[80];
	uint8_t ref[BATCH_BLOCKS][32];
	size_t len[BATCH_BLOCKS];
	client *c[BATCH_CONNS], *bad[2];
	const int corrupt[2] = { 3, 8 }; /* 32 KiB and 1 KiB */
	int i, k;

	daemon_start(&d, NULL); /* makes d.dir */
	ck_assert_int_eq(daemon_stop(&d), 0);
	snprintf(d.store, sizeof d.store, "dir:%s/blocks", d.dir);
	daemon_start(&d, "--writable", "--workers", "1", "--cache-size", "0",
		     NULL);
	for (i = 0; i < BATCH_BLOCKS; i++) {
		len[i] = i % 2 ? 1024 : 32768;
		make_block(blk[i], len[i], 7000 + (uint64_t)i, ref[i], b32[i]);
		ck_assert_int_eq(put_block(d.port, blk[i], len[i], b32[i],
					   NULL), 200);
	}
	for (i = 0; i < 2; i++)
		corrupt_block(d.dir, b32[corrupt[i]], blk[corrupt[i]],
			      len[corrupt[i]]);
	for (k = 0; k < BATCH_CONNS; k++) {
		size_t off = 0;

		c[k] = client_new(d.port);
		for (i = 0; i < BATCH_BLOCKS; i++) {
			int b = (i + k) % BATCH_BLOCKS;

			if (b == corrupt[0] || b == corrupt[1])
				continue;
			snprintf(urn, sizeof urn, "urn:blake2b:%s", b32[b]);
			off += (size_t)snprintf(req + off, sizeof req - off,
						"%s",
						get_req("GET", urn, NULL));
		}
		ck_assert_int_eq(send_all(c[k]->fd, req, off), 0);
	}
	for (i = 0; i < 2; i++) {
		bad[i] = client_new(d.port);
		snprintf(urn, sizeof urn, "urn:blake2b:%s", b32[corrupt[i]]);
		ck_assert_int_eq(send_all(bad[i]->fd, get_req("GET", urn, NULL),
					  strlen(get_req("GET", urn, NULL))),
				 0);
	}
	for (k = 0; k < BATCH_CONNS; k++) {
		for (i = 0; i < BATCH_BLOCKS; i++) {
			int b = (i + k) % BATCH_BLOCKS;
			response r;

			if (b == corrupt[0] || b == corrupt[1])
				continue;
			ck_assert_int_eq(read_response(c[k], &r, 0), 0);
			ck_assert_int_eq(r.status, 200);
			ck_assert_uint_eq(r.body_len, len[b]);
			ck_assert_mem_eq(r.body, blk[b], len[b]);
			response_free(&r);
		}
		client_free(c[k]);
	}
	for (i = 0; i < 2; i++) {
		response r;

		ck_assert_int_eq(read_response(bad[i], &r, 0), 0);
		ck_assert_int_eq(r.status, 500);
		ck_assert_ptr_nonnull(strstr((char *)r.body, "R3"));
		response_free(&r);
		client_free(bad[i]);
	}
	ck_assert_int_eq(daemon_stop(&d), 0);
	daemon_free(&d);
}
END_TEST

#define IO_CLIENTS 16

/* --io-threads 3: clients spread over three loops, each PUTting and
 * GETting (cached and not) on its kept-alive connection, all answers
 * right; SIGTERM with idle connections open still ends with status 0. */
START_TEST(test_io_threads)
{
	daemon_ d = { 0 };
	static uint8_t blk[IO_CLIENTS][1024];
	char b32[IO_CLIENTS][53];
	uint8_t ref[32];
	client *c[IO_CLIENTS];
	int i, round;

	daemon_start(&d, "--writable", "--io-threads", "3", "--cache-size",
		     "64K", NULL);
	for (i = 0; i < IO_CLIENTS; i++) {
		c[i] = client_new(d.port);
		make_block(blk[i], 1024, 7000 + (uint64_t)i, ref, b32[i]);
	}
	for (round = 0; round < 5; round++) {
		for (i = 0; i < IO_CLIENTS; i++) {
			const char *q = put_req(b32[i], 1024, NULL);
			response r;

			if (round == 0) {
				ck_assert_int_eq(send_all(c[i]->fd, q,
							  strlen(q)), 0);
				ck_assert_int_eq(send_all(c[i]->fd, blk[i],
							  1024), 0);
				ck_assert_int_eq(read_response(c[i], &r, 0),
						 0);
				ck_assert_int_eq(r.status, 200);
				response_free(&r);
			}
			/* Another client's block: written by another loop. */
			ck_assert_int_eq(get_on(c[i], "GET",
						b32[(i + round) % IO_CLIENTS],
						blk[(i + round) % IO_CLIENTS],
						1024), 200);
		}
	}
	ck_assert_int_eq(daemon_stop(&d), 0);
	for (i = 0; i < IO_CLIENTS; i++) {
		ck_assert(closed_by_server(c[i]));
		client_free(c[i]);
	}
	daemon_free(&d);
}
END_TEST

/* --max-connections: the third client waits until one of two leaves. */
START_TEST(test_max_connections)
{
	daemon_ d = { 0 };
	client *a, *b, *c;
	response r;
	struct pollfd p;
	const char *q = get_req("GET", "urn:blake2b:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", NULL);

	daemon_start(&d, "--max-connections", "2", NULL);
	a = client_new(d.port);
	b = client_new(d.port);
	ck_assert_int_eq(send_all(a->fd, q, strlen(q)), 0);
	ck_assert_int_eq(read_response(a, &r, 0), 0);
	response_free(&r);
	ck_assert_int_eq(send_all(b->fd, q, strlen(q)), 0);
	ck_assert_int_eq(read_response(b, &r, 0), 0);
	response_free(&r);
	c = client_new(d.port); /* completes in the kernel's backlog */
	ck_assert_int_eq(send_all(c->fd, q, strlen(q)), 0);
	p.fd = c->fd;
	p.events = POLLIN;
	ck_assert_int_eq(poll(&p, 1, 500), 0); /* not served */
	client_free(a);
	ck_assert_int_eq(read_response(c, &r, 0), 0);
	ck_assert_int_eq(r.status, 404);
	response_free(&r);
	client_free(b);
	client_free(c);
	ck_assert_int_eq(daemon_stop(&d), 0);
	daemon_free(&d);
}
END_TEST

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

START_TEST(test_timeouts)
{
	daemon_ d = { 0 };
	client *c;
	response r;
	double t0;
	int i;

	daemon_start(&d, "--header-timeout", "1", "--idle-timeout", "2",
		     NULL);
	/* Slowloris: a byte every 300 ms never completes the head. */
	c = client_new(d.port);
	t0 = now_s();
	for (i = 0; i < 4; i++) {
		static const char slow[] = "GET /uri-res/N2R?";

		ck_assert_int_eq(send_all(c->fd, slow + i, 1), 0);
		usleep(300000);
	}
	ck_assert_int_eq(read_response(c, &r, 0), 0);
	ck_assert_int_eq(r.status, 408);
	response_free(&r);
	ck_assert(closed_by_server(c));
	ck_assert(now_s() - t0 < 20.0); /* fired, not hung */
	client_free(c);
	/* Idle: no byte at all, closed after the idle timeout. */
	c = client_new(d.port);
	t0 = now_s();
	ck_assert(closed_by_server(c));
	ck_assert(now_s() - t0 > 1.5 && now_s() - t0 < 20.0);
	client_free(c);
	ck_assert_int_eq(daemon_stop(&d), 0);
	daemon_free(&d);
}
END_TEST

START_TEST(test_sigterm)
{
	daemon_ d = { 0 };
	static uint8_t blk[1024];
	uint8_t ref[32];
	char b32[53];
	client *idle, *busy;
	response r;
	const char *q;
	int status;

	daemon_start(&d, "--writable", NULL);
	make_block(blk, 1024, 55, ref, b32);
	idle = client_new(d.port);
	busy = client_new(d.port);
	q = put_req(b32, 1024, NULL);
	ck_assert_int_eq(send_all(busy->fd, q, strlen(q)), 0);
	ck_assert_int_eq(send_all(busy->fd, blk, 500), 0);
	usleep(200000);
	kill(d.pid, SIGTERM);
	usleep(200000);
	/* The idle connection is closed; the request in flight finishes. */
	ck_assert(closed_by_server(idle));
	ck_assert_int_eq(send_all(busy->fd, blk + 500, 524), 0);
	ck_assert_int_eq(read_response(busy, &r, 0), 0);
	ck_assert_int_eq(r.status, 200);
	response_free(&r);
	ck_assert(closed_by_server(busy));
	client_free(idle);
	client_free(busy);
	ck_assert_int_eq(waitpid(d.pid, &status, 0), d.pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	/* The block is durable. */
	daemon_start(&d, NULL);
	{
		char urn[80];

		snprintf(urn, sizeof urn, "urn:blake2b:%s", b32);
		ck_assert_int_eq(exchange(d.port, get_req("GET", urn, NULL),
					  NULL, 0, &r), 0);
		ck_assert_int_eq(r.status, 200);
		ck_assert_mem_eq(r.body, blk, 1024);
		response_free(&r);
	}
	ck_assert_int_eq(daemon_stop(&d), 0);
	daemon_free(&d);
}
END_TEST

/* ---- the load case ------------------------------------------------------ */

#define NCLIENTS 1000

START_TEST(test_concurrent)
{
	daemon_ d = { 0 };
	static uint8_t blk[1024];
	uint8_t ref[32];
	char b32[53], urn[80], req[1024];
	struct pollfd *pfd = calloc(NCLIENTS, sizeof *pfd);
	size_t *got = calloc(NCLIENTS, sizeof *got);
	int *done = calloc(NCLIENTS, sizeof *done), ndone = 0, i, rounds = 2;
	size_t want, reqlen;
	double t0;

	daemon_start(&d, "--writable", "--max-connections", "2000", NULL);
	make_block(blk, 1024, 9, ref, b32);
	ck_assert_int_eq(put_block(d.port, blk, 1024, b32, NULL), 200);
	snprintf(urn, sizeof urn, "urn:blake2b:%s", b32);
	snprintf(req, sizeof req, "%s", get_req("GET", urn, NULL));
	reqlen = strlen(req);
	{
		response r;

		ck_assert_int_eq(exchange(d.port, req, NULL, 0, &r), 0);
		want = strlen(r.head) + r.body_len;
		response_free(&r);
	}
	/* All connect first (blocking connects on loopback are quick),
	 * then each does `rounds` requests on its kept-alive connection. */
	for (i = 0; i < NCLIENTS; i++) {
		pfd[i].fd = connect_to(d.port);
		fcntl(pfd[i].fd, F_SETFL, O_NONBLOCK);
		ck_assert_int_eq(send_all(pfd[i].fd, req, reqlen), 0);
		pfd[i].events = POLLIN;
	}
	t0 = now_s();
	while (ndone < NCLIENTS) {
		ck_assert_msg(now_s() - t0 < 60, "only %d of %d done", ndone,
			      NCLIENTS);
		ck_assert_int_ge(poll(pfd, NCLIENTS, 1000), 0);
		for (i = 0; i < NCLIENTS; i++) {
			char b[4096];
			ssize_t n;

			if (done[i] || !(pfd[i].revents & (POLLIN | POLLHUP |
							   POLLERR)))
				continue;
			n = recv(pfd[i].fd, b, sizeof b, 0);
			ck_assert_msg(n > 0, "client %d: connection lost", i);
			got[i] += (size_t)n;
			/* A whole response: ask again, `rounds` times. */
			if (got[i] % want == 0 &&
			    got[i] < want * (size_t)rounds) {
				ck_assert_int_eq(send_all(pfd[i].fd, req,
							  reqlen), 0);
			}
			if (got[i] == want * (size_t)rounds) {
				done[i] = 1;
				ndone++;
				pfd[i].events = 0;
			}
		}
	}
	fprintf(stderr, "concurrent: %d clients x %d requests in %.2f s\n",
		NCLIENTS, rounds, now_s() - t0);
	for (i = 0; i < NCLIENTS; i++)
		close(pfd[i].fd);
	free(pfd);
	free(got);
	free(done);
	ck_assert_int_eq(daemon_stop(&d), 0);
	daemon_free(&d);
}
END_TEST

typedef struct writer {
	int port;
	uint64_t seed0;
	uint64_t acked; /* blocks seed0 .. seed0 + acked - 1 acknowledged */
} writer;

static void *writer_main(void *arg)
{
	writer *w = arg;
	static _Thread_local uint8_t blk[1024];
	uint8_t ref[32];
	char b32[53];
	client *c = calloc(1, sizeof *c);
	struct sockaddr_in a;
	response r;

	c->fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)w->port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(c->fd, (struct sockaddr *)&a, sizeof a) == 0) {
		for (;;) {
			const char *q;

			make_block(blk, 1024, w->seed0 + w->acked, ref, b32);
			q = put_req(b32, 1024, NULL);
			if (send_all(c->fd, q, strlen(q)) < 0 ||
			    send_all(c->fd, blk, 1024) < 0 ||
			    read_response(c, &r, 0) < 0)
				break;
			response_free(&r);
			if (r.status != 200)
				break;
			w->acked++;
		}
	}
	close(c->fd);
	free(c);
	return NULL;
}

START_TEST(test_kill9)
{
	daemon_ d = { 0 };
	writer w[16];
	pthread_t t[16];
	static uint8_t blk[1024];
	uint8_t ref[32];
	char b32[53], urn[80];
	uint64_t total = 0, j;
	response r;
	int i;

	daemon_start(&d, "--writable", NULL);
	for (i = 0; i < 16; i++) {
		w[i].port = d.port;
		w[i].seed0 = 1000000u * (uint64_t)(i + 1);
		w[i].acked = 0;
		pthread_create(&t[i], NULL, writer_main, &w[i]);
	}
	sleep(2);
	kill(d.pid, SIGKILL);
	waitpid(d.pid, NULL, 0);
	for (i = 0; i < 16; i++) {
		pthread_join(t[i], NULL);
		total += w[i].acked;
	}
	ck_assert_msg(total > 10, "only %llu blocks written",
		      (unsigned long long)total);
	fprintf(stderr, "kill9: %llu PUTs acknowledged before SIGKILL\n",
		(unsigned long long)total);
	daemon_start(&d, NULL);
	for (i = 0; i < 16; i++) {
		for (j = 0; j < w[i].acked; j++) {
			make_block(blk, 1024, w[i].seed0 + j, ref, b32);
			snprintf(urn, sizeof urn, "urn:blake2b:%s", b32);
			ck_assert_int_eq(exchange(d.port,
						  get_req("GET", urn, NULL),
						  NULL, 0, &r), 0);
			ck_assert_msg(r.status == 200, "acknowledged block "
				      "%d/%llu lost", i, (unsigned long long)j);
			ck_assert_mem_eq(r.body, blk, 1024);
			response_free(&r);
		}
	}
	ck_assert_int_eq(daemon_stop(&d), 0);
	daemon_free(&d);
}
END_TEST

static int have_io_uring(void)
{
	struct io_uring ring;
	int rc = io_uring_queue_init(4, &ring, 0);

	if (rc < 0) {
		fprintf(stderr, "SKIP: io_uring is unavailable here (%s)\n",
			strerror(-rc));
		return 0;
	}
	io_uring_queue_exit(&ring);
	return 1;
}

int main(void)
{
	Suite *s = suite_create("erisd-http");
	TCase *tc = tcase_create("http"), *load = tcase_create("load");
	SRunner *sr;
	struct rlimit rl;
	int failed;

	if (!have_io_uring())
		return 77;
	if (sodium_init() < 0)
		return 1;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	signal(SIGPIPE, SIG_IGN);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_roundtrip);
	tcase_add_test(tc, test_statuses);
	tcase_add_test(tc, test_content);
	tcase_add_test(tc, test_pipelining);
	tcase_add_test(tc, test_timeouts);
	tcase_add_test(tc, test_sigterm);
	tcase_add_test(tc, test_continue_refused);
	tcase_add_test(tc, test_corrupt);
	tcase_add_test(tc, test_cache);
	tcase_add_test(tc, test_cache_admission);
	tcase_add_test(tc, test_cache_recycle);
	tcase_add_test(tc, test_batched_gets);
	tcase_add_test(tc, test_io_threads);
	tcase_add_test(tc, test_max_connections);
	suite_add_tcase(s, tc);
	tcase_set_timeout(load, 120);
	tcase_add_test(load, test_concurrent);
	tcase_add_test(load, test_kill9);
	suite_add_tcase(s, load);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
