/*
 * keyring.c - the one loader of a process's keys (vr.h, struct
 * vr_keyring): token signing keys, column keys and the search key, each
 * from its kid=path list of key files, each with its own refusals.  The
 * API loads all three; vetred-admin the two it re-seals with.
 */
#include <stdio.h>
#include <string.h>

#include "vr.h"

/* A role asked for with no key files named: which variable to set. */
static int
unset(const char *spec, char *err, size_t errlen, const char *msg)
{
	if (spec != NULL && *spec != '\0')
		return 0;
	snprintf(err, errlen, "%s", msg);
	return VR_ECONFIG;
}

int
vr_keyring_load(struct vr_keyring *kr, unsigned roles,
    const struct vr_config *cfg, char *err, size_t errlen)
{
	int rc;

	memset(kr, 0, sizeof(*kr));
	if ((roles & VR_KEYS_SIGN) && (rc = vr_jwt_keys_load(&kr->sign,
	    cfg->jwt_keys, err, errlen)) < 0)
		return rc;
	if (roles & VR_KEYS_SEAL) {
		if ((rc = unset(cfg->data_keys, err, errlen, "VETRED_DATA_KEYS "
		    "is not set: give kid=path of at least one 32-byte column "
		    "key file")) < 0 || (rc = vr_data_keys_load(&kr->seal,
		    cfg->data_keys, err, errlen)) < 0)
			return rc;
	}
	if (roles & VR_KEYS_SEARCH) {
		if ((rc = unset(cfg->search_key, err, errlen, "VETRED_SEARCH_KEY "
		    "is not set: give kid=path of the search key file")) < 0 ||
		    (rc = vr_jwt_keys_load(&kr->search, cfg->search_key, err,
		    errlen)) < 0)
			return rc;
	}
	return VR_OK;
}
