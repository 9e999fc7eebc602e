/*
 * check_errors.c - bad requests get the right 4xx as problem+json and
 * never a 500: unknown paths, wrong methods, oversized bodies (past the
 * API's limit and past nginx's), wrong content types, malformed JSON,
 * invalid UTF-8, bad path ids; the errors nginx answers itself (headers
 * or a URI too large, unknown static paths) as problem+json too; and a
 * user's request budget spent, 429 with Retry-After.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "itest.h"

START_TEST(unknown_path_is_404)
{
	static const char *const paths[] = { "/api/v1/nada", "/api/v2/sedes",
	    "/api/v1/sedes/1/x", "/api/v1//sedes", "/api/v1/sedes/",
	    "/api/v1/%00", NULL };
	struct http_resp r;
	int i;

	for (i = 0; paths[i] != NULL; i++) {
		http_get(paths[i], &r);
		ck_assert_msg(r.status == 404 || r.status == 400,
		    "%s: %ld", paths[i], r.status);
		assert_problem(&r, r.status, NULL);
		http_free(&r);
	}
}
END_TEST

START_TEST(wrong_method_is_405_with_allow)
{
	struct http_resp r;
	char allow[128];

	http_req("DELETE", "/api/v1/sedes", NULL, NULL, 0, NULL, &r);
	assert_problem(&r, 405, "metodo-no-permitido");
	ck_assert_ptr_nonnull(http_header(&r, "Allow", allow, sizeof(allow)));
	ck_assert_str_eq(allow, "GET, POST");
	http_free(&r);
	http_req("PATCH", "/health", "application/json", "{}", 2, NULL, &r);
	assert_problem(&r, 405, "metodo-no-permitido");
	http_free(&r);
}
END_TEST

/*
 * nginx refuses TRACE before any location runs; the answer is still the
 * API's: 405, the path's methods in Allow, problem+json -- and on a
 * static page, GET and HEAD.  A TRACE never runs the route's handler.
 */
START_TEST(trace_is_405_problem_with_allow)
{
	static const struct { const char *path, *allow; } cases[] = {
		{ "/api/v1/sedes", "GET, POST" },
		{ "/api/v1/citas/1", "GET, PUT, DELETE" },
		{ "/health", "GET" },
		{ "/docs/", "GET, HEAD" },
		{ "/", "GET, HEAD" },
	};
	struct http_resp r;
	char allow[128], ct[128];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		http_req("TRACE", cases[i].path, "application/json", "{}", 2,
		    NULL, &r);
		assert_problem(&r, 405, "metodo-no-permitido");
		ck_assert_msg(http_header(&r, "Content-Type", ct, sizeof(ct)) &&
		    strncmp(ct, "application/problem+json", 24) == 0,
		    "TRACE %s: %s", cases[i].path, ct);
		ck_assert_msg(http_header(&r, "Allow", allow, sizeof(allow)) !=
		    NULL, "TRACE %s: no Allow", cases[i].path);
		ck_assert_str_eq(allow, cases[i].allow);
		ck_assert_ptr_nonnull(http_header(&r, "X-Request-Id", ct,
		    sizeof(ct)));
		http_free(&r);
	}
}
END_TEST

/* A JSON document of about n bytes: {"nombre":"xxxx..."} */
static char *
big_json(size_t n)
{
	char *s = malloc(n + 32);

	ck_assert_ptr_nonnull(s);
	strcpy(s, "{\"nombre\":\"");
	memset(s + 11, 'x', n);
	strcpy(s + 11 + n, "\"}");
	return s;
}

START_TEST(body_over_api_limit_is_413)
{
	char *s = big_json(1100 * 1024);
	long long before = db_count("SELECT count(*) FROM sedes");
	struct http_resp r;

	http_post_json("/api/v1/sedes", s, &r);
	assert_problem(&r, 413, "cuerpo-demasiado-grande");
	ck_assert_int_eq(db_count("SELECT count(*) FROM sedes"), before);
	http_free(&r);
	free(s);
}
END_TEST

START_TEST(body_over_nginx_limit_is_413_problem)
{
	char *s = big_json(3 * 1024 * 1024);
	struct http_resp r;

	http_post_json("/api/v1/sedes", s, &r);
	assert_problem(&r, 413, NULL);
	http_free(&r);
	free(s);
}
END_TEST

START_TEST(wrong_content_type_is_415)
{
	static const char *const types[] = { "text/plain",
	    "application/x-www-form-urlencoded", "application/jsonx",
	    "application/json; charset=latin1", NULL };
	struct http_resp r;
	int i;

	for (i = 0; types[i] != NULL; i++) {
		http_req("POST", "/api/v1/sedes", types[i], "{}", 2, NULL, &r);
		assert_problem(&r, 415, "tipo-no-soportado");
		http_free(&r);
	}
	http_req("POST", "/api/v1/sedes", NULL, "{}", 2, NULL, &r);
	ck_assert_msg(r.status == 415, "no content type: %ld", r.status);
	http_free(&r);
	/* The accepted spellings reach validation instead. */
	http_req("POST", "/api/v1/sedes", "Application/JSON; Charset=UTF-8",
	    "{}", 2, NULL, &r);
	assert_problem(&r, 422, "validacion");
	http_free(&r);
}
END_TEST

START_TEST(malformed_json_is_400)
{
	static const char *const bodies[] = { "{", "{\"a\":}", "nul",
	    "{\"a\":1} trailing", "{'a':1}", "", "[1,2]", "\"texto\"", "42",
	    "null", "{\"nombre\":\"LIM\\u0000x\"}", NULL };
	struct http_resp r;
	int i;

	for (i = 0; bodies[i] != NULL; i++) {
		http_req("POST", "/api/v1/sedes", "application/json",
		    bodies[i], strlen(bodies[i]), NULL, &r);
		assert_problem(&r, 400, "json-invalido");
		http_free(&r);
	}
}
END_TEST

START_TEST(invalid_utf8_is_400)
{
	static const char body[] = "{\"nombre\":\"Cl\xc3\x28nica\"}";
	static const char overlong[] = "{\"nombre\":\"\xc0\xaf\"}";
	struct http_resp r;

	http_req("POST", "/api/v1/sedes", "application/json", body,
	    sizeof(body) - 1, NULL, &r);
	assert_problem(&r, 400, "utf8-invalido");
	http_free(&r);
	http_req("POST", "/api/v1/sedes", "application/json", overlong,
	    sizeof(overlong) - 1, NULL, &r);
	assert_problem(&r, 400, "utf8-invalido");
	http_free(&r);
}
END_TEST

START_TEST(bad_path_ids_are_400)
{
	static const char *const ids[] = { "abc", "0", "-1", "01", "1.5",
	    "99999999999999999999", "1%20OR%201=1", "%27", NULL };
	struct http_resp r;
	char path[128];
	int i;

	for (i = 0; ids[i] != NULL; i++) {
		snprintf(path, sizeof(path), "/api/v1/sedes/%s", ids[i]);
		http_get(path, &r);
		assert_problem(&r, 400, "id-invalido");
		http_free(&r);
	}
}
END_TEST

START_TEST(absent_id_is_404)
{
	struct http_resp r;

	http_get("/api/v1/sedes/9223372036854775807", &r);
	assert_problem(&r, 404, "no-encontrado");
	http_free(&r);
}
END_TEST

/* A header line "name: " followed by n times 'a'; malloc'd. */
static char *
big_header(const char *name, size_t n)
{
	size_t k = strlen(name);
	char *h = malloc(k + 2 + n + 1);

	ck_assert_ptr_nonnull(h);
	memcpy(h, name, k);
	memcpy(h + k, ": ", 2);
	memset(h + k + 2, 'a', n);
	h[k + 2 + n] = '\0';
	return h;
}

/* nginx refuses headers past large_client_header_buffers (8 KiB a line). */
START_TEST(header_too_large_is_problem)
{
	static const char *const names[] = { "X-Relleno", "Cookie" };
	const char *extra[2] = { NULL, NULL };
	struct http_resp r;
	char rid[64];
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		extra[0] = big_header(names[i], 10000);
		http_req("GET", "/api/v1/sedes", NULL, NULL, 0, extra, &r);
		assert_problem(&r, 400, "cabeceras-demasiado-grandes");
		ck_assert_ptr_nonnull(http_header(&r, "X-Request-Id", rid,
		    sizeof(rid)));
		ck_assert_str_eq(json_s(r.json, "request_id"), rid);
		http_free(&r);
		free((char *)extra[0]);
	}
}
END_TEST

START_TEST(uri_too_long_is_414_problem)
{
	char *path = malloc(12000);
	struct http_resp r;

	ck_assert_ptr_nonnull(path);
	strcpy(path, "/api/v1/sedes?x=");
	memset(path + 16, 'a', 11000);
	path[16 + 11000] = '\0';
	http_get(path, &r);
	assert_problem(&r, 414, "uri-demasiado-larga");
	http_free(&r);
	free(path);
}
END_TEST

/* Static paths nginx serves itself: missing, hidden, not listable. */
START_TEST(static_errors_are_problems)
{
	static const char *const missing[] = { "/no-existe.html",
	    "/docs/no-existe.js", "/node_modules/x", "/.git/config",
	    "/package.json", NULL };
	struct http_resp r;
	int i;

	for (i = 0; missing[i] != NULL; i++) {
		http_get(missing[i], &r);
		assert_problem(&r, 404, "no-encontrado");
		http_free(&r);
	}
}
END_TEST

/*
 * A user with a budget of its own (usuario_limites: bursts of 3 and one
 * request every 100 s, per API process) gets 429 with Retry-After once it
 * is spent, before any handler runs: a write is not made.  Others are not
 * held back, and a new budget applies within about a second.
 */
START_TEST(budget_spent_is_429_with_retry_after)
{
	char *v, *tok, *code = unique_code("L"), body[512], ra[16];
	struct http_resp r;
	long long uid, sedes;
	int i, n429 = 0, n200 = 0, secs = 0;
	time_t deadline = time(NULL) + 20;

	v = db_value("WITH u AS (INSERT INTO usuarios (email, nombre) VALUES "
	    "('limite.' || gen_random_uuid() || '@vetred.test', 'Limite') "
	    "RETURNING id), r AS (INSERT INTO usuario_roles (usuario_id, "
	    "sede_id, rol) SELECT id, NULL, 'admin_red' FROM u RETURNING 1), "
	    "l AS (INSERT INTO usuario_limites (usuario_id, por_segundo, "
	    "rafaga) SELECT id, 0.01, 3 FROM u RETURNING 1) "
	    "SELECT id FROM u WHERE (SELECT count(*) FROM r) + "
	    "(SELECT count(*) FROM l) = 2");
	ck_assert_ptr_nonnull(v);
	uid = atoll(v);
	free(v);
	tok = token_for(uid, "[{\"rol\":\"admin_red\",\"sede\":null}]");
	http_token(tok);
	/*
	 * The processes read the budget within about a second; then each
	 * answers 429 once its own bucket is spent.  Until a process has read
	 * it, or while its bucket holds a request, it answers 200: 16 429s in
	 * a row (nginx's workers each take the processes in turn) mean both
	 * have read it and are spent.
	 */
	while (n429 < 16 && time(NULL) < deadline) {
		http_get("/api/v1/sedes/1", &r);
		if (r.status == 429) {
			n429++;
			assert_problem(&r, 429, "demasiadas-solicitudes");
			ck_assert_ptr_nonnull(http_header(&r, "Retry-After", ra,
			    sizeof(ra)));
			secs = atoi(ra);
			ck_assert_msg(secs >= 1 && secs <= 100,
			    "Retry-After: %s", ra);
		} else {
			ck_assert_int_eq(r.status, 200);
			n429 = 0;
			n200++;
		}
		http_free(&r);
	}
	ck_assert_msg(n429 == 16, "no run of 429s after %d requests", n200);

	/* Spent: a valid write is refused, by either process, and not made. */
	sedes = db_count("SELECT count(*) FROM sedes");
	snprintf(body, sizeof(body), "{\"codigo\":\"%s\",\"nombre\":\"Sede "
	    "Limite\",\"ciudad\":\"Trujillo\",\"direccion\":\"Jr. Pizarro "
	    "512\",\"telefono\":\"+51944123456\","
	    "\"zona_horaria\":\"America/Lima\"}", code);
	for (i = 0; i < 4; i++) {
		http_post_json("/api/v1/sedes", body, &r);
		assert_problem(&r, 429, "demasiadas-solicitudes");
		http_free(&r);
	}
	ck_assert_int_eq(db_count("SELECT count(*) FROM sedes"), sedes);

	/* Another user's requests meanwhile: answered. */
	http_token(NULL);
	http_get("/api/v1/sedes/1", &r);
	ck_assert_int_eq(r.status, 200);
	http_free(&r);

	/* A bigger budget reaches both processes within about a second. */
	db_execf("UPDATE usuario_limites SET por_segundo = 1000 WHERE "
	    "usuario_id = %lld", uid);
	http_token(tok);
	for (i = 0, n200 = 0; n200 < 4 && i < 100; i++) {
		usleep(100000);
		http_get("/api/v1/sedes/1", &r);
		n200 = r.status == 200 ? n200 + 1 : 0;
		http_free(&r);
	}
	ck_assert_msg(n200 == 4, "the new budget did not apply");
	http_token(NULL);
	free(tok);
	free(code);
}
END_TEST

Suite *
errors_suite(void)
{
	Suite *s = suite_create("errors");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, unknown_path_is_404);
	tcase_add_test(tc, wrong_method_is_405_with_allow);
	tcase_add_test(tc, trace_is_405_problem_with_allow);
	tcase_add_test(tc, body_over_api_limit_is_413);
	tcase_add_test(tc, body_over_nginx_limit_is_413_problem);
	tcase_add_test(tc, wrong_content_type_is_415);
	tcase_add_test(tc, malformed_json_is_400);
	tcase_add_test(tc, invalid_utf8_is_400);
	tcase_add_test(tc, bad_path_ids_are_400);
	tcase_add_test(tc, absent_id_is_404);
	tcase_add_test(tc, header_too_large_is_problem);
	tcase_add_test(tc, uri_too_long_is_414_problem);
	tcase_add_test(tc, static_errors_are_problems);
	tcase_add_test(tc, budget_spent_is_429_with_retry_after);
	suite_add_tcase(s, tc);
	return s;
}
