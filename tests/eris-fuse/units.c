/*
 * units.c - eris-fuse's parts without a mount: inode numbers, the inode
 * table, the decoder pool and its memory bound, manifest names, ERIS-FS
 * trees (directories, lookups, inode numbers, the cache's bound).
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
#include "trees.h"

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

/* An index of `paths` (files of `cap`; "name>target" a link), encoded
 * into `store`; its capability. */
static eris_read_cap put_index(eris_store *store, const char *const *paths,
			       size_t n, const eris_read_cap *cap)
{
	eris_encode_options opts = ERIS_ENCODE_OPTIONS_INIT;
	eris_fs_index *idx;
	eris_read_cap out;
	uint8_t *bytes;
	size_t len;

	ck_assert_int_eq(eris_fs_index_new(&idx, 0), ERIS_OK);
	for (size_t i = 0; i < n; i++) {
		char path[256];
		char *gt;

		snprintf(path, sizeof(path), "%s", paths[i]);
		gt = strchr(path, '>');
		if (gt) {
			*gt = '\0';
			ck_assert_int_eq(eris_fs_index_add_path(idx, path,
						ERIS_FS_SYMLINK, NULL, gt + 1),
					 ERIS_OK);
		} else {
			ck_assert_int_eq(eris_fs_index_add_path(idx, path,
						ERIS_FS_FILE, cap, NULL),
					 ERIS_OK);
		}
	}
	ck_assert_int_eq(eris_fs_index_encode(&bytes, &len, idx), ERIS_OK);
	opts.block_size = ERIS_BLOCK_SIZE_1K;
	ck_assert_int_eq(eris_encode(&out, store, &opts, bytes, len), ERIS_OK);
	free(bytes);
	eris_fs_index_free(idx);
	return out;
}

/* The name of a child, NUL-terminated. */
static const char *child_name(const efuse_tchild *c)
{
	static char buf[256];

	memcpy(buf, c->name, c->name_len);
	buf[c->name_len] = '\0';
	return buf;
}

START_TEST(tree_dirs)
{
	static const char *const paths[] = {
		"z", "bin/tool", "lib/deep/er/x", "lib/a", "lib/bb", "lib/deep/y",
		"lib/link>a",
	};
	eris_store *store;
	efuse_trees *trees;
	efuse_tree *t;
	eris_read_cap file, cap;
	const efuse_tchild *lib, *deep, *c;
	eris_fs_entry e;

	ck_assert_int_eq(eris_store_new_mem(&store), ERIS_OK);
	file = put(store, 10, 'f');
	cap = put_index(store, paths, 7, &file);
	ck_assert_int_eq(efuse_trees_new(&trees, store, 1u << 20), ERIS_OK);
	ck_assert_int_eq(efuse_trees_get(trees, &cap, &t), ERIS_OK);

	/* The root: bin, lib (directories) and z, by name. */
	ck_assert_uint_eq(efuse_tree_dir_size(t, 0), 3);
	ck_assert_str_eq(child_name(efuse_tree_dir_child(t, 0, 0)), "bin");
	ck_assert_str_eq(child_name(efuse_tree_dir_child(t, 0, 1)), "lib");
	ck_assert_str_eq(child_name(efuse_tree_dir_child(t, 0, 2)), "z");
	lib = efuse_tree_lookup(t, 0, "lib");
	ck_assert_ptr_nonnull(lib);
	ck_assert_uint_eq(lib->is_dir, 1);
	ck_assert_uint_eq(efuse_tree_parent(t, lib->num), 0);
	/* lib: a, bb, deep, link. */
	ck_assert_uint_eq(efuse_tree_dir_size(t, lib->num), 4);
	ck_assert_str_eq(child_name(efuse_tree_dir_child(t, lib->num, 2)),
			 "deep");
	deep = efuse_tree_lookup(t, lib->num, "deep");
	ck_assert_ptr_nonnull(deep);
	ck_assert_uint_eq(efuse_tree_parent(t, deep->num), lib->num);
	c = efuse_tree_lookup(t, lib->num, "link");
	ck_assert_ptr_nonnull(c);
	ck_assert_uint_eq(c->is_dir, 0);
	efuse_tree_entry(t, c->num, &e);
	ck_assert_int_eq(e.type, ERIS_FS_SYMLINK);
	ck_assert_str_eq(e.target, "a");
	c = efuse_tree_lookup(t, deep->num, "y");
	ck_assert_ptr_nonnull(c);
	efuse_tree_entry(t, c->num, &e);
	ck_assert_str_eq(e.path, "lib/deep/y");
	/* Prefixes of names are not names. */
	ck_assert_ptr_null(efuse_tree_lookup(t, lib->num, "b"));
	ck_assert_ptr_null(efuse_tree_lookup(t, lib->num, "bbb"));
	ck_assert_ptr_null(efuse_tree_lookup(t, 0, "lib/a"));
	/* Inodes: the tree's own is its URN's; the others all differ. */
	ck_assert_uint_eq(efuse_tree_dir_ino(t, 0), efuse_cap_ino(&cap));
	ck_assert_uint_ne(efuse_tree_dir_ino(t, lib->num),
			  efuse_tree_dir_ino(t, deep->num));
	ck_assert_uint_ne(efuse_tree_entry_ino(t, 0),
			  efuse_tree_entry_ino(t, 1));
	ck_assert_uint_ne(efuse_tree_entry_ino(t, 0), efuse_cap_ino(&file));
	efuse_trees_put(trees, t);
	efuse_trees_free(trees);

	/* Malformed content: ERIS_EFSINDEX, nothing cached. */
	ck_assert_int_eq(efuse_trees_new(&trees, store, 1u << 20), ERIS_OK);
	ck_assert_int_eq(efuse_trees_get(trees, &file, &t), ERIS_EFSINDEX);
	ck_assert_ptr_null(t);
	ck_assert_uint_eq(efuse_trees_idle_bytes(trees), 0);
	efuse_trees_free(trees);
	eris_store_free(store);
}
END_TEST

/* Unused trees are kept within the limit, used ones never freed, and a
 * tree loaded again numbers everything the same way. */
START_TEST(tree_cache_bound)
{
	static const char *const paths[] = { "a/b/c", "a/d", "e" };
	eris_store *store;
	efuse_trees *trees;
	efuse_tree *t[8], *again;
	eris_read_cap file, caps[8];
	uint32_t deep_num;
	size_t one;

	ck_assert_int_eq(eris_store_new_mem(&store), ERIS_OK);
	for (int i = 0; i < 8; i++) {
		file = put(store, 10, 'a' + i);
		caps[i] = put_index(store, paths, 3, &file);
	}
	ck_assert_int_eq(efuse_trees_new(&trees, store, 0), ERIS_OK);
	ck_assert_int_eq(efuse_trees_get(trees, &caps[0], &t[0]), ERIS_OK);
	deep_num = efuse_tree_lookup(t[0], efuse_tree_lookup(t[0], 0, "a")->num,
				     "b")->num;
	efuse_trees_put(trees, t[0]);
	/* Limit 0: nothing unused stays. */
	ck_assert_uint_eq(efuse_trees_idle_bytes(trees), 0);
	ck_assert_int_eq(efuse_trees_get(trees, &caps[0], &again), ERIS_OK);
	ck_assert_uint_eq(efuse_tree_lookup(again,
			efuse_tree_lookup(again, 0, "a")->num, "b")->num,
			  deep_num);
	efuse_trees_put(trees, again);
	efuse_trees_free(trees);

	/* Room for about three unused trees. */
	ck_assert_int_eq(efuse_trees_new(&trees, store, 1u << 30), ERIS_OK);
	ck_assert_int_eq(efuse_trees_get(trees, &caps[0], &t[0]), ERIS_OK);
	efuse_trees_put(trees, t[0]);
	one = efuse_trees_idle_bytes(trees);
	ck_assert_uint_gt(one, 0);
	efuse_trees_free(trees);
	ck_assert_int_eq(efuse_trees_new(&trees, store, 3 * one + one / 2),
			 ERIS_OK);
	for (int i = 0; i < 8; i++) {
		ck_assert_int_eq(efuse_trees_get(trees, &caps[i], &t[i]),
				 ERIS_OK);
		/* the same tree twice: one copy */
		ck_assert_int_eq(efuse_trees_get(trees, &caps[i], &again),
				 ERIS_OK);
		ck_assert_ptr_eq(again, t[i]);
		efuse_trees_put(trees, again);
	}
	/* All in use: none freed, none counted as idle. */
	ck_assert_uint_eq(efuse_trees_idle_bytes(trees), 0);
	for (int i = 0; i < 8; i++)
		efuse_trees_put(trees, t[i]);
	ck_assert_uint_le(efuse_trees_idle_bytes(trees), 3 * one + one / 2);
	ck_assert_uint_ge(efuse_trees_idle_bytes(trees), 3 * one);
	efuse_trees_free(trees);
	eris_store_free(store);
}
END_TEST

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
	tcase_add_test(tc, tree_dirs);
	tcase_add_test(tc, tree_cache_bound);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
