//! docs/METRICS.md names every metric the verifier exports.

#![allow(clippy::std_instead_of_alloc, clippy::std_instead_of_core, reason = "a test harness on std")]

use std::path::Path;

use jwtv::{Algorithm, AlgorithmSet};
use jwtv_gateway::{Policy, Verifier};
use jwtv_jwks::{KeySet, KeySource};

#[test]
fn every_exported_metric_is_documented() {
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/METRICS.md")).expect("doc");
    let revoked = std::env::temp_dir().join(format!("jwtv-metrics-doc-{}.json", std::process::id()));
    std::fs::write(&revoked, r#"{"jti":{"a":4102444800}}"#).expect("write");
    let policy =
        Policy::new(AlgorithmSet::of(&[Algorithm::ES256])).with_revocations_source(revoked.to_str().expect("path"));
    let revocations = policy.revocations().expect("list").expect("a list");
    let verifier =
        Verifier::new(KeySource::fixed(KeySet::default()), policy).expect("verifier").with_revocations(revocations);
    let mut snapshot = verifier.metrics();
    snapshot.keys.server_skew_ms = Some(1);
    snapshot.keys.age_secs = Some(1);
    let text = snapshot.to_prometheus() + &verifier.metrics_prometheus();
    let names: Vec<&str> = text.lines().filter_map(|line| line.strip_prefix("# TYPE ")?.split(' ').next()).collect();
    assert!(names.len() > 20, "{names:?}");
    for name in names {
        assert!(doc.contains(&format!("`{name}`")), "docs/METRICS.md does not name {name}");
    }
    let _ = std::fs::remove_file(&revoked);
}

#[test]
fn a_named_policy_labels_every_sample_and_bad_names_are_refused() {
    let policy = Policy::from_json(
        br#"{"name":"orders-api","keys":{"jwks_file":"jwks.json"},"algorithms":["ES256"]}"#,
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples"),
    )
    .expect("policy");
    let text = policy.verifier().expect("verifier").metrics_prometheus();
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        assert!(line.contains("{policy=\"orders-api\""), "{line}");
    }
    for bad in ["", "orders api", "a\"b", &"x".repeat(65)] {
        let doc = serde_json::json!({"name": bad, "keys": {"jwks_file": "jwks.json"}, "algorithms": ["ES256"]});
        let err = Policy::from_json(doc.to_string().as_bytes(), ".").expect_err(bad);
        assert_eq!(err.field(), "name", "{bad}: {err}");
    }
}
