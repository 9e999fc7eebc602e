/*
 * check_system.c - health, readiness, the OpenAPI document, the
 * docs page and the headers nginx adds, over real HTTP.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "itest.h"

static void
assert_ctype(struct http_resp *r, const char *prefix)
{
	char ct[128];

	ck_assert_msg(http_header(r, "Content-Type", ct, sizeof(ct)) &&
	    strncmp(ct, prefix, strlen(prefix)) == 0, "content type %s, "
	    "want %s", http_header(r, "Content-Type", ct, sizeof(ct)), prefix);
}

START_TEST(health_is_200_json)
{
	struct http_resp r;

	http_get("/health", &r);
	ck_assert_int_eq(r.status, 200);
	assert_ctype(&r, "application/json");
	ck_assert_ptr_nonnull(r.json);
	ck_assert_str_eq(cJSON_GetObjectItem(r.json, "estado")->valuestring,
	    "ok");
	http_free(&r);
}
END_TEST

START_TEST(ready_checks_database_and_broker)
{
	struct http_resp r;

	http_get("/ready", &r);
	ck_assert_msg(r.status == 200, "ready: %ld %s", r.status, r.body);
	ck_assert_str_eq(cJSON_GetObjectItem(r.json, "base_de_datos")
	    ->valuestring, "ok");
	ck_assert_str_eq(cJSON_GetObjectItem(r.json, "broker")->valuestring,
	    "ok");
	http_free(&r);
}
END_TEST

START_TEST(every_response_has_request_id_and_security_headers)
{
	static const char *const paths[] = { "/health", "/nada", "/", NULL };
	static const char *const names[] = { "X-Request-Id",
	    "X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy",
	    NULL };
	struct http_resp r;
	char v[128];
	int i, j;

	for (i = 0; paths[i] != NULL; i++) {
		http_get(paths[i], &r);
		for (j = 0; names[j] != NULL; j++)
			ck_assert_msg(http_header(&r, names[j], v, sizeof(v)),
			    "%s lacks %s", paths[i], names[j]);
		http_free(&r);
	}
}
END_TEST

START_TEST(openapi_document_is_served)
{
	struct http_resp r;
	const cJSON *v;

	http_get("/api/v1/openapi.json", &r);
	ck_assert_int_eq(r.status, 200);
	assert_ctype(&r, "application/json");
	ck_assert_ptr_nonnull(r.json);
	v = cJSON_GetObjectItem(r.json, "openapi");
	ck_assert(cJSON_IsString(v) && strncmp(v->valuestring, "3.0", 3) == 0);
	ck_assert(cJSON_IsObject(cJSON_GetObjectItem(r.json, "paths")));
	http_free(&r);
}
END_TEST

START_TEST(docs_page_and_assets)
{
	struct http_resp r;

	http_get("/docs/", &r);
	ck_assert_int_eq(r.status, 200);
	assert_ctype(&r, "text/html");
	ck_assert_ptr_nonnull(strstr(r.body, "swagger-ui"));
	http_free(&r);
	http_get("/docs/vendor/swagger-ui-bundle.js", &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_uint_gt(r.len, 100000);
	http_free(&r);
	http_get("/", &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_ptr_nonnull(strstr(r.body, "VetRed"));
	http_free(&r);
}
END_TEST

/*
 * A real headless Chromium loads /docs/, runs Swagger UI and renders one
 * operation block per path of the OpenAPI document.
 */
START_TEST(docs_render_every_route_in_chromium)
{
	char dir[] = "/tmp/vetred-chromium-XXXXXX", cmd[1024], want[256];
	struct http_resp doc;
	const cJSON *path;
	char *dom;
	FILE *f;
	size_t n;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(cmd, sizeof(cmd), "timeout 90 chromium --headless "
	    "--no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run "
	    "--disable-background-networking --disable-component-update "
	    "--disable-sync --user-data-dir=%s/profile "
	    "--virtual-time-budget=10000 --dump-dom %s/docs/ > %s/dom.html "
	    "2>/dev/null", dir, http_base(), dir);
	ck_assert_msg(system(cmd) == 0, "chromium failed: %s", cmd);
	snprintf(cmd, sizeof(cmd), "%s/dom.html", dir);
	f = fopen(cmd, "r");
	ck_assert_ptr_nonnull(f);
	dom = calloc(1, 4 << 20);
	ck_assert_ptr_nonnull(dom);
	n = fread(dom, 1, (4 << 20) - 1, f);
	fclose(f);
	ck_assert_uint_gt(n, 1000);
	http_get("/api/v1/openapi.json", &doc);
	ck_assert_int_eq(doc.status, 200);
	cJSON_ArrayForEach(path, cJSON_GetObjectItem(doc.json, "paths")) {
		snprintf(want, sizeof(want), "data-path=\"%s\"", path->string);
		ck_assert_msg(strstr(dom, want) != NULL, "Swagger UI did not "
		    "render %s", path->string);
	}
	ck_assert_ptr_nonnull(strstr(dom, "VetRed API"));
	http_free(&doc);
	free(dom);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

START_TEST(head_of_health_has_no_body)
{
	struct http_resp r;

	http_req("HEAD", "/health", NULL, NULL, 0, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_uint_eq(r.len, 0);
	http_free(&r);
}
END_TEST

/*
 * Every list answers one envelope, {elementos, siguiente_cursor} (the
 * history adds its patient).
 */
START_TEST(every_list_has_one_envelope)
{
	/* The history first: its read is an audit row to list. */
	static const char *const lists[] = {
	    "/api/v1/pacientes/1/historial?limite=2", "/api/v1/sedes",
	    "/api/v1/veterinarios", "/api/v1/citas?sede_id=1&limite=2",
	    "/api/v1/usuarios?limite=2", "/api/v1/auditoria?limite=2",
	    "/api/v1/sedes/1/consultorios" };
	struct http_resp r;
	size_t i;

	for (i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		http_get(lists[i], &r);
		ck_assert_msg(r.status == 200, "%s: %ld", lists[i], r.status);
		ck_assert_msg(cJSON_GetArraySize(json_items(r.json)) > 0,
		    "%s: empty", lists[i]);
		http_free(&r);
	}
}
END_TEST

/*
 * Date-times among v's strings, checked as YYYY-MM-DDTHH:MM:SS+HH:MM with
 * the offset of America/Lima (-05:00) -- or any offset inside an object
 * of another zona_horaria (sites the suites made elsewhere).
 */
static int
lima_times(const cJSON *v, const char *where, int lima)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:dd-05:00";
	const cJSON *e, *tz = cJSON_GetObjectItem(v, "zona_horaria");
	const char *s;
	int n = 0;
	size_t i;

	if (cJSON_IsString(tz))
		lima = strcmp(tz->valuestring, "America/Lima") == 0;
	cJSON_ArrayForEach(e, v) {
		if (cJSON_IsObject(e) || cJSON_IsArray(e)) {
			n += lima_times(e, where, lima);
			continue;
		}
		if (!cJSON_IsString(e) || strlen(e->valuestring) < 11 ||
		    e->valuestring[10] != 'T')
			continue;
		s = e->valuestring;
		ck_assert_msg(strlen(s) == strlen(shape), "%s: %s is \"%s\", "
		    "not RFC 3339 in whole seconds with the site's offset",
		    where, e->string ? e->string : "?", s);
		for (i = 0; shape[i] != '\0'; i++)
			ck_assert_msg(shape[i] == 'd' ? s[i] >= '0' &&
			    s[i] <= '9' : s[i] == shape[i] || (!lima && i >= 19
			    && (i == 19 ? s[i] == '+' || s[i] == '-' :
			    s[i] >= '0' && s[i] <= '9')), "%s: %s is \"%s\"",
			    where, e->string ? e->string : "?", s);
		n++;
	}
	return n;
}

/*
 * Every time an answer shows reads the same way: RFC 3339, whole
 * seconds, the offset of the site's zone (America/Lima here; users and
 * sign-ins, tied to no site, read in the network's zone, also Lima).
 */
START_TEST(times_read_in_the_sites_zone)
{
	/* The patient's reads first: they are audit rows to list, tied to no
	 * site (Lima); other suites write rows of sites in other zones. */
	static const char *const reads[] = { "/api/v1/pacientes/1",
	    "/api/v1/pacientes/1/historial?limite=3", "/api/v1/sedes",
	    "/api/v1/sedes/1", "/api/v1/usuarios?limite=3",
	    "/api/v1/usuarios/1",
	    "/api/v1/auditoria?entidad=pacientes&entidad_id=1&limite=20",
	    "/api/v1/citas?sede_id=1&limite=2" };
	struct http_resp r;
	size_t i;

	for (i = 0; i < sizeof(reads) / sizeof(reads[0]); i++) {
		http_get(reads[i], &r);
		ck_assert_msg(r.status == 200, "%s: %ld", reads[i], r.status);
		ck_assert_msg(lima_times(r.json, reads[i], 1) > 0, "%s: no time",
		    reads[i]);
		http_free(&r);
	}
}
END_TEST

Suite *
system_suite(void)
{
	Suite *s = suite_create("system");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, health_is_200_json);
	tcase_add_test(tc, ready_checks_database_and_broker);
	tcase_add_test(tc, every_response_has_request_id_and_security_headers);
	tcase_add_test(tc, openapi_document_is_served);
	tcase_add_test(tc, docs_page_and_assets);
	tcase_add_test(tc, head_of_health_has_no_body);
	tcase_add_test(tc, every_list_has_one_envelope);
	tcase_add_test(tc, times_read_in_the_sites_zone);
	tcase_add_test(tc, docs_render_every_route_in_chromium);
	suite_add_tcase(s, tc);
	return s;
}
