/*
 * check_agenda.c - what a booking form reads: the sites, the vets of a
 * site, and a vet's free slots on a day, which are the working hours in
 * the site's time zone minus absences, live appointments and the past.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "itest.h"

#define SEDE	1LL
#define LIMA	"America/Lima"

START_TEST(sedes_de_la_demo)
{
	static const char *const codigos[] = { "LIM-01", "AQP-01", "CUS-01" };
	const cJSON *s;
	struct http_resp r;
	int found = 0;

	http_get("/api/v1/sedes", &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(r.json, "siguiente_cursor")));
	cJSON_ArrayForEach(s, json_items(r.json)) {
		long long id = json_ll(s, "id");

		if (id >= 1 && id <= 3) {
			ck_assert_str_eq(json_s(s, "codigo"), codigos[id - 1]);
			ck_assert_str_eq(json_s(s, "zona_horaria"), LIMA);
			found++;
		}
	}
	ck_assert_int_eq(found, 3);
	http_free(&r);
}
END_TEST

/* Whether the vet list holds id, and that every vet works at sede. */
static int
lista_tiene(const cJSON *vets, long long id, long long sede)
{
	const cJSON *v, *s;
	int found = 0, here;

	cJSON_ArrayForEach(v, json_items(vets)) {
		here = 0;
		cJSON_ArrayForEach(s, cJSON_GetObjectItem(v, "sedes"))
			here |= json_ll(s, "id") == sede;
		ck_assert_msg(sede == 0 || here, "vet %lld listed for site "
		    "%lld", json_ll(v, "id"), sede);
		found |= json_ll(v, "id") == id;
	}
	return found;
}

START_TEST(veterinarios_por_sede)
{
	long long sede = fx_sede(LIMA), vet = fx_vet(sede, FX_OFICINA);
	const cJSON *v;
	struct http_resp r;
	char path[96];

	snprintf(path, sizeof(path), "/api/v1/veterinarios?sede_id=%lld",
	    sede);
	http_get(path, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_int_eq(cJSON_GetArraySize(json_items(r.json)), 1);
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(r.json, "siguiente_cursor")));
	v = cJSON_GetArrayItem(json_items(r.json), 0);
	ck_assert_int_eq(json_ll(v, "id"), vet);
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(v, "activo")));
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(v, "sedes")),
	    1);
	http_free(&r);

	/* The demo's site 1: Lucía Fernández (vet 1), not the new vet. */
	http_get("/api/v1/veterinarios?sede_id=1", &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert(lista_tiene(r.json, 1, 1));
	ck_assert(!lista_tiene(r.json, vet, 1));
	http_free(&r);
	http_get("/api/v1/veterinarios", &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert(lista_tiene(r.json, 1, 0) && lista_tiene(r.json, vet, 0));
	http_free(&r);

	http_get("/api/v1/veterinarios?sede_id=9007199254740991", &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_int_eq(cJSON_GetArraySize(json_items(r.json)), 0);
	http_free(&r);
	http_get("/api/v1/veterinarios?sede_id=abc", &r);
	assert_problem(&r, 400, "parametro-invalido");
	ck_assert(fx_has_error(&r, "sede_id"));
	http_free(&r);
	http_get("/api/v1/veterinarios?sede_id=0", &r);
	assert_problem(&r, 400, "parametro-invalido");
	http_free(&r);
	http_get("/api/v1/veterinarios?sede_id=1%20OR%201=1", &r);
	assert_problem(&r, 400, "parametro-invalido");
	http_free(&r);
}
END_TEST

/*
 * GET /api/v1/disponibilidad for the local date of instant dia at UTC
 * offset off (minutes); r holds the answer.
 */
static void
disponibilidad(long long vet, long long sede, long long dia, int off,
    int dur, const char *extra, struct http_resp *r)
{
	char path[256], fecha[FX_HORA_LEN];

	fx_hora(dia, off, fecha);
	fecha[10] = '\0';
	snprintf(path, sizeof(path), "/api/v1/disponibilidad?veterinario_id="
	    "%lld&sede_id=%lld&fecha=%s&duracion_min=%d%s", vet, sede, fecha,
	    dur, extra ? extra : "");
	http_get(path, r);
	ck_assert_msg(r->status == 200, "%s: %ld %s", path, r->status,
	    r->body);
}

/* Whether a slot starting at t (text) is offered. */
static int
ofrece(const struct http_resp *r, const char *t)
{
	const cJSON *h;

	cJSON_ArrayForEach(h, cJSON_GetObjectItem(r->json, "huecos"))
		if (strcmp(json_s(h, "inicio"), t) == 0)
			return 1;
	return 0;
}

static int
huecos(const struct http_resp *r)
{
	return cJSON_GetArraySize(cJSON_GetObjectItem(r->json, "huecos"));
}

START_TEST(disponibilidad_resta_citas_y_ausencias)
{
	long long vet = fx_vet(SEDE, FX_OFICINA), p[2], d = fx_dia(LIMA, 1, 7);
	long long dom = fx_dia(LIMA, 7, 7), a;
	char t[FX_HORA_LEN], f[FX_HORA_LEN];
	struct http_resp r;
	const cJSON *h;

	fx_pacientes(2, p);
	/* 08:00-13:00 and 14:00-19:00 in 30-minute slots: 20. */
	disponibilidad(vet, SEDE, d, FX_LIMA, 30, NULL, &r);
	ck_assert_int_eq(huecos(&r), 20);
	ck_assert_str_eq(json_s(r.json, "zona_horaria"), LIMA);
	ck_assert_int_eq(json_ll(r.json, "duracion_min"), 30);
	h = cJSON_GetArrayItem(cJSON_GetObjectItem(r.json, "huecos"), 0);
	fx_hora(d + FX_HM(8, 0), FX_LIMA, t);
	ck_assert_str_eq(json_s(h, "inicio"), t);
	fx_hora(d + FX_HM(8, 30), FX_LIMA, t);
	ck_assert_str_eq(json_s(h, "fin"), t);
	fx_hora(d + FX_HM(12, 30), FX_LIMA, t);
	ck_assert(ofrece(&r, t));
	fx_hora(d + FX_HM(13, 0), FX_LIMA, t);
	ck_assert(!ofrece(&r, t));
	fx_hora(d + FX_HM(18, 30), FX_LIMA, t);
	ck_assert(ofrece(&r, t));
	http_free(&r);

	/* A booked slot disappears; its neighbours stay. */
	fx_hora(d + FX_HM(9, 0), FX_LIMA, t);
	a = fx_reservar_ok(&(struct fx_cita){ .paciente = p[0],
	    .veterinario = vet, .sede = SEDE, .inicio = t });
	disponibilidad(vet, SEDE, d, FX_LIMA, 30, NULL, &r);
	ck_assert_int_eq(huecos(&r), 19);
	ck_assert(!ofrece(&r, t));
	fx_hora(d + FX_HM(8, 30), FX_LIMA, t);
	ck_assert(ofrece(&r, t));
	fx_hora(d + FX_HM(9, 30), FX_LIMA, t);
	ck_assert(ofrece(&r, t));
	http_free(&r);
	/* 45 minutes from 10:15 take the 10:00 and 10:30 slots. */
	fx_hora(d + FX_HM(10, 15), FX_LIMA, t);
	fx_reservar_ok(&(struct fx_cita){ .paciente = p[1],
	    .veterinario = vet, .sede = SEDE, .inicio = t, .duracion = 45 });
	disponibilidad(vet, SEDE, d, FX_LIMA, 30, NULL, &r);
	ck_assert_int_eq(huecos(&r), 17);
	fx_hora(d + FX_HM(10, 0), FX_LIMA, t);
	ck_assert(!ofrece(&r, t));
	fx_hora(d + FX_HM(11, 0), FX_LIMA, t);
	ck_assert(ofrece(&r, t));
	http_free(&r);

	/* An absence from 14:00 to 16:00 takes four slots. */
	fx_hora(d + FX_HM(14, 0), FX_LIMA, t);
	fx_hora(d + FX_HM(16, 0), FX_LIMA, f);
	db_execf("INSERT INTO ausencias (veterinario_id, periodo, tipo) "
	    "VALUES (%lld, tstzrange('%s', '%s'), 'licencia')", vet, t, f);
	disponibilidad(vet, SEDE, d, FX_LIMA, 30, NULL, &r);
	ck_assert_int_eq(huecos(&r), 13);
	ck_assert(!ofrece(&r, t));
	ck_assert(ofrece(&r, f));
	http_free(&r);

	/* Cancelling gives the 09:00 slot back. */
	snprintf(f, sizeof(f), "/api/v1/citas/%lld", a);
	http_req("DELETE", f, NULL, NULL, 0, NULL, &r);
	ck_assert_int_eq(r.status, 204);
	http_free(&r);
	disponibilidad(vet, SEDE, d, FX_LIMA, 30, NULL, &r);
	ck_assert_int_eq(huecos(&r), 14);
	fx_hora(d + FX_HM(9, 0), FX_LIMA, t);
	ck_assert(ofrece(&r, t));
	http_free(&r);

	/* 60 minutes every 15: 08:00 ... 12:00 in the morning. */
	disponibilidad(vet, SEDE, d, FX_LIMA, 60, "&paso_min=15", &r);
	ck_assert_int_eq(json_ll(r.json, "paso_min"), 15);
	fx_hora(d + FX_HM(8, 15), FX_LIMA, t);
	ck_assert(ofrece(&r, t));
	fx_hora(d + FX_HM(12, 15), FX_LIMA, t);
	ck_assert(!ofrece(&r, t));
	http_free(&r);

	/* Sunday: no hours, no slots. */
	disponibilidad(vet, SEDE, dom, FX_LIMA, 30, NULL, &r);
	ck_assert_int_eq(huecos(&r), 0);
	http_free(&r);
}
END_TEST

START_TEST(disponibilidad_en_la_zona_de_la_sede)
{
	long long tokio = fx_sede("Asia/Tokyo"), vet = fx_vet(tokio,
	    FX_OFICINA), d = fx_dia("Asia/Tokyo", 1, 7);
	char t[FX_HORA_LEN];
	struct http_resp r;
	const cJSON *h;

	disponibilidad(vet, tokio, d, FX_TOKIO, 60, NULL, &r);
	ck_assert_str_eq(json_s(r.json, "zona_horaria"), "Asia/Tokyo");
	ck_assert_int_eq(huecos(&r), 10);
	h = cJSON_GetArrayItem(cJSON_GetObjectItem(r.json, "huecos"), 0);
	fx_hora(d + FX_HM(8, 0), FX_TOKIO, t);
	ck_assert_str_eq(json_s(h, "inicio"), t);
	ck_assert_ptr_nonnull(strstr(t, "T08:00:00+09:00"));
	http_free(&r);
}
END_TEST

/* Only what could be booked: nothing of an inactive vet or site. */
START_TEST(disponibilidad_solo_de_lo_reservable)
{
	long long sede = fx_sede(LIMA), v1 = fx_vet(sede, FX_OFICINA);
	long long v2 = fx_vet(sede, FX_OFICINA), v3 = fx_vet(sede, FX_OFICINA);
	long long d = fx_dia(LIMA, 1, 7);
	struct http_resp r;

	db_execf("UPDATE veterinarios SET activo = false WHERE id = %lld", v1);
	db_execf("UPDATE veterinario_sedes SET activo = false WHERE "
	    "veterinario_id = %lld", v2);
	disponibilidad(v1, sede, d, FX_LIMA, 30, NULL, &r);
	ck_assert_int_eq(huecos(&r), 0);
	http_free(&r);
	disponibilidad(v2, sede, d, FX_LIMA, 30, NULL, &r);
	ck_assert_int_eq(huecos(&r), 0);
	http_free(&r);
	disponibilidad(v3, sede, d, FX_LIMA, 30, NULL, &r);
	ck_assert_int_eq(huecos(&r), 20);
	http_free(&r);
	db_execf("UPDATE sedes SET activa = false WHERE id = %lld", sede);
	disponibilidad(v3, sede, d, FX_LIMA, 30, NULL, &r);
	ck_assert_int_eq(huecos(&r), 0);
	ck_assert_str_eq(json_s(r.json, "zona_horaria"), LIMA);
	http_free(&r);
}
END_TEST

START_TEST(disponibilidad_sin_pasado)
{
	long long vet = fx_vet(SEDE, FX_DIA_COMPLETO), hoy = fx_dia(LIMA, 0, 0);
	long long now = (long long)time(NULL), t;
	struct http_resp r;
	const cJSON *h;

	/* Years ago: every slot has passed. */
	disponibilidad(vet, SEDE, fx_dia(LIMA, 1, -700), FX_LIMA, 30, NULL,
	    &r);
	ck_assert_int_eq(huecos(&r), 0);
	http_free(&r);
	/* Today: only slots still to come. */
	disponibilidad(vet, SEDE, hoy, FX_LIMA, 30, NULL, &r);
	ck_assert_int_le(huecos(&r), 48);
	cJSON_ArrayForEach(h, cJSON_GetObjectItem(r.json, "huecos")) {
		char *v = db_valuef("SELECT extract(epoch FROM '%s'::"
		    "timestamptz)::bigint", json_s(h, "inicio"));

		t = atoll(v);
		free(v);
		ck_assert_int_gt(t, now - 5);
		break;
	}
	http_free(&r);
	/* Tomorrow: the whole day. */
	disponibilidad(vet, SEDE, fx_dia(LIMA, 0, 1), FX_LIMA, 30, NULL, &r);
	ck_assert_int_eq(huecos(&r), 48);
	http_free(&r);
}
END_TEST

START_TEST(disponibilidad_parametros_invalidos)
{
	static const struct { const char *q, *campo; } malas[] = {
		{ "sede_id=1&fecha=2030-01-07&duracion_min=30",
		    "veterinario_id" },
		{ "veterinario_id=1&fecha=2030-01-07&duracion_min=30",
		    "sede_id" },
		{ "veterinario_id=1&sede_id=1&duracion_min=30", "fecha" },
		{ "veterinario_id=1&sede_id=1&fecha=2030-01-07",
		    "duracion_min" },
		{ "veterinario_id=1&sede_id=1&fecha=2026-13-01&duracion_min=30",
		    "fecha" },
		{ "veterinario_id=1&sede_id=1&fecha=2026-02-30&duracion_min=30",
		    "fecha" },
		{ "veterinario_id=1&sede_id=1&fecha=now&duracion_min=30",
		    "fecha" },
		{ "veterinario_id=1&sede_id=1&fecha=2030-01-07T00:00:00Z&"
		    "duracion_min=30", "fecha" },
		{ "veterinario_id=1&sede_id=1&fecha=07/01/2030&duracion_min=30",
		    "fecha" },
		{ "veterinario_id=1&sede_id=1&fecha=2030-01-07&duracion_min=4",
		    "duracion_min" },
		{ "veterinario_id=1&sede_id=1&fecha=2030-01-07&duracion_min=241",
		    "duracion_min" },
		{ "veterinario_id=1&sede_id=1&fecha=2030-01-07&duracion_min=abc",
		    "duracion_min" },
		{ "veterinario_id=1&sede_id=1&fecha=2030-01-07&duracion_min=1e3",
		    "duracion_min" },
		{ "veterinario_id=1&sede_id=1&fecha=2030-01-07&duracion_min=30"
		    "&paso_min=0", "paso_min" },
		{ "veterinario_id=abc&sede_id=1&fecha=2030-01-07&duracion_min=30",
		    "veterinario_id" },
		{ "veterinario_id=1&sede_id=-1&fecha=2030-01-07&duracion_min=30",
		    "sede_id" },
		{ "veterinario_id=1&sede_id=99999999999999999999&fecha="
		    "2030-01-07&duracion_min=30", "sede_id" },
		{ NULL, NULL }
	};
	struct http_resp r;
	char path[256];
	int i;

	for (i = 0; malas[i].q != NULL; i++) {
		snprintf(path, sizeof(path), "/api/v1/disponibilidad?%s",
		    malas[i].q);
		http_get(path, &r);
		ck_assert_msg(r.status == 400, "%s: %ld %s", malas[i].q,
		    r.status, r.body);
		assert_problem(&r, 400, "parametro-invalido");
		ck_assert_msg(fx_has_error(&r, malas[i].campo), "%s: %s",
		    malas[i].q, r.body);
		http_free(&r);
	}
	/* Well-formed ids that do not exist: 422 naming them. */
	http_get("/api/v1/disponibilidad?veterinario_id=9007199254740991&"
	    "sede_id=1&fecha=2030-01-07&duracion_min=30", &r);
	assert_problem(&r, 422, "validacion");
	ck_assert(fx_has_error(&r, "veterinario_id"));
	http_free(&r);
	http_get("/api/v1/disponibilidad?veterinario_id=1&sede_id="
	    "9007199254740991&fecha=2030-01-07&duracion_min=30", &r);
	assert_problem(&r, 422, "validacion");
	ck_assert(fx_has_error(&r, "sede_id"));
	http_free(&r);
	/* A vet at a site they do not work at: no slots. */
	http_get("/api/v1/disponibilidad?veterinario_id=1&sede_id=3&"
	    "fecha=2030-01-07&duracion_min=30", &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_int_eq(huecos(&r), 0);
	http_free(&r);
}
END_TEST

/*
 * Absences through the API: one takes the vet's slots away (in
 * disponibilidad and in booking), names the appointment it falls on,
 * leaves its audit row and event; overlapping, out-of-order, another
 * site's vet, a receptionist: refused; deleted, the slots come back.
 */
START_TEST(ausencias_por_la_api)
{
	long long sede = fx_sede("America/Lima"), otra = fx_sede("America/Lima");
	long long vet = fx_vet(sede, FX_DIA_COMPLETO), ajeno, dia, cita, id;
	long long pac = fx_paciente(), pac2 = fx_paciente();
	struct fx_counts before;
	struct http_resp r;
	struct fx_cita c;
	char path[128], del[160], body[256], a[FX_HORA_LEN], b[FX_HORA_LEN];
	char h10[FX_HORA_LEN], *tok;
	const cJSON *af;

	ajeno = fx_vet(otra, FX_DIA_COMPLETO);
	dia = fx_dia("America/Lima", 0, 3);
	fx_hora(dia + FX_HM(10, 0), FX_LIMA, h10);
	memset(&c, 0, sizeof(c));
	c.paciente = pac;
	c.veterinario = vet;
	c.sede = sede;
	c.inicio = h10;
	cita = fx_reservar_ok(&c);
	fx_hora(dia + FX_HM(9, 0), FX_LIMA, a);
	fx_hora(dia + FX_HM(13, 0), FX_LIMA, b);
	snprintf(path, sizeof(path), "/api/v1/veterinarios/%lld/ausencias", vet);
	snprintf(body, sizeof(body), "{\"inicio\":\"%s\",\"fin\":\"%s\","
	    "\"tipo\":\"capacitacion\",\"motivo\":\"Congreso\"}", a, b);
	tok = fx_token_de("admin_sede", sede, NULL);
	http_token(tok);
	fx_snapshot(&before);
	http_post_json(path, body, &r);
	ck_assert_msg(r.status == 201, "%ld %s", r.status, r.body);
	id = json_ll(r.json, "id");
	af = cJSON_GetObjectItem(r.json, "citas_afectadas");
	ck_assert_int_eq(cJSON_GetArraySize(af), 1);
	ck_assert_int_eq((long long)cJSON_GetArrayItem(af, 0)->valuedouble, cita);
	http_free(&r);
	fx_assert_delta(&before, 0, 0, 0, 1, 1);
	ck_assert_int_eq(db_countf("SELECT count(*) FROM outbox WHERE tipo = "
	    "'ausencia.registrada' AND agregado = 'veterinario' AND agregado_id "
	    "= '%lld' AND (payload->>'ausencia_id')::bigint = %lld", vet, id), 1);
	http_token(NULL);

	/* Its hours are no longer offered nor bookable; 13:00 is. */
	disponibilidad(vet, sede, dia, FX_LIMA, 30, NULL, &r);
	fx_hora(dia + FX_HM(11, 0), FX_LIMA, h10);
	ck_assert(!ofrece(&r, h10));
	ck_assert(ofrece(&r, b));
	http_free(&r);
	c.paciente = pac2;
	c.inicio = h10;
	fx_reservar(&c, NULL, &r);
	assert_problem(&r, 422, "veterinario-ausente");
	http_free(&r);
	http_get(path, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_int_eq(cJSON_GetArraySize(json_items(r.json)), 1);
	http_free(&r);

	/* Refused, nothing written. */
	http_token(tok);
	fx_snapshot(&before);
	http_post_json(path, body, &r);
	assert_problem(&r, 409, "conflicto");
	http_free(&r);
	snprintf(body, sizeof(body), "{\"inicio\":\"%s\",\"fin\":\"%s\"}", b,
	    a);
	http_post_json(path, body, &r);
	assert_problem(&r, 422, "validacion");
	ck_assert(fx_has_error(&r, "fin"));
	http_free(&r);
	http_post_json(path, "{\"inicio\":\"mañana\",\"fin\":3,\"tipo\":"
	    "\"fiesta\"}", &r);
	assert_problem(&r, 422, "validacion");
	ck_assert(fx_has_error(&r, "inicio"));
	ck_assert(fx_has_error(&r, "fin"));
	ck_assert(fx_has_error(&r, "tipo"));
	http_free(&r);
	snprintf(del, sizeof(del), "/api/v1/veterinarios/%lld/ausencias", ajeno);
	snprintf(body, sizeof(body), "{\"inicio\":\"%s\",\"fin\":\"%s\"}", a,
	    b);
	http_post_json(del, body, &r);
	assert_problem(&r, 403, "prohibido");
	http_free(&r);
	http_post_json("/api/v1/veterinarios/999999999999/ausencias", body, &r);
	assert_problem(&r, 404, "no-encontrado");
	http_free(&r);
	http_get("/api/v1/veterinarios/1/ausencias?desde=ayer", &r);
	assert_problem(&r, 400, "parametro-invalido");
	http_free(&r);
	fx_assert_unchanged(&before);
	free(tok);
	tok = fx_token_de("recepcion", sede, NULL);
	http_token(tok);
	snprintf(del, sizeof(del), "%s/%lld", path, id);
	http_req("DELETE", del, NULL, NULL, 0, NULL, &r);
	assert_problem(&r, 403, "prohibido");
	http_free(&r);
	http_token(NULL);

	/* Deleted: the slots come back, with its event. */
	http_req("DELETE", del, NULL, NULL, 0, NULL, &r);
	ck_assert_int_eq(r.status, 204);
	http_free(&r);
	http_req("DELETE", del, NULL, NULL, 0, NULL, &r);
	assert_problem(&r, 404, "no-encontrado");
	http_free(&r);
	ck_assert_int_eq(db_countf("SELECT count(*) FROM outbox WHERE tipo = "
	    "'ausencia.eliminada' AND agregado_id = '%lld'", vet), 1);
	disponibilidad(vet, sede, dia, FX_LIMA, 30, NULL, &r);
	ck_assert(ofrece(&r, h10));
	http_free(&r);
	free(tok);
}
END_TEST

Suite *
agenda_suite(void)
{
	Suite *s = suite_create("agenda");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, sedes_de_la_demo);
	tcase_add_test(tc, veterinarios_por_sede);
	tcase_add_test(tc, disponibilidad_resta_citas_y_ausencias);
	tcase_add_test(tc, disponibilidad_en_la_zona_de_la_sede);
	tcase_add_test(tc, disponibilidad_solo_de_lo_reservable);
	tcase_add_test(tc, disponibilidad_sin_pasado);
	tcase_add_test(tc, disponibilidad_parametros_invalidos);
	tcase_add_test(tc, ausencias_por_la_api);
	suite_add_tcase(s, tc);
	return s;
}
