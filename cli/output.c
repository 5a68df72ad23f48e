/*
 * output.c - the outputs of `eris get`, `eris export` and `eris link`:
 * standard output (refused when it is a terminal unless the caller allows
 * it: export and link write binary CBOR), or a file written through
 * outfile.c: a regular file (or a new name, or the regular file at the
 * end of a symbolic link) atomically, under a temporary name ".NAME.XXXXXX"
 * renamed to NAME only when the command succeeded; a device, a FIFO or
 * /proc/self/fd/N of a pipe in place, never replaced.
 *
 * On failure, or if SIGINT, SIGTERM or SIGHUP ends the program first, the
 * temporary file is removed and an existing NAME is left as it was. One
 * output at a time: the open output lives in a static for the signal
 * handler.
 */
#include "cli.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

static outfile *live_output;
static struct sigaction old_actions[3];
static const int cleanup_signals[3] = { SIGINT, SIGTERM, SIGHUP };

static void on_signal(int sig)
{
	outfile *f = live_output;

	if (f != NULL && f->temp_live)
		unlink(f->temp);
	signal(sig, SIG_DFL);
	raise(sig);
}

static void catch_signals(outfile *f)
{
	struct sigaction sa;

	live_output = f;
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
	live_output = NULL;
}

int cli_output_open(const char *cmd, const char *path, int flags,
		    cli_output *out)
{
	const char *slash;

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
	if ((slash ? slash[1] : path[0]) == '\0') {
		cli_error(cmd, "cannot write to '%s': not a file name", path);
		return EXIT_USAGE;
	}
	/* The handler is in place before the temporary file exists. */
	catch_signals(&out->file);
	if (outfile_open(&out->file, path, OUTFILE_MODE_DEFAULT) < 0) {
		int err = errno;

		cli_error(cmd, "%s", out->file.error);
		restore_signals();
		return err == ENOMEM ? EXIT_OTHER : EXIT_IO;
	}
	out->path = path;
	out->fd = out->file.fd;
	return EXIT_OK;
}

int cli_output_finish(const char *cmd, cli_output *out, int ret)
{
	if (out->path == NULL)
		return ret;
	if (ret == EXIT_OK && outfile_commit(&out->file) < 0) {
		cli_error(cmd, "%s", out->file.error);
		ret = EXIT_IO;
	}
	outfile_abort(&out->file); /* nothing left after a commit */
	restore_signals();
	out->path = NULL;
	out->fd = -1;
	return ret;
}
