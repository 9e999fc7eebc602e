/*
 * check_concurrency.c - writes racing through nginx to both API
 * processes: overlapping requests for one vet leave exactly one
 * appointment, a thousand distinct slots are all booked, retries of one
 * Idempotency-Key made at the same time book once, and pets of one new
 * owner registered at the same time share one owner row, and amendments
 * of one version of a clinical entry made at once leave one successor.
 * The requests
 * go out together from one curl multi handle, many connections at once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "itest.h"

#define SEDE		1LL

struct mreq {
	char			*body;		/* JSON, owned */
	struct curl_slist	*hdrs;
	long			 status;
	char			*resp;		/* NUL-terminated */
	size_t			 len;
	cJSON			*json;
	int			 replayed;	/* Idempotent-Replayed: true */
};

static size_t
collect(char *data, size_t size, size_t n, void *arg)
{
	struct mreq *m = arg;
	size_t add = size * n;

	m->resp = realloc(m->resp, m->len + add + 1);
	ck_assert_ptr_nonnull(m->resp);
	memcpy(m->resp + m->len, data, add);
	m->len += add;
	m->resp[m->len] = '\0';
	return add;
}

static size_t
header(char *data, size_t size, size_t n, void *arg)
{
	struct mreq *m = arg;
	static const char want[] = "idempotent-replayed: true";

	if (size * n >= sizeof(want) - 1 &&
	    strncasecmp(data, want, sizeof(want) - 1) == 0)
		m->replayed = 1;
	return size * n;
}

static CURL *
easy_for(struct mreq *m, const char *url)
{
	CURL *c = curl_easy_init();

	ck_assert_ptr_nonnull(c);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, m->body);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, m->hdrs);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, m);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, m);
	curl_easy_setopt(c, CURLOPT_PRIVATE, m);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
	return c;
}

/*
 * POST every request to path, at most parallel at a time (each on its
 * own connection).  Statuses and bodies land in reqs.
 */
static void
post_all(const char *path, struct mreq *reqs, int n, int parallel)
{
	char url[512];
	CURLM *mh = curl_multi_init();
	CURLMsg *msg;
	struct mreq *m;
	int next = 0, running = 1, left, done = 0;

	ck_assert_ptr_nonnull(mh);
	snprintf(url, sizeof(url), "%s%s", http_base(), path);
	curl_multi_setopt(mh, CURLMOPT_MAXCONNECTS, (long)parallel);
	for (; next < n && next < parallel; next++)
		curl_multi_add_handle(mh, easy_for(&reqs[next], url));
	while (done < n) {
		ck_assert_int_eq(curl_multi_perform(mh, &running), CURLM_OK);
		while ((msg = curl_multi_info_read(mh, &left)) != NULL) {
			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE,
			    (char **)&m);
			ck_assert_msg(msg->data.result == CURLE_OK, "%s",
			    curl_easy_strerror(msg->data.result));
			curl_easy_getinfo(msg->easy_handle,
			    CURLINFO_RESPONSE_CODE, &m->status);
			if (m->resp != NULL)
				m->json = cJSON_Parse(m->resp);
			curl_multi_remove_handle(mh, msg->easy_handle);
			curl_easy_cleanup(msg->easy_handle);
			done++;
			if (next < n)
				curl_multi_add_handle(mh, easy_for(&reqs[next++],
				    url));
		}
		if (done < n)
			curl_multi_poll(mh, NULL, 0, 100, NULL);
	}
	curl_multi_cleanup(mh);
}

static struct mreq *
mreqs_new(int n)
{
	struct mreq *r = calloc((size_t)n, sizeof(*r));

	ck_assert_ptr_nonnull(r);
	return r;
}

/* Takes ownership of body (malloc'd JSON). */
static void
mreq_set(struct mreq *m, char *body, const char *key)
{
	char hdr[160];

	m->body = body;
	m->hdrs = curl_slist_append(NULL, "Content-Type: application/json");
	m->hdrs = curl_slist_append(m->hdrs, "Expect:");
	m->hdrs = curl_slist_append(m->hdrs, http_auth_header());
	if (key != NULL) {
		snprintf(hdr, sizeof(hdr), "Idempotency-Key: %s", key);
		m->hdrs = curl_slist_append(m->hdrs, hdr);
	}
}

static void
mreqs_free(struct mreq *r, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		free(r[i].body);
		free(r[i].resp);
		curl_slist_free_all(r[i].hdrs);
		cJSON_Delete(r[i].json);
	}
	free(r);
}

#define CARRERA	50

START_TEST(cincuenta_reservas_que_se_solapan_dejan_una)
{
	long long vet = fx_vet(SEDE, FX_DIA_COMPLETO), p[CARRERA], winner = 0;
	long long d = fx_dia("America/Lima", 0, 3);
	char t[CARRERA][FX_HORA_LEN], a[FX_HORA_LEN], b[FX_HORA_LEN];
	struct mreq *m = mreqs_new(CARRERA);
	struct fx_counts before;
	int i, ok = 0, conflict = 0;

	fx_pacientes(CARRERA, p);
	/* Starts one minute apart, an hour long: every pair overlaps. */
	for (i = 0; i < CARRERA; i++) {
		fx_hora(d + FX_HM(10, i), FX_LIMA, t[i]);
		mreq_set(&m[i], fx_cita_json(&(struct fx_cita){
		    .paciente = p[i], .veterinario = vet, .sede = SEDE,
		    .inicio = t[i], .duracion = 60 }), NULL);
	}
	fx_snapshot(&before);
	post_all("/api/v1/citas/reservar", m, CARRERA, CARRERA);
	for (i = 0; i < CARRERA; i++) {
		if (m[i].status == 201) {
			ok++;
			winner = json_ll(m[i].json, "id");
		} else if (m[i].status == 409)
			conflict++;
		else
			ck_abort_msg("request %d: %ld %s", i, m[i].status,
			    m[i].resp);
	}
	ck_assert_int_eq(ok, 1);
	ck_assert_int_eq(conflict, CARRERA - 1);
	/* Every loser names the winner. */
	for (i = 0; i < CARRERA; i++)
		if (m[i].status == 409)
			ck_assert_int_eq(json_ll(cJSON_GetObjectItem(m[i].json,
			    "conflicto"), "cita_id"), winner);
	fx_assert_delta(&before, 1, 0, 0, 1, 1);
	fx_hora(d + FX_HM(9, 0), FX_LIMA, a);
	fx_hora(d + FX_HM(12, 0), FX_LIMA, b);
	ck_assert_int_eq(db_countf("SELECT count(*) FROM citas WHERE "
	    "veterinario_id = %lld AND estado NOT IN ('cancelada', "
	    "'no_asistio') AND periodo && tstzrange('%s', '%s')", vet, a, b),
	    1);
	mreqs_free(m, CARRERA);
}
END_TEST

#define MIL		1000
#define PARALELO	48

START_TEST(mil_huecos_distintos_en_paralelo)
{
	long long vet = fx_vet(SEDE, FX_DIA_COMPLETO), *p = calloc(MIL,
	    sizeof(*p)), d = fx_dia("America/Lima", 0, 2);
	char (*t)[FX_HORA_LEN] = calloc(MIL, FX_HORA_LEN);
	struct mreq *m = mreqs_new(MIL);
	struct fx_counts before;
	int i, ok = 0;

	ck_assert(p != NULL && t != NULL);
	fx_pacientes(MIL, p);
	/* 15-minute slots back to back over about ten and a half days. */
	for (i = 0; i < MIL; i++) {
		fx_hora(d + 15 * 60 * (long long)i, FX_LIMA, t[i]);
		mreq_set(&m[i], fx_cita_json(&(struct fx_cita){
		    .paciente = p[i], .veterinario = vet, .sede = SEDE,
		    .inicio = t[i], .duracion = 15 }), NULL);
	}
	fx_snapshot(&before);
	post_all("/api/v1/citas/reservar", m, MIL, PARALELO);
	for (i = 0; i < MIL; i++) {
		ck_assert_msg(m[i].status == 201, "slot %d (%s): %ld %s", i,
		    t[i], m[i].status, m[i].resp);
		ok++;
	}
	ck_assert_int_eq(ok, MIL);
	fx_assert_delta(&before, MIL, 0, 0, MIL, MIL);
	ck_assert_int_eq(db_countf("SELECT count(*) FROM citas WHERE "
	    "veterinario_id = %lld AND estado = 'reservada'", vet), MIL);
	ck_assert_int_eq(db_countf("SELECT count(DISTINCT lower(periodo)) "
	    "FROM citas WHERE veterinario_id = %lld", vet), MIL);
	mreqs_free(m, MIL);
	free(p);
	free(t);
}
END_TEST

#define REINTENTOS	20

START_TEST(reintentos_simultaneos_de_una_clave_reservan_una_vez)
{
	long long vet = fx_vet(SEDE, FX_DIA_COMPLETO), pac = fx_paciente(), id;
	char t[FX_HORA_LEN], *key = db_value("SELECT 'itest-' || "
	    "gen_random_uuid()");
	struct mreq *m = mreqs_new(REINTENTOS);
	struct fx_counts before;
	int i, replays = 0;

	fx_hora(fx_dia("America/Lima", 0, 3) + FX_HM(9, 0), FX_LIMA, t);
	for (i = 0; i < REINTENTOS; i++)
		mreq_set(&m[i], fx_cita_json(&(struct fx_cita){
		    .paciente = pac, .veterinario = vet, .sede = SEDE,
		    .inicio = t }), key);
	fx_snapshot(&before);
	post_all("/api/v1/citas/reservar", m, REINTENTOS, REINTENTOS);
	id = m[0].status == 201 ? json_ll(m[0].json, "id") : 0;
	for (i = 0; i < REINTENTOS; i++) {
		ck_assert_msg(m[i].status == 201, "retry %d: %ld %s", i,
		    m[i].status, m[i].resp);
		ck_assert_int_eq(json_ll(m[i].json, "id"), id);
		replays += m[i].replayed;
	}
	ck_assert_int_eq(replays, REINTENTOS - 1);
	fx_assert_delta(&before, 1, 0, 0, 1, 1);
	mreqs_free(m, REINTENTOS);
	free(key);
}
END_TEST

#define MASCOTAS	20

START_TEST(registros_simultaneos_de_un_dueno_nuevo_crean_uno)
{
	char *dni = fx_dni_libre();
	struct mreq *m = mreqs_new(MASCOTAS);
	struct fx_counts before;
	long long prop = 0;
	char *body;
	int i, creados = 0;

	for (i = 0; i < MASCOTAS; i++) {
		ck_assert_int_ge(asprintf(&body, "{\"propietario\":{\"nombres\":"
		    "\"Rosa\",\"apellidos\":\"Huamán\",\"documento\":\"%s\","
		    "\"telefono\":\"+51987000111\"},\"nombre\":\"Mascota %d\","
		    "\"especie\":\"roedor\"}", dni, i), 0);
		mreq_set(&m[i], body, NULL);
	}
	fx_snapshot(&before);
	post_all("/api/v1/pacientes/registro", m, MASCOTAS, MASCOTAS);
	for (i = 0; i < MASCOTAS; i++) {
		ck_assert_msg(m[i].status == 201, "pet %d: %ld %s", i,
		    m[i].status, m[i].resp);
		creados += cJSON_IsTrue(cJSON_GetObjectItem(m[i].json,
		    "propietario_creado"));
		if (prop == 0)
			prop = json_ll(cJSON_GetObjectItem(m[i].json,
			    "propietario"), "id");
		ck_assert_int_eq(json_ll(cJSON_GetObjectItem(m[i].json,
		    "propietario"), "id"), prop);
	}
	ck_assert_int_eq(creados, 1);
	/* One owner (and its audit row), twenty pets with theirs. */
	fx_assert_delta(&before, 0, 1, MASCOTAS, MASCOTAS + 1, MASCOTAS);
	ck_assert_int_eq(db_countf("SELECT count(*) FROM propietarios WHERE "
	    "tipo_documento = 'DNI' AND documento_hmac = decode('%s', 'hex')",
	    doc_hmac(dni)), 1);
	mreqs_free(m, MASCOTAS);
	free(dni);
}
END_TEST

/*
 * The same pet sent many times at once, half of them for an owner not
 * registered yet and by its document: one pet, every other answer a 409
 * naming it (registrations of one owner are serialised).
 */
START_TEST(registros_simultaneos_del_mismo_paciente_crean_uno)
{
	char *dni = fx_dni_libre();
	struct mreq *m = mreqs_new(MASCOTAS);
	struct fx_counts before;
	long long id = 0;
	char *body;
	int i, creados = 0;

	for (i = 0; i < MASCOTAS; i++) {
		ck_assert_int_ge(asprintf(&body, "{\"propietario\":{\"nombres\":"
		    "\"Rosa\",\"apellidos\":\"Huamán\",\"documento\":\"%s\","
		    "\"telefono\":\"+51987000111\"},\"nombre\":\"%s\","
		    "\"especie\":\"roedor\"}", dni, i % 2 ? "Pelusa" : "pelusa"),
		    0);
		mreq_set(&m[i], body, NULL);
	}
	fx_snapshot(&before);
	post_all("/api/v1/pacientes/registro", m, MASCOTAS, MASCOTAS);
	for (i = 0; i < MASCOTAS; i++)
		if (m[i].status == 201) {
			creados++;
			id = json_ll(m[i].json, "id");
		}
	ck_assert_int_eq(creados, 1);
	for (i = 0; i < MASCOTAS; i++) {
		if (m[i].status == 201)
			continue;
		ck_assert_msg(m[i].status == 409, "%d: %ld %s", i, m[i].status,
		    m[i].resp);
		ck_assert_int_eq(json_ll(cJSON_GetObjectItem(m[i].json,
		    "paciente_existente"), "id"), id);
	}
	fx_assert_delta(&before, 0, 1, 1, 2, 1);
	mreqs_free(m, MASCOTAS);
	free(dni);
}
END_TEST

/* Eight amendments of one version at once: one new version, seven told
 * it was replaced; the entry keeps a single line of versions. */
START_TEST(enmiendas_simultaneas_de_una_version_dejan_una)
{
	struct fx_clinica c;
	struct http_resp r;
	struct mreq *m = mreqs_new(8);
	long long pac = fx_paciente(), id;
	char path[96], body[160];
	int i, ok = 0, conflict = 0;

	fx_clinica(&c);
	http_token(c.token);
	snprintf(path, sizeof(path), "/api/v1/pacientes/%lld/entradas", pac);
	snprintf(body, sizeof(body), "{\"sede_id\":%lld,\"plan\":\"Control\"}",
	    c.sede);
	http_post_json(path, body, &r);
	ck_assert_msg(r.status == 201, "%ld %s", r.status, r.body);
	id = json_ll(r.json, "id");
	http_free(&r);
	for (i = 0; i < 8; i++) {
		char *b;

		ck_assert_int_ge(asprintf(&b, "{\"motivo\":\"Revisión %d\","
		    "\"plan\":\"Control en %d días\"}", i, i + 1), 0);
		mreq_set(&m[i], b, NULL);
	}
	snprintf(path, sizeof(path), "/api/v1/entradas/%lld/enmiendas", id);
	post_all(path, m, 8, 8);
	for (i = 0; i < 8; i++) {
		ok += m[i].status == 201;
		conflict += m[i].status == 409;
	}
	ck_assert_msg(ok == 1 && conflict == 7, "201: %d, 409: %d", ok,
	    conflict);
	ck_assert_int_eq(db_countf("SELECT count(*) FROM historia_entradas WHERE "
	    "original_id = %lld", id), 1);
	mreqs_free(m, 8);
	http_token(NULL);
	free(c.token);
}
END_TEST

Suite *
concurrency_suite(void)
{
	Suite *s = suite_create("concurrency");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, cincuenta_reservas_que_se_solapan_dejan_una);
	tcase_add_test(tc, mil_huecos_distintos_en_paralelo);
	tcase_add_test(tc, reintentos_simultaneos_de_una_clave_reservan_una_vez);
	tcase_add_test(tc, registros_simultaneos_de_un_dueno_nuevo_crean_uno);
	tcase_add_test(tc, registros_simultaneos_del_mismo_paciente_crean_uno);
	tcase_add_test(tc, enmiendas_simultaneas_de_una_version_dejan_una);
	suite_add_tcase(s, tc);
	return s;
}
