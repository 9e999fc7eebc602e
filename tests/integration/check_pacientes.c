/*
 * check_pacientes.c - patients end to end: registration with a new or
 * known owner (an owner document is never registered twice), reading a
 * patient, the clinical history walked page by page, and bad input
 * refused with nothing written, the owner of a refused pet included.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "itest.h"
#include "vr.h"

#define SEDE	1LL

/* A 15-digit microchip no patient has yet. */
static char *
chip_libre(void)
{
	char *v = db_value("SELECT c FROM (SELECT '9' || lpad(floor(random() "
	    "* 1e14)::bigint::text, 14, '0') AS c FROM generate_series(1, 20)) "
	    "x WHERE NOT EXISTS (SELECT 1 FROM pacientes p WHERE p.microchip "
	    "= x.c) LIMIT 1");

	ck_assert_ptr_nonnull(v);
	return v;
}

static void
registrar(const char *json, struct http_resp *r)
{
	http_post_json("/api/v1/pacientes/registro", json, r);
}

static void
get_paciente(long long id, struct http_resp *r)
{
	char path[64];

	snprintf(path, sizeof(path), "/api/v1/pacientes/%lld", id);
	http_get(path, r);
}

/*
 * The owner's document, phone, e-mail and address are stored sealed
 * (AES-256-GCM, v2: the column, table.column, bound in): the raw
 * columns hold none of the plain values, the API shows them, an altered
 * or moved value is a 500 (never wrong data), and vetred-admin cifrar
 * re-seals every row under a new key and back.
 */
START_TEST(datos_del_propietario_cifrados)
{
	char *dni = fx_dni_libre(), body[1024], path[64], env[600], out[512];
	char *raw, *orig, *saved = NULL, keyfile[] = "/tmp/vetred-k2-XXXXXX";
	const char *ring = getenv("VETRED_DATA_KEYS");
	long long id, prop;
	struct http_resp r;
	FILE *f;
	int fd;

	snprintf(body, sizeof(body), "{\"propietario\":{\"nombres\":\"Rosa\","
	    "\"apellidos\":\"Puma\",\"documento\":\"%s\",\"telefono\":"
	    "\"+51912345678\",\"email\":\"rosa.puma@correo.pe\",\"direccion\":"
	    "\"Jr. Cusco 42\"},\"nombre\":\"Coco\",\"especie\":\"ave\"}", dni);
	registrar(body, &r);
	ck_assert_msg(r.status == 201, "%ld %s", r.status, r.body);
	id = json_ll(r.json, "id");
	prop = json_ll(cJSON_GetObjectItem(r.json, "propietario"), "id");
	ck_assert_str_eq(json_s(cJSON_GetObjectItem(r.json, "propietario"),
	    "numero_documento"), dni);
	http_free(&r);

	ck_assert_int_eq(db_countf("SELECT count(*) FROM propietarios WHERE "
	    "id = %lld AND numero_documento LIKE 'v2:datos1:%%' AND telefono "
	    "LIKE 'v2:datos1:%%' AND email LIKE 'v2:datos1:%%' AND direccion "
	    "LIKE 'v2:datos1:%%' AND position('%s' IN numero_documento) = 0 "
	    "AND position('912345678' IN telefono) = 0 AND position('rosa' IN "
	    "email) = 0 AND position('Cusco' IN direccion) = 0 AND "
	    "documento_hmac = decode('%s', 'hex')", prop, dni, doc_hmac(dni)), 1);
	snprintf(path, sizeof(path), "/api/v1/pacientes/%lld", id);
	http_get(path, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(json_s(cJSON_GetObjectItem(r.json, "propietario"),
	    "direccion"), "Jr. Cusco 42");
	http_free(&r);

	/* Altered (one character of the ciphertext), or moved to another
	 * column: it does not open. */
	orig = db_valuef("SELECT telefono FROM propietarios WHERE id = %lld",
	    prop);
	raw = strdup(orig);
	raw[strlen(raw) - 3] = raw[strlen(raw) - 3] == 'A' ? 'B' : 'A';
	db_execf("UPDATE propietarios SET telefono = '%s' WHERE id = %lld", raw,
	    prop);
	http_get(path, &r);
	assert_problem(&r, 500, "error-interno");
	http_free(&r);
	db_execf("UPDATE propietarios SET telefono = email WHERE id = %lld",
	    prop);
	http_get(path, &r);
	assert_problem(&r, 500, "error-interno");
	http_free(&r);
	db_execf("UPDATE propietarios SET telefono = '%s' WHERE id = %lld", orig,
	    prop);
	http_get(path, &r);
	ck_assert_int_eq(r.status, 200);
	http_free(&r);

	/* Rotation: a new key first re-seals every row; then back. */
	fd = mkstemp(keyfile);
	ck_assert_int_ge(fd, 0);
	f = fdopen(fd, "w");
	fprintf(f, "a2V5LWRlLXBydWViYS1wYXJhLXJvdGFyLTMyYnl0ZXM=\n");
	fclose(f);
	if (ring != NULL)
		saved = strdup(ring);
	snprintf(env, sizeof(env), "k2=%s,%s", keyfile, saved);
	setenv("VETRED_DATA_KEYS", env, 1);
	ck_assert_int_eq(run_admin("cifrar", NULL, out, sizeof(out)), 0);
	ck_assert_ptr_nonnull(strstr(out, "\"clave\":\"k2\""));
	ck_assert_int_eq(db_count("SELECT count(*) FROM propietarios WHERE "
	    "numero_documento NOT LIKE 'v2:k2:%'"), 0);
	ck_assert_int_eq(db_countf("SELECT count(*) FROM propietarios WHERE "
	    "id = %lld AND documento_hmac = decode('%s', 'hex')", prop,
	    doc_hmac(dni)), 1);
	snprintf(env, sizeof(env), "%s,k2=%s", saved, keyfile);
	setenv("VETRED_DATA_KEYS", env, 1);
	ck_assert_int_eq(run_admin("cifrar", NULL, out, sizeof(out)), 0);
	ck_assert_int_eq(db_count("SELECT count(*) FROM propietarios WHERE "
	    "numero_documento NOT LIKE 'v2:datos1:%'"), 0);
	/* A key it does not hold: refused, nothing changed. */
	setenv("VETRED_DATA_KEYS", env + strlen(saved) + 1, 1);
	ck_assert_int_eq(run_admin("cifrar", NULL, out, sizeof(out)), 2);
	ck_assert_int_eq(db_count("SELECT count(*) FROM propietarios WHERE "
	    "numero_documento NOT LIKE 'v2:datos1:%'"), 0);
	setenv("VETRED_DATA_KEYS", saved, 1);
	http_get(path, &r);
	ck_assert_int_eq(r.status, 200);
	http_free(&r);
	unlink(keyfile);
	free(saved);
	free(raw);
	free(orig);
	free(dni);
}
END_TEST

/*
 * Values sealed before seals named their table (v1: the column's name
 * bound in) still read, and vetred-admin cifrar re-seals them as v2; a v2
 * value copied into another table's column does not open there (500,
 * never the other column's data), even where the signed-entry trigger
 * lets the tables' owner write sealed text.
 */
START_TEST(sellos_v1_y_columna)
{
	char *dni = fx_dni_libre(), body[1024], path[64], out[512], err[256];
	char *v1, *orig, *entrada, *pac, *anamnesis;
	struct vr_jwt_keys ring;
	long long id, prop;
	struct http_resp r;

	snprintf(body, sizeof(body), "{\"propietario\":{\"nombres\":\"Eva\","
	    "\"apellidos\":\"Mamani\",\"documento\":\"%s\",\"telefono\":"
	    "\"+51911122233\"},\"nombre\":\"Pipo\",\"especie\":\"canino\"}",
	    dni);
	registrar(body, &r);
	ck_assert_msg(r.status == 201, "%ld %s", r.status, r.body);
	id = json_ll(r.json, "id");
	prop = json_ll(cJSON_GetObjectItem(r.json, "propietario"), "id");
	http_free(&r);
	snprintf(path, sizeof(path), "/api/v1/pacientes/%lld", id);

	/* An old row: its phone sealed as v1, bound to "telefono". */
	ck_assert_msg(vr_data_keys_load(&ring, getenv("VETRED_DATA_KEYS"), err,
	    sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(vr_seal(&ring.k[0], "telefono", "+51944455566", &v1),
	    VR_OK);
	db_execf("UPDATE propietarios SET telefono = '%s' WHERE id = %lld", v1,
	    prop);
	http_get(path, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(json_s(cJSON_GetObjectItem(r.json, "propietario"),
	    "telefono"), "+51944455566");
	http_free(&r);
	ck_assert_int_eq(run_admin("cifrar", NULL, out, sizeof(out)), 0);
	ck_assert_int_eq(db_countf("SELECT count(*) FROM propietarios WHERE "
	    "id = %lld AND telefono LIKE 'v2:%s:%%'", prop, ring.k[0].kid), 1);
	ck_assert_int_eq(db_count("SELECT count(*) FROM propietarios WHERE "
	    "telefono LIKE 'v1:%' OR numero_documento LIKE 'v1:%'"), 0);
	http_get(path, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(json_s(cJSON_GetObjectItem(r.json, "propietario"),
	    "telefono"), "+51944455566");
	http_free(&r);

	/* The owner's v2 phone moved into a clinical entry's anamnesis. */
	entrada = db_value("SELECT id FROM historia_entradas WHERE tipo = "
	    "'consulta' ORDER BY id LIMIT 1");
	ck_assert_ptr_nonnull(entrada);
	pac = db_valuef("SELECT paciente_id FROM historia_entradas WHERE id = "
	    "%s", entrada);
	anamnesis = db_valuef("SELECT anamnesis FROM historia_entradas WHERE "
	    "id = %s", entrada);
	orig = db_valuef("SELECT telefono FROM propietarios WHERE id = %lld",
	    prop);
	snprintf(path, sizeof(path), "/api/v1/pacientes/%s/historial", pac);
	db_execf("UPDATE historia_entradas SET anamnesis = '%s' WHERE id = %s",
	    orig, entrada);
	http_get(path, &r);
	assert_problem(&r, 500, "error-interno");
	http_free(&r);
	db_execf("UPDATE historia_entradas SET anamnesis = '%s' WHERE id = %s",
	    anamnesis, entrada);
	http_get(path, &r);
	ck_assert_int_eq(r.status, 200);
	http_free(&r);
	free(anamnesis);
	free(pac);
	free(entrada);
	free(orig);
	free(v1);
	free(dni);
}
END_TEST

/* Clinical free text is sealed at rest and read back in the history. */
START_TEST(texto_clinico_cifrado)
{
	struct http_resp r;
	char *pac = db_value("SELECT paciente_id FROM historia_entradas WHERE "
	    "tipo = 'consulta' ORDER BY id LIMIT 1"), path[96];

	ck_assert_ptr_nonnull(pac);
	ck_assert_int_eq(db_count("SELECT count(*) FROM historia_entradas WHERE "
	    "anamnesis NOT LIKE 'v2:%' OR examen NOT LIKE 'v2:%' OR "
	    "diagnostico NOT LIKE 'v2:%' OR plan NOT LIKE 'v2:%' OR "
	    "texto NOT LIKE 'v2:%'"), 0);
	ck_assert_int_eq(db_count("SELECT count(*) FROM historia_entradas WHERE "
	    "anamnesis LIKE '%Come bien%'"), 0);
	ck_assert_int_eq(db_count("SELECT count(*) FROM tratamientos WHERE "
	    "descripcion NOT LIKE 'v2:%'"), 0);
	ck_assert_int_eq(db_count("SELECT count(*) FROM pacientes WHERE "
	    "alergias NOT LIKE 'v2:%'"), 0);
	snprintf(path, sizeof(path), "/api/v1/pacientes/%s/historial", pac);
	http_get(path, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_ptr_nonnull(strstr(r.body, "Control anual. Come bien"));
	ck_assert_ptr_null(strstr(r.body, "v1:"));
	ck_assert_ptr_null(strstr(r.body, "v2:"));
	http_free(&r);
	free(pac);
}
END_TEST

START_TEST(registro_con_propietario_nuevo)
{
	char *dni = fx_dni_libre(), *chip = chip_libre(), body[1024], loc[64];
	char want[64];
	long long id, prop;
	const cJSON *o;
	struct fx_counts before;
	struct http_resp r, g;

	snprintf(body, sizeof(body), "{\"propietario\":{\"nombres\":\"Ana "
	    "María\",\"apellidos\":\"Quispe Rojas\",\"documento\":\"%s\","
	    "\"telefono\":\"+51987654321\",\"email\":\"ana.quispe@correo.pe\","
	    "\"direccion\":\"Av. Arequipa 123\"},\"nombre\":\"Luna\","
	    "\"especie\":\"felino\",\"raza\":\"Siamés\",\"sexo\":\"hembra\","
	    "\"esterilizado\":true,\"fecha_nacimiento\":\"2022-04-01\","
	    "\"microchip\":\"%s\",\"color\":\"crema\",\"alergias\":"
	    "\"penicilina\",\"peso_gramos\":3200,\"sede_registro_id\":1}",
	    dni, chip);
	fx_snapshot(&before);
	registrar(body, &r);
	ck_assert_msg(r.status == 201, "%ld %s", r.status, r.body);
	id = json_ll(r.json, "id");
	snprintf(want, sizeof(want), "/api/v1/pacientes/%lld", id);
	ck_assert_ptr_nonnull(http_header(&r, "Location", loc, sizeof(loc)));
	ck_assert_str_eq(loc, want);
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(r.json,
	    "propietario_creado")));
	o = cJSON_GetObjectItem(r.json, "propietario");
	prop = json_ll(o, "id");
	ck_assert_str_eq(json_s(o, "tipo_documento"), "DNI");
	ck_assert_str_eq(json_s(o, "numero_documento"), dni);
	ck_assert_str_eq(json_s(o, "telefono"), "+51987654321");
	ck_assert_str_eq(json_s(o, "email"), "ana.quispe@correo.pe");
	http_free(&r);
	ck_assert_int_eq(db_countf("SELECT count(*) FROM pacientes WHERE id = "
	    "%lld AND alergias LIKE 'v2:datos1:%%' AND position('penicilina' "
	    "IN alergias) = 0", id), 1);

	/* Owner, pet, their two audit rows and one event, in one go. */
	fx_assert_delta(&before, 0, 1, 1, 2, 1);
	ck_assert_int_eq(db_countf("SELECT count(*) FROM auditoria WHERE "
	    "entidad = 'propietarios' AND entidad_id = '%lld' AND accion = "
	    "'crear'", prop), 1);
	ck_assert_int_eq(db_countf("SELECT count(*) FROM auditoria WHERE "
	    "entidad = 'pacientes' AND entidad_id = '%lld' AND accion = "
	    "'crear'", id), 1);
	ck_assert_int_eq(db_countf("SELECT count(*) FROM outbox WHERE tipo = "
	    "'paciente.registrado' AND agregado = 'paciente' AND agregado_id "
	    "= '%lld' AND (payload->>'propietario_creado')::boolean AND "
	    "(payload->>'propietario_id')::bigint = %lld", id, prop), 1);

	get_paciente(id, &g);
	ck_assert_int_eq(g.status, 200);
	ck_assert_str_eq(json_s(g.json, "nombre"), "Luna");
	ck_assert_str_eq(json_s(g.json, "especie"), "felino");
	ck_assert_str_eq(json_s(g.json, "raza"), "Siamés");
	ck_assert_str_eq(json_s(g.json, "microchip"), chip);
	ck_assert_str_eq(json_s(g.json, "fecha_nacimiento"), "2022-04-01");
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(g.json, "esterilizado")));
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(g.json, "activo")));
	ck_assert_int_eq(json_ll(g.json, "peso_gramos"), 3200);
	ck_assert_int_eq(json_ll(g.json, "sede_registro_id"), 1);
	ck_assert_int_eq(json_ll(cJSON_GetObjectItem(g.json, "propietario"),
	    "id"), prop);
	ck_assert_str_eq(json_s(cJSON_GetObjectItem(g.json, "propietario"),
	    "nombres"), "Ana María");
	http_free(&g);
	free(dni);
	free(chip);
}
END_TEST

START_TEST(mismo_documento_reutiliza_al_propietario)
{
	char *dni = fx_dni_libre(), body[512];
	long long prop, id2;
	struct fx_counts before;
	struct http_resp r;

	snprintf(body, sizeof(body), "{\"propietario\":{\"nombres\":\"Pedro\","
	    "\"apellidos\":\"Salas\",\"documento\":\"%s\",\"telefono\":"
	    "\"+51912345678\"},\"nombre\":\"Rex\",\"especie\":\"canino\"}", dni);
	registrar(body, &r);
	ck_assert_int_eq(r.status, 201);
	prop = json_ll(cJSON_GetObjectItem(r.json, "propietario"), "id");
	http_free(&r);

	/* Same document, other details: the known owner, untouched. */
	snprintf(body, sizeof(body), "{\"propietario\":{\"nombres\":\"Otro "
	    "Nombre\",\"apellidos\":\"Otro\",\"tipo_documento\":\"DNI\","
	    "\"documento\":\"%s\",\"telefono\":\"+51999999999\"},\"nombre\":"
	    "\"Toby\",\"especie\":\"canino\"}", dni);
	fx_snapshot(&before);
	registrar(body, &r);
	ck_assert_msg(r.status == 201, "%ld %s", r.status, r.body);
	ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(r.json,
	    "propietario_creado")));
	ck_assert_int_eq(json_ll(cJSON_GetObjectItem(r.json, "propietario"),
	    "id"), prop);
	ck_assert_str_eq(json_s(cJSON_GetObjectItem(r.json, "propietario"),
	    "nombres"), "Pedro");
	id2 = json_ll(r.json, "id");
	http_free(&r);
	fx_assert_delta(&before, 0, 0, 1, 1, 1);
	ck_assert_int_eq(db_countf("SELECT count(*) FROM propietarios WHERE "
	    "tipo_documento = 'DNI' AND documento_hmac = decode('%s', 'hex')",
	    doc_hmac(dni)), 1);
	ck_assert_int_eq(db_countf("SELECT count(*) FROM pacientes WHERE "
	    "propietario_id = %lld", prop), 2);
	ck_assert_int_eq(db_countf("SELECT count(*) FROM outbox WHERE "
	    "agregado_id = '%lld' AND tipo = 'paciente.registrado' AND NOT "
	    "(payload->>'propietario_creado')::boolean", id2), 1);
	free(dni);
}
END_TEST

START_TEST(registro_con_propietario_id_o_ce)
{
	char body[512];
	long long prop;
	struct fx_counts before;
	struct http_resp r;
	char *ce = db_value("SELECT 'abc' || lpad(floor(random() * 1e7)"
	    "::bigint::text, 7, '0')");

	/* A CE is stored upper-cased. */
	snprintf(body, sizeof(body), "{\"propietario\":{\"nombres\":\"John\","
	    "\"apellidos\":\"Smith\",\"tipo_documento\":\"CE\",\"documento\":"
	    "\"%s\",\"telefono\":\"+51911222333\"},\"nombre\":\"Kiwi\","
	    "\"especie\":\"ave\"}", ce);
	registrar(body, &r);
	ck_assert_msg(r.status == 201, "%ld %s", r.status, r.body);
	ck_assert_str_eq(json_s(cJSON_GetObjectItem(r.json, "propietario"),
	    "tipo_documento"), "CE");
	ce[0] = 'A';
	ce[1] = 'B';
	ce[2] = 'C';
	ck_assert_str_eq(json_s(cJSON_GetObjectItem(r.json, "propietario"),
	    "numero_documento"), ce);
	prop = json_ll(cJSON_GetObjectItem(r.json, "propietario"), "id");
	http_free(&r);

	/* A second pet by owner id. */
	snprintf(body, sizeof(body), "{\"propietario_id\":%lld,\"nombre\":"
	    "\"Coco\",\"especie\":\"conejo\"}", prop);
	fx_snapshot(&before);
	registrar(body, &r);
	ck_assert_msg(r.status == 201, "%ld %s", r.status, r.body);
	ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(r.json,
	    "propietario_creado")));
	http_free(&r);
	fx_assert_delta(&before, 0, 0, 1, 1, 1);

	/* An unknown owner id, both ways, neither way: 422, nothing. */
	fx_snapshot(&before);
	registrar("{\"propietario_id\":9007199254740991,\"nombre\":\"Coco\","
	    "\"especie\":\"conejo\"}", &r);
	assert_problem(&r, 422, "validacion");
	ck_assert(fx_has_error(&r, "propietario_id"));
	http_free(&r);
	snprintf(body, sizeof(body), "{\"propietario_id\":%lld,\"propietario\":"
	    "{\"nombres\":\"X\"},\"nombre\":\"Coco\",\"especie\":\"conejo\"}",
	    prop);
	registrar(body, &r);
	assert_problem(&r, 422, "validacion");
	ck_assert(fx_has_error(&r, "propietario"));
	http_free(&r);
	registrar("{\"nombre\":\"Coco\",\"especie\":\"conejo\"}", &r);
	assert_problem(&r, 422, "validacion");
	ck_assert(fx_has_error(&r, "propietario"));
	http_free(&r);
	/* The member is read by its exact name only. */
	registrar("{\"PROPIETARIO\":{\"nombres\":\"A\",\"apellidos\":\"B\","
	    "\"documento\":\"12345678\",\"telefono\":\"+51911222333\"},"
	    "\"nombre\":\"Coco\",\"especie\":\"conejo\"}", &r);
	assert_problem(&r, 422, "validacion");
	ck_assert(fx_has_error(&r, "propietario"));
	http_free(&r);
	fx_assert_unchanged(&before);
	free(ce);
}
END_TEST

struct malo {
	const char	*json;	/* printf format with one %s: a free DNI */
	const char	*campo;
};

#define DUENO(extra) "{\"propietario\":{\"nombres\":\"Ana\",\"apellidos\":" \
	"\"Paz\",\"documento\":\"%s\",\"telefono\":\"+51987654321\"" extra "}"
#define PET ",\"nombre\":\"Luna\",\"especie\":\"felino\""

static const struct malo registros_malos[] = {
	/* the owner */
	{ "{\"propietario\":{\"nombres\":\"Ana\",\"apellidos\":\"Paz\","
	    "\"documento\":\"1234567A\",\"telefono\":\"+51987654321\"}" PET "}",
	    "propietario.documento" },
	{ "{\"propietario\":{\"nombres\":\"Ana\",\"apellidos\":\"Paz\","
	    "\"documento\":\"1234567\",\"telefono\":\"+51987654321\"}" PET "}",
	    "propietario.documento" },
	{ "{\"propietario\":{\"nombres\":\"Ana\",\"apellidos\":\"Paz\","
	    "\"documento\":\"123456789\",\"telefono\":\"+51987654321\"}" PET
	    "}", "propietario.documento" },
	{ "{\"propietario\":{\"nombres\":\"Ana\",\"apellidos\":\"Paz\","
	    "\"documento\":\"1234 678\",\"telefono\":\"+51987654321\"}" PET "}",
	    "propietario.documento" },
	{ "{\"propietario\":{\"nombres\":\"Ana\",\"apellidos\":\"Paz\","
	    "\"documento\":12345678,\"telefono\":\"+51987654321\"}" PET "}",
	    "propietario.documento" },
	{ "{\"propietario\":{\"nombres\":\"Ana\",\"apellidos\":\"Paz\","
	    "\"tipo_documento\":\"CE\",\"documento\":\"ABC-12345\","
	    "\"telefono\":\"+51987654321\"}" PET "}", "propietario.documento" },
	{ "{\"propietario\":{\"nombres\":\"Ana\",\"apellidos\":\"Paz\","
	    "\"tipo_documento\":\"CE\",\"documento\":\"AB12345\","
	    "\"telefono\":\"+51987654321\"}" PET "}", "propietario.documento" },
	{ "{\"propietario\":{\"nombres\":\"Ana\",\"apellidos\":\"Paz\","
	    "\"tipo_documento\":\"PASAPORTE\",\"documento\":\"%s\","
	    "\"telefono\":\"+51987654321\"}" PET "}",
	    "propietario.tipo_documento" },
	{ "{\"propietario\":{\"nombres\":\"Ana\",\"apellidos\":\"Paz\","
	    "\"documento\":\"%s\",\"telefono\":\"987654321\"}" PET "}",
	    "propietario.telefono" },
	{ "{\"propietario\":{\"nombres\":\"Ana\",\"apellidos\":\"Paz\","
	    "\"documento\":\"%s\",\"telefono\":\"+5114451234\"}" PET "}",
	    "propietario.telefono" },
	{ "{\"propietario\":{\"nombres\":\"Ana\",\"apellidos\":\"Paz\","
	    "\"documento\":\"%s\",\"telefono\":\"+52987654321\"}" PET "}",
	    "propietario.telefono" },
	{ "{\"propietario\":{\"apellidos\":\"Paz\",\"documento\":\"%s\","
	    "\"telefono\":\"+51987654321\"}" PET "}", "propietario.nombres" },
	{ "{\"propietario\":{\"nombres\":\"Ana\",\"apellidos\":\"  \","
	    "\"documento\":\"%s\",\"telefono\":\"+51987654321\"}" PET "}",
	    "propietario.apellidos" },
	{ DUENO(",\"email\":\"no-es-correo\"") PET "}", "propietario.email" },
	{ DUENO(",\"email\":\"a@b\"") PET "}", "propietario.email" },
	/* passes the API's check, refused by the table's: still a 422 */
	{ DUENO(",\"email\":\"a\\u000bb@c.pe\"") PET "}", "propietario.email" },
	{ "{\"propietario\":\"Ana Paz\"" PET "}", "propietario" },
	/* the pet, after a valid new owner: the owner must not stay */
	{ DUENO("") ",\"especie\":\"felino\"}", "nombre" },
	{ DUENO("") ",\"nombre\":\"\",\"especie\":\"felino\"}", "nombre" },
	{ DUENO("") ",\"nombre\":\"Luna\"}", "especie" },
	{ DUENO("") ",\"nombre\":\"Luna\",\"especie\":\"dragón\"}", "especie" },
	{ DUENO("") PET ",\"sexo\":\"x\"}", "sexo" },
	{ DUENO("") PET ",\"esterilizado\":\"si\"}", "esterilizado" },
	{ DUENO("") PET ",\"fecha_nacimiento\":\"2026-02-30\"}",
	    "fecha_nacimiento" },
	{ DUENO("") PET ",\"fecha_nacimiento\":\"01/02/2020\"}",
	    "fecha_nacimiento" },
	{ DUENO("") PET ",\"fecha_nacimiento\":\"2099-01-01\"}",
	    "fecha_nacimiento" },
	{ DUENO("") PET ",\"fecha_nacimiento\":\"1949-12-31\"}",
	    "fecha_nacimiento" },
	{ DUENO("") PET ",\"microchip\":\"123\"}", "microchip" },
	{ DUENO("") PET ",\"microchip\":\"60400001234567A\"}", "microchip" },
	{ DUENO("") PET ",\"peso_gramos\":0}", "peso_gramos" },
	{ DUENO("") PET ",\"peso_gramos\":-5}", "peso_gramos" },
	{ DUENO("") PET ",\"peso_gramos\":300001}", "peso_gramos" },
	{ DUENO("") PET ",\"peso_gramos\":1e300}", "peso_gramos" },
	{ DUENO("") PET ",\"peso_gramos\":9007199254740993}", "peso_gramos" },
	{ DUENO("") PET ",\"peso_gramos\":\"5\"}", "peso_gramos" },
	{ DUENO("") PET ",\"peso_gramos\":1.5}", "peso_gramos" },
	{ DUENO("") PET ",\"sede_registro_id\":9007199254740991}",
	    "sede_registro_id" },
	{ DUENO("") PET ",\"sede_registro_id\":-5}", "sede_registro_id" },
	{ NULL, NULL }
};

START_TEST(registro_invalido_es_422_y_no_escribe_nada)
{
	char *dni = fx_dni_libre(), body[1024];
	struct fx_counts before;
	struct http_resp r;
	int i;

	fx_snapshot(&before);
	for (i = 0; registros_malos[i].json != NULL; i++) {
		snprintf(body, sizeof(body), registros_malos[i].json, dni);
		registrar(body, &r);
		ck_assert_msg(r.status == 422, "%s: %ld %s", body, r.status,
		    r.body);
		assert_problem(&r, 422, "validacion");
		ck_assert_msg(fx_has_error(&r, registros_malos[i].campo),
		    "%s: %s", body,
		    r.body);
		http_free(&r);
	}
	fx_assert_unchanged(&before);
	ck_assert_int_eq(db_countf("SELECT count(*) FROM propietarios WHERE "
	    "numero_documento = '%s'", dni), 0);
	free(dni);
}
END_TEST

START_TEST(microchip_repetido_es_409_sin_propietario_huerfano)
{
	char *dni = fx_dni_libre(), *dni2, *chip = chip_libre(), body[512];
	struct fx_counts before;
	struct http_resp r;

	snprintf(body, sizeof(body), DUENO("") PET ",\"microchip\":\"%s\"}",
	    dni, chip);
	registrar(body, &r);
	ck_assert_int_eq(r.status, 201);
	http_free(&r);
	dni2 = fx_dni_libre();
	snprintf(body, sizeof(body), DUENO("") PET ",\"microchip\":\"%s\"}",
	    dni2, chip);
	fx_snapshot(&before);
	registrar(body, &r);
	assert_problem(&r, 409, "conflicto");
	ck_assert(fx_has_error(&r, "microchip"));
	http_free(&r);
	/* The new owner was rolled back with the pet. */
	fx_assert_unchanged(&before);
	ck_assert_int_eq(db_countf("SELECT count(*) FROM propietarios WHERE "
	    "numero_documento = '%s'", dni2), 0);
	free(dni);
	free(dni2);
	free(chip);
}
END_TEST

START_TEST(registro_texto_hostil_y_cuerpos_malos)
{
	static const char nombre[] = "O'Brien'); DELETE FROM pacientes;--";
	char *dni = fx_dni_libre(), *big, body[512];
	struct fx_counts before;
	struct http_resp r;
	size_t n = 1100 * 1024, pre;

	snprintf(body, sizeof(body), "{\"propietario\":{\"nombres\":\"%s\","
	    "\"apellidos\":\"\\\"Paz\\\" \\\\ Ñúñez\",\"documento\":\"%s\","
	    "\"telefono\":\"+51987654321\"},\"nombre\":\"Robert'); DROP TABLE "
	    "citas;--\",\"especie\":\"otro\"}", nombre, dni);
	registrar(body, &r);
	ck_assert_msg(r.status == 201, "%ld %s", r.status, r.body);
	ck_assert_str_eq(json_s(cJSON_GetObjectItem(r.json, "propietario"),
	    "nombres"), nombre);
	ck_assert_str_eq(json_s(cJSON_GetObjectItem(r.json, "propietario"),
	    "apellidos"), "\"Paz\" \\ Ñúñez");
	ck_assert_str_eq(json_s(r.json, "nombre"),
	    "Robert'); DROP TABLE citas;--");
	http_free(&r);
	ck_assert_int_eq(db_countf("SELECT count(*) FROM propietarios WHERE "
	    "documento_hmac = decode('%s', 'hex') AND nombres = 'O''Brien''); "
	    "DELETE FROM pacientes;--'", doc_hmac(dni)), 1);

	fx_snapshot(&before);
	/* Invalid UTF-8, over the size limit. */
	registrar("{\"nombre\":\"Cl\xc3\x28nica\",\"especie\":\"otro\"}", &r);
	assert_problem(&r, 400, "utf8-invalido");
	http_free(&r);
	big = malloc(n + 64);
	ck_assert_ptr_nonnull(big);
	strcpy(big, "{\"especie\":\"otro\",\"nombre\":\"");
	pre = strlen(big);
	memset(big + pre, 'x', n);
	strcpy(big + pre + n, "\"}");
	registrar(big, &r);
	assert_problem(&r, 413, "cuerpo-demasiado-grande");
	http_free(&r);
	free(big);
	http_req("POST", "/api/v1/pacientes/registro", "text/plain", "{}", 2,
	    NULL, &r);
	assert_problem(&r, 415, "tipo-no-soportado");
	http_free(&r);
	fx_assert_unchanged(&before);
	free(dni);
}
END_TEST

/* A registration with an Idempotency-Key. */
static void
registrar_con(const char *json, const char *key, struct http_resp *r)
{
	char h[320];
	const char *extra[2] = { h, NULL };

	snprintf(h, sizeof(h), "Idempotency-Key: %s", key);
	http_req("POST", "/api/v1/pacientes/registro", "application/json",
	    json, strlen(json), extra, r);
}

static long long
recepcion_lim_id(void)
{
	char *v = db_value("SELECT id FROM usuarios WHERE email = "
	    "'recepcion.lim@vetred.pe'");
	long long id;

	ck_assert_ptr_nonnull(v);
	id = atoll(v);
	free(v);
	return id;
}

/*
 * A registration sent twice with one Idempotency-Key registers one pet:
 * the second answer is the first (same id, Idempotent-Replayed) and
 * writes nothing; the key with another body is a 422 that writes nothing;
 * another user's key of the same text is that user's own (here: refused
 * as a duplicate of the pet, not replayed); a bad key is a 400.
 */
START_TEST(registro_con_la_misma_clave_registra_uno)
{
	char *dni = fx_dni_libre(), body[512], key[64], h[64], *tok;
	long long id, prop;
	struct fx_counts before;
	struct http_resp r;

	snprintf(key, sizeof(key), "reg-%ld-%lld", (long)getpid(),
	    (long long)time(NULL));
	snprintf(body, sizeof(body), DUENO("") ",\"nombre\":\"Nieve\","
	    "\"especie\":\"felino\",\"fecha_nacimiento\":\"2021-03-04\"}",
	    dni);
	fx_snapshot(&before);
	registrar_con(body, key, &r);
	ck_assert_msg(r.status == 201, "%ld %s", r.status, r.body);
	id = json_ll(r.json, "id");
	prop = json_ll(cJSON_GetObjectItem(r.json, "propietario"), "id");
	ck_assert_ptr_null(http_header(&r, "Idempotent-Replayed", h,
	    sizeof(h)));
	http_free(&r);
	fx_assert_delta(&before, 0, 1, 1, 2, 1);

	fx_snapshot(&before);
	registrar_con(body, key, &r);
	ck_assert_msg(r.status == 201, "%ld %s", r.status, r.body);
	ck_assert_int_eq(json_ll(r.json, "id"), id);
	ck_assert_str_eq(json_s(cJSON_GetObjectItem(r.json, "propietario"),
	    "numero_documento"), dni);
	ck_assert_str_eq(http_header(&r, "Idempotent-Replayed", h,
	    sizeof(h)), "true");
	ck_assert_ptr_nonnull(http_header(&r, "Location", h, sizeof(h)));
	http_free(&r);
	fx_assert_unchanged(&before);
	ck_assert_int_eq(db_countf("SELECT count(*) FROM pacientes WHERE "
	    "propietario_id = %lld", prop), 1);

	/* The key with another body. */
	snprintf(body, sizeof(body), DUENO("") ",\"nombre\":\"Copo\","
	    "\"especie\":\"felino\"}", dni);
	registrar_con(body, key, &r);
	assert_problem(&r, 422, "idempotencia");
	ck_assert(fx_has_error(&r, "Idempotency-Key"));
	http_free(&r);
	fx_assert_unchanged(&before);

	/* Another user, the same key and body: its own request. */
	snprintf(body, sizeof(body), DUENO("") ",\"nombre\":\"Nieve\","
	    "\"especie\":\"felino\",\"fecha_nacimiento\":\"2021-03-04\"}",
	    dni);
	tok = token_for(recepcion_lim_id(), "[{\"rol\":\"recepcion\","
	    "\"sede\":1}]");
	http_token(tok);
	registrar_con(body, key, &r);
	http_token(NULL);
	assert_problem(&r, 409, "paciente-existente");
	ck_assert_int_eq(json_ll(cJSON_GetObjectItem(r.json,
	    "paciente_existente"), "id"), id);
	http_free(&r);
	fx_assert_unchanged(&before);
	/* ... and a refusal keeps no key. */
	ck_assert_int_eq(db_countf("SELECT count(*) FROM idempotencia_usuario "
	    "WHERE clave = '%s'", key), 1);
	free(tok);

	registrar_con(body, "clave con espacios", &r);
	assert_problem(&r, 400, "idempotencia");
	http_free(&r);
	fx_assert_unchanged(&before);
	free(dni);
}
END_TEST

/*
 * Without a key, a second live pet of the owner with the same name
 * (whatever its case, accents or blanks), species and birth date is a
 * 409 naming the first, and writes nothing; with "duplicado_intencional":
 * true it is registered.  Another name, species or birth date, or a first
 * pet no longer active, is no duplicate.
 */
START_TEST(registro_duplicado_es_409_salvo_intencional)
{
	char *dni = fx_dni_libre(), body[640], detail[256];
	long long id, prop, id2;
	struct fx_counts before;
	struct http_resp r;

	snprintf(body, sizeof(body), DUENO("") ",\"nombre\":\"Firulais\","
	    "\"especie\":\"canino\",\"fecha_nacimiento\":\"2022-05-10\"}",
	    dni);
	registrar(body, &r);
	ck_assert_msg(r.status == 201, "%ld %s", r.status, r.body);
	id = json_ll(r.json, "id");
	prop = json_ll(cJSON_GetObjectItem(r.json, "propietario"), "id");
	http_free(&r);

	/* The same, twice: by the owner's document, then by its id. */
	fx_snapshot(&before);
	registrar(body, &r);
	assert_problem(&r, 409, "paciente-existente");
	ck_assert_int_eq(json_ll(cJSON_GetObjectItem(r.json,
	    "paciente_existente"), "id"), id);
	ck_assert_int_eq(json_ll(cJSON_GetObjectItem(r.json,
	    "paciente_existente"), "propietario_id"), prop);
	snprintf(detail, sizeof(detail), "paciente %lld ", id);
	ck_assert_ptr_nonnull(strstr(json_s(r.json, "detail"), detail));
	ck_assert(fx_has_error(&r, "nombre"));
	http_free(&r);
	snprintf(body, sizeof(body), "{\"propietario_id\":%lld,\"nombre\":"
	    "\"  FIRULÁIS \",\"especie\":\"canino\",\"fecha_nacimiento\":"
	    "\"2022-05-10\",\"sede_registro_id\":1}", prop);
	registrar(body, &r);
	assert_problem(&r, 409, "paciente-existente");
	ck_assert_int_eq(json_ll(cJSON_GetObjectItem(r.json,
	    "paciente_existente"), "id"), id);
	http_free(&r);
	fx_assert_unchanged(&before);

	/* Intended: registered. */
	snprintf(body, sizeof(body), "{\"propietario_id\":%lld,\"nombre\":"
	    "\"Firulais\",\"especie\":\"canino\",\"fecha_nacimiento\":"
	    "\"2022-05-10\",\"duplicado_intencional\":true}", prop);
	registrar(body, &r);
	ck_assert_msg(r.status == 201, "%ld %s", r.status, r.body);
	id2 = json_ll(r.json, "id");
	ck_assert_int_ne(id2, id);
	http_free(&r);
	fx_assert_delta(&before, 0, 0, 1, 1, 1);
	snprintf(body, sizeof(body), "{\"propietario_id\":%lld,\"nombre\":"
	    "\"Firulais\",\"especie\":\"canino\",\"duplicado_intencional"
	    "\":\"si\"}", prop);
	registrar(body, &r);
	assert_problem(&r, 422, "validacion");
	ck_assert(fx_has_error(&r, "duplicado_intencional"));
	http_free(&r);

	/* Not duplicates: another birth date, species or name; none. */
	snprintf(body, sizeof(body), "{\"propietario_id\":%lld,\"nombre\":"
	    "\"Firulais\",\"especie\":\"canino\",\"fecha_nacimiento\":"
	    "\"2023-01-01\"}", prop);
	registrar(body, &r);
	ck_assert_msg(r.status == 201, "%ld %s", r.status, r.body);
	http_free(&r);
	snprintf(body, sizeof(body), "{\"propietario_id\":%lld,\"nombre\":"
	    "\"Firulais\",\"especie\":\"felino\",\"fecha_nacimiento\":"
	    "\"2022-05-10\"}", prop);
	registrar(body, &r);
	ck_assert_msg(r.status == 201, "%ld %s", r.status, r.body);
	http_free(&r);
	snprintf(body, sizeof(body), "{\"propietario_id\":%lld,\"nombre\":"
	    "\"Sin fecha\",\"especie\":\"canino\"}", prop);
	registrar(body, &r);
	ck_assert_msg(r.status == 201, "%ld %s", r.status, r.body);
	http_free(&r);
	registrar(body, &r);		/* no birth date either: the same */
	assert_problem(&r, 409, "paciente-existente");
	http_free(&r);

	/* Both Firulais of 2022 no longer active: a new one is welcome. */
	db_execf("UPDATE pacientes SET activo = false WHERE id IN (%lld, %lld)",
	    id, id2);
	snprintf(body, sizeof(body), "{\"propietario_id\":%lld,\"nombre\":"
	    "\"Firulais\",\"especie\":\"canino\",\"fecha_nacimiento\":"
	    "\"2022-05-10\"}", prop);
	registrar(body, &r);
	ck_assert_msg(r.status == 201, "%ld %s", r.status, r.body);
	http_free(&r);
	free(dni);
}
END_TEST

START_TEST(get_paciente_ids)
{
	static const char *const malos[] = { "abc", "0", "-1", "1.5", "1e3",
	    "%27", "99999999999999999999", NULL };
	struct http_resp r;
	char path[96];
	int i;

	http_get("/api/v1/pacientes/1", &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(json_s(r.json, "nombre"), "Rocky");
	ck_assert(cJSON_IsObject(cJSON_GetObjectItem(r.json, "propietario")));
	http_free(&r);
	http_get("/api/v1/pacientes/9007199254740991", &r);
	assert_problem(&r, 404, "no-encontrado");
	http_free(&r);
	http_get("/api/v1/pacientes/9007199254740991/historial", &r);
	assert_problem(&r, 404, "no-encontrado");
	http_free(&r);
	for (i = 0; malos[i] != NULL; i++) {
		snprintf(path, sizeof(path), "/api/v1/pacientes/%s", malos[i]);
		http_get(path, &r);
		assert_problem(&r, 400, "id-invalido");
		http_free(&r);
		snprintf(path, sizeof(path), "/api/v1/pacientes/%s/historial",
		    malos[i]);
		http_get(path, &r);
		assert_problem(&r, 400, "id-invalido");
		http_free(&r);
	}
}
END_TEST

/* ---- history ----------------------------------------------------------- */

struct evento {
	const char	*tipo;
	long long	 id;
};

/* The id of the row an INSERT ... RETURNING id made. */
static long long
insertado(char *v)
{
	long long id;

	ck_assert_ptr_nonnull(v);
	id = atoll(v);
	free(v);
	return id;
}

/*
 * A fresh patient with thirteen timeline items, and the order the
 * history must show them in, newest first: two upcoming appointments
 * (booked through the API), then weights, clinical entries, past
 * appointments, vaccinations and treatments written by SQL at known
 * times, with a three-way tie on one date (two vaccinations and a
 * treatment, all dated the same local day: vacunacion sorts before
 * tratamiento, and the higher id first).
 */
static long long
historia(struct evento *ev)
{
	long long pac = fx_paciente(), vet = fx_vet(SEDE, FX_DIA_COMPLETO);
	long long d = fx_dia("America/Lima", 1, 7), v1, v2;
	char t[FX_HORA_LEN];
	int n = 0;

	fx_hora(d + FX_HM(33, 0), FX_LIMA, t);
	ev[n++] = (struct evento){ "cita", fx_reservar_ok(&(struct fx_cita){
	    .paciente = pac, .veterinario = vet, .sede = SEDE,
	    .inicio = t }) };
	fx_hora(d + FX_HM(9, 0), FX_LIMA, t);
	ev[n++] = (struct evento){ "cita", fx_reservar_ok(&(struct fx_cita){
	    .paciente = pac, .veterinario = vet, .sede = SEDE,
	    .inicio = t }) };
#define PESO(ago, g) insertado(db_valuef("INSERT INTO paciente_pesos " \
	"(paciente_id, peso_gramos, medido_en) VALUES (%lld, %d, now() - " \
	"interval '%s') RETURNING id", pac, g, ago))
#define ENTRADA(ago) insertado(db_valuef("INSERT INTO historia_entradas " \
	"(paciente_id, veterinario_id, sede_id, tipo, texto, creado_en) " \
	"VALUES (%lld, %lld, 1, 'control', 'Control de rutina', now() - " \
	"interval '%s') RETURNING id", pac, vet, ago))
#define PASADA(ago, estado) insertado(db_valuef("INSERT INTO citas " \
	"(sede_id, veterinario_id, paciente_id, periodo, estado, motivo) " \
	"VALUES (1, %lld, %lld, tstzrange(now() - interval '%s', now() - " \
	"interval '%s' + interval '30 minutes'), '%s', 'Pasada') RETURNING " \
	"id", vet, pac, ago, ago, estado))
#define VACUNA(dias, codigo) insertado(db_valuef("INSERT INTO vacunaciones " \
	"(paciente_id, vacuna_id, lote, fecha_aplicacion, veterinario_id, " \
	"sede_id) SELECT %lld, id, 'L-1', (now() AT TIME ZONE " \
	"'America/Lima')::date - %d, %lld, 1 FROM vacunas WHERE codigo = " \
	"'%s' RETURNING id", pac, dias, vet, codigo))
#define TRATAMIENTO(dias) insertado(db_valuef("INSERT INTO tratamientos " \
	"(paciente_id, veterinario_id, sede_id, descripcion, inicio) VALUES " \
	"(%lld, %lld, 1, 'Desparasitación', (now() AT TIME ZONE " \
	"'America/Lima')::date - %d) RETURNING id", pac, vet, dias))
	ev[n++] = (struct evento){ "peso", PESO("1 day", 5100) };
	ev[n++] = (struct evento){ "entrada", ENTRADA("2 days") };
	ev[n++] = (struct evento){ "cita", PASADA("3 days", "atendida") };
	v1 = VACUNA(5, "CAN-RABIA");
	v2 = VACUNA(5, "CAN-DHPP");
	ck_assert_int_lt(v1, v2);
	ev[n++] = (struct evento){ "vacunacion", v2 };
	ev[n++] = (struct evento){ "vacunacion", v1 };
	ev[n++] = (struct evento){ "tratamiento", TRATAMIENTO(5) };
	ev[n++] = (struct evento){ "peso", PESO("40 days", 4800) };
	ev[n++] = (struct evento){ "entrada", ENTRADA("50 days") };
	ev[n++] = (struct evento){ "cita", PASADA("60 days", "no_asistio") };
	ev[n++] = (struct evento){ "vacunacion", VACUNA(100, "CAN-DHPP") };
	ev[n++] = (struct evento){ "tratamiento", TRATAMIENTO(200) };
#undef PESO
#undef ENTRADA
#undef PASADA
#undef VACUNA
#undef TRATAMIENTO
	ck_assert_int_eq(n, 13);
	return pac;
}

/* The kind of a timeline item as a static string, "?" when unknown. */
static const char *
tipo_conocido(const char *s)
{
	static const char *const tipos[] = { "cita", "vacunacion",
	    "tratamiento", "entrada", "peso", NULL };
	int i;

	for (i = 0; tipos[i] != NULL; i++)
		if (strcmp(s, tipos[i]) == 0)
			return tipos[i];
	return "?";
}

/* Walk the whole history limite items at a time; items into got. */
static int
recorrer(long long pac, int limite, struct evento *got, int max)
{
	char path[256], cursor[96] = "", last[FX_HORA_LEN + 8] = "";
	const cJSON *e, *sig, *p;
	struct http_resp r;
	int n = 0, pages = 0, en_pagina;

	for (;;) {
		snprintf(path, sizeof(path), "/api/v1/pacientes/%lld/historial"
		    "?limite=%d%s%s", pac, limite, *cursor ? "&cursor=" : "",
		    cursor);
		http_get(path, &r);
		ck_assert_msg(r.status == 200, "%s: %ld %s", path, r.status,
		    r.body);
		p = cJSON_GetObjectItem(r.json, "paciente");
		ck_assert_int_eq(json_ll(p, "id"), pac);
		ck_assert(cJSON_IsObject(cJSON_GetObjectItem(p,
		    "propietario")));
		en_pagina = 0;
		cJSON_ArrayForEach(e, json_items(r.json)) {
			ck_assert_int_lt(n, max);
			/* Newest first; every date here is in UTC-5. */
			ck_assert_msg(!*last || strcmp(json_s(e, "fecha"),
			    last) <= 0, "%s after %s", json_s(e, "fecha"),
			    last);
			snprintf(last, sizeof(last), "%s", json_s(e, "fecha"));
			got[n].tipo = tipo_conocido(json_s(e, "tipo"));
			got[n++].id = json_ll(e, "id");
			en_pagina++;
		}
		ck_assert_int_le(en_pagina, limite);
		sig = cJSON_GetObjectItem(r.json, "siguiente_cursor");
		pages++;
		if (!cJSON_IsString(sig)) {
			ck_assert(cJSON_IsNull(sig));
			http_free(&r);
			break;
		}
		ck_assert_int_eq(en_pagina, limite);
		snprintf(cursor, sizeof(cursor), "%s", sig->valuestring);
		http_free(&r);
		ck_assert_int_lt(pages, 100);
	}
	ck_assert_int_eq(pages, n == 0 ? 1 : (n + limite - 1) / limite);
	return n;
}

START_TEST(historial_paginado_en_orden_sin_huecos)
{
	static const int limites[] = { 1, 2, 5, 13, 200 };
	struct evento want[13], got[32];
	long long pac = historia(want);
	size_t l;
	int i, n;

	for (l = 0; l < sizeof(limites) / sizeof(limites[0]); l++) {
		n = recorrer(pac, limites[l], got, 32);
		ck_assert_msg(n == 13, "limite %d: %d items", limites[l], n);
		for (i = 0; i < 13; i++)
			ck_assert_msg(strcmp(got[i].tipo, want[i].tipo) == 0 &&
			    got[i].id == want[i].id, "limite %d, item %d: %s "
			    "%lld, want %s %lld", limites[l], i, got[i].tipo,
			    got[i].id, want[i].tipo, want[i].id);
	}
}
END_TEST

START_TEST(historial_consultas_hostiles_son_400)
{
	static const struct { const char *q, *campo; } malas[] = {
		{ "limite=0", "limite" }, { "limite=-1", "limite" },
		{ "limite=abc", "limite" }, { "limite=201", "limite" },
		{ "limite=1.5", "limite" },
		{ "cursor=garbage", "cursor" }, { "cursor=1_2_3", "cursor" },
		{ "cursor=1_cita", "cursor" }, { "cursor=1_cita_2_3", "cursor" },
		{ "cursor=1_CITA_2", "cursor" }, { "cursor=x_cita_1", "cursor" },
		{ "cursor=99999999999999999999_cita_1", "cursor" },
		{ "cursor=9223372036854775807_cita_1", "cursor" },
		{ "cursor=1_cita_99999999999999999999", "cursor" },
		{ "cursor=1_cita%27%20OR%201=1_1", "cursor" },
		{ NULL, NULL }
	};
	struct http_resp r;
	char path[256];
	int i;

	for (i = 0; malas[i].q != NULL; i++) {
		snprintf(path, sizeof(path), "/api/v1/pacientes/1/historial?%s",
		    malas[i].q);
		http_get(path, &r);
		ck_assert_msg(r.status == 400, "%s: %ld %s", malas[i].q,
		    r.status, r.body);
		assert_problem(&r, 400, "parametro-invalido");
		ck_assert(fx_has_error(&r, malas[i].campo));
		http_free(&r);
	}
	/* A well-formed cursor far in the past or future is just a page. */
	http_get("/api/v1/pacientes/1/historial?cursor=1_cita_1", &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_int_eq(cJSON_GetArraySize(json_items(r.json)), 0);
	http_free(&r);
	http_get("/api/v1/pacientes/1/historial?cursor=999999999999999999_"
	    "tratamiento_999999999999999999", &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_int_ge(cJSON_GetArraySize(json_items(r.json)), 1);
	http_free(&r);
}
END_TEST

Suite *
pacientes_suite(void)
{
	Suite *s = suite_create("pacientes");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, registro_con_propietario_nuevo);
	tcase_add_test(tc, datos_del_propietario_cifrados);
	tcase_add_test(tc, sellos_v1_y_columna);
	tcase_add_test(tc, texto_clinico_cifrado);
	tcase_add_test(tc, mismo_documento_reutiliza_al_propietario);
	tcase_add_test(tc, registro_con_propietario_id_o_ce);
	tcase_add_test(tc, registro_invalido_es_422_y_no_escribe_nada);
	tcase_add_test(tc, microchip_repetido_es_409_sin_propietario_huerfano);
	tcase_add_test(tc, registro_texto_hostil_y_cuerpos_malos);
	tcase_add_test(tc, registro_con_la_misma_clave_registra_uno);
	tcase_add_test(tc, registro_duplicado_es_409_salvo_intencional);
	tcase_add_test(tc, get_paciente_ids);
	tcase_add_test(tc, historial_paginado_en_orden_sin_huecos);
	tcase_add_test(tc, historial_consultas_hostiles_son_400);
	suite_add_tcase(s, tc);
	return s;
}
