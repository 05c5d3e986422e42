//! The command line reaches every field of the policy document: each one is
//! set with `--set PATH=JSON` (and the dedicated flags docs/parity.json
//! names), read by the same strict reader as a policy file, so a wrong value
//! is refused with the field's path.

#![allow(clippy::std_instead_of_alloc, clippy::std_instead_of_core, reason = "a test harness on std")]

mod common;

use common::{NOW, jwtv, root};
use serde_json::Value;

fn parity() -> serde_json::Map<String, Value> {
    let text = std::fs::read_to_string(root().join("docs/parity.json")).expect("docs/parity.json");
    let doc: Value = serde_json::from_str(&text).expect("JSON");
    doc.get("fields").and_then(Value::as_object).cloned().expect("fields")
}

#[test]
fn every_field_is_set_from_the_command_line() {
    let help = jwtv(&["verify", "--help"]).stdout;
    for (path, entry) in parity() {
        let example = entry.get("example").expect("example");
        let flag = entry.get("cli").and_then(Value::as_str).expect("a flag");
        assert!(help.contains(flag), "{path}: `jwtv verify` has no {flag}");

        let mut sets = Vec::new();
        if !path.starts_with("keys.") {
            sets.push(r#"keys.jwks_file="examples/jwks.json""#.to_owned());
        }
        if path.starts_with("revocations.") && path != "revocations.source" {
            sets.push(r#"revocations.source="revoked.json""#.to_owned());
        }
        sets.push(format!("{path}={example}"));
        let mut args = vec!["verify", "examples/tokens/valid-es256.jwt", "--now", NOW];
        for set in &sets {
            args.extend(["--set", set.as_str()]);
        }
        let run = jwtv(&args);
        assert!(!run.stderr.contains("(--set)"), "{path}: {}", run.stderr);

        // The value reached the field: a wrong one is refused with its path.
        if !example.is_object() || path == "required_claim_values" {
            let wrong = format!("{path}=[[\"not\", \"this\"]]");
            let last = args.len() - 1;
            args[last] = wrong.as_str();
            let run = jwtv(&args);
            assert_eq!(run.code, 2, "{path}: {run:?}");
            assert!(run.stderr.contains(path.as_str()) && run.stderr.contains("(--set)"), "{path}: {}", run.stderr);
        }
    }
}
