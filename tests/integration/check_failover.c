/*
 * check_failover.c - killing one API process while requests flow: nginx
 * sends the traffic to the other one, and no request fails beyond the
 * ones the dead process held in flight.
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
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

static pid_t
api_pid(int n)
{
	char path[1024];
	FILE *f;
	long pid = 0;

	snprintf(path, sizeof(path), "%s/run/api-%d.pid", stack_dir(), n);
	f = fopen(path, "r");
	ck_assert_msg(f != NULL, "no pid file %s", path);
	ck_assert_int_eq(fscanf(f, "%ld", &pid), 1);
	fclose(f);
	ck_assert_int_gt(pid, 1);
	ck_assert_msg(kill((pid_t)pid, 0) == 0, "api-%d is not running", n);
	return (pid_t)pid;
}

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

Suite *
failover_suite(void)
{
	Suite *s = suite_create("failover");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, killing_one_api_process_loses_nothing);
	suite_add_tcase(s, tc);
	return s;
}
