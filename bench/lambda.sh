#!/usr/bin/env bash
# The Lambda receiver's cold start and warm cost, under cargo-lambda's local emulator
# (`cargo lambda watch --only-lambda-apis`; `pip install cargo-lambda`), with a real Redis as
# the shared store, as examples/lambda_receiver.rs is meant to be deployed.
#
#   bench/lambda.sh                  # 20 cold starts, then 10 s of warm invocations
#   COLD=50 DURATION=30s bench/lambda.sh
#
# Cold start: from spawning the function's process (release build) to the answer of its first
# invocation (a signed delivery, sent the moment the process is spawned: the emulator holds
# it until the function asks for work). That covers the process start, reading the
# environment, connecting to Redis, building the receiver, the runtime's first poll, and the
# invocation itself; on AWS, the download of the package and the sandbox come on top.
#
# Warm: wrk (-t1 -c4, distinct signed deliveries) through the emulator's Function URL to one
# running instance; the function's CPU (utime + stime from /proc/<pid>/stat) per answered
# invocation. The emulator's own CPU is not counted: on AWS it is the platform's.
#
# Each is measured for the receiver and for the baseline, examples/bench_lambda.rs: a
# function on the same runtime that answers 200 without reading the request.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/wrk.sh

COLD=${COLD:-20}
DURATION=${DURATION:-10s}
FUNCTION_CPU=${FUNCTION_CPU:-0}
OTHER_CPU=${OTHER_CPU:-1}
COUNT=${COUNT:-200000}
SECRET=whsec_bench_lambda
export DELIVERIES=${DELIVERIES:-target/bench-deliveries-$COUNT.txt}
export WEBHOOK_PATH=/lambda-url/_/webhooks/thequickassist

for tool in wrk cargo-lambda redis-server curl; do
  command -v "$tool" >/dev/null || { echo "$tool not found" >&2; exit 1; }
done

if [[ ${BUILD:-1} != 0 ]]; then
  cargo build --release -q -p quickassist-examples --example lambda_receiver --example bench_lambda
  cargo build --release -q -p quickassist-webhooks-tower --example bench_server
fi
if [[ ! -s $DELIVERIES ]]; then
  echo "generating $COUNT signed deliveries in $DELIVERIES" >&2
  target/release/examples/bench_server dump "$COUNT" "$SECRET" > "$DELIVERIES.tmp"
  mv "$DELIVERIES.tmp" "$DELIVERIES"
fi

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
REDIS_PORT=$(free_port)
EMULATOR_PORT=$(free_port)
workdir=$(mktemp -d)
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; rm -rf "$workdir"; }
trap cleanup EXIT

taskset -c "$OTHER_CPU" redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' \
  --appendonly no --daemonize no >"$workdir/redis.log" 2>&1 &
pids+=($!)
taskset -c "$OTHER_CPU" cargo-lambda lambda watch --only-lambda-apis \
  --invoke-address 127.0.0.1 --invoke-port "$EMULATOR_PORT" >"$workdir/emulator.log" 2>&1 &
pids+=($!)
for _ in $(seq 600); do
  (exec 3<>"/dev/tcp/127.0.0.1/$EMULATOR_PORT") 2>/dev/null && break
  sleep 0.1
done
URL="http://127.0.0.1:$EMULATOR_PORT$WEBHOOK_PATH"

# The sample deliveries are stamped at the provider's sample time: no replay window here.
# start_function BINARY: one instance, in the background ($! is its pid).
# STORE=memory leaves REDIS_URL out (the receiver then warns that it de-duplicates per
# instance), to tell the store's share of the cost.
store_env=("REDIS_URL=redis://127.0.0.1:$REDIS_PORT/")
[[ ${STORE:-redis} == memory ]] && store_env=()
start_function() {
  env AWS_LAMBDA_RUNTIME_API="http://127.0.0.1:$EMULATOR_PORT/.rt" AWS_LAMBDA_FUNCTION_NAME=_ \
    AWS_LAMBDA_FUNCTION_VERSION=1 AWS_LAMBDA_FUNCTION_MEMORY_SIZE=512 \
    QUICKASSIST_WEBHOOK_SECRET=$SECRET REPLAY_WINDOW=0 RUST_LOG=warn "${store_env[@]}" \
    taskset -c "$FUNCTION_CPU" "$1" >/dev/null 2>>"$workdir/function.log" &
}

offset=0
for function in lambda_receiver bench_lambda; do
  binary=target/release/examples/$function
  echo "== $function"
  # Cold starts: a new process per delivery.
  cold=()
  for n in $(seq "$COLD"); do
    line=$(sed -n "$((offset + n))p" "$DELIVERIES")
    signature=${line%% *}
    body=${line#* }
    t0=$(date +%s%N)
    start_function "$binary"
    pid=$!
    status=$(curl -s --max-time 30 -o /dev/null -w '%{http_code}' -X POST "$URL" -H 'content-type: application/json' \
      -H "x-webhook-signature: $signature" --data-binary "$body")
    t1=$(date +%s%N)
    kill "$pid"; wait "$pid" 2>/dev/null || true
    [[ $status == 200 ]] || { echo "cold run $n answered $status" >&2; cat "$workdir/function.log" >&2; exit 1; }
    cold+=("$(( (t1 - t0) / 1000 ))")
  done
  printf '%s\n' "${cold[@]}" | sort -n | awk -v runs="$COLD" '
    { v[NR] = $1 / 1000 }
    END { printf "  cold start (%d runs, spawn to first answer): min %.1f ms, median %.1f ms, max %.1f ms\n", runs, v[1], v[int((NR + 1) / 2)], v[NR] }'

  # Warm: one instance, many invocations; its first invocation (a cold start) comes first.
  start_function "$binary"
  pid=$!
  pids+=("$pid")
  START=$((offset + COLD)) taskset -c "$OTHER_CPU" wrk -t1 -c1 -d1s -s bench/signed.lua "$URL" >/dev/null
  ticks=$(getconf CLK_TCK)
  before=$(awk '{ print $14 + $15 }' "/proc/$pid/stat")
  out=$(START=$((offset + COLD + 10000)) taskset -c "$OTHER_CPU" wrk -t1 -c4 -d"$DURATION" --latency \
        -s bench/signed.lua "$URL")
  after=$(awk '{ print $14 + $15 }' "/proc/$pid/stat")
  wrk_read "$out"
  awk -v t=$((after - before)) -v hz="$ticks" -v n="$requests" -v rps="$rps" -v p50="$p50" -v p99="$p99" -v d="$DURATION" \
    'BEGIN { printf "  warm (%s, wrk -c4 through the emulator): %d invocations, %s/s, p50 %s, p99 %s; function CPU %.0f us per invocation\n", d, n, rps, p50, p99, t / hz * 1e6 / n }'
  [[ -z $non2xx ]] || echo "  warning: $non2xx non-2xx responses" >&2
  rss=$(awk '/VmHWM/ { print $2 }' "/proc/$pid/status")
  echo "  peak RSS of the instance: $((rss / 1024)) MiB"
  kill "$pid"; wait "$pid" 2>/dev/null || true
  offset=$((offset + 100000))
done
