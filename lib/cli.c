/*
 * cli.c - what every VetRed binary answers on its command line before it
 * reads any configuration: --help (usage on stdout, exit 0), --version
 * (the version on stdout, exit 0), an option it does not know (usage on
 * stderr, exit 2).  The version is set in one place, VERSION in
 * config.mk, and reaches the code as VR_VERSION.
 */
#include <stdio.h>
#include <string.h>

#include "vr.h"

#ifndef VR_VERSION
#error "VR_VERSION is not defined (config.mk passes -DVR_VERSION)"
#endif

const char *
vr_version(void)
{
	return VR_VERSION;
}

static int
is_known(const char *arg, const char *const *known)
{
	for (; known != NULL && *known != NULL; known++)
		if (strcmp(arg, *known) == 0)
			return 1;
	return 0;
}

int
vr_cli_options(int argc, char **argv, const char *prog, const char *usage,
    const char *const *known)
{
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0) {
			fputs(usage, stdout);
			return 0;
		}
		if (strcmp(argv[i], "--version") == 0) {
			printf("%s %s\n", prog, VR_VERSION);
			return 0;
		}
	}
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (argv[i][0] == '-' && argv[i][1] != '\0' &&
		    !is_known(argv[i], known)) {
			fprintf(stderr, "%s: unknown option %s\n%s", prog,
			    argv[i], usage);
			return 2;
		}
	}
	return -1;
}
