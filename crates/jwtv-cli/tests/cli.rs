//! The `jwtv` binary, run as a user runs it: every subcommand, every exit
//! code, the `--json` schemas, stdin, a key set served from 127.0.0.1,
//! unreadable files and garbage tokens (never a panic, always a message).

#![allow(clippy::std_instead_of_alloc, clippy::std_instead_of_core, reason = "a test harness on std")]

#[path = "../../jwtv-jwks/tests/support/http_server.rs"]
#[allow(dead_code, reason = "a shared test server; not every helper is used here")]
mod http_server;

mod common;

use common::{NOW, Run, TempDir, json, jwtv, jwtv_with_stdin, root};

use http_server::{Answer, TestServer};
use serde_json::Value;

const CODES: [&str; 19] = [
    "malformed",
    "too_large",
    "unsupported_alg",
    "alg_not_allowed",
    "key_not_found",
    "bad_signature",
    "expired",
    "not_yet_valid",
    "issued_in_future",
    "too_old",
    "bad_issuer",
    "bad_audience",
    "bad_type",
    "missing_claim",
    "bad_claim",
    "unsupported_crit",
    "revoked",
    "unavailable",
    "lifetime_too_long",
];

fn token(name: &str) -> String {
    std::fs::read_to_string(root().join("examples/tokens").join(format!("{name}.jwt"))).expect("example token")
}

/// No command but `sign` prints a whole token or signature.
fn assert_not_leaked(run: &Run, token: &str) {
    let token = token.trim();
    let signature = token.rsplit('.').next().unwrap_or_default();
    for text in [&run.stdout, &run.stderr] {
        assert!(!text.contains(token), "whole token printed: {text}");
        if signature.len() > 12 {
            assert!(!text.contains(signature), "signature printed: {text}");
        }
    }
}

const POLICY: [&str; 4] = ["--policy", "examples/policy.json", "--now", NOW];

#[test]
fn verify_valid_tokens_exit_0_with_the_claims() {
    for name in ["valid-es256", "valid-eddsa", "valid-rs256"] {
        let path = format!("examples/tokens/{name}.jwt");
        let run = jwtv(&[&["verify", path.as_str()][..], &POLICY].concat());
        assert_eq!(run.code, 0, "{name}: {run:?}");
        assert!(run.stdout.starts_with("valid: "), "{run:?}");
        assert!(run.stdout.contains("\"sub\": \"user-1234\""), "{run:?}");
        assert_not_leaked(&run, &token(name));
    }
    let hs = jwtv(&[
        "verify",
        "examples/tokens/valid-hs256.jwt",
        "--jwks",
        "examples/hs256-jwks.json",
        "--aud",
        "api",
        "--now",
        NOW,
    ]);
    assert_eq!(hs.code, 0, "{hs:?}");
}

#[test]
fn verify_rejections_exit_1_with_the_core_codes() {
    let cases = [
        ("expired-es256", "expired"),
        ("wrong-aud-es256", "bad_audience"),
        ("wrong-key-es256", "bad_signature"),
        ("unknown-kid-es256", "key_not_found"),
        ("alg-none", "malformed"),
        ("valid-hs256", "alg_not_allowed"),
    ];
    for (name, code) in cases {
        let path = format!("examples/tokens/{name}.jwt");
        let run = jwtv(&[&["verify", path.as_str()][..], &POLICY].concat());
        assert_eq!(run.code, 1, "{name}: {run:?}");
        assert!(run.stdout.starts_with(&format!("rejected: {code} (")), "{name}: {run:?}");
        assert!(run.stdout.contains("reason: ") && run.stdout.contains("what to do: "), "{run:?}");
        assert_not_leaked(&run, &token(name));

        let run = jwtv(&[&["verify", path.as_str(), "--json"][..], &POLICY].concat());
        assert_eq!(run.code, 1);
        let doc = json(&run.stdout);
        let object = doc.as_object().expect("an object");
        assert_eq!(object.keys().collect::<Vec<_>>(), ["error", "valid"]);
        assert_eq!(doc["valid"], false);
        let error = doc["error"].as_object().expect("error object");
        assert_eq!(error.keys().collect::<Vec<_>>(), ["code", "detail", "message"]);
        assert_eq!(doc["error"]["code"], code);
        assert!(CODES.contains(&code));
        assert!(doc["error"]["message"].as_str().is_some_and(|m| !m.is_empty()));
        assert!(doc["error"]["detail"].is_null() || doc["error"]["detail"].is_string());
    }
}

#[test]
fn a_lifetime_past_the_policys_maximum_is_lifetime_too_long() {
    // The example token lives from 2026-01-01 to 2100-01-01: 2335219200 s.
    let base = ["examples/tokens/valid-es256.jwt", "--policy", "examples/policy.json", "--now", NOW];
    let run = jwtv(&[&["verify"][..], &base, &["--set", "max_lifetime_secs=86400"]].concat());
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stdout.starts_with("rejected: lifetime_too_long ("), "{run:?}");
    assert!(
        run.stdout.contains("the token lives 2335219200 s (exp - iat): longer than the maximum lifetime"),
        "{run:?}"
    );
    assert!(run.stdout.contains("shorten the token lifetime"), "{run:?}");
    let doctor = jwtv(&[&["doctor"][..], &base, &["--set", "max_lifetime_secs=86400"]].concat());
    assert_eq!(doctor.code, 1, "{doctor:?}");
    assert!(doctor.stdout.contains("✘ 5 time        the token lives 2335219200 s (exp - iat)"), "{doctor:?}");
    assert!(doctor.stdout.contains("exp 2100-01-01 00:00:00 UTC"), "{doctor:?}");
    assert!(doctor.stdout.contains("rejected: lifetime_too_long"), "{doctor:?}");
    let ok = jwtv(&[&["verify"][..], &base, &["--set", "max_lifetime_secs=2335219200"]].concat());
    assert_eq!(ok.code, 0, "{ok:?}");
    let zero = jwtv(&[&["verify"][..], &base, &["--set", "max_lifetime_secs=0"]].concat());
    assert_eq!(zero.code, 2, "{zero:?}");
    assert!(zero.stderr.contains("max_lifetime_secs (--set): must be positive"), "{zero:?}");
}

#[test]
fn now_takes_an_rfc_3339_time_as_well_as_unix_seconds() {
    let base = ["verify", "examples/tokens/valid-es256.jwt", "--policy", "examples/policy.json", "--json", "--now"];
    for now in [NOW, "2026-01-01T01:00:00Z", "2026-01-01T02:00:00+01:00"] {
        let run = jwtv(&[&base[..], &[now]].concat());
        assert_eq!(run.code, 0, "{now}: {run:?}");
    }
    let expired = jwtv(&[&base[..], &["2100-01-02T00:00:00Z"]].concat());
    assert_eq!((expired.code, json(&expired.stdout)["error"]["code"].as_str()), (1, Some("expired")), "{expired:?}");
    let bad = jwtv(&[&base[..], &["yesterday"]].concat());
    assert_eq!(bad.code, 2, "{bad:?}");
    assert!(bad.stderr.contains("yesterday: not Unix seconds nor an RFC 3339 time"), "{bad:?}");
    let inspect = jwtv(&["inspect", "examples/tokens/valid-es256.jwt", "--now", "2026-01-01T01:00:00Z"]);
    assert!(inspect.stdout.contains("1 h ago"), "{inspect:?}");
}

#[test]
fn with_json_an_error_without_a_verdict_is_a_json_object_too() {
    let cases: [&[&str]; 4] = [
        &["verify", "examples/tokens/no-such.jwt", "--policy", "examples/policy.json", "--json"],
        &["verify", "examples/tokens/valid-es256.jwt", "--policy", "examples/no-such-policy.json", "--json"],
        &["doctor", "examples/tokens/no-such.jwt", "--jwks", "examples/jwks.json", "--json"],
        &["keys", "examples/no-such-jwks.json", "--json"],
    ];
    for args in cases {
        let run = jwtv(args);
        assert_eq!(run.code, 2, "{args:?}: {run:?}");
        let doc = json(&run.stdout);
        assert_eq!(doc["valid"], Value::Null, "{args:?}");
        let message = doc["error"]["message"].as_str().expect("a message");
        assert!(run.stderr.contains(message), "{args:?}: the same message on stderr: {run:?}");
        assert_eq!(doc.as_object().map(|o| o.len()), Some(2), "{doc}");
    }
    // Without --json: stderr only.
    let run = jwtv(&["verify", "examples/tokens/no-such.jwt", "--policy", "examples/policy.json"]);
    assert_eq!((run.code, run.stdout.as_str()), (2, ""), "{run:?}");
}

#[test]
fn completions_and_the_manual_come_from_the_same_flags() {
    for (shell, marker) in [("bash", "_jwtv()"), ("zsh", "#compdef jwtv"), ("fish", "complete -c jwtv")] {
        let run = jwtv(&["completions", shell]);
        assert_eq!(run.code, 0, "{shell}: {run:?}");
        assert!(run.stdout.contains(marker), "{shell}: {}", run.stdout);
        assert!(run.stdout.contains("revocations") && run.stdout.contains("--policy"), "{shell}");
    }
    let man = jwtv(&["man"]);
    assert_eq!(man.code, 0, "{man:?}");
    assert!(man.stdout.contains(".TH jwtv 1"), "{}", man.stdout);
    assert!(man.stdout.contains("completions") && man.stdout.contains("doctor"));
    assert_eq!(jwtv(&["completions", "cmd.exe"]).code, 2);
}

#[test]
fn color_is_asked_for_or_left_to_the_terminal() {
    let inspect = ["inspect", "examples/tokens/valid-es256.jwt", "--now", NOW];
    let always = jwtv(&[&inspect[..], &["--color", "always"]].concat());
    assert!(always.stdout.starts_with("\x1b[33mUNVERIFIED"), "{always:?}");
    for choice in [&["--color", "never"][..], &[][..], &["--color", "auto"][..]] {
        let run = jwtv(&[&inspect[..], choice].concat());
        assert!(run.stdout.starts_with("UNVERIFIED") && !run.stdout.contains('\x1b'), "{choice:?}: {run:?}");
    }
    // A global option: before the command too.
    let before = jwtv(&[&["--color", "always"][..], &inspect[..]].concat());
    assert_eq!(before.stdout, always.stdout);
    assert_eq!(jwtv(&[&inspect[..], &["--color", "sometimes"]].concat()).code, 2);
}

#[test]
fn verify_json_schema_of_a_valid_token() {
    let run = jwtv(&["verify", "examples/tokens/valid-es256.jwt", "--json", "--policy", "examples/policy.json"]);
    assert_eq!(run.code, 0, "{run:?}");
    let doc = json(&run.stdout);
    assert_eq!(doc.as_object().expect("object").len(), 3);
    assert_eq!(doc["valid"], true);
    assert_eq!(doc["header"]["alg"], "ES256");
    assert_eq!(doc["header"]["kid"], "test-es256");
    assert_eq!(doc["claims"]["aud"], serde_json::json!(["api", "reports"]));
    assert!(run.stdout.starts_with("{\"valid\":true,"), "{}", run.stdout);
}

#[test]
fn verify_flags_without_a_policy_file() {
    let base = ["verify", "examples/tokens/valid-es256.jwt", "--jwks", "examples/jwks.json", "--now", NOW];
    let ok = jwtv(
        &[&base[..], &["--iss", "https://issuer.example", "--aud", "api", "--typ", "JWT", "--require", "tenant"]]
            .concat(),
    );
    assert_eq!(ok.code, 0, "{ok:?}");
    let cases: [(&[&str], &str, Option<&str>); 5] = [
        (&[], "bad_audience", None),
        (&["--aud", "api", "--iss", "https://other.example"], "bad_issuer", None),
        (&["--aud", "api", "--typ", "at+jwt"], "bad_type", None),
        (&["--aud", "api", "--require", "email"], "missing_claim", Some("email")),
        (&["--aud", "api", "--alg", "EdDSA"], "alg_not_allowed", None),
    ];
    for (extra, code, detail) in cases {
        let run = jwtv(&[&base[..], extra, &["--json"]].concat());
        assert_eq!(run.code, 1, "{extra:?}: {run:?}");
        let doc = json(&run.stdout);
        assert_eq!(doc["error"]["code"], code, "{extra:?}");
        if let Some(detail) = detail {
            assert_eq!(doc["error"]["detail"], detail);
        }
    }
    let later = jwtv(&[
        "verify",
        "examples/tokens/valid-es256.jwt",
        "--jwks",
        "examples/jwks.json",
        "--aud",
        "api",
        "--now",
        "5000000000",
    ]);
    assert_eq!((later.code, later.stdout.starts_with("rejected: expired")), (1, true), "{later:?}");
    // Leeway: 100 s late, forgiven by a leeway a little longer.
    let late =
        ["verify", "examples/tokens/expired-es256.jwt", "--policy", "examples/policy.json", "--now", "1767222100"];
    assert_eq!(jwtv(&late).code, 1);
    assert_eq!(jwtv(&[&late[..], &["--leeway", "120"]].concat()).code, 0);
}

#[test]
fn flags_past_a_bound_are_a_usage_error_never_cut_short() {
    let limit = jwtv_gateway::MAX_RULE_LIST_LEN;
    let token = "examples/tokens/valid-es256.jwt";
    // At the bound, the last entry counts: the token's issuer or audience
    // after made-up ones is accepted, a missing claim after present ones
    // is required.
    let cases = [
        ("--iss", "issuers", "https://made-up.example", "https://issuer.example", 0),
        ("--aud", "audiences", "made-up", "api", 0),
        ("--require", "required_claims", "sub", "email", 1),
    ];
    for (flag, field, filler, last, code) in cases {
        let run_with = |command: &str, count: usize| {
            let mut args = vec![command, token, "--jwks", "examples/jwks.json", "--now", NOW];
            if flag != "--aud" {
                args.extend(["--aud", "api"]);
            }
            for _ in 1..count {
                args.extend([flag, filler]);
            }
            args.extend([flag, last]);
            jwtv(&args)
        };
        let at_limit = run_with("verify", limit);
        assert_eq!(at_limit.code, code, "{flag} x {limit}: {at_limit:?}");
        if code == 1 {
            assert!(at_limit.stdout.contains("reason: the token has no \"email\", which is required"), "{at_limit:?}");
        }
        for command in ["verify", "doctor"] {
            let run = run_with(command, limit + 1);
            assert_eq!(run.code, 2, "{flag} x {}: {run:?}", limit + 1);
            assert!(run.stdout.is_empty(), "{run:?}");
            assert_eq!(
                run.stderr,
                format!("jwtv: error: {field} ({flag}): at most {limit} entries ({} given)\n", limit + 1)
            );
        }
    }
    // Flags add to the policy file's lists: its one issuer and 32 more.
    let mut args = vec!["verify", "examples/tokens/valid-es256.jwt", "--policy", "examples/policy.json"];
    let issuers: Vec<String> = (0..limit).map(|i| format!("https://issuer-{i}.example")).collect();
    args.extend(issuers.iter().flat_map(|i| ["--iss", i.as_str()]));
    let run = jwtv(&args);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("issuers (--iss): at most 32 entries (33 given)"), "{run:?}");
    // The leeway is bounded as a server's is.
    let base = ["verify", token, "--jwks", "examples/jwks.json", "--aud", "api", "--now", NOW];
    let leeway = |secs: &str| jwtv(&[&base[..], &["--leeway", secs]].concat());
    assert_eq!(leeway("300").code, 0);
    let run = leeway("301");
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.starts_with("jwtv: error: leeway_secs (--leeway): at most 300 s"), "{run:?}");
}

#[test]
fn tokens_come_from_arguments_files_and_stdin() {
    let text = token("valid-es256");
    let literal = jwtv(&[&["verify", text.trim()][..], &POLICY].concat());
    assert_eq!(literal.code, 0, "{literal:?}");
    assert_not_leaked(&literal, &text);
    let piped = jwtv_with_stdin(&[&["verify", "-"][..], &POLICY].concat(), Some(text.as_bytes()));
    assert_eq!(piped.code, 0, "{piped:?}");
    let bearer = format!("Authorization: Bearer {text}");
    let run = jwtv_with_stdin(&[&["doctor", "-"][..], &POLICY].concat(), Some(bearer.as_bytes()));
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("from stdin"), "{run:?}");
    let inspect = jwtv_with_stdin(&["inspect", "-", "--now", NOW], Some(text.as_bytes()));
    assert_eq!(inspect.code, 0, "{inspect:?}");
    let empty = jwtv_with_stdin(&[&["doctor", "-"][..], &POLICY].concat(), Some(b""));
    assert_eq!(empty.code, 1, "{empty:?}");
    assert!(empty.stdout.contains("✘ 1 token") && empty.stdout.contains("no token"), "{empty:?}");
}

#[test]
fn usage_errors_and_unreadable_input_exit_2() {
    let dir = std::env::temp_dir().join(format!("jwtv-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let binary = dir.join("binary.jwt");
    std::fs::write(&binary, [0xff, 0xfe, 0x00, 0x80]).expect("write");
    let bad_policy = dir.join("policy.json");
    std::fs::write(&bad_policy, r#"{"keys":{"jwks_file":"x.json"},"algorithms":["none"]}"#).expect("write");
    let (binary, bad_policy, dir_str) =
        (binary.to_str().expect("path"), bad_policy.to_str().expect("path"), dir.to_str().expect("path"));
    let valid = "examples/tokens/valid-es256.jwt";
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec![], "Usage"),
        (vec!["frobnicate"], "unrecognized subcommand"),
        (vec!["verify"], "TOKEN"),
        (vec!["verify", valid], "--jwks"),
        (vec!["verify", valid, "--jwks", "examples/jwks.json", "--alg", "none"], "never accepted"),
        (vec!["verify", valid, "--jwks", "examples/jwks.json", "--leeway", "soon"], "invalid value"),
        (vec!["verify", valid, "--jwks", "examples/jwks.json", "--bogus"], "unexpected argument"),
        (
            vec!["verify", "examples/tokens/missing.jwt", "--jwks", "examples/jwks.json"],
            "cannot read examples/tokens/missing.jwt",
        ),
        (vec!["verify", dir_str, "--jwks", "examples/jwks.json"], "cannot read"),
        (vec!["verify", binary, "--jwks", "examples/jwks.json"], "not UTF-8"),
        (vec!["verify", valid, "--jwks", "examples/missing.json"], "cannot read examples/missing.json"),
        (vec!["verify", valid, "--jwks", "examples/policy.json"], "no \"keys\" array"),
        (vec!["verify", valid, "--policy", bad_policy], "algorithms[0]"),
        (vec!["verify", valid, "--policy", "examples/nope.json"], "policy examples/nope.json"),
        (vec!["doctor", valid, "--policy", "examples/nope.json"], "policy examples/nope.json"),
        (vec!["inspect", "examples/tokens/missing.jwt"], "cannot read"),
        (vec!["keys", "examples/missing.json"], "cannot read"),
        (vec!["keys", "ftp://example.com/jwks.json"], "cannot read ftp://example.com/jwks.json"),
        (vec!["sign", "--alg", "ES256", "--key", "examples/keys/test-es256.pub.pem"], "public key cannot sign"),
        (vec!["sign", "--alg", "HS512", "--key", "examples/keys/test-hs256.secret"], "needs at least 64"),
        (vec!["sign", "--alg", "ES384", "--key", "examples/keys/test-es256.pem"], "does not fit ES384"),
        (vec!["sign", "--alg", "ES256", "--key", "examples/keys/test-es256.pem", "--claims", "[1]"], "JSON object"),
        (vec!["sign", "--alg", "ES256", "--key", "examples/keys/test-es256.pem", "--ttl", "1w"], "unknown unit"),
        (vec!["sign", "--alg", "RS256", "--key", "examples/missing.pem"], "cannot read"),
    ];
    for (args, needle) in cases {
        let run = jwtv(&args);
        assert_eq!(run.code, 2, "{args:?}: {run:?}");
        assert!(run.stdout.is_empty(), "{args:?}: nothing on stdout: {run:?}");
        assert!(run.stderr.contains(needle), "{args:?}: {:?} lacks {needle:?}", run.stderr);
    }
    let help = jwtv(&["--help"]);
    assert_eq!(help.code, 0);
    for command in ["inspect", "verify", "doctor", "keys", "sign"] {
        assert!(help.stdout.contains(command), "{help:?}");
        let run = jwtv(&[command, "--help"]);
        assert_eq!(run.code, 0, "{run:?}");
    }
    assert!(jwtv(&["sign", "--help"]).stdout.contains("TESTING AID"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn leeway_help_shows_what_the_policy_file_sets() {
    let dir = TempDir::new("leeway-help");
    let policy = common::policy_with(&dir, "policy.json", |p| p["leeway_secs"] = 90.into());
    for command in ["verify", "doctor"] {
        let run = jwtv(&[command, "--policy", &policy, "--help"]);
        assert!(run.stdout.contains("in seconds [the policy file sets 90]"), "{command}: {}", run.stdout);
        let run = jwtv(&[command, &format!("--policy={policy}"), "--help"]);
        assert!(run.stdout.contains("[the policy file sets 90]"), "{command}: {}", run.stdout);
        let run = jwtv(&[command, "--help"]);
        assert!(run.stdout.contains("in seconds [default: 30]"), "{command}: {}", run.stdout);
    }
}

#[test]
fn garbage_tokens_get_a_clear_message_and_no_panic() {
    let long = "a".repeat(20_000);
    let long_jws = format!("{}.{}.{}", "e".repeat(8000), "e".repeat(8000), "e".repeat(8000));
    let garbage = [
        "hello",
        "a.b",
        "a.b.c",
        "....",
        "a.b.c.d.e",
        "eyJhbGciOiJFUzI1NiJ9.e30.",
        "eyJhbGciOiJFUzI1NiJ9==.e30.AAAA",
        "eyJhbGciOiJFUzI1NiJ9.e30.AA AA",
        "eyJhbGciOiJFUzI1NiJ9.bm90IGpzb24.AAAA",
        "W10.W10.AAAA",
        "e30.e30.AAAA",
        "eyJhbGciOjF9.e30.AAAA",
        "eyJhbGciOiJFUzUxMiJ9.e30.AAAA",
        "eyJhbGciOiJFUzI1NiIsImNyaXQiOlsieCJdLCJ4IjoxfQ.e30.AAAA",
        "eyJhbGciOiJFUzI1NiIsImFsZyI6Im5vbmUifQ.e30.AAAA",
        "eyJhbGciOiJFUzI1NiJ9.eyJleHAiOiJzb29uIn0.AAAA",
        "\u{1F600}.\u{1F600}.\u{1F600}",
        long.as_str(),
        long_jws.as_str(),
    ];
    for bad in garbage {
        let verify = jwtv(&["verify", bad, "--jwks", "examples/jwks.json", "--now", NOW]);
        assert_eq!(verify.code, 1, "{bad}: {verify:?}");
        assert!(verify.stdout.starts_with("rejected: "), "{verify:?}");
        let code =
            json(&jwtv(&["verify", bad, "--jwks", "examples/jwks.json", "--json"]).stdout)["error"]["code"].clone();
        assert!(CODES.contains(&code.as_str().expect("code")), "{code}");
        let doctor = jwtv(&["doctor", bad, "--jwks", "examples/jwks.json", "--now", NOW]);
        assert_eq!(doctor.code, 1, "{bad}: {doctor:?}");
        assert!(doctor.stdout.contains("✘ 8 verdict     rejected: "), "{doctor:?}");
        assert!(
            doctor.stdout.contains("; first failing step: "),
            "{bad}: the failing step is named: {}",
            doctor.stdout
        );
        let inspect = jwtv(&["inspect", bad, "--now", NOW]);
        assert!(inspect.code == 0 || inspect.code == 1, "{inspect:?}");
        assert!(inspect.stdout.contains("UNVERIFIED"), "{inspect:?}");
        for run in [&verify, &doctor, &inspect] {
            if bad.chars().count() > 12 {
                assert!(!run.stdout.contains(bad), "{bad} printed whole");
            }
        }
    }
}

#[test]
fn inspect_shows_header_claims_and_times_unverified() {
    let run = jwtv(&["inspect", "examples/tokens/expired-es256.jwt", "--now", NOW]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.starts_with("UNVERIFIED"), "{run:?}");
    assert!(run.stdout.contains("  exp  2025-12-31 23:00:00 UTC  2 h ago"), "{}", run.stdout);
    assert!(run.stdout.contains("expired 2 h ago (exp)"), "{}", run.stdout);
    assert!(run.stdout.contains("signature: 64 bytes (not shown)"), "{}", run.stdout);
    assert_not_leaked(&run, &token("expired-es256"));

    let none = jwtv(&["inspect", "examples/tokens/alg-none.jwt", "--now", NOW, "--json"]);
    assert_eq!(none.code, 1, "{none:?}");
    let doc = json(&none.stdout);
    let keys: Vec<&String> = doc.as_object().expect("object").keys().collect();
    assert_eq!(keys, ["claims", "header", "problems", "signature_bytes", "times", "verified"]);
    assert_eq!(doc["verified"], false);
    assert_eq!(doc["header"]["alg"], "none");
    assert_eq!(doc["times"]["exp"]["unix"], 4_102_444_800_u64);
    assert_eq!(doc["times"]["exp"]["utc"], "2100-01-01 00:00:00 UTC");
    assert!(doc["problems"][0].as_str().expect("problem").contains("unsigned"), "{doc}");
}

#[test]
fn doctor_names_the_failing_step() {
    let cases = [
        ("valid-es256", 0, "✔ 8 verdict     valid: every check passed"),
        ("expired-es256", 1, "✘ 5 time        exp is 2025-12-31 23:00:00 UTC (2 h ago); leeway 30 s"),
        ("unknown-kid-es256", 1, "✘ 4 signing key no key has kid \"test-es256-2027\""),
        ("wrong-key-es256", 1, "✘ 4 signing key the signature does not verify"),
        ("wrong-aud-es256", 1, "✘ 6 claims      aud is \"someone-else\"; accepted: \"api\""),
        ("alg-none", 1, "✘ 2 structure   the signature segment is empty: an unsigned token"),
        ("valid-hs256", 1, "✘ 3 algorithm   alg \"HS256\" is not among the allowed algorithms"),
    ];
    for (name, code, line) in cases {
        let path = format!("examples/tokens/{name}.jwt");
        let run = jwtv(&[&["doctor", path.as_str()][..], &POLICY].concat());
        assert_eq!(run.code, code, "{name}: {run:?}");
        assert!(run.stdout.contains(line), "{name}: {line:?} not in\n{}", run.stdout);
        assert_not_leaked(&run, &token(name));

        let run = jwtv(&[&["doctor", path.as_str(), "--json"][..], &POLICY].concat());
        let doc = json(&run.stdout);
        assert_eq!(doc["valid"], code == 0);
        assert_eq!(doc["steps"].as_array().expect("steps").len(), 7);
        if code == 1 {
            let step = doc["first_failing_step"].as_u64().expect("a failing step");
            assert_eq!(doc["steps"][usize::try_from(step - 1).expect("index")]["status"], "fail");
            assert!(CODES.contains(&doc["code"].as_str().expect("code")));
        }
    }
    let jwe = jwtv(&["doctor", "eyJhbGciOiJSU0EtT0FFUCJ9.a.b.c.d", "--jwks", "examples/jwks.json"]);
    assert!(jwe.stdout.contains("✘ 1 token       an encrypted token (JWE"), "{}", jwe.stdout);
    let opaque = jwtv(&["doctor", "2YotnFZFEjr1zCsicMWpAA", "--jwks", "examples/jwks.json"]);
    assert!(opaque.stdout.contains("✘ 1 token       an opaque token"), "{}", opaque.stdout);
}

#[test]
fn keys_lists_thumbprints_and_warnings() {
    let run = jwtv(&["keys", "examples/jwks.json"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.starts_with("file examples/jwks.json: 3 keys, 3 usable"), "{run:?}");
    assert!(
        run.stdout.contains("#0 kid \"test-es256\"  EC P-256  alg ES256  use sig  256 bits  usable"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("#2 kid \"test-rs256\"  RSA  alg RS256  use sig  2048 bits  usable"), "{}", run.stdout);
    assert_eq!(run.stdout.matches("   thumbprint ").count(), 3);

    let doc: Value =
        serde_json::from_str(&std::fs::read_to_string(root().join("examples/jwks.json")).expect("jwks")).expect("JSON");
    let [es, ed, rs] = [&doc["keys"][0], &doc["keys"][1], &doc["keys"][2]];
    let mut no_kid = es.clone();
    no_kid.as_object_mut().expect("object").remove("kid");
    no_kid.as_object_mut().expect("object").remove("alg");
    let mut dup_a = ed.clone();
    dup_a["kid"] = "dup".into();
    let mut dup_b = rs.clone();
    dup_b["kid"] = "dup".into();
    let mut enc = rs.clone();
    enc["use"] = "enc".into();
    enc["kid"] = "enc-key".into();
    let weak =
        serde_json::json!({"kty": "RSA", "alg": "RS256", "kid": "weak", "n": "w".repeat(171) + "Q", "e": "AQAB"});
    let set = serde_json::json!({"keys": [no_kid, dup_a, dup_b, enc, weak]});
    let dir = std::env::temp_dir().join(format!("jwtv-cli-keys-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("jwks.json");
    std::fs::write(&path, set.to_string()).expect("write");
    let path = path.to_str().expect("path");

    let run = jwtv(&["keys", path]);
    assert_eq!(run.code, 0, "{run:?}");
    for warning in ["no kid", "no alg", "duplicate kid", "not for signatures", "weak key"] {
        assert!(run.stdout.contains(&format!("warning: {warning}")), "{warning} missing:\n{}", run.stdout);
    }
    let run = jwtv(&["keys", path, "--json"]);
    let doc = json(&run.stdout);
    assert_eq!(doc["usable"], 1);
    let first = &doc["keys"][0];
    for field in ["kid", "kty", "crv", "alg", "use", "bits", "thumbprint", "usable", "skip_reason", "warnings"] {
        assert!(first.get(field).is_some(), "{field} missing in {first}");
    }
    assert_eq!(doc["keys"][3]["skip_reason"], "not_for_signatures");

    std::fs::write(dir.join("empty.json"), r#"{"keys":[]}"#).expect("write");
    let empty = jwtv(&["keys", dir.join("empty.json").to_str().expect("path")]);
    assert_eq!(empty.code, 1, "no usable key: {empty:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn keys_reads_a_pem_public_key_with_the_thumbprint_of_its_jwk() {
    let set = json(&jwtv(&["keys", "examples/jwks.json", "--json"]).stdout);
    for (pem, kid, alg) in [
        ("examples/keys/test-es256.pub.pem", "test-es256", "ES256"),
        ("examples/keys/test-rs256.pub.pem", "test-rs256", "RS256"),
        ("examples/keys/test-eddsa.pub.pem", "test-eddsa", "EdDSA"),
    ] {
        let run = jwtv(&["keys", pem, "--alg", alg, "--json"]);
        assert_eq!(run.code, 0, "{run:?}");
        let doc = json(&run.stdout);
        let listed = set["keys"].as_array().expect("keys").iter().find(|k| k["kid"] == kid).expect("listed");
        assert_eq!(doc["keys"][0]["thumbprint"], listed["thumbprint"], "{pem}");
        assert_eq!((doc["usable"].as_u64(), doc["keys"][0]["alg"].as_str()), (Some(1), Some(alg)), "{pem}");
    }
    // A PEM key verifies as --jwks too.
    let run = jwtv(&[
        "verify",
        "examples/tokens/valid-es256.jwt",
        "--jwks",
        "examples/keys/test-es256.pub.pem",
        "--aud",
        "api",
        "--now",
        NOW,
    ]);
    assert_eq!(run.code, 0, "{run:?}");
    // A private key is refused with the way to its public half.
    let run = jwtv(&["keys", "examples/keys/test-es256.pem"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("a private key: give the public key (openssl pkey -pubout)"), "{}", run.stderr);
}

#[test]
fn cacert_names_a_file_that_cannot_be_used() {
    let dir = TempDir::new("cacert");
    let missing = dir.path("missing.pem");
    let run = jwtv(&["keys", "https://127.0.0.1:9/jwks.json", "--cacert", &missing]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("tls.ca_file (--cacert)") && run.stderr.contains("cannot read"), "{}", run.stderr);
    let not_a_cert = dir.path("key.pem");
    std::fs::copy(root().join("examples/keys/test-es256.pub.pem"), &not_a_cert).expect("copy");
    let run =
        jwtv(&["verify", "examples/tokens/valid-es256.jwt", "--jwks", "examples/jwks.json", "--cacert", &not_a_cert]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("no certificate in the file"), "{}", run.stderr);
    // A usable CA file is taken (a file key set does not need it).
    let run = jwtv(&[
        "verify",
        "examples/tokens/valid-es256.jwt",
        "--jwks",
        "examples/jwks.json",
        "--aud",
        "api",
        "--now",
        NOW,
        "--cacert",
        "examples/keys/test-ca.pem",
    ]);
    assert_eq!(run.code, 0, "{run:?}");
}

#[test]
fn doctor_reads_a_gateways_metrics_and_names_the_patterns() {
    // Two scrapes: the second shows a key server outage and a rotation.
    let scrapes = std::sync::Mutex::new(0);
    let server = TestServer::start(move |request| {
        if request.path != "/metrics" {
            return Answer::status(404, &[]);
        }
        let mut n = scrapes.lock().unwrap();
        *n += 1;
        let text = if *n == 1 {
            "jwtv_verifications_total{result=\"ok\"} 100\njwtv_keys 2\njwtv_key_set_generation 3\n".to_owned()
        } else {
            "# TYPE jwtv_verifications_total counter\njwtv_verifications_total{result=\"ok\"} 150\n\
             jwtv_verifications_total{result=\"key_not_found\"} 50\njwtv_keys 2\njwtv_key_set_generation 4\n\
             jwtv_jwks_consecutive_failures 5\njwtv_jwks_last_failure{reason=\"certificate\"} 1\n"
                .to_owned()
        };
        Answer::ok(text.into_bytes(), &[])
    });
    let url = server.url("/metrics");
    let run = jwtv(&["doctor", "--metrics", &url, "--interval", "0", "--json"]);
    assert_eq!(run.code, 1, "{run:?}");
    let doc = json(&run.stdout);
    let patterns: Vec<&str> =
        doc["findings"].as_array().expect("findings").iter().map(|f| f["pattern"].as_str().unwrap()).collect();
    assert_eq!(patterns, ["key server outage", "rotation in progress"], "{doc}");
    assert_eq!(doc["findings"][0]["runbook"], "3. Verify signing keys");
    assert!(doc["findings"][0]["evidence"].as_str().unwrap().contains("last: certificate"), "{doc}");
    assert_eq!(doc["judged"], 100.0);

    let human = jwtv(&["doctor", "--metrics", &url, "--interval", "0"]);
    assert!(
        human.stdout.contains("✘ key server outage") && human.stdout.contains("runbook: docs/RUNBOOK.md"),
        "{human:?}"
    );

    // A hostile gateway's failure reason reaches the terminal inert.
    let hostile = TestServer::start(|_| {
        let text = "jwtv_verifications_total{result=\"ok\"} 1\njwtv_keys 1\njwtv_jwks_consecutive_failures 1\n\
                    jwtv_jwks_last_failure{reason=\"x\u{1b}[2J\"} 1\n";
        Answer::ok(text.as_bytes().to_vec(), &[])
    });
    let run = jwtv(&["doctor", "--metrics", &hostile.url("/metrics"), "--interval", "0", "--color", "never"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(!run.stdout.contains('\u{1b}') && run.stdout.contains("key server outage"), "{run:?}");

    let nothing = TestServer::start(|_| Answer::ok(b"some_other_metric 1\n".to_vec(), &[]));
    let run = jwtv(&["doctor", "--metrics", &nothing.url("/metrics"), "--interval", "0"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("no jwtv metrics there"), "{run:?}");
}

#[test]
fn a_key_set_served_over_http() {
    let jwks = std::fs::read(root().join("examples/jwks.json")).expect("jwks");
    let server = TestServer::start(move |request| {
        if request.path == "/jwks.json" {
            Answer::ok(jwks.clone(), &[("Cache-Control", "max-age=600"), ("Date", "Thu, 01 Jan 2026 00:00:00 GMT")])
        } else {
            Answer::status(404, &[])
        }
    });
    let url = server.url("/jwks.json");

    let keys = jwtv(&["keys", &url]);
    assert_eq!(keys.code, 0, "{keys:?}");
    assert!(keys.stdout.starts_with(&format!("{url}: 3 keys, 3 usable")), "{keys:?}");
    assert!(keys.stdout.contains("cache lifetime 600 s"), "{}", keys.stdout);
    // --json keeps the fetch details: status, latency, cache lifetime, the server's clock.
    let keys = jwtv(&["keys", &url, "--json"]);
    let fetch = &json(&keys.stdout)["fetch"];
    assert_eq!((fetch["status"].as_u64(), fetch["cache_secs"].as_u64()), (Some(200), Some(600)), "{keys:?}");
    assert!(fetch["latency_ms"].is_u64(), "{keys:?}");
    assert!(fetch["skew_ms"].as_i64().is_some_and(|skew| skew < -86_400_000), "the server's Date is in 2026: {keys:?}");
    let file = jwtv(&["keys", "examples/jwks.json", "--json"]);
    assert!(json(&file.stdout).get("fetch").is_none(), "a file is not fetched: {file:?}");

    let verify = jwtv(&["verify", "examples/tokens/valid-es256.jwt", "--jwks", &url, "--aud", "api", "--now", NOW]);
    assert_eq!(verify.code, 0, "{verify:?}");

    let doctor =
        jwtv(&["doctor", "examples/tokens/expired-es256.jwt", "--policy", "examples/policy.json", "--jwks", &url]);
    assert_eq!(doctor.code, 1, "{doctor:?}");
    assert!(doctor.stdout.contains(&format!("key set: {url} (3 keys, 3 usable); HTTP 200 in ")), "{}", doctor.stdout);
    assert!(doctor.stdout.contains("cache lifetime 10 min"), "{}", doctor.stdout);
    // The server's Date is 2026-01-01: far behind this host's clock.
    assert!(doctor.stdout.contains("behind this host's: check time synchronization"), "{}", doctor.stdout);

    let missing = server.url("/missing.json");
    let keys = jwtv(&["keys", &missing]);
    assert_eq!(keys.code, 2, "{keys:?}");
    assert!(keys.stderr.contains("HTTP status 404"), "{keys:?}");
    let verify = jwtv(&["verify", "examples/tokens/valid-es256.jwt", "--jwks", &missing]);
    assert_eq!(verify.code, 2, "{verify:?}");
    // Without a key set there is no verdict: exit 2, code unavailable.
    let doctor = jwtv(&["doctor", "examples/tokens/valid-es256.jwt", "--jwks", &missing, "--aud", "api"]);
    assert_eq!(doctor.code, 2, "{doctor:?}");
    assert!(
        doctor.stdout.contains("? 4 signing key could not run: the key set cannot be loaded: cannot fetch"),
        "{}",
        doctor.stdout
    );
    assert!(
        doctor.stdout.contains("1 fetch(es): 0 transport error(s), 0 timeout(s), 1 HTTP error(s)"),
        "{}",
        doctor.stdout
    );
    assert!(doctor.stdout.contains("? 8 verdict     undetermined: unavailable"), "{}", doctor.stdout);
}

#[test]
fn sign_makes_tokens_the_verifier_accepts() {
    let cases = [
        ("examples/keys/test-es256.pem", "ES256", "test-es256", "examples/jwks.json"),
        ("examples/keys/test-eddsa.pem", "EdDSA", "test-eddsa", "examples/jwks.json"),
        ("examples/keys/test-rs256.pem", "RS256", "test-rs256", "examples/jwks.json"),
        ("examples/keys/test-hs256.secret", "HS256", "test-hs256", "examples/hs256-jwks.json"),
        ("examples/hs256-jwks.json", "HS256", "test-hs256", "examples/hs256-jwks.json"),
    ];
    for (key, alg, kid, jwks) in cases {
        let signed = jwtv(&[
            "sign",
            "--key",
            key,
            "--alg",
            alg,
            "--kid",
            kid,
            "--iss",
            "https://i",
            "--sub",
            "s",
            "--aud",
            "api",
            "--ttl",
            "1h",
            "--now",
            NOW,
        ]);
        assert_eq!(signed.code, 0, "{key}: {signed:?}");
        let token = signed.stdout.trim();
        assert_eq!(token.split('.').count(), 3);
        let run =
            jwtv(&["verify", token, "--jwks", jwks, "--iss", "https://i", "--aud", "api", "--now", NOW, "--json"]);
        assert_eq!(run.code, 0, "{key}: {run:?}");
        let doc = json(&run.stdout);
        assert_eq!(doc["header"]["kid"], kid);
        assert_eq!(doc["header"]["typ"], "JWT");
        assert_eq!(doc["claims"]["iat"], 1_767_229_200_u64);
        assert_eq!(doc["claims"]["exp"], 1_767_232_800_u64);
        assert_eq!(doc["claims"]["aud"], "api");
    }
    // PS256 with the RSA test key, checked against its public PEM through a policy file.
    let dir = std::env::temp_dir().join(format!("jwtv-cli-sign-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let policy = dir.join("policy.json");
    let pem = root().join("examples/keys/test-rs256.pub.pem");
    let doc = serde_json::json!({"keys": {"pem_files": [{"path": pem, "alg": "PS256"}]}, "algorithms": ["PS256"]});
    std::fs::write(&policy, doc.to_string()).expect("write");
    let signed = jwtv(&[
        "sign",
        "--key",
        "examples/keys/test-rs256.pem",
        "--alg",
        "PS256",
        "--claims",
        r#"{"exp": 4102444800, "x": [1]}"#,
    ]);
    assert_eq!(signed.code, 0, "{signed:?}");
    let run = jwtv(&["verify", signed.stdout.trim(), "--policy", policy.to_str().expect("path"), "--json"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(json(&run.stdout)["claims"]["x"], serde_json::json!([1]));
    let _ = std::fs::remove_dir_all(&dir);
}

/// ES512 follows the crypto backend the binary was built with: valid on
/// aws-lc; on ring the token is `unsupported_alg` (its key set skips the
/// P-521 key) and `--alg ES512` a usage error that says what to build.
#[test]
fn es512_follows_the_backend() {
    let vectors: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("crates/jwtv/tests/vectors/es512/tokens.json")).expect("ES512 vectors"),
    )
    .expect("JSON");
    let dir = TempDir::new("es512");
    let jwks = dir.path("jwks.json");
    std::fs::write(&jwks, format!(r#"{{"keys":[{}]}}"#, vectors["jwk"])).expect("write the key set");
    let token = vectors["tokens"]["valid"].as_str().expect("the valid ES512 token");
    // A file, not stdin: a usage error exits before reading stdin.
    let token_file = dir.path("es512.jwt");
    std::fs::write(&token_file, token).expect("write the token");
    let verify = |extra: &[&str]| {
        let args =
            [&["verify", &token_file, "--jwks", &jwks, "--aud", "api", "--now", NOW, "--json"][..], extra].concat();
        let run = jwtv(&args);
        assert_not_leaked(&run, token);
        run
    };
    let run = verify(&[]);
    if cfg!(feature = "aws-lc") {
        assert_eq!((run.code, &json(&run.stdout)["valid"]), (0, &Value::Bool(true)), "{run:?}");
        assert_eq!(verify(&["--alg", "ES512"]).code, 0);
    } else {
        assert_eq!(run.code, 1, "{run:?}");
        assert_eq!(json(&run.stdout)["error"]["code"], "unsupported_alg", "{run:?}");
        let pinned = verify(&["--alg", "ES512"]);
        assert_eq!(pinned.code, 2, "{pinned:?}");
        assert!(pinned.stderr.contains("ES512 needs the aws-lc backend"), "{pinned:?}");
    }
}
