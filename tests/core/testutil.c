/*
 * testutil.c - the inspectable test store and content generators.
 */
#include "testutil.h"
#include "progenv.h"

#include "internal.h" /* test_backend_of */

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

static size_t slot_of(const test_store *ts, const uint8_t *ref)
{
	uint64_t h;

	memcpy(&h, ref, sizeof(h));
	return (size_t)h & (ts->capacity - 1);
}

static test_block *probe(test_store *ts, const uint8_t *ref)
{
	size_t i = slot_of(ts, ref);

	while (ts->slots[i].data &&
	       memcmp(ts->slots[i].ref, ref, ERIS_REF_BYTES) != 0)
		i = (i + 1) & (ts->capacity - 1);
	return &ts->slots[i];
}

test_block *test_store_find(test_store *ts, const uint8_t *ref)
{
	test_block *b = probe(ts, ref);

	return b->data ? b : NULL;
}

test_block *test_store_block(test_store *ts, size_t i)
{
	for (size_t s = 0; s < ts->capacity; s++)
		if (ts->slots[s].data && i-- == 0)
			return &ts->slots[s];
	return NULL;
}

static void rehash(test_store *ts, size_t capacity)
{
	test_block *old = ts->slots;
	size_t old_cap = ts->capacity;

	ts->slots = calloc(capacity, sizeof(*ts->slots));
	ck_assert_ptr_nonnull(ts->slots);
	ts->capacity = capacity;
	for (size_t i = 0; i < old_cap; i++)
		if (old[i].data)
			*probe(ts, old[i].ref) = old[i];
	free(old);
}

void test_store_remove(test_store *ts, const uint8_t *ref)
{
	test_block *b = test_store_find(ts, ref);

	if (b == NULL)
		return;
	free(b->data);
	b->data = NULL;
	ts->count--;
	rehash(ts, ts->capacity); /* keep probe chains intact */
}

static int ts_get(eris_store_backend *b, const uint8_t *ref, uint8_t *buf,
		  size_t buf_size, size_t *out_len)
{
	test_store *ts = (test_store *)b;
	test_block *blk;

	if (!pthread_equal(pthread_self(), ts->owner))
		ts->foreign_gets++;
	if (++ts->gets == ts->fail_get_at)
		return eris_error_set(ERIS_ERROR, "injected get failure");
	blk = test_store_find(ts, ref);
	if (blk == NULL)
		return ERIS_ENOTFOUND;
	if (blk->len > buf_size)
		return eris_error_set(ERIS_EBLOCKSIZE, "block too large");
	memcpy(buf, blk->data, blk->len);
	*out_len = blk->len;
	return ERIS_OK;
}

static int ts_get_many(eris_store_backend *b, size_t n,
		       const uint8_t (*refs)[ERIS_REF_BYTES],
		       uint8_t *const *bufs, size_t buf_size,
		       size_t *out_lens, int *results)
{
	test_store *ts = (test_store *)b;

	if (++ts->get_many_calls == ts->fail_get_many_at)
		return eris_error_set(ERIS_ESTORE,
				      "injected batch failure: store down");
	for (size_t i = 0; i < n; i++) {
		out_lens[i] = 0;
		results[i] = ts_get(b, refs[i], bufs[i], buf_size,
				    &out_lens[i]);
	}
	return ERIS_OK;
}

static int ts_put(eris_store_backend *b, const uint8_t *ref,
		  const uint8_t *block, size_t len)
{
	test_store *ts = (test_store *)b;
	test_block *blk;

	if (++ts->puts == ts->fail_put_at)
		return eris_error_set(ERIS_ERROR, "injected put failure");
	if (ts->put_log_len == ts->put_log_cap) {
		ts->put_log_cap = ts->put_log_cap ? 2 * ts->put_log_cap : 64;
		ts->put_log = realloc(ts->put_log,
				      ts->put_log_cap * sizeof(*ts->put_log));
		ck_assert_ptr_nonnull(ts->put_log);
	}
	memcpy(ts->put_log[ts->put_log_len++], ref, ERIS_REF_BYTES);
	if (test_store_find(ts, ref))
		return ERIS_OK;
	if ((ts->count + 1) * 2 > ts->capacity)
		rehash(ts, ts->capacity * 2);
	blk = probe(ts, ref);
	memcpy(blk->ref, ref, ERIS_REF_BYTES);
	blk->data = malloc(len);
	ck_assert_ptr_nonnull(blk->data);
	memcpy(blk->data, block, len);
	blk->len = len;
	ts->count++;
	return ERIS_OK;
}

static void ts_free(eris_store_backend *b)
{
	test_store *ts = (test_store *)b;

	for (size_t i = 0; i < ts->capacity; i++)
		free(ts->slots[i].data);
	free(ts->slots);
	free(ts->put_log);
	free(ts);
}

eris_store *test_store_new(test_store **out_backend)
{
	test_store *ts = calloc(1, sizeof(*ts));
	eris_store *store;

	ck_assert_ptr_nonnull(ts);
	ts->owner = pthread_self();
	ts->capacity = 64;
	ts->slots = calloc(ts->capacity, sizeof(*ts->slots));
	ck_assert_ptr_nonnull(ts->slots);
	ts->parent.version = ERIS_STORE_BACKEND_VERSION;
	ts->parent.get = ts_get;
	ts->parent.get_many = ts_get_many;
	ts->parent.put = ts_put;
	ts->parent.free = ts_free;
	ck_assert_int_eq(eris_store_new_from_backend(&store, &ts->parent),
			 ERIS_OK);
	*out_backend = ts;
	return store;
}

void fill_random(uint8_t *buf, size_t len, uint64_t seed, uint64_t offset)
{
	uint8_t key[32] = { 0 }, nonce[12] = { 0 }, tmp[64];
	uint64_t block = offset / 64;
	size_t skip = (size_t)(offset % 64), done = 0;

	memcpy(key, &seed, sizeof(seed));
	memset(buf, 0, len);
	if (skip) {
		memset(tmp, 0, sizeof(tmp));
		crypto_stream_chacha20_ietf_xor_ic(tmp, tmp, 64, nonce,
						   (uint32_t)block, key);
		done = 64 - skip < len ? 64 - skip : len;
		memcpy(buf, tmp + skip, done);
		block++;
	}
	if (done < len)
		crypto_stream_chacha20_ietf_xor_ic(buf + done, buf + done,
						   len - done, nonce,
						   (uint32_t)block, key);
}

uint8_t *base32_decode_alloc(const char *s, size_t *out_len)
{
	size_t len = strlen(s), n = len * 5 / 8;
	uint8_t *out = malloc(n ? n : 1);

	ck_assert_ptr_nonnull(out);
	ck_assert_msg(eris_base32_decode(out, n, s, len) == ERIS_OK,
		      "bad base32 in test data: %s", eris_error_last());
	*out_len = n;
	return out;
}

int run_suite(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	/* ERIS_BLAKE2B and ERIS_CHACHA20, as the programs read them: the
	 * ctest variants of these suites run on each crypto path. */
	if (progenv_configure("test") != ERIS_OK) {
		srunner_free(sr);
		return 2;
	}
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}

eris_store_backend *test_backend_of(eris_store *store)
{
	return store->backend;
}

void test_store_set_remote(eris_store *store, int remote)
{
	store->remote = remote;
}
