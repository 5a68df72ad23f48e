/*
 * blake2b_avx2.c - BLAKE2b-256 of 4 equal-length inputs at once with AVX2.
 *
 * Why: one BLAKE2b message is a chain of dependent 64-bit operations, so
 * a single message cannot use a vector unit well; four independent
 * messages can, one per 64-bit lane (the layout of BLAKE3's hash_many,
 * STYLE §7). The decoder checks whole batches of blocks, and each is a
 * separate message of the same length.
 *
 * Lane i of every vector belongs to input i. The message words are
 * transposed on load (4x4 64-bit transposes), the state is the plain
 * 16-word BLAKE2b state with each word widened to 4 lanes. Rotations by
 * 32, 24 and 16 are byte shuffles; by 63 it is add + shift + or.
 *
 * Compiled for AVX2 through a target pragma, so the rest of the library
 * keeps the baseline ISA; dispatch.c only calls it when the CPU has AVX2.
 */
#include "blake2b_impl.h"

#ifdef ERIS__B2B_HAVE_AVX2

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2"))),               \
			     apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx2")
#endif

#include <immintrin.h>
#include <string.h>

#define ADD(a, b) _mm256_add_epi64(a, b)
#define XOR(a, b) _mm256_xor_si256(a, b)
#define ROT32(x) _mm256_shuffle_epi32(x, _MM_SHUFFLE(2, 3, 0, 1))
#define ROT24(x) _mm256_shuffle_epi8(x, r24)
#define ROT16(x) _mm256_shuffle_epi8(x, r16)
#define ROT63(x) _mm256_or_si256(_mm256_srli_epi64(x, 63), ADD(x, x))

#define G(a, b, c, d, x, y)                                                 \
	do {                                                                \
		a = ADD(ADD(a, b), x);                                      \
		d = ROT32(XOR(d, a));                                       \
		c = ADD(c, d);                                              \
		b = ROT24(XOR(b, c));                                       \
		a = ADD(ADD(a, b), y);                                      \
		d = ROT16(XOR(d, a));                                       \
		c = ADD(c, d);                                              \
		b = ROT63(XOR(b, c));                                       \
	} while (0)

#define ROUND(s0, s1, s2, s3, s4, s5, s6, s7, s8, s9, s10, s11, s12, s13,  \
	      s14, s15)                                                     \
	do {                                                                \
		G(v[0], v[4], v[8], v[12], m[s0], m[s1]);                   \
		G(v[1], v[5], v[9], v[13], m[s2], m[s3]);                   \
		G(v[2], v[6], v[10], v[14], m[s4], m[s5]);                  \
		G(v[3], v[7], v[11], v[15], m[s6], m[s7]);                  \
		G(v[0], v[5], v[10], v[15], m[s8], m[s9]);                  \
		G(v[1], v[6], v[11], v[12], m[s10], m[s11]);                \
		G(v[2], v[7], v[8], v[13], m[s12], m[s13]);                 \
		G(v[3], v[4], v[9], v[14], m[s14], m[s15]);                 \
	} while (0)

/* out[k] = 64-bit word k of each of a, b, c, d (a 4x4 transpose). */
static inline void transpose4(__m256i out[4], __m256i a, __m256i b,
			      __m256i c, __m256i d)
{
	__m256i t0 = _mm256_unpacklo_epi64(a, b); /* a0 b0 a2 b2 */
	__m256i t1 = _mm256_unpackhi_epi64(a, b); /* a1 b1 a3 b3 */
	__m256i t2 = _mm256_unpacklo_epi64(c, d); /* c0 d0 c2 d2 */
	__m256i t3 = _mm256_unpackhi_epi64(c, d); /* c1 d1 c3 d3 */

	out[0] = _mm256_permute2x128_si256(t0, t2, 0x20);
	out[1] = _mm256_permute2x128_si256(t1, t3, 0x20);
	out[2] = _mm256_permute2x128_si256(t0, t2, 0x31);
	out[3] = _mm256_permute2x128_si256(t1, t3, 0x31);
}

static inline __m256i load(const uint8_t *p)
{
	return _mm256_loadu_si256((const __m256i *)(const void *)p);
}

void eris__blake2b_x4_avx2(const uint8_t *const in[4], size_t len,
			   const eris__blake2b_key *key, uint8_t (*out)[32])
{
	const __m256i r24 = _mm256_setr_epi8(
		3, 4, 5, 6, 7, 0, 1, 2, 11, 12, 13, 14, 15, 8, 9, 10, 3, 4, 5,
		6, 7, 0, 1, 2, 11, 12, 13, 14, 15, 8, 9, 10);
	const __m256i r16 = _mm256_setr_epi8(
		2, 3, 4, 5, 6, 7, 0, 1, 10, 11, 12, 13, 14, 15, 8, 9, 2, 3, 4,
		5, 6, 7, 0, 1, 10, 11, 12, 13, 14, 15, 8, 9);
	uint64_t h0[8], t;
	__m256i h[8], v[16], m[16], d[4];

	eris__blake2b_start(h0, &t, key);
	for (int i = 0; i < 8; i++)
		h[i] = _mm256_set1_epi64x((long long)h0[i]);
	for (size_t off = 0; off < len; off += 128) {
		t += 128;
		for (int w = 0; w < 16; w += 4)
			transpose4(&m[w], load(in[0] + off + 8 * w),
				   load(in[1] + off + 8 * w),
				   load(in[2] + off + 8 * w),
				   load(in[3] + off + 8 * w));
		for (int i = 0; i < 8; i++)
			v[i] = h[i];
		v[8] = _mm256_set1_epi64x((long long)ERIS__B2B_IV0);
		v[9] = _mm256_set1_epi64x((long long)ERIS__B2B_IV1);
		v[10] = _mm256_set1_epi64x((long long)ERIS__B2B_IV2);
		v[11] = _mm256_set1_epi64x((long long)ERIS__B2B_IV3);
		/* t < 2^64: the counter's high word stays zero. */
		v[12] = _mm256_set1_epi64x((long long)(ERIS__B2B_IV4 ^ t));
		v[13] = _mm256_set1_epi64x((long long)ERIS__B2B_IV5);
		v[14] = _mm256_set1_epi64x(
			(long long)(off + 128 == len ? ~ERIS__B2B_IV6
						     : ERIS__B2B_IV6));
		v[15] = _mm256_set1_epi64x((long long)ERIS__B2B_IV7);
		ERIS__B2B_ROUNDS(ROUND);
		for (int i = 0; i < 8; i++)
			h[i] = XOR(h[i], XOR(v[i], v[i + 8]));
	}
	/* Lane i's digest is word i of h[0..3], little-endian (x86). */
	transpose4(d, h[0], h[1], h[2], h[3]);
	for (int i = 0; i < 4; i++)
		_mm256_storeu_si256((__m256i *)(void *)out[i], d[i]);
	/* The state may hold a secret's traces (keyed leaf hashes). */
	memset(v, 0, sizeof(v));
	memset(h, 0, sizeof(h));
	__asm__ __volatile__("" : : "r"(v), "r"(h) : "memory");
}

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

#endif /* ERIS__B2B_HAVE_AVX2 */
