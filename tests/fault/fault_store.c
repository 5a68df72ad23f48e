/*
 * fault_store.c - store failures injected by a wrapping back end
 * (eris/sys/store_backend.h) around an honest in-memory store. Each test
 * makes the 1st, 2nd, ... call of one kind misbehave, until a run in
 * which nothing was injected succeeds:
 *   - get fails with ERIS_ERROR (an I/O error) or ERIS_ENOTFOUND: the
 *     decoder and eris_verify() report exactly that code;
 *   - get returns a short block: ERIS_EBLOCKSIZE (R2);
 *   - put fails with ERIS_ESTORE: the encoder reports ERIS_ESTORE and is
 *     failed from then on (ERIS_EFAILED).
 * A failed read never leaves unverified bytes in the caller's buffer.
 */
#include "clirun.h"
#include "decode_check.h"

#include <eris/eris.h>
#include <eris/sys/store_backend.h>

#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef enum { FAULT_NONE, FAULT_GET, FAULT_SHORT, FAULT_PUT } fault_kind;

typedef struct {
	eris_store_backend parent;
	eris_store *inner;  /* owned */
	fault_kind kind;
	int code;           /* what a failing get or put returns */
	unsigned long at;   /* the call to break, 1-based */
	unsigned long calls;
} faulty;

static int faulty_get(eris_store_backend *b, const uint8_t ref[ERIS_REF_BYTES],
		      uint8_t *buf, size_t buf_size, size_t *out_len)
{
	faulty *f = (faulty *)b;
	int hit = (f->kind == FAULT_GET || f->kind == FAULT_SHORT) &&
		  ++f->calls == f->at;
	int rc;

	if (hit && f->kind == FAULT_GET)
		return f->code == ERIS_ENOTFOUND
			       ? ERIS_ENOTFOUND
			       : eris_error_set(f->code, "injected get failure");
	rc = eris_store_get(f->inner, ref, buf, buf_size, out_len);
	if (rc == ERIS_OK && hit)
		*out_len /= 2; /* a short read: the first half only */
	return rc;
}

static int faulty_put(eris_store_backend *b, const uint8_t ref[ERIS_REF_BYTES],
		      const uint8_t *block, size_t len)
{
	faulty *f = (faulty *)b;

	if (f->kind == FAULT_PUT && ++f->calls == f->at)
		return eris_error_set(f->code, "injected put failure");
	return eris_store_put(f->inner, ref, block, len);
}

static void faulty_free(eris_store_backend *b)
{
	faulty *f = (faulty *)b;

	eris_store_free(f->inner);
	free(f);
}

/* A store over `inner` (taken); `*f` receives its back end. */
static eris_store *faulty_new(eris_store *inner, faulty **f)
{
	eris_store *s;

	*f = calloc(1, sizeof(**f));
	ck_assert_ptr_nonnull(*f);
	(*f)->parent.version = ERIS_STORE_BACKEND_VERSION;
	(*f)->parent.get = faulty_get;
	(*f)->parent.put = faulty_put;
	(*f)->parent.free = faulty_free;
	(*f)->inner = inner;
	ck_assert_int_eq(eris_store_new_from_backend(&s, &(*f)->parent),
			 ERIS_OK);
	return s;
}

static void arm(faulty *f, fault_kind kind, int code, unsigned long at)
{
	f->kind = kind;
	f->code = code;
	f->at = at;
	f->calls = 0;
}

/* ---- content ------------------------------------------------------------ */

#define CONTENT_LEN (40u * 1024u) /* 1 KiB blocks: a tree of level 2 */

static uint8_t *content;
static eris_read_cap cap;
static eris_store *store;
static faulty *f;

static void setup(void)
{
	eris_encode_options o = ERIS_ENCODE_OPTIONS_INIT;
	eris_store *mem;

	o.block_size = ERIS_BLOCK_SIZE_1K;
	content = clirun_random_bytes(CONTENT_LEN, 11);
	ck_assert_int_eq(eris_store_new_mem(&mem), ERIS_OK);
	store = faulty_new(mem, &f);
	ck_assert_int_eq(eris_encode(&cap, store, &o, content, CONTENT_LEN),
			 ERIS_OK);
	ck_assert_int_eq(cap.level, 2);
}

static void teardown(void)
{
	eris_store_free(store);
	free(content);
}

/* Open and read everything; on failure check that the buffer holds only
 * its marker or the right bytes. */
static int decode_all(void)
{
	return decode_check(store, &cap, content, CONTENT_LEN);
}

static int verify_all(void)
{
	return eris_verify(store, &cap, NULL, NULL, NULL);
}

/* Break the 1st, 2nd, ... get of `op` with `kind` until `op` succeeds;
 * every broken run must return `expect`. */
static void each_get(int (*op)(void), fault_kind kind, int code, int expect,
		     const char *what)
{
	for (unsigned long n = 1;; n++) {
		int rc;

		arm(f, kind, code, n);
		rc = op();
		if (f->calls < n) {
			ck_assert_msg(rc == ERIS_OK, "%s: %d (%s) with no fault",
				      what, rc, eris_error_last());
			ck_assert_uint_gt(n, 1);
			return;
		}
		ck_assert_msg(rc == expect,
			      "%s: get %lu broken, got %d (%s), expected %d",
			      what, n, rc, eris_error_last(), expect);
	}
}

START_TEST(get_error)
{
	each_get(decode_all, FAULT_GET, ERIS_ERROR, ERIS_ERROR, "decode");
	each_get(verify_all, FAULT_GET, ERIS_ERROR, ERIS_ERROR, "verify");
}
END_TEST

START_TEST(get_not_found)
{
	each_get(decode_all, FAULT_GET, ERIS_ENOTFOUND, ERIS_ENOTFOUND,
		 "decode");
	each_get(verify_all, FAULT_GET, ERIS_ENOTFOUND, ERIS_ENOTFOUND,
		 "verify");
	ck_assert_str_eq(eris_error_rule(ERIS_ENOTFOUND), "R1");
}
END_TEST

START_TEST(get_short)
{
	uint8_t block[ERIS_BLOCK_SIZE_MAX];
	size_t got = 0;

	each_get(decode_all, FAULT_SHORT, 0, ERIS_EBLOCKSIZE, "decode");
	each_get(verify_all, FAULT_SHORT, 0, ERIS_EBLOCKSIZE, "verify");
	/* eris_store_get() itself refuses the short block too. */
	arm(f, FAULT_SHORT, 0, 1);
	ck_assert_int_eq(eris_store_get(store, cap.root_ref, block,
					sizeof(block), &got),
			 ERIS_EBLOCKSIZE);
}
END_TEST

/* Encode into the faulty store with the n-th put failing. */
START_TEST(put_fails)
{
	eris_encode_options o = ERIS_ENCODE_OPTIONS_INIT;
	uint8_t other[ERIS_BLOCK_SIZE_1K];

	o.block_size = ERIS_BLOCK_SIZE_1K;
	memset(other, 7, sizeof(other));
	for (unsigned long n = 1;; n++) {
		eris_encoder *enc;
		eris_read_cap got;
		int rc = ERIS_OK;

		arm(f, FAULT_PUT, ERIS_ESTORE, n);
		ck_assert_int_eq(eris_encoder_new(&enc, store, &o), ERIS_OK);
		for (size_t off = 0; rc == ERIS_OK && off < CONTENT_LEN;
		     off += 4096)
			rc = eris_encoder_write(enc, content + off, 4096);
		if (rc == ERIS_OK)
			rc = eris_encoder_finish(&got, enc);
		if (f->calls < n) {
			ck_assert_int_eq(rc, ERIS_OK);
			ck_assert_uint_gt(n, 1);
			eris_encoder_free(enc);
			return;
		}
		ck_assert_msg(rc == ERIS_ESTORE, "put %lu broken, got %d (%s)",
			      n, rc, eris_error_last());
		/* Failed for good, even once the store works again. */
		arm(f, FAULT_NONE, 0, 0);
		ck_assert_int_eq(eris_encoder_write(enc, other, sizeof(other)),
				 ERIS_EFAILED);
		ck_assert_int_eq(eris_encoder_finish(&got, enc), ERIS_EFAILED);
		eris_encoder_free(enc);
	}
}
END_TEST

static Suite *fault_suite(void)
{
	Suite *s = suite_create("fault-store");
	TCase *tc = tcase_create("store");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 0);
	tcase_add_test(tc, get_error);
	tcase_add_test(tc, get_not_found);
	tcase_add_test(tc, get_short);
	tcase_add_test(tc, put_fails);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(fault_suite());
	int failed;

	srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
