/*
 * time.c - strict validation of dates and times from outside.
 *
 * PostgreSQL accepts far more than RFC 3339 ("now", "epoch", "today",
 * two-digit years, …), so input is checked here first and only then
 * handed to the database as text.
 */
#include <ctype.h>
#include <string.h>

#include "vr.h"

static int
digits(const char *s, int n, int *out)
{
	int i, v = 0;

	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return 0;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 1;
}

static int
leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
days_in_month(int y, int m)
{
	static const int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31 };

	return m == 2 && leap(y) ? 29 : days[m - 1];
}

/* YYYY-MM-DD, a real calendar day, years 1900-9999. */
int
vr_date_valid(const char *s)
{
	int y, m, d;

	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return 0;
	if (!digits(s, 4, &y) || !digits(s + 5, 2, &m) ||
	    !digits(s + 8, 2, &d))
		return 0;
	return y >= 1900 && m >= 1 && m <= 12 && d >= 1 &&
	    d <= days_in_month(y, m);
}

/*
 * RFC 3339 date-time with a mandatory offset:
 *   YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)
 * No leap second (PostgreSQL has none either), and offsets up to 15:59
 * either way: the widest PostgreSQL reads (real zones stay within 14:00).
 */
int
vr_rfc3339_valid(const char *s)
{
	int h, mi, se, oh, om;
	size_t n = strlen(s), i = 19;

	if (n < 20 || n > 40)
		return 0;
	{
		char date[11];

		memcpy(date, s, 10);
		date[10] = '\0';
		if (!vr_date_valid(date))
			return 0;
	}
	if ((s[10] != 'T' && s[10] != 't') || s[13] != ':' || s[16] != ':')
		return 0;
	if (!digits(s + 11, 2, &h) || !digits(s + 14, 2, &mi) ||
	    !digits(s + 17, 2, &se) || h > 23 || mi > 59 || se > 59)
		return 0;
	if (s[i] == '.') {
		size_t f = ++i;

		while (i < n && isdigit((unsigned char)s[i]))
			i++;
		if (i == f || i - f > 9)
			return 0;
	}
	if (i + 1 == n && (s[i] == 'Z' || s[i] == 'z'))
		return 1;
	if (n - i != 6 || (s[i] != '+' && s[i] != '-') || s[i + 3] != ':')
		return 0;
	return digits(s + i + 1, 2, &oh) && digits(s + i + 4, 2, &om) &&
	    oh <= 15 && om <= 59;
}
