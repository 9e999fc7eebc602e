#!/usr/bin/env bash
# Install the Debian packages VetRed needs to build, run, test and benchmark,
# the npm assets the web pages serve (Swagger UI), and the contract fuzzer
# (schemathesis, pinned by tests/contract/requirements.txt) in a private
# Python environment, var/venv.  Idempotent: packages
# already present are not touched, so this is cheap to call before every
# `make run` / `make test`.
#
# As root it runs apt-get itself; otherwise it prints the exact apt-get line
# and fails.  Service packages (PostgreSQL, RabbitMQ, nginx, supervisor)
# are installed with their init scripts held back: the project starts
# private instances under var/, never the system services.
set -euo pipefail
cd "$(dirname "$0")/.."

PKGS=(
  # build
  build-essential pkg-config
  libfcgi-dev libpq-dev libcjson-dev librabbitmq-dev libssl-dev
  libcurl4-openssl-dev libargon2-dev check libsubunit-dev libmicrohttpd-dev
  libical-dev tzdata
  # local stack
  postgresql-15 postgresql-client-15 rabbitmq-server nginx-light supervisor
  libnginx-mod-http-js
  # tests, coverage, benchmarks
  curl jq gcovr wrk prometheus docker-compose procps
  # the contract fuzzer's private environment
  python3 python3-venv
  # browser test of the docs page
  chromium
)
# Node.js/npm only fetch the Swagger UI assets; any installed npm will do
# (Debian's npm conflicts with a Node.js that ships its own).
command -v npm >/dev/null 2>&1 || PKGS+=(nodejs npm)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' \
    || missing+=("$p")
done

if [ "${#missing[@]}" -gt 0 ]; then
  line="apt-get install -y --no-install-recommends ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then
    echo "deps: missing Debian packages: ${missing[*]}" >&2
    echo "deps: run as root:  apt-get update && $line" >&2
    exit 1
  fi
  echo "deps: installing ${missing[*]}" >&2
  # Keep package scripts from starting system services on install.
  prc=/usr/sbin/policy-rc.d
  made_prc=0
  if [ ! -e "$prc" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$prc" && chmod +x "$prc" && made_prc=1
  fi
  trap '[ "$made_prc" = 1 ] && rm -f "$prc"' EXIT
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null; then
    apt-get update -qq
    apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null
  fi
fi

# Swagger UI assets, pinned by web/package-lock.json.
if [ -f web/package.json ] && [ ! -f web/node_modules/swagger-ui-dist/swagger-ui-bundle.js ]; then
  echo "deps: installing web assets (npm ci)" >&2
  (cd web && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null)
fi
# The contract fuzzer (make test), in its own environment: nothing is
# installed into the system's Python.
want="$(cat tests/contract/requirements.txt)"
if [ "$(cat var/venv/.requirements 2>/dev/null)" != "$want" ] ||
    [ ! -x var/venv/bin/schemathesis ]; then
  echo "deps: installing the contract fuzzer into var/venv ($want)" >&2
  rm -rf var/venv
  python3 -m venv var/venv
  var/venv/bin/pip install --quiet --disable-pip-version-check \
    -r tests/contract/requirements.txt >/dev/null
  printf '%s\n' "$want" >var/venv/.requirements
fi
echo "deps: ok" >&2
