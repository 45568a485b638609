//! What a webhook receives for one incident event, in the destination's format: the
//! Standard Webhooks JSON envelope (`{type, timestamp, data}`), or a chat message sized for
//! Discord (2,000 characters of `content`), Slack (Block Kit, 3,000 per section) or Telegram
//! (`sendMessage`, 4,096 characters).

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// Longest Discord message.
pub const DISCORD_MAX: usize = 2000;
/// Longest Slack section text.
pub const SLACK_SECTION_MAX: usize = 3000;
/// Longest Slack header.
pub const SLACK_HEADER_MAX: usize = 150;
/// Longest Telegram message.
pub const TELEGRAM_MAX: usize = 4096;

/// A destination's message format.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// The Standard Webhooks JSON envelope.
    #[default]
    Standard,
    /// A Discord webhook message.
    Discord,
    /// A Slack incoming-webhook message.
    Slack,
    /// A Telegram Bot API `sendMessage` body.
    Telegram,
}

/// One incident event, as every format renders it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Notice {
    /// Chain id.
    pub chain_id: String,
    /// `incident.step` or `incident.overdue`.
    pub kind: String,
    /// Incident id.
    pub incident: u64,
    /// Its state after the event.
    pub state: String,
    /// The step (`announced`, …) or the deadline (`verification_sla`, `disclosure`).
    pub action: String,
    /// Who took the step (empty for overdue flags).
    pub actor: String,
    /// The step's public text.
    pub text: String,
    /// The incident's public title.
    pub title: String,
    /// Block height.
    pub height: u64,
    /// Block time, RFC 3339.
    pub time: String,
    /// Where the incident's public page is (for an alert: the node's `/alerts`).
    pub url: String,
    /// For an alert, the transition as `/alerts` shows it (the Standard Webhooks `data`).
    #[serde(skip)]
    pub alert: Option<Value>,
}

/// `s` cut to at most `max` characters, marking the cut.
pub fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

impl Notice {
    /// The notice of an alert transition (journal entry `e`): `alert.firing` or
    /// `alert.resolved`.
    pub fn alert(chain_id: &str, url: &str, e: &crate::monitor::alerts::journal::Entry) -> Self {
        let t = &e.transition;
        Notice {
            chain_id: chain_id.into(),
            kind: format!("alert.{}", t.status),
            incident: 0,
            state: t.status.clone(),
            action: t.alert.rule.clone(),
            actor: t.alert.key.clone(),
            text: t.alert.summary.clone(),
            title: String::new(),
            height: t.height,
            time: t.at.clone(),
            url: url.into(),
            alert: serde_json::to_value(e).ok(),
        }
    }

    /// `[chain] Incident 3: title`, or `[chain] Alert firing: rule (key)`.
    pub fn headline(&self) -> String {
        if self.alert.is_some() {
            let mut h = format!("[{}] Alert {}: {}", self.chain_id, self.state, self.action);
            if !self.actor.is_empty() {
                h.push_str(&format!(" ({})", self.actor));
            }
            return h;
        }
        let mut h = format!("[{}] Incident {}", self.chain_id, self.incident);
        if !self.title.is_empty() {
            h.push_str(&format!(": {}", self.title));
        }
        h
    }

    fn line(&self) -> String {
        if self.alert.is_some() {
            return self.text.clone();
        }
        if self.kind == "incident.overdue" {
            return format!("{} deadline passed while {}", self.action, self.state);
        }
        let mut l = format!("{} → {}", self.action, self.state);
        if !self.text.is_empty() {
            l.push_str(&format!(": {}", self.text));
        }
        l
    }

    /// The request body in `format` (`chat_id` is Telegram's).
    pub fn render(&self, format: Format, timestamp: &str, chat_id: &str) -> Value {
        let footer = format!("height {} · {} · {}", self.height, self.time, self.url);
        match format {
            Format::Standard => {
                let data = self.alert.clone().unwrap_or_else(|| json!(self));
                json!({"type": self.kind, "timestamp": timestamp, "data": data})
            }
            Format::Discord => {
                let text = format!("**{}**\n{}\n{footer}", self.headline(), self.line());
                json!({"content": truncate(&text, DISCORD_MAX)})
            }
            Format::Slack => json!({
                "text": truncate(&format!("{}: {}", self.headline(), self.line()), SLACK_SECTION_MAX),
                "blocks": [
                    {"type": "header", "text": {"type": "plain_text",
                        "text": truncate(&self.headline(), SLACK_HEADER_MAX)}},
                    {"type": "section", "text": {"type": "mrkdwn",
                        "text": truncate(&self.line(), SLACK_SECTION_MAX)}},
                    {"type": "context", "elements": [{"type": "mrkdwn", "text": truncate(&footer, SLACK_SECTION_MAX)}]},
                ],
            }),
            Format::Telegram => {
                let text = format!("{}\n{}\n{footer}", self.headline(), self.line());
                json!({"chat_id": chat_id, "text": truncate(&text, TELEGRAM_MAX),
                    "disable_web_page_preview": true})
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chat_renderings_fit_their_platforms() {
        let n = Notice {
            chain_id: "caspur-1".into(),
            kind: "incident.step".into(),
            incident: 3,
            state: "announced".into(),
            action: "update".into(),
            actor: "caspur1x".into(),
            text: "é".repeat(5000),
            title: "bank".into(),
            height: 10,
            time: "2026-12-04T00:00:00Z".into(),
            url: "http://n/incidents/3".into(),
            alert: None,
        };
        let chars = |v: &Value| v.as_str().unwrap().chars().count();
        let d = n.render(Format::Discord, "t", "");
        assert_eq!(chars(&d["content"]), DISCORD_MAX);
        let t = n.render(Format::Telegram, "t", "42");
        assert_eq!(chars(&t["text"]), TELEGRAM_MAX);
        assert_eq!(t["chat_id"], "42");
        let s = n.render(Format::Slack, "t", "");
        assert_eq!(chars(&s["blocks"][1]["text"]["text"]), SLACK_SECTION_MAX);
        let std = n.render(Format::Standard, "t", "");
        assert_eq!(std["type"], "incident.step");
        assert_eq!(std["data"]["incident"], 3);
    }
}
