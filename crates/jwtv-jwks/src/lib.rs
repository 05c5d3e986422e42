//! Key material and key sources for [`jwtv`]: JWKS documents and PEM keys
//! read strictly, and kept fresh (a file re-read when it changes, a URL
//! refreshed in the background) without putting the network or the disk on
//! the verify path.
//!
//! Every key is bound to one algorithm ([`jwtv::VerifyingKey`]); every JWK
//! that is not used keeps its reason ([`SkipReason`]). The refresh policy of
//! a remote set is a sans-I/O state machine ([`Refresher`]) that hosts with
//! their own event loop can drive; [`RemoteJwks`] drives it on a thread.
//! Gateways use these through `jwtv-gateway` (the server verifier, its
//! policy document, cache, metrics and revocation lists).
//!
//! # Three key sources
//!
//! A fixed set, parsed once ([`KeySet::parse`], or [`KeySet::from_keys`] for
//! PEM keys and HMAC secrets):
//!
//! ```
//! use jwtv::{Algorithm, AlgorithmSet};
//! use jwtv_jwks::{KeySet, KeySetOptions};
//!
//! let algorithms = AlgorithmSet::of(&[Algorithm::EdDSA]);
//! let jwks = br#"{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"k1","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}"#;
//! let set = KeySet::parse(jwks, &KeySetOptions::for_algorithms(algorithms))?;
//! let verifier = set.verifier(jwtv::Policy::new().algorithms(algorithms).audience("api"));
//! let err = verifier.verify_jws("not.a.token", &mut [0u8; jwtv::DEFAULT_BUFFER_LEN]).unwrap_err();
//! assert_eq!(err.code(), jwtv::ErrorCode::Malformed);
//! # Ok::<(), jwtv_jwks::JwksError>(())
//! ```
//!
//! A JWKS file, re-read when it changes (a bad new version never replaces a
//! good one):
//!
//! ```
//! use jwtv::{Algorithm, AlgorithmSet};
//! use jwtv_jwks::{FileJwks, KeySetOptions};
//!
//! # let dir = std::env::temp_dir().join(format!("jwtv-lib-doc-{}", std::process::id()));
//! # std::fs::create_dir_all(&dir)?;
//! # let path = dir.join("jwks.json");
//! std::fs::write(&path, r#"{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"k1","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}"#)?;
//! let algorithms = AlgorithmSet::of(&[Algorithm::EdDSA]);
//! let file = FileJwks::open(&path, KeySetOptions::for_algorithms(algorithms))?;
//! let (set, generation) = file.current(); // looks for a change at most once a second
//! assert_eq!((set.len(), generation), (1, 1));
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
//! use jwtv_jwks::{KeySetOptions, RefreshPolicy, RemoteJwks};
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
//! // Serving never waits on the network; a host that may wait does so once.
//! let (set, _generation) = remote.wait_ready(Duration::from_secs(5)).expect("keys");
//! assert_eq!(set.len(), 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(not(test), deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic))]
#![allow(clippy::std_instead_of_core, clippy::std_instead_of_alloc, reason = "a std crate")]

mod clock;
mod digest;
mod discovery;
mod file;
mod jwk;
mod keyset;
mod options;
mod pem;
mod refresh;
mod remote;
mod roca;
mod source;
mod thumbprint;
mod tls;
pub mod watch;

pub use clock::{Clock, ManualClock, SystemClock, unix_now};
pub use discovery::DiscoveryProblem;
pub use file::{FileError, FileJwks};
pub use jwk::{KeyInfo, KeyStatus, SkipReason};
pub use keyset::{JwksError, KeySet};
pub use options::{DEFAULT_MAX_JWKS_BYTES, DEFAULT_MAX_KEYS, KeySetOptions};
pub use pem::{PemError, jwk_from_pem, key_from_pem, key_from_pem_with};
pub use refresh::{
    Action, FetchCounts, FetchFailure, FetchResponse, Outcome, RefetchCounts, RefreshPolicy, RefreshStatus, Refresher,
};
pub use remote::{FetchStateChange, RemoteError, RemoteJwks, ServerDate};
pub use source::{KeySetGauges, KeySource, MergedSources, StaticKeys};
pub use tls::{CertificateProblem, TrustError, TrustRoots};
