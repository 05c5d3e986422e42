//! Changes of the dependencies' state, reported once each, never per
//! request: a key server whose fetches start failing, fail for another
//! reason or succeed again, and a revocation store that stops or resumes
//! syncing.
//!
//! Each change is logged through `tracing` or `log` (targets `jwtv::keys`
//! and `jwtv::revocations`, failures at WARN, recoveries at INFO; nothing
//! without either feature) and queued for hosts that log themselves (C,
//! Go, NGINX), which take them with [`Verifier::take_state_changes`](crate::Verifier::take_state_changes).
//! Messages are escaped (Rust's `Debug` escapes, without quotes): a server's
//! answer in an error text can neither split a log line nor reach a terminal.

#![cfg_attr(not(any(feature = "tracing", feature = "log")), allow(unused_variables))]

use std::collections::VecDeque;
use std::sync::{Mutex, PoisonError};

use jwtv_jwks::FetchStateChange;

/// The most changes kept for a host to take; past it the oldest go, and the
/// next change taken says how many went.
pub const MAX_QUEUED_STATE_CHANGES: usize = 32;

/// One change of a dependency's state.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct StateChange {
    /// `"keys"` or `"revocations"`.
    pub dependency: &'static str,
    /// True when the dependency started failing (or fails for another
    /// reason), false when it recovered.
    pub failing: bool,
    /// What happened, escaped, with the policy's name.
    pub message: String,
}

/// The changes of one verifier: logged, and queued for its host.
#[derive(Debug, Default)]
pub(crate) struct StateLog {
    policy: Option<String>,
    queue: Mutex<(VecDeque<StateChange>, u64)>,
}

impl StateLog {
    pub(crate) fn new(policy: Option<&str>) -> Self {
        Self { policy: policy.map(str::to_owned), queue: Mutex::default() }
    }

    /// A key set's fetch state change.
    pub(crate) fn key_set(&self, change: &FetchStateChange) {
        let failing = matches!(change, FetchStateChange::Failing { .. });
        self.report("keys", failing, &change.to_string());
    }

    /// A revocation list stopped syncing (`Some(error)`) or syncs again.
    pub(crate) fn revocations(&self, source: &str, error: Option<&str>) {
        let message = match error {
            Some(error) => format!("revocation list {source} not in sync: {error}"),
            None => format!("revocation list {source} in sync again"),
        };
        self.report("revocations", error.is_some(), &message);
    }

    /// The changes not taken yet, oldest first.
    pub(crate) fn take(&self) -> Vec<StateChange> {
        let mut queue = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
        let (changes, dropped) = &mut *queue;
        let mut taken: Vec<StateChange> = changes.drain(..).collect();
        if *dropped > 0
            && let Some(first) = taken.first_mut()
        {
            first.message = format!("({dropped} earlier state changes not shown) {}", first.message);
            *dropped = 0;
        }
        taken
    }

    fn report(&self, dependency: &'static str, failing: bool, message: &str) {
        let policy = self.policy.as_deref().unwrap_or("-");
        let message = format!("policy={policy} {}", escaped(message));
        emit(dependency, failing, &message);
        let mut queue = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
        let (changes, dropped) = &mut *queue;
        if changes.len() >= MAX_QUEUED_STATE_CHANGES {
            changes.pop_front();
            *dropped += 1;
        }
        changes.push_back(StateChange { dependency, failing, message });
    }
}

/// `text` with control characters, quotes and backslashes escaped as Rust's
/// `Debug` writes them, without the surrounding quotes.
fn escaped(text: &str) -> String {
    let quoted = format!("{text:?}");
    quoted.get(1..quoted.len().saturating_sub(1)).unwrap_or_default().to_owned()
}

fn emit(dependency: &'static str, failing: bool, message: &str) {
    #[cfg(feature = "tracing")]
    {
        // `target:` must be a literal for tracing's macros.
        match (dependency, failing) {
            ("keys", true) => tracing::warn!(target: "jwtv::keys", "{message}"),
            ("keys", false) => tracing::info!(target: "jwtv::keys", "{message}"),
            (_, true) => tracing::warn!(target: "jwtv::revocations", "{message}"),
            (_, false) => tracing::info!(target: "jwtv::revocations", "{message}"),
        }
    }
    #[cfg(all(feature = "log", not(feature = "tracing")))]
    {
        let level = if failing { log::Level::Warn } else { log::Level::Info };
        let target = if dependency == "keys" { "jwtv::keys" } else { "jwtv::revocations" };
        log::log!(target: target, level, "{message}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_are_queued_escaped_bounded_and_never_lost_silently() {
        let log = StateLog::new(Some("orders-api"));
        log.revocations("redis://127.0.0.1:1", Some("connection refused\r\n\u{1b}[2J"));
        let taken = log.take();
        assert_eq!(taken.len(), 1);
        assert!(taken[0].failing && taken[0].dependency == "revocations");
        assert_eq!(
            taken[0].message,
            "policy=orders-api revocation list redis://127.0.0.1:1 not in sync: connection refused\\r\\n\\u{1b}[2J"
        );
        assert!(log.take().is_empty(), "taken once");

        for i in 0..MAX_QUEUED_STATE_CHANGES + 3 {
            log.revocations(&format!("file-{i}"), None);
        }
        let taken = log.take();
        assert_eq!(taken.len(), MAX_QUEUED_STATE_CHANGES);
        assert!(
            taken[0]
                .message
                .starts_with("(3 earlier state changes not shown) policy=orders-api revocation list file-3 ")
        );
        assert!(!taken[0].failing);
    }
}
