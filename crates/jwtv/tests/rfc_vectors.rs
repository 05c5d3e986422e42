//! The worked examples of RFC 7515 (JWS) appendix A.1–A.3 and RFC 8037
//! (EdDSA in JOSE) appendix A.4, with their exact tokens and public keys.
//!
//! A.1–A.3 carry the RFC 7519 example claims set
//! `{"iss":"joe", "exp":1300819380, "http://example.com/is_root":true}`
//! (with CRLF whitespace inside the JSON) and go through `verify`; RFC 8037's
//! payload is a sentence, not claims, and goes through `verify_jws`.

mod common;

use common::{assert_err, assert_tamper_fails, b64url_decode, flip_payload_char, flip_signature_bit, verify_jws};
use jwtv::json::Value;
use jwtv::{Algorithm, DEFAULT_BUFFER_LEN, DEFAULT_LEEWAY_SECS, Error, Part, Policy, Verifier, VerifyingKey};

/// The shared claims set's `exp`.
const EXP: u64 = 1_300_819_380;
/// A time before `exp`, when the examples were valid.
const BEFORE_EXP: u64 = EXP - 3600;

/// The payload segment of A.1–A.3.
const CLAIMS: &str = "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ";

// ---- RFC 7515 A.1: HMAC SHA-256 ----

const A1_TOKEN: &str = concat!(
    "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9",
    ".",
    "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ",
    ".",
    "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
);

/// A.1's JWK `k` (64 bytes).
const A1_K: &str = "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow";

fn a1_key() -> VerifyingKey {
    VerifyingKey::hmac_from_base64url(Algorithm::HS256, A1_K).expect("the A.1 key")
}

// ---- RFC 7515 A.2: RSASSA-PKCS1-v1_5 SHA-256 ----

const A2_TOKEN: &str = concat!(
    "eyJhbGciOiJSUzI1NiJ9",
    ".",
    "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ",
    ".",
    "cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7",
    "AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4",
    "BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K",
    "0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqv",
    "hJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrB",
    "p0igcN_IoypGlUPQGe77Rw",
);

/// A.2's JWK `n` (2048 bits) and `e`.
const A2_N: &str = concat!(
    "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pC",
    "gNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg6",
    "65xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRW",
    "yuXpoQ",
);
const A2_E: &str = "AQAB";

fn a2_key() -> VerifyingKey {
    let n = b64url_decode(A2_N).expect("n");
    let e = b64url_decode(A2_E).expect("e");
    VerifyingKey::rsa_from_components(Algorithm::RS256, &n, &e).expect("the A.2 key")
}

// ---- RFC 7515 A.3: ECDSA P-256 SHA-256 ----

const A3_TOKEN: &str = concat!(
    "eyJhbGciOiJFUzI1NiJ9",
    ".",
    "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ",
    ".",
    "DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q",
);

/// A.3's JWK `x` and `y` (crv P-256).
const A3_X: &str = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU";
const A3_Y: &str = "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0";

fn a3_key() -> VerifyingKey {
    let x = b64url_decode(A3_X).expect("x");
    let y = b64url_decode(A3_Y).expect("y");
    VerifyingKey::ecdsa_from_coordinates(Algorithm::ES256, &x, &y).expect("the A.3 key")
}

// ---- RFC 8037 A.4: Ed25519 ----

const RFC8037_TOKEN: &str = concat!(
    "eyJhbGciOiJFZERTQSJ9",
    ".",
    "RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc",
    ".",
    "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg",
);

/// RFC 8037 A.1's public key `x` (crv Ed25519).
const RFC8037_X: &str = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";

fn ed25519_key() -> VerifyingKey {
    VerifyingKey::ed25519(&b64url_decode(RFC8037_X).expect("x")).expect("the RFC 8037 key")
}

/// Every vector with its key.
fn vectors() -> [(&'static str, &'static str, VerifyingKey); 4] {
    [
        ("RFC 7515 A.1 HS256", A1_TOKEN, a1_key()),
        ("RFC 7515 A.2 RS256", A2_TOKEN, a2_key()),
        ("RFC 7515 A.3 ES256", A3_TOKEN, a3_key()),
        ("RFC 8037 A.4 EdDSA", RFC8037_TOKEN, ed25519_key()),
    ]
}

/// Verifies a JWT with `Policy::new().ignore_audience()` at `now`.
#[track_caller]
fn check_example_claims(name: &str, key: VerifyingKey, token: &str, now: u64) {
    let keys = [key];
    let verifier = Verifier::new(&keys, Policy::new().ignore_audience());
    let mut buf = [0u8; DEFAULT_BUFFER_LEN];
    let verified = verifier.verify(token, now, &mut buf).unwrap_or_else(|e| panic!("{name}: {e}"));
    let claims = verified.claims();
    assert!(claims.iss().is_some_and(|iss| iss == "joe"), "{name}: iss");
    assert_eq!(claims.exp().map(|exp| exp.floor()), Some(1_300_819_380), "{name}: exp");
    assert!(matches!(claims.get("http://example.com/is_root"), Some(Value::Bool(true))), "{name}: is_root");
    assert_eq!(claims.audiences().count(), 0, "{name}: no aud");
    assert_eq!(verified.algorithm(), keys[0].algorithm());
}

#[test]
fn rfc7515_a1_hs256_verifies_before_exp_and_is_expired_after() {
    check_example_claims("A.1", a1_key(), A1_TOKEN, BEFORE_EXP);
    let keys = [a1_key()];
    let verifier = Verifier::new(&keys, Policy::new().ignore_audience());
    let mut buf = [0u8; DEFAULT_BUFFER_LEN];
    let verified = verifier.verify(A1_TOKEN, BEFORE_EXP, &mut buf).expect("valid before exp");
    assert!(verified.header().typ().is_some_and(|typ| typ == "JWT"));
    // The default 30 s leeway: accepted until exp + leeway, expired from then on.
    assert!(verifier.verify(A1_TOKEN, EXP + DEFAULT_LEEWAY_SECS - 1, &mut buf).is_ok());
    assert_err(verifier.verify(A1_TOKEN, EXP + DEFAULT_LEEWAY_SECS, &mut buf), Error::Expired, "A.1 at exp + leeway");
    assert_err(verifier.verify(A1_TOKEN, 1_800_000_000, &mut buf), Error::Expired, "A.1 in 2027");
    // Without `ignore_audience` the example still verifies: it carries no `aud`.
    let strict = Verifier::new(&keys, Policy::new());
    assert!(strict.verify(A1_TOKEN, BEFORE_EXP, &mut buf).is_ok());
}

#[test]
fn rfc7515_a2_rs256_verifies() {
    check_example_claims("A.2", a2_key(), A2_TOKEN, BEFORE_EXP);
}

#[test]
fn rfc7515_a3_es256_verifies() {
    check_example_claims("A.3", a3_key(), A3_TOKEN, BEFORE_EXP);
    // The same claims set as A.1 and A.2.
    assert_eq!(verify_jws(&[a3_key()], A3_TOKEN), Ok(b64url_decode(CLAIMS).expect("claims")));
}

#[test]
fn rfc8037_a4_ed25519_verifies_as_a_jws() {
    let keys = [ed25519_key()];
    assert_eq!(verify_jws(&keys, RFC8037_TOKEN).as_deref(), Ok(&b"Example of Ed25519 signing"[..]));
    // The payload is not a claims set, so it is not a JWT.
    let mut buf = [0u8; DEFAULT_BUFFER_LEN];
    let as_jwt = Verifier::new(&keys, Policy::new()).verify(RFC8037_TOKEN, BEFORE_EXP, &mut buf);
    assert_err(as_jwt, Error::Malformed(Part::Payload), "RFC 8037 A.4 as a JWT");
}

#[test]
fn every_vector_tampered_fails() {
    for (name, token, key) in vectors() {
        let keys = [key];
        assert!(verify_jws(&keys, token).is_ok(), "{name}");
        assert_tamper_fails(&keys, token, name);
    }
    // Through `verify` too, for the JWTs: the signature fails before any claim is read.
    let mut buf = [0u8; DEFAULT_BUFFER_LEN];
    for (name, token, key) in vectors().into_iter().take(3) {
        let keys = [key];
        let verifier = Verifier::new(&keys, Policy::new());
        for tampered in [flip_signature_bit(token), flip_payload_char(token)] {
            assert_err(verifier.verify(&tampered, BEFORE_EXP, &mut buf), Error::BadSignature, name);
        }
    }
}

#[test]
fn every_vector_fails_with_every_other_vectors_key() {
    for (name, token, _) in vectors() {
        for (other, _, key) in vectors() {
            if other != name {
                let got = verify_jws(&[key], token);
                assert_err(got, Error::AlgNotAllowed, &format!("{name} with the key of {other}"));
            }
        }
    }
}
