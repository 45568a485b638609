//! Staking through real signed txs and whole blocks: delegation, undelegation (maturing exactly
//! at its completion time), redelegation and its no-hop rule, cancelled unbondings, the bonded
//! set and its hand-over to consensus, and supply conservation.

use caspur_app::context::Unmetered;
use caspur_app::modules::bank::state::{get_balance, get_supply};
use caspur_app::modules::staking::delegation::{bonded_pool, not_bonded_pool};
use caspur_app::modules::staking::state::{self as st, Status};
use caspur_app::modules::staking::{GenesisValidator, StakingParams};
use caspur_app::validators::{next_set, Validator as SetMember};
use caspur_app::{App, AppGenesis, BlockInfo, TxResult};
use caspur_store::{MemState, Overlay};
use caspur_types::sign::{sign_tx, to_any, AccountKey, TxParams};
use caspur_types::{Address, Coin};
use cosmos_sdk_proto::cosmos::staking::v1beta1 as pb;

const CHAIN: &str = "caspur-staking-1";
const FUNDS: u128 = 1_000_000_000_000;
const GENESIS_SELF: u128 = 10_000_000_000;
const DAY_MS: u64 = 24 * 3600 * 1000;

fn key(n: u8) -> AccountKey {
    AccountKey::from_secret(&[n; 32]).unwrap()
}

fn addr(n: u8) -> Address {
    key(n).address()
}

fn valoper(n: u8) -> String {
    st::valoper(&addr(n))
}

fn coin(amount: u128) -> Option<cosmos_sdk_proto::cosmos::base::v1beta1::Coin> {
    Some(Coin::new("ucsp", amount).to_proto())
}

struct Chain {
    app: App,
    state: MemState,
    height: u64,
    time_ms: u64,
}

impl Chain {
    /// Keys 1–4 funded; key 1 runs a genesis validator; `params` for staking.
    fn new(params: StakingParams) -> Self {
        let mut genesis = AppGenesis::funded(&[addr(1), addr(2), addr(3), addr(4)], FUNDS);
        genesis.staking.params = params;
        genesis.staking.validators = vec![GenesisValidator {
            operator: addr(1).to_string(),
            consensus_pubkey: hex::encode([1u8; 32]),
            moniker: "one".into(),
            commission_rate: "0.1".into(),
            self_delegation: GENESIS_SELF.to_string(),
        }];
        let mut chain = Chain {
            app: App::new(CHAIN, None, genesis),
            state: MemState::default(),
            height: 0,
            time_ms: 1_700_000_000_000,
        };
        chain.block(Vec::new(), 0);
        chain
    }

    /// Executes a block `advance_ms` after the previous one.
    fn block(&mut self, txs: Vec<Vec<u8>>, advance_ms: u64) -> Vec<TxResult> {
        self.height += 1;
        self.time_ms += advance_ms;
        let info = BlockInfo {
            height: self.height,
            time_ms: self.time_ms,
        };
        let (results, writes) = futures::executor::block_on(async {
            let mut o = Overlay::new(&self.state);
            let results = self.app.execute_block(&mut o, &info, &txs).await.unwrap();
            (results, o.into_writes())
        });
        self.state.apply(&writes);
        results
    }

    /// A signed tx of `msgs` from key `n` (account number n − 1, as funded in order) with the
    /// account's current sequence.
    fn tx(&mut self, n: u8, msgs: Vec<cosmos_sdk_proto::Any>) -> Vec<u8> {
        let sequence = self.read(async |kv| {
            caspur_app::modules::auth::state::get_account(kv, &addr(n))
                .await
                .unwrap()
                .map_or(0, |a| a.sequence)
        });
        sign_tx(
            &key(n),
            msgs,
            &TxParams {
                chain_id: CHAIN.into(),
                account_number: (n - 1) as u64,
                sequence,
                fee: "0ucsp".parse().unwrap(),
                gas_limit: 1_000_000,
                memo: String::new(),
                include_pubkey: true,
            },
        )
    }

    /// Runs one tx in its own block (a second apart); returns its result.
    fn run(&mut self, n: u8, msg: cosmos_sdk_proto::Any) -> TxResult {
        let raw = self.tx(n, vec![msg]);
        self.block(vec![raw], 1000).remove(0)
    }

    fn ok(&mut self, n: u8, msg: cosmos_sdk_proto::Any) -> TxResult {
        let r = self.run(n, msg);
        assert_eq!(r.code, 0, "{}", r.log);
        r
    }

    fn read<T>(&self, f: impl AsyncFnOnce(&mut Unmetered<&MemState>) -> T) -> T {
        futures::executor::block_on(f(&mut Unmetered(&self.state)))
    }

    fn balance(&self, a: &Address) -> u128 {
        self.read(async |kv| get_balance(kv, a, "ucsp").await.unwrap())
    }

    fn supply(&self) -> u128 {
        self.read(async |kv| get_supply(kv, "ucsp").await.unwrap())
    }

    fn validator(&self, n: u8) -> st::Validator {
        self.read(async |kv| st::get_validator(kv, &addr(n)).await.unwrap().unwrap())
    }

    fn shares_worth(&self, delegator: u8, n: u8) -> u128 {
        let v = self.validator(n);
        let shares = self.read(async |kv| {
            st::get_shares(kv, &addr(delegator), &addr(n))
                .await
                .unwrap()
        });
        caspur_app::modules::staking::delegation::tokens_for(&v, shares).unwrap()
    }

    fn next_set(&self) -> Option<Vec<SetMember>> {
        futures::executor::block_on(next_set(&self.state)).unwrap()
    }
}

fn delegate(delegator: u8, n: u8, amount: u128) -> cosmos_sdk_proto::Any {
    to_any(
        "/cosmos.staking.v1beta1.MsgDelegate",
        &pb::MsgDelegate {
            delegator_address: addr(delegator).to_string(),
            validator_address: valoper(n),
            amount: coin(amount),
        },
    )
}

fn undelegate(delegator: u8, n: u8, amount: u128) -> cosmos_sdk_proto::Any {
    to_any(
        "/cosmos.staking.v1beta1.MsgUndelegate",
        &pb::MsgUndelegate {
            delegator_address: addr(delegator).to_string(),
            validator_address: valoper(n),
            amount: coin(amount),
        },
    )
}

fn redelegate(delegator: u8, from: u8, to: u8, amount: u128) -> cosmos_sdk_proto::Any {
    to_any(
        "/cosmos.staking.v1beta1.MsgBeginRedelegate",
        &pb::MsgBeginRedelegate {
            delegator_address: addr(delegator).to_string(),
            validator_src_address: valoper(from),
            validator_dst_address: valoper(to),
            amount: coin(amount),
        },
    )
}

#[allow(deprecated)]
fn create_validator(n: u8, amount: u128) -> cosmos_sdk_proto::Any {
    to_any(
        "/cosmos.staking.v1beta1.MsgCreateValidator",
        &pb::MsgCreateValidator {
            description: Some(pb::Description {
                moniker: format!("validator {n}"),
                ..Default::default()
            }),
            commission: Some(pb::CommissionRates {
                rate: "50000000000000000".into(),
                max_rate: "200000000000000000".into(),
                max_change_rate: "10000000000000000".into(),
            }),
            min_self_delegation: "1000000".into(),
            delegator_address: String::new(),
            validator_address: valoper(n),
            pubkey: Some(cosmos_sdk_proto::Any {
                type_url: st::ED25519_KEY_URL.into(),
                value: prost::Message::encode_to_vec(
                    &cosmos_sdk_proto::cosmos::crypto::ed25519::PubKey { key: vec![n; 32] },
                ),
            }),
            value: coin(amount),
        },
    )
}

fn member(n: u8, tokens: u128) -> SetMember {
    SetMember {
        pub_key: [n; 32],
        power: (tokens / st::POWER_REDUCTION) as u64,
    }
}

#[test]
fn the_genesis_validator_is_bonded_and_handed_to_consensus() {
    let chain = Chain::new(StakingParams::default());
    let v = chain.validator(1);
    assert_eq!(v.status, Status::Bonded);
    assert_eq!(v.tokens, GENESIS_SELF);
    assert_eq!(chain.balance(&bonded_pool()), GENESIS_SELF);
    assert_eq!(chain.balance(&addr(1)), FUNDS - GENESIS_SELF);
    assert_eq!(chain.next_set(), Some(vec![member(1, GENESIS_SELF)]));
    assert_eq!(chain.supply(), 4 * FUNDS);
}

#[test]
fn delegation_and_undelegation_move_the_right_amounts_and_mature_exactly_on_time() {
    let mut chain = Chain::new(StakingParams::default());
    let unbonding = StakingParams::default().unbonding_time_ms();
    chain.ok(2, delegate(2, 1, 5_000_000));
    assert_eq!(chain.balance(&addr(2)), FUNDS - 5_000_000);
    assert_eq!(chain.shares_worth(2, 1), 5_000_000);
    assert_eq!(chain.validator(1).tokens, GENESIS_SELF + 5_000_000);
    assert_eq!(chain.balance(&bonded_pool()), GENESIS_SELF + 5_000_000);

    let r = chain.ok(2, undelegate(2, 1, 2_000_000));
    let completion = chain.time_ms + unbonding;
    let response = undelegate_response(&r);
    assert_eq!(response.amount.unwrap().amount, "2000000");
    assert_eq!(chain.shares_worth(2, 1), 3_000_000);
    assert_eq!(chain.balance(&not_bonded_pool()), 2_000_000);
    assert_eq!(chain.balance(&addr(2)), FUNDS - 5_000_000);
    // One millisecond before completion: still unbonding.
    let wait = completion - chain.time_ms - 1;
    chain.block(Vec::new(), wait);
    assert_eq!(chain.balance(&addr(2)), FUNDS - 5_000_000);
    // At completion: paid.
    chain.block(Vec::new(), 1);
    assert_eq!(chain.time_ms, completion);
    assert_eq!(chain.balance(&addr(2)), FUNDS - 3_000_000);
    assert_eq!(chain.balance(&not_bonded_pool()), 0);
    assert_eq!(chain.supply(), 4 * FUNDS);
}

#[test]
fn a_new_validator_joins_the_set_and_redelegations_cannot_hop() {
    let mut chain = Chain::new(StakingParams::default());
    chain.ok(3, create_validator(3, 4_000_000));
    assert_eq!(chain.validator(3).status, Status::Bonded);
    let mut expected = vec![member(1, GENESIS_SELF), member(3, 4_000_000)];
    expected.sort();
    assert_eq!(chain.next_set(), Some(expected));

    chain.ok(2, delegate(2, 1, 3_000_000));
    let r = chain.ok(2, redelegate(2, 1, 3, 1_000_000));
    assert!(r.events.iter().any(|e| e.kind == "redelegate"));
    assert_eq!(chain.shares_worth(2, 1), 2_000_000);
    assert_eq!(chain.shares_worth(2, 3), 1_000_000);
    assert_eq!(chain.validator(3).tokens, 5_000_000);
    // The redelegated tokens may not move on before the unbonding time passes.
    let hop = chain.run(2, redelegate(2, 3, 1, 500_000));
    assert_ne!(hop.code, 0);
    assert!(
        hop.log
            .contains("redelegation to this validator already in progress"),
        "{}",
        hop.log
    );
    chain.block(Vec::new(), StakingParams::default().unbonding_time_ms());
    chain.ok(2, redelegate(2, 3, 1, 500_000));
    assert_eq!(chain.shares_worth(2, 1), 2_500_000);
    assert_eq!(chain.supply(), 4 * FUNDS);
}

#[test]
fn a_cancelled_unbonding_returns_to_the_delegation() {
    let mut chain = Chain::new(StakingParams::default());
    chain.ok(2, delegate(2, 1, 5_000_000));
    chain.ok(2, undelegate(2, 1, 2_000_000));
    let height = chain.height;
    chain.ok(
        2,
        to_any(
            "/cosmos.staking.v1beta1.MsgCancelUnbondingDelegation",
            &pb::MsgCancelUnbondingDelegation {
                delegator_address: addr(2).to_string(),
                validator_address: valoper(1),
                amount: coin(1_500_000),
                creation_height: height as i64,
            },
        ),
    );
    assert_eq!(chain.shares_worth(2, 1), 4_500_000);
    assert_eq!(chain.balance(&not_bonded_pool()), 500_000);
    chain.block(Vec::new(), StakingParams::default().unbonding_time_ms());
    assert_eq!(chain.balance(&addr(2)), FUNDS - 4_500_000);
    assert_eq!(chain.supply(), 4 * FUNDS);
}

#[test]
fn only_the_strongest_validators_are_bonded_and_the_others_unbond() {
    let params = StakingParams {
        max_validators: 1,
        unbonding_time_secs: 3600,
        ..StakingParams::default()
    };
    let mut chain = Chain::new(params);
    chain.ok(3, create_validator(3, 4_000_000));
    assert_eq!(chain.validator(3).status, Status::Unbonded);
    assert_eq!(chain.next_set(), Some(vec![member(1, GENESIS_SELF)]));
    // Validator 3 outgrows validator 1: they swap.
    chain.ok(4, delegate(4, 3, 2 * GENESIS_SELF));
    assert_eq!(chain.validator(3).status, Status::Bonded);
    assert_eq!(chain.validator(1).status, Status::Unbonding);
    let tokens3 = 4_000_000 + 2 * GENESIS_SELF;
    assert_eq!(chain.next_set(), Some(vec![member(3, tokens3)]));
    assert_eq!(chain.balance(&bonded_pool()), tokens3);
    assert_eq!(chain.balance(&not_bonded_pool()), GENESIS_SELF);
    chain.block(Vec::new(), 3600 * 1000);
    assert_eq!(chain.validator(1).status, Status::Unbonded);
    // Undelegating from an unbonded validator pays out at once (end of the same block).
    chain.ok(1, undelegate(1, 1, 1_000_000));
    assert_eq!(chain.balance(&addr(1)), FUNDS - GENESIS_SELF + 1_000_000);
    assert_eq!(chain.supply(), 4 * FUNDS);
}

#[test]
fn bad_staking_messages_fail_with_clear_errors_and_change_nothing() {
    let mut chain = Chain::new(StakingParams::default());
    let before = (chain.balance(&addr(1)), chain.balance(&addr(2)));
    for (signer, msg, needle) in [
        (2, delegate(2, 4, 1_000), "does not exist"),
        (2, undelegate(2, 1, 1_000), "no delegation"),
        (2, redelegate(2, 1, 1, 1_000), "same validator"),
        (1, create_validator(1, 2_000_000), "already exists"),
        (2, delegate(2, 1, FUNDS + 1), "insufficient funds"),
    ] {
        let r = chain.run(signer, msg);
        assert_ne!(r.code, 0);
        assert!(r.log.contains(needle), "{} lacks {needle:?}", r.log);
    }
    // The genesis validator's consensus key cannot be reused.
    use prost::Message as _;
    let mut reuse =
        pb::MsgCreateValidator::decode(create_validator(2, 2_000_000).value.as_slice()).unwrap();
    reuse.pubkey = Some(cosmos_sdk_proto::Any {
        type_url: st::ED25519_KEY_URL.into(),
        value: prost::Message::encode_to_vec(&cosmos_sdk_proto::cosmos::crypto::ed25519::PubKey {
            key: vec![1; 32],
        }),
    });
    let r = chain.run(
        2,
        to_any("/cosmos.staking.v1beta1.MsgCreateValidator", &reuse),
    );
    assert!(r.log.contains("consensus key"), "{}", r.log);
    assert_eq!((chain.balance(&addr(1)), chain.balance(&addr(2))), before);
    assert_eq!(chain.next_set(), Some(vec![member(1, GENESIS_SELF)]));
}

/// The `MsgUndelegateResponse` in a tx's `TxMsgData`.
fn undelegate_response(r: &TxResult) -> pb::MsgUndelegateResponse {
    use prost::Message as _;
    let data = cosmos_sdk_proto::cosmos::base::abci::v1beta1::TxMsgData::decode(r.data.as_slice())
        .unwrap();
    pb::MsgUndelegateResponse::decode(data.msg_responses[0].value.as_slice()).unwrap()
}

#[test]
fn two_nodes_executing_the_same_blocks_reach_the_same_state() {
    let run = || {
        let mut chain = Chain::new(StakingParams::default());
        chain.ok(3, create_validator(3, 4_000_000));
        chain.ok(2, delegate(2, 3, 7_000_000));
        chain.ok(2, undelegate(2, 3, 1_000_000));
        chain.block(Vec::new(), DAY_MS);
        chain.state
    };
    assert_eq!(run(), run());
}
