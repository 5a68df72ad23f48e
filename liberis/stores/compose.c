/* compose.c - placeholder until the cache and fallback stores land. */
#include "../internal.h"

int eris_store_new_cache(eris_store **out, eris_store *local,
			 eris_store *remote)
{
	eris_store_free(local);
	eris_store_free(remote);
	*out = NULL;
	return eris_error_set(ERIS_ESTORE, "cache: stores are not built yet");
}

int eris_store_new_fallback(eris_store **out, eris_store **stores, size_t n)
{
	for (size_t i = 0; i < n; i++)
		eris_store_free(stores[i]);
	*out = NULL;
	return eris_error_set(ERIS_ESTORE, "fallback: stores are not built yet");
}
