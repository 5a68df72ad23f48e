/*
 * bundle.c - CBOR bundles (eris/bundle.h, ERIS digest §8): the streaming
 * writer, and the reader that indexes a bundle by offset.
 *
 * Writer. A bundle is one CBOR item, so a writer that does not know how
 * many blocks will follow uses an indefinite-length map (and array),
 * closed by a break in finish(); with announced counts every length is
 * definite. Heads come from libcbor's cbor_encode_* helpers; the block
 * bytes are copied (or, when larger than the buffer, written) as they
 * are. A write error puts the writer in a failed state.
 *
 * Reader. Opening walks the item once with the scanner of cbor_scan.c,
 * checking the shape the EER prescribes,
 *
 *   [55799] [1701996915] array( map( *(bstr32 => bstr1024|32768) ),
 *                              *276(bstr66) )
 *
 * and records, per block, where its bytes are: a definite byte string is
 * one (offset, length) range that get() reads with one pread(); a chunked
 * (indefinite-length) one is recorded as the whole item (offset, span)
 * and reassembled on get(). Without ERIS_BUNDLE_VERIFY, block payloads
 * are stepped over, not read, so opening a big bundle reads little more
 * than its heads. The index is an array in file order (foreach) plus an
 * open-addressing table of indices keyed by the reference's first bytes
 * (references are uniform hashes). After open nothing changes, so
 * concurrent gets need no lock.
 */
#include "bundle_internal.h"
#include "cbor_scan.h"

#include <cbor.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- writer ----------------------------------------------------------- */

#define WRITER_BUF (64u * 1024u)

enum { W_BLOCKS, W_CAPS, W_DONE, W_FAILED };

struct eris_bundle_writer {
	int fd;
	int state;
	uint64_t n_blocks, n_caps; /* announced, or ERIS_BUNDLE_COUNT_UNKNOWN */
	uint64_t blocks, caps;     /* added so far */
	size_t used;
	uint8_t buf[WRITER_BUF];
};

static int w_write(eris_bundle_writer *w, const uint8_t *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(w->fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			w->state = W_FAILED;
			return eris_error_set(ERIS_ERROR,
					      "cannot write the bundle: %s",
					      strerror(errno));
		}
		p += n;
		len -= (size_t)n;
	}
	return ERIS_OK;
}

static int w_flush(eris_bundle_writer *w)
{
	int rc = w_write(w, w->buf, w->used);

	w->used = 0;
	return rc;
}

static int w_out(eris_bundle_writer *w, const uint8_t *p, size_t len)
{
	int rc;

	if (len > WRITER_BUF - w->used && (rc = w_flush(w)) < 0)
		return rc;
	if (len >= WRITER_BUF)
		return w_write(w, p, len);
	memcpy(w->buf + w->used, p, len);
	w->used += len;
	return ERIS_OK;
}

static int w_check(const eris_bundle_writer *w)
{
	if (w->state == W_FAILED)
		return eris_error_set(ERIS_EFAILED,
				      "the bundle writer failed earlier");
	if (w->state == W_DONE)
		return eris_error_set(ERIS_EINVAL,
				      "the bundle is finished already");
	return ERIS_OK;
}

int cbormod_bundle_writer_new(eris_bundle_writer **out, int fd,
			   uint64_t n_blocks, uint64_t n_caps)
{
	eris_bundle_writer *w;
	uint8_t *p;
	size_t n = 0;

	if (out == NULL)
		return eris_error_set(ERIS_EINVAL, "invalid argument");
	*out = NULL;
	/* The heads take a size_t; the array counts the map too. */
	if (fd < 0 ||
	    (n_blocks != ERIS_BUNDLE_COUNT_UNKNOWN && n_blocks > SIZE_MAX) ||
	    (n_caps != ERIS_BUNDLE_COUNT_UNKNOWN && n_caps >= SIZE_MAX))
		return eris_error_set(ERIS_EINVAL, "invalid argument");
	w = calloc(1, sizeof(*w));
	if (w == NULL)
		return eris_error_set(ERIS_ENOMEM, "out of memory");
	w->fd = fd;
	w->n_blocks = n_blocks;
	w->n_caps = n_caps;
	p = w->buf;
	n += cbor_encode_tag(ERIS_CBOR_SELF_DESCRIBED_TAG, p + n,
			     WRITER_BUF - n);
	n += cbor_encode_tag(ERIS_BUNDLE_TAG, p + n, WRITER_BUF - n);
	if (n_caps == ERIS_BUNDLE_COUNT_UNKNOWN)
		n += cbor_encode_indef_array_start(p + n, WRITER_BUF - n);
	else
		n += cbor_encode_array_start((size_t)n_caps + 1, p + n,
					     WRITER_BUF - n);
	if (n_blocks == ERIS_BUNDLE_COUNT_UNKNOWN)
		n += cbor_encode_indef_map_start(p + n, WRITER_BUF - n);
	else
		n += cbor_encode_map_start((size_t)n_blocks, p + n,
					   WRITER_BUF - n);
	w->used = n;
	*out = w;
	return ERIS_OK;
}

int cbormod_bundle_writer_add_block(eris_bundle_writer *w,
				 const uint8_t ref[ERIS_REF_BYTES],
				 const uint8_t *block, size_t len)
{
	uint8_t head[2 * 9 + ERIS_REF_BYTES];
	size_t n = 0;
	int rc;

	if (w == NULL || ref == NULL || block == NULL)
		return eris_error_set(ERIS_EINVAL, "invalid argument");
	if ((rc = w_check(w)) < 0)
		return rc;
	if (w->state != W_BLOCKS)
		return eris_error_set(ERIS_EINVAL,
				      "blocks must come before the first "
				      "capability");
	if (!mod_valid_block_size(len))
		return eris_error_set(ERIS_EBLOCKSIZE,
				      "block of %zu bytes: only 1024 or 32768 "
				      "are valid",
				      len);
	if (w->n_blocks != ERIS_BUNDLE_COUNT_UNKNOWN &&
	    w->blocks == w->n_blocks)
		return eris_error_set(ERIS_EINVAL,
				      "more blocks than the %llu announced",
				      (unsigned long long)w->n_blocks);
	if (eris_block_verify(ref, block, len) != ERIS_OK)
		return eris_error_set(ERIS_EMISMATCH,
				      "block does not hash to the reference "
				      "it is to be written under");
	n += cbor_encode_bytestring_start(ERIS_REF_BYTES, head, sizeof(head));
	memcpy(head + n, ref, ERIS_REF_BYTES);
	n += ERIS_REF_BYTES;
	n += cbor_encode_bytestring_start(len, head + n, sizeof(head) - n);
	if ((rc = w_out(w, head, n)) < 0 || (rc = w_out(w, block, len)) < 0)
		return rc;
	w->blocks++;
	return ERIS_OK;
}

/* End the map of blocks: a break if it is indefinite. */
static int close_map(eris_bundle_writer *w)
{
	uint8_t brk[1];
	int rc;

	if (w->n_blocks != ERIS_BUNDLE_COUNT_UNKNOWN) {
		if (w->blocks != w->n_blocks)
			return eris_error_set(ERIS_EINVAL,
					      "%llu blocks announced, %llu "
					      "added",
					      (unsigned long long)w->n_blocks,
					      (unsigned long long)w->blocks);
	} else {
		cbor_encode_break(brk, sizeof(brk));
		if ((rc = w_out(w, brk, 1)) < 0)
			return rc;
	}
	w->state = W_CAPS;
	return ERIS_OK;
}

int cbormod_bundle_writer_add_cap(eris_bundle_writer *w, const eris_read_cap *cap)
{
	uint8_t bytes[ERIS_READ_CAP_BYTES], head[16];
	size_t n = 0;
	int rc;

	if (w == NULL || cap == NULL)
		return eris_error_set(ERIS_EINVAL, "invalid argument");
	if ((rc = w_check(w)) < 0)
		return rc;
	if (eris_read_cap_to_bytes(bytes, cap) < 0)
		return eris_error_set(ERIS_EINVAL, "invalid read capability");
	if (w->n_caps != ERIS_BUNDLE_COUNT_UNKNOWN && w->caps == w->n_caps)
		return eris_error_set(ERIS_EINVAL,
				      "more capabilities than the %llu "
				      "announced",
				      (unsigned long long)w->n_caps);
	if (w->state == W_BLOCKS && (rc = close_map(w)) < 0)
		return rc;
	n += cbor_encode_tag(ERIS_READ_CAP_TAG, head, sizeof(head));
	n += cbor_encode_bytestring_start(ERIS_READ_CAP_BYTES, head + n,
					  sizeof(head) - n);
	if ((rc = w_out(w, head, n)) < 0 ||
	    (rc = w_out(w, bytes, sizeof(bytes))) < 0)
		return rc;
	w->caps++;
	return ERIS_OK;
}

int cbormod_bundle_writer_finish(eris_bundle_writer *w)
{
	uint8_t brk[1];
	int rc;

	if (w == NULL)
		return eris_error_set(ERIS_EINVAL, "invalid argument");
	if ((rc = w_check(w)) < 0)
		return rc;
	if (w->n_caps != ERIS_BUNDLE_COUNT_UNKNOWN && w->caps != w->n_caps)
		return eris_error_set(ERIS_EINVAL,
				      "%llu capabilities announced, %llu added",
				      (unsigned long long)w->n_caps,
				      (unsigned long long)w->caps);
	if (w->state == W_BLOCKS && (rc = close_map(w)) < 0)
		return rc;
	if (w->n_caps == ERIS_BUNDLE_COUNT_UNKNOWN) {
		cbor_encode_break(brk, sizeof(brk));
		if ((rc = w_out(w, brk, 1)) < 0)
			return rc;
	}
	if ((rc = w_flush(w)) < 0)
		return rc;
	w->state = W_DONE;
	return ERIS_OK;
}

void cbormod_bundle_writer_free(eris_bundle_writer *w)
{
	free(w);
}

/* ---- reader: the index ------------------------------------------------ */

/* A chunked block may take at most this many bytes to encode (one-byte
 * chunks of a 32 KiB block take 64 KiB): get() reads the whole item. */
#define MAX_CHUNKED_SPAN (4u * ERIS_BLOCK_SIZE_MAX)

typedef struct {
	uint8_t ref[ERIS_REF_BYTES];
	uint64_t off;  /* definite: the block's bytes; chunked: the item */
	uint32_t len;  /* block length */
	uint32_t span; /* 0 if definite; else the chunked item's length */
} bundle_entry;

struct eris_bundle {
	char *name;
	int fd;             /* owned; -1 for a buffer */
	const uint8_t *mem; /* borrowed buffer, or NULL */
	uint64_t size;
	bundle_entry *entries; /* file order */
	size_t count, alloc;
	size_t *slots; /* index + 1 into entries; 0 = empty */
	size_t slot_cap; /* a power of two, or 0 */
	eris_read_cap *caps;
	size_t n_caps, caps_alloc;
};

static size_t slot_of(const eris_bundle *b, const uint8_t *ref)
{
	uint64_t h;

	memcpy(&h, ref, sizeof(h));
	return (size_t)h & (b->slot_cap - 1);
}

static const bundle_entry *find(const eris_bundle *b, const uint8_t *ref)
{
	size_t i;

	if (b->slot_cap == 0)
		return NULL;
	for (i = slot_of(b, ref); b->slots[i]; i = (i + 1) & (b->slot_cap - 1)) {
		const bundle_entry *e = &b->entries[b->slots[i] - 1];

		if (memcmp(e->ref, ref, ERIS_REF_BYTES) == 0)
			return e;
	}
	return NULL;
}

static void insert_slot(eris_bundle *b, size_t index)
{
	size_t i = slot_of(b, b->entries[index].ref);

	while (b->slots[i])
		i = (i + 1) & (b->slot_cap - 1);
	b->slots[i] = index + 1;
}

static int add_entry(eris_bundle *b, const uint8_t *ref, uint64_t off,
		     uint32_t len, uint32_t span)
{
	bundle_entry *e;

	if (find(b, ref))
		return ERIS_OK; /* a repeated key: the first block stays */
	if (b->count == b->alloc) {
		size_t n = b->alloc ? b->alloc * 2 : 64;
		bundle_entry *p = realloc(b->entries, n * sizeof(*p));

		if (p == NULL)
			return eris_error_set(ERIS_ENOMEM, "out of memory");
		b->entries = p;
		b->alloc = n;
	}
	if ((b->count + 1) * 2 > b->slot_cap) {
		size_t n = b->slot_cap ? b->slot_cap * 2 : 128;
		size_t *slots = calloc(n, sizeof(*slots));

		if (slots == NULL)
			return eris_error_set(ERIS_ENOMEM, "out of memory");
		free(b->slots);
		b->slots = slots;
		b->slot_cap = n;
		for (size_t i = 0; i < b->count; i++)
			insert_slot(b, i);
	}
	e = &b->entries[b->count];
	memcpy(e->ref, ref, ERIS_REF_BYTES);
	e->off = off;
	e->len = len;
	e->span = span;
	insert_slot(b, b->count++);
	return ERIS_OK;
}

static int add_cap(eris_bundle *b, const eris_read_cap *cap)
{
	if (b->n_caps == b->caps_alloc) {
		size_t n = b->caps_alloc ? b->caps_alloc * 2 : 8;
		eris_read_cap *p = realloc(b->caps, n * sizeof(*p));

		if (p == NULL)
			return eris_error_set(ERIS_ENOMEM, "out of memory");
		b->caps = p;
		b->caps_alloc = n;
	}
	b->caps[b->n_caps++] = *cap;
	return ERIS_OK;
}

/* ---- reader: parsing -------------------------------------------------- */

/*
 * `start` (a BSTR_INDEF) was just read: read its chunks up to the break.
 * The bytes go to `out` (if not NULL) up to `max`; `*total` receives
 * their number. Returns 1 (not an error) if there are more than `max`,
 * having stopped there. With `lazy`, chunks are stepped over, not read.
 */
static int read_chunks(cbormod_cbor_scanner *s, const cbormod_cbor_item *start,
		       uint8_t *out, uint64_t max, uint64_t *total, int lazy)
{
	cbormod_cbor_item it;
	int rc;

	*total = 0;
	for (;;) {
		rc = lazy ? cbormod_cbor_next_lazy(s, &it, 0)
			  : cbormod_cbor_next(s, &it);
		if (rc < 0)
			return rc;
		if (it.kind == ERIS__CBOR_BREAK)
			return ERIS_OK;
		if (it.kind != ERIS__CBOR_BSTR)
			return cbormod_cbor_fail(
				s, ERIS_ERROR, it.offset,
				"%s inside the indefinite-length byte string "
				"at byte %llu: only definite byte strings "
				"(chunks) may be there",
				cbormod_cbor_kind_name(it.kind),
				(unsigned long long)start->offset);
		if (it.value > max - *total) {
			*total += it.value;
			return 1;
		}
		if (out && it.value)
			memcpy(out + *total, it.data, (size_t)it.value);
		*total += it.value;
	}
}

/*
 * A short byte string (a key or a capability) of exactly `want` bytes,
 * definite or chunked, into `out`. `what` names it in messages.
 */
static int read_short(cbormod_cbor_scanner *s, const cbormod_cbor_item *it,
		      uint8_t *out, size_t want, const char *what)
{
	uint64_t got;
	int rc;

	if (it->kind == ERIS__CBOR_BSTR) {
		got = it->value;
		if (got == want)
			memcpy(out, it->data, want);
	} else if (it->kind == ERIS__CBOR_BSTR_INDEF) {
		rc = read_chunks(s, it, out, want, &got, 0);
		if (rc < 0)
			return rc;
		if (rc == 1)
			return cbormod_cbor_fail(s, ERIS_ERROR, it->offset,
					       "%s has more than %zu bytes",
					       what, want);
	} else {
		return cbormod_cbor_fail(s, ERIS_ERROR, it->offset,
				       "%s is %s, not a byte string of %zu "
				       "bytes",
				       what, cbormod_cbor_kind_name(it->kind),
				       want);
	}
	if (got != want)
		return cbormod_cbor_fail(s, ERIS_ERROR, it->offset,
				       "%s has %llu bytes, not %zu", what,
				       (unsigned long long)got, want);
	return ERIS_OK;
}

static int bad_size(cbormod_cbor_scanner *s, uint64_t offset, uint64_t len,
		    const char *more)
{
	return cbormod_cbor_fail(s, ERIS_EBLOCKSIZE, offset,
			       "a block of %llu%s bytes: only 1024 or 32768 "
			       "are valid",
			       (unsigned long long)len, more);
}

/* A map value: a block, definite or chunked, recorded under `ref`. */
static int parse_block(eris_bundle *b, cbormod_cbor_scanner *s,
		       const uint8_t *ref, int verify, uint8_t *scratch)
{
	const uint8_t *data = NULL;
	cbormod_cbor_item it;
	uint64_t len, off, span = 0;
	int rc;

	/* Without verification a definite block is stepped over. */
	rc = cbormod_cbor_next_lazy(s, &it, verify ? UINT64_MAX : 0);
	if (rc < 0)
		return rc;
	if (it.kind == ERIS__CBOR_BSTR) {
		len = it.value;
		off = it.data_offset;
		data = it.data;
	} else if (it.kind == ERIS__CBOR_BSTR_INDEF) {
		rc = read_chunks(s, &it, verify ? scratch : NULL,
				 ERIS_BLOCK_SIZE_MAX, &len, !verify);
		if (rc < 0)
			return rc;
		if (rc == 1)
			return bad_size(s, it.offset, ERIS_BLOCK_SIZE_MAX,
					" or more");
		off = it.offset;
		span = s->pos - it.offset;
		data = scratch;
		if (span > MAX_CHUNKED_SPAN)
			return cbormod_cbor_fail(
				s, ERIS_ERROR, it.offset,
				"a chunked block takes %llu bytes to encode, "
				"more than the %u allowed",
				(unsigned long long)span, MAX_CHUNKED_SPAN);
	} else {
		return cbormod_cbor_fail(s, ERIS_ERROR, it.offset,
				       "a map value is %s, not a block (a "
				       "byte string)",
				       cbormod_cbor_kind_name(it.kind));
	}
	if (!mod_valid_block_size((size_t)len))
		return bad_size(s, it.offset, len, "");
	if (verify) {
		if (eris_block_verify(ref, data, (size_t)len) != ERIS_OK) {
			char name[ERIS_REF_BASE32_LEN + 1];

			eris_base32_encode(name, ref, ERIS_REF_BYTES);
			return cbormod_cbor_fail(s, ERIS_EMISMATCH, it.offset,
					       "the block does not hash to "
					       "its key %s",
					       name);
		}
	}
	return add_entry(b, ref, off, (uint32_t)len, (uint32_t)span);
}

static int parse(eris_bundle *b, cbormod_cbor_scanner *s, unsigned flags)
{
	int verify = (flags & ERIS_BUNDLE_VERIFY) != 0;
	uint8_t *scratch = NULL;
	cbormod_cbor_item it;
	uint64_t items, pairs;
	int array_indef, map_indef, rc;

	if (verify) {
		scratch = malloc(ERIS_BLOCK_SIZE_MAX);
		if (scratch == NULL)
			return eris_error_set(ERIS_ENOMEM, "out of memory");
	}

	/* [55799] [1701996915] array */
	if ((rc = cbormod_cbor_next(s, &it)) < 0)
		goto out;
	if (it.kind == ERIS__CBOR_TAG &&
	    it.value == ERIS_CBOR_SELF_DESCRIBED_TAG) {
		if ((rc = cbormod_cbor_next(s, &it)) < 0)
			goto out;
		if (it.kind != ERIS__CBOR_TAG || it.value != ERIS_BUNDLE_TAG) {
			rc = cbormod_cbor_fail(
				s, ERIS_ERROR, it.offset,
				"tag 55799 must be followed by the ERIS "
				"bundle tag 1701996915, not %s%s",
				cbormod_cbor_kind_name(it.kind),
				it.kind == ERIS__CBOR_ARRAY
					? " (an ERIS link file?)"
					: "");
			goto out;
		}
	}
	if (it.kind == ERIS__CBOR_TAG && it.value == ERIS_BUNDLE_TAG) {
		if ((rc = cbormod_cbor_next(s, &it)) < 0)
			goto out;
	} else if (it.kind == ERIS__CBOR_TAG) {
		rc = cbormod_cbor_fail(s, ERIS_ERROR, it.offset,
				     "unexpected tag %llu: a bundle is an "
				     "array, optionally inside tag "
				     "1701996915 (itself optionally inside "
				     "tag 55799)",
				     (unsigned long long)it.value);
		goto out;
	}
	if (it.kind != ERIS__CBOR_ARRAY && it.kind != ERIS__CBOR_ARRAY_INDEF) {
		rc = cbormod_cbor_fail(s, ERIS_ERROR, it.offset,
				     "a bundle is an array, not %s",
				     cbormod_cbor_kind_name(it.kind));
		goto out;
	}
	array_indef = it.kind == ERIS__CBOR_ARRAY_INDEF;
	items = it.value;
	if (!array_indef && items == 0) {
		rc = cbormod_cbor_fail(s, ERIS_ERROR, it.offset,
				     "the bundle's array is empty: its first "
				     "element must be the map of blocks");
		goto out;
	}

	/* The map of blocks. */
	if ((rc = cbormod_cbor_next(s, &it)) < 0)
		goto out;
	if (it.kind != ERIS__CBOR_MAP && it.kind != ERIS__CBOR_MAP_INDEF) {
		rc = cbormod_cbor_fail(s, ERIS_ERROR, it.offset,
				     "the first element of a bundle must be "
				     "the map of blocks, not %s",
				     cbormod_cbor_kind_name(it.kind));
		goto out;
	}
	map_indef = it.kind == ERIS__CBOR_MAP_INDEF;
	pairs = it.value;
	for (uint64_t i = 0; map_indef || i < pairs; i++) {
		uint8_t ref[ERIS_REF_BYTES];

		if ((rc = cbormod_cbor_next(s, &it)) < 0)
			goto out;
		if (map_indef && it.kind == ERIS__CBOR_BREAK)
			break;
		if ((rc = read_short(s, &it, ref, ERIS_REF_BYTES,
				     "a map key (block reference)")) < 0 ||
		    (rc = parse_block(b, s, ref, verify, scratch)) < 0)
			goto out;
	}

	/* The read capabilities. */
	for (uint64_t i = 1; array_indef || i < items; i++) {
		uint8_t bytes[ERIS_READ_CAP_BYTES];
		eris_read_cap cap;

		if ((rc = cbormod_cbor_next(s, &it)) < 0)
			goto out;
		if (array_indef && it.kind == ERIS__CBOR_BREAK)
			break;
		if (it.kind != ERIS__CBOR_TAG || it.value != ERIS_READ_CAP_TAG) {
			char what[48] = "";

			if (it.kind == ERIS__CBOR_TAG)
				snprintf(what, sizeof(what), " %llu",
					 (unsigned long long)it.value);
			rc = cbormod_cbor_fail(s, ERIS_ERROR, it.offset,
					     "array element %llu is %s%s, not "
					     "a read capability (tag 276)",
					     (unsigned long long)i,
					     cbormod_cbor_kind_name(it.kind),
					     what);
			goto out;
		}
		if ((rc = cbormod_cbor_next(s, &it)) < 0 ||
		    (rc = read_short(s, &it, bytes, sizeof(bytes),
				     "a read capability")) < 0)
			goto out;
		if (eris_read_cap_from_bytes(&cap, bytes) < 0) {
			char why[256];

			snprintf(why, sizeof(why), "%s", eris_error_last());
			rc = cbormod_cbor_fail(s, ERIS_EURN, it.offset,
					     "invalid read capability: %s",
					     why);
			goto out;
		}
		if ((rc = add_cap(b, &cap)) < 0)
			goto out;
	}
	if (s->pos != s->size) {
		rc = cbormod_cbor_fail(s, ERIS_ERROR, s->pos,
				     "%llu bytes of trailing data after the "
				     "bundle",
				     (unsigned long long)(s->size - s->pos));
		goto out;
	}
	rc = ERIS_OK;
out:
	free(scratch);
	return rc;
}

/* ---- reader: opening -------------------------------------------------- */

static int bundle_new(eris_bundle **out, const char *name)
{
	eris_bundle *b = calloc(1, sizeof(*b));
	size_t n = strlen(name);

	*out = NULL;
	if (b == NULL || (b->name = malloc(n + 1)) == NULL) {
		free(b);
		return eris_error_set(ERIS_ENOMEM, "out of memory");
	}
	memcpy(b->name, name, n + 1);
	b->fd = -1;
	*out = b;
	return ERIS_OK;
}

/* Index the bundle over `fd` (taken over: closed by eris_bundle_free). */
static int open_owned_fd(eris_bundle **out, int fd, const char *name,
			 unsigned flags)
{
	cbormod_cbor_scanner s;
	eris_bundle *b;
	struct stat st;
	int rc;

	rc = fstat(fd, &st);
	if (rc < 0 || !S_ISREG(st.st_mode)) {
		rc = eris_error_set(ERIS_ERROR, "%s: %s", name,
				    rc < 0 ? strerror(errno)
					   : "not a regular file (a bundle "
					     "is read at random offsets)");
		close(fd);
		return rc;
	}
	if ((rc = bundle_new(&b, name)) < 0) {
		close(fd);
		return rc;
	}
	b->fd = fd;
	b->size = (uint64_t)st.st_size;
	rc = cbormod_cbor_scanner_fd(&s, fd, b->size, b->name,
				   ERIS_BLOCK_SIZE_MAX);
	if (rc == ERIS_OK) {
		/* Verifying reads everything; indexing only the heads. */
		s.readahead = (flags & ERIS_BUNDLE_VERIFY) ? s.buf_cap : 4096;
		rc = parse(b, &s, flags);
		cbormod_cbor_scanner_free(&s);
	}
	if (rc < 0) {
		cbormod_bundle_free(b);
		return rc;
	}
	*out = b;
	return ERIS_OK;
}

int cbormod_bundle_open(eris_bundle **out, const char *path, unsigned flags)
{
	int fd;

	if (out == NULL || path == NULL)
		return eris_error_set(ERIS_EINVAL, "invalid argument");
	*out = NULL;
	/* O_NONBLOCK: a FIFO is refused by open_owned_fd() at once rather
	 * than waiting in open() for a writer; regular files ignore it. */
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return eris_error_set(ERIS_ERROR, "cannot open %s: %s", path,
				      strerror(errno));
	return open_owned_fd(out, fd, path, flags);
}

int cbormod_bundle_open_fd(eris_bundle **out, int fd, const char *name,
			unsigned flags)
{
	int copy;

	if (out == NULL || fd < 0)
		return eris_error_set(ERIS_EINVAL, "invalid argument");
	*out = NULL;
	copy = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (copy < 0)
		return eris_error_set(ERIS_ERROR, "cannot duplicate fd %d: %s",
				      fd, strerror(errno));
	return open_owned_fd(out, copy, name ? name : "bundle", flags);
}

int cbormod_bundle_open_buffer(eris_bundle **out, const void *data, size_t len,
			    const char *name, unsigned flags)
{
	cbormod_cbor_scanner s;
	eris_bundle *b;
	int rc;

	if (out == NULL || (data == NULL && len > 0))
		return eris_error_set(ERIS_EINVAL, "invalid argument");
	*out = NULL;
	if ((rc = bundle_new(&b, name ? name : "bundle")) < 0)
		return rc;
	b->mem = data;
	b->size = len;
	cbormod_cbor_scanner_mem(&s, data, len, b->name, ERIS_BLOCK_SIZE_MAX);
	rc = parse(b, &s, flags);
	if (rc < 0) {
		cbormod_bundle_free(b);
		return rc;
	}
	*out = b;
	return ERIS_OK;
}

void cbormod_bundle_free(eris_bundle *b)
{
	if (b == NULL)
		return;
	if (b->fd >= 0)
		close(b->fd);
	free(b->entries);
	free(b->slots);
	free(b->caps);
	free(b->name);
	free(b);
}

uint64_t cbormod_bundle_block_count(const eris_bundle *b)
{
	return b->count;
}

size_t cbormod_bundle_cap_count(const eris_bundle *b)
{
	return b->n_caps;
}

const eris_read_cap *cbormod_bundle_cap(const eris_bundle *b, size_t i)
{
	return i < b->n_caps ? &b->caps[i] : NULL;
}

int cbormod_bundle_foreach(eris_bundle *b,
			int (*cb)(const uint8_t ref[ERIS_REF_BYTES], size_t len,
				  void *payload),
			void *payload)
{
	if (b == NULL || cb == NULL)
		return eris_error_set(ERIS_EINVAL, "invalid argument");
	for (size_t i = 0; i < b->count; i++) {
		int rc = cb(b->entries[i].ref, b->entries[i].len, payload);

		if (rc != 0)
			return rc;
	}
	return ERIS_OK;
}

/* ---- reader: blocks --------------------------------------------------- */

static int read_at(const eris_bundle *b, uint64_t off, uint8_t *buf,
		   size_t len)
{
	size_t done = 0;

	if (off > b->size || len > b->size - off)
		return eris_error_set(ERIS_ERROR, "%s: offset %llu is past "
				      "the end", b->name,
				      (unsigned long long)off);
	if (b->mem) {
		memcpy(buf, b->mem + off, len);
		return ERIS_OK;
	}
	while (done < len) {
		ssize_t n = pread(b->fd, buf + done, len - done,
				  (off_t)(off + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return eris_error_set(ERIS_ERROR,
					      "%s: cannot read at byte %llu: "
					      "%s",
					      b->name,
					      (unsigned long long)(off + done),
					      strerror(errno));
		if (n == 0)
			return eris_error_set(ERIS_ERROR,
					      "%s: the file became shorter "
					      "after it was opened (at byte "
					      "%llu)",
					      b->name,
					      (unsigned long long)(off + done));
		done += (size_t)n;
	}
	return ERIS_OK;
}

/* Reassemble a chunked block from its item, read whole into memory. */
static int read_chunked(const eris_bundle *b, const bundle_entry *e,
			uint8_t *buf)
{
	cbormod_cbor_scanner s;
	cbormod_cbor_item it;
	uint8_t *item = malloc(e->span);
	uint64_t total;
	int rc;

	if (item == NULL)
		return eris_error_set(ERIS_ENOMEM, "out of memory");
	if ((rc = read_at(b, e->off, item, e->span)) == ERIS_OK) {
		cbormod_cbor_scanner_mem(&s, item, e->span, b->name,
				       ERIS_BLOCK_SIZE_MAX);
		rc = cbormod_cbor_next(&s, &it);
		if (rc == ERIS_OK && it.kind != ERIS__CBOR_BSTR_INDEF)
			rc = ERIS_ERROR;
		if (rc == ERIS_OK)
			rc = read_chunks(&s, &it, buf, e->len, &total, 0);
		if (rc != ERIS_OK || total != e->len)
			rc = eris_error_set(ERIS_ERROR,
					    "%s: the block at byte %llu "
					    "changed after the file was "
					    "opened",
					    b->name,
					    (unsigned long long)e->off);
	}
	free(item);
	return rc;
}

int cbormod_bundle_read(eris_bundle *b, const uint8_t *ref, uint8_t *buf,
		      size_t buf_size, size_t *out_len)
{
	const bundle_entry *e = find(b, ref);
	int rc;

	if (e == NULL)
		return ERIS_ENOTFOUND;
	if (e->len > buf_size)
		return eris_error_set(ERIS_EBLOCKSIZE,
				      "block of %u bytes does not fit in %zu",
				      (unsigned)e->len, buf_size);
	rc = e->span ? read_chunked(b, e, buf) : read_at(b, e->off, buf, e->len);
	if (rc < 0)
		return rc;
	*out_len = e->len;
	return ERIS_OK;
}

int cbormod_bundle_has(const eris_bundle *b, const uint8_t *ref)
{
	return find(b, ref) != NULL;
}

const char *cbormod_bundle_name(const eris_bundle *b)
{
	return b->name;
}
