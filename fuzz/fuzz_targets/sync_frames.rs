//! Sync input from a peer: frame decoding and update application (the path every byte a
//! device sends goes through before anything is stored). Run:
//! `cargo +nightly fuzz run -O sync_frames fuzz/corpus/sync_frames -- -max_total_time=60`
//! (`-O`: the shipped build; yrs's debug assertions are not what a server runs.)
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(
    // libfuzzer-sys aborts on every panic, caught or not. Keel catches yrs's panics on
    // hostile updates on purpose, so the hook stays quiet; a panic that escapes `fuzz_one`
    // still aborts in libfuzzer-sys's own catch.
    init: std::panic::set_hook(Box::new(|_| {})),
    |data: &[u8]| {
        keel::sync::fuzz_one(data);
    }
);
