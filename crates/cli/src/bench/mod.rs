//! `caspurd bench circuit|dcert|monitor`: harnesses that time the state machine on a memory state.
//! They live here, not in the app crate, which keeps no clock.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "benchmark harnesses over inputs they build themselves; a failure is a bug to see at once"
)]

pub mod circuit;
pub mod dcert;
pub mod monitor;

/// The median of `v` (the upper one of an even count).
pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}
