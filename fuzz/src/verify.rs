//! The `verify` target: any bytes as a token, through every entry point of
//! the core verifier, against the fixed HS256, ES256, EdDSA and RS256 keys.

use jwtv::{DEFAULT_BUFFER_LEN, DEFAULT_MAX_TOKEN_LEN, UnverifiedToken, Verifier};

use crate::{NOW, Sweep, assert_consistent, assert_verify_bound, check_accepted, keys, measure, policy, uses_rsa};

/// One input.
pub fn run(token: &[u8]) {
    let keys = keys();
    let rsa = uses_rsa(token);
    // Buffers are made before counting: verification itself must not allocate.
    let mut buf = vec![0u8; DEFAULT_BUFFER_LEN];
    let mut buf_all = vec![0u8; DEFAULT_BUFFER_LEN];
    let mut buf_jws = vec![0u8; DEFAULT_BUFFER_LEN];
    let mut buf_decode = vec![0u8; DEFAULT_BUFFER_LEN];

    for (key_set, may_use_rsa) in [(&keys.no_rsa, false), (&keys.all, rsa)] {
        let verifier = Verifier::new(key_set, policy());
        let (one, usage) = measure(|| verifier.verify(token, NOW, &mut buf));
        assert_verify_bound(usage, may_use_rsa, "verify");
        let (all, usage) = measure(|| verifier.verify_all(token, NOW, &mut buf_all));
        assert_verify_bound(usage, may_use_rsa, "verify_all");
        assert_consistent(&one, &all);
        let (jws, usage) = measure(|| verifier.verify_jws(token, &mut buf_jws));
        assert_verify_bound(usage, may_use_rsa, "verify_jws");

        // verify_jws runs steps 1-6: it fails exactly where verify fails
        // before the claims, and agrees on the payload otherwise.
        match (&one, &jws) {
            (Ok(v), Ok(j)) => assert_eq!(v.claims().raw_json(), j.payload()),
            (Err(e), Err(j)) => assert_eq!(e, j, "verify_jws and verify disagree"),
            (Err(_), Ok(_)) => {} // a claim check failed after the signature
            (Ok(_), Err(e)) => panic!("verify accepted what verify_jws rejects: {e:?}"),
        }
        if let Ok(verified) = &one {
            check_accepted(&verifier, token, NOW, verified, Sweep::Full);
        }
    }

    // Decoding without verification: no allocation, and whatever verify
    // accepted decodes to the same header and claims.
    let (decoded, usage) = measure(|| UnverifiedToken::decode(token, DEFAULT_MAX_TOKEN_LEN, &mut buf_decode));
    assert_eq!(usage.allocations, 0, "UnverifiedToken::decode allocated: {usage:?}");
    if let Ok(decoded) = &decoded {
        let (failures, usage) = measure(|| decoded.check_unverified(&policy(), NOW));
        assert_eq!(usage.allocations, 0, "check_unverified allocated: {usage:?}");
        let _ = failures;
    }
    let verifier = Verifier::new(&keys.all, policy());
    if let Ok(verified) = verifier.verify(token, NOW, &mut buf) {
        let decoded = decoded.expect("an accepted token decodes");
        assert_eq!(decoded.unverified_header().raw_json(), verified.header().raw_json());
        assert_eq!(decoded.unverified_payload(), verified.claims().raw_json());
        assert!(decoded.check_unverified(&policy(), NOW).is_empty(), "accepted, but the diagnosis finds failures");
    }
}
