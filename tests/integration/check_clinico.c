/*
 * check_clinico.c - vaccinations and treatments recorded through the
 * API: the row, its audit row and its event in one go, the history
 * showing them, the vet by default the caller's; an expired lot, a
 * vaccine of another species, dates in the future, a vet of another
 * site, another site's caller and bad values refused with nothing
 * written.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "itest.h"
#include "vr.h"

static char *
vacuna(const char *codigo)
{
	char *v = db_valuef("SELECT id FROM vacunas WHERE codigo = '%s'",
	    codigo);

	ck_assert_ptr_nonnull(v);
	return v;
}

static void
post(const char *path, const char *json, struct http_resp *r)
{
	http_post_json(path, json, r);
}

/* A vaccination by the site's own vet (no veterinario_id sent): 201,
 * one row, one audit row, one event for the reminders, in the history. */
START_TEST(vacunacion_registrada)
{
	struct fx_clinica c;
	struct fx_counts before;
	struct http_resp r;
	long long pac = fx_paciente(), id;
	char *rabia = vacuna("CAN-RABIA"), path[96], body[512], *hoy;

	fx_clinica(&c);
	hoy = db_value("SELECT (now() AT TIME ZONE 'America/Lima')::date");
	snprintf(path, sizeof(path), "/api/v1/pacientes/%lld/vacunaciones", pac);
	snprintf(body, sizeof(body), "{\"vacuna_id\":%s,\"producto\":\"Rabisin\","
	    "\"lote\":\"RB2612A\",\"vencimiento_lote\":\"2099-11-30\","
	    "\"dosis_numero\":1,\"proxima_dosis\":\"2099-12-04\",\"sede_id\":%lld,"
	    "\"observaciones\":\"Sin reacción\"}", rabia, c.sede);
	http_token(c.token);
	fx_snapshot(&before);
	post(path, body, &r);
	ck_assert_msg(r.status == 201, "%ld %s", r.status, r.body);
	id = json_ll(r.json, "id");
	ck_assert_int_eq(json_ll(r.json, "veterinario_id"), c.vet);
	ck_assert_str_eq(json_s(r.json, "fecha_aplicacion"), hoy);
	ck_assert_str_eq(json_s(r.json, "codigo"), "CAN-RABIA");
	ck_assert_str_eq(json_s(r.json, "producto"), "Rabisin");
	http_free(&r);
	fx_assert_delta(&before, 0, 0, 0, 1, 1);
	ck_assert_int_eq(db_countf("SELECT count(*) FROM outbox WHERE tipo = "
	    "'vacunacion.registrada' AND agregado = 'paciente' AND agregado_id = "
	    "'%lld' AND (payload->>'vacunacion_id')::bigint = %lld AND "
	    "payload->>'proxima_dosis' = '2099-12-04' AND payload->>"
	    "'vacuna_codigo' = 'CAN-RABIA' AND payload->>'zona_horaria' = "
	    "'America/Lima'", pac, id), 1);
	ck_assert_int_eq(db_countf("SELECT count(*) FROM auditoria WHERE "
	    "entidad = 'vacunaciones' AND entidad_id = '%lld' AND accion = "
	    "'crear' AND sede_id = %lld AND usuario_id = %lld", id, c.sede,
	    c.usuario), 1);
	snprintf(path, sizeof(path), "/api/v1/pacientes/%lld/historial", pac);
	http_get(path, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_ptr_nonnull(strstr(r.body, "RB2612A"));
	http_free(&r);
	http_token(NULL);
	free(c.token);
	free(rabia);
	free(hoy);
}
END_TEST

/* Refused, nothing written: an expired lot, another species' vaccine,
 * a future date, a vet of another site, an appointment
 * that is not the patient's, a deceased patient, bad values, another
 * site's vet, a receptionist. */
START_TEST(vacunacion_rechazada)
{
	struct fx_clinica c, otra;
	struct fx_counts before;
	struct http_resp r;
	long long pac = fx_paciente(), muerto = fx_paciente();
	char *rabia = vacuna("CAN-RABIA"), *felina = vacuna("FEL-TRIPLE");
	char path[96], body[600], *manana, *tok;
	size_t i;
	struct {
		const char *json;	/* %s vaccine, %lld site (and vet) */
		const char *campo;
		long status;
	} bad[] = {
		{ "{\"vacuna_id\":%s,\"lote\":\"L1\",\"vencimiento_lote\":"
		    "\"2020-01-31\",\"sede_id\":%lld}", "vencimiento_lote", 422 },
		{ "{\"vacuna_id\":%s,\"lote\":\"L1\",\"vencimiento_lote\":"
		    "\"2099-01-31\",\"fecha_aplicacion\":\"2099-01-01\","
		    "\"sede_id\":%lld}", "fecha_aplicacion", 422 },
		{ "{\"vacuna_id\":%s,\"lote\":\"L1\",\"vencimiento_lote\":"
		    "\"2099-01-31\",\"dosis_numero\":21,\"sede_id\":%lld}",
		    "dosis_numero", 422 },
		{ "{\"vacuna_id\":%s,\"lote\":\"L1\",\"vencimiento_lote\":"
		    "\"2099-01-31\",\"proxima_dosis\":\"2020-01-01\","
		    "\"sede_id\":%lld}", "proxima_dosis", 422 },
		{ "{\"vacuna_id\":%s,\"lote\":\"\",\"vencimiento_lote\":"
		    "\"2099-13-31\",\"dosis_numero\":0,\"sede_id\":%lld}", "lote",
		    422 },
		{ "{\"vacuna_id\":\"%s\",\"lote\":\"L1\",\"vencimiento_lote\":"
		    "\"2099-01-31\",\"sede_id\":%lld}", "vacuna_id", 422 },
		{ "{\"vacuna_id\":%s,\"lote\":\"L1\",\"sede_id\":%lld}",
		    "vencimiento_lote", 422 },
		{ "{\"vacuna_id\":%s,\"lote\":\"L1\",\"vencimiento_lote\":"
		    "\"2099-01-31\",\"cita_id\":999999999999,\"sede_id\":%lld}",
		    "cita_id", 422 },
	};

	fx_clinica(&c);
	fx_clinica(&otra);
	snprintf(path, sizeof(path), "/api/v1/pacientes/%lld/vacunaciones", pac);
	http_token(c.token);
	fx_snapshot(&before);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(body, sizeof(body), bad[i].json, rabia, c.sede);
		post(path, body, &r);
		ck_assert_msg(r.status == bad[i].status, "%s: %ld %s", body,
		    r.status, r.body);
		if (bad[i].campo != NULL)
			ck_assert_msg(fx_has_error(&r, bad[i].campo), "%s: %s",
			    body, r.body);
		http_free(&r);
	}
	/* A feline vaccine for a dog. */
	snprintf(body, sizeof(body), "{\"vacuna_id\":%s,\"lote\":\"L1\","
	    "\"vencimiento_lote\":\"2099-01-31\",\"sede_id\":%lld}", felina,
	    c.sede);
	post(path, body, &r);
	assert_problem(&r, 422, "validacion");
	ck_assert(fx_has_error(&r, "vacuna_id"));
	http_free(&r);
	/* Today is fine, tomorrow (at the site) is not. */
	manana = db_value("SELECT (now() AT TIME ZONE 'America/Lima')::date + 1");
	snprintf(body, sizeof(body), "{\"vacuna_id\":%s,\"lote\":\"L1\","
	    "\"vencimiento_lote\":\"2099-01-31\",\"fecha_aplicacion\":\"%s\","
	    "\"sede_id\":%lld}", rabia, manana, c.sede);
	post(path, body, &r);
	assert_problem(&r, 422, "validacion");
	http_free(&r);
	/* The other site's vet named here. */
	snprintf(body, sizeof(body), "{\"vacuna_id\":%s,\"lote\":\"L1\","
	    "\"vencimiento_lote\":\"2099-01-31\",\"veterinario_id\":%lld,"
	    "\"sede_id\":%lld}", rabia, otra.vet, c.sede);
	post(path, body, &r);
	assert_problem(&r, 422, "validacion");
	ck_assert(fx_has_error(&r, "veterinario_id"));
	http_free(&r);
	/* This vet at the other site: no role there. */
	snprintf(body, sizeof(body), "{\"vacuna_id\":%s,\"lote\":\"L1\","
	    "\"vencimiento_lote\":\"2099-01-31\",\"sede_id\":%lld}", rabia,
	    otra.sede);
	post(path, body, &r);
	assert_problem(&r, 403, "prohibido");
	http_free(&r);
	/* A receptionist does not write the record. */
	tok = fx_token_de("recepcion", c.sede, NULL);
	http_token(tok);
	snprintf(body, sizeof(body), "{\"vacuna_id\":%s,\"lote\":\"L1\","
	    "\"vencimiento_lote\":\"2099-01-31\",\"sede_id\":%lld}", rabia,
	    c.sede);
	post(path, body, &r);
	assert_problem(&r, 403, "prohibido");
	http_free(&r);
	http_token(c.token);
	/* A deceased patient; an unknown one. */
	db_execf("UPDATE pacientes SET fallecido = true, activo = false, "
	    "fecha_fallecimiento = DATE '2026-01-01' WHERE id = %lld", muerto);
	fx_snapshot(&before);
	snprintf(path, sizeof(path), "/api/v1/pacientes/%lld/vacunaciones",
	    muerto);
	post(path, body, &r);
	assert_problem(&r, 409, "conflicto");
	http_free(&r);
	post("/api/v1/pacientes/999999999999/vacunaciones", body, &r);
	assert_problem(&r, 404, "no-encontrado");
	http_free(&r);
	fx_assert_unchanged(&before);
	ck_assert_int_eq(db_countf("SELECT count(*) FROM vacunaciones WHERE "
	    "paciente_id IN (%lld, %lld)", pac, muerto), 0);
	http_token(NULL);
	free(c.token);
	free(otra.token);
	free(tok);
	free(manana);
	free(rabia);
	free(felina);
}
END_TEST

/* A treatment: the description sealed at rest and shown opened, its
 * event with the interval and follow-up; dates out of order refused. */
START_TEST(tratamiento_registrado_y_rechazado)
{
	struct fx_clinica c;
	struct fx_counts before;
	struct http_resp r;
	long long pac = fx_paciente(), id;
	char path[96], body[700];
	size_t i;
	static const char *const bad[] = {
		"{\"sede_id\":%lld}",
		"{\"descripcion\":\"x\",\"inicio\":\"2026-12-10\",\"fin\":"
		    "\"2026-12-01\",\"sede_id\":%lld}",
		"{\"descripcion\":\"x\",\"inicio\":\"2026-12-10\","
		    "\"fecha_seguimiento\":\"2026-12-01\",\"sede_id\":%lld}",
		"{\"descripcion\":\"x\",\"inicio\":\"2099-01-01\",\"sede_id\":%lld}",
		"{\"descripcion\":\"x\",\"via\":\"nasal\",\"intervalo_horas\":0,"
		    "\"sede_id\":%lld}",
		"{\"descripcion\":\"x\",\"historia_entrada_id\":999999999999,"
		    "\"sede_id\":%lld}",
		"{\"descripcion\":7,\"inicio\":\"mañana\",\"sede_id\":%lld}",
	};

	fx_clinica(&c);
	snprintf(path, sizeof(path), "/api/v1/pacientes/%lld/tratamientos", pac);
	http_token(c.token);
	snprintf(body, sizeof(body), "{\"descripcion\":\"Amoxicilina 250 mg "
	    "cada 12 horas por 7 días, con comida\",\"medicamento\":"
	    "\"Amoxicilina 250 mg\",\"dosis\":\"1 tableta\",\"via\":\"oral\","
	    "\"frecuencia\":\"cada 12 horas\",\"intervalo_horas\":12,"
	    "\"fin\":\"2099-12-11\",\"fecha_seguimiento\":\"2099-12-14\","
	    "\"sede_id\":%lld}", c.sede);
	fx_snapshot(&before);
	post(path, body, &r);
	ck_assert_msg(r.status == 201, "%ld %s", r.status, r.body);
	id = json_ll(r.json, "id");
	ck_assert_str_eq(json_s(r.json, "descripcion"), "Amoxicilina 250 mg "
	    "cada 12 horas por 7 días, con comida");
	ck_assert_str_eq(json_s(r.json, "estado"), "activo");
	http_free(&r);
	fx_assert_delta(&before, 0, 0, 0, 1, 1);
	ck_assert_int_eq(db_countf("SELECT count(*) FROM tratamientos WHERE id "
	    "= %lld AND descripcion LIKE 'v2:%%' AND position('Amoxicilina' IN "
	    "descripcion) = 0 AND veterinario_id = %lld", id, c.vet), 1);
	ck_assert_int_eq(db_countf("SELECT count(*) FROM outbox WHERE tipo = "
	    "'tratamiento.registrado' AND agregado_id = '%lld' AND "
	    "(payload->>'intervalo_horas')::int = 12 AND "
	    "payload->>'fecha_seguimiento' = '2099-12-14' AND position("
	    "'Amoxicilina' IN payload::text) = 0", pac), 1);
	ck_assert_int_eq(db_countf("SELECT count(*) FROM auditoria WHERE "
	    "entidad = 'tratamientos' AND entidad_id = '%lld' AND NOT despues ? "
	    "'descripcion'", id), 1);

	fx_snapshot(&before);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(body, sizeof(body), bad[i], c.sede);
		post(path, body, &r);
		ck_assert_msg(r.status == 422, "%s: %ld %s", body, r.status,
		    r.body);
		http_free(&r);
	}
	fx_assert_unchanged(&before);
	http_token(NULL);
	free(c.token);
}
END_TEST

/* The catalog: every vaccine of a species; a bad species is a 400. */
START_TEST(catalogo_de_vacunas)
{
	struct http_resp r;
	const cJSON *e;
	int n = 0;

	http_get("/api/v1/vacunas?especie=felino", &r);
	ck_assert_int_eq(r.status, 200);
	cJSON_ArrayForEach(e, json_items(r.json)) {
		ck_assert_str_eq(json_s(e, "especie"), "felino");
		n++;
	}
	ck_assert_int_ge(n, 3);
	http_free(&r);
	http_get("/api/v1/vacunas?especie=dragon", &r);
	assert_problem(&r, 400, "parametro-invalido");
	http_free(&r);
	http_get("/api/v1/vacunas", &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_ptr_nonnull(strstr(r.body, "CON-MIXO-VHD"));
	http_free(&r);
}
END_TEST

Suite *
clinico_suite(void)
{
	Suite *s = suite_create("clinico");
	TCase *tc = tcase_create("record");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, vacunacion_registrada);
	tcase_add_test(tc, vacunacion_rechazada);
	tcase_add_test(tc, tratamiento_registrado_y_rechazado);
	tcase_add_test(tc, catalogo_de_vacunas);
	suite_add_tcase(s, tc);
	return s;
}
