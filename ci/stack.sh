#!/usr/bin/env bash
# ci/stack.sh — the private local stack of VetRed: PostgreSQL 15, RabbitMQ,
# and, under a private supervisord (Debian's supervisor), the scheduler
# (outbox relay, periodic jobs), the worker (the engine's jobs: outbox
# purge, audit sealing; dead letters), N vetred-api FastCGI processes and nginx,
# all under one stack directory.
#
#   ci/stack.sh start | stop | clean | status | env | rotate
#   ci/stack.sh broker stop | start      only the private RabbitMQ node
#
# start brings up what is not running and restarts a supervised service
# whose binary or settings changed; supervisord restarts a service that
# crashes.  The table of supervised services is in ci/services.py.
# status prints one line per component and exits 0 when all run, 3 if not;
# clean stops the stack and removes its directory.
# rotate moves nginx's logs past VETRED_LOG_MAX_BYTES to *.1 and has nginx
# reopen them (make run calls it every few minutes); the API processes
# rotate their own log (VETRED_LOG_FILE), as do the scheduler and the
# worker.
#
# Environment (all optional):
#   VETRED_STACK_DIR        var/dev          (relative to the repository root)
#   VETRED_PG_PORT          18432
#   VETRED_AMQP_PORT        18672
#   VETRED_AMQP_DIST_PORT   VETRED_AMQP_PORT+1 (18673)  Erlang distribution
#   VETRED_EPMD_PORT        18369            private epmd (may be shared
#                                            between stacks)
#   VETRED_HTTP_PORT        18080            plain HTTP, loopback only
#   VETRED_HTTPS_PORT       HTTP port + 363 (18443)  HTTPS, TLS 1.3 only
#   VETRED_HTTPS_ADDR       127.0.0.1        where HTTPS listens (0.0.0.0:
#                                            every interface)
#   VETRED_TLS_CERT/KEY     <stack dir>/tls/cert.pem, key.pem; unset: a
#                           self-signed certificate for localhost and
#                           127.0.0.1, made on first start
#   VETRED_API_PROCS        2                1 to 9
#   VETRED_METRICS_PORT     HTTP port + 20   api-N's own monitoring listener
#                                            (/metrics, /health, /ready) is
#                                            on 127.0.0.1:(this + N), the
#                                            scheduler's on (this + 10),
#                                            the worker's on (this + 11)
#   VETRED_ACCESS_LOG       1                0: nginx writes no access log
#   VETRED_LOG_MAX_BYTES    67108864         api-N.log and nginx's logs
#                                            move to *.1 past this size
#   VETRED_API_THREADS      4                passed through to vetred-api
#   VETRED_RATE_PER_USER, VETRED_RATE_BURST  passed through to vetred-api
#                           (the per-user request budget)
#   VETRED_BIN              build/release    holds vetred-api, vetred-migrate
#   VETRED_MIGRATIONS_DIR   db/migrations    passed through to vetred-migrate
#   VETRED_FUNCTIONS_DIR    db/functions     passed through to vetred-migrate
#   VETRED_SEED             0                1: apply db/seed/*.sql once
#   VETRED_DATABASE_URL     set: use that server, start no PostgreSQL
#   VETRED_API_DATABASE_URL the API's own connection (role vetred_api, see
#                           db/migrations/0013); default: the private
#                           server's vetred_api, or VETRED_DATABASE_URL
#   VETRED_AMQP_URL         set: use that broker, start no RabbitMQ
#   VETRED_JWT_KEYS         kid=path,... of the token signing keys; unset:
#                           <stack dir>/keys/dev1.key, made on first start
#   VETRED_DATA_KEYS        kid=path,... of the column keys (32 bytes);
#                           unset: <stack dir>/keys/datos1.key
#   VETRED_CORS_ORIGINS     origins allowed to call the API from a browser
#                           (passed through to vetred-api; unset: none)
#   VETRED_SEARCH_KEY       kid=path of the search (HMAC) key; unset:
#                           <stack dir>/keys/busqueda.key
#
# `start` writes <stack dir>/env (export lines for VETRED_DATABASE_URL,
# VETRED_AMQP_URL, VETRED_HTTP_URL, VETRED_STACK_DIR, VETRED_METRICS_URLS,
# VETRED_WORKER_METRICS_URLS, VETRED_STACK_BIN: where the binaries are)
# for tests to source;
# `env` prints it.  The ports and choices of the last start are kept in
# <stack dir>/stack.conf so that `stop` and `status` need no environment.
# No systemd, no system services: works as root (PostgreSQL then runs as the
# `postgres` system user) and as a normal user.  As root in a tree those
# users cannot enter (a clone under /root, mode 700), the stack directory
# is a symlink to /var/lib/vetred/<hash of its path> (see place_stack_dir).
set -euo pipefail
umask 022

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$REPO"

PGBIN=/usr/lib/postgresql/15/bin
RMQBIN=/usr/lib/rabbitmq/bin
AMQP_USER=vetred
AMQP_PASS=vetred

log() { printf 'stack: %s\n' "$*" >&2; }
die() { printf 'stack: error: %s\n' "$*" >&2; exit 1; }
abspath() { case "$1" in /*) realpath -m -- "$1" ;; *) realpath -m -- "$REPO/$1" ;; esac; }
# tail_of FILE [N]: the last lines of a log, indented, for error messages.
tail_of() {
  [ -f "$1" ] || return 0
  { echo "---- last lines of $1:"; tail -n "${2:-30}" "$1"; echo "----"; } >&2
}
is_int() { [[ "$1" =~ ^[0-9]+$ ]]; }
# urlencode STR: percent-encode all but unreserved characters and '/'.
urlencode() {
  local s="$1" out="" c i
  for ((i = 0; i < ${#s}; i++)); do
    c="${s:i:1}"
    case "$c" in [A-Za-z0-9/._~-]) out+="$c" ;; *) out+="$(printf '%%%02X' "'$c")" ;; esac
  done
  printf '%s' "$out"
}

IS_ROOT=0
[ "$(id -u)" = 0 ] && IS_ROOT=1

# The stack directory as asked for (symlinks not resolved) and as it is.
WANT_DIR="$(case "${VETRED_STACK_DIR:-var/dev}" in
  /*) realpath -ms -- "${VETRED_STACK_DIR}" ;;
  *) realpath -ms -- "$REPO/${VETRED_STACK_DIR:-var/dev}" ;;
esac)"
set_dirs() {
  DIR="$(realpath -m -- "$WANT_DIR")"
  STATE="$DIR/stack.conf"
  ENVFILE="$DIR/env"
  RUNDIR="$DIR/run"
  LOGDIR="$DIR/log"
  PGDATA="$DIR/pg"
  PGSOCK="$DIR/pg-run"
  RMQ="$DIR/rabbitmq"
  NGX="$DIR/nginx"
  SUP="$DIR/supervisor"
  WEB="$REPO/web"
}
set_dirs

# ---------------------------------------------------------------- a private home
#
# As root, the private PostgreSQL runs as the system user postgres and
# nginx's workers as nobody; neither may enter a tree under a mode-700
# home (/root on a fresh machine).  There the stack directory becomes a
# symlink to SHARED_BASE/<hash of its path>, which both can reach, and
# nginx serves a copy of web/ kept in it.  The home's permissions are
# never changed.
SHARED_BASE=/var/lib/vetred

# unprivileged_can USER TEST-ARGS...: `test` as USER (false if no such user).
unprivileged_can() {
  local u="$1"; shift
  getent passwd "$u" >/dev/null || return 1
  (cd / && runuser -u "$u" -- test "$@") 2>/dev/null
}
# reachable PATH: postgres (when it exists) and nobody can traverse PATH,
# or its nearest existing parent.
reachable() {
  local p="$1"
  while [ ! -e "$p" ] && [ "$p" != / ]; do p="$(dirname "$p")"; done
  unprivileged_can nobody -x "$p" || return 1
  getent passwd postgres >/dev/null || return 0
  unprivileged_can postgres -x "$p"
}
shared_dir() { printf '%s/%s' "$SHARED_BASE" "$(printf '%s' "$WANT_DIR" | sha256sum | cut -c1-16)"; }

# Before anything is written: as root with an unreachable stack directory,
# point it at its shared directory (a stale one, left by a stack directory
# removed by hand, is stopped and wiped first).
place_stack_dir() {
  [ "$IS_ROOT" = 1 ] || return 0
  [ -L "$WANT_DIR" ] && { set_dirs; return 0; }
  reachable "$WANT_DIR" && return 0
  local target; target="$(shared_dir)"
  mkdir -p "$SHARED_BASE" && chmod 755 "$SHARED_BASE"
  if [ -e "$target" ]; then
    log "removing the stale shared directory $target"
    VETRED_STACK_DIR="$target" "$REPO/ci/stack.sh" stop >/dev/null 2>&1 || true
    rm -rf "$target"
  fi
  mkdir -p "$(dirname "$WANT_DIR")"
  if [ -d "$WANT_DIR" ]; then
    mv -T "$WANT_DIR" "$target"   # a directory no service could use yet
  else
    mkdir -p "$target"
  fi
  ln -s "$target" "$WANT_DIR"
  log "$WANT_DIR is not reachable by the unprivileged service users; it now points to $target"
  set_dirs
}

# As root, when nobody cannot read the repository's web/: a copy of the
# pages and the Swagger UI assets in the stack directory, made each start.
place_web() {
  WEB="$REPO/web"
  [ "$IS_ROOT" = 1 ] || return 0
  unprivileged_can nobody -r "$REPO/web/index.html" && return 0
  rm -rf "$DIR/web.new"
  mkdir -p "$DIR/web.new/node_modules"
  local f
  for f in "$REPO"/web/*; do
    [ "${f##*/}" = node_modules ] || cp -a "$f" "$DIR/web.new/"
  done
  [ -d "$REPO/web/node_modules/swagger-ui-dist" ] &&
    cp -a "$REPO/web/node_modules/swagger-ui-dist" "$DIR/web.new/node_modules/"
  chmod -R a+rX "$DIR/web.new"
  rm -rf "$DIR/web"
  mv -f "$DIR/web.new" "$DIR/web"
  WEB="$DIR/web"
}

# ---------------------------------------------------------------- settings

# Requested settings, from the environment.
want_settings() {
  PG_PORT="${VETRED_PG_PORT:-18432}"
  AMQP_PORT="${VETRED_AMQP_PORT:-18672}"
  HTTP_PORT="${VETRED_HTTP_PORT:-18080}"
  HTTPS_PORT="${VETRED_HTTPS_PORT:-$((HTTP_PORT + 363))}"
  HTTPS_ADDR="${VETRED_HTTPS_ADDR:-127.0.0.1}"
  EPMD_PORT="${VETRED_EPMD_PORT:-18369}"
  API_PROCS="${VETRED_API_PROCS:-2}"
  API_THREADS="${VETRED_API_THREADS:-4}"
  METRICS_PORT="${VETRED_METRICS_PORT:-$((HTTP_PORT + 20))}"
  ACCESS_LOG="${VETRED_ACCESS_LOG:-1}"
  LOG_MAX="${VETRED_LOG_MAX_BYTES:-67108864}"
  for v in PG_PORT AMQP_PORT HTTP_PORT HTTPS_PORT EPMD_PORT API_PROCS API_THREADS METRICS_PORT LOG_MAX; do
    is_int "${!v}" || die "VETRED_$v must be a number (got '${!v}')"
  done
  DIST_PORT="${VETRED_AMQP_DIST_PORT:-$((AMQP_PORT + 1))}"
  is_int "$DIST_PORT" || die "VETRED_AMQP_DIST_PORT must be a number"
  [ "$API_PROCS" -ge 1 ] && [ "$API_PROCS" -le 9 ] || die "VETRED_API_PROCS must be 1 to 9"
  BIN="$(abspath "${VETRED_BIN:-build/release}")"
  MIGRATIONS_DIR="$(abspath "${VETRED_MIGRATIONS_DIR:-db/migrations}")"
  FUNCTIONS_DIR="$(abspath "${VETRED_FUNCTIONS_DIR:-db/functions}")"
  SEED="${VETRED_SEED:-0}"
  KEYDIR="$DIR/keys"
  TLS_CERT="$(abspath "${VETRED_TLS_CERT:-$DIR/tls/cert.pem}")"
  TLS_KEY="$(abspath "${VETRED_TLS_KEY:-$DIR/tls/key.pem}")"
  JWT_KEYS="${VETRED_JWT_KEYS:-dev1=$KEYDIR/dev1.key}"
  DATA_KEYS="${VETRED_DATA_KEYS:-datos1=$KEYDIR/datos1.key}"
  SEARCH_KEY="${VETRED_SEARCH_KEY:-busqueda=$KEYDIR/busqueda.key}"
  CORS_ORIGINS="${VETRED_CORS_ORIGINS:-}"
  COMMON_PASSWORDS="$(abspath "${VETRED_COMMON_PASSWORDS_FILE:-data/contrasenas-comunes.txt}")"

  # The services talk to the private cluster over its unix socket (cheaper
  # than loopback TCP per query); the TCP port stays open for other tools.
  PRIVATE_DB_URL="postgresql:///vetred?host=$(urlencode "$PGSOCK")&port=$PG_PORT&user=vetred"
  PRIVATE_API_DB_URL="postgresql:///vetred?host=$(urlencode "$PGSOCK")&port=$PG_PORT&user=vetred_api"
  PRIVATE_AMQP_URL="amqp://$AMQP_USER:$AMQP_PASS@127.0.0.1:$AMQP_PORT/%2f"
  # A pre-set URL that names this stack's own private server (e.g. from a
  # sourced env file) still means "private".
  if [ -n "${VETRED_DATABASE_URL:-}" ] && [ "$VETRED_DATABASE_URL" != "$PRIVATE_DB_URL" ]; then
    PG_PRIVATE=0 DB_URL="$VETRED_DATABASE_URL"
    API_DB_URL="${VETRED_API_DATABASE_URL:-$DB_URL}"
  else
    PG_PRIVATE=1 DB_URL="$PRIVATE_DB_URL"
    API_DB_URL="$PRIVATE_API_DB_URL"
  fi
  if [ -n "${VETRED_AMQP_URL:-}" ] && [ "$VETRED_AMQP_URL" != "$PRIVATE_AMQP_URL" ]; then
    AMQP_PRIVATE=0 AMQP_URL="$VETRED_AMQP_URL"
  else
    AMQP_PRIVATE=1 AMQP_URL="$PRIVATE_AMQP_URL"
  fi
  RMQ_NODE="vetred-$AMQP_PORT@localhost"
}

STATE_VARS="PG_PORT AMQP_PORT HTTP_PORT EPMD_PORT DIST_PORT API_PROCS METRICS_PORT LOG_MAX PG_PRIVATE AMQP_PRIVATE RMQ_NODE"
# A change in one of these makes `start` stop the old stack first.
CMP_VARS="PG_PORT AMQP_PORT HTTP_PORT EPMD_PORT DIST_PORT METRICS_PORT PG_PRIVATE AMQP_PRIVATE RMQ_NODE"

save_state() {
  local v
  { echo "# written by ci/stack.sh start; read by stop/status"
    for v in $STATE_VARS; do printf '%s=%q\n' "$v" "${!v}"; done
  } >"$STATE.tmp"
  mv -f "$STATE.tmp" "$STATE"
}

# Settings of the last start (for stop/status); the environment otherwise.
load_state() {
  want_settings
  if [ -f "$STATE" ]; then
    local line k val
    while IFS= read -r line; do
      case "$line" in '#'*|'') continue ;; esac
      k="${line%%=*}" val="${line#*=}"
      case " $STATE_VARS " in *" $k "*) eval "$k=$val" ;; esac
    done <"$STATE"
  fi
}

# ---------------------------------------------------------------- helpers

# pid_alive PID: the process exists (zombies count as gone).
pid_alive() {
  is_int "${1:-}" || return 1
  [ -d "/proc/$1" ] || return 1
  local st; st="$(awk '/^State:/{print $2}' "/proc/$1/status" 2>/dev/null || true)"
  [ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}
read_pid() { if [ -r "$1" ]; then head -n1 "$1" 2>/dev/null | tr -dc '0-9'; fi; return 0; }
# has_env PID VAR=VALUE: the process was started with that environment entry.
has_env() { { tr '\0' '\n' <"/proc/$1/environ"; } 2>/dev/null | grep -qxF -- "$2"; }
# Processes whose working directory is $1 (PostgreSQL processes sit in PGDATA).
pids_with_cwd() {
  local p
  for p in /proc/[0-9]*; do
    [ "$(readlink "$p/cwd" 2>/dev/null || true)" = "$1" ] && echo "${p#/proc/}"
  done
  return 0
}
port_in_use() { timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }
# The default ports lie inside Linux's ephemeral range (32768-60999): an
# outgoing connection (a benchmark, a test client) may hold one as its local
# port, also for a minute in TIME_WAIT, and then the server's bind() fails
# with "Address already in use" although nothing listens.  can_bind probes
# exactly that (SO_REUSEADDR, as the servers do), with perl-base (Essential).
can_bind() {
  perl -MSocket -e 'socket(S, PF_INET, SOCK_STREAM, 0) or exit 2;
    setsockopt(S, SOL_SOCKET, SO_REUSEADDR, 1);
    bind(S, sockaddr_in($ARGV[0], inet_aton("127.0.0.1"))) or exit 1; exit 0' "$1"
}
# wait_port_free PORT VAR: fail if something listens on PORT; while another
# socket keeps it from being bound, wait (up to 70s).
wait_port_free() {
  local port="$1" var="$2" i
  port_in_use "$port" && die "port $port ($var) is already in use by another program; choose another with $var=..."
  can_bind "$port" && return 0
  log "port $port ($var) is the local port of another connection (ephemeral range); waiting up to 70s for it"
  for ((i = 0; i < 140; i++)); do
    sleep 0.5
    can_bind "$port" && return 0
    port_in_use "$port" && die "port $port ($var) is already in use by another program; choose another with $var=..."
  done
  die "port $port ($var) cannot be bound (taken as an ephemeral port by outgoing connections); choose a port below 32768 with $var=..."
}
# As root, take the stack's ports out of the kernel's ephemeral range
# (net.ipv4.ip_local_reserved_ports; network-namespace wide, until reboot,
# only adds entries) so that outgoing connections never take them.
reserve_ports() {
  local f=/proc/sys/net/ipv4/ip_local_reserved_ports cur p item lo hi add=() items eph_lo eph_hi
  [ "$IS_ROOT" = 1 ] && [ -w "$f" ] || return 0
  cur="$(cat "$f" 2>/dev/null)" || return 0
  read -r eph_lo eph_hi </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || return 0
  for p in "$@"; do
    if [ "$p" -lt "$eph_lo" ] || [ "$p" -gt "$eph_hi" ]; then continue; fi
    local covered=0
    IFS=, read -ra items <<<"$cur"
    for item in "${items[@]}"; do
      item="${item// /}"; [ -n "$item" ] || continue
      lo="${item%-*}" hi="${item#*-}"
      if [ "$p" -ge "$lo" ] && [ "$p" -le "$hi" ]; then covered=1; break; fi
    done
    [ "$covered" = 1 ] || add+=("$p")
  done
  [ "${#add[@]}" -gt 0 ] || return 0
  local IFS=,
  if echo "${cur:+$cur,}${add[*]}" >"$f" 2>/dev/null; then
    log "reserved ports ${add[*]} (net.ipv4.ip_local_reserved_ports) against ephemeral use"
  fi
  return 0
}
# stop_pid PID NAME [SECONDS]: SIGTERM, wait, SIGKILL only after the timeout.
stop_pid() {
  local pid="$1" name="$2" secs="${3:-15}" i
  pid_alive "$pid" || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < secs * 10; i++)); do
    pid_alive "$pid" || return 0
    sleep 0.1
  done
  log "$name (pid $pid) did not exit within ${secs}s after SIGTERM; sending SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do pid_alive "$pid" || return 0; sleep 0.1; done
}
sed_esc() { printf '%s' "$1" | sed -e 's/[\\|&]/\\&/g'; }

# ---------------------------------------------------------------- PostgreSQL

# As root, from / (postgres may not enter the current directory).
as_pg() {
  if [ "$IS_ROOT" = 1 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}
pg_pid() {
  local pid; pid="$(read_pid "$PGDATA/postmaster.pid")"
  pid_alive "$pid" || return 1
  [ "$(readlink "/proc/$pid/cwd" 2>/dev/null || true)" = "$PGDATA" ] || return 1
  echo "$pid"
}
pg_ready() { "$PGBIN/pg_isready" -q -h "$PGSOCK" -p "$PG_PORT" -U postgres -d postgres -t 2; }
pg_psql() { "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PGSOCK" -p "$PG_PORT" -U postgres -d postgres; }

pg_start() {
  [ -x "$PGBIN/pg_ctl" ] || die "PostgreSQL 15 not found in $PGBIN (run ci/deps.sh)"
  mkdir -p "$LOGDIR" "$PGSOCK"
  local pglog="$LOGDIR/postgresql.log"
  touch "$pglog"
  if [ "$IS_ROOT" = 1 ]; then
    if ! getent passwd postgres >/dev/null; then
      log "creating system user postgres"
      useradd --system --user-group --home-dir /var/lib/postgresql --no-create-home \
        --shell /usr/sbin/nologin postgres
    fi
    unprivileged_can postgres -x "$DIR" ||
      die "user postgres cannot traverse $DIR (set VETRED_STACK_DIR to a directory it can reach)"
    chown postgres: "$PGSOCK"
    chown postgres: "$pglog"
  fi

  # A cluster counts as initialised once our include line is in place; a
  # half-made one (initdb interrupted) is wiped and made again.
  if ! grep -qs "^include_if_exists = 'vetred.conf'" "$PGDATA/postgresql.conf"; then
    if pg_pid >/dev/null; then die "a postmaster runs in $PGDATA but the cluster looks incomplete"; fi
    log "postgresql: initdb $PGDATA"
    rm -rf "$PGDATA" && mkdir -p "$PGDATA" && chmod 700 "$PGDATA"
    [ "$IS_ROOT" = 1 ] && chown postgres: "$PGDATA"
    local loc=C
    locale -a 2>/dev/null | grep -qiE '^c\.utf-?8$' && loc=C.UTF-8
    as_pg "$PGBIN/initdb" -D "$PGDATA" --auth=trust -U postgres -E UTF8 --locale="$loc" \
      --no-sync >"$LOGDIR/initdb.log" 2>&1 || { tail_of "$LOGDIR/initdb.log"; die "initdb failed"; }
    rm -f "$DIR/seed.applied"
    as_pg sh -c "echo \"include_if_exists = 'vetred.conf'\" >>'$PGDATA/postgresql.conf'"
  elif [ "$IS_ROOT" = 1 ] && [ "$(stat -c %U "$PGDATA")" != postgres ]; then
    chown -R postgres: "$PGDATA"
  fi
  as_pg sh -c "cat >'$PGDATA/vetred.conf.tmp' && mv -f '$PGDATA/vetred.conf.tmp' '$PGDATA/vetred.conf'" <<EOF
# Written by ci/stack.sh on every start; edits are lost.
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$PGSOCK'
max_connections = 300
shared_buffers = 256MB
logging_collector = off
log_line_prefix = '%m [%p] %q%u@%d '
log_min_duration_statement = 1000
# Bookings write ~4 KB of WAL each: checkpoints by time, not by size, under
# load, and compressed full-page images after each one.
max_wal_size = 4GB
checkpoint_timeout = 15min
wal_compression = lz4
# Commit times (pg_xact_commit_timestamp): the bench measures each
# event's latency from its booking's commit.
track_commit_timestamp = on
EOF

  if pg_pid >/dev/null; then
    log "postgresql: already running (pid $(pg_pid))"
  else
    # Crash leftovers: orphaned backends, a stale postmaster.pid or socket
    # lock (its pid may have been reused by an unrelated process).
    local orphans; mapfile -t orphans < <(pids_with_cwd "$PGDATA")
    if [ "${#orphans[@]}" -gt 0 ]; then
      log "postgresql: killing orphaned processes of a dead postmaster: ${orphans[*]}"
      kill -KILL "${orphans[@]}" 2>/dev/null || true
      sleep 0.5
    fi
    rm -f "$PGDATA/postmaster.pid" "$PGSOCK"/.s.PGSQL.*
    wait_port_free "$PG_PORT" VETRED_PG_PORT
    log "postgresql: starting on 127.0.0.1:$PG_PORT"
    local try
    for try in 1 2 3 4 5; do
      local mark; mark="$(wc -l <"$pglog" 2>/dev/null || echo 0)"
      as_pg "$PGBIN/pg_ctl" -D "$PGDATA" -l "$pglog" -w -t 90 start >/dev/null && break
      # Lost a race for the port with an outgoing connection: try again.
      if [ "$try" -lt 5 ] && tail -n +"$((mark + 1))" "$pglog" | grep -q 'Address already in use' &&
          ! port_in_use "$PG_PORT"; then
        log "postgresql: port $PG_PORT briefly taken by an outgoing connection; retrying"
        sleep 2
        continue
      fi
      tail_of "$pglog"; die "PostgreSQL did not start"
    done
  fi
  local i
  for ((i = 0; i < 600; i++)); do pg_ready && break; sleep 0.1; done
  pg_ready || { tail_of "$pglog"; die "PostgreSQL is not accepting connections on $PGSOCK:$PG_PORT"; }

  # vetred owns the schema (migrations, tools); the API connects as
  # vetred_api, granted by db/migrations/0013_rol_api.sql.
  pg_psql <<'SQL' || die "could not create roles/database vetred"
SELECT 'CREATE ROLE vetred LOGIN NOSUPERUSER'
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'vetred')\gexec
SELECT 'CREATE ROLE vetred_api LOGIN NOSUPERUSER'
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'vetred_api')\gexec
SELECT 'CREATE DATABASE vetred OWNER vetred'
 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'vetred')\gexec
SQL
}

pg_stop() {
  [ -d "$PGDATA" ] || return 0
  if pg_pid >/dev/null; then
    log "postgresql: stopping"
    as_pg "$PGBIN/pg_ctl" -D "$PGDATA" -m fast -w -t 60 stop >/dev/null ||
      log "postgresql: pg_ctl stop failed (see $LOGDIR/postgresql.log)"
  fi
}

# ---------------------------------------------------------------- migrations, seed

run_migrations() {
  log "migrations: $BIN/vetred-migrate ($MIGRATIONS_DIR, $FUNCTIONS_DIR)"
  mkdir -p "$LOGDIR"
  if ! VETRED_DATABASE_URL="$DB_URL" VETRED_MIGRATIONS_DIR="$MIGRATIONS_DIR" \
      VETRED_FUNCTIONS_DIR="$FUNCTIONS_DIR" \
      "$BIN/vetred-migrate" >>"$LOGDIR/migrate.log" 2>&1; then
    tail_of "$LOGDIR/migrate.log"
    die "migrations failed (full log: $LOGDIR/migrate.log)"
  fi
}

# Owners' personal data sealed with the first column key: rows of the
# seed, of an older key after a rotation; nothing to do otherwise.
run_cifrar() {
  if ! VETRED_DATABASE_URL="$DB_URL" VETRED_DATA_KEYS="$DATA_KEYS" VETRED_SEARCH_KEY="$SEARCH_KEY" \
      "$BIN/vetred-admin" cifrar >>"$LOGDIR/cifrar.log" 2>&1; then
    tail_of "$LOGDIR/cifrar.log"
    die "vetred-admin cifrar failed (full log: $LOGDIR/cifrar.log)"
  fi
}

# Seed files are applied once per database: <stack dir>/seed.applied records
# "URL sha256 file" for every file applied (a fresh private cluster clears it).
run_seed() {
  local f sum done_file="$DIR/seed.applied" n=0
  shopt -s nullglob
  local files=("$REPO"/db/seed/*.sql)
  shopt -u nullglob
  [ "${#files[@]}" -gt 0 ] || { log "seed: no db/seed/*.sql"; return 0; }
  touch "$done_file"
  for f in "${files[@]}"; do
    sum="$(sha256sum "$f" | cut -d' ' -f1)"
    grep -qxF "$DB_URL $sum ${f##*/}" "$done_file" && continue
    log "seed: ${f#"$REPO"/}"
    "$PGBIN/psql" -X -v ON_ERROR_STOP=1 --single-transaction -q -d "$DB_URL" -f "$f" \
      >>"$LOGDIR/seed.log" 2>&1 || { tail_of "$LOGDIR/seed.log"; die "seed file $f failed"; }
    echo "$DB_URL $sum ${f##*/}" >>"$done_file"
    n=$((n + 1))
  done
  [ "$n" -gt 0 ] || log "seed: already applied"
}

# ---------------------------------------------------------------- RabbitMQ

RMQ_ENV=()
rmq_env() {
  RMQ_ENV=(
    -u ERL_FLAGS -u ERL_AFLAGS -u ERL_ZFLAGS -u RABBITMQ_ENABLED_PLUGINS
    HOME="$RMQ"
    RABBITMQ_CONF_ENV_FILE="$RMQ/rabbitmq-env.conf"
    RABBITMQ_CONFIG_FILE="$RMQ/rabbitmq.conf"
    RABBITMQ_CONFIG_FILES="$RMQ/conf.d"
    RABBITMQ_ADVANCED_CONFIG_FILE="$RMQ/advanced.config"
    RABBITMQ_ENABLED_PLUGINS_FILE="$RMQ/enabled_plugins"
    RABBITMQ_NODENAME="$RMQ_NODE"
    RABBITMQ_USE_LONGNAME=false
    RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
    RABBITMQ_NODE_PORT="$AMQP_PORT"
    RABBITMQ_DIST_PORT="$DIST_PORT"
    RABBITMQ_MNESIA_BASE="$RMQ/mnesia"
    RABBITMQ_LOG_BASE="$RMQ/log"
    RABBITMQ_PID_FILE="$RMQ/rabbitmq.pid"
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
    ERL_EPMD_PORT="$EPMD_PORT"
    ERL_EPMD_ADDRESS=127.0.0.1
  )
}
rmqctl() { env "${RMQ_ENV[@]}" "$RMQBIN/rabbitmqctl" -n "$RMQ_NODE" "$@"; }
rmq_pid() {
  local pid; pid="$(read_pid "$RMQ/rabbitmq.pid")"
  pid_alive "$pid" && has_env "$pid" "RABBITMQ_NODENAME=$RMQ_NODE" && echo "$pid"
}
epmd_running() { epmd -port "$EPMD_PORT" -names >/dev/null 2>&1; }

rmq_await() {
  local pid="$1" deadline=$((SECONDS + 60))
  while :; do
    pid_alive "$pid" || { tail_of "$RMQ/log/console.log" 40; tail_of "$RMQ/log/$RMQ_NODE.log" 40; die "RabbitMQ node $RMQ_NODE exited during startup"; }
    rmqctl -q await_startup --timeout 10 >/dev/null 2>&1 && return 0
    [ "$SECONDS" -lt "$deadline" ] || break
    sleep 1
  done
  tail_of "$RMQ/log/console.log" 40; tail_of "$RMQ/log/$RMQ_NODE.log" 40
  die "RabbitMQ node $RMQ_NODE did not start within 60s (logs in $RMQ/log)"
}

rmq_start() {
  [ -x "$RMQBIN/rabbitmq-server" ] || die "RabbitMQ not found in $RMQBIN (run ci/deps.sh)"
  rmq_env
  mkdir -p "$RMQ/log" "$RMQ/mnesia" "$RMQ/conf.d"
  [ -f "$RMQ/enabled_plugins" ] || echo '[].' >"$RMQ/enabled_plugins"
  echo "# Empty on purpose: keeps /etc/rabbitmq/rabbitmq-env.conf out." >"$RMQ/rabbitmq-env.conf"
  sed -e "s|@AMQP_PORT@|$AMQP_PORT|g" -e "s|@AMQP_USER@|$(sed_esc "$AMQP_USER")|g" \
      -e "s|@AMQP_PASS@|$(sed_esc "$AMQP_PASS")|g" \
      "$REPO/deploy/rabbitmq.conf.in" >"$RMQ/rabbitmq.conf"

  local pid
  if pid="$(rmq_pid)"; then
    log "rabbitmq: already running (node $RMQ_NODE, pid $pid)"
  else
    rm -f "$RMQ/rabbitmq.pid"
    wait_port_free "$AMQP_PORT" VETRED_AMQP_PORT
    wait_port_free "$DIST_PORT" VETRED_AMQP_DIST_PORT
    log "rabbitmq: starting node $RMQ_NODE on 127.0.0.1:$AMQP_PORT (dist $DIST_PORT, epmd $EPMD_PORT)"
    setsid env "${RMQ_ENV[@]}" "$RMQBIN/rabbitmq-server" </dev/null >>"$RMQ/log/console.log" 2>&1 &
    pid=$!
  fi
  rmq_await "$pid"
}

rmq_stop() {
  [ -d "$RMQ" ] || return 0
  rmq_env
  local pid
  if pid="$(rmq_pid)"; then
    log "rabbitmq: stopping node $RMQ_NODE"
    rmqctl -q stop "$RMQ/rabbitmq.pid" >/dev/null 2>&1 || stop_pid "$pid" rabbitmq 30
    stop_pid "$pid" rabbitmq 30
  fi
  rm -f "$RMQ/rabbitmq.pid"
  # The private epmd refuses -kill while another stack's node still uses it.
  if epmd_running; then
    env ERL_EPMD_ADDRESS=127.0.0.1 epmd -port "$EPMD_PORT" -kill >/dev/null 2>&1 || true
  fi
}

# ---------------------------------------------------------------- keys, certificate

# metrics_port N: the port of api-N's monitoring listener.
metrics_port() { echo $((METRICS_PORT + $1)); }
# The scheduler's: the API's base + 10 (room for 9 API processes).
sched_metrics_port() { echo $((METRICS_PORT + 10)); }
# The worker's: + 11.
worker_metrics_port() { echo $((METRICS_PORT + 11)); }
metrics_urls() {
  local i out=""
  for ((i = 1; i <= API_PROCS; i++)); do out+="${out:+ }http://127.0.0.1:$(metrics_port "$i")"; done
  printf '%s' "$out"
}
# Every worker's listener: the scheduler's and the worker's.
worker_metrics_urls() { printf 'http://127.0.0.1:%s http://127.0.0.1:%s' "$(sched_metrics_port)" "$(worker_metrics_port)"; }

# Development keys, base64, owner-only (the API refuses key files others
# can read): the token signing key (48 random bytes), the column key and
# the search key (32 each).  Kept across restarts: tokens stay valid and
# sealed data stays readable.
dev_keys() {
  local name bytes
  mkdir -p "$KEYDIR"; chmod 700 "$KEYDIR"
  # name:bytes; a key given in the environment is not made here
  for name in dev1:48 datos1:32 busqueda:32; do
    bytes="${name#*:}"; name="${name%%:*}"
    case "$name" in
      dev1) [ -n "${VETRED_JWT_KEYS:-}" ] && continue ;;
      datos1) [ -n "${VETRED_DATA_KEYS:-}" ] && continue ;;
      busqueda) [ -n "${VETRED_SEARCH_KEY:-}" ] && continue ;;
    esac
    if [ ! -s "$KEYDIR/$name.key" ]; then
      log "keys: generating the development key $KEYDIR/$name.key"
      (umask 077; openssl rand -base64 "$bytes" >"$KEYDIR/$name.key.tmp" &&
        mv -f "$KEYDIR/$name.key.tmp" "$KEYDIR/$name.key") || die "cannot write $KEYDIR/$name.key"
    fi
    chmod 600 "$KEYDIR/$name.key"
  done
}

# The development certificate: self-signed, P-256, for localhost and
# 127.0.0.1, two years; the key readable by its owner only (nginx's master
# reads it before dropping privileges).  A real certificate is given with
# VETRED_TLS_CERT and VETRED_TLS_KEY.
tls_cert() {
  [ -n "${VETRED_TLS_CERT:-}" ] && return 0
  [ -s "$TLS_CERT" ] && [ -s "$TLS_KEY" ] && return 0
  log "tls: generating a self-signed certificate for localhost ($TLS_CERT)"
  mkdir -p "$(dirname "$TLS_CERT")"
  (umask 077; openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$TLS_KEY.tmp" -out "$TLS_CERT.tmp" -days 730 -subj "/CN=localhost/O=VetRed dev" \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" >/dev/null 2>&1) ||
    die "cannot generate the TLS certificate (openssl)"
  chmod 644 "$TLS_CERT.tmp"
  mv -f "$TLS_KEY.tmp" "$TLS_KEY"
  mv -f "$TLS_CERT.tmp" "$TLS_CERT"
}

# ---------------------------------------------------------------- nginx's configuration

# nginx.conf from deploy/nginx.conf.in, checked by nginx -t before it
# replaces the last one.  nginx itself runs under supervisord.
ngx_conf() {
  command -v nginx >/dev/null || die "nginx not found (run ci/deps.sh)"
  mkdir -p "$NGX/tmp"
  tls_cert
  local servers="" i
  for ((i = 1; i <= API_PROCS; i++)); do
    servers+="        server unix:$RUNDIR/api-$i.sock max_fails=3 fail_timeout=2s;\\n"
  done
  servers="${servers%\\n}"
  # Buffered: one write per 64 KiB or per second, not per request.
  local access="access_log off;"
  [ "$ACCESS_LOG" = 1 ] && access="access_log \"$NGX/access.log\" vetred_json buffer=64k flush=1s;"
  # $servers is already escaped except for the path parts.
  sed -e "s|@HTTP_PORT@|$HTTP_PORT|g" \
      -e "s|@HTTPS_PORT@|$HTTPS_PORT|g" \
      -e "s|@HTTPS_ADDR@|$(sed_esc "$HTTPS_ADDR")|g" \
      -e "s|@TLS_CERT@|$(sed_esc "$TLS_CERT")|g" \
      -e "s|@TLS_KEY@|$(sed_esc "$TLS_KEY")|g" \
      -e "s|@STACK_DIR@|$(sed_esc "$DIR")|g" \
      -e "s|@WEB@|$(sed_esc "$WEB")|g" \
      -e "s|@API_SERVERS@|$(printf '%s' "$servers" | sed -e 's/[|&]/\\&/g')|g" \
      -e "s|@ACCESS_LOG@|$(sed_esc "$access")|g" \
      "$REPO/deploy/nginx.conf.in" >"$NGX/nginx.conf.new"
  cp -f "$REPO/deploy/ical.js" "$NGX/ical.js"
  mkdir -p "$DIR/ical/feeds" "$DIR/ical/t"
  chmod 755 "$DIR/ical" "$DIR/ical/feeds" "$DIR/ical/t"
  if ! nginx -t -p "$NGX" -c "$NGX/nginx.conf.new" -e "$NGX/error.log" >"$NGX/configtest.log" 2>&1; then
    cat "$NGX/configtest.log" >&2
    die "generated nginx configuration is invalid ($NGX/nginx.conf.new)"
  fi
  mv -f "$NGX/nginx.conf.new" "$NGX/nginx.conf"
}

# rotate_logs: nginx's logs past LOG_MAX bytes move to *.1 (the old .1 is
# dropped); a running nginx is told to reopen them (USR1).
rotate_logs() {
  local f moved=0
  for f in "$NGX/access.log" "$NGX/error.log"; do
    [ -f "$f" ] && [ "$(stat -c %s "$f")" -ge "$LOG_MAX" ] || continue
    mv -f "$f" "$f.1" && moved=1
  done
  if [ "$moved" = 1 ] && [ "$(sup_state nginx)" = RUNNING ]; then ctl signal USR1 nginx >/dev/null || true; fi
  return 0
}

# ---------------------------------------------------------------- the supervisor
#
# supervisord (Debian's supervisor) runs every long-running service the
# project builds, plus nginx, from <stack dir>/supervisor/supervisord.conf;
# ci/services.py writes that file from its one table of services.  It
# restarts a service that exits unexpectedly (a crash, a kill), and
# `supervisorctl update` restarts exactly the services whose command,
# environment or binary changed.  PostgreSQL (pg_ctl: the postmaster
# restarts its own backends) and RabbitMQ stay outside: they must be up
# and migrated before any supervised service starts.

sup_pid() {
  local pid; pid="$(read_pid "$SUP/supervisord.pid")"
  pid_alive "$pid" && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$SUP/supervisord.conf" && echo "$pid"
}
ctl() { supervisorctl -c "$SUP/supervisord.conf" "$@"; }
# services conf|names: ci/services.py with this stack's settings.
services() {
  python3 "$REPO/ci/services.py" "$1" dir="$DIR" repo="$REPO" bin="$BIN" rundir="$RUNDIR" \
    logdir="$LOGDIR" ngx="$NGX" db_url="$DB_URL" api_db_url="$API_DB_URL" amqp_url="$AMQP_URL" \
    api_procs="$API_PROCS" api_threads="$API_THREADS" jwt_keys="$JWT_KEYS" \
    common_passwords="$COMMON_PASSWORDS" data_keys="$DATA_KEYS" search_key="$SEARCH_KEY" \
    metrics_port="$METRICS_PORT" metrics_port_sched="$(sched_metrics_port)" metrics_port_worker="$(worker_metrics_port)" log_max="$LOG_MAX" cors_origins="$CORS_ORIGINS"
}
# sup_state NAME: RUNNING, STARTING, BACKOFF, STOPPED, EXITED, FATAL, ...
# (STOPPED when supervisord does not run).
sup_state() {
  local out
  sup_pid >/dev/null || { echo STOPPED; return 0; }
  out="$(ctl status "$1" 2>/dev/null || true)"
  set -- $out
  echo "${2:-STOPPED}"
}
# Processes of this stack that outlived their supervisord (killed -9):
# every supervised process carries VETRED_STACK=<stack dir>, except that
# nginx writes its process title over its environment: its master is the
# one of its pid file running this stack's nginx.conf (its workers end
# with it).
leftovers() {
  local p
  for p in /proc/[0-9]*; do
    has_env "${p#/proc/}" "VETRED_STACK=$DIR" && echo "${p#/proc/}"
  done
  p="$(read_pid "$NGX/nginx.pid")"
  pid_alive "$p" && tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -qF -- "$NGX/nginx.conf" && echo "$p"
  return 0
}
end_leftovers() {
  local pids p
  mapfile -t pids < <(leftovers)
  [ "${#pids[@]}" -gt 0 ] || return 0
  log "ending processes of this stack left by a dead supervisord: ${pids[*]}"
  for p in "${pids[@]}"; do stop_pid "$p" "pid $p" 15 & done
  wait
}

# Writes supervisord.conf; starts supervisord (which starts every service)
# or has the running one apply the new file.
sup_start() {
  command -v supervisord >/dev/null || die "supervisord not found (run ci/deps.sh)"
  mkdir -p "$SUP" "$RUNDIR" "$LOGDIR"
  chmod 700 "$SUP"; chmod 755 "$RUNDIR"
  services conf >"$SUP/supervisord.conf.new" || die "cannot write $SUP/supervisord.conf"
  mv -f "$SUP/supervisord.conf.new" "$SUP/supervisord.conf"
  local ngx_before out
  if sup_pid >/dev/null; then
    ngx_before="$(ctl pid nginx 2>/dev/null || true)"
    # Changed sections are restarted, new ones started, gone ones stopped;
    # then whatever was stopped by hand or crashed for good starts again.
    out="$(ctl update 2>&1)" || { printf '%s\n' "$out" >&2; die "supervisorctl update failed"; }
    [ -z "$out" ] || log "supervisor: ${out//$'\n'/; }"
    out="$(ctl start all 2>&1 || true)"
    [ -z "$out" ] || log "supervisor: ${out//$'\n'/; }"
    # Unchanged nginx (its section names only its file): load the new file.
    if [ -n "$ngx_before" ] && [ "$ngx_before" != 0 ] && [ "$(ctl pid nginx 2>/dev/null)" = "$ngx_before" ]; then
      ctl signal HUP nginx >/dev/null || die "nginx did not take its new configuration"
    fi
  else
    rm -f "$SUP/supervisord.pid" "$SUP/supervisor.sock"
    log "supervisor: starting $(services names | tr '\n' ' ')($BIN)"
    # A clean environment: a service gets what its section says, not
    # whatever the first caller of `start` had exported.
    env -i PATH="$PATH" HOME="${HOME:-/}" LANG="${LANG:-C.UTF-8}" ${TZ:+TZ="$TZ"} \
      supervisord -c "$SUP/supervisord.conf" </dev/null ||
      { tail_of "$SUP/supervisord.log"; die "supervisord did not start"; }
    # It daemonizes before it listens: wait for its control socket.
    local i
    for ((i = 0; i < 100; i++)); do
      sup_pid >/dev/null && ctl pid >/dev/null 2>&1 && break
      sleep 0.1
    done
    sup_pid >/dev/null || { tail_of "$SUP/supervisord.log"; die "supervisord did not start"; }
  fi
  sup_await
}

# Every API process has its FastCGI socket and its monitoring listener,
# the scheduler, the worker and nginx run; a service that gave up (FATAL) or exited
# fails the start.
sup_await() {
  local deadline=$((SECONDS + 30)) i name state
  for ((i = 1; i <= API_PROCS; i++)); do
    while [ ! -S "$RUNDIR/api-$i.sock" ] || ! port_in_use "$(metrics_port "$i")" ||
        [ "$(sup_state "api:api-$i")" != RUNNING ]; do
      state="$(sup_state "api:api-$i")"
      case "$state" in FATAL|EXITED)
        tail_of "$LOGDIR/api-$i.log"; die "api-$i did not start ($state; log: $LOGDIR/api-$i.log)" ;;
      esac
      [ "$SECONDS" -lt "$deadline" ] ||
        { tail_of "$LOGDIR/api-$i.log"; die "api-$i did not create $RUNDIR/api-$i.sock and listen on port $(metrics_port "$i") within 30s"; }
      sleep 0.1
    done
  done
  for name in scheduler worker nginx; do
    while state="$(sup_state "$name")" && [ "$state" != RUNNING ]; do
      case "$state" in FATAL|EXITED)
        [ "$name" = nginx ] && { tail_of "$NGX/stderr.log"; tail_of "$NGX/error.log"; }
        [ "$name" = nginx ] || tail_of "$LOGDIR/$name.log"
        die "$name did not start ($state)" ;;
      esac
      [ "$SECONDS" -lt "$deadline" ] || die "$name did not start within 30s ($state)"
      sleep 0.1
    done
  done
}

# supervisord stops the services in reverse start order (nginx first, so
# no new request reaches an API process that is stopping; the API
# processes together, each on SIGTERM: a clean exit, coverage written),
# then exits.
sup_stop() {
  local pid i
  pid="$(sup_pid)" || { end_leftovers; return 0; }
  log "supervisor: stopping $(ctl status 2>/dev/null | awk '$2 == "RUNNING" { printf "%s ", $1 }')(pid $pid)"
  ctl shutdown >/dev/null 2>&1 || kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 900; i++)); do pid_alive "$pid" || break; sleep 0.1; done
  pid_alive "$pid" && stop_pid "$pid" supervisord 10
  rm -f "$SUP/supervisord.pid" "$SUP/supervisor.sock"
  end_leftovers
}

# ---------------------------------------------------------------- commands

wait_ready() {
  local url="http://127.0.0.1:$HTTP_PORT/ready" deadline=$((SECONDS + 30)) code=""
  while :; do
    code="$(curl -sS -o /dev/null -w '%{http_code}' -m 2 "$url" 2>/dev/null || true)"
    [ "$code" = 200 ] && return 0
    [ "$SECONDS" -lt "$deadline" ] || break
    sleep 0.2
  done
  local i
  for ((i = 1; i <= API_PROCS; i++)); do tail_of "$LOGDIR/api-$i.log" 20; done
  tail_of "$NGX/error.log" 10
  die "$url did not answer 200 within 30s (last status: ${code:-none})"
}

write_env() {
  { printf 'export VETRED_DATABASE_URL=%q\n' "$DB_URL"
    printf 'export VETRED_AMQP_URL=%q\n' "$AMQP_URL"
    printf 'export VETRED_HTTP_URL=%q\n' "http://127.0.0.1:$HTTP_PORT"
    printf 'export VETRED_HTTPS_URL=%q\n' "https://127.0.0.1:$HTTPS_PORT"
    printf 'export VETRED_TLS_CA=%q\n' "$TLS_CERT"
    printf 'export VETRED_STACK_DIR=%q\n' "$DIR"
    printf 'export VETRED_JWT_KEYS=%q\n' "$JWT_KEYS"
    printf 'export VETRED_DATA_KEYS=%q\n' "$DATA_KEYS"
    printf 'export VETRED_SEARCH_KEY=%q\n' "$SEARCH_KEY"
    printf 'export VETRED_API_DATABASE_URL=%q\n' "$API_DB_URL"
    printf 'export VETRED_METRICS_URLS=%q\n' "$(metrics_urls)"
    printf 'export VETRED_WORKER_METRICS_URLS=%q\n' "$(worker_metrics_urls)"
    printf 'export VETRED_STACK_BIN=%q\n' "$BIN"
    printf 'export VETRED_CORS_ORIGINS=%q\n' "$CORS_ORIGINS"
  } >"$ENVFILE.tmp"
  mv -f "$ENVFILE.tmp" "$ENVFILE"
}

# Before starting anything: the ports of the components to start are free.
preflight() {
  local ports=("$HTTP_PORT" "$HTTPS_PORT")
  [ "$PG_PRIVATE" = 1 ] && ports+=("$PG_PORT")
  [ "$AMQP_PRIVATE" = 1 ] && ports+=("$AMQP_PORT" "$DIST_PORT" "$EPMD_PORT")
  reserve_ports "${ports[@]}"
  if [ "$PG_PRIVATE" = 1 ] && ! pg_pid >/dev/null; then
    wait_port_free "$PG_PORT" VETRED_PG_PORT
  fi
  if [ "$AMQP_PRIVATE" = 1 ]; then
    rmq_env
    if ! rmq_pid >/dev/null; then
      wait_port_free "$AMQP_PORT" VETRED_AMQP_PORT
      wait_port_free "$DIST_PORT" VETRED_AMQP_DIST_PORT
      epmd_running || wait_port_free "$EPMD_PORT" VETRED_EPMD_PORT
    fi
  fi
  # Nothing supervised runs: its ports are free (a dead supervisord's
  # services are ended first).
  if ! sup_pid >/dev/null; then
    end_leftovers
    local i
    wait_port_free "$HTTP_PORT" VETRED_HTTP_PORT
    wait_port_free "$HTTPS_PORT" VETRED_HTTPS_PORT
    for ((i = 1; i <= API_PROCS; i++)); do wait_port_free "$(metrics_port "$i")" VETRED_METRICS_PORT; done
    wait_port_free "$(sched_metrics_port)" VETRED_METRICS_PORT
  fi
  return 0
}

cmd_start() {
  local t0=$SECONDS
  place_stack_dir
  want_settings
  [ -x "$BIN/vetred-migrate" ] || die "$BIN/vetred-migrate not found or not executable: build first (make), or set VETRED_BIN"
  [ -x "$BIN/vetred-api" ] || die "$BIN/vetred-api not found or not executable: build first (make), or set VETRED_BIN"
  command -v curl >/dev/null || die "curl not found (run ci/deps.sh)"
  command -v supervisord >/dev/null || die "supervisord not found (run ci/deps.sh)"

  # Started before with other ports or choices: stop that stack first.
  if [ -f "$STATE" ]; then
    local wanted old v
    wanted="$(for v in $CMP_VARS; do printf '%s=%q\n' "$v" "${!v}"; done)"
    old="$(for v in $CMP_VARS; do grep "^$v=" "$STATE" || true; done)"
    if [ "$wanted" != "$old" ]; then
      log "settings differ from the last start in $DIR; stopping the old stack first"
      ( cmd_stop ) || true
    fi
  fi
  preflight
  mkdir -p "$DIR" "$LOGDIR" "$RUNDIR"
  chmod 755 "$DIR"
  save_state
  rm -f "$ENVFILE"

  if [ "$PG_PRIVATE" = 1 ]; then
    pg_start
  else
    log "postgresql: using VETRED_DATABASE_URL (no private server)"
    "$PGBIN/pg_isready" -q -d "$DB_URL" -t 10 || die "the server in VETRED_DATABASE_URL does not accept connections"
  fi
  run_migrations
  [ "$SEED" = 1 ] && run_seed
  dev_keys
  run_cifrar
  if [ "$AMQP_PRIVATE" = 1 ]; then
    rmq_start
  else
    log "rabbitmq: using VETRED_AMQP_URL (no private node)"
  fi
  place_web
  rotate_logs
  ngx_conf
  sup_start
  wait_ready
  write_env
  log "ready in $((SECONDS - t0))s: http://127.0.0.1:$HTTP_PORT (env: $ENVFILE)"
}

cmd_stop() {
  load_state
  if [ ! -d "$DIR" ]; then log "nothing to stop in $DIR"; return 0; fi
  sup_stop
  rmq_stop
  pg_stop
  rm -f "$ENVFILE"
  log "stopped ($DIR)"
}

# stop, then remove the stack directory (and the shared one it points to).
cmd_clean() {
  cmd_stop
  if [ -L "$WANT_DIR" ]; then
    case "$DIR" in "$SHARED_BASE"/*) rm -rf "$DIR" ;; esac
    rm -f "$WANT_DIR"
  else
    rm -rf "$WANT_DIR"
  fi
  log "removed $WANT_DIR"
}

cmd_status() {
  load_state
  local all=0 pid i
  line() { printf '%-11s %s\n' "$1" "$2"; }
  if [ "$PG_PRIVATE" != 1 ]; then
    line postgresql "external (VETRED_DATABASE_URL)"
  elif pid="$(pg_pid)"; then
    line postgresql "running (pid $pid, 127.0.0.1:$PG_PORT, $PGDATA)"
  else
    line postgresql "stopped"; all=3
  fi
  if [ "$AMQP_PRIVATE" != 1 ]; then
    line rabbitmq "external (VETRED_AMQP_URL)"
  elif pid="$(rmq_pid)" && port_in_use "$AMQP_PORT"; then
    line rabbitmq "running (pid $pid, node $RMQ_NODE, 127.0.0.1:$AMQP_PORT)"
  elif [ -n "${pid:-}" ]; then
    line rabbitmq "starting or broken (pid $pid, AMQP port $AMQP_PORT closed)"; all=3
  else
    line rabbitmq "stopped"; all=3
  fi
  # The supervised services, in start order.
  local name state out info
  for name in $(services names); do
    state="$(sup_state "$name")" info=""
    out="$(ctl pid "$name" 2>/dev/null || true)"
    [ "$state" = RUNNING ] && is_int "$out" && info=" (pid $out"
    case "$name" in
      api:api-*)
        i="${name#api:api-}"
        if [ "$state" = RUNNING ] && [ ! -S "$RUNDIR/api-$i.sock" ]; then
          state=RUNNING-WITHOUT-SOCKET
        fi
        [ -n "$info" ] && info+=", $RUNDIR/api-$i.sock, metrics http://127.0.0.1:$(metrics_port "$i")/metrics" ;;
      scheduler) [ -n "$info" ] && info+=", metrics http://127.0.0.1:$(sched_metrics_port)/metrics" ;;
      worker) [ -n "$info" ] && info+=", metrics http://127.0.0.1:$(worker_metrics_port)/metrics" ;;
      nginx) [ -n "$info" ] && info+=", http://127.0.0.1:$HTTP_PORT" ;;
    esac
    [ -n "$info" ] && info+=")"
    line "${name#*:}" "$(printf '%s' "$state" | tr 'A-Z-' 'a-z ')$info"
    [ "$state" = RUNNING ] || all=3
  done
  if pid="$(sup_pid)"; then line supervisor "running (pid $pid, $SUP/supervisord.conf)"
  else line supervisor "stopped"; all=3; fi
  return "$all"
}

# broker stop|start: only the private RabbitMQ node, the rest running (the
# tests of the outbox relay take the broker away and bring it back).
cmd_broker() {
  load_state
  [ "$AMQP_PRIVATE" = 1 ] || die "broker: the stack uses VETRED_AMQP_URL, not a private node"
  case "${1:-}" in
    stop) rmq_stop ;;
    start) rmq_start ;;
    *) die "usage: ${0##*/} broker stop|start" ;;
  esac
}

cmd_env() {
  [ -f "$ENVFILE" ] || die "no $ENVFILE: the stack is not started (ci/stack.sh start)"
  cat "$ENVFILE"
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  clean) cmd_clean ;;
  status) cmd_status ;;
  env) cmd_env ;;
  broker) cmd_broker "${2:-}" ;;
  rotate) load_state; rotate_logs ;;
  *) echo "usage: ${0##*/} start|stop|clean|status|env|rotate|broker stop|start" >&2; exit 2 ;;
esac
