/*
 * trees.h - parsed ERIS-FS indexes as directory trees, cached within a
 * memory bound.
 *
 * An index lists paths; a mount needs directories. A tree numbers the
 * directories of an index (0 is its root, the others in the byte order
 * of their paths) and lists each one's children sorted by name. The
 * numbering depends only on the index, so a tree that was evicted and
 * loaded again gives every directory and entry the same number: the
 * inode table stores (index, kind, number), never a pointer.
 */
#ifndef EFUSE_TREES_H
#define EFUSE_TREES_H
#include <eris/eris.h>

typedef struct efuse_trees efuse_trees;
typedef struct efuse_tree efuse_tree;

/** A child in a directory: a subdirectory or an index entry. */
typedef struct efuse_tchild {
	const char *name;  /* not NUL-terminated: name_len bytes */
	uint32_t name_len;
	uint32_t is_dir;   /* 1: `num` is a directory, 0: an entry */
	uint32_t num;
} efuse_tchild;

/** A cache over `store` (borrowed) keeping at most `limit` bytes of
 * unused trees. */
int efuse_trees_new(efuse_trees **out, eris_store *store, size_t limit);
void efuse_trees_free(efuse_trees *trees);
/**
 * The tree of the index `cap`: cached, or loaded (every block verified)
 * and parsed strictly. Give it back with efuse_trees_put().
 * @return ERIS_OK; ERIS_EFSINDEX (malformed), a decoder error (R1-R6),
 *         ERIS_ENOMEM; the message is set.
 */
int efuse_trees_get(efuse_trees *trees, const eris_read_cap *cap,
		    efuse_tree **out);
void efuse_trees_put(efuse_trees *trees, efuse_tree *tree);
/** The memory of the cached trees nobody uses, in bytes (an estimate). */
size_t efuse_trees_idle_bytes(efuse_trees *trees);

/** The number of children of directory `dir` and the `i`-th one. */
size_t efuse_tree_dir_size(const efuse_tree *t, uint32_t dir);
const efuse_tchild *efuse_tree_dir_child(const efuse_tree *t, uint32_t dir,
					 size_t i);
/** The child `name` of `dir`, or NULL. */
const efuse_tchild *efuse_tree_lookup(const efuse_tree *t, uint32_t dir,
				      const char *name);
/** The parent of `dir` (the root is its own parent). */
uint32_t efuse_tree_parent(const efuse_tree *t, uint32_t dir);
/** Entry `num` of the index (borrowed from the tree). */
void efuse_tree_entry(const efuse_tree *t, uint32_t num, eris_fs_entry *out);
/** Whether `dir` and `num` exist in the tree. */
int efuse_tree_has_dir(const efuse_tree *t, uint32_t dir);
int efuse_tree_has_entry(const efuse_tree *t, uint32_t num);
/** The inode number of a directory (0: the tree's own, that of its
 * capability) or an entry: a hash of the index and the path. */
uint64_t efuse_tree_dir_ino(const efuse_tree *t, uint32_t dir);
uint64_t efuse_tree_entry_ino(const efuse_tree *t, uint32_t num);

#endif
