//! A check the policy requires that could not run is never a pass: with the
//! revocation list or the key set unreachable, `verify` and `doctor` give no
//! verdict (code `unavailable`, exit 2), and `doctor` says which step could
//! not run and what the fetches did.

#![allow(clippy::std_instead_of_alloc, clippy::std_instead_of_core, reason = "a test harness on std")]

mod common;

use std::net::TcpListener;
use std::time::{Duration, Instant};

use common::{NOW, Run, TempDir, json, jwtv, policy_with};
use serde_json::json;

/// Nothing listens on port 1.
const REDIS_DOWN: &str = "redis://127.0.0.1:1";

#[track_caller]
fn assert_undetermined_doctor(run: &Run, step: &str) {
    assert_eq!(run.code, 2, "{run:?}");
    assert!(!run.stdout.contains("✔ 8 verdict"), "never valid: {}", run.stdout);
    assert!(!run.stdout.contains("valid: every check passed"), "{}", run.stdout);
    let verdict = format!(
        "? 8 verdict     undetermined: unavailable (a check the policy requires could not run (key set or revocation list unavailable)); could not run: {step}"
    );
    assert!(run.stdout.contains(&verdict), "{verdict:?} not in\n{}", run.stdout);
}

#[test]
fn doctor_with_an_unreachable_revocation_list_gives_no_verdict() {
    let dir = TempDir::new("unavailable-redis");
    let policy = policy_with(&dir, "policy.json", |p| p["revocations"] = json!({"source": REDIS_DOWN}));
    let token = "examples/tokens/valid-es256.jwt";
    let started = Instant::now();
    let doctor = jwtv(&["doctor", token, "--policy", &policy, "--now", NOW]);
    assert!(started.elapsed() < Duration::from_secs(8), "fails fast: {:?}", started.elapsed());
    assert_undetermined_doctor(&doctor, "step 7 (revocation)");
    for line in [
        "✔ 6 claims      as the policy asks",
        "? 7 revocation  could not run: cannot sync the revocation list redis://127.0.0.1:1",
        "                → the revocation store is unreachable: check it with `jwtv revocations list`",
    ] {
        assert!(doctor.stdout.contains(line), "{line:?} not in\n{}", doctor.stdout);
    }
    let doc = json(&jwtv(&["doctor", token, "--policy", &policy, "--now", NOW, "--json"]).stdout);
    assert_eq!(
        (doc["valid"].as_bool(), doc["verdict"].as_str(), doc["code"].as_str()),
        (Some(false), Some("undetermined"), Some("unavailable"))
    );
    assert_eq!(doc["first_failing_step"], serde_json::Value::Null);
    assert_eq!(
        (doc["steps"][6]["name"].as_str(), doc["steps"][6]["status"].as_str()),
        (Some("revocation"), Some("unavailable"))
    );

    // verify agrees: exit 2, the code and what could not be checked.
    let verify = jwtv(&["verify", token, "--policy", &policy, "--now", NOW]);
    assert_eq!(verify.code, 2, "{verify:?}");
    assert!(verify.stdout.starts_with("undetermined: unavailable ("), "{verify:?}");
    assert!(verify.stdout.contains("reason: cannot sync the revocation list redis://127.0.0.1:1"), "{verify:?}");
    assert!(verify.stdout.contains("whether the token is revoked cannot be checked"), "{verify:?}");
    assert!(verify.stdout.contains("what to do: the revocation store is unreachable"), "{verify:?}");
    let verify = jwtv(&["verify", token, "--policy", &policy, "--now", NOW, "--json"]);
    assert_eq!(verify.code, 2, "{verify:?}");
    assert_eq!(
        json(&verify.stdout),
        json!({"valid": false, "error": {"code": "unavailable", "detail": "revocations",
            "message": "a check the policy requires could not run (key set or revocation list unavailable)"}})
    );

    // A token rejected by the checks before the list stays rejected.
    let expired = jwtv(&["doctor", "examples/tokens/expired-es256.jwt", "--policy", &policy, "--now", NOW]);
    assert_eq!(expired.code, 1, "{expired:?}");
    assert!(expired.stdout.contains("✘ 8 verdict     rejected: expired"), "{}", expired.stdout);
    assert!(expired.stdout.contains("? 7 revocation  could not run"), "{}", expired.stdout);
}

#[test]
fn doctor_with_an_unreadable_revocation_file_gives_no_verdict() {
    let dir = TempDir::new("unavailable-file");
    // A folder where the list file should be: it cannot be read.
    let list = dir.path("revoked.json");
    std::fs::create_dir_all(&list).expect("dir");
    for command in ["doctor", "verify"] {
        let run = jwtv(&[
            command,
            "examples/tokens/valid-es256.jwt",
            "--policy",
            "examples/policy.json",
            "--revocations",
            &list,
        ]);
        assert_eq!(run.code, 2, "{run:?}");
        assert!(!run.stdout.contains("valid"), "{run:?}");
        assert!(run.stderr.contains(&list), "{run:?}");
    }
}

/// A key server that accepts connections and never answers.
fn silent_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}/jwks.json", listener.local_addr().expect("address"));
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming() {
            held.push(stream);
        }
    });
    url
}

#[test]
fn doctor_with_a_key_server_that_never_answers() {
    let url = silent_server();
    let dir = TempDir::new("unavailable-keys");
    let policy = policy_with(&dir, "policy.json", |p| {
        p["keys"] = json!({"jwks_url": url});
        p["refresh"] = json!({"fetch_timeout_ms": 300});
    });
    let token = "examples/tokens/valid-es256.jwt";
    let doctor = jwtv(&["doctor", token, "--policy", &policy, "--now", NOW]);
    assert_undetermined_doctor(&doctor, "step 4 (signing key)");
    for line in [
        format!("? 4 signing key could not run: the key set cannot be loaded: cannot fetch {url}: timed out"),
        "                1 fetch(es): 0 transport error(s), 1 timeout(s), 0 HTTP error(s), 0 unreadable".to_owned(),
        "                → the key server is unreachable or does not serve a key set".to_owned(),
        "                the key set could not be fetched: clock skew not estimated".to_owned(),
    ] {
        assert!(doctor.stdout.contains(&line), "{line:?} not in\n{}", doctor.stdout);
    }
    assert!(!doctor.stdout.contains("from a file"), "the key set is not a file:\n{}", doctor.stdout);

    // jwtv stops waiting (--timeout) before the fetch times out by itself:
    // the fetch it waited for counts as a timeout all the same.
    let impatient = jwtv(&["doctor", token, "--jwks", &url, "--aud", "api", "--timeout", "1", "--now", NOW]);
    assert_undetermined_doctor(&impatient, "step 4 (signing key)");
    assert!(impatient.stdout.contains(&format!("cannot fetch {url}: no answer within 1 s")), "{}", impatient.stdout);
    assert!(impatient.stdout.contains("1 fetch(es): 0 transport error(s), 1 timeout(s)"), "{}", impatient.stdout);
    assert!(!impatient.stdout.contains("from a file"), "{}", impatient.stdout);
    let doc = json(&jwtv(&["doctor", token, "--policy", &policy, "--now", NOW, "--json"]).stdout);
    assert_eq!((doc["verdict"].as_str(), doc["code"].as_str()), (Some("undetermined"), Some("unavailable")));
    assert_eq!(doc["steps"][3]["status"], "unavailable");

    let verify = jwtv(&["verify", token, "--policy", &policy, "--now", NOW, "--json"]);
    assert_eq!(verify.code, 2, "{verify:?}");
    assert_eq!(
        json(&verify.stdout)["error"],
        json!({"code": "unavailable", "detail": "keys",
        "message": "a check the policy requires could not run (key set or revocation list unavailable)"})
    );
    let verify = jwtv(&["verify", token, "--policy", &policy, "--now", NOW]);
    assert_eq!(verify.code, 2, "{verify:?}");
    assert!(verify.stdout.starts_with("undetermined: unavailable ("), "{verify:?}");
    assert!(
        verify.stdout.contains(&format!("reason: cannot fetch {url}: timed out: the signature cannot be checked")),
        "{verify:?}"
    );
}
