/*
 * router.c - the route table and dispatch.
 *
 * Every endpoint of the API is one row below: method, path pattern with
 * {name} captures, handler, the permission it requires, and whether it
 * takes a JSON body.  Dispatch answers 404 (no pattern matches the path)
 * and 405 (the path exists with other methods, listed in Allow) before any
 * handler runs, then 401 (no valid token) and 429 (the user's request
 * budget spent, limite.c) on authenticated routes, then for body routes
 * 413 (too large), 415 (not JSON) and 400 (not UTF-8, malformed, or not
 * an object).  A CORS preflight (OPTIONS with Origin and
 * Access-Control-Request-Method) is answered by cors.c with the path's
 * methods instead of the 405.  The OpenAPI document must
 * list exactly these routes; a unit test holds the two together.
 *
 * Layer: routing, the top of the request path: it calls the handlers
 * (resources), the token and role checks (authz) and the transport's
 * answers; none of them calls back here.
 */
#include <string.h>
#include <strings.h>

#include "authz.h"
#include "resources.h"
#include "route.h"
#include "transport.h"

const struct api_route api_routes[] = {
	{ "GET", "/health", api_health, NULL, 0 },
	{ "GET", "/ready", api_ready, NULL, 0 },
	{ "GET", "/api/v1/openapi.json", api_openapi_get, NULL, 0 },
	{ "POST", "/api/v1/auth/login", api_auth_login, NULL, 1 },
	{ "POST", "/api/v1/auth/refresh", api_auth_refresh, NULL, 1 },
	{ "POST", "/api/v1/auth/logout", api_auth_logout, NULL, 1 },
	{ "GET", "/api/v1/sedes", api_sedes_list, "sedes.leer", 0 },
	{ "POST", "/api/v1/sedes", api_sede_create, "sedes.crear", 1 },
	{ "GET", "/api/v1/sedes/{id}", api_sede_get, "sedes.leer", 0 },
	{ "GET", "/api/v1/sedes/{id}/consultorios", api_consultorios_list,
	    "sedes.leer", 0 },
	{ "GET", "/api/v1/veterinarios", api_veterinarios_list, "agenda.leer",
	    0 },
	{ "GET", "/api/v1/veterinarios/{id}/ausencias", api_ausencias_list,
	    "agenda.leer", 0 },
	{ "POST", "/api/v1/veterinarios/{id}/ausencias", api_ausencia_registrar,
	    "agenda.gestionar", 1 },
	{ "DELETE", "/api/v1/veterinarios/{id}/ausencias/{ausencia}",
	    api_ausencia_eliminar, "agenda.gestionar", 0 },
	{ "POST", "/api/v1/veterinarios/{id}/importacion-ausencias",
	    api_ausencias_importar, "agenda.gestionar", 1 },
	{ "GET", "/api/v1/veterinarios/{id}/horarios", api_horarios_list,
	    "agenda.leer", 0 },
	{ "PUT", "/api/v1/veterinarios/{id}/horarios", api_horarios_fijar,
	    "agenda.gestionar", 1 },
	{ "GET", "/api/v1/veterinarios/{id}/semana", api_semana_veterinario,
	    "agenda.leer", 0 },
	{ "GET", "/api/v1/sedes/{id}/agenda", api_agenda_sede, "citas.leer",
	    0 },
	{ "GET", "/api/v1/feriados", api_feriados_list, "agenda.leer", 0 },
	{ "POST", "/api/v1/feriados", api_feriado_registrar,
	    "feriados.gestionar", 1 },
	{ "DELETE", "/api/v1/feriados/{fecha}", api_feriado_eliminar,
	    "feriados.gestionar", 0 },
	{ "GET", "/api/v1/sedes/{id}/feriados", api_feriados_list,
	    "agenda.leer", 0 },
	{ "POST", "/api/v1/sedes/{id}/feriados", api_feriado_registrar,
	    "agenda.gestionar", 1 },
	{ "DELETE", "/api/v1/sedes/{id}/feriados/{fecha}",
	    api_feriado_eliminar, "agenda.gestionar", 0 },
	{ "GET", "/api/v1/tipos-cita", api_tipos_cita_list, "agenda.leer", 0 },
	{ "PUT", "/api/v1/tipos-cita/{codigo}", api_tipo_cita_fijar,
	    "tipos_cita.gestionar", 1 },
	{ "PUT", "/api/v1/sedes/{id}/tipos-cita/{codigo}", api_tipo_cita_fijar,
	    "agenda.gestionar", 1 },
	{ "DELETE", "/api/v1/sedes/{id}/tipos-cita/{codigo}",
	    api_tipo_cita_eliminar, "agenda.gestionar", 0 },
	{ "GET", "/api/v1/calendarios", api_calendarios_list,
	    "calendarios.usar", 0 },
	{ "POST", "/api/v1/calendarios", api_calendario_emitir,
	    "calendarios.usar", 1 },
	{ "DELETE", "/api/v1/calendarios/{id}", api_calendario_revocar,
	    "calendarios.usar", 0 },
	{ "POST", "/api/v1/calendarios/{id}/rotacion", api_calendario_rotar,
	    "calendarios.usar", 0 },
	{ "GET", "/api/v1/disponibilidad", api_disponibilidad, "agenda.leer",
	    0 },
	{ "POST", "/api/v1/citas/reservar", api_cita_reservar,
	    "citas.reservar", 1 },
	{ "GET", "/api/v1/citas", api_citas_list, "citas.leer", 0 },
	{ "GET", "/api/v1/citas/{id}", api_cita_get, "citas.leer", 0 },
	{ "PUT", "/api/v1/citas/{id}", api_cita_put, "citas.modificar", 1 },
	{ "DELETE", "/api/v1/citas/{id}", api_cita_delete, "citas.cancelar",
	    0 },
	{ "POST", "/api/v1/pacientes/registro", api_paciente_registro,
	    "pacientes.registrar", 1 },
	{ "GET", "/api/v1/pacientes/{id}", api_paciente_get, "pacientes.leer",
	    0 },
	{ "GET", "/api/v1/pacientes/{id}/historial", api_paciente_historial,
	    "historia.leer", 0 },
	{ "PUT", "/api/v1/pacientes/{id}", api_paciente_put,
	    "pacientes.modificar", 1 },
	{ "POST", "/api/v1/pacientes/{id}/fallecimiento",
	    api_paciente_fallecimiento, "pacientes.modificar", 1 },
	{ "POST", "/api/v1/pacientes/{id}/transferencia",
	    api_paciente_transferencia, "pacientes.modificar", 1 },
	{ "GET", "/api/v1/pacientes/{id}/pesos", api_paciente_pesos,
	    "pacientes.leer", 0 },
	{ "POST", "/api/v1/pacientes/{id}/pesos", api_paciente_peso,
	    "pacientes.modificar", 1 },
	{ "POST", "/api/v1/pacientes/{id}/vacunaciones",
	    api_vacunacion_registrar, "historia.escribir", 1 },
	{ "POST", "/api/v1/pacientes/{id}/tratamientos",
	    api_tratamiento_registrar, "historia.escribir", 1 },
	{ "GET", "/api/v1/vacunas", api_vacunas_list, "pacientes.leer", 0 },
	{ "POST", "/api/v1/pacientes/{id}/entradas", api_entrada_registrar,
	    "historia.escribir", 1 },
	{ "GET", "/api/v1/entradas/{id}", api_entrada_get, "historia.leer", 0 },
	{ "PUT", "/api/v1/entradas/{id}", api_entrada_corregir,
	    "historia.escribir", 1 },
	{ "POST", "/api/v1/entradas/{id}/enmiendas", api_entrada_enmendar,
	    "historia.escribir", 1 },
	{ "GET", "/api/v1/diagnosticos", api_diagnosticos_list, "historia.leer",
	    0 },
	{ "POST", "/api/v1/diagnosticos", api_diagnostico_crear,
	    "diagnosticos.gestionar", 1 },
	{ "GET", "/api/v1/propietarios", api_propietarios_buscar,
	    "propietarios.leer", 0 },
	{ "GET", "/api/v1/propietarios/{id}", api_propietario_get,
	    "propietarios.leer", 0 },
	{ "PUT", "/api/v1/propietarios/{id}", api_propietario_put,
	    "propietarios.modificar", 1 },
	{ "POST", "/api/v1/propietarios/{id}/fusion", api_propietario_fusion,
	    "propietarios.fusionar", 1 },
	{ "GET", "/api/v1/usuarios", api_usuarios_list, "usuarios.leer", 0 },
	{ "POST", "/api/v1/usuarios", api_usuario_crear, "usuarios.crear", 1 },
	{ "GET", "/api/v1/usuarios/{id}", api_usuario_get, "usuarios.leer", 0 },
	{ "PUT", "/api/v1/usuarios/{id}", api_usuario_put, "usuarios.modificar",
	    1 },
	{ "GET", "/api/v1/auditoria", api_auditoria_list, "auditoria.leer", 0 },
	{ "GET", "/api/v1/auditoria/verificacion", api_auditoria_verificacion,
	    "auditoria.leer", 0 },
	{ "GET", "/api/v1/trabajos", api_trabajos_list, "trabajos.leer", 0 },
	{ "GET", "/api/v1/trabajos/{nombre}", api_trabajo_get, "trabajos.leer",
	    0 },
	{ "PUT", "/api/v1/trabajos/{nombre}", api_trabajo_put,
	    "trabajos.modificar", 1 },
	{ "POST", "/api/v1/trabajos/{nombre}/ejecutar", api_trabajo_ejecutar,
	    "trabajos.ejecutar", 0 },
	{ "GET", "/api/v1/eventos/muertos", api_muertos_list, "eventos.leer",
	    0 },
	{ "POST", "/api/v1/eventos/muertos/{id}/reenviar", api_muerto_reenviar,
	    "eventos.reenviar", 0 },
};

const int api_nroutes = (int)(sizeof(api_routes) / sizeof(api_routes[0]));

/*
 * Match path against pattern segment by segment; a {name} segment matches
 * any non-empty segment, captured percent-decoded into r (when r is not
 * NULL).  1 on a match, 0 otherwise.
 */
int
api_route_match(const char *pattern, const char *path, struct api_req *r)
{
	const char *p = pattern, *s = path, *pe, *se;
	int n = 0;

	while (*p == '/' && *s == '/') {
		p++;
		s++;
		pe = p + strcspn(p, "/");
		se = s + strcspn(s, "/");
		if (*p == '{') {
			if (se == s || n >= API_MAX_CAPTURES)
				return 0;
			if (r != NULL) {
				r->captures[n] = api_url_decode(r->arena, s,
				    (size_t)(se - s));
				if (r->captures[n] == NULL)
					r->captures[n] = "";
			}
			n++;
		} else if (pe - p != se - s || memcmp(p, s, (size_t)(pe - p)))
			return 0;
		p = pe;
		s = se;
	}
	if (*p != '\0' || *s != '\0')
		return 0;
	if (r != NULL)
		r->ncaptures = n;
	return 1;
}

/* "application/json", optionally with "; charset=utf-8". */
static int
is_json_type(const char *ct)
{
	size_t n = strlen("application/json");

	if (strncasecmp(ct, "application/json", n) != 0)
		return 0;
	ct += n;
	while (*ct == ' ')
		ct++;
	if (*ct == '\0')
		return 1;
	if (*ct++ != ';')
		return 0;
	while (*ct == ' ')
		ct++;
	return strcasecmp(ct, "charset=utf-8") == 0;
}

/*
 * 1 when the JSON text holds a \u0000 escape: cJSON would end the string
 * there and the handler would see a silently shortened value.
 */
static int
has_escaped_nul(const char *s, size_t len)
{
	size_t i, bs = 0;

	for (i = 0; i < len; i++) {
		if (s[i] == '\\') {
			bs++;
			continue;
		}
		if (bs % 2 == 1 && s[i] == 'u' && len - i >= 5 &&
		    memcmp(s + i + 1, "0000", 4) == 0)
			return 1;
		bs = 0;
	}
	return 0;
}

/* 0 with r->json an object, or < 0 with the problem answered. */
static int
body_or_4xx(struct api_req *r)
{
	const char *end = NULL;
	char detail[128];

	if (r->content_length < 0) {
		api_problem(r, 400, "solicitud-invalida", "Solicitud inválida",
		    "Content-Length no es válido.", NULL);
		return -1;
	}
	if (r->content_length > r->ctx->shared->api->max_body) {
		snprintf(detail, sizeof(detail), "El cuerpo supera el límite "
		    "de %ld bytes.", r->ctx->shared->api->max_body);
		api_problem(r, 413, "cuerpo-demasiado-grande",
		    "Cuerpo demasiado grande", detail, NULL);
		return -1;
	}
	if (!is_json_type(r->content_type)) {
		api_problem(r, 415, "tipo-no-soportado",
		    "Tipo de contenido no soportado",
		    "Envíe el cuerpo como application/json (UTF-8).", NULL);
		return -1;
	}
	if (api_read_body(r) < 0) {
		api_problem(r, 400, "solicitud-invalida", "Solicitud inválida",
		    "El cuerpo llegó incompleto.", NULL);
		return -1;
	}
	if (!vr_utf8_valid(r->body, r->body_len)) {
		api_problem(r, 400, "utf8-invalido", "Codificación inválida",
		    "El cuerpo no es UTF-8 válido.", NULL);
		return -1;
	}
	if (has_escaped_nul(r->body, r->body_len)) {
		api_problem(r, 400, "json-invalido", "JSON mal formado",
		    "El cuerpo contiene el carácter nulo (\\u0000).", NULL);
		return -1;
	}
	/* The length includes the NUL after the body: nothing may follow
	 * the document (an embedded NUL was refused as invalid UTF-8). */
	r->json = api_own_json(r, cJSON_ParseWithLengthOpts(r->body,
	    r->body_len + 1, &end, 1));
	if (r->json == NULL) {
		api_problem(r, 400, "json-invalido", "JSON mal formado",
		    "El cuerpo no es un documento JSON válido.", NULL);
		return -1;
	}
	if (!cJSON_IsObject(r->json)) {
		api_problem(r, 400, "json-invalido", "JSON mal formado",
		    "El cuerpo debe ser un objeto JSON.", NULL);
		return -1;
	}
	return 0;
}

/* A CORS preflight (cors.c); allow: the path's methods, "" for none. */
static void
preflight(struct api_req *r, const char *allow)
{
	char hdr[512];

	if (r->cors_origin == NULL) {
		api_problem(r, 403, "origen-no-permitido", "Origen no permitido",
		    "Este origen no está autorizado a llamar a la API desde un "
		    "navegador.", NULL);
		return;
	}
	if (*allow == '\0') {
		api_problem(r, 404, "no-encontrado", "No encontrado",
		    "No existe un recurso en esta ruta.", NULL);
		return;
	}
	api_cors_preflight_headers(allow, hdr, sizeof(hdr));
	api_reply(r, 204, NULL, NULL, 0, hdr);
}

static int
has_capture(const char *pattern)
{
	return strchr(pattern, '{') != NULL;
}

/*
 * A literal route beats a pattern with captures: with POST
 * /api/v1/citas/reservar in the table, GET /api/v1/citas/reservar is a
 * 405, not a read of appointment "reservar".
 */
void
api_dispatch(struct api_req *r)
{
	char allow[128], hdr[160];
	size_t alen = 0;
	int i, pass, path_found = 0;

	allow[0] = '\0';
	for (pass = 0; pass < 2 && !path_found; pass++) {
		for (i = 0; i < api_nroutes; i++) {
			if (has_capture(api_routes[i].pattern) != pass ||
			    !api_route_match(api_routes[i].pattern, r->path,
			    NULL))
				continue;
			path_found = 1;
			if (strcmp(api_routes[i].method, r->method) == 0 ||
			    (strcmp(r->method, "HEAD") == 0 &&
			    strcmp(api_routes[i].method, "GET") == 0)) {
				r->route = &api_routes[i];
				break;
			}
			if (alen + strlen(api_routes[i].method) + 3 <
			    sizeof(allow))
				alen += (size_t)snprintf(allow + alen,
				    sizeof(allow) - alen, "%s%s",
				    alen ? ", " : "", api_routes[i].method);
		}
	}
	if (r->route == NULL && strcmp(r->method, "OPTIONS") == 0 &&
	    api_header(r, "HTTP_ORIGIN") != NULL &&
	    api_header(r, "HTTP_ACCESS_CONTROL_REQUEST_METHOD") != NULL) {
		preflight(r, path_found ? allow : "");
		return;
	}
	if (r->route == NULL) {
		if (!path_found) {
			api_problem(r, 404, "no-encontrado", "No encontrado",
			    "No existe un recurso en esta ruta.", NULL);
			return;
		}
		snprintf(hdr, sizeof(hdr), "Allow: %s\r\n", allow);
		api_problem_hdr(r, 405, "metodo-no-permitido",
		    "Método no permitido", "Esta ruta no acepta ese método.",
		    NULL, hdr);
		return;
	}
	api_route_match(r->route->pattern, r->path, r);
	if (r->route->perm != NULL) {
		if (api_authenticate(r) < 0 || api_rate_or_429(r) < 0)
			return;
		if (!api_allowed(r, 0)) {
			api_forbidden(r, "Su rol no permite esta operación.");
			return;
		}
	}
	if (r->route->body && body_or_4xx(r) < 0)
		return;
	r->route->fn(r);
}
