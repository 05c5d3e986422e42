//! Changes of the dependencies' state, logged once each, never per request:
//! a key server whose fetches start failing, fail for another reason or
//! succeed again (target `jwtv::keys`), and a revocation store that stops or
//! resumes syncing (target `jwtv::revocations`). Failures at WARN, recoveries
//! at INFO, through `tracing` or `log` as the audit events are; nothing
//! without either feature. Messages are written escaped (Rust's `Debug`
//! quoting), as any text that may hold what a server answered.

#![cfg_attr(not(any(feature = "tracing", feature = "log")), allow(dead_code, unused_variables))]

use jwtv_jwks::FetchStateChange;

/// Logs a key set's fetch state change.
pub(crate) fn key_set(policy: Option<&str>, change: &FetchStateChange) {
    let failing = matches!(change, FetchStateChange::Failing { .. });
    emit("jwtv::keys", failing, policy, &change.to_string());
}

/// Logs that a revocation list stopped syncing (`Some(error)`) or syncs again.
pub(crate) fn revocations(policy: Option<&str>, source: &str, error: Option<&str>) {
    let message = match error {
        Some(error) => format!("revocation list {source} not in sync: {error}"),
        None => format!("revocation list {source} in sync again"),
    };
    emit("jwtv::revocations", error.is_some(), policy, &message);
}

fn emit(target: &'static str, failing: bool, policy: Option<&str>, message: &str) {
    let policy = policy.unwrap_or("-");
    #[cfg(feature = "tracing")]
    {
        // `target:` must be a literal for tracing's macros.
        match (target, failing) {
            ("jwtv::keys", true) => tracing::warn!(target: "jwtv::keys", policy, message = ?message),
            ("jwtv::keys", false) => tracing::info!(target: "jwtv::keys", policy, message = ?message),
            (_, true) => tracing::warn!(target: "jwtv::revocations", policy, message = ?message),
            (_, false) => tracing::info!(target: "jwtv::revocations", policy, message = ?message),
        }
    }
    #[cfg(all(feature = "log", not(feature = "tracing")))]
    {
        let level = if failing { log::Level::Warn } else { log::Level::Info };
        log::log!(target: target, level, "policy={policy} {message:?}");
    }
}
