//! Test fixture (not a release): `caspurd` carrying upgrade handlers for the upgrade tests'
//! plans — `v2`, a real migration (the app version becomes 2 and the gov voting period
//! doubles), `v2-broken`, whose handler panics (the canary-rollback case), and `v2-failing`,
//! whose handler returns an error (a block that cannot be applied: the node stops once with
//! the cause and the remedy).
#![allow(
    clippy::panic,
    reason = "a test fixture whose v2-broken handler panics on purpose"
)]

use caspur_app::modules::gov::state as gov;
use caspur_app::modules::upgrade::state as upgrade;
use caspur_cli::{Migrating, UpgradeHandlers};
use std::sync::Arc;

fn main() {
    let handlers = UpgradeHandlers::default()
        .with(
            "v2",
            Arc::new(|kv| {
                Box::pin(async move {
                    let mut kv = Migrating(kv);
                    upgrade::set_app_version(&mut kv, 2)?;
                    let mut params = gov::get_params(&mut kv).await?;
                    params.voting_period_secs = params.voting_period_secs.saturating_mul(2);
                    gov::set_params(&mut kv, &params)?;
                    Ok(())
                })
            }),
        )
        .with(
            "v2-broken",
            Arc::new(|_| Box::pin(async { panic!("v2-broken: migration bug (test fixture)") })),
        )
        .with(
            "v2-failing",
            Arc::new(|_| {
                Box::pin(async {
                    Err(caspur_app::error::ExecError::logic(
                        "v2-failing: the migration refuses (test fixture)",
                    ))
                })
            }),
        );
    caspur_cli::main_with(handlers);
}
