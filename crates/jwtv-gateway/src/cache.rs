//! The verified-token cache: a repeated token costs a hash lookup and a
//! comparison instead of a signature check and JSON parsing.
//!
//! - Keyed by a per-process randomly seeded hash of the token (foldhash),
//!   and each entry keeps the token itself: a hit means the same bytes,
//!   compared in full, never a hash match alone.
//! - Each entry remembers the key-set generation that verified it; under
//!   another generation it is a miss (a key that left the set takes its
//!   tokens with it).
//! - A hit judges the time again against the caller's `now`: each entry keeps
//!   the span of times its claims pass the policy's time checks
//!   ([`jwtv::Policy::validity`]: exp, nbf, iat, max age, with the leeway);
//!   the other checks do not depend on the time (the policy of a verifier
//!   never changes). Outside that span, the header and claim checks run
//!   again from the cached JSON, so the error is a full verification's.
//!   The revocation list is checked on every hit, with the identifiers kept
//!   decoded in the entry.
//! - Bounded: sharded, and per shard a "young" and an "old" map of at most half
//!   the shard's capacity each. When the young map fills, the old one is
//!   dropped and the young one becomes old; a hit in the old map moves the
//!   entry back to the young one. This keeps hot tokens and evicts cold ones
//!   in O(1) without per-entry bookkeeping.

use core::hash::BuildHasher as _;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use foldhash::fast::RandomState;
use jwtv::{Algorithm, Validity};

use crate::revoke::ListedBuf;

/// What a verification leaves behind: the decoded header and claims JSON,
/// and, for the cache, the token and what judging it again needs. Its
/// `Debug` leaves the token out.
pub(crate) struct Decoded {
    pub(crate) facts: Facts,
    /// The header JSON, the claims JSON and the token (empty when there is
    /// no cache to compare with), one after the other in one allocation.
    bytes: Box<[u8]>,
    header_len: usize,
    claims_len: usize,
    /// What the revocation list looks at (cache entries with a revocation list only).
    pub(crate) listed: Option<ListedBuf>,
}

/// What a verification found, besides the JSON.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Facts {
    pub(crate) alg: Algorithm,
    /// The index of the key that verified the signature in the set of
    /// `generation` (whose `kid` revocation checks look up).
    pub(crate) key_index: usize,
    pub(crate) generation: u64,
    /// When the claims pass the policy's time checks.
    pub(crate) validity: Validity,
    /// `iat` (rounded down) and `exp` (rounded up), for the age and lifetime metrics.
    pub(crate) iat: Option<i64>,
    pub(crate) exp: Option<i64>,
}

impl core::fmt::Debug for Decoded {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Decoded")
            .field("facts", &self.facts)
            .field("header", &String::from_utf8_lossy(self.header()))
            .field("claims", &String::from_utf8_lossy(self.claims()))
            .finish_non_exhaustive()
    }
}

impl Decoded {
    /// Copies `header`, `claims` and `token` (empty: none kept) into one allocation.
    pub(crate) fn new(facts: Facts, header: &[u8], claims: &[u8], token: &[u8], listed: Option<ListedBuf>) -> Self {
        let bytes = [header, claims, token].concat().into_boxed_slice();
        Self { facts, bytes, header_len: header.len(), claims_len: claims.len(), listed }
    }

    pub(crate) fn header(&self) -> &[u8] {
        self.bytes.get(..self.header_len).unwrap_or_default()
    }

    pub(crate) fn claims(&self) -> &[u8] {
        self.bytes.get(self.header_len..self.header_len + self.claims_len).unwrap_or_default()
    }

    pub(crate) fn token(&self) -> &[u8] {
        self.bytes.get(self.header_len + self.claims_len..).unwrap_or_default()
    }
}

/// A token's hash under the cache's per-process seed.
pub(crate) type TokenHash = u64;

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
    seed: RandomState,
}

impl TokenCache {
    /// A cache of at most `capacity` entries (at least 2).
    pub(crate) fn new(capacity: usize) -> Self {
        let capacity = capacity.max(2);
        let shards = (capacity / 2).clamp(1, MAX_SHARDS);
        let half = (capacity / shards / 2).max(1);
        Self { shards: (0..shards).map(|_| Mutex::default()).collect(), half, seed: RandomState::default() }
    }

    /// The token's key in this cache.
    pub(crate) fn hash(&self, token: &[u8]) -> TokenHash {
        self.seed.hash_one(token)
    }

    /// The most entries the cache holds.
    #[cfg(test)]
    pub(crate) fn capacity(&self) -> usize {
        self.shards.len() * self.half * 2
    }

    fn shard(&self, hash: &TokenHash) -> Option<&Mutex<Shard>> {
        // The high bits: the map uses the low ones.
        let index = usize::try_from(hash >> 56).unwrap_or(0) % self.shards.len();
        self.shards.get(index)
    }

    /// The entry for `token` (whose hash is `hash`) if it was verified under
    /// `generation`.
    pub(crate) fn get(&self, hash: &TokenHash, token: &[u8], generation: u64) -> Option<Arc<Decoded>> {
        let mut shard = self.shard(hash)?.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(entry) = shard.young.get(hash) {
            if entry.facts.generation == generation && entry.token() == token {
                return Some(Arc::clone(entry));
            }
            if entry.facts.generation != generation {
                shard.young.remove(hash);
            }
            return None;
        }
        let entry = shard.old.remove(hash)?;
        if entry.facts.generation != generation || entry.token() != token {
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

    fn token(n: u32) -> Vec<u8> {
        n.to_le_bytes().to_vec()
    }

    fn entry(n: u32, generation: u64) -> Arc<Decoded> {
        let validity = jwtv::Policy::new().validity(&jwtv::Claims::from_json(b"{}").unwrap());
        let facts = Facts { alg: Algorithm::ES256, key_index: 0, generation, validity, iat: None, exp: None };
        Arc::new(Decoded::new(facts, b"{}", b"{}", &token(n), None))
    }

    fn get(cache: &TokenCache, n: u32, generation: u64) -> Option<Arc<Decoded>> {
        cache.get(&cache.hash(&token(n)), &token(n), generation)
    }

    fn insert(cache: &TokenCache, n: u32, generation: u64) {
        cache.insert(cache.hash(&token(n)), entry(n, generation));
    }

    #[test]
    fn hit_needs_same_generation() {
        let cache = TokenCache::new(100);
        insert(&cache, 1, 7);
        assert!(get(&cache, 1, 7).is_some());
        assert!(get(&cache, 1, 8).is_none(), "another key-set generation");
        assert!(get(&cache, 1, 7).is_none(), "and the stale entry is gone");
        assert!(get(&cache, 2, 7).is_none());
    }

    #[test]
    fn a_hit_is_the_same_bytes_never_a_hash_match_alone() {
        let cache = TokenCache::new(100);
        // Another token filed under token 1's hash (a collision, forced).
        cache.insert(cache.hash(&token(1)), entry(2, 7));
        assert!(get(&cache, 1, 7).is_none(), "the bytes differ");
        assert!(cache.get(&cache.hash(&token(1)), &token(2), 7).is_some());
    }

    #[test]
    fn stays_bounded_and_keeps_hot_entries() {
        let cache = TokenCache::new(64);
        assert!(cache.capacity() <= 64);
        insert(&cache, 0, 1);
        for n in 1..10_000 {
            insert(&cache, n, 1);
            assert!(get(&cache, 0, 1).is_some(), "a token used all the time stays (n = {n})");
        }
        assert!(cache.len() <= cache.capacity());
        let cold_hits = (1..9_000).filter(|&n| get(&cache, n, 1).is_some()).count();
        assert!(cold_hits < 64, "old entries were evicted: {cold_hits}");
    }

    #[test]
    fn remove_forgets() {
        let cache = TokenCache::new(10);
        insert(&cache, 1, 1);
        cache.remove(&cache.hash(&token(1)));
        assert!(get(&cache, 1, 1).is_none());
        assert_eq!(cache.len(), 0);
    }
}
