//! Key sets for [`jwtv`]: JWKS documents parsed strictly, fetched and kept
//! fresh without putting the network on the verify path, and a thread-safe
//! verifier for servers with a verified-token cache and metrics.
//!
//! ```
//! use jwtv::{Algorithm, AlgorithmSet};
//! use jwtv_jwks::{KeySet, KeySetOptions};
//!
//! let jwks = br#"{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"k1","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}"#;
//! let set = KeySet::parse(jwks, &KeySetOptions::for_algorithms(AlgorithmSet::of(&[Algorithm::EdDSA])))?;
//! assert_eq!(set.len(), 1);
//! # Ok::<(), jwtv_jwks::JwksError>(())
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(not(test), deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic))]
#![allow(clippy::std_instead_of_core, clippy::std_instead_of_alloc, reason = "a std crate")]

mod cache;
mod clock;
mod config;
mod file;
mod jwk;
mod keyset;
mod metrics;
mod pem;
pub mod refresh;
mod remote;
mod roca;
mod rules;
mod source;
mod thumbprint;
mod verifier;

pub use clock::{Clock, ManualClock, SystemClock};
pub use config::{Config, ConfigError};
pub use file::{FileError, FileJwks};
pub use jwk::{KeyInfo, KeyStatus, SkipReason};
pub use keyset::{DEFAULT_MAX_JWKS_BYTES, DEFAULT_MAX_KEYS, JwksError, KeySet, KeySetOptions};
pub use metrics::{KeySetGauges, MetricsSnapshot};
pub use pem::{PemError, key_from_pem};
pub use refresh::{Action, FetchCounts, FetchFailure, FetchResponse, Outcome, RefreshPolicy, RefreshStatus, Refresher};
pub use remote::{RemoteError, RemoteJwks, ServerDate};
pub use rules::{MAX_RULE_LIST_LEN, Rules};
pub use source::{KeySource, StaticKeys};
pub use verifier::{DEFAULT_FIRST_FETCH_TIMEOUT, Verified, Verifier};
