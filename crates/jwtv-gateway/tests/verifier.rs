//! The server verifier: key sources, verified-token cache, metrics, threads.

#![allow(clippy::std_instead_of_alloc, clippy::std_instead_of_core, reason = "a test harness on std")]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{NOW, TestKey, claims, claims_with, jwks};
use jwtv::{Algorithm, AlgorithmSet, ErrorCode};
use jwtv_gateway::{Policy, Verifier};
use jwtv_jwks::{FileJwks, KeySet, KeySetOptions, KeySource};

fn rules() -> Policy {
    Policy::new(AlgorithmSet::of(&[Algorithm::EdDSA])).issuer("https://issuer.example").audience("api")
}

fn fixed(keys: &[&TestKey]) -> KeySource {
    KeySource::fixed(KeySet::parse(jwks(keys).as_bytes(), &KeySetOptions::default()).expect("key set"))
}

#[track_caller]
fn assert_code(result: Result<jwtv_gateway::Verified, jwtv::Error>, code: ErrorCode) {
    match result {
        Ok(_) => panic!("accepted; expected {code}"),
        Err(e) => assert_eq!(e.code(), code, "{e}"),
    }
}

/// Required values from a policy document: integers, booleans, array
/// members, `scope` words and JSON Pointers reach the core as written.
#[test]
fn required_claim_values_of_every_kind_come_from_the_document() {
    let key = TestKey::new("k1", 1);
    let document = r#"{
        "keys": {"jwks": {"keys": []}}, "algorithms": ["EdDSA"], "issuers": ["https://issuer.example"],
        "audiences": ["api"], "required_claims": ["/org/id"],
        "required_claim_values": {"level": 3, "email_verified": true, "/realm_access/roles": "admin", "scope": "read"}
    }"#;
    let policy = Policy::from_json(document.as_bytes(), std::path::Path::new(".")).expect("policy");
    assert!(policy.to_json().contains(r#""level":3"#), "{}", policy.to_json());
    let verifier = Verifier::new(fixed(&[&key]), policy).expect("rules");
    let token = |extra: &str| key.sign(&claims_with(&format!(r#""iat":1699999000,"exp":1700003600,{extra}"#)));
    let good = r#""level":3,"email_verified":true,"realm_access":{"roles":["user","admin"]},"scope":"openid read","org":{"id":1}"#;
    assert!(verifier.verify(token(good), NOW).is_ok());
    for (bad, code) in [
        (good.replace(r#""level":3"#, r#""level":"3""#), ErrorCode::BadClaim),
        (good.replace("true", "false"), ErrorCode::BadClaim),
        (good.replace(r#""admin""#, r#""auditor""#), ErrorCode::BadClaim),
        (good.replace("openid read", "openid readonly"), ErrorCode::BadClaim),
        (good.replace(r#""id":1"#, r#""name":1"#), ErrorCode::MissingClaim),
        (good.replace(r#""realm_access":{"roles":["user","admin"]}"#, r#""realm_access":{}"#), ErrorCode::MissingClaim),
    ] {
        assert_code(verifier.verify(token(&bad), NOW), code);
    }
}

#[test]
fn verifies_and_gives_owned_claims() {
    let key = TestKey::new("k1", 1);
    let verifier = Verifier::new(fixed(&[&key]), rules()).expect("rules");
    let verified = verifier.verify(key.sign(&claims()), NOW).expect("valid");
    assert_eq!(verified.algorithm(), Algorithm::EdDSA);
    assert!(verified.claims().expect("claims").sub().is_some_and(|s| s == "user-1"));
    assert!(verified.header().expect("header").kid().is_some_and(|k| k == "k1"));
    assert!(verified.claim("iss").and_then(|v| v.as_json_str()).is_some_and(|s| s == "https://issuer.example"));
    assert!(verified.header_field("typ").is_some());
    #[derive(serde::Deserialize)]
    struct Mine {
        sub: String,
        exp: u64,
    }
    let mine: Mine = verified.deserialize().expect("typed claims");
    assert_eq!((mine.sub.as_str(), mine.exp), ("user-1", 1_700_003_600));
    assert!(!verified.from_cache());
}

#[test]
fn rejections_carry_the_core_codes_and_are_counted() {
    let key = TestKey::new("k1", 1);
    let stranger = TestKey::new("k1", 2);
    let verifier = Verifier::new(fixed(&[&key]), rules().max_token_len(2048)).expect("rules");
    assert_code(verifier.verify(stranger.sign(&claims()), NOW), ErrorCode::BadSignature);
    assert_code(verifier.verify(TestKey::new("k9", 1).sign(&claims()), NOW), ErrorCode::KeyNotFound);
    assert_code(verifier.verify(key.sign(&claims()), NOW + 3600 + 30), ErrorCode::Expired);
    assert_code(verifier.verify(key.sign(&claims().replace("\"api\"", "\"other\"")), NOW), ErrorCode::BadAudience);
    assert_code(verifier.verify("x".repeat(2049), NOW), ErrorCode::TooLarge);
    assert_code(verifier.verify("a.b", NOW), ErrorCode::Malformed);
    verifier.verify(key.sign(&claims()), NOW).expect("valid");

    let m = verifier.metrics();
    assert_eq!(m.verified, 1);
    assert_eq!(m.rejected_total(), 6);
    for code in [ErrorCode::BadSignature, ErrorCode::KeyNotFound, ErrorCode::Expired, ErrorCode::TooLarge] {
        assert_eq!(m.rejected_with(code), 1, "{code}");
    }
    assert_eq!((m.cache_hits, m.cache_misses), (0, 0), "no cache configured");
    assert_eq!(m.keys.key_count, 1);
    let text = m.to_prometheus();
    assert!(text.contains("jwtv_verifications_total{result=\"bad_signature\"} 1\n"), "{text}");
    assert!(text.contains("jwtv_verifications_total{result=\"ok\"} 1\n"));
}

#[test]
fn cache_hits_skip_the_signature_but_not_the_time_checks() {
    let key = TestKey::new("k1", 1);
    let verifier = Verifier::new(fixed(&[&key]), rules().leeway_secs(0)).expect("rules").with_token_cache(100);
    let token = key.sign(&claims());
    assert!(!verifier.verify(&token, NOW).expect("first").from_cache());
    let again = verifier.verify(&token, NOW + 10).expect("second");
    assert!(again.from_cache());
    assert!(again.claims().expect("claims").sub().is_some_and(|s| s == "user-1"));
    // Past exp the cached entry is refused with the core's code, and dropped.
    assert_code(verifier.verify(&token, NOW + 3600), ErrorCode::Expired);
    assert_code(verifier.verify(&token, NOW + 3600), ErrorCode::Expired);
    let m = verifier.metrics();
    assert_eq!((m.cache_misses, m.cache_hits), (2, 2), "miss, hit, hit (expired), miss (dropped, verified again)");
}

#[test]
fn a_cache_hit_gives_the_verdict_of_a_full_verification_at_every_time() {
    let key = TestKey::new("k1", 1);
    let times = [
        r#""iat":1699999000,"exp":1700003600"#,
        r#""iat":1700000100.5,"nbf":1700000200,"exp":1700000400.25"#,
        r#""iat":1699999990,"nbf":1699999990,"exp":1700000010"#,
    ];
    for times in times {
        let token = key.sign(&claims_with(times));
        let rules = || rules().leeway_secs(7).max_age_secs(1000);
        let cached = Verifier::new(fixed(&[&key]), rules()).expect("rules").with_token_cache(100);
        let full = Verifier::new(fixed(&[&key]), rules()).expect("rules");
        // Seed the cache at a time the token passes, then ask at every time around it.
        let seeded = (NOW - 2000..NOW + 5000).find(|&now| cached.verify(&token, now).is_ok()).expect("a valid time");
        // Every time near a date of the token (± leeway, + max age), and a sample elsewhere.
        let dates: Vec<u64> = times
            .split(|c: char| !c.is_ascii_digit() && c != '.')
            .filter_map(|t| t.split('.').next().and_then(|whole| whole.parse().ok()))
            .flat_map(|date: u64| [date, date + 1000])
            .collect();
        let near = |now: u64| dates.iter().any(|date| now.abs_diff(*date) <= 10);
        for now in (seeded - 1500..seeded + 5000).filter(|&now| now % 29 == 0 || near(now)) {
            let expected = full.verify(&token, now).map(|_| ()).map_err(|e| e.code());
            let hit = cached.verify(&token, now);
            assert_eq!(hit.as_ref().map(|_| ()).map_err(|e| e.code()), expected, "{times} at {now}");
            if hit.is_err() {
                cached.verify(&token, seeded).expect("cached again");
            }
        }
        assert!(cached.metrics().cache_hits > 200, "{times}: the hits were exercised");
    }
}

#[test]
fn cached_tokens_without_iat_are_still_time_checked() {
    // A token without iat: every hit must still compare exp and nbf with now.
    let key = TestKey::new("k1", 1);
    let verifier = Verifier::new(fixed(&[&key]), rules().leeway_secs(0)).expect("rules").with_token_cache(100);
    let token = key.sign(&claims_with(r#""nbf":1700000000,"exp":1700000100"#));
    verifier.verify(&token, NOW + 50).expect("valid inside its window");
    assert!(verifier.verify(&token, NOW + 60).expect("hit").from_cache());
    assert_code(verifier.verify(&token, NOW + 100), ErrorCode::Expired);
    verifier.verify(&token, NOW + 50).expect("verified again");
    assert_code(verifier.verify(&token, NOW - 1), ErrorCode::NotYetValid);
}

#[test]
fn a_key_leaving_the_file_invalidates_what_it_verified() {
    let dir = tempdir("rotation");
    let path = dir.join("jwks.json");
    let (old, new) = (TestKey::new("old", 1), TestKey::new("new", 2));
    std::fs::write(&path, jwks(&[&old])).expect("write");
    let file = FileJwks::open(&path, KeySetOptions::default()).expect("open").with_check_interval(Duration::ZERO);
    let verifier = Verifier::new(KeySource::File(Arc::new(file)), rules()).expect("rules").with_token_cache(100);
    let old_token = old.sign(&claims());
    verifier.verify(&old_token, NOW).expect("old key");
    assert!(verifier.verify(&old_token, NOW).expect("cached").from_cache());

    // Rotation: the new key comes in, the old one leaves (a different size
    // guarantees a different file stamp even on coarse clocks).
    std::fs::write(&path, jwks(&[&new]) + "\n").expect("write");
    let new_token = new.sign(&claims());
    let verified = verifier.verify(&new_token, NOW).expect("new key served");
    assert_eq!(verified.key_set_generation(), 2);
    assert_code(verifier.verify(&old_token, NOW), ErrorCode::KeyNotFound);

    // A broken file never replaces the good set.
    std::fs::write(&path, "{ not json").expect("write");
    verifier.verify(&new_token, NOW).expect("last good set still served");
    let KeySource::File(file) = verifier.key_source() else { panic!("file source") };
    assert!(file.last_error().is_some_and(|e| e.contains("strict JSON")), "{:?}", file.last_error());
    let m = verifier.metrics();
    assert_eq!((m.keys.fetches.updated, m.keys.fetches.malformed), (1, 1));
    assert_eq!(m.keys.generation, 2);

    std::fs::remove_file(&path).expect("remove");
    verifier.verify(&new_token, NOW).expect("a vanished file keeps the last good set");
    assert_eq!(verifier.metrics().keys.fetches.transport_errors, 1);
}

#[test]
fn one_verifier_serves_many_threads() {
    let key = TestKey::new("k1", 1);
    let verifier = Arc::new(Verifier::new(fixed(&[&key]), rules()).expect("rules").with_token_cache(1000));
    let tokens: Vec<String> = (0..20).map(|i| key.sign(&claims().replace("user-1", &format!("user-{i}")))).collect();
    let tokens = Arc::new(tokens);
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let (verifier, tokens) = (Arc::clone(&verifier), Arc::clone(&tokens));
            std::thread::spawn(move || {
                for token in tokens.iter().cycle().take(500) {
                    verifier.verify(token, NOW).expect("valid");
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("thread");
    }
    let m = verifier.metrics();
    assert_eq!(m.verified, 2000);
    assert_eq!(m.cache_hits + m.cache_misses, 2000);
    assert!(m.cache_misses >= 20 && m.cache_entries == 20, "{m:?}");
}

fn tempdir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("jwtv-jwks-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

#[test]
fn each_served_key_counts_what_it_verified_and_leaves_with_its_set() {
    let (a, b) = (TestKey::new("a", 1), TestKey::new("b", 2));
    let verifier = Verifier::new(fixed(&[&a, &b]), rules()).expect("rules").with_token_cache(10);
    let token = a.sign(&claims());
    verifier.verify(&token, NOW).expect("full");
    verifier.verify(&token, NOW).expect("cache hit");
    verifier.verify(b.sign(&claims()), NOW + 5).expect("b");
    assert!(verifier.verify(a.sign(&claims_with(r#""exp":1"#)), NOW).is_err(), "a refused token counts for no key");
    let usage: Vec<_> = verifier.key_usage().into_iter().map(|u| (u.kid, u.first_used_unix, u.verifications)).collect();
    assert_eq!(usage, [("a".to_owned(), NOW, 2), ("b".to_owned(), NOW + 5, 1)]);
    let text = verifier.metrics_prometheus();
    assert!(text.contains("jwtv_key_verifications_total{kid=\"a\"} 2\n"), "{text}");
    assert!(text.contains(&format!("jwtv_key_first_used_timestamp_seconds{{kid=\"b\"}} {}\n", NOW + 5)), "{text}");
}

/// The shadow policy: tokens the enforced rules accept are judged by the
/// shadow's too; what it would reject is counted by code, and the verdict
/// stays the enforced policy's, cache hits included.
#[test]
fn a_shadow_policy_counts_what_it_would_reject_and_never_decides() {
    let key = TestKey::new("k1", 1);
    let document = r#"{
        "keys": {"jwks": {"keys": []}}, "algorithms": ["EdDSA"], "issuers": ["https://issuer.example"],
        "audiences": ["api", "api-v1"], "token_cache_size": 100,
        "shadow": {"audiences": ["api"], "max_lifetime_secs": 3600}
    }"#;
    let policy = Policy::from_json(document.as_bytes(), std::path::Path::new(".")).expect("policy");
    assert!(
        policy.to_json().contains(r#""shadow":{"audiences":["api"],"max_lifetime_secs":3600}"#),
        "{}",
        policy.to_json()
    );
    let verifier = Verifier::new(fixed(&[&key]), policy).expect("rules").with_token_cache(100);
    let token = |aud: &str, exp: u64| {
        key.sign(&format!(
            r#"{{"iss":"https://issuer.example","aud":"{aud}","sub":"user-1","iat":1699999000,"exp":{exp}}}"#
        ))
    };
    let shadow_count = |result: &str| {
        let text = verifier.metrics_prometheus();
        let series = format!("jwtv_shadow_verifications_total{{result=\"{result}\"}} ");
        text.lines().find_map(|l| l.strip_prefix(&series)).map(|v| v.parse::<u64>().expect("a count"))
    };
    assert_eq!(shadow_count("ok"), Some(0), "every series exported from the start");

    // Both accept.
    assert!(verifier.verify(token("api", 1_700_002_000), NOW).is_ok());
    // Only the enforced policy accepts: another audience, then a lifetime past an hour.
    let old_audience = token("api-v1", 1_700_002_000);
    assert!(verifier.verify(&old_audience, NOW).is_ok());
    let verified = verifier.verify(&old_audience, NOW).expect("a cache hit, still accepted");
    assert!(verified.from_cache());
    assert!(verifier.verify(token("api", 1_700_009_000), NOW).is_ok());
    // Rejected by the enforced policy: the shadow is not asked.
    assert_code(verifier.verify(token("other", 1_700_002_000), NOW), ErrorCode::BadAudience);

    assert_eq!(shadow_count("ok"), Some(1));
    assert_eq!(shadow_count("bad_audience"), Some(2), "the cache hit is judged too");
    assert_eq!(shadow_count("lifetime_too_long"), Some(1));
    assert_eq!(verifier.metrics().rejected_with(ErrorCode::BadAudience), 1, "only the enforced rejection");
}

#[test]
fn a_shadow_changes_token_rules_only_and_is_checked_like_a_policy() {
    let base = r#""keys": {"jwks_file": "k.json"}, "algorithms": ["EdDSA"]"#;
    let read = |shadow: &str| Policy::from_json(format!("{{{base}, \"shadow\": {shadow}}}").as_bytes(), ".");
    for (shadow, field) in [
        (r#"{"keys": {"jwks_file": "other.json"}}"#, "shadow.keys"),
        (r#"{"token_cache_size": 10}"#, "shadow.token_cache_size"),
        (r#"{"shadow": {}}"#, "shadow.shadow"),
        (r#"{"name": "x"}"#, "shadow.name"),
        (r#"{"algorithms": []}"#, "shadow.algorithms"),
        (r#"{"algorithms": ["none"]}"#, "shadow.algorithms[0]"),
        (r#"{"leeway_secs": 100000}"#, "shadow.leeway_secs"),
        (r#"{"max_lifetime_secs": 0}"#, "shadow.max_lifetime_secs"),
        (r#"{"audience": ["typo"]}"#, "shadow.audience"),
        (r#"[]"#, "shadow"),
    ] {
        let err = read(shadow).expect_err(shadow);
        assert_eq!(err.field(), field, "{shadow}: {err}");
    }
    let policy = read(r#"{"issuers": ["https://new.example"], "algorithms": ["EdDSA", "ES256"]}"#).expect("a shadow");
    let shadow = policy.shadow().expect("valid").expect("present");
    assert_eq!(shadow.issuers(), ["https://new.example"]);
    assert!(shadow.shadow().expect("valid").is_none(), "a shadow has no shadow");
    // Set by path, as every host does.
    let mut policy = read("{}").expect("an empty shadow");
    policy.set("shadow.max_lifetime_secs", "600").expect("set by path");
    assert!(policy.to_json().contains(r#""shadow":{"max_lifetime_secs":600}"#));
    assert_eq!(policy.set("shadow.refresh", "{}").expect_err("not a token rule").field(), "shadow.refresh");
}

/// `verify_in` gives `verify`'s verdicts and JSON, fresh and from the
/// cache, and counts the same.
#[test]
fn verify_in_borrows_the_callers_buffer_and_judges_alike() {
    let key = TestKey::new("k1", 1);
    let owned = Verifier::new(fixed(&[&key]), rules().leeway_secs(0)).expect("rules").with_token_cache(100);
    let borrowed = Verifier::new(fixed(&[&key]), rules().leeway_secs(0)).expect("rules").with_token_cache(100);
    let uncached = Verifier::new(fixed(&[&key]), rules().leeway_secs(0)).expect("rules");
    let token = key.sign(&claims());
    let forged = format!("{}AAAA", &token[..token.len() - 4]);
    let mut buf = [0u8; jwtv::DEFAULT_BUFFER_LEN];
    for (now, from_cache) in [(NOW, false), (NOW + 10, true)] {
        let expected = owned.verify(&token, now).expect("owned");
        for verifier in [&borrowed, &uncached] {
            let verified = verifier.verify_in(&token, now, &mut buf).expect("borrowed");
            assert_eq!(verified.claims_json(), expected.claims_json());
            assert_eq!(verified.header_json(), expected.header_json());
            assert_eq!(verified.algorithm(), Algorithm::EdDSA);
            assert_eq!(verified.key_set_generation(), expected.key_set_generation());
            assert!(verified.claims().expect("claims").sub().is_some_and(|s| s == "user-1"));
            assert_eq!(verified.from_cache(), from_cache && std::ptr::eq(verifier, &borrowed));
            let again = verified.into_owned();
            assert_eq!(again.claims_json(), expected.claims_json());
        }
    }
    for verifier in [&borrowed, &uncached] {
        let code = |now| {
            verifier.verify_in(&token, now, &mut [0u8; jwtv::DEFAULT_BUFFER_LEN]).map(|_| ()).map_err(|e| e.code())
        };
        assert_eq!(code(NOW + 3600), Err(ErrorCode::Expired));
        let forged = verifier.verify_in(&forged, NOW, &mut buf).map(|_| ()).map_err(|e| e.code());
        assert_eq!(forged, Err(ErrorCode::BadSignature));
    }
    let (m, o) = (borrowed.metrics(), owned.metrics());
    // And the expired hit, and the forged token's miss.
    assert_eq!((m.verified, m.cache_hits, m.cache_misses), (o.verified, o.cache_hits + 1, o.cache_misses + 1));
    assert_eq!(m.rejected_with(ErrorCode::Expired), 1);
    assert_eq!(m.rejected_with(ErrorCode::BadSignature), 1);
}

/// A buffer too short for the token's JSON is `too_large`, on a miss (as in
/// the core) and on a cache hit alike, and the entry stays cached.
#[test]
fn verify_in_with_a_short_buffer_is_too_large() {
    let key = TestKey::new("k1", 1);
    let verifier = Verifier::new(fixed(&[&key]), rules()).expect("rules").with_token_cache(100);
    let token = key.sign(&claims());
    let mut short = [0u8; 40];
    let code =
        |verifier: &Verifier, buf: &mut [u8]| verifier.verify_in(&token, NOW, buf).map(|_| ()).map_err(|e| e.code());
    assert_eq!(code(&verifier, &mut short), Err(ErrorCode::TooLarge), "a miss");
    let mut buf = vec![0u8; jwtv::buffer_len_for(token.len())];
    assert_eq!(code(&verifier, &mut buf), Ok(()));
    assert_eq!(code(&verifier, &mut short), Err(ErrorCode::TooLarge), "a hit");
    assert!(verifier.verify_in(&token, NOW, &mut buf).expect("still cached").from_cache());
    assert_eq!(verifier.metrics().rejected_with(ErrorCode::TooLarge), 2);
}
