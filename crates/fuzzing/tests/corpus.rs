//! Every fuzz target over its committed corpus (`fuzz/corpus/<target>/`: seeds, the inputs the
//! long runs kept, and every crash ever found — each a regression test), then over
//! `CASPUR_FUZZ_CASES` (default 500) generated inputs per target: the short run CI makes.

// Tests fail loudly: the workspace denies these outside tests only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use caspur_fuzzing::{Target, TARGETS};
use std::path::PathBuf;

fn corpus_dir(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(name)
}

/// Deterministic pseudo-random inputs (xorshift), lengths 0–2 KiB.
fn generated(seed: u64, cases: usize) -> impl Iterator<Item = Vec<u8>> {
    let mut x = seed | 1;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    (0..cases).map(move |_| {
        let len = (next() % 2048) as usize;
        (0..len).map(|_| next() as u8).collect()
    })
}

fn run(name: &str, target: Target) {
    let mut inputs = 0;
    for (i, seed) in caspur_fuzzing::seeds::seeds(name).iter().enumerate() {
        let result = std::panic::catch_unwind(|| target(seed));
        assert!(result.is_ok(), "{name}: seed {i} fails");
    }
    if let Ok(entries) = std::fs::read_dir(corpus_dir(name)) {
        let mut paths: Vec<_> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        for path in paths {
            let data = std::fs::read(&path).unwrap();
            let result = std::panic::catch_unwind(|| target(&data));
            assert!(
                result.is_ok(),
                "{name}: corpus input {} fails",
                path.display()
            );
            inputs += 1;
        }
    }
    let cases = std::env::var("CASPUR_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(500);
    for (i, data) in generated(name.len() as u64 * 7919, cases).enumerate() {
        let result = std::panic::catch_unwind(|| target(&data));
        assert!(
            result.is_ok(),
            "{name}: generated input {i} fails: {data:02x?}"
        );
    }
    eprintln!("{name}: {inputs} corpus inputs and {cases} generated inputs pass");
}

macro_rules! corpus_tests {
    ($($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                let (name, target) = TARGETS
                    .iter()
                    .find(|(n, _)| *n == stringify!($name))
                    .expect("a registered target");
                run(name, *target);
            }
        )*

        #[test]
        fn every_target_has_a_test() {
            let tested = [$(stringify!($name)),*];
            for (name, _) in TARGETS {
                assert!(tested.contains(name), "target {name} has no corpus test");
            }
        }
    };
}

corpus_tests!(
    tx_decode,
    msg_walker,
    msg_handlers,
    block_codec,
    statesync_messages,
    rpc_requests,
    tx_search,
    sealed_reports,
);

/// Writes every target's seeds into its corpus directory (`cargo nextest run -p
/// caspur-fuzzing --run-ignored only write_seeds`), before a first long run.
#[test]
#[ignore]
fn write_seeds() {
    for (name, _) in TARGETS {
        let dir = corpus_dir(name);
        std::fs::create_dir_all(&dir).unwrap();
        for (i, seed) in caspur_fuzzing::seeds::seeds(name).iter().enumerate() {
            std::fs::write(dir.join(format!("seed-{i}")), seed).unwrap();
        }
    }
}

#[test]
fn the_certified_seed_block_carries_a_certificate_that_verifies() {
    use caspur_consensus::block::Block;
    use commonware_codec::DecodeExt as _;
    let seeds = caspur_fuzzing::seeds::seeds("block_codec");
    let block = Block::decode(seeds[1].clone()).unwrap();
    assert!(block.last_commit.is_some());
    let epocher = commonware_consensus::types::FixedEpocher::new(commonware_utils::NZU64!(100));
    let report = caspur_consensus::evidence::report(
        &block,
        caspur_fuzzing::consensus_targets::sets(),
        &epocher,
        &mut commonware_utils::test_rng(),
    );
    assert!(report.is_ok(), "{report:?}");
}

/// The message handlers' small state holds what the incident handlers need to get past
/// authorization: a dCERT member (key 1) and a reported incident.
#[test]
fn the_fuzz_chain_has_a_member_and_an_incident() {
    use caspur_app::context::Unmetered;
    let (_, state) = caspur_fuzzing::app_targets::chain();
    let (members, incident) = futures::executor::block_on(async {
        let mut kv = Unmetered(state);
        (
            caspur_app::modules::dcert::state::members(&mut kv)
                .await
                .unwrap(),
            caspur_app::modules::incident::state::incident(&mut kv, 1)
                .await
                .unwrap(),
        )
    });
    assert_eq!(members.len(), 1);
    assert_eq!(members[0].0, caspur_fuzzing::gen::addr(1));
    assert_eq!(
        incident.unwrap().reporter,
        caspur_fuzzing::gen::addr(2).to_string()
    );
}
