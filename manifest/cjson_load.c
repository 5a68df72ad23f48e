/*
 * cjson_load.c - open libcjson on first use (see cjson_load.h).
 */
#include "cjson_load.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#ifndef ERIS_CJSON_SONAME
#error "ERIS_CJSON_SONAME (the SONAME of libcjson) comes from manifest/CMakeLists.txt"
#endif
#ifndef ERIS_CJSON_PACKAGE
#define ERIS_CJSON_PACKAGE "libcjson1"
#endif

static pthread_once_t once = PTHREAD_ONCE_INIT;
static eris_cjson_api api;
static const eris_cjson_api *loaded;
static char why_not[512];

static void set_why(void)
{
	const char *e = dlerror();

	snprintf(why_not, sizeof(why_not),
		 "reading manifests needs " ERIS_CJSON_SONAME
		 " (Debian package " ERIS_CJSON_PACKAGE "): %s",
		 e ? e : "a function is missing");
}

/* dlsym() into a function pointer: ISO C has no conversion from void *,
 * so copy the bytes (POSIX makes them the same). */
static int resolve(void *lib, const char *name, void *fn_out, size_t size)
{
	void *sym = dlsym(lib, name);

	if (!sym || size != sizeof(sym)) {
		set_why();
		return -1;
	}
	memcpy(fn_out, &sym, size);
	return 0;
}

static void load(void)
{
	/* RTLD_LOCAL: cJSON's symbols stay out of the global scope. The
	 * handle is never closed, so the pointers stay valid. */
	void *lib = dlopen(ERIS_CJSON_SONAME, RTLD_NOW | RTLD_LOCAL);

	if (!lib) {
		set_why();
		return;
	}
	if (resolve(lib, "cJSON_ParseWithLengthOpts",
		    &api.parse_with_length_opts,
		    sizeof(api.parse_with_length_opts)) != 0 ||
	    resolve(lib, "cJSON_GetErrorPtr", &api.get_error_ptr,
		    sizeof(api.get_error_ptr)) != 0 ||
	    resolve(lib, "cJSON_Delete", &api.delete_item,
		    sizeof(api.delete_item)) != 0)
		return;
	loaded = &api;
}

const eris_cjson_api *eris_cjson_load(const char **why)
{
	pthread_once(&once, load);
	if (!loaded && why)
		*why = why_not;
	return loaded;
}
