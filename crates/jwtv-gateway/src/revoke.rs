//! Revocation: deny lists of `jti`, `sub` and `kid` (see [`Revocations`]).

mod file;
mod list;
#[cfg(feature = "redis")]
mod redis;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock, RwLockReadGuard};
use std::time::Duration;

use jwtv::{Claims, Dependency, Error, Header};

use crate::changes::StateLog;
use jwtv_jwks::{Clock, SystemClock};

pub use list::{JTI_GRACE_SECS, MAX_REVOKED_ID_LEN, Revocation, RevocationError, RevocationKind, RevocationList};
pub(crate) use list::{Listed, ListedBuf};

/// The Redis key prefix by default: the lists are `<prefix>:jti`,
/// `<prefix>:sub` and `<prefix>:kid`, the channel `<prefix>:events`.
pub const DEFAULT_REDIS_PREFIX: &str = "jwtv:revoked";

/// How a Redis-backed list is kept in sync.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RedisOptions {
    /// Key prefix ([`DEFAULT_REDIS_PREFIX`]).
    pub prefix: String,
    /// A full resynchronisation this often, on top of the published changes
    /// (default 60 s).
    pub resync_interval: Duration,
    /// A liveness ping this often; each answered ping marks the copy in sync
    /// (default 1 s).
    pub ping_interval: Duration,
    /// Connect and command timeout (default 2 s).
    pub timeout: Duration,
    /// Reconnection backoff, doubling from `backoff_min` to `backoff_max`
    /// (default 100 ms to 5 s).
    pub backoff_min: Duration,
    /// See `backoff_min`.
    pub backoff_max: Duration,
}

impl Default for RedisOptions {
    fn default() -> Self {
        Self {
            prefix: DEFAULT_REDIS_PREFIX.to_owned(),
            resync_interval: Duration::from_secs(60),
            ping_interval: Duration::from_secs(1),
            timeout: Duration::from_secs(2),
            backoff_min: Duration::from_millis(100),
            backoff_max: Duration::from_secs(5),
        }
    }
}

/// The state of a revocation source, for metrics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RevocationGauges {
    /// Entries in the local copy.
    pub entries: usize,
    /// Entries per kind: `jti`, `sub`, `kid`.
    pub by_kind: [usize; 3],
    /// True once the local copy has synced at least once (a Redis list
    /// starts empty and unsynced).
    pub synced: bool,
    /// Unix time of the last successful sync (load, reload, unchanged-file
    /// check, resync or answered ping); `None`: never synced.
    pub last_sync_unix: Option<u64>,
    /// Seconds since then, or since the list was opened when it never
    /// synced: how stale the local copy may be. It grows from the first
    /// second, so a staleness alert fires for a list that never synced too.
    pub sync_lag_secs: u64,
    /// Failed syncs (unreadable or invalid file, Redis errors).
    pub sync_errors: u64,
    /// True while the back end is reachable (always true in memory).
    pub connected: bool,
    /// Entries of the store the last sync could not take (an empty id, or
    /// one past [`MAX_REVOKED_ID_LEN`] bytes): revocations that are **not**
    /// enforced. Only a Redis list can have them (a file with one is
    /// refused whole); alert on anything but 0.
    pub invalid_entries: u64,
}

/// What a verifier does when the revocation list cannot be trusted to be
/// current: never synced, or not synced for longer than `max_staleness`.
///
/// By default it **fails open**: tokens are accepted against the last good
/// copy (or an empty one) and the state is only exported
/// (`jwtv_revocations_synced`, `jwtv_revocations_sync_lag_seconds`). With
/// `fail_closed`, such tokens are refused with `unavailable` (HTTP hosts
/// answer 503) until the list syncs again: the safer choice wherever a
/// revoked token must never pass, at the price of availability while the
/// store is away.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Freshness {
    /// Refuse with `unavailable` when the list is not fresh.
    pub fail_closed: bool,
    /// How long since the last sync the copy is still fresh
    /// ([`DEFAULT_MAX_STALENESS`]).
    pub max_staleness: Duration,
}

/// How stale a revocation list may be before it no longer counts as in
/// sync by default: one minute, the propagation target of the validation
/// guide's SLI M9.
pub const DEFAULT_MAX_STALENESS: Duration = Duration::from_secs(60);

impl Default for Freshness {
    fn default() -> Self {
        Self { fail_closed: false, max_staleness: DEFAULT_MAX_STALENESS }
    }
}

impl Freshness {
    /// Fail closed after `max_staleness` without a sync (and before the first).
    pub fn fail_closed(max_staleness: Duration) -> Self {
        Self { fail_closed: true, max_staleness }
    }
}

/// The status of a revocation source: [`RevocationGauges`] plus the back end
/// and the last error.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RevocationStatus {
    /// `"memory"`, `"file"` or `"redis"`.
    pub backend: &'static str,
    /// The file path or the Redis URL (without its password).
    pub location: String,
    /// Counts and sync state.
    pub gauges: RevocationGauges,
    /// The last sync error, if the last attempt failed.
    pub last_error: Option<String>,
}

/// A live revocation list: deny lists of token ids (`jti`), subjects
/// (`sub`) and key ids (`kid`) that a server [`Verifier`](crate::Verifier)
/// checks after the signature and claims pass, rejecting with the shared
/// code `revoked`.
///
/// It keeps a local [`RevocationList`] that the verify
/// path reads under a short read lock and never waits on I/O for. It is
/// filled from one of three back ends:
///
/// - **in memory** ([`Revocations::in_memory`]): the process's own list;
/// - **a file** ([`Revocations::from_file`]): a JSON document an operator
///   edits (format at [`RevocationList::from_json`]), re-read when it changes;
///   a broken version never replaces the last good one;
/// - **Redis** ([`Revocations::redis`], for a fleet of gateways): a
///   background thread subscribes to the list's channel, applies each change
///   as it is published, resynchronises fully on (re)connection and
///   periodically, and pings to measure how stale the copy is. When Redis is
///   unreachable the last synced copy keeps serving.
///
/// ```
/// use jwtv_gateway::{Revocation, RevocationKind, Revocations};
///
/// let revocations = Revocations::in_memory(Default::default());
/// revocations.revoke(Revocation::Kid { id: "leaked-key".into(), since: 1_700_000_000 })?;
/// assert_eq!(revocations.status().gauges.entries, 1);
/// assert!(revocations.unrevoke(RevocationKind::Kid, "leaked-key")?);
/// # Ok::<(), jwtv_gateway::RevocationError>(())
/// ```
///
/// Cheap to clone (clones share the copy). A Redis back end's thread stops
/// when the last clone is dropped. Its [`Freshness`] says whether it fails
/// open or closed while it is not in sync.
#[derive(Clone, Debug)]
pub struct Revocations {
    owner: Arc<Owner>,
    freshness: Freshness,
}

#[derive(Debug)]
struct Owner {
    shared: Arc<Shared>,
    backend: Backend,
}

impl Drop for Owner {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
    }
}

#[derive(Debug)]
enum Backend {
    Memory,
    File(file::FileSource),
    #[cfg(feature = "redis")]
    Redis(Box<redis::RedisStore>),
}

/// The local copy and the sync state, shared with a back end's thread.
#[derive(Debug)]
pub(crate) struct Shared {
    list: RwLock<RevocationList>,
    sync: Mutex<SyncState>,
    /// Unix time of the last sync, 0 before the first: read on every
    /// verification without the lock.
    last_sync: AtomicU64,
    /// When the list was opened (the sync lag of a list that never synced).
    opened_unix: u64,
    /// The time base of the sync state and of pruning.
    clock: Arc<dyn Clock>,
    stop: AtomicBool,
    /// Wakes [`Revocations::wait_synced`].
    synced: std::sync::Condvar,
}

#[derive(Debug, Default)]
struct SyncState {
    errors: u64,
    connected: bool,
    last_error: Option<String>,
    /// Entries of the store the last full load could not take.
    invalid: u64,
    /// Where the list comes from and the policy's name, once the list's
    /// sync state changes are logged ([`Revocations::log_changes`]).
    logged_as: Option<(String, Arc<StateLog>)>,
}

impl Shared {
    fn new(list: RevocationList, synced: bool, clock: Arc<dyn Clock>) -> Self {
        let shared = Self {
            list: RwLock::new(list),
            sync: Mutex::default(),
            last_sync: AtomicU64::new(0),
            opened_unix: clock.unix_secs(),
            clock,
            stop: AtomicBool::new(false),
            synced: std::sync::Condvar::new(),
        };
        if synced {
            shared.mark_synced();
        }
        shared
    }

    /// Unix time now, by this list's clock.
    pub(crate) fn now(&self) -> u64 {
        self.clock.unix_secs()
    }

    fn last_sync_unix(&self) -> Option<u64> {
        Some(self.last_sync.load(Ordering::Acquire)).filter(|&at| at != 0)
    }

    pub(crate) fn read(&self) -> RwLockReadGuard<'_, RevocationList> {
        self.list.read().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn update<T>(&self, change: impl FnOnce(&mut RevocationList) -> T) -> T {
        change(&mut self.list.write().unwrap_or_else(PoisonError::into_inner))
    }

    /// Replaces the copy; the old one is dropped after the lock is released.
    pub(crate) fn replace(&self, list: RevocationList) {
        let old = std::mem::replace(&mut *self.list.write().unwrap_or_else(PoisonError::into_inner), list);
        drop(old);
    }

    /// True once the last handle is gone: a back end's thread stops.
    #[cfg(feature = "redis")]
    pub(crate) fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    pub(crate) fn mark_synced(&self) {
        let mut sync = self.sync.lock().unwrap_or_else(PoisonError::into_inner);
        self.last_sync.store(self.now().max(1), Ordering::Release);
        sync.connected = true;
        if sync.last_error.take().is_some()
            && let Some((source, log)) = &sync.logged_as
        {
            log.revocations(source, None);
        }
        drop(sync);
        self.synced.notify_all();
    }

    /// A sync that found `invalid` entries the copy cannot take.
    #[cfg(feature = "redis")]
    pub(crate) fn mark_synced_with_invalid(&self, invalid: u64) {
        self.sync.lock().unwrap_or_else(PoisonError::into_inner).invalid = invalid;
        self.mark_synced();
    }

    pub(crate) fn mark_failed(&self, error: &RevocationError) {
        let mut sync = self.sync.lock().unwrap_or_else(PoisonError::into_inner);
        sync.errors += 1;
        sync.connected = false;
        let error = error.to_string();
        if sync.last_error.as_ref() != Some(&error)
            && let Some((source, log)) = &sync.logged_as
        {
            log.revocations(source, Some(&error));
        }
        sync.last_error = Some(error);
    }
}

impl Revocations {
    fn with_backend(shared: Arc<Shared>, backend: Backend) -> Self {
        Self { owner: Arc::new(Owner { shared, backend }), freshness: Freshness::default() }
    }

    /// This handle with `freshness`: whether the verifications it checks fail
    /// closed (`unavailable`) while the list is not in sync. Clones made from
    /// it keep it; other handles on the same list keep their own.
    #[must_use]
    pub fn with_freshness(mut self, freshness: Freshness) -> Self {
        self.freshness = freshness;
        self
    }

    /// How this handle answers when the list is not in sync.
    pub fn freshness(&self) -> Freshness {
        self.freshness
    }

    /// True when the copy is in sync: an in-memory list always is (it is the
    /// list itself); a file or Redis copy once it synced, not longer ago than
    /// the freshness's `max_staleness`.
    pub fn in_sync(&self) -> bool {
        if matches!(self.owner.backend, Backend::Memory) {
            return true;
        }
        let max = self.freshness.max_staleness.as_secs();
        let shared = &self.owner.shared;
        shared.last_sync_unix().is_some_and(|at| shared.now().saturating_sub(at) <= max)
    }

    /// A list kept in this process only ([`Revocations::revoke`] changes it).
    pub fn in_memory(list: RevocationList) -> Self {
        Self::in_memory_with_clock(list, Arc::new(SystemClock::new()))
    }

    /// [`Revocations::in_memory`] whose sync state reads `clock` (tests
    /// inject a [`ManualClock`](jwtv_jwks::ManualClock)).
    pub fn in_memory_with_clock(list: RevocationList, clock: Arc<dyn Clock>) -> Self {
        Self::with_backend(Arc::new(Shared::new(list, true, clock)), Backend::Memory)
    }

    /// A list read from a JSON file (format at [`RevocationList::from_json`])
    /// and re-read when it changes (inode, ctime, size, modification time,
    /// and its content while those are too recent to trust), looked for at
    /// most once a second. Fails when the file cannot be read or is invalid;
    /// later, a broken version keeps the last good list serving.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, RevocationError> {
        Self::from_file_with_clock(path, Arc::new(SystemClock::new()))
    }

    /// [`Revocations::from_file`] whose checks, pruning and sync state read
    /// `clock` (tests inject a [`ManualClock`](jwtv_jwks::ManualClock) and
    /// need no sleeps).
    pub fn from_file_with_clock(path: impl AsRef<Path>, clock: Arc<dyn Clock>) -> Result<Self, RevocationError> {
        let (source, list) = file::FileSource::open(path.as_ref(), &clock)?;
        Ok(Self::with_backend(Arc::new(Shared::new(list, true, clock)), Backend::File(source)))
    }

    /// A list kept in Redis at `url` (`redis://[user:password@]host[:port][/db]`
    /// or `redis+unix:///path`) and synced into this process by a background
    /// thread. Returns at once; [`Revocations::wait_synced`] waits for the
    /// first sync. Until then the local copy is empty.
    #[cfg(feature = "redis")]
    pub fn redis(url: &str, options: RedisOptions) -> Result<Self, RevocationError> {
        let store = redis::RedisStore::new(url, options)?;
        let shared = Arc::new(Shared::new(RevocationList::new(), false, Arc::new(SystemClock::new())));
        store.spawn_sync(Arc::clone(&shared))?;
        Ok(Self::with_backend(shared, Backend::Redis(Box::new(store))))
    }

    /// The source named by `source`: a `redis://` or `redis+unix://` URL, or
    /// a file path (relative paths are relative to `base_dir`).
    pub fn open(source: &str, base_dir: &Path, options: RedisOptions) -> Result<Self, RevocationError> {
        match classify(source)? {
            SourceKind::Redis => {
                #[cfg(feature = "redis")]
                return Self::redis(source, options);
                #[cfg(not(feature = "redis"))]
                return Err(RevocationError::BadSource("jwtv-jwks was built without its `redis` feature".into()));
            }
            SourceKind::File => {
                drop(options);
                Self::from_file(base_dir.join(source))
            }
        }
    }

    /// Checks `source` as [`Revocations::open`] would read it, without
    /// connecting anywhere: a file must load, a URL must be well formed.
    pub fn check_source(source: &str, base_dir: &Path) -> Result<(), RevocationError> {
        match classify(source)? {
            #[cfg(feature = "redis")]
            SourceKind::Redis => redis::RedisStore::new(source, RedisOptions::default()).map(drop),
            #[cfg(not(feature = "redis"))]
            SourceKind::Redis => {
                Err(RevocationError::BadSource("jwtv-jwks was built without its `redis` feature".into()))
            }
            SourceKind::File => {
                let clock: Arc<dyn Clock> = Arc::new(SystemClock::new());
                file::FileSource::open(&base_dir.join(source), &clock).map(drop)
            }
        }
    }

    /// Rejects a verified token whose `jti`, subject or key is revoked (see
    /// [`RevocationList::check`]), or, when the list fails closed and is not
    /// [in sync](Revocations::in_sync), any token with
    /// `unavailable` (detail `revocations`). Never waits on I/O: a file back
    /// end looks for changes at most once a second, Redis is synced in the
    /// background.
    pub fn check(
        &self,
        header: &Header<'_>,
        claims: &Claims<'_>,
        key_kid: Option<&str>,
        now: u64,
    ) -> Result<(), Error> {
        self.check_listed(&Listed::of(header, claims), key_kid, now)
    }

    /// [`Revocations::check`] on what the list looks at in a token.
    pub(crate) fn check_listed(&self, token: &Listed<'_>, key_kid: Option<&str>, now: u64) -> Result<(), Error> {
        let shared = &self.owner.shared;
        if let Backend::File(source) = &self.owner.backend {
            source.reload_if_changed(shared);
        }
        if self.freshness.fail_closed && !self.in_sync() {
            return Err(Error::Unavailable(Dependency::Revocations));
        }
        let list = shared.read();
        let checked = list.check_listed(token, key_kid, now);
        if list.prune_due(now) {
            drop(list);
            if let Ok(mut list) = shared.list.try_write() {
                list.prune(now);
            }
        }
        checked
    }

    /// Revokes: in memory, in the file (rewritten atomically), or in Redis
    /// (published to every subscribed process). The local copy has the entry
    /// when this returns `Ok`.
    pub fn revoke(&self, revocation: Revocation) -> Result<(), RevocationError> {
        revocation.validate()?;
        let shared = &self.owner.shared;
        match &self.owner.backend {
            Backend::Memory => {}
            Backend::File(source) => source.write(shared, |list| list.insert(revocation.clone()))?,
            #[cfg(feature = "redis")]
            Backend::Redis(store) => store.revoke(&revocation)?,
        }
        shared.update(|list| list.insert(revocation));
        Ok(())
    }

    /// Takes back a revocation; true when there was one.
    pub fn unrevoke(&self, kind: RevocationKind, id: &str) -> Result<bool, RevocationError> {
        let shared = &self.owner.shared;
        let removed = match &self.owner.backend {
            Backend::Memory => false,
            Backend::File(source) => source.write(shared, |list| list.remove(kind, id))?,
            #[cfg(feature = "redis")]
            Backend::Redis(store) => store.unrevoke(kind, id)?,
        };
        Ok(shared.update(|list| list.remove(kind, id)) || removed)
    }

    /// Waits up to `timeout` for the first sync (at once for memory and file
    /// back ends); true when synced.
    pub fn wait_synced(&self, timeout: Duration) -> bool {
        let shared = &self.owner.shared;
        let sync = shared.sync.lock().unwrap_or_else(PoisonError::into_inner);
        let (sync, _) = shared
            .synced
            .wait_timeout_while(sync, timeout, |_| shared.last_sync_unix().is_none())
            .unwrap_or_else(PoisonError::into_inner);
        drop(sync);
        shared.last_sync_unix().is_some()
    }

    /// A copy of the local list.
    pub fn snapshot(&self) -> RevocationList {
        self.owner.shared.read().clone()
    }

    /// Counts and sync state.
    pub fn gauges(&self) -> RevocationGauges {
        let shared = &self.owner.shared;
        let by_kind = {
            let list = shared.read();
            RevocationKind::ALL.map(|kind| list.count(kind))
        };
        let sync = shared.sync.lock().unwrap_or_else(PoisonError::into_inner);
        let in_memory = matches!(self.owner.backend, Backend::Memory);
        let last_sync_unix = if in_memory { Some(shared.now()) } else { shared.last_sync_unix() };
        RevocationGauges {
            entries: by_kind.iter().sum(),
            by_kind,
            synced: last_sync_unix.is_some(),
            last_sync_unix,
            sync_lag_secs: shared.now().saturating_sub(last_sync_unix.unwrap_or(shared.opened_unix)),
            sync_errors: sync.errors,
            connected: sync.connected,
            invalid_entries: sync.invalid,
        }
    }

    /// The back end, its location, the gauges and the last error.
    pub fn status(&self) -> RevocationStatus {
        let gauges = self.gauges();
        let (backend, location) = match &self.owner.backend {
            Backend::Memory => ("memory", String::new()),
            Backend::File(source) => ("file", source.path().display().to_string()),
            #[cfg(feature = "redis")]
            Backend::Redis(store) => ("redis", store.location()),
        };
        let last_error = self.owner.shared.sync.lock().unwrap_or_else(PoisonError::into_inner).last_error.clone();
        RevocationStatus { backend, location, gauges, last_error }
    }

    /// Reports the list's sync state changes from now on to `log`, once
    /// each (it stops syncing, fails for another reason, syncs again): what
    /// a server verifier does with its list.
    pub(crate) fn log_changes(&self, log: Arc<StateLog>) {
        let location = self.status().location;
        let mut sync = self.owner.shared.sync.lock().unwrap_or_else(PoisonError::into_inner);
        sync.logged_as = Some((location, log));
    }

    /// The file of a file back end.
    pub fn file_path(&self) -> Option<PathBuf> {
        match &self.owner.backend {
            Backend::File(source) => Some(source.path().to_path_buf()),
            _ => None,
        }
    }
}

enum SourceKind {
    Redis,
    File,
}

fn classify(source: &str) -> Result<SourceKind, RevocationError> {
    if source.is_empty() {
        return Err(RevocationError::BadSource("empty: name a file or a redis:// URL".into()));
    }
    match source.split_once("://").map(|(scheme, _)| scheme) {
        Some("redis" | "redis+unix" | "unix") => Ok(SourceKind::Redis),
        Some("rediss") => Err(RevocationError::BadSource(
            "rediss:// (TLS) is not supported: reach Redis over loopback or a local TLS tunnel".into(),
        )),
        Some(scheme) if !scheme.is_empty() && scheme.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'+') => {
            Err(RevocationError::BadSource(format!("unsupported scheme `{scheme}://` (a file path or redis:// URL)")))
        }
        _ => Ok(SourceKind::File),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revocations_are_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Revocations>();
    }

    #[test]
    fn sources_are_classified_by_scheme() {
        assert!(matches!(classify("redis://127.0.0.1:6379"), Ok(SourceKind::Redis)));
        assert!(matches!(classify("redis+unix:///run/redis.sock"), Ok(SourceKind::Redis)));
        assert!(matches!(classify("revocations.json"), Ok(SourceKind::File)));
        assert!(matches!(classify("/etc/jwtv/revoked.json"), Ok(SourceKind::File)));
        let err = |s| classify(s).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err("rediss://h").contains("not supported"));
        assert!(err("https://h/x").contains("unsupported scheme `https://`"));
        assert!(err("").contains("empty"));
    }

    #[test]
    fn an_in_memory_list_revokes_and_unrevokes() {
        let r = Revocations::in_memory(RevocationList::new());
        assert!(r.wait_synced(Duration::ZERO));
        r.revoke(Revocation::Jti { id: "a".into(), exp: 10 }).unwrap();
        r.revoke(Revocation::Sub { id: "u".into(), not_before: 10 }).unwrap();
        let g = r.gauges();
        assert_eq!((g.entries, g.by_kind, g.connected, g.sync_errors), (2, [1, 1, 0], true, 0));
        assert!(r.unrevoke(RevocationKind::Jti, "a").unwrap());
        assert!(!r.unrevoke(RevocationKind::Jti, "a").unwrap());
        assert!(r.revoke(Revocation::Kid { id: String::new(), since: 0 }).is_err());
        assert_eq!(r.status().backend, "memory");
        assert_eq!(r.snapshot().len(), 1);
    }
}
