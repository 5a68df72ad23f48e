/*
 * tar.h - a minimal, reproducible GNU tar writer: regular files only,
 * GNU long-name ('L') records for names of 100 bytes or more, owner 0,
 * mtime 0, records padded to 10240 bytes.
 */
#ifndef ERISPATCH_TAR_H
#define ERISPATCH_TAR_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

int tar_add_file(FILE *f, const char *name, const uint8_t *data, size_t len,
		 unsigned mode);
/* The end-of-archive marker and the padding of the last record. */
int tar_finish(FILE *f);

#endif
