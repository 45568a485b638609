//! `auth` messages.

pub mod update_params;
