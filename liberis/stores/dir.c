/*
 * dir.c - the directory store: one file per block at ROOT/XX/REF, REF the
 * 52-character base32 of the reference and XX its first two characters.
 *
 * The layout is a contract with other tools (web servers serve it as is).
 * A put writes a uniquely named temporary file in the same directory and
 * renames it into place, so a reader never sees a partial block; a block
 * that exists already is left alone. flush() syncs the file system.
 *
 * Nothing inside the root is reached through a symbolic link: XX is
 * opened with O_NOFOLLOW|O_DIRECTORY and every block file, temporary file
 * and unlink is relative to that descriptor, so a link planted in the
 * tree can neither make a read follow it nor gc or fsck --delete unlink
 * outside the root. Block files are opened O_NOFOLLOW|O_NONBLOCK and
 * must be regular files: a FIFO, a link or a device in a block's place
 * is a corrupt block (ERIS_EMISMATCH naming the file), never a hang.
 * has() says 1 only for a regular file of a block's size, so a put
 * replaces anything else found in a block's place. get_cached (behind
 * eris_store_try_get_many) takes only what the kernel has at hand, many
 * files per system call through io_uring where liberis has liburing
 * (dir_batch.c), else file by file.
 *
 * foreach walks the two-character subdirectories and reports only files
 * whose names are canonical 52-character base32 references filed under
 * the right subdirectory, so temporary files (".tmp-*") and anything
 * else a user drops in the tree are ignored; entries named like a
 * subdirectory or a block that are no plain directory or regular file
 * are skipped with a warning (eris_set_warning_handler). The length
 * reported is the file's size, unchecked (fsck compares it). remove
 * unlinks the file and leaves the subdirectory, which a concurrent put
 * may be about to use. Deleting a block's file gives its space back,
 * so compact has nothing to do.
 *
 * Pins are the files PATH/pins/NAME, three lines each: URN, size, time.
 * A pin is written to a temporary file in PATH (".pin-tmp-*", ignored by
 * foreach), synced, then renamed (replace) or hard-linked (exclusive
 * create: link() fails if the name exists) into pins/, and pins/ is
 * synced; the blocks are synced before (syncfs), so a pin never names
 * blocks a crash lost. The gc lock is flock() on the directory PATH.
 */
#if defined(__linux__)
#define _GNU_SOURCE /* syncfs */
#define HAVE_SYNCFS 1
#if defined(__has_include)
#if __has_include(<linux/openat2.h>)
#define HAVE_OPENAT2 1
#endif
#endif
#endif
#include "../internal.h"
#include "dir_batch.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <stdlib.h>
#include <unistd.h>
#ifdef HAVE_OPENAT2
#include <linux/openat2.h>
#include <sys/syscall.h>
#endif

typedef struct {
	eris_store_backend parent;
	char *root;
	int root_fd;
	int lock_fd; /* the root, opened anew, while locked; else -1 */
	atomic_int no_openat2; /* the kernel said ENOSYS: two opens per get */
	/* get_cached's batched reads, made on first use; NULL: none yet */
	_Atomic(eris__dir_batch *) batch;
} dir_store;

/* "XX/REF" relative to the root: 2 + 1 + 52 characters. */
#define REL_LEN (3 + ERIS_REF_BASE32_LEN)

static void rel_path(char out[REL_LEN + 1], const uint8_t *ref)
{
	char name[ERIS_REF_BASE32_LEN + 1];

	eris_base32_encode(name, ref, ERIS_REF_BYTES);
	out[0] = name[0];
	out[1] = name[1];
	out[2] = '/';
	memcpy(out + 3, name, ERIS_REF_BASE32_LEN + 1);
}

static int io_error(const dir_store *d, const char *what, const char *rel)
{
	return eris_error_set(ERIS_ERROR, "dir store %s: %s %s: %s", d->root,
			      what, rel, strerror(errno));
}

/* Open subdirectory `sub` ("XX") of the root without following a link:
 * a store never reaches outside its root. -1 with errno set (ELOOP or
 * ENOTDIR when it is a link or not a directory). */
static int open_sub(const dir_store *d, const char *sub)
{
	return openat(d->root_fd, sub,
		      O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

/* Split "XX/REF" into its directory fd and leaf name; ERIS_ENOTFOUND if
 * XX is absent, ERIS_EMISMATCH (a corrupt block) if XX is not a plain
 * directory. */
static int open_parent(const dir_store *d, const char *rel, int *dfd)
{
	char sub[3] = { rel[0], rel[1], '\0' };

	*dfd = open_sub(d, sub);
	if (*dfd >= 0)
		return ERIS_OK;
	if (errno == ENOENT)
		return ERIS_ENOTFOUND;
	if (errno == ELOOP || errno == ENOTDIR)
		return eris_error_set(ERIS_EMISMATCH,
				      "dir store %s: corrupt block %s: %s is "
				      "not a plain directory",
				      d->root, rel, sub);
	return io_error(d, "cannot open", sub);
}

static const char *file_kind(mode_t mode)
{
	if (S_ISLNK(mode))
		return "a symbolic link";
	if (S_ISFIFO(mode))
		return "a FIFO";
	if (S_ISDIR(mode))
		return "a directory";
	if (S_ISSOCK(mode))
		return "a socket";
	if (S_ISCHR(mode) || S_ISBLK(mode))
		return "a device";
	return "not a regular file";
}

/* Open block file "XX/REF" the portable way: XX, then REF in it, both
 * without following a link. ERIS_OK with *fd set, ERIS_ENOTFOUND, or the
 * error naming what is in the block's place. */
static int open_block_at(dir_store *d, const char *rel, int *fd)
{
	struct stat st;
	int dfd, rc;

	if ((rc = open_parent(d, rel, &dfd)) != ERIS_OK)
		return rc;
	*fd = openat(dfd, rel + 3,
		     O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (*fd < 0) {
		int err = errno;

		if (err == ENOENT)
			rc = ERIS_ENOTFOUND;
		else if (fstatat(dfd, rel + 3, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
			 !S_ISREG(st.st_mode))
			rc = eris_error_set(ERIS_EMISMATCH,
					    "dir store %s: corrupt block file "
					    "%s: %s",
					    d->root, rel, file_kind(st.st_mode));
		else
			rc = (errno = err, io_error(d, "cannot open", rel));
	}
	close(dfd);
	return rc;
}

/*
 * Open block file "XX/REF". Where the kernel has openat2(), one call
 * resolves the whole path beneath the root and refuses a link anywhere
 * on it: one system call instead of the three of open_block_at() (two
 * opens and a close), which is most of a cache miss's cost in erisd.
 * Any failure but "not there" is left to open_block_at(), which names
 * what is wrong, so the errors are the same either way.
 */
static int open_block(dir_store *d, const char *rel, int *fd)
{
#ifdef HAVE_OPENAT2
	if (!atomic_load_explicit(&d->no_openat2, memory_order_relaxed)) {
		struct open_how how;

		memset(&how, 0, sizeof how);
		how.flags = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC;
		how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS;
		*fd = (int)syscall(SYS_openat2, d->root_fd, rel, &how,
				   sizeof how);
		if (*fd >= 0)
			return ERIS_OK;
		if (errno == ENOENT)
			return ERIS_ENOTFOUND;
		/* ENOSYS: an old kernel; EPERM: a seccomp filter older
		 * than openat2 (older container runtimes). */
		if (errno == ENOSYS || errno == EPERM)
			atomic_store_explicit(&d->no_openat2, 1,
					      memory_order_relaxed);
	}
#endif
	return open_block_at(d, rel, fd);
}

/*
 * Block files are opened without following links and without blocking
 * (a FIFO would block open() forever), then must be regular files of
 * 1 KiB or 32 KiB: anything else is a corrupt block (R3, naming the
 * file), so a hostile tree can neither hang a reader nor point it at
 * another file. A regular file of a wrong size is read (it cannot block)
 * and fails R2 in eris_store_get().
 */
static int dir_get(eris_store_backend *b, const uint8_t *ref, uint8_t *buf,
		   size_t buf_size, size_t *out_len)
{
	dir_store *d = (dir_store *)b;
	char rel[REL_LEN + 1];
	struct stat st;
	size_t done = 0;
	int fd, rc;

	rel_path(rel, ref);
	if ((rc = open_block(d, rel, &fd)) != ERIS_OK)
		return rc;
	if (fstat(fd, &st) < 0) {
		rc = io_error(d, "cannot stat", rel);
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = eris_error_set(ERIS_EMISMATCH,
				    "dir store %s: corrupt block file %s: %s",
				    d->root, rel, file_kind(st.st_mode));
		goto out;
	}
	if ((uint64_t)st.st_size > buf_size) {
		rc = eris_error_set(ERIS_EBLOCKSIZE,
				    "dir store: block file %s has %lld bytes",
				    rel, (long long)st.st_size);
		goto out;
	}
	while (done < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + done, (size_t)st.st_size - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = io_error(d, "cannot read", rel);
			goto out;
		}
		if (n == 0)
			break; /* shrank under us; the size check catches it */
		done += (size_t)n;
	}
	*out_len = done;
out:
	close(fd);
	return rc;
}

#ifdef HAVE_OPENAT2
/*
 * get() for a block the kernel can hand over without waiting for the
 * disk: its path in the dentry cache (RESOLVE_CACHED) and its bytes in
 * the page cache (RWF_NOWAIT; a partial read is "not at hand" too).
 * Anything else, failures included, is ERIS_EAGAIN: get() then reads
 * the block and names what is wrong, with the same checks as above.
 * No fstat: a read of one byte more than `buf_size` tells a file that
 * is too long, and what is not a regular file either fails the read
 * (a directory, a FIFO, which O_NONBLOCK keeps from blocking) or gives
 * bytes that must still hash to the reference. dir_batch.c does the
 * same for many files with one system call.
 */
static int get_cached_one(dir_store *d, const char *rel, uint8_t *buf,
			  size_t buf_size, size_t *out_len)
{
	struct open_how how;
	struct iovec iov[2];
	uint8_t extra;
	ssize_t n;
	int fd;

	memset(&how, 0, sizeof how);
	how.flags = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC;
	how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_CACHED;
	fd = (int)syscall(SYS_openat2, d->root_fd, rel, &how, sizeof how);
	if (fd < 0)
		return errno == ENOENT ? ERIS_ENOTFOUND : ERIS_EAGAIN;
	iov[0].iov_base = buf;
	iov[0].iov_len = buf_size;
	iov[1].iov_base = &extra;
	iov[1].iov_len = 1;
	n = preadv2(fd, iov, 2, 0, RWF_NOWAIT);
	close(fd);
	if (!eris__dir_whole_block(n, buf_size))
		return ERIS_EAGAIN;
	*out_len = (size_t)n;
	return ERIS_OK;
}

/* The store's batch reader, made on first use (a store that never
 * serves an event loop needs none); NULL if there is none. */
static eris__dir_batch *batch_of(dir_store *d)
{
	eris__dir_batch *db =
		atomic_load_explicit(&d->batch, memory_order_acquire);
	eris__dir_batch *fresh;

	if (db)
		return db;
	fresh = eris__dir_batch_new();
	if (!fresh)
		return NULL;
	if (atomic_compare_exchange_strong(&d->batch, &db, fresh))
		return fresh;
	eris__dir_batch_free(fresh); /* another thread was first: db */
	return db;
}

static int dir_get_cached(eris_store_backend *b, size_t n,
			  const uint8_t (*refs)[ERIS_REF_BYTES],
			  uint8_t *const *bufs, size_t buf_size,
			  size_t *out_lens, int *results)
{
	dir_store *d = (dir_store *)b;
	char rel[GET_MANY_MAX][REL_LEN + 1];
	const char *relp[GET_MANY_MAX] = { NULL }; /* n are set */

	if (n > GET_MANY_MAX)
		return eris_error_set(ERIS_EINVAL, "too many blocks");
	for (size_t i = 0; i < n; i++) {
		out_lens[i] = 0;
		results[i] = ERIS_EAGAIN;
	}
	if (atomic_load_explicit(&d->no_openat2, memory_order_relaxed))
		return ERIS_OK;
	for (size_t i = 0; i < n; i++) {
		rel_path(rel[i], refs[i]);
		relp[i] = rel[i];
	}
	if (eris__dir_batch_read(batch_of(d), d->root_fd, n, relp, bufs,
				 buf_size, out_lens, results) == 0)
		return ERIS_OK;
	for (size_t i = 0; i < n; i++)
		results[i] = get_cached_one(d, rel[i], bufs[i], buf_size,
					    &out_lens[i]);
	return ERIS_OK;
}
#endif

/* 1 only for a regular file of a block's size: anything else in its place
 * (a link, a FIFO, a short file) is not a usable block, and a put then
 * replaces it. */
static int dir_has(eris_store_backend *b, const uint8_t *ref)
{
	dir_store *d = (dir_store *)b;
	char rel[REL_LEN + 1];
	struct stat st;
	int dfd, rc;

	rel_path(rel, ref);
	rc = open_parent(d, rel, &dfd);
	if (rc == ERIS_ENOTFOUND || rc == ERIS_EMISMATCH)
		return 0;
	if (rc < 0)
		return rc;
	rc = fstatat(dfd, rel + 3, &st, AT_SYMLINK_NOFOLLOW);
	if (rc < 0)
		rc = errno == ENOENT ? 0 : io_error(d, "cannot stat", rel);
	else
		rc = S_ISREG(st.st_mode) &&
		     (st.st_size == ERIS_BLOCK_SIZE_1K ||
		      st.st_size == ERIS_BLOCK_SIZE_32K);
	close(dfd);
	return rc;
}

static int write_all(int fd, const uint8_t *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int dir_put(eris_store_backend *b, const uint8_t *ref,
		   const uint8_t *block, size_t len)
{
	static atomic_uint counter;
	dir_store *d = (dir_store *)b;
	char rel[REL_LEN + 1], tmp[64];
	int dfd, fd, has, rc;

	has = dir_has(b, ref);
	if (has != 0)
		return has < 0 ? has : ERIS_OK;
	rel_path(rel, ref);
	rel[2] = '\0';
	if (mkdirat(d->root_fd, rel, 0755) < 0 && errno != EEXIST)
		return io_error(d, "cannot create directory", rel);
	rel[2] = '/';
	rc = open_parent(d, rel, &dfd);
	if (rc == ERIS_ENOTFOUND)
		return io_error(d, "cannot open", rel);
	if (rc == ERIS_EMISMATCH) /* never store through a link */
		return eris_error_set(ERIS_ERROR,
				      "dir store %s: cannot store %s: %.2s is "
				      "not a plain directory",
				      d->root, rel, rel);
	if (rc < 0)
		return rc;
	snprintf(tmp, sizeof(tmp), ".tmp-%ld-%u", (long)getpid(),
		 atomic_fetch_add(&counter, 1));
	/* Blocks never change, so they are created read-only. */
	fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
	if (fd < 0) {
		rc = io_error(d, "cannot create a temporary file in", rel);
		goto out;
	}
	if (write_all(fd, block, len) < 0) {
		rc = io_error(d, "cannot write", rel);
		close(fd);
		unlinkat(dfd, tmp, 0);
		goto out;
	}
#ifndef HAVE_SYNCFS
	/* Without syncfs() (not POSIX) flush cannot sync the whole tree:
	 * each put makes its block durable instead. */
	if (fsync(fd) < 0) {
		rc = io_error(d, "cannot sync", rel);
		close(fd);
		unlinkat(dfd, tmp, 0);
		goto out;
	}
#endif
	/* The rename replaces whatever non-directory was in the block's
	 * place (has() said it is no usable block). */
	if (close(fd) < 0 || renameat(dfd, tmp, dfd, rel + 3) < 0) {
		rc = io_error(d, "cannot store", rel);
		unlinkat(dfd, tmp, 0);
		goto out;
	}
#ifndef HAVE_SYNCFS
	if (fsync(dfd) < 0) {
		rc = io_error(d, "cannot sync", rel);
		goto out;
	}
#endif
	rc = ERIS_OK;
out:
	close(dfd);
	return rc;
}

static int dir_flush(eris_store_backend *b)
{
#ifdef HAVE_SYNCFS
	dir_store *d = (dir_store *)b;

	if (syncfs(d->root_fd) < 0)
		return io_error(d, "cannot sync", "");
#else
	(void)b; /* every put synced its block */
#endif
	return ERIS_OK;
}

static int dir_compact(eris_store_backend *b, unsigned flags,
		       void (*progress)(uint64_t done, uint64_t total,
					void *payload),
		       void *payload)
{
	(void)b;
	(void)flags;
	(void)progress;
	(void)payload;
	return ERIS_OK;
}

/* unlinkat relative to XX opened without following links: only an entry
 * inside the store is ever removed (a link itself, never its target). */
static int dir_remove(eris_store_backend *b, const uint8_t *ref)
{
	dir_store *d = (dir_store *)b;
	char rel[REL_LEN + 1];
	int dfd, rc;

	rel_path(rel, ref);
	rc = open_parent(d, rel, &dfd);
	if (rc == ERIS_ENOTFOUND)
		return ERIS_OK;
	if (rc < 0)
		return rc == ERIS_EMISMATCH
			       ? eris_error_set(ERIS_ERROR,
						"dir store %s: cannot remove %s: "
						"%.2s is not a plain directory",
						d->root, rel, rel)
			       : rc;
	rc = ERIS_OK;
	if (unlinkat(dfd, rel + 3, 0) < 0 && errno != ENOENT)
		rc = io_error(d, "cannot remove", rel);
	close(dfd);
	return rc;
}

static int is_base32_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= '2' && c <= '7');
}

/* Open `name` under directory `at` for listing, never through a link;
 * NULL with errno set. */
static DIR *open_listing(int at, const char *name)
{
	int fd = openat(at, name,
			O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *dir;

	if (fd < 0)
		return NULL;
	dir = fdopendir(fd);
	if (dir == NULL)
		close(fd);
	return dir;
}

/* List the blocks of subdirectory `sub` (two base32 characters). */
static int foreach_in(dir_store *d, const char *sub,
		      int (*cb)(const uint8_t ref[ERIS_REF_BYTES], size_t len,
				void *payload),
		      void *payload)
{
	DIR *dir = open_listing(d->root_fd, sub);
	struct dirent *e;
	int rc = ERIS_OK;

	if (dir == NULL) {
		if (errno == ENOENT) /* removed meanwhile */
			return ERIS_OK;
		if (errno == ENOTDIR || errno == ELOOP) {
			eris__warn("dir store %s: skipped %s: not a plain "
				   "directory",
				   d->root, sub);
			return ERIS_OK;
		}
		return io_error(d, "cannot list", sub);
	}
	for (;;) {
		uint8_t ref[ERIS_REF_BYTES];
		struct stat st;
		size_t k;

		errno = 0;
		e = readdir(dir);
		if (e == NULL) {
			if (errno != 0)
				rc = io_error(d, "cannot list", sub);
			break;
		}
		if (strlen(e->d_name) != ERIS_REF_BASE32_LEN ||
		    e->d_name[0] != sub[0] || e->d_name[1] != sub[1])
			continue;
		for (k = 0; k < ERIS_REF_BASE32_LEN; k++)
			if (!is_base32_char(e->d_name[k]))
				break;
		/* The characters are valid; only non-zero filler bits in the
		 * last one can still make it a non-reference. */
		if (k < ERIS_REF_BASE32_LEN ||
		    eris_base32_decode(ref, ERIS_REF_BYTES, e->d_name,
				       ERIS_REF_BASE32_LEN) < 0)
			continue;
		if (fstatat(dirfd(dir), e->d_name, &st, AT_SYMLINK_NOFOLLOW) <
		    0) {
			if (errno == ENOENT)
				continue; /* removed meanwhile */
			rc = io_error(d, "cannot stat", e->d_name);
			break;
		}
		if (!S_ISREG(st.st_mode)) {
			eris__warn("dir store %s: skipped %s/%s: %s", d->root,
				   sub, e->d_name, file_kind(st.st_mode));
			continue;
		}
		rc = cb(ref, (size_t)st.st_size, payload);
		if (rc != 0)
			break;
	}
	closedir(dir);
	return rc;
}

static int dir_foreach(eris_store_backend *b,
		       int (*cb)(const uint8_t ref[ERIS_REF_BYTES], size_t len,
				 void *payload),
		       void *payload)
{
	dir_store *d = (dir_store *)b;
	DIR *root = open_listing(d->root_fd, ".");
	struct dirent *e;
	int rc = ERIS_OK;

	if (root == NULL)
		return io_error(d, "cannot list", ".");
	for (;;) {
		errno = 0;
		e = readdir(root);
		if (e == NULL) {
			if (errno != 0)
				rc = io_error(d, "cannot list", ".");
			break;
		}
		if (strlen(e->d_name) != 2 || !is_base32_char(e->d_name[0]) ||
		    !is_base32_char(e->d_name[1]))
			continue;
		rc = foreach_in(d, e->d_name, cb, payload);
		if (rc != 0)
			break;
	}
	closedir(root);
	return rc;
}

/* ---- pins -------------------------------------------------------------- */

#define PINS_DIR "pins"
/* A pin file is three short lines; anything longer is not one. */
#define PIN_FILE_MAX 512

/* Open PATH/pins (created if `create`) without following a link; -1 with
 * errno set. */
static int open_pins(const dir_store *d, int create)
{
	if (create && mkdirat(d->root_fd, PINS_DIR, 0755) < 0 &&
	    errno != EEXIST)
		return -1;
	return open_sub(d, PINS_DIR);
}

static int dir_pin_add(eris_store_backend *b, const eris_pin *pin,
		       unsigned flags)
{
	static atomic_uint counter;
	dir_store *d = (dir_store *)b;
	char tmp[64], text[PIN_FILE_MAX];
	int pfd, fd, n, rc = ERIS_OK;

	/* The blocks first: a pin must not survive a crash they do not. */
	if ((rc = dir_flush(b)) < 0)
		return rc;
	pfd = open_pins(d, 1);
	if (pfd < 0)
		return io_error(d, "cannot open", PINS_DIR);
	n = snprintf(text, sizeof(text), "%s\n%llu\n%lld\n", pin->urn,
		     (unsigned long long)pin->size, (long long)pin->time);
	snprintf(tmp, sizeof(tmp), ".pin-tmp-%ld-%u", (long)getpid(),
		 atomic_fetch_add(&counter, 1));
	fd = openat(d->root_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
		    0644);
	if (fd < 0) {
		rc = io_error(d, "cannot create", tmp);
		goto out;
	}
	if (write_all(fd, (const uint8_t *)text, (size_t)n) < 0 ||
	    fsync(fd) < 0) {
		rc = io_error(d, "cannot write", tmp);
		close(fd);
		goto out_unlink;
	}
	if (close(fd) < 0) {
		rc = io_error(d, "cannot write", tmp);
		goto out_unlink;
	}
	if (flags & ERIS_PIN_REPLACE) {
		if (renameat(d->root_fd, tmp, pfd, pin->name) < 0)
			rc = io_error(d, "cannot store pin", pin->name);
		else
			goto synced;
	} else if (linkat(d->root_fd, tmp, pfd, pin->name, 0) < 0) {
		rc = errno == EEXIST
			     ? eris_error_set(ERIS_EEXIST, "pin '%s' exists",
					      pin->name)
			     : io_error(d, "cannot store pin", pin->name);
	}
out_unlink:
	unlinkat(d->root_fd, tmp, 0);
	if (rc < 0)
		goto out;
synced:
	if (fsync(pfd) < 0)
		rc = io_error(d, "cannot sync", PINS_DIR);
out:
	close(pfd);
	return rc;
}

static int dir_pin_remove(eris_store_backend *b, const char *name)
{
	dir_store *d = (dir_store *)b;
	int pfd = open_pins(d, 0), rc = ERIS_OK;

	if (pfd < 0 && errno == ENOENT)
		return eris_error_set(ERIS_ENOTFOUND, "no pin named '%s'",
				      name);
	if (pfd < 0)
		return io_error(d, "cannot open", PINS_DIR);
	if (unlinkat(pfd, name, 0) < 0)
		rc = errno == ENOENT ? eris_error_set(ERIS_ENOTFOUND,
						      "no pin named '%s'", name)
				     : io_error(d, "cannot remove pin", name);
	else if (fsync(pfd) < 0)
		rc = io_error(d, "cannot sync", PINS_DIR);
	close(pfd);
	return rc;
}

typedef struct {
	char *name;
	char urn[ERIS_URN_BUFSIZE];
	uint64_t size;
	int64_t time;
} dir_pin;

/* Parse "URN\nSIZE\nTIME\n" (text NUL-terminated); 0 or -1. */
static int parse_pin(dir_pin *p, char *text)
{
	char *urn = text, *size, *time, *end;

	size = strchr(urn, '\n');
	if (size == NULL || (size_t)(size - urn) >= sizeof(p->urn) ||
	    size == urn)
		return -1;
	*size++ = '\0';
	time = strchr(size, '\n');
	if (time == NULL || time == size || *size < '0' || *size > '9')
		return -1;
	*time++ = '\0';
	errno = 0;
	p->size = strtoull(size, &end, 10);
	if (*end != '\0' || errno != 0)
		return -1;
	if (*time == '\0' || (*time != '-' && (*time < '0' || *time > '9')))
		return -1;
	p->time = strtoll(time, &end, 10);
	if (strcmp(end, "\n") != 0 || errno != 0)
		return -1;
	memcpy(p->urn, urn, strlen(urn) + 1);
	return 0;
}

/* Read pin file `name` of pins/ into *p; an error names the file. */
static int read_pin(const dir_store *d, int pfd, const char *name, dir_pin *p)
{
	char text[PIN_FILE_MAX + 1];
	ssize_t n = 0, got;
	int fd = openat(pfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
					   O_CLOEXEC);
	struct stat st;

	if (fd < 0)
		return errno == ENOENT ? ERIS_ENOTFOUND /* removed meanwhile */
				       : io_error(d, "cannot open pin", name);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return eris_error_set(ERIS_ERROR,
				      "dir store %s: pins/%s is not a regular "
				      "file",
				      d->root, name);
	}
	while ((got = read(fd, text + n, (size_t)(PIN_FILE_MAX + 1 - n))) > 0)
		n += got;
	close(fd);
	if (got < 0)
		return io_error(d, "cannot read pin", name);
	text[n] = '\0';
	if (n > PIN_FILE_MAX || memchr(text, '\0', (size_t)n) != NULL ||
	    parse_pin(p, text) < 0)
		return eris_error_set(ERIS_ERROR,
				      "dir store %s: malformed pin file "
				      "pins/%s (expected three lines: URN, "
				      "size, time)",
				      d->root, name);
	return ERIS_OK;
}

/* Read every pin first, then call back: a malformed or unreadable pin
 * fails the listing before any callback, so gc never runs on part of
 * the pins. */
static int dir_pin_foreach(eris_store_backend *b,
			   int (*cb)(const eris_pin *pin, void *payload),
			   void *payload)
{
	dir_store *d = (dir_store *)b;
	dir_pin *pins = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	DIR *dir;
	int rc = ERIS_OK;

	dir = open_listing(d->root_fd, PINS_DIR);
	if (dir == NULL)
		return errno == ENOENT ? ERIS_OK
				       : io_error(d, "cannot list", PINS_DIR);
	for (;;) {
		errno = 0;
		e = readdir(dir);
		if (e == NULL) {
			if (errno != 0)
				rc = io_error(d, "cannot list", PINS_DIR);
			break;
		}
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (n == cap) {
			size_t c = cap ? cap * 2 : 16;
			dir_pin *v = eris__malloc(c * sizeof(*v));

			if (v == NULL) {
				rc = eris_error_set(ERIS_ENOMEM,
						    "out of memory");
				break;
			}
			if (n)
				memcpy(v, pins, n * sizeof(*v));
			eris__free(pins);
			pins = v;
			cap = c;
		}
		rc = read_pin(d, dirfd(dir), e->d_name, &pins[n]);
		if (rc == ERIS_ENOTFOUND) {
			rc = ERIS_OK;
			continue;
		}
		if (rc < 0)
			break;
		pins[n].name = eris__malloc(strlen(e->d_name) + 1);
		if (pins[n].name == NULL) {
			rc = eris_error_set(ERIS_ENOMEM, "out of memory");
			break;
		}
		memcpy(pins[n].name, e->d_name, strlen(e->d_name) + 1);
		n++;
	}
	closedir(dir);
	for (size_t i = 0; i < n && rc == ERIS_OK; i++) {
		eris_pin p = { pins[i].name, pins[i].urn, pins[i].size,
			       pins[i].time };

		rc = cb(&p, payload);
	}
	for (size_t i = 0; i < n; i++)
		eris__free(pins[i].name);
	eris__free(pins);
	return rc;
}

/* flock() on the root directory itself, opened anew so that two handles
 * of one process exclude each other too: no lock file in the tree. */
static int dir_lock(eris_store_backend *b, int mode)
{
	dir_store *d = (dir_store *)b;
	int rc;

	if (mode == 0) {
		if (d->lock_fd >= 0)
			close(d->lock_fd); /* releases the flock */
		d->lock_fd = -1;
		return ERIS_OK;
	}
	d->lock_fd = openat(d->root_fd, ".",
			    O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (d->lock_fd < 0)
		return io_error(d, "cannot open", ".");
	do
		rc = flock(d->lock_fd,
			   mode == ERIS_LOCK_EXCLUSIVE ? LOCK_EX : LOCK_SH);
	while (rc < 0 && errno == EINTR);
	if (rc < 0) {
		rc = io_error(d, "cannot lock", ".");
		close(d->lock_fd);
		d->lock_fd = -1;
		return rc;
	}
	return ERIS_OK;
}

static void dir_free(eris_store_backend *b)
{
	dir_store *d = (dir_store *)b;

	if (d->root_fd >= 0)
		close(d->root_fd);
	if (d->lock_fd >= 0)
		close(d->lock_fd);
	eris__dir_batch_free(atomic_load(&d->batch));
	eris__free(d->root);
	eris__free(d);
}

/* mkdir -p */
static int make_dirs(const char *path)
{
	char buf[4096];
	size_t n = strlen(path);

	if (n >= sizeof(buf))
		return -1;
	memcpy(buf, path, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		buf[i] = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return -1;
		buf[i] = path[i];
	}
	return 0;
}

int eris_store_new_dir(eris_store **out, const char *path, int create)
{
	dir_store *d;
	size_t n;

	*out = NULL;
	if (path == NULL || path[0] == '\0')
		return eris_error_set(ERIS_ESTORE, "empty directory path");
	if (create && make_dirs(path) < 0)
		return eris_error_set(ERIS_ESTORE,
				      "cannot create store directory %s: %s",
				      path, strerror(errno));
	d = eris__calloc(1, sizeof(*d));
	if (d == NULL)
		return eris_error_set(ERIS_ENOMEM, "out of memory");
	n = strlen(path);
	d->root = eris__malloc(n + 1);
	if (d->root == NULL) {
		eris__free(d);
		return eris_error_set(ERIS_ENOMEM, "out of memory");
	}
	memcpy(d->root, path, n + 1);
	d->lock_fd = -1;
	d->root_fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (d->root_fd < 0) {
		int rc = eris_error_set(ERIS_ESTORE,
					"cannot open store directory %s: %s",
					path, strerror(errno));
		eris__free(d->root);
		eris__free(d);
		return rc;
	}
	d->parent.version = ERIS_STORE_BACKEND_VERSION;
	d->parent.get = dir_get;
	d->parent.put = dir_put;
	d->parent.has = dir_has;
	d->parent.flush = dir_flush;
	d->parent.free = dir_free;
	d->parent.foreach = dir_foreach;
	d->parent.remove = dir_remove;
	d->parent.compact = dir_compact;
	d->parent.pin_add = dir_pin_add;
	d->parent.pin_remove = dir_pin_remove;
	d->parent.pin_foreach = dir_pin_foreach;
	d->parent.lock = dir_lock;
#ifdef HAVE_OPENAT2
	d->parent.get_cached = dir_get_cached;
#endif
	return eris_store_new_from_backend(out, &d->parent);
}
