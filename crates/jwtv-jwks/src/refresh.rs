//! When to fetch a remote key set: [`Refresher`], a sans-I/O state machine.

use core::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::clock::millis;
use crate::digest::sha256;
use crate::discovery::DiscoveryProblem;
use crate::keyset::{JwksError, KeySet};
use crate::options::KeySetOptions;
use crate::tls::CertificateProblem;

/// Timings of a remote key set. The defaults suit an identity provider's
/// JWKS endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RefreshPolicy {
    /// Freshness when the response has no usable `max-age` (default 5 min).
    pub default_ttl: Duration,
    /// Lower clamp of `max-age`; also the freshness of `no-cache`/`no-store`
    /// answers (default 1 min).
    pub min_ttl: Duration,
    /// Upper clamp of `max-age` (default 24 h).
    pub max_ttl: Duration,
    /// How long past its freshness the last good set is still served while
    /// fetches fail (default 24 h). After that, no key is served.
    pub max_stale: Duration,
    /// At most one early refetch per this period for tokens naming an unknown
    /// `kid` (default 30 s).
    pub unknown_kid_cooldown: Duration,
    /// First retry delay after a failed fetch (default 1 s), doubled per failure…
    pub backoff_min: Duration,
    /// …up to this (default 2 min).
    pub backoff_max: Duration,
    /// A fetch still unanswered after this long counts as failed (default 10 s).
    /// Hosts use it as their request timeout.
    pub fetch_timeout: Duration,
}

impl Default for RefreshPolicy {
    fn default() -> Self {
        Self {
            default_ttl: Duration::from_secs(300),
            min_ttl: Duration::from_secs(60),
            max_ttl: Duration::from_secs(24 * 3600),
            max_stale: Duration::from_secs(24 * 3600),
            unknown_kid_cooldown: Duration::from_secs(30),
            backoff_min: Duration::from_secs(1),
            backoff_max: Duration::from_secs(120),
            fetch_timeout: Duration::from_secs(10),
        }
    }
}

/// What the host should do next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Fetch the key set now, sending `If-None-Match` when given, and report
    /// the result. The refresher counts the fetch as in flight until then.
    Fetch {
        /// The `ETag` of the set being served, for a conditional request.
        if_none_match: Option<String>,
    },
    /// Nothing to do until this time (or until [`Refresher::request_refetch`]
    /// says otherwise).
    WaitUntil(u64),
}

/// An HTTP answer to a fetch, as the host received it.
#[derive(Clone, Copy, Debug)]
pub struct FetchResponse<'a> {
    /// The status code.
    pub status: u16,
    /// The `ETag` header.
    pub etag: Option<&'a str>,
    /// The `Cache-Control` header.
    pub cache_control: Option<&'a str>,
    /// The body (ignored unless the status is 200).
    pub body: &'a [u8],
}

/// Why a fetch did not produce a key set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FetchFailure {
    /// The connection could not be made or broke (DNS, refused, TLS, reset).
    Transport,
    /// The server's TLS certificate was refused (counted with the
    /// transport errors in [`FetchCounts`]).
    Certificate(CertificateProblem),
    /// No complete answer within [`RefreshPolicy::fetch_timeout`].
    Timeout,
    /// A status other than 200, or a 304 with no set to renew.
    Status(u16),
    /// The body is not a readable JWKS document.
    Malformed(JwksError),
    /// The document has no usable key (every key was skipped).
    NoUsableKeys,
    /// The issuer's OpenID configuration gave no key set URL (counted with
    /// the malformed documents in [`FetchCounts`]).
    Discovery(DiscoveryProblem),
}

impl FetchFailure {
    /// A stable snake_case name of the kind of failure, for metrics labels
    /// and logs (bounded: one per variant).
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Transport => "transport",
            Self::Certificate(_) => "certificate",
            Self::Timeout => "timeout",
            Self::Status(_) => "http_status",
            Self::Malformed(_) => "malformed",
            Self::NoUsableKeys => "no_usable_keys",
            Self::Discovery(_) => "discovery",
        }
    }

    /// Every [`FetchFailure::reason`].
    pub const REASONS: [&'static str; 7] =
        ["transport", "certificate", "timeout", "http_status", "malformed", "no_usable_keys", "discovery"];
}

impl fmt::Display for FetchFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Transport => f.write_str("connection failed"),
            Self::Certificate(problem) => write!(f, "TLS certificate {problem}"),
            Self::Timeout => f.write_str("timed out"),
            Self::Status(status) => write!(f, "HTTP status {status}"),
            Self::Malformed(e) => write!(f, "{e}"),
            Self::NoUsableKeys => f.write_str("no usable key in the document"),
            Self::Discovery(problem) => write!(f, "{problem}"),
        }
    }
}

/// What a reported fetch did to the served set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// A new set is served, with this generation.
    Updated(u64),
    /// The same document came back (200 with identical bytes, or 304): freshness renewed.
    Unchanged,
    /// The fetch failed; the previous set (if any) is still served.
    Failed(FetchFailure),
}

/// Counts of fetch results since the refresher was made.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct FetchCounts {
    /// 200 answers that changed the set.
    pub updated: u64,
    /// 200 answers with the same document, and 304 answers.
    pub unchanged: u64,
    /// Transport failures (TLS certificate failures included).
    pub transport_errors: u64,
    /// Timeouts.
    pub timeouts: u64,
    /// Answers with another status.
    pub http_errors: u64,
    /// Malformed documents and documents without a usable key.
    pub malformed: u64,
}

impl FetchCounts {
    /// All fetches that ended.
    pub fn total(&self) -> u64 {
        self.updated + self.unchanged + self.transport_errors + self.timeouts + self.http_errors + self.malformed
    }

    /// These counts and `other`'s, added (the fetches of several sources).
    #[must_use]
    pub fn plus(&self, other: &Self) -> Self {
        Self {
            updated: self.updated.saturating_add(other.updated),
            unchanged: self.unchanged.saturating_add(other.unchanged),
            transport_errors: self.transport_errors.saturating_add(other.transport_errors),
            timeouts: self.timeouts.saturating_add(other.timeouts),
            http_errors: self.http_errors.saturating_add(other.http_errors),
            malformed: self.malformed.saturating_add(other.malformed),
        }
    }
}

/// What became of the early refetches tokens with an unknown `kid` asked
/// for ([`Refresher::request_refetch`]): the rotation signal of the
/// validation guide's M5.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RefetchCounts {
    /// Requests refused: a fetch was in flight or already granted, or the
    /// last fetch started within the cooldown.
    pub refused: u64,
    /// Granted refetches whose answer changed the set (a rotation picked up).
    pub updated: u64,
    /// Granted refetches answered with the same set: the `kid` is not the key server's either.
    pub unchanged: u64,
    /// Granted refetches that failed.
    pub failed: u64,
}

impl RefetchCounts {
    /// These counts and `other`'s, added (the refetches of several sources).
    #[must_use]
    pub fn plus(&self, other: &Self) -> Self {
        Self {
            refused: self.refused.saturating_add(other.refused),
            updated: self.updated.saturating_add(other.updated),
            unchanged: self.unchanged.saturating_add(other.unchanged),
            failed: self.failed.saturating_add(other.failed),
        }
    }
}

/// A snapshot of the refresher, for metrics and diagnosis.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RefreshStatus {
    /// Generation of the served set (0: none yet). It changes only when the
    /// document changes.
    pub generation: u64,
    /// Usable keys in the served set.
    pub key_count: usize,
    /// When the served set was last fetched or renewed.
    pub fetched_at: Option<u64>,
    /// Until when it is fresh.
    pub fresh_until: Option<u64>,
    /// Milliseconds since the served set was fetched or renewed.
    pub age_ms: Option<u64>,
    /// Whether keys are served at the time of the snapshot.
    pub serving: bool,
    /// Failed fetches since the last success.
    pub consecutive_failures: u32,
    /// The last failure, if the last fetch failed.
    pub last_failure: Option<FetchFailure>,
    /// When the next fetch is due.
    pub next_fetch_at: u64,
    /// Whether a fetch is in flight.
    pub in_flight: bool,
    /// Fetch results so far.
    pub fetches: FetchCounts,
    /// Unknown-`kid` refetches so far.
    pub refetches: RefetchCounts,
}

#[derive(Debug)]
struct Served {
    keys: Arc<KeySet>,
    generation: u64,
    digest: [u8; 32],
    etag: Option<String>,
    fetched_at: u64,
    fresh_until: u64,
}

/// The refresh policy of one remote key set: when to fetch it, and what to
/// serve meanwhile, as a sans-I/O state machine.
///
/// [`Refresher`] does no I/O and reads no clock. Its host (the blocking
/// [`RemoteJwks`](crate::RemoteJwks), an NGINX subrequest, a Go HTTP client, an
/// embedded stack) feeds it the time, asks [`Refresher::poll`] what to do,
/// performs the fetch it asks for, and reports the answer
/// ([`Refresher::on_response`]) or the failure ([`Refresher::on_failure`]).
/// Every host thus runs the same audited policy:
///
/// - freshness from `Cache-Control: max-age`, clamped to
///   [`RefreshPolicy::min_ttl`]..[`RefreshPolicy::max_ttl`];
///   [`RefreshPolicy::default_ttl`] when absent;
/// - refresh ahead of expiry, once 80% of the freshness lifetime has passed;
/// - conditional requests: `If-None-Match` with the last `ETag`; a 304 renews
///   freshness without re-reading the document;
/// - an unknown `kid` asks for one early refetch at most once per
///   [`RefreshPolicy::unknown_kid_cooldown`], and never while a fetch is in flight;
/// - a failed fetch (transport error, timeout, non-200/304 status, malformed
///   document, no usable key) never replaces the last good set, which keeps
///   being served until it is [`RefreshPolicy::max_stale`] past its freshness;
///   retries back off exponentially from [`RefreshPolicy::backoff_min`] to
///   [`RefreshPolicy::backoff_max`].
///
/// Times are milliseconds of any monotonic clock the host chooses.
///
/// ```
/// use jwtv_jwks::{Action, FetchResponse, KeySetOptions, RefreshPolicy, Refresher};
///
/// let mut refresher = Refresher::new(RefreshPolicy::default(), KeySetOptions::default());
/// let Action::Fetch { if_none_match } = refresher.poll(0) else { unreachable!() };
/// assert_eq!(if_none_match, None);
/// // … the host fetches the URL and reports the answer:
/// let body = br#"{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"k1","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}"#;
/// refresher.on_response(120, &FetchResponse { status: 200, etag: Some("\"v1\""), cache_control: Some("max-age=600"), body });
/// assert_eq!(refresher.keys(120).map(|set| set.len()), Some(1));
/// // Nothing to do until 80% of the ten minutes have passed.
/// assert_eq!(refresher.poll(1_000), Action::WaitUntil(120 + 480_000));
/// ```
#[derive(Debug)]
pub struct Refresher {
    policy: RefreshPolicy,
    options: KeySetOptions,
    served: Option<Served>,
    in_flight_since: Option<u64>,
    last_fetch_started: Option<u64>,
    next_fetch_at: u64,
    refetch_requested: bool,
    /// The fetch in flight is a refetch an unknown `kid` asked for.
    refetching: bool,
    failures: u32,
    last_failure: Option<FetchFailure>,
    generations: u64,
    counts: FetchCounts,
    refetches: RefetchCounts,
}

impl Refresher {
    /// A refresher with nothing served yet: the first [`Refresher::poll`] asks for a fetch.
    pub fn new(policy: RefreshPolicy, options: KeySetOptions) -> Self {
        Self {
            policy,
            options,
            served: None,
            in_flight_since: None,
            last_fetch_started: None,
            next_fetch_at: 0,
            refetch_requested: false,
            refetching: false,
            failures: 0,
            last_failure: None,
            generations: 0,
            counts: FetchCounts::default(),
            refetches: RefetchCounts::default(),
        }
    }

    /// The policy.
    pub fn policy(&self) -> &RefreshPolicy {
        &self.policy
    }

    /// What to do at `now`. Returns [`Action::Fetch`] at most once until the
    /// fetch is reported (or times out, which counts as a failure).
    pub fn poll(&mut self, now: u64) -> Action {
        if let Some(since) = self.in_flight_since {
            let deadline = since.saturating_add(millis(self.policy.fetch_timeout));
            if now < deadline {
                return Action::WaitUntil(deadline);
            }
            self.on_failure(now, FetchFailure::Timeout);
        }
        if self.refetch_requested || now >= self.next_fetch_at {
            self.refetching = self.refetch_requested;
            self.refetch_requested = false;
            self.in_flight_since = Some(now);
            self.last_fetch_started = Some(now);
            let if_none_match = self.served.as_ref().and_then(|s| s.etag.clone());
            return Action::Fetch { if_none_match };
        }
        Action::WaitUntil(self.next_fetch_at)
    }

    /// A token named a `kid` the served set does not have: asks for an early
    /// refetch. Returns true when one is granted (the next [`Refresher::poll`]
    /// will fetch); false while a fetch is in flight or within
    /// [`RefreshPolicy::unknown_kid_cooldown`] of the last fetch, however many
    /// tokens ask.
    pub fn request_refetch(&mut self, now: u64) -> bool {
        let cooldown = millis(self.policy.unknown_kid_cooldown);
        if self.in_flight_since.is_some()
            || self.refetch_requested
            || self.last_fetch_started.is_some_and(|started| now < started.saturating_add(cooldown))
        {
            self.refetches.refused = self.refetches.refused.saturating_add(1);
            return false;
        }
        self.refetch_requested = true;
        true
    }

    /// Reports the answer to the fetch [`Refresher::poll`] asked for.
    pub fn on_response(&mut self, now: u64, response: &FetchResponse<'_>) -> Outcome {
        let outcome = self.on_answer(now, response);
        self.count_refetch(&outcome);
        outcome
    }

    fn on_answer(&mut self, now: u64, response: &FetchResponse<'_>) -> Outcome {
        self.in_flight_since = None;
        match response.status {
            200 => self.on_document(now, response),
            304 if self.served.is_some() => {
                let ttl = self.ttl(response.cache_control);
                if let Some(served) = self.served.as_mut() {
                    if let Some(etag) = response.etag {
                        served.etag = Some(etag.to_owned());
                    }
                    served.fetched_at = now;
                    served.fresh_until = now.saturating_add(ttl);
                }
                self.succeeded(now, ttl);
                self.counts.unchanged += 1;
                Outcome::Unchanged
            }
            status => self.failed(now, FetchFailure::Status(status)),
        }
    }

    fn on_document(&mut self, now: u64, response: &FetchResponse<'_>) -> Outcome {
        let digest = sha256(response.body);
        let ttl = self.ttl(response.cache_control);
        let etag = response.etag.map(str::to_owned);
        if let Some(served) = self.served.as_mut().filter(|s| s.digest == digest) {
            served.etag = etag;
            served.fetched_at = now;
            served.fresh_until = now.saturating_add(ttl);
            self.succeeded(now, ttl);
            self.counts.unchanged += 1;
            return Outcome::Unchanged;
        }
        let keys = match KeySet::parse(response.body, &self.options) {
            Ok(keys) if keys.is_empty() => return self.failed(now, FetchFailure::NoUsableKeys),
            Ok(keys) => keys,
            Err(e) => return self.failed(now, FetchFailure::Malformed(e)),
        };
        self.generations += 1;
        let generation = self.generations;
        self.served = Some(Served {
            keys: Arc::new(keys),
            generation,
            digest,
            etag,
            fetched_at: now,
            fresh_until: now.saturating_add(ttl),
        });
        self.succeeded(now, ttl);
        self.counts.updated += 1;
        Outcome::Updated(generation)
    }

    /// Reports that the fetch [`Refresher::poll`] asked for failed.
    pub fn on_failure(&mut self, now: u64, failure: FetchFailure) -> Outcome {
        let outcome = self.failed(now, failure);
        self.count_refetch(&outcome);
        outcome
    }

    /// The end of a refetch an unknown `kid` asked for, counted by result.
    fn count_refetch(&mut self, outcome: &Outcome) {
        if !std::mem::take(&mut self.refetching) {
            return;
        }
        let counter = match outcome {
            Outcome::Updated(_) => &mut self.refetches.updated,
            Outcome::Unchanged => &mut self.refetches.unchanged,
            Outcome::Failed(_) => &mut self.refetches.failed,
        };
        *counter = counter.saturating_add(1);
    }

    fn failed(&mut self, now: u64, failure: FetchFailure) -> Outcome {
        self.in_flight_since = None;
        self.failures = self.failures.saturating_add(1);
        self.last_failure = Some(failure);
        let exponent = self.failures.saturating_sub(1).min(30);
        let delay = millis(self.policy.backoff_min).saturating_mul(1 << exponent).min(millis(self.policy.backoff_max));
        self.next_fetch_at = now.saturating_add(delay);
        match failure {
            FetchFailure::Transport | FetchFailure::Certificate(_) => self.counts.transport_errors += 1,
            FetchFailure::Timeout => self.counts.timeouts += 1,
            FetchFailure::Status(_) => self.counts.http_errors += 1,
            FetchFailure::Malformed(_) | FetchFailure::NoUsableKeys | FetchFailure::Discovery(_) => {
                self.counts.malformed += 1;
            }
        }
        Outcome::Failed(failure)
    }

    fn succeeded(&mut self, now: u64, ttl: u64) {
        self.failures = 0;
        self.last_failure = None;
        // Refresh ahead: once 80% of the lifetime has passed.
        self.next_fetch_at = now.saturating_add(ttl - ttl / 5);
    }

    /// The set to serve at `now`: the last good one, unless it is more than
    /// [`RefreshPolicy::max_stale`] past its freshness (or there is none yet).
    pub fn keys(&self, now: u64) -> Option<&Arc<KeySet>> {
        let served = self.served.as_ref()?;
        let limit = served.fresh_until.saturating_add(millis(self.policy.max_stale));
        (now <= limit).then_some(&served.keys)
    }

    /// The generation of the set [`Refresher::keys`] serves (0: none yet).
    pub fn generation(&self) -> u64 {
        self.served.as_ref().map_or(0, |s| s.generation)
    }

    /// A snapshot for metrics and diagnosis.
    pub fn status(&self, now: u64) -> RefreshStatus {
        RefreshStatus {
            generation: self.generation(),
            key_count: self.served.as_ref().map_or(0, |s| s.keys.len()),
            fetched_at: self.served.as_ref().map(|s| s.fetched_at),
            fresh_until: self.served.as_ref().map(|s| s.fresh_until),
            age_ms: self.served.as_ref().map(|s| now.saturating_sub(s.fetched_at)),
            serving: self.keys(now).is_some(),
            consecutive_failures: self.failures,
            last_failure: self.last_failure,
            next_fetch_at: self.next_fetch_at,
            in_flight: self.in_flight_since.is_some(),
            fetches: self.counts,
            refetches: self.refetches,
        }
    }

    /// Freshness lifetime in milliseconds for a `Cache-Control` header.
    fn ttl(&self, cache_control: Option<&str>) -> u64 {
        let min = millis(self.policy.min_ttl);
        let max = millis(self.policy.max_ttl).max(min);
        match cache_control.map(parse_cache_control) {
            Some(Some(seconds)) => seconds.saturating_mul(1000).clamp(min, max),
            _ => millis(self.policy.default_ttl).clamp(min, max),
        }
    }
}

/// The freshness a `Cache-Control` value grants, in seconds: `max-age`, or 0
/// for `no-cache`/`no-store`; `None` when it says neither.
fn parse_cache_control(value: &str) -> Option<u64> {
    let mut max_age = None;
    for directive in value.split(',').map(str::trim) {
        let (name, arg) = directive.split_once('=').unwrap_or((directive, ""));
        let name = name.trim();
        if name.eq_ignore_ascii_case("no-store") || name.eq_ignore_ascii_case("no-cache") {
            return Some(0);
        }
        if name.eq_ignore_ascii_case("max-age") {
            let arg = arg.trim().trim_matches('"');
            if !arg.is_empty() && arg.bytes().all(|b| b.is_ascii_digit()) {
                // Over-long values saturate (RFC 9111 §1.2.2).
                max_age = Some(arg.parse::<u64>().unwrap_or(u64::MAX));
            }
        }
    }
    max_age
}

#[cfg(test)]
mod tests {
    use super::*;

    const SET_V1: &[u8] =
        br#"{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"v1","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}"#;
    const SET_V2: &[u8] =
        br#"{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"v2","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}"#;
    const MIN: u64 = 60_000;

    fn ok<'a>(body: &'a [u8], max_age: Option<&'static str>) -> FetchResponse<'a> {
        FetchResponse { status: 200, etag: Some("\"e1\""), cache_control: max_age, body }
    }

    fn fetched(r: &mut Refresher, now: u64) -> Option<String> {
        match r.poll(now) {
            Action::Fetch { if_none_match } => if_none_match,
            other => panic!("expected a fetch at {now}, got {other:?}"),
        }
    }

    fn warm() -> Refresher {
        let mut r = Refresher::new(RefreshPolicy::default(), KeySetOptions::default());
        assert_eq!(fetched(&mut r, 0), None);
        assert_eq!(r.on_response(0, &ok(SET_V1, Some("max-age=600"))), Outcome::Updated(1));
        r
    }

    #[test]
    fn first_poll_fetches_once_until_reported() {
        let mut r = Refresher::new(RefreshPolicy::default(), KeySetOptions::default());
        assert!(r.keys(0).is_none());
        fetched(&mut r, 0);
        assert_eq!(r.poll(5), Action::WaitUntil(10_000), "in flight: wait for the timeout");
        assert_eq!(r.on_response(50, &ok(SET_V1, None)), Outcome::Updated(1));
        assert_eq!(r.keys(50).map(|k| k.len()), Some(1));
    }

    #[test]
    fn max_age_sets_freshness_and_refresh_ahead() {
        let mut r = warm();
        assert_eq!(r.status(0).fresh_until, Some(600_000));
        assert_eq!(r.poll(1), Action::WaitUntil(480_000));
        assert_eq!(fetched(&mut r, 480_000).as_deref(), Some("\"e1\""), "conditional request with the ETag");
    }

    #[test]
    fn max_age_is_clamped_and_defaulted() {
        let r = Refresher::new(RefreshPolicy::default(), KeySetOptions::default());
        assert_eq!(r.ttl(Some("max-age=5")), MIN);
        assert_eq!(r.ttl(Some("public, max-age=99999999")), 24 * 3600 * 1000);
        assert_eq!(r.ttl(Some("max-age=3600")), 3_600_000);
        assert_eq!(r.ttl(None), 300_000);
        assert_eq!(r.ttl(Some("max-age=-1")), 300_000, "invalid max-age: default");
        assert_eq!(r.ttl(Some("no-store")), MIN);
        assert_eq!(r.ttl(Some("max-age=99999999999999999999999")), 24 * 3600 * 1000);
    }

    #[test]
    fn not_modified_renews_freshness_without_a_new_generation() {
        let mut r = warm();
        fetched(&mut r, 480_000);
        let not_modified = FetchResponse { status: 304, etag: None, cache_control: Some("max-age=600"), body: b"" };
        assert_eq!(r.on_response(480_100, &not_modified), Outcome::Unchanged);
        assert_eq!(r.generation(), 1);
        assert_eq!(r.status(480_100).fresh_until, Some(1_080_100));
        assert_eq!(r.status(0).fetches.unchanged, 1);
    }

    #[test]
    fn same_document_keeps_generation_new_document_rotates() {
        let mut r = warm();
        fetched(&mut r, 480_000);
        assert_eq!(r.on_response(480_000, &ok(SET_V1, None)), Outcome::Unchanged);
        fetched(&mut r, 480_000 + 240_000);
        assert_eq!(r.on_response(720_000, &ok(SET_V2, None)), Outcome::Updated(2));
        let kids: Vec<_> = r.keys(720_000).into_iter().flat_map(|k| k.keys()).map(|k| k.kid()).collect();
        assert_eq!(kids, [Some("v2")], "the old key left with the old document");
    }

    #[test]
    fn failures_keep_the_last_good_set_and_back_off() {
        let mut r = warm();
        let mut now = 480_000;
        let bad: [(FetchResponse<'_>, FetchFailure); 3] = [
            (FetchResponse { status: 500, etag: None, cache_control: None, body: b"" }, FetchFailure::Status(500)),
            (ok(b"{not json", None), FetchFailure::Malformed(JwksError::Malformed)),
            (ok(br#"{"keys":[{"kty":"RSA"}]}"#, None), FetchFailure::NoUsableKeys),
        ];
        let mut delays = Vec::new();
        for (response, failure) in bad {
            fetched(&mut r, now);
            assert_eq!(r.on_response(now, &response), Outcome::Failed(failure));
            assert_eq!(r.generation(), 1, "a failed fetch never replaces the set");
            assert!(r.keys(now).is_some());
            let Action::WaitUntil(next) = r.poll(now) else { panic!("backing off") };
            delays.push(next - now);
            now = next;
        }
        fetched(&mut r, now);
        r.on_failure(now, FetchFailure::Transport);
        assert_eq!(delays, [1_000, 2_000, 4_000]);
        assert_eq!(r.status(now).consecutive_failures, 4);
        assert_eq!(r.status(now).last_failure, Some(FetchFailure::Transport));
    }

    #[test]
    fn backoff_is_capped() {
        let mut r = warm();
        let mut now = 480_000;
        for _ in 0..20 {
            fetched(&mut r, now);
            r.on_failure(now, FetchFailure::Transport);
            let Action::WaitUntil(next) = r.poll(now) else { panic!() };
            assert!(next - now <= 120_000);
            now = next;
        }
        assert_eq!(r.status(now).fetches.transport_errors, 20);
    }

    #[test]
    fn stale_set_is_served_until_max_stale_then_dropped() {
        let r = warm();
        let limit = 600_000 + 24 * 3600 * 1000;
        assert!(r.keys(limit).is_some());
        assert!(r.keys(limit + 1).is_none());
        assert!(!r.status(limit + 1).serving);
    }

    #[test]
    fn a_fetch_never_reported_times_out() {
        let mut r = warm();
        fetched(&mut r, 480_000);
        assert_eq!(r.poll(489_999), Action::WaitUntil(490_000));
        // At the deadline the fetch counts as failed, and the backoff applies.
        assert_eq!(r.poll(490_000), Action::WaitUntil(491_000));
        assert_eq!(r.status(490_000).fetches.timeouts, 1);
    }

    #[test]
    fn unknown_kid_refetch_is_single_flight_with_cooldown() {
        let mut r = warm();
        // Within the cooldown of the first fetch: refused, however many ask.
        assert!((0..10_000).all(|_| !r.request_refetch(29_999)));
        assert!(r.request_refetch(30_000));
        assert!(!r.request_refetch(30_000), "already granted");
        fetched(&mut r, 30_000);
        assert!(!r.request_refetch(30_001), "in flight");
        r.on_response(30_010, &ok(SET_V2, None));
        assert!(!r.request_refetch(59_999));
        assert!(r.request_refetch(60_000));
        // 10,000 + 1 + 1 + 1 refused; the granted one at 30,000 picked up a new set.
        assert_eq!(r.status(60_000).refetches, RefetchCounts { refused: 10_003, updated: 1, unchanged: 0, failed: 0 });
    }

    #[test]
    fn refetches_are_counted_by_what_became_of_them() {
        let mut r = warm();
        assert!(r.request_refetch(30_000));
        fetched(&mut r, 30_000);
        r.on_response(30_010, &ok(SET_V1, None));
        assert!(r.request_refetch(60_010));
        fetched(&mut r, 60_010);
        r.on_failure(60_020, FetchFailure::Transport);
        // A scheduled fetch is no refetch.
        fetched(&mut r, 10_000_000);
        r.on_response(10_000_010, &ok(SET_V2, None));
        assert!(r.request_refetch(10_100_000));
        fetched(&mut r, 10_100_000);
        // It times out.
        let _ = r.poll(10_100_000 + 60_000);
        let counts = r.status(10_200_000).refetches;
        assert_eq!((counts.updated, counts.unchanged, counts.failed), (0, 1, 2), "{counts:?}");
    }

    #[test]
    fn not_modified_without_a_set_is_a_failure() {
        let mut r = Refresher::new(RefreshPolicy::default(), KeySetOptions::default());
        fetched(&mut r, 0);
        let not_modified = FetchResponse { status: 304, etag: None, cache_control: None, body: b"" };
        assert_eq!(r.on_response(1, &not_modified), Outcome::Failed(FetchFailure::Status(304)));
    }

    #[test]
    fn cache_control_parsing() {
        assert_eq!(parse_cache_control("max-age=60"), Some(60));
        assert_eq!(parse_cache_control("public, Max-Age=\"120\", must-revalidate"), Some(120));
        assert_eq!(parse_cache_control("private"), None);
        assert_eq!(parse_cache_control("max-age=1e3"), None);
        assert_eq!(parse_cache_control("max-age=60, no-cache"), Some(0));
    }
}
