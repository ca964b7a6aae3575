#!/usr/bin/env bash
# The attacks a stranger without the secret can make, at full size, one at a time, against the
# release builds of axum_receiver, actix_receiver and `qa-webhooks listen` on loopback, while
# 10 signed deliveries per second probe each receiver (examples/attack.rs). Reports the
# receiver's peak RSS and the probes' latency; results go to bench/results/attacks-<date>.txt.
#
#   bench/attacks.sh                       # every attack on every receiver, 30 s each
#   SECONDS_PER_ATTACK=10 RECEIVERS=axum_receiver ATTACKS="idle" bench/attacks.sh
#
# Targets (issue "Safe on the open internet"): RSS under the body budget (32 MiB) + 100 MiB;
# >= 99 % of the probes answered 200 within 1 s (within 10 s under `ulimit -n 1024`).
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_PER_ATTACK=${SECONDS_PER_ATTACK:-30}
RECEIVERS=${RECEIVERS:-axum_receiver actix_receiver qa-webhooks}
ATTACKS=${ATTACKS:-none slow-bodies:2000 idle:5000 idle-ulimit:5000 forged-canonical:16}
PORT=${PORT:-39317}
export QUICKASSIST_WEBHOOK_SECRET=whsec_bench_attacks
OUT=${OUT:-bench/results/attacks-$(date -u +%Y-%m-%d).txt}
TARGET=${CARGO_TARGET_DIR:-target}

if [[ ${BUILD:-1} != 0 ]]; then
  cargo build --release -q -p quickassist-examples --example axum_receiver --example actix_receiver --example attack
  cargo build --release -q -p quickassist-webhooks-cli
fi
ulimit -n "$(ulimit -Hn)"

start() { # receiver, nofile limit -> sets PID
  local receiver=$1 limit=$2 log=$TARGET/attacks-$1.log
  local cmd=("$TARGET/release/examples/$receiver")
  [[ $receiver == qa-webhooks ]] && cmd=("$TARGET/release/qa-webhooks" listen --port "$PORT")
  ( ulimit -n "$limit"; PORT=$PORT HOST=127.0.0.1 RUST_LOG=warn exec "${cmd[@]}" >/dev/null 2>"$log" ) &
  PID=$!
  for _ in $(seq 100); do
    grep -q "listening on" "$log" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "$receiver did not start" >&2; cat "$log" >&2; exit 1
}

mkdir -p bench/results
{
  echo "# bench/attacks.sh $(date -u +%FT%TZ), $(nproc) cores, ${SECONDS_PER_ATTACK}s per attack"
  for receiver in $RECEIVERS; do
    for spec in $ATTACKS; do
      attack=${spec%%:*}; connections=${spec#*:}; [[ $connections == "$spec" ]] && connections=0
      limit=$(ulimit -Hn)
      if [[ $attack == idle-ulimit ]]; then attack=idle; limit=1024; fi
      start "$receiver" "$limit"
      printf '%-15s nofile=%-8s ' "$receiver" "$limit"
      "$TARGET/release/examples/attack" "$attack" "127.0.0.1:$PORT" "$PID" "$connections" "$SECONDS_PER_ATTACK"
      kill -TERM "$PID"; wait "$PID" 2>/dev/null || true
    done
  done
} | tee "$OUT"
