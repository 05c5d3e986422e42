//! Where a server verifier's keys come from: a fixed set, a file re-read when
//! it changes, or a remote JWKS endpoint refreshed in the background.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::file::FileJwks;
use crate::keyset::KeySet;
use crate::refresh::FetchCounts;
use crate::remote::RemoteJwks;

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
}

/// A fixed key set and when it was made.
#[derive(Clone, Debug)]
pub struct StaticKeys {
    keys: Arc<KeySet>,
    loaded_at: Instant,
}

impl KeySource {
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
        }
    }

    /// A token named a key the set does not have: remote sources may refetch
    /// early (at most once per cooldown); other sources ignore it.
    pub fn unknown_kid(&self) {
        if let Self::Remote(remote) = self {
            remote.request_refetch();
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
                }
            }
            Self::Remote(remote) => {
                let status = remote.status();
                KeySetGauges {
                    key_count: if status.serving { status.key_count } else { 0 },
                    age_secs: status.age_ms.map(|ms| ms / 1000),
                    generation: status.generation,
                    fetches: status.fetches,
                }
            }
        }
    }
}
