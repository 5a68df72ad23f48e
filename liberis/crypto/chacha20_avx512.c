/*
 * chacha20_avx512.c - ChaCha20-IETF keystream XOR, 16 blocks (1 KiB) at a
 * time with AVX-512F.
 *
 * Why: libsodium's fastest ChaCha20 here is its AVX2 code (8 blocks, and
 * rotations made of shifts or byte shuffles). With AVX-512 each of the 16
 * state words of 16 consecutive blocks fits one register (one block per
 * 32-bit lane) and every rotation is one instruction (vprold).
 *
 * After the rounds, block j is lane j of the 16 state registers: a 16x16
 * transpose of 32-bit words (32-bit and 64-bit unpacks, then two rounds
 * of 128-bit lane shuffles) turns them into 16 consecutive 64-byte
 * blocks, which are XORed into the output.
 *
 * Compiled for AVX-512F through a target pragma; crypto.c only calls it
 * when the CPU and the OS support AVX-512F.
 */
#include "crypto.h"

#ifdef ERIS__CHACHA20_HAVE_AVX512

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx512f"))),            \
			     apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx512f")
#endif

#include <immintrin.h>
#include <string.h>

static uint32_t load32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4); /* x86-64 is little-endian, like ChaCha20 */
	return v;
}

#define QR(a, b, c, d)                                                      \
	do {                                                                \
		a = _mm512_add_epi32(a, b);                                 \
		d = _mm512_rol_epi32(_mm512_xor_si512(d, a), 16);           \
		c = _mm512_add_epi32(c, d);                                 \
		b = _mm512_rol_epi32(_mm512_xor_si512(b, c), 12);           \
		a = _mm512_add_epi32(a, b);                                 \
		d = _mm512_rol_epi32(_mm512_xor_si512(d, a), 8);            \
		c = _mm512_add_epi32(c, d);                                 \
		b = _mm512_rol_epi32(_mm512_xor_si512(b, c), 7);            \
	} while (0)

size_t eris__chacha20_x16_avx512(uint8_t *out, const uint8_t *in,
				 size_t len, const uint8_t key[32],
				 const uint8_t nonce[12], uint32_t counter)
{
	const __m512i lanes = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9,
						10, 11, 12, 13, 14, 15);
	__m512i s[16];
	size_t done = 0;

	s[0] = _mm512_set1_epi32(0x61707865);
	s[1] = _mm512_set1_epi32(0x3320646e);
	s[2] = _mm512_set1_epi32(0x79622d32);
	s[3] = _mm512_set1_epi32(0x6b206574);
	for (int i = 0; i < 8; i++)
		s[4 + i] = _mm512_set1_epi32((int)load32(key + 4 * i));
	for (int i = 0; i < 3; i++)
		s[13 + i] = _mm512_set1_epi32((int)load32(nonce + 4 * i));

	for (; len - done >= 1024; done += 1024, counter += 16) {
		__m512i x[16], t[16], u[16];

		s[12] = _mm512_add_epi32(_mm512_set1_epi32((int)counter),
					 lanes);
		for (int i = 0; i < 16; i++)
			x[i] = s[i];
		for (int r = 0; r < 10; r++) {
			QR(x[0], x[4], x[8], x[12]);
			QR(x[1], x[5], x[9], x[13]);
			QR(x[2], x[6], x[10], x[14]);
			QR(x[3], x[7], x[11], x[15]);
			QR(x[0], x[5], x[10], x[15]);
			QR(x[1], x[6], x[11], x[12]);
			QR(x[2], x[7], x[8], x[13]);
			QR(x[3], x[4], x[9], x[14]);
		}
		for (int i = 0; i < 16; i++)
			x[i] = _mm512_add_epi32(x[i], s[i]);

		/* Transpose: x[w] lane j is word w of block j. */
		for (int i = 0; i < 8; i++) {
			t[2 * i] = _mm512_unpacklo_epi32(x[2 * i], x[2 * i + 1]);
			t[2 * i + 1] =
				_mm512_unpackhi_epi32(x[2 * i], x[2 * i + 1]);
		}
		/* u[4 g + m], 128-bit lane k: words 4g..4g+3 of block
		 * 4k + m. */
		for (int g = 0; g < 4; g++) {
			u[4 * g] = _mm512_unpacklo_epi64(t[4 * g], t[4 * g + 2]);
			u[4 * g + 1] =
				_mm512_unpackhi_epi64(t[4 * g], t[4 * g + 2]);
			u[4 * g + 2] =
				_mm512_unpacklo_epi64(t[4 * g + 1], t[4 * g + 3]);
			u[4 * g + 3] =
				_mm512_unpackhi_epi64(t[4 * g + 1], t[4 * g + 3]);
		}
		for (int m = 0; m < 4; m++) {
			/* A 4x4 transpose of 128-bit lanes gives blocks
			 * m, 4 + m, 8 + m and 12 + m whole. */
			__m512i v0 = _mm512_shuffle_i32x4(u[m], u[4 + m], 0x88);
			__m512i v1 = _mm512_shuffle_i32x4(u[m], u[4 + m], 0xdd);
			__m512i v2 =
				_mm512_shuffle_i32x4(u[8 + m], u[12 + m], 0x88);
			__m512i v3 =
				_mm512_shuffle_i32x4(u[8 + m], u[12 + m], 0xdd);
			__m512i b[4];

			b[0] = _mm512_shuffle_i32x4(v0, v2, 0x88);
			b[1] = _mm512_shuffle_i32x4(v1, v3, 0x88);
			b[2] = _mm512_shuffle_i32x4(v0, v2, 0xdd);
			b[3] = _mm512_shuffle_i32x4(v1, v3, 0xdd);
			for (int k = 0; k < 4; k++) {
				size_t at = done + (size_t)(4 * k + m) * 64;
				__m512i p = _mm512_loadu_si512(in + at);

				_mm512_storeu_si512(out + at,
						    _mm512_xor_si512(p, b[k]));
			}
		}
	}
	return done;
}

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

#endif
