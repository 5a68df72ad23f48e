/*
 * link_fuzz.c - libFuzzer target for the link-file parser
 * (eris_link_decode()). Properties checked:
 *   (1) a parsed link file starts with the magic;
 *   (2) encoding the parsed link and parsing that again gives the same
 *       capability, size, MIME type and attributes.
 */
#include <eris/eris.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	eris_link *link, *again;
	uint8_t *out;
	size_t n = 0;

	if (eris_link_decode(&link, data, size) != ERIS_OK)
		return 0;
	if (!eris_link_has_magic(data, size))
		abort();
	if (eris_link_encode(NULL, 0, &n, link) != ERIS_OK || n == 0)
		abort();
	out = malloc(n);
	if (out == NULL || eris_link_encode(out, n, &n, link) != ERIS_OK)
		abort();
	if (eris_link_decode(&again, out, n) != ERIS_OK)
		abort();
	if (!eris_read_cap_equal(&link->cap, &again->cap) || link->size != again->size ||
	    strcmp(link->mime, again->mime) != 0 ||
	    link->attrs_len != again->attrs_len ||
	    link->attrs_count != again->attrs_count ||
	    (link->attrs_len &&
	     memcmp(link->attrs, again->attrs, link->attrs_len) != 0))
		abort();
	eris_link_free(again);
	eris_link_free(link);
	free(out);
	return 0;
}
