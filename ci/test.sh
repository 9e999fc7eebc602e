#!/usr/bin/env bash
# ci/test.sh - what `make test` runs (after ci/deps.sh):
#  1. builds the coverage (build/cov) and sanitizer (build/asan: ASan+UBSan)
#     trees, warnings as errors, and checks that the layers of lib/ and
#     fcgi-api/ include and call downward only (tests/layers/);
#  2. starts a throw-away stack under var/test on its own ports
#     (PostgreSQL, RabbitMQ, 2 API processes, nginx);
#  3. runs the Check unit suites and the integration suites (real HTTP
#     through nginx, real SQL, real AMQP) against the coverage binaries,
#     then again against the sanitizer binaries;
#  4. runs the CI compose job's first-run steps against the stack
#     (tests/compose/fcgi_get.py, primera_cita.py), checks that every line
#     the services logged is JSON, starts a second stack from a clone under
#     a mode-700 directory (as root: /root on a fresh machine), checks that
#     the documents link only inside the repository, checks the bench
#     report's verdicts on made-up figures, runs the README's
#     walk-through (docs/walkthrough.sh) against each stack, checks the
#     README shows its steps as they are, runs a short contract fuzzer
#     pass (schemathesis, tests/contract/) against the sanitizer stack
#     (last, as it disables and changes users), validates every event in
#     the outbox against its contract (db/eventos/), reads every
#     iCalendar feed the calendar worker wrote with Python's icalendar
#     (tests/ical/), and validates the compose packaging;
#  5. stops the stack (the API processes exit normally, writing coverage)
#     and fails when line coverage of our C code is under 90%.
# Usage: ci/test.sh [--coverage-only]   (the latter: only step 6's report)
set -euo pipefail
cd "$(dirname "$0")/.."

export VETRED_STACK_DIR=var/test
export VETRED_PG_PORT="${VETRED_TEST_PG_PORT:-19432}"
export VETRED_AMQP_PORT="${VETRED_TEST_AMQP_PORT:-19672}"
export VETRED_AMQP_DIST_PORT="${VETRED_TEST_AMQP_DIST_PORT:-19673}"
export VETRED_HTTP_PORT="${VETRED_TEST_HTTP_PORT:-19080}"
export VETRED_EPMD_PORT="${VETRED_TEST_EPMD_PORT:-19369}"
export VETRED_API_PROCS=2
export VETRED_SEED=1
# The suites send thousands of requests a second with one admin token: a
# budget no suite meets (the buckets still run on every request); the
# budget's own test gives its user a small one (usuario_limites).
export VETRED_RATE_PER_USER=1000000 VETRED_RATE_BURST=4000000

# An origin a browser front end would call from (the CORS tests use the
# first one and an unlisted one).
export VETRED_CORS_ORIGINS="${VETRED_CORS_ORIGINS:-https://agenda.vetred.test,http://localhost:5173}"
# A sourced env file of another stack must not point the tests elsewhere.
unset VETRED_DATABASE_URL VETRED_AMQP_URL VETRED_JWT_KEYS VETRED_API_DATABASE_URL VETRED_DATA_KEYS VETRED_SEARCH_KEY
COVERAGE_MIN="${VETRED_COVERAGE_MIN:-90}"
JOBS="$(nproc)"

say() { printf '\n==> %s\n' "$*"; }

coverage_report() {
  say "coverage (minimum ${COVERAGE_MIN}% of lines)"
  mkdir -p build/coverage
  gcovr -r . build/cov --filter 'lib/' --filter 'fcgi-api/' --filter 'scheduler/' --filter 'worker/' --filter 'db/' \
    --html-details build/coverage/index.html --print-summary \
    --fail-under-line "$COVERAGE_MIN" --txt build/coverage/summary.txt
  cat build/coverage/summary.txt | tail -n 25
}

if [ "${1:-}" = "--coverage-only" ]; then
  coverage_report
  exit 0
fi

say "build (coverage and sanitizer trees)"
make -s -j"$JOBS" MODE=cov all tests
make -s -j"$JOBS" MODE=asan all tests
find build/cov -name '*.gcda' -delete

stop_stack() { ci/stack.sh stop >/dev/null 2>&1 || true; }
trap stop_stack EXIT

# A throw-away stack: whatever an earlier run left is removed first.
ci/stack.sh clean >/dev/null 2>&1 || true
rm -rf "$VETRED_STACK_DIR"

export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:exitcode=86"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
failed=0

say "layers: the include graphs of lib/ and fcgi-api/ (no circle, nothing upward)"
layers_self="$(python3 tests/layers/check_layers.py --self-test)" ||
  { echo "$layers_self"; failed=1; }
python3 tests/layers/check_layers.py || failed=1

for mode in cov asan; do
  say "stack with build/$mode binaries"
  VETRED_BIN="build/$mode" ci/stack.sh start
  # shellcheck disable=SC1091
  source "$VETRED_STACK_DIR/env"
  say "unit suites ($mode)"
  "build/$mode/unit-tests" || failed=1
  say "integration suites ($mode)"
  "build/$mode/integration-tests" || failed=1
  # The failover suite stopped the API processes: start them again for
  # the next pass.
  VETRED_BIN="build/$mode" ci/stack.sh start >/dev/null
  say "walk-through of the README ($mode)"
  bash docs/walkthrough.sh "$VETRED_HTTP_URL" || failed=1
done

# What the CI compose job does against `docker compose up`, here against
# the local stack: /ready of each API process straight over FastCGI, then
# a bootstrapped administrator books a first appointment from nothing.
say "first run: /ready of each API process, first administrator, first booking"
for sock in "$VETRED_STACK_DIR"/run/api-*.sock; do
  python3 tests/compose/fcgi_get.py "$sock" /ready || failed=1
done
first_pw="Primera-Cita-$(openssl rand -hex 6)"
first_email="primer.admin.$(openssl rand -hex 4)@vetred.test"
if printf '%s\n' "$first_pw" | build/asan/vetred-admin crear-admin "$first_email" --forzar; then
  FIRST_PW="$first_pw" python3 tests/compose/primera_cita.py --base "$VETRED_HTTPS_URL" --insecure \
    --email "$first_email" --password-env FIRST_PW \
    --psql "/usr/lib/postgresql/15/bin/psql -X -qAt -v ON_ERROR_STOP=1 -d '$VETRED_DATABASE_URL'" || failed=1
else
  failed=1
fi

say "contract fuzzer (schemathesis, all checks)"
VETRED_ADMIN_BIN=build/asan/vetred-admin var/venv/bin/python3 \
  tests/contract/fuzz.py || failed=1

# Every event the suites, the walk-through and the fuzzer made, against
# its payload schema (db/eventos/); every schema must have been exercised.
say "event contracts (db/eventos/) against every event in the outbox"
var/venv/bin/python3 tests/eventos/check_eventos.py --db "$VETRED_DATABASE_URL" || failed=1
# Every iCalendar feed the calendar worker wrote, and the renderer's golden
# file, read by an independent parser (Python's icalendar).
say "iCalendar feeds (tests/ical/check_feeds.py) with an independent parser"
var/venv/bin/python3 tests/ical/check_feeds.py --dir "$VETRED_STACK_DIR/ical" || failed=1
ci/stack.sh stop

say "sanitizer reports from the services"
if grep -lE 'ERROR: (Address|Leak)Sanitizer|runtime error:' \
    "$VETRED_STACK_DIR"/log/api-*.log* "$VETRED_STACK_DIR"/log/worker*.log* \
    "$VETRED_STACK_DIR"/log/scheduler*.log* 2>/dev/null; then
  grep -hE -A20 'ERROR: (Address|Leak)Sanitizer|runtime error:' \
    "$VETRED_STACK_DIR"/log/api-*.log* "$VETRED_STACK_DIR"/log/worker*.log* \
    "$VETRED_STACK_DIR"/log/scheduler*.log* 2>/dev/null | head -80
  failed=1
else
  echo "none"
fi

say "service logs are JSON lines"
python3 tests/logs/check_json_logs.py "$VETRED_STACK_DIR/log" || failed=1

say "a clone under a mode-700 home (root only)"
VETRED_BIN=build/cov bash tests/stack/check_private_home.sh || failed=1

say "documents link only inside the repository"
python3 tests/docs/check_links.py || failed=1

say "the bench report: a target missed is a miss, a target met a pass"
python3 tests/bench/test_report.py || failed=1

say "the README shows the walk-through's steps as they are"
steps() { sed -n '/^# >>> steps/,/^# <<< steps/p' "$1"; }
if [ -z "$(steps docs/walkthrough.sh)" ] ||
    ! diff -u <(steps docs/walkthrough.sh) <(steps README.md); then
  echo "README.md: the steps between '# >>> steps' and '# <<< steps' must be docs/walkthrough.sh's"
  failed=1
else
  echo "same"
fi

say "compose packaging"
bash tests/compose/check_compose.sh || failed=1

coverage_report || failed=1

if [ "$failed" -ne 0 ]; then
  say "FAILED"
  exit 1
fi
say "all tests passed"
