//! Rolling figures over recent blocks, by block time: throughput, intervals and participation
//! over the last [`RECENT_BLOCKS`]; who missed which of the last [`MAX_MISSED_WINDOW`]
//! certificates; and one sample a minute over the last day of the height, the txs so far and
//! the bonded ratio (the upgrade ETA, the hour's throughput, the bonded-ratio trend). Memory
//! is bounded by these constants.

use serde::Serialize;
use std::collections::VecDeque;

/// Blocks the throughput and participation figures average over.
pub const RECENT_BLOCKS: usize = 100;
/// Most blocks whose missing signers are remembered (the missed-blocks alert's window).
pub const MAX_MISSED_WINDOW: usize = 1_000;
/// Block-rate samples kept: one a minute over a day, plus one.
pub const DAY_SAMPLES: usize = 24 * 60 + 1;
/// Least block time between two block-rate samples.
const SAMPLE_EVERY_MS: u64 = 60_000;
/// The span the block rate is measured over.
const DAY_MS: u64 = 24 * 3600 * 1000;

/// One block as the windows see it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BlockSample {
    /// Height.
    pub height: u64,
    /// Block time, ms since the Unix epoch.
    pub time_ms: u64,
    /// Txs in the block.
    pub txs: u64,
    /// Power that signed the parent's certificate, and the power of that set (both 0 when
    /// the block carries no certificate).
    pub signed_power: u64,
    /// See `signed_power`.
    pub set_power: u64,
}

/// One minute's sample.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct MinuteSample {
    height: u64,
    time_ms: u64,
    total_txs: u64,
    /// Signed and set power summed over every block so far.
    signed_power: u128,
    set_power: u128,
    /// The bonded ratio after the minute's latest block (the chart's point).
    bonded_ratio: Option<f64>,
    /// The highest bonded ratio seen within the minute (what a drop is measured from, so a
    /// drop inside one minute is seen).
    bonded_peak: Option<f64>,
}

/// Chart series over the last day: one point a minute, then one per recent block after the
/// last minute's (times in Unix seconds; a point without data is `None`).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Chart {
    /// Unix seconds.
    pub t: Vec<f64>,
    /// Mean block interval, seconds.
    pub interval: Vec<Option<f64>>,
    /// Txs per second.
    pub tps: Vec<Option<f64>>,
    /// Signed power share.
    pub participation: Vec<Option<f64>>,
    /// Bonded ratio.
    pub bonded: Vec<Option<f64>>,
}

/// The windows.
#[derive(Debug, Default)]
pub struct Windows {
    recent: VecDeque<BlockSample>,
    missed: VecDeque<Vec<[u8; 32]>>,
    day: VecDeque<MinuteSample>,
    total_txs: u64,
    signed_power: u128,
    set_power: u128,
}

impl Windows {
    /// Adds a block and the keys missing from its certificate of the parent (a height at or
    /// below the last one is a re-delivery and is ignored).
    pub fn push(&mut self, s: BlockSample, missed: Vec<[u8; 32]>) {
        if self
            .recent
            .back()
            .is_some_and(|last| s.height <= last.height)
        {
            return;
        }
        if self.recent.len() == RECENT_BLOCKS {
            self.recent.pop_front();
        }
        self.recent.push_back(s);
        if self.missed.len() == MAX_MISSED_WINDOW {
            self.missed.pop_front();
        }
        self.missed.push_back(missed);
        self.total_txs = self.total_txs.saturating_add(s.txs);
        self.signed_power = self.signed_power.saturating_add(s.signed_power as u128);
        self.set_power = self.set_power.saturating_add(s.set_power as u128);
        let due = self
            .day
            .back()
            .is_none_or(|m| s.time_ms >= m.time_ms.saturating_add(SAMPLE_EVERY_MS));
        if due {
            self.day.push_back(MinuteSample {
                height: s.height,
                time_ms: s.time_ms,
                total_txs: self.total_txs,
                signed_power: self.signed_power,
                set_power: self.set_power,
                bonded_ratio: None,
                bonded_peak: None,
            });
        }
        while self.day.len() > DAY_SAMPLES
            || self
                .day
                .front()
                .is_some_and(|m| s.time_ms.saturating_sub(m.time_ms) > DAY_MS && self.day.len() > 2)
        {
            self.day.pop_front();
        }
    }

    /// Records the bonded ratio after the latest block in its minute's sample.
    pub fn set_bonded_ratio(&mut self, ratio: f64) {
        if let Some(m) = self.day.back_mut() {
            m.bonded_ratio = Some(ratio);
            m.bonded_peak = Some(m.bonded_peak.map_or(ratio, |p| p.max(ratio)));
        }
    }

    /// The latest block.
    pub fn last(&self) -> Option<&BlockSample> {
        self.recent.back()
    }

    /// Txs per second of block time over the recent blocks (the first block's txs are not
    /// counted: the span starts at its time).
    pub fn txs_per_second(&self) -> f64 {
        let (Some(first), Some(last)) = (self.recent.front(), self.recent.back()) else {
            return 0.0;
        };
        let span_ms = last.time_ms.saturating_sub(first.time_ms);
        if span_ms == 0 {
            return 0.0;
        }
        let txs: u64 = self.recent.iter().skip(1).map(|s| s.txs).sum();
        txs as f64 * 1000.0 / span_ms as f64
    }

    /// Signed power over set power across the recent blocks that carry a certificate
    /// (1 when none does yet: nobody is known to have missed).
    pub fn participation(&self) -> f64 {
        self.participation_over(RECENT_BLOCKS)
    }

    /// [`Windows::participation`] over the last `blocks` blocks only.
    pub fn participation_over(&self, blocks: usize) -> f64 {
        let (signed, total) = self
            .recent
            .iter()
            .rev()
            .take(blocks)
            .fold((0u128, 0u128), |(s, t), b| {
                (s + b.signed_power as u128, t + b.set_power as u128)
            });
        if total == 0 {
            return 1.0;
        }
        signed as f64 / total as f64
    }

    /// Blocks per second over the last day of samples (with the latest block as the end).
    pub fn block_rate(&self) -> Option<f64> {
        let first = self.day.front()?;
        let last = self.recent.back()?;
        let span_ms = last.time_ms.checked_sub(first.time_ms)?;
        if span_ms == 0 || last.height <= first.height {
            return None;
        }
        Some((last.height - first.height) as f64 * 1000.0 / span_ms as f64)
    }

    /// Txs per second of block time since the oldest sample at most `span_ms` old (`None`
    /// before a minute has passed).
    pub fn txs_per_second_over(&self, span_ms: u64) -> Option<f64> {
        let last = self.recent.back()?;
        let from = self
            .day
            .iter()
            .find(|m| last.time_ms.saturating_sub(m.time_ms) <= span_ms)?;
        let elapsed = last.time_ms.checked_sub(from.time_ms).filter(|e| *e > 0)?;
        Some(self.total_txs.saturating_sub(from.total_txs) as f64 * 1000.0 / elapsed as f64)
    }

    /// Whether the minute samples within `span_ms` of the latest block reach back before the
    /// recent blocks (otherwise the two windows hold the same blocks and cannot be compared).
    pub fn reaches_before_recent(&self, span_ms: u64) -> bool {
        let (Some(first), Some(last)) = (self.recent.front(), self.recent.back()) else {
            return false;
        };
        self.day
            .iter()
            .find(|m| last.time_ms.saturating_sub(m.time_ms) <= span_ms)
            .is_some_and(|m| m.time_ms < first.time_ms)
    }

    /// How many of the last `blocks` blocks carry a certificate.
    pub fn certified_over(&self, blocks: usize) -> usize {
        self.recent
            .iter()
            .rev()
            .take(blocks)
            .filter(|b| b.set_power > 0)
            .count()
    }

    /// How many blocks the missed-signer window holds.
    pub fn missed_len(&self) -> usize {
        self.missed.len()
    }

    /// The highest bonded ratio sampled within `span_ms` of the latest block.
    pub fn bonded_ratio_max_over(&self, span_ms: u64) -> Option<f64> {
        let last = self.recent.back()?.time_ms;
        self.day
            .iter()
            .filter(|m| last.saturating_sub(m.time_ms) <= span_ms)
            .filter_map(|m| m.bonded_peak)
            .reduce(f64::max)
    }

    /// The board's charts ([`Chart`]).
    pub fn chart(&self) -> Chart {
        let mut c = Chart::default();
        let ratio = |num: f64, den: f64| (den > 0.0).then(|| num / den);
        for (a, b) in self.day.iter().zip(self.day.iter().skip(1)) {
            let secs = b.time_ms.saturating_sub(a.time_ms) as f64 / 1000.0;
            c.t.push(b.time_ms as f64 / 1000.0);
            c.interval
                .push(ratio(secs, b.height.saturating_sub(a.height) as f64));
            c.tps
                .push(ratio(b.total_txs.saturating_sub(a.total_txs) as f64, secs));
            c.participation.push(ratio(
                b.signed_power.saturating_sub(a.signed_power) as f64,
                b.set_power.saturating_sub(a.set_power) as f64,
            ));
            c.bonded.push(b.bonded_ratio);
        }
        let since = self.day.back().map_or(0, |m| m.time_ms);
        let bonded = self.day.back().and_then(|m| m.bonded_ratio);
        for (a, b) in self.recent.iter().zip(self.recent.iter().skip(1)) {
            if b.time_ms <= since || a.height + 1 != b.height {
                continue;
            }
            let secs = b.time_ms.saturating_sub(a.time_ms) as f64 / 1000.0;
            c.t.push(b.time_ms as f64 / 1000.0);
            c.interval.push(Some(secs));
            c.tps.push(ratio(b.txs as f64, secs));
            c.participation
                .push(ratio(b.signed_power as f64, b.set_power as f64));
            c.bonded.push(bonded);
        }
        c
    }

    /// The 95th percentile of the intervals between the recent blocks, in seconds.
    pub fn interval_p95(&self) -> Option<f64> {
        let mut gaps: Vec<u64> = self
            .recent
            .iter()
            .zip(self.recent.iter().skip(1))
            .filter(|(a, b)| a.height + 1 == b.height)
            .map(|(a, b)| b.time_ms.saturating_sub(a.time_ms))
            .collect();
        if gaps.is_empty() {
            return None;
        }
        gaps.sort_unstable();
        let rank = (gaps.len() * 95).div_ceil(100).saturating_sub(1);
        Some(gaps[rank.min(gaps.len() - 1)] as f64 / 1000.0)
    }

    /// How many of the last `window` blocks' certificates each key is missing from.
    pub fn missed_counts(&self, window: usize) -> std::collections::BTreeMap<[u8; 32], u32> {
        let mut out = std::collections::BTreeMap::new();
        for keys in self.missed.iter().rev().take(window) {
            for k in keys {
                *out.entry(*k).or_insert(0) += 1;
            }
        }
        out
    }

    /// Seconds until `height` at the last day's block rate (0 once reached; `None` without a
    /// rate yet).
    pub fn eta_seconds(&self, height: u64) -> Option<f64> {
        let last = self.recent.back()?.height;
        if height <= last {
            return Some(0.0);
        }
        Some((height - last) as f64 / self.block_rate()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(height: u64, time_ms: u64, txs: u64) -> BlockSample {
        BlockSample {
            height,
            time_ms,
            txs,
            signed_power: 3,
            set_power: 4,
        }
    }

    #[test]
    fn throughput_and_participation_average_the_recent_blocks() {
        let mut w = Windows::default();
        assert_eq!(w.txs_per_second(), 0.0);
        assert_eq!(w.participation(), 1.0);
        for h in 1..=10 {
            w.push(block(h, h * 500, 5), Vec::new());
        }
        // 9 blocks of 5 txs over 4.5 s.
        assert!((w.txs_per_second() - 10.0).abs() < 1e-9);
        assert!((w.participation() - 0.75).abs() < 1e-9);
        // A re-delivered block changes nothing.
        w.push(block(5, 99_999, 1000), Vec::new());
        assert_eq!(w.last().map(|b| b.height), Some(10));
        for h in 11..=500 {
            w.push(block(h, h * 500, 0), Vec::new());
        }
        assert_eq!(w.recent.len(), RECENT_BLOCKS);
        assert_eq!(w.txs_per_second(), 0.0);
    }

    #[test]
    fn the_eta_extrapolates_the_last_days_block_rate() {
        let mut w = Windows::default();
        assert_eq!(w.eta_seconds(100), None);
        // Two blocks a second for two days: samples a minute apart, the oldest a day back.
        for h in 1..=(2 * 86_400 * 2) {
            w.push(block(h, h * 500, 0), Vec::new());
        }
        assert!(w.day.len() <= DAY_SAMPLES);
        let rate = w.block_rate().unwrap_or_default();
        assert!((rate - 2.0).abs() < 1e-6, "{rate}");
        // The last hour's throughput, and the bonded ratio's peak.
        assert_eq!(w.txs_per_second_over(3_600_000), Some(0.0));
        assert_eq!(w.bonded_ratio_max_over(3_600_000), None);
        let last = 2 * 86_400 * 2;
        let eta = w.eta_seconds(last + 600).unwrap_or_default();
        assert!((eta - 300.0).abs() < 1e-3, "{eta}");
        assert_eq!(w.eta_seconds(last), Some(0.0));
    }

    #[test]
    fn intervals_missed_signers_and_bonded_peaks_are_kept() {
        let mut w = Windows::default();
        let key = [7u8; 32];
        for h in 1..=20u64 {
            // Every fifth block takes 3 s; validator `key` misses every other one.
            let t = h * 1000 + (h / 5) * 2000;
            let missed = if h % 2 == 0 { vec![key] } else { Vec::new() };
            w.push(block(h, t, 2), missed);
            w.set_bonded_ratio(if h == 10 { 0.8 } else { 0.5 });
        }
        assert_eq!(w.interval_p95(), Some(3.0));
        assert_eq!(w.missed_counts(10).get(&key), Some(&5));
        assert_eq!(w.missed_counts(1000).get(&key), Some(&10));
        // The minute's peak is kept though later blocks of the minute were lower.
        assert_eq!(w.bonded_ratio_max_over(3_600_000), Some(0.8));
        let tps = w.txs_per_second_over(3_600_000).unwrap_or_default();
        assert!(tps > 0.0, "{tps}");
    }
}
