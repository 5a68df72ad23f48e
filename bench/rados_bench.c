/*
 * rados_bench.c - eris-rados-bench: blocks/s of 32 KiB blocks put into
 * and got from a Ceph pool through the rados: store, beside a bare
 * librados client doing the same in the same run.
 *
 * Why: the rados: store should cost little over librados itself (target:
 * at least 0.8x the bare client at the same concurrency); measuring both
 * in one run on one cluster keeps the comparison honest on a shared
 * machine.
 *
 * Load: N valid 32 KiB blocks per measurement (pseudo-random bytes,
 * reference = BLAKE2b-256), generated in memory before any timing; each
 * put measurement writes blocks no other has written, in a namespace of
 * its own (bench-store-PID, bench-bare-PID), so every put creates an
 * object.
 *
 *   store, 1 in flight   eris_store_put() / eris_store_get() in a loop
 *                        (each hashes the block: put checks, get
 *                        verifies)
 *   store, 16 in flight  16 threads sharing the store, each doing its
 *                        part of the loop
 *   store, get_many      what the decoder (eris get) does: the back end's
 *                        get_many in batches of 64 blocks (16 reads in
 *                        flight), then eris_block_verify() of each block
 *   bare, 1 in flight    rados_write_full() / rados_read(), synchronous
 *   bare, 16 in flight   one thread keeping 16 rados_aio_write_full() /
 *                        rados_aio_read() in flight
 * Gets read the blocks the put of the same concurrency wrote, in the
 * same order. Objects are named as the store names them (base32).
 *
 * Each measurement runs --reps times (default 1; the objects a put wrote
 * are removed, untimed, before the next put); the best is reported.
 *
 * Usage: eris-rados-bench --conf CEPH_CONF [--pool POOL] [--n N]
 *                         [--reps R]
 * (default pool eris, N 2000). The objects are removed at the end.
 * Not part of ctest; needs a cluster (tools/ceph-up.sh).
 */
#include "internal.h" /* eris__store_get_many_raw, as the decoder */
#include "machine.h"

#include <eris/eris.h>
#include <rados/librados.h>
#include <sodium.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BLOCK 32768
#define IN_FLIGHT 16
#define NAME_LEN 52
#define BATCH 64

static size_t n_blocks = 2000;
static uint8_t *blocks;               /* 2 x n_blocks blocks */
static uint8_t (*refs)[32];
static char (*names)[NAME_LEN + 1];

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, int rc)
{
	fprintf(stderr, "eris-rados-bench: %s: %d %s\n", what, rc,
		rc < 0 && rc > -200 ? strerror(-rc) : "");
	exit(1);
}

/* Blocks [first, first + n) of the load. */
typedef struct {
	eris_store *store;
	size_t first, n;
	int get;
} job;

static void *store_worker(void *p)
{
	job *j = p;
	uint8_t *buf = malloc(BLOCK);
	size_t len;
	int rc;

	for (size_t i = j->first; i < j->first + j->n; i++) {
		if (j->get)
			rc = eris_store_get(j->store, refs[i], buf, BLOCK,
					    &len);
		else
			rc = eris_store_put(j->store, refs[i],
					    blocks + i * BLOCK, BLOCK);
		if (rc < 0) {
			fprintf(stderr, "%s\n", eris_error_last());
			die(j->get ? "eris_store_get" : "eris_store_put", rc);
		}
	}
	free(buf);
	return NULL;
}

/* Blocks/s of the store doing [first, first + n) with `threads`. */
static double store_run(eris_store *s, size_t first, int threads, int get)
{
	pthread_t t[IN_FLIGHT];
	job j[IN_FLIGHT];
	double t0 = now();

	for (int k = 0; k < threads; k++) {
		j[k].store = s;
		j[k].get = get;
		j[k].first = first + n_blocks * (size_t)k / (size_t)threads;
		j[k].n = first + n_blocks * (size_t)(k + 1) / (size_t)threads -
			 j[k].first;
		if (pthread_create(&t[k], NULL, store_worker, &j[k]) != 0)
			die("pthread_create", -1);
	}
	for (int k = 0; k < threads; k++)
		pthread_join(t[k], NULL);
	return (double)n_blocks / (now() - t0);
}

/* Blocks/s of the decoder's way of reading [first, first + n). */
static double store_get_many(eris_store *s, size_t first)
{
	static uint8_t buf[BATCH][BLOCK];
	uint8_t *bufs[BATCH];
	size_t lens[BATCH];
	int results[BATCH], rc;
	double t0 = now();

	for (size_t k = 0; k < BATCH; k++)
		bufs[k] = buf[k];
	for (size_t i = first; i < first + n_blocks; i += BATCH) {
		size_t n = first + n_blocks - i < BATCH ? first + n_blocks - i
							: BATCH;

		rc = eris__store_get_many_raw(s, n,
					      (const uint8_t(*)[32])refs[i],
					      bufs, BLOCK, lens, results);
		if (rc < 0)
			die("get_many", rc);
		for (size_t k = 0; k < n; k++)
			if (results[k] < 0 ||
			    (rc = eris_block_verify(refs[i + k], buf[k],
						    lens[k])) < 0)
				die("get_many block", results[k] < 0
							      ? results[k]
							      : rc);
	}
	return (double)n_blocks / (now() - t0);
}

/* Blocks/s of bare librados doing [first, first + n), `depth` in
 * flight. */
static double bare_run(rados_ioctx_t io, size_t first, int depth, int get)
{
	static uint8_t bufs[IN_FLIGHT][BLOCK];
	rados_completion_t c[IN_FLIGHT];
	double t0 = now();
	size_t issued = first, done = first, end = first + n_blocks;
	int rc;

	if (depth == 1) {
		for (size_t i = first; i < end; i++) {
			rc = get ? rados_read(io, names[i], (char *)bufs[0],
					      BLOCK, 0)
				 : rados_write_full(io, names[i],
						    (const char *)blocks +
							    i * BLOCK,
						    BLOCK);
			if (rc < 0 || (get && rc != BLOCK))
				die(get ? "rados_read" : "rados_write_full",
				    rc);
		}
		return (double)n_blocks / (now() - t0);
	}
	while (done < end) {
		while (issued < end && issued - done < (size_t)depth) {
			size_t k = issued % IN_FLIGHT;

			if ((rc = rados_aio_create_completion2(NULL, NULL,
							       &c[k])) < 0)
				die("rados_aio_create_completion2", rc);
			rc = get ? rados_aio_read(io, names[issued], c[k],
						  (char *)bufs[k], BLOCK, 0)
				 : rados_aio_write_full(
					   io, names[issued], c[k],
					   (const char *)blocks +
						   issued * BLOCK,
					   BLOCK);
			if (rc < 0)
				die("rados_aio", rc);
			issued++;
		}
		{
			size_t k = done % IN_FLIGHT;

			rados_aio_wait_for_complete(c[k]);
			rc = rados_aio_get_return_value(c[k]);
			rados_aio_release(c[k]);
			if (rc < 0 || (get && rc != BLOCK))
				die(get ? "rados_aio_read" : "rados_aio_write",
				    rc);
			done++;
		}
	}
	return (double)n_blocks / (now() - t0);
}

int main(int argc, char **argv)
{
	const char *conf = NULL, *pool = "eris";
	char spec[2048], ns_store[64], ns_bare[64], cpu[128];
	double r[2][2][2]; /* [store/bare][put/get][1/16] */
	double many = 0;
	int reps = 1;
	rados_t cluster;
	rados_ioctx_t io = NULL;
	eris_store *s;
	int rc;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--conf") == 0 && i + 1 < argc)
			conf = argv[++i];
		else if (strcmp(argv[i], "--pool") == 0 && i + 1 < argc)
			pool = argv[++i];
		else if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc)
			reps = atoi(argv[++i]);
		else if (strcmp(argv[i], "--n") == 0 && i + 1 < argc)
			n_blocks = strtoul(argv[++i], NULL, 10);
		else {
			fprintf(stderr, "usage: eris-rados-bench --conf "
					"CEPH_CONF [--pool POOL] [--n N]\n");
			return 2;
		}
	}
	if (conf == NULL || n_blocks < IN_FLIGHT || reps < 1) {
		fprintf(stderr, "eris-rados-bench: --conf is required\n");
		return 2;
	}
	if (sodium_init() < 0 || (rc = eris_init()) < 0)
		die("init", -1);

	/* The load: 2N blocks, the first N for 1 in flight, the rest for
	 * 16; the store's and the bare client's namespaces differ. */
	blocks = malloc(2 * n_blocks * BLOCK);
	refs = malloc(2 * n_blocks * sizeof(*refs));
	names = malloc(2 * n_blocks * sizeof(*names));
	if (!blocks || !refs || !names)
		die("malloc", -1);
	randombytes_buf(blocks, 2 * n_blocks * BLOCK);
	for (size_t i = 0; i < 2 * n_blocks; i++) {
		crypto_generichash(refs[i], 32, blocks + i * BLOCK, BLOCK,
				   NULL, 0);
		eris_base32_encode(names[i], refs[i], 32);
	}

	snprintf(ns_store, sizeof(ns_store), "bench-store-%ld",
		 (long)getpid());
	snprintf(ns_bare, sizeof(ns_bare), "bench-bare-%ld", (long)getpid());
	snprintf(spec, sizeof(spec), "rados:%s?conf=%s&namespace=%s", pool,
		 conf, ns_store);
	if ((rc = eris_store_open(&s, spec, 0)) < 0) {
		fprintf(stderr, "%s\n", eris_error_last());
		die("eris_store_open", rc);
	}
	if ((rc = rados_create2(&cluster, "ceph", "client.admin", 0)) < 0 ||
	    (rc = rados_conf_read_file(cluster, conf)) < 0 ||
	    (rc = rados_connect(cluster)) < 0 ||
	    (rc = rados_ioctx_create(cluster, pool, &io)) < 0)
		die("librados", rc);
	rados_ioctx_set_namespace(io, ns_bare);

	/* Interleaved, so that drift on the shared machine hits both. */
	memset(r, 0, sizeof(r));
	for (int op = 0; op < 2; op++)
		for (int d = 0; d < 2; d++) {
			size_t first = d ? n_blocks : 0;

			for (int k = 0; k < reps; k++) {
				double a, b;

				if (op == 0 && k > 0)
					for (size_t i = first;
					     i < first + n_blocks; i++) {
						eris_store_remove(s, refs[i]);
						rados_remove(io, names[i]);
					}
				a = store_run(s, first, d ? IN_FLIGHT : 1, op);
				b = bare_run(io, first, d ? IN_FLIGHT : 1, op);
				r[0][op][d] = a > r[0][op][d] ? a : r[0][op][d];
				r[1][op][d] = b > r[1][op][d] ? b : r[1][op][d];
			}
		}
	for (int k = 0; k < reps; k++) {
		double a = store_get_many(s, n_blocks);

		many = a > many ? a : many;
	}

	bench_cpu_model(cpu, sizeof(cpu));
	printf("eris-rados-bench: %zu blocks of 32 KiB per measurement, "
	       "best of %d, pool %s, %s, %ld CPUs\n",
	       n_blocks, reps, pool, cpu, sysconf(_SC_NPROCESSORS_ONLN));
	printf("| operation | in flight | rados: store blocks/s | "
	       "bare librados blocks/s | store / bare |\n");
	printf("| --- | ---: | ---: | ---: | ---: |\n");
	for (int op = 0; op < 2; op++)
		for (int d = 0; d < 2; d++)
			printf("| %s | %d | %.0f | %.0f | %.2f |\n",
			       op ? "get" : "put", d ? IN_FLIGHT : 1,
			       r[0][op][d], r[1][op][d],
			       r[0][op][d] / r[1][op][d]);
	printf("| get (get_many + verify, as eris get) | %d | %.0f | %.0f | "
	       "%.2f |\n",
	       IN_FLIGHT, many, r[1][1][1], many / r[1][1][1]);

	/* Leave the pool as it was. */
	for (size_t i = 0; i < 2 * n_blocks; i++) {
		eris_store_remove(s, refs[i]);
		rados_remove(io, names[i]);
	}
	eris_store_free(s);
	rados_ioctx_destroy(io);
	rados_shutdown(cluster);
	free(blocks);
	free(refs);
	free(names);
	return 0;
}
