//! Project Wycheproof's JWK suite: all 26 cases, one by one, through
//! `KeySet::parse` and jwtv's verifier.
//!
//! Each group's key set is its `public` set (or `private` where the group has
//! only that, as for `oct` keys), read with default options. Every case must
//! end exactly as its label says, and every rejection must come from the
//! expected key-set rule: the table below names, per case, the outcome and the
//! skip reason of the key the token names.

#![allow(clippy::std_instead_of_alloc, clippy::std_instead_of_core, reason = "a test harness on std")]

use jwtv::{DEFAULT_BUFFER_LEN, ErrorCode, Policy};
use jwtv_jwks::{KeySet, KeySetOptions, SkipReason};
use serde_json::Value;

const SUITE: &str = include_str!("vectors/wycheproof/json_web_key_test.json");

/// (tcId, expected error, skip reason of the token's key). `None` error: accepted.
const EXPECTED: [(u64, Option<ErrorCode>, Option<SkipReason>); 26] = [
    (1, Some(ErrorCode::KeyNotFound), Some(SkipReason::MixedKeySet)),
    (2, None, None),
    (3, Some(ErrorCode::BadSignature), None),
    (4, Some(ErrorCode::KeyNotFound), Some(SkipReason::DuplicateKid)),
    (5, None, None),
    (6, Some(ErrorCode::KeyNotFound), Some(SkipReason::NotForSignatures)),
    (7, Some(ErrorCode::KeyNotFound), Some(SkipReason::RocaVulnerable)),
    // 8 and 9 have an empty payload segment, which the core refuses before it
    // looks for a key; the key set skips their keys all the same.
    (8, Some(ErrorCode::Malformed), Some(SkipReason::WeakKey)),
    (9, Some(ErrorCode::Malformed), Some(SkipReason::InvalidKey)),
    (10, Some(ErrorCode::KeyNotFound), Some(SkipReason::WeakKey)),
    (11, Some(ErrorCode::KeyNotFound), Some(SkipReason::WeakKey)),
    (12, Some(ErrorCode::KeyNotFound), Some(SkipReason::WeakKey)),
    (13, None, None),
    (14, None, None),
    (15, None, None),
    (16, Some(ErrorCode::KeyNotFound), Some(SkipReason::WeakKey)),
    (17, Some(ErrorCode::KeyNotFound), Some(SkipReason::WeakKey)),
    (18, Some(ErrorCode::KeyNotFound), Some(SkipReason::WeakKey)),
    (19, Some(ErrorCode::KeyNotFound), Some(SkipReason::UnsupportedAlgorithm)),
    (20, Some(ErrorCode::KeyNotFound), Some(SkipReason::UnsupportedAlgorithm)),
    (21, Some(ErrorCode::KeyNotFound), Some(SkipReason::NotForSignatures)),
    (22, Some(ErrorCode::KeyNotFound), Some(SkipReason::OffCurve)),
    (23, Some(ErrorCode::KeyNotFound), Some(SkipReason::AlgorithmMismatch)),
    (24, Some(ErrorCode::KeyNotFound), Some(SkipReason::AlgorithmMismatch)),
    (25, Some(ErrorCode::KeyNotFound), Some(SkipReason::UnsupportedAlgorithm)),
    (26, Some(ErrorCode::KeyNotFound), Some(SkipReason::UnsupportedAlgorithm)),
];

#[test]
fn every_case_ends_as_labelled_for_the_expected_reason() {
    let suite: Value = serde_json::from_str(SUITE).expect("suite JSON");
    assert_eq!(suite["numberOfTests"], 26);
    let mut seen = 0;
    for group in suite["testGroups"].as_array().expect("groups") {
        let set_json = group.get("public").unwrap_or(&group["private"]);
        let set = KeySet::parse(set_json.to_string().as_bytes(), &KeySetOptions::default()).expect("readable set");
        for case in group["tests"].as_array().expect("tests") {
            let tc_id = case["tcId"].as_u64().expect("tcId");
            let &(_, want_error, want_skip) =
                EXPECTED.iter().find(|(id, _, _)| *id == tc_id).unwrap_or_else(|| panic!("tcId {tc_id} not in table"));
            let jws = case["jws"].as_str().expect("jws");
            let mut buf = [0u8; DEFAULT_BUFFER_LEN];
            let got = set.verifier(Policy::new()).verify_jws(jws, &mut buf).err().map(ErrorCode::from);
            assert_eq!(got, want_error, "tcId {tc_id} ({}): verification", case["comment"]);
            let label_valid = case["result"] == "valid";
            assert_eq!(got.is_none(), label_valid, "tcId {tc_id}: label");

            // The token's key (by kid) was skipped for the expected reason.
            let kid = token_kid(jws);
            let reasons: Vec<_> =
                set.entries().iter().filter(|info| info.kid == kid).filter_map(|info| info.skip_reason()).collect();
            match want_skip {
                Some(reason) => assert!(reasons.contains(&reason), "tcId {tc_id}: want {reason:?}, got {reasons:?}"),
                None => assert!(reasons.is_empty(), "tcId {tc_id}: unexpected skips {reasons:?}"),
            }
            seen += 1;
        }
    }
    assert_eq!(seen, 26);
}

fn token_kid(jws: &str) -> Option<String> {
    use base64ct::{Base64UrlUnpadded, Encoding as _};
    let header = jws.split('.').next()?;
    let json: Value = serde_json::from_slice(&Base64UrlUnpadded::decode_vec(header).ok()?).ok()?;
    json["kid"].as_str().map(str::to_owned)
}
