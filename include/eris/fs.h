/*
 * eris/fs.h - ERIS-FS: a tree of files as one ERIS content.
 *
 * An ERIS-FS image is a CBOR index, itself stored as ERIS content, that
 * maps each path of the tree to an entry:
 *
 *   1701996916([ 1, { * [* tstr] => [0, 276(cap)]      ; file
 *                                 / [1, 276(cap)]      ; executable
 *                                 / [2, tstr target] } ]) ; symlink
 *
 * Each file is its own ERIS content, named by its 66-byte read
 * capability; directories are implicit (the prefixes of the paths), so
 * an empty directory cannot be represented. The index is encoded in
 * deterministic CBOR (RFC 8949 section 4.2.1): shortest heads, definite
 * lengths, map keys sorted by their encoded bytes. The same set of
 * entries therefore gives the same bytes, and the same URN, whatever the
 * order they were added in.
 *
 * The codec is hand-written in the core rather than in the cbor module:
 * the subset is five item kinds (unsigned integer, text and byte string,
 * array, map, and two fixed tags), strictness is easier to guarantee in
 * 300 lines that accept nothing else than through a general decoder that
 * accepts everything, and eris-fuse, erispatch and the CLI can then read
 * images without libcbor. fuzz/erisfs_fuzz.c checks it.
 *
 * Rules, where the specification is silent (it gives the CDDL only up
 * to the executable entry; docs/guide.md lists them too):
 *  - a symlink entry is [2, target] and a capability is tagged 276
 *    (the layout of eris-go);
 *  - a path has at least one component; a component is non-empty valid
 *    UTF-8, not "." or "..", without '/' or NUL; names are bytes (no
 *    Unicode normalisation);
 *  - no path is a prefix of another ("a" a file and "a/b" an entry);
 *  - a symlink target is non-empty, without NUL; by default it is
 *    relative and does not climb out of the tree (checked lexically, per
 *    link: "../x" from a top-level link is refused). Package trees with
 *    absolute targets (/nix/store/...) need ERIS_FS_EXTERNAL_LINKS;
 *    nothing in this library or the CLI ever follows a link it read;
 *  - version 1 only, types 0 to 2 only, nothing after the index, and any
 *    non-deterministic encoding is refused (no lenient mode).
 *
 * In an API path the components are joined with '/': unambiguous, as a
 * component cannot contain one.
 */
#ifndef ERIS_FS_H
#define ERIS_FS_H

#include "common.h"
#include "store.h"
#include "urn.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The CBOR tag of an ERIS-FS index, "erit". */
#define ERIS_FS_TAG 1701996916u
/** The only index version there is. */
#define ERIS_FS_VERSION 1u
/** Every index starts with these bytes: the tag, an array of 2, 1. */
#define ERIS_FS_MAGIC_BYTES 7u

/** Entry types, as numbered on the wire. */
typedef enum {
	ERIS_FS_FILE = 0,       /**< a regular file */
	ERIS_FS_EXECUTABLE = 1, /**< a regular file with the execute bit */
	ERIS_FS_SYMLINK = 2     /**< a symbolic link */
} eris_fs_type;

/** Flags of eris_fs_index_new() and eris_fs_index_parse(). */
enum {
	/** Accept absolute symlink targets and targets with ".." leading
	 * out of the tree (Nix and Guix outputs have them). */
	ERIS_FS_EXTERNAL_LINKS = 1u << 0
};

/** An index: a set of entries (opaque). */
typedef struct eris_fs_index eris_fs_index;

/** One entry, borrowed from its index (eris_fs_index_entry). */
typedef struct eris_fs_entry {
	const char *path;    /**< the components joined with '/' */
	size_t n_components; /**< at least 1 */
	eris_fs_type type;
	eris_read_cap cap;   /**< files and executables */
	const char *target;  /**< symlinks; NULL otherwise */
} eris_fs_entry;

/**
 * 1 if `len` bytes at `in` start like an ERIS-FS index of version 1
 * (DA 65 72 69 74 82 01), else 0.
 */
ERIS_EXTERN int eris_fs_has_magic(const uint8_t *in, size_t len);

/**
 * A new empty index.
 * @param out    receives it; free with eris_fs_index_free()
 * @param flags  0 or ERIS_FS_EXTERNAL_LINKS
 * @return ERIS_OK, ERIS_EINVAL (unknown flag), ERIS_ENOMEM
 */
ERIS_EXTERN int eris_fs_index_new(eris_fs_index **out, unsigned flags);

/**
 * Add an entry. `components` (n of them) are copied; so is `target`.
 * `cap` is used for files and executables and must be NULL for symlinks;
 * `target` the other way round. Duplicates and file/directory conflicts
 * are found by eris_fs_index_encode(), which sees the whole set.
 * @return ERIS_OK; ERIS_EINVAL with a message naming the path for an
 *         invalid component, type, capability or target; ERIS_ENOMEM
 */
ERIS_EXTERN int eris_fs_index_add(eris_fs_index *idx,
				  const char *const *components, size_t n,
				  eris_fs_type type, const eris_read_cap *cap,
				  const char *target);

/** eris_fs_index_add() with the components joined by '/' in `path`. */
ERIS_EXTERN int eris_fs_index_add_path(eris_fs_index *idx, const char *path,
				       eris_fs_type type,
				       const eris_read_cap *cap,
				       const char *target);

/**
 * Sort the entries into their canonical order (done by encode and parse;
 * afterwards eris_fs_index_entry() lists them in that order) and check
 * the set: no path twice, none both a file and a directory.
 * @return ERIS_OK; ERIS_EINVAL with the offending path; ERIS_ENOMEM
 */
ERIS_EXTERN int eris_fs_index_sort(eris_fs_index *idx);

/**
 * Encode the index in deterministic CBOR (sorting it first).
 * @param out      receives a malloc()ed buffer the caller frees
 * @param out_len  its length
 * @return ERIS_OK; ERIS_EINVAL (an empty index, a duplicate path or a
 *         path both a file and a directory: the message names it);
 *         ERIS_ENOMEM
 */
ERIS_EXTERN int eris_fs_index_encode(uint8_t **out, size_t *out_len,
				     eris_fs_index *idx);

/**
 * Parse the `len` bytes at `in`, which must be exactly one index in
 * deterministic CBOR.
 * @param out    receives the index (its entries copied out of `in`)
 * @param flags  0 or ERIS_FS_EXTERNAL_LINKS
 * @return ERIS_OK; ERIS_EFSINDEX for anything malformed, with a message
 *         saying what and at which byte offset; ERIS_ENOMEM
 */
ERIS_EXTERN int eris_fs_index_parse(eris_fs_index **out, const uint8_t *in,
				    size_t len, unsigned flags);

/** The number of entries. */
ERIS_EXTERN size_t eris_fs_index_count(const eris_fs_index *idx);

/**
 * Entry `i` (0 <= i < count), valid until the index is changed or freed.
 * @return ERIS_OK or ERIS_EINVAL (i out of range)
 */
ERIS_EXTERN int eris_fs_index_entry(const eris_fs_index *idx, size_t i,
				    eris_fs_entry *out);

/** Free an index. NULL is allowed. */
ERIS_EXTERN void eris_fs_index_free(eris_fs_index *idx);

/** Progress of eris_fs_put_tree(): called on the calling thread. */
typedef void (*eris_fs_progress_fn)(uint64_t bytes_done,
				    uint64_t bytes_total, size_t files_done,
				    size_t files_total, void *payload);

/** Options of eris_fs_put_tree(). Initialise with ERIS_FS_PUT_OPTIONS_INIT. */
typedef struct eris_fs_put_options {
	unsigned version;    /**< ERIS_FS_PUT_OPTIONS_VERSION */
	/** 0: each file and the index by its length (1 KiB below 16 KiB,
	 * 32 KiB otherwise, as eris put), or ERIS_BLOCK_SIZE_1K / _32K for
	 * every one. */
	uint32_t block_size;
	/** Convergence secret (32 bytes) of the files and the index; NULL
	 * means the null secret. */
	const uint8_t *secret;
	/** Files encoded at once (0 or 1: one at a time). */
	unsigned threads;
	unsigned flags;      /**< ERIS_FS_EXTERNAL_LINKS */
	eris_fs_progress_fn progress; /**< may be NULL */
	void *payload;       /**< for progress */
	/** NULL, or a NULL-terminated list of paths below `dir` ('/'-joined,
	 * as in the index) left out of the image with everything under
	 * them: a file that records the image's own URN cannot be part of
	 * it (erispatch's nix-support/eris-fs). */
	const char *const *exclude;
} eris_fs_put_options;

#define ERIS_FS_PUT_OPTIONS_VERSION 1
#define ERIS_FS_PUT_OPTIONS_INIT                                          \
	{ ERIS_FS_PUT_OPTIONS_VERSION, 0, NULL, 0, 0, NULL, NULL, NULL }

/**
 * Encode the tree under directory `dir` into `store`: every regular file
 * as its own content (type 1 if any execute bit is set), every symlink
 * verbatim (never followed), then the index. Owners, times, other mode
 * bits and the order directories are read in make no difference.
 * Empty directories cannot be represented: they are skipped with a
 * warning (eris_set_warning_handler).
 * @param out  receives the index's read capability
 * @return ERIS_OK; ERIS_EINVAL for a special file (device, FIFO, socket),
 *         a name that is not valid UTF-8, a link target refused by the
 *         rules above, or a file that changed size while read (each
 *         message names the path); a tree with nothing in it gives an
 *         index without entries;
 *         ERIS_ERROR for a system error (message with the path and the
 *         reason); a store's error; ERIS_ENOMEM
 */
ERIS_EXTERN int eris_fs_put_tree(eris_read_cap *out, eris_store *store,
				 const char *dir,
				 const eris_fs_put_options *opts);

/**
 * Read and parse the index named by `cap` from `store` (every block
 * verified). At most `max_len` bytes of index are read (0: 256 MiB).
 * @return ERIS_OK; ERIS_EFSINDEX (not an index, malformed, too long);
 *         a decoder error (R1-R6); ERIS_ENOMEM
 */
ERIS_EXTERN int eris_fs_index_load(eris_fs_index **out, eris_store *store,
				   const eris_read_cap *cap, unsigned flags,
				   uint64_t max_len);

#ifdef __cplusplus
}
#endif
#endif
