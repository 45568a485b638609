#![no_main]
//! `cargo +nightly fuzz run sealed_reports`: see `caspur_fuzzing::TARGETS`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    caspur_fuzzing::incident_targets::sealed_reports(data);
});
