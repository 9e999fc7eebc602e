/*
 * check_trabajos.c - the periodic jobs (table trabajos), fired by the
 * stack's scheduler and by a second one this suite starts: each run of a
 * 1-second job fires once over 20 periods, in cadence; a job that missed
 * its runs fires once; a cron schedule is read in the job's zone; a
 * schedule with no next run, or one that does not parse, disables its
 * job with the reason and fires nothing; an unknown zone is refused.
 * And the operator's API (admin_red only): list, read, change a
 * schedule (validated by the scheduler's parser: 422 and nothing
 * changed), run one now; every other caller and every bad input a 4xx
 * that changes nothing.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "itest.h"

/*
 * Test jobs are named prueba_*: they and their messages are removed
 * before every test, and the jobs after it (the messages of the last run
 * stay, valid events of their type, for the event contracts' check).
 */
static void
forget_jobs(void)
{
	db_execf("DELETE FROM trabajos WHERE nombre LIKE 'prueba\\_%%'");
	db_execf("DELETE FROM outbox WHERE tipo = 'trabajo.disparado' AND "
	    "agregado_id LIKE 'prueba\\_%%'");
}

static void
forget_jobs_only(void)
{
	db_execf("DELETE FROM trabajos WHERE nombre LIKE 'prueba\\_%%'");
}

/* Wait up to secs for the SQL count to reach want; the last count. */
static long long
wait_count(const char *sql, long long want, int secs)
{
	long long n = -1;
	int i;

	for (i = 0; i < secs * 10; i++) {
		if ((n = db_count(sql)) >= want)
			break;
		usleep(100000);
	}
	return n;
}

/* A second scheduler beside the supervised one; its pid. */
static pid_t
second_scheduler(const char *instance)
{
	const char *bin = getenv("VETRED_STACK_BIN");
	char path[1024], logf[1024];
	pid_t pid;

	ck_assert_msg(bin != NULL && *bin, "VETRED_STACK_BIN is not set: "
	    "source the stack's env file");
	snprintf(path, sizeof(path), "%s/vetred-scheduler", bin);
	snprintf(logf, sizeof(logf), "%s/log/scheduler-%s.log", stack_dir(),
	    instance);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		setenv("VETRED_SCHEDULER_INSTANCE", instance, 1);
		setenv("VETRED_SCHEDULER_METRICS_ADDR", "off", 1);
		setenv("VETRED_LOG_FILE", logf, 1);
		execl(path, path, (char *)NULL);
		_exit(127);
	}
	return pid;
}

static void
stop_scheduler(pid_t pid)
{
	int st = 0, i;

	ck_assert_int_eq(kill(pid, SIGTERM), 0);
	for (i = 0; i < 100; i++) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			break;
		usleep(100000);
	}
	ck_assert_msg(i < 100, "the second scheduler did not stop on SIGTERM");
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "the second scheduler ended with status %d", st);
}

/*
 * Two schedulers, a 1-second job, 20 periods: every firing number once
 * in the outbox, each due 1 s after the one before (no drift, no run
 * skipped, none twice).
 */
START_TEST(cada_periodo_una_vez_con_dos_schedulers)
{
	pid_t b = second_scheduler("prueba-b");
	long long n, gaps;

	db_execf("INSERT INTO trabajos (nombre, descripcion, intervalo_s, "
	    "proximo_en) VALUES ('prueba_segundo', 'prueba', 1, "
	    "date_trunc('second', now()) + interval '1 second')");
	n = wait_count("SELECT count(*) FROM outbox WHERE tipo = "
	    "'trabajo.disparado' AND agregado_id = 'prueba_segundo'", 20, 40);
	db_execf("UPDATE trabajos SET habilitado = false WHERE nombre = "
	    "'prueba_segundo'");
	usleep(300000);		/* a firing in flight commits */
	stop_scheduler(b);
	ck_assert_int_ge(n, 20);
	n = db_count("SELECT count(*) FROM outbox WHERE tipo = "
	    "'trabajo.disparado' AND agregado_id = 'prueba_segundo'");
	/* One row per firing number, numbered 1..n, as trabajos counts. */
	ck_assert_int_eq(db_count("SELECT count(DISTINCT (payload->>'disparo')"
	    "::int) FROM outbox WHERE tipo = 'trabajo.disparado' AND "
	    "agregado_id = 'prueba_segundo'"), n);
	ck_assert_int_eq(db_count("SELECT max((payload->>'disparo')::int) FROM "
	    "outbox WHERE tipo = 'trabajo.disparado' AND agregado_id = "
	    "'prueba_segundo'"), n);
	ck_assert_int_eq(db_count("SELECT disparos FROM trabajos WHERE nombre "
	    "= 'prueba_segundo'"), n);
	/* Each due exactly 1 s after the one before. */
	gaps = db_count("SELECT count(*) FROM (SELECT (payload->>'programado_"
	    "para')::timestamptz - lag((payload->>'programado_para')::"
	    "timestamptz) OVER (ORDER BY (payload->>'disparo')::int) AS d "
	    "FROM outbox WHERE tipo = 'trabajo.disparado' AND agregado_id = "
	    "'prueba_segundo') g WHERE d <> interval '1 second'");
	ck_assert_int_eq(gaps, 0);
	/* Fired at or after it was due, never before. */
	ck_assert_int_eq(db_count("SELECT count(*) FROM outbox WHERE tipo = "
	    "'trabajo.disparado' AND agregado_id = 'prueba_segundo' AND "
	    "(payload->>'disparado_en')::timestamptz < (payload->>'programado_"
	    "para')::timestamptz"), 0);
}
END_TEST

/* Ten minutes of a 1-minute job missed: one firing, then in cadence. */
START_TEST(atraso_dispara_una_vez)
{
	db_execf("INSERT INTO trabajos (nombre, descripcion, intervalo_s, "
	    "proximo_en) VALUES ('prueba_atrasado', 'prueba', 60, now() - "
	    "interval '10 minutes 30 seconds')");
	ck_assert_int_eq(wait_count("SELECT disparos FROM trabajos WHERE "
	    "nombre = 'prueba_atrasado'", 1, 10), 1);
	sleep(2);	/* nothing more comes */
	ck_assert_int_eq(db_count("SELECT count(*) FROM outbox WHERE tipo = "
	    "'trabajo.disparado' AND agregado_id = 'prueba_atrasado'"), 1);
	ck_assert_int_eq(db_count("SELECT count(*) FROM trabajos WHERE nombre "
	    "= 'prueba_atrasado' AND disparos = 1 AND proximo_en > now() AND "
	    "proximo_en <= now() + interval '60 seconds'"), 1);
	/* The next run is on the job's cadence (a multiple of 60 s after
	 * the run that was due). */
	ck_assert_int_eq(db_count("SELECT count(*) FROM trabajos t, outbox o "
	    "WHERE t.nombre = 'prueba_atrasado' AND o.agregado_id = t.nombre "
	    "AND o.tipo = 'trabajo.disparado' AND extract(epoch FROM "
	    "t.proximo_en - (o.payload->>'programado_para')::timestamptz)::"
	    "numeric % 60 = 0"), 1);
}
END_TEST

/*
 * A daily cron at 03:00 in its zone: its next run is the next 03:00 of
 * Lima (UTC-5) for one job and of Tokyo (UTC+9) for another.
 */
START_TEST(cron_en_su_zona)
{
	static const char *const zones[2] = { "America/Lima", "Asia/Tokyo" };
	static const char *const names[2] = { "lima", "tokio" };
	int i;

	for (i = 0; i < 2; i++)
		db_execf("INSERT INTO trabajos (nombre, descripcion, programa, "
		    "zona_horaria, proximo_en) VALUES ('prueba_cron_%s', "
		    "'prueba', '0 3 * * *', '%s', now() - interval '1 second')",
		    names[i], zones[i]);
	ck_assert_int_eq(wait_count("SELECT count(*) FROM trabajos WHERE "
	    "nombre LIKE 'prueba\\_cron\\_%' AND disparos = 1", 2, 10), 2);
	for (i = 0; i < 2; i++)
		ck_assert_msg(db_countf("SELECT count(*) FROM trabajos WHERE "
		    "nombre = 'prueba_cron_%s' AND proximo_en = (date_trunc("
		    "'day', ultimo_disparo_en AT TIME ZONE '%s') + CASE WHEN "
		    "(ultimo_disparo_en AT TIME ZONE '%s')::time < '03:00' THEN "
		    "interval '3 hours' ELSE interval '27 hours' END) AT TIME "
		    "ZONE '%s'", names[i], zones[i], zones[i], zones[i]) == 1,
		    "%s: the next run is not the next 03:00 there", zones[i]);
	ck_assert_int_eq(db_count("SELECT count(*) FROM outbox WHERE tipo = "
	    "'trabajo.disparado' AND agregado_id LIKE 'prueba\\_cron\\_%' AND "
	    "payload->>'zona_horaria' IN ('America/Lima', 'Asia/Tokyo')"), 2);
}
END_TEST

/*
 * Schedules that cannot run: one that does not parse (written past the
 * API, straight into the table) and 30 February.  Each job is disabled
 * with its reason; nothing fires.
 */
START_TEST(programa_imposible_deshabilita)
{
	char *err;

	db_execf("INSERT INTO trabajos (nombre, descripcion, programa, "
	    "proximo_en) VALUES ('prueba_ilegible', 'prueba', '61 * * * *', "
	    "now()), ('prueba_nunca', 'prueba', '0 0 30 2 *', now())");
	ck_assert_int_eq(wait_count("SELECT count(*) FROM trabajos WHERE "
	    "nombre IN ('prueba_ilegible', 'prueba_nunca') AND NOT habilitado",
	    2, 10), 2);
	ck_assert_int_eq(db_count("SELECT count(*) FROM trabajos WHERE nombre "
	    "IN ('prueba_ilegible', 'prueba_nunca') AND ultimo_resultado = "
	    "'error' AND disparos = 0 AND ultimo_disparo_en IS NULL"), 2);
	err = db_value("SELECT ultimo_error FROM trabajos WHERE nombre = "
	    "'prueba_ilegible'");
	ck_assert_ptr_nonnull(err);
	ck_assert_msg(strstr(err, "minuto") != NULL, "reason: %s", err);
	free(err);
	err = db_value("SELECT ultimo_error FROM trabajos WHERE nombre = "
	    "'prueba_nunca'");
	ck_assert_ptr_nonnull(err);
	ck_assert_msg(strstr(err, "próxima") != NULL, "reason: %s", err);
	free(err);
	ck_assert_int_eq(db_count("SELECT count(*) FROM outbox WHERE tipo = "
	    "'trabajo.disparado' AND agregado_id IN ('prueba_ilegible', "
	    "'prueba_nunca')"), 0);
}
END_TEST

/* The table refuses what no scheduler could fire. */
START_TEST(tabla_rechaza_lo_invalido)
{
	static const char *const bad[] = {
		"('prueba_zona', 'x', '* * * * *', NULL, 'Marte/Olympus')",
		"('prueba_ambos', 'x', '* * * * *', 5, 'America/Lima')",
		"('prueba_ninguno', 'x', NULL, NULL, 'America/Lima')",
		"('prueba_negativo', 'x', NULL, -1, 'America/Lima')",
		"('prueba_cero', 'x', NULL, 0, 'America/Lima')",
		"('Prueba_Mayus', 'x', NULL, 5, 'America/Lima')",
		"('prueba_1', 'x', NULL, 5, 'America/Lima')",
	};
	size_t i;

	/* Refused with a CHECK violation (the zone's by its trigger), or
	 * the block raises "accepted" and db_execf fails the test. */
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		db_execf("DO $$ BEGIN INSERT INTO trabajos (nombre, descripcion, "
		    "programa, intervalo_s, zona_horaria) VALUES %s; RAISE "
		    "EXCEPTION 'accepted: %%', %s; EXCEPTION WHEN check_violation "
		    "THEN NULL; END $$", bad[i], "''");
	ck_assert_int_eq(db_count("SELECT count(*) FROM trabajos WHERE "
	    "lower(nombre) LIKE 'prueba\\_%'"), 0);
}
END_TEST

/* ---- the operator's API -------------------------------------------- */

static void
job_operador(void)
{
	db_execf("INSERT INTO trabajos (nombre, descripcion, programa, "
	    "habilitado, proximo_en) VALUES ('prueba_operador', 'prueba', "
	    "'0 4 * * *', false, now() + interval '1 day')");
}

/* The row as JSON text: "nothing changed" is this text unchanged. */
static char *
job_row(const char *nombre)
{
	return db_valuef("SELECT row_to_json(t)::text FROM trabajos t WHERE "
	    "nombre = '%s'", nombre);
}

static void
put_job(const char *nombre, const char *body, struct http_resp *r)
{
	char path[160];

	snprintf(path, sizeof(path), "/api/v1/trabajos/%s", nombre);
	http_req("PUT", path, "application/json", body, strlen(body), NULL, r);
}

START_TEST(operador_lista_y_lee)
{
	struct http_resp r;
	const cJSON *e;
	int seen = 0;

	job_operador();
	http_get("/api/v1/trabajos", &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_ptr_nonnull(r.json);
	cJSON_ArrayForEach(e, json_items(r.json)) {
		const char *n = json_s(e, "nombre");

		if (strcmp(n, "purga_outbox") == 0 ||
		    strcmp(n, "sellado_auditoria") == 0 ||
		    strcmp(n, "recordatorios") == 0 ||
		    strcmp(n, "niveles_stock") == 0 ||
		    strcmp(n, "vencimiento_lotes") == 0 ||
		    strcmp(n, "kpi_nocturno") == 0 ||
		    strcmp(n, "prueba_operador") == 0)
			seen++;
	}
	ck_assert_int_eq(seen, 7);
	http_free(&r);
	http_get("/api/v1/trabajos/prueba_operador", &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(json_s(r.json, "programa"), "0 4 * * *");
	ck_assert_str_eq(json_s(r.json, "zona_horaria"), "America/Lima");
	ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(r.json, "habilitado")));
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(r.json, "intervalo_s")));
	/* Times carry the zone's offset. */
	ck_assert_ptr_nonnull(strstr(json_s(r.json, "proximo_en"), "-05:00"));
	http_free(&r);
	http_get("/api/v1/trabajos/no_existe", &r);
	assert_problem(&r, 404, "no-encontrado");
	http_free(&r);
	http_get("/api/v1/trabajos/NoEs%20Nombre", &r);
	assert_problem(&r, 404, "no-encontrado");
	http_free(&r);
}
END_TEST

/* A new cron schedule: the next run is its next 04:30 in Lima; audited. */
START_TEST(operador_cambia_el_programa)
{
	struct http_resp r;
	long long audit0 = db_count("SELECT count(*) FROM auditoria WHERE "
	    "entidad = 'trabajos' AND entidad_id = 'prueba_operador' AND "
	    "accion = 'actualizar' AND despues->>'programa' = '30 4 * * *'");

	job_operador();
	put_job("prueba_operador", "{\"programa\":\"30 4 * * *\","
	    "\"habilitado\":true}", &r);
	ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
	ck_assert_str_eq(json_s(r.json, "programa"), "30 4 * * *");
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(r.json, "habilitado")));
	http_free(&r);
	ck_assert_int_eq(db_count("SELECT count(*) FROM trabajos WHERE nombre "
	    "= 'prueba_operador' AND proximo_en = (date_trunc('day', now() AT "
	    "TIME ZONE 'America/Lima') + CASE WHEN (now() AT TIME ZONE "
	    "'America/Lima')::time < '04:30' THEN interval '4 hours 30 "
	    "minutes' ELSE interval '28 hours 30 minutes' END) AT TIME ZONE "
	    "'America/Lima'"), 1);
	ck_assert_int_eq(db_count("SELECT count(*) FROM auditoria WHERE "
	    "entidad = 'trabajos' AND entidad_id = 'prueba_operador' AND "
	    "accion = 'actualizar' AND despues->>'programa' = '30 4 * * *'"),
	    audit0 + 1);
	/* An interval replaces the schedule; a zone moves a cron's run. */
	put_job("prueba_operador", "{\"intervalo_s\":3600}", &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(r.json, "programa")));
	ck_assert_int_eq((long long)cJSON_GetObjectItem(r.json,
	    "intervalo_s")->valuedouble, 3600);
	http_free(&r);
	ck_assert_int_eq(db_count("SELECT count(*) FROM trabajos WHERE nombre "
	    "= 'prueba_operador' AND proximo_en BETWEEN now() + interval "
	    "'3590 seconds' AND now() + interval '3610 seconds'"), 1);
	put_job("prueba_operador", "{\"programa\":\"@daily\",\"zona_horaria\":"
	    "\"Asia/Tokyo\",\"habilitado\":false}", &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_ptr_nonnull(strstr(json_s(r.json, "proximo_en"),
	    "T00:00:00+09:00"));
	http_free(&r);
}
END_TEST

/* Every bad input: a 4xx naming the field, the row unchanged. */
START_TEST(operador_entrada_invalida_no_cambia_nada)
{
	static const struct {
		const char	*body, *campo;
	} bad[] = {
		{ "{\"programa\":\"61 * * * *\"}", "programa" },
		{ "{\"programa\":\"* * * *\"}", "programa" },
		{ "{\"programa\":\"0 0 30 2 *\"}", "programa" },
		{ "{\"programa\":\"\"}", "programa" },
		{ "{\"programa\":42}", "programa" },
		{ "{\"intervalo_s\":-5}", "intervalo_s" },
		{ "{\"intervalo_s\":0}", "intervalo_s" },
		{ "{\"intervalo_s\":31622401}", "intervalo_s" },
		{ "{\"intervalo_s\":1.5}", "intervalo_s" },
		{ "{\"programa\":\"* * * * *\",\"intervalo_s\":5}", "intervalo_s" },
		{ "{\"zona_horaria\":\"Marte/Olympus\"}", "zona_horaria" },
		{ "{\"habilitado\":\"si\"}", "habilitado" },
		{ "{}", "cuerpo" },
		{ "{\"otro\":1}", "cuerpo" },
	};
	struct http_resp r;
	char *before, *after, big[8192];
	long long audit0;
	size_t i;

	job_operador();
	before = job_row("prueba_operador");
	audit0 = db_count("SELECT count(*) FROM auditoria WHERE entidad = "
	    "'trabajos' AND entidad_id = 'prueba_operador'");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		put_job("prueba_operador", bad[i].body, &r);
		assert_problem(&r, 422, "validacion");
		ck_assert_msg(fx_has_error(&r, bad[i].campo), "%s: no error "
		    "for %s: %s", bad[i].body, bad[i].campo, r.body);
		http_free(&r);
	}
	/* Oversized, not JSON, not an object. */
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, "{\"programa\":\"", 13);
	memcpy(big + sizeof(big) - 3, "\"}", 2);
	put_job("prueba_operador", big, &r);
	assert_problem(&r, 422, "validacion");
	http_free(&r);
	put_job("prueba_operador", "{\"programa\":", &r);
	ck_assert_int_eq(r.status, 400);
	http_free(&r);
	put_job("prueba_operador", "[1]", &r);
	ck_assert_int_eq(r.status, 400);
	http_free(&r);
	put_job("no_existe", "{\"habilitado\":true}", &r);
	assert_problem(&r, 404, "no-encontrado");
	http_free(&r);
	after = job_row("prueba_operador");
	ck_assert_str_eq(after, before);
	free(before);
	free(after);
	ck_assert_int_eq(db_count("SELECT count(*) FROM auditoria WHERE "
	    "entidad = 'trabajos' AND entidad_id = 'prueba_operador'"), audit0);
}
END_TEST

/* Only admin_red: any other role 403, no token 401; nothing changed. */
START_TEST(operador_solo_admin_red)
{
	static const char *const roles[] = { "admin_sede", "veterinario",
	    "recepcion", "auditor" };
	struct http_resp r;
	char *before, *after, *t;
	size_t i;

	job_operador();
	before = job_row("prueba_operador");
	for (i = 0; i < sizeof(roles) / sizeof(roles[0]); i++) {
		t = fx_token_de(roles[i], strcmp(roles[i], "auditor") == 0 ? 0 :
		    1, NULL);
		http_token(t);
		http_get("/api/v1/trabajos", &r);
		assert_problem(&r, 403, "prohibido");
		http_free(&r);
		put_job("prueba_operador", "{\"habilitado\":true}", &r);
		assert_problem(&r, 403, "prohibido");
		http_free(&r);
		http_req("POST", "/api/v1/trabajos/prueba_operador/ejecutar",
		    NULL, NULL, 0, NULL, &r);
		assert_problem(&r, 403, "prohibido");
		http_free(&r);
		free(t);
	}
	http_token_none();
	put_job("prueba_operador", "{\"habilitado\":true}", &r);
	ck_assert_int_eq(r.status, 401);
	http_free(&r);
	http_token(NULL);
	after = job_row("prueba_operador");
	ck_assert_str_eq(after, before);
	free(before);
	free(after);
	ck_assert_int_eq(db_count("SELECT count(*) FROM outbox WHERE tipo = "
	    "'trabajo.disparado' AND agregado_id = 'prueba_operador'"), 0);
}
END_TEST

/*
 * Run now: 202, one message in the outbox with the caller's request id,
 * the schedule as it was (a disabled job too); audited.
 */
START_TEST(operador_ejecuta_ahora)
{
	struct http_resp r;
	char rid[80], *proximo0, *proximo1;

	job_operador();
	proximo0 = db_value("SELECT proximo_en::text FROM trabajos WHERE "
	    "nombre = 'prueba_operador'");
	http_req("POST", "/api/v1/trabajos/prueba_operador/ejecutar", NULL,
	    NULL, 0, NULL, &r);
	ck_assert_msg(r.status == 202, "%ld %s", r.status, r.body);
	ck_assert_int_eq((int)cJSON_GetObjectItem(r.json, "disparos")->valuedouble,
	    1);
	ck_assert_ptr_nonnull(http_header(&r, "X-Request-Id", rid, sizeof(rid)));
	http_free(&r);
	ck_assert_int_eq(db_countf("SELECT count(*) FROM outbox WHERE tipo = "
	    "'trabajo.disparado' AND agregado = 'trabajo' AND agregado_id = "
	    "'prueba_operador' AND request_id = '%s' AND (payload->>'disparo')"
	    "::int = 1", rid), 1);
	proximo1 = db_value("SELECT proximo_en::text FROM trabajos WHERE "
	    "nombre = 'prueba_operador'");
	ck_assert_str_eq(proximo1, proximo0);
	free(proximo0);
	free(proximo1);
	ck_assert_int_eq(db_countf("SELECT count(*) FROM auditoria WHERE "
	    "entidad = 'trabajos' AND entidad_id = 'prueba_operador' AND "
	    "accion = 'ejecutar' AND request_id = '%s'", rid), 1);
	http_req("POST", "/api/v1/trabajos/no_existe/ejecutar", NULL, NULL, 0,
	    NULL, &r);
	assert_problem(&r, 404, "no-encontrado");
	http_free(&r);
	/* GET on the action is not a route method. */
	http_get("/api/v1/trabajos/prueba_operador/ejecutar", &r);
	ck_assert_int_eq(r.status, 405);
	http_free(&r);
}
END_TEST

Suite *
trabajos_suite(void)
{
	Suite *s = suite_create("trabajos");
	TCase *tc = tcase_create("trabajos");

	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, forget_jobs, forget_jobs_only);
	tcase_add_test(tc, cada_periodo_una_vez_con_dos_schedulers);
	tcase_add_test(tc, atraso_dispara_una_vez);
	tcase_add_test(tc, cron_en_su_zona);
	tcase_add_test(tc, programa_imposible_deshabilita);
	tcase_add_test(tc, tabla_rechaza_lo_invalido);
	suite_add_tcase(s, tc);
	tc = tcase_create("operador");
	tcase_add_checked_fixture(tc, forget_jobs, forget_jobs_only);
	tcase_add_test(tc, operador_lista_y_lee);
	tcase_add_test(tc, operador_cambia_el_programa);
	tcase_add_test(tc, operador_entrada_invalida_no_cambia_nada);
	tcase_add_test(tc, operador_solo_admin_red);
	tcase_add_test(tc, operador_ejecuta_ahora);
	suite_add_tcase(s, tc);
	return s;
}
