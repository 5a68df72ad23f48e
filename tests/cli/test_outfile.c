/*
 * test_outfile.c - unit tests of cli/outfile.c, the writer of user-named
 * outputs: new and regular files (atomic; mode, owner, set-ID bits and
 * user.* extended attributes),
 * abort, symbolic links (chains, relative and absolute, dangling, loops),
 * directories, sockets, FIFOs, /proc/self/fd/N, character devices and a
 * read-only directory.
 *
 * Parts need root (a device node, other owners, an unprivileged child for
 * the read-only directory); without root they print what they skip and
 * the rest still runs. Every test works in its own temporary directory
 * ($TMPDIR or /tmp, eris-outfile-XXXXXX), removed afterwards.
 */
#include "clirun.h"
#include "outfile.h"

#include <check.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

/* The unprivileged user and group the root-only parts switch to. */
#define NOBODY 65534

static char tmp[1024];

static void setup(void)
{
	clirun_make_temp_dir(tmp, 900, "eris-outfile");
	/* Open to the unprivileged child of the read-only test. */
	chmod(tmp, 0755);
	umask(022);
}

static void teardown(void)
{
	if (tmp[0])
		clirun_remove_tree(tmp);
}

static const char *T(const char *name)
{
	return clirun_path(tmp, name);
}

static int is_root(const char *what)
{
	if (geteuid() == 0)
		return 1;
	printf("test_outfile: not root, skipping %s\n", what);
	return 0;
}

/* Write `text` to `path` through an outfile; asserts success. */
static void put(const char *path, const char *text, int mode)
{
	outfile f;

	ck_assert_msg(outfile_open(&f, path, mode) == 0, "open %s: %s", path,
		      f.error);
	ck_assert_msg(outfile_write(&f, text, strlen(text)) == 0, "%s",
		      f.error);
	ck_assert_msg(outfile_commit(&f) == 0, "commit %s: %s", path,
		      f.error);
	ck_assert_int_eq(f.active, 0);
	ck_assert_int_eq(f.fd, -1);
}

/* outfile_open(path) must fail with `err` and a message containing
 * `text`. */
static void open_fails(const char *path, int err, const char *text)
{
	outfile f;

	ck_assert_int_eq(outfile_open(&f, path, OUTFILE_MODE_DEFAULT), -1);
	ck_assert_msg(errno == err, "%s: errno %d (%s), expected %d", path,
		      errno, strerror(errno), err);
	ck_contains(f.error, text);
	ck_assert_int_eq(f.active, 0);
	outfile_abort(&f); /* harmless */
}

/* The whole file as a string (asserting it can be read). */
static char *slurp(const char *path)
{
	size_t n;
	char *s = (char *)clirun_read_file(path, &n);

	ck_assert_msg(s != NULL, "cannot read %s", path);
	return s;
}

static void assert_content(const char *path, const char *want)
{
	char *got = slurp(path);

	ck_assert_str_eq(got, want);
	free(got);
}

static void assert_link(const char *path, const char *want)
{
	char buf[4096];
	ssize_t n = readlink(path, buf, sizeof(buf) - 1);

	ck_assert_msg(n >= 0, "%s is not a symbolic link any more", path);
	buf[n] = '\0';
	ck_assert_str_eq(buf, want);
}

static struct stat lstat_of(const char *path)
{
	struct stat st;

	ck_assert_msg(lstat(path, &st) == 0, "%s: %s", path, strerror(errno));
	return st;
}

/* ---- regular files ----------------------------------------------------- */

START_TEST(test_new_file)
{
	outfile f;

	/* 0666 minus the umask. */
	umask(027);
	put(T("new"), "hello\n", OUTFILE_MODE_DEFAULT);
	assert_content(T("new"), "hello\n");
	ck_assert_int_eq(lstat_of(T("new")).st_mode & 07777, 0640);
	/* A mode asked for is taken as it is. */
	umask(077);
	put(T("asked"), "x", 0604);
	ck_assert_int_eq(lstat_of(T("asked")).st_mode & 07777, 0604);
	/* An empty file is a file too. */
	ck_assert_int_eq(outfile_open(&f, T("empty"), 0644), 0);
	ck_assert_int_eq(outfile_commit(&f), 0);
	assert_content(T("empty"), "");
	/* A name too long for ".NAME.XXXXXX" still works. */
	char name[251];
	memset(name, 'n', 250);
	name[250] = '\0';
	put(T(name), "long", OUTFILE_MODE_DEFAULT);
	assert_content(T(name), "long");
	/* Nothing else is left: new, asked, empty, the long one. */
	ck_assert_int_eq(clirun_count_files(tmp, 0), 4);
}
END_TEST

START_TEST(test_replace_regular)
{
	struct stat before, after;

	clirun_write_file(T("f"), "old", 3);
	chmod(T("f"), 0751);
	ck_assert_int_eq(link(T("f"), T("hard")), 0);
	before = lstat_of(T("f"));
	umask(077); /* the old mode wins over the umask */
	put(T("f"), "new content", OUTFILE_MODE_DEFAULT);
	after = lstat_of(T("f"));
	assert_content(T("f"), "new content");
	ck_assert_int_eq(after.st_mode & 07777, 0751);
	ck_assert_int_eq(after.st_uid, before.st_uid);
	/* Renamed over: a new inode; the hard link keeps the old file. */
	ck_assert(after.st_ino != before.st_ino);
	assert_content(T("hard"), "old");
	ck_assert_int_eq(clirun_count_files(tmp, 0), 2);
}
END_TEST

START_TEST(test_abort)
{
	outfile f;

	clirun_write_file(T("keep"), "old", 3);
	ck_assert_int_eq(outfile_open(&f, T("keep"), OUTFILE_MODE_DEFAULT), 0);
	ck_assert_int_eq(f.in_place, 0);
	ck_assert(f.temp_live);
	/* The temporary file is beside the target, hidden. */
	ck_assert_msg(strncmp(f.temp, T(".keep."), strlen(T(".keep."))) == 0,
		      "temporary file %s", f.temp);
	ck_assert(clirun_exists(f.temp));
	ck_assert_int_eq(outfile_write(&f, "partial", 7), 0);
	outfile_abort(&f);
	ck_assert_int_eq(f.active, 0);
	outfile_abort(&f); /* twice is fine */
	assert_content(T("keep"), "old");
	ck_assert_int_eq(clirun_count_files(tmp, 0), 1);

	/* A new name that is given up is not created. */
	ck_assert_int_eq(outfile_open(&f, T("new"), OUTFILE_MODE_DEFAULT), 0);
	outfile_abort(&f);
	ck_assert(!clirun_exists(T("new")));
	ck_assert_int_eq(clirun_count_files(tmp, 0), 1);

	/* Committing what is not open is refused. */
	ck_assert_int_eq(outfile_commit(&f), -1);
	ck_assert_int_eq(errno, EBADF);
}
END_TEST

/* As root: the owner, group and set-ID bits of a replaced file stay. */
START_TEST(test_owner_kept)
{
	struct stat st;

	if (!is_root("owners"))
		return;
	clirun_write_file(T("owned"), "old", 3);
	ck_assert_int_eq(chown(T("owned"), 1000, 1000), 0);
	ck_assert_int_eq(chmod(T("owned"), 0640), 0);
	put(T("owned"), "new", OUTFILE_MODE_DEFAULT);
	st = lstat_of(T("owned"));
	assert_content(T("owned"), "new");
	ck_assert_int_eq(st.st_mode & 07777, 0640);
	ck_assert_int_eq(st.st_uid, 1000);
	ck_assert_int_eq(st.st_gid, 1000);

	clirun_write_file(T("suid"), "old", 3);
	ck_assert_int_eq(chown(T("suid"), 1000, 1000), 0);
	ck_assert_int_eq(chmod(T("suid"), 06755), 0);
	put(T("suid"), "new", OUTFILE_MODE_DEFAULT);
	st = lstat_of(T("suid"));
	ck_assert_int_eq(st.st_mode & 07777, 06755);
	ck_assert_int_eq(st.st_uid, 1000);
	ck_assert_int_eq(st.st_gid, 1000);
}
END_TEST

/* A replaced file keeps its user.* extended attributes (where the file
 * system has them), values byte for byte. */
START_TEST(test_xattrs_kept)
{
	static const char bin[] = { 'a', 0, 'b', '\n' };
	char got[16];

	clirun_write_file(T("x"), "old", 3);
	if (setxattr(T("x"), "user.eris.a", "one", 3, 0) != 0) {
		printf("test_outfile: no user xattrs here (%s), skipping\n",
		       strerror(errno));
		return;
	}
	ck_assert_int_eq(setxattr(T("x"), "user.eris.b", bin, sizeof(bin), 0),
			 0);
	ck_assert_int_eq(setxattr(T("x"), "user.eris.empty", "", 0, 0), 0);
	put(T("x"), "new", OUTFILE_MODE_DEFAULT);
	assert_content(T("x"), "new");
	ck_assert_int_eq(getxattr(T("x"), "user.eris.a", got, sizeof(got)), 3);
	ck_assert_mem_eq(got, "one", 3);
	ck_assert_int_eq(getxattr(T("x"), "user.eris.b", got, sizeof(got)),
			 (ssize_t)sizeof(bin));
	ck_assert_mem_eq(got, bin, sizeof(bin));
	ck_assert_int_eq(getxattr(T("x"), "user.eris.empty", got, sizeof(got)),
			 0);
}
END_TEST

/* Become the unprivileged user (in a child); 0 or -1. */
static int drop_privileges(void)
{
	if (setgroups(0, NULL) != 0 || setgid(NOBODY) != 0 ||
	    setuid(NOBODY) != 0)
		return -1;
	return 0;
}

/* As root: an unprivileged user replacing someone else's set-ID file (in
 * a directory anyone may write) cannot keep its owner, so the new file
 * is theirs and has no set-ID bits. */
START_TEST(test_setid_dropped)
{
	struct stat st;
	pid_t pid;
	int status;

	if (!is_root("set-ID bits of a file whose owner cannot be kept"))
		return;
	ck_assert_int_eq(mkdir(T("pub"), 0777), 0);
	ck_assert_int_eq(chmod(T("pub"), 0777), 0);
	clirun_write_file(T("pub/f"), "old", 3);
	ck_assert_int_eq(chown(T("pub/f"), 1000, 1000), 0);
	ck_assert_int_eq(chmod(T("pub/f"), 06775), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		outfile f;

		if (drop_privileges() != 0 ||
		    outfile_open(&f, T("pub/f"), OUTFILE_MODE_DEFAULT) != 0 ||
		    outfile_write(&f, "new", 3) != 0 || outfile_commit(&f) != 0)
			_exit(1);
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	st = lstat_of(T("pub/f"));
	assert_content(T("pub/f"), "new");
	ck_assert_int_eq(st.st_uid, NOBODY);
	ck_assert_int_eq(st.st_gid, NOBODY);
	ck_assert_int_eq(st.st_mode & 07777, 0775);
}
END_TEST

/* ---- symbolic links ---------------------------------------------------- */

START_TEST(test_symlink_chain)
{
	outfile f;
	char abs_target[4200];

	mkdir(T("d1"), 0755);
	mkdir(T("d2"), 0755);
	clirun_write_file(T("d2/t"), "old", 3);
	chmod(T("d2/t"), 0600);
	/* d1/l1 -> ../d2/l2 -> t: each relative to its own directory. */
	ck_assert_int_eq(symlink("../d2/l2", T("d1/l1")), 0);
	ck_assert_int_eq(symlink("t", T("d2/l2")), 0);
	ck_assert_int_eq(outfile_open(&f, T("d1/l1"), OUTFILE_MODE_DEFAULT),
			 0);
	ck_assert_msg(strstr(f.temp, "/d1/../d2/.t.") != NULL,
		      "temporary file %s is not beside the target", f.temp);
	ck_assert_int_eq(outfile_write(&f, "new", 3), 0);
	ck_assert_int_eq(outfile_commit(&f), 0);
	assert_link(T("d1/l1"), "../d2/l2");
	assert_link(T("d2/l2"), "t");
	assert_content(T("d2/t"), "new");
	ck_assert_int_eq(lstat_of(T("d2/t")).st_mode & 07777, 0600);
	ck_assert_int_eq(clirun_count_files(T("d1"), 0), 1);
	ck_assert_int_eq(clirun_count_files(T("d2"), 0), 2);

	/* An absolute link. */
	snprintf(abs_target, sizeof(abs_target), "%s", T("d2/t"));
	ck_assert_int_eq(symlink(abs_target, T("abs")), 0);
	put(T("abs"), "newer", OUTFILE_MODE_DEFAULT);
	assert_link(T("abs"), abs_target);
	assert_content(T("d2/t"), "newer");
	ck_assert_int_eq(clirun_count_files(tmp, 0), 4);
}
END_TEST

START_TEST(test_symlink_dangling)
{
	ck_assert_int_eq(symlink("made", T("dl")), 0);
	umask(022);
	put(T("dl"), "created", OUTFILE_MODE_DEFAULT);
	assert_link(T("dl"), "made");
	assert_content(T("made"), "created");
	ck_assert_int_eq(lstat_of(T("made")).st_mode & 07777, 0644);
	ck_assert_int_eq(clirun_count_files(tmp, 0), 2);

	/* Into a directory that does not exist: nothing to create in. */
	ck_assert_int_eq(symlink("nodir/x", T("dm")), 0);
	open_fails(T("dm"), ENOENT, "cannot create a temporary file");
	ck_assert_int_eq(clirun_count_files(tmp, 0), 3);
}
END_TEST

START_TEST(test_symlink_loops)
{
	char from[64], to[64];

	ck_assert_int_eq(symlink("lb", T("la")), 0);
	ck_assert_int_eq(symlink("la", T("lb")), 0);
	open_fails(T("la"), ELOOP, "/la");
	/* A chain longer than 40 links. */
	for (int i = 0; i < 45; i++) {
		snprintf(from, sizeof(from), "c%d", i);
		snprintf(to, sizeof(to), "c%d", i + 1);
		ck_assert_int_eq(symlink(to, T(from)), 0);
	}
	open_fails(T("c0"), ELOOP, "/c0");
	ck_assert(!clirun_exists(T("c45")));
	/* A short one is fine. */
	put(T("c40"), "end", OUTFILE_MODE_DEFAULT);
	assert_content(T("c45"), "end");
}
END_TEST

/* /proc/self/fd/N of a regular file: the file itself is replaced. */
START_TEST(test_proc_fd_regular)
{
	char path[64];
	int fd;

	clirun_write_file(T("reg"), "old", 3);
	fd = open(T("reg"), O_RDONLY);
	ck_assert_int_ge(fd, 0);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	put(path, "new", OUTFILE_MODE_DEFAULT);
	close(fd);
	assert_content(T("reg"), "new");
	ck_assert(S_ISREG(lstat_of(T("reg")).st_mode));
	ck_assert_int_eq(clirun_count_files(tmp, 0), 1);
}
END_TEST

/* ---- what is not a file ------------------------------------------------- */

START_TEST(test_not_files)
{
	struct sockaddr_un sa;
	int s;

	mkdir(T("dir"), 0755);
	open_fails(T("dir"), EISDIR, "is a directory");
	ck_assert_int_eq(symlink("dir", T("dirlink")), 0);
	open_fails(T("dirlink"), EISDIR, "is a directory");
	open_fails(T("x/"), EISDIR, "not a file name");
	open_fails(T("dir/.."), EISDIR, "is a directory");

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	ck_assert_int_lt(snprintf(sa.sun_path, sizeof(sa.sun_path), "%s",
				  T("sock")), (int)sizeof(sa.sun_path));
	s = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_ge(s, 0);
	ck_assert_int_eq(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	open_fails(T("sock"), ENXIO, "is a socket");
	ck_assert(S_ISSOCK(lstat_of(T("sock")).st_mode));
	close(s);
	ck_assert_int_eq(clirun_count_files(tmp, 0), 2); /* dirlink, sock */
}
END_TEST

START_TEST(test_fifo)
{
	uint8_t *data, *got;
	struct stat st;
	outfile f;
	size_t n;
	pid_t pid;
	int status;

	ck_assert_int_eq(mkfifo(T("fifo"), 0640), 0);
	pid = clirun_fifo_reader(T("fifo"), T("got"));
	data = clirun_random_bytes(300000, 1); /* not in the child */
	ck_assert_int_eq(outfile_open(&f, T("fifo"), OUTFILE_MODE_DEFAULT), 0);
	ck_assert_int_eq(f.in_place, 1);
	ck_assert_ptr_null(f.temp);
	ck_assert_int_eq(outfile_write(&f, data, 300000), 0);
	ck_assert_int_eq(outfile_commit(&f), 0);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	got = clirun_read_file(T("got"), &n);
	ck_assert_uint_eq(n, 300000);
	ck_assert(memcmp(got, data, n) == 0);
	st = lstat_of(T("fifo"));
	ck_assert(S_ISFIFO(st.st_mode));
	ck_assert_int_eq(st.st_mode & 07777, 0640);
	ck_assert_int_eq(clirun_count_files(tmp, 0), 2);
	free(got);
	free(data);
}
END_TEST

/* /proc/self/fd/N of a pipe reads as "pipe:[...]": written in place. */
START_TEST(test_proc_fd_pipe)
{
	char path[64], buf[64];
	outfile f;
	int p[2];
	ssize_t n;

	ck_assert_int_eq(pipe(p), 0);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", p[1]);
	ck_assert_int_eq(outfile_open(&f, path, OUTFILE_MODE_DEFAULT), 0);
	ck_assert_int_eq(f.in_place, 1);
	ck_assert_int_eq(outfile_write(&f, "through the pipe", 16), 0);
	ck_assert_int_eq(outfile_commit(&f), 0);
	close(p[1]);
	n = read(p[0], buf, sizeof(buf));
	ck_assert_int_eq(n, 16);
	ck_assert(memcmp(buf, "through the pipe", 16) == 0);
	close(p[0]);
}
END_TEST

/* As root: a character device (1,3: what /dev/null is) made here keeps
 * its type, numbers, mode and owner. */
START_TEST(test_char_device)
{
	struct stat st;
	outfile f;

	if (!is_root("the character device"))
		return;
	ck_assert_int_eq(mknod(T("null"), S_IFCHR | 0620, makedev(1, 3)), 0);
	ck_assert_int_eq(chmod(T("null"), 0620), 0);
	ck_assert_int_eq(chown(T("null"), 1000, 1000), 0);
	ck_assert_int_eq(outfile_open(&f, T("null"), OUTFILE_MODE_DEFAULT), 0);
	ck_assert_int_eq(f.in_place, 1);
	ck_assert_int_eq(outfile_write(&f, "gone", 4), 0);
	ck_assert_int_eq(outfile_commit(&f), 0);
	/* Through a link too. */
	ck_assert_int_eq(symlink("null", T("nl")), 0);
	put(T("nl"), "gone", 0644);
	assert_link(T("nl"), "null");
	st = lstat_of(T("null"));
	ck_assert(S_ISCHR(st.st_mode));
	ck_assert(st.st_rdev == makedev(1, 3));
	ck_assert_int_eq(st.st_mode & 07777, 0620);
	ck_assert_int_eq(st.st_uid, 1000);
	ck_assert_int_eq(st.st_gid, 1000);
	ck_assert_int_eq(clirun_count_files(tmp, 0), 2);
}
END_TEST

/* A directory the writer may not write: an error naming the file, the
 * directory and the file in it unchanged. As root the attempt is made
 * by an unprivileged child. */
START_TEST(test_read_only_directory)
{
	struct stat before, after;
	pid_t pid = -1;
	int status;

	mkdir(T("ro"), 0755);
	clirun_write_file(T("ro/keep"), "old", 3);
	ck_assert_int_eq(chmod(T("ro"), 0555), 0);
	before = lstat_of(T("ro"));
	if (geteuid() == 0) {
		pid = fork();
		ck_assert_int_ge(pid, 0);
	}
	if (pid <= 0) {
		ck_assert_int_eq(pid == 0 ? drop_privileges() : 0, 0);
		open_fails(T("ro/keep"), EACCES,
			   "cannot create a temporary file for '");
		open_fails(T("ro/new"), EACCES, "Permission denied");
		if (pid == 0)
			_exit(0);
	} else {
		ck_assert_int_eq(waitpid(pid, &status, 0), pid);
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
			      "the unprivileged child failed");
	}
	after = lstat_of(T("ro"));
	ck_assert_int_eq(clirun_count_files(T("ro"), 0), 1);
	assert_content(T("ro/keep"), "old");
	ck_assert(after.st_mtim.tv_sec == before.st_mtim.tv_sec &&
		  after.st_mtim.tv_nsec == before.st_mtim.tv_nsec);
	chmod(T("ro"), 0755);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("outfile");
	TCase *tc = tcase_create("outfile");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_new_file);
	tcase_add_test(tc, test_replace_regular);
	tcase_add_test(tc, test_abort);
	tcase_add_test(tc, test_owner_kept);
	tcase_add_test(tc, test_setid_dropped);
	tcase_add_test(tc, test_xattrs_kept);
	tcase_add_test(tc, test_symlink_chain);
	tcase_add_test(tc, test_symlink_dangling);
	tcase_add_test(tc, test_symlink_loops);
	tcase_add_test(tc, test_proc_fd_regular);
	tcase_add_test(tc, test_not_files);
	tcase_add_test(tc, test_fifo);
	tcase_add_test(tc, test_proc_fd_pipe);
	tcase_add_test(tc, test_char_device);
	tcase_add_test(tc, test_read_only_directory);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
