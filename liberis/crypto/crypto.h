/*
 * crypto.h - the two primitives ERIS needs, as the encoder and decoder use
 * them (ERIS digest §1): BLAKE2b-256, keyed or not, and ChaCha20-IETF with
 * the tree level in byte 0 of the nonce and the block counter at 0.
 */
#ifndef ERIS_CRYPTO_H
#define ERIS_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

/* out = BLAKE2b-256(in), unkeyed. */
void eris__blake2b(uint8_t out[32], const uint8_t *in, size_t len);

/* out = BLAKE2b-256(in) keyed with the 32-byte key (the convergence secret). */
void eris__blake2b_keyed(uint8_t out[32], const uint8_t *in, size_t len,
			 const uint8_t key[32]);

/* out = in XOR ChaCha20(key, nonce = [level, 0 x 11], counter 0). out may
 * equal in. */
void eris__chacha20(uint8_t *out, const uint8_t *in, size_t len,
		    const uint8_t key[32], uint8_t level);

/* Constant-time equality of 32 bytes: 1 if equal. */
int eris__equal32(const uint8_t a[32], const uint8_t b[32]);

#endif
