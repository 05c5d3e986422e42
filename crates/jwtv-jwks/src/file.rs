//! A JWKS file that is re-read when its content changes.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

use crate::digest::Digest;
use crate::keyset::{JwksError, KeySet};
use crate::options::KeySetOptions;
use crate::refresh::FetchCounts;
use crate::watch::{Check, PollTimer, WatchedFile};

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
    /// SHA-256 of the document the set was read from.
    digest: Digest,
    loaded_at: Instant,
}

/// A JWKS file, re-read when its content changes.
///
/// Changes are looked for at most once per check interval (1 s by default),
/// by whichever verification comes first; others keep using the current set
/// meanwhile. A change is any new content, however it was written: in place
/// with the same size within one tick of the filesystem's clock, or renamed
/// over the path; new metadata over the same content (`touch`) is not one,
/// and neither is the served document coming back, so the generation moves
/// only when the document does. A file that becomes unreadable or invalid
/// never replaces the last good set: the error is kept in
/// [`FileJwks::last_error`] and counted.
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
    timer: PollTimer,
    current: RwLock<Arc<Loaded>>,
    reloading: Mutex<ReloadState>,
}

#[derive(Debug)]
struct ReloadState {
    file: WatchedFile,
    last_error: Option<String>,
    /// The file could not be read at the last check (counted once).
    unreadable: bool,
    counts: FetchCounts,
}

impl FileJwks {
    /// Loads the file; fails when it cannot be read or has no usable key.
    pub fn open(path: impl AsRef<Path>, options: KeySetOptions) -> Result<Self, FileError> {
        let path = path.as_ref().to_path_buf();
        let (file, document) = WatchedFile::open(&path, limit(&options)).map_err(FileError::Io)?;
        let keys = parse(&document, &options)?;
        let loaded = Loaded { keys: Arc::new(keys), generation: 1, digest: file.digest(), loaded_at: Instant::now() };
        Ok(Self {
            path,
            options,
            check_interval: Duration::from_secs(1),
            timer: PollTimer::new(),
            current: RwLock::new(Arc::new(loaded)),
            reloading: Mutex::new(ReloadState {
                file,
                last_error: None,
                unreadable: false,
                counts: FetchCounts::default(),
            }),
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

    /// The error of the last check, if the file could not be read or its
    /// content is not a usable key set (cleared when the file serves again).
    pub fn last_error(&self) -> Option<String> {
        self.reloading.lock().unwrap_or_else(PoisonError::into_inner).last_error.clone()
    }

    /// Reloads counted as fetches: `updated` for new sets, `malformed` for
    /// invalid versions of the file, `transport_errors` for each time it
    /// became unreadable.
    pub fn reload_counts(&self) -> FetchCounts {
        self.reloading.lock().unwrap_or_else(PoisonError::into_inner).counts
    }

    fn loaded(&self) -> Arc<Loaded> {
        Arc::clone(&self.current.read().unwrap_or_else(PoisonError::into_inner))
    }

    fn reload_if_changed(&self) {
        if !self.timer.due(self.check_interval) {
            return;
        }
        // One checker at a time; the others serve the current set.
        let Ok(mut state) = self.reloading.try_lock() else { return };
        let state = &mut *state;
        let document = match state.file.check() {
            Ok(Check::Unchanged) => None,
            Ok(Check::Changed(document)) => Some(document),
            Err(e) => {
                if !state.unreadable {
                    state.unreadable = true;
                    state.last_error = Some(FileError::Io(e).to_string());
                    state.counts.transport_errors += 1;
                }
                return;
            }
        };
        state.unreadable = false;
        let current = self.loaded();
        if state.file.digest() == current.digest {
            // The served document, unchanged or back after a bad version.
            state.last_error = None;
            return;
        }
        // Otherwise an unchanged file is a version already refused.
        let Some(document) = document else { return };
        match parse(&document, &self.options) {
            Ok(keys) => {
                let next = Loaded {
                    keys: Arc::new(keys),
                    generation: current.generation + 1,
                    digest: state.file.digest(),
                    loaded_at: Instant::now(),
                };
                *self.current.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(next);
                state.last_error = None;
                state.counts.updated += 1;
            }
            Err(e) => {
                state.counts.malformed += 1;
                state.last_error = Some(e.to_string());
            }
        }
    }
}

/// Reads are cut one byte past the document limit, which [`KeySet::parse`]
/// then refuses as too large.
fn limit(options: &KeySetOptions) -> u64 {
    u64::try_from(options.max_bytes).unwrap_or(u64::MAX)
}

fn parse(document: &[u8], options: &KeySetOptions) -> Result<KeySet, FileError> {
    let keys = KeySet::parse(document, options).map_err(FileError::Jwks)?;
    if keys.is_empty() {
        return Err(FileError::NoUsableKeys);
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    const K1: &str = r#"{"kty":"OKP","crv":"Ed25519","kid":"k1","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#;
    const K2: &str = r#"{"kty":"OKP","crv":"Ed25519","kid":"k2","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#;

    fn jwks(key: &str) -> String {
        format!(r#"{{"keys":[{key}]}}"#)
    }

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("jwtv-file-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn kids(file: &FileJwks) -> (Vec<String>, u64) {
        let (keys, generation) = file.current();
        (keys.keys().iter().filter_map(|k| k.kid().map(str::to_owned)).collect(), generation)
    }

    #[test]
    fn every_new_content_is_a_new_generation_and_only_new_content() {
        let dir = temp_dir("generations");
        let path = dir.join("jwks.json");
        std::fs::write(&path, jwks(K1)).unwrap();
        let file = FileJwks::open(&path, KeySetOptions::default()).unwrap().with_check_interval(Duration::ZERO);
        assert_eq!(kids(&file), (vec!["k1".to_owned()], 1));

        // Same size, written at once: seen.
        std::fs::write(&path, jwks(K2)).unwrap();
        assert_eq!(kids(&file), (vec!["k2".to_owned()], 2));

        // A touch, and the same document renamed over the path: no change.
        std::fs::File::options().write(true).open(&path).unwrap().set_modified(std::time::SystemTime::now()).unwrap();
        assert_eq!(kids(&file), (vec!["k2".to_owned()], 2));
        std::fs::write(dir.join("next"), jwks(K2)).unwrap();
        std::fs::rename(dir.join("next"), &path).unwrap();
        assert_eq!(kids(&file), (vec!["k2".to_owned()], 2));

        // A bad version is refused once; the good one coming back is no new
        // generation and clears the error.
        std::fs::write(&path, "{}").unwrap();
        assert_eq!(kids(&file), (vec!["k2".to_owned()], 2));
        assert_eq!(kids(&file), (vec!["k2".to_owned()], 2));
        assert!(file.last_error().is_some_and(|e| e.contains("keys")), "{:?}", file.last_error());
        assert_eq!(file.reload_counts().malformed, 1);
        std::fs::write(&path, jwks(K2)).unwrap();
        assert_eq!(kids(&file), (vec!["k2".to_owned()], 2));
        assert_eq!(file.last_error(), None);

        // Gone: counted once, the set keeps serving, and it comes back.
        std::fs::remove_file(&path).unwrap();
        assert_eq!(kids(&file), (vec!["k2".to_owned()], 2));
        assert_eq!(kids(&file), (vec!["k2".to_owned()], 2));
        assert_eq!(file.reload_counts().transport_errors, 1);
        assert!(file.last_error().is_some());
        std::fs::write(&path, jwks(K1)).unwrap();
        assert_eq!(kids(&file), (vec!["k1".to_owned()], 3));
        assert_eq!(file.last_error(), None);
        let counts = file.reload_counts();
        assert_eq!((counts.updated, counts.malformed, counts.transport_errors), (2, 1, 1));
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn a_file_past_the_limit_is_refused_as_too_large() {
        let dir = temp_dir("limit");
        let path = dir.join("jwks.json");
        let document = jwks(K1);
        std::fs::write(&path, &document).unwrap();
        let options = KeySetOptions { max_bytes: document.len(), ..KeySetOptions::default() };
        let file = FileJwks::open(&path, options).unwrap().with_check_interval(Duration::ZERO);
        std::fs::write(&path, format!("{document} ")).unwrap();
        assert_eq!(kids(&file), (vec!["k1".to_owned()], 1));
        assert!(file.last_error().is_some_and(|e| e.contains("larger than")), "{:?}", file.last_error());
        std::fs::remove_dir_all(&dir).ok();
    }
}
