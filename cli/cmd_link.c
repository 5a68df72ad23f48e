/* cmd_link.c - placeholder for `eris link`. */
#include "cli.h"

const char link_help[] = "Usage: eris link URN [--mime TYPE]\n"
			 "(not built yet)\n";

int cmd_link(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	cli_error("link", "not built yet");
	return EXIT_OTHER;
}
