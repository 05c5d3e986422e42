//! Which served keys verify tokens: per `kid`, when it first verified one
//! and how many it verified, bounded to the keys of the current set (a key
//! that leaves the set leaves the table). An operator sees when an old key is
//! really unused before removing it.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};

use foldhash::fast::RandomState;
use jwtv_jwks::KeySet;

/// How one served key has been used.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct KeyUsage {
    /// The key's `kid`.
    pub kid: String,
    /// Unix time of the first token it verified (in this process).
    pub first_used_unix: u64,
    /// Tokens it verified (cache hits included).
    pub verifications: u64,
}

#[derive(Debug)]
struct Entry {
    first_used_unix: u64,
    count: AtomicU64,
}

/// The entries of the served set's keys: by `kid` (what carries a count
/// over to the next set), and by position in the set (what a verification
/// finds without hashing).
#[derive(Debug, Default)]
struct Table {
    generation: u64,
    by_kid: HashMap<Arc<str>, Arc<Entry>, RandomState>,
    by_index: Vec<Option<Arc<Entry>>>,
}

#[derive(Debug, Default)]
pub(crate) struct Usage {
    table: RwLock<Table>,
}

impl Usage {
    /// The key at `key_index` of `keys` (generation `generation`) verified a token at `now`.
    pub(crate) fn record(&self, keys: &KeySet, generation: u64, key_index: usize, now: u64) {
        {
            let table = self.table.read().unwrap_or_else(PoisonError::into_inner);
            if table.generation == generation
                && let Some(Some(entry)) = table.by_index.get(key_index)
            {
                entry.count.fetch_add(1, Ordering::Relaxed);
                return;
            }
        }
        let Some(kid) = keys.keys().get(key_index).and_then(|key| key.kid()) else { return };
        let mut table = self.table.write().unwrap_or_else(PoisonError::into_inner);
        if table.generation != generation {
            // Only the keys of the served set stay.
            table.by_kid.retain(|kid, _| keys.keys().iter().any(|key| key.kid() == Some(&**kid)));
            let by_index =
                keys.keys().iter().map(|key| key.kid().and_then(|kid| table.by_kid.get(kid)).cloned()).collect();
            table.by_index = by_index;
            table.generation = generation;
        }
        let entry = Arc::clone(
            table
                .by_kid
                .entry(Arc::from(kid))
                .or_insert_with(|| Arc::new(Entry { first_used_unix: now, count: AtomicU64::new(0) })),
        );
        entry.count.fetch_add(1, Ordering::Relaxed);
        if let Some(slot) = table.by_index.get_mut(key_index) {
            *slot = Some(entry);
        }
    }

    pub(crate) fn snapshot(&self) -> Vec<KeyUsage> {
        let table = self.table.read().unwrap_or_else(PoisonError::into_inner);
        let mut usage: Vec<KeyUsage> = table
            .by_kid
            .iter()
            .map(|(kid, entry)| KeyUsage {
                kid: kid.to_string(),
                first_used_unix: entry.first_used_unix,
                verifications: entry.count.load(Ordering::Relaxed),
            })
            .collect();
        usage.sort_by(|a, b| a.kid.cmp(&b.kid));
        usage
    }
}

/// A Prometheus label value: `\`, `"` and line feeds escaped, other control
/// characters left out.
fn label_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// The key usage metrics in Prometheus text format.
pub(crate) fn to_prometheus(usage: &[KeyUsage]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# HELP jwtv_key_verifications_total Tokens verified by each served key (by kid; keys of the current set).\n\
         # TYPE jwtv_key_verifications_total counter"
    );
    for u in usage {
        let _ = writeln!(out, "jwtv_key_verifications_total{{kid=\"{}\"}} {}", label_value(&u.kid), u.verifications);
    }
    let _ = writeln!(
        out,
        "# HELP jwtv_key_first_used_timestamp_seconds Unix time each served key first verified a token.\n\
         # TYPE jwtv_key_first_used_timestamp_seconds gauge"
    );
    for u in usage {
        let _ = writeln!(
            out,
            "jwtv_key_first_used_timestamp_seconds{{kid=\"{}\"}} {}",
            label_value(&u.kid),
            u.first_used_unix
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use jwtv::{Algorithm, VerifyingKey};

    fn set(kids: &[&str]) -> KeySet {
        KeySet::from_keys(
            kids.iter()
                .map(|kid| VerifyingKey::hmac(Algorithm::HS256, &[7u8; 32]).unwrap().with_kid(kid).unwrap())
                .collect(),
        )
    }

    #[test]
    fn keys_are_counted_and_leave_with_their_set() {
        let usage = Usage::default();
        let first = set(&["old", "new"]);
        usage.record(&first, 1, 0, 100);
        usage.record(&first, 1, 0, 200);
        usage.record(&first, 1, 1, 300);
        let seen: Vec<_> = usage.snapshot().into_iter().map(|u| (u.kid, u.first_used_unix, u.verifications)).collect();
        assert_eq!(seen, [("new".to_owned(), 300, 1), ("old".to_owned(), 100, 2)]);
        // The next set has no "old": it leaves the table.
        let second = set(&["new", "next"]);
        usage.record(&second, 2, 1, 400);
        let kids: Vec<_> = usage.snapshot().into_iter().map(|u| u.kid).collect();
        assert_eq!(kids, ["new", "next"]);
    }

    #[test]
    fn label_values_stay_inert() {
        assert_eq!(label_value("a\"b\\c\nd\u{1b}e"), "a\\\"b\\\\c\\nde");
        let text = to_prometheus(&[KeyUsage { kid: "k\"1".into(), first_used_unix: 5, verifications: 2 }]);
        assert!(text.contains("jwtv_key_verifications_total{kid=\"k\\\"1\"} 2\n"), "{text}");
    }
}
