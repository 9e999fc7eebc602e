#!/usr/bin/env bash
# Static checks of the container packaging: docker-compose.yml is valid and
# has the expected services, every build uses deploy/Dockerfile with a stage
# that exists, every URL in it parses as the services will parse it (libpq,
# librabbitmq: an empty AMQP vhost fails) and names what the file creates,
# the CI workflow is valid YAML with its compose job, the Dockerfile is
# multi-stage and its final stage runs as a non-root user, and nginx's
# upstream names the API services (check_compose_config.py has the first
# ones).  VETRED_COMPOSE_FILE checks another compose file.
# Needs docker-compose (Debian's 1.29 works without a Docker engine) or the
# docker compose plugin, python3 with PyYAML (a docker-compose dependency),
# libpq and librabbitmq.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1

COMPOSE_FILE="${VETRED_COMPOSE_FILE:-docker-compose.yml}"
WORKFLOW=.github/workflows/ci.yml
DOCKERFILE=deploy/Dockerfile
NGINX_CONF=deploy/nginx.docker.conf
SERVICES=(postgres rabbitmq migrate keys admin scheduler worker api1 api2 nginx)
BUILT=(migrate keys admin scheduler worker api1 api2 nginx)
API_SERVICES=(api1 api2)

passed=0
failed=0
ok()   { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); echo "compose: FAIL: $*" >&2; }
check() { # check DESCRIPTION COMMAND...
  local what=$1; shift
  if "$@"; then ok; else fail "$what"; fi
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if command -v docker-compose >/dev/null 2>&1; then
  compose=(docker-compose -f "$COMPOSE_FILE")
elif docker compose version >/dev/null 2>&1; then
  compose=(docker compose -f "$COMPOSE_FILE")
else
  echo "compose: FAIL: neither docker-compose nor 'docker compose' is installed (ci/deps.sh installs docker-compose)" >&2
  echo "compose: 0 passed, 1 failed"
  exit 1
fi

# 1. The file is valid for compose.
if "${compose[@]}" config -q 2>"$tmp/err"; then
  ok
else
  fail "'${compose[*]} config -q' rejects $COMPOSE_FILE: $(cat "$tmp/err")"
fi

# 2. Services and builds, from the normalized config compose prints.
if "${compose[@]}" config >"$tmp/config.yml" 2>"$tmp/err"; then
  python3 tests/compose/check_compose_config.py "$tmp/config.yml" "$DOCKERFILE" "$PWD" \
      "${SERVICES[*]}" "${BUILT[*]}" "$WORKFLOW" >"$tmp/results" 2>"$tmp/err"
  if [ -s "$tmp/err" ]; then fail "checking the compose config: $(cat "$tmp/err")"; fi
  while read -r verdict msg; do
    if [ "$verdict" = PASS ]; then ok; else fail "$msg"; fi
  done <"$tmp/results"
else
  fail "'${compose[*]} config' failed: $(cat "$tmp/err")"
fi

# 3. Dockerfile: multi-stage, named stages, final stage runs as non-root.
if [ -f "$DOCKERFILE" ]; then
  ok
  froms=$(grep -ciE '^[[:space:]]*FROM[[:space:]]' "$DOCKERFILE")
  named=$(grep -ciE '^[[:space:]]*FROM[[:space:]]+[^[:space:]]+[[:space:]]+AS[[:space:]]+[^[:space:]]+' "$DOCKERFILE")
  check "$DOCKERFILE is multi-stage (found $froms FROM lines, need 2 or more)" \
    test "$froms" -ge 2
  check "$DOCKERFILE names every stage with FROM ... AS ... ($named of $froms named)" \
    test "$named" -eq "$froms"
  # The last USER of the last stage (the default image).
  final_user=$(awk 'toupper($1) == "FROM" { user = "" } toupper($1) == "USER" { user = $2 } END { print user }' "$DOCKERFILE")
  case "${final_user%%:*}" in
    '') fail "the final stage of $DOCKERFILE sets no USER (it would run as root)" ;;
    root|0) fail "the final stage of $DOCKERFILE runs as root (USER $final_user)" ;;
    *) ok ;;
  esac
  check "$DOCKERFILE has a CMD" grep -qiE '^[[:space:]]*CMD[[:space:]]' "$DOCKERFILE"
else
  fail "$DOCKERFILE is missing"
fi

# 4. nginx for compose sends the API to the API services, without keep-conn.
if [ -f "$NGINX_CONF" ]; then
  for s in "${API_SERVICES[@]}"; do
    check "$NGINX_CONF has 'server $s:9000;' in its upstream" \
      grep -qE "^[[:space:]]*server[[:space:]]+$s:9000;" "$NGINX_CONF"
  done
  if grep -vE '^[[:space:]]*#' "$NGINX_CONF" | grep -q 'fastcgi_keep_conn'; then
    fail "$NGINX_CONF uses fastcgi_keep_conn (pins libfcgi threads)"
  else
    ok
  fi
  # 5. HTTPS with TLS 1.3 only, HSTS on every answer.
  check "$NGINX_CONF serves TLS 1.3 and nothing older" \
    grep -qE '^[[:space:]]*ssl_protocols[[:space:]]+TLSv1\.3;' "$NGINX_CONF"
  check "$NGINX_CONF sends Strict-Transport-Security" \
    grep -qE '^[[:space:]]*add_header[[:space:]]+Strict-Transport-Security' "$NGINX_CONF"
else
  fail "$NGINX_CONF is missing"
fi

echo "compose: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
