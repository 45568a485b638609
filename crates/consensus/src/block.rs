//! The block: consensus context, parent, height, proposer time, txs, and the commitments a
//! verifier recomputes — the tx results hash, the canonical state root (the app hash), the
//! QMDB sync target that glue checks and, on an epoch's last block, the next epoch's
//! validator set; plus the consensus evidence slashing needs (see [`crate::evidence`]).

use crate::evidence::{Certificate, FaultEvidence, MAX_FAULTS, MAX_FAULT_BYTES};
use caspur_app::validators::{self, Validator, MAX_VALIDATORS};
use commonware_codec::{
    Buf, EncodeSize, Error as CodecError, FixedSize, MaxEncodeSize, RangeCfg, Read, ReadExt as _,
    Write,
};
use commonware_consensus::{
    simplex::types::Context, types::Height, Block as ConsensusBlock, BoundedBlock,
    CertifiableBlock, Heightable,
};
use commonware_cryptography::{ed25519, sha256, Digestible, Hasher, Sha256};
use commonware_runtime::BufMut;
use commonware_storage::{merkle::mmr, qmdb::sync::Target};

/// Digest type of blocks and roots.
pub type Digest = sha256::Digest;
/// The consensus context embedded in a block.
pub type BlockContext = Context<Digest, ed25519::PublicKey>;
/// The QMDB sync target a block commits to.
pub type SyncTarget = Target<mmr::Family, Digest>;

/// Most txs in one block.
pub const MAX_BLOCK_TXS: usize = 10_000;
/// Largest tx the block codec accepts (the auth module's `max_tx_bytes` is lower or equal).
pub const MAX_TX_BYTES: usize = 1 << 20;
/// Most tx bytes in one block.
pub const MAX_BLOCK_TX_BYTES: usize = 8 << 20;
/// Most bytes of an encoded validator set (key and power per member).
const SET_BYTES: usize = MAX_VALIDATORS * 40;

/// A Caspur block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Block {
    /// Round, leader and parent as consensus saw them.
    pub context: BlockContext,
    /// Digest of the parent block.
    pub parent: Digest,
    /// Height (genesis is 0).
    pub height: Height,
    /// Proposer's time in ms since the Unix epoch; strictly above the parent's.
    pub time_ms: u64,
    /// Raw txs, in execution order.
    pub txs: Vec<Vec<u8>>,
    /// SHA-256 over the encoded tx results (see `execution::results_hash`).
    pub results_hash: Digest,
    /// Canonical root of state after this block: the app hash.
    pub state_root: Digest,
    /// Ops root and operation range of state after this block (glue's sync target).
    pub target: SyncTarget,
    /// On the last block of an epoch: the validator set of the next epoch as the app left it
    /// (empty: the set stays). Empty on every other block.
    pub next_validators: Vec<Validator>,
    /// The certificate that notarized the parent (who signed it), when the proposer had it.
    pub last_commit: Option<Certificate>,
    /// Proofs of conflicting messages signed by one validator, not yet on chain.
    pub faults: Vec<FaultEvidence>,
}

impl Block {
    /// The proposer's consensus key.
    pub fn proposer(&self) -> &ed25519::PublicKey {
        &self.context.leader
    }
}

impl Write for Block {
    fn write(&self, buf: &mut impl BufMut) {
        self.context.write(buf);
        self.parent.write(buf);
        self.height.write(buf);
        self.time_ms.write(buf);
        self.txs.write(buf);
        self.results_hash.write(buf);
        self.state_root.write(buf);
        self.target.write(buf);
        validators::encode(&self.next_validators).write(buf);
        self.last_commit.write(buf);
        self.faults.write(buf);
    }
}

impl EncodeSize for Block {
    fn encode_size(&self) -> usize {
        self.context.encode_size()
            + self.parent.encode_size()
            + self.height.encode_size()
            + self.time_ms.encode_size()
            + self.txs.encode_size()
            + self.results_hash.encode_size()
            + self.state_root.encode_size()
            + self.target.encode_size()
            + validators::encode(&self.next_validators).encode_size()
            + self.last_commit.encode_size()
            + self.faults.encode_size()
    }
}

impl Read for Block {
    type Cfg = ();

    fn read_cfg(buf: &mut impl Buf, _: &()) -> Result<Self, CodecError> {
        let context = BlockContext::read(buf)?;
        let parent = Digest::read(buf)?;
        let height = Height::read(buf)?;
        let time_ms = u64::read(buf)?;
        let tx_cfg: (RangeCfg<usize>, (RangeCfg<usize>, ())) =
            ((0..=MAX_BLOCK_TXS).into(), ((0..=MAX_TX_BYTES).into(), ()));
        let txs = Vec::<Vec<u8>>::read_cfg(buf, &tx_cfg)?;
        if txs.iter().map(Vec::len).sum::<usize>() > MAX_BLOCK_TX_BYTES {
            return Err(CodecError::Invalid(
                "Block",
                "txs exceed the block byte limit",
            ));
        }
        let results_hash = Digest::read(buf)?;
        let state_root = Digest::read(buf)?;
        let target = SyncTarget::read(buf)?;
        let set_bytes = Vec::<u8>::read_cfg(buf, &((0..=SET_BYTES).into(), ()))?;
        let next_validators = if set_bytes.is_empty() {
            Vec::new()
        } else {
            validators::decode(&set_bytes)
                .map_err(|_| CodecError::Invalid("Block", "malformed validator set"))?
        };
        let last_commit = Option::<Certificate>::read_cfg(buf, &MAX_VALIDATORS)?;
        let faults =
            Vec::<FaultEvidence>::read_cfg(buf, &((0..=MAX_FAULTS).into(), MAX_VALIDATORS))?;
        if !faults.iter().all(crate::evidence::is_fault) {
            return Err(CodecError::Invalid("Block", "evidence that is not a fault"));
        }
        Ok(Block {
            context,
            parent,
            height,
            time_ms,
            txs,
            results_hash,
            state_root,
            target,
            next_validators,
            last_commit,
            faults,
        })
    }
}

impl Digestible for Block {
    type Digest = Digest;

    fn digest(&self) -> Digest {
        use commonware_codec::Encode as _;
        Sha256::hash(&[&self.encode()])
    }
}

impl Heightable for Block {
    fn height(&self) -> Height {
        self.height
    }
}

impl ConsensusBlock for Block {
    fn parent(&self) -> Digest {
        self.parent
    }
}

impl CertifiableBlock for Block {
    type Context = BlockContext;

    fn context(&self) -> BlockContext {
        self.context.clone()
    }
}

impl BoundedBlock for Block {
    fn max_encode_size(_: &()) -> usize {
        // Each tx carries a varint length prefix of at most 5 bytes.
        BlockContext::MAX_ENCODE_SIZE
            + Digest::SIZE
            + Height::MAX_ENCODE_SIZE
            + u64::SIZE
            + 5
            + MAX_BLOCK_TX_BYTES
            + 5 * MAX_BLOCK_TXS
            + 3 * Digest::SIZE
            + 5
            + SET_BYTES
            + 1
            + Certificate::max_encode_size(MAX_VALIDATORS as u32)
            + 5
            + MAX_FAULTS * MAX_FAULT_BYTES
            + commonware_utils::range::NonEmptyRange::<
                commonware_storage::merkle::Location<mmr::Family>,
            >::MAX_ENCODE_SIZE
    }
}
