#![no_main]
//! `cargo +nightly fuzz run msg_handlers`: see `caspur_fuzzing::TARGETS`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    caspur_fuzzing::app_targets::msg_handlers(data);
});
