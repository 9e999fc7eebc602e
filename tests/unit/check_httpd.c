/*
 * check_httpd.c - lib/httpd.c: the monitoring listener answers its routes
 * over real HTTP on a loopback port (404 elsewhere, 405 with Allow for
 * other methods, HEAD without a body), refuses bad addresses, and the
 * process_* and build families pass promtool.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "vr.h"
#include "tests.h"

struct got {
	long		 status;
	struct vr_buf	 body, head;
};

static size_t
sink(char *p, size_t size, size_t n, void *arg)
{
	vr_buf_append(arg, p, size * n);
	return size * n;
}

static void
fetch(int port, const char *method, const char *path, struct got *g)
{
	char url[128];
	CURL *c = curl_easy_init();

	vr_buf_init(&g->body);
	vr_buf_init(&g->head);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	if (strcmp(method, "HEAD") == 0)
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	if (strcmp(method, "POST") == 0) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, "ignored=1");
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, 9L);
	}
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &g->body);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, sink);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &g->head);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
	ck_assert_int_eq(curl_easy_perform(c), CURLE_OK);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &g->status);
	curl_easy_cleanup(c);
	vr_buf_append(&g->body, "", 1);
	vr_buf_append(&g->head, "", 1);
}

static void
got_free(struct got *g)
{
	vr_buf_free(&g->body);
	vr_buf_free(&g->head);
}

static int calls;

static int
fn_hola(void *arg, struct vr_buf *b, const char **ctype)
{
	calls += *(int *)arg;
	*ctype = "application/json";
	vr_buf_puts(b, "{\"hola\":1}");
	return 200;
}

static int
fn_caido(void *arg, struct vr_buf *b, const char **ctype)
{
	(void)arg;
	(void)ctype;
	vr_buf_puts(b, "caido\n");
	return 503;
}

static const struct vr_httpd_route routes[] = {
	{ "/hola", fn_hola },
	{ "/caido", fn_caido },
};

START_TEST(serves_its_routes)
{
	struct vr_httpd *h;
	struct got g;
	char err[256];
	int one = 1, port;

	calls = 0;
	ck_assert_int_eq(vr_httpd_start(&h, "127.0.0.1:0", routes, 2, &one,
	    err, sizeof(err)), 0);
	port = vr_httpd_port(h);
	ck_assert_int_gt(port, 0);

	fetch(port, "GET", "/hola", &g);
	ck_assert_int_eq(g.status, 200);
	ck_assert_str_eq(g.body.data, "{\"hola\":1}");
	ck_assert_ptr_nonnull(strstr(g.head.data,
	    "Content-Type: application/json"));
	ck_assert_ptr_nonnull(strstr(g.head.data, "Cache-Control: no-store"));
	got_free(&g);

	fetch(port, "GET", "/caido", &g);
	ck_assert_int_eq(g.status, 503);
	ck_assert_str_eq(g.body.data, "caido\n");
	ck_assert_ptr_nonnull(strstr(g.head.data, "Content-Type: text/plain"));
	got_free(&g);

	fetch(port, "GET", "/otra", &g);
	ck_assert_int_eq(g.status, 404);
	got_free(&g);

	fetch(port, "POST", "/hola", &g);
	ck_assert_int_eq(g.status, 405);
	ck_assert_ptr_nonnull(strstr(g.head.data, "Allow: GET, HEAD"));
	got_free(&g);

	fetch(port, "HEAD", "/hola", &g);
	ck_assert_int_eq(g.status, 200);
	ck_assert_uint_eq(g.body.len, 1);	/* the NUL added above */
	got_free(&g);
	ck_assert_int_eq(calls, 2);		/* GET and HEAD */
	vr_httpd_stop(h);
	vr_httpd_stop(NULL);			/* harmless */
}
END_TEST

START_TEST(refuses_bad_addresses)
{
	static const char *const bad[] = {
		"127.0.0.1", "127.0.0.1:", "127.0.0.1:99999", "127.0.0.1:9x",
		"localhost:9101", ":9101", "0123456789012345678901234567890"
		"1234567890123456789012345678901234567890:1", NULL
	};
	struct vr_httpd *h, *h2;
	char err[256], addr[64];
	int i;

	for (i = 0; bad[i] != NULL; i++) {
		err[0] = '\0';
		ck_assert_int_lt(vr_httpd_start(&h, bad[i], routes, 2, NULL,
		    err, sizeof(err)), 0);
		ck_assert_ptr_null(h);
		ck_assert_msg(strstr(err, "address") != NULL, "%s: %s",
		    bad[i], err);
	}
	/* A port already taken. */
	ck_assert_int_eq(vr_httpd_start(&h, "127.0.0.1:0", routes, 2, NULL,
	    err, sizeof(err)), 0);
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", vr_httpd_port(h));
	ck_assert_int_lt(vr_httpd_start(&h2, addr, routes, 2, NULL, err,
	    sizeof(err)), 0);
	ck_assert_ptr_nonnull(strstr(err, "cannot listen"));
	vr_httpd_stop(h);
}
END_TEST

/* The value of the unlabelled sample name in text. */
static double
sample(const char *text, const char *name)
{
	const char *p = text;
	size_t n = strlen(name);

	while ((p = strstr(p, name)) != NULL) {
		if ((p == text || p[-1] == '\n') && p[n] == ' ')
			return strtod(p + n + 1, NULL);
		p += n;
	}
	return NAN;
}

START_TEST(process_families_pass_promtool)
{
	char path[] = "/tmp/vr-ut-process-XXXXXX", cmd[256];
	struct vr_buf b;
	int fd, rc;

	vr_buf_init(&b);
	vr_metrics_build_info(&b, "prueba", VR_VERSION);
	vr_metrics_process(&b);
	vr_buf_append(&b, "", 1);
	ck_assert_ptr_nonnull(strstr(b.data, "vetred_build_info{service="
	    "\"prueba\",version=\"" VR_VERSION "\""));
	ck_assert_double_ge(sample(b.data, "process_cpu_seconds_total"), 0);
	ck_assert_double_gt(sample(b.data, "process_resident_memory_bytes"),
	    1 << 20);
	ck_assert_double_ge(sample(b.data, "process_virtual_memory_bytes"),
	    sample(b.data, "process_resident_memory_bytes"));
	ck_assert_double_ge(sample(b.data, "process_open_fds"), 3);
	ck_assert_double_ge(sample(b.data, "process_max_fds"),
	    sample(b.data, "process_open_fds"));
	/* Started within the last day, not in the future. */
	ck_assert_double_le(fabs(sample(b.data, "process_start_time_seconds") -
	    (double)time(NULL) + 43200), 43202);
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, b.data, b.len - 1), (ssize_t)(b.len - 1));
	close(fd);
	snprintf(cmd, sizeof(cmd), "promtool check metrics < %s >/dev/null "
	    "2>&1", path);
	rc = system(cmd);
	unlink(path);
	ck_assert_msg(WIFEXITED(rc) && WEXITSTATUS(rc) == 0, "promtool "
	    "refused:\n%s", b.data);
	vr_buf_free(&b);
}
END_TEST

Suite *
httpd_suite(void)
{
	Suite *s = suite_create("httpd");
	TCase *tc = tcase_create("httpd");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, serves_its_routes);
	tcase_add_test(tc, refuses_bad_addresses);
	tcase_add_test(tc, process_families_pass_promtool);
	suite_add_tcase(s, tc);
	return s;
}
