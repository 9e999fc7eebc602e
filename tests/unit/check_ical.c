/*
 * check_ical.c - the iCalendar renderer (lib/ical.c): a fixed document
 * against its golden file (DTSTAMP and the zone rules, which follow the
 * system's tzdata, left out of the comparison), what the VTIMEZONEs
 * printed mean (parsed back with libical, instants converted), and the
 * documents it refuses.
 */
#include <stdlib.h>
#include <string.h>

#include <libical/ical.h>

#include "tests.h"
#include "vr.h"

#define GOLDEN_JSON	"tests/unit/golden/agenda.json"
#define GOLDEN_ICS	"tests/unit/golden/agenda.ics"

/* text without DTSTAMP lines and with each VTIMEZONE cut to its TZID. */
static char *
normalise(const char *text)
{
	struct vr_buf b;
	const char *p = text, *eol;
	int in_tz = 0;
	size_t n;

	vr_buf_init(&b);
	while (*p != '\0') {
		eol = strstr(p, "\r\n");
		n = eol != NULL ? (size_t)(eol - p) : strlen(p);
		if (n >= 16 && strncmp(p, "BEGIN:VTIMEZONE", 15) == 0)
			in_tz = 1;
		if (strncmp(p, "END:VTIMEZONE", 13) == 0)
			in_tz = 0;
		if (strncmp(p, "DTSTAMP:", 8) != 0 && (!in_tz ||
		    strncmp(p, "TZID:", 5) == 0 ||
		    strncmp(p, "BEGIN:VTIMEZONE", 15) == 0)) {
			vr_buf_append(&b, p, n);
			vr_buf_puts(&b, "\n");
		}
		p += n;
		if (*p == '\r')
			p += 2;
	}
	vr_buf_puts(&b, "");
	return b.data;
}

static char *
render_file(const char *path, char *err, size_t errlen, int *rc)
{
	char *json = ut_slurp(path);
	cJSON *doc = cJSON_Parse(json);
	struct vr_buf out;

	ck_assert_ptr_nonnull(doc);
	vr_buf_init(&out);
	*rc = vr_ical_render(doc, &out, err, errlen);
	cJSON_Delete(doc);
	free(json);
	vr_buf_puts(&out, "");
	return out.data;
}

START_TEST(golden_feed)
{
	char err[256], *ics, *golden, *a, *b;
	int rc;

	ics = render_file(GOLDEN_JSON, err, sizeof(err), &rc);
	ck_assert_msg(rc == 0, "%s", err);
	golden = ut_slurp(GOLDEN_ICS);
	a = normalise(ics);
	b = normalise(golden);
	ck_assert_msg(strcmp(a, b) == 0, "the feed differs from %s:\n%s",
	    GOLDEN_ICS, a);
	/* RFC 5545: CRLF line ends, lines folded at 75 octets. */
	ck_assert_ptr_nonnull(strstr(ics, "\r\nEND:VCALENDAR\r\n"));
	{
		const char *p = ics, *eol;

		while ((eol = strstr(p, "\r\n")) != NULL) {
			ck_assert_int_le(eol - p, 75);
			p = eol + 2;
		}
	}
	free(a);
	free(b);
	free(golden);
	free(ics);
}
END_TEST

/* The UTC instant of event uid's DTSTART, through the feed's own
 * VTIMEZONE of its TZID. */
static struct icaltimetype
utc_start(icalcomponent *cal, const char *uid)
{
	icalcomponent *c, *tzc;
	icalproperty *p;
	icalparameter *tzid;
	icaltimezone *z;
	struct icaltimetype t;

	for (c = icalcomponent_get_first_component(cal, ICAL_VEVENT_COMPONENT);
	    c != NULL; c = icalcomponent_get_next_component(cal,
	    ICAL_VEVENT_COMPONENT))
		if (strcmp(icalcomponent_get_uid(c), uid) == 0)
			break;
	ck_assert_ptr_nonnull(c);
	p = icalcomponent_get_first_property(c, ICAL_DTSTART_PROPERTY);
	t = icalproperty_get_dtstart(p);
	if ((tzid = icalproperty_get_first_parameter(p,
	    ICAL_TZID_PARAMETER)) == NULL)
		return t;	/* already UTC */
	for (tzc = icalcomponent_get_first_component(cal,
	    ICAL_VTIMEZONE_COMPONENT); tzc != NULL;
	    tzc = icalcomponent_get_next_component(cal,
	    ICAL_VTIMEZONE_COMPONENT))
		if (strcmp(icalproperty_get_tzid(icalcomponent_get_first_property(
		    tzc, ICAL_TZID_PROPERTY)), icalparameter_get_tzid(tzid)) == 0)
			break;
	ck_assert_msg(tzc != NULL, "no VTIMEZONE for %s",
	    icalparameter_get_tzid(tzid));
	z = icaltimezone_new();
	ck_assert(icaltimezone_set_component(z, icalcomponent_new_clone(tzc)));
	t = icaltime_set_timezone(&t, z);
	t = icaltime_convert_to_zone(t, icaltimezone_get_utc_timezone());
	icaltimezone_free(z, 1);
	return t;
}

START_TEST(zones_mean_what_they_say)
{
	static const struct {
		const char	*uid, *utc;
	} want[] = {
		{ "cita-101@vetred.pe", "20270104T140000Z" },	/* Lima, -05 */
		{ "cita-103@vetred.pe", "20270701T080000Z" },	/* Madrid, +02 */
		{ "cita-104@vetred.pe", "20271031T013000Z" },	/* 02:30 +01 */
	};
	char err[256], *ics;
	icalcomponent *cal;
	size_t i;
	int rc;

	ics = render_file(GOLDEN_JSON, err, sizeof(err), &rc);
	ck_assert_int_eq(rc, 0);
	cal = icalparser_parse_string(ics);
	ck_assert_ptr_nonnull(cal);
	ck_assert(icalrestriction_check(cal));
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		ck_assert_str_eq(icaltime_as_ical_string(utc_start(cal,
		    want[i].uid)), want[i].utc);
	icalcomponent_free(cal);
	free(ics);
}
END_TEST

START_TEST(refused_documents)
{
	static const char *const bad[] = {
		"[]",
		"{\"eventos\":[]}",
		"{\"reglas_desde\":\"20260101T000000Z\"}",
		"{\"reglas_desde\":\"2026-01-01\",\"eventos\":[]}",
		"{\"reglas_desde\":\"20260101T000000Z\",\"zona\":\"Marte/Olympus\","
		    "\"eventos\":[]}",
		"{\"reglas_desde\":\"20260101T000000Z\",\"eventos\":[{\"zona\":"
		    "\"America/Lima\",\"inicio\":\"20270104T090000\",\"fin\":"
		    "\"20270104T093000\",\"resumen\":\"x\",\"secuencia\":0}]}",
		"{\"reglas_desde\":\"20260101T000000Z\",\"eventos\":[{\"uid\":\"u\","
		    "\"zona\":\"America/Lima\",\"inicio\":\"20270104T090000\","
		    "\"fin\":\"20270104T083000\",\"resumen\":\"x\",\"secuencia\":0}]}",
		"{\"reglas_desde\":\"20260101T000000Z\",\"eventos\":[{\"uid\":\"u\","
		    "\"zona\":\"America/Lima\",\"inicio\":\"20271304T090000\","
		    "\"fin\":\"20271304T093000\",\"resumen\":\"x\",\"secuencia\":0}]}",
		"{\"reglas_desde\":\"20260101T000000Z\",\"eventos\":[{\"uid\":\"u\","
		    "\"zona\":\"Nada/Nada\",\"inicio\":\"20270104T090000\",\"fin\":"
		    "\"20270104T093000\",\"resumen\":\"x\",\"secuencia\":0}]}",
		"{\"reglas_desde\":\"20260101T000000Z\",\"eventos\":[{\"uid\":\"u\","
		    "\"zona\":\"America/Lima\",\"inicio\":\"20270104\",\"fin\":"
		    "\"20270104T093000\",\"resumen\":\"x\",\"secuencia\":0}]}",
	};
	struct vr_buf out;
	char err[256];
	cJSON *doc;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		doc = cJSON_Parse(bad[i]);
		vr_buf_init(&out);
		err[0] = '\0';
		ck_assert_msg(vr_ical_render(doc, &out, err, sizeof(err)) ==
		    VR_EINVAL, "case %zu accepted", i);
		ck_assert_msg(err[0] != '\0', "case %zu: no reason", i);
		ck_assert_msg(out.len == 0, "case %zu wrote output", i);
		vr_buf_free(&out);
		cJSON_Delete(doc);
	}
}
END_TEST

Suite *
ical_suite(void)
{
	Suite *s = suite_create("ical");
	TCase *tc = tcase_create("ical");

	tcase_add_test(tc, golden_feed);
	tcase_add_test(tc, zones_mean_what_they_say);
	tcase_add_test(tc, refused_documents);
	suite_add_tcase(s, tc);
	return s;
}
