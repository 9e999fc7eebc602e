/*
 * check_err.c - lib/err.c: every VR_E* code has its own name, anything
 * else is "unknown error".
 */
#include <limits.h>
#include <string.h>

#include "vr.h"
#include "tests.h"

START_TEST(strerror_names_every_code)
{
	int e, f;

	ck_assert_str_eq(vr_strerror(VR_OK), "success");
	for (e = VR_OK; e > VR_E__MIN; e--) {
		ck_assert_ptr_nonnull(vr_strerror(e));
		ck_assert_msg(strcmp(vr_strerror(e), "unknown error") != 0,
		    "code %d has no name", e);
		for (f = e - 1; f > VR_E__MIN; f--)
			ck_assert_msg(strcmp(vr_strerror(e), vr_strerror(f)),
			    "codes %d and %d share the name \"%s\"", e, f,
			    vr_strerror(e));
	}
	ck_assert_str_eq(vr_strerror(VR_EINVAL), "invalid input");
	ck_assert_str_eq(vr_strerror(VR_ETIMEOUT), "timed out");
}
END_TEST

START_TEST(strerror_unknown_codes)
{
	static const int bad[] = { 1, 2, 100, INT_MAX, VR_E__MIN,
	    VR_E__MIN - 1, -1000, INT_MIN };
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_str_eq(vr_strerror(bad[i]), "unknown error");
}
END_TEST

Suite *
err_suite(void)
{
	Suite *s = suite_create("err");
	TCase *tc = tcase_create("strerror");

	tcase_add_test(tc, strerror_names_every_code);
	tcase_add_test(tc, strerror_unknown_codes);
	suite_add_tcase(s, tc);
	return s;
}
