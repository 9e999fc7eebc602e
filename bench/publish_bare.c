/*
 * publish_bare.c - the limit the outbox relay is compared with: a bare
 * publisher-with-confirms loop, no database, on lib/amqp.c as the relay
 * uses it (same batch size, all confirms of a batch in flight together,
 * persistent JSON messages of the same size).  bench/relay.py runs it.
 *
 *   bench-publish URL EXCHANGE KEY COUNT BYTES BATCH
 *   bench-publish queue URL QUEUE EXCHANGE KEY   declare QUEUE (a quorum
 *                                                work queue) bound to KEY
 *                                                and empty it
 *   bench-publish drop URL QUEUE                 delete QUEUE
 *   bench-publish latency URL QUEUE EXCHANGE KEY [ARRIVALS]
 *                                                declare QUEUE bound to KEY,
 *                                                consume the relay's
 *                                                messages until SIGTERM,
 *                                                then print the latency
 *                                                from each event's
 *                                                ocurrido_en (its
 *                                                transaction's start) to
 *                                                its arrival here; with
 *                                                ARRIVALS, also write
 *                                                "agregado_id epoch" per
 *                                                message there (run.py
 *                                                measures from each
 *                                                commit with it)
 *
 * The first prints one JSON object: {"messages":..., "seconds":...,
 * "per_second":...}.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <amqp.h>
#include <amqp_framing.h>
#include <amqp_tcp_socket.h>

#include "vr.h"

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The bench's own queue: declared through lib/, emptied or deleted here. */
static int
queue_cmd(int argc, char **argv)
{
	struct amqp_connection_info ci;
	amqp_connection_state_t c;
	amqp_socket_t *sock;
	struct vr_amqp *a;
	char err[256], url[512];
	int drop = strcmp(argv[1], "drop") == 0;

	if ((drop && argc != 4) || (!drop && argc != 6)) {
		fprintf(stderr, "usage: bench-publish queue URL QUEUE EXCHANGE "
		    "KEY | drop URL QUEUE\n");
		return 2;
	}
	if (!drop) {
		const char *keys[2] = { argv[5], NULL };

		if (vr_amqp_connect(&a, argv[2], "bench-publish", 5000, err,
		    sizeof(err)) != 0 || vr_amqp_declare(a, err,
		    sizeof(err)) != 0 || vr_amqp_declare_work_queue(a, argv[3],
		    argv[4], keys, 5, err, sizeof(err)) != 0) {
			fprintf(stderr, "bench-publish: %s\n", err);
			return 1;
		}
		vr_amqp_close(a);
	}
	snprintf(url, sizeof(url), "%s", argv[2]);
	amqp_default_connection_info(&ci);
	if (amqp_parse_url(url, &ci) != AMQP_STATUS_OK)
		return 2;
	c = amqp_new_connection();
	sock = amqp_tcp_socket_new(c);
	if (amqp_socket_open(sock, ci.host, ci.port) != AMQP_STATUS_OK ||
	    amqp_login(c, ci.vhost, 0, 131072, 0, AMQP_SASL_METHOD_PLAIN,
	    ci.user, ci.password).reply_type != AMQP_RESPONSE_NORMAL) {
		fprintf(stderr, "bench-publish: cannot connect\n");
		return 1;
	}
	amqp_channel_open(c, 1);
	if (drop)
		amqp_queue_delete(c, 1, amqp_cstring_bytes(argv[3]), 0, 0);
	else
		amqp_queue_purge(c, 1, amqp_cstring_bytes(argv[3]));
	if (amqp_get_rpc_reply(c).reply_type != AMQP_RESPONSE_NORMAL) {
		fprintf(stderr, "bench-publish: %s %s failed\n", argv[1], argv[3]);
		return 1;
	}
	amqp_channel_close(c, 1, AMQP_REPLY_SUCCESS);
	amqp_connection_close(c, AMQP_REPLY_SUCCESS);
	amqp_destroy_connection(c);
	return 0;
}

static volatile sig_atomic_t stop;

static void
on_term(int sig)
{
	(void)sig;
	stop = 1;
}

/* "YYYY-MM-DDTHH:MM:SS.uuuuuuZ" at p, as seconds since the epoch. */
static double
rfc3339_utc(const char *p)
{
	struct tm tm;
	int us = 0;

	memset(&tm, 0, sizeof(tm));
	if (sscanf(p, "%4d-%2d-%2dT%2d:%2d:%2d.%6d", &tm.tm_year, &tm.tm_mon,
	    &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &us) < 6)
		return 0;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (double)timegm(&tm) + us / 1e6;
}

static int
cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
pctl(const double *v, size_t n, double q)
{
	size_t i;

	if (n == 0)
		return 0;
	i = (size_t)(q * (double)n);
	return v[i < n ? i : n - 1];
}

/* The end-to-end latency of the events that arrive on QUEUE. */
static int
latency_cmd(int argc, char **argv)
{
	struct amqp_connection_info ci;
	amqp_connection_state_t c;
	amqp_socket_t *sock;
	struct vr_amqp *a;
	const char *keys[2];
	struct sigaction sa;
	struct timeval tv = { 0, 200000 };
	struct timespec now;
	amqp_envelope_t env;
	amqp_rpc_reply_t rr;
	char err[256], url[512], *body, *p, *q;
	double *lat = NULL, t, at;
	size_t n = 0, cap = 0;
	FILE *arrivals = NULL;

	if (argc != 6 && argc != 7) {
		fprintf(stderr, "usage: bench-publish latency URL QUEUE EXCHANGE "
		    "KEY [ARRIVALS]\n");
		return 2;
	}
	if (argc == 7 && (arrivals = fopen(argv[6], "w")) == NULL) {
		perror(argv[6]);
		return 1;
	}
	keys[0] = argv[5];
	keys[1] = NULL;
	if (vr_amqp_connect(&a, argv[2], "bench-latency", 5000, err,
	    sizeof(err)) != 0 || vr_amqp_declare(a, err, sizeof(err)) != 0 ||
	    vr_amqp_declare_work_queue(a, argv[3], argv[4], keys, 5, err,
	    sizeof(err)) != 0) {
		fprintf(stderr, "bench-publish: %s\n", err);
		return 1;
	}
	vr_amqp_close(a);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	snprintf(url, sizeof(url), "%s", argv[2]);
	amqp_default_connection_info(&ci);
	if (amqp_parse_url(url, &ci) != AMQP_STATUS_OK)
		return 2;
	c = amqp_new_connection();
	sock = amqp_tcp_socket_new(c);
	if (amqp_socket_open(sock, ci.host, ci.port) != AMQP_STATUS_OK ||
	    amqp_login(c, ci.vhost, 0, 131072, 0, AMQP_SASL_METHOD_PLAIN,
	    ci.user, ci.password).reply_type != AMQP_RESPONSE_NORMAL) {
		fprintf(stderr, "bench-publish: cannot connect\n");
		return 1;
	}
	amqp_channel_open(c, 1);
	amqp_queue_purge(c, 1, amqp_cstring_bytes(argv[3]));
	amqp_basic_qos(c, 1, 0, 2000, 0);
	amqp_basic_consume(c, 1, amqp_cstring_bytes(argv[3]), amqp_empty_bytes,
	    0, 1, 0, amqp_empty_table);
	if (amqp_get_rpc_reply(c).reply_type != AMQP_RESPONSE_NORMAL) {
		fprintf(stderr, "bench-publish: cannot consume %s\n", argv[3]);
		return 1;
	}
	printf("{\"ready\":true}\n");
	fflush(stdout);
	while (!stop) {
		amqp_maybe_release_buffers(c);
		rr = amqp_consume_message(c, &env, &tv, 0);
		if (rr.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION &&
		    rr.library_error == AMQP_STATUS_TIMEOUT)
			continue;
		if (rr.reply_type != AMQP_RESPONSE_NORMAL)
			break;
		clock_gettime(CLOCK_REALTIME, &now);
		at = (double)now.tv_sec + now.tv_nsec / 1e9;
		body = vr_xmalloc(env.message.body.len + 1);
		memcpy(body, env.message.body.bytes, env.message.body.len);
		body[env.message.body.len] = '\0';
		if ((p = strstr(body, "\"ocurrido_en\":\"")) != NULL &&
		    (t = rfc3339_utc(p + 15)) > 0) {
			if (n == cap) {
				cap = cap ? cap * 2 : 4096;
				lat = vr_xrealloc(lat, cap * sizeof(*lat));
			}
			lat[n++] = (at - t) * 1000;
		}
		if (arrivals != NULL &&
		    (p = strstr(body, "\"agregado_id\":\"")) != NULL &&
		    (q = strchr(p + 15, '"')) != NULL)
			fprintf(arrivals, "%.*s %.6f\n", (int)(q - p - 15), p + 15,
			    at);
		free(body);
		amqp_destroy_envelope(&env);
	}
	if (arrivals != NULL)
		fclose(arrivals);
	qsort(lat, n, sizeof(*lat), cmp_dbl);
	printf("{\"messages\":%zu,\"p50_ms\":%.3f,\"p95_ms\":%.3f,"
	    "\"p99_ms\":%.3f,\"max_ms\":%.3f}\n", n, pctl(lat, n, 0.50),
	    pctl(lat, n, 0.95), pctl(lat, n, 0.99), n ? lat[n - 1] : 0.0);
	free(lat);
	amqp_queue_delete(c, 1, amqp_cstring_bytes(argv[3]), 0, 0);
	amqp_channel_close(c, 1, AMQP_REPLY_SUCCESS);
	amqp_connection_close(c, AMQP_REPLY_SUCCESS);
	amqp_destroy_connection(c);
	return 0;
}

int
main(int argc, char **argv)
{
	struct vr_amqp *a;
	struct vr_amqp_msg m;
	unsigned char *status;
	char err[256], id[40], *body;
	long count, bytes, batch, sent = 0, i, n;
	uint64_t tag, first = 0;
	double t0, t;

	if (argc > 1 && (strcmp(argv[1], "queue") == 0 ||
	    strcmp(argv[1], "drop") == 0))
		return queue_cmd(argc, argv);
	if (argc > 1 && strcmp(argv[1], "latency") == 0)
		return latency_cmd(argc, argv);
	if (argc != 7) {
		fprintf(stderr, "usage: bench-publish URL EXCHANGE KEY COUNT "
		    "BYTES BATCH\n");
		return 2;
	}
	count = atol(argv[4]);
	bytes = atol(argv[5]);
	batch = atol(argv[6]);
	if (count < 1 || bytes < 2 || bytes > 1 << 20 || batch < 1 ||
	    batch > 100000) {
		fprintf(stderr, "bench-publish: bad COUNT, BYTES or BATCH\n");
		return 2;
	}
	if (vr_amqp_connect(&a, argv[1], "bench-publish", 5000, err,
	    sizeof(err)) != 0 || vr_amqp_declare(a, err, sizeof(err)) != 0 ||
	    vr_amqp_confirm_select(a, err, sizeof(err)) != 0) {
		fprintf(stderr, "bench-publish: %s\n", err);
		return 1;
	}
	body = vr_xmalloc((size_t)bytes + 1);
	memset(body, 'x', (size_t)bytes);
	body[0] = '"';
	body[bytes - 1] = '"';
	body[bytes] = '\0';
	status = vr_xmalloc((size_t)batch);
	t0 = now_s();
	while (sent < count) {
		n = count - sent < batch ? count - sent : batch;
		for (i = 0; i < n; i++) {
			snprintf(id, sizeof(id), "bench-%ld", sent + i);
			memset(&m, 0, sizeof(m));
			m.message_id = id;
			m.type = argv[3];
			m.request_id = "bench";
			m.app_id = "bench-publish";
			m.version = 1;
			m.timestamp = (long long)time(NULL);
			m.body = body;
			m.len = (size_t)bytes;
			if (vr_amqp_publish(a, argv[2], argv[3], &m, &tag) != 0) {
				fprintf(stderr, "bench-publish: %s\n",
				    vr_amqp_error(a));
				return 1;
			}
			if (i == 0)
				first = tag;
		}
		memset(status, 0, (size_t)n);
		if (vr_amqp_confirms(a, first, (size_t)n, status, 30000) != 0) {
			fprintf(stderr, "bench-publish: %s\n", vr_amqp_error(a));
			return 1;
		}
		for (i = 0; i < n; i++)
			if (status[i] != VR_AMQP_ACKED) {
				fprintf(stderr, "bench-publish: nacked\n");
				return 1;
			}
		sent += n;
	}
	t = now_s() - t0;
	printf("{\"messages\":%ld,\"seconds\":%.4f,\"per_second\":%.1f}\n",
	    sent, t, (double)sent / t);
	free(body);
	free(status);
	vr_amqp_close(a);
	return 0;
}
