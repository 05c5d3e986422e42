//! The policy file: every key source, the bundled example policy against the
//! bundled tokens, and an error naming the field for each kind of mistake.

#![allow(clippy::std_instead_of_alloc, clippy::std_instead_of_core, reason = "a test harness on std")]

use std::path::{Path, PathBuf};

use jwtv::ErrorCode;
use jwtv_gateway::Policy;
use jwtv_jwks::KeySource;

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples")
}

fn token(name: &str) -> String {
    std::fs::read_to_string(examples().join("tokens").join(format!("{name}.jwt"))).expect("token").trim().to_owned()
}

#[track_caller]
fn error(json: &str) -> (String, String) {
    let err = Policy::from_json(json.as_bytes(), examples())
        .err()
        .or_else(|| Policy::from_json(json.as_bytes(), examples()).ok().and_then(|c| c.verifier().err()));
    let err = err.unwrap_or_else(|| panic!("accepted: {json}"));
    (err.field().to_owned(), err.message().to_owned())
}

#[test]
fn the_example_policy_verifies_the_example_tokens() {
    let verifier = Policy::from_file(examples().join("policy.json")).expect("policy").verifier().expect("verifier");
    assert!(matches!(verifier.key_source(), KeySource::File(_)));
    for name in ["valid-es256", "valid-eddsa", "valid-rs256"] {
        verifier.verify_now(token(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    let rejected = [
        ("expired-es256", ErrorCode::Expired),
        ("wrong-aud-es256", ErrorCode::BadAudience),
        ("wrong-key-es256", ErrorCode::BadSignature),
        ("alg-none", ErrorCode::Malformed), // its signature segment is empty
        ("valid-hs256", ErrorCode::AlgNotAllowed),
    ];
    for (name, code) in rejected {
        assert_eq!(verifier.verify_now(token(name)).err().map(|e| e.code()), Some(code), "{name}");
    }
    assert_eq!(verifier.metrics().verified, 3);
}

#[test]
fn every_key_source_kind_loads() {
    let pem = r#"{"keys":{"pem_files":[
        {"path":"keys/test-es256.pub.pem","alg":"ES256","kid":"test-es256"},
        {"path":"keys/test-eddsa.pub.pem","alg":"EdDSA","kid":"test-eddsa"},
        {"path":"keys/test-rs256.pub.pem","alg":"RS256","kid":"test-rs256"}]},
      "algorithms":["ES256","EdDSA","RS256"],"issuers":["https://issuer.example"],"audiences":["api"]}"#;
    let verifier = Policy::from_json(pem.as_bytes(), examples()).expect("config").verifier().expect("pem keys");
    for name in ["valid-es256", "valid-eddsa", "valid-rs256"] {
        verifier.verify_now(token(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    }

    let secret = r#"{"keys":{"secret_files":[{"path":"keys/test-hs256.secret","alg":"HS256","kid":"test-hs256"}]},
      "algorithms":["HS256"],"issuers":["https://issuer.example"],"audiences":["api"]}"#;
    let verifier = Policy::from_json(secret.as_bytes(), examples()).expect("config").verifier().expect("secret");
    verifier.verify_now(token("valid-hs256")).expect("HS256 example");

    let hs_jwks = r#"{"keys":{"jwks_file":"hs256-jwks.json"},"algorithms":["HS256"],"audiences":["api"]}"#;
    let verifier = Policy::from_json(hs_jwks.as_bytes(), examples()).expect("config").verifier().expect("jwks");
    verifier.verify_now(token("valid-hs256")).expect("HS256 example from its own JWKS");

    let inline = r#"{"keys":{"jwks":{"keys":[{"kty":"OKP","crv":"Ed25519","x":"YPs9Vmzu9saQraBCqOf-qJIjQ2LPZs9imx0jbWLGE1w","kid":"test-eddsa"}]}},
      "algorithms":["EdDSA"],"audiences":["api"],"token_cache_size":10}"#;
    let verifier = Policy::from_json(inline.as_bytes(), examples()).expect("config").verifier().expect("inline");
    verifier.verify_now(token("valid-eddsa")).expect("inline JWKS");
    assert!(verifier.verify_now(token("valid-eddsa")).expect("again").from_cache());

    let remote = r#"{"keys":{"jwks_url":"http://127.0.0.1:9/jwks.json"},"algorithms":["ES256"],
      "refresh":{"first_fetch_timeout_ms":50,"fetch_timeout_ms":50}}"#;
    let verifier = Policy::from_json(remote.as_bytes(), examples()).expect("config").verifier().expect("remote");
    assert!(matches!(verifier.key_source(), KeySource::Remote(_)));
    // The key server never answered: the token was not judged.
    let err = verifier.verify_now(token("valid-es256")).expect_err("no keys yet");
    assert_eq!((err.code(), err.detail()), (ErrorCode::Unavailable, Some("keys")));
    assert_eq!(verifier.metrics().rejected_with(ErrorCode::Unavailable), 1);
}

#[test]
fn mistakes_name_their_field() {
    let base = r#""keys":{"jwks_file":"jwks.json"},"algorithms":["ES256"]"#;
    let cases = [
        (format!("{{{base},\"algorithm\":\"ES256\"}}"), "algorithm", "unknown field `algorithm`"),
        (format!("{{{base},\"refresh\":{{\"min_ttl_secs\":\"60\"}}}}"), "refresh.min_ttl_secs", "invalid type"),
        (format!("{{{base},\"refresh\":{{\"ttl\":1}}}}"), "refresh.ttl", "unknown field `ttl`"),
        (
            r#"{"keys":{"jwks_file":"jwks.json"},"algorithms":["ES256","none"]}"#.into(),
            "algorithms[1]",
            "unknown algorithm `none`",
        ),
        (r#"{"keys":{"jwks_file":"jwks.json"},"algorithms":[]}"#.into(), "algorithms", "at least one"),
        (r#"{"algorithms":["ES256"]}"#.into(), "keys", "missing: name a key source"),
        (r#"{"keys":{},"algorithms":["ES256"]}"#.into(), "keys", "missing: name a key source"),
        (r#"{"keys":{"jwks_path":"x"},"algorithms":["ES256"]}"#.into(), "keys.jwks_path", "unknown field `jwks_path`"),
        (
            r#"{"keys":{"jwks_file":"jwks.json","jwks_url":"https://x/"},"algorithms":["ES256"]}"#.into(),
            "keys",
            "name one key source",
        ),
        (r#"{"keys":{"pem":[{"pem":"x","alg":"ES256"}]},"algorithms":["ES256"]}"#.into(), "keys.pem[0]", "PEM"),
        (
            r#"{"keys":{"secrets":[{"k":"c2hvcnQ","alg":"HS256"}]},"algorithms":["HS256"]}"#.into(),
            "keys.secrets[0]",
            "weak",
        ),
        (format!("{{{base},\"leeway_secs\":-1}}"), "leeway_secs", "invalid value"),
        (format!("{{{base},\"audiences\":[\"a\"],\"ignore_audience\":true}}"), "ignore_audience", "cannot be true"),
        (format!("{{{base},\"issuers\":[{}]}}", vec!["\"i\""; 33].join(",")), "issuers", "at most 32"),
        (format!("{{{base},\"audiences\":[{}]}}", vec!["\"a\""; 33].join(",")), "audiences", "at most 32"),
        (format!("{{{base},\"required_claims\":[{}]}}", vec!["\"c\""; 33].join(",")), "required_claims", "at most 32"),
        (
            format!(
                "{{{base},\"required_claim_values\":{{{}}}}}",
                (0..33).map(|i| format!("\"c{i}\":\"v\"")).collect::<Vec<_>>().join(",")
            ),
            "required_claim_values",
            "at most 32 entries (33 given)",
        ),
        (format!("{{{base},\"understood_crit\":[{}]}}", vec!["\"x\""; 33].join(",")), "understood_crit", "at most 32"),
        (format!("{{{base},\"leeway_secs\":301}}"), "leeway_secs", "at most 300 s"),
        (format!("{{{base},\"max_token_len\":0}}"), "max_token_len", "must be positive"),
        // serde reads a struct from an array too (its positional form): refused.
        (r#"[{"jwks_file":"jwks.json"},["ES256"]]"#.into(), "", "expected a JSON object at the top"),
        ("[]".into(), "", "expected a JSON object at the top of the document, found an array"),
        // serde's maps keep the last of two equal names: one rule would vanish.
        (
            format!("{{{base},\"required_claim_values\":{{\"tenant\":\"a\",\"tenant\":\"b\"}}}}"),
            "required_claim_values",
            "duplicate name `tenant`",
        ),
        (
            format!("{{{base},\"refresh\":{{\"min_ttl_secs\":100,\"max_ttl_secs\":10}}}}"),
            "refresh.min_ttl_secs",
            "must not exceed",
        ),
        (format!("{{{base}}} trailing"), "", "trailing characters"),
        (
            format!("{{{base},\"required_claim_values\":{{\"level\":3.5}}}}"),
            "required_claim_values.level",
            "3.5: a number must be an integer",
        ),
        (
            format!("{{{base},\"required_claim_values\":{{\"level\":null}}}}"),
            "required_claim_values.level",
            "expected a string, an integer or a boolean",
        ),
        (
            format!("{{{base},\"required_claim_values\":{{\"roles\":[\"a\"]}}}}"),
            "required_claim_values.roles",
            "expected a string, an integer or a boolean",
        ),
        (
            format!("{{{base},\"required_claim_values\":{{\"/a~2\":\"x\"}}}}"),
            "required_claim_values",
            "`/a~2`: not a JSON Pointer (RFC 6901)",
        ),
        (format!("{{{base},\"required_claims\":[\"/a~\"]}}"), "required_claims", "`/a~`: not a JSON Pointer"),
        (r#"{"keys":{"jwks_file":"missing.json"},"algorithms":["ES256"]}"#.into(), "keys.jwks_file", "cannot read"),
        (r#"{"keys":{"jwks_url":"ftp://x/jwks"},"algorithms":["ES256"]}"#.into(), "keys.jwks_url", "scheme"),
        (
            r#"{"keys":{"pem_files":[{"path":"keys/test-es256.pem","alg":"ES256"}]},"algorithms":["ES256"]}"#.into(),
            "keys.pem_files[0]",
            "private key",
        ),
        (
            r#"{"keys":{"pem_files":[{"path":"keys/test-es256.pub.pem","alg":"RS256"}]},"algorithms":["ES256"]}"#
                .into(),
            "keys.pem_files[0]",
            "does not fit",
        ),
        (
            r#"{"keys":{"secret_files":[{"path":"keys/test-hs256.secret","alg":"HS512"}]},"algorithms":["HS512"]}"#
                .into(),
            "keys.secret_files[0]",
            "weak",
        ),
        (r#"{"keys":{"jwks_file":"jwks.json"},"algorithms":["HS256"]}"#.into(), "keys.jwks_file", "no usable key"),
        // An inline set the same way as a file.
        (r#"{"keys":{"jwks":{"keys":[]}},"algorithms":["ES256"]}"#.into(), "keys.jwks", "no usable key"),
    ];
    for (json, field, message) in cases {
        let (got_field, got_message) = error(&json);
        assert_eq!(got_field, field, "{json}: {got_message}");
        assert!(got_message.to_lowercase().contains(&message.to_lowercase()), "{json}: {got_message}");
    }
}

#[test]
fn rsa_exponents_other_than_65537_need_the_policy_to_allow_them() {
    const N: &str = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
    let policy = |allow: bool| {
        format!(
            r#"{{"keys":{{"jwks":{{"keys":[{{"kty":"RSA","alg":"RS256","kid":"e3","n":"{N}","e":"Aw"}}]}}}},
                "algorithms":["RS256"],"allow_any_rsa_exponent":{allow}}}"#
        )
    };
    // e = 3 is skipped, which leaves a set that verifies nothing: refused, saying why.
    let err = Policy::from_json(policy(false).as_bytes(), examples()).expect("valid").verifier().expect_err("no key");
    assert_eq!(err.field(), "keys.jwks");
    assert!(
        err.message().contains("no usable key") && err.message().contains("RSA public exponent 3 is not allowed"),
        "{err}"
    );
    let verifier = Policy::from_json(policy(true).as_bytes(), examples()).expect("valid").verifier().expect("allowed");
    assert_eq!(verifier.key_set().map(|set| set.len()), Some(1));
}

#[test]
fn a_host_with_an_event_loop_never_waits_whatever_the_policy_says() {
    // The key server accepts and never answers; the policy would wait 5 s.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("listener");
    let policy = format!(
        r#"{{"keys":{{"jwks_url":"http://{}/jwks.json"}},"algorithms":["ES256"],
            "refresh":{{"first_fetch_timeout_ms":5000}}}}"#,
        silent.local_addr().expect("address")
    );
    let verifier =
        Policy::from_json(policy.as_bytes(), examples()).expect("valid").never_waiting().verifier().expect("made");
    let started = std::time::Instant::now();
    let err = verifier.verify_now(token("valid-es256")).expect_err("no keys yet");
    assert!(started.elapsed() < std::time::Duration::from_millis(500), "waited {:?}", started.elapsed());
    assert_eq!((err.code(), err.detail()), (ErrorCode::Unavailable, Some("keys")));
}

#[test]
fn a_ca_file_is_read_relative_to_the_policy_and_refused_with_its_field() {
    let url = r#""keys":{"jwks_url":"https://keys.example/jwks.json"},"algorithms":["ES256"]"#;
    let good = Policy::from_json(format!(r#"{{{url},"tls":{{"ca_file":"keys/test-ca.pem"}}}}"#).as_bytes(), examples())
        .expect("policy");
    good.check_sources().expect("a CA file with a certificate");
    assert!(good.trust_roots().expect("roots").describe().ends_with("test-ca.pem (1 certificates)"));
    assert!(Policy::new(jwtv::AlgorithmSet::ALL).trust_roots().expect("system").describe().starts_with("system"));

    for (file, message) in
        [("keys/missing.pem", "cannot read"), ("keys/test-es256.pub.pem", "no certificate in the file")]
    {
        let policy = Policy::from_json(format!(r#"{{{url},"tls":{{"ca_file":"{file}"}}}}"#).as_bytes(), examples())
            .expect("policy");
        for err in [policy.check_sources().unwrap_err(), policy.verifier().unwrap_err()] {
            assert_eq!(err.field(), "tls.ca_file");
            assert!(err.message().contains(file) && err.message().contains(message), "{err}");
        }
    }
    let (field, message) = error(&format!(r#"{{{url},"tls":{{"cafile":"x"}}}}"#));
    assert_eq!(field, "tls.cafile");
    assert!(message.contains("ca_file"), "{message}");
}
