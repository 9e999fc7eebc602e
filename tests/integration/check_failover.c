/*
 * check_failover.c - the stack's supervisor restarts an API process or
 * the worker that crashes; killing one API process while requests flow:
 * nginx sends the traffic to the other one, and no request fails beyond
 * the ones the dead process held in flight; and with no API process left,
 * nginx answers problem+json 503 with Retry-After.  Runs last: it leaves
 * the stack without API processes (ci/test.sh starts them again).
 */
#include <sys/socket.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "itest.h"

#define CLIENTS		4
#define RUN_SECONDS	4

struct load {
	atomic_int	stop;
	atomic_int	ok;
	atomic_int	failed;
};

static void *
client(void *arg)
{
	struct load *l = arg;
	struct http_resp r;

	while (!atomic_load(&l->stop)) {
		http_get("/api/v1/sedes", &r);
		if (r.status == 200)
			atomic_fetch_add(&l->ok, 1);
		else {
			fprintf(stderr, "failover: %ld %.200s\n", r.status,
			    r.body);
			atomic_fetch_add(&l->failed, 1);
		}
		http_free(&r);
	}
	return NULL;
}

/* Something accepts TCP connections on 127.0.0.1:port. */
static int
port_open(int port)
{
	struct sockaddr_in sa;
	int fd, ok;

	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		return 0;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return ok;
}

/* api-n's pid, from the supervisor; 0 when it is not running. */
static pid_t
api_pid_if_running(int n)
{
	char name[32];

	snprintf(name, sizeof(name), "api:api-%d", n);
	return supervised_pid(name);
}

static pid_t
api_pid(int n)
{
	pid_t pid = api_pid_if_running(n);

	ck_assert_msg(pid > 0, "api-%d is not running", n);
	return pid;
}

/*
 * A crash (SIGKILL) of an API process or of the worker: the supervisor
 * starts a new one within seconds, and the new API process serves.
 */
START_TEST(crashed_services_are_restarted)
{
	pid_t api = api_pid(1), sealer = supervised_pid("worker"), pid;
	const char *urls = getenv("VETRED_METRICS_URLS");
	char url[256];
	struct http_resp r;
	int i, port;

	ck_assert_msg(sealer > 0, "the worker is not running");
	ck_assert_ptr_nonnull(urls);
	/* api-1's own monitoring listener: the first of the URLs. */
	snprintf(url, sizeof(url), "%.*s/health", (int)strcspn(urls, " "),
	    urls);
	ck_assert_int_eq(kill(api, SIGKILL), 0);
	ck_assert_int_eq(kill(sealer, SIGKILL), 0);

	pid = restarted("api:api-1", api, 5);
	ck_assert_msg(pid > 0, "api-1 was not restarted within 5 s");
	/* Its listener opens once it has started (a sanitizer build: later). */
	port = atoi(strrchr(url, ':') + 1);
	for (i = 0; i < 200 && !port_open(port); i++)
		usleep(50000);
	ck_assert_msg(i < 200, "the new api-1 does not listen on %d", port);
	http_get_url(url, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(json_s(r.json, "instancia"), "api-1");
	http_free(&r);
	ck_assert_int_eq(api_pid(1), pid);

	ck_assert_msg(restarted("worker", sealer, 5) > 0,
	    "the worker was not restarted within 5 s");
}
END_TEST

START_TEST(killing_one_api_process_loses_nothing)
{
	struct load l;
	pthread_t t[CLIENTS];
	struct timespec half = { RUN_SECONDS / 2, 0 };
	struct http_resp r;
	pid_t victim = api_pid(1);
	int i, before;

	atomic_init(&l.stop, 0);
	atomic_init(&l.ok, 0);
	atomic_init(&l.failed, 0);
	for (i = 0; i < CLIENTS; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, client, &l), 0);
	nanosleep(&half, NULL);
	before = atomic_load(&l.ok);
	ck_assert_int_eq(kill(victim, SIGKILL), 0);
	/*
	 * The supervisor starts a new api-1 at once (see above): stop it,
	 * so that what is measured is the survivor alone.
	 */
	restarted("api:api-1", victim, 5);
	ck_assert_int_eq(supervisorctl("stop api:api-1", NULL, 0), 0);
	nanosleep(&half, NULL);
	atomic_store(&l.stop, 1);
	for (i = 0; i < CLIENTS; i++)
		pthread_join(t[i], NULL);

	ck_assert_msg(atomic_load(&l.failed) <= 1, "%d requests failed",
	    atomic_load(&l.failed));
	ck_assert_msg(atomic_load(&l.ok) > before + 50, "traffic stopped "
	    "after the kill: %d before, %d in all", before,
	    atomic_load(&l.ok));
	/* The survivor answers everything now. */
	for (i = 0; i < 20; i++) {
		http_get("/health", &r);
		ck_assert_int_eq(r.status, 200);
		ck_assert_str_eq(cJSON_GetObjectItem(r.json, "instancia")
		    ->valuestring, "api-2");
		http_free(&r);
	}
}
END_TEST

/*
 * Every API process stopped (SIGTERM: a clean exit, coverage written, so
 * the supervisor leaves them stopped): nginx finds no upstream and answers its own problem+json, 503 with
 * Retry-After, for the API and for its health checks alike.
 */
START_TEST(api_down_is_503_problem)
{
	static const char *const paths[] = { "/api/v1/sedes", "/ready",
	    "/health" };
	pid_t pid[2];
	struct http_resp r;
	char ra[16];
	int i, j;

	for (i = 0; i < 2; i++)
		if ((pid[i] = api_pid_if_running(i + 1)) > 0)
			ck_assert_int_eq(kill(pid[i], SIGTERM), 0);
	for (i = 0; i < 2; i++)
		for (j = 0; pid[i] > 0 && j < 150 && kill(pid[i], 0) == 0; j++)
			usleep(100000);
	for (i = 0; i < 2; i++)
		ck_assert_msg(pid[i] == 0 || kill(pid[i], 0) != 0,
		    "api-%d did not stop", i + 1);
	for (i = 0; i < 3; i++) {
		http_get(paths[i], &r);
		assert_problem(&r, 503, "no-disponible");
		ck_assert_ptr_nonnull(http_header(&r, "Retry-After", ra,
		    sizeof(ra)));
		ck_assert_int_ge(atoi(ra), 1);
		ck_assert_ptr_nonnull(json_s(r.json, "request_id"));
		http_free(&r);
	}
}
END_TEST

Suite *
failover_suite(void)
{
	Suite *s = suite_create("failover");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, crashed_services_are_restarted);
	tcase_add_test(tc, killing_one_api_process_loses_nothing);
	tcase_add_test(tc, api_down_is_503_problem);
	suite_add_tcase(s, tc);
	return s;
}
