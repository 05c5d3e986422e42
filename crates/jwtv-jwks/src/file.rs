//! A JWKS file that is re-read when it changes.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant, SystemTime};

use crate::clock::millis;
use crate::keyset::{JwksError, KeySet, KeySetOptions};
use crate::refresh::FetchCounts;

/// Why a JWKS file could not be loaded.
#[derive(Debug)]
#[non_exhaustive]
pub enum FileError {
    /// The file could not be read.
    Io(std::io::Error),
    /// The file is not a readable JWKS document.
    Jwks(JwksError),
    /// The document has no usable key.
    NoUsableKeys,
}

impl std::fmt::Display for FileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Io(e) => write!(f, "cannot read the JWKS file: {e}"),
            Self::Jwks(e) => write!(f, "{e}"),
            Self::NoUsableKeys => f.write_str("no usable key in the JWKS file"),
        }
    }
}

impl std::error::Error for FileError {}

#[derive(Debug)]
struct Loaded {
    keys: Arc<KeySet>,
    generation: u64,
    stamp: Stamp,
    loaded_at: Instant,
}

/// What identifies a version of the file without reading it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Stamp {
    modified: Option<SystemTime>,
    len: u64,
}

/// A JWKS file, re-read when its modification time or size changes.
///
/// Changes are looked for at most once per check interval (1 s by default),
/// by whichever verification comes first; others keep using the current set
/// meanwhile. A file that becomes unreadable or invalid never replaces the
/// last good set: the error is kept in [`FileJwks::last_error`] and counted.
///
/// ```
/// # let dir = std::env::temp_dir().join(format!("jwtv-doc-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir)?;
/// # let path = dir.join("jwks.json");
/// std::fs::write(&path, r#"{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"k1","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}"#)?;
/// let file = jwtv_jwks::FileJwks::open(&path, jwtv_jwks::KeySetOptions::default())?;
/// let (keys, generation) = file.current();
/// assert_eq!((keys.len(), generation), (1, 1));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct FileJwks {
    path: PathBuf,
    options: KeySetOptions,
    check_interval: Duration,
    origin: Instant,
    last_check_ms: AtomicU64,
    current: RwLock<Arc<Loaded>>,
    reloading: Mutex<ReloadState>,
}

#[derive(Debug, Default)]
struct ReloadState {
    last_error: Option<String>,
    /// The version of the file that last failed to load: not read again.
    failed_stamp: Option<Stamp>,
    /// The file could not be found at the last check (counted once).
    missing: bool,
    counts: FetchCounts,
}

impl FileJwks {
    /// Loads the file; fails when it cannot be read or has no usable key.
    pub fn open(path: impl AsRef<Path>, options: KeySetOptions) -> Result<Self, FileError> {
        let path = path.as_ref().to_path_buf();
        let (keys, stamp) = load(&path, &options)?;
        let loaded = Loaded { keys: Arc::new(keys), generation: 1, stamp, loaded_at: Instant::now() };
        Ok(Self {
            path,
            options,
            check_interval: Duration::from_secs(1),
            origin: Instant::now(),
            last_check_ms: AtomicU64::new(0),
            current: RwLock::new(Arc::new(loaded)),
            reloading: Mutex::default(),
        })
    }

    /// Looks for changes at most this often (default 1 s; zero: at every use).
    #[must_use]
    pub fn with_check_interval(mut self, interval: Duration) -> Self {
        self.check_interval = interval;
        self
    }

    /// The path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The set to serve and its generation, re-reading the file first if it
    /// changed and the check interval has passed.
    pub fn current(&self) -> (Arc<KeySet>, u64) {
        self.reload_if_changed();
        let loaded = self.loaded();
        (Arc::clone(&loaded.keys), loaded.generation)
    }

    /// The set served now and its generation, without looking for changes.
    pub fn served(&self) -> (Arc<KeySet>, u64) {
        let loaded = self.loaded();
        (Arc::clone(&loaded.keys), loaded.generation)
    }

    /// Seconds since the served set was loaded.
    pub fn age_secs(&self) -> u64 {
        self.loaded().loaded_at.elapsed().as_secs()
    }

    /// The error of the last reload attempt, if it failed.
    pub fn last_error(&self) -> Option<String> {
        self.reloading.lock().unwrap_or_else(PoisonError::into_inner).last_error.clone()
    }

    /// Reloads counted as fetches: `updated` for new sets, `malformed` for
    /// invalid files, `transport_errors` for unreadable ones.
    pub fn reload_counts(&self) -> FetchCounts {
        self.reloading.lock().unwrap_or_else(PoisonError::into_inner).counts
    }

    fn loaded(&self) -> Arc<Loaded> {
        Arc::clone(&self.current.read().unwrap_or_else(PoisonError::into_inner))
    }

    fn reload_if_changed(&self) {
        let now_ms = millis(self.origin.elapsed());
        let interval = millis(self.check_interval);
        let last = self.last_check_ms.load(Ordering::Relaxed);
        if now_ms < last.saturating_add(interval) && last != 0 {
            return;
        }
        // One checker at a time; the others serve the current set.
        let Ok(mut state) = self.reloading.try_lock() else { return };
        self.last_check_ms.store(now_ms.max(1), Ordering::Relaxed);
        let current = self.loaded();
        match stamp(&self.path) {
            Ok(stamp) if stamp == current.stamp || Some(stamp) == state.failed_stamp => {
                state.missing = false;
                return;
            }
            Ok(_) => state.missing = false,
            Err(e) => {
                if !state.missing {
                    state.missing = true;
                    state.last_error = Some(FileError::Io(e).to_string());
                    state.counts.transport_errors += 1;
                }
                return;
            }
        }
        match load(&self.path, &self.options) {
            Ok((keys, stamp)) => {
                let next = Loaded {
                    keys: Arc::new(keys),
                    generation: current.generation + 1,
                    stamp,
                    loaded_at: Instant::now(),
                };
                *self.current.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(next);
                state.last_error = None;
                state.failed_stamp = None;
                state.counts.updated += 1;
            }
            Err(e) => {
                state.failed_stamp = stamp(&self.path).ok();
                if matches!(e, FileError::Io(_)) {
                    state.counts.transport_errors += 1;
                } else {
                    state.counts.malformed += 1;
                }
                state.last_error = Some(e.to_string());
            }
        }
    }
}

fn stamp(path: &Path) -> std::io::Result<Stamp> {
    let meta = std::fs::metadata(path)?;
    Ok(Stamp { modified: meta.modified().ok(), len: meta.len() })
}

fn load(path: &Path, options: &KeySetOptions) -> Result<(KeySet, Stamp), FileError> {
    let before = stamp(path).map_err(FileError::Io)?;
    if before.len > u64::try_from(options.max_bytes).unwrap_or(u64::MAX) {
        return Err(FileError::Jwks(JwksError::TooLarge { limit: options.max_bytes }));
    }
    let bytes = std::fs::read(path).map_err(FileError::Io)?;
    let keys = KeySet::parse(&bytes, options).map_err(FileError::Jwks)?;
    if keys.is_empty() {
        return Err(FileError::NoUsableKeys);
    }
    Ok((keys, before))
}
