/*
 * password.c - password hashing (Argon2id, libargon2) and policy.
 *
 * Hashes are the self-describing PHC strings of libargon2
 * ("$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>"): the parameters travel
 * with each hash, so they can be raised later; vr_password_needs_rehash()
 * tells the login to re-hash with the current ones.  The defaults are the
 * OWASP minimum for Argon2id: 19 MiB, 2 passes, 1 lane.
 *
 * Policy: 10 to 256 characters, not in the list of common passwords
 * (one per line, compared without case), not the e-mail's local part.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <argon2.h>
#include <openssl/rand.h>

#include "vr.h"

#define SALT_LEN	16
#define HASH_LEN	32

const struct vr_kdf_params vr_kdf_default = { 19456, 2, 1 };

/* Floors are the OWASP minimum for Argon2id; defaults vr_kdf_default. */
const struct vr_cfg_var vr_password_vars[] = {
	{ "VETRED_ARGON2_MEMORY_KIB", VR_CFG_U32, NULL, 19456, 19456, 1048576,
	    offsetof(struct vr_password_cfg, kdf.m_kib), "Argon2id memory" },
	{ "VETRED_ARGON2_PASSES", VR_CFG_U32, NULL, 2, 2, 16,
	    offsetof(struct vr_password_cfg, kdf.t_cost), "Argon2id passes" },
	{ "VETRED_ARGON2_LANES", VR_CFG_U32, NULL, 1, 1, 8,
	    offsetof(struct vr_password_cfg, kdf.lanes), "Argon2id lanes" },
	VR_CFG_S("VETRED_COMMON_PASSWORDS_FILE", "data/contrasenas-comunes.txt",
	    struct vr_password_cfg, common_passwords,
	    "passwords refused at sign-up, one a line"),
};

const size_t vr_password_nvars =
    sizeof(vr_password_vars) / sizeof(vr_password_vars[0]);

int
vr_password_hash(const char *pw, const struct vr_kdf_params *prm, char *out,
    size_t outlen)
{
	unsigned char salt[SALT_LEN];

	if (RAND_bytes(salt, sizeof(salt)) != 1)
		return VR_EIO;
	if (argon2id_hash_encoded(prm->t_cost, prm->m_kib, prm->lanes, pw,
	    strlen(pw), salt, sizeof(salt), HASH_LEN, out, outlen) != ARGON2_OK)
		return VR_EINVAL;
	return VR_OK;
}

/*
 * VR_OK when pw matches; VR_EAUTH when it does not; VR_EINVAL when the
 * stored string is not an Argon2id hash (the caller treats it as a
 * mismatch too, but may log it).
 */
int
vr_password_verify(const char *pw, const char *encoded)
{
	int rc;

	if (strncmp(encoded, "$argon2id$", 10) != 0)
		return VR_EINVAL;
	rc = argon2id_verify(encoded, pw, strlen(pw));
	if (rc == ARGON2_OK)
		return VR_OK;
	if (rc == ARGON2_VERIFY_MISMATCH)
		return VR_EAUTH;
	return VR_EINVAL;
}

int
vr_password_params(const char *encoded, struct vr_kdf_params *out)
{
	unsigned v, m, t, p;
	char tail;

	if (sscanf(encoded, "$argon2id$v=%u$m=%u,t=%u,p=%u%c", &v, &m, &t, &p,
	    &tail) != 5 || tail != '$')
		return VR_EINVAL;
	out->m_kib = m;
	out->t_cost = t;
	out->lanes = p;
	return VR_OK;
}

/* 1 when encoded is weaker than (or not) what prm asks for. */
int
vr_password_needs_rehash(const char *encoded, const struct vr_kdf_params *prm)
{
	struct vr_kdf_params cur;

	if (vr_password_params(encoded, &cur) < 0)
		return 1;
	return cur.m_kib < prm->m_kib || cur.t_cost < prm->t_cost ||
	    cur.lanes < prm->lanes;
}

/* ---- common passwords ------------------------------------------------- */

static char	**common;
static size_t	  ncommon;

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
lower_ascii(char *s)
{
	for (; *s != '\0'; s++)
		*s = (char)tolower((unsigned char)*s);
}

/*
 * Load the list (one password per line; '#' starts a comment line).
 * Replaces a list loaded before.  Not thread-safe: call once at start.
 */
int
vr_common_passwords_load(const char *path)
{
	FILE *f;
	char line[512];
	size_t n, cap = 0, i;
	char **list = NULL;

	if ((f = fopen(path, "r")) == NULL)
		return VR_EIO;
	n = 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '\0' || line[0] == '#')
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 1024;
			list = vr_xrealloc(list, cap * sizeof(*list));
		}
		lower_ascii(line);
		list[n++] = vr_xstrdup(line);
	}
	fclose(f);
	if (n > 0)	/* list is NULL then: qsort(NULL, 0, ...) is undefined */
		qsort(list, n, sizeof(*list), cmp_str);
	for (i = 0; i < ncommon; i++)
		free(common[i]);
	free(common);
	common = list;
	ncommon = n;
	return VR_OK;
}

size_t
vr_common_passwords_count(void)
{
	return ncommon;
}

/* Characters (UTF-8 code points) of a valid UTF-8 string. */
static size_t
chars(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

/*
 * NULL when pw is acceptable for the account with that e-mail (may be
 * NULL), else the reason, in Spanish, for the API's field error.
 */
const char *
vr_password_weak(const char *pw, const char *email)
{
	char *low, *key;
	const char *at;
	size_t n = chars(pw), local;
	int found;

	if (!vr_utf8_valid(pw, strlen(pw)))
		return "debe ser texto UTF-8 válido";
	if (n < VR_PASSWORD_MIN)
		return "debe tener al menos 10 caracteres";
	if (n > VR_PASSWORD_MAX)
		return "debe tener como máximo 256 caracteres";
	low = vr_xstrdup(pw);
	lower_ascii(low);
	key = low;
	found = ncommon > 0 && bsearch(&key, common, ncommon, sizeof(*common),
	    cmp_str) != NULL;
	if (!found && email != NULL && (at = strchr(email, '@')) != NULL) {
		local = (size_t)(at - email);
		found = local >= 4 && strlen(low) == local &&
		    strncasecmp(low, email, local) == 0;
	}
	free(low);
	return found ? "es demasiado común o fácil de adivinar" : NULL;
}
