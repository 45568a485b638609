//! One task per destination: read committed blocks by height from the index, turn their
//! incident events into notices, deliver each (pace, sign, POST, retry, dead-letter), and
//! persist the position after each.

use super::render::Notice;
use super::{
    dead_letter_path, signing, Destination, WebhookSettings, MAX_BACKOFF, MAX_RETRY_AFTER,
};
use crate::index::{BlockIndex, StoredBlock};
use crate::rpc::BlockFeed;
use caspur_app::context::Unmetered;
use caspur_app::modules::incident::{state, view};
use caspur_store::StateScan;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// Where a destination is: the next event to deliver is event `event` of block `height`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Cursor {
    height: u64,
    event: usize,
}

fn cursor_path(dir: &Path, n: usize, url: &str) -> PathBuf {
    use sha2::{Digest, Sha256};
    let tag = hex::encode(&Sha256::digest(url.as_bytes())[..4]);
    dir.join(format!("{n}-{tag}.cursor"))
}

fn load_cursor<T: serde::de::DeserializeOwned>(path: &Path) -> Option<T> {
    serde_json::from_slice(&std::fs::read(path).ok()?).ok()
}

fn save_cursor<T: Serialize>(path: &Path, c: T) {
    crate::files::save_json(path, &c, "the webhook cursor");
}

/// Where alert notices come from: the monitor's journal, and its news of a new entry.
#[derive(Clone, Debug)]
pub struct AlertSource {
    /// The journal file.
    pub journal: PathBuf,
    /// Woken on each new entry.
    pub news: Arc<tokio::sync::Notify>,
    /// Where a destination without a cursor starts (only alerts from now on).
    pub next_seq: u64,
    /// The URL notices link to (the node's `/alerts`).
    pub url: String,
}

/// Entries read from the journal at a time.
const ALERT_BATCH: usize = 64;

/// Where an alert delivery is: the next journal entry to send.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
struct AlertCursor {
    seq: u64,
}

/// Starts, per destination, one task delivering incident events and (with `alerts`) one
/// delivering alert transitions; they run until the runtime stops.
pub fn spawn<S: StateScan + Clone + Send + Sync + 'static>(
    settings: WebhookSettings,
    index: Arc<BlockIndex>,
    state: S,
    feed: BlockFeed,
    alerts: Option<AlertSource>,
) -> Vec<tokio::task::JoinHandle<()>> {
    if let Err(e) = std::fs::create_dir_all(&settings.dir) {
        tracing::error!(dir = %settings.dir.display(), error = %e, "webhooks disabled");
        return Vec::new();
    }
    let settings = Arc::new(settings);
    (0..settings.destinations.len())
        .flat_map(|n| {
            let worker = Worker {
                n,
                settings: settings.clone(),
                index: index.clone(),
                state: state.clone(),
            };
            let blocks = feed.subscribe();
            let alert_worker = alerts.clone().map(|a| (worker.clone(), a));
            let incidents = tokio::spawn(async move { worker.run(blocks).await });
            let alerts =
                alert_worker.map(|(w, a)| tokio::spawn(async move { w.run_alerts(a).await }));
            std::iter::once(incidents).chain(alerts)
        })
        .collect()
}

#[derive(Clone)]
struct Worker<S> {
    n: usize,
    settings: Arc<WebhookSettings>,
    index: Arc<BlockIndex>,
    state: S,
}

/// Paces requests: at most `per_minute` a minute.
struct Pace {
    gap: Duration,
    next: Instant,
}

impl Pace {
    fn new(per_minute: u32) -> Self {
        Pace {
            gap: Duration::from_secs(60) / per_minute.max(1),
            next: Instant::now(),
        }
    }

    async fn wait(&mut self) {
        tokio::time::sleep_until(self.next).await;
        self.next = Instant::now() + self.gap;
    }

    /// The destination asked us to wait (429).
    fn hold(&mut self, d: Duration) {
        self.next = self.next.max(Instant::now() + d);
    }
}

impl<S: StateScan + Clone + Send + Sync + 'static> Worker<S> {
    fn dest(&self) -> &Destination {
        &self.settings.destinations[self.n]
    }

    fn client(&self) -> Option<reqwest::Client> {
        reqwest::Client::builder()
            .timeout(self.settings.timeout)
            .connect_timeout(self.settings.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .inspect_err(|e| tracing::error!(url = %self.dest().url, error = %e, "webhook client"))
            .ok()
    }

    /// Delivers the alert journal from this destination's alert cursor on.
    async fn run_alerts(self, source: AlertSource) {
        let dest = self.dest().clone();
        let path =
            cursor_path(&self.settings.dir, self.n, &dest.url).with_extension("alerts-cursor");
        let Some(client) = self.client() else { return };
        let mut cursor = load_cursor(&path).unwrap_or(AlertCursor {
            seq: source.next_seq,
        });
        save_cursor(&path, cursor);
        let mut pace = Pace::new(dest.max_per_minute);
        loop {
            // Registered before reading, so an entry appended meanwhile still wakes us.
            let news = source.news.notified();
            let entries = crate::monitor::alerts::journal::read_from(
                &source.journal,
                cursor.seq,
                ALERT_BATCH,
            );
            if entries.is_empty() {
                tokio::select! {
                    _ = news => {}
                    _ = tokio::time::sleep(Duration::from_secs(5)) => {}
                }
                continue;
            }
            for e in entries {
                let notice = Notice::alert(&self.settings.chain_id, &source.url, &e);
                let id = format!("{}-alert-{}", self.settings.chain_id, e.seq);
                self.deliver(&client, &mut pace, &id, &notice).await;
                cursor.seq = e.seq + 1;
                save_cursor(&path, cursor);
            }
        }
    }

    async fn run(self, mut blocks: tokio::sync::broadcast::Receiver<Arc<StoredBlock>>) {
        let dest = self.dest().clone();
        let path = cursor_path(&self.settings.dir, self.n, &dest.url);
        let Some(client) = self.client() else { return };
        let mut cursor = match load_cursor(&path) {
            Some(c) => c,
            None => {
                let tip = self.index.bounds().ok().flatten().map_or(0, |(_, hi)| hi);
                let c = Cursor {
                    height: tip + 1,
                    event: 0,
                };
                save_cursor(&path, c);
                c
            }
        };
        let mut pace = Pace::new(dest.max_per_minute);
        loop {
            let block = match self.index.block(cursor.height) {
                Ok(Some(b)) => b,
                Ok(None) => {
                    // Not committed yet: wake on the next block (or after a second, in case
                    // the broadcast lagged).
                    tokio::select! {
                        _ = blocks.recv() => {}
                        _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                    }
                    continue;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "webhooks: reading the block index");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            };
            let events = crate::feeds::incident_events(&block);
            for (i, e) in events.iter().enumerate().skip(cursor.event) {
                let notice = self.notice(&block, e).await;
                let id = format!("{}-{}-{i}", self.settings.chain_id, block.height);
                self.deliver(&client, &mut pace, &id, &notice).await;
                cursor.event = i + 1;
                save_cursor(&path, cursor);
            }
            cursor = Cursor {
                height: cursor.height + 1,
                event: 0,
            };
        }
    }

    /// The notice of one event, with the incident's title and the step's text from state.
    async fn notice(&self, block: &StoredBlock, e: &caspur_types::Event) -> Notice {
        let id: u64 = e.get("id").and_then(|v| v.parse().ok()).unwrap_or(0);
        let mut kv = Unmetered(&self.state);
        let incident = state::incident(&mut kv, id).await.ok().flatten();
        let text = match e.get("seq").and_then(|s| s.parse().ok()) {
            Some(seq) => state::timeline_entry(&mut kv, id, seq)
                .await
                .map(|t| t.text)
                .unwrap_or_default(),
            None => String::new(),
        };
        let overdue = e.kind == "incident_overdue";
        Notice {
            chain_id: self.settings.chain_id.clone(),
            kind: if overdue {
                "incident.overdue"
            } else {
                "incident.step"
            }
            .into(),
            incident: id,
            state: e.get("state").unwrap_or_default().into(),
            action: e
                .get(if overdue { "deadline" } else { "action" })
                .unwrap_or_default()
                .into(),
            actor: e.get("actor").unwrap_or_default().into(),
            text,
            title: incident.map(|i| i.public_title).unwrap_or_default(),
            height: block.height,
            time: view::time(block.time_ms),
            url: format!("{}/incidents/{id}", self.settings.base_url),
            alert: None,
        }
    }

    /// Delivers one notice: paced, signed, retried; dead-lettered after the last try (or at
    /// once on a 4xx other than 408 and 429, which no retry fixes).
    async fn deliver(&self, client: &reqwest::Client, pace: &mut Pace, id: &str, n: &Notice) {
        let dest = self.dest();
        let mut last_error = String::new();
        let mut attempts = 0;
        while attempts < self.settings.max_attempts {
            attempts += 1;
            pace.wait().await;
            let now = chrono::Utc::now();
            let body = n
                .render(dest.format, &now.to_rfc3339(), &dest.chat_id)
                .to_string();
            let timestamp = now.timestamp();
            let signature = signing::signature(&dest.secrets, id, timestamp, body.as_bytes());
            let mut request = client
                .post(&dest.url)
                .header("content-type", "application/json")
                .header("webhook-id", id)
                .header("webhook-timestamp", timestamp.to_string());
            if !signature.is_empty() {
                request = request.header("webhook-signature", signature);
            }
            let wait = match request.body(body).send().await {
                Ok(r) if r.status().is_success() => {
                    tracing::debug!(url = %dest.url, %id, attempts, "webhook delivered");
                    return;
                }
                Ok(r) if r.status() == reqwest::StatusCode::TOO_MANY_REQUESTS => {
                    last_error = "429 Too Many Requests".into();
                    let after = retry_after(r.headers()).unwrap_or(self.backoff(attempts));
                    pace.hold(after);
                    Duration::ZERO
                }
                Ok(r) if r.status().is_server_error() || r.status().as_u16() == 408 => {
                    last_error = format!("HTTP {}", r.status());
                    self.backoff(attempts)
                }
                Ok(r) => {
                    last_error = format!("HTTP {} (not retried)", r.status());
                    break;
                }
                Err(e) => {
                    last_error = e.to_string();
                    self.backoff(attempts)
                }
            };
            tracing::info!(url = %dest.url, %id, attempts, error = %last_error, "webhook retry");
            if attempts < self.settings.max_attempts {
                tokio::time::sleep(wait).await;
            }
        }
        self.dead_letter(id, attempts, &last_error, n);
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let factor = 1u32
            .checked_shl(attempt.saturating_sub(1))
            .unwrap_or(u32::MAX);
        self.settings
            .retry_base
            .saturating_mul(factor)
            .min(MAX_BACKOFF)
    }

    fn dead_letter(&self, id: &str, attempts: u32, error: &str, n: &Notice) {
        use std::io::Write;
        let dest = self.dest();
        tracing::warn!(url = %dest.url, %id, attempts, %error, "webhook dead-lettered");
        let line = json!({
            "time": chrono::Utc::now().to_rfc3339(), "url": dest.url, "webhook_id": id,
            "attempts": attempts, "error": error,
            "body": n.render(dest.format, "", &dest.chat_id),
        });
        let path = dead_letter_path(&self.settings.dir);
        let written = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .and_then(|mut f| writeln!(f, "{line}"));
        if let Err(e) = written {
            tracing::error!(path = %path.display(), error = %e, "cannot write the dead-letter file");
        }
    }
}

/// `Retry-After` as seconds or an HTTP date, capped at [`MAX_RETRY_AFTER`].
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let v = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    let d = match v.parse::<u64>() {
        Ok(secs) => Duration::from_secs(secs),
        Err(_) => {
            let at = chrono::DateTime::parse_from_rfc2822(v).ok()?;
            (at.with_timezone(&chrono::Utc) - chrono::Utc::now())
                .to_std()
                .unwrap_or(Duration::ZERO)
        }
    };
    Some(d.min(MAX_RETRY_AFTER))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::webhooks::Format;

    #[test]
    fn retry_after_takes_seconds_and_dates_and_is_capped() {
        let mut h = reqwest::header::HeaderMap::new();
        h.insert(reqwest::header::RETRY_AFTER, "7".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(7)));
        h.insert(reqwest::header::RETRY_AFTER, "999999".parse().unwrap());
        assert_eq!(retry_after(&h), Some(MAX_RETRY_AFTER));
        h.insert(
            reqwest::header::RETRY_AFTER,
            "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after(&h), Some(Duration::ZERO));
        h.insert(reqwest::header::RETRY_AFTER, "soon".parse().unwrap());
        assert_eq!(retry_after(&h), None);
    }

    #[test]
    fn formats_parse_from_config_names() {
        let f: Format = serde_json::from_str("\"discord\"").unwrap();
        assert_eq!(f, Format::Discord);
    }
}
