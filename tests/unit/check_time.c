/*
 * check_time.c - lib/time.c (date and RFC 3339 validation) and
 * lib/crypto.c (SHA-256).
 */
#include <check.h>
#include <string.h>

#include "tests.h"
#include "vr.h"

static const char *const good_dates[] = { "2026-12-01", "2024-02-29",
	"2000-02-29", "1900-01-01", "9999-12-31", NULL };
static const char *const bad_dates[] = { "2026-02-29", "1900-02-29",
	"2026-13-01", "2026-00-10", "2026-04-31", "2026-01-00", "1899-12-31",
	"2026-1-01", "2026/01/01", "2026-01-011", "", "abcd-ef-gh",
	"2026-01-0a", NULL };

START_TEST(dates)
{
	int i;

	for (i = 0; good_dates[i] != NULL; i++)
		ck_assert_msg(vr_date_valid(good_dates[i]), "%s refused",
		    good_dates[i]);
	for (i = 0; bad_dates[i] != NULL; i++)
		ck_assert_msg(!vr_date_valid(bad_dates[i]), "%s accepted",
		    bad_dates[i]);
}
END_TEST

static const char *const good_times[] = {
	"2026-12-01T09:00:00-05:00", "2026-12-01T09:00:00Z",
	"2026-12-01t09:00:00z", "2026-12-01T09:00:00.5+09:00",
	"2026-12-01T23:59:59.123456789-15:59", "2024-02-29T00:00:00+00:00",
	"2026-12-01T09:00:00+05:45", NULL };
static const char *const bad_times[] = {
	"2026-12-01T09:00:00", "2026-12-01 09:00:00Z",
	"2026-02-30T10:00:00-05:00", "2026-12-01T25:00:00Z",
	"2026-12-01T10:60:00Z", "2026-12-01T10:00:60Z",
	"2026-12-01T10:00:00+25:00", "2026-12-01T10:00:00+16:00",
	"2026-12-01T10:00:00+05:60", "2026-12-01T10:00:00+0500",
	"2026-12-01T10:00:00.Z", "2026-12-01T10:00:00.1234567890Z",
	"2026-12-01T10:00:00ZZ", "2026-12-01T10:00Z", "now", "epoch", "",
	"2026-12-01T1a:00:00Z", "2026-12-01T10:00:00-05:0a",
	"2026-12-01T10:00:00*05:00", "2026-12-01T10:00:00-05-00", NULL };

START_TEST(rfc3339)
{
	int i;

	for (i = 0; good_times[i] != NULL; i++)
		ck_assert_msg(vr_rfc3339_valid(good_times[i]), "%s refused",
		    good_times[i]);
	for (i = 0; bad_times[i] != NULL; i++)
		ck_assert_msg(!vr_rfc3339_valid(bad_times[i]), "%s accepted",
		    bad_times[i]);
}
END_TEST

START_TEST(sha256)
{
	char hex[65];

	vr_sha256_hex("", 0, hex);
	ck_assert_str_eq(hex, "e3b0c44298fc1c149afbf4c8996fb924"
	    "27ae41e4649b934ca495991b7852b855");
	vr_sha256_hex("abc", 3, hex);
	ck_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223"
	    "b00361a396177a9cb410ff61f20015ad");
	ck_assert_uint_eq(strlen(hex), 64);
}
END_TEST

Suite *
time_suite(void)
{
	Suite *s = suite_create("time");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, dates);
	tcase_add_test(tc, rfc3339);
	tcase_add_test(tc, sha256);
	suite_add_tcase(s, tc);
	return s;
}
