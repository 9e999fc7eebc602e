/*
 * check_access.c - who may call what, through nginx.
 *
 * Tokens: missing, malformed, forged, expired, for another audience or
 * signed with "none" or another algorithm answer 401; a revoked session's
 * token stops working within seconds.
 *
 * The matrix: every route of the OpenAPI document that names a permission
 * (x-permiso; a unit test keeps the document equal to the route table) x
 * every role x a site where the role is held and another one.  A route
 * without a request below fails the suite, so no route goes untested.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "itest.h"
#include "vr.h"

#define OWN	1LL	/* LIM-01: where the role is held */
#define OTHER	2LL	/* AQP-01: where it is not */

static const char *const roles[] = { "admin_red", "admin_sede",
	"veterinario", "recepcion", "farmacia", "auditor" };
#define NROLES	(sizeof(roles) / sizeof(roles[0]))

/* Which roles hold each permission (the contract, restated). */
static const struct {
	const char	*perm;
	const char	*who;	/* space-separated roles */
	int		 scoped;	/* 1: the row's or request's site counts */
} perms[] = {
	{ "sedes.leer", "admin_red admin_sede veterinario recepcion farmacia "
	    "auditor", 0 },
	{ "sedes.crear", "admin_red", 0 },
	{ "agenda.leer", "admin_red admin_sede veterinario recepcion", 1 },
	{ "agenda.gestionar", "admin_red admin_sede", 1 },
	{ "citas.leer", "admin_red admin_sede veterinario recepcion", 1 },
	{ "citas.reservar", "admin_red admin_sede veterinario recepcion", 1 },
	{ "citas.modificar", "admin_red admin_sede veterinario recepcion", 1 },
	{ "citas.cancelar", "admin_red admin_sede veterinario recepcion", 1 },
	{ "pacientes.registrar", "admin_red admin_sede veterinario recepcion",
	    1 },
	{ "pacientes.leer", "admin_red admin_sede veterinario recepcion", 0 },
	{ "pacientes.modificar", "admin_red admin_sede veterinario recepcion",
	    0 },
	{ "propietarios.leer", "admin_red admin_sede veterinario recepcion",
	    0 },
	{ "propietarios.modificar", "admin_red admin_sede veterinario "
	    "recepcion", 0 },
	{ "propietarios.fusionar", "admin_red admin_sede", 0 },
	{ "historia.leer", "admin_red admin_sede veterinario", 0 },
	{ "historia.escribir", "admin_red admin_sede veterinario", 1 },
	{ "diagnosticos.gestionar", "admin_red", 0 },
	{ "feriados.gestionar", "admin_red", 0 },
	{ "tipos_cita.gestionar", "admin_red", 0 },
	{ "calendarios.usar", "admin_red admin_sede veterinario recepcion", 1 },
	{ "usuarios.leer", "admin_red admin_sede", 1 },
	{ "usuarios.crear", "admin_red admin_sede", 1 },
	{ "usuarios.modificar", "admin_red admin_sede", 1 },
	{ "auditoria.leer", "admin_red auditor", 1 },
	{ "trabajos.leer", "admin_red", 0 },
	{ "trabajos.modificar", "admin_red", 0 },
	{ "trabajos.ejecutar", "admin_red", 0 },
	{ "eventos.leer", "admin_red", 0 },
	{ "eventos.reenviar", "admin_red", 0 },
};

static long long vet_at[3];	/* a vet working 24/7 at sites 1 and 2 */

/*
 * A dead letter that can be replayed, made once: a trabajo.disparado of
 * a queue no one consumes (a replay reaches no consumer, and the event
 * follows its schema for the contract check).
 */
static long long
muerto_reenviable(void)
{
	static long long id;
	char *v;

	if (id > 0)
		return id;
	v = db_value("WITH e AS (SELECT gen_random_uuid()::text AS u), c AS ("
	    "SELECT u, jsonb_build_object('id', u, 'tipo', 'trabajo.disparado', "
	    "'version', 1, 'ocurrido_en', now(), 'agregado', 'trabajo', "
	    "'agregado_id', 'kpi_nocturno', 'request_id', NULL, 'datos', "
	    "jsonb_build_object('trabajo', 'kpi_nocturno', 'disparo', 1, "
	    "'programado_para', now(), 'disparado_en', now(), 'zona_horaria', "
	    "'America/Lima'))::text AS b FROM e) SELECT registrar_muerto("
	    "encode(sha256(convert_to(u, 'UTF8')), 'hex'), 'vetred.itest_acceso', "
	    "u, 'trabajo.disparado', 'kpi_nocturno', NULL, 'prueba de acceso', "
	    "1, octet_length(b), convert_to(b, 'UTF8')) FROM c");
	ck_assert_ptr_nonnull(v);
	id = atoll(v);
	free(v);
	return id;
}
static long long pac;		/* a patient */
static int slot;		/* next free half hour for bookings */

/* A user who works (as recepcion) only at sede; its id. */
static long long
usuario_en(long long sede)
{
	char *v = db_valuef("WITH u AS (INSERT INTO usuarios (email, nombre) "
	    "VALUES ('m.%ld.%d@vetred.test', 'Matriz') RETURNING id) "
	    "INSERT INTO usuario_roles (usuario_id, sede_id, rol) SELECT id, "
	    "%lld, 'recepcion' FROM u RETURNING usuario_id",
	    (long)getpid(), slot++, sede);
	long long id = atoll(v);

	free(v);
	return id;
}


/* The owner of a new patient (each request that changes an owner or a
 * patient's life gets its own). */
static long long
dueno_nuevo(void)
{
	char *v = db_valuef("SELECT propietario_id FROM pacientes WHERE id = "
	    "%lld", fx_paciente());
	long long id = atoll(v);

	free(v);
	return id;
}

/* The id of the canine rabies vaccine (the catalog of 0037), as text. */
static const char *
vacuna_canina(void)
{
	static char id[24];
	char *v;

	if (id[0] == '\0') {
		v = db_value("SELECT id FROM vacunas WHERE codigo = 'CAN-RABIA'");
		ck_assert_ptr_nonnull(v);
		snprintf(id, sizeof(id), "%s", v);
		free(v);
	}
	return id;
}

/* A new absence of a vet (an hour, a day of its own far ahead); its id. */
static long long
ausencia_de(long long vet)
{
	char *v = db_valuef("INSERT INTO ausencias (veterinario_id, periodo) "
	    "SELECT %lld, tstzrange(d, d + interval '1 hour') FROM (SELECT "
	    "date_trunc('day', now()) + make_interval(days => 800 + %d) AS d) x "
	    "RETURNING id", vet, slot++);
	long long id = atoll(v);

	free(v);
	return id;
}

/* A signed entry of the patient at sede, written by the admin's user (its
 * author: the one who may correct it); its id. */
static long long
entrada_en(long long sede)
{
	char *v = db_valuef("INSERT INTO historia_entradas (paciente_id, "
	    "veterinario_id, sede_id, tipo, texto, registrado_por) VALUES "
	    "(%lld, %lld, %lld, 'nota', 'Nota de prueba', %lld) RETURNING id",
	    pac, vet_at[sede], sede, admin_id());
	long long id = atoll(v);

	free(v);
	return id;
}

/*
 * A date years ahead with no network holiday and no row of sede (0: of
 * no site), AAAA-MM-DD into out[11]; registered as a holiday of sede
 * first when made is set (for a DELETE to remove).
 */
static void
dia_sin_feriado(long long sede, int made, char out[11])
{
	char owner[24] = "NULL", *v;

	if (sede != 0)
		snprintf(owner, sizeof(owner), "%lld", sede);
	v = db_valuef("SELECT d::date::text FROM generate_series(current_date "
	    "+ 1200 + (random() * 1500)::int, current_date + 3600, interval "
	    "'1 day') d WHERE NOT EXISTS (SELECT 1 FROM feriados f WHERE "
	    "f.fecha = d::date AND (f.sede_id IS NULL OR f.sede_id = %s)) "
	    "LIMIT 1", owner);
	ck_assert_ptr_nonnull(v);
	snprintf(out, 11, "%s", v);
	free(v);
	if (made)
		db_execf("INSERT INTO feriados (sede_id, fecha, nombre) VALUES "
		    "(%s, '%s', 'Acceso')", owner, out);
}

/* A booking at sede made with the admin's token; its id. */
static long long
cita_en(long long sede)
{
	char t[FX_HORA_LEN];

	fx_hora(fx_dia("America/Lima", 2, 14) + FX_HM(0, 30) * slot++,
	    FX_LIMA, t);
	return fx_reservar_ok(&(struct fx_cita){ .paciente = pac,
	    .veterinario = vet_at[sede], .sede = sede, .inicio = t,
	    .duracion = 20 });
}

/*
 * The request of one route at sede: method and path are the document's;
 * *path_out, *body and the expected success status are filled.
 */
static int
request_for(const char *method, const char *path, long long sede,
    char *url, size_t n, char *body, size_t bn, long *ok, int *sitewide)
{
	char t[FX_HORA_LEN], t2[FX_HORA_LEN], *code, dia[11];

	body[0] = '\0';
	*ok = 200;
	*sitewide = 0;
	if (strcmp(path, "/api/v1/sedes") == 0 && strcmp(method, "GET") == 0)
		snprintf(url, n, "%s", path);
	else if (strcmp(path, "/api/v1/sedes") == 0) {
		code = unique_code("M");
		snprintf(url, n, "%s", path);
		snprintf(body, bn, "{\"codigo\":\"%s\",\"nombre\":\"Sede %s\","
		    "\"ciudad\":\"Piura\",\"direccion\":\"Av. Grau 1\","
		    "\"zona_horaria\":\"America/Lima\"}", code, code);
		free(code);
		*ok = 201;
	} else if (strcmp(path, "/api/v1/sedes/{id}") == 0)
		snprintf(url, n, "/api/v1/sedes/%lld", sede);
	else if (strcmp(path, "/api/v1/sedes/{id}/consultorios") == 0)
		snprintf(url, n, "/api/v1/sedes/%lld/consultorios", sede);
	else if (strcmp(path, "/api/v1/veterinarios") == 0)
		snprintf(url, n, "%s?sede_id=%lld", path, sede);
	else if (strcmp(path, "/api/v1/veterinarios/{id}/ausencias") == 0) {
		snprintf(url, n, "/api/v1/veterinarios/%lld/ausencias",
		    vet_at[sede]);
		if (strcmp(method, "POST") == 0) {
			/* A day of its own, far ahead, each time. */
			fx_hora(fx_dia("America/Lima", 0, 400 + slot++), FX_LIMA,
			    t);
			fx_hora(fx_dia("America/Lima", 0, 400 + slot - 1) +
			    FX_HM(1, 0), FX_LIMA, t2);
			snprintf(body, bn, "{\"inicio\":\"%s\",\"fin\":\"%s\"}", t,
			    t2);
			*ok = 201;
		}
	} else if (strcmp(path, "/api/v1/veterinarios/{id}/ausencias/{ausencia}")
	    == 0) {
		snprintf(url, n, "/api/v1/veterinarios/%lld/ausencias/%lld",
		    vet_at[sede], ausencia_de(vet_at[sede]));
		*ok = 204;
	} else if (strcmp(path, "/api/v1/veterinarios/{id}/"
	    "importacion-ausencias") == 0) {
		/* An hour of its own, far ahead, each time. */
		fx_hora(fx_dia("America/Lima", 0, 500) + FX_HM(0, 30) * slot++,
		    FX_LIMA, t);
		snprintf(url, n, "/api/v1/veterinarios/%lld/"
		    "importacion-ausencias", vet_at[sede]);
		snprintf(body, bn, "{\"ics\":\"BEGIN:VCALENDAR\\r\\nVERSION:"
		    "2.0\\r\\nBEGIN:VEVENT\\r\\nDTSTART;TZID=America/Lima:"
		    "%.4s%.2s%.2sT%.2s%.2s00\\r\\nDURATION:PT20M\\r\\n"
		    "END:VEVENT\\r\\nEND:VCALENDAR\\r\\n\"}", t, t + 5, t + 8,
		    t + 11, t + 14);
		*ok = 201;
	} else if (strcmp(path, "/api/v1/veterinarios/{id}/horarios") == 0) {
		snprintf(url, n, "/api/v1/veterinarios/%lld/horarios",
		    vet_at[sede]);
		if (strcmp(method, "PUT") == 0) {	/* still 24/7 */
			code = db_value("SELECT (current_date + 400)::text");
			snprintf(body, bn, "{\"sede_id\":%lld,\"desde\":"
			    "\"%s\",\"bloques\":[{\"dia_semana\":1,\"inicio\":"
			    "\"00:00\",\"fin\":\"24:00\"},{\"dia_semana\":2,"
			    "\"inicio\":\"00:00\",\"fin\":\"24:00\"},"
			    "{\"dia_semana\":3,\"inicio\":\"00:00\",\"fin\":"
			    "\"24:00\"},{\"dia_semana\":4,\"inicio\":\"00:00\","
			    "\"fin\":\"24:00\"},{\"dia_semana\":5,\"inicio\":"
			    "\"00:00\",\"fin\":\"24:00\"},{\"dia_semana\":6,"
			    "\"inicio\":\"00:00\",\"fin\":\"24:00\"},"
			    "{\"dia_semana\":7,\"inicio\":\"00:00\",\"fin\":"
			    "\"24:00\"}]}", sede, code);
			free(code);
		}
	} else if (strcmp(path, "/api/v1/veterinarios/{id}/semana") == 0)
		snprintf(url, n, "/api/v1/veterinarios/%lld/semana",
		    vet_at[sede]);
	else if (strcmp(path, "/api/v1/sedes/{id}/agenda") == 0)
		snprintf(url, n, "/api/v1/sedes/%lld/agenda?fecha=2027-01-04",
		    sede);
	else if (strcmp(path, "/api/v1/feriados") == 0) {
		snprintf(url, n, "%s", path);
		*sitewide = 1;		/* the network's: every site's desk */
		if (strcmp(method, "POST") == 0) {
			dia_sin_feriado(0, 0, dia);
			snprintf(body, bn, "{\"fecha\":\"%s\",\"nombre\":"
			    "\"Acceso\"}", dia);
			*ok = 201;
		}
	} else if (strcmp(path, "/api/v1/feriados/{fecha}") == 0) {
		dia_sin_feriado(0, 1, dia);
		snprintf(url, n, "/api/v1/feriados/%s", dia);
		*ok = 204;
	} else if (strcmp(path, "/api/v1/sedes/{id}/feriados") == 0) {
		snprintf(url, n, "/api/v1/sedes/%lld/feriados", sede);
		if (strcmp(method, "POST") == 0) {
			dia_sin_feriado(sede, 0, dia);
			snprintf(body, bn, "{\"fecha\":\"%s\",\"nombre\":"
			    "\"Acceso\"}", dia);
			*ok = 201;
		}
	} else if (strcmp(path, "/api/v1/sedes/{id}/feriados/{fecha}") == 0) {
		dia_sin_feriado(sede, 1, dia);
		snprintf(url, n, "/api/v1/sedes/%lld/feriados/%s", sede, dia);
		*ok = 204;
	} else if (strcmp(path, "/api/v1/calendarios") == 0) {
		snprintf(url, n, "%s", path);
		if (strcmp(method, "POST") == 0) {
			snprintf(body, bn, "{\"sede_id\":%lld}", sede);
			*ok = 201;
		} else
			*sitewide = 1;	/* one's own */
	} else if (strcmp(path, "/api/v1/calendarios/{id}") == 0 ||
	    strcmp(path, "/api/v1/calendarios/{id}/rotacion") == 0) {
		/* The caller's own subscription, made for this request. */
		code = db_valuef("INSERT INTO calendarios (usuario_id, sede_id, "
		    "token_sha256) VALUES (%lld, %lld, sha256(gen_random_uuid()"
		    "::text::bytea)) RETURNING id", admin_id(), sede);
		if (strcmp(method, "DELETE") == 0) {
			snprintf(url, n, "/api/v1/calendarios/%s", code);
			*ok = 204;
		} else {
			snprintf(url, n, "/api/v1/calendarios/%s/rotacion", code);
			*ok = 201;
		}
		free(code);
		*sitewide = 1;
	} else if (strcmp(path, "/api/v1/tipos-cita") == 0)
		snprintf(url, n, "%s?sede_id=%lld", path, sede);
	else if (strcmp(path, "/api/v1/tipos-cita/{codigo}") == 0 ||
	    strcmp(path, "/api/v1/sedes/{id}/tipos-cita/{codigo}") == 0) {
		/* A new code each time: always a creation. */
		snprintf(dia, sizeof(dia), "acc_%d", slot++);
		code = db_valuef("SELECT '%s_' || substr(md5(gen_random_uuid()"
		    "::text), 1, 12)", dia);
		if (strncmp(path, "/api/v1/sedes/", 14) == 0)
			snprintf(url, n, "/api/v1/sedes/%lld/tipos-cita/%s", sede,
			    code);
		else
			snprintf(url, n, "/api/v1/tipos-cita/%s", code);
		if (strcmp(method, "PUT") == 0) {
			snprintf(body, bn, "{\"nombre\":\"Acceso\","
			    "\"duracion_min\":20}");
			*ok = 201;
		} else {
			db_execf("INSERT INTO tipos_cita (sede_id, codigo, nombre, "
			    "duracion_min) VALUES (%lld, '%s', 'Acceso', 20)", sede,
			    code);
			*ok = 204;
		}
		free(code);
	} else if (strcmp(path, "/api/v1/disponibilidad") == 0) {
		fx_hora(fx_dia("America/Lima", 3, 7), FX_LIMA, t);
		t[10] = '\0';
		snprintf(url, n, "%s?veterinario_id=%lld&sede_id=%lld&fecha=%s"
		    "&duracion_min=30", path, vet_at[sede], sede, t);
	} else if (strcmp(path, "/api/v1/citas/reservar") == 0) {
		fx_hora(fx_dia("America/Lima", 4, 14) + FX_HM(0, 30) * slot++,
		    FX_LIMA, t);
		snprintf(url, n, "%s", path);
		snprintf(body, bn, "{\"paciente_id\":%lld,\"veterinario_id\":"
		    "%lld,\"sede_id\":%lld,\"inicio\":\"%s\",\"duracion_min\":"
		    "20,\"motivo\":\"Control\"}", pac, vet_at[sede], sede, t);
		*ok = 201;
	} else if (strcmp(path, "/api/v1/citas") == 0)
		snprintf(url, n, "%s?sede_id=%lld", path, sede);
	else if (strcmp(path, "/api/v1/citas/{id}") == 0) {
		snprintf(url, n, "/api/v1/citas/%lld", cita_en(sede));
		if (strcmp(method, "PUT") == 0)
			snprintf(body, bn, "{\"motivo\":\"Control anual\"}");
		else if (strcmp(method, "DELETE") == 0)
			*ok = 204;
	} else if (strcmp(path, "/api/v1/pacientes/registro") == 0) {
		snprintf(url, n, "%s", path);
		snprintf(body, bn, "{\"propietario_id\":1,\"nombre\":\"Toby "
		    "%ld-%d\",\"especie\":\"canino\",\"sede_registro_id\":"
		    "%lld}", (long)getpid(), slot++, sede);
		*ok = 201;
	} else if (strcmp(path, "/api/v1/pacientes/{id}") == 0) {
		snprintf(url, n, "/api/v1/pacientes/%lld", pac);
		if (strcmp(method, "PUT") == 0)
			snprintf(body, bn, "{\"color\":\"atigrado\"}");
	} else if (strcmp(path, "/api/v1/pacientes/{id}/historial") == 0)
		snprintf(url, n, "/api/v1/pacientes/%lld/historial", pac);
	else if (strcmp(path, "/api/v1/pacientes/{id}/fallecimiento") == 0) {
		snprintf(url, n, "/api/v1/pacientes/%lld/fallecimiento",
		    fx_paciente());
		snprintf(body, bn, "{\"fecha\":\"2026-01-02\"}");
	} else if (strcmp(path, "/api/v1/pacientes/{id}/transferencia") == 0) {
		snprintf(url, n, "/api/v1/pacientes/%lld/transferencia",
		    fx_paciente());
		snprintf(body, bn, "{\"propietario_id\":%lld}", dueno_nuevo());
	} else if (strcmp(path, "/api/v1/pacientes/{id}/pesos") == 0) {
		snprintf(url, n, "/api/v1/pacientes/%lld/pesos", pac);
		if (strcmp(method, "POST") == 0) {
			snprintf(body, bn, "{\"peso_gramos\":12000}");
			*ok = 201;
		}
	} else if (strcmp(path, "/api/v1/pacientes/{id}/vacunaciones") == 0) {
		/* The vet of the site, named: the callers are not vets. */
		snprintf(url, n, "/api/v1/pacientes/%lld/vacunaciones", pac);
		snprintf(body, bn, "{\"vacuna_id\":%s,\"lote\":\"L-%d\","
		    "\"vencimiento_lote\":\"2099-12-31\",\"veterinario_id\":"
		    "%lld,\"sede_id\":%lld}", vacuna_canina(), slot++,
		    vet_at[sede], sede);
		*ok = 201;
	} else if (strcmp(path, "/api/v1/pacientes/{id}/tratamientos") == 0) {
		snprintf(url, n, "/api/v1/pacientes/%lld/tratamientos", pac);
		snprintf(body, bn, "{\"descripcion\":\"Antiparasitario\","
		    "\"veterinario_id\":%lld,\"sede_id\":%lld}", vet_at[sede],
		    sede);
		*ok = 201;
	} else if (strcmp(path, "/api/v1/pacientes/{id}/entradas") == 0) {
		snprintf(url, n, "/api/v1/pacientes/%lld/entradas", pac);
		snprintf(body, bn, "{\"texto\":\"Control sin novedad\","
		    "\"veterinario_id\":%lld,\"sede_id\":%lld}", vet_at[sede],
		    sede);
		*ok = 201;
	} else if (strcmp(path, "/api/v1/entradas/{id}") == 0) {
		/* An entry of another site is not shown, as in the history. */
		snprintf(url, n, "/api/v1/entradas/%lld", entrada_en(sede));
		*sitewide = 3;
		if (strcmp(method, "PUT") == 0) {
			snprintf(body, bn, "{\"texto\":\"Corregida\"}");
			*ok = 201;
		}
	} else if (strcmp(path, "/api/v1/entradas/{id}/enmiendas") == 0) {
		snprintf(url, n, "/api/v1/entradas/%lld/enmiendas",
		    entrada_en(sede));
		snprintf(body, bn, "{\"motivo\":\"Revisión\",\"texto\":"
		    "\"Enmendada\"}");
		*ok = 201;
	} else if (strcmp(path, "/api/v1/diagnosticos") == 0) {
		snprintf(url, n, "%s", path);
		if (strcmp(method, "POST") == 0) {
			code = db_value("SELECT 'ACC-' || upper(substr(md5("
			    "gen_random_uuid()::text), 1, 10))");
			snprintf(body, bn, "{\"codigo\":\"%s\",\"nombre\":"
			    "\"Acceso %s\",\"categoria\":\"otro\"}", code, code);
			free(code);
			*ok = 201;
		}
	} else if (strcmp(path, "/api/v1/vacunas") == 0)
		snprintf(url, n, "%s?especie=canino", path);
	else if (strcmp(path, "/api/v1/propietarios") == 0)
		snprintf(url, n, "%s?q=prueba", path);
	else if (strcmp(path, "/api/v1/propietarios/{id}") == 0) {
		snprintf(url, n, "/api/v1/propietarios/%lld", dueno_nuevo());
		if (strcmp(method, "PUT") == 0)
			snprintf(body, bn, "{\"direccion\":\"Jr. Lima 1\"}");
	} else if (strcmp(path, "/api/v1/propietarios/{id}/fusion") == 0) {
		snprintf(url, n, "/api/v1/propietarios/%lld/fusion",
		    dueno_nuevo());
		snprintf(body, bn, "{\"origen_id\":%lld}", dueno_nuevo());
	}
	else if (strcmp(path, "/api/v1/usuarios") == 0 &&
	    strcmp(method, "GET") == 0) {
		snprintf(url, n, "%s", path);	/* scoped by the caller */
		*sitewide = 1;
	} else if (strcmp(path, "/api/v1/usuarios") == 0) {
		snprintf(url, n, "%s", path);
		snprintf(body, bn, "{\"email\":\"n.%ld.%d@vetred.test\","
		    "\"nombre\":\"Nueva\",\"roles\":[{\"rol\":\"recepcion\","
		    "\"sede\":%lld}]}", (long)getpid(), slot++, sede);
		*ok = 201;
	} else if (strcmp(path, "/api/v1/auditoria") == 0)
		snprintf(url, n, "%s?sede_id=%lld&limite=5", path, sede);
	else if (strcmp(path, "/api/v1/auditoria/verificacion") == 0) {
		snprintf(url, n, "%s", path);
		*sitewide = 2;		/* network-wide grants only */
	} else if (strncmp(path, "/api/v1/trabajos", 16) == 0) {
		/* The network's jobs: network-wide grants only.  A job that
		 * stays disabled; run now fires it once (202). */
		*sitewide = 2;
		if (strcmp(path, "/api/v1/trabajos") == 0)
			snprintf(url, n, "%s", path);
		else if (strcmp(path, "/api/v1/trabajos/{nombre}") == 0) {
			snprintf(url, n, "/api/v1/trabajos/kpi_nocturno");
			if (strcmp(method, "PUT") == 0)
				snprintf(body, bn, "{\"habilitado\":false}");
		} else if (strcmp(path, "/api/v1/trabajos/{nombre}/ejecutar") == 0) {
			snprintf(url, n, "/api/v1/trabajos/kpi_nocturno/ejecutar");
			*ok = 202;
		} else
			return -1;
	} else if (strcmp(path, "/api/v1/eventos/muertos") == 0) {
		*sitewide = 2;
		snprintf(url, n, "%s?limite=5", path);
	} else if (strcmp(path, "/api/v1/eventos/muertos/{id}/reenviar") == 0) {
		*sitewide = 2;
		snprintf(url, n, "/api/v1/eventos/muertos/%lld/reenviar",
		    muerto_reenviable());
		*ok = 202;
	} else if (strcmp(path, "/api/v1/usuarios/{id}") == 0) {
		snprintf(url, n, "/api/v1/usuarios/%lld", usuario_en(sede));
		if (strcmp(method, "PUT") == 0)
			snprintf(body, bn, "{\"nombre\":\"Renombrada\"}");
	} else
		return -1;
	return 0;
}

static int
holds(const char *who, const char *rol)
{
	const char *p = who;
	size_t n = strlen(rol);

	while ((p = strstr(p, rol)) != NULL) {
		if ((p == who || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
			return 1;
		p += n;
	}
	return 0;
}

START_TEST(matriz_rutas_roles_sedes)
{
	struct http_resp doc, r;
	const cJSON *paths, *path, *op, *perm;
	char url[512], body[1024], grant[128], *tok;
	long ok, want;
	size_t i, k;
	int site, scoped, sitewide, tested = 0, allowed;
	const char *who;

	vet_at[1] = fx_vet(OWN, FX_DIA_COMPLETO);
	vet_at[2] = fx_vet(OTHER, FX_DIA_COMPLETO);
	pac = fx_paciente();
	http_get("/api/v1/openapi.json", &doc);
	ck_assert_int_eq(doc.status, 200);
	paths = cJSON_GetObjectItem(doc.json, "paths");
	cJSON_ArrayForEach(path, paths) {
		cJSON_ArrayForEach(op, path) {
			perm = cJSON_GetObjectItem(op, "x-permiso");
			if (!cJSON_IsString(perm))
				continue;
			who = NULL;
			scoped = 0;
			for (k = 0; k < sizeof(perms) / sizeof(perms[0]); k++)
				if (strcmp(perms[k].perm, perm->valuestring) == 0) {
					who = perms[k].who;
					scoped = perms[k].scoped;
				}
			ck_assert_msg(who != NULL, "permission %s of %s %s is not "
			    "in this test's contract", perm->valuestring,
			    op->string, path->string);
			for (i = 0; i < NROLES; i++)
				for (site = 0; site < 2; site++) {
					char method[8];

					snprintf(method, sizeof(method), "%s",
					    op->string);
					for (k = 0; method[k]; k++)
						method[k] = (char)(method[k] - 32);
					ck_assert_msg(request_for(method,
					    path->string, site ? OTHER : OWN, url,
					    sizeof(url), body, sizeof(body), &ok,
					    &sitewide) == 0,
					    "no request in the access matrix for %s %s:"
					    " add one to request_for()", method,
					    path->string);
					snprintf(grant, sizeof(grant),
					    "[{\"rol\":\"%s\",\"sede\":%s}]", roles[i],
					    strcmp(roles[i], "admin_red") == 0 ? "null"
					    : "1");
					tok = token_for(admin_id(), grant);
					http_token(tok);
					http_req(method, url, body[0] ?
					    "application/json" : NULL, body[0] ? body
					    : NULL, strlen(body), NULL, &r);
					http_token(NULL);
					free(tok);
					allowed = holds(who, roles[i]) && (!scoped ||
					    sitewide == 1 || site == 0 ||
					    strcmp(roles[i], "admin_red") == 0);
					if (sitewide == 2)
						allowed = holds(who, roles[i]) &&
						    strcmp(roles[i], "admin_red") == 0;
					if (sitewide == 3)
						allowed = holds(who, roles[i]) &&
						    (site == 0 || strcmp(roles[i],
						    "admin_red") == 0);
					want = allowed ? ok : 403;
					ck_assert_msg(r.status == want, "%s %s as %s at "
					    "the %s site: %ld, expected %ld: %s",
					    method, url, roles[i], site ? "other" :
					    "own", r.status, want, r.body);
					if (want == 403)
						assert_problem(&r, 403, "prohibido");
					http_free(&r);
					tested++;
				}
		}
	}
	http_free(&doc);
	ck_assert_int_ge(tested, 19 * (int)NROLES * 2);
}
END_TEST

/* A token with any header and payload, HMAC-signed with the stack's key. */
static char *
forge(const char *hdr, const char *payload, const char *kid_key)
{
	struct vr_jwt_keys ks;
	char err[256], *tok, *p;
	unsigned char mac[32];
	unsigned int len = 32;
	size_t n;

	ck_assert_int_eq(vr_jwt_keys_load(&ks, getenv("VETRED_JWT_KEYS"), err,
	    sizeof(err)), 0);
	tok = malloc(VR_B64URL_LEN(strlen(hdr)) + VR_B64URL_LEN(strlen(payload))
	    + VR_B64URL_LEN(32) + 2);
	n = vr_b64url_encode(hdr, strlen(hdr), tok);
	tok[n++] = '.';
	n += vr_b64url_encode(payload, strlen(payload), tok + n);
	p = tok + n;
	HMAC(EVP_sha256(), ks.k[0].key, (int)ks.k[0].len,
	    (unsigned char *)tok, n, mac, &len);
	*p++ = '.';
	if (kid_key != NULL)
		vr_b64url_encode(mac, sizeof(mac), p);
	else
		*p = '\0';
	return tok;
}

static void
get_with(const char *authorization, struct http_resp *r)
{
	const char *extra[2] = { authorization, NULL };

	http_req("GET", "/api/v1/sedes", NULL, NULL, 0,
	    authorization ? extra : NULL, r);
}

static void
expect_401(const char *authorization, const char *slug)
{
	struct http_resp r;
	char buf[256];

	get_with(authorization, &r);
	ck_assert_msg(r.status == 401, "%s -> %ld %s", authorization
	    ? authorization : "(none)", r.status, r.body);
	assert_problem(&r, 401, slug);
	ck_assert_ptr_nonnull(http_header(&r, "WWW-Authenticate", buf,
	    sizeof(buf)));
	ck_assert_ptr_nonnull(strstr(buf, "Bearer"));
	http_free(&r);
}

START_TEST(tokens_invalidos_son_401)
{
	long long now = (long long)time(NULL), uid = admin_id();
	const char *adm = "[{\"rol\":\"admin_red\",\"sede\":null}]";
	char claims[512], line[4096], *tok, *t2, *dot;
	struct http_resp r;

	http_token_none();
	expect_401(NULL, "no-autenticado");
	expect_401("Authorization: Basic YWRtaW46YWRtaW4=", "no-autenticado");
	expect_401("Authorization: Bearer", "no-autenticado");
	expect_401("Authorization: Bearer no.es.un-token", "token-invalido");
	expect_401("Authorization: Bearer ' OR 1=1 --", "token-invalido");

#define WITH(t) (snprintf(line, sizeof(line), "Authorization: Bearer %s", \
	(t)), line)
	/* Expired, not yet valid, another audience. */
	tok = token_sign(uid, adm, now - 1000, now - 100, NULL);
	expect_401(WITH(tok), "token-invalido");
	free(tok);
	tok = token_sign(uid, adm, now + 3600, now + 4500, NULL);
	expect_401(WITH(tok), "token-invalido");
	free(tok);
	tok = token_sign(uid, adm, now, now + 900, "otra-api");
	expect_401(WITH(tok), "token-invalido");
	free(tok);

	/* alg none, another algorithm, an unknown kid, a tampered claim. */
	snprintf(claims, sizeof(claims), "{\"iss\":\"vetred\",\"aud\":"
	    "\"vetred-api\",\"sub\":\"%lld\",\"iat\":%lld,\"exp\":%lld,"
	    "\"jti\":\"x1\",\"gen\":%lld,\"roles\":%s}", uid, now, now + 900,
	    db_countf("SELECT sesiones_generacion FROM usuarios WHERE id = %lld",
	    uid), adm);
	tok = forge("{\"alg\":\"none\",\"typ\":\"JWT\",\"kid\":\"dev1\"}",
	    claims, NULL);
	expect_401(WITH(tok), "token-invalido");
	free(tok);
	tok = forge("{\"alg\":\"HS512\",\"typ\":\"JWT\",\"kid\":\"dev1\"}",
	    claims, "k");
	expect_401(WITH(tok), "token-invalido");
	free(tok);
	tok = forge("{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"otro\"}",
	    claims, "k");
	expect_401(WITH(tok), "token-invalido");
	free(tok);
	tok = forge("{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"dev1\"}",
	    claims, "k");
	get_with(WITH(tok), &r);		/* the forgery itself is right */
	ck_assert_int_eq(r.status, 200);
	http_free(&r);
	/* farmacia's claims under the admin token's header and signature */
	t2 = token_for(uid, "[{\"rol\":\"farmacia\",\"sede\":1}]");
	dot = strchr(t2, '.') + 1;
	snprintf(line, sizeof(line), "Authorization: Bearer %.*s.%.*s%s",
	    (int)(strchr(tok, '.') - tok), tok,
	    (int)(strrchr(t2, '.') - dot), dot, strrchr(tok, '.'));
	expect_401(line, "token-invalido");
	free(t2);
	free(tok);
#undef WITH

	/* Public routes need no token. */
	http_get("/health", &r);
	ck_assert_int_eq(r.status, 200);
	http_free(&r);
	http_get("/api/v1/openapi.json", &r);
	ck_assert_int_eq(r.status, 200);
	http_free(&r);
}
END_TEST

/* A user with no role is authenticated but may do nothing. */
START_TEST(sin_roles_es_403)
{
	char *tok = token_for(admin_id(), "[]");
	struct http_resp r;

	http_token(tok);
	http_get("/api/v1/sedes", &r);
	assert_problem(&r, 403, "prohibido");
	http_free(&r);
	http_post_json("/api/v1/citas/reservar", "{}", &r);
	assert_problem(&r, 403, "prohibido");
	http_free(&r);
	free(tok);
	/* Unknown role names in a token grant nothing either. */
	tok = token_for(admin_id(), "[{\"rol\":\"root\",\"sede\":null},"
	    "{\"rol\":\"admin_red\",\"sede\":\"1\"}]");
	http_token(tok);
	http_get("/api/v1/sedes", &r);
	assert_problem(&r, 403, "prohibido");
	http_free(&r);
	free(tok);
}
END_TEST

/* Lists without sede_id are for network-wide roles only. */
START_TEST(listas_exigen_sede)
{
	char *tok = token_for(admin_id(), "[{\"rol\":\"recepcion\",\"sede\":1}]");
	struct http_resp r;

	http_token(tok);
	http_get("/api/v1/citas", &r);
	assert_problem(&r, 400, "parametro-invalido");
	http_free(&r);
	http_get("/api/v1/veterinarios", &r);
	assert_problem(&r, 400, "parametro-invalido");
	http_free(&r);
	http_get("/api/v1/citas?sede_id=2", &r);
	assert_problem(&r, 403, "prohibido");
	http_free(&r);
	http_get("/api/v1/citas?sede_id=1", &r);
	ck_assert_int_eq(r.status, 200);
	http_free(&r);
	free(tok);
	http_token(NULL);
	http_get("/api/v1/citas", &r);
	ck_assert_int_eq(r.status, 200);
	http_free(&r);
}
END_TEST

/* Writes record who did them, with the role they acted under. */
START_TEST(auditoria_registra_quien)
{
	long long vet = fx_vet(OWN, FX_DIA_COMPLETO), p = fx_paciente(), id;
	char *tok = token_for(admin_id(), "[{\"rol\":\"recepcion\",\"sede\":1}]");
	char t[FX_HORA_LEN];

	http_token(tok);
	fx_hora(fx_dia("America/Lima", 5, 21) + FX_HM(10, 0), FX_LIMA, t);
	id = fx_reservar_ok(&(struct fx_cita){ .paciente = p,
	    .veterinario = vet, .sede = OWN, .inicio = t, .duracion = 20 });
	ck_assert_int_eq(db_countf("SELECT count(*) FROM auditoria WHERE "
	    "entidad = 'citas' AND entidad_id = '%lld' AND usuario_id = %lld "
	    "AND rol = 'recepcion' AND sede_id = 1", id, admin_id()), 1);
	ck_assert_int_eq(db_countf("SELECT count(*) FROM citas WHERE id = %lld "
	    "AND creado_por = %lld", id, admin_id()), 1);
	free(tok);
}
END_TEST

/*
 * A vet of site 1 reads a history that spans sites 1 and 2: only site 1's
 * appointments show; a network administrator sees both.
 */
START_TEST(historial_solo_de_sus_sedes)
{
	long long v1 = fx_vet(OWN, FX_DIA_COMPLETO), v2 = fx_vet(OTHER,
	    FX_DIA_COMPLETO), p = fx_paciente(), c1, c2;
	char t[FX_HORA_LEN], path[96], *tok;
	struct http_resp r;
	const cJSON *e;
	int n1 = 0, n2 = 0;

	fx_hora(fx_dia("America/Lima", 6, 21) + FX_HM(9, 0), FX_LIMA, t);
	c1 = fx_reservar_ok(&(struct fx_cita){ .paciente = p, .veterinario = v1,
	    .sede = OWN, .inicio = t, .duracion = 20 });
	fx_hora(fx_dia("America/Lima", 6, 21) + FX_HM(11, 0), FX_LIMA, t);
	c2 = fx_reservar_ok(&(struct fx_cita){ .paciente = p, .veterinario = v2,
	    .sede = OTHER, .inicio = t, .duracion = 20 });
	snprintf(path, sizeof(path), "/api/v1/pacientes/%lld/historial", p);

	tok = token_for(admin_id(), "[{\"rol\":\"veterinario\",\"sede\":1}]");
	http_token(tok);
	free(tok);
	http_get(path, &r);
	ck_assert_int_eq(r.status, 200);
	cJSON_ArrayForEach(e, json_items(r.json)) {
		ck_assert_int_ne(json_ll(e, "id"), c2);
		n1 += json_ll(e, "id") == c1;
	}
	ck_assert_int_eq(n1, 1);
	ck_assert_ptr_null(strstr(r.body, "\"sede_id\": 2"));
	http_free(&r);

	http_token(NULL);
	http_get(path, &r);
	ck_assert_int_eq(r.status, 200);
	n1 = 0;
	cJSON_ArrayForEach(e, json_items(r.json)) {
		n1 += json_ll(e, "id") == c1;
		n2 += json_ll(e, "id") == c2;
	}
	ck_assert_int_eq(n1 + n2, 2);
	http_free(&r);
}
END_TEST

/*
 * A password change or a disabled account cuts the user's access tokens
 * within seconds; a token issued after it works.
 */
START_TEST(revocacion_corta_los_tokens)
{
	char *v = db_valuef("INSERT INTO usuarios (email, nombre) VALUES "
	    "('revocado.%ld@vetred.test', 'Revocado') RETURNING id",
	    (long)time(NULL) ^ (long)getpid());
	long long uid = atoll(v);
	char *tok = token_for(uid, "[{\"rol\":\"admin_red\",\"sede\":null}]");
	struct http_resp r;
	long status = 0;
	int i;

	free(v);
	http_token(tok);
	http_get("/api/v1/sedes", &r);
	ck_assert_int_eq(r.status, 200);
	http_free(&r);
	db_execf("UPDATE usuarios SET password_hash = '$argon2id$v=19$m=19456,"
	    "t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA' WHERE id = %lld",
	    uid);
	for (i = 0; i < 40 && status != 401; i++) {
		usleep(100000);
		http_get("/api/v1/sedes", &r);
		status = r.status;
		if (status == 401)
			assert_problem(&r, 401, "token-invalido");
		http_free(&r);
	}
	ck_assert_msg(status == 401, "still %ld after 4 s", status);
	free(tok);

	/* Issued after the change (the next whole second): valid. */
	sleep(1);
	tok = token_for(uid, "[{\"rol\":\"admin_red\",\"sede\":null}]");
	http_token(tok);
	http_get("/api/v1/sedes", &r);
	ck_assert_int_eq(r.status, 200);
	http_free(&r);

	db_execf("UPDATE usuarios SET activo = false WHERE id = %lld", uid);
	for (i = 0, status = 0; i < 40 && status != 401; i++) {
		usleep(100000);
		http_get("/api/v1/sedes", &r);
		status = r.status;
		http_free(&r);
	}
	ck_assert_msg(status == 401, "still %ld after 4 s", status);
	free(tok);
}
END_TEST

Suite *
access_suite(void)
{
	Suite *s = suite_create("access");
	TCase *tok = tcase_create("tokens");
	TCase *mat = tcase_create("matrix");

	tcase_set_timeout(tok, 60);
	tcase_set_timeout(mat, 240);
	tcase_add_test(tok, tokens_invalidos_son_401);
	tcase_add_test(tok, sin_roles_es_403);
	tcase_add_test(tok, listas_exigen_sede);
	tcase_add_test(tok, auditoria_registra_quien);
	tcase_add_test(tok, historial_solo_de_sus_sedes);
	tcase_add_test(tok, revocacion_corta_los_tokens);
	suite_add_tcase(s, tok);
	tcase_add_test(mat, matriz_rutas_roles_sedes);
	suite_add_tcase(s, mat);
	return s;
}
