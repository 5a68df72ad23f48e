/*
 * pool.c - idle decoders on one LRU list, bounded by estimated memory.
 */
#include "pool.h"

#include <pthread.h>
#include <stdlib.h>

/* The decoder's batch buffer for leaf fetches (liberis/decode.c). */
#define DECODER_BATCH_BYTES (256u * 1024u)

typedef struct idle {
	struct idle *prev, *next; /* prev = more recently used */
	uint64_t key;
	size_t cost;
	eris_decoder *dec;
} idle;

struct efuse_pool {
	pthread_mutex_t lock;
	eris_store *store;
	size_t limit, used;
	idle *newest, *oldest;
};

/* What a decoder holds: one decrypted node per level, a few block
 * buffers and the leaf batch. An estimate, but a stable one. */
static size_t decoder_cost(const eris_read_cap *cap)
{
	return ((size_t)cap->level + 4) * cap->block_size +
	       DECODER_BATCH_BYTES;
}

int efuse_pool_new(efuse_pool **out, eris_store *store, size_t limit)
{
	efuse_pool *pool = calloc(1, sizeof(*pool));

	*out = NULL;
	if (pool == NULL)
		return ERIS_ENOMEM;
	if (pthread_mutex_init(&pool->lock, NULL) != 0) {
		free(pool);
		return ERIS_ERROR;
	}
	pool->store = store;
	pool->limit = limit;
	*out = pool;
	return ERIS_OK;
}

static void unlink_idle(efuse_pool *pool, idle *it)
{
	if (it->prev)
		it->prev->next = it->next;
	else
		pool->newest = it->next;
	if (it->next)
		it->next->prev = it->prev;
	else
		pool->oldest = it->prev;
	pool->used -= it->cost;
}

void efuse_pool_free(efuse_pool *pool)
{
	if (pool == NULL)
		return;
	while (pool->newest) {
		idle *it = pool->newest;

		unlink_idle(pool, it);
		eris_decoder_free(it->dec);
		free(it);
	}
	pthread_mutex_destroy(&pool->lock);
	free(pool);
}

int efuse_pool_take(efuse_pool *pool, uint64_t key, const eris_read_cap *cap,
		    eris_decoder **out)
{
	idle *it;

	pthread_mutex_lock(&pool->lock);
	for (it = pool->newest; it != NULL; it = it->next)
		if (it->key == key)
			break;
	if (it)
		unlink_idle(pool, it);
	pthread_mutex_unlock(&pool->lock);
	if (it) {
		*out = it->dec;
		free(it);
		return ERIS_OK;
	}
	/* Opened outside the lock: it may fetch blocks from far away. */
	return eris_decoder_new(out, pool->store, cap);
}

void efuse_pool_give(efuse_pool *pool, uint64_t key, const eris_read_cap *cap,
		     eris_decoder *dec)
{
	idle *it = malloc(sizeof(*it)), *victims = NULL;

	if (it == NULL) {
		eris_decoder_free(dec);
		return;
	}
	it->key = key;
	it->dec = dec;
	it->cost = decoder_cost(cap);
	pthread_mutex_lock(&pool->lock);
	it->prev = NULL;
	it->next = pool->newest;
	if (pool->newest)
		pool->newest->prev = it;
	else
		pool->oldest = it;
	pool->newest = it;
	pool->used += it->cost;
	/* Over the bound: the least recently used go (freed unlocked). */
	while (pool->used > pool->limit && pool->oldest) {
		idle *old = pool->oldest;

		unlink_idle(pool, old);
		old->next = victims;
		victims = old;
	}
	pthread_mutex_unlock(&pool->lock);
	while (victims) {
		idle *next = victims->next;

		eris_decoder_free(victims->dec);
		free(victims);
		victims = next;
	}
}

size_t efuse_pool_idle_bytes(efuse_pool *pool)
{
	size_t used;

	pthread_mutex_lock(&pool->lock);
	used = pool->used;
	pthread_mutex_unlock(&pool->lock);
	return used;
}

void efuse_pool_drop(efuse_pool *pool, uint64_t key)
{
	idle *it, *next, *victims = NULL;

	pthread_mutex_lock(&pool->lock);
	for (it = pool->newest; it != NULL; it = next) {
		next = it->next;
		if (it->key != key)
			continue;
		unlink_idle(pool, it);
		it->next = victims;
		victims = it;
	}
	pthread_mutex_unlock(&pool->lock);
	while (victims) {
		next = victims->next;
		eris_decoder_free(victims->dec);
		free(victims);
		victims = next;
	}
}
