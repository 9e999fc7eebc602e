/*
 * amqp.c - RabbitMQ helpers shared by the services.
 */
#include <string.h>
#include <sys/time.h>

#include <amqp.h>
#include <amqp_tcp_socket.h>

#include "vr.h"

/*
 * Open a connection and log in, then close: proves the broker is up and
 * the credentials work.  0, VR_EINVAL for a malformed URL, VR_EUNAVAIL.
 */
int
vr_amqp_ping(const char *url, int timeout_ms)
{
	struct amqp_connection_info ci;
	struct timeval tv;
	amqp_connection_state_t conn;
	amqp_socket_t *sock;
	amqp_rpc_reply_t r;
	char copy[512];
	int rc = VR_EUNAVAIL;

	if (url == NULL || strlen(url) >= sizeof(copy))
		return VR_EINVAL;
	memcpy(copy, url, strlen(url) + 1);
	amqp_default_connection_info(&ci);
	if (amqp_parse_url(copy, &ci) != AMQP_STATUS_OK)
		return VR_EINVAL;
	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (timeout_ms % 1000) * 1000;
	if ((conn = amqp_new_connection()) == NULL)
		return VR_ENOMEM;
	if ((sock = amqp_tcp_socket_new(conn)) == NULL)
		goto out;
	if (amqp_socket_open_noblock(sock, ci.host, ci.port, &tv) !=
	    AMQP_STATUS_OK)
		goto out;
	if (amqp_set_handshake_timeout(conn, &tv) != AMQP_STATUS_OK ||
	    amqp_set_rpc_timeout(conn, &tv) != AMQP_STATUS_OK)
		goto out;
	r = amqp_login(conn, ci.vhost, 0, 131072, 0, AMQP_SASL_METHOD_PLAIN,
	    ci.user, ci.password);
	if (r.reply_type != AMQP_RESPONSE_NORMAL)
		goto out;
	rc = 0;
	amqp_connection_close(conn, AMQP_REPLY_SUCCESS);
out:
	amqp_destroy_connection(conn);
	return rc;
}
