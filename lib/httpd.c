/*
 * httpd.c - a process's own monitoring listener (/metrics, /health,
 * /ready, ...) on libmicrohttpd, and the metric families every process
 * exposes: build information and the standard process_* series.
 *
 * Design: one listener per process, so that Prometheus scrapes each
 * process as its own target (a balancer in front would show a different
 * process at every scrape).  The service gives a table of paths and
 * functions; libmicrohttpd parses HTTP and runs them on its one internal
 * thread, so the functions never run concurrently and may share state of
 * their own (a database connection, say) without a lock.  GET and HEAD
 * only (405 with Allow otherwise), 404 for a path not in the table.
 * Knows no service: the API and the workers use it alike.
 */
#include <sys/resource.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <microhttpd.h>

#include "vr.h"

#define HTTPD_MAX_CONNECTIONS	32
#define HTTPD_TIMEOUT_S		10

struct vr_httpd {
	struct MHD_Daemon		*d;
	const struct vr_httpd_route	*routes;
	size_t				 nroutes;
	void				*arg;
	int				 port;
	struct vr_buf			 body;	/* used by the one thread */
};

static enum MHD_Result
send_text(struct MHD_Connection *c, unsigned status, const char *ctype,
    const char *body, size_t len, const char *allow)
{
	struct MHD_Response *resp;
	enum MHD_Result rc;

	resp = MHD_create_response_from_buffer(len, (void *)body,
	    MHD_RESPMEM_MUST_COPY);
	if (resp == NULL)
		return MHD_NO;
	MHD_add_response_header(resp, "Content-Type", ctype);
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	if (allow != NULL)
		MHD_add_response_header(resp, "Allow", allow);
	rc = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	return rc;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_len, void **state)
{
	static int seen;
	struct vr_httpd *h = cls;
	const char *ctype = "text/plain; charset=utf-8";
	size_t i;
	int status;

	(void)version;
	(void)upload;
	/* First call: headers only.  Then any body, which is ignored. */
	if (*state == NULL) {
		*state = &seen;
		return MHD_YES;
	}
	if (*upload_len != 0) {
		*upload_len = 0;
		return MHD_YES;
	}
	for (i = 0; i < h->nroutes && strcmp(h->routes[i].path, url) != 0; i++)
		;
	if (i == h->nroutes)
		return send_text(c, 404, ctype, "not found\n", 10, NULL);
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return send_text(c, 405, ctype, "method not allowed\n", 19,
		    "GET, HEAD");
	vr_buf_reset(&h->body);
	status = h->routes[i].fn(h->arg, &h->body, &ctype);
	return send_text(c, (unsigned)status, ctype, h->body.data ?
	    h->body.data : "", h->body.len, NULL);
}

/* "a.b.c.d:port" into sa; 0, or VR_EINVAL. */
static int
parse_addr(const char *addr, struct sockaddr_in *sa)
{
	const char *colon = strrchr(addr, ':');
	char host[64], *end;
	long port;

	if (colon == NULL || (size_t)(colon - addr) >= sizeof(host))
		return VR_EINVAL;
	memcpy(host, addr, (size_t)(colon - addr));
	host[colon - addr] = '\0';
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end != '\0' || errno != 0 || port < 0 ||
	    port > 65535)
		return VR_EINVAL;
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)port);
	return inet_pton(AF_INET, host, &sa->sin_addr) == 1 ? 0 : VR_EINVAL;
}

/* A listening socket on addr, its port in *port; -1 with err set. */
static int
listen_on(const char *addr, int *port, char *err, size_t errlen)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int fd, one = 1;

	if (parse_addr(addr, &sa) < 0) {
		snprintf(err, errlen, "not an IPv4 address:port: %s", addr);
		return -1;
	}
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(fd, 64) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) < 0) {
		snprintf(err, errlen, "cannot listen on %s: %s", addr,
		    strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	*port = ntohs(sa.sin_port);
	return fd;
}

/*
 * Listen on addr ("127.0.0.1:9101"; port 0: any free port) and serve the
 * routes until vr_httpd_stop().  routes and arg must outlive the
 * listener.  0 with *out set, or VR_EIO/VR_EINVAL with err set.
 */
int
vr_httpd_start(struct vr_httpd **out, const char *addr,
    const struct vr_httpd_route *routes, size_t nroutes, void *arg,
    char *err, size_t errlen)
{
	struct vr_httpd *h;
	int fd, port;

	*out = NULL;
	if ((fd = listen_on(addr, &port, err, errlen)) < 0)
		return VR_EIO;
	h = vr_xcalloc(1, sizeof(*h));
	h->routes = routes;
	h->nroutes = nroutes;
	h->arg = arg;
	h->port = port;
	vr_buf_init(&h->body);
	h->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO,
	    0, NULL, NULL, on_request, h,
	    MHD_OPTION_LISTEN_SOCKET, fd,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)HTTPD_MAX_CONNECTIONS,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTPD_TIMEOUT_S,
	    MHD_OPTION_END);
	if (h->d == NULL) {
		snprintf(err, errlen, "cannot start the listener on %s", addr);
		close(fd);
		vr_buf_free(&h->body);
		free(h);
		return VR_EIO;
	}
	*out = h;
	return 0;
}

int
vr_httpd_port(const struct vr_httpd *h)
{
	return h->port;
}

/* Stops serving (a request in progress is finished) and frees h. */
void
vr_httpd_stop(struct vr_httpd *h)
{
	if (h == NULL)
		return;
	MHD_stop_daemon(h->d);
	vr_buf_free(&h->body);
	free(h);
}

/* ---- metric families every process exposes -------------------------- */

void
vr_metrics_build_info(struct vr_buf *b, const char *service,
    const char *version)
{
	int pq = PQlibVersion();

	vr_buf_printf(b, "# HELP vetred_build_info The running build: "
	    "always 1.\n# TYPE vetred_build_info gauge\n"
	    "vetred_build_info{service=\"%s\",version=\"%s\","
	    "libpq=\"%d.%d\",libmicrohttpd=\"%s\"} 1\n", service, version,
	    pq / 10000, pq % 10000, MHD_get_version());
}

/* The number of file descriptors open, or -1. */
static long
open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	long n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return n - 1;	/* the directory's own descriptor */
}

/* The system's boot time (epoch seconds), or 0. */
static long long
boot_time(void)
{
	char line[256];
	long long t = 0;
	FILE *f = fopen("/proc/stat", "r");

	while (f != NULL && fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "btime %lld", &t) == 1)
			break;
	if (f != NULL)
		fclose(f);
	return t;
}

struct proc_stat {
	unsigned long long	 utime, stime, start, vsize, rss;
};

/* Fields 14, 15, 22, 23 and 24 of /proc/self/stat; 0 or -1. */
static int
read_stat(struct proc_stat *ps)
{
	char buf[1024], *p;
	size_t n;
	FILE *f = fopen("/proc/self/stat", "r");

	if (f == NULL)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* The command name may hold spaces and parentheses: skip to the
	 * last ')'; then field 3 (state) starts. */
	if ((p = strrchr(buf, ')')) == NULL)
		return -1;
	return sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
	    "%llu %llu %*d %*d %*d %*d %*d %*d %llu %llu %llu", &ps->utime,
	    &ps->stime, &ps->start, &ps->vsize, &ps->rss) == 5 ? 0 : -1;
}

static void
family(struct vr_buf *b, const char *name, const char *type,
    const char *help)
{
	vr_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name,
	    type);
}

/* The process_* families of Prometheus' client libraries, Linux /proc. */
void
vr_metrics_process(struct vr_buf *b)
{
	struct proc_stat ps;
	struct rlimit rl;
	double tck = (double)sysconf(_SC_CLK_TCK);
	long page = sysconf(_SC_PAGESIZE), fds = open_fds();

	if (read_stat(&ps) == 0) {
		family(b, "process_cpu_seconds_total", "counter",
		    "Total user and system CPU time spent in seconds.");
		vr_buf_printf(b, "process_cpu_seconds_total %.2f\n",
		    (double)(ps.utime + ps.stime) / tck);
		family(b, "process_start_time_seconds", "gauge",
		    "Start time of the process since unix epoch in seconds.");
		vr_buf_printf(b, "process_start_time_seconds %.2f\n",
		    (double)boot_time() + (double)ps.start / tck);
		family(b, "process_virtual_memory_bytes", "gauge",
		    "Virtual memory size in bytes.");
		vr_buf_printf(b, "process_virtual_memory_bytes %llu\n",
		    ps.vsize);
		family(b, "process_resident_memory_bytes", "gauge",
		    "Resident memory size in bytes.");
		vr_buf_printf(b, "process_resident_memory_bytes %llu\n",
		    ps.rss * (unsigned long long)page);
	}
	if (fds >= 0) {
		family(b, "process_open_fds", "gauge",
		    "Number of open file descriptors.");
		vr_buf_printf(b, "process_open_fds %ld\n", fds);
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		family(b, "process_max_fds", "gauge",
		    "Maximum number of open file descriptors.");
		vr_buf_printf(b, "process_max_fds %llu\n",
		    (unsigned long long)rl.rlim_cur);
	}
}
