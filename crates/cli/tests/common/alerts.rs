//! Watching a node's own alerts from a test: `/alerts` on its Prometheus address and a webhook
//! receiver, with the checks every alert test makes (fired once, resolved once, at both).

use super::{free_port, Node, Recorder};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Edits a TOML file of a node's home.
pub fn edit_toml(path: &Path, edit: impl FnOnce(&mut toml::Value)) {
    let mut v: toml::Value = toml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    edit(&mut v);
    std::fs::write(path, toml::to_string(&v).unwrap()).unwrap();
}

/// The (status, rule) of every transition in the alert journal of the node at `home`, oldest
/// first (the journal outlives restarts).
pub fn alert_journal(home: &Path) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(home.join("data/alerts/journal.jsonl")).unwrap_or_default();
    text.lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .map(|e| {
            let s = |v: &Value| v.as_str().unwrap_or_default().to_string();
            (s(&e["status"]), s(&e["alert"]["rule"]))
        })
        .collect()
}

/// A node's alerts as a test sees them.
pub struct AlertWatch {
    /// The node's Prometheus address (`host:port`), where `/alerts` is served.
    pub metrics: String,
    /// The webhook receiver the node delivers to.
    pub hook: Recorder,
    /// The node's home (its alert journal).
    pub home: PathBuf,
}

impl AlertWatch {
    /// A watch on the node at `home` whose Prometheus endpoint is (or will be) `metrics`.
    pub fn new(metrics: &str, home: &Path) -> AlertWatch {
        AlertWatch {
            metrics: metrics.to_string(),
            hook: Recorder::start(),
            home: home.to_path_buf(),
        }
    }

    /// A dev node at `home` under watch: `caspurd dev` (plus `extra` flags) creates the
    /// chain, then it runs again under `caspurd start` with [`AlertWatch::configure`]'s
    /// settings and `rules`.
    pub fn dev_node(
        home: &Path,
        ports: (u16, u16),
        extra: &[&str],
        rules: &[(&str, toml::Value)],
    ) -> (Node, AlertWatch) {
        let (rpc, p2p) = ports;
        let first = Node::start_with(home, rpc, p2p, extra);
        let height = first.height();
        first.interrupt();
        let watch = AlertWatch::new(&format!("127.0.0.1:{}", free_port()), home);
        watch.configure(rules);
        let node = Node::spawn(home, &["start"], rpc, p2p);
        node.wait_height(height + 1, Duration::from_secs(60));
        (node, watch)
    }

    /// Points `home`'s node at this watch (Prometheus on `metrics`, the webhook taking 600 a
    /// minute) and sets `rules` in `[alerts]` of its app.toml. Takes effect at the next start.
    pub fn configure(&self, rules: &[(&str, toml::Value)]) {
        let (metrics, url) = (self.metrics.clone(), self.hook.url.clone());
        edit_toml(&self.home.join("config/config.toml"), move |c| {
            c["instrumentation"]["prometheus"] = true.into();
            c["instrumentation"]["prometheus_listen_addr"] = metrics.into();
            let mut webhook = toml::Table::new();
            webhook.insert("url".into(), url.into());
            webhook.insert("max_per_minute".into(), 600.into());
            c["incidents"]["webhooks"] = toml::Value::Array(vec![webhook.into()]);
        });
        edit_toml(&self.home.join("config/app.toml"), |a| {
            for (name, value) in rules {
                a["alerts"][*name] = value.clone();
            }
        });
    }

    /// `GET /alerts` (`None` while the node is not serving, e.g. across a restart).
    pub fn try_alerts(&self) -> Option<Value> {
        ureq::get(&format!("http://{}/alerts", self.metrics))
            .timeout(Duration::from_secs(10))
            .call()
            .ok()?
            .into_json()
            .ok()
    }

    /// `GET /alerts`, which must answer.
    pub fn alerts(&self) -> Value {
        self.try_alerts()
            .unwrap_or_else(|| panic!("no answer at http://{}/alerts", self.metrics))
    }

    /// Polls `/alerts` until `found` returns something (`secs` at most).
    pub fn wait<T>(&self, what: &str, secs: u64, found: impl Fn(&Value) -> Option<T>) -> T {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let alerts = self.try_alerts();
            if let Some(x) = alerts.as_ref().and_then(&found) {
                return x;
            }
            assert!(Instant::now() < deadline, "{what}: {alerts:?}");
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    /// Waits (`secs` at most) until an alert of `rule` fires; returns it.
    pub fn wait_firing(&self, rule: &str, secs: u64) -> Value {
        self.wait(&format!("{rule} firing"), secs, |a| firing_of(a, rule))
    }

    /// Waits (`secs` at most) until no alert of `rule` fires.
    pub fn wait_resolved(&self, rule: &str, secs: u64) {
        self.wait(&format!("{rule} resolved"), secs, |a| {
            firing_of(a, rule).is_none().then_some(())
        })
    }

    /// The webhook deliveries of `rule`'s transitions with `status`.
    pub fn delivered(&self, rule: &str, status: &str) -> usize {
        self.hook
            .bodies()
            .iter()
            .filter(|b| b["type"] == format!("alert.{status}"))
            .filter(|b| b["data"]["alert"]["rule"] == rule)
            .count()
    }

    /// `rule` fired exactly once and resolved exactly once: in the node's journal (which
    /// outlives restarts), at the webhook (waiting up to 30 s for the deliveries) and in
    /// `/alerts`, where it no longer fires and this run's transitions hold each at most once
    /// (a restart empties them; the test saw the firing there with [`AlertWatch::wait_firing`]).
    pub fn assert_fired_and_resolved_once(&self, rule: &str) {
        let alerts = self.alerts();
        assert!(
            firing_of(&alerts, rule).is_none(),
            "{rule} still fires: {alerts}"
        );
        let recent = |status: &str| {
            alerts["recent"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|t| t["status"] == status && t["alert"]["rule"] == rule)
                .count()
        };
        assert!(
            recent("firing") <= 1 && recent("resolved") <= 1,
            "{rule} at /alerts: {alerts}"
        );
        let journal = alert_journal(&self.home);
        let count = |status: &str| {
            journal
                .iter()
                .filter(|(s, r)| s == status && r == rule)
                .count()
        };
        assert_eq!(
            (count("firing"), count("resolved")),
            (1, 1),
            "{rule}: {journal:?}"
        );
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.delivered(rule, "resolved") == 0 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(200));
        }
        assert_eq!(
            (
                self.delivered(rule, "firing"),
                self.delivered(rule, "resolved")
            ),
            (1, 1),
            "{rule} at the webhook: {:?}",
            self.hook.bodies()
        );
    }
}

fn firing_of(alerts: &Value, rule: &str) -> Option<Value> {
    alerts["firing"]
        .as_array()?
        .iter()
        .find(|f| f["rule"] == rule)
        .cloned()
}
