//! `gov` messages, one file each.

pub mod deposit;
pub mod legacy;
pub mod submit_proposal;
pub mod update_params;
pub mod vote;
pub mod vote_weighted;
