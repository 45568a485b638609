//! The sorted index in state against a model (`BTreeSet`): random inserts and removals across
//! many page splits and emptied pages, with the largest entries read back in order.

// Tests fail loudly: the workspace denies these outside tests only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use caspur_app::context::Direct;
use caspur_app::sorted_index::{SortedIndex, PAGE_MAX};
use caspur_store::{MemState, Overlay};
use std::collections::BTreeSet;

const INDEX: SortedIndex = SortedIndex::new([0x7f, 1], 4);

#[test]
fn the_index_matches_a_model_under_random_operations() {
    let base = MemState::default();
    let mut o = Overlay::new(&base);
    let mut model = BTreeSet::new();
    let mut x: u64 = 12345;
    futures::executor::block_on(async {
        for step in 0..20_000u32 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let value = ((x >> 33) % 3000) as u32;
            let entry = value.to_be_bytes().to_vec();
            // Mostly inserts early on, mostly removals later: pages split and then empty.
            let insert = (x >> 20) % 100 < if step < 10_000 { 70 } else { 30 };
            if insert {
                INDEX.insert(&mut Direct(&mut o), &entry).await.unwrap();
                model.insert(entry);
            } else {
                let removed = INDEX.remove(&mut Direct(&mut o), &entry).await.unwrap();
                assert_eq!(removed, model.remove(&entry), "step {step}");
            }
            if step % 997 == 0 {
                let want: Vec<Vec<u8>> = model.iter().rev().take(3 * PAGE_MAX).cloned().collect();
                let got = INDEX
                    .descending(&mut Direct(&mut o), 3 * PAGE_MAX)
                    .await
                    .unwrap();
                assert_eq!(got, want, "step {step}");
            }
        }
        let all = INDEX
            .descending(&mut Direct(&mut o), usize::MAX)
            .await
            .unwrap();
        assert_eq!(all, model.iter().rev().cloned().collect::<Vec<_>>());
        assert_eq!(
            INDEX.last(&mut Direct(&mut o)).await.unwrap(),
            model.iter().next_back().cloned()
        );
        // A wrong-length entry is refused.
        assert!(INDEX.insert(&mut Direct(&mut o), &[1, 2]).await.is_err());
    });
}
