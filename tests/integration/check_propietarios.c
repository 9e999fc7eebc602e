/*
 * check_propietarios.c - owners and patients at the desk, end to end: an
 * owner read and corrected (versions, audit, event), found by each key
 * (document, phone, a word of the name, a pet's name) without leaking
 * another site's appointments, two records of one person merged; a
 * patient corrected, recorded deceased (its appointments to come
 * cancelled), given to another owner, weighed; and bad input to each
 * refused with nothing written.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "itest.h"
#include "vr.h"

/* A word of 10 random lower-case letters no name has: tests find their own
 * owners only.  malloc'd. */
static char *
palabra(void)
{
	char *v = db_value("SELECT string_agg(chr(97 + floor(random() * 26)"
	    "::int), '') FROM generate_series(1, 10)");

	ck_assert_ptr_nonnull(v);
	return v;
}

struct dueno {
	long long	 id, pet;
	char		*dni, *apellido, *mascota;
	char		 telefono[16];
};

/* Registers an owner "Ximena <apellido> Ccori" (DNI, phone) with one pet
 * "<mascota>" through the API. */
static void
dueno_nuevo(struct dueno *d, const char *email)
{
	char body[1024], mail[300] = "";
	struct http_resp r;
	char *tel = db_value("SELECT '+519' || lpad(floor(random() * 1e8)"
	    "::bigint::text, 8, '0')");

	d->dni = fx_dni_libre();
	d->apellido = palabra();
	d->mascota = palabra();
	snprintf(d->telefono, sizeof(d->telefono), "%s", tel);
	free(tel);
	if (email != NULL)
		snprintf(mail, sizeof(mail), ",\"email\":\"%s\"", email);
	snprintf(body, sizeof(body), "{\"propietario\":{\"nombres\":\"Ximena\","
	    "\"apellidos\":\"%s Ccori\",\"documento\":\"%s\",\"telefono\":"
	    "\"%s\"%s},\"nombre\":\"%s\",\"especie\":\"canino\","
	    "\"fecha_nacimiento\":\"2020-01-15\",\"sede_registro_id\":1}",
	    d->apellido, d->dni, d->telefono, mail, d->mascota);
	http_post_json("/api/v1/pacientes/registro", body, &r);
	ck_assert_msg(r.status == 201, "%ld %s", r.status, r.body);
	d->pet = json_ll(r.json, "id");
	d->id = json_ll(cJSON_GetObjectItem(r.json, "propietario"), "id");
	http_free(&r);
}

static void
dueno_free(struct dueno *d)
{
	free(d->dni);
	free(d->apellido);
	free(d->mascota);
}

static void
put(const char *path, const char *json, const char *if_match,
    struct http_resp *r)
{
	http_send_json("PUT", path, json, if_match, r);
}

/* GET /api/v1/propietarios?<query> (already escaped). */
static void
buscar(const char *query, struct http_resp *r)
{
	char path[700];

	snprintf(path, sizeof(path), "/api/v1/propietarios?%s", query);
	http_get(path, r);
}

/* The ids of a search page, in order, into ids (at most n); how many. */
static int
ids_de(const struct http_resp *r, long long *ids, int n)
{
	const cJSON *e;
	int k = 0;

	cJSON_ArrayForEach(e, json_items(r->json))
		if (k < n)
			ids[k++] = json_ll(e, "id");
	return k;
}

static int
contiene(const struct http_resp *r, long long id)
{
	long long ids[100];
	int i, n = ids_de(r, ids, 100);

	for (i = 0; i < n; i++)
		if (ids[i] == id)
			return 1;
	return 0;
}

/* The element of a search page for owner id, or NULL. */
static const cJSON *
elemento(const struct http_resp *r, long long id)
{
	const cJSON *e;

	cJSON_ArrayForEach(e, json_items(r->json))
		if (json_ll(e, "id") == id)
			return e;
	return NULL;
}

/*
 * GET and PUT of an owner: ETag and If-Match, the phone's hash kept with
 * the sealed number, null clears the e-mail, one audit row and one event
 * per change naming the fields (never their values).
 */
START_TEST(propietario_leer_y_corregir)
{
	struct dueno d, otro;
	struct http_resp r;
	struct fx_counts before;
	char path[64], etag[16], body[256], *ce;
	const cJSON *pets;

	dueno_nuevo(&d, "ximena@correo.pe");
	dueno_nuevo(&otro, NULL);
	snprintf(path, sizeof(path), "/api/v1/propietarios/%lld", d.id);
	http_get(path, &r);
	ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
	ck_assert_str_eq(json_s(r.json, "numero_documento"), d.dni);
	ck_assert_str_eq(json_s(r.json, "telefono"), d.telefono);
	ck_assert_str_eq(json_s(r.json, "email"), "ximena@correo.pe");
	ck_assert_int_eq(json_ll(r.json, "version"), 1);
	ck_assert_int_eq(json_ll(r.json, "solicitado_id"), d.id);
	ck_assert_str_eq(http_header(&r, "ETag", etag, sizeof(etag)), "\"1\"");
	pets = cJSON_GetObjectItem(r.json, "pacientes");
	ck_assert_int_eq(cJSON_GetArraySize(pets), 1);
	ck_assert_int_eq(json_ll(cJSON_GetArrayItem(pets, 0), "id"), d.pet);
	ck_assert_ptr_null(strstr(r.body, "v2:"));
	http_free(&r);
	ck_assert_int_eq(db_countf("SELECT count(*) FROM auditoria WHERE "
	    "entidad = 'propietarios' AND entidad_id = '%lld' AND accion = "
	    "'leer'", d.id), 1);
	ck_assert_int_eq(db_countf("SELECT count(*) FROM propietarios WHERE "
	    "id = %lld AND telefono_hmac = decode('%s', 'hex')", d.id,
	    doc_hmac(d.telefono)), 1);

	/* A new phone, the e-mail cleared. */
	fx_snapshot(&before);
	put(path, "{\"telefono\":\"+51911222333\",\"email\":null,"
	    "\"direccion\":\"Av. Sol 5\"}", "\"1\"", &r);
	ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
	ck_assert_str_eq(json_s(r.json, "telefono"), "+51911222333");
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(r.json, "email")));
	ck_assert_str_eq(json_s(r.json, "direccion"), "Av. Sol 5");
	ck_assert_int_eq(json_ll(r.json, "version"), 2);
	ck_assert_str_eq(http_header(&r, "ETag", etag, sizeof(etag)), "\"2\"");
	http_free(&r);
	fx_assert_delta(&before, 0, 0, 0, 1, 1);
	ck_assert_int_eq(db_countf("SELECT count(*) FROM propietarios WHERE "
	    "id = %lld AND telefono LIKE 'v2:%%' AND position('911222333' IN "
	    "telefono) = 0 AND telefono_hmac = decode('%s', 'hex') AND email "
	    "IS NULL", d.id, doc_hmac("+51911222333")), 1);
	ck_assert_int_eq(db_countf("SELECT count(*) FROM outbox WHERE tipo = "
	    "'propietario.actualizado' AND agregado_id = '%lld' AND "
	    "payload->'cambios' = '[\"direccion\", \"email\", \"telefono\"]'"
	    " AND position('911222333' IN payload::text) = 0", d.id), 1);
	ck_assert_int_eq(db_countf("SELECT count(*) FROM auditoria WHERE "
	    "entidad = 'propietarios' AND entidad_id = '%lld' AND accion = "
	    "'modificar' AND antes ? 'telefono' AND NOT antes ? 'nombres'",
	    d.id), 1);

	/* A stale version, another owner's document, nothing at all, bad
	 * values: refused, nothing written. */
	fx_snapshot(&before);
	put(path, "{\"nombres\":\"Xime\"}", "\"1\"", &r);
	assert_problem(&r, 412, "version-distinta");
	http_free(&r);
	snprintf(body, sizeof(body), "{\"documento\":\"%s\"}", otro.dni);
	put(path, body, NULL, &r);
	assert_problem(&r, 409, "conflicto");
	http_free(&r);
	put(path, "{}", NULL, &r);
	assert_problem(&r, 422, "validacion");
	ck_assert(fx_has_error(&r, "cuerpo"));
	http_free(&r);
	put(path, "{\"telefono\":\"987654321\",\"nombres\":\"  \","
	    "\"email\":\"no-es-correo\",\"documento\":\"123\","
	    "\"apellidos\":7,\"tipo_documento\":\"PAS\"}", NULL, &r);
	assert_problem(&r, 422, "validacion");
	ck_assert(fx_has_error(&r, "telefono"));
	ck_assert(fx_has_error(&r, "nombres"));
	ck_assert(fx_has_error(&r, "email"));
	ck_assert(fx_has_error(&r, "apellidos"));
	ck_assert(fx_has_error(&r, "tipo_documento"));
	http_free(&r);
	put(path, "{\"nombres\":\"Xime\"}", "\"abc\"", &r);
	assert_problem(&r, 422, "validacion");
	ck_assert(fx_has_error(&r, "If-Match"));
	http_free(&r);
	put("/api/v1/propietarios/999999999999", "{\"nombres\":\"Xime\"}",
	    NULL, &r);
	assert_problem(&r, 404, "no-encontrado");
	http_free(&r);
	put("/api/v1/propietarios/0", "{\"nombres\":\"Xime\"}", NULL, &r);
	assert_problem(&r, 400, "id-invalido");
	http_free(&r);
	fx_assert_unchanged(&before);
	http_get("/api/v1/propietarios/999999999999", &r);
	assert_problem(&r, 404, "no-encontrado");
	http_free(&r);
	http_get("/api/v1/propietarios/abc", &r);
	assert_problem(&r, 400, "id-invalido");
	http_free(&r);

	/* A change of document type with its number (sent in lower case). */
	ce = db_value("SELECT 'ce' || lpad(floor(random() * 1e9)::bigint::text,"
	    " 9, '0')");
	snprintf(body, sizeof(body), "{\"tipo_documento\":\"CE\","
	    "\"documento\":\"%s\"}", ce);
	put(path, body, "\"2\"", &r);
	ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
	ck_assert_str_eq(json_s(r.json, "tipo_documento"), "CE");
	ce[0] = 'C';
	ce[1] = 'E';
	ck_assert_str_eq(json_s(r.json, "numero_documento"), ce);
	http_free(&r);
	free(ce);
	put(path, "{\"tipo_documento\":\"DNI\"}", NULL, &r);
	assert_problem(&r, 422, "validacion");
	ck_assert(fx_has_error(&r, "documento"));
	http_free(&r);
	dueno_free(&d);
	dueno_free(&otro);
}
END_TEST

/* Found by the document, the phone (three ways of typing it), a word of
 * the names (accents and case aside), a pet's name, and two words. */
START_TEST(busqueda_por_cada_clave)
{
	struct dueno d;
	struct http_resp r;
	char q[256], tel9[16];
	const cJSON *e;
	long long before;

	dueno_nuevo(&d, NULL);
	before = db_count("SELECT count(*) FROM auditoria WHERE accion = "
	    "'buscar'");
	snprintf(q, sizeof(q), "q=%s", d.dni);
	buscar(q, &r);
	ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
	ck_assert_int_eq(cJSON_GetArraySize(json_items(r.json)), 1);
	e = elemento(&r, d.id);
	ck_assert_ptr_nonnull(e);
	ck_assert_str_eq(json_s(cJSON_GetObjectItem(e, "coincidencia"),
	    "campo"), "documento");
	ck_assert_str_eq(json_s(e, "telefono"), d.telefono);
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(r.json,
	    "siguiente_cursor")));
	http_free(&r);

	snprintf(q, sizeof(q), "q=%%2B51%s", d.telefono + 3);
	buscar(q, &r);
	ck_assert_int_eq(r.status, 200);
	e = elemento(&r, d.id);
	ck_assert_ptr_nonnull(e);
	ck_assert_str_eq(json_s(cJSON_GetObjectItem(e, "coincidencia"),
	    "campo"), "telefono");
	http_free(&r);
	snprintf(tel9, sizeof(tel9), "%s", d.telefono + 3);
	snprintf(q, sizeof(q), "q=%.3s%%20%.3s%%20%.3s", tel9, tel9 + 3,
	    tel9 + 6);
	buscar(q, &r);
	ck_assert_msg(r.status == 200 && contiene(&r, d.id), "%s", r.body);
	http_free(&r);

	/* A prefix of the surname, its first letter in capitals; the given
	 * name with an accent it does not have. */
	snprintf(q, sizeof(q), "q=%.6s", d.apellido);
	q[2] = (char)(q[2] - 32);
	buscar(q, &r);
	ck_assert_msg(r.status == 200 && contiene(&r, d.id), "%s", r.body);
	e = elemento(&r, d.id);
	ck_assert_str_eq(json_s(cJSON_GetObjectItem(e, "coincidencia"),
	    "campo"), "nombre");
	http_free(&r);
	snprintf(q, sizeof(q), "q=x%%C3%%ADmena%%20%s", d.apellido);
	buscar(q, &r);
	ck_assert_msg(r.status == 200 && contiene(&r, d.id), "%s", r.body);
	http_free(&r);
	/* The second surname alone, with the pet's name. */
	snprintf(q, sizeof(q), "q=ccori%%20%.5s", d.mascota);
	buscar(q, &r);
	ck_assert_msg(r.status == 200 && contiene(&r, d.id), "%s", r.body);
	http_free(&r);
	snprintf(q, sizeof(q), "q=%s", d.mascota);
	buscar(q, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_int_eq(cJSON_GetArraySize(json_items(r.json)), 1);
	e = cJSON_GetObjectItem(elemento(&r, d.id), "coincidencia");
	ck_assert_str_eq(json_s(e, "campo"), "paciente");
	ck_assert_int_eq(json_ll(e, "paciente_id"), d.pet);
	http_free(&r);
	/* Every word must match: the surname and a word the owner lacks. */
	snprintf(q, sizeof(q), "q=%s%%20zzzzzz", d.apellido);
	buscar(q, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_int_eq(cJSON_GetArraySize(json_items(r.json)), 0);
	http_free(&r);

	/* Each search left one audit row with the ids shown, never q. */
	ck_assert_int_eq(db_count("SELECT count(*) FROM auditoria WHERE accion "
	    "= 'buscar'") - before, 8);
	ck_assert_int_eq(db_countf("SELECT count(*) FROM auditoria WHERE "
	    "accion = 'buscar' AND despues->'propietarios' @> '[%lld]' AND "
	    "position('%s' IN despues::text) = 0 AND position('%s' IN "
	    "despues::text) = 0", d.id, d.dni, d.apellido), 7);
	dueno_free(&d);
}
END_TEST

/* 25 owners of one surname, 10 a page: all of them once, in order. */
START_TEST(busqueda_por_paginas)
{
	char *ap = palabra(), *dni, body[512], q[600];
	const char *cur;
	long long ids[100], all[30];
	struct http_resp r;
	int i, n, k = 0, pages = 0, j;

	for (i = 0; i < 25; i++) {
		dni = fx_dni_libre();
		snprintf(body, sizeof(body), "{\"propietario\":{\"nombres\":"
		    "\"Ana\",\"apellidos\":\"%s%c\",\"documento\":\"%s\","
		    "\"telefono\":\"+51900000001\"},\"nombre\":\"Toby\","
		    "\"especie\":\"felino\"}", ap, 'a' + (char)(24 - i), dni);
		http_post_json("/api/v1/pacientes/registro", body, &r);
		ck_assert_msg(r.status == 201, "%ld %s", r.status, r.body);
		http_free(&r);
		free(dni);
	}
	snprintf(q, sizeof(q), "q=%s&limite=10", ap);
	for (;;) {
		buscar(q, &r);
		ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
		n = ids_de(&r, ids, 100);
		ck_assert_int_le(n, 10);
		for (i = 0; i < n; i++)
			all[k++] = ids[i];
		pages++;
		cur = cJSON_GetStringValue(cJSON_GetObjectItem(r.json,
		    "siguiente_cursor"));
		if (cur == NULL) {
			http_free(&r);
			break;
		}
		snprintf(q, sizeof(q), "q=%s&limite=10&cursor=%s", ap, cur);
		http_free(&r);
		ck_assert_int_lt(pages, 5);
	}
	ck_assert_int_eq(pages, 3);
	ck_assert_int_eq(k, 25);
	/* Word order: the last registered ("...a") first. */
	for (i = 1; i < k; i++)
		ck_assert_int_lt(all[i], all[i - 1]);
	for (i = 0; i < k; i++)
		for (j = i + 1; j < k; j++)
			ck_assert_int_ne(all[i], all[j]);
	free(ap);
}
END_TEST

/*
 * Two words rarely found together: a page reads at most 2,000 rows of the
 * driving word's range, so it may come short -- even empty -- with a
 * cursor to go on; following the cursors finds every owner, once.
 */
START_TEST(busqueda_acotada_sigue_con_cursor)
{
	char *w = palabra(), *z = palabra(), q[600], *v;
	const char *cur;
	long long last, found[8];
	struct http_resp r;
	int pages = 0, n = 0, k;

	/* 2,100 owners with the word w; the last two also have z. */
	db_execf("INSERT INTO propietarios (nombres, apellidos, tipo_documento, "
	    "numero_documento, telefono) SELECT 'Ana', '%s' || CASE WHEN g > "
	    "2098 THEN ' %s' ELSE '' END, 'CE', 'Z' || lpad(g::text, 4, '0') || "
	    "upper(substr(md5(random()::text), 1, 6)), '+51900000003' FROM "
	    "generate_series(1, 2100) g", w, z);
	v = db_valuef("SELECT max(id) FROM propietarios WHERE apellidos = "
	    "'%s %s'", w, z);
	last = atoll(v);
	free(v);
	snprintf(q, sizeof(q), "q=%s%%20%.4s&limite=5", w, z);
	for (;;) {
		buscar(q, &r);
		ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
		k = ids_de(&r, found + n, 8 - n);
		n += k;
		pages++;
		cur = cJSON_GetStringValue(cJSON_GetObjectItem(r.json,
		    "siguiente_cursor"));
		if (cur == NULL) {
			http_free(&r);
			break;
		}
		snprintf(q, sizeof(q), "q=%s%%20%.4s&limite=5&cursor=%s", w, z,
		    cur);
		http_free(&r);
		ck_assert_int_lt(pages, 10);
	}
	/* The first page read 2,000 rows and found none of the two. */
	ck_assert_int_ge(pages, 2);
	ck_assert_int_eq(n, 2);
	ck_assert(found[0] == last || found[1] == last);
	ck_assert_int_ne(found[0], found[1]);
	free(w);
	free(z);
}
END_TEST

/*
 * A receptionist of one site sees a pet's next appointment there, and
 * not one at another site (nor its id): owners are the network's,
 * appointments the site's.
 */
START_TEST(busqueda_sin_citas_de_otras_sedes)
{
	long long sa = fx_sede("America/Lima"), sb = fx_sede("America/Lima");
	long long va = fx_vet(sa, FX_DIA_COMPLETO), cita, dia;
	struct fx_cita c;
	struct dueno d;
	struct http_resp r;
	char *ta, *tb, q[64], ini[FX_HORA_LEN], path[64], idtxt[32];
	const cJSON *pet;

	dueno_nuevo(&d, NULL);
	dia = fx_dia("America/Lima", 0, 3);
	fx_hora(dia + FX_HM(10, 0), FX_LIMA, ini);
	memset(&c, 0, sizeof(c));
	c.paciente = d.pet;
	c.veterinario = va;
	c.sede = sa;
	c.inicio = ini;
	cita = fx_reservar_ok(&c);
	snprintf(idtxt, sizeof(idtxt), "\"id\":%lld", cita);
	ta = fx_token_de("recepcion", sa, NULL);
	tb = fx_token_de("recepcion", sb, NULL);
	snprintf(q, sizeof(q), "q=%s", d.mascota);

	http_token(ta);
	buscar(q, &r);
	ck_assert_int_eq(r.status, 200);
	pet = cJSON_GetArrayItem(cJSON_GetObjectItem(elemento(&r, d.id),
	    "pacientes"), 0);
	ck_assert_int_eq(json_ll(cJSON_GetObjectItem(pet, "proxima_cita"),
	    "id"), cita);
	http_free(&r);

	http_token(tb);
	buscar(q, &r);
	ck_assert_int_eq(r.status, 200);
	pet = cJSON_GetArrayItem(cJSON_GetObjectItem(elemento(&r, d.id),
	    "pacientes"), 0);
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(pet, "proxima_cita")));
	ck_assert_ptr_null(strstr(r.body, idtxt));
	http_free(&r);
	snprintf(path, sizeof(path), "/api/v1/propietarios/%lld", d.id);
	http_get(path, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_ptr_null(strstr(r.body, idtxt));
	http_free(&r);

	/* Pharmacy and auditors do not search owners. */
	free(tb);
	tb = fx_token_de("farmacia", sb, NULL);
	http_token(tb);
	buscar(q, &r);
	assert_problem(&r, 403, "prohibido");
	http_free(&r);
	http_token(NULL);
	free(ta);
	free(tb);
	dueno_free(&d);
}
END_TEST

/* Missing, blank, long, too many words, bad cursor and limits: 400 and
 * no audit row; hostile text finds nothing and breaks nothing. */
START_TEST(busqueda_hostil)
{
	static const char *const bad[] = {
		"", "q=", "q=%20%20", "q=a&limite=0", "q=a&limite=101",
		"q=a&limite=abc", "q=a%20b%20c%20d%20e%20f",
		"q=a&cursor=sin-guion", "q=a&cursor=_12", "q=a&cursor=abc_x",
		"q=a&cursor=a%20b_1", "q=a&cursor=abc_0", "q=%FF%FE",
		"q=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	};
	static const char *const odd[] = {
		"q=%27%3B%20DROP%20TABLE%20propietarios%3B--",
		"q=%25", "q=_", "q=%5C", "q=%E2%80%AE", "q=%2B",
		"q=a&cursor=%F0%9F%98%80_1", "q=00000000",
		"q=12345678&cursor=abc_1",
	};
	struct http_resp r;
	long long before = db_count("SELECT count(*) FROM auditoria WHERE "
	    "accion = 'buscar'");
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		buscar(bad[i], &r);
		ck_assert_msg(r.status == 400, "%s: %ld %s", bad[i], r.status,
		    r.body);
		assert_problem(&r, 400, "parametro-invalido");
		http_free(&r);
	}
	ck_assert_int_eq(db_count("SELECT count(*) FROM auditoria WHERE "
	    "accion = 'buscar'"), before);
	for (i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
		buscar(odd[i], &r);
		ck_assert_msg(r.status == 200, "%s: %ld %s", odd[i], r.status,
		    r.body);
		http_free(&r);
	}
	ck_assert_int_gt(db_count("SELECT count(*) FROM propietarios"), 0);
}
END_TEST

/*
 * Two records of one person merged: the pets (and their appointments'
 * documents) move, the gaps in contact data are filled, the merged id
 * and document answer as the owner kept, audited with its event; a
 * second merge, a merge with itself or an unknown record, and a
 * receptionist are refused.
 */
START_TEST(fusion_de_propietarios)
{
	long long sede = fx_sede("America/Lima");
	long long vet = fx_vet(sede, FX_DIA_COMPLETO), cita, dia;
	struct dueno a, b;
	struct fx_cita c;
	struct fx_counts before;
	struct http_resp r;
	char path[96], body[512], q[64], ini[FX_HORA_LEN], *tok;

	dueno_nuevo(&a, NULL);
	dueno_nuevo(&b, "b@correo.pe");
	dia = fx_dia("America/Lima", 0, 2);
	fx_hora(dia + FX_HM(9, 0), FX_LIMA, ini);
	memset(&c, 0, sizeof(c));
	c.paciente = b.pet;
	c.veterinario = vet;
	c.sede = sede;
	c.inicio = ini;
	cita = fx_reservar_ok(&c);

	snprintf(path, sizeof(path), "/api/v1/propietarios/%lld/fusion", a.id);
	tok = fx_token_de("recepcion", 1, NULL);
	http_token(tok);
	snprintf(body, sizeof(body), "{\"origen_id\":%lld}", b.id);
	http_post_json(path, body, &r);
	assert_problem(&r, 403, "prohibido");
	http_free(&r);
	free(tok);
	tok = fx_token_de("admin_sede", 1, NULL);
	http_token(tok);
	http_send_json("POST", path, body, "\"7\"", &r);
	assert_problem(&r, 412, "version-distinta");
	http_free(&r);

	fx_snapshot(&before);
	http_send_json("POST", path, body, "\"1\"", &r);
	ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
	ck_assert_int_eq(json_ll(r.json, "id"), a.id);
	ck_assert_str_eq(json_s(r.json, "email"), "b@correo.pe");
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(r.json,
	    "pacientes")), 2);
	ck_assert_int_eq((long long)cJSON_GetArrayItem(cJSON_GetObjectItem(
	    r.json, "fusionados"), 0)->valuedouble, b.id);
	http_free(&r);
	http_token(NULL);
	fx_assert_delta(&before, 0, 0, 0, 2, 1);
	ck_assert_int_eq(db_countf("SELECT count(*) FROM pacientes WHERE "
	    "propietario_id = %lld", a.id), 2);
	ck_assert_int_eq(db_countf("SELECT count(*) FROM citas WHERE id = %lld"
	    " AND (documento::jsonb->>'propietario_id')::bigint = %lld", cita,
	    a.id), 1);
	ck_assert_int_eq(db_countf("SELECT count(*) FROM auditoria WHERE "
	    "entidad = 'propietarios' AND entidad_id = '%lld' AND accion = "
	    "'fusionar' AND (despues->>'fusionado_en')::bigint = %lld", b.id,
	    a.id), 1);
	ck_assert_int_eq(db_countf("SELECT count(*) FROM outbox WHERE tipo = "
	    "'propietario.fusionado' AND agregado_id = '%lld' AND "
	    "(payload->>'fusionado_id')::bigint = %lld AND payload->'pacientes'"
	    " = '[%lld]'", a.id, b.id, b.pet), 1);

	/* The merged id reads as the owner kept; its document too. */
	snprintf(path, sizeof(path), "/api/v1/propietarios/%lld", b.id);
	http_get(path, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_int_eq(json_ll(r.json, "id"), a.id);
	ck_assert_int_eq(json_ll(r.json, "solicitado_id"), b.id);
	http_free(&r);
	snprintf(q, sizeof(q), "q=%s", b.dni);
	buscar(q, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_int_eq(cJSON_GetArraySize(json_items(r.json)), 1);
	ck_assert(contiene(&r, a.id));
	http_free(&r);
	snprintf(q, sizeof(q), "q=%s", b.apellido);
	buscar(q, &r);
	ck_assert_int_eq(cJSON_GetArraySize(json_items(r.json)), 0);
	http_free(&r);
	snprintf(q, sizeof(q), "q=%s", b.mascota);
	buscar(q, &r);
	ck_assert(contiene(&r, a.id));
	http_free(&r);
	snprintf(body, sizeof(body), "{\"propietario\":{\"nombres\":\"X\","
	    "\"apellidos\":\"Y\",\"documento\":\"%s\",\"telefono\":"
	    "\"+51900000002\"},\"nombre\":\"Nuevo\",\"especie\":\"ave\"}", b.dni);
	http_post_json("/api/v1/pacientes/registro", body, &r);
	ck_assert_int_eq(r.status, 201);
	ck_assert_int_eq(json_ll(cJSON_GetObjectItem(r.json, "propietario"),
	    "id"), a.id);
	http_free(&r);
	snprintf(body, sizeof(body), "{\"propietario_id\":%lld,\"nombre\":"
	    "\"Otro\",\"especie\":\"ave\"}", b.id);
	http_post_json("/api/v1/pacientes/registro", body, &r);
	ck_assert_int_eq(r.status, 201);
	ck_assert_int_eq(json_ll(cJSON_GetObjectItem(r.json, "propietario"),
	    "id"), a.id);
	http_free(&r);

	/* Refused, nothing written. */
	fx_snapshot(&before);
	snprintf(path, sizeof(path), "/api/v1/propietarios/%lld/fusion", a.id);
	snprintf(body, sizeof(body), "{\"origen_id\":%lld}", b.id);
	http_post_json(path, body, &r);
	assert_problem(&r, 409, "conflicto");
	http_free(&r);
	snprintf(path, sizeof(path), "/api/v1/propietarios/%lld/fusion", b.id);
	snprintf(body, sizeof(body), "{\"origen_id\":%lld}", a.id);
	http_post_json(path, body, &r);
	assert_problem(&r, 409, "conflicto");
	http_free(&r);
	snprintf(path, sizeof(path), "/api/v1/propietarios/%lld/fusion", a.id);
	snprintf(body, sizeof(body), "{\"origen_id\":%lld}", a.id);
	http_post_json(path, body, &r);
	assert_problem(&r, 422, "validacion");
	http_free(&r);
	http_post_json(path, "{\"origen_id\":999999999999}", &r);
	assert_problem(&r, 422, "validacion");
	http_free(&r);
	http_post_json(path, "{\"origen_id\":\"1\"}", &r);
	assert_problem(&r, 422, "validacion");
	http_free(&r);
	http_post_json(path, "{}", &r);
	assert_problem(&r, 422, "validacion");
	http_free(&r);
	http_post_json("/api/v1/propietarios/999999999999/fusion",
	    "{\"origen_id\":1}", &r);
	assert_problem(&r, 404, "no-encontrado");
	http_free(&r);
	snprintf(path, sizeof(path), "/api/v1/propietarios/%lld", b.id);
	put(path, "{\"nombres\":\"Otra\"}", NULL, &r);
	assert_problem(&r, 409, "conflicto");
	http_free(&r);
	fx_assert_unchanged(&before);
	free(tok);
	dueno_free(&a);
	dueno_free(&b);
}
END_TEST

/* A patient corrected: fields changed and cleared, versions, audit and
 * event; a microchip of another patient, a stale version, bad values. */
START_TEST(paciente_corregir)
{
	struct dueno d, otro;
	struct http_resp r;
	struct fx_counts before;
	char path[64], etag[16], body[128], *chip;

	dueno_nuevo(&d, NULL);
	dueno_nuevo(&otro, NULL);
	chip = db_value("SELECT '9' || lpad(floor(random() * 1e14)::bigint"
	    "::text, 14, '0')");
	snprintf(path, sizeof(path), "/api/v1/pacientes/%lld", d.pet);
	http_get(path, &r);
	ck_assert_str_eq(http_header(&r, "ETag", etag, sizeof(etag)), "\"1\"");
	http_free(&r);
	fx_snapshot(&before);
	snprintf(body, sizeof(body), "{\"raza\":\"Mestizo\",\"esterilizado\":"
	    "true,\"microchip\":\"%s\",\"alergias\":\"Ketoprofeno\"}", chip);
	put(path, body, "\"1\"", &r);
	ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
	ck_assert_str_eq(json_s(r.json, "raza"), "Mestizo");
	ck_assert_str_eq(json_s(r.json, "alergias"), "Ketoprofeno");
	ck_assert_int_eq(json_ll(r.json, "version"), 2);
	http_free(&r);
	fx_assert_delta(&before, 0, 0, 0, 1, 1);
	ck_assert_int_eq(db_countf("SELECT count(*) FROM pacientes WHERE id = "
	    "%lld AND alergias LIKE 'v2:%%' AND position('Ketoprofeno' IN "
	    "alergias) = 0", d.pet), 1);
	ck_assert_int_eq(db_countf("SELECT count(*) FROM outbox WHERE tipo = "
	    "'paciente.actualizado' AND agregado_id = '%lld' AND "
	    "payload->'cambios' = '[\"alergias\", \"esterilizado\", "
	    "\"microchip\", \"raza\"]'", d.pet), 1);
	put(path, "{\"raza\":null,\"fecha_nacimiento\":null}", "\"2\"", &r);
	ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(r.json, "raza")));
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(r.json, "fecha_nacimiento")));
	http_free(&r);

	fx_snapshot(&before);
	put(path, "{\"nombre\":\"Otro\"}", "\"1\"", &r);
	assert_problem(&r, 412, "version-distinta");
	http_free(&r);
	snprintf(path, sizeof(path), "/api/v1/pacientes/%lld", otro.pet);
	snprintf(body, sizeof(body), "{\"microchip\":\"%s\"}", chip);
	put(path, body, NULL, &r);
	assert_problem(&r, 409, "conflicto");
	http_free(&r);
	put(path, "{\"especie\":\"dragon\",\"sexo\":\"x\",\"fecha_nacimiento\":"
	    "\"2020-13-01\",\"microchip\":\"12\",\"esterilizado\":\"si\","
	    "\"activo\":1,\"nombre\":\"\"}", NULL, &r);
	assert_problem(&r, 422, "validacion");
	ck_assert(fx_has_error(&r, "especie"));
	ck_assert(fx_has_error(&r, "sexo"));
	ck_assert(fx_has_error(&r, "fecha_nacimiento"));
	ck_assert(fx_has_error(&r, "microchip"));
	ck_assert(fx_has_error(&r, "esterilizado"));
	ck_assert(fx_has_error(&r, "activo"));
	ck_assert(fx_has_error(&r, "nombre"));
	http_free(&r);
	put(path, "{\"fecha_nacimiento\":\"2099-01-01\"}", NULL, &r);
	assert_problem(&r, 422, "validacion");
	http_free(&r);
	put(path, "{}", NULL, &r);
	assert_problem(&r, 422, "validacion");
	http_free(&r);
	put("/api/v1/pacientes/999999999999", "{\"nombre\":\"X\"}", NULL, &r);
	assert_problem(&r, 404, "no-encontrado");
	http_free(&r);
	fx_assert_unchanged(&before);
	free(chip);
	dueno_free(&d);
	dueno_free(&otro);
}
END_TEST

/*
 * A death recorded: the patient deceased and inactive, the cause sealed,
 * its live appointments to come cancelled (each with its event) and its
 * past ones left alone; a second time, a date in the future or before
 * the birth, and making it active again are refused.
 */
START_TEST(paciente_fallecido)
{
	long long sede = fx_sede("America/Lima");
	long long vet = fx_vet(sede, FX_DIA_COMPLETO), c1, c2, dia;
	struct dueno d;
	struct fx_cita c;
	struct fx_counts before;
	struct http_resp r;
	char path[96], ini[FX_HORA_LEN], *manana;
	const cJSON *canc;

	dueno_nuevo(&d, NULL);
	dia = fx_dia("America/Lima", 0, 2);
	memset(&c, 0, sizeof(c));
	c.paciente = d.pet;
	c.veterinario = vet;
	c.sede = sede;
	fx_hora(dia + FX_HM(9, 0), FX_LIMA, ini);
	c.inicio = ini;
	c1 = fx_reservar_ok(&c);
	fx_hora(dia + FX_HM(11, 0), FX_LIMA, ini);
	c2 = fx_reservar_ok(&c);
	snprintf(path, sizeof(path), "/api/v1/pacientes/%lld/fallecimiento",
	    d.pet);

	fx_snapshot(&before);
	manana = db_value("SELECT (now() AT TIME ZONE 'Etc/GMT-14')::date + 1");
	http_post_json(path, "{\"fecha\":\"2019-12-31\"}", &r);
	assert_problem(&r, 422, "validacion");
	ck_assert(fx_has_error(&r, "fecha"));
	http_free(&r);
	{
		char body[64];

		snprintf(body, sizeof(body), "{\"fecha\":\"%s\"}", manana);
		http_post_json(path, body, &r);
		assert_problem(&r, 422, "validacion");
		http_free(&r);
	}
	http_post_json(path, "{\"fecha\":\"ayer\"}", &r);
	assert_problem(&r, 422, "validacion");
	http_free(&r);
	http_post_json(path, "{\"causa\":\"x\"}", &r);
	assert_problem(&r, 422, "validacion");
	ck_assert(fx_has_error(&r, "fecha"));
	http_free(&r);
	fx_assert_unchanged(&before);

	http_post_json(path, "{\"fecha\":\"2026-01-10\",\"causa\":"
	    "\"Insuficiencia renal crónica\"}", &r);
	ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(r.json, "fallecido")));
	ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(r.json, "activo")));
	ck_assert_str_eq(json_s(r.json, "causa_fallecimiento"),
	    "Insuficiencia renal crónica");
	canc = cJSON_GetObjectItem(r.json, "citas_canceladas");
	ck_assert_int_eq(cJSON_GetArraySize(canc), 2);
	http_free(&r);
	ck_assert_int_eq(db_countf("SELECT count(*) FROM citas WHERE id IN "
	    "(%lld, %lld) AND estado = 'cancelada' AND motivo_cancelacion = "
	    "'Paciente fallecido'", c1, c2), 2);
	ck_assert_int_eq(db_countf("SELECT count(*) FROM outbox WHERE tipo = "
	    "'cita.cancelada' AND agregado_id IN ('%lld', '%lld')", c1, c2), 2);
	ck_assert_int_eq(db_countf("SELECT count(*) FROM outbox WHERE tipo = "
	    "'paciente.fallecido' AND agregado_id = '%lld' AND "
	    "payload->>'fecha_fallecimiento' = '2026-01-10' AND "
	    "jsonb_array_length(payload->'citas_canceladas') = 2", d.pet), 1);
	ck_assert_int_eq(db_countf("SELECT count(*) FROM pacientes WHERE id = "
	    "%lld AND causa_fallecimiento LIKE 'v2:%%'", d.pet), 1);
	ck_assert_int_eq(db_countf("SELECT count(*) FROM auditoria WHERE "
	    "entidad = 'pacientes' AND entidad_id = '%lld' AND accion = "
	    "'fallecimiento'", d.pet), 1);

	fx_snapshot(&before);
	http_post_json(path, "{\"fecha\":\"2026-01-11\"}", &r);
	assert_problem(&r, 409, "conflicto");
	http_free(&r);
	snprintf(path, sizeof(path), "/api/v1/pacientes/%lld", d.pet);
	put(path, "{\"activo\":true}", NULL, &r);
	assert_problem(&r, 409, "conflicto");
	http_free(&r);
	snprintf(path, sizeof(path), "/api/v1/pacientes/%lld/pesos", d.pet);
	http_post_json(path, "{\"peso_gramos\":5000}", &r);
	assert_problem(&r, 422, "validacion");
	http_free(&r);
	http_post_json("/api/v1/pacientes/999999999999/fallecimiento",
	    "{\"fecha\":\"2026-01-10\"}", &r);
	assert_problem(&r, 404, "no-encontrado");
	http_free(&r);
	fx_assert_unchanged(&before);
	free(manana);
	dueno_free(&d);
}
END_TEST

/* A patient given to another owner (a merged one stands for the owner
 * kept); the same owner again or an unknown one refused. */
START_TEST(paciente_transferido)
{
	struct dueno a, b;
	struct http_resp r;
	struct fx_counts before;
	char path[96], body[96];

	dueno_nuevo(&a, NULL);
	dueno_nuevo(&b, NULL);
	snprintf(path, sizeof(path), "/api/v1/pacientes/%lld/transferencia",
	    a.pet);
	snprintf(body, sizeof(body), "{\"propietario_id\":%lld}", b.id);
	fx_snapshot(&before);
	http_send_json("POST", path, body, "\"1\"", &r);
	ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
	ck_assert_int_eq(json_ll(cJSON_GetObjectItem(r.json, "propietario"),
	    "id"), b.id);
	http_free(&r);
	fx_assert_delta(&before, 0, 0, 0, 1, 1);
	ck_assert_int_eq(db_countf("SELECT count(*) FROM outbox WHERE tipo = "
	    "'paciente.transferido' AND agregado_id = '%lld' AND "
	    "(payload->>'propietario_anterior_id')::bigint = %lld AND "
	    "(payload->>'propietario_id')::bigint = %lld", a.pet, a.id, b.id),
	    1);

	fx_snapshot(&before);
	http_post_json(path, body, &r);
	assert_problem(&r, 409, "conflicto");
	http_free(&r);
	http_post_json(path, "{\"propietario_id\":999999999999}", &r);
	assert_problem(&r, 422, "validacion");
	http_free(&r);
	http_post_json(path, "{\"propietario_id\":-3}", &r);
	assert_problem(&r, 422, "validacion");
	http_free(&r);
	snprintf(body, sizeof(body), "{\"propietario_id\":%lld}", a.id);
	http_send_json("POST", path, body, "\"1\"", &r);
	assert_problem(&r, 412, "version-distinta");
	http_free(&r);
	fx_assert_unchanged(&before);
	dueno_free(&a);
	dueno_free(&b);
}
END_TEST

/* Weights: recorded, listed oldest first and in the history; out of
 * range, in the future, before the birth, not a time: refused. */
START_TEST(paciente_pesos)
{
	struct dueno d;
	struct http_resp r;
	struct fx_counts before;
	char path[96], hist[128];
	const cJSON *items;
	static const char *const bad[] = {
		"{\"peso_gramos\":0}", "{\"peso_gramos\":300001}",
		"{\"peso_gramos\":\"4000\"}", "{}", "{\"peso_gramos\":4.5}",
		"{\"peso_gramos\":4000,\"medido_en\":\"2099-01-01T10:00:00Z\"}",
		"{\"peso_gramos\":4000,\"medido_en\":\"2019-01-01T10:00:00Z\"}",
		"{\"peso_gramos\":4000,\"medido_en\":\"ayer por la tarde\"}",
		"{\"peso_gramos\":4000,\"medido_en\":\"2025-02-30T10:00:00Z\"}",
	};
	size_t i;

	dueno_nuevo(&d, NULL);
	snprintf(path, sizeof(path), "/api/v1/pacientes/%lld/pesos", d.pet);
	http_post_json(path, "{\"peso_gramos\":4100,\"medido_en\":"
	    "\"2025-06-01T10:00:00-05:00\"}", &r);
	ck_assert_msg(r.status == 201, "%ld %s", r.status, r.body);
	ck_assert_int_eq(json_ll(r.json, "peso_gramos"), 4100);
	http_free(&r);
	http_post_json(path, "{\"peso_gramos\":4350}", &r);
	ck_assert_int_eq(r.status, 201);
	http_free(&r);
	http_get(path, &r);
	ck_assert_int_eq(r.status, 200);
	items = cJSON_GetObjectItem(r.json, "elementos");
	ck_assert_int_eq(cJSON_GetArraySize(items), 2);
	ck_assert_int_eq(json_ll(cJSON_GetArrayItem(items, 0), "peso_gramos"),
	    4100);
	ck_assert_int_eq(json_ll(cJSON_GetArrayItem(items, 1), "peso_gramos"),
	    4350);
	http_free(&r);
	snprintf(hist, sizeof(hist), "/api/v1/pacientes/%lld", d.pet);
	http_get(hist, &r);
	ck_assert_int_eq(json_ll(r.json, "peso_gramos"), 4350);
	http_free(&r);
	snprintf(hist, sizeof(hist), "/api/v1/pacientes/%lld/historial", d.pet);
	http_get(hist, &r);
	ck_assert_ptr_nonnull(strstr(r.body, "\"peso_gramos\": 4100") ?
	    strstr(r.body, "\"peso_gramos\": 4100") :
	    strstr(r.body, "\"peso_gramos\":4100"));
	http_free(&r);
	ck_assert_int_eq(db_countf("SELECT count(*) FROM auditoria WHERE "
	    "entidad = 'paciente_pesos' AND accion = 'crear' AND "
	    "(despues->>'paciente_id')::bigint = %lld", d.pet), 2);

	fx_snapshot(&before);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		http_post_json(path, bad[i], &r);
		ck_assert_msg(r.status == 422, "%s: %ld %s", bad[i], r.status,
		    r.body);
		http_free(&r);
	}
	fx_assert_unchanged(&before);
	ck_assert_int_eq(db_countf("SELECT count(*) FROM paciente_pesos WHERE "
	    "paciente_id = %lld", d.pet), 2);
	http_get("/api/v1/pacientes/999999999999/pesos", &r);
	assert_problem(&r, 404, "no-encontrado");
	http_free(&r);
	snprintf(hist, sizeof(hist), "%s?limite=0", path);
	http_get(hist, &r);
	assert_problem(&r, 400, "parametro-invalido");
	http_free(&r);
	http_post_json("/api/v1/pacientes/999999999999/pesos",
	    "{\"peso_gramos\":4000}", &r);
	assert_problem(&r, 404, "no-encontrado");
	http_free(&r);
	dueno_free(&d);
}
END_TEST

/* vetred-admin cifrar fills the phone hash of rows sealed before it
 * existed, so they are found by phone too. */
START_TEST(cifrar_completa_el_hash_del_telefono)
{
	struct dueno d;
	struct http_resp r;
	char q[64], out[512];

	dueno_nuevo(&d, NULL);
	db_execf("UPDATE propietarios SET telefono_hmac = NULL WHERE id = %lld",
	    d.id);
	snprintf(q, sizeof(q), "q=%s", d.telefono + 3);
	buscar(q, &r);
	ck_assert(!contiene(&r, d.id));
	http_free(&r);
	ck_assert_int_eq(run_admin("cifrar", NULL, out, sizeof(out)), 0);
	ck_assert_int_eq(db_countf("SELECT count(*) FROM propietarios WHERE "
	    "id = %lld AND telefono_hmac = decode('%s', 'hex')", d.id,
	    doc_hmac(d.telefono)), 1);
	buscar(q, &r);
	ck_assert(contiene(&r, d.id));
	http_free(&r);
	dueno_free(&d);
}
END_TEST

Suite *
propietarios_suite(void)
{
	Suite *s = suite_create("propietarios");
	TCase *tc = tcase_create("desk");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, propietario_leer_y_corregir);
	tcase_add_test(tc, busqueda_por_cada_clave);
	tcase_add_test(tc, busqueda_por_paginas);
	tcase_add_test(tc, busqueda_acotada_sigue_con_cursor);
	tcase_add_test(tc, busqueda_sin_citas_de_otras_sedes);
	tcase_add_test(tc, busqueda_hostil);
	tcase_add_test(tc, fusion_de_propietarios);
	tcase_add_test(tc, paciente_corregir);
	tcase_add_test(tc, paciente_fallecido);
	tcase_add_test(tc, paciente_transferido);
	tcase_add_test(tc, paciente_pesos);
	tcase_add_test(tc, cifrar_completa_el_hash_del_telefono);
	suite_add_tcase(s, tc);
	return s;
}
