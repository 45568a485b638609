//! `dcert` messages.

pub mod accept_candidacy;
pub mod bond;
pub mod circuit_break;
pub mod confirm_tripwire;
pub mod dissolve;
pub mod heartbeat;
pub mod ratify_break;
pub mod register_tripwire;
pub mod release_tripwire;
pub mod remove_tripwire;
pub mod slash_member;
pub mod unbond;
pub mod update_description;
pub mod update_params;
pub mod vote;
pub mod vote_suspend;
