/*
 * amqp_client.c - the integration tests' AMQP consumer, on rabbitmq-c:
 * one connection, channel 1, one queue; deliveries copied out of the
 * library's buffers into struct mq_msg.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <amqp.h>
#include <amqp_framing.h>
#include <amqp_tcp_socket.h>

#include "itest.h"
#include "amqp_client.h"

#define CHANNEL		1

struct mq {
	amqp_connection_state_t	 conn;
	char			 queue[256];
	int			 manual_ack;
	int			 consuming;
};

/* ---- string set (open addressing, FNV-1a) -------------------------- */

static size_t
hash(const char *s)
{
	size_t h = 14695981039346656037ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

void
mq_set_init(struct mq_set *s)
{
	s->cap = 1024;
	s->n = 0;
	s->slot = calloc(s->cap, sizeof(*s->slot));
	s->val = calloc(s->cap, sizeof(*s->val));
	ck_assert(s->slot != NULL && s->val != NULL);
}

/* The slot of v, or the empty one where it would go. */
static size_t
find(char *const *slot, size_t cap, const char *v)
{
	size_t j;

	for (j = hash(v) & (cap - 1); slot[j] != NULL &&
	    strcmp(slot[j], v) != 0; j = (j + 1) & (cap - 1))
		;
	return j;
}

static void
grow(struct mq_set *s)
{
	char **old = s->slot;
	long long *oldval = s->val;
	size_t oldcap = s->cap, i, j;

	s->cap *= 2;
	s->slot = calloc(s->cap, sizeof(*s->slot));
	s->val = calloc(s->cap, sizeof(*s->val));
	ck_assert(s->slot != NULL && s->val != NULL);
	for (i = 0; i < oldcap; i++) {
		if (old[i] == NULL)
			continue;
		j = find(s->slot, s->cap, old[i]);
		s->slot[j] = old[i];
		s->val[j] = oldval[i];
	}
	free(old);
	free(oldval);
}

void
mq_set_put(struct mq_set *s, const char *v, long long val)
{
	size_t j;

	if ((s->n + 1) * 2 > s->cap)
		grow(s);
	j = find(s->slot, s->cap, v);
	if (s->slot[j] == NULL) {
		s->slot[j] = strdup(v);
		ck_assert_ptr_nonnull(s->slot[j]);
		s->n++;
	}
	s->val[j] = val;
}

int
mq_set_add(struct mq_set *s, const char *v)
{
	if (mq_set_has(s, v))
		return 0;
	mq_set_put(s, v, 0);
	return 1;
}

int
mq_set_get(const struct mq_set *s, const char *v, long long *val)
{
	size_t j = find(s->slot, s->cap, v);

	if (s->slot[j] == NULL)
		return 0;
	if (val != NULL)
		*val = s->val[j];
	return 1;
}

int
mq_set_has(const struct mq_set *s, const char *v)
{
	return mq_set_get(s, v, NULL);
}

void
mq_set_free(struct mq_set *s)
{
	size_t i;

	for (i = 0; i < s->cap; i++)
		free(s->slot[i]);
	free(s->slot);
	free(s->val);
	memset(s, 0, sizeof(*s));
}

/* ---- received messages --------------------------------------------- */

void
mq_msgs_init(struct mq_msgs *m)
{
	memset(m, 0, sizeof(*m));
	mq_set_init(&m->ids);
}

static void
msg_free(struct mq_msg *x)
{
	free(x->message_id);
	free(x->type);
	free(x->routing_key);
	free(x->exchange);
	free(x->correlation_id);
	free(x->content_type);
	free(x->app_id);
	free(x->request_id);
	free(x->body);
}

void
mq_msgs_free(struct mq_msgs *m)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		msg_free(&m->v[i]);
	free(m->v);
	mq_set_free(&m->ids);
	memset(m, 0, sizeof(*m));
}

const struct mq_msg *
mq_find(const struct mq_msgs *m, const char *message_id)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		if (m->v[i].message_id != NULL &&
		    strcmp(m->v[i].message_id, message_id) == 0)
			return &m->v[i];
	return NULL;
}

static char *
dup_bytes(amqp_bytes_t b)
{
	char *s = malloc(b.len + 1);

	ck_assert_ptr_nonnull(s);
	if (b.len > 0)
		memcpy(s, b.bytes, b.len);
	s[b.len] = '\0';
	return s;
}

/* A property when its flag is set, else NULL. */
static char *
prop(const amqp_basic_properties_t *p, amqp_flags_t flag, amqp_bytes_t b)
{
	return (p->_flags & flag) ? dup_bytes(b) : NULL;
}

static int
int_field(const amqp_field_value_t *v, int *out)
{
	switch (v->kind) {
	case AMQP_FIELD_KIND_I8:	*out = v->value.i8; return 1;
	case AMQP_FIELD_KIND_U8:	*out = v->value.u8; return 1;
	case AMQP_FIELD_KIND_I16:	*out = v->value.i16; return 1;
	case AMQP_FIELD_KIND_U16:	*out = v->value.u16; return 1;
	case AMQP_FIELD_KIND_I32:	*out = v->value.i32; return 1;
	case AMQP_FIELD_KIND_U32:	*out = (int)v->value.u32; return 1;
	case AMQP_FIELD_KIND_I64:	*out = (int)v->value.i64; return 1;
	case AMQP_FIELD_KIND_U64:	*out = (int)v->value.u64; return 1;
	default:			return 0;
	}
}

static void
from_envelope(const amqp_envelope_t *e, struct mq_msg *x)
{
	const amqp_basic_properties_t *p = &e->message.properties;
	int i;

	memset(x, 0, sizeof(*x));
	x->version = -1;
	x->message_id = prop(p, AMQP_BASIC_MESSAGE_ID_FLAG, p->message_id);
	x->type = prop(p, AMQP_BASIC_TYPE_FLAG, p->type);
	x->correlation_id = prop(p, AMQP_BASIC_CORRELATION_ID_FLAG,
	    p->correlation_id);
	x->content_type = prop(p, AMQP_BASIC_CONTENT_TYPE_FLAG,
	    p->content_type);
	x->app_id = prop(p, AMQP_BASIC_APP_ID_FLAG, p->app_id);
	if (p->_flags & AMQP_BASIC_DELIVERY_MODE_FLAG)
		x->delivery_mode = p->delivery_mode;
	if (p->_flags & AMQP_BASIC_TIMESTAMP_FLAG)
		x->timestamp = (long long)p->timestamp;
	x->routing_key = dup_bytes(e->routing_key);
	x->exchange = dup_bytes(e->exchange);
	x->redelivered = e->redelivered;
	x->body = dup_bytes(e->message.body);
	x->len = e->message.body.len;
	if (!(p->_flags & AMQP_BASIC_HEADERS_FLAG))
		return;
	for (i = 0; i < p->headers.num_entries; i++) {
		const amqp_table_entry_t *h = &p->headers.entries[i];
		const amqp_field_value_t *v = &h->value;

		if (h->key.len == 7 && memcmp(h->key.bytes, "version", 7) == 0)
			int_field(v, &x->version);
		else if (h->key.len == 10 &&
		    memcmp(h->key.bytes, "request_id", 10) == 0 &&
		    (v->kind == AMQP_FIELD_KIND_UTF8 ||
		    v->kind == AMQP_FIELD_KIND_BYTES))
			x->request_id = dup_bytes(v->value.bytes);
	}
}

/* ---- connection ------------------------------------------------------ */

static const char *
reply_text(amqp_rpc_reply_t r, char *buf, size_t len)
{
	switch (r.reply_type) {
	case AMQP_RESPONSE_NORMAL:
		return "ok";
	case AMQP_RESPONSE_LIBRARY_EXCEPTION:
		return amqp_error_string2(r.library_error);
	case AMQP_RESPONSE_SERVER_EXCEPTION:
		if (r.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
			amqp_channel_close_t *m = r.reply.decoded;

			snprintf(buf, len, "channel closed %u: %.*s",
			    m->reply_code, (int)m->reply_text.len,
			    (const char *)m->reply_text.bytes);
		} else if (r.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
			amqp_connection_close_t *m = r.reply.decoded;

			snprintf(buf, len, "connection closed %u: %.*s",
			    m->reply_code, (int)m->reply_text.len,
			    (const char *)m->reply_text.bytes);
		} else
			snprintf(buf, len, "server method 0x%08x",
			    (unsigned)r.reply.id);
		return buf;
	default:
		return "no reply";
	}
}

static void
rpc_ok(struct mq *q, const char *what)
{
	amqp_rpc_reply_t r = amqp_get_rpc_reply(q->conn);
	char buf[256];

	ck_assert_msg(r.reply_type == AMQP_RESPONSE_NORMAL, "amqp %s: %s",
	    what, reply_text(r, buf, sizeof(buf)));
}

/* One attempt: a logged-in connection with channel 1 open, or NULL. */
static amqp_connection_state_t
try_connect(const char *url, char *why, size_t whylen)
{
	struct amqp_connection_info ci;
	struct timeval tv = { 5, 0 };
	amqp_connection_state_t c;
	amqp_socket_t *sock;
	amqp_rpc_reply_t r;
	char copy[512], buf[256];
	int st;

	snprintf(copy, sizeof(copy), "%s", url);
	amqp_default_connection_info(&ci);
	ck_assert_msg(amqp_parse_url(copy, &ci) == AMQP_STATUS_OK,
	    "VETRED_AMQP_URL is malformed: %s", url);
	c = amqp_new_connection();
	ck_assert_ptr_nonnull(c);
	sock = amqp_tcp_socket_new(c);
	ck_assert_ptr_nonnull(sock);
	if ((st = amqp_socket_open_noblock(sock, ci.host, ci.port, &tv)) !=
	    AMQP_STATUS_OK) {
		snprintf(why, whylen, "connect: %s", amqp_error_string2(st));
		amqp_destroy_connection(c);
		return NULL;
	}
	amqp_set_handshake_timeout(c, &tv);
	amqp_set_rpc_timeout(c, &tv);
	r = amqp_login(c, ci.vhost, 0, 131072, 0, AMQP_SASL_METHOD_PLAIN,
	    ci.user, ci.password);
	if (r.reply_type == AMQP_RESPONSE_NORMAL) {
		amqp_channel_open(c, CHANNEL);
		r = amqp_get_rpc_reply(c);
	}
	if (r.reply_type != AMQP_RESPONSE_NORMAL) {
		snprintf(why, whylen, "login: %s", reply_text(r, buf,
		    sizeof(buf)));
		amqp_destroy_connection(c);
		return NULL;
	}
	return c;
}

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *
amqp_url(void)
{
	const char *url = getenv("VETRED_AMQP_URL");

	ck_assert_msg(url != NULL && *url, "VETRED_AMQP_URL is not set: "
	    "source the stack's env file (ci/stack.sh env)");
	return url;
}

struct mq *
mq_open(int timeout_ms)
{
	long long deadline = now_ms() + timeout_ms;
	struct mq *q = calloc(1, sizeof(*q));
	char why[300] = "";

	ck_assert_ptr_nonnull(q);
	for (;;) {
		if ((q->conn = try_connect(amqp_url(), why, sizeof(why))) !=
		    NULL)
			return q;
		ck_assert_msg(now_ms() < deadline, "amqp: no connection to "
		    "the broker within %d ms: %s", timeout_ms, why);
		usleep(200000);
	}
}

void
mq_close(struct mq *q)
{
	if (q == NULL)
		return;
	amqp_channel_close(q->conn, CHANNEL, AMQP_REPLY_SUCCESS);
	amqp_connection_close(q->conn, AMQP_REPLY_SUCCESS);
	amqp_destroy_connection(q->conn);
	free(q);
}

const char *
mq_queue(struct mq *q, enum mq_kind kind, const char *name)
{
	amqp_table_entry_t arg[1];
	amqp_table_t args = { 0, arg };
	amqp_queue_declare_ok_t *ok;

	if (kind == MQ_QUORUM) {
		ck_assert_ptr_nonnull(name);
		arg[0].key = amqp_cstring_bytes("x-queue-type");
		arg[0].value.kind = AMQP_FIELD_KIND_UTF8;
		arg[0].value.value.bytes = amqp_cstring_bytes("quorum");
		args.num_entries = 1;
	}
	ck_assert(kind != MQ_EXISTING || name != NULL);
	ok = amqp_queue_declare(q->conn, CHANNEL, name != NULL ?
	    amqp_cstring_bytes(name) : amqp_empty_bytes,
	    kind == MQ_EXISTING, kind == MQ_QUORUM, kind == MQ_EXCLUSIVE,
	    kind == MQ_EXCLUSIVE, args);
	rpc_ok(q, "queue.declare");
	ck_assert_ptr_nonnull(ok);
	ck_assert_uint_lt(ok->queue.len, sizeof(q->queue));
	memcpy(q->queue, ok->queue.bytes, ok->queue.len);
	q->queue[ok->queue.len] = '\0';
	return q->queue;
}

const char *
mq_name(const struct mq *q)
{
	return q->queue;
}

void
mq_bind(struct mq *q, const char *exchange, const char *key)
{
	amqp_queue_bind(q->conn, CHANNEL, amqp_cstring_bytes(q->queue),
	    amqp_cstring_bytes(exchange), amqp_cstring_bytes(key),
	    amqp_empty_table);
	rpc_ok(q, "queue.bind");
}

void
mq_consume(struct mq *q, int manual_ack)
{
	ck_assert(!q->consuming);
	/* Without a prefetch count a quorum queue still stops at 2,000
	 * unacked deliveries: the most a channel may hold, so that a message
	 * behind many skipped ones still arrives. */
	if (manual_ack) {
		amqp_basic_qos(q->conn, CHANNEL, 0, UINT16_MAX, 0);
		rpc_ok(q, "basic.qos");
	}
	amqp_basic_consume(q->conn, CHANNEL, amqp_cstring_bytes(q->queue),
	    amqp_empty_bytes, 0, !manual_ack, 0, amqp_empty_table);
	rpc_ok(q, "basic.consume");
	q->manual_ack = manual_ack;
	q->consuming = 1;
}

size_t
mq_collect(struct mq *q, struct mq_msgs *out, size_t want, int timeout_ms,
    mq_filter keep, void *arg)
{
	long long deadline = now_ms() + timeout_ms, left;
	amqp_envelope_t e;
	amqp_rpc_reply_t r;
	amqp_frame_t f;
	struct timeval tv;
	struct mq_msg x;
	char buf[256];

	ck_assert(q->consuming);
	while (out->ids.n < want && (left = deadline - now_ms()) > 0) {
		tv.tv_sec = (time_t)(left / 1000);
		tv.tv_usec = (suseconds_t)(left % 1000) * 1000;
		amqp_maybe_release_buffers(q->conn);
		r = amqp_consume_message(q->conn, &e, &tv, 0);
		if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION &&
		    r.library_error == AMQP_STATUS_TIMEOUT)
			break;
		if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION &&
		    r.library_error == AMQP_STATUS_UNEXPECTED_STATE) {
			/* Another method than a delivery: a closing channel
			 * fails the test, anything else is skipped. */
			ck_assert_int_eq(amqp_simple_wait_frame(q->conn, &f),
			    AMQP_STATUS_OK);
			ck_assert_msg(f.frame_type != AMQP_FRAME_METHOD ||
			    (f.payload.method.id != AMQP_CHANNEL_CLOSE_METHOD &&
			    f.payload.method.id !=
			    AMQP_CONNECTION_CLOSE_METHOD),
			    "amqp: the broker closed the consumer's channel");
			continue;
		}
		ck_assert_msg(r.reply_type == AMQP_RESPONSE_NORMAL,
		    "amqp consume: %s", reply_text(r, buf, sizeof(buf)));
		from_envelope(&e, &x);
		if (keep == NULL || keep(&x, arg)) {
			if (q->manual_ack)
				ck_assert_int_eq(amqp_basic_ack(q->conn,
				    CHANNEL, e.delivery_tag, 0), 0);
			if (out->n == out->cap) {
				out->cap = out->cap ? out->cap * 2 : 256;
				out->v = realloc(out->v, out->cap *
				    sizeof(*out->v));
				ck_assert_ptr_nonnull(out->v);
			}
			out->v[out->n++] = x;
			if (x.message_id != NULL)
				mq_set_add(&out->ids, x.message_id);
		} else
			msg_free(&x);
		amqp_destroy_envelope(&e);
	}
	return out->ids.n;
}

long
mq_purge(struct mq *q)
{
	amqp_queue_purge_ok_t *ok;

	ok = amqp_queue_purge(q->conn, CHANNEL, amqp_cstring_bytes(q->queue));
	rpc_ok(q, "queue.purge");
	return ok != NULL ? (long)ok->message_count : 0;
}

void
mq_delete(struct mq *q)
{
	amqp_queue_delete(q->conn, CHANNEL, amqp_cstring_bytes(q->queue), 0,
	    0);
	rpc_ok(q, "queue.delete");
}

int
mq_drop_queue(const char *name)
{
	const char *url = getenv("VETRED_AMQP_URL");
	amqp_connection_state_t c;
	amqp_rpc_reply_t r;
	char why[300];

	if (url == NULL || *url == '\0' ||
	    (c = try_connect(url, why, sizeof(why))) == NULL)
		return -1;
	amqp_queue_delete(c, CHANNEL, amqp_cstring_bytes(name), 0, 0);
	r = amqp_get_rpc_reply(c);
	amqp_channel_close(c, CHANNEL, AMQP_REPLY_SUCCESS);
	amqp_connection_close(c, AMQP_REPLY_SUCCESS);
	amqp_destroy_connection(c);
	return r.reply_type == AMQP_RESPONSE_NORMAL ? 0 : -1;
}
