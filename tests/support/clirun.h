/*
 * clirun.h - test support for running a command-line binary (the built
 * `eris`) and checking what it did: run it with an argument vector,
 * optional standard input bytes and environment overrides, capturing
 * standard output, standard error and the exit status; make and remove
 * temporary directories; read and write whole files; Check assertions
 * on results and output.
 *
 * Failures inside these helpers (a pipe or fork that fails, a file that
 * cannot be written) are reported as Check assertion failures, so the
 * helpers are meant to be called from Check tests and fixtures.
 *
 * If the environment variable ERIS_TEST_WRAPPER is set (e.g.
 * "valgrind -q --error-exitcode=99"), every run goes through it: its
 * space-separated words come before the binary's path.
 */
#ifndef ERIS_TESTS_CLIRUN_H
#define ERIS_TESTS_CLIRUN_H

#include <check.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <string.h>

/* What a run produced. */
typedef struct {
	int status; /* exit code; 128 + signal if killed */
	char *out, *err; /* stdout and stderr, always NUL-terminated */
	size_t out_len, err_len; /* their lengths (the data may hold NULs) */
} clirun_result;

/* How to run; a zeroed struct (or a NULL pointer) gives the defaults. */
typedef struct {
	/* Fed to standard input through a pipe; NULL: /dev/null. */
	const void *in;
	size_t in_len;
	/* NULL-terminated list of "NAME=VALUE" (set) or "NAME" (unset),
	 * applied in the child only; may be NULL. */
	const char *const *env;
	/* If set, the child's standard output is this file, opened with
	 * open(2) flags `stdout_flags` (e.g. O_WRONLY, or O_RDWR | O_NOCTTY
	 * for a terminal), and `out` stays empty. */
	const char *stdout_path;
	int stdout_flags;
} clirun_opts;

/* The binary every run executes (e.g. the ERIS_BIN compile definition).
 * The string must outlive the runs. Must be set before the first run. */
void clirun_set_binary(const char *path);
const char *clirun_binary(void);

/* Run the binary with `args` (NULL-terminated, without argv[0]). */
clirun_result clirun_run_argv(const char *const *args,
			      const clirun_opts *opts);

/* The same with the arguments listed: FIRST, ..., NULL. */
clirun_result clirun_run_va(const clirun_opts *opts, const char *first,
			    va_list ap);
clirun_result clirun_run_opts(const clirun_opts *opts, const char *first,
			      ...);

/* binary ARGS... (NULL-terminated) with standard input /dev/null. */
clirun_result clirun_run(const char *first, ...);

/* binary ARGS... (NULL-terminated) with `in` on standard input. */
clirun_result clirun_run_in(const void *in, size_t in_len, const char *first,
			    ...);

/* Free a result's buffers (and set them to NULL). */
void clirun_free(clirun_result *r);

/* ---- files and directories --------------------------------------------- */

/* Make a fresh directory "$TMPDIR/PREFIX-XXXXXX" ($TMPDIR unset or empty:
 * /tmp) and put its path in buf (asserting it fits). */
void clirun_make_temp_dir(char *buf, size_t size, const char *prefix);

/* Remove `path` and everything below it (symbolic links are not
 * followed). Returns 0 on success, -1 if something was left. */
int clirun_remove_tree(const char *path);

/* "DIR/NAME" in one of 8 rotating static buffers. */
const char *clirun_path(const char *dir, const char *name);

/* Write `len` bytes to `path` (created or truncated), asserting success. */
void clirun_write_file(const char *path, const void *data, size_t len);

/* The whole content of `path` (malloc'd, with a NUL after it) and its
 * length in *len; NULL if it cannot be opened. */
uint8_t *clirun_read_file(const char *path, size_t *len);

/* Whether `path` exists (a dangling symbolic link counts). */
int clirun_exists(const char *path);

/* Files below `dir`, hidden ones included, counting recursively; a
 * directory symbolic link is followed only if `follow_links`. -1 if
 * `dir` cannot be opened. */
int clirun_count_files(const char *dir, int follow_links);

/* `len` deterministic pseudo-random bytes for `seed` (malloc'd). */
uint8_t *clirun_random_bytes(size_t len, uint64_t seed);

/* Fork a reader that copies the FIFO `fifo` into the file `out` until
 * the writer closes it; returns its pid. It exits 0 when all of it was
 * copied, 1 otherwise (wait for it with waitpid). */
pid_t clirun_fifo_reader(const char *fifo, const char *out);

/* ---- assertions ------------------------------------------------------- */

/* The run exited with `code`; on failure, shows its output. */
#define ck_status(r, code)                                                   \
	ck_assert_msg((r).status == (code),                                  \
		      "exit %d, expected %d; stdout: %.600s; stderr: %.600s",  \
		      (r).status, (code), (r).out, (r).err)

/* The string `hay` contains (or does not contain) `needle`. */
#define ck_contains(hay, needle)                                             \
	ck_assert_msg(strstr((hay), (needle)) != NULL,                       \
		      "'%s' not found in: %.1000s", (needle), (hay))

#define ck_not_contains(hay, needle)                                         \
	ck_assert_msg(strstr((hay), (needle)) == NULL,                       \
		      "'%s' unexpectedly found in: %.1000s", (needle), (hay))

#endif
