/*
 * manifest_fuzz.c - libFuzzer target for the manifest reader.
 *
 * Any input must parse or fail with a message. When it parses and its
 * names are absolute paths, the JSON the writer produces must parse again into the same entries and
 * closures, and writing that gives the very same JSON (a fixed point).
 */
#include "eris_manifest.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	eris_manifest *m, *back;
	char *json, *json2;
	size_t len, len2;

	if (eris_manifest_read_mem(&m, (const char *)data, size) != 0) {
		if (eris_manifest_error()[0] == '\0')
			abort();
		return 0;
	}
	if (eris_manifest_to_json(m, &json, &len) != 0) {
		/* Only names that are not absolute paths are refused. */
		if (strstr(eris_manifest_error(), "is not an absolute path") == NULL)
			abort();
		eris_manifest_free(m);
		return 0;
	}
	if (eris_manifest_read_mem(&back, json, len) != 0)
		abort();
	if (eris_manifest_count(back) != eris_manifest_count(m))
		abort();
	for (size_t i = 0; i < eris_manifest_count(m); i++) {
		if (strcmp(eris_manifest_name(m, i), eris_manifest_name(back, i)) ||
		    strcmp(eris_manifest_urn(m, i), eris_manifest_urn(back, i)) ||
		    eris_manifest_closure_count(m, i) !=
			    eris_manifest_closure_count(back, i))
			abort();
	}
	if (eris_manifest_to_json(back, &json2, &len2) != 0 || len2 != len ||
	    memcmp(json, json2, len) != 0)
		abort();
	free(json);
	free(json2);
	eris_manifest_free(back);
	eris_manifest_free(m);
	return 0;
}
