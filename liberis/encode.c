/*
 * encode.c - the streaming ERIS encoder (ERIS digest §2).
 *
 * Invariants, each from the specification:
 *  (1) Padding: the content is followed by 0x80 and zeros up to the next
 *      multiple of the block size; padding is always added, so a full leaf
 *      of content is never the last leaf and can be emitted at once (§2.1).
 *  (2) A leaf's key is BLAKE2b-256 of the leaf keyed with the convergence
 *      secret; an internal node's key is the unkeyed BLAKE2b-256 of the
 *      node (§2.2, §2.3).
 *  (3) A block is ChaCha20(node, key, nonce = [level, 0 x 11], counter 0);
 *      its reference is the unkeyed BLAKE2b-256 of the block (§2.2).
 *  (4) The arity is block size / 64: a node holds that many 64-byte
 *      (reference, key) pairs; unused pairs are all zero (§2.3).
 *  (5) The single pair left on the highest level is the root; a single
 *      pair on a lower level is wrapped in a node of its own (§2.7).
 *
 * State: one open node per level, pairs[l] collecting the pairs produced
 * at level l (leaves are level 0). A node is emitted as soon as it is full;
 * finish() closes the partial ones bottom-up.
 *
 * Leaves go in batches (8 leaves; 1 MiB with a pool). A batch is hashed
 * and encrypted by tasks that only touch their own slots (on the pool's
 * threads and the caller's), then its blocks are stored and its pairs
 * pushed in order on the calling thread, so the tree, the blocks and the
 * order of the puts never depend on the thread count.
 *
 *    new ──> WRITING ──write──> WRITING ──finish──> FINISHED
 *              │                                      (free)
 *              └── store put fails ──> FAILED (every call: ERIS_EFAILED)
 */
#include "internal.h"
#include "pool.h"

#include <string.h>

/* The deepest tree a 64-bit length can need: 1 KiB blocks, 16 pairs per
 * node: 2^64 / 2^10 leaves = 2^54 = 16^13.5, so 15 levels above the leaves
 * at most, plus one for the root's pair. */
#define MAX_LEVELS 16

enum state { WRITING, FINISHED, FAILED };

struct eris_encoder {
	eris_store *store;
	size_t bs;
	size_t arity;
	uint8_t secret[ERIS_SECRET_BYTES];
	eris__blake2b_key leaf_key; /* the secret, absorbed once (2) */
	enum state state;
	int error;
	uint64_t length;

	/* Leaves go through in batches of up to `batch` leaves: hashed and
	 * encrypted by the pool (or inline), then stored and pushed in
	 * order. */
	eris__pool *pool;
	size_t batch;
	uint8_t *leaf;   /* content waiting for a batch: `fill` bytes */
	size_t fill;
	uint8_t *block;  /* the batch's encrypted leaves */
	uint8_t (*keys)[ERIS_KEY_BYTES];
	uint8_t (*refs)[ERIS_REF_BYTES];
	uint8_t *node_block; /* one encrypted internal node */
	/* Level-1 nodes made by the tasks (1 KiB blocks with a pool): per
	 * task its node, encrypted node, key and reference; else NULL. */
	uint8_t *node_plain, *node_cipher;
	uint8_t (*node_keys)[ERIS_KEY_BYTES];
	uint8_t (*node_refs)[ERIS_REF_BYTES];
	uint8_t *pairs[MAX_LEVELS];
	size_t count[MAX_LEVELS];
};

/* Leaves per batch with several threads: 1 MiB of content (four SIMD
 * groups of 32 KiB leaves). */
#define BATCH_BYTES ((size_t)1 << 20)
/* A task makes the level-1 node over its leaves when they fit in this
 * (1 KiB blocks: 16 leaves). */
#define TASK_BYTES ((size_t)16 << 10)
/* Threads beyond this add nothing but memory. */
#define MAX_THREADS 256

static int fail(eris_encoder *enc, int rc)
{
	enc->state = FAILED;
	enc->error = rc;
	return rc;
}

static int push(eris_encoder *enc, unsigned level, const uint8_t *ref,
		const uint8_t *key);

/* One batch's work, shared by the tasks. With `fold`, each task's leaves
 * are exactly the pairs of one level-1 node, which the task builds and
 * encrypts too (see emit_leaves). */
struct leaf_job {
	eris_encoder *enc;
	const uint8_t *plain;
	size_t n, per; /* leaves in all, per task */
	int fold;
};

/* Keys, blocks and references of leaves [t * per, t * per + per), hashed
 * ERIS__B2B_MAX_LANES at a time side by side (SIMD lanes); (2), (3). A
 * task touches only its own slots of the batch arrays, so tasks run on
 * any thread. */
static void leaf_task(void *arg, size_t t)
{
	const struct leaf_job *job = arg;
	eris_encoder *enc = job->enc;
	size_t first = t * job->per;
	size_t last = first + job->per < job->n ? first + job->per : job->n;

	for (size_t lo = first; lo < last; lo += ERIS__B2B_MAX_LANES) {
		const uint8_t *in[ERIS__B2B_MAX_LANES] = { NULL };
		size_t n = last - lo;

		if (n > ERIS__B2B_MAX_LANES)
			n = ERIS__B2B_MAX_LANES;
		for (size_t i = 0; i < n; i++)
			in[i] = job->plain + (lo + i) * enc->bs;
		eris__blake2b_many(in, n, enc->bs, &enc->leaf_key,
				   enc->keys + lo);
		for (size_t i = 0; i < n; i++) {
			uint8_t *block = enc->block + (lo + i) * enc->bs;

			eris__chacha20(block, in[i], enc->bs, enc->keys[lo + i],
				       0);
			in[i] = block;
		}
		eris__blake2b_many(in, n, enc->bs, NULL, enc->refs + lo);
	}
	if (job->fold) {
		/* The full level-1 node over these leaves, as close_node()
		 * would make it: (4) all pairs used; (2), (3) at level 1. */
		uint8_t *node = enc->node_plain + t * enc->bs;
		uint8_t *block = enc->node_cipher + t * enc->bs;

		for (size_t i = first; i < last; i++) {
			memcpy(node + (i - first) * 64, enc->refs[i],
			       ERIS_REF_BYTES);
			memcpy(node + (i - first) * 64 + ERIS_REF_BYTES,
			       enc->keys[i], ERIS_KEY_BYTES);
		}
		eris__blake2b(enc->node_keys[t], node, enc->bs);
		eris__chacha20(block, node, enc->bs, enc->node_keys[t], 1);
		eris__blake2b(enc->node_refs[t], block, enc->bs);
	}
}

/* Encode `n` (at most enc->batch) consecutive whole leaves: hash and
 * encrypt them all (in parallel), then store and push them in order, so
 * blocks, puts and pairs are the same for every thread count. When the
 * batch starts a level-1 node and holds whole ones (1 KiB blocks with a
 * pool), the tasks also make those nodes: the same puts, in the same
 * order, as leaf by leaf. */
static int emit_leaves(eris_encoder *enc, const uint8_t *plain, size_t n)
{
	struct leaf_job job = { enc, plain, n, ERIS__B2B_MAX_LANES, 0 };
	size_t tasks;
	int rc = ERIS_OK;

	if (enc->node_plain && enc->count[0] == 0 && n % enc->arity == 0) {
		job.per = enc->arity;
		job.fold = 1;
	}
	tasks = (n + job.per - 1) / job.per;
	eris__pool_run(enc->pool, tasks, leaf_task, &job);
	for (size_t i = 0; i < n && rc == ERIS_OK; i++) {
		if (enc->store) {
			rc = eris__store_put_trusted(enc->store, enc->refs[i],
						     enc->block + i * enc->bs,
						     enc->bs);
			if (rc < 0) {
				fail(enc, rc);
				break;
			}
		}
		if (!job.fold) {
			rc = push(enc, 0, enc->refs[i], enc->keys[i]);
			continue;
		}
		if ((i + 1) % enc->arity != 0)
			continue;
		/* The level-1 node these leaves complete: task i / arity's. */
		if (enc->store) {
			rc = eris__store_put_trusted(
				enc->store, enc->node_refs[i / enc->arity],
				enc->node_cipher + i / enc->arity * enc->bs,
				enc->bs);
			if (rc < 0) {
				fail(enc, rc);
				break;
			}
		}
		rc = push(enc, 1, enc->node_refs[i / enc->arity],
			  enc->node_keys[i / enc->arity]);
	}
	eris_memzero(enc->keys, n * sizeof(*enc->keys));
	if (job.fold) {
		eris_memzero(enc->node_plain, tasks * enc->bs);
		eris_memzero(enc->node_keys, tasks * sizeof(*enc->node_keys));
	}
	return rc;
}

/* Close the node collecting level-`level` pairs: zero-fill (4), encrypt
 * at level + 1 and hand its pair up. */
static int close_node(eris_encoder *enc, unsigned level)
{
	uint8_t key[ERIS_KEY_BYTES], ref[ERIS_REF_BYTES];
	uint8_t *node = enc->pairs[level];
	size_t used = enc->count[level] * 64;
	int rc;

	memset(node + used, 0, enc->bs - used);
	enc->count[level] = 0;
	eris__blake2b(key, node, enc->bs); /* (2) */
	eris__chacha20(enc->node_block, node, enc->bs, key,
		       (uint8_t)(level + 1)); /* (3) */
	eris__blake2b(ref, enc->node_block, enc->bs);
	if (enc->store) {
		rc = eris__store_put_trusted(enc->store, ref, enc->node_block,
					     enc->bs);
		if (rc < 0)
			return fail(enc, rc);
	}
	return push(enc, level + 1, ref, key);
}

static int push(eris_encoder *enc, unsigned level, const uint8_t *ref,
		const uint8_t *key)
{
	uint8_t *slot;

	if (level >= MAX_LEVELS)
		return fail(enc, eris_error_set(ERIS_ELEVEL,
						"content too large"));
	if (enc->pairs[level] == NULL) {
		enc->pairs[level] = eris__malloc(enc->bs);
		if (enc->pairs[level] == NULL)
			return fail(enc, eris_error_set(ERIS_ENOMEM,
							"out of memory"));
	}
	slot = enc->pairs[level] + enc->count[level] * 64;
	memcpy(slot, ref, ERIS_REF_BYTES);
	memcpy(slot + ERIS_REF_BYTES, key, ERIS_KEY_BYTES);
	if (++enc->count[level] == enc->arity)
		return close_node(enc, level);
	return ERIS_OK;
}

int eris_encoder_new(eris_encoder **out, eris_store *store,
		     const eris_encode_options *opts)
{
	eris_encode_options defaults = ERIS_ENCODE_OPTIONS_INIT;
	eris_encoder *enc;
	unsigned threads = 1;
	int rc, nomem = 0;

	if (out == NULL)
		return eris_error_set(ERIS_EINVAL, "invalid argument");
	*out = NULL;
	if ((rc = eris_init()) < 0)
		return rc;
	if (opts == NULL)
		opts = &defaults;
	if (opts->version != 1 && opts->version != ERIS_ENCODE_OPTIONS_VERSION)
		return eris_error_set(ERIS_EINVAL,
				      "unsupported eris_encode_options version");
	if (!eris__valid_block_size(opts->block_size))
		return eris_error_set(ERIS_EINVAL,
				      "invalid block size %u (1024 or 32768)",
				      (unsigned)opts->block_size);
	if (opts->version >= 2 && opts->threads > 1)
		threads = opts->threads < MAX_THREADS ? opts->threads
						      : MAX_THREADS;
	enc = eris__calloc(1, sizeof(*enc));
	if (enc == NULL)
		return eris_error_set(ERIS_ENOMEM, "out of memory");
	enc->store = store;
	enc->bs = opts->block_size;
	enc->arity = enc->bs / 64;
	if (opts->secret)
		memcpy(enc->secret, opts->secret, ERIS_SECRET_BYTES);
	eris__blake2b_key_init(&enc->leaf_key, enc->secret);
	/* One SIMD group on one thread; enough for every thread else. */
	enc->batch = threads > 1 ? BATCH_BYTES / enc->bs : ERIS__B2B_MAX_LANES;
	enc->leaf = eris__malloc(enc->batch * enc->bs);
	enc->block = eris__malloc(enc->batch * enc->bs);
	enc->keys = eris__calloc(enc->batch, sizeof(*enc->keys));
	enc->refs = eris__calloc(enc->batch, sizeof(*enc->refs));
	enc->node_block = eris__malloc(enc->bs);
	if (threads > 1 && enc->arity * enc->bs <= TASK_BYTES) {
		size_t tasks = enc->batch / enc->arity;

		enc->node_plain = eris__malloc(tasks * enc->bs);
		enc->node_cipher = eris__malloc(tasks * enc->bs);
		enc->node_keys = eris__calloc(tasks, sizeof(*enc->node_keys));
		enc->node_refs = eris__calloc(tasks, sizeof(*enc->node_refs));
		nomem = !enc->node_plain || !enc->node_cipher ||
			!enc->node_keys || !enc->node_refs;
	}
	if (nomem || enc->leaf == NULL || enc->block == NULL || enc->keys == NULL ||
	    enc->refs == NULL || enc->node_block == NULL) {
		eris_encoder_free(enc);
		return eris_error_set(ERIS_ENOMEM, "out of memory");
	}
	if ((rc = eris__pool_new(&enc->pool, threads)) < 0) {
		eris_encoder_free(enc);
		return rc;
	}
	enc->state = WRITING;
	*out = enc;
	return ERIS_OK;
}

/* Writes and finish need a live, unfinished encoder. */
static int check_writing(const eris_encoder *enc)
{
	if (enc == NULL)
		return eris_error_set(ERIS_EINVAL, "invalid argument");
	if (enc->state == FAILED)
		return eris_error_set(ERIS_EFAILED,
				      "encoder failed earlier (%s)",
				      eris_strerror(enc->error));
	if (enc->state != WRITING)
		return eris_error_set(ERIS_EINVAL, "encoder already finished");
	return ERIS_OK;
}

int eris_encoder_write(eris_encoder *enc, const void *data, size_t len)
{
	const uint8_t *p = data;
	size_t room, direct;
	int rc;

	if (data == NULL && len > 0)
		return eris_error_set(ERIS_EINVAL, "invalid argument");
	if ((rc = check_writing(enc)) < 0)
		return rc;
	enc->length += len;
	room = enc->batch * enc->bs;
	/* Whole leaves straight from the caller's buffer, no copy (1); with
	 * a pool only whole batches, so that every thread gets work. */
	direct = enc->pool ? room : enc->bs;
	while (len > 0) {
		size_t take;

		if (enc->fill == 0 && len >= direct) {
			size_t n = len / enc->bs;

			if (n > enc->batch)
				n = enc->batch;
			if ((rc = emit_leaves(enc, p, n)) < 0)
				return rc;
			p += n * enc->bs;
			len -= n * enc->bs;
			continue;
		}
		take = room - enc->fill < len ? room - enc->fill : len;
		memcpy(enc->leaf + enc->fill, p, take);
		enc->fill += take;
		p += take;
		len -= take;
		if (enc->fill == room) {
			enc->fill = 0;
			if ((rc = emit_leaves(enc, enc->leaf, enc->batch)) < 0)
				return rc;
		}
	}
	return ERIS_OK;
}

int eris_encoder_finish(eris_read_cap *out, eris_encoder *enc)
{
	unsigned level;
	size_t whole, rest;
	int rc;

	if (out == NULL)
		return eris_error_set(ERIS_EINVAL, "invalid argument");
	if ((rc = check_writing(enc)) < 0)
		return rc;
	/* The whole leaves still waiting, then the last one. */
	whole = enc->fill / enc->bs;
	rest = enc->fill % enc->bs;
	enc->fill = 0;
	if (whole > 0 && (rc = emit_leaves(enc, enc->leaf, whole)) < 0)
		return rc;
	memmove(enc->leaf, enc->leaf + whole * enc->bs, rest);
	/* (1): 0x80 then zeros; the last leaf may be padding only. */
	enc->leaf[rest] = 0x80;
	memset(enc->leaf + rest + 1, 0, enc->bs - rest - 1);
	if ((rc = emit_leaves(enc, enc->leaf, 1)) < 0)
		return rc;
	/* (5): close partial nodes bottom-up until one pair remains on top. */
	for (level = 0;; level++) {
		int top = 1;

		for (unsigned m = level + 1; m < MAX_LEVELS; m++)
			if (enc->count[m]) {
				top = 0;
				break;
			}
		if (top && enc->count[level] == 1)
			break;
		if (enc->count[level] > 0 && (rc = close_node(enc, level)) < 0)
			return rc;
	}
	out->block_size = (uint32_t)enc->bs;
	out->level = (uint8_t)level;
	memcpy(out->root_ref, enc->pairs[level], ERIS_REF_BYTES);
	memcpy(out->root_key, enc->pairs[level] + ERIS_REF_BYTES,
	       ERIS_KEY_BYTES);
	enc->state = FINISHED;
	return ERIS_OK;
}

uint64_t eris_encoder_length(const eris_encoder *enc)
{
	return enc ? enc->length : 0;
}

void eris_encoder_free(eris_encoder *enc)
{
	if (enc == NULL)
		return;
	eris_memzero(enc->secret, sizeof(enc->secret));
	eris_memzero(&enc->leaf_key, sizeof(enc->leaf_key));
	eris__pool_free(enc->pool);
	if (enc->leaf) {
		eris_memzero(enc->leaf, enc->batch * enc->bs);
		eris__free(enc->leaf);
	}
	eris__free(enc->block);
	if (enc->keys) {
		eris_memzero(enc->keys, enc->batch * sizeof(*enc->keys));
		eris__free(enc->keys);
	}
	eris__free(enc->refs);
	eris__free(enc->node_block);
	eris__free(enc->node_plain);
	eris__free(enc->node_cipher);
	eris__free(enc->node_keys);
	eris__free(enc->node_refs);
	for (unsigned l = 0; l < MAX_LEVELS; l++)
		if (enc->pairs[l]) {
			eris_memzero(enc->pairs[l], enc->bs);
			eris__free(enc->pairs[l]);
		}
	eris__free(enc);
}

int eris_encode(eris_read_cap *out, eris_store *store,
		const eris_encode_options *opts, const void *data, size_t len)
{
	eris_encoder *enc;
	int rc = eris_encoder_new(&enc, store, opts);

	if (rc < 0)
		return rc;
	rc = eris_encoder_write(enc, data, len);
	if (rc == ERIS_OK)
		rc = eris_encoder_finish(out, enc);
	eris_encoder_free(enc);
	return rc;
}
