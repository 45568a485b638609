#![no_main]
//! `cargo +nightly fuzz run tx_search`: see `caspur_fuzzing::TARGETS`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    caspur_fuzzing::rpc_targets::tx_search(data);
});
