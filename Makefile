# VetRed - build, run, test, bench.  Plain GNU make; flags in config.mk.
#   make            build the services (build/release)
#   make run        install what is missing, start the whole stack
#   make test       coverage + sanitizer builds, unit and integration tests
#   make bench      load benchmarks (bench/README.md)
#   make bench-relay  the outbox relay's benchmark alone (bench/relay.py)
#   make bench-busqueda  the owner search's benchmark alone (bench/busqueda.py)
#   make bench-ical  the calendar feeds' polling benchmark alone (bench/ical.py)
# MODE=release|cov|asan selects the build directory build/$(MODE).

include config.mk
-include config.local.mk

LIB_SRCS = lib/err.c lib/mem.c lib/config.c lib/log.c lib/db.c \
	   lib/migrate.c lib/json.c lib/valid.c lib/time.c lib/crypto.c lib/amqp.c \
	   lib/b64.c lib/jwt.c lib/password.c lib/cifra.c lib/keyring.c lib/auth.c \
	   lib/httpd.c lib/cli.c lib/cron.c lib/worker.c lib/ical.c

API_SRCS = fcgi-api/config.c fcgi-api/http.c fcgi-api/router.c fcgi-api/metrics.c \
	   fcgi-api/sql.c fcgi-api/system.c \
	   fcgi-api/sedes.c fcgi-api/result.c fcgi-api/citas.c \
	   fcgi-api/agenda.c fcgi-api/horarios.c fcgi-api/pacientes.c fcgi-api/propietarios.c \
	   fcgi-api/clinico.c fcgi-api/calendarios.c fcgi-api/ics.c \
	   fcgi-api/openapi_doc.c \
	   fcgi-api/auth.c fcgi-api/access.c fcgi-api/usuarios.c \
	   fcgi-api/auditoria.c fcgi-api/monitor.c \
	   fcgi-api/limite.c fcgi-api/cors.c fcgi-api/req.c \
	   fcgi-api/problem.c fcgi-api/params.c fcgi-api/args.c \
	   fcgi-api/trabajos.c fcgi-api/eventos.c
API_MAIN = fcgi-api/main.c

SCHED_SRCS = scheduler/config.c scheduler/sql.c scheduler/relay.c scheduler/jobs.c \
	     scheduler/monitor.c
SCHED_MAIN = scheduler/main.c

WORKER_SRCS = worker/config.c worker/jobs.c worker/muertos.c worker/calendarios.c
WORKER_MAIN = worker/main.c

MIGRATE_SRCS = db/migrate.c db/migrate_config.c
ADMIN_SRCS = db/admin.c

UNIT_SRCS = tests/unit/run.c tests/unit/check_err.c tests/unit/check_mem.c \
	    tests/unit/check_config.c tests/unit/check_log.c \
	    tests/unit/check_json.c tests/unit/check_valid.c \
	    tests/unit/check_time.c \
	    tests/unit/check_db.c tests/unit/check_migrate.c \
	    tests/unit/check_amqp.c tests/unit/check_router.c \
	    tests/unit/check_metrics.c tests/unit/check_openapi.c \
	    tests/unit/check_b64.c tests/unit/check_jwt.c \
	    tests/unit/check_keyring.c tests/unit/check_auth.c \
	    tests/unit/check_password.c tests/unit/check_cifra.c \
	    tests/unit/check_httpd.c tests/unit/check_result.c \
	    tests/unit/check_sql.c tests/unit/check_cron.c \
	    tests/unit/check_ical.c

INTEG_SRCS = tests/integration/run.c tests/integration/http_client.c \
	     tests/integration/check_system.c \
	     tests/integration/check_errors.c \
	     tests/integration/check_sedes.c \
	     tests/integration/check_cors.c \
	     tests/integration/fixtures.c \
	     tests/integration/check_pacientes.c \
	     tests/integration/check_propietarios.c \
	     tests/integration/check_clinico.c tests/integration/check_entradas.c \
	     tests/integration/check_horarios.c tests/integration/check_calendarios.c \
	     tests/integration/check_citas.c \
	     tests/integration/check_agenda.c \
	     tests/integration/check_concurrency.c \
	     tests/integration/check_auth.c \
	     tests/integration/check_access.c \
	     tests/integration/check_usuarios.c \
	     tests/integration/check_auditoria.c \
	     tests/integration/check_tls.c \
	     tests/integration/check_observability.c \
	     tests/integration/check_cli.c \
	     tests/integration/check_trabajos.c \
	     tests/integration/amqp_client.c \
	     tests/integration/check_relay.c \
	     tests/integration/check_worker.c \
	     tests/integration/check_failover.c

obj = $(patsubst %.c,$(B)/%.o,$(1))

LIB	= $(B)/libvr.a
API	= $(B)/vetred-api
SCHED	= $(B)/vetred-scheduler
WORKER	= $(B)/vetred-worker
MIGRATE	= $(B)/vetred-migrate
ADMIN	= $(B)/vetred-admin
BENCHPUB = $(B)/bench-publish
UNIT	= $(B)/unit-tests
INTEG	= $(B)/integration-tests
PRUEBA	= $(B)/vetred-worker-prueba

all: $(API) $(SCHED) $(WORKER) $(MIGRATE) $(ADMIN)

tests: $(UNIT) $(INTEG) $(PRUEBA)

$(LIB): $(call obj,$(LIB_SRCS))
	rm -f $@
	$(AR) rcs $@ $^

$(API): $(call obj,$(API_SRCS) $(API_MAIN)) $(LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

$(SCHED): $(call obj,$(SCHED_SRCS) $(SCHED_MAIN)) $(LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

$(WORKER): $(call obj,$(WORKER_SRCS) $(WORKER_MAIN)) $(LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

$(BENCHPUB): $(call obj,bench/publish_bare.c) $(LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

$(MIGRATE): $(call obj,$(MIGRATE_SRCS)) $(LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

$(ADMIN): $(call obj,$(ADMIN_SRCS)) $(LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

$(UNIT): $(call obj,$(UNIT_SRCS) $(API_SRCS) $(SCHED_SRCS) $(WORKER_SRCS) db/migrate_config.c) $(LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(CHECK_LIBS) $(LIBS)

$(INTEG): $(call obj,$(INTEG_SRCS)) $(LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(CHECK_LIBS) $(LIBS)

# The integration tests' consumer on the worker runtime.
$(PRUEBA): $(call obj,tests/integration/worker_prueba.c) $(LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

$(B)/tests/%.o: tests/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(CHECK_CFLAGS) -Ifcgi-api -Idb -Ischeduler -Iworker -Itests -c -o $@ $<

$(B)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# The version comes from config.mk.
$(B)/lib/cli.o: config.mk

# The OpenAPI document is linked into the API (.incbin).
$(B)/fcgi-api/openapi_doc.o: fcgi-api/openapi.json

run:
	ci/deps.sh
	$(MAKE) MODE=release all
	ci/run.sh

stop:
	ci/stack.sh stop

test:
	ci/deps.sh
	ci/test.sh

coverage:
	ci/test.sh --coverage-only

bench:
	ci/deps.sh
	$(MAKE) MODE=release all $(BENCHPUB)
	bench/run.py
	bench/relay.py
	bench/busqueda.py
	bench/ical.py

bench-relay:
	ci/deps.sh
	$(MAKE) MODE=release all $(BENCHPUB)
	bench/relay.py

bench-busqueda:
	ci/deps.sh
	$(MAKE) MODE=release all
	bench/busqueda.py

bench-ical:
	ci/deps.sh
	$(MAKE) MODE=release all
	bench/ical.py

clean:
	rm -rf build

.PHONY: all tests run stop test coverage bench bench-relay bench-busqueda bench-ical clean

-include $(shell find $(B) -name '*.d' 2>/dev/null)
