//! The `jwks` target: any bytes as a JWKS document, read under two sets of
//! options; the usable keys then verify the example tokens.

use std::collections::HashSet;

use jwtv::{Algorithm, AlgorithmSet, DEFAULT_BUFFER_LEN, KeyKind};
use jwtv_jwks::{JwksError, KeySet, KeySetOptions, SkipReason};

use crate::{NOW, Sweep, VALID_TOKENS, check_accepted, measure, policy};

/// Bytes `KeySet::parse` may allocate in total (freed ones included): this
/// many per input byte… (measured: about 36 for documents of many small JWKs,
/// whose decoded members are built as growing strings)
pub const JWKS_BYTES_PER_INPUT_BYTE: usize = 64;
/// …and live at once at most: this many per input byte (measured: about 14)…
pub const JWKS_PEAK_PER_INPUT_BYTE: usize = 32;
/// …each plus this much.
pub const JWKS_BYTES_BASE: usize = 64 * 1024;

/// One input.
pub fn run(document: &[u8]) {
    let all = KeySetOptions::default();
    let mut narrow = KeySetOptions::for_algorithms(AlgorithmSet::of(&[Algorithm::ES256, Algorithm::EdDSA]));
    narrow.max_keys = 4;

    let mut results = Vec::new();
    for options in [all, narrow] {
        let (parsed, usage) = measure(|| KeySet::parse(document, &options));
        let bound = JWKS_BYTES_PER_INPUT_BYTE * document.len() + JWKS_BYTES_BASE;
        assert!(usage.bytes <= bound, "KeySet::parse allocated {usage:?} for {} bytes", document.len());
        let peak = JWKS_PEAK_PER_INPUT_BYTE * document.len() + JWKS_BYTES_BASE;
        assert!(usage.peak <= peak, "KeySet::parse held {usage:?} for {} bytes", document.len());
        let (again, _) = measure(|| KeySet::parse(document, &options));
        assert_eq!(format!("{parsed:?}"), format!("{again:?}"), "parsing is not deterministic");
        drop(again);
        match &parsed {
            Ok(set) => check_set(set, &options),
            Err(JwksError::TooLarge { .. }) => panic!("a fuzz input beyond 1 MiB"),
            Err(_) => {}
        }
        results.push(parsed);
    }
    // Document-level errors do not depend on the algorithms; key counts do.
    match (&results[0], &results[1]) {
        (Err(a), Err(b)) => {
            assert!(a == b || matches!(b, JwksError::TooManyKeys { .. }), "{a:?} vs {b:?}");
        }
        (Ok(_), Err(b)) => assert!(matches!(b, JwksError::TooManyKeys { .. }), "{b:?}"),
        (Err(a), Ok(_)) => panic!("wider options failed: {a:?}"),
        (Ok(_), Ok(_)) => {}
    }

    // Nothing is kept once the sets are dropped.
    let (_, usage) = measure(|| drop(KeySet::parse(document, &all)));
    assert_eq!(usage.kept, 0, "KeySet::parse leaked: {usage:?}");
}

fn check_set(set: &KeySet, options: &KeySetOptions) {
    let entries = set.entries();
    assert!(entries.len() <= options.max_keys, "more entries than max_keys");
    let usable: Vec<_> = entries.iter().filter(|e| e.is_usable()).collect();
    assert_eq!(usable.len(), set.keys().len(), "usable entries and keys differ");
    assert_eq!(set.skipped().count() + usable.len(), entries.len());
    for (index, entry) in entries.iter().enumerate() {
        assert_eq!(entry.index, index, "entry index");
        assert_eq!(entry.is_usable(), entry.skip_reason().is_none());
    }
    let mut kids = HashSet::new();
    for (info, key) in usable.iter().zip(set.keys()) {
        let alg = info.algorithm.expect("a usable key has an algorithm");
        assert_eq!(alg, key.algorithm(), "entry and key algorithms differ");
        assert!(options.algorithms.contains(alg), "usable key of a disallowed algorithm {alg}");
        assert_eq!(info.kid.as_deref(), key.kid(), "entry and key kids differ");
        if let Some(kid) = key.kid() {
            assert!(kids.insert(kid.to_owned()), "two usable keys share the kid {kid:?}");
        }
        let kind = alg.key_kind();
        let kty = info.kty.as_deref();
        let want = match kind {
            KeyKind::Hmac => "oct",
            KeyKind::Rsa => "RSA",
            KeyKind::Ec => "EC",
            KeyKind::Okp => "OKP",
        };
        assert_eq!(kty, Some(want), "kty {kty:?} serves {alg}");
    }
    let has_public = entries.iter().any(|e| matches!(e.kty.as_deref(), Some("RSA" | "EC" | "OKP")));
    if has_public {
        assert!(
            usable.iter().all(|e| e.kty.as_deref() != Some("oct")),
            "a shared secret is usable next to public keys"
        );
    }
    for info in set.skipped() {
        let _ = info.skip_reason().map(SkipReason::code);
    }
    let _ = set.duplicate_kids();
    for info in entries {
        let _ = info.warnings();
    }

    // The usable keys verify the example tokens only as their real keys would.
    let verifier = set.verifier(policy());
    let mut buf = vec![0u8; DEFAULT_BUFFER_LEN];
    for token in VALID_TOKENS {
        if let Ok(verified) = verifier.verify(token, NOW, &mut buf) {
            check_accepted(&verifier, token.as_bytes(), NOW, &verified, Sweep::Sample(crate::fnv(token.as_bytes())));
        }
    }
}
