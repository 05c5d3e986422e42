//! The verified-token cache: repeated tokens cost a hash and a claims check
//! instead of a signature check.
//!
//! - Keyed by the SHA-256 of the whole token, so a hit means the same bytes.
//! - Each entry remembers the key-set generation that verified it; under
//!   another generation it is a miss (a key that left the set takes its
//!   tokens with it).
//! - A hit still runs every header and claim check of the policy against the
//!   caller's `now` (exp, nbf, iat, max age — also for tokens without `iat`),
//!   from the cached JSON, with the same code as a full verification.
//! - Bounded: sharded, and per shard a "young" and an "old" map of at most half
//!   the shard's capacity each. When the young map fills, the old one is
//!   dropped and the young one becomes old; a hit in the old map moves the
//!   entry back to the young one. This keeps hot tokens and evicts cold ones
//!   in O(1) without per-entry bookkeeping.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use jwtv::Algorithm;

/// What a verification leaves behind: the decoded header and claims JSON.
#[derive(Debug)]
pub(crate) struct Decoded {
    pub(crate) alg: Algorithm,
    pub(crate) header: Box<[u8]>,
    pub(crate) claims: Box<[u8]>,
    /// The index of the key that verified the signature in the set of
    /// `generation` (whose `kid` revocation checks look up).
    pub(crate) key_index: usize,
    pub(crate) generation: u64,
}

pub(crate) type TokenHash = [u8; 32];

/// SHA-256 of a token (or of any document whose identity is needed).
pub(crate) fn token_hash(token: &[u8]) -> TokenHash {
    let digest = ring::digest::digest(&ring::digest::SHA256, token);
    let mut out = [0u8; 32];
    out.copy_from_slice(digest.as_ref());
    out
}

const MAX_SHARDS: usize = 16;

#[derive(Debug, Default)]
struct Shard {
    young: HashMap<TokenHash, Arc<Decoded>>,
    old: HashMap<TokenHash, Arc<Decoded>>,
}

/// A bounded map from token hash to what verifying it produced.
#[derive(Debug)]
pub(crate) struct TokenCache {
    shards: Box<[Mutex<Shard>]>,
    /// Capacity of each of a shard's two maps.
    half: usize,
}

impl TokenCache {
    /// A cache of at most `capacity` entries (at least 2).
    pub(crate) fn new(capacity: usize) -> Self {
        let capacity = capacity.max(2);
        let shards = (capacity / 2).clamp(1, MAX_SHARDS);
        let half = (capacity / shards / 2).max(1);
        Self { shards: (0..shards).map(|_| Mutex::default()).collect(), half }
    }

    /// The most entries the cache holds.
    #[cfg(test)]
    pub(crate) fn capacity(&self) -> usize {
        self.shards.len() * self.half * 2
    }

    fn shard(&self, hash: &TokenHash) -> Option<&Mutex<Shard>> {
        let index = usize::from(hash[0]) % self.shards.len();
        self.shards.get(index)
    }

    /// The entry for `hash` if it was verified under `generation`.
    pub(crate) fn get(&self, hash: &TokenHash, generation: u64) -> Option<Arc<Decoded>> {
        let mut shard = self.shard(hash)?.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(entry) = shard.young.get(hash) {
            if entry.generation == generation {
                return Some(Arc::clone(entry));
            }
            shard.young.remove(hash);
            return None;
        }
        let entry = shard.old.remove(hash)?;
        if entry.generation != generation {
            return None;
        }
        Self::insert_young(&mut shard, self.half, *hash, Arc::clone(&entry));
        Some(entry)
    }

    pub(crate) fn insert(&self, hash: TokenHash, entry: Arc<Decoded>) {
        if let Some(shard) = self.shard(&hash) {
            let mut shard = shard.lock().unwrap_or_else(PoisonError::into_inner);
            Self::insert_young(&mut shard, self.half, hash, entry);
        }
    }

    /// Forgets `hash` (e.g. an entry whose token has expired).
    pub(crate) fn remove(&self, hash: &TokenHash) {
        if let Some(shard) = self.shard(hash) {
            let mut shard = shard.lock().unwrap_or_else(PoisonError::into_inner);
            shard.young.remove(hash);
            shard.old.remove(hash);
        }
    }

    fn insert_young(shard: &mut Shard, half: usize, hash: TokenHash, entry: Arc<Decoded>) {
        if shard.young.len() >= half && !shard.young.contains_key(&hash) {
            shard.old = std::mem::take(&mut shard.young);
        }
        shard.old.remove(&hash);
        shard.young.insert(hash, entry);
    }

    /// Entries held now.
    pub(crate) fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| {
                let s = s.lock().unwrap_or_else(PoisonError::into_inner);
                s.young.len() + s.old.len()
            })
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(generation: u64) -> Arc<Decoded> {
        Arc::new(Decoded {
            alg: Algorithm::ES256,
            header: Box::new([]),
            claims: Box::new([]),
            key_index: 0,
            generation,
        })
    }

    fn hash(n: u32) -> TokenHash {
        token_hash(&n.to_le_bytes())
    }

    #[test]
    fn hit_needs_same_generation() {
        let cache = TokenCache::new(100);
        cache.insert(hash(1), entry(7));
        assert!(cache.get(&hash(1), 7).is_some());
        assert!(cache.get(&hash(1), 8).is_none(), "another key-set generation");
        assert!(cache.get(&hash(1), 7).is_none(), "and the stale entry is gone");
        assert!(cache.get(&hash(2), 7).is_none());
    }

    #[test]
    fn stays_bounded_and_keeps_hot_entries() {
        let cache = TokenCache::new(64);
        assert!(cache.capacity() <= 64);
        cache.insert(hash(0), entry(1));
        for n in 1..10_000 {
            cache.insert(hash(n), entry(1));
            assert!(cache.get(&hash(0), 1).is_some(), "a token used all the time stays (n = {n})");
        }
        assert!(cache.len() <= cache.capacity());
        let cold_hits = (1..9_000).filter(|&n| cache.get(&hash(n), 1).is_some()).count();
        assert!(cold_hits < 64, "old entries were evicted: {cold_hits}");
    }

    #[test]
    fn remove_forgets() {
        let cache = TokenCache::new(10);
        cache.insert(hash(1), entry(1));
        cache.remove(&hash(1));
        assert!(cache.get(&hash(1), 1).is_none());
        assert_eq!(cache.len(), 0);
    }
}
