//! The metrics CometBFT serves, under its names and types (namespace `cometbft_`, label
//! `chain_id`), fed from finalized blocks, the mempool and the node's sync state: what
//! Grafana dashboards and alert rules written for CometBFT chains read.

use super::exposition::PlainCounter;
use caspur_app::validators::Validator;
use caspur_consensus::FinalizedBlock;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets_range, Histogram};
use prometheus_client::registry::Registry;

/// The label of the per-validator gauges: this node's own validator only (CometBFT's
/// `validator_address`, upper-case hex), so the cardinality is one.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ValidatorLabel {
    /// The validator's CometBFT address.
    pub validator_address: String,
}

/// The `cometbft_*` families.
#[derive(Clone, Debug)]
pub struct CometMetrics {
    height: Gauge,
    latest_block_height: Gauge,
    block_interval_seconds: Histogram,
    num_txs: Gauge,
    total_txs: Gauge,
    block_size_bytes: Gauge,
    rounds: Gauge,
    validators: Gauge,
    validators_power: Gauge,
    missing_validators: Gauge,
    missing_validators_power: Gauge,
    byzantine_validators: Gauge,
    byzantine_validators_power: Gauge,
    validator_missed_blocks: Family<ValidatorLabel, Gauge>,
    validator_last_signed_height: Family<ValidatorLabel, Gauge>,
    validator_power: Family<ValidatorLabel, Gauge>,
    /// Txs held by the mempool.
    pub mempool_size: Gauge,
    /// Bytes held by the mempool.
    pub mempool_size_bytes: Gauge,
    /// Txs CheckTx refused.
    pub mempool_failed_txs: PlainCounter,
    /// Txs evicted because a re-check after a block refused them.
    pub mempool_evicted_txs: PlainCounter,
    /// Txs re-checked after blocks.
    pub mempool_recheck_times: PlainCounter,
    /// Peers connected.
    pub p2p_peers: Gauge,
    /// 1 while the node replays blocks to catch up.
    pub blocksync_syncing: Gauge,
    /// 1 while the node restores a state snapshot to catch up.
    pub statesync_syncing: Gauge,
}

/// The consensus address of a key (first 20 bytes of its SHA-256), upper-case hex.
pub fn address_of(key: &[u8; 32]) -> String {
    use sha2::{Digest, Sha256};
    hex::encode_upper(&Sha256::digest(key)[..20])
}

fn power_of(set: &[Validator], keys: &[[u8; 32]]) -> u64 {
    set.iter()
        .filter(|v| keys.contains(&v.pub_key))
        .map(|v| v.power)
        .sum()
}

impl CometMetrics {
    /// Registers the families in `r` (a registry prefixed `cometbft`).
    pub fn register(r: &mut Registry) -> Self {
        let m = CometMetrics {
            height: Gauge::default(),
            latest_block_height: Gauge::default(),
            block_interval_seconds: Histogram::new(exponential_buckets_range(0.1, 100.0, 8)),
            num_txs: Gauge::default(),
            total_txs: Gauge::default(),
            block_size_bytes: Gauge::default(),
            rounds: Gauge::default(),
            validators: Gauge::default(),
            validators_power: Gauge::default(),
            missing_validators: Gauge::default(),
            missing_validators_power: Gauge::default(),
            byzantine_validators: Gauge::default(),
            byzantine_validators_power: Gauge::default(),
            validator_missed_blocks: Family::default(),
            validator_last_signed_height: Family::default(),
            validator_power: Family::default(),
            mempool_size: Gauge::default(),
            mempool_size_bytes: Gauge::default(),
            mempool_failed_txs: PlainCounter::default(),
            mempool_evicted_txs: PlainCounter::default(),
            mempool_recheck_times: PlainCounter::default(),
            p2p_peers: Gauge::default(),
            blocksync_syncing: Gauge::default(),
            statesync_syncing: Gauge::default(),
        };
        let c = r.sub_registry_with_prefix("consensus");
        c.register("height", "Height of the chain.", m.height.clone());
        c.register(
            "latest_block_height",
            "The latest block height.",
            m.latest_block_height.clone(),
        );
        c.register(
            "block_interval_seconds",
            "Time between this and the last block.",
            m.block_interval_seconds.clone(),
        );
        c.register("num_txs", "Number of transactions.", m.num_txs.clone());
        c.register(
            "total_txs",
            "Total number of transactions.",
            m.total_txs.clone(),
        );
        c.register(
            "block_size_bytes",
            "Size of the block.",
            m.block_size_bytes.clone(),
        );
        c.register("rounds", "Number of rounds.", m.rounds.clone());
        c.register("validators", "Number of validators.", m.validators.clone());
        c.register(
            "validators_power",
            "Total power of all validators.",
            m.validators_power.clone(),
        );
        c.register(
            "missing_validators",
            "Number of validators who did not sign.",
            m.missing_validators.clone(),
        );
        c.register(
            "missing_validators_power",
            "Total power of the missing validators.",
            m.missing_validators_power.clone(),
        );
        c.register(
            "byzantine_validators",
            "Number of validators who tried to double sign.",
            m.byzantine_validators.clone(),
        );
        c.register(
            "byzantine_validators_power",
            "Total power of the byzantine validators.",
            m.byzantine_validators_power.clone(),
        );
        c.register(
            "validator_missed_blocks",
            "Total missed blocks for a validator.",
            m.validator_missed_blocks.clone(),
        );
        c.register(
            "validator_last_signed_height",
            "Last height signed by this validator if the node is a validator.",
            m.validator_last_signed_height.clone(),
        );
        c.register(
            "validator_power",
            "Power of a validator.",
            m.validator_power.clone(),
        );
        let mp = r.sub_registry_with_prefix("mempool");
        mp.register(
            "size",
            "Number of uncommitted transactions in the mempool.",
            m.mempool_size.clone(),
        );
        mp.register(
            "size_bytes",
            "Total size of the mempool in bytes.",
            m.mempool_size_bytes.clone(),
        );
        mp.register(
            "failed_txs",
            "Number of failed transactions.",
            m.mempool_failed_txs.clone(),
        );
        mp.register(
            "evicted_txs",
            "Number of evicted transactions.",
            m.mempool_evicted_txs.clone(),
        );
        mp.register(
            "recheck_times",
            "Number of times transactions are rechecked in the mempool.",
            m.mempool_recheck_times.clone(),
        );
        r.sub_registry_with_prefix("p2p").register(
            "peers",
            "Number of peers.",
            m.p2p_peers.clone(),
        );
        r.sub_registry_with_prefix("blocksync").register(
            "syncing",
            "Whether or not a node is block syncing. 1 if yes, 0 if no.",
            m.blocksync_syncing.clone(),
        );
        r.sub_registry_with_prefix("statesync").register(
            "syncing",
            "Whether or not a node is state syncing. 1 if yes, 0 if no.",
            m.statesync_syncing.clone(),
        );
        m
    }

    /// Creates this node's own validator series at 0 (they exist before its first block).
    pub fn own_validator(&self, key: &[u8; 32]) {
        let label = ValidatorLabel {
            validator_address: address_of(key),
        };
        let _ = self.validator_missed_blocks.get_or_create(&label);
        let _ = self.validator_last_signed_height.get_or_create(&label);
        let _ = self.validator_power.get_or_create(&label);
    }

    /// Records a finalized block. `set` is the validator set of its height, `parent_set` the
    /// one whose certificate over the parent it carries, `interval_secs` the block time since
    /// the parent's (unknown for the first block this node sees), `own` this node's key when
    /// it validates. Returns the (signed, total) power of the parent's certificate.
    pub fn observe_block(
        &self,
        block: &FinalizedBlock,
        set: &[Validator],
        parent_set: &[Validator],
        interval_secs: Option<f64>,
        own: Option<&[u8; 32]>,
    ) -> (u64, u64) {
        let height = block.height as i64;
        self.height.set(height + 1);
        self.latest_block_height.set(height);
        if let Some(secs) = interval_secs {
            self.block_interval_seconds.observe(secs);
        }
        self.num_txs.set(block.txs.len() as i64);
        self.total_txs.inc_by(block.txs.len() as i64);
        self.block_size_bytes.set(block.consensus.size_bytes as i64);
        self.rounds.set(block.consensus.rounds as i64);
        self.validators.set(set.len() as i64);
        self.validators_power
            .set(set.iter().map(|v| v.power).sum::<u64>() as i64);
        let report = &block.consensus.report;
        let (signed, missed) = report
            .liveness
            .as_ref()
            .map_or((&[][..], &[][..]), |l| (&l.signed[..], &l.missed[..]));
        self.missing_validators.set(missed.len() as i64);
        self.missing_validators_power
            .set(power_of(parent_set, missed) as i64);
        let faulty: Vec<[u8; 32]> = report.faults.iter().map(|f| f.pub_key).collect();
        self.byzantine_validators.set(faulty.len() as i64);
        self.byzantine_validators_power
            .set(power_of(set, &faulty) as i64);
        if let Some(own) = own {
            let label = ValidatorLabel {
                validator_address: address_of(own),
            };
            if missed.contains(own) {
                self.validator_missed_blocks.get_or_create(&label).inc();
            }
            if signed.contains(own) {
                self.validator_last_signed_height
                    .get_or_create(&label)
                    .set(height - 1);
            }
            self.validator_power
                .get_or_create(&label)
                .set(power_of(set, std::slice::from_ref(own)) as i64);
        }
        let signed_power = power_of(parent_set, signed);
        (signed_power, signed_power + power_of(parent_set, missed))
    }
}
