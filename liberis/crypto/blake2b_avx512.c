/*
 * blake2b_avx512.c - BLAKE2b-256 of 8 equal-length inputs at once with
 * AVX-512F.
 *
 * Why: as blake2b_avx2.c, one message per 64-bit lane, but with 8 lanes
 * and AVX-512's native 64-bit rotate (vprorq), which makes every rotation
 * a single instruction. 32 vector registers hold the 16 state words and
 * most of the 16 message words.
 *
 * Message words are transposed on load: 8 lanes x 8 words is an 8x8
 * transpose of 64-bit elements (unpack, then two rounds of 128-bit lane
 * shuffles), done twice per 128-byte block.
 *
 * Compiled for AVX-512F through a target pragma; dispatch.c only calls it
 * when the CPU and the OS support AVX-512F.
 */
#include "blake2b_impl.h"

#ifdef ERIS__B2B_HAVE_AVX512

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx512f"))),            \
			     apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx512f")
#endif

#include <immintrin.h>
#include <string.h>

#define ADD(a, b) _mm512_add_epi64(a, b)
#define XOR(a, b) _mm512_xor_si512(a, b)
#define ROR(x, n) _mm512_ror_epi64(x, n)

#define G(a, b, c, d, x, y)                                                 \
	do {                                                                \
		a = ADD(ADD(a, b), x);                                      \
		d = ROR(XOR(d, a), 32);                                     \
		c = ADD(c, d);                                              \
		b = ROR(XOR(b, c), 24);                                     \
		a = ADD(ADD(a, b), y);                                      \
		d = ROR(XOR(d, a), 16);                                     \
		c = ADD(c, d);                                              \
		b = ROR(XOR(b, c), 63);                                     \
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

#define SEL_EVEN _MM_SHUFFLE(2, 0, 2, 0)
#define SEL_ODD _MM_SHUFFLE(3, 1, 3, 1)

/* r[i] holds 8 words of lane i; out[k] receives word k of every lane. */
static inline void transpose8(__m512i out[8], const __m512i r[8])
{
	__m512i t[8], s[8];

	for (int i = 0; i < 4; i++) {
		/* Lanes 2i, 2i+1: words (0,2,4,6) and (1,3,5,7) paired. */
		t[2 * i] = _mm512_unpacklo_epi64(r[2 * i], r[2 * i + 1]);
		t[2 * i + 1] = _mm512_unpackhi_epi64(r[2 * i], r[2 * i + 1]);
	}
	for (int i = 0; i < 2; i++) {
		/* j = 0: even words, j = 1: odd words. */
		for (int j = 0; j < 2; j++) {
			__m512i a = t[4 * i + j], b = t[4 * i + 2 + j];

			s[4 * i + 2 * j] = _mm512_shuffle_i64x2(a, b, SEL_EVEN);
			s[4 * i + 2 * j + 1] =
				_mm512_shuffle_i64x2(a, b, SEL_ODD);
		}
	}
	/* s[0] = words 0,4 of lanes 0-3; s[1] = words 2,6; s[2] = 1,5;
	 * s[3] = 3,7; s[4..7] the same for lanes 4-7. */
	out[0] = _mm512_shuffle_i64x2(s[0], s[4], SEL_EVEN);
	out[4] = _mm512_shuffle_i64x2(s[0], s[4], SEL_ODD);
	out[2] = _mm512_shuffle_i64x2(s[1], s[5], SEL_EVEN);
	out[6] = _mm512_shuffle_i64x2(s[1], s[5], SEL_ODD);
	out[1] = _mm512_shuffle_i64x2(s[2], s[6], SEL_EVEN);
	out[5] = _mm512_shuffle_i64x2(s[2], s[6], SEL_ODD);
	out[3] = _mm512_shuffle_i64x2(s[3], s[7], SEL_EVEN);
	out[7] = _mm512_shuffle_i64x2(s[3], s[7], SEL_ODD);
}

void eris__blake2b_x8_avx512(const uint8_t *const in[8], size_t len,
			     const eris__blake2b_key *key, uint8_t (*out)[32])
{
	uint64_t h0[8], t, words[4][8];
	__m512i h[8], v[16], m[16], r[8];

	eris__blake2b_start(h0, &t, key);
	for (int i = 0; i < 8; i++)
		h[i] = _mm512_set1_epi64((long long)h0[i]);
	for (size_t off = 0; off < len; off += 128) {
		t += 128;
		for (int half = 0; half < 2; half++) {
			for (int i = 0; i < 8; i++)
				r[i] = _mm512_loadu_si512(
					(const void *)(in[i] + off + 64 * half));
			transpose8(&m[8 * half], r);
		}
		for (int i = 0; i < 8; i++)
			v[i] = h[i];
		v[8] = _mm512_set1_epi64((long long)ERIS__B2B_IV0);
		v[9] = _mm512_set1_epi64((long long)ERIS__B2B_IV1);
		v[10] = _mm512_set1_epi64((long long)ERIS__B2B_IV2);
		v[11] = _mm512_set1_epi64((long long)ERIS__B2B_IV3);
		/* t < 2^64: the counter's high word stays zero. */
		v[12] = _mm512_set1_epi64((long long)(ERIS__B2B_IV4 ^ t));
		v[13] = _mm512_set1_epi64((long long)ERIS__B2B_IV5);
		v[14] = _mm512_set1_epi64(
			(long long)(off + 128 == len ? ~ERIS__B2B_IV6
						     : ERIS__B2B_IV6));
		v[15] = _mm512_set1_epi64((long long)ERIS__B2B_IV7);
		ERIS__B2B_ROUNDS(ROUND);
		for (int i = 0; i < 8; i++)
			h[i] = XOR(h[i], XOR(v[i], v[i + 8]));
	}
	/* Lane i's digest is word i of h[0..3], little-endian (x86). */
	for (int k = 0; k < 4; k++)
		_mm512_storeu_si512((void *)words[k], h[k]);
	for (int i = 0; i < 8; i++)
		for (int k = 0; k < 4; k++)
			memcpy(out[i] + 8 * k, &words[k][i], 8);
	/* The state may hold a secret's traces (keyed leaf hashes). */
	memset(v, 0, sizeof(v));
	memset(h, 0, sizeof(h));
	memset(words, 0, sizeof(words));
	__asm__ __volatile__("" : : "r"(v), "r"(h), "r"(words) : "memory");
}

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

#endif /* ERIS__B2B_HAVE_AVX512 */
