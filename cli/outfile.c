/*
 * outfile.c - see outfile.h: open a user-named output either atomically
 * (a temporary file renamed over a regular file, or to a new name) or in
 * place (devices, FIFOs, /proc/self/fd/N of a pipe), following symbolic
 * links by hand so that a link stays a link.
 *
 * Why by hand: rename() replaces a symbolic link itself, and open() with
 * O_TRUNC would write a regular file non-atomically, so the end of the
 * chain has to be known as a name. But stat() is asked first: the
 * "links" in /proc/self/fd read as "pipe:[1234]", which names nothing,
 * while stat() through them sees the pipe; a regular file found by stat()
 * must then be the very file at the end of the chain (same device and
 * inode), or the link is refused.
 */
#include "outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>
#include <unistd.h>

/* Longest chain of symbolic links followed (Linux's own limit). */
#define OUTFILE_MAX_LINKS 40

/* Longest part of the target's name kept in the temporary file's name,
 * so that ".NAME.XXXXXX" stays below NAME_MAX. */
#define TEMP_BASE_MAX 200

#if defined(__GNUC__) || defined(__clang__)
__attribute__((format(printf, 3, 4)))
#endif
static int fail(outfile *f, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(f->error, sizeof(f->error), fmt, ap);
	va_end(ap);
	errno = err;
	return -1;
}

/* The failure of a system call on `path`: "WHAT 'PATH': strerror". */
static int fail_sys(outfile *f, const char *what, const char *path)
{
	int err = errno;

	return fail(f, err, "%s '%s': %s", what, path, strerror(err));
}

/* Free what `f` holds (the fd must be closed) and mark it released;
 * errno is kept. */
static void release(outfile *f)
{
	int err = errno;

	f->temp_live = 0;
	free(f->temp);
	free(f->target);
	f->temp = NULL;
	f->target = NULL;
	f->fd = -1;
	f->in_place = 0;
	f->replacing = 0;
	f->active = 0;
	errno = err;
}

/* The length of the directory part of `path`, its final '/' included. */
static size_t dir_length(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? (size_t)(slash - path) + 1 : 0;
}

/* `link_text` read from the link `link`, as a path (malloc'd): itself if
 * absolute, else relative to the directory holding `link`. */
static char *link_destination(const char *link, const char *link_text)
{
	size_t dir_len = link_text[0] == '/' ? 0 : dir_length(link);
	size_t text_len = strlen(link_text);
	char *p = malloc(dir_len + text_len + 1);

	if (p != NULL) {
		memcpy(p, link, dir_len);
		memcpy(p + dir_len, link_text, text_len + 1);
	}
	return p;
}

/* The end of the chain of symbolic links starting at `path` (malloc'd),
 * which may not exist (a dangling link); NULL with errno set on failure
 * (ELOOP after OUTFILE_MAX_LINKS links). */
static char *follow_links(const char *path)
{
	char *cur = strdup(path), *next;
	char text[PATH_MAX];
	struct stat st;
	ssize_t n;
	int err;

	for (int hops = 0; cur != NULL; hops++) {
		if (lstat(cur, &st) != 0) {
			if (errno == ENOENT)
				return cur;
			break;
		}
		if (!S_ISLNK(st.st_mode))
			return cur;
		if (hops == OUTFILE_MAX_LINKS) {
			errno = ELOOP;
			break;
		}
		n = readlink(cur, text, sizeof(text));
		if (n < 0)
			break;
		if ((size_t)n == sizeof(text)) {
			errno = ENAMETOOLONG;
			break;
		}
		text[n] = '\0';
		next = link_destination(cur, text);
		free(cur);
		cur = next;
	}
	err = cur ? errno : ENOMEM;
	free(cur);
	errno = err;
	return NULL;
}

/* Atomic: a temporary file beside `target` (taken over by `f`), which
 * replaces the regular file `old` or, if NULL, makes a new one. */
static int open_atomic(outfile *f, char *target, const struct stat *old,
		       int mode)
{
	size_t dir_len = dir_length(target);
	const char *base = target + dir_len;
	size_t base_len = strlen(base);
	mode_t mask;

	f->target = target;
	if (base_len == 0) {
		fail(f, EISDIR, "cannot write to '%s': not a file name",
		     target);
		release(f);
		return -1;
	}
	if (old != NULL) {
		f->replacing = 1;
		f->old = *old;
	} else if (mode >= 0) {
		f->new_mode = (mode_t)mode & 07777;
	} else {
		mask = umask(0);
		umask(mask);
		f->new_mode = 0666 & ~mask;
	}
	if (base_len > TEMP_BASE_MAX)
		base_len = TEMP_BASE_MAX;
	f->temp = malloc(dir_len + base_len + 9);
	if (f->temp == NULL) {
		release(f);
		return fail(f, ENOMEM, "out of memory");
	}
	memcpy(f->temp, target, dir_len);
	sprintf(f->temp + dir_len, ".%.*s.XXXXXX", (int)base_len, base);
	/* mkstemp: O_EXCL and mode 0600 until outfile_commit sets the
	 * final mode. */
	f->fd = mkstemp(f->temp);
	if (f->fd < 0) {
		fail_sys(f, "cannot create a temporary file for", target);
		release(f);
		return -1;
	}
	f->temp_live = 1;
	fcntl(f->fd, F_SETFD, FD_CLOEXEC);
	f->active = 1;
	return 0;
}

/* In place: `path`, which is `st` (following links) and not a regular
 * file. */
static int open_in_place(outfile *f, const char *path, const struct stat *st)
{
	struct stat now;
	int fd;

	if (S_ISDIR(st->st_mode))
		return fail(f, EISDIR, "cannot write to '%s': is a directory",
			    path);
	if (S_ISSOCK(st->st_mode))
		return fail(f, ENXIO, "cannot write to '%s': is a socket",
			    path);
	do
		fd = open(path, O_WRONLY | O_NOCTTY | O_CLOEXEC);
	while (fd < 0 && errno == EINTR);
	if (fd < 0)
		return fail_sys(f, "cannot open", path);
	/* Without O_TRUNC a regular file that took the name meanwhile
	 * would be overwritten partly: refuse it. */
	if (fstat(fd, &now) != 0 || S_ISREG(now.st_mode) ||
	    S_ISDIR(now.st_mode)) {
		close(fd);
		return fail(f, EAGAIN, "cannot write to '%s': it changed "
				       "while being opened", path);
	}
	f->target = strdup(path);
	if (f->target == NULL) {
		close(fd);
		return fail(f, ENOMEM, "out of memory");
	}
	f->fd = fd;
	f->in_place = 1;
	f->old = now;
	f->active = 1;
	return 0;
}

int outfile_open(outfile *f, const char *path, int mode)
{
	const char *slash = strrchr(path, '/');
	struct stat st, end_st;
	char *target;
	int exists;

	memset(f, 0, sizeof(*f));
	f->fd = -1;
	if ((slash ? slash[1] : path[0]) == '\0')
		return fail(f, EISDIR, "cannot write to '%s': not a file "
				       "name", path);
	if (lstat(path, &st) != 0) {
		if (errno != ENOENT)
			return fail_sys(f, "cannot write to", path);
		target = strdup(path);
		return target ? open_atomic(f, target, NULL, mode)
			      : fail(f, ENOMEM, "out of memory");
	}
	if (S_ISREG(st.st_mode)) {
		target = strdup(path);
		return target ? open_atomic(f, target, &st, mode)
			      : fail(f, ENOMEM, "out of memory");
	}
	if (!S_ISLNK(st.st_mode))
		return open_in_place(f, path, &st);

	/* A symbolic link: what does it lead to? */
	exists = stat(path, &st) == 0;
	if (!exists && errno != ENOENT)
		return fail_sys(f, "cannot write to", path);
	if (exists && !S_ISREG(st.st_mode))
		return open_in_place(f, path, &st);
	target = follow_links(path);
	if (target == NULL)
		return fail_sys(f, "cannot follow the symbolic link", path);
	if (exists && (lstat(target, &end_st) != 0 ||
		       end_st.st_dev != st.st_dev ||
		       end_st.st_ino != st.st_ino)) {
		free(target);
		return fail(f, EINVAL, "cannot write to '%s': the symbolic "
				       "link does not name its file by a path",
			    path);
	}
	return open_atomic(f, target, exists ? &st : NULL, mode);
}

int outfile_write(outfile *f, const void *buf, size_t len)
{
	const unsigned char *p = buf;

	while (len > 0) {
		ssize_t n = write(f->fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return fail_sys(f, "cannot write", f->target);
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * The mode for the temporary file replacing `f->old`: the old mode, with
 * the old owner and group given to the file where allowed (root may; an
 * owner may pass the file to one of its groups). A set-ID bit whose owner
 * or group could not be kept is dropped. -1 if the file cannot be
 * examined.
 */
static int kept_mode(outfile *f, mode_t *mode)
{
	struct stat now;

	*mode = f->old.st_mode & 07777;
	if (fstat(f->fd, &now) != 0)
		return -1;
	if (now.st_uid != f->old.st_uid || now.st_gid != f->old.st_gid) {
		if (fchown(f->fd, f->old.st_uid, f->old.st_gid) != 0 &&
		    fchown(f->fd, (uid_t)-1, f->old.st_gid) != 0) {
			/* Neither: the file stays ours. */
		}
		if (fstat(f->fd, &now) != 0)
			return -1;
	}
	if (now.st_uid != f->old.st_uid)
		*mode &= ~(mode_t)S_ISUID;
	if (now.st_gid != f->old.st_gid)
		*mode &= ~(mode_t)S_ISGID;
	return 0;
}

/* Room for one attribute's value (Linux's own limit, XATTR_SIZE_MAX). */
#define XATTR_VALUE_MAX 65536

/*
 * Copy every extended attribute of the replaced file (`f->target`, the
 * end of the links, which is `f->old`) to the temporary file: user.*,
 * security.* (file capabilities, security labels), trusted.* where the
 * process sees them, and POSIX ACLs (system.posix_acl_*). Called after
 * fchown and fchmod, since chown clears security.capability. An
 * attribute the new file already has with the same value (a label it
 * inherited, say) is left alone. Any other attribute that cannot be set
 * fails the whole output: the file is not replaced rather than replaced
 * without its capabilities or label.
 */
static int copy_xattrs(outfile *f)
{
	char *names = NULL, *value = NULL, *cur = NULL;
	ssize_t len, n, have;
	int rc = -1;

	len = llistxattr(f->target, NULL, 0);
	if (len < 0) {
		if (errno == ENOTSUP)
			return 0; /* the file system has none */
		return fail_sys(f, "cannot list the extended attributes of",
				f->target);
	}
	if (len == 0)
		return 0;
	names = malloc((size_t)len);
	value = malloc(XATTR_VALUE_MAX);
	cur = malloc(XATTR_VALUE_MAX);
	if (names == NULL || value == NULL || cur == NULL) {
		fail(f, ENOMEM, "out of memory");
		goto out;
	}
	len = llistxattr(f->target, names, (size_t)len);
	if (len < 0) {
		fail_sys(f, "cannot list the extended attributes of",
			 f->target);
		goto out;
	}
	for (char *name = names; name < names + len;
	     name += strlen(name) + 1) {
		n = lgetxattr(f->target, name, value, XATTR_VALUE_MAX);
		if (n < 0 && errno == ENODATA)
			continue; /* removed meanwhile */
		if (n < 0) {
			int err = errno;

			fail(f, err, "cannot read the extended attribute %s "
				     "of '%s': %s", name, f->target,
			     strerror(err));
			goto out;
		}
		have = fgetxattr(f->fd, name, cur, XATTR_VALUE_MAX);
		if (have == n && memcmp(cur, value, (size_t)n) == 0)
			continue;
		if (fsetxattr(f->fd, name, value, (size_t)n, 0) != 0) {
			int err = errno;

			fail(f, err, "cannot keep the extended attribute %s "
				     "of '%s': %s", name, f->target,
			     strerror(err));
			goto out;
		}
	}
	rc = 0;
out:
	free(names);
	free(value);
	free(cur);
	return rc;
}

/* Make the rename durable; a failure here changes nothing, so it is not
 * reported. */
static void sync_directory(const char *target)
{
	size_t dir_len = dir_length(target);
	char *dir = dir_len ? strndup(target, dir_len) : strdup(".");
	int fd;

	if (dir == NULL)
		return;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	free(dir);
}

int outfile_commit(outfile *f)
{
	mode_t mode = f->new_mode;
	int err;

	if (!f->active)
		return fail(f, EBADF, "no output is open");
	if (f->in_place) {
		int rc = 0;

		/* Only a block device holds on to what it is given; fsync
		 * on a pipe or terminal fails with EINVAL. */
		if (S_ISBLK(f->old.st_mode) && fsync(f->fd) != 0)
			rc = fail_sys(f, "cannot write", f->target);
		if (close(f->fd) != 0 && rc == 0)
			rc = fail_sys(f, "cannot write", f->target);
		release(f);
		return rc;
	}
	if (f->replacing && kept_mode(f, &mode) != 0) {
		fail_sys(f, "cannot examine a temporary file for", f->target);
		goto failed;
	}
	if (fchmod(f->fd, mode) != 0) {
		fail_sys(f, "cannot set the mode of", f->temp);
		goto failed;
	}
	if (f->replacing && copy_xattrs(f) != 0)
		goto failed;
	if (fsync(f->fd) != 0) {
		fail_sys(f, "cannot write", f->target);
		goto failed;
	}
	err = close(f->fd);
	f->fd = -1;
	if (err != 0) {
		fail_sys(f, "cannot write", f->target);
		goto failed;
	}
	if (rename(f->temp, f->target) != 0) {
		err = errno;
		fail(f, err, "cannot rename '%s' to '%s': %s", f->temp,
		     f->target, strerror(err));
		goto failed;
	}
	f->temp_live = 0;
	sync_directory(f->target);
	release(f);
	return 0;
failed:
	err = errno;
	outfile_abort(f);
	errno = err;
	return -1;
}

void outfile_abort(outfile *f)
{
	if (!f->active)
		return;
	if (f->fd >= 0)
		close(f->fd);
	if (f->temp_live)
		unlink(f->temp);
	release(f);
}
