/*
 * check_horarios.c - a site's week: working hours with split shifts set
 * from a date on, the network's and a site's holidays closing the free
 * slots and the bookings, the agenda reads (a site's day, a vet's week
 * across sites), and the free slots' tricky cases, a daylight-saving
 * zone among them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "itest.h"

#define LIMA	"America/Lima"
#define MADRID	"Europe/Madrid"

/* A new site in tz that closes on the network's holidays. */
static long long
sede_cerrada(const char *tz)
{
	long long s = fx_sede(tz);

	db_execf("UPDATE sedes SET abre_en_feriados = false WHERE id = %lld",
	    s);
	return s;
}

/* Today + dias in Lima, AAAA-MM-DD (malloc'd). */
static char *
fecha_lima(int dias)
{
	char *v = db_valuef("SELECT ((now() AT TIME ZONE 'America/Lima')::date"
	    " + %d)::text", dias);

	ck_assert_ptr_nonnull(v);
	return v;
}

/* The first date from today + dias on that is no network holiday. */
static char *
dia_laborable(int dias)
{
	char *v = db_valuef("SELECT d::date::text FROM generate_series("
	    "(now() AT TIME ZONE 'America/Lima')::date + %d, (now() AT TIME "
	    "ZONE 'America/Lima')::date + %d + 30, interval '1 day') d WHERE "
	    "NOT EXISTS (SELECT 1 FROM feriados f WHERE f.sede_id IS NULL AND "
	    "f.fecha = d::date) ORDER BY d LIMIT 1", dias, dias);

	ck_assert_ptr_nonnull(v);
	return v;
}

/* A date with no network holiday and no row of sede, years ahead. */
static char *
dia_libre(long long sede)
{
	char *v = db_valuef("SELECT d::date::text FROM generate_series("
	    "current_date + 1500 + (random() * 1000)::int, current_date + "
	    "3000, interval '1 day') d WHERE NOT EXISTS (SELECT 1 FROM "
	    "feriados f WHERE f.fecha = d::date AND (f.sede_id IS NULL OR "
	    "f.sede_id = %lld)) LIMIT 1", sede);

	ck_assert_ptr_nonnull(v);
	return v;
}

/* The free slots of vet at sede on fecha (200 asserted); the answer. */
static void
huecos(long long vet, long long sede, const char *fecha, int dur, int paso,
    struct http_resp *r)
{
	char path[200];

	snprintf(path, sizeof(path), "/api/v1/disponibilidad?veterinario_id="
	    "%lld&sede_id=%lld&fecha=%s&duracion_min=%d&paso_min=%d", vet,
	    sede, fecha, dur, paso);
	http_get(path, r);
	ck_assert_msg(r->status == 200, "%s: %ld %s", path, r->status, r->body);
}

static int
n_huecos(long long vet, long long sede, const char *fecha, int dur)
{
	struct http_resp r;
	int n;

	huecos(vet, sede, fecha, dur, dur, &r);
	n = cJSON_GetArraySize(cJSON_GetObjectItem(r.json, "huecos"));
	http_free(&r);
	return n;
}

static const char *
hueco(const struct http_resp *r, int i, const char *member)
{
	const cJSON *h = cJSON_GetArrayItem(cJSON_GetObjectItem(r->json,
	    "huecos"), i);

	ck_assert_ptr_nonnull(h);
	return json_s(h, member);
}

/* A booking of a fresh patient; the answer (caller frees). */
static void
reservar(long long vet, long long sede, const char *inicio, int dur,
    struct http_resp *r)
{
	fx_reservar(&(struct fx_cita){ .paciente = fx_paciente(),
	    .veterinario = vet, .sede = sede, .inicio = inicio,
	    .duracion = dur }, NULL, r);
}

static long long
reservar_ok(long long vet, long long sede, const char *inicio, int dur)
{
	return fx_reservar_ok(&(struct fx_cita){ .paciente = fx_paciente(),
	    .veterinario = vet, .sede = sede, .inicio = inicio,
	    .duracion = dur });
}

static long long
horarios_de(long long vet)
{
	return db_countf("SELECT count(*) FROM horarios WHERE veterinario_id "
	    "= %lld", vet);
}

/* Monday to Friday 09:00-13:00 and 15:00-19:00, as JSON blocks. */
static void
partida(char *out, size_t n)
{
	size_t len = 0;
	int d;

	len += (size_t)snprintf(out + len, n - len, "[");
	for (d = 1; d <= 5; d++)
		len += (size_t)snprintf(out + len, n - len, "%s{\"dia_semana\":"
		    "%d,\"inicio\":\"09:00\",\"fin\":\"13:00\"},{\"dia_semana\":"
		    "%d,\"inicio\":\"15:00\",\"fin\":\"19:00\"}", d > 1 ? "," : "",
		    d, d);
	snprintf(out + len, n - len, "]");
}

START_TEST(horario_partido_desde_una_fecha)
{
	long long sede = fx_sede(LIMA), vet = fx_vet(sede, FX_OFICINA), otra,
	    cita, antes;
	char *hoy = fecha_lima(0), *semana = fecha_lima(7), path[96],
	    body[2048], bl[1600], t[FX_HORA_LEN], *codigo;
	long long lunes = fx_dia(LIMA, 1, 2);
	struct http_resp r;
	const cJSON *e;

	/* Booked at 08:00 under the old hours, outside the new ones. */
	fx_hora(lunes + FX_HM(8, 0), FX_LIMA, t);
	cita = reservar_ok(vet, sede, t, 30);
	snprintf(path, sizeof(path), "/api/v1/veterinarios/%lld/horarios", vet);
	partida(bl, sizeof(bl));
	snprintf(body, sizeof(body), "{\"sede_id\":%lld,\"desde\":\"%s\","
	    "\"bloques\":%s}", sede, hoy, bl);
	http_send_json("PUT", path, body, NULL, &r);
	ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(r.json,
	    "bloques")), 10);
	ck_assert_str_eq(json_s(r.json, "zona_horaria"), LIMA);
	e = cJSON_GetObjectItem(r.json, "citas_fuera_de_horario");
	ck_assert_int_eq(cJSON_GetArraySize(e), 1);
	ck_assert_int_eq((long long)cJSON_GetArrayItem(e, 0)->valuedouble,
	    cita);
	http_free(&r);
	ck_assert_int_eq(db_countf("SELECT count(*) FROM auditoria WHERE "
	    "entidad = 'horarios' AND entidad_id = '%lld'", vet), 1);
	ck_assert_int_eq(db_countf("SELECT count(*) FROM outbox WHERE tipo = "
	    "'horario.modificado' AND agregado_id = '%lld' AND (payload->>"
	    "'sede_id')::bigint = %lld AND jsonb_array_length(payload->"
	    "'bloques') = 10", vet, sede), 1);

	/* In force from today: the old blocks ended yesterday. */
	http_get(path, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_int_eq(cJSON_GetArraySize(json_items(r.json)), 10);
	e = cJSON_GetArrayItem(json_items(r.json), 0);
	ck_assert_str_eq(json_s(e, "inicio"), "09:00");
	ck_assert_str_eq(json_s(e, "fin"), "13:00");
	ck_assert_str_eq(json_s(e, "vigente_desde"), hoy);
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(e, "vigente_hasta")));
	http_free(&r);
	snprintf(body, sizeof(body), "%s?desde=2024-06-01", path);
	http_get(body, &r);
	ck_assert_int_eq(cJSON_GetArraySize(json_items(r.json)), 22);
	http_free(&r);

	/* The free slots follow: an hour crossing 13:00 is refused. */
	fx_hora(lunes, FX_LIMA, t);
	t[10] = '\0';
	huecos(vet, sede, t, 60, 30, &r);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(r.json,
	    "huecos")), 14);
	ck_assert_str_eq(hueco(&r, 6, "inicio") + 11, "12:00:00-05:00");
	ck_assert_str_eq(hueco(&r, 7, "inicio") + 11, "15:00:00-05:00");
	http_free(&r);
	fx_hora(lunes + FX_HM(12, 30), FX_LIMA, t);
	reservar(vet, sede, t, 60, &r);
	assert_problem(&r, 422, "fuera-de-horario");
	http_free(&r);

	/* Another site's hours: a crossing block is a conflict, nothing
	 * changes. */
	otra = fx_sede(LIMA);
	db_execf("INSERT INTO veterinario_sedes (veterinario_id, sede_id) "
	    "VALUES (%lld, %lld); INSERT INTO horarios (veterinario_id, "
	    "sede_id, dia_semana, hora_inicio, hora_fin, vigente_desde) VALUES "
	    "(%lld, %lld, 1, '13:00', '15:00', '%s')", vet, otra, vet, otra,
	    hoy);
	antes = horarios_de(vet);
	snprintf(body, sizeof(body), "{\"sede_id\":%lld,\"desde\":\"%s\","
	    "\"bloques\":[{\"dia_semana\":1,\"inicio\":\"12:00\",\"fin\":"
	    "\"16:00\"}]}", sede, hoy);
	http_send_json("PUT", path, body, NULL, &r);
	assert_problem(&r, 409, "conflicto");
	codigo = db_valuef("SELECT codigo FROM sedes WHERE id = %lld", otra);
	ck_assert_msg(strstr(json_s(r.json, "detail"), codigo) != NULL, "%s",
	    r.body);
	free(codigo);
	http_free(&r);
	ck_assert_int_eq(horarios_de(vet), antes);
	ck_assert_int_eq(db_countf("SELECT count(*) FROM auditoria WHERE "
	    "entidad = 'horarios' AND entidad_id = '%lld'", vet), 1);

	/* No longer at this site from next week: today's blocks end the
	 * day before. */
	snprintf(body, sizeof(body), "{\"sede_id\":%lld,\"desde\":\"%s\","
	    "\"bloques\":[]}", sede, semana);
	http_send_json("PUT", path, body, NULL, &r);
	ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(r.json,
	    "bloques")), 0);
	http_free(&r);
	ck_assert_int_eq(db_countf("SELECT count(*) FROM horarios WHERE "
	    "veterinario_id = %lld AND sede_id = %lld AND vigente_desde = '%s'"
	    " AND vigente_hasta = '%s'::date + 6", vet, sede, hoy, hoy), 10);
	free(hoy);
	free(semana);
}
END_TEST

START_TEST(horario_entrada_mala)
{
	static const struct {
		const char	*bloques;	/* NULL: the member left out */
		const char	*desde;
		const char	*extra;		/* more members, or "" */
		const char	*campo;
	} casos[] = {
		{ "[{\"dia_semana\":8,\"inicio\":\"09:00\",\"fin\":\"10:00\"}]",
		    NULL, "", "bloques[0].dia_semana" },
		{ "[{\"dia_semana\":0,\"inicio\":\"09:00\",\"fin\":\"10:00\"}]",
		    NULL, "", "bloques[0].dia_semana" },
		{ "[{\"dia_semana\":\"1\",\"inicio\":\"09:00\",\"fin\":\"10:00\"}]",
		    NULL, "", "bloques[0].dia_semana" },
		{ "[{\"dia_semana\":1,\"inicio\":\"09:00\",\"fin\":\"25:00\"}]",
		    NULL, "", "bloques[0].fin" },
		{ "[{\"dia_semana\":1,\"inicio\":\"24:00\",\"fin\":\"24:00\"}]",
		    NULL, "", "bloques[0].inicio" },
		{ "[{\"dia_semana\":1,\"inicio\":\"9:00\",\"fin\":\"10:00\"}]",
		    NULL, "", "bloques[0].inicio" },
		{ "[{\"dia_semana\":1,\"inicio\":\"09:60\",\"fin\":\"10:00\"}]",
		    NULL, "", "bloques[0].inicio" },
		{ "[{\"dia_semana\":1,\"inicio\":\"10:00\",\"fin\":\"10:00\"}]",
		    NULL, "", "bloques[0].fin" },
		{ "[{\"dia_semana\":1,\"inicio\":\"11:00\",\"fin\":\"10:00\"}]",
		    NULL, "", "bloques[0].fin" },
		{ "[{\"dia_semana\":1,\"inicio\":\"09:00\",\"fin\":\"13:00\"},"
		    "{\"dia_semana\":1,\"inicio\":\"12:00\",\"fin\":\"14:00\"}]",
		    NULL, "", "bloques[1].inicio" },
		{ "[{\"dia_semana\":1,\"inicio\":\"09:00\"}]", NULL, "",
		    "bloques[0].fin" },
		{ "[{\"dia\":1,\"dia_semana\":1,\"inicio\":\"09:00\",\"fin\":"
		    "\"10:00\"}]", NULL, "", "bloques[0].cuerpo" },
		{ "[1]", NULL, "", "bloques[0].dia_semana" },
		{ "[null]", NULL, "", "bloques[0].dia_semana" },
		{ "\"lunes a viernes\"", NULL, "", "bloques" },
		{ "{}", NULL, "", "bloques" },
		{ NULL, NULL, "", "bloques" },
		{ "[]", "2026-02-30", "", "desde" },
		{ "[]", "07/12/2026", "", "desde" },
		{ "[]", "2020-01-01", "", "desde" },
		{ "[]", "2031-01-01", "", "desde" },
		{ "[]", NULL, ",\"sede\":1", "cuerpo" },
		{ "[]", NULL, ",\"sede_id\":\"1\"", "sede_id" },
	};
	long long sede = fx_sede(LIMA), vet = fx_vet(sede, FX_OFICINA), ajena,
	    antes = horarios_de(vet), auditados;
	char *hoy = fecha_lima(0), path[96], body[4096], *tok;
	struct http_resp r;
	size_t i, len;
	int k;

	auditados = db_count("SELECT count(*) FROM auditoria WHERE entidad = "
	    "'horarios'");
	snprintf(path, sizeof(path), "/api/v1/veterinarios/%lld/horarios", vet);
	for (i = 0; i < sizeof(casos) / sizeof(casos[0]); i++) {
		len = (size_t)snprintf(body, sizeof(body), "{");
		if (strcmp(casos[i].campo, "sede_id") != 0)
			len += (size_t)snprintf(body + len, sizeof(body) - len,
			    "\"sede_id\":%lld,", sede);
		len += (size_t)snprintf(body + len, sizeof(body) - len,
		    "\"desde\":\"%s\"", casos[i].desde ? casos[i].desde : hoy);
		if (casos[i].bloques != NULL)
			len += (size_t)snprintf(body + len, sizeof(body) - len,
			    ",\"bloques\":%s", casos[i].bloques);
		snprintf(body + len, sizeof(body) - len, "%s}", casos[i].extra);
		http_send_json("PUT", path, body, NULL, &r);
		assert_problem(&r, 422, "validacion");
		ck_assert_msg(fx_has_error(&r, casos[i].campo), "case %zu: no "
		    "error on %s: %s", i, casos[i].campo, r.body);
		http_free(&r);
	}
	/* 43 blocks: too many. */
	len = (size_t)snprintf(body, sizeof(body), "{\"sede_id\":%lld,"
	    "\"desde\":\"%s\",\"bloques\":[", sede, hoy);
	for (k = 0; k < 43; k++)
		len += (size_t)snprintf(body + len, sizeof(body) - len,
		    "%s{\"dia_semana\":%d,\"inicio\":\"%02d:00\",\"fin\":"
		    "\"%02d:30\"}", k ? "," : "", k % 7 + 1, k / 7, k / 7);
	snprintf(body + len, sizeof(body) - len, "]}");
	http_send_json("PUT", path, body, NULL, &r);
	assert_problem(&r, 422, "validacion");
	ck_assert(fx_has_error(&r, "bloques"));
	http_free(&r);

	/* A site the vet does not work at. */
	ajena = fx_sede(LIMA);
	snprintf(body, sizeof(body), "{\"sede_id\":%lld,\"desde\":\"%s\","
	    "\"bloques\":[]}", ajena, hoy);
	http_send_json("PUT", path, body, NULL, &r);
	assert_problem(&r, 422, "validacion");
	ck_assert(fx_has_error(&r, "sede_id"));
	http_free(&r);

	/* Another site's administrator may not touch this one's. */
	tok = fx_token_de("admin_sede", ajena, NULL);
	http_token(tok);
	snprintf(body, sizeof(body), "{\"sede_id\":%lld,\"desde\":\"%s\","
	    "\"bloques\":[]}", sede, hoy);
	http_send_json("PUT", path, body, NULL, &r);
	assert_problem(&r, 403, "prohibido");
	http_free(&r);
	http_get(path, &r);
	assert_problem(&r, 403, "prohibido");
	http_free(&r);
	http_token(NULL);
	free(tok);

	http_send_json("PUT", "/api/v1/veterinarios/999999999/horarios", body,
	    NULL, &r);
	assert_problem(&r, 404, "no-encontrado");
	http_free(&r);
	http_send_json("PUT", "/api/v1/veterinarios/x/horarios", body, NULL,
	    &r);
	assert_problem(&r, 400, "id-invalido");
	http_free(&r);
	http_send_json("PUT", path, "{\"sede_id\":", NULL, &r);
	ck_assert_int_eq(r.status, 400);
	http_free(&r);
	snprintf(body, sizeof(body), "%s?desde=mañana", path);
	http_get(body, &r);
	assert_problem(&r, 400, "parametro-invalido");
	http_free(&r);
	http_get("/api/v1/veterinarios/999999999/horarios", &r);
	assert_problem(&r, 404, "no-encontrado");
	http_free(&r);

	ck_assert_int_eq(horarios_de(vet), antes);
	ck_assert_int_eq(db_count("SELECT count(*) FROM auditoria WHERE "
	    "entidad = 'horarios'"), auditados);
	free(hoy);
}
END_TEST

START_TEST(feriados_de_la_red)
{
	static const char *const malos[] = {
		"{\"fecha\":\"%s\",\"nombre\":\"Prueba\",\"cerrado\":true}",
		"{\"nombre\":\"Prueba\"}",
		"{\"fecha\":\"%s\"}",
		"{\"fecha\":\"%s\",\"nombre\":\"\"}",
		"{\"fecha\":\"%s\",\"nombre\":\"Prueba\",\"dia\":1}",
		"{\"fecha\":\"2026-02-30\",\"nombre\":\"Prueba\"}",
		"{\"fecha\":\"2020-01-01\",\"nombre\":\"Prueba\"}",
		"{\"fecha\":\"2099-01-01\",\"nombre\":\"Prueba\"}",
		"{\"fecha\":20350101,\"nombre\":\"Prueba\"}",
		"{\"fecha\":\"%s\",\"nombre\":\"%s\"}",
	};
	char *libre = dia_libre(0), path[96], body[512], largo[130], *tok;
	const cJSON *e;
	struct http_resp r;
	long long antes;
	size_t i;
	int jueves = 0;

	/* The list is the table (the preload itself is a migration test:
	 * the contract fuzzer removes holidays at random). */
	db_execf("INSERT INTO feriados (sede_id, fecha, nombre) VALUES (NULL, "
	    "'2027-03-25', 'Jueves Santo') ON CONFLICT DO NOTHING");
	http_get("/api/v1/feriados?desde=2027-01-01&hasta=2027-12-31", &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_int_eq(cJSON_GetArraySize(json_items(r.json)), db_count(
	    "SELECT count(*) FROM feriados WHERE sede_id IS NULL AND fecha "
	    "BETWEEN '2027-01-01' AND '2027-12-31'"));
	cJSON_ArrayForEach(e, json_items(r.json)) {
		ck_assert_str_eq(json_s(e, "ambito"), "red");
		ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(e, "cerrado")));
		ck_assert(cJSON_IsNull(cJSON_GetObjectItem(e, "sede_id")));
		if (strcmp(json_s(e, "fecha"), "2027-03-25") == 0) {
			ck_assert_str_eq(json_s(e, "nombre"), "Jueves Santo");
			jueves = 1;
		}
	}
	ck_assert(jueves);
	http_free(&r);
	http_get("/api/v1/feriados", &r);	/* a year from today */
	ck_assert_int_eq(cJSON_GetArraySize(json_items(r.json)), db_count(
	    "SELECT count(*) FROM feriados WHERE sede_id IS NULL AND fecha "
	    "BETWEEN (now() AT TIME ZONE 'America/Lima')::date AND (now() AT "
	    "TIME ZONE 'America/Lima')::date + 365"));
	http_free(&r);
	http_get("/api/v1/feriados?desde=2027-12-31&hasta=2027-01-01", &r);
	assert_problem(&r, 400, "parametro-invalido");
	ck_assert(fx_has_error(&r, "hasta"));
	http_free(&r);
	http_get("/api/v1/feriados?desde=2027-01-01&hasta=2031-01-01", &r);
	assert_problem(&r, 400, "parametro-invalido");
	http_free(&r);
	http_get("/api/v1/feriados?desde=2027-02-29", &r);
	assert_problem(&r, 400, "parametro-invalido");
	http_free(&r);

	/* The network adds a day, once; then removes it. */
	antes = db_count("SELECT count(*) FROM feriados");
	snprintf(body, sizeof(body), "{\"fecha\":\"%s\",\"nombre\":\"Día de "
	    "prueba\"}", libre);
	http_post_json("/api/v1/feriados", body, &r);
	ck_assert_msg(r.status == 201, "%ld %s", r.status, r.body);
	ck_assert_str_eq(json_s(r.json, "fecha"), libre);
	ck_assert_str_eq(json_s(r.json, "ambito"), "red");
	ck_assert(cJSON_IsArray(cJSON_GetObjectItem(r.json,
	    "citas_afectadas")));
	http_free(&r);
	http_post_json("/api/v1/feriados", body, &r);
	assert_problem(&r, 409, "conflicto");
	http_free(&r);
	ck_assert_int_eq(db_count("SELECT count(*) FROM feriados"), antes + 1);

	/* Bad bodies: 422, nothing written. */
	memset(largo, 'x', 121);
	largo[121] = '\0';
	for (i = 0; i < sizeof(malos) / sizeof(malos[0]); i++) {
		snprintf(body, sizeof(body), malos[i], libre, largo);
		http_post_json("/api/v1/feriados", body, &r);
		ck_assert_msg(r.status == 422, "case %zu: %ld %s", i, r.status,
		    r.body);
		http_free(&r);
	}
	ck_assert_int_eq(db_count("SELECT count(*) FROM feriados"), antes + 1);

	/* A site's administrator manages its own days, not the network's. */
	tok = fx_token_de("admin_sede", 1, NULL);
	http_token(tok);
	snprintf(body, sizeof(body), "{\"fecha\":\"%s\",\"nombre\":\"Otro\"}",
	    libre);
	http_post_json("/api/v1/feriados", body, &r);
	assert_problem(&r, 403, "prohibido");
	http_free(&r);
	snprintf(path, sizeof(path), "/api/v1/feriados/%s", libre);
	http_req("DELETE", path, NULL, NULL, 0, NULL, &r);
	assert_problem(&r, 403, "prohibido");
	http_free(&r);
	http_get("/api/v1/feriados?desde=2027-01-01&hasta=2027-01-31", &r);
	ck_assert_int_eq(r.status, 200);
	http_free(&r);
	http_token(NULL);
	free(tok);

	http_req("DELETE", path, NULL, NULL, 0, NULL, &r);
	ck_assert_int_eq(r.status, 204);
	http_free(&r);
	http_req("DELETE", path, NULL, NULL, 0, NULL, &r);
	assert_problem(&r, 404, "no-encontrado");
	http_free(&r);
	http_req("DELETE", "/api/v1/feriados/2027-13-01", NULL, NULL, 0, NULL,
	    &r);
	assert_problem(&r, 400, "parametro-invalido");
	http_free(&r);
	ck_assert_int_eq(db_count("SELECT count(*) FROM feriados"), antes);
	ck_assert_int_eq(db_countf("SELECT count(*) FROM auditoria WHERE "
	    "entidad = 'feriados' AND (despues->>'fecha' = '%s' OR antes->>"
	    "'fecha' = '%s')", libre, libre), 2);
	ck_assert_int_eq(db_countf("SELECT count(*) FROM outbox WHERE tipo IN "
	    "('feriado.registrado', 'feriado.eliminado') AND payload->>'fecha' "
	    "= '%s'", libre), 2);
	free(libre);
}
END_TEST

START_TEST(feriados_cierran_la_sede)
{
	long long sede = sede_cerrada(LIMA), vet = fx_vet(sede,
	    FX_DIA_COMPLETO), abierta = fx_sede(LIMA), vet2 = fx_vet(abierta,
	    FX_DIA_COMPLETO), cita, otra = fx_sede(LIMA);
	char *feriado = db_value("SELECT min(fecha)::text FROM feriados WHERE "
	    "sede_id IS NULL AND fecha >= (now() AT TIME ZONE 'America/Lima')"
	    "::date + 2"), *dia = dia_laborable(3), *libre = dia_laborable(40),
	    *nombre, path[128], body[256], t[40], *tok;
	struct http_resp r;
	const cJSON *e;

	ck_assert_ptr_nonnull(feriado);
	nombre = db_valuef("SELECT nombre FROM feriados WHERE sede_id IS NULL "
	    "AND fecha = '%s'", feriado);
	/* A network holiday: no slot, no booking; a site open on holidays
	 * works. */
	huecos(vet, sede, feriado, 60, 60, &r);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(r.json,
	    "huecos")), 0);
	ck_assert_str_eq(json_s(r.json, "feriado"), nombre);
	http_free(&r);
	snprintf(t, sizeof(t), "%sT10:00:00-05:00", feriado);
	reservar(vet, sede, t, 30, &r);
	assert_problem(&r, 422, "fuera-de-horario");
	ck_assert_msg(strstr(json_s(r.json, "detail"), "cerrada") != NULL, "%s",
	    r.body);
	http_free(&r);
	ck_assert_int_eq(n_huecos(vet2, abierta, feriado, 60), 24);

	/* The site opens on that holiday. */
	snprintf(path, sizeof(path), "/api/v1/sedes/%lld/feriados", sede);
	snprintf(body, sizeof(body), "{\"fecha\":\"%s\",\"cerrado\":false}",
	    feriado);
	http_post_json(path, body, &r);
	ck_assert_msg(r.status == 201, "%ld %s", r.status, r.body);
	ck_assert_str_eq(json_s(r.json, "ambito"), "sede");
	ck_assert_str_eq(json_s(r.json, "nombre"), nombre);
	ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(r.json, "cerrado")));
	http_free(&r);
	ck_assert_int_eq(n_huecos(vet, sede, feriado, 60), 24);
	reservar(vet, sede, t, 30, &r);
	ck_assert_msg(r.status == 201, "%ld %s", r.status, r.body);
	http_free(&r);
	snprintf(body, sizeof(body), "%s?desde=%s&hasta=%s", path, feriado,
	    feriado);
	http_get(body, &r);
	ck_assert_int_eq(cJSON_GetArraySize(json_items(r.json)), 1);
	e = cJSON_GetArrayItem(json_items(r.json), 0);
	ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(e, "cerrado")));
	http_free(&r);

	/* A day of its own closes it, naming the bookings it falls on. */
	snprintf(t, sizeof(t), "%sT10:00:00-05:00", dia);
	cita = reservar_ok(vet, sede, t, 60);
	snprintf(body, sizeof(body), "{\"fecha\":\"%s\",\"nombre\":"
	    "\"Aniversario de la sede\"}", dia);
	http_post_json(path, body, &r);
	ck_assert_msg(r.status == 201, "%ld %s", r.status, r.body);
	e = cJSON_GetObjectItem(r.json, "citas_afectadas");
	ck_assert_int_eq(cJSON_GetArraySize(e), 1);
	ck_assert_int_eq((long long)cJSON_GetArrayItem(e, 0)->valuedouble,
	    cita);
	http_free(&r);
	huecos(vet, sede, dia, 60, 60, &r);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(r.json,
	    "huecos")), 0);
	ck_assert_str_eq(json_s(r.json, "feriado"), "Aniversario de la sede");
	http_free(&r);
	ck_assert_int_eq(n_huecos(vet2, abierta, dia, 60), 24);
	snprintf(body, sizeof(body), "/api/v1/sedes/%lld/feriados/%s", sede,
	    dia);
	http_req("DELETE", body, NULL, NULL, 0, NULL, &r);
	ck_assert_int_eq(r.status, 204);
	http_free(&r);
	ck_assert_int_eq(n_huecos(vet, sede, dia, 60), 23);
	http_req("DELETE", body, NULL, NULL, 0, NULL, &r);
	assert_problem(&r, 404, "no-encontrado");
	http_free(&r);

	/* Opening needs a network holiday; unknown site; roles. */
	snprintf(body, sizeof(body), "{\"fecha\":\"%s\",\"cerrado\":false}",
	    libre);
	http_post_json(path, body, &r);
	assert_problem(&r, 422, "validacion");
	ck_assert(fx_has_error(&r, "cerrado"));
	http_free(&r);
	snprintf(body, sizeof(body), "{\"fecha\":\"%s\",\"cerrado\":\"no\"}",
	    libre);
	http_post_json(path, body, &r);
	assert_problem(&r, 422, "validacion");
	http_free(&r);
	http_post_json("/api/v1/sedes/999999999/feriados", "{\"fecha\":"
	    "\"2030-01-02\",\"nombre\":\"X\"}", &r);
	assert_problem(&r, 404, "no-encontrado");
	http_free(&r);
	http_get("/api/v1/sedes/999999999/feriados", &r);
	assert_problem(&r, 404, "no-encontrado");
	http_free(&r);
	tok = fx_token_de("recepcion", sede, NULL);
	http_token(tok);
	snprintf(body, sizeof(body), "{\"fecha\":\"%s\",\"nombre\":\"X\"}",
	    libre);
	http_post_json(path, body, &r);
	assert_problem(&r, 403, "prohibido");
	http_free(&r);
	http_get(path, &r);
	ck_assert_int_eq(r.status, 200);
	http_free(&r);
	http_token(NULL);
	free(tok);
	tok = fx_token_de("admin_sede", otra, NULL);
	http_token(tok);
	http_get(path, &r);
	assert_problem(&r, 403, "prohibido");
	http_free(&r);
	http_post_json(path, body, &r);
	assert_problem(&r, 403, "prohibido");
	http_free(&r);
	http_token(NULL);
	free(tok);
	ck_assert_int_eq(db_countf("SELECT count(*) FROM feriados WHERE "
	    "sede_id = %lld", sede), 1);
	free(feriado);
	free(nombre);
	free(dia);
	free(libre);
}
END_TEST

/* A site created open on holidays (an emergency clinic) works on the
 * network's; one created without saying so does not. */
START_TEST(sede_que_abre_en_feriados)
{
	char *feriado = db_value("SELECT min(fecha)::text FROM feriados WHERE "
	    "sede_id IS NULL AND fecha >= (now() AT TIME ZONE 'America/Lima')"
	    "::date + 2"), *code, body[400];
	struct http_resp r;
	long long sede[2], vet;
	int i;

	for (i = 0; i < 2; i++) {
		code = unique_code("U");
		snprintf(body, sizeof(body), "{\"codigo\":\"%s\",\"nombre\":"
		    "\"Urgencias %s\",\"ciudad\":\"Lima\",\"direccion\":"
		    "\"Av. Arequipa 1\"%s}", code, code, i == 0 ?
		    ",\"abre_en_feriados\":true" : "");
		free(code);
		http_post_json("/api/v1/sedes", body, &r);
		ck_assert_msg(r.status == 201, "%ld %s", r.status, r.body);
		ck_assert(cJSON_IsBool(cJSON_GetObjectItem(r.json,
		    "abre_en_feriados")));
		ck_assert_int_eq(cJSON_IsTrue(cJSON_GetObjectItem(r.json,
		    "abre_en_feriados")), i == 0);
		sede[i] = json_ll(r.json, "id");
		http_free(&r);
		vet = fx_vet(sede[i], FX_DIA_COMPLETO);
		ck_assert_int_eq(n_huecos(vet, sede[i], feriado, 60),
		    i == 0 ? 24 : 0);
	}
	code = unique_code("U");
	snprintf(body, sizeof(body), "{\"codigo\":\"%s\",\"nombre\":\"X\","
	    "\"ciudad\":\"Lima\",\"direccion\":\"Av. 1\",\"abre_en_feriados\":"
	    "\"si\"}", code);
	free(code);
	http_post_json("/api/v1/sedes", body, &r);
	assert_problem(&r, 422, "validacion");
	ck_assert(fx_has_error(&r, "abre_en_feriados"));
	http_free(&r);
	free(feriado);
}
END_TEST

START_TEST(agenda_del_dia_y_semana)
{
	long long a = fx_sede(LIMA), b = fx_sede(LIMA), c = fx_sede(LIMA),
	    v1 = fx_vet(a, FX_DIA_COMPLETO), v2 = fx_vet(b, FX_OFICINA),
	    domingo = fx_dia(LIMA, 7, 2), c1, c2, c3;
	char dia[16], path[128], t[FX_HORA_LEN], *tok;
	const cJSON *e, *vets, *dias;
	struct http_resp r;
	int found = 0;

	/* v2 works at b Monday to Saturday, and at a on Sunday mornings. */
	db_execf("INSERT INTO veterinario_sedes (veterinario_id, sede_id) "
	    "VALUES (%lld, %lld); INSERT INTO horarios (veterinario_id, "
	    "sede_id, dia_semana, hora_inicio, hora_fin, vigente_desde) VALUES "
	    "(%lld, %lld, 7, '09:00', '13:00', '2024-01-01')", v2, a, v2, a);
	fx_hora(domingo + FX_HM(10, 0), FX_LIMA, t);
	c1 = reservar_ok(v1, a, t, 30);
	fx_hora(domingo + FX_HM(11, 0), FX_LIMA, t);
	c2 = reservar_ok(v2, a, t, 30);
	fx_hora(domingo + FX_HM(24 + 9, 0), FX_LIMA, t);
	c3 = reservar_ok(v2, b, t, 30);
	fx_hora(domingo, FX_LIMA, t);
	snprintf(dia, sizeof(dia), "%.10s", t);

	snprintf(path, sizeof(path), "/api/v1/sedes/%lld/agenda?fecha=%s", a,
	    dia);
	http_get(path, &r);
	ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
	ck_assert_str_eq(json_s(r.json, "fecha"), dia);
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(r.json, "feriado")));
	vets = cJSON_GetObjectItem(r.json, "veterinarios");
	ck_assert_int_eq(cJSON_GetArraySize(vets), 2);
	cJSON_ArrayForEach(e, vets) {
		const cJSON *bl = cJSON_GetObjectItem(e, "bloques");

		ck_assert_int_eq(cJSON_GetArraySize(bl), 1);
		if (json_ll(e, "id") == v2) {
			ck_assert_str_eq(json_s(cJSON_GetArrayItem(bl, 0),
			    "inicio") + 11, "09:00:00-05:00");
			found++;
		}
	}
	ck_assert_int_eq(found, 1);
	e = cJSON_GetObjectItem(r.json, "citas");
	ck_assert_int_eq(cJSON_GetArraySize(e), 2);
	ck_assert_int_eq(json_ll(cJSON_GetArrayItem(e, 0), "id"), c1);
	ck_assert_int_eq(json_ll(cJSON_GetArrayItem(e, 1), "id"), c2);
	http_free(&r);

	/* The vet's week: both sites; the other site's booking only as busy
	 * time for a desk of a. */
	snprintf(path, sizeof(path), "/api/v1/veterinarios/%lld/semana?desde="
	    "%s", v2, dia);
	http_get(path, &r);
	ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
	dias = cJSON_GetObjectItem(r.json, "dias");
	ck_assert_int_eq(cJSON_GetArraySize(dias), 7);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(
	    cJSON_GetArrayItem(dias, 0), "bloques")), 1);
	ck_assert_int_eq(json_ll(cJSON_GetArrayItem(cJSON_GetObjectItem(
	    cJSON_GetArrayItem(dias, 0), "bloques"), 0), "sede_id"), a);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(
	    cJSON_GetArrayItem(dias, 1), "bloques")), 2);
	e = cJSON_GetObjectItem(r.json, "citas");
	ck_assert_int_eq(cJSON_GetArraySize(e), 2);
	ck_assert_int_eq(json_ll(cJSON_GetArrayItem(e, 1), "id"), c3);
	http_free(&r);
	tok = fx_token_de("recepcion", a, NULL);
	http_token(tok);
	http_get(path, &r);
	ck_assert_int_eq(r.status, 200);
	e = cJSON_GetObjectItem(r.json, "citas");
	ck_assert_int_eq(cJSON_GetArraySize(e), 2);
	ck_assert_int_eq(json_ll(cJSON_GetArrayItem(e, 0), "id"), c2);
	ck_assert_str_eq(json_s(cJSON_GetArrayItem(e, 1), "estado"), "ocupado");
	ck_assert_ptr_null(cJSON_GetObjectItem(cJSON_GetArrayItem(e, 1),
	    "paciente"));
	ck_assert_ptr_null(cJSON_GetObjectItem(cJSON_GetArrayItem(e, 1),
	    "id"));
	http_free(&r);
	snprintf(path, sizeof(path), "/api/v1/sedes/%lld/agenda?fecha=%s", b,
	    dia);
	http_get(path, &r);
	assert_problem(&r, 403, "prohibido");
	http_free(&r);
	http_token(NULL);
	free(tok);
	tok = fx_token_de("recepcion", c, NULL);
	http_token(tok);
	snprintf(path, sizeof(path), "/api/v1/veterinarios/%lld/semana", v2);
	http_get(path, &r);
	assert_problem(&r, 403, "prohibido");
	http_free(&r);
	http_token(NULL);
	free(tok);

	snprintf(path, sizeof(path), "/api/v1/sedes/%lld/agenda", a);
	http_get(path, &r);
	assert_problem(&r, 400, "parametro-invalido");
	ck_assert(fx_has_error(&r, "fecha"));
	http_free(&r);
	http_get("/api/v1/sedes/999999999/agenda?fecha=2027-01-04", &r);
	assert_problem(&r, 404, "no-encontrado");
	http_free(&r);
	http_get("/api/v1/sedes/0/agenda?fecha=2027-01-04", &r);
	assert_problem(&r, 400, "id-invalido");
	http_free(&r);
	http_get("/api/v1/veterinarios/999999999/semana", &r);
	assert_problem(&r, 404, "no-encontrado");
	http_free(&r);
	snprintf(path, sizeof(path), "/api/v1/veterinarios/%lld/semana?desde="
	    "2027-02-30", v2);
	http_get(path, &r);
	assert_problem(&r, 400, "parametro-invalido");
	http_free(&r);
}
END_TEST

/*
 * Free slots, case by case: split shifts (no slot crossing the break), a
 * vet at two sites the same day, and the days a daylight-saving zone
 * changes its clocks (25 and 23 hours).
 */
START_TEST(disponibilidad_casos)
{
	static const struct {
		const char	*tz;
		const char	*bloques;	/* site a's, SQL VALUES (d, i, f) */
		const char	*otra;		/* site b's, or NULL */
		const char	*fecha;		/* NULL: next Tuesday */
		int		 dur, paso;
		int		 n, n_otra;
		const char	*primero, *ultimo;	/* at site a */
	} casos[] = {
		/* Split shift: 09-13 and 15-19, hourly slots every 30 min. */
		{ LIMA, "(2, '09:00', '13:00'), (2, '15:00', '19:00')", NULL,
		    NULL, 60, 30, 14, 0, "09:00:00-05:00", "18:00:00-05:00" },
		/* 20-minute slots in a 50-minute block: two fit. */
		{ LIMA, "(2, '09:00', '09:50')", NULL, NULL, 20, 20, 2, 0,
		    "09:00:00-05:00", "09:20:00-05:00" },
		/* Mornings at a, afternoons at b, the same Tuesday. */
		{ LIMA, "(2, '08:00', '12:00')", "(2, '14:00', '18:00')", NULL,
		    60, 60, 4, 4, "08:00:00-05:00", "11:00:00-05:00" },
		/* Madrid's clocks go back on 31 October 2027: 25 hours. */
		{ MADRID, "(7, '00:00', '24:00')", NULL, "2027-10-31", 60, 60,
		    25, 0, "00:00:00+02:00", "23:00:00+01:00" },
		/* ... and forward on 28 March 2027: 23 hours. */
		{ MADRID, "(7, '00:00', '24:00')", NULL, "2027-03-28", 60, 60,
		    23, 0, "00:00:00+01:00", "23:00:00+02:00" },
		/* 08:00-12:00 that Sunday, after the change: +01:00. */
		{ MADRID, "(7, '08:00', '12:00')", NULL, "2027-10-31", 60, 60,
		    4, 0, "08:00:00+01:00", "11:00:00+01:00" },
	};
	struct http_resp r;
	char *martes = db_value("SELECT d::date::text FROM generate_series("
	    "current_date + 2, current_date + 9, interval '1 day') d WHERE "
	    "extract(isodow FROM d) = 2 LIMIT 1"), fecha[16];
	long long a, b, vet;
	size_t i;
	int n;

	for (i = 0; i < sizeof(casos) / sizeof(casos[0]); i++) {
		a = fx_sede(casos[i].tz);
		vet = fx_vet(a, FX_OFICINA);
		db_execf("DELETE FROM horarios WHERE veterinario_id = %lld; "
		    "INSERT INTO horarios (veterinario_id, sede_id, dia_semana, "
		    "hora_inicio, hora_fin, vigente_desde) SELECT %lld, %lld, "
		    "d, i::time, f::time, '2024-01-01' FROM (VALUES %s) b (d, "
		    "i, f)", vet, vet, a, casos[i].bloques);
		snprintf(fecha, sizeof(fecha), "%s", casos[i].fecha ?
		    casos[i].fecha : martes);
		huecos(vet, a, fecha, casos[i].dur, casos[i].paso, &r);
		n = cJSON_GetArraySize(cJSON_GetObjectItem(r.json, "huecos"));
		ck_assert_msg(n == casos[i].n, "case %zu: %d slots, want %d: %s",
		    i, n, casos[i].n, r.body);
		ck_assert_str_eq(hueco(&r, 0, "inicio") + 11, casos[i].primero);
		ck_assert_str_eq(hueco(&r, n - 1, "inicio") + 11,
		    casos[i].ultimo);
		http_free(&r);
		if (casos[i].otra == NULL)
			continue;
		b = fx_sede(casos[i].tz);
		db_execf("INSERT INTO veterinario_sedes (veterinario_id, "
		    "sede_id) VALUES (%lld, %lld); INSERT INTO horarios "
		    "(veterinario_id, sede_id, dia_semana, hora_inicio, hora_fin, "
		    "vigente_desde) SELECT %lld, %lld, d, i::time, f::time, "
		    "'2024-01-01' FROM (VALUES %s) b (d, i, f)", vet, b, vet, b,
		    casos[i].otra);
		huecos(vet, b, fecha, casos[i].dur, casos[i].paso, &r);
		n = cJSON_GetArraySize(cJSON_GetObjectItem(r.json, "huecos"));
		ck_assert_int_eq(n, casos[i].n_otra);
		ck_assert_str_eq(hueco(&r, 0, "inicio") + 11, "14:00:00-05:00");
		http_free(&r);
		/* Not at b in the morning, not at a in the afternoon. */
		{
			char t[40];

			snprintf(t, sizeof(t), "%sT09:00:00-05:00", fecha);
			reservar(vet, b, t, 30, &r);
			assert_problem(&r, 422, "fuera-de-horario");
			http_free(&r);
			snprintf(t, sizeof(t), "%sT15:00:00-05:00", fecha);
			reservar(vet, a, t, 30, &r);
			assert_problem(&r, 422, "fuera-de-horario");
			http_free(&r);
		}
	}
	/* The hour lived twice in Madrid is bookable, in its second pass. */
	a = fx_sede(MADRID);
	vet = fx_vet(a, FX_DIA_COMPLETO);
	reservar(vet, a, "2027-10-31T02:30:00+01:00", 60, &r);
	ck_assert_msg(r.status == 201, "%ld %s", r.status, r.body);
	ck_assert_str_eq(json_s(r.json, "inicio"), "2027-10-31T02:30:00+01:00");
	ck_assert_str_eq(json_s(r.json, "fin"), "2027-10-31T03:30:00+01:00");
	http_free(&r);
	huecos(vet, a, "2027-10-31", 60, 60, &r);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(r.json,
	    "huecos")), 23);	/* 02:00+01 and 03:00+01 overlap it */
	http_free(&r);
	free(martes);
}
END_TEST

/* Whether the free slots of r hold one starting at local HH:MM. */
static int
tiene_hueco(const struct http_resp *r, const char *hhmm)
{
	const cJSON *h;

	cJSON_ArrayForEach(h, cJSON_GetObjectItem(r->json, "huecos"))
		if (strncmp(json_s(h, "inicio") + 11, hhmm, 5) == 0)
			return 1;
	return 0;
}

/* A booking of a fresh patient with an appointment type and no length. */
static void
reservar_tipo(long long vet, long long sede, const char *inicio,
    const char *tipo_cita, const char *tipo, struct http_resp *r)
{
	char body[400];

	snprintf(body, sizeof(body), "{\"paciente_id\":%lld,\"veterinario_id\":"
	    "%lld,\"sede_id\":%lld,\"inicio\":\"%s\",\"motivo\":\"Prueba\","
	    "\"tipo_cita\":\"%s\"%s%s%s}", fx_paciente(), vet, sede, inicio,
	    tipo_cita, tipo ? ",\"tipo\":\"" : "", tipo ? tipo : "",
	    tipo ? "\"" : "");
	http_post_json("/api/v1/citas/reservar", body, r);
}

/*
 * Appointment types: the network's, a site's own values, the length and
 * the margins a booking takes from its type, the free slots that leave
 * room for the margins, and a type's change that moves no booking.
 */
START_TEST(tipos_de_cita_y_margenes)
{
	static const struct {
		const char	*hora;
		int		 libre;
	} huecos_esperados[] = {
		/* Booked: 09:20-09:50 plain, 10:00-10:30 typed (its time
		 * 09:50-10:50), 10:50-11:20 plain.  A typed slot needs 10
		 * minutes before and 20 after. */
		{ "08:30", 1 }, { "08:40", 0 }, { "09:00", 0 }, { "10:00", 0 },
		{ "11:20", 0 }, { "11:30", 1 }, { "12:00", 1 },
	};
	long long sede = fx_sede(LIMA), vet = fx_vet(sede, FX_DIA_COMPLETO),
	    otra = fx_sede(LIMA), cita, n;
	char *dia = dia_laborable(3), *code, tc[48], path[160], body[300],
	    t[40], *tok;
	struct http_resp r;
	const cJSON *e;
	size_t i;
	int found;

	code = unique_code("t");
	snprintf(tc, sizeof(tc), "prueba_%c%c%s", code[1] + 32, code[2] + 32,
	    code + 4);
	free(code);
	/* The network's type, created then replaced. */
	snprintf(path, sizeof(path), "/api/v1/tipos-cita/%s", tc);
	http_send_json("PUT", path, "{\"nombre\":\"Prueba\",\"duracion_min\":"
	    "40,\"margen_antes_min\":10,\"margen_despues_min\":20}", NULL, &r);
	ck_assert_msg(r.status == 201, "%ld %s", r.status, r.body);
	ck_assert_str_eq(json_s(r.json, "ambito"), "red");
	http_free(&r);
	http_send_json("PUT", path, "{\"nombre\":\"Prueba de margen\","
	    "\"duracion_min\":40,\"margen_antes_min\":10,\"margen_despues_min\":"
	    "20}", NULL, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(json_s(r.json, "nombre"), "Prueba de margen");
	http_free(&r);
	/* The site's own length; the margins stay the network's. */
	snprintf(path, sizeof(path), "/api/v1/sedes/%lld/tipos-cita/%s", sede,
	    tc);
	http_send_json("PUT", path, "{\"duracion_min\":30}", NULL, &r);
	ck_assert_msg(r.status == 201, "%ld %s", r.status, r.body);
	ck_assert_str_eq(json_s(r.json, "ambito"), "sede");
	ck_assert_int_eq(json_ll(r.json, "duracion_min"), 30);
	ck_assert_int_eq(json_ll(r.json, "margen_antes_min"), 10);
	ck_assert_int_eq(json_ll(r.json, "margen_despues_min"), 20);
	http_free(&r);
	snprintf(path, sizeof(path), "/api/v1/tipos-cita?sede_id=%lld", sede);
	http_get(path, &r);
	ck_assert_int_eq(r.status, 200);
	found = 0;
	cJSON_ArrayForEach(e, json_items(r.json))
		if (strcmp(json_s(e, "codigo"), tc) == 0) {
			ck_assert_str_eq(json_s(e, "ambito"), "sede");
			ck_assert_int_eq(json_ll(e, "duracion_min"), 30);
			found++;
		}
	ck_assert_int_eq(found, 1);
	http_free(&r);
	http_get("/api/v1/tipos-cita", &r);
	found = 0;
	cJSON_ArrayForEach(e, json_items(r.json)) {
		ck_assert_str_eq(json_s(e, "ambito"), "red");
		if (strcmp(json_s(e, "codigo"), "teleconsulta") == 0)
			ck_assert_str_eq(json_s(e, "modalidad"), "virtual");
		found += strcmp(json_s(e, "codigo"), tc) == 0 &&
		    json_ll(e, "duracion_min") == 40;
	}
	ck_assert_int_eq(found, 1);
	http_free(&r);

	/* A typed booking: the type's length and margins. */
	snprintf(t, sizeof(t), "%sT10:00:00-05:00", dia);
	reservar_tipo(vet, sede, t, tc, NULL, &r);
	ck_assert_msg(r.status == 201, "%ld %s", r.status, r.body);
	cita = json_ll(r.json, "id");
	ck_assert_str_eq(json_s(r.json, "fin") + 11, "10:30:00-05:00");
	ck_assert_str_eq(json_s(r.json, "tipo_cita"), tc);
	ck_assert_int_eq(json_ll(r.json, "margen_antes_min"), 10);
	ck_assert_int_eq(json_ll(r.json, "margen_despues_min"), 20);
	http_free(&r);
	/* Its margins are the vet's: 10:30 is taken, 10:50 is not. */
	snprintf(t, sizeof(t), "%sT10:30:00-05:00", dia);
	reservar(vet, sede, t, 30, &r);
	assert_problem(&r, 409, "conflicto");
	ck_assert_int_eq(json_ll(cJSON_GetObjectItem(r.json, "conflicto"),
	    "cita_id"), cita);
	http_free(&r);
	snprintf(t, sizeof(t), "%sT10:50:00-05:00", dia);
	reservar_ok(vet, sede, t, 30);
	snprintf(t, sizeof(t), "%sT09:20:00-05:00", dia);
	reservar_ok(vet, sede, t, 30);

	/* The free slots of the type leave room for its margins. */
	snprintf(path, sizeof(path), "/api/v1/disponibilidad?veterinario_id="
	    "%lld&sede_id=%lld&fecha=%s&tipo_cita=%s&paso_min=10", vet, sede,
	    dia, tc);
	http_get(path, &r);
	ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
	ck_assert_int_eq(json_ll(r.json, "duracion_min"), 30);
	ck_assert_int_eq(json_ll(r.json, "margen_antes_min"), 10);
	ck_assert_int_eq(json_ll(r.json, "margen_despues_min"), 20);
	ck_assert_str_eq(json_s(r.json, "tipo_cita"), tc);
	for (i = 0; i < sizeof(huecos_esperados) /
	    sizeof(huecos_esperados[0]); i++)
		ck_assert_msg(tiene_hueco(&r, huecos_esperados[i].hora) ==
		    huecos_esperados[i].libre, "slot %s: want %s",
		    huecos_esperados[i].hora, huecos_esperados[i].libre ?
		    "free" : "taken");
	http_free(&r);
	/* Without a type, 09:50-10:00 is still the typed booking's. */
	huecos(vet, sede, dia, 10, 10, &r);
	ck_assert(!tiene_hueco(&r, "09:50"));
	ck_assert(tiene_hueco(&r, "09:10"));
	http_free(&r);

	/* Changing the type moves no booking; moving the booking keeps its
	 * margins. */
	snprintf(path, sizeof(path), "/api/v1/sedes/%lld/tipos-cita/%s", sede,
	    tc);
	http_send_json("PUT", path, "{\"duracion_min\":30,"
	    "\"margen_despues_min\":60}", NULL, &r);
	ck_assert_int_eq(r.status, 200);
	http_free(&r);
	snprintf(body, sizeof(body), "{\"inicio\":\"%sT14:00:00-05:00\"}", dia);
	fx_put_cita(cita, body, NULL, &r);
	ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
	ck_assert_int_eq(json_ll(r.json, "margen_despues_min"), 20);
	http_free(&r);
	ck_assert_int_eq(db_countf("SELECT count(*) FROM citas WHERE id = %lld "
	    "AND lower(ocupa) = '%s 13:50-05' AND upper(ocupa) = '%s 14:50-05'",
	    cita, dia, dia), 1);

	/* Modality, unknown and retired types. */
	snprintf(t, sizeof(t), "%sT16:00:00-05:00", dia);
	reservar_tipo(vet, sede, t, "teleconsulta", "presencial", &r);
	assert_problem(&r, 422, "validacion");
	ck_assert(fx_has_error(&r, "tipo"));
	http_free(&r);
	reservar_tipo(vet, sede, t, "teleconsulta", NULL, &r);
	ck_assert_msg(r.status == 201, "%ld %s", r.status, r.body);
	ck_assert_str_eq(json_s(r.json, "tipo"), "virtual");
	http_free(&r);
	snprintf(t, sizeof(t), "%sT17:00:00-05:00", dia);
	reservar_tipo(vet, sede, t, "no_existe", NULL, &r);
	assert_problem(&r, 422, "validacion");
	ck_assert(fx_has_error(&r, "tipo_cita"));
	http_free(&r);
	reservar_tipo(vet, sede, t, "Cirugía", NULL, &r);
	assert_problem(&r, 422, "validacion");
	ck_assert(fx_has_error(&r, "tipo_cita"));
	http_free(&r);
	http_send_json("PUT", path, "{\"activo\":false}", NULL, &r);
	ck_assert_int_eq(r.status, 200);
	http_free(&r);
	reservar_tipo(vet, sede, t, tc, NULL, &r);
	assert_problem(&r, 422, "validacion");
	ck_assert(fx_has_error(&r, "tipo_cita"));
	http_free(&r);
	snprintf(body, sizeof(body), "/api/v1/disponibilidad?veterinario_id="
	    "%lld&sede_id=%lld&fecha=%s&tipo_cita=no_existe", vet, sede, dia);
	http_get(body, &r);
	assert_problem(&r, 422, "validacion");
	http_free(&r);
	snprintf(body, sizeof(body), "/api/v1/disponibilidad?veterinario_id="
	    "%lld&sede_id=%lld&fecha=%s&tipo_cita=X-1", vet, sede, dia);
	http_get(body, &r);
	assert_problem(&r, 400, "parametro-invalido");
	http_free(&r);

	/* A site's values that bookings name stay; others go. */
	http_req("DELETE", path, NULL, NULL, 0, NULL, &r);
	assert_problem(&r, 409, "conflicto");
	http_free(&r);
	snprintf(path, sizeof(path), "/api/v1/sedes/%lld/tipos-cita/%s", otra,
	    tc);
	http_send_json("PUT", path, "{\"margen_antes_min\":0}", NULL, &r);
	ck_assert_int_eq(r.status, 201);
	http_free(&r);
	http_req("DELETE", path, NULL, NULL, 0, NULL, &r);
	ck_assert_int_eq(r.status, 204);
	http_free(&r);
	http_req("DELETE", path, NULL, NULL, 0, NULL, &r);
	assert_problem(&r, 404, "no-encontrado");
	http_free(&r);

	/* Bad input: 422 or 400, nothing written. */
	n = db_count("SELECT count(*) FROM tipos_cita");
	{
		static const char *const malos[] = {
			"{\"duracion_min\":4}", "{\"duracion_min\":241}",
			"{\"margen_antes_min\":-1}", "{\"margen_despues_min\":121}",
			"{\"modalidad\":\"mixta\"}", "{\"duracion\":30}",
			"{\"activo\":\"no\"}", "{\"nombre\":\"\"}",
			"{\"duracion_min\":\"30\"}",
		};

		for (i = 0; i < sizeof(malos) / sizeof(malos[0]); i++) {
			http_send_json("PUT", path, malos[i], NULL, &r);
			ck_assert_msg(r.status == 422, "%s: %ld %s", malos[i],
			    r.status, r.body);
			http_free(&r);
		}
	}
	http_send_json("PUT", "/api/v1/tipos-cita/nuevo_sin_nombre_x",
	    "{\"duracion_min\":30}", NULL, &r);
	assert_problem(&r, 422, "validacion");
	ck_assert(fx_has_error(&r, "nombre"));
	http_free(&r);
	http_send_json("PUT", "/api/v1/tipos-cita/X", "{}", NULL, &r);
	assert_problem(&r, 400, "parametro-invalido");
	http_free(&r);
	http_send_json("PUT", "/api/v1/sedes/999999999/tipos-cita/consulta",
	    "{}", NULL, &r);
	assert_problem(&r, 404, "no-encontrado");
	http_free(&r);
	tok = fx_token_de("admin_sede", sede, NULL);
	http_token(tok);
	snprintf(path, sizeof(path), "/api/v1/tipos-cita/%s", tc);
	http_send_json("PUT", path, "{\"duracion_min\":30}", NULL, &r);
	assert_problem(&r, 403, "prohibido");
	http_free(&r);
	snprintf(path, sizeof(path), "/api/v1/sedes/%lld/tipos-cita/%s", otra,
	    tc);
	http_send_json("PUT", path, "{\"duracion_min\":30}", NULL, &r);
	assert_problem(&r, 403, "prohibido");
	http_free(&r);
	http_token(NULL);
	free(tok);
	ck_assert_int_eq(db_count("SELECT count(*) FROM tipos_cita"), n);
	free(dia);
}
END_TEST

Suite *
horarios_suite(void)
{
	Suite *s = suite_create("horarios");
	TCase *tc = tcase_create("horarios");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, horario_partido_desde_una_fecha);
	tcase_add_test(tc, horario_entrada_mala);
	tcase_add_test(tc, feriados_de_la_red);
	tcase_add_test(tc, feriados_cierran_la_sede);
	tcase_add_test(tc, sede_que_abre_en_feriados);
	tcase_add_test(tc, agenda_del_dia_y_semana);
	tcase_add_test(tc, disponibilidad_casos);
	tcase_add_test(tc, tipos_de_cita_y_margenes);
	suite_add_tcase(s, tc);
	return s;
}
