#!/usr/bin/env bash
# The sync fuzz target (fuzz/fuzz_targets/sync_frames.rs) for a bounded time: libFuzzer
# through cargo-fuzz, on the machine's one (stable) toolchain, so without a sanitizer
# (`-s none`; AddressSanitizer needs nightly, which this machine cannot fetch). A crash fails
# the run and leaves its input in fuzz/artifacts/sync_frames/: copy it to
# fuzz/regressions/sync_frames/, where `cargo test` replays it with the corpus.
# Usage: bash .ci/fuzz.sh [seconds, default 60]
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-60}"
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --version 0.13.2 --locked
# Fuzz a copy of the corpus: what the run discovers does not dirty the checkout.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r fuzz/corpus/sync_frames/. "$work/"
cargo fuzz run -s none -O sync_frames "$work" fuzz/regressions/sync_frames -- \
    -max_total_time="$secs" -max_len=4096 -rss_limit_mb=2048 -print_final_stats=1
