/*
 * test_bundle.c - the CBOR bundle writer and reader, the cbor: store and
 * link files (eris/bundle.h, eris/link.h), through the public API.
 *
 * Bundles are built two ways: with the library's writer, and by hand with
 * libcbor's encoder in every layout the reader must accept (no tag, tag
 * 1701996915, 55799 + 1701996915; definite or indefinite array and map;
 * definite or chunked byte strings). Damaged bundles are derived from a
 * good one: every truncation length, wrong types and sizes, trailing
 * bytes, a block that does not hash to its key. Each must fail with the
 * exact code and a message that says what and at which byte.
 */
#define _GNU_SOURCE /* mkstemp, memfd-free temporary files */
#include "testutil.h"

#include <cbor.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- fixtures: content and its blocks --------------------------------- */

#define CONTENT_1K_LEN (20u * 1024u + 7u)  /* 21 leaves: level 2 */
#define CONTENT_32K_LEN (100u * 1024u + 1u) /* 4 leaves: level 1 */

static eris_store *src;   /* a test store with both contents */
static test_store *src_ts;
static eris_read_cap caps[2];
static uint8_t *content[2];
static const size_t content_len[2] = { CONTENT_1K_LEN, CONTENT_32K_LEN };
static char tmpdir[512];

static void setup(void)
{
	const uint32_t bs[2] = { ERIS_BLOCK_SIZE_1K, ERIS_BLOCK_SIZE_32K };
	const char *base = getenv("TMPDIR");

	src = test_store_new(&src_ts);
	for (int i = 0; i < 2; i++) {
		eris_encode_options opts = ERIS_ENCODE_OPTIONS_INIT;

		opts.block_size = bs[i];
		content[i] = malloc(content_len[i]);
		ck_assert_ptr_nonnull(content[i]);
		fill_random(content[i], content_len[i], 100 + (uint64_t)i, 0);
		ck_assert_eris(eris_encode(&caps[i], src, &opts, content[i],
					   content_len[i]),
			       ERIS_OK);
	}
	snprintf(tmpdir, sizeof(tmpdir), "%s/eris-bundle-XXXXXX",
		 base && base[0] ? base : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void teardown(void)
{
	char cmd[600];

	eris_store_free(src);
	for (int i = 0; i < 2; i++)
		free(content[i]);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	ck_assert_int_eq(system(cmd), 0);
}

/* ---- building bundles by hand ----------------------------------------- */

typedef struct {
	uint8_t *p;
	size_t len, cap;
} buf_t;

static void put(buf_t *b, const void *data, size_t n)
{
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2 + 64;
		b->p = realloc(b->p, b->cap);
		ck_assert_ptr_nonnull(b->p);
	}
	if (n)
		memcpy(b->p + b->len, data, n);
	b->len += n;
}

static void put_byte(buf_t *b, uint8_t c)
{
	put(b, &c, 1);
}

/* Append what a libcbor encoder call writes into t_. */
#define ENC(b, call)                                                         \
	do {                                                                 \
		unsigned char t_[16];                                        \
		size_t n_ = (call);                                          \
		ck_assert_uint_gt(n_, 0);                                    \
		put((b), t_, n_);                                            \
	} while (0)

/* A byte string, definite (chunk 0) or in chunks of `chunk` bytes. */
static void put_bstr(buf_t *b, const uint8_t *data, size_t len, size_t chunk)
{
	if (chunk == 0) {
		ENC(b, cbor_encode_bytestring_start(len, t_, sizeof(t_)));
		put(b, data, len);
		return;
	}
	ENC(b, cbor_encode_indef_bytestring_start(t_, sizeof(t_)));
	for (size_t off = 0; off < len; off += chunk) {
		size_t n = len - off < chunk ? len - off : chunk;

		ENC(b, cbor_encode_bytestring_start(n, t_, sizeof(t_)));
		put(b, data + off, n);
	}
	ENC(b, cbor_encode_break(t_, sizeof(t_)));
}

static void put_cap(buf_t *b, const eris_read_cap *cap, size_t chunk)
{
	uint8_t bytes[ERIS_READ_CAP_BYTES];

	ck_assert_int_eq(eris_read_cap_to_bytes(bytes, cap), ERIS_OK);
	ENC(b, cbor_encode_tag(276, t_, sizeof(t_)));
	put_bstr(b, bytes, sizeof(bytes), chunk);
}

typedef struct {
	int tags;        /* 0 none, 1 tag 1701996915, 2 55799 + 1701996915 */
	int array_indef; /* indefinite-length array */
	int map_indef;   /* indefinite-length map */
	size_t chunk;    /* 0: definite byte strings; else chunk size */
} layout;

/* Every block of the source store, then `n_caps` capabilities. */
static buf_t build(const layout *l, size_t n_caps)
{
	buf_t b = { 0 };

	if (l->tags == 2)
		ENC(&b, cbor_encode_tag(55799, t_, sizeof(t_)));
	if (l->tags >= 1)
		ENC(&b, cbor_encode_tag(1701996915u, t_, sizeof(t_)));
	if (l->array_indef)
		ENC(&b, cbor_encode_indef_array_start(t_, sizeof(t_)));
	else
		ENC(&b, cbor_encode_array_start(1 + n_caps, t_, sizeof(t_)));
	if (l->map_indef)
		ENC(&b, cbor_encode_indef_map_start(t_, sizeof(t_)));
	else
		ENC(&b, cbor_encode_map_start(src_ts->count, t_, sizeof(t_)));
	for (size_t i = 0; i < src_ts->count; i++) {
		test_block *blk = test_store_block(src_ts, i);

		put_bstr(&b, blk->ref, ERIS_REF_BYTES, l->chunk ? 7 : 0);
		put_bstr(&b, blk->data, blk->len, l->chunk);
	}
	if (l->map_indef)
		ENC(&b, cbor_encode_break(t_, sizeof(t_)));
	for (size_t i = 0; i < n_caps; i++)
		put_cap(&b, &caps[i % 2], l->chunk ? 10 : 0);
	if (l->array_indef)
		ENC(&b, cbor_encode_break(t_, sizeof(t_)));
	return b;
}

/* A bundle with a single block: [ {ref: block} , caps[0] ], definite. */
static buf_t one_block(const uint8_t *ref, size_t ref_len,
		       const uint8_t *block, size_t len)
{
	buf_t b = { 0 };

	ENC(&b, cbor_encode_array_start(2, t_, sizeof(t_)));
	ENC(&b, cbor_encode_map_start(1, t_, sizeof(t_)));
	put_bstr(&b, ref, ref_len, 0);
	put_bstr(&b, block, len, 0);
	put_cap(&b, &caps[0], 0);
	return b;
}

static const char *write_temp(const void *data, size_t len)
{
	static char path[600];
	int fd;

	snprintf(path, sizeof(path), "%s/bundle-XXXXXX", tmpdir);
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
	ck_assert_int_eq(close(fd), 0);
	return path;
}

static uint8_t *read_fd_all(int fd, size_t *len)
{
	off_t size = lseek(fd, 0, SEEK_END);
	uint8_t *p = malloc((size_t)size + 1);

	ck_assert_int_ge(size, 0);
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(pread(fd, p, (size_t)size, 0), size);
	*len = (size_t)size;
	return p;
}

/* ---- checking an open bundle ------------------------------------------ */

static int count_cb(const uint8_t ref[ERIS_REF_BYTES], size_t len,
		    void *payload)
{
	test_block *blk = test_store_find(src_ts, ref);

	ck_assert_ptr_nonnull(blk);
	ck_assert_uint_eq(len, blk->len);
	(*(size_t *)payload)++;
	return 0;
}

/* The bundle holds exactly the source store's blocks and `n_caps` caps;
 * the content decodes from it. */
static void check_bundle(eris_bundle *bundle, size_t n_caps)
{
	eris_store *store;
	uint8_t *buf = malloc(ERIS_BLOCK_SIZE_MAX);
	size_t n = 0, len;

	ck_assert_ptr_nonnull(buf);
	ck_assert_uint_eq(eris_bundle_block_count(bundle), src_ts->count);
	ck_assert_uint_eq(eris_bundle_cap_count(bundle), n_caps);
	for (size_t i = 0; i < n_caps; i++)
		ck_assert_cap_eq(*eris_bundle_cap(bundle, i), caps[i % 2]);
	ck_assert_ptr_null(eris_bundle_cap(bundle, n_caps));
	ck_assert_int_eq(eris_bundle_foreach(bundle, count_cb, &n), 0);
	ck_assert_uint_eq(n, src_ts->count);

	ck_assert_eris(eris_store_new_bundle(&store, bundle), ERIS_OK);
	for (size_t i = 0; i < src_ts->count; i++) {
		test_block *blk = test_store_block(src_ts, i);

		ck_assert_eris(eris_store_get(store, blk->ref, buf,
					      ERIS_BLOCK_SIZE_MAX, &len),
			       ERIS_OK);
		ck_assert_uint_eq(len, blk->len);
		ck_assert_mem_eq(buf, blk->data, len);
		ck_assert_int_eq(eris_store_has(store, blk->ref), 1);
	}
	for (int c = 0; c < 2; c++) {
		eris_decoder *dec;
		uint8_t *out = malloc(content_len[c]);
		size_t got;

		ck_assert_ptr_nonnull(out);
		ck_assert_eris(eris_decoder_new(&dec, store, &caps[c]),
			       ERIS_OK);
		ck_assert_uint_eq(eris_decoder_length(dec), content_len[c]);
		ck_assert_eris(eris_decoder_pread(dec, out, content_len[c], 0,
						  &got),
			       ERIS_OK);
		ck_assert_uint_eq(got, content_len[c]);
		ck_assert_mem_eq(out, content[c], got);
		eris_decoder_free(dec);
		free(out);
	}
	eris_store_free(store);
	free(buf);
}

/* ---- writer → reader -------------------------------------------------- */

static void write_with_writer(int fd, int definite, size_t n_caps)
{
	eris_bundle_writer *w;

	ck_assert_eris(eris_bundle_writer_new(
			       &w, fd,
			       definite ? src_ts->count
					: ERIS_BUNDLE_COUNT_UNKNOWN,
			       definite ? n_caps : ERIS_BUNDLE_COUNT_UNKNOWN),
		       ERIS_OK);
	for (size_t i = 0; i < src_ts->count; i++) {
		test_block *blk = test_store_block(src_ts, i);

		ck_assert_eris(eris_bundle_writer_add_block(w, blk->ref,
							    blk->data,
							    blk->len),
			       ERIS_OK);
	}
	for (size_t i = 0; i < n_caps; i++)
		ck_assert_eris(eris_bundle_writer_add_cap(w, &caps[i % 2]),
			       ERIS_OK);
	ck_assert_eris(eris_bundle_writer_finish(w), ERIS_OK);
	eris_bundle_writer_free(w);
}

/* _i: 0 indefinite, 1 definite. */
START_TEST(test_writer_round_trip)
{
	int definite = _i;
	char path[600];
	eris_bundle *bundle;
	uint8_t *data;
	size_t len;
	int fd;

	snprintf(path, sizeof(path), "%s/w.cbor", tmpdir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	ck_assert_int_ge(fd, 0);
	write_with_writer(fd, definite, 2);
	data = read_fd_all(fd, &len);
	close(fd);

	/* The header: 55799, 1701996915, the array, the map. */
	{
		static const uint8_t tags[8] = { 0xD9, 0xD9, 0xF7, 0xDA,
						 0x65, 0x72, 0x69, 0x73 };

		ck_assert_mem_eq(data, tags, 8);
		if (definite) {
			ck_assert_uint_eq(data[8], 0x83); /* map + 2 caps */
			ck_assert_uint_eq(data[9], 0xB8); /* map, 1-byte n */
			ck_assert_uint_eq(data[10], src_ts->count);
		} else {
			ck_assert_uint_eq(data[8], 0x9F);
			ck_assert_uint_eq(data[9], 0xBF);
			ck_assert_uint_eq(data[len - 1], 0xFF);
		}
	}

	/* Read back from the path, a file descriptor and memory. */
	ck_assert_eris(eris_bundle_open(&bundle, path, 0), ERIS_OK);
	check_bundle(bundle, 2);
	eris_bundle_free(bundle);
	fd = open(path, O_RDONLY);
	ck_assert_eris(eris_bundle_open_fd(&bundle, fd, "x", ERIS_BUNDLE_VERIFY),
		       ERIS_OK);
	close(fd); /* the bundle has its own descriptor */
	check_bundle(bundle, 2);
	eris_bundle_free(bundle);
	ck_assert_eris(eris_bundle_open_buffer(&bundle, data, len, NULL,
					       ERIS_BUNDLE_VERIFY),
		       ERIS_OK);
	check_bundle(bundle, 2);
	eris_bundle_free(bundle);
	free(data);
}
END_TEST

/* A bundle with no blocks and no capabilities is valid. */
START_TEST(test_writer_empty)
{
	static const uint8_t want_def[] = { 0xD9, 0xD9, 0xF7, 0xDA, 0x65,
					    0x72, 0x69, 0x73, 0x81, 0xA0 };
	static const uint8_t want_indef[] = { 0xD9, 0xD9, 0xF7, 0xDA,
					      0x65, 0x72, 0x69, 0x73,
					      0x9F, 0xBF, 0xFF, 0xFF };
	eris_bundle_writer *w;
	eris_bundle *bundle;
	uint8_t *data;
	size_t len;
	FILE *f;

	for (int definite = 0; definite < 2; definite++) {
		f = tmpfile();
		ck_assert_ptr_nonnull(f);
		ck_assert_eris(eris_bundle_writer_new(
				       &w, fileno(f), definite ? 0 : UINT64_MAX,
				       definite ? 0 : UINT64_MAX),
			       ERIS_OK);
		ck_assert_eris(eris_bundle_writer_finish(w), ERIS_OK);
		eris_bundle_writer_free(w);
		data = read_fd_all(fileno(f), &len);
		if (definite) {
			ck_assert_uint_eq(len, sizeof(want_def));
			ck_assert_mem_eq(data, want_def, len);
		} else {
			ck_assert_uint_eq(len, sizeof(want_indef));
			ck_assert_mem_eq(data, want_indef, len);
		}
		ck_assert_eris(eris_bundle_open_fd(&bundle, fileno(f), NULL,
						   ERIS_BUNDLE_VERIFY),
			       ERIS_OK);
		ck_assert_uint_eq(eris_bundle_block_count(bundle), 0);
		ck_assert_uint_eq(eris_bundle_cap_count(bundle), 0);
		eris_bundle_free(bundle);
		free(data);
		fclose(f);
	}
}
END_TEST

START_TEST(test_writer_errors)
{
	test_block *blk = test_store_block(src_ts, 0);
	uint8_t bad[ERIS_BLOCK_SIZE_1K];
	eris_read_cap bad_cap = caps[0];
	eris_bundle_writer *w;
	int fds[2];
	FILE *f = tmpfile();

	ck_assert_ptr_nonnull(f);
	ck_assert_eris(eris_bundle_writer_new(&w, -1, 0, 0), ERIS_EINVAL);
	ck_assert_ptr_null(w);

	/* Announced one block and one capability. */
	ck_assert_eris(eris_bundle_writer_new(&w, fileno(f), 1, 1), ERIS_OK);
	ck_assert_eris(eris_bundle_writer_add_block(w, blk->ref, blk->data,
						    1000),
		       ERIS_EBLOCKSIZE);
	memset(bad, 0, sizeof(bad));
	ck_assert_eris(eris_bundle_writer_add_block(w, blk->ref, bad,
						    sizeof(bad)),
		       ERIS_EMISMATCH);
	/* A capability before the announced block is missing. */
	ck_assert_eris(eris_bundle_writer_add_cap(w, &caps[0]), ERIS_EINVAL);
	ck_assert_eris(eris_bundle_writer_finish(w), ERIS_EINVAL);
	ck_assert_eris(eris_bundle_writer_add_block(w, blk->ref, blk->data,
						    blk->len),
		       ERIS_OK);
	ck_assert_eris(eris_bundle_writer_add_block(w, blk->ref, blk->data,
						    blk->len),
		       ERIS_EINVAL);
	bad_cap.block_size = 4096;
	ck_assert_eris(eris_bundle_writer_add_cap(w, &bad_cap), ERIS_EINVAL);
	ck_assert_eris(eris_bundle_writer_finish(w), ERIS_EINVAL); /* 0 caps */
	ck_assert_eris(eris_bundle_writer_add_cap(w, &caps[0]), ERIS_OK);
	ck_assert_eris(eris_bundle_writer_add_cap(w, &caps[1]), ERIS_EINVAL);
	ck_assert_eris(eris_bundle_writer_add_block(w, blk->ref, blk->data,
						    blk->len),
		       ERIS_EINVAL); /* blocks come first */
	ck_assert_eris(eris_bundle_writer_finish(w), ERIS_OK);
	ck_assert_eris(eris_bundle_writer_finish(w), ERIS_EINVAL);
	eris_bundle_writer_free(w);
	fclose(f);

	/* A write error fails the writer for good. */
	ck_assert_int_eq(pipe(fds), 0);
	close(fds[0]);
	signal(SIGPIPE, SIG_IGN);
	ck_assert_eris(eris_bundle_writer_new(&w, fds[1], UINT64_MAX,
					      UINT64_MAX),
		       ERIS_OK);
	ck_assert_eris(eris_bundle_writer_finish(w), ERIS_ERROR);
	ck_assert_msg(strstr(eris_error_last(), "cannot write") != NULL, "%s",
		      eris_error_last());
	ck_assert_eris(eris_bundle_writer_finish(w), ERIS_EFAILED);
	ck_assert_eris(eris_bundle_writer_add_cap(w, &caps[0]), ERIS_EFAILED);
	eris_bundle_writer_free(w);
	close(fds[1]);
	eris_bundle_writer_free(NULL);
}
END_TEST

/* ---- every accepted layout -------------------------------------------- */

/* _i enumerates tags (3) x array (2) x map (2) x chunks (3). */
START_TEST(test_layouts)
{
	static const size_t chunks[3] = { 0, 1000, 1 };
	layout l = { _i % 3, (_i / 3) % 2, (_i / 6) % 2, chunks[_i / 12] };
	buf_t b = build(&l, 3);
	eris_bundle *bundle;
	eris_store *store;
	const char *path;
	char spec[700];

	for (unsigned flags = 0; flags <= ERIS_BUNDLE_VERIFY; flags++) {
		ck_assert_eris(eris_bundle_open_buffer(&bundle, b.p, b.len,
						       NULL, flags),
			       ERIS_OK);
		check_bundle(bundle, 3);
		eris_bundle_free(bundle);
	}
	/* From a file: the reader's window slides over it. */
	path = write_temp(b.p, b.len);
	for (unsigned flags = 0; flags <= ERIS_BUNDLE_VERIFY; flags++) {
		ck_assert_eris(eris_bundle_open(&bundle, path, flags),
			       ERIS_OK);
		check_bundle(bundle, 3);
		eris_bundle_free(bundle);
	}
	snprintf(spec, sizeof(spec), "cbor:%s", path);
	ck_assert_eris(eris_store_open(&store, spec, 0), ERIS_OK);
	eris_store_free(store);
	free(b.p);
}
END_TEST

/* ---- the cbor: store -------------------------------------------------- */

static int stop_cb(const uint8_t ref[ERIS_REF_BYTES], size_t len,
		   void *payload)
{
	(void)ref;
	(void)len;
	(void)payload;
	return 42;
}

START_TEST(test_cbor_store)
{
	layout l = { 2, 1, 1, 0 };
	buf_t b = build(&l, 2);
	const char *path = write_temp(b.p, b.len);
	test_block *blk = test_store_block(src_ts, 0);
	uint8_t absent[ERIS_REF_BYTES], *buf = malloc(ERIS_BLOCK_SIZE_MAX);
	char spec[700];
	eris_store *store;
	size_t n = 0, len;

	ck_assert_ptr_nonnull(buf);
	snprintf(spec, sizeof(spec), "cbor:%s", path);
	ck_assert_eris(eris_store_open(&store, spec, 0), ERIS_OK);

	ck_assert_int_eq(eris_store_foreach(store, count_cb, &n), 0);
	ck_assert_uint_eq(n, src_ts->count);
	ck_assert_int_eq(eris_store_foreach(store, stop_cb, NULL), 42);
	ck_assert_int_eq(eris_store_has(store, blk->ref), 1);
	memset(absent, 0xAB, sizeof(absent));
	ck_assert_int_eq(eris_store_has(store, absent), 0);
	ck_assert_eris(eris_store_get(store, absent, buf, ERIS_BLOCK_SIZE_MAX,
				      &len),
		       ERIS_ENOTFOUND);
	ck_assert_eris(eris_store_get(store, blk->ref, buf, ERIS_BLOCK_SIZE_MAX,
				      &len),
		       ERIS_OK);
	ck_assert_mem_eq(buf, blk->data, len);

	/* Read-only. */
	ck_assert_eris(eris_store_put(store, blk->ref, blk->data, blk->len),
		       ERIS_EREADONLY);
	ck_assert_msg(strstr(eris_error_last(), "read-only") != NULL, "%s",
		      eris_error_last());
	ck_assert_eris(eris_store_remove(store, blk->ref), ERIS_EREADONLY);
	ck_assert_int_eq(eris_store_has(store, blk->ref), 1);
	ck_assert_eris(eris_store_flush(store), ERIS_OK);
	eris_store_free(store);

	/* eris_store_new_cbor directly, and the errors of opening. */
	ck_assert_eris(eris_store_new_cbor(&store, path), ERIS_OK);
	eris_store_free(store);
	snprintf(spec, sizeof(spec), "cbor:%s/absent.cbor", tmpdir);
	ck_assert_eris(eris_store_open(&store, spec, 0), ERIS_ESTORE);
	ck_assert_ptr_null(store);
	ck_assert_msg(strstr(eris_error_last(), "absent.cbor") != NULL, "%s",
		      eris_error_last());
	snprintf(spec, sizeof(spec), "cbor:%s", tmpdir);
	ck_assert_eris(eris_store_open(&store, spec, 0), ERIS_ESTORE);
	ck_assert_msg(strstr(eris_error_last(), "not a regular file"), "%s",
		      eris_error_last());
	b.p[b.len - 1] = 0x00; /* the final break becomes a stray 0 */
	path = write_temp(b.p, b.len);
	snprintf(spec, sizeof(spec), "cbor:%s", path);
	ck_assert_eris(eris_store_open(&store, spec, 0), ERIS_ESTORE);
	ck_assert_msg(strstr(eris_error_last(), path) != NULL &&
			      strstr(eris_error_last(), "at byte") != NULL,
		      "%s", eris_error_last());
	free(buf);
	free(b.p);
}
END_TEST

/* A block whose bytes do not match its key: found by eris_store_get
 * (R3) without ERIS_BUNDLE_VERIFY, at open with it. */
START_TEST(test_mismatch)
{
	layout l = { 2, 0, 0, (size_t)_i * 100 };
	buf_t b = build(&l, 1);
	test_block *blk = test_store_block(src_ts, 3);
	uint8_t *buf = malloc(ERIS_BLOCK_SIZE_MAX);
	eris_bundle *bundle;
	eris_store *store;
	size_t len, at;

	ck_assert_ptr_nonnull(buf);
	/* Flip the last byte of block 3, found by its last 16 bytes (the
	 * last chunk of 100-byte chunks holds at least 24 bytes). */
	at = (size_t)((uint8_t *)memmem(b.p, b.len, blk->data + blk->len - 16,
					16) -
		      b.p) + 15;
	b.p[at] ^= 1;
	ck_assert_eris(eris_bundle_open_buffer(&bundle, b.p, b.len, "b", 0),
		       ERIS_OK);
	ck_assert_eris(eris_store_new_bundle(&store, bundle), ERIS_OK);
	ck_assert_eris(eris_store_get(store, blk->ref, buf, ERIS_BLOCK_SIZE_MAX,
				      &len),
		       ERIS_EMISMATCH);
	eris_store_free(store);
	eris_bundle_free(bundle);
	ck_assert_eris(eris_bundle_open_buffer(&bundle, b.p, b.len, "b",
					       ERIS_BUNDLE_VERIFY),
		       ERIS_EMISMATCH);
	ck_assert_ptr_null(bundle);
	ck_assert_msg(strstr(eris_error_last(), "does not hash to its key"),
		      "%s", eris_error_last());
	free(buf);
	free(b.p);
}
END_TEST

/* ---- damaged bundles -------------------------------------------------- */

/* Every proper prefix of a small bundle is rejected as truncated, from
 * memory and from a file; _i: 0 definite, 1 indefinite, 2 chunked. */
START_TEST(test_truncated)
{
	test_block *blk = test_store_block(src_ts, 0);
	buf_t b = { 0 };
	layout l = { 2, _i >= 1, _i >= 1, _i == 2 ? 300 : 0 };
	char path[600];
	int fd;

	/* The smallest content: a single block. */
	if (blk->len != ERIS_BLOCK_SIZE_1K)
		blk = test_store_block(src_ts, 1);
	if (l.tags)
		ENC(&b, cbor_encode_tag(55799, t_, sizeof(t_)));
	ENC(&b, cbor_encode_tag(1701996915u, t_, sizeof(t_)));
	ENC(&b, l.array_indef ? cbor_encode_indef_array_start(t_, sizeof(t_))
			      : cbor_encode_array_start(2, t_, sizeof(t_)));
	ENC(&b, l.map_indef ? cbor_encode_indef_map_start(t_, sizeof(t_))
			    : cbor_encode_map_start(1, t_, sizeof(t_)));
	put_bstr(&b, blk->ref, ERIS_REF_BYTES, l.chunk ? 5 : 0);
	put_bstr(&b, blk->data, blk->len, l.chunk);
	if (l.map_indef)
		ENC(&b, cbor_encode_break(t_, sizeof(t_)));
	put_cap(&b, &caps[0], l.chunk ? 30 : 0);
	if (l.array_indef)
		ENC(&b, cbor_encode_break(t_, sizeof(t_)));

	snprintf(path, sizeof(path), "%s/t.cbor", tmpdir);
	for (size_t n = 0; n <= b.len; n++) {
		eris_bundle *bundle = NULL;
		int rc;

		rc = eris_bundle_open_buffer(&bundle, b.p, n, "t",
					     ERIS_BUNDLE_VERIFY);
		if (n == b.len) {
			ck_assert_eris(rc, ERIS_OK);
			eris_bundle_free(bundle);
			continue;
		}
		ck_assert_msg(rc == ERIS_ERROR &&
				      strstr(eris_error_last(), "truncated") &&
				      strstr(eris_error_last(), "at byte"),
			      "prefix of %zu/%zu bytes: %d %s", n, b.len, rc,
			      eris_error_last());
		ck_assert_ptr_null(bundle);
		/* The same through a file, without verification. */
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		ck_assert_int_eq(write(fd, b.p, n), (ssize_t)n);
		close(fd);
		rc = eris_bundle_open(&bundle, path, 0);
		ck_assert_msg(rc == ERIS_ERROR &&
				      strstr(eris_error_last(), "truncated"),
			      "file prefix of %zu/%zu bytes: %d %s", n, b.len,
			      rc, eris_error_last());
	}
	free(b.p);
}
END_TEST

typedef struct {
	const char *name;
	int code;
	const char *message; /* a part of the expected message */
} invalid_case;

/* Build the i-th invalid bundle into `b`; returns its expectations. */
static invalid_case make_invalid(int i, buf_t *b)
{
	test_block *blk = test_store_block(src_ts, 0);
	uint8_t data[ERIS_BLOCK_SIZE_1K + 1], ref33[33];
	layout good = { 2, 0, 0, 0 };

	if (blk->len != ERIS_BLOCK_SIZE_1K)
		blk = test_store_block(src_ts, 1);
	memset(data, 0x5A, sizeof(data));
	memcpy(ref33, blk->ref, 32);
	ref33[32] = 0;
	switch (i) {
	case 0:
		return (invalid_case){ "empty", ERIS_ERROR, "truncated" };
	case 1:
		ENC(b, cbor_encode_uint(5, t_, sizeof(t_)));
		return (invalid_case){ "not an array", ERIS_ERROR,
				       "a bundle is an array, not an unsigned "
				       "integer" };
	case 2:
		ENC(b, cbor_encode_array_start(0, t_, sizeof(t_)));
		return (invalid_case){ "empty array", ERIS_ERROR,
				       "array is empty" };
	case 3:
		ENC(b, cbor_encode_array_start(1, t_, sizeof(t_)));
		ENC(b, cbor_encode_array_start(0, t_, sizeof(t_)));
		return (invalid_case){ "first element not a map", ERIS_ERROR,
				       "must be the map of blocks, not an "
				       "array" };
	case 4:
		ENC(b, cbor_encode_array_start(1, t_, sizeof(t_)));
		ENC(b, cbor_encode_map_start(1, t_, sizeof(t_)));
		ENC(b, cbor_encode_uint(7, t_, sizeof(t_)));
		put_bstr(b, blk->data, blk->len, 0);
		return (invalid_case){ "map key not a byte string", ERIS_ERROR,
				       "a map key (block reference) is an "
				       "unsigned integer" };
	case 5:
		*b = one_block(blk->ref, 31, blk->data, blk->len);
		return (invalid_case){ "key of 31 bytes", ERIS_ERROR,
				       "has 31 bytes, not 32" };
	case 6:
		*b = one_block(ref33, 33, blk->data, blk->len);
		return (invalid_case){ "key of 33 bytes", ERIS_ERROR,
				       "has 33 bytes, not 32" };
	case 7:
		*b = one_block(blk->ref, 32, data, 1000);
		return (invalid_case){ "block of 1000 bytes", ERIS_EBLOCKSIZE,
				       "a block of 1000 bytes" };
	case 8:
		*b = one_block(blk->ref, 32, data, 1025);
		return (invalid_case){ "block of 1025 bytes", ERIS_EBLOCKSIZE,
				       "a block of 1025 bytes" };
	case 9:
		ENC(b, cbor_encode_array_start(1, t_, sizeof(t_)));
		ENC(b, cbor_encode_map_start(1, t_, sizeof(t_)));
		put_bstr(b, blk->ref, 32, 0);
		ENC(b, cbor_encode_string_start(3, t_, sizeof(t_)));
		put(b, "abc", 3);
		return (invalid_case){ "value not a byte string", ERIS_ERROR,
				       "a map value is a text string, not a "
				       "block" };
	case 10:
		*b = build(&good, 1);
		put_byte(b, 0x00);
		return (invalid_case){ "trailing garbage", ERIS_ERROR,
				       "1 bytes of trailing data" };
	case 11:
		ENC(b, cbor_encode_array_start(2, t_, sizeof(t_)));
		ENC(b, cbor_encode_map_start(0, t_, sizeof(t_)));
		ENC(b, cbor_encode_tag(277, t_, sizeof(t_)));
		put_bstr(b, data, 66, 0);
		return (invalid_case){ "capability with tag 277", ERIS_ERROR,
				       "array element 1 is a tag 277" };
	case 12:
		ENC(b, cbor_encode_array_start(2, t_, sizeof(t_)));
		ENC(b, cbor_encode_map_start(0, t_, sizeof(t_)));
		ENC(b, cbor_encode_tag(276, t_, sizeof(t_)));
		put_bstr(b, data, 65, 0);
		return (invalid_case){ "capability of 65 bytes", ERIS_ERROR,
				       "has 65 bytes, not 66" };
	case 13:
		ENC(b, cbor_encode_array_start(2, t_, sizeof(t_)));
		ENC(b, cbor_encode_map_start(0, t_, sizeof(t_)));
		ENC(b, cbor_encode_tag(276, t_, sizeof(t_)));
		data[0] = 0x0b; /* not a block-size code */
		put_bstr(b, data, 66, 0);
		return (invalid_case){ "capability with a bad block size",
				       ERIS_EURN, "invalid read capability" };
	case 14:
		ENC(b, cbor_encode_tag(55799, t_, sizeof(t_)));
		ENC(b, cbor_encode_array_start(1, t_, sizeof(t_)));
		ENC(b, cbor_encode_map_start(0, t_, sizeof(t_)));
		return (invalid_case){ "55799 without the eris tag",
				       ERIS_ERROR,
				       "must be followed by the ERIS bundle "
				       "tag" };
	case 15:
		ENC(b, cbor_encode_tag(42, t_, sizeof(t_)));
		ENC(b, cbor_encode_array_start(1, t_, sizeof(t_)));
		ENC(b, cbor_encode_map_start(0, t_, sizeof(t_)));
		return (invalid_case){ "another tag", ERIS_ERROR,
				       "unexpected tag 42" };
	case 16:
		ENC(b, cbor_encode_array_start(1, t_, sizeof(t_)));
		ENC(b, cbor_encode_map_start(1, t_, sizeof(t_)));
		put_bstr(b, blk->ref, 32, 0);
		ENC(b, cbor_encode_indef_bytestring_start(t_, sizeof(t_)));
		ENC(b, cbor_encode_string_start(1, t_, sizeof(t_)));
		put(b, "x", 1);
		ENC(b, cbor_encode_break(t_, sizeof(t_)));
		return (invalid_case){ "text chunk in a byte string",
				       ERIS_ERROR,
				       "only definite byte strings" };
	case 17:
		ENC(b, cbor_encode_array_start(1, t_, sizeof(t_)));
		ENC(b, cbor_encode_map_start(1, t_, sizeof(t_)));
		ENC(b, cbor_encode_break(t_, sizeof(t_)));
		put_byte(b, 0x00); /* room for the pair the map announces */
		return (invalid_case){ "break in a definite map", ERIS_ERROR,
				       "a map key (block reference) is a "
				       "break" };
	case 18: {
		static const uint8_t huge[] = { 0x82, 0xA1, 0x58, 0x20 };

		put(b, huge, sizeof(huge));
		put(b, blk->ref, 32);
		put_byte(b, 0x5B); /* byte string, 8-byte length */
		for (int k = 0; k < 8; k++)
			put_byte(b, 0x7F);
		return (invalid_case){ "absurd string length", ERIS_ERROR,
				       "longer than anything valid" };
	}
	case 19: {
		static const uint8_t lie[] = { 0x9B, 0x7F, 0, 0, 0, 0, 0, 0, 0,
					       0xA0 };

		put(b, lie, sizeof(lie));
		return (invalid_case){ "absurd array length", ERIS_ERROR,
				       "cannot fit" };
	}
	case 20:
		put_byte(b, 0x1C); /* reserved additional information */
		return (invalid_case){ "reserved initial byte", ERIS_ERROR,
				       "not well-formed" };
	case 21: {
		uint8_t big[ERIS_BLOCK_SIZE_MAX + 1];

		memset(big, 0, sizeof(big));
		ENC(b, cbor_encode_array_start(1, t_, sizeof(t_)));
		ENC(b, cbor_encode_map_start(1, t_, sizeof(t_)));
		put_bstr(b, blk->ref, 32, 0);
		put_bstr(b, big, sizeof(big), 4096);
		return (invalid_case){ "chunked block over 32 KiB",
				       ERIS_EBLOCKSIZE, "32768 or more" };
	}
	case 22:
		ENC(b, cbor_encode_indef_array_start(t_, sizeof(t_)));
		ENC(b, cbor_encode_indef_map_start(t_, sizeof(t_)));
		ENC(b, cbor_encode_break(t_, sizeof(t_)));
		ENC(b, cbor_encode_uint(1, t_, sizeof(t_)));
		ENC(b, cbor_encode_break(t_, sizeof(t_)));
		return (invalid_case){ "integer among capabilities",
				       ERIS_ERROR,
				       "array element 1 is an unsigned "
				       "integer" };
	default:
		return (invalid_case){ NULL, 0, NULL };
	}
}

#define N_INVALID 23

START_TEST(test_invalid)
{
	buf_t b = { 0 };
	invalid_case c = make_invalid(_i, &b);
	eris_bundle *bundle = (eris_bundle *)&b; /* must be reset to NULL */
	const char *path;
	char spec[700];
	eris_store *store;
	int rc;

	ck_assert_ptr_nonnull(c.name);
	for (unsigned flags = 0; flags <= ERIS_BUNDLE_VERIFY; flags++) {
		rc = eris_bundle_open_buffer(&bundle, b.p, b.len, "inv", flags);
		ck_assert_msg(rc == c.code &&
				      strstr(eris_error_last(), c.message) &&
				      strncmp(eris_error_last(), "inv: at byte ",
					      13) == 0,
			      "%s: got %d (%s), expected %d with '%s'", c.name,
			      rc, eris_error_last(), c.code, c.message);
		ck_assert_ptr_null(bundle);
	}
	/* The same from a file, and as a store (ERIS_ESTORE then). */
	path = write_temp(b.p ? b.p : (uint8_t *)"", b.len);
	rc = eris_bundle_open(&bundle, path, 0);
	ck_assert_msg(rc == c.code && strstr(eris_error_last(), c.message),
		      "%s (file): got %d (%s)", c.name, rc, eris_error_last());
	snprintf(spec, sizeof(spec), "cbor:%s", path);
	ck_assert_eris(eris_store_open(&store, spec, 0), ERIS_ESTORE);
	ck_assert_msg(strstr(eris_error_last(), c.message), "%s: %s", c.name,
		      eris_error_last());
	free(b.p);
}
END_TEST

/* A repeated key keeps its first block and counts once. */
START_TEST(test_duplicate_key)
{
	test_block *blk = test_store_block(src_ts, 0);
	buf_t b = { 0 };
	eris_bundle *bundle;

	ENC(&b, cbor_encode_array_start(1, t_, sizeof(t_)));
	ENC(&b, cbor_encode_map_start(2, t_, sizeof(t_)));
	for (int k = 0; k < 2; k++) {
		put_bstr(&b, blk->ref, 32, 0);
		put_bstr(&b, blk->data, blk->len, 0);
	}
	ck_assert_eris(eris_bundle_open_buffer(&bundle, b.p, b.len, NULL,
					       ERIS_BUNDLE_VERIFY),
		       ERIS_OK);
	ck_assert_uint_eq(eris_bundle_block_count(bundle), 1);
	eris_bundle_free(bundle);
	free(b.p);
}
END_TEST

/* ---- link files ------------------------------------------------------- */

static const uint8_t magic[9] = { 0xD9, 0xD9, 0xF7, 0x84, 0xD9,
				  0x01, 0x14, 0x58, 0x42 };

/* A link file built by hand: `array_len` elements, the given MIME type
 * and the attribute bytes. */
static buf_t hand_link(size_t array_len, const char *mime, size_t mime_len,
		       const uint8_t *attrs, size_t attrs_len)
{
	buf_t b = { 0 };

	ENC(&b, cbor_encode_tag(55799, t_, sizeof(t_)));
	ENC(&b, cbor_encode_array_start(array_len, t_, sizeof(t_)));
	put_cap(&b, &caps[1], 0);
	ENC(&b, cbor_encode_uint(CONTENT_32K_LEN, t_, sizeof(t_)));
	ENC(&b, cbor_encode_string_start(mime_len, t_, sizeof(t_)));
	put(&b, mime, mime_len);
	put(&b, attrs, attrs_len);
	return b;
}

START_TEST(test_link_round_trip)
{
	/* {"name": "a.txt", "tags": ["x", 1, {}], 2: h'00ff'} */
	static const uint8_t attrs[] = { 0xA3, 0x64, 'n',  'a',  'm',  'e',
					 0x65, 'a',  '.',  't',  'x',  't',
					 0x64, 't',  'a',  'g',  's',  0x83,
					 0x61, 'x',  0x01, 0xA0, 0x02, 0x42,
					 0x00, 0xFF };
	eris_link in, *out;
	uint8_t buf[512];
	size_t len, need;

	memset(&in, 0, sizeof(in));
	in.cap = caps[0];
	in.size = CONTENT_1K_LEN;

	/* Defaults: application/octet-stream, empty attributes. */
	ck_assert_eris(eris_link_encode(NULL, 0, &need, &in), ERIS_OK);
	ck_assert_eris(eris_link_encode(buf, need - 1, &len, &in), ERIS_EINVAL);
	ck_assert_uint_eq(len, need);
	ck_assert_eris(eris_link_encode(buf, sizeof(buf), &len, &in), ERIS_OK);
	ck_assert_uint_eq(len, need);
	ck_assert_mem_eq(buf, magic, sizeof(magic));
	ck_assert_int_eq(eris_link_has_magic(buf, len), 1);
	ck_assert_int_eq(eris_link_has_magic(buf, 8), 0);
	ck_assert_uint_eq(buf[len - 1], 0xA0);
	ck_assert_eris(eris_link_decode(&out, buf, len), ERIS_OK);
	ck_assert_cap_eq(out->cap, caps[0]);
	ck_assert_uint_eq(out->size, CONTENT_1K_LEN);
	ck_assert_str_eq(out->mime, "application/octet-stream");
	ck_assert_uint_eq(out->attrs_len, 1);
	ck_assert_uint_eq(out->attrs_count, 0);
	eris_link_free(out);

	/* A MIME type and attributes, kept byte for byte. */
	in.mime = "text/plain; charset=\"utf-8\"";
	in.attrs = attrs;
	in.attrs_len = sizeof(attrs);
	in.size = UINT64_MAX;
	ck_assert_eris(eris_link_encode(buf, sizeof(buf), &len, &in), ERIS_OK);
	ck_assert_eris(eris_link_decode(&out, buf, len), ERIS_OK);
	ck_assert_uint_eq(out->size, UINT64_MAX);
	ck_assert_str_eq(out->mime, in.mime);
	ck_assert_uint_eq(out->attrs_len, sizeof(attrs));
	ck_assert_mem_eq(out->attrs, attrs, sizeof(attrs));
	ck_assert_uint_eq(out->attrs_count, 3);
	eris_link_free(out);
	eris_link_free(NULL);
}
END_TEST

START_TEST(test_link_encode_invalid)
{
	static const uint8_t not_map[] = { 0x80 };
	static const uint8_t two_maps[] = { 0xA0, 0xA0 };
	static const uint8_t odd_map[] = { 0xBF, 0x01, 0xFF };
	char long_mime[ERIS_LINK_MIME_MAX + 2];
	eris_link in;
	uint8_t buf[1024];
	size_t len;

	memset(&in, 0, sizeof(in));
	in.cap = caps[0];
	memset(long_mime, 'a', sizeof(long_mime));
	long_mime[ERIS_LINK_MIME_MAX] = '\0';
	in.mime = long_mime; /* 255: the longest allowed */
	ck_assert_eris(eris_link_encode(buf, sizeof(buf), &len, &in), ERIS_OK);
	long_mime[ERIS_LINK_MIME_MAX] = 'a';
	long_mime[ERIS_LINK_MIME_MAX + 1] = '\0';
	ck_assert_eris(eris_link_encode(buf, sizeof(buf), &len, &in),
		       ERIS_EINVAL);
	ck_assert_msg(strstr(eris_error_last(), "256 bytes"), "%s",
		      eris_error_last());
	in.mime = "";
	ck_assert_eris(eris_link_encode(buf, sizeof(buf), &len, &in),
		       ERIS_EINVAL);
	in.mime = "text/plain\n";
	ck_assert_eris(eris_link_encode(buf, sizeof(buf), &len, &in),
		       ERIS_EINVAL);
	in.mime = NULL;
	in.attrs = not_map;
	in.attrs_len = sizeof(not_map);
	ck_assert_eris(eris_link_encode(buf, sizeof(buf), &len, &in),
		       ERIS_EINVAL);
	ck_assert_msg(strstr(eris_error_last(), "not a map"), "%s",
		      eris_error_last());
	in.attrs = two_maps;
	in.attrs_len = sizeof(two_maps);
	ck_assert_eris(eris_link_encode(buf, sizeof(buf), &len, &in),
		       ERIS_EINVAL);
	in.attrs = odd_map;
	in.attrs_len = sizeof(odd_map);
	ck_assert_eris(eris_link_encode(buf, sizeof(buf), &len, &in),
		       ERIS_EINVAL);
	in.attrs = NULL;
	in.attrs_len = 0;
	in.cap.block_size = 1000;
	ck_assert_eris(eris_link_encode(buf, sizeof(buf), &len, &in),
		       ERIS_EINVAL);
}
END_TEST

typedef struct {
	const char *name;
	int code;
	const char *message;
} link_case;

static link_case make_bad_link(int i, buf_t *b)
{
	char mime[300];
	static const uint8_t empty_map[] = { 0xA0 };

	memset(mime, 'm', sizeof(mime));
	switch (i) {
	case 0: /* a bundle is not a link file */
		ENC(b, cbor_encode_tag(1701996915u, t_, sizeof(t_)));
		ENC(b, cbor_encode_array_start(1, t_, sizeof(t_)));
		ENC(b, cbor_encode_map_start(0, t_, sizeof(t_)));
		return (link_case){ "wrong magic", ERIS_ERROR,
				    "does not start with tag 55799" };
	case 1:
		*b = hand_link(3, "a/b", 3, NULL, 0);
		return (link_case){ "array of 3", ERIS_ERROR,
				    "array of 4 elements, not 3" };
	case 2:
		*b = hand_link(5, "a/b", 3, empty_map, 1);
		put_byte(b, 0x01);
		return (link_case){ "array of 5", ERIS_ERROR,
				    "array of 4 elements, not 5" };
	case 3:
		*b = hand_link(4, mime, 256, empty_map, 1);
		return (link_case){ "MIME type too long", ERIS_ERROR,
				    "256 bytes" };
	case 4:
		*b = hand_link(4, "", 0, empty_map, 1);
		return (link_case){ "empty MIME type", ERIS_ERROR,
				    "empty MIME type" };
	case 5:
		*b = hand_link(4, "a\tb", 3, empty_map, 1);
		return (link_case){ "control character in MIME type",
				    ERIS_ERROR, "printable ASCII" };
	case 6: {
		static const uint8_t arr[] = { 0x80 };

		*b = hand_link(4, "a/b", 3, arr, 1);
		return (link_case){ "attributes not a map", ERIS_ERROR,
				    "the attributes are an array, not a map" };
	}
	case 7:
		*b = hand_link(4, "a/b", 3, empty_map, 1);
		put_byte(b, 0xA0);
		return (link_case){ "trailing bytes", ERIS_ERROR,
				    "1 bytes of trailing data" };
	case 8: {
		uint8_t deep[41];

		for (size_t k = 0; k < 20; k++) {
			deep[2 * k] = 0xA1; /* {0: {0: ... {}}} */
			deep[2 * k + 1] = 0x00;
		}
		deep[40] = 0xA0;
		*b = hand_link(4, "a/b", 3, deep, sizeof(deep));
		return (link_case){ "attributes too deep", ERIS_ERROR,
				    "nested more than 16 levels" };
	}
	case 9: {
		static const uint8_t odd[] = { 0xBF, 0x01, 0xFF };

		*b = hand_link(4, "a/b", 3, odd, sizeof(odd));
		return (link_case){ "odd indefinite map", ERIS_ERROR,
				    "without its value" };
	}
	case 10: {
		/* The size as a negative integer. */
		buf_t c = hand_link(4, "a/b", 3, empty_map, 1);

		c.p[9 + 66] = 0x3A; /* 0x1A (uint32) -> 0x3A (negint32) */
		*b = c;
		return (link_case){ "negative size", ERIS_ERROR,
				    "the size is a negative integer" };
	}
	case 11: {
		/* Tag 276 with a 4-byte head: well formed, not canonical. */
		static const uint8_t head[] = { 0xD9, 0xD9, 0xF7, 0x84, 0xDA,
						0x00, 0x00, 0x01, 0x14, 0x58,
						0x42 };
		buf_t c = hand_link(4, "a/b", 3, empty_map, 1);

		put(b, head, sizeof(head));
		put(b, c.p + 9, c.len - 9);
		free(c.p);
		return (link_case){ "non-canonical", ERIS_ERROR,
				    "canonical" };
	}
	case 12: {
		buf_t c = hand_link(4, "a/b", 3, empty_map, 1);

		c.p[9] = 0x0b; /* block-size code */
		*b = c;
		return (link_case){ "bad capability", ERIS_EURN,
				    "block-size" };
	}
	case 13: {
		static const uint8_t indef_text[] = { 0x7F, 0x61, 'a', 0xFF };
		buf_t c = { 0 };

		ENC(&c, cbor_encode_tag(55799, t_, sizeof(t_)));
		ENC(&c, cbor_encode_array_start(4, t_, sizeof(t_)));
		put_cap(&c, &caps[1], 0);
		ENC(&c, cbor_encode_uint(1, t_, sizeof(t_)));
		put(&c, indef_text, sizeof(indef_text));
		put(&c, empty_map, 1);
		*b = c;
		return (link_case){ "chunked MIME type", ERIS_ERROR,
				    "not a definite-length text string" };
	}
	default:
		return (link_case){ NULL, 0, NULL };
	}
}

#define N_BAD_LINKS 14

START_TEST(test_link_decode_invalid)
{
	buf_t b = { 0 };
	link_case c = make_bad_link(_i, &b);
	eris_link *out = (eris_link *)&b;
	int rc;

	ck_assert_ptr_nonnull(c.name);
	rc = eris_link_decode(&out, b.p, b.len);
	ck_assert_msg(rc == c.code && strstr(eris_error_last(), c.message),
		      "%s: got %d (%s), expected %d with '%s'", c.name, rc,
		      eris_error_last(), c.code, c.message);
	ck_assert_ptr_null(out);
	free(b.p);
}
END_TEST

/* Every proper prefix of a link file is rejected. */
START_TEST(test_link_truncated)
{
	static const uint8_t attrs[] = { 0xBF, 0x61, 'k', 0x9F, 0x01, 0xFF,
					 0xFF };
	eris_link in, *out;
	uint8_t buf[512];
	size_t len;

	memset(&in, 0, sizeof(in));
	in.cap = caps[1];
	in.size = 123456789;
	in.mime = "video/webm";
	in.attrs = attrs;
	in.attrs_len = sizeof(attrs);
	ck_assert_eris(eris_link_encode(buf, sizeof(buf), &len, &in), ERIS_OK);
	for (size_t n = 0; n < len; n++) {
		int rc = eris_link_decode(&out, buf, n);

		ck_assert_msg(rc == ERIS_ERROR &&
				      strstr(eris_error_last(), "truncated"),
			      "prefix %zu/%zu: %d %s", n, len, rc,
			      eris_error_last());
		ck_assert_ptr_null(out);
	}
	ck_assert_eris(eris_link_decode(&out, buf, len), ERIS_OK);
	ck_assert_uint_eq(out->attrs_count, 1);
	eris_link_free(out);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("bundle");
	TCase *tc = tcase_create("bundle");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_writer_round_trip, 0, 2);
	tcase_add_test(tc, test_writer_empty);
	tcase_add_test(tc, test_writer_errors);
	tcase_add_loop_test(tc, test_layouts, 0, 36);
	tcase_add_test(tc, test_cbor_store);
	tcase_add_loop_test(tc, test_mismatch, 0, 2);
	tcase_add_loop_test(tc, test_truncated, 0, 3);
	tcase_add_loop_test(tc, test_invalid, 0, N_INVALID);
	tcase_add_test(tc, test_duplicate_key);
	tcase_add_test(tc, test_link_round_trip);
	tcase_add_test(tc, test_link_encode_invalid);
	tcase_add_loop_test(tc, test_link_decode_invalid, 0, N_BAD_LINKS);
	tcase_add_test(tc, test_link_truncated);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
