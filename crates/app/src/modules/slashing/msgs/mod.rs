//! `slashing` messages.

pub mod unjail;
pub mod update_params;
