/*
 * cjson_load.h - libcjson, opened the first time a JSON manifest is read.
 *
 * The programs that use the manifest module (erispatch, eris-fuse) mostly
 * never read a JSON manifest: `erispatch patch` and `print-needed` do
 * not. Linking libcjson would make every one of their processes load it,
 * so the module opens it with dlopen() on first use instead, by the
 * SONAME the build found (ERIS_CJSON_SONAME), and resolves only the
 * functions it calls. The cJSON header is still needed to build: the
 * tree is read through struct cJSON's fields and its type constants.
 */
#ifndef ERIS_CJSON_LOAD_H
#define ERIS_CJSON_LOAD_H

#include <cjson/cJSON.h>
#include <stddef.h>

/* The cJSON functions the manifest reader calls. */
typedef struct eris_cjson_api {
	cJSON *(*parse_with_length_opts)(const char *value, size_t len,
					 const char **end,
					 cJSON_bool require_null_terminated);
	const char *(*get_error_ptr)(void);
	void (*delete_item)(cJSON *item);
} eris_cjson_api;

/*
 * The functions, loaded once per process (thread-safe); NULL if libcjson
 * cannot be loaded, with the reason in *why ("reading manifests needs
 * libcjson.so.1 (Debian package libcjson1): <dlerror>"), a static string.
 * The library stays loaded until the process ends.
 */
const eris_cjson_api *eris_cjson_load(const char **why);

/* cJSON_IsObject() and friends without a call into the library: the low
 * byte of `type` is the kind, the rest are flags (cJSON_IsReference …). */
static inline int eris_cjson_is(const cJSON *item, int kind)
{
	return item && (item->type & 0xFF) == kind;
}

#endif
