//! A chain driven through `App::execute_block` with real signed txs, for module tests: keys
//! 1–4 funded, key 1 running the genesis validator.
#![allow(dead_code)]

use caspur_app::context::Unmetered;
use caspur_app::modules::bank::state::{get_balance, get_supply};
use caspur_app::modules::staking::state as st;
use caspur_app::modules::staking::{GenesisValidator, StakingParams};
use caspur_app::validators::{next_set, Validator as SetMember};
use caspur_app::{App, AppGenesis, BlockInfo, TxResult};
use caspur_store::{MemState, Overlay};
use caspur_types::sign::{sign_tx, to_any, AccountKey, TxParams};
use caspur_types::{Address, Coin};
use cosmos_sdk_proto::cosmos::staking::v1beta1 as pb;

pub const CHAIN: &str = "caspur-staking-1";
pub const FUNDS: u128 = 1_000_000_000_000;
pub const GENESIS_SELF: u128 = 10_000_000_000;
pub const DAY_MS: u64 = 24 * 3600 * 1000;

pub fn key(n: u8) -> AccountKey {
    AccountKey::from_secret(&[n; 32]).unwrap()
}

pub fn addr(n: u8) -> Address {
    key(n).address()
}

pub fn valoper(n: u8) -> String {
    st::valoper(&addr(n))
}

pub fn coin(amount: u128) -> Option<cosmos_sdk_proto::cosmos::base::v1beta1::Coin> {
    Some(Coin::new("ucsp", amount).to_proto())
}

#[derive(Clone)]
pub struct Chain {
    pub app: App,
    pub state: MemState,
    pub height: u64,
    pub time_ms: u64,
    /// Fee every tx pays (ucsp).
    pub fee: u128,
    /// Every block executed, in order: what a replay needs.
    pub blocks: Vec<(BlockInfo, Vec<Vec<u8>>)>,
}

impl Chain {
    /// Keys 1–4 funded; key 1 runs a genesis validator; `params` for staking.
    pub fn new(params: StakingParams) -> Self {
        Chain::configured(|g| g.staking.params = params)
    }

    /// [`Chain::new`] with default parameters, then `edit` applied to the genesis.
    pub fn configured(edit: impl FnOnce(&mut AppGenesis)) -> Self {
        let mut genesis = AppGenesis::funded(&[addr(1), addr(2), addr(3), addr(4)], FUNDS);
        genesis.staking.validators = vec![GenesisValidator {
            operator: addr(1).to_string(),
            consensus_pubkey: hex::encode([1u8; 32]),
            moniker: "one".into(),
            commission_rate: "0.1".into(),
            self_delegation: GENESIS_SELF.to_string(),
        }];
        edit(&mut genesis);
        let mut chain = Chain {
            app: App::new(CHAIN, None, genesis),
            state: MemState::default(),
            height: 0,
            time_ms: 1_700_000_000_000,
            fee: 0,
            blocks: Vec::new(),
        };
        chain.block(Vec::new(), 0);
        chain
    }

    /// Executes a block `advance_ms` after the previous one.
    pub fn block(&mut self, txs: Vec<Vec<u8>>, advance_ms: u64) -> Vec<TxResult> {
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
        self.blocks.push((info, txs));
        results
    }

    /// A signed tx of `msgs` from key `n` (account number n − 1, as funded in order) with the
    /// account's current sequence.
    pub fn tx(&mut self, n: u8, msgs: Vec<cosmos_sdk_proto::Any>) -> Vec<u8> {
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
                fee: format!("{}ucsp", self.fee).parse().unwrap(),
                gas_limit: 1_000_000,
                memo: String::new(),
                include_pubkey: true,
            },
        )
    }

    /// Runs one tx in its own block (a second apart); returns its result.
    pub fn run(&mut self, n: u8, msg: cosmos_sdk_proto::Any) -> TxResult {
        let raw = self.tx(n, vec![msg]);
        self.block(vec![raw], 1000).remove(0)
    }

    pub fn ok(&mut self, n: u8, msg: cosmos_sdk_proto::Any) -> TxResult {
        let r = self.run(n, msg);
        assert_eq!(r.code, 0, "{}", r.log);
        r
    }

    pub fn read<T>(&self, f: impl AsyncFnOnce(&mut Unmetered<&MemState>) -> T) -> T {
        futures::executor::block_on(f(&mut Unmetered(&self.state)))
    }

    pub fn balance(&self, a: &Address) -> u128 {
        self.read(async |kv| get_balance(kv, a, "ucsp").await.unwrap())
    }

    pub fn supply(&self) -> u128 {
        self.read(async |kv| get_supply(kv, "ucsp").await.unwrap())
    }

    pub fn validator(&self, n: u8) -> st::Validator {
        self.read(async |kv| st::get_validator(kv, &addr(n)).await.unwrap().unwrap())
    }

    pub fn shares_worth(&self, delegator: u8, n: u8) -> u128 {
        let v = self.validator(n);
        let shares = self.read(async |kv| {
            st::get_shares(kv, &addr(delegator), &addr(n))
                .await
                .unwrap()
        });
        caspur_app::modules::staking::delegation::tokens_for(&v, shares).unwrap()
    }

    pub fn next_set(&self) -> Option<Vec<SetMember>> {
        futures::executor::block_on(next_set(&self.state)).unwrap()
    }
}

pub fn delegate(delegator: u8, n: u8, amount: u128) -> cosmos_sdk_proto::Any {
    to_any(
        "/cosmos.staking.v1beta1.MsgDelegate",
        &pb::MsgDelegate {
            delegator_address: addr(delegator).to_string(),
            validator_address: valoper(n),
            amount: coin(amount),
        },
    )
}

pub fn undelegate(delegator: u8, n: u8, amount: u128) -> cosmos_sdk_proto::Any {
    to_any(
        "/cosmos.staking.v1beta1.MsgUndelegate",
        &pb::MsgUndelegate {
            delegator_address: addr(delegator).to_string(),
            validator_address: valoper(n),
            amount: coin(amount),
        },
    )
}

pub fn redelegate(delegator: u8, from: u8, to: u8, amount: u128) -> cosmos_sdk_proto::Any {
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
pub fn create_validator(n: u8, amount: u128) -> cosmos_sdk_proto::Any {
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

pub fn member(n: u8, tokens: u128) -> SetMember {
    SetMember {
        pub_key: [n; 32],
        power: (tokens / st::POWER_REDUCTION) as u64,
    }
}

// Governance helpers.
use caspur_app::modules::gov::state as gs;
use caspur_app::modules::gov::GovParams;
use cosmos_sdk_proto::cosmos::gov::v1 as gov;

/// The default voting period in ms.
pub fn voting_ms() -> u64 {
    GovParams::default().voting_period_secs * 1000
}

/// A gov v1 `MsgSubmitProposal` of `messages` from `proposer` with `deposit` ucsp.
pub fn submit(
    proposer: u8,
    messages: Vec<cosmos_sdk_proto::Any>,
    deposit: u128,
    expedited: bool,
) -> cosmos_sdk_proto::Any {
    to_any(
        "/cosmos.gov.v1.MsgSubmitProposal",
        &gov::MsgSubmitProposal {
            messages,
            initial_deposit: vec![caspur_types::Coin::new("ucsp", deposit).to_proto()],
            proposer: addr(proposer).to_string(),
            metadata: String::new(),
            title: "change staking".into(),
            summary: "a test proposal".into(),
            expedited,
        },
    )
}

/// A gov v1 `MsgVote`.
pub fn vote(voter: u8, id: u64, option: gov::VoteOption) -> cosmos_sdk_proto::Any {
    to_any(
        "/cosmos.gov.v1.MsgVote",
        &gov::MsgVote {
            proposal_id: id,
            voter: addr(voter).to_string(),
            option: option as i32,
            metadata: String::new(),
        },
    )
}

/// Proposal `id` as stored.
pub fn proposal(chain: &Chain, id: u64) -> gov::Proposal {
    chain.read(async |kv| gs::get_proposal(kv, id).await.unwrap().unwrap())
}

/// Proposal `id` of `messages` (submitted by key 2 with `deposit`) passes with the genesis
/// validator's yes (or fails with its no) after the voting period.
pub fn decide(
    chain: &mut Chain,
    messages: Vec<cosmos_sdk_proto::Any>,
    deposit: u128,
    yes: bool,
) -> u64 {
    let r = chain.ok(2, submit(2, messages, deposit, false));
    let id = r
        .events
        .iter()
        .find(|e| e.kind == "submit_proposal")
        .and_then(|e| e.attributes.iter().find(|a| a.key == "proposal_id"))
        .map(|a| a.value.parse().unwrap())
        .unwrap();
    let option = if yes {
        gov::VoteOption::Yes
    } else {
        gov::VoteOption::No
    };
    chain.ok(1, vote(1, id, option));
    chain.block(Vec::new(), voting_ms());
    id
}

/// A proposal's status.
pub fn status(p: &gov::Proposal) -> gov::ProposalStatus {
    gov::ProposalStatus::try_from(p.status).unwrap()
}

// dCERT helpers.
use caspur_types::proto::dcert::v1 as dpb;

/// Key `n`'s X25519 secret for sealed incident reports (deterministic).
pub fn encryption_secret(n: u8) -> caspur_types::seal::SecretKey {
    caspur_types::seal::SecretKey::parse(&hex::encode([n.wrapping_add(100); 32])).unwrap()
}

/// Members `ns` with their public keys for sealing reports.
pub fn recipients(ns: &[u8]) -> Vec<(String, caspur_types::seal::PublicKey)> {
    ns.iter()
        .map(|n| {
            (
                addr(*n).to_string(),
                encryption_secret(*n).public().unwrap(),
            )
        })
        .collect()
}

/// `reporter`'s `MsgReportIncident` of `text` sealed to members `to`, and the disclosure the
/// reporter keeps.
pub fn report_incident(
    reporter: u8,
    to: &[u8],
    text: &str,
) -> (
    cosmos_sdk_proto::Any,
    caspur_types::proto::incident::v1::Disclosure,
) {
    use caspur_types::proto::incident::v1 as ipb;
    use caspur_types::seal;
    let (sealed, disclosure) = seal::seal(text.as_bytes(), &recipients(to)).unwrap();
    let msg = ipb::MsgReportIncident {
        reporter: addr(reporter).to_string(),
        severity_claim: ipb::Severity::High as i32,
        public_title: "consensus issue".into(),
        sealed_report: Some(sealed),
        commitment: seal::commitment(&disclosure.salt, &disclosure.report),
    };
    (
        to_any("/caspur.incident.v1.MsgReportIncident", &msg),
        disclosure,
    )
}

/// `MsgAcceptCandidacy` of `n`.
pub fn accept(n: u8) -> cosmos_sdk_proto::Any {
    to_any(
        "/caspur.dcert.v1.MsgAcceptCandidacy",
        &dpb::MsgAcceptCandidacy {
            candidate: addr(n).to_string(),
            description: format!("candidate {n}"),
            encryption_key: encryption_secret(n).public().unwrap().to_hex(),
        },
    )
}

/// `MsgBondDcert` of `amount` from `staker` for `candidate`.
pub fn bond(staker: u8, candidate: u8, amount: u128) -> cosmos_sdk_proto::Any {
    to_any(
        "/caspur.dcert.v1.MsgBondDcert",
        &dpb::MsgBondDcert {
            staker: addr(staker).to_string(),
            candidate: addr(candidate).to_string(),
            amount: coin(amount),
        },
    )
}

/// `MsgVoteDcert` of `voter` with (candidate, weight) preferences.
pub fn dcert_vote(voter: u8, prefs: &[(u8, &str)]) -> cosmos_sdk_proto::Any {
    to_any(
        "/caspur.dcert.v1.MsgVoteDcert",
        &dpb::MsgVoteDcert {
            voter: addr(voter).to_string(),
            preferences: prefs
                .iter()
                .map(|(c, w)| dpb::Preference {
                    candidate: addr(*c).to_string(),
                    weight: w.to_string(),
                })
                .collect(),
        },
    )
}

/// Smallest dCERT bond in the dCERT tests.
pub const MIN_BOND: u128 = 1_000_000;

/// Keys 1–12 funded, validator 1 at genesis, dCERT with `params`.
pub fn dcert_chain(params: caspur_app::modules::dcert::DcertParams) -> Chain {
    dcert_chain_with(params, |_| {})
}

/// [`dcert_chain`], then `edit` applied to the genesis.
pub fn dcert_chain_with(
    params: caspur_app::modules::dcert::DcertParams,
    edit: impl FnOnce(&mut AppGenesis),
) -> Chain {
    Chain::configured(|g| {
        let mut fresh = AppGenesis::funded(&(1..=12).map(addr).collect::<Vec<_>>(), FUNDS);
        fresh.staking = g.staking.clone();
        fresh.dcert.params = params;
        edit(&mut fresh);
        *g = fresh;
    })
}

/// Candidates `ns` accept and bond the minimum.
pub fn candidates(chain: &mut Chain, ns: &[u8]) {
    for &n in ns {
        chain.ok(n, accept(n));
        chain.ok(n, bond(n, n, MIN_BOND));
    }
}

/// Members 5, 6, 7 seated with breaking on and `edit` applied to the dCERT parameters.
pub fn breaking_group(edit: impl FnOnce(&mut caspur_app::modules::dcert::DcertParams)) -> Chain {
    let mut params = caspur_app::modules::dcert::DcertParams {
        max_members: 3,
        min_member_stake: MIN_BOND.to_string(),
        stabilization_period_secs: 0,
        circuit_break_enabled: true,
        ..Default::default()
    };
    edit(&mut params);
    let mut chain = dcert_chain(params);
    candidates(&mut chain, &[5, 6, 7]);
    chain
}

/// dCERT break record `id`.
pub fn break_record(chain: &Chain, id: u64) -> caspur_types::proto::dcert::v1::BreakRecord {
    use caspur_app::modules::dcert::break_state;
    chain.read(async |kv| break_state::require(kv, id).await.unwrap())
}

/// `MsgCircuitBreak` of `routes` by dCERT member key `member`, answering `incident_id` (0: none).
pub fn member_break(member: u8, routes: &[&str], incident_id: u64) -> cosmos_sdk_proto::Any {
    to_any(
        "/caspur.dcert.v1.MsgCircuitBreak",
        &dpb::MsgCircuitBreak {
            member: addr(member).to_string(),
            routes: routes.iter().map(|r| r.to_string()).collect(),
            reason: "exploit in progress".into(),
            incident_id,
        },
    )
}

/// The broken-route record of `route`, if it is broken.
pub fn broken_route(
    chain: &Chain,
    route: &str,
) -> Option<caspur_app::modules::circuit::state::BrokenRoute> {
    use caspur_app::modules::circuit::state as circuit;
    chain.read(async |kv| circuit::get_broken(kv, route).await.unwrap())
}

/// Members as (key number, sequence), sorted.
pub fn members(chain: &Chain) -> Vec<(u8, u64)> {
    let list = chain.read(async |kv| {
        caspur_app::modules::dcert::state::members(kv)
            .await
            .unwrap()
    });
    let mut out: Vec<(u8, u64)> = list
        .iter()
        .map(|(a, seq)| ((1..=12u8).find(|n| addr(*n) == *a).unwrap(), *seq))
        .collect();
    out.sort();
    out
}

/// Members' key numbers, sorted.
pub fn member_ids(chain: &Chain) -> Vec<u8> {
    members(chain).into_iter().map(|(n, _)| n).collect()
}

/// A `MsgMultiSend` of 1 ucsp from key `from` to key `to`.
pub fn multi_send(from: u8, to: u8) -> cosmos_sdk_proto::Any {
    use cosmos_sdk_proto::cosmos::bank::v1beta1 as bank;
    let one = || vec![caspur_types::Coin::new("ucsp", 1).to_proto()];
    to_any(
        "/cosmos.bank.v1beta1.MsgMultiSend",
        &bank::MsgMultiSend {
            inputs: vec![bank::Input {
                address: addr(from).to_string(),
                coins: one(),
            }],
            outputs: vec![bank::Output {
                address: addr(to).to_string(),
                coins: one(),
            }],
        },
    )
}

/// A `MsgSend` of 1 ucsp from key `from` to key `to`.
pub fn send(from: u8, to: u8) -> cosmos_sdk_proto::Any {
    to_any(
        caspur_types::sign::MSG_SEND_URL,
        &cosmos_sdk_proto::cosmos::bank::v1beta1::MsgSend {
            from_address: addr(from).to_string(),
            to_address: addr(to).to_string(),
            amount: vec![caspur_types::Coin::new("ucsp", 1).to_proto()],
        },
    )
}

/// An authz `MsgExec` of `msgs` by key `grantee`.
pub fn exec(grantee: u8, msgs: Vec<cosmos_sdk_proto::Any>) -> cosmos_sdk_proto::Any {
    to_any(
        "/cosmos.authz.v1beta1.MsgExec",
        &cosmos_sdk_proto::cosmos::authz::v1beta1::MsgExec {
            grantee: addr(grantee).to_string(),
            msgs,
        },
    )
}

/// CheckTx of `msgs` from key `n` against the chain's state.
pub fn check_tx(
    chain: &mut Chain,
    n: u8,
    msgs: Vec<cosmos_sdk_proto::Any>,
) -> Result<(), caspur_types::TxError> {
    let raw = chain.tx(n, msgs);
    let next = BlockInfo {
        height: chain.height + 1,
        time_ms: chain.time_ms + 1000,
    };
    futures::executor::block_on(async {
        let mut o = Overlay::new(&chain.state);
        chain
            .app
            .check_tx(&mut o, &raw, &next, None)
            .await
            .map(|_| ())
    })
}

/// Simulate (as wallets call it) of `msgs` from key `n` against the chain's state.
pub fn simulate(
    chain: &mut Chain,
    n: u8,
    msgs: Vec<cosmos_sdk_proto::Any>,
) -> Result<(), caspur_types::TxError> {
    use prost::Message as _;
    let request = cosmos_sdk_proto::cosmos::tx::v1beta1::SimulateRequest {
        tx_bytes: chain.tx(n, msgs),
        ..Default::default()
    }
    .encode_to_vec();
    let next = BlockInfo {
        height: chain.height + 1,
        time_ms: chain.time_ms + 1000,
    };
    futures::executor::block_on(chain.app.simulate(&chain.state, &request, &next)).map(|_| ())
}

/// Replays `blocks` with `app` into a fresh QMDB store (the deterministic runtime); per block,
/// the app hash and the results.
pub fn replay_into_qmdb(
    app: &App,
    blocks: &[(BlockInfo, Vec<Vec<u8>>)],
) -> Vec<([u8; 32], Vec<TxResult>)> {
    use commonware_runtime::{deterministic, Runner as _, Supervisor as _};
    let app = app.clone();
    let blocks = blocks.to_vec();
    deterministic::Runner::default().start(|ctx| async move {
        let mut store = caspur_store::qmdb::DirectStore::open(ctx.child("replay"), "replay")
            .await
            .unwrap();
        let mut out = Vec::new();
        for (info, txs) in &blocks {
            let mut overlay = Overlay::new(&store);
            let results = app.execute_block(&mut overlay, info, txs).await.unwrap();
            let root = store.apply(overlay.into_writes()).await.unwrap();
            let mut hash = [0u8; 32];
            hash.copy_from_slice(root.as_ref());
            out.push((hash, results));
        }
        out
    })
}
