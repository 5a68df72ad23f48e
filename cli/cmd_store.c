/* cmd_store.c - placeholder for `eris store stats|fsck|gc`. */
#include "cli.h"

const char store_help[] = "Usage: eris store stats|fsck|gc [OPTION]...\n"
			  "(not built yet)\n";

int cmd_store(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	cli_error("store", "not built yet");
	return EXIT_OTHER;
}
