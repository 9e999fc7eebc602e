/*
 * amqp.c - RabbitMQ for every service: the one table of the topology,
 * declared by each process at start (idempotently: declaring what
 * exists with the same arguments is a no-op), and a publisher with
 * confirms.
 *
 * The topology (vr_amqp_exchanges, vr_amqp_queues, vr_amqp_bindings):
 *
 *   vetred.eventos       topic   domain events, routing key = event type
 *                                (cita.reservada, ...)
 *   vetred.trabajos      direct  job messages, routing key = job name
 *   vetred.no_enrutados  fanout  alternate exchange of the two above: a
 *                                message no queue is bound for lands in
 *                                the queue of that name, for inspection,
 *                                instead of being dropped (the newest
 *                                100,000 are kept)
 *   vetred.muertos       fanout  dead letters (a handler's verdict, or a
 *                                work queue's delivery limit reached)
 *   vetred.reintento.5s, .30s, .5m
 *                        fanout  delayed retry: each feeds a queue of its
 *                                name whose messages expire after the
 *                                delay and are dead-lettered, keeping
 *                                their routing key, to
 *   vetred.reencolar     direct  where each work queue is bound under
 *                                its own name: a message retried with
 *                                routing key = its work queue returns to
 *                                it after the delay
 *
 * Work queues (one per consumer, vr_amqp_declare_work_queue(); those of
 * the engine's own consumers in vr_amqp_works) are quorum queues with a
 * delivery limit (VR_AMQP_DELIVERY_LIMIT), dead-lettering to
 * vetred.muertos.  The
 * broker's own queues above are quorum too, except the retry queues:
 * classic durable queues, which expire messages at the head in order.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include <amqp.h>
#include <amqp_framing.h>
#include <amqp_tcp_socket.h>

#include "vr.h"

#define AMQP_CHANNEL	1
#define AMQP_FRAME_MAX	131072

const struct vr_amqp_exchange vr_amqp_exchanges[] = {
	{ VR_AMQP_EVENTOS, "topic", VR_AMQP_NO_ENRUTADOS },
	{ VR_AMQP_TRABAJOS, "direct", VR_AMQP_NO_ENRUTADOS },
	{ VR_AMQP_NO_ENRUTADOS, "fanout", NULL },
	{ VR_AMQP_MUERTOS, "fanout", NULL },
	{ VR_AMQP_REENCOLAR, "direct", NULL },
	{ "vetred.reintento.5s", "fanout", NULL },
	{ "vetred.reintento.30s", "fanout", NULL },
	{ "vetred.reintento.5m", "fanout", NULL },
};
const size_t vr_amqp_nexchanges =
    sizeof(vr_amqp_exchanges) / sizeof(vr_amqp_exchanges[0]);

const struct vr_amqp_queue vr_amqp_queues[] = {
	/* Kept for inspection, not forever: the newest 100,000. */
	{ VR_AMQP_NO_ENRUTADOS, 1, 0, NULL, 100000 },
	{ VR_AMQP_MUERTOS, 1, 0, NULL, 0 },
	{ "vetred.reintento.5s", 0, 5000, VR_AMQP_REENCOLAR, 0 },
	{ "vetred.reintento.30s", 0, 30000, VR_AMQP_REENCOLAR, 0 },
	{ "vetred.reintento.5m", 0, 300000, VR_AMQP_REENCOLAR, 0 },
};
const size_t vr_amqp_nqueues =
    sizeof(vr_amqp_queues) / sizeof(vr_amqp_queues[0]);

const struct vr_amqp_binding vr_amqp_bindings[] = {
	{ VR_AMQP_NO_ENRUTADOS, VR_AMQP_NO_ENRUTADOS, "" },
	{ VR_AMQP_MUERTOS, VR_AMQP_MUERTOS, "" },
	{ "vetred.reintento.5s", "vetred.reintento.5s", "" },
	{ "vetred.reintento.30s", "vetred.reintento.30s", "" },
	{ "vetred.reintento.5m", "vetred.reintento.5m", "" },
};
const size_t vr_amqp_nbindings =
    sizeof(vr_amqp_bindings) / sizeof(vr_amqp_bindings[0]);

/*
 * The work queues of the engine's own consumers, declared with the rest
 * by every service, so that a message published before its consumer
 * first started (a job fired at the scheduler's first start) waits in
 * its queue instead of being unroutable.  A consumer declares its own
 * queue again at start (vr_worker_run()): the same arguments, a no-op.
 */
static const char *const mantenimiento_keys[] = { "purga_outbox",
    "sellado_auditoria", NULL };

static const char *const calendarios_keys[] = { "cita.reservada",
    "cita.reprogramada", "cita.confirmada", "cita.en_atencion",
    "cita.atendida", "cita.no_asistio", "cita.cancelada", "cita.actualizada",
    "calendario.emitido", "calendario.revocado", NULL };

const struct vr_amqp_work vr_amqp_works[] = {
	{ "vetred.mantenimiento", VR_AMQP_TRABAJOS, mantenimiento_keys },
	{ "vetred.calendarios", VR_AMQP_EVENTOS, calendarios_keys },
};
const size_t vr_amqp_nworks = sizeof(vr_amqp_works) / sizeof(vr_amqp_works[0]);

/* The retry delays, shortest first: attempt n waits vr_amqp_retry[n-1]. */
const struct vr_amqp_retry vr_amqp_retries[] = {
	{ "vetred.reintento.5s", 5000 },
	{ "vetred.reintento.30s", 30000 },
	{ "vetred.reintento.5m", 300000 },
};
const size_t vr_amqp_nretries =
    sizeof(vr_amqp_retries) / sizeof(vr_amqp_retries[0]);

struct vr_amqp {
	amqp_connection_state_t	 conn;
	int			 open;		/* logged in, channel open */
	int			 confirms;	/* confirm.select done */
	uint64_t		 next_tag;	/* of the next publish */
	/* The answers to the publishes of tags base .. next_tag - 1, as
	 * they arrive, whoever reads them (a broker acks several tags in
	 * one frame, which may cover a later batch than the one awaited). */
	unsigned char		*answer;
	size_t			 answer_cap;
	uint64_t		 base;
	uint64_t		 answered;	/* every tag below it was */
	char			 err[200];
};

static void
set_err(char *err, size_t errlen, const char *what, const char *why)
{
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, "%s: %s", what, why);
}

/* Why an RPC failed, in words: the broker's close reason when it sent one. */
static void
reply_err(amqp_rpc_reply_t r, const char *what, char *err, size_t errlen)
{
	char why[160];

	switch (r.reply_type) {
	case AMQP_RESPONSE_NORMAL:
		snprintf(why, sizeof(why), "ok");
		break;
	case AMQP_RESPONSE_NONE:
		snprintf(why, sizeof(why), "no reply");
		break;
	case AMQP_RESPONSE_LIBRARY_EXCEPTION:
		snprintf(why, sizeof(why), "%s", amqp_error_string2(r.library_error));
		break;
	case AMQP_RESPONSE_SERVER_EXCEPTION:
		if (r.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
			amqp_channel_close_t *m = r.reply.decoded;
			snprintf(why, sizeof(why), "channel closed %u: %.*s",
			    m->reply_code, (int)m->reply_text.len,
			    (const char *)m->reply_text.bytes);
		} else if (r.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
			amqp_connection_close_t *m = r.reply.decoded;
			snprintf(why, sizeof(why), "connection closed %u: %.*s",
			    m->reply_code, (int)m->reply_text.len,
			    (const char *)m->reply_text.bytes);
		} else
			snprintf(why, sizeof(why), "server method 0x%08x",
			    (unsigned)r.reply.id);
		break;
	default:
		snprintf(why, sizeof(why), "reply type %d", (int)r.reply_type);
	}
	set_err(err, errlen, what, why);
}

static void
timeval_ms(struct timeval *tv, int ms)
{
	tv->tv_sec = ms / 1000;
	tv->tv_usec = (ms % 1000) * 1000;
}

/*
 * Open a connection, log in and open channel 1.  name is shown by the
 * broker (rabbitmqctl list_connections client_properties).  0,
 * VR_EINVAL for a malformed URL, VR_EUNAVAIL (err says why).
 */
int
vr_amqp_connect(struct vr_amqp **out, const char *url, const char *name,
    int timeout_ms, char *err, size_t errlen)
{
	struct amqp_connection_info ci;
	amqp_table_entry_t prop[1];
	amqp_table_t props;
	struct timeval tv;
	struct vr_amqp *a;
	amqp_socket_t *sock;
	amqp_rpc_reply_t r;
	char copy[512];
	int st;

	*out = NULL;
	if (url == NULL || strlen(url) >= sizeof(copy)) {
		set_err(err, errlen, "amqp", "URL missing or too long");
		return VR_EINVAL;
	}
	memcpy(copy, url, strlen(url) + 1);
	amqp_default_connection_info(&ci);
	if (amqp_parse_url(copy, &ci) != AMQP_STATUS_OK) {
		set_err(err, errlen, "amqp", "malformed URL");
		return VR_EINVAL;
	}
	a = vr_xcalloc(1, sizeof(*a));
	a->next_tag = 1;
	timeval_ms(&tv, timeout_ms);
	if ((a->conn = amqp_new_connection()) == NULL)
		goto nomem;
	if ((sock = amqp_tcp_socket_new(a->conn)) == NULL)
		goto nomem;
	st = amqp_socket_open_noblock(sock, ci.host, ci.port, &tv);
	if (st != AMQP_STATUS_OK) {
		set_err(err, errlen, "amqp connect", amqp_error_string2(st));
		goto fail;
	}
	amqp_set_handshake_timeout(a->conn, &tv);
	amqp_set_rpc_timeout(a->conn, &tv);
	prop[0].key = amqp_cstring_bytes("connection_name");
	prop[0].value.kind = AMQP_FIELD_KIND_UTF8;
	prop[0].value.value.bytes = amqp_cstring_bytes(name != NULL ? name : "vetred");
	props.num_entries = 1;
	props.entries = prop;
	r = amqp_login_with_properties(a->conn, ci.vhost, 0, AMQP_FRAME_MAX, 0,
	    &props, AMQP_SASL_METHOD_PLAIN, ci.user, ci.password);
	if (r.reply_type != AMQP_RESPONSE_NORMAL) {
		reply_err(r, "amqp login", err, errlen);
		goto fail;
	}
	amqp_channel_open(a->conn, AMQP_CHANNEL);
	r = amqp_get_rpc_reply(a->conn);
	if (r.reply_type != AMQP_RESPONSE_NORMAL) {
		reply_err(r, "amqp channel", err, errlen);
		goto fail;
	}
	a->open = 1;
	*out = a;
	return 0;
nomem:
	set_err(err, errlen, "amqp", "out of memory");
fail:
	vr_amqp_close(a);
	return VR_EUNAVAIL;
}

void
vr_amqp_close(struct vr_amqp *a)
{
	if (a == NULL)
		return;
	if (a->conn != NULL) {
		/* A polite close only on a connection that works: the
		 * close handshakes would wait out the RPC timeout on one the
		 * broker dropped. */
		if (a->open) {
			amqp_channel_close(a->conn, AMQP_CHANNEL,
			    AMQP_REPLY_SUCCESS);
			amqp_connection_close(a->conn, AMQP_REPLY_SUCCESS);
		}
		amqp_destroy_connection(a->conn);
	}
	free(a->answer);
	free(a);
}

/*
 * Open a connection and log in, then close: proves the broker is up and
 * the credentials work.  0, VR_EINVAL for a malformed URL, VR_EUNAVAIL.
 */
int
vr_amqp_ping(const char *url, int timeout_ms)
{
	struct vr_amqp *a;
	int rc;

	if ((rc = vr_amqp_connect(&a, url, "vetred ping", timeout_ms, NULL, 0)) != 0)
		return rc;
	vr_amqp_close(a);
	return 0;
}

/* Table entries of a declaration's arguments; at most 5 per call. */
struct args {
	amqp_table_entry_t	e[5];
	amqp_table_t		t;
};

static void
arg_str(struct args *x, const char *k, const char *v)
{
	amqp_table_entry_t *e = &x->e[x->t.num_entries++];

	e->key = amqp_cstring_bytes(k);
	e->value.kind = AMQP_FIELD_KIND_UTF8;
	e->value.value.bytes = amqp_cstring_bytes(v);
}

static void
arg_int(struct args *x, const char *k, long long v)
{
	amqp_table_entry_t *e = &x->e[x->t.num_entries++];

	e->key = amqp_cstring_bytes(k);
	e->value.kind = AMQP_FIELD_KIND_I64;
	e->value.value.i64 = v;
}

static void
args_init(struct args *x)
{
	x->t.num_entries = 0;
	x->t.entries = x->e;
}

static int
rpc_ok(struct vr_amqp *a, const char *what, const char *name, char *err,
    size_t errlen)
{
	amqp_rpc_reply_t r = amqp_get_rpc_reply(a->conn);
	char w[160];

	if (r.reply_type == AMQP_RESPONSE_NORMAL)
		return 0;
	snprintf(w, sizeof(w), "%s %s", what, name);
	reply_err(r, w, err, errlen);
	return VR_EUNAVAIL;
}

static int
declare_queue(struct vr_amqp *a, const char *name, int quorum, int ttl_ms,
    const char *dlx, int delivery_limit, int max_len, char *err,
    size_t errlen)
{
	struct args x;

	args_init(&x);
	if (max_len > 0)
		arg_int(&x, "x-max-length", max_len);
	if (quorum)
		arg_str(&x, "x-queue-type", "quorum");
	if (ttl_ms > 0)
		arg_int(&x, "x-message-ttl", ttl_ms);
	if (dlx != NULL)
		arg_str(&x, "x-dead-letter-exchange", dlx);
	if (delivery_limit > 0)
		arg_int(&x, "x-delivery-limit", delivery_limit);
	amqp_queue_declare(a->conn, AMQP_CHANNEL, amqp_cstring_bytes(name), 0,
	    1, 0, 0, x.t);
	return rpc_ok(a, "declare queue", name, err, errlen);
}

static int
bind(struct vr_amqp *a, const char *queue, const char *exchange,
    const char *key, char *err, size_t errlen)
{
	amqp_queue_bind(a->conn, AMQP_CHANNEL, amqp_cstring_bytes(queue),
	    amqp_cstring_bytes(exchange), amqp_cstring_bytes(key),
	    amqp_empty_table);
	return rpc_ok(a, "bind queue", queue, err, errlen);
}

/*
 * Declare the whole table.  Any mismatch (an exchange or queue that
 * exists with other arguments) closes the channel: VR_EUNAVAIL, with the
 * broker's reason in err; the caller closes the connection.
 */
int
vr_amqp_declare(struct vr_amqp *a, char *err, size_t errlen)
{
	const struct vr_amqp_exchange *x;
	const struct vr_amqp_queue *q;
	const struct vr_amqp_binding *b;
	struct args ar;
	size_t i;
	int rc;

	for (i = 0; i < vr_amqp_nexchanges; i++) {
		x = &vr_amqp_exchanges[i];
		args_init(&ar);
		if (x->alternate != NULL)
			arg_str(&ar, "alternate-exchange", x->alternate);
		amqp_exchange_declare(a->conn, AMQP_CHANNEL,
		    amqp_cstring_bytes(x->name), amqp_cstring_bytes(x->type),
		    0, 1, 0, 0, ar.t);
		if ((rc = rpc_ok(a, "declare exchange", x->name, err, errlen)) != 0)
			return rc;
	}
	for (i = 0; i < vr_amqp_nqueues; i++) {
		q = &vr_amqp_queues[i];
		rc = declare_queue(a, q->name, q->quorum, q->ttl_ms,
		    q->dead_letter, 0, q->max_len, err, errlen);
		if (rc != 0)
			return rc;
	}
	for (i = 0; i < vr_amqp_nbindings; i++) {
		b = &vr_amqp_bindings[i];
		if ((rc = bind(a, b->queue, b->exchange, b->key, err, errlen)) != 0)
			return rc;
	}
	for (i = 0; i < vr_amqp_nworks; i++)
		if ((rc = vr_amqp_declare_work_queue(a, vr_amqp_works[i].queue,
		    vr_amqp_works[i].exchange, vr_amqp_works[i].keys,
		    VR_AMQP_DELIVERY_LIMIT, err, errlen)) != 0)
			return rc;
	return 0;
}

/*
 * A consumer's work queue: quorum, dead-lettering to vetred.muertos after
 * delivery_limit deliveries, bound to exchange under each of keys (NULL
 * terminated; "#" every event) and to vetred.reencolar under its name.
 */
int
vr_amqp_declare_work_queue(struct vr_amqp *a, const char *queue,
    const char *exchange, const char *const *keys, int delivery_limit,
    char *err, size_t errlen)
{
	int rc;

	rc = declare_queue(a, queue, 1, 0, VR_AMQP_MUERTOS, delivery_limit, 0,
	    err, errlen);
	if (rc != 0)
		return rc;
	for (; keys != NULL && *keys != NULL; keys++)
		if ((rc = bind(a, queue, exchange, *keys, err, errlen)) != 0)
			return rc;
	return bind(a, queue, VR_AMQP_REENCOLAR, queue, err, errlen);
}

/* Put the channel in confirm mode: every publish is acked or nacked. */
int
vr_amqp_confirm_select(struct vr_amqp *a, char *err, size_t errlen)
{
	int rc;

	amqp_confirm_select(a->conn, AMQP_CHANNEL);
	if ((rc = rpc_ok(a, "confirm", "select", err, errlen)) != 0)
		return rc;
	a->confirms = 1;
	a->next_tag = a->base = a->answered = 1;
	return 0;
}

/* Room for the answer of the publish about to get next_tag. */
static void
answer_slot(struct vr_amqp *a)
{
	size_t i = (size_t)(a->next_tag - a->base);

	if (i >= a->answer_cap) {
		a->answer_cap = a->answer_cap ? a->answer_cap * 2 : 256;
		while (a->answer_cap <= i)
			a->answer_cap *= 2;
		a->answer = vr_xrealloc(a->answer, a->answer_cap);
	}
	a->answer[i] = 0;
}

/* An ack or nack of tag (and with multiple, of every tag before it not
 * answered yet: from the last multiple on, not from base each time). */
static void
note_answer(struct vr_amqp *a, uint64_t tag, int multiple, unsigned char v)
{
	uint64_t t;

	if (tag < a->base || tag >= a->next_tag)
		return;
	t = !multiple ? tag : a->answered > a->base ? a->answered : a->base;
	for (; t <= tag; t++)
		if (a->answer[t - a->base] == 0)
			a->answer[t - a->base] = v;
	if (multiple && tag + 1 > a->answered)
		a->answered = tag + 1;
}

/* The answers before tag first are no longer asked for: forget them. */
static void
forget_before(struct vr_amqp *a, uint64_t first)
{
	size_t k;

	if (first <= a->base)
		return;
	if (first > a->next_tag)
		first = a->next_tag;
	k = (size_t)(first - a->base);
	memmove(a->answer, a->answer + k, (size_t)(a->next_tag - first));
	a->base = first;
}

/* A frame that may carry an answer: note it.  0, or VR_EUNAVAIL when
 * the broker closes the channel or the connection. */
static int
note_frame(struct vr_amqp *a, const amqp_frame_t *f, const char *what)
{
	if (f->frame_type != AMQP_FRAME_METHOD)
		return 0;
	switch (f->payload.method.id) {
	case AMQP_BASIC_ACK_METHOD: {
		const amqp_basic_ack_t *m = f->payload.method.decoded;

		note_answer(a, m->delivery_tag, m->multiple, VR_AMQP_ACKED);
		return 0;
	}
	case AMQP_BASIC_NACK_METHOD: {
		const amqp_basic_nack_t *m = f->payload.method.decoded;

		note_answer(a, m->delivery_tag, m->multiple, VR_AMQP_NACKED);
		return 0;
	}
	case AMQP_CHANNEL_CLOSE_METHOD:
	case AMQP_CONNECTION_CLOSE_METHOD:
		snprintf(a->err, sizeof(a->err), "%s: closed by the broker",
		    what);
		a->open = 0;
		return VR_EUNAVAIL;
	default:
		return 0;
	}
}

/*
 * Publish one persistent JSON message; *tag is its delivery tag, which
 * vr_amqp_confirms() reports on.  Does not wait.  VR_EUNAVAIL when the
 * connection failed.
 */
int
vr_amqp_publish(struct vr_amqp *a, const char *exchange, const char *key,
    const struct vr_amqp_msg *m, uint64_t *tag)
{
	amqp_basic_properties_t p;
	amqp_table_entry_t h[6];
	int st, nh = 0;

	memset(&p, 0, sizeof(p));
	p._flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG |
	    AMQP_BASIC_HEADERS_FLAG;
	p.content_type = amqp_cstring_bytes("application/json");
	p.delivery_mode = AMQP_DELIVERY_PERSISTENT;
	if (m->message_id != NULL) {
		p._flags |= AMQP_BASIC_MESSAGE_ID_FLAG;
		p.message_id = amqp_cstring_bytes(m->message_id);
	}
	if (m->type != NULL) {
		p._flags |= AMQP_BASIC_TYPE_FLAG;
		p.type = amqp_cstring_bytes(m->type);
	}
	if (m->timestamp > 0) {
		p._flags |= AMQP_BASIC_TIMESTAMP_FLAG;
		p.timestamp = (uint64_t)m->timestamp;
	}
	if (m->app_id != NULL) {
		p._flags |= AMQP_BASIC_APP_ID_FLAG;
		p.app_id = amqp_cstring_bytes(m->app_id);
	}
	h[nh].key = amqp_cstring_bytes("version");
	h[nh].value.kind = AMQP_FIELD_KIND_I32;
	h[nh++].value.value.i32 = m->version > 0 ? m->version : 1;
	if (m->request_id != NULL && m->request_id[0] != '\0') {
		p._flags |= AMQP_BASIC_CORRELATION_ID_FLAG;
		p.correlation_id = amqp_cstring_bytes(m->request_id);
		h[nh].key = amqp_cstring_bytes("request_id");
		h[nh].value.kind = AMQP_FIELD_KIND_UTF8;
		h[nh++].value.value.bytes = amqp_cstring_bytes(m->request_id);
	}
	if (m->key != NULL) {
		h[nh].key = amqp_cstring_bytes(VR_AMQP_H_CLAVE);
		h[nh].value.kind = AMQP_FIELD_KIND_UTF8;
		h[nh++].value.value.bytes = amqp_cstring_bytes(m->key);
	}
	if (m->consumer != NULL) {
		h[nh].key = amqp_cstring_bytes(VR_AMQP_H_CONSUMIDOR);
		h[nh].value.kind = AMQP_FIELD_KIND_UTF8;
		h[nh++].value.value.bytes = amqp_cstring_bytes(m->consumer);
	}
	if (m->reason != NULL) {
		h[nh].key = amqp_cstring_bytes(VR_AMQP_H_MOTIVO);
		h[nh].value.kind = AMQP_FIELD_KIND_UTF8;
		h[nh++].value.value.bytes = amqp_cstring_bytes(m->reason);
	}
	if (m->attempt > 0) {
		h[nh].key = amqp_cstring_bytes(VR_AMQP_H_INTENTO);
		h[nh].value.kind = AMQP_FIELD_KIND_I32;
		h[nh++].value.value.i32 = m->attempt;
	}
	p.headers.num_entries = nh;
	p.headers.entries = h;
	st = amqp_basic_publish(a->conn, AMQP_CHANNEL,
	    amqp_cstring_bytes(exchange), amqp_cstring_bytes(key), 0, 0, &p,
	    (amqp_bytes_t){ m->len, (void *)m->body });
	if (st != AMQP_STATUS_OK) {
		snprintf(a->err, sizeof(a->err), "publish: %s",
		    amqp_error_string2(st));
		a->open = 0;
		return VR_EUNAVAIL;
	}
	if (a->confirms)
		answer_slot(a);
	if (tag != NULL)
		*tag = a->next_tag;
	a->next_tag++;
	return 0;
}

static long long
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The answers of tags first .. first + n - 1 into status; how many are
 * still awaited.  A tag forgotten before was answered and asked for. */
static size_t
copy_answers(const struct vr_amqp *a, uint64_t first, size_t n,
    unsigned char *status)
{
	size_t left = 0, i;
	uint64_t t;

	for (i = 0; i < n; i++) {
		t = first + i;
		if (t >= a->base && t < a->next_tag && status[i] == 0)
			status[i] = a->answer[t - a->base];
		left += status[i] == 0;
	}
	return left;
}

/*
 * Wait until each of the n publishes with tags first .. first + n - 1
 * was acked (status[i] = VR_AMQP_ACKED) or nacked (VR_AMQP_NACKED), at
 * most timeout_ms.  0 when all were answered, VR_ETIMEOUT, VR_EUNAVAIL
 * when the connection or channel failed (the answered ones are marked).
 * Answers to later tags that arrive meanwhile are kept for the call
 * that asks for them; those before first are forgotten.
 */
int
vr_amqp_confirms(struct vr_amqp *a, uint64_t first, size_t n,
    unsigned char *status, int timeout_ms)
{
	long long deadline = mono_ms() + timeout_ms;
	amqp_frame_t f;
	struct timeval tv;
	long long now;
	int st;

	forget_before(a, first);
	for (;;) {
		if (copy_answers(a, first, n, status) == 0)
			return 0;
		now = mono_ms();
		if (now >= deadline) {
			snprintf(a->err, sizeof(a->err), "confirms: timeout");
			return VR_ETIMEOUT;
		}
		timeval_ms(&tv, (int)(deadline - now));
		st = amqp_simple_wait_frame_noblock(a->conn, &f, &tv);
		if (st == AMQP_STATUS_TIMEOUT)
			continue;
		if (st != AMQP_STATUS_OK) {
			snprintf(a->err, sizeof(a->err), "confirms: %s",
			    amqp_error_string2(st));
			a->open = 0;
			return VR_EUNAVAIL;
		}
		if (note_frame(a, &f, "confirms") != 0)
			return VR_EUNAVAIL;
		amqp_maybe_release_buffers(a->conn);
	}
}

/*
 * Read what the broker sent while nobody waited (the socket polled
 * readable): 0 when the connection still stands, VR_EUNAVAIL when the
 * broker closed it or the socket failed.  Does not block.
 */
int
vr_amqp_poll(struct vr_amqp *a)
{
	struct timeval tv = { 0, 0 };
	amqp_frame_t f;
	int st;

	for (;;) {
		st = amqp_simple_wait_frame_noblock(a->conn, &f, &tv);
		if (st == AMQP_STATUS_TIMEOUT)
			return 0;
		if (st != AMQP_STATUS_OK) {
			snprintf(a->err, sizeof(a->err), "connection: %s",
			    amqp_error_string2(st));
			a->open = 0;
			return VR_EUNAVAIL;
		}
		/* Answers read here are kept for vr_amqp_confirms(). */
		if (note_frame(a, &f, "connection") != 0)
			return VR_EUNAVAIL;
		amqp_maybe_release_buffers(a->conn);
	}
}

/*
 * Take messages from queue on channel 1: at most prefetch unacked at a
 * time, each to be acked (vr_amqp_ack()) or rejected.  Not on a
 * connection in confirm mode (publish on another).
 */
int
vr_amqp_consume(struct vr_amqp *a, const char *queue, int prefetch,
    char *err, size_t errlen)
{
	int rc;

	amqp_basic_qos(a->conn, AMQP_CHANNEL, 0,
	    (uint16_t)(prefetch > 0 && prefetch < 65535 ? prefetch : 1), 0);
	if ((rc = rpc_ok(a, "qos", queue, err, errlen)) != 0)
		return rc;
	amqp_basic_consume(a->conn, AMQP_CHANNEL, amqp_cstring_bytes(queue),
	    amqp_empty_bytes, 0, 0, 0, amqp_empty_table);
	return rpc_ok(a, "consume", queue, err, errlen);
}

/* A string property or header value into out (cut to outlen - 1). */
static void
copy_bytes(char *out, size_t outlen, amqp_bytes_t b)
{
	size_t n = b.len < outlen - 1 ? b.len : outlen - 1;

	if (n > 0)
		memcpy(out, b.bytes, n);
	out[n] = '\0';
}

static int
field_int(const amqp_field_value_t *v, long long *out)
{
	switch (v->kind) {
	case AMQP_FIELD_KIND_I8: *out = v->value.i8; return 1;
	case AMQP_FIELD_KIND_U8: *out = v->value.u8; return 1;
	case AMQP_FIELD_KIND_I16: *out = v->value.i16; return 1;
	case AMQP_FIELD_KIND_U16: *out = v->value.u16; return 1;
	case AMQP_FIELD_KIND_I32: *out = v->value.i32; return 1;
	case AMQP_FIELD_KIND_U32: *out = v->value.u32; return 1;
	case AMQP_FIELD_KIND_I64: *out = v->value.i64; return 1;
	case AMQP_FIELD_KIND_U64: *out = (long long)v->value.u64; return 1;
	default: return 0;
	}
}

static int
field_str(const amqp_field_value_t *v, char *out, size_t outlen)
{
	if (v->kind != AMQP_FIELD_KIND_UTF8 && v->kind != AMQP_FIELD_KIND_BYTES)
		return 0;
	copy_bytes(out, outlen, v->value.bytes);
	return 1;
}

static int
key_is(const amqp_table_entry_t *e, const char *k)
{
	return e->key.len == strlen(k) && memcmp(e->key.bytes, k, e->key.len) == 0;
}

static void
read_headers(struct vr_amqp_delivery *d, const amqp_table_t *t)
{
	const amqp_table_entry_t *e;
	long long n;
	int i;

	for (i = 0; i < t->num_entries; i++) {
		e = &t->entries[i];
		if (key_is(e, "request_id") && d->request_id[0] == '\0')
			field_str(&e->value, d->request_id, sizeof(d->request_id));
		else if (key_is(e, VR_AMQP_H_CLAVE))
			field_str(&e->value, d->key, sizeof(d->key));
		else if (key_is(e, VR_AMQP_H_CONSUMIDOR))
			field_str(&e->value, d->consumer, sizeof(d->consumer));
		else if (key_is(e, VR_AMQP_H_MOTIVO))
			field_str(&e->value, d->reason, sizeof(d->reason));
		else if (key_is(e, "x-first-death-reason"))
			field_str(&e->value, d->death_reason,
			    sizeof(d->death_reason));
		else if (key_is(e, "x-first-death-queue"))
			field_str(&e->value, d->death_queue,
			    sizeof(d->death_queue));
		else if (key_is(e, VR_AMQP_H_INTENTO) && field_int(&e->value, &n))
			d->attempt = n > 0 && n < 1000000 ? (int)n : 0;
		else if (key_is(e, "version") && field_int(&e->value, &n))
			d->version = n > 0 && n < 1000000 ? (int)n : 0;
		else if (key_is(e, "x-delivery-count") &&
		    field_int(&e->value, &n))
			d->delivery_count = n;
	}
}

static void
read_delivery(struct vr_amqp_delivery *d, const amqp_envelope_t *env)
{
	const amqp_basic_properties_t *p = &env->message.properties;

	memset(d, 0, sizeof(*d));
	d->tag = env->delivery_tag;
	d->redelivered = env->redelivered;
	copy_bytes(d->exchange, sizeof(d->exchange), env->exchange);
	copy_bytes(d->routing_key, sizeof(d->routing_key), env->routing_key);
	if (p->_flags & AMQP_BASIC_MESSAGE_ID_FLAG) {
		d->has_id = 1;
		copy_bytes(d->message_id, sizeof(d->message_id), p->message_id);
	}
	if (p->_flags & AMQP_BASIC_TYPE_FLAG)
		copy_bytes(d->type, sizeof(d->type), p->type);
	if (p->_flags & AMQP_BASIC_TIMESTAMP_FLAG)
		d->timestamp = (long long)p->timestamp;
	if (p->_flags & AMQP_BASIC_HEADERS_FLAG)
		read_headers(d, &p->headers);
	if (d->request_id[0] == '\0' &&
	    (p->_flags & AMQP_BASIC_CORRELATION_ID_FLAG))
		copy_bytes(d->request_id, sizeof(d->request_id),
		    p->correlation_id);
	d->len = env->message.body.len;
	d->body = vr_xmalloc(d->len + 1);
	if (d->len > 0)
		memcpy(d->body, env->message.body.bytes, d->len);
	d->body[d->len] = '\0';
}

/*
 * The next message of the queue consumed, waiting at most timeout_ms: 0
 * (d filled), VR_ETIMEOUT when none came, VR_EUNAVAIL when the broker
 * closed the channel or the connection failed.
 */
int
vr_amqp_next(struct vr_amqp *a, int timeout_ms, struct vr_amqp_delivery *d)
{
	amqp_envelope_t env;
	amqp_rpc_reply_t r;
	amqp_frame_t f;
	struct timeval tv;
	int st;

	memset(d, 0, sizeof(*d));
	amqp_maybe_release_buffers(a->conn);
	timeval_ms(&tv, timeout_ms);
	r = amqp_consume_message(a->conn, &env, &tv, 0);
	if (r.reply_type == AMQP_RESPONSE_NORMAL) {
		read_delivery(d, &env);
		amqp_destroy_envelope(&env);
		return 0;
	}
	if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION &&
	    r.library_error == AMQP_STATUS_TIMEOUT)
		return VR_ETIMEOUT;
	if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION &&
	    r.library_error == AMQP_STATUS_UNEXPECTED_STATE) {
		/* Another method came first: a close ends the channel;
		 * anything else (a consumer cancelled by the broker, say) is
		 * read and passed over. */
		tv.tv_sec = 0;
		tv.tv_usec = 0;
		st = amqp_simple_wait_frame_noblock(a->conn, &f, &tv);
		if (st == AMQP_STATUS_TIMEOUT)
			return VR_ETIMEOUT;
		if (st == AMQP_STATUS_OK && f.frame_type == AMQP_FRAME_METHOD &&
		    f.payload.method.id == AMQP_BASIC_CANCEL_METHOD) {
			snprintf(a->err, sizeof(a->err), "consume: cancelled by "
			    "the broker (queue deleted?)");
			a->open = 0;
			return VR_EUNAVAIL;
		}
		if (st == AMQP_STATUS_OK && !(f.frame_type == AMQP_FRAME_METHOD &&
		    (f.payload.method.id == AMQP_CHANNEL_CLOSE_METHOD ||
		    f.payload.method.id == AMQP_CONNECTION_CLOSE_METHOD)))
			return VR_ETIMEOUT;
		snprintf(a->err, sizeof(a->err), "consume: closed by the broker");
		a->open = 0;
		return VR_EUNAVAIL;
	}
	reply_err(r, "consume", a->err, sizeof(a->err));
	a->open = 0;
	return VR_EUNAVAIL;
}

void
vr_amqp_delivery_free(struct vr_amqp_delivery *d)
{
	free(d->body);
	d->body = NULL;
	d->len = 0;
}

int
vr_amqp_ack(struct vr_amqp *a, uint64_t tag)
{
	if (amqp_basic_ack(a->conn, AMQP_CHANNEL, tag, 0) != AMQP_STATUS_OK) {
		snprintf(a->err, sizeof(a->err), "ack: connection lost");
		a->open = 0;
		return VR_EUNAVAIL;
	}
	return 0;
}

/* Give a message back (requeue) or let the queue dead-letter it. */
int
vr_amqp_reject(struct vr_amqp *a, uint64_t tag, int requeue)
{
	if (amqp_basic_reject(a->conn, AMQP_CHANNEL, tag, requeue != 0) !=
	    AMQP_STATUS_OK) {
		snprintf(a->err, sizeof(a->err), "reject: connection lost");
		a->open = 0;
		return VR_EUNAVAIL;
	}
	return 0;
}

/* Messages ready in queue and its consumers (a passive declare). */
int
vr_amqp_queue_depth(struct vr_amqp *a, const char *queue,
    long long *messages, long long *consumers)
{
	amqp_queue_declare_ok_t *ok;

	ok = amqp_queue_declare(a->conn, AMQP_CHANNEL, amqp_cstring_bytes(queue),
	    1, 0, 0, 0, amqp_empty_table);
	if (ok == NULL) {
		reply_err(amqp_get_rpc_reply(a->conn), "depth", a->err,
		    sizeof(a->err));
		a->open = 0;
		return VR_EUNAVAIL;
	}
	*messages = ok->message_count;
	*consumers = ok->consumer_count;
	return 0;
}

const char *
vr_amqp_error(const struct vr_amqp *a)
{
	return a->err;
}

/* The connection's socket, to poll() on beside others; -1 if none. */
int
vr_amqp_fd(const struct vr_amqp *a)
{
	return a != NULL && a->conn != NULL ? amqp_get_sockfd(a->conn) : -1;
}
