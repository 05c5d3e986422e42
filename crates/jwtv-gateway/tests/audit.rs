//! Audit events of rejected tokens through `tracing`: the fields an operator
//! needs, escaped, and never the token.

#![allow(clippy::std_instead_of_alloc, clippy::std_instead_of_core, reason = "a test harness on std")]

mod common;

use common::{Captured, NOW, TestKey, claims_with};
use jwtv::{Algorithm, AlgorithmSet};
use jwtv_gateway::{Policy, Verifier};
use jwtv_jwks::{KeySet, KeySetOptions, KeySource};

#[test]
fn a_rejection_is_one_event_with_its_fields_and_never_the_token() {
    let key = TestKey::new("k1", 1);
    let keys = KeySet::parse(
        common::jwks(&[&key]).as_bytes(),
        &KeySetOptions::for_algorithms(AlgorithmSet::of(&[Algorithm::EdDSA])),
    )
    .expect("keys");
    let policy = Policy::new(AlgorithmSet::of(&[Algorithm::EdDSA])).audience("api");
    let mut policy = policy;
    policy.set_string("name", "orders-api").expect("name");
    let verifier = Verifier::new(KeySource::fixed(keys), policy).expect("verifier");
    let forger = TestKey::new("k1", 2);
    let claims = claims_with(r#""exp":1700003600,"jti":"j-42","sub":"alice\u001b[2J""#);
    let forged = forger.sign_with_header(r#"{"alg":"EdDSA","kid":"k1\u000a injected=1"}"#, &claims);
    let valid = key.sign(&claims_with(r#""exp":1700003600"#));

    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt().with_writer(move || writer.clone()).with_ansi(false).finish();
    tracing::subscriber::with_default(subscriber, || {
        assert!(verifier.verify(&forged, NOW).is_err());
        assert!(verifier.verify(&valid, NOW).is_ok());
    });
    let log = captured.text();
    let lines: Vec<&str> = log.lines().collect();
    assert_eq!(lines.len(), 1, "one event, for the rejection only:\n{log}");
    let line = lines[0];
    for field in [
        "jwtv::audit",
        "token rejected",
        "code=\"key_not_found\"",
        "alg=\"EdDSA\"",
        r#"kid="k1\n injected=1""#,
        "iss=\"https://issuer.example\"",
        "jti=\"j-42\"",
        "policy=\"orders-api\"",
        &format!("token_len={}", forged.len()),
    ] {
        assert!(line.contains(field), "missing {field} in {line}");
    }
    assert!(line.contains("sub_hash="), "{line}");
    assert!(!line.contains("alice"), "the subject is hashed: {line}");
    let signature = forged.rsplit('.').next().expect("signature");
    assert!(!line.contains(signature) && !line.contains(&forged[..20]), "never the token: {line}");
    assert!(!line.chars().any(|c| c.is_control()), "inert: {line:?}");
}

/// A token the policy accepts and its shadow would refuse: verified, and one
/// event marked `shadow=true` with the shadow's code.
#[test]
fn a_shadow_rejection_is_an_event_marked_shadow_and_the_token_passes() {
    let key = TestKey::new("k1", 1);
    let keys = KeySet::parse(
        common::jwks(&[&key]).as_bytes(),
        &KeySetOptions::for_algorithms(AlgorithmSet::of(&[Algorithm::EdDSA])),
    )
    .expect("keys");
    let mut policy = Policy::new(AlgorithmSet::of(&[Algorithm::EdDSA])).audience("api");
    policy.set("shadow", r#"{"issuers": ["https://new-issuer.example"]}"#).expect("a shadow");
    let verifier = Verifier::new(KeySource::fixed(keys), policy).expect("verifier");
    let token = key.sign(&claims_with(r#""exp":1700003600"#));

    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt().with_writer(move || writer.clone()).with_ansi(false).finish();
    tracing::subscriber::with_default(subscriber, || assert!(verifier.verify(&token, NOW).is_ok()));
    let log = captured.text();
    let lines: Vec<&str> = log.lines().collect();
    assert_eq!(lines.len(), 1, "{log}");
    assert!(lines[0].contains("code=\"bad_issuer\"") && lines[0].contains("shadow=true"), "{}", lines[0]);
}
