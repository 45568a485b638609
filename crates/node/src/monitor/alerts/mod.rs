//! Alerts the node computes itself from what its monitor sees ([`rules`]), fired and
//! resolved once each ([`engine`]), served at `/alerts` and sent to the incident webhooks.

pub mod engine;
pub mod journal;
pub mod rules;

#[cfg(test)]
mod tests;

pub use engine::{Alert, Engine, Transition};
pub use rules::{AlertRules, Condition, Evaluation, Inputs};
