//! `incident` queries (`caspur.incident.v1.Query`, over abci_query and gRPC): one incident
//! with its timeline, incidents newest first (by state), a timeline, a sealed report (for
//! members to open), params. Sealed content never appears anywhere but `SealedReport`.

use super::{lifecycle, state};
use crate::context::{KvRead, Unmetered};
use crate::error::ExecError;
use crate::query::decode_request as decode;
use caspur_store::StateScan;
use caspur_types::proto::incident::v1 as pb;
use prost::Message;

/// The service's path prefix.
pub const PREFIX: &str = "/caspur.incident.v1.Query/";

/// Most incidents one page returns.
pub const MAX_PAGE: u32 = 100;
/// Page size when none is asked for.
const DEFAULT_PAGE: u32 = 20;
/// Most records one `Incidents` query reads while filtering by state.
pub const MAX_SCAN: u64 = 10_000;

/// Answers `path` if it is an incident query (`None` otherwise).
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
    let mut kv = Unmetered(s);
    Ok(Some(match method {
        "Incident" => {
            let req: pb::QueryIncidentRequest = decode(data)?;
            let incident = state::require(&mut kv, req.id).await?;
            let timeline = timeline(&mut kv, &incident).await?;
            pb::QueryIncidentResponse {
                incident: Some(incident),
                timeline,
            }
            .encode_to_vec()
        }
        "Incidents" => incidents(&mut kv, &decode(data)?).await?.encode_to_vec(),
        "Timeline" => {
            let req: pb::QueryTimelineRequest = decode(data)?;
            let incident = state::require(&mut kv, req.id).await?;
            pb::QueryTimelineResponse {
                timeline: timeline(&mut kv, &incident).await?,
            }
            .encode_to_vec()
        }
        "SealedReport" => {
            let req: pb::QuerySealedReportRequest = decode(data)?;
            let incident = state::require(&mut kv, req.id).await?;
            pb::QuerySealedReportResponse {
                sealed_report: Some(state::sealed(&mut kv, req.id).await?),
                commitment: incident.commitment,
            }
            .encode_to_vec()
        }
        "Params" => pb::QueryParamsResponse {
            params: Some(state::get_params(&mut kv).await?.to_proto()),
        }
        .encode_to_vec(),
        _ => return Ok(None),
    }))
}

/// Every timeline entry of an incident, oldest first.
pub async fn timeline(
    kv: &mut impl KvRead,
    i: &pb::Incident,
) -> Result<Vec<pb::TimelineEntry>, ExecError> {
    let mut out = Vec::with_capacity(i.timeline_len as usize);
    for seq in 0..i.timeline_len {
        out.push(state::timeline_entry(kv, i.id, seq).await?);
    }
    Ok(out)
}

/// A page of incidents, newest first, optionally only those in one state.
pub async fn incidents(
    kv: &mut impl KvRead,
    req: &pb::QueryIncidentsRequest,
) -> Result<pb::QueryIncidentsResponse, ExecError> {
    let limit = match req.limit {
        0 => DEFAULT_PAGE,
        n => n.min(MAX_PAGE),
    } as usize;
    let next = state::next_id(kv).await?;
    let mut id = if req.before == 0 {
        next
    } else {
        req.before.min(next)
    };
    let mut out = Vec::new();
    let mut scanned = 0;
    while id > 1 && out.len() < limit && scanned < MAX_SCAN {
        id -= 1;
        scanned += 1;
        let Some(i) = state::incident(kv, id).await? else {
            continue;
        };
        if req.state == 0 || i.state == req.state {
            out.push(i);
        }
    }
    Ok(pb::QueryIncidentsResponse {
        incidents: out,
        next_before: if id > 1 { id } else { 0 },
    })
}

/// The state name of an incident (`plan_proposed`), for JSON views.
pub fn state_name(i: &pb::Incident) -> &'static str {
    lifecycle::name(lifecycle::state_of(i))
}

/// Most open incidents [`open_incidents`] reads (a report costs a deposit, so more open at once
/// means spam; monitoring then shows this many and says the list is cut).
pub const MAX_OPEN_READ: usize = 1_000;

/// The open incidents (every state but rejected, closed and aborted), by id, at most
/// [`MAX_OPEN_READ`]; the flag says whether more exist.
pub async fn open_incidents<S: StateScan>(s: &S) -> Result<(Vec<pb::Incident>, bool), ExecError> {
    let rows = s
        .scan_prefix(&state::open_prefix(), MAX_OPEN_READ + 1)
        .await
        .map_err(crate::context::store_err)?;
    let cut = rows.len() > MAX_OPEN_READ;
    let mut out = Vec::with_capacity(rows.len().min(MAX_OPEN_READ));
    for (key, _) in rows.iter().take(MAX_OPEN_READ) {
        let id = state::open_id(key)
            .ok_or_else(|| ExecError::logic("corrupt open-incident index key"))?;
        if let Some(i) = state::incident(&mut Unmetered(s), id).await? {
            out.push(i);
        }
    }
    out.sort_by_key(|i| i.id);
    Ok((out, cut))
}
