/*
 * bundle_fuzz.c - libFuzzer target for the CBOR bundle reader
 * (eris_bundle_open_buffer() and the bundle store). Properties checked:
 *   (1) an open bundle lists exactly eris_bundle_block_count() distinct
 *       blocks, and its store returns each of them or ERIS_EMISMATCH;
 *   (2) opened with ERIS_BUNDLE_VERIFY, every block is returned intact;
 *       a bundle that opens with the flag opens without it too;
 *   (3) a verified bundle written out again with the writer reads back
 *       with the same blocks and capabilities.
 */
#define _GNU_SOURCE
#include <eris/eris.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct {
	eris_store *store;
	eris_bundle_writer *writer; /* NULL: no copy being written */
	int must_verify;
	uint64_t count;
	uint8_t block[ERIS_BLOCK_SIZE_MAX];
} walk;

static int visit(const uint8_t ref[ERIS_REF_BYTES], size_t len, void *payload)
{
	walk *w = payload;
	size_t got = 0;
	int rc = eris_store_get(w->store, ref, w->block, sizeof(w->block), &got);

	w->count++;
	if (rc == ERIS_OK && got != len)
		abort();
	if (rc != ERIS_OK && (w->must_verify || rc != ERIS_EMISMATCH))
		abort();
	if (w->writer &&
	    eris_bundle_writer_add_block(w->writer, ref, w->block, got) !=
		    ERIS_OK)
		abort();
	return 0;
}

static void check_caps(const eris_bundle *a, const eris_bundle *b)
{
	if (eris_bundle_cap_count(a) != eris_bundle_cap_count(b) ||
	    eris_bundle_block_count(a) != eris_bundle_block_count(b))
		abort();
	for (size_t i = 0; i < eris_bundle_cap_count(a); i++) {
		uint8_t x[ERIS_READ_CAP_BYTES], y[ERIS_READ_CAP_BYTES];

		if (eris_read_cap_to_bytes(x, eris_bundle_cap(a, i)) != ERIS_OK ||
		    eris_read_cap_to_bytes(y, eris_bundle_cap(b, i)) != ERIS_OK ||
		    memcmp(x, y, sizeof(x)) != 0)
			abort();
	}
}

/* Write the bundle out again into a memfd and read that back. */
static void rewrite(eris_bundle *b, walk *w)
{
	eris_bundle *copy;
	int fd = memfd_create("bundle", 0);

	if (fd < 0)
		return;
	if (eris_bundle_writer_new(&w->writer, fd, eris_bundle_block_count(b),
				   eris_bundle_cap_count(b)) != ERIS_OK)
		abort();
	w->count = 0;
	if (eris_bundle_foreach(b, visit, w) != 0)
		abort();
	for (size_t i = 0; i < eris_bundle_cap_count(b); i++)
		if (eris_bundle_writer_add_cap(w->writer, eris_bundle_cap(b, i)) !=
		    ERIS_OK)
			abort();
	if (eris_bundle_writer_finish(w->writer) != ERIS_OK)
		abort();
	eris_bundle_writer_free(w->writer);
	w->writer = NULL;
	if (eris_bundle_open_fd(&copy, fd, "copy", ERIS_BUNDLE_VERIFY) != ERIS_OK)
		abort();
	check_caps(b, copy);
	eris_bundle_free(copy);
	close(fd);
}

static int check(const uint8_t *data, size_t size, unsigned flags)
{
	eris_bundle *b;
	walk *w;
	int rc = eris_bundle_open_buffer(&b, data, size, "fuzz", flags);

	if (rc != ERIS_OK)
		return rc;
	w = calloc(1, sizeof(*w));
	if (w == NULL || eris_store_new_bundle(&w->store, b) != ERIS_OK)
		abort();
	w->must_verify = flags & ERIS_BUNDLE_VERIFY;
	if (eris_bundle_foreach(b, visit, w) != 0 ||
	    w->count != eris_bundle_block_count(b))
		abort();
	for (size_t i = 0; i < eris_bundle_cap_count(b); i++)
		if (eris_bundle_cap(b, i) == NULL)
			abort();
	if (eris_bundle_cap(b, eris_bundle_cap_count(b)) != NULL)
		abort();
	if (w->must_verify)
		rewrite(b, w);
	eris_store_free(w->store);
	free(w);
	eris_bundle_free(b);
	return ERIS_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (check(data, size, ERIS_BUNDLE_VERIFY) == ERIS_OK &&
	    check(data, size, 0) != ERIS_OK)
		abort();
	if (size)
		check(data, size, 0);
	return 0;
}
