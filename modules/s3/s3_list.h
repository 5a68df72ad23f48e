/*
 * s3_list.h - the parser of an S3 ListObjectsV2 response (the XML body of
 * GET /BUCKET?list-type=2), built on expat. Private to the s3 module and
 * its fuzz target.
 *
 * The body is fed in pieces as it arrives. For every <Contents> with a
 * <Key> and a <Size>, `on_object` is called with the key (NUL-terminated)
 * and the size; a non-zero return stops the parse and is returned by
 * eris__s3_list_feed(). <IsTruncated> and <NextContinuationToken> are
 * kept for the next page.
 *
 * Refused (ERIS_ESTORE, with a message): a body that is not well-formed
 * XML, whose root is not <ListBucketResult> (an <Error> body gives its
 * <Code>), that declares a DOCTYPE (no entities are ever expanded),
 * nests deeper than S3_LIST_MAX_DEPTH, or has a key, size or token
 * longer than the limits below or a size that is not a decimal number.
 */
#ifndef ERIS_S3_LIST_H
#define ERIS_S3_LIST_H

#include <stddef.h>
#include <stdint.h>

#define S3_LIST_MAX_KEY 1024   /* S3's own limit on a key, in bytes */
#define S3_LIST_MAX_TOKEN 4096 /* a continuation token, in bytes */
#define S3_LIST_MAX_DEPTH 16

typedef struct s3_list s3_list;

typedef int (*s3_list_object_fn)(const char *key, uint64_t size,
				 void *payload);

/* ERIS_OK or ERIS_ENOMEM. `on_object` may be NULL (an error body). */
int eris__s3_list_new(s3_list **out, s3_list_object_fn on_object,
		      void *payload);

/* Parse the next `len` bytes; `final` for the last piece (len may be 0).
 * ERIS_OK, on_object's non-zero value, or ERIS_ESTORE / ERIS_ENOMEM with
 * a message. After a failure, further calls return the same code. */
int eris__s3_list_feed(s3_list *l, const char *data, size_t len, int final);

/* After the final piece: 1 if <IsTruncated> was "true". */
int eris__s3_list_truncated(const s3_list *l);

/* After the final piece: <NextContinuationToken>, "" when absent. */
const char *eris__s3_list_next_token(const s3_list *l);

/* An <Error> body's <Code> ("NoSuchBucket", ...), letters and digits
 * only, "" when there was none. */
const char *eris__s3_list_error_code(const s3_list *l);

void eris__s3_list_free(s3_list *l);

#endif
