//! Incident webhooks (SPEC §5): every incident event of a committed block — and every alert
//! the node fires or resolves (`alert.firing`, `alert.resolved`, read from the alert journal
//! with a cursor of their own) — is POSTed to each destination in `[[incidents.webhooks]]`, signed the Standard Webhooks way
//! ([`signing`]), rendered for the destination ([`render`]), retried with exponential
//! backoff, paced by a per-destination rate limit that honours `429 Retry-After`, and written
//! to a dead-letter file after the last try.
//!
//! Each destination is its own task reading committed blocks from the block index by height
//! — the chain's own record is the queue. Its position (height and event) is persisted in
//! `data/webhooks/<n>-<url hash>.cursor` after every delivery, so a restart resumes where it
//! stopped (the queue is rebuilt from the chain's events, not kept in memory) and nothing is
//! lost while the node runs or across restarts; a new destination starts at the chain's tip.
//! Only one block's events are in memory at a time, requests time out, and nothing waits on a
//! destination but its own task: a receiver that is down, slow or hostile cannot slow block
//! production.

mod delivery;
pub mod render;
pub mod signing;

use std::path::PathBuf;
use std::time::Duration;

pub use delivery::{spawn, AlertSource};
pub use render::Format;
pub use signing::Secret;

/// Most webhook destinations one node may have.
pub const MAX_DESTINATIONS: usize = 16;
/// Longest `Retry-After` a destination may ask for (a longer one is shortened to this).
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);
/// Longest backoff between two tries.
pub const MAX_BACKOFF: Duration = Duration::from_secs(300);

/// One destination.
#[derive(Clone, Debug)]
pub struct Destination {
    /// Where to POST (http or https).
    pub url: String,
    /// The message format.
    pub format: Format,
    /// Signing secrets (each signs; several allow rotation).
    pub secrets: Vec<Secret>,
    /// Telegram's `chat_id` (Telegram format only).
    pub chat_id: String,
    /// Most requests per minute to this destination.
    pub max_per_minute: u32,
}

/// Every destination and how deliveries behave.
#[derive(Clone, Debug)]
pub struct WebhookSettings {
    /// The destinations.
    pub destinations: Vec<Destination>,
    /// One request's timeout (connect included).
    pub timeout: Duration,
    /// Tries per event before it goes to the dead-letter file.
    pub max_attempts: u32,
    /// The first retry's delay; each next one doubles (up to [`MAX_BACKOFF`]).
    pub retry_base: Duration,
    /// Where cursors and the dead-letter file live (`data/webhooks`).
    pub dir: PathBuf,
    /// The chain id (in messages and `webhook-id`s).
    pub chain_id: String,
    /// Base URL of the node's public incident pages.
    pub base_url: String,
}

/// The dead-letter file in `dir`.
pub fn dead_letter_path(dir: &std::path::Path) -> PathBuf {
    dir.join("dead-letter.jsonl")
}
