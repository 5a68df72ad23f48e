/*
 * test_default_store.c - unit tests of cli/default_store.c, the rule that
 * picks the store the programs use when none is named: $ERIS_STORE, then
 * $XDG_DATA_HOME (absolute only), then $HOME; empty variables count as
 * unset, and a result that does not fit is refused.
 */
#include "default_store.h"

#include <check.h>

#include <stdlib.h>
#include <string.h>

static void env(const char *store, const char *xdg, const char *home)
{
	const char *names[] = { "ERIS_STORE", "XDG_DATA_HOME", "HOME" };
	const char *values[] = { store, xdg, home };

	for (int i = 0; i < 3; i++) {
		if (values[i])
			ck_assert_int_eq(setenv(names[i], values[i], 1), 0);
		else
			ck_assert_int_eq(unsetenv(names[i]), 0);
	}
}

START_TEST(test_order)
{
	char spec[600];

	env("mem:", "/data", "/home/u");
	ck_assert_ptr_null(default_store_spec(spec, sizeof(spec)));
	ck_assert_str_eq(spec, "mem:");

	env("", "/data", "/home/u"); /* empty: unset */
	ck_assert_ptr_null(default_store_spec(spec, sizeof(spec)));
	ck_assert_str_eq(spec, "sqlite:/data/eris/store.sqlite");

	env(NULL, "data", "/home/u"); /* relative: ignored */
	ck_assert_ptr_null(default_store_spec(spec, sizeof(spec)));
	ck_assert_str_eq(spec, "sqlite:/home/u/.local/share/eris/store.sqlite");

	env(NULL, NULL, "/home/u");
	ck_assert_ptr_null(default_store_spec(spec, sizeof(spec)));
	ck_assert_str_eq(spec, "sqlite:/home/u/.local/share/eris/store.sqlite");
}
END_TEST

START_TEST(test_none)
{
	char spec[600];
	const char *why;

	env(NULL, NULL, NULL);
	why = default_store_spec(spec, sizeof(spec));
	ck_assert_ptr_nonnull(why);
	ck_assert_ptr_nonnull(strstr(why, "ERIS_STORE"));
	env("", "relative", "");
	why = default_store_spec(spec, sizeof(spec));
	ck_assert_ptr_nonnull(why);
	ck_assert_ptr_nonnull(strstr(why, "no default store"));
}
END_TEST

START_TEST(test_fit)
{
	static const char want[] = "sqlite:/d/eris/store.sqlite";
	char spec[sizeof(want)];
	const char *why;

	env(NULL, "/d", NULL);
	ck_assert_ptr_null(default_store_spec(spec, sizeof(want)));
	ck_assert_str_eq(spec, want);
	why = default_store_spec(spec, sizeof(want) - 1);
	ck_assert_ptr_nonnull(why);
	ck_assert_ptr_nonnull(strstr(why, "too long"));
	env("mem:", NULL, NULL);
	ck_assert_ptr_nonnull(default_store_spec(spec, 4));
	ck_assert_ptr_null(default_store_spec(spec, 5));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("default_store");
	TCase *tc = tcase_create("default_store");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_order);
	tcase_add_test(tc, test_none);
	tcase_add_test(tc, test_fit);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
