//! `bank` messages.

pub mod multi_send;
pub mod send;
