/*
 * usuarios.c - user administration: list, read, create, update, and the
 * roles each user holds per site.
 *
 * A network administrator manages everyone; a site administrator only the
 * roles held at its sites, and the accounts of people who work only
 * there; nobody grants admin_red but a network administrator.  The scope
 * is passed to the database functions (db/functions/usuarios.sql),
 * which decide under the row lock.  Layer: resources.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authz.h"
#include "params.h"
#include "problem.h"
#include "resources.h"
#include "sql.h"
#include "transport.h"

#define ID_MAX		9007199254740991LL
#define LIST_DEFAULT	50
#define MAX_ROLES	32

/*
 * "roles": [{"rol": name, "sede": id | null}], as JSON text for the
 * database; admin_red is network-wide, admin_sede bound to a site.
 */
static const char *
roles_in(struct api_req *r, int required, cJSON *errs)
{
	const cJSON *roles = cJSON_GetObjectItemCaseSensitive(r->json, "roles");
	const cJSON *g, *rol, *sede;
	cJSON *out, *o;
	int k;

	if (roles == NULL && !required)
		return NULL;
	if (!cJSON_IsArray(roles) || cJSON_GetArraySize(roles) > MAX_ROLES) {
		vr_json_error(errs, "roles", "debe ser una lista de hasta 32 "
		    "{rol, sede}");
		return NULL;
	}
	out = api_own_json(r, cJSON_CreateArray());
	cJSON_ArrayForEach(g, roles) {
		rol = cJSON_GetObjectItemCaseSensitive(g, "rol");
		sede = cJSON_GetObjectItemCaseSensitive(g, "sede");
		k = cJSON_IsString(rol) ? api_rol_parse(rol->valuestring) : -1;
		if (!cJSON_IsObject(g) || k < 0) {
			vr_json_error(errs, "roles", "rol desconocido: use "
			    "admin_red, admin_sede, veterinario, recepcion, "
			    "farmacia o auditor");
			return NULL;
		}
		if (!(cJSON_IsNull(sede) || sede == NULL) && !(cJSON_IsNumber(sede)
		    && sede->valuedouble >= 1 && sede->valuedouble <= ID_MAX &&
		    sede->valuedouble == (double)(long long)sede->valuedouble)) {
			vr_json_error(errs, "roles", "sede debe ser el id de una "
			    "sede o null (toda la red)");
			return NULL;
		}
		if (k == ROL_ADMIN_RED && cJSON_IsNumber(sede)) {
			vr_json_error(errs, "roles", "admin_red abarca toda la "
			    "red: sede debe ser null");
			return NULL;
		}
		if (k == ROL_ADMIN_SEDE && !cJSON_IsNumber(sede)) {
			vr_json_error(errs, "roles", "admin_sede necesita una "
			    "sede");
			return NULL;
		}
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "rol", api_rol_names[k]);
		if (cJSON_IsNumber(sede))
			cJSON_AddNumberToObject(o, "sede", sede->valuedouble);
		else
			cJSON_AddNullToObject(o, "sede");
		cJSON_AddItemToArray(out, o);
	}
	return api_print(r, out);
}

/* The Argon2id hash of body field "password", checked by the policy. */
static const char *
password_in(struct api_req *r, const char *email, cJSON *errs)
{
	const char *pw, *why;
	char hash[VR_PASSWORD_HASH_LEN];

	if (vr_json_str(r->json, "password", 0, 1, 1024, &pw, errs) <= 0)
		return NULL;
	if ((why = vr_password_weak(pw, email)) != NULL) {
		vr_json_error(errs, "password", why);
		return NULL;
	}
	if (vr_password_hash(pw, &r->ctx->shared->api->pw.kdf, hash,
	    sizeof(hash)) < 0) {
		vr_json_error(errs, "password", "no se pudo procesar");
		return NULL;
	}
	return vr_arena_strdup(r->arena, hash);
}

/*
 * GET /api/v1/usuarios[?limite&cursor] - permission usuarios.leer.
 * 200 {elementos: [Usuario], siguiente_cursor}: everyone for admin_red,
 * the people with a role at the caller's sites for admin_sede.
 */
void
api_usuarios_list(struct api_req *r)
{
	static const char *const kinds[1] = { NULL };
	cJSON *errs = api_errors(r);
	struct api_args a;
	const char *cur[1] = { NULL };
	long limite = LIST_DEFAULT;

	api_args_init(&a, STMT_USUARIOS_LIST);
	api_qint(r, "limite", 1, 200, &limite, errs);
	api_arg_int(&a, "limite", limite);
	if (api_qcursor(r, 1, kinds, cur, errs) > 0)
		api_arg_text(&a, "cursor_id", cur[0]);
	if (api_params_or_400(r, errs) < 0)
		return;
	api_arg_text(&a, "sedes", api_sedes_permitidas(r));
	api_run_json(r, &a, NULL);
}

/*
 * GET /api/v1/usuarios/{id} - permission usuarios.leer.
 * 200 Usuario; 403 someone with no role at the caller's sites; 404.
 */
void
api_usuario_get(struct api_req *r)
{
	struct api_args a;
	long long id;
	PGresult *res = NULL;
	int rc;

	if (api_id_or_400(r, 0, &id) < 0)
		return;
	api_args_init(&a, STMT_USUARIO_GET);
	api_arg_int(&a, "id", id);
	api_arg_text(&a, "sedes", api_sedes_permitidas(r));
	if ((rc = api_exec(r, &a, 0, &res)) < 0) {
		api_db_problem(r, rc);
		return;
	}
	if (PQntuples(res) == 0)
		api_problem(r, 404, "no-encontrado", "No encontrado",
		    "El usuario no existe.", NULL);
	else if (*PQgetvalue(res, 0, 1) != 't')
		api_forbidden(r, "El usuario no trabaja en sus sedes.");
	else
		api_json_text(r, 200, NULL, PQgetvalue(res, 0, 0),
		    (size_t)PQgetlength(res, 0, 0), NULL);
}

/*
 * POST /api/v1/usuarios {email, nombre, password?, roles} - permission
 * usuarios.crear.  201 Usuario + Location; 403 roles outside the caller's
 * sites (or admin_red from a site administrator); 409 e-mail taken;
 * 422 invalid fields or a weak password.
 */
void
api_usuario_crear(struct api_req *r)
{
	cJSON *errs = api_errors(r);
	struct api_args a;
	const char *email = NULL, *nombre = NULL, *roles, *hash;

	if (vr_json_str(r->json, "email", 1, 3, 254, &email, errs) > 0 &&
	    !vr_valid_email(email))
		vr_json_error(errs, "email", "no es un correo válido");
	vr_json_str(r->json, "nombre", 1, 1, 160, &nombre, errs);
	roles = roles_in(r, 1, errs);
	hash = password_in(r, email, errs);
	if (api_fields_or_422(r, errs) < 0)
		return;
	api_args_init(&a, STMT_USUARIO_CREAR);
	api_arg_text(&a, "email", email);
	api_arg_text(&a, "nombre", nombre);
	api_arg_text(&a, "hash", hash);
	api_arg_text(&a, "roles", roles);
	api_arg_text(&a, "sedes", api_sedes_permitidas(r));
	api_args_who(&a, r, 0);
	api_run_function(r, &a, 1, "/api/v1/usuarios/");
}

/*
 * PUT /api/v1/usuarios/{id} {nombre?, activo?, password?, roles?} -
 * permission usuarios.modificar.  roles replaces the grants within the
 * caller's scope; a change of roles cuts the user's current tokens.
 * 200 Usuario; 403 out of scope; 404; 422.
 */
void
api_usuario_put(struct api_req *r)
{
	cJSON *errs = api_errors(r);
	struct api_args a;
	const char *nombre = NULL, *hash, *roles;
	long long id;
	int activo, given = 0;

	if (api_id_or_400(r, 0, &id) < 0)
		return;
	api_args_init(&a, STMT_USUARIO_PUT);
	api_arg_int(&a, "id", id);
	if (vr_json_str(r->json, "nombre", 0, 1, 160, &nombre, errs) > 0)
		api_arg_text(&a, "nombre", nombre), given++;
	if (vr_json_bool(r->json, "activo", 0, &activo, errs) > 0)
		api_arg_bool(&a, "activo", activo), given++;
	if ((hash = password_in(r, NULL, errs)) != NULL)
		api_arg_text(&a, "hash", hash), given++;
	if ((roles = roles_in(r, 0, errs)) != NULL)
		api_arg_text(&a, "roles", roles), given++;
	if (given == 0 && cJSON_GetArraySize(errs) == 0)
		vr_json_error(errs, "cuerpo", "no indica ningún cambio");
	if (api_fields_or_422(r, errs) < 0)
		return;
	api_arg_text(&a, "sedes", api_sedes_permitidas(r));
	api_args_who(&a, r, 0);
	api_run_function(r, &a, 1, NULL);
}
