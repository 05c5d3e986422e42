//! Every field of the policy document can be set from Rust, from a policy
//! file and from C, and docs/parity.json says how every other host sets it
//! (or why it does not). The schema's fields are enumerated from the schema
//! itself (serde names them when it refuses an unknown one), so a field added
//! to `Policy` without a line in docs/parity.json fails here.

use std::collections::BTreeSet;
use std::ffi::{CStr, CString, c_char};
use std::path::{Path, PathBuf};
use std::ptr;

use crate::policy::{jwtv_policy, jwtv_policy_free, jwtv_policy_new, jwtv_policy_set, jwtv_policy_to_json};
use crate::status::jwtv_status;
use jwtv::{Algorithm, AlgorithmSet};
use jwtv_gateway::Policy;
use serde_json::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn parity() -> serde_json::Map<String, Value> {
    let text = std::fs::read_to_string(root().join("docs/parity.json")).expect("docs/parity.json");
    let doc: Value = serde_json::from_str(&text).expect("JSON");
    doc.get("fields").and_then(Value::as_object).cloned().expect("a `fields` object")
}

/// The field names the schema accepts at `prefix` (an object path, "" for
/// the top), as serde lists them when it refuses an unknown one.
fn names_at(prefix: &str) -> Vec<String> {
    let mut policy = Policy::new(AlgorithmSet::of(&[Algorithm::ES256])).with_revocations_source("revoked.json");
    let path = if prefix.is_empty() { "no-such-field".to_owned() } else { format!("{prefix}.no-such-field") };
    let err = policy.set(&path, "1").expect_err("an unknown field");
    let message = err.message();
    // serde lists the names (`expected one of `a`, `b``), or names the only one (`expected `a``).
    let (_, list) = message
        .split_once("expected one of ")
        .or_else(|| message.split_once("expected "))
        .unwrap_or_else(|| panic!("{path}: {message}"));
    list.split(", ").filter_map(|item| item.split('`').nth(1)).map(str::to_owned).collect()
}

/// Every settable path of the schema: the leaves, with `keys`, `refresh`,
/// `tls` and `revocations` walked into.
fn schema_paths() -> BTreeSet<String> {
    let objects = ["keys", "refresh", "tls", "revocations"];
    let mut paths = BTreeSet::new();
    for name in names_at("") {
        if objects.contains(&name.as_str()) {
            paths.extend(names_at(&name).into_iter().map(|inner| format!("{name}.{inner}")));
        } else {
            paths.insert(name);
        }
    }
    paths
}

/// A policy ready for `path` to be set: `keys.*` start from no key source,
/// everything else from one; `revocations.*` from a list.
fn base_document(path: &str) -> Value {
    let mut doc =
        serde_json::json!({"algorithms": ["ES256", "EdDSA", "HS256"], "revocations": {"source": "revoked.json"}});
    if !path.starts_with("keys.") {
        doc["keys"] = serde_json::json!({"jwks_file": "examples/jwks.json"});
    }
    doc
}

/// The value at a dotted path.
fn at<'a>(doc: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(doc, |here, step| here.get(step))
}

#[test]
fn every_field_of_the_schema_is_in_docs_parity_json_and_nothing_else() {
    let documented: BTreeSet<String> = parity().keys().cloned().collect();
    let schema = schema_paths();
    assert!(schema.len() > 30, "{schema:?}");
    let missing: Vec<_> = schema.difference(&documented).collect();
    let stale: Vec<_> = documented.difference(&schema).collect();
    assert!(missing.is_empty(), "fields of the schema missing from docs/parity.json: {missing:?}");
    assert!(stale.is_empty(), "docs/parity.json names fields the schema does not have: {stale:?}");
}

#[test]
fn every_host_sets_a_field_or_says_why_not() {
    for (path, entry) in parity() {
        assert!(entry.get("example").is_some(), "{path}: an example value");
        let cli = entry.get("cli").and_then(Value::as_str).unwrap_or_default();
        assert!(cli.starts_with("--"), "{path}: a CLI flag (every field has --set)");
        for host in ["go", "nginx"] {
            let offered = entry.get(host).and_then(Value::as_str).is_some_and(|name| !name.is_empty());
            let why = entry.get(format!("why_not_{host}").as_str()).and_then(Value::as_str).unwrap_or_default();
            assert!(offered == why.is_empty(), "{path}: either a {host} name or why_not_{host}, not both");
        }
    }
}

#[test]
fn every_field_is_set_from_rust_and_from_a_policy_file() {
    for (path, entry) in parity() {
        let example = entry.get("example").expect("example");
        // Rust: Policy::set on a policy read from a document.
        let base = base_document(&path);
        let mut policy = Policy::from_json(base.to_string().as_bytes(), root()).unwrap_or_else(|e| {
            // keys.* start without a key source, which a document must name:
            // build that base in code instead.
            assert!(path.starts_with("keys."), "{path}: {e}");
            Policy::new(AlgorithmSet::of(&[Algorithm::ES256, Algorithm::EdDSA, Algorithm::HS256]))
                .with_revocations_source("revoked.json")
        });
        policy.set(&path, &example.to_string()).unwrap_or_else(|e| panic!("Rust {path}: {e}"));
        let written: Value = serde_json::from_str(&policy.to_json()).expect("JSON");
        assert_eq!(at(&written, &path), Some(example), "Rust {path}");

        // A policy file: the same field written in the document.
        let mut doc = base.clone();
        let (parent, leaf) = path.rsplit_once('.').map_or(("", path.as_str()), |(p, l)| (p, l));
        let slot = if parent.is_empty() { &mut doc } else { &mut doc[parent] };
        if parent == "keys" {
            *slot = serde_json::json!({});
            doc["keys"][leaf] = example.clone();
        } else {
            slot[leaf] = example.clone();
        }
        let from_file =
            Policy::from_json(doc.to_string().as_bytes(), root()).unwrap_or_else(|e| panic!("policy file {path}: {e}"));
        let written: Value = serde_json::from_str(&from_file.to_json()).expect("JSON");
        assert_eq!(at(&written, &path), Some(example), "policy file {path}");
    }
}

#[test]
fn every_field_is_set_from_c() {
    let c = |s: &str| CString::new(s).expect("no NUL");
    for (path, entry) in parity() {
        let example = entry.get("example").expect("example");
        let mut policy: *mut jwtv_policy = ptr::null_mut();
        let mut err: [c_char; 512] = [0; 512];
        // SAFETY: a valid out-pointer.
        assert_eq!(unsafe { jwtv_policy_new(&mut policy) }, jwtv_status::JWTV_OK);
        let mut settings = vec![("algorithms".to_owned(), r#"["ES256","EdDSA","HS256"]"#.to_owned())];
        if path.starts_with("revocations.") && path != "revocations.source" {
            settings.push(("revocations.source".to_owned(), r#""revoked.json""#.to_owned()));
        }
        settings.push((path.clone(), example.to_string()));
        for (field, value) in settings {
            let (field_c, value_c) = (c(&field), c(&value));
            // SAFETY: a live policy, NUL-terminated strings, a buffer of err.len() bytes.
            let status =
                unsafe { jwtv_policy_set(policy, field_c.as_ptr(), value_c.as_ptr(), err.as_mut_ptr(), err.len()) };
            // SAFETY: NUL-terminated by the call (or still all zero).
            let message = unsafe { CStr::from_ptr(err.as_ptr()) }.to_string_lossy().into_owned();
            assert_eq!(status, jwtv_status::JWTV_OK, "C {field} = {value}: {message}");
        }
        let mut buf: Vec<c_char> = vec![0; 16 * 1024];
        // SAFETY: a live policy and a buffer of buf.len() bytes.
        let status = unsafe { jwtv_policy_to_json(policy, buf.as_mut_ptr(), buf.len(), ptr::null_mut()) };
        assert_eq!(status, jwtv_status::JWTV_OK);
        // SAFETY: NUL-terminated by the call.
        let text = unsafe { CStr::from_ptr(buf.as_ptr()) }.to_string_lossy().into_owned();
        let written: Value = serde_json::from_str(&text).expect("JSON");
        assert_eq!(at(&written, &path), Some(example), "C {path}");
        // SAFETY: made by jwtv_policy_new, freed once.
        unsafe { jwtv_policy_free(policy) };
    }
}
