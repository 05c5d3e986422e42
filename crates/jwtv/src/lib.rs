//! A strict, allocation-light verifier of compact JWS/JWT tokens.
//!
//! ```
//! use jwtv::{Policy, Verifier, VerifyingKey};
//!
//! // A key is bound to one algorithm when it is made (test key; never use it).
//! let keys = [VerifyingKey::hs256(b"test-key-do-not-use-0123456789abcdef")?.with_kid("test-hs256")?];
//! let policy = Policy::new().issuer("https://issuer.example").audience("api");
//! let verifier = Verifier::new(&keys, policy);
//!
//! let token = "eyJhbGciOiJIUzI1NiIsImtpZCI6InRlc3QtaHMyNTYiLCJ0eXAiOiJKV1QifQ.\
//!              eyJpc3MiOiJodHRwczovL2lzc3Vlci5leGFtcGxlIiwiYXVkIjoiYXBpIiwic3ViIjoidXNlci0xIiwiaWF0IjoxNzAwMDAwMDAwLCJleHAiOjQxMDI0NDQ4MDB9.\
//!              A4jzchVUwZ1edSTkKb8P1C0u1yZl71QXtLCyomZ3iJY";
//! let now = 1_700_000_100; // Unix seconds, from the host's clock: the core keeps none
//! let mut buf = [0u8; jwtv::DEFAULT_BUFFER_LEN];
//! let verified = verifier.verify(token, now, &mut buf)?;
//! assert!(verified.claims().sub().unwrap() == "user-1");
//!
//! // Every rejection has a stable code shared by all bindings.
//! let expired = verifier.verify(token, 4_102_444_800 + 60, &mut buf).unwrap_err();
//! assert_eq!(expired.code().as_str(), "expired");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! [`Verifier::verify`] lists every check, in order. In short: the header's
//! `alg` must equal the pinned algorithm of the key chosen by `kid` (never
//! `none`, never a key from the token itself), the signature must verify, and
//! `exp` (required by default), `nbf`, `iat`, `iss`, `aud`, `typ` and required
//! claims must satisfy the [`Policy`]. Parsing is strict: canonical unpadded
//! base64url, JSON objects without duplicate names, escapes decoded before
//! any comparison, bounded nesting, no panics.
//!
//! [`UnverifiedToken`] decodes a token for diagnosis without ever passing for
//! a verified one. [`Verifier::verify_all`] reports every failing check.
//!
//! # Features
//!
//! | feature | default | adds |
//! |---------|---------|------|
//! | (none)  |         | `no_std`, no heap: HS256/384/512, ES256, ES384, EdDSA |
//! | `alloc` | yes     | RS256/384/512 and PS256/384/512 (ring needs a heap for RSA) |
//! | `std`   | yes     | `alloc` (the name std hosts expect); the core keeps no clock: the caller passes `now` |
//! | `aws-lc` |        | verification by aws-lc-rs instead of ring: ES512 (P-521), faster ES384 and EdDSA, public keys parsed once when made |
//!
//! With `aws-lc`, every verdict and error code is the one ring gives (the
//! test command runs the same corpus through both and compares), except that
//! ES512 verifies instead of giving `unsupported_alg`. The C library inside
//! aws-lc allocates with `malloc` while it verifies; ring allocates nothing
//! outside RSA.
//!
//! Without `alloc`, verification never touches a heap, but ring still links
//! Rust's `alloc` library: a `no_std` binary declares a `#[global_allocator]`
//! (one that always fails is enough) and links with `--gc-sections`. The
//! workspace's `crates/jwtv/tests/no-std-consumer` shows a complete example.
//!
//! # Error codes
//!
//! [`ErrorCode`] is the public contract (C, Go, NGINX and the CLI use the same
//! names and numbers); the README's table lists them.

#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(test, allow(clippy::std_instead_of_alloc, clippy::std_instead_of_core))]
#![cfg_attr(not(test), deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic))]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(test)]
extern crate std;

// The crypto backend: ring by default and without std; aws-lc-rs with the
// `aws-lc` feature. Both are named `crypto` here and nowhere else is either
// named, so the backends differ only where `alg` and `key` say so.
#[cfg(feature = "aws-lc")]
use aws_lc_rs as crypto;
#[cfg(not(feature = "aws-lc"))]
use ring as crypto;

mod alg;
mod b64;
mod claims;
mod error;
mod header;
pub mod json;
mod key;
mod policy;
mod required;
mod token;

pub use alg::{Algorithm, AlgorithmSet, KeyKind};
pub use claims::{Claims, NumericDate};
pub use error::{Dependency, Error, ErrorCode, Field, KeyError, Part};
pub use header::Header;
pub use key::{MAX_HMAC_SECRET_LEN, MAX_KID_LEN, VerifyingKey};
pub use policy::{DEFAULT_LEEWAY_SECS, DEFAULT_MAX_TOKEN_LEN, Failures, MAX_FAILURES, Policy, Validity};
pub use required::{ClaimValue, is_valid_pointer};
pub use token::{
    DEFAULT_BUFFER_LEN, MAX_SIGNATURE_LEN, UnverifiedToken, VerifiedJws, VerifiedToken, Verifier, buffer_len_for,
};
