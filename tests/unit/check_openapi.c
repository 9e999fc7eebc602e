/*
 * check_openapi.c - the OpenAPI document linked into the API
 * (fcgi-api/openapi.json via openapi_doc.c) and the route table of
 * router.c must describe the same endpoints: every route is documented,
 * and every documented operation is routed.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "api.h"
#include "tests.h"

static cJSON *doc;

static void
setup(void)
{
	size_t len = (size_t)(api_openapi_end - api_openapi_start);

	ck_assert_msg(len > 0, "the linked OpenAPI document is empty");
	ck_assert_msg(api_openapi_end[0] == '\0', "the document is not "
	    "NUL-terminated at api_openapi_end");
	doc = cJSON_ParseWithLength(api_openapi_start, len);
	ck_assert_msg(doc != NULL, "fcgi-api/openapi.json is not valid JSON "
	    "(near: %.40s)", cJSON_GetErrorPtr() ? cJSON_GetErrorPtr() : "?");
}

static void
teardown(void)
{
	cJSON_Delete(doc);
	doc = NULL;
}

static const cJSON *
paths(void)
{
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(doc, "paths");

	ck_assert_msg(cJSON_IsObject(p), "the document has no \"paths\" "
	    "object");
	return p;
}

static void
lower(const char *s, char *out, size_t n)
{
	size_t i;

	for (i = 0; s[i] != '\0' && i + 1 < n; i++)
		out[i] = (char)tolower((unsigned char)s[i]);
	out[i] = '\0';
}

START_TEST(document_is_openapi_3)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, "openapi");
	const cJSON *info = cJSON_GetObjectItemCaseSensitive(doc, "info");

	ck_assert_msg(cJSON_IsString(v) && strncmp(v->valuestring, "3.", 2)
	    == 0, "\"openapi\" is not a 3.x version string");
	ck_assert_msg(cJSON_IsObject(info) &&
	    cJSON_IsString(cJSON_GetObjectItem(info, "title")) &&
	    cJSON_IsString(cJSON_GetObjectItem(info, "version")),
	    "info.title and info.version are required");
	(void)paths();
}
END_TEST

/* paths[pattern][method] exists for every row of api_routes[]. */
START_TEST(every_route_documented)
{
	const cJSON *p = paths(), *item, *op;
	char method[16], missing[4096] = "";
	size_t len = 0;
	int i, n = 0;

	for (i = 0; i < api_nroutes; i++) {
		lower(api_routes[i].method, method, sizeof(method));
		item = cJSON_GetObjectItemCaseSensitive(p,
		    api_routes[i].pattern);
		op = cJSON_GetObjectItemCaseSensitive(item, method);
		if (cJSON_IsObject(op))
			continue;
		n++;
		if (len < sizeof(missing))
			len += (size_t)snprintf(missing + len,
			    sizeof(missing) - len, " %s %s;",
			    api_routes[i].method, api_routes[i].pattern);
	}
	ck_assert_msg(n == 0, "%d route(s) of router.c missing from "
	    "openapi.json:%s", n, missing);
}
END_TEST

/*
 * The document states each route's permission (x-permiso) and the roles
 * that grant it (x-roles) exactly as the router enforces them; public
 * routes need no token (security: []).
 */
START_TEST(permissions_documented)
{
	const cJSON *p = paths(), *op, *perm, *roles, *sec, *e;
	char method[16];
	unsigned mask;
	int i, k;

	for (i = 0; i < api_nroutes; i++) {
		lower(api_routes[i].method, method, sizeof(method));
		op = cJSON_GetObjectItemCaseSensitive(
		    cJSON_GetObjectItemCaseSensitive(p, api_routes[i].pattern),
		    method);
		ck_assert_ptr_nonnull(op);
		perm = cJSON_GetObjectItemCaseSensitive(op, "x-permiso");
		roles = cJSON_GetObjectItemCaseSensitive(op, "x-roles");
		sec = cJSON_GetObjectItemCaseSensitive(op, "security");
		if (api_routes[i].perm == NULL) {
			ck_assert_msg(perm == NULL && roles == NULL,
			    "%s %s is public but documents a permission",
			    api_routes[i].method, api_routes[i].pattern);
			ck_assert_msg(cJSON_IsArray(sec) &&
			    cJSON_GetArraySize(sec) == 0, "%s %s is public: "
			    "security must be []", api_routes[i].method,
			    api_routes[i].pattern);
			continue;
		}
		mask = api_perm_roles(api_routes[i].perm);
		ck_assert_msg(mask != 0, "permission %s of %s %s grants no role",
		    api_routes[i].perm, api_routes[i].method,
		    api_routes[i].pattern);
		ck_assert_msg(cJSON_IsString(perm) &&
		    strcmp(perm->valuestring, api_routes[i].perm) == 0,
		    "%s %s: x-permiso is not %s", api_routes[i].method,
		    api_routes[i].pattern, api_routes[i].perm);
		ck_assert_msg(cJSON_IsArray(roles), "%s %s: no x-roles",
		    api_routes[i].method, api_routes[i].pattern);
		cJSON_ArrayForEach(e, roles) {
			k = cJSON_IsString(e) ? api_rol_parse(e->valuestring) : -1;
			ck_assert_msg(k >= 0 && (mask & (1u << k)), "%s %s: role "
			    "%s in x-roles does not grant %s",
			    api_routes[i].method, api_routes[i].pattern,
			    cJSON_IsString(e) ? e->valuestring : "?",
			    api_routes[i].perm);
			mask &= ~(1u << k);
		}
		ck_assert_msg(mask == 0, "%s %s: x-roles misses roles that "
		    "grant %s", api_routes[i].method, api_routes[i].pattern,
		    api_routes[i].perm);
	}
	ck_assert_ptr_nonnull(cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(
	    doc, "components"), "securitySchemes"), "bearerAuth"));
}
END_TEST

static int
is_operation(const char *key)
{
	static const char *const ops[] = { "get", "put", "post", "delete",
	    "options", "head", "patch", "trace", NULL };
	int i;

	for (i = 0; ops[i] != NULL; i++)
		if (strcmp(key, ops[i]) == 0)
			return 1;
	return 0;
}

/* Every operation of the document is a row of api_routes[]. */
START_TEST(every_operation_routed)
{
	const cJSON *p = paths(), *item, *op;
	char method[16], extra[4096] = "";
	size_t len = 0;
	int i, n = 0, found;

	cJSON_ArrayForEach(item, p) {
		cJSON_ArrayForEach(op, item) {
			if (!is_operation(op->string))
				continue;
			for (found = 0, i = 0; i < api_nroutes && !found; i++) {
				lower(api_routes[i].method, method,
				    sizeof(method));
				found = strcmp(method, op->string) == 0 &&
				    strcmp(api_routes[i].pattern,
				    item->string) == 0;
			}
			if (found)
				continue;
			n++;
			if (len < sizeof(extra))
				len += (size_t)snprintf(extra + len,
				    sizeof(extra) - len, " %s %s;",
				    op->string, item->string);
		}
	}
	ck_assert_msg(n == 0, "%d operation(s) of openapi.json not in the "
	    "route table of router.c:%s", n, extra);
}
END_TEST

/* Paths are route patterns: no query, rooted at '/'. */
START_TEST(paths_are_patterns)
{
	const cJSON *p = paths(), *item;

	cJSON_ArrayForEach(item, p)
		ck_assert_msg(item->string[0] == '/' && strchr(item->string,
		    '?') == NULL, "path \"%s\" is not a route pattern",
		    item->string);
}
END_TEST

Suite *
openapi_suite(void)
{
	Suite *s = suite_create("openapi");
	TCase *tc = tcase_create("routes");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, document_is_openapi_3);
	tcase_add_test(tc, every_route_documented);
	tcase_add_test(tc, permissions_documented);
	tcase_add_test(tc, every_operation_routed);
	tcase_add_test(tc, paths_are_patterns);
	suite_add_tcase(s, tc);
	return s;
}
