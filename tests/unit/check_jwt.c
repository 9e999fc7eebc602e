/*
 * check_jwt.c - lib/jwt.c: key files and their refusals, signing and
 * verifying, key rotation, and every verdict of vr_jwt_verify().
 *
 * Each test gets its own directory (/tmp/vetred-jwt-XXXXXX) for its key
 * files, made and removed by a checked fixture.  Tokens with headers the
 * library would never write are forged here: base64url of the header and
 * the payload, then HMAC-SHA256 with the configured key's bytes, so a
 * refusal is known to come from the header and not from the signature.
 */
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "vr.h"
#include "tests.h"

#define ISS	"https://vetred.pe"
#define AUD	"vetred-api"
#define NOW	1767225600LL	/* 2026-01-01T00:00:00Z */
#define HDR	"{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"k1\"}"

static char dir[64];		/* this test's key directory */

/* ---- fixture and key files -------------------------------------------- */

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void
dir_make(void)
{
	snprintf(dir, sizeof(dir), "/tmp/vetred-jwt-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void
dir_remove(void)
{
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Write a file in the test's directory with exactly that mode. */
static void
put_file(const char *name, const void *data, size_t n, mode_t mode)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_msg(fd >= 0, "cannot create %s", path);
	ck_assert_int_eq(write(fd, data, n), (ssize_t)n);
	ck_assert_int_eq(fchmod(fd, mode), 0);
	close(fd);
}

/* A key file: the standard base64 of n random bytes and a newline. */
static void
put_key(const char *name, size_t n)
{
	unsigned char key[512];
	char text[4 * (sizeof(key) / 3 + 1) + 2];
	int len;

	ck_assert_uint_le(n, sizeof(key));
	ck_assert_int_eq(RAND_bytes(key, (int)n), 1);
	len = EVP_EncodeBlock((unsigned char *)text, key, (int)n);
	text[len++] = '\n';
	put_file(name, text, (size_t)len, 0600);
}

/*
 * "kid=dir/file,kid=dir/file" from NULL-terminated kid, file pairs, in a
 * static buffer.
 */
static const char *
spec(const char *kid, ...)
{
	static char buf[4096];
	const char *file;
	size_t n = 0;
	va_list ap;

	buf[0] = '\0';
	va_start(ap, kid);
	for (; kid != NULL; kid = va_arg(ap, const char *)) {
		file = va_arg(ap, const char *);
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s=%s/%s",
		    n > 0 ? "," : "", kid, dir, file);
		ck_assert_uint_lt(n, sizeof(buf));
	}
	va_end(ap);
	return buf;
}

static void
load_ok(struct vr_jwt_keys *ks, const char *s)
{
	char err[512] = "";

	ck_assert_msg(vr_jwt_keys_load(ks, s, err, sizeof(err)) == VR_OK,
	    "%s: %s", s, err);
}

static void
load_refused(const char *s)
{
	struct vr_jwt_keys ks;
	char err[512] = "";

	ck_assert_msg(vr_jwt_keys_load(&ks, s, err, sizeof(err)) ==
	    VR_ECONFIG, "\"%s\" accepted", s != NULL ? s : "(null)");
	ck_assert_msg(err[0] != '\0', "no message for \"%s\"",
	    s != NULL ? s : "(null)");
}

/* One key "k1" in k1.key, the usual keyring of these tests. */
static void
ring1(struct vr_jwt_keys *ks)
{
	put_key("k1.key", 48);
	load_ok(ks, spec("k1", "k1.key", NULL));
}

/* ---- tokens ----------------------------------------------------------- */

static cJSON *
claims_new(void)
{
	cJSON *c = cJSON_CreateObject();

	cJSON_AddStringToObject(c, "iss", ISS);
	cJSON_AddStringToObject(c, "aud", AUD);
	cJSON_AddStringToObject(c, "sub", "42");
	cJSON_AddNumberToObject(c, "iat", (double)(NOW - 10));
	cJSON_AddNumberToObject(c, "exp", (double)(NOW + 900));
	cJSON_AddStringToObject(c, "jti", "5f0c6a3e9b2d4e7f8a1b2c3d4e5f6a7b");
	return c;
}

static char *
b64url(const void *p, size_t n)
{
	char *s = vr_xmalloc(VR_B64URL_LEN(n));

	vr_b64url_encode(p, n, s);
	return s;
}

/*
 * header.payload.signature with any header (hn bytes, NULs included):
 * HMAC-SHA256 under key when key is not NULL, an empty signature
 * otherwise.  Caller frees.
 */
static char *
forge_n(const char *hdr, size_t hn, const char *payload,
    const struct vr_jwt_key *key)
{
	char *h = b64url(hdr, hn), *p = b64url(payload, strlen(payload));
	char *tok, *sig = NULL;
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	size_t n;

	n = strlen(h) + strlen(p) + VR_B64URL_LEN(sizeof(mac)) + 2;
	tok = vr_xmalloc(n);
	snprintf(tok, n, "%s.%s", h, p);
	if (key != NULL) {
		ck_assert_ptr_nonnull(HMAC(EVP_sha256(), key->key,
		    (int)key->len, (unsigned char *)tok, strlen(tok), mac,
		    &maclen));
		sig = b64url(mac, maclen);
	}
	snprintf(tok + strlen(tok), n - strlen(tok), ".%s",
	    sig != NULL ? sig : "");
	free(sig);
	free(p);
	free(h);
	return tok;
}

static char *
forge(const char *hdr, const char *payload, const struct vr_jwt_key *key)
{
	return forge_n(hdr, strlen(hdr), payload, key);
}

/* forge() with the claims c as the payload. */
static char *
forge_claims(const char *hdr, const cJSON *c, const struct vr_jwt_key *key)
{
	char *body = cJSON_PrintUnformatted(c), *tok;

	ck_assert_ptr_nonnull(body);
	tok = forge(hdr, body, key);
	cJSON_free(body);
	return tok;
}

/* Verify against ISS, AUD and NOW; the claims come back only when valid. */
static int
verify(const struct vr_jwt_keys *ks, const char *tok)
{
	static cJSON poison;	/* not NULL: the call must reset it */
	cJSON *c = &poison;
	int rc;

	rc = vr_jwt_verify(ks, tok, ISS, AUD, NOW, &c);
	if (rc == VR_JWT_OK)
		ck_assert_ptr_nonnull(c);
	else
		ck_assert_ptr_null(c);
	cJSON_Delete(c);
	return rc;
}

#define verdict_is(ks, tok, want) do {					\
	int v_ = verify((ks), (tok));					\
	ck_assert_msg(v_ == (want), "%s: got \"%s\", want \"%s\"",	\
	    (tok), vr_jwt_reason(v_), vr_jwt_reason(want));		\
} while (0)

/* Sign c with ks, delete c, and verify the token. */
static int
sign_verify(const struct vr_jwt_keys *ks, cJSON *c)
{
	char *tok = vr_jwt_sign(ks, c);
	int rc;

	ck_assert_ptr_nonnull(tok);
	cJSON_Delete(c);
	rc = verify(ks, tok);
	free(tok);
	return rc;
}

/* The decoded header or payload (part 0 or 1) of a token, as text. */
static char *
part_text(const char *tok, int part)
{
	const char *s = tok, *e;
	unsigned char *buf;
	size_t len;

	if (part == 1)
		s = strchr(tok, '.') + 1;
	e = strchr(s, '.');
	buf = vr_xmalloc(VR_B64_DECODED_MAX((size_t)(e - s)) + 1);
	ck_assert_int_eq(vr_b64url_decode(s, (size_t)(e - s), buf, &len),
	    VR_OK);
	buf[len] = '\0';
	return (char *)buf;
}

/* ---- loading keys ----------------------------------------------------- */

START_TEST(keys_load_one)
{
	struct vr_jwt_keys ks;

	put_key("a.key", 32);
	load_ok(&ks, spec("main-2026.v1_a", "a.key", NULL));
	ck_assert_int_eq(ks.n, 1);
	ck_assert_str_eq(ks.k[0].kid, "main-2026.v1_a");
	ck_assert_uint_eq(ks.k[0].len, 32);
}
END_TEST

START_TEST(keys_load_several_in_order)
{
	struct vr_jwt_keys ks;

	put_key("a.key", 48);
	put_key("b.key", 256);
	put_key("c.key", 64);
	load_ok(&ks, spec("a", "a.key", "b", "b.key", "c", "c.key", NULL));
	ck_assert_int_eq(ks.n, 3);
	ck_assert_str_eq(ks.k[0].kid, "a");
	ck_assert_str_eq(ks.k[1].kid, "b");
	ck_assert_str_eq(ks.k[2].kid, "c");
	ck_assert_uint_eq(ks.k[0].len, 48);
	ck_assert_uint_eq(ks.k[1].len, 256);
	ck_assert_uint_eq(ks.k[2].len, 64);
}
END_TEST

START_TEST(keys_spec_unset)
{
	load_refused(NULL);
	load_refused("");
}
END_TEST

START_TEST(keys_spec_malformed)
{
	char s[512];

	put_key("a.key", 48);
	snprintf(s, sizeof(s), "%s/a.key", dir);
	load_refused(s);			/* no kid= */
	load_refused("a");
	load_refused("a=");			/* no path */
	snprintf(s, sizeof(s), "=%s/a.key", dir);
	load_refused(s);			/* empty kid */
	snprintf(s, sizeof(s), "a=%s/a.key,,b=%s/a.key", dir, dir);
	load_refused(s);			/* empty entry */
	snprintf(s, sizeof(s), "a=%s/a.key,b", dir);
	load_refused(s);
}
END_TEST

START_TEST(keys_kid_characters)
{
	static const char *const bad[] = { "a b", "a/b", "a:b", "a\"b",
	    "ñ", "a\\b", "a+b", "a;b", "a\tb" };
	size_t i;

	put_key("a.key", 48);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		load_refused(spec(bad[i], "a.key", NULL));
}
END_TEST

START_TEST(keys_kid_length)
{
	struct vr_jwt_keys ks;
	char kid[VR_JWT_KID_MAX + 2];

	put_key("a.key", 48);
	memset(kid, 'k', VR_JWT_KID_MAX);
	kid[VR_JWT_KID_MAX] = '\0';
	load_ok(&ks, spec(kid, "a.key", NULL));
	ck_assert_str_eq(ks.k[0].kid, kid);
	kid[VR_JWT_KID_MAX] = 'k';
	kid[VR_JWT_KID_MAX + 1] = '\0';
	load_refused(spec(kid, "a.key", NULL));
}
END_TEST

START_TEST(keys_duplicate_kid)
{
	put_key("a.key", 48);
	put_key("b.key", 48);
	load_refused(spec("a", "a.key", "a", "b.key", NULL));
	load_refused(spec("a", "a.key", "b", "b.key", "a", "a.key", NULL));
}
END_TEST

START_TEST(keys_at_most_max)
{
	struct vr_jwt_keys ks;
	char s[4096], name[32];
	size_t n = 0;
	int i;

	for (i = 0; i <= VR_JWT_MAX_KEYS; i++) {
		snprintf(name, sizeof(name), "k%d.key", i);
		put_key(name, 32);
	}
	for (i = 0; i < VR_JWT_MAX_KEYS; i++)
		n += (size_t)snprintf(s + n, sizeof(s) - n, "%sk%d=%s/k%d.key",
		    i > 0 ? "," : "", i, dir, i);
	load_ok(&ks, s);
	ck_assert_int_eq(ks.n, VR_JWT_MAX_KEYS);
	snprintf(s + n, sizeof(s) - n, ",k%d=%s/k%d.key", i, dir, i);
	load_refused(s);
}
END_TEST

START_TEST(keys_file_missing)
{
	load_refused(spec("a", "no-such.key", NULL));
	load_refused("a=/nonexistent/vetred/a.key");
}
END_TEST

/* Readable by group or others: refused whatever it holds. */
START_TEST(keys_file_mode)
{
	static const mode_t bad[] = { 0644, 0640, 0604, 0660, 0606, 0666 };
	struct vr_jwt_keys ks;
	char path[256];
	size_t i;

	put_key("a.key", 48);
	snprintf(path, sizeof(path), "%s/a.key", dir);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_int_eq(chmod(path, bad[i]), 0);
		load_refused(spec("a", "a.key", NULL));
	}
	ck_assert_int_eq(chmod(path, 0400), 0);
	load_ok(&ks, spec("a", "a.key", NULL));
}
END_TEST

START_TEST(keys_file_length)
{
	struct vr_jwt_keys ks;

	put_key("short.key", VR_JWT_KEY_MIN - 1);
	load_refused(spec("a", "short.key", NULL));
	put_key("min.key", VR_JWT_KEY_MIN);
	load_ok(&ks, spec("a", "min.key", NULL));
	put_key("max.key", VR_JWT_KEY_MAX);
	load_ok(&ks, spec("a", "max.key", NULL));
	ck_assert_uint_eq(ks.k[0].len, VR_JWT_KEY_MAX);
	put_key("long.key", VR_JWT_KEY_MAX + 1);
	load_refused(spec("a", "long.key", NULL));
	put_key("huge.key", 510);
	load_refused(spec("a", "huge.key", NULL));
	put_file("empty.key", "", 0, 0600);
	load_refused(spec("a", "empty.key", NULL));
}
END_TEST

START_TEST(keys_file_not_base64)
{
	static const char text[] =
	    "this is not base64 at all, it is a passphrase!!!!!!!!!!\n";
	static const char url[] =	/* 48 bytes in the url alphabet */
	    "-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_\n";

	put_file("text.key", text, strlen(text), 0600);
	load_refused(spec("a", "text.key", NULL));
	put_file("url.key", url, strlen(url), 0600);
	load_refused(spec("a", "url.key", NULL));
}
END_TEST

/* Only the first 511 bytes are read: a longer file is refused. */
START_TEST(keys_file_too_long)
{
	static const char key[] =
	    "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0";
	char text[1024];
	size_t n;

	/* the cut falls in the blank lines, a second key follows */
	n = (size_t)snprintf(text, sizeof(text), "%s\n", key);
	memset(text + n, '\n', 600 - n);
	memcpy(text + 600, key, sizeof(key));
	put_file("a.key", text, strlen(text), 0600);
	load_refused(spec("a", "a.key", NULL));
	/* 600 bytes of base64: too long whatever it decodes to */
	memset(text, 'A', 600);
	text[600] = '\0';
	put_file("b.key", text, strlen(text), 0600);
	load_refused(spec("a", "b.key", NULL));
}
END_TEST

/* Trailing whitespace and CRLF line ends are what editors leave. */
START_TEST(keys_file_trailing_whitespace)
{
	static const char text[] =
	    "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0\r\n \t\n";
	struct vr_jwt_keys ks;

	put_file("a.key", text, strlen(text), 0600);
	load_ok(&ks, spec("a", "a.key", NULL));
	ck_assert_uint_eq(ks.k[0].len, 36);
	ck_assert(memcmp(ks.k[0].key, "secretsecretsecretsecretsecretsecret",
	    36) == 0);
}
END_TEST

/* openssl rand -base64 96 writes two lines of 64 and 64 characters. */
START_TEST(keys_file_wrapped_lines)
{
	unsigned char key[96];
	char text[160];
	struct vr_jwt_keys ks;
	int len;

	ck_assert_int_eq(RAND_bytes(key, sizeof(key)), 1);
	len = EVP_EncodeBlock((unsigned char *)text + 1, key, sizeof(key));
	ck_assert_int_eq(len, 128);
	memmove(text, text + 1, 64);
	text[64] = '\n';
	text[129] = '\n';
	put_file("a.key", text, 130, 0600);
	load_ok(&ks, spec("a", "a.key", NULL));
	ck_assert_uint_eq(ks.k[0].len, sizeof(key));
	ck_assert(memcmp(ks.k[0].key, key, sizeof(key)) == 0);
}
END_TEST

/* The message is cut to errlen and still NUL-terminated. */
START_TEST(keys_error_fits_errlen)
{
	struct vr_jwt_keys ks;
	char err[16];

	memset(err, 'x', sizeof(err));
	ck_assert_int_eq(vr_jwt_keys_load(&ks, "", err, sizeof(err)),
	    VR_ECONFIG);
	ck_assert_uint_eq(strlen(err), sizeof(err) - 1);
}
END_TEST

/* ---- signing and verifying -------------------------------------------- */

START_TEST(sign_verify_ok)
{
	struct vr_jwt_keys ks;
	cJSON *c = claims_new(), *out = NULL;
	char *tok, *hdr, *body;
	const char *p;
	int dots = 0;

	ring1(&ks);
	tok = vr_jwt_sign(&ks, c);
	ck_assert_ptr_nonnull(tok);
	for (p = tok; *p != '\0'; p++)
		dots += *p == '.';
	ck_assert_int_eq(dots, 2);
	ck_assert_uint_eq(strlen(strrchr(tok, '.') + 1), 43);
	hdr = part_text(tok, 0);
	ck_assert_str_eq(hdr, HDR);
	body = part_text(tok, 1);
	ck_assert_ptr_nonnull(strstr(body, "\"sub\":\"42\""));

	ck_assert_int_eq(vr_jwt_verify(&ks, tok, ISS, AUD, NOW, &out),
	    VR_JWT_OK);
	ck_assert_ptr_nonnull(out);
	ck_assert_str_eq(cJSON_GetObjectItem(out, "sub")->valuestring, "42");
	ck_assert_str_eq(cJSON_GetObjectItem(out, "iss")->valuestring, ISS);
	ck_assert_str_eq(cJSON_GetObjectItem(out, "jti")->valuestring,
	    "5f0c6a3e9b2d4e7f8a1b2c3d4e5f6a7b");
	ck_assert(cJSON_GetObjectItem(out, "exp")->valuedouble ==
	    (double)(NOW + 900));
	cJSON_Delete(out);
	cJSON_Delete(c);
	free(body);
	free(hdr);
	free(tok);
}
END_TEST

START_TEST(sign_twice_same_token)
{
	struct vr_jwt_keys ks;
	cJSON *c = claims_new();
	char *a, *b;

	ring1(&ks);
	a = vr_jwt_sign(&ks, c);
	b = vr_jwt_sign(&ks, c);
	ck_assert_str_eq(a, b);		/* HMAC is deterministic */
	free(a);
	free(b);
	cJSON_Delete(c);
}
END_TEST

START_TEST(audience_array)
{
	struct vr_jwt_keys ks;
	cJSON *c = claims_new(), *aud = cJSON_CreateArray();

	ring1(&ks);
	cJSON_AddItemToArray(aud, cJSON_CreateString("vetred-admin"));
	cJSON_AddItemToArray(aud, cJSON_CreateString(AUD));
	cJSON_ReplaceItemInObject(c, "aud", aud);
	ck_assert_int_eq(sign_verify(&ks, c), VR_JWT_OK);
}
END_TEST

/* Optional nbf in the past, extra claims: still valid. */
START_TEST(optional_claims)
{
	struct vr_jwt_keys ks;
	cJSON *c = claims_new();

	ring1(&ks);
	cJSON_AddNumberToObject(c, "nbf", (double)(NOW - 100));
	cJSON_AddStringToObject(c, "rol", "veterinario");
	cJSON_AddNumberToObject(c, "sede", 3);
	ck_assert_int_eq(sign_verify(&ks, c), VR_JWT_OK);
}
END_TEST

/* A header without typ is accepted; with another typ it is not ours. */
START_TEST(header_typ)
{
	struct vr_jwt_keys ks;
	cJSON *c = claims_new();
	char *tok;

	ring1(&ks);
	tok = forge_claims("{\"alg\":\"HS256\",\"kid\":\"k1\"}", c, &ks.k[0]);
	verdict_is(&ks, tok, VR_JWT_OK);
	free(tok);
	tok = forge_claims("{\"kid\":\"k1\",\"typ\":\"JWT\",\"alg\":\"HS256\"}",
	    c, &ks.k[0]);
	verdict_is(&ks, tok, VR_JWT_OK);
	free(tok);
	tok = forge_claims("{\"alg\":\"HS256\",\"typ\":\"JWS\",\"kid\":\"k1\"}",
	    c, &ks.k[0]);
	verdict_is(&ks, tok, VR_JWT_MALFORMED);
	free(tok);
	tok = forge_claims("{\"alg\":\"HS256\",\"typ\":\"at+jwt\","
	    "\"kid\":\"k1\"}", c, &ks.k[0]);
	verdict_is(&ks, tok, VR_JWT_MALFORMED);
	free(tok);
	tok = forge_claims("{\"alg\":\"HS256\",\"typ\":1,\"kid\":\"k1\"}", c,
	    &ks.k[0]);
	verdict_is(&ks, tok, VR_JWT_MALFORMED);
	free(tok);
	tok = forge_claims("{\"alg\":\"HS256\",\"typ\":null,\"kid\":\"k1\"}", c,
	    &ks.k[0]);
	verdict_is(&ks, tok, VR_JWT_MALFORMED);
	free(tok);
	cJSON_Delete(c);
}
END_TEST

/* ---- rotation and key ids --------------------------------------------- */

START_TEST(rotation)
{
	struct vr_jwt_keys before, during, after;
	cJSON *c = claims_new();
	char *old_tok, *new_tok, *hdr;

	put_key("old.key", 48);
	put_key("new.key", 48);
	load_ok(&before, spec("old", "old.key", NULL));
	load_ok(&during, spec("new", "new.key", "old", "old.key", NULL));
	load_ok(&after, spec("new", "new.key", NULL));

	old_tok = vr_jwt_sign(&before, c);
	new_tok = vr_jwt_sign(&during, c);
	hdr = part_text(new_tok, 0);
	ck_assert_ptr_nonnull(strstr(hdr, "\"kid\":\"new\""));
	free(hdr);

	verdict_is(&before, old_tok, VR_JWT_OK);
	verdict_is(&during, old_tok, VR_JWT_OK);	/* still signed in */
	verdict_is(&during, new_tok, VR_JWT_OK);
	verdict_is(&after, new_tok, VR_JWT_OK);
	verdict_is(&after, old_tok, VR_JWT_KID);	/* old key retired */
	verdict_is(&before, new_tok, VR_JWT_KID);
	free(old_tok);
	free(new_tok);
	cJSON_Delete(c);
}
END_TEST

/* The first key signs, whatever the order of the others. */
START_TEST(rotation_first_key_signs)
{
	struct vr_jwt_keys old_first, new_first;
	cJSON *c = claims_new();
	char *tok, *hdr;

	put_key("old.key", 48);
	put_key("new.key", 48);
	load_ok(&old_first, spec("old", "old.key", "new", "new.key", NULL));
	load_ok(&new_first, spec("new", "new.key", "old", "old.key", NULL));
	tok = vr_jwt_sign(&old_first, c);
	hdr = part_text(tok, 0);
	ck_assert_ptr_nonnull(strstr(hdr, "\"kid\":\"old\""));
	verdict_is(&new_first, tok, VR_JWT_OK);
	free(hdr);
	free(tok);
	cJSON_Delete(c);
}
END_TEST

START_TEST(kid_unknown_or_missing)
{
	struct vr_jwt_keys ks;
	cJSON *c = claims_new();
	char *tok;

	ring1(&ks);
	tok = forge_claims("{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"k2\"}",
	    c, &ks.k[0]);
	verdict_is(&ks, tok, VR_JWT_KID);
	free(tok);
	tok = forge_claims("{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"K1\"}",
	    c, &ks.k[0]);
	verdict_is(&ks, tok, VR_JWT_KID);
	free(tok);
	tok = forge_claims("{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"\"}",
	    c, &ks.k[0]);
	verdict_is(&ks, tok, VR_JWT_KID);
	free(tok);
	tok = forge_claims("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", c, &ks.k[0]);
	verdict_is(&ks, tok, VR_JWT_KID);
	free(tok);
	tok = forge_claims("{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":1}", c,
	    &ks.k[0]);
	verdict_is(&ks, tok, VR_JWT_KID);
	free(tok);
	tok = forge_claims("{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":[\"k1\"]}",
	    c, &ks.k[0]);
	verdict_is(&ks, tok, VR_JWT_KID);
	free(tok);
	cJSON_Delete(c);
}
END_TEST

/* Same kid, other bytes: the signature does not match. */
START_TEST(kid_same_name_other_key)
{
	struct vr_jwt_keys a, b;
	cJSON *c = claims_new();
	char *tok;

	put_key("a.key", 48);
	put_key("b.key", 48);
	load_ok(&a, spec("k1", "a.key", NULL));
	load_ok(&b, spec("k1", "b.key", NULL));
	tok = vr_jwt_sign(&a, c);
	verdict_is(&a, tok, VR_JWT_OK);
	verdict_is(&b, tok, VR_JWT_SIGNATURE);
	free(tok);
	cJSON_Delete(c);
}
END_TEST

/* ---- algorithms ------------------------------------------------------- */

START_TEST(alg_none)
{
	static const char *const hdrs[] = {
		"{\"alg\":\"none\",\"typ\":\"JWT\",\"kid\":\"k1\"}",
		"{\"alg\":\"None\",\"typ\":\"JWT\",\"kid\":\"k1\"}",
		"{\"alg\":\"NONE\",\"typ\":\"JWT\",\"kid\":\"k1\"}",
		"{\"alg\":\"nOnE\",\"typ\":\"JWT\"}",
		"{\"alg\":\"none\"}",
	};
	struct vr_jwt_keys ks;
	cJSON *c = claims_new();
	char *tok;
	size_t i;

	ring1(&ks);
	for (i = 0; i < sizeof(hdrs) / sizeof(hdrs[0]); i++) {
		tok = forge_claims(hdrs[i], c, NULL);
		ck_assert(tok[strlen(tok) - 1] == '.');
		verdict_is(&ks, tok, VR_JWT_ALG);
		free(tok);
		/* and with a valid HS256 signature appended anyway */
		tok = forge_claims(hdrs[i], c, &ks.k[0]);
		verdict_is(&ks, tok, VR_JWT_ALG);
		free(tok);
	}
	cJSON_Delete(c);
}
END_TEST

START_TEST(alg_other)
{
	static const char *const algs[] = { "HS512", "HS384", "RS256",
	    "ES256", "PS256", "EdDSA", "hs256", "HS256 ", " HS256", "HS2560",
	    "HS25", "" };
	struct vr_jwt_keys ks;
	cJSON *c = claims_new();
	char hdr[128], *tok;
	size_t i;

	ring1(&ks);
	for (i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
		snprintf(hdr, sizeof(hdr), "{\"alg\":\"%s\",\"typ\":\"JWT\","
		    "\"kid\":\"k1\"}", algs[i]);
		tok = forge_claims(hdr, c, &ks.k[0]);
		verdict_is(&ks, tok, VR_JWT_ALG);
		free(tok);
	}
	cJSON_Delete(c);
}
END_TEST

START_TEST(alg_missing_or_not_string)
{
	static const char *const hdrs[] = {
		"{\"typ\":\"JWT\",\"kid\":\"k1\"}",
		"{\"alg\":null,\"typ\":\"JWT\",\"kid\":\"k1\"}",
		"{\"alg\":256,\"typ\":\"JWT\",\"kid\":\"k1\"}",
		"{\"alg\":[\"HS256\"],\"typ\":\"JWT\",\"kid\":\"k1\"}",
		"{\"alg\":{\"name\":\"HS256\"},\"typ\":\"JWT\",\"kid\":\"k1\"}",
		"{\"ALG\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"k1\"}",
		"{}",
	};
	struct vr_jwt_keys ks;
	cJSON *c = claims_new();
	char *tok;
	size_t i;

	ring1(&ks);
	for (i = 0; i < sizeof(hdrs) / sizeof(hdrs[0]); i++) {
		tok = forge_claims(hdrs[i], c, &ks.k[0]);
		verdict_is(&ks, tok, VR_JWT_ALG);
		free(tok);
	}
	cJSON_Delete(c);
}
END_TEST

/* Extensions we would have to understand: refused, even if signed. */
START_TEST(crit_refused)
{
	static const char *const hdrs[] = {
		"{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"k1\","
		    "\"crit\":[\"exp\"]}",
		"{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"k1\","
		    "\"crit\":[\"b64\"],\"b64\":false}",
		"{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"k1\",\"crit\":[]}",
		"{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"k1\",\"crit\":null}",
	};
	struct vr_jwt_keys ks;
	cJSON *c = claims_new();
	char *tok;
	size_t i;

	ring1(&ks);
	for (i = 0; i < sizeof(hdrs) / sizeof(hdrs[0]); i++) {
		tok = forge_claims(hdrs[i], c, &ks.k[0]);
		verdict_is(&ks, tok, VR_JWT_ALG);
		free(tok);
	}
	cJSON_Delete(c);
}
END_TEST

/*
 * Algorithm confusion: a verifier that let the header choose would check
 * "RS256" with the configured secret as if it were a public key, and an
 * HMAC made with that secret would pass.  We never get that far.
 */
START_TEST(alg_confusion)
{
	static const char *const algs[] = { "RS256", "ES256", "PS256",
	    "EdDSA" };
	struct vr_jwt_keys ks;
	cJSON *c = claims_new();
	char hdr[128], *tok;
	size_t i;

	ring1(&ks);
	for (i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
		snprintf(hdr, sizeof(hdr), "{\"alg\":\"%s\",\"typ\":\"JWT\","
		    "\"kid\":\"k1\"}", algs[i]);
		tok = forge_claims(hdr, c, &ks.k[0]);
		verdict_is(&ks, tok, VR_JWT_ALG);
		free(tok);
	}
	cJSON_Delete(c);
}
END_TEST

/* ---- signatures ------------------------------------------------------- */

/* The forger itself is right: the usual header, the right key, valid. */
START_TEST(forged_with_key_is_valid)
{
	struct vr_jwt_keys ks;
	cJSON *c = claims_new();
	char *tok, *mine;

	ring1(&ks);
	tok = forge_claims(HDR, c, &ks.k[0]);
	mine = vr_jwt_sign(&ks, c);
	ck_assert_str_eq(tok, mine);
	verdict_is(&ks, tok, VR_JWT_OK);
	free(mine);
	free(tok);
	cJSON_Delete(c);
}
END_TEST

START_TEST(payload_tampered)
{
	struct vr_jwt_keys ks;
	cJSON *c = claims_new();
	char *tok, *evil, *mine, *hdr_end, *sig;
	size_t n;

	ring1(&ks);
	mine = vr_jwt_sign(&ks, c);
	/* the same claims but sub 1 (an administrator), the old signature */
	cJSON_ReplaceItemInObject(c, "sub", cJSON_CreateString("1"));
	evil = forge_claims(HDR, c, NULL);
	sig = strrchr(mine, '.') + 1;
	n = 2 * strlen(mine);
	tok = vr_xmalloc(n);
	snprintf(tok, n, "%s%s", evil, sig);
	verdict_is(&ks, tok, VR_JWT_SIGNATURE);

	/* the payload of another valid token, our header and signature */
	cJSON_ReplaceItemInObject(c, "exp", cJSON_CreateNumber((double)(NOW + 1)));
	free(evil);
	evil = vr_jwt_sign(&ks, c);
	hdr_end = strchr(mine, '.');
	snprintf(tok, n, "%.*s%.*s.%s", (int)(hdr_end - mine), mine,
	    (int)(strrchr(evil, '.') - strchr(evil, '.')), strchr(evil, '.'),
	    sig);
	verdict_is(&ks, tok, VR_JWT_SIGNATURE);
	free(tok);
	free(evil);
	free(mine);
	cJSON_Delete(c);
}
END_TEST

START_TEST(signature_tampered)
{
	struct vr_jwt_keys ks;
	cJSON *c = claims_new();
	char *tok, was;
	size_t n, i;

	ring1(&ks);
	tok = vr_jwt_sign(&ks, c);
	n = strlen(tok);
	/* each of the first 42 characters: the MAC bytes change */
	for (i = n - 43; i < n - 1; i++) {
		was = tok[i];
		tok[i] = was == 'A' ? 'B' : 'A';
		verdict_is(&ks, tok, VR_JWT_SIGNATURE);
		tok[i] = was;
	}
	verdict_is(&ks, tok, VR_JWT_OK);
	/* the last one: another MAC or non-canonical base64 */
	tok[n - 1] = tok[n - 1] == 'A' ? 'E' : 'A';
	verdict_is(&ks, tok, VR_JWT_SIGNATURE);
	tok[n - 1] = '_';
	verdict_is(&ks, tok, VR_JWT_SIGNATURE);
	tok[n - 1] = '*';
	verdict_is(&ks, tok, VR_JWT_SIGNATURE);
	free(tok);
	cJSON_Delete(c);
}
END_TEST

START_TEST(signature_wrong_length)
{
	struct vr_jwt_keys ks;
	cJSON *c = claims_new();
	char *tok, *buf, *sig;
	size_t n;

	ring1(&ks);
	tok = vr_jwt_sign(&ks, c);
	n = strlen(tok);
	buf = vr_xmalloc(n + 64);
	sig = strrchr(tok, '.') + 1;

	snprintf(buf, n + 64, "%.*s", (int)(n - 1), tok);	/* 42 chars */
	verdict_is(&ks, buf, VR_JWT_SIGNATURE);
	snprintf(buf, n + 64, "%sA", tok);			/* 44 chars */
	verdict_is(&ks, buf, VR_JWT_SIGNATURE);
	snprintf(buf, n + 64, "%s=", tok);			/* padded */
	verdict_is(&ks, buf, VR_JWT_SIGNATURE);
	snprintf(buf, n + 64, "%.*s", (int)(sig - tok), tok);	/* empty */
	verdict_is(&ks, buf, VR_JWT_SIGNATURE);
	snprintf(buf, n + 64, "%.*s", (int)(sig - tok + 22), tok); /* half */
	verdict_is(&ks, buf, VR_JWT_SIGNATURE);
	free(buf);

	/* twice the MAC, as an HS512 signature would be long */
	buf = vr_xmalloc(n + 44);
	snprintf(buf, n + 44, "%s%s", tok, sig);
	verdict_is(&ks, buf, VR_JWT_SIGNATURE);
	free(buf);
	free(tok);
	cJSON_Delete(c);
}
END_TEST

/* ---- claims ----------------------------------------------------------- */

static void
set_number(cJSON *c, const char *name, double v)
{
	cJSON_DeleteItemFromObject(c, name);
	cJSON_AddNumberToObject(c, name, v);
}

static void
set_string(cJSON *c, const char *name, const char *v)
{
	cJSON_DeleteItemFromObject(c, name);
	cJSON_AddStringToObject(c, name, v);
}

START_TEST(expired)
{
	struct vr_jwt_keys ks;
	cJSON *c;

	ring1(&ks);
	c = claims_new();
	set_number(c, "exp", (double)NOW);
	ck_assert_int_eq(sign_verify(&ks, c), VR_JWT_EXPIRED);
	c = claims_new();
	set_number(c, "exp", (double)(NOW - 1));
	ck_assert_int_eq(sign_verify(&ks, c), VR_JWT_EXPIRED);
	c = claims_new();
	set_number(c, "iat", (double)(NOW - 7200));
	set_number(c, "exp", (double)(NOW - 3600));
	ck_assert_int_eq(sign_verify(&ks, c), VR_JWT_EXPIRED);
	c = claims_new();
	set_number(c, "exp", (double)(NOW + 1));
	ck_assert_int_eq(sign_verify(&ks, c), VR_JWT_OK);
}
END_TEST

/* iat and nbf may be up to 60 s ahead (clock skew between servers). */
START_TEST(not_yet_valid)
{
	struct vr_jwt_keys ks;
	cJSON *c;

	ring1(&ks);
	c = claims_new();
	set_number(c, "iat", (double)(NOW + 61));
	ck_assert_int_eq(sign_verify(&ks, c), VR_JWT_NOT_YET);
	c = claims_new();
	set_number(c, "iat", (double)(NOW + 3600));
	set_number(c, "exp", (double)(NOW + 4500));
	ck_assert_int_eq(sign_verify(&ks, c), VR_JWT_NOT_YET);
	c = claims_new();
	set_number(c, "iat", (double)(NOW + 60));
	ck_assert_int_eq(sign_verify(&ks, c), VR_JWT_OK);
	c = claims_new();
	set_number(c, "nbf", (double)(NOW + 61));
	ck_assert_int_eq(sign_verify(&ks, c), VR_JWT_NOT_YET);
	c = claims_new();
	set_number(c, "nbf", (double)(NOW + 600));
	ck_assert_int_eq(sign_verify(&ks, c), VR_JWT_NOT_YET);
	c = claims_new();
	set_number(c, "nbf", (double)(NOW + 60));
	ck_assert_int_eq(sign_verify(&ks, c), VR_JWT_OK);
	c = claims_new();
	set_string(c, "nbf", "0");
	ck_assert_int_eq(sign_verify(&ks, c), VR_JWT_CLAIMS);
}
END_TEST

START_TEST(wrong_issuer)
{
	static const char *const bad[] = { "https://evil.example",
	    "https://vetred.pe/", "HTTPS://VETRED.PE", "", "https://vetred.p" };
	struct vr_jwt_keys ks;
	cJSON *c;
	size_t i;

	ring1(&ks);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		c = claims_new();
		set_string(c, "iss", bad[i]);
		ck_assert_msg(sign_verify(&ks, c) == VR_JWT_ISSUER, "iss \"%s\"",
		    bad[i]);
	}
	c = claims_new();
	cJSON_DeleteItemFromObject(c, "iss");
	ck_assert_int_eq(sign_verify(&ks, c), VR_JWT_CLAIMS);
	c = claims_new();
	set_number(c, "iss", 1);
	ck_assert_int_eq(sign_verify(&ks, c), VR_JWT_CLAIMS);
}
END_TEST

START_TEST(wrong_audience)
{
	struct vr_jwt_keys ks;
	cJSON *c, *aud;

	ring1(&ks);
	c = claims_new();
	set_string(c, "aud", "vetred-admin");
	ck_assert_int_eq(sign_verify(&ks, c), VR_JWT_AUDIENCE);
	c = claims_new();
	set_string(c, "aud", "vetred-api ");
	ck_assert_int_eq(sign_verify(&ks, c), VR_JWT_AUDIENCE);
	c = claims_new();
	aud = cJSON_CreateArray();
	cJSON_AddItemToArray(aud, cJSON_CreateString("vetred-admin"));
	cJSON_AddItemToArray(aud, cJSON_CreateString("vetred-web"));
	cJSON_AddItemToArray(aud, cJSON_CreateNumber(1));
	cJSON_ReplaceItemInObject(c, "aud", aud);
	ck_assert_int_eq(sign_verify(&ks, c), VR_JWT_AUDIENCE);
	c = claims_new();
	cJSON_ReplaceItemInObject(c, "aud", cJSON_CreateArray());
	ck_assert_int_eq(sign_verify(&ks, c), VR_JWT_AUDIENCE);
	c = claims_new();
	set_number(c, "aud", 7);
	ck_assert_int_eq(sign_verify(&ks, c), VR_JWT_AUDIENCE);
	c = claims_new();
	cJSON_DeleteItemFromObject(c, "aud");
	ck_assert_int_eq(sign_verify(&ks, c), VR_JWT_CLAIMS);
}
END_TEST

START_TEST(claims_missing)
{
	static const char *const names[] = { "exp", "iat", "sub", "jti" };
	struct vr_jwt_keys ks;
	cJSON *c;
	size_t i;

	ring1(&ks);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		c = claims_new();
		cJSON_DeleteItemFromObject(c, names[i]);
		ck_assert_msg(sign_verify(&ks, c) == VR_JWT_CLAIMS,
		    "token without %s accepted", names[i]);
	}
}
END_TEST

START_TEST(claims_sub_not_an_id)
{
	static const char *const bad[] = { "", "abc", "0", "-1", "+1", "042",
	    "4 2", "42 ", "1e3", "99999999999999999999",
	    "9223372036854775808" };
	struct vr_jwt_keys ks;
	cJSON *c;
	size_t i;

	ring1(&ks);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		c = claims_new();
		set_string(c, "sub", bad[i]);
		ck_assert_msg(sign_verify(&ks, c) == VR_JWT_CLAIMS,
		    "sub \"%s\" accepted", bad[i]);
	}
	c = claims_new();
	set_number(c, "sub", 42);
	ck_assert_int_eq(sign_verify(&ks, c), VR_JWT_CLAIMS);
	c = claims_new();
	set_string(c, "sub", "9223372036854775807");
	ck_assert_int_eq(sign_verify(&ks, c), VR_JWT_OK);
}
END_TEST

START_TEST(claims_dates_not_numbers)
{
	struct vr_jwt_keys ks;
	cJSON *c;

	ring1(&ks);
	c = claims_new();
	set_string(c, "exp", "1767226500");
	ck_assert_int_eq(sign_verify(&ks, c), VR_JWT_CLAIMS);
	c = claims_new();
	cJSON_ReplaceItemInObject(c, "exp", cJSON_CreateTrue());
	ck_assert_int_eq(sign_verify(&ks, c), VR_JWT_CLAIMS);
	c = claims_new();
	cJSON_ReplaceItemInObject(c, "exp", cJSON_CreateNull());
	ck_assert_int_eq(sign_verify(&ks, c), VR_JWT_CLAIMS);
	c = claims_new();
	set_number(c, "exp", -1);
	ck_assert_int_eq(sign_verify(&ks, c), VR_JWT_CLAIMS);
	c = claims_new();
	set_number(c, "exp", 1e300);		/* beyond the year 3000 */
	ck_assert_int_eq(sign_verify(&ks, c), VR_JWT_CLAIMS);
	c = claims_new();
	set_string(c, "iat", "now");
	ck_assert_int_eq(sign_verify(&ks, c), VR_JWT_CLAIMS);
	c = claims_new();
	set_number(c, "iat", -60);
	ck_assert_int_eq(sign_verify(&ks, c), VR_JWT_CLAIMS);
}
END_TEST

/* Expiring before being issued: signed nonsense, refused. */
START_TEST(claims_exp_before_iat)
{
	struct vr_jwt_keys ks;
	cJSON *c;

	ring1(&ks);
	c = claims_new();
	set_number(c, "iat", (double)(NOW + 30));
	set_number(c, "exp", (double)(NOW + 10));
	ck_assert_int_eq(sign_verify(&ks, c), VR_JWT_CLAIMS);
	c = claims_new();
	set_number(c, "iat", (double)(NOW + 10));
	set_number(c, "exp", (double)(NOW + 10));
	ck_assert_int_eq(sign_verify(&ks, c), VR_JWT_OK);
}
END_TEST

START_TEST(claims_jti)
{
	struct vr_jwt_keys ks;
	char jti[66];
	cJSON *c;

	ring1(&ks);
	memset(jti, 'a', 64);
	jti[64] = '\0';
	c = claims_new();
	set_string(c, "jti", jti);
	ck_assert_int_eq(sign_verify(&ks, c), VR_JWT_OK);
	jti[64] = 'a';
	jti[65] = '\0';
	c = claims_new();
	set_string(c, "jti", jti);
	ck_assert_int_eq(sign_verify(&ks, c), VR_JWT_CLAIMS);
	c = claims_new();
	set_string(c, "jti", "");
	ck_assert_int_eq(sign_verify(&ks, c), VR_JWT_CLAIMS);
	c = claims_new();
	set_number(c, "jti", 1);
	ck_assert_int_eq(sign_verify(&ks, c), VR_JWT_CLAIMS);
}
END_TEST

/* ---- malformed tokens ------------------------------------------------- */

START_TEST(malformed_shape)
{
	static const char *const bad[] = { "", ".", "..", "...", "abc",
	    "abc.def", "a.b.c.d", "a.b.c.", ".a.b.c", "eyJhbGciOiJIUzI1NiJ9",
	    "eyJhbGciOiJIUzI1NiJ9.e30", "eyJhbGciOiJIUzI1NiJ9.e30.x.y" };
	struct vr_jwt_keys ks;
	size_t i;

	ring1(&ks);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		verdict_is(&ks, bad[i], VR_JWT_MALFORMED);
}
END_TEST

/* A valid token with a dot more, at each place. */
START_TEST(malformed_extra_dot)
{
	struct vr_jwt_keys ks;
	cJSON *c = claims_new();
	char *tok, *buf;
	size_t n;

	ring1(&ks);
	tok = vr_jwt_sign(&ks, c);
	n = strlen(tok) + 2;
	buf = vr_xmalloc(n);
	snprintf(buf, n, "%s.", tok);
	verdict_is(&ks, buf, VR_JWT_MALFORMED);
	snprintf(buf, n, ".%s", tok);
	verdict_is(&ks, buf, VR_JWT_MALFORMED);
	snprintf(buf, n, "%.10s.%s", tok, tok + 10);
	verdict_is(&ks, buf, VR_JWT_MALFORMED);
	free(buf);
	free(tok);
	cJSON_Delete(c);
}
END_TEST

START_TEST(malformed_header)
{
	struct vr_jwt_keys ks;
	cJSON *c = claims_new();
	char *body = cJSON_PrintUnformatted(c), *tok, *p, buf[512];
	static const char *const hdrs[] = {
		"not json",
		"[\"HS256\",\"JWT\",\"k1\"]",		/* an array */
		"[{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"k1\"}]",
		"\"HS256\"",
		"42",
		"null",
		"",
		"{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"k1\"",
		HDR "}",
		HDR " x",
	};
	size_t i;

	ring1(&ks);
	for (i = 0; i < sizeof(hdrs) / sizeof(hdrs[0]); i++) {
		tok = forge(hdrs[i], body, &ks.k[0]);
		verdict_is(&ks, tok, VR_JWT_MALFORMED);
		free(tok);
	}
	/* header not base64url: standard alphabet, padding, other bytes */
	tok = vr_jwt_sign(&ks, c);
	p = strchr(tok, '.');
	snprintf(buf, sizeof(buf), "%.*s=%s", (int)(p - tok), tok, p);
	verdict_is(&ks, buf, VR_JWT_MALFORMED);
	snprintf(buf, sizeof(buf), "+%s", tok + 1);
	verdict_is(&ks, buf, VR_JWT_MALFORMED);
	snprintf(buf, sizeof(buf), "!%s", tok + 1);
	verdict_is(&ks, buf, VR_JWT_MALFORMED);
	snprintf(buf, sizeof(buf), "%.*s%s", (int)(p - tok - 1), tok, p);
	verdict_is(&ks, buf, VR_JWT_MALFORMED);	/* a character less */
	free(tok);
	cJSON_free(body);
	cJSON_Delete(c);
}
END_TEST

/* Bytes that are not UTF-8 text, or a NUL, inside the header JSON. */
START_TEST(malformed_header_bytes)
{
	static const char *const hdrs[] = {
		"{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"k1\",\"x\":\"\xff\"}",
		"{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"k1\",\"x\":\"\xc3\"}",
		"{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"k1\","
		    "\"x\":\"\xc0\xaf\"}",
		"{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"k1\","
		    "\"x\":\"\xed\xa0\x80\"}",
		"{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"k\xe9\"}",
	};
	static const char with_nul[] =
	    "{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"k1\"}\0 ";
	struct vr_jwt_keys ks;
	cJSON *c = claims_new();
	char *body = cJSON_PrintUnformatted(c), *tok;
	size_t i;

	ring1(&ks);
	for (i = 0; i < sizeof(hdrs) / sizeof(hdrs[0]); i++) {
		tok = forge(hdrs[i], body, &ks.k[0]);
		verdict_is(&ks, tok, VR_JWT_MALFORMED);
		free(tok);
	}
	/* a valid header with a NUL after it, correctly signed */
	tok = forge_n(with_nul, sizeof(with_nul) - 1, body, &ks.k[0]);
	verdict_is(&ks, tok, VR_JWT_MALFORMED);
	free(tok);
	cJSON_free(body);
	cJSON_Delete(c);
}
END_TEST

START_TEST(malformed_payload)
{
	static const char *const bodies[] = { "not json", "[1,2,3]",
	    "\"sub\"", "42", "", "{\"sub\":\"42\"", "{\"x\":\"\xff\"}" };
	struct vr_jwt_keys ks;
	char *tok;
	size_t i;

	ring1(&ks);
	for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		tok = forge(HDR, bodies[i], &ks.k[0]);
		verdict_is(&ks, tok, VR_JWT_MALFORMED);
		free(tok);
	}
}
END_TEST

/* At most 8192 characters: the largest valid token passes, one more not. */
START_TEST(malformed_too_long)
{
	struct vr_jwt_keys ks;
	cJSON *c;
	char *pad, *tok, *big;
	size_t len, last_ok = 0;
	int saw_long = 0;

	ring1(&ks);
	pad = vr_xmalloc(7000);
	for (len = 5800; len < 6200 && !saw_long; len++) {
		memset(pad, 'x', len);
		pad[len] = '\0';
		c = claims_new();
		cJSON_AddStringToObject(c, "pad", pad);
		tok = vr_jwt_sign(&ks, c);
		cJSON_Delete(c);
		if (strlen(tok) <= 8192) {
			verdict_is(&ks, tok, VR_JWT_OK);
			last_ok = strlen(tok);
		} else {
			verdict_is(&ks, tok, VR_JWT_MALFORMED);
			saw_long = 1;
		}
		free(tok);
	}
	ck_assert(saw_long);
	ck_assert_uint_ge(last_ok, 8190);
	free(pad);

	big = vr_xmalloc(100001);
	memset(big, 'A', 100000);
	big[100000] = '\0';
	big[10] = big[20] = '.';
	verdict_is(&ks, big, VR_JWT_MALFORMED);
	free(big);
}
END_TEST

START_TEST(reasons)
{
	int v, w;

	ck_assert_str_eq(vr_jwt_reason(VR_JWT_OK), "valid");
	for (v = VR_JWT_OK; v <= VR_JWT_CLAIMS; v++) {
		ck_assert_ptr_nonnull(vr_jwt_reason(v));
		ck_assert_str_ne(vr_jwt_reason(v), "unknown");
		ck_assert_uint_gt(strlen(vr_jwt_reason(v)), 0);
		for (w = VR_JWT_OK; w < v; w++)
			ck_assert_str_ne(vr_jwt_reason(v), vr_jwt_reason(w));
	}
	ck_assert_str_eq(vr_jwt_reason(-1), "unknown");
	ck_assert_str_eq(vr_jwt_reason(VR_JWT_CLAIMS + 1), "unknown");
	ck_assert_str_eq(vr_jwt_reason(1000), "unknown");
}
END_TEST

Suite *
jwt_suite(void)
{
	Suite *s = suite_create("jwt");
	TCase *tc;

	tc = tcase_create("keys");
	tcase_add_checked_fixture(tc, dir_make, dir_remove);
	tcase_add_test(tc, keys_load_one);
	tcase_add_test(tc, keys_load_several_in_order);
	tcase_add_test(tc, keys_spec_unset);
	tcase_add_test(tc, keys_spec_malformed);
	tcase_add_test(tc, keys_kid_characters);
	tcase_add_test(tc, keys_kid_length);
	tcase_add_test(tc, keys_duplicate_kid);
	tcase_add_test(tc, keys_at_most_max);
	tcase_add_test(tc, keys_file_missing);
	tcase_add_test(tc, keys_file_mode);
	tcase_add_test(tc, keys_file_length);
	tcase_add_test(tc, keys_file_not_base64);
	tcase_add_test(tc, keys_file_too_long);
	tcase_add_test(tc, keys_file_trailing_whitespace);
	tcase_add_test(tc, keys_file_wrapped_lines);
	tcase_add_test(tc, keys_error_fits_errlen);
	suite_add_tcase(s, tc);

	tc = tcase_create("sign");
	tcase_add_checked_fixture(tc, dir_make, dir_remove);
	tcase_add_test(tc, sign_verify_ok);
	tcase_add_test(tc, sign_twice_same_token);
	tcase_add_test(tc, audience_array);
	tcase_add_test(tc, optional_claims);
	tcase_add_test(tc, header_typ);
	tcase_add_test(tc, rotation);
	tcase_add_test(tc, rotation_first_key_signs);
	tcase_add_test(tc, kid_unknown_or_missing);
	tcase_add_test(tc, kid_same_name_other_key);
	suite_add_tcase(s, tc);

	tc = tcase_create("algorithm");
	tcase_add_checked_fixture(tc, dir_make, dir_remove);
	tcase_add_test(tc, alg_none);
	tcase_add_test(tc, alg_other);
	tcase_add_test(tc, alg_missing_or_not_string);
	tcase_add_test(tc, crit_refused);
	tcase_add_test(tc, alg_confusion);
	suite_add_tcase(s, tc);

	tc = tcase_create("signature");
	tcase_add_checked_fixture(tc, dir_make, dir_remove);
	tcase_add_test(tc, forged_with_key_is_valid);
	tcase_add_test(tc, payload_tampered);
	tcase_add_test(tc, signature_tampered);
	tcase_add_test(tc, signature_wrong_length);
	suite_add_tcase(s, tc);

	tc = tcase_create("claims");
	tcase_add_checked_fixture(tc, dir_make, dir_remove);
	tcase_add_test(tc, expired);
	tcase_add_test(tc, not_yet_valid);
	tcase_add_test(tc, wrong_issuer);
	tcase_add_test(tc, wrong_audience);
	tcase_add_test(tc, claims_missing);
	tcase_add_test(tc, claims_sub_not_an_id);
	tcase_add_test(tc, claims_dates_not_numbers);
	tcase_add_test(tc, claims_exp_before_iat);
	tcase_add_test(tc, claims_jti);
	suite_add_tcase(s, tc);

	tc = tcase_create("malformed");
	tcase_add_checked_fixture(tc, dir_make, dir_remove);
	tcase_add_test(tc, malformed_shape);
	tcase_add_test(tc, malformed_extra_dot);
	tcase_add_test(tc, malformed_header);
	tcase_add_test(tc, malformed_header_bytes);
	tcase_add_test(tc, malformed_payload);
	tcase_add_test(tc, malformed_too_long);
	tcase_add_test(tc, reasons);
	suite_add_tcase(s, tc);
	return s;
}
