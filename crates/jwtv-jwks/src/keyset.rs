//! JWK Sets (RFC 7517 §5): a document of keys, read with jwtv's strict JSON
//! reader, turned into verification keys plus a report on every key.

use core::fmt;
use std::collections::HashMap;
use std::sync::Arc;

use jwtv::json;
use jwtv::{Policy, Verifier, VerifyingKey};

use crate::jwk::{self, KeyInfo, KeyStatus, SkipReason};
use crate::options::KeySetOptions;

/// A JWKS document that cannot be read at all. (A bad key inside a readable
/// document is not an error: it is skipped, see [`SkipReason`].)
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum JwksError {
    /// The document is larger than [`KeySetOptions::max_bytes`].
    TooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// The document is not a strict JSON object (RFC 8259, no duplicate names).
    Malformed,
    /// The object has no `keys` array.
    MissingKeys,
    /// `keys` has more elements than [`KeySetOptions::max_keys`].
    TooManyKeys {
        /// The limit.
        limit: usize,
    },
}

impl fmt::Display for JwksError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLarge { limit } => write!(f, "JWKS document larger than {limit} bytes"),
            Self::Malformed => f.write_str("JWKS document is not a strict JSON object"),
            Self::MissingKeys => f.write_str("JWKS document has no \"keys\" array"),
            Self::TooManyKeys { limit } => write!(f, "JWKS document has more than {limit} keys"),
        }
    }
}

impl std::error::Error for JwksError {}

/// A set of verification keys, each bound to one algorithm, with a report on
/// every JWK of the document it came from.
///
/// ```
/// use jwtv::{Algorithm, AlgorithmSet, Policy};
/// use jwtv_jwks::{KeySet, KeySetOptions, SkipReason};
///
/// let jwks = br#"{"keys":[
///   {"kty":"OKP","crv":"Ed25519","kid":"2024","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"},
///   {"kty":"RSA","kid":"old","use":"enc","n":"AQAB","e":"AQAB"}
/// ]}"#;
/// let set = KeySet::parse(jwks, &KeySetOptions::for_algorithms(AlgorithmSet::of(&[Algorithm::EdDSA])))?;
/// assert_eq!(set.keys().len(), 1);
/// assert_eq!(set.keys()[0].algorithm(), Algorithm::EdDSA);
/// let skipped: Vec<_> = set.skipped().map(|info| (info.kid.as_deref(), info.skip_reason())).collect();
/// assert_eq!(skipped, [(Some("old"), Some(SkipReason::NotForSignatures))]);
///
/// // The keys feed jwtv's core verifier.
/// let verifier = set.verifier(Policy::new().issuer("https://issuer.example").audience("api"));
/// # let _ = verifier;
/// # Ok::<(), jwtv_jwks::JwksError>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct KeySet {
    keys: Vec<VerifyingKey>,
    entries: Vec<KeyInfo>,
    /// The issuer each key is bound to, by key index (empty: none is).
    issuers: Vec<Option<Arc<str>>>,
}

impl KeySet {
    /// Reads a JWKS document (`{"keys":[…]}`).
    ///
    /// The document must be a strict JSON object within the size and key-count
    /// limits, or nothing is returned. Inside it, each key is used or skipped
    /// on its own (see [`SkipReason`]); afterwards shared secrets in a set that
    /// also holds public keys, and keys whose `kid` is not unique, are skipped.
    pub fn parse(document: &[u8], options: &KeySetOptions) -> Result<Self, JwksError> {
        if document.len() > options.max_bytes {
            return Err(JwksError::TooLarge { limit: options.max_bytes });
        }
        let mut keys_member = None;
        json::parse_object(document, |name, value| {
            if name == "keys" {
                keys_member = Some(value);
            }
        })
        .map_err(|_| JwksError::Malformed)?;
        let elements = keys_member.and_then(|v| v.as_array()).ok_or(JwksError::MissingKeys)?;

        let mut parsed = Vec::new();
        for (index, element) in elements.enumerate() {
            if index >= options.max_keys {
                return Err(JwksError::TooManyKeys { limit: options.max_keys });
            }
            parsed.push(jwk::parse(index, element, options));
        }
        skip_mixed_secrets(&mut parsed);
        skip_duplicate_kids(&mut parsed);

        let mut set = Self::default();
        for item in parsed {
            if let (KeyStatus::Usable, Some(key)) = (item.info.status, item.key) {
                set.keys.push(key);
            }
            set.entries.push(item.info);
        }
        Ok(set)
    }

    /// A key set of keys made directly (PEM files, HMAC secrets), without a
    /// document. Their entries carry kid and algorithm only.
    pub fn from_keys(keys: Vec<VerifyingKey>) -> Self {
        let entries = keys
            .iter()
            .enumerate()
            .map(|(index, key)| KeyInfo {
                index,
                kid: key.kid().map(str::to_owned),
                kty: None,
                crv: None,
                alg: Some(key.algorithm().name().to_owned()),
                key_use: None,
                algorithm: Some(key.algorithm()),
                alg_inferred: false,
                bits: None,
                thumbprint: None,
                status: KeyStatus::Usable,
            })
            .collect();
        Self { keys, entries, issuers: Vec::new() }
    }

    /// The keys of several sources served as one set, each source's keys
    /// bound to its issuer when one is given ([`KeySet::issuer_of`]).
    ///
    /// A `kid` is one key: when sources serve *different* keys under the
    /// same `kid`, none of them is served (which one the signer meant is
    /// unknowable), each reported with [`SkipReason::KidInAnotherSource`];
    /// the same key (same thumbprint and algorithm) under the same `kid` in
    /// several sources is served once, from the first, and reported as
    /// [`SkipReason::DuplicateKid`] in the others. Entries keep their
    /// sources' order.
    ///
    /// ```
    /// use jwtv::{Algorithm, AlgorithmSet};
    /// use jwtv_jwks::{KeySet, KeySetOptions, SkipReason};
    ///
    /// let options = KeySetOptions::for_algorithms(AlgorithmSet::of(&[Algorithm::EdDSA]));
    /// let a = KeySet::parse(br#"{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"k1","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}"#, &options)?;
    /// let b = KeySet::parse(br#"{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"k1","x":"YPs9Vmzu9saQraBCqOf-qJIjQ2LPZs9imx0jbWLGE1w"}]}"#, &options)?;
    /// let merged = KeySet::merge(&[(&a, Some("https://a.example")), (&b, None)]);
    /// assert!(merged.is_empty());
    /// assert!(merged.entries().iter().all(|e| e.skip_reason() == Some(SkipReason::KidInAnotherSource)));
    /// let alone = KeySet::merge(&[(&a, Some("https://a.example"))]);
    /// assert_eq!(alone.issuer_of(0), Some("https://a.example"));
    /// # Ok::<(), jwtv_jwks::JwksError>(())
    /// ```
    pub fn merge(parts: &[(&KeySet, Option<&str>)]) -> Self {
        // Each usable entry with its key and source; the keys of a set are
        // its usable entries', in order.
        struct Candidate {
            info: KeyInfo,
            key: Option<VerifyingKey>,
            source: usize,
            issuer: Option<Arc<str>>,
        }
        let mut candidates = Vec::new();
        for (source, (set, issuer)) in parts.iter().enumerate() {
            let issuer: Option<Arc<str>> = issuer.map(Arc::from);
            let mut keys = set.keys.iter();
            for info in &set.entries {
                let key = if info.is_usable() { keys.next().cloned() } else { None };
                candidates.push(Candidate { info: info.clone(), key, source, issuer: issuer.clone() });
            }
        }
        let mut by_kid: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, c) in candidates.iter().enumerate() {
            if let (Some(_), Some(kid)) = (&c.key, c.info.kid.as_deref()) {
                by_kid.entry(kid).or_default().push(i);
            }
        }
        let mut skip = Vec::new();
        for indices in by_kid.values() {
            let sources = |i: &usize| candidates.get(*i).map(|c| c.source);
            let first_source = indices.first().and_then(sources);
            if indices.iter().all(|i| sources(i) == first_source) {
                continue; // within one source: its own rules already ran
            }
            let identity = |i: usize| candidates.get(i).map(|c| (c.info.thumbprint.clone(), c.info.algorithm));
            let first = indices.first().copied().and_then(identity);
            let same = first.as_ref().is_some_and(|(thumbprint, _)| thumbprint.is_some())
                && indices.iter().all(|&i| identity(i) == first);
            let reason = if same { SkipReason::DuplicateKid } else { SkipReason::KidInAnotherSource };
            skip.extend(indices.iter().skip(usize::from(same)).map(|&i| (i, reason)));
        }
        for (i, reason) in skip {
            if let Some(c) = candidates.get_mut(i) {
                c.info.status = KeyStatus::Skipped(reason);
                c.key = None;
            }
        }
        let mut set = Self::default();
        let bound = parts.iter().any(|(_, issuer)| issuer.is_some());
        for c in candidates {
            if let Some(key) = c.key {
                set.keys.push(key);
                if bound {
                    set.issuers.push(c.issuer);
                }
            }
            set.entries.push(c.info);
        }
        set
    }

    /// The issuer the key at `key_index` (of [`KeySet::keys`]) is bound to,
    /// if its source was bound to one ([`KeySet::merge`]): a token verified
    /// with it must carry this `iss`.
    pub fn issuer_of(&self, key_index: usize) -> Option<&str> {
        self.issuers.get(key_index).and_then(|issuer| issuer.as_deref())
    }

    /// The usable keys, in document order.
    pub fn keys(&self) -> &[VerifyingKey] {
        &self.keys
    }

    /// One entry per JWK of the document, usable or not, in document order.
    pub fn entries(&self) -> &[KeyInfo] {
        &self.entries
    }

    /// The entries of the keys that are not used, each with its reason.
    pub fn skipped(&self) -> impl Iterator<Item = &KeyInfo> {
        self.entries.iter().filter(|info| !info.is_usable())
    }

    /// The `kid`s that appear on more than one JWK.
    pub fn duplicate_kids(&self) -> Vec<&str> {
        let mut kids: Vec<&str> = self
            .entries
            .iter()
            .filter(|info| info.skip_reason() == Some(SkipReason::DuplicateKid))
            .filter_map(|info| info.kid.as_deref())
            .collect();
        kids.sort_unstable();
        kids.dedup();
        kids
    }

    /// The number of usable keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// True when no key is usable.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// jwtv's core verifier over these keys.
    pub fn verifier<'a>(&'a self, policy: Policy<'a>) -> Verifier<'a> {
        Verifier::new(&self.keys, policy)
    }
}

/// A shared secret published next to public keys is a leak waiting to
/// happen: such `oct` keys are skipped.
fn skip_mixed_secrets(parsed: &mut [jwk::ParsedJwk]) {
    let has_public = parsed.iter().any(|p| matches!(p.info.kty.as_deref(), Some("RSA" | "EC" | "OKP")));
    if !has_public {
        return;
    }
    for item in parsed.iter_mut().filter(|p| p.info.kty.as_deref() == Some("oct")) {
        if item.info.is_usable() {
            item.info.status = KeyStatus::Skipped(SkipReason::MixedKeySet);
            item.key = None;
        }
    }
}

/// A `kid` names one key. When several signature keys share a `kid`, none of
/// them is served (which one the signer meant is unknowable), unless they are
/// all usable and the same key, in which case the first is kept. Keys skipped
/// for their purpose (`use`, `key_ops`) do not count; keys skipped for broken
/// material do, since the publisher meant them as signature keys.
fn skip_duplicate_kids(parsed: &mut [jwk::ParsedJwk]) {
    let counts =
        |info: &KeyInfo| !matches!(info.skip_reason(), Some(SkipReason::NotForSignatures | SkipReason::NotForVerify));
    let mut by_kid: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, item) in parsed.iter().enumerate() {
        if let (true, Some(kid)) = (counts(&item.info), &item.info.kid) {
            by_kid.entry(kid.clone()).or_default().push(i);
        }
    }
    for indices in by_kid.values().filter(|indices| indices.len() > 1) {
        let identity = |i: usize| {
            parsed.get(i).filter(|p| p.info.is_usable()).map(|p| (p.info.thumbprint.clone(), p.info.algorithm))
        };
        let first = indices.first().copied().and_then(identity);
        let all_same = first.as_ref().is_some_and(|(thumbprint, _)| thumbprint.is_some())
            && indices.iter().all(|&i| identity(i) == first);
        for &i in indices.iter().skip(usize::from(all_same)) {
            if let Some(item) = parsed.get_mut(i).filter(|p| p.info.is_usable()) {
                item.info.status = KeyStatus::Skipped(SkipReason::DuplicateKid);
                item.key = None;
            }
        }
    }
}

impl KeyInfo {
    /// Warnings an operator should see even for a usable key: no `kid`, an
    /// inferred algorithm.
    pub fn warnings(&self) -> Vec<&'static str> {
        let mut warnings = Vec::new();
        if self.kid.is_none() {
            warnings.push("no kid: tokens cannot name this key");
        }
        if self.alg_inferred && self.algorithm.is_some() {
            warnings.push("no alg: algorithm taken from the key type and policy");
        }
        warnings
    }
}
