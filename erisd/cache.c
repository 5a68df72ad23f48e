/*
 * cache.c - erisd's cache of verified blocks (see cache.h).
 *
 * Entries sit in two structures: a chained hash table (buckets chosen by
 * SipHash-2-4 of the reference under a key drawn at start-up, libsodium's
 * crypto_shorthash) and a circular list that the CLOCK hand walks. A hit
 * sets the entry's `referenced` bit; the hand clears set bits and evicts
 * the first unpinned entry whose bit is clear, so a block read often
 * survives while a block read once makes room soon.
 *
 * Admission: while the cache has room, every verified block enters on its
 * first read. Once it is full, a block enters only on its second miss
 * within a while: the first miss only notes the reference's keyed hash in
 * the "ghost" table (direct-mapped, cleared after as many notes as the
 * cache holds blocks, so it remembers about the last half cache's worth of
 * misses) and the caller serves the block from its own verified buffer.
 * When the blocks read far outnumber the cache, most are read once before
 * they would be evicted again; keeping them out saves the copy into the
 * cache and the eviction of a block that might still be read, and a block
 * read again soon still gets in.
 *
 * Where the bytes live: on the heap, right behind the entry's header. A
 * hit is sent by copying from there (sendmsg), while the entry stays
 * pinned; the bytes of an entry are never written after it entered.
 * (32 KiB blocks used to live in a memfd to be sent with sendfile, but
 * refilling a slot meant punching its pages out and allocating new ones,
 * about 20 us per insertion here, while a sendfile of a hit cost as much
 * as a copying sendmsg: see docs/PERFORMANCE.md.)
 */
#define _GNU_SOURCE
#include "cache.h"

#include <fcntl.h>
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

struct erisd_cache_entry {
	uint8_t ref[ERIS_REF_BYTES];
	struct erisd_cache_entry *hnext;        /* bucket chain */
	struct erisd_cache_entry *cprev, *cnext; /* the CLOCK ring */
	unsigned pins;                           /* sends in flight */
	int referenced;                          /* hit since the hand passed */
	size_t len;
	uint8_t data[];                          /* the block */
};

typedef struct erisd_cache_entry entry;

struct erisd_cache {
	pthread_mutex_t mu;
	unsigned char key[crypto_shorthash_KEYBYTES];
	entry **buckets;
	size_t mask;     /* buckets - 1 (a power of two) */
	entry *hand;     /* next entry the CLOCK looks at; NULL: empty */
	size_t capacity; /* bytes of blocks, at most */
	size_t bytes, blocks;
	uint64_t evictions;
	uint64_t refused;  /* blocks kept out by admit() */
	uint64_t *ghost;  /* keyed hashes of missed references; 0: none */
	size_t gmask;     /* ghost slots - 1 (a power of two) */
	size_t gnoted;    /* notes since the ghost table was cleared */
};

int erisd_cache_new(erisd_cache **out, size_t capacity)
{
	erisd_cache *c;
	size_t n = 16;

	*out = NULL;
	if (capacity < ERIS_BLOCK_SIZE_MAX)
		return ERIS_EINVAL;
	if (sodium_init() < 0)
		return ERIS_ERROR;
	c = calloc(1, sizeof *c);
	if (!c)
		return ERIS_ENOMEM;
	/* About one bucket per 1 KiB block that fits (at most 4 Mi). */
	while (n < capacity / ERIS_BLOCK_SIZE_1K && n < ((size_t)1 << 22))
		n *= 2;
	c->buckets = calloc(n, sizeof *c->buckets);
	if (!c->buckets) {
		free(c);
		return ERIS_ENOMEM;
	}
	c->mask = n - 1;
	/* Twice the buckets: few notes overwrite one another. */
	c->ghost = calloc(2 * n, sizeof *c->ghost);
	if (!c->ghost) {
		free(c->buckets);
		free(c);
		return ERIS_ENOMEM;
	}
	c->gmask = 2 * n - 1;
	c->capacity = capacity;
	crypto_shorthash_keygen(c->key);
	pthread_mutex_init(&c->mu, NULL);
	*out = c;
	return ERIS_OK;
}

void erisd_cache_free(erisd_cache *c)
{
	entry *e, *next;

	if (!c)
		return;
	if (c->hand) {
		c->hand->cprev->cnext = NULL; /* break the ring */
		for (e = c->hand; e; e = next) {
			next = e->cnext;
			free(e);
		}
	}
	free(c->buckets);
	free(c->ghost);
	pthread_mutex_destroy(&c->mu);
	free(c);
}

/* The keyed hash of a reference (SipHash-2-4). */
static uint64_t ref_hash(const erisd_cache *c, const uint8_t *ref)
{
	unsigned char h[crypto_shorthash_BYTES];
	uint64_t v;

	crypto_shorthash(h, ref, ERIS_REF_BYTES, c->key);
	memcpy(&v, h, sizeof v);
	return v;
}

static entry **bucket(erisd_cache *c, const uint8_t ref[ERIS_REF_BYTES])
{
	return &c->buckets[ref_hash(c, ref) & c->mask];
}

static entry *find(entry **b, const uint8_t *ref)
{
	entry *e;

	for (e = *b; e; e = e->hnext)
		if (memcmp(e->ref, ref, ERIS_REF_BYTES) == 0)
			return e;
	return NULL;
}

/* Remove `e` from the table and the ring and free it (c->mu held). */
static void drop(erisd_cache *c, entry *e)
{
	entry **p = bucket(c, e->ref);

	while (*p != e)
		p = &(*p)->hnext;
	*p = e->hnext;
	if (e->cnext == e) {
		c->hand = NULL;
	} else {
		e->cprev->cnext = e->cnext;
		e->cnext->cprev = e->cprev;
		if (c->hand == e)
			c->hand = e->cnext;
	}
	c->bytes -= e->len;
	c->blocks--;
	c->evictions++;
	free(e);
}

/* Evict one unpinned entry; 0 if every entry is pinned (c->mu held).
 * Two turns of the hand clear every bit, so they find one if any. */
static int evict_one(erisd_cache *c)
{
	size_t steps = 2 * c->blocks + 1;

	while (c->hand && steps-- > 0) {
		entry *e = c->hand;

		c->hand = e->cnext;
		if (e->pins)
			continue;
		if (e->referenced) {
			e->referenced = 0;
			continue;
		}
		drop(c, e);
		return 1;
	}
	return 0;
}

const erisd_cache_entry *erisd_cache_get(erisd_cache *c,
					 const uint8_t ref[ERIS_REF_BYTES])
{
	entry *e;

	pthread_mutex_lock(&c->mu);
	e = find(bucket(c, ref), ref);
	if (e) {
		e->pins++;
		e->referenced = 1;
	}
	pthread_mutex_unlock(&c->mu);
	return e;
}

void erisd_cache_release(erisd_cache *c, const erisd_cache_entry *ce)
{
	entry *e = (entry *)ce;

	pthread_mutex_lock(&c->mu);
	e->pins--;
	pthread_mutex_unlock(&c->mu);
}

const uint8_t *erisd_cache_data(const erisd_cache_entry *e)
{
	return e->data;
}

size_t erisd_cache_len(const erisd_cache_entry *e)
{
	return e->len;
}

/* Insert `e` (c->mu held, room made, not present). */
static void link_entry(erisd_cache *c, entry **b, entry *e)
{
	e->hnext = *b;
	*b = e;
	/* Just behind the hand: the last entry it will look at. */
	if (!c->hand) {
		e->cnext = e->cprev = e;
		c->hand = e;
	} else {
		e->cnext = c->hand;
		e->cprev = c->hand->cprev;
		c->hand->cprev->cnext = e;
		c->hand->cprev = e;
	}
	c->bytes += e->len;
	c->blocks++;
}

/* Make room for `len` more bytes (c->mu held); 0 if all is pinned. */
static int make_room(erisd_cache *c, size_t len)
{
	while (c->bytes + len > c->capacity)
		if (!evict_one(c))
			return 0;
	return 1;
}

/*
 * 1 if a block of `len` bytes whose reference hashes to `h` may enter
 * (c->mu held): always while there is room; when full, only if its
 * reference was noted as missed since the ghost table was last cleared.
 * Otherwise note it now. See the top.
 */
static int admit(erisd_cache *c, uint64_t h, size_t len)
{
	uint64_t tag = h | 1; /* never 0, the empty mark */
	size_t i = (size_t)h & c->gmask;
	size_t window = c->blocks < 16 ? 16 : c->blocks;

	if (c->bytes + len <= c->capacity)
		return 1;
	if (c->ghost[i] == tag) {
		c->ghost[i] = 0;
		return 1;
	}
	if (++c->gnoted > window) {
		memset(c->ghost, 0, (c->gmask + 1) * sizeof *c->ghost);
		c->gnoted = 1;
	}
	c->ghost[i] = tag;
	c->refused++;
	return 0;
}

void erisd_cache_put(erisd_cache *c, const uint8_t ref[ERIS_REF_BYTES],
		     const uint8_t *data, size_t len)
{
	uint64_t h;
	entry *e, **b;
	int ok;

	if (len != ERIS_BLOCK_SIZE_1K && len != ERIS_BLOCK_SIZE_32K)
		return;
	/* Decide first, so that a block kept out costs no copy. */
	h = ref_hash(c, ref);
	pthread_mutex_lock(&c->mu);
	ok = !find(&c->buckets[h & c->mask], ref) && admit(c, h, len);
	pthread_mutex_unlock(&c->mu);
	if (!ok)
		return;
	e = malloc(sizeof *e + len);
	if (!e)
		return;
	memcpy(e->ref, ref, ERIS_REF_BYTES);
	e->len = len;
	e->pins = 0;
	e->referenced = 0;
	memcpy(e->data, data, len); /* outside the lock */

	pthread_mutex_lock(&c->mu);
	b = &c->buckets[h & c->mask];
	if (find(b, ref) || !make_room(c, len)) {
		pthread_mutex_unlock(&c->mu);
		free(e);
		return;
	}
	link_entry(c, b, e);
	pthread_mutex_unlock(&c->mu);
}

void erisd_cache_stats(erisd_cache *c, size_t *blocks, size_t *bytes,
		       uint64_t *evictions)
{
	pthread_mutex_lock(&c->mu);
	if (blocks)
		*blocks = c->blocks;
	if (bytes)
		*bytes = c->bytes;
	if (evictions)
		*evictions = c->evictions;
	pthread_mutex_unlock(&c->mu);
}

uint64_t erisd_cache_refused(erisd_cache *c)
{
	uint64_t n;

	pthread_mutex_lock(&c->mu);
	n = c->refused;
	pthread_mutex_unlock(&c->mu);
	return n;
}
