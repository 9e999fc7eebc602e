/*
 * worker.c - the runtime every consumer process runs on: a consumer is a
 * table of handlers keyed by routing key (struct vr_consumer), and
 * vr_worker_run() does the rest.
 *
 * One thread per consumer, each with a database connection and two
 * broker connections: one consumes its work queue (prefetch, manual
 * ack), one publishes retries and dead letters with confirms.  Both are
 * opened again, with back-off, when they fail; the topology is declared
 * on every connect.
 *
 * A message, in order:
 *   - over VETRED_WORKER_MAX_BYTES, no message_id that is a uuid, no
 *     handler for its key, a body that is not a JSON object: dead at once
 *     (no later attempt could do better);
 *   - BEGIN; tomar_evento(queue, id): false means this consumer handled
 *     it before (a redelivery): ROLLBACK, ack, nothing else;
 *   - the handler, in that transaction.  Its verdict:
 *       VR_HECHO        COMMIT, then ack;
 *       VR_REINTENTAR   ROLLBACK; a copy goes to the retry exchange of
 *                       its attempt (5 s, 30 s, 5 min: vr_amqp_retries)
 *                       with routing key = the work queue and header
 *                       intento + 1, confirmed, then the original is
 *                       acked; past VETRED_WORKER_MAX_ATTEMPTS it is dead;
 *       VR_DESCARTAR    ROLLBACK; dead.
 *   - dead: a copy with headers motivo and consumidor goes to
 *     vetred.muertos (vetred-worker keeps it in eventos_muertos),
 *     confirmed, then the original is acked.
 * The database unreachable (before or during a handler): the message is
 * held, not acked, and tried again once the database answers; nothing is
 * burnt.  A process killed mid-message never acked it: the broker
 * delivers it again, and the work queue's delivery limit dead-letters one
 * that kills its consumer every time.
 *
 * A "raw" consumer (the dead-letter drain) gets every message as it is,
 * with no checks and no processed mark: its handler's effect must be
 * idempotent by itself.
 *
 * One JSON log line per message handled, with the event's request id.
 * SIGTERM or SIGINT: each thread finishes the message in flight, closes
 * its connections (what was prefetched goes back to the queue) and
 * vr_worker_run() returns.  The monitoring listener (/health, /ready,
 * /metrics) is the runtime's too.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vr.h"

#define POLL_MS		250	/* the longest a thread waits for a message */
#define DEPTH_EVERY_S	5	/* how often the queue depth is read */
#define BACKOFF_MIN_MS	100

#define WS(n, d, f, doc)	VR_CFG_S(n, d, struct vr_worker_config, f, doc)
#define WN(n, t, d, lo, hi, f, doc) \
	VR_CFG_N(n, t, d, lo, hi, struct vr_worker_config, f, doc)

const struct vr_cfg_var vr_worker_vars[] = {
	WS("VETRED_WORKER_INSTANCE", "worker", instance,
	    "this worker process's name in logs and metrics"),
	WS("VETRED_WORKER_METRICS_ADDR", "127.0.0.1:9130", metrics_addr,
	    "a worker's monitoring listener (/health, /ready, /metrics); "
	    "off: none"),
	WN("VETRED_WORKER_PREFETCH", VR_CFG_INT, 16, 1, 1000, prefetch,
	    "messages a consumer holds unacked at a time"),
	WN("VETRED_WORKER_MAX_ATTEMPTS", VR_CFG_INT, 4, 1, 20, max_attempts,
	    "attempts of a message whose handler asks to retry (after 5 s, "
	    "30 s, 5 min) before it is dead-lettered"),
	WN("VETRED_WORKER_MAX_BYTES", VR_CFG_LONG, 1048576, 256, 67108864,
	    max_bytes, "largest message body handled; a larger one is "
	    "dead-lettered"),
	WN("VETRED_WORKER_BACKOFF_MAX_MS", VR_CFG_INT, 5000, 100, 60000,
	    backoff_max_ms, "longest pause between attempts to reach the "
	    "broker or the database"),
};
const size_t vr_worker_nvars = sizeof(vr_worker_vars) / sizeof(vr_worker_vars[0]);

/* The table, then "off" for no listener and the instance's form. */
int
vr_worker_config_load(struct vr_worker_config *c, char *err, size_t errlen)
{
	int rc;

	memset(c, 0, sizeof(*c));
	if ((rc = vr_config_parse(c, vr_worker_vars, vr_worker_nvars, err,
	    errlen)) < 0)
		return rc;
	return vr_config_monitor(c->instance, "VETRED_WORKER_INSTANCE", &c->metrics_addr, err,
	    errlen);
}

/* The runtime's statements, before the consumer's own. */
enum { W_TAKE, W_DEAD, W__MAX };

static const char *const w_sql[W__MAX] = {
	[W_TAKE] = "SELECT tomar_evento($1, $2::uuid)",
	[W_DEAD] = "SELECT registrar_muerto($1, $2, $3, $4, $5, $6, $7, "
	    "$8::int, $9::int, $10::bytea)",
};

/* Upper bounds (seconds) of the handler duration histogram. */
const double vr_worker_buckets[VR_WORKER_NBUCKETS] = {
	0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
	10, 30
};

struct vr_work {
	struct vr_worker		*wk;
	const struct vr_consumer	*c;
	struct vr_consumer_stats	*st;
	struct vr_db			 db;
	char				**sql;	/* w_sql + the consumer's */
	struct vr_amqp			*in;	/* consumes */
	struct vr_amqp			*out;	/* publishes, confirms */
	int				 backoff_ms;
	time_t				 depth_at;
	char				 queue[128];
	char				 err[256];
};

struct vr_worker {
	const struct vr_config		*cfg;
	const struct vr_worker_config	*wc;
	const struct vr_consumer	*cs;
	size_t				 n;
	struct vr_consumer_stats	*st;
	volatile sig_atomic_t		*stopping;
	struct vr_httpd			*httpd;
	const char			*service;
};

static volatile sig_atomic_t own_stop;

static void
on_signal(int sig)
{
	(void)sig;
	own_stop = 1;
}

static double
mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
nap_ms(struct vr_work *w, int ms)
{
	struct timespec ts;

	/* In steps, so that a stop is seen within POLL_MS. */
	while (ms > 0 && !*w->wk->stopping) {
		int step = ms < POLL_MS ? ms : POLL_MS;

		ts.tv_sec = step / 1000;
		ts.tv_nsec = (long)(step % 1000) * 1000000L;
		nanosleep(&ts, NULL);
		ms -= step;
	}
}

static void
backoff(struct vr_work *w)
{
	nap_ms(w, w->backoff_ms);
	w->backoff_ms = w->backoff_ms * 2 > w->wk->wc->backoff_max_ms ?
	    w->wk->wc->backoff_max_ms : w->backoff_ms * 2;
}

/* The queue a consumer reads: its own, or the one it names. */
const char *
vr_consumer_queue(const struct vr_consumer *c, char *buf, size_t len)
{
	if (c->queue != NULL)
		snprintf(buf, len, "%s", c->queue);
	else
		snprintf(buf, len, "vetred.%s", c->name);
	return buf;
}

static void
stat_set(struct vr_work *w, int *field, int v)
{
	pthread_mutex_lock(&w->st->lock);
	*field = v;
	pthread_mutex_unlock(&w->st->lock);
}

static void
drop_broker(struct vr_work *w, const char *why)
{
	if (w->in != NULL || w->out != NULL) {
		vr_log(VR_LOG_WARN, NULL, "broker connection lost", "consumer",
		    w->c->name, "error", why != NULL ? why : "", NULL);
		pthread_mutex_lock(&w->st->lock);
		w->st->broker_failures++;
		pthread_mutex_unlock(&w->st->lock);
	}
	vr_amqp_close(w->in);
	vr_amqp_close(w->out);
	w->in = w->out = NULL;
	stat_set(w, &w->st->broker_up, 0);
}

/* Both connections, the topology, the work queue and the consumer. */
static int
ensure_broker(struct vr_work *w)
{
	const struct vr_consumer *c = w->c;
	const char *keys[VR_WORKER_MAX_HANDLERS + 1];
	char name[200];
	size_t i;

	if (w->in != NULL && w->out != NULL)
		return 0;
	drop_broker(w, NULL);
	snprintf(name, sizeof(name), "%s %s %s", w->wk->service,
	    w->wk->wc->instance, c->name);
	if (vr_amqp_connect(&w->in, w->wk->cfg->amqp_url, name, 5000, w->err,
	    sizeof(w->err)) != 0 ||
	    vr_amqp_declare(w->in, w->err, sizeof(w->err)) != 0)
		goto fail;
	if (c->exchange != NULL) {
		for (i = 0; i < c->nhandlers && i < VR_WORKER_MAX_HANDLERS; i++)
			keys[i] = c->handlers[i].key;
		keys[i] = NULL;
		if (vr_amqp_declare_work_queue(w->in, w->queue, c->exchange,
		    keys, VR_AMQP_DELIVERY_LIMIT, w->err, sizeof(w->err)) != 0)
			goto fail;
	}
	if (vr_amqp_consume(w->in, w->queue, w->wk->wc->prefetch, w->err,
	    sizeof(w->err)) != 0)
		goto fail;
	if (vr_amqp_connect(&w->out, w->wk->cfg->amqp_url, name, 5000, w->err,
	    sizeof(w->err)) != 0 ||
	    vr_amqp_confirm_select(w->out, w->err, sizeof(w->err)) != 0)
		goto fail;
	pthread_mutex_lock(&w->st->lock);
	w->st->broker_up = 1;
	w->st->broker_connects++;
	pthread_mutex_unlock(&w->st->lock);
	w->backoff_ms = BACKOFF_MIN_MS;
	vr_log(VR_LOG_INFO, NULL, "consuming", "consumer", c->name, "queue",
	    w->queue, NULL);
	return 0;
fail:
	vr_log(VR_LOG_WARN, NULL, "broker unavailable", "consumer", c->name,
	    "error", w->err, NULL);
	vr_amqp_close(w->in);
	vr_amqp_close(w->out);
	w->in = w->out = NULL;
	pthread_mutex_lock(&w->st->lock);
	w->st->broker_failures++;
	pthread_mutex_unlock(&w->st->lock);
	return VR_EUNAVAIL;
}

static int
ensure_db(struct vr_work *w)
{
	int rc = vr_db_ensure(&w->db);

	stat_set(w, &w->st->db_up, rc == 0);
	return rc;
}

/* The handler of key, or -1. */
static int
find_handler(const struct vr_consumer *c, const char *key)
{
	size_t i;

	for (i = 0; i < c->nhandlers; i++)
		if (strcmp(c->handlers[i].key, key) == 0)
			return (int)i;
	return -1;
}

static int
is_uuid(const char *s)
{
	static const char pat[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";
	size_t i;

	for (i = 0; pat[i] != '\0'; i++) {
		if (pat[i] == '-' ? s[i] != '-' :
		    !((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f') || (s[i] >= 'A' && s[i] <= 'F')))
			return 0;
	}
	return s[i] == '\0';
}

int
vr_work_exec(struct vr_work *w, int stmt, int nparams,
    const char *const *params, PGresult **out)
{
	return vr_db_exec(&w->db, W__MAX + stmt, nparams, params, out);
}

int
vr_work_exec_fmt(struct vr_work *w, int stmt, int nparams,
    const char *const *params, const int *lengths, const int *formats,
    PGresult **out)
{
	return vr_db_exec_fmt(&w->db, W__MAX + stmt, nparams, params, lengths,
	    formats, 1, out);
}

void *
vr_work_arg(const struct vr_work *w)
{
	return w->c->arg;
}

const char *
vr_work_db_error(const struct vr_work *w)
{
	return w->db.errmsg;
}

/* Verdict counters: slot i the handler's key, nhandlers the unknown. */
static void
count(struct vr_work *w, int slot, int verdict)
{
	struct vr_consumer_stats *st = w->st;

	if (slot < 0 || (size_t)slot > w->c->nhandlers)
		slot = (int)w->c->nhandlers;
	pthread_mutex_lock(&st->lock);
	switch (verdict) {
	case VR_HECHO: st->done[slot]++; break;
	case VR_REINTENTAR: st->retried[slot]++; break;
	case VR_DESCARTAR: st->dead[slot]++; break;
	default: st->duplicates[slot]++; break;
	}
	pthread_mutex_unlock(&st->lock);
}

/* One handler run of that many seconds, into the histogram. */
static void
observe(struct vr_work *w, double seconds)
{
	struct vr_consumer_stats *st = w->st;
	int i;

	pthread_mutex_lock(&st->lock);
	st->dur_count++;
	st->dur_sum += seconds;
	for (i = 0; i < VR_WORKER_NBUCKETS; i++)
		if (seconds <= vr_worker_buckets[i])
			st->dur_bucket[i]++;
	pthread_mutex_unlock(&st->lock);
}

/*
 * A copy of d to exchange under key, with the headers of a retry or a
 * dead letter, confirmed: 0, or VR_EUNAVAIL (the original is then not
 * acked, and comes again).
 */
static int
republish(struct vr_work *w, const struct vr_amqp_delivery *d,
    const char *exchange, const char *rkey, const char *key, int attempt,
    const char *reason)
{
	struct vr_amqp_msg m;
	unsigned char status = 0;
	uint64_t tag;

	memset(&m, 0, sizeof(m));
	m.message_id = d->has_id ? d->message_id : NULL;
	m.type = d->type[0] != '\0' ? d->type : NULL;
	m.request_id = d->request_id;
	m.version = d->version;
	m.timestamp = d->timestamp;
	m.app_id = w->wk->service;
	m.key = key;
	m.consumer = w->queue;
	m.reason = reason;
	m.attempt = attempt;
	m.body = d->body;
	m.len = d->len;
	if (vr_amqp_publish(w->out, exchange, rkey, &m, &tag) != 0 ||
	    vr_amqp_confirms(w->out, tag, 1, &status, 5000) != 0 ||
	    status != VR_AMQP_ACKED) {
		drop_broker(w, w->out != NULL ? vr_amqp_error(w->out) :
		    "publish failed");
		return VR_EUNAVAIL;
	}
	return 0;
}

static void
log_message(struct vr_work *w, const struct vr_amqp_delivery *d,
    const char *key, const char *verdict, int attempt, double ms,
    const char *reason)
{
	struct vr_log_field f[] = {
		VR_LF_STR("consumer", w->c->name),
		VR_LF_STR("key", key),
		VR_LF_STR("event_id", d->message_id),
		VR_LF_STR("verdict", verdict),
		VR_LF_INT("attempt", attempt),
		VR_LF_DBL("ms", ms),
		VR_LF_BOOL("redelivered", d->redelivered),
		VR_LF_STR("reason", reason != NULL ? reason : ""),
	};

	vr_log_fields(reason != NULL && *reason != '\0' ? VR_LOG_WARN :
	    VR_LOG_INFO, d->request_id[0] != '\0' ? d->request_id : NULL,
	    "message handled", f, reason != NULL && *reason != '\0' ? 8 : 7);
}

/* Dead: a copy to vetred.muertos, then the original acked. */
static int
bury(struct vr_work *w, const struct vr_amqp_delivery *d, const char *key,
    int attempt, const char *reason, int slot, double t0)
{
	if (republish(w, d, VR_AMQP_MUERTOS, "", key, attempt, reason) != 0)
		return VR_EUNAVAIL;
	if (vr_amqp_ack(w->in, d->tag) != 0) {
		drop_broker(w, vr_amqp_error(w->in));
		return VR_EUNAVAIL;
	}
	count(w, slot, VR_DESCARTAR);
	log_message(w, d, key, "dead", attempt, (mono_s() - t0) * 1e3, reason);
	return 0;
}

static int
ack(struct vr_work *w, const struct vr_amqp_delivery *d)
{
	if (vr_amqp_ack(w->in, d->tag) != 0) {
		drop_broker(w, vr_amqp_error(w->in));
		return VR_EUNAVAIL;
	}
	return 0;
}

/*
 * One attempt of the handler in its transaction: the verdict, 3 for a
 * redelivery already handled, or VR_EUNAVAIL when the database went away
 * (nothing committed; try again when it is back).
 */
static int
attempt_once(struct vr_work *w, const struct vr_handler *h,
    const struct vr_message *m, char *reason, size_t rlen)
{
	const char *p[2];
	PGresult *res = NULL;
	int rc, v;

	if (vr_db_begin(&w->db) != 0)
		return VR_EUNAVAIL;
	if (!w->c->raw) {
		p[0] = w->queue;
		p[1] = m->id;
		if ((rc = vr_db_exec(&w->db, W_TAKE, 2, p, &res)) != 0) {
			vr_db_rollback(&w->db);
			if (rc == VR_EUNAVAIL)
				return rc;
			snprintf(reason, rlen, "no se pudo marcar el evento: %s",
			    w->db.errmsg);
			return VR_REINTENTAR;
		}
		if (strcmp(PQgetvalue(res, 0, 0), "t") != 0) {
			PQclear(res);
			vr_db_rollback(&w->db);
			return 3;
		}
		PQclear(res);
	}
	v = h->fn(w, m, reason, rlen);
	if (v == VR_HECHO) {
		if ((rc = vr_db_commit(&w->db)) == 0)
			return VR_HECHO;
		if (rc == VR_EUNAVAIL)
			return rc;
		snprintf(reason, rlen, "commit: %s", w->db.errmsg);
		return VR_REINTENTAR;
	}
	vr_db_rollback(&w->db);
	if (v == VR_EUNAVAIL || (v < 0 && PQstatus(w->db.conn) != CONNECTION_OK))
		return VR_EUNAVAIL;
	if (v < 0) {
		if (reason[0] == '\0')
			snprintf(reason, rlen, "%s", w->db.errmsg[0] != '\0' ?
			    w->db.errmsg : vr_strerror(v));
		return VR_REINTENTAR;
	}
	if (v != VR_REINTENTAR && v != VR_DESCARTAR)
		v = VR_REINTENTAR;
	if (reason[0] == '\0')
		snprintf(reason, rlen, "%s", v == VR_DESCARTAR ?
		    "el manejador lo descartó" : "el manejador pidió reintentar");
	return v;
}

/*
 * Handle one delivery, to its end: acked (done, duplicate, retried, dead)
 * or, when the broker failed, not acked (it comes again).
 */
static void
handle(struct vr_work *w, struct vr_amqp_delivery *d)
{
	const struct vr_consumer *c = w->c;
	struct vr_message m;
	char reason[1001], why[1100];
	const char *key = d->key[0] != '\0' ? d->key : d->routing_key;
	double t0 = mono_s(), th;
	int slot, attempt = d->attempt > 0 ? d->attempt : 1, v = VR_EUNAVAIL;
	cJSON *json = NULL;

	memset(&m, 0, sizeof(m));
	m.d = d;
	m.id = d->message_id;
	m.key = key;
	m.request_id = d->request_id[0] != '\0' ? d->request_id : NULL;
	m.attempt = attempt;
	m.body = d->body;
	m.len = d->len;
	slot = c->raw ? 0 : find_handler(c, key);
	if (!c->raw && d->len > (size_t)w->wk->wc->max_bytes) {
		snprintf(why, sizeof(why), "demasiado grande: %zu bytes (máximo "
		    "%ld)", d->len, w->wk->wc->max_bytes);
		(void)bury(w, d, key, attempt, why, slot, t0);
		return;
	}
	json = cJSON_ParseWithLength(d->body, d->len);
	if (!c->raw) {
		why[0] = '\0';
		if (!d->has_id || d->message_id[0] == '\0')
			snprintf(why, sizeof(why), "sin id de evento (message_id)");
		else if (!is_uuid(d->message_id))
			snprintf(why, sizeof(why), "el message_id no es un uuid");
		else if (slot < 0)
			snprintf(why, sizeof(why), "tipo desconocido para %s: %.200s",
			    c->name, key);
		else if (!cJSON_IsObject(json))
			snprintf(why, sizeof(why), "el cuerpo no es un objeto JSON");
		if (why[0] != '\0') {
			cJSON_Delete(json);
			(void)bury(w, d, key, attempt, why, slot, t0);
			return;
		}
	}
	m.json = cJSON_IsObject(json) ? json : NULL;
	m.datos = m.json != NULL ?
	    cJSON_GetObjectItemCaseSensitive(m.json, "datos") : NULL;
	for (;;) {
		if (ensure_db(w) != 0) {
			if (*w->wk->stopping)
				break;
			backoff(w);
			continue;
		}
		reason[0] = '\0';
		th = mono_s();
		v = attempt_once(w, &c->handlers[slot], &m, reason,
		    sizeof(reason));
		/* A raw consumer has nowhere to send what it could not
		 * handle: it holds the message until it can. */
		if (v != VR_EUNAVAIL && !(c->raw && v != VR_HECHO))
			break;
		vr_log(VR_LOG_WARN, m.request_id, v == VR_EUNAVAIL ?
		    "database unavailable: the message waits" :
		    "message not handled: it waits", "consumer", c->name,
		    "error", v == VR_EUNAVAIL ? w->db.errmsg : reason, NULL);
		v = VR_EUNAVAIL;
		stat_set(w, &w->st->db_up, 0);
		if (*w->wk->stopping)
			break;
		backoff(w);
	}
	if (v == VR_EUNAVAIL) {
		/* Stopping with the database away: not acked, it comes
		 * again to whoever consumes next. */
		cJSON_Delete(json);
		return;
	}
	w->backoff_ms = BACKOFF_MIN_MS;
	if (v != 3)
		observe(w, mono_s() - th);
	if (v == VR_HECHO || v == 3) {
		if (ack(w, d) == 0) {
			count(w, slot, v);
			log_message(w, d, key, v == VR_HECHO ? "done" : "duplicate",
			    attempt, (mono_s() - t0) * 1e3, NULL);
		}
	} else {
		if (c->failed != NULL && !c->raw && ensure_db(w) == 0)
			c->failed(w, &m, reason);
		if (v == VR_REINTENTAR && attempt < w->wk->wc->max_attempts) {
			size_t r = (size_t)attempt - 1 < vr_amqp_nretries ?
			    (size_t)attempt - 1 : vr_amqp_nretries - 1;

			if (republish(w, d, vr_amqp_retries[r].exchange, w->queue,
			    key, attempt + 1, reason) == 0 && ack(w, d) == 0) {
				count(w, slot, VR_REINTENTAR);
				log_message(w, d, key, "retry", attempt,
				    (mono_s() - t0) * 1e3, reason);
			}
		} else {
			if (v == VR_REINTENTAR)
				snprintf(why, sizeof(why), "agotó %d intentos: %s",
				    attempt, reason);
			else
				snprintf(why, sizeof(why), "%s", reason);
			(void)bury(w, d, key, attempt, why, slot, t0);
		}
	}
	cJSON_Delete(json);
}

static void
read_depth(struct vr_work *w)
{
	long long msgs = 0, consumers = 0;
	time_t now = time(NULL);

	if (now - w->depth_at < DEPTH_EVERY_S || w->out == NULL)
		return;
	w->depth_at = now;
	if (vr_amqp_queue_depth(w->out, w->queue, &msgs, &consumers) != 0) {
		drop_broker(w, vr_amqp_error(w->out));
		return;
	}
	pthread_mutex_lock(&w->st->lock);
	w->st->depth = msgs;
	w->st->consumers = consumers;
	pthread_mutex_unlock(&w->st->lock);
}

static void *
consumer_main(void *arg)
{
	struct vr_work *w = arg;
	struct vr_amqp_delivery d;
	int rc;

	while (!*w->wk->stopping) {
		if (ensure_db(w) != 0 || ensure_broker(w) != 0) {
			backoff(w);
			continue;
		}
		read_depth(w);
		if (w->in == NULL)
			continue;
		rc = vr_amqp_next(w->in, POLL_MS, &d);
		if (rc == VR_ETIMEOUT)
			continue;
		if (rc != 0) {
			drop_broker(w, vr_amqp_error(w->in));
			continue;
		}
		handle(w, &d);
		vr_amqp_delivery_free(&d);
	}
	drop_broker(w, NULL);
	return NULL;
}

/* ---- monitoring ------------------------------------------------------ */

#define PROM_TYPE	"text/plain; version=0.0.4; charset=utf-8"
#define JSON_TYPE	"application/json; charset=utf-8"

static int
route_health(void *arg, struct vr_buf *b, const char **ctype)
{
	(void)arg;
	*ctype = JSON_TYPE;
	vr_buf_puts(b, "{\"status\":\"ok\"}\n");
	return 200;
}

/* Ready when every consumer has its database and broker. */
static int
route_ready(void *arg, struct vr_buf *b, const char **ctype)
{
	struct vr_worker *wk = arg;
	size_t i;
	int ok = 1, db, br;

	*ctype = JSON_TYPE;
	vr_buf_puts(b, "{\"consumidores\":{");
	for (i = 0; i < wk->n; i++) {
		pthread_mutex_lock(&wk->st[i].lock);
		db = wk->st[i].db_up;
		br = wk->st[i].broker_up;
		pthread_mutex_unlock(&wk->st[i].lock);
		ok = ok && db && br;
		vr_buf_printf(b, "%s\"%s\":{\"database\":%s,\"broker\":%s}",
		    i ? "," : "", wk->cs[i].name, db ? "true" : "false",
		    br ? "true" : "false");
	}
	vr_buf_printf(b, "},\"status\":\"%s\"}\n", ok ? "ready" : "unavailable");
	return ok ? 200 : 503;
}

static void
family(struct vr_buf *b, const char *name, const char *type,
    const char *help)
{
	vr_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static int
route_metrics(void *arg, struct vr_buf *b, const char **ctype)
{
	struct vr_worker *wk = arg;
	struct vr_consumer_stats s;
	const char *inst = wk->wc->instance, *key;
	static const struct {
		const char *name, *help;
		size_t off;
	} verdicts[] = {
		{ "vetred_worker_messages_done_total", "Messages handled "
		  "(effect committed), by consumer and key.",
		  offsetof(struct vr_consumer_stats, done) },
		{ "vetred_worker_messages_duplicate_total", "Redeliveries of "
		  "messages already handled, acked with no effect.",
		  offsetof(struct vr_consumer_stats, duplicates) },
		{ "vetred_worker_messages_retried_total", "Messages sent to a "
		  "delayed retry.", offsetof(struct vr_consumer_stats, retried) },
		{ "vetred_worker_messages_dead_total", "Messages dead-lettered "
		  "(vetred.muertos).", offsetof(struct vr_consumer_stats, dead) },
	};
	size_t i, j, k, v;
	long long cum;

	*ctype = PROM_TYPE;
	vr_metrics_build_info(b, wk->service, vr_version());
	vr_metrics_process(b);
	for (v = 0; v < sizeof(verdicts) / sizeof(verdicts[0]); v++) {
		family(b, verdicts[v].name, "counter", verdicts[v].help);
		for (i = 0; i < wk->n; i++) {
			pthread_mutex_lock(&wk->st[i].lock);
			s = wk->st[i];
			pthread_mutex_unlock(&wk->st[i].lock);
			for (j = 0; j <= wk->cs[i].nhandlers; j++) {
				const long long *a = (const long long *)
				    ((const char *)&s + verdicts[v].off);

				key = j < wk->cs[i].nhandlers ?
				    wk->cs[i].handlers[j].key : "desconocido";
				vr_buf_printf(b, "%s{instance=\"%s\",consumer=\"%s\","
				    "key=\"%s\"} %lld\n", verdicts[v].name, inst,
				    wk->cs[i].name, key, a[j]);
			}
		}
	}
	family(b, "vetred_worker_handler_duration_seconds", "histogram",
	    "Time a handler took, its transaction included.");
	for (i = 0; i < wk->n; i++) {
		pthread_mutex_lock(&wk->st[i].lock);
		s = wk->st[i];
		pthread_mutex_unlock(&wk->st[i].lock);
		for (k = 0; k < VR_WORKER_NBUCKETS; k++) {
			cum = s.dur_bucket[k];
			vr_buf_printf(b, "vetred_worker_handler_duration_seconds_"
			    "bucket{instance=\"%s\",consumer=\"%s\",le=\"%g\"} "
			    "%lld\n", inst, wk->cs[i].name, vr_worker_buckets[k],
			    cum);
		}
		vr_buf_printf(b, "vetred_worker_handler_duration_seconds_bucket{"
		    "instance=\"%s\",consumer=\"%s\",le=\"+Inf\"} %lld\n"
		    "vetred_worker_handler_duration_seconds_sum{instance=\"%s\","
		    "consumer=\"%s\"} %.6f\n"
		    "vetred_worker_handler_duration_seconds_count{instance=\"%s\","
		    "consumer=\"%s\"} %lld\n", inst, wk->cs[i].name, s.dur_count,
		    inst, wk->cs[i].name, s.dur_sum, inst, wk->cs[i].name,
		    s.dur_count);
	}
	family(b, "vetred_worker_queue_messages", "gauge", "Messages ready in "
	    "the consumer's queue (read every few seconds).");
	for (i = 0; i < wk->n; i++) {
		pthread_mutex_lock(&wk->st[i].lock);
		s = wk->st[i];
		pthread_mutex_unlock(&wk->st[i].lock);
		vr_buf_printf(b, "vetred_worker_queue_messages{instance=\"%s\","
		    "consumer=\"%s\"} %lld\n", inst, wk->cs[i].name, s.depth);
	}
	family(b, "vetred_worker_up", "gauge", "Whether the consumer has its "
	    "database and broker connections.");
	for (i = 0; i < wk->n; i++) {
		pthread_mutex_lock(&wk->st[i].lock);
		s = wk->st[i];
		pthread_mutex_unlock(&wk->st[i].lock);
		vr_buf_printf(b, "vetred_worker_up{instance=\"%s\",consumer=\"%s\"} "
		    "%d\n", inst, wk->cs[i].name, s.db_up && s.broker_up);
	}
	family(b, "vetred_worker_broker_connects_total", "counter", "Broker "
	    "connections made (both of a consumer count one).");
	for (i = 0; i < wk->n; i++) {
		pthread_mutex_lock(&wk->st[i].lock);
		s = wk->st[i];
		pthread_mutex_unlock(&wk->st[i].lock);
		vr_buf_printf(b, "vetred_worker_broker_connects_total{instance="
		    "\"%s\",consumer=\"%s\"} %lld\n", inst, wk->cs[i].name,
		    s.broker_connects);
	}
	return 200;
}

static const struct vr_httpd_route routes[] = {
	{ "/health", route_health },
	{ "/ready", route_ready },
	{ "/metrics", route_metrics },
};

/* ---- the process ------------------------------------------------------ */

static int
check_table(const struct vr_consumer *cs, size_t n, char *err, size_t errlen)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (cs[i].nhandlers < 1 || cs[i].nhandlers > VR_WORKER_MAX_HANDLERS ||
		    (cs[i].raw && cs[i].nhandlers != 1) ||
		    (!cs[i].raw && cs[i].exchange == NULL) ||
		    (cs[i].raw && cs[i].queue == NULL)) {
			snprintf(err, errlen, "consumer %s: bad table", cs[i].name);
			return VR_EINVAL;
		}
	}
	return 0;
}

/*
 * Run the consumers until SIGTERM or SIGINT (or *stopping, when given,
 * becomes non-zero): 0 after a clean stop, 1 when the process cannot
 * start (the reason logged).  service names the process in logs,
 * connections and vetred_build_info.
 */
int
vr_worker_run(const char *service, const struct vr_consumer *cs, size_t n,
    const struct vr_config *cfg, const struct vr_worker_config *wc,
    volatile sig_atomic_t *stopping)
{
	struct vr_worker wk;
	struct vr_work *w;
	struct sigaction sa;
	pthread_t *th;
	char err[256];
	size_t i;
	int k, started = 0;

	if (check_table(cs, n, err, sizeof(err)) != 0) {
		vr_log(VR_LOG_ERROR, NULL, "cannot start", "error", err, NULL);
		return 1;
	}
	if (stopping == NULL) {
		memset(&sa, 0, sizeof(sa));
		sigemptyset(&sa.sa_mask);
		sa.sa_handler = on_signal;
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGINT, &sa, NULL);
		stopping = &own_stop;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	memset(&wk, 0, sizeof(wk));
	wk.cfg = cfg;
	wk.wc = wc;
	wk.cs = cs;
	wk.n = n;
	wk.stopping = stopping;
	wk.service = service;
	wk.st = vr_xcalloc(n, sizeof(*wk.st));
	w = vr_xcalloc(n, sizeof(*w));
	th = vr_xcalloc(n, sizeof(*th));
	for (i = 0; i < n; i++)
		pthread_mutex_init(&wk.st[i].lock, NULL);
	if (wc->metrics_addr != NULL && wc->metrics_addr[0] != '\0' &&
	    vr_httpd_start(&wk.httpd, wc->metrics_addr, routes,
	    sizeof(routes) / sizeof(routes[0]), &wk, err, sizeof(err)) != 0) {
		vr_log(VR_LOG_ERROR, NULL, "cannot start the metrics listener",
		    "error", err, NULL);
		goto out;
	}
	for (i = 0; i < n; i++) {
		w[i].wk = &wk;
		w[i].c = &cs[i];
		w[i].st = &wk.st[i];
		w[i].backoff_ms = BACKOFF_MIN_MS;
		vr_consumer_queue(&cs[i], w[i].queue, sizeof(w[i].queue));
		w[i].sql = vr_xcalloc(W__MAX + (size_t)cs[i].nsql, sizeof(char *));
		for (k = 0; k < W__MAX; k++)
			w[i].sql[k] = (char *)w_sql[k];
		for (k = 0; k < cs[i].nsql; k++)
			w[i].sql[W__MAX + k] = (char *)cs[i].sql[k];
		/* Not reachable yet is fine: the thread keeps trying. */
		(void)vr_db_open(&w[i].db, cfg->database_url,
		    (const char *const *)w[i].sql, W__MAX + cs[i].nsql,
		    cfg->db_timeout_ms);
	}
	{
		struct vr_log_field f[] = {
			VR_LF_STR("instance", wc->instance),
			VR_LF_INT("consumers", n),
			VR_LF_INT("metrics_port", wk.httpd != NULL ?
			    vr_httpd_port(wk.httpd) : 0),
			VR_LF_INT("prefetch", wc->prefetch),
			VR_LF_INT("max_attempts", wc->max_attempts),
		};
		vr_log_fields(VR_LOG_INFO, NULL, "worker started", f,
		    VR_NFIELDS(f));
	}
	for (i = 0; i < n; i++)
		if (pthread_create(&th[i], NULL, consumer_main, &w[i]) == 0)
			started |= 1, w[i].st->running = 1;
	for (i = 0; i < n; i++)
		if (w[i].st->running)
			pthread_join(th[i], NULL);
	for (i = 0; i < n; i++) {
		vr_db_close(&w[i].db);
		free(w[i].sql);
	}
	vr_log(VR_LOG_INFO, NULL, "worker stopped", NULL);
out:
	vr_httpd_stop(wk.httpd);
	for (i = 0; i < n; i++)
		pthread_mutex_destroy(&wk.st[i].lock);
	free(wk.st);
	free(w);
	free(th);
	return started ? 0 : 1;
}
