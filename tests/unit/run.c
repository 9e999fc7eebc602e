/*
 * run.c - the unit test runner: every module's suite in one SRunner.
 *
 *   unit-tests            run all suites
 *   unit-tests <suite>    run one suite (err, mem, config, log, json, valid,
 *                         db, migrate, amqp, router, metrics, httpd,
 *                         openapi, result, ...)
 *
 * Fork mode (Check's default): each test runs in its own process, so a
 * crash fails that test only.  The db and migrate suites need
 * VETRED_DATABASE_URL, the amqp suite VETRED_AMQP_URL; without them their
 * tests fail and say so.  Exit status 0 only when every test passed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vr.h"
#include "tests.h"

char *
ut_slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *text = NULL;
	size_t n = 0;

	ck_assert_msg(f != NULL, "cannot read %s (run from the repository "
	    "root)", path);
	ck_assert_int_ge(getdelim(&text, &n, '\0', f), 0);
	fclose(f);
	return text;
}

/*
 * Under AddressSanitizer malloc(SIZE_MAX) must return NULL, as it does
 * without it, so the out-of-memory tests see vr_x*() abort.
 */
const char	*__asan_default_options(void);

const char *
__asan_default_options(void)
{
	return "allocator_may_return_null=1";
}

static const struct {
	const char	*name;
	Suite		*(*fn)(void);
} suites[] = {
	{ "err", err_suite },
	{ "mem", mem_suite },
	{ "config", config_suite },
	{ "log", log_suite },
	{ "json", json_suite },
	{ "valid", valid_suite },
	{ "time", time_suite },
	{ "db", db_suite },
	{ "migrate", migrate_suite },
	{ "amqp", amqp_suite },
	{ "router", router_suite },
	{ "metrics", metrics_suite },
	{ "httpd", httpd_suite },
	{ "openapi", openapi_suite },
	{ "b64", b64_suite },
	{ "jwt", jwt_suite },
	{ "keyring", keyring_suite },
	{ "auth", auth_suite },
	{ "password", password_suite },
	{ "cifra", cifra_suite },
	{ "result", result_suite },
	{ "sql", sql_suite },
	{ "cron", cron_suite },
	{ "ical", ical_suite },
};

#define NSUITES	(sizeof(suites) / sizeof(suites[0]))

int
main(int argc, char **argv)
{
	SRunner *sr = NULL;
	const char *only = argc > 1 ? argv[1] : NULL;
	size_t i;
	int failed;

	if ((failed = vr_cli_options(argc, argv, "unit-tests",
	    "usage: unit-tests [SUITE]\n", NULL)) >= 0)
		return failed;
	if (only != NULL) {
		for (i = 0; i < NSUITES; i++)
			if (strcmp(only, suites[i].name) == 0)
				break;
		if (i == NSUITES) {
			fprintf(stderr, "unit-tests: no suite \"%s\"; one of:",
			    only);
			for (i = 0; i < NSUITES; i++)
				fprintf(stderr, " %s", suites[i].name);
			fprintf(stderr, "\n");
			return 2;
		}
	}
	/* Tests that look at the log set their own level; the rest is quiet. */
	vr_log_init("unit-tests", VR_LOG__MAX);
	for (i = 0; i < NSUITES; i++) {
		if (sr == NULL)
			sr = srunner_create(suites[i].fn());
		else
			srunner_add_suite(sr, suites[i].fn());
	}
	srunner_run(sr, only, NULL, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
