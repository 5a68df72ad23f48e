/*
 * crypto.c - ChaCha20-IETF through libsodium, and constant-time compare.
 * (BLAKE2b is liberis' own, blake2b_*.c and dispatch.c: blake2b_ref.c says
 * why it is not libsodium's.)
 *
 * libsodium picks its fastest ChaCha20 (AVX2 where the CPU has it) at
 * sodium_init(); eris_init() calls that before any of this. Where the CPU
 * has AVX-512F, whole kilobytes go through chacha20_avx512.c instead
 * (faster here: see bench/), unless $ERIS_CHACHA20=libsodium.
 */
#include "crypto.h"

#include <sodium.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* 1: chacha20_avx512.c, 0: libsodium; chosen once. */
static int use_avx512(void)
{
#ifdef ERIS__CHACHA20_HAVE_AVX512
	static atomic_int chosen = -1;
	int c = atomic_load_explicit(&chosen, memory_order_relaxed);

	if (c < 0) {
		const char *e = getenv("ERIS_CHACHA20");

		__builtin_cpu_init();
		c = __builtin_cpu_supports("avx512f") &&
		    !(e && strcmp(e, "libsodium") == 0);
		atomic_store_explicit(&chosen, c, memory_order_relaxed);
	}
	return c;
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
