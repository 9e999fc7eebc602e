/*
 * eventos.c - the operator's view of the dead letters (eventos_muertos,
 * kept by vetred-worker from the broker's vetred.muertos): list them,
 * replay one into the outbox.  admin_red only.  Layer: resources.
 */
#include <string.h>

#include "authz.h"
#include "params.h"
#include "problem.h"
#include "resources.h"
#include "sql.h"
#include "transport.h"

#define LIST_DEFAULT	50

/* A query parameter of 1..max characters of the set allowed. */
static int
qword(struct api_req *r, const char *name, size_t max, const char *allowed,
    const char **out, cJSON *errs)
{
	const char *v = api_query(r, name);
	size_t n;

	if (v == NULL)
		return 0;
	n = strlen(v);
	if (n == 0 || n > max || v[0] < 'a' || v[0] > 'z' ||
	    strspn(v, allowed) != n) {
		vr_json_error(errs, name, "letras minúsculas, dígitos, _ y .");
		return VR_EINVAL;
	}
	*out = v;
	return 1;
}

/*
 * GET /api/v1/eventos/muertos?consumidor&tipo&limite&cursor - permission
 * eventos.leer.  200 {elementos: [MensajeMuerto], siguiente_cursor},
 * newest first; 400 bad parameters.
 */
void
api_muertos_list(struct api_req *r)
{
	static const char *const kinds[1] = { NULL };
	static const char set[] = "abcdefghijklmnopqrstuvwxyz0123456789_.";
	cJSON *errs = api_errors(r);
	struct api_args a;
	const char *s, *cur[1] = { NULL };
	long limite = LIST_DEFAULT;

	api_args_init(&a, STMT_MUERTOS_LIST);
	if (qword(r, "consumidor", 100, set, &s, errs) > 0)
		api_arg_text(&a, "consumidor", s);
	if (qword(r, "tipo", 100, set, &s, errs) > 0)
		api_arg_text(&a, "tipo", s);
	api_qint(r, "limite", 1, 200, &limite, errs);
	api_arg_int(&a, "limite", limite);
	if (api_qcursor(r, 1, kinds, cur, errs) > 0)
		api_arg_text(&a, "cursor_id", cur[0]);
	if (api_params_or_400(r, errs) < 0)
		return;
	api_run_json(r, &a, NULL);
}

/*
 * POST /api/v1/eventos/muertos/{id}/reenviar - permission
 * eventos.reenviar.  The event goes back into the outbox with its own
 * id, to the queue that gave up on it alone.  Audited.
 * 202 MensajeMuerto; 400 bad id; 404 no such dead letter; 409 not an
 * event that can be replayed.
 */
void
api_muerto_reenviar(struct api_req *r)
{
	struct api_args a;
	long long id;

	if (api_id_or_400(r, 0, &id) < 0)
		return;
	api_args_init(&a, STMT_MUERTO_REENVIAR);
	api_arg_int(&a, "id", id);
	api_args_who(&a, r, 0);
	api_run_function(r, &a, 1, NULL);
}
