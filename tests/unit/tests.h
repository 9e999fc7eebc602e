/*
 * tests.h - the unit suites (one per module, run by run.c) and the few
 * helpers the PostgreSQL suites share (defined in check_db.c).
 */
#ifndef TESTS_H
#define TESTS_H

#include <check.h>
#include <libpq-fe.h>

Suite	*err_suite(void);
Suite	*mem_suite(void);
Suite	*config_suite(void);
Suite	*log_suite(void);
Suite	*json_suite(void);
Suite	*valid_suite(void);
Suite	*time_suite(void);
Suite	*db_suite(void);
Suite	*migrate_suite(void);
Suite	*amqp_suite(void);
Suite	*router_suite(void);
Suite	*metrics_suite(void);
Suite	*httpd_suite(void);
Suite	*openapi_suite(void);
Suite	*b64_suite(void);
Suite	*jwt_suite(void);
Suite	*keyring_suite(void);
Suite	*auth_suite(void);
Suite	*password_suite(void);
Suite	*cifra_suite(void);
Suite	*result_suite(void);
Suite	*sql_suite(void);
Suite	*cron_suite(void);
Suite	*ical_suite(void);

/*
 * A private schema, ut_<pid of the runner>, isolates the database suites.
 * ut_db_url(): VETRED_DATABASE_URL with search_path set to that schema
 * (fails the test when the variable is unset).  ut_db_fresh_schema() is a
 * checked setup: the schema is dropped and created again for every test.
 * ut_db_drop_schema() is the unchecked teardown that removes it for good.
 * ut_db_admin() is a plain libpq connection to VETRED_DATABASE_URL with
 * the same search_path; ut_db_exec() runs SQL on it and fails the test on
 * error.
 */
void		 ut_db_name_schema(void);
const char	*ut_db_schema(void);
const char	*ut_db_base_url(void);
const char	*ut_db_url(void);
const char	*ut_db_url_with_path(const char *search_path);
void		 ut_db_fresh_schema(void);
void		 ut_db_drop_schema(void);
PGconn		*ut_db_admin(void);
/* A file of the repository, whole and NUL-terminated (malloc'd); fails
 * the test when it cannot be read (run from the repository root). */
char		*ut_slurp(const char *path);

void		 ut_db_exec(PGconn *c, const char *sql);
long		 ut_db_count(PGconn *c, const char *sql);

#endif /* TESTS_H */
