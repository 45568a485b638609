//! The drill's record: every step with its wall-clock time and block height, the downtime at
//! the switch, totals and the alerts seen — written as Markdown and JSON.

use anyhow::Result;
use serde::Serialize;
use std::path::Path;
use std::time::Instant;

/// One step of the drill.
#[derive(Clone, Debug, Serialize)]
pub struct Step {
    /// What happened.
    pub name: String,
    /// Milliseconds since the drill started.
    pub at_ms: u64,
    /// Milliseconds the step took.
    pub took_ms: u64,
    /// The chain's height when it completed (node 0's view; 0 while it is down).
    pub height: u64,
    /// What was checked or seen.
    pub detail: String,
}

/// The whole drill.
#[derive(Debug, Serialize)]
pub struct Timeline {
    /// `standard`, `broken-upgrade` or `late-validator`.
    pub variant: String,
    /// Validators in the network.
    pub validators: usize,
    /// The steps, in order.
    pub steps: Vec<Step>,
    /// Per validator, the visor's downtime at the switch (halt to first block of the new
    /// binary), in ms.
    pub downtime_ms: Vec<u64>,
    /// Milliseconds of the automated steps and the switch (from the report to the
    /// post-mortem).
    pub process_ms: u64,
    /// Milliseconds in all, network start included.
    pub total_ms: u64,
    /// The alerts node 0 raised during the drill (name and state).
    pub alerts: Vec<String>,
    #[serde(skip)]
    started: Option<Instant>,
    #[serde(skip)]
    last: Option<Instant>,
}

impl Timeline {
    /// A drill starting now.
    pub fn start(variant: &str, validators: usize) -> Self {
        let now = Instant::now();
        Timeline {
            variant: variant.into(),
            validators,
            steps: Vec::new(),
            downtime_ms: Vec::new(),
            process_ms: 0,
            total_ms: 0,
            alerts: Vec::new(),
            started: Some(now),
            last: Some(now),
        }
    }

    /// Records a completed step at `height`, and shows it.
    pub fn step(&mut self, name: &str, height: u64, detail: impl Into<String>) {
        let now = Instant::now();
        let ms = |from: Option<Instant>| {
            from.map_or(0, |t| now.saturating_duration_since(t).as_millis() as u64)
        };
        let step = Step {
            name: name.into(),
            at_ms: ms(self.started),
            took_ms: ms(self.last),
            height,
            detail: detail.into(),
        };
        eprintln!(
            "[{:>7.1}s] h={:<5} {:<40} {}",
            step.at_ms as f64 / 1000.0,
            step.height,
            step.name,
            step.detail
        );
        self.last = Some(now);
        self.steps.push(step);
    }

    /// Milliseconds since the drill started.
    pub fn elapsed_ms(&self) -> u64 {
        self.started.map_or(0, |t| t.elapsed().as_millis() as u64)
    }

    /// The Markdown form.
    pub fn markdown(&self) -> String {
        let mut out = format!(
            "# Emergency drill ({}, {} validators)\n\n| time (s) | height | step | took (s) | detail |\n|---:|---:|---|---:|---|\n",
            self.variant, self.validators
        );
        for s in &self.steps {
            out.push_str(&format!(
                "| {:.1} | {} | {} | {:.1} | {} |\n",
                s.at_ms as f64 / 1000.0,
                s.height,
                s.name,
                s.took_ms as f64 / 1000.0,
                s.detail.replace('|', "\\|")
            ));
        }
        let worst = self.downtime_ms.iter().max().copied().unwrap_or(0);
        out.push_str(&format!(
            "\n- process (report → post-mortem, switch included): {:.1} s\n- total (network start included): {:.1} s\n- downtime at the switch: worst {:.2} s, per validator {:?} ms\n- alerts seen: {}\n",
            self.process_ms as f64 / 1000.0,
            self.total_ms as f64 / 1000.0,
            worst as f64 / 1000.0,
            self.downtime_ms,
            if self.alerts.is_empty() { "none".to_string() } else { self.alerts.join(", ") }
        ));
        out
    }

    /// Writes `timeline.md` and `timeline.json` into `dir`.
    pub fn write(&self, dir: &Path) -> Result<()> {
        std::fs::write(dir.join("timeline.md"), self.markdown())?;
        std::fs::write(dir.join("timeline.json"), serde_json::to_vec_pretty(self)?)?;
        Ok(())
    }
}
