//! Structured updates from a device: records of every table with keys, fields and
//! references valid and invalid, through the one write path as a person's change; after
//! every accepted update the invariants of the record rules hold (`keel::fuzzing`). Run:
//! `cargo fuzz run -s none -O sync_records fuzz/corpus/sync_records -- -max_total_time=60`
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(
    // yrs's panics on hostile updates are caught by Keel; a broken invariant panics in the
    // harness and escapes, which libfuzzer-sys reports as a crash.
    init: std::panic::set_hook(Box::new(|info| {
        let msg = info.to_string();
        if msg.contains("after an accepted update") {
            eprintln!("{msg}");
        }
    })),
    |data: &[u8]| {
        keel::fuzzing::fuzz_records(data);
    }
);
