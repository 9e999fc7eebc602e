/*
 * check_json.c - lib/json.c: the typed getters (present, absent, null,
 * required, wrong type, bounds), strict UTF-8 and route ids.
 */
#include <limits.h>
#include <math.h>
#include <string.h>

#include "vr.h"
#include "tests.h"

static cJSON *
parse(const char *text)
{
	cJSON *o = cJSON_Parse(text);

	ck_assert_msg(o != NULL, "test JSON does not parse: %s", text);
	return o;
}

/* errs holds exactly one error, for field name, with text containing sub. */
static void
assert_one_error(const cJSON *errs, const char *name, const char *sub)
{
	const cJSON *e, *campo, *msg;

	ck_assert_int_eq(cJSON_GetArraySize(errs), 1);
	e = cJSON_GetArrayItem(errs, 0);
	campo = cJSON_GetObjectItemCaseSensitive(e, "campo");
	msg = cJSON_GetObjectItemCaseSensitive(e, "mensaje");
	ck_assert(cJSON_IsString(campo) && cJSON_IsString(msg));
	ck_assert_str_eq(campo->valuestring, name);
	ck_assert_msg(strstr(msg->valuestring, sub) != NULL,
	    "message \"%s\" lacks \"%s\"", msg->valuestring, sub);
}

/* ---- vr_json_str --------------------------------------------------- */

START_TEST(str_present)
{
	cJSON *o = parse("{\"n\":\"Lima\",\"e\":\"\",\"u\":\"ñandú\"}");
	cJSON *errs = cJSON_CreateArray();
	const char *s = NULL;

	ck_assert_int_eq(vr_json_str(o, "n", 1, 1, 10, &s, errs), 1);
	ck_assert_str_eq(s, "Lima");
	ck_assert_int_eq(vr_json_str(o, "e", 1, 0, 10, &s, errs), 1);
	ck_assert_str_eq(s, "");
	/* Lengths are characters, as JSON Schema and char_length count:
	 * "ñandú" is 5 (7 bytes). */
	ck_assert_int_eq(vr_json_str(o, "u", 1, 5, 5, &s, errs), 1);
	ck_assert_int_eq(vr_json_str(o, "u", 1, 6, 7, &s, errs), VR_EINVAL);
	cJSON_Delete(errs);
	errs = cJSON_CreateArray();
	ck_assert_int_eq(cJSON_GetArraySize(errs), 0);
	cJSON_Delete(o);
	cJSON_Delete(errs);
}
END_TEST

START_TEST(str_absent_and_null)
{
	cJSON *o = parse("{\"z\":null,\"N\":\"x\"}");
	cJSON *errs = cJSON_CreateArray();
	const char *s = "untouched";

	ck_assert_int_eq(vr_json_str(o, "a", 0, 1, 10, &s, errs), 0);
	ck_assert_int_eq(vr_json_str(o, "z", 0, 1, 10, &s, errs), 0);
	ck_assert_int_eq(vr_json_str(o, "n", 0, 1, 10, &s, errs), 0);
	ck_assert_int_eq(vr_json_str(NULL, "a", 0, 1, 10, &s, errs), 0);
	ck_assert_str_eq(s, "untouched");
	ck_assert_int_eq(cJSON_GetArraySize(errs), 0);
	ck_assert_int_eq(vr_json_str(o, "a", 1, 1, 10, &s, errs), VR_EINVAL);
	assert_one_error(errs, "a", "obligatorio");
	cJSON_Delete(errs);
	errs = cJSON_CreateArray();
	ck_assert_int_eq(vr_json_str(o, "z", 1, 1, 10, &s, errs), VR_EINVAL);
	assert_one_error(errs, "z", "obligatorio");
	ck_assert_str_eq(s, "untouched");
	cJSON_Delete(o);
	cJSON_Delete(errs);
}
END_TEST

START_TEST(str_wrong_type)
{
	static const char *const docs[] = { "{\"s\":1}", "{\"s\":true}",
	    "{\"s\":false}", "{\"s\":[\"x\"]}", "{\"s\":{\"a\":\"b\"}}" };
	const char *s = "untouched";
	cJSON *o, *errs;
	size_t i;

	for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		o = parse(docs[i]);
		errs = cJSON_CreateArray();
		ck_assert_int_eq(vr_json_str(o, "s", 0, 0, 10, &s, errs),
		    VR_EINVAL);
		assert_one_error(errs, "s", "texto");
		ck_assert_str_eq(s, "untouched");
		cJSON_Delete(o);
		cJSON_Delete(errs);
	}
}
END_TEST

START_TEST(str_bounds)
{
	cJSON *o = parse("{\"s\":\"abcd\"}");
	cJSON *errs = cJSON_CreateArray();
	const char *s;

	ck_assert_int_eq(vr_json_str(o, "s", 1, 4, 4, &s, errs), 1);
	ck_assert_int_eq(vr_json_str(o, "s", 1, 5, 10, &s, errs), VR_EINVAL);
	assert_one_error(errs, "s", "entre 5 y 10");
	cJSON_Delete(errs);
	errs = cJSON_CreateArray();
	ck_assert_int_eq(vr_json_str(o, "s", 1, 0, 3, &s, errs), VR_EINVAL);
	assert_one_error(errs, "s", "entre 0 y 3");
	/* errs NULL: the error is just not recorded. */
	ck_assert_int_eq(vr_json_str(o, "s", 1, 0, 3, &s, NULL), VR_EINVAL);
	ck_assert_int_eq(vr_json_str(o, "x", 1, 0, 3, &s, NULL), VR_EINVAL);
	cJSON_Delete(o);
	cJSON_Delete(errs);
}
END_TEST

START_TEST(str_invalid_utf8)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *errs = cJSON_CreateArray();
	const char *s;

	cJSON_AddStringToObject(o, "s", "ab\xc3\x28");
	ck_assert_int_eq(vr_json_str(o, "s", 1, 0, 10, &s, errs), VR_EINVAL);
	assert_one_error(errs, "s", "UTF-8");
	cJSON_Delete(o);
	cJSON_Delete(errs);
}
END_TEST

/* With minlen > 0, only blanks is as good as empty. */
START_TEST(str_blank)
{
	cJSON *o = parse("{\"b\":\" \\t\\r\\n \",\"c\":\" x \"}");
	cJSON *errs = cJSON_CreateArray();
	const char *s = NULL;

	ck_assert_int_eq(vr_json_str(o, "b", 1, 1, 10, &s, errs), VR_EINVAL);
	assert_one_error(errs, "b", "en blanco");
	ck_assert_ptr_null(s);
	ck_assert_int_eq(vr_json_str(o, "b", 1, 0, 10, &s, NULL), 1);
	ck_assert_int_eq(vr_json_str(o, "c", 1, 1, 10, &s, NULL), 1);
	ck_assert_str_eq(s, " x ");
	cJSON_Delete(o);
	cJSON_Delete(errs);
}
END_TEST

/* Field names are case-sensitive. */
START_TEST(str_case_sensitive)
{
	cJSON *o = parse("{\"Nombre\":\"x\"}");
	const char *s;

	ck_assert_int_eq(vr_json_str(o, "nombre", 0, 0, 10, &s, NULL), 0);
	cJSON_Delete(o);
}
END_TEST

/* ---- vr_json_int --------------------------------------------------- */

START_TEST(int_present_and_bounds)
{
	cJSON *o = parse("{\"a\":42,\"b\":-5,\"c\":0,\"d\":-0.0,\"e\":1e3,"
	    "\"f\":10}");
	cJSON *errs = cJSON_CreateArray();
	long long v = 0;

	ck_assert_int_eq(vr_json_int(o, "a", 1, 0, 100, &v, errs), 1);
	ck_assert_int_eq(v, 42);
	ck_assert_int_eq(vr_json_int(o, "b", 1, -5, 5, &v, errs), 1);
	ck_assert_int_eq(v, -5);
	ck_assert_int_eq(vr_json_int(o, "c", 1, 0, 0, &v, errs), 1);
	ck_assert_int_eq(v, 0);
	ck_assert_int_eq(vr_json_int(o, "d", 1, 0, 0, &v, errs), 1);
	ck_assert_int_eq(v, 0);
	ck_assert_int_eq(vr_json_int(o, "e", 1, 0, 1000, &v, errs), 1);
	ck_assert_int_eq(v, 1000);
	ck_assert_int_eq(vr_json_int(o, "f", 1, 10, 10, &v, errs), 1);
	ck_assert_int_eq(cJSON_GetArraySize(errs), 0);
	v = 7;
	ck_assert_int_eq(vr_json_int(o, "a", 1, 0, 41, &v, errs), VR_EINVAL);
	assert_one_error(errs, "a", "entre 0 y 41");
	ck_assert_int_eq(v, 7);
	cJSON_Delete(errs);
	errs = cJSON_CreateArray();
	ck_assert_int_eq(vr_json_int(o, "b", 1, -4, 41, &v, errs), VR_EINVAL);
	assert_one_error(errs, "b", "entre -4 y 41");
	cJSON_Delete(o);
	cJSON_Delete(errs);
}
END_TEST

START_TEST(int_absent_null_required)
{
	cJSON *o = parse("{\"z\":null}");
	cJSON *errs = cJSON_CreateArray();
	long long v = 7;

	ck_assert_int_eq(vr_json_int(o, "a", 0, 0, 9, &v, errs), 0);
	ck_assert_int_eq(vr_json_int(o, "z", 0, 0, 9, &v, errs), 0);
	ck_assert_int_eq(v, 7);
	ck_assert_int_eq(vr_json_int(o, "z", 1, 0, 9, &v, errs), VR_EINVAL);
	assert_one_error(errs, "z", "obligatorio");
	cJSON_Delete(o);
	cJSON_Delete(errs);
}
END_TEST

START_TEST(int_wrong_type_and_non_integral)
{
	static const char *const docs[] = { "{\"n\":\"5\"}", "{\"n\":true}",
	    "{\"n\":[1]}", "{\"n\":{}}", "{\"n\":1.5}", "{\"n\":-0.25}",
	    "{\"n\":1e-7}", "{\"n\":9007199254740992}",
	    "{\"n\":-9007199254740992}", "{\"n\":1e300}", "{\"n\":-1e300}",
	    "{\"n\":1e400}", "{\"n\":-1e400}",
	    "{\"n\":123456789012345678901234567890}" };
	long long v = 7;
	cJSON *o, *errs;
	size_t i;

	for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		o = parse(docs[i]);
		errs = cJSON_CreateArray();
		ck_assert_msg(vr_json_int(o, "n", 1, LLONG_MIN, LLONG_MAX, &v,
		    errs) == VR_EINVAL, "%s accepted", docs[i]);
		assert_one_error(errs, "n", "entero");
		ck_assert_int_eq(v, 7);
		cJSON_Delete(o);
		cJSON_Delete(errs);
	}
}
END_TEST

/* The largest exact integers of a double pass; NaN and infinities fail. */
START_TEST(int_limits_nan_inf)
{
	cJSON *o = parse("{\"max\":9007199254740991,"
	    "\"min\":-9007199254740991}");
	long long v;

	ck_assert_int_eq(vr_json_int(o, "max", 1, LLONG_MIN, LLONG_MAX, &v,
	    NULL), 1);
	ck_assert_int_eq(v, 9007199254740991LL);
	ck_assert_int_eq(vr_json_int(o, "min", 1, LLONG_MIN, LLONG_MAX, &v,
	    NULL), 1);
	ck_assert_int_eq(v, -9007199254740991LL);
	cJSON_AddNumberToObject(o, "nan", NAN);
	cJSON_AddNumberToObject(o, "inf", INFINITY);
	cJSON_AddNumberToObject(o, "ninf", -INFINITY);
	ck_assert_int_eq(vr_json_int(o, "nan", 1, LLONG_MIN, LLONG_MAX, &v,
	    NULL), VR_EINVAL);
	ck_assert_int_eq(vr_json_int(o, "inf", 1, LLONG_MIN, LLONG_MAX, &v,
	    NULL), VR_EINVAL);
	ck_assert_int_eq(vr_json_int(o, "ninf", 1, LLONG_MIN, LLONG_MAX, &v,
	    NULL), VR_EINVAL);
	cJSON_Delete(o);
}
END_TEST

/* ---- vr_json_bool -------------------------------------------------- */

START_TEST(bool_cases)
{
	cJSON *o = parse("{\"t\":true,\"f\":false,\"z\":null,\"n\":1,"
	    "\"s\":\"true\"}");
	cJSON *errs = cJSON_CreateArray();
	int v = -1;

	ck_assert_int_eq(vr_json_bool(o, "t", 1, &v, errs), 1);
	ck_assert_int_eq(v, 1);
	ck_assert_int_eq(vr_json_bool(o, "f", 1, &v, errs), 1);
	ck_assert_int_eq(v, 0);
	v = -1;
	ck_assert_int_eq(vr_json_bool(o, "a", 0, &v, errs), 0);
	ck_assert_int_eq(vr_json_bool(o, "z", 0, &v, errs), 0);
	ck_assert_int_eq(v, -1);
	ck_assert_int_eq(cJSON_GetArraySize(errs), 0);
	ck_assert_int_eq(vr_json_bool(o, "n", 0, &v, errs), VR_EINVAL);
	assert_one_error(errs, "n", "true o false");
	cJSON_Delete(errs);
	errs = cJSON_CreateArray();
	ck_assert_int_eq(vr_json_bool(o, "s", 0, &v, errs), VR_EINVAL);
	assert_one_error(errs, "s", "true o false");
	cJSON_Delete(errs);
	errs = cJSON_CreateArray();
	ck_assert_int_eq(vr_json_bool(o, "z", 1, &v, errs), VR_EINVAL);
	assert_one_error(errs, "z", "obligatorio");
	ck_assert_int_eq(v, -1);
	cJSON_Delete(o);
	cJSON_Delete(errs);
}
END_TEST

/* ---- vr_json_enum -------------------------------------------------- */

static const char *const especies[] = { "perro", "gato", "ave", NULL };

START_TEST(enum_cases)
{
	cJSON *o = parse("{\"a\":\"perro\",\"b\":\"ave\",\"c\":\"Perro\","
	    "\"d\":\"\",\"e\":3}");
	cJSON *errs = cJSON_CreateArray();
	int v = -1;

	ck_assert_int_eq(vr_json_enum(o, "a", 1, especies, &v, errs), 1);
	ck_assert_int_eq(v, 0);
	ck_assert_int_eq(vr_json_enum(o, "b", 1, especies, &v, errs), 1);
	ck_assert_int_eq(v, 2);
	v = -1;
	ck_assert_int_eq(vr_json_enum(o, "x", 0, especies, &v, errs), 0);
	ck_assert_int_eq(v, -1);
	ck_assert_int_eq(cJSON_GetArraySize(errs), 0);
	ck_assert_int_eq(vr_json_enum(o, "c", 1, especies, &v, errs),
	    VR_EINVAL);
	assert_one_error(errs, "c", "debe ser uno de: perro, gato, ave");
	cJSON_Delete(errs);
	errs = cJSON_CreateArray();
	ck_assert_int_eq(vr_json_enum(o, "d", 1, especies, &v, errs),
	    VR_EINVAL);
	assert_one_error(errs, "d", "caracteres");
	cJSON_Delete(errs);
	errs = cJSON_CreateArray();
	ck_assert_int_eq(vr_json_enum(o, "e", 1, especies, &v, errs),
	    VR_EINVAL);
	assert_one_error(errs, "e", "texto");
	cJSON_Delete(errs);
	errs = cJSON_CreateArray();
	ck_assert_int_eq(vr_json_enum(o, "x", 1, especies, &v, errs),
	    VR_EINVAL);
	assert_one_error(errs, "x", "obligatorio");
	ck_assert_int_eq(v, -1);
	cJSON_Delete(o);
	cJSON_Delete(errs);
}
END_TEST

/* A long list of allowed values is cut to fit the message, safely. */
START_TEST(enum_long_list)
{
	static const char *const many[] = {
		"valor-numero-00", "valor-numero-01", "valor-numero-02",
		"valor-numero-03", "valor-numero-04", "valor-numero-05",
		"valor-numero-06", "valor-numero-07", "valor-numero-08",
		"valor-numero-09", "valor-numero-10", "valor-numero-11",
		"valor-numero-12", "valor-numero-13", "valor-numero-14",
		"valor-numero-15", "valor-numero-16", "valor-numero-17",
		"valor-numero-18", "valor-numero-19", NULL };
	cJSON *o = parse("{\"a\":\"nada\",\"b\":\"valor-numero-19\"}");
	cJSON *errs = cJSON_CreateArray();
	const cJSON *m;
	int v;

	ck_assert_int_eq(vr_json_enum(o, "b", 1, many, &v, errs), 1);
	ck_assert_int_eq(v, 19);
	ck_assert_int_eq(vr_json_enum(o, "a", 1, many, &v, errs), VR_EINVAL);
	m = cJSON_GetObjectItem(cJSON_GetArrayItem(errs, 0), "mensaje");
	ck_assert(cJSON_IsString(m));
	ck_assert_uint_le(strlen(m->valuestring), 255);
	ck_assert_ptr_nonnull(strstr(m->valuestring, "valor-numero-00"));
	cJSON_Delete(o);
	cJSON_Delete(errs);
}
END_TEST

START_TEST(json_error_appends)
{
	cJSON *errs = cJSON_CreateArray();

	vr_json_error(NULL, "x", "y");	/* no array: nothing happens */
	vr_json_error(errs, "a", "uno");
	vr_json_error(errs, "b", "dos");
	ck_assert_int_eq(cJSON_GetArraySize(errs), 2);
	ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(errs, 1),
	    "campo")->valuestring, "b");
	cJSON_Delete(errs);
}
END_TEST

/* ---- vr_utf8_valid ------------------------------------------------- */

struct utf8_case {
	const char	*s;
	size_t		 len;
	int		 valid;
	const char	*what;
};

#define U(str, v, what)	{ str, sizeof(str) - 1, v, what }

static const struct utf8_case utf8_cases[] = {
	U("", 1, "empty"),
	U("plain ASCII ~\x7f", 1, "ASCII and DEL"),
	U("\xc3\xb1", 1, "U+00F1 (2 bytes)"),
	U("\xc2\x80", 1, "U+0080, smallest 2-byte"),
	U("\xdf\xbf", 1, "U+07FF, largest 2-byte"),
	U("\xe0\xa0\x80", 1, "U+0800, smallest 3-byte"),
	U("\xe2\x82\xac", 1, "U+20AC euro (3 bytes)"),
	U("\xed\x9f\xbf", 1, "U+D7FF, just below the surrogates"),
	U("\xee\x80\x80", 1, "U+E000, just above the surrogates"),
	U("\xef\xbf\xbf", 1, "U+FFFF"),
	U("\xf0\x90\x80\x80", 1, "U+10000, smallest 4-byte"),
	U("\xf0\x9f\x98\x80", 1, "U+1F600 (4 bytes)"),
	U("\xf4\x8f\xbf\xbf", 1, "U+10FFFF, the last code point"),
	U("\xc0\xaf", 0, "overlong '/' (C0)"),
	U("\xc1\xbf", 0, "overlong (C1)"),
	U("\xe0\x80\xaf", 0, "overlong 3-byte '/'"),
	U("\xe0\x9f\xbf", 0, "overlong 3-byte U+07FF"),
	U("\xf0\x80\x80\xaf", 0, "overlong 4-byte '/'"),
	U("\xf0\x8f\xbf\xbf", 0, "overlong 4-byte U+FFFF"),
	U("\xed\xa0\x80", 0, "surrogate U+D800"),
	U("\xed\xbf\xbf", 0, "surrogate U+DFFF"),
	U("\xed\xa0\xbd\xed\xb8\x80", 0, "CESU-8 surrogate pair"),
	U("\xf4\x90\x80\x80", 0, "U+110000, past the last code point"),
	U("\xf5\x80\x80\x80", 0, "F5 lead byte"),
	U("\xf8\x88\x80\x80\x80", 0, "5-byte form"),
	U("\xfc\x84\x80\x80\x80\x80", 0, "6-byte form"),
	U("\xfe", 0, "FE"),
	U("\xff", 0, "FF"),
	U("\x80", 0, "lone continuation byte"),
	U("a\xbf", 0, "continuation after ASCII"),
	U("\xc3", 0, "truncated 2-byte"),
	U("\xe2\x82", 0, "truncated 3-byte"),
	U("\xf0\x9f\x98", 0, "truncated 4-byte"),
	U("\xc3(", 0, "bad continuation of 2-byte"),
	U("\xe2(\xac", 0, "bad 2nd byte of 3-byte"),
	U("\xe2\x82(", 0, "bad 3rd byte of 3-byte"),
	U("\xf0\x9f\x98(", 0, "bad 4th byte of 4-byte"),
	U("a\0b", 0, "NUL byte inside"),
	U("\0", 0, "only a NUL"),
};

START_TEST(utf8_table)
{
	const struct utf8_case *c = &utf8_cases[_i];

	ck_assert_msg(vr_utf8_valid(c->s, c->len) == c->valid,
	    "%s: expected %s", c->what, c->valid ? "valid" : "invalid");
}
END_TEST

/* The length bounds the scan: bytes past it are not looked at. */
START_TEST(utf8_len_bounds)
{
	ck_assert_int_eq(vr_utf8_valid("ab\xff", 2), 1);
	ck_assert_int_eq(vr_utf8_valid("\xc3\xb1", 1), 0);
}
END_TEST

/* ---- vr_parse_id --------------------------------------------------- */

START_TEST(parse_id_valid)
{
	long long v = 0;

	ck_assert_int_eq(vr_parse_id("1", &v), 0);
	ck_assert_int_eq(v, 1);
	ck_assert_int_eq(vr_parse_id("42", &v), 0);
	ck_assert_int_eq(v, 42);
	ck_assert_int_eq(vr_parse_id("9223372036854775807", &v), 0);
	ck_assert_int_eq(v, LLONG_MAX);
}
END_TEST

START_TEST(parse_id_invalid)
{
	static const char *const bad[] = { "0", "-1", "01", "00", "abc",
	    "9223372036854775808", "99999999999999999999", "1e3", "", " 1",
	    "1 ", "+1", "1.0", "0x10", "12a", "١" /* Arabic-Indic one */ };
	long long v = 7;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(vr_parse_id(bad[i], &v) == VR_EINVAL,
		    "\"%s\" accepted", bad[i]);
	ck_assert_int_eq(vr_parse_id(NULL, &v), VR_EINVAL);
	ck_assert_int_eq(v, 7);
}
END_TEST

Suite *
json_suite(void)
{
	Suite *s = suite_create("json");
	TCase *tc;

	tc = tcase_create("getters");
	tcase_add_test(tc, str_present);
	tcase_add_test(tc, str_absent_and_null);
	tcase_add_test(tc, str_wrong_type);
	tcase_add_test(tc, str_bounds);
	tcase_add_test(tc, str_invalid_utf8);
	tcase_add_test(tc, str_blank);
	tcase_add_test(tc, str_case_sensitive);
	tcase_add_test(tc, int_present_and_bounds);
	tcase_add_test(tc, int_absent_null_required);
	tcase_add_test(tc, int_wrong_type_and_non_integral);
	tcase_add_test(tc, int_limits_nan_inf);
	tcase_add_test(tc, bool_cases);
	tcase_add_test(tc, enum_cases);
	tcase_add_test(tc, enum_long_list);
	tcase_add_test(tc, json_error_appends);
	suite_add_tcase(s, tc);

	tc = tcase_create("utf8");
	tcase_add_loop_test(tc, utf8_table, 0,
	    (int)(sizeof(utf8_cases) / sizeof(utf8_cases[0])));
	tcase_add_test(tc, utf8_len_bounds);
	suite_add_tcase(s, tc);

	tc = tcase_create("parse_id");
	tcase_add_test(tc, parse_id_valid);
	tcase_add_test(tc, parse_id_invalid);
	suite_add_tcase(s, tc);
	return s;
}
