/*
 * check_valid.c - lib/valid.c: Peruvian phone numbers and site codes.
 *
 * Phones follow the numbering plan the rest of the platform states
 * (db/migrations/0001: "+51 and 8 digits (landline with area code) or 9
 * (mobile)"; openapi.json: ^\+51(9[0-9]{8}|[1-8][0-9]{7})$): mobiles are
 * 9 followed by 8 digits, landlines an area code 1-8 and 7 more digits.
 */
#include "vr.h"
#include "tests.h"

START_TEST(phone_mobile_valid)
{
	static const char *const ok[] = { "+51987654321", "+51900000000",
	    "+51999999999", "+51944123456" };
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		ck_assert_msg(vr_valid_phone_pe(ok[i]) == 1, "\"%s\" refused",
		    ok[i]);
}
END_TEST

/* Landlines: 8 digits after +51 (Lima +51 1 4451234, as in db/seed). */
START_TEST(phone_landline_valid)
{
	static const char *const ok[] = { "+5114451234", "+5154256789",
	    "+5184234567", "+5114445566" };
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		ck_assert_msg(vr_valid_phone_pe(ok[i]) == 1,
		    "landline \"%s\" refused", ok[i]);
}
END_TEST

START_TEST(phone_landline_nine_digits_invalid)
{
	static const char *const bad[] = { "+51123456789", "+51812345678" };
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(vr_valid_phone_pe(bad[i]) == 0,
		    "\"%s\" (9 digits not starting with 9) accepted", bad[i]);
}
END_TEST

START_TEST(phone_invalid)
{
	static const char *const bad[] = { "", "+51", "51987654321",
	    "987654321", "+5198765432", "+519876543210", "+51087654321",
	    "+52987654321", "+51 987654321", "+51-987654321",
	    "+5198765432a", "+51９87654321", "++51987654321",
	    "+51987654321 ", " +51987654321", "+5101234567",
	    "+51912345678\n" };
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(vr_valid_phone_pe(bad[i]) == 0,
		    "\"%s\" accepted", bad[i]);
}
END_TEST

START_TEST(site_code_valid)
{
	static const char *const ok[] = { "LIM-01", "AQP-01", "CUS-99",
	    "LIM-001", "ZZZ-00", "AAA-999" };
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		ck_assert_msg(vr_valid_site_code(ok[i]) == 1,
		    "\"%s\" refused", ok[i]);
}
END_TEST

START_TEST(site_code_invalid)
{
	static const char *const bad[] = { "", "L", "LIM", "LIM-", "LIM-1",
	    "LIM-0001", "lim-01", "Lim-01", "LI-01", "LIMA-01", "LIM_01",
	    "LIM 01", "LIM-0A", "LIM-A1", "1IM-01", "ÑUÑ-01", "LIM-01 ",
	    " LIM-01", "LIM--01", "LIM-01\n", "LIM-１２" };
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(vr_valid_site_code(bad[i]) == 0,
		    "\"%s\" accepted", bad[i]);
}
END_TEST

Suite *
valid_suite(void)
{
	Suite *s = suite_create("valid");
	TCase *tc;

	tc = tcase_create("phone_pe");
	tcase_add_test(tc, phone_mobile_valid);
	tcase_add_test(tc, phone_landline_valid);
	tcase_add_test(tc, phone_landline_nine_digits_invalid);
	tcase_add_test(tc, phone_invalid);
	suite_add_tcase(s, tc);

	tc = tcase_create("site_code");
	tcase_add_test(tc, site_code_valid);
	tcase_add_test(tc, site_code_invalid);
	suite_add_tcase(s, tc);
	return s;
}
