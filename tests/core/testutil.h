/*
 * testutil.h - helpers shared by the core tests: a test store back end
 * that can be inspected, corrupted and made to fail, and content
 * generators.
 */
#ifndef ERIS_TESTUTIL_H
#define ERIS_TESTUTIL_H

#include <eris/eris.h>
#include <eris/sys/store_backend.h>

#include <check.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

/* The back end inside a store, to reach it past the store API's checks
 * (white-box tests of back ends: batched gets, corrupt blocks). The API
 * has no such call: the library keeps it private (liberis/internal.h). */
eris_store_backend *test_backend_of(eris_store *store);

/* Mark a store as remote, as the library marks network stores: the
 * decoder then fetches a batch of leaves ahead (liberis/internal.h). */
void test_store_set_remote(eris_store *store, int remote);

typedef struct {
	uint8_t ref[ERIS_REF_BYTES];
	uint8_t *data; /* NULL = empty slot */
	size_t len;
} test_block;

/* A store back end whose blocks the test can see and change. */
typedef struct {
	eris_store_backend parent;
	test_block *slots;
	size_t capacity, count;
	_Atomic uint64_t gets; /* decoders may get from several threads */
	/* Gets on another thread than the one that made the store. */
	_Atomic uint64_t foreign_gets;
	pthread_t owner;
	uint64_t puts;
	/* Fail the Nth get/put (1-based) with ERIS_ERROR; 0 = never. */
	uint64_t fail_get_at, fail_put_at;
	/* Fail the Nth get_many call as a whole with ERIS_ESTORE, as a
	 * store that went down mid-way; 0 = never. */
	_Atomic uint64_t get_many_calls;
	uint64_t fail_get_many_at;
	/* The reference of every put, in order, repeats included. */
	uint8_t (*put_log)[ERIS_REF_BYTES];
	size_t put_log_len, put_log_cap;
} test_store;

/* Create a test store; *out_backend stays valid while the store lives. */
eris_store *test_store_new(test_store **out_backend);

/* The i-th stored block in slot order (0 <= i < count). */
test_block *test_store_block(test_store *ts, size_t i);

/* Find a block by reference, or NULL. */
test_block *test_store_find(test_store *ts, const uint8_t *ref);

/* Remove a block (it becomes missing). */
void test_store_remove(test_store *ts, const uint8_t *ref);

/* Deterministic pseudo-random bytes from a seed (ChaCha20 keystream). */
void fill_random(uint8_t *buf, size_t len, uint64_t seed, uint64_t offset);

/* Decode base32 of any length (as in the vector files); malloc'd. */
uint8_t *base32_decode_alloc(const char *s, size_t *out_len);

/* Assert that `rc` equals `expected`, printing the library message. */
#define ck_assert_eris(rc, expected)                                        \
	ck_assert_msg((rc) == (expected), "got %d (%s), expected %d (%s): %s", \
		      (rc), eris_strerror(rc), (expected),                   \
		      eris_strerror(expected), eris_error_last())

/* Assert two capabilities are equal, field by field (the struct has
 * padding). */
#define ck_assert_cap_eq(a, b)                                               \
	do {                                                                 \
		ck_assert_uint_eq((a).block_size, (b).block_size);           \
		ck_assert_uint_eq((a).level, (b).level);                     \
		ck_assert_mem_eq((a).root_ref, (b).root_ref, 32);            \
		ck_assert_mem_eq((a).root_key, (b).root_key, 32);            \
	} while (0)

/* Configure liberis from the environment as the programs do (progenv.h),
 * then run a suite; returns the process exit code (2: the environment
 * holds an unknown name). */
int run_suite(Suite *s);

#endif
