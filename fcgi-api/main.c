/*
 * main.c - the FastCGI API process: configuration, the listening socket,
 * worker threads, and a clean stop.
 *
 * Design: VETRED_API_THREADS threads share one listening socket; each
 * accepts with FCGX_Accept_r, serves one connection at a time, and owns
 * one PostgreSQL connection (prepared statements per connection).  nginx
 * talks to us without keep-alive (fastcgi_keep_conn off): libfcgi serves
 * one connection per thread, so a kept idle connection would pin a thread.
 *
 * Monitoring: each process serves its own /metrics, /health and /ready
 * on VETRED_METRICS_ADDR (monitor.c), one Prometheus target per process.
 *
 * Stop: SIGTERM or SIGINT shuts the listening socket down, which wakes
 * every thread blocked in accept(); a thread busy with a request finishes
 * it first.  main() then returns normally, so coverage data is written.
 *
 * Layer: process, the top (req.h lists the layers).  Here the layers are
 * wired together: the transport serves with the router's dispatch, the
 * metrics count the router's table.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "authz.h"
#include "metrics.h"
#include "monitor.h"
#include "resources.h"
#include "route.h"
#include "sql.h"
#include "transport.h"

/* Written by the signal handler, read by threads: the only such state. */
static volatile sig_atomic_t stopping;
static int listen_fd = -1;

static void
on_signal(int sig)
{
	(void)sig;
	stopping = 1;
	if (listen_fd >= 0)
		shutdown(listen_fd, SHUT_RDWR);
}

static void *
worker(void *arg)
{
	struct api_ctx *ctx = arg;
	const struct vr_config *cfg = ctx->shared->cfg;
	FCGX_Request req;

	if (vr_db_open(&ctx->db, cfg->database_url, api_sql, STMT__MAX,
	    cfg->db_timeout_ms) < 0)
		vr_log(VR_LOG_WARN, NULL, "database not reachable yet",
		    "error", ctx->db.errmsg, NULL);
	FCGX_InitRequest(&req, listen_fd, 0);
	while (!stopping) {
		if (FCGX_Accept_r(&req) < 0)
			break;
		api_serve(ctx, &req, api_dispatch);
		FCGX_Finish_r(&req);
		/* Everything the request allocated, in one place (req.h). */
		vr_arena_reset(&ctx->arena);
	}
	FCGX_Free(&req, 1);
	vr_db_close(&ctx->db);
	return NULL;
}

/*
 * Reloads the token revocations (access.c) and the users' own request
 * budgets (limite.c) every second, on its own connection, until the
 * process stops.  *loaded is set after the first
 * attempt, so that main() serves no request before it.
 */
struct revocation_arg {
	struct api_shared	*sh;
	atomic_int		 loaded;
};

static void *
revocation_loop(void *arg)
{
	struct revocation_arg *ra = arg;
	const struct vr_config *cfg = ra->sh->cfg;
	struct vr_db db;
	int i;

	if (vr_db_open(&db, cfg->database_url, api_sql, STMT__MAX,
	    cfg->db_timeout_ms) < 0)
		vr_log(VR_LOG_WARN, NULL, "revocations: database not reachable "
		    "yet", "error", db.errmsg, NULL);
	while (!stopping) {
		if (api_revocations_load(ra->sh, &db) < 0)
			vr_log(VR_LOG_WARN, NULL, "revocations: reload failed",
			    NULL);
		if (api_rate_load(ra->sh->rate, &db) < 0)
			vr_log(VR_LOG_WARN, NULL, "request budgets: reload "
			    "failed", NULL);
		atomic_store(&ra->loaded, 1);
		for (i = 0; i < 10 && !stopping; i++)
			usleep(100000);
	}
	vr_db_close(&db);
	return NULL;
}

static int
is_unix_path(const char *s)
{
	return strchr(s, ':') == NULL;
}

static int
open_listener(const struct api_config *cfg)
{
	struct stat st;
	int fd;

	if (is_unix_path(cfg->api_socket) &&
	    lstat(cfg->api_socket, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(cfg->api_socket);
	fd = FCGX_OpenSocket(cfg->api_socket, cfg->api_backlog);
	if (fd < 0)
		return -1;
	/* nginx workers run as another user and must connect. */
	if (is_unix_path(cfg->api_socket) && chmod(cfg->api_socket, 0666) < 0)
		vr_log(VR_LOG_WARN, NULL, "chmod socket failed", "error",
		    strerror(errno), NULL);
	return fd;
}

static void
install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
}

static void
log_listening(const struct api_config *cfg, const struct api_monitor *mon,
    int threads)
{
	struct vr_log_field f[] = { VR_LF_STR("socket", cfg->api_socket),
	    VR_LF_INT("threads", threads), VR_LF_STR("instance",
	    cfg->instance), VR_LF_INT("metrics_port", mon->httpd ?
	    vr_httpd_port(mon->httpd) : 0) };

	vr_log_fields(VR_LOG_INFO, NULL, "listening", f, VR_NFIELDS(f));
}

static const char usage[] =
    "usage: vetred-api [--help | --version]\n"
    "The VetRed FastCGI API.  Configured by VETRED_* environment variables\n"
    "(VETRED_DATABASE_URL, VETRED_API_SOCKET, VETRED_JWT_KEYS, ...; see the\n"
    "README); listens on VETRED_API_SOCKET until SIGTERM or SIGINT.\n";

int
main(int argc, char **argv)
{
	struct vr_config cfg;
	struct api_config acfg;
	struct api_shared shared;
	struct api_ctx *ctxs;
	struct revocation_arg ra;
	struct api_monitor mon;
	pthread_t *tids, rev_tid;
	char err[256];
	int i, started = 0;

	if (argc > 1) {
		if ((i = vr_cli_options(argc, argv, "vetred-api", usage,
		    NULL)) < 0) {
			fprintf(stderr, "vetred-api: takes no arguments\n%s",
			    usage);
			i = 2;
		}
		return i;
	}
	if (vr_config_load(&cfg, err, sizeof(err)) < 0 ||
	    api_config_load(&acfg, err, sizeof(err)) < 0) {
		vr_log(VR_LOG_ERROR, NULL, "bad configuration", "error", err,
		    NULL);
		return 2;
	}
	vr_log_init("fcgi-api", cfg.log_level);
	if (vr_log_rotation(cfg.log_file, cfg.log_max_bytes) < 0)
		vr_log(VR_LOG_WARN, NULL, "log file not used: stderr closed "
		    "or the file cannot be opened", NULL);
	if (FCGX_Init() != 0) {
		vr_log(VR_LOG_ERROR, NULL, "FCGX_Init failed", NULL);
		return 1;
	}
	if ((listen_fd = open_listener(&acfg)) < 0) {
		vr_log(VR_LOG_ERROR, NULL, "cannot listen", "socket",
		    acfg.api_socket, "error", strerror(errno), NULL);
		return 1;
	}
	install_signals();

	memset(&shared, 0, sizeof(shared));
	shared.cfg = &cfg;
	shared.api = &acfg;
	shared.metrics = api_metrics_new(api_routes, api_nroutes);
	pthread_mutex_init(&shared.amqp_lock, NULL);
	if (api_auth_init(&shared, err, sizeof(err)) < 0) {
		vr_log(VR_LOG_ERROR, NULL, "bad configuration", "error", err,
		    NULL);
		return 2;
	}
	if ((shared.rate = api_rate_new(err, sizeof(err))) == NULL) {
		vr_log(VR_LOG_ERROR, NULL, "bad configuration", "error", err,
		    NULL);
		return 2;
	}
	if (api_cors_init(&shared, err, sizeof(err)) < 0) {
		vr_log(VR_LOG_ERROR, NULL, "bad configuration", "error", err,
		    NULL);
		return 2;
	}
	pthread_rwlock_init(&shared.rev_lock, NULL);
	ra.sh = &shared;
	atomic_init(&ra.loaded, 0);
	if (pthread_create(&rev_tid, NULL, revocation_loop, &ra) != 0) {
		vr_log(VR_LOG_ERROR, NULL, "cannot start the revocation thread",
		    NULL);
		return 1;
	}
	for (i = 0; i < 500 && !atomic_load(&ra.loaded); i++)
		usleep(10000);
	if (api_monitor_start(&mon, &shared, err, sizeof(err)) < 0) {
		vr_log(VR_LOG_ERROR, NULL, "cannot start the metrics listener",
		    "error", err, NULL);
		stopping = 1;
		pthread_join(rev_tid, NULL);
		close(listen_fd);
		if (is_unix_path(acfg.api_socket))
			unlink(acfg.api_socket);
		return 1;
	}
	ctxs = vr_xcalloc((size_t)acfg.api_threads, sizeof(*ctxs));
	tids = vr_xcalloc((size_t)acfg.api_threads, sizeof(*tids));
	for (i = 0; i < acfg.api_threads; i++) {
		ctxs[i].shared = &shared;
		ctxs[i].id = i;
		vr_arena_init(&ctxs[i].arena);
		vr_buf_init(&ctxs[i].out);
		if (pthread_create(&tids[i], NULL, worker, &ctxs[i]) != 0)
			break;
		started++;
	}
	log_listening(&acfg, &mon, started);
	if (started < acfg.api_threads) {
		vr_log(VR_LOG_ERROR, NULL, "could not start all threads", NULL);
		on_signal(SIGTERM);
	}
	for (i = 0; i < started; i++)
		pthread_join(tids[i], NULL);
	stopping = 1;
	api_monitor_stop(&mon);
	pthread_join(rev_tid, NULL);
	free(shared.rev);
	free(shared.rev_sid);
	api_cors_free(&shared);
	pthread_rwlock_destroy(&shared.rev_lock);

	close(listen_fd);
	if (is_unix_path(acfg.api_socket))
		unlink(acfg.api_socket);
	for (i = 0; i < acfg.api_threads; i++) {
		vr_arena_free(&ctxs[i].arena);
		vr_buf_free(&ctxs[i].out);
		api_auth_forget(&ctxs[i]);
	}
	free(ctxs);
	free(tids);
	api_metrics_free(shared.metrics);
	api_rate_free(shared.rate);
	pthread_mutex_destroy(&shared.amqp_lock);
	vr_log(VR_LOG_INFO, NULL, "stopped", NULL);
	return 0;
}
