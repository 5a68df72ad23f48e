/*
 * decode_fuzz.c - libFuzzer target for the verified decoder against a
 * hostile store.
 *
 * The input describes an honest encoding and what the store does to it:
 *
 *   byte 0      flags: bit 0 selects 32 KiB blocks (else 1 KiB), bit 1 a
 *               non-null convergence secret
 *   bytes 1-2   content length (big endian; modulo 24577 with 1 KiB
 *               blocks: up to a tree of level 2, kept small for speed)
 *   byte 3      seed of the content (a simple generator, not input bytes,
 *               so that small inputs make big trees)
 *   then        operations of 4 bytes [op, a, b, c], applied in order:
 *     op % 6 == 0  xor byte c into block a at offset b * 5 (a corrupt copy)
 *     op % 6 == 1  drop block a                            (a missing block)
 *     op % 6 == 2  truncate block a to b * 8 bytes         (a short read)
 *     op % 6 == 3  add a random block, made of the next 4 * (b + 1) input
 *                  bytes repeated, under its true hash     (valid junk)
 *     op % 6 == 4  xor byte c into the capability at byte b % 66
 *     op % 6 == 5  point the root at random block a (its true hash) with
 *                  the key taken from the next 32 input bytes
 *
 * The content is encoded into a recording store, the operations are
 * applied to the recorded blocks, and the content is decoded from them.
 * The properties checked:
 *   (1) with the honest capability, a successful open and read returns
 *       exactly the content's length and bytes (the store cannot forge
 *       anything);
 *   (2) with the honest capability, reads at offsets taken from the
 *       input return either an error or exactly the right bytes;
 *   (3) eris_verify() succeeds if and only if a full read does, and an
 *       untouched store always decodes.
 */
#include <eris/eris.h>
#include <eris/sys/store_backend.h>

#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_BLOCKS 256

typedef struct {
	uint8_t ref[ERIS_REF_BYTES];
	uint8_t *data; /* NULL: dropped */
	size_t len;
} rec_block;

typedef struct {
	eris_store_backend parent;
	rec_block blocks[MAX_BLOCKS];
	size_t n;
} rec_store;

static rec_block *find(rec_store *s, const uint8_t *ref)
{
	for (size_t i = 0; i < s->n; i++)
		if (memcmp(s->blocks[i].ref, ref, ERIS_REF_BYTES) == 0)
			return &s->blocks[i];
	return NULL;
}

static int rec_get(eris_store_backend *b, const uint8_t ref[ERIS_REF_BYTES],
		   uint8_t *buf, size_t buf_size, size_t *out_len)
{
	rec_block *e = find((rec_store *)b, ref);

	if (e == NULL || e->data == NULL)
		return ERIS_ENOTFOUND;
	if (e->len > buf_size)
		return eris_error_set(ERIS_EBLOCKSIZE, "block too large");
	memcpy(buf, e->data, e->len);
	*out_len = e->len;
	return ERIS_OK;
}

static int rec_put(eris_store_backend *b, const uint8_t ref[ERIS_REF_BYTES],
		   const uint8_t *block, size_t len)
{
	rec_store *s = (rec_store *)b;
	rec_block *e;

	if (find(s, ref))
		return ERIS_OK;
	if (s->n == MAX_BLOCKS)
		return eris_error_set(ERIS_ERROR, "recording store full");
	e = &s->blocks[s->n];
	e->data = malloc(len);
	if (e->data == NULL)
		return ERIS_ENOMEM;
	memcpy(e->ref, ref, ERIS_REF_BYTES);
	memcpy(e->data, block, len);
	e->len = len;
	s->n++;
	return ERIS_OK;
}

static void rec_free(eris_store_backend *b)
{
	rec_store *s = (rec_store *)b;

	for (size_t i = 0; i < s->n; i++)
		free(s->blocks[i].data);
	free(s);
}

/* Read the whole content; with `content` (the capability is the honest
 * one), ERIS_OK only with exactly those `len` bytes. */
static int read_all(eris_store *store, const eris_read_cap *cap,
		    const uint8_t *content, size_t len)
{
	eris_decoder *dec;
	uint8_t *buf;
	size_t got = 0;
	int rc = eris_decoder_new(&dec, store, cap);

	if (rc != ERIS_OK)
		return rc;
	if (content == NULL)
		len = (size_t)eris_decoder_length(dec);
	else if (eris_decoder_length(dec) != len)
		abort();
	buf = malloc(len + 1);
	if (buf == NULL)
		abort();
	rc = eris_decoder_pread(dec, buf, len + 1, 0, &got);
	if (rc == ERIS_OK && got != len)
		abort();
	if (rc == ERIS_OK && content && memcmp(buf, content, len) != 0)
		abort();
	free(buf);
	eris_decoder_free(dec);
	return rc;
}

/* Reads at offsets from the input: an error or the right bytes. */
static void read_at(eris_store *store, const eris_read_cap *cap,
		    const uint8_t *content, size_t len, const uint8_t *in,
		    size_t in_len)
{
	eris_decoder *dec;
	uint8_t buf[4096];

	if (eris_decoder_new(&dec, store, cap) != ERIS_OK)
		return;
	for (size_t i = 0; i + 4 <= in_len && i < 64; i += 4) {
		size_t off = ((size_t)in[i] << 8 | in[i + 1]) % (len + 2);
		size_t want = ((size_t)in[i + 2] << 8 | in[i + 3]) % sizeof(buf);
		size_t got = 0;

		if (eris_decoder_pread(dec, buf, want, off, &got) != ERIS_OK)
			continue;
		if (off >= len ? got != 0
			       : got != (want < len - off ? want : len - off))
			abort();
		if (got && memcmp(buf, content + off, got) != 0)
			abort();
	}
	eris_decoder_free(dec);
}

static rec_block *pick(rec_store *s, uint8_t a)
{
	return s->n ? &s->blocks[a % s->n] : NULL;
}

/* Store `len` bytes made of `pattern` repeated, under their true hash. */
static void add_junk(eris_store *store, uint32_t bs, const uint8_t *pattern,
		     size_t plen)
{
	uint8_t *block = malloc(bs);
	uint8_t ref[ERIS_REF_BYTES];

	if (block == NULL)
		abort();
	for (size_t i = 0; i < bs; i++)
		block[i] = pattern[i % plen];
	/* A reference is the unkeyed BLAKE2b-256 of the block. */
	crypto_generichash(ref, sizeof(ref), block, bs, NULL, 0);
	(void)eris_store_put(store, ref, block, bs); /* full: ignored */
	free(block);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	eris_encode_options opts = ERIS_ENCODE_OPTIONS_INIT;
	uint8_t secret[ERIS_SECRET_BYTES];
	eris_read_cap cap, orig;
	eris_store *store;
	rec_store *s;
	uint8_t *content;
	size_t len, pos;
	uint32_t x;
	int changed = 0, same_cap, rc_read, rc_verify;

	if (size < 4)
		return 0;
	opts.block_size = data[0] & 1 ? ERIS_BLOCK_SIZE_32K : ERIS_BLOCK_SIZE_1K;
	memset(secret, 0x5a, sizeof(secret));
	opts.secret = data[0] & 2 ? secret : NULL;
	len = (size_t)data[1] << 8 | data[2];
	if (opts.block_size == ERIS_BLOCK_SIZE_1K)
		len %= 24u * 1024u + 1u;
	content = malloc(len ? len : 1);
	s = calloc(1, sizeof(*s));
	if (content == NULL || s == NULL)
		abort();
	x = 0x9e3779b9u * (data[3] + 1u);
	for (size_t i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		/* Runs of equal bytes too, so that some blocks repeat. */
		content[i] = data[3] & 1 ? (uint8_t)x : (uint8_t)(i >> 12);
	}
	s->parent.version = ERIS_STORE_BACKEND_VERSION;
	s->parent.get = rec_get;
	s->parent.put = rec_put;
	s->parent.free = rec_free;
	if (eris_store_new_from_backend(&store, &s->parent) != ERIS_OK)
		abort();
	if (eris_encode(&orig, store, &opts, content, len) != ERIS_OK)
		abort();
	cap = orig;

	for (pos = 4; pos + 4 <= size; pos += 4) {
		const uint8_t *op = data + pos;
		rec_block *e = pick(s, op[1]);
		uint8_t capbytes[ERIS_READ_CAP_BYTES];

		switch (op[0] % 6) {
		case 0:
			if (e && e->data && op[3] && (size_t)op[2] * 5 < e->len) {
				e->data[op[2] * 5] ^= op[3];
				changed = 1;
			}
			break;
		case 1:
			if (e && e->data) {
				free(e->data);
				e->data = NULL;
				changed = 1;
			}
			break;
		case 2:
			if (e && e->data && (size_t)op[2] * 8 < e->len) {
				e->len = (size_t)op[2] * 8;
				changed = 1;
			}
			break;
		case 3: {
			size_t plen = 4 * ((size_t)op[2] + 1);

			if (pos + 4 + plen > size)
				plen = size - pos - 4;
			if (plen)
				add_junk(store, cap.block_size, op + 4, plen);
			pos += plen;
			break;
		}
		case 4:
			if (op[3] == 0)
				break;
			eris_read_cap_to_bytes(capbytes, &cap);
			capbytes[op[2] % sizeof(capbytes)] ^= op[3];
			/* An invalid block-size code keeps the old one. */
			if (eris_read_cap_from_bytes(&cap, capbytes) == ERIS_OK)
				changed = 1;
			break;
		case 5:
			if (e == NULL || pos + 4 + ERIS_KEY_BYTES > size)
				break;
			memcpy(cap.root_ref, e->ref, ERIS_REF_BYTES);
			memcpy(cap.root_key, op + 4, ERIS_KEY_BYTES);
			pos += ERIS_KEY_BYTES;
			changed = 1;
			break;
		}
	}

	/* With another capability the content is unknown (it may even be
	 * a subtree of the honest one): only the differential check. */
	same_cap = cap.block_size == orig.block_size &&
		   cap.level == orig.level &&
		   memcmp(cap.root_ref, orig.root_ref, ERIS_REF_BYTES) == 0 &&
		   memcmp(cap.root_key, orig.root_key, ERIS_KEY_BYTES) == 0;
	rc_read = read_all(store, &cap, same_cap ? content : NULL, len);
	rc_verify = eris_verify(store, &cap, NULL, NULL, NULL);
	if ((rc_read == ERIS_OK) != (rc_verify == ERIS_OK))
		abort();
	if (!changed && rc_read != ERIS_OK)
		abort();
	if (same_cap)
		read_at(store, &cap, content, len, data + 4, size - 4);

	eris_store_free(store);
	free(content);
	return 0;
}
