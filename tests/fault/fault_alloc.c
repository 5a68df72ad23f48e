/*
 * fault_alloc.c - allocation failures, in the spirit of SQLite's malloc
 * hooks. This program links a copy of the static library in which
 * malloc, calloc, realloc, strdup and free are renamed (objcopy
 * --redefine-sym) to the fault_* functions below. Each test runs one
 * operation again and again, making the 1st, 2nd, ... allocation of the
 * library fail, until a run makes no allocation fail; then the operation
 * must succeed. Every failing run must
 *   - return ERIS_ENOMEM (nothing else),
 *   - leave no allocation of the library alive once the caller has freed
 *     what it holds (counted here, and checked by LeakSanitizer too),
 *   - never hand out bytes that were not verified.
 * Allocations of other libraries (sqlite3, libcbor, libsodium) are not
 * counted and never fail.
 */
#include "clirun.h"
#include "decode_check.h"

#include <eris/eris.h>

#include <check.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- the hooks ---------------------------------------------------------- */

void *fault_malloc(size_t size);
void *fault_calloc(size_t n, size_t size);
void *fault_realloc(void *p, size_t size);
char *fault_strdup(const char *s);
void fault_free(void *p);

static unsigned long fail_at; /* the allocation to fail, 1-based; 0: none */
static unsigned long calls;   /* allocations so far in this run */
static long live;             /* allocations not yet freed */

/* 1 if this allocation is the one to fail. */
static int should_fail(void)
{
	return ++calls == fail_at;
}

void *fault_malloc(size_t size)
{
	void *p = should_fail() ? NULL : malloc(size);

	live += p != NULL;
	return p;
}

void *fault_calloc(size_t n, size_t size)
{
	void *p = should_fail() ? NULL : calloc(n, size);

	live += p != NULL;
	return p;
}

void *fault_realloc(void *p, size_t size)
{
	void *q;

	if (should_fail())
		return NULL;
	q = realloc(p, size);
	if (p == NULL && q != NULL)
		live++;
	return q;
}

char *fault_strdup(const char *s)
{
	char *p = should_fail() ? NULL : strdup(s);

	live += p != NULL;
	return p;
}

void fault_free(void *p)
{
	live -= p != NULL;
	free(p);
}

/*
 * Run `op` with the 1st, 2nd, ... allocation failing until it succeeds.
 * `op` returns ERIS_OK or an error code and frees everything it made.
 */
static void each_failure(const char *what, int (*op)(void *), void *arg)
{
	for (unsigned long n = 1;; n++) {
		int rc;

		calls = 0;
		live = 0;
		fail_at = n;
		eris_error_clear();
		rc = op(arg);
		fail_at = 0;
		ck_assert_msg(live == 0,
			      "%s: %ld allocation(s) leaked when allocation "
			      "%lu failed",
			      what, live, n);
		if (calls < n) {
			ck_assert_msg(rc == ERIS_OK,
				      "%s: failed with %d (%s) without an "
				      "allocation failure",
				      what, rc, eris_error_last());
			ck_assert_msg(n > 1, "%s allocates nothing", what);
			return;
		}
		ck_assert_msg(rc == ERIS_ENOMEM,
			      "%s: allocation %lu failed, got %d (%s), not "
			      "ERIS_ENOMEM",
			      what, n, rc, eris_error_last());
	}
}

/* ---- content shared by the tests ---------------------------------------- */

/* 40 KiB with 1 KiB blocks: a tree of level 2, so nodes at every level. */
#define CONTENT_LEN (40u * 1024u)

static uint8_t *content;
static eris_read_cap cap;
static eris_store *honest; /* holds the content's blocks */
static char tmp[1024];

static void setup(void)
{
	eris_encode_options o = ERIS_ENCODE_OPTIONS_INIT;

	o.block_size = ERIS_BLOCK_SIZE_1K;
	content = clirun_random_bytes(CONTENT_LEN, 8);
	ck_assert_int_eq(eris_store_new_mem(&honest), ERIS_OK);
	ck_assert_int_eq(eris_encode(&cap, honest, &o, content, CONTENT_LEN),
			 ERIS_OK);
	ck_assert_int_eq(cap.level, 2);
	clirun_make_temp_dir(tmp, 900, "eris-fault");
}

static void teardown(void)
{
	eris_store_free(honest);
	free(content);
	clirun_remove_tree(tmp);
}

/* Copy every block of `from` into `to`. */
static int copy_block(const uint8_t ref[ERIS_REF_BYTES], size_t len,
		      void *payload)
{
	uint8_t block[ERIS_BLOCK_SIZE_MAX];
	size_t got;
	int rc = eris_store_get(honest, ref, block, sizeof(block), &got);

	(void)len;
	if (rc == ERIS_OK)
		rc = eris_store_put(payload, ref, block, got);
	return rc;
}

/* ---- encoder ------------------------------------------------------------ */

static int op_encode(void *arg)
{
	eris_encode_options o = ERIS_ENCODE_OPTIONS_INIT;
	eris_encoder *enc = NULL;
	eris_read_cap got;
	eris_store *s = NULL;
	int rc;

	(void)arg;
	o.block_size = ERIS_BLOCK_SIZE_1K;
	rc = eris_store_new_mem(&s);
	if (rc == ERIS_OK)
		rc = eris_encoder_new(&enc, s, &o);
	for (size_t off = 0; rc == ERIS_OK && off < CONTENT_LEN; off += 3000)
		rc = eris_encoder_write(enc, content + off,
					CONTENT_LEN - off < 3000 ? CONTENT_LEN - off
								 : 3000);
	if (rc == ERIS_OK)
		rc = eris_encoder_finish(&got, enc);
	if (rc == ERIS_OK)
		ck_assert_mem_eq(got.root_ref, cap.root_ref, ERIS_REF_BYTES);
	eris_encoder_free(enc);
	eris_store_free(s);
	return rc;
}

START_TEST(encode_nomem)
{
	each_failure("encode", op_encode, NULL);
}
END_TEST

/* ---- decoder and verify ------------------------------------------------- */

/* Reads the whole content into a buffer filled with a marker first; after
 * a failure every byte must still be the marker or the right byte. */
static int op_decode(void *arg)
{
	(void)arg;
	return decode_check(honest, &cap, content, CONTENT_LEN);
}

START_TEST(decode_nomem)
{
	each_failure("decode", op_decode, NULL);
}
END_TEST

static int op_verify(void *arg)
{
	uint64_t blocks = 0;
	int rc = eris_verify(honest, &cap, &blocks, NULL, NULL);

	(void)arg;
	if (rc == ERIS_OK)
		ck_assert_uint_gt(blocks, CONTENT_LEN / 1024);
	return rc;
}

START_TEST(verify_nomem)
{
	each_failure("verify", op_verify, NULL);
}
END_TEST

/* ---- stores ------------------------------------------------------------- */

/* Open `spec`, fill it with the content's blocks, read one back, decode
 * through it, free it. The spec names a fresh location per run. */
static int op_store(void *arg)
{
	const char *kind = arg;
	static unsigned run;
	char spec[2400];
	eris_store *s = NULL;
	uint8_t block[ERIS_BLOCK_SIZE_MAX];
	size_t got;
	int rc;

	run++;
	if (strcmp(kind, "mem") == 0)
		snprintf(spec, sizeof(spec), "mem:");
	else if (strcmp(kind, "cache") == 0)
		snprintf(spec, sizeof(spec), "cache:mem:,dir:%s/c%u", tmp, run);
	else if (strcmp(kind, "fallback") == 0)
		snprintf(spec, sizeof(spec), "fallback:mem:,dir:%s/f%u", tmp,
			 run);
	else
		snprintf(spec, sizeof(spec), "%s:%s/%s%u", kind, tmp, kind, run);
	rc = eris_store_open(&s, spec, 1);
	if (rc == ERIS_OK)
		rc = eris_store_foreach(honest, copy_block, s);
	if (rc == ERIS_OK)
		rc = eris_store_flush(s);
	if (rc == ERIS_OK)
		rc = eris_store_get(s, cap.root_ref, block, sizeof(block), &got);
	if (rc == ERIS_OK) {
		rc = eris_store_has(s, cap.root_ref);
		if (rc == 1)
			rc = ERIS_OK;
		else if (rc == 0)
			ck_abort_msg("%s: the root block went missing", kind);
	}
	if (rc == ERIS_OK)
		rc = eris_verify(s, &cap, NULL, NULL, NULL);
	eris_store_free(s);
	return rc;
}

START_TEST(store_nomem)
{
	static const char *const kinds[] = { "mem",   "dir",	  "sqlite",
					     "cache", "fallback" };

	each_failure(kinds[_i], op_store, (void *)kinds[_i]);
}
END_TEST

/* ---- bundles ------------------------------------------------------------ */

typedef struct {
	eris_bundle_writer *w;
	int rc;
} writing;

static int add_block(const uint8_t ref[ERIS_REF_BYTES], size_t len,
		     void *payload)
{
	writing *wr = payload;
	uint8_t block[ERIS_BLOCK_SIZE_MAX];
	size_t got;
	int rc = eris_store_get(honest, ref, block, sizeof(block), &got);

	(void)len;
	if (rc == ERIS_OK)
		rc = eris_bundle_writer_add_block(wr->w, ref, block, got);
	return rc;
}

/* Write the content's blocks and capability to a bundle, then open it,
 * verify it and decode through it. */
static int op_bundle(void *arg)
{
	const char *path = clirun_path(tmp, "b.cbor");
	uint64_t unique = *(const uint64_t *)arg;
	writing wr = { NULL, ERIS_OK };
	eris_bundle *b = NULL;
	eris_store *s = NULL;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	int rc;

	ck_assert_int_ge(fd, 0);
	rc = eris_bundle_writer_new(&wr.w, fd, unique, 1);
	if (rc == ERIS_OK)
		rc = eris_store_foreach(honest, add_block, &wr);
	if (rc == ERIS_OK)
		rc = eris_bundle_writer_add_cap(wr.w, &cap);
	if (rc == ERIS_OK)
		rc = eris_bundle_writer_finish(wr.w);
	eris_bundle_writer_free(wr.w);
	close(fd);
	if (rc == ERIS_OK)
		rc = eris_bundle_open(&b, path, ERIS_BUNDLE_VERIFY);
	if (rc == ERIS_OK) {
		ck_assert_uint_eq(eris_bundle_block_count(b), unique);
		rc = eris_store_new_bundle(&s, b);
	}
	if (rc == ERIS_OK)
		rc = eris_verify(s, &cap, NULL, NULL, NULL);
	eris_store_free(s);
	eris_bundle_free(b);
	return rc;
}

static int count_one(const uint8_t ref[ERIS_REF_BYTES], size_t len,
		     void *payload)
{
	(void)ref;
	(void)len;
	++*(uint64_t *)payload;
	return 0;
}

START_TEST(bundle_nomem)
{
	uint64_t unique = 0;

	ck_assert_int_eq(eris_store_foreach(honest, count_one, &unique),
			 ERIS_OK);
	each_failure("bundle", op_bundle, &unique);
}
END_TEST

/* ---- link files --------------------------------------------------------- */

static int op_link(void *arg)
{
	eris_link in = { 0 }, *out = NULL;
	uint8_t buf[512];
	size_t n = 0;
	int rc;

	(void)arg;
	in.cap = cap;
	in.size = CONTENT_LEN;
	in.mime = "text/plain";
	rc = eris_link_encode(buf, sizeof(buf), &n, &in);
	if (rc == ERIS_OK)
		rc = eris_link_decode(&out, buf, n);
	if (rc == ERIS_OK) {
		ck_assert_uint_eq(out->size, CONTENT_LEN);
		ck_assert_str_eq(out->mime, "text/plain");
	}
	eris_link_free(out);
	return rc;
}

START_TEST(link_nomem)
{
	each_failure("link", op_link, NULL);
}
END_TEST

static Suite *fault_suite(void)
{
	Suite *s = suite_create("fault-alloc");
	TCase *tc = tcase_create("alloc");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 0);
	tcase_add_test(tc, encode_nomem);
	tcase_add_test(tc, decode_nomem);
	tcase_add_test(tc, verify_nomem);
	tcase_add_loop_test(tc, store_nomem, 0, 5);
	tcase_add_test(tc, bundle_nomem);
	tcase_add_test(tc, link_nomem);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(fault_suite());
	int failed;

	/* One process, so that LeakSanitizer sees every run at exit. */
	srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
