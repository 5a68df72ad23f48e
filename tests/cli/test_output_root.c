/*
 * test_output_root.c - `eris get -o`, `eris export -o` and `eris link -o`
 * onto what is not a plain new file: a character device (1,3) made here,
 * a FIFO with a reader, a symbolic link to a regular file, a dangling
 * link, /proc/self/fd/1 into a pipe, a regular file with mode 0640 and
 * owner 1000:1000, and a read-only directory written by an unprivileged
 * user (setpriv). Each case runs for the three commands (a loop test,
 * 0 get, 1 export, 2 link) against the bytes the command writes to
 * standard output.
 *
 * Needs root (mknod, chown, setpriv): otherwise it says so and exits 77,
 * which ctest counts as skipped. It never touches /dev: every device node
 * is made in the test's own directory ($TMPDIR or /tmp, eris-outroot-*),
 * removed after a passing test.
 */
#include "clirun.h"

#include <check.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef ERIS_BIN
#error "ERIS_BIN must name the eris binary"
#endif

#define DATA_LEN 70000

static const char *const cmds[3] = { "get", "export", "link" };

static char tmp[1024];
static char *urn;           /* of the content put in setup */
static uint8_t *want;       /* what cmds[_i] writes to standard output */
static size_t want_len;

static const char *T(const char *name)
{
	return clirun_path(tmp, name);
}

static void setup(void)
{
	char buf[4200];
	uint8_t *data = clirun_random_bytes(DATA_LEN, 3);
	clirun_result r;

	clirun_set_binary(ERIS_BIN);
	clirun_make_temp_dir(tmp, 900, "eris-outroot");
	/* The unprivileged runs read the store through here. */
	chmod(tmp, 0755);
	umask(022);
	signal(SIGPIPE, SIG_IGN);
	snprintf(buf, sizeof(buf), "%s/home", tmp);
	mkdir(buf, 0755);
	setenv("HOME", buf, 1);
	snprintf(buf, sizeof(buf), "%s/xdg", tmp);
	setenv("XDG_DATA_HOME", buf, 1);
	snprintf(buf, sizeof(buf), "dir:%s/store", tmp);
	setenv("ERIS_STORE", buf, 1);
	clirun_write_file(T("data"), data, DATA_LEN);
	free(data);
	r = clirun_run("put", T("data"), NULL);
	ck_status(r, 0);
	ck_assert_uint_eq(r.out_len, 116);
	r.out[115] = '\0';
	urn = strdup(r.out);
	clirun_free(&r);
	mkdir(T("out"), 0755);
}

static void teardown(void)
{
	free(urn);
	free(want);
	urn = NULL;
	want = NULL;
	if (tmp[0])
		clirun_remove_tree(tmp);
}

/* What `eris CMD URN` writes to standard output (a pipe): the bytes
 * every -o must receive. */
static void learn_want(int i)
{
	clirun_result r = clirun_run(cmds[i], urn, NULL);

	ck_status(r, 0);
	ck_assert_uint_gt(r.out_len, 0);
	want = malloc(r.out_len);
	ck_assert_ptr_nonnull(want);
	memcpy(want, r.out, r.out_len);
	want_len = r.out_len;
	clirun_free(&r);
}

/* eris CMD -o PATH URN, which must succeed silently. */
static void run_ok(int i, const char *path)
{
	clirun_result r = clirun_run(cmds[i], "-q", "-o", path, urn, NULL);

	ck_status(r, 0);
	ck_assert_uint_eq(r.out_len, 0);
	ck_assert_msg(r.err_len == 0, "%s -o %s: %s", cmds[i], path, r.err);
	clirun_free(&r);
}

static void assert_want(const char *path)
{
	size_t n;
	uint8_t *got = clirun_read_file(path, &n);

	ck_assert_msg(got != NULL, "cannot read %s", path);
	ck_assert_uint_eq(n, want_len);
	ck_assert(memcmp(got, want, n) == 0);
	free(got);
}

static struct stat lstat_of(const char *path)
{
	struct stat st;

	ck_assert_msg(lstat(path, &st) == 0, "lstat %s", path);
	return st;
}

static void assert_link(const char *path, const char *target)
{
	char buf[4096];
	ssize_t n = readlink(path, buf, sizeof(buf) - 1);

	ck_assert_msg(n >= 0, "%s is not a symbolic link any more", path);
	buf[n] = '\0';
	ck_assert_str_eq(buf, target);
}

START_TEST(test_char_device)
{
	struct stat st;

	learn_want(_i);
	ck_assert_int_eq(mknod(T("out/null"), S_IFCHR | 0666, makedev(1, 3)),
			 0);
	ck_assert_int_eq(chmod(T("out/null"), 0666), 0);
	ck_assert_int_eq(chown(T("out/null"), 1000, 1000), 0);
	run_ok(_i, T("out/null"));
	st = lstat_of(T("out/null"));
	ck_assert_msg(S_ISCHR(st.st_mode), "the device node was replaced");
	ck_assert(st.st_rdev == makedev(1, 3));
	ck_assert_int_eq(st.st_mode & 07777, 0666);
	ck_assert_int_eq(st.st_uid, 1000);
	ck_assert_int_eq(st.st_gid, 1000);
	ck_assert_int_eq(clirun_count_files(T("out"), 0), 1);
}
END_TEST

START_TEST(test_fifo)
{
	struct stat st;
	pid_t pid;
	int status;

	learn_want(_i);
	ck_assert_int_eq(mkfifo(T("out/fifo"), 0640), 0);
	ck_assert_int_eq(chmod(T("out/fifo"), 0640), 0);
	pid = clirun_fifo_reader(T("out/fifo"), T("got"));
	run_ok(_i, T("out/fifo"));
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_want(T("got"));
	st = lstat_of(T("out/fifo"));
	ck_assert_msg(S_ISFIFO(st.st_mode), "the FIFO was replaced");
	ck_assert_int_eq(st.st_mode & 07777, 0640);
	ck_assert_int_eq(clirun_count_files(T("out"), 0), 1);
}
END_TEST

START_TEST(test_symlink)
{
	learn_want(_i);
	clirun_write_file(T("out/target"), "old", 3);
	ck_assert_int_eq(chmod(T("out/target"), 0600), 0);
	ck_assert_int_eq(symlink("target", T("out/link")), 0);
	run_ok(_i, T("out/link"));
	assert_link(T("out/link"), "target");
	assert_want(T("out/target"));
	ck_assert_int_eq(lstat_of(T("out/target")).st_mode & 07777, 0600);
	/* No temporary file beside the link or the target. */
	ck_assert_int_eq(clirun_count_files(T("out"), 0), 2);
}
END_TEST

START_TEST(test_dangling_symlink)
{
	learn_want(_i);
	mkdir(T("out/sub"), 0755);
	ck_assert_int_eq(symlink("sub/made", T("out/dl")), 0);
	run_ok(_i, T("out/dl"));
	assert_link(T("out/dl"), "sub/made");
	assert_want(T("out/sub/made"));
	ck_assert(S_ISREG(lstat_of(T("out/sub/made")).st_mode));
	ck_assert_int_eq(lstat_of(T("out/sub/made")).st_mode & 07777, 0644);
	ck_assert_int_eq(clirun_count_files(T("out"), 0), 2);
}
END_TEST

/* clirun's standard output is a pipe: /proc/self/fd/1 reads "pipe:[N]". */
START_TEST(test_proc_self_fd_pipe)
{
	clirun_result r;

	learn_want(_i);
	r = clirun_run(cmds[_i], "-o", "/proc/self/fd/1", urn, NULL);
	ck_status(r, 0);
	ck_assert_uint_eq(r.out_len, want_len);
	ck_assert(memcmp(r.out, want, want_len) == 0);
	clirun_free(&r);
}
END_TEST

START_TEST(test_regular_owner_and_mode)
{
	struct stat before, after;

	learn_want(_i);
	clirun_write_file(T("out/f"), "old", 3);
	ck_assert_int_eq(chmod(T("out/f"), 0640), 0);
	ck_assert_int_eq(chown(T("out/f"), 1000, 1000), 0);
	before = lstat_of(T("out/f"));
	run_ok(_i, T("out/f"));
	after = lstat_of(T("out/f"));
	assert_want(T("out/f"));
	ck_assert(S_ISREG(after.st_mode));
	ck_assert_int_eq(after.st_mode & 07777, 0640);
	ck_assert_int_eq(after.st_uid, 1000);
	ck_assert_int_eq(after.st_gid, 1000);
	ck_assert_msg(after.st_ino != before.st_ino, "not replaced atomically");
	ck_assert_int_eq(clirun_count_files(T("out"), 0), 1);
}
END_TEST

/* Copy `src` to `dst` with `mode`. */
static void copy_file(const char *src, const char *dst, mode_t mode)
{
	size_t len;
	uint8_t *data = clirun_read_file(src, &len);

	ck_assert_msg(data != NULL, "cannot read %s", src);
	clirun_write_file(dst, data, len);
	free(data);
	ck_assert_int_eq(chmod(dst, mode), 0);
}

/* An unprivileged user (setpriv) writing into a directory it may not
 * write: exit status 4 with a message, nothing left behind, the
 * directory and the file in it unchanged. The build tree may sit where
 * that user cannot reach it (under a 0700 directory), so it runs copies
 * of eris and liberis made in the test's directory. */
START_TEST(test_read_only_directory)
{
	const char *old = getenv("ERIS_TEST_WRAPPER");
	char *saved = old ? strdup(old) : NULL;
	struct stat before, after;
	clirun_result r;
	uint8_t *kept;
	size_t kept_len;

	learn_want(_i);
	clirun_write_file(T("out/keep"), "old", 3);
	ck_assert_int_eq(chmod(T("out"), 0555), 0);
	before = lstat_of(T("out"));
	{
		/* static: clirun keeps the binary's path, not a copy */
		static char eris[4400];
		char bin[4300], wrapper[4500], lib[4400];

		snprintf(bin, sizeof(bin), "%s/bin", tmp);
		snprintf(eris, sizeof(eris), "%s/eris", bin);
		snprintf(lib, sizeof(lib), "%s/liberis.so.1", bin);
		mkdir(bin, 0755);
		copy_file(ERIS_BIN, eris, 0755);
		copy_file(ERIS_LIB, lib, 0644);
		clirun_set_binary(eris);
		snprintf(wrapper, sizeof(wrapper),
			 "setpriv --reuid=65534 --regid=65534 --clear-groups "
			 "env LD_LIBRARY_PATH=%s", bin);
		setenv("ERIS_TEST_WRAPPER", wrapper, 1);
	}

	/* The user can read the store (the wrapper works) ... */
	r = clirun_run(cmds[_i], urn, NULL);
	ck_status(r, 0);
	ck_assert_uint_eq(r.out_len, want_len);
	clirun_free(&r);
	/* ... but cannot replace out/keep nor create out/new. */
	r = clirun_run(cmds[_i], "-o", T("out/keep"), urn, NULL);
	ck_status(r, 4);
	ck_contains(r.err, "cannot create a temporary file for '");
	ck_contains(r.err, "out/keep");
	ck_contains(r.err, "Permission denied");
	clirun_free(&r);
	r = clirun_run(cmds[_i], "-o", T("out/new"), urn, NULL);
	ck_status(r, 4);
	ck_contains(r.err, "Permission denied");
	clirun_free(&r);

	if (saved) {
		setenv("ERIS_TEST_WRAPPER", saved, 1);
		free(saved);
	} else {
		unsetenv("ERIS_TEST_WRAPPER");
	}
	clirun_set_binary(ERIS_BIN);
	after = lstat_of(T("out"));
	ck_assert_int_eq(clirun_count_files(T("out"), 0), 1);
	ck_assert(!clirun_exists(T("out/new")));
	kept = clirun_read_file(T("out/keep"), &kept_len);
	ck_assert_ptr_nonnull(kept);
	ck_assert_uint_eq(kept_len, 3);
	ck_assert(memcmp(kept, "old", 3) == 0);
	free(kept);
	ck_assert_int_eq(after.st_mode & 07777, 0555);
	ck_assert(after.st_mtim.tv_sec == before.st_mtim.tv_sec &&
		  after.st_mtim.tv_nsec == before.st_mtim.tv_nsec);
	chmod(T("out"), 0755);
}
END_TEST

int main(void)
{
	Suite *s;
	TCase *tc;
	SRunner *sr;
	int failed;

	if (geteuid() != 0) {
		printf("SKIP: test_output_root must run as root (it makes a "
		       "device node, gives files to uid 1000 and runs eris "
		       "as uid 65534 with setpriv)\n");
		return 77;
	}
	if (system("setpriv --version >/dev/null 2>&1") != 0) {
		printf("SKIP: setpriv (util-linux) is not installed\n");
		return 77;
	}
	s = suite_create("output-root");
	tc = tcase_create("output-root");
	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_char_device, 0, 3);
	tcase_add_loop_test(tc, test_fifo, 0, 3);
	tcase_add_loop_test(tc, test_symlink, 0, 3);
	tcase_add_loop_test(tc, test_dangling_symlink, 0, 3);
	tcase_add_loop_test(tc, test_proc_self_fd_pipe, 0, 3);
	tcase_add_loop_test(tc, test_regular_owner_and_mode, 0, 3);
	tcase_add_loop_test(tc, test_read_only_directory, 0, 3);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
