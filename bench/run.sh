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
#
# Every request loop is wrk with a fixed duration against 127.0.0.1; raw
# wrk outputs and logs stay in var/bench/results and var/bench/log.
set -euo pipefail
umask 022

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$REPO"

# ---------------------------------------------------------------- settings

export VETRED_STACK_DIR=var/bench VETRED_PG_PORT=16432 VETRED_AMQP_PORT=16672 \
  VETRED_AMQP_DIST_PORT=16673 VETRED_EPMD_PORT=16369 VETRED_HTTP_PORT=16080 \
  VETRED_BIN=build/release VETRED_SEED=1 VETRED_API_PROCS=2
# A sourced env file of another stack must not point us at its servers.
unset VETRED_DATABASE_URL VETRED_AMQP_URL VETRED_API_THREADS VETRED_API_SOCKET VETRED_MIGRATIONS_DIR

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
README="${BENCH_README:-bench/README.md}"
DEFAULT_THREADS=16

log() { printf 'bench: %s\n' "$*" >&2; }
die() { printf 'bench: error: %s\n' "$*" >&2; exit 1; }

for c in wrk curl nginx ss; do
  command -v "$c" >/dev/null || die "$c not found (run ci/deps.sh)"
done
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

# unix_api_pids: the API processes ci/stack.sh started.
unix_api_pids() {
  local f pid
  for f in "$RUNDIR"/api-*.pid; do
    [ -e "$f" ] || continue
    pid="$(head -n1 "$f" 2>/dev/null | tr -dc '0-9' || true)"
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && echo "$pid"
  done
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
stack_pids() {
  local root p
  for root in "$(ngx_master)" "$(head -n1 "$STACK/pg/postmaster.pid" 2>/dev/null)" \
      "$(head -n1 "$STACK/rabbitmq/rabbitmq.pid" 2>/dev/null)"; do
    root="$(tr -dc '0-9' <<<"$root")"
    [ -n "$root" ] || continue
    echo "$root"
    pgrep -P "$root" || true
  done
  unix_api_pids
  for p in "${TCP_PIDS[@]}"; do echo "$p"; done
}
cpu_snapshot() {
  local busy ours
  busy="$(awk '/^cpu /{print $2 + $3 + $4 + $7 + $8 + $9; exit}' /proc/stat)"
  ours="$( { stack_pids | sed 's|.*|/proc/&/stat|'; echo "/proc/$$/stat"; } |
    xargs cat 2>/dev/null | awk '{ sub(/^.*\) /, ""); t += $12 + $13 + $14 + $15 } END { print t + 0 }')"
  echo "$busy $ours"
}
# cpu_share SNAP0 SNAP1 SECS: "total% others%" of all CPUs during the interval.
cpu_share() {
  awk -v a="$1" -v b="$2" -v secs="$3" -v n="$M_NPROC" -v hz="$HZ" 'BEGIN {
    split(a, x, " "); split(b, y, " "); cap = secs * n * hz
    busy = y[1] - x[1]; ours = y[2] - x[2]; oth = busy - ours; if (oth < 0) oth = 0
    printf "%.0f %.0f", 100 * busy / cap, 100 * oth / cap }'
}

errlog_lines() { if [ -f "$NGX/error.log" ]; then wc -l <"$NGX/error.log"; else echo 0; fi; }

# run_wrk NAME PATH CONNS SECS
run_wrk() {
  local name="$1" path="$2" conns="$3" secs="$4" out="$RES/$1.txt" mark line kv new
  local cmd=(wrk -t2 "-c$conns" "-d${secs}s" --latency --timeout "$WRK_TIMEOUT" -s "$LUA" "$BASE$path")
  CMD[$name]="${cmd[*]}"
  mark="$(errlog_lines)"
  log "$name: ${cmd[*]}"
  local snap0 snap1 t0 t1 share
  snap0="$(cpu_snapshot)"; t0="$(date +%s.%N)"
  "${cmd[@]}" >"$out" 2>&1 || log "$name: wrk exited with an error (see $out)"
  t1="$(date +%s.%N)"; snap1="$(cpu_snapshot)"
  share="$(cpu_share "$snap0" "$snap1" "$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b - a}')")"
  R[$name.cpu]="${share% *}" R[$name.others]="${share#* }"
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
rm -rf "$STACK/pg" "$STACK/seed.applied" "$STACK/migrations"
cp -R db/migrations "$STACK/migrations"
export VETRED_MIGRATIONS_DIR="$STACK/migrations"
stack_start "$DEFAULT_THREADS"
for p in /_nginx /health /api/v1/sedes/1; do
  code="$(curl -s -o /dev/null -m 5 -w '%{http_code}' "$BASE$p" || true)"
  [ "$code" = 200 ] || die "GET $p answered $code, not 200"
done
M_NGX_WORKERS="$(pgrep -c -P "$(ngx_master)" || true)"

# Warm-up (not reported): PostgreSQL cache, plans, nginx workers.
wrk -t2 -c64 -d3s "$BASE/api/v1/sedes/1" >"$RES/warmup.txt" 2>&1 || true

# a-c: 64 connections.
run_wrk nginx64 /_nginx 64 "$SHORT_SECS"
run_wrk health64 /health 64 "$SHORT_SECS"
run_wrk sede64 /api/v1/sedes/1 64 "$SHORT_SECS"

# d: 1,000 connections on GET /api/v1/sedes/1.
MATRIX=(unix8 unix16 unix32 tcp16 keep16 keep16long)
declare -A DESC=(
  [unix8]="unix socket, keep-conn off, 2 × 8 threads"
  [unix16]="unix socket, keep-conn off, 2 × 16 threads (current default)"
  [unix32]="unix socket, keep-conn off, 2 × 32 threads"
  [tcp16]="TCP 127.0.0.1, keep-conn off, 2 × 16 threads"
  [keep16]="unix socket, fastcgi_keep_conn on + keepalive 32, 2 × 16 threads"
  [keep16long]="the same keep-conn configuration over ${KEEP_LONG_SECS} s (longer than fastcgi_read_timeout 60 s)"
)

for t in 8 32 16; do
  stack_start "$t"
  run_wrk "unix$t" /api/v1/sedes/1 1000 "$MATRIX_SECS"
  probe "unix$t"
  mapfile -t pids < <(unix_api_pids)
  R[unix$t.rss]="$(rss_of "${pids[@]}")"
done

# The known trap: keep-conn on with an upstream keepalive cache.
log "keep16: fastcgi_keep_conn on; keepalive 32; (edited $NGX/nginx.conf)"
sed -i -e 's/fastcgi_keep_conn off;/fastcgi_keep_conn on;/' \
  -e 's/^\([[:space:]]*upstream vetred_api {\)$/\1\n        keepalive 32;/' "$NGX/nginx.conf"
if ! grep -q 'fastcgi_keep_conn on;' "$NGX/nginx.conf" || ! grep -q 'keepalive 32;' "$NGX/nginx.conf"; then
  die "could not edit $NGX/nginx.conf for keep-conn"
fi
ngx_reload
run_wrk keep16 /api/v1/sedes/1 1000 "$MATRIX_SECS"
probe keep16
mapfile -t pids < <(unix_api_pids)
R[keep16.rss]="$(rss_of "${pids[@]}")"
# Again from fresh nginx workers (nothing pinned), for longer than nginx's
# fastcgi_read_timeout: what the stalls turn into.
ngx_reload
run_wrk keep16long /api/v1/sedes/1 1000 "$KEEP_LONG_SECS"
probe keep16long
mapfile -t pids < <(unix_api_pids)
R[keep16long.rss]="$(rss_of "${pids[@]}")"
stack_start "$DEFAULT_THREADS"   # regenerates nginx.conf from the template

# TCP: our own API processes on 127.0.0.1:PORT, nginx pointed at them.
# shellcheck disable=SC1091
. "$STACK/env"
i=0
for port in "${TCP_PORTS[@]}"; do
  i=$((i + 1))
  [ -z "$(ss -Htln "sport = :$port")" ] || die "port $port is in use; cannot start a TCP API process"
  VETRED_API_THREADS="$DEFAULT_THREADS" VETRED_API_SOCKET="127.0.0.1:$port" \
    VETRED_API_INSTANCE="api-tcp-$i" build/release/vetred-api </dev/null >>"$LOGDIR/api-tcp-$i.log" 2>&1 &
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
log "tcp16: nginx upstream -> ${TCP_PORTS[*]/#/127.0.0.1:}"
ngx_reload
inst="$(health_instances 8)"
case "$inst" in *api-tcp-*) ;; *) die "after the reload /health answers from '$inst', not the TCP processes" ;; esac
case "$inst" in *api-[0-9]*) die "after the reload /health still answers from the unix processes ($inst)" ;; esac
run_wrk tcp16 /api/v1/sedes/1 1000 "$MATRIX_SECS"
probe tcp16
R[tcp16.rss]="$(rss_of "${TCP_PIDS[@]}")"
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
  [unix8]="make 8 the default of VETRED_API_THREADS (lib/config.c, ci/stack.sh, the README table)"
  [unix16]="nothing"
  [unix32]="make 32 the default of VETRED_API_THREADS (lib/config.c, ci/stack.sh, the README table); PostgreSQL then needs 2 × 32 connections per host"
  [tcp16]="listen on TCP (VETRED_API_SOCKET=127.0.0.1:PORT) and write 'server 127.0.0.1:PORT ...' upstream lines in ci/stack.sh"
  [keep16]="turn fastcgi_keep_conn on with an upstream keepalive cache (not advised: see the probe)"
)

keep_text() {
  echo "With keep-conn on and \`keepalive 32\`, nginx served $(v keep16.rps) req/s against"
  echo "$(v unix16.rps) req/s for the default ($(ratio keep16 unix16)): reused connections skip the"
  echo "connect/accept per request. But after the run $(v keep16.pinned) API connections stayed open"
  echo "while idle (the default: $(v unix16.pinned)) for 2 × 16 = 32 threads: each pins its thread in"
  echo "libfcgi, blocked reading the next request that may never come. A request that needs a"
  echo "new connection then waits in the listen backlog until nginx closes an idle one"
  echo "(upstream keepalive timeout 60 s) or until \`fastcgi_read_timeout\` (60 s) ends it (the"
  echo "longer run below). Measured: $(v keep16.stalled) % of the connection-time stalled (default:"
  echo "$(v unix16.stalled) %), $(v keep16.timeout) wrk timeouts and a slowest completed response of"
  echo "$(v keep16.max_ms) ms (default: $(v unix16.timeout), $(v unix16.max_ms) ms); the probe after it:"
  echo "$(v keep16.probe) (default: $(v unix16.probe))."
  echo "The fast median of the responses that did arrive hides the connections that got none."
  echo
  echo "Over ${KEEP_LONG_SECS} s, longer than \`fastcgi_read_timeout\` (60 s): $(v keep16long.s503gw) of"
  echo "$(v keep16long.requests) responses were nginx's own 503 (a 502 rewritten by \`error_page\`),"
  echo "$(v keep16long.s502) were 502 and $(v keep16long.s504) were 504; wrk counted $(v keep16long.timeout) timeouts; nginx logged"
  echo "$(v keep16long.ngx_timedout) \"upstream timed out\" and $(v keep16long.ngx_nolive) \"no live upstreams\"."
  if [ "${R[keep16long.ngx_nolive]:-0}" -gt 0 ]; then
    echo "Each read timeout counts as a failure for \`max_fails=1 fail_timeout=2s\` (because"
    echo "\`fastcgi_next_upstream\` lists \`timeout\`), so a few stalled requests take both API"
    echo "processes out of the upstream for 2 s at a time, and every request in those windows is"
    echo "answered 503 at once (the req/s of that row counts those errors)."
  fi
  if [ "${R[keep16long.s504]:-0}" = 0 ] && [ "${R[keep16long.s503gw]:-0}" -gt 0 ]; then
    echo "No 504 reached the clients: a timed-out request is retried on the other process"
    echo "(\`fastcgi_next_upstream timeout\`), and when none is live nginx answers 502, which"
    echo "\`error_page 502 503 =503\` turns into 503."
  fi
}

choices_text() {
  local c
  echo "- **keep-conn**: off (the default) clean: $(yes_no is_clean unix16); on: clean $(yes_no is_clean keep16), stalled"
  echo "  $(v keep16.stalled) % of the connection-time in ${MATRIX_SECS} s and, over ${KEEP_LONG_SECS} s, answered"
  echo "  $(v keep16long.s503gw) requests with nginx's own 503 — see below."
  echo "- **unix socket vs TCP** (2 × 16 threads, keep-conn off): $(v unix16.rps) vs $(v tcp16.rps) req/s"
  echo "  (TCP at $(ratio tcp16 unix16)), P99 $(v unix16.p99_ms) vs $(v tcp16.p99_ms) ms;"
  echo "  clean: unix $(yes_no is_clean unix16), TCP $(yes_no is_clean tcp16). TCP costs a loopback"
  echo "  handshake and teardown per request; it is only needed when nginx and the API"
  echo "  run on different hosts."
  echo "- **threads per process** (unix, keep-conn off): 8 / 16 / 32 threads gave"
  echo "  $(v unix8.rps) / $(v unix16.rps) / $(v unix32.rps) req/s, P99 $(v unix8.p99_ms) / $(v unix16.p99_ms) / $(v unix32.p99_ms) ms;"
  echo "  clean: $(yes_no is_clean unix8) / $(yes_no is_clean unix16) / $(yes_no is_clean unix32); CPU during the runs"
  echo "  $(v unix8.cpu) / $(v unix16.cpu) / $(v unix32.cpu) %: on 2 cores the CPUs, not the threads, are the limit."
  echo "  Each thread also holds a PostgreSQL connection; RSS per process: $(v unix8.rss) at 8,"
  echo "  $(v unix32.rss) at 32."
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
  if is_clean unix16; then
    echo "**Kept: the current default — unix sockets, \`fastcgi_keep_conn off\`, 2 processes × 16 threads.**"
    echo "At 1,000 client connections it answered every request with 200:"
    echo "no 502/503/504 from nginx, no socket error or wrk timeout, and the light-load probe right after it was clean"
    echo "($(v unix16.rps) req/s, P95 $(v unix16.p95_ms) ms, P99 $(v unix16.p99_ms) ms)."
    echo "Nothing to change."
    if [ -n "$BEST" ] && [ "$BEST" != unix16 ] &&
        awk -v a="${R[$BEST.rps]}" -v b="${R[unix16.rps]}" 'BEGIN{exit !(a > 1.2 * b)}'; then
      echo
      echo "\`$BEST\` (${DESC[$BEST]}) was also clean, at $(ratio "$BEST" unix16) of the default's"
      echo "throughput. Differences of this size are within the noise of a shared 2-core machine:"
      echo "re-run \`make bench\` on a quiet machine before switching. To switch: ${CHANGE[$BEST]}."
    fi
  elif [ -n "$BEST" ]; then
    echo "**The current default (unix, keep-conn off, 2 × 16 threads) is NOT clean at 1,000 connections:**"
    echo "$(gw5xx unix16) gateway errors (502/503/504 from nginx), $(sockerr unix16) socket errors/timeouts, $(v unix16.non2xx) non-2xx,"
    echo "post-load probe $(v unix16.probe)."
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

tmp="$README.tmp"
{
cat <<EOF
# VetRed load benchmark

Generated by \`bench/run.sh\` (\`make bench\`) on **$START_DATE** (finished $END_DATE).
Every figure below is rewritten on each run; do not edit this file by hand.

The question (from the issue): libfcgi serves one connection per thread, so
nginx's \`fastcgi_keep_conn\` pins an idle connection to a thread and can stall
the rest. Measure the choices — unix socket vs TCP, keep-conn on/off, threads
per process — and keep the one with **zero 502/504 at 1,000 client connections**.

## Conclusion

$(conclusion)

The choices, side by side at 1,000 connections:

$(choices_text)

Client floor (per site): P95 ≤ 600 ms and ≥ 1,000 req/s. The default at
1,000 connections on one site: $(v unix16.rps) req/s, P95 $(v unix16.p95_ms) ms —
P95 within the floor, with no error or stall: **$(yes_no floor_ok unix16)**; one site at ≥ 1,000 req/s:
**$(yes_no awk -v r="${R[unix16.rps]:-0}" 'BEGIN{exit !(r >= 1000)}')**; all three demo sites at
≥ 1,000 req/s each at once (≥ 3,000 req/s in total): **$(yes_no awk -v r="${R[unix16.rps]:-0}" 'BEGIN{exit !(r >= 3000)}')**.

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
   VETRED_BIN=build/release VETRED_SEED=1 VETRED_API_PROCS=2\` (demo data:
   sites 1..3), nginx from \`deploy/nginx.conf.in\`; a fresh database each
   run, migrated from a copy of \`db/migrations\` taken at the start;
2. warms up for 3 s (not reported), then runs wrk (2 threads, fixed duration,
   127.0.0.1 only) with \`bench/status.lua\`, which counts responses by status
   (502, 503, 504 one by one) and prints P50/P90/P95/P99;
3. changes one setting at a time for the 1,000-connection runs (thread count
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
printf '%-9s %s\n' "probe:" "${CMD[unix16-probe]:-not run}"
cat <<EOF
\`\`\`

## 64 connections

| scenario | req/s | P50 ms | P90 ms | P99 ms | non-2xx | socket errors c/r/w/timeout | CPU % all / others | compared to |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |
EOF
short_row nginx64 "nginx alone, \`GET /_nginx\`" "ARCHITECTURE.md: nginx alone ≈ 41–90k/s on one 2-core machine"
short_row health64 "FastCGI, no DB, \`GET /health\`" "nginx alone: $(ratio health64 nginx64); ARCHITECTURE.md: trivial FastCGI on a unix socket 27–30k/s"
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
  $((M_NGX_WORKERS * 32)) idle connections may be cached, more than the 32 API threads,
  so every thread can end up pinned by an idle connection.
- \`max_fails=1 fail_timeout=2s\` with \`fastcgi_next_upstream error timeout\`:
  one failed connect (e.g. a full backlog: EAGAIN on a unix socket, a
  dropped SYN on TCP) takes that process out for 2 s; when both are out,
  nginx answers "no live upstreams" (502, shown as 503) for every request.
- The API's listen backlog (4096) is capped by \`net.core.somaxconn\`
  ($M_SOMAXCONN here); on a machine with a smaller value, 1,000 connections
  can overflow it.
EOF
} >"$tmp"
mv -f "$tmp" "$README"
log "report written to $README"
log "done: $START_DATE – $END_DATE"
