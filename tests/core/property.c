/*
 * property.c - properties at every size boundary, for both block sizes:
 * sizes 0, 1, bs-1, bs, bs+1, A*bs-1, A*bs, A*bs+1, A^2*bs-1, A^2*bs,
 * A^2*bs+1 (A = arity = bs/64). For each size:
 *
 *   - encode (in random-sized writes) then decode gives the content back;
 *   - the level and the number of blocks are what the tree shape implies;
 *   - random-access reads equal the slices of the content;
 *   - eris_verify passes;
 *   - one flipped bit in any stored block is caught (R3) by verify, and
 *     by a full decode.
 *
 * Content is pseudo-random. For A^2*bs with 32 KiB blocks (8 GiB) the
 * content repeats every 7 leaves, so the store holds only a few distinct
 * blocks while every offset still maps to distinguishable bytes.
 *
 * Usage: test_property 1k | 32k | 32k-8GiB
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PERIOD_LEAVES 7

static uint32_t bs;
static int huge; /* the A^2 sizes of 32 KiB blocks */
static uint64_t sizes[16];
static int nsizes;

/* Content: either fully random (kept in memory) or periodic. */
static uint8_t *pattern; /* `period` bytes */
static uint64_t period;

static void content_at(uint8_t *out, size_t len, uint64_t off)
{
	while (len > 0) {
		size_t in = (size_t)(off % period);
		size_t n = (size_t)(period - in) < len ? (size_t)(period - in)
						       : len;

		memcpy(out, pattern + in, n);
		out += n;
		off += n;
		len -= n;
	}
}

static uint64_t expected_blocks(uint64_t size, unsigned *level)
{
	uint64_t arity = bs / 64, n = size / bs + 1, total = n;

	*level = 0;
	while (n > 1) {
		n = (n + arity - 1) / arity;
		total += n;
		(*level)++;
	}
	return total;
}

static void check_flip(eris_store *s, test_store *ts, test_block *b,
		       const eris_read_cap *cap, int full_decode)
{
	uint64_t bit = (uint64_t)rand() % (b->len * 8);
	eris_decoder *dec;
	int rc;

	b->data[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	ck_assert_eris(eris_verify(s, cap, NULL, NULL, NULL), ERIS_EMISMATCH);
	if (full_decode) {
		rc = eris_decoder_new(&dec, s, cap);
		if (rc == ERIS_OK) {
			uint64_t len = eris_decoder_length(dec);
			uint8_t *buf = malloc(len + 1);
			size_t got;

			rc = eris_decoder_pread(dec, buf, len, 0, &got);
			free(buf);
			eris_decoder_free(dec);
		}
		ck_assert_eris(rc, ERIS_EMISMATCH);
	}
	b->data[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	(void)ts;
}

START_TEST(test_size)
{
	uint64_t size = sizes[_i];
	eris_encode_options opts = ERIS_ENCODE_OPTIONS_INIT;
	size_t chunk_max = huge ? (8u << 20) : 100000;
	uint8_t *chunk = malloc(chunk_max), *back = malloc(chunk_max);
	test_store *ts;
	eris_store *s = test_store_new(&ts);
	eris_encoder *enc;
	eris_decoder *dec;
	eris_read_cap cap;
	unsigned level;
	uint64_t blocks, visited, done = 0;
	size_t got;

	srand((unsigned)size);
	opts.block_size = bs;
	ck_assert_eris(eris_encoder_new(&enc, s, &opts), ERIS_OK);
	while (done < size) {
		size_t step = 1 + (size_t)rand() % chunk_max;

		if (step > size - done)
			step = (size_t)(size - done);
		content_at(chunk, step, done);
		ck_assert_eris(eris_encoder_write(enc, chunk, step), ERIS_OK);
		done += step;
	}
	ck_assert_eris(eris_encoder_finish(&cap, enc), ERIS_OK);
	eris_encoder_free(enc);

	/* Shape: level and number of blocks visited. */
	blocks = expected_blocks(size, &level);
	ck_assert_uint_eq(cap.level, level);
	ck_assert_eris(eris_verify(s, &cap, &visited, NULL, NULL), ERIS_OK);
	ck_assert_uint_eq(visited, blocks);
	if (!huge) /* random content: no two blocks alike, except tails */
		ck_assert_uint_ge(ts->count, blocks - level - 1);

	/* Full decode, sequentially. */
	ck_assert_eris(eris_decoder_new(&dec, s, &cap), ERIS_OK);
	ck_assert_uint_eq(eris_decoder_length(dec), size);
	for (done = 0; done < size; done += got) {
		ck_assert_eris(eris_decoder_read(dec, back, chunk_max, &got),
			       ERIS_OK);
		ck_assert_uint_gt(got, 0);
		content_at(chunk, got, done);
		ck_assert_msg(memcmp(back, chunk, got) == 0,
			      "size %llu: content differs at %llu",
			      (unsigned long long)size,
			      (unsigned long long)done);
	}
	ck_assert_eris(eris_decoder_read(dec, back, 1, &got), ERIS_OK);
	ck_assert_uint_eq(got, 0);

	/* Random access, including reads across every boundary. */
	for (int r = 0; r < 300 && size > 0; r++) {
		uint64_t off = r < 100 ? (uint64_t)rand() * rand() % size
				       : ((uint64_t)(rand() % 64) * bs +
					  (uint64_t)rand() % 3) % size;
		size_t len = (size_t)rand() % (3 * bs);

		if (r % 50 == 0)
			off = size - 1 - (size > 10 ? (uint64_t)rand() % 10 : 0);
		ck_assert_eris(eris_decoder_pread(dec, back, len, off, &got),
			       ERIS_OK);
		ck_assert_uint_eq(got, len < size - off ? len : size - off);
		content_at(chunk, got, off);
		ck_assert_msg(memcmp(back, chunk, got) == 0,
			      "size %llu: pread(%zu @ %llu) differs",
			      (unsigned long long)size, len,
			      (unsigned long long)off);
	}
	eris_decoder_free(dec);

	/* One flipped bit in any block is caught: every block of small
	 * trees, a sample of large ones. */
	for (size_t i = 0; i < ts->count; i++) {
		size_t pick = ts->count <= 40 ? i : (size_t)rand() % ts->count;

		if (ts->count > 40 && i >= 40)
			break;
		check_flip(s, ts, test_store_block(ts, pick), &cap,
			   !huge && i < 8);
	}
	ck_assert_eris(eris_verify(s, &cap, NULL, NULL, NULL), ERIS_OK);

	eris_store_free(s);
	free(chunk);
	free(back);
}
END_TEST

int main(int argc, char **argv)
{
	Suite *s = suite_create("property");
	TCase *tc = tcase_create("property");
	uint64_t a;

	if (argc != 2 || (strcmp(argv[1], "1k") && strcmp(argv[1], "32k") &&
			  strcmp(argv[1], "32k-8GiB"))) {
		fprintf(stderr, "usage: %s 1k|32k|32k-8GiB\n", argv[0]);
		return 2;
	}
	bs = argv[1][0] == '1' ? 1024 : 32768;
	huge = strcmp(argv[1], "32k-8GiB") == 0;
	a = bs / 64;
	if (huge) {
		for (int d = -1; d <= 1; d++)
			sizes[nsizes++] = a * a * bs + (uint64_t)(int64_t)d;
	} else {
		uint64_t base[] = { 0, 1, bs - 1, bs, bs + 1, a * bs - 1,
				    a * bs, a * bs + 1, a * a * bs - 1,
				    a * a * bs, a * a * bs + 1 };
		/* A^2 sizes of 32 KiB blocks are the 32k-8GiB run. */
		int n = bs == 1024 ? 11 : 8;

		for (int i = 0; i < n; i++)
			sizes[nsizes++] = base[i];
	}
	/* Periodic for 8 GiB; otherwise longer than any size: random. */
	period = huge ? (uint64_t)PERIOD_LEAVES * bs : sizes[nsizes - 1] + 1;
	pattern = malloc((size_t)period);
	fill_random(pattern, (size_t)period, bs, 0);
	tcase_set_timeout(tc, 0);
	tcase_add_loop_test(tc, test_size, 0, nsizes);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
