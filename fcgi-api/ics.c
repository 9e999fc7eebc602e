/*
 * ics.c - a vet's absences imported from an iCalendar file (an export of
 * their personal calendar), read with libical.  Every busy VEVENT becomes
 * an absence; a file that does not parse, or one event that cannot be an
 * absence, is a 422 naming the line, and nothing is imported.  Layer:
 * resources.
 *
 * The file is checked in two passes: first its content lines as RFC 5545
 * writes them (unfolded, NAME[;params]:value, BEGIN/END balanced), which
 * gives each event its line; then libical parses it, and each event's
 * start and end are turned into instants: with a TZID, by the file's own
 * VTIMEZONE or the IANA zone of that name; floating times and all-day
 * dates in the zone of the vet's site (the database does that).  An
 * event's title is not kept: a personal calendar's words are not the
 * clinic's; the absence takes the reason given with the import.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <libical/ical.h>

#include "authz.h"
#include "params.h"
#include "problem.h"
#include "resources.h"
#include "sql.h"
#include "transport.h"

#define ICS_EVENTS_MAX	500
#define ICS_LINES_MAX	100000
#define ICS_DEPTH_MAX	8

static const char *const known[] = { "ics", "tipo", "motivo", NULL };
static const char *const tipos[] = { "vacaciones", "enfermedad",
	"capacitacion", "licencia", "otro", NULL };

struct scan {
	int	 events[ICS_EVENTS_MAX];	/* the line each VEVENT begins on */
	int	 nevents;
	char	 err[200];
};

/* Whether s[0..n) is NAME[;params]:value (RFC 5545 3.1). */
static int
content_line(const char *s, size_t n)
{
	size_t i = 0;
	int quoted = 0;

	while (i < n && (s[i] == '-' || (s[i] >= 'A' && s[i] <= 'Z') ||
	    (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9')))
		i++;
	if (i == 0 || i == n || (s[i] != ':' && s[i] != ';'))
		return 0;
	for (; i < n; i++)
		if (s[i] == '"')
			quoted = !quoted;
		else if (s[i] == ':' && !quoted)
			return 1;
	return 0;
}

/*
 * The first pass: every logical line well formed, BEGIN and END paired,
 * one VCALENDAR, at most ICS_EVENTS_MAX events (their lines kept).  0, or
 * -1 with the line and the fault in sc->err.
 */
static int
scan_lines(const char *text, struct scan *sc)
{
	char stack[ICS_DEPTH_MAX][32];
	const char *p = text, *eol, *next;
	int line = 0, start, depth = 0, calendars = 0;
	size_t n, k;

	sc->nevents = 0;
	while (*p != '\0') {
		start = ++line;
		/* A logical line: this one and its folded continuations. */
		eol = p + strcspn(p, "\r\n");
		n = (size_t)(eol - p);
		next = eol;
		for (;;) {
			if (*next == '\r')
				next++;
			if (*next == '\n')
				next++;
			if (*next != ' ' && *next != '\t')
				break;
			line++;
			next += strcspn(next, "\r\n");
		}
		if (line > ICS_LINES_MAX) {
			snprintf(sc->err, sizeof(sc->err), "línea %d: el archivo "
			    "tiene más de %d líneas", line, ICS_LINES_MAX);
			return -1;
		}
		if (n == 0 && *next == '\0')
			break;
		if (!content_line(p, n)) {
			snprintf(sc->err, sizeof(sc->err), "línea %d: no es una "
			    "línea de iCalendar (NOMBRE:valor)", start);
			return -1;
		}
		if (n > 6 && strncmp(p, "BEGIN:", 6) == 0) {
			k = n - 6 < 31 ? n - 6 : 31;
			if (depth == ICS_DEPTH_MAX) {
				snprintf(sc->err, sizeof(sc->err), "línea %d: "
				    "componentes anidados de más", start);
				return -1;
			}
			if (depth == 0 && (k != 9 || strncmp(p + 6, "VCALENDAR",
			    9) != 0 || ++calendars > 1)) {
				snprintf(sc->err, sizeof(sc->err), "línea %d: se "
				    "esperaba un solo BEGIN:VCALENDAR", start);
				return -1;
			}
			memcpy(stack[depth], p + 6, k);
			stack[depth++][k] = '\0';
			if (strcmp(stack[depth - 1], "VEVENT") == 0) {
				if (sc->nevents == ICS_EVENTS_MAX) {
					snprintf(sc->err, sizeof(sc->err), "línea "
					    "%d: más de %d eventos", start,
					    ICS_EVENTS_MAX);
					return -1;
				}
				sc->events[sc->nevents++] = start;
			}
		} else if (n > 4 && strncmp(p, "END:", 4) == 0) {
			if (depth == 0 || n - 4 != strlen(stack[depth - 1]) ||
			    strncmp(p + 4, stack[depth - 1], n - 4) != 0) {
				snprintf(sc->err, sizeof(sc->err), "línea %d: END "
				    "sin su BEGIN", start);
				return -1;
			}
			depth--;
		} else if (depth == 0) {
			snprintf(sc->err, sizeof(sc->err), "línea %d: fuera de "
			    "BEGIN:VCALENDAR", start);
			return -1;
		}
		p = next;
	}
	if (calendars == 0 || depth != 0) {
		snprintf(sc->err, sizeof(sc->err), "línea %d: %s", line,
		    calendars == 0 ? "no hay BEGIN:VCALENDAR" :
		    "falta END:VCALENDAR");
		return -1;
	}
	return 0;
}

/*
 * t as the database reads it: an instant in UTC ("...Z"), or, floating
 * or a date, the local text the vet's site zone will place.  0, or -1
 * when its TZID names no zone.
 */
static int
instant(icalproperty *prop, struct icaltimetype t, char *out, size_t n,
    int *local)
{
	icalparameter *tzid;
	icaltimezone *z;
	struct tm tm;
	time_t secs;

	*local = 0;
	if (!t.is_date && !icaltime_is_utc(t) && t.zone == NULL &&
	    (tzid = icalproperty_get_first_parameter(prop,
	    ICAL_TZID_PARAMETER)) != NULL) {
		if ((z = icaltimezone_get_builtin_timezone(
		    icalparameter_get_tzid(tzid))) == NULL)
			return -1;
		t = icaltime_set_timezone(&t, z);
	}
	if (t.is_date || (!icaltime_is_utc(t) && t.zone == NULL)) {
		*local = 1;
		snprintf(out, n, "%04d-%02d-%02d %02d:%02d:%02d", t.year, t.month,
		    t.day, t.is_date ? 0 : t.hour, t.is_date ? 0 : t.minute,
		    t.is_date ? 0 : t.second);
		return 0;
	}
	secs = icaltime_as_timet_with_zone(t, icaltime_is_utc(t) ?
	    icaltimezone_get_utc_timezone() : t.zone);
	gmtime_r(&secs, &tm);
	strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return 0;
}

/* Valid date-time fields (libical takes month 13 and day 40). */
static int
sane(struct icaltimetype t)
{
	return !icaltime_is_null_time(t) && t.year >= 1900 && t.year <= 2200 &&
	    t.month >= 1 && t.month <= 12 && t.day >= 1 &&
	    t.day <= icaltime_days_in_month(t.month, t.year) && t.hour <= 23 &&
	    t.minute <= 59 && t.second <= 60;
}

/*
 * One VEVENT (beginning on line) as {linea, inicio, fin, local} into arr,
 * or nothing when it is free time (TRANSP:TRANSPARENT) or cancelled.  0,
 * or -1 with the fault in err.
 */
static int
event_item(icalcomponent *ev, int line, cJSON *arr, char *err, size_t n)
{
	icalproperty *ps, *pe, *px;
	struct icaltimetype s, e;
	char a[40], b[40];
	int la, lb;
	cJSON *it;

	if ((px = icalcomponent_get_first_property(ev,
	    ICAL_XLICERROR_PROPERTY)) != NULL) {
		snprintf(err, n, "línea %d: el evento tiene una propiedad "
		    "ilegible (libical: %s)", line,
		    icalproperty_get_xlicerror(px));
		return -1;
	}
	if (icalcomponent_get_status(ev) == ICAL_STATUS_CANCELLED ||
	    ((px = icalcomponent_get_first_property(ev,
	    ICAL_TRANSP_PROPERTY)) != NULL && icalproperty_get_transp(px) ==
	    ICAL_TRANSP_TRANSPARENT))
		return 0;
	if (icalcomponent_get_first_property(ev, ICAL_RRULE_PROPERTY) !=
	    NULL || icalcomponent_get_first_property(ev,
	    ICAL_RDATE_PROPERTY) != NULL) {
		snprintf(err, n, "línea %d: un evento que se repite (RRULE) no "
		    "se importa: expórtelo con cada fecha", line);
		return -1;
	}
	if ((ps = icalcomponent_get_first_property(ev,
	    ICAL_DTSTART_PROPERTY)) == NULL) {
		snprintf(err, n, "línea %d: el evento no tiene DTSTART", line);
		return -1;
	}
	s = icalcomponent_get_dtstart(ev);
	pe = icalcomponent_get_first_property(ev, ICAL_DTEND_PROPERTY);
	if (pe == NULL && icalcomponent_get_first_property(ev,
	    ICAL_DURATION_PROPERTY) == NULL) {
		if (!s.is_date) {
			snprintf(err, n, "línea %d: el evento no tiene DTEND ni "
			    "DURATION", line);
			return -1;
		}
		e = s;			/* an all-day event: that day */
		icaltime_adjust(&e, 1, 0, 0, 0);
	} else
		e = icalcomponent_get_dtend(ev);
	if (!sane(s) || !sane(e)) {
		snprintf(err, n, "línea %d: fecha u hora inválida", line);
		return -1;
	}
	if (instant(ps, s, a, sizeof(a), &la) < 0 ||
	    instant(pe != NULL ? pe : ps, e, b, sizeof(b), &lb) < 0) {
		snprintf(err, n, "línea %d: zona horaria desconocida", line);
		return -1;
	}
	it = cJSON_CreateObject();
	cJSON_AddNumberToObject(it, "linea", line);
	cJSON_AddStringToObject(it, "inicio", a);
	cJSON_AddStringToObject(it, "fin", b);
	cJSON_AddBoolToObject(it, "inicio_local", la);
	cJSON_AddBoolToObject(it, "fin_local", lb);
	cJSON_AddItemToArray(arr, it);
	return 0;
}

/* The busy events of text, each with its line; 0, or -1 with err. */
static int
read_events(const char *text, cJSON *arr, char *err, size_t n)
{
	struct scan sc;
	icalcomponent *cal, *ev;
	int i = 0, rc = 0;

	if (scan_lines(text, &sc) < 0) {
		snprintf(err, n, "%s", sc.err);
		return -1;
	}
	if ((cal = icalparser_parse_string(text)) == NULL ||
	    icalcomponent_isa(cal) != ICAL_VCALENDAR_COMPONENT) {
		snprintf(err, n, "línea 1: libical no lo lee como un calendario");
		if (cal != NULL)
			icalcomponent_free(cal);
		return -1;
	}
	for (ev = icalcomponent_get_first_component(cal, ICAL_VEVENT_COMPONENT);
	    ev != NULL && rc == 0; ev = icalcomponent_get_next_component(cal,
	    ICAL_VEVENT_COMPONENT), i++)
		rc = event_item(ev, i < sc.nevents ? sc.events[i] : 1, arr, err,
		    n);
	icalcomponent_free(cal);
	if (rc == 0 && cJSON_GetArraySize(arr) == 0) {
		snprintf(err, n, "línea 1: el archivo no tiene eventos ocupados");
		rc = -1;
	}
	return rc;
}

/*
 * POST /api/v1/veterinarios/{id}/importacion-ausencias {ics, tipo?,
 * motivo?} - permission agenda.gestionar, for a vet who works at one of
 * the caller's sites.  201 {elementos: [Ausencia], citas_afectadas}: one
 * absence per busy event (overlapping events joined); 400; 403; 404; 409
 * an event crossing an absence already recorded; 422 a file that does
 * not parse or an event that cannot be an absence, with its line
 * ("línea 12: ..."), and nothing imported.
 */
void
api_ausencias_importar(struct api_req *r)
{
	cJSON *errs = api_errors(r), *items;
	struct api_args a;
	const char *ics = NULL, *motivo = NULL;
	char err[300];
	long long vet;
	int t;

	if (api_id_or_400(r, 0, &vet) < 0)
		return;
	api_args_init(&a, STMT_AUSENCIAS_IMPORTAR);
	api_unknown_members(r->json, known, errs);
	vr_json_str(r->json, "ics", 1, 15, 1048576, &ics, errs);
	if (vr_json_enum(r->json, "tipo", 0, tipos, &t, errs) > 0)
		api_arg_text(&a, "tipo", tipos[t]);
	vr_json_str(r->json, "motivo", 0, 1, 500, &motivo, errs);
	if (api_fields_or_422(r, errs) < 0)
		return;
	items = api_own_json(r, cJSON_CreateArray());
	if (read_events(ics, items, err, sizeof(err)) < 0) {
		vr_json_error(errs, "ics", err);
		api_problem(r, 422, "validacion", "Datos inválidos", "El "
		    "archivo no se importó: corrija la línea indicada.", errs);
		return;
	}
	api_arg_int(&a, "id", vet);
	api_arg_text(&a, "eventos", api_print(r, items));
	api_arg_text(&a, "motivo", motivo);
	api_arg_text(&a, "sedes", api_sedes_permitidas(r));
	api_args_who(&a, r, 0);
	api_run_function(r, &a, 1, NULL);
}
