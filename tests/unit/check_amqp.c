/*
 * check_amqp.c - lib/amqp.c against the RabbitMQ of VETRED_AMQP_URL (its
 * absence fails the tests that need it): vr_amqp_ping(), the topology
 * table declared twice, work queues, and publishing with confirms.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <amqp.h>
#include <amqp_framing.h>
#include <amqp_tcp_socket.h>

#include "vr.h"
#include "tests.h"

static const char *
amqp_url(void)
{
	const char *u = getenv("VETRED_AMQP_URL");

	ck_assert_msg(u != NULL && *u != '\0', "VETRED_AMQP_URL is not set: "
	    "the amqp suite needs RabbitMQ, e.g. "
	    "VETRED_AMQP_URL=amqp://guest:guest@127.0.0.1:5672/%%2f");
	return u;
}

/* A TCP port on 127.0.0.1 that nothing listens on (bound, then closed). */
static int
closed_port(void)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	ck_assert_int_ge(fd, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	close(fd);
	return ntohs(sa.sin_port);
}

/* Percent-encode s (a vhost) for the path of an AMQP URI. */
static void
encode(const char *s, char *out, size_t n)
{
	size_t o = 0;

	for (; *s != '\0' && o + 4 < n; s++) {
		if (isalnum((unsigned char)*s) || strchr("-._~", *s))
			out[o++] = *s;
		else
			o += (size_t)snprintf(out + o, n - o, "%%%02X",
			    (unsigned char)*s);
	}
	out[o] = '\0';
}

START_TEST(ping_ok)
{
	struct amqp_connection_info ci;
	char copy[512];
	int rc = vr_amqp_ping(amqp_url(), 2000);

	snprintf(copy, sizeof(copy), "%s", amqp_url());
	ck_assert_int_eq(amqp_parse_url(copy, &ci), AMQP_STATUS_OK);
	ck_assert_msg(rc == 0, "vr_amqp_ping(VETRED_AMQP_URL): %s (vhost "
	    "\"%s\"%s)", vr_strerror(rc), ci.vhost, ci.vhost[0] == '\0' ?
	    "; a URL ending in '/' names the empty vhost: write /%2f for "
	    "the default vhost \"/\"" : "");
}
END_TEST

START_TEST(malformed_url)
{
	static const char *const bad[] = { "", "http://guest@127.0.0.1/",
	    "amqp://127.0.0.1:notaport/", "amqp://guest:guest@127.0.0.1:5672/%zz",
	    "not a url at all" };
	char big[600];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(vr_amqp_ping(bad[i], 500) == VR_EINVAL,
		    "\"%s\" not refused as malformed", bad[i]);
	ck_assert_int_eq(vr_amqp_ping(NULL, 500), VR_EINVAL);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, "amqp://", 7);
	ck_assert_int_eq(vr_amqp_ping(big, 500), VR_EINVAL);
}
END_TEST

START_TEST(closed_port_unavailable)
{
	char url[128];

	snprintf(url, sizeof(url), "amqp://guest:guest@127.0.0.1:%d/",
	    closed_port());
	ck_assert_int_eq(vr_amqp_ping(url, 1000), VR_EUNAVAIL);
}
END_TEST

/* The broker is up but refuses the login. */
START_TEST(wrong_password_unavailable)
{
	struct amqp_connection_info ci;
	char copy[512], url[1024], vhost[256];

	snprintf(copy, sizeof(copy), "%s", amqp_url());
	ck_assert_int_eq(amqp_parse_url(copy, &ci), AMQP_STATUS_OK);
	encode(ci.vhost, vhost, sizeof(vhost));
	snprintf(url, sizeof(url), "amqp://%s:wrong-%d@%s:%d/%s", ci.user,
	    (int)getpid(), ci.host, ci.port, vhost);
	ck_assert_int_eq(vr_amqp_ping(url, 2000), VR_EUNAVAIL);
	snprintf(url, sizeof(url), "amqp://no-such-user-%d:x@%s:%d/%s",
	    (int)getpid(), ci.host, ci.port, vhost);
	ck_assert_int_eq(vr_amqp_ping(url, 2000), VR_EUNAVAIL);
}
END_TEST

/* Something listens but never speaks AMQP: the timeout applies. */
START_TEST(silent_server_times_out)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	char url[128];
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(fd, 4), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	snprintf(url, sizeof(url), "amqp://guest:guest@127.0.0.1:%d/",
	    ntohs(sa.sin_port));
	ck_assert_int_eq(vr_amqp_ping(url, 300), VR_EUNAVAIL);
	close(fd);
}
END_TEST

/* A connection of the test's own, to look at what lib/amqp.c declared. */
static amqp_connection_state_t
raw_open(void)
{
	struct amqp_connection_info ci;
	amqp_connection_state_t c = amqp_new_connection();
	amqp_socket_t *s = amqp_tcp_socket_new(c);
	amqp_rpc_reply_t r;
	char copy[512];

	snprintf(copy, sizeof(copy), "%s", amqp_url());
	ck_assert_int_eq(amqp_parse_url(copy, &ci), AMQP_STATUS_OK);
	ck_assert_int_eq(amqp_socket_open(s, ci.host, ci.port), AMQP_STATUS_OK);
	r = amqp_login(c, ci.vhost, 0, 131072, 0, AMQP_SASL_METHOD_PLAIN,
	    ci.user, ci.password);
	ck_assert_int_eq(r.reply_type, AMQP_RESPONSE_NORMAL);
	amqp_channel_open(c, 1);
	ck_assert_int_eq(amqp_get_rpc_reply(c).reply_type, AMQP_RESPONSE_NORMAL);
	return c;
}

static void
raw_close(amqp_connection_state_t c)
{
	amqp_channel_close(c, 1, AMQP_REPLY_SUCCESS);
	amqp_connection_close(c, AMQP_REPLY_SUCCESS);
	amqp_destroy_connection(c);
}

/* A queue exists: passive declare; *messages its depth. */
static int
queue_exists(amqp_connection_state_t *c, const char *name, uint32_t *messages)
{
	amqp_queue_declare_ok_t *ok;

	ok = amqp_queue_declare(*c, 1, amqp_cstring_bytes(name), 1, 0, 0, 0,
	    amqp_empty_table);
	if (ok == NULL) {
		/* A failed passive declare closes the channel: reopen. */
		raw_close(*c);
		*c = raw_open();
		return 0;
	}
	if (messages != NULL)
		*messages = ok->message_count;
	return 1;
}

static void
raw_delete(amqp_connection_state_t c, const char *name)
{
	amqp_queue_delete(c, 1, amqp_cstring_bytes(name), 0, 0);
	ck_assert_int_eq(amqp_get_rpc_reply(c).reply_type, AMQP_RESPONSE_NORMAL);
}

/*
 * The whole table declares, and declares again unchanged (every service
 * does it at start); each queue of the table exists afterwards.
 */
START_TEST(topology_declares_twice)
{
	amqp_connection_state_t c;
	struct vr_amqp *a;
	char err[256];
	size_t i;
	int round;

	for (round = 0; round < 2; round++) {
		ck_assert_int_eq(vr_amqp_connect(&a, amqp_url(), "unit", 2000,
		    err, sizeof(err)), 0);
		ck_assert_msg(vr_amqp_declare(a, err, sizeof(err)) == 0, "%s", err);
		vr_amqp_close(a);
	}
	c = raw_open();
	for (i = 0; i < vr_amqp_nqueues; i++)
		ck_assert_msg(queue_exists(&c, vr_amqp_queues[i].name, NULL),
		    "%s missing", vr_amqp_queues[i].name);
	ck_assert_msg(!queue_exists(&c, "vetred.no-such-queue", NULL),
	    "a passive declare of a missing queue succeeded");
	raw_close(c);
	/* Every binding's queue and exchange are in the table. */
	for (i = 0; i < vr_amqp_nbindings; i++) {
		size_t j;
		int q = 0, x = 0;

		for (j = 0; j < vr_amqp_nqueues; j++)
			q |= strcmp(vr_amqp_queues[j].name,
			    vr_amqp_bindings[i].queue) == 0;
		for (j = 0; j < vr_amqp_nexchanges; j++)
			x |= strcmp(vr_amqp_exchanges[j].name,
			    vr_amqp_bindings[i].exchange) == 0;
		ck_assert(q && x);
	}
	/* Retry delays grow, and each has its exchange. */
	for (i = 0; i < vr_amqp_nretries; i++) {
		size_t j;
		int x = 0;

		if (i > 0)
			ck_assert_int_gt(vr_amqp_retries[i].delay_ms,
			    vr_amqp_retries[i - 1].delay_ms);
		for (j = 0; j < vr_amqp_nexchanges; j++)
			x |= strcmp(vr_amqp_exchanges[j].name,
			    vr_amqp_retries[i].exchange) == 0;
		ck_assert(x);
	}
}
END_TEST

/*
 * A queue that exists with other arguments: the declaration fails with
 * the broker's reason, not silently.
 */
START_TEST(declare_mismatch_is_reported)
{
	amqp_connection_state_t c = raw_open();
	struct vr_amqp *a;
	const char *keys[] = { "prueba.unidad", NULL };
	char err[256], q[64];

	snprintf(q, sizeof(q), "vetred.unit.mismatch.%d", (int)getpid());
	amqp_queue_declare(c, 1, amqp_cstring_bytes(q), 0, 1, 0, 0,
	    amqp_empty_table);	/* classic, no arguments */
	ck_assert_int_eq(amqp_get_rpc_reply(c).reply_type, AMQP_RESPONSE_NORMAL);
	ck_assert_int_eq(vr_amqp_connect(&a, amqp_url(), "unit", 2000, err,
	    sizeof(err)), 0);
	ck_assert_int_eq(vr_amqp_declare_work_queue(a, q, VR_AMQP_EVENTOS, keys,
	    5, err, sizeof(err)), VR_EUNAVAIL);
	ck_assert_msg(strstr(err, "PRECONDITION_FAILED") != NULL ||
	    strstr(err, "406") != NULL, "reason: %s", err);
	vr_amqp_close(a);
	raw_delete(c, q);
	raw_close(c);
}
END_TEST

/* A connection in confirm mode, the topology declared, and a work queue
 * of this test (vetred.unit.WHAT.pid, into q) bound to prueba.unidad. */
static struct vr_amqp *
confirming_to_queue(const char *what, char *q, size_t qlen)
{
	const char *keys[] = { "prueba.unidad", NULL };
	struct vr_amqp *a;
	char err[256];

	snprintf(q, qlen, "vetred.unit.%s.%d", what, (int)getpid());
	ck_assert_int_eq(vr_amqp_connect(&a, amqp_url(), "unit", 2000, err,
	    sizeof(err)), 0);
	ck_assert_msg(vr_amqp_declare(a, err, sizeof(err)) == 0, "%s", err);
	ck_assert_msg(vr_amqp_declare_work_queue(a, q, VR_AMQP_EVENTOS, keys,
	    5, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(vr_amqp_confirm_select(a, err, sizeof(err)), 0);
	return a;
}

static void
all_acked(const unsigned char *status, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		ck_assert_msg(status[i] == VR_AMQP_ACKED, "tag %zu: %d", i,
		    status[i]);
}

/*
 * Publish with confirms: every message is acked; on the queue it carries
 * the properties and headers of struct vr_amqp_msg, persistent.
 */
START_TEST(publish_confirmed_with_properties)
{
	amqp_connection_state_t c;
	struct vr_amqp *a;
	struct vr_amqp_msg m;
	unsigned char status[20];
	char q[64], id[40];
	uint64_t tag, first = 0;
	uint32_t depth = 0;
	amqp_rpc_reply_t r;
	amqp_message_t msg;
	amqp_basic_get_ok_t *g;
	int i;

	a = confirming_to_queue("work", q, sizeof(q));
	ck_assert_int_eq(vr_amqp_poll(a), 0);	/* idle: nothing to read */
	for (i = 0; i < 20; i++) {
		snprintf(id, sizeof(id), "00000000-0000-0000-0000-%012d", i);
		memset(&m, 0, sizeof(m));
		m.message_id = id;
		m.type = "prueba.unidad";
		m.request_id = i % 2 ? "req-unit" : NULL;
		m.app_id = "unit";
		m.version = 2;
		m.timestamp = 1796600000;
		m.body = "{\"n\":1}";
		m.len = strlen(m.body);
		ck_assert_int_eq(vr_amqp_publish(a, VR_AMQP_EVENTOS,
		    "prueba.unidad", &m, &tag), 0);
		if (i == 0)
			first = tag;
		ck_assert_uint_eq(tag, first + (uint64_t)i);
	}
	memset(status, 0, sizeof(status));
	ck_assert_int_eq(vr_amqp_confirms(a, first, 20, status, 5000), 0);
	all_acked(status, 20);
	/* Nothing left to wait for: at once. */
	ck_assert_int_eq(vr_amqp_confirms(a, first, 20, status, 1), 0);
	vr_amqp_close(a);

	c = raw_open();
	ck_assert(queue_exists(&c, q, &depth));
	ck_assert_uint_eq(depth, 20);
	for (i = 0; i < 2; i++) {
		amqp_table_t *h;
		int j, ver = 0;
		const char *rid = NULL;

		amqp_basic_get(c, 1, amqp_cstring_bytes(q), 1);
		r = amqp_get_rpc_reply(c);
		ck_assert_int_eq(r.reply_type, AMQP_RESPONSE_NORMAL);
		ck_assert_uint_eq(r.reply.id, AMQP_BASIC_GET_OK_METHOD);
		g = r.reply.decoded;
		ck_assert_int_eq(g->routing_key.len, strlen("prueba.unidad"));
		ck_assert_int_eq(amqp_read_message(c, 1, &msg, 0).reply_type,
		    AMQP_RESPONSE_NORMAL);
		ck_assert_int_eq(msg.properties.delivery_mode,
		    AMQP_DELIVERY_PERSISTENT);
		ck_assert_int_eq(memcmp(msg.properties.content_type.bytes,
		    "application/json", 16), 0);
		snprintf(id, sizeof(id), "00000000-0000-0000-0000-%012d", i);
		ck_assert_int_eq(msg.properties.message_id.len, strlen(id));
		ck_assert_int_eq(memcmp(msg.properties.message_id.bytes, id,
		    strlen(id)), 0);
		ck_assert_int_eq(memcmp(msg.properties.type.bytes,
		    "prueba.unidad", 13), 0);
		ck_assert_uint_eq(msg.properties.timestamp, 1796600000);
		h = &msg.properties.headers;
		for (j = 0; j < h->num_entries; j++) {
			amqp_table_entry_t *e = &h->entries[j];

			if (e->key.len == 7 && memcmp(e->key.bytes, "version", 7) == 0)
				ver = e->value.value.i32;
			if (e->key.len == 10 &&
			    memcmp(e->key.bytes, "request_id", 10) == 0)
				rid = e->value.value.bytes.bytes;
		}
		ck_assert_int_eq(ver, 2);
		if (i % 2) {
			ck_assert_ptr_nonnull(rid);
			ck_assert_int_eq(memcmp(rid, "req-unit", 8), 0);
			ck_assert_int_eq(memcmp(msg.properties.correlation_id.bytes,
			    "req-unit", 8), 0);
		} else
			ck_assert_ptr_null(rid);
		ck_assert_int_eq(msg.body.len, 7);
		amqp_destroy_message(&msg);
	}
	raw_delete(c, q);
	raw_close(c);
}
END_TEST

/*
 * Answers are kept whoever reads them: the broker acks several tags in
 * one frame, and the relay polls the socket between batches.  Two
 * batches in flight (the second bigger than the first window), every
 * answer read by vr_amqp_poll() before either is awaited: both batches
 * settle at once, none waits out its timeout.
 */
START_TEST(confirms_read_early_are_kept)
{
	amqp_connection_state_t c;
	struct vr_amqp *a;
	struct vr_amqp_msg m;
	static unsigned char sa[10], sb[700];
	char q[64];
	uint64_t tag, fa = 0, fb = 0;
	uint32_t depth = 0;
	int i, k;

	a = confirming_to_queue("early", q, sizeof(q));
	memset(&m, 0, sizeof(m));
	m.message_id = "00000000-0000-0000-0000-000000000001";
	m.type = "prueba.unidad";
	m.body = "{}";
	m.len = 2;
	for (i = 0; i < 710; i++) {
		ck_assert_int_eq(vr_amqp_publish(a, VR_AMQP_EVENTOS,
		    "prueba.unidad", &m, &tag), 0);
		if (i == 0)
			fa = tag;
		if (i == 10)
			fb = tag;
	}
	/* Let every answer arrive, and read them all now. */
	for (k = 0; k < 100; k++) {
		usleep(20000);
		ck_assert_int_eq(vr_amqp_poll(a), 0);
	}
	ck_assert_int_eq(vr_amqp_confirms(a, fa, 10, sa, 300), 0);
	ck_assert_int_eq(vr_amqp_confirms(a, fb, 700, sb, 300), 0);
	all_acked(sa, 10);
	all_acked(sb, 700);
	/* Asked again after a later batch settled: still answered. */
	ck_assert_int_eq(vr_amqp_confirms(a, fb, 700, sb, 1), 0);
	vr_amqp_close(a);
	c = raw_open();
	ck_assert(queue_exists(&c, q, &depth));
	ck_assert_uint_eq(depth, 710);
	raw_delete(c, q);
	raw_close(c);
}
END_TEST

/* Confirms that never come (none was published): the timeout applies. */
START_TEST(confirms_time_out)
{
	struct vr_amqp *a;
	unsigned char status[2] = { 0, 0 };
	char err[256];

	ck_assert_int_eq(vr_amqp_connect(&a, amqp_url(), "unit", 2000, err,
	    sizeof(err)), 0);
	ck_assert_int_eq(vr_amqp_confirm_select(a, err, sizeof(err)), 0);
	ck_assert_int_eq(vr_amqp_confirms(a, 1, 2, status, 200), VR_ETIMEOUT);
	ck_assert_ptr_nonnull(strstr(vr_amqp_error(a), "timeout"));
	ck_assert_int_ge(vr_amqp_fd(a), 0);
	vr_amqp_close(a);
	ck_assert_int_eq(vr_amqp_fd(NULL), -1);
	vr_amqp_close(NULL);
}
END_TEST

/* Bad URLs and unreachable brokers: a clear error, no connection. */
START_TEST(connect_errors)
{
	struct vr_amqp *a = (struct vr_amqp *)1;
	char err[256], url[128], big[700];

	ck_assert_int_eq(vr_amqp_connect(&a, "http://x/", "unit", 500, err,
	    sizeof(err)), VR_EINVAL);
	ck_assert_ptr_null(a);
	ck_assert_ptr_nonnull(strstr(err, "malformed"));
	ck_assert_int_eq(vr_amqp_connect(&a, NULL, "unit", 500, err,
	    sizeof(err)), VR_EINVAL);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ck_assert_int_eq(vr_amqp_connect(&a, big, "unit", 500, err,
	    sizeof(err)), VR_EINVAL);
	snprintf(url, sizeof(url), "amqp://guest:guest@127.0.0.1:%d/",
	    closed_port());
	ck_assert_int_eq(vr_amqp_connect(&a, url, NULL, 500, err,
	    sizeof(err)), VR_EUNAVAIL);
	ck_assert_ptr_null(a);
	ck_assert_ptr_nonnull(strstr(err, "connect"));
}
END_TEST

Suite *
amqp_suite(void)
{
	Suite *s = suite_create("amqp");
	TCase *tc = tcase_create("ping");

	tcase_add_test(tc, ping_ok);
	tcase_add_test(tc, malformed_url);
	tcase_add_test(tc, closed_port_unavailable);
	tcase_add_test(tc, wrong_password_unavailable);
	tcase_add_test(tc, silent_server_times_out);
	suite_add_tcase(s, tc);
	tc = tcase_create("topology");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, topology_declares_twice);
	tcase_add_test(tc, declare_mismatch_is_reported);
	tcase_add_test(tc, publish_confirmed_with_properties);
	tcase_add_test(tc, confirms_read_early_are_kept);
	tcase_add_test(tc, confirms_time_out);
	tcase_add_test(tc, connect_errors);
	suite_add_tcase(s, tc);
	return s;
}
