/*
 * horarios.c - what a site's week is made of: the vets' working hours
 * (split shifts, from a date on), the network's and the sites' holidays,
 * and the agenda reads built on them: a site's day, a vet's week across
 * sites; and the appointment types, with their slot length and margins.
 * Layer: resources.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "authz.h"
#include "params.h"
#include "problem.h"
#include "resources.h"
#include "sql.h"
#include "transport.h"

#define ID_MAX		9007199254740991LL
#define BLOQUES_MAX	42	/* six blocks a day, seven days */
#define LIMA_OFFSET	(-5 * 3600)	/* the network's zone, no DST */
#define RANGO_MAX	1096	/* days of one holiday list */

static const char *const horario_known[] = { "sede_id", "desde", "bloques",
	NULL };
static const char *const bloque_known[] = { "dia_semana", "inicio", "fin",
	NULL };
static const char *const feriado_known[] = { "fecha", "nombre", "cerrado",
	NULL };

/* Days since 1970-01-01 of a valid AAAA-MM-DD (the civil calendar). */
static long
day_number(const char *s)
{
	long y = strtol(s, NULL, 10), m = strtol(s + 5, NULL, 10),
	    d = strtol(s + 8, NULL, 10), era, yoe, doy;

	y -= m <= 2;
	era = y / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	return era * 146097 + (yoe * 365 + yoe / 4 - yoe / 100 + doy) - 719468;
}

/* AAAA-MM-DD of day number n (inverse of day_number) into out[11]. */
static void
day_text(long n, char out[11])
{
	time_t t = (time_t)n * 86400;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 11, "%Y-%m-%d", &tm);
}

/* Minutes since midnight of "HH:MM" (24:00 only when end), or -1. */
static int
hhmm(const char *s, int end)
{
	int h, m;

	if (strlen(s) != 5 || s[2] != ':' || s[0] < '0' || s[0] > '2' ||
	    s[1] < '0' || s[1] > '9' || s[3] < '0' || s[3] > '5' ||
	    s[4] < '0' || s[4] > '9')
		return -1;
	h = (s[0] - '0') * 10 + (s[1] - '0');
	m = (s[3] - '0') * 10 + (s[4] - '0');
	if (h < 24 || (end && h == 24 && m == 0))
		return h * 60 + m;
	return -1;
}

/* Move the errors of be into errs, their fields named bloques[i].campo. */
static void
move_errors(cJSON *be, int i, cJSON *errs)
{
	const cJSON *e, *campo, *msg;
	char name[48];

	cJSON_ArrayForEach(e, be) {
		campo = cJSON_GetObjectItemCaseSensitive(e, "campo");
		msg = cJSON_GetObjectItemCaseSensitive(e, "mensaje");
		snprintf(name, sizeof(name), "bloques[%d].%s", i,
		    cJSON_GetStringValue(campo));
		vr_json_error(errs, name, cJSON_GetStringValue(msg));
	}
	cJSON_Delete(be);
}

/*
 * The blocks of a PUT, checked: each {dia_semana 1-7, inicio, fin} with
 * fin after inicio, and no two of one day crossing.  Errors name the
 * member (bloques[2].fin).
 */
static void
check_bloques(const cJSON *arr, cJSON *errs)
{
	int from[BLOQUES_MAX], to[BLOQUES_MAX], day[BLOQUES_MAX];
	const cJSON *b;
	cJSON *be;
	const char *s;
	long long d;
	int i = 0, j;

	cJSON_ArrayForEach(b, arr) {
		be = cJSON_CreateArray();
		from[i] = to[i] = -1;
		day[i] = 0;
		if (!cJSON_IsObject(b)) {
			vr_json_error(be, "dia_semana", "cada bloque es un "
			    "objeto {dia_semana, inicio, fin}");
			move_errors(be, i++, errs);
			continue;
		}
		api_unknown_members(b, bloque_known, be);
		if (vr_json_int(b, "dia_semana", 1, 1, 7, &d, be) > 0)
			day[i] = (int)d;
		if (vr_json_str(b, "inicio", 1, 5, 5, &s, be) > 0 &&
		    (from[i] = hhmm(s, 0)) < 0)
			vr_json_error(be, "inicio", "debe ser una hora HH:MM");
		if (vr_json_str(b, "fin", 1, 5, 5, &s, be) > 0 &&
		    (to[i] = hhmm(s, 1)) < 0)
			vr_json_error(be, "fin", "debe ser una hora HH:MM "
			    "(24:00 para el fin del día)");
		if (day[i] > 0 && from[i] >= 0 && to[i] >= 0) {
			if (to[i] <= from[i])
				vr_json_error(be, "fin", "debe ser posterior "
				    "al inicio");
			for (j = 0; j < i; j++)
				if (day[j] == day[i] && to[j] > from[j] &&
				    from[i] < to[j] && from[j] < to[i]) {
					vr_json_error(be, "inicio", "se cruza "
					    "con otro bloque del mismo día");
					break;
				}
		}
		move_errors(be, i++, errs);
	}
}

/* A read of vet {id}'s calendar from ?desde (statement stmt: id, desde,
 * sedes). */
static void
vet_read(struct api_req *r, int stmt)
{
	cJSON *errs = api_errors(r);
	struct api_args a;
	const char *desde = NULL;
	long long vet;

	if (api_id_or_400(r, 0, &vet) < 0)
		return;
	api_qdate(r, "desde", 0, &desde, errs);
	if (api_params_or_400(r, errs) < 0)
		return;
	api_args_init(&a, stmt);
	api_arg_int(&a, "id", vet);
	api_arg_text(&a, "desde", desde);
	api_arg_text(&a, "sedes", api_sedes_permitidas(r));
	api_run_function(r, &a, 0, NULL);
}

/*
 * GET /api/v1/veterinarios/{id}/horarios[?desde] - permission agenda.leer,
 * for a vet who works at one of the caller's sites.  200 {elementos:
 * [Horario], siguiente_cursor: null}: the blocks in force on desde
 * (default today) or later, at every site; 400; 403; 404 unknown vet.
 */
void
api_horarios_list(struct api_req *r)
{
	vet_read(r, STMT_HORARIOS_LIST);
}

/*
 * PUT /api/v1/veterinarios/{id}/horarios {sede_id, desde, bloques:
 * [{dia_semana, inicio, fin}]} - permission agenda.gestionar at sede_id.
 * The vet's week at that site from desde on (an empty list: no longer
 * works there from then).  200 {veterinario_id, sede_id, desde,
 * zona_horaria, bloques, citas_fuera_de_horario}; 400; 403; 404 unknown
 * vet; 409 a block crossing the vet's hours at another site; 422
 * invalid blocks, crossing ones, a past date, a site the vet does not
 * work at.
 */
void
api_horarios_fijar(struct api_req *r)
{
	cJSON *errs = api_errors(r);
	const cJSON *bl;
	struct api_args a;
	const char *desde = NULL;
	long long vet, sede = 0;

	if (api_id_or_400(r, 0, &vet) < 0)
		return;
	api_unknown_members(r->json, horario_known, errs);
	vr_json_int(r->json, "sede_id", 1, 1, ID_MAX, &sede, errs);
	if (vr_json_str(r->json, "desde", 1, 10, 10, &desde, errs) > 0 &&
	    !vr_date_valid(desde))
		vr_json_error(errs, "desde", "debe ser una fecha AAAA-MM-DD");
	bl = cJSON_GetObjectItemCaseSensitive(r->json, "bloques");
	if (!cJSON_IsArray(bl))
		vr_json_error(errs, "bloques", "es obligatorio: una lista de "
		    "{dia_semana, inicio, fin}");
	else if (cJSON_GetArraySize(bl) > BLOQUES_MAX)
		vr_json_error(errs, "bloques", "a lo más 42 bloques");
	else
		check_bloques(bl, errs);
	if (sede > 0 && api_sede_or_403(r, sede) < 0)
		return;
	if (api_fields_or_422(r, errs) < 0)
		return;
	api_args_init(&a, STMT_HORARIOS_FIJAR);
	api_arg_int(&a, "id", vet);
	api_arg_int(&a, "sede", sede);
	api_arg_text(&a, "desde", desde);
	api_arg_text(&a, "bloques", api_print(r, bl));
	api_args_who(&a, r, sede);
	api_run_function(r, &a, 1, NULL);
}

/*
 * GET /api/v1/veterinarios/{id}/semana[?desde] - permission agenda.leer,
 * for a vet who works at one of the caller's sites.  200 {veterinario_id,
 * desde, hasta, dias: [{fecha, bloques}], ausencias, citas}: seven days
 * from desde (default today); appointments at the caller's sites in
 * full, elsewhere as busy time.  400; 403; 404.
 */
void
api_semana_veterinario(struct api_req *r)
{
	vet_read(r, STMT_SEMANA_VETERINARIO);
}

/*
 * GET /api/v1/sedes/{id}/agenda?fecha - permission citas.leer at the site.
 * 200 {sede_id, fecha, zona_horaria, feriado, veterinarios: [{id, nombres,
 * apellidos, bloques, ausencias}], citas: [Cita]}; 400; 403; 404.
 */
void
api_agenda_sede(struct api_req *r)
{
	cJSON *errs = api_errors(r);
	struct api_args a;
	const char *fecha = NULL;
	long long sede;

	if (api_id_or_400(r, 0, &sede) < 0)
		return;
	api_qdate(r, "fecha", 1, &fecha, errs);
	if (api_params_or_400(r, errs) < 0 || api_sede_or_403(r, sede) < 0)
		return;
	api_args_init(&a, STMT_AGENDA_SEDE);
	api_arg_int(&a, "sede", sede);
	api_arg_text(&a, "fecha", fecha);
	api_run_function(r, &a, 0, NULL);
}

/* The site of a /sedes/{id}/... route (holidays, appointment types): 1
 * with *sede set, 0 for the network's routes, -1 when the 400 or 403 was
 * answered. */
static int
feriados_site(struct api_req *r, long long *sede)
{
	*sede = 0;
	if (strncmp(r->path, "/api/v1/sedes/", 14) != 0)
		return 0;
	if (api_id_or_400(r, 0, sede) < 0 || api_sede_or_403(r, *sede) < 0)
		return -1;
	return 1;
}

/*
 * GET /api/v1/feriados[?desde&hasta] - permission agenda.leer; and GET
 * /api/v1/sedes/{id}/feriados - the same at that site.  200 {elementos:
 * [Feriado], siguiente_cursor: null} between desde (default today in
 * Lima) and hasta (default a year later), at most three years apart;
 * 400; 403; 404 unknown site.
 */
void
api_feriados_list(struct api_req *r)
{
	cJSON *errs = api_errors(r);
	struct api_args a;
	const char *desde = NULL, *hasta = NULL;
	char hoy[11], fin[11];
	long long sede;
	long d0, d1;

	if (feriados_site(r, &sede) < 0)
		return;
	api_qdate(r, "desde", 0, &desde, errs);
	api_qdate(r, "hasta", 0, &hasta, errs);
	if (desde == NULL) {
		day_text((long)((time(NULL) + LIMA_OFFSET) / 86400), hoy);
		desde = hoy;
	}
	d0 = day_number(desde);
	if (hasta == NULL) {
		day_text(d0 + 365, fin);
		hasta = fin;
	}
	d1 = day_number(hasta);
	if (cJSON_GetArraySize(errs) == 0 && (d1 < d0 || d1 - d0 > RANGO_MAX))
		vr_json_error(errs, "hasta", "debe estar entre desde y tres "
		    "años después");
	if (api_params_or_400(r, errs) < 0)
		return;
	api_args_init(&a, STMT_FERIADOS_LIST);
	if (sede > 0)
		api_arg_int(&a, "sede", sede);
	api_arg_text(&a, "desde", desde);
	api_arg_text(&a, "hasta", hasta);
	api_run_function(r, &a, 0, NULL);
}

/*
 * POST /api/v1/feriados {fecha, nombre} - permission feriados.gestionar
 * (the network's administrators); POST /api/v1/sedes/{id}/feriados
 * {fecha, nombre?, cerrado?} - permission agenda.gestionar at the site:
 * its own holiday, or cerrado false to open on a network holiday.  201
 * Feriado + citas_afectadas; 400; 403; 404 unknown site; 409 that day is
 * already registered; 422 invalid fields, a past date, opening on a day
 * that is no network holiday.
 */
void
api_feriado_registrar(struct api_req *r)
{
	cJSON *errs = api_errors(r);
	struct api_args a;
	const char *fecha = NULL, *nombre = NULL;
	long long sede;
	int site, cerrado = 1;

	if ((site = feriados_site(r, &sede)) < 0)
		return;
	api_unknown_members(r->json, feriado_known, errs);
	if (vr_json_str(r->json, "fecha", 1, 10, 10, &fecha, errs) > 0 &&
	    !vr_date_valid(fecha))
		vr_json_error(errs, "fecha", "debe ser una fecha AAAA-MM-DD");
	if (site)
		vr_json_bool(r->json, "cerrado", 0, &cerrado, errs);
	else if (cJSON_GetObjectItemCaseSensitive(r->json, "cerrado") != NULL)
		vr_json_error(errs, "cerrado", "un feriado de la red cierra "
		    "todas las sedes; una sede abre con su propio registro");
	vr_json_str(r->json, "nombre", cerrado, 1, 120, &nombre, errs);
	if (api_fields_or_422(r, errs) < 0)
		return;
	api_args_init(&a, STMT_FERIADO_REGISTRAR);
	if (site)
		api_arg_int(&a, "sede", sede);
	api_arg_text(&a, "fecha", fecha);
	api_arg_text(&a, "nombre", nombre);
	api_arg_bool(&a, "cerrado", cerrado);
	api_args_who(&a, r, sede);
	api_run_function(r, &a, 1, NULL);
}

/*
 * DELETE /api/v1/feriados/{fecha} - permission feriados.gestionar; DELETE
 * /api/v1/sedes/{id}/feriados/{fecha} - agenda.gestionar at the site.
 * 204; 400 a bad date; 403; 404 no holiday registered that day.
 */
void
api_feriado_eliminar(struct api_req *r)
{
	struct api_args a;
	const char *fecha;
	long long sede;
	int site;

	if ((site = feriados_site(r, &sede)) < 0)
		return;
	fecha = r->captures[site];
	if (!vr_date_valid(fecha)) {
		cJSON *errs = api_errors(r);

		vr_json_error(errs, "fecha", "debe ser una fecha AAAA-MM-DD");
		api_problem(r, 400, "parametro-invalido", "Parámetro "
		    "inválido", "La fecha de la ruta no es AAAA-MM-DD.", errs);
		return;
	}
	api_args_init(&a, STMT_FERIADO_ELIMINAR);
	if (site)
		api_arg_int(&a, "sede", sede);
	api_arg_text(&a, "fecha", fecha);
	api_args_who(&a, r, sede);
	api_run_function(r, &a, 1, NULL);
}

static const char *const tipo_known[] = { "nombre", "duracion_min",
	"margen_antes_min", "margen_despues_min", "modalidad", "activo", NULL };
static const char *const modalidades[] = { "presencial", "virtual", NULL };

/*
 * GET /api/v1/tipos-cita[?sede_id] - permission agenda.leer (at sede_id
 * when given).  200 {elementos: [TipoCita], siguiente_cursor: null}: the
 * network's types, or those in force at the site; 400; 403; 404 unknown
 * site.
 */
void
api_tipos_cita_list(struct api_req *r)
{
	cJSON *errs = api_errors(r);
	struct api_args a;
	long long sede = 0;

	api_qid(r, "sede_id", 0, &sede, errs);
	if (api_params_or_400(r, errs) < 0 ||
	    (sede > 0 && api_sede_or_403(r, sede) < 0))
		return;
	api_args_init(&a, STMT_TIPOS_CITA_LIST);
	if (sede > 0)
		api_arg_int(&a, "sede", sede);
	api_run_function(r, &a, 0, NULL);
}

/*
 * PUT /api/v1/tipos-cita/{codigo} - permission tipos_cita.gestionar (the
 * network's administrators); PUT /api/v1/sedes/{id}/tipos-cita/{codigo}
 * - agenda.gestionar at the site: its own values.  In: {nombre?,
 * duracion_min?, margen_antes_min?, margen_despues_min?, modalidad?,
 * activo?} (a new type needs nombre and duracion_min; a site's values
 * default to the network's).  201 TipoCita created, 200 replaced; 400 a
 * bad code; 403; 404 unknown site; 422 invalid fields.
 */
void
api_tipo_cita_fijar(struct api_req *r)
{
	cJSON *errs = api_errors(r), *d = api_own_json(r, cJSON_CreateObject());
	struct api_args a;
	const char *codigo, *s;
	long long sede = 0, n;
	int site, v;

	if ((site = feriados_site(r, &sede)) < 0)
		return;
	codigo = r->captures[site];
	if (!api_code_valid(codigo)) {
		vr_json_error(errs, "codigo", "letras minúsculas, dígitos y _, "
		    "2 a 40 (p. ej. vacunacion)");
		api_params_or_400(r, errs);
		return;
	}
	api_unknown_members(r->json, tipo_known, errs);
	if (vr_json_str(r->json, "nombre", 0, 1, 80, &s, errs) > 0)
		cJSON_AddStringToObject(d, "nombre", s);
	if (vr_json_int(r->json, "duracion_min", 0, 5, 240, &n, errs) > 0)
		cJSON_AddNumberToObject(d, "duracion_min", (double)n);
	if (vr_json_int(r->json, "margen_antes_min", 0, 0, 120, &n, errs) > 0)
		cJSON_AddNumberToObject(d, "margen_antes_min", (double)n);
	if (vr_json_int(r->json, "margen_despues_min", 0, 0, 120, &n, errs) >
	    0)
		cJSON_AddNumberToObject(d, "margen_despues_min", (double)n);
	if (vr_json_enum(r->json, "modalidad", 0, modalidades, &v, errs) > 0)
		cJSON_AddStringToObject(d, "modalidad", modalidades[v]);
	if (vr_json_bool(r->json, "activo", 0, &v, errs) > 0)
		cJSON_AddBoolToObject(d, "activo", v);
	if (api_fields_or_422(r, errs) < 0)
		return;
	api_args_init(&a, STMT_TIPO_CITA_FIJAR);
	if (site)
		api_arg_int(&a, "sede", sede);
	api_arg_text(&a, "codigo", codigo);
	api_arg_text(&a, "datos", api_print(r, d));
	api_args_who(&a, r, sede);
	api_run_function(r, &a, 1, NULL);
}

/*
 * DELETE /api/v1/sedes/{id}/tipos-cita/{codigo} - agenda.gestionar at the
 * site: its own values go, the network's apply again.  204; 400; 403;
 * 404 no values of its own; 409 bookings name them.
 */
void
api_tipo_cita_eliminar(struct api_req *r)
{
	struct api_args a;
	long long sede;

	if (feriados_site(r, &sede) < 0)
		return;
	if (!api_code_valid(r->captures[1])) {
		cJSON *errs = api_errors(r);

		vr_json_error(errs, "codigo", "letras minúsculas, dígitos y _");
		api_params_or_400(r, errs);
		return;
	}
	api_args_init(&a, STMT_TIPO_CITA_ELIMINAR);
	api_arg_int(&a, "sede", sede);
	api_arg_text(&a, "codigo", r->captures[1]);
	api_args_who(&a, r, sede);
	api_run_function(r, &a, 1, NULL);
}
