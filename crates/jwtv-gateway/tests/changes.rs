//! Dependency state changes through `tracing`: a key server that fails,
//! fails otherwise and recovers, and a revocation file that breaks and is
//! mended, are logged once per change however many requests run meanwhile.

#![allow(clippy::std_instead_of_alloc, clippy::std_instead_of_core, reason = "a test harness on std")]

mod common;

use std::io::{Read, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::{Duration, Instant};

use common::{Captured, NOW, TestKey, claims_with};
use jwtv_gateway::Policy;

/// The captured lines of `target`.
fn lines(captured: &Captured, target: &str) -> Vec<String> {
    captured.text().lines().filter(|l| l.contains(target)).map(str::to_owned).collect()
}

/// A key server on 127.0.0.1 answering with `status` (200: the JWKS).
fn key_server(jwks: String, status: Arc<AtomicU16>) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}/jwks.json", listener.local_addr().expect("address"));
    std::thread::spawn(move || {
        for mut conn in listener.incoming().flatten() {
            let mut request = [0u8; 2048];
            let _ = conn.read(&mut request);
            let code = status.load(Ordering::SeqCst);
            let body = if code == 200 { jwks.clone() } else { String::new() };
            let _ =
                write!(conn, "HTTP/1.1 {code} X\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len());
        }
    });
    url
}

fn wait_for(what: &str, condition: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn dependency_state_changes_are_logged_once_each() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt().with_writer(move || writer.clone()).with_ansi(false).finish();
    tracing::subscriber::set_global_default(subscriber).expect("the only subscriber of this test binary");

    let key = TestKey::new("k1", 1);
    let status = Arc::new(AtomicU16::new(200));
    let url = key_server(common::jwks(&[&key]), Arc::clone(&status));
    let dir = tempfile_dir();
    let revocations = dir.join("revoked.json");
    std::fs::write(&revocations, r#"{"jti":{},"sub":{},"kid":{}}"#).expect("write");
    let document = serde_json::json!({
        "name": "orders-api",
        "keys": {"jwks_url": url},
        "algorithms": ["EdDSA"],
        "audiences": ["api"],
        "refresh": {"max_ttl_secs": 1, "min_ttl_secs": 1, "default_ttl_secs": 1, "backoff_min_ms": 20, "backoff_max_ms": 40},
        "revocations": {"source": revocations.to_str().expect("UTF-8 path")}
    });
    let policy = Policy::from_json(document.to_string().as_bytes(), &dir).expect("policy");
    let verifier = policy.verifier().expect("verifier");
    let token = key.sign(&claims_with(r#""exp":1700003600"#));
    let first = verifier.verify(&token, NOW);
    assert!(first.is_ok(), "{first:?}");

    // The key server fails: many fetches and requests, one line; then another reason, one more.
    status.store(500, Ordering::SeqCst);
    wait_for("fetches to fail", || verifier.metrics().keys.consecutive_failures >= 3);
    for _ in 0..1000 {
        let _ = verifier.verify(&token, NOW);
    }
    status.store(503, Ordering::SeqCst);
    wait_for("another failure", || lines(&captured, "jwtv::keys").len() >= 2);
    wait_for("more failed fetches", || verifier.metrics().keys.consecutive_failures >= 8);
    status.store(200, Ordering::SeqCst);
    wait_for("recovery", || verifier.metrics().keys.consecutive_failures == 0);
    wait_for("the recovery line", || lines(&captured, "jwtv::keys").len() >= 3);
    let keys = lines(&captured, "jwtv::keys");
    assert_eq!(keys.len(), 3, "{keys:#?}");
    assert!(
        keys[0].contains("WARN") && keys[0].contains("HTTP status 500") && keys[0].contains("orders-api"),
        "{}",
        keys[0]
    );
    assert!(keys[1].contains("WARN") && keys[1].contains("HTTP status 503"), "{}", keys[1]);
    assert!(keys[2].contains("INFO") && keys[2].contains("succeed again"), "{}", keys[2]);

    // The revocation file breaks: one line however many checks; mended: one more.
    std::fs::write(&revocations, "{ not json").expect("write");
    for _ in 0..3 {
        std::thread::sleep(Duration::from_millis(1100));
        let _ = verifier.verify(&token, NOW);
    }
    std::fs::write(&revocations, r#"{"jti":{},"sub":{},"kid":{}}"#).expect("write");
    std::thread::sleep(Duration::from_millis(1100));
    assert!(verifier.verify(&token, NOW).is_ok());
    let lists = lines(&captured, "jwtv::revocations");
    assert_eq!(lists.len(), 2, "{lists:#?}");
    assert!(lists[0].contains("WARN") && lists[0].contains("not in sync"), "{}", lists[0]);
    assert!(lists[1].contains("INFO") && lists[1].contains("in sync again"), "{}", lists[1]);
    for line in keys.iter().chain(&lists) {
        assert!(!line.chars().any(char::is_control), "inert: {line:?}");
    }
    // The same changes, once each, for hosts that log by themselves.
    let taken: Vec<(&str, bool)> = verifier.take_state_changes().iter().map(|c| (c.dependency, c.failing)).collect();
    assert_eq!(taken, [("keys", true), ("keys", true), ("keys", false), ("revocations", true), ("revocations", false)]);
    assert!(verifier.take_state_changes().is_empty(), "taken once");
}

fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("jwtv-changes-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary folder");
    dir
}
