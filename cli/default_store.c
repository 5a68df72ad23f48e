/*
 * default_store.c - the default store specification from the environment
 * (default_store.h). A rule of the programs, not of liberis, which reads
 * no environment variables.
 */
#include "default_store.h"

#include <stdio.h>
#include <stdlib.h>

const char *default_store_spec(char *out, size_t size)
{
	const char *env = getenv("ERIS_STORE");
	const char *xdg = getenv("XDG_DATA_HOME");
	const char *home = getenv("HOME");
	int n;

	if (env && env[0])
		n = snprintf(out, size, "%s", env);
	else if (xdg && xdg[0] == '/')
		n = snprintf(out, size, "sqlite:%s/eris/store.sqlite", xdg);
	else if (home && home[0])
		n = snprintf(out, size,
			     "sqlite:%s/.local/share/eris/store.sqlite", home);
	else
		return "no default store: set ERIS_STORE, XDG_DATA_HOME or "
		       "HOME";
	if (n < 0 || (size_t)n >= size)
		return "the default store's path is too long";
	return NULL;
}
