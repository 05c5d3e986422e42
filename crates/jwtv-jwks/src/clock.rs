//! Clocks: a monotonic one for refresh timing, and a settable one for tests.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// A duration in whole milliseconds, saturating at `u64::MAX`.
pub(crate) fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// A monotonic clock in milliseconds, the time base of [`Refresher`](crate::Refresher).
///
/// Hosts use [`SystemClock`]; tests inject a [`ManualClock`] so that time-dependent
/// logic (freshness, cooldowns, backoff) runs without sleeping.
pub trait Clock: Send + Sync + fmt::Debug {
    /// Milliseconds since an arbitrary fixed origin; never decreases.
    fn now_ms(&self) -> u64;
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
}

/// A clock that moves only when told to.
///
/// ```
/// use std::time::Duration;
/// use jwtv_jwks::{Clock, ManualClock};
/// let clock = ManualClock::new(1_000);
/// clock.advance(Duration::from_secs(30));
/// assert_eq!(clock.now_ms(), 31_000);
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
}
