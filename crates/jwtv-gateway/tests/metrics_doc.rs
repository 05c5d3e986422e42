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
    let text = snapshot.to_prometheus();
    let names: Vec<&str> = text.lines().filter_map(|line| line.strip_prefix("# TYPE ")?.split(' ').next()).collect();
    assert!(names.len() > 20, "{names:?}");
    for name in names {
        assert!(doc.contains(&format!("`{name}`")), "docs/METRICS.md does not name {name}");
    }
    let _ = std::fs::remove_file(&revoked);
}
