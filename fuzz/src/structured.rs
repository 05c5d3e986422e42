//! The `structured` target: the fuzzer writes a token's header and claims
//! JSON, the harness signs them with one of the test keys, so every input
//! reaches header, key selection and claim validation with a good signature.
//!
//! Input: one control byte, then `header JSON`, a 0xFF byte (never part of
//! UTF-8, so never of valid JSON), `claims JSON`. Control bits 0-1 choose the
//! signer (HS256, ES256, EdDSA, RS256); bits 2-7 switch policy options.

use jwtv::{Algorithm, ClaimValue, DEFAULT_BUFFER_LEN, DEFAULT_MAX_TOKEN_LEN, Error, Policy, UnverifiedToken, Verifier};
use serde_json::Value;

use crate::{
    ALGS, AUD, ISS, NOW, Sweep, assert_consistent, assert_verify_bound, check_accepted, fnv, keys, kid_of, measure,
    signers,
};

/// The separator between header and claims JSON.
pub const SEPARATOR: u8 = 0xFF;

const AUDIENCES: &[&str] = &[AUD, "reports"];
const REQUIRED: &[&str] = &["sub", "scope"];
const REQUIRED_VALUES: &[(&str, ClaimValue<'static>)] = &[("tenant", ClaimValue::String("acme"))];
const UNDERSTOOD: &[&str] = &["exp", "http://example.com/ext", "b64"];
const LEEWAY: u64 = 30;
const MAX_AGE: u64 = 3600;

/// The policy options a control byte switches on.
#[derive(Clone, Copy, Debug)]
struct Options {
    typ: bool,
    max_age: bool,
    required: bool,
    understood: bool,
    allow_missing_exp: bool,
    many_audiences: bool,
}

impl Options {
    fn from(control: u8) -> Self {
        let bit = |n: u8| control & (1 << n) != 0;
        Self {
            typ: bit(2),
            max_age: bit(3),
            required: bit(4),
            understood: bit(5),
            allow_missing_exp: bit(6),
            many_audiences: bit(7),
        }
    }

    fn policy(self) -> Policy<'static> {
        let mut p = Policy::new().issuer(ISS).leeway_secs(LEEWAY);
        p = if self.many_audiences { p.audiences(AUDIENCES) } else { p.audience(AUD) };
        if self.typ {
            p = p.typ("JWT");
        }
        if self.max_age {
            p = p.max_age_secs(MAX_AGE);
        }
        if self.required {
            p = p.require_claims(REQUIRED).require_claim_values(REQUIRED_VALUES);
        }
        if self.understood {
            p = p.understood_crit(UNDERSTOOD);
        }
        if self.allow_missing_exp {
            p = p.allow_missing_exp();
        }
        p
    }
}

/// One input.
pub fn run(data: &[u8]) {
    let Some((&control, rest)) = data.split_first() else { return };
    let Some(at) = rest.iter().position(|b| *b == SEPARATOR) else { return };
    let (header, claims) = (&rest[..at], &rest[at + 1..]);
    if header.len() + claims.len() > DEFAULT_MAX_TOKEN_LEN / 2 {
        return; // signing huge inputs only slows the fuzzer down
    }
    let signer = &signers()[usize::from(control & 3)];
    let options = Options::from(control);
    let token = signer.token(header, claims);
    let keys = keys();
    let verifier = Verifier::new(&keys.all, options.policy());

    let rsa = crate::uses_rsa(token.as_bytes());
    let mut buf = vec![0u8; DEFAULT_BUFFER_LEN];
    let mut buf_all = vec![0u8; DEFAULT_BUFFER_LEN];
    let (one, usage) = measure(|| verifier.verify(&token, NOW, &mut buf));
    assert_verify_bound(usage, rsa, "verify");
    let (all, usage) = measure(|| verifier.verify_all(&token, NOW, &mut buf_all));
    assert_verify_bound(usage, rsa, "verify_all");
    assert_consistent(&one, &all);

    // A correct signature is never refused when the header picks the signing key.
    let mut dbuf = vec![0u8; DEFAULT_BUFFER_LEN];
    if let Ok(decoded) = UnverifiedToken::decode(&token, DEFAULT_MAX_TOKEN_LEN, &mut dbuf) {
        let h = decoded.unverified_header();
        let picks_signer = h.algorithm() == Ok(signer.alg()) && h.kid().is_none_or(|kid| kid == kid_of(signer.alg()));
        if picks_signer {
            assert_ne!(one.as_ref().err(), Some(&Error::BadSignature), "a good signature was refused");
            assert_ne!(one.as_ref().err(), Some(&Error::KeyNotFound), "the signing key was not found");
        }
    }

    let Ok(verified) = &one else { return };
    // The signature is the signer's, so only the signer's algorithm may accept it.
    assert_eq!(verified.algorithm(), signer.alg(), "accepted under an algorithm other than the signing key's");
    check_accepted(&verifier, token.as_bytes(), NOW, verified, Sweep::Sample(fnv(data)));
    check_oracle(options, header, claims);

    // Re-signing the decoded parts gives a token with the same claims.
    let resigned = signer.token(verified.header().raw_json(), verified.claims().raw_json());
    let mut buf2 = vec![0u8; DEFAULT_BUFFER_LEN];
    let again = verifier.verify(&resigned, NOW, &mut buf2).expect("the re-signed token verifies");
    crate::assert_same_claims(verified, &again);
}

/// What an independent reading (serde_json, floats) says about an accepted
/// token: it must agree with every rule of the policy, with a margin of a
/// second where floats round.
fn check_oracle(options: Options, header: &[u8], claims: &[u8]) {
    // Numbers beyond f64 make serde_json fail where jwtv reads them exactly:
    // the oracle then has nothing to say.
    let Ok(header) = serde_json::from_slice::<Value>(header) else { return };
    let header = header.as_object().expect("accepted header is an object");
    let alg = header.get("alg").and_then(Value::as_str).expect("accepted header has a string alg");
    assert!(ALGS.iter().any(|a| a.name() == alg), "accepted alg {alg:?}");
    assert!(header.get("b64").is_none(), "accepted a b64 header");
    if let Some(crit) = header.get("crit") {
        let crit = crit.as_array().expect("accepted crit is an array");
        assert!(options.understood && !crit.is_empty(), "accepted a crit it does not understand");
        for name in crit {
            let name = name.as_str().expect("crit names are strings");
            assert!(UNDERSTOOD.contains(&name) && name != "b64", "accepted crit name {name:?}");
        }
    }
    if options.typ {
        let typ = header.get("typ").and_then(Value::as_str).expect("accepted without typ");
        let typ = typ.to_ascii_lowercase();
        assert!(typ == "jwt" || typ == "application/jwt", "accepted typ {typ:?}");
    }
    if let Some(kid) = header.get("kid") {
        let kid = kid.as_str().expect("accepted kid is a string");
        let by_kid = ALGS.iter().find(|a| kid_of(**a) == kid).expect("accepted kid names a key");
        assert_eq!(by_kid.name(), alg, "accepted kid names a key of another algorithm");
    }

    // Claims: numbers out of f64 range make serde_json fail; jwtv reads them
    // exactly (and rejects them as dates), so only compare when serde reads them.
    let Ok(claims) = serde_json::from_slice::<Value>(claims) else { return };
    let claims = claims.as_object().expect("accepted claims are an object");
    let now = NOW as f64;
    let leeway = LEEWAY as f64;
    let date = |name: &str| claims.get(name).map(|v| v.as_f64().expect("accepted dates are numbers"));
    match date("exp") {
        Some(exp) => assert!(now < exp + leeway + 1.0, "accepted expired: exp {exp}"),
        None => assert!(options.allow_missing_exp, "accepted without exp"),
    }
    if let Some(nbf) = date("nbf") {
        assert!(nbf <= now + leeway + 1.0, "accepted before nbf {nbf}");
    }
    match date("iat") {
        Some(iat) => {
            assert!(iat <= now + leeway + 1.0, "accepted iat in the future: {iat}");
            if options.max_age {
                assert!(now - iat <= (MAX_AGE + LEEWAY) as f64 + 1.0, "accepted too old: iat {iat}");
            }
        }
        None => assert!(!options.max_age, "accepted without iat under max_age"),
    }
    assert_eq!(claims.get("iss").and_then(Value::as_str), Some(ISS), "accepted another issuer");
    let audiences: &[&str] = if options.many_audiences { AUDIENCES } else { &[AUD] };
    let aud_ok = match claims.get("aud").expect("accepted without aud") {
        Value::String(s) => audiences.contains(&s.as_str()),
        Value::Array(list) => {
            assert!(list.iter().all(Value::is_string), "accepted aud with a non-string");
            list.iter().any(|v| v.as_str().is_some_and(|s| audiences.contains(&s)))
        }
        other => panic!("accepted aud {other}"),
    };
    assert!(aud_ok, "accepted another audience");
    for name in ["sub", "jti"] {
        assert!(claims.get(name).is_none_or(Value::is_string), "accepted a non-string {name}");
    }
    if options.required {
        for name in REQUIRED {
            assert!(claims.contains_key(*name), "accepted without required claim {name}");
        }
        for (name, want) in REQUIRED_VALUES {
            let ClaimValue::String(want) = *want else { unreachable!("string values only") };
            // Equal, or an array with an element equal to it.
            let value = claims.get(*name);
            let held = value.and_then(Value::as_str) == Some(want)
                || value.and_then(Value::as_array).is_some_and(|all| all.iter().any(|v| v.as_str() == Some(want)));
            assert!(held, "accepted a wrong {name}");
        }
    }
}

/// Builds an input of this target (for seeds and regression tests).
pub fn input(alg: Algorithm, options: u8, header: &str, claims: &str) -> Vec<u8> {
    let index = ALGS.iter().position(|a| *a == alg).unwrap_or(0);
    let control = (options & !3) | u8::try_from(index).unwrap_or(0);
    let mut out = vec![control];
    out.extend_from_slice(header.as_bytes());
    out.push(SEPARATOR);
    out.extend_from_slice(claims.as_bytes());
    out
}
