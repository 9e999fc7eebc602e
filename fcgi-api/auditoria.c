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

#define LIST_DEFAULT	"50"

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
	const char *p[9] = { NULL }, *cur[1] = { NULL }, *eid;

	api_qtime(r, "desde", &p[0], errs);
	api_qtime(r, "hasta", &p[1], errs);
	api_qid(r, "usuario_id", 0, &p[2], errs);
	word(r, "entidad", 63, &p[3], errs);
	if ((eid = api_query(r, "entidad_id")) != NULL) {
		if (*eid == '\0' || !vr_utf8_valid(eid, strlen(eid)) ||
		    vr_utf8_len(eid) > 200)
			vr_json_error(errs, "entidad_id", "de 1 a 200 caracteres");
		else
			p[4] = eid;
	}
	word(r, "accion", 40, &p[5], errs);
	api_qid(r, "sede_id", 0, &p[6], errs);
	if (api_qint(r, "limite", 1, 200, &p[7], errs) == 0)
		p[7] = LIST_DEFAULT;
	if (api_qcursor(r, 1, kinds, cur, errs) > 0)
		p[8] = cur[0];
	if (api_list_params_or_4xx(r, p[6], errs) < 0)
		return;
	api_run_json(r, STMT_AUDITORIA_LIST, 9, p, NULL);
}

/*
 * Seals walked per call at most: a call stays well inside the statement
 * timeout however long the trail grows (about 30 us a seal measured, so
 * a page of the maximum takes ~0.3 s).  vetred-admin verificar walks
 * everything.
 */
#define VERIFY_PAGE	"1000"
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
	const char *p[3] = { NULL, NULL, NULL };

	if (!api_allowed_everywhere(r)) {
		api_forbidden(r, "La cadena abarca toda la red: verificarla "
		    "requiere un rol de toda la red.");
		return;
	}
	api_qid(r, "desde", 0, &p[0], errs);
	api_qid(r, "hasta", 0, &p[1], errs);
	if (api_qint(r, "limite", 1, VERIFY_PAGE_MAX, &p[2], errs) == 0)
		p[2] = VERIFY_PAGE;
	if (api_params_or_400(r, errs) < 0)
		return;
	api_run_json(r, STMT_AUDITORIA_ESTADO, 3, p, NULL);
}
