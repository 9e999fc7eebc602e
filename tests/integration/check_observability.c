/*
 * check_observability.c - what operators read: every API process's own
 * metrics listener (one Prometheus target each, promtool-clean, values
 * that move), /metrics kept off nginx, one JSON log line per request from
 * the API and from nginx with the same request id (typed fields, no
 * token, body or raw path), and a sealer that stays quiet when idle.
 */
#include <glob.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>

#include "itest.h"

#define MAX_TARGETS	16

/* The stack's metrics listeners (VETRED_METRICS_URLS); their count. */
static int
targets(char urls[MAX_TARGETS][128])
{
	const char *env = getenv("VETRED_METRICS_URLS"), *p, *sp;
	int n = 0;
	size_t len;

	ck_assert_msg(env != NULL && *env, "VETRED_METRICS_URLS is not set: "
	    "source the stack's env file (ci/stack.sh env)");
	for (p = env; *p && n < MAX_TARGETS; p = *sp ? sp + 1 : sp) {
		sp = p + strcspn(p, " ");
		len = (size_t)(sp - p);
		ck_assert_uint_lt(len, 128);
		memcpy(urls[n], p, len);
		urls[n++][len] = '\0';
	}
	return n;
}

/* GET url + path from a process's listener; asserts 200. */
static void
scrape(const char *url, const char *path, struct http_resp *r)
{
	char full[256];

	snprintf(full, sizeof(full), "%s%s", url, path);
	http_get_url(full, r);
	ck_assert_msg(r->status == 200, "%s: %ld", full, r->status);
}

/* The label value of api_instance in text, into out. */
static void
instance_of(const char *text, char *out, size_t len)
{
	const char *p = strstr(text, "api_instance=\"");

	ck_assert_ptr_nonnull(p);
	p += strlen("api_instance=\"");
	snprintf(out, len, "%.*s", (int)strcspn(p, "\""), p);
}

/* Sum of a series over every target. */
static double
sum_all(const char *name, const char *want)
{
	char urls[MAX_TARGETS][128];
	struct http_resp r;
	double sum = 0, v;
	int i, n = targets(urls);

	for (i = 0; i < n; i++) {
		scrape(urls[i], "/metrics", &r);
		v = metrics_sum(r.body, name, want);
		ck_assert_msg(!isnan(v), "%s has no %s", urls[i], name);
		sum += v;
		http_free(&r);
	}
	return sum;
}

/*
 * Every process has a listener of its own: each answers for itself (its
 * api_instance, the same at every scrape), with the families operators
 * expect, in a text promtool accepts; /health and /ready there too.
 */
START_TEST(every_process_is_a_target)
{
	static const char *const families[] = {
		"vetred_build_info", "process_cpu_seconds_total",
		"process_resident_memory_bytes", "process_virtual_memory_bytes",
		"process_open_fds", "process_max_fds",
		"process_start_time_seconds", "vetred_http_requests_total",
		"vetred_db_connections", "vetred_db_connects_total",
		"vetred_db_reconnects_total", "vetred_db_connect_failures_total",
		"vetred_auth_failures_total", "vetred_auth_lockouts_total",
		"vetred_audit_unsealed_rows",
		"vetred_audit_unsealed_age_seconds", NULL
	};
	char urls[MAX_TARGETS][128], inst[MAX_TARGETS][64], again[64], ct[128];
	struct http_resp r;
	int i, j, n = targets(urls);

	ck_assert_int_eq(n, 2);		/* VETRED_API_PROCS of ci/test.sh */
	for (i = 0; i < n; i++) {
		scrape(urls[i], "/metrics", &r);
		ck_assert_ptr_nonnull(http_header(&r, "Content-Type", ct,
		    sizeof(ct)));
		ck_assert_ptr_nonnull(strstr(ct, "text/plain; version=0.0.4"));
		for (j = 0; families[j] != NULL; j++)
			ck_assert_msg(!isnan(metrics_sum(r.body, families[j],
			    NULL)), "%s lacks %s", urls[i], families[j]);
		ck_assert_double_eq(metrics_sum(r.body, "vetred_build_info",
		    NULL), 1);
		ck_assert_double_ge(metrics_sum(r.body, "vetred_db_connections",
		    NULL), 1);
		ck_assert_double_eq(metrics_sum(r.body, "vetred_audit_lag_up",
		    NULL), 1);
		metrics_promtool_ok(&r, urls[i]);
		instance_of(r.body, inst[i], sizeof(inst[i]));
		for (j = 0; j < i; j++)
			ck_assert_str_ne(inst[i], inst[j]);
		http_free(&r);
		scrape(urls[i], "/metrics", &r);
		instance_of(r.body, again, sizeof(again));
		ck_assert_str_eq(again, inst[i]);
		http_free(&r);
		scrape(urls[i], "/health", &r);
		ck_assert_ptr_nonnull(r.json);
		ck_assert_str_eq(json_s(r.json, "instancia"), inst[i]);
		http_free(&r);
		scrape(urls[i], "/ready", &r);
		ck_assert_str_eq(json_s(r.json, "estado"), "listo");
		http_free(&r);
	}
}
END_TEST

/* The listener serves GET and HEAD of its three paths, nothing else. */
START_TEST(listener_refuses_other_paths_and_methods)
{
	char urls[MAX_TARGETS][128], full[256], allow[64];
	struct http_resp r;

	targets(urls);
	snprintf(full, sizeof(full), "%s/api/v1/sedes", urls[0]);
	http_get_url(full, &r);
	ck_assert_int_eq(r.status, 404);
	http_free(&r);
	snprintf(full, sizeof(full), "%s/metrics", urls[0]);
	http_req_url("POST", full, "text/plain", "x", 1, NULL, &r);
	ck_assert_int_eq(r.status, 405);
	ck_assert_ptr_nonnull(http_header(&r, "Allow", allow, sizeof(allow)));
	ck_assert_str_eq(allow, "GET, HEAD");
	http_free(&r);
	http_req_url("HEAD", full, NULL, NULL, 0, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_uint_eq(r.len, 0);
	http_free(&r);
}
END_TEST

/* The status of GET url over HTTPS, checked against the stack's CA. */
static long
https_status(const char *url)
{
	struct http_resp r;
	const char *ca = getenv("VETRED_TLS_CA");
	CURL *c = curl_easy_init();

	ck_assert_ptr_nonnull(ca);
	memset(&r, 0, sizeof(r));
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CAINFO, ca);
	curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
	ck_assert_int_eq(curl_easy_perform(c), CURLE_OK);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
	curl_easy_cleanup(c);
	return r.status;
}

/* nginx routes no /metrics, on plain HTTP or HTTPS. */
START_TEST(metrics_not_behind_nginx)
{
	const char *https = getenv("VETRED_HTTPS_URL");
	char url[256];
	struct http_resp r;

	http_get("/metrics", &r);
	ck_assert_int_eq(r.status, 404);
	ck_assert_ptr_null(strstr(r.body, "vetred_"));
	http_free(&r);
	ck_assert_ptr_nonnull(https);
	snprintf(url, sizeof(url), "%s/metrics", https);
	ck_assert_int_eq(https_status(url), 404);
}
END_TEST

/* A failed sign-in and a lockout move their counters (summed over all). */
START_TEST(auth_failures_and_lockouts_move)
{
	char *email = unique_code("metricas");
	char addr[128];
	struct http_resp r;
	double f0, f1, l0, l1, t0, t1;
	int i;

	snprintf(addr, sizeof(addr), "%s@ejemplo.pe", email);
	db_execf("DELETE FROM intentos_login WHERE direccion_ip = '127.0.0.1'");
	f0 = sum_all("vetred_auth_failures_total", "kind=\"login\"");
	l0 = sum_all("vetred_auth_lockouts_total", NULL);
	t0 = sum_all("vetred_auth_failures_total", "kind=\"token\"");
	for (i = 0; i < 5; i++) {
		http_login(addr, "no-es-la-clave-1234", &r);
		ck_assert_int_eq(r.status, 401);
		http_free(&r);
	}
	http_login(addr, "no-es-la-clave-1234", &r);
	ck_assert_int_eq(r.status, 429);
	http_free(&r);
	http_req("GET", "/api/v1/sedes", NULL, NULL, 0, (const char *const[]){
	    "Authorization: Bearer no.es.un-token", NULL }, &r);
	ck_assert_int_eq(r.status, 401);
	http_free(&r);
	f1 = sum_all("vetred_auth_failures_total", "kind=\"login\"");
	l1 = sum_all("vetred_auth_lockouts_total", NULL);
	t1 = sum_all("vetred_auth_failures_total", "kind=\"token\"");
	ck_assert_double_eq(f1 - f0, 5);
	ck_assert_double_eq(l1 - l0, 1);
	ck_assert_double_eq(t1 - t0, 1);
	db_execf("DELETE FROM intentos_login WHERE direccion_ip = '127.0.0.1'");
	free(email);
}
END_TEST

/* ---- logs ---------------------------------------------------------- */

/* The whole content of path (malloc'd, "" if absent). */
static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *s;
	long n;

	if (f == NULL)
		return calloc(1, 1);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	s = malloc((size_t)n + 1);
	ck_assert_ptr_nonnull(s);
	ck_assert_uint_eq(fread(s, 1, (size_t)n, f), (size_t)n);
	s[n] = '\0';
	fclose(f);
	return s;
}

/* Every API log file of the stack, concatenated (malloc'd). */
static char *
api_logs(void)
{
	char pat[512], *all = calloc(1, 1), *one;
	glob_t g;
	size_t i, len = 0, add;

	snprintf(pat, sizeof(pat), "%s/log/api-*.log", stack_dir());
	ck_assert_int_eq(glob(pat, 0, NULL, &g), 0);
	for (i = 0; i < g.gl_pathc; i++) {
		one = slurp(g.gl_pathv[i]);
		add = strlen(one);
		all = realloc(all, len + add + 1);
		memcpy(all + len, one, add + 1);
		len += add;
		free(one);
	}
	globfree(&g);
	return all;
}

/*
 * The first JSON line of text whose request_id is rid and, unless msg is
 * NULL, whose msg is msg (a new object, or NULL).  Every line that opens
 * an object must parse.
 */
static cJSON *
line_of(const char *text, const char *rid, const char *msg)
{
	const char *p = text, *eol;
	cJSON *o, *found = NULL;
	const cJSON *v, *m;

	for (; *p; p = *eol ? eol + 1 : eol) {
		eol = p + strcspn(p, "\n");
		if (*p != '{')
			continue;
		o = cJSON_ParseWithLength(p, (size_t)(eol - p));
		ck_assert_msg(o != NULL, "log line is not JSON: %.*s",
		    (int)(eol - p), p);
		v = cJSON_GetObjectItem(o, "request_id");
		m = cJSON_GetObjectItem(o, "msg");
		if (found == NULL && cJSON_IsString(v) &&
		    strcmp(v->valuestring, rid) == 0 && (msg == NULL ||
		    (cJSON_IsString(m) && strcmp(m->valuestring, msg) == 0)))
			found = o;
		else
			cJSON_Delete(o);
	}
	return found;
}

static double
num(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItem(o, name);

	ck_assert_msg(cJSON_IsNumber(v), "%s is not a JSON number", name);
	return v->valuedouble;
}

static void
request_id_of(struct http_resp *r, char *rid, size_t len)
{
	ck_assert_ptr_nonnull(http_header(r, "X-Request-Id", rid, len));
}

/* The API's line of rid, with the fields and types every line has. */
static cJSON *
api_line(const char *logs, const char *rid, const char *method,
    const char *route, int status)
{
	cJSON *o = line_of(logs, rid, "request");

	ck_assert_msg(o != NULL, "no API log line with request_id %s", rid);
	ck_assert_str_eq(json_s(o, "msg"), "request");
	ck_assert_str_eq(json_s(o, "level"), status >= 500 ? "error" : "info");
	ck_assert(cJSON_IsString(cJSON_GetObjectItem(o, "time")));
	ck_assert_str_eq(json_s(o, "method"), method);
	ck_assert_str_eq(json_s(o, "route"), route);
	ck_assert_double_eq(num(o, "status"), status);
	ck_assert_double_ge(num(o, "duration_ms"), 0);
	ck_assert_double_ge(num(o, "bytes"), 1);
	ck_assert(cJSON_IsString(cJSON_GetObjectItem(o, "instance")));
	return o;
}

/*
 * One line per request, with the route's pattern (not the path), typed
 * numbers, the user and site when known, and nothing a client sent:
 * no token, no body, no query.
 */
START_TEST(api_logs_one_json_line_per_request)
{
	char rid1[128], rid2[128], rid3[128], *marker = unique_code("Secreto"),
	    body[256], path[128], *logs;
	const char *auth = http_auth_header();
	struct http_resp r;
	cJSON *o;

	http_get("/api/v1/veterinarios?sede_id=1", &r);
	ck_assert_int_eq(r.status, 200);
	request_id_of(&r, rid1, sizeof(rid1));
	http_free(&r);
	snprintf(body, sizeof(body), "{\"email\":\"%s@ejemplo.pe\","
	    "\"password\":\"%s-clave\"}", marker, marker);
	db_execf("DELETE FROM intentos_login WHERE direccion_ip = '127.0.0.1'");
	http_post_json("/api/v1/auth/login", body, &r);
	ck_assert_int_eq(r.status, 401);
	request_id_of(&r, rid2, sizeof(rid2));
	http_free(&r);
	snprintf(path, sizeof(path), "/api/v1/%s/1?q=%s", marker, marker);
	http_get(path, &r);
	ck_assert_int_eq(r.status, 404);
	request_id_of(&r, rid3, sizeof(rid3));
	http_free(&r);
	db_execf("DELETE FROM intentos_login WHERE direccion_ip = '127.0.0.1'");

	logs = api_logs();
	o = api_line(logs, rid1, "GET", "/api/v1/veterinarios", 200);
	ck_assert_double_eq(num(o, "user_id"), (double)admin_id());
	ck_assert_double_eq(num(o, "sede_id"), 1);
	cJSON_Delete(o);
	o = api_line(logs, rid2, "POST", "/api/v1/auth/login", 401);
	ck_assert_ptr_null(cJSON_GetObjectItem(o, "user_id"));
	cJSON_Delete(o);
	o = api_line(logs, rid3, "GET", "unmatched", 404);
	cJSON_Delete(o);
	/* Nothing the clients sent: token, body, path or query. */
	ck_assert_ptr_nonnull(auth);
	ck_assert_ptr_null(strstr(logs, auth + strlen("Authorization: Bearer ")));
	ck_assert_ptr_null(strstr(logs, marker));
	/* Numbers are numbers: no "threads":"4" left. */
	ck_assert_ptr_null(strstr(logs, "\"threads\":\""));
	ck_assert_ptr_nonnull(strstr(logs, "\"threads\":"));
	free(logs);
	free(marker);
}
END_TEST

/* nginx's access log: JSON, the same request id, no query. */
START_TEST(nginx_access_log_is_json_with_request_id)
{
	char rid[128], path[128], file[512], *marker = unique_code("Buscado"),
	    *text = NULL;
	struct http_resp r;
	cJSON *o = NULL;
	int i;

	snprintf(path, sizeof(path), "/api/v1/sedes/1?nombre=%s", marker);
	http_get(path, &r);
	ck_assert_int_eq(r.status, 200);
	request_id_of(&r, rid, sizeof(rid));
	http_free(&r);
	snprintf(file, sizeof(file), "%s/nginx/access.log", stack_dir());
	/* Buffered: written within a second. */
	for (i = 0; i < 40 && o == NULL; i++) {
		free(text);
		text = slurp(file);
		if ((o = line_of(text, rid, NULL)) == NULL)
			usleep(100000);
	}
	ck_assert_msg(o != NULL, "no line with request_id %s in %s", rid, file);
	ck_assert_str_eq(json_s(o, "method"), "GET");
	ck_assert_str_eq(json_s(o, "path"), "/api/v1/sedes/1");
	ck_assert_double_eq(num(o, "status"), 200);
	ck_assert_double_ge(num(o, "bytes"), 1);
	ck_assert_double_ge(num(o, "request_time"), 0);
	ck_assert(cJSON_IsString(cJSON_GetObjectItem(o, "time")));
	ck_assert_ptr_null(strstr(text, marker));
	/* The API logged the same request under the same id. */
	free(text);
	text = api_logs();
	cJSON_Delete(o);
	o = api_line(text, rid, "GET", "/api/v1/sedes/{id}", 200);
	cJSON_Delete(o);
	free(text);
	free(marker);
}
END_TEST

static long long
size_of(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

#define UNSEALED "SELECT count(*) FROM auditoria a WHERE a.xid IS NOT NULL " \
	"AND NOT EXISTS (SELECT 1 FROM auditoria_sellos s " \
	"WHERE s.auditoria_id = a.id)"

/* Lines of file past offset that hold needle. */
static int
lines_past(const char *file, long long offset, const char *needle)
{
	char *text = slurp(file), *p;
	int n = 0;

	ck_assert_ptr_nonnull(text);
	for (p = text + offset; (p = strstr(p, needle)) != NULL; p++)
		n++;
	free(text);
	return n;
}

/*
 * The sealing job (every 2 s, vetred-worker) logs no chain head while
 * there is nothing to seal (an idle heartbeat once a minute at most), and
 * one when it seals; verificar still reads the log.
 */
START_TEST(idle_sealer_writes_nothing)
{
	char file[512], cmd[600], out[2048], *tail;
	long long size0, size1;
	int i;

	snprintf(file, sizeof(file), "%s/log/worker.log", stack_dir());
	for (i = 0; i < 100 && db_count(UNSEALED) > 0; i++)
		usleep(100000);
	ck_assert_int_eq(db_count(UNSEALED), 0);
	sleep(3);	/* a run in flight has logged by now */
	size0 = size_of(file);
	ck_assert_int_ge(size0, 0);
	sleep(5);	/* more than two runs */
	ck_assert_int_eq(lines_past(file, size0, "\"msg\":\"audit rows "
	    "sealed\""), 0);
	ck_assert_int_le(lines_past(file, size0, "\"msg\":\"sealer idle\""), 1);
	/* Each run is a message handled, with its line. */
	ck_assert_int_ge(lines_past(file, size0, "\"key\":\"sellado_auditoria"
	    "\",\"event_id\""), 2);

	/* An audit row: the next run seals it and says so. */
	size0 = size_of(file);
	db_execf("SELECT auditar(NULL, 'sistema', NULL, 'leer', 'sedes', '1', "
	    "'sellador', NULL, NULL, NULL)");
	for (i = 0; i < 100 && lines_past(file, size0, "\"msg\":\"audit rows "
	    "sealed\"") == 0; i++)
		usleep(100000);
	size1 = size_of(file);
	ck_assert_int_gt(size1, size0);
	tail = slurp(file);
	ck_assert_ptr_nonnull(strstr(tail + size0, "\"msg\":\"audit rows sealed\""));
	ck_assert_ptr_nonnull(strstr(tail + size0, "\"filas\":"));
	ck_assert_ptr_nonnull(strstr(tail + size0, "\"ultimo_sello\":"));
	free(tail);
	snprintf(cmd, sizeof(cmd), "verificar %s", file);
	ck_assert_int_eq(run_admin(cmd, NULL, out, sizeof(out)), 0);
	ck_assert_ptr_null(strstr(out, "\"anclas\": 0,"));
	ck_assert_ptr_nonnull(strstr(out, "\"primera_ancla_rota\": null"));
}
END_TEST

Suite *
observability_suite(void)
{
	Suite *s = suite_create("observability");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, every_process_is_a_target);
	tcase_add_test(tc, listener_refuses_other_paths_and_methods);
	tcase_add_test(tc, metrics_not_behind_nginx);
	tcase_add_test(tc, auth_failures_and_lockouts_move);
	tcase_add_test(tc, api_logs_one_json_line_per_request);
	tcase_add_test(tc, nginx_access_log_is_json_with_request_id);
	tcase_add_test(tc, idle_sealer_writes_nothing);
	suite_add_tcase(s, tc);
	return s;
}
