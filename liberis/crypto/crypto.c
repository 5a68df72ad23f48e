/*
 * crypto.c - ChaCha20-IETF through libsodium, and constant-time compare.
 * (BLAKE2b is liberis' own, blake2b_*.c and dispatch.c: blake2b_ref.c says
 * why it is not libsodium's.)
 *
 * libsodium picks its fastest ChaCha20 (AVX2 where the CPU has it) at
 * sodium_init(); eris_init() calls that before any of this.
 */
#include "crypto.h"

#include <sodium.h>

void eris__chacha20(uint8_t *out, const uint8_t *in, size_t len,
		    const uint8_t key[32], uint8_t level)
{
	uint8_t nonce[crypto_stream_chacha20_ietf_NONCEBYTES] = { 0 };

	nonce[0] = level;
	crypto_stream_chacha20_ietf_xor_ic(out, in, len, nonce, 0, key);
}

int eris__equal32(const uint8_t a[32], const uint8_t b[32])
{
	return crypto_verify_32(a, b) == 0;
}
