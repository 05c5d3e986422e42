//! JWKS parsing rules beyond the Wycheproof suite: each skip reason, document
//! limits, algorithm inference, thumbprints.

#![allow(clippy::std_instead_of_alloc, clippy::std_instead_of_core, reason = "a test harness on std")]

use jwtv::{Algorithm, AlgorithmSet};
use jwtv_jwks::{JwksError, KeySet, KeySetOptions, SkipReason};

const ED_X: &str = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
/// RFC 7638 §3.1's example key and its thumbprint.
const RFC7638_N: &str = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
const RFC7638_THUMBPRINT: &str = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs";

fn parse(keys: &str) -> KeySet {
    KeySet::parse(format!(r#"{{"keys":[{keys}]}}"#).as_bytes(), &KeySetOptions::default()).expect("readable")
}

#[track_caller]
fn only_skip(keys: &str) -> SkipReason {
    let set = parse(keys);
    assert!(set.is_empty(), "no key usable");
    set.entries().first().and_then(|e| e.skip_reason()).expect("skipped")
}

fn ed(extra: &str) -> String {
    format!(r#"{{"kty":"OKP","crv":"Ed25519","x":"{ED_X}"{extra}}}"#)
}

#[test]
fn thumbprint_matches_rfc_7638() {
    let set = parse(&format!(r#"{{"kty":"RSA","n":"{RFC7638_N}","e":"AQAB","alg":"RS256","kid":"2011-04-29"}}"#));
    let entry = set.entries().first().expect("entry");
    assert_eq!(entry.thumbprint.as_deref(), Some(RFC7638_THUMBPRINT));
    assert_eq!(entry.bits, Some(2048));
    assert!(entry.is_usable());
}

#[test]
fn shared_secrets_have_no_thumbprint() {
    // A thumbprint of an oct key would be an unsalted SHA-256 of the secret.
    let set = parse(r#"{"kty":"oct","alg":"HS256","kid":"s","k":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"}"#);
    let entry = set.entries().first().expect("entry");
    assert!(entry.is_usable());
    assert_eq!(entry.thumbprint, None);
}

#[test]
fn each_skip_reason() {
    let cases: [(String, SkipReason); 14] = [
        ("[]".into(), SkipReason::NotAnObject),
        (r#"{"kty":"OKP","kty":"OKP"}"#.into(), SkipReason::NotAnObject),
        (ed(r#","kid":7"#), SkipReason::BadMember("kid")),
        (ed(r#","key_ops":"verify""#), SkipReason::BadMember("key_ops")),
        (r#"{"crv":"Ed25519"}"#.into(), SkipReason::MissingMember("kty")),
        (
            r#"{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo="}"#.into(),
            SkipReason::BadBase64("x"),
        ),
        (
            r#"{"kty":"OKP","crv":"X25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#.into(),
            SkipReason::UnsupportedCurve,
        ),
        (r#"{"kty":"DSA"}"#.into(), SkipReason::UnsupportedKeyType),
        (ed(r#","alg":"ES256""#), SkipReason::AlgorithmMismatch),
        (ed(r#","key_ops":["sign"]"#), SkipReason::NotForVerify),
        (ed(r#","d":"AAAA""#), SkipReason::PrivateKey),
        (ed(r#","use":"enc""#), SkipReason::NotForSignatures),
        (ed(&format!(r#","kid":"{}""#, "k".repeat(129))), SkipReason::KidTooLong),
        (r#"{"kty":"RSA","alg":"RS256","e":"AQAB"}"#.into(), SkipReason::MissingMember("n")),
    ];
    for (jwk, reason) in cases {
        assert_eq!(only_skip(&jwk), reason, "{jwk}");
        assert!(!reason.code().is_empty() && !reason.to_string().is_empty());
    }
}

#[test]
fn escaped_member_names_and_values_are_decoded() {
    let set =
        parse(&format!(r#"{{"k\u0074y":"OKP","crv":"Ed\u0032\u0035\u0035\u0031\u0039","x":"{ED_X}","kid":"a\/b"}}"#));
    assert_eq!(set.keys().first().and_then(|k| k.kid()), Some("a/b"));
    // An escaped "use" is still read, and still refused.
    assert_eq!(only_skip(&ed(r#","\u0075se":"enc""#)), SkipReason::NotForSignatures);
}

#[test]
fn missing_alg_comes_from_the_policy_never_from_a_guess() {
    let rsa = format!(r#"{{"kty":"RSA","n":"{RFC7638_N}","e":"AQAB"}}"#);
    // All algorithms allowed: RS256 or PS256? Unknowable, so skipped.
    assert_eq!(only_skip(&rsa), SkipReason::NoAlgorithm);
    let only_ps256 = KeySetOptions::for_algorithms(AlgorithmSet::of(&[Algorithm::PS256, Algorithm::ES256]));
    let set = KeySet::parse(format!(r#"{{"keys":[{rsa}]}}"#).as_bytes(), &only_ps256).expect("readable");
    let entry = set.entries().first().expect("entry");
    assert_eq!((entry.algorithm, entry.alg_inferred), (Some(Algorithm::PS256), true));
    assert!(entry.warnings().iter().any(|w| w.contains("no alg")));
    assert!(entry.warnings().iter().any(|w| w.contains("no kid")));
    // A key whose algorithm the policy does not allow is skipped.
    let set = KeySet::parse(format!(r#"{{"keys":[{}]}}"#, ed("")).as_bytes(), &only_ps256).expect("readable");
    assert_eq!(set.entries().first().and_then(|e| e.skip_reason()), Some(SkipReason::AlgorithmNotAllowed));
}

#[test]
fn identical_duplicates_keep_one_different_ones_keep_none() {
    let same = parse(&format!("{},{}", ed(r#","kid":"a""#), ed(r#","kid":"a""#)));
    assert_eq!(same.len(), 1);
    assert_eq!(same.duplicate_kids(), ["a"]);
    let other_x = r#"{"kty":"OKP","crv":"Ed25519","kid":"a","x":"YPs9Vmzu9saQraBCqOf-qJIjQ2LPZs9imx0jbWLGE1w"}"#;
    let different = parse(&format!("{},{other_x}", ed(r#","kid":"a""#)));
    assert!(different.is_empty());
    assert_eq!(different.duplicate_kids(), ["a"]);
}

#[test]
fn one_bad_key_does_not_spoil_the_set() {
    let set = parse(&format!(r#"{},{{"kty":"EC","crv":"P-521"}},{}"#, ed(r#","kid":"one""#), ed(r#","kid":"two""#)));
    assert_eq!(set.len(), 2);
    assert_eq!(set.skipped().count(), 1);
}

#[test]
fn document_limits_and_shape() {
    let mut options = KeySetOptions::default();
    (options.max_bytes, options.max_keys) = (64, 2);
    let big = format!(r#"{{"keys":[],"pad":"{}"}}"#, "x".repeat(64));
    assert_eq!(KeySet::parse(big.as_bytes(), &options).err(), Some(JwksError::TooLarge { limit: 64 }));
    assert_eq!(KeySet::parse(br#"{"keys":[1,2,3]}"#, &options).err(), Some(JwksError::TooManyKeys { limit: 2 }));
    assert_eq!(KeySet::parse(br#"{"keys":{}}"#, &options).err(), Some(JwksError::MissingKeys));
    assert_eq!(KeySet::parse(br#"{"kty":"OKP"}"#, &options).err(), Some(JwksError::MissingKeys));
    assert_eq!(KeySet::parse(br#"{"keys":[],"keys":[]}"#, &options).err(), Some(JwksError::Malformed));
    assert_eq!(KeySet::parse(b"[]", &options).err(), Some(JwksError::Malformed));
    assert_eq!(KeySet::parse(b"{\"keys\":[]} x", &options).err(), Some(JwksError::Malformed));
    assert!(KeySet::parse(br#"{"keys":[]}"#, &options).is_ok_and(|set| set.is_empty()));
}

#[test]
fn rsa_keys_take_only_exponent_65537_unless_the_options_allow_others() {
    let rsa =
        |kid: &str, e: &str| format!(r#"{{"kty":"RSA","alg":"RS256","kid":"{kid}","n":"{RFC7638_N}","e":"{e}"}}"#);
    let document = format!(r#"{{"keys":[{},{},{}]}}"#, rsa("f4", "AQAB"), rsa("e3", "Aw"), rsa("e33", "Af____8"));

    let set = KeySet::parse(document.as_bytes(), &KeySetOptions::default()).expect("readable");
    let kids: Vec<_> = set.keys().iter().filter_map(|k| k.kid()).collect();
    assert_eq!(kids, ["f4"]);
    let skipped: Vec<_> = set.skipped().map(|info| (info.kid.as_deref(), info.skip_reason())).collect();
    assert_eq!(
        skipped,
        [
            (Some("e3"), Some(SkipReason::RsaExponentNotAllowed(3))),
            (Some("e33"), Some(SkipReason::RsaExponentNotAllowed(8_589_934_591))),
        ]
    );
    let reason = SkipReason::RsaExponentNotAllowed(3);
    assert_eq!(reason.code(), "rsa_exponent_not_allowed");
    assert!(reason.to_string().contains("exponent 3 "), "{reason}");
    assert!(SkipReason::RsaExponentNotAllowed(8_589_934_591).to_string().contains("8589934591"));

    let allowing = KeySetOptions::default().allowing_any_rsa_exponent();
    let set = KeySet::parse(document.as_bytes(), &allowing).expect("readable");
    let exponents: Vec<_> = set.keys().iter().map(|k| (k.kid(), k.rsa_public_exponent())).collect();
    assert_eq!(exponents, [(Some("f4"), Some(65_537)), (Some("e3"), Some(3)), (Some("e33"), Some(8_589_934_591))]);

    // Malformed exponents stay malformed, allowed or not: even, 1, past 33 bits.
    for e in ["AQAA", "AQ", "Av____8"] {
        let set = KeySet::parse(format!(r#"{{"keys":[{}]}}"#, rsa("k", e)).as_bytes(), &allowing).expect("readable");
        assert_eq!(set.entries().first().and_then(|info| info.skip_reason()), Some(SkipReason::InvalidKey), "{e}");
    }
}

/// The P-521 TEST KEY of `crates/jwtv/tests/vectors/es512` (public part only).
const P521_X: &str = "ANuUJxOMxxY7fEhOrlKjMbkc61G1BYkC87sr9iXTmZ7z1glpLG-ahfDutvyrQ-NBkr367GSJQzH95jCUwzrRTCZj";
const P521_Y: &str = "AGe5kA7fJ3Yf0tOV1I7gKlSNswFPiDddxvMICkW7V57TVENmwMSAwxTlDSHXEahsQQ8YQk5HkoJGVrpZB8PjxQQ9";

/// That key as a PEM `SubjectPublicKeyInfo` (id-ecPublicKey, secp521r1).
fn p521_pem() -> String {
    use base64ct::{Base64, Base64UrlUnpadded, Encoding as _};
    let x = Base64UrlUnpadded::decode_vec(P521_X).expect("x");
    let y = Base64UrlUnpadded::decode_vec(P521_Y).expect("y");
    let prefix: &[u8] = &[
        0x30, 0x81, 0x9b, 0x30, 0x10, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x05, 0x2b, 0x81,
        0x04, 0x00, 0x23, 0x03, 0x81, 0x86, 0x00, 0x04,
    ];
    let der = [prefix, &x, &y].concat();
    format!("-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n", Base64::encode_string(&der))
}

#[test]
fn p521_keys_are_es512_with_aws_lc_and_an_unsupported_curve_with_ring() {
    let jwk = format!(r#"{{"kty":"EC","crv":"P-521","kid":"p521","x":"{P521_X}","y":"{P521_Y}"}}"#);
    let pem = p521_pem();
    if cfg!(feature = "aws-lc") {
        let set = parse(&jwk);
        assert_eq!(set.keys().len(), 1);
        assert_eq!(set.keys()[0].algorithm().name(), "ES512");
        assert_eq!((set.entries()[0].bits, set.entries()[0].alg_inferred), (Some(528), true));
        assert!(set.entries()[0].thumbprint.is_some());
        // Off the curve: the last byte of y changed.
        let last = if P521_Y.ends_with('A') { "B" } else { "A" };
        let moved = format!("{}{last}", &P521_Y[..P521_Y.len() - 1]);
        let off = format!(r#"{{"kty":"EC","crv":"P-521","x":"{P521_X}","y":"{moved}"}}"#);
        assert_eq!(only_skip(&off), SkipReason::OffCurve);
        // Coordinates of P-384's length on P-521.
        let short = format!(r#"{{"kty":"EC","crv":"P-521","x":"{}","y":"{}"}}"#, &P521_X[..64], &P521_Y[..64]);
        assert_eq!(only_skip(&short), SkipReason::InvalidKey);
        let es512 = Algorithm::from_name("ES512").expect("ES512 with aws-lc");
        assert_eq!(jwtv_jwks::key_from_pem(&pem, es512).expect("a P-521 PEM key").algorithm(), es512);
        assert_eq!(
            jwtv_jwks::jwk_from_pem(&pem).expect("a JWK"),
            format!(r#"{{"crv":"P-521","kty":"EC","x":"{P521_X}","y":"{P521_Y}"}}"#)
        );
        assert_eq!(jwtv_jwks::key_from_pem(&pem, Algorithm::ES384).err(), Some(jwtv_jwks::PemError::WrongKeyType));
    } else {
        assert_eq!(only_skip(&jwk), SkipReason::UnsupportedCurve);
        assert_eq!(only_skip(&jwk.replace(r#""kid""#, r#""alg":"ES512","kid""#)), SkipReason::UnsupportedCurve);
        assert_eq!(jwtv_jwks::jwk_from_pem(&pem).err(), Some(jwtv_jwks::PemError::WrongKeyType));
        assert_eq!(jwtv_jwks::key_from_pem(&pem, Algorithm::ES384).err(), Some(jwtv_jwks::PemError::WrongKeyType));
    }
}
