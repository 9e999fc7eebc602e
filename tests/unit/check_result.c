/*
 * check_result.c - fcgi-api/result.c: the API's table of verdict codes
 * against the SQL that returns them.  Every code a function of
 * db/functions returns (veredicto('code', ...)) is in the table; the
 * table and the database's veredictos (db/migrations/0029) hold the same
 * codes; each entry is a success or a problem the API can answer; and
 * the SQL speaks no HTTP: no status number and no problem title in
 * db/functions or in a migration after 0028, comments included.
 */
#include <ctype.h>
#include <dirent.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "problem.h"
#include "transport.h"
#include "tests.h"

/* Migrations up to this one landed before verdicts had codes. */
#define LAST_HTTP_MIGRATION	28UL

struct names {
	char	*s[128];
	char	*from[128];
	int	 n;
};

static void
names_add(struct names *l, const char *s, size_t len, const char *from)
{
	int i;

	for (i = 0; i < l->n; i++)
		if (strlen(l->s[i]) == len && strncmp(l->s[i], s, len) == 0)
			return;
	ck_assert_int_lt(l->n, 128);
	l->s[l->n] = strndup(s, len);
	l->from[l->n++] = strdup(from);
}

static int
names_has(const struct names *l, const char *s)
{
	int i;

	for (i = 0; i < l->n; i++)
		if (strcmp(l->s[i], s) == 0)
			return 1;
	return 0;
}

static void
names_free(struct names *l)
{
	while (l->n > 0) {
		l->n--;
		free(l->s[l->n]);
		free(l->from[l->n]);
	}
}

/*
 * The SQL files that must speak the domain only: every file of
 * db/functions and the migrations numbered after `after`.
 */
static void
sql_files(struct names *l, unsigned long after)
{
	static const char *const dirs[] = { "db/functions", "db/migrations" };
	struct dirent *e;
	char path[512];
	size_t d, len;
	DIR *dir;

	for (d = 0; d < 2; d++) {
		ck_assert_ptr_nonnull(dir = opendir(dirs[d]));
		while ((e = readdir(dir)) != NULL) {
			len = strlen(e->d_name);
			if (len < 5 || strcmp(e->d_name + len - 4, ".sql") != 0 ||
			    (d == 1 && strtoul(e->d_name, NULL, 10) <= after))
				continue;
			snprintf(path, sizeof(path), "%s/%s", dirs[d],
			    e->d_name);
			names_add(l, path, strlen(path), dirs[d]);
		}
		closedir(dir);
	}
}

/* Every code the function files return: veredicto('code', ...). */
static int
returned_codes(struct names *codes)
{
	struct names files = { .n = 0 };
	regmatch_t m[2];
	regex_t rx;
	const char *p;
	char *text;
	int i, n = 0;

	sql_files(&files, (unsigned long)-1);
	ck_assert_int_gt(files.n, 5);
	ck_assert_int_eq(regcomp(&rx, "veredicto\\('([a-z-]+)'",
	    REG_EXTENDED), 0);
	for (i = 0; i < files.n; i++) {
		text = ut_slurp(files.s[i]);
		for (p = text; regexec(&rx, p, 2, m, 0) == 0;
		    p += m[0].rm_eo, n++)
			names_add(codes, p + m[1].rm_so, (size_t)(m[1].rm_eo -
			    m[1].rm_so), files.s[i]);
		free(text);
	}
	regfree(&rx);
	names_free(&files);
	return n;
}

/* The codes of the database's table veredictos. */
static void
table_codes(struct names *codes)
{
	PGconn *c = PQconnectdb(ut_db_base_url());
	PGresult *res;
	int i;

	ck_assert_msg(PQstatus(c) == CONNECTION_OK, "%s", PQerrorMessage(c));
	res = PQexec(c, "SELECT codigo FROM public.veredictos ORDER BY 1");
	ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK, "%s",
	    PQerrorMessage(c));
	for (i = 0; i < PQntuples(res); i++)
		names_add(codes, PQgetvalue(res, i, 0),
		    strlen(PQgetvalue(res, i, 0)), "veredictos");
	PQclear(res);
	PQfinish(c);
}

/* A code the SQL can return that the API does not know would be a 500. */
START_TEST(returned_codes_known_to_the_api)
{
	struct names codes = { .n = 0 }, table = { .n = 0 };
	char missing[2048] = "";
	int i;

	ck_assert_int_gt(returned_codes(&codes), 30);
	table_codes(&table);
	for (i = 0; i < codes.n; i++) {
		if (api_verdict_kind(codes.s[i]) == NULL)
			snprintf(missing + strlen(missing), sizeof(missing) -
			    strlen(missing), " %s (%s) not in result.c;",
			    codes.s[i], codes.from[i]);
		if (!names_has(&table, codes.s[i]))
			snprintf(missing + strlen(missing), sizeof(missing) -
			    strlen(missing), " %s (%s) not in veredictos;",
			    codes.s[i], codes.from[i]);
	}
	names_free(&codes);
	names_free(&table);
	ck_assert_msg(missing[0] == '\0', "verdict codes returned by "
	    "db/functions:%s", missing);
}
END_TEST

/* The API's table and the database's are the same set of codes. */
START_TEST(api_table_is_the_sql_table)
{
	const struct api_verdict_kind *k;
	struct names table = { .n = 0 }, api = { .n = 0 };
	char diff[2048] = "";
	size_t i;
	int j;

	table_codes(&table);
	ck_assert_int_gt(table.n, 10);
	for (i = 0; (k = api_verdict_kind_at(i)) != NULL; i++) {
		names_add(&api, k->code, strlen(k->code), "result.c");
		if (!names_has(&table, k->code))
			snprintf(diff + strlen(diff), sizeof(diff) -
			    strlen(diff), " %s is in result.c, not in the "
			    "table veredictos;", k->code);
	}
	for (j = 0; j < table.n; j++)
		if (!names_has(&api, table.s[j]))
			snprintf(diff + strlen(diff), sizeof(diff) -
			    strlen(diff), " %s is in veredictos, not in "
			    "result.c;", table.s[j]);
	ck_assert_int_eq(api.n, (int)i);	/* no code twice */
	names_free(&table);
	names_free(&api);
	ck_assert_msg(diff[0] == '\0', "%s", diff);
}
END_TEST

/* A success is a 2xx with a body or none; a problem a 4xx with both. */
START_TEST(each_code_an_answer)
{
	const struct api_verdict_kind *k;
	size_t i;

	for (i = 0; (k = api_verdict_kind_at(i)) != NULL; i++) {
		ck_assert_msg(strcmp(api_reason(k->status), "Unknown") != 0,
		    "%s: status %d has no reason phrase", k->code, k->status);
		if (k->type == NULL)
			ck_assert_msg(k->status / 100 == 2 && k->title == NULL,
			    "%s: a success is 2xx, without a title", k->code);
		else
			ck_assert_msg(k->status / 100 == 4 && k->title != NULL &&
			    strspn(k->type, "abcdefghijklmnopqrstuvwxyz-") ==
			    strlen(k->type), "%s: a problem is 4xx with a "
			    "type and a title", k->code);
		ck_assert_ptr_eq(api_verdict_kind(k->code), k);
	}
	ck_assert_int_gt((int)i, 10);
	ck_assert_ptr_null(api_verdict_kind("no-existe"));
	ck_assert_ptr_null(api_verdict_kind(NULL));
}
END_TEST

/* 1 when an entry before the i-th has this title (said once a line). */
static int
title_before(size_t i, const char *title)
{
	const struct api_verdict_kind *k;
	size_t j;

	for (j = 0; j < i && (k = api_verdict_kind_at(j)) != NULL; j++)
		if (k->title != NULL && strcmp(k->title, title) == 0)
			return 1;
	return 0;
}

/*
 * Where a file says an HTTP status (a three-digit number the API has a
 * reason phrase for) or a problem title of result.c: appended to bad.
 */
static int
http_in_file(const char *path, char *bad, size_t badlen)
{
	const struct api_verdict_kind *k;
	char *text = ut_slurp(path), *line, *next, *p;
	int n = 0, lineno = 1, st;
	size_t i;

	for (line = text; line != NULL; line = next, lineno++) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		for (p = line; *p; p++) {
			if (!isdigit((unsigned char)p[0]) ||
			    !isdigit((unsigned char)p[1]) ||
			    !isdigit((unsigned char)p[2]) ||
			    isalnum((unsigned char)p[3]) || p[3] == '_' ||
			    (p > line && (isalnum((unsigned char)p[-1]) ||
			    p[-1] == '_')))
				continue;
			st = (p[0] - '0') * 100 + (p[1] - '0') * 10 +
			    (p[2] - '0');
			if (strcmp(api_reason(st), "Unknown") != 0) {
				n++;
				snprintf(bad + strlen(bad), badlen -
				    strlen(bad), " %s:%d status %d;", path,
				    lineno, st);
			}
		}
		for (i = 0; (k = api_verdict_kind_at(i)) != NULL; i++)
			if (k->title != NULL && strstr(line, k->title) &&
			    !title_before(i, k->title)) {
				n++;
				snprintf(bad + strlen(bad), badlen -
				    strlen(bad), " %s:%d title \"%s\";", path,
				    lineno, k->title);
			}
	}
	free(text);
	return n;
}

START_TEST(sql_speaks_no_http)
{
	struct names files = { .n = 0 };
	char bad[4096] = "";
	int i, n = 0;

	sql_files(&files, LAST_HTTP_MIGRATION);
	ck_assert_int_gt(files.n, 5);
	for (i = 0; i < files.n; i++)
		n += http_in_file(files.s[i], bad, sizeof(bad) - 200);
	names_free(&files);
	ck_assert_msg(n == 0, "HTTP in the SQL (say the verdict's code, or "
	    "\"the caller\"):%s", bad);
	/* The check sees the statuses the landed migrations still hold. */
	bad[0] = '\0';
	ck_assert_int_gt(http_in_file("db/migrations/0007_reservas.sql", bad,
	    sizeof(bad) - 200), 10);
}
END_TEST

Suite *
result_suite(void)
{
	Suite *s = suite_create("result");
	TCase *tc = tcase_create("verdicts");

	tcase_add_test(tc, returned_codes_known_to_the_api);
	tcase_add_test(tc, api_table_is_the_sql_table);
	tcase_add_test(tc, each_code_an_answer);
	tcase_add_test(tc, sql_speaks_no_http);
	suite_add_tcase(s, tc);
	return s;
}
