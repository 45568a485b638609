//! The Cosmos gRPC server (the SDK's port 9090). Every query runs through the same router as
//! `abci_query` ([`crate::queries`]): the services `cosmos-sdk-proto` has tonic traits for are
//! implemented on them ([`services`]); any other `/package.Service/Method` path (consensus
//! `Params`, Caspur's own modules) is served by [`raw`] with the request bytes as they came.

// tonic's service traits return `Result<_, Status>`; our helpers speak the same type.
#![allow(clippy::result_large_err)]

mod raw;
mod services;

use crate::queries;
use crate::rpc::RpcContext;
use caspur_store::{StateProve, StateScan};
use caspur_types::{ErrorCode, TxError};
use cosmos_sdk_proto::cosmos::auth::v1beta1::query_server::QueryServer as AuthServer;
use cosmos_sdk_proto::cosmos::bank::v1beta1::query_server::QueryServer as BankServer;
use cosmos_sdk_proto::cosmos::base::tendermint::v1beta1::service_server::ServiceServer as BaseServer;
use cosmos_sdk_proto::cosmos::tx::v1beta1::service_server::ServiceServer as TxServer;
use prost::Message;
use std::net::SocketAddr;
use std::sync::Arc;
use tonic::metadata::MetadataMap;
use tonic::{Request, Response, Status};

/// The metadata key carrying the height a query ran at (and, in a request, the height asked).
pub const HEIGHT_HEADER: &str = "x-cosmos-block-height";

/// The gRPC services over the node's RPC context.
pub struct Grpc<S>(Arc<RpcContext<S>>);

impl<S> Clone for Grpc<S> {
    fn clone(&self) -> Self {
        Grpc(self.0.clone())
    }
}

/// Most concurrent gRPC calls on one connection.
pub const GRPC_MAX_STREAMS: u32 = 100;

/// Binds `addr` and serves gRPC until the server fails.
pub async fn serve<S: StateScan + StateProve + Clone + 'static>(
    ctx: Arc<RpcContext<S>>,
    addr: SocketAddr,
) -> Result<(), String> {
    let incoming = tonic::transport::server::TcpIncoming::bind(addr)
        .map_err(|e| format!("cannot listen for gRPC on {addr}: {e}"))?
        .with_nodelay(Some(true));
    tracing::info!(%addr, "gRPC listening");
    let timeout = ctx.limits.request_timeout;
    let grpc = Grpc(ctx);
    let routes = tonic::service::Routes::new(AuthServer::new(grpc.clone()))
        .add_service(BankServer::new(grpc.clone()))
        .add_service(TxServer::new(grpc.clone()))
        .add_service(BaseServer::new(grpc.clone()))
        .into_axum_router()
        .fallback(move |request| raw::query(grpc.clone(), request));
    // Bounded like the JSON-RPC: a slow call gives up after the request timeout, a connection
    // carries at most GRPC_MAX_STREAMS calls at once, dead peers are noticed by keep-alives.
    tonic::transport::Server::builder()
        .timeout(timeout)
        .max_concurrent_streams(Some(GRPC_MAX_STREAMS))
        .concurrency_limit_per_connection(GRPC_MAX_STREAMS as usize)
        .http2_keepalive_interval(Some(timeout))
        .http2_keepalive_timeout(Some(timeout))
        .add_routes(routes.into())
        .serve_with_incoming(incoming)
        .await
        .map_err(|e| format!("gRPC server failed: {e}"))
}

/// The gRPC status of a query error, as the Cosmos SDK maps its errors.
fn status(e: &TxError) -> Status {
    let message = e.log();
    match e.code {
        ErrorCode::UnknownRequest if e.message.starts_with(caspur_app::query::UNKNOWN_PATH) => {
            Status::unimplemented(message)
        }
        ErrorCode::KeyNotFound => Status::not_found(message),
        ErrorCode::TxDecode
        | ErrorCode::InvalidRequest
        | ErrorCode::InvalidAddress
        | ErrorCode::InvalidCoins
        | ErrorCode::InvalidHeight
        | ErrorCode::UnknownRequest => Status::invalid_argument(message),
        ErrorCode::Unauthorized => Status::unauthenticated(message),
        _ => Status::unknown(message),
    }
}

impl<S: StateScan + StateProve + Clone + 'static> Grpc<S> {
    fn latest_height(&self) -> Result<u64, Status> {
        self.0
            .index
            .bounds()
            .map(|b| b.map_or(0, |(_, latest)| latest))
            .map_err(|e| Status::internal(e.to_string()))
    }

    /// Runs the query at `path`; returns its response bytes and the height it ran at. Only
    /// the latest height is served, so a request pinned to another one is refused rather than
    /// answered with the wrong state.
    async fn run_query(
        &self,
        path: &str,
        metadata: &MetadataMap,
        data: &[u8],
    ) -> Result<(Vec<u8>, u64), Status> {
        let latest = self.latest_height()?;
        if let Some(asked) = metadata.get(HEIGHT_HEADER) {
            let asked: u64 = asked
                .to_str()
                .ok()
                .and_then(|h| h.parse().ok())
                .ok_or_else(|| {
                    Status::invalid_argument(format!("{HEIGHT_HEADER} must be a number"))
                })?;
            if asked != 0 && asked != latest {
                return Err(Status::invalid_argument(format!(
                    "queries at height {asked} are not served: only the latest height ({latest}) is kept for queries"
                )));
            }
        }
        let bytes = queries::query(&self.0, path, data)
            .await
            .map_err(|e| status(&e))?;
        Ok((bytes, latest))
    }

    /// A typed query: the request encoded, run at `path`, the response decoded.
    async fn route<Req: Message, Resp: Message + Default>(
        &self,
        path: &str,
        request: Request<Req>,
    ) -> Result<Response<Resp>, Status> {
        let (bytes, height) = self
            .run_query(path, request.metadata(), &request.get_ref().encode_to_vec())
            .await?;
        let decoded =
            Resp::decode(bytes.as_slice()).map_err(|e| Status::internal(e.to_string()))?;
        Ok(with_height(Response::new(decoded), height))
    }
}

/// Adds the height header the SDK sends with every query response.
fn with_height<T>(mut response: Response<T>, height: u64) -> Response<T> {
    if let Ok(value) = height.to_string().parse() {
        response.metadata_mut().insert(HEIGHT_HEADER, value);
    }
    response
}
