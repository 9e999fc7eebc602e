/*
 * check_trabajos.c - the periodic jobs (table trabajos), fired by the
 * stack's scheduler and by a second one this suite starts: each run of a
 * 1-second job fires once over 20 periods, in cadence; a job that missed
 * its runs fires once; a cron schedule is read in the job's zone; a
 * schedule with no next run, or one that does not parse, disables its
 * job with the reason and fires nothing; an unknown zone is refused.
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
	return s;
}
