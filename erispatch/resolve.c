/*
 * resolve.c - DT_NEEDED resolution for the hook.
 *
 * Order: an absolute name is itself; then each directory of the file's
 * RUNPATH (or RPATH), with $ORIGIN expanded; then <output>/<name> and
 * <output>/lib/<name> for each output; then the same for each build
 * input. The first regular file found wins.
 */
#include "erispatch.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* If dir/name is a regular file, its canonical path in *out. */
static int try_candidate(char **out, const char *dir, size_t dir_len,
			 const char *name)
{
	char path[PATH_MAX];
	struct stat st;

	if (dir_len == 0)
		return 1;
	int n = snprintf(path, sizeof(path), "%.*s/%s", (int)dir_len, dir, name);
	if (n < 0 || (size_t)n >= sizeof(path))
		return 1;
	if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
		return 1;
	*out = realpath(path, NULL);
	return *out ? 0 : report("%s: cannot canonicalise", path);
}

/* Expand $ORIGIN / ${ORIGIN} in one RPATH entry. */
static int expand_origin(char *buf, size_t size, const char *entry,
			 size_t len, const char *origin)
{
	size_t o = 0;

	for (size_t i = 0; i < len;) {
		size_t skip = 0;
		if (len - i >= 7 && memcmp(entry + i, "$ORIGIN", 7) == 0)
			skip = 7;
		else if (len - i >= 9 && memcmp(entry + i, "${ORIGIN}", 9) == 0)
			skip = 9;
		const char *piece = skip ? origin : entry + i;
		size_t plen = skip ? strlen(origin) : 1;
		if (o + plen + 1 > size)
			return -1;
		memcpy(buf + o, piece, plen);
		o += plen;
		i += skip ? skip : 1;
	}
	buf[o] = '\0';
	return 0;
}

int resolve_needed(char **out, const char *name, const char *file,
		   const char *rpath, const resolve_context *ctx)
{
	char origin[PATH_MAX];
	int rc;

	*out = NULL;
	if (name[0] == '/') {
		const char *slash = strrchr(name, '/');
		return try_candidate(out, name, (size_t)(slash - name),
				     slash + 1);
	}
	if (rpath && *rpath) {
		char *real = realpath(file, NULL);
		if (!real)
			return report("%s: cannot canonicalise", file);
		snprintf(origin, sizeof(origin), "%s", real);
		free(real);
		char *slash = strrchr(origin, '/');
		if (slash)
			*slash = '\0';
		for (const char *p = rpath; *p;) {
			const char *colon = strchr(p, ':');
			size_t len = colon ? (size_t)(colon - p) : strlen(p);
			char dir[PATH_MAX];
			if (expand_origin(dir, sizeof(dir), p, len, origin) == 0 &&
			    (rc = try_candidate(out, dir, strlen(dir), name)) <= 0)
				return rc;
			p += len + (colon ? 1 : 0);
		}
	}
	const strlist *lists[2] = { ctx->outputs, ctx->inputs };
	for (size_t l = 0; l < 2; l++) {
		for (size_t i = 0; lists[l] && i < lists[l]->count; i++) {
			const char *dir = lists[l]->items[i];
			char lib[PATH_MAX];
			if ((rc = try_candidate(out, dir, strlen(dir), name)) <= 0)
				return rc;
			snprintf(lib, sizeof(lib), "%s/lib", dir);
			if ((rc = try_candidate(out, lib, strlen(lib), name)) <= 0)
				return rc;
		}
	}
	return 1;
}
