//! Revocation through the server verifier: in memory and from a file, on
//! fresh verifications and on cache hits.

#![allow(clippy::std_instead_of_alloc, clippy::std_instead_of_core, reason = "a test harness on std")]

mod common;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use common::{NOW, TestKey, claims, claims_with};
use jwtv::{Algorithm, AlgorithmSet, Dependency, Error, ErrorCode, Field};
use jwtv_gateway::{
    Freshness, JTI_GRACE_SECS, MAX_LEEWAY_SECS, Policy, Revocation, RevocationKind, RevocationList, Revocations,
    Verifier,
};
use jwtv_jwks::{Clock, KeySet, KeySetOptions, KeySource, ManualClock};

fn verifier(keys: &[&TestKey], revocations: Revocations) -> Verifier {
    let set = KeySet::parse(common::jwks(keys).as_bytes(), &KeySetOptions::default()).expect("key set");
    let rules = Policy::new(AlgorithmSet::of(&[Algorithm::EdDSA])).issuer("https://issuer.example").audience("api");
    Verifier::new(KeySource::fixed(set), rules).expect("rules").with_token_cache(100).with_revocations(revocations)
}

/// A clock reading [`NOW`], moved only by the test: a file list is looked at
/// once per second of it, so no test sleeps.
fn clock_at_now() -> Arc<ManualClock> {
    Arc::new(ManualClock::new(NOW * 1000))
}

/// One file check interval.
const SECOND: Duration = Duration::from_secs(1);

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("jwtv-revocation-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

#[test]
fn each_kind_of_revocation_rejects_with_its_field_also_from_the_cache() {
    let key = TestKey::new("k1", 1);
    let revocations = Revocations::in_memory(RevocationList::new());
    let v = verifier(&[&key], revocations.clone());
    let token = key.sign(&claims_with(r#""jti":"t-1","iat":1699999000,"exp":1700003600"#));
    v.verify(&token, NOW).expect("valid before any revocation");
    assert!(v.verify(&token, NOW).expect("cached").from_cache());

    revocations.revoke(Revocation::Jti { id: "t-1".into(), exp: 1_700_003_600 }).unwrap();
    assert_eq!(v.verify(&token, NOW).err(), Some(Error::Revoked(Field::Jti)), "a cache hit is checked again");
    assert!(revocations.unrevoke(RevocationKind::Jti, "t-1").unwrap());
    v.verify(&token, NOW).expect("valid again");

    // Log out everywhere: tokens issued before the time, not after.
    revocations.revoke(Revocation::Sub { id: "user-1".into(), not_before: 1_699_999_500 }).unwrap();
    assert_eq!(v.verify(&token, NOW).err(), Some(Error::Revoked(Field::Sub)));
    let fresh = key.sign(&claims_with(r#""iat":1699999600,"exp":1700003600"#));
    v.verify(&fresh, NOW).expect("issued after the subject's revocation");
    revocations.unrevoke(RevocationKind::Sub, "user-1").unwrap();

    revocations.revoke(Revocation::Kid { id: "k1".into(), since: NOW }).unwrap();
    assert_eq!(v.verify(&fresh, NOW).err(), Some(Error::Revoked(Field::Kid)));
    let m = v.metrics();
    assert_eq!(m.rejected_with(ErrorCode::Revoked), 3);
    assert_eq!(m.revocations.map(|r| (r.entries, r.by_kind)), Some((1, [0, 0, 1])));
}

#[test]
fn a_revoked_key_is_cut_off_even_for_tokens_that_do_not_name_it() {
    let key = TestKey::new("k1", 1);
    let revocations = Revocations::in_memory(RevocationList::new());
    let v = verifier(&[&key], revocations.clone());
    let token = key.sign_without_kid(&claims());
    v.verify(&token, NOW).expect("the one EdDSA key verifies it");
    revocations.revoke(Revocation::Kid { id: "k1".into(), since: NOW }).unwrap();
    assert_eq!(v.verify(&token, NOW).err(), Some(Error::Revoked(Field::Kid)), "cache hit");
    let other = verifier(&[&key], revocations);
    assert_eq!(other.verify(&token, NOW).err(), Some(Error::Revoked(Field::Kid)), "fresh verification");
}

#[test]
fn revocation_is_checked_after_every_other_check() {
    let key = TestKey::new("k1", 1);
    let stranger = TestKey::new("k1", 2);
    let mut list = RevocationList::new();
    list.insert(Revocation::Kid { id: "k1".into(), since: NOW });
    let v = verifier(&[&key], Revocations::in_memory(list));
    assert_eq!(v.verify(stranger.sign(&claims()), NOW).err(), Some(Error::BadSignature));
    assert_eq!(v.verify(key.sign(&claims()), NOW + 7200).err(), Some(Error::Expired));
}

#[test]
fn a_file_list_is_reloaded_when_it_changes_and_a_broken_one_is_ignored() {
    let dir = temp_dir("file");
    let path = dir.join("revoked.json");
    std::fs::write(&path, r#"{"jti":{"t-1":4102444800}}"#).unwrap();
    let clock = clock_at_now();
    let revocations = Revocations::from_file_with_clock(&path, clock.clone()).expect("loads");
    let key = TestKey::new("k1", 1);
    let v = verifier(&[&key], revocations.clone());
    let t1 = key.sign(&claims_with(r#""jti":"t-1","iat":1699999000,"exp":1700003600"#));
    let t2 = key.sign(&claims_with(r#""jti":"t-2","iat":1699999000,"exp":1700003600"#));
    assert_eq!(v.verify(&t1, NOW).err(), Some(Error::Revoked(Field::Jti)));
    v.verify(&t2, NOW).expect("not listed");

    // An operator edits the file; the change is seen at the next check, one
    // interval later, and not before.
    std::fs::write(&path, r#"{"jti":{"t-1":4102444800,"t-2":4102444800}}"#).unwrap();
    clock.advance(SECOND - Duration::from_millis(1));
    v.verify(&t2, NOW).expect("not looked at yet");
    clock.advance(Duration::from_millis(1));
    assert_eq!(v.verify(&t2, NOW).err(), Some(Error::Revoked(Field::Jti)));

    // A broken edit keeps the last good list and is counted.
    std::fs::write(&path, r#"{"jti":{"t-1":4102444800,"t-1":1}}"#).unwrap();
    clock.advance(SECOND);
    assert_eq!(v.verify(&t2, NOW).err(), Some(Error::Revoked(Field::Jti)));
    let status = revocations.status();
    assert_eq!((status.backend, status.gauges.sync_errors, status.gauges.connected), ("file", 1, false));
    assert!(status.last_error.is_some_and(|e| e.contains("duplicate name `t-1`")));

    // Revoking through the source rewrites the file.
    std::fs::write(&path, "{}").unwrap();
    clock.advance(SECOND);
    v.verify(&t2, NOW).expect("list emptied");
    revocations.revoke(Revocation::Sub { id: "user-1".into(), not_before: NOW }).unwrap();
    assert_eq!(v.verify(&t2, NOW).err(), Some(Error::Revoked(Field::Sub)));
    let written = RevocationList::from_json(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(
        written.get(RevocationKind::Sub, "user-1"),
        Some(Revocation::Sub { id: "user-1".into(), not_before: NOW })
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_missing_or_invalid_file_is_refused_at_startup() {
    let dir = temp_dir("missing");
    let missing = Revocations::from_file(dir.join("nope.json")).unwrap_err().to_string();
    assert!(missing.contains("nope.json"), "{missing}");
    std::fs::write(dir.join("bad.json"), r#"{"jti":{"a":"soon"}}"#).unwrap();
    let bad = Revocations::from_file(dir.join("bad.json")).unwrap_err().to_string();
    assert!(bad.contains("jti.a: invalid type"), "{bad}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn the_policy_file_names_the_list() {
    let dir = temp_dir("policy");
    std::fs::write(dir.join("revoked.json"), r#"{"sub":{"user-1":1700000000}}"#).unwrap();
    let key = TestKey::new("k1", 1);
    let policy = format!(
        r#"{{"keys":{{"jwks":{}}},"algorithms":["EdDSA"],"issuers":["https://issuer.example"],"audiences":["api"],
            "revocations":{{"source":"revoked.json"}}}}"#,
        common::jwks(&[&key])
    );
    let config = Policy::from_json(policy.as_bytes(), &dir).expect("policy");
    config.check_sources().expect("checks");
    assert_eq!(config.revocations_source(), Some("revoked.json"));
    let v = config.verifier().expect("verifier");
    assert_eq!(v.verify(key.sign(&claims()), NOW).err(), Some(Error::Revoked(Field::Sub)));
    assert_eq!(v.revocations().map(|r| r.status().backend), Some("file"));

    let mistakes: &[(&str, &str)] = &[
        (r#""revocations":{"source":"missing.json"}"#, "revocations.source"),
        (r#""revocations":{"source":"rediss://h"}"#, "revocations.source"),
        (r#""revocations":{"source":"redis://h","resync_secs":0}"#, "revocations.resync_secs"),
        (r#""revocations":{"source":"redis://h","redis_prefix":"a b"}"#, "revocations.redis_prefix"),
        (r#""revocations":{"source":"x","extra":1}"#, "revocations.extra"),
        (r#""revocations":{}"#, "revocations"),
    ];
    for (member, field) in mistakes {
        let jwks = common::jwks(&[&key]);
        let doc = format!(r#"{{"keys":{{"jwks":{jwks}}},"algorithms":["EdDSA"],"audiences":["api"],{member}}}"#);
        let err = Policy::from_json(doc.as_bytes(), &dir).and_then(|c| c.check_sources()).expect_err(member);
        assert_eq!(err.field(), *field, "{member}: {err}");
    }
    // The source can be given apart from the file (the CLI's --revocations, NGINX's directive).
    let other = Policy::from_json(policy.as_bytes(), &dir).unwrap().with_revocations_source("other.json");
    assert!(other.check_sources().unwrap_err().to_string().contains("other.json"));
    std::fs::remove_dir_all(&dir).ok();
}

mod properties {
    use super::*;
    use jwtv::{Claims, Header};
    use proptest::prelude::*;

    fn id() -> impl Strategy<Value = String> {
        // Any text: quotes, backslashes, controls, non-ASCII, spaces.
        proptest::string::string_regex("(?s).{1,40}").expect("regex")
    }

    fn entry() -> impl Strategy<Value = Revocation> {
        (0..3usize, id(), 0u64..=u64::from(u32::MAX) * 2)
            .prop_map(|(kind, id, time)| Revocation::new(RevocationKind::ALL[kind], id, time))
    }

    proptest! {
        /// The file format round-trips every list, whatever its ids.
        #[test]
        fn the_file_format_round_trips(entries in proptest::collection::vec(entry(), 0..20)) {
            let mut list = RevocationList::new();
            for entry in entries {
                list.insert(entry);
            }
            let again = RevocationList::from_json(list.to_json().as_bytes()).expect("reads its own output");
            prop_assert_eq!(again.entries(), list.entries());
        }

        /// A token's jti, written with or without JSON escapes, matches the
        /// listed id exactly, and no other.
        #[test]
        fn a_jti_matches_exactly_after_decoding_escapes(listed in id(), other in id()) {
            let mut list = RevocationList::new();
            list.insert(Revocation::Jti { id: listed.clone(), exp: u64::MAX / 2 });
            let header = Header::from_json(br#"{"alg":"EdDSA"}"#).expect("header");
            let check = |jti: &str, escaped: bool| {
                let encoded = if escaped {
                    jti.chars().map(|c| {
                        let mut units = [0u16; 2];
                        c.encode_utf16(&mut units).iter().map(|u| format!("\\u{u:04x}")).collect::<String>()
                    }).collect::<String>()
                } else {
                    let quoted = serde_json::Value::from(jti).to_string();
                    quoted.get(1..quoted.len() - 1).unwrap_or_default().to_owned()
                };
                let claims_json = format!(r#"{{"jti":"{encoded}"}}"#);
                let claims = Claims::from_json(claims_json.as_bytes()).expect("claims");
                list.check(&header, &claims, None, NOW)
            };
            for escaped in [false, true] {
                prop_assert_eq!(check(&listed, escaped), Err(Error::Revoked(Field::Jti)));
                prop_assert_eq!(check(&other, escaped).is_err(), other == listed);
            }
        }
    }
}

#[test]
fn concurrent_writers_to_one_file_lose_nothing() {
    let dir = temp_dir("writers");
    let path = dir.join("revoked.json");
    std::fs::write(&path, "{}").unwrap();
    // Separate sources, as separate `jwtv revoke` processes would be: only
    // the lock file orders their read-change-replace cycles.
    let writers: Vec<_> = (0..6)
        .map(|w| {
            let path = path.clone();
            std::thread::spawn(move || {
                let source = Revocations::from_file(&path).expect("open");
                for i in 0..15 {
                    source.revoke(Revocation::Jti { id: format!("w{w}-{i}"), exp: 4_102_444_800 }).expect("revoke");
                }
            })
        })
        .collect();
    for writer in writers {
        writer.join().expect("writer");
    }
    let list = RevocationList::from_json(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(list.count(RevocationKind::Jti), 90);
    assert!(!dir.join(".revoked.json.lock").exists(), "the lock is released");

    // A lock left by a writer that died is waited for, then reported.
    std::fs::write(dir.join(".revoked.json.lock"), "").unwrap();
    let source = Revocations::from_file(&path).unwrap();
    let err = source.revoke(Revocation::Kid { id: "k".into(), since: 1 }).unwrap_err().to_string();
    assert!(err.contains("another writer holds the lock"), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn every_check_of_a_file_list_is_a_sync_or_a_failure() {
    let dir = temp_dir("sync");
    let path = dir.join("revoked.json");
    let content = r#"{"jti":{"t-1":4102444800}}"#;
    std::fs::write(&path, content).unwrap();
    let clock = clock_at_now();
    let revocations = Revocations::from_file_with_clock(&path, clock.clone()).expect("loads");
    let key = TestKey::new("k1", 1);
    let v = verifier(&[&key], revocations.clone());
    let token = key.sign(&claims_with(r#""jti":"t-2","iat":1699999000,"exp":1700003600"#));
    let check = || {
        clock.advance(SECOND);
        v.verify(&token, NOW).expect("not listed");
        revocations.status()
    };
    let lag = |status: &jwtv_gateway::RevocationStatus| status.gauges.last_sync_unix.map(|at| clock.unix_secs() - at);

    // Between checks the lag grows with the clock; an unchanged file keeps
    // the copy in sync at each check.
    assert_eq!(revocations.status().gauges.last_sync_unix, Some(NOW), "loaded");
    clock.advance(Duration::from_secs(5));
    assert_eq!(revocations.gauges().sync_lag_secs, 5);
    let status = check();
    assert!(status.gauges.connected && lag(&status) == Some(0), "{status:?}");
    assert_eq!(status.gauges.sync_lag_secs, 0);

    // Gone: each check fails; put back as it was, in sync again.
    std::fs::remove_file(&path).unwrap();
    let status = check();
    assert!(!status.gauges.connected && status.gauges.sync_errors == 1, "{status:?}");
    assert!(status.last_error.is_some_and(|e| e.contains("revoked.json")));
    assert_eq!(check().gauges.sync_errors, 2);
    std::fs::write(&path, content).unwrap();
    let status = check();
    assert!(status.gauges.connected && lag(&status) == Some(0), "{status:?}");
    assert_eq!(status.last_error, None);

    // A broken version fails each check while it stays, and the last sync
    // stays where it was.
    std::fs::write(&path, r#"{"jti":{"t-1":"soon"}}"#).unwrap();
    let failed = check();
    assert!(!failed.gauges.connected && failed.gauges.sync_errors == 3, "{failed:?}");
    let still = check();
    assert!(!still.gauges.connected && still.gauges.sync_errors == 4, "{still:?}");
    assert_eq!(still.gauges.last_sync_unix, failed.gauges.last_sync_unix);
    assert_eq!(still.gauges.sync_lag_secs, 2, "two failed checks since the last sync");
    assert!(still.last_error.is_some_and(|e| e.contains("jti.t-1")));
    assert_eq!(revocations.snapshot().len(), 1, "the last good list serves");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_revoked_jti_stays_revoked_for_as_long_as_any_verifier_could_accept_its_token() {
    // The largest leeway a verifier may have is the time a jti entry is kept
    // past its exp: at every second a verifier could still accept the token,
    // the entry is there to refuse it, on fresh verifications, cache hits,
    // and after the list pruned itself.
    assert_eq!(MAX_LEEWAY_SECS, JTI_GRACE_SECS);
    let key = TestKey::new("k1", 1);
    let exp = NOW + 100;
    let revocations = Revocations::in_memory(RevocationList::new());
    let set = KeySet::parse(common::jwks(&[&key]).as_bytes(), &KeySetOptions::default()).expect("key set");
    let rules = Policy::new(AlgorithmSet::of(&[Algorithm::EdDSA]))
        .issuer("https://issuer.example")
        .audience("api")
        .leeway_secs(MAX_LEEWAY_SECS);
    let v = Verifier::new(KeySource::fixed(set), rules).expect("the largest leeway").with_token_cache(10);
    let v = v.with_revocations(revocations.clone());
    let token = key.sign(&claims_with(&format!(r#""jti":"t-late","iat":{NOW},"exp":{exp}"#)));
    // exp ≤ now − leeway is expired: the last second it is accepted is
    // exp + leeway − 1.
    let last = exp + MAX_LEEWAY_SECS - 1;
    v.verify(&token, last).expect("accepted at the last second of its leeway");
    revocations.revoke(Revocation::Jti { id: "t-late".into(), exp }).unwrap();
    for now in [NOW, exp, last] {
        assert_eq!(v.verify(&token, now).err(), Some(Error::Revoked(Field::Jti)), "at exp{:+}", now - exp);
        let list = revocations.snapshot();
        let mut pruned = list.clone();
        pruned.prune(now);
        assert_eq!(pruned.len(), 1, "not pruned at exp{:+}", now - exp);
    }
    // One second later no verifier accepts the token: expired, not revoked;
    // the entry goes a second after that.
    assert_eq!(v.verify(&token, last + 1).err(), Some(Error::Expired));
    let mut pruned = revocations.snapshot();
    assert_eq!(pruned.prune(last + 1), 0);
    assert_eq!(pruned.prune(last + 2), 1, "dropped once no verifier can accept the token");

    // A leeway past the bound is refused, so no verifier outlives the entry.
    let set = KeySet::parse(common::jwks(&[&key]).as_bytes(), &KeySetOptions::default()).expect("key set");
    let rules = Policy::new(AlgorithmSet::of(&[Algorithm::EdDSA])).leeway_secs(MAX_LEEWAY_SECS + 1);
    let err = Verifier::new(KeySource::fixed(set), rules).expect_err("leeway 301");
    assert_eq!(err.field(), "leeway_secs");
}

#[test]
fn a_revocation_file_that_is_not_an_object_never_replaces_a_live_list() {
    let dir = temp_dir("not-an-object");
    let path = dir.join("revoked.json");
    std::fs::write(&path, r#"{"jti": {"t-1": 4102444800}}"#).unwrap();
    let clock = clock_at_now();
    let revocations = Revocations::from_file_with_clock(&path, clock.clone()).expect("a list");
    std::fs::write(dir.join("array.json"), "[]").unwrap();
    let err = Revocations::from_file(dir.join("array.json")).expect_err("an array is not a list");
    assert!(err.to_string().contains("expected a JSON object at the top"), "{err}");
    // Rewritten as an array: the last good list keeps serving, and the
    // failed re-read is counted.
    clock.advance(SECOND);
    std::fs::write(&path, "[]").unwrap();
    let key = TestKey::new("k1", 1);
    let v = verifier(&[&key], revocations.clone());
    let token = key.sign(&claims_with(r#""jti":"t-1","iat":1699999000,"exp":1700003600"#));
    assert_eq!(v.verify(&token, NOW).err(), Some(Error::Revoked(Field::Jti)));
    assert_eq!(revocations.gauges().entries, 1);
    assert_eq!(revocations.gauges().sync_errors, 1, "{:?}", revocations.gauges());
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_file_list_that_fails_closed_refuses_once_it_is_staler_than_allowed() {
    let dir = temp_dir("fail-closed");
    let path = dir.join("revoked.json");
    std::fs::write(&path, "{}").unwrap();
    let clock = clock_at_now();
    let file = Revocations::from_file_with_clock(&path, clock.clone()).expect("loads");
    let strict = verifier(&[&TestKey::new("k1", 1)], file.clone().with_freshness(Freshness::fail_closed(SECOND * 10)));
    let lenient = verifier(&[&TestKey::new("k1", 1)], file.clone());
    let token = TestKey::new("k1", 1).sign(&claims());
    strict.verify(&token, NOW).expect("in sync");

    // The file turns unreadable: the copy ages with every failed check.
    std::fs::remove_file(&path).unwrap();
    clock.advance(SECOND * 10);
    let unavailable = Some(Error::Unavailable(Dependency::Revocations));
    assert_eq!(strict.verify(&token, NOW).err(), None, "ten seconds stale: still within the bound");
    clock.advance(SECOND);
    assert_eq!(strict.verify(&token, NOW).err(), unavailable, "eleven seconds stale");
    assert_eq!(strict.metrics().rejected_with(ErrorCode::Unavailable), 1);
    lenient.verify(&token, NOW).expect("the default fails open and serves the last copy");
    assert_eq!(file.gauges().sync_lag_secs, 11);

    // Back: in sync at the next check.
    std::fs::write(&path, "{}").unwrap();
    clock.advance(SECOND);
    strict.verify(&token, NOW).expect("synced again");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn an_in_memory_list_is_always_in_sync() {
    let clock = clock_at_now();
    let memory = Revocations::in_memory_with_clock(RevocationList::new(), clock.clone())
        .with_freshness(Freshness::fail_closed(SECOND));
    let key = TestKey::new("k1", 1);
    let v = verifier(&[&key], memory.clone());
    clock.advance(Duration::from_secs(3600));
    v.verify(key.sign(&claims()), NOW).expect("the process's own list is never stale");
    let gauges = memory.gauges();
    assert_eq!((gauges.synced, gauges.sync_lag_secs, gauges.last_sync_unix), (true, 0, Some(NOW + 3600)));
}
