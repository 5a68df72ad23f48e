/*
 * default_store.h - the store the programs use when none is named: the
 * one `eris put` fills and `eris get`, erisd and eris-fuse read.
 */
#ifndef ERIS_CLI_DEFAULT_STORE_H
#define ERIS_CLI_DEFAULT_STORE_H

#include <stddef.h>

/*
 * Write the default store specification into `out` (`size` bytes with the
 * NUL):
 *   1. $ERIS_STORE, if set and not empty (any specification);
 *   2. else sqlite:$XDG_DATA_HOME/eris/store.sqlite, if $XDG_DATA_HOME is
 *      an absolute path;
 *   3. else sqlite:$HOME/.local/share/eris/store.sqlite.
 * Programs open it with "create", so it is made on first use. Returns
 * NULL, or a one-line message (static) when none applies or the result
 * does not fit; `out` is then unspecified.
 */
const char *default_store_spec(char *out, size_t size);

#endif
