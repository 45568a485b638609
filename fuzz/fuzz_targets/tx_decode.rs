#![no_main]
//! `cargo +nightly fuzz run tx_decode`: see `caspur_fuzzing::TARGETS`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    caspur_fuzzing::app_targets::tx_decode(data);
});
