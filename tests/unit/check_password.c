/*
 * check_password.c - lib/password.c: Argon2id hashes (format, salt,
 * verification, parameters, re-hashing) and the password policy (length
 * in characters, UTF-8, the list of common passwords, the e-mail).
 *
 * A hash with the default parameters costs tens of milliseconds, so the
 * suite makes only a few; tests that need a hash but not its cost use
 * the cheap parameters below.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vr.h"
#include "tests.h"

#define GOOD		"Caballo-Bateria-Grapa-77"
#define REPO_LIST	"data/contrasenas-comunes.txt"
#define PREFIX		"$argon2id$v=19$m=19456,t=2,p=1$"

static const struct vr_kdf_params cheap = { 64, 1, 1 };

/* A hash as libargon2 writes it, for the tests that only parse. */
static const char sample[] = PREFIX "c2FsdHNhbHRzYWx0c2FsdA$"
    "6Lk0PQMzRPC1J2BbXo2Qm6hY3bF7m1Q0eOJ6RkW4l8A";

static char list_path[64];	/* this test's list of common passwords */

/* Write the test's list file, made on first use. */
static void
put_list(const char *text)
{
	FILE *f;
	int fd;

	if (list_path[0] == '\0') {
		snprintf(list_path, sizeof(list_path),
		    "/tmp/vetred-pw-XXXXXX");
		fd = mkstemp(list_path);
		ck_assert_int_ge(fd, 0);
		close(fd);
	}
	f = fopen(list_path, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(text, 1, strlen(text), f), strlen(text));
	ck_assert_int_eq(fclose(f), 0);
}

static void
list_remove(void)
{
	if (list_path[0] != '\0')
		unlink(list_path);
	list_path[0] = '\0';
}

static void
hash(const char *pw, const struct vr_kdf_params *prm, char *out)
{
	ck_assert_int_eq(vr_password_hash(pw, prm, out, VR_PASSWORD_HASH_LEN),
	    VR_OK);
}

/* ---- hashing ---------------------------------------------------------- */

START_TEST(hash_format)
{
	char a[VR_PASSWORD_HASH_LEN], b[VR_PASSWORD_HASH_LEN];
	const char *salt, *sep;

	hash(GOOD, &vr_kdf_default, a);
	hash(GOOD, &vr_kdf_default, b);
	ck_assert_msg(strncmp(a, PREFIX, strlen(PREFIX)) == 0, "%s", a);
	ck_assert_msg(strncmp(b, PREFIX, strlen(PREFIX)) == 0, "%s", b);
	ck_assert_uint_lt(strlen(a), VR_PASSWORD_HASH_LEN);
	/* 16-byte salt (22 characters), 32-byte hash (43), no padding */
	salt = a + strlen(PREFIX);
	sep = strchr(salt, '$');
	ck_assert_ptr_nonnull(sep);
	ck_assert_int_eq(sep - salt, 22);
	ck_assert_uint_eq(strlen(sep + 1), 43);
	ck_assert_ptr_null(strchr(salt, '='));
	/* a fresh salt each time: same password, another string */
	ck_assert_str_ne(a, b);
	ck_assert_int_ne(memcmp(a + strlen(PREFIX), b + strlen(PREFIX), 22), 0);
	ck_assert_int_eq(vr_password_verify(GOOD, a), VR_OK);
	ck_assert_int_eq(vr_password_verify(GOOD, b), VR_OK);
}
END_TEST

START_TEST(hash_buffer_too_small)
{
	char out[32];

	ck_assert_int_eq(vr_password_hash(GOOD, &cheap, out, sizeof(out)),
	    VR_EINVAL);
}
END_TEST

/* Parameters libargon2 refuses (memory under 8 KiB per lane, no pass). */
START_TEST(hash_bad_params)
{
	static const struct vr_kdf_params bad[] = { { 1, 1, 1 }, { 64, 0, 1 },
	    { 64, 1, 0 } };
	char out[VR_PASSWORD_HASH_LEN];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_int_eq(vr_password_hash(GOOD, &bad[i], out,
		    sizeof(out)), VR_EINVAL);
}
END_TEST

START_TEST(verify_ok_and_wrong)
{
	char h[VR_PASSWORD_HASH_LEN];

	hash("ñandú-Veterinaria-2026", &cheap, h);
	ck_assert_int_eq(vr_password_verify("ñandú-Veterinaria-2026", h),
	    VR_OK);
	ck_assert_int_eq(vr_password_verify("ñandu-Veterinaria-2026", h),
	    VR_EAUTH);
	ck_assert_int_eq(vr_password_verify("Ñandú-veterinaria-2026", h),
	    VR_EAUTH);
	ck_assert_int_eq(vr_password_verify("ñandú-Veterinaria-2026 ", h),
	    VR_EAUTH);
	ck_assert_int_eq(vr_password_verify("", h), VR_EAUTH);
}
END_TEST

/* The default parameters, as a login would check them. */
START_TEST(verify_default_params)
{
	char h[VR_PASSWORD_HASH_LEN];

	hash(GOOD, &vr_kdf_default, h);
	ck_assert_int_eq(vr_password_verify(GOOD, h), VR_OK);
	ck_assert_int_eq(vr_password_verify("caballo-bateria-grapa-77", h),
	    VR_EAUTH);
}
END_TEST

START_TEST(verify_not_argon2id)
{
	static const char *const bad[] = { "",
	    "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW",
	    "$argon2i$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$"
		"6Lk0PQMzRPC1J2BbXo2Qm6hY3bF7m1Q0eOJ6RkW4l8A",
	    "$argon2d$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$"
		"6Lk0PQMzRPC1J2BbXo2Qm6hY3bF7m1Q0eOJ6RkW4l8A",
	    "$ARGON2ID$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$"
		"6Lk0PQMzRPC1J2BbXo2Qm6hY3bF7m1Q0eOJ6RkW4l8A",
	    "argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$"
		"6Lk0PQMzRPC1J2BbXo2Qm6hY3bF7m1Q0eOJ6RkW4l8A",
	    "garbage", "$argon2id", "{SSHA}abcdef",
	    "5f4dcc3b5aa765d61d8327deb882cf99", GOOD };
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(vr_password_verify(GOOD, bad[i]) == VR_EINVAL,
		    "\"%s\" not refused as a hash", bad[i]);
}
END_TEST

/* A damaged stored hash: refused as invalid, or at least as a mismatch. */
START_TEST(verify_corrupted)
{
	char h[VR_PASSWORD_HASH_LEN], bad[VR_PASSWORD_HASH_LEN + 8];
	const char *hpart;
	size_t n, i;

	hash(GOOD, &cheap, h);
	n = strlen(h);
	hpart = strrchr(h, '$') + 1;

	/* the structure broken: invalid */
	snprintf(bad, sizeof(bad), "%.*s", (int)(hpart - h), h);
	ck_assert_int_eq(vr_password_verify(GOOD, bad), VR_EINVAL);
	snprintf(bad, sizeof(bad), "%.*s", (int)(hpart - h - 1), h);
	ck_assert_int_eq(vr_password_verify(GOOD, bad), VR_EINVAL);
	snprintf(bad, sizeof(bad), "%.20s", h);
	ck_assert_int_eq(vr_password_verify(GOOD, bad), VR_EINVAL);
	snprintf(bad, sizeof(bad), "%s!", h);		/* not base64 */
	ck_assert_int_eq(vr_password_verify(GOOD, bad), VR_EINVAL);
	snprintf(bad, sizeof(bad), "%s$x", h);
	ck_assert_int_eq(vr_password_verify(GOOD, bad), VR_EINVAL);
	memcpy(bad, h, n + 1);
	bad[n - 10] = '*';
	ck_assert_int_eq(vr_password_verify(GOOD, bad), VR_EINVAL);
	/* v=29: never a match, whether libargon2 refuses it or hashes it */
	memcpy(bad, h, n + 1);
	bad[strlen("$argon2id$v=")] = '2';
	ck_assert_int_ne(vr_password_verify(GOOD, bad), VR_OK);
	memcpy(bad, h, n + 1);
	bad[strstr(bad, ",t=") - bad + 3] = '0';	/* t=0: no pass */
	ck_assert_int_eq(vr_password_verify(GOOD, bad), VR_EINVAL);

	/* a valid encoding of other hash bytes: a mismatch */
	for (i = 0; i < 3; i++) {
		memcpy(bad, h, n + 1);
		bad[n - 20 + i] = bad[n - 20 + i] == 'A' ? 'B' : 'A';
		ck_assert_int_eq(vr_password_verify(GOOD, bad), VR_EAUTH);
	}
	ck_assert_int_eq(vr_password_verify(GOOD, h), VR_OK);
}
END_TEST

/* ---- parameters and re-hashing ---------------------------------------- */

START_TEST(params_parse)
{
	struct vr_kdf_params p = { 0, 0, 0 };

	ck_assert_int_eq(vr_password_params(sample, &p), VR_OK);
	ck_assert_uint_eq(p.m_kib, 19456);
	ck_assert_uint_eq(p.t_cost, 2);
	ck_assert_uint_eq(p.lanes, 1);
	ck_assert_int_eq(vr_password_params("$argon2id$v=19$m=65536,t=3,p=4$"
	    "c2FsdHNhbHRzYWx0c2FsdA$aGFzaA", &p), VR_OK);
	ck_assert_uint_eq(p.m_kib, 65536);
	ck_assert_uint_eq(p.t_cost, 3);
	ck_assert_uint_eq(p.lanes, 4);
}
END_TEST

START_TEST(params_of_real_hash)
{
	struct vr_kdf_params p;
	char h[VR_PASSWORD_HASH_LEN];

	hash(GOOD, &cheap, h);
	ck_assert_int_eq(vr_password_params(h, &p), VR_OK);
	ck_assert_uint_eq(p.m_kib, cheap.m_kib);
	ck_assert_uint_eq(p.t_cost, cheap.t_cost);
	ck_assert_uint_eq(p.lanes, cheap.lanes);
}
END_TEST

START_TEST(params_garbage)
{
	static const char *const bad[] = { "", "garbage", "$argon2id",
	    "$argon2id$", "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7K",
	    "$argon2i$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA",
	    "$argon2d$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA",
	    "$argon2id$v=19$m=19456,t=2$c2FsdA$aGFzaA",
	    "$argon2id$v=19$m=19456,p=1,t=2$c2FsdA$aGFzaA",
	    "$argon2id$v=19$m=19456,t=2,p=1",
	    "$argon2id$v=19$m=19456,t=2,p=1,",
	    "$argon2id$v=19$m=19456,t=2,p=1x$c2FsdA$aGFzaA",
	    "$argon2id$v=19$m=x,t=2,p=1$c2FsdA$aGFzaA",
	    "$argon2id$m=19456,t=2,p=1$c2FsdA$aGFzaA" };
	struct vr_kdf_params p = { 7, 8, 9 };
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(vr_password_params(bad[i], &p) == VR_EINVAL,
		    "\"%s\" parsed", bad[i]);
		ck_assert_uint_eq(p.m_kib, 7);	/* untouched */
		ck_assert_uint_eq(p.t_cost, 8);
		ck_assert_uint_eq(p.lanes, 9);
	}
}
END_TEST

START_TEST(needs_rehash)
{
	static const struct vr_kdf_params same = { 19456, 2, 1 },
	    more_passes = { 19456, 3, 1 }, more_memory = { 32768, 2, 1 },
	    more_lanes = { 19456, 2, 2 }, weaker = { 8192, 1, 1 };
	char h[VR_PASSWORD_HASH_LEN];

	hash(GOOD, &vr_kdf_default, h);
	ck_assert_int_eq(vr_password_needs_rehash(h, &vr_kdf_default), 0);
	ck_assert_int_eq(vr_password_needs_rehash(h, &same), 0);
	ck_assert_int_eq(vr_password_needs_rehash(h, &weaker), 0);
	ck_assert_int_eq(vr_password_needs_rehash(h, &more_passes), 1);
	ck_assert_int_eq(vr_password_needs_rehash(h, &more_memory), 1);
	ck_assert_int_eq(vr_password_needs_rehash(h, &more_lanes), 1);
	ck_assert_int_eq(vr_password_needs_rehash(sample, &same), 0);
}
END_TEST

/* Whatever is not an Argon2id hash is re-hashed at the next login. */
START_TEST(needs_rehash_not_argon2id)
{
	static const char *const other[] = { "",
	    "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW",
	    "$argon2i$v=19$m=65536,t=4,p=1$c2FsdA$aGFzaA", "garbage",
	    "5f4dcc3b5aa765d61d8327deb882cf99" };
	size_t i;

	for (i = 0; i < sizeof(other) / sizeof(other[0]); i++)
		ck_assert_msg(vr_password_needs_rehash(other[i],
		    &vr_kdf_default) == 1, "\"%s\" kept", other[i]);
}
END_TEST

/* ---- list of common passwords ----------------------------------------- */

START_TEST(common_load_temp_file)
{
	put_list("# contraseñas de prueba\n"
	    "\n"
	    "Password1234\r\n"
	    "\r\n"
	    "qwertyuiop\n"
	    "#Comentario-Largo-1\n"
	    "MiPerritoFirulais\n"
	    "CONTRASEÑA-123\n"
	    "sin-salto-final-2026");
	ck_assert_int_eq(vr_common_passwords_load(list_path), VR_OK);
	ck_assert_uint_eq(vr_common_passwords_count(), 5);

	ck_assert_ptr_nonnull(vr_password_weak("PASSWORD1234", NULL));
	ck_assert_ptr_nonnull(vr_password_weak("password1234", NULL));
	ck_assert_ptr_nonnull(vr_password_weak("Password1234", NULL));
	ck_assert_ptr_nonnull(vr_password_weak("QwErTyUiOp", NULL));
	ck_assert_ptr_nonnull(vr_password_weak("miperritofirulais", NULL));
	ck_assert_ptr_nonnull(vr_password_weak("contraseÑa-123", NULL));
	ck_assert_ptr_nonnull(vr_password_weak("SIN-SALTO-FINAL-2026", NULL));
	/* comments are not entries, and near misses are not common */
	ck_assert_ptr_null(vr_password_weak("#Comentario-Largo-1", NULL));
	ck_assert_ptr_null(vr_password_weak("Password12345", NULL));
	ck_assert_ptr_null(vr_password_weak(" Password1234", NULL));
	ck_assert_ptr_null(vr_password_weak(GOOD, NULL));
}
END_TEST

/* A later load replaces the list; a failed one keeps it. */
START_TEST(common_reload)
{
	put_list("password1234\nqwertyuiop\n");
	ck_assert_int_eq(vr_common_passwords_load(list_path), VR_OK);
	ck_assert_uint_eq(vr_common_passwords_count(), 2);
	ck_assert_int_eq(vr_common_passwords_load("/nonexistent/vetred.txt"),
	    VR_EIO);
	ck_assert_uint_eq(vr_common_passwords_count(), 2);
	ck_assert_ptr_nonnull(vr_password_weak("password1234", NULL));

	put_list("# solo una\nveterinaria\n");
	ck_assert_int_eq(vr_common_passwords_load(list_path), VR_OK);
	ck_assert_uint_eq(vr_common_passwords_count(), 1);
	ck_assert_ptr_null(vr_password_weak("password1234", NULL));
	ck_assert_ptr_nonnull(vr_password_weak("VETERINARIA", NULL));
}
END_TEST

START_TEST(common_empty_list)
{
	put_list("# nada\n\n\r\n");
	ck_assert_int_eq(vr_common_passwords_load(list_path), VR_OK);
	ck_assert_uint_eq(vr_common_passwords_count(), 0);
	ck_assert_ptr_null(vr_password_weak("password1234", NULL));
	put_list("");
	ck_assert_int_eq(vr_common_passwords_load(list_path), VR_OK);
	ck_assert_uint_eq(vr_common_passwords_count(), 0);
}
END_TEST

/* The list shipped in data/ (the tests run from the repository root). */
START_TEST(common_repository_list)
{
	if (access(REPO_LIST, R_OK) != 0)
		return;
	ck_assert_int_eq(vr_common_passwords_load(REPO_LIST), VR_OK);
	ck_assert_uint_gt(vr_common_passwords_count(), 1000);
	ck_assert_ptr_nonnull(vr_password_weak("1234567890", NULL));
	ck_assert_ptr_nonnull(vr_password_weak("PASSWORD1234", NULL));
	ck_assert_ptr_null(vr_password_weak(GOOD, NULL));
}
END_TEST

/* ---- policy ----------------------------------------------------------- */

START_TEST(weak_good)
{
	ck_assert_ptr_null(vr_password_weak(GOOD, NULL));
	ck_assert_ptr_null(vr_password_weak(GOOD, "juan.perez@vetred.pe"));
	ck_assert_ptr_null(vr_password_weak("Abcdefgh1!", NULL));
}
END_TEST

/* Length counts characters (code points), not bytes. */
START_TEST(weak_length)
{
	char pw[4 * (VR_PASSWORD_MAX + 2)];
	const char *why;
	size_t i;

	why = vr_password_weak("Corto-123", NULL);		/* 9 */
	ck_assert_ptr_nonnull(why);
	ck_assert_ptr_nonnull(strstr(why, "10"));
	ck_assert_ptr_nonnull(vr_password_weak("", NULL));
	ck_assert_ptr_null(vr_password_weak("ñañañañaña", NULL));	/* 10 */
	ck_assert_ptr_nonnull(vr_password_weak("ñañañañañ", NULL));	/* 9 */
	ck_assert_ptr_nonnull(vr_password_weak("🐶🐱🐰🐹🐭🐴🐮🐷🐸", NULL));
	ck_assert_ptr_null(vr_password_weak("🐶🐱🐰🐹🐭🐴🐮🐷🐸🐵", NULL));

	memset(pw, 'a', VR_PASSWORD_MAX);
	pw[VR_PASSWORD_MAX] = '\0';
	ck_assert_ptr_null(vr_password_weak(pw, NULL));
	pw[VR_PASSWORD_MAX] = 'a';
	pw[VR_PASSWORD_MAX + 1] = '\0';
	why = vr_password_weak(pw, NULL);
	ck_assert_ptr_nonnull(why);
	ck_assert_ptr_nonnull(strstr(why, "256"));

	/* 256 two-byte characters (512 bytes) are still 256 characters */
	for (i = 0; i < VR_PASSWORD_MAX; i++)
		memcpy(pw + 2 * i, "ñ", 2);
	pw[2 * VR_PASSWORD_MAX] = '\0';
	ck_assert_ptr_null(vr_password_weak(pw, NULL));
	memcpy(pw + 2 * VR_PASSWORD_MAX, "ñ", 3);
	ck_assert_ptr_nonnull(vr_password_weak(pw, NULL));
}
END_TEST

START_TEST(weak_invalid_utf8)
{
	static const char *const bad[] = {
	    "contraseña-\xff-larga",
	    "contrase\xf1" "a-larga-1234",		/* Latin-1 ñ */
	    "overlong-\xc0\xaf-slash",
	    "surrogate-\xed\xa0\x80-half",
	    "truncated-at-the-end-\xc3",
	    "\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80",
	    "beyond-unicode-\xf4\x90\x80\x80",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(vr_password_weak(bad[i], NULL) != NULL,
		    "invalid UTF-8 #%zu accepted", i);
	ck_assert_ptr_nonnull(strstr(vr_password_weak(bad[0], NULL),
	    "UTF-8"));
}
END_TEST

/* The e-mail's local part, in any case, is not a password. */
START_TEST(weak_email_local_part)
{
	static const char email[] = "juan.perez.vet@clinica.pe";

	ck_assert_ptr_nonnull(vr_password_weak("juan.perez.vet", email));
	ck_assert_ptr_nonnull(vr_password_weak("Juan.Perez.Vet", email));
	ck_assert_ptr_nonnull(vr_password_weak("JUAN.PEREZ.VET", email));
	ck_assert_ptr_null(vr_password_weak("juan.perez.vet1", email));
	ck_assert_ptr_null(vr_password_weak("juan.perez.ve", email));
	ck_assert_ptr_null(vr_password_weak("juan.perez.vet", NULL));
	ck_assert_ptr_null(vr_password_weak("juan.perez.vet",
	    "maria.lopez.vet@clinica.pe"));
	ck_assert_ptr_null(vr_password_weak("juan.perez.vet",
	    "sin-arroba"));
	/* a short local part cannot match a 10-character password */
	ck_assert_ptr_null(vr_password_weak("Caballo-Azul-99", "ana@x.pe"));
}
END_TEST

Suite *
password_suite(void)
{
	Suite *s = suite_create("password");
	TCase *tc;

	tc = tcase_create("hash");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, hash_format);
	tcase_add_test(tc, hash_buffer_too_small);
	tcase_add_test(tc, hash_bad_params);
	tcase_add_test(tc, verify_ok_and_wrong);
	tcase_add_test(tc, verify_default_params);
	tcase_add_test(tc, verify_not_argon2id);
	tcase_add_test(tc, verify_corrupted);
	suite_add_tcase(s, tc);

	tc = tcase_create("params");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, params_parse);
	tcase_add_test(tc, params_of_real_hash);
	tcase_add_test(tc, params_garbage);
	tcase_add_test(tc, needs_rehash);
	tcase_add_test(tc, needs_rehash_not_argon2id);
	suite_add_tcase(s, tc);

	tc = tcase_create("common");
	tcase_add_checked_fixture(tc, NULL, list_remove);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, common_load_temp_file);
	tcase_add_test(tc, common_reload);
	tcase_add_test(tc, common_empty_list);
	tcase_add_test(tc, common_repository_list);
	suite_add_tcase(s, tc);

	tc = tcase_create("policy");
	tcase_add_test(tc, weak_good);
	tcase_add_test(tc, weak_length);
	tcase_add_test(tc, weak_invalid_utf8);
	tcase_add_test(tc, weak_email_local_part);
	suite_add_tcase(s, tc);
	return s;
}
