/*
 * cmd_verify.c - `eris verify`: check that every block of the content
 * named by each URN is in the store and passes the decoding rules R1-R6,
 * without producing the content. One result line per URN on stdout.
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h> /* optind */

/* eris_verify reports the leaves checked so far; show them as bytes. */
static void on_progress(uint64_t leaves, void *payload)
{
	const eris_read_cap *cap = payload;

	progress_update(leaves * cap->block_size);
}

/* Verify one capability; prints its result line, returns an exit code. */
static int verify_one(const char *urn, const eris_read_cap *cap,
		      eris_store *store, int quiet)
{
	char msg[768];
	uint64_t blocks = 0;
	int rc = ERIS_OK;

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
		rc = eris_verify(store, cap, &blocks, on_progress,
				 (void *)cap);
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

	ret = cli_parse_store_options(cmd, argc, argv, &store_spec, &quiet);
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

	ret = cli_open_store(cmd, store_spec, 0, &store);
	if (ret == EXIT_OK) {
		for (int i = 0; i < n; i++) {
			int r = verify_one(argv[optind + i], &caps[i], store,
					   quiet);

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
