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
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#if defined(__linux__)
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#define TEST_HAVE_SECCOMP 1
#endif

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

/* ---- pins ---------------------------------------------------------- */

#define URN_A                                                                \
	"urn:eris:BIARKNADGVS4H33E5XAIFZWPKEQOQBK7YBGOYKCNUT33HSTCE656H5MOXNRH" \
	"MOYTF6KISEROOZJXRZYJNZULTY6FFBMOUOB35IE2FAAI7I"
#define URN_B                                                                \
	"urn:eris:BIAFFI4CLPPFB5XGXHBLB5TP65GFWAA5DPTYP4BVQK64YVWFAFXQEVUEVGLL" \
	"QJQF6ZYLVXKDZEW272WG4P4CQMG5O57WPQ2YUGFHBQOBYA"

typedef struct {
	int n;
	char names[8][300];
	char urns[8][200];
	uint64_t sizes[8];
	int64_t times[8];
} seen_pins;

static int see_pin(const eris_pin *pin, void *payload)
{
	seen_pins *s = payload;
	int i = s->n;

	ck_assert_int_lt(i, 8);
	snprintf(s->names[i], sizeof(s->names[i]), "%s", pin->name);
	snprintf(s->urns[i], sizeof(s->urns[i]), "%s", pin->urn);
	s->sizes[i] = pin->size;
	s->times[i] = pin->time;
	s->n++;
	return 0;
}

/* The pins of `s`, sorted by name (two at most in these tests). */
static seen_pins list_pins(eris_store *s)
{
	seen_pins p;

	memset(&p, 0, sizeof(p));
	ck_assert_eris(eris_store_pin_foreach(s, see_pin, &p), ERIS_OK);
	if (p.n == 2 && strcmp(p.names[0], p.names[1]) > 0) {
		seen_pins q = p;

		memcpy(p.names[0], q.names[1], sizeof(p.names[0]));
		memcpy(p.names[1], q.names[0], sizeof(p.names[0]));
		memcpy(p.urns[0], q.urns[1], sizeof(p.urns[0]));
		memcpy(p.urns[1], q.urns[0], sizeof(p.urns[0]));
		p.sizes[0] = q.sizes[1], p.sizes[1] = q.sizes[0];
		p.times[0] = q.times[1], p.times[1] = q.times[0];
	}
	return p;
}

static int stop_at_first(const eris_pin *pin, void *payload)
{
	(void)pin;
	(*(int *)payload)++;
	return 7;
}

/* mem, dir, and sqlite where its module is built. */
#ifdef ERIS_TEST_SQLITE
#define PIN_STORES 3
#else
#define PIN_STORES 2
#endif

static const char *pin_spec(int i, char *buf, size_t size)
{
	switch (i) {
	case 0:
		return "mem:";
	case 1:
		snprintf(buf, size, "dir:%s/pins-dir", tmpdir);
		return buf;
	default:
		snprintf(buf, size, "sqlite:%s/pins.db", tmpdir);
		return buf;
	}
}

/* add, replace, remove, list and the name rules, on mem, dir and sqlite;
 * dir and sqlite keep their pins across a reopen. */
START_TEST(test_pins)
{
	char spec[400], long_name[300];
	eris_pin pin = { "a", URN_A, 5000, 0 };
	eris_store *s;
	seen_pins p;
	int64_t before = (int64_t)time(NULL);
	int calls = 0;

	const char *sp = pin_spec(_i, spec, sizeof(spec));

	ck_assert_eris(eris_store_open(&s, sp, _i ? ERIS_STORE_CREATE : 0),
		       ERIS_OK);
	p = list_pins(s);
	ck_assert_int_eq(p.n, 0);
	ck_assert_eris(eris_store_pin_add(s, &pin, 0), ERIS_OK);
	p = list_pins(s);
	ck_assert_int_eq(p.n, 1);
	ck_assert_str_eq(p.names[0], "a");
	ck_assert_str_eq(p.urns[0], URN_A);
	ck_assert_uint_eq(p.sizes[0], 5000);
	ck_assert_int_ge(p.times[0], before);
	ck_assert_int_le(p.times[0], (int64_t)time(NULL));

	/* A taken name, even by the same URN; then replaced. */
	ck_assert_eris(eris_store_pin_add(s, &pin, 0), ERIS_EEXIST);
	ck_assert_str_eq(eris_error_last(), "pin 'a' exists");
	pin.urn = URN_B;
	pin.size = 40174;
	pin.time = 1234567890;
	ck_assert_eris(eris_store_pin_add(s, &pin, 0), ERIS_EEXIST);
	ck_assert_eris(eris_store_pin_add(s, &pin, ERIS_PIN_REPLACE), ERIS_OK);
	pin.name = "b c~2 \xc3\xa9";
	pin.urn = URN_A;
	pin.size = 0;
	ck_assert_eris(eris_store_pin_add(s, &pin, 0), ERIS_OK);
	p = list_pins(s);
	ck_assert_int_eq(p.n, 2);
	ck_assert_str_eq(p.names[0], "a");
	ck_assert_str_eq(p.urns[0], URN_B);
	ck_assert_uint_eq(p.sizes[0], 40174);
	ck_assert_int_eq(p.times[0], 1234567890);
	ck_assert_str_eq(p.names[1], "b c~2 \xc3\xa9");
	ck_assert_str_eq(p.urns[1], URN_A);
	ck_assert_uint_eq(p.sizes[1], 0);
	ck_assert_int_eq(eris_store_pin_foreach(s, stop_at_first, &calls), 7);
	ck_assert_int_eq(calls, 1);

	/* Names and URNs refused before the back end sees them. */
	memset(long_name, 'n', 256);
	long_name[256] = '\0';
	pin.urn = URN_A;
	pin.name = long_name;
	ck_assert_eris(eris_store_pin_add(s, &pin, 0), ERIS_EINVAL);
	ck_assert_str_eq(eris_error_last(),
			 "pin name of 256 bytes: 1 to 255 are allowed");
	long_name[255] = '\0';
	ck_assert_eris(eris_store_pin_add(s, &pin, 0), ERIS_OK);
	ck_assert_eris(eris_store_pin_remove(s, long_name), ERIS_OK);
	pin.name = "";
	ck_assert_eris(eris_store_pin_add(s, &pin, 0), ERIS_EINVAL);
	pin.name = "..";
	ck_assert_eris(eris_store_pin_add(s, &pin, 0), ERIS_EINVAL);
	ck_assert_str_eq(eris_error_last(), "pin name '..' is not allowed");
	pin.name = "x/y";
	ck_assert_eris(eris_store_pin_add(s, &pin, 0), ERIS_EINVAL);
	pin.name = "x\ny";
	ck_assert_eris(eris_store_pin_add(s, &pin, 0), ERIS_EINVAL);
	pin.name = NULL;
	ck_assert_eris(eris_store_pin_add(s, &pin, 0), ERIS_EINVAL);
	pin.name = "c";
	pin.urn = "urn:eris:NONSENSE";
	ck_assert_eris(eris_store_pin_add(s, &pin, 0), ERIS_EURN);
	pin.urn = URN_A;
	ck_assert_eris(eris_store_pin_add(s, &pin, 2), ERIS_EINVAL);
	ck_assert_eris(eris_store_pin_remove(s, "x/y"), ERIS_EINVAL);

	ck_assert_eris(eris_store_pin_remove(s, "a"), ERIS_OK);
	ck_assert_eris(eris_store_pin_remove(s, "a"), ERIS_ENOTFOUND);
	ck_assert_str_eq(eris_error_last(), "no pin named 'a'");
	eris_store_free(s);

	if (_i == 0)
		return; /* a mem store forgets */
	ck_assert_eris(eris_store_open(&s, spec, 0), ERIS_OK);
	p = list_pins(s);
	ck_assert_int_eq(p.n, 1);
	ck_assert_str_eq(p.names[0], "b c~2 \xc3\xa9");
	ck_assert_str_eq(p.urns[0], URN_A);
	ck_assert_int_eq(p.times[0], 1234567890);
	eris_store_free(s);
	/* Read-only: listed, not changed. */
	ck_assert_eris(eris_store_open(&s, spec, ERIS_STORE_READONLY), ERIS_OK);
	ck_assert_int_eq(list_pins(s).n, 1);
	pin.name = "d";
	ck_assert_eris(eris_store_pin_add(s, &pin, 0), ERIS_EREADONLY);
	ck_assert_eris(eris_store_pin_remove(s, "b c~2 \xc3\xa9"),
		       ERIS_EREADONLY);
	eris_store_free(s);
}
END_TEST

/* A directory store's pins are files PATH/pins/NAME of three lines; a
 * malformed one fails the listing (gc must not run on part of them). */
START_TEST(test_dir_pin_files)
{
	eris_pin pin = { "photos", URN_A, 42, 1700000000 };
	char spec[400], path[400], text[300];
	eris_store *s;
	FILE *f;
	size_t n;

	snprintf(spec, sizeof(spec), "dir:%s/pf", tmpdir);
	ck_assert_eris(eris_store_open(&s, spec, ERIS_STORE_CREATE), ERIS_OK);
	ck_assert_eris(eris_store_pin_add(s, &pin, 0), ERIS_OK);
	snprintf(path, sizeof(path), "%s/pf/pins/photos", tmpdir);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	ck_assert_str_eq(text, URN_A "\n42\n1700000000\n");
	/* No temporary file left behind. */
	snprintf(path, sizeof(path), "%s/pf/pins/bad", tmpdir);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(URN_A "\nforty-two\n1\n", f);
	fclose(f);
	ck_assert_eris(eris_store_pin_foreach(s, see_pin, &(seen_pins){ 0 }),
		       ERIS_ERROR);
	ck_assert_msg(strstr(eris_error_last(), "malformed pin file pins/bad") !=
			      NULL,
		      "%s", eris_error_last());
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(list_pins(s).n, 1);
	eris_store_free(s);
}
END_TEST

/* Stores without pins or a lock say so; version-1 and version-2 back
 * ends are accepted and never read past their struct. */
START_TEST(test_pins_notsup)
{
	eris_pin pin = { "a", URN_A, 1, 0 };
	eris_store *s;
	int calls = 0;

	for (unsigned v = 1; v <= 2; v++) {
		ck_assert_eris(eris_store_new_from_backend(&s, old_backend(v)),
			       ERIS_OK);
		ck_assert_eris(eris_store_pin_add(s, &pin, 0), ERIS_ENOTSUP);
		ck_assert_str_eq(eris_error_last(),
				 "this store cannot hold pins (only sqlite, "
				 "directory, mem, cache and fallback stores "
				 "can)");
		ck_assert_eris(eris_store_pin_remove(s, "a"), ERIS_ENOTSUP);
		ck_assert_eris(eris_store_pin_foreach(s, stop_at_first, &calls),
			       ERIS_ENOTSUP);
		ck_assert_eris(eris_store_lock(s, ERIS_LOCK_SHARED),
			       ERIS_ENOTSUP);
		ck_assert_str_eq(eris_error_last(), "this store has no gc lock");
		ck_assert_eris(eris_store_unlock(s), ERIS_OK);
		eris_store_free(s);
	}
	ck_assert_int_eq(calls, 0);
}
END_TEST

/* cache: pins live in LOCAL; fallback: added to S1, listed from every
 * member (each name once), removed from every member. */
START_TEST(test_pins_composite)
{
	eris_pin pin = { "p", URN_A, 1, 0 };
	char spec[1000], one[300], two[300];
	eris_store *s, *m;
	seen_pins p;

	snprintf(one, sizeof(one), "dir:%s/one", tmpdir);
	snprintf(two, sizeof(two), "dir:%s/two", tmpdir);
	snprintf(spec, sizeof(spec), "cache:%s,%s", one, two);
	ck_assert_eris(eris_store_open(&s, spec, ERIS_STORE_CREATE), ERIS_OK);
	ck_assert_eris(eris_store_pin_add(s, &pin, 0), ERIS_OK);
	ck_assert_eris(eris_store_lock(s, ERIS_LOCK_EXCLUSIVE), ERIS_OK);
	ck_assert_eris(eris_store_unlock(s), ERIS_OK);
	eris_store_free(s);
	ck_assert_eris(eris_store_open(&m, one, 0), ERIS_OK);
	ck_assert_int_eq(list_pins(m).n, 1);
	eris_store_free(m);
	ck_assert_eris(eris_store_open(&m, two, 0), ERIS_OK);
	ck_assert_int_eq(list_pins(m).n, 0);
	/* S2 pins "p" (another URN) and "q". */
	pin.urn = URN_B;
	ck_assert_eris(eris_store_pin_add(m, &pin, 0), ERIS_OK);
	pin.name = "q";
	ck_assert_eris(eris_store_pin_add(m, &pin, 0), ERIS_OK);
	eris_store_free(m);

	snprintf(spec, sizeof(spec), "fallback:%s,%s", one, two);
	ck_assert_eris(eris_store_open(&s, spec, 0), ERIS_OK);
	p = list_pins(s);
	ck_assert_int_eq(p.n, 2);
	ck_assert_str_eq(p.names[0], "p");
	ck_assert_str_eq(p.urns[0], URN_A); /* the first member's wins */
	ck_assert_str_eq(p.names[1], "q");
	ck_assert_eris(eris_store_pin_remove(s, "p"), ERIS_OK);
	ck_assert_eris(eris_store_pin_remove(s, "p"), ERIS_ENOTFOUND);
	pin.name = "r";
	ck_assert_eris(eris_store_pin_add(s, &pin, 0), ERIS_OK);
	eris_store_free(s);
	ck_assert_eris(eris_store_open(&m, one, 0), ERIS_OK);
	p = list_pins(m);
	ck_assert_int_eq(p.n, 1);
	ck_assert_str_eq(p.names[0], "r");
	eris_store_free(m);
}
END_TEST

/* The gc lock: one per handle; exclusive between two handles (flock on
 * the store's root directory, no file created), checked without
 * blocking through another descriptor of that directory. */
START_TEST(test_lock)
{
	char spec[400], path[400];
	eris_store *s, *t;
	int fd;

	snprintf(spec, sizeof(spec), "dir:%s/lk", tmpdir);
	ck_assert_eris(eris_store_open(&s, spec, ERIS_STORE_CREATE), ERIS_OK);
	ck_assert_eris(eris_store_lock(s, 3), ERIS_EINVAL);
	ck_assert_eris(eris_store_lock(s, ERIS_LOCK_SHARED), ERIS_OK);
	ck_assert_eris(eris_store_lock(s, ERIS_LOCK_SHARED), ERIS_EINVAL);
	ck_assert_str_eq(eris_error_last(),
			 "this store handle holds its lock already");
	/* Another shared holder is fine; an exclusive one would wait. */
	ck_assert_eris(eris_store_open(&t, spec, 0), ERIS_OK);
	ck_assert_eris(eris_store_lock(t, ERIS_LOCK_SHARED), ERIS_OK);
	snprintf(path, sizeof(path), "%s/lk", tmpdir);
	fd = open(path, O_RDONLY | O_DIRECTORY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(flock(fd, LOCK_EX | LOCK_NB), -1);
	ck_assert_int_eq(errno, EWOULDBLOCK);
	ck_assert_eris(eris_store_unlock(s), ERIS_OK);
	ck_assert_eris(eris_store_unlock(t), ERIS_OK);
	ck_assert_int_eq(flock(fd, LOCK_EX | LOCK_NB), 0);
	ck_assert_int_eq(flock(fd, LOCK_UN), 0);
	ck_assert_eris(eris_store_lock(t, ERIS_LOCK_EXCLUSIVE), ERIS_OK);
	ck_assert_int_eq(flock(fd, LOCK_SH | LOCK_NB), -1);
	eris_store_free(t); /* releases it */
	ck_assert_int_eq(flock(fd, LOCK_SH | LOCK_NB), 0);
	close(fd);
	eris_store_free(s);
}
END_TEST

/* eris_store_get_many: the result of eris_store_get() for each block,
 * 1 KiB and 32 KiB blocks mixed, hashed in batches. */
START_TEST(test_get_many)
{
	enum { N = 13 };
	static uint8_t blocks[N][32768], bufs[N][32768];
	uint8_t refs[N][32], *ptrs[N];
	size_t lens[N], sizes[N];
	int results[N];
	char name[ERIS_REF_BASE32_LEN + 1], path[512];
	eris_store *s;
	FILE *f;

	ck_assert_eris(eris_store_open(&s, tmpdir, 0), ERIS_OK);
	for (int i = 0; i < N; i++) {
		sizes[i] = i % 3 == 0 ? 1024 : 32768;
		make_block(blocks[i], sizes[i], refs[i], 100 + (uint64_t)i);
		ptrs[i] = bufs[i];
		if (i != 4) /* block 4 is missing */
			ck_assert_eris(eris_store_put(s, refs[i], blocks[i],
						      sizes[i]),
				       ERIS_OK);
	}
	/* Block 5 (32 KiB) and block 9 (1 KiB) tampered with, block 7
	 * truncated. */
	for (int i = 5; i <= 9; i += 2) {
		eris_base32_encode(name, refs[i], 32);
		snprintf(path, sizeof(path), "%s/%.2s/%s", tmpdir, name, name);
		chmod(path, 0644);
		if (i == 7) {
			ck_assert_int_eq(truncate(path, 1000), 0);
			continue;
		}
		f = fopen(path, "r+b");
		ck_assert_ptr_nonnull(f);
		fseek(f, 10, SEEK_SET);
		fputc(blocks[i][10] ^ 1, f);
		fclose(f);
	}
	ck_assert_eris(eris_store_get_many(s, N,
					   (const uint8_t(*)[32])refs, ptrs,
					   sizeof(bufs[0]), lens, results),
		       ERIS_OK);
	for (int i = 0; i < N; i++) {
		int want = i == 4   ? ERIS_ENOTFOUND
			   : i == 7 ? ERIS_EBLOCKSIZE
			   : i == 5 || i == 9 ? ERIS_EMISMATCH
					      : ERIS_OK;

		ck_assert_msg(results[i] == want, "block %d: %d, not %d", i,
			      results[i], want);
		if (want == ERIS_OK) {
			ck_assert_uint_eq(lens[i], sizes[i]);
			ck_assert_mem_eq(bufs[i], blocks[i], sizes[i]);
		}
	}
	/* A tampered block's bytes are not handed out. */
	ck_assert_int_ne(memcmp(bufs[5] + 11, blocks[5] + 11, 100), 0);
	/* More than 64 at once, or no store: EINVAL. */
	ck_assert_eris(eris_store_get_many(s, 65,
					   (const uint8_t(*)[32])refs, ptrs,
					   sizeof(bufs[0]), lens, results),
		       ERIS_EINVAL);
	ck_assert_eris(eris_store_get_many(NULL, 1,
					   (const uint8_t(*)[32])refs, ptrs,
					   sizeof(bufs[0]), lens, results),
		       ERIS_EINVAL);
	eris_store_free(s);
}
END_TEST

#if defined(__linux__) && defined(__has_include)
#if __has_include(<linux/openat2.h>)
#include <linux/openat2.h>
#include <sys/syscall.h>
#define TEST_HAVE_OPENAT2 1
#endif
#endif

/* Whether this kernel has openat2() with RESOLVE_CACHED (Linux 5.12), on
 * which the dir store's eris_store_try_get_many() rests. */
static int kernel_resolves_cached(void)
{
#ifdef TEST_HAVE_OPENAT2
	struct open_how how;
	int fd;

	memset(&how, 0, sizeof(how));
	how.flags = O_RDONLY | O_DIRECTORY;
	how.resolve = RESOLVE_CACHED;
	fd = (int)syscall(SYS_openat2, AT_FDCWD, tmpdir, &how, sizeof(how));
	if (fd >= 0) {
		close(fd);
		return 1;
	}
	return errno == EAGAIN; /* supported, just not cached */
#else
	return 0;
#endif
}

/*
 * Make io_uring_setup() fail with EPERM in this process from now on, as
 * container runtimes' seccomp profiles do: the dir store then reads the
 * files of eris_store_try_get_many() one by one instead of in a batch.
 * 0 if done (checked), -1 if this system cannot.
 */
static int refuse_io_uring(void)
{
#if defined(TEST_HAVE_SECCOMP) && defined(__NR_io_uring_setup)
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { sizeof(f) / sizeof(f[0]), f };
	unsigned char params[120] = { 0 }; /* struct io_uring_params */

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0)
		return -1;
	ck_assert_int_eq(syscall(__NR_io_uring_setup, 4, params), -1);
	ck_assert_int_eq(errno, EPERM);
	return 0;
#else
	return -1;
#endif
}

/* The path of block `ref`'s file in the dir store at tmpdir. */
static void block_path(char *path, size_t size, const uint8_t ref[32])
{
	char name[ERIS_REF_BASE32_LEN + 1];

	eris_base32_encode(name, ref, 32);
	snprintf(path, size, "%s/%.2s/%s", tmpdir, name, name);
}

/*
 * eris_store_try_get_many: what the store has at hand, verified like
 * eris_store_get(); ERIS_EAGAIN for everything it would have to wait
 * for or that get() must diagnose, and for every block of a store that
 * cannot tell (mem:). More blocks than the dir store reads in one
 * io_uring submission (16). Run 1 refuses io_uring first, so that the
 * dir store reads file by file: the same answers either way. (Each run
 * is a process of its own, as check forks for each test.)
 */
START_TEST(test_try_get_many)
{
	enum { N = 20 };
	static uint8_t blocks[N][32768], bufs[N][32768];
	uint8_t refs[N][32], *ptrs[N];
	size_t lens[N], sizes[N];
	int results[N], want[N], fd;
	char path[512], outside[512];
	eris_store *s, *m;
	FILE *f;

	if (_i == 1 && refuse_io_uring() < 0) {
		fprintf(stderr, "note: test_try_get_many run 1 skipped: "
				"cannot refuse io_uring here (no seccomp)\n");
		return;
	}
	ck_assert_eris(eris_store_open(&s, tmpdir, 0), ERIS_OK);
	ck_assert_eris(eris_store_new_mem(&m), ERIS_OK);
	for (int i = 0; i < N; i++) {
		sizes[i] = i % 3 == 0 ? 1024 : 32768;
		make_block(blocks[i], sizes[i], refs[i], 300 + (uint64_t)i);
		ptrs[i] = bufs[i];
		ck_assert_eris(eris_store_put(m, refs[i], blocks[i], sizes[i]),
			       ERIS_OK);
		if (i != 4) /* block 4 is missing */
			ck_assert_eris(eris_store_put(s, refs[i], blocks[i],
						      sizes[i]),
				       ERIS_OK);
		want[i] = ERIS_OK;
	}
	/* 5 (32 KiB) and 9 (1 KiB) tampered with: read, then refused. */
	for (int i = 5; i <= 9; i += 4) {
		block_path(path, sizeof(path), refs[i]);
		chmod(path, 0644);
		f = fopen(path, "r+b");
		ck_assert_ptr_nonnull(f);
		fseek(f, 10, SEEK_SET);
		fputc(blocks[i][10] ^ 1, f);
		fclose(f);
		want[i] = ERIS_EMISMATCH;
	}
	/* 7 truncated, 8 one byte too long: for get() to name. */
	block_path(path, sizeof(path), refs[7]);
	chmod(path, 0644);
	ck_assert_int_eq(truncate(path, 1000), 0);
	want[7] = ERIS_EAGAIN;
	block_path(path, sizeof(path), refs[8]);
	chmod(path, 0644);
	ck_assert_int_eq(truncate(path, 32769), 0);
	want[8] = ERIS_EAGAIN;
	/* 10 a link to a good copy, 11 a FIFO: never followed, never
	 * waited on. */
	snprintf(outside, sizeof(outside), "%s/outside", tmpdir);
	f = fopen(outside, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(blocks[10], 1, sizes[10], f), sizes[10]);
	fclose(f);
	block_path(path, sizeof(path), refs[10]);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(symlink(outside, path), 0);
	want[10] = ERIS_EAGAIN;
	block_path(path, sizeof(path), refs[11]);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(mkfifo(path, 0644), 0);
	want[11] = ERIS_EAGAIN;
	/* The missing block once looked up (get_many below): its absence
	 * is at hand too. */
	want[4] = ERIS_ENOTFOUND;

	/* Every name and byte looked up once: in the kernel's caches. */
	ck_assert_eris(eris_store_get_many(s, N,
					   (const uint8_t(*)[32])refs, ptrs,
					   sizeof(bufs[0]), lens, results),
		       ERIS_OK);
	memset(bufs, 0, sizeof(bufs));
	ck_assert_eris(eris_store_try_get_many(s, N,
					       (const uint8_t(*)[32])refs,
					       ptrs, sizeof(bufs[0]), lens,
					       results),
		       ERIS_OK);
	for (int i = 0; i < N; i++) {
		int w = kernel_resolves_cached() ? want[i] : ERIS_EAGAIN;

		ck_assert_msg(results[i] == w, "block %d: %d, not %d", i,
			      results[i], w);
		if (w == ERIS_OK) {
			ck_assert_uint_eq(lens[i], sizes[i]);
			ck_assert_mem_eq(bufs[i], blocks[i], sizes[i]);
		}
	}
	/* A tampered block's bytes are not handed out. */
	ck_assert_int_ne(memcmp(bufs[5] + 11, blocks[5] + 11, 100), 0);

	/* Block 1's pages dropped from the page cache (clean, so they can
	 * be): not at hand, while get() still reads it. */
	block_path(path, sizeof(path), refs[1]);
	fd = open(path, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fsync(fd), 0);
	ck_assert_int_eq(posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED), 0);
	close(fd);
	ck_assert_eris(eris_store_try_get_many(s, 1,
					       (const uint8_t(*)[32])refs[1],
					       ptrs, sizeof(bufs[0]), lens,
					       results),
		       ERIS_OK);
	ck_assert_int_eq(results[0], ERIS_EAGAIN);
	ck_assert_eris(eris_store_get(s, refs[1], bufs[0], sizeof(bufs[0]),
				      &lens[0]),
		       ERIS_OK);
	ck_assert_mem_eq(bufs[0], blocks[1], sizes[1]);

	/* mem: cannot tell, so nothing is at hand; EINVAL as get_many. */
	ck_assert_eris(eris_store_try_get_many(m, N,
					       (const uint8_t(*)[32])refs,
					       ptrs, sizeof(bufs[0]), lens,
					       results),
		       ERIS_OK);
	for (int i = 0; i < N; i++)
		ck_assert_int_eq(results[i], ERIS_EAGAIN);
	/* cache: what its local dir: store has at hand; a block only the
	 * remote has (0 is in mem: but not, now, in the dir store) means a
	 * wait. */
	{
		char spec[600];
		eris_store *c;

		block_path(path, sizeof(path), refs[0]);
		ck_assert_int_eq(unlink(path), 0);
		ck_assert_eris(eris_store_get(s, refs[0], bufs[0],
					      sizeof(bufs[0]), &lens[0]),
			       ERIS_ENOTFOUND);
		snprintf(spec, sizeof(spec), "cache:dir:%s,mem:", tmpdir);
		ck_assert_eris(eris_store_open(&c, spec, 0), ERIS_OK);
		ck_assert_eris(eris_store_try_get_many(
				       c, 3, (const uint8_t(*)[32])refs, ptrs,
				       sizeof(bufs[0]), lens, results),
			       ERIS_OK);
		ck_assert_int_eq(results[0], ERIS_EAGAIN);
		for (int i = 1; i <= 2; i++) {
			if (!kernel_resolves_cached()) {
				ck_assert_int_eq(results[i], ERIS_EAGAIN);
				continue;
			}
			ck_assert_int_eq(results[i], ERIS_OK);
			ck_assert_mem_eq(bufs[i], blocks[i], sizes[i]);
		}
		eris_store_free(c);
	}
	ck_assert_eris(eris_store_try_get_many(s, 65,
					       (const uint8_t(*)[32])refs,
					       ptrs, sizeof(bufs[0]), lens,
					       results),
		       ERIS_EINVAL);
	ck_assert_eris(eris_store_try_get_many(NULL, 1,
					       (const uint8_t(*)[32])refs,
					       ptrs, sizeof(bufs[0]), lens,
					       results),
		       ERIS_EINVAL);
	eris_store_free(m);
	eris_store_free(s);
}
END_TEST

/*
 * A child process using its parent's dir store after fork(): the rings
 * the parent made for batched reads are shared with it, so the child
 * reads file by file, and both still get every block right.
 */
START_TEST(test_try_get_many_fork)
{
	static uint8_t block[32768], buf[32768];
	uint8_t ref[32], *ptr = buf;
	size_t len;
	int result, status;
	eris_store *s;
	pid_t pid;

	if (!kernel_resolves_cached())
		return; /* nothing is ever at hand: test_try_get_many says so */
	ck_assert_eris(eris_store_open(&s, tmpdir, 0), ERIS_OK);
	make_block(block, sizeof(block), ref, 77);
	ck_assert_eris(eris_store_put(s, ref, block, sizeof(block)), ERIS_OK);
	ck_assert_eris(eris_store_get(s, ref, buf, sizeof(buf), &len),
		       ERIS_OK);
	for (int round = 0; round < 2; round++) {
		memset(buf, 0, sizeof(buf));
		ck_assert_eris(eris_store_try_get_many(
				       s, 1, (const uint8_t(*)[32])ref, &ptr,
				       sizeof(buf), &len, &result),
			       ERIS_OK);
		ck_assert_int_eq(result, ERIS_OK);
		ck_assert_mem_eq(buf, block, sizeof(block));
		if (round == 1)
			break;
		pid = fork();
		ck_assert_int_ge(pid, 0);
		if (pid == 0) {
			memset(buf, 0, sizeof(buf));
			if (eris_store_try_get_many(
				    s, 1, (const uint8_t(*)[32])ref, &ptr,
				    sizeof(buf), &len, &result) != ERIS_OK ||
			    result != ERIS_OK ||
			    memcmp(buf, block, sizeof(block)) != 0)
				_exit(1);
			_exit(0);
		}
		ck_assert_int_eq(waitpid(pid, &status, 0), pid);
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
			      "the child did not read the block right");
	}
	eris_store_free(s);
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
	tcase_add_test(tc, test_get_many);
	tcase_add_loop_test(tc, test_try_get_many, 0, 2);
	tcase_add_test(tc, test_try_get_many_fork);
	tcase_add_test(tc, test_specs);
	tcase_add_test(tc, test_open_flags);
	tcase_add_test(tc, test_compact_api);
	tcase_add_loop_test(tc, test_pins, 0, PIN_STORES);
	tcase_add_test(tc, test_dir_pin_files);
	tcase_add_test(tc, test_pins_notsup);
	tcase_add_test(tc, test_pins_composite);
	tcase_add_test(tc, test_lock);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
