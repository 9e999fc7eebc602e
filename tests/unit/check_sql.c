/*
 * check_sql.c - fcgi-api/sql.c's statements and their parameters
 * (api_sql_args), and the builder that sets them by name (args.c).
 *
 * Each statement's list of parameters must name exactly its $1..$N, and
 * every typed one (sent binary) must be cast in the SQL to that type, at
 * each place it appears.  Then, on the real database, PostgreSQL must give
 * each prepared parameter the type the list says (PQdescribePrepared), so
 * a binary value is never read in another type.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sql.h"
#include "tests.h"

#define OID_BOOL	16
#define OID_INT8	20
#define OID_INT4	23

/* The highest $N of sql, and in seen[k] whether $k appears. */
static int
max_param(const char *sql, int seen[API_MAX_ARGS + 2])
{
	const char *p;
	int k, max = 0;

	memset(seen, 0, sizeof(int) * (API_MAX_ARGS + 2));
	for (p = sql; (p = strchr(p, '$')) != NULL; p++) {
		if (!isdigit((unsigned char)p[1]))
			continue;
		k = atoi(p + 1);
		ck_assert_msg(k >= 1 && k <= API_MAX_ARGS, "%s: $%d", sql, k);
		seen[k] = 1;
		if (k > max)
			max = k;
	}
	return max;
}

/* Whether every $k of sql is followed by ::<one of casts>. */
static int
cast_everywhere(const char *sql, int k, const char *const *casts)
{
	const char *p = sql, *q;
	char word[32];
	size_t n;
	int i, seen = 0;

	for (; (p = strchr(p, '$')) != NULL; p++) {
		if (!isdigit((unsigned char)p[1]) || atoi(p + 1) != k)
			continue;
		for (q = p + 1; isdigit((unsigned char)*q); q++)
			;
		if (strncmp(q, "::", 2) != 0)
			return 0;
		q += 2;
		n = strspn(q, "abcdefghijklmnopqrstuvwxyz0-9");
		if (n == 0 || n >= sizeof(word))
			return 0;
		memcpy(word, q, n);
		word[n] = '\0';
		for (i = 0; casts[i] != NULL && strcmp(casts[i], word) != 0; i++)
			;
		if (casts[i] == NULL || q[n] == '[')	/* an array is not */
			return 0;
		seen++;
	}
	return seen > 0;
}

static const char *const int8_casts[] = { "bigint", "int8", NULL };
static const char *const int4_casts[] = { "int", "integer", "int4", NULL };
static const char *const bool_casts[] = { "boolean", "bool", NULL };

/* The names of stmt's parameters, in order, into names[] (who expanded). */
static int
names_of(int stmt, char names[][32])
{
	char list[512], *tok, *save = NULL, *colon;
	int n = 0;

	snprintf(list, sizeof(list), "%s", api_sql_args[stmt]);
	for (tok = strtok_r(list, " ", &save); tok != NULL;
	    tok = strtok_r(NULL, " ", &save)) {
		if (strcmp(tok, "who") == 0) {
			snprintf(names[n++], 32, "usuario");
			snprintf(names[n++], 32, "rol");
			snprintf(names[n++], 32, "request_id");
			snprintf(names[n++], 32, "ip");
			continue;
		}
		if ((colon = strchr(tok, ':')) != NULL)
			*colon = '\0';
		snprintf(names[n++], 32, "%s", tok);
	}
	return n;
}

START_TEST(every_statement_names_its_parameters)
{
	char names[API_MAX_ARGS + 8][32];
	int seen[API_MAX_ARGS + 2], s, k, j, n, max, typed = 0;
	enum api_arg_type t;

	for (s = 0; s < STMT__MAX; s++) {
		ck_assert_msg(api_sql[s] != NULL, "statement %d has no SQL", s);
		ck_assert_msg(api_sql_args[s] != NULL, "statement %d (%s) has "
		    "no parameter list in api_sql_args", s, api_sql[s]);
		max = max_param(api_sql[s], seen);
		n = api_sql_nargs(s);
		ck_assert_msg(n == max, "%s: %d parameters named (%s), $%d "
		    "used", api_sql[s], n, api_sql_args[s], max);
		for (k = 1; k <= max; k++)
			ck_assert_msg(seen[k], "%s: $%d is never used", api_sql[s],
			    k);
		ck_assert_int_eq(names_of(s, names), n);
		for (k = 0; k < n; k++) {
			for (j = 0; j < k; j++)
				ck_assert_msg(strcmp(names[j], names[k]) != 0,
				    "%s: %s named twice", api_sql_args[s],
				    names[k]);
			ck_assert_int_eq(api_sql_arg(s, names[k], &t), k);
			if (t == ARG_TEXT)
				continue;
			typed++;
			ck_assert_msg(cast_everywhere(api_sql[s], k + 1,
			    t == ARG_INT8 ? int8_casts : t == ARG_INT4 ?
			    int4_casts : bool_casts), "%s: $%d (%s) is sent "
			    "binary, so each use must cast it to its type",
			    api_sql[s], k + 1, names[k]);
		}
	}
	/* The walk saw the typed parameters it is meant to see. */
	ck_assert_int_gt(typed, 40);
	ck_assert_int_eq(api_sql_nargs(-1), -1);
	ck_assert_int_eq(api_sql_nargs(STMT__MAX), -1);
	ck_assert_int_eq(api_sql_arg(STMT_SEDE_GET, "nada", &t), -1);
	ck_assert_int_eq(api_sql_arg(STMT__MAX, "id", &t), -1);
}
END_TEST

/* The casts the SQL makes are the types PostgreSQL prepared. */
START_TEST(prepared_types_are_the_declared_ones)
{
	struct vr_db db;
	PGresult *d;
	char name[16];
	enum api_arg_type t;
	int s, k, want, checked = 0;
	char names[API_MAX_ARGS + 8][32];

	ck_assert_msg(vr_db_open(&db, ut_db_base_url(), api_sql, STMT__MAX,
	    5000) == 0, "the API's statements do not prepare: %s", db.errmsg);
	for (s = 0; s < STMT__MAX; s++) {
		snprintf(name, sizeof(name), "vr%d", s);
		d = PQdescribePrepared(db.conn, name);
		ck_assert_int_eq(PQresultStatus(d), PGRES_COMMAND_OK);
		ck_assert_msg(PQnparams(d) == api_sql_nargs(s), "%s: %d "
		    "parameters prepared, %d named", api_sql[s], PQnparams(d),
		    api_sql_nargs(s));
		names_of(s, names);
		for (k = 0; k < PQnparams(d); k++) {
			api_sql_arg(s, names[k], &t);
			want = t == ARG_INT8 ? OID_INT8 : t == ARG_INT4 ?
			    OID_INT4 : t == ARG_BOOL ? OID_BOOL : 0;
			if (want == 0)
				continue;
			ck_assert_msg((int)PQparamtype(d, k) == want, "%s: $%d "
			    "(%s) is prepared as type %u, sent as %d", api_sql[s],
			    k + 1, names[k], PQparamtype(d, k), want);
			checked++;
		}
		PQclear(d);
	}
	vr_db_close(&db);
	ck_assert_int_gt(checked, 40);
}
END_TEST

/* Numbers go binary, in network order, in the parameter's width. */
START_TEST(builder_encodes_by_type)
{
	static const unsigned char id[8] = { 0, 0, 0x01, 0x02, 0x03, 0x04,
	    0x05, 0x06 };
	static const unsigned char dur[4] = { 0xff, 0xff, 0xff, 0xfe };
	struct api_args a;
	int i;

	api_args_init(&a, STMT_CITA_UPDATE);
	ck_assert_int_eq(a.n, 15);
	for (i = 0; i < a.n; i++)
		ck_assert_ptr_null(a.v[i]);		/* unset: NULL */
	api_arg_int(&a, "id", 0x010203040506LL);
	ck_assert_int_eq(a.len[0], 8);
	ck_assert_int_eq(a.fmt[0], 1);
	ck_assert_mem_eq(a.v[0], id, 8);
	api_arg_int(&a, "duracion_min", -2);
	ck_assert_int_eq(a.len[2], 4);
	ck_assert_mem_eq(a.v[2], dur, 4);
	api_arg_bool(&a, "sin_consultorio", 7);
	ck_assert_int_eq(a.len[6], 1);
	ck_assert_int_eq(a.v[6][0], 1);
	api_arg_text(&a, "estado", "confirmada");
	ck_assert_str_eq(a.v[7], "confirmada");
	ck_assert_int_eq(a.fmt[7], 0);
	api_arg_text(&a, "id", "12");		/* text: any type */
	ck_assert_str_eq(a.v[0], "12");
	ck_assert_int_eq(a.fmt[0], 0);
	api_arg_text(&a, "ip", "10.0.0.1");	/* of "who" */
	ck_assert_str_eq(a.v[14], "10.0.0.1");
	ck_assert_int_eq(a.err, 0);
}
END_TEST

/* A name the statement lacks or a value of another type runs nothing. */
START_TEST(builder_refuses_what_the_statement_lacks)
{
	struct api_args a;
	struct vr_db db;
	PGresult *res = (PGresult *)&a;

	memset(&db, 0, sizeof(db));
	api_args_init(&a, STMT_SEDE_GET);
	api_arg_int(&a, "sede", 1);
	ck_assert_int_eq(a.err, 1);
	ck_assert_int_eq(api_args_run(&db, &a, 0, &res), VR_EDB);
	ck_assert_ptr_null(res);
	api_args_init(&a, STMT_SEDE_GET);
	api_arg_bool(&a, "id", 1);
	ck_assert_int_eq(a.err, 1);
	api_args_init(&a, STMT_SEDES_LIST);
	api_arg_int(&a, "activa", 1);
	ck_assert_int_eq(a.err, 1);
	api_args_init(&a, STMT_CITAS_LIST);
	api_arg_int(&a, "limite", 2147483648LL);	/* beyond an int4 */
	ck_assert_int_eq(a.err, 1);
	api_args_init(&a, STMT__MAX);
	ck_assert_int_eq(a.err, 1);
	ck_assert_int_eq(a.n, 0);
	api_arg_text(&a, "id", "1");		/* no statement: refused */
	ck_assert_int_eq(a.err, 1);
}
END_TEST

/* Binary values round the server: what goes in comes back. */
START_TEST(builder_values_reach_the_server)
{
	struct api_args a;
	struct vr_db db;
	PGresult *res = NULL;

	ck_assert_int_eq(vr_db_open(&db, ut_db_base_url(), api_sql, STMT__MAX,
	    5000), 0);
	api_args_init(&a, STMT_SEDES_LIST);
	api_arg_bool(&a, "activa", 0);
	ck_assert_int_eq(api_args_run(&db, &a, 0, &res), 0);
	ck_assert_int_eq(PQntuples(res), 1);
	PQclear(res);
	api_args_init(&a, STMT_AUDITORIA_ESTADO);
	api_arg_int(&a, "desde", 1);
	api_arg_int(&a, "hasta", 1);
	api_arg_int(&a, "limite", 1);
	ck_assert_int_eq(api_args_run(&db, &a, 0, &res), 0);
	ck_assert_ptr_nonnull(strstr(PQgetvalue(res, 0, 0), "\"limite\": 1"));
	PQclear(res);
	vr_db_close(&db);
}
END_TEST

Suite *
sql_suite(void)
{
	Suite *s = suite_create("sql");
	TCase *tc = tcase_create("statements");

	tcase_add_test(tc, every_statement_names_its_parameters);
	tcase_add_test(tc, builder_encodes_by_type);
	tcase_add_test(tc, builder_refuses_what_the_statement_lacks);
	suite_add_tcase(s, tc);
	tc = tcase_create("database");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, prepared_types_are_the_declared_ones);
	tcase_add_test(tc, builder_values_reach_the_server);
	suite_add_tcase(s, tc);
	return s;
}
