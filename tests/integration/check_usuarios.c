/*
 * check_usuarios.c - user administration through nginx: who may create,
 * read and change which users and roles, and what it does to sessions.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "itest.h"
#include "vr.h"

#define PW	"Caballo-Bateria-Grapa-77"

static int seq;

static void
email_new(char *out, size_t n)
{
	snprintf(out, n, "u%ld.%d.%ld@vetred.test", (long)getpid(), seq++,
	    (long)time(NULL) % 100000);
}

/* POST /usuarios with that body (roles JSON), as the current token. */
static void
crear(const char *email, const char *roles, const char *extra,
    struct http_resp *r)
{
	char body[1024];

	snprintf(body, sizeof(body), "{\"email\":\"%s\",\"nombre\":\"Persona "
	    "de prueba\",\"roles\":%s%s}", email, roles, extra ? extra : "");
	http_post_json("/api/v1/usuarios", body, r);
}

static long long
crear_ok(const char *roles)
{
	char email[96];
	struct http_resp r;
	long long id;

	email_new(email, sizeof(email));
	crear(email, roles, NULL, &r);
	ck_assert_msg(r.status == 201, "%ld %s", r.status, r.body);
	id = json_ll(r.json, "id");
	http_free(&r);
	return id;
}

static void
put(long long id, const char *body, struct http_resp *r)
{
	char path[64];

	snprintf(path, sizeof(path), "/api/v1/usuarios/%lld", id);
	http_req("PUT", path, "application/json", body, strlen(body), NULL, r);
}

static void
as_admin_sede(long long sede)
{
	char g[96], *tok;

	snprintf(g, sizeof(g), "[{\"rol\":\"admin_sede\",\"sede\":%lld}]", sede);
	tok = token_for(admin_id(), g);
	http_token(tok);
	free(tok);
}

START_TEST(crear_leer_y_entrar)
{
	char email[96], loc[96], path[64];
	struct http_resp r;
	long long id;
	const cJSON *roles;

	email_new(email, sizeof(email));
	crear(email, "[{\"rol\":\"veterinario\",\"sede\":1},{\"rol\":"
	    "\"veterinario\",\"sede\":2}]", ",\"password\":\"" PW "\"", &r);
	ck_assert_msg(r.status == 201, "%ld %s", r.status, r.body);
	id = json_ll(r.json, "id");
	snprintf(path, sizeof(path), "/api/v1/usuarios/%lld", id);
	ck_assert_str_eq(http_header(&r, "Location", loc, sizeof(loc)), path);
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(r.json, "tiene_clave")));
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(r.json, "activo")));
	roles = cJSON_GetObjectItem(r.json, "roles");
	ck_assert_int_eq(cJSON_GetArraySize(roles), 2);
	ck_assert_ptr_null(strstr(r.body, "argon2"));
	ck_assert_ptr_null(cJSON_GetObjectItem(r.json, "password_hash"));
	http_free(&r);

	ck_assert_int_eq(db_countf("SELECT count(*) FROM usuarios WHERE id = "
	    "%lld AND password_hash LIKE '$argon2id$%%'", id), 1);
	ck_assert_int_eq(db_countf("SELECT count(*) FROM auditoria WHERE "
	    "entidad = 'usuarios' AND entidad_id = '%lld' AND accion = 'crear' "
	    "AND usuario_id = %lld AND rol = 'admin_red' AND NOT (despues ? "
	    "'password_hash')", id, admin_id()), 1);
	ck_assert_int_eq(db_countf("SELECT count(*) FROM outbox WHERE tipo = "
	    "'usuario.creado' AND agregado_id = '%lld'", id), 1);
	ck_assert_int_eq(db_countf("SELECT count(*) FROM usuario_roles WHERE "
	    "usuario_id = %lld AND otorgado_por = %lld", id, admin_id()), 2);

	http_get(path, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(json_s(r.json, "email"), email);
	http_free(&r);

	http_login(email, PW, &r);
	ck_assert_int_eq(r.status, 200);
	http_free(&r);

	/* The same e-mail in another case is taken. */
	for (char *p = email; *p; p++)
		*p = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
	crear(email, "[]", NULL, &r);
	assert_problem(&r, 409, "conflicto");
	http_free(&r);
}
END_TEST

START_TEST(entrada_invalida_no_escribe)
{
	static const char *const bad[] = {
		"{}",
		"{\"email\":\"sin-arroba\",\"nombre\":\"X\",\"roles\":[]}",
		"{\"email\":\"a@b.pe\",\"roles\":[]}",
		"{\"email\":\"a@b.pe\",\"nombre\":\"X\"}",
		"{\"email\":\"a@b.pe\",\"nombre\":\"X\",\"roles\":{}}",
		"{\"email\":\"a@b.pe\",\"nombre\":\"X\",\"roles\":[1]}",
		"{\"email\":\"a@b.pe\",\"nombre\":\"X\",\"roles\":[{\"rol\":\"root\",\"sede\":null}]}",
		"{\"email\":\"a@b.pe\",\"nombre\":\"X\",\"roles\":[{\"rol\":\"admin_red\",\"sede\":1}]}",
		"{\"email\":\"a@b.pe\",\"nombre\":\"X\",\"roles\":[{\"rol\":\"admin_sede\",\"sede\":null}]}",
		"{\"email\":\"a@b.pe\",\"nombre\":\"X\",\"roles\":[{\"rol\":\"recepcion\",\"sede\":-1}]}",
		"{\"email\":\"a@b.pe\",\"nombre\":\"X\",\"roles\":[{\"rol\":\"recepcion\",\"sede\":1.5}]}",
		"{\"email\":\"a@b.pe\",\"nombre\":\"X\",\"roles\":[{\"rol\":\"recepcion\",\"sede\":\"1\"}]}",
		"{\"email\":\"a@b.pe\",\"nombre\":\"X\",\"roles\":[],\"password\":\"corta\"}",
		"{\"email\":\"a@b.pe\",\"nombre\":\"X\",\"roles\":[],\"password\":\"1234567890\"}",
		"{\"email\":\"a@b.pe\",\"nombre\":\"X\",\"roles\":[],\"password\":7}",
		"{\"email\":\"a@b.pe\",\"nombre\":\"\",\"roles\":[]}",
	};
	char many[4096];
	long long users = db_count("SELECT count(*) FROM usuarios");
	long long grants = db_count("SELECT count(*) FROM usuario_roles");
	struct http_resp r;
	size_t i, n;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		http_post_json("/api/v1/usuarios", bad[i], &r);
		ck_assert_msg(r.status == 422, "%s -> %ld %s", bad[i], r.status,
		    r.body);
		http_free(&r);
	}
	n = (size_t)snprintf(many, sizeof(many), "{\"email\":\"a@b.pe\","
	    "\"nombre\":\"X\",\"roles\":[");
	for (i = 0; i < 33; i++)
		n += (size_t)snprintf(many + n, sizeof(many) - n,
		    "%s{\"rol\":\"recepcion\",\"sede\":1}", i ? "," : "");
	snprintf(many + n, sizeof(many) - n, "]}");
	http_post_json("/api/v1/usuarios", many, &r);
	ck_assert_int_eq(r.status, 422);
	http_free(&r);
	/* A site that does not exist. */
	http_post_json("/api/v1/usuarios", "{\"email\":\"zz@b.pe\",\"nombre\":"
	    "\"X\",\"roles\":[{\"rol\":\"recepcion\",\"sede\":999999}]}", &r);
	ck_assert_msg(r.status == 422, "%ld %s", r.status, r.body);
	http_free(&r);
	ck_assert_int_eq(db_count("SELECT count(*) FROM usuarios"), users);
	ck_assert_int_eq(db_count("SELECT count(*) FROM usuario_roles"), grants);

	http_get("/api/v1/usuarios/0", &r);
	ck_assert_int_eq(r.status, 400);
	http_free(&r);
	http_get("/api/v1/usuarios/999999999", &r);
	assert_problem(&r, 404, "no-encontrado");
	http_free(&r);
	put(999999999, "{\"nombre\":\"X\"}", &r);
	assert_problem(&r, 404, "no-encontrado");
	http_free(&r);
	put(admin_id(), "{}", &r);
	ck_assert_int_eq(r.status, 422);
	http_free(&r);
	http_get("/api/v1/usuarios?limite=0", &r);
	ck_assert_int_eq(r.status, 400);
	http_free(&r);
	http_get("/api/v1/usuarios?cursor=abc", &r);
	ck_assert_int_eq(r.status, 400);
	http_free(&r);
}
END_TEST

/* A site administrator grants only at its sites, never admin_red. */
START_TEST(admin_sede_solo_en_su_sede)
{
	char email[96];
	struct http_resp r;
	long long mine, both, elsewhere;

	mine = crear_ok("[{\"rol\":\"recepcion\",\"sede\":1}]");
	both = crear_ok("[{\"rol\":\"veterinario\",\"sede\":1},{\"rol\":"
	    "\"veterinario\",\"sede\":2}]");
	elsewhere = crear_ok("[{\"rol\":\"farmacia\",\"sede\":2}]");
	as_admin_sede(1);

	email_new(email, sizeof(email));
	crear(email, "[{\"rol\":\"farmacia\",\"sede\":1},{\"rol\":"
	    "\"admin_sede\",\"sede\":1}]", NULL, &r);
	ck_assert_msg(r.status == 201, "%ld %s", r.status, r.body);
	http_free(&r);
	crear(email, "[{\"rol\":\"farmacia\",\"sede\":2}]", NULL, &r);
	assert_problem(&r, 403, "prohibido");
	http_free(&r);
	email_new(email, sizeof(email));
	crear(email, "[{\"rol\":\"admin_red\",\"sede\":null}]", NULL, &r);
	assert_problem(&r, 403, "prohibido");
	http_free(&r);
	crear(email, "[{\"rol\":\"auditor\",\"sede\":null}]", NULL, &r);
	assert_problem(&r, 403, "prohibido");
	http_free(&r);

	/* Its own person: rename, disable. */
	put(mine, "{\"nombre\":\"Nombre Nuevo\"}", &r);
	ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
	ck_assert_str_eq(json_s(r.json, "nombre"), "Nombre Nuevo");
	http_free(&r);
	/* Someone who also works elsewhere: roles here only. */
	put(both, "{\"nombre\":\"Otro\"}", &r);
	assert_problem(&r, 403, "prohibido");
	http_free(&r);
	put(both, "{\"roles\":[{\"rol\":\"recepcion\",\"sede\":1}]}", &r);
	ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
	http_free(&r);
	ck_assert_int_eq(db_countf("SELECT count(*) FROM usuario_roles WHERE "
	    "usuario_id = %lld AND ((rol = 'recepcion' AND sede_id = 1) OR "
	    "(rol = 'veterinario' AND sede_id = 2))", both), 2);
	ck_assert_int_eq(db_countf("SELECT count(*) FROM usuario_roles WHERE "
	    "usuario_id = %lld", both), 2);
	put(both, "{\"roles\":[{\"rol\":\"recepcion\",\"sede\":2}]}", &r);
	assert_problem(&r, 403, "prohibido");
	http_free(&r);
	/* Someone of another site: invisible and untouchable. */
	put(elsewhere, "{\"roles\":[]}", &r);
	assert_problem(&r, 403, "prohibido");
	http_free(&r);
	snprintf(email, sizeof(email), "/api/v1/usuarios/%lld", elsewhere);
	http_get(email, &r);
	assert_problem(&r, 403, "prohibido");
	http_free(&r);
	http_get("/api/v1/usuarios?limite=200", &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_ptr_null(strstr(r.body, "\"sede\": 3"));
	{
		const cJSON *e, *g;
		int ok;

		cJSON_ArrayForEach(e, json_items(r.json)) {
			ok = 0;
			cJSON_ArrayForEach(g, cJSON_GetObjectItem(e, "roles"))
				ok |= json_ll(g, "sede") == 1;
			ck_assert_msg(ok, "user %lld has no role at site 1",
			    json_ll(e, "id"));
		}
	}
	http_free(&r);
	http_token(NULL);
}
END_TEST

static long long
filas_de_usuarios(void)
{
	return db_count("SELECT (SELECT count(*) FROM usuarios) * 1000000 + "
	    "(SELECT count(*) FROM usuario_roles)");
}

/*
 * A site administrator creates no account without roles, and leaves
 * none without any: nobody but a network administrator would see it
 * again.  Roles out of its reach stay refused.  Nothing is written.
 */
START_TEST(admin_sede_no_deja_cuentas_sin_roles)
{
	char email[96];
	struct http_resp r;
	struct fx_counts before;
	long long mine, both, filas;

	mine = crear_ok("[{\"rol\":\"recepcion\",\"sede\":1}]");
	both = crear_ok("[{\"rol\":\"recepcion\",\"sede\":1},{\"rol\":"
	    "\"farmacia\",\"sede\":2}]");
	as_admin_sede(1);
	fx_snapshot(&before);
	filas = filas_de_usuarios();

	email_new(email, sizeof(email));
	crear(email, "[]", NULL, &r);
	assert_problem(&r, 422, "validacion");
	ck_assert(fx_has_error(&r, "roles"));
	http_free(&r);
	crear(email, "[{\"rol\":\"veterinario\",\"sede\":2}]", NULL, &r);
	assert_problem(&r, 403, "prohibido");
	http_free(&r);
	put(mine, "{\"roles\":[]}", &r);
	assert_problem(&r, 422, "validacion");
	ck_assert(fx_has_error(&r, "roles"));
	http_free(&r);
	put(mine, "{\"roles\":[{\"rol\":\"veterinario\",\"sede\":2}]}", &r);
	assert_problem(&r, 403, "prohibido");
	http_free(&r);
	ck_assert_int_eq(filas_de_usuarios(), filas);
	fx_assert_unchanged(&before);
	ck_assert_int_eq(db_countf("SELECT count(*) FROM usuario_roles WHERE "
	    "usuario_id = %lld AND rol = 'recepcion' AND sede_id = 1", mine), 1);
	ck_assert_int_eq(db_countf("SELECT count(*) FROM usuarios WHERE email "
	    "= '%s'", email), 0);

	/* Someone who also works elsewhere may leave this site. */
	put(both, "{\"roles\":[]}", &r);
	ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
	http_free(&r);
	ck_assert_int_eq(db_countf("SELECT count(*) FROM usuario_roles WHERE "
	    "usuario_id = %lld", both), 1);
	http_token(NULL);

	/* A network administrator still may (and sees the account). */
	put(mine, "{\"roles\":[]}", &r);
	ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
	http_free(&r);
}
END_TEST

/* Disabling, a new password or new roles end the user's access. */
START_TEST(cambios_cortan_el_acceso)
{
	char email[96], body[256], rt[64], *at;
	struct http_resp r;
	long long id;
	int i;
	long st = 0;

	email_new(email, sizeof(email));
	crear(email, "[{\"rol\":\"recepcion\",\"sede\":1}]",
	    ",\"password\":\"" PW "\"", &r);
	ck_assert_int_eq(r.status, 201);
	id = json_ll(r.json, "id");
	http_free(&r);
	http_login(email, PW, &r);
	ck_assert_int_eq(r.status, 200);
	at = strdup(json_s(r.json, "access_token"));
	snprintf(rt, sizeof(rt), "%s", json_s(r.json, "refresh_token"));
	http_free(&r);

	/* New roles: the old token stops within seconds, a refresh gets the
	 * new roles. */
	put(id, "{\"roles\":[{\"rol\":\"veterinario\",\"sede\":1}]}", &r);
	ck_assert_int_eq(r.status, 200);
	http_free(&r);
	http_token(at);
	for (i = 0; i < 40 && st != 401; i++) {
		usleep(100000);
		http_get("/api/v1/citas?sede_id=1", &r);
		st = r.status;
		http_free(&r);
	}
	ck_assert_int_eq(st, 401);
	http_token(NULL);
	snprintf(body, sizeof(body), "{\"refresh_token\":\"%s\"}", rt);
	http_post_json("/api/v1/auth/refresh", body, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_ptr_nonnull(strstr(r.body, "veterinario"));
	http_free(&r);

	/* A new password: old one refused, sessions revoked. */
	put(id, "{\"password\":\"Otra-Clave-Muy-Larga-9\"}", &r);
	ck_assert_int_eq(r.status, 200);
	http_free(&r);
	http_login(email, PW, &r);
	ck_assert_int_eq(r.status, 401);
	http_free(&r);
	http_login(email, "Otra-Clave-Muy-Larga-9", &r);
	ck_assert_int_eq(r.status, 200);
	http_free(&r);
	put(id, "{\"password\":\"1234567890\"}", &r);
	ck_assert_int_eq(r.status, 422);
	http_free(&r);

	/* Disabled: no sign-in. */
	put(id, "{\"activo\":false}", &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(r.json, "activo")));
	http_free(&r);
	http_login(email, "Otra-Clave-Muy-Larga-9", &r);
	ck_assert_int_eq(r.status, 401);
	http_free(&r);
	ck_assert_int_eq(db_countf("SELECT count(*) FROM sesiones WHERE "
	    "usuario_id = %lld AND revocado_en IS NULL", id), 0);
	free(at);

	/* Nobody disables themselves or changes their own roles. */
	put(admin_id(), "{\"activo\":false}", &r);
	ck_assert_int_eq(r.status, 422);
	http_free(&r);
	put(admin_id(), "{\"roles\":[]}", &r);
	ck_assert_int_eq(r.status, 422);
	http_free(&r);
}
END_TEST

START_TEST(lista_paginada)
{
	struct http_resp r;
	char path[96];
	const char *cur;
	long long last = 0, total = db_count("SELECT count(*) FROM usuarios");
	long long seen = 0;
	int pages = 0;

	snprintf(path, sizeof(path), "/api/v1/usuarios?limite=7");
	for (;;) {
		const cJSON *e;

		http_get(path, &r);
		ck_assert_int_eq(r.status, 200);
		cJSON_ArrayForEach(e, json_items(r.json)) {
			ck_assert_int_gt(json_ll(e, "id"), last);
			last = json_ll(e, "id");
			seen++;
		}
		pages++;
		e = cJSON_GetObjectItem(r.json, "siguiente_cursor");
		cur = cJSON_IsString(e) ? e->valuestring : NULL;
		if (cur == NULL) {
			http_free(&r);
			break;
		}
		snprintf(path, sizeof(path), "/api/v1/usuarios?limite=7&cursor=%s",
		    cur);
		http_free(&r);
		ck_assert_int_lt(pages, 1000);
	}
	ck_assert_int_ge(seen, total);
	ck_assert_int_ge(pages, 2);
}
END_TEST

Suite *
usuarios_suite(void)
{
	Suite *s = suite_create("usuarios");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, crear_leer_y_entrar);
	tcase_add_test(tc, entrada_invalida_no_escribe);
	tcase_add_test(tc, admin_sede_solo_en_su_sede);
	tcase_add_test(tc, admin_sede_no_deja_cuentas_sin_roles);
	tcase_add_test(tc, cambios_cortan_el_acceso);
	tcase_add_test(tc, lista_paginada);
	suite_add_tcase(s, tc);
	return s;
}
