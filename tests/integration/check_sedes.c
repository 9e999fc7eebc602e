/*
 * check_sedes.c - the sites resource end to end: create (with its audit
 * row and outbox event in the same transaction), read, list, and every
 * kind of bad input refused with nothing written.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "itest.h"

struct counts {
	long long	sedes, audit, outbox;
};

static void
snapshot(struct counts *c)
{
	c->sedes = db_count("SELECT count(*) FROM sedes");
	c->audit = db_count("SELECT count(*) FROM auditoria");
	c->outbox = db_count("SELECT count(*) FROM outbox");
}

static void
assert_nothing_written(const struct counts *before)
{
	struct counts now;

	snapshot(&now);
	ck_assert_int_eq(now.sedes, before->sedes);
	ck_assert_int_eq(now.audit, before->audit);
	ck_assert_int_eq(now.outbox, before->outbox);
}

START_TEST(create_read_and_list)
{
	char *code = unique_code("T"), body[512], loc[128], sql[256], *v;
	struct http_resp r, g;
	const cJSON *id;

	snprintf(body, sizeof(body), "{\"codigo\":\"%s\",\"nombre\":\"Sede "
	    "Prueba\",\"ciudad\":\"Trujillo\",\"direccion\":\"Jr. Pizarro "
	    "512\",\"telefono\":\"+51944123456\","
	    "\"zona_horaria\":\"America/Lima\",\"campo_extra\":1}", code);
	http_post_json("/api/v1/sedes", body, &r);
	ck_assert_msg(r.status == 201, "%ld %s", r.status, r.body);
	ck_assert_ptr_nonnull(r.json);
	id = cJSON_GetObjectItem(r.json, "id");
	ck_assert(cJSON_IsNumber(id));
	ck_assert_str_eq(cJSON_GetObjectItem(r.json, "codigo")->valuestring,
	    code);
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(r.json, "activa")));
	ck_assert_ptr_nonnull(http_header(&r, "Location", loc, sizeof(loc)));

	http_get(loc, &g);
	ck_assert_int_eq(g.status, 200);
	ck_assert_str_eq(cJSON_GetObjectItem(g.json, "ciudad")->valuestring,
	    "Trujillo");
	http_free(&g);

	/* Its audit row and outbox event were written with it. */
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM auditoria WHERE "
	    "entidad = 'sedes' AND accion = 'crear' AND entidad_id = '%d' "
	    "AND despues->>'codigo' = '%s' AND request_id IS NOT NULL",
	    (int)id->valuedouble, code);
	ck_assert_int_eq(db_count(sql), 1);
	snprintf(sql, sizeof(sql), "SELECT tipo FROM outbox WHERE "
	    "agregado = 'sede' AND agregado_id = '%d'", (int)id->valuedouble);
	v = db_value(sql);
	ck_assert_str_eq(v, "sede.creada");
	free(v);

	http_get("/api/v1/sedes?activa=true", &g);
	ck_assert_int_eq(g.status, 200);
	ck_assert_int_ge(cJSON_GetArraySize(json_items(g.json)), 1);
	http_free(&g);
	http_free(&r);
	free(code);
}
END_TEST

START_TEST(duplicate_code_is_409_and_writes_nothing)
{
	char *code = unique_code("D"), body[256];
	struct http_resp r;
	struct counts before;

	snprintf(body, sizeof(body), "{\"codigo\":\"%s\",\"nombre\":\"Uno\","
	    "\"ciudad\":\"Lima\",\"direccion\":\"Av. Larco 1\"}", code);
	http_post_json("/api/v1/sedes", body, &r);
	ck_assert_int_eq(r.status, 201);
	http_free(&r);
	snapshot(&before);
	http_post_json("/api/v1/sedes", body, &r);
	assert_problem(&r, 409, "conflicto");
	http_free(&r);
	assert_nothing_written(&before);
	free(code);
}
END_TEST

struct bad {
	const char	*body;
	const char	*field;
};

static const struct bad bads[] = {
	{ "{}", "codigo" },
	{ "{\"codigo\":\"lim-09\",\"nombre\":\"x\",\"ciudad\":\"y\"}",
	    "codigo" },
	{ "{\"codigo\":\"X'; DROP TABLE sedes; --\",\"nombre\":\"x\","
	    "\"ciudad\":\"y\"}", "codigo" },
	{ "{\"codigo\":123,\"nombre\":\"x\",\"ciudad\":\"y\"}", "codigo" },
	{ "{\"codigo\":\"AB-1\",\"nombre\":\"\",\"ciudad\":\"y\"}", "nombre" },
	{ "{\"codigo\":\"ABC-12\",\"nombre\":\"  \",\"ciudad\":\"y\"}", "nombre" },
	{ "{\"codigo\":\"ABC-12\",\"nombre\":\"x\",\"ciudad\":\"y\"}",
	    "direccion" },
	{ "{\"codigo\":\"ABCD-12\",\"nombre\":\"x\",\"ciudad\":\"y\"}",
	    "codigo" },
	{ "{\"codigo\":\"AB-1\",\"nombre\":[],\"ciudad\":\"y\"}", "nombre" },
	{ "{\"codigo\":\"AB-1\",\"nombre\":\"x\",\"ciudad\":null}", "ciudad" },
	{ "{\"codigo\":\"AB-1\",\"nombre\":\"x\",\"ciudad\":\"y\","
	    "\"telefono\":\"999888777\"}", "telefono" },
	{ "{\"codigo\":\"AB-1\",\"nombre\":\"x\",\"ciudad\":\"y\","
	    "\"telefono\":\"+5199988877a\"}", "telefono" },
	{ "{\"codigo\":\"AB-1\",\"nombre\":\"x\",\"ciudad\":\"y\","
	    "\"zona_horaria\":\"Mars/Olympus\"}", "zona_horaria" },
	{ "{\"codigo\":\"AB-1\",\"nombre\":\"x\",\"ciudad\":\"y\","
	    "\"zona_horaria\":true}", "zona_horaria" },
	{ NULL, NULL }
};

START_TEST(invalid_fields_are_422_per_field)
{
	struct http_resp r;
	struct counts before;
	const cJSON *errs, *e;
	int i, found;

	snapshot(&before);
	for (i = 0; bads[i].body != NULL; i++) {
		http_post_json("/api/v1/sedes", bads[i].body, &r);
		assert_problem(&r, 422, "validacion");
		errs = cJSON_GetObjectItem(r.json, "errors");
		ck_assert(cJSON_IsArray(errs));
		found = 0;
		cJSON_ArrayForEach(e, errs)
			if (strcmp(cJSON_GetObjectItem(e, "campo")->valuestring,
			    bads[i].field) == 0)
				found = 1;
		ck_assert_msg(found, "%s: no error for %s: %s", bads[i].body,
		    bads[i].field, r.body);
		http_free(&r);
	}
	assert_nothing_written(&before);
}
END_TEST

START_TEST(long_and_hostile_strings)
{
	char *code = unique_code("H"), *body;
	size_t n = 130;
	struct http_resp r;
	struct counts before;

	/* 130 bytes of name: over the 120 limit. */
	body = malloc(n + 256);
	ck_assert_ptr_nonnull(body);
	snprintf(body, n + 256, "{\"codigo\":\"%s\",\"nombre\":\"%0*d\","
	    "\"ciudad\":\"y\",\"direccion\":\"z\"}", code, (int)n, 0);
	snapshot(&before);
	http_post_json("/api/v1/sedes", body, &r);
	assert_problem(&r, 422, "validacion");
	http_free(&r);
	assert_nothing_written(&before);
	/* SQL-looking text is stored verbatim. */
	snprintf(body, n + 256, "{\"codigo\":\"%s\",\"nombre\":\"Robert'); "
	    "DROP TABLE sedes;--\",\"ciudad\":\"Cusco \\\"centro\\\"\","
	    "\"direccion\":\"Calle 1\"}", code);
	http_post_json("/api/v1/sedes", body, &r);
	ck_assert_int_eq(r.status, 201);
	ck_assert_str_eq(cJSON_GetObjectItem(r.json, "nombre")->valuestring,
	    "Robert'); DROP TABLE sedes;--");
	ck_assert_str_eq(cJSON_GetObjectItem(r.json, "ciudad")->valuestring,
	    "Cusco \"centro\"");
	http_free(&r);
	free(body);
	free(code);
}
END_TEST

/*
 * The rooms of a site, the ids a booking names as consultorio_id: every
 * room of that site (a closed one too, marked), none of another; any role
 * of any site reads them, like the site; an unknown site is a 404.
 */
START_TEST(consultorios_de_una_sede)
{
	long long sede = fx_sede("America/Lima"), otra = fx_sede("America/Lima");
	long long c1 = fx_consultorio(sede), c2 = fx_consultorio(sede);
	char path[96], *tok;
	const cJSON *it;
	struct http_resp r;
	int n = 0;

	fx_consultorio(otra);
	db_execf("UPDATE consultorios SET activo = false, tipo = 'cirugia' "
	    "WHERE id = %lld", c2);
	snprintf(path, sizeof(path), "/api/v1/sedes/%lld/consultorios", sede);
	/* A pharmacist of another site may read them, as the site itself. */
	tok = token_for(admin_id(), "[{\"rol\":\"farmacia\",\"sede\":1}]");
	http_token(tok);
	http_get(path, &r);
	http_token(NULL);
	ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
	cJSON_ArrayForEach(it, json_items(r.json)) {
		ck_assert_int_eq(json_ll(it, "sede_id"), sede);
		ck_assert_int_eq(json_ll(it, "id"), n == 0 ? c1 : c2);
		ck_assert_ptr_nonnull(json_s(it, "nombre"));
		ck_assert_str_eq(json_s(it, "tipo"), n == 0 ? "consulta" :
		    "cirugia");
		ck_assert(cJSON_IsBool(cJSON_GetObjectItem(it, "activo")));
		ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(it, "activo")) ==
		    (n == 0));
		n++;
	}
	ck_assert_int_eq(n, 2);
	http_free(&r);
	free(tok);

	/* A site without rooms: an empty list, not a 404. */
	snprintf(path, sizeof(path), "/api/v1/sedes/%lld/consultorios",
	    fx_sede("America/Lima"));
	http_get(path, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_int_eq(cJSON_GetArraySize(json_items(r.json)), 0);
	http_free(&r);

	http_get("/api/v1/sedes/999999999/consultorios", &r);
	assert_problem(&r, 404, "no-encontrado");
	http_free(&r);
	http_get("/api/v1/sedes/uno/consultorios", &r);
	assert_problem(&r, 400, "id-invalido");
	http_free(&r);
	http_token_none();
	http_get(path, &r);
	ck_assert_int_eq(r.status, 401);
	http_free(&r);
	http_token(NULL);
	http_req("POST", path, "application/json", "{}", 2, NULL, &r);
	assert_problem(&r, 405, "metodo-no-permitido");
	http_free(&r);
}
END_TEST

START_TEST(bad_list_filter_is_400)
{
	struct http_resp r;

	http_get("/api/v1/sedes?activa=quizas", &r);
	assert_problem(&r, 400, "parametro-invalido");
	http_free(&r);
	http_get("/api/v1/sedes?activa=%ZZ", &r);
	assert_problem(&r, 400, "parametro-invalido");
	http_free(&r);
	http_get("/api/v1/sedes?activa=false", &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert(cJSON_IsArray(json_items(r.json)));
	http_free(&r);
}
END_TEST

Suite *
sedes_suite(void)
{
	Suite *s = suite_create("sedes");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, create_read_and_list);
	tcase_add_test(tc, duplicate_code_is_409_and_writes_nothing);
	tcase_add_test(tc, invalid_fields_are_422_per_field);
	tcase_add_test(tc, long_and_hostile_strings);
	tcase_add_test(tc, bad_list_filter_is_400);
	tcase_add_test(tc, consultorios_de_una_sede);
	suite_add_tcase(s, tc);
	return s;
}
