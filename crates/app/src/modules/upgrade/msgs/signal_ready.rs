//! `MsgSignalReady`: a validator operator attests it has the scheduled plan's binary (by
//! checksum). Unbreakable: readiness must be reportable while routes are broken.

use crate::context::Ctx;
use crate::error::ExecError;
use crate::modules::staking::state as staking;
use crate::modules::upgrade::state;
use crate::router::MsgHandler;
use caspur_store::StateRead;
use caspur_types::proto::upgrade::v1 as pb;
use caspur_types::upgrade_info::{is_sha256_hex, PlanInfo};
use caspur_types::{Address, Event};

/// The message.
pub type Msg = pb::MsgSignalReady;
/// Its type URL.
pub const TYPE_URL: &str = "/caspur.upgrade.v1.MsgSignalReady";

impl MsgHandler for Msg {
    const TYPE_URL: &'static str = TYPE_URL;
    type Response = pb::MsgSignalReadyResponse;

    fn signers(&self) -> Result<Vec<Address>, ExecError> {
        Ok(vec![Address::parse_account(&self.validator)?])
    }

    fn check_stateless(&self) -> Result<(), ExecError> {
        Address::parse_account(&self.validator)?;
        caspur_types::upgrade_info::check_name(&self.plan).map_err(ExecError::invalid_request)?;
        if !is_sha256_hex(&self.binary_sha256) {
            return Err(ExecError::invalid_request(
                "binary_sha256 must be 64 lower-case hex digits",
            ));
        }
        Ok(())
    }

    async fn execute<B: StateRead>(
        &self,
        ctx: &mut Ctx<'_, B>,
        _depth: u32,
    ) -> Result<Self::Response, ExecError> {
        let operator = Address::parse_account(&self.validator)?;
        if staking::get_validator(ctx, &operator).await?.is_none() {
            return Err(ExecError::unauthorized(format!(
                "{} operates no validator",
                self.validator
            )));
        }
        let scheduled = state::scheduled(ctx)
            .await?
            .ok_or_else(|| ExecError::invalid_request("no upgrade plan is scheduled"))?;
        let plan = state::plan_of(&scheduled)?;
        if plan.name != self.plan {
            return Err(ExecError::invalid_request(format!(
                "the scheduled plan is {:?}, not {:?}",
                plan.name, self.plan
            )));
        }
        let info = PlanInfo::parse(&plan.info).map_err(ExecError::logic)?;
        if !info.has_checksum(&self.binary_sha256) {
            return Err(ExecError::invalid_request(format!(
                "checksum {} matches no binary of plan {:?}: check the binary you placed",
                self.binary_sha256, plan.name
            )));
        }
        state::set_signal(
            ctx,
            &self.plan,
            &operator,
            &pb::ReadinessSignal {
                validator: self.validator.clone(),
                binary_sha256: self.binary_sha256.clone(),
                height: ctx.block.height as i64,
            },
        )?;
        ctx.emit(
            Event::new("upgrade_signal_ready")
                .attr("name", self.plan.clone())
                .attr("validator", self.validator.clone()),
        );
        Ok(pb::MsgSignalReadyResponse {})
    }
}
