#!/usr/bin/env bash
# Throughput and server CPU per request over HTTP, in one run: bare axum, axum verifying by
# hand, axum + WebhookLayer verifying only, axum + WebhookLayer (verify, parse, de-duplicate
# in a MemoryStore), bare actix-web, actix-web + WebhookMiddleware, and the provider's documented
# Express receiver (bench/express, `npm install` on first use) as the reference.
#
#   bench/http.sh                 # 10 s per mode
#   DURATION=30s MODES="bare webhook" bench/http.sh
#
# The server runs on one thread pinned to SERVER_CPU, wrk (-t1 -c64) on WRK_CPU. Every
# request is a distinct signed delivery (distinct webhookId) from a pre-generated file, so
# the idempotency layer does its full work (claim + complete) on each. Server CPU per
# request comes from /proc/<pid>/stat (utime + stime) around the wrk run.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/wrk.sh

DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-64}
MODES=${MODES:-bare manual verify webhook actix-bare actix-webhook express}
SERVER_CPU=${SERVER_CPU:-0}
WRK_CPU=${WRK_CPU:-1}
COUNT=${COUNT:-2000000}
PORT=${PORT:-39217}
SECRET=whsec_bench_http
export DELIVERIES=${DELIVERIES:-target/bench-deliveries-$COUNT.txt}

command -v wrk >/dev/null || { echo "wrk not found: apt-get install wrk" >&2; exit 1; }

if [[ ${BUILD:-1} != 0 ]]; then
  cargo build --release -q -p quickassist-webhooks-tower --example bench_server
  cargo build --release -q -p quickassist-examples --example bench_actix
fi
SERVER=target/release/examples/bench_server
ACTIX_SERVER=target/release/examples/bench_actix
if [[ " $MODES " == *" express "* && ! -d bench/express/node_modules ]]; then
  npm install --prefix bench/express --no-audit --no-fund >&2
fi

if [[ ! -s $DELIVERIES ]]; then
  echo "generating $COUNT signed deliveries in $DELIVERIES" >&2
  "$SERVER" dump "$COUNT" "$SECRET" > "$DELIVERIES.tmp" && mv "$DELIVERIES.tmp" "$DELIVERIES"
fi

ticks=$(getconf CLK_TCK)
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

printf '%-8s %12s %10s %10s %14s %12s\n' mode "req/s" "p50" "p99" "cpu/req (us)" processed
for mode in $MODES; do
  log=$(mktemp)
  case $mode in
    actix-*) taskset -c "$SERVER_CPU" "$ACTIX_SERVER" "$mode" "$SECRET" "$PORT" 2>"$log" & ;;
    express) PORT=$PORT QUICKASSIST_WEBHOOK_SECRET=$SECRET taskset -c "$SERVER_CPU" \
               node bench/express/server.js 2>"$log" & ;;
    *) taskset -c "$SERVER_CPU" "$SERVER" "$mode" "$SECRET" "$PORT" 2>"$log" & ;;
  esac
  pid=$!
  wait_listening "$log" "$pid"

  before=$(cpu_ticks "$pid")
  out=$(taskset -c "$WRK_CPU" wrk -t1 -c"$CONNECTIONS" -d"$DURATION" --latency \
        -s bench/signed.lua "http://127.0.0.1:$PORT/webhooks/thequickassist")
  after=$(cpu_ticks "$pid")
  kill -TERM "$pid"; wait "$pid" || true

  wrk_read "$out"
  processed=$(awk '/^processed/ { print $2 }' "$log")
  [[ -z $processed ]] && processed="-"
  cpu_us=$(awk -v t=$((after - before)) -v hz="$ticks" -v n="$requests" \
           'BEGIN { printf "%.2f", t / hz * 1e6 / n }')
  printf '%-8s %12s %10s %10s %14s %12s\n' "$mode" "$rps" "$p50" "$p99" "$cpu_us" "$processed/$requests"
  [[ -n $non2xx ]] && echo "  warning: $non2xx non-2xx responses" >&2
  rm -f "$log"
done
