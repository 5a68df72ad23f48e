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
 *    new ──> WRITING ──write──> WRITING ──finish──> FINISHED
 *              │                                      (free)
 *              └── store put fails ──> FAILED (every call: ERIS_EFAILED)
 */
#include "internal.h"

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

	uint8_t *leaf;   /* partial leaf: `fill` bytes of content */
	size_t fill;
	uint8_t *block;  /* scratch for one encrypted block */
	uint8_t *pairs[MAX_LEVELS];
	size_t count[MAX_LEVELS];
};

static int fail(eris_encoder *enc, int rc)
{
	enc->state = FAILED;
	enc->error = rc;
	return rc;
}

static int push(eris_encoder *enc, unsigned level, const uint8_t *ref,
		const uint8_t *key);

/* Encrypt one plaintext node at `level` and store the block; (2), (3). */
static int emit(eris_encoder *enc, const uint8_t *plain, unsigned level,
		const uint8_t *key, uint8_t ref_out[ERIS_REF_BYTES])
{
	eris__chacha20(enc->block, plain, enc->bs, key, (uint8_t)level);
	eris__blake2b(ref_out, enc->block, enc->bs);
	if (enc->store) {
		int rc = eris__store_put_trusted(enc->store, ref_out,
						 enc->block, enc->bs);
		if (rc < 0)
			return fail(enc, rc);
	}
	return ERIS_OK;
}

static int emit_leaf(eris_encoder *enc, const uint8_t *plain)
{
	uint8_t key[ERIS_KEY_BYTES], ref[ERIS_REF_BYTES];
	int rc;

	eris__blake2b_keyed_with(key, &enc->leaf_key, plain, enc->bs);
	rc = emit(enc, plain, 0, key, ref);
	if (rc == ERIS_OK)
		rc = push(enc, 0, ref, key);
	eris_memzero(key, sizeof(key));
	return rc;
}

/* emit_leaf() for `n` (at most ERIS__B2B_MAX_LANES) consecutive whole
 * leaves: the keys, then the references, of all n are hashed side by side
 * (SIMD lanes). Same blocks, puts and pairs, in the same order. */
static int emit_leaves(eris_encoder *enc, const uint8_t *plain, size_t n)
{
	const uint8_t *in[ERIS__B2B_MAX_LANES] = { NULL };
	uint8_t keys[ERIS__B2B_MAX_LANES][ERIS_KEY_BYTES];
	uint8_t refs[ERIS__B2B_MAX_LANES][ERIS_REF_BYTES];
	int rc = ERIS_OK;

	for (size_t i = 0; i < n; i++)
		in[i] = plain + i * enc->bs;
	eris__blake2b_many(in, n, enc->bs, &enc->leaf_key, keys); /* (2) */
	for (size_t i = 0; i < n; i++) {
		in[i] = enc->block + i * enc->bs;
		eris__chacha20(enc->block + i * enc->bs, plain + i * enc->bs,
			       enc->bs, keys[i], 0); /* (3) */
	}
	eris__blake2b_many(in, n, enc->bs, NULL, refs);
	/* push() may close nodes, whose emit() reuses block slot 0: leaf 0's
	 * block is stored before the first push, the others live in slots
	 * 1..n-1, which emit() never touches. */
	for (size_t i = 0; i < n && rc == ERIS_OK; i++) {
		if (enc->store) {
			rc = eris__store_put_trusted(enc->store, refs[i], in[i],
						     enc->bs);
			if (rc < 0) {
				fail(enc, rc);
				break;
			}
		}
		rc = push(enc, 0, refs[i], keys[i]);
	}
	eris_memzero(keys, sizeof(keys));
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
	eris__blake2b(key, node, enc->bs);
	rc = emit(enc, node, level + 1, key, ref);
	if (rc == ERIS_OK)
		rc = push(enc, level + 1, ref, key);
	return rc;
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
	int rc;

	if (out == NULL)
		return eris_error_set(ERIS_EINVAL, "invalid argument");
	*out = NULL;
	if ((rc = eris_init()) < 0)
		return rc;
	if (opts == NULL)
		opts = &defaults;
	if (opts->version != ERIS_ENCODE_OPTIONS_VERSION)
		return eris_error_set(ERIS_EINVAL,
				      "unsupported eris_encode_options version");
	if (!eris__valid_block_size(opts->block_size))
		return eris_error_set(ERIS_EINVAL,
				      "invalid block size %u (1024 or 32768)",
				      (unsigned)opts->block_size);
	enc = eris__calloc(1, sizeof(*enc));
	if (enc == NULL)
		return eris_error_set(ERIS_ENOMEM, "out of memory");
	enc->store = store;
	enc->bs = opts->block_size;
	enc->arity = enc->bs / 64;
	if (opts->secret)
		memcpy(enc->secret, opts->secret, ERIS_SECRET_BYTES);
	eris__blake2b_key_init(&enc->leaf_key, enc->secret);
	enc->leaf = eris__malloc(enc->bs);
	/* Room for a group of leaves' blocks (emit_leaves). */
	enc->block = eris__malloc(ERIS__B2B_MAX_LANES * enc->bs);
	if (enc->leaf == NULL || enc->block == NULL) {
		eris_encoder_free(enc);
		return eris_error_set(ERIS_ENOMEM, "out of memory");
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
	int rc;

	if (data == NULL && len > 0)
		return eris_error_set(ERIS_EINVAL, "invalid argument");
	if ((rc = check_writing(enc)) < 0)
		return rc;
	enc->length += len;
	if (enc->fill > 0) {
		size_t take = enc->bs - enc->fill;

		if (take > len)
			take = len;
		memcpy(enc->leaf + enc->fill, p, take);
		enc->fill += take;
		p += take;
		len -= take;
		if (enc->fill < enc->bs)
			return ERIS_OK;
		enc->fill = 0;
		if ((rc = emit_leaf(enc, enc->leaf)) < 0)
			return rc;
	}
	/* Whole leaves straight from the caller's buffer, no copy (1). */
	while (len >= enc->bs) {
		size_t n = len / enc->bs;

		if (n > ERIS__B2B_MAX_LANES)
			n = ERIS__B2B_MAX_LANES;
		if ((rc = emit_leaves(enc, p, n)) < 0)
			return rc;
		p += n * enc->bs;
		len -= n * enc->bs;
	}
	memcpy(enc->leaf, p, len);
	enc->fill = len;
	return ERIS_OK;
}

int eris_encoder_finish(eris_read_cap *out, eris_encoder *enc)
{
	unsigned level;
	int rc;

	if (out == NULL)
		return eris_error_set(ERIS_EINVAL, "invalid argument");
	if ((rc = check_writing(enc)) < 0)
		return rc;
	/* (1): 0x80 then zeros; the last leaf may be padding only. */
	enc->leaf[enc->fill] = 0x80;
	memset(enc->leaf + enc->fill + 1, 0, enc->bs - enc->fill - 1);
	enc->fill = 0;
	if ((rc = emit_leaf(enc, enc->leaf)) < 0)
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
	if (enc->leaf) {
		eris_memzero(enc->leaf, enc->bs);
		eris__free(enc->leaf);
	}
	eris__free(enc->block);
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
