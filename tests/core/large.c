/*
 * large.c - the large-content vectors (ERIS digest §7).
 *
 * Content for a vector named NAME: the ChaCha20-IETF keystream under the
 * key BLAKE2b-256(NAME), zero nonce, counter from 0; encoded with the null
 * secret. The expected URNs are the published ones. The stream is
 * generated in chunks, so memory stays small; for the 100 MiB and 1 GiB
 * vectors the blocks are also kept and the content decoded back and
 * compared with the regenerated stream.
 *
 * Usage: test_large 100MiB | 1GiB | 256GiB [THREADS]
 * THREADS: encode, decode and verify on that many threads.
 */
#include "testutil.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK (4u << 20)

typedef struct {
	const char *arg;
	const char *name;
	uint64_t size;
	uint32_t block_size;
	int decode; /* also keep the blocks and decode */
	const char *urn;
} large_vector;

static const large_vector vectors[] = {
	{ "100MiB", "100MiB (block size 1KiB)", 100ull << 20, 1024, 1,
	  "urn:eris:BIC6F5EKY2PMXS2VNOKPD3AJGKTQBD3EXSCSLZIENXAXBM7PCTH2TCMF5"
	  "OKJWAN36N4DFO6JPFZBR3MS7ECOGDYDERIJJ4N5KAQSZS67YY" },
	{ "1GiB", "1GiB (block size 32KiB)", 1ull << 30, 32768, 1,
	  "urn:eris:B4BL4DKSEOPGMYS2CU2OFNYCH4BGQT774GXKGURLFO5FDXAQQPJGJ35AZ"
	  "R3PEK6CVCV74FVTAXHRSWLUUNYYA46ZPOPDOV2M5NVLBETWVI" },
	{ "256GiB", "256GiB (block size 32KiB)", 1ull << 38, 32768, 0,
	  "urn:eris:B4B5DNZVGU4QDCN7TAYWQZE5IJ6ESAOESEVYB5PPWFWHE252OY4X5XX"
	  "JMNL4JMMFMO5LNITC7OGCLU4IOSZ7G6SA5F2VTZG2GZ5UCYFD5E" },
};

static const large_vector *which;
static unsigned threads = 1;

/* Chunk `i` of the stream: CHUNK bytes at offset i * CHUNK. */
static void stream_chunk(uint8_t *buf, size_t len, const uint8_t key[32],
			 uint64_t offset)
{
	static const uint8_t nonce[12] = { 0 };

	memset(buf, 0, len);
	/* The 256 GiB stream ends exactly at counter 2^32 - 1. */
	crypto_stream_chacha20_ietf_xor_ic(buf, buf, len, nonce,
					   (uint32_t)(offset / 64), key);
}

START_TEST(test_large_vector)
{
	eris_encode_options opts = ERIS_ENCODE_OPTIONS_INIT;
	uint8_t key[32], *chunk = malloc(CHUNK), *back = malloc(CHUNK);
	eris_store *store = NULL;
	eris_encoder *enc;
	eris_decoder *dec;
	eris_read_cap cap;
	char urn[ERIS_URN_BUFSIZE];

	ck_assert(chunk && back);
	crypto_generichash_blake2b(key, 32, (const uint8_t *)which->name,
				   strlen(which->name), NULL, 0);
	if (which->decode)
		ck_assert_eris(eris_store_new_mem(&store), ERIS_OK);
	opts.block_size = which->block_size;
	opts.threads = threads;
	ck_assert_eris(eris_encoder_new(&enc, store, &opts), ERIS_OK);
	for (uint64_t off = 0; off < which->size; off += CHUNK) {
		stream_chunk(chunk, CHUNK, key, off);
		ck_assert_eris(eris_encoder_write(enc, chunk, CHUNK), ERIS_OK);
	}
	ck_assert_eris(eris_encoder_finish(&cap, enc), ERIS_OK);
	eris_encoder_free(enc);
	ck_assert_eris(eris_urn_format(urn, &cap), ERIS_OK);
	ck_assert_str_eq(urn, which->urn);

	if (which->decode) {
		size_t got;

		ck_assert_eris(eris_decoder_new(&dec, store, &cap), ERIS_OK);
		ck_assert_uint_eq(eris_decoder_length(dec), which->size);
		ck_assert_eris(eris_decoder_set_threads(dec, threads), ERIS_OK);
		for (uint64_t off = 0; off < which->size; off += CHUNK) {
			stream_chunk(chunk, CHUNK, key, off);
			ck_assert_eris(eris_decoder_read(dec, back, CHUNK, &got),
				       ERIS_OK);
			ck_assert_uint_eq(got, CHUNK);
			ck_assert_msg(memcmp(back, chunk, CHUNK) == 0,
				      "content differs in chunk at %llu",
				      (unsigned long long)off);
		}
		ck_assert_eris(eris_decoder_read(dec, back, CHUNK, &got),
			       ERIS_OK);
		ck_assert_uint_eq(got, 0);
		eris_decoder_free(dec);
		ck_assert_eris(eris_verify_threads(store, &cap, threads, NULL,
					       NULL, NULL),
			       ERIS_OK);
		eris_store_free(store);
	}
	free(chunk);
	free(back);
}
END_TEST

int main(int argc, char **argv)
{
	Suite *s = suite_create("large");
	TCase *tc = tcase_create("large");

	for (size_t i = 0;
	     (argc == 2 || argc == 3) && i < sizeof(vectors) / sizeof(vectors[0]);
	     i++)
		if (strcmp(argv[1], vectors[i].arg) == 0)
			which = &vectors[i];
	if (which == NULL) {
		fprintf(stderr, "usage: %s 100MiB|1GiB|256GiB [THREADS]\n",
			argv[0]);
		return 2;
	}
	if (argc == 3)
		threads = (unsigned)atoi(argv[2]);
	/* No wall-clock limit for the test itself (ctest has its own). */
	tcase_set_timeout(tc, 0);
	tcase_add_test(tc, test_large_vector);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
