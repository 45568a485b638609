//! The fuzz targets' bodies, on the stable toolchain.
//!
//! `fuzz/` (cargo-fuzz, nightly) calls each target for long coverage-guided runs; the tests
//! here run every committed corpus input, and a few thousand generated ones, through the same
//! functions in CI. A target panics only on a finding: a crash in the code under test, or a
//! broken property (a decoded block that does not round-trip, CheckTx disagreeing with block
//! execution, a non-JSON RPC reply, …).
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a fuzz harness reports findings, and a broken setup, by panicking"
)]

pub mod app_targets;
pub mod consensus_targets;
pub mod gen;
pub mod incident_targets;
pub mod rpc_targets;
pub mod seeds;

/// A fuzz target: any bytes in, a panic only on a finding.
pub type Target = fn(&[u8]);

/// Every target, by the name its `fuzz/fuzz_targets/<name>.rs` and corpus directory carry.
pub const TARGETS: &[(&str, Target)] = &[
    ("tx_decode", app_targets::tx_decode),
    ("msg_walker", app_targets::msg_walker),
    ("msg_handlers", app_targets::msg_handlers),
    ("block_codec", consensus_targets::block_codec),
    ("statesync_messages", consensus_targets::statesync_messages),
    ("rpc_requests", rpc_targets::rpc_requests),
    ("tx_search", rpc_targets::tx_search),
    ("sealed_reports", incident_targets::sealed_reports),
];
