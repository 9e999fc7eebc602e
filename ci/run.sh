#!/usr/bin/env bash
# ci/run.sh — what `make run` calls after building: start the private stack
# in var/dev with demo data, print the URLs, stay in the foreground showing
# the API logs, and stop the stack on Ctrl-C / SIGTERM.
#
# VETRED_STACK_DIR (var/dev), VETRED_SEED (1) and VETRED_BIN (build/release)
# may be overridden; every other ci/stack.sh variable passes through.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

export VETRED_STACK_DIR="${VETRED_STACK_DIR:-var/dev}"
export VETRED_SEED="${VETRED_SEED:-1}"
export VETRED_BIN="${VETRED_BIN:-build/release}"

tail_pid=""
rotate_pid=""
stopping=0
finish() {
  [ "$stopping" = 1 ] && return
  stopping=1
  trap '' INT TERM
  if [ -n "$tail_pid" ]; then kill "$tail_pid" 2>/dev/null || true; fi
  if [ -n "$rotate_pid" ]; then kill "$rotate_pid" 2>/dev/null || true; fi
  echo >&2
  echo "run: stopping the stack ($VETRED_STACK_DIR)" >&2
  ci/stack.sh stop || true
  exit "${1:-0}"
}
trap 'finish 0' INT TERM

if ! ci/stack.sh start; then
  echo "run: the stack did not start; logs are in $VETRED_STACK_DIR/log/" >&2
  finish 1
fi

# shellcheck disable=SC1090
. <(ci/stack.sh env)
base="$VETRED_HTTP_URL"
cat <<MSG

VetRed is running (stack: $VETRED_STACK_DIR)
  API        $base/api/v1/
  API docs   $base/docs/
  Metrics    ${VETRED_METRICS_URLS// //metrics }/metrics  (one listener per API process)
  Scheduler  $VETRED_WORKER_METRICS_URLS/metrics  (outbox relay and periodic jobs; /ready)
  Health     $base/health
  Ready      $base/ready
  PostgreSQL $VETRED_DATABASE_URL
  RabbitMQ   $VETRED_AMQP_URL
  Logs       $VETRED_STACK_DIR/log/, $VETRED_STACK_DIR/nginx/access.log
Ctrl-C stops the stack.

MSG

# nginx's logs are rotated by size every few minutes (the API processes
# rotate their own).
( while sleep 300; do ci/stack.sh rotate || true; done ) </dev/null >/dev/null 2>&1 &
rotate_pid=$!

# Follow the API's, the scheduler's and the worker's logs until interrupted; the signal trap does the stopping.
tail -n 0 -F "$VETRED_STACK_DIR"/log/api-*.log "$VETRED_STACK_DIR"/log/scheduler.log "$VETRED_STACK_DIR"/log/worker.log &
tail_pid=$!
while :; do
  wait "$tail_pid" || true
  # tail ended on its own (should not happen): keep waiting for a signal.
  tail_pid=""
  sleep 3600 & wait $! || true
done
