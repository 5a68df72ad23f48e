/*
 * patch.c - patch one ELF file in place, atomically, keeping its mode.
 */
#include "erispatch.h"
#include "elf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int patch_real_file(const char *path, const patch_request *req,
			   int *changed);

int patch_file(const char *path, const patch_request *req, int *changed)
{
	int rc;

	*changed = 0;
	/* Write through a symbolic link: the file it names is patched and
	 * the link stays a link. */
	char *real = realpath(path, NULL);
	if (!real)
		return report("%s: %s", path, strerror(errno));
	rc = patch_real_file(real, req, changed);
	free(real);
	return rc;
}

static int patch_real_file(const char *path, const patch_request *req,
			   int *changed)
{
	struct stat st;
	uint8_t *data = NULL, *out = NULL;
	size_t len, out_len;
	elf_file e;
	int rc;

	if (stat(path, &st) != 0)
		return report("%s: %s", path, strerror(errno));
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
		rc = write_file_atomic(path, out, out_len, st.st_mode);
	elf_release(&e);
	free(out);
	free(data);
	return rc;
}
