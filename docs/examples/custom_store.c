/*
 * custom_store.c - writing a block-store back end: a small in-memory
 * store that counts its calls. It shows how a back end embeds
 * eris_store_backend, what each callback must do, who owns what, and that
 * the library checks every block a back end returns (a tampered block is
 * caught as rule R3, ERIS_EMISMATCH).
 *
 * Exits 0 when content round-trips through the back end and the tampered
 * block is detected, 1 otherwise.
 *
 * docs/guide.md includes this file verbatim; a test keeps the two equal.
 */
#include <eris/eris.h>
#include <eris/sys/store_backend.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One stored block, in a singly linked list (fine for an example). */
struct entry {
	struct entry *next;
	uint8_t ref[ERIS_REF_BYTES];
	size_t len;
	uint8_t data[]; /* the encrypted block */
};

/* The back end: eris_store_backend first, so the library's pointer and
 * ours are the same address. */
struct counting_store {
	eris_store_backend parent;
	struct entry *head;
	unsigned gets, puts;
};

static struct entry *lookup(struct counting_store *s, const uint8_t *ref)
{
	for (struct entry *e = s->head; e; e = e->next)
		if (memcmp(e->ref, ref, ERIS_REF_BYTES) == 0)
			return e;
	return NULL;
}

static int cs_get(eris_store_backend *b, const uint8_t ref[ERIS_REF_BYTES],
		  uint8_t *buf, size_t buf_size, size_t *out_len)
{
	struct counting_store *s = (struct counting_store *)b;
	struct entry *e = lookup(s, ref);

	s->gets++;
	if (e == NULL)
		return ERIS_ENOTFOUND; /* plain "absent": no message needed */
	if (e->len > buf_size)
		return eris_error_set(ERIS_EBLOCKSIZE,
				      "block of %zu bytes does not fit", e->len);
	memcpy(buf, e->data, e->len); /* copy out: the caller owns buf */
	*out_len = e->len;
	return ERIS_OK;
}

static int cs_put(eris_store_backend *b, const uint8_t ref[ERIS_REF_BYTES],
		  const uint8_t *block, size_t len)
{
	struct counting_store *s = (struct counting_store *)b;
	struct entry *e;

	s->puts++;
	if (lookup(s, ref))
		return ERIS_OK; /* blocks never change: a second put is a no-op */
	e = malloc(sizeof(*e) + len);
	if (e == NULL)
		return eris_error_set(ERIS_ENOMEM, "out of memory");
	memcpy(e->ref, ref, ERIS_REF_BYTES);
	memcpy(e->data, block, len); /* `block` is only borrowed: copy it */
	e->len = len;
	e->next = s->head;
	s->head = e;
	return ERIS_OK;
}

static int cs_has(eris_store_backend *b, const uint8_t ref[ERIS_REF_BYTES])
{
	return lookup((struct counting_store *)b, ref) != NULL;
}

/* Called once, by eris_store_free() (or by eris_store_new_from_backend()
 * if wrapping fails): release everything, the back end included. */
static void cs_free(eris_store_backend *b)
{
	struct counting_store *s = (struct counting_store *)b;

	while (s->head) {
		struct entry *next = s->head->next;

		free(s->head);
		s->head = next;
	}
	free(s);
}

/* `*counters` borrows the back end, to read its counters: valid until
 * the store is freed. */
static int counting_store_new(eris_store **out,
			      struct counting_store **counters)
{
	eris_store_backend init = ERIS_STORE_BACKEND_INIT;
	struct counting_store *s = calloc(1, sizeof(*s));

	*out = NULL;
	*counters = s;
	if (s == NULL)
		return ERIS_ENOMEM;
	s->parent = init;
	s->parent.get = cs_get;
	s->parent.put = cs_put;
	s->parent.has = cs_has;
	s->parent.free = cs_free; /* get_many and flush stay NULL: optional */
	/* Ownership of `s` passes to the store, even if this fails. */
	return eris_store_new_from_backend(out, &s->parent);
}

int main(void)
{
	static const char text[] = "Blocks never change, so a store is a set.";
	eris_store *store = NULL;
	eris_decoder *dec = NULL;
	struct counting_store *cs;
	eris_read_cap cap;
	char buf[sizeof(text)];
	size_t got = 0;
	int status = 1, rc;

	if ((rc = counting_store_new(&store, &cs)) != ERIS_OK) {
		fprintf(stderr, "custom_store: %s\n", eris_strerror(rc));
		return 1;
	}

	/* One-shot encoding with the default options (NULL): 32 KiB blocks,
	 * null secret. Short content fits in one leaf: level 0. */
	rc = eris_encode(&cap, store, NULL, text, strlen(text));
	if (rc != ERIS_OK)
		goto fail;
	printf("encoded: level %u, %u put(s)\n", (unsigned)cap.level, cs->puts);

	rc = eris_decoder_new(&dec, store, &cap);
	if (rc == ERIS_OK)
		rc = eris_decoder_pread(dec, buf, sizeof(buf), 0, &got);
	if (rc != ERIS_OK)
		goto fail;
	if (got != strlen(text) || memcmp(buf, text, got) != 0) {
		fprintf(stderr, "custom_store: content differs\n");
		goto out;
	}
	printf("decoded: %zu bytes, %u get(s)\n", got, cs->gets);
	eris_decoder_free(dec);
	dec = NULL;

	/* Tamper with the stored block behind the library's back: the next
	 * decoder refuses it, whatever the back end claims. */
	cs->head->data[0] ^= 1;
	rc = eris_decoder_new(&dec, store, &cap);
	if (rc != ERIS_EMISMATCH) {
		fprintf(stderr, "custom_store: tampering not detected (%d)\n",
			rc);
		goto out;
	}
	printf("tampered block refused: %s (%s)\n", eris_error_rule(rc),
	       eris_error_last());
	status = 0;
	goto out;

fail:
	fprintf(stderr, "custom_store: %s: %s\n", eris_strerror(rc),
		eris_error_last());
out:
	eris_decoder_free(dec);
	eris_store_free(store); /* calls cs_free */
	return status;
}
