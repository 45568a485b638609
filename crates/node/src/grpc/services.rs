//! The Cosmos SDK services whose tonic traits `cosmos-sdk-proto` generates: auth, bank, tx
//! and tendermint base queries go through [`Grpc::route`] (the `abci_query` router); tx
//! `BroadcastTx` and tendermint `ABCIQuery` are written out. Methods Caspur has no data for
//! answer `UNIMPLEMENTED`.

use super::Grpc;
use crate::queries;
use caspur_app::modules::{auth, bank};
use caspur_store::{StateProve, StateScan};
use caspur_types::TxError;
use cosmos_sdk_proto::cosmos::auth::v1beta1 as auth_pb;
use cosmos_sdk_proto::cosmos::bank::v1beta1 as bank_pb;
use cosmos_sdk_proto::cosmos::base::abci::v1beta1::TxResponse;
use cosmos_sdk_proto::cosmos::base::tendermint::v1beta1 as base_pb;
use cosmos_sdk_proto::cosmos::tx::v1beta1 as tx_pb;
use tonic::{Request, Response, Status};

/// Implements a service trait: `routed` methods go through [`Grpc::route`] at their path,
/// `unsupported` ones answer `UNIMPLEMENTED`, `own` ones are written out.
macro_rules! service {
    (
        impl $service:path, $prefix:literal {
            routed { $($method:ident($req:ty) -> $resp:ty = $path:expr;)* }
            unsupported { $($none:ident($nreq:ty) -> $nresp:ty;)* }
            $($own:tt)*
        }
    ) => {
        #[tonic::async_trait]
        impl<S: StateScan + StateProve + Clone + 'static> $service for Grpc<S> {
            $(async fn $method(&self, request: Request<$req>) -> Result<Response<$resp>, Status> {
                self.route($path, request).await
            })*
            $(async fn $none(&self, _: Request<$nreq>) -> Result<Response<$nresp>, Status> {
                Err(Status::unimplemented(concat!(
                    $prefix, "/", stringify!($none), " is not served by Caspur"
                )))
            })*
            $($own)*
        }
    };
}

service! {
    impl auth_pb::query_server::Query, "cosmos.auth.v1beta1.Query" {
        routed {
            account(auth_pb::QueryAccountRequest) -> auth_pb::QueryAccountResponse
                = auth::query::ACCOUNT_PATH;
            params(auth_pb::QueryParamsRequest) -> auth_pb::QueryParamsResponse
                = auth::query::PARAMS_PATH;
        }
        unsupported {
            accounts(auth_pb::QueryAccountsRequest) -> auth_pb::QueryAccountsResponse;
            account_address_by_id(auth_pb::QueryAccountAddressByIdRequest)
                -> auth_pb::QueryAccountAddressByIdResponse;
            module_accounts(auth_pb::QueryModuleAccountsRequest)
                -> auth_pb::QueryModuleAccountsResponse;
            module_account_by_name(auth_pb::QueryModuleAccountByNameRequest)
                -> auth_pb::QueryModuleAccountByNameResponse;
            bech32_prefix(auth_pb::Bech32PrefixRequest) -> auth_pb::Bech32PrefixResponse;
            address_bytes_to_string(auth_pb::AddressBytesToStringRequest)
                -> auth_pb::AddressBytesToStringResponse;
            address_string_to_bytes(auth_pb::AddressStringToBytesRequest)
                -> auth_pb::AddressStringToBytesResponse;
            account_info(auth_pb::QueryAccountInfoRequest) -> auth_pb::QueryAccountInfoResponse;
        }
    }
}

service! {
    impl bank_pb::query_server::Query, "cosmos.bank.v1beta1.Query" {
        routed {
            balance(bank_pb::QueryBalanceRequest) -> bank_pb::QueryBalanceResponse
                = bank::query::BALANCE_PATH;
            all_balances(bank_pb::QueryAllBalancesRequest) -> bank_pb::QueryAllBalancesResponse
                = bank::query::ALL_BALANCES_PATH;
            total_supply(bank_pb::QueryTotalSupplyRequest) -> bank_pb::QueryTotalSupplyResponse
                = bank::query::TOTAL_SUPPLY_PATH;
        }
        unsupported {
            spendable_balances(bank_pb::QuerySpendableBalancesRequest)
                -> bank_pb::QuerySpendableBalancesResponse;
            spendable_balance_by_denom(bank_pb::QuerySpendableBalanceByDenomRequest)
                -> bank_pb::QuerySpendableBalanceByDenomResponse;
            supply_of(bank_pb::QuerySupplyOfRequest) -> bank_pb::QuerySupplyOfResponse;
            params(bank_pb::QueryParamsRequest) -> bank_pb::QueryParamsResponse;
            denom_metadata(bank_pb::QueryDenomMetadataRequest)
                -> bank_pb::QueryDenomMetadataResponse;
            denom_metadata_by_query_string(bank_pb::QueryDenomMetadataByQueryStringRequest)
                -> bank_pb::QueryDenomMetadataByQueryStringResponse;
            denoms_metadata(bank_pb::QueryDenomsMetadataRequest)
                -> bank_pb::QueryDenomsMetadataResponse;
            denom_owners(bank_pb::QueryDenomOwnersRequest) -> bank_pb::QueryDenomOwnersResponse;
            denom_owners_by_query(bank_pb::QueryDenomOwnersByQueryRequest)
                -> bank_pb::QueryDenomOwnersByQueryResponse;
            send_enabled(bank_pb::QuerySendEnabledRequest) -> bank_pb::QuerySendEnabledResponse;
        }
    }
}

service! {
    impl tx_pb::service_server::Service, "cosmos.tx.v1beta1.Service" {
        routed {
            simulate(tx_pb::SimulateRequest) -> tx_pb::SimulateResponse
                = caspur_app::simulate::SIMULATE_PATH;
            get_tx(tx_pb::GetTxRequest) -> tx_pb::GetTxResponse = queries::GET_TX;
        }
        unsupported {
            get_txs_event(tx_pb::GetTxsEventRequest) -> tx_pb::GetTxsEventResponse;
            get_block_with_txs(tx_pb::GetBlockWithTxsRequest) -> tx_pb::GetBlockWithTxsResponse;
            tx_decode(tx_pb::TxDecodeRequest) -> tx_pb::TxDecodeResponse;
            tx_encode(tx_pb::TxEncodeRequest) -> tx_pb::TxEncodeResponse;
            tx_encode_amino(tx_pb::TxEncodeAminoRequest) -> tx_pb::TxEncodeAminoResponse;
            tx_decode_amino(tx_pb::TxDecodeAminoRequest) -> tx_pb::TxDecodeAminoResponse;
        }
        async fn broadcast_tx(
            &self,
            request: Request<tx_pb::BroadcastTxRequest>,
        ) -> Result<Response<tx_pb::BroadcastTxResponse>, Status> {
            let request = request.into_inner();
            match tx_pb::BroadcastMode::try_from(request.mode) {
                Ok(tx_pb::BroadcastMode::Sync | tx_pb::BroadcastMode::Async) => {}
                #[allow(deprecated)]
                Ok(tx_pb::BroadcastMode::Block) => {
                    return Err(Status::invalid_argument(
                        "BROADCAST_MODE_BLOCK is not supported: broadcast in SYNC mode and poll GetTx",
                    ))
                }
                _ => {
                    return Err(Status::invalid_argument(
                        "broadcast mode must be BROADCAST_MODE_SYNC or BROADCAST_MODE_ASYNC",
                    ))
                }
            }
            let txhash = caspur_types::tx::tx_hash_hex(&request.tx_bytes);
            let (code, codespace, raw_log) = match self.0.mempool.submit(request.tx_bytes).await {
                Ok(_) => (0, String::new(), String::new()),
                Err(e) => (e.code.code(), e.codespace().to_string(), e.log()),
            };
            Ok(Response::new(tx_pb::BroadcastTxResponse {
                tx_response: Some(TxResponse {
                    txhash,
                    code,
                    codespace,
                    raw_log,
                    ..TxResponse::default()
                }),
            }))
        }
    }
}

service! {
    impl base_pb::service_server::Service, "cosmos.base.tendermint.v1beta1.Service" {
        routed {
            get_node_info(base_pb::GetNodeInfoRequest) -> base_pb::GetNodeInfoResponse
                = queries::GET_NODE_INFO;
            get_syncing(base_pb::GetSyncingRequest) -> base_pb::GetSyncingResponse
                = queries::GET_SYNCING;
            get_latest_block(base_pb::GetLatestBlockRequest) -> base_pb::GetLatestBlockResponse
                = queries::GET_LATEST_BLOCK;
            get_block_by_height(base_pb::GetBlockByHeightRequest)
                -> base_pb::GetBlockByHeightResponse = queries::GET_BLOCK_BY_HEIGHT;
            get_latest_validator_set(base_pb::GetLatestValidatorSetRequest)
                -> base_pb::GetLatestValidatorSetResponse = queries::GET_LATEST_VALIDATOR_SET;
            get_validator_set_by_height(base_pb::GetValidatorSetByHeightRequest)
                -> base_pb::GetValidatorSetByHeightResponse
                = queries::GET_VALIDATOR_SET_BY_HEIGHT;
        }
        unsupported {}
        async fn abci_query(
            &self,
            request: Request<base_pb::AbciQueryRequest>,
        ) -> Result<Response<base_pb::AbciQueryResponse>, Status> {
            let request = request.into_inner();
            let latest = self.latest_height()?;
            let outcome = if request.height != 0 && request.height as u64 != latest {
                Err(TxError::invalid_height(format!(
                    "queries at height {} are not served: only the latest height ({latest}) is kept for queries",
                    request.height
                )))
            } else {
                queries::query(&self.0, &request.path, &request.data).await
            };
            let (code, codespace, log, value) = match outcome {
                Ok(value) => (0, String::new(), String::new(), value),
                Err(e) => (e.code.code(), e.codespace().to_string(), e.message, Vec::new()),
            };
            Ok(Response::new(base_pb::AbciQueryResponse {
                code,
                log,
                value,
                height: latest as i64,
                codespace,
                ..base_pb::AbciQueryResponse::default()
            }))
        }
    }
}
