/*
 * dir.c - the directory store: one file per block at ROOT/XX/REF, REF the
 * 52-character base32 of the reference and XX its first two characters.
 *
 * The layout is a contract with other tools (web servers serve it as is).
 * A put writes a uniquely named temporary file in the same directory and
 * renames it into place, so a reader never sees a partial block; a block
 * that exists already is left alone. flush() syncs the file system.
 *
 * foreach walks the two-character subdirectories and reports only files
 * whose names are canonical 52-character base32 references filed under
 * the right subdirectory, so temporary files (".tmp-*") and anything
 * else a user drops in the tree are ignored; the length reported is the
 * file's size, unchecked (fsck compares it). remove unlinks the file and
 * leaves the subdirectory, which a concurrent put may be about to use.
 */
#define _GNU_SOURCE /* syncfs */
#include "../internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct {
	eris_store_backend parent;
	char *root;
	int root_fd;
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

static int dir_get(eris_store_backend *b, const uint8_t *ref, uint8_t *buf,
		   size_t buf_size, size_t *out_len)
{
	dir_store *d = (dir_store *)b;
	char rel[REL_LEN + 1];
	struct stat st;
	size_t done = 0;
	int fd, rc = ERIS_OK;

	rel_path(rel, ref);
	fd = openat(d->root_fd, rel, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? ERIS_ENOTFOUND
				       : io_error(d, "cannot open", rel);
	if (fstat(fd, &st) < 0) {
		rc = io_error(d, "cannot stat", rel);
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

static int dir_has(eris_store_backend *b, const uint8_t *ref)
{
	dir_store *d = (dir_store *)b;
	char rel[REL_LEN + 1];
	struct stat st;

	rel_path(rel, ref);
	if (fstatat(d->root_fd, rel, &st, 0) == 0)
		return 1;
	return errno == ENOENT ? 0 : io_error(d, "cannot stat", rel);
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
	char rel[REL_LEN + 1], tmp[REL_LEN + 64];
	int fd, has;

	has = dir_has(b, ref);
	if (has != 0)
		return has < 0 ? has : ERIS_OK;
	rel_path(rel, ref);
	rel[2] = '\0';
	if (mkdirat(d->root_fd, rel, 0755) < 0 && errno != EEXIST)
		return io_error(d, "cannot create directory", rel);
	rel[2] = '/';
	snprintf(tmp, sizeof(tmp), "%.2s/.tmp-%ld-%u", rel, (long)getpid(),
		 atomic_fetch_add(&counter, 1));
	/* Blocks never change, so they are created read-only. */
	fd = openat(d->root_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
		    0444);
	if (fd < 0)
		return io_error(d, "cannot create", tmp);
	if (write_all(fd, block, len) < 0) {
		int rc = io_error(d, "cannot write", tmp);

		close(fd);
		unlinkat(d->root_fd, tmp, 0);
		return rc;
	}
	if (close(fd) < 0 || renameat(d->root_fd, tmp, d->root_fd, rel) < 0) {
		int rc = io_error(d, "cannot store", rel);

		unlinkat(d->root_fd, tmp, 0);
		return rc;
	}
	return ERIS_OK;
}

static int dir_flush(eris_store_backend *b)
{
	dir_store *d = (dir_store *)b;

	if (syncfs(d->root_fd) < 0)
		return io_error(d, "cannot sync", "");
	return ERIS_OK;
}

static int dir_remove(eris_store_backend *b, const uint8_t *ref)
{
	dir_store *d = (dir_store *)b;
	char rel[REL_LEN + 1];

	rel_path(rel, ref);
	if (unlinkat(d->root_fd, rel, 0) < 0 && errno != ENOENT)
		return io_error(d, "cannot remove", rel);
	return ERIS_OK;
}

static int is_base32_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= '2' && c <= '7');
}

/* Open `name` under directory `at` for listing; NULL with errno set. */
static DIR *open_listing(int at, const char *name)
{
	int fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
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
		/* Not a directory after all, or removed meanwhile. */
		if (errno == ENOTDIR || errno == ENOENT)
			return ERIS_OK;
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
		if (!S_ISREG(st.st_mode))
			continue;
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

static void dir_free(eris_store_backend *b)
{
	dir_store *d = (dir_store *)b;

	if (d->root_fd >= 0)
		close(d->root_fd);
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
	return eris_store_new_from_backend(out, &d->parent);
}
