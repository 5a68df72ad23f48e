/*
 * urn_fuzz.c - libFuzzer target for the read-capability parsers (URN,
 * binary and CBOR forms) and base32. Besides the absence of crashes and
 * sanitizer reports it checks that the parsers are strict, i.e. that
 * whatever they accept formats back to the very same bytes:
 *   (1) parse(URN) then format gives the input (the "urn:eris:" prefix
 *       is case-insensitive, the rest is not);
 *   (2) binary and CBOR forms round-trip byte for byte;
 *   (3) base32 that decodes encodes back to the same characters.
 */
#include <eris/eris.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_urn(const uint8_t *data, size_t size)
{
	eris_read_cap cap;
	char urn[ERIS_URN_BUFSIZE];

	if (eris_urn_parse(&cap, (const char *)data, size) != ERIS_OK)
		return;
	if (size != ERIS_URN_LEN || eris_urn_format(urn, &cap) != ERIS_OK)
		abort();
	if (strncasecmp(urn, (const char *)data, 9) != 0 ||
	    memcmp(urn + 9, data + 9, ERIS_URN_LEN - 9) != 0)
		abort();
}

static void check_binary(const uint8_t *data, size_t size)
{
	eris_read_cap cap;
	uint8_t out[ERIS_READ_CAP_BYTES];

	if (size < ERIS_READ_CAP_BYTES ||
	    eris_read_cap_from_bytes(&cap, data) != ERIS_OK)
		return;
	if (eris_read_cap_to_bytes(out, &cap) != ERIS_OK ||
	    memcmp(out, data, sizeof(out)) != 0)
		abort();
}

static void check_cbor(const uint8_t *data, size_t size)
{
	eris_read_cap cap;
	uint8_t out[ERIS_READ_CAP_CBOR_BYTES];

	if (eris_read_cap_from_cbor(&cap, data, size) != ERIS_OK)
		return;
	if (size != sizeof(out) || eris_read_cap_to_cbor(out, &cap) != ERIS_OK ||
	    memcmp(out, data, sizeof(out)) != 0)
		abort();
}

/* Decode into exactly as many bytes as the characters can hold, and into
 * one byte more: the second must always fail. */
static void check_base32(const uint8_t *data, size_t size)
{
	size_t n = size * 5 / 8;
	uint8_t *bytes = malloc(n + 1);
	char *text = malloc(size + 2);

	if (bytes == NULL || text == NULL)
		abort();
	if (eris_base32_decode(bytes, n, (const char *)data, size) == ERIS_OK) {
		eris_base32_encode(text, bytes, n);
		if (strlen(text) != size || memcmp(text, data, size) != 0)
			abort();
	}
	if (eris_base32_decode(bytes, n + 1, (const char *)data, size) ==
	    ERIS_OK)
		abort();
	free(bytes);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_urn(data, size);
	check_binary(data, size);
	check_cbor(data, size);
	if (size <= 4096)
		check_base32(data, size);
	return 0;
}
