#!/usr/bin/env bash
# Intake of the PostgreSQL inbox over HTTP, with the load generator in another process:
# wrk (-t1) at 1, 8 and 64 connections against `bench_inbox serve` (axum + WebhookLayer
# over an Inbox intake, a fresh durable cluster per level: fsync and synchronous_commit on).
# Every request is a distinct signed delivery, so each is one committed INSERT.
#
# Each level first runs WARMUP (default 3s) of the same load, with other ids, on the same
# cluster, so that the measured run sees a warm database (WAL segments in place, caches
# filled), as a long-running one is.
#
#   bench/inbox.sh                     # 10 s per level
#   DURATION=5s LEVELS="8 64" WARMUP=0 bench/inbox.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/wrk.sh

DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-3s}
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

# stored: rows in the inbox at the end, the warm-up's included.
printf '%-8s %12s %10s %10s %10s %10s %10s\n' clients "req/s" p50 p90 p99 requests stored
for clients in $LEVELS; do
  log=$(mktemp)
  target/release/examples/bench_inbox serve "$PORT" "$SECRET" 2>"$log" &
  pid=$!
  wait_listening "$log" "$pid"
  url="http://127.0.0.1:$PORT/webhooks/thequickassist"
  if [[ $WARMUP != 0 ]]; then
    START=$((COUNT / 2)) wrk -t1 -c"$clients" -d"$WARMUP" -s bench/signed.lua "$url" >/dev/null
  fi
  out=$(START=0 wrk -t1 -c"$clients" -d"$DURATION" --latency -s bench/signed.lua "$url")
  kill -TERM "$pid"; wait "$pid" || true
  wrk_read "$out"
  stored=$(awk '/^stored/ { print $2 }' "$log")
  printf '%-8s %12s %10s %10s %10s %10s %10s\n' "$clients" "$rps" "$p50" "$p90" "$p99" "$requests" "$stored"
  [[ -n $non2xx ]] && echo "  warning: $non2xx non-2xx responses" >&2
  rm -f "$log"
done
