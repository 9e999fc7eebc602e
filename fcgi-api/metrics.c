/*
 * metrics.c - Prometheus metrics of one API process.
 *
 * Counters are relaxed atomics indexed by route (the route table's index;
 * one extra slot for requests that matched no route) and by a small set of
 * status codes, so the hot path takes no lock.  Every process keeps its
 * own, served by its own monitoring listener (monitor.c); the
 * api_instance label tells them apart.  Authentication failures are
 * counted from the answers: a 401 of a route that needs a token is a
 * refused token, a 401 of a public (auth) route refused credentials, and
 * a 429 of the sign-in route a lockout after repeated failures.  The
 * route table is given at creation (main.c passes the router's), so the
 * counters know the routes without depending on the layer that owns them.
 */
#include <stdlib.h>
#include <string.h>

#include "metrics.h"

static const int statuses[] = {
	200, 201, 204, 400, 401, 403, 404, 405, 409, 413, 415, 422, 429,
	500, 503, 0	/* 0: any other status */
};
#define NSTATUS	((int)(sizeof(statuses) / sizeof(statuses[0])))

static const double buckets[] = {
	0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
	2.5, 5
};
#define NBUCKET	((int)(sizeof(buckets) / sizeof(buckets[0])))

struct route_stats {
	atomic_ulong	by_status[NSTATUS];
	atomic_ulong	le[NBUCKET];	/* cumulative at render time */
	atomic_ulong	count;
	atomic_ulong	sum_us;
};

enum auth_kind { AUTH_LOGIN, AUTH_REFRESH, AUTH_TOKEN, AUTH__MAX };

static const char *const auth_kinds[AUTH__MAX] = {
	[AUTH_LOGIN] = "login", [AUTH_REFRESH] = "refresh",
	[AUTH_TOKEN] = "token",
};

#define LOGIN_ROUTE	"/api/v1/auth/login"

struct api_metrics {
	const struct api_route	*rt;		/* the route table */
	int			 nroutes;
	struct route_stats	*routes;	/* nroutes + 1 */
	atomic_ulong		 db_errors;
	atomic_long		 inflight;
	atomic_ulong		 auth_failures[AUTH__MAX];
	atomic_ulong		 lockouts;
};

struct api_metrics *
api_metrics_new(const struct api_route *routes, int nroutes)
{
	struct api_metrics *m = vr_xcalloc(1, sizeof(*m));

	m->rt = routes;
	m->nroutes = nroutes;
	m->routes = vr_xcalloc((size_t)nroutes + 1, sizeof(*m->routes));
	return m;
}

void
api_metrics_free(struct api_metrics *m)
{
	if (m == NULL)
		return;
	free(m->routes);
	free(m);
}

/* The index of rt in the table, -1 for none (a request no route matched). */
int
api_metrics_route(const struct api_metrics *m, const struct api_route *rt)
{
	return rt != NULL ? (int)(rt - m->rt) : -1;
}

static void
observe_auth(struct api_metrics *m, const struct api_route *rt, int status)
{
	int login = strcmp(rt->pattern, LOGIN_ROUTE) == 0;
	enum auth_kind k;

	if (status == 429 && login) {
		atomic_fetch_add_explicit(&m->lockouts, 1,
		    memory_order_relaxed);
		return;
	}
	if (status != 401)
		return;
	k = rt->perm != NULL ? AUTH_TOKEN : login ? AUTH_LOGIN : AUTH_REFRESH;
	atomic_fetch_add_explicit(&m->auth_failures[k], 1,
	    memory_order_relaxed);
}

void
api_metrics_observe(struct api_metrics *m, int route, int status,
    double seconds)
{
	struct route_stats *rs;
	int i;

	if (route < 0 || route >= m->nroutes)
		route = m->nroutes;
	rs = &m->routes[route];
	for (i = 0; i < NSTATUS - 1 && statuses[i] != status; i++)
		;
	atomic_fetch_add_explicit(&rs->by_status[i], 1, memory_order_relaxed);
	for (i = 0; i < NBUCKET && seconds > buckets[i]; i++)
		;
	if (i < NBUCKET)
		atomic_fetch_add_explicit(&rs->le[i], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&rs->count, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&rs->sum_us,
	    (unsigned long)(seconds * 1e6), memory_order_relaxed);
	if (route < m->nroutes)
		observe_auth(m, &m->rt[route], status);
}

void
api_metrics_db_error(struct api_metrics *m)
{
	atomic_fetch_add_explicit(&m->db_errors, 1, memory_order_relaxed);
}

void
api_metrics_inflight(struct api_metrics *m, int delta)
{
	atomic_fetch_add_explicit(&m->inflight, delta, memory_order_relaxed);
}

static unsigned long
load(atomic_ulong *v)
{
	return atomic_load_explicit(v, memory_order_relaxed);
}

static void
labels(struct vr_buf *b, const char *inst, const struct api_metrics *m,
    int route)
{
	vr_buf_printf(b, "api_instance=\"%s\",method=\"%s\",route=\"%s\"",
	    inst, route < m->nroutes ? m->rt[route].method : "",
	    route < m->nroutes ? m->rt[route].pattern : "unmatched");
}

static void
render_counts(struct api_metrics *m, const char *inst, int route,
    struct vr_buf *b)
{
	struct route_stats *rs = &m->routes[route];
	unsigned long n;
	int i;

	for (i = 0; i < NSTATUS; i++) {
		if ((n = load(&rs->by_status[i])) == 0)
			continue;
		vr_buf_puts(b, "vetred_http_requests_total{");
		labels(b, inst, m, route);
		if (statuses[i] != 0)
			vr_buf_printf(b, ",status=\"%d\"} %lu\n", statuses[i],
			    n);
		else
			vr_buf_printf(b, ",status=\"other\"} %lu\n", n);
	}
}

/*
 * Counts are read one by one while other threads add, so a bucket may be
 * ahead of the count read before it: buckets are clamped to that count to
 * keep the histogram monotonic.
 */
static void
render_histogram(struct api_metrics *m, const char *inst, int route,
    struct vr_buf *b)
{
	struct route_stats *rs = &m->routes[route];
	unsigned long count = load(&rs->count), cum = 0;
	int i;

	if (count == 0)
		return;
	for (i = 0; i < NBUCKET; i++) {
		cum += load(&rs->le[i]);
		if (cum > count)
			cum = count;
		vr_buf_puts(b, "vetred_http_request_duration_seconds_bucket{");
		labels(b, inst, m, route);
		vr_buf_printf(b, ",le=\"%g\"} %lu\n", buckets[i], cum);
	}
	vr_buf_puts(b, "vetred_http_request_duration_seconds_bucket{");
	labels(b, inst, m, route);
	vr_buf_printf(b, ",le=\"+Inf\"} %lu\n", count);
	vr_buf_puts(b, "vetred_http_request_duration_seconds_sum{");
	labels(b, inst, m, route);
	vr_buf_printf(b, "} %.6f\n", (double)load(&rs->sum_us) / 1e6);
	vr_buf_puts(b, "vetred_http_request_duration_seconds_count{");
	labels(b, inst, m, route);
	vr_buf_printf(b, "} %lu\n", count);
}

static void
render_auth(struct api_metrics *m, const char *inst, struct vr_buf *b)
{
	int k;

	vr_buf_puts(b, "# HELP vetred_auth_failures_total Requests refused "
	    "as unauthenticated (401): login, wrong credentials at sign-in; "
	    "refresh, a refresh token or session refused; token, an access "
	    "token refused.\n# TYPE vetred_auth_failures_total counter\n");
	for (k = 0; k < AUTH__MAX; k++)
		vr_buf_printf(b, "vetred_auth_failures_total{api_instance=\"%s\","
		    "kind=\"%s\"} %lu\n", inst, auth_kinds[k],
		    load(&m->auth_failures[k]));
	vr_buf_printf(b, "# HELP vetred_auth_lockouts_total Sign-ins refused "
	    "with 429 after repeated failures.\n"
	    "# TYPE vetred_auth_lockouts_total counter\n"
	    "vetred_auth_lockouts_total{api_instance=\"%s\"} %lu\n", inst,
	    load(&m->lockouts));
}

/* The process's PostgreSQL connections (lib/db.c counts them). */
static void
render_db(const char *inst, struct vr_buf *b)
{
	struct vr_db_stats st;

	vr_db_stats(&st);
	vr_buf_printf(b, "# HELP vetred_db_connections Database connections "
	    "open.\n# TYPE vetred_db_connections gauge\n"
	    "vetred_db_connections{api_instance=\"%s\"} %lld\n"
	    "# HELP vetred_db_connects_total Database connections made, "
	    "first ones and reconnects.\n"
	    "# TYPE vetred_db_connects_total counter\n"
	    "vetred_db_connects_total{api_instance=\"%s\"} %lld\n"
	    "# HELP vetred_db_reconnects_total Database connections made again "
	    "after one was lost.\n# TYPE vetred_db_reconnects_total counter\n"
	    "vetred_db_reconnects_total{api_instance=\"%s\"} %lld\n"
	    "# HELP vetred_db_connect_failures_total Attempts to connect to the "
	    "database that failed.\n"
	    "# TYPE vetred_db_connect_failures_total counter\n"
	    "vetred_db_connect_failures_total{api_instance=\"%s\"} %lld\n",
	    inst, st.open, inst, st.connects, inst, st.reconnects, inst,
	    st.failures);
}

/* Prometheus text exposition format 0.0.4, one family after another. */
void
api_metrics_render(struct api_metrics *m, const char *inst, struct vr_buf *b)
{
	int r;

	vr_buf_puts(b, "# HELP vetred_http_requests_total Requests answered, "
	    "by route and status.\n# TYPE vetred_http_requests_total "
	    "counter\n");
	for (r = 0; r <= m->nroutes; r++)
		render_counts(m, inst, r, b);
	vr_buf_puts(b, "# HELP vetred_http_request_duration_seconds Time to "
	    "answer, by route.\n# TYPE vetred_http_request_duration_seconds "
	    "histogram\n");
	for (r = 0; r <= m->nroutes; r++)
		render_histogram(m, inst, r, b);
	vr_buf_printf(b, "# HELP vetred_db_errors_total Database calls that "
	    "failed for a reason other than the input.\n"
	    "# TYPE vetred_db_errors_total counter\n"
	    "vetred_db_errors_total{api_instance=\"%s\"} %lu\n", inst,
	    load(&m->db_errors));
	vr_buf_printf(b, "# HELP vetred_http_requests_in_flight Requests being "
	    "served now.\n# TYPE vetred_http_requests_in_flight gauge\n"
	    "vetred_http_requests_in_flight{api_instance=\"%s\"} %ld\n", inst,
	    atomic_load_explicit(&m->inflight, memory_order_relaxed));
	render_auth(m, inst, b);
	render_db(inst, b);
}
