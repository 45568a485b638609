//! `tx_search` and `block_search`: CometBFT's query language ([`super::query_lang`]) over
//! the index, with CometBFT's paging (`page` from 1, `per_page` up to 100, default 30;
//! `order_by` `asc` or `desc`) and a `total_count` of every match.

use super::query_lang::{self, Parsed};
use super::types::{block_response, TxSearch};
use super::{param_str, param_u64, to_value, tx_response, RpcContext, RpcError};
use crate::index::{AttrCondition, EventTable, SearchError, StoredBlock};
use serde_json::{json, Value};
use std::collections::BTreeMap;

const DEFAULT_PER_PAGE: u64 = 30;
const MAX_PER_PAGE: u64 = 100;

/// Parses a `tx_search` query (the fuzz target's door).
pub(crate) fn parse(query: &str) -> Result<Parsed, RpcError> {
    query_lang::parse(query, "tx.height")
}

fn search_error(e: SearchError) -> RpcError {
    match e {
        SearchError::TooBroad => RpcError::invalid_params(e.to_string()),
        SearchError::Index(e) => RpcError::internal(e.to_string()),
    }
}

/// The (height, index) matches of `q` in `table`.
fn matches<S>(
    ctx: &RpcContext<S>,
    table: EventTable,
    q: &Parsed,
) -> Result<Vec<(u64, u32)>, RpcError> {
    let tests: Vec<_> = q.attrs.iter().map(|a| move |v: &str| a.passes(v)).collect();
    let conditions: Vec<AttrCondition<'_>> = q
        .attrs
        .iter()
        .zip(&tests)
        .map(|(a, test)| AttrCondition {
            key: &a.key,
            exact: a.exact(),
            test,
        })
        .collect();
    let heights = q.heights.clone();
    match q.hash {
        // A hash names one tx: the other conditions are checked at its height only.
        Some(hash) => {
            let found = ctx
                .index
                .tx(&hash)
                .map_err(|e| RpcError::internal(e.to_string()))?
                .map(|(b, i)| (b.height, i))
                .filter(|(h, _)| heights.contains(h));
            let Some(found) = found else {
                return Ok(Vec::new());
            };
            let at = ctx
                .index
                .search(table, &conditions, found.0..=found.0)
                .map_err(search_error)?;
            Ok(at.into_iter().filter(|m| *m == found).collect())
        }
        None if conditions.is_empty() && heights == (0..=u64::MAX) => Err(
            RpcError::invalid_params("query needs at least one condition"),
        ),
        None => ctx
            .index
            .search(table, &conditions, heights)
            .map_err(search_error),
    }
}

/// The query, order and page of a search request, applied to its matches.
fn page_of<T>(params: &Value, mut matches: Vec<T>) -> Result<(u64, Vec<T>), RpcError> {
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
    Ok((total, shown))
}

fn query_param(params: &Value) -> Result<&str, RpcError> {
    param_str(params, "query", 0).ok_or_else(|| RpcError::invalid_params("query is required"))
}

/// Answers `tx_search`.
pub(crate) fn tx_search<S>(ctx: &RpcContext<S>, params: &Value) -> Result<Value, RpcError> {
    let query = parse(query_param(params)?)?;
    let found = matches(ctx, EventTable::Tx, &query)?;
    let (total, shown) = page_of(params, found)?;
    let internal = |e: crate::index::IndexError| RpcError::internal(e.to_string());
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

/// Answers `block_search`: blocks by `block.height` and the events of their ends.
pub(crate) fn block_search<S>(ctx: &RpcContext<S>, params: &Value) -> Result<Value, RpcError> {
    let query = query_lang::parse(query_param(params)?, "block.height")?;
    let found = matches(ctx, EventTable::Block, &query)?;
    let (total, shown) = page_of(params, found)?;
    let mut blocks = Vec::with_capacity(shown.len());
    for (height, _) in shown {
        let b = ctx
            .index
            .block(height)
            .map_err(|e| RpcError::internal(e.to_string()))?;
        if let Some(b) = b {
            let r = block_response(&ctx.facts, &b);
            blocks.push(json!({"block_id": r.block_id, "block": r.block}));
        }
    }
    Ok(json!({"blocks": blocks, "total_count": total.to_string()}))
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
