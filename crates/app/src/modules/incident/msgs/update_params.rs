//! `MsgUpdateParams` of `incident` (only through a passed governance proposal).

use crate::modules::incident::{params::IncidentParams, state};
use caspur_types::proto::incident::v1 as pb;

/// The message.
pub type Msg = pb::MsgUpdateParams;
/// Its type URL.
pub const TYPE_URL: &str = "/caspur.incident.v1.MsgUpdateParams";

crate::modules::gov::governed_params!(
    Msg,
    pb::MsgUpdateParamsResponse,
    params = IncidentParams,
    set = state::set_params
);
