/*
 * fs.h - the read-only file system: a root directory whose entries are
 * named by URN, served with the fuse3 low-level API. A URN names a file,
 * or a directory when its content is an ERIS-FS index.
 */
#ifndef EFUSE_FS_H
#define EFUSE_FS_H
#define FUSE_USE_VERSION 35
#include <fuse_lowlevel.h>

#include "names.h"
#include "nodes.h"
#include "pool.h"
#include "trees.h"

/** Everything a request needs; the session's userdata. */
typedef struct efuse_fs {
	eris_store *store;   /* thread-safe (eris/store.h) */
	efuse_nodes *nodes;
	efuse_pool *pool;
	efuse_trees *trees;  /* parsed ERIS-FS indexes */
	efuse_names *names;  /* NULL without --manifest */
	int use_syslog;      /* daemonized: stderr is gone */
} efuse_fs;

/** The operations (fs.c). */
extern const struct fuse_lowlevel_ops efuse_ops;

#endif
