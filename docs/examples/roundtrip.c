/*
 * roundtrip.c - a complete liberis program: encode a buffer into a store
 * with the streaming encoder, print its URN, parse the URN back, read the
 * content back at random offsets and sequentially, and verify every block.
 *
 * Usage: roundtrip [STORE]
 *   STORE is a store specification ("mem:", "dir:PATH" or a directory
 *   path); the default is "mem:". Exits 0 when everything read back equals
 *   what was written, 1 on any failure.
 *
 * docs/guide.md includes this file verbatim; a test keeps the two equal.
 */
#include <eris/eris.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* 300 KiB and a bit: with 1 KiB blocks that is 301 leaves, a level-3 tree. */
#define CONTENT_LEN (300u * 1024u + 123u)

/* Print why a call failed. The per-thread message names the block and,
 * for verification failures, the rule that was broken. */
static int fail(const char *what, int rc)
{
	const char *rule = eris_error_rule(rc);

	fprintf(stderr, "roundtrip: %s: %s%s%s: %s\n", what,
		rule ? rule : "", rule ? " " : "", eris_strerror(rc),
		eris_error_last());
	return 1;
}

/* Deterministic, non-repeating test content (xorshift32). */
static void fill_content(unsigned char *buf, size_t len)
{
	uint32_t x = 2463534242u;

	for (size_t i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		buf[i] = (unsigned char)x;
	}
}

/* Read `len` bytes at `offset` through the decoder, compare with the
 * original. Returns 0 on success. */
static int check_range(eris_decoder *dec, const unsigned char *content,
		       uint64_t offset, size_t len)
{
	unsigned char buf[4096];
	size_t got = 0;
	size_t want;
	int rc;

	if (len > sizeof(buf))
		len = sizeof(buf);
	rc = eris_decoder_pread(dec, buf, len, offset, &got);
	if (rc != ERIS_OK)
		return fail("eris_decoder_pread", rc);
	/* Reads stop at the end of the content. */
	want = offset >= CONTENT_LEN ? 0
	       : CONTENT_LEN - offset < len ? (size_t)(CONTENT_LEN - offset)
					    : len;
	if (got != want ||
	    (got > 0 && memcmp(buf, content + offset, got) != 0)) {
		fprintf(stderr, "roundtrip: wrong bytes at offset %llu\n",
			(unsigned long long)offset);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *spec = argc > 1 ? argv[1] : "mem:";
	eris_encode_options opts = ERIS_ENCODE_OPTIONS_INIT;
	eris_store *store = NULL;
	eris_encoder *enc = NULL;
	eris_decoder *dec = NULL;
	unsigned char *content = NULL;
	unsigned char chunk[5000];
	uint8_t cap_bytes[ERIS_READ_CAP_BYTES], back_bytes[ERIS_READ_CAP_BYTES];
	char urn[ERIS_URN_BUFSIZE];
	eris_read_cap cap, parsed;
	uint64_t blocks = 0;
	size_t done, got;
	int status = 1, rc;

	if ((rc = eris_init()) != ERIS_OK)
		return fail("eris_init", rc);

	content = malloc(CONTENT_LEN);
	if (content == NULL) {
		fprintf(stderr, "roundtrip: out of memory\n");
		goto out;
	}
	fill_content(content, CONTENT_LEN);

	/* 1. Open the store; directory stores are created when missing. */
	if ((rc = eris_store_open(&store, spec, ERIS_STORE_CREATE)) != ERIS_OK) {
		fail("eris_store_open", rc);
		goto out;
	}

	/* 2. Encode. Small blocks give this small example a deep tree;
	 * eris_block_size_for_length() picks the usual size. The secret
	 * stays NULL: convergent encoding with the null secret. */
	opts.block_size = ERIS_BLOCK_SIZE_1K;
	if ((rc = eris_encoder_new(&enc, store, &opts)) != ERIS_OK) {
		fail("eris_encoder_new", rc);
		goto out;
	}
	/* Write in uneven pieces: chunking does not change the result. */
	for (done = 0; done < CONTENT_LEN; done += got) {
		got = CONTENT_LEN - done < 7777 ? CONTENT_LEN - done : 7777;
		if ((rc = eris_encoder_write(enc, content + done, got)) !=
		    ERIS_OK) {
			fail("eris_encoder_write", rc);
			goto out;
		}
	}
	if ((rc = eris_encoder_finish(&cap, enc)) != ERIS_OK) {
		fail("eris_encoder_finish", rc);
		goto out;
	}
	eris_encoder_free(enc);
	enc = NULL;

	/* 3. The URN names the content; print it and parse it back. */
	if ((rc = eris_urn_format(urn, &cap)) != ERIS_OK) {
		fail("eris_urn_format", rc);
		goto out;
	}
	printf("%s\n", urn);
	printf("block size %u, level %u\n", (unsigned)cap.block_size,
	       (unsigned)cap.level);
	if ((rc = eris_urn_parse(&parsed, urn, strlen(urn))) != ERIS_OK) {
		fail("eris_urn_parse", rc);
		goto out;
	}
	/* Compare binary forms, not structs (structs have padding). */
	if (eris_read_cap_to_bytes(cap_bytes, &cap) != ERIS_OK ||
	    eris_read_cap_to_bytes(back_bytes, &parsed) != ERIS_OK ||
	    memcmp(cap_bytes, back_bytes, sizeof(cap_bytes)) != 0) {
		fprintf(stderr, "roundtrip: URN did not parse back\n");
		goto out;
	}

	/* 4. Decode. Opening checks the root and the padding and learns the
	 * length; every block read afterwards is verified before use. */
	if ((rc = eris_decoder_new(&dec, store, &parsed)) != ERIS_OK) {
		fail("eris_decoder_new", rc);
		goto out;
	}
	if (eris_decoder_length(dec) != CONTENT_LEN) {
		fprintf(stderr, "roundtrip: length %llu, expected %u\n",
			(unsigned long long)eris_decoder_length(dec),
			CONTENT_LEN);
		goto out;
	}
	/* Random access: the start, across a leaf boundary, deep inside,
	 * the tail, and past the end (reads 0 bytes). */
	if (check_range(dec, content, 0, 100) ||
	    check_range(dec, content, 1000, 100) ||
	    check_range(dec, content, 200000, 4096) ||
	    check_range(dec, content, CONTENT_LEN - 50, 4096) ||
	    check_range(dec, content, CONTENT_LEN + 1, 10))
		goto out;
	/* Sequential: seek back to the start and read everything. */
	if ((rc = eris_decoder_seek(dec, 0)) != ERIS_OK) {
		fail("eris_decoder_seek", rc);
		goto out;
	}
	for (done = 0;; done += got) {
		rc = eris_decoder_read(dec, chunk, sizeof(chunk), &got);
		if (rc != ERIS_OK) {
			fail("eris_decoder_read", rc);
			goto out;
		}
		if (got == 0)
			break; /* end of content */
		if (got > CONTENT_LEN - done ||
		    memcmp(chunk, content + done, got) != 0) {
			fprintf(stderr, "roundtrip: content differs\n");
			goto out;
		}
	}
	if (done != CONTENT_LEN) {
		fprintf(stderr, "roundtrip: read %zu bytes, expected %u\n",
			done, CONTENT_LEN);
		goto out;
	}

	/* 5. Verify: every block present and intact, nothing decrypted. */
	if ((rc = eris_verify(store, &parsed, &blocks, NULL, NULL)) !=
	    ERIS_OK) {
		fail("eris_verify", rc);
		goto out;
	}
	printf("verified %llu blocks\n", (unsigned long long)blocks);
	status = 0;

out:
	/* Every _free accepts NULL. */
	eris_decoder_free(dec);
	eris_encoder_free(enc);
	eris_store_free(store);
	free(content);
	return status;
}
