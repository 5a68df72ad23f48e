/*
 * cmd_verify.c - `eris verify`: check that every block of the content
 * named by each URN is in the store and passes the decoding rules R1-R6,
 * without producing the content. One result line per URN on stdout.
 */
#define _GNU_SOURCE /* getopt_long */
#include "cli.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { OPT_STORE = 256, OPT_THREADS };

static const struct option verify_options[] = {
	{ "store", required_argument, NULL, OPT_STORE },
	{ "threads", required_argument, NULL, OPT_THREADS },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* Returns -1 to go on, or an exit code to stop with. */
static int parse_options(const char *cmd, int argc, char **argv,
			 const char **store, unsigned *threads, int *quiet)
{
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, ":qh", verify_options, NULL)) !=
	       -1) {
		switch (c) {
		case OPT_STORE:
			*store = optarg;
			break;
		case OPT_THREADS:
			if (cli_parse_threads(cmd, optarg, threads) < 0)
				return cli_try_help(cmd);
			break;
		case 'q':
			*quiet = 1;
			break;
		default:
			return cli_help_or_bad_option(cmd, c, argv);
		}
	}
	return -1;
}

/* eris_verify reports the leaves checked so far; show them as bytes. */
static void on_progress(uint64_t leaves, void *payload)
{
	const eris_read_cap *cap = payload;

	progress_update(leaves * cap->block_size);
}

/* Verify one capability; prints its result line, returns an exit code. */
static int verify_one(const char *urn, const eris_read_cap *cap,
		      eris_store *store, unsigned threads, int quiet)
{
	eris_decode_options opts = ERIS_DECODE_OPTIONS_INIT;
	char msg[768];
	uint64_t blocks = 0;
	int rc = ERIS_OK;

	opts.threads = threads;
	if (progress_wanted(quiet)) {
		/* Learn the length (cheap: the right-most path) for the
		 * progress line. A failure here is the verdict. */
		eris_decoder *dec;

		rc = eris_decoder_new(&dec, store, cap);
		if (rc == ERIS_OK) {
			progress_start("verify", eris_decoder_length(dec),
				       quiet);
			eris_decoder_free(dec);
		}
	}
	if (rc == ERIS_OK)
		rc = eris_verify_opts(store, cap, &opts, &blocks,
				      on_progress, (void *)cap);
	progress_clear();
	if (rc < 0) {
		printf("%s: FAILED: %s\n", urn,
		       cli_describe(rc, msg, sizeof(msg)));
		return cli_exit_code(rc);
	}
	if (!quiet)
		printf("%s: OK (%llu blocks)\n", urn,
		       (unsigned long long)blocks);
	return EXIT_OK;
}

int cmd_verify(int argc, char **argv)
{
	static const char cmd[] = "verify";
	const char *store_spec = NULL;
	eris_store *store = NULL;
	eris_read_cap *caps;
	int quiet = 0, n, failed = 0, ret;
	unsigned threads = 0;

	ret = parse_options(cmd, argc, argv, &store_spec, &threads, &quiet);
	if (ret >= 0)
		return ret;
	n = argc - optind;
	if (n == 0) {
		cli_error(cmd, "no URN given");
		return cli_try_help(cmd);
	}

	/* Every argument must be a URN before anything is checked. */
	caps = calloc((size_t)n, sizeof(*caps));
	if (caps == NULL) {
		cli_error(cmd, "out of memory");
		return EXIT_OTHER;
	}
	for (int i = 0; i < n; i++) {
		const char *arg = argv[optind + i];

		if (eris_urn_parse(&caps[i], arg, strlen(arg)) < 0) {
			cli_error(cmd, "'%s': %s", arg, eris_error_last());
			free(caps);
			return EXIT_USAGE;
		}
	}

	if (threads == 0)
		threads = cli_default_threads();
	ret = cli_open_store(cmd, store_spec, 0, &store);
	if (ret == EXIT_OK) {
		for (int i = 0; i < n; i++) {
			int r = verify_one(argv[optind + i], &caps[i], store,
					   threads, quiet);

			fflush(stdout);
			if (r != EXIT_OK)
				failed++;
			if (r > ret)
				ret = r;
		}
		if (failed)
			cli_error(cmd, "%d of %d URN%s FAILED", failed, n,
				  n == 1 ? "" : "s");
	}
	eris_store_free(store);
	free(caps);
	return ret;
}
