//! `query circuit …`: the broken routes with who broke them, when and why; whether a message
//! type is refused. (Routes are broken with `tx dcert circuit-break`.)

use crate::client::Client;
use anyhow::Result;
use caspur_types::proto::circuit::v1 as pb;
use clap::Subcommand;
use serde_json::Value;

/// `query circuit …`.
#[derive(Subcommand)]
pub enum CircuitQuery {
    /// Every broken route.
    BrokenRoutes,
    /// Whether messages of a type URL are refused, and by which route.
    IsBroken {
        /// A message type URL, e.g. /cosmos.bank.v1beta1.MsgSend.
        type_url: String,
    },
}

/// Runs a circuit query.
pub fn query(client: &Client, cmd: CircuitQuery) -> Result<Value> {
    match cmd {
        CircuitQuery::BrokenRoutes => client.ask_json::<_, pb::QueryBrokenRoutesResponse>(
            "/caspur.circuit.v1.Query/BrokenRoutes",
            &pb::QueryBrokenRoutesRequest {},
        ),
        CircuitQuery::IsBroken { type_url } => client.ask_json::<_, pb::QueryIsBrokenResponse>(
            "/caspur.circuit.v1.Query/IsBroken",
            &pb::QueryIsBrokenRequest { type_url },
        ),
    }
}
