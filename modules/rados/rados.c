/*
 * rados.c - the Ceph RADOS store: rados:POOL[?OPTIONS], blocks as objects
 * of a pool of a Ceph cluster, through librados.
 *
 * Why: when a store outgrows one machine, its blocks belong on a
 * distributed engine the user already runs and trusts; Ceph replicates,
 * places and recovers them. The cluster is not trusted with content: the
 * library wrapper (store.c) re-hashes every block this back end returns.
 *
 * Options, '&'-separated after '?' (values taken literally, no '&'):
 *   conf=PATH       the cluster's configuration file; without it librados
 *                   looks where Ceph's own tools do ($CEPH_CONF,
 *                   /etc/ceph/ceph.conf, ~/.ceph/config, ./ceph.conf)
 *   id=CLIENT       the client to connect as, "NAME" or "client.NAME"
 *                   (default client.admin); its key comes from the
 *                   keyring the configuration names, as for Ceph's tools
 *   namespace=NS    a RADOS namespace inside the pool (default none)
 *   timeout=SECONDS connecting, monitor and OSD operations each give up
 *                   after this long (default RADOS_TIMEOUT) with
 *                   ERIS_ESTORE, instead of waiting for a cluster that is
 *                   down
 *
 * Objects: one per block, named by the 52-character upper-case base32 of
 * its reference (as the dir store names its files), holding exactly the
 * encrypted block.
 *
 *   get       one read of one byte more than the caller's buffer (into
 *             a buffer of the store's): -ENOENT -> ERIS_ENOTFOUND; an
 *             object larger than the buffer -> ERIS_EBLOCKSIZE.
 *   put       exclusive create + write_full in one atomic operation: an
 *             object already there (-EEXIST) is success and is not
 *             rewritten. Acknowledged by the cluster means written to
 *             every replica the pool requires, hence
 *   flush     has nothing to do.
 *   has       stat. remove: remove, -ENOENT is success.
 *   foreach   lists the pool (the namespace only), skipping objects whose
 *             names are not 52-character base32 references; the length
 *             comes from a stat of each.
 *   get_many  asynchronous reads, at most RADOS_IN_FLIGHT at once.
 * Any other librados failure is ERIS_ESTORE with the pool and librados's
 * reason ("Connection timed out", ...). A missing pool is ERIS_ESTORE at
 * open.
 *
 * Threads: librados's cluster handle and I/O context are thread-safe and
 * this back end keeps no other state, so calls from several threads run
 * concurrently.
 */
#include "module.h"

#include <rados/librados.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RADOS_TIMEOUT 15
#define RADOS_IN_FLIGHT 16
#define REF_NAME_LEN 52

typedef struct {
	eris_store_backend parent;
	rados_t cluster;
	rados_ioctx_t io;
	char *pool; /* for messages */
} rados_store;

/* librados's reason for a negative errno, in a per-thread buffer (the
 * messages are copied by eris_error_set at once). */
static const char *reason(int neg_errno)
{
	static _Thread_local char buf[128];

	if (strerror_r(-neg_errno, buf, sizeof(buf)) != 0)
		snprintf(buf, sizeof(buf), "error %d", -neg_errno);
	return buf;
}

static int fail(const rados_store *r, const char *what,
		const uint8_t ref[ERIS_REF_BYTES], int neg_errno)
{
	char name[REF_NAME_LEN + 1] = "";

	if (ref)
		eris_base32_encode(name, ref, ERIS_REF_BYTES);
	return eris_error_set(ERIS_ESTORE, "rados store, pool %s: %s%s%s: %s",
			      r->pool, what, ref ? " " : "", name,
			      reason(neg_errno));
}

/* A block is read with one plain read of one byte more than the
 * caller's buffer, into a buffer of our own: a full one means the object
 * is too large (ERIS_EBLOCKSIZE). A stat in the same operation would say
 * so too, but costs the OSD about as much CPU again per block
 * (bench/rados_bench.c). */
#define READ_MAX (ERIS_BLOCK_SIZE_32K + 1)

/* The outcome of a read of `rv` bytes (or -errno) into `bounce`. */
static int read_result(const rados_store *r, int rv,
		       const uint8_t ref[ERIS_REF_BYTES], const uint8_t *bounce,
		       uint8_t *buf, size_t buf_size, size_t *out_len)
{
	char name[REF_NAME_LEN + 1];

	if (rv == -ENOENT)
		return ERIS_ENOTFOUND;
	if (rv < 0)
		return fail(r, "reading", ref, rv);
	if ((size_t)rv > buf_size) {
		eris_base32_encode(name, ref, ERIS_REF_BYTES);
		return eris_error_set(ERIS_EBLOCKSIZE,
				      "rados store, pool %s: object %s is "
				      "larger than %zu bytes",
				      r->pool, name, buf_size);
	}
	memcpy(buf, bounce, (size_t)rv);
	*out_len = (size_t)rv;
	return ERIS_OK;
}

static int rados_get(eris_store_backend *b, const uint8_t ref[ERIS_REF_BYTES],
		     uint8_t *buf, size_t buf_size, size_t *out_len)
{
	rados_store *r = (rados_store *)b;
	char name[REF_NAME_LEN + 1];
	uint8_t *bounce;
	int rc;

	if (buf_size > ERIS_BLOCK_SIZE_32K)
		buf_size = ERIS_BLOCK_SIZE_32K;
	if ((bounce = malloc(READ_MAX)) == NULL)
		return eris_error_set(ERIS_ENOMEM, "out of memory");
	eris_base32_encode(name, ref, ERIS_REF_BYTES);
	rc = rados_read(r->io, name, (char *)bounce, buf_size + 1, 0);
	rc = read_result(r, rc, ref, bounce, buf, buf_size, out_len);
	free(bounce);
	return rc;
}

static int rados_get_many(eris_store_backend *b, size_t n,
			  const uint8_t (*refs)[ERIS_REF_BYTES],
			  uint8_t *const *bufs, size_t buf_size,
			  size_t *out_lens, int *results)
{
	rados_store *r = (rados_store *)b;
	rados_completion_t done[RADOS_IN_FLIGHT];
	uint8_t *bounce = malloc((size_t)RADOS_IN_FLIGHT * READ_MAX);
	size_t issued = 0, finished = 0;
	int rc = ERIS_OK;

	if (bounce == NULL)
		rc = eris_error_set(ERIS_ENOMEM, "out of memory");
	if (buf_size > ERIS_BLOCK_SIZE_32K)
		buf_size = ERIS_BLOCK_SIZE_32K;
	/* A window of reads in flight; the oldest is waited for first. */
	while (finished < n) {
		while (rc == ERIS_OK && issued < n &&
		       issued - finished < RADOS_IN_FLIGHT) {
			size_t k = issued % RADOS_IN_FLIGHT;
			char name[REF_NAME_LEN + 1];
			int e;

			if (rados_aio_create_completion2(NULL, NULL,
							 &done[k]) < 0) {
				rc = eris_error_set(ERIS_ENOMEM, "out of memory");
				break;
			}
			eris_base32_encode(name, refs[issued], ERIS_REF_BYTES);
			e = rados_aio_read(r->io, name, done[k],
					   (char *)bounce + k * READ_MAX,
					   buf_size + 1, 0);
			if (e < 0) {
				rados_aio_release(done[k]);
				rc = fail(r, "reading", refs[issued], e);
				break;
			}
			issued++;
		}
		if (finished == issued)
			break; /* nothing in flight and nothing more issued */
		{
			size_t k = finished % RADOS_IN_FLIGHT;
			int e;

			rados_aio_wait_for_complete(done[k]);
			e = rados_aio_get_return_value(done[k]);
			rados_aio_release(done[k]);
			out_lens[finished] = 0;
			results[finished] = read_result(
				r, e, refs[finished], bounce + k * READ_MAX,
				bufs[finished], buf_size, &out_lens[finished]);
			finished++;
		}
	}
	/* The batch failed before every read could start. */
	for (size_t i = finished; i < n; i++)
		results[i] = rc;
	free(bounce);
	return rc;
}

static int rados_put(eris_store_backend *b, const uint8_t ref[ERIS_REF_BYTES],
		     const uint8_t *block, size_t len)
{
	rados_store *r = (rados_store *)b;
	char name[REF_NAME_LEN + 1];
	rados_write_op_t op;
	int rc;

	eris_base32_encode(name, ref, ERIS_REF_BYTES);
	if ((op = rados_create_write_op()) == NULL)
		return eris_error_set(ERIS_ENOMEM, "out of memory");
	/* Both or neither: a block already there is left untouched. */
	rados_write_op_create(op, LIBRADOS_CREATE_EXCLUSIVE, NULL);
	rados_write_op_write_full(op, (const char *)block, len);
	rc = rados_write_op_operate(op, r->io, name, NULL, 0);
	rados_release_write_op(op);
	if (rc == 0 || rc == -EEXIST)
		return ERIS_OK;
	return fail(r, "writing", ref, rc);
}

static int rados_has(eris_store_backend *b, const uint8_t ref[ERIS_REF_BYTES])
{
	rados_store *r = (rados_store *)b;
	char name[REF_NAME_LEN + 1];
	uint64_t size;
	time_t mtime;
	int rc;

	eris_base32_encode(name, ref, ERIS_REF_BYTES);
	rc = rados_stat(r->io, name, &size, &mtime);
	if (rc == 0)
		return 1;
	if (rc == -ENOENT)
		return 0;
	return fail(r, "looking up", ref, rc);
}

static int rados_remove_block(eris_store_backend *b,
			      const uint8_t ref[ERIS_REF_BYTES])
{
	rados_store *r = (rados_store *)b;
	char name[REF_NAME_LEN + 1];
	int rc;

	eris_base32_encode(name, ref, ERIS_REF_BYTES);
	rc = rados_remove(r->io, name);
	if (rc == 0 || rc == -ENOENT)
		return ERIS_OK;
	return fail(r, "removing", ref, rc);
}

static int rados_foreach(eris_store_backend *b,
			 int (*cb)(const uint8_t ref[ERIS_REF_BYTES],
				   size_t len, void *payload),
			 void *payload)
{
	rados_store *r = (rados_store *)b;
	rados_list_ctx_t ctx;
	const char *name;
	int rc;

	if ((rc = rados_nobjects_list_open(r->io, &ctx)) < 0)
		return fail(r, "listing", NULL, rc);
	for (;;) {
		uint8_t ref[ERIS_REF_BYTES];
		uint64_t size;
		time_t mtime;

		rc = rados_nobjects_list_next(ctx, &name, NULL, NULL);
		if (rc == -ENOENT) {
			rc = ERIS_OK; /* the end */
			break;
		}
		if (rc < 0) {
			rc = fail(r, "listing", NULL, rc);
			break;
		}
		/* Anything else in the pool is not ours to report. */
		if (strlen(name) != REF_NAME_LEN ||
		    eris_base32_decode(ref, ERIS_REF_BYTES, name,
				       REF_NAME_LEN) != ERIS_OK)
			continue;
		rc = rados_stat(r->io, name, &size, &mtime);
		if (rc == -ENOENT)
			continue; /* removed since it was listed */
		if (rc < 0) {
			rc = fail(r, "looking up", ref, rc);
			break;
		}
		if ((rc = cb(ref, (size_t)size, payload)) != 0)
			break;
	}
	rados_nobjects_list_close(ctx);
	return rc;
}

static int rados_flush(eris_store_backend *b)
{
	(void)b;
	return ERIS_OK;
}

static void rados_free(eris_store_backend *b)
{
	rados_store *r = (rados_store *)b;

	if (r->io)
		rados_ioctx_destroy(r->io);
	if (r->cluster)
		rados_shutdown(r->cluster);
	free(r->pool);
	free(r);
}

typedef struct {
	char pool[256];
	char conf[1024];
	char client[128];
	char nspace[256];
	char timeout[16];
} rados_spec;

/* Copies [s, s + len) into dst of `size` bytes; 0 if it does not fit. */
static int copy_part(char *dst, size_t size, const char *s, size_t len)
{
	if (len >= size)
		return 0;
	memcpy(dst, s, len);
	dst[len] = '\0';
	return 1;
}

/* "POOL[?conf=PATH&id=CLIENT&namespace=NS&timeout=S]" */
static int parse_spec(rados_spec *sp, const char *arg)
{
	size_t len = strcspn(arg, "?");
	const char *p;

	memset(sp, 0, sizeof(*sp));
	snprintf(sp->client, sizeof(sp->client), "client.admin");
	snprintf(sp->timeout, sizeof(sp->timeout), "%d", RADOS_TIMEOUT);
	if (len == 0 || !copy_part(sp->pool, sizeof(sp->pool), arg, len))
		return eris_error_set(ERIS_ESTORE,
				      "rados store: \"rados:%s\": expected "
				      "rados:POOL[?conf=PATH&id=CLIENT&"
				      "namespace=NS&timeout=SECONDS]",
				      arg);
	for (p = arg + len; *p == '?' || *p == '&';) {
		const char *key = p + 1, *eq, *val;
		size_t klen, vlen;
		char *dst;
		size_t size;
		int ok;

		klen = strcspn(key, "=&");
		if (key[klen] != '=')
			return eris_error_set(ERIS_ESTORE,
					      "rados store: option \"%.*s\" "
					      "has no value",
					      (int)klen, key);
		eq = key + klen;
		val = eq + 1;
		vlen = strcspn(val, "&");
		p = val + vlen;
		if (klen == 4 && strncmp(key, "conf", 4) == 0) {
			dst = sp->conf;
			size = sizeof(sp->conf);
		} else if (klen == 2 && strncmp(key, "id", 2) == 0) {
			/* "admin" is "client.admin", as for ceph --id. */
			if (vlen > 0 && memchr(val, '.', vlen) == NULL) {
				if (vlen + 8 > sizeof(sp->client))
					goto too_long;
				memcpy(sp->client, "client.", 7);
				ok = copy_part(sp->client + 7,
					       sizeof(sp->client) - 7, val,
					       vlen);
				if (!ok)
					goto too_long;
				continue;
			}
			dst = sp->client;
			size = sizeof(sp->client);
		} else if (klen == 9 && strncmp(key, "namespace", 9) == 0) {
			dst = sp->nspace;
			size = sizeof(sp->nspace);
		} else if (klen == 7 && strncmp(key, "timeout", 7) == 0) {
			int secs = 0;

			for (size_t i = 0; i < vlen; i++) {
				if (val[i] < '0' || val[i] > '9' ||
				    secs > 100000)
					return eris_error_set(
						ERIS_ESTORE,
						"rados store: timeout must "
						"be a number of seconds");
				secs = secs * 10 + (val[i] - '0');
			}
			if (secs <= 0)
				return eris_error_set(
					ERIS_ESTORE,
					"rados store: timeout must be a "
					"number of seconds");
			snprintf(sp->timeout, sizeof(sp->timeout), "%d", secs);
			continue;
		} else {
			return eris_error_set(ERIS_ESTORE,
					      "rados store: unknown option "
					      "\"%.*s\" (conf, id, namespace, "
					      "timeout)",
					      (int)klen, key);
		}
		if (vlen == 0 || !copy_part(dst, size, val, vlen))
			goto too_long;
	}
	return ERIS_OK;
too_long:
	return eris_error_set(ERIS_ESTORE,
			      "rados store: an option of \"rados:%s\" is empty "
			      "or too long",
			      arg);
}

static int connect_cluster(rados_store *r, const rados_spec *sp)
{
	static const char *const timeouts[] = { "client_mount_timeout",
						"rados_mon_op_timeout",
						"rados_osd_op_timeout" };
	const char *conf = sp->conf[0] ? sp->conf : "the default configuration";
	int rc;

	if ((rc = rados_create2(&r->cluster, "ceph", sp->client, 0)) < 0) {
		r->cluster = NULL;
		return eris_error_set(ERIS_ESTORE,
				      "rados store: cannot create a cluster "
				      "handle for %s: %s",
				      sp->client, reason(rc));
	}
	rc = rados_conf_read_file(r->cluster, sp->conf[0] ? sp->conf : NULL);
	if (rc < 0)
		return eris_error_set(ERIS_ESTORE,
				      "rados store: cannot read %s: %s", conf,
				      reason(rc));
	for (size_t i = 0; i < sizeof(timeouts) / sizeof(timeouts[0]); i++)
		if ((rc = rados_conf_set(r->cluster, timeouts[i],
					 sp->timeout)) < 0)
			return eris_error_set(ERIS_ESTORE,
					      "rados store: cannot set %s: %s",
					      timeouts[i], reason(rc));
	if ((rc = rados_connect(r->cluster)) < 0)
		return eris_error_set(ERIS_ESTORE,
				      "rados store: cannot connect to the Ceph "
				      "cluster of %s as %s (timeout %s s): %s",
				      conf, sp->client, sp->timeout,
				      reason(rc));
	if ((rc = rados_ioctx_create(r->cluster, sp->pool, &r->io)) < 0) {
		r->io = NULL;
		if (rc == -ENOENT)
			return eris_error_set(ERIS_ESTORE,
					      "rados store: the cluster has no "
					      "pool \"%s\"",
					      sp->pool);
		return eris_error_set(ERIS_ESTORE,
				      "rados store: cannot open pool %s: %s",
				      sp->pool, reason(rc));
	}
	rados_ioctx_set_namespace(r->io, sp->nspace[0] ? sp->nspace : NULL);
	return ERIS_OK;
}

static int module_open(eris_store **out, const eris_module_request *req)
{
	rados_spec sp;
	rados_store *r;
	int rc;

	if (out == NULL || req == NULL || req->arg == NULL)
		return eris_error_set(ERIS_EINVAL, "invalid argument");
	*out = NULL;
	if ((rc = parse_spec(&sp, req->arg)) < 0)
		return rc;
	if ((r = calloc(1, sizeof(*r))) == NULL ||
	    (r->pool = strdup(sp.pool)) == NULL) {
		free(r);
		return eris_error_set(ERIS_ENOMEM, "out of memory");
	}
	if ((rc = connect_cluster(r, &sp)) < 0) {
		char why[512];

		snprintf(why, sizeof(why), "%s", eris_error_last());
		rados_free(&r->parent);
		return eris_error_set(rc, "%s", why);
	}
	r->parent.version = ERIS_STORE_BACKEND_VERSION;
	r->parent.get = rados_get;
	r->parent.put = rados_put;
	r->parent.has = rados_has;
	r->parent.get_many = rados_get_many;
	r->parent.flush = rados_flush;
	r->parent.free = rados_free;
	r->parent.foreach = rados_foreach;
	r->parent.remove = rados_remove_block;
	return eris_store_new_from_backend(out, &r->parent);
}

ERIS_MODULE_EXPORT const eris_module eris_module_rados = {
	ERIS_MODULE_ABI, "rados", module_open, NULL
};
