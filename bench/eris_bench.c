/*
 * eris_bench.c - eris-bench: how fast liberis encodes and decodes, measured
 * against the bare primitives it is built from, on one thread.
 *
 * Why: ERIS costs, per leaf, a keyed BLAKE2b-256 (the key), ChaCha20-IETF
 * (the block) and an unkeyed BLAKE2b-256 (the reference); decoding costs
 * BLAKE2b (check the reference) and ChaCha20 (decrypt). Those primitives,
 * called through libsodium one block at a time over the same bytes, are
 * the "bound"; codec / bound is the ratio we compare (target: at
 * least 90%), because absolute MiB/s drift on a shared machine. A second
 * reference, "own", does the same work with liberis' own primitives the
 * way the codec uses them (BLAKE2b of 8 blocks at once); codec / own is
 * the codec's overhead over its building blocks.
 *
 * Content: the 1 GiB large-content vector stream (ERIS digest §7): the
 * ChaCha20-IETF keystream under key BLAKE2b-256("1GiB (block size 32KiB)"),
 * nonce 0, counter 0. It is generated once into memory; both block sizes
 * encode the same bytes. At the full size the 32 KiB URN is checked
 * against the published one, and every round trip is compared with the
 * content (untimed).
 *
 * Method: for each block size, N rounds; each round runs, one after the
 * other, the encode bound and own floor, encoding into no store, encoding
 * into a mem: store, the decode bound and own floor, decoding
 * (eris_decoder_new + eris_decoder_pread in 16 MiB chunks) and
 * eris_verify. Interleaving spreads the noise of the machine over codec
 * and references alike; the best (shortest) wall time of the N rounds is
 * reported, with the median next to it.
 *
 * Threads: encoding into no store and decoding are measured again on
 * --threads N threads (default 2; eris_encode_options.threads,
 * eris_decoder_set_threads), in the same rounds; the report gives their
 * ratio to the same single-thread bound and the N-thread / 1-thread
 * speed-up (goal: at least 1.8x on 2 threads). On a shared machine other
 * processes may hold the cores, so the CPU time of those runs is split
 * too: the calling thread's against the other threads', and the total
 * against the 1-thread runs'. From them, the speed-up the same work would
 * get on idle cores: 1-thread CPU / the busiest thread's CPU (the workers
 * counted as sharing their part evenly).
 *
 * Ceiling: what N cores of this machine give at all, in the same rounds:
 * the content cut into N parts, each encoded (or decoded, by a decoder of
 * its own) on one thread of its own, N such threads at once, with nothing
 * shared but the input (and the mem: store). Their speed-up over one
 * thread is the most any threading of the codec can reach here; the
 * N-thread codec is reported against it too.
 *
 * Also measured: BLAKE2b from libsodium, libb2 and liberis for 1 KiB and
 * 32 KiB inputs, keyed and unkeyed, and ChaCha20. Before any timing, each
 * BLAKE2b path of liberis the CPU supports is checked against libsodium.
 */
#define _GNU_SOURCE /* RUSAGE_THREAD */
#include "machine.h"
#include "bench_util.h"
#include <eris/eris.h>

/* liberis' own BLAKE2b (internal, from the static library), to compare it
 * with libsodium's and libb2's. */
#include "crypto/crypto.h"
#include "progenv.h"

#ifdef ERIS_BENCH_HAVE_LIBB2
#include <blake2.h>
#endif
#include <sodium.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#define MIB (1024.0 * 1024.0)
#define READ_CHUNK ((size_t)16 << 20)
#define MAX_REPS 25

#ifndef ERIS_BENCH_BUILD_TYPE
#define ERIS_BENCH_BUILD_TYPE "unknown"
#endif
#ifndef ERIS_BENCH_C_FLAGS
#define ERIS_BENCH_C_FLAGS "unknown"
#endif

static const char VECTOR_NAME[] = "1GiB (block size 32KiB)";
static const char VECTOR_URN[] =
	"urn:eris:B4BL4DKSEOPGMYS2CU2OFNYCH4BGQT774GXKGURLFO5FDXAQQPJGJ35AZR3PEK6"
	"CVCV74FVTAXHRSWLUUNYYA46ZPOPDOV2M5NVLBETWVI";

/* Everything a run works on. */
struct ctx {
	const uint8_t *content; /* the stream */
	size_t size;            /* its length in bytes */
	uint8_t *out;           /* decode target, `size` bytes */
	uint8_t *scratch;       /* ERIS__B2B_MAX_LANES blocks */
	int reps;
	size_t prim_size;       /* bytes per primitive measurement */
	unsigned threads;       /* for the multi-thread measurements */
};

/* Keeps results observable so the compiler cannot drop the work. */
static volatile uint8_t sink;




/* ----------------------------------------------------------------------
 * Timings: N samples, best and median.
 */

struct samples {
	double t[MAX_REPS];
	int n;
};

static void add(struct samples *s, double seconds)
{
	if (s->n < MAX_REPS)
		s->t[s->n++] = seconds;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double best(const struct samples *s)
{
	double b = s->t[0];

	for (int i = 1; i < s->n; i++)
		if (s->t[i] < b)
			b = s->t[i];
	return b;
}

static double median(const struct samples *s)
{
	double t[MAX_REPS];

	memcpy(t, s->t, sizeof(double) * (size_t)s->n);
	qsort(t, (size_t)s->n, sizeof(double), cmp_double);
	return s->n % 2 ? t[s->n / 2] : (t[s->n / 2 - 1] + t[s->n / 2]) / 2;
}

static double mibs(size_t bytes, double seconds)
{
	return (double)bytes / MIB / seconds;
}

/* ----------------------------------------------------------------------
 * Before timing anything: every BLAKE2b path of liberis this CPU can run
 * must agree with libsodium (the numbers of a wrong hash are worthless).
 */

static int self_check_path(const uint8_t *data, size_t size)
{
	static const size_t lens[] = { 128, 1024, 32768 };
	uint8_t key[32], got[19][32], want[32];
	const uint8_t *in[19];
	eris__blake2b_key k;

	for (size_t i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)(i * 7 + 1);
	eris__blake2b_key_init(&k, key);
	for (size_t l = 0; l < sizeof(lens) / sizeof(lens[0]); l++) {
		for (size_t n = 0; n <= 19; n++) {
			if (lens[l] * 20 > size)
				return 1; /* content too short to check */
			for (size_t i = 0; i < n; i++)
				in[i] = data + (i * 7 + n) * lens[l] / 2;
			for (int keyed = 0; keyed < 2; keyed++) {
				eris__blake2b_many(in, n, lens[l],
						   keyed ? &k : NULL, got);
				for (size_t i = 0; i < n; i++) {
					crypto_generichash_blake2b(
						want, 32, in[i], lens[l],
						keyed ? key : NULL,
						keyed ? 32 : 0);
					if (memcmp(want, got[i], 32) != 0)
						return 0;
				}
			}
		}
	}
	return 1;
}

static void self_check(const uint8_t *data, size_t size)
{
	static const char *const names[] = { "portable", "avx2", "avx512" };
	int ok = 1;

	printf("BLAKE2b self-check against libsodium:");
	for (int p = ERIS__B2B_REF; p <= ERIS__B2B_AVX512; p++) {
		if (!eris__blake2b_force(p))
			continue;
		if (self_check_path(data, size)) {
			printf(" %s ok", names[p]);
		} else {
			printf(" %s FAILED", names[p]);
			ok = 0;
		}
	}
	eris__blake2b_force(-1);
	printf("\n");
	if (!ok) {
		fprintf(stderr, "eris-bench: liberis BLAKE2b is wrong\n");
		exit(1);
	}
}

/* ----------------------------------------------------------------------
 * The content stream (ERIS digest §7).
 */

static uint8_t *make_stream(size_t size)
{
	uint8_t key[32], nonce[crypto_stream_chacha20_ietf_NONCEBYTES] = { 0 };
	uint8_t *buf = bench_xmalloc(size);

	crypto_generichash_blake2b(key, sizeof(key),
				   (const uint8_t *)VECTOR_NAME,
				   strlen(VECTOR_NAME), NULL, 0);
	/* The keystream is the encryption of zeros. */
	memset(buf, 0, size);
	crypto_stream_chacha20_ietf_xor_ic(buf, buf, size, nonce, 0, key);
	return buf;
}

/* ----------------------------------------------------------------------
 * Bounds: the primitives of one block each, through libsodium, over the
 * same bytes as the codec, in the codec's order.
 */

/* Per leaf: key = keyed BLAKE2b, block = ChaCha20, ref = BLAKE2b(block). */
static double bound_encode(const struct ctx *c, size_t bs)
{
	static const uint8_t secret[32]; /* the null secret */
	uint8_t nonce[crypto_stream_chacha20_ietf_NONCEBYTES] = { 0 };
	uint8_t key[32], ref[32], acc = 0;
	double t = bench_now();

	for (size_t off = 0; off + bs <= c->size; off += bs) {
		crypto_generichash_blake2b(key, 32, c->content + off, bs,
					   secret, 32);
		crypto_stream_chacha20_ietf_xor_ic(c->scratch, c->content + off,
						   bs, nonce, 0, key);
		crypto_generichash_blake2b(ref, 32, c->scratch, bs, NULL, 0);
		acc ^= ref[0];
	}
	t = bench_now() - t;
	sink ^= acc;
	return t;
}

/* Per block: BLAKE2b over the block, ChaCha20 of it into the output. */
static double bound_decode(const struct ctx *c, size_t bs)
{
	static const uint8_t key[32] = { 1 };
	uint8_t nonce[crypto_stream_chacha20_ietf_NONCEBYTES] = { 0 };
	uint8_t ref[32], acc = 0;
	double t = bench_now();

	for (size_t off = 0; off + bs <= c->size; off += bs) {
		crypto_generichash_blake2b(ref, 32, c->content + off, bs, NULL,
					   0);
		acc ^= ref[0];
		crypto_stream_chacha20_ietf_xor_ic(c->out + off,
						   c->content + off, bs, nonce,
						   0, key);
	}
	t = bench_now() - t;
	sink ^= acc;
	return t;
}

/* The same work done with liberis' own primitives, the way the codec
 * does it: keys and references of up to 8 leaves at once
 * (eris__blake2b_many, SIMD lanes), ChaCha20 per block. Not the issue's
 * bound: the floor of this codec, so codec / own shows its overhead. */
static double own_encode(const struct ctx *c, size_t bs)
{
	static const uint8_t secret[32];
	uint8_t nonce[crypto_stream_chacha20_ietf_NONCEBYTES] = { 0 };
	uint8_t keys[ERIS__B2B_MAX_LANES][32], refs[ERIS__B2B_MAX_LANES][32];
	const uint8_t *in[ERIS__B2B_MAX_LANES];
	size_t blocks = c->size / bs;
	eris__blake2b_key k;
	uint8_t acc = 0;
	double t;

	eris__blake2b_key_init(&k, secret);
	t = bench_now();
	for (size_t b = 0; b < blocks; b += ERIS__B2B_MAX_LANES) {
		size_t n = blocks - b < ERIS__B2B_MAX_LANES
				   ? blocks - b
				   : ERIS__B2B_MAX_LANES;

		for (size_t i = 0; i < n; i++)
			in[i] = c->content + (b + i) * bs;
		eris__blake2b_many(in, n, bs, &k, keys);
		for (size_t i = 0; i < n; i++) {
			crypto_stream_chacha20_ietf_xor_ic(c->scratch + i * bs,
							   in[i], bs, nonce, 0,
							   keys[i]);
			in[i] = c->scratch + i * bs;
		}
		eris__blake2b_many(in, n, bs, NULL, refs);
		acc ^= refs[0][0];
	}
	t = bench_now() - t;
	sink ^= acc;
	return t;
}

static double own_decode(const struct ctx *c, size_t bs)
{
	static const uint8_t key[32] = { 1 };
	uint8_t nonce[crypto_stream_chacha20_ietf_NONCEBYTES] = { 0 };
	uint8_t refs[ERIS__B2B_MAX_LANES][32];
	const uint8_t *in[ERIS__B2B_MAX_LANES];
	size_t blocks = c->size / bs;
	uint8_t acc = 0;
	double t = bench_now();

	for (size_t b = 0; b < blocks; b += ERIS__B2B_MAX_LANES) {
		size_t n = blocks - b < ERIS__B2B_MAX_LANES
				   ? blocks - b
				   : ERIS__B2B_MAX_LANES;

		for (size_t i = 0; i < n; i++)
			in[i] = c->content + (b + i) * bs;
		eris__blake2b_many(in, n, bs, NULL, refs);
		acc ^= refs[0][0];
		for (size_t i = 0; i < n; i++)
			crypto_stream_chacha20_ietf_xor_ic(
				c->out + (b + i) * bs, in[i], bs, nonce, 0,
				key);
	}
	t = bench_now() - t;
	sink ^= acc;
	return t;
}

/* ----------------------------------------------------------------------
 * The codec, through the public API.
 */

/* CPU seconds used, summed over runs: by the process, by the caller. */
struct cpu_split {
	double all, caller;
};

static double cpu_seconds(int who)
{
	struct rusage ru;

	getrusage(who, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static void cpu_start(double t[2])
{
	t[0] = cpu_seconds(RUSAGE_SELF);
	t[1] = cpu_seconds(RUSAGE_THREAD);
}

static void cpu_add(struct cpu_split *acc, const double t[2])
{
	acc->all += cpu_seconds(RUSAGE_SELF) - t[0];
	acc->caller += cpu_seconds(RUSAGE_THREAD) - t[1];
}

static double run_encode(const struct ctx *c, size_t bs, eris_store *store,
			 eris_read_cap *cap, unsigned threads,
			 struct cpu_split *cpu)
{
	eris_encode_options opts = ERIS_ENCODE_OPTIONS_INIT;
	double t, c0[2];
	int rc;

	opts.block_size = (uint32_t)bs;
	opts.threads = threads;
	cpu_start(c0);
	t = bench_now();
	rc = eris_encode(cap, store, &opts, c->content, c->size);
	t = bench_now() - t;
	if (cpu)
		cpu_add(cpu, c0);
	if (rc < 0)
		bench_die("eris_encode", rc);
	return t;
}

static double run_decode(const struct ctx *c, eris_store *store,
			 const eris_read_cap *cap, unsigned threads,
			 struct cpu_split *cpu)
{
	eris_decoder *dec;
	size_t done = 0, got;
	double c0[2], t;
	int rc;

	cpu_start(c0);
	t = bench_now();
	rc = eris_decoder_new(&dec, store, cap);

	if (rc < 0)
		bench_die("eris_decoder_new", rc);
	if ((rc = eris_decoder_set_threads(dec, threads)) < 0)
		bench_die("eris_decoder_set_threads", rc);
	while (done < c->size) {
		size_t want = c->size - done;

		if (want > READ_CHUNK)
			want = READ_CHUNK;
		rc = eris_decoder_pread(dec, c->out + done, want, done, &got);
		if (rc < 0)
			bench_die("eris_decoder_pread", rc);
		if (got == 0)
			break;
		done += got;
	}
	t = bench_now() - t;
	if (cpu)
		cpu_add(cpu, c0);
	eris_decoder_free(dec);
	if (done != c->size) {
		fprintf(stderr, "eris-bench: decoded %zu of %zu bytes\n", done,
			c->size);
		exit(1);
	}
	return t;
}

static double run_verify(eris_store *store, const eris_read_cap *cap)
{
	uint64_t blocks;
	double t = bench_now();
	int rc = eris_verify(store, cap, &blocks, NULL, NULL);

	t = bench_now() - t;
	if (rc < 0)
		bench_die("eris_verify", rc);
	return t;
}

/* One part of the ceiling measurement: [off, off + len) of the content,
 * on one thread of its own. */
struct part {
	const struct ctx *c;
	size_t bs, off, len;
	eris_store *store;          /* decode: the blocks */
	const eris_read_cap *cap;   /* decode: the whole content's */
	int decode;
	int rc;
	const char *what;
};

static void *run_part(void *arg)
{
	struct part *p = arg;
	eris_encode_options opts = ERIS_ENCODE_OPTIONS_INIT;
	eris_read_cap cap;
	eris_decoder *dec;
	size_t done = 0, got;

	if (!p->decode) {
		opts.block_size = (uint32_t)p->bs;
		p->what = "eris_encode";
		p->rc = eris_encode(&cap, NULL, &opts, p->c->content + p->off,
				    p->len);
		return NULL;
	}
	p->what = "eris_decoder_new";
	if ((p->rc = eris_decoder_new(&dec, p->store, p->cap)) < 0)
		return NULL;
	p->what = "eris_decoder_pread";
	while (done < p->len && p->rc == ERIS_OK) {
		size_t want = p->len - done;

		if (want > READ_CHUNK)
			want = READ_CHUNK;
		p->rc = eris_decoder_pread(dec, p->c->out + p->off + done, want,
					   p->off + done, &got);
		if (got == 0)
			break;
		done += got;
	}
	eris_decoder_free(dec);
	return NULL;
}

/* The ceiling: c->threads independent one-thread runs over as many parts
 * of the content (whole leaves each), timed together. */
static double run_parts(const struct ctx *c, size_t bs, eris_store *store,
			const eris_read_cap *cap, int decode)
{
	struct part parts[256];
	pthread_t tids[256];
	unsigned n = c->threads < 256 ? c->threads : 256;
	size_t per = c->size / n / bs * bs;
	double t;

	for (unsigned i = 0; i < n; i++) {
		parts[i] = (struct part){ c, bs, i * per,
					  i + 1 < n ? per : c->size - i * per,
					  store, cap, decode, ERIS_OK, "" };
	}
	t = bench_now();
	for (unsigned i = 1; i < n; i++)
		if (pthread_create(&tids[i], NULL, run_part, &parts[i]) != 0) {
			fprintf(stderr, "eris-bench: cannot start threads\n");
			exit(1);
		}
	run_part(&parts[0]);
	for (unsigned i = 1; i < n; i++)
		pthread_join(tids[i], NULL);
	t = bench_now() - t;
	for (unsigned i = 0; i < n; i++)
		if (parts[i].rc < 0)
			bench_die(parts[i].what, parts[i].rc);
	return t;
}

/* ----------------------------------------------------------------------
 * One block size: all measurements interleaved, N rounds.
 */

struct result {
	size_t bs;
	struct samples bound_enc, own_enc, enc_null, enc_mem;
	struct samples bound_dec, own_dec, dec, verify;
	struct samples enc_threads, dec_threads; /* on c->threads */
	struct samples enc_parts, dec_parts;     /* the ceiling */
	struct cpu_split enc1_cpu, dec1_cpu, enc_cpu, dec_cpu;
};

static void measure(const struct ctx *c, struct result *r)
{
	eris_read_cap cap, cap_mem, cap_threads;
	char urn[ERIS_URN_BUFSIZE];
	eris_store *store = NULL;
	int rc;

	for (int rep = 0; rep < c->reps; rep++) {
		add(&r->bound_enc, bound_encode(c, r->bs));
		add(&r->own_enc, own_encode(c, r->bs));
		add(&r->enc_null,
		    run_encode(c, r->bs, NULL, &cap, 1, &r->enc1_cpu));
		add(&r->enc_threads, run_encode(c, r->bs, NULL, &cap_threads,
						c->threads, &r->enc_cpu));
		add(&r->enc_parts, run_parts(c, r->bs, NULL, NULL, 0));
		eris_store_free(store);
		if ((rc = eris_store_new_mem(&store)) < 0)
			bench_die("eris_store_new_mem", rc);
		add(&r->enc_mem,
		    run_encode(c, r->bs, store, &cap_mem, 1, NULL));
		add(&r->bound_dec, bound_decode(c, r->bs));
		add(&r->own_dec, own_decode(c, r->bs));
		add(&r->dec, run_decode(c, store, &cap_mem, 1, &r->dec1_cpu));
		if (rep == 0) {
			/* Not timed: the codec must be right to count. */
			if (memcmp(&cap, &cap_mem, sizeof(cap)) != 0 ||
			    memcmp(&cap, &cap_threads, sizeof(cap)) != 0 ||
			    memcmp(c->out, c->content, c->size) != 0) {
				fprintf(stderr, "eris-bench: %zu-byte blocks: "
					"round trip mismatch\n", r->bs);
				exit(1);
			}
			eris_urn_format(urn, &cap);
			printf("  %5zu-byte blocks: level %u, %s", r->bs,
			       cap.level, urn);
			if (r->bs == ERIS_BLOCK_SIZE_32K &&
			    c->size == ((size_t)1 << 30))
				printf(" (%s)", strcmp(urn, VECTOR_URN) == 0
						      ? "matches the vector"
						      : "VECTOR MISMATCH");
			printf("\n");
			fflush(stdout);
		}
		add(&r->verify, run_verify(store, &cap_mem));
		memset(c->out, 0, c->size);
		add(&r->dec_threads, run_decode(c, store, &cap_mem, c->threads,
						&r->dec_cpu));
		if (rep == 0 && memcmp(c->out, c->content, c->size) != 0) {
			fprintf(stderr, "eris-bench: %zu-byte blocks: %u-thread "
				"decode mismatch\n", r->bs, c->threads);
			exit(1);
		}
		memset(c->out, 0, c->size);
		add(&r->dec_parts, run_parts(c, r->bs, store, &cap_mem, 1));
		if (rep == 0 && memcmp(c->out, c->content, c->size) != 0) {
			fprintf(stderr, "eris-bench: %zu-byte blocks: parts "
				"decode mismatch\n", r->bs);
			exit(1);
		}
	}
	eris_store_free(store);
}

/* ----------------------------------------------------------------------
 * Bare primitives: libsodium and libb2 BLAKE2b, libsodium ChaCha20.
 */

enum prim {
	SODIUM_B2B,
	SODIUM_B2B_KEYED,
	LIBB2_B2B,
	LIBB2_B2B_KEYED,
	ERIS_B2B,
	ERIS_B2B_KEYED,
	ERIS_B2B_KEYED_STATE,
	ERIS_B2B_MANY,
	ERIS_B2B_MANY_KEYED,
	SODIUM_CHACHA,
	ERIS_CHACHA,
	NPRIM
};

static const char *const prim_name[NPRIM] = {
	"BLAKE2b-256 unkeyed, libsodium",
	"BLAKE2b-256 keyed,   libsodium",
	"BLAKE2b-256 unkeyed, libb2",
	"BLAKE2b-256 keyed,   libb2",
	"BLAKE2b-256 unkeyed, liberis",
	"BLAKE2b-256 keyed,   liberis",
	"BLAKE2b-256 keyed,   liberis, key once",
	"BLAKE2b-256 unkeyed, liberis, 8 at once",
	"BLAKE2b-256 keyed,   liberis, 8 at once",
	"ChaCha20-IETF,       libsodium",
	"ChaCha20-IETF,       liberis (as in use)",
};

static double run_prim(const struct ctx *c, enum prim p, size_t bs)
{
	static const uint8_t key[32] = { 7 };
	uint8_t nonce[crypto_stream_chacha20_ietf_NONCEBYTES] = { 0 };
	uint8_t out[ERIS__B2B_MAX_LANES][32], acc = 0;
	const uint8_t *many[ERIS__B2B_MAX_LANES];
	const uint8_t *in = c->content;
	size_t lanes = 1, n = c->prim_size;
	eris__blake2b_key k;
	double t;

	eris__blake2b_key_init(&k, key);
	if (p == ERIS_B2B_MANY || p == ERIS_B2B_MANY_KEYED)
		lanes = ERIS__B2B_MAX_LANES;
	t = bench_now();
	for (size_t off = 0; off + lanes * bs <= n; off += lanes * bs) {
		switch (p) {
		case SODIUM_B2B:
			crypto_generichash_blake2b(out[0], 32, in + off, bs,
						   NULL, 0);
			break;
		case SODIUM_B2B_KEYED:
			crypto_generichash_blake2b(out[0], 32, in + off, bs,
						   key, 32);
			break;
#ifdef ERIS_BENCH_HAVE_LIBB2
		case LIBB2_B2B:
			blake2b(out[0], in + off, NULL, 32, bs, 0);
			break;
		case LIBB2_B2B_KEYED:
			blake2b(out[0], in + off, key, 32, bs, 32);
			break;
#endif
		case ERIS_B2B:
			eris__blake2b(out[0], in + off, bs);
			break;
		case ERIS_B2B_KEYED:
			eris__blake2b_keyed(out[0], in + off, bs, key);
			break;
		case ERIS_B2B_KEYED_STATE:
			eris__blake2b_keyed_with(out[0], &k, in + off, bs);
			break;
		case ERIS_B2B_MANY:
		case ERIS_B2B_MANY_KEYED:
			for (size_t i = 0; i < lanes; i++)
				many[i] = in + off + i * bs;
			eris__blake2b_many(many, lanes, bs,
					   p == ERIS_B2B_MANY ? NULL : &k, out);
			break;
		case ERIS_CHACHA:
			eris__chacha20(c->scratch, in + off, bs, key, 0);
			out[0][0] = c->scratch[0];
			break;
		default:
			crypto_stream_chacha20_ietf_xor_ic(c->scratch, in + off,
							   bs, nonce, 0, key);
			out[0][0] = c->scratch[0];
			break;
		}
		acc ^= out[0][0];
	}
	t = bench_now() - t;
	sink ^= acc;
	return t;
}

/* libb2 is optional (bench/CMakeLists.txt). */
static int available(enum prim p)
{
#ifndef ERIS_BENCH_HAVE_LIBB2
	if (p == LIBB2_B2B || p == LIBB2_B2B_KEYED)
		return 0;
#endif
	(void)p;
	return 1;
}

static void primitives(const struct ctx *c, const size_t *sizes, int nsizes,
		       struct samples prim[][NPRIM])
{
	for (int rep = 0; rep < c->reps; rep++)
		for (int s = 0; s < nsizes; s++)
			for (int p = 0; p < NPRIM; p++)
				if (available((enum prim)p))
					add(&prim[s][p],
					    run_prim(c, (enum prim)p,
						     sizes[s]));
}

/* ----------------------------------------------------------------------
 * Output.
 */

static double pct(const struct samples *bound, const struct samples *s,
		  double (*stat)(const struct samples *))
{
	return 100.0 * stat(bound) / stat(s);
}

/* MiB/s best and median; against the bound (best, median) and against
 * the own-primitives floor (best). */
static void row(const char *what, size_t bytes, const struct samples *s,
		const struct samples *bound, const struct samples *own)
{
	printf("  %-34s %7.1f %7.1f", what, mibs(bytes, best(s)),
	       mibs(bytes, median(s)));
	if (bound)
		printf("  %6.1f%% %6.1f%%", pct(bound, s, best),
		       pct(bound, s, median));
	if (own)
		printf("  %6.1f%%", pct(own, s, best));
	printf("\n");
}

/* The CPU split of the N-thread runs and the speed-up it projects. */
static void cpu_row(const char *what, unsigned threads,
		      const struct cpu_split *one, const struct cpu_split *n)
{
	double others = n->all - n->caller;
	double busiest = n->caller;
	double up;

	if (threads > 1 && others / (threads - 1) > busiest)
		busiest = others / (threads - 1);
	up = busiest > 0 ? one->all / busiest : 0;
	printf("  %s CPU on %u threads: caller %.0f%%, others %.0f%%; "
	       "%+.1f%% CPU vs 1 thread; on idle cores: %.2fx\n",
	       what, threads, 100.0 * n->caller / n->all,
	       100.0 * others / n->all, 100.0 * (n->all / one->all - 1), up);
}

static void report(const struct ctx *c, const struct result *r)
{
	double enc_ratio = best(&r->bound_enc) / best(&r->enc_null);
	double dec_ratio = best(&r->bound_dec) / best(&r->dec);
	double enc_up = best(&r->enc_null) / best(&r->enc_threads);
	double dec_up = best(&r->dec) / best(&r->dec_threads);
	char what[64];

	printf("\n%zu-byte blocks, %zu MiB (MiB/s of content)\n", r->bs,
	       c->size >> 20);
	printf("  %-34s %7s %7s  %7s %7s  %7s\n", "", "best", "median",
	       "/bound", "median", "/own");
	row("encode bound: libsodium per block", c->size, &r->bound_enc, NULL,
	    NULL);
	row("encode own: liberis primitives", c->size, &r->own_enc, NULL,
	    NULL);
	row("encode, no store", c->size, &r->enc_null, &r->bound_enc,
	    &r->own_enc);
	row("encode, mem: store", c->size, &r->enc_mem, &r->bound_enc,
	    &r->own_enc);
	row("decode bound: libsodium per block", c->size, &r->bound_dec, NULL,
	    NULL);
	row("decode own: liberis primitives", c->size, &r->own_dec, NULL,
	    NULL);
	row("decode (new + pread 16 MiB)", c->size, &r->dec, &r->bound_dec,
	    &r->own_dec);
	row("verify (eris_verify, no output)", c->size, &r->verify, NULL,
	    NULL);
	snprintf(what, sizeof(what), "encode, no store, %u threads",
		 c->threads);
	row(what, c->size, &r->enc_threads, &r->bound_enc, NULL);
	snprintf(what, sizeof(what), "decode, %u threads", c->threads);
	row(what, c->size, &r->dec_threads, &r->bound_dec, NULL);
	snprintf(what, sizeof(what), "ceiling: encode %u parts at once",
		 c->threads);
	row(what, c->size, &r->enc_parts, &r->bound_enc, NULL);
	snprintf(what, sizeof(what), "ceiling: decode %u parts at once",
		 c->threads);
	row(what, c->size, &r->dec_parts, &r->bound_dec, NULL);
	printf("  encoder/bound %.1f%%: %s    decoder/bound %.1f%%: %s\n",
	       100.0 * enc_ratio, enc_ratio >= 0.9 ? "PASS" : "BELOW",
	       100.0 * dec_ratio, dec_ratio >= 0.9 ? "PASS" : "BELOW");
	printf("  %u threads / 1 thread: encode %.2fx, decode %.2fx (best), "
	       "%.2fx, %.2fx (median)\n",
	       c->threads, enc_up, dec_up,
	       median(&r->enc_null) / median(&r->enc_threads),
	       median(&r->dec) / median(&r->dec_threads));
	printf("  ceiling (%u parts at once / 1 thread): encode %.2fx, "
	       "decode %.2fx; %u threads reach %.0f%% and %.0f%% of it\n",
	       c->threads, best(&r->enc_null) / best(&r->enc_parts),
	       best(&r->dec) / best(&r->dec_parts), c->threads,
	       100.0 * best(&r->enc_parts) / best(&r->enc_threads),
	       100.0 * best(&r->dec_parts) / best(&r->dec_threads));
	cpu_row("encode", c->threads, &r->enc1_cpu, &r->enc_cpu);
	cpu_row("decode", c->threads, &r->dec1_cpu, &r->dec_cpu);
}

/* One line per block size: the table. */
static void summary(const struct ctx *c, const struct result *res, int n)
{
	printf("\nsummary (best MiB/s, x single-thread bound; speed-up "
	       "%u/1 threads)\n", c->threads);
	printf("  %-6s %18s %18s %7s %7s  %18s %18s %7s %7s\n", "block",
	       "encode 1 thread", "encode N threads", "N/1", "ceiling",
	       "decode 1 thread", "decode N threads", "N/1", "ceiling");
	for (int s = 0; s < n; s++) {
		const struct result *r = &res[s];
		double be = best(&r->bound_enc), bd = best(&r->bound_dec);

		printf("  %-6zu %10.1f (%.2fx) %10.1f (%.2fx) %6.2fx %6.2fx  "
		       "%10.1f (%.2fx) %10.1f (%.2fx) %6.2fx %6.2fx\n",
		       r->bs, mibs(c->size, best(&r->enc_null)),
		       be / best(&r->enc_null),
		       mibs(c->size, best(&r->enc_threads)),
		       be / best(&r->enc_threads),
		       best(&r->enc_null) / best(&r->enc_threads),
		       best(&r->enc_null) / best(&r->enc_parts),
		       mibs(c->size, best(&r->dec)), bd / best(&r->dec),
		       mibs(c->size, best(&r->dec_threads)),
		       bd / best(&r->dec_threads),
		       best(&r->dec) / best(&r->dec_threads),
		       best(&r->dec) / best(&r->dec_parts));
	}
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: eris-bench [--size MIB] [--reps N] [--block 1k|32k|both]\n"
		"                  [--prim-size MIB] [--no-prim] [--threads N]\n"
		"  --size MIB       content length in MiB (default 1024, the\n"
		"                   1 GiB vector; the URN is checked at 1024)\n"
		"  --reps N         rounds per measurement, best and median\n"
		"                   reported (default 3, at most %d)\n"
		"  --block SIZE     block sizes to run (default both)\n"
		"  --prim-size MIB  bytes per primitive comparison (default\n"
		"                   256, at most --size)\n"
		"  --no-prim        skip the libsodium/libb2 comparison\n"
		"  --threads N      threads for the multi-thread rows "
		"(default 2)\n",
		MAX_REPS);
}

static long parse_num(const char *s, long lo, long hi)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *s == '\0' || *end != '\0' || v < lo || v > hi) {
		usage(stderr);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	struct ctx c = { 0 };
	size_t sizes[2] = { ERIS_BLOCK_SIZE_1K, ERIS_BLOCK_SIZE_32K };
	struct samples prim[2][NPRIM];
	struct result res[2];
	int nsizes = 2, do_prim = 1;
	long size_mib = 1024, prim_mib = 256;
	char cpu[128];
	double t;

	bench_name = "eris-bench";
	if (progenv_configure(bench_name) != ERIS_OK)
		return 2;
	c.reps = 3;
	c.threads = 2;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(a, "--no-prim") == 0) {
			do_prim = 0;
			continue;
		} else if (v == NULL) {
			usage(stderr);
			return 2;
		} else if (strcmp(a, "--size") == 0) {
			size_mib = parse_num(v, 1, 1L << 20);
		} else if (strcmp(a, "--reps") == 0) {
			c.reps = (int)parse_num(v, 1, MAX_REPS);
		} else if (strcmp(a, "--threads") == 0) {
			c.threads = (unsigned)parse_num(v, 1, 256);
		} else if (strcmp(a, "--prim-size") == 0) {
			prim_mib = parse_num(v, 1, 1L << 20);
		} else if (strcmp(a, "--block") == 0) {
			if (strcmp(v, "1k") == 0) {
				nsizes = 1;
			} else if (strcmp(v, "32k") == 0) {
				sizes[0] = ERIS_BLOCK_SIZE_32K;
				nsizes = 1;
			} else if (strcmp(v, "both") != 0) {
				usage(stderr);
				return 2;
			}
		} else {
			usage(stderr);
			return 2;
		}
		i++;
	}
	if (eris_init() < 0 || sodium_init() < 0) {
		fprintf(stderr, "eris-bench: cannot initialise libsodium\n");
		return 1;
	}
	c.size = (size_t)size_mib << 20;
	c.prim_size = (size_t)(prim_mib < size_mib ? prim_mib : size_mib)
		      << 20;

	printf("eris-bench: liberis %s, libsodium %s, %s, build %s, "
	       "flags \"%s\"\n",
	       eris_version(), sodium_version_string(),
#if defined(__clang__)
	       "clang " __clang_version__,
#elif defined(__GNUC__)
	       "gcc " __VERSION__,
#else
	       "unknown compiler",
#endif
	       ERIS_BENCH_BUILD_TYPE, ERIS_BENCH_C_FLAGS);
	bench_cpu_model(cpu, sizeof(cpu));
	printf("CPU: %s; one thread and %u threads; wall clock; best and "
	       "median of %d interleaved rounds\n", cpu, c.threads, c.reps);

	t = bench_now();
	c.content = make_stream(c.size);
	c.out = bench_xmalloc(c.size);
	memset(c.out, 0, c.size); /* fault the pages in before timing */
	c.scratch = bench_xmalloc(ERIS__B2B_MAX_LANES * ERIS_BLOCK_SIZE_MAX);
	printf("content: %zu MiB of the \"%s\" stream, generated in %.2f s\n",
	       c.size >> 20, VECTOR_NAME, bench_now() - t);
	self_check(c.content, c.size);
	printf("liberis BLAKE2b: %s; ChaCha20: %s\n", eris__blake2b_path(),
	       eris__chacha20_path());
	fflush(stdout);

	memset(res, 0, sizeof(res));
	memset(prim, 0, sizeof(prim));
	for (int s = 0; s < nsizes; s++) {
		res[s].bs = sizes[s];
		measure(&c, &res[s]);
	}
	for (int s = 0; s < nsizes; s++)
		report(&c, &res[s]);
	summary(&c, res, nsizes);

	if (do_prim) {
		primitives(&c, sizes, nsizes, prim);
		printf("\nbare primitives over %zu MiB: one call per block "
		       "(\"8 at once\": per 8 blocks),\nMiB/s best / median "
		       "of %d\n", c.prim_size >> 20, c.reps);
		printf("  %-40s", "");
		for (int s = 0; s < nsizes; s++)
			printf("  %7zu B blocks  ", sizes[s]);
		printf("\n");
		for (int p = 0; p < NPRIM; p++) {
			if (!available((enum prim)p))
				continue;
			printf("  %-40s", prim_name[p]);
			for (int s = 0; s < nsizes; s++)
				printf("  %8.1f %8.1f",
				       mibs(c.prim_size, best(&prim[s][p])),
				       mibs(c.prim_size, median(&prim[s][p])));
			printf("\n");
		}
		if (!available(LIBB2_B2B))
			printf("  (libb2 not found at build time: not "
			       "compared)\n");
		for (int s = 0; s < nsizes; s++) {
			double u, k;

			if (available(LIBB2_B2B)) {
				u = best(&prim[s][SODIUM_B2B]) /
				    best(&prim[s][LIBB2_B2B]);
				k = best(&prim[s][SODIUM_B2B_KEYED]) /
				    best(&prim[s][LIBB2_B2B_KEYED]);
				printf("  libb2 / libsodium, %5zu B: unkeyed "
				       "%.2fx, keyed %.2fx (%s)\n",
				       sizes[s], u, k,
				       u > 1.03 && k > 1.03
					       ? "libb2 faster"
					       : "libb2 not faster");
			}
			u = best(&prim[s][SODIUM_B2B]) /
			    best(&prim[s][ERIS_B2B_MANY]);
			k = best(&prim[s][SODIUM_B2B_KEYED]) /
			    best(&prim[s][ERIS_B2B_MANY_KEYED]);
			printf("  liberis 8 at once / libsodium, %5zu B: "
			       "unkeyed %.2fx, keyed %.2fx\n", sizes[s], u, k);
			printf("  ChaCha20 liberis / libsodium, %5zu B: %.2fx\n",
			       sizes[s],
			       best(&prim[s][SODIUM_CHACHA]) /
				       best(&prim[s][ERIS_CHACHA]));
		}
	}
	free(c.scratch);
	free(c.out);
	free((void *)c.content);
	return 0;
}
