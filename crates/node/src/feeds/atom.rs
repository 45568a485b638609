//! The incident feed as RFC 4287 Atom: one entry per incident (newest first), updated at its
//! last step, its content the public steps so far. Feed readers and chat bots follow it.

use atom_syndication::{Content, Entry, Feed, FixedDateTime, Link, Person, Text};
use caspur_app::modules::incident::{query::state_name, view};
use caspur_types::proto::incident::v1 as pb;

fn time(ms: u64) -> FixedDateTime {
    chrono::DateTime::from_timestamp_millis(ms as i64)
        .unwrap_or_default()
        .fixed_offset()
}

fn link(href: String, rel: &str) -> Link {
    let mut l = Link::default();
    l.set_href(href);
    l.set_rel(rel);
    l
}

/// Minimal HTML escaping for text placed in an `html` content element.
fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The title readers see: `Incident 3 (announced): consensus issue`.
pub fn title(i: &pb::Incident) -> String {
    let mut t = format!("Incident {} ({})", i.id, state_name(i));
    if !i.public_title.is_empty() {
        t.push_str(": ");
        t.push_str(&i.public_title);
    }
    t
}

fn entry(chain_id: &str, base: &str, i: &pb::Incident, steps: &[pb::TimelineEntry]) -> Entry {
    let mut html = format!(
        "<p>State: <b>{}</b>. Severity: {}.</p><ul>",
        state_name(i),
        view::severity_name(if i.severity != 0 {
            i.severity
        } else {
            i.severity_claim
        })
    );
    for s in steps.iter().rev() {
        html.push_str(&format!(
            "<li>{} (height {}): {}{}</li>",
            view::time(s.time_ms),
            s.height,
            escape(&s.action),
            if s.text.is_empty() {
                String::new()
            } else {
                format!(": {}", escape(&s.text))
            }
        ));
    }
    html.push_str("</ul>");
    let mut e = Entry::default();
    e.set_title(Text::plain(title(i)));
    e.set_id(format!("urn:caspur:{chain_id}:incident:{}", i.id));
    e.set_updated(time(i.updated_time_ms));
    e.set_published(Some(time(i.reported_time_ms)));
    e.set_links(vec![link(
        format!("{base}/incidents/{}", i.id),
        "alternate",
    )]);
    let latest = steps.last().map(|s| s.text.clone()).unwrap_or_default();
    e.set_summary(Some(Text::plain(latest)));
    let mut content = Content::default();
    content.set_content_type(Some("html".to_string()));
    content.set_value(Some(html));
    e.set_content(Some(content));
    e
}

/// The feed of `incidents` (newest first, each with its latest steps).
pub fn feed(
    chain_id: &str,
    base: &str,
    incidents: &[(pb::Incident, Vec<pb::TimelineEntry>)],
) -> String {
    let mut f = Feed::default();
    f.set_title(format!("{chain_id} incidents"));
    f.set_id(format!("urn:caspur:{chain_id}:incidents"));
    f.set_updated(time(
        incidents
            .iter()
            .map(|(i, _)| i.updated_time_ms)
            .max()
            .unwrap_or(0),
    ));
    let mut author = Person::default();
    author.set_name(format!("{chain_id} dCERT"));
    f.set_authors(vec![author]);
    f.set_links(vec![
        link(format!("{base}/incidents.atom"), "self"),
        link(format!("{base}/incidents"), "alternate"),
    ]);
    f.set_entries(
        incidents
            .iter()
            .map(|(i, steps)| entry(chain_id, base, i, steps))
            .collect::<Vec<_>>(),
    );
    f.to_string()
}
