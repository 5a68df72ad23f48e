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
#include "bundle_internal.h"

#include <stdio.h>

typedef struct {
	eris_store_backend parent;
	eris_bundle *bundle;
	int owned; /* opened by eris_store_new_cbor: freed with the store */
} cbor_store;

static int cbor_get(eris_store_backend *b, const uint8_t *ref, uint8_t *buf,
		    size_t buf_size, size_t *out_len)
{
	return cbormod_bundle_read(((cbor_store *)b)->bundle, ref, buf, buf_size,
				 out_len);
}

static int cbor_has(eris_store_backend *b, const uint8_t *ref)
{
	return cbormod_bundle_has(((cbor_store *)b)->bundle, ref);
}

static int read_only(eris_store_backend *b)
{
	return eris_error_set(ERIS_EREADONLY,
			      "cbor store %s is read-only",
			      cbormod_bundle_name(((cbor_store *)b)->bundle));
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
	return cbormod_bundle_foreach(((cbor_store *)b)->bundle, cb, payload);
}

static void cbor_free(eris_store_backend *b)
{
	cbor_store *c = (cbor_store *)b;

	if (c->owned)
		cbormod_bundle_free(c->bundle);
	free(c);
}

static int new_store(eris_store **out, eris_bundle *bundle, int owned)
{
	cbor_store *c = calloc(1, sizeof(*c));

	if (c == NULL) {
		if (owned)
			cbormod_bundle_free(bundle);
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

int cbormod_store_new_bundle(eris_store **out, eris_bundle *bundle)
{
	if (out == NULL)
		return eris_error_set(ERIS_EINVAL, "invalid argument");
	*out = NULL;
	if (bundle == NULL)
		return eris_error_set(ERIS_EINVAL, "invalid argument");
	return new_store(out, bundle, 0);
}

static int cbor_open(eris_store **out, const char *path)
{
	eris_bundle *bundle;
	int rc;

	if (out == NULL)
		return eris_error_set(ERIS_EINVAL, "invalid argument");
	*out = NULL;
	if (path == NULL || path[0] == '\0')
		return eris_error_set(ERIS_ESTORE, "empty bundle path");
	rc = cbormod_bundle_open(&bundle, path, 0);
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

static int module_open(eris_store **out, const eris_module_request *r)
{
	return cbor_open(out, r->arg);
}

/* The bundle and link-file functions behind liberis's eris_bundle_* and
 * eris_link_* (cbor_api.c). */
static const eris_cbor_api api = {
	cbormod_bundle_writer_new,
	cbormod_bundle_writer_add_block,
	cbormod_bundle_writer_add_cap,
	cbormod_bundle_writer_finish,
	cbormod_bundle_writer_free,
	cbormod_bundle_open,
	cbormod_bundle_open_fd,
	cbormod_bundle_open_buffer,
	cbormod_bundle_block_count,
	cbormod_bundle_cap_count,
	cbormod_bundle_cap,
	cbormod_bundle_foreach,
	cbormod_store_new_bundle,
	cbormod_bundle_free,
	cbormod_link_encode,
	cbormod_link_decode,
	cbormod_link_free,
};

ERIS_MODULE_EXPORT const eris_module eris_module_cbor = {
	ERIS_MODULE_ABI, "cbor", module_open, &api
};
