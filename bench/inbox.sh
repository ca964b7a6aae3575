#!/usr/bin/env bash
# Intake of the PostgreSQL inbox over HTTP, with the load generator in another process:
# wrk (-t1) at 1, 8 and 64 connections against `bench_inbox serve` (axum + WebhooksLayer
# over an Inbox intake, a fresh durable cluster per level: fsync and synchronous_commit on).
# Every request is a distinct signed delivery, so each is one committed INSERT.
#
#   bench/inbox.sh                     # 10 s per level
#   DURATION=5s LEVELS="8 64" bench/inbox.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/wrk.sh

DURATION=${DURATION:-10s}
LEVELS=${LEVELS:-1 8 64}
COUNT=${COUNT:-400000}
PORT=${PORT:-39218}
SECRET=whsec_bench_inbox
export DELIVERIES=${DELIVERIES:-target/bench-inbox-deliveries-$COUNT.txt}

command -v wrk >/dev/null || { echo "wrk not found: apt-get install wrk" >&2; exit 1; }
if [[ ${BUILD:-1} != 0 ]]; then
  cargo build --release -q -p quickassist-webhooks-tower --example bench_server
  cargo build --release -q -p quickassist-examples --example bench_inbox
fi
if [[ ! -s $DELIVERIES ]]; then
  echo "generating $COUNT signed deliveries in $DELIVERIES" >&2
  target/release/examples/bench_server dump "$COUNT" "$SECRET" > "$DELIVERIES.tmp"
  mv "$DELIVERIES.tmp" "$DELIVERIES"
fi

printf '%-8s %12s %10s %10s %10s %10s\n' clients "req/s" p50 p90 p99 stored
for clients in $LEVELS; do
  log=$(mktemp)
  target/release/examples/bench_inbox serve "$PORT" "$SECRET" 2>"$log" &
  pid=$!
  wait_listening "$log" "$pid"
  out=$(wrk -t1 -c"$clients" -d"$DURATION" --latency -s bench/signed.lua \
        "http://127.0.0.1:$PORT/webhooks/thequickassist")
  kill -TERM "$pid"; wait "$pid" || true
  wrk_read "$out"
  stored=$(awk '/^stored/ { print $2 }' "$log")
  printf '%-8s %12s %10s %10s %10s %10s\n' "$clients" "$rps" "$p50" "$p90" "$p99" "$stored/$requests"
  [[ -n $non2xx ]] && echo "  warning: $non2xx non-2xx responses" >&2
  rm -f "$log"
done
