//! `dcert` messages.

pub mod accept_candidacy;
pub mod bond;
pub mod unbond;
pub mod update_params;
pub mod vote;
