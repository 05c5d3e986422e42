//! Property tests: round trips of any claims set, rejection of any tampering,
//! no panics on any input, and base64url strictness equal to `base64ct`'s.

mod support;

use core::fmt::Write as _;
use std::sync::LazyLock;

use base64ct::{Base64UrlUnpadded, Encoding as _};
use jwtv::{DEFAULT_BUFFER_LEN, DEFAULT_MAX_TOKEN_LEN, Error, Part, Policy, UnverifiedToken, Verifier, VerifyingKey};
use proptest::prelude::*;
use support::{NOW, Signer, b64};

/// One signer per algorithm the tampering properties cover, made once.
static SIGNERS: LazyLock<[Signer; 3]> = LazyLock::new(|| [Signer::hs256(), Signer::es256(), Signer::ed25519()]);
static KEYS: LazyLock<Vec<VerifyingKey>> = LazyLock::new(|| SIGNERS.iter().map(Signer::key).collect());

/// How one character is written inside a JSON string.
#[derive(Clone, Copy, Debug)]
enum Spelling {
    Raw,
    Unicode,
    Upper,
}

/// Writes `s` as a JSON string, each character spelled as chosen (cycling):
/// raw where JSON allows it, `\uXXXX` (surrogate pairs above U+FFFF) or
/// upper-case hex. `"`, `\` and control characters are always escaped, `/`
/// sometimes as `\/`.
fn json_string(s: &str, spellings: &[Spelling]) -> String {
    let mut out = String::from("\"");
    for (i, c) in s.chars().enumerate() {
        let spelling = spellings.get(i % spellings.len().max(1)).copied().unwrap_or(Spelling::Raw);
        let mut units = [0u16; 2];
        match (c, spelling) {
            ('"', _) => out.push_str("\\\""),
            ('\\', _) => out.push_str("\\\\"),
            ('/', Spelling::Unicode) => out.push_str("\\/"),
            ('\n', Spelling::Raw) => out.push_str("\\n"),
            ('\t', Spelling::Raw) => out.push_str("\\t"),
            (c, Spelling::Raw) if u32::from(c) >= 0x20 => out.push(c),
            (c, Spelling::Upper) => {
                for unit in c.encode_utf16(&mut units) {
                    write!(out, "\\u{unit:04X}").expect("write to a String");
                }
            }
            (c, _) => {
                for unit in c.encode_utf16(&mut units) {
                    write!(out, "\\u{unit:04x}").expect("write to a String");
                }
            }
        }
    }
    out.push('"');
    out
}

fn spellings() -> impl Strategy<Value = Vec<Spelling>> {
    prop::collection::vec(
        prop_oneof![3 => Just(Spelling::Raw), 1 => Just(Spelling::Unicode), 1 => Just(Spelling::Upper)],
        1..8,
    )
}

/// Strings with ASCII, escapes-to-be, control characters and astral characters.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z0-9:/._-]{0,24}",
        "[\"\\\\/\\x00-\\x1f a-z]{0,12}",
        "\\PC{0,12}",
        any::<String>().prop_map(|s| s.chars().take(16).collect()),
    ]
}

/// A claims set: the registered strings, an expiry in the future and extra claims.
#[derive(Clone, Debug)]
struct ClaimsSet {
    iss: String,
    sub: String,
    aud: Vec<String>,
    aud_as_array: bool,
    exp: u64,
    extra: Vec<(String, Extra)>,
    spellings: Vec<Spelling>,
}

#[derive(Clone, Debug)]
enum Extra {
    Text(String),
    Number(i64),
    Bool(bool),
}

impl ClaimsSet {
    fn to_json(&self) -> String {
        let s = |v: &str| json_string(v, &self.spellings);
        let aud = if self.aud_as_array {
            format!("[{}]", self.aud.iter().map(|a| s(a)).collect::<Vec<_>>().join(","))
        } else {
            s(&self.aud[0])
        };
        let mut out = format!(r#"{{"iss":{},"sub":{},"aud":{aud},"exp":{}"#, s(&self.iss), s(&self.sub), self.exp);
        for (name, value) in &self.extra {
            let value = match value {
                Extra::Text(t) => s(t),
                Extra::Number(n) => n.to_string(),
                Extra::Bool(b) => b.to_string(),
            };
            write!(out, ",{}:{value}", s(name)).expect("write to a String");
        }
        out.push('}');
        out
    }
}

fn claims_set() -> impl Strategy<Value = ClaimsSet> {
    let extra = prop_oneof![
        text().prop_map(Extra::Text),
        any::<i64>().prop_map(Extra::Number),
        any::<bool>().prop_map(Extra::Bool)
    ];
    (
        text(),
        text(),
        prop::collection::vec(text(), 1..4),
        any::<bool>(),
        1u64..=10_000_000_000,
        prop::collection::vec((text(), extra), 0..5),
        spellings(),
    )
        .prop_map(|(iss, sub, aud, aud_as_array, ahead, extra, spellings)| {
            // Extra names are made distinct from each other and from registered names.
            let extra = extra.into_iter().enumerate().map(|(i, (name, v))| (format!("x{i}-{name}"), v)).collect();
            ClaimsSet { iss, sub, aud, aud_as_array, exp: NOW + ahead, extra, spellings }
        })
}

/// A token in which each of the three segments is either a random string of
/// base64url-ish characters or the encoding of random JSON-ish text.
fn token_like() -> impl Strategy<Value = String> {
    let segment = prop_oneof![
        "[A-Za-z0-9_=+/ -]{0,24}",
        "[{}\\[\\]\":,a-z0-9\\\\ .-]{0,48}".prop_map(b64),
        Just(b64(r#"{"alg":"HS256"}"#)),
        Just(b64(r#"{"alg":"ES256","crit":["x"]}"#)),
        Just(b64(r#"{"exp":1,"aud":["a",{}]}"#)),
    ];
    (segment.clone(), segment.clone(), segment, 0usize..3).prop_map(|(h, p, s, dots)| match dots {
        0 => format!("{h}.{p}.{s}"),
        1 => format!("{h}.{p}"),
        _ => format!("{h}.{p}.{s}.{h}"),
    })
}

/// Every entry point on one input; none may panic, and `verify` and
/// `verify_all` must agree on the first failure.
fn exercise(input: &[u8]) {
    let policy = Policy::new().ignore_audience();
    let verifier = Verifier::new(&KEYS, policy);
    let mut buf = [0u8; DEFAULT_BUFFER_LEN];
    let first = verifier.verify(input, NOW, &mut buf).map(drop);
    let all = verifier.verify_all(input, NOW, &mut buf).map(drop).map_err(|f| f.first());
    assert_eq!(first.map_err(Some), all, "verify and verify_all disagree");
    let _ = verifier.verify_jws(input, &mut buf);
    if let Ok(token) = UnverifiedToken::decode(input, DEFAULT_MAX_TOKEN_LEN, &mut buf) {
        let _ = token.unverified_claims();
        let _ = token.check_unverified(&policy, NOW);
    }
    let _ = jwtv::json::validate(input);
    let _ = jwtv::json::parse_object(input, |_, _| ());
}

/// A valid token of one of the [`SIGNERS`], with some claims.
fn valid_token(which: usize, sub: &str) -> String {
    let claims = format!(r#"{{"sub":{},"exp":{}}}"#, json_string(sub, &[Spelling::Raw]), NOW + 3600);
    SIGNERS[which].jwt(claims)
}

#[track_caller]
fn assert_rejected(token: &[u8]) {
    let verifier = Verifier::new(&KEYS, Policy::new());
    let mut buf = [0u8; DEFAULT_BUFFER_LEN];
    let got = verifier.verify(token, NOW, &mut buf).map(drop);
    assert!(got.is_err(), "tampered token accepted: {}", String::from_utf8_lossy(token));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    /// Any claims set, signed, verifies under a policy naming its issuer and
    /// audience, and reads back the same values.
    #[test]
    fn any_claims_set_round_trips(claims in claims_set(), which in 0usize..3, pick_aud in any::<prop::sample::Index>()) {
        let json = claims.to_json();
        let audience = if claims.aud_as_array { pick_aud.get(&claims.aud).as_str() } else { claims.aud[0].as_str() };
        let policy = Policy::new().issuer(&claims.iss).audience(audience).leeway_secs(0);
        let token = SIGNERS[which].jwt(&json);
        let mut buf = [0u8; DEFAULT_BUFFER_LEN];
        let verified = Verifier::new(&KEYS, policy).verify(&token, NOW, &mut buf);
        let verified = verified.map_err(|e| TestCaseError::fail(format!("{e} for {json}")))?;
        let got = verified.claims();
        prop_assert!(got.iss().is_some_and(|s| s == claims.iss.as_str()));
        prop_assert_eq!(got.sub().map(|s| s.to_string()), Some(claims.sub.clone()));
        let auds: Vec<String> = got.audiences().map(|a| a.to_string()).collect();
        prop_assert_eq!(auds, if claims.aud_as_array { claims.aud.clone() } else { vec![claims.aud[0].clone()] });
        prop_assert_eq!(got.exp().map(|d| d.floor()), Some(i64::try_from(claims.exp).expect("fits")));
        for (name, value) in &claims.extra {
            let read = got.get(name).ok_or_else(|| TestCaseError::fail(format!("{name:?} missing")))?;
            match (value, read) {
                (Extra::Text(t), jwtv::json::Value::String(s)) => prop_assert_eq!(s.to_string(), t.clone()),
                (Extra::Number(n), jwtv::json::Value::Number(raw)) => prop_assert_eq!(raw, n.to_string()),
                (Extra::Bool(b), jwtv::json::Value::Bool(r)) => prop_assert_eq!(*b, r),
                (want, got) => prop_assert!(false, "{name:?}: {want:?} read as {got:?}"),
            }
        }
        // Past its expiry the same token is expired.
        let expired = Verifier::new(&KEYS, policy).verify(&token, claims.exp, &mut buf).map(drop);
        prop_assert_eq!(expired, Err(Error::Expired));
    }

    /// Flipping any bits of any one byte of a valid token makes it invalid.
    #[test]
    fn any_byte_flip_is_rejected(which in 0usize..3, sub in "[a-z]{0,8}", at in any::<prop::sample::Index>(), mask in 1u8..) {
        let mut token = valid_token(which, &sub).into_bytes();
        let i = at.index(token.len());
        token[i] ^= mask;
        assert_rejected(&token);
    }

    /// Inserting any byte anywhere makes a valid token invalid.
    #[test]
    fn any_insertion_is_rejected(which in 0usize..3, at in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let mut token = valid_token(which, "user").into_bytes();
        let i = at.index(token.len() + 1);
        token.insert(i, byte);
        assert_rejected(&token);
    }

    /// Deleting any byte makes a valid token invalid.
    #[test]
    fn any_deletion_is_rejected(which in 0usize..3, at in any::<prop::sample::Index>()) {
        let mut token = valid_token(which, "user").into_bytes();
        token.remove(at.index(token.len()));
        assert_rejected(&token);
    }

    /// Any proper prefix of a valid token is invalid.
    #[test]
    fn any_truncation_is_rejected(which in 0usize..3, at in any::<prop::sample::Index>()) {
        let token = valid_token(which, "user").into_bytes();
        assert_rejected(&token[..at.index(token.len())]);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1024, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(input in prop::collection::vec(any::<u8>(), 0..256)) {
        exercise(&input);
    }

    #[test]
    fn arbitrary_ascii_with_dots_never_panics(input in "[ -~]{0,64}(\\.[ -~]{0,64}){0,4}") {
        exercise(input.as_bytes());
    }

    #[test]
    fn token_like_inputs_never_panic(input in token_like()) {
        exercise(input.as_bytes());
    }

    #[test]
    fn near_valid_tokens_never_panic(which in 0usize..3, edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4)) {
        let mut token = valid_token(which, "user").into_bytes();
        for (at, byte) in edits {
            let i = at.index(token.len());
            token[i] = byte;
        }
        exercise(&token);
    }

    /// The payload segment decodes exactly when `base64ct` decodes it, to the
    /// same bytes (the payload need not be JSON for `UnverifiedToken`).
    #[test]
    fn payload_base64url_matches_base64ct(segment in prop_oneof![
        "[A-Za-z0-9_-]{1,16}",
        "[A-Za-z0-9_=+/ -]{1,16}",
        "[A-Za-z0-9_-]{0,12}[AQgw-]{1}",
        prop::collection::vec(any::<u8>(), 1..16).prop_map(|b| String::from_utf8_lossy(&b).replace('.', "")),
    ]) {
        prop_assume!(!segment.is_empty());
        let token = format!("{}.{segment}.AAAA", b64(r#"{"alg":"HS256"}"#));
        let mut buf = [0u8; DEFAULT_BUFFER_LEN];
        let ours = UnverifiedToken::decode(&token, DEFAULT_MAX_TOKEN_LEN, &mut buf).map(|t| t.unverified_payload().to_vec());
        match Base64UrlUnpadded::decode_vec(&segment) {
            Ok(bytes) => prop_assert_eq!(ours, Ok(bytes)),
            Err(_) => prop_assert_eq!(ours, Err(Error::Malformed(Part::Payload))),
        }
    }

    /// The same for the signature segment, through the verifier: a segment
    /// `base64ct` rejects is malformed; one it accepts is a bad signature.
    #[test]
    fn signature_base64url_matches_base64ct(segment in prop_oneof![
        "[A-Za-z0-9_-]{1,16}",
        "[A-Za-z0-9_=+/ -]{1,16}",
        "[A-Za-z0-9_-]{42}[A-Za-z0-9_=-]{1}",
    ]) {
        let token = valid_token(0, "user");
        let (signing_input, _) = token.rsplit_once('.').expect("three segments");
        let forged = format!("{signing_input}.{segment}");
        let mut buf = [0u8; DEFAULT_BUFFER_LEN];
        let got = Verifier::new(&KEYS, Policy::new()).verify(&forged, NOW, &mut buf).map(drop);
        let want = match Base64UrlUnpadded::decode_vec(&segment) {
            Ok(_) => Error::BadSignature,
            Err(_) => Error::Malformed(Part::Signature),
        };
        prop_assert_eq!(got, Err(want));
    }
}

/// Guards the properties above against vacuity: the strategies do produce
/// both canonical and non-canonical segments, and valid tokens verify.
#[test]
fn the_generators_cover_both_outcomes() {
    for which in 0..3 {
        let mut buf = [0u8; DEFAULT_BUFFER_LEN];
        let got = Verifier::new(&KEYS, Policy::new()).verify(valid_token(which, "user"), NOW, &mut buf).map(drop);
        assert_eq!(got, Ok(()));
    }
    assert!(Base64UrlUnpadded::decode_vec("AB").is_err(), "non-zero trailing bits");
    assert!(Base64UrlUnpadded::decode_vec("AA").is_ok());
    let s = json_string("a/\u{1F600}\"", &[Spelling::Unicode]);
    assert_eq!(s, r#""\u0061\/\ud83d\ude00\"""#);
}
