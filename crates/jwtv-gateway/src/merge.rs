//! A [`MetricsSnapshot`] as a fixed array of words (`u64`), and the sum of
//! several: how a host that runs one policy in several processes (NGINX
//! workers) shows one set of metrics. Each process copies its verifier's
//! words somewhere they all see ([`MetricsSnapshot::to_words`]: shared
//! memory); whichever process answers a scrape sums them
//! ([`MetricsSnapshot::sum`]) and renders the sum.
//!
//! The layout is the list in [`fields`]: one line per field, each with the
//! rule that merges it ([`Merge`]). Word 0 names the layout
//! ([`layout_id`]), so the words of a library with other fields are refused,
//! never misread.

use jwtv_jwks::{CertificateProblem, DiscoveryProblem, FetchFailure, JwksError};

use crate::metrics::{HistogramSnapshot, MetricsSnapshot};

/// Bumped when fields change meaning or order but not number (a field added
/// or removed changes the layout id by itself).
const LAYOUT_VERSION: u64 = 1;

/// How one field of several processes' snapshots merges into one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Merge {
    /// A counter: summed over every snapshot, retired ones included.
    Counter,
    /// An amount each process holds now (cache entries): summed over the
    /// live snapshots.
    Held,
    /// The largest value among the live snapshots.
    Max,
    /// The newest live snapshot's (the first given).
    Newest,
}

/// Every field of a snapshot in layout order, with its merge rule
/// (docs/OBSERVABILITY.md, "One scrape, every process", lists the gauges').
/// A field added to [`MetricsSnapshot`] is one line here.
fn fields(s: &mut MetricsSnapshot, w: &mut Words<'_>) {
    use Merge::{Counter, Held, Max, Newest};
    w.word(Counter, &mut s.verified);
    w.words(Counter, &mut s.rejected);
    w.word(Counter, &mut s.cache_hits);
    w.word(Counter, &mut s.cache_misses);
    w.size(Held, &mut s.cache_entries);
    w.word(Counter, &mut s.requests_without_token);
    w.words(Counter, &mut s.full_verification_ns);
    for histogram in &mut s.durations {
        w.histogram(histogram);
    }
    w.histogram(&mut s.token_age);
    w.histogram(&mut s.token_remaining);
    let keys = &mut s.keys;
    w.size(Newest, &mut keys.key_count);
    w.option(Max, &mut keys.age_secs);
    w.word(Max, &mut keys.generation);
    w.word(Counter, &mut keys.fetches.updated);
    w.word(Counter, &mut keys.fetches.unchanged);
    w.word(Counter, &mut keys.fetches.transport_errors);
    w.word(Counter, &mut keys.fetches.timeouts);
    w.word(Counter, &mut keys.fetches.http_errors);
    w.word(Counter, &mut keys.fetches.malformed);
    w.word(Counter, &mut keys.refetches.refused);
    w.word(Counter, &mut keys.refetches.updated);
    w.word(Counter, &mut keys.refetches.unchanged);
    w.word(Counter, &mut keys.refetches.failed);
    w.small(Max, &mut keys.consecutive_failures);
    w.failure(Newest, &mut keys.last_failure);
    w.signed(Newest, &mut keys.server_skew_ms);
    let mut listed = s.revocations.is_some();
    let mut r = s.revocations.unwrap_or_default();
    w.flag(Newest, &mut listed);
    w.size(Newest, &mut r.entries);
    for by_kind in &mut r.by_kind {
        w.size(Newest, by_kind);
    }
    w.flag(Newest, &mut r.synced);
    w.option(Newest, &mut r.last_sync_unix);
    w.word(Max, &mut r.sync_lag_secs);
    w.word(Counter, &mut r.sync_errors);
    w.flag(Newest, &mut r.connected);
    w.word(Newest, &mut r.invalid_entries);
    s.revocations = listed.then_some(r);
    let mut shadowed = s.shadow.is_some();
    let mut shadow = s.shadow.unwrap_or_default();
    w.flag(Newest, &mut shadowed);
    w.words(Counter, &mut shadow);
    s.shadow = shadowed.then_some(shadow);
}

/// Visits fields as words: reads each one (to make words) or writes it
/// (to make a snapshot from words), through the one callback.
struct Words<'a>(&'a mut dyn FnMut(Merge, &mut u64));

impl Words<'_> {
    fn word(&mut self, merge: Merge, value: &mut u64) {
        (self.0)(merge, value);
    }

    fn words(&mut self, merge: Merge, values: &mut [u64]) {
        for value in values {
            self.word(merge, value);
        }
    }

    fn size(&mut self, merge: Merge, value: &mut usize) {
        let mut word = u64::try_from(*value).unwrap_or(u64::MAX);
        self.word(merge, &mut word);
        *value = usize::try_from(word).unwrap_or(usize::MAX);
    }

    fn small(&mut self, merge: Merge, value: &mut u32) {
        let mut word = u64::from(*value);
        self.word(merge, &mut word);
        *value = u32::try_from(word).unwrap_or(u32::MAX);
    }

    fn flag(&mut self, merge: Merge, value: &mut bool) {
        let mut word = u64::from(*value);
        self.word(merge, &mut word);
        *value = word != 0;
    }

    /// `None` as 0 and `Some(v)` as `v + 1`: the largest of several is a value when any has one.
    fn option(&mut self, merge: Merge, value: &mut Option<u64>) {
        let mut word = value.map_or(0, |v| v.saturating_add(1));
        self.word(merge, &mut word);
        *value = word.checked_sub(1);
    }

    /// Two words: whether there is a value, and the value in two's complement.
    fn signed(&mut self, merge: Merge, value: &mut Option<i64>) {
        let mut present = value.is_some();
        let mut word = u64::from_ne_bytes(value.unwrap_or(0).to_ne_bytes());
        self.flag(merge, &mut present);
        self.word(merge, &mut word);
        *value = present.then(|| i64::from_ne_bytes(word.to_ne_bytes()));
    }

    /// The failure's reason, as 1 + its index in [`FetchFailure::REASONS`] (0: none).
    fn failure(&mut self, merge: Merge, value: &mut Option<FetchFailure>) {
        let index = value.and_then(|f| FetchFailure::REASONS.iter().position(|&r| r == f.reason()));
        let mut word = index.map_or(0, |i| u64::try_from(i).unwrap_or(u64::MAX).saturating_add(1));
        self.word(merge, &mut word);
        *value = word.checked_sub(1).and_then(|i| usize::try_from(i).ok()).and_then(failure_of);
    }

    fn histogram<const N: usize>(&mut self, histogram: &mut HistogramSnapshot<N>) {
        self.words(Merge::Counter, &mut histogram.cumulative);
        self.word(Merge::Counter, &mut histogram.count);
        self.word(Merge::Counter, &mut histogram.sum);
    }
}

/// A failure with the reason at `index` of [`FetchFailure::REASONS`] (its
/// detail is not kept in words: the metrics show only the reason).
fn failure_of(index: usize) -> Option<FetchFailure> {
    Some(match *FetchFailure::REASONS.get(index)? {
        "transport" => FetchFailure::Transport,
        "certificate" => FetchFailure::Certificate(CertificateProblem::Other),
        "timeout" => FetchFailure::Timeout,
        "http_status" => FetchFailure::Status(0),
        "malformed" => FetchFailure::Malformed(JwksError::Malformed),
        "no_usable_keys" => FetchFailure::NoUsableKeys,
        "discovery" => FetchFailure::Discovery(DiscoveryProblem::Malformed),
        _ => return None,
    })
}

/// The merge rule of each word after word 0, in order.
fn rules() -> Vec<Merge> {
    let mut rules = Vec::new();
    fields(&mut MetricsSnapshot::default(), &mut Words(&mut |merge, _| rules.push(merge)));
    rules
}

/// Word 0 of every snapshot this library makes: "jwtv", the layout version
/// and the number of words.
fn layout_id(len: usize) -> u64 {
    0x6A77_7476_0000_0000 | (LAYOUT_VERSION << 16) | (u64::try_from(len).unwrap_or(0) & 0xFFFF)
}

/// Whether `words` are a snapshot of this library's layout.
fn is_ours(words: &[u64], len: usize) -> bool {
    words.len() == len && words.first() == Some(&layout_id(len))
}

impl MetricsSnapshot {
    /// Words in a snapshot ([`MetricsSnapshot::to_words`]), word 0 included.
    pub fn words_len() -> usize {
        rules().len().saturating_add(1)
    }

    /// The snapshot as [`MetricsSnapshot::words_len`] words, for a process
    /// to copy where another sums it ([`MetricsSnapshot::sum`]). Word 0 names
    /// the layout; the others are the fields, counters as they are. The
    /// layout is private to this library: store and copy the words, never
    /// read them.
    pub fn to_words(&self) -> Vec<u64> {
        let mut copy = *self;
        let mut words = vec![0];
        fields(&mut copy, &mut Words(&mut |_, value| words.push(*value)));
        let id = layout_id(words.len());
        if let Some(first) = words.first_mut() {
            *first = id;
        }
        words
    }

    /// Adds a process's snapshot to `retired`, the accumulator of the
    /// snapshots of processes that ended (start it as the words of
    /// `MetricsSnapshot::default()`): every word but word 0 added, wrapping.
    /// What C does in shared memory, under its lock, without calling here.
    /// False, with nothing added, when either is not of this layout.
    pub fn retire(retired: &mut [u64], words: &[u64]) -> bool {
        let len = Self::words_len();
        if !is_ours(retired, len) || !is_ours(words, len) {
            return false;
        }
        for (sum, word) in retired.iter_mut().zip(words).skip(1) {
            *sum = sum.wrapping_add(*word);
        }
        true
    }

    /// The snapshot of a policy run by several processes: `live` holds the
    /// words of each running process, the newest first (the answering
    /// process's own); `retired` accumulates those of processes that ended
    /// ([`MetricsSnapshot::retire`]). Counters are the sum over all of them;
    /// cache entries the sum over the live ones; the other gauges the
    /// newest snapshot's, except the key set's generation and age, the
    /// fetches failed in a row and the revocation list's sync lag, which are
    /// the largest among the live ones (a process that just started does not
    /// turn them back). `None` when `live` is empty or a snapshot is not of
    /// this layout.
    ///
    /// ```
    /// # use jwtv_gateway::MetricsSnapshot;
    /// let mut one = MetricsSnapshot::default();
    /// one.verified = 2;
    /// let mut two = MetricsSnapshot::default();
    /// two.verified = 3;
    /// let mut retired = MetricsSnapshot::default().to_words();
    /// assert!(MetricsSnapshot::retire(&mut retired, &two.to_words()));
    /// let sum = MetricsSnapshot::sum(&[&one.to_words(), &two.to_words()], Some(&retired)).unwrap();
    /// assert_eq!(sum.verified, 8);
    /// ```
    pub fn sum(live: &[&[u64]], retired: Option<&[u64]>) -> Option<Self> {
        let rules = rules();
        let len = rules.len().saturating_add(1);
        let newest = live.first()?;
        if !live.iter().all(|words| is_ours(words, len)) || retired.is_some_and(|words| !is_ours(words, len)) {
            return None;
        }
        let mut merged = Vec::with_capacity(rules.len());
        for (i, rule) in rules.iter().enumerate() {
            let i = i.saturating_add(1);
            let each = || live.iter().filter_map(|words| words.get(i).copied());
            merged.push(match rule {
                Merge::Counter => {
                    let base = retired.and_then(|words| words.get(i).copied()).unwrap_or(0);
                    each().fold(base, u64::wrapping_add)
                }
                Merge::Held => each().fold(0, u64::saturating_add),
                Merge::Max => each().max().unwrap_or(0),
                Merge::Newest => newest.get(i).copied().unwrap_or(0),
            });
        }
        let mut sum = Self::default();
        let mut words = merged.into_iter();
        fields(&mut sum, &mut Words(&mut |_, value| *value = words.next().unwrap_or(0)));
        Some(sum)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::Counters;
    use crate::revoke::RevocationGauges;
    use core::time::Duration;
    use jwtv::ErrorCode;
    use jwtv_jwks::KeySetGauges;

    /// A snapshot with every field set, no two alike where it matters.
    fn busy(seed: u64) -> MetricsSnapshot {
        let counters = Counters::default();
        for i in 0..seed {
            counters.record(Ok(()), Duration::from_micros(3 * i));
            counters.record(Err(ErrorCode::Expired), Duration::from_millis(i));
            counters.full_verification(None, Duration::from_micros(i));
            counters.token_times(Some(i * 100), Some(i * 1000));
            counters.cache_hit();
            counters.no_token();
        }
        counters.cache_miss();
        let mut keys = KeySetGauges::default();
        keys.key_count = usize::try_from(seed).unwrap();
        keys.age_secs = Some(seed * 10);
        keys.generation = seed;
        keys.fetches.updated = seed;
        keys.fetches.malformed = 1;
        keys.refetches.updated = seed;
        keys.refetches.refused = 2;
        keys.consecutive_failures = u32::try_from(seed).unwrap();
        keys.last_failure = Some(FetchFailure::Timeout);
        keys.server_skew_ms = Some(-1_500 * i64::try_from(seed).unwrap());
        let mut snapshot = counters.snapshot(keys);
        snapshot.cache_entries = usize::try_from(seed).unwrap();
        snapshot.shadow = Some(core::array::from_fn(|i| seed * u64::try_from(i).unwrap()));
        snapshot.revocations = Some(RevocationGauges {
            entries: 6,
            by_kind: [3, 2, 1],
            synced: true,
            last_sync_unix: Some(1_700_000_000 + seed),
            sync_lag_secs: seed,
            sync_errors: seed,
            connected: true,
            invalid_entries: 0,
        });
        snapshot
    }

    #[test]
    fn one_snapshot_sums_to_itself() {
        for snapshot in [MetricsSnapshot::default(), busy(3)] {
            let words = snapshot.to_words();
            assert_eq!(words.len(), MetricsSnapshot::words_len());
            let sum = MetricsSnapshot::sum(&[&words], None).unwrap();
            assert_eq!(sum, snapshot);
            assert_eq!(sum.to_prometheus(), snapshot.to_prometheus());
        }
    }

    #[test]
    fn counters_add_up_and_gauges_follow_their_rule() {
        let (newest, older, gone) = (busy(2), busy(5), busy(7));
        let mut retired = MetricsSnapshot::default().to_words();
        assert!(MetricsSnapshot::retire(&mut retired, &gone.to_words()));
        let sum = MetricsSnapshot::sum(&[&newest.to_words(), &older.to_words()], Some(&retired)).unwrap();
        // Counters: every snapshot, the retired one included.
        assert_eq!(sum.verified, 14);
        assert_eq!(sum.rejected_with(ErrorCode::Expired), 14);
        assert_eq!((sum.cache_hits, sum.cache_misses), (14, 3));
        assert_eq!(sum.requests_without_token, 14);
        assert_eq!(sum.keys.fetches.updated, 14);
        assert_eq!((sum.keys.refetches.updated, sum.keys.refetches.refused), (14, 6));
        assert_eq!(sum.revocations.unwrap().sync_errors, 14);
        assert_eq!(sum.shadow.unwrap()[3], 14 * 3);
        assert_eq!(sum.durations[0].count, 14);
        assert_eq!(sum.durations[0].sum, newest.durations[0].sum + older.durations[0].sum + gone.durations[0].sum);
        assert_eq!(
            sum.token_age.cumulative,
            core::array::from_fn(|i| {
                newest.token_age.cumulative[i] + older.token_age.cumulative[i] + gone.token_age.cumulative[i]
            })
        );
        // Held now: the live ones only.
        assert_eq!(sum.cache_entries, 7);
        // The largest of the live ones (never the retired one's).
        assert_eq!(sum.keys.generation, 5);
        assert_eq!(sum.keys.age_secs, Some(50));
        assert_eq!(sum.keys.consecutive_failures, 5);
        assert_eq!(sum.revocations.unwrap().sync_lag_secs, 5);
        // The newest's.
        assert_eq!(sum.keys.key_count, 2);
        assert_eq!(sum.keys.server_skew_ms, Some(-3_000));
        assert_eq!(sum.keys.last_failure.map(|f| f.reason()), Some("timeout"));
        assert_eq!(sum.revocations.unwrap().last_sync_unix, Some(1_700_000_002));
        let text = sum.to_prometheus_for("orders");
        for line in [
            "jwtv_verifications_total{policy=\"orders\",result=\"ok\"} 14\n",
            "jwtv_token_cache_entries{policy=\"orders\"} 7\n",
            "jwtv_key_set_generation{policy=\"orders\"} 5\n",
            "jwtv_key_server_clock_skew_seconds{policy=\"orders\"} -3\n",
            "jwtv_jwks_last_failure{policy=\"orders\",reason=\"timeout\"} 1\n",
        ] {
            assert!(text.contains(line), "missing {line:?} in\n{text}");
        }
    }

    #[test]
    fn a_key_set_age_is_kept_when_any_process_has_one() {
        let mut none = busy(1);
        none.keys.age_secs = None;
        let sum = MetricsSnapshot::sum(&[&none.to_words(), &busy(4).to_words()], None).unwrap();
        assert_eq!(sum.keys.age_secs, Some(40));
        let sum = MetricsSnapshot::sum(&[&none.to_words()], None).unwrap();
        assert_eq!(sum.keys.age_secs, None);
    }

    #[test]
    fn other_layouts_are_refused() {
        let words = busy(1).to_words();
        assert_eq!(MetricsSnapshot::sum(&[], None), None);
        assert_eq!(MetricsSnapshot::sum(&[&words[1..]], None), None);
        let mut other = words.clone();
        other[0] ^= 1 << 16; // another layout version
        assert_eq!(MetricsSnapshot::sum(&[&words, &other], None), None);
        assert_eq!(MetricsSnapshot::sum(&[&words], Some(&vec![0; words.len()])), None);
        let mut retired = MetricsSnapshot::default().to_words();
        assert!(!MetricsSnapshot::retire(&mut retired, &other));
        assert_eq!(retired, MetricsSnapshot::default().to_words(), "nothing added");
    }

    #[test]
    fn every_fetch_failure_reason_survives_words() {
        for (i, reason) in FetchFailure::REASONS.iter().enumerate() {
            assert_eq!(failure_of(i).map(|f| f.reason()), Some(*reason));
        }
        assert!(failure_of(FetchFailure::REASONS.len()).is_none());
    }
}
