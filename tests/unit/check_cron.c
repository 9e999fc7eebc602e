/*
 * check_cron.c - lib/cron.c: the parser (fields, lists, ranges, steps,
 * names, macros, and the refusals an operator sees as a 422), the next
 * run against a minute-by-minute reference, and a fuzz of both: random
 * bytes never crash the parser, random valid schedules always parse and
 * find the run the reference finds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vr.h"
#include "tests.h"

static int
next_of(const char *expr, const char *after, char out[VR_CIVIL_LEN])
{
	struct vr_cron c;
	struct vr_civil a, n;
	char err[128];
	int rc;

	ck_assert_msg(vr_cron_parse(expr, &c, err, sizeof(err)) == 0,
	    "%s: %s", expr, err);
	ck_assert_int_eq(vr_civil_parse(after, &a), 0);
	if ((rc = vr_cron_next(&c, &a, &n)) == 0)
		vr_civil_format(&n, out);
	return rc;
}

static void
expect(const char *expr, const char *after, const char *want)
{
	char got[VR_CIVIL_LEN];

	ck_assert_int_eq(next_of(expr, after, got), 0);
	ck_assert_msg(strcmp(got, want) == 0, "%s after %s: %s, not %s", expr,
	    after, got, want);
}

START_TEST(next_runs)
{
	expect("* * * * *", "2026-12-07 02:13", "2026-12-07 02:14");
	expect("*/5 * * * *", "2026-12-07 02:13", "2026-12-07 02:15");
	expect("*/5 * * * *", "2026-12-07 02:15", "2026-12-07 02:20");
	expect("0 * * * *", "2026-12-07 23:59", "2026-12-08 00:00");
	expect("30 2 * * *", "2026-12-07 02:30", "2026-12-08 02:30");
	expect("0 0 1 1 *", "2026-12-31 23:59", "2027-01-01 00:00");
	expect("@daily", "2026-12-07 00:00", "2026-12-08 00:00");
	expect("@hourly", "2026-12-07 10:00", "2026-12-07 11:00");
	expect("@weekly", "2026-12-07 10:00", "2026-12-13 00:00");	/* Sunday */
	expect("@monthly", "2026-12-07 10:00", "2027-01-01 00:00");
	expect("@yearly", "2026-12-07 10:00", "2027-01-01 00:00");
	expect("0 9 * * mon-fri", "2026-12-11 09:00", "2026-12-14 09:00");
	expect("0 9 * * 1-5", "2026-12-12 08:00", "2026-12-14 09:00");
	expect("0 0 * * 7", "2026-12-07 00:00", "2026-12-13 00:00");	/* 7: Sunday */
	expect("0 0 * * SUN", "2026-12-07 00:00", "2026-12-13 00:00");
	expect("15,45 8-10 * * *", "2026-12-07 10:45", "2026-12-08 08:15");
	expect("10-50/20 * * * *", "2026-12-07 10:31", "2026-12-07 10:50");
	expect("0 0 29 2 *", "2026-03-01 00:00", "2028-02-29 00:00");	/* leap */
	expect("0 0 31 * *", "2026-04-01 00:00", "2026-05-31 00:00");
	expect("0 12 * jun,DEC *", "2026-07-01 00:00", "2026-12-01 12:00");
	/* Day of the month or of the week when both are restricted. */
	expect("0 0 13 * 5", "2026-12-07 00:00", "2026-12-11 00:00");
	expect("0 0 13 * 5", "2026-12-11 00:00", "2026-12-13 00:00");
	/* Blanks around and between fields. */
	expect("  0\t3  * * *  ", "2026-12-07 02:13", "2026-12-07 03:00");
}
END_TEST

START_TEST(never)
{
	char got[VR_CIVIL_LEN];

	ck_assert_int_eq(next_of("0 0 30 2 *", "2026-01-01 00:00", got),
	    VR_ENOTFOUND);
	ck_assert_int_eq(next_of("0 0 31 4,6,9,11 *", "2026-01-01 00:00", got),
	    VR_ENOTFOUND);
}
END_TEST

START_TEST(refusals)
{
	static const char *const bad[] = {
		"", "   ", "* * * *", "* * * * * *", "60 * * * *", "* 24 * * *",
		"* * 0 * *", "* * 32 * *", "* * * 13 *", "* * * 0 *",
		"* * * * 8", "5-1 * * * *", "*/0 * * * *", "*/61 * * * *",
		"1- * * * *", "-1 * * * *", "1,,2 * * * *", "1, * * * *",
		",1 * * * *", "a * * * *", "* * * foo *", "* * * * funday",
		"*-5 * * * *", "1/ * * * *", "** * * * *", "@often",
		"@daily *", "1.5 * * * *", "99999999999 * * * *",
		"* * * janx *", "\xff * * * *",
	};
	struct vr_cron c;
	char err[128], big[300];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		ck_assert_msg(vr_cron_parse(bad[i], &c, err, sizeof(err)) ==
		    VR_EINVAL, "accepted: \"%s\"", bad[i]);
		ck_assert_msg(err[0] != '\0', "no reason for \"%s\"", bad[i]);
	}
	ck_assert_int_eq(vr_cron_parse(NULL, &c, err, sizeof(err)), VR_EINVAL);
	memset(big, '1', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ck_assert_int_eq(vr_cron_parse(big, &c, err, sizeof(err)), VR_EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "larga"));
	ck_assert_int_eq(vr_cron_parse("61 * * * *", &c, NULL, 0), VR_EINVAL);
	ck_assert_int_eq(vr_cron_parse("61 * * * *", &c, err, sizeof(err)),
	    VR_EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "minuto"));
}
END_TEST

START_TEST(civil_times)
{
	struct vr_civil t;
	char out[VR_CIVIL_LEN];
	struct vr_cron c;

	ck_assert_int_eq(vr_civil_parse("2026-12-07 02:13", &t), 0);
	vr_civil_format(&t, out);
	ck_assert_str_eq(out, "2026-12-07 02:13");
	ck_assert_int_eq(vr_civil_parse("2026-02-29 00:00", &t), VR_EINVAL);
	ck_assert_int_eq(vr_civil_parse("2028-02-29 00:00", &t), 0);
	ck_assert_int_eq(vr_civil_parse("2026-12-07 24:00", &t), VR_EINVAL);
	ck_assert_int_eq(vr_civil_parse("2026-12-07T02:13", &t), VR_EINVAL);
	ck_assert_int_eq(vr_civil_parse("2026-12-07 02:13:00", &t), VR_EINVAL);
	ck_assert_int_eq(vr_civil_parse("1969-12-31 23:59", &t), VR_EINVAL);
	ck_assert_int_eq(vr_civil_parse(NULL, &t), VR_EINVAL);
	ck_assert_int_eq(vr_cron_parse("* * * * *", &c, NULL, 0), 0);
	t.mon = 13;
	ck_assert_int_eq(vr_cron_next(&c, &t, &t), VR_EINVAL);
}
END_TEST

/* ---- the reference: one minute at a time, each field on its own ---- */

static int
ref_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
ref_mdays(int y, int m)
{
	static const int d[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	return m == 2 && ref_leap(y) ? 29 : d[m - 1];
}

/* Zeller's congruence: 0 Sunday. */
static int
ref_wday(int y, int m, int d)
{
	int k, j, h;

	if (m < 3) {
		m += 12;
		y--;
	}
	k = y % 100;
	j = y / 100;
	h = (d + 13 * (m + 1) / 5 + k + k / 4 + j / 4 + 5 * j) % 7;
	return (h + 6) % 7;
}

/* The set of one field as a list of allowed values, from its items. */
struct ref_field {
	int	ok[64];
	int	star;
};

static int
ref_match(const struct ref_field f[5], const struct vr_civil *t)
{
	int dom = f[2].ok[t->day], dow = f[4].ok[ref_wday(t->year, t->mon,
	    t->day)] || (ref_wday(t->year, t->mon, t->day) == 0 && f[4].ok[7]);
	int day = (!f[2].star && !f[4].star) ? (dom || dow) : (dom && dow);

	return f[0].ok[t->min] && f[1].ok[t->hour] && f[3].ok[t->mon] && day;
}

static void
ref_step(struct vr_civil *t)
{
	if (++t->min < 60)
		return;
	t->min = 0;
	if (++t->hour < 24)
		return;
	t->hour = 0;
	if (++t->day <= ref_mdays(t->year, t->mon))
		return;
	t->day = 1;
	if (++t->mon <= 12)
		return;
	t->mon = 1;
	t->year++;
}

/* A random valid field for f (bounds lo..hi), written to out. */
static void
rand_field(unsigned *seed, int lo, int hi, struct ref_field *rf, char *out,
    size_t n)
{
	int items = 1 + rand_r(seed) % 3, i, a, b, step, v;
	size_t o = 0;

	memset(rf, 0, sizeof(*rf));
	if (rand_r(seed) % 3 == 0) {
		step = rand_r(seed) % 4 == 0 ? 1 + rand_r(seed) % (hi - lo + 1) : 1;
		if (step > 1)
			snprintf(out, n, "*/%d", step);
		else
			snprintf(out, n, "*");
		rf->star = step == 1;
		for (v = lo; v <= hi; v += step)
			rf->ok[v] = 1;
		return;
	}
	for (i = 0; i < items; i++) {
		a = lo + rand_r(seed) % (hi - lo + 1);
		b = rand_r(seed) % 2 ? a : a + rand_r(seed) % (hi - a + 1);
		step = rand_r(seed) % 3 == 0 ? 1 + rand_r(seed) % 5 : 1;
		if (a == b)
			o += (size_t)snprintf(out + o, n - o, "%s%d", i ? "," : "", a);
		else
			o += (size_t)snprintf(out + o, n - o, "%s%d-%d", i ? "," : "",
			    a, b);
		if (step > 1 || (a != b && rand_r(seed) % 4 == 0))
			o += (size_t)snprintf(out + o, n - o, "/%d", step);
		for (v = a; v <= b; v += step)
			rf->ok[v] = 1;
	}
}

/*
 * 600 random schedules, each from a random minute of 2026-2028: the next
 * run is the reference's (searched up to 400 days ahead; a schedule whose
 * reference finds none there is only checked to be later than after).
 */
START_TEST(next_matches_reference)
{
	static const int lo[5] = { 0, 0, 1, 1, 0 }, hi[5] = { 59, 23, 31, 12, 7 };
	unsigned seed = 20261207;
	struct ref_field rf[5];
	struct vr_civil after, got, t;
	struct vr_cron c;
	char expr[200], part[64], err[128];
	int i, f, k, found;
	long steps;

	for (i = 0; i < 600; i++) {
		expr[0] = '\0';
		for (f = 0; f < 5; f++) {
			rand_field(&seed, lo[f], hi[f], &rf[f], part, sizeof(part));
			strncat(expr, part, sizeof(expr) - strlen(expr) - 2);
			if (f < 4)
				strcat(expr, " ");
		}
		ck_assert_msg(vr_cron_parse(expr, &c, err, sizeof(err)) == 0,
		    "%s: %s", expr, err);
		after.year = 2026 + rand_r(&seed) % 3;
		after.mon = 1 + rand_r(&seed) % 12;
		after.day = 1 + rand_r(&seed) % ref_mdays(after.year, after.mon);
		after.hour = rand_r(&seed) % 24;
		after.min = rand_r(&seed) % 60;
		t = after;
		found = 0;
		for (steps = 0; steps < 400L * 24 * 60; steps++) {
			ref_step(&t);
			if (ref_match(rf, &t)) {
				found = 1;
				break;
			}
		}
		k = vr_cron_next(&c, &after, &got);
		if (found) {
			ck_assert_msg(k == 0 && memcmp(&got, &t, sizeof(t)) == 0,
			    "%s after %04d-%02d-%02d %02d:%02d: got %d "
			    "%04d-%02d-%02d %02d:%02d, reference %04d-%02d-%02d "
			    "%02d:%02d", expr, after.year, after.mon, after.day,
			    after.hour, after.min, k, got.year, got.mon, got.day,
			    got.hour, got.min, t.year, t.mon, t.day, t.hour, t.min);
		} else if (k == 0) {
			ck_assert(got.year > after.year || (got.year == after.year &&
			    (got.mon > after.mon || (got.mon == after.mon &&
			    got.day > after.day))));
		}
	}
}
END_TEST

/*
 * Fuzz: 200,000 strings, half random over the alphabet of schedules and
 * bytes beyond it, half valid schedules with 1-3 random edits (a byte
 * replaced, inserted or removed); the parser answers 0 or VR_EINVAL with
 * a reason, never anything else, and what it accepts has a next run or
 * none (no hang).  Under the sanitizer build (make test) a read out of
 * bounds fails it.
 */
START_TEST(fuzz_parser)
{
	static const char alpha[] = "0123456789*/-, \t@abcdefghijklmnopqrstuvwxyz"
	    "JANFEBMONSUN";
	static const char *const seeds[] = { "*/5 * * * *", "0 9 * * mon-fri",
	    "@daily", "15,45 8-10 1 jan *", "0 0 13 * 5", "10-50/20 * * * 0-7" };
	struct vr_cron c;
	struct vr_civil a = { 2026, 12, 7, 2, 13 }, n;
	unsigned seed = 7;
	char s[80], err[128];
	int i, j, k, len, rc, pos, accepted = 0, refused = 0;

	for (i = 0; i < 200000; i++) {
		if (i % 2 == 0) {
			len = rand_r(&seed) % 40;
			for (j = 0; j < len; j++)
				s[j] = rand_r(&seed) % 16 == 0 ?
				    (char)(1 + rand_r(&seed) % 255) :
				    alpha[rand_r(&seed) % (sizeof(alpha) - 1)];
			s[len] = '\0';
		} else {
			snprintf(s, sizeof(s), "%s",
			    seeds[rand_r(&seed) % (sizeof(seeds) / sizeof(seeds[0]))]);
			for (k = 1 + rand_r(&seed) % 3; k > 0; k--) {
				len = (int)strlen(s);
				pos = len > 0 ? rand_r(&seed) % len : 0;
				switch (rand_r(&seed) % 3) {
				case 0:
					if (len > 0)
						s[pos] = alpha[rand_r(&seed) %
						    (sizeof(alpha) - 1)];
					break;
				case 1:
					if (len < 70) {
						memmove(s + pos + 1, s + pos,
						    (size_t)(len - pos + 1));
						s[pos] = alpha[rand_r(&seed) %
						    (sizeof(alpha) - 1)];
					}
					break;
				default:
					if (len > 0)
						memmove(s + pos, s + pos + 1,
						    (size_t)(len - pos));
				}
			}
		}
		err[0] = '\0';
		rc = vr_cron_parse(s, &c, err, sizeof(err));
		ck_assert_msg(rc == 0 || (rc == VR_EINVAL && err[0] != '\0'),
		    "\"%s\": %d", s, rc);
		if (rc == 0) {
			accepted++;
			rc = vr_cron_next(&c, &a, &n);
			ck_assert(rc == 0 || rc == VR_ENOTFOUND);
			if (rc == 0)
				ck_assert(vr_civil_valid(&n));
		} else
			refused++;
	}
	/* Both sides of the parser were reached. */
	ck_assert_int_gt(accepted, 1000);
	ck_assert_int_gt(refused, 1000);
}
END_TEST

Suite *
cron_suite(void)
{
	Suite *s = suite_create("cron");
	TCase *tc = tcase_create("cron");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, next_runs);
	tcase_add_test(tc, never);
	tcase_add_test(tc, refusals);
	tcase_add_test(tc, civil_times);
	tcase_add_test(tc, next_matches_reference);
	tcase_add_test(tc, fuzz_parser);
	suite_add_tcase(s, tc);
	return s;
}
