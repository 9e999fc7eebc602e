/*
 * check_amqp.c - lib/amqp.c: vr_amqp_ping() against the RabbitMQ of
 * VETRED_AMQP_URL (its absence fails the tests that need it).
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
	return s;
}
