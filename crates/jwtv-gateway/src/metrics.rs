//! Counters of a server [`Verifier`](crate::Verifier): verifications by outcome,
//! cache hits and misses, key-set fetches and age; as a snapshot struct and in
//! Prometheus text format.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};

use jwtv::ErrorCode;

use crate::revoke::{RevocationGauges, RevocationKind};
use jwtv_jwks::KeySetGauges;

/// Live counters, updated with relaxed atomics (they are statistics, not
/// synchronisation).
#[derive(Debug, Default)]
pub(crate) struct Counters {
    /// Index 0: verified; index `code.to_u32()`: rejected with that code.
    outcomes: [AtomicU64; ErrorCode::ALL.len() + 1],
    cache_hits: AtomicU64,
    cache_misses: AtomicU64,
}

impl Counters {
    pub(crate) fn record(&self, outcome: Result<(), ErrorCode>) {
        let index = match outcome {
            Ok(()) => 0,
            Err(code) => usize::try_from(code.to_u32()).unwrap_or(0),
        };
        if let Some(counter) = self.outcomes.get(index) {
            counter.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub(crate) fn cache_hit(&self) {
        self.cache_hits.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn cache_miss(&self) {
        self.cache_misses.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self, keys: KeySetGauges) -> MetricsSnapshot {
        let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let mut rejected = [0; ErrorCode::ALL.len()];
        for (slot, code) in rejected.iter_mut().zip(ErrorCode::ALL) {
            *slot = usize::try_from(code.to_u32()).ok().and_then(|i| self.outcomes.get(i)).map_or(0, load);
        }
        MetricsSnapshot {
            verified: self.outcomes.first().map_or(0, load),
            rejected,
            cache_hits: load(&self.cache_hits),
            cache_misses: load(&self.cache_misses),
            cache_entries: 0,
            keys,
            revocations: None,
        }
    }
}

/// A point-in-time copy of a verifier's counters.
///
/// ```
/// # use jwtv_gateway::MetricsSnapshot;
/// let snapshot = MetricsSnapshot::default();
/// let text = snapshot.to_prometheus();
/// assert!(text.contains("jwtv_verifications_total{result=\"ok\"} 0\n"));
/// assert!(text.contains("jwtv_verifications_total{result=\"expired\"} 0\n"));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct MetricsSnapshot {
    /// Tokens verified.
    pub verified: u64,
    /// Tokens rejected, per code, in [`ErrorCode::ALL`] order.
    pub rejected: [u64; ErrorCode::ALL.len()],
    /// Verifications answered from the verified-token cache.
    pub cache_hits: u64,
    /// Verifications that ran the signature check (the cache was on and missed).
    pub cache_misses: u64,
    /// Tokens held in the verified-token cache now.
    pub cache_entries: usize,
    /// The key source.
    pub keys: KeySetGauges,
    /// The revocation list, when the verifier has one. Rejections because of
    /// it are counted with the others, under [`ErrorCode::Revoked`].
    pub revocations: Option<RevocationGauges>,
}

impl MetricsSnapshot {
    /// Tokens rejected with `code`.
    pub fn rejected_with(&self, code: ErrorCode) -> u64 {
        ErrorCode::ALL.iter().position(|&c| c == code).and_then(|i| self.rejected.get(i)).copied().unwrap_or(0)
    }

    /// All tokens rejected.
    pub fn rejected_total(&self) -> u64 {
        self.rejected.iter().sum()
    }

    /// The counters in Prometheus text exposition format (version 0.0.4).
    pub fn to_prometheus(&self) -> String {
        let mut out = String::new();
        let mut metric = |name: &str, kind: &str, help: &str, samples: &[(Option<(&str, &str)>, u64)]| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
            for (label, value) in samples {
                match label {
                    Some((key, val)) => {
                        let _ = writeln!(out, "{name}{{{key}=\"{val}\"}} {value}");
                    }
                    None => {
                        let _ = writeln!(out, "{name} {value}");
                    }
                }
            }
        };
        let mut outcomes = vec![(Some(("result", "ok")), self.verified)];
        outcomes.extend(ErrorCode::ALL.iter().map(|&code| (Some(("result", code.as_str())), self.rejected_with(code))));
        metric("jwtv_verifications_total", "counter", "Token verifications by result (ok or error code).", &outcomes);
        metric(
            "jwtv_token_cache_hits_total",
            "counter",
            "Verifications answered from the verified-token cache.",
            &[(None, self.cache_hits)],
        );
        metric(
            "jwtv_token_cache_misses_total",
            "counter",
            "Verifications that missed the verified-token cache.",
            &[(None, self.cache_misses)],
        );
        let entries = u64::try_from(self.cache_entries).unwrap_or(u64::MAX);
        metric("jwtv_token_cache_entries", "gauge", "Tokens held in the verified-token cache.", &[(None, entries)]);
        let f = &self.keys.fetches;
        metric(
            "jwtv_jwks_fetches_total",
            "counter",
            "Key set fetches by result.",
            &[
                (Some(("result", "updated")), f.updated),
                (Some(("result", "unchanged")), f.unchanged),
                (Some(("result", "transport_error")), f.transport_errors),
                (Some(("result", "timeout")), f.timeouts),
                (Some(("result", "http_error")), f.http_errors),
                (Some(("result", "malformed")), f.malformed),
            ],
        );
        let key_count = u64::try_from(self.keys.key_count).unwrap_or(u64::MAX);
        metric("jwtv_keys", "gauge", "Usable keys served now.", &[(None, key_count)]);
        metric(
            "jwtv_key_set_generation",
            "gauge",
            "Generation of the served key set (0: none yet).",
            &[(None, self.keys.generation)],
        );
        if let Some(age) = self.keys.age_secs {
            metric(
                "jwtv_key_set_age_seconds",
                "gauge",
                "Seconds since the served key set was loaded or renewed.",
                &[(None, age)],
            );
        }
        if let Some(r) = &self.revocations {
            let count = |n: usize| u64::try_from(n).unwrap_or(u64::MAX);
            let by_kind: Vec<_> = RevocationKind::ALL
                .iter()
                .zip(r.by_kind)
                .map(|(kind, n)| (Some(("kind", kind.as_str())), count(n)))
                .collect();
            metric("jwtv_revocations", "gauge", "Entries in the local copy of the revocation list.", &by_kind);
            metric(
                "jwtv_revocations_connected",
                "gauge",
                "1 while the revocation back end is reachable.",
                &[(None, u64::from(r.connected))],
            );
            metric(
                "jwtv_revocations_sync_errors_total",
                "counter",
                "Failed syncs of the revocation list.",
                &[(None, r.sync_errors)],
            );
            metric(
                "jwtv_revocations_invalid_entries",
                "gauge",
                "Entries of the revocation store the last sync could not take: revocations not enforced.",
                &[(None, r.invalid_entries)],
            );
            metric(
                "jwtv_revocations_synced",
                "gauge",
                "1 once the revocation list has synced at least once; 0 before.",
                &[(None, u64::from(r.synced))],
            );
            if let Some(at) = r.last_sync_unix {
                metric(
                    "jwtv_revocations_last_sync_timestamp_seconds",
                    "gauge",
                    "Unix time of the last successful sync of the revocation list.",
                    &[(None, at)],
                );
            }
            metric(
                "jwtv_revocations_sync_lag_seconds",
                "gauge",
                "Seconds since the revocation list was last known to be in sync (since it was opened, if never).",
                &[(None, r.sync_lag_secs)],
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_are_counted_by_code() {
        let counters = Counters::default();
        counters.record(Ok(()));
        counters.record(Ok(()));
        counters.record(Err(ErrorCode::Expired));
        counters.record(Err(ErrorCode::UnsupportedCrit));
        counters.cache_hit();
        counters.cache_miss();
        counters.cache_miss();
        let mut keys = KeySetGauges::default();
        keys.key_count = 3;
        let snapshot = counters.snapshot(keys);
        assert_eq!(snapshot.verified, 2);
        assert_eq!(snapshot.rejected_with(ErrorCode::Expired), 1);
        assert_eq!(snapshot.rejected_with(ErrorCode::UnsupportedCrit), 1);
        assert_eq!(snapshot.rejected_with(ErrorCode::BadSignature), 0);
        assert_eq!(snapshot.rejected_total(), 2);
        assert_eq!((snapshot.cache_hits, snapshot.cache_misses), (1, 2));

        let text = snapshot.to_prometheus();
        assert!(text.contains("# TYPE jwtv_verifications_total counter\n"));
        assert!(text.contains("jwtv_verifications_total{result=\"ok\"} 2\n"));
        assert!(text.contains("jwtv_verifications_total{result=\"unsupported_crit\"} 1\n"));
        assert!(text.contains("jwtv_token_cache_misses_total 2\n"));
        assert!(text.contains("jwtv_keys 3\n"));
        assert!(!text.contains("jwtv_key_set_age_seconds"), "no age before a set is loaded");
        assert!(!text.contains("jwtv_revocations"), "no revocation list");
        // Every sample line is `name{labels} value` or `name value`.
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let (_, value) = line.rsplit_once(' ').expect("sample");
            value.parse::<u64>().expect("integer sample");
        }
    }

    #[test]
    fn revocation_gauges_are_exported() {
        let counters = Counters::default();
        counters.record(Err(ErrorCode::Revoked));
        let mut snapshot = counters.snapshot(KeySetGauges::default());
        snapshot.revocations = Some(RevocationGauges {
            entries: 6,
            by_kind: [3, 2, 1],
            synced: true,
            last_sync_unix: Some(1_700_000_000),
            sync_lag_secs: 4,
            sync_errors: 2,
            connected: false,
            invalid_entries: 1,
        });
        let text = snapshot.to_prometheus();
        for line in [
            "jwtv_verifications_total{result=\"revoked\"} 1\n",
            "jwtv_revocations{kind=\"jti\"} 3\n",
            "jwtv_revocations{kind=\"sub\"} 2\n",
            "jwtv_revocations{kind=\"kid\"} 1\n",
            "jwtv_revocations_connected 0\n",
            "jwtv_revocations_sync_errors_total 2\n",
            "jwtv_revocations_last_sync_timestamp_seconds 1700000000\n",
            "jwtv_revocations_sync_lag_seconds 4\n",
            "jwtv_revocations_synced 1\n",
            "jwtv_revocations_invalid_entries 1\n",
        ] {
            assert!(text.contains(line), "missing {line:?} in\n{text}");
        }
        // Never synced: the lag since the list was opened is exported all the
        // same, so the staleness alert fires for a list that never synced.
        snapshot.revocations = Some(RevocationGauges { sync_lag_secs: 75, ..RevocationGauges::default() });
        let text = snapshot.to_prometheus();
        assert!(text.contains("jwtv_revocations_synced 0\n"), "{text}");
        assert!(text.contains("jwtv_revocations_sync_lag_seconds 75\n"), "{text}");
        assert!(!text.contains("jwtv_revocations_last_sync_timestamp_seconds"), "{text}");
    }
}
