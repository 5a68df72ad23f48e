/*
 * cbor_scan.h - a pull reader of CBOR items over a file or a memory
 * buffer, shared by the bundle reader (bundle.c) and the link-file parser
 * (linkfile.c). Internal to liberis; not installed.
 *
 * Why a pull reader: libcbor's cbor_stream_decode() is stateless and
 * decodes one item head at a time through callbacks. Both of our formats
 * have a fixed shape, so the parsers are easiest to read as "fetch the
 * next item, check it is what the format says comes next". The scanner
 * turns libcbor's callbacks into one cbormod_cbor_item per call, keeps a
 * window of the input in memory (the whole input for a buffer; a sliding
 * window read with pread() for a file, so a big bundle is never loaded
 * whole) and gives every error the byte offset where it happened.
 *
 * Bounds: a definite-length string longer than `max_string` is rejected
 * from its head, before any of it is read; a container that announces
 * more items than there are bytes left is rejected at once (every item
 * takes at least one byte). Nothing the input says makes the scanner
 * allocate.
 */
#ifndef ERIS_CBOR_SCAN_H
#define ERIS_CBOR_SCAN_H

#include "module.h"

typedef enum {
	ERIS__CBOR_UINT,
	ERIS__CBOR_NEGINT,
	ERIS__CBOR_BSTR,        /* definite byte string */
	ERIS__CBOR_BSTR_INDEF,  /* start of a chunked byte string */
	ERIS__CBOR_TSTR,        /* definite text string */
	ERIS__CBOR_TSTR_INDEF,  /* start of a chunked text string */
	ERIS__CBOR_ARRAY,       /* definite array, value = count */
	ERIS__CBOR_ARRAY_INDEF,
	ERIS__CBOR_MAP,         /* definite map, value = number of pairs */
	ERIS__CBOR_MAP_INDEF,
	ERIS__CBOR_TAG,         /* value = tag number */
	ERIS__CBOR_FLOAT,
	ERIS__CBOR_SIMPLE,      /* false, true, null, undefined */
	ERIS__CBOR_BREAK
} cbormod_cbor_kind;

typedef struct {
	cbormod_cbor_kind kind;
	uint64_t value;       /* integer, tag, count or string length */
	/* Definite strings: the bytes (valid until the next scanner call;
	 * NULL when the string was skipped, see cbormod_cbor_next_lazy). */
	const uint8_t *data;
	uint64_t offset;      /* where the item's head starts */
	uint64_t data_offset; /* definite strings: where the bytes start */
	uint64_t end;         /* just past the item (head, and string bytes) */
} cbormod_cbor_item;

typedef struct {
	const char *name; /* names the input in error messages */
	int fd;           /* -1 for a memory buffer */
	uint64_t size;    /* input length */
	uint64_t pos;     /* next item starts here */
	uint64_t max_string;
	/* The window: input bytes [win_off, win_off + win_len). For a buffer
	 * it is the whole buffer. */
	const uint8_t *win;
	uint8_t *buf; /* owned window buffer (files only) */
	size_t buf_cap;
	uint64_t win_off;
	size_t win_len;
	size_t readahead; /* bytes to read at least when refilling */
} cbormod_cbor_scanner;

/* Scan `len` bytes at `data` (borrowed). Cannot fail. */
void cbormod_cbor_scanner_mem(cbormod_cbor_scanner *s, const uint8_t *data,
			    size_t len, const char *name, uint64_t max_string);

/* Scan `size` bytes of `fd` (borrowed) from offset 0 with pread().
 * `max_string` must fit the window (at most 64 KiB). */
int cbormod_cbor_scanner_fd(cbormod_cbor_scanner *s, int fd, uint64_t size,
			  const char *name, uint64_t max_string);

/* Free the window buffer. */
void cbormod_cbor_scanner_free(cbormod_cbor_scanner *s);

/* Read the next item head (and a definite string's bytes). On a
 * truncated or malformed input, set a message naming the input and the
 * byte offset and return ERIS_ERROR. */
int cbormod_cbor_next(cbormod_cbor_scanner *s, cbormod_cbor_item *it);

/* Like cbormod_cbor_next, but a definite byte string longer than
 * `skip_over` bytes is stepped over without being read (data = NULL):
 * indexing a bundle need not read the blocks. */
int cbormod_cbor_next_lazy(cbormod_cbor_scanner *s, cbormod_cbor_item *it,
			 uint64_t skip_over);

/*
 * `first` was just read; check that the whole data item it starts is
 * well formed (containers complete, chunks of the right type, no stray
 * break, an even number of items in an indefinite map), nesting at most
 * `max_depth` deep, and leave the scanner just past it. `*out_children`
 * (may be NULL) receives the number of direct children: items of an
 * array, pairs of a map, chunks of a string, 1 for a tag, 0 otherwise.
 */
int cbormod_cbor_skip(cbormod_cbor_scanner *s, const cbormod_cbor_item *first,
		    unsigned max_depth, uint64_t *out_children);

/* "a byte string", "a map", ... for messages. */
const char *cbormod_cbor_kind_name(cbormod_cbor_kind kind);

/* Set "NAME: at byte OFFSET: MESSAGE" and return `code`. */
int cbormod_cbor_fail(const cbormod_cbor_scanner *s, int code, uint64_t offset,
		    const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
	__attribute__((format(printf, 4, 5)))
#endif
	;

#endif
