//! The file back end: a JSON list re-read when it changes, rewritten
//! atomically (temporary file, then rename) when revoking through it, one
//! writer at a time (a lock file next to it).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::{RevocationError, RevocationList, Shared};
use jwtv_jwks::Clock;
use jwtv_jwks::watch::{Check, PollTimer, WatchedFile, read_bounded};

/// Revocation files larger than this are refused (about 250,000 entries).
const MAX_FILE_BYTES: u64 = 32 * 1024 * 1024;

/// Looks for changes at most this often.
const CHECK_INTERVAL: Duration = Duration::from_secs(1);

/// How long a writer waits for another one's lock.
const LOCK_WAIT: Duration = Duration::from_secs(5);

/// A lock file older than this was left by a writer that died: removed.
const STALE_LOCK: Duration = Duration::from_secs(30);

#[derive(Debug)]
pub(super) struct FileSource {
    path: PathBuf,
    timer: PollTimer,
    /// Boxed: the back ends share an enum, and the others are small.
    watched: Box<Mutex<Watched>>,
}

#[derive(Debug)]
struct Watched {
    file: WatchedFile,
    /// Why the content last read was refused (`None`: it is the list served).
    refused: Option<RevocationError>,
}

impl FileSource {
    pub(super) fn open(path: &Path, clock: &Arc<dyn Clock>) -> Result<(Self, RevocationList), RevocationError> {
        let (file, bytes) = WatchedFile::open(path, MAX_FILE_BYTES).map_err(|e| io_error(path, &e))?;
        let mut list = parse(path, &bytes)?;
        list.prune(clock.unix_secs());
        let source = Self {
            path: path.to_path_buf(),
            timer: PollTimer::with_clock(Arc::clone(clock)),
            watched: Box::new(Mutex::new(Watched { file, refused: None })),
        };
        Ok((source, list))
    }

    pub(super) fn path(&self) -> &Path {
        &self.path
    }

    /// Re-reads the file when it changed, at most once per interval, by
    /// whichever caller comes first; the others go on with the current list.
    pub(super) fn reload_if_changed(&self, shared: &Shared) {
        if !self.timer.due(CHECK_INTERVAL) {
            return;
        }
        let Ok(mut watched) = self.watched.try_lock() else { return };
        self.check(shared, &mut watched);
    }

    /// Every check leaves the list synced (the file read, its content the
    /// list served) or failed (unreadable, or a version that was refused).
    fn check(&self, shared: &Shared, watched: &mut Watched) {
        match watched.file.check() {
            Ok(Check::Unchanged) => match &watched.refused {
                None => shared.mark_synced(),
                Some(refused) => shared.mark_failed(refused),
            },
            Ok(Check::Changed(bytes)) => match parse(&self.path, &bytes) {
                Ok(mut list) => {
                    list.prune(shared.now());
                    shared.replace(list);
                    watched.refused = None;
                    shared.mark_synced();
                }
                Err(e) => {
                    shared.mark_failed(&e);
                    watched.refused = Some(e);
                }
            },
            Err(e) => shared.mark_failed(&io_error(&self.path, &e)),
        }
    }

    /// Applies `change` to the file's current content and writes it back
    /// atomically, then serves the list written. (The next check reads the
    /// file again: it has a new inode.)
    pub(super) fn write<T>(
        &self,
        shared: &Shared,
        change: impl FnOnce(&mut RevocationList) -> T,
    ) -> Result<T, RevocationError> {
        let watched = self.watched.lock().unwrap_or_else(PoisonError::into_inner);
        let lock = WriteLock::acquire(&self.path)?;
        let bytes = read_bounded(&self.path, MAX_FILE_BYTES).map_err(|e| io_error(&self.path, &e))?;
        let mut list = parse(&self.path, &bytes)?;
        let result = change(&mut list);
        list.prune(shared.now());
        let io = |e: std::io::Error| io_error(&self.path, &e);
        let name = self.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let temp = self.path.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
        std::fs::write(&temp, list.to_json()).map_err(io)?;
        std::fs::rename(&temp, &self.path).map_err(|e| {
            let _ = std::fs::remove_file(&temp);
            io(e)
        })?;
        drop(lock);
        drop(watched);
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

fn io_error(path: &Path, e: &std::io::Error) -> RevocationError {
    RevocationError::Io(format!("{}: {e}", path.display()))
}

fn parse(path: &Path, bytes: &[u8]) -> Result<RevocationList, RevocationError> {
    if u64::try_from(bytes.len()).unwrap_or(u64::MAX) > MAX_FILE_BYTES {
        return Err(RevocationError::Invalid(format!("{}: larger than {MAX_FILE_BYTES} bytes", path.display())));
    }
    RevocationList::from_json(bytes).map_err(|e| {
        RevocationError::Invalid(format!(
            "{}: {}",
            path.display(),
            e.to_string().trim_start_matches("invalid revocation list: ")
        ))
    })
}
