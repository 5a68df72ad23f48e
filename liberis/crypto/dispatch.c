/*
 * dispatch.c - choose the BLAKE2b implementation once, from cpuid, and
 * spread many-input hashes over the widest lanes available (STYLE §7).
 *
 * The choice is cached in an atomic int on first use (racing first calls
 * compute the same answer). Inputs left over after the last group of 8 go
 * to the 4-lane code, then to the portable code, as BLAKE3 does. Tests and
 * the benchmark may force a narrower path with eris__blake2b_force(), or
 * for a whole process with the environment variable ERIS_BLAKE2B.
 */
#include "blake2b_impl.h"

#include <eris/common.h>

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static atomic_int chosen = -1;

static int detect(void)
{
	/* __builtin_cpu_supports checks both the CPU and the OS (XCR0)
	 * support of the registers. */
#ifdef ERIS__B2B_HAVE_AVX512
	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx512f"))
		return ERIS__B2B_AVX512;
#endif
#ifdef ERIS__B2B_HAVE_AVX2
	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx2"))
		return ERIS__B2B_AVX2;
#endif
	return ERIS__B2B_REF;
}

static int best(void)
{
	static atomic_int detected = -1;
	int d = atomic_load_explicit(&detected, memory_order_relaxed);

	if (d < 0) {
		d = detect();
		atomic_store_explicit(&detected, d, memory_order_relaxed);
	}
	return d;
}

/* $ERIS_BLAKE2B = portable | avx2 | avx512 narrows the choice, so that
 * the whole test suite can run on each path; it never widens it. */
static int from_env(int p)
{
	const char *e = getenv("ERIS_BLAKE2B");
	int want = p;

	if (e == NULL)
		return p;
	if (strcmp(e, "portable") == 0)
		want = ERIS__B2B_REF;
	else if (strcmp(e, "avx2") == 0)
		want = ERIS__B2B_AVX2;
	else if (strcmp(e, "avx512") == 0)
		want = ERIS__B2B_AVX512;
	return want < p ? want : p;
}

static int path(void)
{
	int p = atomic_load_explicit(&chosen, memory_order_relaxed);

	if (p < 0) {
		p = from_env(best());
		atomic_store_explicit(&chosen, p, memory_order_relaxed);
	}
	return p;
}

int eris__blake2b_force(int p)
{
	if (p < 0) {
		atomic_store_explicit(&chosen, from_env(best()),
				      memory_order_relaxed);
		return 1;
	}
	if (p > best())
		return 0;
	atomic_store_explicit(&chosen, p, memory_order_relaxed);
	return 1;
}

const char *eris__blake2b_path(void)
{
	switch (path()) {
	case ERIS__B2B_AVX512:
		return "avx512 (8 lanes)";
	case ERIS__B2B_AVX2:
		return "avx2 (4 lanes)";
	default:
		return "portable";
	}
}

#if defined(ERIS__B2B_HAVE_AVX2) || defined(ERIS__B2B_HAVE_AVX512)
/* Hash n < width inputs with a `width`-lane function, the spare lanes
 * repeating input 0. Measured (docs/PERFORMANCE.md): a 4-lane call costs
 * about 1.7 single hashes, an 8-lane call about 2.1, so this pays from
 * 2 inputs (4 lanes) or 5 (8 lanes). */
static void padded(void (*fn)(const uint8_t *const *, size_t,
			      const eris__blake2b_key *, uint8_t (*)[32]),
		   size_t width, const uint8_t *const *in, size_t n,
		   size_t len, const eris__blake2b_key *key, uint8_t (*out)[32])
{
	const uint8_t *lanes[ERIS__B2B_MAX_LANES];
	uint8_t digests[ERIS__B2B_MAX_LANES][32];

	for (size_t i = 0; i < width; i++)
		lanes[i] = in[i < n ? i : 0];
	fn(lanes, len, key, digests);
	memcpy(out, digests, n * sizeof(digests[0]));
	eris_memzero(digests, sizeof(digests)); /* keyed: leaf keys */
}
#endif

void eris__blake2b_many(const uint8_t *const *in, size_t n, size_t len,
			const eris__blake2b_key *key, uint8_t (*out)[32])
{
	int p = path();

	if (len == 0 || len % 128 != 0)
		p = ERIS__B2B_REF;
#ifdef ERIS__B2B_HAVE_AVX512
	if (p >= ERIS__B2B_AVX512) {
		for (; n >= 8; n -= 8, in += 8, out += 8)
			eris__blake2b_x8_avx512(in, len, key, out);
		if (n >= 5) {
			padded(eris__blake2b_x8_avx512, 8, in, n, len, key,
			       out);
			return;
		}
	}
#endif
#ifdef ERIS__B2B_HAVE_AVX2
	if (p >= ERIS__B2B_AVX2) {
		for (; n >= 4; n -= 4, in += 4, out += 4)
			eris__blake2b_x4_avx2(in, len, key, out);
		if (n >= 2) {
			padded(eris__blake2b_x4_avx2, 4, in, n, len, key, out);
			return;
		}
	}
#endif
	(void)p; /* unused when both SIMD paths are compiled out */
	eris__blake2b_many_ref(in, n, len, key, out);
}
