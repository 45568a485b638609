//! gRPC for query paths without generated tonic traits: the request message passes through as
//! bytes to the query router, whose response bytes go back as the reply message. Whatever
//! `abci_query` answers, gRPC answers too, without a service definition per module.

use super::{with_height, Grpc};
use bytes::{Buf, BufMut};
use caspur_store::{StateProve, StateScan};
use std::future::Future;
use std::pin::Pin;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::{Request, Response, Status};

/// A codec that leaves messages as bytes.
#[derive(Clone, Copy, Default)]
struct RawCodec;

impl Codec for RawCodec {
    type Encode = Vec<u8>;
    type Decode = Vec<u8>;
    type Encoder = RawCodec;
    type Decoder = RawCodec;

    fn encoder(&mut self) -> Self::Encoder {
        RawCodec
    }

    fn decoder(&mut self) -> Self::Decoder {
        RawCodec
    }
}

impl Encoder for RawCodec {
    type Item = Vec<u8>;
    type Error = Status;

    fn encode(&mut self, item: Vec<u8>, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.put_slice(&item);
        Ok(())
    }
}

impl Decoder for RawCodec {
    type Item = Vec<u8>;
    type Error = Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Vec<u8>>, Status> {
        Ok(Some(src.copy_to_bytes(src.remaining()).to_vec()))
    }
}

/// One call at `path`.
struct RawQuery<S> {
    grpc: Grpc<S>,
    path: String,
}

impl<S: StateScan + StateProve + Clone + 'static> tonic::server::UnaryService<Vec<u8>>
    for RawQuery<S>
{
    type Response = Vec<u8>;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Vec<u8>>, Status>> + Send>>;

    fn call(&mut self, request: Request<Vec<u8>>) -> Self::Future {
        let grpc = self.grpc.clone();
        let path = std::mem::take(&mut self.path);
        Box::pin(async move {
            let (bytes, height) = grpc
                .run_query(&path, request.metadata(), request.get_ref())
                .await?;
            Ok(with_height(Response::new(bytes), height))
        })
    }
}

/// Serves a gRPC request for any path through the query router.
pub async fn query<S: StateScan + StateProve + Clone + 'static>(
    grpc: Grpc<S>,
    request: axum::extract::Request,
) -> axum::http::Response<tonic::body::Body> {
    let path = request.uri().path().to_string();
    tonic::server::Grpc::new(RawCodec)
        .unary(RawQuery { grpc, path }, request)
        .await
}
