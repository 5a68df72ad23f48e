/*
 * store.c - the store wrapper around a back end: the one place where
 * blocks are verified (opening a store from its specification string is
 * in registry.c).
 *
 * The trust boundary. Every block handed out by eris_store_get() is
 * re-hashed here, whatever the back end: a store is never trusted (R3
 * applies to stores too). Every block handed to a back end has been
 * hashed by the core: eris_store_put() checks it here, and the encoder
 * puts blocks whose reference it has just computed
 * (eris__store_put_trusted). Back ends therefore never hash.
 */
#include "internal.h"
#include "sys.h"

int eris_store_new_from_backend(eris_store **out, eris_store_backend *backend)
{
	eris_store *s;

	*out = NULL;
	/* Version 1 back ends end before compact and space. */
	if (backend == NULL || backend->version < 1 ||
	    backend->version > ERIS_STORE_BACKEND_VERSION || !backend->get || !backend->put || !backend->free) {
		if (backend && backend->free)
			backend->free(backend);
		return eris_error_set(ERIS_EINVAL, "invalid store back end");
	}
	s = eris__calloc(1, sizeof(*s));
	if (s == NULL) {
		backend->free(backend);
		return eris_error_set(ERIS_ENOMEM, "out of memory");
	}
	s->backend = backend;
	*out = s;
	return ERIS_OK;
}

int eris__store_get_raw(eris_store *store, const uint8_t *ref, uint8_t *buf,
			size_t buf_size, size_t *out_len)
{
	*out_len = 0;
	return store->backend->get(store->backend, ref, buf, buf_size, out_len);
}

void eris__store_get_cached_raw(eris_store *store, size_t n,
				const uint8_t (*refs)[ERIS_REF_BYTES],
				uint8_t *const *bufs, size_t buf_size,
				size_t *out_lens, int *results)
{
	eris_store_backend *b = store->backend;
	int rc = ERIS_EAGAIN;

	for (size_t i = 0; i < n; i++) {
		out_lens[i] = 0;
		results[i] = ERIS_EAGAIN;
	}
	if (b->version >= 4 && b->get_cached != NULL)
		rc = b->get_cached(b, n, refs, bufs, buf_size, out_lens,
				   results);
	if (rc < 0) /* the whole batch failed */
		for (size_t i = 0; i < n; i++)
			results[i] = ERIS_EAGAIN;
}

int eris__store_get_many_raw(eris_store *store, size_t n,
			     const uint8_t (*refs)[ERIS_REF_BYTES],
			     uint8_t *const *bufs, size_t buf_size,
			     size_t *out_lens, int *results)
{
	eris_store_backend *b = store->backend;

	if (b->get_many)
		return b->get_many(b, n, refs, bufs, buf_size, out_lens,
				   results);
	for (size_t i = 0; i < n; i++) {
		out_lens[i] = 0;
		results[i] = b->get(b, refs[i], bufs[i], buf_size, &out_lens[i]);
	}
	return ERIS_OK;
}

static void ref_text(char out[ERIS_REF_BASE32_LEN + 1], const uint8_t *ref)
{
	eris_base32_encode(out, ref, ERIS_REF_BYTES);
}

int eris_store_get(eris_store *store, const uint8_t ref[ERIS_REF_BYTES],
		   uint8_t *buf, size_t buf_size, size_t *out_len)
{
	uint8_t digest[ERIS_REF_BYTES];
	char name[ERIS_REF_BASE32_LEN + 1];
	int rc;

	if (store == NULL || ref == NULL || buf == NULL || out_len == NULL)
		return eris_error_set(ERIS_EINVAL, "invalid argument");
	rc = eris__store_get_raw(store, ref, buf, buf_size, out_len);
	if (rc == ERIS_ENOTFOUND) {
		ref_text(name, ref);
		return eris_error_set(rc, "block %s not found", name);
	}
	if (rc < 0)
		return rc;
	if (!eris__valid_block_size(*out_len)) {
		ref_text(name, ref);
		return eris_error_set(ERIS_EBLOCKSIZE,
				      "block %s has %zu bytes, not 1024 or "
				      "32768",
				      name, *out_len);
	}
	eris__blake2b(digest, buf, *out_len);
	if (!eris__equal32(digest, ref)) {
		eris_memzero(buf, *out_len);
		ref_text(name, ref);
		return eris_error_set(ERIS_EMISMATCH,
				      "block %s does not hash to its reference",
				      name);
	}
	return ERIS_OK;
}

/* Hash the `k` blocks of `len` bytes listed in `idx` together and set
 * the result of each that does not hash to its reference. */
static void verify_batch(const uint8_t (*refs)[ERIS_REF_BYTES],
			 uint8_t *const *bufs, const size_t *idx, size_t k,
			 size_t len, int *results)
{
	const uint8_t *in[GET_MANY_MAX] = { NULL }; /* k are set */
	uint8_t digests[GET_MANY_MAX][32];
	char name[ERIS_REF_BASE32_LEN + 1];

	for (size_t i = 0; i < k; i++)
		in[i] = bufs[idx[i]];
	if (k == 1) /* nothing to hash alongside */
		eris__blake2b(digests[0], in[0], len);
	else
		eris__blake2b_many(in, k, len, NULL, digests);
	for (size_t i = 0; i < k; i++) {
		if (eris__equal32(digests[i], refs[idx[i]]))
			continue;
		eris_memzero(bufs[idx[i]], len);
		ref_text(name, refs[idx[i]]);
		results[idx[i]] = eris_error_set(ERIS_EMISMATCH,
						 "block %s does not hash to its "
						 "reference",
						 name);
	}
}

/* What eris_store_get() checks, for the `n` blocks a back end just read
 * (results[i] its code for block i), the hashing batched by size. */
static void verify_many(size_t n, const uint8_t (*refs)[ERIS_REF_BYTES],
			uint8_t *const *bufs, const size_t *out_lens,
			int *results)
{
	size_t small[GET_MANY_MAX], big[GET_MANY_MAX], ns = 0, nb = 0;
	char name[ERIS_REF_BASE32_LEN + 1];

	for (size_t i = 0; i < n; i++) {
		if (results[i] == ERIS_ENOTFOUND) {
			ref_text(name, refs[i]);
			results[i] = eris_error_set(ERIS_ENOTFOUND,
						    "block %s not found", name);
		} else if (results[i] < 0) {
			continue;
		} else if (!eris__valid_block_size(out_lens[i])) {
			ref_text(name, refs[i]);
			results[i] = eris_error_set(
				ERIS_EBLOCKSIZE,
				"block %s has %zu bytes, not 1024 or 32768",
				name, out_lens[i]);
		} else if (out_lens[i] == ERIS_BLOCK_SIZE_1K) {
			small[ns++] = i;
		} else {
			big[nb++] = i;
		}
	}
	if (ns)
		verify_batch(refs, bufs, small, ns, ERIS_BLOCK_SIZE_1K,
			     results);
	if (nb)
		verify_batch(refs, bufs, big, nb, ERIS_BLOCK_SIZE_MAX,
			     results);
}

static int many_args_ok(const eris_store *store, size_t n, const void *refs,
			const void *bufs, const void *out_lens,
			const void *results)
{
	return store != NULL && refs != NULL && bufs != NULL &&
	       out_lens != NULL && results != NULL && n <= GET_MANY_MAX;
}

int eris_store_get_many(eris_store *store, size_t n,
			const uint8_t (*refs)[ERIS_REF_BYTES],
			uint8_t *const *bufs, size_t buf_size,
			size_t *out_lens, int *results)
{
	int rc;

	if (!many_args_ok(store, n, refs, bufs, out_lens, results))
		return eris_error_set(ERIS_EINVAL, "invalid argument");
	if (n == 0)
		return ERIS_OK;
	rc = eris__store_get_many_raw(store, n, refs, bufs, buf_size,
				      out_lens, results);
	if (rc < 0) {
		for (size_t i = 0; i < n; i++)
			results[i] = rc;
		return ERIS_OK;
	}
	verify_many(n, refs, bufs, out_lens, results);
	return ERIS_OK;
}

int eris_store_try_get_many(eris_store *store, size_t n,
			    const uint8_t (*refs)[ERIS_REF_BYTES],
			    uint8_t *const *bufs, size_t buf_size,
			    size_t *out_lens, int *results)
{
	if (!many_args_ok(store, n, refs, bufs, out_lens, results))
		return eris_error_set(ERIS_EINVAL, "invalid argument");
	eris__store_get_cached_raw(store, n, refs, bufs, buf_size, out_lens,
				   results);
	verify_many(n, refs, bufs, out_lens, results);
	return ERIS_OK;
}

int eris_block_verify(const uint8_t ref[ERIS_REF_BYTES], const uint8_t *block,
		      size_t len)
{
	uint8_t digest[ERIS_REF_BYTES];

	if (ref == NULL || block == NULL)
		return eris_error_set(ERIS_EINVAL, "invalid argument");
	if (!eris__valid_block_size(len))
		return eris_error_set(ERIS_EBLOCKSIZE,
				      "block of %zu bytes: only 1024 or 32768 "
				      "are valid",
				      len);
	eris__blake2b(digest, block, len);
	if (!eris__equal32(digest, ref))
		return eris_error_set(ERIS_EMISMATCH,
				      "block does not hash to the reference "
				      "it is stored under");
	return ERIS_OK;
}

static int read_only(void)
{
	return eris_error_set(ERIS_EREADONLY,
			      "the store was opened read-only");
}

int eris__store_put_trusted(eris_store *store, const uint8_t *ref,
			    const uint8_t *block, size_t len)
{
	if (store->flags & ERIS_STORE_READONLY)
		return read_only();
	return store->backend->put(store->backend, ref, block, len);
}

int eris_store_put(eris_store *store, const uint8_t ref[ERIS_REF_BYTES],
		   const uint8_t *block, size_t len)
{
	int rc;

	if (store == NULL)
		return eris_error_set(ERIS_EINVAL, "invalid argument");
	if ((rc = eris_block_verify(ref, block, len)) < 0)
		return rc;
	return eris__store_put_trusted(store, ref, block, len);
}

int eris_store_has(eris_store *store, const uint8_t ref[ERIS_REF_BYTES])
{
	eris_store_backend *b;
	uint8_t *buf;
	size_t len;
	int rc;

	if (store == NULL || ref == NULL)
		return eris_error_set(ERIS_EINVAL, "invalid argument");
	b = store->backend;
	if (b->has)
		return b->has(b, ref);
	/* No cheap presence test: fetch it. */
	buf = eris__malloc(ERIS_BLOCK_SIZE_MAX);
	if (buf == NULL)
		return eris_error_set(ERIS_ENOMEM, "out of memory");
	rc = b->get(b, ref, buf, ERIS_BLOCK_SIZE_MAX, &len);
	eris__free(buf);
	if (rc == ERIS_ENOTFOUND)
		return 0;
	return rc < 0 ? rc : 1;
}

int eris_store_flush(eris_store *store)
{
	if (store == NULL)
		return eris_error_set(ERIS_EINVAL, "invalid argument");
	if (store->backend->flush)
		return store->backend->flush(store->backend);
	return ERIS_OK;
}

int eris_store_foreach(eris_store *store,
		       int (*cb)(const uint8_t ref[ERIS_REF_BYTES], size_t len,
				 void *payload),
		       void *payload)
{
	if (store == NULL || cb == NULL)
		return eris_error_set(ERIS_EINVAL, "invalid argument");
	if (store->backend->foreach == NULL)
		return eris_error_set(ERIS_ENOTSUP,
				      "this store cannot list its blocks");
	return store->backend->foreach(store->backend, cb, payload);
}

int eris_store_remove(eris_store *store, const uint8_t ref[ERIS_REF_BYTES])
{
	if (store == NULL || ref == NULL)
		return eris_error_set(ERIS_EINVAL, "invalid argument");
	if (store->flags & ERIS_STORE_READONLY)
		return read_only();
	if (store->backend->remove == NULL)
		return eris_error_set(ERIS_ENOTSUP,
				      "this store cannot delete blocks");
	return store->backend->remove(store->backend, ref);
}

int eris_store_compact(eris_store *store, unsigned flags,
		       void (*progress)(uint64_t done, uint64_t total,
					void *payload),
		       void *payload)
{
	const eris_store_backend *b;

	if (store == NULL || (flags & ~(unsigned)ERIS_COMPACT_FULL) != 0)
		return eris_error_set(ERIS_EINVAL, "invalid argument");
	b = store->backend;
	if (store->flags & ERIS_STORE_READONLY)
		return read_only();
	if (b->version < 2 || b->compact == NULL)
		return eris_error_set(ERIS_ENOTSUP,
				      "this store cannot be compacted");
	return b->compact(store->backend, flags, progress, payload);
}

int eris_store_space(eris_store *store, eris_store_space_info *out)
{
	const eris_store_backend *b;

	if (store == NULL || out == NULL)
		return eris_error_set(ERIS_EINVAL, "invalid argument");
	memset(out, 0, sizeof(*out));
	b = store->backend;
	if (b->version < 2 || b->space == NULL)
		return eris_error_set(ERIS_ENOTSUP,
				      "this store cannot tell its disk space");
	return b->space(store->backend, out);
}

/* ---- pins and the gc lock ---------------------------------------------- */

/* The back end's version-3 operation `op`, or NULL for an older one. */
#define V3_OP(b, op) ((b)->version >= 3 ? (b)->op : NULL)

static int no_pins(void)
{
	return eris_error_set(ERIS_ENOTSUP, "this store cannot hold pins "
					    "(only sqlite, directory, mem, "
					    "cache and fallback stores can)");
}

/* A pin name: 1 to 255 bytes, no '/', no control character, not "." or
 * "..": it is a file name in a directory store and a line in listings. */
static int check_pin_name(const char *name)
{
	size_t n;

	if (name == NULL)
		return eris_error_set(ERIS_EINVAL, "invalid argument");
	n = strlen(name);
	if (n == 0 || n > 255)
		return eris_error_set(ERIS_EINVAL,
				      "pin name of %zu bytes: 1 to 255 are "
				      "allowed",
				      n);
	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return eris_error_set(ERIS_EINVAL,
				      "pin name '%s' is not allowed", name);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c == '/' || c < 0x20 || c == 0x7f)
			return eris_error_set(ERIS_EINVAL,
					      "pin name '%s': '/' and control "
					      "characters are not allowed",
					      name);
	}
	return ERIS_OK;
}

int eris_store_pin_add(eris_store *store, const eris_pin *pin, unsigned flags)
{
	char urn[ERIS_URN_BUFSIZE];
	eris_read_cap cap;
	eris_pin copy;
	int rc;

	if (store == NULL || pin == NULL || pin->urn == NULL ||
	    (flags & ~(unsigned)ERIS_PIN_REPLACE) != 0)
		return eris_error_set(ERIS_EINVAL, "invalid argument");
	if ((rc = check_pin_name(pin->name)) < 0)
		return rc;
	if ((rc = eris_urn_parse(&cap, pin->urn, strlen(pin->urn))) < 0)
		return rc;
	if (V3_OP(store->backend, pin_add) == NULL)
		return no_pins();
	if (store->flags & ERIS_STORE_READONLY)
		return read_only();
	eris_urn_format(urn, &cap);
	copy = *pin;
	copy.urn = urn;
#ifndef ERIS_FREESTANDING /* no clock: a pin keeps the caller's time */
	if (copy.time == 0)
		copy.time = (int64_t)time(NULL);
#endif
	return store->backend->pin_add(store->backend, &copy, flags);
}

int eris_store_pin_remove(eris_store *store, const char *name)
{
	int rc;

	if (store == NULL)
		return eris_error_set(ERIS_EINVAL, "invalid argument");
	if ((rc = check_pin_name(name)) < 0)
		return rc;
	if (V3_OP(store->backend, pin_remove) == NULL)
		return no_pins();
	if (store->flags & ERIS_STORE_READONLY)
		return read_only();
	return store->backend->pin_remove(store->backend, name);
}

int eris_store_pin_foreach(eris_store *store,
			   int (*cb)(const eris_pin *pin, void *payload),
			   void *payload)
{
	if (store == NULL || cb == NULL)
		return eris_error_set(ERIS_EINVAL, "invalid argument");
	if (V3_OP(store->backend, pin_foreach) == NULL)
		return no_pins();
	return store->backend->pin_foreach(store->backend, cb, payload);
}

int eris_store_lock(eris_store *store, int mode)
{
	int rc;

	if (store == NULL ||
	    (mode != ERIS_LOCK_SHARED && mode != ERIS_LOCK_EXCLUSIVE))
		return eris_error_set(ERIS_EINVAL, "invalid argument");
	if (store->locked)
		return eris_error_set(ERIS_EINVAL,
				      "this store handle holds its lock "
				      "already");
	if (V3_OP(store->backend, lock) == NULL)
		return eris_error_set(ERIS_ENOTSUP,
				      "this store has no gc lock");
	rc = store->backend->lock(store->backend, mode);
	if (rc == ERIS_OK)
		store->locked = mode;
	return rc;
}

int eris_store_unlock(eris_store *store)
{
	int rc;

	if (store == NULL)
		return eris_error_set(ERIS_EINVAL, "invalid argument");
	if (!store->locked)
		return ERIS_OK;
	rc = store->backend->lock(store->backend, 0);
	store->locked = 0;
	return rc;
}

void eris_store_free(eris_store *store)
{
	if (store == NULL)
		return;
	if (store->locked)
		(void)eris_store_unlock(store);
	store->backend->free(store->backend);
	eris__free(store);
}
