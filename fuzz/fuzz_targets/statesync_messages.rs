#![no_main]
//! `cargo +nightly fuzz run statesync_messages`: see `caspur_fuzzing::TARGETS`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    caspur_fuzzing::consensus_targets::statesync_messages(data);
});
