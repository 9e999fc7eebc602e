/*
 * args.c - a statement's parameters set by name, with typed values.
 *
 * The names and types come from api_sql_args[] (sql.c), beside the SQL.
 * Numbers and booleans go to PostgreSQL as binary values in the type the
 * statement's cast gives the parameter (int8, int4, bool: network byte
 * order), never printed into text and parsed back; text goes as text.
 * Layer: base.
 */
#include <string.h>

#include "sql.h"

#define WHO	"usuario:int8 rol request_id ip"

static const struct {
	const char		*name;
	enum api_arg_type	 type;
} types[] = {
	{ "int8", ARG_INT8 }, { "int4", ARG_INT4 }, { "bool", ARG_BOOL },
};

/* The type named by colon..e (":int8"), text when none. */
static enum api_arg_type
type_of(const char *colon, const char *e)
{
	size_t i, n;

	if (colon == NULL)
		return ARG_TEXT;
	n = (size_t)(e - colon - 1);
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strlen(types[i].name) == n &&
		    memcmp(colon + 1, types[i].name, n) == 0)
			return types[i].type;
	return ARG_TEXT;
}

/*
 * Look for name in list ("who" expanded), counting parameters in *idx:
 * its index (and *type), or -1 with *idx past the list.  name NULL: just
 * count.
 */
static int
find(const char *list, const char *name, int *idx, enum api_arg_type *type)
{
	const char *p = list, *e, *colon;
	size_t n;
	int i;

	for (;; p = e) {
		while (*p == ' ')
			p++;
		if (*p == '\0')
			return -1;
		e = p + strcspn(p, " ");
		if (e - p == 3 && memcmp(p, "who", 3) == 0) {
			if ((i = find(WHO, name, idx, type)) >= 0)
				return i;
			continue;
		}
		colon = memchr(p, ':', (size_t)(e - p));
		n = (size_t)((colon ? colon : e) - p);
		if (name != NULL && strlen(name) == n && memcmp(p, name, n) == 0) {
			*type = type_of(colon, e);
			return *idx;
		}
		(*idx)++;
	}
}

/* The index of parameter name of stmt (its type in *type), or -1. */
int
api_sql_arg(int stmt, const char *name, enum api_arg_type *type)
{
	int idx = 0;

	if (stmt < 0 || stmt >= STMT__MAX || api_sql_args[stmt] == NULL)
		return -1;
	return find(api_sql_args[stmt], name, &idx, type);
}

/* How many parameters stmt takes; -1 for no such statement. */
int
api_sql_nargs(int stmt)
{
	int idx = 0;

	if (stmt < 0 || stmt >= STMT__MAX)
		return -1;
	if (api_sql_args[stmt] != NULL)
		find(api_sql_args[stmt], NULL, &idx, NULL);
	return idx;
}

void
api_args_init(struct api_args *a, int stmt)
{
	memset(a, 0, sizeof(*a));
	a->stmt = stmt;
	a->n = api_sql_nargs(stmt);
	if (a->n < 0 || a->n > API_MAX_ARGS) {
		vr_log(VR_LOG_ERROR, NULL, "statement arguments: bad statement",
		    NULL);
		a->err = 1;
		a->n = 0;
	}
}

/* The slot of name, when it has one of the types allowed; else -1. */
static int
slot(struct api_args *a, const char *name, unsigned allowed,
    enum api_arg_type *type)
{
	int i = api_sql_arg(a->stmt, name, type);

	if (i < 0 || i >= a->n || !(allowed & (1u << *type))) {
		vr_log(VR_LOG_ERROR, NULL, i < 0 ? "statement arguments: no "
		    "such parameter" : "statement arguments: wrong type",
		    "name", name, "parameters", a->stmt >= 0 && a->stmt <
		    STMT__MAX ? api_sql_args[a->stmt] : "", NULL);
		a->err = 1;
		return -1;
	}
	return i;
}

/* Text in the parameter's text form, whatever its type; NULL: SQL NULL. */
void
api_arg_text(struct api_args *a, const char *name, const char *v)
{
	enum api_arg_type t;
	int i = slot(a, name, ~0u, &t);

	if (i < 0)
		return;
	a->v[i] = v;
	a->len[i] = 0;
	a->fmt[i] = 0;
}

void
api_arg_int(struct api_args *a, const char *name, long long v)
{
	enum api_arg_type t;
	int i = slot(a, name, 1u << ARG_INT8 | 1u << ARG_INT4, &t), k, n;

	if (i < 0)
		return;
	if (t == ARG_INT4 && (v < -2147483648LL || v > 2147483647LL)) {
		vr_log(VR_LOG_ERROR, NULL, "statement arguments: out of range",
		    "name", name, NULL);
		a->err = 1;
		return;
	}
	n = t == ARG_INT8 ? 8 : 4;
	for (k = 0; k < n; k++)
		a->bin[i][k] = (unsigned char)((unsigned long long)v >>
		    (8 * (n - 1 - k)));
	a->v[i] = (const char *)a->bin[i];
	a->len[i] = n;
	a->fmt[i] = 1;
}

void
api_arg_bool(struct api_args *a, const char *name, int v)
{
	enum api_arg_type t;
	int i = slot(a, name, 1u << ARG_BOOL, &t);

	if (i < 0)
		return;
	a->bin[i][0] = v != 0;
	a->v[i] = (const char *)a->bin[i];
	a->len[i] = 1;
	a->fmt[i] = 1;
}

/*
 * Run the statement on db; *res (on success) is the caller's to clear.
 * write: an autocommit write, never retried.  VR_EDB without running it
 * when a bad name or type was given.
 */
int
api_args_run(struct vr_db *db, const struct api_args *a, int write,
    PGresult **res)
{
	*res = NULL;
	if (a->err)
		return VR_EDB;
	return vr_db_exec_fmt(db, a->stmt, a->n, a->v, a->len, a->fmt, write,
	    res);
}
