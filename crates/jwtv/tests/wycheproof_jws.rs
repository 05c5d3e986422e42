//! Project Wycheproof's JOSE signature suite: all 401 cases, one by one,
//! through `Verifier::verify_jws` with `Policy::new()`.
//!
//! Each group's key is its JWK (`public`, or `private` for `oct` keys) bound to
//! the JWK's own `alg` (`common::key_from_jwk`). A JWK that cannot become a key
//! (P-521, `use: enc`, `key_ops` without `verify`) leaves the verifier with no
//! key, and the case must be rejected. The payloads are not claims sets
//! (`"foo"`, `"Test"`, raw bytes), hence `verify_jws`.
//!
//! Every case must end exactly as its label says — accepted, or rejected with
//! the error code of its category (`expected_rejection`) — unless it is in
//! [`OVERRIDES`], the one list of deliberate differences. Every accepted case
//! is also tampered (one signature bit, one payload character) and must fail.

#![allow(clippy::std_instead_of_alloc, reason = "a test harness on std")]

mod common;

use std::collections::BTreeSet;

use common::{JwkRefusal, assert_err, assert_tamper_fails, b64url_decode, key_from_jwk, key_from_jwk_as, verify_jws};
use jwtv::{Algorithm, Error, Part, VerifyingKey};
use serde::Deserialize;
use serde_json::Value;

const SUITE: &str = include_str!("vectors/wycheproof/json_web_signature_test.json");

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Suite {
    number_of_tests: usize,
    test_groups: Vec<Group>,
}

#[derive(Deserialize)]
struct Group {
    comment: String,
    public: Option<Value>,
    private: Option<Value>,
    tests: Vec<Case>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Case {
    tc_id: u32,
    comment: String,
    jws: String,
    /// This file labels every case `valid` or `invalid` (no `acceptable`):
    /// any other label fails deserialization.
    result: Label,
    flags: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Label {
    Valid,
    Invalid,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    Accept,
    Reject(Error),
}

use Outcome::{Accept, Reject};

/// Every case where jwtv deliberately ends differently from the Wycheproof
/// label: tcId, jwtv's outcome, and why. Nothing else may differ.
const OVERRIDES: &[(u32, Outcome, &str)] = &[
    // Label errors in the suite.
    (367, Accept, "labelled invalid (invalidBase64Padding), but byte-identical to the valid tcId 357"),
    (370, Accept, "labelled invalid (invalidBase64PaddingInPayload), but byte-identical to the valid tcId 357"),
    (
        372,
        Reject(Error::Malformed(Part::Header)),
        "labelled valid, but the header segment holds '?', which is not base64url (and the MAC does not match)",
    ),
    (373, Reject(Error::BadSignature), "labelled valid, but the MAC does not match the signing input with the '?'"),
    // Empty payload segment. RFC 7515 allows an empty payload, but jwtv's
    // documented structure rule is three non-empty segments (`Verifier`, step 2):
    // an empty middle segment is also the shape of detached content (RFC 7515
    // App. F), which jwtv does not support, so it is refused as malformed.
    (259, Reject(Error::Malformed(Part::Token)), "RS256 emptyPayload: three non-empty segments required"),
    (264, Reject(Error::Malformed(Part::Token)), "RS384 emptyPayload: three non-empty segments required"),
    (268, Reject(Error::Malformed(Part::Token)), "RS512 emptyPayload: three non-empty segments required"),
    (272, Reject(Error::Malformed(Part::Token)), "PS256 emptyPayload: three non-empty segments required"),
    (320, Reject(Error::Malformed(Part::Token)), "PS384 emptyPayload: three non-empty segments required"),
    (325, Reject(Error::Malformed(Part::Token)), "PS512 emptyPayload: three non-empty segments required"),
    // RFC 7520 figures under strict key binding.
    (
        346,
        Reject(Error::AlgNotAllowed),
        "RFC 7520 Figure 20: the key is bound to PS256, the token says PS384 (see `rfc7520_figure_20_signature_itself`)",
    ),
    (350, Reject(Error::AlgNotAllowed), "RFC 7520 Figure 20 with key_ops: key PS256, token PS384"),
    (
        347,
        FIGURE_27,
        "RFC 7520 Figure 27: its JWK says alg \"ES521\" (an erratum), so it cannot become a key; with ring, \
         ES512 (P-521) itself is unsupported",
    ),
    (351, FIGURE_27, "RFC 7520 Figure 27 with key_ops: no key (alg \"ES521\"), and ES512 needs aws-lc"),
];

/// RFC 7520 Figure 27 (ES512) has no key: with ring the token's algorithm is
/// unsupported; with aws-lc it is supported and no key matches.
const FIGURE_27: Outcome =
    if cfg!(feature = "aws-lc") { Reject(Error::KeyNotFound) } else { Reject(Error::UnsupportedAlg) };

/// The JWKs that must not become keys, by the tcId of their group's first case.
fn expected_refusal(first_tc_id: u32) -> Option<JwkRefusal> {
    match first_tc_id {
        // RFC 7520 Figure 27's P-521 key, "alg": "ES521".
        347 | 351 => Some(JwkRefusal::UnsupportedAlg("ES521".to_owned())),
        // "use": "enc".
        353 | 354 => Some(JwkRefusal::NotForSignatures),
        // "key_ops": ["encrypt"].
        355 | 356 => Some(JwkRefusal::NoVerifyOp),
        _ => None,
    }
}

/// Invalid cases rejected as malformed, by their comment, and the part named.
const MALFORMED: &[(&str, Part)] = &[
    // Not three non-empty dot-separated segments.
    ("rejectsMissingSignature", Part::Token),
    ("rejectsMissingSignatureAndSeparator", Part::Token),
    ("rejectsMissingPayload", Part::Token),
    ("rejectsMissingPayloadAndSeparator", Part::Token),
    ("rejectsMissingHeader", Part::Token),
    ("rejectsMissingHeaderAndSeparator", Part::Token),
    ("rejectsMissingHeaderAndSignature", Part::Token),
    ("rejectsMissingHeaderSignatureAndSeparator", Part::Token),
    ("rejectsMissingHeaderSignatureAndSeparators", Part::Token),
    ("rejectsEmptyString", Part::Token),
    ("rejectsExtraEmptyComponent", Part::Token),
    ("rejectsExtraComponent", Part::Token),
    ("rejectsValidJsonSerialization", Part::Token),
    // `none` tokens carry an empty signature segment; with one they are
    // `unsupported_alg` (`alg_none_is_unsupported_with_any_signature`).
    ("rejectsNoneAlgorithmAndMissingSignature", Part::Token),
    ("algIsNone", Part::Token),
    // Not canonical base64url.
    ("rejectsSpacesInMac", Part::Signature),
    ("rejectsInvalidCharacterInsertedInMac", Part::Signature),
    ("rejects0ReplacedbyInvalidCharacter", Part::Signature),
    ("rejectsInvalidCharacters", Part::Signature),
    ("spacesInHeader", Part::Header),
    ("invalidCharactersInHeader", Part::Header),
    ("spacesInPayload", Part::Payload),
    ("invalidCharactersInPayload", Part::Payload),
    ("InvalidCharacterInPayload", Part::Payload),
    // The MAC is right, but the payload "AB" has non-zero unused bits.
    ("MacOfIncorrectlyEncodedMessage", Part::Payload),
];

/// The header's `alg`, when the header decodes and names a supported algorithm.
fn token_alg(jws: &str) -> Option<Algorithm> {
    let header = b64url_decode(jws.split('.').next()?)?;
    let header: Value = serde_json::from_slice(&header).ok()?;
    Algorithm::from_name(header.get("alg")?.as_str()?)
}

/// The exact error an invalid case is rejected with, by category.
fn expected_rejection(case: &Case, key: &Result<VerifyingKey, JwkRefusal>) -> Error {
    if let Some((_, part)) = MALFORMED.iter().find(|(comment, _)| *comment == case.comment) {
        return Error::Malformed(*part);
    }
    match key {
        // The kid was changed ("Xid-..."): no key carries it.
        _ if case.comment == "rejectsModifiedHeader" => Error::KeyNotFound,
        // The JWK was refused: there is no key at all.
        Err(_) => Error::KeyNotFound,
        // Algorithm confusion (HS256 with an EC key, RS256 with a PS512 key, ...):
        // the header's alg is not the key's pinned alg.
        Ok(key) if token_alg(&case.jws).is_some_and(|alg| alg != key.algorithm()) => Error::AlgNotAllowed,
        // Everything else reaches the signature check and fails it: modified
        // signatures and payloads, PKCS#1 padding and DigestInfo mutations, PSS
        // edge cases, ECDSA r, s in {0, 1, n-1, n}, an attacker's embedded jwk.
        Ok(_) => Error::BadSignature,
    }
}

fn override_for(tc_id: u32) -> Option<(Outcome, &'static str)> {
    OVERRIDES.iter().find(|(id, _, _)| *id == tc_id).map(|(_, outcome, why)| (*outcome, *why))
}

fn suite() -> Suite {
    let suite: Suite = serde_json::from_str(SUITE).expect("the Wycheproof JWS file parses");
    let cases: usize = suite.test_groups.iter().map(|g| g.tests.len()).sum();
    assert_eq!(suite.number_of_tests, cases, "numberOfTests matches the cases present");
    suite
}

fn group_key(group: &Group) -> Result<VerifyingKey, JwkRefusal> {
    let jwk = group.public.as_ref().or(group.private.as_ref()).expect("every group has a key");
    key_from_jwk(jwk)
}

#[test]
fn every_case_ends_as_labelled_or_as_overridden() {
    let suite = suite();
    let (mut run, mut accepted, mut rejected, mut tampered) = (0usize, 0usize, 0usize, 0usize);
    let mut overridden = BTreeSet::new();
    let mut refused_keys = 0usize;
    let mut failures = Vec::new();

    for group in &suite.test_groups {
        let first = group.tests.first().expect("groups are not empty").tc_id;
        let key = group_key(group);
        match (&key, expected_refusal(first)) {
            (Ok(_), None) => {}
            (Err(got), Some(want)) => {
                assert_eq!(*got, want, "group {} (first tcId {first}): refused for the wrong reason", group.comment);
                refused_keys += 1;
            }
            (got, want) => {
                panic!("group {} (first tcId {first}): key {got:?}, expected refusal {want:?}", group.comment)
            }
        }
        let keys: Vec<VerifyingKey> = key.iter().cloned().collect();

        for case in &group.tests {
            run += 1;
            let labelled = match case.result {
                Label::Valid => Accept,
                Label::Invalid => Reject(expected_rejection(case, &key)),
            };
            let want = match override_for(case.tc_id) {
                Some((outcome, why)) => {
                    assert_ne!(
                        matches!(outcome, Accept),
                        case.result == Label::Valid,
                        "override for tcId {} does not differ from its label: {why}",
                        case.tc_id
                    );
                    overridden.insert(case.tc_id);
                    outcome
                }
                None => labelled,
            };
            match (want, verify_jws(&keys, &case.jws)) {
                (Accept, Ok(_)) => {
                    accepted += 1;
                    assert_tamper_fails(&keys, &case.jws, &format!("tcId {} tampered", case.tc_id));
                    tampered += 1;
                }
                (Reject(want), Err(got)) if got == want => rejected += 1,
                (want, got) => failures.push(format!(
                    "tcId {} ({}, {:?}, flags {:?}): expected {want:?}, got {got:?}",
                    case.tc_id, case.comment, case.result, case.flags
                )),
            }
        }
    }

    assert!(failures.is_empty(), "{} of {run} cases failed:\n{}", failures.len(), failures.join("\n"));
    let unused: Vec<u32> = OVERRIDES.iter().map(|(id, _, _)| *id).filter(|id| !overridden.contains(id)).collect();
    assert!(unused.is_empty(), "overrides for tcIds not in the suite: {unused:?}");
    println!(
        "wycheproof JWS: {run} cases run, {accepted} accepted (each tampered twice, all rejected), \
         {rejected} rejected, {} overridden, {refused_keys} group keys refused",
        overridden.len()
    );
    assert_eq!(run, 401);
    assert_eq!(overridden.len(), OVERRIDES.len());
    assert_eq!(tampered, accepted);
    assert_eq!(accepted + rejected, run);
    assert_eq!((accepted, rejected), (36, 365), "accepted/rejected split");
}

/// The Wycheproof `none` tokens carry an empty signature segment and so fail
/// the structure check first; given any signature they are `unsupported_alg`.
#[test]
fn alg_none_is_unsupported_with_any_signature() {
    let suite = suite();
    let mut seen = 0;
    for group in &suite.test_groups {
        let keys: Vec<VerifyingKey> = group_key(group).into_iter().collect();
        for case in group.tests.iter().filter(|c| c.jws.ends_with('.')) {
            let Some(header) = case.jws.split('.').next().and_then(b64url_decode) else { continue };
            let Ok(header) = serde_json::from_slice::<Value>(&header) else { continue };
            if !header["alg"].as_str().is_some_and(|alg| alg.eq_ignore_ascii_case("none")) {
                continue;
            }
            seen += 1;
            for signature in ["AAAA", "c2lnbmF0dXJl"] {
                let token = format!("{}{signature}", case.jws);
                assert_err(verify_jws(&keys, &token), Error::UnsupportedAlg, &format!("tcId {} + sig", case.tc_id));
            }
        }
    }
    assert_eq!(seen, 5, "tcIds 16, 341, 342, 343, 344");
}

/// RFC 7520 Figure 20 is rejected under strict binding (its key says PS256,
/// the token PS384). This test's point is the signature itself: the same key
/// material, bound to PS384 on purpose, verifies it — and only that.
#[test]
fn rfc7520_figure_20_signature_itself() {
    let suite = suite();
    let mut seen = 0;
    for group in &suite.test_groups {
        for case in group.tests.iter().filter(|c| c.comment == "Figure20") {
            seen += 1;
            let jwk = group.public.as_ref().expect("RSA public key");
            assert_eq!(jwk["alg"], "PS256");
            let bound = [key_from_jwk(jwk).expect("PS256 key")];
            assert_err(verify_jws(&bound, &case.jws), Error::AlgNotAllowed, "bound to its JWK alg");
            let as_ps384 = [key_from_jwk_as(jwk, Algorithm::PS384).expect("PS384 key")];
            let payload = verify_jws(&as_ps384, &case.jws).expect("the Figure 20 signature is a valid PS384 signature");
            assert!(payload.starts_with("It\u{2019}s a dangerous business, Frodo".as_bytes()));
            assert_tamper_fails(&as_ps384, &case.jws, "Figure 20 as PS384");
        }
    }
    assert_eq!(seen, 2, "tcIds 346 and 350");
}

/// RFC 7520 Figure 27 under aws-lc: its P-521 key, bound to ES512 (not the
/// JWK's misspelt "ES521"), verifies the signature — and only that.
#[cfg(feature = "aws-lc")]
#[test]
fn rfc7520_figure_27_signature_itself_with_aws_lc() {
    let suite = suite();
    let mut seen = 0;
    for group in &suite.test_groups {
        for case in group.tests.iter().filter(|c| c.comment == "Figure27") {
            seen += 1;
            let jwk = group.public.as_ref().expect("EC public key");
            assert_eq!((jwk["alg"].as_str(), jwk["crv"].as_str()), (Some("ES521"), Some("P-521")));
            let as_es512 = [key_from_jwk_as(jwk, Algorithm::ES512).expect("ES512 key")];
            let payload = verify_jws(&as_es512, &case.jws).expect("the Figure 27 signature is a valid ES512 signature");
            assert!(payload.starts_with("It\u{2019}s a dangerous business, Frodo".as_bytes()));
            assert_tamper_fails(&as_es512, &case.jws, "Figure 27 as ES512");
        }
    }
    assert_eq!(seen, 2, "tcIds 347 and 351");
}

/// The order n of P-256, big-endian.
const P256_N: [u8; 32] = [
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xbc, 0xe6, 0xfa,
    0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
];

/// n - s for 0 < s < n, big-endian.
fn p256_negate(s: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8; 32];
    let mut borrow = 0u16;
    for i in (0..32).rev() {
        let d = u16::from(P256_N[i]).wrapping_sub(u16::from(s[i])).wrapping_sub(borrow);
        out[i] = d.to_le_bytes()[0];
        borrow = u16::from(d > 0xff);
    }
    assert_eq!(borrow, 0, "s < n");
    out
}

/// ECDSA signatures are malleable: (r, n - s) verifies whenever (r, s) does,
/// and JWS has no low-S rule, so both forms of each valid ES256 case verify.
#[test]
fn es256_high_and_low_s_are_both_accepted() {
    let suite = suite();
    let mut seen = 0;
    for group in &suite.test_groups {
        let Ok(key) = group_key(group) else { continue };
        if key.algorithm() != Algorithm::ES256 {
            continue;
        }
        let keys = [key];
        for case in group.tests.iter().filter(|c| c.result == Label::Valid) {
            let (signed, signature) = case.jws.rsplit_once('.').expect("three segments");
            let mut sig = b64url_decode(signature).expect("canonical signature");
            assert_eq!(sig.len(), 64);
            let negated = p256_negate(&sig[32..]);
            sig[32..].copy_from_slice(&negated);
            let malleated = format!("{signed}.{}", common::b64url(&sig));
            assert_ne!(malleated, case.jws);
            assert_eq!(verify_jws(&keys, &case.jws), verify_jws(&keys, &malleated), "tcId {}", case.tc_id);
            assert!(verify_jws(&keys, &malleated).is_ok(), "tcId {}: (r, n - s) verifies", case.tc_id);
            seen += 1;
        }
    }
    assert_eq!(seen, 2, "tcIds 18 and 378");
}
