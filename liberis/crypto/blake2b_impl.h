/*
 * blake2b_impl.h - what the BLAKE2b implementations share: constants,
 * the per-ISA entry points and the dispatcher's view of them (STYLE §7).
 *
 *   blake2b_ref.c     portable C, one message at a time (every CPU)
 *   blake2b_avx2.c    4 messages at once, one per 64-bit lane of a ymm
 *   blake2b_avx512.c  8 messages at once, one per lane of a zmm
 *   dispatch.c        picks the widest the CPU has, once (cpuid)
 *
 * The SIMD functions hash equal-length inputs whose length is a non-zero
 * multiple of 128 bytes (ERIS blocks always are); the dispatcher sends
 * anything else to the portable code.
 */
#ifndef ERIS_BLAKE2B_IMPL_H
#define ERIS_BLAKE2B_IMPL_H

#include "crypto.h"

/* BLAKE2b's IV (RFC 7693 §2.6). */
#define ERIS__B2B_IV0 0x6a09e667f3bcc908ULL
#define ERIS__B2B_IV1 0xbb67ae8584caa73bULL
#define ERIS__B2B_IV2 0x3c6ef372fe94f82bULL
#define ERIS__B2B_IV3 0xa54ff53a5f1d36f1ULL
#define ERIS__B2B_IV4 0x510e527fade682d1ULL
#define ERIS__B2B_IV5 0x9b05688c2b3e6c1fULL
#define ERIS__B2B_IV6 0x1f83d9abfb41bd6bULL
#define ERIS__B2B_IV7 0x5be0cd19137e2179ULL

/* First parameter-block word for a 32-byte digest, fanout 1, depth 1 and
 * the given key length; the other seven words are zero. */
#define ERIS__B2B_PARAM0(keylen) (0x01010020ULL | ((uint64_t)(keylen) << 8))

/* Where a hash starts: the chaining value and the bytes already absorbed
 * (0 unkeyed, 128 after a key block). */
void eris__blake2b_start(uint64_t h[8], uint64_t *t,
			 const eris__blake2b_key *key);

/* Portable: each input on its own. */
void eris__blake2b_many_ref(const uint8_t *const *in, size_t n, size_t len,
			    const eris__blake2b_key *key,
			    uint8_t (*out)[32]);

/* The SIMD paths exist on x86-64 with GCC or Clang; -DERIS_NO_AVX2 or
 * -DERIS_NO_AVX512 compiles one out. */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#ifndef ERIS_NO_AVX2
#define ERIS__B2B_HAVE_AVX2 1
#endif
#ifndef ERIS_NO_AVX512
#define ERIS__B2B_HAVE_AVX512 1
#endif
#endif

/* Exactly 4 (avx2) or 8 (avx512) inputs; len % 128 == 0, len > 0. */
#ifdef ERIS__B2B_HAVE_AVX2
void eris__blake2b_x4_avx2(const uint8_t *const in[4], size_t len,
			   const eris__blake2b_key *key, uint8_t (*out)[32]);
#endif
#ifdef ERIS__B2B_HAVE_AVX512
void eris__blake2b_x8_avx512(const uint8_t *const in[8], size_t len,
			     const eris__blake2b_key *key, uint8_t (*out)[32]);
#endif

#endif
