//! Several key sources in one verifier (`keys.sources`): merged, `kid`
//! collisions refused, keys bound to their source's issuer, a source still
//! loading never read as "no such key".

#![allow(clippy::std_instead_of_alloc, clippy::std_instead_of_core, reason = "a test harness on std")]

use std::path::{Path, PathBuf};

use jwtv::ErrorCode;
use jwtv_gateway::{Policy, Verifier};
use jwtv_jwks::{KeySource, SkipReason};
use serde_json::{Value, json};

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples")
}

fn token(name: &str) -> String {
    std::fs::read_to_string(examples().join("tokens").join(format!("{name}.jwt"))).expect("token").trim().to_owned()
}

/// The example key of this kid, as a one-key JWKS document.
fn one_key(kid: &str) -> Value {
    let jwks: Value =
        serde_json::from_slice(&std::fs::read(examples().join("jwks.json")).expect("jwks")).expect("JSON");
    let key = jwks["keys"].as_array().expect("keys").iter().find(|k| k["kid"] == kid).expect("kid").clone();
    json!({ "keys": [key] })
}

fn verifier(sources: Value) -> Verifier {
    let doc = json!({
        "keys": { "sources": sources },
        "algorithms": ["ES256", "EdDSA", "RS256"],
        "audiences": ["api"],
        "refresh": { "first_fetch_timeout_ms": 0, "fetch_timeout_ms": 200 }
    });
    Policy::from_json(doc.to_string().as_bytes(), examples()).expect("policy").verifier().expect("verifier")
}

#[test]
fn tokens_of_every_source_verify() {
    let v = verifier(json!([{ "jwks": one_key("test-es256") }, { "jwks_file": "jwks.json" }]));
    for name in ["valid-es256", "valid-eddsa", "valid-rs256"] {
        v.verify_now(token(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    assert!(matches!(v.key_source(), KeySource::Merged(_)));
    // The same key under the same kid in two sources is served once.
    let set = v.key_set().expect("keys");
    assert_eq!(set.len(), 3);
    let reasons: Vec<_> = set.skipped().map(|info| (info.kid.as_deref(), info.skip_reason())).collect();
    assert_eq!(reasons, [(Some("test-es256"), Some(SkipReason::DuplicateKid))]);
    assert_eq!(v.metrics().keys.key_count, 3);
}

#[test]
fn different_keys_under_one_kid_in_two_sources_are_both_refused() {
    let mut impostor = one_key("test-eddsa");
    impostor["keys"][0]["kid"] = "test-es256".into();
    let v =
        verifier(json!([{ "jwks": one_key("test-es256") }, { "jwks": impostor }, { "jwks": one_key("test-rs256") }]));
    let err = v.verify_now(token("valid-es256")).expect_err("the kid names two keys");
    assert_eq!(err.code(), ErrorCode::KeyNotFound);
    let set = v.key_set().expect("keys");
    assert_eq!(set.len(), 1, "only the RS256 key is served");
    assert_eq!(set.skipped().filter(|i| i.skip_reason() == Some(SkipReason::KidInAnotherSource)).count(), 2);
    v.verify_now(token("valid-rs256")).expect("the other source is unaffected");
}

#[test]
fn a_key_bound_to_an_issuer_verifies_no_other_issuers_tokens() {
    // The example tokens are issued by https://issuer.example.
    let v = verifier(json!([
        { "jwks": one_key("test-es256"), "issuer": "https://issuer.example" },
        { "jwks": one_key("test-eddsa"), "issuer": "https://other.example" },
        { "jwks": one_key("test-rs256") }
    ]));
    v.verify_now(token("valid-es256")).expect("its issuer's key");
    v.verify_now(token("valid-rs256")).expect("an unbound key");
    let err = v.verify_now(token("valid-eddsa")).expect_err("signed with another issuer's key");
    assert_eq!(err.code(), ErrorCode::BadIssuer);
    assert_eq!(v.metrics().rejected_with(ErrorCode::BadIssuer), 1);
}

#[test]
fn a_source_still_loading_makes_an_unknown_kid_unavailable_not_key_not_found() {
    let v = verifier(json!([{ "jwks": one_key("test-es256") }, { "jwks_url": "http://127.0.0.1:9/jwks.json" }]));
    v.verify_now(token("valid-es256")).expect("the loaded source serves");
    let err = v.verify_now(token("valid-eddsa")).expect_err("its key may be in the other source");
    assert_eq!((err.code(), err.detail()), (ErrorCode::Unavailable, Some("keys")));
    assert!(v.key_source().is_partial());
}

#[test]
fn each_source_names_exactly_one_form_and_errors_name_the_source() {
    let policy = |sources: Value| {
        let doc = json!({ "keys": { "sources": sources }, "algorithms": ["ES256"] });
        Policy::from_json(doc.to_string().as_bytes(), examples()).and_then(|p| p.verifier().map(drop))
    };
    let cases = [
        (json!([{ "jwks_file": "jwks.json", "jwks_url": "https://a.example/k" }]), "keys.sources[0]", "exactly one"),
        (json!([{ "jwks_file": "jwks.json" }, {}]), "keys.sources[1]", "exactly one"),
        (json!([{ "jwks_file": "missing.json" }]), "keys.sources[0].jwks_file", "missing.json"),
        (json!([{ "jwks_url": "ftp://a.example/k" }]), "keys.sources[0].jwks_url", "scheme"),
        (json!([{ "jwks_file": "jwks.json", "issuer": "" }]), "keys.sources[0].issuer", "empty"),
        (json!([{ "jwks_file": "jwks.json", "pem": [] }]), "keys.sources[0].pem", "unknown field"),
    ];
    for (sources, field, message) in cases {
        let err = policy(sources.clone()).expect_err("refused");
        assert_eq!(err.field(), field, "{sources}: {err}");
        assert!(err.message().contains(message), "{sources}: {err}");
    }
    let both = json!({ "keys": { "jwks_file": "jwks.json", "sources": [{ "jwks_file": "jwks.json" }] }, "algorithms": ["ES256"] });
    let err = Policy::from_json(both.to_string().as_bytes(), examples()).expect_err("two forms");
    assert_eq!(err.field(), "keys");
    let many: Vec<Value> = (0..33).map(|_| json!({ "jwks_file": "jwks.json" })).collect();
    assert_eq!(policy(Value::Array(many)).expect_err("too many").field(), "keys.sources");
}

/// An identity provider on 127.0.0.1: its OpenID configuration and keys.
/// Returns its issuer URL.
fn identity_provider(jwks: String) -> String {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let issuer = format!("http://{}/realms/acme", listener.local_addr().expect("address"));
    let issuer_here = issuer.clone();
    std::thread::spawn(move || {
        for mut conn in listener.incoming().flatten() {
            let mut request = [0u8; 2048];
            let n = conn.read(&mut request).unwrap_or(0);
            let head = String::from_utf8_lossy(&request[..n]);
            let path = head.split(' ').nth(1).unwrap_or("/").to_owned();
            let (status, body) = match path.as_str() {
                "/realms/acme/.well-known/openid-configuration" => {
                    ("200 OK", format!(r#"{{"issuer":"{issuer_here}","jwks_uri":"{issuer_here}/certs"}}"#))
                }
                "/realms/acme/certs" => ("200 OK", jwks.clone()),
                _ => ("404 Not Found", String::new()),
            };
            let _ =
                write!(conn, "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len());
        }
    });
    issuer
}

#[path = "common/mod.rs"]
mod common;

#[test]
fn a_discovered_issuers_keys_verify_its_tokens_only() {
    let key = common::TestKey::new("k1", 7);
    let issuer = identity_provider(common::jwks(&[&key]));
    let doc = json!({
        "keys": { "issuer_discovery": issuer },
        "algorithms": ["EdDSA"],
        "audiences": ["api"],
        "refresh": { "first_fetch_timeout_ms": 5000 }
    });
    let policy = Policy::from_json(doc.to_string().as_bytes(), examples()).expect("policy");
    policy.check_sources().expect("checked without fetching");
    let v = policy.verifier().expect("verifier");
    assert!(v.wait_ready(std::time::Duration::from_secs(5)), "the configuration names the keys");
    let now = jwtv_jwks::unix_now();
    let claims = |iss: &str| format!(r#"{{"iss":"{iss}","aud":"api","exp":{},"iat":{}}}"#, now + 600, now);
    v.verify_now(key.sign(&claims(&issuer))).expect("a token of the discovered issuer");
    let err = v.verify_now(key.sign(&claims("https://issuer.example"))).expect_err("another issuer's token");
    assert_eq!(err.code(), ErrorCode::BadIssuer);

    let bad = json!({ "keys": { "issuer_discovery": "ftp://login.example" }, "algorithms": ["EdDSA"] });
    let err = Policy::from_json(bad.to_string().as_bytes(), examples()).and_then(|p| p.check_sources()).unwrap_err();
    assert_eq!(err.field(), "keys.issuer_discovery");
    let mismatch = json!({ "keys": { "sources": [{ "issuer_discovery": issuer, "issuer": "https://other.example" }] },
                           "algorithms": ["EdDSA"] });
    let err = Policy::from_json(mismatch.to_string().as_bytes(), examples()).unwrap_err();
    assert_eq!(err.field(), "keys.sources[0].issuer");
}
