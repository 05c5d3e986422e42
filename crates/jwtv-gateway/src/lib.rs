//! The runtime gateways embed around [`jwtv`]: one [`Policy`] (the policy
//! document every host configures through), a thread-safe server
//! [`Verifier`] with a verified-token cache and metrics, and revocation
//! lists ([`Revocations`]: in memory, a file, or Redis shared by a fleet).
//! Keys come from [`jwtv_jwks`].
//!
//! The entry point is [`Verifier::verify`]: every check of [`jwtv::Verifier`]
//! (signature, algorithm pinned to the key, `exp`/`nbf`, issuer, audience, …)
//! over the keys of a [`KeySource`](jwtv_jwks::KeySource), then the
//! revocation list, with the core's error codes plus `revoked` and
//! `unavailable`. It returns an owned [`Verified`]; [`Verifier::verify_in`]
//! puts the token's JSON in the caller's buffer instead ([`VerifiedRef`]),
//! and then no verification allocates (HMAC, ECDSA, EdDSA; fresh, rejected
//! or from the token cache).
//!
//! ```
//! use jwtv::{Algorithm, AlgorithmSet};
//! use jwtv_gateway::{Policy, Verifier};
//! use jwtv_jwks::{KeySet, KeySetOptions, KeySource};
//!
//! let algorithms = AlgorithmSet::of(&[Algorithm::EdDSA]);
//! let jwks = br#"{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"k1","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}"#;
//! let set = KeySet::parse(jwks, &KeySetOptions::for_algorithms(algorithms))?;
//! let verifier = Verifier::new(KeySource::fixed(set), Policy::new(algorithms).audience("api"))?;
//! assert_eq!(verifier.metrics().keys.key_count, 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # One policy document
//!
//! [`Policy`] owns the policy document that the CLI, the C ABI, Go and the
//! NGINX module share (reference: `docs/POLICY.md`): read it whole
//! ([`Policy::from_file`]), set any field by its path ([`Policy::set`]) or
//! build it in code, then [`Policy::verifier`].
//!
//! # Revocation
//!
//! [`Verifier::with_revocations`] adds a deny list ([`Revocations`]: in
//! memory, a file, or Redis shared by a fleet) of token ids, subjects and key
//! ids, checked after every other check; a listed token is rejected with
//! `revoked`; the back ends, the file format and how a fleet stays in sync
//! are at [`Revocations`] and [`RevocationList::from_json`].
//!
//! # Audit events
//!
//! With the feature `tracing` (or `log`), every rejected token gives one
//! event on target `jwtv::audit` at INFO: the code, the token's length, the
//! policy's `name`, and, read from the token without trusting it, `alg`,
//! `kid`, `iss`, `jti` and a keyed hash of `sub` (values cut to
//! [`MAX_AUDIT_FIELD_CHARS`] characters and escaped). Never the token.
//! Hosts that carry events themselves (the C ABI, Go, NGINX) make the same
//! event as an [`AuditEvent`].
//!
//! # Metrics
//!
//! [`Verifier::metrics`] gives a [`MetricsSnapshot`]: verifications by
//! outcome code, cache hits and misses, key-set fetches by result, key count
//! and age, and the revocation list's size and sync lag;
//! [`MetricsSnapshot::to_prometheus`] renders it.

#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(not(test), deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic))]
#![allow(clippy::std_instead_of_core, clippy::std_instead_of_alloc, reason = "a std crate")]

mod audit;
mod cache;
mod changes;
mod document;
mod merge;
mod metrics;
mod policy;
mod revoke;
mod shadow;
mod usage;
mod verifier;

pub use audit::{AuditEvent, MAX_FIELD_CHARS as MAX_AUDIT_FIELD_CHARS};
pub use changes::{MAX_QUEUED_STATE_CHANGES, StateChange};
pub use metrics::{AGE_BUCKETS_SECS, HistogramSnapshot, LATENCY_BUCKETS_NS, MetricsSnapshot};
#[expect(deprecated, reason = "the former name, kept for one release")]
pub use policy::ConfigError;
pub use policy::{
    ClaimValueBuf, DEFAULT_FIRST_FETCH_TIMEOUT, MAX_LEEWAY_SECS, MAX_RULE_LIST_LEN, Policy, PolicyError, SHADOW_FIELDS,
};
pub use revoke::{
    DEFAULT_MAX_STALENESS, DEFAULT_REDIS_PREFIX, Freshness, JTI_GRACE_SECS, MAX_REVOKED_ID_LEN, RedisOptions,
    Revocation, RevocationError, RevocationGauges, RevocationKind, RevocationList, RevocationStatus, Revocations,
};
pub use usage::KeyUsage;
pub use verifier::{Verified, VerifiedRef, Verifier};

/// The former name of [`Policy`] as read from a policy file.
#[deprecated(note = "renamed Policy: Policy::from_file, Policy::from_json")]
pub type Config = Policy;

/// The former name of [`Policy`] as built in code.
#[deprecated(note = "renamed Policy: Policy::new(algorithms) and the same builder methods")]
pub type Rules = Policy;
