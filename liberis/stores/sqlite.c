/* sqlite.c - placeholder until the sqlite3 store lands. */
#include "../internal.h"

int eris_store_new_sqlite(eris_store **out, const char *path, int create)
{
	(void)path;
	(void)create;
	*out = NULL;
	return eris_error_set(ERIS_ESTORE, "sqlite: stores are not built yet");
}
