/*
 * cache.h - erisd's cache of verified blocks (--cache-size).
 *
 * A block enters only after this process hashed it against its reference
 * (a verified eris_store_get), so serving from the cache keeps erisd's
 * guarantee: no unverified byte is ever sent. A hit costs no store access
 * and no re-hash. Once full, a block enters on its second miss only (a
 * table of recently missed references keeps out blocks read once).
 * Eviction is CLOCK (second chance); the hash table is
 * keyed with a random SipHash key so that clients cannot aim requests at
 * one bucket. An entry handed out by erisd_cache_get() is pinned (never
 * evicted nor freed) until erisd_cache_release().
 *
 * The bytes of an entry are on the heap and never change after it
 * entered; the network thread sends a hit straight from them (pinned).
 *
 * Thread-safe: one mutex, held for a lookup or an insert (the insert
 * copies the block outside it).
 */
#ifndef ERISD_CACHE_H
#define ERISD_CACHE_H

#include <eris/eris.h>

#include <stddef.h>
#include <stdint.h>

typedef struct erisd_cache erisd_cache;
typedef struct erisd_cache_entry erisd_cache_entry;

/*
 * A cache holding at most `capacity` bytes of blocks.
 * @return ERIS_OK, ERIS_EINVAL (capacity below one 32 KiB block) or
 *         ERIS_ENOMEM
 */
int erisd_cache_new(erisd_cache **out, size_t capacity);

/* Free the cache. No entry may still be pinned. NULL is allowed. */
void erisd_cache_free(erisd_cache *cache);

/* The verified block `ref`, pinned, or NULL when it is not cached. */
const erisd_cache_entry *erisd_cache_get(erisd_cache *cache,
					 const uint8_t ref[ERIS_REF_BYTES]);

/* Unpin an entry from erisd_cache_get(). */
void erisd_cache_release(erisd_cache *cache, const erisd_cache_entry *e);

/* The bytes of an entry (valid while it is pinned). */
const uint8_t *erisd_cache_data(const erisd_cache_entry *e);
size_t erisd_cache_len(const erisd_cache_entry *e);

/*
 * Add block `ref` (`len` bytes: 1 KiB or 32 KiB), which the caller has
 * just verified against `ref`. While there is room it always enters. When
 * the cache is full it enters only if the same reference was put (and
 * kept out) recently: the first put under pressure only notes it, the
 * second evicts unpinned entries to make room (see cache.c). When
 * everything is pinned the block is simply not added. Adding a block
 * that is there already does nothing.
 */
void erisd_cache_put(erisd_cache *cache, const uint8_t ref[ERIS_REF_BYTES],
		     const uint8_t *data, size_t len);

/* Statistics (for tests): blocks and bytes held now, evictions so far. */
void erisd_cache_stats(erisd_cache *cache, size_t *blocks, size_t *bytes,
		       uint64_t *evictions);

/* Statistics (for tests): puts kept out because the cache was full and
 * the reference had not been missed recently. */
uint64_t erisd_cache_refused(erisd_cache *cache);

#endif
