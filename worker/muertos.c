/*
 * muertos.c - the consumer "muertos": drains the broker's vetred.muertos
 * queue into eventos_muertos.  Two kinds of message land there: those a
 * consumer of the runtime gave up on (headers consumidor, motivo,
 * intento: lib/worker.c) and those a work queue dead-lettered itself (its
 * delivery limit reached: the broker's x-first-death-* headers say
 * which queue and why).  Raw: any message is kept, whatever its shape;
 * registrar_muerto() keys it by consumer, id and body, so a redelivered
 * one updates its row.
 */
#include <stdio.h>
#include <string.h>

#include "worker.h"

enum { M_KEEP, M__MAX };

static const char *const m_sql[M__MAX] = {
	[M_KEEP] = "SELECT registrar_muerto($1, $2, nullif($3, ''), "
	    "nullif($4, ''), nullif($5, ''), nullif($6, ''), $7, $8::int, "
	    "$9::int, $10::bytea)",
};

/* The broker's reason for dead-lettering, in the operator's words. */
static const char *
broker_reason(const char *r)
{
	if (strcmp(r, "delivery_limit") == 0)
		return "la cola lo entregó el máximo de veces sin respuesta "
		    "(el consumidor se detuvo con él cada vez)";
	if (strcmp(r, "rejected") == 0)
		return "un consumidor lo rechazó";
	if (strcmp(r, "expired") == 0)
		return "venció en la cola";
	if (strcmp(r, "maxlen") == 0)
		return "la cola estaba llena";
	return "la cola lo descartó";
}

static int
keep(struct vr_work *w, const struct vr_message *m, char *reason,
    size_t rlen)
{
	const struct vr_amqp_delivery *d = m->d;
	struct vr_buf h;
	char huella[65], intentos[16], tamano[24], motivo[1100];
	const char *consumidor, *p[10];
	int len[10], fmt[10];
	PGresult *res = NULL;
	long long tries;
	int rc, i;

	(void)reason;
	(void)rlen;
	consumidor = d->consumer[0] != '\0' ? d->consumer :
	    d->death_queue[0] != '\0' ? d->death_queue : "desconocido";
	if (d->reason[0] != '\0')
		snprintf(motivo, sizeof(motivo), "%s", d->reason);
	else
		snprintf(motivo, sizeof(motivo), "%s (%s)",
		    broker_reason(d->death_reason), d->death_reason[0] != '\0' ?
		    d->death_reason : "sin motivo");
	tries = d->attempt > 0 ? d->attempt : d->delivery_count;
	snprintf(intentos, sizeof(intentos), "%lld", tries);
	snprintf(tamano, sizeof(tamano), "%zu", d->len);
	vr_buf_init(&h);
	vr_buf_append(&h, consumidor, strlen(consumidor) + 1);
	vr_buf_append(&h, d->message_id, strlen(d->message_id) + 1);
	vr_buf_append(&h, d->body, d->len);
	vr_sha256_hex(h.data, h.len, huella);
	vr_buf_free(&h);
	p[0] = huella;
	p[1] = consumidor;
	p[2] = d->has_id ? d->message_id : "";
	p[3] = d->type;
	p[4] = d->key[0] != '\0' ? d->key : d->routing_key;
	p[5] = d->request_id;
	p[6] = motivo;
	p[7] = intentos;
	p[8] = tamano;
	p[9] = d->body;
	for (i = 0; i < 10; i++) {
		len[i] = 0;
		fmt[i] = 0;
	}
	/* The body as bytes: it may be anything. */
	len[9] = d->len > 65536 ? 65536 : (int)d->len;
	fmt[9] = 1;
	/* Text parameters must be UTF-8: the broker's strings may not be. */
	for (i = 1; i < 7; i++)
		if (!vr_utf8_valid(p[i], strlen(p[i])))
			p[i] = i == 1 ? "desconocido" : i == 6 ? "sin motivo" : "";
	if ((rc = vr_work_exec_fmt(w, M_KEEP, 10, p, len, fmt, &res)) != 0)
		return rc;
	{
		struct vr_log_field f[] = {
			VR_LF_STR("id", PQgetvalue(res, 0, 0)),
			VR_LF_STR("consumidor", p[1]),
			VR_LF_STR("evento_id", p[2]),
			VR_LF_STR("motivo", p[6]),
		};
		vr_log_fields(VR_LOG_WARN, m->request_id, "dead letter kept", f,
		    VR_NFIELDS(f));
	}
	PQclear(res);
	return VR_HECHO;
}

static const struct vr_handler handlers[] = {
	{ "*", keep },
};

const struct vr_consumer wk_muertos = {
	.name = "muertos",
	.queue = VR_AMQP_MUERTOS,
	.handlers = handlers,
	.nhandlers = 1,
	.sql = m_sql,
	.nsql = M__MAX,
	.raw = 1,
};
