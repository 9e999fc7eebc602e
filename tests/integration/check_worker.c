/*
 * check_worker.c - the worker runtime (lib/worker.c) against the real
 * broker and database, through vetred-worker-prueba (worker_prueba.c: a
 * consumer whose effect is a row of prueba_efectos) and the stack's own
 * vetred-worker (the engine's jobs and the dead-letter drain).
 *
 * Poison messages (not JSON, unknown type, no id, oversized, a handler
 * that fails every time, one it refuses) die with their reason, kept in
 * eventos_muertos, while the queue keeps flowing; a fixed one replays
 * once.  A consumer killed mid-message gets it again and the effect
 * happens once; a duplicate does nothing; SIGTERM finishes the message
 * in flight; a message that kills its consumer every time is
 * dead-lettered by the queue's delivery limit.  The jobs purga_outbox and
 * sellado_auditoria run through the engine and record their outcome.
 * Every worker's /metrics passes promtool.
 */
#include <sys/wait.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "itest.h"
#include "amqp_client.h"
#include "vr.h"

#define COLA		"vetred.prueba"

static long long
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A fresh uuid from the database, into out. */
static void
uuid(char out[37])
{
	char *v = db_value("SELECT gen_random_uuid()::text");

	ck_assert_ptr_nonnull(v);
	snprintf(out, 37, "%s", v);
	free(v);
}

/* ---- the test consumer ------------------------------------------------ */

struct prueba {
	pid_t	 pid;
	int	 port;
	char	 log[512];
};

/*
 * Start vetred-worker-prueba with the test's environment and extra
 * (NULL-terminated "NAME=value"), its listener on a free port, stderr to
 * <stack>/log/worker-prueba.log; wait until it consumes.
 */
static void
prueba_start(struct prueba *p, const char *const *extra)
{
	p->pid = prueba_spawn("prueba", extra, p->log, sizeof(p->log),
	    &p->port);
}

static void
prueba_kill(struct prueba *p, int sig)
{
	if (p->pid <= 0)
		return;
	kill(p->pid, sig);
	ck_assert_int_ge(stack_reap(p->pid, 20000), 0);
	p->pid = 0;
}

/* How many lines of its log hold all of the needles. */
static int
log_lines(const char *path, const char *a, const char *b)
{
	char line[8192];
	FILE *f = fopen(path, "r");
	int n = 0;

	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f) != NULL)
		n += strstr(line, a) != NULL && (b == NULL ||
		    strstr(line, b) != NULL);
	fclose(f);
	return n;
}

/* ---- publishing --------------------------------------------------------- */

/* The relay's envelope (scheduler/relay.c) of a test event. */
static char *
envelope(const char *id, const char *tipo, const char *datos)
{
	char *s = NULL;

	ck_assert_int_ge(asprintf(&s, "{\"id\":\"%s\",\"tipo\":\"%s\","
	    "\"version\":1,\"ocurrido_en\":\"2026-12-07T00:00:00.000000Z\","
	    "\"agregado\":\"prueba\",\"agregado_id\":\"1\",\"request_id\":"
	    "\"req-prueba\",\"datos\":%s}", id, tipo, datos), 0);
	return s;
}

/*
 * Publish body to exchange under rkey, confirmed: id NULL sends no
 * message_id, key not NULL sets the header clave.
 */
static void
publish(const char *exchange, const char *rkey, const char *id,
    const char *key, const char *body, size_t len)
{
	struct vr_amqp *a;
	struct vr_amqp_msg m;
	unsigned char st = 0;
	uint64_t tag;
	char err[256];

	ck_assert_msg(vr_amqp_connect(&a, getenv("VETRED_AMQP_URL"), "itest",
	    5000, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(vr_amqp_confirm_select(a, err, sizeof(err)), 0);
	memset(&m, 0, sizeof(m));
	m.message_id = id;
	m.type = rkey;
	m.key = key;
	m.request_id = "req-prueba";
	m.body = body;
	m.len = len;
	m.timestamp = time(NULL);
	ck_assert_int_eq(vr_amqp_publish(a, exchange, rkey, &m, &tag), 0);
	ck_assert_int_eq(vr_amqp_confirms(a, tag, 1, &st, 5000), 0);
	ck_assert_int_eq(st, VR_AMQP_ACKED);
	vr_amqp_close(a);
}

static void
publish_event(const char *id, const char *tipo, const char *datos)
{
	char *b = envelope(id, tipo, datos);

	publish(VR_AMQP_EVENTOS, tipo, id, NULL, b, strlen(b));
	free(b);
}

/* Wait until the SQL count reaches want; the count at the end. */
static long long
wait_count(long long want, int ms, const char *sql)
{
	long long deadline = mono_ms() + ms, n;

	for (;;) {
		n = db_count(sql);
		if (n >= want || mono_ms() > deadline)
			return n;
		usleep(50000);
	}
}

/* Wait until the handler of event id sleeps in its transaction. */
static int
sleeping(const char *id, int ms)
{
	long long deadline = mono_ms() + ms;

	do {
		if (db_countf("SELECT count(*) FROM pg_stat_activity WHERE "
		    "application_name = 'lento-%s' AND state = 'active'", id) > 0)
			return 1;
		usleep(20000);
	} while (mono_ms() < deadline);
	return 0;
}

static long long
efectos(const char *id)
{
	return db_countf("SELECT count(*) FROM prueba_efectos WHERE "
	    "evento_id = '%s'", id);
}

/* The labels of the test consumer's series (instance prueba-1). */
#define PRUEBA_1 "instance=\"prueba-1\",consumer=\"prueba\""

/* ---- 1. poison -------------------------------------------------------- */

/*
 * Every kind of poison dies with its reason and lands in eventos_muertos
 * (through vetred.muertos and the stack's vetred-worker), and a good
 * message published after them is handled meanwhile.  The failing one
 * is retried once after 5 s (VETRED_WORKER_MAX_ATTEMPTS=2), then dies;
 * fixed, it is replayed through the outbox to this consumer alone and
 * handled once.
 */
START_TEST(venenos_mueren_con_su_motivo)
{
	static const char *const env[] = { "VETRED_WORKER_MAX_ATTEMPTS=2",
	    "VETRED_WORKER_MAX_BYTES=4096", NULL };
	char noj[37], desc[37], grande[37], falla[37], rech[37], bueno[37];
	char *b, *big, *motivo, *mid, marca[64];
	struct prueba p;
	struct http_resp r;
	long long t0;
	size_t i;

	uuid(noj); uuid(desc); uuid(grande); uuid(falla); uuid(rech);
	uuid(bueno);
	snprintf(marca, sizeof(marca), "{\"marca\":\"%s\"}", bueno);
	prueba_start(&p, env);
	publish(VR_AMQP_EVENTOS, "prueba.efecto", noj, NULL, "no es {json",
	    strlen("no es {json"));
	/* An unknown type reaches a queue only addressed to it (a replay,
	 * a retry): through vetred.reencolar, its key in the header. */
	b = envelope(desc, "prueba.desconocido", "{}");
	publish(VR_AMQP_REENCOLAR, COLA, desc, "prueba.desconocido", b,
	    strlen(b));
	free(b);
	b = envelope("", "prueba.efecto", marca);
	publish(VR_AMQP_EVENTOS, "prueba.efecto", NULL, NULL, b, strlen(b));
	free(b);
	big = calloc(1, 6000);
	ck_assert_ptr_nonnull(big);
	memcpy(big, "{\"relleno\":\"", 12);
	for (i = 12; i < 5990; i++)
		big[i] = 'x';
	memcpy(big + 5990, "\"}", 3);
	b = envelope(grande, "prueba.efecto", big);
	publish(VR_AMQP_EVENTOS, "prueba.efecto", grande, NULL, b, strlen(b));
	free(b);
	free(big);
	t0 = mono_ms();
	publish_event(falla, "prueba.falla", "{}");
	publish_event(rech, "prueba.descartar", "{}");
	publish_event(bueno, "prueba.efecto", "{\"n\":7}");

	/* The queue keeps flowing: the good one is done long before the
	 * failing one's retry. */
	while (efectos(bueno) < 1 && mono_ms() - t0 < 4000)
		usleep(50000);
	ck_assert_int_eq(efectos(bueno), 1);
	ck_assert_int_lt(mono_ms() - t0, 4500);

	/* Each dies with its reason. */
	{
		long long deadline = mono_ms() + 20000, n;

		do {
			usleep(100000);
			n = db_countf("SELECT count(*) FROM eventos_muertos WHERE "
			    "consumidor = 'vetred.prueba' AND (evento_id IN ('%s', "
			    "'%s', '%s', '%s', '%s') OR (evento_id IS NULL AND "
			    "position('%s' IN muerto_texto(cuerpo)) > 0))", noj,
			    desc, grande, falla, rech, bueno);
		} while (n < 6 && mono_ms() < deadline);
		ck_assert_int_eq(n, 6);
	}
	ck_assert_int_ge(mono_ms() - t0, 4500);	/* the retry waited 5 s */
	motivo = db_valuef("SELECT motivo FROM eventos_muertos WHERE "
	    "evento_id = '%s'", noj);
	ck_assert_str_eq(motivo, "el cuerpo no es un objeto JSON");
	free(motivo);
	motivo = db_valuef("SELECT motivo FROM eventos_muertos WHERE "
	    "evento_id = '%s'", desc);
	ck_assert_ptr_nonnull(strstr(motivo, "tipo desconocido"));
	free(motivo);
	ck_assert_int_eq(db_countf("SELECT count(*) FROM eventos_muertos WHERE "
	    "consumidor = 'vetred.prueba' AND evento_id IS NULL AND motivo = "
	    "'sin id de evento (message_id)' AND position('%s' IN "
	    "muerto_texto(cuerpo)) > 0", bueno), 1);
	motivo = db_valuef("SELECT motivo || ' ' || tamano FROM eventos_muertos "
	    "WHERE evento_id = '%s'", grande);
	ck_assert_ptr_nonnull(strstr(motivo, "demasiado grande"));
	free(motivo);
	motivo = db_valuef("SELECT motivo || '|' || intentos FROM "
	    "eventos_muertos WHERE evento_id = '%s'", falla);
	ck_assert_msg(strstr(motivo, "agotó 2 intentos: falla a propósito") !=
	    NULL && strstr(motivo, "|2") != NULL, "%s", motivo);
	free(motivo);
	motivo = db_valuef("SELECT motivo FROM eventos_muertos WHERE "
	    "evento_id = '%s'", rech);
	ck_assert_str_eq(motivo, "descartado a propósito");
	free(motivo);
	ck_assert_int_eq(efectos(falla) + efectos(rech) + efectos(noj) +
	    efectos(grande), 0);
	ck_assert_int_eq(log_lines(p.log, "\"verdict\":\"retry\"", falla), 1);

	/* Its metrics: the retry and the deaths, counted per key. */
	{
		char url[128];

		snprintf(url, sizeof(url), "http://127.0.0.1:%d/metrics", p.port);
		http_get_url(url, &r);
		ck_assert_int_eq(r.status, 200);
		metrics_promtool_ok(&r, "vetred-worker-prueba");
		ck_assert(metrics_sum(r.body, "vetred_worker_messages_retried_total",
		    PRUEBA_1 ",key=\"prueba.falla\"") == 1);
		ck_assert(metrics_sum(r.body, "vetred_worker_messages_dead_total",
		    PRUEBA_1 ",key=\"prueba.falla\"") == 1);
		ck_assert(metrics_sum(r.body, "vetred_worker_messages_dead_total",
		    PRUEBA_1 ",key=\"desconocido\"") == 1);
		ck_assert(metrics_sum(r.body, "vetred_worker_messages_done_total",
		    PRUEBA_1 ",key=\"prueba.efecto\"") >= 1);
		ck_assert(metrics_sum(r.body,
		    "vetred_worker_handler_duration_seconds_count", PRUEBA_1) >= 1);
		http_free(&r);
		snprintf(url, sizeof(url), "http://127.0.0.1:%d/ready", p.port);
		http_get_url(url, &r);
		ck_assert_int_eq(r.status, 200);
		http_free(&r);
	}

	/* Not replayable: no JSON. */
	mid = db_valuef("SELECT id FROM eventos_muertos WHERE evento_id = "
	    "'%s'", noj);
	motivo = db_valuef("SELECT reenviar_muerto(%s, NULL, 'admin_red', "
	    "'req-prueba', NULL)->>'codigo'", mid);
	ck_assert_str_eq(motivo, "no-reenviable");
	free(motivo);
	free(mid);
	/* Fixed and replayed: handled once, by this consumer. */
	db_execf("INSERT INTO prueba_arreglos VALUES ('%s')", falla);
	mid = db_valuef("SELECT id FROM eventos_muertos WHERE evento_id = "
	    "'%s'", falla);
	motivo = db_valuef("SELECT reenviar_muerto(%s, NULL, 'admin_red', "
	    "'req-prueba', NULL)->>'codigo'", mid);
	ck_assert_str_eq(motivo, "aceptado");
	free(motivo);
	t0 = mono_ms();
	while (efectos(falla) < 1 && mono_ms() - t0 < 10000)
		usleep(50000);
	ck_assert_int_eq(efectos(falla), 1);
	ck_assert_int_eq(db_countf("SELECT reenvios FROM eventos_muertos WHERE "
	    "id = %s", mid), 1);
	free(mid);
	prueba_kill(&p, SIGTERM);
	db_execf("DELETE FROM outbox WHERE evento_id = '%s'", falla);
}
END_TEST

/* ---- 2. redelivery and duplicates ------------------------------------- */

/*
 * Killed (SIGKILL) while its handler sleeps in the transaction: nothing
 * was committed nor acked; the next consumer gets it again (redelivered)
 * and the effect happens once.  The same message published twice: one
 * effect, the second a duplicate.
 */
START_TEST(muerto_a_medias_se_procesa_una_vez)
{
	char lento[37], dup[37];
	struct prueba p;

	uuid(lento);
	uuid(dup);
	prueba_start(&p, NULL);
	publish_event(lento, "prueba.lento", "{\"segundos\":3}");
	ck_assert(sleeping(lento, 5000));
	prueba_kill(&p, SIGKILL);
	ck_assert_int_eq(efectos(lento), 0);
	prueba_start(&p, NULL);
	{
		long long deadline = mono_ms() + 10000;

		while (efectos(lento) < 1 && mono_ms() < deadline)
			usleep(50000);
	}
	ck_assert_int_eq(efectos(lento), 1);
	ck_assert_int_eq(log_lines(p.log, "\"redelivered\":true", lento), 1);

	publish_event(dup, "prueba.efecto", "{}");
	publish_event(dup, "prueba.efecto", "{}");
	{
		long long deadline = mono_ms() + 5000;

		while (log_lines(p.log, "\"verdict\":\"duplicate\"", dup) < 1 &&
		    mono_ms() < deadline)
			usleep(50000);
	}
	ck_assert_int_eq(log_lines(p.log, "\"verdict\":\"duplicate\"", dup), 1);
	ck_assert_int_eq(efectos(dup), 1);
	/* The effect stays once after a while. */
	usleep(500000);
	ck_assert_int_eq(efectos(lento), 1);
	prueba_kill(&p, SIGTERM);
}
END_TEST

/*
 * SIGTERM while a handler runs: the message is finished (its effect
 * committed and acked), the process exits 0, and nothing comes again.
 */
START_TEST(sigterm_termina_el_mensaje)
{
	char id[37];
	struct prueba p;
	int st;

	uuid(id);
	prueba_start(&p, NULL);
	publish_event(id, "prueba.lento", "{\"segundos\":1.5}");
	ck_assert(sleeping(id, 5000));
	kill(p.pid, SIGTERM);
	st = stack_reap(p.pid, 10000);
	p.pid = 0;
	ck_assert_msg(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "status %d", st);
	ck_assert_int_eq(efectos(id), 1);
	ck_assert_int_eq(log_lines(p.log, "\"msg\":\"worker stopped\"", NULL), 1);
	prueba_start(&p, NULL);
	usleep(700000);
	ck_assert_int_eq(efectos(id), 1);
	ck_assert_int_eq(log_lines(p.log, id, NULL), 0);
	prueba_kill(&p, SIGTERM);
}
END_TEST

/*
 * A message its consumer dies on every time: the work queue's delivery
 * limit dead-letters it, and the drain keeps it with the broker's reason
 * and the queue it died in.  No effect ever.
 */
START_TEST(limite_de_entregas)
{
	char id[37];
	struct prueba p;
	char *motivo;
	int i;

	uuid(id);
	publish_event(id, "prueba.lento", "{\"segundos\":20}");
	for (i = 0; i < VR_AMQP_DELIVERY_LIMIT + 3; i++) {
		if (db_countf("SELECT count(*) FROM eventos_muertos WHERE "
		    "evento_id = '%s'", id) > 0)
			break;
		prueba_start(&p, NULL);
		if (!sleeping(id, 4000)) {
			prueba_kill(&p, SIGKILL);
			break;	/* it never came: dead already */
		}
		prueba_kill(&p, SIGKILL);
	}
	{
		long long deadline = mono_ms() + 10000;

		while (db_countf("SELECT count(*) FROM eventos_muertos WHERE "
		    "evento_id = '%s' AND consumidor = 'vetred.prueba' AND "
		    "motivo LIKE '%%delivery_limit%%'", id) < 1 &&
		    mono_ms() < deadline)
			usleep(50000);
	}
	motivo = db_valuef("SELECT motivo FROM eventos_muertos WHERE "
	    "evento_id = '%s'", id);
	ck_assert_ptr_nonnull(motivo);
	ck_assert_ptr_nonnull(strstr(motivo, "máximo de veces"));
	free(motivo);
	ck_assert_int_eq(efectos(id), 0);
	ck_assert_int_le(i, VR_AMQP_DELIVERY_LIMIT + 2);
}
END_TEST

/* ---- 3. the engine's jobs ---------------------------------------------- */

/* The job's ejecuciones_ok, now. */
static long long
runs_ok(const char *job)
{
	return db_countf("SELECT ejecuciones_ok FROM trabajos WHERE nombre = "
	    "'%s'", job);
}

/*
 * purga_outbox, run now through the API: the published events older
 * than the retention (7 days) go, a recent one and a pending one stay;
 * the outcome is recorded (ok, a duration).  sellado_auditoria runs on
 * its own every 2 s and records ok.
 */
START_TEST(purga_y_sellado_por_el_motor)
{
	struct http_resp r;
	long long before = runs_ok("purga_outbox"), seals;
	char *res;

	db_execf("INSERT INTO outbox (tipo, agregado, agregado_id, payload, "
	    "creado_en, publicado_en) SELECT 'prueba.viejo', 'prueba', g::text, "
	    "'{}', now() - interval '9 days', now() - interval '8 days' FROM "
	    "generate_series(1, 50) g");
	db_execf("INSERT INTO outbox (tipo, agregado, agregado_id, payload, "
	    "creado_en, publicado_en) VALUES ('prueba.reciente', 'prueba', '1', "
	    "'{}', now() - interval '6 days', now() - interval '6 days')");
	http_req("POST", "/api/v1/trabajos/purga_outbox/ejecutar", NULL, NULL,
	    0, NULL, &r);
	ck_assert_int_eq(r.status, 202);
	http_free(&r);
	ck_assert_int_gt(wait_count(before + 1, 15000, "SELECT ejecuciones_ok "
	    "FROM trabajos WHERE nombre = 'purga_outbox'"), before);
	ck_assert_int_eq(db_count("SELECT count(*) FROM outbox WHERE tipo = "
	    "'prueba.viejo'"), 0);
	ck_assert_int_eq(db_count("SELECT count(*) FROM outbox WHERE tipo = "
	    "'prueba.reciente'"), 1);
	res = db_value("SELECT ultimo_resultado || ' ' || (ultima_duracion_ms "
	    ">= 0)::text || ' ' || (ultimo_error IS NULL)::text FROM trabajos "
	    "WHERE nombre = 'purga_outbox'");
	ck_assert_str_eq(res, "ok true true");
	free(res);
	db_execf("DELETE FROM outbox WHERE tipo = 'prueba.reciente'");

	seals = runs_ok("sellado_auditoria");
	ck_assert_int_gt(wait_count(seals + 2, 10000, "SELECT ejecuciones_ok "
	    "FROM trabajos WHERE nombre = 'sellado_auditoria'"), seals + 1);
	res = db_value("SELECT ultimo_resultado FROM trabajos WHERE nombre = "
	    "'sellado_auditoria'");
	ck_assert_str_eq(res, "ok");
	free(res);
}
END_TEST

/*
 * The stack's workers: the scheduler's and vetred-worker's /metrics pass
 * promtool, /health and /ready answer 200, and vetred-worker shows its
 * consumers with their queues.
 */
START_TEST(metricas_de_cada_worker)
{
	const char *urls = getenv("VETRED_WORKER_METRICS_URLS");
	char *copy, *u, *save = NULL, url[256];
	struct http_resp r;
	int n = 0, worker = 0;

	ck_assert_ptr_nonnull(urls);
	copy = strdup(urls);
	for (u = strtok_r(copy, " ", &save); u != NULL;
	    u = strtok_r(NULL, " ", &save), n++) {
		snprintf(url, sizeof(url), "%s/metrics", u);
		http_get_url(url, &r);
		ck_assert_int_eq(r.status, 200);
		metrics_promtool_ok(&r, u);
		if (strstr(r.body, "vetred_worker_queue_messages{") != NULL) {
			worker = 1;
			ck_assert_ptr_nonnull(strstr(r.body,
			    "consumer=\"mantenimiento\""));
			ck_assert_ptr_nonnull(strstr(r.body,
			    "consumer=\"muertos\""));
		}
		http_free(&r);
		snprintf(url, sizeof(url), "%s/ready", u);
		http_get_url(url, &r);
		ck_assert_int_eq(r.status, 200);
		http_free(&r);
		snprintf(url, sizeof(url), "%s/health", u);
		http_get_url(url, &r);
		ck_assert_int_eq(r.status, 200);
		http_free(&r);
	}
	free(copy);
	ck_assert_int_ge(n, 2);
	ck_assert_int_eq(worker, 1);
}
END_TEST

/*
 * Hostile messages to the stack's own consumers: a job message for
 * purga_outbox whose payload names another job dies without purging;
 * bytes that are not text, published straight to vetred.muertos with no
 * header at all, are kept (base64 through the API) under "desconocido".
 */
START_TEST(mensajes_hostiles_al_motor)
{
	static const char bin[] = { '\xff', '\xfe', '\0', 'x', '\x80' };
	char id[37], mark[37], *b, *v;
	long long runs = runs_ok("purga_outbox"), n = 0, deadline;
	struct http_resp r;

	uuid(id);
	uuid(mark);
	b = envelope(id, "trabajo.disparado", "{\"trabajo\":\"sellado_auditoria\"}");
	publish(VR_AMQP_TRABAJOS, "purga_outbox", id, NULL, b, strlen(b));
	free(b);
	publish(VR_AMQP_MUERTOS, "", mark, NULL, bin, sizeof(bin));
	deadline = mono_ms() + 10000;
	while ((n = db_countf("SELECT count(*) FROM eventos_muertos WHERE "
	    "evento_id IN ('%s', '%s')", id, mark)) < 2 && mono_ms() < deadline)
		usleep(50000);
	ck_assert_int_eq(n, 2);
	v = db_valuef("SELECT consumidor || ' | ' || motivo FROM eventos_muertos "
	    "WHERE evento_id = '%s'", id);
	ck_assert_str_eq(v, "vetred.mantenimiento | el mensaje no es el disparo "
	    "del trabajo purga_outbox (datos.trabajo)");
	free(v);
	ck_assert_int_eq(runs_ok("purga_outbox"), runs);
	v = db_valuef("SELECT consumidor || ' ' || tamano FROM eventos_muertos "
	    "WHERE evento_id = '%s'", mark);
	ck_assert_str_eq(v, "desconocido 5");
	free(v);
	http_get("/api/v1/eventos/muertos?consumidor=desconocido&limite=200", &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_ptr_nonnull(strstr(r.body, "\"//4AeIA=\""));
	ck_assert_ptr_nonnull(strstr(r.body, "\"base64\""));
	http_free(&r);
	db_execf("DELETE FROM eventos_muertos WHERE evento_id IN ('%s', '%s')",
	    id, mark);
}
END_TEST

/* ---- 4. the operator's API -------------------------------------------- */

/* A dead letter of consumer cons with body b (SQL text); its id. */
static long long
muerto(const char *cons, const char *id, const char *b)
{
	return db_countf("SELECT registrar_muerto(encode(sha256(convert_to("
	    "'%s' || coalesce('%s', '') || %s, 'UTF8')), 'hex'), '%s', "
	    "nullif('%s', ''), 'prueba.api', 'prueba.api', NULL, 'motivo de "
	    "prueba', 2, octet_length(convert_to(%s, 'UTF8')), convert_to(%s, "
	    "'UTF8'))", cons, id, b, cons, id, b, b);
}

/*
 * GET /api/v1/eventos/muertos pages and filters; bad parameters are 400
 * and other roles 403, no token 401.  POST .../reenviar puts a replayable
 * one back into the outbox for its queue alone (destino), audited; one
 * that is not an event is 409 and writes nothing; an unknown id 404, a
 * malformed one 400.
 */
START_TEST(muertos_por_la_api)
{
	static const char *const bad[] = { "limite=0", "limite=201",
	    "limite=x", "cursor=abc", "consumidor=Mal!", "tipo=", NULL };
	char ev[37], noev[37], url[256], *env, *b, *v, *t;
	long long a, c, d, before;
	struct http_resp r;
	const cJSON *items, *it;
	size_t i;

	uuid(ev);
	uuid(noev);
	env = envelope(ev, "prueba.api", "{\"n\":3}");
	ck_assert_int_ge(asprintf(&b, "'%s'", env), 0);
	a = muerto("vetred.prueba_api", ev, b);
	free(b);
	free(env);
	c = muerto("vetred.prueba_api", noev, "'no es json'");
	d = muerto("vetred.prueba_api_otro", "", "'{}'");

	http_get("/api/v1/eventos/muertos?consumidor=vetred.prueba_api&limite=1",
	    &r);
	ck_assert_int_eq(r.status, 200);
	items = json_items(r.json);
	ck_assert_int_eq(cJSON_GetArraySize(items), 1);
	ck_assert_int_eq(json_ll(cJSON_GetArrayItem(items, 0), "id"), c);
	ck_assert_str_eq(json_s(cJSON_GetArrayItem(items, 0), "cuerpo"),
	    "no es json");
	ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(cJSON_GetArrayItem(items,
	    0), "reenviable")));
	snprintf(url, sizeof(url), "/api/v1/eventos/muertos?consumidor=vetred."
	    "prueba_api&limite=1&cursor=%s", json_s(r.json, "siguiente_cursor"));
	http_free(&r);
	http_get(url, &r);
	ck_assert_int_eq(r.status, 200);
	items = json_items(r.json);
	ck_assert_int_eq(cJSON_GetArraySize(items), 1);
	it = cJSON_GetArrayItem(items, 0);
	ck_assert_int_eq(json_ll(it, "id"), a);
	ck_assert_str_eq(json_s(it, "evento_id"), ev);
	ck_assert_str_eq(json_s(it, "motivo"), "motivo de prueba");
	ck_assert_str_eq(json_s(it, "cuerpo_codificacion"), "texto");
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(it, "reenviable")));
	http_free(&r);
	http_get("/api/v1/eventos/muertos?consumidor=vetred.prueba_api_otro&"
	    "tipo=prueba.api", &r);
	ck_assert_int_eq(r.status, 200);
	items = json_items(r.json);
	ck_assert_int_eq(cJSON_GetArraySize(items), 1);
	ck_assert_int_eq(json_ll(cJSON_GetArrayItem(items, 0), "id"), d);
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetArrayItem(items,
	    0), "evento_id")));
	http_free(&r);
	for (i = 0; bad[i] != NULL; i++) {
		snprintf(url, sizeof(url), "/api/v1/eventos/muertos?%s", bad[i]);
		http_get(url, &r);
		ck_assert_msg(r.status == 400, "%s: %ld", bad[i], r.status);
		assert_problem(&r, 400, "parametro-invalido");
		http_free(&r);
	}

	/* Other roles: 403; no token: 401; nothing replayed. */
	before = db_countf("SELECT count(*) FROM outbox WHERE evento_id = '%s'",
	    ev);
	t = fx_token_de("admin_sede", 1, NULL);
	http_token(t);
	http_get("/api/v1/eventos/muertos", &r);
	assert_problem(&r, 403, "prohibido");
	http_free(&r);
	snprintf(url, sizeof(url), "/api/v1/eventos/muertos/%lld/reenviar", a);
	http_req("POST", url, NULL, NULL, 0, NULL, &r);
	assert_problem(&r, 403, "prohibido");
	http_free(&r);
	free(t);
	http_token_none();
	http_req("POST", url, NULL, NULL, 0, NULL, &r);
	ck_assert_int_eq(r.status, 401);
	http_free(&r);
	http_token(NULL);
	ck_assert_int_eq(db_countf("SELECT count(*) FROM outbox WHERE "
	    "evento_id = '%s'", ev), before);

	/* Replayed: back in the outbox for its queue alone, audited. */
	http_req("POST", url, NULL, NULL, 0, NULL, &r);
	ck_assert_int_eq(r.status, 202);
	ck_assert_int_eq(json_ll(r.json, "reenvios"), 1);
	http_free(&r);
	v = db_valuef("SELECT destino || ' ' || tipo || ' ' || (payload->>'n') "
	    "FROM outbox WHERE evento_id = '%s'", ev);
	ck_assert_str_eq(v, "vetred.prueba_api prueba.api 3");
	free(v);
	ck_assert_int_eq(db_countf("SELECT count(*) FROM auditoria WHERE "
	    "entidad = 'eventos_muertos' AND accion = 'reenviar' AND "
	    "entidad_id = '%lld'", a), 1);

	/* Not an event: 409, nothing written. */
	snprintf(url, sizeof(url), "/api/v1/eventos/muertos/%lld/reenviar", c);
	http_req("POST", url, NULL, NULL, 0, NULL, &r);
	assert_problem(&r, 409, "no-reenviable");
	http_free(&r);
	ck_assert_int_eq(db_countf("SELECT count(*) FROM outbox WHERE "
	    "evento_id = '%s'", noev), 0);
	ck_assert_int_eq(db_countf("SELECT reenvios FROM eventos_muertos "
	    "WHERE id = %lld", c), 0);
	http_req("POST", "/api/v1/eventos/muertos/999999999999/reenviar", NULL,
	    NULL, 0, NULL, &r);
	assert_problem(&r, 404, "no-encontrado");
	http_free(&r);
	http_req("POST", "/api/v1/eventos/muertos/abc/reenviar", NULL, NULL, 0,
	    NULL, &r);
	assert_problem(&r, 400, "id-invalido");
	http_free(&r);

	db_execf("DELETE FROM outbox WHERE evento_id = '%s'", ev);
	db_execf("DELETE FROM eventos_muertos WHERE id IN (%lld, %lld, %lld)",
	    a, c, d);
}
END_TEST

/*
 * The test consumer's queue goes (later suites' bookings do not feed it),
 * and so do the test's dead letters and any event of theirs (the
 * contract fuzzer replays what it finds; the event contract check reads
 * every outbox row).
 */
static void
teardown(void)
{
	(void)mq_drop_queue(COLA);
	db_execf("DELETE FROM eventos_muertos WHERE consumidor LIKE "
	    "'vetred.prueba%%' OR tipo LIKE 'prueba.%%'");
	db_execf("DELETE FROM outbox WHERE tipo LIKE 'prueba.%%' AND "
	    "publicado_en IS NOT NULL");
}

Suite *
worker_suite(void)
{
	Suite *s = suite_create("worker");
	TCase *tc = tcase_create("worker");

	tcase_set_timeout(tc, 90);
	tcase_add_unchecked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, venenos_mueren_con_su_motivo);
	tcase_add_test(tc, muerto_a_medias_se_procesa_una_vez);
	tcase_add_test(tc, sigterm_termina_el_mensaje);
	tcase_add_test(tc, limite_de_entregas);
	tcase_add_test(tc, purga_y_sellado_por_el_motor);
	tcase_add_test(tc, metricas_de_cada_worker);
	tcase_add_test(tc, muertos_por_la_api);
	tcase_add_test(tc, mensajes_hostiles_al_motor);
	suite_add_tcase(s, tc);
	return s;
}
