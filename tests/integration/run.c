/*
 * run.c - runner of the integration suites.  Usage:
 *   integration-tests [SUITE]
 * Needs the stack started by ci/test.sh (VETRED_HTTP_URL and friends).
 */
#include <stdio.h>
#include <stdlib.h>

#include <curl/curl.h>
#include <libpq-fe.h>

#include "itest.h"
#include "vr.h"

/*
 * The sites already there (the demo's, those of earlier runs) open on
 * the network's holidays, as fx_sede() makes new ones: a suite booking
 * "the day after tomorrow" must not fail on Christmas Eve.  The holiday
 * tests make sites of their own that close.
 */
static int
sites_open_on_holidays(void)
{
	const char *url = getenv("VETRED_DATABASE_URL");
	PGconn *c;
	PGresult *res;
	int ok;

	if (url == NULL)
		return 0;	/* the suites fail with their own message */
	c = PQconnectdb(url);
	res = PQexec(c, "UPDATE sedes SET abre_en_feriados = true WHERE NOT "
	    "abre_en_feriados");
	ok = PQresultStatus(res) == PGRES_COMMAND_OK;
	if (!ok)
		fprintf(stderr, "integration-tests: %s", PQerrorMessage(c));
	PQclear(res);
	PQfinish(c);
	return ok ? 0 : -1;
}

int
main(int argc, char *argv[])
{
	SRunner *sr;
	int failed;

	if ((failed = vr_cli_options(argc, argv, "integration-tests",
	    "usage: integration-tests [SUITE]\n", NULL)) >= 0)
		return failed;
	if (sites_open_on_holidays() < 0)
		return EXIT_FAILURE;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	sr = srunner_create(system_suite());
	srunner_add_suite(sr, errors_suite());
	srunner_add_suite(sr, sedes_suite());
	srunner_add_suite(sr, cors_suite());
	srunner_add_suite(sr, pacientes_suite());
	srunner_add_suite(sr, propietarios_suite());
	srunner_add_suite(sr, clinico_suite());
	srunner_add_suite(sr, entradas_suite());
	srunner_add_suite(sr, citas_suite());
	srunner_add_suite(sr, agenda_suite());
	srunner_add_suite(sr, horarios_suite());
	srunner_add_suite(sr, calendarios_suite());
	srunner_add_suite(sr, concurrency_suite());
	srunner_add_suite(sr, auth_suite());
	srunner_add_suite(sr, access_suite());
	srunner_add_suite(sr, usuarios_suite());
	srunner_add_suite(sr, auditoria_suite());
	srunner_add_suite(sr, tls_suite());
	srunner_add_suite(sr, observability_suite());
	srunner_add_suite(sr, cli_suite());
	srunner_add_suite(sr, trabajos_suite());
	/* It stops and kills the scheduler and the broker, and starts
	 * them again. */
	srunner_add_suite(sr, relay_suite());
	/* It runs its own consumers beside the stack's worker. */
	srunner_add_suite(sr, worker_suite());
	/* Last: it kills an API process. */
	srunner_add_suite(sr, failover_suite());
	srunner_run(sr, argc > 1 ? argv[1] : NULL, NULL, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	curl_global_cleanup();
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
