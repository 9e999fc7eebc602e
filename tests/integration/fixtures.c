/*
 * fixtures.c - the data of the booking tests, made by SQL in each test:
 * sites, vets with their working hours, rooms, owners and patients, all
 * fresh, so that no test depends on another's leftovers and a second run
 * against the same database finds nothing in its way.  Times are built
 * from now() in the site's time zone.  Also the before/after row counts
 * that prove a refused request wrote nothing.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "itest.h"

static char *
vformat(const char *fmt, va_list ap)
{
	char *s = NULL;

	ck_assert_int_ge(vasprintf(&s, fmt, ap), 0);
	return s;
}

void
db_execf(const char *fmt, ...)
{
	PGconn *c;
	PGresult *res;
	va_list ap;
	char *sql;
	ExecStatusType st;

	va_start(ap, fmt);
	sql = vformat(fmt, ap);
	va_end(ap);
	c = db_connect();
	res = PQexec(c, sql);
	st = PQresultStatus(res);
	ck_assert_msg(st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK,
	    "%s: %s", sql, PQerrorMessage(c));
	PQclear(res);
	PQfinish(c);
	free(sql);
}

char *
db_valuef(const char *fmt, ...)
{
	va_list ap;
	char *sql, *v;

	va_start(ap, fmt);
	sql = vformat(fmt, ap);
	va_end(ap);
	v = db_value(sql);
	free(sql);
	return v;
}

long long
db_countf(const char *fmt, ...)
{
	va_list ap;
	char *sql;
	long long n;

	va_start(ap, fmt);
	sql = vformat(fmt, ap);
	va_end(ap);
	n = db_count(sql);
	free(sql);
	return n;
}

/* The first column of every row, as ids, into ids[0..max). */
static int
db_ids(const char *sql, long long *ids, int max)
{
	PGconn *c = db_connect();
	PGresult *res = PQexec(c, sql);
	int i, n;

	ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK, "%s: %s", sql,
	    PQerrorMessage(c));
	n = PQntuples(res);
	ck_assert_int_le(n, max);
	for (i = 0; i < n; i++)
		ids[i] = atoll(PQgetvalue(res, i, 0));
	PQclear(res);
	PQfinish(c);
	return n;
}

/*
 * A new site in zone tz.  It opens on the network's holidays, so that a
 * test booking "the day after tomorrow" does not depend on the calendar;
 * the holiday tests close theirs.
 */
long long
fx_sede(const char *tz)
{
	char *code, *v;
	long long id;
	int tries;

	/* A random code may exist already: draw again. */
	for (tries = 0; tries < 20; tries++) {
		code = unique_code("F");
		v = db_valuef("INSERT INTO sedes (codigo, nombre, ciudad, "
		    "direccion, zona_horaria, abre_en_feriados) VALUES ('%s', "
		    "'Sede de prueba %s', 'Ciudad de prueba', 'Calle de prueba "
		    "123', '%s', true) "
		    "ON CONFLICT (codigo) DO NOTHING RETURNING id", code, code,
		    tz);
		free(code);
		if (v != NULL) {
			id = atoll(v);
			free(v);
			return id;
		}
	}
	ck_abort_msg("no free site code");
	return 0;
}

/*
 * A vet who works at sede only.  FX_OFICINA: like the demo vets, Monday
 * to Saturday 08:00-13:00 and 14:00-19:00; FX_DIA_COMPLETO: every day,
 * 00:00-24:00.  The user, the vet, the link and the hours go in one
 * statement; cmvp is derived from the new user's id, hence unique.
 */
long long
fx_vet(long long sede, enum fx_jornada j)
{
	static const char *const bloques[] = {
		[FX_OFICINA] = "SELECT d, time '08:00', time '13:00' FROM "
		    "generate_series(1, 6) d UNION ALL SELECT d, time '14:00', "
		    "time '19:00' FROM generate_series(1, 6) d",
		[FX_DIA_COMPLETO] = "SELECT d, time '00:00', time '24:00' FROM "
		    "generate_series(1, 7) d",
	};
	char *v;
	long long id;

	v = db_valuef("WITH u AS (INSERT INTO usuarios (email, nombre) "
	    "VALUES ('itest.' || gen_random_uuid() || '@vetred.test', "
	    "'Vet de prueba') RETURNING id), "
	    "v AS (INSERT INTO veterinarios (usuario_id, nombres, apellidos, "
	    "cmvp) SELECT id, 'Vet', 'Prueba ' || id, (500000 + id)::text "
	    "FROM u RETURNING id), "
	    "vs AS (INSERT INTO veterinario_sedes (veterinario_id, sede_id) "
	    "SELECT id, %lld FROM v RETURNING veterinario_id), "
	    "h AS (INSERT INTO horarios (veterinario_id, sede_id, dia_semana, "
	    "hora_inicio, hora_fin, vigente_desde) SELECT vs.veterinario_id, "
	    "%lld, b.d, b.i, b.f, DATE '2024-01-01' FROM vs, (%s) b (d, i, f) "
	    "RETURNING 1) "
	    "SELECT id FROM v WHERE (SELECT count(*) FROM h) > 0", sede, sede,
	    bloques[j]);
	ck_assert_ptr_nonnull(v);
	id = atoll(v);
	free(v);
	return id;
}

/*
 * A new user holding rol at sede (0: network-wide), and a token for it
 * as the API would sign one (malloc'd).
 */
char *
fx_token_de(const char *rol, long long sede, long long *uid)
{
	char roles[96], where[24] = "NULL", *v;
	long long id;

	if (sede != 0)
		snprintf(where, sizeof(where), "%lld", sede);
	v = db_valuef("WITH u AS (INSERT INTO usuarios (email, nombre) "
	    "VALUES ('itest.' || gen_random_uuid() || '@vetred.test', "
	    "'Persona de prueba') RETURNING id) "
	    "INSERT INTO usuario_roles (usuario_id, sede_id, rol) SELECT id, "
	    "%s, '%s' FROM u RETURNING usuario_id", where, rol);
	ck_assert_ptr_nonnull(v);
	id = atoll(v);
	free(v);
	if (uid != NULL)
		*uid = id;
	snprintf(roles, sizeof(roles), "[{\"rol\":\"%s\",\"sede\":%s}]",
	    rol, sede != 0 ? where : "null");
	return token_for(id, roles);
}

/* A site, a vet working there around the clock, that vet's user and a
 * token of theirs (veterinario there). */
void
fx_clinica(struct fx_clinica *c)
{
	char *v, roles[96];

	c->sede = fx_sede("America/Lima");
	c->vet = fx_vet(c->sede, FX_DIA_COMPLETO);
	v = db_valuef("SELECT usuario_id FROM veterinarios WHERE id = %lld",
	    c->vet);
	ck_assert_ptr_nonnull(v);
	c->usuario = atoll(v);
	free(v);
	db_execf("INSERT INTO usuario_roles (usuario_id, sede_id, rol) VALUES "
	    "(%lld, %lld, 'veterinario')", c->usuario, c->sede);
	snprintf(roles, sizeof(roles), "[{\"rol\":\"veterinario\",\"sede\":%lld}]",
	    c->sede);
	c->token = token_for(c->usuario, roles);
}

long long
fx_consultorio(long long sede)
{
	char *v = db_valuef("INSERT INTO consultorios (sede_id, nombre) "
	    "VALUES (%lld, 'Consultorio ' || gen_random_uuid()) RETURNING id",
	    sede);
	long long id;

	ck_assert_ptr_nonnull(v);
	id = atoll(v);
	free(v);
	return id;
}

/*
 * n patients of one new owner (a random CE document), in one INSERT ...
 * SELECT generate_series; their ids in ids[0..n) in creation order.
 */
void
fx_pacientes(int n, long long *ids)
{
	char *sql;

	ck_assert_int_ge(asprintf(&sql, "WITH o AS (INSERT INTO propietarios "
	    "(nombres, apellidos, tipo_documento, numero_documento, telefono) "
	    "VALUES ('Dueño', 'De Prueba', 'CE', upper(substr(md5("
	    "gen_random_uuid()::text), 1, 12)), '+51900000000') RETURNING id) "
	    "INSERT INTO pacientes (propietario_id, nombre, especie) "
	    "SELECT o.id, 'Paciente ' || g, 'canino' FROM o, "
	    "generate_series(1, %d) g ORDER BY g RETURNING id", n), 0);
	ck_assert_int_eq(db_ids(sql, ids, n), n);
	free(sql);
}

long long
fx_paciente(void)
{
	long long id;

	fx_pacientes(1, &id);
	return id;
}

/* An 8-digit DNI no owner has yet; malloc'd. */
char *
fx_dni_libre(void)
{
	char *v = db_value("SELECT d FROM (SELECT lpad(floor(random() * "
	    "1e8)::bigint::text, 8, '0') AS d FROM generate_series(1, 20)) x "
	    "WHERE NOT EXISTS (SELECT 1 FROM propietarios p WHERE "
	    "p.tipo_documento = 'DNI' AND p.numero_documento = x.d) LIMIT 1");

	ck_assert_ptr_nonnull(v);
	return v;
}

/*
 * Local midnight (epoch seconds) of the first date at least min_days
 * after today in time zone tz whose ISO weekday is isodow (0: any day).
 */
long long
fx_dia(const char *tz, int isodow, int min_days)
{
	char *v = db_valuef("SELECT extract(epoch FROM (d AT TIME ZONE "
	    "'%s'))::bigint FROM generate_series(((now() AT TIME ZONE '%s')"
	    "::date + %d)::timestamp, ((now() AT TIME ZONE '%s')::date + %d + "
	    "6)::timestamp, interval '1 day') d WHERE %d = 0 OR "
	    "extract(isodow FROM d) = %d ORDER BY d LIMIT 1", tz, tz, min_days,
	    tz, min_days, isodow, isodow);
	long long t;

	ck_assert_ptr_nonnull(v);
	t = atoll(v);
	free(v);
	return t;
}

/* RFC 3339 text of epoch t at a fixed offset (minutes east of UTC). */
void
fx_hora(long long t, int offset_min, char out[FX_HORA_LEN])
{
	time_t local = (time_t)(t + offset_min * 60);
	struct tm tm;
	int off = offset_min < 0 ? -offset_min : offset_min;
	size_t n;

	gmtime_r(&local, &tm);
	n = strftime(out, FX_HORA_LEN, "%Y-%m-%dT%H:%M:%S", &tm);
	ck_assert_int_eq(n, 19);
	snprintf(out + n, FX_HORA_LEN - n, "%c%02d:%02d",
	    offset_min < 0 ? '-' : '+', (off / 60) % 24, off % 60);
}

char *
fx_cita_json(const struct fx_cita *c)
{
	cJSON *o = cJSON_CreateObject();
	char *s;

	cJSON_AddNumberToObject(o, "paciente_id", (double)c->paciente);
	cJSON_AddNumberToObject(o, "veterinario_id", (double)c->veterinario);
	cJSON_AddNumberToObject(o, "sede_id", (double)c->sede);
	if (c->consultorio != 0)
		cJSON_AddNumberToObject(o, "consultorio_id",
		    (double)c->consultorio);
	cJSON_AddStringToObject(o, "inicio", c->inicio);
	if (c->fin != NULL)
		cJSON_AddStringToObject(o, "fin", c->fin);
	else
		cJSON_AddNumberToObject(o, "duracion_min", c->duracion > 0 ?
		    c->duracion : 30);
	cJSON_AddStringToObject(o, "motivo", c->motivo != NULL ? c->motivo :
	    "Control de rutina");
	if (c->tipo != NULL)
		cJSON_AddStringToObject(o, "tipo", c->tipo);
	s = cJSON_PrintUnformatted(o);
	ck_assert_ptr_nonnull(s);
	cJSON_Delete(o);
	return s;
}

void
fx_reservar(const struct fx_cita *c, const char *const *extra,
    struct http_resp *out)
{
	char *body = fx_cita_json(c);

	http_req("POST", "/api/v1/citas/reservar", "application/json", body,
	    strlen(body), extra, out);
	free(body);
}

long long
fx_reservar_ok(const struct fx_cita *c)
{
	struct http_resp r;
	long long id;

	fx_reservar(c, NULL, &r);
	ck_assert_msg(r.status == 201, "booking %s: %ld %s", c->inicio,
	    r.status, r.body);
	id = json_ll(r.json, "id");
	http_free(&r);
	return id;
}

/* PUT /api/v1/citas/{id} with a JSON body and optional header lines. */
void
fx_put_cita(long long id, const char *json, const char *const *extra,
    struct http_resp *out)
{
	char path[64];

	snprintf(path, sizeof(path), "/api/v1/citas/%lld", id);
	http_req("PUT", path, "application/json", json, strlen(json), extra,
	    out);
}

void
fx_snapshot(struct fx_counts *c)
{
	PGconn *conn = db_connect();
	PGresult *res = PQexec(conn, "SELECT (SELECT count(*) FROM citas), "
	    "(SELECT count(*) FROM propietarios), (SELECT count(*) FROM "
	    "pacientes), (SELECT count(*) FROM auditoria), (SELECT count(*) "
	    "FROM outbox WHERE agregado <> 'trabajo')");

	ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK, "counts: %s",
	    PQerrorMessage(conn));
	c->citas = atoll(PQgetvalue(res, 0, 0));
	c->propietarios = atoll(PQgetvalue(res, 0, 1));
	c->pacientes = atoll(PQgetvalue(res, 0, 2));
	c->auditoria = atoll(PQgetvalue(res, 0, 3));
	c->outbox = atoll(PQgetvalue(res, 0, 4));
	PQclear(res);
	PQfinish(conn);
}

/* The rows added since before are exactly these. */
void
fx_assert_delta(const struct fx_counts *before, int citas, int propietarios,
    int pacientes, int auditoria, int outbox)
{
	struct fx_counts now;

	fx_snapshot(&now);
	ck_assert_msg(now.citas - before->citas == citas &&
	    now.propietarios - before->propietarios == propietarios &&
	    now.pacientes - before->pacientes == pacientes &&
	    now.auditoria - before->auditoria == auditoria &&
	    now.outbox - before->outbox == outbox,
	    "rows added: citas %lld, propietarios %lld, pacientes %lld, "
	    "auditoria %lld, outbox %lld; want %d %d %d %d %d",
	    now.citas - before->citas, now.propietarios - before->propietarios,
	    now.pacientes - before->pacientes,
	    now.auditoria - before->auditoria, now.outbox - before->outbox,
	    citas, propietarios, pacientes, auditoria, outbox);
}

void
fx_assert_unchanged(const struct fx_counts *before)
{
	fx_assert_delta(before, 0, 0, 0, 0, 0);
}

/* The error list of a problem names campo. */
int
fx_has_error(const struct http_resp *r, const char *campo)
{
	const cJSON *e, *c;

	cJSON_ArrayForEach(e, cJSON_GetObjectItem(r->json, "errors")) {
		c = cJSON_GetObjectItem(e, "campo");
		if (cJSON_IsString(c) && strcmp(c->valuestring, campo) == 0)
			return 1;
	}
	return 0;
}

long long
json_ll(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItem(o, name);

	ck_assert_msg(cJSON_IsNumber(v), "no number \"%s\"", name);
	return (long long)v->valuedouble;
}

const char *
json_s(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItem(o, name);

	ck_assert_msg(cJSON_IsString(v), "no string \"%s\"", name);
	return v->valuestring;
}

/*
 * The items of a list answer, after checking its envelope: exactly
 * {"elementos": [...], "siguiente_cursor": text or null} (the history
 * adds its "paciente").
 */
const cJSON *
json_items(const cJSON *o)
{
	const cJSON *e = cJSON_GetObjectItem(o, "elementos");
	const cJSON *c = cJSON_GetObjectItem(o, "siguiente_cursor");
	int n = cJSON_GetArraySize(o);

	ck_assert_msg(cJSON_IsObject(o), "the list is not an object");
	ck_assert_msg(cJSON_IsArray(e), "no array \"elementos\"");
	ck_assert_msg(cJSON_IsString(c) || cJSON_IsNull(c),
	    "no \"siguiente_cursor\" (text or null)");
	if (cJSON_GetObjectItem(o, "paciente") != NULL)
		n--;
	ck_assert_msg(n == 2, "the list has members besides elementos and "
	    "siguiente_cursor");
	return e;
}
