#![no_main]
//! `cargo +nightly fuzz run block_codec`: see `caspur_fuzzing::TARGETS`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    caspur_fuzzing::consensus_targets::block_codec(data);
});
