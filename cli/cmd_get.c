/*
 * cmd_get.c - `eris get`: fetch, verify and decode the content named by a
 * URN, optionally a byte range of it, to standard output or to a file.
 * A file is written under a temporary name in the same directory and
 * renamed into place only when all of it has been verified.
 */
#define _GNU_SOURCE /* getopt_long */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { OPT_STORE = 256, OPT_OFFSET, OPT_LENGTH };

static const struct option get_options[] = {
	{ "store", required_argument, NULL, OPT_STORE },
	{ "offset", required_argument, NULL, OPT_OFFSET },
	{ "length", required_argument, NULL, OPT_LENGTH },
	{ "output", required_argument, NULL, 'o' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/*
 * The temporary output file, removed if a signal ends the program before
 * it is renamed into place.
 */
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

/*
 * Create "DIR/.NAME.XXXXXX" next to `path`, with the permissions a new
 * file would get. Returns the fd (temp_path set) or -1 after an error.
 */
static int create_temp(const char *cmd, const char *path)
{
	const char *slash = strrchr(path, '/');
	size_t dir_len = slash ? (size_t)(slash - path) + 1 : 0;
	const char *base = path + dir_len;
	mode_t mask;
	int fd;

	if (base[0] == '\0') {
		cli_error(cmd, "cannot write to '%s': not a file name", path);
		return -1;
	}
	temp_path = malloc(dir_len + strlen(base) + 9);
	if (temp_path == NULL) {
		cli_error(cmd, "out of memory");
		return -1;
	}
	memcpy(temp_path, path, dir_len);
	sprintf(temp_path + dir_len, ".%s.XXXXXX", base);
	catch_signals();
	fd = mkstemp(temp_path);
	if (fd < 0) {
		cli_error(cmd, "cannot create a temporary file for '%s': %s",
			  path, strerror(errno));
		restore_signals();
		free(temp_path);
		temp_path = NULL;
		return -1;
	}
	temp_live = 1;
	mask = umask(0);
	umask(mask);
	if (fchmod(fd, 0666 & ~mask) < 0) {
		cli_error(cmd, "cannot set the mode of '%s': %s", temp_path,
			  strerror(errno));
		close(fd);
		unlink(temp_path);
		temp_live = 0;
		restore_signals();
		free(temp_path);
		temp_path = NULL;
		return -1;
	}
	return fd;
}

/* Close the temporary file; rename it to `path` if `ok`, else remove it.
 * Returns `ret`, or EXIT_IO if finishing the file failed. */
static int finish_temp(const char *cmd, int fd, const char *path, int ret)
{
	if (ret == EXIT_OK && fsync(fd) < 0) {
		cli_error(cmd, "cannot write '%s': %s", path, strerror(errno));
		ret = EXIT_IO;
	}
	if (close(fd) < 0 && ret == EXIT_OK) {
		cli_error(cmd, "cannot write '%s': %s", path, strerror(errno));
		ret = EXIT_IO;
	}
	if (ret == EXIT_OK && rename(temp_path, path) < 0) {
		cli_error(cmd, "cannot rename '%s' to '%s': %s", temp_path,
			  path, strerror(errno));
		ret = EXIT_IO;
	}
	if (ret != EXIT_OK)
		unlink(temp_path);
	temp_live = 0;
	restore_signals();
	free(temp_path);
	temp_path = NULL;
	return ret;
}

/* Copy content [start, end) from the decoder to `fd`. */
static int copy_range(const char *cmd, eris_decoder *dec, uint64_t start,
		      uint64_t end, int fd, const char *out_name, int quiet)
{
	uint8_t *buf = malloc(CLI_CHUNK);
	uint64_t pos = start;
	int ret = EXIT_OK;

	if (buf == NULL) {
		cli_error(cmd, "out of memory");
		return EXIT_OTHER;
	}
	progress_start("get", end - start, quiet);
	while (pos < end) {
		size_t want = end - pos < CLI_CHUNK ? (size_t)(end - pos)
						    : CLI_CHUNK;
		size_t got = 0;
		int rc = eris_decoder_pread(dec, buf, want, pos, &got);

		if (rc < 0) {
			ret = cli_lib_error(cmd, rc);
			break;
		}
		if (got == 0) { /* cannot happen below the length */
			cli_error(cmd, "unexpected end of content at byte "
				       "%llu", (unsigned long long)pos);
			ret = EXIT_OTHER;
			break;
		}
		if (cli_write_all(fd, buf, got) < 0) {
			cli_error(cmd, "error writing %s: %s", out_name,
				  strerror(errno));
			ret = EXIT_IO;
			break;
		}
		pos += got;
		progress_update(pos - start);
	}
	progress_clear();
	eris_memzero(buf, CLI_CHUNK);
	free(buf);
	return ret;
}

int cmd_get(int argc, char **argv)
{
	static const char cmd[] = "get";
	const char *store_spec = NULL, *out_path = NULL;
	uint64_t offset = 0, length = 0, size, start, end;
	int have_length = 0, quiet = 0, c, rc, ret, fd;
	eris_store *store = NULL;
	eris_decoder *dec = NULL;
	eris_read_cap cap;

	optind = 1;
	while ((c = getopt_long(argc, argv, ":o:qh", get_options, NULL)) !=
	       -1) {
		switch (c) {
		case OPT_STORE:
			store_spec = optarg;
			break;
		case OPT_OFFSET:
			if (cli_parse_u64(cmd, "--offset", optarg, &offset) < 0)
				return cli_try_help(cmd);
			break;
		case OPT_LENGTH:
			if (cli_parse_u64(cmd, "--length", optarg, &length) < 0)
				return cli_try_help(cmd);
			have_length = 1;
			break;
		case 'o':
			out_path = optarg;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'h':
			cli_usage(stdout, cmd);
			return EXIT_OK;
		default:
			return cli_bad_option(cmd, c, argv);
		}
	}
	if (argc - optind != 1) {
		cli_error(cmd, argc == optind ? "no URN given"
					      : "only one URN can be given");
		return cli_try_help(cmd);
	}
	if (out_path && out_path[0] == '\0') {
		cli_error(cmd, "-o needs a file name");
		return cli_try_help(cmd);
	}
	if (out_path && strcmp(out_path, "-") == 0)
		out_path = NULL;
	if (cli_parse_urn(cmd, argv[optind], &cap) < 0)
		return EXIT_USAGE;

	ret = cli_open_store(cmd, store_spec, 0, &store);
	if (ret != EXIT_OK)
		return ret;
	rc = eris_decoder_new(&dec, store, &cap);
	if (rc < 0) {
		ret = cli_lib_error(cmd, rc);
		goto out;
	}

	/* The range to write; past the end it is empty. */
	size = eris_decoder_length(dec);
	start = offset < size ? offset : size;
	end = size;
	if (have_length && length < end - start)
		end = start + length;

	if (out_path == NULL) {
		ret = copy_range(cmd, dec, start, end, STDOUT_FILENO,
				 "standard output", quiet);
	} else {
		fd = create_temp(cmd, out_path);
		if (fd < 0) {
			ret = EXIT_IO;
			goto out;
		}
		ret = copy_range(cmd, dec, start, end, fd, out_path, quiet);
		ret = finish_temp(cmd, fd, out_path, ret);
	}
out:
	eris_decoder_free(dec);
	eris_store_free(store);
	return ret;
}
