/*
 * blocks.c - list the blocks of content, for the eris-fuse tests: one
 * line "LEVEL REF" per block in tree order (0 = leaf; REF in the base32
 * a directory store names its block files by).
 *
 * Usage: fuse_test_blocks STORE URN
 */
#include <eris/eris.h>

#include <stdio.h>
#include <string.h>

static int print_block(const uint8_t ref[ERIS_REF_BYTES], unsigned level,
		       void *payload)
{
	char name[ERIS_REF_BASE32_LEN + 1];

	(void)payload;
	eris_base32_encode(name, ref, ERIS_REF_BYTES);
	printf("%u %s\n", level, name);
	return 0;
}

int main(int argc, char **argv)
{
	eris_store *store;
	eris_read_cap cap;
	int rc;

	if (argc != 3) {
		fprintf(stderr, "usage: fuse_test_blocks STORE URN\n");
		return 2;
	}
	if (eris_urn_parse(&cap, argv[2], strlen(argv[2])) != ERIS_OK ||
	    eris_store_open(&store, argv[1], 0) != ERIS_OK) {
		fprintf(stderr, "fuse_test_blocks: %s\n", eris_error_last());
		return 1;
	}
	rc = eris_walk(store, &cap, print_block, NULL);
	if (rc != ERIS_OK)
		fprintf(stderr, "fuse_test_blocks: %s\n", eris_error_last());
	eris_store_free(store);
	return rc == ERIS_OK ? 0 : 1;
}
