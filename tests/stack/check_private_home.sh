#!/usr/bin/env bash
# A clone under a mode-700 home (/root on a fresh machine) runs the stack
# as root: PostgreSQL (as postgres) and nginx's workers (as nobody) must
# reach what they need although they cannot enter the home, and the home's
# permissions stay as they were.  The clone is of the current commit (plus
# the working tree's uncommitted changes to tracked files) and uses the
# binaries already built (VETRED_BIN, default build/cov); its stack has its
# own ports (the test ports + 10) and is removed afterwards.
set -uo pipefail
REPO="$(cd "$(dirname "$0")/../.." && pwd -P)"
cd "$REPO" || exit 1

say() { printf 'private-home: %s\n' "$*" >&2; }
if [ "$(id -u)" != 0 ]; then
  say "skipped: only root runs the services as other users"
  exit 0
fi

BIN="$(realpath -m -- "${VETRED_BIN:-build/cov}")"
[ -x "$BIN/vetred-api" ] || { say "FAIL: no $BIN/vetred-api (build first)"; exit 1; }
export VETRED_PG_PORT=$((${VETRED_TEST_PG_PORT:-19432} + 10))
export VETRED_AMQP_PORT=$((${VETRED_TEST_AMQP_PORT:-19672} + 10))
export VETRED_AMQP_DIST_PORT=$((${VETRED_TEST_AMQP_DIST_PORT:-19673} + 10))
export VETRED_HTTP_PORT=$((${VETRED_TEST_HTTP_PORT:-19080} + 10))
export VETRED_EPMD_PORT=$((${VETRED_TEST_EPMD_PORT:-19369} + 10))
export VETRED_STACK_DIR=var/home-test VETRED_BIN="$BIN" VETRED_SEED=0 VETRED_API_PROCS=1
unset VETRED_HTTPS_PORT VETRED_DATABASE_URL VETRED_AMQP_URL VETRED_API_DATABASE_URL \
  VETRED_JWT_KEYS VETRED_DATA_KEYS VETRED_SEARCH_KEY VETRED_TLS_CERT VETRED_TLS_KEY

home="$(mktemp -d)"          # mode 700, as /root
clone="$home/vetred"
failed=0
fail() { say "FAIL: $*"; failed=1; }
cleanup() {
  if [ -x "$clone/ci/stack.sh" ]; then
    (cd "$clone" && ci/stack.sh clean >/dev/null 2>&1) || true
  fi
  rm -rf "$home"
}
trap cleanup EXIT

git clone -q --no-checkout "$REPO" "$clone" &&
  git -C "$clone" checkout -q "$(git rev-parse HEAD)" || { say "FAIL: git clone"; exit 1; }
if ! git diff --quiet HEAD; then
  git diff --binary HEAD | git -C "$clone" apply || { say "FAIL: applying the working tree's changes"; exit 1; }
fi
chmod 700 "$home"
before="$(stat -c %a "$home")"

if ! (cd "$clone" && ci/stack.sh start) >"$home/start.log" 2>&1; then
  tail -n 30 "$home/start.log" >&2
  fail "the stack did not start in a clone under a mode-700 directory"
  exit 1
fi
# shellcheck disable=SC1091
. "$clone/$VETRED_STACK_DIR/env"
base="http://127.0.0.1:$VETRED_HTTP_PORT"
code="$(curl -s -o "$home/ready" -w '%{http_code}' -m 5 "$base/ready")"
[ "$code" = 200 ] || fail "/ready through nginx: $code $(cat "$home/ready")"
code="$(curl -s -o /dev/null -w '%{http_code}' -m 5 "$base/")"
[ "$code" = 200 ] || fail "the landing page (web/) through nginx: $code"
n="$(/usr/lib/postgresql/15/bin/psql -X -Atq -d "$VETRED_DATABASE_URL" \
  -c "SELECT count(*) FROM pg_tables WHERE tablename IN ('citas', 'auditoria_sellos')" 2>&1)"
[ "$n" = 2 ] || fail "SQL on the private cluster: '$n'"
shared="$(readlink "$clone/$VETRED_STACK_DIR")"
[ "$(stat -c %a "$home")" = "$before" ] || fail "the home's mode changed to $(stat -c %a "$home")"

(cd "$clone" && ci/stack.sh clean) >>"$home/start.log" 2>&1 || fail "ci/stack.sh clean"
[ -z "$shared" ] || [ ! -e "$shared" ] || fail "clean left $shared"
[ ! -e "$clone/$VETRED_STACK_DIR" ] || fail "clean left $clone/$VETRED_STACK_DIR"

[ "$failed" = 0 ] && say "ok (stack started, answered and removed under a mode-700 home)"
exit "$failed"
