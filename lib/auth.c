/*
 * auth.c - an access token to the caller it names (vr.h, struct
 * vr_auth): the signature, issuer, audience and dates checked by
 * vr_jwt_verify(), then the claims every service relies on read into
 * typed fields, so any process holding the signing keys verifies a token
 * with this library alone.  What a service then does with the caller
 * (revocation lists, permissions per route) is the service's.
 *
 * Claims: "sub" the user id, "exp", "roles" [{"rol": name, "sede": id or
 * null}, ...] (required); "gen" the token generation (absent in tokens
 * older than it: 0) and "sid" the session (may be absent).  A present but
 * malformed one refuses the token (VR_JWT_CLAIMS).
 */
#include <string.h>

#include "vr.h"

#define MAX_SAFE	9007199254740992.0	/* 2^53: exact in a double */

static int
rol_index(const char *const *roles, int nroles, const char *name)
{
	int i;

	for (i = 0; i < nroles; i++)
		if (strcmp(roles[i], name) == 0)
			return i;
	return -1;
}

/* The grants of the "roles" claim; -1 when it is not an array. */
static int
grants(struct vr_auth *a, const cJSON *list, const char *const *roles,
    int nroles)
{
	const cJSON *g, *rol, *sede;
	int k;

	if (!cJSON_IsArray(list))
		return -1;
	cJSON_ArrayForEach(g, list) {
		rol = cJSON_GetObjectItemCaseSensitive(g, "rol");
		sede = cJSON_GetObjectItemCaseSensitive(g, "sede");
		if (!cJSON_IsString(rol) || (k = rol_index(roles, nroles,
		    rol->valuestring)) < 0 || a->n == VR_AUTH_MAX_GRANTS)
			continue;
		if (cJSON_IsNumber(sede) && sede->valuedouble >= 1 &&
		    sede->valuedouble < MAX_SAFE)
			a->g[a->n].sede = (long long)sede->valuedouble;
		else if (cJSON_IsNull(sede))
			a->g[a->n].sede = 0;
		else
			continue;
		a->g[a->n++].rol = k;
	}
	return 0;
}

/* "gen" and "sid"; -1 when present but malformed. */
static int
session(struct vr_auth *a, const cJSON *claims)
{
	const cJSON *gen = cJSON_GetObjectItemCaseSensitive(claims, "gen");
	const cJSON *sid = cJSON_GetObjectItemCaseSensitive(claims, "sid");

	if (gen != NULL) {
		if (!cJSON_IsNumber(gen) || gen->valuedouble < 0 ||
		    gen->valuedouble >= MAX_SAFE)
			return -1;
		a->gen = (long long)gen->valuedouble;
	}
	if (sid != NULL) {
		if (!cJSON_IsString(sid) || strlen(sid->valuestring) !=
		    VR_SID_LEN)
			return -1;
		memcpy(a->sid, sid->valuestring, VR_SID_LEN + 1);
	}
	return 0;
}

/*
 * VR_JWT_OK with *out filled, or the verdict refusing the token (*out
 * zeroed).  vr_jwt_verify() already checked that sub is an id and exp a
 * number.
 */
int
vr_auth_verify(const struct vr_keyring *kr, const char *iss, const char *aud,
    const char *const *roles, int nroles, const char *token, long long now,
    struct vr_auth *out)
{
	cJSON *claims = NULL;
	int v;

	memset(out, 0, sizeof(*out));
	v = vr_jwt_verify(&kr->sign, token, iss, aud, now, &claims);
	if (v == VR_JWT_OK) {
		vr_parse_id(cJSON_GetObjectItemCaseSensitive(claims,
		    "sub")->valuestring, &out->uid);
		out->exp = (long long)cJSON_GetObjectItemCaseSensitive(claims,
		    "exp")->valuedouble;
		if (grants(out, cJSON_GetObjectItemCaseSensitive(claims,
		    "roles"), roles, nroles) < 0 || session(out, claims) < 0)
			v = VR_JWT_CLAIMS;
	}
	cJSON_Delete(claims);
	if (v != VR_JWT_OK)
		memset(out, 0, sizeof(*out));
	return v;
}
