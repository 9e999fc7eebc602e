/*
 * check_keyring.c - lib/keyring.c: one loader for the signing, column and
 * search keys, each role loaded only when asked for, each refused with
 * the variable to set.
 *
 * Each test gets its own directory (/tmp/vetred-keyring-XXXXXX) for its
 * key files, made and removed by a checked fixture.
 */
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "vr.h"
#include "tests.h"

static char dir[64];
static char spec_sign[256], spec_seal[256], spec_search[256];

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* A key file of n random bytes (standard base64); *spec = "kid=path". */
static void
put_key(const char *kid, size_t n, char *spec, size_t speclen)
{
	unsigned char key[64];
	char text[4 * (sizeof(key) / 3 + 1) + 2], path[128];
	int fd, len;

	ck_assert_uint_le(n, sizeof(key));
	ck_assert_int_eq(RAND_bytes(key, (int)n), 1);
	len = EVP_EncodeBlock((unsigned char *)text, key, (int)n);
	text[len++] = '\n';
	snprintf(path, sizeof(path), "%s/%s.key", dir, kid);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, (size_t)len), len);
	close(fd);
	snprintf(spec, speclen, "%s=%s", kid, path);
}

static void
dir_make(void)
{
	snprintf(dir, sizeof(dir), "/tmp/vetred-keyring-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	put_key("t1", 48, spec_sign, sizeof(spec_sign));
	put_key("d1", 32, spec_seal, sizeof(spec_seal));
	put_key("s1", 32, spec_search, sizeof(spec_search));
}

static void
dir_remove(void)
{
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static struct vr_config
cfg_of(const char *sign, const char *seal, const char *search)
{
	struct vr_config c;

	memset(&c, 0, sizeof(c));
	c.jwt_keys = sign;
	c.data_keys = seal;
	c.search_key = search;
	return c;
}

START_TEST(load_all)
{
	struct vr_config c = cfg_of(spec_sign, spec_seal, spec_search);
	struct vr_keyring kr;
	char err[256] = "";

	ck_assert_msg(vr_keyring_load(&kr, VR_KEYS_ALL, &c, err, sizeof(err))
	    == VR_OK, "%s", err);
	ck_assert_int_eq(kr.sign.n, 1);
	ck_assert_str_eq(kr.sign.k[0].kid, "t1");
	ck_assert_uint_eq(kr.sign.k[0].len, 48);
	ck_assert_int_eq(kr.seal.n, 1);
	ck_assert_str_eq(kr.seal.k[0].kid, "d1");
	ck_assert_uint_eq(kr.seal.k[0].len, 32);
	ck_assert_int_eq(kr.search.n, 1);
	ck_assert_str_eq(kr.search.k[0].kid, "s1");
}
END_TEST

/* A role not asked for is neither read nor checked, and stays empty. */
START_TEST(load_only_roles_asked)
{
	struct vr_config c = cfg_of("", spec_seal, spec_search);
	struct vr_keyring kr;
	char err[256] = "";

	ck_assert_msg(vr_keyring_load(&kr, VR_KEYS_SEAL | VR_KEYS_SEARCH, &c,
	    err, sizeof(err)) == VR_OK, "%s", err);
	ck_assert_int_eq(kr.sign.n, 0);
	ck_assert_int_eq(kr.seal.n, 1);
	ck_assert_int_eq(kr.search.n, 1);

	c = cfg_of(spec_sign, NULL, "nonsense");
	ck_assert_int_eq(vr_keyring_load(&kr, VR_KEYS_SIGN, &c, err,
	    sizeof(err)), VR_OK);
	ck_assert_int_eq(kr.sign.n, 1);
	ck_assert_int_eq(kr.seal.n, 0);
	ck_assert_int_eq(kr.search.n, 0);
}
END_TEST

static void
refused(struct vr_config c, const char *want)
{
	struct vr_keyring kr;
	char err[256] = "";

	ck_assert_int_eq(vr_keyring_load(&kr, VR_KEYS_ALL, &c, err,
	    sizeof(err)), VR_ECONFIG);
	ck_assert_msg(strstr(err, want) != NULL, "\"%s\" lacks \"%s\"", err,
	    want);
}

START_TEST(unset_names_the_variable)
{
	refused(cfg_of("", spec_seal, spec_search),
	    "VETRED_JWT_KEYS is not set");
	refused(cfg_of(spec_sign, "", spec_search),
	    "VETRED_DATA_KEYS is not set: give kid=path of at least one "
	    "32-byte column key file");
	refused(cfg_of(spec_sign, NULL, spec_search),
	    "VETRED_DATA_KEYS is not set");
	refused(cfg_of(spec_sign, spec_seal, ""),
	    "VETRED_SEARCH_KEY is not set: give kid=path of the search key "
	    "file");
	refused(cfg_of(spec_sign, spec_seal, NULL),
	    "VETRED_SEARCH_KEY is not set");
}
END_TEST

/* Column keys are AES-256 keys: exactly 32 bytes, unlike token keys. */
START_TEST(column_key_length)
{
	refused(cfg_of(spec_sign, spec_sign, spec_search),
	    "data key t1 must be exactly 32 bytes");
	refused(cfg_of(spec_sign, spec_seal, "s2=/nonexistent/key"),
	    "cannot open key file /nonexistent/key");
}
END_TEST

Suite *
keyring_suite(void)
{
	Suite *s = suite_create("keyring");
	TCase *tc = tcase_create("load");

	tcase_add_checked_fixture(tc, dir_make, dir_remove);
	tcase_add_test(tc, load_all);
	tcase_add_test(tc, load_only_roles_asked);
	tcase_add_test(tc, unset_names_the_variable);
	tcase_add_test(tc, column_key_length);
	suite_add_tcase(s, tc);
	return s;
}
