/*
 * jwt.c - access tokens: compact JWS with HS256 only (RFC 7519, 7515).
 *
 * One algorithm on purpose.  The API both issues and verifies its tokens,
 * so a shared secret is enough, and an HMAC check costs about a
 * microsecond on every request where an Ed25519 verification costs tens.
 * The header must say "alg":"HS256" and name a configured key by "kid";
 * "none", any other algorithm (the algorithm-confusion trap of libraries
 * that let the token choose), "crit" and unknown kids are refused before
 * any signature is computed.
 *
 * Keys come from files (VETRED_JWT_KEYS = "kid=path,kid=path"), each the
 * base64 of at least 32 random bytes, readable by the owner only.  The
 * first key signs; the others still verify, so a new key can be put first
 * while tokens signed with the previous one run out (rotation without
 * logging anyone out).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "vr.h"

#define MAX_TOKEN	8192
#define CLOCK_SKEW	60	/* seconds tolerated on iat/nbf */

static const char *const reasons[] = {
	[VR_JWT_OK] = "valid",
	[VR_JWT_MALFORMED] = "malformed token",
	[VR_JWT_ALG] = "algorithm not allowed",
	[VR_JWT_KID] = "unknown key id",
	[VR_JWT_SIGNATURE] = "bad signature",
	[VR_JWT_EXPIRED] = "expired",
	[VR_JWT_NOT_YET] = "not valid yet",
	[VR_JWT_ISSUER] = "wrong issuer",
	[VR_JWT_AUDIENCE] = "wrong audience",
	[VR_JWT_CLAIMS] = "missing or invalid claims",
};

const char *
vr_jwt_reason(int verdict)
{
	if (verdict < 0 || verdict >= (int)(sizeof(reasons) / sizeof(reasons[0])))
		return "unknown";
	return reasons[verdict];
}

static int
kid_valid(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > VR_JWT_KID_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_' &&
		    s[i] != '.')
			return 0;
	return 1;
}

/* Read a key file: base64 text, at least 32 bytes once decoded. */
static int
load_key(struct vr_jwt_key *k, const char *path, char *err, size_t errlen)
{
	char text[512];
	size_t n, len, i, j;
	struct stat st;
	FILE *f;
	int full;

	if ((f = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "cannot open key file %s: %s", path,
		    strerror(errno));
		return VR_ECONFIG;
	}
	if (fstat(fileno(f), &st) == 0 && (st.st_mode & 077) != 0) {
		fclose(f);
		snprintf(err, errlen, "key file %s is readable by group or "
		    "others (chmod 600)", path);
		return VR_ECONFIG;
	}
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	/* before trimming: a file cut in its whitespace is still too long */
	full = n == sizeof(text) - 1;
	/* openssl rand -base64 wraps lines at 64 characters: drop all
	 * whitespace, not only the final newline. */
	for (i = j = 0; i < n; i++)
		if (!isspace((unsigned char)text[i]))
			text[j++] = text[i];
	text[n = j] = '\0';
	if (full || vr_b64_decode(text, n, k->key, &len) < 0 ||
	    len < VR_JWT_KEY_MIN || len > VR_JWT_KEY_MAX) {
		snprintf(err, errlen, "key file %s must hold the base64 of %d "
		    "to %d random bytes (e.g. openssl rand -base64 48)", path,
		    VR_JWT_KEY_MIN, VR_JWT_KEY_MAX);
		return VR_ECONFIG;
	}
	k->len = len;
	return VR_OK;
}

int
vr_jwt_keys_load(struct vr_jwt_keys *ks, const char *spec, char *err,
    size_t errlen)
{
	const char *p = spec, *eq, *end;
	char path[1024];
	int i, rc;

	memset(ks, 0, sizeof(*ks));
	if (spec == NULL || *spec == '\0') {
		snprintf(err, errlen, "VETRED_JWT_KEYS is not set: give "
		    "kid=path of at least one signing key file");
		return VR_ECONFIG;
	}
	while (*p != '\0') {
		end = p + strcspn(p, ",");
		eq = memchr(p, '=', (size_t)(end - p));
		if (eq == NULL || !kid_valid(p, (size_t)(eq - p)) ||
		    end - eq - 1 <= 0 || (size_t)(end - eq) > sizeof(path)) {
			snprintf(err, errlen, "VETRED_JWT_KEYS: expected "
			    "kid=path[,kid=path...] with kid of letters, digits, "
			    "'-', '_' or '.' (at most %d)", VR_JWT_KID_MAX);
			return VR_ECONFIG;
		}
		if (ks->n == VR_JWT_MAX_KEYS) {
			snprintf(err, errlen, "VETRED_JWT_KEYS: at most %d keys",
			    VR_JWT_MAX_KEYS);
			return VR_ECONFIG;
		}
		memcpy(ks->k[ks->n].kid, p, (size_t)(eq - p));
		ks->k[ks->n].kid[eq - p] = '\0';
		for (i = 0; i < ks->n; i++)
			if (strcmp(ks->k[i].kid, ks->k[ks->n].kid) == 0) {
				snprintf(err, errlen, "VETRED_JWT_KEYS: kid %s "
				    "given twice", ks->k[i].kid);
				return VR_ECONFIG;
			}
		memcpy(path, eq + 1, (size_t)(end - eq - 1));
		path[end - eq - 1] = '\0';
		if ((rc = load_key(&ks->k[ks->n], path, err, errlen)) < 0)
			return rc;
		ks->n++;
		p = *end == ',' ? end + 1 : end;
	}
	return VR_OK;
}

static void
hmac(const struct vr_jwt_key *k, const char *data, size_t n,
    unsigned char mac[32])
{
	unsigned int len = 32;

	HMAC(EVP_sha256(), k->key, (int)k->len, (const unsigned char *)data, n,
	    mac, &len);
}

char *
vr_jwt_sign(const struct vr_jwt_keys *ks, const cJSON *claims)
{
	const struct vr_jwt_key *k = &ks->k[0];
	char *hdr, *body, *tok;
	size_t hn, bn, n;
	unsigned char mac[32];

	hdr = vr_xmalloc(strlen(k->kid) + 64);
	snprintf(hdr, strlen(k->kid) + 64,
	    "{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"%s\"}", k->kid);
	if ((body = cJSON_PrintUnformatted(claims)) == NULL) {
		free(hdr);
		return NULL;
	}
	hn = strlen(hdr);
	bn = strlen(body);
	tok = vr_xmalloc(VR_B64URL_LEN(hn) + VR_B64URL_LEN(bn) +
	    VR_B64URL_LEN(32) + 2);
	n = vr_b64url_encode(hdr, hn, tok);
	tok[n++] = '.';
	n += vr_b64url_encode(body, bn, tok + n);
	hmac(k, tok, n, mac);
	tok[n++] = '.';
	vr_b64url_encode(mac, sizeof(mac), tok + n);
	free(hdr);
	cJSON_free(body);
	return tok;
}

/* Decode one base64url part into a NUL-terminated JSON object. */
static cJSON *
part_json(const char *s, size_t n)
{
	unsigned char *buf;
	size_t len;
	cJSON *o = NULL;

	buf = vr_xmalloc(VR_B64_DECODED_MAX(n) + 1);
	if (vr_b64url_decode(s, n, buf, &len) == VR_OK) {
		buf[len] = '\0';
		/* len + 1 with the NUL: nothing may follow the object */
		if (vr_utf8_valid((char *)buf, len) && strlen((char *)buf) == len)
			o = cJSON_ParseWithLengthOpts((char *)buf, len + 1,
			    NULL, 1);
	}
	free(buf);
	if (o != NULL && !cJSON_IsObject(o)) {
		cJSON_Delete(o);
		o = NULL;
	}
	return o;
}

/* A NumericDate: a finite number within a sane range. */
static int
numeric_date(const cJSON *o, const char *name, int required, long long *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	if (v == NULL)
		return required ? -1 : 0;
	if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0) ||
	    v->valuedouble > 32503680000.0)	/* year 3000 */
		return -1;
	*out = (long long)v->valuedouble;
	return 1;
}

static int
audience_ok(const cJSON *aud, const char *want)
{
	const cJSON *e;

	if (cJSON_IsString(aud))
		return strcmp(aud->valuestring, want) == 0;
	if (!cJSON_IsArray(aud))
		return 0;
	cJSON_ArrayForEach(e, aud)
		if (cJSON_IsString(e) && strcmp(e->valuestring, want) == 0)
			return 1;
	return 0;
}

static int
check_claims(const cJSON *c, const char *iss, const char *aud, long long now)
{
	const cJSON *v;
	long long exp, iat, nbf = 0;
	long long sub;

	v = cJSON_GetObjectItemCaseSensitive(c, "iss");
	if (!cJSON_IsString(v))
		return VR_JWT_CLAIMS;
	if (strcmp(v->valuestring, iss) != 0)
		return VR_JWT_ISSUER;
	v = cJSON_GetObjectItemCaseSensitive(c, "aud");
	if (v == NULL)
		return VR_JWT_CLAIMS;
	if (!audience_ok(v, aud))
		return VR_JWT_AUDIENCE;
	if (numeric_date(c, "exp", 1, &exp) < 0 ||
	    numeric_date(c, "iat", 1, &iat) < 0 ||
	    numeric_date(c, "nbf", 0, &nbf) < 0)
		return VR_JWT_CLAIMS;
	v = cJSON_GetObjectItemCaseSensitive(c, "sub");
	if (!cJSON_IsString(v) || vr_parse_id(v->valuestring, &sub) < 0)
		return VR_JWT_CLAIMS;
	v = cJSON_GetObjectItemCaseSensitive(c, "jti");
	if (!cJSON_IsString(v) || v->valuestring[0] == '\0' ||
	    strlen(v->valuestring) > 64)
		return VR_JWT_CLAIMS;
	if (exp <= now)
		return VR_JWT_EXPIRED;
	if (iat > now + CLOCK_SKEW || nbf > now + CLOCK_SKEW)
		return VR_JWT_NOT_YET;
	if (exp < iat)
		return VR_JWT_CLAIMS;
	return VR_JWT_OK;
}

int
vr_jwt_verify(const struct vr_jwt_keys *ks, const char *token,
    const char *iss, const char *aud, long long now, cJSON **claims)
{
	const char *d1, *d2;
	const cJSON *alg, *kid, *typ;
	const struct vr_jwt_key *k = NULL;
	cJSON *hdr, *body;
	unsigned char mac[32], sig[64];
	size_t n, siglen;
	int i, rc;

	*claims = NULL;
	n = strnlen(token, MAX_TOKEN + 1);
	if (n > MAX_TOKEN || (d1 = strchr(token, '.')) == NULL ||
	    (d2 = strchr(d1 + 1, '.')) == NULL || strchr(d2 + 1, '.') != NULL)
		return VR_JWT_MALFORMED;
	if ((hdr = part_json(token, (size_t)(d1 - token))) == NULL)
		return VR_JWT_MALFORMED;
	alg = cJSON_GetObjectItemCaseSensitive(hdr, "alg");
	kid = cJSON_GetObjectItemCaseSensitive(hdr, "kid");
	typ = cJSON_GetObjectItemCaseSensitive(hdr, "typ");
	rc = VR_JWT_OK;
	if (!cJSON_IsString(alg) || strcmp(alg->valuestring, "HS256") != 0 ||
	    cJSON_GetObjectItemCaseSensitive(hdr, "crit") != NULL)
		rc = VR_JWT_ALG;
	else if (typ != NULL && (!cJSON_IsString(typ) ||
	    strcmp(typ->valuestring, "JWT") != 0))
		rc = VR_JWT_MALFORMED;
	else if (!cJSON_IsString(kid))
		rc = VR_JWT_KID;
	else {
		for (i = 0; i < ks->n && k == NULL; i++)
			if (strcmp(ks->k[i].kid, kid->valuestring) == 0)
				k = &ks->k[i];
		if (k == NULL)
			rc = VR_JWT_KID;
	}
	cJSON_Delete(hdr);
	if (rc != VR_JWT_OK)
		return rc;

	/* Signature over the first two parts, compared in constant time. */
	if (strlen(d2 + 1) != VR_B64URL_LEN(32) - 1 ||
	    vr_b64url_decode(d2 + 1, strlen(d2 + 1), sig, &siglen) < 0 ||
	    siglen != sizeof(mac))
		return VR_JWT_SIGNATURE;
	hmac(k, token, (size_t)(d2 - token), mac);
	if (CRYPTO_memcmp(mac, sig, sizeof(mac)) != 0)
		return VR_JWT_SIGNATURE;

	if ((body = part_json(d1 + 1, (size_t)(d2 - d1 - 1))) == NULL)
		return VR_JWT_MALFORMED;
	if ((rc = check_claims(body, iss, aud, now)) != VR_JWT_OK) {
		cJSON_Delete(body);
		return rc;
	}
	*claims = body;
	return VR_JWT_OK;
}
