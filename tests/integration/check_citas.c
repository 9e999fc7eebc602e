/*
 * check_citas.c - appointments end to end, through nginx to both API
 * processes and PostgreSQL: booking, reading, rescheduling, the state
 * machine, optimistic concurrency, cancelling, listing; every booking
 * rule; the Idempotency-Key; and bad input of every kind, refused with
 * the right 4xx and nothing written.
 *
 * Every test makes its own vets and patients (fixtures.c) and books days
 * ahead of now, so the tests are independent and can run again and again
 * against the same database.  Site 1 is the demo's LIM-01 (America/Lima,
 * UTC-5 all year).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "itest.h"

#define SEDE		1LL
#define LIMA		"America/Lima"

/* Local midnight of the next Monday at least 7 days ahead, in Lima. */
static long long
lunes(void)
{
	return fx_dia(LIMA, 1, 7);
}

static void
get_cita(long long id, struct http_resp *r)
{
	char path[64];

	snprintf(path, sizeof(path), "/api/v1/citas/%lld", id);
	http_get(path, r);
}

static void
delete_cita(long long id, const char *query, struct http_resp *r)
{
	char path[640];

	snprintf(path, sizeof(path), "/api/v1/citas/%lld%s", id,
	    query ? query : "");
	http_req("DELETE", path, NULL, NULL, 0, NULL, r);
}

/* Outbox events of appointment id with that type. */
static long long
eventos(long long id, const char *tipo)
{
	return db_countf("SELECT count(*) FROM outbox WHERE agregado = 'cita' "
	    "AND agregado_id = '%lld' AND tipo = '%s'", id, tipo);
}

static long long
auditorias(long long id, const char *accion)
{
	return db_countf("SELECT count(*) FROM auditoria WHERE entidad = "
	    "'citas' AND entidad_id = '%lld' AND accion = '%s' AND "
	    "request_id IS NOT NULL", id, accion);
}

static void
assert_estado(long long id, const char *estado, long long version)
{
	struct http_resp r;

	get_cita(id, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(json_s(r.json, "estado"), estado);
	ck_assert_int_eq(json_ll(r.json, "version"), version);
	http_free(&r);
}

/* ---- core -------------------------------------------------------------- */

START_TEST(reservar_201_location_y_detalle)
{
	long long vet = fx_vet(SEDE, FX_OFICINA), pac = fx_paciente();
	long long room = fx_consultorio(SEDE), d = lunes(), id, id2;
	char ini[FX_HORA_LEN], fin[FX_HORA_LEN], loc[64], want[64], etag[16];
	char *vname, *rname;
	struct fx_cita c = { .paciente = pac, .veterinario = vet,
	    .sede = SEDE, .consultorio = room, .inicio = ini, .duracion = 30,
	    .motivo = "Vacuna antirrábica" };
	struct fx_counts before;
	struct http_resp r, g;

	fx_hora(d + FX_HM(9, 0), FX_LIMA, ini);
	fx_hora(d + FX_HM(9, 30), FX_LIMA, fin);
	fx_snapshot(&before);
	fx_reservar(&c, NULL, &r);
	ck_assert_msg(r.status == 201, "%ld %s", r.status, r.body);
	id = json_ll(r.json, "id");
	snprintf(want, sizeof(want), "/api/v1/citas/%lld", id);
	ck_assert_ptr_nonnull(http_header(&r, "Location", loc, sizeof(loc)));
	ck_assert_str_eq(loc, want);
	ck_assert_ptr_nonnull(http_header(&r, "ETag", etag, sizeof(etag)));
	ck_assert_str_eq(etag, "\"1\"");
	ck_assert_ptr_null(http_header(&r, "Idempotent-Replayed", etag,
	    sizeof(etag)));
	ck_assert_str_eq(json_s(r.json, "estado"), "reservada");
	ck_assert_str_eq(json_s(r.json, "inicio"), ini);
	ck_assert_str_eq(json_s(r.json, "fin"), fin);
	ck_assert_int_eq(json_ll(r.json, "duracion_min"), 30);
	ck_assert_str_eq(json_s(r.json, "tipo"), "presencial");
	http_free(&r);

	/* The row, its audit row and its outbox event, nothing else. */
	fx_assert_delta(&before, 1, 0, 0, 1, 1);
	ck_assert_int_eq(auditorias(id, "crear"), 1);
	ck_assert_int_eq(eventos(id, "cita.reservada"), 1);
	ck_assert_int_eq(db_countf("SELECT count(*) FROM outbox WHERE "
	    "agregado_id = '%lld' AND payload->>'estado' = 'reservada' AND "
	    "(payload->>'paciente_id')::bigint = %lld", id, pac), 1);

	/* Read back with the names of patient, vet, site and room. */
	get_cita(id, &g);
	ck_assert_int_eq(g.status, 200);
	ck_assert_ptr_nonnull(http_header(&g, "ETag", etag, sizeof(etag)));
	ck_assert_str_eq(etag, "\"1\"");
	ck_assert_int_eq(json_ll(g.json, "paciente_id"), pac);
	ck_assert_str_eq(json_s(g.json, "paciente"), "Paciente 1");
	ck_assert_str_eq(json_s(g.json, "especie"), "canino");
	vname = db_valuef("SELECT nombres || ' ' || apellidos FROM "
	    "veterinarios WHERE id = %lld", vet);
	ck_assert_str_eq(json_s(g.json, "veterinario"), vname);
	ck_assert_str_eq(json_s(g.json, "sede"), "VetRed Miraflores");
	ck_assert_str_eq(json_s(g.json, "zona_horaria"), LIMA);
	rname = db_valuef("SELECT nombre FROM consultorios WHERE id = %lld",
	    room);
	ck_assert_str_eq(json_s(g.json, "consultorio"), rname);
	ck_assert_str_eq(json_s(g.json, "motivo"), "Vacuna antirrábica");
	ck_assert_str_eq(json_s(g.json, "inicio"), ini);
	http_free(&g);
	free(vname);
	free(rname);

	/* "fin" instead of duracion_min; UTC in, the site's zone out. */
	fx_hora(d + FX_HM(10, 0), 0, ini);
	fx_hora(d + FX_HM(10, 45), 0, fin);
	c.fin = fin;
	c.consultorio = 0;
	id2 = fx_reservar_ok(&c);
	get_cita(id2, &g);
	ck_assert_int_eq(json_ll(g.json, "duracion_min"), 45);
	fx_hora(d + FX_HM(10, 0), FX_LIMA, ini);
	ck_assert_str_eq(json_s(g.json, "inicio"), ini);
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(g.json, "consultorio_id")));
	http_free(&g);
}
END_TEST

START_TEST(reprogramar_con_las_mismas_reglas)
{
	long long vet = fx_vet(SEDE, FX_OFICINA), otro = fx_vet(SEDE,
	    FX_OFICINA), lejos = fx_vet(2, FX_OFICINA), d = lunes(), a, b;
	long long p[2];
	char ia[FX_HORA_LEN], ib[FX_HORA_LEN], t[FX_HORA_LEN], body[256];
	char etag[16];
	struct fx_counts before;
	struct http_resp r;
	const cJSON *k;

	fx_pacientes(2, p);
	fx_hora(d + FX_HM(9, 0), FX_LIMA, ia);
	fx_hora(d + FX_HM(10, 0), FX_LIMA, ib);
	a = fx_reservar_ok(&(struct fx_cita){ .paciente = p[0],
	    .veterinario = vet, .sede = SEDE, .inicio = ia, .duracion = 30 });
	b = fx_reservar_ok(&(struct fx_cita){ .paciente = p[1],
	    .veterinario = vet, .sede = SEDE, .inicio = ib, .duracion = 60 });

	/* Moved: the duration is kept, one audit row, one event. */
	fx_snapshot(&before);
	fx_hora(d + FX_HM(11, 0), FX_LIMA, t);
	snprintf(body, sizeof(body), "{\"inicio\":\"%s\"}", t);
	fx_put_cita(a, body, NULL, &r);
	ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
	ck_assert_str_eq(json_s(r.json, "inicio"), t);
	fx_hora(d + FX_HM(11, 30), FX_LIMA, t);
	ck_assert_str_eq(json_s(r.json, "fin"), t);
	ck_assert_int_eq(json_ll(r.json, "version"), 2);
	ck_assert_ptr_nonnull(http_header(&r, "ETag", etag, sizeof(etag)));
	ck_assert_str_eq(etag, "\"2\"");
	http_free(&r);
	fx_assert_delta(&before, 0, 0, 0, 1, 1);
	ck_assert_int_eq(eventos(a, "cita.reprogramada"), 1);
	ck_assert_int_eq(db_countf("SELECT count(*) FROM auditoria WHERE "
	    "entidad = 'citas' AND entidad_id = '%lld' AND accion = "
	    "'actualizar' AND antes->>'inicio' = '%s' AND despues->>'inicio' "
	    "<> antes->>'inicio'", a, ia), 1);
	/* Only what changed: not the patient, the site or the reason. */
	ck_assert_int_eq(db_countf("SELECT count(*) FROM auditoria WHERE "
	    "entidad = 'citas' AND entidad_id = '%lld' AND accion = "
	    "'actualizar' AND NOT (antes ? 'paciente') AND NOT (despues ? "
	    "'sede_id') AND NOT (despues ? 'motivo') AND antes ? 'version' AND "
	    "despues ? 'fin'", a), 1);

	/* Longer. */
	fx_put_cita(a, "{\"duracion_min\":60}", NULL, &r);
	ck_assert_int_eq(r.status, 200);
	fx_hora(d + FX_HM(12, 0), FX_LIMA, t);
	ck_assert_str_eq(json_s(r.json, "fin"), t);
	http_free(&r);

	/* Onto b: 409 naming b; nothing written, a unchanged. */
	fx_snapshot(&before);
	fx_hora(d + FX_HM(10, 15), FX_LIMA, t);
	snprintf(body, sizeof(body), "{\"inicio\":\"%s\"}", t);
	fx_put_cita(a, body, NULL, &r);
	assert_problem(&r, 409, "conflicto");
	k = cJSON_GetObjectItem(r.json, "conflicto");
	ck_assert_int_eq(json_ll(k, "cita_id"), b);
	ck_assert_str_eq(json_s(k, "recurso"), "veterinario");
	ck_assert_str_eq(json_s(k, "inicio"), ib);
	http_free(&r);
	/* Outside the vet's hours, in the past, to a vet of another site. */
	fx_hora(d + FX_HM(7, 0), FX_LIMA, t);
	snprintf(body, sizeof(body), "{\"inicio\":\"%s\"}", t);
	fx_put_cita(a, body, NULL, &r);
	assert_problem(&r, 422, "fuera-de-horario");
	http_free(&r);
	fx_hora(time(NULL) - 3600, FX_LIMA, t);
	snprintf(body, sizeof(body), "{\"inicio\":\"%s\"}", t);
	fx_put_cita(a, body, NULL, &r);
	assert_problem(&r, 422, "validacion");
	ck_assert(fx_has_error(&r, "inicio"));
	http_free(&r);
	snprintf(body, sizeof(body), "{\"veterinario_id\":%lld}", lejos);
	fx_put_cita(a, body, NULL, &r);
	assert_problem(&r, 422, "validacion");
	ck_assert(fx_has_error(&r, "veterinario_id"));
	http_free(&r);
	/* A cancellation reason without a cancellation. */
	fx_put_cita(a, "{\"motivo_cancelacion\":\"Viaje\"}", NULL, &r);
	assert_problem(&r, 422, "validacion");
	ck_assert(fx_has_error(&r, "motivo_cancelacion"));
	http_free(&r);
	/* Moving and closing at once. */
	fx_hora(d + FX_HM(15, 0), FX_LIMA, t);
	snprintf(body, sizeof(body), "{\"inicio\":\"%s\",\"estado\":"
	    "\"cancelada\"}", t);
	fx_put_cita(a, body, NULL, &r);
	assert_problem(&r, 422, "validacion");
	ck_assert(fx_has_error(&r, "estado"));
	http_free(&r);
	fx_assert_unchanged(&before);
	get_cita(a, &r);
	fx_hora(d + FX_HM(11, 0), FX_LIMA, t);
	ck_assert_str_eq(json_s(r.json, "inicio"), t);
	ck_assert_int_eq(json_ll(r.json, "version"), 3);
	http_free(&r);

	/* To another vet of the site, and moved and confirmed together. */
	fx_hora(d + FX_HM(16, 0), FX_LIMA, t);
	snprintf(body, sizeof(body), "{\"veterinario_id\":%lld,\"inicio\":"
	    "\"%s\",\"estado\":\"confirmada\"}", otro, t);
	fx_put_cita(a, body, NULL, &r);
	ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
	ck_assert_int_eq(json_ll(r.json, "veterinario_id"), otro);
	ck_assert_str_eq(json_s(r.json, "estado"), "confirmada");
	http_free(&r);
	ck_assert_int_eq(eventos(a, "cita.reprogramada"), 3);
	/* The old slot of b's vet is free again: b can grow into it. */
	fx_put_cita(b, "{\"duracion_min\":120}", NULL, &r);
	ck_assert_int_eq(r.status, 200);
	http_free(&r);
}
END_TEST

/* Book, then PUT each state of path in turn (all must be accepted). */
static long long
cita_en_estado(long long pac, long long vet, long long inicio,
    const char *const *path)
{
	char ini[FX_HORA_LEN], body[64];
	struct http_resp r;
	long long id;
	int i;

	fx_hora(inicio, FX_LIMA, ini);
	id = fx_reservar_ok(&(struct fx_cita){ .paciente = pac,
	    .veterinario = vet, .sede = SEDE, .inicio = ini, .duracion = 30 });
	for (i = 0; path[i] != NULL; i++) {
		snprintf(body, sizeof(body), "{\"estado\":\"%s\"}", path[i]);
		fx_put_cita(id, body, NULL, &r);
		ck_assert_msg(r.status == 200, "%s: %ld %s", path[i], r.status,
		    r.body);
		ck_assert_str_eq(json_s(r.json, "estado"), path[i]);
		ck_assert_int_eq(json_ll(r.json, "version"), i + 2);
		http_free(&r);
	}
	return id;
}

START_TEST(transiciones_validas_con_sus_eventos)
{
	static const char *const hasta_atendida[] = { "confirmada",
	    "en_atencion", "atendida", NULL };
	static const char *const ninguno[] = { NULL };
	long long vet = fx_vet(SEDE, FX_OFICINA), d = lunes(), a, b, c;
	long long p[3];
	char t[FX_HORA_LEN], body[256];
	struct fx_counts before;
	struct http_resp r;

	fx_pacientes(3, p);
	fx_snapshot(&before);
	a = cita_en_estado(p[0], vet, d + FX_HM(9, 0), hasta_atendida);
	fx_assert_delta(&before, 1, 0, 0, 4, 4);
	ck_assert_int_eq(eventos(a, "cita.confirmada"), 1);
	ck_assert_int_eq(eventos(a, "cita.en_atencion"), 1);
	ck_assert_int_eq(eventos(a, "cita.atendida"), 1);
	ck_assert_int_eq(auditorias(a, "actualizar"), 3);

	/* Attended: it can no longer be moved nor cancelled. */
	fx_snapshot(&before);
	fx_hora(d + FX_HM(11, 0), FX_LIMA, t);
	snprintf(body, sizeof(body), "{\"inicio\":\"%s\"}", t);
	fx_put_cita(a, body, NULL, &r);
	assert_problem(&r, 409, "cita-cerrada");
	http_free(&r);
	delete_cita(a, NULL, &r);
	assert_problem(&r, 409, "transicion-invalida");
	http_free(&r);
	fx_assert_unchanged(&before);
	/* Its slot is still held. */
	fx_hora(d + FX_HM(9, 0), FX_LIMA, t);
	fx_reservar(&(struct fx_cita){ .paciente = p[1], .veterinario = vet,
	    .sede = SEDE, .inicio = t, .duracion = 30 }, NULL, &r);
	assert_problem(&r, 409, "conflicto");
	http_free(&r);

	/* A no-show frees its slot. */
	b = cita_en_estado(p[1], vet, d + FX_HM(10, 0), ninguno);
	fx_put_cita(b, "{\"estado\":\"no_asistio\"}", NULL, &r);
	ck_assert_int_eq(r.status, 200);
	http_free(&r);
	ck_assert_int_eq(eventos(b, "cita.no_asistio"), 1);
	fx_hora(d + FX_HM(10, 0), FX_LIMA, t);
	fx_reservar_ok(&(struct fx_cita){ .paciente = p[2],
	    .veterinario = vet, .sede = SEDE, .inicio = t, .duracion = 30 });

	/* Confirmed, then cancelled by PUT with a reason. */
	c = cita_en_estado(p[0], vet, d + FX_HM(14, 0), ninguno);
	fx_put_cita(c, "{\"estado\":\"confirmada\"}", NULL, &r);
	ck_assert_int_eq(r.status, 200);
	http_free(&r);
	fx_put_cita(c, "{\"estado\":\"cancelada\",\"motivo_cancelacion\":"
	    "\"El dueño viaja\"}", NULL, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(json_s(r.json, "estado"), "cancelada");
	ck_assert_str_eq(json_s(r.json, "motivo_cancelacion"),
	    "El dueño viaja");
	ck_assert(cJSON_IsString(cJSON_GetObjectItem(r.json, "cancelado_en")));
	http_free(&r);
	ck_assert_int_eq(eventos(c, "cita.cancelada"), 1);
}
END_TEST

struct estado_inicial {
	const char	*estado;
	const char	*path[4];
	const char	*invalidos[6];
	int		 cerrada;	/* can no longer be moved */
};

static const struct estado_inicial estados[] = {
	{ "reservada", { NULL }, { "en_atencion", "atendida", NULL }, 0 },
	{ "confirmada", { "confirmada", NULL },
	    { "reservada", "atendida", NULL }, 0 },
	{ "en_atencion", { "confirmada", "en_atencion", NULL },
	    { "reservada", "confirmada", "cancelada", "no_asistio", NULL }, 1 },
	{ "atendida", { "confirmada", "en_atencion", "atendida", NULL },
	    { "reservada", "confirmada", "en_atencion", "cancelada",
	    "no_asistio", NULL }, 1 },
	{ "cancelada", { "cancelada", NULL },
	    { "reservada", "confirmada", "en_atencion", "atendida",
	    "no_asistio", NULL }, 1 },
	{ "no_asistio", { "no_asistio", NULL },
	    { "reservada", "confirmada", "en_atencion", "atendida",
	    "cancelada", NULL }, 1 },
};

START_TEST(toda_transicion_invalida_es_409)
{
	long long vet = fx_vet(SEDE, FX_DIA_COMPLETO), pac = fx_paciente();
	long long d = lunes(), id, version;
	const struct estado_inicial *e;
	char body[128], t[FX_HORA_LEN];
	struct fx_counts before;
	struct http_resp r;
	size_t i;
	int j;

	for (i = 0; i < sizeof(estados) / sizeof(estados[0]); i++) {
		e = &estados[i];
		id = cita_en_estado(pac, vet, d + FX_HM(8 + 2 * (long long)i, 0),
		    e->path);
		for (version = 1; e->path[version - 1] != NULL; version++)
			;
		fx_snapshot(&before);
		for (j = 0; e->invalidos[j] != NULL; j++) {
			snprintf(body, sizeof(body), "{\"estado\":\"%s\"}",
			    e->invalidos[j]);
			fx_put_cita(id, body, NULL, &r);
			ck_assert_msg(r.status == 409, "%s -> %s: %ld %s",
			    e->estado, e->invalidos[j], r.status, r.body);
			assert_problem(&r, 409, "transicion-invalida");
			ck_assert(fx_has_error(&r, "estado"));
			http_free(&r);
		}
		/* Moving: only a booked or confirmed appointment moves. */
		fx_hora(d + FX_HM(8 + 2 * (long long)i, 30), FX_LIMA, t);
		snprintf(body, sizeof(body), "{\"inicio\":\"%s\"}", t);
		fx_put_cita(id, body, NULL, &r);
		if (e->cerrada)
			assert_problem(&r, 409, "cita-cerrada");
		else {
			ck_assert_int_eq(r.status, 200);
			version++;
		}
		http_free(&r);
		fx_assert_delta(&before, 0, 0, 0, !e->cerrada, !e->cerrada);
		assert_estado(id, e->estado, version);
	}
}
END_TEST

START_TEST(version_distinta_es_412)
{
	long long vet = fx_vet(SEDE, FX_OFICINA), pac = fx_paciente(), id;
	static const char *const v1[] = { "If-Match: \"1\"", NULL };
	static const char *const v2[] = { "If-Match: 2", NULL };
	static const char *const malas[] = { "If-Match: W/\"2\"",
	    "If-Match: \"x\"", "If-Match: \"-1\"", "If-Match: \"\"",
	    "If-Match: 99999999999", NULL };
	const char *one[2] = { NULL, NULL };
	char t[FX_HORA_LEN], etag[16];
	struct fx_counts before;
	struct http_resp r;
	int i;

	fx_hora(lunes() + FX_HM(9, 0), FX_LIMA, t);
	id = fx_reservar_ok(&(struct fx_cita){ .paciente = pac,
	    .veterinario = vet, .sede = SEDE, .inicio = t });
	fx_put_cita(id, "{\"motivo\":\"Primera\"}", v1, &r);
	ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
	ck_assert_ptr_nonnull(http_header(&r, "ETag", etag, sizeof(etag)));
	ck_assert_str_eq(etag, "\"2\"");
	http_free(&r);

	/* A second writer with the old version loses, and writes nothing. */
	fx_snapshot(&before);
	fx_put_cita(id, "{\"motivo\":\"Segunda\"}", v1, &r);
	assert_problem(&r, 412, "version-distinta");
	http_free(&r);
	fx_put_cita(id, "{\"motivo\":\"Segunda\",\"version\":1}", NULL, &r);
	assert_problem(&r, 412, "version-distinta");
	http_free(&r);
	/* The version in the body wins over If-Match. */
	fx_put_cita(id, "{\"motivo\":\"Segunda\",\"version\":1}", v2, &r);
	assert_problem(&r, 412, "version-distinta");
	http_free(&r);
	for (i = 0; malas[i] != NULL; i++) {
		one[0] = malas[i];
		fx_put_cita(id, "{\"motivo\":\"Segunda\"}", one, &r);
		assert_problem(&r, 422, "validacion");
		ck_assert(fx_has_error(&r, "If-Match"));
		http_free(&r);
		/* Malformed even when the body names the version. */
		fx_put_cita(id, "{\"motivo\":\"Segunda\",\"version\":2}", one,
		    &r);
		assert_problem(&r, 422, "validacion");
		ck_assert(fx_has_error(&r, "If-Match"));
		http_free(&r);
	}
	fx_assert_unchanged(&before);
	get_cita(id, &r);
	ck_assert_str_eq(json_s(r.json, "motivo"), "Primera");
	http_free(&r);

	/* The current version, unquoted, or in the body: accepted. */
	fx_put_cita(id, "{\"motivo\":\"Segunda\"}", v2, &r);
	ck_assert_int_eq(r.status, 200);
	http_free(&r);
	fx_put_cita(id, "{\"motivo\":\"Tercera\",\"version\":3}", NULL, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_int_eq(json_ll(r.json, "version"), 4);
	http_free(&r);
}
END_TEST

START_TEST(delete_cancela_y_libera_el_hueco)
{
	long long vet = fx_vet(SEDE, FX_OFICINA), p[2], a, b;
	char t[FX_HORA_LEN];
	struct fx_counts before;
	struct http_resp r;
	struct fx_cita c;

	fx_pacientes(2, p);
	fx_hora(lunes() + FX_HM(9, 0), FX_LIMA, t);
	c = (struct fx_cita){ .paciente = p[0], .veterinario = vet,
	    .sede = SEDE, .inicio = t, .duracion = 30 };
	a = fx_reservar_ok(&c);

	fx_snapshot(&before);
	delete_cita(a, "?motivo=Viaje+del+due%C3%B1o", &r);
	ck_assert_msg(r.status == 204, "%ld %s", r.status, r.body);
	ck_assert_int_eq(r.len, 0);
	http_free(&r);
	fx_assert_delta(&before, 0, 0, 0, 1, 1);
	ck_assert_int_eq(eventos(a, "cita.cancelada"), 1);
	ck_assert_int_eq(auditorias(a, "cancelar"), 1);
	/* The row stays, cancelled. */
	get_cita(a, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(json_s(r.json, "estado"), "cancelada");
	ck_assert_str_eq(json_s(r.json, "motivo_cancelacion"),
	    "Viaje del dueño");
	ck_assert(cJSON_IsString(cJSON_GetObjectItem(r.json, "cancelado_en")));
	http_free(&r);

	/* The slot is free again: another patient takes it. */
	c.paciente = p[1];
	b = fx_reservar_ok(&c);
	ck_assert_int_ne(a, b);

	/* Cancelling twice: 204 again, nothing written. */
	fx_snapshot(&before);
	delete_cita(a, NULL, &r);
	ck_assert_int_eq(r.status, 204);
	http_free(&r);
	fx_assert_unchanged(&before);

	/* Absent, bad ids, bad reasons. */
	delete_cita(9007199254740991LL, NULL, &r);
	assert_problem(&r, 404, "no-encontrado");
	http_free(&r);
	http_req("DELETE", "/api/v1/citas/abc", NULL, NULL, 0, NULL, &r);
	assert_problem(&r, 400, "id-invalido");
	http_free(&r);
	delete_cita(b, "?motivo=%20%20", &r);
	assert_problem(&r, 400, "parametro-invalido");
	http_free(&r);
	delete_cita(b, "?motivo=%C3%28", &r);
	assert_problem(&r, 400, "parametro-invalido");
	http_free(&r);
	fx_assert_unchanged(&before);
	assert_estado(b, "reservada", 1);
}
END_TEST

/* Every id of a paginated GET /api/v1/citas, walking siguiente_cursor. */
static int
listar_todo(const char *query, int limite, long long *ids, int max)
{
	char path[512], cursor[96] = "";
	const cJSON *e, *sig;
	struct http_resp r;
	int n = 0, pages = 0;

	for (;;) {
		snprintf(path, sizeof(path), "/api/v1/citas?%s&limite=%d%s%s",
		    query, limite, *cursor ? "&cursor=" : "", cursor);
		http_get(path, &r);
		ck_assert_msg(r.status == 200, "%s: %ld %s", path, r.status,
		    r.body);
		ck_assert_int_le(cJSON_GetArraySize(json_items(r.json)), limite);
		cJSON_ArrayForEach(e, json_items(r.json)) {
			ck_assert_int_lt(n, max);
			ck_assert(cJSON_IsString(cJSON_GetObjectItem(e,
			    "paciente")));
			ck_assert(cJSON_IsString(cJSON_GetObjectItem(e,
			    "veterinario")));
			ids[n++] = json_ll(e, "id");
		}
		sig = cJSON_GetObjectItem(r.json, "siguiente_cursor");
		pages++;
		if (!cJSON_IsString(sig)) {
			ck_assert(cJSON_IsNull(sig));
			http_free(&r);
			break;
		}
		snprintf(cursor, sizeof(cursor), "%s", sig->valuestring);
		http_free(&r);
		ck_assert_int_lt(pages, 100);
	}
	return n;
}

START_TEST(listar_filtrar_y_paginar)
{
	/* Booked out of order; the agenda lists them by start. */
	static const int orden[7] = { 3, 0, 6, 1, 5, 2, 4 };
	long long vet = fx_vet(SEDE, FX_DIA_COMPLETO), d = lunes() + FX_HM(8, 0);
	long long p[7], id[7], got[16];
	char t[FX_HORA_LEN], t2[FX_HORA_LEN], q[256], hq[512];
	struct http_resp r;
	int i, n;

	fx_pacientes(7, p);
	for (i = 0; i < 7; i++) {
		fx_hora(d + FX_HM(orden[i], 0), FX_LIMA, t);
		id[orden[i]] = fx_reservar_ok(&(struct fx_cita){
		    .paciente = p[i], .veterinario = vet, .sede = SEDE,
		    .inicio = t, .duracion = 30 });
	}
	delete_cita(id[1], NULL, &r);
	http_free(&r);
	delete_cita(id[4], NULL, &r);
	http_free(&r);

	snprintf(q, sizeof(q), "veterinario_id=%lld", vet);
	n = listar_todo(q, 3, got, 16);
	ck_assert_int_eq(n, 7);
	for (i = 0; i < 7; i++)
		ck_assert_int_eq(got[i], id[i]);
	n = listar_todo(q, 1, got, 16);
	ck_assert_int_eq(n, 7);
	for (i = 0; i < 7; i++)
		ck_assert_int_eq(got[i], id[i]);

	snprintf(q, sizeof(q), "sede_id=1&veterinario_id=%lld&estado="
	    "cancelada", vet);
	n = listar_todo(q, 50, got, 16);
	ck_assert_int_eq(n, 2);
	ck_assert_int_eq(got[0], id[1]);
	ck_assert_int_eq(got[1], id[4]);
	snprintf(q, sizeof(q), "veterinario_id=%lld&estado=reservada", vet);
	ck_assert_int_eq(listar_todo(q, 2, got, 16), 5);

	/* [desde, hasta) keeps what overlaps it: 10:00 and 11:00.  In UTC,
	 * "…Z": a "+" would read as a space in a query string. */
	fx_hora(d + FX_HM(2, 0), 0, t);
	fx_hora(d + FX_HM(4, 0), 0, t2);
	strcpy(t + 19, "Z");
	strcpy(t2 + 19, "Z");
	snprintf(q, sizeof(q), "veterinario_id=%lld&desde=%s&hasta=%s", vet, t,
	    t2);
	n = listar_todo(q, 50, got, 16);
	ck_assert_int_eq(n, 2);
	ck_assert_int_eq(got[0], id[2]);
	ck_assert_int_eq(got[1], id[3]);
	snprintf(q, sizeof(q), "veterinario_id=%lld&paciente_id=%lld", vet,
	    p[0]);
	n = listar_todo(q, 50, got, 16);
	ck_assert_int_eq(n, 1);
	ck_assert_int_eq(got[0], id[3]);
	snprintf(hq, sizeof(hq), "/api/v1/citas?veterinario_id=%lld&sede_id=2",
	    vet);
	http_get(hq, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_int_eq(cJSON_GetArraySize(json_items(r.json)), 0);
	http_free(&r);
}
END_TEST

START_TEST(listar_consultas_hostiles_son_400)
{
	static const struct { const char *q, *campo; } malas[] = {
		{ "limite=0", "limite" }, { "limite=abc", "limite" },
		{ "limite=-1", "limite" }, { "limite=201", "limite" },
		{ "limite=1e2", "limite" }, { "limite=", "limite" },
		{ "limite=99999999999999999999", "limite" },
		{ "cursor=garbage", "cursor" }, { "cursor=1_2_3", "cursor" },
		{ "cursor=_1", "cursor" }, { "cursor=1_", "cursor" },
		{ "cursor=99999999999999999999_1", "cursor" },
		{ "cursor=9223372036854775807_1", "cursor" },
		{ "cursor=1_99999999999999999999", "cursor" },
		{ "cursor=1%00_1", "cursor" },
		{ "estado=foo", "estado" }, { "estado=RESERVADA", "estado" },
		{ "estado=reservada%27%20OR%201=1", "estado" },
		{ "desde=now", "desde" }, { "desde=epoch", "desde" },
		{ "desde=2026-13-01T00:00:00Z", "desde" },
		{ "desde=2026-12-01", "desde" },
		{ "hasta=2026-12-01T10:00:00%2B16:00", "hasta" },
		{ "hasta=2026-12-01T10:00:00%2B25:00", "hasta" },
		{ "sede_id=abc", "sede_id" }, { "sede_id=0", "sede_id" },
		{ "veterinario_id=-1", "veterinario_id" },
		{ "paciente_id=1.5", "paciente_id" },
		{ "sede_id=%C3%28", "sede_id" },
		{ NULL, NULL }
	};
	struct http_resp r;
	char path[256];
	int i;

	for (i = 0; malas[i].q != NULL; i++) {
		snprintf(path, sizeof(path), "/api/v1/citas?%s", malas[i].q);
		http_get(path, &r);
		ck_assert_msg(r.status == 400, "%s: %ld %s", malas[i].q,
		    r.status, r.body);
		assert_problem(&r, 400, "parametro-invalido");
		ck_assert_msg(fx_has_error(&r, malas[i].campo), "%s: %s",
		    malas[i].q, r.body);
		http_free(&r);
	}
	/* Unknown parameters are ignored. */
	http_get("/api/v1/citas?limite=1&orden=desc;DROP", &r);
	ck_assert_int_eq(r.status, 200);
	http_free(&r);
}
END_TEST

/*
 * GET reads the document stored with the row (citas.documento): renaming
 * the patient, vet, room or site, or moving the site to another time zone,
 * shows at once, without a new version or actualizado_en; a document
 * written by hand is recomputed.
 */
START_TEST(documento_sigue_a_nombres_y_zona)
{
	long long sede = fx_sede(LIMA), vet = fx_vet(sede, FX_OFICINA),
	    room = fx_consultorio(sede), pac = fx_paciente(), id;
	long long d = fx_dia(LIMA, 1, 7);
	char ini[FX_HORA_LEN], etag[16];
	char *antes, *despues;
	struct http_resp g;

	fx_hora(d + FX_HM(9, 0), FX_LIMA, ini);
	id = fx_reservar_ok(&(struct fx_cita){ .paciente = pac,
	    .veterinario = vet, .sede = sede, .consultorio = room,
	    .inicio = ini, .duracion = 30 });
	antes = db_valuef("SELECT actualizado_en::text FROM citas WHERE "
	    "id = %lld", id);

	db_execf("UPDATE pacientes SET nombre = 'Renombrada', especie = "
	    "'felino' WHERE id = %lld", pac);
	db_execf("UPDATE veterinarios SET nombres = 'Ana', apellidos = "
	    "'Quispe Mamani' WHERE id = %lld", vet);
	db_execf("UPDATE consultorios SET nombre = 'Sala Azul' WHERE id = "
	    "%lld", room);
	db_execf("UPDATE sedes SET nombre = 'VetRed Renombrada', "
	    "zona_horaria = 'Asia/Tokyo' WHERE id = %lld", sede);
	get_cita(id, &g);
	ck_assert_int_eq(g.status, 200);
	ck_assert_str_eq(json_s(g.json, "paciente"), "Renombrada");
	ck_assert_str_eq(json_s(g.json, "especie"), "felino");
	ck_assert_str_eq(json_s(g.json, "veterinario"), "Ana Quispe Mamani");
	ck_assert_str_eq(json_s(g.json, "consultorio"), "Sala Azul");
	ck_assert_str_eq(json_s(g.json, "sede"), "VetRed Renombrada");
	ck_assert_str_eq(json_s(g.json, "zona_horaria"), "Asia/Tokyo");
	fx_hora(d + FX_HM(9, 0), FX_TOKIO, ini);
	ck_assert_str_eq(json_s(g.json, "inicio"), ini);
	ck_assert_int_eq(json_ll(g.json, "version"), 1);
	ck_assert_ptr_nonnull(http_header(&g, "ETag", etag, sizeof(etag)));
	ck_assert_str_eq(etag, "\"1\"");
	http_free(&g);
	despues = db_valuef("SELECT actualizado_en::text FROM citas WHERE "
	    "id = %lld", id);
	ck_assert_str_eq(antes, despues);
	free(despues);

	/* Derived: a hand-written document does not stick. */
	db_execf("UPDATE citas SET documento = '{\"id\": 0}' WHERE id = %lld",
	    id);
	get_cita(id, &g);
	ck_assert_int_eq(json_ll(g.json, "id"), id);
	ck_assert_str_eq(json_s(g.json, "paciente"), "Renombrada");
	http_free(&g);
	ck_assert_int_eq(db_countf("SELECT count(*) FROM citas WHERE "
	    "documento::jsonb = cita_documento(citas)::jsonb AND id = %lld",
	    id), 1);
	free(antes);
}
END_TEST

START_TEST(put_sin_cambios_o_inexistente)
{
	long long vet = fx_vet(SEDE, FX_OFICINA), pac = fx_paciente(), id;
	long long room = fx_consultorio(SEDE);
	char t[FX_HORA_LEN];
	struct fx_counts before;
	struct http_resp r;

	fx_hora(lunes() + FX_HM(9, 0), FX_LIMA, t);
	id = fx_reservar_ok(&(struct fx_cita){ .paciente = pac,
	    .veterinario = vet, .sede = SEDE, .consultorio = room,
	    .inicio = t });
	fx_snapshot(&before);
	fx_put_cita(9007199254740991LL, "{\"motivo\":\"x\"}", NULL, &r);
	assert_problem(&r, 404, "no-encontrado");
	http_free(&r);
	fx_put_cita(id, "{}", NULL, &r);
	assert_problem(&r, 422, "validacion");
	ck_assert(fx_has_error(&r, "cuerpo"));
	http_free(&r);
	/* Unknown members are ignored, whatever their case: no change. */
	fx_put_cita(id, "{\"CONSULTORIO_ID\":null,\"Estado\":\"cancelada\","
	    "\"foo\":1}", NULL, &r);
	assert_problem(&r, 422, "validacion");
	ck_assert(fx_has_error(&r, "cuerpo"));
	http_free(&r);
	http_req("PUT", "/api/v1/citas/1", "text/plain", "{}", 2, NULL, &r);
	assert_problem(&r, 415, "tipo-no-soportado");
	http_free(&r);
	fx_assert_unchanged(&before);
	get_cita(id, &r);
	ck_assert_int_eq(json_ll(r.json, "consultorio_id"), room);
	http_free(&r);

	/* consultorio_id null removes the room. */
	fx_put_cita(id, "{\"consultorio_id\":null}", NULL, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(r.json, "consultorio_id")));
	http_free(&r);
}
END_TEST

/* ---- booking rules ----------------------------------------------------- */

START_TEST(regla_horario_del_veterinario)
{
	static const struct { int h, m, dur; long want; } casos[] = {
		{ 7, 30, 30, 422 },	/* before opening */
		{ 12, 45, 30, 422 },	/* runs into the lunch break */
		{ 13, 0, 60, 422 },	/* the lunch break */
		{ 18, 45, 30, 422 },	/* runs past closing */
		{ 19, 0, 30, 422 },
		{ 8, 0, 30, 201 },	/* the edges are inside */
		{ 12, 30, 30, 201 },
		{ 14, 0, 30, 201 },
		{ 18, 30, 30, 201 },
	};
	long long vet = fx_vet(SEDE, FX_OFICINA), pac = fx_paciente();
	long long d = lunes(), dom = fx_dia(LIMA, 7, 7);
	char t[FX_HORA_LEN];
	struct fx_counts before;
	struct http_resp r;
	size_t i;

	for (i = 0; i < sizeof(casos) / sizeof(casos[0]); i++) {
		fx_hora(d + FX_HM(casos[i].h, casos[i].m), FX_LIMA, t);
		fx_snapshot(&before);
		fx_reservar(&(struct fx_cita){ .paciente = pac,
		    .veterinario = vet, .sede = SEDE, .inicio = t,
		    .duracion = casos[i].dur }, NULL, &r);
		ck_assert_msg(r.status == casos[i].want, "%s: %ld %s", t,
		    r.status, r.body);
		if (casos[i].want == 422) {
			assert_problem(&r, 422, "fuera-de-horario");
			ck_assert(fx_has_error(&r, "inicio"));
			ck_assert_msg(strstr(json_s(r.json, "detail"),
			    "08:00–13:00, 14:00–19:00") != NULL &&
			    strstr(json_s(r.json, "detail"), LIMA) != NULL,
			    "%s", r.body);
			fx_assert_unchanged(&before);
		}
		http_free(&r);
	}
	/* Sunday: the vet does not work that day. */
	fx_hora(dom + FX_HM(10, 0), FX_LIMA, t);
	fx_reservar(&(struct fx_cita){ .paciente = pac, .veterinario = vet,
	    .sede = SEDE, .inicio = t }, NULL, &r);
	assert_problem(&r, 422, "fuera-de-horario");
	ck_assert_ptr_nonnull(strstr(json_s(r.json, "detail"),
	    "no atiende ese día"));
	http_free(&r);
}
END_TEST

START_TEST(regla_zona_horaria_de_la_sede)
{
	long long tokio = fx_sede("Asia/Tokyo"), vt = fx_vet(tokio, FX_OFICINA);
	long long vl = fx_vet(SEDE, FX_OFICINA), pac = fx_paciente();
	long long dt = fx_dia("Asia/Tokyo", 1, 8), id;
	char t[FX_HORA_LEN], t2[FX_HORA_LEN];
	struct http_resp r;

	/* 09:00 in Tokyo is inside the Tokyo vet's hours. */
	fx_hora(dt + FX_HM(9, 0), FX_TOKIO, t);
	fx_reservar(&(struct fx_cita){ .paciente = pac, .veterinario = vt,
	    .sede = tokio, .inicio = t }, NULL, &r);
	ck_assert_msg(r.status == 201, "%ld %s", r.status, r.body);
	ck_assert_str_eq(json_s(r.json, "inicio"), t);
	ck_assert_str_eq(json_s(r.json, "zona_horaria"), "Asia/Tokyo");
	http_free(&r);
	/* Written in UTC, answered in Tokyo time. */
	fx_hora(dt + FX_HM(10, 0), 0, t);
	id = fx_reservar_ok(&(struct fx_cita){ .paciente = pac,
	    .veterinario = vt, .sede = tokio, .inicio = t });
	get_cita(id, &r);
	fx_hora(dt + FX_HM(10, 0), FX_TOKIO, t);
	ck_assert_str_eq(json_s(r.json, "inicio"), t);
	ck_assert_ptr_nonnull(strstr(t, "T10:00:00+09:00"));
	http_free(&r);

	/*
	 * One instant, two sites: 14:00 UTC on a Monday is 09:00 in Lima
	 * (open) and 23:00 in Tokyo (closed).  The hours are read in each
	 * site's own zone.
	 */
	fx_hora(lunes() + FX_HM(9, 0), FX_LIMA, t);
	fx_hora(lunes() + FX_HM(9, 0), FX_TOKIO, t2);
	ck_assert_ptr_nonnull(strstr(t2, "T23:00:00+09:00"));
	fx_reservar(&(struct fx_cita){ .paciente = pac, .veterinario = vt,
	    .sede = tokio, .inicio = t }, NULL, &r);
	assert_problem(&r, 422, "fuera-de-horario");
	ck_assert_ptr_nonnull(strstr(json_s(r.json, "detail"), "Asia/Tokyo"));
	http_free(&r);
	fx_reservar(&(struct fx_cita){ .paciente = pac, .veterinario = vl,
	    .sede = SEDE, .inicio = t }, NULL, &r);
	ck_assert_msg(r.status == 201, "%ld %s", r.status, r.body);
	http_free(&r);
}
END_TEST

START_TEST(regla_ausencia_del_veterinario)
{
	long long vet = fx_vet(SEDE, FX_OFICINA), pac = fx_paciente();
	long long d = lunes();
	char a[FX_HORA_LEN], b[FX_HORA_LEN], t[FX_HORA_LEN];
	struct fx_counts before;
	struct http_resp r;

	fx_hora(d + FX_HM(10, 0), FX_LIMA, a);
	fx_hora(d + FX_HM(12, 0), FX_LIMA, b);
	db_execf("INSERT INTO ausencias (veterinario_id, periodo, tipo) "
	    "VALUES (%lld, tstzrange('%s', '%s'), 'capacitacion')", vet, a, b);
	fx_snapshot(&before);
	fx_hora(d + FX_HM(10, 30), FX_LIMA, t);
	fx_reservar(&(struct fx_cita){ .paciente = pac, .veterinario = vet,
	    .sede = SEDE, .inicio = t }, NULL, &r);
	assert_problem(&r, 422, "veterinario-ausente");
	ck_assert(fx_has_error(&r, "inicio"));
	http_free(&r);
	fx_hora(d + FX_HM(9, 45), FX_LIMA, t);
	fx_reservar(&(struct fx_cita){ .paciente = pac, .veterinario = vet,
	    .sede = SEDE, .inicio = t }, NULL, &r);
	assert_problem(&r, 422, "veterinario-ausente");
	http_free(&r);
	fx_assert_unchanged(&before);
	/* Touching the absence is fine. */
	fx_hora(d + FX_HM(9, 30), FX_LIMA, t);
	fx_reservar_ok(&(struct fx_cita){ .paciente = pac, .veterinario = vet,
	    .sede = SEDE, .inicio = t });
	fx_reservar_ok(&(struct fx_cita){ .paciente = pac, .veterinario = vet,
	    .sede = SEDE, .inicio = b });
}
END_TEST

START_TEST(regla_sin_solape_del_veterinario)
{
	long long vet = fx_vet(SEDE, FX_OFICINA), p[4], d = lunes(), a;
	char t[FX_HORA_LEN], ta[FX_HORA_LEN], tf[FX_HORA_LEN], want[128];
	struct fx_counts before;
	struct http_resp r;
	const cJSON *k;

	fx_pacientes(4, p);
	fx_hora(d + FX_HM(10, 0), FX_LIMA, ta);
	fx_hora(d + FX_HM(11, 0), FX_LIMA, tf);
	a = fx_reservar_ok(&(struct fx_cita){ .paciente = p[0],
	    .veterinario = vet, .sede = SEDE, .inicio = ta, .duracion = 60 });
	fx_snapshot(&before);
	fx_hora(d + FX_HM(10, 30), FX_LIMA, t);
	fx_reservar(&(struct fx_cita){ .paciente = p[1], .veterinario = vet,
	    .sede = SEDE, .inicio = t }, NULL, &r);
	assert_problem(&r, 409, "conflicto");
	k = cJSON_GetObjectItem(r.json, "conflicto");
	ck_assert_msg(cJSON_IsObject(k), "%s", r.body);
	ck_assert_int_eq(json_ll(k, "cita_id"), a);
	ck_assert_str_eq(json_s(k, "recurso"), "veterinario");
	ck_assert_str_eq(json_s(k, "inicio"), ta);
	ck_assert_str_eq(json_s(k, "fin"), tf);
	snprintf(want, sizeof(want), "de %s a %s", ta, tf);
	ck_assert_ptr_nonnull(strstr(json_s(r.json, "detail"), want));
	http_free(&r);
	/* Enclosing it. */
	fx_hora(d + FX_HM(9, 0), FX_LIMA, t);
	fx_reservar(&(struct fx_cita){ .paciente = p[1], .veterinario = vet,
	    .sede = SEDE, .inicio = t, .duracion = 180 }, NULL, &r);
	assert_problem(&r, 409, "conflicto");
	http_free(&r);
	fx_assert_unchanged(&before);
	/* Right before and right after: [start, end) touch, no overlap. */
	fx_hora(d + FX_HM(9, 30), FX_LIMA, t);
	fx_reservar_ok(&(struct fx_cita){ .paciente = p[2],
	    .veterinario = vet, .sede = SEDE, .inicio = t });
	fx_reservar_ok(&(struct fx_cita){ .paciente = p[3],
	    .veterinario = vet, .sede = SEDE, .inicio = tf });
}
END_TEST

START_TEST(regla_sin_solape_de_consultorio_ni_paciente)
{
	long long v1 = fx_vet(SEDE, FX_OFICINA), v2 = fx_vet(SEDE, FX_OFICINA);
	long long room = fx_consultorio(SEDE), p[2], d = lunes(), a;
	char t[FX_HORA_LEN];
	struct fx_counts before;
	struct http_resp r;
	const cJSON *k;

	fx_pacientes(2, p);
	fx_hora(d + FX_HM(10, 0), FX_LIMA, t);
	a = fx_reservar_ok(&(struct fx_cita){ .paciente = p[0],
	    .veterinario = v1, .sede = SEDE, .consultorio = room,
	    .inicio = t });
	fx_snapshot(&before);
	/* Another vet, another patient, the same room. */
	fx_hora(d + FX_HM(10, 15), FX_LIMA, t);
	fx_reservar(&(struct fx_cita){ .paciente = p[1], .veterinario = v2,
	    .sede = SEDE, .consultorio = room, .inicio = t }, NULL, &r);
	assert_problem(&r, 409, "conflicto");
	k = cJSON_GetObjectItem(r.json, "conflicto");
	ck_assert_int_eq(json_ll(k, "cita_id"), a);
	ck_assert_str_eq(json_s(k, "recurso"), "consultorio");
	http_free(&r);
	/* The same patient with another vet. */
	fx_reservar(&(struct fx_cita){ .paciente = p[0], .veterinario = v2,
	    .sede = SEDE, .inicio = t }, NULL, &r);
	assert_problem(&r, 409, "conflicto");
	k = cJSON_GetObjectItem(r.json, "conflicto");
	ck_assert_int_eq(json_ll(k, "cita_id"), a);
	ck_assert_str_eq(json_s(k, "recurso"), "paciente");
	http_free(&r);
	fx_assert_unchanged(&before);
	/* Without the room, the other vet and patient are free. */
	fx_reservar_ok(&(struct fx_cita){ .paciente = p[1], .veterinario = v2,
	    .sede = SEDE, .inicio = t });
}
END_TEST

START_TEST(regla_inicio_en_el_futuro)
{
	long long vet = fx_vet(SEDE, FX_DIA_COMPLETO), pac = fx_paciente();
	long long now = (long long)time(NULL), start, local;
	char t[FX_HORA_LEN];
	struct fx_counts before;
	struct http_resp r;

	fx_snapshot(&before);
	fx_hora(now - 3600, FX_LIMA, t);
	fx_reservar(&(struct fx_cita){ .paciente = pac, .veterinario = vet,
	    .sede = SEDE, .inicio = t }, NULL, &r);
	assert_problem(&r, 422, "validacion");
	ck_assert(fx_has_error(&r, "inicio"));
	http_free(&r);
	/* Started a minute ago, ends in the future: still refused. */
	fx_hora(now - 60, FX_LIMA, t);
	fx_reservar(&(struct fx_cita){ .paciente = pac, .veterinario = vet,
	    .sede = SEDE, .inicio = t, .duracion = 60 }, NULL, &r);
	assert_problem(&r, 422, "validacion");
	ck_assert(fx_has_error(&r, "inicio"));
	http_free(&r);
	fx_hora(now - 86400 * 365, FX_LIMA, t);
	fx_reservar(&(struct fx_cita){ .paciente = pac, .veterinario = vet,
	    .sede = SEDE, .inicio = t }, NULL, &r);
	assert_problem(&r, 422, "validacion");
	http_free(&r);
	fx_assert_unchanged(&before);
	/* Ten minutes from now, unless that slot would run past midnight in
	 * Lima (UTC-5 all year; a day's hours end at 24:00): then ten
	 * minutes into tomorrow, still a start in the future. */
	start = now + 600;
	local = (now - 5 * 3600) % 86400;
	if (local + 600 + 30 * 60 >= 86400)
		start = now + (86400 - local) + 600;
	fx_hora(start, FX_LIMA, t);
	fx_reservar_ok(&(struct fx_cita){ .paciente = pac, .veterinario = vet,
	    .sede = SEDE, .inicio = t, .duracion = 30 });
}
END_TEST

START_TEST(regla_duracion_entre_5_y_240)
{
	static const struct { int dur; long want; } casos[] = {
		{ 4, 422 }, { 241, 422 }, { 0, 422 }, { -30, 422 },
		{ 5, 201 }, { 240, 201 },
	};
	long long vet = fx_vet(SEDE, FX_DIA_COMPLETO), pac = fx_paciente();
	long long d = lunes();
	char t[FX_HORA_LEN], f[FX_HORA_LEN], body[256];
	struct fx_counts before;
	struct http_resp r;
	size_t i;

	for (i = 0; i < sizeof(casos) / sizeof(casos[0]); i++) {
		fx_hora(d + FX_HM(5 * (long long)i, 0), FX_LIMA, t);
		snprintf(body, sizeof(body), "{\"paciente_id\":%lld,"
		    "\"veterinario_id\":%lld,\"sede_id\":1,\"inicio\":\"%s\","
		    "\"duracion_min\":%d,\"motivo\":\"x\"}", pac, vet, t,
		    casos[i].dur);
		fx_snapshot(&before);
		http_post_json("/api/v1/citas/reservar", body, &r);
		ck_assert_msg(r.status == casos[i].want, "%d min: %ld %s",
		    casos[i].dur, r.status, r.body);
		if (r.status == 422) {
			ck_assert(fx_has_error(&r, "duracion_min"));
			fx_assert_unchanged(&before);
		}
		http_free(&r);
	}
	/* The same bounds when the end is given instead. */
	fx_snapshot(&before);
	fx_hora(d + FX_HM(40, 0), FX_LIMA, t);
	fx_hora(d + FX_HM(44, 1), FX_LIMA, f);
	fx_reservar(&(struct fx_cita){ .paciente = pac, .veterinario = vet,
	    .sede = SEDE, .inicio = t, .fin = f }, NULL, &r);
	assert_problem(&r, 422, "validacion");
	ck_assert(fx_has_error(&r, "duracion_min"));
	http_free(&r);
	fx_hora(d + FX_HM(40, 4), FX_LIMA, f);
	fx_reservar(&(struct fx_cita){ .paciente = pac, .veterinario = vet,
	    .sede = SEDE, .inicio = t, .fin = f }, NULL, &r);
	assert_problem(&r, 422, "validacion");
	ck_assert(fx_has_error(&r, "duracion_min"));
	http_free(&r);
	fx_reservar(&(struct fx_cita){ .paciente = pac, .veterinario = vet,
	    .sede = SEDE, .inicio = t, .fin = t }, NULL, &r);
	assert_problem(&r, 422, "validacion");
	ck_assert(fx_has_error(&r, "fin"));
	http_free(&r);
	fx_assert_unchanged(&before);
}
END_TEST

START_TEST(regla_paciente_activo_y_vivo)
{
	long long vet = fx_vet(SEDE, FX_OFICINA), p[2];
	char t[FX_HORA_LEN];
	struct fx_counts before;
	struct http_resp r;

	fx_pacientes(2, p);
	db_execf("UPDATE pacientes SET activo = false WHERE id = %lld", p[0]);
	db_execf("UPDATE pacientes SET activo = false, fallecido = true, "
	    "fecha_fallecimiento = current_date - 1 WHERE id = %lld", p[1]);
	fx_hora(lunes() + FX_HM(9, 0), FX_LIMA, t);
	fx_snapshot(&before);
	fx_reservar(&(struct fx_cita){ .paciente = p[0], .veterinario = vet,
	    .sede = SEDE, .inicio = t }, NULL, &r);
	assert_problem(&r, 422, "validacion");
	ck_assert(fx_has_error(&r, "paciente_id"));
	ck_assert_ptr_nonnull(strstr(r.body, "inactivo"));
	http_free(&r);
	fx_reservar(&(struct fx_cita){ .paciente = p[1], .veterinario = vet,
	    .sede = SEDE, .inicio = t }, NULL, &r);
	assert_problem(&r, 422, "validacion");
	ck_assert(fx_has_error(&r, "paciente_id"));
	ck_assert_ptr_nonnull(strstr(r.body, "falleció"));
	http_free(&r);
	fx_assert_unchanged(&before);
}
END_TEST

START_TEST(regla_veterinario_de_la_sede)
{
	long long vet = fx_vet(SEDE, FX_OFICINA), pac = fx_paciente();
	long long inactivo = fx_vet(SEDE, FX_OFICINA), sin_sede = fx_vet(SEDE,
	    FX_OFICINA), cerrada = fx_sede(LIMA);
	long long otra_sala = fx_consultorio(cerrada);
	long long sala = fx_consultorio(SEDE);
	char t[FX_HORA_LEN];
	struct fx_counts before;
	struct http_resp r;
	struct fx_cita c;

	db_execf("UPDATE veterinarios SET activo = false WHERE id = %lld",
	    inactivo);
	db_execf("UPDATE veterinario_sedes SET activo = false WHERE "
	    "veterinario_id = %lld", sin_sede);
	db_execf("UPDATE sedes SET activa = false WHERE id = %lld", cerrada);
	fx_hora(lunes() + FX_HM(9, 0), FX_LIMA, t);
	c = (struct fx_cita){ .paciente = pac, .veterinario = vet, .sede = 2,
	    .inicio = t };
	fx_snapshot(&before);
	/* The vet works at site 1 only. */
	fx_reservar(&c, NULL, &r);
	assert_problem(&r, 422, "validacion");
	ck_assert(fx_has_error(&r, "veterinario_id"));
	ck_assert_ptr_nonnull(strstr(r.body, "no atiende en esa sede"));
	http_free(&r);
	c.sede = SEDE;
	c.veterinario = inactivo;
	fx_reservar(&c, NULL, &r);
	assert_problem(&r, 422, "validacion");
	ck_assert(fx_has_error(&r, "veterinario_id"));
	http_free(&r);
	c.veterinario = sin_sede;
	fx_reservar(&c, NULL, &r);
	assert_problem(&r, 422, "validacion");
	ck_assert(fx_has_error(&r, "veterinario_id"));
	http_free(&r);
	c.veterinario = vet;
	c.sede = cerrada;
	fx_reservar(&c, NULL, &r);
	assert_problem(&r, 422, "validacion");
	ck_assert(fx_has_error(&r, "sede_id"));
	http_free(&r);
	/* A room of another site; a room for a video consultation. */
	c.sede = SEDE;
	c.consultorio = otra_sala;
	fx_reservar(&c, NULL, &r);
	assert_problem(&r, 422, "validacion");
	ck_assert(fx_has_error(&r, "consultorio_id"));
	http_free(&r);
	c.consultorio = sala;
	c.tipo = "virtual";
	fx_reservar(&c, NULL, &r);
	assert_problem(&r, 422, "validacion");
	ck_assert(fx_has_error(&r, "consultorio_id"));
	http_free(&r);
	fx_assert_unchanged(&before);
	c.consultorio = 0;
	fx_reservar(&c, NULL, &r);
	ck_assert_int_eq(r.status, 201);
	ck_assert_str_eq(json_s(r.json, "tipo"), "virtual");
	http_free(&r);
}
END_TEST

/*
 * A 409 names the appointment in the way only to who may read it (GET
 * /citas/{id}): a receptionist of another site learns that the patient
 * is busy then, not which appointment nor its times, when booking and
 * when moving; one of the appointment's site, and a network
 * administrator, get all of it.
 */
START_TEST(conflicto_ajeno_no_se_revela)
{
	long long v1 = fx_vet(SEDE, FX_OFICINA), v1b = fx_vet(SEDE, FX_OFICINA);
	long long v2 = fx_vet(2, FX_OFICINA), pac = fx_paciente(), d = lunes();
	long long a, b;
	char t[FX_HORA_LEN], t2[FX_HORA_LEN], *rec2, *rec1, body[128];
	struct fx_counts before;
	struct http_resp r;
	const cJSON *k;

	fx_hora(d + FX_HM(10, 0), FX_LIMA, t);
	fx_hora(d + FX_HM(16, 0), FX_LIMA, t2);
	a = fx_reservar_ok(&(struct fx_cita){ .paciente = pac,
	    .veterinario = v1, .sede = SEDE, .inicio = t });
	rec2 = fx_token_de("recepcion", 2, NULL);
	rec1 = fx_token_de("recepcion", SEDE, NULL);

	fx_snapshot(&before);
	http_token(rec2);
	fx_reservar(&(struct fx_cita){ .paciente = pac, .veterinario = v2,
	    .sede = 2, .inicio = t }, NULL, &r);
	assert_problem(&r, 409, "conflicto");
	k = cJSON_GetObjectItem(r.json, "conflicto");
	ck_assert_str_eq(json_s(k, "recurso"), "paciente");
	ck_assert_ptr_null(cJSON_GetObjectItem(k, "cita_id"));
	ck_assert_ptr_null(cJSON_GetObjectItem(k, "inicio"));
	ck_assert_ptr_null(cJSON_GetObjectItem(k, "fin"));
	ck_assert_str_eq(json_s(r.json, "detail"),
	    "El paciente ya tiene otra cita en ese horario.");
	ck_assert_ptr_null(strstr(r.body, "10:00"));
	http_free(&r);
	fx_assert_unchanged(&before);
	/* Moving its own appointment onto it: the same. */
	b = fx_reservar_ok(&(struct fx_cita){ .paciente = pac,
	    .veterinario = v2, .sede = 2, .inicio = t2 });
	fx_snapshot(&before);
	snprintf(body, sizeof(body), "{\"inicio\":\"%s\",\"version\":1}", t);
	fx_put_cita(b, body, NULL, &r);
	assert_problem(&r, 409, "conflicto");
	k = cJSON_GetObjectItem(r.json, "conflicto");
	ck_assert_str_eq(json_s(k, "recurso"), "paciente");
	ck_assert_ptr_null(cJSON_GetObjectItem(k, "cita_id"));
	ck_assert_ptr_null(strstr(r.body, "10:00"));
	http_free(&r);
	fx_assert_unchanged(&before);

	/* Site 1's receptionist may read it: told which and when. */
	http_token(rec1);
	fx_reservar(&(struct fx_cita){ .paciente = pac, .veterinario = v1b,
	    .sede = SEDE, .inicio = t }, NULL, &r);
	assert_problem(&r, 409, "conflicto");
	k = cJSON_GetObjectItem(r.json, "conflicto");
	ck_assert_int_eq(json_ll(k, "cita_id"), a);
	ck_assert_ptr_nonnull(json_s(k, "inicio"));
	ck_assert_ptr_nonnull(strstr(json_s(r.json, "detail"), "10:00"));
	http_free(&r);
	http_token(NULL);
	fx_put_cita(b, body, NULL, &r);
	assert_problem(&r, 409, "conflicto");
	ck_assert_int_eq(json_ll(cJSON_GetObjectItem(r.json, "conflicto"),
	    "cita_id"), a);
	http_free(&r);
	fx_assert_unchanged(&before);
	free(rec1);
	free(rec2);
}
END_TEST

/* ---- Idempotency-Key --------------------------------------------------- */

static void
clave_nueva(char *hdr, size_t n)
{
	char *u = db_value("SELECT gen_random_uuid()::text");

	snprintf(hdr, n, "Idempotency-Key: itest-%s", u);
	free(u);
}

START_TEST(idempotencia_repite_la_primera_respuesta)
{
	long long vet = fx_vet(SEDE, FX_OFICINA), pac = fx_paciente(), id;
	char hdr[128], t[FX_HORA_LEN], loc1[64], loc2[64], v[16];
	const char *extra[2] = { hdr, NULL };
	struct fx_cita c;
	struct fx_counts before;
	struct http_resp r1, r2;

	clave_nueva(hdr, sizeof(hdr));
	fx_hora(lunes() + FX_HM(9, 0), FX_LIMA, t);
	c = (struct fx_cita){ .paciente = pac, .veterinario = vet,
	    .sede = SEDE, .inicio = t };
	fx_snapshot(&before);
	fx_reservar(&c, extra, &r1);
	ck_assert_int_eq(r1.status, 201);
	ck_assert_ptr_null(http_header(&r1, "Idempotent-Replayed", v,
	    sizeof(v)));
	id = json_ll(r1.json, "id");
	fx_reservar(&c, extra, &r2);
	ck_assert_msg(r2.status == 201, "%ld %s", r2.status, r2.body);
	ck_assert_int_eq(json_ll(r2.json, "id"), id);
	ck_assert_ptr_nonnull(http_header(&r2, "Idempotent-Replayed", v,
	    sizeof(v)));
	ck_assert_str_eq(v, "true");
	ck_assert_ptr_nonnull(http_header(&r1, "Location", loc1,
	    sizeof(loc1)));
	ck_assert_ptr_nonnull(http_header(&r2, "Location", loc2,
	    sizeof(loc2)));
	ck_assert_str_eq(loc1, loc2);
	ck_assert_str_eq(json_s(r2.json, "inicio"), json_s(r1.json, "inicio"));
	http_free(&r1);
	http_free(&r2);
	/* One appointment, one audit row, one event. */
	fx_assert_delta(&before, 1, 0, 0, 1, 1);
	ck_assert_int_eq(db_countf("SELECT count(*) FROM citas WHERE "
	    "veterinario_id = %lld", vet), 1);

	/* Without the key, the same body is a new request: the slot is
	 * taken. */
	fx_reservar(&c, NULL, &r1);
	assert_problem(&r1, 409, "conflicto");
	http_free(&r1);
}
END_TEST

/*
 * Keys are the sender's own: another user's request with a key already
 * used (the same bytes, or its own booking at another site) is processed
 * as a request of its own, never refused as a reused key nor answered
 * with the first user's appointment.
 */
START_TEST(idempotencia_por_usuario)
{
	long long vet = fx_vet(SEDE, FX_OFICINA), v2 = fx_vet(2, FX_OFICINA);
	long long pac = fx_paciente(), pac2 = fx_paciente(), id;
	char hdr[128], t[FX_HORA_LEN], v[16], *u1, *u2, *u3;
	const char *extra[2] = { hdr, NULL };
	struct fx_cita c;
	struct fx_counts before;
	struct http_resp r;

	u1 = fx_token_de("recepcion", SEDE, NULL);
	u2 = fx_token_de("recepcion", SEDE, NULL);
	u3 = fx_token_de("recepcion", 2, NULL);
	clave_nueva(hdr, sizeof(hdr));
	fx_hora(lunes() + FX_HM(9, 0), FX_LIMA, t);
	c = (struct fx_cita){ .paciente = pac, .veterinario = vet,
	    .sede = SEDE, .inicio = t };
	fx_snapshot(&before);
	http_token(u1);
	fx_reservar(&c, extra, &r);
	ck_assert_msg(r.status == 201, "%ld %s", r.status, r.body);
	id = json_ll(r.json, "id");
	http_free(&r);

	/* Same site, same bytes: a booking of its own, hence the slot is
	 * taken. */
	http_token(u2);
	fx_reservar(&c, extra, &r);
	assert_problem(&r, 409, "conflicto");
	ck_assert_ptr_null(http_header(&r, "Idempotent-Replayed", v,
	    sizeof(v)));
	http_free(&r);
	/* Another site, its own body: booked. */
	http_token(u3);
	c = (struct fx_cita){ .paciente = pac2, .veterinario = v2, .sede = 2,
	    .inicio = t };
	fx_reservar(&c, extra, &r);
	ck_assert_msg(r.status == 201, "%ld %s", r.status, r.body);
	ck_assert_int_ne(json_ll(r.json, "id"), id);
	ck_assert_ptr_null(http_header(&r, "Idempotent-Replayed", v,
	    sizeof(v)));
	http_free(&r);
	/* The first user's retry still gets its own answer again. */
	http_token(u1);
	c = (struct fx_cita){ .paciente = pac, .veterinario = vet,
	    .sede = SEDE, .inicio = t };
	fx_reservar(&c, extra, &r);
	ck_assert_int_eq(r.status, 201);
	ck_assert_int_eq(json_ll(r.json, "id"), id);
	ck_assert_ptr_nonnull(http_header(&r, "Idempotent-Replayed", v,
	    sizeof(v)));
	http_free(&r);
	http_token(NULL);
	fx_assert_delta(&before, 2, 0, 0, 2, 2);
	ck_assert_int_eq(db_countf("SELECT count(*) FROM idempotencia WHERE "
	    "clave = '%s'", hdr + strlen("Idempotency-Key: ")), 3);
	free(u1);
	free(u2);
	free(u3);
}
END_TEST

START_TEST(idempotencia_misma_clave_otro_cuerpo_es_422)
{
	long long vet = fx_vet(SEDE, FX_OFICINA), pac = fx_paciente();
	char hdr[128], t[FX_HORA_LEN];
	const char *extra[2] = { hdr, NULL };
	struct fx_cita c;
	struct fx_counts before;
	struct http_resp r;

	clave_nueva(hdr, sizeof(hdr));
	fx_hora(lunes() + FX_HM(9, 0), FX_LIMA, t);
	c = (struct fx_cita){ .paciente = pac, .veterinario = vet,
	    .sede = SEDE, .inicio = t };
	fx_reservar(&c, extra, &r);
	ck_assert_int_eq(r.status, 201);
	http_free(&r);
	fx_snapshot(&before);
	fx_hora(lunes() + FX_HM(10, 0), FX_LIMA, t);
	fx_reservar(&c, extra, &r);
	assert_problem(&r, 422, "idempotencia");
	ck_assert(fx_has_error(&r, "Idempotency-Key"));
	http_free(&r);
	fx_assert_unchanged(&before);

	/* A refused booking is answered the same way again, and still
	 * writes nothing. */
	clave_nueva(hdr, sizeof(hdr));
	c.sede = 2;
	fx_reservar(&c, extra, &r);
	assert_problem(&r, 422, "validacion");
	http_free(&r);
	fx_reservar(&c, extra, &r);
	assert_problem(&r, 422, "validacion");
	ck_assert(fx_has_error(&r, "veterinario_id"));
	http_free(&r);
	fx_assert_unchanged(&before);
}
END_TEST

START_TEST(idempotencia_clave_mal_formada_es_400)
{
	static const char *const malas[] = { "Idempotency-Key;",
	    "Idempotency-Key: con espacio", "Idempotency-Key: ñandú",
	    "Idempotency-Key: a\tb", NULL };
	long long vet = fx_vet(SEDE, FX_OFICINA), pac = fx_paciente();
	char t[FX_HORA_LEN], larga[300];
	const char *extra[2] = { NULL, NULL };
	struct fx_counts before;
	struct http_resp r;
	struct fx_cita c;
	int i;

	fx_hora(lunes() + FX_HM(9, 0), FX_LIMA, t);
	c = (struct fx_cita){ .paciente = pac, .veterinario = vet,
	    .sede = SEDE, .inicio = t };
	fx_snapshot(&before);
	for (i = 0; malas[i] != NULL; i++) {
		extra[0] = malas[i];
		fx_reservar(&c, extra, &r);
		ck_assert_msg(r.status == 400, "%s: %ld %s", malas[i],
		    r.status, r.body);
		assert_problem(&r, 400, "idempotencia");
		http_free(&r);
	}
	/* 256 characters: one too many. */
	snprintf(larga, sizeof(larga), "Idempotency-Key: %0256d", 7);
	extra[0] = larga;
	fx_reservar(&c, extra, &r);
	assert_problem(&r, 400, "idempotencia");
	http_free(&r);
	fx_assert_unchanged(&before);
	/* 255 is the most. */
	snprintf(larga, sizeof(larga), "Idempotency-Key: %0255lld",
	    (long long)time(NULL) * 1000 + pac % 1000);
	fx_reservar(&c, extra, &r);
	ck_assert_msg(r.status == 201, "%ld %s", r.status, r.body);
	http_free(&r);
}
END_TEST

/* ---- bad input --------------------------------------------------------- */

/* A valid booking body with member name replaced by raw JSON value. */
static char *
cuerpo_con(const char *name, const char *value)
{
	char t[FX_HORA_LEN], *s, *out;
	cJSON *o, *v;
	struct fx_cita c;

	fx_hora(lunes() + FX_HM(9, 0), FX_LIMA, t);
	c = (struct fx_cita){ .paciente = 1, .veterinario = 1, .sede = SEDE,
	    .inicio = t };
	s = fx_cita_json(&c);
	o = cJSON_Parse(s);
	free(s);
	cJSON_DeleteItemFromObjectCaseSensitive(o, name);
	if (value != NULL) {
		v = cJSON_Parse(value);
		ck_assert_msg(v != NULL, "bad test value %s", value);
		cJSON_AddItemToObject(o, name, v);
	}
	out = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return out;
}

struct caso {
	const char	*campo;
	const char	*valor;	/* raw JSON; NULL: member left out */
};

/* Each case answers 422 naming its field, and nothing is written. */
static void
assert_422_por_campo(const struct caso *casos, const char *error)
{
	struct fx_counts before;
	struct http_resp r;
	char *body;
	int i;

	fx_snapshot(&before);
	for (i = 0; casos[i].campo != NULL; i++) {
		body = cuerpo_con(casos[i].campo, casos[i].valor);
		http_post_json("/api/v1/citas/reservar", body, &r);
		ck_assert_msg(r.status == 422, "%s: %ld %s", body, r.status,
		    r.body);
		assert_problem(&r, 422, "validacion");
		ck_assert_msg(fx_has_error(&r, error ? error : casos[i].campo),
		    "%s: %s", body, r.body);
		http_free(&r);
		free(body);
	}
	fx_assert_unchanged(&before);
}

START_TEST(entrada_json_mal_formado_es_400)
{
	static const char *const cuerpos[] = { "{", "{\"paciente_id\":}",
	    "[]", "null", "{\"a\":1}x", "{'paciente_id':1}", "",
	    "{\"motivo\":\"a\\u0000b\"}", NULL };
	static const char *const rutas[][2] = {
		{ "POST", "/api/v1/citas/reservar" },
		{ "PUT", "/api/v1/citas/1" },
		{ "POST", "/api/v1/pacientes/registro" },
	};
	struct fx_counts before;
	struct http_resp r;
	size_t i, j;

	fx_snapshot(&before);
	for (j = 0; j < sizeof(rutas) / sizeof(rutas[0]); j++)
		for (i = 0; cuerpos[i] != NULL; i++) {
			http_req(rutas[j][0], rutas[j][1], "application/json",
			    cuerpos[i], strlen(cuerpos[i]), NULL, &r);
			ck_assert_msg(r.status == 400, "%s %s: %ld %s",
			    rutas[j][1], cuerpos[i], r.status, r.body);
			assert_problem(&r, 400, "json-invalido");
			http_free(&r);
		}
	fx_assert_unchanged(&before);
}
END_TEST

START_TEST(entrada_tipos_incorrectos_son_422)
{
	static const struct caso casos[] = {
		{ "paciente_id", "\"1\"" }, { "veterinario_id", "true" },
		{ "sede_id", "[1]" }, { "consultorio_id", "{}" },
		{ "inicio", "20261207" }, { "inicio", "[\"2026\"]" },
		{ "fin", "false" }, { "duracion_min", "\"30\"" },
		{ "duracion_min", "30.5" }, { "motivo", "5" },
		{ "motivo", "{\"a\":1}" }, { "tipo", "\"domicilio\"" },
		{ "tipo", "1" }, { NULL, NULL }
	};

	assert_422_por_campo(casos, NULL);
}
END_TEST

START_TEST(entrada_campos_faltantes_son_422)
{
	static const struct caso casos[] = {
		{ "paciente_id", NULL }, { "veterinario_id", NULL },
		{ "sede_id", NULL }, { "inicio", NULL }, { "motivo", NULL },
		{ "duracion_min", NULL }, { "paciente_id", "null" },
		{ "inicio", "null" }, { "motivo", "\"\"" },
		{ "motivo", "\"   \"" }, { "inicio", "\"\"" },
		{ NULL, NULL }
	};
	static const char *const todos[] = { "paciente_id", "veterinario_id",
	    "sede_id", "inicio", "motivo", "duracion_min", NULL };
	struct http_resp r;
	int i;

	assert_422_por_campo(casos, NULL);
	http_post_json("/api/v1/citas/reservar", "{}", &r);
	assert_problem(&r, 422, "validacion");
	for (i = 0; todos[i] != NULL; i++)
		ck_assert_msg(fx_has_error(&r, todos[i]), "{} lacks %s: %s",
		    todos[i], r.body);
	http_free(&r);
}
END_TEST

/*
 * Members the contract does not name are ignored, read-only ones
 * included: the booking is made as if they were not there.  A member
 * is only ever read by its exact name: "DURACION_MIN" is not a
 * duration, so a body with only that is missing one.
 */
START_TEST(entrada_campos_desconocidos_se_ignoran)
{
	long long vet = fx_vet(SEDE, FX_OFICINA), pac = fx_paciente();
	char t[FX_HORA_LEN], *s, *body;
	cJSON *o;
	struct http_resp r;
	struct fx_counts before;

	fx_hora(lunes() + FX_HM(9, 0), FX_LIMA, t);
	s = fx_cita_json(&(struct fx_cita){ .paciente = pac,
	    .veterinario = vet, .sede = SEDE, .inicio = t });
	o = cJSON_Parse(s);
	free(s);
	cJSON_AddNumberToObject(o, "id", 999999999);
	cJSON_AddStringToObject(o, "estado", "atendida");
	cJSON_AddNumberToObject(o, "version", 42);
	cJSON_AddNumberToObject(o, "DURACION_MIN", 200);
	cJSON_AddStringToObject(o, "Sede_Id", "x");
	cJSON_AddItemToObject(o, "extra", cJSON_Parse("{\"a\":[1,{\"b\":"
	    "null}]}"));
	body = cJSON_PrintUnformatted(o);
	http_post_json("/api/v1/citas/reservar", body, &r);
	ck_assert_msg(r.status == 201, "%ld %s", r.status, r.body);
	ck_assert_int_ne(json_ll(r.json, "id"), 999999999);
	ck_assert_str_eq(json_s(r.json, "estado"), "reservada");
	ck_assert_int_eq(json_ll(r.json, "version"), 1);
	ck_assert_int_eq(json_ll(r.json, "duracion_min"), 30);
	ck_assert_int_eq(json_ll(r.json, "sede_id"), SEDE);
	http_free(&r);
	free(body);

	/* Without a real duration or end: 422, not a booking with no end. */
	fx_snapshot(&before);
	cJSON_DeleteItemFromObjectCaseSensitive(o, "duracion_min");
	body = cJSON_PrintUnformatted(o);
	http_post_json("/api/v1/citas/reservar", body, &r);
	assert_problem(&r, 422, "validacion");
	ck_assert(fx_has_error(&r, "duracion_min"));
	http_free(&r);
	free(body);
	cJSON_AddNullToObject(o, "fin");
	cJSON_AddNullToObject(o, "duracion_min");
	body = cJSON_PrintUnformatted(o);
	http_post_json("/api/v1/citas/reservar", body, &r);
	assert_problem(&r, 422, "validacion");
	ck_assert(fx_has_error(&r, "duracion_min"));
	http_free(&r);
	free(body);
	cJSON_Delete(o);
	fx_assert_unchanged(&before);
}
END_TEST

START_TEST(entrada_ids_inexistentes)
{
	static const struct caso referidos[] = {
		{ "paciente_id", "9007199254740991" },
		{ "veterinario_id", "9007199254740991" },
		{ "sede_id", "9007199254740991" },
		{ "consultorio_id", "9007199254740991" },
		{ NULL, NULL }
	};
	long long vet = fx_vet(SEDE, FX_OFICINA), pac = fx_paciente(), id;
	char t[FX_HORA_LEN];
	struct fx_counts before;
	struct http_resp r;

	/* A referenced id that does not exist: 422 naming it. */
	assert_422_por_campo(referidos, NULL);
	fx_hora(lunes() + FX_HM(9, 0), FX_LIMA, t);
	id = fx_reservar_ok(&(struct fx_cita){ .paciente = pac,
	    .veterinario = vet, .sede = SEDE, .inicio = t });
	fx_snapshot(&before);
	fx_put_cita(id, "{\"veterinario_id\":9007199254740991}", NULL, &r);
	assert_problem(&r, 422, "validacion");
	ck_assert(fx_has_error(&r, "veterinario_id"));
	http_free(&r);
	fx_put_cita(id, "{\"consultorio_id\":9007199254740991}", NULL, &r);
	assert_problem(&r, 422, "validacion");
	ck_assert(fx_has_error(&r, "consultorio_id"));
	http_free(&r);

	/* The path's own id: 404. */
	http_get("/api/v1/citas/9007199254740991", &r);
	assert_problem(&r, 404, "no-encontrado");
	http_free(&r);
	http_get("/api/v1/citas/9223372036854775807", &r);
	assert_problem(&r, 404, "no-encontrado");
	http_free(&r);
	fx_put_cita(9223372036854775807LL, "{\"motivo\":\"x\"}", NULL, &r);
	assert_problem(&r, 404, "no-encontrado");
	http_free(&r);
	delete_cita(9223372036854775807LL, NULL, &r);
	assert_problem(&r, 404, "no-encontrado");
	http_free(&r);
	fx_assert_unchanged(&before);
}
END_TEST

START_TEST(entrada_numeros_negativos_y_enormes)
{
	static const struct caso casos[] = {
		{ "paciente_id", "-5" }, { "paciente_id", "0" },
		{ "paciente_id", "1e300" }, { "paciente_id", "-1e300" },
		{ "paciente_id", "9007199254740993" },
		{ "veterinario_id", "9223372036854775807" },
		{ "veterinario_id", "1.5" }, { "sede_id", "-5" },
		{ "sede_id", "1e300" }, { "consultorio_id", "-5" },
		{ "consultorio_id", "9007199254740993" },
		{ "duracion_min", "1e300" }, { "duracion_min", "-5" },
		{ "duracion_min", "9007199254740993" },
		{ "duracion_min", "2147483648" },
		{ NULL, NULL }
	};
	static const char *const ids[] = { "-5", "0", "1e300", "+1", "0x10",
	    "99999999999999999999", "9223372036854775808", NULL };
	struct fx_counts before;
	struct http_resp r;
	char path[96];
	int i;

	assert_422_por_campo(casos, NULL);
	fx_snapshot(&before);
	for (i = 0; ids[i] != NULL; i++) {
		snprintf(path, sizeof(path), "/api/v1/citas/%s", ids[i]);
		http_get(path, &r);
		ck_assert_msg(r.status == 400, "%s: %ld", path, r.status);
		assert_problem(&r, 400, "id-invalido");
		http_free(&r);
		http_req("PUT", path, "application/json", "{\"motivo\":\"x\"}",
		    14, NULL, &r);
		assert_problem(&r, 400, "id-invalido");
		http_free(&r);
	}
	/* 2^53 + 1 is a fine bigint in a path: simply absent. */
	http_get("/api/v1/citas/9007199254740993", &r);
	assert_problem(&r, 404, "no-encontrado");
	http_free(&r);
	fx_assert_unchanged(&before);
}
END_TEST

START_TEST(entrada_ids_de_ruta_no_numericos)
{
	static const char *const ids[] = { "abc", "1abc", "1.0", "%201",
	    "1;DROP%20TABLE%20citas", "%27", "1%27%20OR%20%271%27=%271",
	    "%C3%28", "%00", "reservar%2F1", NULL };
	static const char *const metodos[] = { "GET", "PUT", "DELETE", NULL };
	struct fx_counts before;
	struct http_resp r;
	char path[128];
	int i, j;

	fx_snapshot(&before);
	for (i = 0; ids[i] != NULL; i++)
		for (j = 0; metodos[j] != NULL; j++) {
			snprintf(path, sizeof(path), "/api/v1/citas/%s",
			    ids[i]);
			http_req(metodos[j], path, "application/json",
			    "{\"motivo\":\"x\"}", 14, NULL, &r);
			ck_assert_msg(r.status == 400, "%s %s: %ld %s",
			    metodos[j], path, r.status, r.body);
			assert_problem(&r, 400, NULL);
			http_free(&r);
		}
	fx_assert_unchanged(&before);
	ck_assert_int_ge(db_count("SELECT count(*) FROM citas"), 1);
}
END_TEST

START_TEST(entrada_fechas_y_zonas_invalidas)
{
	static const char *const malas[] = {
		"\"2026-02-30T10:00:00-05:00\"", "\"2026-12-01T25:00:00Z\"",
		"\"2026-12-01T10:00:00+25:00\"", "\"2026-12-01T10:00:00\"",
		"\"now\"", "\"epoch\"", "\"today\"", "\"infinity\"",
		"\"2026-12-01\"", "\"2026-12-01 10:00:00-05:00\"",
		"\"2026-12-01T10:60:00Z\"", "\"2026-12-01T10:00:60Z\"",
		"\"2026-12-01T10:00:00+16:00\"", "\"2026-12-01T10:00:00-23:59\"",
		"\"2026-12-01T10:00:00 America/Lima\"",
		"\"2026-12-01T10:00:00.1234567891Z\"", "\"26-12-01T10:00:00Z\"",
		"\"1899-12-31T10:00:00Z\"", "\"2026-12-01T10:00:00-0500\"",
		NULL
	};
	long long vet = fx_vet(SEDE, FX_OFICINA), pac = fx_paciente(), id;
	struct caso casos[2] = { { "inicio", NULL }, { NULL, NULL } };
	char t[FX_HORA_LEN], body[160];
	struct fx_counts before;
	struct http_resp r;
	int i;

	for (i = 0; malas[i] != NULL; i++) {
		casos[0].campo = "inicio";
		casos[0].valor = malas[i];
		assert_422_por_campo(casos, NULL);
		casos[0].campo = "fin";
		assert_422_por_campo(casos, NULL);
	}
	fx_hora(lunes() + FX_HM(9, 0), FX_LIMA, t);
	id = fx_reservar_ok(&(struct fx_cita){ .paciente = pac,
	    .veterinario = vet, .sede = SEDE, .inicio = t });
	fx_snapshot(&before);
	for (i = 0; malas[i] != NULL; i++) {
		snprintf(body, sizeof(body), "{\"inicio\":%s}", malas[i]);
		fx_put_cita(id, body, NULL, &r);
		assert_problem(&r, 422, "validacion");
		ck_assert_msg(fx_has_error(&r, "inicio"), "%s", r.body);
		http_free(&r);
	}
	fx_assert_unchanged(&before);
}
END_TEST

START_TEST(entrada_fin_antes_de_inicio)
{
	long long vet = fx_vet(SEDE, FX_OFICINA), pac = fx_paciente(), id;
	long long d = lunes();
	char t[FX_HORA_LEN], f[FX_HORA_LEN], body[96];
	struct fx_counts before;
	struct http_resp r;

	fx_hora(d + FX_HM(10, 0), FX_LIMA, t);
	fx_hora(d + FX_HM(9, 0), FX_LIMA, f);
	fx_snapshot(&before);
	fx_reservar(&(struct fx_cita){ .paciente = pac, .veterinario = vet,
	    .sede = SEDE, .inicio = t, .fin = f }, NULL, &r);
	assert_problem(&r, 422, "validacion");
	ck_assert(fx_has_error(&r, "fin"));
	http_free(&r);
	fx_assert_unchanged(&before);

	id = fx_reservar_ok(&(struct fx_cita){ .paciente = pac,
	    .veterinario = vet, .sede = SEDE, .inicio = t });
	fx_snapshot(&before);
	snprintf(body, sizeof(body), "{\"fin\":\"%s\"}", f);
	fx_put_cita(id, body, NULL, &r);
	assert_problem(&r, 422, "validacion");
	ck_assert(fx_has_error(&r, "fin"));
	http_free(&r);
	snprintf(body, sizeof(body), "{\"fin\":\"%s\",\"duracion_min\":30}", f);
	fx_put_cita(id, body, NULL, &r);
	assert_problem(&r, 422, "validacion");
	ck_assert(fx_has_error(&r, "fin"));
	http_free(&r);
	fx_assert_unchanged(&before);
}
END_TEST

START_TEST(entrada_cuerpo_de_un_mega_es_413)
{
	size_t n = 1024 * 1024;
	char *motivo = malloc(n + 3), *body;
	struct fx_counts before;
	struct http_resp r;

	ck_assert_ptr_nonnull(motivo);
	motivo[0] = '"';
	memset(motivo + 1, 'x', n);
	strcpy(motivo + 1 + n, "\"");
	body = cuerpo_con("motivo", motivo);
	fx_snapshot(&before);
	http_post_json("/api/v1/citas/reservar", body, &r);
	assert_problem(&r, 413, "cuerpo-demasiado-grande");
	http_free(&r);
	http_req("PUT", "/api/v1/citas/1", "application/json", body,
	    strlen(body), NULL, &r);
	assert_problem(&r, 413, "cuerpo-demasiado-grande");
	http_free(&r);
	free(body);
	/* Under the limit but over the field's: 422. */
	strcpy(motivo + 1 + 501, "\"");
	body = cuerpo_con("motivo", motivo);
	http_post_json("/api/v1/citas/reservar", body, &r);
	assert_problem(&r, 422, "validacion");
	ck_assert(fx_has_error(&r, "motivo"));
	http_free(&r);
	fx_assert_unchanged(&before);
	free(body);
	free(motivo);
}
END_TEST

START_TEST(entrada_texto_sql_se_guarda_tal_cual)
{
	static const char *const textos[] = {
		"Robert'); DROP TABLE citas;--",
		"1' OR '1'='1",
		"\"comillas\" \\ barra; $$ $1 %s %n",
		"<script>alert(1)</script>",
	};
	long long vet = fx_vet(SEDE, FX_DIA_COMPLETO), pac = fx_paciente(), id;
	char t[FX_HORA_LEN];
	struct http_resp r;
	PGconn *c;
	PGresult *res;
	const char *p[1];
	size_t i;

	for (i = 0; i < sizeof(textos) / sizeof(textos[0]); i++) {
		fx_hora(lunes() + FX_HM(2 * (long long)i, 0), FX_LIMA, t);
		fx_reservar(&(struct fx_cita){ .paciente = pac,
		    .veterinario = vet, .sede = SEDE, .inicio = t,
		    .motivo = textos[i] }, NULL, &r);
		ck_assert_msg(r.status == 201, "%ld %s", r.status, r.body);
		ck_assert_str_eq(json_s(r.json, "motivo"), textos[i]);
		id = json_ll(r.json, "id");
		http_free(&r);
		/* Stored verbatim: compared with a parameter, not text. */
		c = db_connect();
		p[0] = textos[i];
		res = PQexecParams(c, "SELECT count(*) FROM citas WHERE "
		    "motivo = $1", 1, NULL, p, NULL, NULL, 0);
		ck_assert_int_eq(PQresultStatus(res), PGRES_TUPLES_OK);
		ck_assert_int_ge(atoll(PQgetvalue(res, 0, 0)), 1);
		PQclear(res);
		PQfinish(c);
		get_cita(id, &r);
		ck_assert_str_eq(json_s(r.json, "motivo"), textos[i]);
		http_free(&r);
	}
	ck_assert_int_ge(db_count("SELECT count(*) FROM citas"), 4);
}
END_TEST

START_TEST(entrada_utf8_invalido_es_400)
{
	static const char *const malos[] = { "\"Cl\xc3\x28nica\"",
	    "\"\xc0\xaf\"", "\"\xed\xa0\x80\"", "\"\xff\"", NULL };
	struct fx_counts before;
	struct http_resp r;
	char *body;
	int i;

	fx_snapshot(&before);
	for (i = 0; malos[i] != NULL; i++) {
		/* Built by hand: cJSON would not carry the bad bytes. */
		ck_assert_int_ge(asprintf(&body, "{\"paciente_id\":1,"
		    "\"veterinario_id\":1,\"sede_id\":1,\"inicio\":"
		    "\"2030-01-07T09:00:00-05:00\",\"duracion_min\":30,"
		    "\"motivo\":%s}", malos[i]), 0);
		http_post_json("/api/v1/citas/reservar", body, &r);
		assert_problem(&r, 400, "utf8-invalido");
		http_free(&r);
		http_req("PUT", "/api/v1/citas/1", "application/json", body,
		    strlen(body), NULL, &r);
		assert_problem(&r, 400, "utf8-invalido");
		http_free(&r);
		free(body);
	}
	fx_assert_unchanged(&before);
}
END_TEST

Suite *
citas_suite(void)
{
	Suite *s = suite_create("citas");
	TCase *core = tcase_create("core");
	TCase *reglas = tcase_create("reglas");
	TCase *idem = tcase_create("idempotencia");
	TCase *entrada = tcase_create("entrada");

	tcase_set_timeout(core, 30);
	tcase_add_test(core, reservar_201_location_y_detalle);
	tcase_add_test(core, reprogramar_con_las_mismas_reglas);
	tcase_add_test(core, transiciones_validas_con_sus_eventos);
	tcase_add_test(core, toda_transicion_invalida_es_409);
	tcase_add_test(core, version_distinta_es_412);
	tcase_add_test(core, delete_cancela_y_libera_el_hueco);
	tcase_add_test(core, listar_filtrar_y_paginar);
	tcase_add_test(core, listar_consultas_hostiles_son_400);
	tcase_add_test(core, put_sin_cambios_o_inexistente);
	tcase_add_test(core, documento_sigue_a_nombres_y_zona);
	suite_add_tcase(s, core);

	tcase_set_timeout(reglas, 30);
	tcase_add_test(reglas, regla_horario_del_veterinario);
	tcase_add_test(reglas, regla_zona_horaria_de_la_sede);
	tcase_add_test(reglas, regla_ausencia_del_veterinario);
	tcase_add_test(reglas, regla_sin_solape_del_veterinario);
	tcase_add_test(reglas, regla_sin_solape_de_consultorio_ni_paciente);
	tcase_add_test(reglas, conflicto_ajeno_no_se_revela);
	tcase_add_test(reglas, regla_inicio_en_el_futuro);
	tcase_add_test(reglas, regla_duracion_entre_5_y_240);
	tcase_add_test(reglas, regla_paciente_activo_y_vivo);
	tcase_add_test(reglas, regla_veterinario_de_la_sede);
	suite_add_tcase(s, reglas);

	tcase_set_timeout(idem, 30);
	tcase_add_test(idem, idempotencia_repite_la_primera_respuesta);
	tcase_add_test(idem, idempotencia_por_usuario);
	tcase_add_test(idem, idempotencia_misma_clave_otro_cuerpo_es_422);
	tcase_add_test(idem, idempotencia_clave_mal_formada_es_400);
	suite_add_tcase(s, idem);

	tcase_set_timeout(entrada, 30);
	tcase_add_test(entrada, entrada_json_mal_formado_es_400);
	tcase_add_test(entrada, entrada_tipos_incorrectos_son_422);
	tcase_add_test(entrada, entrada_campos_faltantes_son_422);
	tcase_add_test(entrada, entrada_campos_desconocidos_se_ignoran);
	tcase_add_test(entrada, entrada_ids_inexistentes);
	tcase_add_test(entrada, entrada_numeros_negativos_y_enormes);
	tcase_add_test(entrada, entrada_ids_de_ruta_no_numericos);
	tcase_add_test(entrada, entrada_fechas_y_zonas_invalidas);
	tcase_add_test(entrada, entrada_fin_antes_de_inicio);
	tcase_add_test(entrada, entrada_cuerpo_de_un_mega_es_413);
	tcase_add_test(entrada, entrada_texto_sql_se_guarda_tal_cual);
	tcase_add_test(entrada, entrada_utf8_invalido_es_400);
	suite_add_tcase(s, entrada);
	return s;
}
