#![no_main]
//! `cargo +nightly fuzz run rpc_requests`: see `caspur_fuzzing::TARGETS`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    caspur_fuzzing::rpc_targets::rpc_requests(data);
});
