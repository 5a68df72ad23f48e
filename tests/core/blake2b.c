/*
 * blake2b.c - liberis' own BLAKE2b (portable, AVX2 4-way, AVX-512 8-way)
 * against libsodium, bit for bit: every path the CPU has, forced in turn;
 * keyed and unkeyed; one input and many at once; lengths around every
 * 128-byte block boundary plus the two ERIS block sizes; random inputs.
 * And eris_configure(): its BLAKE2b limit, its checks, its module path.
 * Links the static library for the internal interface (crypto/crypto.h).
 *
 * Usage: test_blake2b [expect PATH]
 * With "expect portable|avx2|avx512" it checks only that the program's
 * environment (ERIS_BLAKE2B, read as the programs read it: progenv.h)
 * selected that path.
 */
#include "testutil.h"

#include "crypto/crypto.h"
#include "internal.h"
#include "progenv.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const size_t lengths[] = { 0,   1,   63,  64,   65,   127,  128,
				  129, 255, 256, 257,  1000, 1024, 4096,
				  5000, 32768 };

#define NLEN (sizeof(lengths) / sizeof(lengths[0]))
#define MAX_INPUTS 19

static uint8_t *inputs[MAX_INPUTS];
static int widest = ERIS__B2B_REF; /* the widest path this CPU has */

static const char *const path_names[] = { "portable", "avx2 (4 lanes)",
					  "avx512 (8 lanes)" };

static void reference(uint8_t out[32], const uint8_t *in, size_t len,
		      const uint8_t *key)
{
	crypto_generichash_blake2b(out, 32, in, len, key, key ? 32 : 0);
}

START_TEST(test_path)
{
	int path = _i; /* ERIS__B2B_REF, _AVX2, _AVX512 */
	uint8_t key[32], want[32], got[32], many[MAX_INPUTS][32];
	eris__blake2b_key k;

	ck_assert(eris__blake2b_force(path));
	printf("blake2b path %d: %s\n", path, eris__blake2b_path());
	for (int round = 0; round < 4; round++) {
		fill_random(key, sizeof(key), 1000 + (uint64_t)round, 0);
		if (round == 0)
			memset(key, 0, sizeof(key)); /* the null secret */
		eris__blake2b_key_init(&k, key);
		for (size_t l = 0; l < NLEN; l++) {
			size_t len = lengths[l];

			for (int i = 0; i < MAX_INPUTS; i++)
				fill_random(inputs[i], len,
					    (uint64_t)(round * 100 + i), len);
			/* one at a time */
			reference(want, inputs[0], len, NULL);
			eris__blake2b(got, inputs[0], len);
			ck_assert_mem_eq(got, want, 32);
			reference(want, inputs[0], len, key);
			eris__blake2b_keyed(got, inputs[0], len, key);
			ck_assert_mem_eq(got, want, 32);
			eris__blake2b_keyed_with(got, &k, inputs[0], len);
			ck_assert_mem_eq(got, want, 32);
			/* n at once, for every n, keyed and not */
			for (size_t n = 0; n <= MAX_INPUTS; n++) {
				for (int keyed = 0; keyed < 2; keyed++) {
					eris__blake2b_many(
						(const uint8_t *const *)inputs,
						n, len, keyed ? &k : NULL, many);
					for (size_t i = 0; i < n; i++) {
						reference(want, inputs[i], len,
							  keyed ? key : NULL);
						ck_assert_msg(
							memcmp(many[i], want,
							       32) == 0,
							"path %d len %zu n %zu "
							"input %zu keyed %d",
							path, len, n, i, keyed);
					}
				}
			}
		}
	}
	eris__blake2b_force(-1);
}
END_TEST

static int configure_b2b(const char *name)
{
	eris_config cfg = ERIS_CONFIG_INIT;

	cfg.blake2b = name;
	return eris_configure(&cfg);
}

/* The limit narrows and never widens; "" and NULL are the default. */
START_TEST(test_configure_limit)
{
	static const char *const names[] = { "portable", "avx2", "avx512" };

	ck_assert_eris(eris_configure(NULL), ERIS_OK);
	ck_assert_str_eq(eris__blake2b_path(), path_names[widest]);
	for (int p = ERIS__B2B_REF; p <= ERIS__B2B_AVX512; p++) {
		ck_assert_eris(configure_b2b(names[p]), ERIS_OK);
		ck_assert_str_eq(eris__blake2b_path(),
				 path_names[p < widest ? p : widest]);
	}
	ck_assert_eris(configure_b2b("portable"), ERIS_OK);
	ck_assert_str_eq(eris__blake2b_path(), "portable");
	/* A forced path wins over the limit, until released. */
	ck_assert(eris__blake2b_force(widest));
	ck_assert_str_eq(eris__blake2b_path(), path_names[widest]);
	eris__blake2b_force(-1);
	ck_assert_str_eq(eris__blake2b_path(), "portable");
	ck_assert_eris(configure_b2b(""), ERIS_OK);
	ck_assert_str_eq(eris__blake2b_path(), path_names[widest]);
	ck_assert_eris(configure_b2b("portable"), ERIS_OK);
	ck_assert_eris(eris_configure(NULL), ERIS_OK);
	ck_assert_str_eq(eris__blake2b_path(), path_names[widest]);
}
END_TEST

/* Unknown names and versions are refused, naming the valid ones, and
 * change nothing. */
START_TEST(test_configure_invalid)
{
	eris_config cfg = ERIS_CONFIG_INIT;
	char path[ERIS_CONFIG_MODULE_PATH_MAX + 1];

	cfg.blake2b = "portable";
	cfg.module_path = "/m1:/m2";
	ck_assert_eris(eris_configure(&cfg), ERIS_OK);

	ck_assert_eris(configure_b2b("AVX2"), ERIS_EINVAL);
	ck_assert_ptr_nonnull(
		strstr(eris_error_last(), "valid: portable, avx2, avx512"));
	cfg.blake2b = NULL;
	cfg.chacha20 = "avx512";
	ck_assert_eris(eris_configure(&cfg), ERIS_EINVAL);
	ck_assert_ptr_nonnull(strstr(eris_error_last(), "valid: libsodium"));
	cfg.chacha20 = NULL;
	cfg.version = 0;
	ck_assert_eris(eris_configure(&cfg), ERIS_EINVAL);
	ck_assert_ptr_nonnull(strstr(eris_error_last(), "version 0"));
	cfg.version = ERIS_CONFIG_VERSION + 1;
	ck_assert_eris(eris_configure(&cfg), ERIS_EINVAL);
	cfg.version = ERIS_CONFIG_VERSION;
	memset(path, 'a', sizeof(path) - 1);
	path[ERIS_CONFIG_MODULE_PATH_MAX] = '\0'; /* one byte too long */
	cfg.module_path = path;
	ck_assert_eris(eris_configure(&cfg), ERIS_EINVAL);
	ck_assert_ptr_nonnull(strstr(eris_error_last(), "module path"));
	/* Relative directories would depend on the working directory. */
	cfg.module_path = "/m1:m2";
	ck_assert_eris(eris_configure(&cfg), ERIS_EINVAL);
	ck_assert_ptr_nonnull(strstr(eris_error_last(), "must be absolute"));
	cfg.module_path = "./m1";
	ck_assert_eris(eris_configure(&cfg), ERIS_EINVAL);

	/* Still the configuration that succeeded. */
	ck_assert_str_eq(eris__blake2b_path(), "portable");
	ck_assert_uint_eq(eris__config_module_path(path, sizeof(path)), 7);
	ck_assert_str_eq(path, "/m1:/m2");

	/* The longest allowed path is kept whole; NULL and "" are none. */
	memset(path, 'b', ERIS_CONFIG_MODULE_PATH_MAX - 1);
	path[0] = '/';
	path[ERIS_CONFIG_MODULE_PATH_MAX - 1] = '\0';
	cfg.module_path = path;
	ck_assert_eris(eris_configure(&cfg), ERIS_OK);
	memset(path, 0, sizeof(path));
	ck_assert_uint_eq(eris__config_module_path(path, sizeof(path)),
			  ERIS_CONFIG_MODULE_PATH_MAX - 1);
	ck_assert_uint_eq(strlen(path), ERIS_CONFIG_MODULE_PATH_MAX - 1);
	cfg.module_path = "";
	ck_assert_eris(eris_configure(&cfg), ERIS_OK);
	ck_assert_uint_eq(eris__config_module_path(path, sizeof(path)), 0);
	ck_assert_str_eq(path, "");
	ck_assert_eris(eris_configure(NULL), ERIS_OK);
	ck_assert_uint_eq(eris__config_module_path(path, sizeof(path)), 0);
}
END_TEST

/* "expect NAME": the environment, read by progenv_configure() as the
 * programs do, must have narrowed the path to NAME (or to the widest this
 * CPU has, if narrower). Fails if the variable is ignored. */
static int expect_env(const char *name)
{
	int p;

	for (p = ERIS__B2B_AVX512; p > ERIS__B2B_REF; p--)
		if (strncmp(path_names[p], name, strlen(name)) == 0)
			break;
	if (p > widest)
		p = widest;
	if (progenv_configure("test_blake2b") != ERIS_OK)
		return 1;
	printf("ERIS_BLAKE2B=%s: %s\n",
	       getenv("ERIS_BLAKE2B") ? getenv("ERIS_BLAKE2B") : "(unset)",
	       eris__blake2b_path());
	if (strcmp(eris__blake2b_path(), path_names[p]) != 0) {
		fprintf(stderr, "expected BLAKE2b path %s\n", path_names[p]);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	Suite *s;
	TCase *tc;

	if (sodium_init() < 0)
		return 1;
	while (widest < ERIS__B2B_AVX512 && eris__blake2b_force(widest + 1))
		widest++;
	eris__blake2b_force(-1);
	if (argc == 3 && strcmp(argv[1], "expect") == 0)
		return expect_env(argv[2]);
	if (argc != 1) {
		fprintf(stderr, "usage: %s [expect PATH]\n", argv[0]);
		return 2;
	}
	/* Only now: the other modes return without running a suite. */
	s = suite_create("blake2b");
	tc = tcase_create("blake2b");
	for (int i = 0; i < MAX_INPUTS; i++)
		inputs[i] = malloc(32768);
	tcase_set_timeout(tc, 120);
	/* Only the paths this CPU has are tested; the others are named, not
	 * counted as passed. */
	for (int p = widest + 1; p <= ERIS__B2B_AVX512; p++)
		printf("blake2b path %d: not supported by this CPU, NOT "
		       "tested\n", p);
	tcase_add_loop_test(tc, test_path, ERIS__B2B_REF, widest + 1);
	tcase_add_test(tc, test_configure_limit);
	tcase_add_test(tc, test_configure_invalid);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
