/*
 * urn.c - base32 and the three forms of the read capability: binary, URN
 * and CBOR. Parsers must be strict: every malformed input is ERIS_EURN.
 */
#include "testutil.h"

#include <stdio.h>
#include <string.h>

/* Vector 00's capability (ERIS digest §3.1). */
static const char *urn00 =
	"urn:eris:BIAD77QDJMFAKZYH2DXBUZYAP3MXZ3DJZVFYQ5DFWC6T65WSFCU5S2IT4YZ"
	"GJ7AC4SYQMP2DM2ANS2ZTCP3DJJIRV733CRAAHOSWIYZM3M";
static const char *hex00 =
	"0a003ffe034b0a056707d0ee1a67007ed97cec69cd4b887465b0bd3f76d228a9d969"
	"13e63264fc02e4b1063f436680d96b3313f634a511aff7b144003ba564632cdb";

static void from_hex(uint8_t *out, const char *hex, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned v;

		ck_assert_int_eq(sscanf(hex + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
}

START_TEST(test_base32_rfc4648)
{
	/* RFC 4648 §10, without the padding. */
	static const char *in[] = { "", "f", "fo", "foo", "foob", "fooba",
				    "foobar" };
	static const char *out[] = { "", "MY", "MZXQ", "MZXW6", "MZXW6YQ",
				     "MZXW6YTB", "MZXW6YTBOI" };
	char buf[32];
	uint8_t back[8];

	for (int i = 0; i < 7; i++) {
		size_t n = strlen(in[i]);

		eris_base32_encode(buf, (const uint8_t *)in[i], n);
		ck_assert_str_eq(buf, out[i]);
		ck_assert_eris(eris_base32_decode(back, n, out[i],
						  strlen(out[i])),
			       ERIS_OK);
		ck_assert(n == 0 || memcmp(back, in[i], n) == 0);
	}
}
END_TEST

START_TEST(test_base32_strict)
{
	uint8_t b[8];

	ck_assert_eris(eris_base32_decode(b, 6, "MZXW6YTBOI", 10), ERIS_OK);
	ck_assert_eris(eris_base32_decode(b, 6, "mzxw6ytboi", 10), ERIS_EURN);
	ck_assert_eris(eris_base32_decode(b, 6, "MZXW6YTBOJ", 10), ERIS_EURN);
	ck_assert_eris(eris_base32_decode(b, 6, "MZXW6YTBO", 9), ERIS_EURN);
	ck_assert_eris(eris_base32_decode(b, 6, "MZXW6YTB=I", 10), ERIS_EURN);
	ck_assert_eris(eris_base32_decode(b, 6, "MZXW6YTB1I", 10), ERIS_EURN);
	ck_assert_eris(eris_base32_decode(b, 6, "MZXW6YTB8I", 10), ERIS_EURN);
	ck_assert_eris(eris_base32_decode(b, 1, "MY======", 8), ERIS_EURN);
}
END_TEST

START_TEST(test_urn_roundtrip)
{
	uint8_t bin[ERIS_READ_CAP_BYTES], expect[ERIS_READ_CAP_BYTES];
	uint8_t cbor[ERIS_READ_CAP_CBOR_BYTES];
	char urn[ERIS_URN_BUFSIZE];
	eris_read_cap cap, cap2;

	from_hex(expect, hex00, sizeof(expect));
	ck_assert_eris(eris_urn_parse(&cap, urn00, strlen(urn00)), ERIS_OK);
	ck_assert_int_eq(cap.block_size, 1024);
	ck_assert_int_eq(cap.level, 0);
	ck_assert_eris(eris_read_cap_to_bytes(bin, &cap), ERIS_OK);
	ck_assert_mem_eq(bin, expect, sizeof(bin));
	ck_assert_eris(eris_urn_format(urn, &cap), ERIS_OK);
	ck_assert_str_eq(urn, urn00);
	ck_assert_int_eq(strlen(urn), ERIS_URN_LEN);

	ck_assert_eris(eris_read_cap_to_cbor(cbor, &cap), ERIS_OK);
	ck_assert_mem_eq(cbor, "\xd9\x01\x14\x58\x42", 5);
	ck_assert_mem_eq(cbor + 5, expect, sizeof(expect));
	ck_assert_eris(eris_read_cap_from_cbor(&cap2, cbor, sizeof(cbor)),
		       ERIS_OK);
	ck_assert_cap_eq(cap2, cap);

	/* 32 KiB capabilities start with B4 for low levels. */
	cap.block_size = 32768;
	cap.level = 3;
	ck_assert_eris(eris_urn_format(urn, &cap), ERIS_OK);
	ck_assert_mem_eq(urn, "urn:eris:B4", 11);
	ck_assert_eris(eris_urn_parse(&cap2, urn, strlen(urn)), ERIS_OK);
	ck_assert_int_eq(cap2.block_size, 32768);
	ck_assert_int_eq(cap2.level, 3);

	/* Every level byte is syntactically valid. */
	cap.level = 255;
	ck_assert_eris(eris_urn_format(urn, &cap), ERIS_OK);
	ck_assert_eris(eris_urn_parse(&cap2, urn, strlen(urn)), ERIS_OK);
	ck_assert_int_eq(cap2.level, 255);
}
END_TEST

START_TEST(test_urn_prefix_case)
{
	char urn[ERIS_URN_BUFSIZE];
	eris_read_cap cap;

	strcpy(urn, urn00);
	memcpy(urn, "URN:ERIS:", 9);
	ck_assert_eris(eris_urn_parse(&cap, urn, strlen(urn)), ERIS_OK);
	memcpy(urn, "Urn:Eris:", 9);
	ck_assert_eris(eris_urn_parse(&cap, urn, strlen(urn)), ERIS_OK);
}
END_TEST

/* Each malformed URN is rejected with ERIS_EURN. */
START_TEST(test_urn_malformed)
{
	char urn[ERIS_URN_BUFSIZE + 8];
	eris_read_cap cap;
	size_t n = strlen(urn00);

	/* too short, too long, padded */
	ck_assert_eris(eris_urn_parse(&cap, urn00, n - 1), ERIS_EURN);
	snprintf(urn, sizeof(urn), "%sA", urn00);
	ck_assert_eris(eris_urn_parse(&cap, urn, n + 1), ERIS_EURN);
	snprintf(urn, sizeof(urn), "%s==", urn00);
	ck_assert_eris(eris_urn_parse(&cap, urn, n + 2), ERIS_EURN);
	/* lower-case body */
	strcpy(urn, urn00);
	urn[20] = (char)(urn[20] - 'A' + 'a');
	ck_assert_eris(eris_urn_parse(&cap, urn, n), ERIS_EURN);
	/* characters outside the alphabet */
	strcpy(urn, urn00);
	urn[30] = '1';
	ck_assert_eris(eris_urn_parse(&cap, urn, n), ERIS_EURN);
	urn[30] = '=';
	ck_assert_eris(eris_urn_parse(&cap, urn, n), ERIS_EURN);
	/* non-zero filler bits in the last character: ...3M -> ...3N */
	strcpy(urn, urn00);
	urn[n - 1] = 'N';
	ck_assert_eris(eris_urn_parse(&cap, urn, n), ERIS_EURN);
	/* other URN namespaces and no prefix */
	strcpy(urn, urn00);
	memcpy(urn, "urn:eric:", 9);
	ck_assert_eris(eris_urn_parse(&cap, urn, n), ERIS_EURN);
	ck_assert_eris(eris_urn_parse(&cap, urn00 + 9, n - 9), ERIS_EURN);
	ck_assert_eris(eris_urn_parse(&cap, "", 0), ERIS_EURN);
	ck_assert_eris(eris_urn_parse(&cap, NULL, 0), ERIS_EURN);
	/* invalid block-size code: first byte 0x0b -> "BM..." */
	strcpy(urn, urn00);
	urn[10] = 'M';
	ck_assert_eris(eris_urn_parse(&cap, urn, n), ERIS_EURN);
	ck_assert_ptr_nonnull(strstr(eris_error_last(), "block-size"));
}
END_TEST

START_TEST(test_cbor_malformed)
{
	uint8_t cbor[ERIS_READ_CAP_CBOR_BYTES + 1];
	eris_read_cap cap;

	ck_assert_eris(eris_urn_parse(&cap, urn00, strlen(urn00)), ERIS_OK);
	ck_assert_eris(eris_read_cap_to_cbor(cbor, &cap), ERIS_OK);
	ck_assert_eris(eris_read_cap_from_cbor(&cap, cbor, sizeof(cbor) - 1),
		       ERIS_OK);
	ck_assert_eris(eris_read_cap_from_cbor(&cap, cbor, sizeof(cbor) - 2),
		       ERIS_EURN);
	ck_assert_eris(eris_read_cap_from_cbor(&cap, cbor, sizeof(cbor)),
		       ERIS_EURN);
	cbor[2] = 0x15; /* tag 277 */
	ck_assert_eris(eris_read_cap_from_cbor(&cap, cbor, sizeof(cbor) - 1),
		       ERIS_EURN);
	cbor[2] = 0x14;
	cbor[5] = 0x0b; /* bad block-size code */
	ck_assert_eris(eris_read_cap_from_cbor(&cap, cbor, sizeof(cbor) - 1),
		       ERIS_EURN);
}
END_TEST

START_TEST(test_cap_invalid_block_size)
{
	eris_read_cap cap = { 4096, 0, { 0 }, { 0 } };
	uint8_t bin[ERIS_READ_CAP_BYTES];
	char urn[ERIS_URN_BUFSIZE];

	ck_assert_eris(eris_read_cap_to_bytes(bin, &cap), ERIS_EINVAL);
	ck_assert_eris(eris_urn_format(urn, &cap), ERIS_EINVAL);
}
END_TEST

/* Equal in every field, whatever the padding bytes; any one field or
 * byte different makes them unequal. */
START_TEST(test_cap_equal)
{
	eris_read_cap a, b;

	ck_assert_eris(eris_urn_parse(&a, urn00, strlen(urn00)), ERIS_OK);
	memset(&b, 0xa5, sizeof(b)); /* padding differs from a's */
	b.block_size = a.block_size;
	b.level = a.level;
	memcpy(b.root_ref, a.root_ref, ERIS_REF_BYTES);
	memcpy(b.root_key, a.root_key, ERIS_KEY_BYTES);
	ck_assert_int_eq(eris_read_cap_equal(&a, &b), 1);
	ck_assert_int_eq(eris_read_cap_equal(&b, &a), 1);
	ck_assert_int_eq(eris_read_cap_equal(&a, &a), 1);

	b.block_size = 32768;
	ck_assert_int_eq(eris_read_cap_equal(&a, &b), 0);
	b.block_size = a.block_size;
	b.level = (uint8_t)(a.level + 1);
	ck_assert_int_eq(eris_read_cap_equal(&a, &b), 0);
	b.level = a.level;
	for (size_t i = 0; i < ERIS_REF_BYTES; i++) {
		b.root_ref[i] ^= 0x01;
		ck_assert_int_eq(eris_read_cap_equal(&a, &b), 0);
		b.root_ref[i] ^= 0x01;
		b.root_key[i] ^= 0x80;
		ck_assert_int_eq(eris_read_cap_equal(&a, &b), 0);
		b.root_key[i] ^= 0x80;
	}
	ck_assert_int_eq(eris_read_cap_equal(&a, &b), 1);
	ck_assert_int_eq(eris_read_cap_equal(&a, NULL), 0);
	ck_assert_int_eq(eris_read_cap_equal(NULL, &a), 0);
	ck_assert_int_eq(eris_read_cap_equal(NULL, NULL), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("urn");
	TCase *tc = tcase_create("urn");

	tcase_add_test(tc, test_base32_rfc4648);
	tcase_add_test(tc, test_base32_strict);
	tcase_add_test(tc, test_urn_roundtrip);
	tcase_add_test(tc, test_urn_prefix_case);
	tcase_add_test(tc, test_urn_malformed);
	tcase_add_test(tc, test_cbor_malformed);
	tcase_add_test(tc, test_cap_invalid_block_size);
	tcase_add_test(tc, test_cap_equal);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
