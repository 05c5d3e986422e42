//! Files polled for changes: the JWKS file ([`FileJwks`](crate::FileJwks))
//! and the revocation file of a gateway.
//!
//! A poll compares what `stat` says with what it said when the content was
//! last read: device and inode (another file renamed over the path), size,
//! and the modification and status-change times with their nanoseconds.
//!
//! Equal metadata alone proves nothing while the modification time is
//! recent: a filesystem's clock ticks coarsely (a few milliseconds on ext4,
//! 2 s on FAT), so a same-size rewrite within the tick of the last read
//! leaves every field as it was. Git calls such an entry "racily clean". So
//! as long as the last read happened within [`RACY_WINDOW`] of the file's
//! times, each poll reads the content again and compares its SHA-256; once a
//! read has happened well after them, any later write moves a time and the
//! metadata is trusted.
//!
//! Metadata that changed with the content staying the same (`touch`,
//! `chmod`, the same document renamed over the path) is not a change: the
//! content is compared before anything is reported.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use crate::clock::{Clock, SystemClock, millis};
use crate::digest::{Digest, sha256};

/// A file whose times are this close to the time it was read may still
/// change without its metadata changing.
pub const RACY_WINDOW: Duration = Duration::from_secs(2);

/// What `stat` says about one version of a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Stamp {
    /// Device and inode (Unix): a new file renamed over the path has others.
    identity: Option<(u64, u64)>,
    len: u64,
    modified: Option<SystemTime>,
    /// The status-change time (Unix): moved by every write and `chmod`, and
    /// by a `touch -d` that sets an old modification time.
    status_changed: Option<SystemTime>,
}

impl Stamp {
    fn of(meta: &std::fs::Metadata) -> Self {
        Self { identity: identity(meta), len: meta.len(), modified: meta.modified().ok(), status_changed: ctime(meta) }
    }

    /// True when a write after `read_at` could have left this stamp as it
    /// is: a time within [`RACY_WINDOW`] before `read_at`, after it (another
    /// clock, skewed), or unknown.
    fn racy_at(&self, read_at: SystemTime) -> bool {
        let recent = |time: Option<SystemTime>| {
            time.is_none_or(|time| read_at.duration_since(time).map_or(true, |age| age < RACY_WINDOW))
        };
        recent(self.modified) || (self.status_changed.is_some() && recent(self.status_changed))
    }
}

#[cfg(unix)]
fn identity(meta: &std::fs::Metadata) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt as _;
    Some((meta.dev(), meta.ino()))
}

#[cfg(not(unix))]
fn identity(_: &std::fs::Metadata) -> Option<(u64, u64)> {
    None
}

#[cfg(unix)]
fn ctime(meta: &std::fs::Metadata) -> Option<SystemTime> {
    use std::os::unix::fs::MetadataExt as _;
    let secs = u64::try_from(meta.ctime()).ok()?;
    let nanos = u32::try_from(meta.ctime_nsec()).ok()?;
    SystemTime::UNIX_EPOCH.checked_add(Duration::new(secs, nanos))
}

#[cfg(not(unix))]
fn ctime(_: &std::fs::Metadata) -> Option<SystemTime> {
    None
}

/// The version of the file last read.
#[derive(Debug)]
struct Seen {
    stamp: Stamp,
    digest: Digest,
    /// The stamp cannot be trusted: compare the content at the next poll.
    racy: bool,
}

/// What a poll found.
#[derive(Debug, PartialEq, Eq)]
pub enum Check {
    /// The content is the one read last.
    Unchanged,
    /// New content, as read (at most the limit plus one byte, so that a
    /// reader can tell a file that is too large).
    Changed(Vec<u8>),
}

/// A file polled for changes of its content.
#[derive(Debug)]
pub struct WatchedFile {
    path: PathBuf,
    limit: u64,
    seen: Seen,
}

impl WatchedFile {
    /// Reads the file (at most `limit + 1` bytes) and starts watching it.
    pub fn open(path: &Path, limit: u64) -> std::io::Result<(Self, Vec<u8>)> {
        let (bytes, seen) = read(path, limit)?;
        Ok((Self { path: path.to_path_buf(), limit, seen }, bytes))
    }

    /// The SHA-256 of the content last read: what [`Check::Unchanged`] means.
    pub fn digest(&self) -> [u8; 32] {
        self.seen.digest
    }

    /// Looks at the file: unchanged, changed (with its new content), or
    /// unreadable (gone, no permission). An error leaves the last version
    /// read as the reference, so a file put back as it was is unchanged.
    pub fn check(&mut self) -> std::io::Result<Check> {
        let stamp = Stamp::of(&std::fs::metadata(&self.path)?);
        if stamp == self.seen.stamp && !self.seen.racy {
            return Ok(Check::Unchanged);
        }
        let (bytes, seen) = read(&self.path, self.limit)?;
        let changed = seen.digest != self.seen.digest;
        self.seen = seen;
        Ok(if changed { Check::Changed(bytes) } else { Check::Unchanged })
    }
}

/// Reads at most `limit + 1` bytes of the file, with the stamp of the file
/// actually opened (taken before reading: a write racing the read then
/// shows as a change at the next poll, never as none).
fn read(path: &Path, limit: u64) -> std::io::Result<(Vec<u8>, Seen)> {
    let file = std::fs::File::open(path)?;
    let stamp = Stamp::of(&file.metadata()?);
    let mut bytes = Vec::with_capacity(usize::try_from(stamp.len.min(limit)).unwrap_or(0).saturating_add(1));
    file.take(limit.saturating_add(1)).read_to_end(&mut bytes)?;
    let seen = Seen { stamp, digest: sha256(&bytes), racy: stamp.racy_at(SystemTime::now()) };
    Ok((bytes, seen))
}

/// Reads a file as [`WatchedFile::open`] does, without watching it.
pub fn read_bounded(path: &Path, limit: u64) -> std::io::Result<Vec<u8>> {
    read(path, limit).map(|(bytes, _)| bytes)
}

/// Lets one poll through per interval, whichever caller comes first.
#[derive(Debug)]
pub struct PollTimer {
    clock: Arc<dyn Clock>,
    /// The clock's milliseconds at the last poll, plus one (0: never).
    last: AtomicU64,
}

impl Default for PollTimer {
    fn default() -> Self {
        Self::new()
    }
}

impl PollTimer {
    /// A timer on the system clock whose first poll is due at once.
    pub fn new() -> Self {
        Self::with_clock(Arc::new(SystemClock::new()))
    }

    /// A timer on `clock` whose first poll is due at once.
    pub fn with_clock(clock: Arc<dyn Clock>) -> Self {
        Self { clock, last: AtomicU64::new(0) }
    }

    /// True (and the interval restarts) when `interval` has passed since the
    /// last time this was true, or on the first call.
    pub fn due(&self, interval: Duration) -> bool {
        let now = self.clock.now_ms().saturating_add(1);
        let last = self.last.load(Ordering::Relaxed);
        if last != 0 && now < last.saturating_add(millis(interval)) {
            return false;
        }
        self.last.store(now, Ordering::Relaxed);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("jwtv-watch-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn set_times(path: &Path, modified: SystemTime) {
        std::fs::File::options().write(true).open(path).unwrap().set_modified(modified).unwrap();
    }

    /// Makes the last read look as if it had happened long after the file's
    /// times: from now on only the metadata is looked at.
    fn settle(file: &mut WatchedFile) {
        file.seen.racy = false;
    }

    #[test]
    fn a_same_size_rewrite_within_one_tick_is_seen() {
        let dir = temp_dir("same-tick");
        let path = dir.join("f");
        std::fs::write(&path, "aaaa").unwrap();
        let (mut file, bytes) = WatchedFile::open(&path, 100).unwrap();
        assert_eq!(bytes, b"aaaa");
        assert!(file.seen.racy, "just written");

        // Rewritten in place with the same size; wherever the filesystem's
        // clock stood, the metadata is made exactly what it was at the read.
        std::fs::write(&path, "bbbb").unwrap();
        file.seen.stamp = Stamp::of(&std::fs::metadata(&path).unwrap());
        assert_eq!(file.check().unwrap(), Check::Changed(b"bbbb".to_vec()));
        assert_eq!(file.check().unwrap(), Check::Unchanged);

        // The same without the help: two writes as fast as they come.
        std::fs::write(&path, "cccc").unwrap();
        assert_eq!(file.check().unwrap(), Check::Changed(b"cccc".to_vec()));
        std::fs::write(&path, "dddd").unwrap();
        assert_eq!(file.check().unwrap(), Check::Changed(b"dddd".to_vec()));
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn metadata_is_trusted_once_the_file_is_old() {
        let dir = temp_dir("old");
        let path = dir.join("f");
        std::fs::write(&path, "aaaa").unwrap();
        set_times(&path, SystemTime::now() - Duration::from_secs(3600));
        let (mut file, _) = WatchedFile::open(&path, 100).unwrap();
        // The status-change time is recent (set_modified moved it).
        assert!(file.seen.racy);
        let later = SystemTime::now() + RACY_WINDOW;
        assert!(!file.seen.stamp.racy_at(later), "old once both times are past the window");
        assert!(!Stamp { status_changed: None, ..file.seen.stamp }.racy_at(SystemTime::now()));
        assert!(Stamp { modified: None, ..file.seen.stamp }.racy_at(later), "an unknown time is never trusted");
        let future = SystemTime::now() + Duration::from_secs(60);
        assert!(Stamp { modified: Some(future), ..file.seen.stamp }.racy_at(later), "a time ahead of the clock");

        // A settled stamp is not compared by content: equal metadata is
        // enough, which is why a recent one must not be settled.
        settle(&mut file);
        std::fs::write(&path, "bbbb").unwrap();
        file.seen.stamp = Stamp::of(&std::fs::metadata(&path).unwrap());
        assert_eq!(file.check().unwrap(), Check::Unchanged);
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn a_file_renamed_over_the_path_is_seen() {
        let dir = temp_dir("rename");
        let path = dir.join("f");
        let old = SystemTime::now() - Duration::from_secs(3600);
        std::fs::write(&path, "aaaa").unwrap();
        set_times(&path, old);
        let (mut file, _) = WatchedFile::open(&path, 100).unwrap();
        settle(&mut file);

        // Same size, same modification time: only the inode tells.
        let next = dir.join("f.tmp");
        std::fs::write(&next, "bbbb").unwrap();
        set_times(&next, old);
        std::fs::rename(&next, &path).unwrap();
        let stamp = Stamp::of(&std::fs::metadata(&path).unwrap());
        assert_ne!(stamp.identity, file.seen.stamp.identity);
        assert_eq!((stamp.len, stamp.modified), (file.seen.stamp.len, file.seen.stamp.modified));
        file.seen.stamp.status_changed = stamp.status_changed;
        assert_eq!(file.check().unwrap(), Check::Changed(b"bbbb".to_vec()));

        // The same content renamed over it again is no change.
        std::fs::write(&next, "bbbb").unwrap();
        std::fs::rename(&next, &path).unwrap();
        assert_eq!(file.check().unwrap(), Check::Unchanged);
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn a_touch_is_no_change() {
        let dir = temp_dir("touch");
        let path = dir.join("f");
        std::fs::write(&path, "aaaa").unwrap();
        let (mut file, _) = WatchedFile::open(&path, 100).unwrap();
        let digest = file.digest();
        settle(&mut file);
        set_times(&path, SystemTime::now());
        assert_eq!(file.check().unwrap(), Check::Unchanged, "re-read and compared");
        assert_eq!(file.digest(), digest);
        assert!(file.seen.racy, "a fresh time is not trusted yet");
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn a_deleted_file_is_an_error_and_keeps_the_last_content() {
        let dir = temp_dir("deleted");
        let path = dir.join("f");
        std::fs::write(&path, "aaaa").unwrap();
        let (mut file, _) = WatchedFile::open(&path, 100).unwrap();
        let digest = file.digest();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(file.check().unwrap_err().kind(), std::io::ErrorKind::NotFound);
        assert_eq!(file.check().unwrap_err().kind(), std::io::ErrorKind::NotFound);
        assert_eq!(file.digest(), digest);

        // Put back as it was: unchanged; then changed.
        std::fs::write(&path, "aaaa").unwrap();
        assert_eq!(file.check().unwrap(), Check::Unchanged);
        std::fs::write(&path, "bbbbbb").unwrap();
        assert_eq!(file.check().unwrap(), Check::Changed(b"bbbbbb".to_vec()));
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn reads_stop_one_byte_past_the_limit() {
        let dir = temp_dir("limit");
        let path = dir.join("f");
        std::fs::write(&path, "0123456789").unwrap();
        assert_eq!(read_bounded(&path, 4).unwrap(), b"01234");
        assert_eq!(read_bounded(&path, 10).unwrap(), b"0123456789");
        let (mut file, bytes) = WatchedFile::open(&path, 4).unwrap();
        assert_eq!(bytes.len(), 5);
        std::fs::write(&path, "012").unwrap();
        assert_eq!(file.check().unwrap(), Check::Changed(b"012".to_vec()));
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn the_timer_lets_one_poll_through_per_interval() {
        let timer = PollTimer::new();
        assert!(timer.due(Duration::from_secs(60)), "the first poll");
        assert!(!timer.due(Duration::from_secs(60)));
        assert!(timer.due(Duration::ZERO), "a zero interval: every time, even within one millisecond");
        assert!(timer.due(Duration::ZERO));
    }

    #[test]
    fn the_timer_reads_its_clock() {
        let clock = Arc::new(crate::ManualClock::new(0));
        let timer = PollTimer::with_clock(clock.clone());
        assert!(timer.due(Duration::from_secs(1)));
        clock.advance(Duration::from_millis(999));
        assert!(!timer.due(Duration::from_secs(1)));
        clock.advance(Duration::from_millis(1));
        assert!(timer.due(Duration::from_secs(1)), "due exactly one interval later");
        assert!(!timer.due(Duration::from_secs(1)));
    }
}
