//! `tx_search`: CometBFT's query language over the tx index — `tx.hash='HEX'`,
//! `tx.height=N` and `type.attr='value'` conditions joined by `AND` — with CometBFT's paging
//! (`page` from 1, `per_page` up to 100, default 30; `order_by` `asc` or `desc`) and a
//! `total_count` of every match.

use super::types::TxSearch;
use super::{param_str, param_u64, parse_hash, to_value, tx_response, RpcContext, RpcError};
use crate::index::StoredBlock;
use serde_json::Value;
use std::collections::BTreeMap;

const DEFAULT_PER_PAGE: u64 = 30;
const MAX_PER_PAGE: u64 = 100;

/// A parsed query.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Query {
    hash: Option<[u8; 32]>,
    height: Option<u64>,
    /// `type.attr=value` conditions.
    events: Vec<String>,
}

pub(crate) fn parse(query: &str) -> Result<Query, RpcError> {
    let mut parsed = Query::default();
    for condition in query.split(" AND ") {
        let (key, value) = condition.split_once('=').ok_or_else(|| {
            RpcError::invalid_params(format!(
                "unsupported condition {condition:?}: only key='value' conditions joined by AND"
            ))
        })?;
        let (key, value) = (key.trim(), value.trim());
        let value = value
            .strip_prefix('\'')
            .and_then(|v| v.strip_suffix('\''))
            .unwrap_or(value);
        match key {
            "tx.hash" => parsed.hash = Some(parse_hash(value)?),
            "tx.height" => {
                parsed.height = Some(value.parse().map_err(|_| {
                    RpcError::invalid_params(format!("tx.height must be a number, got {value:?}"))
                })?)
            }
            _ if key.contains('.') && !key.starts_with('.') && !key.ends_with('.') => {
                parsed.events.push(format!("{key}={value}"))
            }
            _ => {
                return Err(RpcError::invalid_params(format!(
                    "unsupported query key {key:?}: use tx.hash, tx.height or type.attribute"
                )))
            }
        }
    }
    Ok(parsed)
}

/// Answers `tx_search`.
pub(crate) fn tx_search<S>(ctx: &RpcContext<S>, params: &Value) -> Result<Value, RpcError> {
    let query = param_str(params, "query", 0)
        .ok_or_else(|| RpcError::invalid_params("query is required"))?;
    let query = parse(query)?;
    let internal = |e: crate::index::IndexError| RpcError::internal(e.to_string());
    let mut matches: Vec<(u64, u32)> = match query.hash {
        Some(hash) => {
            let found = ctx.index.tx(&hash).map_err(internal)?;
            let candidate = found
                .map(|(b, i)| (b.height, i))
                .filter(|c| query.height.is_none_or(|h| h == c.0));
            match candidate {
                // Further conditions: check them at that tx's height only.
                Some(c) if !query.events.is_empty() => ctx
                    .index
                    .search(&query.events, Some(c.0))
                    .map_err(internal)?
                    .into_iter()
                    .filter(|t| *t == c)
                    .collect(),
                other => other.into_iter().collect(),
            }
        }
        None if query.height.is_none() && query.events.is_empty() => {
            return Err(RpcError::invalid_params(
                "query needs at least one condition",
            ))
        }
        None => ctx
            .index
            .search(&query.events, query.height)
            .map_err(internal)?,
    };
    match param_str(params, "order_by", 4).unwrap_or("asc") {
        "asc" | "" => {}
        "desc" => matches.reverse(),
        other => {
            return Err(RpcError::invalid_params(format!(
                "order_by must be asc or desc, got {other:?}"
            )))
        }
    }
    let total = matches.len() as u64;
    let shown = paginate(
        matches,
        param_u64(params, "page", 2)?,
        param_u64(params, "per_page", 3)?,
    )?;
    let mut blocks: BTreeMap<u64, StoredBlock> = BTreeMap::new();
    for (height, _) in &shown {
        if !blocks.contains_key(height) {
            if let Some(b) = ctx.index.block(*height).map_err(internal)? {
                blocks.insert(*height, b);
            }
        }
    }
    let txs = shown
        .iter()
        .filter_map(|(h, i)| blocks.get(h).and_then(|b| tx_response(b, *i)))
        .collect();
    to_value(TxSearch {
        txs,
        total_count: total.to_string(),
    })
}

/// CometBFT paging: `page` from 1 (default 1), `per_page` up to 100 (default 30); a page past
/// the last is an error, an empty list has one (empty) page.
pub(crate) fn paginate<T>(
    items: Vec<T>,
    page: Option<u64>,
    per_page: Option<u64>,
) -> Result<Vec<T>, RpcError> {
    let per_page = per_page.unwrap_or(DEFAULT_PER_PAGE).clamp(1, MAX_PER_PAGE);
    let pages = (items.len() as u64).div_ceil(per_page).max(1);
    let page = page.unwrap_or(1);
    if page == 0 || page > pages {
        return Err(RpcError::invalid_params(format!(
            "page should be within [1, {pages}] range, given {page}"
        )));
    }
    Ok(items
        .into_iter()
        .skip(((page - 1) * per_page) as usize)
        .take(per_page as usize)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_cometbft_conditions() {
        let q =
            parse("message.sender='caspur1x' AND tx.height=5 AND transfer.amount='1ucsp'").unwrap();
        assert_eq!(q.height, Some(5));
        assert_eq!(
            q.events,
            vec![
                "message.sender=caspur1x".to_string(),
                "transfer.amount=1ucsp".into()
            ]
        );
        assert!(parse("tx.height>5").is_err());
        assert!(parse("sender='x'").is_err());
        assert!(parse("tx.height='x'").is_err());
    }
}
