//! nst/JSONTestSuite (commit 1ef36fa, MIT: see `vectors/JSONTestSuite/LICENSE`)
//! run through the core's strict JSON reader.
//!
//! Every `y_` file is accepted by [`jwtv::json::validate`], every `n_` file is
//! rejected (deep nesting included, without a stack overflow), and every `i_`
//! file has its decision written down in [`IMPLEMENTATION_DEFINED`].

use std::path::{Path, PathBuf};

use jwtv::json;

/// What the reader must do with a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expect {
    Accept,
    Reject,
}
use Expect::{Accept, Reject};

/// The decision for each implementation-defined (`i_`) file, and why.
///
/// A token verifier reads header and claims that an attacker wrote: anything
/// two JSON parsers could read differently is rejected. So are documents that
/// are not UTF-8 (RFC 8259 §8.1 requires UTF-8 between systems; RFC 7515 §5.2
/// decodes the header as UTF-8). Numbers are only checked against the
/// grammar: a huge number is valid JSON, and whether it fits a NumericDate is
/// decided later, by the claim checks (`bad_claim`).
const IMPLEMENTATION_DEFINED: &[(&str, Expect, &str)] = &[
    // Numbers: grammatically valid; range is the claim layer's business.
    ("i_number_double_huge_neg_exp.json", Accept, "valid grammar (123.456e-789)"),
    ("i_number_huge_exp.json", Accept, "valid grammar (0.4e00669999…)"),
    ("i_number_neg_int_huge_exp.json", Accept, "valid grammar (-1e+9999)"),
    ("i_number_pos_double_huge_exp.json", Accept, "valid grammar (1.5e+9999)"),
    ("i_number_real_neg_overflow.json", Accept, "valid grammar (-123123e100000)"),
    ("i_number_real_pos_overflow.json", Accept, "valid grammar (123123e100000)"),
    ("i_number_real_underflow.json", Accept, "valid grammar (123e-10000000)"),
    ("i_number_too_big_neg_int.json", Accept, "valid grammar (a 30-digit negative integer)"),
    ("i_number_too_big_pos_int.json", Accept, "valid grammar (100000000000000000000)"),
    ("i_number_very_big_negative_int.json", Accept, "valid grammar (a huge negative integer)"),
    // Escaped surrogates that do not form a pair: no Unicode string to compare.
    ("i_object_key_lone_2nd_surrogate.json", Reject, "lone low surrogate \\uDFAA in a member name"),
    ("i_string_1st_surrogate_but_2nd_missing.json", Reject, "lone high surrogate \\uDADA"),
    ("i_string_1st_valid_surrogate_2nd_invalid.json", Reject, "high surrogate followed by \\u1234"),
    ("i_string_incomplete_surrogate_and_escape_valid.json", Reject, "high surrogate followed by \\n"),
    ("i_string_incomplete_surrogate_pair.json", Reject, "high surrogate followed by plain text"),
    ("i_string_incomplete_surrogates_escape_valid.json", Reject, "two high surrogates"),
    ("i_string_invalid_lonely_surrogate.json", Reject, "lone high surrogate \\ud800"),
    ("i_string_invalid_surrogate.json", Reject, "high surrogate followed by plain text"),
    ("i_string_inverted_surrogates_U+1D11E.json", Reject, "low surrogate before high surrogate"),
    ("i_string_lone_second_surrogate.json", Reject, "lone low surrogate \\uDFAA"),
    // Not UTF-8: the whole document must be valid UTF-8.
    ("i_string_UTF-16LE_with_BOM.json", Reject, "UTF-16LE with a byte order mark"),
    ("i_string_UTF-8_invalid_sequence.json", Reject, "invalid UTF-8 sequence"),
    ("i_string_UTF8_surrogate_U+D800.json", Reject, "UTF-8-encoded surrogate (CESU-style) is not UTF-8"),
    ("i_string_invalid_utf-8.json", Reject, "0xFF is never UTF-8"),
    ("i_string_iso_latin_1.json", Reject, "ISO-8859-1 byte 0xE9"),
    ("i_string_lone_utf8_continuation_byte.json", Reject, "lone continuation byte 0x81"),
    ("i_string_not_in_unicode_range.json", Reject, "code point above U+10FFFF"),
    ("i_string_overlong_sequence_2_bytes.json", Reject, "overlong encoding"),
    ("i_string_overlong_sequence_6_bytes.json", Reject, "6-byte sequence"),
    ("i_string_overlong_sequence_6_bytes_null.json", Reject, "overlong NUL"),
    ("i_string_truncated-utf-8.json", Reject, "truncated UTF-8 sequence"),
    ("i_string_utf16BE_no_BOM.json", Reject, "UTF-16BE"),
    ("i_string_utf16LE_no_BOM.json", Reject, "UTF-16LE"),
    ("i_structure_UTF-8_BOM_empty_object.json", Reject, "a byte order mark is not JSON whitespace (RFC 8259 §8.1)"),
    // Structure: nesting is bounded (json::MAX_DEPTH = 32 levels).
    ("i_structure_500_nested_arrays.json", Reject, "500 levels exceed json::MAX_DEPTH"),
];

fn suite_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/JSONTestSuite/test_parsing")
}

/// Every file of the suite as (name, contents), sorted by name.
fn suite() -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<_> = std::fs::read_dir(suite_dir())
        .expect("the JSONTestSuite copy")
        .map(|entry| {
            let path = entry.expect("a directory entry").path();
            let name = path.file_name().and_then(|n| n.to_str()).expect("a UTF-8 file name").to_owned();
            let bytes = std::fs::read(&path).expect("a readable vector");
            (name, bytes)
        })
        .collect();
    files.sort();
    files
}

fn files_with_prefix(prefix: &str) -> Vec<(String, Vec<u8>)> {
    suite().into_iter().filter(|(name, _)| name.starts_with(prefix)).collect()
}

/// The decision recorded for an `i_` file.
fn decision(name: &str) -> Option<Expect> {
    IMPLEMENTATION_DEFINED.iter().find(|(file, _, _)| *file == name).map(|(_, expect, _)| *expect)
}

#[track_caller]
fn assert_validate(name: &str, bytes: &[u8], expect: Expect) {
    let got = json::validate(bytes);
    match expect {
        Accept => assert_eq!(got, Ok(()), "{name} must be accepted"),
        Reject => assert_eq!(got, Err(json::InvalidJson), "{name} must be rejected"),
    }
}

#[test]
fn the_suite_has_318_files_and_each_is_y_n_or_i() {
    let files = suite();
    assert_eq!(files.len(), 318);
    let count = |p: &str| files.iter().filter(|(n, _)| n.starts_with(p)).count();
    assert_eq!((count("y_"), count("n_"), count("i_")), (95, 188, 35));
    assert!(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/JSONTestSuite/LICENSE").is_file());
}

#[test]
fn every_y_file_is_accepted() {
    let files = files_with_prefix("y_");
    assert!(!files.is_empty());
    for (name, bytes) in &files {
        assert_validate(name, bytes, Accept);
    }
}

#[test]
fn every_n_file_is_rejected() {
    let files = files_with_prefix("n_");
    assert!(!files.is_empty());
    for (name, bytes) in &files {
        assert_validate(name, bytes, Reject);
    }
}

#[test]
fn deep_nesting_is_rejected_without_overflowing_the_stack() {
    for name in ["n_structure_100000_opening_arrays.json", "n_structure_open_array_object.json"] {
        let bytes = std::fs::read(suite_dir().join(name)).expect("the vector");
        assert!(bytes.len() > 50_000, "{name} is the deep one");
        assert_validate(name, &bytes, Reject);
        assert_eq!(json::parse_object(&bytes, |_, _| ()), Err(json::InvalidJson), "{name}");
    }
}

#[test]
fn every_i_file_has_a_recorded_decision_and_meets_it() {
    let files = files_with_prefix("i_");
    assert_eq!(files.len(), IMPLEMENTATION_DEFINED.len(), "one decision per i_ file");
    for (name, bytes) in &files {
        let expect = decision(name).unwrap_or_else(|| panic!("no recorded decision for {name}"));
        assert_validate(name, bytes, expect);
    }
    for (file, _, why) in IMPLEMENTATION_DEFINED {
        assert!(files.iter().any(|(name, _)| name == file), "{file} is not in the suite");
        assert!(!why.is_empty());
    }
}

/// `parse_object` (the header and claims reader) agrees with `validate` on
/// every top-level object of the suite, except that it also rejects
/// duplicate member names, which are valid JSON.
#[test]
fn duplicated_keys_are_valid_json_but_not_a_valid_header_or_claims_set() {
    for name in ["y_object_duplicated_key.json", "y_object_duplicated_key_and_value.json"] {
        let bytes = std::fs::read(suite_dir().join(name)).expect("the vector");
        assert_eq!(json::validate(&bytes), Ok(()), "{name}: valid JSON");
        assert_eq!(json::parse_object(&bytes, |_, _| ()), Err(json::InvalidJson), "{name}: duplicate names");
    }
}

#[test]
fn parse_object_agrees_with_validate_on_every_top_level_object() {
    let mut objects = 0;
    for (name, bytes) in suite() {
        let expected = match name.get(..2) {
            Some("y_") => Accept,
            Some("i_") => decision(&name).expect("a recorded decision"),
            _ => Reject,
        };
        let is_object = bytes.iter().find(|b| !b" \t\r\n".contains(b)) == Some(&b'{');
        let duplicated = name.starts_with("y_object_duplicated_key");
        let want = if is_object && expected == Accept && !duplicated {
            objects += 1;
            Ok(())
        } else {
            Err(json::InvalidJson)
        };
        assert_eq!(json::parse_object(&bytes, |_, _| ()), want, "{name}");
    }
    assert!(objects >= 10, "the suite's accepted objects were exercised ({objects})");
}
