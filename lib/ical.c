/*
 * ical.c - an iCalendar (RFC 5545) feed built with libical from the JSON
 * document the database gives (feed_documento()): one VCALENDAR with a
 * VTIMEZONE per zone its events use, a VEVENT per appointment.  The
 * calendar is checked against libical's own restrictions (RFC 5546,
 * METHOD:PUBLISH) before it is printed: a feed that does not pass is an
 * error, never a file.
 *
 * The document:
 *   {"nombre", "zona", "organizador"?, "reglas_desde": "AAAAMMDDTHHMMSSZ"
 *    (the VTIMEZONEs keep the rules in force from then on),
 *    "eventos": [{"uid", "zona", "inicio", "fin" (local, AAAAMMDDTHHMMSS;
 *      "inicio_utc", "fin_utc" (...Z) beside a local time the clocks'
 *      change makes ambiguous, used instead),
 *      "resumen", "descripcion"?, "lugar"?, "estado" (CONFIRMED |
 *      TENTATIVE | CANCELLED), "secuencia", "creado", "modificado" (UTC,
 *      ...Z; also the DTSTAMP, so that an unchanged appointment prints the
 *      same bytes and its feed keeps its ETag)}]}
 */
#include <stdlib.h>
#include <string.h>

#include <libical/ical.h>

#include "vr.h"

#define PRODID	"-//VetRed//Agenda de la red//ES"
#define ZONAS_MAX 16
#define ORGANIZER "mailto:agenda@vetred.pe"

static const char *
str_of(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void
add_x(icalcomponent *c, const char *name, const char *value)
{
	icalproperty *p = icalproperty_new_x(value);

	icalproperty_set_x_name(p, name);
	icalcomponent_add_property(c, p);
}

/* A date-time of s (AAAAMMDDTHHMMSS[Z]), in zone tz when not NULL. */
static int
when(const char *s, icaltimezone *tz, struct icaltimetype *t)
{
	size_t n = s != NULL ? strlen(s) : 0;

	if (n != 15 && !(n == 16 && s[15] == 'Z'))
		return -1;
	*t = icaltime_from_string(s);
	if (icaltime_is_null_time(*t) || !icaltime_is_valid_time(*t) ||
	    t->is_date || t->month < 1 || t->month > 12 || t->day < 1 ||
	    t->day > icaltime_days_in_month(t->month, t->year) ||
	    t->hour > 23 || t->minute > 59 || t->second > 60)
		return -1;
	if (tz != NULL)
		*t = icaltime_set_timezone(t, tz);
	return 0;
}

/* A DTSTART or DTEND in zone tz, its TZID named. */
static icalproperty *
zoned(icalproperty *(*make)(struct icaltimetype), struct icaltimetype t,
    const char *tzid)
{
	icalproperty *p = make(t);

	if (icalproperty_get_first_parameter(p, ICAL_TZID_PARAMETER) == NULL)
		icalproperty_add_parameter(p, icalparameter_new_tzid(tzid));
	return p;
}

static icalproperty_status
status_of(const char *s)
{
	if (s != NULL && strcmp(s, "CANCELLED") == 0)
		return ICAL_STATUS_CANCELLED;
	if (s != NULL && strcmp(s, "TENTATIVE") == 0)
		return ICAL_STATUS_TENTATIVE;
	return ICAL_STATUS_CONFIRMED;
}

/*
 * The VTIMEZONE of tzid, added once, its TZID the IANA name (what
 * Google, Outlook and Apple look up) and its rules from the year before
 * the feed's events on (truncated: tzdata goes back to 1900); the zone,
 * or NULL when unknown.
 */
static icaltimezone *
zone(icalcomponent *cal, const char *tzid, const char **seen, int *nseen,
    struct icaltimetype since)
{
	icalcomponent *vtz;
	icalproperty *p;
	icaltimezone *tz;
	int i;

	if (tzid == NULL || (tz = icaltimezone_get_builtin_timezone(tzid)) ==
	    NULL)
		return NULL;
	for (i = 0; i < *nseen; i++)
		if (strcmp(seen[i], tzid) == 0)
			return tz;
	if (*nseen == ZONAS_MAX)
		return NULL;
	seen[(*nseen)++] = tzid;
	vtz = icalcomponent_new_clone(icaltimezone_get_component(tz));
	if ((p = icalcomponent_get_first_property(vtz, ICAL_TZID_PROPERTY)) !=
	    NULL)
		icalproperty_set_tzid(p, tzid);
	icaltimezone_truncate_vtimezone(vtz, since, icaltime_null_time(), 1);
	icalcomponent_add_component(cal, vtz);
	return tz;
}

static int
event(icalcomponent *cal, const cJSON *e, const struct icaltimetype *stamp,
    const char *organizer, const char **seen, int *nseen, char *err,
    size_t errlen)
{
	const char *uid = str_of(e, "uid"), *tzid = str_of(e, "zona"),
	    *resumen = str_of(e, "resumen"), *s;
	const cJSON *seq = cJSON_GetObjectItemCaseSensitive(e, "secuencia");
	struct icaltimetype ini, fin, t, since = *stamp, dtstamp = *stamp;
	icalcomponent *ev;
	icalproperty *org;
	icaltimezone *tz;

	if (uid == NULL || resumen == NULL || !cJSON_IsNumber(seq)) {
		snprintf(err, errlen, "event without uid, resumen or secuencia");
		return -1;
	}
	if ((tz = zone(cal, tzid, seen, nseen, since)) == NULL) {
		snprintf(err, errlen, "%s: unknown time zone %s", uid,
		    tzid != NULL ? tzid : "(none)");
		return -1;
	}
	/* A local time the clocks' change makes ambiguous (or skips)
	 * comes in UTC too, and goes out so. */
	if ((str_of(e, "inicio_utc") != NULL ? when(str_of(e, "inicio_utc"),
	    NULL, &ini) : when(str_of(e, "inicio"), tz, &ini)) < 0 ||
	    (str_of(e, "fin_utc") != NULL ? when(str_of(e, "fin_utc"), NULL,
	    &fin) : when(str_of(e, "fin"), tz, &fin)) < 0 ||
	    icaltime_compare(fin, ini) <= 0) {
		snprintf(err, errlen, "%s: bad inicio or fin", uid);
		return -1;
	}
	ev = icalcomponent_new_vevent();
	icalcomponent_add_property(ev, icalproperty_new_uid(uid));
	if (when(str_of(e, "modificado"), NULL, &t) == 0)
		dtstamp = t;
	icalcomponent_add_property(ev, icalproperty_new_dtstamp(dtstamp));
	icalcomponent_add_property(ev, icaltime_is_utc(ini) ?
	    icalproperty_new_dtstart(ini) : zoned(icalproperty_new_dtstart, ini,
	    tzid));
	icalcomponent_add_property(ev, icaltime_is_utc(fin) ?
	    icalproperty_new_dtend(fin) : zoned(icalproperty_new_dtend, fin,
	    tzid));
	icalcomponent_add_property(ev, icalproperty_new_summary(resumen));
	/* PUBLISH wants an organizer (RFC 5546): the network's calendar. */
	org = icalproperty_new_organizer(ORGANIZER);
	icalproperty_add_parameter(org, icalparameter_new_cn(organizer));
	icalcomponent_add_property(ev, org);
	if ((s = str_of(e, "descripcion")) != NULL)
		icalcomponent_add_property(ev,
		    icalproperty_new_description(s));
	if ((s = str_of(e, "lugar")) != NULL)
		icalcomponent_add_property(ev, icalproperty_new_location(s));
	icalcomponent_add_property(ev,
	    icalproperty_new_status(status_of(str_of(e, "estado"))));
	icalcomponent_add_property(ev,
	    icalproperty_new_sequence((int)seq->valuedouble));
	icalcomponent_add_property(ev,
	    icalproperty_new_transp(status_of(str_of(e, "estado")) ==
	    ICAL_STATUS_CANCELLED ? ICAL_TRANSP_TRANSPARENT :
	    ICAL_TRANSP_OPAQUE));
	icalcomponent_add_property(ev, icalproperty_new_class(
	    ICAL_CLASS_PRIVATE));
	if (when(str_of(e, "creado"), NULL, &t) == 0)
		icalcomponent_add_property(ev, icalproperty_new_created(t));
	if (when(str_of(e, "modificado"), NULL, &t) == 0)
		icalcomponent_add_property(ev,
		    icalproperty_new_lastmodified(t));
	icalcomponent_add_component(cal, ev);
	return 0;
}

int
vr_ical_render(const cJSON *doc, struct vr_buf *out, char *err,
    size_t errlen)
{
	const char *seen[ZONAS_MAX], *s, *organizer;
	const cJSON *evs, *e;
	struct icaltimetype stamp, since;
	icalcomponent *cal;
	char *text;
	int nseen = 0, rc = VR_EINVAL;

	if (!cJSON_IsObject(doc) || when(str_of(doc, "reglas_desde"), NULL,
	    &stamp) < 0 || !cJSON_IsArray(evs =
	    cJSON_GetObjectItemCaseSensitive(doc, "eventos"))) {
		snprintf(err, errlen, "not a feed document");
		return VR_EINVAL;
	}
	cal = icalcomponent_vanew(ICAL_VCALENDAR_COMPONENT,
	    icalproperty_new_version("2.0"), icalproperty_new_prodid(PRODID),
	    icalproperty_new_calscale("GREGORIAN"),
	    icalproperty_new_method(ICAL_METHOD_PUBLISH), (void *)0);
	if ((s = str_of(doc, "nombre")) != NULL) {
		icalcomponent_add_property(cal, icalproperty_new_name(s));
		add_x(cal, "X-WR-CALNAME", s);
	}
	since = stamp;
	if ((s = str_of(doc, "zona")) != NULL) {
		add_x(cal, "X-WR-TIMEZONE", s);
		if (zone(cal, s, seen, &nseen, since) == NULL) {
			snprintf(err, errlen, "unknown time zone %s", s);
			goto out;
		}
	}
	/* Clients poll again after this much (Outlook, Apple). */
	add_x(cal, "X-PUBLISHED-TTL", "PT15M");
	{
		icalproperty *ri = icalproperty_new_refreshinterval(
		    icaldurationtype_from_string("PT15M"));

		icalproperty_add_parameter(ri, icalparameter_new_value(
		    ICAL_VALUE_DURATION));
		icalcomponent_add_property(cal, ri);
	}
	if ((organizer = str_of(doc, "organizador")) == NULL)
		organizer = "VetRed";
	cJSON_ArrayForEach(e, evs)
		if (event(cal, e, &stamp, organizer, seen, &nseen, err,
		    errlen) < 0)
			goto out;
	if (!icalrestriction_check(cal)) {
		snprintf(err, errlen, "the calendar fails libical's "
		    "restrictions");
		goto out;
	}
	text = icalcomponent_as_ical_string_r(cal);
	vr_buf_puts(out, text);
	icalmemory_free_buffer(text);
	rc = 0;
out:
	icalcomponent_free(cal);
	return rc;
}
