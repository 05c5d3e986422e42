//! The two crypto backends give the same verdicts.
//!
//! This suite runs one fixed corpus through whichever backend the build uses
//! (ring by default, aws-lc with `--features aws-lc`) and compares every
//! verdict with `vectors/verdicts.txt`, the one list both builds answer to;
//! the test command runs it under both. A line `<case> <verdict>` holds for
//! both backends; a line `<case> ring=<verdict> aws-lc=<verdict>` names a
//! deliberate difference, and only ES512 cases may have one.
//!
//! The corpus: every Project Wycheproof JWS case with its group's key, ES512
//! tokens (`vectors/es512`), and for every token that verifies, families of
//! mutations whose verdicts are counted by code: each bit of the signature
//! flipped, the signature cut, lengthened, zeroed or DER-encoded, each
//! payload character changed, the header's `alg` swapped for every other
//! name, and EC keys moved off their curve.
//!
//! After a deliberate change: `JWTV_BLESS=1 cargo test -p jwtv --test
//! differential` under each backend rewrites that backend's column.

#![allow(clippy::std_instead_of_alloc, reason = "a test harness on std")]

mod common;

use core::fmt::Write as _;
use std::collections::BTreeMap;

use common::{b64url, b64url_decode, key_from_jwk};
use jwtv::{Algorithm, Policy, Verifier, VerifyingKey};
use serde_json::Value;

const WYCHEPROOF: &str = include_str!("vectors/wycheproof/json_web_signature_test.json");
const ES512: &str = include_str!("vectors/es512/tokens.json");
const VERDICTS: &str = "tests/vectors/verdicts.txt";
const BACKEND: &str = if cfg!(feature = "aws-lc") { "aws-lc" } else { "ring" };
/// The clock of the ES512 tokens' claims.
const NOW: u64 = 1_700_000_000;

/// One case: its name, its verdict on this backend, and whether it involves ES512.
struct Verdict {
    case: String,
    verdict: String,
    es512: bool,
}

#[derive(Default)]
struct Corpus {
    verdicts: Vec<Verdict>,
}

impl Corpus {
    fn push(&mut self, case: String, verdict: String, es512: bool) {
        self.verdicts.push(Verdict { case, verdict, es512 });
    }

    /// A token and, when `mutate`, its mutation families.
    fn token(
        &mut self,
        case: &str,
        keys: &[VerifyingKey],
        token: &str,
        es512: bool,
        verify: &dyn Fn(&[VerifyingKey], &str) -> String,
        mutate: bool,
    ) {
        self.push(case.to_owned(), verify(keys, token), es512);
        if !mutate {
            return;
        }
        for (family, tokens) in mutations(token) {
            let mut counts: BTreeMap<String, usize> = BTreeMap::new();
            for mutated in &tokens {
                *counts.entry(verify(keys, mutated)).or_default() += 1;
            }
            let summary = counts.iter().map(|(code, n)| format!("{code}={n}")).collect::<Vec<_>>().join(",");
            self.push(format!("{case}/{family}"), summary, es512 || family.ends_with("es512"));
        }
    }
}

fn verdict<T>(result: Result<T, jwtv::Error>) -> String {
    match result {
        Ok(_) => "valid".to_owned(),
        Err(e) => e.code().as_str().to_owned(),
    }
}

fn verify_jws(keys: &[VerifyingKey], token: &str) -> String {
    let mut buf = vec![0u8; jwtv::DEFAULT_BUFFER_LEN];
    verdict(Verifier::new(keys, Policy::new()).verify_jws(token, &mut buf))
}

fn verify_jwt(keys: &[VerifyingKey], token: &str) -> String {
    let mut buf = vec![0u8; jwtv::DEFAULT_BUFFER_LEN];
    verdict(
        Verifier::new(keys, Policy::new().issuer("https://issuer.example").audience("api"))
            .verify(token, NOW, &mut buf),
    )
}

/// Mutation families of a token that verifies, by name.
fn mutations(token: &str) -> Vec<(&'static str, Vec<String>)> {
    let [header, payload, signature] = {
        let mut parts = token.split('.');
        [parts.next(), parts.next(), parts.next()].map(|p| p.expect("three segments"))
    };
    let sig = b64url_decode(signature).expect("canonical signature");
    let with_sig = |s: &[u8]| format!("{header}.{payload}.{}", b64url(s));
    let mut families = Vec::new();

    let bits = (0..sig.len() * 8)
        .map(|bit| {
            let mut s = sig.clone();
            s[bit / 8] ^= 1 << (bit % 8);
            with_sig(&s)
        })
        .collect();
    families.push(("signature-bits", bits));
    let mut longer = sig.clone();
    longer.push(0);
    let mut shapes = vec![with_sig(&sig[..sig.len() - 1]), with_sig(&longer), with_sig(&vec![0; sig.len()])];
    if let Some(der) = ecdsa_der(&sig) {
        shapes.push(with_sig(&der));
    }
    families.push(("signature-shapes", shapes));

    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let payload_chars = (0..payload.len())
        .filter_map(|i| {
            let mut p = payload.as_bytes().to_vec();
            let at = ALPHABET.iter().position(|&c| c == p[i])?;
            p[i] = ALPHABET[(at + 1) % ALPHABET.len()];
            let p = String::from_utf8(p).ok()?;
            // Only mutations that stay canonical base64url change the signed bytes.
            b64url_decode(&p)?;
            Some(format!("{header}.{p}.{signature}"))
        })
        .collect();
    families.push(("payload-chars", payload_chars));

    if let Some(decoded) = b64url_decode(header).and_then(|h| serde_json::from_slice::<Value>(&h).ok()) {
        let swap = |name: &str| {
            let mut h = decoded.clone();
            h["alg"] = Value::from(name);
            format!("{}.{payload}.{signature}", b64url(h.to_string().as_bytes()))
        };
        // ES512 on its own line: the one name whose verdict depends on the backend.
        let names = [
            "HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA",
            "none",
        ];
        families
            .push(("alg-swaps", names.iter().filter(|&&name| decoded["alg"] != name).map(|name| swap(name)).collect()));
        if decoded["alg"] != "ES512" {
            families.push(("alg-swap-es512", vec![swap("ES512")]));
        }
    }
    families
}

/// An ECDSA `r ‖ s` signature (64, 96 or 132 bytes) as DER, the form JWS forbids.
fn ecdsa_der(sig: &[u8]) -> Option<Vec<u8>> {
    if ![64, 96, 132].contains(&sig.len()) {
        return None;
    }
    let (r, s) = sig.split_at(sig.len() / 2);
    let integer = |x: &[u8]| {
        let x = &x[x.iter().position(|&b| b != 0).unwrap_or(x.len() - 1)..];
        let mut out = vec![0x02];
        let pad = x[0] & 0x80 != 0;
        out.push(u8::try_from(x.len() + usize::from(pad)).expect("short"));
        if pad {
            out.push(0);
        }
        out.extend_from_slice(x);
        out
    };
    let body = [integer(r), integer(s)].concat();
    let mut der = vec![0x30];
    if body.len() >= 0x80 {
        der.push(0x81);
    }
    der.push(u8::try_from(body.len()).expect("short"));
    der.extend_from_slice(&body);
    Some(der)
}

/// The EC key of `jwk` with the last byte of `y` changed: off its curve.
fn off_curve_jwk(jwk: &Value) -> Option<VerifyingKey> {
    if jwk["kty"] != "EC" {
        return None;
    }
    let x = b64url_decode(jwk["x"].as_str()?)?;
    let mut y = b64url_decode(jwk["y"].as_str()?)?;
    *y.last_mut()? ^= 1;
    let alg = key_from_jwk(jwk).ok()?.algorithm();
    VerifyingKey::ecdsa_from_coordinates(alg, &x, &y).ok()
}

fn corpus() -> Corpus {
    let mut corpus = Corpus::default();
    let suite: Value = serde_json::from_str(WYCHEPROOF).expect("the Wycheproof suite");
    for group in suite["testGroups"].as_array().expect("groups") {
        let jwk = if group["public"].is_object() { &group["public"] } else { &group["private"] };
        let keys: Vec<VerifyingKey> = key_from_jwk(jwk).into_iter().collect();
        for case in group["tests"].as_array().expect("tests") {
            let token = case["jws"].as_str().expect("jws");
            let name = format!("wycheproof/{}", case["tcId"]);
            let es512 = header_alg(token).as_deref() == Some("ES512");
            // Wycheproof's valid tokens are valid with both backends.
            let valid = verify_jws(&keys, token) == "valid";
            corpus.token(&name, &keys, token, es512, &verify_jws, valid);
            if valid {
                if let Some(moved) = off_curve_jwk(jwk) {
                    corpus.push(format!("{name}/key-off-curve"), verify_jws(&[moved], token), es512);
                }
            }
        }
    }

    let es512: Value = serde_json::from_str(ES512).expect("the ES512 tokens");
    let jwk = &es512["jwk"];
    let keys: Vec<VerifyingKey> = key_from_jwk(jwk).into_iter().collect();
    assert_eq!(keys.len(), usize::from(cfg!(feature = "aws-lc")), "a P-521 key exactly with aws-lc");
    for (name, token) in es512["tokens"].as_object().expect("tokens") {
        let token = token.as_str().expect("a token");
        // The tokens valid with aws-lc, mutated with both backends.
        let mutate = name == "valid" || name == "no_kid";
        corpus.token(&format!("es512/{name}"), &keys, token, true, &verify_jwt, mutate);
        if mutate {
            let moved: Vec<VerifyingKey> = off_curve_jwk(jwk).into_iter().collect();
            corpus.push(format!("es512/{name}/key-off-curve"), verify_jwt(&moved, token), true);
        }
    }
    corpus
}

fn header_alg(token: &str) -> Option<String> {
    let header = b64url_decode(token.split('.').next()?)?;
    serde_json::from_slice::<Value>(&header).ok()?["alg"].as_str().map(str::to_owned)
}

/// The golden list: case → (ring verdict, aws-lc verdict).
fn golden(text: &str) -> Vec<(String, String, String)> {
    text.lines()
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|line| {
            let (case, rest) = line.split_once(' ').unwrap_or_else(|| panic!("no verdict: {line}"));
            match rest.split_once(" aws-lc=") {
                Some((ring, aws_lc)) => {
                    let ring = ring.strip_prefix("ring=").unwrap_or_else(|| panic!("no ring verdict: {line}"));
                    (case.to_owned(), ring.to_owned(), aws_lc.to_owned())
                }
                None => (case.to_owned(), rest.to_owned(), rest.to_owned()),
            }
        })
        .collect()
}

#[test]
fn both_backends_give_the_verdicts_of_one_list() {
    let corpus = corpus();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(VERDICTS);
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let listed = golden(&text);

    if std::env::var_os("JWTV_BLESS").is_some() {
        let other: BTreeMap<&str, &str> = listed
            .iter()
            .map(|(case, ring, aws_lc)| {
                (case.as_str(), if cfg!(feature = "aws-lc") { ring.as_str() } else { aws_lc.as_str() })
            })
            .collect();
        let mut out = String::from(
            "# Verdicts of crates/jwtv/tests/differential.rs: `<case> <verdict>` for both backends,\n\
             # `<case> ring=<verdict> aws-lc=<verdict>` where they differ (ES512 only).\n",
        );
        for v in &corpus.verdicts {
            let other = other.get(v.case.as_str()).copied().unwrap_or(&v.verdict);
            let (ring, aws_lc) =
                if cfg!(feature = "aws-lc") { (other, v.verdict.as_str()) } else { (v.verdict.as_str(), other) };
            if ring == aws_lc {
                writeln!(out, "{} {ring}", v.case).expect("a string");
            } else {
                writeln!(out, "{} ring={ring} aws-lc={aws_lc}", v.case).expect("a string");
            }
        }
        std::fs::write(&path, out).expect("write the verdicts");
        return;
    }

    assert_eq!(
        corpus.verdicts.iter().map(|v| v.case.as_str()).collect::<Vec<_>>(),
        listed.iter().map(|(case, _, _)| case.as_str()).collect::<Vec<_>>(),
        "the corpus and {VERDICTS} list the same cases (JWTV_BLESS=1 to rewrite)"
    );
    let mut differences = Vec::new();
    let mut mutations = 0usize;
    for (v, (case, ring, aws_lc)) in corpus.verdicts.iter().zip(&listed) {
        let want = if cfg!(feature = "aws-lc") { aws_lc } else { ring };
        if v.verdict != *want {
            differences.push(format!("{case}: {BACKEND} gives {}, the list says {want}", v.verdict));
        }
        if ring != aws_lc {
            assert!(v.es512, "{case}: the backends may differ on ES512 cases only");
        }
        mutations += v.verdict.split(',').filter_map(|c| c.split_once('=')?.1.parse::<usize>().ok()).sum::<usize>();
    }
    assert!(differences.is_empty(), "{} verdicts differ:\n{}", differences.len(), differences.join("\n"));
    let differing = listed.iter().filter(|(_, ring, aws_lc)| ring != aws_lc).count();
    println!(
        "{BACKEND}: {} cases and {mutations} mutated tokens as listed; {differing} cases differ between backends (all ES512)",
        corpus.verdicts.len()
    );
    assert!(differing > 0 && corpus.verdicts.len() > 500, "the corpus holds ES512 cases and every Wycheproof case");
}

#[test]
fn es512_tokens_verify_with_aws_lc_only() {
    let es512: Value = serde_json::from_str(ES512).expect("the ES512 tokens");
    let keys: Vec<VerifyingKey> = key_from_jwk(&es512["jwk"]).into_iter().collect();
    let token = es512["tokens"]["valid"].as_str().expect("a token");
    if cfg!(feature = "aws-lc") {
        assert_eq!(keys[0].algorithm().name(), "ES512");
        assert_eq!(verify_jwt(&keys, token), "valid");
        assert_eq!(verify_jwt(&keys, es512["tokens"]["expired"].as_str().expect("a token")), "expired");
        assert_eq!(
            verify_jwt(&keys, es512["tokens"]["header_says_es384"].as_str().expect("a token")),
            "alg_not_allowed"
        );
    } else {
        assert!(keys.is_empty(), "ring has no P-521");
        assert_eq!(Algorithm::from_name("ES512"), None);
        assert_eq!(verify_jwt(&keys, token), "unsupported_alg");
    }
}
