/*
 * check_metrics.c - fcgi-api/metrics.c: counters by route and status,
 * the latency histogram (cumulative, monotonic), and an exposition that
 * Prometheus' own linter (promtool check metrics) accepts.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "metrics.h"
#include "route.h"
#include "tests.h"

static struct api_metrics *m;
static struct vr_buf out;

static void
setup(void)
{
	m = api_metrics_new(api_routes, api_nroutes);
	vr_buf_init(&out);
}

static void
teardown(void)
{
	api_metrics_free(m);
	vr_buf_free(&out);
}

static const char *
render(const char *inst)
{
	vr_buf_reset(&out);
	api_metrics_render(m, inst, &out);
	ck_assert_ptr_nonnull(out.data);
	return out.data;
}

/* Index of the route method+pattern in api_routes[]. */
static int
route(const char *method, const char *pattern)
{
	int i;

	for (i = 0; i < api_nroutes; i++)
		if (strcmp(api_routes[i].method, method) == 0 &&
		    strcmp(api_routes[i].pattern, pattern) == 0)
			return i;
	ck_abort_msg("no route %s %s", method, pattern);
	return -1;
}

/* The value of the sample whose name and labels are exactly series. */
static double
sample(const char *text, const char *series)
{
	const char *p = text;
	size_t n = strlen(series);

	while ((p = strstr(p, series)) != NULL) {
		if ((p == text || p[-1] == '\n') && p[n] == ' ')
			return strtod(p + n + 1, NULL);
		p += n;
	}
	return NAN;
}

static int
has_series(const char *text, const char *series)
{
	return !isnan(sample(text, series));
}

#define LBL(method, route) "api_instance=\"i1\",method=\"" method \
	"\",route=\"" route "\""

START_TEST(counts_by_route_and_status)
{
	const char *t;
	int h = route("GET", "/health"), s = route("POST", "/api/v1/sedes");

	api_metrics_observe(m, h, 200, 0.001);
	api_metrics_observe(m, h, 200, 0.002);
	api_metrics_observe(m, h, 503, 0.002);
	api_metrics_observe(m, s, 201, 0.01);
	api_metrics_observe(m, s, 422, 0.01);
	api_metrics_observe(m, s, 422, 0.01);
	t = render("i1");
	ck_assert_double_eq(sample(t, "vetred_http_requests_total{"
	    LBL("GET", "/health") ",status=\"200\"}"), 2);
	ck_assert_double_eq(sample(t, "vetred_http_requests_total{"
	    LBL("GET", "/health") ",status=\"503\"}"), 1);
	ck_assert_double_eq(sample(t, "vetred_http_requests_total{"
	    LBL("POST", "/api/v1/sedes") ",status=\"201\"}"), 1);
	ck_assert_double_eq(sample(t, "vetred_http_requests_total{"
	    LBL("POST", "/api/v1/sedes") ",status=\"422\"}"), 2);
	/* Zero counts are not rendered. */
	ck_assert(!has_series(t, "vetred_http_requests_total{"
	    LBL("GET", "/health") ",status=\"404\"}"));
	ck_assert(!has_series(t, "vetred_http_requests_total{"
	    LBL("GET", "/ready") ",status=\"200\"}"));
	ck_assert_double_eq(sample(t, "vetred_http_request_duration_seconds_"
	    "count{" LBL("GET", "/health") "}"), 3);
	ck_assert_double_eq(sample(t, "vetred_http_request_duration_seconds_"
	    "count{" LBL("POST", "/api/v1/sedes") "}"), 3);
}
END_TEST

START_TEST(other_status)
{
	const char *t;
	int h = route("GET", "/health");

	api_metrics_observe(m, h, 418, 0.001);
	api_metrics_observe(m, h, 302, 0.001);
	api_metrics_observe(m, h, 0, 0.001);
	api_metrics_observe(m, h, 504, 0.001);
	t = render("i1");
	ck_assert_double_eq(sample(t, "vetred_http_requests_total{"
	    LBL("GET", "/health") ",status=\"other\"}"), 4);
	ck_assert(!has_series(t, "vetred_http_requests_total{"
	    LBL("GET", "/health") ",status=\"0\"}"));
}
END_TEST

/* Route -1 (no match) and any index out of the table count as unmatched. */
START_TEST(unmatched_route)
{
	const char *t;

	api_metrics_observe(m, -1, 404, 0.0001);
	api_metrics_observe(m, api_nroutes, 404, 0.0001);
	api_metrics_observe(m, 100000, 405, 0.0001);
	t = render("i1");
	ck_assert_double_eq(sample(t, "vetred_http_requests_total{"
	    LBL("", "unmatched") ",status=\"404\"}"), 2);
	ck_assert_double_eq(sample(t, "vetred_http_requests_total{"
	    LBL("", "unmatched") ",status=\"405\"}"), 1);
	ck_assert_double_eq(sample(t, "vetred_http_request_duration_seconds_"
	    "count{" LBL("", "unmatched") "}"), 3);
}
END_TEST

/* le is "less or equal"; buckets cumulative, +Inf equal to the count. */
START_TEST(histogram_cumulative)
{
	static const double obs[] = { 0.0001, 0.0005, 0.003, 0.2, 0.7, 3, 10 };
	static const struct {
		const char	*le;
		double		 n;
	} want[] = {
		{ "0.0005", 2 }, { "0.001", 2 }, { "0.0025", 2 }, { "0.005", 3 },
		{ "0.01", 3 }, { "0.025", 3 }, { "0.05", 3 }, { "0.1", 3 },
		{ "0.25", 4 }, { "0.5", 4 }, { "1", 5 }, { "2.5", 5 },
		{ "5", 6 }, { "+Inf", 7 },
	};
	char series[256];
	const char *t;
	size_t i;
	int h = route("GET", "/health");

	for (i = 0; i < sizeof(obs) / sizeof(obs[0]); i++)
		api_metrics_observe(m, h, 200, obs[i]);
	t = render("i1");
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		snprintf(series, sizeof(series), "vetred_http_request_duration_"
		    "seconds_bucket{" LBL("GET", "/health") ",le=\"%s\"}",
		    want[i].le);
		ck_assert_msg(sample(t, series) == want[i].n, "%s = %g, want "
		    "%g", series, sample(t, series), want[i].n);
	}
	ck_assert_double_eq(sample(t, "vetred_http_request_duration_seconds_"
	    "count{" LBL("GET", "/health") "}"), 7);
	ck_assert_double_eq_tol(sample(t, "vetred_http_request_duration_"
	    "seconds_sum{" LBL("GET", "/health") "}"), 13.9036, 1e-5);
}
END_TEST

/* Every histogram, whatever was observed, never decreases along le. */
START_TEST(histogram_monotonic)
{
	const char *t, *p;
	double prev = -1, v;
	int i, r, nb = 0;

	for (i = 0; i < 5000; i++) {
		r = i % (api_nroutes + 1);
		api_metrics_observe(m, r == api_nroutes ? -1 : r, 200,
		    (double)((i * 7919) % 10007) / 1000.0);
	}
	t = render("i1");
	for (p = t; (p = strstr(p, "_bucket{")) != NULL; p++) {
		const char *le = strstr(p, "le=\"");
		const char *sp = strstr(p, "} ");

		v = strtod(sp + 2, NULL);
		if (strncmp(le, "le=\"0.0005\"", 11) == 0)
			prev = -1;		/* next series */
		ck_assert_msg(v >= prev, "bucket decreases at %.80s", p);
		prev = v;
		nb++;
	}
	ck_assert_int_eq(nb, 14 * (api_nroutes + 1));
}
END_TEST

START_TEST(gauges_and_db_errors)
{
	const char *t;

	api_metrics_db_error(m);
	api_metrics_db_error(m);
	api_metrics_inflight(m, 1);
	api_metrics_inflight(m, 1);
	api_metrics_inflight(m, -1);
	t = render("api-9");
	ck_assert_double_eq(sample(t, "vetred_db_errors_total{api_instance="
	    "\"api-9\"}"), 2);
	ck_assert_double_eq(sample(t, "vetred_http_requests_in_flight{"
	    "api_instance=\"api-9\"}"), 1);
	api_metrics_inflight(m, -1);
	api_metrics_inflight(m, -1);		/* below zero is shown as is */
	t = render("api-9");
	ck_assert_double_eq(sample(t, "vetred_http_requests_in_flight{"
	    "api_instance=\"api-9\"}"), -1);
}
END_TEST

START_TEST(empty_metrics_render)
{
	const char *t = render("i1");

	ck_assert_ptr_nonnull(strstr(t, "# TYPE vetred_http_requests_total "
	    "counter\n"));
	ck_assert_ptr_nonnull(strstr(t, "# TYPE vetred_http_request_duration_"
	    "seconds histogram\n"));
	ck_assert_ptr_null(strstr(t, "_bucket{"));
	ck_assert_double_eq(sample(t, "vetred_db_errors_total{api_instance="
	    "\"i1\"}"), 0);
	api_metrics_free(NULL);			/* harmless */
}
END_TEST

/* 401s by kind of route, 429s of the sign-in as lockouts. */
START_TEST(auth_failures_and_lockouts)
{
	int login = route("POST", "/api/v1/auth/login");
	int refresh = route("POST", "/api/v1/auth/refresh");
	int sedes = route("GET", "/api/v1/sedes");
	const char *t = render("i1");

	ck_assert_double_eq(sample(t, "vetred_auth_failures_total{api_instance"
	    "=\"i1\",kind=\"login\"}"), 0);
	api_metrics_observe(m, login, 401, 0.01);
	api_metrics_observe(m, login, 401, 0.01);
	api_metrics_observe(m, login, 200, 0.01);
	api_metrics_observe(m, login, 429, 0.01);
	api_metrics_observe(m, refresh, 401, 0.01);
	api_metrics_observe(m, sedes, 401, 0.01);
	api_metrics_observe(m, sedes, 429, 0.01);	/* not a lockout */
	api_metrics_observe(m, -1, 401, 0.01);		/* no route: none */
	t = render("i1");
	ck_assert_double_eq(sample(t, "vetred_auth_failures_total{api_instance"
	    "=\"i1\",kind=\"login\"}"), 2);
	ck_assert_double_eq(sample(t, "vetred_auth_failures_total{api_instance"
	    "=\"i1\",kind=\"refresh\"}"), 1);
	ck_assert_double_eq(sample(t, "vetred_auth_failures_total{api_instance"
	    "=\"i1\",kind=\"token\"}"), 1);
	ck_assert_double_eq(sample(t, "vetred_auth_lockouts_total{api_instance"
	    "=\"i1\"}"), 1);
}
END_TEST

/* The database connections of the process, as lib/db.c counts them. */
START_TEST(db_connection_counts)
{
	struct vr_db_stats st;
	struct vr_db db;
	const char *t;
	double before;

	t = render("i1");
	before = sample(t, "vetred_db_connect_failures_total{api_instance="
	    "\"i1\"}");
	ck_assert(!isnan(before));
	ck_assert(has_series(t, "vetred_db_connections{api_instance=\"i1\"}"));
	ck_assert(has_series(t, "vetred_db_reconnects_total{api_instance="
	    "\"i1\"}"));
	/* Nothing listens there: a failed attempt. */
	vr_db_open(&db, "postgresql://nobody@127.0.0.1:1/x?connect_timeout=2",
	    NULL, 0, 0);
	vr_db_close(&db);
	vr_db_stats(&st);
	t = render("i1");
	ck_assert_double_eq(sample(t, "vetred_db_connect_failures_total{"
	    "api_instance=\"i1\"}"), before + 1);
	ck_assert_double_eq(sample(t, "vetred_db_connections{api_instance="
	    "\"i1\"}"), (double)st.open);
}
END_TEST

/* Run promtool on the text; its output goes to the test's message. */
static void
promtool_accepts(const char *text)
{
	char path[] = "/tmp/vr-ut-metrics-XXXXXX", cmd[256], msg[2048] = "";
	FILE *p;
	size_t n;
	int fd, rc;

	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	snprintf(cmd, sizeof(cmd), "promtool check metrics < %s 2>&1", path);
	p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	n = fread(msg, 1, sizeof(msg) - 1, p);
	msg[n] = '\0';
	rc = pclose(p);
	unlink(path);
	ck_assert_msg(rc != -1 && WIFEXITED(rc) && WEXITSTATUS(rc) != 127,
	    "promtool not found (Debian package prometheus): %s", msg);
	ck_assert_msg(WEXITSTATUS(rc) == 0, "promtool check metrics refused "
	    "the exposition: %s\n--- text ---\n%.1500s", msg, text);
}

START_TEST(promtool_lint)
{
	int i;

	promtool_accepts(render("api-1"));	/* nothing observed yet */
	for (i = 0; i < api_nroutes; i++) {
		api_metrics_observe(m, i, 200, 0.001 * i);
		api_metrics_observe(m, i, 418, 7.0);
	}
	api_metrics_observe(m, -1, 404, 0.0001);
	api_metrics_db_error(m);
	api_metrics_inflight(m, 3);
	promtool_accepts(render("api-1"));
}
END_TEST

Suite *
metrics_suite(void)
{
	Suite *s = suite_create("metrics");
	TCase *tc = tcase_create("metrics");

	/* promtool is a Go program: under the sanitizer build on a busy
	 * machine its start alone can pass check's default 4 s. */
	tcase_set_timeout(tc, 30);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, counts_by_route_and_status);
	tcase_add_test(tc, other_status);
	tcase_add_test(tc, unmatched_route);
	tcase_add_test(tc, histogram_cumulative);
	tcase_add_test(tc, histogram_monotonic);
	tcase_add_test(tc, gauges_and_db_errors);
	tcase_add_test(tc, empty_metrics_render);
	tcase_add_test(tc, promtool_lint);
	tcase_add_test(tc, auth_failures_and_lockouts);
	tcase_add_test(tc, db_connection_counts);
	suite_add_tcase(s, tc);
	return s;
}
