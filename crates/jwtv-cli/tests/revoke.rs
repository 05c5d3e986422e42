//! `jwtv revoke`, `unrevoke` and `revocations list` on a file back end, and
//! `verify`/`doctor` against the list (`--revocations`, or the policy's
//! `revocations` section): exit codes, messages, the `revoked` code and its
//! detail. A Redis that cannot be reached fails fast with exit 2 (for
//! `verify` and `doctor`: no verdict, code `unavailable`).

#![allow(clippy::std_instead_of_alloc, clippy::std_instead_of_core, reason = "a test harness on std")]

mod common;

use common::{NOW, Run, TempDir, json, jwtv, jwtv_with_stdin, root};
use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

/// A usage error: exit 2, nothing on stdout, `needle` in the message (from
/// jwtv, or from the argument parser).
fn assert_usage_error(run: &Run, needle: &str) {
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stdout.is_empty(), "nothing on stdout: {run:?}");
    assert!(run.stderr.starts_with("jwtv: error: ") || run.stderr.starts_with("error: "), "{run:?}");
    assert!(run.stderr.contains(needle), "{needle:?} not in {run:?}");
}

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).expect("after 1970").as_secs()
}

/// examples/policy.json with absolute key paths and, optionally, a
/// `revocations` section, written into `dir`.
fn policy_with(dir: &TempDir, revocations: Option<&str>) -> String {
    let name = if revocations.is_some() { "policy-revocations.json" } else { "policy.json" };
    common::policy_with(dir, name, |policy| {
        if let Some(source) = revocations {
            policy["revocations"] = json!({"source": source});
        }
    })
}

#[test]
fn a_file_list_revokes_lists_and_unrevokes() {
    let dir = TempDir::new("round-trip");
    let list = dir.path("revoked.json");
    let to = ["--to", list.as_str()];
    let until = (unix_now() + 3600).to_string();

    let jti = jwtv(&[&["revoke", "jti", "t-1", "--until", until.as_str()][..], &to].concat());
    assert_eq!(jti.code, 0, "{jti:?}");
    assert!(jti.stdout.starts_with("revoked jti t-1 until "), "{jti:?}");
    assert!(jti.stdout.ends_with(&format!(" UTC (file {list})\n")), "{jti:?}");
    assert_eq!(jti.stdout.lines().count(), 1);
    assert!(Path::new(&list).is_file(), "revoke creates the file");

    let sub = jwtv(&[&["revoke", "sub", "user-1", "--before", NOW][..], &to].concat());
    assert_eq!(sub.code, 0, "{sub:?}");
    assert_eq!(
        sub.stdout,
        format!("revoked sub user-1 for tokens issued before 2026-01-01 01:00:00 UTC (file {list})\n")
    );
    let before = unix_now();
    let kid = jwtv(&[&["revoke", "kid", "test-es256"][..], &to].concat());
    assert_eq!(kid.code, 0, "{kid:?}");
    assert!(kid.stdout.starts_with("revoked kid test-es256 since "), "{kid:?}");

    let on_disk: Value = serde_json::from_slice(&std::fs::read(&list).expect("list")).expect("JSON");
    assert_eq!(on_disk["jti"]["t-1"], until.parse::<u64>().expect("u64"));
    assert_eq!(on_disk["sub"]["user-1"], 1_767_229_200_u64);
    let since = on_disk["kid"]["test-es256"].as_u64().expect("since");
    assert!(since >= before && since <= unix_now(), "since is now: {since}");

    let text = jwtv(&[&["revocations", "list"][..], &to].concat());
    assert_eq!(text.code, 0, "{text:?}");
    let lines: Vec<&str> = text.stdout.lines().collect();
    assert_eq!(lines[0], format!("revocation list: file {list}; 3 entries: 1 jti, 1 sub, 1 kid"));
    assert!(lines[1].starts_with("KIND  ID          TIME ") && lines[1].ends_with("MEANING"), "{lines:?}");
    assert!(lines[2].starts_with("jti   t-1         ") && lines[2].contains(" UTC (in "), "{lines:?}");
    assert!(lines[2].ends_with("this token is rejected until its exp"), "{lines:?}");
    assert!(lines[3].starts_with("sub   user-1      2026-01-01 01:00:00 UTC ("), "{lines:?}");
    assert!(
        lines[4].starts_with("kid   test-es256  ") && lines[4].contains("every token signed by this key"),
        "{lines:?}"
    );
    assert_eq!(lines.len(), 5);

    let listed = jwtv(&[&["revocations", "list", "--json"][..], &to].concat());
    assert_eq!(listed.code, 0, "{listed:?}");
    assert_eq!(
        json(&listed.stdout),
        json!([
            {"kind": "jti", "id": "t-1", "time": until.parse::<u64>().expect("u64")},
            {"kind": "sub", "id": "user-1", "time": 1_767_229_200_u64},
            {"kind": "kid", "id": "test-es256", "time": since},
        ])
    );

    let removed = jwtv(&[&["unrevoke", "jti", "t-1"][..], &to].concat());
    assert_eq!((removed.code, removed.stdout.as_str()), (0, format!("unrevoked jti t-1 (file {list})\n").as_str()));
    let again = jwtv(&[&["unrevoke", "jti", "t-1"][..], &to].concat());
    assert_eq!(again.code, 1, "{again:?}");
    assert_eq!(again.stdout, format!("not revoked: no jti entry t-1 in file {list}\n"));
    let after = jwtv(&[&["revocations", "list", "--json"][..], &to].concat());
    assert_eq!(json(&after.stdout).as_array().map(Vec::len), Some(2), "{after:?}");
    let kid_kept = jwtv(&[&["unrevoke", "kid", "test-es256"][..], &to].concat());
    assert_eq!(kid_kept.code, 0, "{kid_kept:?}");
    let sub_kept = jwtv(&[&["unrevoke", "sub", "user-1"][..], &to].concat());
    assert_eq!(sub_kept.code, 0, "{sub_kept:?}");
    let empty = jwtv(&[&["revocations", "list"][..], &to].concat());
    assert_eq!(empty.stdout, format!("revocation list: file {list}; 0 entries: 0 jti, 0 sub, 0 kid\n"));
    assert_eq!(json(&jwtv(&[&["revocations", "list", "--json"][..], &to].concat()).stdout), json!([]));
}

#[test]
fn revoke_token_takes_its_jti_and_exp() {
    let dir = TempDir::new("token");
    let list = dir.path("revoked.json");
    let to = ["--to", list.as_str()];
    let token = std::fs::read_to_string(root().join("examples/tokens/valid-es256.jwt")).expect("token");

    let run = jwtv(&[&["revoke", "token", "examples/tokens/valid-es256.jwt"][..], &to].concat());
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        run.stdout,
        format!(
            "revoked jti example-0001 until 2100-01-01 00:00:00 UTC (file {list}), token eyJhbGciOiJF… (394 chars) from examples/tokens/valid-es256.jwt\n"
        )
    );
    assert!(!run.stdout.contains(token.trim()), "the token is never printed whole");
    let piped = jwtv_with_stdin(&[&["revoke", "token", "-"][..], &to].concat(), Some(token.as_bytes()));
    assert_eq!(piped.code, 0, "{piped:?}");
    assert!(piped.stdout.ends_with("from stdin\n"), "{piped:?}");
    let listed = json(&jwtv(&[&["revocations", "list", "--json"][..], &to].concat()).stdout);
    assert_eq!(listed, json!([{"kind": "jti", "id": "example-0001", "time": 4_102_444_800_u64}]));

    // {"sub":"user-9","exp":4102444800}: no jti.
    let no_jti = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ1c2VyLTkiLCJleHAiOjQxMDI0NDQ4MDB9.AAAA";
    assert_usage_error(&jwtv(&[&["revoke", "token", no_jti][..], &to].concat()), "has no jti claim");
    // {"jti":"j-1","sub":"user-9"}: no exp.
    let no_exp = "eyJhbGciOiJFUzI1NiJ9.eyJqdGkiOiJqLTEiLCJzdWIiOiJ1c2VyLTkifQ.AAAA";
    assert_usage_error(&jwtv(&[&["revoke", "token", no_exp][..], &to].concat()), "has no exp claim");
    assert_usage_error(&jwtv(&[&["revoke", "token", "not-a-jwt"][..], &to].concat()), "cannot be decoded");
    // Expired long ago: verifiers reject it anyway.
    let expired = jwtv(&[&["revoke", "token", "examples/tokens/expired-es256.jwt"][..], &to].concat());
    assert_usage_error(&expired, "nothing to revoke");
    assert_usage_error(&jwtv(&[&["revoke", "jti", "old", "--until", "1000"][..], &to].concat()), "nothing to revoke");
    // What revoke accepts agrees with what verifiers accept: a verifier may
    // have up to 300 s of leeway, so a token 290 s past its exp can still
    // pass one and is revoked; 310 s past it, none accepts it.
    let now = SystemTime::now().duration_since(UNIX_EPOCH).expect("clock").as_secs();
    let late = (now - 290).to_string();
    let late_run = jwtv(&[&["revoke", "jti", "late", "--until", late.as_str()][..], &to].concat());
    assert_eq!(late_run.code, 0, "{late_run:?}");
    let gone = (now - 310).to_string();
    assert_usage_error(
        &jwtv(&[&["revoke", "jti", "gone", "--until", gone.as_str()][..], &to].concat()),
        "at most 300 s",
    );
    assert!(jwtv(&[&["unrevoke", "jti", "late"][..], &to].concat()).code == 0);
    let unchanged = json(&jwtv(&[&["revocations", "list", "--json"][..], &to].concat()).stdout);
    assert_eq!(unchanged, listed, "failed commands change nothing");
}

#[test]
fn missing_options_and_bad_sources_exit_2() {
    let dir = TempDir::new("usage");
    let missing = dir.path("missing.json");
    let no_section = policy_with(&dir, None);
    let invalid = dir.path("invalid.json");
    std::fs::write(&invalid, r#"{"jti":{"a":"soon"}}"#).expect("write");
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["revoke", "kid", "k"], "--to SOURCE"),
        (vec!["revoke", "kid", "k"], "--policy FILE"),
        (vec!["unrevoke", "kid", "k"], "--to SOURCE"),
        (vec!["revocations", "list"], "--policy FILE"),
        (vec!["revoke", "token", "examples/tokens/valid-es256.jwt"], "--to SOURCE"),
        (vec!["revoke", "kid", "k", "--policy", &no_section], "has no revocations section"),
        (vec!["revoke", "kid", "k", "--policy", "examples/nope.json"], "policy examples/nope.json"),
        (vec!["revocations", "list", "--to", &missing], "No such file"),
        (vec!["unrevoke", "kid", "k", "--to", &missing], "No such file"),
        (vec!["revocations", "list", "--to", &invalid], "invalid revocation list"),
        (vec!["revoke", "kid", "k", "--to", &invalid], "invalid revocation list"),
        (vec!["revoke", "kid", "", "--to", &missing], "an empty id"),
        (vec!["revoke", "kid", "k", "--to", "https://example.com/list"], "unsupported scheme"),
        (vec!["revoke", "jti", "t-1", "--to", &missing], "--until"),
        (vec!["revoke", "jti", "t-1", "--until", "tomorrow", "--to", &missing], "invalid value"),
        (vec!["unrevoke", "user", "k", "--to", &missing], "jti, sub or kid"),
        (vec!["revoke", "email", "k"], "unrecognized subcommand"),
        (
            vec![
                "verify",
                "examples/tokens/valid-es256.jwt",
                "--jwks",
                "examples/jwks.json",
                "--revocations",
                &missing,
            ],
            "No such file",
        ),
        (
            vec![
                "doctor",
                "examples/tokens/valid-es256.jwt",
                "--jwks",
                "examples/jwks.json",
                "--revocations",
                &invalid,
            ],
            "invalid revocation list",
        ),
    ];
    for (args, needle) in cases {
        let run = jwtv(&args);
        assert_usage_error(&run, needle);
    }
    assert!(!Path::new(&missing).exists(), "failed commands create no file");
    for command in [&["revoke", "--help"][..], &["unrevoke", "--help"], &["revocations", "list", "--help"]] {
        assert_eq!(jwtv(command).code, 0, "{command:?}");
    }
    let help = jwtv(&["--help"]).stdout;
    assert!(help.contains("revoke") && help.contains("unrevoke") && help.contains("revocations"), "{help}");
}

#[test]
fn the_policy_names_the_list_and_to_wins() {
    let dir = TempDir::new("policy");
    let policy = policy_with(&dir, Some("from-policy.json"));
    let from_policy = dir.path("from-policy.json");

    // Relative to the policy file's folder, created by the first revoke.
    let run = jwtv(&["revoke", "sub", "user-1234", "--before", "1767229201", "--policy", &policy]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.ends_with(&format!("(file {from_policy})\n")), "{run:?}");
    let listed = jwtv(&["revocations", "list", "--json", "--policy", &policy]);
    assert_eq!(json(&listed.stdout), json!([{"kind": "sub", "id": "user-1234", "time": 1_767_229_201_u64}]));

    let elsewhere = dir.path("elsewhere.json");
    let run = jwtv(&["revoke", "kid", "test-eddsa", "--policy", &policy, "--to", &elsewhere]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.ends_with(&format!("(file {elsewhere})\n")), "{run:?}");
    assert_eq!(
        json(&jwtv(&["revocations", "list", "--json", "--policy", &policy]).stdout).as_array().map(Vec::len),
        Some(1)
    );

    // verify reads the policy's list; --revocations replaces it.
    let verify = |extra: &[&str]| {
        let args =
            [&["verify", "examples/tokens/valid-es256.jwt", "--policy", &policy, "--now", NOW, "--json"][..], extra]
                .concat();
        jwtv(&args)
    };
    let by_sub = verify(&[]);
    assert_eq!(by_sub.code, 1, "{by_sub:?}");
    let doc = json(&by_sub.stdout);
    assert_eq!((doc["error"]["code"].as_str(), doc["error"]["detail"].as_str()), (Some("revoked"), Some("sub")));
    let overridden = verify(&["--revocations", &elsewhere]);
    assert_eq!(overridden.code, 0, "the policy's list is replaced: {overridden:?}");
    let eddsa = jwtv(&[
        "verify",
        "examples/tokens/valid-eddsa.jwt",
        "--policy",
        &policy,
        "--now",
        NOW,
        "--json",
        "--revocations",
        &elsewhere,
    ]);
    assert_eq!(eddsa.code, 1, "{eddsa:?}");
    let doc = json(&eddsa.stdout);
    assert_eq!((doc["error"]["code"].as_str(), doc["error"]["detail"].as_str()), (Some("revoked"), Some("kid")));
}

#[test]
fn verify_and_doctor_reject_a_revoked_key() {
    let dir = TempDir::new("verify");
    let list = dir.path("revoked.json");
    let token = "examples/tokens/valid-es256.jwt";
    let base = ["--policy", "examples/policy.json", "--now", NOW];
    assert_eq!(jwtv(&[&["verify", token][..], &base].concat()).code, 0, "valid before the revocation");
    let run = jwtv(&["revoke", "kid", "test-es256", "--to", &list]);
    assert_eq!(run.code, 0, "{run:?}");
    let with_list = [&base[..], &["--revocations", list.as_str()]].concat();

    let text = jwtv(&[&["verify", token][..], &with_list].concat());
    assert_eq!(text.code, 1, "{text:?}");
    assert!(
        text.stdout.starts_with("rejected: revoked (the token, its subject or its signing key has been revoked)\n")
    );
    assert!(text.stdout.contains("reason: the signing key (kid \"test-es256\") was revoked on "), "{}", text.stdout);
    assert!(text.stdout.contains("what to do: the signing key was revoked: the issuer must sign with another key"));

    let doc = json(&jwtv(&[&["verify", token, "--json"][..], &with_list].concat()).stdout);
    assert_eq!(
        doc,
        json!({"valid": false, "error": {"code": "revoked", "detail": "kid", "message": "the token, its subject or its signing key has been revoked"}})
    );

    let doctor = jwtv(&[&["doctor", token][..], &with_list].concat());
    assert_eq!(doctor.code, 1, "{doctor:?}");
    for line in [
        "✔ 6 claims      as the policy asks",
        "✘ 7 revocation  revoked by kid: the signing key (kid \"test-es256\") was revoked on ",
        &format!("                revocation list: file {list}; 1 entry: 0 jti, 0 sub, 1 kid"),
        "                → the signing key was revoked: the issuer must sign with another key",
        "✘ 8 verdict     rejected: revoked (the token, its subject or its signing key has been revoked); first failing step: 7 (revocation)",
    ] {
        assert!(doctor.stdout.contains(line), "{line:?} not in\n{}", doctor.stdout);
    }
    let doc = json(&jwtv(&[&["doctor", token, "--json"][..], &with_list].concat()).stdout);
    assert_eq!((doc["valid"].as_bool(), doc["code"].as_str()), (Some(false), Some("revoked")));
    assert_eq!(doc["first_failing_step"], 7);
    assert_eq!(
        (doc["steps"][6]["name"].as_str(), doc["steps"][6]["status"].as_str()),
        (Some("revocation"), Some("fail"))
    );

    // Another key's token passes, and doctor says it is not listed.
    let eddsa = jwtv(&[&["doctor", "examples/tokens/valid-eddsa.jwt"][..], &with_list].concat());
    assert_eq!(eddsa.code, 0, "{eddsa:?}");
    assert!(
        eddsa
            .stdout
            .contains("✔ 7 revocation  not revoked: jti \"example-0001\", sub \"user-1234\", kid \"test-eddsa\""),
        "{}",
        eddsa.stdout
    );
    assert!(eddsa.stdout.contains("✔ 8 verdict     valid: every check passed"), "{}", eddsa.stdout);

    // An expired token fails at the time step first; the verdict stays `expired`.
    let expired = jwtv(&[&["verify", "examples/tokens/expired-es256.jwt", "--json"][..], &with_list].concat());
    assert_eq!(json(&expired.stdout)["error"]["code"], "expired");

    // By jti and by subject, with the detail naming the list.
    let unrevoked = jwtv(&["unrevoke", "kid", "test-es256", "--to", &list]);
    assert_eq!(unrevoked.code, 0, "{unrevoked:?}");
    assert_eq!(jwtv(&[&["verify", token][..], &with_list].concat()).code, 0, "valid again");
    let run = jwtv(&["revoke", "token", token, "--to", &list]);
    assert_eq!(run.code, 0, "{run:?}");
    let by_jti = jwtv(&[&["verify", token, "--json"][..], &with_list].concat());
    assert_eq!(by_jti.code, 1);
    assert_eq!(
        json(&by_jti.stdout)["error"],
        json!({"code": "revoked", "detail": "jti", "message": "the token, its subject or its signing key has been revoked"})
    );
    let doctor = jwtv(&[&["doctor", token][..], &with_list].concat());
    assert!(
        doctor.stdout.contains("✘ 7 revocation  revoked by jti: this token was revoked (jti \"example-0001\")"),
        "{}",
        doctor.stdout
    );
    assert_eq!(jwtv(&["unrevoke", "jti", "example-0001", "--to", &list]).code, 0);
    // The token was issued at 2026-01-01 00:00:00: a subject revoked after that.
    assert_eq!(jwtv(&["revoke", "sub", "user-1234", "--before", NOW, "--to", &list]).code, 0);
    let by_sub = jwtv(&[&["verify", token][..], &with_list].concat());
    assert_eq!(by_sub.code, 1, "{by_sub:?}");
    assert!(
        by_sub.stdout.contains(
            "reason: every token of subject \"user-1234\" issued before 2026-01-01 01:00:00 UTC (now) was revoked; this one was issued 2026-01-01 00:00:00 UTC"
        ),
        "{}",
        by_sub.stdout
    );
    assert!(by_sub.stdout.contains("what to do: every token of this user issued before the revocation is refused"));
    let doc = json(&jwtv(&[&["verify", token, "--json"][..], &with_list].concat()).stdout);
    assert_eq!((doc["error"]["code"].as_str(), doc["error"]["detail"].as_str()), (Some("revoked"), Some("sub")));
    // A token issued after the subject's time is accepted.
    let later = jwtv(&["revoke", "sub", "user-1234", "--before", "1767225600", "--to", &list]);
    assert_eq!(later.code, 0, "the stronger (later) entry is kept: {later:?}");
    assert!(later.stdout.contains("issued before 2026-01-01 01:00:00 UTC"), "{later:?}");
}

#[test]
fn doctor_without_a_list_says_so() {
    let run = jwtv(&["doctor", "examples/tokens/valid-es256.jwt", "--policy", "examples/policy.json", "--now", NOW]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.contains(
            "· 7 revocation  not checked: no revocation list is configured (--revocations SOURCE, or revocations.source in the policy)"
        ),
        "{}",
        run.stdout
    );
    let garbage = jwtv(&["doctor", "a.b.c", "--jwks", "examples/jwks.json", "--revocations", "/nonexistent/x.json"]);
    assert_usage_error(&garbage, "No such file");
}

#[test]
fn an_unreachable_redis_fails_fast_with_exit_2() {
    // Nothing listens on port 1; the password must never be printed.
    let url = "redis://jwtv:hunter2-secret@127.0.0.1:1";
    let token = "examples/tokens/valid-es256.jwt";
    let cases: [&[&str]; 5] = [
        &["revocations", "list", "--to", url],
        &["revocations", "list", "--json", "--to", url],
        &["revoke", "kid", "test-es256", "--to", url],
        &["revoke", "token", token, "--to", url],
        &["unrevoke", "sub", "user-1", "--to", url],
    ];
    for args in cases {
        let started = Instant::now();
        let run = jwtv(args);
        let took = started.elapsed();
        if args.contains(&"--json") {
            // The same error as a JSON object on stdout, for scripts.
            let doc: Value = serde_json::from_str(&run.stdout).expect("JSON on stdout");
            assert_eq!(doc["valid"], Value::Null);
            assert!(doc["error"]["message"].as_str().is_some_and(|m| m.contains("127.0.0.1:1")), "{run:?}");
            assert!(!run.stdout.contains("hunter2"), "password printed: {run:?}");
            assert_eq!(run.code, 2, "{run:?}");
        } else {
            assert_usage_error(&run, "127.0.0.1:1");
        }
        assert!(run.stderr.contains("redis"), "{run:?}");
        assert!(!run.stderr.contains("hunter2"), "password printed: {run:?}");
        assert!(took < Duration::from_secs(8), "{args:?} took {took:?}");
    }
    // verify and doctor give no verdict (tests/unavailable.rs has more).
    for command in ["verify", "doctor"] {
        let run = jwtv(&[command, token, "--policy", "examples/policy.json", "--now", NOW, "--revocations", url]);
        assert_eq!(run.code, 2, "no verdict without the list: {run:?}");
        assert!(run.stdout.contains("cannot sync the revocation list redis://"), "{run:?}");
        assert!(run.stdout.contains("undetermined: unavailable"), "{run:?}");
        assert!(!run.stdout.contains("hunter2"), "password printed: {run:?}");
    }
}
