#!/usr/bin/env bash
# The PostgreSQL inbox at size (BENCHMARKS.md, "Inbox at size" and "Inbox commits"):
#
#   bench/inbox-size.sh                      # ten million rows, one million of them expired
#   ROWS=2000000 EXPIRED=200000 DURATION=5 bench/inbox-size.sh
#
# `bench_inbox commits` compares the commit modes; `bench_inbox size` measures the intake
# (64 clients over HTTP) and the workers on an empty inbox, then with ROWS stored deliveries
# added by bulk SQL, prints each hot query's plan (and fails if one reads the whole table),
# then measures the intake while the EXPIRED rows are purged. Each starts its own durable
# throwaway cluster (fsync and synchronous_commit on). Ten million rows take about 6 GB.
set -euo pipefail
cd "$(dirname "$0")/.."

ROWS=${ROWS:-10000000}
EXPIRED=${EXPIRED:-1000000}
DURATION=${DURATION:-10}

cargo build --release -q -p quickassist-examples --example bench_inbox
target/release/examples/bench_inbox commits 20000
target/release/examples/bench_inbox size "$ROWS" "$EXPIRED" "$DURATION"
