/*
 * init.c - library initialisation, version and small utilities.
 */
#include "internal.h"

#include <sodium.h>
#include <stdlib.h>

int eris_init(void)
{
	/* sodium_init is thread-safe and idempotent; it returns 1 when it
	 * had already run. */
	if (sodium_init() < 0)
		return eris_error_set(ERIS_ERROR, "libsodium failed to start");
	return ERIS_OK;
}

const char *eris_version(void)
{
	return ERIS_VERSION;
}

size_t eris_block_size_for_length(uint64_t length)
{
	return length < 16384 ? ERIS_BLOCK_SIZE_1K : ERIS_BLOCK_SIZE_32K;
}

void eris_secret_random(uint8_t out[ERIS_SECRET_BYTES])
{
	eris_init();
	randombytes_buf(out, ERIS_SECRET_BYTES);
}

void eris_memzero(void *p, size_t len)
{
	sodium_memzero(p, len);
}

void *eris__malloc(size_t size)
{
	return malloc(size);
}

void *eris__calloc(size_t n, size_t size)
{
	return calloc(n, size);
}

void *eris__realloc(void *p, size_t size)
{
	return realloc(p, size);
}

void eris__free(void *p)
{
	free(p);
}

/* TEMPORARY until eris_configure lands. */
const char *eris__config_module_path(void)
{
	return NULL;
}
