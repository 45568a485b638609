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
