/*
 * patch.c - patch one ELF file in place, atomically, keeping its mode and
 * owner (write_file_atomic, cli/outfile.h). Through a symbolic link the
 * file it names is patched and the link stays a link.
 */
#include "erispatch.h"
#include "elf.h"

#include <stdlib.h>

int patch_file(const char *path, const patch_request *req, int *changed)
{
	uint8_t *data = NULL, *out = NULL;
	size_t len, out_len;
	elf_file e;
	int rc;

	*changed = 0;
	if (read_whole_file(path, &data, &len) != 0)
		return -1;
	if (elf_parse(&e, data, len) != 0) {
		rc = report("%s: %s", path, elf_error());
		free(data);
		return rc;
	}
	elf_patch_options o = { req->new_names, req->n_names,
				req->remove_rpath, req->genode };
	rc = elf_patch(&out, &out_len, changed, &e, &o);
	if (rc != 0)
		rc = report("%s: %s", path, elf_error());
	else if (*changed)
		rc = write_file_atomic(path, out, out_len);
	elf_release(&e);
	free(out);
	free(data);
	return rc;
}
