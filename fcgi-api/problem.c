/*
 * problem.c - a failed database call as an HTTP answer: the error code
 * (lib/db.c maps the SQLSTATE) gives the status, and a refusal by a
 * constraint that names a field of the request says which field.  The
 * verdicts of the database functions are mapped in result.c.
 * Layer: problem.
 */
#include <string.h>

#include "metrics.h"
#include "problem.h"
#include "transport.h"

/*
 * Constraints whose refusal names a field of the request: the answer
 * then says which field and why, instead of a generic refusal.
 */
struct known_constraint {
	const char	*name;
	int		 status;
	const char	*field;
	const char	*msg;
};

static const struct known_constraint known[] = {
	{ "pacientes_microchip_unico", 409, "microchip",
	    "ya está registrado en otro paciente" },
	{ "pacientes_fecha_nacimiento_pasada", 422, "fecha_nacimiento",
	    "no puede estar en el futuro" },
	{ "pacientes_fecha_nacimiento_minima", 422, "fecha_nacimiento",
	    "no puede ser anterior a 1950" },
	{ "propietarios_email_formato", 422, "propietario.email",
	    "no es un correo válido" },
	{ "propietarios_telefono_formato", 422, "propietario.telefono",
	    "debe ser un celular: +51 y 9 dígitos" },
};

static int
known_problem(struct api_req *r, const char *constraint)
{
	cJSON *errs;
	size_t i;

	for (i = 0; constraint && i < sizeof(known) / sizeof(known[0]); i++) {
		if (strcmp(known[i].name, constraint) != 0)
			continue;
		errs = api_errors(r);
		vr_json_error(errs, known[i].field, known[i].msg);
		if (known[i].status == 409)
			api_problem(r, 409, "conflicto", "Conflicto",
			    "El registro choca con uno existente.", errs);
		else
			api_problem(r, 422, "validacion", "Datos inválidos",
			    "Corrija los campos indicados.", errs);
		return 1;
	}
	return 0;
}

/* Answer a failed database call with the status its error code means. */
void
api_db_problem(struct api_req *r, int err)
{
	const struct vr_db *db = &r->ctx->db;

	vr_log(VR_LOG_INFO, r->request_id, "database refused", "sqlstate",
	    db->sqlstate, "constraint", db->constraint ? db->constraint : "",
	    "error", vr_strerror(err), NULL);
	if ((err == VR_ECONFLICT || err == VR_ECHECK) &&
	    known_problem(r, db->constraint))
		return;
	switch (err) {
	case VR_ECONFLICT:
		api_problem(r, 409, "conflicto", "Conflicto",
		    "El registro choca con uno existente.", NULL);
		break;
	case VR_EREF:
		api_problem(r, 422, "referencia-invalida",
		    "Referencia inválida",
		    "Un identificador referido no existe.", NULL);
		break;
	case VR_ECHECK:
	case VR_EINVAL:
		api_problem(r, 422, "validacion", "Datos inválidos",
		    "La base de datos rechazó un valor.", NULL);
		break;
	case VR_EUNAVAIL:
	case VR_ETIMEOUT:
	case VR_ERETRY:
		api_metrics_db_error(r->ctx->shared->metrics);
		api_problem(r, 503, "no-disponible", "Servicio no disponible",
		    "La base de datos no responde; intente de nuevo.", NULL);
		break;
	default:
		api_metrics_db_error(r->ctx->shared->metrics);
		api_problem(r, 500, "error-interno", "Error interno",
		    "Ocurrió un error inesperado.", NULL);
	}
}
