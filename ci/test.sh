#!/usr/bin/env bash
# ci/test.sh - what `make test` runs (after ci/deps.sh):
#  1. builds the coverage (build/cov) and sanitizer (build/asan: ASan+UBSan)
#     trees, warnings as errors;
#  2. starts a throw-away stack under var/test on its own ports
#     (PostgreSQL, RabbitMQ, 2 API processes, nginx);
#  3. runs the Check unit suites and the integration suites (real HTTP
#     through nginx, real SQL, real AMQP) against the coverage binaries,
#     then again against the sanitizer binaries;
#  4. runs a short contract fuzzer pass (schemathesis, tests/contract/)
#     against the sanitizer stack: last, as it disables and changes users;
#  5. validates the compose packaging;
#  6. stops the stack (the API processes exit normally, writing coverage)
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
export VETRED_SEAL_INTERVAL_S=2
# A sourced env file of another stack must not point the tests elsewhere.
unset VETRED_DATABASE_URL VETRED_AMQP_URL VETRED_JWT_KEYS VETRED_API_DATABASE_URL VETRED_DATA_KEYS VETRED_SEARCH_KEY
COVERAGE_MIN="${VETRED_COVERAGE_MIN:-90}"
JOBS="$(nproc)"

say() { printf '\n==> %s\n' "$*"; }

coverage_report() {
  say "coverage (minimum ${COVERAGE_MIN}% of lines)"
  mkdir -p build/coverage
  gcovr -r . build/cov --filter 'lib/' --filter 'fcgi-api/' --filter 'db/' \
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
ci/stack.sh stop >/dev/null 2>&1 || true
rm -rf "$VETRED_STACK_DIR"

export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:exitcode=86"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
failed=0
for mode in cov asan; do
  say "stack with build/$mode binaries"
  VETRED_BIN="build/$mode" ci/stack.sh start
  # shellcheck disable=SC1091
  source "$VETRED_STACK_DIR/env"
  say "unit suites ($mode)"
  "build/$mode/unit-tests" || failed=1
  say "integration suites ($mode)"
  "build/$mode/integration-tests" || failed=1
  # The failover suite killed api-1: start it again for the next pass.
  VETRED_BIN="build/$mode" ci/stack.sh start >/dev/null
done

say "contract fuzzer (schemathesis, all checks)"
VETRED_ADMIN_BIN=build/asan/vetred-admin var/venv/bin/python3 \
  tests/contract/fuzz.py || failed=1
ci/stack.sh stop

say "sanitizer reports from the services"
if grep -lE 'ERROR: (Address|Leak)Sanitizer|runtime error:' \
    "$VETRED_STACK_DIR"/log/api-*.log "$VETRED_STACK_DIR"/log/sealer.log 2>/dev/null; then
  grep -hE -A20 'ERROR: (Address|Leak)Sanitizer|runtime error:' \
    "$VETRED_STACK_DIR"/log/api-*.log "$VETRED_STACK_DIR"/log/sealer.log | head -80
  failed=1
else
  echo "none"
fi

say "compose packaging"
bash tests/compose/check_compose.sh || failed=1

coverage_report || failed=1

if [ "$failed" -ne 0 ]; then
  say "FAILED"
  exit 1
fi
say "all tests passed"
