/*
 * check_errors.c - bad requests get the right 4xx as problem+json and
 * never a 500: unknown paths, wrong methods, oversized bodies (past the
 * API's limit and past nginx's), wrong content types, malformed JSON,
 * invalid UTF-8, bad path ids.
 */
#include <stdlib.h>
#include <string.h>

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
	suite_add_tcase(s, tc);
	return s;
}
