/*
 * module.c - finding a back-end module by name (module.h).
 *
 * Compiled twice: into the static liberis, where the modules chosen at
 * build time are linked in and listed in eris__builtin_modules, and into
 * the shared liberis (ERIS_MODULES_DLOPEN), where a module is the file
 * store-NAME.so, loaded with dlopen() the first time it is asked for.
 *
 * Where the files are looked for, first match wins: the directories of
 * eris_configure()'s module_path, then the directory beside the running
 * liberis.so, DIR/eris/modules (LIBDIR/eris/modules when installed,
 * build/lib/eris/modules in the build tree), then ERIS_MODULE_DIR, the
 * install directory compiled in. Loaded modules are never unloaded: their
 * libraries (libcurl, libcoap) keep global state.
 */
#if defined(ERIS_MODULES_DLOPEN)
#define _GNU_SOURCE /* dladdr */
#endif
#include "internal.h"
#include "module.h"
#include "eris_module_config.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#if defined(ERIS_MODULES_DLOPEN)
#include <dlfcn.h>
#include <limits.h>
#include <unistd.h>
#endif

#define MAX_LOADED 16

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static const eris_module *loaded[MAX_LOADED];
static size_t n_loaded;

/* The modules this liberis was built with (ERIS_WITH_*): a missing one
 * is "not built", not "not installed". */
static int was_built(const char *name)
{
	static const char *const built[] = { ERIS_BUILT_MODULES NULL };

	for (size_t i = 0; built[i] != NULL; i++)
		if (strcmp(built[i], name) == 0)
			return 1;
	return 0;
}

static int check_abi(const eris_module *m, const char *name,
		     const char *where)
{
	if (m->abi != ERIS_MODULE_ABI)
		return eris_error_set(ERIS_ENOTSUP,
				      "%s was built for module interface %u; "
				      "this liberis %s needs %u (a module "
				      "from another version of eris)",
				      where, m->abi, eris_version(),
				      ERIS_MODULE_ABI);
	if (m->name == NULL || strcmp(m->name, name) != 0 || m->open == NULL)
		return eris_error_set(ERIS_ENOTSUP,
				      "%s is not the %s module", where, name);
	return ERIS_OK;
}

#if defined(ERIS_MODULES_DLOPEN)
/* The directory of the liberis.so this code runs in, or "" if unknown. */
static void library_dir(char *out, size_t size)
{
	Dl_info info;
	const char *slash;

	out[0] = '\0';
	if (dladdr((void *)eris_version, &info) == 0 || info.dli_fname == NULL)
		return;
	slash = strrchr(info.dli_fname, '/');
	if (slash == NULL || (size_t)(slash - info.dli_fname) >= size)
		return;
	memcpy(out, info.dli_fname, (size_t)(slash - info.dli_fname));
	out[slash - info.dli_fname] = '\0';
}

/* Try DIR/store-NAME.so. 1 and *out set when it loaded, 0 when there is
 * no such file, < 0 (message set) when it exists but cannot be used. */
static int try_dir(const eris_module **out, const char *dir, size_t dir_len,
		   const char *name)
{
	char path[PATH_MAX], sym[64];
	void *h;
	const eris_module *m;
	int n, rc;

	n = snprintf(path, sizeof(path), "%.*s/store-%s.so", (int)dir_len, dir,
		     name);
	if (n < 0 || (size_t)n >= sizeof(path) || access(path, F_OK) != 0)
		return 0;
	h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (h == NULL)
		return eris_error_set(ERIS_ENOTSUP, "cannot load %s: %s", path,
				      dlerror());
	snprintf(sym, sizeof(sym), "eris_module_%s", name);
	m = dlsym(h, sym);
	if (m == NULL) {
		dlclose(h);
		return eris_error_set(ERIS_ENOTSUP, "%s has no symbol %s",
				      path, sym);
	}
	if ((rc = check_abi(m, name, path)) < 0) {
		dlclose(h);
		return rc;
	}
	*out = m;
	return 1;
}

/* Search a ':'-separated list of directories. */
static int try_path(const eris_module **out, const char *list,
		    const char *name)
{
	while (list != NULL && *list != '\0') {
		const char *end = strchr(list, ':');
		size_t len = end ? (size_t)(end - list) : strlen(list);
		int rc = len ? try_dir(out, list, len, name) : 0;

		if (rc != 0)
			return rc;
		list = end ? end + 1 : NULL;
	}
	return 0;
}

static int load(const eris_module **out, const char *name)
{
	char configured[ERIS_CONFIG_MODULE_PATH_MAX];
	char dir[PATH_MAX], searched[ERIS_CONFIG_MODULE_PATH_MAX + PATH_MAX + 256];
	int rc;

	eris__config_module_path(configured, sizeof(configured));
	if ((rc = try_path(out, configured, name)) != 0)
		return rc;
	library_dir(dir, sizeof(dir) - sizeof("/eris/modules"));
	if (dir[0] != '\0') {
		strcat(dir, "/eris/modules");
		if ((rc = try_dir(out, dir, strlen(dir), name)) != 0)
			return rc;
	}
	if (strcmp(dir, ERIS_MODULE_DIR) != 0 &&
	    (rc = try_dir(out, ERIS_MODULE_DIR, strlen(ERIS_MODULE_DIR),
			  name)) != 0)
		return rc;
	snprintf(searched, sizeof(searched), "%s%s%s%s%s", configured,
		 configured[0] ? ":" : "", dir, dir[0] ? ":" : "",
		 ERIS_MODULE_DIR);
	if (!was_built(name))
		return eris_error_set(ERIS_ENOTSUP,
				      "this liberis was built without it");
	return eris_error_set(ERIS_ENOTSUP, "store-%s.so is not installed "
					    "(searched %s)",
			      name, searched);
}
#else
static int load(const eris_module **out, const char *name)
{
	(void)out;
	if (!was_built(name))
		return eris_error_set(ERIS_ENOTSUP,
				      "this liberis was built without it");
	return eris_error_set(ERIS_ENOTSUP,
			      "it is not linked into this static liberis");
}
#endif

int eris__module_get(const eris_module **out, const char *name)
{
	const eris_module *m = NULL;
	int rc = ERIS_OK;

	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < n_loaded && m == NULL; i++)
		if (strcmp(loaded[i]->name, name) == 0)
			m = loaded[i];
	for (size_t i = 0; m == NULL && eris__builtin_modules[i]; i++)
		if (strcmp(eris__builtin_modules[i]->name, name) == 0) {
			m = eris__builtin_modules[i];
			rc = check_abi(m, name, "the built-in module");
		}
	if (m == NULL && (rc = load(&m, name)) >= 0 && n_loaded < MAX_LOADED)
		loaded[n_loaded++] = m;
	pthread_mutex_unlock(&lock);
	if (rc < 0)
		return rc;
	*out = m;
	return ERIS_OK;
}
