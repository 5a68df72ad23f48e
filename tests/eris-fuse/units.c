/*
 * units.c - eris-fuse's parts without a mount: inode numbers, the inode
 * table, the decoder pool and its memory bound, manifest names.
 */
#include <check.h>
#include <eris/eris.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "names.h"
#include "nodes.h"
#include "pool.h"

/* Published FNV-1a 64-bit test values. */
START_TEST(fnv1a_vectors)
{
	ck_assert_uint_eq(efuse_hash_ino("", 0), 0xcbf29ce484222325u);
	ck_assert_uint_eq(efuse_hash_ino("a", 1), 0xaf63dc4c8601ec8cu);
	ck_assert_uint_eq(efuse_hash_ino("foobar", 6), 0x85944171f73967e8u);
}
END_TEST

/* Content of `len` bytes of `fill` in `store`; its capability. */
static eris_read_cap put(eris_store *store, size_t len, int fill)
{
	eris_encode_options opts = ERIS_ENCODE_OPTIONS_INIT;
	uint8_t *data = malloc(len ? len : 1);
	eris_read_cap cap;

	ck_assert_ptr_nonnull(data);
	memset(data, fill, len);
	opts.block_size = ERIS_BLOCK_SIZE_1K;
	ck_assert_int_eq(eris_encode(&cap, store, &opts, data, len), ERIS_OK);
	free(data);
	return cap;
}

START_TEST(cap_inodes)
{
	eris_store *store;
	eris_read_cap a, b;
	uint8_t bytes[ERIS_READ_CAP_BYTES];

	ck_assert_int_eq(eris_store_new_mem(&store), ERIS_OK);
	a = put(store, 5000, 'a');
	b = put(store, 5000, 'b');
	ck_assert_int_eq(eris_read_cap_to_bytes(bytes, &a), ERIS_OK);
	ck_assert_uint_eq(efuse_cap_ino(&a), efuse_hash_ino(bytes, sizeof(bytes)));
	ck_assert_uint_ne(efuse_cap_ino(&a), efuse_cap_ino(&b));
	ck_assert_uint_gt(efuse_cap_ino(&a), 1);
	eris_store_free(store);
}
END_TEST

START_TEST(node_lookups)
{
	efuse_nodes *nodes;
	efuse_node_info a, b, got;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	a.cap.block_size = b.cap.block_size = ERIS_BLOCK_SIZE_1K;
	b.cap.root_ref[0] = 1;
	a.size = 42;
	ck_assert_int_eq(efuse_nodes_new(&nodes), 0);
	ck_assert_int_eq(efuse_nodes_get(nodes, 7, &got), -1);
	ck_assert_int_eq(efuse_nodes_ref(nodes, 7, &a), 0);
	ck_assert_int_eq(efuse_nodes_ref(nodes, 7, &a), 0);
	ck_assert_int_eq(efuse_nodes_get(nodes, 7, &got), 0);
	ck_assert_uint_eq(got.size, 42);
	/* Another capability with the same number: refused. */
	ck_assert_int_eq(efuse_nodes_ref(nodes, 7, &b), EEXIST);
	/* Two lookups: gone after the second is forgotten. */
	ck_assert_int_eq(efuse_nodes_forget(nodes, 7, 1), 0);
	ck_assert_int_eq(efuse_nodes_get(nodes, 7, &got), 0);
	ck_assert_int_eq(efuse_nodes_forget(nodes, 7, 1), 1);
	ck_assert_int_eq(efuse_nodes_get(nodes, 7, &got), -1);
	ck_assert_int_eq(efuse_nodes_forget(nodes, 7, 1), 0);
	efuse_nodes_free(nodes);
}
END_TEST

typedef struct refs {
	uint8_t ref[256][ERIS_REF_BYTES];
	size_t n;
} refs;

static int collect(const uint8_t ref[ERIS_REF_BYTES], unsigned level,
		   void *payload)
{
	refs *r = payload;

	(void)level;
	ck_assert_uint_lt(r->n, 256);
	memcpy(r->ref[r->n++], ref, ERIS_REF_BYTES);
	return 0;
}

/* Remove every block of `cap` from `store`. */
static void remove_content(eris_store *store, const eris_read_cap *cap)
{
	static refs r;

	r.n = 0;
	ck_assert_int_eq(eris_walk(store, cap, collect, &r), ERIS_OK);
	for (size_t i = 0; i < r.n; i++)
		ck_assert_int_eq(eris_store_remove(store, r.ref[i]), ERIS_OK);
}

/* An idle decoder needs no block to be reused; a new one does. So once
 * the blocks are removed, take succeeds exactly for kept decoders. */
START_TEST(pool_bound)
{
	eris_store *store;
	efuse_pool *pool;
	eris_decoder *d1, *d2, *d;
	eris_read_cap a, b;
	size_t one;

	ck_assert_int_eq(eris_store_new_mem(&store), ERIS_OK);
	a = put(store, 40000, 'a');
	b = put(store, 40000, 'b');
	ck_assert_int_eq(a.level, b.level);

	/* Learn what one idle decoder costs. */
	ck_assert_int_eq(efuse_pool_new(&pool, store, SIZE_MAX), ERIS_OK);
	ck_assert_int_eq(efuse_pool_take(pool, 1, &a, &d1), ERIS_OK);
	ck_assert_uint_eq(efuse_pool_idle_bytes(pool), 0);
	efuse_pool_give(pool, 1, &a, d1);
	one = efuse_pool_idle_bytes(pool);
	ck_assert_uint_gt(one, 0);
	efuse_pool_free(pool);

	/* Room for one: giving b's decoder evicts a's, the older. */
	ck_assert_int_eq(efuse_pool_new(&pool, store, one), ERIS_OK);
	ck_assert_int_eq(efuse_pool_take(pool, 1, &a, &d1), ERIS_OK);
	ck_assert_int_eq(efuse_pool_take(pool, 2, &b, &d2), ERIS_OK);
	efuse_pool_give(pool, 1, &a, d1);
	efuse_pool_give(pool, 2, &b, d2);
	ck_assert_uint_eq(efuse_pool_idle_bytes(pool), one);
	remove_content(store, &a);
	remove_content(store, &b);
	ck_assert_int_eq(efuse_pool_take(pool, 1, &a, &d), ERIS_ENOTFOUND);
	ck_assert_int_eq(efuse_pool_take(pool, 2, &b, &d), ERIS_OK);
	ck_assert_ptr_eq(d, d2);
	ck_assert_uint_eq(efuse_pool_idle_bytes(pool), 0);
	/* Dropped: gone, and nothing to reopen it from. */
	efuse_pool_give(pool, 2, &b, d);
	efuse_pool_drop(pool, 2);
	ck_assert_uint_eq(efuse_pool_idle_bytes(pool), 0);
	ck_assert_int_eq(efuse_pool_take(pool, 2, &b, &d), ERIS_ENOTFOUND);
	efuse_pool_free(pool);
	eris_store_free(store);
}
END_TEST

/* What the duplicate callback heard, for manifest_names. */
static int dups;
static char dup_seen[512];

static void on_dup(const efuse_dirent *kept, const char *kept_from,
		   const efuse_dirent *dropped, const char *dropped_from,
		   void *payload)
{
	ck_assert_ptr_eq(payload, &dups);
	dups++;
	snprintf(dup_seen, sizeof(dup_seen), "%s %s %s %s %s", kept->name,
		 kept->target, kept_from ? kept_from : "-", dropped->target,
		 dropped_from ? dropped_from : "-");
}

START_TEST(manifest_names)
{
	eris_store *store;
	efuse_names *names;
	eris_read_cap a, b;
	char ua[ERIS_URN_BUFSIZE], ub[ERIS_URN_BUFSIZE], lower[ERIS_URN_BUFSIZE];
	const efuse_dirent *e;

	ck_assert_int_eq(eris_store_new_mem(&store), ERIS_OK);
	a = put(store, 10, 'a');
	b = put(store, 10, 'b');
	eris_urn_format(ua, &a);
	eris_urn_format(ub, &b);
	memcpy(lower, ua, sizeof(lower));
	memcpy(lower, "URN:ERIS:", 9);

	ck_assert_int_eq(efuse_names_new(&names), 0);
	efuse_names_set_origin(names, "one.json");
	ck_assert_int_eq(efuse_names_add(names, "libfoo.so.1", lower), 0);
	ck_assert_int_eq(efuse_names_add(names, "libfoo.so.1", ua), 0);
	efuse_names_set_origin(names, "two.list");
	ck_assert_int_eq(efuse_names_add(names, "libfoo.so.1", ub), 0);
	ck_assert_int_eq(efuse_names_add(names, "sub/name", ub), 0);
	ck_assert_int_eq(efuse_names_add(names, "..", ub), 0);
	ck_assert_int_eq(efuse_names_add(names, ub, ua), 0);
	ck_assert_int_eq(efuse_names_add(names, "bad", "urn:eris:AAAA"), -1);
	dups = 0;
	ck_assert_int_eq(efuse_names_finish(names, on_dup, &dups), 0);

	/* One warning: the same URN given again (any case) is no news, the
	 * other URN from the second file is. */
	ck_assert_int_eq(dups, 1);
	{
		char want[512];

		snprintf(want, sizeof(want), "libfoo.so.1 %s one.json %s two.list",
			 ua, ub);
		ck_assert_str_eq(dup_seen, want);
	}

	/* The two URNs (canonical) and one link, which kept its first URN. */
	ck_assert_uint_eq(efuse_names_count(names), 3);
	e = efuse_names_link(names, "libfoo.so.1");
	ck_assert_ptr_nonnull(e);
	ck_assert_str_eq(e->target, ua);
	ck_assert_ptr_eq(efuse_names_link_ino(names, e->ino), e);
	ck_assert_uint_ne(e->ino, efuse_cap_ino(&a));
	ck_assert_ptr_null(efuse_names_link(names, ua));
	ck_assert_ptr_null(efuse_names_link(names, "sub/name"));
	ck_assert_ptr_null(efuse_names_link(names, "name"));
	ck_assert_ptr_null(efuse_names_link(names, ".."));
	for (size_t i = 0; i < 3; i++) {
		e = efuse_names_at(names, i);
		if (e->target == NULL)
			ck_assert(strcmp(e->name, ua) == 0 ||
				  strcmp(e->name, ub) == 0);
	}
	efuse_names_free(names);
	eris_store_free(store);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("fuse-units");
	TCase *tc = tcase_create("units");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, fnv1a_vectors);
	tcase_add_test(tc, cap_inodes);
	tcase_add_test(tc, node_lookups);
	tcase_add_test(tc, pool_bound);
	tcase_add_test(tc, manifest_names);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
