/*
 * http.c - the HTTP client store (http://HOST:PORT[/PREFIX]) against a
 * real web server: test_http NGINX.
 *
 * Why: the client must speak "ERIS over HTTP" to servers it did not come
 * with. A stock nginx serving a directory store (DIR/XX/REF, as the dir:
 * store writes it) is the simplest such server: a map turns the query
 * "urn:blake2b:XXrest" into the file /XX/XXrest. nginx answers GET and
 * HEAD only; everything else gets 405, which is how the client's
 * refused-write path is tested.
 *
 * main() fills the directory with the library, writes an nginx.conf into
 * a temporary directory (pid file, logs and temp paths all inside it, so
 * it runs as root without touching /var), starts nginx on a free
 * loopback port (bound to port 0 first to find one; retried if nginx
 * loses the race), runs the Check cases and then kills nginx and removes
 * the directory whatever the cases did. Watchdogs: nginx gets SIGKILL
 * when this process dies (PR_SET_PDEATHSIG), and an alarm kills both
 * after WATCHDOG_SECONDS. All traffic goes to 127.0.0.1.
 *
 * Exit 77 (skipped) only when NGINX is empty or not executable.
 *
 * The conformance suite (tests/store) needs a writable store, which this
 * read-only server is not; an http:// conformance run belongs with erisd.
 */
#define _GNU_SOURCE /* nftw, prctl */
#include "testutil.h"

#include <sodium.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define WATCHDOG_SECONDS 120
#define CONTENT_32K (1000 * 1000 + 123)
#define CONTENT_1K (70 * 1000 + 7)
#define N_LOOSE 24 /* loose 1 KiB blocks for the get_many case */

static char basedir[4096];
static char storedir[4200];
static int port;
static volatile pid_t nginx_pid = -1;

/* What main() put into the store. */
static eris_read_cap cap_32k, cap_1k, cap_missing;
static uint8_t loose_refs[N_LOOSE][ERIS_REF_BYTES];
static uint8_t corrupt_ref[ERIS_REF_BYTES];
static uint8_t oversized_ref[ERIS_REF_BYTES];
static uint8_t absent_ref[ERIS_REF_BYTES];

/* ----------------------------------------------------------------------
 * Helpers
 */

static void block_path(char *out, size_t size, const uint8_t *ref)
{
	char name[ERIS_REF_BASE32_LEN + 1];

	eris_base32_encode(name, ref, ERIS_REF_BYTES);
	snprintf(out, size, "%s/%.2s/%s", storedir, name, name);
}

static void write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	if (f == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
		fprintf(stderr, "cannot write %s: %s\n", path,
			strerror(errno));
		exit(1);
	}
}

static void store_url(char *out, size_t size, const char *prefix)
{
	snprintf(out, size, "http://127.0.0.1:%d%s", port, prefix);
}

static eris_store *open_http(const char *prefix)
{
	char url[256];
	eris_store *s = NULL;
	int rc;

	store_url(url, sizeof(url), prefix);
	rc = eris_store_open(&s, url, 0);
	ck_assert_eris(rc, ERIS_OK);
	return s;
}

/* Decode all of `cap` through `s` and compare with the generator. */
static void check_content(eris_store *s, const eris_read_cap *cap,
			  size_t len, uint64_t seed)
{
	eris_decoder *dec = NULL;
	uint8_t *got = malloc(len + 1), *want = malloc(len);
	size_t n = 0;
	int rc;

	ck_assert_ptr_nonnull(got);
	ck_assert_ptr_nonnull(want);
	fill_random(want, len, seed, 0);
	rc = eris_decoder_new(&dec, s, cap);
	ck_assert_eris(rc, ERIS_OK);
	ck_assert_uint_eq(eris_decoder_length(dec), len);
	rc = eris_decoder_pread(dec, got, len + 1, 0, &n);
	ck_assert_eris(rc, ERIS_OK);
	ck_assert_uint_eq(n, len);
	ck_assert(memcmp(got, want, len) == 0);
	eris_decoder_free(dec);
	free(got);
	free(want);
}

/* ----------------------------------------------------------------------
 * Cases
 */

START_TEST(decode_32k)
{
	eris_store *s = open_http("");
	uint64_t blocks = 0;

	check_content(s, &cap_32k, CONTENT_32K, 1);
	ck_assert_eris(eris_verify(s, &cap_32k, &blocks, NULL, NULL),
		       ERIS_OK);
	ck_assert_uint_gt(blocks, 30);
	eris_store_free(s);
}
END_TEST

START_TEST(decode_1k)
{
	eris_store *s = open_http("");

	check_content(s, &cap_1k, CONTENT_1K, 2);
	eris_store_free(s);
}
END_TEST

START_TEST(prefix)
{
	eris_store *s = open_http("/eris/");
	uint8_t buf[ERIS_BLOCK_SIZE_1K];
	size_t len = 0;

	check_content(s, &cap_1k, CONTENT_1K, 2);
	eris_store_free(s);
	/* A prefix the server does not serve: 404, so "not found". */
	s = open_http("/nothing-here");
	ck_assert_eris(eris_store_get(s, loose_refs[0], buf, sizeof(buf),
				      &len),
		       ERIS_ENOTFOUND);
	eris_store_free(s);
}
END_TEST

/* A 404 with a long error page (5000 bytes, then 100000): still "not
 * found", even into a 1 KiB buffer. */
START_TEST(long_error_page)
{
	static const char *const prefixes[] = {"/bigerr", "/hugeerr"};
	uint8_t buf[ERIS_BLOCK_SIZE_1K];
	size_t len = 0;

	for (int i = 0; i < 2; i++) {
		eris_store *s = open_http(prefixes[i]);

		ck_assert_eris(eris_store_get(s, loose_refs[0], buf,
					      sizeof(buf), &len),
			       ERIS_ENOTFOUND);
		ck_assert_int_eq(eris_store_has(s, loose_refs[0]), 0);
		eris_store_free(s);
	}
}
END_TEST

/* The options' bearer_token is sent as a bearer token; the library
 * reads no environment (ERIS_HTTP_TOKEN is the programs' business). */
START_TEST(token)
{
	eris_store_options opts = ERIS_STORE_OPTIONS_INIT;
	uint8_t buf[ERIS_BLOCK_SIZE_1K];
	size_t len = 0;
	char url[256];
	eris_store *s;

	setenv("ERIS_HTTP_TOKEN", "t0ken", 1);
	s = open_http("/auth");
	unsetenv("ERIS_HTTP_TOKEN");
	ck_assert_eris(eris_store_get(s, loose_refs[0], buf, sizeof(buf),
				      &len),
		       ERIS_ERROR);
	ck_assert_ptr_nonnull(strstr(eris_error_last(), "401"));
	eris_store_free(s);
	opts.bearer_token = "t0ken";
	store_url(url, sizeof(url), "/auth");
	ck_assert_eris(eris_store_open_opts(&s, url, &opts), ERIS_OK);
	ck_assert_eris(eris_store_get(s, loose_refs[0], buf, sizeof(buf),
				      &len),
		       ERIS_OK);
	ck_assert_int_eq(eris_store_has(s, loose_refs[0]), 1);
	eris_store_free(s);
}
END_TEST

START_TEST(has)
{
	eris_store *s = open_http("");

	ck_assert_int_eq(eris_store_has(s, loose_refs[0]), 1);
	ck_assert_int_eq(eris_store_has(s, cap_32k.root_ref), 1);
	ck_assert_int_eq(eris_store_has(s, absent_ref), 0);
	eris_store_free(s);
}
END_TEST

/* The back end's batch directly: per-block results in one call. */
START_TEST(get_many_mixed)
{
	enum { N = N_LOOSE + 3 };
	eris_store *s = open_http("");
	eris_store_backend *b = test_backend_of(s);
	uint8_t refs[N][ERIS_REF_BYTES];
	uint8_t *bufs[N];
	size_t lens[N];
	int results[N];
	uint8_t digest[ERIS_REF_BYTES];

	for (int i = 0; i < N_LOOSE; i++)
		memcpy(refs[i], loose_refs[i], ERIS_REF_BYTES);
	memcpy(refs[N_LOOSE], absent_ref, ERIS_REF_BYTES);
	memcpy(refs[N_LOOSE + 1], oversized_ref, ERIS_REF_BYTES);
	memcpy(refs[N_LOOSE + 2], loose_refs[3], ERIS_REF_BYTES);
	for (int i = 0; i < N; i++) {
		bufs[i] = malloc(ERIS_BLOCK_SIZE_32K);
		ck_assert_ptr_nonnull(bufs[i]);
	}
	ck_assert_ptr_nonnull(b->get_many);
	ck_assert_eris(b->get_many(b, N, (const uint8_t(*)[ERIS_REF_BYTES])refs,
				   bufs, ERIS_BLOCK_SIZE_32K, lens, results),
		       ERIS_OK);
	for (int i = 0; i < N; i++) {
		if (i == N_LOOSE) {
			ck_assert_int_eq(results[i], ERIS_ENOTFOUND);
		} else if (i == N_LOOSE + 1) {
			ck_assert_int_eq(results[i], ERIS_EBLOCKSIZE);
		} else {
			ck_assert_int_eq(results[i], ERIS_OK);
			ck_assert_uint_eq(lens[i], ERIS_BLOCK_SIZE_1K);
			crypto_generichash(digest, sizeof(digest), bufs[i],
					   lens[i], NULL, 0);
			ck_assert_mem_eq(digest, refs[i], ERIS_REF_BYTES);
		}
		free(bufs[i]);
	}
	eris_store_free(s);
}
END_TEST

/* Read many.log, the access log of the /many prefix that only
 * parallel_reuse uses, from `*offset` on: the number of GET lines and
 * the distinct connection numbers (into seen[256]). */
static void log_since(long *offset, int *gets, int *conns, long *seen)
{
	char path[4300], method[16];
	long conn;
	int status, n_seen = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/many.log", basedir);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fseek(f, *offset, SEEK_SET), 0);
	*gets = 0;
	while (fscanf(f, "%ld %15s %d", &conn, method, &status) == 3) {
		int known = 0;

		if (strcmp(method, "GET") == 0)
			(*gets)++;
		for (int i = 0; i < n_seen; i++)
			known |= seen[i] == conn;
		if (!known && n_seen < 256)
			seen[n_seen++] = conn;
	}
	*offset = ftell(f);
	*conns = n_seen;
	fclose(f);
}

/* log_since() once the log holds at least `want` GET lines after
 * `*offset`. nginx writes a request's log line after it has sent the
 * response, so the client can hold every block before the last lines
 * are in the log: wait for them (up to a minute, a bound on a hang, not a
 * speed requirement), then count. */
static void log_wait(long *offset, int want, int *gets, int *conns,
		     long *seen)
{
	long start = *offset;

	for (int tries = 0; tries < 6000; tries++) {
		*offset = start;
		log_since(offset, gets, conns, seen);
		if (*gets >= want)
			return;
		usleep(10 * 1000);
	}
}

/* get_many runs transfers in parallel (several connections at once, at
 * most 16) and keeps the connections for the next batch. */
START_TEST(parallel_reuse)
{
	eris_store *s = open_http("/many");
	eris_store_backend *b = test_backend_of(s);
	uint8_t *bufs[N_LOOSE];
	size_t lens[N_LOOSE];
	int results[N_LOOSE], gets, conns1, conns2;
	long offset = 0, seen1[256], seen2[256];

	for (int i = 0; i < N_LOOSE; i++) {
		bufs[i] = malloc(ERIS_BLOCK_SIZE_1K);
		ck_assert_ptr_nonnull(bufs[i]);
	}
	log_since(&offset, &gets, &conns1, seen1);
	ck_assert_eris(b->get_many(b, N_LOOSE,
				   (const uint8_t(*)[ERIS_REF_BYTES])loose_refs,
				   bufs, ERIS_BLOCK_SIZE_1K, lens, results),
		       ERIS_OK);
	log_wait(&offset, N_LOOSE, &gets, &conns1, seen1);
	ck_assert_int_eq(gets, N_LOOSE);
	ck_assert_int_gt(conns1, 1);
	ck_assert_int_le(conns1, 16);
	ck_assert_eris(b->get_many(b, N_LOOSE,
				   (const uint8_t(*)[ERIS_REF_BYTES])loose_refs,
				   bufs, ERIS_BLOCK_SIZE_1K, lens, results),
		       ERIS_OK);
	log_wait(&offset, N_LOOSE, &gets, &conns2, seen2);
	ck_assert_int_eq(gets, N_LOOSE);
	/* No new connection: the second batch reused the first's. */
	for (int i = 0; i < conns2; i++) {
		int reused = 0;

		for (int j = 0; j < conns1; j++)
			reused |= seen2[i] == seen1[j];
		ck_assert_msg(reused, "connection %ld is new", seen2[i]);
	}
	for (int i = 0; i < N_LOOSE; i++) {
		ck_assert_int_eq(results[i], ERIS_OK);
		free(bufs[i]);
	}
	eris_store_free(s);
}
END_TEST

/* R1 through the decoder: one leaf's file is gone. */
START_TEST(missing_block)
{
	eris_store *s = open_http("");
	eris_decoder *dec = NULL;
	uint8_t *buf = malloc(CONTENT_32K);
	size_t n = 0;
	int rc;

	ck_assert_ptr_nonnull(buf);
	rc = eris_decoder_new(&dec, s, &cap_missing);
	if (rc == ERIS_OK) {
		rc = eris_decoder_pread(dec, buf, CONTENT_32K, 0, &n);
		eris_decoder_free(dec);
	}
	ck_assert_eris(rc, ERIS_ENOTFOUND);
	ck_assert_str_eq(eris_error_rule(rc), "R1");
	free(buf);
	eris_store_free(s);
}
END_TEST

/* The server hands out a wrong block: the client does not trust it. */
START_TEST(corrupt_block)
{
	eris_store *s = open_http("");
	uint8_t buf[ERIS_BLOCK_SIZE_32K];
	size_t len = 0;

	ck_assert_eris(eris_store_get(s, corrupt_ref, buf, sizeof(buf), &len),
		       ERIS_EMISMATCH);
	eris_store_free(s);
}
END_TEST

START_TEST(oversized_block)
{
	eris_store *s = open_http("");
	uint8_t *buf = malloc(ERIS_BLOCK_SIZE_32K);
	size_t len = 0;
	int rc;

	ck_assert_ptr_nonnull(buf);
	/* 40000 bytes on the server. */
	rc = eris_store_get(s, oversized_ref, buf, ERIS_BLOCK_SIZE_32K, &len);
	ck_assert_eris(rc, ERIS_EBLOCKSIZE);
	ck_assert_ptr_nonnull(strstr(eris_error_last(), "larger than"));
	/* A 32 KiB block into a 1 KiB buffer. */
	rc = eris_store_get(s, cap_32k.root_ref, buf, ERIS_BLOCK_SIZE_1K,
			    &len);
	ck_assert_eris(rc, ERIS_EBLOCKSIZE);
	/* The store still works afterwards. */
	rc = eris_store_get(s, cap_32k.root_ref, buf, ERIS_BLOCK_SIZE_32K,
			    &len);
	ck_assert_eris(rc, ERIS_OK);
	free(buf);
	eris_store_free(s);
}
END_TEST

START_TEST(put_refused)
{
	eris_store *s = open_http("");
	uint8_t block[ERIS_BLOCK_SIZE_1K], ref[ERIS_REF_BYTES];
	int rc;

	fill_random(block, sizeof(block), 99, 0);
	crypto_generichash(ref, sizeof(ref), block, sizeof(block), NULL, 0);
	rc = eris_store_put(s, ref, block, sizeof(block));
	ck_assert_eris(rc, ERIS_EREADONLY);
	ck_assert_ptr_nonnull(strstr(eris_error_last(), "HTTP 405"));
	ck_assert_eris(eris_store_flush(s), ERIS_OK);
	eris_store_free(s);
}
END_TEST

START_TEST(unsupported)
{
	eris_store *s = open_http("");

	ck_assert_eris(eris_store_remove(s, loose_refs[0]), ERIS_ENOTSUP);
	ck_assert_int_eq(eris_store_has(s, loose_refs[0]), 1);
	eris_store_free(s);
}
END_TEST

/* Nothing listens: a clear ERIS_ERROR naming the URL. */
START_TEST(server_down)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	char url[128];
	eris_store *s = NULL;
	uint8_t buf[ERIS_BLOCK_SIZE_1K];
	size_t len = 0;
	int fd = socket(AF_INET, SOCK_STREAM, 0), rc;

	/* A port that was free a moment ago and is closed now. */
	ck_assert_int_ge(fd, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
	close(fd);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d",
		 ntohs(sa.sin_port));
	ck_assert_eris(eris_store_open(&s, url, 0), ERIS_OK);
	rc = eris_store_get(s, loose_refs[0], buf, sizeof(buf), &len);
	ck_assert_eris(rc, ERIS_ERROR);
	ck_assert_msg(strstr(eris_error_last(), url) != NULL,
		      "message does not name %s: %s", url, eris_error_last());
	ck_assert_eris(eris_store_has(s, loose_refs[0]), ERIS_ERROR);
	ck_assert_eris(eris_decoder_new(&(eris_decoder *){NULL}, s, &cap_1k),
		       ERIS_ERROR);
	eris_store_free(s);
}
END_TEST

START_TEST(bad_specs)
{
	static const char *const bad[] = {
		"http://", "https://", "http:///path",
		"http://user:secret@127.0.0.1:1", "http://127.0.0.1:1/?x",
		"http://127.0.0.1:1/#x",
	};
	eris_store *s = NULL;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = eris_store_open(&s, bad[i], 0);

		ck_assert_msg(rc == ERIS_ESTORE, "%s: got %d: %s", bad[i], rc,
			      eris_error_last());
		ck_assert_ptr_null(s);
	}
	ck_assert_eris(eris_store_new_http(&s, "ftp://x"), ERIS_ESTORE);
	/* A good one makes no request on open. */
	ck_assert_eris(eris_store_open(&s, "https://127.0.0.1:1/p/", 0),
		       ERIS_OK);
	eris_store_free(s);
}
END_TEST

/* ----------------------------------------------------------------------
 * Fixture: the content, nginx, teardown
 */

static int remove_entry(const char *path, const struct stat *st, int flag,
			struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	chmod(path, 0700);
	return remove(path);
}

static void stop_nginx(void)
{
	pid_t pid = nginx_pid;

	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		nginx_pid = -1;
	}
}

static void on_alarm(int sig)
{
	static const char msg[] = "test_http: watchdog: giving up\n";

	(void)sig;
	if (nginx_pid > 0)
		kill(nginx_pid, SIGKILL);
	if (write(2, msg, sizeof(msg) - 1) < 0)
		_exit(1);
	_exit(1);
}

static int free_port(void)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0), p = -1;

	if (fd < 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sa, &sl) == 0)
		p = ntohs(sa.sin_port);
	close(fd);
	return p;
}

static int port_open(int p)
{
	struct sockaddr_in sa;
	int fd = socket(AF_INET, SOCK_STREAM, 0), ok;

	if (fd < 0)
		return 0;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)p);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return ok;
}

static void write_conf(const char *path, int p)
{
	FILE *f = fopen(path, "w");
	const char *d = basedir;

	if (f == NULL) {
		perror(path);
		exit(1);
	}
	fprintf(f,
		"daemon off;\n"
		"master_process off;\n"
		"worker_processes 1;\n"
		"pid %s/nginx.pid;\n"
		"error_log %s/error.log;\n"
		"events { worker_connections 64; }\n"
		"http {\n"
		"  log_format eris \"$connection $request_method $status\";\n"
		"  access_log %s/access.log eris;\n"
		"  client_body_temp_path %s/tmp/body;\n"
		"  proxy_temp_path %s/tmp/proxy;\n"
		"  fastcgi_temp_path %s/tmp/fastcgi;\n"
		"  uwsgi_temp_path %s/tmp/uwsgi;\n"
		"  scgi_temp_path %s/tmp/scgi;\n"
		"  types { }\n"
		"  default_type application/octet-stream;\n"
		"  map $args $eris_block {\n"
		"    \"~^urn:blake2b:(?<xx>[A-Z2-7]{2})(?<rest>[A-Z2-7]{50})$\""
		" /$xx/$xx$rest;\n"
		"    default \"\";\n"
		"  }\n"
		"  server {\n"
		"    listen 127.0.0.1:%d;\n"
		"    root %s;\n"
		"    location = /uri-res/N2R {\n"
		"      if ($request_method !~ ^(GET|HEAD)$) { return 405; }\n"
		"      try_files $eris_block =404;\n"
		"    }\n"
		"    location = /many/uri-res/N2R {\n"
		"      access_log %s/many.log eris;\n"
		"      try_files $eris_block =404;\n"
		"    }\n"
		"    location = /eris/uri-res/N2R {\n"
		"      if ($request_method !~ ^(GET|HEAD)$) { return 405; }\n"
		"      try_files $eris_block =404;\n"
		"    }\n"
		"    location = /auth/uri-res/N2R {\n"
		"      if ($http_authorization != \"Bearer t0ken\") {\n"
		"        return 401;\n"
		"      }\n"
		"      try_files $eris_block =404;\n"
		"    }\n"
		"    location = /bigerr/uri-res/N2R {\n"
		"      error_page 404 /big404; return 404;\n"
		"    }\n"
		"    location = /hugeerr/uri-res/N2R {\n"
		"      error_page 404 /huge404; return 404;\n"
		"    }\n"
		"    location = /big404 { internal; root %s; }\n"
		"    location = /huge404 { internal; root %s; }\n"
		"    location / { return 404; }\n"
		"  }\n"
		"}\n",
		d, d, d, d, d, d, d, d, p, storedir, d, d, d);
	if (fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

/* Start nginx on a free port; retried a few times (the port may be taken
 * between finding it and nginx binding it). */
static int start_nginx(const char *nginx)
{
	char conf[4300], errlog[4300], pdir[4300];

	snprintf(conf, sizeof(conf), "%s/nginx.conf", basedir);
	snprintf(errlog, sizeof(errlog), "%s/error.log", basedir);
	snprintf(pdir, sizeof(pdir), "%s/", basedir);
	for (int attempt = 0; attempt < 5; attempt++) {
		pid_t pid;
		int status;

		port = free_port();
		if (port < 0)
			continue;
		write_conf(conf, port);
		pid = fork();
		if (pid < 0)
			return -1;
		if (pid == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			execl(nginx, nginx, "-p", pdir, "-e", errlog, "-c",
			      conf, (char *)NULL);
			_exit(127);
		}
		nginx_pid = pid;
		/* Up to 10 s for it to listen. */
		for (int i = 0; i < 200; i++) {
			if (waitpid(pid, &status, WNOHANG) == pid) {
				nginx_pid = -1;
				break;
			}
			if (port_open(port))
				return 0;
			nanosleep(&(struct timespec){0, 50 * 1000 * 1000},
				  NULL);
		}
		stop_nginx();
		fprintf(stderr, "test_http: nginx did not start on port %d "
				"(attempt %d); see %s\n",
			port, attempt + 1, errlog);
	}
	return -1;
}

static void make_content(void)
{
	eris_encode_options o32 = ERIS_ENCODE_OPTIONS_INIT;
	eris_encode_options o1 = ERIS_ENCODE_OPTIONS_INIT;
	eris_store *dir = NULL;
	uint8_t *data = malloc(CONTENT_32K), block[ERIS_BLOCK_SIZE_1K];
	char path[4400], tmp[4400];
	int rc;

	snprintf(storedir, sizeof(storedir), "%s/store", basedir);
	snprintf(tmp, sizeof(tmp), "%s/tmp", basedir);
	if (data == NULL || mkdir(tmp, 0700) != 0 ||
	    eris_store_open(&dir, storedir, 1) != ERIS_OK) {
		fprintf(stderr, "test_http: setup failed: %s\n",
			eris_error_last());
		exit(1);
	}
	o1.block_size = ERIS_BLOCK_SIZE_1K;
	fill_random(data, CONTENT_32K, 1, 0);
	rc = eris_encode(&cap_32k, dir, &o32, data, CONTENT_32K);
	fill_random(data, CONTENT_1K, 2, 0);
	if (rc == ERIS_OK)
		rc = eris_encode(&cap_1k, dir, &o1, data, CONTENT_1K);
	/* Content with one leaf missing: 3 leaves, delete the first (the
	 * root and the last leaf are read on open). */
	fill_random(data, 3 * ERIS_BLOCK_SIZE_32K, 3, 0);
	if (rc == ERIS_OK)
		rc = eris_encode(&cap_missing, dir, &o32, data,
				 3 * ERIS_BLOCK_SIZE_32K - 100);
	for (int i = 0; rc == ERIS_OK && i < N_LOOSE; i++) {
		fill_random(block, sizeof(block), 100 + (uint64_t)i, 0);
		crypto_generichash(loose_refs[i], ERIS_REF_BYTES, block,
				   sizeof(block), NULL, 0);
		rc = eris_store_put(dir, loose_refs[i], block, sizeof(block));
	}
	/* A block whose file is then corrupted. */
	fill_random(block, sizeof(block), 200, 0);
	crypto_generichash(corrupt_ref, ERIS_REF_BYTES, block, sizeof(block),
			   NULL, 0);
	if (rc == ERIS_OK)
		rc = eris_store_put(dir, corrupt_ref, block, sizeof(block));
	if (rc != ERIS_OK) {
		fprintf(stderr, "test_http: encoding failed: %s\n",
			eris_error_last());
		exit(1);
	}
	eris_store_free(dir);
	block_path(path, sizeof(path), corrupt_ref);
	block[17] ^= 0x40;
	chmod(path, 0644);
	write_file(path, block, sizeof(block));

	/* 40000 bytes under some reference. */
	fill_random(data, 40000, 300, 0);
	crypto_generichash(oversized_ref, ERIS_REF_BYTES, data, 40000, NULL,
			   0);
	block_path(path, sizeof(path), oversized_ref);
	path[strlen(path) - ERIS_REF_BASE32_LEN - 1] = '\0';
	mkdir(path, 0755);
	block_path(path, sizeof(path), oversized_ref);
	write_file(path, data, 40000);

	/* Long error pages for the /bigerr and /hugeerr prefixes. */
	snprintf(path, sizeof(path), "%s/big404", basedir);
	write_file(path, data, 5000);
	snprintf(path, sizeof(path), "%s/huge404", basedir);
	write_file(path, data, 100000);

	/* Never stored. */
	fill_random(absent_ref, ERIS_REF_BYTES, 400, 0);
	free(data);
}

/* Delete the first leaf of cap_missing (the root and the last leaf are
 * read on open, the first leaf only when the content is read). */
static int first_leaf(const uint8_t ref[ERIS_REF_BYTES], unsigned level,
		      void *payload)
{
	if (level != 0)
		return 0;
	memcpy(payload, ref, ERIS_REF_BYTES);
	return 1; /* stop */
}

static void drop_first_leaf(void)
{
	eris_store *dir = NULL;
	uint8_t leaf[ERIS_REF_BYTES];
	char path[4400];

	if (eris_store_open(&dir, storedir, 0) != ERIS_OK ||
	    eris_walk(dir, &cap_missing, first_leaf, leaf) != 1) {
		fprintf(stderr, "test_http: cannot walk: %s\n",
			eris_error_last());
		exit(1);
	}
	eris_store_free(dir);
	block_path(path, sizeof(path), leaf);
	if (unlink(path) != 0) {
		perror(path);
		exit(1);
	}
}

static Suite *http_suite(void)
{
	Suite *s = suite_create("http");
	TCase *tc = tcase_create("http");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, decode_32k);
	tcase_add_test(tc, decode_1k);
	tcase_add_test(tc, prefix);
	tcase_add_test(tc, long_error_page);
	tcase_add_test(tc, token);
	tcase_add_test(tc, has);
	tcase_add_test(tc, get_many_mixed);
	tcase_add_test(tc, parallel_reuse);
	tcase_add_test(tc, missing_block);
	tcase_add_test(tc, corrupt_block);
	tcase_add_test(tc, oversized_block);
	tcase_add_test(tc, put_refused);
	tcase_add_test(tc, unsupported);
	tcase_add_test(tc, server_down);
	tcase_add_test(tc, bad_specs);
	suite_add_tcase(s, tc);
	return s;
}

int main(int argc, char **argv)
{
	const char *tmp = getenv("TMPDIR");
	int rc;

	if (argc < 2 || argv[1][0] == '\0' || access(argv[1], X_OK) != 0) {
		printf("SKIP: nginx is not installed (tools/install-deps.sh "
		       "installs it); the HTTP store tests need it\n");
		return 77;
	}
	if (eris_init() != ERIS_OK || sodium_init() < 0)
		return 1;
	snprintf(basedir, sizeof(basedir), "%s/eris-http-XXXXXX",
		 tmp && tmp[0] ? tmp : "/tmp");
	if (mkdtemp(basedir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	signal(SIGALRM, on_alarm);
	alarm(WATCHDOG_SECONDS);
	make_content();
	drop_first_leaf();
	if (start_nginx(argv[1]) < 0) {
		fprintf(stderr, "test_http: cannot start %s\n", argv[1]);
		nftw(basedir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
		return 1;
	}
	rc = run_suite(http_suite());
	stop_nginx();
	alarm(0);
	if (rc != 0) {
		/* Keep the server's logs for the failure report. */
		char log[4300];

		snprintf(log, sizeof(log), "%s/error.log", basedir);
		fprintf(stderr, "test_http: nginx error log %s follows\n",
			log);
		FILE *f = fopen(log, "r");
		if (f) {
			int c;

			while ((c = getc(f)) != EOF)
				putc(c, stderr);
			fclose(f);
		}
	}
	nftw(basedir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	return rc;
}
