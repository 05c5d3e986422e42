//! Helpers shared by the published-vector and interop suites: keys from JWKs
//! and PEM files, base64url, tampering, and `#[track_caller]` assertions.
//!
//! Everything here goes through jwtv's public API only.

#![allow(dead_code, reason = "each test crate uses a different subset of these helpers")]

use core::fmt::Debug;

use base64ct::{Base64, Base64UrlUnpadded, Encoding as _};
use jwtv::{Algorithm, Error, KeyError, KeyKind, Policy, Verifier, VerifyingKey};
use serde_json::Value;

// ---- base64 ----

/// Decodes canonical unpadded base64url; `None` for anything else.
pub(crate) fn b64url_decode(s: &str) -> Option<Vec<u8>> {
    Base64UrlUnpadded::decode_vec(s).ok()
}

/// Encodes as unpadded base64url.
pub(crate) fn b64url(bytes: &[u8]) -> String {
    Base64UrlUnpadded::encode_string(bytes)
}

// ---- keys from JWKs ----

/// Why a JWK does not become a [`VerifyingKey`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum JwkRefusal {
    /// `use` is present and is not `sig` (RFC 7517 §4.2).
    NotForSignatures,
    /// `key_ops` is present and does not contain `verify` (RFC 7517 §4.3).
    NoVerifyOp,
    /// No `alg`: every jwtv key is bound to exactly one algorithm.
    MissingAlg,
    /// `alg` names an algorithm jwtv does not verify (`ES512`, `ES521`, ...).
    UnsupportedAlg(String),
    /// `kty` or `crv` does not fit the algorithm.
    WrongKeyType,
    /// A member is missing, not a string, or not canonical base64url.
    BadMember(&'static str),
    /// The core refused the key material (too weak, invalid, ...).
    Key(KeyError),
}

fn member<'j>(jwk: &'j Value, name: &'static str) -> Result<&'j str, JwkRefusal> {
    jwk.get(name).and_then(Value::as_str).ok_or(JwkRefusal::BadMember(name))
}

fn bytes_member(jwk: &Value, name: &'static str) -> Result<Vec<u8>, JwkRefusal> {
    b64url_decode(member(jwk, name)?).ok_or(JwkRefusal::BadMember(name))
}

/// Checks `use` and `key_ops`: a key meant for anything but verification is refused.
fn check_purpose(jwk: &Value) -> Result<(), JwkRefusal> {
    if let Some(key_use) = jwk.get("use") {
        if key_use.as_str() != Some("sig") {
            return Err(JwkRefusal::NotForSignatures);
        }
    }
    if let Some(ops) = jwk.get("key_ops") {
        let ops = ops.as_array().ok_or(JwkRefusal::BadMember("key_ops"))?;
        if !ops.iter().any(|op| op.as_str() == Some("verify")) {
            return Err(JwkRefusal::NoVerifyOp);
        }
    }
    Ok(())
}

/// A key from a public JWK (or a symmetric `oct` JWK), bound to the JWK's own
/// `alg` and carrying its `kid`.
pub(crate) fn key_from_jwk(jwk: &Value) -> Result<VerifyingKey, JwkRefusal> {
    check_purpose(jwk)?;
    let name = match jwk.get("alg") {
        None => return Err(JwkRefusal::MissingAlg),
        Some(alg) => alg.as_str().ok_or(JwkRefusal::BadMember("alg"))?,
    };
    let alg = Algorithm::from_name(name).ok_or_else(|| JwkRefusal::UnsupportedAlg(name.to_owned()))?;
    build(jwk, alg)
}

/// A key from a JWK bound to `alg`, ignoring the JWK's own `alg` member.
///
/// Only for tests whose point is the signature itself, never the binding.
pub(crate) fn key_from_jwk_as(jwk: &Value, alg: Algorithm) -> Result<VerifyingKey, JwkRefusal> {
    check_purpose(jwk)?;
    build(jwk, alg)
}

fn build(jwk: &Value, alg: Algorithm) -> Result<VerifyingKey, JwkRefusal> {
    let kty = member(jwk, "kty")?;
    let key = match (alg.key_kind(), kty) {
        (KeyKind::Hmac, "oct") => VerifyingKey::hmac_from_base64url(alg, member(jwk, "k")?),
        (KeyKind::Rsa, "RSA") => {
            VerifyingKey::rsa_from_components(alg, &bytes_member(jwk, "n")?, &bytes_member(jwk, "e")?)
        }
        (KeyKind::Ec, "EC") => {
            let crv = match alg {
                Algorithm::ES256 => "P-256",
                Algorithm::ES384 => "P-384",
                #[cfg(feature = "aws-lc")]
                Algorithm::ES512 => "P-521",
                _ => return Err(JwkRefusal::WrongKeyType),
            };
            if member(jwk, "crv")? != crv {
                return Err(JwkRefusal::WrongKeyType);
            }
            VerifyingKey::ecdsa_from_coordinates(alg, &bytes_member(jwk, "x")?, &bytes_member(jwk, "y")?)
        }
        (KeyKind::Okp, "OKP") => {
            if member(jwk, "crv")? != "Ed25519" {
                return Err(JwkRefusal::WrongKeyType);
            }
            VerifyingKey::ed25519(&bytes_member(jwk, "x")?)
        }
        _ => return Err(JwkRefusal::WrongKeyType),
    }
    .map_err(JwkRefusal::Key)?;
    match jwk.get("kid") {
        None => Ok(key),
        Some(kid) => key.with_kid(kid.as_str().ok_or(JwkRefusal::BadMember("kid"))?).map_err(JwkRefusal::Key),
    }
}

// ---- PEM and DER ----

/// The DER inside a PEM block with this label (`PUBLIC KEY`, ...).
#[track_caller]
pub(crate) fn pem_to_der(pem: &str, label: &str) -> Vec<u8> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = pem.find(&begin).unwrap_or_else(|| panic!("no {begin} line")) + begin.len();
    let stop = start + pem[start..].find(&end).unwrap_or_else(|| panic!("no {end} line"));
    let body: String = pem[start..stop].split_whitespace().collect();
    Base64::decode_vec(&body).unwrap_or_else(|e| panic!("PEM body is not base64: {e}"))
}

/// Reads one DER TLV: (tag, value, rest). Short and one- or two-byte long lengths.
#[track_caller]
fn der_tlv(input: &[u8]) -> (u8, &[u8], &[u8]) {
    let (&tag, rest) = input.split_first().expect("DER: missing tag");
    let (&first, rest) = rest.split_first().expect("DER: missing length");
    let (len, rest) = match first {
        0..=0x7f => (usize::from(first), rest),
        0x81 => (usize::from(rest[0]), &rest[1..]),
        0x82 => (usize::from(u16::from_be_bytes([rest[0], rest[1]])), &rest[2..]),
        _ => panic!("DER: unsupported length form {first:#x}"),
    };
    let (value, rest) = rest.split_at(len);
    (tag, value, rest)
}

/// A `SubjectPublicKeyInfo`'s AlgorithmIdentifier contents and public key bits.
#[track_caller]
pub(crate) fn spki_parts(der: &[u8]) -> (&[u8], &[u8]) {
    let (tag, spki, rest) = der_tlv(der);
    assert!(tag == 0x30 && rest.is_empty(), "SPKI: not one SEQUENCE");
    let (tag, algorithm, spki) = der_tlv(spki);
    assert_eq!(tag, 0x30, "SPKI: AlgorithmIdentifier is not a SEQUENCE");
    let (tag, bits, spki) = der_tlv(spki);
    assert!(tag == 0x03 && spki.is_empty(), "SPKI: no trailing BIT STRING");
    let (&unused, key) = bits.split_first().expect("SPKI: empty BIT STRING");
    assert_eq!(unused, 0, "SPKI: BIT STRING with unused bits");
    (algorithm, key)
}

// ---- tampering ----

/// The token with one bit of its decoded signature flipped (re-encoded canonically).
#[track_caller]
pub(crate) fn flip_signature_bit(token: &str) -> String {
    let (signed, signature) = token.rsplit_once('.').expect("token has no signature segment");
    let mut sig = b64url_decode(signature).expect("signature is canonical base64url");
    let last = sig.last_mut().expect("signature is not empty");
    *last ^= 0x01;
    format!("{signed}.{}", b64url(&sig))
}

/// The token with one character of its payload segment changed to another
/// base64url character (or, for an empty payload, one byte added).
#[track_caller]
pub(crate) fn flip_payload_char(token: &str) -> String {
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    assert_eq!(parts.len(), 3, "not a compact JWS");
    let payload = &mut parts[1];
    if payload.is_empty() {
        payload.push_str("AA");
    } else {
        // The first character of a quad only carries high bits: the result
        // stays canonical base64url and decodes to different bytes.
        let replacement = if payload.starts_with('A') { "B" } else { "A" };
        payload.replace_range(..1, replacement);
    }
    parts.join(".")
}

// ---- verification and assertions ----

/// Verifies a compact JWS (payload not interpreted) with `Policy::new()`;
/// returns the verified payload.
pub(crate) fn verify_jws(keys: &[VerifyingKey], token: &str) -> Result<Vec<u8>, Error> {
    let mut buf = vec![0u8; jwtv::DEFAULT_BUFFER_LEN];
    Verifier::new(keys, Policy::new()).verify_jws(token, &mut buf).map(|v| v.payload().to_vec())
}

/// Asserts that `result` is exactly the error `want`.
#[track_caller]
pub(crate) fn assert_err<T: Debug>(result: Result<T, Error>, want: Error, what: &str) {
    match result {
        Err(got) => assert_eq!(got, want, "{what}: wrong error ({got})"),
        Ok(v) => panic!("{what}: accepted ({v:?}), expected {want}"),
    }
}

/// Asserts that a token that verifies with `keys` stops verifying when one
/// signature bit or one payload character is changed: `bad_signature` both times.
#[track_caller]
pub(crate) fn assert_tamper_fails(keys: &[VerifyingKey], token: &str, what: &str) {
    assert_err(verify_jws(keys, &flip_signature_bit(token)), Error::BadSignature, &format!("{what}, signature bit"));
    assert_err(verify_jws(keys, &flip_payload_char(token)), Error::BadSignature, &format!("{what}, payload char"));
}
