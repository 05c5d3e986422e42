//! Tokens made by another implementation (PyJWT, with `cryptography`) verify
//! — or fail with the exact code the manifest names.
//!
//! The fixtures in `tests/fixtures/pyjwt/` come from
//! `tests/fixtures/make_pyjwt_fixtures.py`: fresh TEST keys (SPKI PEM public
//! keys, JWK HMAC secrets), one token per algorithm with realistic claims
//! (`iss`, `aud` array, `sub`, `iat`, `nbf`, `exp` = 2100, `jti`, `kid` header)
//! and a few tokens that must be rejected.
//!
//! Keys are read from the PEM files (the core's DER reader for RSA; the SPKI's
//! point for EC and Ed25519) and, independently, from the manifest's JWKs;
//! both key sets must give the same answer for every token.

#![allow(clippy::std_instead_of_alloc, reason = "a test harness on std")]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::PathBuf;

use common::{assert_err, flip_payload_char, flip_signature_bit, key_from_jwk_as, pem_to_der, spki_parts};
use jwtv::{Algorithm, DEFAULT_BUFFER_LEN, Error, ErrorCode, KeyKind, Policy, Verifier, VerifyingKey};
use serde::Deserialize;
use serde_json::Value;

#[derive(Deserialize)]
struct Manifest {
    pyjwt: String,
    issuer: String,
    audience: String,
    verify_at: u64,
    keys: BTreeMap<String, KeyEntry>,
    tokens: Vec<TokenEntry>,
}

#[derive(Deserialize)]
struct KeyEntry {
    file: String,
    jwk: Value,
}

#[derive(Deserialize)]
struct TokenEntry {
    name: String,
    alg: String,
    key: String,
    expect: String,
    token: String,
}

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pyjwt")
}

fn manifest() -> Manifest {
    let text = fs::read_to_string(fixtures().join("manifest.json")).expect("manifest.json");
    serde_json::from_str(&text).expect("the manifest parses")
}

/// DER of `id-ecPublicKey` followed by the curve's OID, as in an EC SPKI's AlgorithmIdentifier.
const EC_P256_ALGORITHM: &[u8] =
    &[0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
const EC_P384_ALGORITHM: &[u8] =
    &[0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22];
/// DER of the Ed25519 OID 1.3.101.112 (no parameters).
const ED25519_ALGORITHM: &[u8] = &[0x06, 0x03, 0x2b, 0x65, 0x70];

/// The key in `entry`'s file, bound to `alg`, with the key name as kid.
#[track_caller]
fn key_from_file(name: &str, entry: &KeyEntry, alg: Algorithm) -> VerifyingKey {
    let text = fs::read_to_string(fixtures().join(&entry.file)).expect("key file");
    let jwk_bytes = |member: &str| common::b64url_decode(entry.jwk[member].as_str().expect("JWK member")).expect("b64");
    let key = match alg.key_kind() {
        KeyKind::Hmac => {
            let jwk: Value = serde_json::from_str(&text).expect("JWK file");
            assert_eq!(jwk, entry.jwk, "{name}: file and manifest agree");
            VerifyingKey::hmac_from_base64url(alg, jwk["k"].as_str().expect("k"))
        }
        KeyKind::Rsa => VerifyingKey::rsa_from_der(alg, &pem_to_der(&text, "PUBLIC KEY")),
        KeyKind::Ec => {
            let der = pem_to_der(&text, "PUBLIC KEY");
            let (algorithm, point) = spki_parts(&der);
            let want = if alg == Algorithm::ES256 { EC_P256_ALGORITHM } else { EC_P384_ALGORITHM };
            assert_eq!(algorithm, want, "{name}: curve");
            let jwk_point = [&[0x04][..], &jwk_bytes("x"), &jwk_bytes("y")].concat();
            assert_eq!(point, &jwk_point[..], "{name}: PEM and JWK hold the same point");
            VerifyingKey::ecdsa_from_sec1(alg, point)
        }
        KeyKind::Okp => {
            let der = pem_to_der(&text, "PUBLIC KEY");
            let (algorithm, public) = spki_parts(&der);
            assert_eq!(algorithm, ED25519_ALGORITHM, "{name}: Ed25519");
            assert_eq!(public, &jwk_bytes("x")[..], "{name}: PEM and JWK hold the same key");
            VerifyingKey::ed25519(public)
        }
    };
    key.and_then(|k| k.with_kid(name)).unwrap_or_else(|e| panic!("{name} as {alg}: {e}"))
}

/// The keys the tokens need, one per (key, algorithm) pair: from the files
/// and, separately, from the manifest's JWKs.
fn key_sets(manifest: &Manifest) -> (Vec<VerifyingKey>, Vec<VerifyingKey>) {
    let pairs: BTreeSet<(&str, Algorithm)> = manifest
        .tokens
        .iter()
        .map(|t| (t.key.as_str(), Algorithm::from_name(&t.alg).expect("a supported alg")))
        .collect();
    let (mut from_files, mut from_jwks) = (Vec::new(), Vec::new());
    for (name, alg) in pairs {
        let entry = &manifest.keys[name];
        from_files.push(key_from_file(name, entry, alg));
        let jwk_key = key_from_jwk_as(&entry.jwk, alg).and_then(|k| k.with_kid(name).map_err(common::JwkRefusal::Key));
        from_jwks.push(jwk_key.unwrap_or_else(|e| panic!("{name} as {alg} from JWK: {e:?}")));
    }
    (from_files, from_jwks)
}

#[test]
fn pyjwt_tokens_verify_or_fail_with_the_expected_code() {
    let manifest = manifest();
    let (from_files, from_jwks) = key_sets(&manifest);
    assert_eq!(from_files.len(), 12, "one key per algorithm");
    let audiences = [manifest.audience.as_str()];
    let policy = Policy::new()
        .issuer(&manifest.issuer)
        .audiences(&audiences)
        .typ("JWT")
        .require_claims(&["sub", "iat", "nbf", "jti"]);
    let verifier = Verifier::new(&from_files, policy);
    let jwk_verifier = Verifier::new(&from_jwks, policy);
    let now = manifest.verify_at;
    let mut buf = [0u8; DEFAULT_BUFFER_LEN];
    let mut jwk_buf = [0u8; DEFAULT_BUFFER_LEN];

    let (mut accepted, mut rejected) = (BTreeSet::new(), Vec::new());
    for entry in &manifest.tokens {
        let what = format!("{} ({}, key {})", entry.name, entry.alg, entry.key);
        let alg = Algorithm::from_name(&entry.alg).expect("supported alg");
        let result = verifier.verify(&entry.token, now, &mut buf);
        let jwk_result = jwk_verifier.verify(&entry.token, now, &mut jwk_buf);
        assert_eq!(result.as_ref().err(), jwk_result.as_ref().err(), "{what}: PEM and JWK keys agree");
        if entry.expect == "ok" {
            let verified = result.unwrap_or_else(|e| panic!("{what}: {e}"));
            assert_eq!(verified.algorithm(), alg, "{what}");
            assert!(verified.header().kid().is_some_and(|kid| kid == entry.key.as_str()), "{what}: kid");
            let claims = verified.claims();
            assert!(claims.iss().is_some_and(|iss| iss == manifest.issuer.as_str()), "{what}: iss");
            assert!(claims.audiences().any(|aud| aud == manifest.audience.as_str()), "{what}: aud");
            assert_eq!(claims.audiences().count(), 2, "{what}: aud is an array of two");
            assert!(claims.sub().is_some_and(|sub| sub.raw().starts_with("user-")), "{what}: sub");
            assert_eq!(claims.exp().map(|d| d.floor()), Some(4_102_444_800), "{what}: exp");
            assert!(matches!(claims.get("scope"), Some(jwtv::json::Value::String(s)) if s == "read write"));
            assert!(accepted.insert(alg), "{what}: one valid token per algorithm");
            // Tampered, it fails at the signature, before any claim is read.
            for tampered in [flip_signature_bit(&entry.token), flip_payload_char(&entry.token)] {
                assert_err(verifier.verify(&tampered, now, &mut buf), Error::BadSignature, &what);
            }
        } else {
            let want = ErrorCode::from_name(&entry.expect).unwrap_or_else(|| panic!("{what}: unknown code"));
            match result {
                Err(got) => assert_eq!(got.code(), want, "{what}: got {got}"),
                Ok(_) => panic!("{what}: accepted, expected {want}"),
            }
            rejected.push(want);
        }
    }
    println!(
        "PyJWT {}: {} tokens accepted (every algorithm), {} rejected with the expected code",
        manifest.pyjwt,
        accepted.len(),
        rejected.len()
    );
    // Every algorithm but ES512 (aws-lc only; crates/jwtv/tests/es512.rs).
    let algorithms = Algorithm::ALL.iter().filter(|alg| alg.name() != "ES512").count();
    assert_eq!(accepted.len(), algorithms, "a valid token for every algorithm");
    let mut negatives = vec![
        ErrorCode::Expired,
        ErrorCode::NotYetValid,
        ErrorCode::BadAudience,
        ErrorCode::BadIssuer,
        ErrorCode::BadSignature, // signed with another ES256 key
        ErrorCode::BadSignature, // signed with another HS256 secret
        ErrorCode::KeyNotFound,
    ];
    rejected.sort();
    negatives.sort();
    assert_eq!(rejected, negatives, "the negative tokens");
    assert_eq!(manifest.tokens.len(), 19);
}

/// A verifier pinned to one algorithm rejects PyJWT's tokens for every other
/// algorithm before any cryptography, even with all the keys present.
#[test]
fn policy_narrowed_to_one_algorithm_rejects_the_others() {
    let manifest = manifest();
    let (keys, _) = key_sets(&manifest);
    let policy = Policy::new().ignore_audience().algorithms(jwtv::AlgorithmSet::of(&[Algorithm::ES256]));
    let verifier = Verifier::new(&keys, policy);
    let mut buf = [0u8; DEFAULT_BUFFER_LEN];
    for entry in manifest.tokens.iter().filter(|t| t.expect == "ok") {
        let result = verifier.verify(&entry.token, manifest.verify_at, &mut buf);
        if entry.alg == "ES256" {
            assert!(result.is_ok(), "{}", entry.name);
        } else {
            assert_err(result, Error::AlgNotAllowed, &entry.name);
        }
    }
}
