//! Where a server verifier's keys come from: a fixed set, a file re-read when
//! it changes, or a remote JWKS endpoint refreshed in the background.

use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};

use crate::file::FileJwks;
use crate::keyset::KeySet;
use crate::refresh::{FetchCounts, FetchFailure, RefetchCounts};
use crate::remote::{FetchStateChange, RemoteJwks};

/// The state of a key source at snapshot time, for metrics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct KeySetGauges {
    /// Usable keys served now.
    pub key_count: usize,
    /// Seconds since the served set was loaded, fetched or renewed (`None`: never).
    pub age_secs: Option<u64>,
    /// Generation of the served set (0: none yet).
    pub generation: u64,
    /// Fetch results (remote sources; file sources count reloads as fetches).
    pub fetches: FetchCounts,
    /// Failed fetches since the last success (remote sources; the most of
    /// any part of a merged source).
    pub consecutive_failures: u32,
    /// Why the last fetch failed, while it is the last one (remote sources).
    pub last_failure: Option<FetchFailure>,
    /// How far the key server's clock is ahead of the local one, in
    /// milliseconds (negative: behind), from its last `Date` header.
    pub server_skew_ms: Option<i64>,
    /// Early refetches asked for by tokens with an unknown `kid`, by result
    /// (remote sources).
    pub refetches: RefetchCounts,
}

/// Where a verifier's keys come from.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum KeySource {
    /// A fixed set (parsed once, or built from PEM keys and secrets).
    Static(StaticKeys),
    /// A JWKS file, re-read when it changes.
    File(Arc<FileJwks>),
    /// A JWKS URL, refreshed in the background.
    Remote(RemoteJwks),
    /// Several sources served as one set ([`KeySource::merged`]).
    Merged(Arc<MergedSources>),
}

/// Several key sources served as one set, each refreshed on its own, merged
/// by [`KeySet::merge`] when any of them changes.
#[derive(Debug)]
pub struct MergedSources {
    parts: Vec<(KeySource, Option<String>)>,
    served: RwLock<Option<Merged>>,
}

#[derive(Debug)]
struct Merged {
    /// The generation of each part the set was merged from (`None`: that
    /// part had no set).
    parts: Vec<Option<u64>>,
    keys: Arc<KeySet>,
    generation: u64,
}

impl MergedSources {
    /// The sources and the issuers their keys are bound to.
    pub fn parts(&self) -> impl Iterator<Item = (&KeySource, Option<&str>)> {
        self.parts.iter().map(|(source, issuer)| (source, issuer.as_deref()))
    }

    /// The merged set and its generation, merging again when a part
    /// changed; `None` while no part has a set. The second value says
    /// whether every part has one.
    fn current(&self, first_fetch_timeout: Duration) -> Option<(Arc<KeySet>, u64, bool)> {
        let mut now: Vec<Option<(Arc<KeySet>, u64)>> =
            self.parts.iter().map(|(part, _)| part.current(Duration::ZERO)).collect();
        if now.iter().all(Option::is_none) && !first_fetch_timeout.is_zero() {
            let never_fetched = self.parts.iter().all(|(part, _)| part.gauges().fetches.total() == 0);
            if never_fetched {
                self.wait_ready(first_fetch_timeout);
                now = self.parts.iter().map(|(part, _)| part.current(Duration::ZERO)).collect();
            }
        }
        let generations: Vec<Option<u64>> = now.iter().map(|part| part.as_ref().map(|(_, g)| *g)).collect();
        let complete = generations.iter().all(Option::is_some);
        if generations.iter().all(Option::is_none) {
            return None;
        }
        if let Some(served) = self.served.read().unwrap_or_else(PoisonError::into_inner).as_ref()
            && served.parts == generations
        {
            return Some((Arc::clone(&served.keys), served.generation, complete));
        }
        let mut served = self.served.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(current) = served.as_ref()
            && current.parts == generations
        {
            return Some((Arc::clone(&current.keys), current.generation, complete));
        }
        let sets: Vec<(&KeySet, Option<&str>)> = now
            .iter()
            .zip(&self.parts)
            .filter_map(|(set, (_, issuer))| set.as_ref().map(|(set, _)| (&**set, issuer.as_deref())))
            .collect();
        let keys = Arc::new(KeySet::merge(&sets));
        let generation = served.as_ref().map_or(1, |s| s.generation.saturating_add(1));
        *served = Some(Merged { parts: generations, keys: Arc::clone(&keys), generation });
        Some((keys, generation, complete))
    }

    fn wait_ready(&self, timeout: Duration) -> bool {
        let deadline = Instant::now().checked_add(timeout);
        self.parts.iter().all(|(part, _)| {
            let left = deadline.map_or(Duration::MAX, |d| d.saturating_duration_since(Instant::now()));
            part.wait_ready(left)
        })
    }
}

/// A fixed key set and when it was made.
#[derive(Clone, Debug)]
pub struct StaticKeys {
    keys: Arc<KeySet>,
    loaded_at: Instant,
}

impl KeySource {
    /// Several sources served as one set, each refreshed on its own, each
    /// optionally bound to an issuer (its keys verify only tokens with that
    /// `iss`): see [`KeySet::merge`] for `kid`s that collide across sources.
    /// While some parts have no set yet, the others are served and
    /// [`KeySource::is_partial`] says so.
    pub fn merged(parts: Vec<(KeySource, Option<String>)>) -> Self {
        Self::Merged(Arc::new(MergedSources { parts, served: RwLock::new(None) }))
    }

    /// True when some part of a merged source has no set to serve now (a
    /// token whose key is not found may be one of its keys: not judged).
    pub fn is_partial(&self) -> bool {
        match self {
            Self::Merged(merged) => merged.current(Duration::ZERO).is_some_and(|(_, _, complete)| !complete),
            _ => false,
        }
    }

    /// A fixed key set.
    pub fn fixed(keys: KeySet) -> Self {
        Self::Static(StaticKeys { keys: Arc::new(keys), loaded_at: Instant::now() })
    }

    /// The set to serve and its generation. Never waits on the network,
    /// except on first use of a remote source that has not finished a single
    /// fetch yet: then it waits up to `first_fetch_timeout` for it.
    pub fn current(&self, first_fetch_timeout: Duration) -> Option<(Arc<KeySet>, u64)> {
        match self {
            Self::Static(fixed) => Some((Arc::clone(&fixed.keys), 1)),
            Self::File(file) => Some(file.current()),
            Self::Remote(remote) => remote.current().or_else(|| {
                let never_fetched = remote.status().fetches.total() == 0;
                never_fetched.then(|| remote.wait_ready(first_fetch_timeout)).flatten()
            }),
            Self::Merged(merged) => merged.current(first_fetch_timeout).map(|(keys, generation, _)| (keys, generation)),
        }
    }

    /// Waits up to `timeout` for a set to serve, returning at once when there
    /// is one (fixed sets and files always have one). For start-up and for
    /// hosts that wait on their own terms (a thread of their own, a deadline
    /// they chose): the verify path itself never calls it.
    pub fn wait_ready(&self, timeout: Duration) -> bool {
        match self {
            Self::Static(_) | Self::File(_) => true,
            Self::Remote(remote) => remote.wait_ready(timeout).is_some(),
            Self::Merged(merged) => merged.wait_ready(timeout),
        }
    }

    /// A token named a key the set does not have: remote sources may refetch
    /// early (at most once per cooldown); other sources ignore it.
    pub fn unknown_kid(&self) {
        match self {
            Self::Remote(remote) => {
                remote.request_refetch();
            }
            Self::Merged(merged) => merged.parts.iter().for_each(|(part, _)| part.unknown_kid()),
            Self::Static(_) | Self::File(_) => {}
        }
    }

    /// Calls `observer` when a remote key set of this source (each part of
    /// a merged source) changes its fetch state ([`RemoteJwks::on_change`]);
    /// files and fixed sets have none to report.
    pub fn on_change(&self, observer: impl Fn(&FetchStateChange) + Send + Sync + 'static) {
        let observer: Arc<dyn Fn(&FetchStateChange) + Send + Sync> = Arc::new(observer);
        self.observe(&observer);
    }

    fn observe(&self, observer: &Arc<dyn Fn(&FetchStateChange) + Send + Sync>) {
        match self {
            Self::Remote(remote) => {
                let observer = Arc::clone(observer);
                remote.on_change(move |change| observer(change));
            }
            Self::Merged(merged) => merged.parts.iter().for_each(|(part, _)| part.observe(observer)),
            Self::Static(_) | Self::File(_) => {}
        }
    }

    /// Gauges for metrics.
    pub fn gauges(&self) -> KeySetGauges {
        match self {
            Self::Static(fixed) => KeySetGauges {
                key_count: fixed.keys.len(),
                age_secs: Some(fixed.loaded_at.elapsed().as_secs()),
                generation: 1,
                ..KeySetGauges::default()
            },
            Self::File(file) => {
                let (keys, generation) = file.served();
                KeySetGauges {
                    key_count: keys.len(),
                    age_secs: Some(file.age_secs()),
                    generation,
                    fetches: file.reload_counts(),
                    ..KeySetGauges::default()
                }
            }
            Self::Remote(remote) => {
                let status = remote.status();
                KeySetGauges {
                    key_count: if status.serving { status.key_count } else { 0 },
                    age_secs: status.age_ms.map(|ms| ms / 1000),
                    generation: status.generation,
                    fetches: status.fetches,
                    consecutive_failures: status.consecutive_failures,
                    last_failure: status.last_failure,
                    server_skew_ms: remote.last_server_date().map(|date| date.estimated_skew_ms()),
                    refetches: status.refetches,
                }
            }
            Self::Merged(merged) => {
                // The merged set's size and generation; the oldest part's
                // age; every part's fetches.
                let parts: Vec<KeySetGauges> = merged.parts.iter().map(|(part, _)| part.gauges()).collect();
                let served = merged.current(Duration::ZERO);
                KeySetGauges {
                    key_count: served.as_ref().map_or(0, |(keys, _, _)| keys.len()),
                    age_secs: parts.iter().map(|g| g.age_secs).max().flatten(),
                    generation: served.map_or(0, |(_, generation, _)| generation),
                    fetches: parts.iter().fold(FetchCounts::default(), |sum, g| sum.plus(&g.fetches)),
                    consecutive_failures: parts.iter().map(|g| g.consecutive_failures).max().unwrap_or(0),
                    last_failure: parts.iter().find_map(|g| g.last_failure),
                    server_skew_ms: parts.iter().find_map(|g| g.server_skew_ms),
                    refetches: parts.iter().fold(RefetchCounts::default(), |sum, g| sum.plus(&g.refetches)),
                }
            }
        }
    }
}
