//! The electionator's cost as the electorate grows (issue 6's benchmark; `caspurd bench
//! dcert`): with `voters` voters spread over `candidates` candidates and `max_members` seats,
//! the time of one vote update, of one delegation change reaching the tallies, and of the end
//! of block's seat maintenance — median and p99 — on in-memory state, so the figures show the
//! algorithm, not the disk.

use caspur_app::context::Ctx;
use caspur_app::error::ExecError;
use caspur_app::gas::DEFAULT_COSTS;
use caspur_app::modules::dcert::{election, state, DcertParams};
use caspur_app::modules::staking;
use caspur_app::BlockInfo;
use caspur_store::{MemState, Overlay};
use caspur_types::{Address, Dec};
use std::time::Instant;

/// One size's figures, in microseconds.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ElectionBench {
    /// Voters.
    pub voters: u64,
    /// Candidates.
    pub candidates: u64,
    /// Seats.
    pub max_members: u32,
    /// Seconds spent building the electorate (not part of the figures).
    pub setup_secs: f64,
    /// `MsgVoteDcert`'s state work (three preferences replaced): median, p99.
    pub vote_update_us: (f64, f64),
    /// A delegation change re-tallying the voter's candidates: median, p99.
    pub delegation_change_us: (f64, f64),
    /// End-of-block seat maintenance after a block of vote changes: median, p99.
    pub seat_maintenance_us: (f64, f64),
    /// Gas (state reads and writes by size: machine-independent work) of the same three, median.
    pub gas: (u64, u64, u64),
}

/// A deterministic generator (the electorate is the same every run).
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

fn address(kind: u8, i: u64) -> Address {
    let mut a = [0u8; 20];
    a[0] = kind;
    a[12..].copy_from_slice(&i.to_be_bytes());
    Address(a)
}

fn stats(mut samples: Vec<f64>) -> (f64, f64) {
    samples.sort_by(|a, b| a.total_cmp(b));
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    (at(0.5), at(0.99))
}

fn median(mut v: Vec<u64>) -> u64 {
    v.sort_unstable();
    v[v.len() / 2]
}

/// Three distinct candidates with weights 0.5 / 0.25 / 0.25.
fn preferences(rng: &mut Lcg, candidates: u64) -> Vec<(Address, u128)> {
    let mut picked: Vec<u64> = Vec::new();
    while picked.len() < 3 {
        let c = rng.below(candidates);
        if !picked.contains(&c) {
            picked.push(c);
        }
    }
    let half = election::WEIGHT_SCALE / 2;
    let mut prefs: Vec<(Address, u128)> = picked
        .into_iter()
        .zip([half, half / 2, half / 2])
        .map(|(c, w)| (address(2, c), w))
        .collect();
    prefs.sort();
    prefs
}

struct Bench {
    state: MemState,
    info: BlockInfo,
}

impl Bench {
    /// Runs `f` on a context over the state and keeps its writes.
    fn with<T>(
        &mut self,
        f: impl AsyncFnOnce(&mut Ctx<'_, &MemState>) -> Result<T, ExecError>,
    ) -> Result<(T, f64, u64), ExecError> {
        let info = self.info.clone();
        let (out, writes, micros, gas) = futures::executor::block_on(async {
            let mut o = Overlay::new(&self.state);
            let mut ctx = Ctx::new(&mut o, &info, "bench", u64::MAX, DEFAULT_COSTS);
            let start = Instant::now();
            let out = f(&mut ctx).await;
            let micros = start.elapsed().as_secs_f64() * 1e6;
            let gas = ctx.gas.used();
            drop(ctx);
            o.commit_tx();
            (out, o.into_writes(), micros, gas)
        });
        let out = out?;
        self.state.apply(&writes);
        Ok((out, micros, gas))
    }
}

/// Measures one size.
pub fn run(
    voters: u64,
    candidates: u64,
    max_members: u32,
    samples: usize,
) -> Result<ElectionBench, ExecError> {
    let setup = Instant::now();
    let params = DcertParams {
        max_members,
        min_member_stake: "1".into(),
        stabilization_period_secs: 0,
        ..DcertParams::default()
    };
    let mut b = Bench {
        state: MemState::default(),
        info: BlockInfo {
            height: 1,
            time_ms: 1_700_000_000_000,
        },
    };
    let op = address(1, 0);
    b.with(async |ctx| {
        state::set_params(ctx, &params)?;
        let tokens = u128::from(voters) * 1_000_000;
        let v = staking::state::Validator {
            operator: op,
            consensus_key: [1; 32],
            jailed: false,
            status: staking::state::Status::Bonded,
            tokens,
            shares: Dec::from_int(tokens).unwrap_or(Dec::ZERO),
            description: Default::default(),
            unbonding_height: 0,
            unbonding_time_ms: 0,
            commission: [Dec::ZERO; 3],
            commission_updated_ms: 0,
            min_self_delegation: 0,
        };
        staking::state::store_validator(ctx, &v)?;
        for c in 0..candidates {
            election::update_candidate(ctx, &params, &address(2, c), |rec| {
                rec.accepted = true;
                rec.bond = 1;
                Ok(())
            })
            .await?;
        }
        Ok(())
    })?;
    let mut rng = Lcg(7);
    // Voters in chunks, so each overlay stays small.
    let chunk = 10_000;
    for start in (0..voters).step_by(chunk) {
        let end = (start + chunk as u64).min(voters);
        let prefs: Vec<Vec<(Address, u128)>> = (start..end)
            .map(|_| preferences(&mut rng, candidates))
            .collect();
        b.with(async |ctx| {
            for (i, p) in (start..end).zip(prefs) {
                let voter = address(3, i);
                let stake = 1_000_000 + (i % 1000) as u128;
                let shares = Dec::from_int(stake).unwrap_or(Dec::ZERO);
                staking::state::set_shares(ctx, &voter, &op, shares).await?;
                election::set_vote(ctx, &voter, p).await?;
            }
            Ok(())
        })?;
    }
    b.with(async |ctx| election::maintain_seats(ctx, &params, 0).await)?;
    let setup_secs = setup.elapsed().as_secs_f64();

    let mut vote_update = Vec::with_capacity(samples);
    let mut delegation_change = Vec::with_capacity(samples);
    let mut seat_maintenance = Vec::with_capacity(samples);
    let mut gas = (Vec::new(), Vec::new(), Vec::new());
    for s in 0..samples {
        let voter = address(3, rng.below(voters));
        let prefs = preferences(&mut rng, candidates);
        let (_, t, g) = b.with(async |ctx| election::set_vote(ctx, &voter, prefs).await)?;
        vote_update.push(t);
        gas.0.push(g);
        let other = address(3, rng.below(voters));
        let shares = Dec::from_int(2_000_000 + s as u128).unwrap_or(Dec::ZERO);
        let ((t, g), _, _) = b.with(async |ctx| {
            staking::state::set_shares(ctx, &other, &op, shares).await?;
            let (start, before) = (Instant::now(), ctx.gas.used());
            election::stake_changed(ctx, &other).await?;
            Ok((start.elapsed().as_secs_f64() * 1e6, ctx.gas.used() - before))
        })?;
        delegation_change.push(t);
        gas.1.push(g);
        b.info.height += 1;
        b.info.time_ms += 1000;
        let since = b.info.time_ms - 1000;
        let (_, t, g) = b.with(async |ctx| election::maintain_seats(ctx, &params, since).await)?;
        seat_maintenance.push(t);
        gas.2.push(g);
    }
    Ok(ElectionBench {
        voters,
        candidates,
        max_members,
        setup_secs,
        vote_update_us: stats(vote_update),
        delegation_change_us: stats(delegation_change),
        seat_maintenance_us: stats(seat_maintenance),
        gas: (median(gas.0), median(gas.1), median(gas.2)),
    })
}
