/*
 * bundle.c - carry content in a CBOR bundle and point at it with a link
 * file: encode a text into a memory store, write every block and the
 * read capability into a bundle (a temporary file), open the bundle
 * again, checking every block, decode the text from it as from any
 * store, and make and parse a link file for it.
 *
 * Usage: bundle. Exits 0 when the text read back from the bundle equals
 * the one written and the link file says what was put in it, 1 otherwise.
 *
 * docs/guide.md includes this file verbatim; a test keeps the two equal.
 */
#include <eris/eris.h>

#include <stdio.h>
#include <string.h>

static const char text[] = "A bundle holds blocks and read capabilities.";

static int fail(const char *what, int rc)
{
	fprintf(stderr, "bundle: %s: %s: %s\n", what, eris_strerror(rc),
		eris_error_last());
	return 1;
}

/* eris_store_foreach callback: copy one block into the bundle. */
static int copy_block(const uint8_t ref[ERIS_REF_BYTES], size_t len,
		      void *payload)
{
	static uint8_t block[ERIS_BLOCK_SIZE_MAX];
	void **ctx = payload; /* { store, writer } */
	size_t got;
	int rc;

	(void)len;
	rc = eris_store_get(ctx[0], ref, block, sizeof(block), &got);
	if (rc == ERIS_OK)
		rc = eris_bundle_writer_add_block(ctx[1], ref, block, got);
	return rc;
}

int main(void)
{
	eris_encode_options opts = ERIS_ENCODE_OPTIONS_INIT;
	eris_store *mem = NULL, *from_bundle = NULL;
	eris_bundle_writer *writer = NULL;
	eris_bundle *bundle = NULL;
	eris_decoder *dec = NULL;
	eris_link link = { 0 }, *parsed = NULL;
	eris_read_cap cap;
	uint8_t link_file[512];
	char back[sizeof(text)];
	size_t len, got = 0;
	void *ctx[2];
	FILE *file = tmpfile();
	int rc, status = 1;

	opts.block_size = ERIS_BLOCK_SIZE_1K;
	if (file == NULL) {
		perror("bundle: tmpfile");
		return 1;
	}
	if ((rc = eris_store_new_mem(&mem)) < 0 ||
	    (rc = eris_encode(&cap, mem, &opts, text, strlen(text))) < 0) {
		status = fail("encode", rc);
		goto out;
	}

	/* Write: the block count is not known up front, one capability. */
	rc = eris_bundle_writer_new(&writer, fileno(file),
				    ERIS_BUNDLE_COUNT_UNKNOWN, 1);
	ctx[0] = mem;
	ctx[1] = writer;
	if (rc == ERIS_OK)
		rc = eris_store_foreach(mem, copy_block, ctx);
	if (rc == ERIS_OK)
		rc = eris_bundle_writer_add_cap(writer, &cap);
	if (rc == ERIS_OK)
		rc = eris_bundle_writer_finish(writer);
	if (rc < 0) {
		status = fail("write the bundle", rc);
		goto out;
	}

	/* Read: index the file, hashing every block, and decode from it. */
	rc = eris_bundle_open_fd(&bundle, fileno(file), "bundle",
				 ERIS_BUNDLE_VERIFY);
	if (rc == ERIS_OK)
		rc = eris_store_new_bundle(&from_bundle, bundle);
	if (rc == ERIS_OK && eris_bundle_cap_count(bundle) != 1)
		rc = ERIS_ERROR;
	if (rc == ERIS_OK)
		rc = eris_decoder_new(&dec, from_bundle,
				      eris_bundle_cap(bundle, 0));
	if (rc == ERIS_OK)
		rc = eris_decoder_read(dec, back, sizeof(back), &got);
	if (rc < 0) {
		status = fail("read the bundle", rc);
		goto out;
	}
	printf("%llu blocks; read back: %.*s\n",
	       (unsigned long long)eris_bundle_block_count(bundle), (int)got,
	       back);

	/* A link file: capability, size and MIME type. */
	link.cap = cap;
	link.size = strlen(text);
	link.mime = "text/plain";
	rc = eris_link_encode(link_file, sizeof(link_file), &len, &link);
	if (rc == ERIS_OK)
		rc = eris_link_decode(&parsed, link_file, len);
	if (rc < 0) {
		status = fail("link file", rc);
		goto out;
	}
	printf("link file: %zu bytes, %llu bytes of %s\n", len,
	       (unsigned long long)parsed->size, parsed->mime);
	status = got == strlen(text) && memcmp(back, text, got) == 0 &&
				 parsed->size == strlen(text) &&
				 strcmp(parsed->mime, "text/plain") == 0
			 ? 0
			 : 1;
out:
	eris_link_free(parsed);
	eris_decoder_free(dec);
	eris_store_free(from_bundle); /* before the bundle it borrows */
	eris_bundle_free(bundle);
	eris_bundle_writer_free(writer);
	eris_store_free(mem);
	fclose(file);
	return status;
}
