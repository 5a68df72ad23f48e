/*
 * clirun.c - test support for running the built `eris` binary and
 * capturing what it did (see clirun.h): fork and exec with pipes for
 * standard input, output and error, polled together so that neither side
 * blocks; plus temporary directories, whole-file helpers and
 * deterministic test data.
 */
#define _XOPEN_SOURCE 700 /* nftw */
#include "clirun.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_ARGS 40

static const char *binary;

void clirun_set_binary(const char *path)
{
	binary = path;
}

const char *clirun_binary(void)
{
	return binary;
}

static void append(char **buf, size_t *len, const char *data, size_t n)
{
	*buf = realloc(*buf, *len + n + 1);
	ck_assert_ptr_nonnull(*buf);
	memcpy(*buf + *len, data, n);
	*len += n;
	(*buf)[*len] = '\0';
}

/*
 * Drop valgrind's notes about itself ("--PID-- ..." lines, such as its
 * warning about a system call it does not know, e.g. openat2 in
 * valgrind 3.19) from a wrapped run's standard error, so that tests
 * compare what the program wrote. Its error reports ("==PID== ...")
 * stay, and --error-exitcode fails the run anyway.
 */
static void drop_tool_notes(char *buf, size_t *len)
{
	size_t r = 0, w = 0;

	while (r < *len) {
		size_t end = r, d = r + 2;

		while (end < *len && buf[end] != '\n')
			end++;
		if (end < *len)
			end++; /* keep the newline with its line */
		while (d < end && buf[d] >= '0' && buf[d] <= '9')
			d++;
		if (!(buf[r] == '-' && r + 1 < end && buf[r + 1] == '-' &&
		      d > r + 2 && d + 1 < end && buf[d] == '-' &&
		      buf[d + 1] == '-')) {
			memmove(buf + w, buf + r, end - r);
			w += end - r;
		}
		r = end;
	}
	*len = w;
	buf[w] = '\0';
}

/* In the child: apply `env`, then redirect and exec. Never returns. */
static void child(const char *const *argv, const clirun_opts *o, int pin,
		  int pout, int perr)
{
	signal(SIGPIPE, SIG_DFL);
	for (size_t i = 0; o->env && o->env[i]; i++) {
		const char *eq = strchr(o->env[i], '=');

		if (eq == NULL) {
			unsetenv(o->env[i]);
		} else {
			char name[256];
			size_t n = (size_t)(eq - o->env[i]);

			if (n >= sizeof(name))
				_exit(127);
			memcpy(name, o->env[i], n);
			name[n] = '\0';
			setenv(name, eq + 1, 1);
		}
	}
	if (o->in == NULL) {
		int fd = open("/dev/null", O_RDONLY);

		dup2(fd, 0);
	} else {
		dup2(pin, 0);
	}
	if (o->stdout_path) {
		int fd = open(o->stdout_path, o->stdout_flags);

		dup2(fd, 1);
	} else {
		dup2(pout, 1);
	}
	dup2(perr, 2);
	for (int fd = 3; fd < 256; fd++)
		close(fd);
	execvp(argv[0], (char *const *)argv);
	_exit(127);
}

clirun_result clirun_run_argv(const char *const *args,
			      const clirun_opts *opts)
{
	static const clirun_opts defaults = { 0 };
	const clirun_opts *o = opts ? opts : &defaults;
	const char *argv[64];
	int n = 0, pin[2], pout[2], perr[2], st;
	char *wrapper = NULL;
	const char *w = getenv("ERIS_TEST_WRAPPER");
	clirun_result r = { 0 };
	size_t in_done = 0;
	pid_t pid;

	ck_assert_msg(binary != NULL, "clirun_set_binary() was not called");
	if (w && w[0]) {
		wrapper = strdup(w);
		ck_assert_ptr_nonnull(wrapper);
		for (char *tok = strtok(wrapper, " "); tok && n < 32;
		     tok = strtok(NULL, " "))
			argv[n++] = tok;
	}
	argv[n++] = binary;
	for (int i = 0; args[i]; i++) {
		ck_assert_int_lt(n, 62);
		argv[n++] = args[i];
	}
	argv[n] = NULL;

	ck_assert_int_eq(pipe(pin), 0);
	ck_assert_int_eq(pipe(pout), 0);
	ck_assert_int_eq(pipe(perr), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		child(argv, o, pin[0], pout[1], perr[1]);
	close(pin[0]);
	close(pout[1]);
	close(perr[1]);
	if (o->in == NULL || o->in_len == 0) {
		close(pin[1]);
		pin[1] = -1;
	} else {
		fcntl(pin[1], F_SETFL, O_NONBLOCK);
	}
	r.out = calloc(1, 1);
	r.err = calloc(1, 1);
	ck_assert_ptr_nonnull(r.out);
	ck_assert_ptr_nonnull(r.err);
	for (;;) {
		struct pollfd pf[3] = { { pout[0], POLLIN, 0 },
					{ perr[0], POLLIN, 0 },
					{ pin[1], POLLOUT, 0 } };
		char buf[65536];

		if (pf[0].fd < 0 && pf[1].fd < 0)
			break;
		if (poll(pf, 3, -1) < 0) {
			ck_assert_int_eq(errno, EINTR);
			continue;
		}
		for (int i = 0; i < 2; i++) {
			ssize_t got;

			if (pf[i].fd < 0 ||
			    !(pf[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			got = read(pf[i].fd, buf, sizeof(buf));
			if (got > 0) {
				if (i == 0)
					append(&r.out, &r.out_len, buf,
					       (size_t)got);
				else
					append(&r.err, &r.err_len, buf,
					       (size_t)got);
			} else if (got == 0 || errno != EINTR) {
				close(pf[i].fd);
				if (i == 0)
					pout[0] = -1;
				else
					perr[0] = -1;
			}
		}
		if (pin[1] >= 0 && (pf[2].revents & (POLLOUT | POLLERR))) {
			ssize_t put = write(pin[1],
					    (const char *)o->in + in_done,
					    o->in_len - in_done);

			if (put > 0)
				in_done += (size_t)put;
			if (put < 0 && errno != EAGAIN && errno != EINTR)
				in_done = o->in_len; /* reader gone (EPIPE) */
			if (in_done == o->in_len) {
				close(pin[1]);
				pin[1] = -1;
			}
		}
	}
	if (pin[1] >= 0)
		close(pin[1]);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	if (wrapper)
		drop_tool_notes(r.err, &r.err_len);
	free(wrapper);
	return r;
}

clirun_result clirun_run_va(const clirun_opts *opts, const char *first,
			    va_list ap)
{
	const char *args[MAX_ARGS + 1];
	const char *a;
	int n = 0;

	args[n++] = first;
	while ((a = va_arg(ap, const char *)) != NULL) {
		ck_assert_int_lt(n, MAX_ARGS);
		args[n++] = a;
	}
	args[n] = NULL;
	return clirun_run_argv(args, opts);
}

clirun_result clirun_run_opts(const clirun_opts *opts, const char *first,
			      ...)
{
	clirun_result r;
	va_list ap;

	va_start(ap, first);
	r = clirun_run_va(opts, first, ap);
	va_end(ap);
	return r;
}

clirun_result clirun_run(const char *first, ...)
{
	clirun_result r;
	va_list ap;

	va_start(ap, first);
	r = clirun_run_va(NULL, first, ap);
	va_end(ap);
	return r;
}

clirun_result clirun_run_in(const void *in, size_t in_len, const char *first,
			    ...)
{
	clirun_opts o = { 0 };
	clirun_result r;
	va_list ap;

	o.in = in;
	o.in_len = in_len;
	va_start(ap, first);
	r = clirun_run_va(&o, first, ap);
	va_end(ap);
	return r;
}

void clirun_free(clirun_result *r)
{
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
}

/* ---- files and directories --------------------------------------------- */

void clirun_make_temp_dir(char *buf, size_t size, const char *prefix)
{
	const char *base = getenv("TMPDIR");
	int n = snprintf(buf, size, "%s/%s-XXXXXX",
			 base && base[0] ? base : "/tmp", prefix);

	ck_assert_msg(n >= 0 && (size_t)n < size,
		      "temporary directory name too long");
	ck_assert_ptr_nonnull(mkdtemp(buf));
}

static int rm_entry(const char *path, const struct stat *st, int flag,
		    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

int clirun_remove_tree(const char *path)
{
	return nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS) == 0 ? 0 : -1;
}

const char *clirun_path(const char *dir, const char *name)
{
	static char bufs[8][4200];
	static int next;
	char *b = bufs[next++ % 8];

	ck_assert_int_lt(snprintf(b, sizeof(bufs[0]), "%s/%s", dir, name),
			 (int)sizeof(bufs[0]));
	return b;
}

void clirun_write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(data, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
}

uint8_t *clirun_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	char chunk[65536];
	size_t n = 0, got;

	if (f == NULL)
		return NULL;
	while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0)
		append(&buf, &n, chunk, got);
	fclose(f);
	if (buf == NULL)
		buf = calloc(1, 1);
	ck_assert_ptr_nonnull(buf);
	*len = n;
	return (uint8_t *)buf;
}

int clirun_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

int clirun_count_files(const char *dir, int follow_links)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		char sub[4400];
		struct stat st;
		int rc;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (snprintf(sub, sizeof(sub), "%s/%s", dir, e->d_name) >=
		    (int)sizeof(sub))
			continue;
		rc = follow_links ? stat(sub, &st) : lstat(sub, &st);
		if (rc < 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			int below = clirun_count_files(sub, follow_links);

			n += below > 0 ? below : 0;
		} else {
			n++;
		}
	}
	closedir(d);
	return n;
}

/* xorshift64* */
uint8_t *clirun_random_bytes(size_t len, uint64_t seed)
{
	uint8_t *p = malloc(len ? len : 1);
	uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;

	ck_assert_ptr_nonnull(p);
	for (size_t i = 0; i < len; i++) {
		x ^= x >> 12;
		x ^= x << 25;
		x ^= x >> 27;
		p[i] = (uint8_t)((x * 0x2545F4914F6CDD1Dull) >> 56);
	}
	return p;
}

pid_t clirun_fifo_reader(const char *fifo, const char *out_path)
{
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		char buf[4096];
		int in = open(fifo, O_RDONLY);
		int out = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		ssize_t r;

		if (in < 0 || out < 0)
			_exit(1);
		while ((r = read(in, buf, sizeof(buf))) > 0)
			if (write(out, buf, (size_t)r) != r)
				_exit(1);
		_exit(r == 0 && close(out) == 0 ? 0 : 1);
	}
	return pid;
}
