#!/usr/bin/env bash
# Runs every fuzz target for a fixed time (default 600 s each), one after the other.
#
#   fuzz/run.sh            # 10 minutes per target
#   fuzz/run.sh 60         # 1 minute per target
#
# Needs the nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz`). Findings land in
# fuzz/artifacts/<target>/; copy the ones worth keeping into fuzz/regressions/<target>/, which
# `cargo test -p quickassist-webhooks --test fuzz_regressions` replays on every run.
set -euo pipefail
cd "$(dirname "$0")"
seconds="${1:-600}"
for target in verify canonical envelope signature_header; do
  mkdir -p "corpus/$target"
  cp -n regressions/"$target"/* "corpus/$target/" 2>/dev/null || true
  echo "==> fuzzing $target for ${seconds}s"
  cargo +nightly fuzz run "$target" -j1 -- \
    -max_total_time="$seconds" -rss_limit_mb=1024 -timeout=5 -max_len=65536 2>&1 | tail -n 4
done
