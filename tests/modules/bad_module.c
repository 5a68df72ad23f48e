/*
 * bad_module.c - modules liberis must refuse (tests/modules): built as
 * store-sqlite.so with another interface version (BAD_ABI), or as
 * store-cbor.so without the eris_module_cbor descriptor (BAD_SYMBOL).
 */
#include "module.h"

#if defined(BAD_ABI)
static int never_open(eris_store **out, const eris_module_request *req)
{
	(void)req;
	*out = NULL;
	return ERIS_ERROR;
}

ERIS_MODULE_EXPORT const eris_module eris_module_sqlite = {
	ERIS_MODULE_ABI + 998, "sqlite", never_open, NULL
};
#else
ERIS_MODULE_EXPORT const int not_a_module = 1;
#endif
