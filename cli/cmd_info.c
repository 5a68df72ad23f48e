/*
 * cmd_info.c - `eris info`: show the parts of a read capability (block
 * size, level, root reference and key) as text or JSON, and with
 * --store the content length read from the tree.
 */
#define _GNU_SOURCE /* getopt_long */
#include "cli.h"

#include <getopt.h>
#include <string.h>

enum { OPT_STORE = 256, OPT_JSON };

static const struct option info_options[] = {
	{ "json", no_argument, NULL, OPT_JSON },
	{ "store", required_argument, NULL, OPT_STORE },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

int cmd_info(int argc, char **argv)
{
	static const char cmd[] = "info";
	char urn[ERIS_URN_BUFSIZE], ref[ERIS_REF_BASE32_LEN + 1],
		key[ERIS_REF_BASE32_LEN + 1];
	const char *store_spec = NULL;
	int json = 0, have_length = 0, c, rc, ret;
	uint64_t length = 0;
	eris_read_cap cap;

	optind = 1;
	while ((c = getopt_long(argc, argv, ":qh", info_options, NULL)) !=
	       -1) {
		switch (c) {
		case OPT_JSON:
			json = 1;
			break;
		case OPT_STORE:
			store_spec = optarg;
			break;
		case 'q':
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
	if (cli_parse_urn(cmd, argv[optind], &cap) < 0)
		return EXIT_USAGE;

	if (store_spec) {
		eris_store *store;
		eris_decoder *dec;

		ret = cli_open_store(cmd, store_spec, 0, &store);
		if (ret != EXIT_OK)
			return ret;
		rc = eris_decoder_new(&dec, store, &cap);
		if (rc < 0) {
			ret = cli_lib_error(cmd, rc);
			eris_store_free(store);
			return ret;
		}
		length = eris_decoder_length(dec);
		have_length = 1;
		eris_decoder_free(dec);
		eris_store_free(store);
	}

	/* The canonical URN (the input may differ in the prefix's case). */
	if (eris_urn_format(urn, &cap) < 0)
		return cli_lib_error(cmd, ERIS_EINVAL);
	eris_base32_encode(ref, cap.root_ref, ERIS_REF_BYTES);
	eris_base32_encode(key, cap.root_key, ERIS_KEY_BYTES);

	/* Every string is base32 or "urn:eris:": nothing needs escaping. */
	if (json) {
		printf("{\"urn\":\"%s\",\"block_size\":%u,\"level\":%u,"
		       "\"root_reference\":\"%s\",\"root_key\":\"%s\"",
		       urn, (unsigned)cap.block_size, (unsigned)cap.level, ref,
		       key);
		if (have_length)
			printf(",\"length\":%llu", (unsigned long long)length);
		printf("}\n");
	} else {
		printf("URN:            %s\n", urn);
		printf("Block size:     %u\n", (unsigned)cap.block_size);
		printf("Level:          %u\n", (unsigned)cap.level);
		printf("Root reference: %s\n", ref);
		printf("Root key:       %s\n", key);
		if (have_length)
			printf("Length:         %llu\n",
			       (unsigned long long)length);
	}
	eris_memzero(&cap, sizeof(cap));
	eris_memzero(key, sizeof(key));
	return EXIT_OK;
}
