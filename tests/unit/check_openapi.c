/*
 * check_openapi.c - the OpenAPI document linked into the API
 * (fcgi-api/openapi.json via openapi_doc.c) and the route table of
 * router.c must describe the same endpoints: every route is documented,
 * and every documented operation is routed.  The problem types the API
 * can answer -- read from the sources that answer them: the C of the API,
 * the verdicts of the SQL functions, the pages nginx answers itself --
 * are exactly the ones the document lists.
 */
#include <ctype.h>
#include <glob.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authz.h"
#include "problem.h"
#include "resources.h"
#include "route.h"
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

/* ---- declared constraints --------------------------------------------- */

static const cJSON *
schema_ref(const cJSON *s)
{
	const cJSON *ref = cJSON_GetObjectItemCaseSensitive(s, "$ref");
	const char *pre = "#/components/schemas/";

	if (!cJSON_IsString(ref) || strncmp(ref->valuestring, pre,
	    strlen(pre)) != 0)
		return s;
	return cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(doc, "components"), "schemas"),
	    ref->valuestring + strlen(pre));
}

/*
 * Every list answers one envelope (elementos + siguiente_cursor): no 2xx
 * answer of the document is a bare JSON array.
 */
START_TEST(no_answer_is_a_bare_array)
{
	const cJSON *p = paths(), *item, *op, *resp, *media, *t;
	char bare[2048] = "";
	size_t len = 0;
	int n = 0;

	cJSON_ArrayForEach(item, p) {
		cJSON_ArrayForEach(op, item) {
			if (!is_operation(op->string))
				continue;
			cJSON_ArrayForEach(resp, cJSON_GetObjectItem(op,
			    "responses")) {
				if (resp->string[0] != '2')
					continue;
				cJSON_ArrayForEach(media, cJSON_GetObjectItem(
				    resp, "content")) {
					t = cJSON_GetObjectItem(schema_ref(
					    cJSON_GetObjectItem(media,
					    "schema")), "type");
					if (!cJSON_IsString(t) || strcmp(
					    t->valuestring, "array") != 0)
						continue;
					n++;
					if (len < sizeof(bare))
						len += (size_t)snprintf(bare +
						    len, sizeof(bare) - len,
						    " %s %s;", op->string,
						    item->string);
				}
			}
		}
	}
	ck_assert_msg(n == 0, "lists without the envelope:%s", bare);
}
END_TEST

/*
 * A string the server reads has a bound the document states: a length,
 * a pattern, an enum.  Walks properties and items below s.
 */
static void
assert_bounded(const cJSON *s, const char *where, int depth)
{
	const cJSON *t, *m;
	char name[192];

	s = schema_ref(s);
	ck_assert_msg(s != NULL && depth < 8, "%s: no schema", where);
	t = cJSON_GetObjectItemCaseSensitive(s, "type");
	if (cJSON_IsString(t) && strcmp(t->valuestring, "string") == 0)
		ck_assert_msg(cJSON_GetObjectItemCaseSensitive(s, "maxLength") ||
		    cJSON_GetObjectItemCaseSensitive(s, "pattern") ||
		    cJSON_GetObjectItemCaseSensitive(s, "enum"), "%s: a string "
		    "with no maxLength, pattern or enum", where);
	cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(s,
	    "properties")) {
		snprintf(name, sizeof(name), "%s.%s", where, m->string);
		assert_bounded(m, name, depth + 1);
	}
	if ((m = cJSON_GetObjectItemCaseSensitive(s, "items")) != NULL) {
		snprintf(name, sizeof(name), "%s[]", where);
		assert_bounded(m, name, depth + 1);
	}
}

/*
 * Every request body and every parameter states the bounds the server
 * enforces on its strings (the contract fuzzer of make test checks that
 * the server and these bounds agree).
 */
START_TEST(request_strings_are_bounded)
{
	const cJSON *item, *op, *prm, *body;
	char where[192];
	int n = 0;

	cJSON_ArrayForEach(item, paths()) {
		cJSON_ArrayForEach(op, item) {
			if (!is_operation(op->string))
				continue;
			cJSON_ArrayForEach(prm, cJSON_GetObjectItemCaseSensitive(
			    op, "parameters")) {
				if (cJSON_GetObjectItemCaseSensitive(prm, "$ref"))
					continue;
				snprintf(where, sizeof(where), "%s %s ?%s",
				    op->string, item->string, cJSON_GetStringValue(
				    cJSON_GetObjectItemCaseSensitive(prm, "name")));
				assert_bounded(cJSON_GetObjectItemCaseSensitive(prm,
				    "schema"), where, 0);
				n++;
			}
			body = cJSON_GetObjectItemCaseSensitive(
			    cJSON_GetObjectItemCaseSensitive(
			    cJSON_GetObjectItemCaseSensitive(
			    cJSON_GetObjectItemCaseSensitive(op, "requestBody"),
			    "content"), "application/json"), "schema");
			if (body == NULL)
				continue;
			snprintf(where, sizeof(where), "%s %s body", op->string,
			    item->string);
			assert_bounded(body, where, 0);
			n++;
		}
	}
	ck_assert_int_gt(n, 40);
}
END_TEST

/* ---- problem types --------------------------------------------------- */

#define MAX_SLUGS	128

struct slugs {
	char	*s[MAX_SLUGS];
	char	 from[MAX_SLUGS][64];
	int	 n;
};

static int
slug_index(const struct slugs *l, const char *s, size_t len)
{
	int i;

	for (i = 0; i < l->n; i++)
		if (strlen(l->s[i]) == len && memcmp(l->s[i], s, len) == 0)
			return i;
	return -1;
}

static void
slug_add(struct slugs *l, const char *s, size_t len, const char *from)
{
	if (slug_index(l, s, len) >= 0)
		return;
	ck_assert_int_lt(l->n, MAX_SLUGS);
	l->s[l->n] = strndup(s, len);
	snprintf(l->from[l->n], sizeof(l->from[0]), "%s", from);
	l->n++;
}

static void
slugs_free(struct slugs *l)
{
	while (l->n > 0)
		free(l->s[--l->n]);
}

/*
 * Adds group `group` of every match of the extended regex re in the files
 * of pattern; returns how many matches there were.
 */
static int
collect(struct slugs *l, const char *pattern, const char *re, int group)
{
	regex_t rx;
	regmatch_t m[4];
	glob_t g;
	const char *p;
	char *text;
	size_t i;
	int n = 0;

	ck_assert_int_eq(regcomp(&rx, re, REG_EXTENDED), 0);
	ck_assert_msg(glob(pattern, 0, NULL, &g) == 0, "no file matches %s",
	    pattern);
	for (i = 0; i < g.gl_pathc; i++) {
		text = ut_slurp(g.gl_pathv[i]);
		for (p = text; regexec(&rx, p, 4, m, 0) == 0;
		    p += m[0].rm_eo, n++)
			slug_add(l, p + m[group].rm_so, (size_t)
			    (m[group].rm_eo - m[group].rm_so), g.gl_pathv[i]);
		free(text);
	}
	globfree(&g);
	regfree(&rx);
	return n;
}

/* The problem types of the verdict codes; how many there are. */
static int
verdict_slugs(struct slugs *l)
{
	const struct api_verdict_kind *k;
	size_t i;
	int n = 0;

	for (i = 0; (k = api_verdict_kind_at(i)) != NULL; i++)
		if (k->type != NULL) {
			slug_add(l, k->type, strlen(k->type), "result.c");
			n++;
		}
	return n;
}

/* Every problem type that some source can answer. */
static void
answered_slugs(struct slugs *l)
{
	/* api_problem(r, 404, "no-encontrado", ...), and the 401 helpers
	 * of access.c and auth.c, which take the slug first. */
	ck_assert_int_gt(collect(l, "fcgi-api/*.c", "(problem[a-z_]*|"
	    "unauthenticated|unauthorized)\\(&?r,[[:space:]]*"
	    "([0-9]{3},[[:space:]]*)?\"([a-z0-9-]+)\"", 3), 40);
	/* The problems of the SQL functions' verdicts (result.c). */
	ck_assert_int_gt(verdict_slugs(l), 10);
	/* The answers nginx writes itself. */
	ck_assert_int_gt(collect(l, "deploy/nginx*", "/problemas/"
	    "([a-z0-9-]+)", 1), 1);
}

/* The enum of Problem.type: "/problemas/<slug>" each. */
static void
documented_slugs(struct slugs *l)
{
	const cJSON *t, *e;
	size_t pre = strlen("/problemas/");

	t = cJSON_GetObjectItemCaseSensitive(doc, "components");
	t = cJSON_GetObjectItemCaseSensitive(t, "schemas");
	t = cJSON_GetObjectItemCaseSensitive(t, "Problem");
	t = cJSON_GetObjectItemCaseSensitive(t, "properties");
	t = cJSON_GetObjectItemCaseSensitive(t, "type");
	t = cJSON_GetObjectItemCaseSensitive(t, "enum");
	ck_assert_msg(cJSON_IsArray(t), "Problem.type has no enum");
	cJSON_ArrayForEach(e, t) {
		ck_assert_msg(cJSON_IsString(e) && strncmp(e->valuestring,
		    "/problemas/", pre) == 0, "Problem.type: %s is not "
		    "/problemas/<slug>", cJSON_IsString(e) ? e->valuestring :
		    "?");
		slug_add(l, e->valuestring + pre, strlen(e->valuestring + pre),
		    "openapi.json");
	}
}

/*
 * Every problem type the API, its SQL functions or nginx can answer is
 * listed in the document (Problem.type's enum), and the document lists
 * no type that nothing answers.
 */
START_TEST(every_problem_type_documented)
{
	struct slugs answered = { .n = 0 }, documented = { .n = 0 };
	char missing[2048] = "", stale[2048] = "";
	size_t ml = 0, sl = 0;
	int i;

	answered_slugs(&answered);
	documented_slugs(&documented);
	for (i = 0; i < answered.n; i++)
		if (slug_index(&documented, answered.s[i],
		    strlen(answered.s[i])) < 0 && ml < sizeof(missing))
			ml += (size_t)snprintf(missing + ml, sizeof(missing) -
			    ml, " %s (%s);", answered.s[i], answered.from[i]);
	for (i = 0; i < documented.n; i++)
		if (slug_index(&answered, documented.s[i],
		    strlen(documented.s[i])) < 0 && sl < sizeof(stale))
			sl += (size_t)snprintf(stale + sl, sizeof(stale) - sl,
			    " %s;", documented.s[i]);
	slugs_free(&answered);
	slugs_free(&documented);
	ck_assert_msg(ml == 0, "problem types answered but not in "
	    "Problem.type's enum of openapi.json:%s", missing);
	ck_assert_msg(sl == 0, "problem types in openapi.json that nothing "
	    "answers:%s", stale);
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
	tcase_add_test(tc, every_problem_type_documented);
	tcase_add_test(tc, request_strings_are_bounded);
	tcase_add_test(tc, no_answer_is_a_bare_array);
	suite_add_tcase(s, tc);
	return s;
}
