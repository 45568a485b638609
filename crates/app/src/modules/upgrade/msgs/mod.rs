//! `upgrade` messages.

pub mod approve_emergency;
pub mod cancel_emergency;
pub mod cancel_upgrade;
pub mod signal_ready;
pub mod software_upgrade;
pub mod update_params;
