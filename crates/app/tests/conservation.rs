//! Properties over random operation sequences: the total supply never changes (no operation here
//! mints or burns), every account's coins plus its stake add up, and exporting the state to
//! genesis and importing it reproduces the same module state, byte for byte.

// Tests fail loudly: the workspace denies these outside tests only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use caspur_app::modules::gov::GovParams;
use caspur_app::{AppGenesis, BlockInfo};
use caspur_store::{MemState, Overlay};
use caspur_types::sign::to_any;
use common::*;
use cosmos_sdk_proto::cosmos::gov::v1 as gov;

/// A small deterministic generator (xorshift64*), so a failing seed replays.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn key(&mut self) -> u8 {
        1 + self.below(4) as u8
    }
}

fn send(from: u8, to: u8, amount: u128) -> cosmos_sdk_proto::Any {
    to_any(
        "/cosmos.bank.v1beta1.MsgSend",
        &cosmos_sdk_proto::cosmos::bank::v1beta1::MsgSend {
            from_address: addr(from).to_string(),
            to_address: addr(to).to_string(),
            amount: vec![caspur_types::Coin::new("ucsp", amount).to_proto()],
        },
    )
}

fn proposal(from: u8) -> cosmos_sdk_proto::Any {
    to_any(
        "/cosmos.gov.v1.MsgSubmitProposal",
        &gov::MsgSubmitProposal {
            messages: Vec::new(),
            initial_deposit: vec![caspur_types::Coin::new("ucsp", 10_000_000).to_proto()],
            proposer: addr(from).to_string(),
            metadata: String::new(),
            title: "signal".into(),
            summary: "a text proposal".into(),
            expedited: false,
        },
    )
}

fn vote(voter: u8, id: u64, option: i32) -> cosmos_sdk_proto::Any {
    to_any(
        "/cosmos.gov.v1.MsgVote",
        &gov::MsgVote {
            proposal_id: id,
            voter: addr(voter).to_string(),
            option,
            metadata: String::new(),
        },
    )
}

/// Runs `steps` random operations (valid or not) on a fresh chain; returns it with the number
/// of txs that succeeded.
fn random_chain(seed: u64, steps: usize) -> (Chain, usize) {
    let mut rng = Rng(seed | 1);
    let mut chain = Chain::new(Default::default());
    let mut proposals = 0u64;
    let mut succeeded = 0;
    for _ in 0..steps {
        let (k, other) = (rng.key(), rng.key());
        let amount = 1 + rng.below(3_000_000_000) as u128;
        let msg = match rng.below(9) {
            0 => send(k, other, amount),
            1 | 2 => delegate(k, rng.key(), amount),
            3 => undelegate(k, rng.key(), amount / 2),
            4 => redelegate(k, rng.key(), rng.key(), amount / 3),
            5 => create_validator(k, 1_000_000 + amount),
            6 => {
                proposals += 1;
                proposal(k)
            }
            7 => vote(k, 1 + rng.below(proposals.max(1)), 1 + rng.below(3) as i32),
            _ => {
                // Time passes: unbondings mature, voting periods end.
                chain.block(
                    Vec::new(),
                    rng.below(3 * GovParams::default().voting_period_secs * 1000),
                );
                continue;
            }
        };
        if chain.run(k, msg).code == 0 {
            succeeded += 1;
        }
    }
    (chain, succeeded)
}

#[test]
fn supply_is_conserved_across_random_operation_sequences() {
    for seed in 1..=12u64 {
        let (chain, succeeded) = random_chain(seed * 7919, 60);
        assert!(
            succeeded >= 15,
            "seed {seed}: only {succeeded} operations succeeded"
        );
        assert_eq!(chain.supply(), 4 * FUNDS, "seed {seed}");
        let held: u128 = chain
            .state
            .0
            .iter()
            .filter(|(k, _)| k.starts_with(&caspur_app::modules::bank::state::BALANCE))
            .map(|(_, v)| caspur_app::modules::bank::state::decode_amount(v).unwrap())
            .sum();
        assert_eq!(
            held,
            4 * FUNDS,
            "seed {seed}: balances must add up to the supply"
        );
    }
}

#[test]
fn export_then_import_reproduces_the_module_state() {
    for seed in [3u64, 11, 29] {
        let (chain, _) = random_chain(seed, 40);
        let exported = futures::executor::block_on(AppGenesis::export(&chain.state)).unwrap();
        // Through JSON, as an operator would carry it.
        let json = serde_json::to_string(&exported).unwrap();
        let imported: AppGenesis = serde_json::from_str(&json).unwrap();
        let fresh = futures::executor::block_on(async {
            let base = MemState::default();
            let mut o = Overlay::new(&base);
            let first = BlockInfo {
                height: 1,
                time_ms: chain.time_ms,
            };
            imported.init(&mut o, &first, CHAIN).await.unwrap();
            let mut m = MemState::default();
            m.apply(&o.into_writes());
            m
        });
        // Block bookkeeping (`0x00 …`: last results, height, time, next validator set) belongs
        // to the chain's history, not to genesis.
        let modules = |s: &MemState| {
            s.0.iter()
                .filter(|(k, _)| k.first() != Some(&0))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(modules(&fresh), modules(&chain.state), "seed {seed}");
        // And the imported chain exports the same genesis again (a fixed point).
        let again = futures::executor::block_on(AppGenesis::export(&fresh)).unwrap();
        assert_eq!(
            serde_json::to_value(&again).unwrap(),
            serde_json::to_value(&exported).unwrap(),
            "seed {seed}"
        );
    }
}
