/*
 * store.c - the same conformance cases against every store (mem, dir),
 * plus the directory store's on-disk contract and store specifications.
 */
#include "testutil.h"

#include <sodium.h>
#include <dirent.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmpdir[256];

static void make_tmpdir(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/eris-store-test-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void remove_tmpdir(void)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	ck_assert_int_eq(system(cmd), 0);
}

/* A valid block of `len` bytes and its reference. */
static void make_block(uint8_t *block, size_t len, uint8_t ref[32],
		       uint64_t seed)
{
	fill_random(block, len, seed, 0);
	crypto_generichash_blake2b(ref, 32, block, len, NULL, 0);
}

static const char *spec_of(int i)
{
	static char spec[300];

	if (i == 0)
		return "mem:";
	snprintf(spec, sizeof(spec), "dir:%s/blocks", tmpdir);
	return spec;
}

static void setup(void)
{
	make_tmpdir();
}

static void teardown(void)
{
	remove_tmpdir();
}

/* Conformance: every store, same cases, same expectations. */
START_TEST(test_conformance)
{
	static uint8_t block[32768], got[32768], ref[32], other[32];
	eris_store *s;
	size_t len;

	ck_assert_eris(eris_store_open(&s, spec_of(_i), 1), ERIS_OK);
	for (int k = 0; k < 2; k++) {
		size_t bs = k ? 32768 : 1024;

		make_block(block, bs, ref, (uint64_t)k + 1);
		ck_assert_int_eq(eris_store_has(s, ref), 0);
		ck_assert_eris(eris_store_get(s, ref, got, sizeof(got), &len),
			       ERIS_ENOTFOUND);
		ck_assert_eris(eris_store_put(s, ref, block, bs), ERIS_OK);
		ck_assert_int_eq(eris_store_has(s, ref), 1);
		ck_assert_eris(eris_store_get(s, ref, got, sizeof(got), &len),
			       ERIS_OK);
		ck_assert_uint_eq(len, bs);
		ck_assert_mem_eq(got, block, bs);
		/* idempotent */
		ck_assert_eris(eris_store_put(s, ref, block, bs), ERIS_OK);
		/* a block that does not fit the caller's buffer */
		ck_assert_eris(eris_store_get(s, ref, got, bs - 1, &len),
			       ERIS_EBLOCKSIZE);
	}
	/* wrong reference: refused, nothing stored */
	make_block(block, 1024, ref, 7);
	memcpy(other, ref, 32);
	other[0] ^= 1;
	ck_assert_eris(eris_store_put(s, other, block, 1024), ERIS_EMISMATCH);
	ck_assert_int_eq(eris_store_has(s, other), 0);
	/* invalid sizes: refused */
	ck_assert_eris(eris_store_put(s, ref, block, 1000), ERIS_EBLOCKSIZE);
	ck_assert_eris(eris_store_put(s, ref, block, 0), ERIS_EBLOCKSIZE);
	ck_assert_int_eq(eris_store_has(s, ref), 0);
	ck_assert_eris(eris_store_flush(s), ERIS_OK);
	eris_store_free(s);

	/* a dir store keeps its blocks across opens */
	if (_i == 1) {
		make_block(block, 1024, ref, 1);
		ck_assert_eris(eris_store_open(&s, spec_of(_i), 0), ERIS_OK);
		ck_assert_eris(eris_store_get(s, ref, got, sizeof(got), &len),
			       ERIS_OK);
		ck_assert_mem_eq(got, block, 1024);
		eris_store_free(s);
	}
}
END_TEST

/* Encode and decode through every store. */
START_TEST(test_codec_through_store)
{
	size_t n = 300000;
	uint8_t *content = malloc(n), *back = malloc(n);
	eris_encode_options opts = ERIS_ENCODE_OPTIONS_INIT;
	eris_decoder *dec;
	eris_read_cap cap;
	eris_store *s;
	size_t got;

	fill_random(content, n, 42, 0);
	ck_assert_eris(eris_store_open(&s, spec_of(_i), 1), ERIS_OK);
	for (int k = 0; k < 2; k++) {
		opts.block_size = k ? 32768 : 1024;
		ck_assert_eris(eris_encode(&cap, s, &opts, content, n), ERIS_OK);
		ck_assert_eris(eris_decoder_new(&dec, s, &cap), ERIS_OK);
		ck_assert_eris(eris_decoder_pread(dec, back, n, 0, &got),
			       ERIS_OK);
		ck_assert_uint_eq(got, n);
		ck_assert_mem_eq(back, content, n);
		eris_decoder_free(dec);
	}
	eris_store_free(s);
	free(content);
	free(back);
}
END_TEST

/* The directory layout other tools rely on: DIR/XX/REF holding exactly
 * the block; no temporary files left; existing blocks not rewritten. */
START_TEST(test_dir_layout)
{
	static uint8_t block[1024], ref[32];
	char name[ERIS_REF_BASE32_LEN + 1], path[512], tampered[512];
	struct stat st1, st2;
	eris_store *s;
	FILE *f;
	uint8_t disk[2048];
	DIR *d;
	struct dirent *e;
	int entries = 0;
	size_t len;

	make_block(block, sizeof(block), ref, 3);
	eris_base32_encode(name, ref, 32);
	snprintf(path, sizeof(path), "%s/%.2s/%s", tmpdir, name, name);
	ck_assert_eris(eris_store_open(&s, tmpdir, 0), ERIS_OK); /* bare path */
	ck_assert_eris(eris_store_put(s, ref, block, sizeof(block)), ERIS_OK);
	f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "block file %s missing", path);
	ck_assert_uint_eq(fread(disk, 1, sizeof(disk), f), sizeof(block));
	fclose(f);
	ck_assert_mem_eq(disk, block, sizeof(block));

	snprintf(tampered, sizeof(tampered), "%s/%.2s", tmpdir, name);
	d = opendir(tampered);
	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.' || strlen(e->d_name) > 2)
			entries += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(d);
	ck_assert_int_eq(entries, 1); /* the block, no temporary file */

	ck_assert_int_eq(stat(path, &st1), 0);
	ck_assert_eris(eris_store_put(s, ref, block, sizeof(block)), ERIS_OK);
	ck_assert_int_eq(stat(path, &st2), 0);
	ck_assert_uint_eq(st1.st_ino, st2.st_ino);
	ck_assert_int_eq(st1.st_mtim.tv_nsec, st2.st_mtim.tv_nsec);

	/* a tampered file is refused on get */
	chmod(path, 0644);
	f = fopen(path, "r+b");
	ck_assert_ptr_nonnull(f);
	fseek(f, 100, SEEK_SET);
	fputc(disk[100] ^ 0x20, f);
	fclose(f);
	ck_assert_eris(eris_store_get(s, ref, disk, sizeof(disk), &len),
		       ERIS_EMISMATCH);
	/* a truncated file too */
	ck_assert_int_eq(truncate(path, 1000), 0);
	ck_assert_eris(eris_store_get(s, ref, disk, sizeof(disk), &len),
		       ERIS_EBLOCKSIZE);
	eris_store_free(s);
}
END_TEST

START_TEST(test_specs)
{
	char spec[600], path[512];
	eris_store *s;

	ck_assert_eris(eris_store_open(&s, "nosuch:/x", 1), ERIS_ESTORE);
	ck_assert_ptr_nonnull(strstr(eris_error_last(), "nosuch"));
	ck_assert_eris(eris_store_open(&s, "", 1), ERIS_ESTORE);
	ck_assert_eris(eris_store_open(&s, "dir:", 1), ERIS_ESTORE);
	ck_assert_eris(eris_store_open(&s, "mem:x", 1), ERIS_ESTORE);
	snprintf(path, sizeof(path), "%s/missing", tmpdir);
	ck_assert_eris(eris_store_open(&s, path, 0), ERIS_ESTORE);
	ck_assert_ptr_nonnull(strstr(eris_error_last(), "missing"));
	ck_assert_eris(eris_store_open(&s, path, 1), ERIS_OK);
	eris_store_free(s);
	eris_store_free(NULL); /* allowed */

	/* composites: member count limits */
	strcpy(spec, "fallback:mem:");
	for (int i = 1; i < 16; i++)
		strcat(spec, ",mem:");
	ck_assert_eris(eris_store_open(&s, spec, 1), ERIS_OK); /* 16 */
	eris_store_free(s);
	strcat(spec, ",mem:");
	ck_assert_eris(eris_store_open(&s, spec, 1), ERIS_ESTORE); /* 17 */
	ck_assert_ptr_nonnull(strstr(eris_error_last(), "at most 16"));
	ck_assert_eris(eris_store_open(&s, "cache:mem:", 1), ERIS_ESTORE);
	ck_assert_eris(eris_store_open(&s, "cache:mem:,mem:,mem:", 1),
		       ERIS_ESTORE);
}
END_TEST

/* Opening flags and options: a read-only store refuses put and remove
 * and keeps what it holds; bad flags and versions are refused. */
START_TEST(test_open_flags)
{
	eris_store_options opts = ERIS_STORE_OPTIONS_INIT;
	uint8_t block[ERIS_BLOCK_SIZE_1K], buf[ERIS_BLOCK_SIZE_1K], ref[32];
	uint8_t other_ref[32];
	char spec[400];
	size_t len;
	eris_store *s;

	snprintf(spec, sizeof(spec), "dir:%s/ro", tmpdir);
	make_block(block, sizeof(block), ref, 7);
	ck_assert_eris(eris_block_verify(ref, block, sizeof(block)), ERIS_OK);
	ck_assert_eris(eris_block_verify(ref, block, 1000), ERIS_EBLOCKSIZE);
	ck_assert_eris(eris_store_open(&s, spec, ERIS_STORE_CREATE), ERIS_OK);
	ck_assert_eris(eris_store_put(s, ref, block, sizeof(block)), ERIS_OK);
	eris_store_free(s);

	ck_assert_eris(eris_store_open(&s, spec, ERIS_STORE_READONLY), ERIS_OK);
	ck_assert_eris(eris_store_get(s, ref, buf, sizeof(buf), &len), ERIS_OK);
	ck_assert_eris(eris_store_remove(s, ref), ERIS_EREADONLY);
	make_block(block, sizeof(block), other_ref, 8);
	ck_assert_eris(eris_block_verify(ref, block, sizeof(block)),
		       ERIS_EMISMATCH);
	ck_assert_eris(eris_store_put(s, other_ref, block, sizeof(block)),
		       ERIS_EREADONLY);
	ck_assert_int_eq(eris_store_has(s, other_ref), 0);
	ck_assert_int_eq(eris_store_has(s, ref), 1);
	eris_store_free(s);

	/* A composite opened read-only passes the flag to its members. */
	snprintf(spec, sizeof(spec), "fallback:dir:%s/ro", tmpdir);
	ck_assert_eris(eris_store_open(&s, spec, ERIS_STORE_READONLY), ERIS_OK);
	ck_assert_eris(eris_store_put(s, other_ref, block, sizeof(block)),
		       ERIS_EREADONLY);
	eris_store_free(s);

	ck_assert_eris(eris_store_open(&s, "mem:",
				       ERIS_STORE_CREATE | ERIS_STORE_READONLY),
		       ERIS_EINVAL);
	ck_assert_eris(eris_store_open(&s, "mem:", 4), ERIS_EINVAL);
	opts.version = ERIS_STORE_OPTIONS_VERSION + 1;
	ck_assert_eris(eris_store_open_opts(&s, "mem:", &opts), ERIS_EINVAL);
	ck_assert_eris(eris_store_open_opts(&s, "mem:", NULL), ERIS_OK);
	eris_store_free(s);
}
END_TEST

/* A back end built against an older version of the interface: every
 * member after those of its version holds 0xff bytes, wild pointers if
 * the library read them. */
static int v1_get(eris_store_backend *b, const uint8_t *ref, uint8_t *buf,
		  size_t size, size_t *len)
{
	(void)b, (void)ref, (void)buf, (void)size, (void)len;
	return ERIS_ENOTFOUND;
}

static int v1_put(eris_store_backend *b, const uint8_t *ref,
		  const uint8_t *block, size_t len)
{
	(void)b, (void)ref, (void)block, (void)len;
	return ERIS_OK;
}

static void v1_free(eris_store_backend *b)
{
	free(b);
}

static eris_store_backend *old_backend(unsigned version)
{
	eris_store_backend *b = malloc(sizeof(*b));
	size_t end = version == 1 ? offsetof(eris_store_backend, compact)
				  : offsetof(eris_store_backend, pin_add);

	ck_assert_ptr_nonnull(b);
	memset(b, 0, end);
	memset((char *)b + end, 0xff, sizeof(*b) - end);
	b->version = version;
	b->get = v1_get;
	b->put = v1_put;
	b->free = v1_free;
	return b;
}

/* eris_store_compact() and eris_store_space(): a directory store has
 * nothing to compact, a memory store cannot, bad flags are refused, and
 * a version-1 back end is still accepted and never asked for members it
 * does not have. */
START_TEST(test_compact_api)
{
	eris_store_space_info sp;
	eris_store_backend *b;
	eris_store *s;
	char spec[400];

	snprintf(spec, sizeof(spec), "dir:%s/c", tmpdir);
	ck_assert_eris(eris_store_open(&s, spec, ERIS_STORE_CREATE), ERIS_OK);
	ck_assert_eris(eris_store_compact(s, 0, NULL, NULL), ERIS_OK);
	ck_assert_eris(eris_store_compact(s, ERIS_COMPACT_FULL, NULL, NULL),
		       ERIS_OK);
	ck_assert_eris(eris_store_compact(s, 2, NULL, NULL), ERIS_EINVAL);
	ck_assert_eris(eris_store_space(s, &sp), ERIS_ENOTSUP);
	eris_store_free(s);
	ck_assert_eris(eris_store_open(&s, spec, ERIS_STORE_READONLY), ERIS_OK);
	ck_assert_eris(eris_store_compact(s, 0, NULL, NULL), ERIS_EREADONLY);
	eris_store_free(s);

	ck_assert_eris(eris_store_open(&s, "mem:", 0), ERIS_OK);
	ck_assert_eris(eris_store_compact(s, 0, NULL, NULL), ERIS_ENOTSUP);
	ck_assert_str_eq(eris_error_last(), "this store cannot be compacted");
	ck_assert_eris(eris_store_space(s, &sp), ERIS_ENOTSUP);
	ck_assert_eris(eris_store_space(s, NULL), ERIS_EINVAL);
	eris_store_free(s);

	ck_assert_eris(eris_store_new_from_backend(&s, old_backend(1)),
		       ERIS_OK);
	ck_assert_eris(eris_store_compact(s, 0, NULL, NULL), ERIS_ENOTSUP);
	ck_assert_eris(eris_store_space(s, &sp), ERIS_ENOTSUP);
	eris_store_free(s);

	b = calloc(1, sizeof(*b));
	ck_assert_ptr_nonnull(b);
	b->version = ERIS_STORE_BACKEND_VERSION + 1;
	b->get = v1_get;
	b->put = v1_put;
	b->free = v1_free;
	ck_assert_eris(eris_store_new_from_backend(&s, b), ERIS_EINVAL);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("store");
	TCase *tc = tcase_create("store");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_conformance, 0, 2);
	tcase_add_loop_test(tc, test_codec_through_store, 0, 2);
	tcase_add_test(tc, test_dir_layout);
	tcase_add_test(tc, test_specs);
	tcase_add_test(tc, test_open_flags);
	tcase_add_test(tc, test_compact_api);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
