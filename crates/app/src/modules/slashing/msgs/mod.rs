//! `slashing` messages.

pub mod unjail;
