#!/usr/bin/env bash
# Runs every fuzz target for a fixed time (default 600 s each), one after the other.
#
#   fuzz/run.sh            # 10 minutes per target
#   fuzz/run.sh 60         # 1 minute per target
#
# Needs cargo-fuzz (`cargo install cargo-fuzz`). It runs on the stable toolchain: cargo-fuzz
# passes nightly-only flags (-Zsanitizer), which RUSTC_BOOTSTRAP=1 allows on stable; set
# FUZZ_TOOLCHAIN=nightly to use a nightly toolchain instead. Findings land in
# fuzz/artifacts/<target>/; copy the ones worth keeping into fuzz/regressions/<target>/, which
# `cargo test -p quickassist-webhooks --test fuzz_regressions` replays on every run.
set -euo pipefail
cd "$(dirname "$0")"
seconds="${1:-600}"
if [ -n "${FUZZ_TOOLCHAIN:-}" ]; then
  cargo_fuzz=(cargo "+$FUZZ_TOOLCHAIN" fuzz)
else
  export RUSTC_BOOTSTRAP=1
  cargo_fuzz=(cargo fuzz)
fi
for target in verify canonical envelope signature_header; do
  mkdir -p "corpus/$target"
  cp -n regressions/"$target"/* "corpus/$target/" 2>/dev/null || true
  echo "==> fuzzing $target for ${seconds}s"
  "${cargo_fuzz[@]}" run "$target" -j1 -- \
    -max_total_time="$seconds" -rss_limit_mb=1024 -timeout=5 -max_len=65536 2>&1 | tail -n 4
done
