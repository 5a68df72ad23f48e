/*
 * crypto.c - ChaCha20-IETF through libsodium, and constant-time compare.
 * (BLAKE2b is liberis' own, blake2b_*.c and dispatch.c: blake2b_ref.c says
 * why it is not libsodium's.)
 *
 * libsodium picks its fastest ChaCha20 (AVX2 where the CPU has it) at
 * sodium_init(); eris_init() calls that before any of this. Where the CPU
 * has AVX-512F, whole kilobytes go through chacha20_avx512.c instead
 * (faster here: see bench/), unless eris_configure() asked for libsodium
 * (eris__chacha20_use_libsodium).
 */
#include "crypto.h"

#include <sodium.h>
#include <stdatomic.h>

/* Set by eris_configure(); read on every call, so a change applies at
 * once (both paths give the same bytes). */
static atomic_int libsodium_only = 0;

void eris__chacha20_use_libsodium(int on)
{
	atomic_store_explicit(&libsodium_only, on != 0, memory_order_relaxed);
}

/* 1: chacha20_avx512.c, 0: libsodium. The CPU is asked once. */
static int use_avx512(void)
{
#ifdef ERIS__CHACHA20_HAVE_AVX512
	static atomic_int has = -1;
	int c = atomic_load_explicit(&has, memory_order_relaxed);

	if (c < 0) {
		__builtin_cpu_init();
		c = __builtin_cpu_supports("avx512f") != 0;
		atomic_store_explicit(&has, c, memory_order_relaxed);
	}
	return c &&
	       !atomic_load_explicit(&libsodium_only, memory_order_relaxed);
#else
	return 0;
#endif
}

const char *eris__chacha20_path(void)
{
	return use_avx512() ? "avx512 (16 blocks)" : "libsodium";
}

void eris__chacha20(uint8_t *out, const uint8_t *in, size_t len,
		    const uint8_t key[32], uint8_t level)
{
	uint8_t nonce[crypto_stream_chacha20_ietf_NONCEBYTES] = { 0 };
	size_t done = 0;

	nonce[0] = level;
#ifdef ERIS__CHACHA20_HAVE_AVX512
	if (use_avx512())
		done = eris__chacha20_x16_avx512(out, in, len, key, nonce, 0);
#endif
	if (done < len)
		crypto_stream_chacha20_ietf_xor_ic(out + done, in + done,
						   len - done, nonce,
						   (uint32_t)(done / 64), key);
}

int eris__equal32(const uint8_t a[32], const uint8_t b[32])
{
	return crypto_verify_32(a, b) == 0;
}
