/* cmd_bundle.c - placeholder for `eris export` and `eris import`. */
#include "cli.h"

const char export_help[] = "Usage: eris export [--store STORE] URN...\n"
			   "(not built yet)\n";
const char import_help[] = "Usage: eris import [--store STORE] FILE\n"
			   "(not built yet)\n";

int cmd_export(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	cli_error("export", "not built yet");
	return EXIT_OTHER;
}

int cmd_import(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	cli_error("import", "not built yet");
	return EXIT_OTHER;
}
