//! The node's logs: `tracing` events to stderr, plain or JSON, at the level `RUST_LOG` (full
//! filter directives), else `--log-level`, else `log_level` in config.toml, else `info`.
//! Colours only on a terminal; no source paths (a log line names its module).

use anyhow::{bail, Result};
use std::io::IsTerminal as _;
use tracing_subscriber::{filter::filter_fn, layer::SubscriberExt as _, Layer as _};

/// How log lines are written.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    clap::ValueEnum,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// One human-readable line per event.
    #[default]
    Plain,
    /// One JSON object per event.
    Json,
}

/// Warnings every fresh start printed that say nothing is wrong: the state database creating
/// its files (`commonware_storage`, by callsite). Any other warning of theirs still shows.
const FRESH_START_NOTICES: &[&str] = &["qmdb/any/mod.rs:285", "qmdb/current/db.rs:1220"];

/// Commonware's lock wrappers open an `info` span for every acquisition (`utils.rwlock.read`
/// …): one per state read through glue, thousands a block. They carry no event, so they never
/// print; built and formatted, they were ~7 % of a loaded node's CPU. Below `warn` they are
/// never built (unless `RUST_LOG` asks for them).
const LOCK_SPANS: &str = "commonware_utils::sync=warn";

/// The filter for `level`: one of trace, debug, info, warn, error, off — or, from `RUST_LOG`,
/// any `tracing` filter directives.
fn filter(level: &str) -> Result<tracing_subscriber::EnvFilter> {
    let from_env = std::env::var("RUST_LOG")
        .ok()
        .filter(|v| !v.trim().is_empty());
    let directives = match from_env {
        Some(d) => d,
        None => {
            let l = level.trim().to_ascii_lowercase();
            if !["trace", "debug", "info", "warn", "error", "off"].contains(&l.as_str()) {
                bail!("log level must be trace, debug, info, warn, error or off, not {level:?} (RUST_LOG takes filter directives)");
            }
            format!("{l},{LOCK_SPANS}")
        }
    };
    tracing_subscriber::EnvFilter::try_new(&directives)
        .map_err(|e| anyhow::anyhow!("RUST_LOG={directives:?}: {e}"))
}

/// Installs the process's subscriber (once; a second call changes nothing).
pub fn init(level: &str, format: LogFormat) -> Result<()> {
    let env = filter(level)?;
    let quiet = filter_fn(|m| {
        !(m.is_event()
            && *m.level() == tracing::Level::WARN
            && FRESH_START_NOTICES.iter().any(|n| m.name().ends_with(n)))
    });
    let base = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_file(false)
        .with_line_number(false)
        .with_target(true);
    let layer = match format {
        LogFormat::Plain => base
            .with_ansi(std::io::stderr().is_terminal())
            .compact()
            .boxed(),
        LogFormat::Json => base.with_ansi(false).json().boxed(),
    };
    let subscriber = tracing_subscriber::registry().with(layer.with_filter(env).with_filter(quiet));
    // Already set (a test harness, or a second node in one process): keep the first.
    let _ = tracing::subscriber::set_global_default(subscriber);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_are_checked_by_name() {
        if std::env::var_os("RUST_LOG").is_some() {
            return;
        }
        for ok in ["info", "DEBUG", "off", " warn "] {
            assert!(filter(ok).is_ok(), "{ok}");
        }
        for bad in ["verbose", "info,foo=bar", "", "5"] {
            let e = filter(bad).err().map(|e| e.to_string()).unwrap_or_default();
            assert!(e.contains("log level must be"), "{bad}: {e}");
        }
    }

    #[test]
    fn lock_spans_are_never_built_at_the_default_levels() {
        if std::env::var_os("RUST_LOG").is_some() {
            return;
        }
        use tracing_subscriber::layer::SubscriberExt as _;
        for level in ["info", "debug", "trace"] {
            let subscriber = tracing_subscriber::registry().with(filter(level).unwrap());
            tracing::subscriber::with_default(subscriber, || {
                let lock =
                    tracing::info_span!(target: "commonware_utils::sync", "utils.rwlock.read");
                assert!(lock.is_disabled(), "{level}");
                let other = tracing::info_span!(target: "commonware_glue::stateful", "apply");
                assert!(!other.is_disabled(), "{level}");
            });
        }
    }
}
