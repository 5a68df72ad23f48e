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

/* An archive being written to `f`. The writer counts the bytes itself
 * (no ftell): `f` may be a pipe, a FIFO or a device. */
typedef struct tar_writer {
	FILE *f;
	uint64_t size; /* bytes written so far */
} tar_writer;

int tar_add_file(tar_writer *w, const char *name, const uint8_t *data,
		 size_t len, unsigned mode);
/* The end-of-archive marker and the padding of the last record. */
int tar_finish(tar_writer *w);

#endif
