/*
 * conformance.c - one set of store cases, run against whichever store the
 * command line names: test_store_conformance SPEC.
 *
 * Why: every back end (mem, dir, sqlite, cbor, http, coap, and the
 * cache/fallback composites over them) must keep the same contract
 * (store.h, sys/store_backend.h), and the only honest way to know is to
 * run the same cases with the same expected codes against each. CMake
 * registers one ctest test per specification (tests/store/CMakeLists.txt),
 * and builds this file twice: against the shared liberis, which loads
 * the back ends with a third-party dependency from their module files
 * with dlopen, and against the static liberis, which has them built in
 * (test_store_conformance_static); test_module_route checks which way
 * each build reached them.
 *
 * SPEC is a store specification opened as the programs open one
 * (eris_store_open_opts() with progenv_store_options(): the AWS_*
 * variables reach s3:// stores), in which
 * every "%T" stands for a fresh temporary directory, made per case
 * (mkdtemp under $TMPDIR or /tmp) and removed afterwards, every "%N" for
 * a name unique to the case (s3://BUCKET/%N: each case its own prefix in
 * a shared bucket), and "%{http}",
 * "%{coap}", "%{coap+tcp}" for the URL of a real erisd (ERISD_BIN) that
 * each case starts on loopback ports, serving dir:%T/server, e.g.
 * "sqlite:%T/x.sqlite", "cache:mem:,cache:dir:%T/a\,dir:%T/b" or
 * "fallback:dir:%T/a,%{coap}". The run exits 77 (skipped) when erisd
 * cannot run here (no io_uring). "%N" stands for a name unique to the
 * case, for stores shared by every case of a run: a RADOS namespace of
 * one test cluster ("rados:eris?conf=...&namespace=%N").
 *
 * What the specification implies (see `traits`):
 *   - cbor: is read-only. Its cases get their blocks from a bundle written
 *     beforehand (write_bundle) and check the read side; put and remove
 *     must say ERIS_EREADONLY.
 *   - s3:// keeps blocks as objects on a server: the on-disk corruption
 *     is made by replacing the object through the back end instead.
 *   - a remote store (http://, coap://, coap+tcp://) cannot list or
 *     remove, nor can a fallback: with a remote member: the cases that
 *     list or remove check that foreach and remove say ERIS_ENOTSUP.
 *   - a store is persistent when no member is mem: (erisd's store
 *     outlives the client); only those get the reopen case.
 *   - cache: removes from LOCAL only, so a removed block comes back from
 *     REMOTE on the next get (documented in liberis/stores/compose.c).
 *   - dir: (or a bare path) also gets a case for what its listing skips.
 *   - rados: keeps its blocks in a cluster, not in files of the case's
 *     directory: the on-disk corruption is made with the rados tool in
 *     tests/rados instead.
 *   - cache: and fallback: also get the composite cases, which open the
 *     members themselves (to look into and corrupt them) and build the
 *     composite with eris_store_new_cache()/eris_store_new_fallback().
 *
 * Corrupt blocks are made two ways. Through the back end: its put
 * callback is called directly, bypassing eris_store_put()'s check, to
 * file one block's bytes under another block's reference. Back ends
 * never hash the blocks they are given (the store API did), so every
 * local one takes it, and get must then say ERIS_EMISMATCH and never
 * hand the bad bytes out. On disk, for every store whose blocks live in
 * files: an intact block is stored, the store closed, one byte of the
 * block flipped wherever it lies in the files, and the store reopened.
 *
 * erisd checks both ways itself, so no corrupt block reaches a remote
 * client: it refuses a PUT whose body does not hash to the reference in
 * its URL (HTTP 400; over CoAP the body is filed under its own hash), and
 * answers 500 / 5.00 rather than serve a block corrupt in its store
 * (ERIS_ERROR for the client). The client's own check of what a server
 * sends is tested against servers that lie: tests/http (nginx) and
 * tests/coap (lying_server).
 *
 * DEBUGGING HINTS: CK_FORK=no runs the cases in one process (for gdb or
 * valgrind); CK_RUN_CASE=composite runs only the composite cases;
 * CK_RUN_CASE=store and CK_RUN_SUITE=... as usual with Check. erisd's
 * output is in %T/erisd.log.
 */
#define _GNU_SOURCE /* memmem, nftw */
#include "progenv.h"
#include "testutil.h"

#include <eris/bundle.h>

#include <sodium.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_LISTED 4096
#define CONTENT_SIZE 300000

/* The specification as given, and what it implies. */
static const char *spec_template;
static struct {
	int read_only;  /* cbor: */
	int persistent; /* survives free + open (no mem: member) */
	int cache;      /* cache:LOCAL,REMOTE */
	int fallback;   /* fallback:S1,... */
	int dir;        /* dir:PATH or a bare path */
	int server;     /* names %{http}, %{coap} or %{coap+tcp}: erisd runs */
	int remote;     /* the store itself is http:// or coap(+tcp):// */
	int unlisted;   /* foreach and remove are ERIS_ENOTSUP: a remote
			 * store, or a fallback: with a remote member */
	int objects;    /* s3://: blocks are objects of a server that lists
			 * and removes, not files under %T */
	int cluster;    /* rados: its blocks are not in the case's files */
} traits;

/* The erisd this run starts per case (ERISD_BIN; see server_start). */
enum { SRV_HTTP, SRV_COAP, SRV_COAP_TCP, SRV_N };
static const char *const srv_name[SRV_N] = {"http", "coap", "coap+tcp"};
static int srv_wanted[SRV_N];
static char srv_url[SRV_N][160];

/* The run's temporary directory (made by main, removed at the end even
 * when cases fail, since a failed case skips its teardown) and the
 * case's, inside it. */
static char basedir[4096];
static char tmpdir[4200];

/* ----------------------------------------------------------------------
 * Fixture: a temporary directory per case.
 */

static int remove_entry(const char *path, const struct stat *st, int flag,
			struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path) == 0 ? 0 : -1;
}

/* ----------------------------------------------------------------------
 * The server: a real erisd on loopback ports, serving the dir: store
 * DIR/server (so cases can corrupt its block files), started per case so
 * that every case begins with an empty server.
 */

#ifdef ERISD_BIN
static pid_t srv_pid;

/* Copy erisd's log to stderr; 1 if it says io_uring is unavailable. */
static int server_log(const char *dir)
{
	char path[4400], line[512];
	int no_uring = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/erisd.log", dir);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		fprintf(stderr, "  %s", line);
		no_uring |= strstr(line, "io_uring") != NULL;
	}
	fclose(f);
	return no_uring;
}

/* Read the bound addresses from the log; 1 when erisd has printed its
 * last line ("erisd: listening on ADDR", after the CoAP ones). */
static int server_ready(const char *log)
{
	char line[512], addr[128];
	int ready = 0;
	FILE *f;

	if ((f = fopen(log, "r")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "erisd: coap+tcp listening on %127s", addr) == 1)
			snprintf(srv_url[SRV_COAP_TCP], sizeof(srv_url[0]),
				 "coap+tcp://%s", addr);
		else if (sscanf(line, "erisd: coap listening on %127s", addr) == 1)
			snprintf(srv_url[SRV_COAP], sizeof(srv_url[0]),
				 "coap://%s", addr);
		else if (sscanf(line, "erisd: listening on %127s", addr) == 1) {
			snprintf(srv_url[SRV_HTTP], sizeof(srv_url[0]),
				 "http://%s", addr);
			ready = 1;
		}
	}
	fclose(f);
	return ready;
}

/* Start erisd serving dir:DIR/server, writable from loopback, without
 * its cache of verified blocks (a case corrupts blocks on disk and must
 * see the server read them again). 0 when it listens; 77 when it cannot
 * run here (no io_uring); -1 on failure, with its log on stderr. */
static int server_start(const char *dir)
{
	char store[4400], log[4400];
	const char *argv[16];
	struct timespec pause = {0, 20 * 1000 * 1000};
	int argc = 0, status;
	pid_t parent = getpid();

	snprintf(store, sizeof(store), "dir:%s/server", dir);
	snprintf(log, sizeof(log), "%s/erisd.log", dir);
	argv[argc++] = ERISD_BIN;
	argv[argc++] = "--listen";
	argv[argc++] = "127.0.0.1:0";
	argv[argc++] = "--store";
	argv[argc++] = store;
	argv[argc++] = "--writable";
	argv[argc++] = "--cache-size";
	argv[argc++] = "0";
	if (srv_wanted[SRV_COAP]) {
		argv[argc++] = "--coap";
		argv[argc++] = "127.0.0.1:0";
	}
	if (srv_wanted[SRV_COAP_TCP]) {
		argv[argc++] = "--coap-tcp";
		argv[argc++] = "127.0.0.1:0";
	}
	argv[argc] = NULL;
	memset(srv_url, 0, sizeof(srv_url));
	srv_pid = fork();
	if (srv_pid < 0)
		return -1;
	if (srv_pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		/* Dies with the case, even one that fails before teardown. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent || fd < 0)
			_exit(127);
		dup2(fd, 1);
		dup2(fd, 2);
		close(fd);
		execv(ERISD_BIN, (char *const *)argv);
		fprintf(stderr, "exec %s: %s\n", ERISD_BIN, strerror(errno));
		_exit(127);
	}
	/* A bound on a wait that cannot succeed, not a speed requirement. */
	for (int i = 0; !server_ready(log); i++) {
		if (waitpid(srv_pid, &status, WNOHANG) == srv_pid) {
			srv_pid = 0;
			fprintf(stderr, "erisd did not start:\n");
			return server_log(dir) ? 77 : -1;
		}
		if (i == 3000) {
			fprintf(stderr, "erisd did not listen in 60 s:\n");
			server_log(dir);
			return -1;
		}
		nanosleep(&pause, NULL);
	}
	for (int k = 0; k < SRV_N; k++)
		if (srv_wanted[k] && srv_url[k][0] == '\0') {
			fprintf(stderr, "erisd: no %s address in its log\n",
				srv_name[k]);
			server_log(dir);
			return -1;
		}
	return 0;
}

static void server_stop(void)
{
	int status;

	if (srv_pid <= 0)
		return;
	kill(srv_pid, SIGKILL);
	waitpid(srv_pid, &status, 0);
	srv_pid = 0;
}
#else
static int server_start(const char *dir)
{
	(void)dir;
	fprintf(stderr, "built without erisd: cannot serve %%{...}\n");
	return -1;
}

static void server_stop(void)
{
}
#endif

static void setup(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "%s/case-XXXXXX", basedir);
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	if (traits.server)
		ck_assert_msg(server_start(tmpdir) == 0, "erisd did not start");
}

static void teardown(void)
{
	server_stop();
	/* Block files are read-only, but unlinking only needs the directory
	 * to be writable. */
	ck_assert_int_eq(nftw(tmpdir, remove_entry, 16, FTW_DEPTH | FTW_PHYS),
			 0);
}

/* The server endpoint a "%{NAME}" at `p` names (SRV_N for none), and
 * the placeholder's length. */
static int placeholder(const char *p, size_t *len)
{
	for (int k = 0; k < SRV_N; k++) {
		size_t n = strlen(srv_name[k]);

		if (strncmp(p, "%{", 2) == 0 &&
		    strncmp(p + 2, srv_name[k], n) == 0 && p[2 + n] == '}') {
			*len = n + 3;
			return k;
		}
	}
	return SRV_N;
}

/* `templ` with each "%T" replaced by the case's directory, each "%N" by
 * a name unique to the case (letters, digits and '-': the run's and the
 * case's directory names, e.g. an object prefix on a shared server) and
 * each "%{http}", "%{coap}", "%{coap+tcp}" by the case's erisd's URL. */
static void expand(char *out, size_t size, const char *templ)
{
	size_t o = 0, tl = strlen(tmpdir), pl;
	int k;

	for (const char *p = templ; *p; p++) {
		if (p[0] == '%' && p[1] == 'N') {
			/* The run's and the case's random directory names. */
			int n = snprintf(out + o, size - o, "%s.%s",
					 strrchr(basedir, '/') + 1,
					 strrchr(tmpdir, '/') + 1);

			ck_assert(n > 0 && (size_t)n < size - o);
			o += (size_t)n;
			p++;
		} else if (p[0] == '%' && p[1] == 'T') {
			ck_assert_uint_lt(o + tl, size);
			memcpy(out + o, tmpdir, tl);
			o += tl;
			p++;
		} else if ((k = placeholder(p, &pl)) != SRV_N) {
			size_t ul = strlen(srv_url[k]);

			ck_assert_msg(ul > 0, "no %s server", srv_name[k]);
			ck_assert_uint_lt(o + ul, size);
			memcpy(out + o, srv_url[k], ul);
			o += ul;
			p += pl - 1;
		} else {
			ck_assert_uint_lt(o + 1, size);
			out[o++] = *p;
		}
	}
	out[o] = '\0';
}

/* ----------------------------------------------------------------------
 * Blocks and listings
 */

/* A valid block of `len` bytes and its reference. */
static void make_block(uint8_t *block, size_t len, uint8_t ref[32],
		       uint64_t seed)
{
	fill_random(block, len, seed, 0);
	crypto_generichash_blake2b(ref, 32, block, len, NULL, 0);
}

typedef struct {
	size_t n;
	uint8_t refs[MAX_LISTED][ERIS_REF_BYTES];
	size_t lens[MAX_LISTED];
	/* For the callbacks that stop or remove. */
	int stop_with;
	eris_store *remove_from;
} listing;

static int collect(const uint8_t ref[ERIS_REF_BYTES], size_t len,
		   void *payload)
{
	listing *l = payload;

	ck_assert_uint_lt(l->n, MAX_LISTED);
	memcpy(l->refs[l->n], ref, ERIS_REF_BYTES);
	l->lens[l->n++] = len;
	if (l->remove_from)
		ck_assert_eris(eris_store_remove(l->remove_from, ref), ERIS_OK);
	return l->stop_with;
}

static listing *list_store(eris_store *s)
{
	listing *l = calloc(1, sizeof(*l));

	ck_assert_ptr_nonnull(l);
	ck_assert_eris(eris_store_foreach(s, collect, l), ERIS_OK);
	return l;
}

/* A store that cannot list (traits.unlisted): foreach says ERIS_ENOTSUP
 * without calling back. */
static void assert_cannot_list(eris_store *s)
{
	listing *l = calloc(1, sizeof(*l));

	ck_assert_ptr_nonnull(l);
	ck_assert_eris(eris_store_foreach(s, collect, l), ERIS_ENOTSUP);
	ck_assert_uint_eq(l->n, 0);
	free(l);
}

/* The store lists `n` blocks, or cannot list at all. */
static void assert_lists(eris_store *s, size_t n)
{
	listing *l;

	if (traits.unlisted) {
		assert_cannot_list(s);
		return;
	}
	l = list_store(s);
	ck_assert_uint_eq(l->n, n);
	free(l);
}

/* How often `ref` is in the listing, and with which length. */
static int listed(const listing *l, const uint8_t *ref, size_t *len)
{
	int times = 0;

	for (size_t i = 0; i < l->n; i++) {
		if (memcmp(l->refs[i], ref, ERIS_REF_BYTES) == 0) {
			times++;
			if (len)
				*len = l->lens[i];
		}
	}
	return times;
}

/* Copy every block of `from` into `to` (checked puts). */
typedef struct {
	eris_store *from, *to;
} copy_job;

static int copy_one(const uint8_t ref[ERIS_REF_BYTES], size_t len,
		    void *payload)
{
	static uint8_t buf[ERIS_BLOCK_SIZE_32K];
	copy_job *job = payload;
	size_t got;

	ck_assert_eris(eris_store_get(job->from, ref, buf, sizeof(buf), &got),
		       ERIS_OK);
	ck_assert_uint_eq(got, len);
	ck_assert_eris(eris_store_put(job->to, ref, buf, got), ERIS_OK);
	return 0;
}

static void copy_blocks(eris_store *from, eris_store *to)
{
	copy_job job = {from, to};

	ck_assert_eris(eris_store_foreach(from, copy_one, &job), ERIS_OK);
}

/* File `block` under `ref` through the back end's own put, skipping
 * eris_store_put()'s check. Back ends trust their caller and take it
 * (ERIS_OK: the store now holds a corrupt block); a server checks again
 * (assert_server_put). */
static int put_unchecked(eris_store *s, const uint8_t *ref,
			 const uint8_t *block, size_t len)
{
	eris_store_backend *b = test_backend_of(s);

	return b->put(b, ref, block, len);
}

/* `rc` and the message are erisd's refusal to serve a block corrupt in
 * its store at `url`: 500 (HTTP) or 5.00 (CoAP), ERIS_ERROR here. */
static void assert_server_refused_get(const char *url, int rc)
{
	int http = strncmp(url, "http://", 7) == 0;

	ck_assert_eris(rc, ERIS_ERROR);
	ck_assert_msg(strstr(eris_error_last(), http ? "status 500" : "5.00"),
		      "message: %s", eris_error_last());
}

/* `rc` is what a corrupt block put through the back end of the erisd
 * store at `url` gives. HTTP names the reference in the URL and erisd
 * refuses the body (400, ERIS_ERROR); CoAP sends the body alone and
 * erisd files it under its own hash (ERIS_OK). Either way nothing is
 * stored under the reference. */
static void assert_server_put(const char *url, int rc)
{
	if (strncmp(url, "http://", 7) == 0) {
		ck_assert_eris(rc, ERIS_ERROR);
		ck_assert_msg(strstr(eris_error_last(), "PUT") &&
				      strstr(eris_error_last(), "400"),
			      "message: %s", eris_error_last());
	} else {
		ck_assert_eris(rc, ERIS_OK);
	}
}

/* ----------------------------------------------------------------------
 * Corruption on disk: a block is stored intact (through the store API, or
 * by a server that checks what it is given) and then changed in the
 * files, with the store closed.
 */

static const uint8_t *flip_block;
static size_t flip_len;
static int flipped;

/* Flip one byte of flip_block wherever a 64-byte window of it lies in
 * this file. Windows, not the whole block: a store may split a block
 * (sqlite puts a 32 KiB blob on several overflow pages). */
static int flip_in_file(const char *path, const struct stat *st, int flag,
			struct FTW *ftw)
{
	static const size_t fractions[] = {2, 3, 4, 5, 7, 9, 11};
	uint8_t *data;
	FILE *f;

	(void)ftw;
	if (flag != FTW_F || !S_ISREG(st->st_mode) || st->st_size == 0)
		return 0;
	data = malloc((size_t)st->st_size);
	ck_assert_ptr_nonnull(data);
	f = fopen(path, "rb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fread(data, 1, (size_t)st->st_size, f),
			  (size_t)st->st_size);
	fclose(f);
	for (size_t i = 0; i < sizeof(fractions) / sizeof(fractions[0]); i++) {
		size_t off = flip_len / fractions[i];
		uint8_t *at = memmem(data, (size_t)st->st_size,
				     flip_block + off, 64);

		if (at == NULL)
			continue;
		/* Block files are read-only; writing needs the owner's w. */
		chmod(path, st->st_mode | S_IWUSR);
		f = fopen(path, "r+b");
		ck_assert_msg(f != NULL, "cannot write %s", path);
		ck_assert_int_eq(fseek(f, (long)(at - data) + 32, SEEK_SET), 0);
		ck_assert_int_ne(fputc(at[32] ^ 0x01, f), EOF);
		ck_assert_int_eq(fclose(f), 0);
		flipped++;
		break;
	}
	free(data);
	return 0;
}

/* Corrupt `block` in every file under `path` (a file or a directory)
 * that holds it; at least one must. */
static void corrupt_in_files(const char *path, const uint8_t *block,
			     size_t len)
{
	flip_block = block;
	flip_len = len;
	flipped = 0;
	ck_assert_int_eq(nftw(path, flip_in_file, 16, FTW_PHYS), 0);
	ck_assert_msg(flipped > 0, "block not found in the files under %s",
		      path);
}

/* ----------------------------------------------------------------------
 * The bundle (cbor:) side: a read-only store is filled by writing its file.
 */

/* The file a cbor: specification names. */
static void bundle_path(char *out, size_t size)
{
	char spec[8192];

	expand(spec, sizeof(spec), spec_template);
	ck_assert_msg(strncmp(spec, "cbor:", 5) == 0, "not a cbor: store");
	ck_assert_uint_lt(strlen(spec + 5), size);
	strcpy(out, spec + 5);
}

static int count_block(const uint8_t ref[ERIS_REF_BYTES], size_t len,
		       void *payload)
{
	(void)ref;
	(void)len;
	++*(uint64_t *)payload;
	return 0;
}

typedef struct {
	eris_store *from;
	eris_bundle_writer *w;
} bundle_job;

static int add_to_bundle(const uint8_t ref[ERIS_REF_BYTES], size_t len,
			 void *payload)
{
	static uint8_t buf[ERIS_BLOCK_SIZE_32K];
	bundle_job *job = payload;
	size_t got;

	ck_assert_eris(eris_store_get(job->from, ref, buf, sizeof(buf), &got),
		       ERIS_OK);
	ck_assert_uint_eq(got, len);
	ck_assert_eris(eris_bundle_writer_add_block(job->w, ref, buf, got),
		       ERIS_OK);
	return 0;
}

/* Write the blocks of `seed` (a mem: store) as the bundle the
 * specification names, with the bundle writer (eris/bundle.h). */
static void write_bundle(eris_store *seed)
{
	char path[8192];
	uint64_t n = 0;
	bundle_job job = {seed, NULL};
	FILE *f;

	bundle_path(path, sizeof(path));
	f = fopen(path, "wb");
	ck_assert_msg(f != NULL, "cannot create %s", path);
	ck_assert_eris(eris_store_foreach(seed, count_block, &n), ERIS_OK);
	ck_assert_eris(eris_bundle_writer_new(&job.w, fileno(f), n, 0),
		       ERIS_OK);
	ck_assert_eris(eris_store_foreach(seed, add_to_bundle, &job), ERIS_OK);
	ck_assert_eris(eris_bundle_writer_finish(job.w), ERIS_OK);
	eris_bundle_writer_free(job.w);
	ck_assert_int_eq(fclose(f), 0);
}

/* ----------------------------------------------------------------------
 * Opening the store under test
 */

/* Opened as the programs open stores: with the options their
 * environment gives (progenv.h: the AWS_* variables for s3://). */
static eris_store *open_spec(const char *templ, int create)
{
	eris_store_options opts =
		progenv_store_options(create ? ERIS_STORE_CREATE : 0);
	char spec[8192];
	eris_store *s;

	expand(spec, sizeof(spec), templ);
	ck_assert_eris(eris_store_open_opts(&s, spec, &opts), ERIS_OK);
	return s;
}

/* The store under test holding the blocks of `seed` (a mem: store; NULL
 * for none): copied in with eris_store_put(), or for a read-only store
 * written as its file first. `seed` is freed. */
static eris_store *open_seeded(eris_store *seed)
{
	eris_store *s;

	if (traits.read_only) {
		eris_store *empty = NULL;

		if (seed == NULL)
			ck_assert_eris(eris_store_new_mem(&empty), ERIS_OK);
		write_bundle(seed ? seed : empty);
		eris_store_free(empty);
		s = open_spec(spec_template, 0);
	} else {
		s = open_spec(spec_template, 1);
		if (seed)
			copy_blocks(seed, s);
	}
	eris_store_free(seed);
	return s;
}

static eris_store *new_seed(void)
{
	eris_store *seed;

	ck_assert_eris(eris_store_new_mem(&seed), ERIS_OK);
	return seed;
}

/* ----------------------------------------------------------------------
 * The cases every store gets
 */

static const size_t sizes[2] = {ERIS_BLOCK_SIZE_1K, ERIS_BLOCK_SIZE_32K};

/* put, has, get of a 1 KiB and a 32 KiB block; get of what is absent. */
START_TEST(test_roundtrip)
{
	static uint8_t block[2][32768], got[32768], ref[2][32], absent[32];
	eris_store *s, *seed = new_seed();
	size_t len = 12345;

	for (int k = 0; k < 2; k++)
		make_block(block[k], sizes[k], ref[k], 100 + (uint64_t)k);
	make_block(got, 1024, absent, 99);
	if (traits.read_only) {
		for (int k = 0; k < 2; k++)
			ck_assert_eris(eris_store_put(seed, ref[k], block[k],
						      sizes[k]),
				       ERIS_OK);
		s = open_seeded(seed);
	} else {
		s = open_seeded(seed);
		for (int k = 0; k < 2; k++) {
			ck_assert_int_eq(eris_store_has(s, ref[k]), 0);
			ck_assert_eris(eris_store_get(s, ref[k], got,
						      sizeof(got), &len),
				       ERIS_ENOTFOUND);
			ck_assert_eris(eris_store_put(s, ref[k], block[k],
						      sizes[k]),
				       ERIS_OK);
		}
	}
	for (int k = 0; k < 2; k++) {
		ck_assert_int_eq(eris_store_has(s, ref[k]), 1);
		memset(got, 0, sizeof(got));
		ck_assert_eris(eris_store_get(s, ref[k], got, sizeof(got),
					      &len),
			       ERIS_OK);
		ck_assert_uint_eq(len, sizes[k]);
		ck_assert_mem_eq(got, block[k], sizes[k]);
		/* Exactly the block's size is enough room. */
		ck_assert_eris(eris_store_get(s, ref[k], got, sizes[k], &len),
			       ERIS_OK);
		ck_assert_uint_eq(len, sizes[k]);
	}
	ck_assert_int_eq(eris_store_has(s, absent), 0);
	ck_assert_eris(eris_store_get(s, absent, got, sizeof(got), &len),
		       ERIS_ENOTFOUND);
	ck_assert_ptr_nonnull(strstr(eris_error_last(), "not found"));
	eris_store_free(s);
}
END_TEST

/* Storing a block again succeeds and changes nothing. */
START_TEST(test_idempotent_put)
{
	static uint8_t block[32768], got[32768], ref[32];
	eris_store *s = open_seeded(NULL);
	size_t len;

	if (traits.read_only) {
		eris_store_free(s);
		return; /* no put at all: see test_read_only */
	}
	for (int k = 0; k < 2; k++) {
		make_block(block, sizes[k], ref, 200 + (uint64_t)k);
		for (int i = 0; i < 3; i++)
			ck_assert_eris(eris_store_put(s, ref, block, sizes[k]),
				       ERIS_OK);
		ck_assert_eris(eris_store_get(s, ref, got, sizeof(got), &len),
			       ERIS_OK);
		ck_assert_uint_eq(len, sizes[k]);
		ck_assert_mem_eq(got, block, sizes[k]);
	}
	assert_lists(s, 2);
	eris_store_free(s);
}
END_TEST

/* A block under the wrong reference is refused and nothing is stored;
 * so are blocks of any size but 1024 and 32768. */
START_TEST(test_put_refused)
{
	static uint8_t block[65536], ref[32], wrong[32];
	static const size_t bad_sizes[] = {0, 1, 1000, 1023, 1025, 2048,
					   32767, 32769, 65536};
	eris_store *s = open_seeded(NULL);

	for (int k = 0; k < 2; k++) {
		make_block(block, sizes[k], ref, 300 + (uint64_t)k);
		memcpy(wrong, ref, 32);
		wrong[31] ^= 0x80;
		ck_assert_eris(eris_store_put(s, wrong, block, sizes[k]),
			       ERIS_EMISMATCH);
		ck_assert_int_eq(eris_store_has(s, wrong), 0);
		ck_assert_int_eq(eris_store_has(s, ref), 0);
	}
	for (size_t i = 0; i < sizeof(bad_sizes) / sizeof(bad_sizes[0]); i++) {
		crypto_generichash_blake2b(ref, 32, block, bad_sizes[i], NULL,
					   0);
		ck_assert_eris(eris_store_put(s, ref, block, bad_sizes[i]),
			       ERIS_EBLOCKSIZE);
		ck_assert_int_eq(eris_store_has(s, ref), 0);
	}
	assert_lists(s, 0);
	eris_store_free(s);
}
END_TEST

/* A buffer smaller than the block: ERIS_EBLOCKSIZE. */
START_TEST(test_small_buffer)
{
	static uint8_t block[2][32768], got[32768], ref[2][32];
	eris_store *s, *seed = new_seed();
	size_t len;

	for (int k = 0; k < 2; k++) {
		make_block(block[k], sizes[k], ref[k], 400 + (uint64_t)k);
		ck_assert_eris(eris_store_put(seed, ref[k], block[k], sizes[k]),
			       ERIS_OK);
	}
	s = open_seeded(seed);
	for (int k = 0; k < 2; k++) {
		ck_assert_eris(eris_store_get(s, ref[k], got, sizes[k] - 1,
					      &len),
			       ERIS_EBLOCKSIZE);
		ck_assert_eris(eris_store_get(s, ref[k], got, 0, &len),
			       ERIS_EBLOCKSIZE);
	}
	/* A 32 KiB block in a 1 KiB buffer, and then it still reads fine. */
	ck_assert_eris(eris_store_get(s, ref[1], got, 1024, &len),
		       ERIS_EBLOCKSIZE);
	ck_assert_eris(eris_store_get(s, ref[1], got, sizeof(got), &len),
		       ERIS_OK);
	ck_assert_mem_eq(got, block[1], sizes[1]);
	eris_store_free(s);
}
END_TEST

/* foreach lists exactly the stored blocks, each once, with their
 * lengths; a non-zero callback value stops it and is returned. A store
 * that cannot list says ERIS_ENOTSUP, holding blocks or not. */
START_TEST(test_foreach)
{
	static uint8_t block[32768], refs[40][32];
	eris_store *s, *seed = new_seed();
	listing *l;
	size_t len;
	int rc;

	if (traits.unlisted) {
		make_block(block, 1024, refs[0], 500);
		ck_assert_eris(eris_store_put(seed, refs[0], block, 1024),
			       ERIS_OK);
		s = open_seeded(seed);
		assert_cannot_list(s);
		eris_store_free(s);
		return;
	}
	s = open_seeded(NULL);
	l = list_store(s); /* empty */
	ck_assert_uint_eq(l->n, 0);
	free(l);
	eris_store_free(s);
	for (int i = 0; i < 40; i++) {
		size_t bs = i % 8 == 7 ? 32768 : 1024;

		make_block(block, bs, refs[i], 500 + (uint64_t)i);
		ck_assert_eris(eris_store_put(seed, refs[i], block, bs),
			       ERIS_OK);
	}
	s = open_seeded(seed);
	l = list_store(s);
	ck_assert_uint_eq(l->n, 40);
	for (int i = 0; i < 40; i++) {
		ck_assert_int_eq(listed(l, refs[i], &len), 1);
		ck_assert_uint_eq(len, i % 8 == 7 ? 32768 : 1024);
	}
	free(l);

	l = calloc(1, sizeof(*l));
	ck_assert_ptr_nonnull(l);
	l->stop_with = 7;
	rc = eris_store_foreach(s, collect, l);
	ck_assert_int_eq(rc, 7);
	ck_assert_uint_eq(l->n, 1);
	free(l);
	eris_store_free(s);
}
END_TEST

/* remove, then get: ENOTFOUND (a cache fetches it from REMOTE again);
 * removing what is absent is fine; other blocks stay. */
START_TEST(test_remove)
{
	static uint8_t block[2][32768], got[32768], ref[2][32];
	eris_store *s, *seed = new_seed();
	size_t len;
	listing *l;

	for (int k = 0; k < 2; k++) {
		make_block(block[k], sizes[k], ref[k], 600 + (uint64_t)k);
		ck_assert_eris(eris_store_put(seed, ref[k], block[k], sizes[k]),
			       ERIS_OK);
	}
	s = open_seeded(seed);
	if (traits.read_only) {
		ck_assert_eris(eris_store_remove(s, ref[0]), ERIS_EREADONLY);
		ck_assert_int_eq(eris_store_has(s, ref[0]), 1);
		eris_store_free(s);
		return;
	}
	if (traits.unlisted) {
		ck_assert_eris(eris_store_remove(s, ref[0]), ERIS_ENOTSUP);
		/* A remote store is untouched (a fallback: removes what its
		 * other members can). */
		if (traits.remote) {
			ck_assert_int_eq(eris_store_has(s, ref[0]), 1);
			ck_assert_eris(eris_store_get(s, ref[0], got,
						      sizeof(got), &len),
				       ERIS_OK);
			ck_assert_mem_eq(got, block[0], sizes[0]);
		}
		eris_store_free(s);
		return;
	}
	ck_assert_eris(eris_store_remove(s, ref[0]), ERIS_OK);
	l = list_store(s);
	ck_assert_int_eq(listed(l, ref[0], NULL), 0);
	ck_assert_int_eq(listed(l, ref[1], NULL), 1);
	ck_assert_uint_eq(l->n, 1);
	free(l);
	if (traits.cache) {
		/* Evicted from LOCAL only: REMOTE serves it again, and the
		 * read puts it back into LOCAL. */
		ck_assert_int_eq(eris_store_has(s, ref[0]), 1);
		ck_assert_eris(eris_store_get(s, ref[0], got, sizeof(got),
					      &len),
			       ERIS_OK);
		ck_assert_mem_eq(got, block[0], sizes[0]);
		l = list_store(s);
		ck_assert_int_eq(listed(l, ref[0], NULL), 1);
		free(l);
	} else {
		ck_assert_int_eq(eris_store_has(s, ref[0]), 0);
		ck_assert_eris(eris_store_get(s, ref[0], got, sizeof(got),
					      &len),
			       ERIS_ENOTFOUND);
	}
	ck_assert_eris(eris_store_remove(s, ref[0]), ERIS_OK);
	ck_assert_eris(eris_store_remove(s, ref[0]), ERIS_OK);
	ck_assert_eris(eris_store_get(s, ref[1], got, sizeof(got), &len),
		       ERIS_OK);
	ck_assert_mem_eq(got, block[1], sizes[1]);
	/* Put after remove works. */
	ck_assert_eris(eris_store_put(s, ref[0], block[0], sizes[0]), ERIS_OK);
	ck_assert_eris(eris_store_get(s, ref[0], got, sizeof(got), &len),
		       ERIS_OK);
	eris_store_free(s);
}
END_TEST

/* The callback may remove the block it was just given (gc does). */
START_TEST(test_foreach_remove)
{
	static uint8_t block[32768], refs[300][32];
	eris_store *s, *seed = new_seed();
	listing *l;

	if (traits.read_only) {
		eris_store_free(seed);
		return; /* nothing can be removed: see test_remove */
	}
	if (traits.unlisted) {
		s = open_seeded(seed);
		assert_cannot_list(s);
		eris_store_free(s);
		return;
	}
	/* Enough blocks for the mem: store to grow and to form probe runs
	 * that removal must repair. */
	for (int i = 0; i < 300; i++) {
		size_t bs = i % 50 == 0 ? 32768 : 1024;

		make_block(block, bs, refs[i], 700 + (uint64_t)i);
		ck_assert_eris(eris_store_put(seed, refs[i], block, bs),
			       ERIS_OK);
	}
	s = open_seeded(seed);
	l = calloc(1, sizeof(*l));
	ck_assert_ptr_nonnull(l);
	l->remove_from = s;
	ck_assert_eris(eris_store_foreach(s, collect, l), ERIS_OK);
	ck_assert_uint_eq(l->n, 300);
	for (int i = 0; i < 300; i++)
		ck_assert_int_eq(listed(l, refs[i], NULL), 1);
	free(l);
	l = list_store(s);
	ck_assert_uint_eq(l->n, 0);
	free(l);
	for (int i = 0; i < 300; i++)
		ck_assert_int_eq(eris_store_has(s, refs[i]), traits.cache);
	eris_store_free(s);
}
END_TEST

/* Half of the blocks removed one by one, the rest still all there (the
 * mem: store's probe chains survive deletion). */
START_TEST(test_remove_many)
{
	static uint8_t block[1024], got[32768], refs[500][32];
	eris_store *s;
	size_t len;

	if (traits.read_only || traits.cache)
		return; /* EREADONLY, and a cache refetches: test_remove */
	s = open_seeded(NULL);
	if (traits.unlisted) {
		make_block(block, sizeof(block), refs[0], 800);
		ck_assert_eris(eris_store_put(s, refs[0], block, sizeof(block)),
			       ERIS_OK);
		ck_assert_eris(eris_store_remove(s, refs[0]), ERIS_ENOTSUP);
		eris_store_free(s);
		return;
	}
	for (int i = 0; i < 500; i++) {
		make_block(block, sizeof(block), refs[i], 800 + (uint64_t)i);
		ck_assert_eris(eris_store_put(s, refs[i], block, sizeof(block)),
			       ERIS_OK);
	}
	for (int i = 0; i < 500; i += 2)
		ck_assert_eris(eris_store_remove(s, refs[i]), ERIS_OK);
	for (int i = 0; i < 500; i++) {
		int rc = eris_store_get(s, refs[i], got, sizeof(got), &len);

		ck_assert_eris(rc, i % 2 ? ERIS_OK : ERIS_ENOTFOUND);
		ck_assert_int_eq(eris_store_has(s, refs[i]), i % 2);
		if (i % 2) {
			make_block(block, sizeof(block), refs[i],
				   800 + (uint64_t)i);
			ck_assert_mem_eq(got, block, sizeof(block));
		}
	}
	eris_store_free(s);
}
END_TEST

/* Encode content into the store and decode it back, both block sizes. */
START_TEST(test_codec)
{
	uint8_t *content = malloc(CONTENT_SIZE), *back = malloc(CONTENT_SIZE);
	eris_encode_options opts = ERIS_ENCODE_OPTIONS_INIT;
	eris_read_cap cap[2];
	eris_decoder *dec;
	eris_store *s, *target;
	size_t got;

	ck_assert_ptr_nonnull(content);
	ck_assert_ptr_nonnull(back);
	fill_random(content, CONTENT_SIZE, 42, 0);
	/* A read-only store gets the blocks through its file. */
	target = traits.read_only ? new_seed() : open_seeded(NULL);
	for (int k = 0; k < 2; k++) {
		opts.block_size = sizes[k];
		ck_assert_eris(eris_encode(&cap[k], target, &opts, content,
					   CONTENT_SIZE),
			       ERIS_OK);
	}
	ck_assert_eris(eris_store_flush(target), ERIS_OK);
	s = traits.read_only ? open_seeded(target) : target;
	for (int k = 0; k < 2; k++) {
		memset(back, 0, CONTENT_SIZE);
		ck_assert_eris(eris_decoder_new(&dec, s, &cap[k]), ERIS_OK);
		ck_assert_eris(eris_decoder_pread(dec, back, CONTENT_SIZE, 0,
						  &got),
			       ERIS_OK);
		ck_assert_uint_eq(got, CONTENT_SIZE);
		ck_assert_mem_eq(back, content, CONTENT_SIZE);
		eris_decoder_free(dec);
		ck_assert_eris(eris_verify(s, &cap[k], NULL, NULL, NULL), ERIS_OK);
	}
	eris_store_free(s);
	free(content);
	free(back);
}
END_TEST

/* flush succeeds, with and without puts before it. */
START_TEST(test_flush)
{
	static uint8_t block[1024], ref[32];
	eris_store *s = open_seeded(NULL);

	ck_assert_eris(eris_store_flush(s), ERIS_OK);
	if (!traits.read_only) {
		make_block(block, sizeof(block), ref, 900);
		ck_assert_eris(eris_store_put(s, ref, block, sizeof(block)),
			       ERIS_OK);
		ck_assert_eris(eris_store_flush(s), ERIS_OK);
		ck_assert_eris(eris_store_flush(s), ERIS_OK);
	}
	eris_store_free(s);
}
END_TEST

/* A persistent store still has its blocks after free and open. */
START_TEST(test_reopen)
{
	static uint8_t block[2][32768], got[32768], ref[2][32];
	eris_store *s, *seed = new_seed();
	size_t len;

	for (int k = 0; k < 2; k++) {
		make_block(block[k], sizes[k], ref[k], 1000 + (uint64_t)k);
		ck_assert_eris(eris_store_put(seed, ref[k], block[k], sizes[k]),
			       ERIS_OK);
	}
	s = open_seeded(seed);
	ck_assert_eris(eris_store_flush(s), ERIS_OK);
	eris_store_free(s);
	for (int round = 0; round < 2; round++) {
		s = open_spec(spec_template, 0);
		for (int k = 0; k < 2; k++) {
			ck_assert_int_eq(eris_store_has(s, ref[k]), 1);
			ck_assert_eris(eris_store_get(s, ref[k], got,
						      sizeof(got), &len),
				       ERIS_OK);
			ck_assert_uint_eq(len, sizes[k]);
			ck_assert_mem_eq(got, block[k], sizes[k]);
		}
		assert_lists(s, 2);
		eris_store_free(s);
	}
}
END_TEST

/* A corrupt block is refused with ERIS_EMISMATCH, and its bytes are not
 * handed out. Made through the back end, and for stores that keep their
 * blocks in files (erisd's too), on disk. erisd checks what it is given
 * (assert_server_put) and what it reads: for a block corrupt in its store
 * it answers 500 (HTTP) or 5.00 (CoAP), never sending the bytes, and the
 * client says ERIS_ERROR (assert_server_refused_get). */
START_TEST(test_tampered)
{
	static uint8_t good[2][32768], bad[32768], got[32768], ref[2][32];
	static uint8_t bad_ref[32];
	char url[8192] = "";
	eris_store *s, *seed = new_seed();
	size_t len;
	int rc;

	/* The erisd URL in the specification, if any (a composite's is its
	 * last member). */
	if (traits.server) {
		expand(url, sizeof(url), spec_template);
		if (!traits.remote)
			memmove(url, strrchr(url, ',') + 1,
				strlen(strrchr(url, ',') + 1) + 1);
	}
	/* Through the back end: ref[k] names good[k], but bad is filed. */
	for (int k = 0; k < 2 && !traits.read_only; k++) {
		make_block(good[k], sizes[k], ref[k], 1100 + (uint64_t)k);
		make_block(bad, sizes[k], bad_ref, 1200 + (uint64_t)k);
		s = open_seeded(NULL);
		/* The API is the trust boundary: refused, nothing stored. */
		ck_assert_eris(eris_store_put(s, ref[k], bad, sizes[k]),
			       ERIS_EMISMATCH);
		ck_assert_eris(eris_store_flush(s), ERIS_OK);
		ck_assert_int_eq(eris_store_has(s, ref[k]), 0);
		rc = put_unchecked(s, ref[k], bad, sizes[k]);
		/* Back ends take it; erisd checks (a cache: has filed it in
		 * LOCAL before passing it on to erisd). */
		if (traits.remote || (traits.cache && traits.server))
			assert_server_put(url, rc);
		else
			ck_assert_eris(rc, ERIS_OK);
		/* Either way the bad bytes are never handed out: the store
		 * holds nothing under ref[k], or get says EMISMATCH. */
		memset(got, 0, sizeof(got));
		if (traits.remote) {
			ck_assert_int_eq(eris_store_has(s, ref[k]), 0);
			ck_assert_eris(eris_store_get(s, ref[k], got,
						      sizeof(got), &len),
				       ERIS_ENOTFOUND);
		} else {
			ck_assert_eris(eris_store_get(s, ref[k], got,
						      sizeof(got), &len),
				       ERIS_EMISMATCH);
			ck_assert_ptr_nonnull(
				strstr(eris_error_last(), "hash"));
		}
		/* The rejected bytes are wiped, not left around. */
		ck_assert_int_ne(memcmp(got, bad, 64), 0);
		eris_store_free(s);
	}
	if (!traits.persistent || traits.cluster) {
		eris_store_free(seed);
		return;
	}
	/* On disk: good blocks stored, then changed in the files. */
	for (int k = 0; k < 2; k++) {
		make_block(good[k], sizes[k], ref[k], 1150 + (uint64_t)k);
		ck_assert_eris(eris_store_put(seed, ref[k], good[k], sizes[k]),
			       ERIS_OK);
	}
	s = open_seeded(seed);
	for (int k = 0; k < 2; k++)
		ck_assert_eris(eris_store_get(s, ref[k], got, sizeof(got),
					      &len),
			       ERIS_OK);
	ck_assert_eris(eris_store_flush(s), ERIS_OK);
	eris_store_free(s);
	for (int k = 0; k < 2; k++) {
		if (traits.objects) {
			/* No files: the object is replaced, bypassing the
			 * check, as a corrupt copy on the server would be. */
			memcpy(bad, good[k], sizes[k]);
			bad[sizes[k] / 2] ^= 0x01;
			s = open_spec(spec_template, 0);
			ck_assert_eris(put_unchecked(s, ref[k], bad, sizes[k]),
				       ERIS_OK);
			eris_store_free(s);
		} else {
			corrupt_in_files(tmpdir, good[k], sizes[k]);
		}
	}
	s = open_spec(spec_template, 0);
	for (int k = 0; k < 2; k++) {
		memset(got, 0, sizeof(got));
		rc = eris_store_get(s, ref[k], got, sizeof(got), &len);
		if (traits.remote) {
			assert_server_refused_get(url, rc);
		} else {
			ck_assert_eris(rc, ERIS_EMISMATCH);
			ck_assert_ptr_nonnull(
				strstr(eris_error_last(), "hash"));
		}
		/* The corrupt copy starts like the good block (the flipped
		 * bytes lie further in): none of it was handed out. */
		ck_assert_int_ne(memcmp(got, good[k], 64), 0);
	}
	eris_store_free(s);
}
END_TEST

/* The schemes that need a module, and the module's file. */
static const char *const module_of[][2] = {
	{"sqlite:", "/store-sqlite.so"},  {"cbor:", "/store-cbor.so"},
	{"http://", "/store-http.so"},    {"coap://", "/store-coap.so"},
	{"coap+tcp://", "/store-coap.so"}, {"s3://", "/store-s3.so"},
	{"coap+tcp://", "/store-coap.so"}, {"rados:", "/store-rados.so"},
};

/* A file whose name ends in `suffix` is mapped into this process. */
static int mapped(const char *suffix)
{
	char line[8192];
	size_t sl = strlen(suffix);
	int found = 0;
	FILE *f = fopen("/proc/self/maps", "r");

	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f)) {
		size_t n = strcspn(line, "\n");

		found |= n >= sl && memcmp(line + n - sl, suffix, sl) == 0;
	}
	fclose(f);
	return found;
}

/* The back ends were reached the way this build reaches them: the shared
 * liberis loads a scheme's module file (dlopen) when the scheme is
 * opened, and no other; the static liberis has them built in and loads
 * no module file at all. */
START_TEST(test_module_route)
{
	char spec[8192];
	eris_store *s = open_seeded(NULL);

	expand(spec, sizeof(spec), spec_template);
	for (size_t i = 0; i < sizeof(module_of) / sizeof(module_of[0]); i++) {
		int needed = 0;

		for (size_t j = 0; j < sizeof(module_of) / sizeof(module_of[0]);
		     j++)
			if (strcmp(module_of[j][1], module_of[i][1]) == 0)
				needed |= strstr(spec, module_of[j][0]) != NULL;
#ifdef ERIS_CONFORMANCE_STATIC
		needed = 0;
#endif
		ck_assert_msg(mapped(module_of[i][1]) == needed,
			      "%s is %s", module_of[i][1] + 1,
			      needed ? "not loaded" : "loaded");
	}
	eris_store_free(s);
}
END_TEST

/* A read-only store refuses put and remove with ERIS_EREADONLY, even of
 * a block it holds, and keeps serving reads. */
START_TEST(test_read_only)
{
	static uint8_t block[2][32768], got[32768], ref[2][32];
	eris_store *s, *seed = new_seed();
	size_t len;

	make_block(block[0], 1024, ref[0], 1300);
	make_block(block[1], 32768, ref[1], 1301);
	ck_assert_eris(eris_store_put(seed, ref[0], block[0], 1024), ERIS_OK);
	s = open_seeded(seed);
	ck_assert_eris(eris_store_put(s, ref[1], block[1], 32768),
		       ERIS_EREADONLY);
	ck_assert_int_eq(eris_store_has(s, ref[1]), 0);
	ck_assert_eris(eris_store_put(s, ref[0], block[0], 1024),
		       ERIS_EREADONLY);
	ck_assert_eris(eris_store_remove(s, ref[0]), ERIS_EREADONLY);
	ck_assert_eris(eris_store_get(s, ref[0], got, sizeof(got), &len),
		       ERIS_OK);
	ck_assert_mem_eq(got, block[0], 1024);
	eris_store_free(s);
}
END_TEST

/* dir: foreach reports block files only: not temporary files, not names
 * that are no reference, not a reference filed under the wrong
 * subdirectory, not directories. */
/* Write `len` bytes of `data` to ROOT/SUB/NAME. */
static void write_file(const char *root, const char *sub, const char *name,
		       const uint8_t *data, size_t len)
{
	char path[9000];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s/%s", root, sub, name);
	f = fopen(path, "wb");
	ck_assert_msg(f != NULL, "cannot create %s", path);
	ck_assert_uint_eq(fwrite(data, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
}

START_TEST(test_dir_ignores_junk)
{
	static uint8_t block[1024], ref[32], other[32];
	char spec[8192], path[9000], sub[3];
	char name[ERIS_REF_BASE32_LEN + 1], oname[ERIS_REF_BASE32_LEN + 1];
	char lower[ERIS_REF_BASE32_LEN + 1], filler[ERIS_REF_BASE32_LEN + 1];
	const char *root;
	eris_store *s = open_seeded(NULL);
	listing *l;

	make_block(block, sizeof(block), ref, 2100);
	ck_assert_eris(eris_store_put(s, ref, block, sizeof(block)), ERIS_OK);
	expand(spec, sizeof(spec), spec_template);
	root = strncmp(spec, "dir:", 4) == 0 ? spec + 4 : spec;
	eris_base32_encode(name, ref, 32);
	memcpy(sub, name, 2);
	sub[2] = '\0';
	make_block(block, sizeof(block), other, 2101);
	eris_base32_encode(oname, other, 32);
	ck_assert_int_ne(memcmp(oname, name, 2), 0); /* fixed seeds */

	/* Next to the block, in its subdirectory: */
	write_file(root, sub, ".tmp-1-2", block, sizeof(block));
	memcpy(lower, name, sizeof(lower)); /* lower case is not base32 */
	for (char *c = lower + 2; *c; c++)
		if (*c >= 'A' && *c <= 'Z') {
			*c = (char)(*c - 'A' + 'a');
			break;
		}
	write_file(root, sub, lower, block, sizeof(block));
	memcpy(filler, name, sizeof(filler)); /* the last character's 4 */
	filler[51] = filler[51] == 'B' ? 'C' : 'B'; /* filler bits not 0 */
	write_file(root, sub, filler, block, sizeof(block));
	write_file(root, sub, "README", block, sizeof(block));
	write_file(root, sub, oname, block, sizeof(block)); /* wrong subdir */
	/* A subdirectory that is not two characters, and a directory named
	 * like a block in the right place. */
	snprintf(path, sizeof(path), "%s/ABC", root);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	write_file(root, "ABC", name, block, sizeof(block));
	snprintf(path, sizeof(path), "%s/%.2s", root, oname);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/%.2s/%s", root, oname, oname);
	ck_assert_int_eq(mkdir(path, 0755), 0);

	l = list_store(s);
	ck_assert_uint_eq(l->n, 1);
	ck_assert_int_eq(listed(l, ref, NULL), 1);
	free(l);
	eris_store_free(s);
}
END_TEST

/* Warnings of the library, collected by the dir cases. */
static char warnings[4096];

static void on_warning(const char *message, void *payload)
{
	size_t n = strlen(warnings);

	(void)payload;
	snprintf(warnings + n, sizeof(warnings) - n, "%s\n", message);
}

/* The root directory of the dir: store under test. */
static const char *dir_root(char *spec, size_t size)
{
	expand(spec, size, spec_template);
	return strncmp(spec, "dir:", 4) == 0 ? spec + 4 : spec;
}

/* dir: a subdirectory XX that is a link into another store is never
 * followed: not listed (a warning names it), not read, not stored
 * through, and remove (what gc and fsck --delete use) never unlinks the
 * other store's block. */
START_TEST(test_dir_sub_link_not_followed)
{
	static uint8_t block[1024], got[1024], ref[32];
	char spec[8192], other[4400], path[9000], link[9000];
	char name[ERIS_REF_BASE32_LEN + 1];
	const char *root;
	eris_store *s, *o;
	struct stat st;
	listing *l;
	size_t len;

	make_block(block, sizeof(block), ref, 2200);
	eris_base32_encode(name, ref, 32);
	snprintf(other, sizeof(other), "%s/other", tmpdir);
	ck_assert_eris(eris_store_new_dir(&o, other, 1), ERIS_OK);
	ck_assert_eris(eris_store_put(o, ref, block, sizeof(block)), ERIS_OK);
	eris_store_free(o);

	s = open_seeded(NULL);
	root = dir_root(spec, sizeof(spec));
	snprintf(link, sizeof(link), "%s/%.2s", root, name);
	snprintf(path, sizeof(path), "%s/%.2s", other, name);
	ck_assert_int_eq(symlink(path, link), 0);
	snprintf(path, sizeof(path), "%s/%.2s/%s", other, name, name);

	warnings[0] = '\0';
	eris_set_warning_handler(on_warning, NULL);
	l = list_store(s);
	eris_set_warning_handler(NULL, NULL);
	ck_assert_uint_eq(l->n, 0);
	free(l);
	ck_assert_msg(strstr(warnings, "not a plain directory") != NULL,
		      "warnings: %s", warnings);

	ck_assert_eris(eris_store_get(s, ref, got, sizeof(got), &len),
		       ERIS_EMISMATCH);
	ck_assert_ptr_nonnull(strstr(eris_error_last(), name));
	ck_assert_int_eq(eris_store_has(s, ref), 0);
	ck_assert_eris(eris_store_remove(s, ref), ERIS_ERROR);
	ck_assert_eris(eris_store_put(s, ref, block, sizeof(block)),
		       ERIS_ERROR);
	ck_assert_int_eq(lstat(path, &st), 0); /* the other store's block */
	ck_assert(S_ISREG(st.st_mode));
	ck_assert_int_eq(lstat(link, &st), 0);
	ck_assert(S_ISLNK(st.st_mode));
	eris_store_free(s);
}
END_TEST

/* dir: a FIFO or a link in a block's place is a corrupt block, reported
 * at once (opening a FIFO must not block) with the file named; has()
 * says 0, a put replaces it, remove unlinks the link and not its target;
 * the listing skips them with a warning. */
START_TEST(test_dir_block_not_regular)
{
	static uint8_t block[2][1024], got[1024], ref[2][32];
	char spec[8192], path[2][9000], target[9000];
	char name[2][ERIS_REF_BASE32_LEN + 1];
	const char *root;
	eris_store *s;
	struct stat st;
	listing *l;
	size_t len;
	FILE *f;

	s = open_seeded(NULL);
	root = dir_root(spec, sizeof(spec));
	for (int k = 0; k < 2; k++) {
		make_block(block[k], 1024, ref[k], 2300 + k);
		ck_assert_eris(eris_store_put(s, ref[k], block[k], 1024),
			       ERIS_OK);
		eris_base32_encode(name[k], ref[k], 32);
		snprintf(path[k], sizeof(path[k]), "%s/%.2s/%s", root, name[k],
			 name[k]);
		ck_assert_int_eq(unlink(path[k]), 0);
	}
	ck_assert_int_eq(mkfifo(path[0], 0644), 0);
	/* The link points at a file holding the right bytes: following it
	 * would "work", which is exactly what must not happen. */
	snprintf(target, sizeof(target), "%s/outside", tmpdir);
	f = fopen(target, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(block[1], 1, 1024, f), 1024);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(symlink(target, path[1]), 0);

	ck_assert_eris(eris_store_get(s, ref[0], got, sizeof(got), &len),
		       ERIS_EMISMATCH);
	ck_assert_ptr_nonnull(strstr(eris_error_last(), name[0]));
	ck_assert_ptr_nonnull(strstr(eris_error_last(), "FIFO"));
	ck_assert_eris(eris_store_get(s, ref[1], got, sizeof(got), &len),
		       ERIS_EMISMATCH);
	ck_assert_ptr_nonnull(strstr(eris_error_last(), name[1]));
	ck_assert_ptr_nonnull(strstr(eris_error_last(), "symbolic link"));
	ck_assert_int_eq(eris_store_has(s, ref[0]), 0);
	ck_assert_int_eq(eris_store_has(s, ref[1]), 0);

	warnings[0] = '\0';
	eris_set_warning_handler(on_warning, NULL);
	l = list_store(s);
	eris_set_warning_handler(NULL, NULL);
	ck_assert_uint_eq(l->n, 0);
	free(l);
	ck_assert_ptr_nonnull(strstr(warnings, "a FIFO"));
	ck_assert_ptr_nonnull(strstr(warnings, "a symbolic link"));

	ck_assert_eris(eris_store_remove(s, ref[1]), ERIS_OK);
	ck_assert_int_eq(lstat(path[1], &st), -1);
	ck_assert_int_eq(lstat(target, &st), 0);
	ck_assert_eris(eris_store_put(s, ref[0], block[0], 1024), ERIS_OK);
	ck_assert_eris(eris_store_get(s, ref[0], got, sizeof(got), &len),
		       ERIS_OK);
	ck_assert_mem_eq(got, block[0], 1024);
	ck_assert_int_eq(lstat(path[0], &st), 0);
	ck_assert(S_ISREG(st.st_mode));
	eris_store_free(s);
}
END_TEST

/* ----------------------------------------------------------------------
 * Composite cases: cache: and fallback:, members opened by the test.
 */

#define MAX_MEMBERS 16

/* The members' specifications, as open_members() found them. */
static char member_spec[MAX_MEMBERS][8192];

/* The members of the composite specification (after "kind:"), split at
 * unescaped ',' with "\," read as ','; opened with create. */
static size_t open_members(eris_store **members)
{
	eris_store_options opts = progenv_store_options(ERIS_STORE_CREATE);
	char spec[8192], cur[8192];
	const char *p;
	size_t n = 0, w = 0;

	expand(spec, sizeof(spec), spec_template);
	p = strchr(spec, ':');
	ck_assert_ptr_nonnull(p);
	for (p++;; p++) {
		if (p[0] == '\\' && p[1] == ',') {
			cur[w++] = ',';
			p++;
		} else if (*p == ',' || *p == '\0') {
			cur[w] = '\0';
			ck_assert_uint_lt(n, MAX_MEMBERS);
			memcpy(member_spec[n], cur, w + 1);
			ck_assert_eris(eris_store_open_opts(&members[n], cur,
							    &opts),
				       ERIS_OK);
			n++;
			w = 0;
			if (*p == '\0')
				return n;
		} else {
			cur[w++] = *p;
		}
	}
}

/* The composite the specification describes, built from members whose
 * pointers stay with the caller (borrowed: the composite owns them). */
static eris_store *open_composite(eris_store **members, size_t *n)
{
	eris_store *s;

	*n = open_members(members);
	if (traits.cache) {
		ck_assert_uint_eq(*n, 2);
		ck_assert_eris(eris_store_new_cache(&s, members[0], members[1]),
			       ERIS_OK);
	} else {
		ck_assert_eris(eris_store_new_fallback(&s, members, *n),
			       ERIS_OK);
	}
	return s;
}

/* Member i is an http:// or coap(+tcp):// store (erisd's). */
static int member_remote(size_t i)
{
	return strncmp(member_spec[i], "http://", 7) == 0 ||
	       strncmp(member_spec[i], "coap://", 7) == 0 ||
	       strncmp(member_spec[i], "coap+tcp://", 11) == 0;
}

/* What a get through the composite says of a block corrupt in member i:
 * the core's refusal, or erisd's (see test_tampered). */
static int corrupt_code(size_t i)
{
	return member_remote(i) ? ERIS_ERROR : ERIS_EMISMATCH;
}

/* Make member i hold a corrupt copy of `block` under its reference `ref`
 * (the block with one byte flipped). Through the member's back end,
 * which takes it; erisd refuses it, so a remote member gets the intact
 * block, which is then flipped in the server's files. */
static void corrupt_member(eris_store **m, size_t i, const uint8_t *ref,
			   const uint8_t *block, size_t len)
{
	static uint8_t copy[ERIS_BLOCK_SIZE_32K];
	char path[4400];
	int rc;

	memcpy(copy, block, len);
	copy[len / 2] ^= 0x10;
	rc = put_unchecked(m[i], ref, copy, len);
	if (!member_remote(i)) {
		ck_assert_eris(rc, ERIS_OK);
		return;
	}
	assert_server_put(member_spec[i], rc);
	ck_assert_eris(eris_store_put(m[i], ref, block, len), ERIS_OK);
	snprintf(path, sizeof(path), "%s/server", tmpdir);
	corrupt_in_files(path, block, len);
}

/* Encode content into `s` and return its capability. */
static void encode_into(eris_store *s, size_t block_size, eris_read_cap *cap,
			uint8_t *content)
{
	eris_encode_options opts = ERIS_ENCODE_OPTIONS_INIT;

	opts.block_size = block_size;
	fill_random(content, CONTENT_SIZE, block_size, 0);
	ck_assert_eris(eris_encode(cap, s, &opts, content, CONTENT_SIZE),
		       ERIS_OK);
}

static int decode_from(eris_store *s, const eris_read_cap *cap,
		       const uint8_t *content)
{
	uint8_t *back = malloc(CONTENT_SIZE);
	eris_decoder *dec;
	size_t got = 0;
	int rc;

	ck_assert_ptr_nonnull(back);
	ck_assert_eris(eris_decoder_new(&dec, s, cap), ERIS_OK);
	rc = eris_decoder_pread(dec, back, CONTENT_SIZE, 0, &got);
	if (rc == ERIS_OK) {
		ck_assert_uint_eq(got, CONTENT_SIZE);
		ck_assert_mem_eq(back, content, CONTENT_SIZE);
	}
	eris_decoder_free(dec);
	free(back);
	return rc;
}

/* A listing's blocks all present in `s`. */
static void assert_all_in(const listing *l, eris_store *s, int expected)
{
	for (size_t i = 0; i < l->n; i++)
		ck_assert_int_eq(eris_store_has(s, l->refs[i]), expected);
}

/* cache: a get fills LOCAL from REMOTE; so does decoding (batched). */
START_TEST(test_cache_fills_local)
{
	static uint8_t block[2][32768], got[32768], ref[2][32];
	uint8_t *content = malloc(CONTENT_SIZE);
	eris_store *m[MAX_MEMBERS], *s, *scratch = new_seed();
	eris_read_cap cap;
	listing *l, *local;
	size_t n, len;

	s = open_composite(m, &n);
	for (int k = 0; k < 2; k++) {
		make_block(block[k], sizes[k], ref[k], 1400 + (uint64_t)k);
		ck_assert_eris(eris_store_put(m[1], ref[k], block[k], sizes[k]),
			       ERIS_OK);
		ck_assert_int_eq(eris_store_has(m[0], ref[k]), 0);
		ck_assert_int_eq(eris_store_has(s, ref[k]), 1);
		ck_assert_eris(eris_store_get(s, ref[k], got, sizeof(got),
					      &len),
			       ERIS_OK);
		ck_assert_uint_eq(len, sizes[k]);
		ck_assert_mem_eq(got, block[k], sizes[k]);
		ck_assert_int_eq(eris_store_has(m[0], ref[k]), 1);
		ck_assert_eris(eris_store_get(m[0], ref[k], got, sizeof(got),
					      &len),
			       ERIS_OK);
		ck_assert_mem_eq(got, block[k], sizes[k]);
	}
	/* Decoding goes through the batched path. */
	for (int k = 0; k < 2; k++) {
		encode_into(scratch, sizes[k], &cap, content);
		copy_blocks(scratch, m[1]);
		ck_assert_int_eq(decode_from(s, &cap, content), ERIS_OK);
	}
	l = list_store(scratch);
	ck_assert_uint_gt(l->n, 300);
	assert_all_in(l, m[0], 1);
	free(l);
	/* The cache lists LOCAL: now everything fetched. */
	l = list_store(s);
	local = list_store(m[0]);
	ck_assert_uint_eq(l->n, local->n);
	free(local);
	free(l);
	eris_store_free(scratch);
	eris_store_free(s);
	free(content);
}
END_TEST

/* cache: a corrupt remote block is refused and not cached. */
START_TEST(test_cache_refuses_corrupt)
{
	static uint8_t good[32768], got[32768], ref[32], bref[32];
	uint8_t *content = malloc(CONTENT_SIZE);
	eris_store *m[MAX_MEMBERS], *s, *scratch = new_seed();
	eris_read_cap cap;
	listing *l;
	size_t n, len;
	int rc;

	s = open_composite(m, &n);
	for (int k = 0; k < 2; k++) {
		make_block(good, sizes[k], ref, 1500 + (uint64_t)k);
		corrupt_member(m, 1, ref, good, sizes[k]);
		rc = eris_store_get(s, ref, got, sizeof(got), &len);
		ck_assert_eris(rc, corrupt_code(1));
		if (member_remote(1))
			assert_server_refused_get(member_spec[1], rc);
		ck_assert_int_eq(eris_store_has(m[0], ref), 0);
		/* Twice: still refused, still not cached. */
		ck_assert_eris(eris_store_get(s, ref, got, sizeof(got), &len),
			       corrupt_code(1));
		ck_assert_int_eq(eris_store_has(m[0], ref), 0);
	}
	/* Batched: content with one corrupt block in REMOTE. */
	encode_into(scratch, ERIS_BLOCK_SIZE_1K, &cap, content);
	l = list_store(scratch);
	for (size_t i = 0; i < l->n; i++) {
		ck_assert_eris(eris_store_get(scratch, l->refs[i], good,
					      sizeof(good), &len),
			       ERIS_OK);
		if (i == l->n / 2) {
			memcpy(bref, l->refs[i], 32);
			corrupt_member(m, 1, bref, good, len);
		} else {
			ck_assert_eris(eris_store_put(m[1], l->refs[i], good,
						      len),
				       ERIS_OK);
		}
	}
	ck_assert_eris(decode_from(s, &cap, content), corrupt_code(1));
	ck_assert_int_eq(eris_store_has(m[0], bref), 0);
	ck_assert_eris(eris_verify(s, &cap, NULL, NULL, NULL), corrupt_code(1));
	ck_assert_int_eq(eris_store_has(m[0], bref), 0);
	free(l);
	eris_store_free(scratch);
	eris_store_free(s);
	free(content);
}
END_TEST

/* cache: put goes to LOCAL and REMOTE; remove and foreach see LOCAL. */
START_TEST(test_cache_put_remove)
{
	static uint8_t block[1024], ref[32];
	eris_store *m[MAX_MEMBERS], *s;
	listing *l;
	size_t n;

	s = open_composite(m, &n);
	make_block(block, sizeof(block), ref, 1700);
	ck_assert_eris(eris_store_put(s, ref, block, sizeof(block)), ERIS_OK);
	ck_assert_int_eq(eris_store_has(m[0], ref), 1);
	ck_assert_int_eq(eris_store_has(m[1], ref), 1);
	ck_assert_eris(eris_store_remove(s, ref), ERIS_OK);
	ck_assert_int_eq(eris_store_has(m[0], ref), 0);
	ck_assert_int_eq(eris_store_has(m[1], ref), 1);
	l = list_store(s);
	ck_assert_uint_eq(l->n, 0);
	free(l);
	ck_assert_eris(eris_store_flush(s), ERIS_OK);
	eris_store_free(s);
}
END_TEST

/* fallback: a corrupt copy in one member is skipped for the good copy in
 * a later one; get and batched get alike. */
START_TEST(test_fallback_skips_corrupt)
{
	static uint8_t good[32768], got[32768], ref[32];
	uint8_t *content = malloc(CONTENT_SIZE);
	eris_store *m[MAX_MEMBERS], *s, *scratch = new_seed();
	eris_read_cap cap;
	listing *l;
	size_t n, len;

	s = open_composite(m, &n);
	if (n < 2) {
		eris_store_free(s);
		eris_store_free(scratch);
		free(content);
		return;
	}
	for (int k = 0; k < 2; k++) {
		make_block(good, sizes[k], ref, 1800 + (uint64_t)k);
		/* Corrupt in the first, absent: the corruption is reported. */
		corrupt_member(m, 0, ref, good, sizes[k]);
		ck_assert_eris(eris_store_get(s, ref, got, sizeof(got), &len),
			       ERIS_EMISMATCH);
		ck_assert_ptr_nonnull(strstr(eris_error_last(), "hash"));
		/* Good in the last: that one is returned. */
		ck_assert_eris(eris_store_put(m[n - 1], ref, good, sizes[k]),
			       ERIS_OK);
		ck_assert_eris(eris_store_get(s, ref, got, sizeof(got), &len),
			       ERIS_OK);
		ck_assert_uint_eq(len, sizes[k]);
		ck_assert_mem_eq(got, good, sizes[k]);
	}
	/* Batched: every block in the first member, one of them corrupt;
	 * all good in the last. */
	encode_into(scratch, ERIS_BLOCK_SIZE_1K, &cap, content);
	l = list_store(scratch);
	for (size_t i = 0; i < l->n; i++) {
		ck_assert_eris(eris_store_get(scratch, l->refs[i], good,
					      sizeof(good), &len),
			       ERIS_OK);
		if (i == l->n / 3)
			corrupt_member(m, 0, l->refs[i], good, len);
		else
			ck_assert_eris(eris_store_put(m[0], l->refs[i], good,
						      len),
				       ERIS_OK);
	}
	copy_blocks(scratch, m[n - 1]);
	ck_assert_eris(decode_from(s, &cap, content), ERIS_OK);
	ck_assert_eris(eris_verify(s, &cap, NULL, NULL, NULL), ERIS_OK);
	free(l);
	eris_store_free(scratch);
	eris_store_free(s);
	free(content);
}
END_TEST

/* fallback: put goes to the first member; has and get see every member;
 * foreach lists the union, each block once; remove clears all. */
START_TEST(test_fallback_members)
{
	static uint8_t block[3][1024], got[1024], ref[3][32];
	eris_store *m[MAX_MEMBERS], *s;
	listing *l;
	size_t n, len;

	s = open_composite(m, &n);
	for (int k = 0; k < 3; k++)
		make_block(block[k], 1024, ref[k], 2000 + (uint64_t)k);
	ck_assert_eris(eris_store_get(s, ref[0], got, sizeof(got), &len),
		       ERIS_ENOTFOUND);
	ck_assert_eris(eris_store_put(s, ref[0], block[0], 1024), ERIS_OK);
	ck_assert_int_eq(eris_store_has(m[0], ref[0]), 1);
	for (size_t i = 1; i < n; i++)
		ck_assert_int_eq(eris_store_has(m[i], ref[0]), 0);
	/* ref[1] only in the last member, ref[2] in all. */
	ck_assert_eris(eris_store_put(m[n - 1], ref[1], block[1], 1024),
		       ERIS_OK);
	for (size_t i = 0; i < n; i++)
		ck_assert_eris(eris_store_put(m[i], ref[2], block[2], 1024),
			       ERIS_OK);
	for (int k = 0; k < 3; k++) {
		ck_assert_int_eq(eris_store_has(s, ref[k]), 1);
		ck_assert_eris(eris_store_get(s, ref[k], got, sizeof(got),
					      &len),
			       ERIS_OK);
		ck_assert_mem_eq(got, block[k], 1024);
	}
	if (traits.unlisted) {
		/* A remote member can neither list nor remove: the others
		 * still remove theirs. */
		assert_cannot_list(s);
		ck_assert_eris(eris_store_remove(s, ref[2]), ERIS_ENOTSUP);
		for (size_t i = 0; i < n; i++)
			ck_assert_int_eq(eris_store_has(m[i], ref[2]),
					 member_remote(i));
		ck_assert_eris(eris_store_flush(s), ERIS_OK);
		eris_store_free(s);
		return;
	}
	l = list_store(s);
	ck_assert_uint_eq(l->n, 3);
	for (int k = 0; k < 3; k++)
		ck_assert_int_eq(listed(l, ref[k], NULL), 1);
	free(l);
	ck_assert_eris(eris_store_remove(s, ref[2]), ERIS_OK);
	for (size_t i = 0; i < n; i++)
		ck_assert_int_eq(eris_store_has(m[i], ref[2]), 0);
	ck_assert_eris(eris_store_get(s, ref[2], got, sizeof(got), &len),
		       ERIS_ENOTFOUND);
	ck_assert_eris(eris_store_flush(s), ERIS_OK);
	eris_store_free(s);
}
END_TEST

/* Constructors take their members even when they fail. */
START_TEST(test_composite_constructors)
{
	eris_store *a, *b, *s;
	eris_store *list[2];

	ck_assert_eris(eris_store_new_mem(&a), ERIS_OK);
	ck_assert_eris(eris_store_new_cache(&s, a, NULL), ERIS_EINVAL);
	ck_assert_ptr_null(s);
	ck_assert_eris(eris_store_new_fallback(&s, list, 0), ERIS_EINVAL);
	ck_assert_ptr_null(s);
	ck_assert_eris(eris_store_new_mem(&a), ERIS_OK);
	list[0] = a;
	list[1] = NULL;
	ck_assert_eris(eris_store_new_fallback(&s, list, 2), ERIS_EINVAL);
	ck_assert_ptr_null(s);
	/* a was freed with the failure; under valgrind a leak shows. */
	ck_assert_eris(eris_store_new_mem(&a), ERIS_OK);
	ck_assert_eris(eris_store_new_mem(&b), ERIS_OK);
	list[0] = a;
	list[1] = b;
	ck_assert_eris(eris_store_new_fallback(&s, list, 2), ERIS_OK);
	list[0] = list[1] = NULL; /* the array is copied */
	ck_assert_eris(eris_store_flush(s), ERIS_OK);
	eris_store_free(s);
}
END_TEST

/* ----------------------------------------------------------------------
 */

static void set_traits(const char *spec)
{
	size_t len;

	traits.read_only = strncmp(spec, "cbor:", 5) == 0;
	traits.persistent = strstr(spec, "mem:") == NULL;
	traits.cache = strncmp(spec, "cache:", 6) == 0;
	traits.fallback = strncmp(spec, "fallback:", 9) == 0;
	traits.remote = placeholder(spec, &len) != SRV_N;
	traits.objects = strncmp(spec, "s3:", 3) == 0;
	traits.cluster = strncmp(spec, "rados:", 6) == 0;
	traits.dir = strncmp(spec, "dir:", 4) == 0 ||
		     (spec[0] == '%' && !traits.remote) || spec[0] == '/';
	for (const char *p = spec; *p; p++) {
		int k = placeholder(p, &len);

		if (k != SRV_N)
			srv_wanted[k] = traits.server = 1;
	}
	/* A cache lists and removes in LOCAL only. */
	traits.unlisted = traits.remote || (traits.fallback && traits.server);
}

int main(int argc, char **argv)
{
	const char *base;
	Suite *suite;
	TCase *tc;
	int rc;

	if (argc != 2) {
		fprintf(stderr,
			"usage: %s SPEC  (a store specification; %%T stands "
			"for a fresh temporary directory)\n",
			argv[0]);
		return 2;
	}
	spec_template = argv[1];
	set_traits(spec_template);
	base = getenv("TMPDIR");
	if (base == NULL || base[0] != '/')
		base = "/tmp";
	snprintf(basedir, sizeof(basedir), "%s/eris-conformance-XXXXXX", base);
	if (mkdtemp(basedir) == NULL) {
		perror(basedir);
		return 1;
	}
	/* The directory is pasted into specifications unescaped. */
	if (strpbrk(basedir, ",\\") != NULL) {
		fprintf(stderr, "%s: a ',' or '\\' in the temporary "
			"directory %s\n", argv[0], basedir);
		rmdir(basedir);
		return 1;
	}
	/* A server that cannot run here skips the run rather than fail
	 * every case. */
	if (traits.server) {
		rc = server_start(basedir);
		server_stop();
		if (rc != 0) {
			nftw(basedir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
			if (rc == 77)
				fprintf(stderr, "SKIP: erisd cannot run here\n");
			return rc == 77 ? 77 : 1;
		}
	}
	suite = suite_create("store-conformance");

	tc = tcase_create("store");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_roundtrip);
	tcase_add_test(tc, test_idempotent_put);
	tcase_add_test(tc, test_put_refused);
	tcase_add_test(tc, test_small_buffer);
	tcase_add_test(tc, test_foreach);
	tcase_add_test(tc, test_remove);
	tcase_add_test(tc, test_foreach_remove);
	tcase_add_test(tc, test_remove_many);
	tcase_add_test(tc, test_codec);
	tcase_add_test(tc, test_flush);
	tcase_add_test(tc, test_tampered);
	tcase_add_test(tc, test_module_route);
	if (traits.persistent)
		tcase_add_test(tc, test_reopen);
	if (traits.read_only)
		tcase_add_test(tc, test_read_only);
	if (traits.dir) {
		tcase_add_test(tc, test_dir_ignores_junk);
		tcase_add_test(tc, test_dir_sub_link_not_followed);
		tcase_add_test(tc, test_dir_block_not_regular);
	}
	suite_add_tcase(suite, tc);

	if (traits.cache || traits.fallback) {
		tc = tcase_create("composite");
		tcase_add_checked_fixture(tc, setup, teardown);
		tcase_set_timeout(tc, 120);
		if (traits.cache) {
			tcase_add_test(tc, test_cache_fills_local);
			tcase_add_test(tc, test_cache_refuses_corrupt);
			tcase_add_test(tc, test_cache_put_remove);
		} else {
			tcase_add_test(tc, test_fallback_skips_corrupt);
			tcase_add_test(tc, test_fallback_members);
		}
		tcase_add_test(tc, test_composite_constructors);
		suite_add_tcase(suite, tc);
	}
	rc = run_suite(suite);
	if (nftw(basedir, remove_entry, 16, FTW_DEPTH | FTW_PHYS) < 0) {
		perror(basedir);
		rc = 1;
	}
	return rc;
}
