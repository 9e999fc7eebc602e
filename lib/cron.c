/*
 * cron.c - schedules in cron syntax, for the periodic jobs (the scheduler
 * fires them, the API validates a schedule an operator sets).
 *
 * Five fields, separated by blanks: minute (0-59), hour (0-23), day of
 * the month (1-31), month (1-12 or jan-dec), day of the week (0-7 or
 * sun-sat; 0 and 7 are Sunday).  Each is a comma-separated list of
 * items: "*", a number, a range "a-b", any of them with a step "/n"
 * ("*" + "/15": every 15 minutes; "10-50/20": 10, 30, 50).  Or one of
 * the macros @yearly (@annually), @monthly, @weekly, @daily (@midnight),
 * @hourly.  As in Vixie cron, when both the day of the month and the day
 * of the week are restricted (neither is "*"), a day matching either
 * matches.
 *
 * Times are civil (wall-clock) times of the job's zone: the caller turns
 * an instant into the zone's civil time and back (PostgreSQL's AT TIME
 * ZONE does both, with the zone database), so this file knows no zone.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vr.h"

#define CRON_MAX_LEN	200
#define CRON_MAX_YEARS	5	/* no match within this: none at all */

enum { F_MIN, F_HOUR, F_DOM, F_MON, F_DOW, F__MAX };

static const struct {
	const char	*name;
	int		 lo, hi;
} fields[F__MAX] = {
	{ "minuto", 0, 59 },
	{ "hora", 0, 23 },
	{ "día del mes", 1, 31 },
	{ "mes", 1, 12 },
	{ "día de la semana", 0, 7 },
};

static const char *const months[12] = { "jan", "feb", "mar", "apr", "may",
	"jun", "jul", "aug", "sep", "oct", "nov", "dec" };
static const char *const days[7] = { "sun", "mon", "tue", "wed", "thu",
	"fri", "sat" };

static const struct {
	const char	*macro;
	const char	*expr;
} macros[] = {
	{ "@yearly", "0 0 1 1 *" }, { "@annually", "0 0 1 1 *" },
	{ "@monthly", "0 0 1 * *" }, { "@weekly", "0 0 * * 0" },
	{ "@daily", "0 0 * * *" }, { "@midnight", "0 0 * * *" },
	{ "@hourly", "0 * * * *" },
};

static int
fail(char *err, size_t errlen, const char *fmt, const char *what)
{
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, fmt, what);
	return VR_EINVAL;
}

/* A number or (months, days of the week) a name, at *p; -1 if neither. */
static int
value(const char **p, int f)
{
	const char *s = *p;
	long v;
	int i;

	if (isdigit((unsigned char)*s)) {
		for (v = 0; isdigit((unsigned char)*s) && v < 1000; s++)
			v = v * 10 + (*s - '0');
		if (isdigit((unsigned char)*s))
			return -1;
		*p = s;
		return (int)v;
	}
	if (f != F_MON && f != F_DOW)
		return -1;
	for (i = 0; i < (f == F_MON ? 12 : 7); i++) {
		const char *n = f == F_MON ? months[i] : days[i];

		if (strncasecmp(s, n, 3) == 0 && !isalpha((unsigned char)s[3])) {
			*p = s + 3;
			return f == F_MON ? i + 1 : i;
		}
	}
	return -1;
}

/* One field (NUL-terminated), into the bits of *set. */
static int
field(const char *s, int f, uint64_t *set, int *any, char *err, size_t errlen)
{
	const char *name = fields[f].name;
	int lo = fields[f].lo, hi = fields[f].hi, a, b, step, v;

	*set = 0;
	*any = strcmp(s, "*") == 0;
	for (;;) {
		if (*s == '*') {
			a = lo;
			b = hi;
			s++;
		} else {
			if ((a = value(&s, f)) < 0)
				return fail(err, errlen, "%s: se espera un número, "
				    "un rango o *", name);
			b = a;
			if (*s == '-') {
				s++;
				if ((b = value(&s, f)) < 0)
					return fail(err, errlen, "%s: rango "
					    "incompleto", name);
			}
			if (a < lo || b > hi || a > hi || b < lo)
				return fail(err, errlen, "%s: fuera de rango",
				    name);
			if (a > b)
				return fail(err, errlen, "%s: rango invertido",
				    name);
		}
		step = 1;
		if (*s == '/') {
			s++;
			if (!isdigit((unsigned char)*s) ||
			    (step = value(&s, F_MIN)) < 1 || step > hi - lo + 1)
				return fail(err, errlen, "%s: paso inválido", name);
		}
		for (v = a; v <= b; v += step)
			*set |= (uint64_t)1 << (f == F_DOW && v == 7 ? 0 : v);
		if (*s == '\0')
			return 0;
		if (*s != ',')
			return fail(err, errlen, "%s: carácter inesperado", name);
		s++;
	}
}

int
vr_cron_parse(const char *expr, struct vr_cron *out, char *err, size_t errlen)
{
	char buf[CRON_MAX_LEN + 1], *tok[F__MAX + 1], *p;
	uint64_t set[F__MAX];
	int any[F__MAX], n = 0, f, rc;
	size_t i, len;

	memset(out, 0, sizeof(*out));
	if (expr == NULL || (len = strlen(expr)) == 0)
		return fail(err, errlen, "%s", "la expresión está vacía");
	if (len > CRON_MAX_LEN)
		return fail(err, errlen, "%s", "la expresión es demasiado larga");
	if (!vr_utf8_valid(expr, len))
		return fail(err, errlen, "%s", "la expresión no es UTF-8 válido");
	memcpy(buf, expr, len + 1);
	for (p = buf; *p == ' ' || *p == '\t'; p++)
		;
	if (*p == '@') {
		char *e = p + strcspn(p, " \t");

		if (e[strspn(e, " \t")] != '\0')
			return fail(err, errlen, "%s", "una macro va sola");
		*e = '\0';
		for (i = 0; i < sizeof(macros) / sizeof(macros[0]); i++)
			if (strcasecmp(p, macros[i].macro) == 0)
				return vr_cron_parse(macros[i].expr, out, err,
				    errlen);
		return fail(err, errlen, "%s", "macro desconocida");
	}
	while (*p != '\0') {
		if (n == F__MAX)
			return fail(err, errlen, "%s", "se esperan 5 campos: "
			    "minuto hora día mes día-de-la-semana");
		tok[n++] = p;
		p += strcspn(p, " \t");
		if (*p != '\0')
			*p++ = '\0';
		p += strspn(p, " \t");
	}
	if (n != F__MAX)
		return fail(err, errlen, "%s", "se esperan 5 campos: minuto "
		    "hora día mes día-de-la-semana");
	for (f = 0; f < F__MAX; f++)
		if ((rc = field(tok[f], f, &set[f], &any[f], err, errlen)) != 0)
			return rc;
	out->minute = set[F_MIN];
	out->hour = (uint32_t)set[F_HOUR];
	out->dom = (uint32_t)set[F_DOM];
	out->month = (uint16_t)set[F_MON];
	out->dow = (uint8_t)set[F_DOW];
	out->dom_any = any[F_DOM];
	out->dow_any = any[F_DOW];
	return 0;
}

static int
leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
mdays(int y, int m)
{
	static const int d[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31 };

	return m == 2 && leap(y) ? 29 : d[m - 1];
}

/* 0 Sunday .. 6 Saturday (days since 1970-01-01, a Thursday). */
static int
weekday(int y, int m, int d)
{
	long yy = m <= 2 ? y - 1 : y, era, doe, n;
	unsigned yoe, mp;

	era = (yy >= 0 ? yy : yy - 399) / 400;
	yoe = (unsigned)(yy - era * 400);
	mp = (unsigned)(m > 2 ? m - 3 : m + 9);
	doe = (long)(yoe * 365 + yoe / 4 - yoe / 100 + (153 * mp + 2) / 5 +
	    (unsigned)d - 1);
	n = era * 146097 + doe - 719468;
	return (int)(((n % 7) + 11) % 7);
}

static int
day_matches(const struct vr_cron *c, int y, int m, int d)
{
	int dom = (c->dom >> d) & 1, dow = (c->dow >> weekday(y, m, d)) & 1;

	if (!((c->month >> m) & 1))
		return 0;
	if (!c->dom_any && !c->dow_any)
		return dom || dow;
	return dom && dow;
}

int
vr_civil_valid(const struct vr_civil *t)
{
	return t->year >= 1970 && t->year <= 9999 && t->mon >= 1 &&
	    t->mon <= 12 && t->day >= 1 && t->day <= mdays(t->year, t->mon) &&
	    t->hour >= 0 && t->hour <= 23 && t->min >= 0 && t->min <= 59;
}

/*
 * The first civil minute strictly after *after that the schedule
 * matches, into *out.  0, VR_EINVAL for an invalid *after, VR_ENOTFOUND
 * when nothing matches within 5 years (30 February).
 */
int
vr_cron_next(const struct vr_cron *c, const struct vr_civil *after,
    struct vr_civil *out)
{
	int y = after->year, m = after->mon, d = after->day, h, mi, first = 1;
	int hour0 = after->hour, min0 = after->min + 1;

	if (!vr_civil_valid(after))
		return VR_EINVAL;
	for (; y <= after->year + CRON_MAX_YEARS; first = 0) {
		if (!first) {
			hour0 = 0;
			min0 = 0;
		}
		if (day_matches(c, y, m, d)) {
			for (h = hour0; h < 24; h++) {
				if (!((c->hour >> h) & 1))
					continue;
				for (mi = h == hour0 ? min0 : 0; mi < 60; mi++)
					if ((c->minute >> mi) & 1) {
						out->year = y;
						out->mon = m;
						out->day = d;
						out->hour = h;
						out->min = mi;
						return 0;
					}
			}
		}
		if (++d > mdays(y, m)) {
			d = 1;
			if (++m > 12) {
				m = 1;
				y++;
			}
		}
	}
	return VR_ENOTFOUND;
}

/* "YYYY-MM-DD HH:MM" (what to_char(..., 'YYYY-MM-DD HH24:MI') writes). */
int
vr_civil_parse(const char *s, struct vr_civil *t)
{
	char tail;

	if (s == NULL || strlen(s) != 16 || sscanf(s, "%4d-%2d-%2d %2d:%2d%c",
	    &t->year, &t->mon, &t->day, &t->hour, &t->min, &tail) != 5 ||
	    s[4] != '-' || s[7] != '-' || s[10] != ' ' || s[13] != ':')
		return VR_EINVAL;
	return vr_civil_valid(t) ? 0 : VR_EINVAL;
}

void
vr_civil_format(const struct vr_civil *t, char out[VR_CIVIL_LEN])
{
	unsigned y = (unsigned)t->year % 10000, mo = (unsigned)t->mon % 100,
	    d = (unsigned)t->day % 100, h = (unsigned)t->hour % 100,
	    mi = (unsigned)t->min % 100;

	snprintf(out, VR_CIVIL_LEN, "%04u-%02u-%02u %02u:%02u", y, mo, d, h, mi);
}
