/*
 * cifra.c - column encryption: AES-256-GCM with a per-value nonce and the
 * key id, and keyed hashes for searching encrypted values.
 *
 * A sealed value is text, so it fits the columns it replaces:
 *
 *     v2:<kid>:<nonce, 12 bytes, base64url>:<ciphertext and tag, base64url>
 *
 * The additional data is the column's identity, "table.column" (the
 * table vr_sealed_cols): a value copied into another column, of its
 * table or of another, does not open.  Values of the first format, "v1:",
 * bound only the column's name (the same column name in another table
 * opened them); they still open, and vetred-admin cifrar re-seals them
 * as v2.  Data keys come from files like the token keys
 * (VETRED_DATA_KEYS = "kid=path,..."; exactly 32 bytes each): the first
 * seals, all open, so a key is rotated by putting the new one first and
 * re-sealing the rows (vetred-admin cifrar).  The search key
 * (VETRED_SEARCH_KEY) never rotates with them: the HMAC of a document
 * number is how an owner is found and kept unique.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "vr.h"

#define NONCE_LEN	12
#define TAG_LEN		16

int
vr_data_keys_load(struct vr_jwt_keys *ks, const char *spec, char *err,
    size_t errlen)
{
	int i, rc;

	if ((rc = vr_jwt_keys_load(ks, spec, err, errlen)) < 0)
		return rc;
	for (i = 0; i < ks->n; i++)
		if (ks->k[i].len != 32) {
			snprintf(err, errlen, "data key %s must be exactly 32 "
			    "bytes (openssl rand -base64 32)", ks->k[i].kid);
			return VR_ECONFIG;
		}
	return VR_OK;
}

/*
 * The sealed columns.  Column names are unique across tables (the unit
 * suite cifra checks it), so a response member names its column
 * (vr_sealed_named()); a second column of a name already here needs its
 * responses to say which table each member came from.
 */
const struct vr_sealed_col vr_sealed_cols[] = {
	{ "propietarios", "numero_documento", "documento_hmac" },
	{ "propietarios", "telefono", "telefono_hmac" },
	{ "propietarios", "email", NULL },
	{ "propietarios", "direccion", NULL },
	{ "historia_entradas", "anamnesis", NULL },
	{ "historia_entradas", "examen", NULL },
	{ "historia_entradas", "diagnostico", NULL },
	{ "historia_entradas", "plan", NULL },
	{ "historia_entradas", "texto", NULL },
	{ "tratamientos", "descripcion", NULL },
	{ "pacientes", "alergias", NULL },
	{ "pacientes", "causa_fallecimiento", NULL },
};

const size_t vr_sealed_ncols = sizeof(vr_sealed_cols) /
    sizeof(vr_sealed_cols[0]);

const struct vr_sealed_col *
vr_sealed_col(const char *table, const char *column)
{
	size_t i;

	for (i = 0; i < vr_sealed_ncols; i++)
		if (strcmp(vr_sealed_cols[i].table, table) == 0 &&
		    strcmp(vr_sealed_cols[i].column, column) == 0)
			return &vr_sealed_cols[i];
	return NULL;
}

/* The sealed column of that name, in whichever table; NULL if none. */
const struct vr_sealed_col *
vr_sealed_named(const char *column)
{
	size_t i;

	for (i = 0; i < vr_sealed_ncols; i++)
		if (strcmp(vr_sealed_cols[i].column, column) == 0)
			return &vr_sealed_cols[i];
	return NULL;
}

/* 2 or 1 for a value sealed in that format, 0 for anything else. */
int
vr_seal_version(const char *s)
{
	if (s == NULL)
		return 0;
	if (strncmp(s, "v2:", 3) == 0)
		return 2;
	return strncmp(s, "v1:", 3) == 0;
}

int
vr_is_sealed(const char *s)
{
	return vr_seal_version(s) != 0;
}

/* *out: plain sealed as prefix:kid:..., aad bound in.  VR_OK or VR_EIO. */
static int
seal_as(const char *prefix, const struct vr_jwt_key *k, const char *aad,
    const char *plain, char **out)
{
	unsigned char nonce[NONCE_LEN], *ct;
	size_t n = strlen(plain), o;
	EVP_CIPHER_CTX *c;
	int len, ok;

	if (RAND_bytes(nonce, sizeof(nonce)) != 1)
		return VR_EIO;
	ct = vr_xmalloc(n + TAG_LEN);
	c = EVP_CIPHER_CTX_new();
	ok = c != NULL &&
	    EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, k->key, nonce) == 1 &&
	    EVP_EncryptUpdate(c, NULL, &len, (const unsigned char *)aad,
	    (int)strlen(aad)) == 1 &&
	    EVP_EncryptUpdate(c, ct, &len, (const unsigned char *)plain,
	    (int)n) == 1 &&
	    EVP_EncryptFinal_ex(c, ct + len, &len) == 1 &&
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, TAG_LEN, ct + n) == 1;
	EVP_CIPHER_CTX_free(c);
	if (!ok) {
		free(ct);
		return VR_EIO;
	}
	*out = vr_xmalloc(4 + strlen(k->kid) + VR_B64URL_LEN(NONCE_LEN) +
	    VR_B64URL_LEN(n + TAG_LEN) + 2);
	o = (size_t)sprintf(*out, "%s:%s:", prefix, k->kid);
	o += vr_b64url_encode(nonce, sizeof(nonce), *out + o);
	(*out)[o++] = ':';
	vr_b64url_encode(ct, n + TAG_LEN, *out + o);
	free(ct);
	return VR_OK;
}

/* *out: the sealed text (malloc'd), v1 with aad.  VR_OK or VR_EIO. */
int
vr_seal(const struct vr_jwt_key *k, const char *aad, const char *plain,
    char **out)
{
	return seal_as("v1", k, aad, plain, out);
}

/* *out: plain sealed for column c (v2).  VR_OK or VR_EIO. */
int
vr_seal_col(const struct vr_jwt_key *k, const struct vr_sealed_col *c,
    const char *plain, char **out)
{
	char aad[128];

	snprintf(aad, sizeof(aad), "%s.%s", c->table, c->column);
	return seal_as("v2", k, aad, plain, out);
}

/*
 * *out: the plain text of a value of column c: v2 sealed for c, or v1
 * sealed for a column of c's name.  Errors as vr_unseal().
 */
int
vr_unseal_col(const struct vr_jwt_keys *ks, const struct vr_sealed_col *c,
    const char *sealed, char **out)
{
	char aad[128];

	if (vr_seal_version(sealed) == 1)
		return vr_unseal(ks, c->column, sealed, out);
	snprintf(aad, sizeof(aad), "%s.%s", c->table, c->column);
	return vr_unseal(ks, aad, sealed, out);
}

/*
 * *out: the plain text (malloc'd).  VR_EINVAL not a sealed value,
 * VR_ENOTFOUND unknown key id, VR_EAUTH altered (or another column's).
 */
int
vr_unseal(const struct vr_jwt_keys *ks, const char *aad, const char *sealed,
    char **out)
{
	const char *kid, *p1, *p2;
	const struct vr_jwt_key *k = NULL;
	unsigned char nonce[NONCE_LEN + 3], *ct;
	size_t nlen, clen;
	EVP_CIPHER_CTX *c;
	int i, len, ok;

	if (!vr_is_sealed(sealed) || (p1 = strchr(sealed + 3, ':')) == NULL ||
	    (p2 = strchr(p1 + 1, ':')) == NULL || strchr(p2 + 1, ':') != NULL)
		return VR_EINVAL;
	kid = sealed + 3;
	for (i = 0; i < ks->n && k == NULL; i++)
		if (strlen(ks->k[i].kid) == (size_t)(p1 - kid) &&
		    memcmp(ks->k[i].kid, kid, (size_t)(p1 - kid)) == 0)
			k = &ks->k[i];
	if (k == NULL)
		return VR_ENOTFOUND;
	if ((size_t)(p2 - p1 - 1) != VR_B64URL_LEN(NONCE_LEN) - 1 ||
	    vr_b64url_decode(p1 + 1, (size_t)(p2 - p1 - 1), nonce, &nlen) < 0 ||
	    nlen != NONCE_LEN)
		return VR_EINVAL;
	ct = vr_xmalloc(VR_B64_DECODED_MAX(strlen(p2 + 1)) + 1);
	if (vr_b64url_decode(p2 + 1, strlen(p2 + 1), ct, &clen) < 0 ||
	    clen < TAG_LEN) {
		free(ct);
		return VR_EINVAL;
	}
	*out = vr_xmalloc(clen - TAG_LEN + 1);
	c = EVP_CIPHER_CTX_new();
	ok = c != NULL &&
	    EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, k->key, nonce) == 1 &&
	    EVP_DecryptUpdate(c, NULL, &len, (const unsigned char *)aad,
	    (int)strlen(aad)) == 1 &&
	    EVP_DecryptUpdate(c, (unsigned char *)*out, &len, ct,
	    (int)(clen - TAG_LEN)) == 1 &&
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, TAG_LEN,
	    ct + clen - TAG_LEN) == 1 &&
	    EVP_DecryptFinal_ex(c, (unsigned char *)*out + len, &len) == 1;
	EVP_CIPHER_CTX_free(c);
	free(ct);
	if (!ok) {
		free(*out);
		*out = NULL;
		return VR_EAUTH;
	}
	(*out)[clen - TAG_LEN] = '\0';
	return VR_OK;
}

/* HMAC-SHA256 of text under the search key, as 64 hex digits. */
void
vr_search_hash(const struct vr_jwt_key *k, const char *text, char hex[65])
{
	static const char digits[] = "0123456789abcdef";
	unsigned char mac[32];
	unsigned int len = 32;
	int i;

	HMAC(EVP_sha256(), k->key, (int)k->len, (const unsigned char *)text,
	    strlen(text), mac, &len);
	for (i = 0; i < 32; i++) {
		hex[2 * i] = digits[mac[i] >> 4];
		hex[2 * i + 1] = digits[mac[i] & 0xf];
	}
	hex[64] = '\0';
}
