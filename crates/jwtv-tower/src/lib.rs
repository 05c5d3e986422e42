//! [`jwtv`] for async Rust: a [`tower_layer::Layer`] ([`JwtLayer`]) that
//! verifies the bearer token of every request with a
//! [`jwtv_gateway::Verifier`], and an axum extractor ([`Token`]) that hands
//! the verified token to handlers.
//!
//! ```
//! use axum::{Router, routing::get};
//! use jwtv_tower::{JwtLayer, Token};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let dir = std::env::temp_dir().join(format!("jwtv-tower-doc-{}", std::process::id()));
//! # std::fs::create_dir_all(&dir)?;
//! # std::fs::write(dir.join("jwks.json"), r#"{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"k1","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}"#)?;
//! # let policy_json = br#"{"keys":{"jwks_file":"jwks.json"},"algorithms":["EdDSA"],"audiences":["api"]}"#;
//! // The policy document of every jwtv host (docs/POLICY.md).
//! let policy = jwtv_gateway::Policy::from_json(policy_json, &dir)?;
//! let auth = JwtLayer::from_policy(policy)?.realm("api");
//! auth.ready(std::time::Duration::from_secs(5)).await; // the first key set, at start-up
//!
//! async fn whoami(token: Token) -> String {
//!     let sub = token.claim("sub").and_then(|sub| sub.as_json_str());
//!     sub.map_or_else(|| "?".to_owned(), |s| s.chars().collect())
//! }
//! let app: Router = Router::new()
//!     .route("/whoami", get(whoami))
//!     .layer(auth)
//!     .route("/health", get(|| async { "ok" })); // added after the layer: not protected
//!
//! // A request without a token gets RFC 6750's challenge.
//! use tower::ServiceExt as _;
//! let response = app.oneshot(http::Request::get("/whoami").body(axum::body::Body::empty())?).await?;
//! assert_eq!(response.status(), 401);
//! assert_eq!(response.headers()["www-authenticate"], r#"Bearer realm="api""#);
//! # Ok(())
//! # }
//! ```
//!
//! # What the layer answers
//!
//! | The request | The answer |
//! |---|---|
//! | carries a valid token | the inner service's, with the [`Token`] in the request's extensions |
//! | carries no token | `401`, `WWW-Authenticate: Bearer realm="api"` (RFC 6750 §3.1); an [`optional`](JwtLayer::optional) layer lets it through |
//! | carries a token that is refused | `401`, `WWW-Authenticate: Bearer realm="api", error="invalid_token", error_description="expired"`: the description is the rejection code (the table of codes is jwtv's, shared by every host) |
//! | carries a token that cannot be judged now (`unavailable`: no key set yet, a revocation list that fails closed out of sync) | `503`, `Retry-After: 5`: the client did nothing wrong |
//!
//! Where the token is read is a [`TokenSource`]: the `Authorization: Bearer`
//! header by default, a cookie, a query parameter, or the first of several.
//!
//! # Never blocking the runtime
//!
//! Verification runs inline in the service's `call`: it is CPU work of
//! microseconds (a signature check, or a cache hit) and never waits.
//! [`JwtLayer::new`] and [`JwtLayer::from_policy`] make sure of it: a
//! remote key set is fetched by a background thread, and until its first
//! fetch ends every token gets `unavailable` (answered 503) **at once**, so
//! a key server that never answers holds up no runtime worker and no other
//! route. A service that would rather not answer 503 at start-up awaits
//! [`JwtLayer::ready`] before it accepts connections (it waits on tokio's
//! blocking pool, not on a worker). A revocation list in Redis syncs in the
//! background the same way.
//!
//! # Features
//!
//! - `axum` (default): the [`Token`] extractor (`Token` and `Option<Token>`).
//! - `redis` (default): revocation lists in Redis, through `jwtv-gateway`.
//! - `tracing`: an audit event for every rejected token (target
//!   `jwtv::audit`: code, alg, kid, iss, jti, a keyed hash of sub; never the
//!   token), through `jwtv-gateway`.

#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(not(test), deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic))]
#![allow(clippy::std_instead_of_core, clippy::std_instead_of_alloc, reason = "a std crate")]

#[cfg(feature = "axum")]
mod extract;
mod layer;
mod source;

#[cfg(feature = "axum")]
pub use extract::TokenRejection;
pub use layer::{DEFAULT_REALM, Jwt, JwtLayer, RETRY_AFTER_SECS, ResponseFuture, Token};
pub use source::TokenSource;

/// The README's examples (core, server, async) run as doc tests here, where
/// every crate they use is in scope.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
struct ReadmeDoctests;
