/*
 * eris/encode.h - the streaming encoder.
 *
 *     eris_encoder_new ──> eris_encoder_write (any number of times)
 *                     ──> eris_encoder_finish ──> read capability
 *     eris_encoder_free at any point.
 *
 * Memory stays O(level x block size) whatever the content length: one open
 * node per tree level, plus two batches of leaves (8 leaves each; 1 MiB
 * each with threads). The encrypted blocks of a batch are put into the
 * store while the next batch is encoded, at the latest by
 * eris_encoder_finish (the store may be NULL to only compute the
 * capability). A failed store put leaves the encoder failed: the call
 * during which it failed (a write, or finish) returns its error, later
 * calls ERIS_EFAILED. One encoder is not to be used by two threads at
 * once.
 *
 * Threads: with `threads` > 1 in the options, the encoder hashes and
 * encrypts a batch of leaves (1 MiB of content) on that many threads while
 * the calling thread stores the previous batch and builds the tree in
 * order. A batch copied from small writes may still be encoded when
 * eris_encoder_write returns; the caller's buffer never is. The read
 * capability, the blocks and the order of the store puts are the same for
 * every thread count; the store is only called from the calling thread.
 * More threads than a batch has tasks add nothing (4 with 32 KiB blocks,
 * 64 with 1 KiB blocks): the encoder uses at most that many.
 */
#ifndef ERIS_ENCODE_H
#define ERIS_ENCODE_H

#include "common.h"
#include "store.h"
#include "urn.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A streaming encoder (opaque). */
typedef struct eris_encoder eris_encoder;

/** Encoder options. Initialise with ERIS_ENCODE_OPTIONS_INIT. */
typedef struct eris_encode_options {
	unsigned version;    /**< ERIS_ENCODE_OPTIONS_VERSION */
	uint32_t block_size; /**< ERIS_BLOCK_SIZE_1K or _32K */
	/** Convergence secret, 32 bytes; NULL means the null (all-zero)
	 * secret. Copied by eris_encoder_new(); wiped when the encoder is
	 * freed. */
	const uint8_t *secret;
	/** Threads to hash and encrypt with (version 2): 0 or 1 means the
	 * calling thread only. */
	unsigned threads;
} eris_encode_options;

/* Version 1 structures (without `threads`) are still accepted. */
#define ERIS_ENCODE_OPTIONS_VERSION 2
#define ERIS_ENCODE_OPTIONS_INIT                                            \
	{ ERIS_ENCODE_OPTIONS_VERSION, ERIS_BLOCK_SIZE_32K, NULL, 0 }

/**
 * Create an encoder.
 *
 * @param out    receives the encoder; free with eris_encoder_free()
 * @param store  where blocks go (borrowed; must outlive the encoder), or
 *               NULL to store nothing
 * @param opts   options, or NULL for the defaults (32 KiB, null secret)
 * @return ERIS_OK, ERIS_EINVAL (bad block size/version), ERIS_ENOMEM,
 *         ERIS_ERROR (threads could not be started)
 */
ERIS_EXTERN int eris_encoder_new(eris_encoder **out, eris_store *store,
				 const eris_encode_options *opts);

/** Append `len` bytes of content. */
ERIS_EXTERN int eris_encoder_write(eris_encoder *enc, const void *data,
				   size_t len);

/**
 * Pad, close the tree and produce the read capability. The encoder
 * cannot be written to afterwards; it still has to be freed.
 */
ERIS_EXTERN int eris_encoder_finish(eris_read_cap *out, eris_encoder *enc);

/** Bytes of content written so far. */
ERIS_EXTERN uint64_t eris_encoder_length(const eris_encoder *enc);

/** Free the encoder and wipe its secrets. NULL is allowed. */
ERIS_EXTERN void eris_encoder_free(eris_encoder *enc);

/** One-shot: encode `len` bytes at `data` into `store` (may be NULL). */
ERIS_EXTERN int eris_encode(eris_read_cap *out, eris_store *store,
			    const eris_encode_options *opts, const void *data,
			    size_t len);

#ifdef __cplusplus
}
#endif
#endif
