//! `MsgUpdateParams` of `upgrade` (only through a passed governance proposal).

use crate::modules::upgrade::{params::UpgradeParams, state};
use caspur_types::proto::upgrade::v1 as pb;

/// The message.
pub type Msg = pb::MsgUpdateParams;
/// Its type URL.
pub const TYPE_URL: &str = "/caspur.upgrade.v1.MsgUpdateParams";

crate::modules::gov::governed_params!(
    Msg,
    pb::MsgUpdateParamsResponse,
    params = UpgradeParams,
    set = state::set_params
);
