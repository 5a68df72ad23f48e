/*
 * test_cjson_missing.c - the manifest reader where libcjson cannot be
 * loaded. This test's copy of manifest/cjson_load.c is compiled to open
 * a library that does not exist (libcjson-missing.so.0, see
 * CMakeLists.txt): JSON manifests fail with the message naming the
 * library and its package, every time, and plain-text lists, which need
 * no libcjson, still read.
 */
#include "eris_manifest.h"

#include <eris/encode.h>
#include <eris/urn.h>

#include <check.h>
#include <stdio.h>
#include <string.h>

#define WANT_PREFIX "reading manifests needs libcjson-missing.so.0 " \
		    "(Debian package libcjson-missing0): "

static char urn[ERIS_URN_BUFSIZE];

static void setup(void)
{
	eris_read_cap cap;

	ck_assert_int_eq(eris_encode(&cap, NULL, NULL, "library a", 9), 0);
	ck_assert_int_eq(eris_urn_format(urn, &cap), 0);
}

static void assert_missing_message(void)
{
	const char *err = eris_manifest_error();

	ck_assert_msg(strncmp(err, WANT_PREFIX, strlen(WANT_PREFIX)) == 0,
		      "message: %s", err);
	/* ... followed by dlerror()'s reason. */
	ck_assert_msg(strstr(err + strlen(WANT_PREFIX),
			     "libcjson-missing.so.0: cannot open shared "
			     "object file") != NULL, "message: %s", err);
}

static void no_dup(const char *name, const char *kept, const char *dropped,
		   size_t line, void *payload)
{
	(void)name, (void)kept, (void)dropped, (void)line, (void)payload;
}

START_TEST(json_needs_libcjson)
{
	char json[512];
	eris_manifest *m = (eris_manifest *)1;

	snprintf(json, sizeof(json),
		 "{\"/lib/liba.so\": {\"cap\": \"%s\", \"closure\": {}}}", urn);
	ck_assert_int_eq(eris_manifest_read_mem(&m, json, strlen(json)), -1);
	ck_assert_ptr_null(m);
	assert_missing_message();
	/* Loading is tried once per process; the answer stays the same. */
	ck_assert_int_eq(eris_manifest_read_mem_first(&m, json, strlen(json),
						      no_dup, NULL), -1);
	assert_missing_message();
}
END_TEST

START_TEST(text_needs_no_libcjson)
{
	char text[512];
	eris_manifest *m = NULL;

	snprintf(text, sizeof(text), "liba.so %s\n", urn);
	ck_assert_msg(eris_manifest_read_mem(&m, text, strlen(text)) == 0,
		      "%s", eris_manifest_error());
	ck_assert_uint_eq(eris_manifest_count(m), 1);
	ck_assert_str_eq(eris_manifest_name(m, 0), "liba.so");
	ck_assert_str_eq(eris_manifest_urn(m, 0), urn);
	eris_manifest_free(m);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("manifest_cjson_missing");
	TCase *tc = tcase_create("cjson_missing");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, json_needs_libcjson);
	tcase_add_test(tc, text_needs_no_libcjson);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
