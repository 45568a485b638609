//! `distribution` messages.

pub mod community_pool_spend;
pub mod fund_community_pool;
pub mod update_params;
pub mod withdraw_commission;
pub mod withdraw_reward;
