/*
 * check_auth.c - sign-in, refresh rotation, logout and revocation end to
 * end: real HTTP through nginx, rows read back from PostgreSQL, and the
 * vetred-admin command run as an operator would.
 *
 * Every test starts with no failed attempt recorded for 127.0.0.1 (the
 * address-wide throttle would otherwise carry over from test to test).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "itest.h"
#include "vr.h"

#define PASSWORD	"Caballo-Bateria-Grapa-77"
#define LOGIN		"/api/v1/auth/login"
#define REFRESH		"/api/v1/auth/refresh"
#define LOGOUT		"/api/v1/auth/logout"

static void
clean_attempts(void)
{
	db_execf("DELETE FROM intentos_login WHERE direccion_ip = '127.0.0.1'");
}

/* A fresh user with PASSWORD (or none), one role at sede (0: none). */
static long long
new_user(const char *rol, long long sede, int with_password, char *email,
    size_t n)
{
	char hash[VR_PASSWORD_HASH_LEN], *code = unique_code("u"), *v;
	char where[32] = "NULL";
	long long id;

	snprintf(email, n, "prueba.%s.%ld@vetred.test", code,
	    (long)random() % 100000);
	free(code);
	ck_assert_int_eq(vr_password_hash(PASSWORD, &vr_kdf_default, hash,
	    sizeof(hash)), VR_OK);
	v = db_valuef("INSERT INTO usuarios (email, nombre, password_hash) "
	    "VALUES ('%s', 'Usuario de prueba', %s%s%s) RETURNING id", email,
	    with_password ? "'" : "", with_password ? hash : "NULL",
	    with_password ? "'" : "");
	id = atoll(v);
	free(v);
	if (sede != 0)
		snprintf(where, sizeof(where), "%lld", sede);
	if (rol != NULL)
		db_execf("INSERT INTO usuario_roles (usuario_id, sede_id, rol) "
		    "VALUES (%lld, %s, '%s')", id, where, rol);
	return id;
}

static void
post_token(const char *path, const char *tok, struct http_resp *r)
{
	char body[256];

	snprintf(body, sizeof(body), "{\"refresh_token\":\"%s\"}", tok);
	http_post_json(path, body, r);
}

/* Signs in and copies the refresh token out. */
static void
login_ok(const char *email, char *refresh, size_t n)
{
	struct http_resp r;

	http_login(email, PASSWORD, &r);
	ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
	snprintf(refresh, n, "%s", json_s(r.json, "refresh_token"));
	http_free(&r);
}

/* The decoded JSON of part i (0 header, 1 claims) of a JWT. */
static cJSON *
jwt_part(const char *tok, int i)
{
	const char *s = tok, *e;
	unsigned char buf[4096];
	size_t len;

	while (i-- > 0)
		s = strchr(s, '.') + 1;
	e = strchr(s, '.');
	ck_assert_int_eq(vr_b64url_decode(s, (size_t)(e - s), buf, &len), 0);
	buf[len] = '\0';
	return cJSON_Parse((char *)buf);
}

static long long
sessions_of(long long uid, const char *extra)
{
	return db_countf("SELECT count(*) FROM sesiones WHERE usuario_id = %lld"
	    "%s", uid, extra);
}

START_TEST(login_emite_tokens)
{
	char email[128], hex[65], buf[64];
	long long uid = new_user("recepcion", 1, 1, email, sizeof(email));
	struct http_resp r;
	cJSON *h, *c, *roles;
	const char *rt, *at;

	http_login(email, PASSWORD, &r);
	ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
	ck_assert_str_eq(http_header(&r, "Cache-Control", buf, sizeof(buf)),
	    "no-store");
	ck_assert_str_eq(json_s(r.json, "token_type"), "Bearer");
	ck_assert_int_eq(json_ll(r.json, "expires_in"), 900);
	ck_assert_int_eq(json_ll(r.json, "refresh_expires_in"), 30 * 86400);
	at = json_s(r.json, "access_token");
	rt = json_s(r.json, "refresh_token");
	ck_assert_int_eq(strlen(rt), 43);

	h = jwt_part(at, 0);
	ck_assert_str_eq(json_s(h, "alg"), "HS256");
	ck_assert_str_eq(json_s(h, "typ"), "JWT");
	ck_assert_str_eq(json_s(h, "kid"), "dev1");
	c = jwt_part(at, 1);
	ck_assert_str_eq(json_s(c, "iss"), "vetred");
	ck_assert_str_eq(json_s(c, "aud"), "vetred-api");
	ck_assert_int_eq(atoll(json_s(c, "sub")), uid);
	ck_assert_int_eq(json_ll(c, "exp") - json_ll(c, "iat"), 900);
	ck_assert(llabs(json_ll(c, "iat") - (long long)time(NULL)) < 60);
	ck_assert_int_ge(strlen(json_s(c, "jti")), 16);
	roles = cJSON_GetObjectItem(c, "roles");
	ck_assert_int_eq(cJSON_GetArraySize(roles), 1);
	ck_assert_str_eq(json_s(cJSON_GetArrayItem(roles, 0), "rol"),
	    "recepcion");
	ck_assert_int_eq(json_ll(cJSON_GetArrayItem(roles, 0), "sede"), 1);
	ck_assert_int_eq(json_ll(cJSON_GetObjectItem(r.json, "usuario"), "id"),
	    uid);

	/* Only the hash of the refresh token is stored. */
	vr_sha256_hex(rt, strlen(rt), hex);
	ck_assert_int_eq(sessions_of(uid, ""), 1);
	ck_assert_int_eq(db_countf("SELECT count(*) FROM sesiones WHERE "
	    "token_hash = decode('%s', 'hex') AND usuario_id = %lld AND "
	    "expira_en > now() + interval '29 days'", hex, uid), 1);
	ck_assert_int_eq(db_countf("SELECT count(*) FROM sesiones WHERE "
	    "position(convert_to('%s', 'UTF8') IN token_hash) > 0", rt), 0);
	ck_assert_int_eq(db_countf("SELECT count(*) FROM auditoria WHERE "
	    "accion = 'iniciar_sesion' AND usuario_id = %lld AND request_id "
	    "IS NOT NULL", uid), 1);
	ck_assert_int_eq(db_countf("SELECT count(*) FROM usuarios WHERE id = "
	    "%lld AND ultimo_acceso_en > now() - interval '1 minute'", uid), 1);
	cJSON_Delete(h);
	cJSON_Delete(c);
	http_free(&r);

	/* E-mail case does not matter. */
	for (char *p = email; *p; p++)
		*p = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
	http_login(email, PASSWORD, &r);
	ck_assert_int_eq(r.status, 200);
	http_free(&r);
}
END_TEST

/* Every way to fail gets the same answer, and none issues a session. */
START_TEST(login_fallido_siempre_igual)
{
	char ok[128], inactive[128], nopw[128], unk[160];
	long long u1 = new_user("recepcion", 1, 1, ok, sizeof(ok));
	long long u2 = new_user("recepcion", 1, 1, inactive, sizeof(inactive));
	long long u3 = new_user(NULL, 0, 0, nopw, sizeof(nopw));
	struct http_resp r;
	const char *cases[4][2];
	char buf[128];
	int i;

	db_execf("UPDATE usuarios SET activo = false WHERE id = %lld", u2);
	snprintf(unk, sizeof(unk), "nadie.%s", ok);
	cases[0][0] = ok;	cases[0][1] = "Otra-Clave-Incorrecta-1";
	cases[1][0] = inactive;	cases[1][1] = PASSWORD;
	cases[2][0] = nopw;	cases[2][1] = PASSWORD;
	cases[3][0] = unk;	cases[3][1] = PASSWORD;
	for (i = 0; i < 4; i++) {
		http_login(cases[i][0], cases[i][1], &r);
		assert_problem(&r, 401, "credenciales-invalidas");
		ck_assert_str_eq(json_s(r.json, "detail"),
		    "Correo o contraseña incorrectos.");
		ck_assert_ptr_nonnull(http_header(&r, "WWW-Authenticate", buf,
		    sizeof(buf)));
		ck_assert_ptr_null(cJSON_GetObjectItem(r.json, "access_token"));
		http_free(&r);
	}
	ck_assert_int_eq(sessions_of(u1, "") + sessions_of(u2, "") +
	    sessions_of(u3, ""), 0);
	ck_assert_int_eq(db_countf("SELECT count(*) FROM intentos_login "
	    "WHERE direccion_ip = '127.0.0.1' AND NOT exito"), 4);
	ck_assert_int_eq(db_countf("SELECT count(*) FROM auditoria WHERE "
	    "accion = 'iniciar_sesion_fallido' AND usuario_id = %lld", u1), 1);
	ck_assert_int_eq(db_countf("SELECT count(*) FROM auditoria WHERE "
	    "accion = 'iniciar_sesion_fallido' AND usuario_id IS NULL AND "
	    "despues->>'email' = lower('%s')", unk), 1);
}
END_TEST

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/*
 * An unknown e-mail costs the same Argon2id check as a wrong password:
 * the medians of 7 tries each are within 30 % (and both are the cost of a
 * hash, not of a lookup).
 */
START_TEST(login_tiempo_no_revela_cuentas)
{
	char a[128], b[128], unk[200];
	double known[7], unknown[7], t, mk, mu;
	struct http_resp r;
	int i;

	new_user(NULL, 0, 1, a, sizeof(a));
	new_user(NULL, 0, 1, b, sizeof(b));
	for (i = 0; i < 7; i++) {
		t = now_ms();
		http_login(i % 2 ? a : b, "Clave-Equivocada-123", &r);
		known[i] = now_ms() - t;
		ck_assert_int_eq(r.status, 401);
		http_free(&r);
		snprintf(unk, sizeof(unk), "x%d.%s", i, a);
		t = now_ms();
		http_login(unk, "Clave-Equivocada-123", &r);
		unknown[i] = now_ms() - t;
		ck_assert_int_eq(r.status, 401);
		http_free(&r);
	}
	qsort(known, 7, sizeof(double), cmp_double);
	qsort(unknown, 7, sizeof(double), cmp_double);
	mk = known[3];
	mu = unknown[3];
	ck_assert_msg(mk > 10 && mu > 10, "medians %.1f / %.1f ms: no hash?",
	    mk, mu);
	ck_assert_msg(fabs(mk - mu) <= 0.3 * fmax(mk, mu),
	    "wrong password %.1f ms vs unknown account %.1f ms", mk, mu);
}
END_TEST

/* Five failures lock the account (not others) for the rest of 15 min. */
START_TEST(login_limite_por_cuenta)
{
	char a[128], b[128], buf[32];
	struct http_resp r;
	long wait;
	int i;

	new_user(NULL, 0, 1, a, sizeof(a));
	new_user(NULL, 0, 1, b, sizeof(b));
	for (i = 0; i < 5; i++) {
		http_login(a, "Clave-Equivocada-123", &r);
		ck_assert_int_eq(r.status, 401);
		http_free(&r);
	}
	http_login(a, PASSWORD, &r);		/* right password, still too soon */
	assert_problem(&r, 429, "demasiados-intentos");
	ck_assert_ptr_nonnull(http_header(&r, "Retry-After", buf, sizeof(buf)));
	wait = atol(buf);
	ck_assert_msg(wait > 800 && wait <= 900, "Retry-After %ld", wait);
	http_free(&r);
	ck_assert_int_eq(db_countf("SELECT count(*) FROM intentos_login WHERE "
	    "email = lower('%s')", a), 5);	/* a 429 is not an attempt */

	http_login(b, PASSWORD, &r);
	ck_assert_int_eq(r.status, 200);
	http_free(&r);

	/* The window slides: once the failures are 15 minutes old, a try is
	 * allowed again. */
	db_execf("UPDATE intentos_login SET ocurrido_en = ocurrido_en - "
	    "interval '15 minutes 1 second' WHERE email = lower('%s')", a);
	http_login(a, PASSWORD, &r);
	ck_assert_int_eq(r.status, 200);
	http_free(&r);
}
END_TEST

/* A success resets the account's count. */
START_TEST(login_exito_reinicia_la_cuenta)
{
	char a[128];
	struct http_resp r;
	int i;

	new_user(NULL, 0, 1, a, sizeof(a));
	for (i = 0; i < 9; i++) {
		http_login(a, i == 4 ? PASSWORD : "Clave-Equivocada-123", &r);
		ck_assert_int_eq(r.status, i == 4 ? 200 : 401);
		http_free(&r);
	}
	http_login(a, PASSWORD, &r);
	ck_assert_int_eq(r.status, 200);
	http_free(&r);
}
END_TEST

/* Twenty failures from one address lock that address. */
START_TEST(login_limite_por_direccion)
{
	char a[128], unk[200], buf[32];
	struct http_resp r;
	int i;

	new_user(NULL, 0, 1, a, sizeof(a));
	for (i = 0; i < 20; i++) {
		snprintf(unk, sizeof(unk), "n%d.%s", i, a);
		http_login(unk, "Clave-Equivocada-123", &r);
		ck_assert_int_eq(r.status, 401);
		http_free(&r);
	}
	http_login(a, PASSWORD, &r);
	assert_problem(&r, 429, "demasiados-intentos");
	ck_assert_ptr_nonnull(http_header(&r, "Retry-After", buf, sizeof(buf)));
	ck_assert_int_gt(atol(buf), 0);
	http_free(&r);
	clean_attempts();
	http_login(a, PASSWORD, &r);
	ck_assert_int_eq(r.status, 200);
	http_free(&r);
}
END_TEST

/* Each refresh rotates; a used token coming back revokes the family. */
START_TEST(refresh_rota_y_detecta_reuso)
{
	char email[128], rt1[64], rt2[64], rt3[64];
	long long uid = new_user("veterinario", 1, 1, email, sizeof(email));
	struct http_resp r;
	cJSON *c;

	login_ok(email, rt1, sizeof(rt1));
	post_token(REFRESH, rt1, &r);
	ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
	snprintf(rt2, sizeof(rt2), "%s", json_s(r.json, "refresh_token"));
	ck_assert_str_ne(rt1, rt2);
	c = jwt_part(json_s(r.json, "access_token"), 1);
	ck_assert_int_eq(atoll(json_s(c, "sub")), uid);
	ck_assert_str_eq(json_s(cJSON_GetArrayItem(cJSON_GetObjectItem(c,
	    "roles"), 0), "rol"), "veterinario");
	cJSON_Delete(c);
	http_free(&r);

	post_token(REFRESH, rt2, &r);
	ck_assert_int_eq(r.status, 200);
	snprintf(rt3, sizeof(rt3), "%s", json_s(r.json, "refresh_token"));
	http_free(&r);
	ck_assert_int_eq(sessions_of(uid, " AND usado_en IS NOT NULL"), 2);

	/* rt1 again: stolen.  The family dies, rt3 with it. */
	post_token(REFRESH, rt1, &r);
	assert_problem(&r, 401, "sesion-invalida");
	http_free(&r);
	post_token(REFRESH, rt3, &r);
	assert_problem(&r, 401, "sesion-invalida");
	http_free(&r);
	ck_assert_int_eq(sessions_of(uid, " AND motivo_revocacion = "
	    "'reutilizacion'"), 3);
	ck_assert_int_eq(db_countf("SELECT count(*) FROM auditoria WHERE "
	    "accion = 'sesion_reutilizada' AND usuario_id = %lld", uid), 1);

	/* Another sign-in of the same user is another family: unaffected. */
	login_ok(email, rt1, sizeof(rt1));
	post_token(REFRESH, rt1, &r);
	ck_assert_int_eq(r.status, 200);
	http_free(&r);
}
END_TEST

START_TEST(refresh_vencido_o_desconocido)
{
	char email[128], rt[64];
	long long uid = new_user(NULL, 0, 1, email, sizeof(email));
	struct http_resp r;

	login_ok(email, rt, sizeof(rt));
	db_execf("UPDATE sesiones SET creado_en = now() - interval '31 days', "
	    "expira_en = now() - interval '1 day' WHERE usuario_id = %lld",
	    uid);
	post_token(REFRESH, rt, &r);
	assert_problem(&r, 401, "sesion-invalida");
	http_free(&r);

	post_token(REFRESH, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", &r);
	assert_problem(&r, 401, "sesion-invalida");
	http_free(&r);
	post_token(REFRESH, "corto", &r);
	assert_problem(&r, 401, "sesion-invalida");
	http_free(&r);
	post_token(REFRESH, "' OR 1=1 --", &r);
	assert_problem(&r, 401, "sesion-invalida");
	http_free(&r);
}
END_TEST

START_TEST(logout_revoca_la_familia)
{
	char email[128], rt1[64], rt2[64];
	long long uid = new_user(NULL, 0, 1, email, sizeof(email));
	struct http_resp r;

	login_ok(email, rt1, sizeof(rt1));
	post_token(REFRESH, rt1, &r);
	ck_assert_int_eq(r.status, 200);
	snprintf(rt2, sizeof(rt2), "%s", json_s(r.json, "refresh_token"));
	http_free(&r);

	post_token(LOGOUT, rt2, &r);
	ck_assert_int_eq(r.status, 204);
	ck_assert_int_eq(r.len, 0);
	http_free(&r);
	post_token(REFRESH, rt2, &r);
	assert_problem(&r, 401, "sesion-invalida");
	http_free(&r);
	ck_assert_int_eq(sessions_of(uid, " AND motivo_revocacion = 'cierre'"),
	    2);
	ck_assert_int_eq(db_countf("SELECT count(*) FROM auditoria WHERE "
	    "accion = 'cerrar_sesion' AND usuario_id = %lld", uid), 1);

	/* Again, or with a token nobody has: still 204, nothing written. */
	post_token(LOGOUT, rt2, &r);
	ck_assert_int_eq(r.status, 204);
	http_free(&r);
	post_token(LOGOUT, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", &r);
	ck_assert_int_eq(r.status, 204);
	http_free(&r);
	ck_assert_int_eq(db_countf("SELECT count(*) FROM auditoria WHERE "
	    "accion = 'cerrar_sesion' AND usuario_id = %lld", uid), 1);
}
END_TEST

/* A new password or a disabled account ends every session. */
START_TEST(cambio_de_clave_o_baja_revoca)
{
	char email[128], rt1[64], rt2[64], hash[VR_PASSWORD_HASH_LEN];
	long long uid = new_user(NULL, 0, 1, email, sizeof(email));
	struct http_resp r;

	login_ok(email, rt1, sizeof(rt1));
	login_ok(email, rt2, sizeof(rt2));
	ck_assert_int_eq(vr_password_hash("Nueva-Clave-Segura-88",
	    &vr_kdf_default, hash, sizeof(hash)), VR_OK);
	db_execf("UPDATE usuarios SET password_hash = '%s' WHERE id = %lld",
	    hash, uid);
	ck_assert_int_eq(sessions_of(uid, " AND motivo_revocacion = "
	    "'clave_cambiada'"), 2);
	ck_assert_int_eq(db_countf("SELECT count(*) FROM usuarios WHERE id = "
	    "%lld AND sesiones_validas_desde > now() - interval '1 minute'",
	    uid), 1);
	post_token(REFRESH, rt1, &r);
	assert_problem(&r, 401, "sesion-invalida");
	http_free(&r);
	http_login(email, PASSWORD, &r);
	ck_assert_int_eq(r.status, 401);
	http_free(&r);
	http_login(email, "Nueva-Clave-Segura-88", &r);
	ck_assert_int_eq(r.status, 200);
	snprintf(rt1, sizeof(rt1), "%s", json_s(r.json, "refresh_token"));
	http_free(&r);

	db_execf("UPDATE usuarios SET activo = false WHERE id = %lld", uid);
	post_token(REFRESH, rt1, &r);
	assert_problem(&r, 401, "sesion-invalida");
	http_free(&r);
	ck_assert_int_eq(sessions_of(uid, " AND motivo_revocacion = "
	    "'usuario_inactivo'"), 1);
}
END_TEST

/* GET /sedes with tok until it answers 401, for up to 3 s; the status. */
static long
until_401(const char *tok)
{
	struct http_resp r;
	long st = 0;
	int i;

	http_token(tok);
	for (i = 0; i < 30 && st != 401; i++) {
		http_get("/api/v1/sedes", &r);
		st = r.status;
		if (st == 401)
			assert_problem(&r, 401, "token-invalido");
		http_free(&r);
		if (st != 401)
			usleep(100000);
	}
	http_token(NULL);
	return st;
}

static long
status_with(const char *tok)
{
	struct http_resp r;
	long st;

	http_token(tok);
	http_get("/api/v1/sedes", &r);
	st = r.status;
	http_free(&r);
	http_token(NULL);
	return st;
}

/* Signs in; the access token (malloc'd) and the refresh token copied. */
static char *
login_tokens(const char *email, const char *pw, char *refresh, size_t n)
{
	struct http_resp r;
	char *at;

	http_login(email, pw, &r);
	ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
	at = strdup(json_s(r.json, "access_token"));
	if (refresh != NULL)
		snprintf(refresh, n, "%s", json_s(r.json, "refresh_token"));
	http_free(&r);
	return at;
}

/*
 * A password change, a sign-in with the new password and a deactivation
 * all in one second: the token of that sign-in is cut like any other
 * (tokens carry the user's revocation generation, not a rounded time).
 */
START_TEST(revocacion_en_el_mismo_segundo)
{
	static const char *const pw[2] = { "Nueva-Clave-Segura-88", PASSWORD };
	char email[128], hash[2][VR_PASSWORD_HASH_LEN], *at = NULL, *v;
	long long uid = new_user("veterinario", 1, 1, email, sizeof(email));
	struct timespec ts;
	time_t t0 = 0;
	int i, tries;

	for (i = 0; i < 2; i++)
		ck_assert_int_eq(vr_password_hash(pw[i], &vr_kdf_default,
		    hash[i], sizeof(hash[i])), VR_OK);
	for (tries = 0; tries < 5; tries++) {
		/* Start early in a second, so that the three fit in it. */
		clock_gettime(CLOCK_REALTIME, &ts);
		usleep((useconds_t)((1000000000L - ts.tv_nsec) / 1000 + 20000));
		t0 = time(NULL);
		db_execf("UPDATE usuarios SET password_hash = '%s' WHERE id = "
		    "%lld", hash[tries % 2], uid);
		free(at);
		at = login_tokens(email, pw[tries % 2], NULL, 0);
		ck_assert_int_eq(status_with(at), 200);
		db_execf("UPDATE usuarios SET activo = false WHERE id = %lld",
		    uid);
		if (time(NULL) == t0)
			break;
		db_execf("UPDATE usuarios SET activo = true WHERE id = %lld",
		    uid);
	}
	ck_assert_msg(tries < 5, "never within one second");
	ck_assert_int_eq(until_401(at), 401);
	free(at);

	/* A sign-in whose password check predates a revocation fails. */
	db_execf("UPDATE usuarios SET activo = true WHERE id = %lld", uid);
	for (i = 1; i >= 0; i--) {
		v = db_valuef("SELECT sesion_iniciar(id, email, sha256("
		    "gen_random_uuid()::text::bytea), 30, '127.0.0.1', NULL, "
		    "NULL, 'itest', sesiones_generacion - %d) IS NULL FROM "
		    "usuarios WHERE id = %lld", i, uid);
		ck_assert_str_eq(v, i ? "t" : "f");
		free(v);
	}
}
END_TEST

/*
 * Logout ends the access tokens of its session, not of the user's other
 * sessions.
 */
START_TEST(logout_corta_el_acceso_de_su_sesion)
{
	char email[128], rt_a[64], rt_b[64], *at_a, *at_b;
	struct http_resp r;

	new_user("veterinario", 1, 1, email, sizeof(email));
	at_a = login_tokens(email, PASSWORD, rt_a, sizeof(rt_a));
	at_b = login_tokens(email, PASSWORD, rt_b, sizeof(rt_b));
	ck_assert_int_eq(status_with(at_a), 200);
	post_token(LOGOUT, rt_a, &r);
	ck_assert_int_eq(r.status, 204);
	http_free(&r);
	ck_assert_int_eq(until_401(at_a), 401);
	ck_assert_int_eq(status_with(at_b), 200);
	free(at_a);
	free(at_b);
}
END_TEST

/*
 * A refresh token presented twice ends its family: every access token
 * issued to it, from the sign-in and from each refresh, stops working.
 */
START_TEST(reuso_corta_el_acceso_de_la_familia)
{
	char email[128], rt1[64], rt_other[64], *at1, *at2, *other;
	struct http_resp r;

	new_user("veterinario", 1, 1, email, sizeof(email));
	at1 = login_tokens(email, PASSWORD, rt1, sizeof(rt1));
	other = login_tokens(email, PASSWORD, rt_other, sizeof(rt_other));
	post_token(REFRESH, rt1, &r);
	ck_assert_int_eq(r.status, 200);
	at2 = strdup(json_s(r.json, "access_token"));
	http_free(&r);
	ck_assert_int_eq(status_with(at1), 200);
	ck_assert_int_eq(status_with(at2), 200);
	post_token(REFRESH, rt1, &r);		/* again: stolen */
	assert_problem(&r, 401, "sesion-invalida");
	http_free(&r);
	ck_assert_int_eq(until_401(at2), 401);
	ck_assert_int_eq(until_401(at1), 401);
	ck_assert_int_eq(status_with(other), 200);
	free(at1);
	free(at2);
	free(other);
}
END_TEST

/*
 * A hash made with weaker parameters is replaced at sign-in, and that
 * re-hash is not a password change: the sessions survive it.
 */
START_TEST(login_mejora_el_hash)
{
	const struct vr_kdf_params weak = { 8192, 1, 1 };
	char email[128], rt[64], hash[VR_PASSWORD_HASH_LEN], *now;
	long long uid = new_user(NULL, 0, 1, email, sizeof(email));
	struct http_resp r;

	login_ok(email, rt, sizeof(rt));
	ck_assert_int_eq(vr_password_hash(PASSWORD, &weak, hash, sizeof(hash)),
	    VR_OK);
	db_execf("SELECT set_config('vetred.rehash', 'on', false); "
	    "UPDATE usuarios SET password_hash = '%s' WHERE id = %lld", hash,
	    uid);
	ck_assert_int_eq(sessions_of(uid, " AND revocado_en IS NULL"), 1);

	login_ok(email, rt, sizeof(rt));
	now = db_valuef("SELECT password_hash FROM usuarios WHERE id = %lld",
	    uid);
	ck_assert_msg(strncmp(now, "$argon2id$v=19$m=19456,t=2,p=1$", 31) == 0,
	    "%s", now);
	free(now);
	ck_assert_int_eq(sessions_of(uid, " AND revocado_en IS NULL"), 2);
	post_token(REFRESH, rt, &r);
	ck_assert_int_eq(r.status, 200);
	http_free(&r);
}
END_TEST

/* Bad bodies: a clear 4xx and nothing recorded. */
/* Unknown members are ignored here as on every body (names are exact). */
START_TEST(login_ignora_campos_desconocidos)
{
	char email[128], body[512];
	struct http_resp r;

	(void)new_user("recepcion", 1, 1, email, sizeof(email));
	snprintf(body, sizeof(body), "{\"email\":\"%s\",\"password\":\"%s\","
	    "\"recordar\":true,\"Password\":\"otra\",\"extra\":{\"a\":[1]}}",
	    email, PASSWORD);
	http_post_json(LOGIN, body, &r);
	ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
	http_free(&r);
}
END_TEST

START_TEST(entrada_invalida)
{
	static const struct {
		const char	*path, *body;
		long		 status;
	} cases[] = {
		{ LOGIN, "{", 400 },
		{ LOGIN, "[1,2]", 400 },
		{ LOGIN, "{}", 422 },
		{ LOGIN, "{\"email\":\"a@b.pe\"}", 422 },
		{ LOGIN, "{\"password\":\"x\"}", 422 },
		{ LOGIN, "{\"email\":5,\"password\":\"x\"}", 422 },
		{ LOGIN, "{\"email\":\"a@b.pe\",\"password\":[1]}", 422 },
		{ LOGIN, "{\"email\":\"a@b.pe\",\"password\":\"\"}", 422 },
		{ LOGIN, "{\"email\":\"\",\"password\":\"x\"}", 422 },
		{ LOGIN, "{\"email\":null,\"password\":\"x\"}", 422 },
		{ LOGIN, "{\"email\":\"a@b.pe\",\"password\":\"a\\u0000b\"}", 400 },
		{ REFRESH, "{}", 422 },
		{ REFRESH, "{\"refresh_token\":7}", 422 },
		{ REFRESH, "{\"refresh_token\":\"\"}", 422 },
		{ LOGOUT, "{\"refresh_token\":{}}", 422 },
		{ LOGOUT, "nope", 400 },
	};
	char big[1200], *huge;
	long long attempts = db_count("SELECT count(*) FROM intentos_login");
	long long sessions = db_count("SELECT count(*) FROM sesiones");
	struct http_resp r;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		http_post_json(cases[i].path, cases[i].body, &r);
		ck_assert_msg(r.status == cases[i].status, "%s %s -> %ld %s",
		    cases[i].path, cases[i].body, r.status, r.body);
		http_free(&r);
	}
	/* Oversized fields, a body over the limit, the wrong type. */
	memset(big, 'a', sizeof(big));
	big[sizeof(big) - 1] = '\0';
	http_login("a@b.pe", big, &r);
	ck_assert_int_eq(r.status, 422);
	http_free(&r);
	big[300] = '\0';
	http_login(big, PASSWORD, &r);
	ck_assert_int_eq(r.status, 422);
	http_free(&r);
	huge = malloc(2 << 20);
	memset(huge, ' ', 2 << 20);
	memcpy(huge, "{\"email\":\"", 10);
	http_req("POST", LOGIN, "application/json", huge, 2 << 20, NULL, &r);
	ck_assert_int_eq(r.status, 413);
	http_free(&r);
	free(huge);
	http_req("POST", LOGIN, "text/plain", "email=a", 7, NULL, &r);
	ck_assert_int_eq(r.status, 415);
	http_free(&r);
	http_req("POST", LOGIN, "application/json",
	    "{\"email\":\"\xff\xfe\",\"password\":\"x\"}", 30, NULL, &r);
	ck_assert_int_eq(r.status, 400);
	http_free(&r);
	http_get(LOGIN, &r);
	ck_assert_int_eq(r.status, 405);
	http_free(&r);
	ck_assert_int_eq(db_count("SELECT count(*) FROM intentos_login"),
	    attempts);
	ck_assert_int_eq(db_count("SELECT count(*) FROM sesiones"), sessions);

	/* SQL-looking credentials are just wrong credentials. */
	http_login("' OR '1'='1", "' OR '1'='1' --", &r);
	assert_problem(&r, 401, "credenciales-invalidas");
	http_free(&r);
}
END_TEST

START_TEST(admin_fija_la_clave)
{
	char email[128], args[200], out[512], rt[64];
	long long uid = new_user("admin_red", 0, 0, email, sizeof(email));
	struct http_resp r;

	ck_assert_int_eq(run_admin("hash", "Otra-Clave-Larga-2026", out,
	    sizeof(out)), 0);
	ck_assert_msg(strstr(out, "$argon2id$v=19$m=19456,t=2,p=1$") != NULL,
	    "%s", out);
	ck_assert_int_eq(run_admin("", "x", NULL, 0), 2);
	ck_assert_int_eq(run_admin("hash extra", "x", NULL, 0), 2);
	ck_assert_int_eq(run_admin("hash", "", NULL, 0), 2);
	ck_assert_int_eq(run_admin("hash", "corta", out, sizeof(out)), 1);
	ck_assert_ptr_nonnull(strstr(out, "10 caracteres"));
	ck_assert_int_eq(run_admin("hash", "1234567890", out, sizeof(out)), 1);
	ck_assert_ptr_nonnull(strstr(out, "común"));
	ck_assert_int_eq(run_admin("clave nadie@vetred.test",
	    "Otra-Clave-Larga-2026", out, sizeof(out)), 1);
	ck_assert_ptr_nonnull(strstr(out, "no such user"));

	/* No password yet: cannot sign in; after the command, can. */
	http_login(email, "Otra-Clave-Larga-2026", &r);
	ck_assert_int_eq(r.status, 401);
	http_free(&r);
	snprintf(args, sizeof(args), "clave '%s'", email);
	ck_assert_int_eq(run_admin(args, "Otra-Clave-Larga-2026", out,
	    sizeof(out)), 0);
	http_login(email, "Otra-Clave-Larga-2026", &r);
	ck_assert_int_eq(r.status, 200);
	snprintf(rt, sizeof(rt), "%s", json_s(r.json, "refresh_token"));
	http_free(&r);

	/* Setting it again revokes the session just opened. */
	ck_assert_int_eq(run_admin(args, "Tercera-Clave-Larga-2026", out,
	    sizeof(out)), 0);
	post_token(REFRESH, rt, &r);
	assert_problem(&r, 401, "sesion-invalida");
	http_free(&r);
	ck_assert_int_eq(sessions_of(uid, " AND revocado_en IS NULL"), 0);
}
END_TEST

/* The demo users of the seed sign in with the README's password. */
START_TEST(usuarios_demo)
{
	struct http_resp r;
	const cJSON *roles;

	http_login("recepcion.lim@vetred.pe", "VetRed-Demo-2026", &r);
	ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
	roles = cJSON_GetObjectItem(cJSON_GetObjectItem(r.json, "usuario"),
	    "roles");
	ck_assert_int_eq(cJSON_GetArraySize(roles), 1);
	ck_assert_str_eq(json_s(cJSON_GetArrayItem(roles, 0), "rol"),
	    "recepcion");
	http_free(&r);
}
END_TEST

Suite *
auth_suite(void)
{
	Suite *s = suite_create("auth");
	TCase *login_tc = tcase_create("login");
	TCase *sesion = tcase_create("sesion");
	TCase *entrada = tcase_create("entrada");

	tcase_add_checked_fixture(login_tc, clean_attempts, NULL);
	tcase_add_checked_fixture(sesion, clean_attempts, NULL);
	tcase_add_checked_fixture(entrada, clean_attempts, NULL);
	tcase_set_timeout(login_tc, 60);
	tcase_set_timeout(sesion, 60);
	tcase_set_timeout(entrada, 60);
	tcase_add_test(login_tc, login_emite_tokens);
	tcase_add_test(login_tc, login_fallido_siempre_igual);
	tcase_add_test(login_tc, login_tiempo_no_revela_cuentas);
	tcase_add_test(login_tc, login_limite_por_cuenta);
	tcase_add_test(login_tc, login_exito_reinicia_la_cuenta);
	tcase_add_test(login_tc, login_limite_por_direccion);
	tcase_add_test(login_tc, login_mejora_el_hash);
	tcase_add_test(login_tc, usuarios_demo);
	suite_add_tcase(s, login_tc);
	tcase_add_test(sesion, refresh_rota_y_detecta_reuso);
	tcase_add_test(sesion, refresh_vencido_o_desconocido);
	tcase_add_test(sesion, logout_revoca_la_familia);
	tcase_add_test(sesion, cambio_de_clave_o_baja_revoca);
	tcase_add_test(sesion, revocacion_en_el_mismo_segundo);
	tcase_add_test(sesion, logout_corta_el_acceso_de_su_sesion);
	tcase_add_test(sesion, reuso_corta_el_acceso_de_la_familia);
	tcase_add_test(sesion, admin_fija_la_clave);
	suite_add_tcase(s, sesion);
	tcase_add_test(entrada, entrada_invalida);
	tcase_add_test(entrada, login_ignora_campos_desconocidos);
	suite_add_tcase(s, entrada);
	return s;
}
