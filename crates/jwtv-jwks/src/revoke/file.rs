//! The file back end: a JSON list re-read when it changes, rewritten
//! atomically (temporary file, then rename) when revoking through it, one
//! writer at a time (a lock file next to it).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use super::{RevocationError, RevocationList, Shared};
use crate::clock::millis;

/// Revocation files larger than this are refused (about 250,000 entries).
const MAX_FILE_BYTES: u64 = 32 * 1024 * 1024;

/// Looks for changes at most this often.
const CHECK_INTERVAL_MS: u64 = 1000;

/// How long a writer waits for another one's lock.
const LOCK_WAIT: Duration = Duration::from_secs(5);

/// A lock file older than this was left by a writer that died: removed.
const STALE_LOCK: Duration = Duration::from_secs(30);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Stamp {
    modified: Option<SystemTime>,
    len: u64,
}

#[derive(Debug)]
pub(super) struct FileSource {
    path: PathBuf,
    origin: Instant,
    last_check_ms: AtomicU64,
    /// The version loaded (or last refused): not read again.
    loaded: Mutex<Option<Stamp>>,
}

impl FileSource {
    pub(super) fn open(path: &Path) -> Result<(Self, RevocationList), RevocationError> {
        let (list, stamp) = load(path)?;
        let source = Self {
            path: path.to_path_buf(),
            origin: Instant::now(),
            last_check_ms: AtomicU64::new(0),
            loaded: Mutex::new(Some(stamp)),
        };
        Ok((source, list))
    }

    pub(super) fn path(&self) -> &Path {
        &self.path
    }

    /// Re-reads the file when it changed, at most once per interval, by
    /// whichever caller comes first; the others go on with the current list.
    pub(super) fn reload_if_changed(&self, shared: &Shared) {
        let now_ms = millis(self.origin.elapsed()).max(1);
        let last = self.last_check_ms.load(Ordering::Relaxed);
        if now_ms < last.saturating_add(CHECK_INTERVAL_MS) {
            return;
        }
        let Ok(mut loaded) = self.loaded.try_lock() else { return };
        self.last_check_ms.store(now_ms, Ordering::Relaxed);
        self.reload(shared, &mut loaded);
    }

    fn reload(&self, shared: &Shared, loaded: &mut Option<Stamp>) {
        match stamp(&self.path) {
            Ok(stamp) if Some(stamp) == *loaded => shared.mark_synced(),
            Ok(_) => match load(&self.path) {
                Ok((mut list, stamp)) => {
                    list.prune(jwtv::now());
                    shared.replace(list);
                    *loaded = Some(stamp);
                    shared.mark_synced();
                }
                Err(e) => {
                    *loaded = stamp(&self.path).ok();
                    shared.mark_failed(&e);
                }
            },
            Err(e) => shared.mark_failed(&RevocationError::Io(format!("{}: {e}", self.path.display()))),
        }
    }

    /// Applies `change` to the file's current content and writes it back
    /// atomically, then reloads the local copy from it.
    pub(super) fn write<T>(
        &self,
        shared: &Shared,
        change: impl FnOnce(&mut RevocationList) -> T,
    ) -> Result<T, RevocationError> {
        let mut loaded = self.loaded.lock().unwrap_or_else(PoisonError::into_inner);
        let lock = WriteLock::acquire(&self.path)?;
        let (mut list, _) = load(&self.path)?;
        let result = change(&mut list);
        list.prune(jwtv::now());
        let io = |e: std::io::Error| RevocationError::Io(format!("{}: {e}", self.path.display()));
        let name = self.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let temp = self.path.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
        std::fs::write(&temp, list.to_json()).map_err(io)?;
        std::fs::rename(&temp, &self.path).map_err(|e| {
            let _ = std::fs::remove_file(&temp);
            io(e)
        })?;
        drop(lock);
        *loaded = stamp(&self.path).ok();
        shared.replace(list);
        shared.mark_synced();
        Ok(result)
    }
}

/// `.<name>.lock` beside the list while one writer reads, changes and
/// replaces it, so that concurrent writers (several `jwtv revoke` at once)
/// never lose each other's entries. Readers need no lock: they only ever see
/// a whole file (rename is atomic).
struct WriteLock {
    path: PathBuf,
}

impl WriteLock {
    fn acquire(list: &Path) -> Result<Self, RevocationError> {
        let name = list.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let path = list.with_file_name(format!(".{name}.lock"));
        let started = Instant::now();
        loop {
            match std::fs::OpenOptions::new().write(true).create_new(true).open(&path) {
                Ok(_) => return Ok(Self { path }),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let age = std::fs::metadata(&path).and_then(|m| m.modified()).ok().and_then(|t| t.elapsed().ok());
                    if age.is_some_and(|age| age > STALE_LOCK) {
                        let _ = std::fs::remove_file(&path);
                        continue;
                    }
                    if started.elapsed() > LOCK_WAIT {
                        return Err(RevocationError::Io(format!(
                            "{}: another writer holds the lock (remove it if no writer is running)",
                            path.display()
                        )));
                    }
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err(e) => return Err(RevocationError::Io(format!("{}: {e}", path.display()))),
            }
        }
    }
}

impl Drop for WriteLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

fn stamp(path: &Path) -> std::io::Result<Stamp> {
    let meta = std::fs::metadata(path)?;
    Ok(Stamp { modified: meta.modified().ok(), len: meta.len() })
}

fn load(path: &Path) -> Result<(RevocationList, Stamp), RevocationError> {
    let io = |e: std::io::Error| RevocationError::Io(format!("{}: {e}", path.display()));
    let before = stamp(path).map_err(io)?;
    if before.len > MAX_FILE_BYTES {
        return Err(RevocationError::Invalid(format!("{}: larger than {MAX_FILE_BYTES} bytes", path.display())));
    }
    let bytes = std::fs::read(path).map_err(io)?;
    let list = RevocationList::from_json(&bytes).map_err(|e| {
        RevocationError::Invalid(format!(
            "{}: {}",
            path.display(),
            e.to_string().trim_start_matches("invalid revocation list: ")
        ))
    })?;
    Ok((list, before))
}
