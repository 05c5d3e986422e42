//! The server verifier: a key source, a policy, an optional verified-token
//! cache and metrics, shared by reference across threads.

use std::sync::Arc;
use std::time::{Duration, Instant};

use jwtv::json::{self, Value};
use jwtv::{Algorithm, Claims, DEFAULT_BUFFER_LEN, Dependency, Error, Header, buffer_len_for};

use crate::cache::{Decoded, Facts, TokenCache, TokenHash};
use crate::changes::{StateChange, StateLog};
use crate::metrics::{Counters, MetricsSnapshot};
use crate::policy::{DEFAULT_FIRST_FETCH_TIMEOUT, Policy, PolicyError};
use crate::revoke::{ListedBuf, Revocations};
use crate::shadow::Shadow;
use crate::usage::{KeyUsage, Usage};
use jwtv_jwks::{KeySet, KeySource};

/// A thread-safe verifier for servers (`Send + Sync`; share it by reference or `Arc`).
///
/// Each [`Verifier::verify`] runs jwtv's core verifier (every check listed at
/// [`jwtv::Verifier`]) over the key source's current set, then records the
/// outcome in the metrics. With a token cache, a token seen before under the
/// same key-set generation (the same bytes) skips the signature check and
/// the JSON: its time claims are judged again against `now` (from the span
/// of times they pass, [`jwtv::Policy::validity`]) and the revocation list
/// is asked again; the other checks do not depend on the time.
///
/// ```
/// use jwtv::{Algorithm, AlgorithmSet, ErrorCode};
/// use jwtv_gateway::{Policy, Verifier};
/// use jwtv_jwks::{KeySet, KeySetOptions, KeySource};
///
/// let algorithms = AlgorithmSet::of(&[Algorithm::EdDSA]);
/// // RFC 8037 appendix A's key and token.
/// let jwks = br#"{"keys":[{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}"#;
/// let keys = KeySet::parse(jwks, &KeySetOptions::for_algorithms(algorithms))?;
/// let verifier = Verifier::new(KeySource::fixed(keys), Policy::new(algorithms))?.with_token_cache(10_000);
///
/// let token = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc.hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg";
/// // Its payload is not a claims set: the verifier says so with the core's code.
/// let err = verifier.verify(token, 1_700_000_000).unwrap_err();
/// assert_eq!(err.code(), ErrorCode::Malformed);
/// assert_eq!(verifier.metrics().rejected_with(ErrorCode::Malformed), 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Verifier {
    source: KeySource,
    policy: Policy,
    cache: Option<TokenCache>,
    revocations: Option<Revocations>,
    counters: Counters,
    usage: Usage,
    first_fetch_timeout: Duration,
    shadow: Option<Shadow>,
    changes: Arc<StateLog>,
}

impl Verifier {
    /// A verifier over `source` enforcing `policy`, without a token cache
    /// (the policy's own `keys`, cache and revocations are not used here:
    /// [`Policy::verifier`] makes a verifier of everything a policy says).
    ///
    /// Fails when the policy cannot be enforced as written ([`Policy::check`]:
    /// a list past [`MAX_RULE_LIST_LEN`](crate::MAX_RULE_LIST_LEN), a leeway
    /// past [`MAX_LEEWAY_SECS`](crate::MAX_LEEWAY_SECS)); nothing is ever
    /// dropped to make them fit.
    ///
    /// A policy with a `shadow` ([`Policy::shadow`]) judges every token it
    /// accepts by the shadow's rules too, and counts and logs what the shadow
    /// would have rejected; the verdict is always the policy's own.
    pub fn new(source: KeySource, policy: Policy) -> Result<Self, PolicyError> {
        policy.check()?;
        let shadow = policy.shadow()?.map(Shadow::new);
        let changes = Arc::new(StateLog::new(policy.name()));
        let log = Arc::clone(&changes);
        source.on_change(move |change| log.key_set(change));
        Ok(Self {
            source,
            policy,
            cache: None,
            revocations: None,
            counters: Counters::default(),
            usage: Usage::default(),
            first_fetch_timeout: DEFAULT_FIRST_FETCH_TIMEOUT,
            shadow,
            changes,
        })
    }

    /// Adds a verified-token cache of at most `capacity` tokens (0: none).
    #[must_use]
    pub fn with_token_cache(mut self, capacity: usize) -> Self {
        self.cache = (capacity > 0).then(|| TokenCache::new(capacity));
        self
    }

    /// Checks every token that passes against a revocation list, after the
    /// signature and claims (see [`Revocations`]).
    #[must_use]
    pub fn with_revocations(mut self, revocations: Revocations) -> Self {
        revocations.log_changes(Arc::clone(&self.changes));
        self.revocations = Some(revocations);
        self
    }

    /// The revocation list, if any.
    pub fn revocations(&self) -> Option<&Revocations> {
        self.revocations.as_ref()
    }

    /// How long the first verification waits for a remote key set
    /// ([`DEFAULT_FIRST_FETCH_TIMEOUT`] by default).
    #[must_use]
    pub fn with_first_fetch_timeout(mut self, timeout: Duration) -> Self {
        self.first_fetch_timeout = timeout;
        self
    }

    /// The policy.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The former name of [`Verifier::policy`].
    #[deprecated(note = "renamed policy")]
    pub fn rules(&self) -> &Policy {
        &self.policy
    }

    /// The key source.
    pub fn key_source(&self) -> &KeySource {
        &self.source
    }

    /// The key set served now (`None` while a remote set is unavailable).
    pub fn key_set(&self) -> Option<Arc<KeySet>> {
        self.source.current(Duration::ZERO).map(|(keys, _)| keys)
    }

    /// Whether a key set is served now: verifications can be judged. Never waits.
    pub fn is_ready(&self) -> bool {
        self.key_set().is_some()
    }

    /// Waits up to `timeout` for a key set to serve (at once when there is
    /// one) and says whether there is one. Blocks the calling thread: call it
    /// at start-up, or from a thread that may wait (`spawn_blocking` in an
    /// async runtime), never on an event loop.
    pub fn wait_ready(&self, timeout: Duration) -> bool {
        self.source.wait_ready(timeout)
    }

    /// The counters now.
    pub fn metrics(&self) -> MetricsSnapshot {
        let mut snapshot = self.counters.snapshot(self.source.gauges());
        snapshot.cache_entries = self.cache.as_ref().map_or(0, TokenCache::len);
        snapshot.revocations = self.revocations.as_ref().map(Revocations::gauges);
        snapshot.shadow = self.shadow.as_ref().map(Shadow::counts);
        snapshot
    }

    /// Verifies a compact JWT at `now` (Unix seconds).
    ///
    /// Errors are the core's, plus `revoked` and `unavailable`. When no key
    /// set is available (a remote source that has not answered yet, or whose
    /// set is too stale) the error is `unavailable` (detail `keys`): the token
    /// was not judged, try again later; [`KeySource::gauges`] and the metrics
    /// say why. With a revocation list that fails closed, a list that never
    /// synced or is staler than allowed gives `unavailable` (detail
    /// `revocations`) too.
    ///
    /// The result owns its JSON, shared with the token cache when there is
    /// one; [`Verifier::verify_in`] borrows the caller's buffer instead and
    /// allocates nothing.
    pub fn verify(&self, token: impl AsRef<[u8]>, now: u64) -> Result<Verified, Error> {
        let token = token.as_ref();
        self.counted(token, now, |full| {
            let (keys, generation, hash) = match self.lookup(token, now)? {
                Lookup::Hit(decoded) => return Ok(Verified { decoded, from_cache: true }),
                Lookup::Miss(keys, generation, hash) => (keys, generation, hash),
            };
            *full = true;
            with_buffer(token.len(), |buf| {
                Ok(match self.verify_fresh(&keys, generation, hash, token, now, buf)? {
                    (_, Some(decoded)) => Verified { decoded, from_cache: false },
                    (fresh, None) => fresh.into_owned(),
                })
            })
        })
    }

    /// [`Verifier::verify_in`] into a buffer on the stack, sized for the
    /// token, whose result `f` sees: nothing is allocated (but the entry a
    /// cache miss adds to the token cache, and the buffer of a token past the
    /// default 16 KiB limit).
    ///
    /// ```
    /// # use jwtv::{Algorithm, AlgorithmSet};
    /// # use jwtv_gateway::{Policy, Verifier};
    /// # use jwtv_jwks::{KeySet, KeySetOptions, KeySource};
    /// # let algorithms = AlgorithmSet::of(&[Algorithm::HS256]);
    /// # let jwks = br#"{"keys":[{"kty":"oct","k":"AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow"}]}"#;
    /// # let keys = KeySet::parse(jwks, &KeySetOptions::for_algorithms(algorithms))?;
    /// # let verifier = Verifier::new(KeySource::fixed(keys), Policy::new(algorithms))?;
    /// // RFC 7515 appendix A.1's token, whose key the verifier holds.
    /// let token = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    /// let issued_by_joe = verifier.verify_with(token, 1_300_000_000, |verified| {
    ///     verified.is_ok_and(|v| v.claims().is_ok_and(|c| c.iss().is_some_and(|iss| iss == "joe")))
    /// });
    /// assert!(issued_by_joe);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn verify_with<R>(
        &self,
        token: impl AsRef<[u8]>,
        now: u64,
        f: impl FnOnce(Result<VerifiedRef<'_>, Error>) -> R,
    ) -> R {
        let token = token.as_ref();
        with_buffer(token.len(), |buf| f(self.verify_in(token, now, buf)))
    }

    /// [`Verifier::verify`] into the caller's buffer: the result borrows
    /// `buf`, and nothing is allocated (but the entry a cache miss adds to
    /// the token cache). `buf` needs [`jwtv::buffer_len_for`]`(token.len())`
    /// bytes ([`jwtv::DEFAULT_BUFFER_LEN`] holds any token under the default
    /// 16 KiB limit); a shorter one gives `too_large`, as in the core.
    ///
    /// ```
    /// use jwtv::{Algorithm, AlgorithmSet, DEFAULT_BUFFER_LEN};
    /// use jwtv_gateway::{Policy, Verifier};
    /// use jwtv_jwks::{KeySet, KeySetOptions, KeySource};
    ///
    /// let algorithms = AlgorithmSet::of(&[Algorithm::HS256]);
    /// // RFC 7515 appendix A.1's key and token (it expired in 2011).
    /// let jwks = br#"{"keys":[{"kty":"oct","k":"AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow"}]}"#;
    /// let keys = KeySet::parse(jwks, &KeySetOptions::for_algorithms(algorithms))?;
    /// let verifier = Verifier::new(KeySource::fixed(keys), Policy::new(algorithms))?;
    ///
    /// let token = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    /// let mut buf = [0u8; DEFAULT_BUFFER_LEN];
    /// let verified = verifier.verify_in(token, 1_300_000_000, &mut buf)?;
    /// assert_eq!(verified.claims()?.iss().unwrap(), "joe");
    /// assert!(matches!(verified.claim("http://example.com/is_root"), Some(jwtv::json::Value::Bool(true))));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn verify_in<'b>(
        &self,
        token: impl AsRef<[u8]>,
        now: u64,
        buf: &'b mut [u8],
    ) -> Result<VerifiedRef<'b>, Error> {
        let token = token.as_ref();
        self.counted(token, now, |full| {
            let hit = match self.lookup(token, now)? {
                Lookup::Hit(hit) => hit,
                Lookup::Miss(keys, generation, hash) => {
                    *full = true;
                    return self.verify_fresh(&keys, generation, hash, token, now, buf).map(|(fresh, _)| fresh);
                }
            };
            // The core did not use `buf`: the hit's JSON goes there.
            let (header, claims) = (hit.header(), hit.claims());
            let room = buf.get_mut(..header.len() + claims.len()).ok_or(Error::TooLarge)?;
            let (header_out, claims_out) = room.split_at_mut(header.len());
            header_out.copy_from_slice(header);
            claims_out.copy_from_slice(claims);
            Ok(VerifiedRef { facts: hit.facts, header: header_out, claims: claims_out, from_cache: true })
        })
    }

    /// Runs `verify` and records what it did: the outcome and the latency,
    /// the full verification's time (when `verify` sets its flag: the
    /// signature check ran), a rejection's audit event, and for an accepted
    /// token its age, its remaining lifetime and the shadow's verdict.
    fn counted<V: View>(
        &self,
        token: &[u8],
        now: u64,
        verify: impl FnOnce(&mut bool) -> Result<V, Error>,
    ) -> Result<V, Error> {
        // Two clock reads per verification: the latency and, when the
        // signature check ran, the full verification's time are the same span.
        let started = Instant::now();
        let mut full = false;
        let result = verify(&mut full);
        let took = started.elapsed();
        self.counters.record(result.as_ref().map(|_| ()).map_err(|e| e.code()), took);
        match &result {
            Err(e) => {
                if full {
                    self.counters.full_verification(None, took);
                }
                crate::audit::rejected(e.code(), token, self.policy.name());
            }
            Ok(verified) => {
                let verified = verified.view();
                if full {
                    self.counters.full_verification(Some(verified.facts.alg), took);
                }
                let Facts { iat, exp, .. } = verified.facts;
                let age = iat.map(|iat| now.saturating_sub(u64::try_from(iat).unwrap_or(0)));
                let remaining = exp.map(|exp| u64::try_from(exp).unwrap_or(0).saturating_sub(now));
                self.counters.token_times(age, remaining);
                if let Some(shadow) = &self.shadow
                    && let Err(code) = shadow.judge(&verified, now)
                {
                    crate::audit::shadow_rejected(code, token, self.policy.name());
                }
            }
        }
        result
    }

    /// Every metric in Prometheus text format — the counters of
    /// [`Verifier::metrics`] and the served keys' usage
    /// ([`Verifier::key_usage`]) — labelled `policy="…"` when the policy
    /// has a `name`: what every host's metrics endpoint serves.
    pub fn metrics_prometheus(&self) -> String {
        self.metrics_prometheus_with(&self.metrics())
    }

    /// [`Verifier::metrics_prometheus`] with `counters` in place of
    /// [`Verifier::metrics`]: the sum of the processes that run this policy
    /// ([`MetricsSnapshot::sum`]). The served keys' usage stays this
    /// verifier's own.
    pub fn metrics_prometheus_with(&self, counters: &MetricsSnapshot) -> String {
        let mut text = counters.to_prometheus();
        text.push_str(&crate::usage::to_prometheus(&self.usage.snapshot()));
        match self.policy.name() {
            Some(name) => crate::metrics::with_policy_label(&text, name),
            None => text,
        }
    }

    /// Per `kid` of the served set: when the key first verified a token and
    /// how many it verified (keys leave the table with their set).
    pub fn key_usage(&self) -> Vec<KeyUsage> {
        self.usage.snapshot()
    }

    /// The state changes of the key source and the revocation list since
    /// the last call, oldest first: a key server whose fetches start
    /// failing, fail otherwise or succeed again, a revocation list that stops
    /// or resumes syncing. Each is reported once (and logged through the
    /// `tracing` or `log` feature when one is on): what a host that logs by
    /// itself takes from time to time, never per request. At most
    /// [`MAX_QUEUED_STATE_CHANGES`](crate::MAX_QUEUED_STATE_CHANGES) wait; older ones are counted in
    /// the next message.
    pub fn take_state_changes(&self) -> Vec<StateChange> {
        self.changes.take()
    }

    /// Counts a request that carried no token at all (for hosts: HTTP
    /// middleware, NGINX), exported as `jwtv_requests_without_token_total`.
    pub fn record_no_token(&self) {
        self.counters.no_token();
    }

    /// [`Verifier::verify`] at the system clock's time.
    pub fn verify_now(&self, token: impl AsRef<[u8]>) -> Result<Verified, Error> {
        self.verify(token, jwtv_jwks::unix_now())
    }

    /// The key set served now and the token cache's entry for `token`,
    /// judged at `now` (a hit), or what verifying it needs (a miss, and
    /// always without a cache).
    fn lookup(&self, token: &[u8], now: u64) -> Result<Lookup, Error> {
        if token.len() > self.policy.token_len_limit() {
            return Err(Error::TooLarge);
        }
        let (keys, generation) =
            self.source.current(self.first_fetch_timeout).ok_or(Error::Unavailable(Dependency::Keys))?;
        let Some(cache) = &self.cache else { return Ok(Lookup::Miss(keys, generation, None)) };
        let hash = cache.hash(token);
        let Some(decoded) = cache.get(&hash, token, generation) else {
            self.counters.cache_miss();
            return Ok(Lookup::Miss(keys, generation, Some(hash)));
        };
        self.counters.cache_hit();
        let checked = self.judge_again(&keys, &decoded, now);
        match checked {
            Ok(()) => self.usage.record(&keys, generation, decoded.facts.key_index, now),
            Err(_) => cache.remove(&hash),
        }
        checked.map(|()| Lookup::Hit(decoded))
    }

    /// A verification by the core over the key set served now: the result
    /// borrows `buf`; with a token cache, the entry added to it comes too.
    fn verify_fresh<'b>(
        &self,
        keys: &KeySet,
        generation: u64,
        hash: Option<TokenHash>,
        token: &[u8],
        now: u64,
        buf: &'b mut [u8],
    ) -> Result<(VerifiedRef<'b>, Option<Arc<Decoded>>), Error> {
        let verified = self.policy.with_policy(|policy| {
            let verified = keys.verifier(*policy).verify(token, now, buf)?;
            // A key bound to an issuer verifies only that issuer's tokens.
            if let Some(bound) = keys.issuer_of(verified.key_index())
                && verified.claims().iss().is_none_or(|iss| !iss.chars().eq(bound.chars()))
            {
                return Err(Error::BadIssuer);
            }
            let key_kid = keys.keys().get(verified.key_index()).and_then(|key| key.kid());
            if let Some(revocations) = &self.revocations {
                revocations.check(verified.header(), verified.claims(), key_kid, now)?;
            }
            let facts = Facts {
                alg: verified.algorithm(),
                key_index: verified.key_index(),
                generation,
                validity: policy.validity(verified.claims()),
                iat: verified.claims().iat().map(|iat| iat.floor()),
                exp: verified.claims().exp().map(|exp| exp.ceil()),
            };
            // What a cache hit needs to judge the token again without parsing it.
            let entry = self.cache.as_ref().zip(hash).map(|(cache, hash)| {
                let listed = self.revocations.is_some().then(|| ListedBuf::of(verified.header(), verified.claims()));
                let header = verified.header().raw_json();
                let entry = Arc::new(Decoded::new(facts, header, verified.claims().raw_json(), token, listed));
                cache.insert(hash, Arc::clone(&entry));
                entry
            });
            Ok((facts, entry, verified.header().raw_json(), verified.claims().raw_json()))
        });
        let (facts, entry, header, claims) = verified.map_err(|e| {
            if e != Error::KeyNotFound {
                return e;
            }
            self.source.unknown_kid();
            // A source that has no set yet may hold the key: not judged.
            if self.source.is_partial() { Error::Unavailable(Dependency::Keys) } else { e }
        })?;
        self.usage.record(keys, generation, facts.key_index, now);
        Ok((VerifiedRef { facts, header, claims, from_cache: false }, entry))
    }

    /// A cached verification judged at `now`: inside the span its claims
    /// pass the time checks, only the revocation list is asked again (from
    /// the identifiers kept decoded); outside it, every header and claim
    /// check runs again from the JSON, for a full verification's error.
    fn judge_again(&self, keys: &KeySet, decoded: &Decoded, now: u64) -> Result<(), Error> {
        if !decoded.facts.validity.contains(now) {
            return self.check_again(keys, decoded, now);
        }
        match (&self.revocations, &decoded.listed) {
            (None, _) => Ok(()),
            (Some(revocations), Some(listed)) => {
                let key_kid = keys.keys().get(decoded.facts.key_index).and_then(|key| key.kid());
                revocations.check_listed(&listed.as_listed(), key_kid, now)
            }
            (Some(_), None) => self.check_again(keys, decoded, now),
        }
    }

    /// The header and claim checks again, from a cached verification.
    /// `keys` is the set of the entry's generation (the cache checks it).
    fn check_again(&self, keys: &KeySet, decoded: &Decoded, now: u64) -> Result<(), Error> {
        let header = Header::from_json(decoded.header())?;
        let claims = Claims::from_json(decoded.claims())?;
        self.policy.with_policy(|policy| policy.check(&header, &claims, now))?;
        match &self.revocations {
            Some(revocations) => {
                let key_kid = keys.keys().get(decoded.facts.key_index).and_then(|key| key.kid());
                revocations.check(&header, &claims, key_kid, now)
            }
            None => Ok(()),
        }
    }
}

/// A verified token, owned: the decoded header and claims JSON (one
/// allocation, shared with the token cache when there is one).
///
/// Only [`Verifier::verify`] and [`VerifiedRef::into_owned`] make one.
#[derive(Clone, Debug)]
pub struct Verified {
    decoded: Arc<Decoded>,
    from_cache: bool,
}

impl Verified {
    /// The token as a [`VerifiedRef`], borrowed from this value.
    pub fn as_verified_ref(&self) -> VerifiedRef<'_> {
        VerifiedRef {
            facts: self.decoded.facts,
            header: self.decoded.header(),
            claims: self.decoded.claims(),
            from_cache: self.from_cache,
        }
    }

    /// The algorithm that verified the signature.
    pub fn algorithm(&self) -> Algorithm {
        self.decoded.facts.alg
    }

    /// The decoded header JSON.
    pub fn header_json(&self) -> &[u8] {
        self.decoded.header()
    }

    /// The decoded claims JSON.
    pub fn claims_json(&self) -> &[u8] {
        self.decoded.claims()
    }

    /// The header, read again from [`Verified::header_json`] (it was read the
    /// same way during verification, so this does not fail for a verified token).
    pub fn header(&self) -> Result<Header<'_>, Error> {
        self.as_verified_ref().header()
    }

    /// The claims, read again from [`Verified::claims_json`] (it was read the
    /// same way during verification, so this does not fail for a verified token).
    pub fn claims(&self) -> Result<Claims<'_>, Error> {
        self.as_verified_ref().claims()
    }

    /// A top-level claim by name (escapes in names decoded).
    pub fn claim(&self, name: &str) -> Option<Value<'_>> {
        self.as_verified_ref().claim(name)
    }

    /// A header parameter by name.
    pub fn header_field(&self, name: &str) -> Option<Value<'_>> {
        self.as_verified_ref().header_field(name)
    }

    /// The claims deserialized into a type of the caller's (with serde_json).
    pub fn deserialize<T: serde::de::DeserializeOwned>(&self) -> serde_json::Result<T> {
        self.as_verified_ref().deserialize()
    }

    /// True when the signature check was skipped because the token cache held
    /// this token (verified under the same key-set generation).
    pub fn from_cache(&self) -> bool {
        self.from_cache
    }

    /// The key-set generation that verified the signature.
    pub fn key_set_generation(&self) -> u64 {
        self.decoded.facts.generation
    }
}

/// A verified token whose header and claims JSON live in the caller's
/// buffer: what [`Verifier::verify_in`] returns, without a heap allocation.
/// The same accessors as [`Verified`]; [`VerifiedRef::into_owned`] copies it out.
#[derive(Clone, Copy, Debug)]
pub struct VerifiedRef<'b> {
    facts: Facts,
    header: &'b [u8],
    claims: &'b [u8],
    from_cache: bool,
}

impl<'b> VerifiedRef<'b> {
    /// The algorithm that verified the signature.
    pub fn algorithm(&self) -> Algorithm {
        self.facts.alg
    }

    /// The decoded header JSON.
    pub fn header_json(&self) -> &'b [u8] {
        self.header
    }

    /// The decoded claims JSON.
    pub fn claims_json(&self) -> &'b [u8] {
        self.claims
    }

    /// The header, read again from [`VerifiedRef::header_json`] (it was read
    /// the same way during verification, so this does not fail for a verified token).
    pub fn header(&self) -> Result<Header<'b>, Error> {
        Header::from_json(self.header)
    }

    /// The claims, read again from [`VerifiedRef::claims_json`] (it was read
    /// the same way during verification, so this does not fail for a verified token).
    pub fn claims(&self) -> Result<Claims<'b>, Error> {
        Claims::from_json(self.claims)
    }

    /// A top-level claim by name (escapes in names decoded).
    pub fn claim(&self, name: &str) -> Option<Value<'b>> {
        json::find_member(self.claims, name)
    }

    /// A header parameter by name.
    pub fn header_field(&self, name: &str) -> Option<Value<'b>> {
        json::find_member(self.header, name)
    }

    /// The claims deserialized into a type of the caller's (with serde_json).
    pub fn deserialize<T: serde::de::DeserializeOwned>(&self) -> serde_json::Result<T> {
        serde_json::from_slice(self.claims)
    }

    /// True when the signature check was skipped because the token cache held
    /// this token (verified under the same key-set generation).
    pub fn from_cache(&self) -> bool {
        self.from_cache
    }

    /// The key-set generation that verified the signature.
    pub fn key_set_generation(&self) -> u64 {
        self.facts.generation
    }

    /// The token as a [`Verified`] that owns its JSON (one allocation for
    /// the JSON, one for the shared handle).
    pub fn into_owned(self) -> Verified {
        Verified {
            decoded: Arc::new(Decoded::new(self.facts, self.header, self.claims, &[], None)),
            from_cache: self.from_cache,
        }
    }
}

/// Runs `f` with a zeroed buffer of [`buffer_len_for`]`(token_len)` bytes
/// or more: on the stack in one of three sizes (zeroing 12 KiB for every
/// token would cost more than a cache hit), on the heap past the largest.
fn with_buffer<R>(token_len: usize, f: impl FnOnce(&mut [u8]) -> R) -> R {
    let needed = buffer_len_for(token_len);
    if needed <= 1024 {
        f(&mut [0u8; 1024])
    } else if needed <= 4096 {
        f(&mut [0u8; 4096])
    } else if needed <= DEFAULT_BUFFER_LEN {
        f(&mut [0u8; DEFAULT_BUFFER_LEN])
    } else {
        f(&mut vec![0u8; needed])
    }
}

/// What the token cache says of a token.
enum Lookup {
    /// Verified before, and judged again now.
    Hit(Arc<Decoded>),
    /// To verify with the set served now (its generation), and to cache under the hash.
    Miss(Arc<KeySet>, u64, Option<TokenHash>),
}

/// Either result seen as a [`VerifiedRef`], for what [`Verifier::verify`]
/// and [`Verifier::verify_in`] record alike.
trait View {
    fn view(&self) -> VerifiedRef<'_>;
}

impl View for Verified {
    fn view(&self) -> VerifiedRef<'_> {
        self.as_verified_ref()
    }
}

impl View for VerifiedRef<'_> {
    fn view(&self) -> VerifiedRef<'_> {
        *self
    }
}

impl Policy {
    /// A server verifier as the policy describes it: its key source, cache,
    /// first-fetch wait and revocation list.
    pub fn verifier(&self) -> Result<Verifier, PolicyError> {
        let verifier = Verifier::new(self.key_source()?, self.clone())?
            .with_token_cache(self.cache_size())
            .with_first_fetch_timeout(self.first_fetch_timeout());
        Ok(match self.revocations()? {
            Some(revocations) => verifier.with_revocations(revocations),
            None => verifier,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verifier_is_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Verifier>();
        assert_send_sync::<Verified>();
        assert_send_sync::<VerifiedRef<'_>>();
    }
}
