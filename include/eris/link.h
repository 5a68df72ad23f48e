/*
 * eris/link.h - ERIS link files: a small CBOR file that points at ERIS
 * content, with its size and MIME type (ERIS digest §11).
 *
 * A link file is the self-described CBOR tag 55799 around a 4-element
 * array:
 *
 *   55799([ 276(capability: 66 bytes), size: uint, mime: tstr, attrs: map ])
 *
 * so every link file starts with the magic bytes D9 D9 F7 84 D9 01 14 58 42.
 * Its own MIME type is application/x-eris-link+cbor and its extension
 * .eris. The attributes map is free-form; this library keeps it as raw
 * CBOR, checking only that it is a well-formed map.
 *
 * The parser is strict: the magic, the capability (a valid block-size
 * code), an unsigned integer size, a definite text string of 1 to
 * ERIS_LINK_MIME_MAX printable ASCII characters, a map nested at most
 * ERIS_LINK_ATTRS_MAX_DEPTH deep, and nothing after it.
 */
#ifndef ERIS_LINK_H
#define ERIS_LINK_H

#include "common.h"
#include "urn.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Length of the magic every link file starts with. */
#define ERIS_LINK_MAGIC_BYTES 9u
/** The longest MIME type accepted, in bytes. */
#define ERIS_LINK_MIME_MAX 255u
/** How deep the attributes map may nest (the map itself is level 1). */
#define ERIS_LINK_ATTRS_MAX_DEPTH 16u
/** The MIME type written when none is given. */
#define ERIS_LINK_DEFAULT_MIME "application/octet-stream"
/** The MIME type of link files themselves. */
#define ERIS_LINK_FILE_MIME "application/x-eris-link+cbor"

/** A link: a plain struct for encoding; decoding allocates one. */
typedef struct eris_link {
	eris_read_cap cap;    /**< the content */
	uint64_t size;        /**< the content's length in bytes */
	/** NUL-terminated MIME type. Encoding: NULL means
	 * ERIS_LINK_DEFAULT_MIME. */
	const char *mime;
	/** The attributes map, as CBOR. Encoding: NULL (with attrs_len 0)
	 * means an empty map. */
	const uint8_t *attrs;
	size_t attrs_len;     /**< bytes at `attrs` */
	size_t attrs_count;   /**< decoding only: the number of pairs */
} eris_link;

/**
 * 1 if `len` bytes at `in` start with the link-file magic, else 0.
 */
ERIS_EXTERN int eris_link_has_magic(const uint8_t *in, size_t len);

/**
 * Encode `link` as a link file into `out` (`size` bytes available).
 * `*out_len` receives the encoded length, also when `out` is NULL (a
 * size query, which returns ERIS_OK) or too small (ERIS_EINVAL).
 * @return ERIS_OK; ERIS_EINVAL for an invalid capability, a MIME type
 *         that is empty, longer than ERIS_LINK_MIME_MAX or not printable
 *         ASCII, attributes that are not one well-formed CBOR map, or a
 *         buffer too small
 */
ERIS_EXTERN int eris_link_encode(uint8_t *out, size_t size, size_t *out_len,
				 const eris_link *link);

/**
 * Parse the `len` bytes at `in`, which must be exactly one link file.
 * @param out  receives a new link; its `mime` and `attrs` point into the
 *             same allocation. Free it with eris_link_free().
 * @return ERIS_OK; ERIS_EURN for an invalid capability; ERIS_ERROR for
 *         anything else malformed (the message says what, at which
 *         byte); ERIS_ENOMEM
 */
ERIS_EXTERN int eris_link_decode(eris_link **out, const uint8_t *in,
				 size_t len);

/** Free a link from eris_link_decode(). NULL is allowed. */
ERIS_EXTERN void eris_link_free(eris_link *link);

#ifdef __cplusplus
}
#endif
#endif
