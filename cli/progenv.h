/*
 * progenv.h - the environment variables that tune liberis for a whole
 * process, read by each program at start and passed to eris_configure()
 * (liberis reads no environment variables itself):
 *
 *   ERIS_BLAKE2B      portable | avx2 | avx512: at most that BLAKE2b path
 *   ERIS_CHACHA20     libsodium: libsodium's ChaCha20, not the AVX-512 one
 *   ERIS_MODULE_PATH  directories (':'-separated) of store back-end modules
 *
 * and those that reach a store when it is opened:
 *
 *   ERIS_HTTP_TOKEN   bearer token for http:// and https:// stores
 *   AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY
 *                     the credentials of s3:// stores
 *   AWS_REGION (else AWS_DEFAULT_REGION), AWS_ENDPOINT_URL
 *                     their region and endpoint (an "endpoint=" or
 *                     "region=" in the store specification wins)
 *
 * Empty counts as unset. Header only, so that it calls whichever liberis
 * the program links (the shared library, or the static one in the tests
 * that reach the internal crypto): a static library of its own would
 * drag in the shared one beside it.
 */
#ifndef ERIS_CLI_PROGENV_H
#define ERIS_CLI_PROGENV_H

#include <eris/eris.h>

#include <stdio.h>
#include <stdlib.h>

/* Read the variables and configure liberis. On failure (an unknown value)
 * prints "PROG: MESSAGE" to stderr and returns ERIS_EINVAL; a program
 * treats that as a usage error. */
static inline int progenv_configure(const char *prog)
{
	eris_config cfg = ERIS_CONFIG_INIT;
	int rc;

	cfg.blake2b = getenv("ERIS_BLAKE2B");
	cfg.chacha20 = getenv("ERIS_CHACHA20");
	cfg.module_path = getenv("ERIS_MODULE_PATH");
	rc = eris_configure(&cfg);
	if (rc != ERIS_OK)
		fprintf(stderr, "%s: environment: %s\n", prog,
			eris_error_last());
	return rc;
}

/* $NAME, or NULL when it is unset or empty. */
static inline const char *progenv_get(const char *name)
{
	const char *v = getenv(name);

	return v && v[0] ? v : NULL;
}

/* Options to open a store with `flags` (ERIS_STORE_*), carrying
 * $ERIS_HTTP_TOKEN as the bearer token of http(s):// stores and the AWS
 * variables to s3:// stores. The strings stay in the environment; the
 * store copies them when it is opened. */
static inline eris_store_options progenv_store_options(unsigned flags)
{
	eris_store_options opts = ERIS_STORE_OPTIONS_INIT;

	opts.flags = flags;
	opts.bearer_token = progenv_get("ERIS_HTTP_TOKEN");
	opts.s3_access_key = progenv_get("AWS_ACCESS_KEY_ID");
	opts.s3_secret_key = progenv_get("AWS_SECRET_ACCESS_KEY");
	opts.s3_region = progenv_get("AWS_REGION");
	if (opts.s3_region == NULL)
		opts.s3_region = progenv_get("AWS_DEFAULT_REGION");
	opts.s3_endpoint = progenv_get("AWS_ENDPOINT_URL");
	return opts;
}

#endif
