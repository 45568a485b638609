//! The node layer: mempool, block/tx index, CometBFT JSON-RPC, Cosmos gRPC. It talks to consensus through
//! `TxSource` (the mempool) and `BlockSink` (the indexer) and reads committed state through a
//! state handle; it is the only layer that knows HTTP.

pub mod feeds;
pub mod files;
pub mod grpc;
pub mod header;
pub mod index;
pub mod mempool;
pub mod monitor;
pub mod queries;
pub mod rpc;
pub mod sink;
pub mod webhooks;
