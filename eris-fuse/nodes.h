/*
 * nodes.h - the inodes the kernel knows: one per URN it has looked up.
 *
 * The inode number of content is the 64-bit FNV-1a hash of its 66-byte
 * binary read capability, so it is the same in every mount. A node lives
 * from its first lookup until the kernel forgets it as often as it was
 * looked up.
 */
#ifndef EFUSE_NODES_H
#define EFUSE_NODES_H
#include <eris/eris.h>

typedef struct efuse_nodes efuse_nodes;

/** What a node is. */
typedef enum {
	EFUSE_CONTENT = 0, /* a URN in the root directory: plain content */
	EFUSE_DIR,         /* a directory of an ERIS-FS tree (0: its root) */
	EFUSE_FILE,        /* a file of a tree, 0444 */
	EFUSE_EXEC,        /* an executable of a tree, 0555 */
	EFUSE_LINK         /* a symbolic link of a tree */
} efuse_kind;

/** What a node says about its content. A plain value. */
typedef struct efuse_node_info {
	eris_read_cap cap;  /* the content read (files); the index (others) */
	uint64_t size;
	char urn[ERIS_URN_BUFSIZE]; /* of `cap`, for messages */
	efuse_kind kind;
	eris_read_cap tree; /* the index of a tree's node */
	uint32_t num;       /* its directory or entry number (trees.h) */
} efuse_node_info;

/** The inode number of `cap`: never 0 or 1 (the root). */
uint64_t efuse_cap_ino(const eris_read_cap *cap);
/** 64-bit FNV-1a of `len` bytes, moved off 0 and 1. */
uint64_t efuse_hash_ino(const void *data, size_t len);

int efuse_nodes_new(efuse_nodes **out);
void efuse_nodes_free(efuse_nodes *nodes);
/**
 * Look up the node of `ino` without counting a lookup.
 * @return 0 and fills `out` if known, -1 if not.
 */
int efuse_nodes_get(efuse_nodes *nodes, uint64_t ino, efuse_node_info *out);
/**
 * Count one kernel lookup of `info`, creating its node on the first.
 * @return 0; EEXIST if another capability has the same inode number (a
 *         hash collision); ENOMEM.
 */
int efuse_nodes_ref(efuse_nodes *nodes, uint64_t ino,
		    const efuse_node_info *info);
/**
 * The kernel forgets `n` lookups of `ino`.
 * @return 1 if the node is gone now, 0 if not.
 */
int efuse_nodes_forget(efuse_nodes *nodes, uint64_t ino, uint64_t n);

#endif
