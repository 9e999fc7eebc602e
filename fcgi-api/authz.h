/*
 * authz.h - who is asking and what they may do: the bearer token and its
 * revocation, roles and permissions per site (access.c), and the
 * per-user request budget (limite.c).  Layer: authz, above input.
 */
#ifndef API_AUTHZ_H
#define API_AUTHZ_H

#include "req.h"

/* Roles, as usuario_roles.rol and the tokens name them. */
enum api_rol {
	ROL_ADMIN_RED, ROL_ADMIN_SEDE, ROL_VETERINARIO, ROL_RECEPCION,
	ROL_FARMACIA, ROL_AUDITOR, ROL__N
};
extern const char *const api_rol_names[ROL__N];

/* access.c */
unsigned	 api_perm_roles(const char *perm);
int		 api_rol_parse(const char *name);
int		 api_authenticate(struct api_req *r);
void		 api_auth_forget(struct api_ctx *ctx);
int		 api_revocations_load(struct api_shared *sh, struct vr_db *db);
int		 api_allowed(const struct api_req *r, long long sede);
int		 api_allowed_perm(const struct api_req *r, const char *perm,
		    long long sede);
int		 api_allowed_everywhere(const struct api_req *r);
const char	*api_acting_role(const struct api_req *r, long long sede);
void		 api_args_who(struct api_args *a, struct api_req *r,
		    long long sede);
void		 api_forbidden(struct api_req *r, const char *detail);
int		 api_sede_or_403(struct api_req *r, long long sede);
const char	*api_sedes_permitidas(struct api_req *r);
int		 api_list_params_or_4xx(struct api_req *r, long long sede,
		    cJSON *errs);

/* limite.c */
struct api_rate	*api_rate_new(char *err, size_t errlen);
void		 api_rate_free(struct api_rate *rl);
int		 api_rate_load(struct api_rate *rl, struct vr_db *db);
int		 api_rate_or_429(struct api_req *r);

#endif /* API_AUTHZ_H */
