/*
 * fs_walk.c - eris_fs_put_tree(): a directory tree into a store as an
 * ERIS-FS image.
 *
 * Two phases. The walk lists the tree (lstat only, never following a
 * link): symlinks go straight into the index, regular files into a list.
 * Then the files are encoded, by `threads` workers taking the next file
 * from a shared counter; each file's capability lands in its own slot,
 * so the result does not depend on which worker took what. The index
 * sorts its entries itself, so neither readdir order nor timing matters.
 */
#define _GNU_SOURCE
#include "internal.h"

#include <eris/fs.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define READ_CHUNK ((size_t)1 << 20)

struct walk_file {
	char *rel;   /* path below the root, '/'-joined */
	int exec;
	uint64_t size;
	eris_read_cap cap;
};

struct walk {
	const char *root;
	eris_fs_index *idx;
	struct walk_file *files;
	size_t n_files, alloc;
	uint64_t total_bytes;
	unsigned flags;
	const char *const *exclude; /* paths left out, NULL-terminated */
};

static int excluded(const struct walk *w, const char *rel)
{
	for (const char *const *x = w->exclude; x != NULL && *x != NULL; x++)
		if (strcmp(*x, rel) == 0)
			return 1;
	return 0;
}

/* Shared between the encoding workers. */
struct job {
	struct walk *w;
	eris_store *store;
	const eris_fs_put_options *opts;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	size_t next;          /* next file to take */
	size_t files_done;
	uint64_t bytes_done;
	int threaded;
	int rc;               /* first failure */
	char msg[512];        /* its message (messages are per thread) */
};

static char *join(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	char *s = malloc(la + lb + 2);

	if (s == NULL)
		return NULL;
	memcpy(s, a, la);
	s[la] = '/';
	memcpy(s + la + 1, b, lb + 1);
	return s;
}

static int add_file(struct walk *w, char *rel, const struct stat *st)
{
	struct walk_file *f;

	if (w->n_files == w->alloc) {
		size_t na = w->alloc ? w->alloc * 2 : 64;
		struct walk_file *nv = realloc(w->files, na * sizeof(*nv));

		if (nv == NULL)
			return eris_error_set(ERIS_ENOMEM, "out of memory");
		w->files = nv;
		w->alloc = na;
	}
	f = &w->files[w->n_files++];
	memset(f, 0, sizeof(*f));
	f->rel = rel;
	f->exec = (st->st_mode & (S_IXUSR | S_IXGRP | S_IXOTH)) != 0;
	f->size = (uint64_t)st->st_size;
	w->total_bytes += f->size;
	return ERIS_OK;
}

static int add_link(struct walk *w, int dirfd, const char *name,
		    const char *rel, const struct stat *st)
{
	size_t cap = st->st_size > 0 ? (size_t)st->st_size + 1 : 256;
	char *target;
	ssize_t n;
	int rc;

	for (;;) {
		target = malloc(cap);
		if (target == NULL)
			return eris_error_set(ERIS_ENOMEM, "out of memory");
		n = readlinkat(dirfd, name, target, cap);
		if (n < 0) {
			rc = eris_error_set(ERIS_ERROR, "%s/%s: %s", w->root,
					    rel, strerror(errno));
			free(target);
			return rc;
		}
		if ((size_t)n < cap)
			break;
		free(target);
		cap *= 2;
	}
	target[n] = '\0';
	rc = eris_fs_index_add_path(w->idx, rel, ERIS_FS_SYMLINK, NULL, target);
	free(target);
	return rc;
}

/* List directory `fd` (path `rel` below the root, "" for the root);
 * `*found` is set when it holds any file or link, however deep. */
static int walk_dir(struct walk *w, int fd, const char *rel, int *found)
{
	DIR *d = fdopendir(fd);
	struct dirent *de;
	int rc = ERIS_OK;

	*found = 0;
	if (d == NULL) {
		close(fd);
		return eris_error_set(ERIS_ERROR, "%s/%s: %s", w->root, rel,
				      strerror(errno));
	}
	for (;;) {
		struct stat st;
		char *child;

		errno = 0;
		de = readdir(d);
		if (de == NULL) {
			if (errno != 0)
				rc = eris_error_set(ERIS_ERROR, "%s/%s: %s",
						    w->root, rel,
						    strerror(errno));
			break;
		}
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		child = rel[0] ? join(rel, de->d_name) : strdup(de->d_name);
		if (child == NULL) {
			rc = eris_error_set(ERIS_ENOMEM, "out of memory");
			break;
		}
		if (excluded(w, child)) {
			free(child);
			continue;
		}
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			rc = eris_error_set(ERIS_ERROR, "%s/%s: %s", w->root,
					    child, strerror(errno));
			free(child);
			break;
		}
		if (S_ISDIR(st.st_mode)) {
			int sub = openat(dirfd(d), de->d_name,
					 O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
						 O_CLOEXEC);
			int sub_found = 0;

			if (sub < 0) {
				rc = eris_error_set(ERIS_ERROR, "%s/%s: %s",
						    w->root, child,
						    strerror(errno));
			} else {
				rc = walk_dir(w, sub, child, &sub_found);
				if (rc == ERIS_OK && !sub_found)
					eris__warn("%s/%s: empty directory not recorded (ERIS-FS cannot represent one)",
						   w->root, child);
				*found |= sub_found;
			}
			free(child);
		} else if (S_ISREG(st.st_mode)) {
			/* Check the name now, with the path in the message. */
			rc = eris__fs_path_check(child);
			rc = rc < 0 ? rc : add_file(w, child, &st);
			if (rc < 0)
				free(child);
			*found = 1;
		} else if (S_ISLNK(st.st_mode)) {
			rc = add_link(w, dirfd(d), de->d_name, child, &st);
			free(child);
			*found = 1;
		} else {
			rc = eris_error_set(ERIS_EINVAL,
					    "%s/%s: a %s; ERIS-FS holds only files, directories and symlinks",
					    w->root, child,
					    S_ISFIFO(st.st_mode) ? "FIFO"
					    : S_ISSOCK(st.st_mode) ? "socket"
					    : "device");
			free(child);
		}
		if (rc < 0)
			break;
	}
	closedir(d);
	return rc;
}

/* Record the first failure with its message; later ones are dropped. */
static void job_fail(struct job *j, int rc)
{
	pthread_mutex_lock(&j->lock);
	if (j->rc == ERIS_OK) {
		j->rc = rc;
		snprintf(j->msg, sizeof(j->msg), "%s", eris_error_last());
	}
	pthread_cond_broadcast(&j->cond);
	pthread_mutex_unlock(&j->lock);
}

static int job_failed(struct job *j)
{
	int rc;

	pthread_mutex_lock(&j->lock);
	rc = j->rc;
	pthread_mutex_unlock(&j->lock);
	return rc;
}

/* `bytes` more read; `file` 1 when a file is done. The progress callback
 * runs here only without worker threads (the calling thread's loop calls
 * it otherwise). */
static void job_progress(struct job *j, uint64_t bytes, int file)
{
	const eris_fs_put_options *o = j->opts;

	pthread_mutex_lock(&j->lock);
	j->bytes_done += bytes;
	j->files_done += (size_t)file;
	pthread_cond_broadcast(&j->cond);
	pthread_mutex_unlock(&j->lock);
	if (!j->threaded && o->progress != NULL)
		o->progress(j->bytes_done, j->w->total_bytes, j->files_done,
			    j->w->n_files, o->payload);
}

static int encode_file(struct job *j, struct walk_file *f, uint8_t *buf)
{
	const eris_fs_put_options *o = j->opts;
	eris_encode_options eo = ERIS_ENCODE_OPTIONS_INIT;
	eris_encoder *enc = NULL;
	struct stat st;
	uint64_t total = 0;
	char *path = join(j->w->root, f->rel);
	int fd, rc;

	if (path == NULL)
		return eris_error_set(ERIS_ENOMEM, "out of memory");
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		rc = fd >= 0 && !S_ISREG(st.st_mode)
			? eris_error_set(ERIS_EINVAL,
					 "%s: no longer a regular file", path)
			: eris_error_set(ERIS_ERROR, "%s: %s", path,
					 strerror(errno));
		goto out;
	}
	eo.block_size = o->block_size
		? o->block_size
		: (uint32_t)eris_block_size_for_length(f->size);
	eo.secret = o->secret;
	if ((rc = eris_encoder_new(&enc, j->store, &eo)) < 0)
		goto out;
	for (;;) {
		ssize_t n = read(fd, buf, READ_CHUNK);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = eris_error_set(ERIS_ERROR, "%s: %s", path,
					    strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		total += (uint64_t)n;
		if (total > f->size)
			break;
		if ((rc = eris_encoder_write(enc, buf, (size_t)n)) < 0)
			goto out;
		job_progress(j, (uint64_t)n, 0);
		if (job_failed(j) != ERIS_OK) {
			rc = ERIS_EFAILED;
			goto out;
		}
	}
	/* The block size was chosen from the size: a file that grew or
	 * shrank would give another image of the same tree later. */
	if (total != f->size) {
		rc = eris_error_set(ERIS_EINVAL,
				    "%s: changed size while read (%llu bytes, then %s%llu)",
				    path, (unsigned long long)f->size,
				    total > f->size ? "more than " : "",
				    (unsigned long long)total);
		goto out;
	}
	if ((rc = eris_encoder_finish(&f->cap, enc)) < 0)
		goto out;
	job_progress(j, 0, 1);
out:
	eris_encoder_free(enc);
	if (fd >= 0)
		close(fd);
	free(path);
	return rc;
}

static void *worker(void *arg)
{
	struct job *j = arg;
	uint8_t *buf = malloc(READ_CHUNK);

	if (buf == NULL) {
		job_fail(j, eris_error_set(ERIS_ENOMEM, "out of memory"));
		return NULL;
	}
	for (;;) {
		size_t i;
		int rc;

		pthread_mutex_lock(&j->lock);
		i = j->next++;
		rc = j->rc;
		pthread_mutex_unlock(&j->lock);
		if (rc != ERIS_OK || i >= j->w->n_files)
			break;
		rc = encode_file(j, &j->w->files[i], buf);
		if (rc < 0) {
			if (rc != ERIS_EFAILED)
				job_fail(j, rc);
			break;
		}
	}
	free(buf);
	return NULL;
}

/* Encode every listed file, on `threads` workers or on this thread. */
static int encode_files(struct walk *w, eris_store *store,
			const eris_fs_put_options *opts)
{
	struct job j;
	pthread_t tids[64];
	unsigned n = opts->threads > 1 ? opts->threads : 1, started = 0;

	if (n > 64)
		n = 64;
	if (n > w->n_files)
		n = w->n_files ? (unsigned)w->n_files : 1;
	memset(&j, 0, sizeof(j));
	j.w = w;
	j.store = store;
	j.opts = opts;
	j.threaded = n > 1;
	pthread_mutex_init(&j.lock, NULL);
	pthread_cond_init(&j.cond, NULL);
	if (!j.threaded) {
		worker(&j);
	} else {
		for (; started < n; started++)
			if (pthread_create(&tids[started], NULL, worker, &j) != 0)
				break;
		if (started == 0)
			job_fail(&j, eris_error_set(ERIS_ERROR,
						    "cannot start threads"));
		/* Report progress from this thread until all is done. */
		pthread_mutex_lock(&j.lock);
		while (j.rc == ERIS_OK && j.files_done < w->n_files) {
			uint64_t b = j.bytes_done;
			size_t f = j.files_done;

			pthread_mutex_unlock(&j.lock);
			if (opts->progress != NULL)
				opts->progress(b, w->total_bytes, f,
					       w->n_files, opts->payload);
			pthread_mutex_lock(&j.lock);
			if (j.rc == ERIS_OK && j.files_done < w->n_files &&
			    j.bytes_done == b && j.files_done == f)
				pthread_cond_wait(&j.cond, &j.lock);
		}
		pthread_mutex_unlock(&j.lock);
		for (unsigned i = 0; i < started; i++)
			pthread_join(tids[i], NULL);
		if (j.rc == ERIS_OK && opts->progress != NULL)
			opts->progress(j.bytes_done, w->total_bytes,
				       j.files_done, w->n_files,
				       opts->payload);
	}
	pthread_cond_destroy(&j.cond);
	pthread_mutex_destroy(&j.lock);
	if (j.rc != ERIS_OK)
		return eris_error_set(j.rc, "%s", j.msg);
	return ERIS_OK;
}

int eris_fs_put_tree(eris_read_cap *out, eris_store *store, const char *dir,
		     const eris_fs_put_options *opts)
{
	eris_fs_put_options defaults = ERIS_FS_PUT_OPTIONS_INIT;
	eris_encode_options eo = ERIS_ENCODE_OPTIONS_INIT;
	struct walk w;
	uint8_t *bytes = NULL;
	size_t len = 0;
	int fd, found, rc;

	if (out == NULL || dir == NULL)
		return eris_error_set(ERIS_EINVAL, "invalid argument");
	if (opts == NULL)
		opts = &defaults;
	if (opts->version != ERIS_FS_PUT_OPTIONS_VERSION)
		return eris_error_set(ERIS_EINVAL,
				      "unknown eris_fs_put_options version %u",
				      opts->version);
	if (opts->block_size != 0 && opts->block_size != ERIS_BLOCK_SIZE_1K &&
	    opts->block_size != ERIS_BLOCK_SIZE_32K)
		return eris_error_set(ERIS_EINVAL, "invalid block size %u",
				      (unsigned)opts->block_size);
	memset(&w, 0, sizeof(w));
	w.root = dir;
	w.flags = opts->flags;
	w.exclude = opts->exclude;
	if ((rc = eris_fs_index_new(&w.idx, opts->flags)) < 0)
		return rc;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		rc = eris_error_set(ERIS_ERROR, "%s: %s", dir, strerror(errno));
		goto out;
	}
	if ((rc = walk_dir(&w, fd, "", &found)) < 0)
		goto out;
	if ((rc = encode_files(&w, store, opts)) < 0)
		goto out;
	for (size_t i = 0; i < w.n_files; i++) {
		rc = eris_fs_index_add_path(w.idx, w.files[i].rel,
					    w.files[i].exec ? ERIS_FS_EXECUTABLE
							    : ERIS_FS_FILE,
					    &w.files[i].cap, NULL);
		if (rc < 0)
			goto out;
	}
	if ((rc = eris_fs_index_encode(&bytes, &len, w.idx)) < 0)
		goto out;
	eo.block_size = opts->block_size
		? opts->block_size
		: (uint32_t)eris_block_size_for_length(len);
	eo.secret = opts->secret;
	rc = eris_encode(out, store, &eo, bytes, len);
out:
	if (bytes != NULL) {
		eris_memzero(bytes, len);
		free(bytes);
	}
	for (size_t i = 0; i < w.n_files; i++) {
		free(w.files[i].rel);
		eris_memzero(&w.files[i].cap, sizeof(w.files[i].cap));
	}
	free(w.files);
	eris_fs_index_free(w.idx);
	return rc;
}
