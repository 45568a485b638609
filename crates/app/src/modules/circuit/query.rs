//! Circuit-breaker queries (`caspur.circuit.v1.Query`): every broken route with who, when and
//! why; whether a type URL is refused and by which route.

use super::{covering, state};
use crate::context::Unmetered;
use crate::error::ExecError;
use crate::query::decode_request as decode;
use caspur_store::StateScan;
use caspur_types::proto::circuit::v1 as pb;
use prost::Message;

/// The service's path prefix.
pub const PREFIX: &str = "/caspur.circuit.v1.Query/";

fn to_proto(b: &state::BrokenRoute) -> pb::BrokenRoute {
    pb::BrokenRoute {
        route: b.route.clone(),
        broken_by: b.by.clone(),
        height: b.height,
        time_ms: b.time_ms,
        reason: b.reason.clone(),
        break_id: b.break_id,
    }
}

/// Every broken route, in route order.
pub async fn broken_routes<S: StateScan>(s: &S) -> Result<Vec<state::BrokenRoute>, ExecError> {
    let rows = s
        .scan_prefix(&state::broken_prefix(), usize::MAX)
        .await
        .map_err(crate::context::store_err)?;
    rows.iter()
        .map(|(_, v)| {
            serde_json::from_slice(v)
                .map_err(|e| ExecError::logic(format!("corrupt broken route: {e}")))
        })
        .collect()
}

/// Answers `path` if it is a circuit query (`None` otherwise).
pub async fn route<S: StateScan>(
    s: &S,
    path: &str,
    data: &[u8],
) -> Option<Result<Vec<u8>, ExecError>> {
    let method = path.strip_prefix(PREFIX)?;
    answer(s, method, data).await.transpose()
}

async fn answer<S: StateScan>(
    s: &S,
    method: &str,
    data: &[u8],
) -> Result<Option<Vec<u8>>, ExecError> {
    Ok(Some(match method {
        "BrokenRoutes" => pb::QueryBrokenRoutesResponse {
            routes: broken_routes(s).await?.iter().map(to_proto).collect(),
        }
        .encode_to_vec(),
        "IsBroken" => {
            let req: pb::QueryIsBrokenRequest = decode(data)?;
            let b = if super::UNBREAKABLE.contains(&req.type_url.as_str()) {
                None
            } else {
                covering(&mut Unmetered(s), &req.type_url).await?
            };
            pb::QueryIsBrokenResponse {
                broken: b.is_some(),
                route: b.as_ref().map(to_proto),
            }
            .encode_to_vec()
        }
        _ => return Ok(None),
    }))
}
