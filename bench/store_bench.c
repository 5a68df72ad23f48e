/*
 * store_bench.c - eris-store-bench: how many blocks per second each block
 * store puts and gets, for 1 KiB and 32 KiB blocks, through the public
 * store API.
 *
 * Why: the codec runs at about a GiB/s (docs/PERFORMANCE.md), so the store
 * decides how fast content goes in and out in practice; choosing the
 * default store and sizing caches needs numbers for each back end under
 * the same load.
 *
 * Load: N valid blocks (pseudo-random bytes, reference = BLAKE2b-256),
 * 100 000 x 1 KiB and 10 000 x 32 KiB by default, generated in memory
 * before any timing. Each store starts empty in a fresh directory under
 * --dir (default $TMPDIR or /tmp: the same disk as the usual temporary
 * files).
 *
 *   put  eris_store_put() of the N blocks in generation order (random,
 *        since references are), then one eris_store_flush(); the flush is
 *        inside the time. eris_store_put() hashes each block to check it.
 *   get  eris_store_get() of the N blocks in a shuffled order, into one
 *        buffer; eris_store_get() hashes each block to verify it. The data
 *        were just written, so file-backed stores read from the page cache.
 *   get_many8, try_many8 (dir: only)  the same blocks 8 at a time, as
 *        erisd's loops take their misses: eris_store_get_many() (one
 *        open, read and close per file) and eris_store_try_get_many()
 *        (one io_uring submission per batch where liberis has liburing);
 *        both hash the 8 blocks together.
 *
 * Stores: mem:, dir:, sqlite:, cbor: (read-only: get only, from a bundle
 * written with the bundle writer before timing), and cache:mem:,sqlite:
 * three ways: put (to both), get cold (a fresh cache over the filled
 * sqlite file: every block comes from sqlite, is verified and copied into
 * mem:) and get warm (the same again: every block is a mem: hit). A store
 * that cannot be opened is reported as skipped, with the reason.
 *
 * For scale, "hash only" is the BLAKE2b-256 of the N blocks one at a time,
 * the check every put and get includes.
 *
 * Each measurement runs --reps times (default 1) on a fresh store; the
 * best time is reported. Blocks/s and MiB/s (2^20 bytes of blocks).
 *
 * Usage: eris-store-bench [--dir DIR] [--n1k N] [--n32k N] [--reps R]
 *                         [--only NAME]
 * Not part of ctest.
 */
#define _GNU_SOURCE /* nftw */
#include "bench_util.h"
#include <eris/eris.h>
#include <eris/sys/store_backend.h> /* eris_error_set */

/* liberis' own BLAKE2b (internal, from the static library): the hash-only
 * row and the references. */
#include "crypto/crypto.h"
#include "progenv.h"

#include <eris/bundle.h>
#include <sodium.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MIB (1024.0 * 1024.0)

#ifndef ERIS_BENCH_BUILD_TYPE
#define ERIS_BENCH_BUILD_TYPE "unknown"
#endif
#ifndef ERIS_BENCH_C_FLAGS
#define ERIS_BENCH_C_FLAGS "unknown"
#endif

/* The blocks of one size. */
struct load {
	size_t bs, n;
	uint8_t *blocks;               /* n * bs bytes */
	uint8_t (*refs)[ERIS_REF_BYTES]; /* n references */
	size_t *order;                 /* a permutation of 0..n-1 for gets */
};

static char base_dir[4096];
static int reps = 1;
static const char *only;
static unsigned run_counter;




static void make_load(struct load *l, size_t bs, size_t n)
{
	uint8_t seed[randombytes_SEEDBYTES] = {(uint8_t)(bs >> 10)};

	l->bs = bs;
	l->n = n;
	l->blocks = bench_xmalloc(n * bs);
	l->refs = bench_xmalloc(n * sizeof(*l->refs));
	l->order = bench_xmalloc(n * sizeof(*l->order));
	randombytes_buf_deterministic(l->blocks, n * bs, seed);
	for (size_t i = 0; i < n; i++) {
		eris__blake2b(l->refs[i], l->blocks + i * bs, bs);
		l->order[i] = i;
	}
	/* Fisher-Yates with a fixed generator (xorshift64): the same order
	 * every run. */
	for (size_t i = n, x = 0x9E3779B97F4A7C15u; i > 1; i--) {
		size_t j;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		j = (size_t)(x % i);
		size_t t = l->order[i - 1];

		l->order[i - 1] = l->order[j];
		l->order[j] = t;
	}
}

static void free_load(struct load *l)
{
	free(l->blocks);
	free(l->refs);
	free(l->order);
}

/* ----------------------------------------------------------------------
 * Scratch directories
 */

static int remove_entry(const char *path, const struct stat *st, int flag,
			struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void remove_tree(const char *path)
{
	if (nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS) < 0)
		fprintf(stderr, "eris-store-bench: cannot remove %s\n", path);
}

/* A fresh directory for one run; "%D" in `templ` becomes it. */
static void fresh_spec(char *spec, size_t size, const char *templ,
		       char *dir, size_t dir_size)
{
	size_t o = 0;

	snprintf(dir, dir_size, "%s/run-%u", base_dir, run_counter++);
	if (mkdir(dir, 0755) < 0) {
		perror(dir);
		exit(1);
	}
	for (const char *p = templ; *p && o + 1 < size; p++) {
		if (p[0] == '%' && p[1] == 'D') {
			o += (size_t)snprintf(spec + o, size - o, "%s", dir);
			p++;
		} else {
			spec[o++] = *p;
		}
	}
	spec[o < size ? o : size - 1] = '\0';
}

/* ----------------------------------------------------------------------
 * The measurements
 */

static double time_put(eris_store *s, const struct load *l)
{
	double t0 = bench_now();
	int rc;

	for (size_t i = 0; i < l->n; i++)
		if ((rc = eris_store_put(s, l->refs[i], l->blocks + i * l->bs,
					 l->bs)) < 0)
			bench_die("eris_store_put", rc);
	if ((rc = eris_store_flush(s)) < 0)
		bench_die("eris_store_flush", rc);
	return bench_now() - t0;
}

static double time_get(eris_store *s, const struct load *l)
{
	static uint8_t buf[ERIS_BLOCK_SIZE_32K];
	double t0 = bench_now();
	size_t len;
	int rc;

	for (size_t k = 0; k < l->n; k++) {
		size_t i = l->order[k];

		if ((rc = eris_store_get(s, l->refs[i], buf, sizeof(buf),
					 &len)) < 0)
			bench_die("eris_store_get", rc);
	}
	/* One spot check, outside the loop's time budget in practice. */
	if (memcmp(buf, l->blocks + l->order[l->n - 1] * l->bs, l->bs) != 0) {
		fprintf(stderr, "eris-store-bench: wrong block returned\n");
		exit(1);
	}
	return bench_now() - t0;
}

/* The blocks in the shuffled order, BATCH at a time, with get_many or
 * (nowait) try_get_many, which must find every one at hand. */
#define BATCH 8
static double time_many(eris_store *s, const struct load *l, int nowait)
{
	static uint8_t bufs[BATCH][ERIS_BLOCK_SIZE_32K];
	uint8_t refs[BATCH][ERIS_REF_BYTES], *ptrs[BATCH];
	size_t lens[BATCH], k = 0, n = 0;
	int results[BATCH], rc;
	double t0 = bench_now();

	for (size_t j = 0; j < BATCH; j++)
		ptrs[j] = bufs[j];
	while (k < l->n) {
		n = l->n - k < BATCH ? l->n - k : BATCH;
		for (size_t j = 0; j < n; j++)
			memcpy(refs[j], l->refs[l->order[k + j]],
			       ERIS_REF_BYTES);
		rc = (nowait ? eris_store_try_get_many : eris_store_get_many)(
			s, n, (const uint8_t(*)[ERIS_REF_BYTES])refs, ptrs,
			ERIS_BLOCK_SIZE_32K, lens, results);
		if (rc < 0)
			bench_die(nowait ? "eris_store_try_get_many"
				      : "eris_store_get_many",
				  rc);
		for (size_t j = 0; j < n; j++)
			if (results[j] != ERIS_OK)
				bench_die(nowait ? "a block not at hand"
					      : "eris_store_get_many",
					  results[j]);
		k += n;
	}
	if (n > 0 && memcmp(bufs[n - 1], l->blocks + l->order[l->n - 1] * l->bs,
			    l->bs) != 0) {
		fprintf(stderr, "eris-store-bench: wrong block returned\n");
		exit(1);
	}
	return bench_now() - t0;
}

static void report(const char *store, const char *op, const struct load *l,
		   double seconds)
{
	printf("| %-22s | %-9s | %6s | %10.0f | %8.1f |\n", store, op,
	       l->bs == ERIS_BLOCK_SIZE_1K ? "1 KiB" : "32 KiB",
	       (double)l->n / seconds,
	       (double)l->n * (double)l->bs / MIB / seconds);
	fflush(stdout);
}

static void report_skip(const char *store, const struct load *l,
			const char *why)
{
	printf("| %-22s | %-9s | %6s | %10s | %8s |  skipped: %s\n", store,
	       "-", l->bs == ERIS_BLOCK_SIZE_1K ? "1 KiB" : "32 KiB", "-", "-",
	       why);
	fflush(stdout);
}

static double best_of(double a, double b)
{
	return a < b ? a : b;
}

static int selected(const char *name)
{
	return only == NULL || strcmp(only, name) == 0;
}

/* A writable store: put, then get (with `many`: also get_many8 and
 * try_many8), best of `reps` fresh stores. */
static void bench_writable(const char *name, const char *templ,
			   const struct load *l, int many)
{
	char spec[8192], dir[4200];
	double put = 1e300, get = 1e300, get8 = 1e300, try8 = 1e300;
	eris_store *s;
	int rc;

	if (!selected(name))
		return;
	for (int r = 0; r < reps; r++) {
		fresh_spec(spec, sizeof(spec), templ, dir, sizeof(dir));
		rc = eris_store_open(&s, spec, 1);
		if (rc < 0) {
			report_skip(name, l, eris_error_last());
			remove_tree(dir);
			return;
		}
		put = best_of(put, time_put(s, l));
		get = best_of(get, time_get(s, l));
		if (many) {
			get8 = best_of(get8, time_many(s, l, 0));
			try8 = best_of(try8, time_many(s, l, 1));
		}
		eris_store_free(s);
		remove_tree(dir);
	}
	report(name, "put", l, put);
	report(name, "get", l, get);
	if (many) {
		report(name, "get_many8", l, get8);
		report(name, "try_many8", l, try8);
	}
}

/* cache:mem:,sqlite: put to both; get cold (every block from sqlite,
 * verified, copied into mem:), then get warm (mem: hits). */
static void bench_cache(const char *name, const struct load *l)
{
	char spec[8192], dir[4200];
	double put = 1e300, cold = 1e300, warm = 1e300;
	eris_store *s;
	int rc;

	if (!selected(name))
		return;
	for (int r = 0; r < reps; r++) {
		fresh_spec(spec, sizeof(spec), "cache:mem:,sqlite:%D/c.sqlite",
			   dir, sizeof(dir));
		rc = eris_store_open(&s, spec, 1);
		if (rc < 0) {
			report_skip(name, l, eris_error_last());
			remove_tree(dir);
			return;
		}
		put = best_of(put, time_put(s, l));
		eris_store_free(s);
		if ((rc = eris_store_open(&s, spec, 0)) < 0)
			bench_die("reopening the cache", rc);
		cold = best_of(cold, time_get(s, l));
		warm = best_of(warm, time_get(s, l));
		eris_store_free(s);
		remove_tree(dir);
	}
	report(name, "put", l, put);
	report(name, "get cold", l, cold);
	report(name, "get warm", l, warm);
}

/* Write the load's blocks as a CBOR bundle at `path` (untimed). */
static int write_bundle(const char *path, const struct load *l)
{
	eris_bundle_writer *w = NULL;
	FILE *f = fopen(path, "wb");
	int rc;

	if (f == NULL)
		return eris_error_set(ERIS_ERROR, "cannot create %s", path);
	rc = eris_bundle_writer_new(&w, fileno(f), l->n, 0);
	for (size_t i = 0; rc == ERIS_OK && i < l->n; i++)
		rc = eris_bundle_writer_add_block(w, l->refs[i],
						  l->blocks + i * l->bs, l->bs);
	if (rc == ERIS_OK)
		rc = eris_bundle_writer_finish(w);
	eris_bundle_writer_free(w);
	if (fclose(f) != 0 && rc == ERIS_OK)
		rc = eris_error_set(ERIS_ERROR, "cannot write %s", path);
	return rc;
}

/* cbor: (read-only): write the bundle, untimed; then time gets. */
static void bench_cbor(const char *name, const struct load *l)
{
	char spec[8192], dir[4200];
	double get = 1e300;
	eris_store *s;
	int rc;

	if (!selected(name))
		return;
	for (int r = 0; r < reps; r++) {
		fresh_spec(spec, sizeof(spec), "cbor:%D/b.cbor", dir,
			   sizeof(dir));
		rc = write_bundle(spec + 5, l);
		if (rc == ERIS_OK)
			rc = eris_store_open(&s, spec, 0);
		if (rc < 0) {
			report_skip(name, l, eris_error_last());
			remove_tree(dir);
			return;
		}
		get = best_of(get, time_get(s, l));
		eris_store_free(s);
		remove_tree(dir);
	}
	report(name, "get", l, get);
}

static void bench_hash(const struct load *l)
{
	uint8_t digest[ERIS_REF_BYTES];
	double best = 1e300;

	if (!selected("hash"))
		return;
	for (int r = 0; r < reps; r++) {
		double t0 = bench_now();

		for (size_t i = 0; i < l->n; i++)
			eris__blake2b(digest, l->blocks + l->order[i] * l->bs,
				      l->bs);
		best = best_of(best, bench_now() - t0);
		if (memcmp(digest, l->refs[l->order[l->n - 1]], 32) != 0) {
			fprintf(stderr, "eris-store-bench: hash mismatch\n");
			exit(1);
		}
	}
	report("hash only (BLAKE2b)", "hash", l, best);
}

static void bench_size(size_t bs, size_t n)
{
	struct load l;

	if (n == 0)
		return;
	make_load(&l, bs, n);
	bench_hash(&l);
	bench_writable("mem", "mem:", &l, 0);
	bench_writable("dir", "dir:%D/blocks", &l, 1);
	bench_writable("sqlite", "sqlite:%D/x.sqlite", &l, 0);
	bench_cbor("cbor", &l);
	bench_cache("cache:mem:,sqlite:", &l);
	free_load(&l);
}

static void print_cpu(void)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[512];

	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "model name", 10) == 0) {
			char *colon = strchr(line, ':');

			printf("cpu: %s", colon ? colon + 2 : line);
			break;
		}
	fclose(f);
}

static void usage(FILE *f)
{
	fputs("Usage: eris-store-bench [--dir DIR] [--n1k N] [--n32k N] "
	      "[--reps R] [--only NAME]\n"
	      "  NAME: hash, mem, dir, sqlite, cbor, cache:mem:,sqlite:\n",
	      f);
}

int main(int argc, char **argv)
{
	const char *parent = getenv("TMPDIR");
	size_t n1k = 100000, n32k = 10000;
	int rc;

	bench_name = "eris-store-bench";
	if (progenv_configure(bench_name) != ERIS_OK)
		return 2;
	if (parent == NULL || parent[0] == '\0')
		parent = "/tmp";
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i], *val = i + 1 < argc ? argv[i + 1]
							       : NULL;

		if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
			usage(stdout);
			return 0;
		}
		if (val == NULL) {
			usage(stderr);
			return 2;
		}
		i++;
		if (strcmp(arg, "--dir") == 0)
			parent = val;
		else if (strcmp(arg, "--n1k") == 0)
			n1k = strtoul(val, NULL, 10);
		else if (strcmp(arg, "--n32k") == 0)
			n32k = strtoul(val, NULL, 10);
		else if (strcmp(arg, "--reps") == 0)
			reps = atoi(val) > 0 ? atoi(val) : 1;
		else if (strcmp(arg, "--only") == 0)
			only = val;
		else {
			usage(stderr);
			return 2;
		}
	}
	if ((rc = eris_init()) < 0)
		bench_die("eris_init", rc);
	if (sodium_init() < 0) {
		fprintf(stderr, "eris-store-bench: sodium_init failed\n");
		return 1;
	}
	snprintf(base_dir, sizeof(base_dir), "%s/eris-store-bench-XXXXXX",
		 parent);
	if (mkdtemp(base_dir) == NULL) {
		perror(base_dir);
		return 1;
	}
	printf("eris-store-bench: %zu x 1 KiB, %zu x 32 KiB, best of %d, "
	       "in %s\n",
	       n1k, n32k, reps, base_dir);
	print_cpu();
	printf("build: %s (%s); BLAKE2b: %s\n\n", ERIS_BENCH_BUILD_TYPE,
	       ERIS_BENCH_C_FLAGS, eris__blake2b_path());
	printf("| %-22s | %-9s | %6s | %10s | %8s |\n", "store", "operation",
	       "block", "blocks/s", "MiB/s");
	printf("| %-22s | %-9s | %6s | %10s | %8s |\n",
	       "----------------------", "---------", "-----:", "---------:",
	       "-------:");
	bench_size(ERIS_BLOCK_SIZE_1K, n1k);
	bench_size(ERIS_BLOCK_SIZE_32K, n32k);
	remove_tree(base_dir);
	return 0;
}
