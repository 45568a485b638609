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

pub struct Chain {
    pub app: App,
    pub state: MemState,
    pub height: u64,
    pub time_ms: u64,
    /// Fee every tx pays (ucsp).
    pub fee: u128,
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
