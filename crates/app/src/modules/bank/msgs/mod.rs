//! `bank` messages.

pub mod multi_send;
pub mod send;
pub mod update_params;
