/*
 * check_auth.c - lib/auth.c: an access token to the caller it names, as
 * any service verifies it: user, session, generation and the grants,
 * with the service's own role names; every malformed claim refuses the
 * token and leaves nothing of it behind.
 *
 * The key ring is filled in memory (its loader is check_keyring.c's);
 * tokens are signed with vr_jwt_sign(), so only the claims vary.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vr.h"
#include "tests.h"

#define ISS	"vetred"
#define AUD	"vetred-api"
#define NOW	1767225600LL	/* 2026-01-01T00:00:00Z */
#define SID	"0b6f1c2e-3a4d-4e5f-8a9b-0c1d2e3f4a5b"

static const char *const roles[] = { "admin_red", "veterinario", "auditor" };
#define NROLES	((int)(sizeof(roles) / sizeof(roles[0])))

static struct vr_keyring ring;

static void
ring_make(void)
{
	memset(&ring, 0, sizeof(ring));
	snprintf(ring.sign.k[0].kid, sizeof(ring.sign.k[0].kid), "t1");
	memset(ring.sign.k[0].key, 'k', 32);
	ring.sign.k[0].len = 32;
	ring.sign.n = 1;
}

/* The claims the API issues, with roles as JSON text (NULL: none). */
static cJSON *
claims(const char *roles_json)
{
	cJSON *c = cJSON_CreateObject();

	cJSON_AddStringToObject(c, "iss", ISS);
	cJSON_AddStringToObject(c, "aud", AUD);
	cJSON_AddStringToObject(c, "sub", "42");
	cJSON_AddNumberToObject(c, "iat", (double)NOW);
	cJSON_AddNumberToObject(c, "exp", (double)(NOW + 900));
	cJSON_AddStringToObject(c, "jti", "j1");
	if (roles_json != NULL)
		cJSON_AddItemToObject(c, "roles", cJSON_Parse(roles_json));
	return c;
}

/* vr_auth_verify() of the token of c (freed), at now. */
static int
verify_at(cJSON *c, long long now, struct vr_auth *a)
{
	char *tok = vr_jwt_sign(&ring.sign, c);
	int v;

	ck_assert_ptr_nonnull(tok);
	v = vr_auth_verify(&ring, ISS, AUD, roles, NROLES, tok, now, a);
	free(tok);
	cJSON_Delete(c);
	return v;
}

static int
verify(cJSON *c, struct vr_auth *a)
{
	return verify_at(c, NOW, a);
}

static void
assert_empty(const struct vr_auth *a)
{
	ck_assert(a->uid == 0 && a->gen == 0 && a->exp == 0 && a->n == 0 &&
	    a->sid[0] == '\0');
}

START_TEST(caller_and_grants)
{
	struct vr_auth a;
	cJSON *c = claims("[{\"rol\":\"veterinario\",\"sede\":7},"
	    "{\"rol\":\"admin_red\",\"sede\":null}]");

	cJSON_AddNumberToObject(c, "gen", 3);
	cJSON_AddStringToObject(c, "sid", SID);
	ck_assert_int_eq(verify(c, &a), VR_JWT_OK);
	ck_assert(a.uid == 42);
	ck_assert(a.gen == 3);
	ck_assert(a.exp == NOW + 900);
	ck_assert_str_eq(a.sid, SID);
	ck_assert_int_eq(a.n, 2);
	ck_assert_int_eq(a.g[0].rol, 1);
	ck_assert(a.g[0].sede == 7);
	ck_assert_int_eq(a.g[1].rol, 0);
	ck_assert(a.g[1].sede == 0);
}
END_TEST

/* Tokens older than sessions and generations carry neither. */
START_TEST(no_session_no_generation)
{
	struct vr_auth a;

	ck_assert_int_eq(verify(claims("[]"), &a), VR_JWT_OK);
	ck_assert(a.uid == 42 && a.gen == 0 && a.n == 0);
	ck_assert_str_eq(a.sid, "");
}
END_TEST

/* Grants naming a role of another service or an impossible site drop. */
START_TEST(grants_skipped)
{
	struct vr_auth a;

	ck_assert_int_eq(verify(claims("[{\"rol\":\"farmacia\",\"sede\":1},"
	    "{\"rol\":\"auditor\",\"sede\":0},"
	    "{\"rol\":\"auditor\",\"sede\":-3},"
	    "{\"rol\":\"auditor\",\"sede\":\"2\"},"
	    "{\"rol\":\"auditor\"},"
	    "{\"rol\":\"auditor\",\"sede\":1e16},"
	    "{\"rol\":7,\"sede\":1},"
	    "\"auditor\","
	    "{\"rol\":\"auditor\",\"sede\":900719925474099}]"), &a),
	    VR_JWT_OK);
	ck_assert_int_eq(a.n, 1);
	ck_assert_int_eq(a.g[0].rol, 2);
	ck_assert(a.g[0].sede == 900719925474099LL);
}
END_TEST

/* At most VR_AUTH_MAX_GRANTS are kept, the first ones. */
START_TEST(grants_capped)
{
	struct vr_buf b;
	struct vr_auth a;
	int i;

	vr_buf_init(&b);
	vr_buf_puts(&b, "[");
	for (i = 1; i <= VR_AUTH_MAX_GRANTS + 5; i++)
		vr_buf_printf(&b, "%s{\"rol\":\"veterinario\",\"sede\":%d}",
		    i > 1 ? "," : "", i);
	vr_buf_puts(&b, "]");
	ck_assert_int_eq(verify(claims(b.data), &a), VR_JWT_OK);
	vr_buf_free(&b);
	ck_assert_int_eq(a.n, VR_AUTH_MAX_GRANTS);
	ck_assert(a.g[VR_AUTH_MAX_GRANTS - 1].sede == VR_AUTH_MAX_GRANTS);
}
END_TEST

START_TEST(roles_required)
{
	struct vr_auth a;

	ck_assert_int_eq(verify(claims(NULL), &a), VR_JWT_CLAIMS);
	assert_empty(&a);
	ck_assert_int_eq(verify(claims("{\"rol\":\"auditor\"}"), &a),
	    VR_JWT_CLAIMS);
	assert_empty(&a);
	ck_assert_int_eq(verify(claims("\"admin_red\""), &a), VR_JWT_CLAIMS);
	assert_empty(&a);
}
END_TEST

START_TEST(generation_malformed)
{
	struct vr_auth a;
	cJSON *c;

	c = claims("[]");
	cJSON_AddStringToObject(c, "gen", "3");
	ck_assert_int_eq(verify(c, &a), VR_JWT_CLAIMS);
	assert_empty(&a);
	c = claims("[]");
	cJSON_AddNumberToObject(c, "gen", -1);
	ck_assert_int_eq(verify(c, &a), VR_JWT_CLAIMS);
	c = claims("[]");
	cJSON_AddNumberToObject(c, "gen", 1e16);	/* over 2^53 */
	ck_assert_int_eq(verify(c, &a), VR_JWT_CLAIMS);
	c = claims("[]");
	cJSON_AddNumberToObject(c, "gen", 0);
	ck_assert_int_eq(verify(c, &a), VR_JWT_OK);
}
END_TEST

START_TEST(session_malformed)
{
	struct vr_auth a;
	cJSON *c;

	c = claims("[]");
	cJSON_AddStringToObject(c, "sid", "0b6f1c2e");
	ck_assert_int_eq(verify(c, &a), VR_JWT_CLAIMS);
	assert_empty(&a);
	c = claims("[]");
	cJSON_AddStringToObject(c, "sid", SID "0");
	ck_assert_int_eq(verify(c, &a), VR_JWT_CLAIMS);
	c = claims("[]");
	cJSON_AddNumberToObject(c, "sid", 12);
	ck_assert_int_eq(verify(c, &a), VR_JWT_CLAIMS);
	c = claims("[]");
	cJSON_AddNullToObject(c, "sid");
	ck_assert_int_eq(verify(c, &a), VR_JWT_CLAIMS);
}
END_TEST

/* What vr_jwt_verify() refuses is refused, and nothing is filled in. */
START_TEST(token_refused)
{
	struct vr_keyring other = ring;
	struct vr_auth a;
	cJSON *c;
	char *tok;

	ck_assert_int_eq(verify_at(claims("[]"), NOW + 900, &a),
	    VR_JWT_EXPIRED);
	assert_empty(&a);

	c = claims("[]");
	tok = vr_jwt_sign(&ring.sign, c);
	cJSON_Delete(c);
	ck_assert_int_eq(vr_auth_verify(&ring, ISS, "otra", roles, NROLES,
	    tok, NOW, &a), VR_JWT_AUDIENCE);
	ck_assert_int_eq(vr_auth_verify(&ring, "otro", AUD, roles, NROLES,
	    tok, NOW, &a), VR_JWT_ISSUER);
	other.sign.k[0].key[0] ^= 1;
	ck_assert_int_eq(vr_auth_verify(&other, ISS, AUD, roles, NROLES, tok,
	    NOW, &a), VR_JWT_SIGNATURE);
	assert_empty(&a);
	other.sign.n = 0;
	ck_assert_int_eq(vr_auth_verify(&other, ISS, AUD, roles, NROLES, tok,
	    NOW, &a), VR_JWT_KID);
	ck_assert_int_eq(vr_auth_verify(&ring, ISS, AUD, roles, NROLES,
	    "a.b", NOW, &a), VR_JWT_MALFORMED);
	assert_empty(&a);
	free(tok);
}
END_TEST

Suite *
auth_suite(void)
{
	Suite *s = suite_create("auth");
	TCase *tc = tcase_create("verify");

	tcase_add_checked_fixture(tc, ring_make, NULL);
	tcase_add_test(tc, caller_and_grants);
	tcase_add_test(tc, no_session_no_generation);
	tcase_add_test(tc, grants_skipped);
	tcase_add_test(tc, grants_capped);
	tcase_add_test(tc, roles_required);
	tcase_add_test(tc, generation_malformed);
	tcase_add_test(tc, session_malformed);
	tcase_add_test(tc, token_refused);
	suite_add_tcase(s, tc);
	return s;
}
