/*
 * eris/bundle.h - CBOR bundles: blocks and read capabilities in one file.
 *
 * A bundle is the "CBOR Serialization of ERIS Encoded Content": a single
 * CBOR data item
 *
 *   55799( 1701996915( [ { * ref => block }, * 276(capability) ] ) )
 *
 * an array whose first element maps 32-byte references to their 1024- or
 * 32768-byte blocks and whose other elements are read capabilities (CBOR
 * tag 276 around the 66-byte binary form). Tag 1701996915 ("eris") and
 * the self-described CBOR tag 55799 in front of it are optional.
 *
 * Writing: eris_bundle_writer_new(), then eris_bundle_writer_add_block()
 * for every block, then eris_bundle_writer_add_cap() for every
 * capability, then eris_bundle_writer_finish(). The writer always emits
 * both tags; the array and the map have definite lengths when the counts
 * are announced up front, indefinite lengths otherwise (for streaming,
 * when the number of blocks is known only at the end).
 *
 * Reading: eris_bundle_open() parses the whole file once and indexes it:
 * reference -> file offset and length. Blocks stay in the file; reading
 * one is a pread(). eris_store_new_bundle() turns an open bundle into a
 * read-only store; eris_store_open("cbor:FILE") does both in one step.
 *
 * The reader accepts definite and indefinite lengths for the array, the
 * map and the byte strings (an indefinite byte string is a sequence of
 * definite chunks), with or without the two tags, and nothing else: a
 * map key that is not a 32-byte byte string, a value that is not a byte
 * string of 1024 or 32768 bytes, an array element after the map that is
 * not a tag-276 byte string of 66 bytes, anything after the array, or a
 * truncated file fails the open with a message giving the byte offset.
 * A key present twice keeps its first block.
 */
#ifndef ERIS_BUNDLE_H
#define ERIS_BUNDLE_H

#include "common.h"
#include "store.h"
#include "urn.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The CBOR tag of a bundle, ASCII "eris" (0x65726973). */
#define ERIS_BUNDLE_TAG 1701996915u
/** The self-described CBOR tag (RFC 8949 §3.4.6): bytes D9 D9 F7. */
#define ERIS_CBOR_SELF_DESCRIBED_TAG 55799u
/** The CBOR tag of a binary read capability. */
#define ERIS_READ_CAP_TAG 276u
/** A count not known in advance: eris_bundle_writer_new() then writes an
 * indefinite-length map or array. */
#define ERIS_BUNDLE_COUNT_UNKNOWN UINT64_MAX

/** eris_bundle_open() flag: also hash every block while indexing and
 * fail on the first one that does not match its key (ERIS_EMISMATCH). */
#define ERIS_BUNDLE_VERIFY 1u

/** A bundle being written (opaque). */
typedef struct eris_bundle_writer eris_bundle_writer;

/** An open, indexed bundle (opaque). */
typedef struct eris_bundle eris_bundle;

/**
 * Start writing a bundle to `fd`, which stays the caller's: the writer
 * only write()s to it (it never seeks or closes it), so a pipe works.
 * Output is buffered; nothing is guaranteed to reach `fd` before
 * eris_bundle_writer_finish().
 *
 * @param out       receives the writer; free with eris_bundle_writer_free()
 * @param n_blocks  the number of blocks that will be added, or
 *                  ERIS_BUNDLE_COUNT_UNKNOWN (indefinite-length map)
 * @param n_caps    the number of capabilities that will be added, or
 *                  ERIS_BUNDLE_COUNT_UNKNOWN (indefinite-length array)
 * @return ERIS_OK, ERIS_EINVAL or ERIS_ENOMEM
 */
ERIS_EXTERN int eris_bundle_writer_new(eris_bundle_writer **out, int fd,
				       uint64_t n_blocks, uint64_t n_caps);

/**
 * Add a block. It must be 1024 or 32768 bytes and hash to `ref`
 * (ERIS_EBLOCKSIZE, ERIS_EMISMATCH otherwise; nothing is written). All
 * blocks come before the first capability. Adding a block twice writes a
 * duplicate map key, which this library's reader tolerates but strict
 * CBOR decoders do not: avoid it.
 * @return ERIS_OK; ERIS_EINVAL if more blocks than announced or after a
 *         capability; ERIS_ERROR if writing failed (the writer is then
 *         failed: every later call returns ERIS_EFAILED)
 */
ERIS_EXTERN int eris_bundle_writer_add_block(eris_bundle_writer *w,
					     const uint8_t ref[ERIS_REF_BYTES],
					     const uint8_t *block, size_t len);

/**
 * Add a read capability (after the last block).
 * @return ERIS_OK; ERIS_EINVAL for an invalid capability, more
 *         capabilities than announced, or fewer blocks than announced;
 *         ERIS_ERROR / ERIS_EFAILED as for add_block
 */
ERIS_EXTERN int eris_bundle_writer_add_cap(eris_bundle_writer *w,
					   const eris_read_cap *cap);

/**
 * Close the map and the array and write out everything buffered. The
 * numbers of blocks and capabilities must match what was announced
 * (ERIS_EINVAL). After success the writer accepts nothing more.
 * @return ERIS_OK, ERIS_EINVAL, ERIS_ERROR (write failed) or ERIS_EFAILED
 */
ERIS_EXTERN int eris_bundle_writer_finish(eris_bundle_writer *w);

/** Free the writer (without finishing: the output is then incomplete).
 * NULL is allowed. */
ERIS_EXTERN void eris_bundle_writer_free(eris_bundle_writer *w);

/**
 * Open and index the bundle at `path`. The file is read once from start
 * to end to check its structure; block contents are read only with
 * ERIS_BUNDLE_VERIFY. The file must be a regular file and must not change
 * while the bundle is open.
 *
 * @param out    receives the bundle; free with eris_bundle_free()
 * @param flags  0 or ERIS_BUNDLE_VERIFY
 * @return ERIS_OK; ERIS_ERROR for a file that cannot be read or is not a
 *         well-formed bundle (the message names the byte offset);
 *         ERIS_EBLOCKSIZE for a block of a size other than 1024/32768;
 *         ERIS_EURN for an invalid capability; ERIS_EMISMATCH (with
 *         ERIS_BUNDLE_VERIFY) for a block that does not hash to its key;
 *         ERIS_ENOMEM
 */
ERIS_EXTERN int eris_bundle_open(eris_bundle **out, const char *path,
				 unsigned flags);

/**
 * eris_bundle_open() on an open file descriptor (a regular file or a
 * memfd, read with pread() from offset 0). The descriptor is duplicated:
 * the caller may close `fd` at once. `name` (copied; NULL for "bundle")
 * names the input in error messages.
 */
ERIS_EXTERN int eris_bundle_open_fd(eris_bundle **out, int fd,
				    const char *name, unsigned flags);

/**
 * eris_bundle_open() on `len` bytes in memory. The buffer is borrowed: it
 * must stay unchanged until eris_bundle_free(). `name` as for
 * eris_bundle_open_fd().
 */
ERIS_EXTERN int eris_bundle_open_buffer(eris_bundle **out, const void *data,
					size_t len, const char *name,
					unsigned flags);

/** The number of distinct blocks in the bundle. */
ERIS_EXTERN uint64_t eris_bundle_block_count(const eris_bundle *bundle);

/** The number of read capabilities in the bundle. */
ERIS_EXTERN size_t eris_bundle_cap_count(const eris_bundle *bundle);

/**
 * The i-th read capability, in file order (borrowed: valid until
 * eris_bundle_free()), or NULL if `i` is out of range.
 */
ERIS_EXTERN const eris_read_cap *eris_bundle_cap(const eris_bundle *bundle,
						 size_t i);

/**
 * Call `cb` for every distinct block (reference and length) in file
 * order, without reading the blocks. A non-zero return from `cb` stops
 * the listing and is returned.
 */
ERIS_EXTERN int eris_bundle_foreach(eris_bundle *bundle,
				    int (*cb)(const uint8_t ref[ERIS_REF_BYTES],
					      size_t len, void *payload),
				    void *payload);

/**
 * A read-only store over an open bundle, which it borrows: the bundle
 * must outlive the store. put and remove return ERIS_EREADONLY; get,
 * has and foreach work (eris_store_get() verifies every block, as for
 * any store). Safe to use from several threads.
 */
ERIS_EXTERN int eris_store_new_bundle(eris_store **out, eris_bundle *bundle);

/** Close the bundle and free it. NULL is allowed. */
ERIS_EXTERN void eris_bundle_free(eris_bundle *bundle);

#ifdef __cplusplus
}
#endif
#endif
