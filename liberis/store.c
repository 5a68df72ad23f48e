/*
 * store.c - the store wrapper around a back end, and opening stores from
 * their specification strings.
 *
 * Every block handed out by eris_store_get() is re-hashed here, whatever
 * the back end: a store is never trusted (R3 applies to stores too).
 */
#include "internal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int eris_store_new_from_backend(eris_store **out, eris_store_backend *backend)
{
	eris_store *s;

	*out = NULL;
	if (backend == NULL || backend->version != ERIS_STORE_BACKEND_VERSION ||
	    !backend->get || !backend->put || !backend->free) {
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

eris_store_backend *eris_store_backend_of(eris_store *store)
{
	return store->backend;
}

int eris__store_get_raw(eris_store *store, const uint8_t *ref, uint8_t *buf,
			size_t buf_size, size_t *out_len)
{
	*out_len = 0;
	return store->backend->get(store->backend, ref, buf, buf_size, out_len);
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

int eris__store_put_trusted(eris_store *store, const uint8_t *ref,
			    const uint8_t *block, size_t len)
{
	return store->backend->put(store->backend, ref, block, len);
}

int eris_store_put(eris_store *store, const uint8_t ref[ERIS_REF_BYTES],
		   const uint8_t *block, size_t len)
{
	uint8_t digest[ERIS_REF_BYTES];

	if (store == NULL || ref == NULL || block == NULL)
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
	if (store->backend->remove == NULL)
		return eris_error_set(ERIS_ENOTSUP,
				      "this store cannot delete blocks");
	return store->backend->remove(store->backend, ref);
}

void eris_store_free(eris_store *store)
{
	if (store == NULL)
		return;
	store->backend->free(store->backend);
	eris__free(store);
}

/* A specification starts with a scheme when it begins "letters:" (the
 * letters being a URI scheme); anything else is a directory path. */
static size_t scheme_length(const char *spec)
{
	size_t i = 0;

	if (!isalpha((unsigned char)spec[0]))
		return 0;
	while (isalnum((unsigned char)spec[i]) || spec[i] == '+' ||
	       spec[i] == '-' || spec[i] == '.')
		i++;
	return spec[i] == ':' ? i : 0;
}

/* Split a composite's member list at unescaped ','; "\\," stands for a
 * literal ','. Returns the number of members (at most `max`), or -1 for
 * too many, or ERIS_ENOMEM (whose message is set). */
static int split_members(const char *list, char **members, int max)
{
	int n = 0, oom;
	size_t len = strlen(list);
	char *cur = eris__malloc(len + 1), *w = cur;

	for (const char *p = list; cur != NULL; p++) {
		if (*p == '\\' && p[1] == ',') {
			*w++ = ',';
			p++;
		} else if (*p == ',' || *p == '\0') {
			*w = '\0';
			if (n == max)
				break;
			members[n++] = cur;
			if (*p == '\0')
				return n;
			cur = w = eris__malloc(len + 1);
		} else {
			*w++ = *p;
		}
	}
	/* too many members, or out of memory: free what was split */
	oom = cur == NULL;
	eris__free(cur);
	while (n > 0)
		eris__free(members[--n]);
	return oom ? eris_error_set(ERIS_ENOMEM, "out of memory") : -1;
}

#define MAX_MEMBERS 16

/* cache:LOCAL,REMOTE and fallback:S1,S2,... */
static int open_composite(eris_store **out, const char *kind,
			  const char *list, int create)
{
	char *names[MAX_MEMBERS];
	eris_store *stores[MAX_MEMBERS];
	int cache = strcmp(kind, "cache") == 0;
	int n = split_members(list, names, MAX_MEMBERS), rc = ERIS_OK;
	int opened = 0;

	if (n == ERIS_ENOMEM)
		return n;
	if (n < 0)
		return eris_error_set(ERIS_ESTORE,
				      "%s: too many stores (at most %d)", kind,
				      MAX_MEMBERS);
	if (cache ? n != 2 : n < 1)
		rc = eris_error_set(ERIS_ESTORE,
				    cache ? "cache: needs two stores: "
					    "cache:LOCAL,REMOTE"
					  : "fallback: needs at least one store");
	while (rc == ERIS_OK && opened < n) {
		rc = eris_store_open(&stores[opened], names[opened], create);
		if (rc < 0) {
			char why[256];

			snprintf(why, sizeof(why), "%s", eris_error_last());
			eris_error_set(rc, "%s: store %d (%s): %s", kind,
				       opened + 1, names[opened], why);
		} else {
			opened++;
		}
	}
	for (int k = 0; k < n; k++)
		eris__free(names[k]);
	if (rc < 0) {
		while (opened > 0)
			eris_store_free(stores[--opened]);
		return rc;
	}
	if (cache)
		return eris_store_new_cache(out, stores[0], stores[1]);
	return eris_store_new_fallback(out, stores, (size_t)n);
}

int eris_store_open(eris_store **out, const char *spec, int create)
{
	const char *arg;
	size_t n;

	*out = NULL;
	if (spec == NULL || spec[0] == '\0')
		return eris_error_set(ERIS_ESTORE, "empty store specification");
	n = scheme_length(spec);
	if (n == 0)
		return eris_store_new_dir(out, spec, create);
	arg = spec + n + 1;
	if (n == 3 && strncmp(spec, "mem", 3) == 0) {
		if (arg[0] != '\0')
			return eris_error_set(ERIS_ESTORE,
					      "\"mem:\" takes no argument");
		return eris_store_new_mem(out);
	}
	if (arg[0] == '\0')
		return eris_error_set(ERIS_ESTORE,
				      "\"%.*s:\" needs an argument (see the "
				      "store syntax)",
				      (int)n, spec);
	if (n == 3 && strncmp(spec, "dir", 3) == 0)
		return eris_store_new_dir(out, arg, create);
	if (n == 6 && strncmp(spec, "sqlite", 6) == 0)
		return eris_store_new_sqlite(out, arg, create);
	if (n == 4 && strncmp(spec, "cbor", 4) == 0)
		return eris_store_new_cbor(out, arg);
	if ((n == 4 && strncmp(spec, "http", 4) == 0) ||
	    (n == 5 && strncmp(spec, "https", 5) == 0))
		return eris_store_new_http(out, spec);
	if ((n == 4 && strncmp(spec, "coap", 4) == 0) ||
	    (n == 8 && strncmp(spec, "coap+tcp", 8) == 0))
		return eris_store_new_coap(out, spec);
	if (n == 5 && strncmp(spec, "cache", 5) == 0)
		return open_composite(out, "cache", arg, create);
	if (n == 8 && strncmp(spec, "fallback", 8) == 0)
		return open_composite(out, "fallback", arg, create);
	return eris_error_set(ERIS_ESTORE,
			      "unknown store type \"%.*s:\" (supported: mem:, "
			      "dir:PATH, sqlite:PATH, cbor:FILE, "
			      "http://HOST:PORT, coap://HOST:PORT, "
			      "coap+tcp://HOST:PORT, cache:LOCAL,REMOTE, "
			      "fallback:S1,S2,..., or a directory path)",
			      (int)n, spec);
}
