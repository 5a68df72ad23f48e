/*
 * threads.c - encoding, decoding and verifying on 1, 2, 3 and 8 threads
 * give the same results.
 *
 * Encoding: for contents around every batch and tree boundary, written in
 * one piece or in odd chunks, the read capability, the set of blocks and
 * the order of the store puts are the same as on one thread; without a
 * store, the read capability too.
 * Decoding: the content comes back whole and by random ranges on every
 * thread count, and eris_verify_threads counts the same blocks.
 * Errors: with blocks removed, flipped or cut short (one or two at a
 * time, leaves and internal nodes), decoding and verifying fail with the
 * same code and the same message on every thread count; with one bad
 * block, the code is that block's rule and the message names the block.
 * Decoding and errors are checked from a local store and from a store
 * marked remote, whose leaves the decoder fetches a batch ahead; a store
 * failing a whole batch fails the read with its own error.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const unsigned thread_counts[] = { 1, 2, 3, 8 };
#define NCOUNTS (sizeof(thread_counts) / sizeof(thread_counts[0]))

#define KIB ((size_t)1024)
#define MIB ((size_t)1024 * 1024)

struct size_case {
	uint32_t bs;
	size_t len;
};

/* Around leaves, level-1 nodes (16 KiB / 16 MiB), level-2 nodes
 * (256 KiB of 1 KiB leaves) and the 1 MiB batches. */
static const struct size_case sizes[] = {
	{ 1024, 0 },
	{ 1024, 1 },
	{ 1024, 1023 },
	{ 1024, 1024 },
	{ 1024, 1025 },
	{ 1024, 16 * KIB },
	{ 1024, 16 * KIB + 1 },
	{ 1024, 256 * KIB },
	{ 1024, 256 * KIB + 1024 },
	{ 1024, MIB - 1 },
	{ 1024, 2 * MIB + 1 },
	{ 1024, 4 * MIB + 3000 },
	{ 32768, 0 },
	{ 32768, 32767 },
	{ 32768, 32768 },
	{ 32768, 32769 },
	{ 32768, 8 * 32768 },
	{ 32768, MIB + 5 },
	{ 32768, 17 * MIB + 77 },
};
#define NSIZES (sizeof(sizes) / sizeof(sizes[0]))

/* Encode `len` bytes in pieces of `piece` bytes (0: one piece) on
 * `threads` threads into a new test store. */
static eris_store *encode(const uint8_t *content, size_t len, uint32_t bs,
			  unsigned threads, size_t piece, test_store **ts,
			  eris_read_cap *cap)
{
	eris_encode_options opts = ERIS_ENCODE_OPTIONS_INIT;
	eris_store *store = test_store_new(ts);
	eris_encoder *enc;
	size_t off = 0;

	opts.block_size = bs;
	opts.threads = threads;
	ck_assert_eris(eris_encoder_new(&enc, store, &opts), ERIS_OK);
	do {
		size_t n = piece == 0 || len - off < piece ? len - off : piece;

		ck_assert_eris(eris_encoder_write(enc, content + off, n),
			       ERIS_OK);
		off += n;
	} while (off < len);
	ck_assert_eris(eris_encoder_finish(cap, enc), ERIS_OK);
	ck_assert_uint_eq(eris_encoder_length(enc), len);
	eris_encoder_free(enc);
	return store;
}

START_TEST(test_encode_same)
{
	const struct size_case *c = &sizes[_i];
	uint8_t *content = malloc(c->len + 1);
	eris_read_cap cap1, cap;
	test_store *ts1, *ts;
	eris_store *s1, *s;

	ck_assert_ptr_nonnull(content);
	fill_random(content, c->len, 7 + _i, 0);
	s1 = encode(content, c->len, c->bs, 1, 0, &ts1, &cap1);
	for (size_t k = 0; k < NCOUNTS; k++) {
		/* No store: blocks go to per-thread scratch, and whole
		 * writes take larger batches (16 tasks). */
		eris_encode_options opts = ERIS_ENCODE_OPTIONS_INIT;

		opts.block_size = c->bs;
		opts.threads = thread_counts[k];
		ck_assert_eris(eris_encode(&cap, NULL, &opts, content, c->len),
			       ERIS_OK);
		ck_assert_cap_eq(cap, cap1);
	}
	for (size_t k = 1; k < NCOUNTS; k++) {
		/* One piece, odd pieces, pieces just over a batch. */
		static const size_t pieces[] = { 0, 7777, MIB + 13 };

		for (size_t p = 0; p < 3; p++) {
			s = encode(content, c->len, c->bs, thread_counts[k],
				   pieces[p], &ts, &cap);
			ck_assert_cap_eq(cap, cap1);
			ck_assert_uint_eq(ts->count, ts1->count);
			ck_assert_uint_eq(ts->put_log_len, ts1->put_log_len);
			ck_assert_msg(memcmp(ts->put_log, ts1->put_log,
					     ts1->put_log_len *
						     ERIS_REF_BYTES) == 0,
				      "%zu bytes, %u threads, pieces of %zu: "
				      "puts in another order",
				      c->len, thread_counts[k], pieces[p]);
			eris_store_free(s);
		}
	}
	eris_store_free(s1);
	free(content);
}
END_TEST

START_TEST(test_decode_same)
{
	const struct size_case *c = &sizes[_i];
	uint8_t *content = malloc(c->len + 1), *back = malloc(c->len + 1);
	uint64_t blocks1 = 0, blocks;
	eris_read_cap cap;
	test_store *ts;
	eris_store *store;

	ck_assert(content && back);
	fill_random(content, c->len, 100 + _i, 0);
	store = encode(content, c->len, c->bs, 1, 0, &ts, &cap);
	ck_assert_eris(eris_verify(store, &cap, &blocks1, NULL, NULL),
		       ERIS_OK);
	/* Every thread count, as a local store and as a remote one (whose
	 * leaves the decoder fetches a batch ahead). */
	for (size_t kr = 0; kr < 2 * NCOUNTS; kr++) {
		size_t k = kr % NCOUNTS;
		eris_decoder *dec;
		size_t got;

		test_store_set_remote(store, kr >= NCOUNTS);

		ck_assert_eris(eris_decoder_new(&dec, store, &cap), ERIS_OK);
		ck_assert_eris(eris_decoder_set_threads(dec, thread_counts[k]),
			       ERIS_OK);
		ck_assert_uint_eq(eris_decoder_length(dec), c->len);
		memset(back, 0, c->len + 1);
		ck_assert_eris(eris_decoder_pread(dec, back, c->len + 1, 0,
						  &got),
			       ERIS_OK);
		ck_assert_uint_eq(got, c->len);
		ck_assert(c->len == 0 || memcmp(back, content, c->len) == 0);
		srand((unsigned)(_i * 31 + k));
		for (int r = 0; r < 20 && c->len > 0; r++) {
			size_t off = (size_t)rand() % c->len;
			size_t len = (size_t)rand() % (c->len - off + 1);

			ck_assert_eris(eris_decoder_pread(dec, back, len, off,
							  &got),
				       ERIS_OK);
			ck_assert_uint_eq(got, len);
			ck_assert(len == 0 ||
				  memcmp(back, content + off, len) == 0);
		}
		eris_decoder_free(dec);
		blocks = 0;
		ck_assert_eris(eris_verify_threads(store, &cap,
						   thread_counts[k], &blocks,
						   NULL, NULL),
			       ERIS_OK);
		ck_assert_uint_eq(blocks, blocks1);
	}
	eris_store_free(store);
	free(content);
	free(back);
}
END_TEST

/* What to do to a block. */
enum damage { REMOVE, FLIP, CUT };

static int damage_code(enum damage d)
{
	return d == REMOVE ? ERIS_ENOTFOUND
			   : d == FLIP ? ERIS_EMISMATCH : ERIS_EBLOCKSIZE;
}

static void apply(test_store *ts, size_t put_index, enum damage d)
{
	const uint8_t *ref = ts->put_log[put_index];
	test_block *b = test_store_find(ts, ref);

	ck_assert_ptr_nonnull(b);
	if (d == REMOVE)
		test_store_remove(ts, ref);
	else if (d == FLIP)
		b->data[b->len / 3] ^= 0x40;
	else
		b->len -= 1;
}

/* The outcome of decoding everything in one read, in reads of `piece`
 * bytes, and of verifying. */
struct outcome {
	int rc[3];
	char msg[3][600];
};

static void run(eris_store *store, const eris_read_cap *cap,
		unsigned threads, struct outcome *o)
{
	static const size_t pieces[] = { 0, 100000 };

	for (int p = 0; p < 2; p++) {
		eris_decoder *dec;
		int rc = eris_decoder_new(&dec, store, cap);

		if (rc == ERIS_OK) {
			uint64_t len = eris_decoder_length(dec);
			size_t piece = pieces[p] ? pieces[p] : (size_t)len + 1;
			uint8_t *buf = malloc(piece);
			size_t got = 0;

			ck_assert_ptr_nonnull(buf);
			ck_assert_eris(eris_decoder_set_threads(dec, threads),
				       ERIS_OK);
			for (uint64_t off = 0; rc == ERIS_OK && off < len;
			     off += got)
				rc = eris_decoder_pread(dec, buf, piece, off,
							&got);
			free(buf);
			eris_decoder_free(dec);
		}
		o->rc[p] = rc;
		snprintf(o->msg[p], sizeof(o->msg[p]), "%s", eris_error_last());
	}
	o->rc[2] = eris_verify_threads(store, cap, threads, NULL, NULL, NULL);
	snprintf(o->msg[2], sizeof(o->msg[2]), "%s", eris_error_last());
}

struct damage_case {
	uint32_t bs;
	size_t len;
	/* Put indices (from the end when negative) and damages; a second
	 * damage when two != 0. */
	long at1;
	enum damage d1;
	int two;
	long at2;
	enum damage d2;
};

/* 600 KiB of 1 KiB leaves: a level-3 tree; 20 MiB of 32 KiB leaves:
 * level 2, two level-1 nodes. Index 16 of 1 KiB puts is the first
 * level-1 node; the last put is the root. 2.5 MiB of 1 KiB leaves: a
 * level-2 node every 273 puts (16 x 17 + 1), the fifth (index 1364) the
 * first one of the second 1 MiB batch, which is planned (and the node
 * loaded) while the first batch's tasks run: its error must still come
 * after any in the first batch. */
static const struct damage_case damages[] = {
	{ 1024, 600 * KIB, 5, REMOVE, 0, 0, REMOVE },
	{ 1024, 600 * KIB, 5, FLIP, 0, 0, REMOVE },
	{ 1024, 600 * KIB, 5, CUT, 0, 0, REMOVE },
	{ 1024, 600 * KIB, 16, REMOVE, 0, 0, REMOVE },
	{ 1024, 600 * KIB, 16, FLIP, 0, 0, REMOVE },
	{ 1024, 600 * KIB, 300, CUT, 0, 0, REMOVE },
	{ 1024, 600 * KIB, 400, FLIP, 0, 0, REMOVE },
	{ 1024, 600 * KIB, -2, FLIP, 0, 0, REMOVE },
	{ 1024, 600 * KIB, -1, REMOVE, 0, 0, REMOVE },
	{ 1024, 600 * KIB, 300, FLIP, 1, 200, REMOVE },
	{ 1024, 600 * KIB, 200, CUT, 1, 300, FLIP },
	{ 1024, 600 * KIB, 16, FLIP, 1, 5, REMOVE },
	{ 1024, 600 * KIB, 290, REMOVE, 1, 271, FLIP },
	{ 1024, 2560 * KIB, 1364, FLIP, 0, 0, REMOVE },
	{ 1024, 2560 * KIB, 1364, REMOVE, 1, 1000, FLIP },
	{ 1024, 2560 * KIB, 1364, CUT, 1, 1363, REMOVE },
	{ 32768, 20 * MIB, 512, REMOVE, 0, 0, REMOVE },
	{ 32768, 20 * MIB, 600, FLIP, 1, 530, REMOVE },
	{ 32768, 20 * MIB, 512, FLIP, 1, 511, CUT },
};
#define NDAMAGES (sizeof(damages) / sizeof(damages[0]))

START_TEST(test_errors_same)
{
	const struct damage_case *c = &damages[_i];
	uint8_t *content = malloc(c->len);
	struct outcome first, o;
	eris_read_cap cap;
	test_store *ts;
	eris_store *store;
	char name[ERIS_REF_BASE32_LEN + 1];
	size_t at1, at2;

	ck_assert_ptr_nonnull(content);
	fill_random(content, c->len, 1000 + _i, 0);
	store = encode(content, c->len, c->bs, 1, 0, &ts, &cap);
	at1 = c->at1 < 0 ? ts->put_log_len - (size_t)-c->at1 : (size_t)c->at1;
	at2 = c->at2 < 0 ? ts->put_log_len - (size_t)-c->at2 : (size_t)c->at2;
	ck_assert_uint_lt(at1, ts->put_log_len);
	ck_assert_uint_lt(at2, ts->put_log_len);
	eris_base32_encode(name, ts->put_log[at1], ERIS_REF_BYTES);
	apply(ts, at1, c->d1);
	if (c->two)
		apply(ts, at2, c->d2);

	/* Every thread count, local and remote: the same error. */
	for (size_t kr = 0; kr < 2 * NCOUNTS; kr++) {
		size_t k = kr % NCOUNTS;
		struct outcome *out = kr == 0 ? &first : &o;

		test_store_set_remote(store, kr >= NCOUNTS);
		run(store, &cap, thread_counts[k], out);
		for (int m = 0; m < 3; m++) {
			ck_assert_msg(out->rc[m] < 0, "case %d: no error", _i);
			ck_assert_msg(eris_error_rule(out->rc[m]) != NULL,
				      "case %d: %s is no rule's error", _i,
				      out->msg[m]);
			if (!c->two) {
				ck_assert_eris(out->rc[m], damage_code(c->d1));
				ck_assert_msg(strstr(out->msg[m], name),
					      "case %d: '%s' does not name %s",
					      _i, out->msg[m], name);
			}
			ck_assert_msg(out->rc[m] == first.rc[0] &&
					      strcmp(out->msg[m],
						     first.msg[0]) == 0,
				      "case %d, %u threads, %s, way %d: '%s', "
				      "on one thread in one read: '%s'",
				      _i, thread_counts[k],
				      kr >= NCOUNTS ? "remote" : "local", m,
				      out->msg[m],
				      first.msg[0]);
		}
	}
	eris_store_free(store);
	free(content);
}
END_TEST

/* A store that fails a whole batch (a cluster gone down) while the
 * decoder reads ahead: the read fails with the store's error and
 * message, on every thread count, local or remote, and a read that
 * starts over once the store is back gets the content. 20 MiB of 32 KiB
 * leaves: many batches of leaves. */
START_TEST(test_batch_failure)
{
	size_t len = 20 * MIB;
	uint8_t *content = malloc(len), *back = malloc(len);
	eris_read_cap cap;
	test_store *ts;
	eris_store *store;

	ck_assert(content && back);
	fill_random(content, len, 66, 0);
	store = encode(content, len, 32768, 1, 0, &ts, &cap);
	for (size_t kr = 0; kr < 2 * NCOUNTS; kr++) {
		eris_decoder *dec;
		size_t got = 0;

		test_store_set_remote(store, kr >= NCOUNTS);
		ck_assert_eris(eris_decoder_new(&dec, store, &cap), ERIS_OK);
		ck_assert_eris(eris_decoder_set_threads(
				       dec, thread_counts[kr % NCOUNTS]),
			       ERIS_OK);
		ts->get_many_calls = 0;
		ts->fail_get_many_at = 3;
		ck_assert_eris(eris_decoder_pread(dec, back, len, 0, &got),
			       ERIS_ESTORE);
		ck_assert_str_eq(eris_error_last(),
				 "injected batch failure: store down");
		ck_assert_uint_eq(got, 0);
		ts->fail_get_many_at = 0;
		ck_assert_eris(eris_decoder_pread(dec, back, len, 0, &got),
			       ERIS_OK);
		ck_assert_uint_eq(got, len);
		ck_assert(memcmp(back, content, len) == 0);
		eris_decoder_free(dec);
	}
	eris_store_free(store);
	free(content);
	free(back);
}
END_TEST

/* The thread count may change between reads. */
START_TEST(test_switch_threads)
{
	size_t len = 3 * MIB + 5;
	uint8_t *content = malloc(len), *back = malloc(len);
	eris_read_cap cap;
	test_store *ts;
	eris_store *store;
	eris_decoder *dec;
	size_t got, done = 0;
	unsigned t = 0;

	ck_assert(content && back);
	fill_random(content, len, 55, 0);
	store = encode(content, len, 1024, 2, 0, &ts, &cap);
	ck_assert_eris(eris_decoder_new(&dec, store, &cap), ERIS_OK);
	while (done < len) {
		unsigned n = thread_counts[t++ % NCOUNTS];

		ck_assert_eris(eris_decoder_set_threads(dec, n), ERIS_OK);
		ck_assert_eris(eris_decoder_read(dec, back + done, 300000,
						 &got),
			       ERIS_OK);
		ck_assert_uint_gt(got, 0);
		done += got;
	}
	ck_assert_uint_eq(done, len);
	ck_assert(memcmp(back, content, len) == 0);
	ck_assert_eris(eris_decoder_set_threads(NULL, 2), ERIS_EINVAL);
	eris_decoder_free(dec);
	eris_store_free(store);
	free(content);
	free(back);
}
END_TEST

/* Small sequential reads fetch every block once: 64 KiB of 1 KiB leaves
 * plus the padding leaf, a level-2 root over 5 level-1 nodes. Opening
 * fetches the root, level-1 node 4 and the last leaf; reading the content
 * 4 KiB at a time then fetches the 64 other leaves and level-1 nodes 0-3
 * once each, whatever the threads. */
START_TEST(test_small_reads_fetch_once)
{
	size_t len = 64 * KIB;
	uint8_t *content = malloc(len), back[4096];
	eris_read_cap cap;
	test_store *ts;
	eris_store *store;
	eris_decoder *dec;
	size_t got;

	ck_assert_ptr_nonnull(content);
	fill_random(content, len, 77, 0);
	store = encode(content, len, 1024, 1, 0, &ts, &cap);
	ck_assert_uint_eq(cap.level, 2);
	ts->gets = 0;
	ck_assert_eris(eris_decoder_new(&dec, store, &cap), ERIS_OK);
	ck_assert_eris(eris_decoder_set_threads(dec, thread_counts[_i]),
		       ERIS_OK);
	ck_assert_uint_eq(ts->gets, 3);
	for (size_t off = 0; off < len; off += sizeof(back)) {
		ck_assert_eris(eris_decoder_read(dec, back, sizeof(back),
						 &got),
			       ERIS_OK);
		ck_assert_uint_eq(got, sizeof(back));
		ck_assert(memcmp(back, content + off, got) == 0);
	}
	ck_assert_uint_eq(ts->gets, 3 + 64 + 4);
	eris_decoder_free(dec);
	eris_store_free(store);
	free(content);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("threads");
	TCase *tc = tcase_create("threads");

	tcase_set_timeout(tc, 0);
	tcase_add_loop_test(tc, test_encode_same, 0, NSIZES);
	tcase_add_loop_test(tc, test_decode_same, 0, NSIZES);
	tcase_add_loop_test(tc, test_errors_same, 0, NDAMAGES);
	tcase_add_test(tc, test_batch_failure);
	tcase_add_test(tc, test_switch_threads);
	tcase_add_loop_test(tc, test_small_reads_fetch_once, 0, NCOUNTS);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
