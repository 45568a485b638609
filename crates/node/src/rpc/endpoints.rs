//! `GET /` of the RPC: the available methods with their parameters, as CometBFT's page lists
//! them.

/// The JSON-RPC methods with their parameters, as `GET /` lists them (CometBFT's page of
/// available endpoints); a test checks that each is dispatched.
pub const METHODS: &[(&str, &str)] = &[
    ("abci_info", ""),
    ("abci_query", "path, data, height, prove"),
    ("block", "height"),
    ("block_by_hash", "hash"),
    ("block_results", "height"),
    ("block_search", "query, page, per_page, order_by"),
    ("blockchain", "minHeight, maxHeight"),
    ("broadcast_tx_async", "tx"),
    ("broadcast_tx_commit", "tx"),
    ("broadcast_tx_sync", "tx"),
    ("check_tx", "tx"),
    ("commit", "height"),
    ("consensus_params", "height"),
    ("consensus_state", ""),
    ("genesis", ""),
    ("genesis_chunked", "chunk"),
    ("header", "height"),
    ("header_by_hash", "hash"),
    ("health", ""),
    ("net_info", ""),
    ("num_unconfirmed_txs", ""),
    ("status", ""),
    ("tx", "hash, prove"),
    ("tx_search", "query, prove, page, per_page, order_by"),
    ("unconfirmed_txs", "limit"),
    ("validators", "height, page, per_page"),
];

/// `GET /`: the available endpoints, as CometBFT lists them.
pub(crate) async fn page() -> axum::response::Html<String> {
    let mut page = String::from("<html><body><br>Available endpoints:<br>");
    for (method, params) in METHODS {
        let query = params
            .split(", ")
            .filter(|p| !p.is_empty())
            .map(|p| format!("{p}=_"))
            .collect::<Vec<_>>()
            .join("&");
        let href = if query.is_empty() {
            format!("/{method}")
        } else {
            format!("/{method}?{query}")
        };
        page.push_str(&format!("<a href=\"{href}\">{href}</a></br>"));
    }
    page.push_str(
        "<br>WebSocket: /websocket (subscribe, unsubscribe, unsubscribe_all)</body></html>",
    );
    axum::response::Html(page)
}
