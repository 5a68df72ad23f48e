/*
 * cbor.c - the read-only store over a CBOR bundle ("cbor:FILE"): a thin
 * back end around an indexed eris_bundle (bundle.c), which does the
 * parsing and holds the index reference -> offset in the file.
 *
 * Blocks are read with pread() on get, never loaded at open. The index
 * does not change after open and pread() has no shared file position, so
 * the store needs no lock. put and remove fail with ERIS_EREADONLY: a
 * bundle is a finished file.
 */
#include "../bundle_internal.h"

#include <stdio.h>

typedef struct {
	eris_store_backend parent;
	eris_bundle *bundle;
	int owned; /* opened by eris_store_new_cbor: freed with the store */
} cbor_store;

static int cbor_get(eris_store_backend *b, const uint8_t *ref, uint8_t *buf,
		    size_t buf_size, size_t *out_len)
{
	return eris__bundle_read(((cbor_store *)b)->bundle, ref, buf, buf_size,
				 out_len);
}

static int cbor_has(eris_store_backend *b, const uint8_t *ref)
{
	return eris__bundle_has(((cbor_store *)b)->bundle, ref);
}

static int read_only(eris_store_backend *b)
{
	return eris_error_set(ERIS_EREADONLY,
			      "cbor store %s is read-only",
			      eris__bundle_name(((cbor_store *)b)->bundle));
}

static int cbor_put(eris_store_backend *b, const uint8_t *ref,
		    const uint8_t *block, size_t len)
{
	(void)ref;
	(void)block;
	(void)len;
	return read_only(b);
}

static int cbor_remove(eris_store_backend *b, const uint8_t *ref)
{
	(void)ref;
	return read_only(b);
}

static int cbor_foreach(eris_store_backend *b,
			int (*cb)(const uint8_t ref[ERIS_REF_BYTES],
				  size_t len, void *payload),
			void *payload)
{
	return eris_bundle_foreach(((cbor_store *)b)->bundle, cb, payload);
}

static void cbor_free(eris_store_backend *b)
{
	cbor_store *c = (cbor_store *)b;

	if (c->owned)
		eris_bundle_free(c->bundle);
	eris__free(c);
}

static int new_store(eris_store **out, eris_bundle *bundle, int owned)
{
	cbor_store *c = eris__calloc(1, sizeof(*c));

	if (c == NULL) {
		if (owned)
			eris_bundle_free(bundle);
		return eris_error_set(ERIS_ENOMEM, "out of memory");
	}
	c->bundle = bundle;
	c->owned = owned;
	c->parent.version = ERIS_STORE_BACKEND_VERSION;
	c->parent.get = cbor_get;
	c->parent.put = cbor_put;
	c->parent.has = cbor_has;
	c->parent.foreach = cbor_foreach;
	c->parent.remove = cbor_remove;
	c->parent.free = cbor_free;
	return eris_store_new_from_backend(out, &c->parent);
}

int eris_store_new_bundle(eris_store **out, eris_bundle *bundle)
{
	if (out == NULL)
		return eris_error_set(ERIS_EINVAL, "invalid argument");
	*out = NULL;
	if (bundle == NULL)
		return eris_error_set(ERIS_EINVAL, "invalid argument");
	return new_store(out, bundle, 0);
}

int eris_store_new_cbor(eris_store **out, const char *path)
{
	eris_bundle *bundle;
	int rc;

	if (out == NULL)
		return eris_error_set(ERIS_EINVAL, "invalid argument");
	*out = NULL;
	if (path == NULL || path[0] == '\0')
		return eris_error_set(ERIS_ESTORE, "empty bundle path");
	rc = eris_bundle_open(&bundle, path, 0);
	if (rc < 0) {
		char why[512];

		/* A store that cannot be opened is ERIS_ESTORE, whatever the
		 * reason; the message says which. */
		if (rc == ERIS_ENOMEM)
			return rc;
		snprintf(why, sizeof(why), "%s", eris_error_last());
		return eris_error_set(ERIS_ESTORE, "%s", why);
	}
	return new_store(out, bundle, 1);
}
