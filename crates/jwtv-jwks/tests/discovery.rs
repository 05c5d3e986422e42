//! OpenID Connect discovery: an issuer's configuration names its key set,
//! served here by a scripted HTTP server on 127.0.0.1.

#![allow(clippy::std_instead_of_alloc, clippy::std_instead_of_core, reason = "a test harness on std")]

#[path = "support/http_server.rs"]
#[allow(dead_code, reason = "the server's other answers serve other tests")]
mod http_server;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use http_server::{Answer, TestServer};
use jwtv::{Algorithm, AlgorithmSet};
use jwtv_jwks::{DiscoveryProblem, FetchFailure, KeySetOptions, RefreshPolicy, RemoteJwks, TrustRoots};

const JWKS: &str =
    r#"{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"k1","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}"#;

fn options() -> KeySetOptions {
    KeySetOptions::for_algorithms(AlgorithmSet::of(&[Algorithm::EdDSA]))
}

fn policy() -> RefreshPolicy {
    let mut policy = RefreshPolicy::default();
    policy.fetch_timeout = Duration::from_secs(5);
    policy.backoff_min = Duration::from_millis(20);
    policy.backoff_max = Duration::from_millis(100);
    policy.min_ttl = Duration::ZERO;
    policy
}

/// An identity provider: its configuration names `jwks_path` (switchable).
fn provider(jwks_path: &'static str) -> (TestServer, String, Arc<Mutex<&'static str>>) {
    let named = Arc::new(Mutex::new(jwks_path));
    let server = TestServer::start(|_| Answer::status(503, &[]));
    let issuer = server.url("/realms/acme");
    let (named_here, issuer_here, base) = (Arc::clone(&named), issuer.clone(), server.url(""));
    server.set(move |request| match request.path.as_str() {
        "/realms/acme/.well-known/openid-configuration" => {
            let jwks_uri = format!("{base}{}", named_here.lock().unwrap());
            let body = format!(r#"{{"issuer":"{issuer_here}","jwks_uri":"{jwks_uri}","id_token_signing_alg_values_supported":["EdDSA"]}}"#);
            Answer::ok(body, &[("Content-Type", "application/json")])
        }
        "/realms/acme/certs" | "/new-certs" => Answer::ok(JWKS, &[("Cache-Control", "max-age=600")]),
        _ => Answer::status(404, &[]),
    });
    (server, issuer, named)
}

fn wait_fetches(remote: &RemoteJwks, n: u64) {
    for _ in 0..2500 {
        if remote.status().fetches.total() >= n {
            return;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    panic!("fewer than {n} fetches: {:?}", remote.status());
}

#[test]
fn the_issuers_configuration_names_the_key_set() {
    let (server, issuer, _) = provider("/realms/acme/certs");
    let remote = RemoteJwks::discover(&issuer, policy(), options(), &TrustRoots::system()).expect("issuer URL");
    let (set, _) = remote.wait_ready(Duration::from_secs(5)).expect("keys");
    assert_eq!(set.len(), 1);
    assert_eq!(remote.url(), issuer);
    assert_eq!(remote.jwks_url(), Some(format!("{issuer}/certs")));
    let paths: Vec<String> = server.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(paths, ["/realms/acme/.well-known/openid-configuration", "/realms/acme/certs"]);
}

#[test]
fn a_configuration_for_another_issuer_is_refused() {
    let (_server, issuer, _) = provider("/realms/acme/certs");
    // The same provider, asked as if it were another issuer: its document names its own.
    let other = format!("{issuer}/");
    let remote = RemoteJwks::discover(&other, policy(), options(), &TrustRoots::system()).expect("issuer URL");
    wait_fetches(&remote, 1);
    assert!(remote.current().is_none());
    assert_eq!(remote.status().last_failure, Some(FetchFailure::Discovery(DiscoveryProblem::IssuerMismatch)));
    assert_eq!(remote.jwks_url(), None);
    assert_eq!(
        FetchFailure::Discovery(DiscoveryProblem::IssuerMismatch).to_string(),
        "the OpenID configuration names another issuer"
    );
}

#[test]
fn an_issuer_without_a_configuration_is_a_status_failure() {
    let server = TestServer::start(|_| Answer::status(404, &[]));
    let remote =
        RemoteJwks::discover(&server.url("/nowhere"), policy(), options(), &TrustRoots::system()).expect("issuer URL");
    wait_fetches(&remote, 1);
    assert_eq!(remote.status().last_failure, Some(FetchFailure::Status(404)));
    assert_eq!(remote.status().fetches.http_errors, 1);
}

#[test]
fn a_moved_jwks_uri_is_followed_after_a_failed_fetch() {
    let (server, issuer, named) = provider("/gone");
    let remote = RemoteJwks::discover(&issuer, policy(), options(), &TrustRoots::system()).expect("issuer URL");
    wait_fetches(&remote, 1);
    assert_eq!(remote.status().last_failure, Some(FetchFailure::Status(404)));
    *named.lock().unwrap() = "/new-certs";
    let (set, _) = remote.wait_ready(Duration::from_secs(5)).expect("keys from the new URL");
    assert_eq!(set.len(), 1);
    assert!(remote.jwks_url().is_some_and(|url| url.ends_with("/new-certs")));
    let configurations = server.requests().iter().filter(|r| r.path.ends_with("openid-configuration")).count();
    assert!(configurations >= 2, "read again after the failure: {configurations}");
}
