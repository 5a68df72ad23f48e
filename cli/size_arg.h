/*
 * size_arg.h - the SIZE argument of the daemons' and tools' options:
 * "64M", "512K", "1G", "4096", "0" (binary units, upper or lower case).
 */
#ifndef ERIS_CLI_SIZE_ARG_H
#define ERIS_CLI_SIZE_ARG_H

#include <stddef.h>

/* Bytes into *out, or -1 (nothing written) if `s` is malformed or its
 * value is beyond `max`. */
int size_arg_parse(const char *s, size_t max, size_t *out);

#endif
