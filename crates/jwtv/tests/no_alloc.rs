//! `Verifier::verify` performs no heap allocation for HS256, ES256 and EdDSA,
//! and for RSA exactly as many as ring's own `RsaPublicKeyComponents::verify`.
//!
//! The counting allocator is global, so this file holds a single test: no
//! other test thread can allocate while a region is being counted.

mod support;

use std::alloc::System;

use jwtv::{Algorithm, DEFAULT_BUFFER_LEN, DEFAULT_MAX_TOKEN_LEN, UnverifiedToken, Verifier};
use ring::signature::{self, RsaPublicKeyComponents};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};
use support::{NOW, Signer, good_claims, policy, segments};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Runs `f` and returns its result with the number of allocations and
/// reallocations made meanwhile (by any thread; this file has one test).
fn allocations<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let region = Region::new(GLOBAL);
    let out = core::hint::black_box(f());
    let stats = region.change();
    (out, stats.allocations + stats.reallocations)
}

#[test]
fn verification_allocates_nothing_beyond_rings_rsa() {
    // Everything is built before counting starts.
    let signers = [Signer::hs256(), Signer::es256(), Signer::ed25519()];
    let keys: Vec<_> = signers.iter().map(|s| s.key_with_kid(&s.alg().to_string())).collect();
    let tokens: Vec<String> =
        signers.iter().map(|s| s.token(s.header_with_kid(&s.alg().to_string()), good_claims())).collect();
    let forged: Vec<String> = tokens
        .iter()
        .map(|t| {
            let [h, p, s] = segments(t);
            let first = if s.starts_with('A') { 'B' } else { 'A' };
            format!("{h}.{p}.{first}{}", &s[1..])
        })
        .collect();
    let verifier = Verifier::new(
        &keys,
        policy().require_claims(&["sub"]).require_claim_values(&[("sub", jwtv::ClaimValue::String("user-1"))]),
    );
    let mut buf = [0u8; DEFAULT_BUFFER_LEN];

    // The counter works: a control allocation is seen.
    let (_, control) = allocations(|| Box::new(core::hint::black_box(7u64)));
    assert_eq!(control, 1, "the counting allocator sees allocations");

    for (signer, (token, forged)) in signers.iter().zip(tokens.iter().zip(&forged)) {
        let alg = signer.alg();
        assert!(verifier.verify(token, NOW, &mut buf).is_ok(), "{alg} warm-up");
        let (ok, count) = allocations(|| verifier.verify(token, NOW, &mut buf).is_ok());
        assert!(ok, "{alg} verifies");
        assert_eq!(count, 0, "{alg}: Verifier::verify allocated");
        let (ok, count) = allocations(|| verifier.verify_all(token, NOW, &mut buf).is_ok());
        assert!(ok, "{alg} verifies");
        assert_eq!(count, 0, "{alg}: Verifier::verify_all allocated");
        let (err, count) = allocations(|| verifier.verify(forged, NOW, &mut buf).err());
        assert_eq!(err, Some(jwtv::Error::BadSignature), "{alg} forged");
        assert_eq!(count, 0, "{alg}: a rejection allocated");
        let (ok, count) = allocations(|| UnverifiedToken::decode(token, DEFAULT_MAX_TOKEN_LEN, &mut buf).is_ok());
        assert!(ok, "{alg} decodes");
        assert_eq!(count, 0, "{alg}: UnverifiedToken::decode allocated");
        println!("{alg}: 0 allocations in Verifier::verify");
    }

    // RSA: ring allocates while verifying; jwtv adds nothing to that.
    for alg in [Algorithm::RS256, Algorithm::PS256] {
        let rsa = Signer::rsa(alg);
        let keys = [rsa.key()];
        let verifier = Verifier::new(&keys, policy());
        let token = rsa.jwt(good_claims());
        let (signing_input, signature_b64) = token.rsplit_once('.').expect("three segments");
        let signature: Vec<u8> =
            <base64ct::Base64UrlUnpadded as base64ct::Encoding>::decode_vec(signature_b64).expect("base64url");
        let Signer::Rsa(_, pair) = &rsa else { unreachable!("an RSA signer") };
        let components: RsaPublicKeyComponents<Vec<u8>> = pair.public().into();
        let params = match alg {
            Algorithm::RS256 => &signature::RSA_PKCS1_2048_8192_SHA256,
            _ => &signature::RSA_PSS_2048_8192_SHA256,
        };
        let direct = || components.verify(params, signing_input.as_bytes(), &signature).is_ok();
        assert!(direct(), "{alg} warm-up (ring)");
        assert!(verifier.verify(&token, NOW, &mut buf).is_ok(), "{alg} warm-up (jwtv)");

        let (ok, ring_count) = allocations(direct);
        assert!(ok, "{alg} verifies with ring");
        let (ok, jwtv_count) = allocations(|| verifier.verify(&token, NOW, &mut buf).is_ok());
        assert!(ok, "{alg} verifies with jwtv");
        println!("{alg}: {jwtv_count} allocations in Verifier::verify, {ring_count} in ring's verify alone");
        assert!(ring_count > 0, "{alg}: ring is expected to allocate for RSA");
        if cfg!(feature = "aws-lc") {
            // aws-lc verifies with a key parsed when it was made; its C code
            // allocates with malloc, which Rust's allocator does not see.
            assert_eq!(jwtv_count, 0, "{alg}: jwtv on aws-lc allocated");
        } else {
            assert_eq!(jwtv_count, ring_count, "{alg}: jwtv added allocations of its own");
        }
    }
}
