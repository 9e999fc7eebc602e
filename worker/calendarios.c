/*
 * calendarios.c - the iCalendar feeds, in two parts:
 *
 * The consumer "calendarios" marks the feeds an event concerns
 * (feed_marcar()): an appointment's (cita.*) the vet's (the one before a
 * move too) and the site's; a subscription issued (calendario.emitido)
 * gets its link, a revoked one loses it.  Marking is one row; it never
 * renders.
 *
 * The writer, a thread of its own with its own connection
 * (wk_calendarios_start()), renders each marked feed once its marks have
 * settled for VETRED_ICAL_DEBOUNCE_MS: a burst of fifty bookings at a
 * site is one writing, not fifty.  A feed is rendered by lib/ical.c from
 * feed_documento() and written only when its bytes change, so an
 * unchanged feed keeps its ETag and a client's conditional GET costs a
 * 304; a feed no live subscription names is removed.  A feed written a
 * day ago is marked again (feeds_vencidos(), every minute), so that its
 * window moves on and cancellations older than 30 days leave it.
 *
 *   VETRED_ICAL_DIR/feeds/v-<vet>.ics, s-<site>.ics   the feeds
 *   VETRED_ICAL_DIR/t/<sha256 of the token>.ics        -> ../feeds/...
 *
 * nginx serves /ical/<token>.ics from t/ (deploy/ical.js hashes the
 * token), with ETag and Last-Modified of the feed file.  Files are
 * written to a temporary name and renamed: a reader sees the old feed or
 * the new one, whole.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "worker.h"

/* The consumer's statement. */
enum { C_MARK, C__MAX };

static const char *const c_sql[C__MAX] = {
	/* $1 tipo, $2 ref, $3 even without a subscription */
	[C_MARK] = "SELECT feed_marcar($1, $2::bigint, $3::boolean)",
};

/* The writer's. */
enum { W_PENDING, W_DOC, W_DONE, W_STALE, W__MAX };

static const char *const w_sql[W__MAX] = {
	/* $1 debounce ms, $2 how many */
	[W_PENDING] = "SELECT tipo, ref_id, marca FROM feeds_pendientes($1::int,"
	    " $2::int)",
	/* $1 tipo, $2 ref */
	[W_DOC] = "SELECT feed_documento($1, $2::bigint)::text",
	/* $1 tipo, $2 ref, $3 marca, $4 eventos, $5 bytes */
	[W_DONE] = "SELECT feed_escrito($1, $2::bigint, $3::bigint, $4::int,"
	    " $5::int)",
	[W_STALE] = "SELECT feeds_vencidos()",
};

#define WRITER_TICK_MS	100
#define STALE_EVERY	600	/* ticks: a minute */
#define WRITER_BATCH	"20"

#define FEED_MAX	(8 * 1024 * 1024)	/* bytes of the file compared */

/* dir/sub, created (0755) when missing; -1 with errno otherwise. */
static int
ensure_dir(const char *dir, const char *sub, char *out, size_t n)
{
	if (mkdir(dir, 0755) != 0 && errno != EEXIST)
		return -1;
	snprintf(out, n, "%s/%s", dir, sub);
	if (mkdir(out, 0755) == 0 || errno == EEXIST)
		return 0;
	return -1;
}

static void
feed_name(const char *tipo, long long ref, char *out, size_t n)
{
	snprintf(out, n, "%c-%lld.ics", tipo[0] == 'v' ? 'v' : 's', ref);
}

/* Whether path holds exactly the n bytes of data. */
static int
same_content(const char *path, const char *data, size_t n)
{
	struct stat st;
	char *old;
	FILE *f;
	int same = 0;

	if (stat(path, &st) != 0 || (size_t)st.st_size != n || n > FEED_MAX)
		return 0;
	if ((f = fopen(path, "rb")) == NULL)
		return 0;
	if ((old = malloc(n + 1)) != NULL) {
		same = fread(old, 1, n, f) == n && memcmp(old, data, n) == 0;
		free(old);
	}
	fclose(f);
	return same;
}

/* data into dir/name through a temporary file and a rename; 0 or -1. */
static int
write_atomic(const char *dir, const char *name, const char *data, size_t n)
{
	char tmp[1200], path[1200];
	int fd, ok;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(tmp, sizeof(tmp), "%s/.%s.%ld.tmp", dir, name, (long)getpid());
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) <
	    0)
		return -1;
	ok = write(fd, data, n) == (ssize_t)n && fchmod(fd, 0644) == 0 &&
	    fsync(fd) == 0;
	if (close(fd) != 0)
		ok = 0;
	if (!ok || rename(tmp, path) != 0) {
		unlink(tmp);
		return -1;
	}
	return 0;
}

/*
 * The feed (tipo, ref), read at mark marca, brought up to date: rendered
 * and written when it changed, removed when no subscription names it.
 * 0, or -1 with the reason logged (it stays marked: the next tick tries
 * again, a render refused is cleared and waits for the next mark).
 */
static int
write_feed(struct vr_db *db, const char *tipo, const char *ref,
    const char *marca)
{
	char feeds[1100], name[40], path[1200], nev[16], nbytes[24], err[1400];
	const char *p[5] = { tipo, ref, marca, nev, nbytes };
	PGresult *res = NULL;
	struct vr_buf ics;
	cJSON *doc = NULL;
	int rc = 0;

	if (vr_db_exec(db, W_DOC, 2, p, &res) != 0) {
		snprintf(err, sizeof(err), "%s", db->errmsg);
		goto fail;
	}
	if (ensure_dir(wk_cfg.ical_dir, "feeds", feeds, sizeof(feeds)) < 0) {
		PQclear(res);
		snprintf(err, sizeof(err), "cannot create %s: %s", feeds,
		    strerror(errno));
		goto fail;
	}
	feed_name(tipo, atoll(ref), name, sizeof(name));
	snprintf(path, sizeof(path), "%s/%s", feeds, name);
	snprintf(nev, sizeof(nev), "0");
	snprintf(nbytes, sizeof(nbytes), "0");
	vr_buf_init(&ics);
	if (PQgetisnull(res, 0, 0)) {
		PQclear(res);
		if (unlink(path) != 0 && errno != ENOENT) {
			snprintf(err, sizeof(err), "cannot remove %s: %s", path,
			    strerror(errno));
			goto fail;
		}
	} else {
		doc = cJSON_Parse(PQgetvalue(res, 0, 0));
		PQclear(res);
		if (vr_ical_render(doc, &ics, err, sizeof(err)) != 0) {
			/* A document the renderer refuses stays refused:
			 * cleared, logged, tried again at the next mark. */
			vr_log(VR_LOG_ERROR, NULL, "feed not rendered", "feed",
			    name, "error", err, NULL);
			rc = -1;
		} else {
			snprintf(nev, sizeof(nev), "%d", cJSON_GetArraySize(
			    cJSON_GetObjectItemCaseSensitive(doc, "eventos")));
			snprintf(nbytes, sizeof(nbytes), "%zu", ics.len);
			if (!same_content(path, ics.data, ics.len) &&
			    write_atomic(feeds, name, ics.data, ics.len) < 0) {
				snprintf(err, sizeof(err), "cannot write %s: %s",
				    path, strerror(errno));
				cJSON_Delete(doc);
				vr_buf_free(&ics);
				goto fail;
			}
		}
		cJSON_Delete(doc);
	}
	vr_buf_free(&ics);
	if (vr_db_exec_write(db, W_DONE, 5, p, &res) != 0) {
		snprintf(err, sizeof(err), "%s", db->errmsg);
		goto fail;
	}
	PQclear(res);
	return rc;
fail:
	vr_log(VR_LOG_WARN, NULL, "feed not written", "tipo", tipo, "ref", ref,
	    "error", err, NULL);
	return -1;
}

static void
sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* The writer: every tick, the settled marks, each feed written once. */
static void *
writer(void *arg)
{
	const struct vr_config *cfg = arg;
	char debounce[16];
	const char *p[2] = { debounce, WRITER_BATCH };
	struct vr_db db;
	PGresult *res;
	int i, n, ticks = 0;

	snprintf(debounce, sizeof(debounce), "%d", wk_cfg.ical_debounce_ms);
	if (vr_db_open(&db, cfg->database_url, w_sql, W__MAX,
	    cfg->db_timeout_ms) != 0)
		vr_log(VR_LOG_WARN, NULL, "calendar writer: database "
		    "unavailable, retrying", NULL);
	for (;;) {
		res = NULL;
		n = 0;
		if (vr_db_ensure(&db) == 0 &&
		    vr_db_exec(&db, W_PENDING, 2, p, &res) == 0)
			n = PQntuples(res);
		for (i = 0; i < n; i++)
			write_feed(&db, PQgetvalue(res, i, 0),
			    PQgetvalue(res, i, 1), PQgetvalue(res, i, 2));
		PQclear(res);
		/* A day-old feed moves its window on (at start too). */
		if (ticks++ % STALE_EVERY == 0 && vr_db_ensure(&db) == 0 &&
		    vr_db_exec_write(&db, W_STALE, 0, NULL, &res) == 0)
			PQclear(res);
		if (n == 0)
			sleep_ms(WRITER_TICK_MS);
	}
	return NULL;
}

int
wk_calendarios_start(const struct vr_config *cfg)
{
	static struct vr_config copy;
	pthread_t t;

	copy = *cfg;
	if (pthread_create(&t, NULL, writer, &copy) != 0)
		return -1;
	pthread_detach(t);
	return 0;
}

/* The consumer marks feed (tipo, ref); always: even without a live
 * subscription (its file goes). */
static int
mark(struct vr_work *w, const char *tipo, long long ref, int always)
{
	char id[24];
	const char *p[3] = { tipo, id, always ? "true" : "false" };
	PGresult *res = NULL;
	int rc;

	snprintf(id, sizeof(id), "%lld", ref);
	if ((rc = vr_work_exec(w, C_MARK, 3, p, &res)) != 0)
		return rc;
	PQclear(res);
	return VR_HECHO;
}

static long long
member_id(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsNumber(v) && v->valuedouble >= 1 ? (long long)
	    v->valuedouble : 0;
}

/* cita.*: the vet's feed (and the previous vet's after a move), the
 * site's. */
static int
cita(struct vr_work *w, const struct vr_message *m, char *reason,
    size_t rlen)
{
	long long vet = member_id(m->datos, "veterinario_id"),
	    sede = member_id(m->datos, "sede_id"), antes;
	int rc;

	if (vet == 0 || sede == 0) {
		snprintf(reason, rlen, "%s without veterinario_id or sede_id",
		    m->key);
		return VR_DESCARTAR;
	}
	antes = member_id(cJSON_GetObjectItemCaseSensitive(m->datos, "antes"),
	    "veterinario_id");
	if ((rc = mark(w, "veterinario", vet, 0)) != VR_HECHO)
		return rc;
	if (antes != 0 && antes != vet &&
	    (rc = mark(w, "veterinario", antes, 0)) != VR_HECHO)
		return rc;
	return mark(w, "sede", sede, 0);
}

/* The subscription's feed and its link path; 0, or a verdict. */
static int
subscription(const struct vr_message *m, const char **tipo, long long *ref,
    char *link, size_t n, char *reason, size_t rlen)
{
	const cJSON *h = cJSON_GetObjectItemCaseSensitive(m->datos,
	    "token_sha256");
	char tdir[1100];
	size_t i;

	*ref = member_id(m->datos, "veterinario_id");
	*tipo = "veterinario";
	if (*ref == 0) {
		*ref = member_id(m->datos, "sede_id");
		*tipo = "sede";
	}
	if (*ref == 0 || !cJSON_IsString(h) || strlen(h->valuestring) != 64) {
		snprintf(reason, rlen, "%s without its feed or token hash",
		    m->key);
		return VR_DESCARTAR;
	}
	for (i = 0; i < 64; i++)
		if (!strchr("0123456789abcdef", h->valuestring[i])) {
			snprintf(reason, rlen, "%s: token_sha256 is not hex",
			    m->key);
			return VR_DESCARTAR;
		}
	if (ensure_dir(wk_cfg.ical_dir, "t", tdir, sizeof(tdir)) < 0) {
		snprintf(reason, rlen, "cannot create %s: %s", tdir,
		    strerror(errno));
		return VR_REINTENTAR;
	}
	snprintf(link, n, "%s/%s.ics", tdir, h->valuestring);
	return 0;
}

static int
emitido(struct vr_work *w, const struct vr_message *m, char *reason,
    size_t rlen)
{
	char link[1300], target[64], name[40];
	const char *tipo;
	long long ref;
	int rc;

	if ((rc = subscription(m, &tipo, &ref, link, sizeof(link), reason,
	    rlen)) != 0)
		return rc;
	if ((rc = mark(w, tipo, ref, 1)) != VR_HECHO)
		return rc;
	feed_name(tipo, ref, name, sizeof(name));
	snprintf(target, sizeof(target), "../feeds/%s", name);
	if (symlink(target, link) != 0 && errno != EEXIST) {
		snprintf(reason, rlen, "cannot link %s: %s", link,
		    strerror(errno));
		return VR_REINTENTAR;
	}
	return VR_HECHO;
}

static int
revocado(struct vr_work *w, const struct vr_message *m, char *reason,
    size_t rlen)
{
	char link[1300];
	const char *tipo;
	long long ref;
	int rc;

	if ((rc = subscription(m, &tipo, &ref, link, sizeof(link), reason,
	    rlen)) != 0)
		return rc;
	if (unlink(link) != 0 && errno != ENOENT) {
		snprintf(reason, rlen, "cannot remove %s: %s", link,
		    strerror(errno));
		return VR_REINTENTAR;
	}
	/* The last subscription gone, the feed goes too. */
	return mark(w, tipo, ref, 1);
}

static const struct vr_handler handlers[] = {
	{ "cita.reservada", cita },
	{ "cita.reprogramada", cita },
	{ "cita.confirmada", cita },
	{ "cita.en_atencion", cita },
	{ "cita.atendida", cita },
	{ "cita.no_asistio", cita },
	{ "cita.cancelada", cita },
	{ "cita.actualizada", cita },
	{ "calendario.emitido", emitido },
	{ "calendario.revocado", revocado },
};

const struct vr_consumer wk_calendarios = {
	.name = "calendarios",
	.exchange = VR_AMQP_EVENTOS,
	.handlers = handlers,
	.nhandlers = sizeof(handlers) / sizeof(handlers[0]),
	.sql = c_sql,
	.nsql = C__MAX,
};
