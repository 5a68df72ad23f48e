/*
 * blake2b.c - liberis' own BLAKE2b (portable, AVX2 4-way, AVX-512 8-way)
 * against libsodium, bit for bit: every path the CPU has, forced in turn;
 * keyed and unkeyed; one input and many at once; lengths around every
 * 128-byte block boundary plus the two ERIS block sizes; random inputs.
 * Links the static library for the internal interface (crypto/crypto.h).
 */
#include "testutil.h"

#include "crypto/crypto.h"

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

int main(void)
{
	Suite *s = suite_create("blake2b");
	TCase *tc = tcase_create("blake2b");

	if (sodium_init() < 0)
		return 1;
	for (int i = 0; i < MAX_INPUTS; i++)
		inputs[i] = malloc(32768);
	tcase_set_timeout(tc, 120);
	/* Only the paths this CPU has are tested; the others are named, not
	 * counted as passed. */
	int widest = ERIS__B2B_REF;

	while (widest < ERIS__B2B_AVX512 && eris__blake2b_force(widest + 1))
		widest++;
	eris__blake2b_force(-1);
	for (int p = widest + 1; p <= ERIS__B2B_AVX512; p++)
		printf("blake2b path %d: not supported by this CPU, NOT "
		       "tested\n", p);
	tcase_add_loop_test(tc, test_path, ERIS__B2B_REF, widest + 1);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
