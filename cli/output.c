/*
 * output.c - the outputs of `eris get`, `eris export` and `eris link`:
 * standard output (refused when it is a terminal unless the caller allows
 * it: export and link write binary CBOR), or a file written atomically.
 *
 * A file is written under a temporary name ".NAME.XXXXXX" in the same
 * directory (so the final rename stays within one file system), synced,
 * and renamed to NAME only when the command succeeded; on failure, or if
 * SIGINT, SIGTERM or SIGHUP ends the program first, the temporary file is
 * removed and an existing NAME is left as it was. One output at a time:
 * the temporary path lives in a static for the signal handler.
 */
#include "cli.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *temp_path;
static volatile sig_atomic_t temp_live;
static struct sigaction old_actions[3];
static const int cleanup_signals[3] = { SIGINT, SIGTERM, SIGHUP };

static void on_signal(int sig)
{
	if (temp_live)
		unlink(temp_path);
	signal(sig, SIG_DFL);
	raise(sig);
}

static void catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	for (int i = 0; i < 3; i++)
		sigaction(cleanup_signals[i], &sa, &old_actions[i]);
}

static void restore_signals(void)
{
	for (int i = 0; i < 3; i++)
		sigaction(cleanup_signals[i], &old_actions[i], NULL);
}

static void drop_temp(void)
{
	temp_live = 0;
	restore_signals();
	free(temp_path);
	temp_path = NULL;
}

int cli_output_open(const char *cmd, const char *path, int flags,
		    cli_output *out)
{
	const char *slash, *base;
	size_t dir_len;
	mode_t mask;
	int fd;

	out->path = NULL;
	out->fd = STDOUT_FILENO;
	if (path == NULL || strcmp(path, "-") == 0) {
		if (!(flags & CLI_OUTPUT_TERMINAL_OK) &&
		    isatty(STDOUT_FILENO)) {
			cli_error(cmd, "refusing to write binary CBOR to a "
				       "terminal; redirect standard output "
				       "or use -o FILE");
			return EXIT_USAGE;
		}
		return EXIT_OK;
	}
	slash = strrchr(path, '/');
	dir_len = slash ? (size_t)(slash - path) + 1 : 0;
	base = path + dir_len;
	if (base[0] == '\0') {
		cli_error(cmd, "cannot write to '%s': not a file name", path);
		return EXIT_USAGE;
	}
	temp_path = malloc(dir_len + strlen(base) + 9);
	if (temp_path == NULL) {
		cli_error(cmd, "out of memory");
		return EXIT_OTHER;
	}
	memcpy(temp_path, path, dir_len);
	sprintf(temp_path + dir_len, ".%s.XXXXXX", base);
	catch_signals();
	fd = mkstemp(temp_path);
	if (fd < 0) {
		cli_error(cmd, "cannot create a temporary file for '%s': %s",
			  path, strerror(errno));
		drop_temp();
		return EXIT_IO;
	}
	temp_live = 1;
	/* mkstemp makes the file 0600; give it a new file's mode. */
	mask = umask(0);
	umask(mask);
	if (fchmod(fd, 0666 & ~mask) < 0) {
		cli_error(cmd, "cannot set the mode of '%s': %s", temp_path,
			  strerror(errno));
		close(fd);
		unlink(temp_path);
		drop_temp();
		return EXIT_IO;
	}
	out->path = path;
	out->fd = fd;
	return EXIT_OK;
}

int cli_output_finish(const char *cmd, cli_output *out, int ret)
{
	if (out->path == NULL)
		return ret;
	if (ret == EXIT_OK && fsync(out->fd) < 0) {
		cli_error(cmd, "cannot write '%s': %s", out->path,
			  strerror(errno));
		ret = EXIT_IO;
	}
	if (close(out->fd) < 0 && ret == EXIT_OK) {
		cli_error(cmd, "cannot write '%s': %s", out->path,
			  strerror(errno));
		ret = EXIT_IO;
	}
	if (ret == EXIT_OK && rename(temp_path, out->path) < 0) {
		cli_error(cmd, "cannot rename '%s' to '%s': %s", temp_path,
			  out->path, strerror(errno));
		ret = EXIT_IO;
	}
	if (ret != EXIT_OK)
		unlink(temp_path);
	drop_temp();
	out->path = NULL;
	out->fd = -1;
	return ret;
}
