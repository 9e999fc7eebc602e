/*
 * auditoria.c - reading the audit trail and checking its hash chain.
 *
 * Auditors and network administrators read it; an auditor bound to a
 * site reads that site's rows (sede_id is then required).  The chain is
 * one for the whole network: only a network-wide grant may check it.
 * Layer: resources.
 */
#include <string.h>

#include "authz.h"
#include "params.h"
#include "problem.h"
#include "resources.h"
#include "sql.h"
#include "transport.h"

#define LIST_DEFAULT	50

/* entidad and accion as the table stores them: lower-case snake_case. */
static int
word(struct api_req *r, const char *name, size_t max, const char **out,
    cJSON *errs)
{
	const char *v = api_query(r, name);
	size_t n;

	if (v == NULL)
		return 0;
	n = strlen(v);
	if (n == 0 || n > max || v[0] < 'a' || v[0] > 'z' ||
	    strspn(v, "abcdefghijklmnopqrstuvwxyz_") != n) {
		vr_json_error(errs, name, "letras minúsculas y _");
		return VR_EINVAL;
	}
	*out = v;
	return 1;
}

/*
 * GET /api/v1/auditoria?desde&hasta&usuario_id&entidad&entidad_id&accion
 *   &sede_id&limite&cursor - permission auditoria.leer.
 * 200 {elementos: [RegistroAuditoria], siguiente_cursor}, newest first;
 * 400 bad parameters (or no sede_id from a site-bound auditor); 403.
 */
void
api_auditoria_list(struct api_req *r)
{
	static const char *const kinds[1] = { NULL };
	cJSON *errs = api_errors(r);
	struct api_args a;
	const char *s, *cur[1] = { NULL };
	long long id, sede = 0;
	long limite = LIST_DEFAULT;

	api_args_init(&a, STMT_AUDITORIA_LIST);
	if (api_qtime(r, "desde", &s, errs) > 0)
		api_arg_text(&a, "desde", s);
	if (api_qtime(r, "hasta", &s, errs) > 0)
		api_arg_text(&a, "hasta", s);
	if (api_qid(r, "usuario_id", 0, &id, errs) > 0)
		api_arg_int(&a, "autor", id);
	if (word(r, "entidad", 63, &s, errs) > 0)
		api_arg_text(&a, "entidad", s);
	if ((s = api_query(r, "entidad_id")) != NULL) {
		if (*s == '\0' || !vr_utf8_valid(s, strlen(s)) ||
		    vr_utf8_len(s) > 200)
			vr_json_error(errs, "entidad_id", "de 1 a 200 caracteres");
		else
			api_arg_text(&a, "entidad_id", s);
	}
	if (word(r, "accion", 40, &s, errs) > 0)
		api_arg_text(&a, "accion", s);
	if (api_qid(r, "sede_id", 0, &sede, errs) > 0)
		api_arg_int(&a, "sede", sede);
	api_qint(r, "limite", 1, 200, &limite, errs);
	api_arg_int(&a, "limite", limite);
	if (api_qcursor(r, 1, kinds, cur, errs) > 0)
		api_arg_text(&a, "cursor_id", cur[0]);
	if (api_list_params_or_4xx(r, sede, errs) < 0)
		return;
	api_run_json(r, &a, NULL);
}

/*
 * Seals walked per call at most: a call stays well inside the statement
 * timeout however long the trail grows (about 30 us a seal measured, so
 * a page of the maximum takes ~0.3 s).  vetred-admin verificar walks
 * everything.
 */
#define VERIFY_PAGE	1000
#define VERIFY_PAGE_MAX	10000

/*
 * GET /api/v1/auditoria/verificacion?desde&hasta&limite - permission
 * auditoria.leer, held network-wide.  200 {integra, primer_sello_roto,
 * desde, hasta, siguiente, limite, sellados, ultimo_sello, sin_sellar,
 * ...}: the links of seals desde..hasta (default: from 1 to the end)
 * walked, the link into desde included, at most `limite` of them (default
 * 1000, at most 10000); siguiente is the first seal left out (null when
 * the range was walked to its end), the desde of the next call.
 * hasta before desde is an empty range, like any list's.  400 bad
 * range; 403.
 */
void
api_auditoria_verificacion(struct api_req *r)
{
	cJSON *errs = api_errors(r);
	struct api_args a;
	long long id;
	long limite = VERIFY_PAGE;

	if (!api_allowed_everywhere(r)) {
		api_forbidden(r, "La cadena abarca toda la red: verificarla "
		    "requiere un rol de toda la red.");
		return;
	}
	api_args_init(&a, STMT_AUDITORIA_ESTADO);
	if (api_qid(r, "desde", 0, &id, errs) > 0)
		api_arg_int(&a, "desde", id);
	if (api_qid(r, "hasta", 0, &id, errs) > 0)
		api_arg_int(&a, "hasta", id);
	api_qint(r, "limite", 1, VERIFY_PAGE_MAX, &limite, errs);
	api_arg_int(&a, "limite", limite);
	if (api_params_or_400(r, errs) < 0)
		return;
	api_run_json(r, &a, NULL);
}
