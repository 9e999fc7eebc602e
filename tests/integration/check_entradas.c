/*
 * check_entradas.c - clinical entries through the API: SOAP with coded
 * diagnoses, vital signs and the visit's weight, sealed at rest and
 * shown opened; versions instead of changes (a correction by the author
 * within 24 h, an amendment with its reason at any time), both versions
 * in the history, the audit trail and the events; the lock after 24 h;
 * the network's diagnosis list; bad, hostile and out-of-scope input
 * refused with nothing written.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "itest.h"

static long long
diag(const char *codigo)
{
	char *v = db_valuef("SELECT id FROM diagnosticos WHERE codigo = '%s'",
	    codigo);
	long long id;

	ck_assert_ptr_nonnull(v);
	id = atoll(v);
	free(v);
	return id;
}

/* A second vet of c's site with a token of their own (malloc'd). */
static char *
colega(const struct fx_clinica *c, long long *vet)
{
	char *v, roles[96];
	long long uid;

	*vet = fx_vet(c->sede, FX_DIA_COMPLETO);
	v = db_valuef("SELECT usuario_id FROM veterinarios WHERE id = %lld",
	    *vet);
	ck_assert_ptr_nonnull(v);
	uid = atoll(v);
	free(v);
	db_execf("INSERT INTO usuario_roles (usuario_id, sede_id, rol) VALUES "
	    "(%lld, %lld, 'veterinario')", uid, c->sede);
	snprintf(roles, sizeof(roles), "[{\"rol\":\"veterinario\",\"sede\":%lld}]",
	    c->sede);
	return token_for(uid, roles);
}

/* An entry of pac written through the API by c's vet; its id. */
static long long
escribir(const struct fx_clinica *c, long long pac, const char *extra)
{
	struct http_resp r;
	char path[96], body[512];
	long long id;

	snprintf(path, sizeof(path), "/api/v1/pacientes/%lld/entradas", pac);
	snprintf(body, sizeof(body), "{\"sede_id\":%lld,\"anamnesis\":"
	    "\"Come poco desde ayer.\",\"examen\":\"Abdomen doloroso.\"%s%s}",
	    c->sede, extra ? "," : "", extra ? extra : "");
	http_token(c->token);
	http_post_json(path, body, &r);
	ck_assert_msg(r.status == 201, "%ld %s", r.status, r.body);
	id = json_ll(r.json, "id");
	http_free(&r);
	return id;
}

/* A full SOAP entry in an appointment: 201 with Location and ETag, the
 * text sealed at rest and opened in the answer, its diagnoses in order,
 * the weight in the patient's series, one audit row, one event without
 * the text, the history showing it. */
START_TEST(entrada_escrita)
{
	struct fx_clinica c;
	struct fx_counts before;
	struct fx_cita ci;
	struct http_resp r;
	long long pac = fx_paciente(), id, cita, gea = diag("DIG-GEA"),
	    panc = diag("DIG-PANC");
	char path[96], body[1024], h10[FX_HORA_LEN], buf[128];
	const cJSON *d;

	fx_clinica(&c);
	memset(&ci, 0, sizeof(ci));
	fx_hora(fx_dia("America/Lima", 0, 2) + FX_HM(10, 0), FX_LIMA, h10);
	ci.paciente = pac;
	ci.veterinario = c.vet;
	ci.sede = c.sede;
	ci.inicio = h10;
	cita = fx_reservar_ok(&ci);
	snprintf(path, sizeof(path), "/api/v1/pacientes/%lld/entradas", pac);
	snprintf(body, sizeof(body), "{\"sede_id\":%lld,\"cita_id\":%lld,"
	    "\"tipo\":\"urgencia\",\"anamnesis\":\"Vómitos desde ayer; "
	    "comió basura.\",\"examen\":\"Mucosas rosadas, TLLC < 2 s.\","
	    "\"diagnostico\":\"Gastroenteritis aguda probable.\",\"plan\":"
	    "\"Dieta blanda 3 días.\",\"temperatura_c\":39.46,"
	    "\"frecuencia_cardiaca\":110,\"frecuencia_respiratoria\":28,"
	    "\"peso_gramos\":12400,\"diagnosticos\":[{\"id\":%lld},"
	    "{\"id\":%lld,\"caracter\":\"descartado\"}]}", c.sede, cita, gea,
	    panc);
	http_token(c.token);
	fx_snapshot(&before);
	http_post_json(path, body, &r);
	ck_assert_msg(r.status == 201, "%ld %s", r.status, r.body);
	id = json_ll(r.json, "id");
	snprintf(path, sizeof(path), "/api/v1/entradas/%lld", id);
	ck_assert_str_eq(http_header(&r, "Location", buf, sizeof(buf)), path);
	ck_assert_str_eq(http_header(&r, "ETag", buf, sizeof(buf)), "\"1\"");
	ck_assert_str_eq(json_s(r.json, "anamnesis"),
	    "Vómitos desde ayer; comió basura.");
	ck_assert_str_eq(json_s(r.json, "tipo"), "urgencia");
	ck_assert_int_eq(json_ll(r.json, "veterinario_id"), c.vet);
	ck_assert_int_eq(json_ll(r.json, "cita_id"), cita);
	ck_assert_int_eq(json_ll(r.json, "version"), 1);
	ck_assert_int_eq(json_ll(r.json, "original_id"), id);
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(r.json, "vigente")));
	ck_assert_double_eq_tol(cJSON_GetObjectItem(r.json,
	    "temperatura_c")->valuedouble, 39.5, 1e-9);
	d = cJSON_GetObjectItem(r.json, "diagnosticos");
	ck_assert_int_eq(cJSON_GetArraySize(d), 2);
	ck_assert_str_eq(json_s(cJSON_GetArrayItem(d, 0), "codigo"), "DIG-GEA");
	ck_assert_str_eq(json_s(cJSON_GetArrayItem(d, 0), "caracter"),
	    "presuntivo");
	ck_assert_str_eq(json_s(cJSON_GetArrayItem(d, 1), "caracter"),
	    "descartado");
	http_free(&r);
	fx_assert_delta(&before, 0, 0, 0, 1, 1);
	ck_assert_int_eq(db_countf("SELECT count(*) FROM historia_entradas WHERE "
	    "id = %lld AND anamnesis LIKE 'v2:%%' AND plan LIKE 'v2:%%' AND "
	    "position('basura' IN anamnesis) = 0 AND registrado_por = %lld",
	    id, c.usuario), 1);
	ck_assert_int_eq(db_countf("SELECT count(*) FROM paciente_pesos WHERE "
	    "paciente_id = %lld AND historia_entrada_id = %lld AND peso_gramos "
	    "= 12400", pac, id), 1);
	ck_assert_int_eq(db_countf("SELECT count(*) FROM outbox WHERE tipo = "
	    "'entrada.registrada' AND agregado_id = '%lld' AND (payload->>"
	    "'entrada_id')::bigint = %lld AND payload->'diagnosticos' = "
	    "'[\"DIG-GEA\", \"DIG-PANC\"]' AND position('basura' IN "
	    "payload::text) = 0 AND position('v2:' IN payload::text) = 0", pac,
	    id), 1);
	ck_assert_int_eq(db_countf("SELECT count(*) FROM auditoria WHERE "
	    "entidad = 'historia_entradas' AND entidad_id = '%lld' AND accion = "
	    "'crear' AND sede_id = %lld AND NOT despues ? 'anamnesis' AND "
	    "despues->'diagnosticos' = '[\"DIG-GEA:presuntivo\", "
	    "\"DIG-PANC:descartado\"]'", id, c.sede), 1);

	/* Read back, audited; in the history with its vital signs. */
	http_get(path, &r);
	ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
	ck_assert_str_eq(json_s(r.json, "plan"), "Dieta blanda 3 días.");
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(r.json,
	    "versiones")), 1);
	http_free(&r);
	ck_assert_int_eq(db_countf("SELECT count(*) FROM auditoria WHERE "
	    "entidad = 'historia_entradas' AND entidad_id = '%lld' AND accion = "
	    "'leer'", id), 1);
	snprintf(path, sizeof(path), "/api/v1/pacientes/%lld/historial", pac);
	http_get(path, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_ptr_nonnull(strstr(r.body, "Gastroenteritis aguda probable."));
	ck_assert_ptr_nonnull(strstr(r.body, "\"frecuencia_cardiaca\":110"));
	http_free(&r);
	http_token(NULL);
	free(c.token);
}
END_TEST

/* A correction (author, within 24 h) and an amendment (a colleague,
 * with a reason): each a new version naming the one it replaces, the
 * replaced one kept and shown, the weight and diagnoses following the
 * current version; a replaced version, a stale ETag and a correction by
 * someone else refused. */
START_TEST(entrada_corregida_y_enmendada)
{
	struct fx_clinica c;
	struct fx_counts before;
	struct http_resp r;
	long long pac = fx_paciente(), v1, v2, v3, otro_vet,
	    gea = diag("DIG-GEA"), cext = diag("DIG-CEXT");
	char path[96], body[512], buf[128], *otro, extra[96];
	const cJSON *e, *d;
	int n = 0;

	fx_clinica(&c);
	snprintf(extra, sizeof(extra), "\"peso_gramos\":8000,\"diagnosticos\":"
	    "[{\"id\":%lld}]", gea);
	v1 = escribir(&c, pac, extra);
	snprintf(path, sizeof(path), "/api/v1/entradas/%lld", v1);

	/* The author corrects the weight and the assessment. */
	fx_snapshot(&before);
	http_send_json("PUT", path, "{\"peso_gramos\":8200,\"diagnostico\":"
	    "\"Gastritis.\",\"motivo\":\"Error de tipeo\"}", "\"1\"", &r);
	ck_assert_msg(r.status == 201, "%ld %s", r.status, r.body);
	v2 = json_ll(r.json, "id");
	ck_assert_int_eq(json_ll(r.json, "version"), 2);
	ck_assert_int_eq(json_ll(r.json, "corrige_id"), v1);
	ck_assert_int_eq(json_ll(r.json, "original_id"), v1);
	ck_assert_str_eq(json_s(r.json, "cambio"), "correccion");
	ck_assert_str_eq(json_s(r.json, "anamnesis"), "Come poco desde ayer.");
	ck_assert_str_eq(json_s(r.json, "diagnostico"), "Gastritis.");
	ck_assert_int_eq(json_ll(r.json, "peso_gramos"), 8200);
	ck_assert_str_eq(http_header(&r, "ETag", buf, sizeof(buf)), "\"2\"");
	d = cJSON_GetObjectItem(r.json, "diagnosticos");
	ck_assert_int_eq(cJSON_GetArraySize(d), 1);
	ck_assert_str_eq(json_s(cJSON_GetArrayItem(d, 0), "codigo"), "DIG-GEA");
	http_free(&r);
	fx_assert_delta(&before, 0, 0, 0, 1, 1);
	ck_assert_int_eq(db_countf("SELECT count(*) FROM paciente_pesos WHERE "
	    "paciente_id = %lld", pac), 1);
	ck_assert_int_eq(db_countf("SELECT count(*) FROM paciente_pesos WHERE "
	    "historia_entrada_id = %lld AND peso_gramos = 8200", v2), 1);
	/* The trail holds both versions' facts, not their text. */
	ck_assert_int_eq(db_countf("SELECT count(*) FROM auditoria WHERE "
	    "entidad = 'historia_entradas' AND entidad_id = '%lld' AND accion = "
	    "'corregir' AND (antes->>'peso_gramos')::int = 8000 AND (despues->>"
	    "'peso_gramos')::int = 8200 AND (antes->>'id')::bigint = %lld AND "
	    "NOT antes ? 'diagnostico' AND despues->'campos_enviados' ? "
	    "'diagnostico'", v2, v1), 1);
	ck_assert_int_eq(db_countf("SELECT count(*) FROM outbox WHERE tipo = "
	    "'entrada.enmendada' AND (payload->>'entrada_id')::bigint = %lld AND "
	    "(payload->>'corrige_id')::bigint = %lld AND payload->>'cambio' = "
	    "'correccion'", v2, v1), 1);

	/* v1 is replaced: neither corrected nor amended again. */
	http_send_json("PUT", path, "{\"plan\":\"Otro\"}", NULL, &r);
	assert_problem(&r, 409, "conflicto");
	http_free(&r);
	snprintf(path, sizeof(path), "/api/v1/entradas/%lld", v2);
	http_send_json("PUT", path, "{\"plan\":\"Otro\"}", "\"1\"", &r);
	assert_problem(&r, 412, "version-distinta");
	http_free(&r);

	/* A colleague may not correct it, but may amend it with a reason. */
	otro = colega(&c, &otro_vet);
	http_token(otro);
	http_send_json("PUT", path, "{\"plan\":\"Otro\"}", NULL, &r);
	assert_problem(&r, 403, "prohibido");
	http_free(&r);
	snprintf(path, sizeof(path), "/api/v1/entradas/%lld/enmiendas", v2);
	http_send_json("POST", path, "{\"plan\":\"Laparotomía\"}", NULL, &r);
	assert_problem(&r, 422, "validacion");
	ck_assert(fx_has_error(&r, "motivo"));
	http_free(&r);
	http_send_json("POST", path, "{\"motivo\":\"Ecografía\"}", NULL, &r);
	assert_problem(&r, 422, "validacion");
	ck_assert(fx_has_error(&r, "cuerpo"));
	http_free(&r);
	snprintf(body, sizeof(body), "{\"motivo\":\"Ecografía: cuerpo "
	    "extraño\",\"plan\":\"Laparotomía\",\"peso_gramos\":null,"
	    "\"diagnosticos\":[{\"id\":%lld,\"caracter\":\"definitivo\"}]}",
	    cext);
	http_send_json("POST", path, body, "\"2\"", &r);
	ck_assert_msg(r.status == 201, "%ld %s", r.status, r.body);
	v3 = json_ll(r.json, "id");
	ck_assert_int_eq(json_ll(r.json, "version"), 3);
	ck_assert_str_eq(json_s(r.json, "cambio"), "enmienda");
	ck_assert_str_eq(json_s(r.json, "motivo_cambio"), "Ecografía: cuerpo "
	    "extraño");
	ck_assert_int_eq(json_ll(r.json, "veterinario_id"), otro_vet);
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(r.json, "peso_gramos")));
	http_free(&r);
	ck_assert_int_eq(db_countf("SELECT count(*) FROM paciente_pesos WHERE "
	    "paciente_id = %lld", pac), 0);
	ck_assert_int_eq(db_countf("SELECT count(*) FROM auditoria WHERE "
	    "entidad_id = '%lld' AND accion = 'enmendar'", v3), 1);

	/* Every version in the history and in the entry's list, the
	 * replaced ones marked with their successor. */
	http_token(c.token);
	snprintf(path, sizeof(path), "/api/v1/entradas/%lld", v1);
	http_get(path, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_int_eq(json_ll(r.json, "reemplazada_por"), v2);
	ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(r.json, "vigente")));
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(r.json,
	    "versiones")), 3);
	http_free(&r);
	snprintf(path, sizeof(path), "/api/v1/pacientes/%lld/historial", pac);
	http_get(path, &r);
	ck_assert_int_eq(r.status, 200);
	cJSON_ArrayForEach(e, json_items(r.json))
		if (strcmp(json_s(e, "tipo"), "entrada") == 0)
			n++;
	ck_assert_int_eq(n, 3);
	ck_assert_ptr_nonnull(strstr(r.body, "Gastritis."));
	ck_assert_ptr_nonnull(strstr(r.body, "Laparotomía"));
	http_free(&r);
	http_token(NULL);
	free(c.token);
	free(otro);
}
END_TEST

/* 24 h after the first version the entry is locked: no correction, even
 * of a later version; an amendment still goes. */
START_TEST(entrada_bloqueada)
{
	struct fx_clinica c;
	struct http_resp r;
	long long pac = fx_paciente(), v1, v2;
	char path[96];

	fx_clinica(&c);
	v1 = escribir(&c, pac, NULL);
	/* As if written yesterday: the signed row is the table owner's to
	 * date in a test, never the API's. */
	db_execf("ALTER TABLE historia_entradas DISABLE TRIGGER "
	    "historia_entradas_inmutable; UPDATE historia_entradas SET creado_en "
	    "= now() - interval '25 hours', firmado_en = now() - interval "
	    "'25 hours' WHERE id = %lld; ALTER TABLE historia_entradas ENABLE "
	    "TRIGGER historia_entradas_inmutable", v1);
	snprintf(path, sizeof(path), "/api/v1/entradas/%lld", v1);
	http_token(c.token);
	http_send_json("PUT", path, "{\"plan\":\"Control en 7 días\"}", NULL, &r);
	assert_problem(&r, 409, "entrada-bloqueada");
	ck_assert_ptr_nonnull(strstr(r.body, "enmienda"));
	http_free(&r);
	snprintf(path, sizeof(path), "/api/v1/entradas/%lld/enmiendas", v1);
	http_send_json("POST", path, "{\"motivo\":\"Faltaba el plan\",\"plan\":"
	    "\"Control en 7 días\"}", NULL, &r);
	ck_assert_msg(r.status == 201, "%ld %s", r.status, r.body);
	v2 = json_ll(r.json, "id");
	http_free(&r);
	snprintf(path, sizeof(path), "/api/v1/entradas/%lld", v2);
	http_send_json("PUT", path, "{\"plan\":\"Control en 5 días\"}", NULL, &r);
	assert_problem(&r, 409, "entrada-bloqueada");
	http_free(&r);
	/* Nor does the database let anyone change a signed version. */
	ck_assert_int_eq(db_countf("SELECT count(*) FROM historia_entradas WHERE "
	    "id = %lld AND plan IS NULL", v1), 1);
	http_token(NULL);
	free(c.token);
}
END_TEST

/* Bad, hostile and out-of-scope entries: 4xx, nothing written. */
START_TEST(entrada_rechazada)
{
	struct fx_clinica c, otra;
	struct fx_counts before;
	struct http_resp r;
	long long pac = fx_paciente(), otro_pac = fx_paciente(),
	    muerto = fx_paciente(), cita, gea = diag("DIG-GEA"),
	    felino = diag("CAR-CMH");
	char path[96], body[1024], *tok, *largo, h10[FX_HORA_LEN];
	struct fx_cita ci;
	size_t i;
	struct {
		const char *json;	/* %lld the site, then a diagnosis */
		const char *campo;
	} bad[] = {
		{ "{\"sede_id\":%lld}", "cuerpo" },
		{ "{\"sede_id\":%lld,\"anamnesis\":\"\"}", "anamnesis" },
		{ "{\"sede_id\":%lld,\"anamnesis\":\"   \"}", "anamnesis" },
		{ "{\"sede_id\":%lld,\"examen\":7}", "examen" },
		{ "{\"sede_id\":%lld,\"plan\":\"x\",\"tipo\":\"spa\"}", "tipo" },
		{ "{\"sede_id\":%lld,\"plan\":\"x\",\"temperatura_c\":60}",
		    "temperatura_c" },
		{ "{\"sede_id\":%lld,\"plan\":\"x\",\"temperatura_c\":\"39\"}",
		    "temperatura_c" },
		{ "{\"sede_id\":%lld,\"plan\":\"x\",\"frecuencia_cardiaca\":0}",
		    "frecuencia_cardiaca" },
		{ "{\"sede_id\":%lld,\"plan\":\"x\",\"frecuencia_respiratoria\":"
		    "301}", "frecuencia_respiratoria" },
		{ "{\"sede_id\":%lld,\"plan\":\"x\",\"peso_gramos\":300001}",
		    "peso_gramos" },
		{ "{\"sede_id\":%lld,\"plan\":\"x\",\"diagnosticos\":{}}",
		    "diagnosticos" },
		{ "{\"sede_id\":%lld,\"plan\":\"x\",\"diagnosticos\":[7]}",
		    "diagnosticos[0]" },
		{ "{\"sede_id\":%lld,\"plan\":\"x\",\"diagnosticos\":[{\"id\":"
		    "%lld},{\"id\":%lld}]}", "diagnosticos[1].id" },
		{ "{\"sede_id\":%lld,\"plan\":\"x\",\"diagnosticos\":[{\"id\":"
		    "%lld,\"caracter\":\"seguro\"}]}", "caracter" },
		{ "{\"sede_id\":%lld,\"plan\":\"x\",\"diagnosticos\":[{\"id\":"
		    "%lld,\"codigo\":\"X\"}]}", "diagnosticos[0]" },
		{ "{\"sede_id\":%lld,\"plan\":\"x\",\"diagnosticos\":[{\"id\":"
		    "999999999}]}", "diagnosticos[0].id" },
		{ "{\"sede_id\":%lld,\"plan\":\"x\",\"cita_id\":999999999}",
		    "cita_id" },
		{ "{\"sede_id\":%lld,\"plan\":\"x\",\"veterinario_id\":0}",
		    "veterinario_id" },
		{ "{\"sede_id\":\"%lld\",\"plan\":\"x\"}", "sede_id" },
		{ "{\"sede_id\":%lld,\"plan\":\"x\",\"anamnesys\":\"y\"}",
		    "campo desconocido" },
	};

	fx_clinica(&c);
	fx_clinica(&otra);
	snprintf(path, sizeof(path), "/api/v1/pacientes/%lld/entradas", pac);
	http_token(c.token);
	fx_snapshot(&before);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(body, sizeof(body), bad[i].json, c.sede, gea, gea);
		http_post_json(path, body, &r);
		ck_assert_msg(r.status == 422, "%s: %ld %s", body, r.status,
		    r.body);
		ck_assert_msg(fx_has_error(&r, bad[i].campo) ||
		    strstr(r.body, bad[i].campo) != NULL, "%s: %s", body,
		    r.body);
		http_free(&r);
	}
	/* A cat's diagnosis for a dog; another patient's appointment; the
	 * other site's vet; text over 20,000 characters. */
	snprintf(body, sizeof(body), "{\"sede_id\":%lld,\"plan\":\"x\","
	    "\"diagnosticos\":[{\"id\":%lld}]}", c.sede, felino);
	http_post_json(path, body, &r);
	assert_problem(&r, 422, "validacion");
	ck_assert(fx_has_error(&r, "diagnosticos[0].id"));
	http_free(&r);
	memset(&ci, 0, sizeof(ci));
	fx_hora(fx_dia("America/Lima", 0, 3) + FX_HM(11, 0), FX_LIMA, h10);
	ci.paciente = otro_pac;
	ci.veterinario = c.vet;
	ci.sede = c.sede;
	ci.inicio = h10;
	cita = fx_reservar_ok(&ci);
	fx_snapshot(&before);
	snprintf(body, sizeof(body), "{\"sede_id\":%lld,\"plan\":\"x\","
	    "\"cita_id\":%lld}", c.sede, cita);
	http_post_json(path, body, &r);
	assert_problem(&r, 422, "validacion");
	ck_assert(fx_has_error(&r, "cita_id"));
	http_free(&r);
	snprintf(body, sizeof(body), "{\"sede_id\":%lld,\"plan\":\"x\","
	    "\"veterinario_id\":%lld}", c.sede, otra.vet);
	http_post_json(path, body, &r);
	assert_problem(&r, 422, "validacion");
	ck_assert(fx_has_error(&r, "veterinario_id"));
	http_free(&r);
	largo = malloc(20100);
	ck_assert_ptr_nonnull(largo);
	i = (size_t)snprintf(largo, 64, "{\"sede_id\":%lld,\"texto\":\"", c.sede);
	memset(largo + i, 'a', 20001);
	strcpy(largo + i + 20001, "\"}");
	http_post_json(path, largo, &r);
	assert_problem(&r, 422, "validacion");
	ck_assert(fx_has_error(&r, "texto"));
	http_free(&r);
	free(largo);
	/* Another site: no role there; a receptionist: no permission. */
	snprintf(body, sizeof(body), "{\"sede_id\":%lld,\"plan\":\"x\"}",
	    otra.sede);
	http_post_json(path, body, &r);
	assert_problem(&r, 403, "prohibido");
	http_free(&r);
	tok = fx_token_de("recepcion", c.sede, NULL);
	http_token(tok);
	snprintf(body, sizeof(body), "{\"sede_id\":%lld,\"plan\":\"x\"}", c.sede);
	http_post_json(path, body, &r);
	assert_problem(&r, 403, "prohibido");
	http_free(&r);
	http_token(c.token);
	/* Deceased, unknown, a bad id. */
	db_execf("UPDATE pacientes SET fallecido = true, activo = false, "
	    "fecha_fallecimiento = DATE '2026-01-01' WHERE id = %lld", muerto);
	snprintf(path, sizeof(path), "/api/v1/pacientes/%lld/entradas", muerto);
	http_post_json(path, body, &r);
	assert_problem(&r, 409, "conflicto");
	http_free(&r);
	http_post_json("/api/v1/pacientes/999999999999/entradas", body, &r);
	assert_problem(&r, 404, "no-encontrado");
	http_free(&r);
	http_post_json("/api/v1/pacientes/abc/entradas", body, &r);
	ck_assert_int_eq(r.status, 400);
	http_free(&r);
	fx_assert_unchanged(&before);
	ck_assert_int_eq(db_countf("SELECT count(*) FROM historia_entradas WHERE "
	    "paciente_id IN (%lld, %lld)", pac, muerto), 0);

	/* Versions: of an entry of another site, of nothing, with a bad
	 * If-Match. */
	http_token(otra.token);
	snprintf(path, sizeof(path), "/api/v1/entradas/%lld",
	    escribir(&c, pac, NULL));
	http_token(otra.token);
	fx_snapshot(&before);
	http_send_json("PUT", path, "{\"plan\":\"x\"}", NULL, &r);
	assert_problem(&r, 403, "prohibido");
	http_free(&r);
	http_get(path, &r);
	assert_problem(&r, 403, "prohibido");
	http_free(&r);
	http_token(c.token);
	http_send_json("PUT", path, "{\"plan\":\"x\"}", "\"uno\"", &r);
	assert_problem(&r, 422, "validacion");
	http_free(&r);
	http_send_json("PUT", path, "{\"anamnesis\":null,\"examen\":null}", NULL, &r);
	assert_problem(&r, 422, "validacion");
	http_free(&r);
	http_send_json("PUT", path, "{\"plan\":\"x\",\"sede_id\":1}", NULL, &r);
	assert_problem(&r, 422, "validacion");
	http_free(&r);
	http_send_json("PUT", path, "{}", NULL, &r);
	assert_problem(&r, 422, "validacion");
	http_free(&r);
	http_send_json("PUT", "/api/v1/entradas/999999999999", "{\"plan\":\"x\"}",
	    NULL, &r);
	assert_problem(&r, 404, "no-encontrado");
	http_free(&r);
	http_get("/api/v1/entradas/999999999999", &r);
	assert_problem(&r, 404, "no-encontrado");
	http_free(&r);
	fx_assert_unchanged(&before);
	http_token(NULL);
	free(c.token);
	free(otra.token);
	free(tok);
}
END_TEST

/* Hostile text is kept as written and given back as written. */
START_TEST(entrada_texto_hostil)
{
	struct fx_clinica c;
	struct http_resp r;
	long long pac = fx_paciente();
	char path[96];
	static const char hostil[] = "'); DROP TABLE historia_entradas; -- "
	    "<script>alert(1)</script> \\\" \xe2\x80\xae \xf0\x9f\x90\xb6";

	fx_clinica(&c);
	snprintf(path, sizeof(path), "/api/v1/pacientes/%lld/entradas", pac);
	http_token(c.token);
	{
		char body[512];

		snprintf(body, sizeof(body), "{\"sede_id\":%lld,\"texto\":"
		    "\"%s\",\"tipo\":\"nota\"}", c.sede, hostil);
		http_post_json(path, body, &r);
	}
	ck_assert_msg(r.status == 201, "%ld %s", r.status, r.body);
	ck_assert_ptr_nonnull(strstr(json_s(r.json, "texto"),
	    "DROP TABLE historia_entradas"));
	ck_assert_ptr_nonnull(strstr(json_s(r.json, "texto"), "<script>"));
	http_free(&r);
	ck_assert_int_ge(db_count("SELECT count(*) FROM historia_entradas"), 1);
	http_token(NULL);
	free(c.token);
}
END_TEST

/* The network's list: found by words without accents or by code, by
 * species; extended by the network's administrator only. */
START_TEST(diagnosticos)
{
	struct http_resp r;
	const cJSON *e;
	char *tok, *code = db_value("SELECT 'PRB-' || upper(substr(md5("
	    "gen_random_uuid()::text), 1, 10))"), body[256];
	int n = 0;

	http_get("/api/v1/diagnosticos?q=ulcera%20corn", &r);
	ck_assert_int_eq(r.status, 200);
	cJSON_ArrayForEach(e, json_items(r.json)) {
		ck_assert_str_eq(json_s(e, "codigo"), "OFT-ULCER");
		n++;
	}
	ck_assert_int_eq(n, 1);
	http_free(&r);
	http_get("/api/v1/diagnosticos?q=end-&especie=felino", &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_ptr_nonnull(strstr(r.body, "END-HIPERT"));
	ck_assert_ptr_null(strstr(r.body, "END-HIPOT"));
	http_free(&r);
	http_get("/api/v1/diagnosticos?categoria=otologia", &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_ptr_nonnull(strstr(r.body, "OTO-EXT"));
	ck_assert_ptr_null(strstr(r.body, "DER-"));
	http_free(&r);
	http_get("/api/v1/diagnosticos?especie=dragon", &r);
	assert_problem(&r, 400, "parametro-invalido");
	http_free(&r);
	http_get("/api/v1/diagnosticos?q=%20%20", &r);
	assert_problem(&r, 400, "parametro-invalido");
	http_free(&r);

	snprintf(body, sizeof(body), "{\"codigo\":\"%s\",\"nombre\":\"Prueba "
	    "%s\",\"categoria\":\"otro\",\"especies\":[\"conejo\"]}", code, code);
	http_post_json("/api/v1/diagnosticos", body, &r);
	ck_assert_msg(r.status == 201, "%ld %s", r.status, r.body);
	http_free(&r);
	ck_assert_int_eq(db_countf("SELECT count(*) FROM auditoria WHERE "
	    "entidad = 'diagnosticos' AND despues->>'codigo' = '%s'", code), 1);
	http_post_json("/api/v1/diagnosticos", body, &r);
	assert_problem(&r, 409, "conflicto");
	http_free(&r);
	http_post_json("/api/v1/diagnosticos", "{\"codigo\":\"der-x\","
	    "\"nombre\":\"\",\"categoria\":\"magia\",\"especies\":[\"canino\","
	    "\"canino\"]}", &r);
	assert_problem(&r, 422, "validacion");
	ck_assert(fx_has_error(&r, "codigo") && fx_has_error(&r, "nombre") &&
	    fx_has_error(&r, "categoria") && fx_has_error(&r, "especies"));
	http_free(&r);
	tok = fx_token_de("admin_sede", 1, NULL);
	http_token(tok);
	http_post_json("/api/v1/diagnosticos", body, &r);
	assert_problem(&r, 403, "prohibido");
	http_free(&r);
	http_token(NULL);
	free(tok);
	free(code);
}
END_TEST

Suite *
entradas_suite(void)
{
	Suite *s = suite_create("entradas");
	TCase *tc = tcase_create("entries");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, entrada_escrita);
	tcase_add_test(tc, entrada_corregida_y_enmendada);
	tcase_add_test(tc, entrada_bloqueada);
	tcase_add_test(tc, entrada_rechazada);
	tcase_add_test(tc, entrada_texto_hostil);
	tcase_add_test(tc, diagnosticos);
	suite_add_tcase(s, tc);
	return s;
}
