/*
 * consumer.c - a program from outside the project, built by the install
 * test against the installed liberis (headers, library, pkg-config file,
 * CMake package). It round-trips a short text through a memory store and
 * checks that the headers and the library it runs with agree on the
 * version. Exits 0 on success.
 */
#include <eris/eris.h>
#include <eris/sys/store_backend.h>

#include <stdio.h>
#include <string.h>

int main(void)
{
	static const char text[] = "installed liberis works";
	char urn[ERIS_URN_BUFSIZE], buf[64];
	eris_store *store = NULL;
	eris_decoder *dec = NULL;
	eris_read_cap cap;
	size_t got = 0;
	int rc;

	if (strcmp(eris_version(), ERIS_VERSION) != 0) {
		fprintf(stderr, "consumer: headers %s, library %s\n",
			ERIS_VERSION, eris_version());
		return 1;
	}
	rc = eris_store_open(&store, "mem:", 0);
	if (rc == ERIS_OK)
		rc = eris_encode(&cap, store, NULL, text, strlen(text));
	if (rc == ERIS_OK)
		rc = eris_urn_format(urn, &cap);
	if (rc == ERIS_OK)
		rc = eris_decoder_new(&dec, store, &cap);
	if (rc == ERIS_OK)
		rc = eris_decoder_pread(dec, buf, sizeof(buf), 0, &got);
	if (rc == ERIS_OK &&
	    (got != strlen(text) || memcmp(buf, text, got) != 0)) {
		fprintf(stderr, "consumer: content differs\n");
		rc = ERIS_ERROR;
	} else if (rc != ERIS_OK) {
		fprintf(stderr, "consumer: %s: %s\n", eris_strerror(rc),
			eris_error_last());
	} else {
		printf("liberis %s: %s\n", eris_version(), urn);
	}
	eris_decoder_free(dec);
	eris_store_free(store);
	return rc == ERIS_OK ? 0 : 1;
}
