/*
 * eris/decode.h - verified decoding, random access and verification.
 *
 * A decoder reads content named by a read capability from a store. Every
 * block is checked before any byte derived from it reaches the caller:
 *
 *   R1 the block is in the store              (ERIS_ENOTFOUND)
 *   R2 it has the capability's block size     (ERIS_EBLOCKSIZE)
 *   R3 it hashes to its reference             (ERIS_EMISMATCH)
 *   R4 the root node hashes to the root key   (ERIS_EKEY)
 *   R5 internal nodes are well formed         (ERIS_ENODE)
 *   R6 the last leaf is correctly padded      (ERIS_EPADDING)
 *
 * Opening a decoder walks the right-most path of the tree (level + 1
 * blocks): it checks R4, learns the content length and checks R6 up front.
 * Reads at any offset then cost at most `level` internal-node fetches plus
 * the leaves; the decrypted nodes on the current path are cached.
 */
#ifndef ERIS_DECODE_H
#define ERIS_DECODE_H

#include "common.h"
#include "store.h"
#include "urn.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A decoder (opaque). One decoder is not to be used by two threads. */
typedef struct eris_decoder eris_decoder;

/** Decoder and verification options. Initialise with
 * ERIS_DECODE_OPTIONS_INIT. */
typedef struct eris_decode_options {
	unsigned version; /**< ERIS_DECODE_OPTIONS_VERSION */
	/** Threads to check and decrypt whole leaves with, as
	 * eris_decoder_set_threads(): 0 or 1 means the calling thread
	 * only. */
	unsigned threads;
} eris_decode_options;

#define ERIS_DECODE_OPTIONS_VERSION 1
#define ERIS_DECODE_OPTIONS_INIT { ERIS_DECODE_OPTIONS_VERSION, 0 }

/**
 * Open content for reading.
 *
 * @param out    receives the decoder; free with eris_decoder_free()
 * @param store  where blocks come from (borrowed; must outlive the decoder)
 * @param cap    the read capability (copied)
 * @return ERIS_OK or a verification code (R1-R6), ERIS_ELEVEL,
 *         ERIS_EINVAL, ERIS_ENOMEM, ERIS_ERROR (store failure)
 */
ERIS_EXTERN int eris_decoder_new(eris_decoder **out, eris_store *store,
				 const eris_read_cap *cap);

/**
 * eris_decoder_new() with options.
 *
 * @param opts  options (read during the call only), or NULL for the
 *              defaults (one thread)
 * @return as eris_decoder_new(); ERIS_EINVAL also for an unknown
 *         options version; ERIS_ERROR if the threads cannot be started
 */
ERIS_EXTERN int eris_decoder_new_opts(eris_decoder **out, eris_store *store,
				      const eris_read_cap *cap,
				      const eris_decode_options *opts);

/** The content length in bytes. */
ERIS_EXTERN uint64_t eris_decoder_length(const eris_decoder *dec);

/**
 * Read up to `len` bytes at `offset` into `buf`. Stops at the end of the
 * content; `*out_read` receives the number of bytes read (0 at or past the
 * end). On failure nothing is guaranteed about `buf` except that it holds
 * no unverified bytes.
 */
ERIS_EXTERN int eris_decoder_pread(eris_decoder *dec, void *buf, size_t len,
				   uint64_t offset, size_t *out_read);

/** Sequential read from the current position (starts at 0). */
ERIS_EXTERN int eris_decoder_read(eris_decoder *dec, void *buf, size_t len,
				  size_t *out_read);

/** Set the position for eris_decoder_read(); past the end is allowed. */
ERIS_EXTERN int eris_decoder_seek(eris_decoder *dec, uint64_t offset);

/** The current position. */
ERIS_EXTERN uint64_t eris_decoder_tell(const eris_decoder *dec);

/**
 * Check and decrypt whole leaves on `threads` threads (1, the default,
 * means the calling thread only): each batch of leaves (and, for 1 KiB
 * blocks, their level-1 nodes) is fetched with the store's batched get
 * and checked by the threads in parallel, while the calling thread loads
 * the nodes above the next batch. From a store across a network
 * (http, https, coap, coap+tcp, s3, rados, or a composite with one of
 * them) and with 32 KiB blocks, the calling thread also fetches the next
 * batch's leaves, in one batched get, while the threads check the
 * current one; read large ranges (megabytes) so that this pipeline
 * fills. The store is then called from several
 * threads at once (the built-in stores allow it). More threads than the
 * largest batch has tasks add nothing and are not started (32 with 32 KiB
 * blocks, 256 with 1 KiB blocks). Contents and
 * errors are the same for every thread count: the first failing block in
 * content order is the one reported, with the same code and message.
 * @return ERIS_OK, ERIS_EINVAL, ERIS_ENOMEM, ERIS_ERROR (no threads)
 */
ERIS_EXTERN int eris_decoder_set_threads(eris_decoder *dec, unsigned threads);

/** Free the decoder. NULL is allowed. */
ERIS_EXTERN void eris_decoder_free(eris_decoder *dec);

/**
 * Check that every block of the content is present and valid (R1-R6),
 * producing no output. `progress` (may be NULL) is called every so often
 * with the number of leaves checked so far (of eris_decoder_length() /
 * block size + 1 in all); `payload` is passed through.
 * @param out_blocks  may be NULL; receives the number of blocks visited
 */
ERIS_EXTERN int eris_verify(eris_store *store, const eris_read_cap *cap,
			    uint64_t *out_blocks,
			    void (*progress)(uint64_t blocks, void *payload),
			    void *payload);

/**
 * eris_verify() with options (NULL for the defaults); the verdict is the
 * same for every thread count.
 * @return as eris_verify(); ERIS_EINVAL also for an unknown options
 *         version
 */
ERIS_EXTERN int eris_verify_opts(eris_store *store, const eris_read_cap *cap,
				 const eris_decode_options *opts,
				 uint64_t *out_blocks,
				 void (*progress)(uint64_t blocks,
						  void *payload),
				 void *payload);

/** eris_verify() on `threads` threads, as eris_decoder_set_threads().
 * Kept for existing callers: eris_verify_opts() is the same with
 * options. */
ERIS_EXTERN int eris_verify_threads(eris_store *store,
				    const eris_read_cap *cap, unsigned threads,
				    uint64_t *out_blocks,
				    void (*progress)(uint64_t blocks,
						     void *payload),
				    void *payload);

/**
 * Visit the reference of every block of the content, each with its tree
 * level (0 = leaf): the root, every internal node, every leaf, in tree
 * order (a block used twice is visited twice). Internal nodes are fetched
 * and verified (R1-R5) to learn their children; leaves are not fetched.
 * A non-zero return from `cb` stops the walk and is returned.
 */
ERIS_EXTERN int eris_walk(eris_store *store, const eris_read_cap *cap,
			  int (*cb)(const uint8_t ref[ERIS_REF_BYTES],
				    unsigned level, void *payload),
			  void *payload);

#ifdef __cplusplus
}
#endif
#endif
