#!/usr/bin/env bash
# Runs every fuzz target for SECONDS (default 600) on one core, one after another; the
# corpus grows in corpus/<target>, crashes land in artifacts/<target>.
set -u
cd "$(dirname "$0")"
secs=${1:-600}
for t in safetensors idx seq_arch image cli_args; do
  mkdir -p corpus/$t artifacts/$t
  echo "== $t ($secs s)"
  cargo +nightly fuzz run -O "$t" corpus/$t -- -max_total_time="$secs" -rss_limit_mb=4096 \
    -artifact_prefix=artifacts/$t/ 2>&1 | grep -E "^#[0-9]+ *DONE|Done [0-9]+ runs|ERROR|SUMMARY|crash-|panicked" | tail -5
done
