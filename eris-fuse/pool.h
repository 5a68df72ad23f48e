/*
 * pool.h - idle decoders kept for reuse, within a memory bound.
 *
 * A decoder is not thread-safe and opening one costs a walk down the
 * right-most path of the tree, so every read takes a decoder of its file
 * from the pool (or opens a new one) and gives it back when done. Idle
 * decoders of all files share one least-recently-used list; when their
 * estimated memory exceeds the limit, the oldest are freed.
 */
#ifndef EFUSE_POOL_H
#define EFUSE_POOL_H
#include <eris/eris.h>

typedef struct efuse_pool efuse_pool;

/** A pool over `store` (borrowed) keeping at most `limit` bytes idle. */
int efuse_pool_new(efuse_pool **out, eris_store *store, size_t limit);
/** Free the pool and every idle decoder. NULL is allowed. */
void efuse_pool_free(efuse_pool *pool);
/**
 * Take an idle decoder of the content `key` (the inode number of `cap`)
 * or open a new one.
 * @return ERIS_OK or the error of eris_decoder_new() (message set).
 */
int efuse_pool_take(efuse_pool *pool, uint64_t key, const eris_read_cap *cap,
		    eris_decoder **out);
/** Give a decoder of `cap` back after a successful read (ownership
 * passes). */
void efuse_pool_give(efuse_pool *pool, uint64_t key, const eris_read_cap *cap,
		     eris_decoder *dec);
/** The estimated memory of the idle decoders, in bytes. */
size_t efuse_pool_idle_bytes(efuse_pool *pool);
/** Free every idle decoder of `key` (its inode was forgotten). */
void efuse_pool_drop(efuse_pool *pool, uint64_t key);

#endif
