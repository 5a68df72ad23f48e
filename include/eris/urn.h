/*
 * eris/urn.h - the read capability and its three encodings.
 *
 * A read capability names ERIS content: block size, tree level, root
 * reference and root key. It has a 66-byte binary form, a URN form
 * ("urn:eris:" + 106 base32 characters) and a CBOR form (tag 276 around
 * the binary form). Parsers are strict: one capability has one URN.
 */
#ifndef ERIS_URN_H
#define ERIS_URN_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Size of the binary read capability. */
#define ERIS_READ_CAP_BYTES 66u
/** Length of a URN, without the terminating NUL. */
#define ERIS_URN_LEN 115u
/** Buffer size for a URN including the terminating NUL. */
#define ERIS_URN_BUFSIZE (ERIS_URN_LEN + 1u)
/** Size of the CBOR form: tag 276 (3 bytes), bstr header (2), 66 bytes. */
#define ERIS_READ_CAP_CBOR_BYTES (ERIS_READ_CAP_BYTES + 5u)

/** A read capability. A plain value: copy it freely. */
typedef struct eris_read_cap {
	uint32_t block_size;              /**< 1024 or 32768 */
	uint8_t level;                    /**< height of the tree, 0 = one leaf */
	uint8_t root_ref[ERIS_REF_BYTES]; /**< reference of the root block */
	uint8_t root_key[ERIS_KEY_BYTES]; /**< key of the root block */
} eris_read_cap;

/**
 * Whether two capabilities name the same content the same way: same block
 * size, level, root reference and root key. Compare them with this, not
 * with memcmp() (the struct may have padding). The whole comparison takes
 * the same time wherever the two differ, so that the key, which grants
 * reading, is not leaked through timing.
 * @return 1 if equal, 0 if not or if either is NULL
 */
ERIS_EXTERN int eris_read_cap_equal(const eris_read_cap *a,
				    const eris_read_cap *b);

/** Write the 66-byte binary form. Returns ERIS_OK or ERIS_EINVAL. */
ERIS_EXTERN int eris_read_cap_to_bytes(uint8_t out[ERIS_READ_CAP_BYTES],
				       const eris_read_cap *cap);

/**
 * Parse the 66-byte binary form.
 * @return ERIS_OK, or ERIS_EURN if the block-size code is not 0x0a/0x0f.
 */
ERIS_EXTERN int eris_read_cap_from_bytes(eris_read_cap *out,
					 const uint8_t in[ERIS_READ_CAP_BYTES]);

/**
 * Format the URN (upper case, unpadded) into `out`, NUL-terminated.
 * @return ERIS_OK or ERIS_EINVAL for an invalid capability.
 */
ERIS_EXTERN int eris_urn_format(char out[ERIS_URN_BUFSIZE],
				const eris_read_cap *cap);

/**
 * Parse a URN of exactly `len` bytes (no NUL needed). The prefix
 * "urn:eris:" is case-insensitive; then exactly 106 upper-case base32
 * characters with zero filler bits and a valid block-size code.
 * @return ERIS_OK or ERIS_EURN (the message says what is wrong).
 */
ERIS_EXTERN int eris_urn_parse(eris_read_cap *out, const char *urn, size_t len);

/** Write the CBOR form: tag 276 around a 66-byte byte string. */
ERIS_EXTERN int eris_read_cap_to_cbor(uint8_t out[ERIS_READ_CAP_CBOR_BYTES],
				      const eris_read_cap *cap);

/**
 * Parse the CBOR form from `len` bytes, which must hold exactly one
 * tag-276 byte string of 66 bytes in canonical encoding.
 * @return ERIS_OK or ERIS_EURN.
 */
ERIS_EXTERN int eris_read_cap_from_cbor(eris_read_cap *out, const uint8_t *in,
					size_t len);

/**
 * Encode `len` bytes as RFC 4648 base32, upper case, unpadded, into
 * `out`, which must hold ceil(len * 8 / 5) + 1 bytes. NUL-terminates.
 */
ERIS_EXTERN void eris_base32_encode(char *out, const uint8_t *in, size_t len);

/**
 * Decode unpadded upper-case base32 of exactly `len` characters into
 * `out_len` bytes; the characters must encode exactly that many bytes and
 * the filler bits must be zero.
 * @return ERIS_OK or ERIS_EURN.
 */
ERIS_EXTERN int eris_base32_decode(uint8_t *out, size_t out_len, const char *in,
				   size_t len);

#ifdef __cplusplus
}
#endif
#endif
