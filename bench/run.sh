#!/usr/bin/env bash
# bench/run.sh — the load benchmark of VetRed (what `make bench` runs after
# `make MODE=release all`).  Starts a private stack under var/bench on its
# own ports, runs wrk scenarios against nginx on 127.0.0.1, and rewrites
# bench/README.md from the figures it measured.  Stops the stack at the end.
#
#   bench/run.sh
#
# Environment (all optional):
#   BENCH_SHORT_SECS    10    duration of the 64-connection scenarios
#   BENCH_MATRIX_SECS   20    duration of each 1,000-connection run
#   BENCH_KEEP_LONG_SECS 70   the extra keep-conn run: longer than nginx's
#                             fastcgi_read_timeout (60 s), so stalls turn
#                             into errors
#   BENCH_README        bench/README.md   where the report is written
# The booking benchmarks (section "Booking" of the report):
#   BENCH_BOOK_USERS_SECS 60  the users model: 1,000 connections, think time
#   BENCH_BOOK_SAT_SECS   20  saturation: wrk at 64 connections, then pgbench
#   BENCH_READ_SECS       20  GET /api/v1/citas/{id} at 64 connections
#   BENCH_PROFILE_SECS     5  each short run of the per-stage profile
#   BENCH_ALT_THREADS     16  then the users model, saturation and reads again
#                             with 2 x this many API threads (0, or the
#                             default: skip)
#   BENCH_ALT_SECS        20  its users model (saturation and reads: half)
#   BENCH_VETS            20  vets of the bench site (24/7 hours)
#   BENCH_PATIENTS     20000  patients (one owner each)
#
# Every request loop is wrk or pgbench with a fixed duration against
# 127.0.0.1 (or the stack's PostgreSQL socket); raw outputs and logs stay in
# var/bench/results and var/bench/log.
set -euo pipefail
umask 022

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$REPO"

# ---------------------------------------------------------------- settings

export VETRED_STACK_DIR=var/bench VETRED_PG_PORT=16432 VETRED_AMQP_PORT=16672 \
  VETRED_AMQP_DIST_PORT=16673 VETRED_EPMD_PORT=16369 VETRED_HTTP_PORT=16080 \
  VETRED_BIN=build/release VETRED_SEED=1 VETRED_API_PROCS=2 \
  VETRED_SEAL_INTERVAL_S=2
# wrk sends one user's token from up to 1,000 connections: under the
# default request budget (fcgi-api/limite.c) most would be answered 429.
# A budget it never meets: the bucket is still taken on every request.
export VETRED_RATE_PER_USER=1000000 VETRED_RATE_BURST=4000000
# A sourced env file of another stack must not point us at its servers.
unset VETRED_DATABASE_URL VETRED_AMQP_URL VETRED_API_THREADS VETRED_API_SOCKET VETRED_MIGRATIONS_DIR VETRED_JWT_KEYS VETRED_API_DATABASE_URL VETRED_DATA_KEYS VETRED_SEARCH_KEY

STACK="$REPO/var/bench"
NGX="$STACK/nginx"
RUNDIR="$STACK/run"
LOGDIR="$STACK/log"
RES="$STACK/results"
BASE="http://127.0.0.1:$VETRED_HTTP_PORT"
LUA="bench/status.lua"
TCP_PORTS=(16081 16082)          # API processes on TCP, for one configuration
SHORT_SECS="${BENCH_SHORT_SECS:-10}"
MATRIX_SECS="${BENCH_MATRIX_SECS:-20}"
KEEP_LONG_SECS="${BENCH_KEEP_LONG_SECS:-70}"
WRK_TIMEOUT=5s                   # a response slower than this counts as an error
WRK_THREADS=2
README="${BENCH_README:-bench/README.md}"
# API threads per process of the default configuration: must equal the
# default of VETRED_API_THREADS in lib/config.c and ci/stack.sh.
DEFAULT_THREADS=4
# The thread counts the 1,000-connection matrix compares with the default:
# one lower, one higher (MATRIX_LOW < DEFAULT_THREADS < MATRIX_HIGH).
MATRIX_LOW=2
MATRIX_HIGH=16
# The names of the 1,000-connection runs, from their thread counts: unix
# sockets at each count, then TCP and keep-conn (also the longer run) at the
# default.
RUN_LOW="unix$MATRIX_LOW" RUN_DEF="unix$DEFAULT_THREADS" RUN_HIGH="unix$MATRIX_HIGH"
RUN_TCP="tcp$DEFAULT_THREADS" RUN_KEEP="keep$DEFAULT_THREADS" RUN_KEEPLONG="keep${DEFAULT_THREADS}long"
BOOK_USERS_SECS="${BENCH_BOOK_USERS_SECS:-60}"
BOOK_SAT_SECS="${BENCH_BOOK_SAT_SECS:-20}"
READ_SECS="${BENCH_READ_SECS:-20}"
PROFILE_SECS="${BENCH_PROFILE_SECS:-5}"
ALT_THREADS="${BENCH_ALT_THREADS:-16}"   # the previous default
ALT_SECS="${BENCH_ALT_SECS:-20}"
NVETS="${BENCH_VETS:-20}"
NPAC="${BENCH_PATIENTS:-20000}"
PGBENCH=/usr/lib/postgresql/15/bin/pgbench
# The targets of the issue, and the Python reference it gives (FastAPI +
# asyncpg + uvicorn, 2 workers, on the same kind of 2-core machine).
T_USERS_P95=5 T_USERS_P99=15 T_SAT_RATIO=75 T_READ_RPS=15000 T_READ_P99=10
PY_SAT_RPS=2400 PY_USERS_P99=34 PY_READ_RPS=6200

log() { printf 'bench: %s\n' "$*" >&2; }
die() { printf 'bench: error: %s\n' "$*" >&2; exit 1; }

for c in wrk curl nginx ss psql; do
  command -v "$c" >/dev/null || die "$c not found (run ci/deps.sh)"
done
[ -x "$PGBENCH" ] || PGBENCH="$(command -v pgbench || true)"
[ -n "$PGBENCH" ] || die "pgbench not found (Debian's postgresql-15 ships /usr/lib/postgresql/15/bin/pgbench)"
for x in BOOK_USERS_SECS:BOOK_USERS_SECS BOOK_SAT_SECS:BOOK_SAT_SECS READ_SECS:READ_SECS \
    PROFILE_SECS:PROFILE_SECS ALT_SECS:ALT_SECS NVETS:VETS NPAC:PATIENTS; do
  var="${x%%:*}"
  [[ "${!var}" =~ ^[1-9][0-9]*$ ]] || die "BENCH_${x#*:} must be a positive integer (got '${!var}')"
done
[[ "$ALT_THREADS" =~ ^[0-9]+$ ]] || die "BENCH_ALT_THREADS must be a number (got '$ALT_THREADS')"
if [ "$MATRIX_LOW" -lt 1 ] || [ "$MATRIX_LOW" -ge "$DEFAULT_THREADS" ] || [ "$DEFAULT_THREADS" -ge "$MATRIX_HIGH" ]; then
  die "the thread matrix needs 1 <= MATRIX_LOW < DEFAULT_THREADS < MATRIX_HIGH (got $MATRIX_LOW, $DEFAULT_THREADS, $MATRIX_HIGH)"
fi
[ "$NPAC" -ge "$NVETS" ] || die "BENCH_PATIENTS must be at least BENCH_VETS (two slots at one time need two patients)"
[ "$NPAC" -le 999999 ] || die "BENCH_PATIENTS must be at most 999999 (owner DNIs are 99000000 + n)"
[ "$NVETS" -le 9999 ] || die "BENCH_VETS must be at most 9999"
[ -x build/release/vetred-api ] || die "build/release/vetred-api missing: run make MODE=release all"
grep -q 'location = /_nginx' deploy/nginx.conf.in ||
  die "deploy/nginx.conf.in has no 'location = /_nginx' (the nginx-alone baseline)"

# wrk needs a descriptor per connection; 65535 when allowed, else the hard limit.
ulimit -n 65535 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
NOFILE="$(ulimit -n)"
[ "$NOFILE" = unlimited ] || [ "$NOFILE" -ge 2200 ] ||
  die "open files limit $NOFILE is too low for 1,000 connections"

mkdir -p "$RES" "$LOGDIR"
rm -f "$RES"/*.txt
STACKLOG="$LOGDIR/bench-stack.log"
: >"$STACKLOG"

# ---------------------------------------------------------------- the stack

TCP_PIDS=()

stop_tcp_apis() {
  local pid i
  for pid in "${TCP_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${TCP_PIDS[@]}"; do
    for ((i = 0; i < 150; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null || true
  done
  TCP_PIDS=()
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  stop_tcp_apis
  log "stopping the bench stack (var/bench)"
  ci/stack.sh stop >>"$STACKLOG" 2>&1 || log "ci/stack.sh stop failed (see $STACKLOG)"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# stack_start THREADS: (re)start the stack; ci/stack.sh restarts the API
# processes when the thread count changes and regenerates nginx.conf.
# It reloads a running nginx: wait for the old workers to finish, or a
# client connection they accepted in the meantime is closed under wrk (which
# counts it as a read error).
# bench_token: sign in as the seeded network administrator and export the
# access token the wrk scripts send (VETRED_BENCH_TOKEN).  Called before
# each wrk run: a token lives 15 minutes, the whole bench longer.
BENCH_USER=admin.red@vetred.pe BENCH_PASSWORD=VetRed-Demo-2026
bench_token() {
  local out
  out="$(curl -s -m 10 -X POST -H 'Content-Type: application/json' \
    -d "{\"email\":\"$BENCH_USER\",\"password\":\"$BENCH_PASSWORD\"}" \
    "$BASE/api/v1/auth/login" || true)"
  VETRED_BENCH_TOKEN="$(printf '%s' "$out" | sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')"
  [ -n "$VETRED_BENCH_TOKEN" ] || die "cannot sign in as $BENCH_USER: $out"
  export VETRED_BENCH_TOKEN
}

stack_start() {
  local master old=()
  master="$(ngx_master)"
  [ -n "$master" ] && mapfile -t old < <(pgrep -P "$master" || true)
  log "ci/stack.sh start (VETRED_API_THREADS=$1)"
  VETRED_API_THREADS="$1" ci/stack.sh start >>"$STACKLOG" 2>&1 ||
    { tail -n 30 "$STACKLOG" >&2; die "ci/stack.sh start failed (log: $STACKLOG)"; }
  wait_gone "${old[@]}"
}

# wait_gone PID...: up to 20 s for (old nginx worker) processes to exit.
wait_gone() {
  local i pid alive=0
  for ((i = 0; i < 200; i++)); do
    alive=0
    for pid in "$@"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && break
    sleep 0.1
  done
  [ "$alive" = 0 ] || log "old nginx workers still finishing after 20s: $*"
  sleep 0.5
}

ngx() { nginx -p "$NGX" -c "$NGX/nginx.conf" -e "$NGX/error.log" "$@"; }
ngx_master() { if [ -r "$NGX/nginx.pid" ]; then head -n1 "$NGX/nginx.pid" | tr -dc '0-9'; fi; return 0; }

# ngx_reload: apply an edited nginx.conf and wait until the old workers are gone.
ngx_reload() {
  local master old=()
  ngx -t >>"$STACKLOG" 2>&1 || { tail -n 5 "$STACKLOG" >&2; die "edited nginx.conf is invalid"; }
  master="$(ngx_master)"
  [ -n "$master" ] || die "nginx is not running"
  mapfile -t old < <(pgrep -P "$master" || true)
  ngx -s reload
  wait_gone "${old[@]}"
}

# unix_api_pids: the API processes ci/stack.sh started (its supervisord
# knows their pids).
unix_api_pids() {
  supervisorctl -c "$STACK/supervisor/supervisord.conf" status 'api:*' 2>/dev/null |
    awk '$2 == "RUNNING" && $3 == "pid" { sub(",", "", $4); print $4 }'
  return 0
}

# rss_of PID...: "12.3 MiB/17 thr, ..." from /proc/PID/status.
rss_of() {
  local pid out="" kb thr
  for pid in "$@"; do
    kb="$(awk '/^VmRSS:/{print $2}' "/proc/$pid/status" 2>/dev/null || true)"
    thr="$(awk '/^Threads:/{print $2}' "/proc/$pid/status" 2>/dev/null || true)"
    [ -n "$kb" ] || continue
    out+="${out:+, }$(awk -v k="$kb" 'BEGIN{printf "%.1f", k/1024}') MiB ($thr threads)"
  done
  printf '%s' "${out:-n/a}"
}

# health_instances N: the instance names /health reports over N requests.
health_instances() {
  local i
  for ((i = 0; i < $1; i++)); do
    curl -s -m 3 "$BASE/health" | sed -n 's/.*"instancia":"\([^"]*\)".*/\1/p'
  done | sort -u | paste -sd, -
}

# ---------------------------------------------------------------- measuring

declare -A R=()       # R[scenario.field]
declare -A CMD=()     # CMD[scenario] = the wrk command line

v() { printf '%s' "${R[$1]:-n/a}"; }
# 502 as nginx answers it: deploy/nginx.conf.in maps 502 to a 503 with
# Retry-After (s503gw); a bare 502 would be counted in s502.
gw5xx() { echo $(( ${R[$1.s502]:-0} + ${R[$1.s503gw]:-0} + ${R[$1.s504]:-0} )); }
sockerr() { echo $(( ${R[$1.connect]:-0} + ${R[$1.read]:-0} + ${R[$1.write]:-0} + ${R[$1.timeout]:-0} )); }
# stalled NAME CONNS: the share (%) of connection-time not covered by a
# completed response (Little's law: 1 - req/s x mean latency / connections).
# wrk counts a timeout only for a response that does arrive late; a request
# still waiting when the run ends is not counted at all, so this is what
# shows connections stuck behind pinned threads.  About 0 when healthy.
stalled() {
  awk -v r="${R[$1.rps]:-0}" -v m="${R[$1.mean_ms]:-0}" -v c="$2" 'BEGIN {
    x = 100 * (1 - r * m / 1000 / c); if (x < 0) x = 0; printf "%.0f", x }'
}
STALL_MAX=20   # % above which a run counts as stalled

# CPU accounting, to tell this benchmark's figures from other work on the
# machine.  cpu_snapshot prints "BUSY OURS" in clock ticks: BUSY from
# /proc/stat (all CPUs, everything but idle and iowait), OURS = the stack's
# processes (nginx, API processes, PostgreSQL, RabbitMQ and their children)
# plus this script's reaped children (wrk, curl).
# group_pids GROUP: the processes of one part of the stack (nginx, api, pg,
# rmq: the master and its children) or of the client side (this script,
# whose reaped children -- wrk, pgbench, psql, curl -- count in its own
# /proc stat line).
group_pids() {
  local root="" p
  case "$1" in
    nginx) root="$(ngx_master)" ;;
    pg) root="$(head -n1 "$STACK/pg/postmaster.pid" 2>/dev/null || true)" ;;
    rmq) root="$(head -n1 "$STACK/rabbitmq/rabbitmq.pid" 2>/dev/null || true)" ;;
    api) unix_api_pids; for p in "${TCP_PIDS[@]}"; do echo "$p"; done; return 0 ;;
    client) echo "$$"; return 0 ;;
  esac
  root="$(tr -dc '0-9' <<<"$root")"
  [ -n "$root" ] || return 0
  echo "$root"
  pgrep -P "$root" || true
}
# ticks_of: CPU clock ticks (user + system, plus reaped children) of the
# PIDs read on stdin.  A PostgreSQL backend that exits is reaped by the
# postmaster, so its time stays in the pg group.
ticks_of() {
  sed 's|.*|/proc/&/stat|' | { xargs -r cat 2>/dev/null || true; } |
    awk '{ sub(/^.*\) /, ""); t += $12 + $13 + $14 + $15 } END { print t + 0 }'
}
CPU_GROUPS=(nginx api pg rmq client)
# cpu_snapshot: "BUSY OURS NGINX API PG RMQ CLIENT" in clock ticks; BUSY
# from /proc/stat (all CPUs, everything but idle and iowait), OURS the sum
# of the groups.
cpu_snapshot() {
  local busy g t ours=0 parts=""
  busy="$(awk '/^cpu /{print $2 + $3 + $4 + $7 + $8 + $9; exit}' /proc/stat)"
  for g in "${CPU_GROUPS[@]}"; do
    t="$(group_pids "$g" | ticks_of)"
    ours=$((ours + t)) parts+=" $t"
  done
  echo "$busy $ours$parts"
}
# cpu_share SNAP0 SNAP1 SECS: "total% others%" of all CPUs during the interval.
cpu_share() {
  awk -v a="$1" -v b="$2" -v secs="$3" -v n="$M_NPROC" -v hz="$HZ" 'BEGIN {
    split(a, x, " "); split(b, y, " "); cap = secs * n * hz
    busy = y[1] - x[1]; ours = y[2] - x[2]; oth = busy - ours; if (oth < 0) oth = 0
    printf "%.0f %.0f", 100 * busy / cap, 100 * oth / cap }'
}
# cpu_record NAME SNAP0 SNAP1 T0 T1: R[NAME.cpu], R[NAME.others] (% of all
# CPUs), R[NAME.wall] (s) and R[NAME.tk_GROUP] (ticks of each group, and
# tk_others: busy ticks outside the groups).
cpu_record() {
  local name="$1" secs share i=3 g
  local -a x y
  secs="$(awk -v a="$4" -v b="$5" 'BEGIN{printf "%.3f", b - a}')"
  share="$(cpu_share "$2" "$3" "$secs")"
  R[$name.cpu]="${share% *}" R[$name.others]="${share#* }" R[$name.wall]="$secs"
  read -r -a x <<<"$2"
  read -r -a y <<<"$3"
  for g in "${CPU_GROUPS[@]}"; do
    R[$name.tk_$g]=$(( y[i - 1] - x[i - 1] ))
    i=$((i + 1))
  done
  i=$(( (y[0] - x[0]) - (y[1] - x[1]) ))
  [ "$i" -ge 0 ] || i=0
  R[$name.tk_others]="$i"
}
# cpu_pct NAME GROUP: the group's share of all CPUs (%) during run NAME.
cpu_pct() {
  awk -v t="${R[$1.tk_$2]:-}" -v s="${R[$1.wall]:-0}" -v n="$M_NPROC" -v hz="$HZ" 'BEGIN {
    if (t == "" || s <= 0) printf "n/a"; else printf "%.0f", 100 * t / (s * n * hz) }'
}
# cpu_total NAME: the CPU time per request of all the groups and others (µs).
cpu_total() {
  local g x t=0
  for g in "${CPU_GROUPS[@]}" others; do
    x="$(cpu_us "$1" "$g")"
    [ "$x" = n/a ] || t=$((t + x))
  done
  echo "$t"
}
# cpu_us NAME GROUP: the group's CPU time per request (microseconds).
cpu_us() {
  awk -v t="${R[$1.tk_$2]:-}" -v r="${R[$1.requests]:-0}" -v hz="$HZ" 'BEGIN {
    if (t == "" || r <= 0) printf "n/a"; else printf "%.0f", 1e6 * t / hz / r }'
}

errlog_lines() { if [ -f "$NGX/error.log" ]; then wc -l <"$NGX/error.log"; else echo 0; fi; }

# run_wrk NAME PATH CONNS SECS [SCRIPT [ARG...]]: SCRIPT defaults to
# bench/status.lua; ARGs are passed to its init() (after wrk's --).
run_wrk() {
  local name="$1" path="$2" conns="$3" secs="$4" script="${5:-$LUA}" out="$RES/$1.txt" mark line kv new
  local cmd=(wrk "-t$WRK_THREADS" "-c$conns" "-d${secs}s" --latency --timeout "$WRK_TIMEOUT" -s "$script" "$BASE$path")
  [ "$#" -le 5 ] || cmd+=(-- "${@:6}")
  CMD[$name]="${cmd[*]}"
  mark="$(errlog_lines)"
  bench_token
  log "$name: ${cmd[*]}"
  local snap0 snap1 t0 t1
  snap0="$(cpu_snapshot)"; t0="$(date +%s.%N)"
  "${cmd[@]}" >"$out" 2>&1 || log "$name: wrk exited with an error (see $out)"
  t1="$(date +%s.%N)"; snap1="$(cpu_snapshot)"
  cpu_record "$name" "$snap0" "$snap1" "$t0" "$t1"
  line="$(grep '^BENCH ' "$out" | tail -n1 || true)"
  if [ -z "$line" ]; then
    log "$name: no result line from wrk"; tail -n 5 "$out" >&2
  fi
  # shellcheck disable=SC2086  # split the key=value words on purpose
  for kv in ${line#BENCH }; do R[$name.${kv%%=*}]="${kv#*=}"; done
  R[$name.stalled]="$(stalled "$name" "$conns")"
  # What nginx logged meanwhile (warn and above); the excerpt keeps the
  # first 200 lines, and the log is emptied (it can grow by a million lines).
  new="$RES/$name.nginx-errors.all"
  tail -n +"$((mark + 1))" "$NGX/error.log" >"$new" 2>/dev/null || true
  R[$name.ngx_errors]="$(grep -c '\[\(error\|crit\|alert\|emerg\)\]' "$new" || true)"
  R[$name.ngx_timedout]="$(grep -c 'upstream timed out' "$new" || true)"
  R[$name.ngx_nolive]="$(grep -c 'no live upstreams' "$new" || true)"
  R[$name.ngx_connect]="$(grep -c 'connect() to .* failed' "$new" || true)"
  R[$name.ngx_closed]="$(grep -c 'upstream prematurely closed\|reset by peer' "$new" || true)"
  head -n 200 "$new" >"$RES/$name.nginx-errors.txt"
  rm -f "$new"
  : >"$NGX/error.log"
  log "$name: ${R[$name.rps]:-?} req/s, p99 ${R[$name.p99_ms]:-?} ms, non-2xx ${R[$name.non2xx]:-?}, timeouts ${R[$name.timeout]:-?}, stalled ${R[$name.stalled]}%; CPU ${R[$name.cpu]}% (others ${R[$name.others]}%)"
}

# probe NAME: right after a 1,000-connection run, 64 connections for 3 s:
# does the stack still answer promptly at a light load?  Clean: no error,
# no timeout, not stalled, P99 within the clients' 600 ms.  wrk looks for stuck
# connections every 2 s only, so the timeout is 1 s (2 s would never fire).
# Then count the API connections left open while idle (pinned threads).
probe() {
  local name="$1" out="$RES/$1-probe.txt" line kv p="$1-probe"
  local cmd=(wrk -t2 -c64 -d3s --timeout 1s -s "$LUA" "$BASE/api/v1/sedes/1")
  CMD[$p]="${cmd[*]}"
  "${cmd[@]}" >"$out" 2>&1 || log "$p: wrk exited with an error (see $out)"
  line="$(grep '^BENCH ' "$out" | tail -n1 || true)"
  # shellcheck disable=SC2086  # split the key=value words on purpose
  for kv in ${line#BENCH }; do R[$p.${kv%%=*}]="${kv#*=}"; done
  R[$p.stalled]="$(stalled "$p" 64)"
  R[$name.probe]="$(v "$p.rps") req/s, P99 $(v "$p.p99_ms") ms, max $(v "$p.max_ms") ms, stalled $(v "$p.stalled") %, $(v "$p.timeout") timeouts, $(v "$p.non2xx") non-2xx"
  if [ -n "$line" ] && [ "$(sockerr "$p")" = 0 ] && [ "${R[$p.non2xx]:-1}" = 0 ] &&
      [ "${R[$p.stalled]}" -le "$STALL_MAX" ] &&
      awk -v x="${R[$p.p99_ms]:-1e9}" 'BEGIN{exit !(x <= 600)}'; then
    R[$name.probe_ok]=1
  else
    R[$name.probe_ok]=0
  fi
  sleep 1
  R[$name.pinned]="$(api_conns_open)"
  log "$name: probe ${R[$name.probe]}; API connections open when idle: ${R[$name.pinned]}"
}

# api_conns_open: established connections on the API side (unix sockets of
# this stack and the TCP ports), i.e. threads held by nginx while idle.
api_conns_open() {
  local u t=0 port
  u="$(ss -Hxn state established 2>/dev/null | awk -v d="$RUNDIR/api-" 'index($4, d) == 1' | wc -l)"
  for port in "${TCP_PORTS[@]}"; do
    t=$((t + $(ss -Htn state established "sport = :$port" 2>/dev/null | wc -l)))
  done
  echo $((u + t))
}

# ---------------------------------------------------------------- bookings

DB_URL=""          # the stack's VETRED_DATABASE_URL (from var/bench/env)
BOOK_RUNS=()       # the wrk runs that book: their 201s add up
K_NEXT=0           # the next unused slot number
WAITS_PID=""

# bpsql ARG...: psql on the bench database; stops at the first error; each
# statement and psql itself are bounded in time.
bpsql() {
  PGOPTIONS="-c statement_timeout=300s" timeout 400 psql -X -q -v ON_ERROR_STOP=1 -d "$DB_URL" "$@"
}

# book_fixtures: the bench site (America/Lima), NVETS vets working there
# 24/7 from today, NPAC patients with one owner each.  Sets FX_SEDE,
# FX_VET0, FX_PAC0 (ids are consecutive from there), FX_BASE (epoch of
# the next local midnight) and K_CAP (slots before the 2-year limit, with
# one day to spare).
book_fixtures() {
  local line n vs p ps horizon
  log "fixtures: site BEN-01, $NVETS vets 24/7, $NPAC patients"
  line="$(bpsql -At -F ' ' -v nvets="$NVETS" -v npac="$NPAC" <<'SQL' | tail -n1
SET client_min_messages = warning;
BEGIN;
INSERT INTO sedes (codigo, nombre, ciudad, direccion, zona_horaria)
VALUES ('BEN-01', 'Sede benchmark', 'Lima', 'Av. Benchmark 100', 'America/Lima');
WITH u AS (
	INSERT INTO usuarios (email, nombre)
	SELECT format('bench.vet%s@vetred.test', g), format('Vet benchmark %s', g)
	FROM generate_series(1, :nvets) g ORDER BY g
	RETURNING id)
INSERT INTO veterinarios (usuario_id, nombres, apellidos, cmvp)
SELECT id, 'Vet', 'Benchmark ' || id, (900000 + id)::text FROM u ORDER BY id;
INSERT INTO veterinario_sedes (veterinario_id, sede_id)
SELECT v.id, s.id FROM veterinarios v JOIN usuarios u ON u.id = v.usuario_id
JOIN sedes s ON s.codigo = 'BEN-01'
WHERE u.email LIKE 'bench.vet%@vetred.test';
INSERT INTO horarios (veterinario_id, sede_id, dia_semana, hora_inicio, hora_fin, vigente_desde)
SELECT vs.veterinario_id, vs.sede_id, d, time '00:00', time '24:00',
	(now() AT TIME ZONE 'America/Lima')::date
FROM veterinario_sedes vs JOIN sedes s ON s.id = vs.sede_id AND s.codigo = 'BEN-01',
	generate_series(1, 7) d;
WITH o AS (
	INSERT INTO propietarios (nombres, apellidos, tipo_documento, numero_documento, telefono)
	SELECT 'Dueño', 'Benchmark ' || g, 'DNI', (99000000 + g)::text,
		'+519' || lpad(g::text, 8, '0')
	FROM generate_series(1, :npac) g ORDER BY g
	RETURNING id)
INSERT INTO pacientes (propietario_id, nombre, especie)
SELECT id, 'Paciente ' || id, 'canino' FROM o ORDER BY id;
COMMIT;
ANALYZE sedes, usuarios, veterinarios, veterinario_sedes, horarios, propietarios, pacientes, citas;
WITH s AS (SELECT id FROM sedes WHERE codigo = 'BEN-01'),
v AS (SELECT vs.veterinario_id AS id FROM veterinario_sedes vs JOIN s ON s.id = vs.sede_id),
p AS (SELECT p.id FROM pacientes p JOIN propietarios o ON o.id = p.propietario_id
	WHERE o.apellidos LIKE 'Benchmark %')
SELECT (SELECT id FROM s), min(v.id), count(*), max(v.id) - min(v.id) + 1,
	(SELECT min(id) FROM p), (SELECT count(*) FROM p), (SELECT max(id) - min(id) + 1 FROM p),
	extract(epoch FROM (((now() AT TIME ZONE 'America/Lima')::date + 1)::timestamp
		AT TIME ZONE 'America/Lima'))::bigint,
	extract(epoch FROM now() + interval '2 years')::bigint
FROM v;
SQL
)" || die "fixtures failed"
  read -r FX_SEDE FX_VET0 n vs FX_PAC0 p ps FX_BASE horizon <<<"$line"
  if [ "${n:-}" != "$NVETS" ] || [ "$vs" != "$NVETS" ] || [ "$p" != "$NPAC" ] || [ "$ps" != "$NPAC" ]; then
    die "fixtures: expected $NVETS vets and $NPAC patients with consecutive ids, got '$line'"
  fi
  K_CAP=$(( NVETS * ((horizon - 86400 - FX_BASE) / 900) ))
  log "fixtures: site $FX_SEDE, vets $FX_VET0.., patients $FX_PAC0.., first slot $(date -u -d "@$FX_BASE" '+%F %H:%M UTC'), $K_CAP slots"
}

# k_alloc VAR SECS RATE: VAR = the first slot of a fresh range big enough
# for SECS seconds at RATE bookings/s (well above what 2 cores do).
k_alloc() {
  printf -v "$1" '%s' "$K_NEXT"
  K_NEXT=$(( K_NEXT + $2 * $3 ))
  [ "$K_NEXT" -le "$K_CAP" ] ||
    die "only $K_CAP distinct slots fit in 2 years: raise BENCH_VETS or shorten the runs"
}

# book_run NAME CONNS SECS THINK_MIN_MS THINK_MAX_MS RATE: wrk booking
# distinct slots from a fresh range (bench/book_users.lua).
book_run() {
  local k
  k_alloc k "$3" "$6"
  run_wrk "$1" /api/v1/citas/reservar "$2" "$3" bench/book_users.lua \
    "$FX_SEDE" "$FX_VET0" "$NVETS" "$FX_PAC0" "$NPAC" "$FX_BASE" "$k" "$WRK_THREADS" "$4" "$5"
  BOOK_RUNS+=("$1")
  { grep '^NON201 ' "$RES/$1.txt" || true; } | head -n 5 >&2
}

# pgbench_slots K0 CLIENTS: the -D options of bench/booking.pgbench.
pgbench_slots() {
  printf '%s\n' -D "sede=$FX_SEDE" -D "vet0=$FX_VET0" -D "nvets=$NVETS" -D "pac0=$FX_PAC0" \
    -D "npac=$NPAC" -D "base=$FX_BASE" -D "k0=$1" -D "nclients=$2" -D n=0
}

# run_pgbench NAME CLIENTS SECS SCRIPT [OPTION...]: pgbench -M prepared on
# the bench database; R[NAME.rps] = tps, .requests, .failed, .mean_ms.
run_pgbench() {
  local name="$1" clients="$2" secs="$3" script="$4" out="$RES/$1.txt" jobs=2 snap0 snap1 t0 t1
  shift 4
  [ "$clients" -ge 2 ] || jobs=1
  local cmd=("$PGBENCH" -n -M prepared -c "$clients" -j "$jobs" -T "$secs" -f "$script" "$@")
  # shellcheck disable=SC2089  # the quotes are text: the command as shown
  CMD[$name]="${cmd[*]} \"\$VETRED_DATABASE_URL\""
  log "$name: ${CMD[$name]}"
  snap0="$(cpu_snapshot)"; t0="$(date +%s.%N)"
  timeout $((secs + 120)) "${cmd[@]}" "$DB_URL" >"$out" 2>&1 || log "$name: pgbench exited with an error (see $out)"
  t1="$(date +%s.%N)"; snap1="$(cpu_snapshot)"
  cpu_record "$name" "$snap0" "$snap1" "$t0" "$t1"
  R[$name.clients]="$clients"
  R[$name.requests]="$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$out")"
  R[$name.failed]="$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$out")"
  R[$name.mean_ms]="$(sed -n 's/^latency average = \([0-9.]*\) ms.*/\1/p' "$out")"
  R[$name.rps]="$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$out" | awk '{ printf "%.0f", $1 }')"
  log "$name: ${R[$name.rps]:-?} tps, latency average ${R[$name.mean_ms]:-?} ms, ${R[$name.requests]:-?} transactions (${R[$name.failed]:-?} failed); CPU ${R[$name.cpu]}% (others ${R[$name.others]}%)"
}

# pg_waits_start NAME SECS: in the background, for SECS seconds, sample
# every 100 ms what the active client backends of the bench database wait
# on ("CPU": no wait event, i.e. running or waiting for a CPU).
pg_waits_start() {
  bpsql -At -F ' ' >"$RES/$1.waits.txt" 2>&1 <<SQL &
CREATE TEMP TABLE w (ev text);
DO \$\$
DECLARE
	t_end timestamptz := clock_timestamp() + interval '$2 seconds';
BEGIN
	WHILE clock_timestamp() < t_end LOOP
		PERFORM pg_stat_clear_snapshot();
		INSERT INTO w SELECT coalesce(wait_event_type || ':' || wait_event, 'CPU')
		FROM pg_stat_activity
		WHERE backend_type = 'client backend' AND state = 'active'
		  AND datname = current_database() AND pid <> pg_backend_pid();
		PERFORM pg_sleep(0.1);
	END LOOP;
END
\$\$;
SELECT ev, count(*) FROM w GROUP BY ev ORDER BY 2 DESC, 1;
SQL
  WAITS_PID=$!
}

# pg_waits_end NAME: R[NAME.waits] = the shares of the sampled waits.
pg_waits_end() {
  if [ -n "$WAITS_PID" ]; then wait "$WAITS_PID" 2>/dev/null || true; fi
  WAITS_PID=""
  R[$1.waits]="$(awk 'NF == 2 && $2 ~ /^[0-9]+$/ { ev[++n] = $1; c[n] = $2; t += $2 }
    END { if (t == 0) { printf "n/a"; exit }
      for (i = 1; i <= n && i <= 6; i++)
        printf "%s%s %.0f %%", (i > 1 ? ", " : ""), ev[i], 100 * c[i] / t
      printf " (%d samples)", t }' "$RES/$1.waits.txt" 2>/dev/null || echo n/a)"
}

# api_metrics: "BOOK_SUM BOOK_COUNT BOOK_201 READ_SUM READ_COUNT" from the
# API processes' own /metrics (handler time in s, requests, 201s), summed
# over the processes: each one's monitoring listener, as listed in the
# stack's env file (VETRED_METRICS_URLS).
api_metrics() {
  local urls u all="" n=0
  urls="$(. "$STACK/env" && printf '%s' "$VETRED_METRICS_URLS")"
  for u in $urls; do
    all+="$(curl -s -m 3 "$u/metrics" || true)"$'\n'
    n=$((n + 1))
  done
  [ "$n" -gt 0 ] || log "no API metrics listener in $STACK/env"
  awk '
    index($0, "route=\"/api/v1/citas/reservar\"") {
      if (index($0, "vetred_http_request_duration_seconds_sum{") == 1) bs += $NF
      else if (index($0, "vetred_http_request_duration_seconds_count{") == 1) bc += $NF
      else if (index($0, "vetred_http_requests_total{") == 1 && index($0, "status=\"201\"")) b201 += $NF }
    index($0, "route=\"/api/v1/citas/{id}\"") {
      if (index($0, "vetred_http_request_duration_seconds_sum{") == 1) rs += $NF
      else if (index($0, "vetred_http_request_duration_seconds_count{") == 1) rc += $NF }
    END { printf "%.6f %.0f %.0f %.6f %.0f\n", bs, bc, b201, rs, rc }' <<<"$all"
}

# api_delta NAME M0 M1: R[NAME.api_book_ms], R[NAME.api_read_ms] (mean
# handler time between the two snapshots) and R[NAME.api201].
api_delta() {
  local -a a b
  read -r -a a <<<"$2"
  read -r -a b <<<"$3"
  R[$1.api_book_ms]="$(awk -v s0="${a[0]:-0}" -v s1="${b[0]:-0}" -v n="$(( ${b[1]:-0} - ${a[1]:-0} ))" 'BEGIN {
    if (n > 0) printf "%.2f", 1000 * (s1 - s0) / n; else printf "n/a" }')"
  R[$1.api_read_ms]="$(awk -v s0="${a[3]:-0}" -v s1="${b[3]:-0}" -v n="$(( ${b[4]:-0} - ${a[4]:-0} ))" 'BEGIN {
    if (n > 0) printf "%.2f", 1000 * (s1 - s0) / n; else printf "n/a" }')"
  R[$1.api201]=$(( ${b[2]:-0} - ${a[2]:-0} ))
}

# ngx_timing on|off: a temporary access log of nginx's own timings, in
# place of the stack's own, in
# $RES/timing.log, by editing the generated nginx.conf and reloading:
# $request_time (first byte from the client to the last byte sent) and
# $upstream_response_time / _connect_time / _header_time (from nginx's
# connect() to the API to its last byte / the connection / the headers).
ngx_timing() {
  if [ "$1" = on ]; then
    cp -f "$NGX/nginx.conf" "$NGX/nginx.conf.notiming"
    : >"$RES/timing.log"
    awk -v f="$RES/timing.log" '
      !done && /^[[:space:]]*access_log .*;[[:space:]]*$/ {
        print "    log_format bench_timing \"$request_method|$status|$request_time|$upstream_response_time|$upstream_connect_time|$upstream_header_time\";"
        print "    access_log \"" f "\" bench_timing buffer=256k flush=1s;"
        done = 1; next }
      { print }
      END { if (!done) exit 1 }' "$NGX/nginx.conf.notiming" >"$NGX/nginx.conf" ||
      die "could not add the timing access_log to $NGX/nginx.conf"
  else
    mv -f "$NGX/nginx.conf.notiming" "$NGX/nginx.conf"
  fi
  ngx_reload
}

# timing_stats METHOD FIELD: "mean p50 p99" (ms) of one timing.log field
# (3 request, 4 upstream response, 5 upstream connect, 6 upstream header)
# over METHOD's requests.  nginx logs these to the millisecond.
timing_stats() {
  awk -F'|' -v m="$1" -v f="$2" '$1 == m && $f != "-" && $f != "" { print $f * 1000 }' "$RES/timing.log" |
    sort -n | awk '{ v[NR] = $1; s += $1 } END {
      if (NR == 0) { printf "n/a n/a n/a"; exit }
      i50 = int(NR * 0.50); if (i50 < NR * 0.50) i50++
      i99 = int(NR * 0.99); if (i99 < NR * 0.99) i99++
      printf "%.2f %.0f %.0f", s / NR, v[i50], v[i99] }'
}

# ckpt_count: checkpoints started since the cluster started.
ckpt_count() { bpsql -At -c 'SELECT checkpoints_timed + checkpoints_req FROM pg_stat_bgwriter' || echo 0; }

# watch_start NAME SECS / watch_end NAME: around a run, sample the
# PostgreSQL waits and count the checkpoints that started meanwhile (a
# checkpoint makes every page's next change write a full page to the WAL:
# the commits' tail grows for a while).
watch_start() { CKPT0="$(ckpt_count)"; pg_waits_start "$1" "$2"; }
watch_end() { pg_waits_end "$1"; R[$1.ckpt]=$(( $(ckpt_count) - CKPT0 )); }

# pgbench_log_stats NAME SKIP: from pgbench's per-transaction logs
# ($RES/NAME-log.*), the execution latency (schedule lag excluded, as wrk's
# latency excludes the think time) of the transactions that started after
# the first SKIP seconds (new connections plan their statements first):
# R[NAME.p50_ms], .p95_ms, .p99_ms, .max_ms, .logged.
pgbench_log_stats() {
  local line
  line="$(cat "$RES/$1"-log.* 2>/dev/null | awk 'NF >= 7 { printf "%d %.3f\n", $5, ($3 - $7) / 1000 }' |
    sort -n -k1,1 | awk -v skip="$2" 'NR == 1 { t0 = $1 } $1 >= t0 + skip { print $2 }' | sort -n |
    awk '{ v[NR] = $1 } END {
      if (NR == 0) { print "n/a n/a n/a n/a 0"; exit }
      n = split("50 95 99", q, " ")
      for (i = 1; i <= n; i++) { k = int(NR * q[i] / 100); if (k < NR * q[i] / 100) k++; printf "%.2f ", v[k] }
      printf "%.2f %d\n", v[NR], NR }')"
  read -r R["$1.p50_ms"] R["$1.p95_ms"] R["$1.p99_ms"] R["$1.max_ms"] R["$1.logged"] <<<"$line"
}

# slot_call K MOTIVO: the reservar_cita call of slot K, as the API makes it.
slot_call() {
  local ini=$(( FX_BASE + ($1 / NVETS) * 900 ))
  printf "SELECT reservar_cita(%s, %s, %s, NULL, to_timestamp(%s), to_timestamp(%s) + interval '10 minutes', '%s', 'presencial', NULL, NULL, 'explain', '127.0.0.1', NULL, NULL)" \
    "$(( FX_PAC0 + $1 % NPAC ))" "$(( FX_VET0 + $1 % NVETS ))" "$FX_SEDE" "$ini" "$ini" "$2"
}

# supsql ARG...: psql as the private cluster's superuser (trust on its
# socket: ci/stack.sh runs initdb --auth=trust -U postgres), bounded.
# su_ok: whether that works here.
supsql() {
  PGOPTIONS="-c statement_timeout=60s" timeout 90 psql -X -v ON_ERROR_STOP=1 \
    -h "$STACK/pg-run" -p "$VETRED_PG_PORT" -U postgres -d vetred "$@"
}
su_ok() { [ "$(supsql -At -c 'SELECT rolsuper FROM pg_roles WHERE rolname = current_user' 2>/dev/null || true)" = t ]; }

# wal_snap: "RECORDS FPI BYTES WRITES SYNCS WRITE_MS SYNC_MS" from pg_stat_wal.
wal_snap() {
  bpsql -At -F ' ' -c 'SELECT wal_records, wal_fpi, wal_bytes, wal_write, wal_sync, wal_write_time, wal_sync_time FROM pg_stat_wal' ||
    echo "0 0 0 0 0 0 0"
}
# wal_delta NAME SNAP0 SNAP1 N: per booking (N of them), R[NAME.wal_bytes],
# .wal_fpi (full-page images), .wal_syncs (WAL flushes: fewer than one per
# commit when commits share a flush); R[NAME.wal_sync_ms] the mean flush
# time (when track_wal_io_timing is on).
wal_delta() {
  local -a a b
  read -r -a a <<<"$2"
  read -r -a b <<<"$3"
  [ "${#a[@]}" -ge 7 ] && [ "${#b[@]}" -ge 7 ] && [ "${4:-0}" -gt 0 ] || return 0
  R[$1.wal_bytes]="$(awk -v d="$(( b[2] - a[2] ))" -v n="$4" 'BEGIN { printf "%.0f", d / n }')"
  R[$1.wal_fpi]="$(awk -v d="$(( b[1] - a[1] ))" -v n="$4" 'BEGIN { printf "%.2f", d / n }')"
  R[$1.wal_syncs]="$(awk -v d="$(( b[4] - a[4] ))" -v n="$4" 'BEGIN { printf "%.2f", d / n }')"
  R[$1.wal_sync_ms]="$(awk -v t0="${a[6]}" -v t1="${b[6]}" -v c="$(( b[4] - a[4] ))" -v on="$WAL_TIMING" 'BEGIN {
    if (on == 1 && c > 0) printf "%.3f", (t1 - t0) / c; else printf "n/a" }')"
}

# explain NAME SQL_WARM SQL1 SQL2: EXPLAIN (ANALYZE, BUFFERS) of SQL1, then
# of SQL2 (the one reported: the first pays for loading auto_explain),
# after SQL_WARM (warm-up calls: plans cached as in the API's long-lived
# connections), in a transaction rolled back: nothing stays.  As the
# private cluster's superuser when its socket lets us in (trust), with
# auto_explain timing every statement the functions run; else as the
# application user, the top level only.  R[NAME.ms] = execution time;
# R[NAME.nested] = "ms  statement" lines; the full output in $RES.
explain() {
  local name="$1" out="$RES/explain-$1.txt" su=0
  if su_ok; then su=1; fi
  {
    echo "BEGIN;"
    echo "$2;"
    if [ "$su" = 1 ]; then
      echo "LOAD 'auto_explain';"
      echo "SET auto_explain.log_min_duration = 0; SET auto_explain.log_analyze = on;"
      echo "SET auto_explain.log_buffers = on; SET auto_explain.log_nested_statements = on;"
      echo "SET client_min_messages = log;"
    fi
    echo "EXPLAIN (ANALYZE, BUFFERS) $3;"
    echo "EXPLAIN (ANALYZE, BUFFERS) $4;"
    echo "ROLLBACK;"
  } >"$RES/explain-$name.sql"
  if [ "$su" = 1 ]; then
    supsql -f "$RES/explain-$name.sql" >"$out" 2>&1 || log "explain $name failed (see $out)"
    R[$name.how]="as the superuser, with auto_explain (nested statements)"
  else
    bpsql -f "$RES/explain-$name.sql" >"$out" 2>&1 || log "explain $name failed (see $out)"
    R[$name.how]="as the application user (no superuser: top level only)"
  fi
  R[$name.ms]="$(sed -n 's/.*Execution Time: \([0-9.]*\) ms.*/\1/p' "$out" | tail -n1)"
  # auto_explain logs each statement when it ends, the EXPLAIN itself last:
  # keep the statements of the last EXPLAIN.
  R[$name.nested]="$(awk '
    /LOG:  duration: / { d = $0; sub(/.*duration: /, "", d); sub(/ ms.*/, "", d); want = 1; next }
    want && /^Query Text: / { q = substr($0, 13); gsub(/[ \t]+/, " ", q); want = 0
      if (q ~ /^EXPLAIN/) { last = cur; cur = "" }
      else cur = cur sprintf("%9s ms  %s\n", d, substr(q, 1, 100)) }
    END { printf "%s", last }' "$out")"
}

# ---------------------------------------------------------------- run

START_DATE="$(date '+%Y-%m-%d %H:%M:%S %Z')"
log "starting at $START_DATE"

# The machine.
M_NPROC="$(nproc)"
M_CPU="$(awk -F': ' '/^model name/{print $2; exit}' /proc/cpuinfo)"
M_MEM="$(awk '/^MemTotal:/{printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
M_KERNEL="$(uname -sr)"
M_NGINX="$(nginx -v 2>&1 | sed 's/^nginx version: //')"
M_PG="$(/usr/lib/postgresql/15/bin/postgres --version 2>/dev/null || echo unknown)"
M_WRK="$( (wrk -v 2>&1 || true) | head -n1 | awk '{print $1, $2}')"
# shellcheck disable=SC1091
M_OS="$(. /etc/os-release 2>/dev/null && echo "${PRETTY_NAME:-unknown}")"
M_LOAD0="$(cut -d' ' -f1-3 /proc/loadavg)"
M_SOMAXCONN="$(cat /proc/sys/net/core/somaxconn)"
HZ="$(getconf CLK_TCK)"
snap0="$(cpu_snapshot)"; sleep 3; M_BUSY0="$(cpu_share "$snap0" "$(cpu_snapshot)" 3)"; M_BUSY0="${M_BUSY0% *}"

# A fresh database every time: the figures must not depend on what an
# earlier run (or an older version of a migration) left behind.  The
# migrations are copied once, so that an edit in the working tree during
# the run cannot make a later `ci/stack.sh start` refuse to migrate.
ci/stack.sh stop >>"$STACKLOG" 2>&1 || true
rm -rf "$STACK/pg" "$STACK/seed.applied" "$STACK/migrations" "$LOGDIR/sealer.log"
cp -R db/migrations "$STACK/migrations"
export VETRED_MIGRATIONS_DIR="$STACK/migrations"
stack_start "$DEFAULT_THREADS"
bench_token
for p in /_nginx /health /api/v1/sedes/1; do
  code="$(curl -s -o /dev/null -m 5 -w '%{http_code}' -H "Authorization: Bearer $VETRED_BENCH_TOKEN" "$BASE$p" || true)"
  [ "$code" = 200 ] || die "GET $p answered $code, not 200"
done
M_NGX_WORKERS="$(pgrep -c -P "$(ngx_master)" || true)"

# Warm-up (not reported): PostgreSQL cache, plans, nginx workers.
wrk -t2 -c64 -d3s -s "$LUA" "$BASE/api/v1/sedes/1" >"$RES/warmup.txt" 2>&1 || true

# a-c: 64 connections.
run_wrk nginx64 /_nginx 64 "$SHORT_SECS"
run_wrk health64 /health 64 "$SHORT_SECS"
run_wrk sede64 /api/v1/sedes/1 64 "$SHORT_SECS"

# d: bookings (section "Booking" of the report), on this default
# configuration: the users model, saturation next to pgbench, reads, then
# the per-stage profile.  Every booking is a distinct valid slot.
# shellcheck disable=SC1091
DB_URL="$(. "$STACK/env" && printf '%s' "$VETRED_DATABASE_URL")"
[ -n "$DB_URL" ] || die "no VETRED_DATABASE_URL in $STACK/env"
book_fixtures
# How long the WAL flushes take (pg_stat_wal.wal_sync_time): a superuser
# setting, turned on in this private cluster when its superuser is at hand.
WAL_TIMING=0
if su_ok && supsql -q -c 'ALTER SYSTEM SET track_wal_io_timing = on' -c 'SELECT pg_reload_conf()' >/dev/null 2>&1; then
  WAL_TIMING=1
fi
M_START="$(api_metrics)"
book_run bwarm 64 3 0 0 8000          # warm-up: plans of every API connection
# Statistics of a table that is no longer empty: planned while citas was
# empty, the reads may use a hash join over the whole table
# (until autovacuum analyzes it, a minute or more later).  ANALYZE
# invalidates the plans cached in the API's connections.
bpsql -c 'ANALYZE citas, auditoria, outbox'
sleep 1

m0="$(api_metrics)"
w0="$(wal_snap)"
watch_start users "$BOOK_USERS_SECS"
book_run users 1000 "$BOOK_USERS_SECS" 500 1500 2500
watch_end users
m1="$(api_metrics)"
api_delta users "$m0" "$m1"
wal_delta users "$w0" "$(wal_snap)" "${R[users.api201]:-0}"

w0="$(wal_snap)"
watch_start sat64 "$BOOK_SAT_SECS"
book_run sat64 64 "$BOOK_SAT_SECS" 0 0 8000
watch_end sat64
m2="$(api_metrics)"
api_delta sat64 "$m1" "$m2"
wal_delta sat64 "$w0" "$(wal_snap)" "${R[sat64.api201]:-0}"

k_alloc k "$BOOK_SAT_SECS" 8000
w0="$(wal_snap)"
watch_start pgb64 "$BOOK_SAT_SECS"
mapfile -t popts < <(pgbench_slots "$k" 64)
run_pgbench pgb64 64 "$BOOK_SAT_SECS" bench/booking.pgbench "${popts[@]}"
watch_end pgb64
wal_delta pgb64 "$w0" "$(wal_snap)" "${R[pgb64.requests]:-0}"

# Reads of what the HTTP runs booked.
bpsql -At -c "SELECT id FROM citas WHERE motivo = 'bench-http' ORDER BY id" >"$RES/cita_ids.txt"
ID0="$(head -n1 "$RES/cita_ids.txt")" ID1="$(tail -n1 "$RES/cita_ids.txt")"
# As autovacuum leaves a table in steady state (visibility map, hint bits),
# and so that it does not start during the reads.
bpsql -c 'VACUUM (ANALYZE) citas, auditoria, outbox'
[ -n "$ID0" ] || die "no appointment was booked: nothing to read"
watch_start read64 "$READ_SECS"
run_wrk read64 /api/v1/citas 64 "$READ_SECS" bench/read_cita.lua "$RES/cita_ids.txt"
watch_end read64
m3="$(api_metrics)"
api_delta read64 "$m2" "$m3"
mapfile -t pids < <(unix_api_pids)
R[book.rss]="$(rss_of "${pids[@]}")"
# The audit sealer ran beside every booking run: its log line per run.
R[book.sealer]="$(awk -F'"' '/"audit rows sealed"/ {
    for (i = 1; i < NF; i++) { if ($i == "filas") f = $(i + 2); if ($i == "ms") m = $(i + 2) }
    n++; rows += f; if (m + 0 > max) max = m + 0; if (f + 0 > maxf) maxf = f + 0 }
  END { if (n) printf "%d runs, %d audit rows sealed, at most %d rows and %.0f ms in one run", n, rows, maxf, max; else printf "no run logged" }' \
  "$LOGDIR/sealer.log" 2>/dev/null || echo "no log")"

# Where the time goes: nginx's timings (a temporary access log), the API's
# own handler time, PostgreSQL alone (pgbench, one client and 64), and
# EXPLAIN of one call of each statement.
ngx_timing on
m4="$(api_metrics)"
book_run prof_book 64 "$PROFILE_SECS" 0 0 8000
m5="$(api_metrics)"
run_wrk prof_read /api/v1/citas 64 "$PROFILE_SECS" bench/read_cita.lua "$RES/cita_ids.txt"
m6="$(api_metrics)"
ngx_timing off
api_delta prof_book "$m4" "$m5"
api_delta prof_read "$m5" "$m6"
for f in 3 4 5 6; do
  R[prof_book.t$f]="$(timing_stats POST "$f")"
  R[prof_read.t$f]="$(timing_stats GET "$f")"
done
k_alloc k "$PROFILE_SECS" 8000
mapfile -t popts < <(pgbench_slots "$k" 1)
run_pgbench pgb1 1 "$PROFILE_SECS" bench/booking.pgbench "${popts[@]}"
run_pgbench pgr64 64 "$((PROFILE_SECS * 2))" bench/read_cita.pgbench -D "id0=$ID0" -D "id1=$ID1"
run_pgbench pgr1 1 "$PROFILE_SECS" bench/read_cita.pgbench -D "id0=$ID0" -D "id1=$ID1"
# PostgreSQL alone at the users model's rate, on as many connections as
# the API holds (one per thread): the latency the booking transaction
# itself has at that load, without nginx, the API or wrk.
API_CONNS=$(( VETRED_API_PROCS * DEFAULT_THREADS ))
k_alloc k "$((PROFILE_SECS * 2 + 2))" 2500
mapfile -t popts < <(pgbench_slots "$k" "$API_CONNS")
rm -f "$RES"/pgu-log.*
run_pgbench pgu "$API_CONNS" "$((PROFILE_SECS * 2 + 2))" bench/booking.pgbench "${popts[@]}" \
  -R "${R[users.rps]:-1000}" -l --log-prefix="$RES/pgu-log"
pgbench_log_stats pgu 2
k_alloc k 1 10
explain exbook "$(slot_call "$((k + 2))" bench-explain) UNION ALL $(slot_call "$((k + 3))" bench-explain) UNION ALL $(slot_call "$((k + 4))" bench-explain) UNION ALL $(slot_call "$((k + 5))" bench-explain) UNION ALL $(slot_call "$((k + 6))" bench-explain)" \
  "$(slot_call "$k" bench-explain)" "$(slot_call "$((k + 1))" bench-explain)"
explain exread "SELECT documento, version, sede_id FROM citas WHERE id BETWEEN $ID0 AND $ID0 + 4" \
  "SELECT documento, version, sede_id FROM citas WHERE id = $ID1 - 1" \
  "SELECT documento, version, sede_id FROM citas WHERE id = $ID1"

# Every 201 is a row, and every row a 201.
M_END="$(api_metrics)"
api_delta book "$M_START" "$M_END"
R[book.rows_http]="$(bpsql -At -c "SELECT count(*) FROM citas WHERE motivo = 'bench-http'")"
R[book.rows_pgb]="$(bpsql -At -c "SELECT count(*) FROM citas WHERE motivo = 'bench-pgbench'")"
R[book.rows_explain]="$(bpsql -At -c "SELECT count(*) FROM citas WHERE motivo = 'bench-explain'")"
w=0 c=0
for r in "${BOOK_RUNS[@]}"; do
  w=$((w + ${R[$r.s201]:-0}))
  c=$((c + $(sed -n 's/.* -c\([0-9]*\) .*/\1/p' <<<"${CMD[$r]}")))
done
# wrk stops waiting when its time is up: a request in flight then is still
# booked and answered, but not seen by wrk (at most one per connection).
R[book.wrk201]="$w" R[book.inflight_max]="$c"
R[book.pgb_tx]=$(( ${R[pgb64.requests]:-0} + ${R[pgb1.requests]:-0} + ${R[pgu.requests]:-0} ))
log "bookings: ${R[book.rows_http]} rows from HTTP, ${R[book.api201]} 201s answered by the API, ${R[book.wrk201]} seen by wrk; ${R[book.rows_pgb]} rows from pgbench for ${R[book.pgb_tx]} transactions"

# The same with another number of API threads, i.e. of PostgreSQL
# connections (2 x ALT_THREADS instead of 2 x DEFAULT_THREADS).
if [ "$ALT_THREADS" -gt 0 ] && [ "$ALT_THREADS" != "$DEFAULT_THREADS" ]; then
  stack_start "$ALT_THREADS"
  rows0="$(bpsql -At -c "SELECT count(*) FROM citas WHERE motivo = 'bench-http'")"
  a0="$(api_metrics)"
  book_run alt_warm 64 3 0 0 8000
  watch_start alt_users "$ALT_SECS"
  book_run alt_users 1000 "$ALT_SECS" 500 1500 2500
  watch_end alt_users
  book_run alt_sat64 64 "$(( (ALT_SECS + 1) / 2 ))" 0 0 8000
  run_wrk alt_read64 /api/v1/citas 64 "$(( (ALT_SECS + 1) / 2 ))" bench/read_cita.lua "$RES/cita_ids.txt"
  a1="$(api_metrics)"
  api_delta alt "$a0" "$a1"
  R[alt.rows]=$(( $(bpsql -At -c "SELECT count(*) FROM citas WHERE motivo = 'bench-http'") - rows0 ))
  mapfile -t pids < <(unix_api_pids)
  R[alt.rss]="$(rss_of "${pids[@]}")"
  log "alt: 2 x $ALT_THREADS threads: ${R[alt.rows]} rows, ${R[alt.api201]} 201s answered by the API"
  # PostgreSQL alone on as many connections: saturation, and at the users
  # model's rate.
  ALT_CONNS=$(( VETRED_API_PROCS * ALT_THREADS ))
  k_alloc k "$((PROFILE_SECS * 2))" 8000
  mapfile -t popts < <(pgbench_slots "$k" "$ALT_CONNS")
  run_pgbench pgb_alt "$ALT_CONNS" "$((PROFILE_SECS * 2))" bench/booking.pgbench "${popts[@]}"
  k_alloc k "$((PROFILE_SECS * 2 + 2))" 2500
  mapfile -t popts < <(pgbench_slots "$k" "$ALT_CONNS")
  rm -f "$RES"/pgu_alt-log.*
  run_pgbench pgu_alt "$ALT_CONNS" "$((PROFILE_SECS * 2 + 2))" bench/booking.pgbench "${popts[@]}" \
    -R "${R[alt_users.rps]:-1000}" -l --log-prefix="$RES/pgu_alt-log"
  pgbench_log_stats pgu_alt 2
fi

# e: 1,000 connections on GET /api/v1/sedes/1.
MATRIX=("$RUN_LOW" "$RUN_DEF" "$RUN_HIGH" "$RUN_TCP" "$RUN_KEEP" "$RUN_KEEPLONG")
declare -A DESC=(
  [$RUN_LOW]="unix socket, keep-conn off, 2 × ${MATRIX_LOW} threads"
  [$RUN_DEF]="unix socket, keep-conn off, 2 × ${DEFAULT_THREADS} threads (current default)"
  [$RUN_HIGH]="unix socket, keep-conn off, 2 × ${MATRIX_HIGH} threads"
  [$RUN_TCP]="TCP 127.0.0.1, keep-conn off, 2 × ${DEFAULT_THREADS} threads"
  [$RUN_KEEP]="unix socket, fastcgi_keep_conn on + keepalive 32, 2 × ${DEFAULT_THREADS} threads"
  [$RUN_KEEPLONG]="the same keep-conn configuration over ${KEEP_LONG_SECS} s (longer than fastcgi_read_timeout 60 s)"
)

# The default last: the keep-conn runs edit its nginx.conf.
for t in "$MATRIX_LOW" "$MATRIX_HIGH" "$DEFAULT_THREADS"; do
  stack_start "$t"
  run_wrk "unix$t" /api/v1/sedes/1 1000 "$MATRIX_SECS"
  probe "unix$t"
  mapfile -t pids < <(unix_api_pids)
  R[unix$t.rss]="$(rss_of "${pids[@]}")"
done

# The known trap: keep-conn on with an upstream keepalive cache.
log "$RUN_KEEP: fastcgi_keep_conn on; keepalive 32; (edited $NGX/nginx.conf)"
sed -i -e 's/fastcgi_keep_conn off;/fastcgi_keep_conn on;/' \
  -e 's/^\([[:space:]]*upstream vetred_api {\)$/\1\n        keepalive 32;/' "$NGX/nginx.conf"
if ! grep -q 'fastcgi_keep_conn on;' "$NGX/nginx.conf" || ! grep -q 'keepalive 32;' "$NGX/nginx.conf"; then
  die "could not edit $NGX/nginx.conf for keep-conn"
fi
ngx_reload
run_wrk "$RUN_KEEP" /api/v1/sedes/1 1000 "$MATRIX_SECS"
probe "$RUN_KEEP"
mapfile -t pids < <(unix_api_pids)
R[$RUN_KEEP.rss]="$(rss_of "${pids[@]}")"
# Again from fresh nginx workers (nothing pinned), for longer than nginx's
# fastcgi_read_timeout: what the stalls turn into.
ngx_reload
run_wrk "$RUN_KEEPLONG" /api/v1/sedes/1 1000 "$KEEP_LONG_SECS"
probe "$RUN_KEEPLONG"
mapfile -t pids < <(unix_api_pids)
R[$RUN_KEEPLONG.rss]="$(rss_of "${pids[@]}")"
stack_start "$DEFAULT_THREADS"   # regenerates nginx.conf from the template

# TCP: our own API processes on 127.0.0.1:PORT, nginx pointed at them.
# shellcheck disable=SC1091
. "$STACK/env"
i=0
for port in "${TCP_PORTS[@]}"; do
  i=$((i + 1))
  [ -z "$(ss -Htln "sport = :$port")" ] || die "port $port is in use; cannot start a TCP API process"
  VETRED_API_THREADS="$DEFAULT_THREADS" VETRED_API_SOCKET="127.0.0.1:$port" \
    VETRED_API_INSTANCE="api-tcp-$i" VETRED_METRICS_ADDR=off build/release/vetred-api </dev/null >>"$LOGDIR/api-tcp-$i.log" 2>&1 &
  TCP_PIDS+=("$!")
done
for port in "${TCP_PORTS[@]}"; do
  for ((i = 0; i < 100; i++)); do [ -n "$(ss -Htln "sport = :$port")" ] && break; sleep 0.1; done
  [ -n "$(ss -Htln "sport = :$port")" ] || die "the TCP API process on port $port did not listen (log: $LOGDIR)"
done
servers=""
for port in "${TCP_PORTS[@]}"; do
  servers+="        server 127.0.0.1:$port max_fails=1 fail_timeout=2s;\n"
done
awk -v s="$servers" '
  /^[[:space:]]*upstream vetred_api \{/ { print; printf "%s", s; next }
  /^[[:space:]]*server unix:.*api-[0-9]+\.sock/ { next }
  { print }' "$NGX/nginx.conf" >"$NGX/nginx.conf.tcp"
mv -f "$NGX/nginx.conf.tcp" "$NGX/nginx.conf"
log "$RUN_TCP: nginx upstream -> ${TCP_PORTS[*]/#/127.0.0.1:}"
ngx_reload
inst="$(health_instances 8)"
case "$inst" in *api-tcp-*) ;; *) die "after the reload /health answers from '$inst', not the TCP processes" ;; esac
case "$inst" in *api-[0-9]*) die "after the reload /health still answers from the unix processes ($inst)" ;; esac
run_wrk "$RUN_TCP" /api/v1/sedes/1 1000 "$MATRIX_SECS"
probe "$RUN_TCP"
R[$RUN_TCP.rss]="$(rss_of "${TCP_PIDS[@]}")"
stop_tcp_apis

# Back to the default configuration; check it answers from the unix processes.
stack_start "$DEFAULT_THREADS"
if ! grep -q 'fastcgi_keep_conn off;' "$NGX/nginx.conf" || grep -q 'keepalive 32;' "$NGX/nginx.conf"; then
  die "the default nginx.conf was not restored"
fi
inst="$(health_instances 8)"
case "$inst" in *api-tcp-*|'') die "default not restored: /health answers from '$inst'" ;; esac
mapfile -t pids < <(unix_api_pids)
RSS_FINAL="$(rss_of "${pids[@]}")"
END_DATE="$(date '+%Y-%m-%d %H:%M:%S %Z')"
M_LOAD1="$(cut -d' ' -f1-3 /proc/loadavg)"

# ---------------------------------------------------------------- the report

sockerr_txt() { printf '%s/%s/%s/%s' "$(v "$1.connect")" "$(v "$1.read")" "$(v "$1.write")" "$(v "$1.timeout")"; }
is_clean() {
  [ -n "${R[$1.requests]:-}" ] && [ "$(gw5xx "$1")" = 0 ] && [ "$(sockerr "$1")" = 0 ] &&
    [ "${R[$1.non2xx]:-1}" = 0 ] && [ "${R[$1.probe_ok]:-0}" = 1 ] &&
    [ "${R[$1.stalled]:-100}" -le "$STALL_MAX" ]
}
p95_ok() { awk -v p="${R[$1.p95_ms]:-1e9}" 'BEGIN{exit !(p <= 600)}'; }
# The clients' floor for a run: P95 <= 600 ms, and no error or stall
# (the percentiles alone only see the responses that arrived).
floor_ok() {
  p95_ok "$1" && [ "${R[$1.non2xx]:-1}" = 0 ] && [ "$(sockerr "$1")" = 0 ] &&
    [ "${R[$1.stalled]:-100}" -le "$STALL_MAX" ]
}
yes_no() { if "$@"; then echo yes; else echo no; fi; }
ratio() { awk -v a="${R[$1.rps]:-0}" -v b="${R[$2.rps]:-0}" 'BEGIN{ if (b > 0) printf "%.0f %%", 100*a/b; else printf "n/a" }'; }

CLEAN=() CLEAN_TXT=""
for c in "${MATRIX[@]}"; do
  if is_clean "$c"; then CLEAN+=("$c"); CLEAN_TXT+="${CLEAN_TXT:+, }\`$c\`"; fi
done
[ -n "$CLEAN_TXT" ] || CLEAN_TXT=none
BEST=""
for c in "${CLEAN[@]}"; do
  if [ -z "$BEST" ] || awk -v a="${R[$c.rps]}" -v b="${R[$BEST.rps]}" 'BEGIN{exit !(a > b)}'; then BEST="$c"; fi
done
declare -A CHANGE=(
  [$RUN_LOW]="make ${MATRIX_LOW} the default of VETRED_API_THREADS (lib/config.c, ci/stack.sh, the README table, DEFAULT_THREADS in bench/run.sh)"
  [$RUN_DEF]="nothing"
  [$RUN_HIGH]="make ${MATRIX_HIGH} the default of VETRED_API_THREADS (lib/config.c, ci/stack.sh, the README table, DEFAULT_THREADS in bench/run.sh); PostgreSQL then needs 2 × ${MATRIX_HIGH} connections per host"
  [$RUN_TCP]="listen on TCP (VETRED_API_SOCKET=127.0.0.1:PORT) and write 'server 127.0.0.1:PORT ...' upstream lines in ci/stack.sh"
  [$RUN_KEEP]="turn fastcgi_keep_conn on with an upstream keepalive cache (not advised: see the probe)"
  [$RUN_KEEPLONG]="turn fastcgi_keep_conn on with an upstream keepalive cache (not advised: see the probe)"
)

keep_text() {
  echo "With keep-conn on and \`keepalive 32\`, nginx served $(v "$RUN_KEEP.rps") req/s against"
  echo "$(v "$RUN_DEF.rps") req/s for the default ($(ratio "$RUN_KEEP" "$RUN_DEF")): reused connections skip the"
  echo "connect/accept per request. But after the run $(v "$RUN_KEEP.pinned") API connections stayed open"
  echo "while idle (the default: $(v "$RUN_DEF.pinned")) for 2 × ${DEFAULT_THREADS} = $(( VETRED_API_PROCS * DEFAULT_THREADS )) threads: each pins its thread in"
  echo "libfcgi, blocked reading the next request that may never come. A request that needs a"
  echo "new connection then waits in the listen backlog until nginx closes an idle one"
  echo "(upstream keepalive timeout 60 s) or until \`fastcgi_read_timeout\` (60 s) ends it (the"
  echo "longer run below). Measured: $(v "$RUN_KEEP.stalled") % of the connection-time stalled (default:"
  echo "$(v "$RUN_DEF.stalled") %), $(v "$RUN_KEEP.timeout") wrk timeouts and a slowest completed response of"
  echo "$(v "$RUN_KEEP.max_ms") ms (default: $(v "$RUN_DEF.timeout"), $(v "$RUN_DEF.max_ms") ms); the probe after it:"
  echo "$(v "$RUN_KEEP.probe") (default: $(v "$RUN_DEF.probe"))."
  echo "The fast median of the responses that did arrive hides the connections that got none."
  echo
  echo "Over ${KEEP_LONG_SECS} s, longer than \`fastcgi_read_timeout\` (60 s): $(v "$RUN_KEEPLONG.s503gw") of"
  echo "$(v "$RUN_KEEPLONG.requests") responses were nginx's own 503 (a 502 rewritten by \`error_page\`),"
  echo "$(v "$RUN_KEEPLONG.s502") were 502 and $(v "$RUN_KEEPLONG.s504") were 504; wrk counted $(v "$RUN_KEEPLONG.timeout") timeouts; nginx logged"
  echo "$(v "$RUN_KEEPLONG.ngx_timedout") \"upstream timed out\" and $(v "$RUN_KEEPLONG.ngx_nolive") \"no live upstreams\"."
  if [ "${R[$RUN_KEEPLONG.ngx_nolive]:-0}" -gt 0 ]; then
    echo "Connections that cannot be handed over while every thread is pinned count as"
    echo "failures for \`max_fails\`/\`fail_timeout\`, so both API processes drop out of the"
    echo "upstream for 2 s at a time, and every request in those windows is answered 503 at"
    echo "once (the req/s of that row counts those errors)."
  fi
  if [ "${R[$RUN_KEEPLONG.s504]:-0}" = 0 ] && [ "${R[$RUN_KEEPLONG.s503gw]:-0}" -gt 0 ]; then
    echo "No 504 reached the clients: a timed-out request is retried on the other process"
    echo "(\`fastcgi_next_upstream timeout\`), and when none is live nginx answers 502, which"
    echo "\`error_page 502 503 =503\` turns into 503."
  fi
}

# keepalive_vs_threads: the end of the note on nginx's keepalive cache,
# against the API threads of the default configuration.
keepalive_vs_threads() {
  local cache=$(( M_NGX_WORKERS * 32 )) threads=$(( VETRED_API_PROCS * DEFAULT_THREADS ))
  if [ "$cache" -gt "$threads" ]; then
    echo "more than the $threads API threads,"
    echo "  so every thread can end up pinned by an idle connection."
  elif [ "$cache" = "$threads" ]; then
    echo "as many as the $threads API threads,"
    echo "  so every thread can end up pinned by an idle connection."
  else
    echo "fewer than the $threads API threads,"
    echo "  so up to $cache of them can end up pinned by idle connections."
  fi
}

choices_text() {
  local c
  echo "- **keep-conn**: off (the default) clean: $(yes_no is_clean "$RUN_DEF"); on: clean $(yes_no is_clean "$RUN_KEEP"), stalled"
  echo "  $(v "$RUN_KEEP.stalled") % of the connection-time in ${MATRIX_SECS} s and, over ${KEEP_LONG_SECS} s, answered"
  echo "  $(v "$RUN_KEEPLONG.s503gw") requests with nginx's own 503 — see below."
  echo "- **unix socket vs TCP** (2 × ${DEFAULT_THREADS} threads, keep-conn off): $(v "$RUN_DEF.rps") vs $(v "$RUN_TCP.rps") req/s"
  echo "  (TCP at $(ratio "$RUN_TCP" "$RUN_DEF")), P99 $(v "$RUN_DEF.p99_ms") vs $(v "$RUN_TCP.p99_ms") ms;"
  echo "  clean: unix $(yes_no is_clean "$RUN_DEF"), TCP $(yes_no is_clean "$RUN_TCP"). TCP costs a loopback"
  echo "  handshake and teardown per request; it is only needed when nginx and the API"
  echo "  run on different hosts."
  echo "- **threads per process** (unix, keep-conn off): ${MATRIX_LOW} / ${DEFAULT_THREADS} / ${MATRIX_HIGH} threads gave"
  echo "  $(v "$RUN_LOW.rps") / $(v "$RUN_DEF.rps") / $(v "$RUN_HIGH.rps") req/s, P99 $(v "$RUN_LOW.p99_ms") / $(v "$RUN_DEF.p99_ms") / $(v "$RUN_HIGH.p99_ms") ms;"
  echo "  clean: $(yes_no is_clean "$RUN_LOW") / $(yes_no is_clean "$RUN_DEF") / $(yes_no is_clean "$RUN_HIGH"); CPU during the runs"
  echo "  $(v "$RUN_LOW.cpu") / $(v "$RUN_DEF.cpu") / $(v "$RUN_HIGH.cpu") %: on 2 cores the CPUs, not the threads, are the limit."
  echo "  Each thread also holds a PostgreSQL connection; RSS per process: $(v "$RUN_LOW.rss") at ${MATRIX_LOW},"
  echo "  $(v "$RUN_HIGH.rss") at ${MATRIX_HIGH}."
  local noisy=""
  for c in nginx64 health64 sede64 "${MATRIX[@]}"; do
    if [ "${R[$c.others]:-0}" -gt 10 ]; then noisy+="${noisy:+, }\`$c\` (${R[$c.others]} %)"; fi
  done
  if [ -n "$noisy" ]; then
    echo
    echo "Other work used more than 10 % of the CPUs during: $noisy — those figures are the least"
    echo "reliable; compare them again on a quiet machine."
  fi
}

conclusion() {
  if is_clean "$RUN_DEF"; then
    echo "**Kept: the current default — unix sockets, \`fastcgi_keep_conn off\`, 2 processes × ${DEFAULT_THREADS} threads.**"
    echo "At 1,000 client connections it answered every request with 200:"
    echo "no 502/503/504 from nginx, no socket error or wrk timeout, and the light-load probe right after it was clean"
    echo "($(v "$RUN_DEF.rps") req/s, P95 $(v "$RUN_DEF.p95_ms") ms, P99 $(v "$RUN_DEF.p99_ms") ms)."
    echo "Nothing to change."
    if [ -n "$BEST" ] && [ "$BEST" != "$RUN_DEF" ] &&
        awk -v a="${R[$BEST.rps]}" -v b="${R[$RUN_DEF.rps]}" 'BEGIN{exit !(a > 1.2 * b)}'; then
      echo
      echo "\`$BEST\` (${DESC[$BEST]}) was also clean, at $(ratio "$BEST" "$RUN_DEF") of the default's"
      echo "throughput. Differences of this size are within the noise of a shared 2-core machine:"
      echo "re-run \`make bench\` on a quiet machine before switching. To switch: ${CHANGE[$BEST]}."
    fi
  elif [ -n "$BEST" ]; then
    echo "**The current default (unix, keep-conn off, 2 × ${DEFAULT_THREADS} threads) is NOT clean at 1,000 connections:**"
    echo "$(gw5xx "$RUN_DEF") gateway errors (502/503/504 from nginx), $(sockerr "$RUN_DEF") socket errors/timeouts, $(v "$RUN_DEF.non2xx") non-2xx,"
    echo "post-load probe $(v "$RUN_DEF.probe")."
    echo
    echo "**Kept: \`$BEST\` — ${DESC[$BEST]}** (clean; $(v "$BEST.rps") req/s, P95 $(v "$BEST.p95_ms") ms)."
    echo "Lead: ${CHANGE[$BEST]}."
  else
    echo "**No configuration was clean at 1,000 connections** (each had gateway errors, socket errors or a failed probe)."
    echo "Nothing is kept on these figures; re-run on a quiet machine and look at the nginx error log excerpts in"
    echo "\`var/bench/results/*.nginx-errors.txt\` before changing the default."
  fi
}

matrix_row() {
  local c="$1"
  printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' \
    "${DESC[$c]}" "$(v "$c.rps")" "$(v "$c.p50_ms")" "$(v "$c.p95_ms")" "$(v "$c.p99_ms")" \
    "$(v "$c.max_ms")" "$(v "$c.stalled")" "$(v "$c.s502")" "$(v "$c.s503gw")" "$(v "$c.s504")" \
    "$(( ${R[$c.non2xx]:-0} - $(gw5xx "$c") ))" "$(sockerr_txt "$c")" "$(yes_no floor_ok "$c")"
}

after_row() {
  local c="$1"
  printf '| %s | %s | %s | %s | %s | %s |\n' "${DESC[$c]}" "$(v "$c.probe")" "$(v "$c.pinned")" \
    "$(v "$c.ngx_errors") ($(v "$c.ngx_timedout")/$(v "$c.ngx_nolive")/$(v "$c.ngx_connect")/$(v "$c.ngx_closed"))" \
    "$(v "$c.rss")" "$(v "$c.cpu") / $(v "$c.others")"
}

short_row() {
  local c="$1" what="$2" ref="$3"
  printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$what" "$(v "$c.rps")" \
    "$(v "$c.p50_ms")" "$(v "$c.p90_ms")" "$(v "$c.p99_ms")" "$(v "$c.non2xx")" \
    "$(sockerr_txt "$c")" "$(v "$c.cpu") / $(v "$c.others")" "$ref"
}

# --- the booking section

num_le() { awk -v a="${1:-}" -v b="$2" 'BEGIN { exit !(a ~ /^[0-9.]+$/ && a + 0 <= b + 0) }'; }
num_ge() { awk -v a="${1:-}" -v b="$2" 'BEGIN { exit !(a ~ /^[0-9.]+$/ && a + 0 >= b + 0) }'; }
verdict() { if "$@"; then echo PASS; else echo "**MISS**"; fi; }
no_errors() {
  [ -n "${R[$1.requests]:-}" ] && [ "${R[$1.requests]}" -gt 0 ] && [ "${R[$1.non2xx]:-1}" = 0 ] &&
    [ "$(sockerr "$1")" = 0 ]
}
R[sat.ratio]="$(awk -v a="${R[sat64.rps]:-0}" -v b="${R[pgb64.rps]:-0}" 'BEGIN { if (b > 0) printf "%.0f", 100 * a / b; else printf "n/a" }')"
ok_users_p95() { num_le "${R[users.p95_ms]:-}" "$T_USERS_P95"; }
ok_users_p99() { num_le "${R[users.p99_ms]:-}" "$T_USERS_P99"; }
ok_users_err() { no_errors users; }
ok_sat() { num_ge "${R[sat.ratio]}" "$T_SAT_RATIO"; }
ok_sat_err() { no_errors sat64 && [ "${R[pgb64.failed]:-1}" = 0 ]; }
ok_read_rps() { num_ge "${R[read64.rps]:-}" "$T_READ_RPS"; }
ok_read_p99() { num_le "${R[read64.p99_ms]:-}" "$T_READ_P99"; }
ok_read_err() { no_errors read64; }
# Every HTTP booking the API answered 201 is a row, and no other; wrk saw
# all of them but those in flight when a run ended; pgbench: one row per
# transaction (each books a distinct slot, so none answers 409).
ok_count() {
  local rows="${R[book.rows_http]:-}" api="${R[book.api201]:-}" by_wrk="${R[book.wrk201]:-0}"
  [[ "$rows" =~ ^[0-9]+$ ]] && [ "$rows" = "$api" ] && [ "$by_wrk" -le "$api" ] &&
    [ $((api - by_wrk)) -le "${R[book.inflight_max]:-0}" ] &&
    [ "${R[book.rows_pgb]:-x}" = "${R[book.pgb_tx]:-y}" ] && [ "${R[book.rows_explain]:-1}" = 0 ]
}
errs_txt() { printf '%s / %s' "$(v "$1.non2xx")" "$(sockerr "$1")"; }
fmt_int() { awk -v x="${1:-}" 'BEGIN { if (x !~ /^[0-9.]+$/) { printf "n/a"; exit }
  s = sprintf("%.0f", x); o = ""; while (length(s) > 3) { o = "," substr(s, length(s) - 2) o; s = substr(s, 1, length(s) - 3) }
  printf "%s%s", s, o }'; }

booking_table() {
  echo "| | measured | target | Python reference | verdict |"
  echo "| --- | ---: | ---: | ---: | --- |"
  echo "| **Users model** (1,000 connections, think time 0.5–1.5 s, ${BOOK_USERS_SECS} s): bookings/s | $(v users.rps) | ≈ 1,000 offered | — | — |"
  echo "| users model: P95 | $(v users.p95_ms) ms | ≤ ${T_USERS_P95} ms | — | $(verdict ok_users_p95) |"
  echo "| users model: P99 | $(v users.p99_ms) ms | ≤ ${T_USERS_P99} ms | ${PY_USERS_P99} ms | $(verdict ok_users_p99) |"
  echo "| users model: responses other than 201 / socket errors and timeouts | $(errs_txt users) | 0 / 0 | — | $(verdict ok_users_err) |"
  echo "| **Saturation**, 64 connections, no think time (${BOOK_SAT_SECS} s): bookings/s through nginx + API | $(fmt_int "${R[sat64.rps]:-}") (P99 $(v sat64.p99_ms) ms) | ≥ ${T_SAT_RATIO} % of pgbench | ~$(fmt_int "$PY_SAT_RPS") | — |"
  echo "| pgbench, 64 clients, the same \`SELECT reservar_cita(…)\` (${BOOK_SAT_SECS} s) | $(fmt_int "${R[pgb64.rps]:-}") tps (mean $(v pgb64.mean_ms) ms) | — | — | — |"
  echo "| saturation: HTTP bookings/s ÷ pgbench tps | $(v sat.ratio) % | ≥ ${T_SAT_RATIO} % | — | $(verdict ok_sat) |"
  echo "| saturation: non-201 / socket errors (HTTP); failed transactions (pgbench) | $(errs_txt sat64); $(v pgb64.failed) | 0 | — | $(verdict ok_sat_err) |"
  echo "| **Reads** \`GET /api/v1/citas/{id}\`, 64 connections (${READ_SECS} s): req/s | $(fmt_int "${R[read64.rps]:-}") | ≥ $(fmt_int "$T_READ_RPS") | $(fmt_int "$PY_READ_RPS") | $(verdict ok_read_rps) |"
  echo "| reads: P99 | $(v read64.p99_ms) ms | ≤ ${T_READ_P99} ms | — | $(verdict ok_read_p99) |"
  echo "| reads: responses other than 200 / socket errors | $(errs_txt read64) | 0 / 0 | — | $(verdict ok_read_err) |"
  echo "| nginx alone, \`GET /_nginx\`, 64 connections (this run, ${SHORT_SECS} s) | $(fmt_int "${R[nginx64.rps]:-}") req/s (P99 $(v nginx64.p99_ms) ms) | — | — | — |"
  echo "| citas rows = 201 answers | HTTP: $(fmt_int "${R[book.rows_http]:-}") rows, $(fmt_int "${R[book.api201]:-}") answered 201 by the API, $(fmt_int "${R[book.wrk201]:-}") seen by wrk; pgbench: $(fmt_int "${R[book.rows_pgb]:-}") rows for $(fmt_int "${R[book.pgb_tx]:-}") transactions | equal | — | $(verdict ok_count) |"
}

run_row() {
  local c="$1" what="$2"
  printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s / %s | %s / %s / %s / %s |\n' "$what" \
    "$(fmt_int "${R[$c.rps]:-}")" "$(v "$c.p50_ms")" "$(v "$c.p90_ms")" "$(v "$c.p95_ms")" "$(v "$c.p99_ms")" \
    "$(v "$c.max_ms")" "$(v "$c.non2xx")" "$(sockerr_txt "$c")" "$(v "$c.cpu")" "$(v "$c.others")" \
    "$(cpu_pct "$c" nginx)" "$(cpu_pct "$c" api)" "$(cpu_pct "$c" pg)" "$(cpu_pct "$c" client)"
}
pgb_row() {
  local c="$1" what="$2"
  printf '| %s | %s | mean %s | | | | | %s failed | | %s / %s | %s / %s / %s / %s |\n' "$what" \
    "$(fmt_int "${R[$c.rps]:-}")" "$(v "$c.mean_ms")" "$(v "$c.failed")" "$(v "$c.cpu")" "$(v "$c.others")" \
    "$(cpu_pct "$c" nginx)" "$(cpu_pct "$c" api)" "$(cpu_pct "$c" pg)" "$(cpu_pct "$c" client)"
}
# cpu_row RUN WHAT: CPU time per request of each part (µs).
cpu_row() {
  local c="$1" g tot=0 x out=""
  for g in nginx api pg rmq client others; do
    x="$(cpu_us "$c" "$g")"
    out+=" $x |"
    [ "$x" = n/a ] || tot=$((tot + x))
  done
  printf '| %s | %s |%s %s |\n' "$2" "$(fmt_int "${R[$c.rps]:-}")" "$out" "$tot"
}
# stage_row WHAT BOOK_TRIPLE READ_TRIPLE: "mean / P50 / P99" ms cells.
stage_row() {
  local book="${2:-—}" read="${3:-—}"
  printf '| %s | %s | %s |\n' "$1" "${book// / / }" "${read// / / }"
}

# The plain statement of what missed and why, from the figures.
misses_text() {
  local any=0 budget tot
  if ! ok_users_p95 || ! ok_users_p99 || ! ok_users_err; then
    any=1
    tot="$(cpu_total users)"
    echo "- **Users model missed**: P95 $(v users.p95_ms) ms and P99 $(v users.p99_ms) ms against ≤ ${T_USERS_P95} / ≤ ${T_USERS_P99} ms"
    echo "  ($(errs_txt users) non-201 / socket errors). Each booking cost $tot µs of CPU in all — PostgreSQL"
    echo "  $(cpu_us users pg) µs, nginx $(cpu_us users nginx) µs, the API $(cpu_us users api) µs, wrk $(cpu_us users client) µs — so at $(v users.rps)"
    echo "  bookings/s the 2 CPUs were $(v users.cpu) % busy (others $(v users.others) %) and requests queue. PostgreSQL"
    echo "  alone, one client and nothing else running, takes $(v pgb1.mean_ms) ms per booking (pgbench, commit"
    echo "  included); at the users model's rate on the API's $(v pgu.clients) connections PostgreSQL alone"
    echo "  (pgbench -R, no HTTP) answered with P50 $(v pgu.p50_ms) ms, P95 $(v pgu.p95_ms) ms, P99 $(v pgu.p99_ms) ms$(pgu_verdict pgu)."
    echo "  The active backends sampled during the users run: $(v users.waits);"
    echo "  a WAL flush took $(v users.wal_sync_ms) ms on average ($(v users.wal_syncs) flushes per booking; one commit"
    echo "  waits for the flush in progress, then for its own); $(v users.ckpt) checkpoint(s) started during the run."
    if [ "$(cpu_us users pg)" != n/a ] &&
        [ "$(cpu_us users pg)" -gt $(( $(cpu_us users nginx) + $(cpu_us users api) + $(cpu_us users client) )) ]; then
      echo "  The time goes to the booking transaction in PostgreSQL — $(cpu_us users pg) µs of CPU each under this"
      echo "  concurrency, and commits queueing for the WAL flush (\`LWLock:WALWrite\`, \`IO:WALSync\` above) —"
      echo "  more than to nginx, the API and wrk together."
    else
      echo "  nginx, the API and wrk together use more CPU per booking than PostgreSQL."
    fi
    if [ -n "${R[alt_users.requests]:-}" ]; then
      echo "  With 2 × ${ALT_THREADS} API threads (${ALT_CONNS:-?} PostgreSQL connections) the same load gave P95 $(v alt_users.p95_ms) ms,"
      echo "  P99 $(v alt_users.p99_ms) ms; PostgreSQL alone on ${ALT_CONNS:-?} connections at that rate: P95 $(v pgu_alt.p95_ms) ms,"
      echo "  P99 $(v pgu_alt.p99_ms) ms (below)."
    fi
  fi
  if ! ok_sat || ! ok_sat_err; then
    any=1
    echo "- **Saturation missed**: $(v sat64.rps) bookings/s through HTTP against $(v pgb64.rps) tps for pgbench ($(v sat.ratio) %,"
    echo "  target ≥ ${T_SAT_RATIO} %). CPU per booking: HTTP path nginx $(cpu_us sat64 nginx) + API $(cpu_us sat64 api) + wrk $(cpu_us sat64 client) µs"
    echo "  on top of PostgreSQL's $(cpu_us sat64 pg) µs (pgbench: PostgreSQL $(cpu_us pgb64 pg) µs + pgbench $(cpu_us pgb64 client) µs)."
  fi
  if ! ok_read_rps || ! ok_read_p99 || ! ok_read_err; then
    any=1
    budget=$(( 1000000 * M_NPROC / T_READ_RPS ))
    tot="$(cpu_total read64)"
    echo "- **Reads missed**: $(fmt_int "${R[read64.rps]:-}") req/s with P99 $(v read64.p99_ms) ms against ≥ $(fmt_int "$T_READ_RPS") req/s and ≤ ${T_READ_P99} ms."
    echo "  At $(fmt_int "$T_READ_RPS") req/s, ${M_NPROC} CPUs leave $budget µs of CPU per read for everything. A read cost $tot µs:"
    echo "  PostgreSQL $(cpu_us read64 pg) µs, nginx $(cpu_us read64 nginx) µs, the API $(cpu_us read64 api) µs, wrk $(cpu_us read64 client) µs"
    echo "  (all CPUs $(v read64.cpu) % busy). nginx + API + wrk alone take $(( $(cpu_us read64 nginx) + $(cpu_us read64 api) + $(cpu_us read64 client) )) µs;"
    echo "  PostgreSQL alone (pgbench, 64 clients, no HTTP) answered $(fmt_int "${R[pgr64.rps]:-}") reads of the stored document/s"
    echo "  at $(cpu_us pgr64 pg) µs of its CPU each. The read is CPU-bound on these ${M_NPROC} cores: the target needs"
    echo "  the whole path to cost what PostgreSQL alone costs now."
    if [ -n "${R[alt_read64.requests]:-}" ]; then
      echo "  With 2 × ${ALT_THREADS} API threads: $(fmt_int "${R[alt_read64.rps]:-}") req/s, P99 $(v alt_read64.p99_ms) ms (below)."
    fi
  fi
  if ! ok_count; then
    any=1
    echo "- **Row count mismatch**: $(v book.rows_http) HTTP rows vs $(v book.api201) 201s from the API ($(v book.wrk201) seen by wrk,"
    echo "  at most $(v book.inflight_max) in flight when runs ended); $(v book.rows_pgb) pgbench rows vs $(v book.pgb_tx) transactions;"
    echo "  $(v book.rows_explain) rows left by the rolled-back EXPLAIN."
  fi
  if [ "$any" = 0 ]; then
    echo "Every target was met."
  fi
  if num_le "${R[pgb64.rps]:-}" "$PY_SAT_RPS"; then
    echo
    echo "Note on the Python reference: its ~$(fmt_int "$PY_SAT_RPS") bookings/s at 64 connections is more than"
    echo "PostgreSQL alone did here with this booking statement (pgbench, 64 clients: $(fmt_int "${R[pgb64.rps]:-}") tps), so it"
    echo "cannot have run the same transaction (rules, 3 exclusion constraints, audit and outbox rows,"
    echo "durable commit) on this machine; compare the ratio to pgbench rather than the absolute figure."
  fi
  local noisy="" c
  for c in users sat64 pgb64 read64; do
    if [ "${R[$c.others]:-0}" -gt 10 ]; then noisy+="${noisy:+, }\`$c\` (${R[$c.others]} %)"; fi
  done
  if [ -n "$noisy" ]; then
    echo
    echo "Other work used more than 10 % of the CPUs during: $noisy — re-run on a quiet machine."
  fi
}

# pgu_verdict: whether PostgreSQL alone met the users model's targets.
pgu_verdict() {
  if num_le "${R[$1.p95_ms]:-}" "$T_USERS_P95" && num_le "${R[$1.p99_ms]:-}" "$T_USERS_P99"; then
    echo " — within the targets, so the HTTP path's extra CPU is what pushes the tail out"
  else
    echo " — already outside the targets without any HTTP"
  fi
}

alt_row() {
  local u="$1" sat="$2" rd="$3" what="$4"
  printf '| %s | %s | %s / %s / %s | %s; %s | %s (P99 %s ms) | %s (P99 %s ms) |\n' "$what" "$(v "$u.rps")" \
    "$(v "$u.p50_ms")" "$(v "$u.p95_ms")" "$(v "$u.p99_ms")" "$(errs_txt "$u")" "$(v "$u.ckpt")" \
    "$(fmt_int "${R[$sat.rps]:-}")" "$(v "$sat.p99_ms")" "$(fmt_int "${R[$rd.rps]:-}")" "$(v "$rd.p99_ms")"
}

alt_section() {
  [ -n "${R[alt_users.requests]:-}" ] || return 0
  local conns=$(( VETRED_API_PROCS * ALT_THREADS )) more_fewer="fewer"
  [ "$ALT_THREADS" -lt "$DEFAULT_THREADS" ] || more_fewer="more"
  cat <<EOF

### With ${more_fewer} API threads: 2 × ${ALT_THREADS} instead of 2 × ${DEFAULT_THREADS}

Each API thread holds one PostgreSQL connection. The same runs, shorter
(users model ${ALT_SECS} s, saturation and reads $(( (ALT_SECS + 1) / 2 )) s), after \`ci/stack.sh start\` with
\`VETRED_API_THREADS=${ALT_THREADS}\`: ${conns} PostgreSQL connections instead of $(( VETRED_API_PROCS * DEFAULT_THREADS )).

| API threads | users model bookings/s | users P50 / P95 / P99 ms | users non-201 / socket errors; checkpoints | saturation bookings/s | reads req/s |
| --- | ---: | ---: | ---: | ---: | ---: |
$(alt_row users sat64 read64 "2 × ${DEFAULT_THREADS} (default; runs above)")
$(alt_row alt_users alt_sat64 alt_read64 "2 × ${ALT_THREADS}")

Users model with 2 × ${ALT_THREADS}: P95 $(verdict num_le "${R[alt_users.p95_ms]:-}" "$T_USERS_P95"), P99 $(verdict num_le "${R[alt_users.p99_ms]:-}" "$T_USERS_P99");
saturation at $(awk -v a="${R[alt_sat64.rps]:-0}" -v b="${R[pgb64.rps]:-0}" 'BEGIN { if (b > 0) printf "%.0f", 100 * a / b; else printf "n/a" }') % of pgbench's 64 clients; reads $(verdict num_ge "${R[alt_read64.rps]:-}" "$T_READ_RPS") (≥ $(fmt_int "$T_READ_RPS") req/s).
Rows booked: $(v alt.rows), 201s answered by the API: $(v alt.api201); RSS per API process: $(v alt.rss).

PostgreSQL alone on ${conns} connections (pgbench, no HTTP): $(fmt_int "${R[pgb_alt.rps]:-}") bookings/s at saturation
(64 clients: $(fmt_int "${R[pgb64.rps]:-}")); at the users model's rate ($(v pgu_alt.rps)/s) P50 $(v pgu_alt.p50_ms) ms,
P95 $(v pgu_alt.p95_ms) ms, P99 $(v pgu_alt.p99_ms) ms$(pgu_verdict pgu_alt) (on $(v pgu.clients)
connections: P95 $(v pgu.p95_ms) ms, P99 $(v pgu.p99_ms) ms).
EOF
}

booking_section() {
cat <<EOF
## Booking

The question (from the issue): can one 2-core machine take the clinics'
bookings — a **users model** of 1,000 open connections each booking about once
a second (P95 ≤ ${T_USERS_P95} ms, P99 ≤ ${T_USERS_P99} ms, zero errors), **saturation** close to what
PostgreSQL does alone with the same statement (≥ ${T_SAT_RATIO} % of pgbench at 64
connections), and **reads** of an appointment at ≥ $(fmt_int "$T_READ_RPS") req/s with P99 ≤ ${T_READ_P99} ms?
Python reference from the issue: FastAPI + asyncpg + uvicorn, 2 workers, on
the same kind of 2-core machine.

$(booking_table)

### Verdict

$(misses_text)

### Runs

Every booking is a distinct valid slot: slot k is vet k mod ${NVETS}, start = the
next local midnight + (k div ${NVETS}) × 15 min, 10 minutes long, patient k mod
$(fmt_int "$NPAC"), on a bench site (\`BEN-01\`, America/Lima) created by SQL after the
stack starts: ${NVETS} vets working there 24/7 from today and $(fmt_int "$NPAC") patients with one
owner each. Each wrk thread and each pgbench client books its own
interleaved slots, and every run takes a fresh range. wrk's latency starts
when a request is sent (the think time is not in it). CPU columns: share of
all CPUs used by nginx / the API processes / PostgreSQL / the client (wrk or
pgbench) during the run.

| run | req/s | P50 ms | P90 ms | P95 ms | P99 ms | max ms | not 201 (200 for reads) | socket errors c/r/w/timeout | CPU % all / others | CPU % nginx / API / PG / client |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
$(run_row users "users model, 1,000 connections, think 0.5–1.5 s")
$(run_row sat64 "saturation, 64 connections")
$(pgb_row pgb64 "pgbench, 64 clients, \`reservar_cita\` alone")
$(run_row read64 "reads, 64 connections")
$(run_row nginx64 "nginx alone \`/_nginx\`, 64 connections")

RSS per API process after the booking runs: $(v book.rss) (the FastCGI
matrix below restarts them). The audit sealer (\`vetred-admin sellar 2\`:
one process sealing every 2 s, as in \`make run\`) up to the end of the reads: $(v book.sealer). Checkpoints started during the users model /
saturation / pgbench / reads: $(v users.ckpt) / $(v sat64.ckpt) / $(v pgb64.ckpt) / $(v read64.ckpt).
$(alt_section)

### Where the time goes

CPU time per request of each part, in µs (ticks of /proc/PID/stat during
the run ÷ requests; "client" is wrk or pgbench, "others" anything else on
the machine):

| run | req/s | nginx | API | PostgreSQL | RabbitMQ | client | others | total |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
$(cpu_row users "users model (1,000 conn.)")
$(cpu_row sat64 "saturation, HTTP (64 conn.)")
$(cpu_row pgb64 "saturation, pgbench (64 clients)")
$(cpu_row read64 "reads, HTTP (64 conn.)")
$(cpu_row pgr64 "reads, pgbench, the GET statement (64 clients)")

Latency by stage at 64 connections (${PROFILE_SECS} s each, with a temporary nginx
access log of its own timings; ms, mean / P50 / P99 — nginx logs whole
milliseconds): $(v prof_book.rps) bookings/s and $(fmt_int "${R[prof_read.rps]:-}") reads/s in these runs.

| stage | booking | read |
| --- | ---: | ---: |
$(stage_row "wrk: request sent → response read" "$(v prof_book.mean_ms) $(v prof_book.p50_ms) $(v prof_book.p99_ms)" "$(v prof_read.mean_ms) $(v prof_read.p50_ms) $(v prof_read.p99_ms)")
$(stage_row "nginx \`\$request_time\`" "${R[prof_book.t3]:-}" "${R[prof_read.t3]:-}")
$(stage_row "nginx \`\$upstream_response_time\` (connect to the API → its last byte)" "${R[prof_book.t4]:-}" "${R[prof_read.t4]:-}")
$(stage_row "nginx \`\$upstream_connect_time\`" "${R[prof_book.t5]:-}" "${R[prof_read.t5]:-}")
$(stage_row "nginx \`\$upstream_header_time\`" "${R[prof_book.t6]:-}" "${R[prof_read.t6]:-}")
$(stage_row "API handler, its own /metrics (mean only)" "$(v prof_book.api_book_ms)" "$(v prof_read.api_read_ms)")
$(stage_row "PostgreSQL alone, 1 client, nothing else running (pgbench mean)" "$(v pgb1.mean_ms)" "$(v pgr1.mean_ms)")
$(stage_row "PostgreSQL alone at the users model's rate ($(v pgu.rps)/s) on $(v pgu.clients) connections (pgbench -R; P50 / P95 / P99)" "$(v pgu.p50_ms) $(v pgu.p95_ms) $(v pgu.p99_ms)" "")

The API handler's mean during the long runs: users model $(v users.api_book_ms) ms,
saturation $(v sat64.api_book_ms) ms, reads $(v read64.api_read_ms) ms.

PostgreSQL:

- alone, 64 clients (pgbench): $(fmt_int "${R[pgb64.rps]:-}") bookings/s, $(fmt_int "${R[pgr64.rps]:-}") reads/s (the GET statement);
  one client: $(fmt_int "${R[pgb1.rps]:-}") bookings/s ($(v pgb1.mean_ms) ms each), $(fmt_int "${R[pgr1.rps]:-}") reads/s ($(v pgr1.mean_ms) ms each);
- WAL per booking — users model / saturation / pgbench: $(v users.wal_bytes) / $(v sat64.wal_bytes) / $(v pgb64.wal_bytes) bytes,
  of which full-page images $(v users.wal_fpi) / $(v sat64.wal_fpi) / $(v pgb64.wal_fpi) per booking; WAL flushes per booking
  $(v users.wal_syncs) / $(v sat64.wal_syncs) / $(v pgb64.wal_syncs) (below 1: commits sharing a flush), mean flush time
  $(v users.wal_sync_ms) / $(v sat64.wal_sync_ms) / $(v pgb64.wal_sync_ms) ms (\`pg_stat_wal\`, approximate: backends report every second or so);
- what the active backends were doing (\`pg_stat_activity\` sampled every 100 ms; "CPU" = no wait
  event): users model: $(v users.waits); saturation: $(v sat64.waits); pgbench: $(v pgb64.waits);
  reads: $(v read64.waits).
- one booking, \`EXPLAIN (ANALYZE, BUFFERS)\` in a rolled-back transaction after 5 warm-up
  calls, $(v exbook.how): $(v exbook.ms) ms (timing every node adds overhead); the statements it ran:

\`\`\`text
${R[exbook.nested]:-(not available)}
\`\`\`

  one read (the GET statement) the same way: $(v exread.ms) ms:

\`\`\`text
${R[exread.nested]:-(not available)}
\`\`\`

Full outputs: \`var/bench/results/explain-*.txt\`, \`*.waits.txt\`, \`timing.log\`.

### Commands

\`\`\`sh
EOF
local c
for c in bwarm users sat64 pgb64 read64 prof_book prof_read pgb1 pgr64 pgr1 pgu \
    alt_warm alt_users alt_sat64 alt_read64 pgb_alt pgu_alt; do
  printf '%-9s %s\n' "$c:" "${CMD[$c]:-not run}"
done
cat <<EOF
\`\`\`

\`book_users.lua\` arguments: site, first vet id, vets, first patient id, patients,
first slot's epoch, first k, wrk threads, think time min and max (ms).
\`bwarm\` warms the API's connections up (not reported; its bookings count in
the rows); \`prof_*\`, \`pgb1\`, \`pgr*\`, \`pgu\` are the profile runs (\`pgu*\`: their first
2 s left out, while their new connections plan their statements); \`alt_*\` run
after \`ci/stack.sh start\` with \`VETRED_API_THREADS=${ALT_THREADS}\`. After the warm-up
\`ANALYZE citas, auditoria, outbox\`, before the reads \`VACUUM (ANALYZE)\` of them;
\`track_wal_io_timing\` on (\`ALTER SYSTEM\` in this private cluster) when its superuser is at hand.
EOF
}

tmp="$README.tmp"
{
cat <<EOF
# VetRed load benchmark

Generated by \`bench/run.sh\` (\`make bench\`) on **$START_DATE** (finished $END_DATE).
Every figure below is rewritten on each run; do not edit this file by hand.

Two questions: the FastCGI choices (just below) and the booking targets
(section [Booking](#booking)).

The question (from the issue): libfcgi serves one connection per thread, so
nginx's \`fastcgi_keep_conn\` pins an idle connection to a thread and can stall
the rest. Measure the choices — unix socket vs TCP, keep-conn on/off, threads
per process — and keep the one with **zero 502/504 at 1,000 client connections**.

## Conclusion

$(conclusion)

The choices, side by side at 1,000 connections:

$(choices_text)

Client floor (per site): P95 ≤ 600 ms and ≥ 1,000 req/s. The default at
1,000 connections on one site: $(v "$RUN_DEF.rps") req/s, P95 $(v "$RUN_DEF.p95_ms") ms —
P95 within the floor, with no error or stall: **$(yes_no floor_ok "$RUN_DEF")**; one site at ≥ 1,000 req/s:
**$(yes_no awk -v r="${R[$RUN_DEF.rps]:-0}" 'BEGIN{exit !(r >= 1000)}')**; all three demo sites at
≥ 1,000 req/s each at once (≥ 3,000 req/s in total): **$(yes_no awk -v r="${R[$RUN_DEF.rps]:-0}" 'BEGIN{exit !(r >= 3000)}')**.

$(booking_section)

## The machine

| | |
| --- | --- |
| date | $START_DATE – $END_DATE |
| CPUs (\`nproc\`) | $M_NPROC |
| CPU model | $M_CPU |
| memory | $M_MEM |
| OS, kernel | $M_OS, $M_KERNEL |
| nginx | $M_NGINX ($M_NGX_WORKERS worker processes, \`worker_processes auto\`) |
| PostgreSQL | $M_PG |
| wrk | $M_WRK |
| open files (\`ulimit -n\`) | $NOFILE |
| \`net.core.somaxconn\` | $M_SOMAXCONN (caps the API's listen backlog of 4096) |
| load average at start / end | $M_LOAD0 / $M_LOAD1 |
| CPU busy before the stack started (3 s sample, all CPUs) | ${M_BUSY0} % |

wrk, nginx, the API processes and PostgreSQL all share these CPUs; wrk's Lua
\`response()\` callback (needed to count the statuses) costs client CPU too.
Each run below reports "CPU % all / others": how busy all CPUs were during
the run, and the part used by processes outside this benchmark (anything but
wrk, this stack's nginx, API processes, PostgreSQL and RabbitMQ). When
"others" is more than a few per cent, the figures are low and noisy:
re-run \`make bench\` on a quiet machine.

## What runs

\`make bench\` = \`ci/deps.sh\`, \`make MODE=release all\`, \`bench/run.sh\`, which:

1. starts a private stack with \`ci/stack.sh start\`:
   \`VETRED_STACK_DIR=var/bench VETRED_PG_PORT=16432 VETRED_AMQP_PORT=16672
   VETRED_AMQP_DIST_PORT=16673 VETRED_EPMD_PORT=16369 VETRED_HTTP_PORT=16080
   VETRED_BIN=build/release VETRED_SEED=1 VETRED_API_PROCS=2
   VETRED_SEAL_INTERVAL_S=2\` (demo data: sites 1..3; the audit sealer
   chaining new audit rows every 2 s, as in \`make run\`), nginx from \`deploy/nginx.conf.in\`; a fresh database each
   run, migrated from a copy of \`db/migrations\` taken at the start;
2. warms up for 3 s (not reported), then runs wrk (2 threads, fixed duration,
   127.0.0.1 only) with \`bench/status.lua\`, which counts responses by status
   (502, 503, 504 one by one) and prints P50/P90/P95/P99;
3. between the 64-connection runs and the 1,000-connection ones, runs the
   booking benchmarks of section [Booking](#booking) (fixtures by SQL, wrk
   with \`bench/book_users.lua\` and \`bench/read_cita.lua\`, pgbench with
   \`bench/booking.pgbench\` and \`bench/read_cita.pgbench\`; the exact commands
   are listed there);
4. changes one setting at a time for the 1,000-connection runs (thread count
   through \`VETRED_API_THREADS\` and \`ci/stack.sh start\`; TCP and keep-conn
   by editing the generated \`var/bench/nginx/nginx.conf\` and
   \`nginx -s reload\`; for TCP, two more API processes with
   \`VETRED_API_SOCKET=127.0.0.1:16081\` and \`:16082\`), restores the default, and stops the stack. The
   keep-conn configuration is also run for ${KEEP_LONG_SECS} s from fresh nginx
   workers: its stalls only turn into errors after \`fastcgi_read_timeout\`
   (60 s).

Raw wrk outputs and the nginx error-log lines of each run:
\`var/bench/results/\`. The exact commands:

\`\`\`sh
EOF
for c in nginx64 health64 sede64 "${MATRIX[@]}"; do
  printf '%-9s %s\n' "$c:" "${CMD[$c]:-not run}"
done
printf '%-9s %s\n' "probe:" "${CMD[$RUN_DEF-probe]:-not run}"
cat <<EOF
\`\`\`

## 64 connections

| scenario | req/s | P50 ms | P90 ms | P99 ms | non-2xx | socket errors c/r/w/timeout | CPU % all / others | compared to |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |
EOF
short_row nginx64 "nginx alone, \`GET /_nginx\`" "docs/ARCHITECTURE.md: nginx alone ≈ 41–90k/s on one 2-core machine"
short_row health64 "FastCGI, no DB, \`GET /health\`" "nginx alone: $(ratio health64 nginx64); docs/ARCHITECTURE.md: trivial FastCGI on a unix socket 27–30k/s"
short_row sede64 "FastCGI + 1 PK read, \`GET /api/v1/sedes/1\`" "\`/health\`: $(ratio sede64 health64); PostgreSQL PK reads alone ≈ 53k/s; floor ≥ 1,000 req/s per site"
cat <<EOF

## 1,000 connections, \`GET /api/v1/sedes/1\`, ${MATRIX_SECS} s each (the last row ${KEEP_LONG_SECS} s)

"502 / 503 gw / 504": responses made by nginx itself — a 502 is turned into
a 503 with \`Retry-After\` by \`error_page 502 503 =503 /_problem/503\`, so
"503 gw" counts nginx's 502s and 503s. "other non-2xx": any other non-2xx
(e.g. a 503 from the API when PostgreSQL does not answer). Socket errors are
wrk's connect/read/write/timeout counts; wrk's "timeout" counts responses
that arrived later than ${WRK_TIMEOUT} — a request still waiting when the run
ends is not counted anywhere by wrk. "stalled %" catches those: the share of
connection-time not covered by completed responses, 1 − req/s × mean
latency / connections (Little's law); about 0 when every connection keeps
being served, high when connections sit behind pinned threads. The latency
percentiles only cover completed responses. "floor met": P95 ≤ 600 ms with
no error, no timeout and no stall.

| configuration | req/s | P50 ms | P95 ms | P99 ms | max ms | stalled % | 502 | 503 gw | 504 | other non-2xx | socket errors c/r/w/timeout | floor met |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |
EOF
for c in "${MATRIX[@]}"; do matrix_row "$c"; done
cat <<EOF

Right after each run: "probe" = \`wrk -t2 -c64 -d3s --timeout 1s\` on the same
URL (a light load: an idle stack must answer it promptly); "API connections
held while idle" = established connections to the API sockets one second
later (each one holds a libfcgi thread); "nginx log" = [error]/[crit]/[alert]
lines during the run (upstream timed out / no live upstreams / connect()
failed / upstream closed or reset); RSS = VmRSS of each API process after
the run.

| configuration | probe after the run | API connections held while idle | nginx log lines | RSS per API process | CPU % all / others during the run |
| --- | --- | ---: | --- | --- | ---: |
EOF
for c in "${MATRIX[@]}"; do after_row "$c"; done
cat <<EOF
| default, after all runs | | | | $RSS_FINAL | |

Clean configurations (no 502/503/504 from nginx, no socket error or
timeout, stalled ≤ ${STALL_MAX} %, and a clean probe: no error, stalled ≤ ${STALL_MAX} %,
P99 ≤ 600 ms): $CLEAN_TXT.

### What \`fastcgi_keep_conn on\` does (measured above)

$(keep_text)

## Notes on the configuration

- \`keepalive 32\` is per nginx worker: with $M_NGX_WORKERS workers up to
  $((M_NGX_WORKERS * 32)) idle connections may be cached, $(keepalive_vs_threads)
- \`max_fails=3 fail_timeout=2s\` with \`fastcgi_next_upstream error invalid_header\`:
  three failed connects (e.g. a full backlog: EAGAIN on a unix socket, a
  dropped SYN on TCP) take that process out for 2 s; when both are out,
  nginx answers "no live upstreams" (502, shown as 503) for every request.
  Timeouts are not retried elsewhere (a timed-out request may have run).
- The API's listen backlog (4096) is capped by \`net.core.somaxconn\`
  ($M_SOMAXCONN here); on a machine with a smaller value, 1,000 connections
  can overflow it.
EOF
} >"$tmp"
# Paths relative to the repository: the report is committed.
sed -i "s|$REPO/||g" "$tmp"
mv -f "$tmp" "$README"
# shellcheck disable=SC2090  # a dump of the figures, for a look after the run
declare -p R CMD >"$RES/figures.txt"
log "report written to $README"
log "done: $START_DATE – $END_DATE"
