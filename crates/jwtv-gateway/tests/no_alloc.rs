//! The server verifier's borrowing path allocates nothing: `verify_in` for
//! HS256, ES256 and EdDSA (whose signature checks need no heap), fresh and
//! from the token cache. Counted by a wrapping global allocator; the file
//! holds one test, so nothing else runs while it counts.

#![allow(
    clippy::std_instead_of_alloc,
    reason = "the shared helpers name std's paths; a global allocator makes the lint see `alloc`"
)]

mod common;

use std::alloc::System;

use common::{NOW, TestKey, b64, claims};
use jwtv::{Algorithm, AlgorithmSet, DEFAULT_BUFFER_LEN};
use jwtv_gateway::{Policy, Verifier};
use jwtv_jwks::{KeySet, KeySetOptions, KeySource};
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Allocations and reallocations while `f` runs (this file's one test runs alone).
fn allocations_in(f: impl FnOnce()) -> usize {
    let region = Region::new(GLOBAL);
    f();
    let stats = region.change();
    stats.allocations + stats.reallocations
}

fn policy(alg: Algorithm) -> Policy {
    Policy::new(AlgorithmSet::of(&[alg])).issuer("https://issuer.example").audience("api")
}

/// A verifier of `jwks`'s one key, with a token cache of `cache` entries.
fn verifier(jwks: &str, alg: Algorithm, cache: usize) -> Verifier {
    let keys = KeySet::parse(jwks.as_bytes(), &KeySetOptions::default()).expect("key set");
    Verifier::new(KeySource::fixed(keys), policy(alg)).expect("policy").with_token_cache(cache)
}

/// (algorithm, JWKS, token) for HS256, ES256 and EdDSA test keys.
fn tokens() -> Vec<(Algorithm, String, String)> {
    let claims = claims();
    let signing_input =
        |alg: &str| format!("{}.{}", b64(format!(r#"{{"alg":"{alg}","kid":"k"}}"#).as_bytes()), b64(claims.as_bytes()));

    let secret = b"allocations-test-secret-not-a-key";
    let input = signing_input("HS256");
    let tag = ring::hmac::sign(&ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret), input.as_bytes());
    let hs256 = (
        Algorithm::HS256,
        format!(r#"{{"keys":[{{"kty":"oct","alg":"HS256","kid":"k","k":"{}"}}]}}"#, b64(secret)),
        format!("{input}.{}", b64(tag.as_ref())),
    );

    let rng = SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).expect("P-256 test key");
    let pair =
        EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng).expect("P-256 test key");
    let point = pair.public_key().as_ref();
    let input = signing_input("ES256");
    let signature = pair.sign(&rng, input.as_bytes()).expect("sign");
    let es256 = (
        Algorithm::ES256,
        format!(
            r#"{{"keys":[{{"kty":"EC","crv":"P-256","alg":"ES256","kid":"k","x":"{}","y":"{}"}}]}}"#,
            b64(&point[1..33]),
            b64(&point[33..])
        ),
        format!("{input}.{}", b64(signature.as_ref())),
    );

    let ed = TestKey::new("k", 9);
    let eddsa = (Algorithm::EdDSA, common::jwks(&[&ed]), ed.sign(&claims));
    vec![hs256, es256, eddsa]
}

#[test]
fn verify_in_allocates_nothing_fresh_or_from_the_cache() {
    let mut buf = [0u8; DEFAULT_BUFFER_LEN];
    for (alg, jwks, token) in tokens() {
        let uncached = verifier(&jwks, alg, 0);
        let cached = verifier(&jwks, alg, 100);
        // Once each first: lazily made state (the cache entry, per-key usage) is not per verification.
        assert!(uncached.verify_in(&token, NOW, &mut buf).is_ok(), "{alg:?}");
        assert!(cached.verify_in(&token, NOW, &mut buf).is_ok(), "{alg:?}");
        let fresh = allocations_in(|| {
            for _ in 0..50 {
                assert!(!uncached.verify_in(&token, NOW, &mut buf).expect("verifies").from_cache());
            }
        });
        assert_eq!(fresh, 0, "{alg:?}: verify_in without a cache");
        let hits = allocations_in(|| {
            for _ in 0..50 {
                assert!(cached.verify_in(&token, NOW, &mut buf).expect("verifies").from_cache());
            }
        });
        assert_eq!(hits, 0, "{alg:?}: verify_in cache hits");
        let forged = format!("{}AAAA", &token[..token.len() - 4]);
        let rejected = allocations_in(|| assert!(uncached.verify_in(&forged, NOW, &mut buf).is_err()));
        assert_eq!(rejected, 0, "{alg:?}: a rejection");
        // The owned result: the JSON and its handle.
        let owned = allocations_in(|| drop(uncached.verify(&token, NOW).expect("verifies")));
        assert_eq!(owned, 2, "{alg:?}: verify (owned)");
    }
}
