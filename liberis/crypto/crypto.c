/*
 * crypto.c - BLAKE2b-256 and ChaCha20-IETF through libsodium.
 *
 * libsodium picks its fastest BLAKE2b compression function (AVX2 where the
 * CPU has it) at sodium_init(); eris_init() calls that before any of this.
 */
#include "crypto.h"

#include <sodium.h>

void eris__blake2b(uint8_t out[32], const uint8_t *in, size_t len)
{
	crypto_generichash_blake2b(out, 32, in, len, NULL, 0);
}

void eris__blake2b_keyed(uint8_t out[32], const uint8_t *in, size_t len,
			 const uint8_t key[32])
{
	/* A keyed hash even when the key is all zero: the null secret is a
	 * real 32-byte key (ERIS digest §1). */
	crypto_generichash_blake2b(out, 32, in, len, key, 32);
}

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
