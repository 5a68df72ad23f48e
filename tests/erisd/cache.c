/*
 * tests/erisd/cache.c - unit tests of erisd's cache of verified blocks
 * (erisd/cache.c): hits return the bytes put, the capacity is never
 * exceeded, CLOCK keeps blocks that are read again, a full cache admits
 * a block on its second recent miss only, pinned entries are
 * never evicted, and concurrent use keeps every block intact.
 */
#define _GNU_SOURCE
#include "cache.h"

#include <check.h>
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

/* A block derived from `seed`, and its real reference. */
static void make_block(uint8_t *blk, size_t len, uint32_t seed,
		       uint8_t ref[ERIS_REF_BYTES])
{
	uint8_t key[32] = { 0 };

	memcpy(key, &seed, sizeof seed);
	randombytes_buf_deterministic(blk, len, key);
	crypto_generichash(ref, ERIS_REF_BYTES, blk, len, NULL, 0);
}

START_TEST(test_hit_and_miss)
{
	static uint8_t blk[ERIS_BLOCK_SIZE_32K];
	uint8_t ref[32], other[32];
	const erisd_cache_entry *e;
	erisd_cache *c;
	size_t blocks, bytes;

	ck_assert_int_eq(erisd_cache_new(&c, 1 << 20), ERIS_OK);
	make_block(blk, sizeof blk, 1, ref);
	make_block(blk, 1024, 2, other);
	ck_assert_ptr_null(erisd_cache_get(c, ref));
	make_block(blk, sizeof blk, 1, ref);
	erisd_cache_put(c, ref, blk, sizeof blk);
	erisd_cache_put(c, ref, blk, sizeof blk); /* again: no change */
	erisd_cache_stats(c, &blocks, &bytes, NULL);
	ck_assert_uint_eq(blocks, 1);
	ck_assert_uint_eq(bytes, sizeof blk);
	ck_assert_ptr_null(erisd_cache_get(c, other));
	e = erisd_cache_get(c, ref);
	ck_assert_ptr_nonnull(e);
	ck_assert_uint_eq(erisd_cache_len(e), sizeof blk);
	ck_assert_mem_eq(erisd_cache_data(e), blk, sizeof blk);
	erisd_cache_release(c, e);
	/* Not a block size: ignored. */
	erisd_cache_put(c, other, blk, 1000);
	ck_assert_ptr_null(erisd_cache_get(c, other));
	erisd_cache_free(c);
}
END_TEST

START_TEST(test_too_small)
{
	erisd_cache *c = (erisd_cache *)&c;

	ck_assert_int_eq(erisd_cache_new(&c, 1024), ERIS_EINVAL);
	ck_assert_ptr_null(c);
	erisd_cache_free(NULL);
}
END_TEST

/* 100 blocks of 1 KiB through a 32 KiB cache, each put twice (a miss
 * that is noted, then one that enters): never more than 32 held, every
 * one still held is intact, and a block read between inserts (its bit
 * set each time) is kept. */
START_TEST(test_eviction)
{
	uint8_t blk[1024], hot[1024], ref[32], hot_ref[32];
	const erisd_cache_entry *e;
	erisd_cache *c;
	size_t blocks, bytes;
	uint64_t evictions;
	uint32_t i;
	int held = 0;

	ck_assert_int_eq(erisd_cache_new(&c, 32 * 1024), ERIS_OK);
	make_block(hot, sizeof hot, 999, hot_ref);
	erisd_cache_put(c, hot_ref, hot, sizeof hot);
	for (i = 0; i < 100; i++) {
		make_block(blk, sizeof blk, i, ref);
		erisd_cache_put(c, ref, blk, sizeof blk);
		erisd_cache_put(c, ref, blk, sizeof blk);
		erisd_cache_stats(c, &blocks, &bytes, NULL);
		ck_assert_uint_le(bytes, 32 * 1024);
		ck_assert_uint_eq(bytes, blocks * 1024);
		e = erisd_cache_get(c, hot_ref);
		ck_assert_ptr_nonnull(e);
		ck_assert_mem_eq(erisd_cache_data(e), hot, sizeof hot);
		erisd_cache_release(c, e);
	}
	erisd_cache_stats(c, &blocks, NULL, &evictions);
	ck_assert_uint_eq(blocks, 32);
	ck_assert_uint_eq(evictions, 101 - 32);
	/* The first put of each block after the first 31 was kept out. */
	ck_assert_uint_eq(erisd_cache_refused(c), 100 - 31);
	for (i = 0; i < 100; i++) {
		make_block(blk, sizeof blk, i, ref);
		e = erisd_cache_get(c, ref);
		if (!e)
			continue;
		held++;
		ck_assert_mem_eq(erisd_cache_data(e), blk, sizeof blk);
		erisd_cache_release(c, e);
	}
	ck_assert_int_eq(held, 31); /* and the hot one */
	erisd_cache_free(c);
}
END_TEST

/* 1 if block `ref` is in the cache. */
static int held(erisd_cache *c, const uint8_t *ref)
{
	const erisd_cache_entry *e = erisd_cache_get(c, ref);

	if (e)
		erisd_cache_release(c, e);
	return e != NULL;
}

/*
 * Admission: while there is room every block enters on its first put;
 * once full, a block put once is kept out (nothing evicted) and enters on
 * its second put; a note older than the cache's worth of later notes is
 * forgotten, so the block is kept out again.
 */
START_TEST(test_admission)
{
	uint8_t blk[1024], ref[32], x[1024], xref[32];
	erisd_cache *c;
	size_t blocks;
	uint64_t evictions;
	uint32_t i;

	ck_assert_int_eq(erisd_cache_new(&c, 32 * 1024), ERIS_OK);
	for (i = 0; i < 32; i++) {
		make_block(blk, sizeof blk, i, ref);
		erisd_cache_put(c, ref, blk, sizeof blk);
		ck_assert(held(c, ref));
	}
	ck_assert_uint_eq(erisd_cache_refused(c), 0);
	/* Full: the first put only notes the block. */
	make_block(x, sizeof x, 1000, xref);
	erisd_cache_put(c, xref, x, sizeof x);
	ck_assert(!held(c, xref));
	erisd_cache_stats(c, &blocks, NULL, &evictions);
	ck_assert_uint_eq(blocks, 32);
	ck_assert_uint_eq(evictions, 0);
	ck_assert_uint_eq(erisd_cache_refused(c), 1);
	/* The second enters, in place of one block. */
	erisd_cache_put(c, xref, x, sizeof x);
	ck_assert(held(c, xref));
	erisd_cache_stats(c, &blocks, NULL, &evictions);
	ck_assert_uint_eq(blocks, 32);
	ck_assert_uint_eq(evictions, 1);
	ck_assert_uint_eq(erisd_cache_refused(c), 1);
	/* Noted, then 40 other blocks noted (more than the 32 held): the
	 * note is gone and the next put is a first one again. */
	make_block(x, sizeof x, 2000, xref);
	erisd_cache_put(c, xref, x, sizeof x);
	for (i = 0; i < 40; i++) {
		make_block(blk, sizeof blk, 3000 + i, ref);
		erisd_cache_put(c, ref, blk, sizeof blk);
	}
	ck_assert_uint_eq(erisd_cache_refused(c), 42);
	erisd_cache_put(c, xref, x, sizeof x);
	ck_assert(!held(c, xref));
	ck_assert_uint_eq(erisd_cache_refused(c), 43);
	erisd_cache_put(c, xref, x, sizeof x);
	ck_assert(held(c, xref));
	erisd_cache_free(c);
}
END_TEST

/* A pinned entry survives any number of inserts; when every entry is
 * pinned, a new block is not added (and nothing breaks). */
START_TEST(test_pinned)
{
	static uint8_t a[32768], b[32768];
	uint8_t ra[32], rb[32];
	const erisd_cache_entry *e;
	erisd_cache *c;
	uint32_t i;

	ck_assert_int_eq(erisd_cache_new(&c, 32768), ERIS_OK);
	make_block(a, sizeof a, 1, ra);
	erisd_cache_put(c, ra, a, sizeof a);
	e = erisd_cache_get(c, ra);
	ck_assert_ptr_nonnull(e);
	for (i = 2; i < 10; i++) {
		make_block(b, sizeof b, i, rb);
		erisd_cache_put(c, rb, b, sizeof b);
		ck_assert_ptr_null(erisd_cache_get(c, rb));
	}
	ck_assert_mem_eq(erisd_cache_data(e), a, sizeof a);
	erisd_cache_release(c, e);
	/* Unpinned now: the next block takes its place. */
	erisd_cache_put(c, rb, b, sizeof b);
	e = erisd_cache_get(c, rb);
	ck_assert_ptr_nonnull(e);
	ck_assert_mem_eq(erisd_cache_data(e), b, sizeof b);
	erisd_cache_release(c, e);
	ck_assert_ptr_null(erisd_cache_get(c, ra));
	erisd_cache_free(c);
}
END_TEST

/* Threads putting and getting 200 blocks through a cache of 40: every
 * hit has the right bytes (run under ASan/TSan to see races). */
static erisd_cache *shared;

static void *worker(void *arg)
{
	uint32_t base = (uint32_t)(uintptr_t)arg, i, k;
	uint8_t blk[1024], want[1024], ref[32];
	const erisd_cache_entry *e;
	int bad = 0;

	for (k = 0; k < 20; k++) {
		for (i = 0; i < 200; i++) {
			uint32_t seed = (i * 7 + base + k) % 200;

			make_block(want, sizeof want, seed, ref);
			e = erisd_cache_get(shared, ref);
			if (e) {
				bad |= memcmp(erisd_cache_data(e), want,
					      sizeof want) != 0;
				erisd_cache_release(shared, e);
			} else {
				memcpy(blk, want, sizeof blk);
				erisd_cache_put(shared, ref, blk, sizeof blk);
			}
		}
	}
	return (void *)(uintptr_t)bad;
}

START_TEST(test_threads)
{
	pthread_t t[4];
	void *bad;
	int i;

	ck_assert_int_eq(erisd_cache_new(&shared, 40 * 1024), ERIS_OK);
	for (i = 0; i < 4; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, worker,
						(void *)(uintptr_t)(i * 13)),
				 0);
	for (i = 0; i < 4; i++) {
		pthread_join(t[i], &bad);
		ck_assert_ptr_null(bad);
	}
	erisd_cache_free(shared);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("erisd-cache");
	TCase *tc = tcase_create("cache");
	SRunner *sr;
	int failed;

	if (sodium_init() < 0)
		return 1;
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_hit_and_miss);
	tcase_add_test(tc, test_too_small);
	tcase_add_test(tc, test_eviction);
	tcase_add_test(tc, test_admission);
	tcase_add_test(tc, test_pinned);
	tcase_add_test(tc, test_threads);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
