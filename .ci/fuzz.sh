#!/usr/bin/env bash
# The sync fuzz targets for a bounded time each: sync_frames (every byte a peer sends) and
# sync_records (structured records through the write path, invariants checked): libFuzzer
# through cargo-fuzz, on the machine's one (stable) toolchain, so without a sanitizer
# (`-s none`; AddressSanitizer needs nightly, which this machine cannot fetch). A crash fails
# the run and leaves its input in fuzz/artifacts/sync_frames/: copy it to
# fuzz/regressions/sync_frames/, where `cargo test` replays it with the corpus.
# Usage: bash .ci/fuzz.sh [seconds for sync_frames, default 60; sync_records gets half]
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
records=$(mktemp -d)
trap 'rm -rf "$work" "$records"' EXIT
cp -r fuzz/corpus/sync_records/. "$records/"
cargo fuzz run -s none -O sync_records "$records" -- \
    -max_total_time="$(( secs / 2 ))" -max_len=256 -rss_limit_mb=2048 -print_final_stats=1
