/*
 * check_cors.c - browsers on other origins, through nginx: the origins of
 * VETRED_CORS_ORIGINS (the test stack lists two) get their preflight
 * answered and their answers marked readable, with credentials; any other
 * origin gets a 403 preflight and answers without a single CORS header.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "itest.h"

/* The first origin the stack allows. */
static const char *
listed(void)
{
	static char o[256];
	const char *l = getenv("VETRED_CORS_ORIGINS");

	ck_assert_msg(l != NULL && *l != '\0', "VETRED_CORS_ORIGINS is not "
	    "set: the test stack must allow an origin (ci/test.sh)");
	snprintf(o, sizeof(o), "%.*s", (int)strcspn(l, ","), l);
	return o;
}

static void
cors_send(const char *method, const char *path, const char *origin,
    const char *acrm, struct http_resp *r)
{
	char ho[300], hm[64];
	const char *extra[4] = { NULL };
	int n = 0;

	if (origin != NULL) {
		snprintf(ho, sizeof(ho), "Origin: %s", origin);
		extra[n++] = ho;
	}
	if (acrm != NULL) {
		snprintf(hm, sizeof(hm), "Access-Control-Request-Method: %s",
		    acrm);
		extra[n++] = hm;
		extra[n++] = "Access-Control-Request-Headers: authorization, "
		    "content-type, idempotency-key";
	}
	http_req(method, path, NULL, NULL, 0, extra, r);
}

static void
assert_no_cors(struct http_resp *r)
{
	ck_assert_msg(strcasestr(r->headers, "access-control-") == NULL,
	    "CORS headers for an origin not allowed:\n%s", r->headers);
}

static void
assert_cors(struct http_resp *r, const char *origin)
{
	char v[512];

	ck_assert_str_eq(http_header(r, "Access-Control-Allow-Origin", v,
	    sizeof(v)), origin);
	ck_assert_str_eq(http_header(r, "Access-Control-Allow-Credentials", v,
	    sizeof(v)), "true");
	ck_assert_ptr_nonnull(http_header(r, "Vary", v, sizeof(v)));
	ck_assert_ptr_nonnull(strstr(v, "Origin"));
}

START_TEST(origen_permitido_preflight_y_respuestas)
{
	const char *o = listed();
	char v[512];
	struct http_resp r;

	http_token_none();
	cors_send("OPTIONS", "/api/v1/citas/reservar", o, "POST", &r);
	ck_assert_msg(r.status == 204, "%ld %s", r.status, r.headers);
	assert_cors(&r, o);
	ck_assert_str_eq(http_header(&r, "Access-Control-Allow-Methods", v,
	    sizeof(v)), "POST");
	ck_assert_ptr_nonnull(http_header(&r, "Access-Control-Allow-Headers",
	    v, sizeof(v)));
	ck_assert_ptr_nonnull(strstr(v, "Authorization"));
	ck_assert_ptr_nonnull(strstr(v, "Idempotency-Key"));
	ck_assert_ptr_nonnull(strstr(v, "If-Match"));
	ck_assert_str_eq(http_header(&r, "Access-Control-Max-Age", v,
	    sizeof(v)), "600");
	http_free(&r);

	/* A path with several methods lists them all. */
	cors_send("OPTIONS", "/api/v1/citas/7", o, "PUT", &r);
	ck_assert_int_eq(r.status, 204);
	ck_assert_str_eq(http_header(&r, "Access-Control-Allow-Methods", v,
	    sizeof(v)), "GET, PUT, DELETE");
	http_free(&r);

	/* The other listed origin too; a path that does not exist is a 404. */
	cors_send("OPTIONS", "/api/v1/sedes", "http://localhost:5173", "GET", &r);
	ck_assert_int_eq(r.status, 204);
	assert_cors(&r, "http://localhost:5173");
	http_free(&r);
	cors_send("OPTIONS", "/api/v1/nada", o, "GET", &r);
	assert_problem(&r, 404, "no-encontrado");
	http_free(&r);

	/* Every answer is readable by the page: a refusal as a success. */
	cors_send("GET", "/api/v1/sedes", o, NULL, &r);
	assert_problem(&r, 401, "no-autenticado");
	assert_cors(&r, o);
	http_free(&r);
	http_token(NULL);
	cors_send("GET", "/api/v1/sedes/1", o, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	assert_cors(&r, o);
	ck_assert_ptr_nonnull(http_header(&r, "Access-Control-Expose-Headers",
	    v, sizeof(v)));
	ck_assert_ptr_nonnull(strstr(v, "Location"));
	ck_assert_ptr_nonnull(strstr(v, "ETag"));
	http_free(&r);
}
END_TEST

START_TEST(origen_no_permitido_sin_cabeceras_cors)
{
	const char *o = listed();
	char near[3][300];
	const char *others[] = { "https://evil.example", near[0], near[1],
	    near[2], "null", NULL };
	struct http_resp r;
	int i;

	/* Near misses of a listed origin are other origins. */
	snprintf(near[0], sizeof(near[0]), "%s.evil.example", o);
	snprintf(near[1], sizeof(near[1]), "%s/", o);
	snprintf(near[2], sizeof(near[2]), "%s:8443", o);
	for (i = 0; others[i] != NULL; i++) {
		http_token_none();
		cors_send("OPTIONS", "/api/v1/citas/reservar", others[i], "POST", &r);
		assert_problem(&r, 403, "origen-no-permitido");
		assert_no_cors(&r);
		http_free(&r);
		http_token(NULL);
		cors_send("GET", "/api/v1/sedes/1", others[i], NULL, &r);
		ck_assert_int_eq(r.status, 200);
		assert_no_cors(&r);
		http_free(&r);
	}
	/* No Origin: no CORS; OPTIONS that is no preflight: the 405. */
	cors_send("GET", "/api/v1/sedes/1", NULL, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	assert_no_cors(&r);
	http_free(&r);
	cors_send("OPTIONS", "/api/v1/sedes/1", o, NULL, &r);
	assert_problem(&r, 405, "metodo-no-permitido");
	http_free(&r);
}
END_TEST

Suite *
cors_suite(void)
{
	Suite *s = suite_create("cors");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, origen_permitido_preflight_y_respuestas);
	tcase_add_test(tc, origen_no_permitido_sin_cabeceras_cors);
	suite_add_tcase(s, tc);
	return s;
}
