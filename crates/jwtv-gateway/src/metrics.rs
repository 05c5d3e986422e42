//! Counters of a server [`Verifier`](crate::Verifier): verifications by outcome,
//! cache hits and misses, key-set fetches and age; as a snapshot struct and in
//! Prometheus text format.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use jwtv::{Algorithm, ErrorCode};

use crate::revoke::{RevocationGauges, RevocationKind};
use jwtv_jwks::{FetchFailure, KeySetGauges};

/// Live counters, updated with relaxed atomics (they are statistics, not
/// synchronisation).
#[derive(Debug, Default)]
pub(crate) struct Counters {
    /// Index 0: verified; index `code.to_u32()`: rejected with that code.
    outcomes: [AtomicU64; ErrorCode::ALL.len() + 1],
    cache_hits: AtomicU64,
    cache_misses: AtomicU64,
    /// Verification latency, by [`Outcome`].
    durations: [Histogram<{ LATENCY_BUCKETS_NS.len() }>; 3],
    /// Time spent in full verifications (signature and claims), in
    /// nanoseconds, by algorithm in [`Algorithm::ALL`] order, then tokens
    /// refused before their algorithm was known to be verifiable.
    full_ns: [AtomicU64; Algorithm::ALL.len() + 1],
    token_age: Histogram<{ AGE_BUCKETS_SECS.len() }>,
    token_remaining: Histogram<{ AGE_BUCKETS_SECS.len() }>,
    no_token: AtomicU64,
}

/// The three outcome classes of the latency histogram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    Valid,
    Rejected,
    Unavailable,
}

impl Outcome {
    const ALL: [Self; 3] = [Self::Valid, Self::Rejected, Self::Unavailable];

    fn as_str(self) -> &'static str {
        match self {
            Self::Valid => "valid",
            Self::Rejected => "rejected",
            Self::Unavailable => "unavailable",
        }
    }

    pub(crate) fn of(result: Result<(), ErrorCode>) -> Self {
        match result {
            Ok(()) => Self::Valid,
            Err(ErrorCode::Unavailable) => Self::Unavailable,
            Err(_) => Self::Rejected,
        }
    }

    fn index(self) -> usize {
        match self {
            Self::Valid => 0,
            Self::Rejected => 1,
            Self::Unavailable => 2,
        }
    }
}

/// Upper bounds of the latency buckets, in nanoseconds (1 µs to 10 ms; 5 ms
/// is the guide's latency objective).
pub const LATENCY_BUCKETS_NS: [u64; 13] = [
    1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000, 1_000_000, 2_500_000, 5_000_000, 10_000_000,
];

/// Upper bounds of the token age and remaining lifetime buckets, in seconds
/// (1 s to a week).
pub const AGE_BUCKETS_SECS: [u64; 9] = [1, 10, 60, 300, 900, 3_600, 14_400, 86_400, 604_800];

/// A histogram of fixed buckets, updated with relaxed atomics.
#[derive(Debug)]
struct Histogram<const N: usize> {
    /// Observations per bucket (not cumulative); the last slot is +Inf.
    counts: [AtomicU64; N],
    over: AtomicU64,
    sum: AtomicU64,
}

impl<const N: usize> Default for Histogram<N> {
    fn default() -> Self {
        Self { counts: core::array::from_fn(|_| AtomicU64::new(0)), over: AtomicU64::new(0), sum: AtomicU64::new(0) }
    }
}

impl<const N: usize> Histogram<N> {
    fn observe(&self, bounds: &[u64; N], value: u64) {
        match bounds.iter().position(|&bound| value <= bound).and_then(|i| self.counts.get(i)) {
            Some(slot) => slot.fetch_add(1, Ordering::Relaxed),
            None => self.over.fetch_add(1, Ordering::Relaxed),
        };
        self.sum.fetch_add(value, Ordering::Relaxed);
    }

    fn snapshot(&self) -> HistogramSnapshot<N> {
        let mut cumulative = [0; N];
        let mut running = 0u64;
        for (slot, count) in cumulative.iter_mut().zip(&self.counts) {
            running = running.saturating_add(count.load(Ordering::Relaxed));
            *slot = running;
        }
        HistogramSnapshot {
            cumulative,
            count: running.saturating_add(self.over.load(Ordering::Relaxed)),
            sum: self.sum.load(Ordering::Relaxed),
        }
    }
}

/// A histogram at snapshot time: cumulative counts per bucket bound, the
/// count of all observations and their sum (in the histogram's unit).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HistogramSnapshot<const N: usize> {
    /// Observations at or under each bound, in bound order.
    pub cumulative: [u64; N],
    /// All observations (the `+Inf` bucket).
    pub count: u64,
    /// The sum of the observed values.
    pub sum: u64,
}

impl<const N: usize> Default for HistogramSnapshot<N> {
    fn default() -> Self {
        Self { cumulative: [0; N], count: 0, sum: 0 }
    }
}

impl Counters {
    pub(crate) fn record(&self, outcome: Result<(), ErrorCode>, took: Duration) {
        let index = match outcome {
            Ok(()) => 0,
            Err(code) => usize::try_from(code.to_u32()).unwrap_or(0),
        };
        if let Some(counter) = self.outcomes.get(index) {
            counter.fetch_add(1, Ordering::Relaxed);
        }
        let nanos = u64::try_from(took.as_nanos()).unwrap_or(u64::MAX);
        if let Some(histogram) = self.durations.get(Outcome::of(outcome).index()) {
            histogram.observe(&LATENCY_BUCKETS_NS, nanos);
        }
    }

    /// A full verification (signature and claims) took `took`; `alg` is the
    /// verified token's algorithm (`None` for a refused one).
    pub(crate) fn full_verification(&self, alg: Option<Algorithm>, took: Duration) {
        let index = alg.and_then(|alg| Algorithm::ALL.iter().position(|&a| a == alg)).unwrap_or(Algorithm::ALL.len());
        if let Some(slot) = self.full_ns.get(index) {
            slot.fetch_add(u64::try_from(took.as_nanos()).unwrap_or(u64::MAX), Ordering::Relaxed);
        }
    }

    /// A valid token's age (`now − iat`) and remaining lifetime (`exp − now`), in seconds.
    pub(crate) fn token_times(&self, age: Option<u64>, remaining: Option<u64>) {
        if let Some(age) = age {
            self.token_age.observe(&AGE_BUCKETS_SECS, age);
        }
        if let Some(remaining) = remaining {
            self.token_remaining.observe(&AGE_BUCKETS_SECS, remaining);
        }
    }

    pub(crate) fn no_token(&self) {
        self.no_token.fetch_add(1, Ordering::Relaxed);
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
        let mut full_verification_ns = [0; Algorithm::ALL.len() + 1];
        for (slot, counter) in full_verification_ns.iter_mut().zip(&self.full_ns) {
            *slot = load(counter);
        }
        MetricsSnapshot {
            verified: self.outcomes.first().map_or(0, load),
            rejected,
            cache_hits: load(&self.cache_hits),
            cache_misses: load(&self.cache_misses),
            cache_entries: 0,
            keys,
            revocations: None,
            durations: self.durations.each_ref().map(Histogram::snapshot),
            full_verification_ns,
            token_age: self.token_age.snapshot(),
            token_remaining: self.token_remaining.snapshot(),
            requests_without_token: load(&self.no_token),
            shadow: None,
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
    /// Verification latency in nanoseconds (bounds [`LATENCY_BUCKETS_NS`]),
    /// by outcome: valid, rejected, unavailable.
    pub durations: [HistogramSnapshot<{ LATENCY_BUCKETS_NS.len() }>; 3],
    /// Nanoseconds spent in full verifications (signature and claims; cache
    /// hits aside), by algorithm in [`Algorithm::ALL`] order, then refused
    /// tokens (whose algorithm was not verified).
    pub full_verification_ns: [u64; Algorithm::ALL.len() + 1],
    /// Valid tokens' age at verification, `now − iat`, in seconds (bounds [`AGE_BUCKETS_SECS`]).
    pub token_age: HistogramSnapshot<{ AGE_BUCKETS_SECS.len() }>,
    /// Valid tokens' remaining lifetime at verification, `exp − now`, in seconds.
    pub token_remaining: HistogramSnapshot<{ AGE_BUCKETS_SECS.len() }>,
    /// Requests that carried no token at all, as a host reports them
    /// ([`Verifier::record_no_token`](crate::Verifier::record_no_token)): the
    /// denominator of "requests refused for want of a token".
    pub requests_without_token: u64,
    /// With a shadow policy ([`Policy::shadow`](crate::Policy::shadow)): the
    /// tokens the enforced policy accepted, by the shadow's verdict: index 0
    /// accepted, then would-be rejections by code in [`ErrorCode::ALL`] order.
    pub shadow: Option<[u64; ErrorCode::ALL.len() + 1]>,
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

    /// [`MetricsSnapshot::to_prometheus`] with a `policy` label on every
    /// sample (the policy document's `name`), so that several verifiers in
    /// one process stay apart. `policy` must be a valid name (A-Z, a-z, 0-9,
    /// `_`, `-`, `.`); anything else is left out of the label.
    ///
    /// ```
    /// # use jwtv_gateway::MetricsSnapshot;
    /// let text = MetricsSnapshot::default().to_prometheus_for("orders");
    /// assert!(text.contains("jwtv_verifications_total{policy=\"orders\",result=\"ok\"} 0\n"));
    /// assert!(text.contains("jwtv_keys{policy=\"orders\"} 0\n"));
    /// ```
    pub fn to_prometheus_for(&self, policy: &str) -> String {
        with_policy_label(&self.to_prometheus(), policy)
    }

    /// The counters in Prometheus text exposition format (version 0.0.4).
    pub fn to_prometheus(&self) -> String {
        let mut out = String::new();
        let mut outcomes = vec![(Some(("result", "ok")), self.verified)];
        outcomes.extend(ErrorCode::ALL.iter().map(|&code| (Some(("result", code.as_str())), self.rejected_with(code))));
        write_metric(
            &mut out,
            "jwtv_verifications_total",
            "counter",
            "Token verifications by result (ok or error code).",
            &outcomes,
        );
        write_metric(
            &mut out,
            "jwtv_token_cache_hits_total",
            "counter",
            "Verifications answered from the verified-token cache.",
            &[(None, self.cache_hits)],
        );
        write_metric(
            &mut out,
            "jwtv_token_cache_misses_total",
            "counter",
            "Verifications that missed the verified-token cache.",
            &[(None, self.cache_misses)],
        );
        let entries = u64::try_from(self.cache_entries).unwrap_or(u64::MAX);
        write_metric(
            &mut out,
            "jwtv_token_cache_entries",
            "gauge",
            "Tokens held in the verified-token cache.",
            &[(None, entries)],
        );
        write_metric(
            &mut out,
            "jwtv_requests_without_token_total",
            "counter",
            "Requests that carried no token (counted by the host: HTTP middleware, NGINX).",
            &[(None, self.requests_without_token)],
        );
        let mut full: Vec<(Option<(&str, &str)>, u64)> = Algorithm::ALL
            .iter()
            .zip(&self.full_verification_ns)
            .map(|(alg, &ns)| (Some(("alg", alg.name())), ns))
            .collect();
        full.push((Some(("alg", "unverified")), self.full_verification_ns.last().copied().unwrap_or(0)));
        let _ = writeln!(
            out,
            "# HELP jwtv_full_verification_seconds_total Time spent in full verifications (signature and claims, end \
             to end; cache hits aside), by the verified algorithm (unverified: refused tokens).\n\
             # TYPE jwtv_full_verification_seconds_total counter"
        );
        for (label, ns) in full {
            let (key, value) = label.unwrap_or(("alg", ""));
            let _ = writeln!(out, "jwtv_full_verification_seconds_total{{{key}=\"{value}\"}} {}", decimal(ns, 9));
        }
        let _ = writeln!(
            out,
            "# HELP jwtv_verification_duration_seconds Time to judge a token (cache hits included), by outcome.\n\
             # TYPE jwtv_verification_duration_seconds histogram"
        );
        for (outcome, histogram) in Outcome::ALL.iter().zip(&self.durations) {
            write_histogram(
                &mut out,
                "jwtv_verification_duration_seconds",
                &format!("outcome=\"{}\",", outcome.as_str()),
                &LATENCY_BUCKETS_NS,
                histogram,
                9,
            );
        }
        for (name, help, histogram) in [
            ("jwtv_token_age_seconds", "Valid tokens' age at verification (now - iat).", &self.token_age),
            (
                "jwtv_token_remaining_lifetime_seconds",
                "Valid tokens' remaining lifetime at verification (exp - now).",
                &self.token_remaining,
            ),
        ] {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
            write_histogram(&mut out, name, "", &AGE_BUCKETS_SECS, histogram, 0);
        }
        let f = &self.keys.fetches;
        write_metric(
            &mut out,
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
        let r = &self.keys.refetches;
        write_metric(
            &mut out,
            "jwtv_jwks_unknown_kid_refetches_total",
            "counter",
            "Early key set refetches asked for by tokens with an unknown kid, by result (refused: within the \
             cooldown or while a fetch was in flight).",
            &[
                (Some(("result", "updated")), r.updated),
                (Some(("result", "unchanged")), r.unchanged),
                (Some(("result", "failed")), r.failed),
                (Some(("result", "refused")), r.refused),
            ],
        );
        write_metric(
            &mut out,
            "jwtv_jwks_consecutive_failures",
            "gauge",
            "Key set fetches failed since the last success.",
            &[(None, u64::from(self.keys.consecutive_failures))],
        );
        let last = self.keys.last_failure.map(|f| f.reason());
        let reasons: Vec<_> =
            FetchFailure::REASONS.iter().map(|&r| (Some(("reason", r)), u64::from(last == Some(r)))).collect();
        write_metric(
            &mut out,
            "jwtv_jwks_last_failure",
            "gauge",
            "1 for the reason the last key set fetch failed, while it is the last one.",
            &reasons,
        );
        if let Some(skew_ms) = self.keys.server_skew_ms {
            let _ = writeln!(
                out,
                "# HELP jwtv_key_server_clock_skew_seconds How far the key server's clock (its Date header) is ahead of \
                 the local one (negative: behind).\n# TYPE jwtv_key_server_clock_skew_seconds gauge\n\
                 jwtv_key_server_clock_skew_seconds {}{}",
                if skew_ms < 0 { "-" } else { "" },
                decimal(skew_ms.unsigned_abs(), 3)
            );
        }
        let key_count = u64::try_from(self.keys.key_count).unwrap_or(u64::MAX);
        write_metric(&mut out, "jwtv_keys", "gauge", "Usable keys served now.", &[(None, key_count)]);
        write_metric(
            &mut out,
            "jwtv_key_set_generation",
            "gauge",
            "Generation of the served key set (0: none yet).",
            &[(None, self.keys.generation)],
        );
        if let Some(age) = self.keys.age_secs {
            write_metric(
                &mut out,
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
            write_metric(
                &mut out,
                "jwtv_revocations",
                "gauge",
                "Entries in the local copy of the revocation list.",
                &by_kind,
            );
            write_metric(
                &mut out,
                "jwtv_revocations_connected",
                "gauge",
                "1 while the revocation back end is reachable.",
                &[(None, u64::from(r.connected))],
            );
            write_metric(
                &mut out,
                "jwtv_revocations_sync_errors_total",
                "counter",
                "Failed syncs of the revocation list.",
                &[(None, r.sync_errors)],
            );
            write_metric(
                &mut out,
                "jwtv_revocations_invalid_entries",
                "gauge",
                "Entries of the revocation store the last sync could not take: revocations not enforced.",
                &[(None, r.invalid_entries)],
            );
            write_metric(
                &mut out,
                "jwtv_revocations_synced",
                "gauge",
                "1 once the revocation list has synced at least once; 0 before.",
                &[(None, u64::from(r.synced))],
            );
            if let Some(at) = r.last_sync_unix {
                write_metric(
                    &mut out,
                    "jwtv_revocations_last_sync_timestamp_seconds",
                    "gauge",
                    "Unix time of the last successful sync of the revocation list.",
                    &[(None, at)],
                );
            }
            write_metric(
                &mut out,
                "jwtv_revocations_sync_lag_seconds",
                "gauge",
                "Seconds since the revocation list was last known to be in sync (since it was opened, if never).",
                &[(None, r.sync_lag_secs)],
            );
        }
        if let Some(shadow) = &self.shadow {
            out.push_str(&crate::shadow::to_prometheus(shadow));
        }
        out
    }
}

/// Prometheus text with a `policy` label on every sample (characters a
/// policy name cannot hold are left out of the label).
pub(crate) fn with_policy_label(text: &str, policy: &str) -> String {
    let policy: String = policy.chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')).collect();
    let mut out = String::new();
    for line in text.lines() {
        if line.starts_with('#') {
            out.push_str(line);
        } else if let Some((name, rest)) = line.split_once('{') {
            let _ = write!(out, "{name}{{policy=\"{policy}\",{rest}");
        } else if let Some((name, value)) = line.split_once(' ') {
            let _ = write!(out, "{name}{{policy=\"{policy}\"}} {value}");
        }
        out.push('\n');
    }
    out
}

/// One metric's `# HELP` and `# TYPE` lines and its samples (one label at most).
fn write_metric(out: &mut String, name: &str, kind: &str, help: &str, samples: &[(Option<(&str, &str)>, u64)]) {
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
}

/// `value / 10^digits` in decimal, without a float (`1000, 9` → `0.000001`).
fn decimal(value: u64, digits: u32) -> String {
    let scale = 10u64.pow(digits);
    let (whole, fraction) = (value / scale, value % scale);
    if digits == 0 || fraction == 0 {
        return whole.to_string();
    }
    let fraction = format!("{fraction:0width$}", width = usize::try_from(digits).unwrap_or(0));
    format!("{whole}.{}", fraction.trim_end_matches('0'))
}

/// The `_bucket`, `_sum` and `_count` samples of one histogram series;
/// `labels` is empty or ends with a comma; values are in units of
/// `10^-digits` of the exported unit.
fn write_histogram<const N: usize>(
    out: &mut String,
    name: &str,
    labels: &str,
    bounds: &[u64; N],
    histogram: &HistogramSnapshot<N>,
    digits: u32,
) {
    for (bound, count) in bounds.iter().zip(histogram.cumulative) {
        let _ = writeln!(out, "{name}_bucket{{{labels}le=\"{}\"}} {count}", decimal(*bound, digits));
    }
    let _ = writeln!(out, "{name}_bucket{{{labels}le=\"+Inf\"}} {}", histogram.count);
    let labels = labels.trim_end_matches(',');
    let braces = if labels.is_empty() { String::new() } else { format!("{{{labels}}}") };
    let _ = writeln!(out, "{name}_sum{braces} {}", decimal(histogram.sum, digits));
    let _ = writeln!(out, "{name}_count{braces} {}", histogram.count);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_are_exact_without_floats() {
        assert_eq!(decimal(1_000, 9), "0.000001");
        assert_eq!(decimal(2_500, 9), "0.0000025");
        assert_eq!(decimal(1_500_000_000, 9), "1.5");
        assert_eq!(decimal(3_000_000_000, 9), "3");
        assert_eq!(decimal(604_800, 0), "604800");
        assert_eq!(decimal(9_500, 3), "9.5");
    }

    #[test]
    fn key_set_health_is_exported() {
        let mut keys = KeySetGauges::default();
        keys.consecutive_failures = 3;
        keys.last_failure = Some(FetchFailure::Timeout);
        keys.server_skew_ms = Some(-9_500);
        let text = Counters::default().snapshot(keys).to_prometheus();
        for line in [
            "jwtv_jwks_consecutive_failures 3\n",
            "jwtv_jwks_last_failure{reason=\"timeout\"} 1\n",
            "jwtv_jwks_last_failure{reason=\"transport\"} 0\n",
            "jwtv_key_server_clock_skew_seconds -9.5\n",
        ] {
            assert!(text.contains(line), "missing {line:?} in\n{text}");
        }
        assert_eq!(text.matches("jwtv_jwks_last_failure{").count(), FetchFailure::REASONS.len());
    }

    #[test]
    fn outcomes_are_counted_by_code() {
        let counters = Counters::default();
        counters.record(Ok(()), Duration::from_micros(3));
        counters.record(Ok(()), Duration::from_micros(30));
        counters.record(Err(ErrorCode::Expired), Duration::from_millis(20));
        counters.record(Err(ErrorCode::UnsupportedCrit), Duration::from_nanos(900));
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
        // Latency: cumulative buckets by outcome, sums in seconds.
        for line in [
            "jwtv_verification_duration_seconds_bucket{outcome=\"valid\",le=\"0.0000025\"} 0\n",
            "jwtv_verification_duration_seconds_bucket{outcome=\"valid\",le=\"0.000005\"} 1\n",
            "jwtv_verification_duration_seconds_bucket{outcome=\"valid\",le=\"0.00005\"} 2\n",
            "jwtv_verification_duration_seconds_sum{outcome=\"valid\"} 0.000033\n",
            "jwtv_verification_duration_seconds_count{outcome=\"valid\"} 2\n",
            "jwtv_verification_duration_seconds_bucket{outcome=\"rejected\",le=\"0.000001\"} 1\n",
            "jwtv_verification_duration_seconds_bucket{outcome=\"rejected\",le=\"0.01\"} 1\n",
            "jwtv_verification_duration_seconds_bucket{outcome=\"rejected\",le=\"+Inf\"} 2\n",
            "jwtv_verification_duration_seconds_count{outcome=\"unavailable\"} 0\n",
            "jwtv_jwks_consecutive_failures 0\n",
            "jwtv_jwks_last_failure{reason=\"transport\"} 0\n",
        ] {
            assert!(text.contains(line), "missing {line:?} in\n{text}");
        }
        // Every sample line is `name{labels} value` or `name value`, a number.
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let (_, value) = line.rsplit_once(' ').expect("sample");
            value.parse::<f64>().expect("numeric sample");
        }
    }

    #[test]
    fn revocation_gauges_are_exported() {
        let counters = Counters::default();
        counters.record(Err(ErrorCode::Revoked), Duration::ZERO);
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
