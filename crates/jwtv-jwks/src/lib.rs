//! Key sets for [`jwtv`]: JWKS documents parsed strictly, fetched and kept
//! fresh without putting the network on the verify path, and a thread-safe
//! [`Verifier`] for servers with a verified-token cache and metrics.
//!
//! The entry point is [`Verifier::verify`]: every check of [`jwtv::Verifier`]
//! (signature, algorithm pinned to the key, `exp`/`nbf`, issuer, audience, …)
//! over the keys of a [`KeySource`], with the core's error codes.
//!
//! # Three key sources
//!
//! A fixed set, parsed once ([`KeySet::parse`], or [`KeySet::from_keys`] for
//! PEM keys and HMAC secrets):
//!
//! ```
//! use jwtv::{Algorithm, AlgorithmSet};
//! use jwtv_jwks::{KeySet, KeySetOptions, KeySource, Policy, Verifier};
//!
//! let algorithms = AlgorithmSet::of(&[Algorithm::EdDSA]);
//! let jwks = br#"{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"k1","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}"#;
//! let set = KeySet::parse(jwks, &KeySetOptions::for_algorithms(algorithms))?;
//! let verifier = Verifier::new(KeySource::fixed(set), Policy::new(algorithms).audience("api"))?;
//! assert_eq!(verifier.metrics().keys.key_count, 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! A JWKS file, re-read when it changes (a bad new version never replaces a
//! good one):
//!
//! ```
//! use std::sync::Arc;
//! use jwtv::{Algorithm, AlgorithmSet};
//! use jwtv_jwks::{FileJwks, KeySetOptions, KeySource, Policy, Verifier};
//!
//! # let dir = std::env::temp_dir().join(format!("jwtv-lib-doc-{}", std::process::id()));
//! # std::fs::create_dir_all(&dir)?;
//! # let path = dir.join("jwks.json");
//! std::fs::write(&path, r#"{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"k1","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}"#)?;
//! let algorithms = AlgorithmSet::of(&[Algorithm::EdDSA]);
//! let file = FileJwks::open(&path, KeySetOptions::for_algorithms(algorithms))?;
//! let verifier = Verifier::new(KeySource::File(Arc::new(file)), Policy::new(algorithms).audience("api"))?;
//! assert_eq!(verifier.key_set().map(|set| set.len()), Some(1));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! A JWKS URL, fetched and refreshed by a background thread ([`RemoteJwks`];
//! the refresh policy itself is the sans-I/O [`Refresher`], for hosts with
//! their own event loop). Here a one-shot local server stands in for the
//! identity provider:
//!
//! ```
//! use std::io::{Read, Write};
//! use std::time::Duration;
//! use jwtv::{Algorithm, AlgorithmSet};
//! use jwtv_jwks::{KeySetOptions, KeySource, Policy, RefreshPolicy, RemoteJwks, Verifier};
//!
//! let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
//! let url = format!("http://{}/.well-known/jwks.json", listener.local_addr()?);
//! std::thread::spawn(move || -> std::io::Result<()> {
//!     let (mut conn, _) = listener.accept()?;
//!     let mut request = [0u8; 1024];
//!     let _ = conn.read(&mut request)?;
//!     let body = r#"{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"k1","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}"#;
//!     write!(conn, "HTTP/1.1 200 OK\r\nCache-Control: max-age=600\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len())
//! });
//!
//! let algorithms = AlgorithmSet::of(&[Algorithm::EdDSA]);
//! let remote = RemoteJwks::new(&url, RefreshPolicy::default(), KeySetOptions::for_algorithms(algorithms))?;
//! let verifier = Verifier::new(KeySource::Remote(remote), Policy::new(algorithms).audience("api"))?
//!     .with_first_fetch_timeout(Duration::from_secs(5));
//! // The first verification waits (up to the timeout) for the first fetch;
//! // later ones never wait on the network.
//! let _ = verifier.verify("not.a.token", 1_700_000_000);
//! assert_eq!(verifier.key_set().map(|set| set.len()), Some(1));
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

mod cache;
mod clock;
mod document;
mod file;
mod jwk;
mod keyset;
mod metrics;
mod pem;
mod policy;
mod refresh;
mod remote;
mod revoke;
mod roca;
mod source;
mod thumbprint;
mod verifier;
mod watch;

pub use clock::{Clock, ManualClock, SystemClock};
pub use file::{FileError, FileJwks};
pub use jwk::{KeyInfo, KeyStatus, SkipReason};
pub use keyset::{DEFAULT_MAX_JWKS_BYTES, DEFAULT_MAX_KEYS, JwksError, KeySet, KeySetOptions};
pub use metrics::{KeySetGauges, MetricsSnapshot};
pub use pem::{PemError, key_from_pem, key_from_pem_with};
#[expect(deprecated, reason = "the former name, kept for one release")]
pub use policy::ConfigError;
pub use policy::{MAX_LEEWAY_SECS, MAX_RULE_LIST_LEN, Policy, PolicyError};
pub use refresh::{Action, FetchCounts, FetchFailure, FetchResponse, Outcome, RefreshPolicy, RefreshStatus, Refresher};
pub use remote::{RemoteError, RemoteJwks, ServerDate};
pub use revoke::{
    DEFAULT_MAX_STALENESS, DEFAULT_REDIS_PREFIX, Freshness, JTI_GRACE_SECS, MAX_REVOKED_ID_LEN, RedisOptions,
    Revocation, RevocationError, RevocationGauges, RevocationKind, RevocationList, RevocationStatus, Revocations,
};

/// The former name of [`Policy`] as read from a policy file.
#[deprecated(note = "renamed Policy: Policy::from_file, Policy::from_json")]
pub type Config = Policy;

/// The former name of [`Policy`] as built in code.
#[deprecated(note = "renamed Policy: Policy::new(algorithms) and the same builder methods")]
pub type Rules = Policy;
pub use source::{KeySource, StaticKeys};
pub use verifier::{DEFAULT_FIRST_FETCH_TIMEOUT, Verified, Verifier};

/// The README's examples (core and server) run as doc tests here, where both
/// crates are in scope.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
struct ReadmeDoctests;
