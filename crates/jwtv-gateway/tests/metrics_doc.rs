//! docs/OBSERVABILITY.md names every metric the verifier exports, every
//! recording rule and alert of deploy/prometheus/jwtv-rules.yml, every panel
//! of deploy/grafana/jwtv.json and every field of the audit events.

#![allow(clippy::std_instead_of_alloc, clippy::std_instead_of_core, reason = "a test harness on std")]

use std::path::{Path, PathBuf};

use jwtv::{Algorithm, AlgorithmSet};
use jwtv_gateway::{Policy, Verifier};
use jwtv_jwks::{KeySet, KeySource};

const DOC: &str = "docs/OBSERVABILITY.md";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The text of the `## {heading}` section of `doc`, up to the next `## `.
fn section<'a>(doc: &'a str, heading: &str) -> &'a str {
    let (_, rest) =
        doc.split_once(&format!("\n## {heading}\n")).unwrap_or_else(|| panic!("{DOC} has no section ## {heading}"));
    rest.split("\n## ").next().unwrap_or_default()
}

/// Whether `section` has a table row whose first cell is `cell`.
fn has_row(section: &str, cell: &str) -> bool {
    section.lines().any(|line| line.starts_with(&format!("| {cell} |")))
}

/// The values of `key: value` items (`- alert: Name`) of a rules file.
fn items<'a>(rules: &'a str, key: &str) -> Vec<&'a str> {
    rules.lines().filter_map(|line| line.trim().strip_prefix(key)).map(str::trim).collect()
}

#[test]
fn every_exported_metric_is_documented() {
    let doc = read(DOC);
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
    let section_metrics = section(&doc, "Metrics");
    for name in names {
        assert!(has_row(section_metrics, &format!("`{name}`")), "{DOC}, Metrics: no row for {name}");
    }
    let _ = std::fs::remove_file(&revoked);
}

#[test]
fn every_alert_and_recording_rule_is_documented() {
    let doc = read(DOC);
    let rules = read("deploy/prometheus/jwtv-rules.yml");
    let alerts = items(&rules, "- alert: ");
    assert!(alerts.len() >= 10, "{alerts:?}");
    let section_alerts = section(&doc, "Alerts");
    for alert in alerts {
        assert!(has_row(section_alerts, &format!("`{alert}`")), "{DOC}, Alerts: no row for {alert}");
    }
    let records = items(&rules, "- record: ");
    assert!(records.len() >= 5, "{records:?}");
    let section_slis = section(&doc, "SLIs and recording rules");
    for record in records {
        assert!(has_row(section_slis, &format!("`{record}`")), "{DOC}, SLIs and recording rules: no row for {record}");
    }
}

#[test]
fn every_dashboard_row_and_panel_is_described() {
    let doc = read(DOC);
    let dashboard: serde_json::Value = serde_json::from_str(&read("deploy/grafana/jwtv.json")).expect("dashboard");
    let section_dashboard = section(&doc, "Dashboard");
    let panels = dashboard["panels"].as_array().expect("panels");
    assert!(panels.len() > 10, "{} panels", panels.len());
    for panel in panels {
        let title = panel["title"].as_str().expect("a title");
        if panel["type"] == "row" {
            let heading = format!("### Row \"{title}\"");
            assert!(section_dashboard.lines().any(|l| l == heading), "{DOC}, Dashboard: no {heading}");
        } else {
            assert!(has_row(section_dashboard, title), "{DOC}, Dashboard: no row for the panel {title}");
        }
    }
}

#[test]
fn every_audit_field_is_documented() {
    let doc = read(DOC);
    let source = read("crates/jwtv-gateway/src/audit.rs");
    // Through `tracing`: the `name = value,` lines of the event.
    let start = source.find("tracing::info!(").expect("the tracing event");
    let end = start + source[start..].find(");").expect("its end");
    let traced: Vec<&str> = source[start..end]
        .lines()
        .filter_map(|line| line.trim().split_once(" = ").map(|(name, _)| name))
        .filter(|name| !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        .collect();
    // Through `log`: the `name={}` words of the message.
    let message = source
        .lines()
        .find_map(|line| line.trim().strip_prefix("\"token rejected "))
        .expect("the log message")
        .split('"')
        .next()
        .unwrap_or_default();
    let logged: Vec<&str> = message.split(' ').filter_map(|word| word.strip_suffix("={}")).collect();
    assert!(traced.len() >= 8, "{traced:?}");
    assert_eq!(traced, logged, "tracing and log carry the same fields");
    let section_audit = section(&doc, "Audit events");
    assert!(section_audit.contains("`jwtv::audit`"), "{DOC}, Audit events: the target");
    for field in traced {
        assert!(has_row(section_audit, &format!("`{field}`")), "{DOC}, Audit events: no row for the field {field}");
    }
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
