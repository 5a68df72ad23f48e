/*
 * dir_batch.h - the dir: store's reads of many block files at once,
 * for get_cached (see dir_batch.c). Internal to liberis.
 */
#ifndef ERIS_DIR_BATCH_H
#define ERIS_DIR_BATCH_H

#include "../internal.h" /* eris__valid_block_size */

#include <stddef.h>
#include <stdint.h>

typedef struct eris__dir_batch eris__dir_batch;

/*
 * 1 if a read of a block file into `buf_size` bytes plus one more gave a
 * whole block: `got` bytes (a read's result, negative on error) that fit
 * and are a block's size. Short reads (RWF_NOWAIT stops at a page
 * boundary, 4 KiB or more, so 1024 bytes is a whole file) and files too
 * long are not taken: get() then reads them and says what is wrong.
 */
static inline int eris__dir_whole_block(long long got, size_t buf_size)
{
	return got > 0 && (unsigned long long)got <= buf_size &&
	       eris__valid_block_size((size_t)got);
}

#if defined(ERIS_HAVE_URING) && defined(__linux__)
/* A reader for one store; NULL when out of memory (then there is none). */
eris__dir_batch *eris__dir_batch_new(void);
/* Free it; no read may be running. NULL is allowed. */
void eris__dir_batch_free(eris__dir_batch *db);
/*
 * Read the n block files rel[i] (paths under root_fd) into bufs[i]
 * without waiting for a disk: results[i] is ERIS_OK (out_lens[i] bytes,
 * 1024 or 32768, not yet hashed), ERIS_ENOTFOUND (no such file) or
 * ERIS_EAGAIN (anything else: not in the kernel's caches, or not a
 * plain file of a block's size). 0 when done, -1 when this reader cannot
 * do it here (no io_uring, or every ring busy): read them one by one.
 */
int eris__dir_batch_read(eris__dir_batch *db, int root_fd, size_t n,
			 const char *const *rel, uint8_t *const *bufs,
			 size_t buf_size, size_t *out_lens, int *results);
#else
/* Built without liburing: no batches; dir.c reads block by block. */
static inline eris__dir_batch *eris__dir_batch_new(void)
{
	return NULL;
}
static inline void eris__dir_batch_free(eris__dir_batch *db)
{
	(void)db;
}
static inline int eris__dir_batch_read(eris__dir_batch *db, int root_fd,
				       size_t n, const char *const *rel,
				       uint8_t *const *bufs, size_t buf_size,
				       size_t *out_lens, int *results)
{
	(void)db, (void)root_fd, (void)n, (void)rel, (void)bufs;
	(void)buf_size, (void)out_lens, (void)results;
	return -1;
}
#endif

#endif
