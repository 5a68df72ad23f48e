/*
 * chacha20.c - liberis' AVX-512 ChaCha20 (16 blocks at a time) against
 * libsodium's, bit for bit: random keys, nonces, starting counters and
 * lengths (whole kilobytes and ragged ones, finished by libsodium as
 * eris__chacha20 does), in place and not; and eris__chacha20 itself, with
 * the ERIS nonce (level in byte 0), on the two block sizes. Links the
 * static library for the internal interface (crypto/crypto.h).
 *
 * And eris_configure()'s "libsodium" choice.
 *
 * Usage: test_chacha20 [libsodium]
 * With "libsodium", $ERIS_CHACHA20=libsodium is expected to be set (read
 * as the programs read it: progenv.h) and eris__chacha20 must be using
 * libsodium. Exits 77 (skipped) where the CPU has no AVX-512F.
 */
#include "testutil.h"

#include "crypto/crypto.h"
#include "progenv.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LEN (40u * 1024u)

#ifdef ERIS__CHACHA20_HAVE_AVX512
/* out = in XOR keystream from `counter`, the way crypto.c uses the AVX-512
 * code: whole kilobytes by it, the rest by libsodium. */
static void ours(uint8_t *out, const uint8_t *in, size_t len,
		 const uint8_t key[32], const uint8_t nonce[12],
		 uint32_t counter)
{
	size_t done = eris__chacha20_x16_avx512(out, in, len, key, nonce,
						counter);

	ck_assert_uint_eq(done, len / 1024 * 1024);
	if (done < len)
		crypto_stream_chacha20_ietf_xor_ic(out + done, in + done,
						   len - done, nonce,
						   counter + (uint32_t)(done / 64),
						   key);
}

START_TEST(test_random)
{
	uint8_t key[32], nonce[12];
	uint8_t *in = malloc(MAX_LEN), *want = malloc(MAX_LEN),
		*got = malloc(MAX_LEN);

	ck_assert(in && want && got);
	for (int i = 0; i < 500; i++) {
		size_t len = i % 3 == 0 ? 1024 * (1 + randombytes_uniform(40))
					: randombytes_uniform(MAX_LEN + 1);
		/* Room for len / 64 + 1 blocks below 2^32. */
		uint32_t counter = i % 4 == 0 ? 0
					      : randombytes_uniform(
							UINT32_MAX - 1024);

		randombytes_buf(key, sizeof(key));
		randombytes_buf(nonce, sizeof(nonce));
		randombytes_buf(in, len);
		crypto_stream_chacha20_ietf_xor_ic(want, in, len, nonce,
						   counter, key);
		ours(got, in, len, key, nonce, counter);
		ck_assert_msg(memcmp(got, want, len) == 0,
			      "len %zu counter %u differs", len, counter);
		/* In place. */
		memcpy(got, in, len);
		ours(got, got, len, key, nonce, counter);
		ck_assert_msg(memcmp(got, want, len) == 0,
			      "in place, len %zu counter %u differs", len,
			      counter);
	}
	free(in);
	free(want);
	free(got);
}
END_TEST
#endif

/* eris__chacha20 (whatever path it uses) equals libsodium with the ERIS
 * nonce. */
START_TEST(test_eris_nonce)
{
	static const size_t sizes[] = { 1024, 32768, 1000, 5 };
	uint8_t key[32], nonce[12] = { 0 };
	uint8_t *in = malloc(MAX_LEN), *want = malloc(MAX_LEN),
		*got = malloc(MAX_LEN);

	ck_assert(in && want && got);
	for (int i = 0; i < 64; i++) {
		size_t len = sizes[i % 4];
		uint8_t level = (uint8_t)randombytes_uniform(256);

		randombytes_buf(key, sizeof(key));
		randombytes_buf(in, len);
		nonce[0] = level;
		crypto_stream_chacha20_ietf_xor_ic(want, in, len, nonce, 0,
						   key);
		eris__chacha20(got, in, len, key, level);
		ck_assert_msg(memcmp(got, want, len) == 0,
			      "len %zu level %u differs (%s)", len, level,
			      eris__chacha20_path());
	}
	free(in);
	free(want);
	free(got);
}
END_TEST

#ifdef ERIS__CHACHA20_HAVE_AVX512
/* "libsodium" switches to libsodium, NULL back; both give the same
 * bytes (test_eris_nonce checks each). */
START_TEST(test_configure)
{
	eris_config cfg = ERIS_CONFIG_INIT;

	ck_assert_eris(eris_configure(NULL), ERIS_OK);
	ck_assert_str_eq(eris__chacha20_path(), "avx512 (16 blocks)");
	cfg.chacha20 = "libsodium";
	ck_assert_eris(eris_configure(&cfg), ERIS_OK);
	ck_assert_str_eq(eris__chacha20_path(), "libsodium");
	cfg.chacha20 = "sodium";
	ck_assert_eris(eris_configure(&cfg), ERIS_EINVAL);
	ck_assert_str_eq(eris__chacha20_path(), "libsodium");
	cfg.chacha20 = "";
	ck_assert_eris(eris_configure(&cfg), ERIS_OK);
	ck_assert_str_eq(eris__chacha20_path(), "avx512 (16 blocks)");
}
END_TEST
#endif

int main(int argc, char **argv)
{
	Suite *s = suite_create("chacha20");
	TCase *tc = tcase_create("chacha20");
	int forced = argc == 2 && strcmp(argv[1], "libsodium") == 0;

	if (sodium_init() < 0 || progenv_configure("test_chacha20") < 0)
		return 1;
	printf("ChaCha20 in use: %s\n", eris__chacha20_path());
	if (forced && strcmp(eris__chacha20_path(), "libsodium") != 0) {
		fprintf(stderr, "ERIS_CHACHA20=libsodium did not select "
				"libsodium\n");
		return 1;
	}
	tcase_set_timeout(tc, 0);
	tcase_add_test(tc, test_eris_nonce);
#ifdef ERIS__CHACHA20_HAVE_AVX512
	__builtin_cpu_init();
	if (!forced && !__builtin_cpu_supports("avx512f")) {
		printf("no AVX-512F on this CPU: the AVX-512 ChaCha20 cannot "
		       "be tested here\n");
		return 77;
	}
	if (!forced) {
		tcase_add_test(tc, test_random);
		tcase_add_test(tc, test_configure);
	}
#else
	if (!forced) {
		printf("AVX-512 ChaCha20 not compiled in\n");
		return 77;
	}
#endif
	suite_add_tcase(s, tc);
	return run_suite(s);
}
