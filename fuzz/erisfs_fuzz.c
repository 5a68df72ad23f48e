/*
 * erisfs_fuzz.c - libFuzzer target for the ERIS-FS index parser
 * (eris_fs_index_parse()). Properties checked:
 *   (1) a refusal is ERIS_EFSINDEX (or ENOMEM), never anything else;
 *   (2) an accepted index re-encodes to exactly the input bytes: the
 *       parser accepts deterministic CBOR only;
 *   (3) every accepted entry has a path of the stated number of
 *       components and a target exactly when it is a symlink;
 *   (4) the first byte of the input picks the flags, so both the
 *       confined and the external-link rules are explored.
 */
#include <eris/eris.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	eris_fs_index *idx;
	uint8_t *out;
	size_t n;
	unsigned flags;
	int rc;

	if (size == 0)
		return 0;
	flags = (data[0] & 1) ? ERIS_FS_EXTERNAL_LINKS : 0;
	data++;
	size--;
	rc = eris_fs_index_parse(&idx, data, size, flags);
	if (rc != ERIS_OK) {
		if (rc != ERIS_EFSINDEX && rc != ERIS_ENOMEM)
			abort();
		return 0;
	}
	for (size_t i = 0; i < eris_fs_index_count(idx); i++) {
		eris_fs_entry e;
		size_t slashes = 0;

		if (eris_fs_index_entry(idx, i, &e) != ERIS_OK)
			abort();
		for (const char *s = e.path; *s; s++)
			slashes += *s == '/';
		if (e.n_components != slashes + 1 ||
		    (e.type == ERIS_FS_SYMLINK) != (e.target != NULL))
			abort();
	}
	if (eris_fs_index_encode(&out, &n, idx) != ERIS_OK)
		abort();
	if (n != size || memcmp(out, data, n) != 0)
		abort();
	free(out);
	eris_fs_index_free(idx);
	return 0;
}
