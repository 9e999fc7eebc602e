/*
 * relay.c - the outbox relay: publishes the rows of outbox to RabbitMQ,
 * in id order, and marks each published once the broker confirmed it.
 *
 * One relay publishes at a time: it holds the lease relevo_turno
 * 'outbox' (db/migrations/0033), renewed every third of its term; the
 * others sleep until the lease they saw ends (a third of the term at
 * most) and take it once it expired, or at once when its holder stopped
 * and released it.  A batch is up to VETRED_RELAY_BATCH pending rows, published
 * with all their confirms in flight and awaited together; the confirmed
 * prefix is marked published in one UPDATE.  A nack or a lost
 * connection leaves the rest pending, published again later (a consumer
 * deduplicates on the event id, so the broker may hold a message twice;
 * an event is never lost, and the events of an aggregate leave in id
 * order, which is their commit order, since a change to an aggregate
 * waits for the row lock of the one before).
 *
 * Waking: a batch that came back full is followed by the next at once;
 * after an empty one the relay polls again after 1, 2, 4 ... 16 ms
 * (cheap: an index scan of the pending rows), and after 200 ms without
 * rows it sleeps on LISTEN vetred_outbox.  It first says so in
 * relevo_escucha, since writers notify only then (a NOTIFY serializes
 * commits), and polls once more for a writer that looked before it said
 * so.  A sleep ends with a NOTIFY, a stop, the lease's renewal time or
 * VETRED_RELAY_POLL_MS, the safety poll.
 *
 * Broker down: writes go on (they only add rows), the relay keeps its
 * lease and reconnects with a back-off doubling up to
 * VETRED_RELAY_BACKOFF_MAX_MS, then drains what waited.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "scheduler.h"

#define IDLE_BEFORE_SLEEP_MS	100
#define NAP_MAX_MS		4

/* A batch published and not yet settled (confirmed and marked). */
struct flight {
	int			 n;		/* 0: none */
	uint64_t		 first;		/* delivery tag of ids[0] */
	double			 t0;		/* when its first went out */
	unsigned char		*status;
	long long		*ids;
};

struct relay {
	struct sched_relay	*r;
	struct vr_db		 db;
	unsigned long		 listen_gen;	/* db generation LISTENed on */
	struct vr_amqp		*amqp;
	int			 backoff_ms;
	long long		 next_connect;	/* mono ms: not before */
	long long		 renewed;	/* mono ms of the last renewal */
	int			 leader;
	int			 listening;	/* relevo_escucha says so */
	long long		 jobs_at;	/* mono ms: look for due jobs */
	struct flight		 fl[2];		/* published, awaiting confirms */
	int			 cur;		/* fl[cur] the older */
	struct vr_buf		 idlist;
	struct vr_buf		 body;		/* of the message being sent */
};

static int	drain_notifies(struct relay *x);

static long long
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static double
mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
set_flag(struct sched_stats *st, int *field, int v)
{
	pthread_mutex_lock(&st->lock);
	*field = v;
	pthread_mutex_unlock(&st->lock);
}

static void
add(struct sched_stats *st, long long *field, long long by)
{
	pthread_mutex_lock(&st->lock);
	*field += by;
	pthread_mutex_unlock(&st->lock);
}

static void
drop_broker(struct relay *x, const char *why)
{
	if (x->amqp != NULL) {
		vr_log(VR_LOG_WARN, NULL, "broker connection dropped", "error",
		    why, NULL);
		vr_amqp_close(x->amqp);
		x->amqp = NULL;
	}
	set_flag(x->r->st, &x->r->st->broker_up, 0);
	add(x->r->st, &x->r->st->broker_failures, 1);
	x->next_connect = mono_ms() + x->backoff_ms;
	x->backoff_ms = x->backoff_ms * 2 > x->r->sc->backoff_max_ms ?
	    x->r->sc->backoff_max_ms : x->backoff_ms * 2;
}

/* Connected, topology declared, confirms on; 0, or not yet (back-off). */
static int
ensure_broker(struct relay *x)
{
	char err[256], name[200];
	int rc;

	if (x->amqp != NULL)
		return 0;
	if (mono_ms() < x->next_connect)
		return VR_EUNAVAIL;
	snprintf(name, sizeof(name), "vetred-scheduler %s", x->r->holder);
	rc = vr_amqp_connect(&x->amqp, x->r->cfg->amqp_url, name, 5000, err,
	    sizeof(err));
	if (rc == 0 && (rc = vr_amqp_declare(x->amqp, err, sizeof(err))) == 0)
		rc = vr_amqp_confirm_select(x->amqp, err, sizeof(err));
	if (rc != 0) {
		struct vr_log_field f[] = { VR_LF_STR("error", err),
		    VR_LF_INT("retry_in_ms", x->backoff_ms) };

		if (x->amqp == NULL)
			vr_log_fields(VR_LOG_WARN, NULL, "broker unreachable", f,
			    VR_NFIELDS(f));
		drop_broker(x, err);
		return rc;
	}
	x->backoff_ms = 100;
	set_flag(x->r->st, &x->r->st->broker_up, 1);
	add(x->r->st, &x->r->st->broker_connects, 1);
	vr_log(VR_LOG_INFO, NULL, "broker connected, topology declared", NULL);
	return 0;
}

/* LISTEN on this connection, again after every reconnect. */
static int
ensure_listen(struct relay *x)
{
	if (x->listen_gen == x->db.generation && x->db.conn != NULL)
		return 0;
	if (vr_db_query(&x->db, "LISTEN vetred_outbox", NULL) != 0)
		return VR_EUNAVAIL;
	x->listen_gen = x->db.generation;
	x->listening = -1;	/* unknown: set it again */
	return 0;
}

/* A relay that lost the lease stops listening (and drops what came). */
static void
stop_listening(struct relay *x)
{
	if (x->listen_gen == 0)
		return;
	if (x->db.conn != NULL && x->listen_gen == x->db.generation)
		vr_db_query(&x->db, "UNLISTEN vetred_outbox", NULL);
	x->listen_gen = 0;
	drain_notifies(x);
}

static int
say_listening(struct relay *x, int on)
{
	const char *p[1] = { on ? "true" : "false" };

	if (x->listening == on)
		return 0;
	if (vr_db_exec_write(&x->db, ST_LISTENING, 1, p, NULL) != 0)
		return VR_EUNAVAIL;
	x->listening = on;
	return 0;
}

/* How long a standby waits before it tries again: until the holder's
 * lease ends (and a little), at most max. */
static int
lease_left(struct relay *x, int max)
{
	PGresult *res;
	int ms = max;

	if (vr_db_exec(&x->db, ST_LEASE_LEFT, 0, NULL, &res) == 0) {
		if (PQntuples(res) == 1)
			ms = atoi(PQgetvalue(res, 0, 0)) + 20;
		else
			ms = 0;		/* released: take it now */
		PQclear(res);
	}
	return ms < max ? ms : max;
}

/* Take or renew the lease when a third of its term went by. */
static int
lease(struct relay *x)
{
	const struct sched_config *sc = x->r->sc;
	char term[16];
	const char *p[2] = { x->r->holder, term };
	PGresult *res;
	long long now = mono_ms();
	int held;

	if (x->leader && now - x->renewed < sc->lease_ms / 3)
		return 1;
	snprintf(term, sizeof(term), "%d", sc->lease_ms);
	if (vr_db_exec_write(&x->db, ST_LEASE, 2, p, &res) != 0) {
		held = 0;
	} else {
		held = PQntuples(res) == 1;
		PQclear(res);
	}
	if (held) {
		x->renewed = now;
		if (!x->leader) {
			vr_log(VR_LOG_INFO, NULL, "relay lease taken: publishing",
			    "holder", x->r->holder, NULL);
			add(x->r->st, &x->r->st->lease_taken, 1);
		}
	} else if (x->leader) {
		vr_log(VR_LOG_WARN, NULL, "relay lease lost: standing by",
		    "holder", x->r->holder, NULL);
	}
	x->leader = held;
	set_flag(x->r->st, &x->r->st->leader, held);
	return held;
}

/*
 * The message body: the event's envelope around its payload (the payload
 * is jsonb's text, already valid JSON), built here rather than by the
 * database, whose CPU the relay shares with the writers.
 */
static void
envelope(struct vr_buf *b, PGresult *res, int i)
{
	const char *rid = PQgetvalue(res, i, 5);

	vr_buf_reset(b);
	vr_buf_puts(b, "{\"id\":");
	vr_buf_json_string(b, PQgetvalue(res, i, 1));
	vr_buf_puts(b, ",\"tipo\":");
	vr_buf_json_string(b, PQgetvalue(res, i, 2));
	vr_buf_printf(b, ",\"version\":%d,\"ocurrido_en\":",
	    atoi(PQgetvalue(res, i, 4)));
	vr_buf_json_string(b, PQgetvalue(res, i, 6));
	vr_buf_puts(b, ",\"agregado\":");
	vr_buf_json_string(b, PQgetvalue(res, i, 3));
	vr_buf_puts(b, ",\"agregado_id\":");
	vr_buf_json_string(b, PQgetvalue(res, i, 8));
	vr_buf_puts(b, ",\"request_id\":");
	if (*rid != '\0')
		vr_buf_json_string(b, rid);
	else
		vr_buf_puts(b, "null");
	vr_buf_puts(b, ",\"datos\":");
	vr_buf_append(b, PQgetvalue(res, i, 9), (size_t)PQgetlength(res, i, 9));
	vr_buf_puts(b, "}");
}

/* '{id,...}' of the batch in flight (none: '{}'), into x->idlist. */
static const char *
id_array(struct relay *x, const struct flight *f, int n)
{
	int i;

	vr_buf_reset(&x->idlist);
	vr_buf_puts(&x->idlist, "{");
	for (i = 0; f != NULL && i < n; i++)
		vr_buf_printf(&x->idlist, "%s%lld", i ? "," : "", f->ids[i]);
	vr_buf_puts(&x->idlist, "}");
	return x->idlist.data;
}

/* Forget what is in flight: it stays pending and goes out again. */
static void
abandon(struct relay *x)
{
	x->fl[0].n = x->fl[1].n = 0;
}

/*
 * Read up to a batch of pending rows, leaving out the batch still in
 * flight (other), and publish them as f.  How many (0: none pending), or
 * VR_EUNAVAIL when the database or the broker failed.
 */
static int
publish(struct relay *x, struct flight *f, const struct flight *other)
{
	const struct sched_config *sc = x->r->sc;
	char lim[16];
	const char *p[2] = { lim, NULL };
	struct vr_amqp_msg m;
	PGresult *res;
	const char *dest;
	uint64_t tag;
	int n, i, rc, job;

	f->n = 0;
	snprintf(lim, sizeof(lim), "%d", sc->batch);
	p[1] = id_array(x, other, other->n);
	if (vr_db_exec(&x->db, ST_BATCH, 2, p, &res) != 0)
		return VR_EUNAVAIL;
	if ((n = PQntuples(res)) == 0) {
		PQclear(res);
		return 0;
	}
	if (ensure_broker(x) != 0) {
		PQclear(res);
		return VR_EUNAVAIL;
	}
	memset(f->status, 0, (size_t)n);
	f->t0 = mono_s();
	for (i = 0; i < n; i++) {
		f->ids[i] = strtoll(PQgetvalue(res, i, 0), NULL, 10);
		memset(&m, 0, sizeof(m));
		m.message_id = PQgetvalue(res, i, 1);
		m.type = PQgetvalue(res, i, 2);
		m.version = atoi(PQgetvalue(res, i, 4));
		m.request_id = PQgetvalue(res, i, 5);
		m.timestamp = strtoll(PQgetvalue(res, i, 7), NULL, 10);
		m.app_id = "vetred-scheduler";
		envelope(&x->body, res, i);
		m.body = x->body.data;
		m.len = x->body.len;
		/* A job's message (aggregate "trabajo") goes to the jobs'
		 * exchange under the job's name; an event to the events'
		 * under its type; a replayed dead letter (destino) to its
		 * one work queue, its own key in a header. */
		job = strcmp(PQgetvalue(res, i, 3), "trabajo") == 0;
		m.key = job ? PQgetvalue(res, i, 8) : m.type;
		dest = PQgetvalue(res, i, 10);
		rc = vr_amqp_publish(x->amqp, *dest != '\0' ? VR_AMQP_REENCOLAR :
		    job ? VR_AMQP_TRABAJOS : VR_AMQP_EVENTOS,
		    *dest != '\0' ? dest : m.key, &m, &tag);
		if (rc != 0)
			break;
		if (i == 0)
			f->first = tag;
	}
	PQclear(res);
	if (i < n) {
		drop_broker(x, vr_amqp_error(x->amqp));
		abandon(x);
		return VR_EUNAVAIL;
	}
	f->n = n;
	return n;
}

/*
 * Wait for f's confirms and mark its confirmed prefix published.  0, or
 * VR_EUNAVAIL (a nack, a timeout, a lost connection: what is not marked
 * goes out again, after what was marked).
 */
static int
settle(struct relay *x, struct flight *f)
{
	const char *p[1];
	int ok, rc, n = f->n;

	if (n == 0)
		return 0;
	f->n = 0;
	rc = vr_amqp_confirms(x->amqp, f->first, (size_t)n, f->status,
	    x->r->sc->confirm_ms);
	for (ok = 0; ok < n && f->status[ok] == VR_AMQP_ACKED; ok++)
		;
	if (ok > 0) {
		p[0] = id_array(x, f, ok);
		if (vr_db_exec_write(&x->db, ST_MARK, 1, p, NULL) != 0) {
			/* Published but not marked: published again later,
			 * and the consumers drop the second copy. */
			abandon(x);
			return VR_EUNAVAIL;
		}
		sched_stats_confirm(x->r->st, mono_s() - f->t0, ok);
	}
	add(x->r->st, &x->r->st->batches, 1);
	if (rc != 0) {
		drop_broker(x, vr_amqp_error(x->amqp));
		abandon(x);
		return VR_EUNAVAIL;
	}
	if (ok < n) {
		/* A nack: the broker could not take a message.  Drop the
		 * channel, so that nothing published after it is marked
		 * before it went out again. */
		add(x->r->st, &x->r->st->nacked, n - ok);
		drop_broker(x, "the broker nacked a publication");
		abandon(x);
		return VR_EUNAVAIL;
	}
	return 0;
}

/*
 * One step of the pipeline: publish the next batch while the one before
 * awaits its confirms, then settle that one.  Rows published in this
 * step (0: nothing pending and nothing in flight), or VR_EUNAVAIL.
 */
static int
batch(struct relay *x)
{
	struct flight *older = &x->fl[x->cur], *next = &x->fl[1 - x->cur];
	int n;

	n = publish(x, next, older);
	if (n == VR_EUNAVAIL) {
		if (older->n > 0 && x->amqp != NULL)
			settle(x, older);
		return VR_EUNAVAIL;
	}
	if (settle(x, older) != 0)
		return VR_EUNAVAIL;
	x->cur = 1 - x->cur;
	if (n == 0 && next->n == 0)
		return 0;
	return n > 0 ? n : 1;
}

/* Anything queued by libpq or on the socket: count and drop them. */
static int
drain_notifies(struct relay *x)
{
	PGnotify *nf;
	int n = 0;

	if (x->db.conn == NULL)
		return 0;
	PQconsumeInput(x->db.conn);
	while ((nf = PQnotifies(x->db.conn)) != NULL) {
		PQfreemem(nf);
		n++;
	}
	if (n > 0)
		add(x->r->st, &x->r->st->wakeups, n);
	return n;
}

/*
 * Wait up to ms for a NOTIFY (when listen) or a stop.  1 when woken by a
 * NOTIFY, 0 otherwise.
 */
static int
wait_for(struct relay *x, int ms, int listen)
{
	struct pollfd fds[3];
	int nfds = 0, n, pq = -1, mq = -1, woke = 0;
	char c;

	if (*x->r->stopping)
		return 0;
	if (listen && drain_notifies(x) > 0)
		return 1;
	/* Wake for the next periodic job, too. */
	if (ms > x->jobs_at - mono_ms())
		ms = x->jobs_at > mono_ms() ? (int)(x->jobs_at - mono_ms()) : 0;
	fds[nfds].fd = x->r->wake_fd;
	fds[nfds++].events = POLLIN;
	if (listen && x->db.conn != NULL && PQsocket(x->db.conn) >= 0) {
		pq = nfds;
		fds[nfds].fd = PQsocket(x->db.conn);
		fds[nfds++].events = POLLIN;
	}
	/* The broker says nothing on an idle channel but when it closes. */
	if (vr_amqp_fd(x->amqp) >= 0) {
		mq = nfds;
		fds[nfds].fd = vr_amqp_fd(x->amqp);
		fds[nfds++].events = POLLIN;
	}
	n = poll(fds, (nfds_t)nfds, ms);
	if (n <= 0)
		return 0;
	if (fds[0].revents & POLLIN)
		while (read(x->r->wake_fd, &c, 1) == 1)
			;
	if (mq >= 0 && fds[mq].revents != 0 && vr_amqp_poll(x->amqp) != 0)
		drop_broker(x, vr_amqp_error(x->amqp));
	if (pq >= 0 && fds[pq].revents != 0)
		woke = drain_notifies(x) > 0;
	return woke;
}

int
sched_relay_run(struct sched_relay *r)
{
	const struct sched_config *sc = r->sc;
	struct relay x;
	long long idle_since = 0;
	int nap = 0, n, lease_wait = sc->lease_ms / 3;

	memset(&x, 0, sizeof(x));
	x.r = r;
	x.backoff_ms = 100;
	x.listening = -1;
	for (n = 0; n < 2; n++) {
		x.fl[n].status = vr_xmalloc((size_t)sc->batch);
		x.fl[n].ids = vr_xcalloc((size_t)sc->batch, sizeof(*x.fl[n].ids));
	}
	vr_buf_init(&x.idlist);
	vr_buf_init(&x.body);
	vr_db_open(&x.db, r->cfg->database_url, sched_sql, ST__MAX,
	    r->cfg->db_timeout_ms);

	while (!*r->stopping) {
		if (vr_db_ensure(&x.db) != 0) {
			set_flag(r->st, &r->st->db_up, 0);
			if (x.leader) {
				x.leader = 0;
				set_flag(r->st, &r->st->leader, 0);
			}
			wait_for(&x, 1000, 0);
			continue;
		}
		set_flag(r->st, &r->st->db_up, 1);
		if (mono_ms() >= x.jobs_at)
			x.jobs_at = mono_ms() + sched_jobs_tick(&x.db, r->st);
		if (!lease(&x)) {
			abandon(&x);
			stop_listening(&x);
			wait_for(&x, lease_left(&x, lease_wait), 0);
			continue;
		}
		/* Only the holder listens: a standby would hold every
		 * notification in libpq's queue unread. */
		if (ensure_listen(&x) != 0)
			continue;
		if (x.amqp == NULL)
			ensure_broker(&x);	/* also when idle: /ready */
		n = batch(&x);
		if (n == VR_EUNAVAIL) {
			long long wait = x.next_connect - mono_ms();
			wait_for(&x, wait > 0 ? (int)(wait < lease_wait ? wait :
			    lease_wait) : 10, 0);
			continue;
		}
		if (n > 0) {
			say_listening(&x, 0);
			idle_since = 0;
			nap = 0;
			continue;
		}
		/* Nothing pending. */
		if (idle_since == 0)
			idle_since = mono_ms();
		if (mono_ms() - idle_since < IDLE_BEFORE_SLEEP_MS) {
			nap = nap == 0 ? 1 : (nap * 2 > NAP_MAX_MS ? NAP_MAX_MS :
			    nap * 2);
			wait_for(&x, nap, 1);
			continue;
		}
		if (x.listening != 1) {
			/* Say so, then look once more: a writer that read
			 * the flag before may commit after this look. */
			if (say_listening(&x, 1) != 0)
				continue;
			wait_for(&x, NAP_MAX_MS, 1);
			continue;
		}
		wait_for(&x, sc->poll_ms < lease_wait ? sc->poll_ms :
		    lease_wait, 1);
	}

	if (x.leader) {
		const char *p[1] = { r->holder };

		/* Finish the batch in flight, then hand over at once. */
		if (x.amqp != NULL)
			settle(&x, &x.fl[x.cur]);
		say_listening(&x, 0);
		vr_db_exec_write(&x.db, ST_RELEASE, 1, p, NULL);
		vr_log(VR_LOG_INFO, NULL, "relay lease released", NULL);
	}
	vr_amqp_close(x.amqp);
	vr_db_close(&x.db);
	vr_buf_free(&x.idlist);
	vr_buf_free(&x.body);
	for (n = 0; n < 2; n++) {
		free(x.fl[n].status);
		free(x.fl[n].ids);
	}
	return 0;
}
