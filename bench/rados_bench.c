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
 * Then eris get of --content MIB (default 256; 0 skips it) of random
 * content encoded into the pool: the decoder reading it all in 16 MiB
 * reads (as eris get does), in 1 MiB reads, and with the remote store's
 * read-ahead turned off, each beside bare librados reading the same
 * objects 16 in flight, with the CPU each used per block: this process's
 * (the client, librados's threads included) and the OSDs' (from /proc).
 * The decoder runs --threads T threads (default: the CPUs, as eris get).
 *
 * Usage: eris-rados-bench --conf CEPH_CONF [--pool POOL] [--n N]
 *                         [--reps R] [--content MIB] [--threads T]
 * (default pool eris, N 2000). The objects are removed at the end.
 * Not part of ctest; needs a cluster (tools/ceph-up.sh).
 */
#include "internal.h" /* eris__store_get_many_raw, as the decoder */
#include "machine.h"

#include <eris/eris.h>
#include <rados/librados.h>
#include <sodium.h>

#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define BLOCK 32768
#define IN_FLIGHT 16
#define NAME_LEN 52
#define BATCH 64

static size_t n_blocks = 2000;
static unsigned content_threads; /* the decoder's, as eris get: CPUs */
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

/* Blocks/s of bare librados reading the `n` objects `objs`, 16 in
 * flight: one thread keeping 16 rados_aio_read()s going. */
static double bare_read_list(rados_ioctx_t io, char (*objs)[NAME_LEN + 1],
			     size_t n)
{
	static uint8_t bufs[IN_FLIGHT][BLOCK];
	rados_completion_t c[IN_FLIGHT];
	double t0 = now();
	size_t issued = 0, done = 0;
	int rc;

	while (done < n) {
		while (issued < n && issued - done < IN_FLIGHT) {
			size_t k = issued % IN_FLIGHT;

			if ((rc = rados_aio_create_completion2(NULL, NULL,
							       &c[k])) < 0)
				die("rados_aio_create_completion2", rc);
			rc = rados_aio_read(io, objs[issued], c[k],
					    (char *)bufs[k], BLOCK, 0);
			if (rc < 0)
				die("rados_aio_read", rc);
			issued++;
		}
		{
			size_t k = done % IN_FLIGHT;

			rados_aio_wait_for_complete(c[k]);
			rc = rados_aio_get_return_value(c[k]);
			rados_aio_release(c[k]);
			if (rc != BLOCK)
				die("rados_aio_read", rc);
			done++;
		}
	}
	return (double)n / (now() - t0);
}

/* Blocks/s of the decoder reading the whole content of `cap` (`nblocks`
 * blocks) in reads of `chunk` bytes, with `threads` threads, as eris get
 * does; `prefetch` 0 turns off the remote store's read-ahead. */
static double decode_run(eris_store *s, const eris_read_cap *cap,
			 size_t nblocks, size_t chunk, unsigned threads,
			 int prefetch)
{
	eris_decode_options opts = ERIS_DECODE_OPTIONS_INIT;
	eris_decoder *dec;
	uint8_t *buf = malloc(chunk);
	uint64_t pos = 0, len;
	double t0 = now();
	int rc, remote = s->remote;

	if (buf == NULL)
		die("malloc", -1);
	s->remote = prefetch ? remote : 0;
	opts.threads = threads;
	if ((rc = eris_decoder_new_opts(&dec, s, cap, &opts)) < 0)
		die("eris_decoder_new_opts", rc);
	len = eris_decoder_length(dec);
	while (pos < len) {
		size_t got;

		if ((rc = eris_decoder_pread(dec, buf, chunk, pos, &got)) < 0) {
			fprintf(stderr, "%s\n", eris_error_last());
			die("eris_decoder_pread", rc);
		}
		pos += got;
	}
	eris_decoder_free(dec);
	s->remote = remote;
	free(buf);
	return (double)nblocks / (now() - t0);
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
	if (get)
		return bare_read_list(io, names + first, n_blocks);
	while (done < end) {
		while (issued < end && issued - done < (size_t)depth) {
			size_t k = issued % IN_FLIGHT;

			if ((rc = rados_aio_create_completion2(NULL, NULL,
							       &c[k])) < 0)
				die("rados_aio_create_completion2", rc);
			rc = rados_aio_write_full(io, names[issued], c[k],
						  (const char *)blocks +
							  issued * BLOCK,
						  BLOCK);
			if (rc < 0)
				die("rados_aio_write_full", rc);
			issued++;
		}
		{
			size_t k = done % IN_FLIGHT;

			rados_aio_wait_for_complete(c[k]);
			rc = rados_aio_get_return_value(c[k]);
			rados_aio_release(c[k]);
			if (rc < 0)
				die("rados_aio_write_full", rc);
			done++;
		}
	}
	return (double)n_blocks / (now() - t0);
}

/* CPU seconds used so far by this process (the client, librados's
 * threads included). */
static double self_cpu(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* CPU seconds used so far by the cluster's OSDs: the ceph-osd processes
 * whose command line names `conf` (Linux /proc; 0 elsewhere). */
static double osd_cpu(const char *conf)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	double sum = 0;

	while (d != NULL && (e = readdir(d)) != NULL) {
		char path[300], cmd[4096], stat[1024], *p;
		size_t n;
		FILE *f;
		unsigned long ut, st;

		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/cmdline", e->d_name);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		n = fread(cmd, 1, sizeof(cmd) - 1, f);
		fclose(f);
		for (size_t i = 0; i < n; i++)
			if (cmd[i] == '\0')
				cmd[i] = ' ';
		cmd[n] = '\0';
		if (strstr(cmd, "ceph-osd") != cmd || !strstr(cmd, conf))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		n = fread(stat, 1, sizeof(stat) - 1, f);
		fclose(f);
		stat[n] = '\0';
		/* after "(comm)": state, then 10 fields before utime, stime */
		if ((p = strrchr(stat, ')')) != NULL &&
		    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u "
				  "%*u %lu %lu", &ut, &st) == 2)
			sum += (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
	}
	if (d != NULL)
		closedir(d);
	return sum;
}

/* One reader's best rate and its CPU per block (client, OSDs). */
struct reading {
	double rate, client_us, osd_us;
};

static void note(struct reading *r, double rate, double c0, double o0,
		 const char *conf, size_t nobj)
{
	double c = (self_cpu() - c0) * 1e6 / (double)nobj;
	double o = (osd_cpu(conf) - o0) * 1e6 / (double)nobj;

	if (rate > r->rate)
		r->rate = rate;
	/* CPU per block varies less than time: keep the lowest seen */
	if (r->client_us == 0 || c < r->client_us)
		r->client_us = c;
	if (r->osd_us == 0 || o < r->osd_us)
		r->osd_us = o;
}

/* eris get of MIB of content from the pool beside bare librados reading
 * the same objects (every block of the content), 16 in flight. */
static void content_bench(rados_ioctx_t io, const char *pool,
			  const char *conf, size_t mib, int reps)
{
	const size_t big = (size_t)16 << 20, small = (size_t)1 << 20;
	unsigned threads = content_threads;
	size_t len = mib << 20, nobj = 0, cap_objs = 1024;
	char (*objs)[NAME_LEN + 1] = malloc(cap_objs * sizeof(*objs));
	uint8_t *data = malloc(len);
	struct reading r[4];
	static const char *const what[4] = {
		"bare librados, 16 in flight",
		"decoder, 16 MiB reads (eris get)",
		"decoder, 1 MiB reads",
		"decoder, 16 MiB reads, no read-ahead",
	};
	char spec[2048], ns[64];
	rados_list_ctx_t ctx;
	const char *entry;
	eris_read_cap cap;
	eris_store *s;
	int rc;

	if (data == NULL || objs == NULL)
		die("malloc", -1);
	snprintf(ns, sizeof(ns), "bench-content-%ld", (long)getpid());
	snprintf(spec, sizeof(spec), "rados:%s?conf=%s&namespace=%s", pool,
		 conf, ns);
	if ((rc = eris_store_open(&s, spec, 0)) < 0)
		die("eris_store_open", rc);
	randombytes_buf(data, len);
	if ((rc = eris_encode(&cap, s, NULL, data, len)) < 0)
		die("eris_encode", rc);
	free(data);
	rados_ioctx_set_namespace(io, ns);
	if ((rc = rados_nobjects_list_open(io, &ctx)) < 0)
		die("rados_nobjects_list_open", rc);
	while (rados_nobjects_list_next(ctx, &entry, NULL, NULL) == 0) {
		if (nobj == cap_objs) {
			cap_objs *= 2;
			objs = realloc(objs, cap_objs * sizeof(*objs));
			if (objs == NULL)
				die("realloc", -1);
		}
		snprintf(objs[nobj++], NAME_LEN + 1, "%s", entry);
	}
	rados_nobjects_list_close(ctx);

	memset(r, 0, sizeof(r));
	for (int k = 0; k < reps; k++) {
		for (int i = 0; i < 4; i++) {
			double c0 = self_cpu(), o0 = osd_cpu(conf), rate;

			rate = i == 0 ? bare_read_list(io, objs, nobj)
				      : decode_run(s, &cap, nobj,
						   i == 2 ? small : big,
						   threads, i != 3);
			note(&r[i], rate, c0, o0, conf, nobj);
		}
	}
	printf("\neris get of %zu MiB (%zu blocks of 32 KiB), %u threads, "
	       "best of %d:\n",
	       mib, nobj, threads, reps);
	printf("| reader | blocks/s | MiB/s | / bare | client CPU us/block | "
	       "OSD CPU us/block |\n");
	printf("| --- | ---: | ---: | ---: | ---: | ---: |\n");
	for (int i = 0; i < 4; i++)
		printf("| %s | %.0f | %.0f | %.2f | %.0f | %.0f |\n", what[i],
		       r[i].rate, r[i].rate / 32, r[i].rate / r[0].rate,
		       r[i].client_us, r[i].osd_us);
	for (size_t i = 0; i < nobj; i++)
		rados_remove(io, objs[i]);
	free(objs);
	eris_store_free(s);
}

int main(int argc, char **argv)
{
	const char *conf = NULL, *pool = "eris";
	char spec[2048], ns_store[64], ns_bare[64], cpu[128];
	double r[2][2][2]; /* [store/bare][put/get][1/16] */
	double many = 0;
	size_t content_mib = 256;
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
		else if (strcmp(argv[i], "--content") == 0 && i + 1 < argc)
			content_mib = strtoul(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
			content_threads = (unsigned)atoi(argv[++i]);
		else {
			fprintf(stderr, "usage: eris-rados-bench --conf "
					"CEPH_CONF [--pool POOL] [--n N] "
					"[--reps R] [--content MIB] "
					"[--threads T]\n");
			return 2;
		}
	}
	if (conf == NULL || n_blocks < IN_FLIGHT || reps < 1) {
		fprintf(stderr, "eris-rados-bench: --conf is required\n");
		return 2;
	}
	if (content_threads == 0)
		content_threads = (unsigned)sysconf(_SC_NPROCESSORS_ONLN);
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

	if (content_mib > 0)
		content_bench(io, pool, conf, content_mib, reps);

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
