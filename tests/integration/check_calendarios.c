/*
 * check_calendarios.c - iCalendar subscriptions end to end: a secret URL
 * from the API, the feed the calendar worker writes on each booking,
 * move and cancellation (within 2 s), served by nginx with ETag and
 * Last-Modified (a conditional GET is a 304), a site's feed without
 * another site's appointments, no owner's data in any, revocation and
 * rotation (the old URL is a 404), and bad requests that write nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "itest.h"
#include "vr.h"

#define LIMA	"America/Lima"
#define WAIT_MS	2000

static long long
ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
pause_ms(int ms)
{
	struct timespec ts = { 0, ms * 1000000L };

	nanosleep(&ts, NULL);
}

/* The URL's path on the test's own base (the URL names the API's host). */
static void
feed_get(const char *url, const char *const *extra, struct http_resp *r)
{
	const char *path = strstr(url, "/ical/");

	ck_assert_ptr_nonnull(path);
	http_req("GET", path, NULL, NULL, 0, extra, r);
}

/*
 * Poll the feed until its body holds want (or, with absent, until it no
 * longer does; want NULL: until it answers status), at most WAIT_MS;
 * the milliseconds it took, -1 when it never did.  r keeps the last
 * answer (caller frees).
 */
static long long
feed_until(const char *url, const char *want, int absent, long status,
    struct http_resp *r)
{
	long long t0 = ms_now();
	int ok;

	for (;;) {
		feed_get(url, NULL, r);
		if (want == NULL)
			ok = r->status == status;
		else
			ok = r->status == 200 && (strstr(r->body, want) != NULL) !=
			    absent;
		if (ok)
			return ms_now() - t0;
		if (ms_now() - t0 > WAIT_MS)
			return -1;
		http_free(r);
		pause_ms(50);
	}
}

/* The VEVENT of cita id in an iCalendar body (malloc'd), or NULL. */
static char *
vevent(const char *ics, long long id)
{
	char uid[64];
	const char *p, *b, *e;

	snprintf(uid, sizeof(uid), "UID:cita-%lld@vetred.pe", id);
	if ((p = strstr(ics, uid)) == NULL)
		return NULL;
	for (b = p; b > ics && strncmp(b, "BEGIN:VEVENT", 12) != 0; b--)
		;
	e = strstr(p, "END:VEVENT");
	ck_assert_ptr_nonnull(e);
	return strndup(b, (size_t)(e - b));
}

static char *
uid_of(long long id)
{
	char *s = NULL;

	ck_assert_int_ge(asprintf(&s, "UID:cita-%lld@vetred.pe", id), 0);
	return s;
}

/* POST /api/v1/calendarios with body; 201 asserted; url (malloc'd) and
 * id out. */
static char *
suscribir(const char *body, long long *id)
{
	struct http_resp r;
	char *url;

	http_post_json("/api/v1/calendarios", body, &r);
	ck_assert_msg(r.status == 201, "%s: %ld %s", body, r.status, r.body);
	url = strdup(json_s(r.json, "url"));
	*id = json_ll(r.json, "id");
	ck_assert_ptr_null(cJSON_GetObjectItem(r.json, "token_sha256"));
	http_free(&r);
	ck_assert_msg(strncmp(url, "http", 4) == 0 && strstr(url, "/ical/") &&
	    strlen(strstr(url, "/ical/")) == 6 + 43 + 4, "url %s", url);
	return url;
}

START_TEST(feed_de_un_veterinario)
{
	struct fx_clinica c;
	struct http_resp r;
	char t[FX_HORA_LEN], etag[128], lm[128], h1[160], h2[160], body[200],
	    *url, *url2, *uid, *ev, path[64];
	const char *extra[2] = { NULL, NULL };
	long long dia, sus, sus2, c1, c2, took;

	fx_clinica(&c);
	dia = fx_dia(LIMA, 0, 2);
	fx_hora(dia + FX_HM(10, 0), FX_LIMA, t);
	c1 = fx_reservar_ok(&(struct fx_cita){ .paciente = fx_paciente(),
	    .veterinario = c.vet, .sede = c.sede, .inicio = t,
	    .duracion = 30, .motivo = "Vacuna; refuerzo, anual" });

	/* The vet's own agenda, asked by the vet. */
	http_token(c.token);
	snprintf(body, sizeof(body), "{\"veterinario_id\":%lld}", c.vet);
	url = suscribir(body, &sus);
	http_token(NULL);
	uid = uid_of(c1);
	took = feed_until(url, uid, 0, 0, &r);
	ck_assert_msg(took >= 0, "the feed never showed %s: %ld %s", uid,
	    r.status, r.body);
	free(uid);
	ck_assert(strncmp(http_header(&r, "Content-Type", h1, sizeof(h1)),
	    "text/calendar", 13) == 0);
	ck_assert_ptr_nonnull(http_header(&r, "ETag", etag, sizeof(etag)));
	ck_assert_ptr_nonnull(http_header(&r, "Last-Modified", lm,
	    sizeof(lm)));
	ck_assert_ptr_nonnull(strstr(r.body, "BEGIN:VTIMEZONE\r\nTZID:"
	    "America/Lima\r\n"));
	ck_assert_ptr_nonnull(strstr(r.body, "DTSTART;TZID=America/Lima:"));
	ck_assert_ptr_nonnull(strstr(r.body, "Vacuna\\; refuerzo\\, anual"));
	/* No owner's data: name, phone, e-mail. */
	ck_assert_ptr_null(strstr(r.body, "Dueño"));
	ck_assert_ptr_null(strstr(r.body, "De Prueba"));
	ck_assert_ptr_null(strstr(r.body, "+519"));
	http_free(&r);

	/* Polling costs a 304. */
	snprintf(h1, sizeof(h1), "If-None-Match: %s", etag);
	extra[0] = h1;
	feed_get(url, extra, &r);
	ck_assert_int_eq(r.status, 304);
	ck_assert_int_eq(r.len, 0);
	http_free(&r);
	snprintf(h2, sizeof(h2), "If-Modified-Since: %s", lm);
	extra[0] = h2;
	feed_get(url, extra, &r);
	ck_assert_int_eq(r.status, 304);
	http_free(&r);

	/* A booking, a move, a cancellation: each in the feed within 2 s. */
	fx_hora(dia + FX_HM(11, 0), FX_LIMA, t);
	c2 = fx_reservar_ok(&(struct fx_cita){ .paciente = fx_paciente(),
	    .veterinario = c.vet, .sede = c.sede, .inicio = t,
	    .duracion = 30 });
	uid = uid_of(c2);
	took = feed_until(url, uid, 0, 0, &r);
	ck_assert_msg(took >= 0, "a booking did not reach the feed in 2 s");
	ck_assert_str_ne(http_header(&r, "ETag", h1, sizeof(h1)), etag);
	ev = vevent(r.body, c2);
	ck_assert_ptr_nonnull(strstr(ev, "SEQUENCE:0"));
	ck_assert_ptr_nonnull(strstr(ev, "STATUS:TENTATIVE"));
	free(ev);
	http_free(&r);
	fx_hora(dia + FX_HM(12, 0), FX_LIMA, t);
	snprintf(body, sizeof(body), "{\"inicio\":\"%s\"}", t);
	fx_put_cita(c2, body, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	http_free(&r);
	snprintf(h2, sizeof(h2), "T%.2s%.2s00", t + 11, t + 14);
	took = feed_until(url, h2, 0, 0, &r);
	ck_assert_msg(took >= 0, "a move did not reach the feed in 2 s");
	ev = vevent(r.body, c2);
	ck_assert_ptr_nonnull(strstr(ev, "SEQUENCE:1"));
	ck_assert_ptr_nonnull(strstr(ev, h2));
	free(ev);
	http_free(&r);
	snprintf(path, sizeof(path), "/api/v1/citas/%lld", c2);
	http_req("DELETE", path, NULL, NULL, 0, NULL, &r);
	ck_assert_int_eq(r.status, 204);
	http_free(&r);
	took = feed_until(url, "STATUS:CANCELLED", 0, 0, &r);
	ck_assert_msg(took >= 0, "a cancellation did not reach the feed in 2 s");
	ev = vevent(r.body, c2);
	ck_assert_ptr_nonnull(strstr(ev, "STATUS:CANCELLED"));
	free(ev);
	free(uid);
	http_free(&r);

	/* A feed written a day ago is written again (its window moves). */
	db_execf("UPDATE calendario_feeds SET generado_en = now() - interval "
	    "'2 days' WHERE tipo = 'veterinario' AND ref_id = %lld", c.vet);
	ck_assert_int_ge(db_count("SELECT feeds_vencidos()"), 1);
	took = ms_now();
	while (db_countf("SELECT count(*) FROM calendario_feeds WHERE tipo = "
	    "'veterinario' AND ref_id = %lld AND pendiente_desde IS NULL AND "
	    "generado_en > now() - interval '1 minute'", c.vet) == 0) {
		ck_assert_msg(ms_now() - took < WAIT_MS, "the day-old feed was "
		    "not written again");
		pause_ms(50);
	}

	/* Rotation: a new URL, the old one gone; then revocation. */
	http_token(c.token);
	snprintf(path, sizeof(path), "/api/v1/calendarios/%lld/rotacion", sus);
	http_post_json(path, "{}", &r);
	ck_assert_msg(r.status == 201, "%ld %s", r.status, r.body);
	url2 = strdup(json_s(r.json, "url"));
	sus2 = json_ll(r.json, "id");
	ck_assert_int_eq(json_ll(r.json, "reemplaza_id"), sus);
	http_free(&r);
	ck_assert_msg(feed_until(url, NULL, 0, 404, &r) >= 0, "the rotated "
	    "URL still answers %ld", r.status);
	http_free(&r);
	ck_assert_msg(feed_until(url2, NULL, 0, 200, &r) >= 0, "the new URL "
	    "answers %ld", r.status);
	http_free(&r);
	http_get("/api/v1/calendarios", &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_int_eq(cJSON_GetArraySize(json_items(r.json)), 1);
	ck_assert_int_eq(json_ll(cJSON_GetArrayItem(json_items(r.json), 0),
	    "id"), sus2);
	ck_assert_ptr_null(cJSON_GetObjectItem(cJSON_GetArrayItem(json_items(
	    r.json), 0), "url"));
	http_free(&r);
	snprintf(path, sizeof(path), "/api/v1/calendarios/%lld", sus2);
	http_req("DELETE", path, NULL, NULL, 0, NULL, &r);
	ck_assert_int_eq(r.status, 204);
	http_free(&r);
	ck_assert_msg(feed_until(url2, NULL, 0, 404, &r) >= 0, "a revoked URL "
	    "answers %ld", r.status);
	assert_problem(&r, 404, "no-encontrado");
	http_free(&r);
	http_req("DELETE", path, NULL, NULL, 0, NULL, &r);
	assert_problem(&r, 404, "no-encontrado");
	http_free(&r);
	http_token(NULL);
	ck_assert_int_eq(db_countf("SELECT count(*) FROM outbox WHERE tipo = "
	    "'calendario.revocado' AND agregado_id IN ('%lld', '%lld')", sus,
	    sus2), 2);
	ck_assert_int_eq(db_countf("SELECT count(*) FROM auditoria WHERE "
	    "entidad = 'calendarios' AND entidad_id IN ('%lld', '%lld')", sus,
	    sus2), 4);
	free(url);
	free(url2);
	free(c.token);
}
END_TEST

START_TEST(feed_de_una_sede)
{
	long long a = fx_sede(LIMA), b = fx_sede(LIMA),
	    vet = fx_vet(a, FX_OFICINA), lunes = fx_dia(LIMA, 1, 2),
	    domingo = fx_dia(LIMA, 7, 2), ca, cb, sus, sus_vet;
	char t[FX_HORA_LEN], body[100], path[64], *tok, *url, *url_vet, *ua,
	    *ub;
	struct http_resp r;
	long long uid;

	db_execf("INSERT INTO veterinario_sedes (veterinario_id, sede_id) "
	    "VALUES (%lld, %lld); INSERT INTO horarios (veterinario_id, "
	    "sede_id, dia_semana, hora_inicio, hora_fin, vigente_desde) VALUES "
	    "(%lld, %lld, 7, '09:00', '13:00', '2024-01-01')", vet, b, vet, b);
	fx_hora(lunes + FX_HM(9, 0), FX_LIMA, t);
	ca = fx_reservar_ok(&(struct fx_cita){ .paciente = fx_paciente(),
	    .veterinario = vet, .sede = a, .inicio = t, .duracion = 30 });
	fx_hora(domingo + FX_HM(10, 0), FX_LIMA, t);
	cb = fx_reservar_ok(&(struct fx_cita){ .paciente = fx_paciente(),
	    .veterinario = vet, .sede = b, .inicio = t, .duracion = 30 });
	ua = uid_of(ca);
	ub = uid_of(cb);

	tok = fx_token_de("recepcion", a, &uid);
	http_token(tok);
	snprintf(body, sizeof(body), "{\"sede_id\":%lld}", a);
	url = suscribir(body, &sus);
	/* Not the other site's, nor the vet's agenda (it spans sites). */
	snprintf(body, sizeof(body), "{\"sede_id\":%lld}", b);
	http_post_json("/api/v1/calendarios", body, &r);
	assert_problem(&r, 403, "prohibido");
	http_free(&r);
	snprintf(body, sizeof(body), "{\"veterinario_id\":%lld}", vet);
	http_post_json("/api/v1/calendarios", body, &r);
	assert_problem(&r, 403, "prohibido");
	http_free(&r);
	http_token(NULL);
	free(tok);

	ck_assert(feed_until(url, ua, 0, 0, &r) >= 0);
	ck_assert_msg(strstr(r.body, ub) == NULL, "site %lld's feed shows "
	    "site %lld's appointment", a, b);
	http_free(&r);
	/* The vet's agenda (a network-wide grant may ask) has both. */
	snprintf(body, sizeof(body), "{\"veterinario_id\":%lld}", vet);
	url_vet = suscribir(body, &sus_vet);
	ck_assert(feed_until(url_vet, ub, 0, 0, &r) >= 0);
	ck_assert_ptr_nonnull(strstr(r.body, ua));
	http_free(&r);
	/* The desk's account disabled: its feed URL stops working. */
	snprintf(path, sizeof(path), "/api/v1/usuarios/%lld", uid);
	http_send_json("PUT", path, "{\"activo\":false}", NULL, &r);
	ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
	http_free(&r);
	ck_assert_msg(feed_until(url, NULL, 0, 404, &r) >= 0, "a disabled "
	    "user's feed answers %ld", r.status);
	http_free(&r);
	ck_assert_int_eq(db_countf("SELECT count(*) FROM calendarios WHERE "
	    "id = %lld AND revocado_en IS NOT NULL", sus), 1);
	free(ua);
	free(ub);
	free(url);
	free(url_vet);
}
END_TEST

START_TEST(suscripciones_entrada_mala)
{
	static const struct {
		const char	*body;
		long		 status;
	} casos[] = {
		{ "{}", 422 },
		{ "{\"veterinario_id\":1,\"sede_id\":1}", 422 },
		{ "{\"veterinario_id\":\"1\"}", 422 },
		{ "{\"veterinario_id\":0}", 422 },
		{ "{\"veterinario_id\":-4}", 422 },
		{ "{\"sede_id\":1.5}", 422 },
		{ "{\"sede_id\":99999999999999999999}", 422 },
		{ "{\"sede\":1}", 422 },
		{ "{\"veterinario_id\":null,\"sede_id\":null}", 422 },
		{ "{\"veterinario_id\":999999999}", 404 },
		{ "{\"sede_id\":999999999}", 404 },
		{ "[1]", 400 },
		{ "{\"sede_id\":", 400 },
	};
	static const char *const urls[] = {
		"/ical/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.ics",
		"/ical/corto.ics",
		"/ical/../../etc/passwd",
		"/ical/%2e%2e%2fnginx%2fnginx.conf",
		"/ical/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.ics",
		"/ical/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA$.ics",
	};
	struct fx_clinica c;
	struct http_resp r;
	long long antes, otro;
	char path[80], body[80], *url;
	size_t i;

	antes = db_count("SELECT count(*) FROM calendarios");
	for (i = 0; i < sizeof(casos) / sizeof(casos[0]); i++) {
		http_post_json("/api/v1/calendarios", casos[i].body, &r);
		ck_assert_msg(r.status == casos[i].status, "%s: %ld, want %ld: %s",
		    casos[i].body, r.status, casos[i].status, r.body);
		http_free(&r);
	}
	ck_assert_int_eq(db_count("SELECT count(*) FROM calendarios"), antes);
	for (i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
		http_get(urls[i], &r);
		ck_assert_msg(r.status == 404 || r.status == 400, "%s: %ld",
		    urls[i], r.status);
		ck_assert_ptr_null(strstr(r.body, "BEGIN:VCALENDAR"));
		http_free(&r);
	}
	http_req("DELETE", "/api/v1/calendarios/abc", NULL, NULL, 0, NULL, &r);
	assert_problem(&r, 400, "id-invalido");
	http_free(&r);
	http_post_json("/api/v1/calendarios/999999999/rotacion", "{}", &r);
	assert_problem(&r, 404, "no-encontrado");
	http_free(&r);

	/* Someone else's subscription: neither revoked nor rotated. */
	fx_clinica(&c);
	snprintf(body, sizeof(body), "{\"sede_id\":%lld}", c.sede);
	url = suscribir(body, &otro);	/* the network admin's */
	http_token(c.token);
	snprintf(path, sizeof(path), "/api/v1/calendarios/%lld", otro);
	http_req("DELETE", path, NULL, NULL, 0, NULL, &r);
	assert_problem(&r, 404, "no-encontrado");
	http_free(&r);
	snprintf(path, sizeof(path), "/api/v1/calendarios/%lld/rotacion",
	    otro);
	http_post_json(path, "{}", &r);
	assert_problem(&r, 404, "no-encontrado");
	http_free(&r);
	http_token(NULL);
	ck_assert(feed_until(url, NULL, 0, 200, &r) >= 0);
	http_free(&r);
	free(url);
	free(c.token);
}
END_TEST

/* POST .../importacion-ausencias with ics (and more members, or ""). */
static void
importar(long long vet, const char *ics, const char *more, struct http_resp *r)
{
	cJSON *o = cJSON_CreateObject();
	char path[96], *body, *full;

	cJSON_AddStringToObject(o, "ics", ics);
	body = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	ck_assert_int_ge(asprintf(&full, "%.*s%s}", (int)strlen(body) - 1, body,
	    more), 0);
	snprintf(path, sizeof(path), "/api/v1/veterinarios/%lld/"
	    "importacion-ausencias", vet);
	http_post_json(path, full, r);
	free(body);
	free(full);
}

#define CAL(body) "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Prueba//ES\r\n" \
	body "END:VCALENDAR\r\n"

START_TEST(importar_ausencias_ics)
{
	static const struct {
		const char	*ics;
		const char	*linea;	/* the start of the message */
	} malos[] = {
		{ "hola, esto no es un calendario", "línea 1:" },
		{ "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n", "línea 2:" },
		{ CAL("END:VEVENT\r\n"), "línea 4:" },
		{ CAL("BEGIN:VEVENT\r\nesta línea no tiene dos puntos\r\n"
		    "END:VEVENT\r\n"), "línea 5:" },
		{ CAL("BEGIN:VEVENT\r\nSUMMARY:un título largo que sigue\r\n"
		    " en la línea siguiente\r\nDTSTART:20270301T100000Z\r\n"
		    "DTEND:20270301T110000Z\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\n"
		    "SUMMARY:sin inicio\r\nEND:VEVENT\r\n"), "línea 10:" },
		{ CAL("BEGIN:VEVENT\r\nDTSTART:20270301T100000Z\r\n"
		    "DTEND:20270301T110000Z\r\nRRULE:FREQ=WEEKLY\r\nEND:VEVENT\r\n"),
		    "línea 4:" },
		{ CAL("BEGIN:VEVENT\r\nDTSTART:20270301T100000Z\r\nEND:VEVENT\r\n"),
		    "línea 4:" },
		{ CAL("BEGIN:VEVENT\r\nDTSTART:20270301T100000Z\r\n"
		    "DTEND:20270301T090000Z\r\nEND:VEVENT\r\n"), "línea 4:" },
		{ CAL("BEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20270101\r\n"
		    "DTEND;VALUE=DATE:20290101\r\nEND:VEVENT\r\n"), "línea 4:" },
		{ CAL("BEGIN:VEVENT\r\nDTSTART:23000101T100000Z\r\n"
		    "DTEND:23000101T110000Z\r\nEND:VEVENT\r\n"), "línea 4:" },
		{ CAL("BEGIN:VEVENT\r\nDTSTART;TZID=Marte/Base:20270301T100000\r\n"
		    "DTEND;TZID=Marte/Base:20270301T110000\r\nEND:VEVENT\r\n"),
		    "línea 4:" },
		{ CAL("BEGIN:VEVENT\r\nDTSTART:2027xx\r\nDTEND:20270301T110000Z\r\n"
		    "END:VEVENT\r\n"), "línea 4:" },
		{ CAL("BEGIN:VEVENT\r\nDTSTART:20270301T100000Z\r\n"
		    "DTEND:20270301T110000Z\r\nTRANSP:TRANSPARENT\r\nEND:VEVENT\r\n"),
		    "línea 1:" },
		{ CAL("") "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", "línea 5:" },
		{ CAL("BEGIN:VEVENT\r\nDTSTART:19990301T100000Z\r\n"
		    "DTEND:19990301T110000Z\r\nEND:VEVENT\r\n"), "línea 4:" },
	};
	struct fx_clinica c;
	struct http_resp r;
	struct vr_buf big;
	char t[FX_HORA_LEN], dia[16], sig[16], ics[2048], path[96];
	const cJSON *e;
	long long cita, antes, eventos, auditados;
	size_t i;
	int k;

	fx_clinica(&c);
	fx_hora(fx_dia(LIMA, 0, 5) + FX_HM(10, 0), FX_LIMA, t);
	cita = fx_reservar_ok(&(struct fx_cita){ .paciente = fx_paciente(),
	    .veterinario = c.vet, .sede = c.sede, .inicio = t, .duracion = 30 });
	snprintf(dia, sizeof(dia), "%.4s%.2s%.2s", t, t + 5, t + 8);
	fx_hora(fx_dia(LIMA, 0, 6), FX_LIMA, t);
	snprintf(sig, sizeof(sig), "%.4s%.2s%.2s", t, t + 5, t + 8);

	/* An all-day event (the booking's day, in the site's zone), a
	 * meeting in Madrid's time, two overlapping ones (one absence), free
	 * time and a cancelled event (skipped). */
	snprintf(ics, sizeof(ics), CAL(
	    "BEGIN:VEVENT\r\nUID:1\r\nDTSTART;VALUE=DATE:%s\r\n"
	    "DTEND;VALUE=DATE:%s\r\nSUMMARY:Vacaciones (privado)\r\nEND:VEVENT\r\n"
	    "BEGIN:VEVENT\r\nUID:2\r\nDTSTART;TZID=Europe/Madrid:20270310T100000\r\n"
	    "DTEND;TZID=Europe/Madrid:20270310T120000\r\nEND:VEVENT\r\n"
	    "BEGIN:VEVENT\r\nUID:3\r\nDTSTART:20270401T130000Z\r\n"
	    "DTEND:20270401T150000Z\r\nEND:VEVENT\r\n"
	    "BEGIN:VEVENT\r\nUID:4\r\nDTSTART:20270401T140000Z\r\n"
	    "DURATION:PT3H\r\nEND:VEVENT\r\n"
	    "BEGIN:VEVENT\r\nUID:5\r\nDTSTART:20270501T140000Z\r\n"
	    "DTEND:20270501T150000Z\r\nTRANSP:TRANSPARENT\r\nEND:VEVENT\r\n"
	    "BEGIN:VEVENT\r\nUID:6\r\nDTSTART:20270601T140000Z\r\n"
	    "DTEND:20270601T150000Z\r\nSTATUS:CANCELLED\r\nEND:VEVENT\r\n"),
	    dia, sig);
	eventos = db_count("SELECT count(*) FROM outbox WHERE tipo = "
	    "'ausencia.registrada'");
	importar(c.vet, ics, ",\"tipo\":\"vacaciones\"", &r);
	ck_assert_msg(r.status == 201, "%ld %s", r.status, r.body);
	e = cJSON_GetObjectItem(r.json, "ausencias");
	ck_assert_int_eq(cJSON_GetArraySize(e), 3);
	ck_assert_str_eq(json_s(cJSON_GetArrayItem(e, 0), "inicio") + 10,
	    "T00:00:00-05:00");
	ck_assert_str_eq(json_s(cJSON_GetArrayItem(e, 1), "inicio"),
	    "2027-03-10T04:00:00-05:00");	/* 10:00 in Madrid */
	ck_assert_str_eq(json_s(cJSON_GetArrayItem(e, 2), "fin"),
	    "2027-04-01T12:00:00-05:00");	/* 13:00Z to 17:00Z, joined */
	ck_assert_str_eq(json_s(cJSON_GetArrayItem(e, 0), "tipo"), "vacaciones");
	ck_assert_ptr_null(strstr(r.body, "privado"));
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(r.json,
	    "citas_afectadas")), 1);
	ck_assert_int_eq((long long)cJSON_GetArrayItem(cJSON_GetObjectItem(
	    r.json, "citas_afectadas"), 0)->valuedouble, cita);
	http_free(&r);
	ck_assert_int_eq(db_count("SELECT count(*) FROM outbox WHERE tipo = "
	    "'ausencia.registrada'"), eventos + 3);

	/* Bad files: 422 naming the line; the same file again: 409. */
	antes = db_countf("SELECT count(*) FROM ausencias WHERE "
	    "veterinario_id = %lld", c.vet);
	auditados = db_count("SELECT count(*) FROM auditoria WHERE entidad = "
	    "'ausencias'");
	for (i = 0; i < sizeof(malos) / sizeof(malos[0]); i++) {
		importar(c.vet, malos[i].ics, "", &r);
		assert_problem(&r, 422, "validacion");
		e = cJSON_GetArrayItem(cJSON_GetObjectItem(r.json, "errors"), 0);
		ck_assert_msg(strncmp(json_s(e, "mensaje"), malos[i].linea,
		    strlen(malos[i].linea)) == 0, "case %zu: %s", i, r.body);
		http_free(&r);
	}
	importar(c.vet, ics, "", &r);
	assert_problem(&r, 409, "conflicto");
	http_free(&r);
	/* 501 events. */
	vr_buf_init(&big);
	vr_buf_puts(&big, "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n");
	for (k = 0; k < 501; k++)
		vr_buf_printf(&big, "BEGIN:VEVENT\r\nDTSTART:20280101T%02d0000Z\r\n"
		    "DTEND:20280101T%02d3000Z\r\nEND:VEVENT\r\n", k % 24, k % 24);
	vr_buf_puts(&big, "END:VCALENDAR\r\n");
	importar(c.vet, big.data, "", &r);
	assert_problem(&r, 422, "validacion");
	ck_assert_ptr_nonnull(strstr(r.body, "más de 500 eventos"));
	http_free(&r);
	vr_buf_free(&big);
	importar(c.vet, ics, ",\"tipo\":\"feriado\"", &r);
	assert_problem(&r, 422, "validacion");
	http_free(&r);
	importar(c.vet, ics, ",\"archivo\":1", &r);
	assert_problem(&r, 422, "validacion");
	http_free(&r);
	snprintf(path, sizeof(path), "/api/v1/veterinarios/%lld/"
	    "importacion-ausencias", c.vet);
	http_post_json(path, "{\"tipo\":\"otro\"}", &r);
	assert_problem(&r, 422, "validacion");
	ck_assert(fx_has_error(&r, "ics"));
	http_free(&r);
	importar(999999999, ics, "", &r);
	assert_problem(&r, 404, "no-encontrado");
	http_free(&r);
	ck_assert_int_eq(db_countf("SELECT count(*) FROM ausencias WHERE "
	    "veterinario_id = %lld", c.vet), antes);
	ck_assert_int_eq(db_count("SELECT count(*) FROM auditoria WHERE "
	    "entidad = 'ausencias'"), auditados);
	free(c.token);
}
END_TEST

Suite *
calendarios_suite(void)
{
	Suite *s = suite_create("calendarios");
	TCase *tc = tcase_create("calendarios");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, feed_de_un_veterinario);
	tcase_add_test(tc, feed_de_una_sede);
	tcase_add_test(tc, suscripciones_entrada_mala);
	tcase_add_test(tc, importar_ausencias_ics);
	suite_add_tcase(s, tc);
	return s;
}
