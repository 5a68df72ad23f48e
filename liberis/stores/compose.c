/*
 * compose.c - stores made of other stores: the read-through cache
 * (cache:LOCAL,REMOTE) and the fallback list (fallback:S1,S2,...).
 *
 * Why: a slow or far store (a remote, a bundle on a network share) is
 * paired with a fast local one, and content can be read from whichever of
 * several places still holds a good copy. Both are ordinary back ends
 * over member stores, so they nest (cache:mem:,fallback:A\,B).
 *
 * Trust. Whatever a composite returns is hashed again by eris_store_get()
 * like any store's blocks; but a composite also has to judge blocks
 * itself, because what it does next depends on it: the cache copies a
 * remote block into LOCAL only once it has checked it, and the fallback
 * list moves on past a member whose copy is corrupt. It judges through
 * eris_store_get() on the members (or the batched raw fetch plus the same
 * checks), so those blocks are hashed twice; a cache hit in LOCAL is
 * passed through raw and hashed once, by the outer wrapper.
 *
 * Semantics, operation by operation:
 *
 *   cache:LOCAL,REMOTE
 *     get      LOCAL. Only if LOCAL says ENOTFOUND: REMOTE, verified
 *              (1024/32768 bytes and BLAKE2b-256 == ref); a good block is
 *              put into LOCAL and returned. A bad remote block is not
 *              cached and its error (EMISMATCH, EBLOCKSIZE) is returned.
 *              If putting into LOCAL fails, the read still succeeds: the
 *              block is good, the cache just stays cold (the caller gets
 *              no error and the put's message is discarded). A corrupt
 *              copy in LOCAL is reported (EMISMATCH from the wrapper),
 *              not silently refetched: fsck's job is to remove it, after
 *              which the next read fetches it again.
 *     get_many LOCAL's batch for all, then REMOTE's batch for the misses,
 *              each verified and cached as above.
 *     put      LOCAL, then REMOTE; the first failure is returned (a
 *              failed LOCAL put is not sent on; a failed REMOTE put leaves
 *              the block in LOCAL). A read-only REMOTE makes puts fail
 *              with EREADONLY after the block was cached.
 *     has      LOCAL, else REMOTE (errors from LOCAL are returned).
 *     flush    both; the first failure is returned.
 *     foreach  LOCAL only: a cache lists what it holds, not what it could
 *              fetch (remotes often cannot list at all).
 *     remove   LOCAL only: this evicts from the cache; a later get fetches
 *              the block from REMOTE again.
 *     pins     LOCAL only: they are what a gc of LOCAL keeps.
 *     lock     LOCAL, then REMOTE if it has one.
 *     get_cached LOCAL's, raw (ENOTFOUND there is EAGAIN: REMOTE waits).
 *
 *   fallback:S1,S2,...
 *     get      each member in order, through eris_store_get(): the first
 *              good block wins. ENOTFOUND, a corrupt copy (EMISMATCH,
 *              EBLOCKSIZE) and any other error (an unreachable member)
 *              all move on to the next member, since another may hold a
 *              good copy. If none succeeds: ENOTFOUND when every member
 *              said not found, else the last other error, with its
 *              message.
 *     get_many the same, batched per member over the blocks still open.
 *     put      S1 only.
 *     has      1 if any member has it; else the last error, if any; else 0.
 *     flush    all; the first failure is returned.
 *     foreach  the union, each block once: S1's blocks, then those of S2
 *              that S1 lacks, and so on (checked with has). ENOTSUP if a
 *              member cannot list.
 *     remove   all members (so that a later get does not find it in the
 *              next one); every member is tried and the first failure is
 *              returned (EREADONLY for a read-only member).
 *     pin add  S1 only, like put.
 *     pin list the pins of every member that has pins, each name once
 *              (the first member's pin wins): a gc of a fallback store
 *              deletes in every member, so it must keep what any member
 *              pins. ENOTSUP only if no member has pins.
 *     pin rm   every member that has pins; ENOTFOUND if none had it.
 *     lock     every member that has a lock, in order.
 *     get_cached none: a copy must be judged before moving on, so
 *              nothing is at hand (EAGAIN).
 *
 * Ownership: both constructors take their members, free them with the
 * composite, and free them at once if construction fails.
 * Threads: a composite keeps no mutable state; it is as thread-safe as its
 * members.
 */
#include "../internal.h"

#include <stdio.h>
#include <string.h>

/* Batches are handled in chunks of this many blocks (bookkeeping on the
 * stack: the hot path does not allocate). */
#define CHUNK 64

/* ----------------------------------------------------------------------
 * Shared helpers
 */

/* The checks eris_store_get() makes, for blocks fetched raw in a batch. */
static int check_fetched(const uint8_t *ref, uint8_t *buf, size_t len,
			 const uint8_t digest[ERIS_REF_BYTES])
{
	if (!eris__valid_block_size(len))
		return ERIS_EBLOCKSIZE;
	if (!eris__equal32(digest, ref)) {
		eris_memzero(buf, len);
		return ERIS_EMISMATCH;
	}
	return ERIS_OK;
}

/* Verify the blocks k of a raw batch with results[k] == ERIS_OK, hashing
 * equal-sized blocks several at a time; results[k] becomes the verdict. */
static void verify_batch(size_t n, const uint8_t (*refs)[ERIS_REF_BYTES],
			 uint8_t *const *bufs, const size_t *lens, int *results)
{
	for (size_t bs = ERIS_BLOCK_SIZE_1K; bs <= ERIS_BLOCK_SIZE_32K;
	     bs *= 32) {
		const uint8_t *in[ERIS__B2B_MAX_LANES];
		uint8_t digests[ERIS__B2B_MAX_LANES][ERIS_REF_BYTES];
		size_t idx[ERIS__B2B_MAX_LANES], m = 0;

		for (size_t k = 0; k <= n; k++) {
			if (k < n && results[k] == ERIS_OK && lens[k] == bs) {
				idx[m] = k;
				in[m++] = bufs[k];
			}
			if (m == ERIS__B2B_MAX_LANES || (k == n && m > 0)) {
				eris__blake2b_many(in, m, bs, NULL, digests);
				for (size_t j = 0; j < m; j++)
					results[idx[j]] = check_fetched(
						refs[idx[j]], bufs[idx[j]],
						lens[idx[j]], digests[j]);
				m = 0;
			}
		}
	}
	/* Anything left "OK" has an invalid size. */
	for (size_t k = 0; k < n; k++)
		if (results[k] == ERIS_OK && !eris__valid_block_size(lens[k]))
			results[k] = ERIS_EBLOCKSIZE;
}

/* Keep a copy of this thread's error message across calls that set
 * their own. */
typedef struct {
	int code;
	char msg[256];
} saved_error;

static void save_error(saved_error *e, int code)
{
	e->code = code;
	snprintf(e->msg, sizeof(e->msg), "%s", eris_error_last());
}

/* Remember the first failure of a series of calls that all must run. */
static void keep_first(saved_error *first, int rc)
{
	if (rc < 0 && first->code == 0)
		save_error(first, rc);
}

static int restore_error(const saved_error *e)
{
	return eris_error_set(e->code, "%s", e->msg);
}

/* ----------------------------------------------------------------------
 * cache:LOCAL,REMOTE
 */

typedef struct {
	eris_store_backend parent;
	eris_store *local, *remote;
} cache_store;

static int cache_get(eris_store_backend *b, const uint8_t *ref, uint8_t *buf,
		     size_t buf_size, size_t *out_len)
{
	cache_store *c = (cache_store *)b;
	int rc = eris__store_get_raw(c->local, ref, buf, buf_size, out_len);

	if (rc != ERIS_ENOTFOUND)
		return rc;
	rc = eris_store_get(c->remote, ref, buf, buf_size, out_len);
	if (rc == ERIS_ENOTFOUND)
		return rc; /* plain: the wrapper writes the message */
	if (rc < 0)
		return rc;
	/* Verified: cache it. A failure here only leaves the cache cold. */
	(void)eris__store_put_trusted(c->local, ref, buf, *out_len);
	return ERIS_OK;
}

/* At hand only when LOCAL has it at hand, passed through raw like a hit
 * in get: a block REMOTE must supply means a wait (and a put). */
static int cache_get_cached(eris_store_backend *b, size_t n,
			    const uint8_t (*refs)[ERIS_REF_BYTES],
			    uint8_t *const *bufs, size_t buf_size,
			    size_t *out_lens, int *results)
{
	cache_store *c = (cache_store *)b;

	eris__store_get_cached_raw(c->local, n, refs, bufs, buf_size,
				   out_lens, results);
	for (size_t i = 0; i < n; i++)
		if (results[i] == ERIS_ENOTFOUND)
			results[i] = ERIS_EAGAIN;
	return ERIS_OK;
}

static int cache_get_many(eris_store_backend *b, size_t n,
			  const uint8_t (*refs)[ERIS_REF_BYTES],
			  uint8_t *const *bufs, size_t buf_size,
			  size_t *out_lens, int *results)
{
	cache_store *c = (cache_store *)b;
	int rc = eris__store_get_many_raw(c->local, n, refs, bufs, buf_size,
					  out_lens, results);

	if (rc < 0)
		return rc;
	for (size_t start = 0; start < n;) {
		uint8_t miss_refs[CHUNK][ERIS_REF_BYTES];
		uint8_t *miss_bufs[CHUNK];
		size_t miss_lens[CHUNK], idx[CHUNK], m = 0;
		int miss_results[CHUNK];

		for (; start < n && m < CHUNK; start++) {
			if (results[start] != ERIS_ENOTFOUND)
				continue;
			memcpy(miss_refs[m], refs[start], ERIS_REF_BYTES);
			miss_bufs[m] = bufs[start];
			idx[m++] = start;
		}
		if (m == 0)
			break;
		rc = eris__store_get_many_raw(
			c->remote, m, (const uint8_t(*)[ERIS_REF_BYTES])miss_refs,
			miss_bufs, buf_size, miss_lens, miss_results);
		if (rc < 0)
			return rc;
		verify_batch(m, (const uint8_t(*)[ERIS_REF_BYTES])miss_refs,
			     miss_bufs, miss_lens, miss_results);
		for (size_t j = 0; j < m; j++) {
			results[idx[j]] = miss_results[j];
			out_lens[idx[j]] = miss_lens[j];
			if (miss_results[j] == ERIS_OK)
				(void)eris__store_put_trusted(
					c->local, miss_refs[j], miss_bufs[j],
					miss_lens[j]);
		}
	}
	return ERIS_OK;
}

static int cache_put(eris_store_backend *b, const uint8_t *ref,
		     const uint8_t *block, size_t len)
{
	cache_store *c = (cache_store *)b;
	int rc = eris__store_put_trusted(c->local, ref, block, len);

	if (rc < 0)
		return rc;
	return eris__store_put_trusted(c->remote, ref, block, len);
}

static int cache_has(eris_store_backend *b, const uint8_t *ref)
{
	cache_store *c = (cache_store *)b;
	int rc = eris_store_has(c->local, ref);

	return rc != 0 ? rc : eris_store_has(c->remote, ref);
}

static int cache_flush(eris_store_backend *b)
{
	cache_store *c = (cache_store *)b;
	saved_error first = {0, ""};

	keep_first(&first, eris_store_flush(c->local));
	keep_first(&first, eris_store_flush(c->remote));
	return first.code < 0 ? restore_error(&first) : ERIS_OK;
}

static int cache_foreach(eris_store_backend *b,
			 int (*cb)(const uint8_t ref[ERIS_REF_BYTES],
				   size_t len, void *payload),
			 void *payload)
{
	return eris_store_foreach(((cache_store *)b)->local, cb, payload);
}

static int cache_remove(eris_store_backend *b, const uint8_t *ref)
{
	return eris_store_remove(((cache_store *)b)->local, ref);
}

static int cache_pin_add(eris_store_backend *b, const eris_pin *pin,
			 unsigned flags)
{
	return eris_store_pin_add(((cache_store *)b)->local, pin, flags);
}

static int cache_pin_remove(eris_store_backend *b, const char *name)
{
	return eris_store_pin_remove(((cache_store *)b)->local, name);
}

static int cache_pin_foreach(eris_store_backend *b,
			     int (*cb)(const eris_pin *pin, void *payload),
			     void *payload)
{
	return eris_store_pin_foreach(((cache_store *)b)->local, cb, payload);
}

/* Lock or unlock every member that has a lock (ERIS_ENOTSUP if none);
 * on failure, the members locked so far are released. */
static int lock_members(eris_store **members, size_t n, int mode)
{
	size_t locked = 0;
	int any = 0, rc;

	for (size_t i = 0; i < n; i++) {
		if (mode == 0) {
			(void)eris_store_unlock(members[i]);
			continue;
		}
		rc = eris_store_lock(members[i], mode);
		if (rc == ERIS_ENOTSUP)
			continue;
		if (rc < 0) {
			for (size_t j = 0; j < locked; j++)
				(void)eris_store_unlock(members[j]);
			return rc;
		}
		any = 1;
		locked = i + 1;
	}
	if (mode != 0 && !any)
		return eris_error_set(ERIS_ENOTSUP,
				      "no member of this store has a gc lock");
	return ERIS_OK;
}

static int cache_lock(eris_store_backend *b, int mode)
{
	cache_store *c = (cache_store *)b;
	eris_store *members[2] = { c->local, c->remote };

	return lock_members(members, 2, mode);
}

static void cache_free(eris_store_backend *b)
{
	cache_store *c = (cache_store *)b;

	eris_store_free(c->local);
	eris_store_free(c->remote);
	eris__free(c);
}

int eris_store_new_cache(eris_store **out, eris_store *local,
			 eris_store *remote)
{
	cache_store *c;
	int rc;

	*out = NULL;
	if (local == NULL || remote == NULL) {
		eris_store_free(local);
		eris_store_free(remote);
		return eris_error_set(ERIS_EINVAL,
				      "cache: needs a local and a remote store");
	}
	c = eris__calloc(1, sizeof(*c));
	if (c == NULL) {
		eris_store_free(local);
		eris_store_free(remote);
		return eris_error_set(ERIS_ENOMEM, "out of memory");
	}
	c->local = local;
	c->remote = remote;
	c->parent.version = ERIS_STORE_BACKEND_VERSION;
	c->parent.get = cache_get;
	c->parent.get_many = cache_get_many;
	c->parent.put = cache_put;
	c->parent.has = cache_has;
	c->parent.flush = cache_flush;
	c->parent.free = cache_free;
	c->parent.foreach = cache_foreach;
	c->parent.remove = cache_remove;
	c->parent.pin_add = cache_pin_add;
	c->parent.pin_remove = cache_pin_remove;
	c->parent.pin_foreach = cache_pin_foreach;
	c->parent.lock = cache_lock;
	c->parent.get_cached = cache_get_cached;
	if ((rc = eris_store_new_from_backend(out, &c->parent)) < 0)
		return rc;
	(*out)->remote = local->remote || remote->remote;
	return ERIS_OK;
}

/* ----------------------------------------------------------------------
 * fallback:S1,S2,...
 */

typedef struct {
	eris_store_backend parent;
	size_t n;
	eris_store *members[]; /* n of them, owned */
} fallback_store;

static int fallback_get(eris_store_backend *b, const uint8_t *ref,
			uint8_t *buf, size_t buf_size, size_t *out_len)
{
	fallback_store *f = (fallback_store *)b;
	saved_error last = {0, ""};

	for (size_t i = 0; i < f->n; i++) {
		int rc = eris_store_get(f->members[i], ref, buf, buf_size,
					out_len);

		if (rc == ERIS_OK)
			return rc;
		if (rc != ERIS_ENOTFOUND)
			save_error(&last, rc);
	}
	*out_len = 0;
	return last.code < 0 ? restore_error(&last) : ERIS_ENOTFOUND;
}

static int fallback_get_many(eris_store_backend *b, size_t n,
			     const uint8_t (*refs)[ERIS_REF_BYTES],
			     uint8_t *const *bufs, size_t buf_size,
			     size_t *out_lens, int *results)
{
	fallback_store *f = (fallback_store *)b;

	for (size_t start = 0; start < n; start += CHUNK) {
		size_t count = n - start < CHUNK ? n - start : CHUNK;
		/* Per block of this chunk: the final verdict so far; blocks
		 * still without a good copy are retried in the next member. */
		int verdict[CHUNK];

		for (size_t k = 0; k < count; k++)
			verdict[k] = ERIS_ENOTFOUND;
		for (size_t i = 0; i < f->n; i++) {
			uint8_t open_refs[CHUNK][ERIS_REF_BYTES];
			uint8_t *open_bufs[CHUNK];
			size_t open_lens[CHUNK], idx[CHUNK], m = 0;
			int open_results[CHUNK], rc;

			for (size_t k = 0; k < count; k++) {
				if (verdict[k] == ERIS_OK)
					continue;
				memcpy(open_refs[m], refs[start + k],
				       ERIS_REF_BYTES);
				open_bufs[m] = bufs[start + k];
				idx[m++] = k;
			}
			if (m == 0)
				break;
			rc = eris__store_get_many_raw(
				f->members[i], m,
				(const uint8_t(*)[ERIS_REF_BYTES])open_refs,
				open_bufs, buf_size, open_lens, open_results);
			if (rc < 0) {
				/* The whole batch failed in this member: that
				 * is every open block's error here. */
				for (size_t j = 0; j < m; j++)
					open_results[j] = rc;
			} else {
				verify_batch(m,
					     (const uint8_t(*)[ERIS_REF_BYTES])
						     open_refs,
					     open_bufs, open_lens, open_results);
			}
			for (size_t j = 0; j < m; j++) {
				size_t k = idx[j];

				if (open_results[j] == ERIS_OK) {
					verdict[k] = ERIS_OK;
					out_lens[start + k] = open_lens[j];
				} else if (open_results[j] != ERIS_ENOTFOUND) {
					verdict[k] = open_results[j];
				}
			}
		}
		for (size_t k = 0; k < count; k++) {
			results[start + k] = verdict[k];
			if (verdict[k] != ERIS_OK)
				out_lens[start + k] = 0;
		}
	}
	return ERIS_OK;
}

static int fallback_put(eris_store_backend *b, const uint8_t *ref,
			const uint8_t *block, size_t len)
{
	fallback_store *f = (fallback_store *)b;

	return eris__store_put_trusted(f->members[0], ref, block, len);
}

static int fallback_has(eris_store_backend *b, const uint8_t *ref)
{
	fallback_store *f = (fallback_store *)b;
	saved_error last = {0, ""};

	for (size_t i = 0; i < f->n; i++) {
		int rc = eris_store_has(f->members[i], ref);

		if (rc > 0)
			return 1;
		if (rc < 0)
			save_error(&last, rc);
	}
	return last.code < 0 ? restore_error(&last) : 0;
}

static int fallback_flush(eris_store_backend *b)
{
	fallback_store *f = (fallback_store *)b;
	saved_error first = {0, ""};

	for (size_t i = 0; i < f->n; i++)
		keep_first(&first, eris_store_flush(f->members[i]));
	return first.code < 0 ? restore_error(&first) : ERIS_OK;
}

/* foreach over member i, passing on only blocks no earlier member has. */
typedef struct {
	fallback_store *f;
	size_t member;
	int (*cb)(const uint8_t ref[ERIS_REF_BYTES], size_t len, void *payload);
	void *payload;
} union_walk;

static int union_step(const uint8_t ref[ERIS_REF_BYTES], size_t len,
		      void *payload)
{
	union_walk *w = payload;

	for (size_t i = 0; i < w->member; i++) {
		int rc = eris_store_has(w->f->members[i], ref);

		if (rc > 0)
			return 0; /* listed already, with member i */
		if (rc < 0)
			return rc; /* stops the listing */
	}
	return w->cb(ref, len, w->payload);
}

static int fallback_foreach(eris_store_backend *b,
			    int (*cb)(const uint8_t ref[ERIS_REF_BYTES],
				      size_t len, void *payload),
			    void *payload)
{
	fallback_store *f = (fallback_store *)b;
	union_walk w = {f, 0, cb, payload};

	/* Refuse before listing anything rather than list part of it. */
	for (size_t i = 0; i < f->n; i++)
		if (f->members[i]->backend->foreach == NULL)
			return eris_error_set(ERIS_ENOTSUP,
					      "fallback: store %zu cannot list "
					      "its blocks",
					      i + 1);
	for (size_t i = 0; i < f->n; i++) {
		int rc;

		w.member = i;
		rc = eris_store_foreach(f->members[i], union_step, &w);
		if (rc != 0)
			return rc;
	}
	return ERIS_OK;
}

static int fallback_remove(eris_store_backend *b, const uint8_t *ref)
{
	fallback_store *f = (fallback_store *)b;
	saved_error first = {0, ""};

	for (size_t i = 0; i < f->n; i++)
		keep_first(&first, eris_store_remove(f->members[i], ref));
	return first.code < 0 ? restore_error(&first) : ERIS_OK;
}

static int fallback_pin_add(eris_store_backend *b, const eris_pin *pin,
			    unsigned flags)
{
	return eris_store_pin_add(((fallback_store *)b)->members[0], pin,
				  flags);
}

static int fallback_pin_remove(eris_store_backend *b, const char *name)
{
	fallback_store *f = (fallback_store *)b;
	saved_error first = { 0, "" };
	int found = 0, any = 0;

	for (size_t i = 0; i < f->n; i++) {
		int rc = eris_store_pin_remove(f->members[i], name);

		if (rc == ERIS_ENOTSUP)
			continue;
		any = 1;
		if (rc == ERIS_OK)
			found = 1;
		else if (rc != ERIS_ENOTFOUND)
			keep_first(&first, rc);
	}
	if (first.code < 0)
		return restore_error(&first);
	if (!any)
		return eris_error_set(ERIS_ENOTSUP,
				      "no member of this store can hold pins");
	return found ? ERIS_OK
		     : eris_error_set(ERIS_ENOTFOUND, "no pin named '%s'",
				      name);
}

/* foreach over member i's pins, passing on names no earlier member has. */
typedef struct {
	fallback_store *f;
	size_t member;
	const char *name; /* looked up in earlier members */
	int found;
	int (*cb)(const eris_pin *pin, void *payload);
	void *payload;
} pin_walk;

static int pin_seen(const eris_pin *pin, void *payload)
{
	pin_walk *w = payload;

	if (strcmp(pin->name, w->name) == 0) {
		w->found = 1;
		return 1;
	}
	return 0;
}

static int pin_union_step(const eris_pin *pin, void *payload)
{
	pin_walk *w = payload;

	for (size_t i = 0; i < w->member; i++) {
		pin_walk look = *w;
		int rc;

		look.name = pin->name;
		look.found = 0;
		rc = eris_store_pin_foreach(w->f->members[i], pin_seen, &look);
		if (rc < 0 && rc != ERIS_ENOTSUP)
			return rc;
		if (look.found)
			return 0;
	}
	return w->cb(pin, w->payload);
}

static int fallback_pin_foreach(eris_store_backend *b,
				int (*cb)(const eris_pin *pin, void *payload),
				void *payload)
{
	fallback_store *f = (fallback_store *)b;
	pin_walk w = { f, 0, NULL, 0, cb, payload };
	int any = 0;

	for (size_t i = 0; i < f->n; i++) {
		int rc;

		w.member = i;
		rc = eris_store_pin_foreach(f->members[i], pin_union_step, &w);
		if (rc == ERIS_ENOTSUP)
			continue;
		if (rc != 0)
			return rc;
		any = 1;
	}
	return any ? ERIS_OK
		   : eris_error_set(ERIS_ENOTSUP,
				    "no member of this store can hold pins");
}

static int fallback_lock(eris_store_backend *b, int mode)
{
	fallback_store *f = (fallback_store *)b;

	return lock_members(f->members, f->n, mode);
}

static void fallback_free(eris_store_backend *b)
{
	fallback_store *f = (fallback_store *)b;

	for (size_t i = 0; i < f->n; i++)
		eris_store_free(f->members[i]);
	eris__free(f);
}

int eris_store_new_fallback(eris_store **out, eris_store **stores, size_t n)
{
	fallback_store *f = NULL;
	int missing = stores == NULL || n == 0, rc;

	*out = NULL;
	for (size_t i = 0; !missing && i < n; i++)
		missing = stores[i] == NULL;
	if (!missing)
		f = eris__malloc(sizeof(*f) + n * sizeof(f->members[0]));
	if (missing || f == NULL) {
		for (size_t i = 0; stores && i < n; i++)
			eris_store_free(stores[i]);
		return missing ? eris_error_set(ERIS_EINVAL,
						"fallback: needs at least one "
						"store, none NULL")
			       : eris_error_set(ERIS_ENOMEM, "out of memory");
	}
	memset(&f->parent, 0, sizeof(f->parent));
	f->n = n;
	memcpy(f->members, stores, n * sizeof(f->members[0]));
	f->parent.version = ERIS_STORE_BACKEND_VERSION;
	f->parent.get = fallback_get;
	f->parent.get_many = fallback_get_many;
	f->parent.put = fallback_put;
	f->parent.has = fallback_has;
	f->parent.flush = fallback_flush;
	f->parent.free = fallback_free;
	f->parent.foreach = fallback_foreach;
	f->parent.remove = fallback_remove;
	f->parent.pin_add = fallback_pin_add;
	f->parent.pin_remove = fallback_pin_remove;
	f->parent.pin_foreach = fallback_pin_foreach;
	f->parent.lock = fallback_lock;
	if ((rc = eris_store_new_from_backend(out, &f->parent)) < 0)
		return rc;
	for (size_t i = 0; i < n; i++)
		(*out)->remote |= stores[i]->remote;
	return ERIS_OK;
}
