/* cbor.c - placeholder until the CBOR bundle store lands. */
#include "../internal.h"

int eris_store_new_cbor(eris_store **out, const char *path)
{
	(void)path;
	*out = NULL;
	return eris_error_set(ERIS_ESTORE, "cbor: stores are not built yet");
}
