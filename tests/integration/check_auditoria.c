/*
 * check_auditoria.c - the audit trail through nginx: reads of clinical
 * records leave a row, the trail is listed with filters and pages, the
 * sealer chains every committed row (late commits included), and a row or
 * seal edited behind the application's back breaks the hash chain where
 * it was edited (the API and vetred-admin both say so).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "itest.h"

START_TEST(lecturas_clinicas_quedan_registradas)
{
	long long pac = fx_paciente();
	char path[96], *tok;
	struct http_resp r;

	tok = token_for(admin_id(), "[{\"rol\":\"veterinario\",\"sede\":2}]");
	http_token(tok);
	snprintf(path, sizeof(path), "/api/v1/pacientes/%lld/historial", pac);
	http_get(path, &r);
	ck_assert_int_eq(r.status, 200);
	http_free(&r);
	snprintf(path, sizeof(path), "/api/v1/pacientes/%lld", pac);
	http_get(path, &r);
	ck_assert_int_eq(r.status, 200);
	http_free(&r);
	http_get("/api/v1/pacientes/999999999/historial", &r);
	ck_assert_int_eq(r.status, 404);
	http_free(&r);
	ck_assert_int_eq(db_countf("SELECT count(*) FROM auditoria WHERE "
	    "entidad = 'pacientes' AND entidad_id = '%lld' AND accion = "
	    "'leer_historial' AND usuario_id = %lld AND rol = 'veterinario' "
	    "AND request_id IS NOT NULL AND direccion_ip IS NOT NULL", pac,
	    admin_id()), 1);
	ck_assert_int_eq(db_countf("SELECT count(*) FROM auditoria WHERE "
	    "entidad = 'pacientes' AND entidad_id = '%lld' AND accion = 'leer'",
	    pac), 1);
	ck_assert_int_eq(db_count("SELECT count(*) FROM auditoria WHERE "
	    "entidad_id = '999999999'"), 0);
	free(tok);
}
END_TEST

START_TEST(lista_con_filtros_y_paginas)
{
	long long pac = fx_paciente(), last = 0, seen = 0;
	char path[200], *tok;
	const cJSON *e, *c;
	struct http_resp r;
	int i;

	for (i = 0; i < 5; i++) {
		snprintf(path, sizeof(path), "/api/v1/pacientes/%lld", pac);
		http_get(path, &r);
		http_free(&r);
	}
	snprintf(path, sizeof(path), "/api/v1/auditoria?entidad=pacientes&"
	    "entidad_id=%lld&accion=leer&limite=2", pac);
	for (;;) {
		http_get(path, &r);
		ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
		cJSON_ArrayForEach(e, json_items(r.json)) {
			ck_assert(last == 0 || json_ll(e, "id") < last);
			last = json_ll(e, "id");
			ck_assert_str_eq(json_s(e, "accion"), "leer");
			ck_assert_int_eq(json_ll(e, "usuario_id"), admin_id());
			ck_assert_str_eq(json_s(e, "rol"), "admin_red");
			seen++;
		}
		c = cJSON_GetObjectItem(r.json, "siguiente_cursor");
		if (!cJSON_IsString(c)) {
			http_free(&r);
			break;
		}
		snprintf(path, sizeof(path), "/api/v1/auditoria?entidad=pacientes"
		    "&entidad_id=%lld&accion=leer&limite=2&cursor=%s", pac,
		    c->valuestring);
		http_free(&r);
	}
	ck_assert_int_eq(seen, 5);

	/* Bad filters are 400, and nothing else than auditors reads. */
	http_get("/api/v1/auditoria?entidad=Pacientes", &r);
	ck_assert_int_eq(r.status, 400);
	http_free(&r);
	http_get("/api/v1/auditoria?accion=leer;DROP", &r);
	ck_assert_int_eq(r.status, 400);
	http_free(&r);
	http_get("/api/v1/auditoria?desde=ayer", &r);
	ck_assert_int_eq(r.status, 400);
	http_free(&r);
	http_get("/api/v1/auditoria?usuario_id=-1", &r);
	ck_assert_int_eq(r.status, 400);
	http_free(&r);
	tok = token_for(admin_id(), "[{\"rol\":\"auditor\",\"sede\":1}]");
	http_token(tok);
	free(tok);
	http_get("/api/v1/auditoria", &r);		/* sede_id required */
	ck_assert_int_eq(r.status, 400);
	http_free(&r);
	http_get("/api/v1/auditoria?sede_id=2", &r);
	assert_problem(&r, 403, "prohibido");
	http_free(&r);
	http_get("/api/v1/auditoria?sede_id=1&limite=3", &r);
	ck_assert_int_eq(r.status, 200);
	cJSON_ArrayForEach(e, json_items(r.json))
		ck_assert_int_eq(json_ll(e, "sede_id"), 1);
	http_free(&r);
	http_get("/api/v1/auditoria/verificacion", &r);
	assert_problem(&r, 403, "prohibido");
	http_free(&r);
}
END_TEST

/* The owner's change to `table` with its append-only trigger switched off. */
static void
behind_the_trigger(const char *table, const char *trigger, const char *sql)
{
	db_execf("BEGIN; ALTER TABLE %s DISABLE TRIGGER %s; %s; ALTER TABLE %s "
	    "ENABLE TRIGGER %s; COMMIT", table, trigger, sql, table, trigger);
}

/* An audit row's despues as hex of its text ("" for NULL): any content. */
static char *
despues_hex(long long id)
{
	return db_valuef("SELECT coalesce(encode(convert_to(despues::text, "
	    "'UTF8'), 'hex'), '') FROM auditoria WHERE id = %lld", id);
}

/* Puts back what despues_hex() read, behind the trigger's back. */
static void
restore_despues(long long id, const char *hex)
{
	char *sql;

	ck_assert_int_ge(asprintf(&sql, "UPDATE auditoria SET despues = "
	    "convert_from(decode(NULLIF('%s', ''), 'hex'), 'UTF8')::jsonb "
	    "WHERE id = %lld", hex, id), 0);
	behind_the_trigger("auditoria", "auditoria_sin_cambios", sql);
	free(sql);
}

/*
 * What an owner who knows the algorithm does after editing a row: seal
 * again every link from `from` on, so that the chain verifies on its own.
 */
static void
rebuild_chain_from(long long from)
{
	char sql[640];

	snprintf(sql, sizeof(sql), "DO $$ DECLARE r record; h bytea; BEGIN "
	    "PERFORM pg_advisory_xact_lock(hashtextextended("
	    "'vetred.auditoria_sellar', 0)); SELECT hash INTO h FROM "
	    "auditoria_sellos WHERE sello = %lld - 1; FOR r IN SELECT s.sello, "
	    "a FROM auditoria_sellos s JOIN auditoria a ON a.id = "
	    "s.auditoria_id WHERE s.sello >= %lld ORDER BY s.sello LOOP "
	    "UPDATE auditoria_sellos SET hash_anterior = h, hash = sha256("
	    "coalesce(h, '') || auditoria_contenido(r.a)) WHERE sello = "
	    "r.sello RETURNING hash INTO h; END LOOP; END $$", from, from);
	behind_the_trigger("auditoria_sellos", "auditoria_sellos_sin_cambios",
	    sql);
}

/*
 * GET /api/v1/auditoria/verificacion, of the whole chain (from 0) or of
 * seals from..to (to 0: to the end): the range walked, intact or broken
 * at `broken`.
 */
static void
verify_range(long long from, long long to, int intact, long long broken)
{
	char path[128];
	struct http_resp r;
	int n;

	n = snprintf(path, sizeof(path), "/api/v1/auditoria/verificacion");
	if (from > 0)
		n += snprintf(path + n, sizeof(path) - n, "?desde=%lld", from);
	if (to > 0)
		snprintf(path + n, sizeof(path) - n, "&hasta=%lld", to);
	http_get(path, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_int_eq(json_ll(r.json, "desde"), from > 0 ? from : 1);
	if (to > 0)
		ck_assert_int_eq(json_ll(r.json, "hasta"), to);
	ck_assert(cJSON_IsBool(cJSON_GetObjectItem(r.json, "integra")));
	ck_assert_int_eq(cJSON_IsTrue(cJSON_GetObjectItem(r.json, "integra")),
	    intact);
	if (intact)
		ck_assert(cJSON_IsNull(cJSON_GetObjectItem(r.json,
		    "primer_sello_roto")));
	else
		ck_assert_int_eq(json_ll(r.json, "primer_sello_roto"), broken);
	http_free(&r);
}

/* The whole chain: integra, and the first broken seal. */
static void
assert_chain(int intact, long long broken)
{
	verify_range(0, 0, intact, broken);
}

/* Ranges that are not ranges of seals: 400 naming the parameter. */
START_TEST(verificacion_rechaza_rangos_invalidos)
{
	static const char *const bad[] = {
		"desde=0", "desde=-1", "desde=x", "hasta=1.5", "desde=",
		"desde=99999999999999999999999",
		"hasta=%27%20OR%201=1", "limite=0", "limite=10001",
		"limite=x",
	};
	char path[160];
	struct http_resp r;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(path, sizeof(path), "/api/v1/auditoria/verificacion?%s",
		    bad[i]);
		http_get(path, &r);
		ck_assert_msg(r.status == 400, "%s -> %ld", bad[i], (long)r.status);
		assert_problem(&r, 400, "parametro-invalido");
		http_free(&r);
	}
	/* hasta before desde: an empty range, walked as such. */
	http_get("/api/v1/auditoria/verificacion?desde=5&hasta=4", &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(r.json, "integra")));
	ck_assert_int_eq(json_ll(r.json, "desde"), 5);
	http_free(&r);
	/* A range past the end walks nothing and says so. */
	http_get("/api/v1/auditoria/verificacion?desde=999999999999", &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(r.json, "integra")));
	http_free(&r);
}
END_TEST

/* GET path: 200, the range walked and where the next call starts. */
static void
verify_page(const char *path, long long *desde, long long *hasta,
    long long *siguiente, long long *ultimo)
{
	struct http_resp r;
	cJSON *sig;

	http_get(path, &r);
	ck_assert_msg(r.status == 200, "%s -> %ld", path, r.status);
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(r.json, "integra")));
	*desde = json_ll(r.json, "desde");
	*hasta = json_ll(r.json, "hasta");
	*ultimo = json_ll(r.json, "ultimo_sello");
	sig = cJSON_GetObjectItem(r.json, "siguiente");
	ck_assert_ptr_nonnull(sig);
	*siguiente = cJSON_IsNull(sig) ? 0 : (long long)sig->valuedouble;
	http_free(&r);
}

/*
 * A call without a range walks one page of seals (1000), not the whole
 * chain, and names the first seal left out; following siguiente walks
 * all of it, `limite` sets the page, and a range is clipped to it.
 */
START_TEST(verificacion_sin_rango_es_acotada)
{
	long long n, desde, hasta, sig, ultimo, pages = 0, to;
	char path[160];
	int i;

	/* More seals than a page: rows written as the owner, then sealed. */
	n = db_count("SELECT coalesce(max(sello), 0) FROM auditoria_sellos");
	if (n < 1100)
		db_execf("INSERT INTO auditoria (accion, entidad, entidad_id) "
		    "SELECT 'probar', 'verificacion', g::text FROM "
		    "generate_series(1, %lld) g", 1100 - n);
	for (i = 0; i < 50 && db_count("SELECT coalesce(max(sello), 0) FROM "
	    "auditoria_sellos") < 1100; i++)
		free(db_value("SELECT leidas FROM auditoria_sellar(500)"));
	ck_assert_int_ge(db_count("SELECT max(sello) FROM auditoria_sellos"),
	    1100);

	verify_page("/api/v1/auditoria/verificacion", &desde, &hasta, &sig,
	    &ultimo);
	ck_assert_int_eq(desde, 1);
	ck_assert_int_eq(hasta, 1000);
	ck_assert_int_eq(sig, 1001);
	ck_assert_int_ge(ultimo, 1100);

	/* Page after page from siguiente, to the end of the chain. */
	while (sig != 0) {
		snprintf(path, sizeof(path), "/api/v1/auditoria/verificacion?"
		    "desde=%lld&limite=400", sig);
		to = sig;
		verify_page(path, &desde, &hasta, &sig, &ultimo);
		ck_assert_int_eq(desde, to);
		ck_assert_int_le(hasta - desde + 1, 400);
		ck_assert(sig == 0 ? hasta == ultimo : sig == hasta + 1);
		ck_assert_int_lt(++pages, 1000);
	}
	ck_assert_int_ge(pages, 1);

	/* A range longer than the page is clipped; a shorter one is whole. */
	verify_page("/api/v1/auditoria/verificacion?desde=5&hasta=100"
	    "&limite=10", &desde, &hasta, &sig, &ultimo);
	ck_assert_int_eq(desde, 5);
	ck_assert_int_eq(hasta, 14);
	ck_assert_int_eq(sig, 15);
	verify_page("/api/v1/auditoria/verificacion?desde=5&hasta=14"
	    "&limite=10", &desde, &hasta, &sig, &ultimo);
	ck_assert_int_eq(hasta, 14);
	ck_assert_int_eq(sig, 0);
	/* Near the limit of bigint: nothing to walk, nothing overflows. */
	verify_page("/api/v1/auditoria/verificacion?desde=9223372036854775807"
	    "&limite=10000", &desde, &hasta, &sig, &ultimo);
	ck_assert_int_eq(sig, 0);
}
END_TEST

/*
 * Sealed rows form a chain; an UPDATE of a row, or an edited or removed
 * seal, by the tables' owner with the append-only triggers disabled is
 * found where it was made.
 */
START_TEST(cadena_detecta_la_manipulacion)
{
	char out[1024], *victim, *orig, *seal, *head, sql[512], hex[65];
	char *mark = unique_code("M");
	struct http_resp r;
	long long sello, id;

	ck_assert_int_eq(run_admin("sellar", NULL, out, sizeof(out)), 0);
	ck_assert_ptr_nonnull(strstr(out, "audit rows sealed"));
	/* The run logs the chain's head: an anchor kept off the database. */
	head = strstr(out, "\"ultimo_sello\":");
	ck_assert_ptr_nonnull(head);
	ck_assert_int_eq(sscanf(head, "\"ultimo_sello\":%lld,\"hash\":\""
	    "%64[0-9a-f]\"", &sello, hex), 2);
	ck_assert_int_eq(db_countf("SELECT count(*) FROM auditoria_sellos WHERE "
	    "sello = %lld AND hash = decode('%s', 'hex')", sello, hex), 1);
	assert_chain(1, 0);
	http_get("/api/v1/auditoria/verificacion", &r);
	ck_assert_int_gt(json_ll(r.json, "sellados"), 2);
	http_free(&r);
	ck_assert_int_eq(run_admin("verificar", NULL, out, sizeof(out)), 0);
	ck_assert_ptr_nonnull(strstr(out, "\"integra\": true"));

	/* The application cannot: the triggers refuse UPDATE and DELETE. */
	victim = db_value("SELECT sello || ' ' || auditoria_id FROM "
	    "auditoria_sellos ORDER BY sello OFFSET 1 LIMIT 1");
	ck_assert_int_eq(sscanf(victim, "%lld %lld", &sello, &id), 2);
	db_execf("DO $$ BEGIN UPDATE auditoria SET accion = 'x' WHERE id = "
	    "%lld; EXCEPTION WHEN object_not_in_prerequisite_state THEN "
	    "NULL; END $$", id);
	ck_assert_int_eq(db_countf("SELECT count(*) FROM auditoria WHERE "
	    "id = %lld AND accion = 'x'", id), 0);
	db_execf("DO $$ BEGIN DELETE FROM auditoria_sellos WHERE sello = "
	    "%lld; EXCEPTION WHEN object_not_in_prerequisite_state THEN "
	    "NULL; END $$", sello);
	ck_assert_int_eq(db_countf("SELECT count(*) FROM auditoria_sellos "
	    "WHERE sello = %lld", sello), 1);

	/* The owner can, behind the trigger's back: the chain tells. */
	orig = despues_hex(id);
	snprintf(sql, sizeof(sql), "UPDATE auditoria SET despues = "
	    "jsonb_build_object('manipulado', '%s') WHERE id = %lld", mark, id);
	behind_the_trigger("auditoria", "auditoria_sin_cambios", sql);
	assert_chain(0, sello);
	verify_range(sello + 1, 0, 1, 0);	/* after it: intact */
	verify_range(1, sello - 1, 1, 0);	/* before it: intact */
	verify_range(sello, sello, 0, sello);
	ck_assert_int_eq(run_admin("verificar", NULL, out, sizeof(out)), 1);
	ck_assert_ptr_nonnull(strstr(out, "\"integra\": false"));

	/* Put back, the chain verifies again. */
	restore_despues(id, orig);
	ck_assert_int_eq(run_admin("verificar", NULL, out, sizeof(out)), 0);

	/* A seal taken out leaves a gap at the next one, and its row unsealed. */
	seal = db_valuef("SELECT format('(%%s, %%s, %%L::bytea, %%L::bytea)', "
	    "sello, auditoria_id, hash_anterior, hash) FROM auditoria_sellos "
	    "WHERE sello = %lld", sello);
	snprintf(sql, sizeof(sql), "DELETE FROM auditoria_sellos WHERE sello = "
	    "%lld", sello);
	behind_the_trigger("auditoria_sellos", "auditoria_sellos_sin_cambios",
	    sql);
	assert_chain(0, sello + 1);
	/* (sin_sellar counts only the rows the sealer has not passed yet:
	 * a row whose seal was taken away shows as the gap above.) */
	ck_assert_int_eq(db_countf("SELECT count(*) FROM auditoria_sellos "
	    "WHERE auditoria_id = %lld", id), 0);
	db_execf("INSERT INTO auditoria_sellos (sello, auditoria_id, "
	    "hash_anterior, hash) VALUES %s", seal);
	assert_chain(1, 0);

	/* A seal's hash rewritten: that seal does not verify. */
	snprintf(sql, sizeof(sql), "UPDATE auditoria_sellos SET hash = "
	    "sha256(hash) WHERE sello = %lld", sello);
	behind_the_trigger("auditoria_sellos", "auditoria_sellos_sin_cambios",
	    sql);
	assert_chain(0, sello);
	snprintf(sql, sizeof(sql), "DELETE FROM auditoria_sellos WHERE sello = "
	    "%lld", sello);
	behind_the_trigger("auditoria_sellos", "auditoria_sellos_sin_cambios",
	    sql);
	db_execf("INSERT INTO auditoria_sellos (sello, auditoria_id, "
	    "hash_anterior, hash) VALUES %s", seal);
	ck_assert_int_eq(run_admin("verificar", NULL, out, sizeof(out)), 0);
	ck_assert_int_eq(run_admin("nada", NULL, out, sizeof(out)), 2);
	free(seal);
	free(mark);
	free(orig);
	free(victim);
}
END_TEST

/*
 * A chain rebuilt after an edit verifies on its own, but not against
 * the heads the sealer logged before: `verificar LOG` names the first.
 */
START_TEST(anclas_detectan_la_cadena_rehecha)
{
	char out[2048], cmd[1200], logf[] = "/tmp/vetred-anclas-XXXXXX", *victim,
	    *orig, sql[512], *mark = unique_code("R"), hex[65];
	long long sello, id;
	FILE *f;
	int fd;

	db_execf("SELECT auditar(NULL, 'sistema', NULL, 'leer', 'sedes', '1', "
	    "'ancla', NULL, NULL, NULL)");
	ck_assert_int_eq(run_admin("sellar", NULL, out, sizeof(out)), 0);
	fd = mkstemp(logf);
	ck_assert_int_ge(fd, 0);
	f = fdopen(fd, "w");
	/* Other log lines and a torn one are passed over; the head also
	 * as older sealers logged it, the sello as a string. */
	ck_assert_int_eq(sscanf(strstr(out, "\"ultimo_sello\":"),
	    "\"ultimo_sello\":%lld,\"hash\":\"%64[0-9a-f]\"", &sello, hex), 2);
	fprintf(f, "{\"msg\":\"started\"}\n%s{\"ultimo_sello\":\"12\n"
	    "{\"ultimo_sello\":\"%lld\",\"hash\":\"%s\"}\n", out, sello, hex);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "verificar %s", logf);
	ck_assert_int_eq(run_admin(cmd, NULL, out, sizeof(out)), 0);
	ck_assert_ptr_nonnull(strstr(out, "\"anclas\": 2"));
	ck_assert_ptr_nonnull(strstr(out, "\"primera_ancla_rota\": null"));

	victim = db_value("SELECT sello || ' ' || auditoria_id FROM "
	    "auditoria_sellos ORDER BY sello OFFSET 2 LIMIT 1");
	ck_assert_int_eq(sscanf(victim, "%lld %lld", &sello, &id), 2);
	orig = despues_hex(id);
	snprintf(sql, sizeof(sql), "UPDATE auditoria SET despues = "
	    "jsonb_build_object('rehecha', '%s') WHERE id = %lld", mark, id);
	behind_the_trigger("auditoria", "auditoria_sin_cambios", sql);
	rebuild_chain_from(sello);
	/* The chain alone cannot tell... */
	assert_chain(1, 0);
	ck_assert_int_eq(run_admin("verificar", NULL, out, sizeof(out)), 0);
	/* ...its logged head can. */
	ck_assert_int_eq(run_admin(cmd, NULL, out, sizeof(out)), 1);
	ck_assert_ptr_nonnull(strstr(out, "\"integra\": false"));
	ck_assert_ptr_null(strstr(out, "\"primera_ancla_rota\": null"));

	/* Put back and sealed again, the chain matches its heads again. */
	restore_despues(id, orig);
	rebuild_chain_from(sello);
	ck_assert_int_eq(run_admin(cmd, NULL, out, sizeof(out)), 0);
	snprintf(cmd, sizeof(cmd), "verificar %s.no-existe", logf);
	ck_assert_int_eq(run_admin(cmd, NULL, out, sizeof(out)), 2);
	unlink(logf);
	free(mark);
	free(orig);
	free(victim);
}
END_TEST

/* The sello of the audit row of request `rid`; 0 while unsealed. */
static long long
sello_of(const char *rid)
{
	return db_countf("SELECT coalesce((SELECT s.sello FROM auditoria a JOIN "
	    "auditoria_sellos s ON s.auditoria_id = a.id WHERE a.request_id = "
	    "'%s'), 0)", rid);
}

/* auditoria_sellar() as its owner: "sellados leidas". */
static void
seal_once(long long *sealed, long long *read)
{
	char *v = db_value("SELECT sellados || ' ' || leidas FROM "
	    "auditoria_sellar(500)");

	ck_assert_int_eq(sscanf(v, "%lld %lld", sealed, read), 2);
	free(v);
}

/*
 * A transaction that stays open holds back neither the rows committed
 * after it (sealed at once) nor its own (sealed when it commits, after
 * them); and nothing is read again once sealed.
 */
START_TEST(transaccion_larga_se_sella_al_terminar)
{
	PGconn *open_tx = db_connect();
	PGresult *res;
	char *rid = unique_code("T"), *rid2 = unique_code("U");
	const char *const params[] = { rid };
	long long sealed, read;

	res = PQexec(open_tx, "BEGIN");
	PQclear(res);
	res = PQexecParams(open_tx, "SELECT auditar(NULL, 'sistema', NULL, "
	    "'leer', 'sedes', '1', $1, NULL, NULL, NULL)", 1, NULL, params,
	    NULL, NULL, 0);
	ck_assert_int_eq(PQresultStatus(res), PGRES_TUPLES_OK);
	PQclear(res);
	db_execf("SELECT auditar(NULL, 'sistema', NULL, 'leer', 'sedes', '2', "
	    "'%s', NULL, NULL, NULL)", rid2);
	seal_once(&sealed, &read);
	ck_assert_int_gt(sello_of(rid2), 0);
	ck_assert_int_eq(sello_of(rid), 0);
	/* Sealed rows are not read again while the old transaction waits. */
	seal_once(&sealed, &read);
	ck_assert_int_eq(read, 0);

	res = PQexec(open_tx, "COMMIT");
	ck_assert_int_eq(PQresultStatus(res), PGRES_COMMAND_OK);
	PQclear(res);
	PQfinish(open_tx);
	seal_once(&sealed, &read);
	ck_assert_int_gt(sello_of(rid), sello_of(rid2));
	/* Once: its row, then the later one passed over as sealed. */
	seal_once(&sealed, &read);
	ck_assert_int_eq(read, 0);
	assert_chain(1, 0);
	free(rid);
	free(rid2);
}
END_TEST

/* SQLSTATE of sql run as the API's role (VETRED_API_DATABASE_URL). */
static char *
as_api(const char *sql)
{
	const char *url = getenv("VETRED_API_DATABASE_URL");
	PGconn *c;
	PGresult *res;
	char *st;

	ck_assert_msg(url != NULL, "VETRED_API_DATABASE_URL is set by "
	    "ci/stack.sh");
	c = PQconnectdb(url);
	ck_assert_msg(PQstatus(c) == CONNECTION_OK, "%s", PQerrorMessage(c));
	res = PQexec(c, sql);
	st = strdup(PQresultStatus(res) == PGRES_COMMAND_OK ||
	    PQresultStatus(res) == PGRES_TUPLES_OK ? "00000" :
	    PQresultErrorField(res, PG_DIAG_SQLSTATE));
	PQclear(res);
	PQfinish(c);
	return st;
}

/* The API's role reads and appends, and cannot change the trail. */
START_TEST(rol_de_la_api_solo_agrega)
{
	static const char *const refused[] = {
		"UPDATE auditoria SET accion = 'x' WHERE id = (SELECT min(id) "
		    "FROM auditoria)",
		"DELETE FROM auditoria WHERE id = (SELECT min(id) FROM auditoria)",
		"TRUNCATE auditoria",
		"UPDATE auditoria_sellos SET hash = sha256(hash)",
		"DELETE FROM auditoria_sellos",
		"TRUNCATE auditoria_sellos",
		"INSERT INTO auditoria_sellos VALUES (999999999, 1, NULL, "
		    "sha256(''))",
		"SELECT * FROM auditoria_sellar()",
		"UPDATE auditoria_sellador SET hasta_id = 0",
		"DELETE FROM schema_migraciones",
	};
	long long n = db_count("SELECT count(*) FROM auditoria");
	char *st;
	size_t i;

	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		st = as_api(refused[i]);
		ck_assert_msg(strcmp(st, "42501") == 0, "%s -> %s", refused[i],
		    st);
		free(st);
	}
	/* Signed clinical entries: not even re-sealed by the API's role. */
	st = as_api("UPDATE historia_entradas SET anamnesis = 'v1:x:y:z' "
	    "WHERE firmado_en IS NOT NULL");
	ck_assert_str_eq(st, "55000");
	free(st);
	st = as_api("SELECT count(*) FROM auditoria");
	ck_assert_str_eq(st, "00000");
	free(st);
	st = as_api("SELECT auditar(NULL, NULL, NULL, 'leer', 'sedes', '1', "
	    "'rol-api', NULL, NULL, NULL)");
	ck_assert_str_eq(st, "00000");
	free(st);
	ck_assert_int_eq(db_count("SELECT count(*) FROM auditoria"), n + 1);
	/* And the API process runs as that role. */
	ck_assert_int_gt(db_count("SELECT count(*) FROM pg_stat_activity "
	    "WHERE usename = 'vetred_api' AND application_name <> 'psql'"), 0);
}
END_TEST

/*
 * The engine seals (sellado_auditoria, vetred-worker): a new row is
 * sealed within seconds, the worker's log holds the chain's head past it,
 * and `vetred-admin verificar` accepts that log's heads.  The periodic
 * loop of `vetred-admin sellar` is gone: it takes no arguments.
 */
START_TEST(sellado_del_motor_deja_anclas)
{
	static const char *const bad[] = { "sellar 2", "sellar x",
	    "sellar 1 2" };
	char args[600], out[256], *rid = unique_code("P"), *line = NULL;
	long long sello = 0, logged = 0, v;
	size_t i, cap = 0;
	const char *p;
	FILE *f;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(run_admin(bad[i], NULL, out, sizeof(out)) == 2,
		    "%s", bad[i]);
	db_execf("SELECT auditar(NULL, 'sistema', NULL, 'leer', 'sedes', '1', "
	    "'%s', NULL, NULL, NULL)", rid);
	for (i = 0; i < 100 && (sello <= 0 || logged < sello); i++) {
		usleep(100000);
		sello = sello_of(rid);
		snprintf(args, sizeof(args), "%s/log/worker.log", stack_dir());
		if (sello <= 0 || (f = fopen(args, "r")) == NULL)
			continue;
		while (getline(&line, &cap, f) > 0)
			if (strstr(line, "\"msg\":\"audit rows sealed\"") != NULL &&
			    (p = strstr(line, "\"ultimo_sello\":")) != NULL &&
			    (v = atoll(p + strlen("\"ultimo_sello\":"))) > logged)
				logged = v;
		fclose(f);
	}
	ck_assert_msg(sello > 0, "the row was not sealed in 10 s");
	ck_assert_msg(logged >= sello, "the worker's log has no head past "
	    "sello %lld (last %lld)", sello, logged);
	snprintf(args, sizeof(args), "verificar %s/log/worker.log", stack_dir());
	ck_assert_int_eq(run_admin(args, NULL, out, sizeof(out)), 0);
	free(line);
	free(rid);
}
END_TEST

/* The stack's sealing job chains new rows on its own, within seconds. */
START_TEST(sellador_encadena_solo)
{
	long long pac = fx_paciente(), n = 0;
	char path[64];
	struct http_resp r;
	int i;

	snprintf(path, sizeof(path), "/api/v1/pacientes/%lld", pac);
	http_get(path, &r);
	ck_assert_int_eq(r.status, 200);
	http_free(&r);
	for (i = 0; i < 100 && n == 0; i++) {
		usleep(100000);
		n = db_countf("SELECT count(*) FROM auditoria a JOIN "
		    "auditoria_sellos s ON s.auditoria_id = a.id WHERE "
		    "a.entidad_id = '%lld' AND a.accion = 'leer' AND "
		    "octet_length(s.hash) = 32", pac);
	}
	ck_assert_msg(n == 1, "the read's audit row was not sealed in 10 s");
}
END_TEST

Suite *
auditoria_suite(void)
{
	Suite *s = suite_create("auditoria");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, lecturas_clinicas_quedan_registradas);
	tcase_add_test(tc, lista_con_filtros_y_paginas);
	tcase_add_test(tc, cadena_detecta_la_manipulacion);
	tcase_add_test(tc, verificacion_rechaza_rangos_invalidos);
	tcase_add_test(tc, verificacion_sin_rango_es_acotada);
	tcase_add_test(tc, anclas_detectan_la_cadena_rehecha);
	tcase_add_test(tc, transaccion_larga_se_sella_al_terminar);
	tcase_add_test(tc, rol_de_la_api_solo_agrega);
	tcase_add_test(tc, sellador_encadena_solo);
	tcase_add_test(tc, sellado_del_motor_deja_anclas);
	suite_add_tcase(s, tc);
	return s;
}
