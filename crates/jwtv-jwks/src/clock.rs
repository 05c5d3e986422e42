//! Clocks: the system's for hosts, and a settable one for tests.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

/// The current time in Unix seconds from the system clock (0 if it is
/// before 1970): the `now` a host passes to a verifier.
pub fn unix_now() -> u64 {
    SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// A duration in whole milliseconds, saturating at `u64::MAX`.
pub(crate) fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// The time base of everything that waits or ages: a monotonic reading for
/// intervals (the [`Refresher`](crate::Refresher)'s freshness, cooldowns and
/// backoff, file polling) and a wall-clock reading for what is dated in Unix
/// time (revocation entries, the last sync of a revocation list).
///
/// Hosts use [`SystemClock`]; tests inject a [`ManualClock`] so that
/// time-dependent logic runs without sleeping.
pub trait Clock: Send + Sync + fmt::Debug {
    /// Milliseconds since an arbitrary fixed origin; never decreases.
    fn now_ms(&self) -> u64;

    /// Unix time in seconds.
    fn unix_secs(&self) -> u64;
}

/// The system's monotonic clock, counted from when this value was made.
#[derive(Debug)]
pub struct SystemClock {
    origin: Instant,
}

impl SystemClock {
    /// A clock starting at 0 now.
    pub fn new() -> Self {
        Self { origin: Instant::now() }
    }
}

impl Default for SystemClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for SystemClock {
    fn now_ms(&self) -> u64 {
        millis(self.origin.elapsed())
    }

    fn unix_secs(&self) -> u64 {
        unix_now()
    }
}

/// A clock that moves only when told to. Its origin is the Unix epoch: both
/// readings are the same instant, [`Clock::unix_secs`] being
/// [`Clock::now_ms`] in whole seconds.
///
/// ```
/// use std::time::Duration;
/// use jwtv_jwks::{Clock, ManualClock};
/// let clock = ManualClock::new(1_000);
/// clock.advance(Duration::from_secs(30));
/// assert_eq!(clock.now_ms(), 31_000);
/// assert_eq!(clock.unix_secs(), 31);
/// ```
#[derive(Debug, Default)]
pub struct ManualClock {
    now: AtomicU64,
}

impl ManualClock {
    /// A clock reading `start_ms`.
    pub fn new(start_ms: u64) -> Self {
        Self { now: AtomicU64::new(start_ms) }
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: Duration) {
        let by = millis(by);
        let _ = self.now.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |now| Some(now.saturating_add(by)));
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> u64 {
        self.now.load(Ordering::SeqCst)
    }

    fn unix_secs(&self) -> u64 {
        self.now_ms() / 1000
    }
}
