//! [`RemoteJwks`]: a remote key set kept fresh by a background thread, the
//! blocking host of [`Refresher`]. Its type docs state the behaviour.

use core::fmt;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError, RwLock};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ureq::http::{HeaderMap, Uri};

use crate::clock::{Clock, SystemClock, millis};
use crate::discovery::DiscoveryProblem;
use crate::discovery::{self, MAX_CONFIGURATION_BYTES};
use crate::keyset::{JwksError, KeySet};
use crate::options::KeySetOptions;
use crate::refresh::{Action, FetchFailure, FetchResponse, RefreshPolicy, RefreshStatus, Refresher};
use crate::tls::{CertificateProblem, TrustRoots};

/// The `User-Agent` of every fetch.
const USER_AGENT: &str = concat!("jwtv-jwks/", env!("CARGO_PKG_VERSION"));

/// Why a [`RemoteJwks`] could not be made.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RemoteError {
    /// The URL cannot be read as an absolute `http` or `https` URL.
    InvalidUrl {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The URL's scheme is neither `http` nor `https`.
    UnsupportedScheme(String),
    /// The background thread could not be started.
    Spawn(std::io::ErrorKind),
}

impl fmt::Display for RemoteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidUrl { reason } => write!(f, "invalid JWKS URL: {reason}"),
            Self::UnsupportedScheme(scheme) => {
                write!(f, "unsupported JWKS URL scheme {scheme:?} (http and https are supported)")
            }
            Self::Spawn(kind) => write!(f, "cannot start the JWKS refresh thread: {kind}"),
        }
    }
}

impl std::error::Error for RemoteError {}

/// The `Date` of an answer from the key server, for estimating clock skew.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServerDate {
    /// The answer's `Date` header (an IMF-fixdate, RFC 9110 §5.6.7), in Unix seconds.
    pub server_unix_secs: u64,
    /// The local wall clock ([`SystemTime`]) when the answer's headers
    /// arrived, in Unix milliseconds.
    pub received_unix_ms: u64,
    /// From sending the request to receiving the answer's headers.
    pub round_trip: Duration,
}

impl ServerDate {
    /// How far the server's clock is ahead of the local one, in milliseconds
    /// (negative: behind).
    ///
    /// The server stamped its `Date` somewhere within the round trip, and the
    /// header has a resolution of one second: the estimate takes the middle
    /// of both, so it is good to within half the round trip plus half a second.
    ///
    /// ```
    /// use std::time::Duration;
    /// use jwtv_jwks::ServerDate;
    ///
    /// // Stamped 1_700_000_000, received at 1_700_000_010.100 s local time
    /// // after a 200 ms round trip: the server is about 9.5 s behind.
    /// let mut d = ServerDate::default();
    /// d.server_unix_secs = 1_700_000_000;
    /// d.received_unix_ms = 1_700_000_010_100;
    /// d.round_trip = Duration::from_millis(200);
    /// assert_eq!(d.estimated_skew_ms(), -9_500);
    /// ```
    pub fn estimated_skew_ms(&self) -> i64 {
        let server_mid = i128::from(self.server_unix_secs) * 1000 + 500;
        let local_mid = i128::from(self.received_unix_ms) - self.round_trip.as_millis().try_into().unwrap_or(0i128) / 2;
        let skew = server_mid - local_mid;
        i64::try_from(skew).unwrap_or(if skew < 0 { i64::MIN } else { i64::MAX })
    }
}

impl Default for ServerDate {
    /// The epoch, received at the epoch, with no latency. Only useful to build
    /// a value field by field.
    fn default() -> Self {
        Self { server_unix_secs: 0, received_unix_ms: 0, round_trip: Duration::ZERO }
    }
}

/// A JWKS URL kept fresh by a background thread, shared by cheap clones:
/// the blocking host of [`Refresher`].
///
/// ```no_run
/// use std::time::Duration;
/// use jwtv::Policy;
/// use jwtv_jwks::{KeySetOptions, RefreshPolicy, RemoteJwks};
///
/// let jwks = RemoteJwks::new("https://issuer.example/.well-known/jwks.json", RefreshPolicy::default(), KeySetOptions::default())?;
/// // At startup: wait a little for the first fetch.
/// jwks.wait_ready(Duration::from_secs(5));
/// // On each request: never blocks on the network.
/// if let Some((keys, _generation)) = jwks.current() {
///     let verifier = keys.verifier(Policy::new().issuer("https://issuer.example").audience("api"));
///     # let _ = verifier;
/// }
/// # Ok::<(), jwtv_jwks::RemoteError>(())
/// ```
///
/// Each value made by [`RemoteJwks::new`] owns one thread. The thread asks
/// the refresher what to do, performs the GET it asks for (with
/// `If-None-Match` when a set with an `ETag` is served), reports the answer or
/// the failure, and sleeps until the next fetch is due or until it is woken
/// ([`RemoteJwks::request_refetch`], [`RemoteJwks::wake`], the last clone being
/// dropped). The policy itself (freshness, refresh-ahead, backoff, stale
/// serving, unknown-`kid` cooldown) is the refresher's: see
/// [`Refresher`](crate::Refresher).
///
/// The verify path never waits on the network: [`RemoteJwks::current`] reads
/// the served set under a read lock held only to clone an [`Arc`], and no lock
/// is held while a request is on the wire.
///
/// How answers map to the refresher:
///
/// - status, `ETag`, `Cache-Control` (all field lines, joined with `, `) and
///   the body of a 200 go to [`Refresher::on_response`]; the body of any other
///   status is not read;
/// - a body over [`KeySetOptions::max_bytes`] (by `Content-Length`, or while
///   reading) is [`FetchFailure::Malformed`]`(`[`JwksError::TooLarge`]`)`, and
///   is never read past the limit;
/// - [`RefreshPolicy::fetch_timeout`] bounds the whole exchange (DNS, connect,
///   TLS, headers and body); running out is [`FetchFailure::Timeout`];
/// - a certificate the [`TrustRoots`] refuse is [`FetchFailure::Certificate`]
///   (unknown issuer, expired, name mismatch…); DNS, connection, other TLS
///   and HTTP protocol errors are [`FetchFailure::Transport`];
/// - redirects are not followed: a 3xx is [`FetchFailure::Status`], so
///   configure the final URL (following one could move an `https` URL to
///   plain `http`);
/// - proxies come from the usual environment variables (`HTTPS_PROXY`,
///   `NO_PROXY`, …); `https` servers are checked against [`TrustRoots`]:
///   the system's trust store unless [`RemoteJwks::with_trust`] names others
///   (rustls with ring).
///
/// Requests carry `User-Agent: jwtv-jwks/<version>`. Nothing is logged.
///
/// The thread stops when the last clone is dropped: at once when it is
/// waiting, or when the request on the wire ends (within
/// [`RefreshPolicy::fetch_timeout`]) when it is fetching. Dropping never blocks.
#[derive(Clone)]
pub struct RemoteJwks {
    owner: Arc<Owner>,
}

/// Held only by the handles: dropping the last one stops the thread, which
/// holds the [`Shared`] state but no [`Owner`].
struct Owner {
    shared: Arc<Shared>,
}

/// A change of a remote key set's fetch state, reported once, when it
/// happens ([`RemoteJwks::on_change`]), never per request.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FetchStateChange {
    /// Fetches started failing, or now fail for another reason.
    Failing {
        /// The JWKS URL (or the issuer, with discovery), as configured.
        url: String,
        /// Why the last fetch failed.
        failure: FetchFailure,
        /// Failed fetches since the last success.
        consecutive: u32,
        /// Whether the last good set is still served.
        serving: bool,
    },
    /// A fetch succeeded after failures.
    Recovered {
        /// The JWKS URL (or the issuer, with discovery), as configured.
        url: String,
        /// How many fetches had failed in a row.
        after_failures: u32,
    },
}

impl fmt::Display for FetchStateChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Failing { url, failure, consecutive, serving } => {
                let served = if *serving { "the last good key set is still served" } else { "no key set is served" };
                write!(f, "key set fetches from {url} failing ({consecutive} in a row): {failure}; {served}")
            }
            Self::Recovered { url, after_failures } => {
                write!(f, "key set fetches from {url} succeed again, after {after_failures} failed")
            }
        }
    }
}

/// What [`RemoteJwks::on_change`] calls.
type Observer = Arc<dyn Fn(&FetchStateChange) + Send + Sync>;

struct Shared {
    /// The JWKS URL, or the issuer whose configuration names it.
    url: String,
    /// Told of fetch state changes, on the refresh thread.
    observers: RwLock<Vec<Observer>>,
    /// With discovery: the `jwks_uri` found last (`None` until then).
    discovered: Option<Mutex<Option<String>>>,
    clock: Arc<dyn Clock>,
    max_stale_ms: u64,
    /// The refresher and the thread's flags. Never held across a request.
    state: Mutex<State>,
    /// Wakes the thread: wake, granted refetch, shutdown.
    wake: Condvar,
    /// Wakes [`RemoteJwks::wait_ready`]: a fetch ended.
    fetched: Condvar,
    /// What [`RemoteJwks::current`] reads. Written under `state`.
    served: RwLock<Option<Snapshot>>,
    last_date: Mutex<Option<ServerDate>>,
}

struct State {
    refresher: Refresher,
    woken: bool,
    shutdown: bool,
}

#[derive(Clone)]
struct Snapshot {
    keys: Arc<KeySet>,
    generation: u64,
    /// The last time at which the set may be served (freshness plus max_stale).
    serve_until: u64,
}

impl RemoteJwks {
    /// Starts keeping `url` fresh with the system's monotonic clock.
    ///
    /// The URL must be an absolute `http` or `https` URL with a host; the
    /// first fetch starts at once, in the background.
    pub fn new(url: &str, policy: RefreshPolicy, options: KeySetOptions) -> Result<Self, RemoteError> {
        Self::start(url, policy, options, Arc::new(SystemClock::new()), &TrustRoots::system(), false)
    }

    /// Keeps the key set of an OpenID Connect issuer fresh: its
    /// configuration (`<issuer>/.well-known/openid-configuration`) names the
    /// JWKS URL (`jwks_uri`), then that URL is refreshed as
    /// [`RemoteJwks::new`] refreshes one.
    ///
    /// The configuration must name exactly this `issuer` and, for an `https`
    /// issuer, an `https` `jwks_uri` ([`DiscoveryProblem`](crate::DiscoveryProblem)
    /// otherwise, reported as [`FetchFailure::Discovery`]). It is read again
    /// every [`RefreshPolicy::max_ttl`], and after a failed key set fetch once
    /// it is [`RefreshPolicy::min_ttl`] old, so a moved `jwks_uri` is followed.
    pub fn discover(
        issuer: &str,
        policy: RefreshPolicy,
        options: KeySetOptions,
        roots: &TrustRoots,
    ) -> Result<Self, RemoteError> {
        Self::start(issuer, policy, options, Arc::new(SystemClock::new()), roots, true)
    }

    /// Like [`RemoteJwks::new`], trusting `roots` for an `https` URL (a
    /// private CA) in place of the system's trust store.
    pub fn with_trust(
        url: &str,
        policy: RefreshPolicy,
        options: KeySetOptions,
        roots: &TrustRoots,
    ) -> Result<Self, RemoteError> {
        Self::start(url, policy, options, Arc::new(SystemClock::new()), roots, false)
    }

    /// Checks `url` as [`RemoteJwks::new`] does, without starting anything
    /// (for configuration tests).
    pub fn check_url(url: &str) -> Result<(), RemoteError> {
        validate_url(url)
    }

    /// Like [`RemoteJwks::new`], with the clock that times freshness, backoff
    /// and cooldowns (a [`ManualClock`](crate::ManualClock) in tests; call
    /// [`RemoteJwks::wake`] after moving it). Network timeouts always run on
    /// real time.
    pub fn with_clock(
        url: &str,
        policy: RefreshPolicy,
        options: KeySetOptions,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, RemoteError> {
        Self::start(url, policy, options, clock, &TrustRoots::system(), false)
    }

    fn start(
        url: &str,
        policy: RefreshPolicy,
        options: KeySetOptions,
        clock: Arc<dyn Clock>,
        roots: &TrustRoots,
        discover: bool,
    ) -> Result<Self, RemoteError> {
        validate_url(url)?;
        let tls = ureq::tls::TlsConfig::builder().root_certs(roots.root_certs()).build();
        let agent = ureq::Agent::new_with_config(
            ureq::Agent::config_builder()
                .tls_config(tls)
                .http_status_as_error(false)
                .max_redirects(0)
                .max_redirects_will_error(false)
                .timeout_global(Some(policy.fetch_timeout))
                .user_agent(USER_AGENT)
                .accept("application/jwk-set+json, application/json")
                .build(),
        );
        let shared = Arc::new(Shared {
            url: url.to_owned(),
            observers: RwLock::new(Vec::new()),
            discovered: discover.then(|| Mutex::new(None)),
            clock,
            max_stale_ms: millis(policy.max_stale),
            state: Mutex::new(State { refresher: Refresher::new(policy, options), woken: false, shutdown: false }),
            wake: Condvar::new(),
            fetched: Condvar::new(),
            served: RwLock::new(None),
            last_date: Mutex::new(None),
        });
        let worker = Worker {
            shared: Arc::clone(&shared),
            agent,
            max_bytes: options.max_bytes,
            discovered_at: None,
            last_fetch_failed: false,
            reported: None,
            failures_seen: 0,
            rediscover_every: policy.max_ttl,
            rediscover_after_failure: policy.min_ttl,
        };
        thread::Builder::new()
            .name("jwtv-jwks-refresh".to_owned())
            .spawn(move || worker.run())
            .map_err(|e| RemoteError::Spawn(e.kind()))?;
        Ok(Self { owner: Arc::new(Owner { shared }) })
    }

    fn shared(&self) -> &Shared {
        &self.owner.shared
    }

    /// The set being served now and its generation: `None` before the first
    /// successful fetch, or once the last good set is more than
    /// [`RefreshPolicy::max_stale`] past its freshness. Never blocks on the
    /// network.
    pub fn current(&self) -> Option<(Arc<KeySet>, u64)> {
        self.shared().current()
    }

    /// Waits up to `timeout` for a set to serve (returning at once when there
    /// is one), then returns [`RemoteJwks::current`]. Meant for startup: the
    /// first fetch, and its retries, run meanwhile.
    pub fn wait_ready(&self, timeout: Duration) -> Option<(Arc<KeySet>, u64)> {
        let shared = self.shared();
        let deadline = Instant::now().checked_add(timeout);
        let mut state = shared.lock_state();
        loop {
            if let Some(found) = shared.current() {
                return Some(found);
            }
            let left = match deadline {
                Some(deadline) => deadline.saturating_duration_since(Instant::now()),
                None => Duration::MAX,
            };
            if left.is_zero() {
                return None;
            }
            state = shared.fetched.wait_timeout(state, left).unwrap_or_else(PoisonError::into_inner).0;
        }
    }

    /// A token named a `kid` the served set does not have: asks for an early
    /// refetch, and wakes the thread when one is granted. At most one is
    /// granted per [`RefreshPolicy::unknown_kid_cooldown`] and none while a
    /// fetch is in flight, however many callers ask. Never blocks on the
    /// network. Returns whether a refetch was granted.
    pub fn request_refetch(&self) -> bool {
        let shared = self.shared();
        let mut state = shared.lock_state();
        let granted = state.refresher.request_refetch(shared.clock.now_ms());
        if granted {
            state.woken = true;
            shared.wake.notify_all();
        }
        granted
    }

    /// Wakes the background thread to look at the clock again (after moving
    /// a [`ManualClock`](crate::ManualClock)). While it is fetching, it looks
    /// again when the fetch ends anyway.
    pub fn wake(&self) {
        let shared = self.shared();
        shared.lock_state().woken = true;
        shared.wake.notify_all();
    }

    /// Calls `observer` on the refresh thread whenever the fetch state
    /// changes: fetches start failing or fail for another reason, or succeed
    /// again ([`FetchStateChange`]). What a host logs, once per change
    /// rather than per request. Observers are kept with the key set (each
    /// call adds one); keep them short, they run between fetches.
    pub fn on_change(&self, observer: impl Fn(&FetchStateChange) + Send + Sync + 'static) {
        self.shared().observers.write().unwrap_or_else(PoisonError::into_inner).push(Arc::new(observer));
    }

    /// A snapshot of the refresher, for metrics and diagnosis.
    pub fn status(&self) -> RefreshStatus {
        let shared = self.shared();
        let state = shared.lock_state();
        state.refresher.status(shared.clock.now_ms())
    }

    /// The `Date` header of the last answer that had a readable one (any
    /// status), with when it arrived by the local wall clock and the round
    /// trip. `None` until then.
    pub fn last_server_date(&self) -> Option<ServerDate> {
        *self.shared().last_date.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The URL, as given: the JWKS URL, or the issuer of
    /// [`RemoteJwks::discover`].
    pub fn url(&self) -> &str {
        &self.shared().url
    }

    /// The JWKS URL fetched: the URL given, or the `jwks_uri` discovery found
    /// last (`None` before that).
    pub fn jwks_url(&self) -> Option<String> {
        let shared = self.shared();
        match &shared.discovered {
            Some(found) => found.lock().unwrap_or_else(PoisonError::into_inner).clone(),
            None => Some(shared.url.clone()),
        }
    }
}

impl fmt::Debug for RemoteJwks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let generation = self.current().map(|(_, generation)| generation);
        f.debug_struct("RemoteJwks").field("url", &self.url()).field("serving_generation", &generation).finish()
    }
}

impl Drop for Owner {
    fn drop(&mut self) {
        self.shared.lock_state().shutdown = true;
        self.shared.wake.notify_all();
    }
}

impl Shared {
    fn lock_state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn current(&self) -> Option<(Arc<KeySet>, u64)> {
        let served = self.served.read().unwrap_or_else(PoisonError::into_inner);
        let snapshot = served.as_ref()?;
        (self.clock.now_ms() <= snapshot.serve_until).then(|| (Arc::clone(&snapshot.keys), snapshot.generation))
    }

    /// Publishes what the refresher serves at `now`; called under `state`.
    fn publish(&self, refresher: &Refresher, now: u64) {
        let snapshot = refresher.keys(now).map(|keys| Snapshot {
            keys: Arc::clone(keys),
            generation: refresher.generation(),
            serve_until: refresher.status(now).fresh_until.unwrap_or(0).saturating_add(self.max_stale_ms),
        });
        *self.served.write().unwrap_or_else(PoisonError::into_inner) = snapshot;
    }
}

/// The background thread.
struct Worker {
    shared: Arc<Shared>,
    agent: ureq::Agent,
    max_bytes: usize,
    /// With discovery: when the configuration was last read.
    discovered_at: Option<Instant>,
    last_fetch_failed: bool,
    /// The failure last reported to the observer (`None`: healthy).
    reported: Option<FetchFailure>,
    /// Consecutive failures at the last fetch.
    failures_seen: u32,
    rediscover_every: Duration,
    rediscover_after_failure: Duration,
}

impl Worker {
    fn run(mut self) {
        let shared = Arc::clone(&self.shared);
        let shared = &*shared;
        let mut state = shared.lock_state();
        loop {
            if state.shutdown {
                return;
            }
            state.woken = false;
            let now = shared.clock.now_ms();
            match state.refresher.poll(now) {
                Action::Fetch { if_none_match } => {
                    drop(state);
                    let fetched = self.fetch(if_none_match.as_deref());
                    self.last_fetch_failed = !matches!(fetched, Fetched::Answer { status: 200 | 304, .. });
                    state = shared.lock_state();
                    let now = shared.clock.now_ms();
                    match &fetched {
                        Fetched::Answer { status, etag, cache_control, body } => {
                            let response = FetchResponse {
                                status: *status,
                                etag: etag.as_deref(),
                                cache_control: cache_control.as_deref(),
                                body,
                            };
                            state.refresher.on_response(now, &response);
                        }
                        Fetched::Failed(failure) => {
                            state.refresher.on_failure(now, *failure);
                        }
                    }
                    shared.publish(&state.refresher, now);
                    shared.fetched.notify_all();
                    let status = state.refresher.status(now);
                    if let Some(change) = self.change(&status) {
                        drop(state);
                        let observers = shared.observers.read().unwrap_or_else(PoisonError::into_inner).clone();
                        for observer in observers {
                            observer(&change);
                        }
                        state = shared.lock_state();
                    }
                }
                Action::WaitUntil(at) => {
                    let wait = Duration::from_millis(at.saturating_sub(now).max(1));
                    state = shared
                        .wake
                        .wait_timeout_while(state, wait, |s| !s.woken && !s.shutdown)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0;
                    // The served set may have gone stale meanwhile.
                    let now = shared.clock.now_ms();
                    shared.publish(&state.refresher, now);
                }
            }
        }
    }

    /// The state change the fetch that just ended makes, if any: the first
    /// failure, a failure for another reason, or the first success after failures.
    fn change(&mut self, status: &RefreshStatus) -> Option<FetchStateChange> {
        let url = self.shared.url.clone();
        let before = std::mem::replace(&mut self.failures_seen, status.consecutive_failures);
        match (status.last_failure, self.reported) {
            (Some(failure), reported) if reported != Some(failure) => {
                self.reported = Some(failure);
                Some(FetchStateChange::Failing {
                    url,
                    failure,
                    consecutive: status.consecutive_failures,
                    serving: status.serving,
                })
            }
            (None, Some(_)) => {
                self.reported = None;
                Some(FetchStateChange::Recovered { url, after_failures: before })
            }
            _ => None,
        }
    }

    /// The JWKS URL to fetch: the URL given, or the one the issuer's
    /// configuration names (read again when due). Holds no lock while on the wire.
    fn jwks_url(&mut self) -> Result<String, FetchFailure> {
        let Some(found) = &self.shared.discovered else { return Ok(self.shared.url.clone()) };
        let known = found.lock().unwrap_or_else(PoisonError::into_inner).clone();
        let age = self.discovered_at.map(|at| at.elapsed());
        let due = match (&known, age) {
            (Some(_), Some(age)) => {
                age >= self.rediscover_every || (self.last_fetch_failed && age >= self.rediscover_after_failure)
            }
            _ => true,
        };
        if !due && let Some(url) = known {
            return Ok(url);
        }
        let url = self.read_configuration()?;
        self.discovered_at = Some(Instant::now());
        *found.lock().unwrap_or_else(PoisonError::into_inner) = Some(url.clone());
        Ok(url)
    }

    /// One GET of the issuer's configuration; its `jwks_uri`.
    fn read_configuration(&self) -> Result<String, FetchFailure> {
        let mut response = self
            .agent
            .get(discovery::configuration_url(&self.shared.url))
            .header("Accept", "application/json")
            .call()
            .map_err(|e| self.failure(e))?;
        let status = response.status().as_u16();
        if status != 200 {
            return Err(FetchFailure::Status(status));
        }
        let body =
            response.body_mut().with_config().limit(MAX_CONFIGURATION_BYTES).read_to_vec().map_err(|e| match e {
                ureq::Error::BodyExceedsLimit(_) => FetchFailure::Discovery(DiscoveryProblem::Malformed),
                other => self.failure(other),
            })?;
        discovery::jwks_uri(&body, &self.shared.url).map_err(FetchFailure::Discovery)
    }

    /// One GET of the URL. Holds no lock.
    fn fetch(&mut self, if_none_match: Option<&str>) -> Fetched {
        let url = match self.jwks_url() {
            Ok(url) => url,
            Err(failure) => return Fetched::Failed(failure),
        };
        let mut request = self.agent.get(&url);
        if let Some(tag) = if_none_match {
            request = request.header("If-None-Match", tag);
        }
        let sent = Instant::now();
        let response = match request.call() {
            Ok(response) => response,
            Err(e) => return Fetched::Failed(self.failure(e)),
        };
        let round_trip = sent.elapsed();
        let (parts, body) = response.into_parts();
        self.record_date(&parts.headers, round_trip);
        let status = parts.status.as_u16();
        let etag = parts.headers.get("etag").and_then(|v| v.to_str().ok()).map(str::to_owned);
        let cache_control = joined(&parts.headers, "cache-control");
        let body = if status == 200 {
            let limit = u64::try_from(self.max_bytes).unwrap_or(u64::MAX);
            if body.content_length().is_some_and(|length| length > limit) {
                return Fetched::Failed(FetchFailure::Malformed(JwksError::TooLarge { limit: self.max_bytes }));
            }
            match body.into_with_config().limit(limit).read_to_vec() {
                Ok(bytes) => bytes,
                Err(e) => return Fetched::Failed(self.failure(e)),
            }
        } else {
            Vec::new()
        };
        Fetched::Answer { status, etag, cache_control, body }
    }

    fn failure(&self, error: ureq::Error) -> FetchFailure {
        match error {
            ureq::Error::Timeout(_) => FetchFailure::Timeout,
            ureq::Error::Io(e) if matches!(e.kind(), std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock) => {
                FetchFailure::Timeout
            }
            ureq::Error::BodyExceedsLimit(_) => FetchFailure::Malformed(JwksError::TooLarge { limit: self.max_bytes }),
            ureq::Error::StatusCode(status) => FetchFailure::Status(status),
            other => CertificateProblem::of(&other).map_or(FetchFailure::Transport, FetchFailure::Certificate),
        }
    }

    fn record_date(&self, headers: &HeaderMap, round_trip: Duration) {
        let Some(server_unix_secs) = headers.get("date").and_then(|v| v.to_str().ok()).and_then(parse_imf_fixdate)
        else {
            return;
        };
        let received_unix_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        let date = ServerDate { server_unix_secs, received_unix_ms, round_trip };
        *self.shared.last_date.lock().unwrap_or_else(PoisonError::into_inner) = Some(date);
    }
}

enum Fetched {
    Answer { status: u16, etag: Option<String>, cache_control: Option<String>, body: Vec<u8> },
    Failed(FetchFailure),
}

/// All field lines of a list header, joined (RFC 9110 §5.3); lines that are
/// not visible ASCII are left out.
fn joined(headers: &HeaderMap, name: &str) -> Option<String> {
    let values: Vec<&str> = headers.get_all(name).iter().filter_map(|v| v.to_str().ok()).collect();
    (!values.is_empty()).then(|| values.join(", "))
}

pub(crate) fn validate_url(url: &str) -> Result<(), RemoteError> {
    if url.is_empty() {
        return Err(RemoteError::InvalidUrl { reason: "empty" });
    }
    if url.bytes().any(|b| b.is_ascii_whitespace() || b.is_ascii_control()) {
        return Err(RemoteError::InvalidUrl { reason: "contains whitespace or control characters" });
    }
    let scheme = url
        .split_once("://")
        .map(|(scheme, _)| scheme)
        .filter(|s| s.starts_with(|c: char| c.is_ascii_alphabetic()))
        .filter(|s| s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.')))
        .ok_or(RemoteError::InvalidUrl { reason: "not an absolute URL (scheme://host/path)" })?;
    if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
        return Err(RemoteError::UnsupportedScheme(scheme.to_owned()));
    }
    let uri: Uri = url.parse().map_err(|_| RemoteError::InvalidUrl { reason: "not a URL" })?;
    match uri.host() {
        Some(host) if !host.is_empty() => Ok(()),
        _ => Err(RemoteError::InvalidUrl { reason: "no host" }),
    }
}

/// Reads an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`, RFC 9110 §5.6.7)
/// as Unix seconds. The obsolete RFC 850 and asctime forms, dates before
/// 1970 and impossible dates are refused.
fn parse_imf_fixdate(value: &str) -> Option<u64> {
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    if value.len() != 29 {
        return None;
    }
    let field = |from: usize, to: usize| value.get(from..to);
    let literal = |from: usize, to: usize, expected: &str| field(from, to) == Some(expected);
    if !DAYS.contains(&field(0, 3)?)
        || !literal(3, 5, ", ")
        || !literal(7, 8, " ")
        || !literal(11, 12, " ")
        || !literal(16, 17, " ")
        || !literal(19, 20, ":")
        || !literal(22, 23, ":")
        || !literal(25, 29, " GMT")
    {
        return None;
    }
    let day = digits(field(5, 7)?)?;
    let month = MONTHS.iter().position(|m| Some(*m) == field(8, 11))?.checked_add(1)?;
    let month = u64::try_from(month).ok()?;
    let year = digits(field(12, 16)?)?;
    let (hour, minute, second) = (digits(field(17, 19)?)?, digits(field(20, 22)?)?, digits(field(23, 25)?)?);
    if year < 1970 || day == 0 || day > days_in_month(year, month) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let days = days_from_civil(year, month, day);
    Some(days * 86_400 + hour * 3_600 + minute * 60 + second)
}

fn digits(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn days_in_month(year: u64, month: u64) -> u64 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400) => 29,
        2 => 28,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date from 1970 on
/// (H. Hinnant's algorithm, restricted to years ≥ 1970 so nothing goes negative).
fn days_from_civil(year: u64, month: u64, day: u64) -> u64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year / 400;
    let year_of_era = year - era * 400;
    let shifted_month = if month > 2 { month - 3 } else { month + 9 };
    let day_of_year = (153 * shifted_month + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imf_fixdate() {
        assert_eq!(parse_imf_fixdate("Thu, 01 Jan 1970 00:00:00 GMT"), Some(0));
        assert_eq!(parse_imf_fixdate("Sun, 06 Nov 1994 08:49:37 GMT"), Some(784_111_777));
        assert_eq!(parse_imf_fixdate("Tue, 14 Nov 2023 22:13:20 GMT"), Some(1_700_000_000));
        assert_eq!(parse_imf_fixdate("Tue, 29 Feb 2000 12:00:00 GMT"), Some(951_825_600));
        assert_eq!(parse_imf_fixdate("Fri, 31 Dec 9999 23:59:59 GMT"), Some(253_402_300_799));
        for bad in [
            "",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
            "Sun, 06 Nov 1994 08:49:37 UTC",
            "Sun, 6 Nov 1994 08:49:37 GMT ",
            "Xyz, 06 Nov 1994 08:49:37 GMT",
            "Sun, 06 Foo 1994 08:49:37 GMT",
            "Sun, 31 Apr 1994 08:49:37 GMT",
            "Sun, 29 Feb 1900 08:49:37 GMT",
            "Sun, 00 Nov 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 24:00:00 GMT",
            "Sun, 06 Nov 1969 08:49:37 GMT",
            "Sun, +6 Nov 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 08:49:37 GMT\u{e9}",
        ] {
            assert_eq!(parse_imf_fixdate(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn skew_estimate() {
        let date = ServerDate {
            server_unix_secs: 1_700_000_000,
            received_unix_ms: 1_700_000_000_600,
            round_trip: Duration::from_millis(200),
        };
        assert_eq!(date.estimated_skew_ms(), 0);
        let ahead = ServerDate { server_unix_secs: 1_700_000_030, ..date };
        assert_eq!(ahead.estimated_skew_ms(), 30_000);
    }

    #[test]
    fn url_validation() {
        assert_eq!(validate_url("https://issuer.example/jwks.json"), Ok(()));
        assert_eq!(validate_url("http://127.0.0.1:8080/keys"), Ok(()));
        assert_eq!(validate_url("HTTPS://issuer.example"), Ok(()));
        assert_eq!(validate_url("ftp://issuer.example/jwks"), Err(RemoteError::UnsupportedScheme("ftp".to_owned())));
        assert!(matches!(validate_url("not a url"), Err(RemoteError::InvalidUrl { .. })));
        assert!(matches!(validate_url(""), Err(RemoteError::InvalidUrl { .. })));
        assert!(matches!(validate_url("/jwks.json"), Err(RemoteError::InvalidUrl { .. })));
        assert!(matches!(validate_url("issuer.example/jwks.json"), Err(RemoteError::InvalidUrl { .. })));
        assert!(matches!(validate_url("localhost:8080/jwks.json"), Err(RemoteError::InvalidUrl { .. })));
        assert!(matches!(validate_url("https://"), Err(RemoteError::InvalidUrl { .. })));
        assert!(matches!(validate_url("https://issuer.example/a#frag"), Err(RemoteError::InvalidUrl { .. }) | Ok(())));
        assert_eq!(validate_url("file:///etc/jwks.json"), Err(RemoteError::UnsupportedScheme("file".to_owned())));
    }
}
