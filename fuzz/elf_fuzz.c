/*
 * elf_fuzz.c - libFuzzer target for erispatch's ELF reader and patcher.
 *
 * Any input must parse or fail cleanly. When it parses, every DT_NEEDED
 * is replaced by a long name (forcing the string table to grow) and
 * the result, which elf_patch() has re-validated itself, must parse
 * again and read back the new names; patching it a second time with the
 * same names must change nothing (idempotence).
 */
#include "elf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char long_name[] =
	"urn:eris:B4AYAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	elf_file e, p;
	uint8_t *out = NULL, *again = NULL;
	size_t out_size, again_size;
	int changed;

	if (elf_parse(&e, data, size) != 0)
		return 0;
	size_t n = elf_needed_count(&e);
	const char **names = calloc(n ? n : 1, sizeof(char *));
	if (!names)
		abort();
	for (size_t i = 0; i < n; i++) {
		if (!elf_needed(&e, i))
			abort();
		names[i] = long_name;
	}
	(void)elf_rpath(&e);
	elf_patch_options o = { names, n, 1, 0 };
	if (elf_patch(&out, &out_size, &changed, &e, &o) == 0 && changed) {
		if (elf_parse(&p, out, out_size) != 0)
			abort();
		for (size_t i = 0; i < n; i++)
			if (strcmp(elf_needed(&p, i), long_name) != 0)
				abort();
		if (elf_patch(&again, &again_size, &changed, &p, &o) != 0 ||
		    changed)
			abort();
		elf_release(&p);
	}
	free(out);
	free(names);
	elf_release(&e);
	return 0;
}
