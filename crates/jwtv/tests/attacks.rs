//! One test per rule of the verifier: each known attack or malformation, and
//! each policy check at its boundary, asserting the exact `jwtv::Error`.

mod support;

use base64ct::{Base64Url, Encoding as _};
use jwtv::json::MAX_DEPTH;
use jwtv::{
    Algorithm, AlgorithmSet, ClaimValue, DEFAULT_BUFFER_LEN, DEFAULT_MAX_TOKEN_LEN, Error, ErrorCode, Field, Part,
    Policy, UnverifiedToken, VerifiedToken, Verifier, VerifyingKey, buffer_len_for,
};
use ring::rand::SystemRandom;
use ring::signature::{self, EcdsaKeyPair};
use support::{AUD, ISS, NOW, Signer, at, b64, good_claims, policy, segments};

// ---- helpers ----

/// Verifies `token` at `now`; `Ok(())` or the exact error.
fn verify_at(keys: &[VerifyingKey], policy: Policy<'_>, token: &str, now: u64) -> Result<(), Error> {
    let mut buf = vec![0u8; DEFAULT_BUFFER_LEN];
    Verifier::new(keys, policy).verify(token, now, &mut buf).map(drop)
}

#[track_caller]
fn assert_verify(keys: &[VerifyingKey], policy: Policy<'_>, token: &str, want: Result<(), Error>) {
    assert_eq!(verify_at(keys, policy, token, NOW), want, "token: {}", short(token));
}

#[track_caller]
fn assert_rejects(keys: &[VerifyingKey], policy: Policy<'_>, token: &str, want: Error) {
    assert_verify(keys, policy, token, Err(want));
}

#[track_caller]
fn assert_accepts(keys: &[VerifyingKey], policy: Policy<'_>, token: &str) {
    assert_verify(keys, policy, token, Ok(()));
}

/// The start of a long input, for failure messages.
fn short(s: &str) -> &str {
    s.get(..s.len().min(300)).unwrap_or(s)
}

/// Signs `claims` with a fresh HS256 key and verifies them under `policy` at `now`.
fn claims_at(policy: Policy<'_>, claims: &str, now: u64) -> Result<(), Error> {
    let signer = Signer::hs256();
    verify_at(&[signer.key()], policy, &signer.jwt(claims), now)
}

#[track_caller]
fn assert_claims(policy: Policy<'_>, claims: &str, want: Result<(), Error>) {
    assert_eq!(claims_at(policy, claims, NOW), want, "claims: {}", short(claims));
}

/// Signs a header with a fresh HS256 key (good claims) and verifies it.
#[track_caller]
fn assert_header(policy: Policy<'_>, header: &str, want: Result<(), Error>) {
    let signer = Signer::hs256();
    let token = signer.token(header, good_claims());
    assert_eq!(verify_at(&[signer.key()], policy, &token, NOW), want, "header: {}", short(header));
}

/// The same JSON with spaces before its closing brace until its length is not
/// a multiple of 3, so that its base64 encoding needs padding.
fn needing_padding(json: &str) -> String {
    let (body, close) = json.split_at(json.len() - 1);
    let mut out = body.to_owned();
    while (out.len() + close.len()) % 3 == 0 {
        out.push(' ');
    }
    out + close
}

/// The padded (RFC 4648 §5 with `=`) encoding of `bytes`; asserts it is padded.
#[track_caller]
fn padded(bytes: impl AsRef<[u8]>) -> String {
    let s = Base64Url::encode_string(bytes.as_ref());
    assert!(s.ends_with('='), "{s} needs padding");
    s
}

/// The segment with its last character replaced by the next one of the
/// alphabet: same decoded bytes to a lenient decoder, but non-zero unused bits.
#[track_caller]
fn with_trailing_bits(segment: &str) -> String {
    const ALPHABET: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    assert_ne!(segment.len() % 4, 0, "{segment} has unused trailing bits");
    let (front, last) = segment.split_at(segment.len() - 1);
    let index = ALPHABET.find(last).expect("a base64url character");
    assert_eq!(index % 4, 0, "canonical: the unused bits are zero");
    format!("{front}{}", &ALPHABET[index + 1..index + 2])
}

// ---- control: every algorithm's good token verifies ----

#[test]
fn a_good_token_of_every_algorithm_verifies() {
    let signers = [
        Signer::hs256(),
        Signer::hmac(Algorithm::HS384, &[7; 48]),
        Signer::hmac(Algorithm::HS512, &[7; 64]),
        Signer::es256(),
        Signer::es384(),
        Signer::ed25519(),
        Signer::rsa(Algorithm::RS256),
        Signer::rsa(Algorithm::RS384),
        Signer::rsa(Algorithm::RS512),
        Signer::rsa(Algorithm::PS256),
        Signer::rsa(Algorithm::PS384),
        Signer::rsa(Algorithm::PS512),
    ];
    for signer in &signers {
        let token = signer.jwt(good_claims());
        let mut buf = [0u8; DEFAULT_BUFFER_LEN];
        let verified = Verifier::new(&[signer.key()], policy()).verify(&token, NOW, &mut buf);
        let verified = verified.unwrap_or_else(|e| panic!("{signer:?}: {e}"));
        assert_eq!(verified.algorithm(), signer.alg());
        assert!(verified.claims().sub().expect("sub") == "user-1");
        // The same token under another key of the same algorithm is a bad signature.
        if signer.alg().key_kind() != jwtv::KeyKind::Rsa {
            let other = match signer.alg() {
                Algorithm::ES256 => Signer::es256(),
                Algorithm::ES384 => Signer::es384(),
                Algorithm::EdDSA => Signer::ed25519(),
                alg => Signer::hmac(alg, &[9; 64]),
            };
            assert_rejects(&[other.key()], policy(), &token, Error::BadSignature);
        }
    }
}

// ---- algorithm attacks ----

#[test]
fn alg_none_in_any_spelling_is_unsupported_with_or_without_a_signature() {
    let signer = Signer::hs256();
    let keys = [signer.key()];
    for none in ["none", "None", "nOnE", "NONE", r"\u006eone"] {
        let header = b64(format!(r#"{{"alg":"{none}","typ":"JWT"}}"#));
        let payload = b64(good_claims());
        // An empty signature is not a compact JWS at all.
        assert_rejects(&keys, policy(), &format!("{header}.{payload}."), Error::Malformed(Part::Token));
        // With any signature, even one that is the valid HMAC of the signing input.
        let hmac = b64(signer.sign(format!("{header}.{payload}").as_bytes()));
        for signature in ["AAAA", hmac.as_str()] {
            assert_rejects(&keys, policy(), &format!("{header}.{payload}.{signature}"), Error::UnsupportedAlg);
        }
    }
}

#[test]
fn hs256_signed_with_the_rsa_public_key_is_not_allowed_for_the_rsa_key() {
    let rsa = Signer::rsa(Algorithm::RS256);
    let der = rsa.public_key_bytes();
    let pem =
        format!("-----BEGIN RSA PUBLIC KEY-----\n{}\n-----END RSA PUBLIC KEY-----\n", Base64Url::encode_string(&der));
    for secret in [der.clone(), pem.into_bytes()] {
        let attacker = Signer::hmac(Algorithm::HS256, &secret);
        // The forged token carries a valid HMAC under the public key's bytes…
        let forged = attacker.jwt(good_claims());
        assert_accepts(&[attacker.key()], policy(), &forged);
        // …but the RSA key is pinned to RS256.
        assert_rejects(&[rsa.key()], policy(), &forged, Error::AlgNotAllowed);
        let forged_kid = attacker.token(attacker.header_with_kid("rsa-1"), good_claims());
        assert_rejects(&[rsa.key_with_kid("rsa-1")], policy(), &forged_kid, Error::AlgNotAllowed);
    }
}

#[test]
fn a_token_whose_alg_differs_from_the_key_is_not_allowed() {
    let hs = Signer::hs256();
    let es = Signer::es256();
    let es_token = es.jwt(good_claims());
    assert_rejects(&[hs.key()], policy(), &es_token, Error::AlgNotAllowed);
    // Same secret, another HMAC algorithm.
    let secret = [5u8; 48];
    let hs384 = Signer::hmac(Algorithm::HS384, &secret);
    let hs256_key = VerifyingKey::hs256(&secret).expect("a 48-byte secret");
    assert_rejects(&[hs256_key], policy(), &hs384.jwt(good_claims()), Error::AlgNotAllowed);
    // The kid names a key of another algorithm.
    let token = es.token(es.header_with_kid("k1"), good_claims());
    assert_rejects(&[hs.key_with_kid("k1"), es.key_with_kid("k2")], policy(), &token, Error::AlgNotAllowed);
}

#[test]
fn the_policy_narrows_the_algorithms_before_any_key_is_looked_up() {
    let signer = Signer::hs256();
    let token = signer.jwt(good_claims());
    let keys = [signer.key()];
    let es_only = policy().algorithms(AlgorithmSet::of(&[Algorithm::ES256, Algorithm::EdDSA]));
    assert_rejects(&keys, es_only, &token, Error::AlgNotAllowed);
    assert_rejects(&keys, policy().algorithms(AlgorithmSet::EMPTY), &token, Error::AlgNotAllowed);
    assert_rejects(&[], es_only, &token, Error::AlgNotAllowed);
    assert_accepts(&keys, policy().algorithms(AlgorithmSet::of(&[Algorithm::HS256])), &token);
    assert_rejects(&[], policy(), &token, Error::KeyNotFound);
}

#[test]
fn ecdsa_signatures_with_r_and_s_zero_are_bad() {
    for (signer, len) in [(Signer::es256(), 64), (Signer::es384(), 96)] {
        let token = signer.jwt(good_claims());
        let [h, p, _] = segments(&token);
        let zero = format!("{h}.{p}.{}", b64(vec![0u8; len]));
        assert_rejects(&[signer.key()], policy(), &zero, Error::BadSignature);
        assert_accepts(&[signer.key()], policy(), &token);
    }
}

#[test]
fn a_der_encoded_es256_signature_is_bad() {
    let rng = SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, &rng).expect("test key");
    let fixed = EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
        .expect("load test key");
    let asn1 = EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref(), &rng)
        .expect("load test key");
    let key = Signer::Ecdsa(Algorithm::ES256, fixed);
    let signing_input = format!("{}.{}", b64(key.header()), b64(good_claims()));
    let der = asn1.sign(&rng, signing_input.as_bytes()).expect("sign");
    assert_eq!(der.as_ref().first(), Some(&0x30), "a DER SEQUENCE");
    let der_token = format!("{signing_input}.{}", b64(der.as_ref()));
    assert_rejects(&[key.key()], policy(), &der_token, Error::BadSignature);
    let fixed_token = format!("{signing_input}.{}", b64(key.sign(signing_input.as_bytes())));
    assert_accepts(&[key.key()], policy(), &fixed_token);
}

// ---- base64url strictness ----

#[test]
fn padding_is_rejected_in_every_segment() {
    let signer = Signer::hs256();
    let keys = [signer.key()];
    let header = needing_padding(&signer.header());
    let claims = needing_padding(&good_claims());
    // Control: the unpadded token verifies.
    assert_accepts(&keys, policy(), &signer.token(&header, &claims));
    // Padded header or payload, signed over exactly those bytes.
    assert_rejects(
        &keys,
        policy(),
        &signer.sign_segments(&padded(&header), &b64(&claims)),
        Error::Malformed(Part::Header),
    );
    assert_rejects(
        &keys,
        policy(),
        &signer.sign_segments(&b64(&header), &padded(&claims)),
        Error::Malformed(Part::Payload),
    );
    // Padded signature (32 bytes: one '=').
    let signing_input = format!("{}.{}", b64(&header), b64(&claims));
    let token = format!("{signing_input}.{}", padded(signer.sign(signing_input.as_bytes())));
    assert_rejects(&keys, policy(), &token, Error::Malformed(Part::Signature));
    // A lone '=' appended to an unpadded segment.
    let [h, p, s] = segments(&signer.token(&header, &claims)).map(str::to_owned);
    assert_rejects(&keys, policy(), &format!("{h}=.{p}.{s}"), Error::Malformed(Part::Header));
    assert_rejects(&keys, policy(), &format!("{h}.{p}.{s}="), Error::Malformed(Part::Signature));
}

#[test]
fn non_zero_trailing_bits_are_rejected_in_every_segment() {
    let signer = Signer::hs256();
    let keys = [signer.key()];
    let header = needing_padding(&signer.header());
    let claims = needing_padding(&good_claims());
    let (h, p) = (b64(&header), b64(&claims));
    let bad_h = with_trailing_bits(&h);
    let bad_p = with_trailing_bits(&p);
    assert_rejects(&keys, policy(), &signer.sign_segments(&bad_h, &p), Error::Malformed(Part::Header));
    assert_rejects(&keys, policy(), &signer.sign_segments(&h, &bad_p), Error::Malformed(Part::Payload));
    let signing_input = format!("{h}.{p}");
    let signature = b64(signer.sign(signing_input.as_bytes()));
    assert_accepts(&keys, policy(), &format!("{signing_input}.{signature}"));
    let token = format!("{signing_input}.{}", with_trailing_bits(&signature));
    assert_rejects(&keys, policy(), &token, Error::Malformed(Part::Signature));
}

#[test]
fn whitespace_anywhere_in_the_token_is_rejected() {
    let signer = Signer::hs256();
    let keys = [signer.key()];
    let token = signer.jwt(good_claims());
    let [h, p, s] = segments(&token);
    let (h1, h2) = h.split_at(8);
    let (p1, p2) = p.split_at(8);
    let (s1, s2) = s.split_at(8);
    assert_rejects(&keys, policy(), &format!(" {token}"), Error::Malformed(Part::Header));
    assert_rejects(&keys, policy(), &format!("{h1} {h2}.{p}.{s}"), Error::Malformed(Part::Header));
    assert_rejects(&keys, policy(), &format!("{token}\n"), Error::Malformed(Part::Signature));
    assert_rejects(&keys, policy(), &format!("{h}.{p}.{s1}\r\n{s2}"), Error::Malformed(Part::Signature));
    // In the payload, signed over exactly those bytes.
    for spaced in [format!("{p1}\t{p2}"), format!(" {p}"), format!("{p} ")] {
        assert_rejects(&keys, policy(), &signer.sign_segments(h, &spaced), Error::Malformed(Part::Payload));
    }
}

// ---- JSON strictness ----

#[test]
fn a_duplicate_alg_is_malformed() {
    for header in [
        r#"{"alg":"HS256","alg":"HS256"}"#,
        r#"{"alg":"none","alg":"HS256"}"#,
        r#"{"alg":"HS256","typ":"JWT","alg":"none"}"#,
        r#"{"alg":"HS256","\u0061lg":"none"}"#,
        r#"{"\u0061lg":"HS256","alg":"HS256"}"#,
    ] {
        assert_header(policy(), header, Err(Error::Malformed(Part::Header)));
    }
    // An escaped name alone is decoded: `\u0061lg` is `alg`.
    assert_header(policy(), r#"{"\u0061lg":"HS256"}"#, Ok(()));
    assert_header(policy(), r#"{"alg":"\u0048S256"}"#, Ok(()));
}

#[test]
fn a_duplicate_claim_is_malformed() {
    for claims in [
        format!(r#"{{"iss":"{ISS}","aud":"{AUD}","exp":{},"exp":{}}}"#, at(-100), at(3600)),
        format!(r#"{{"iss":"{ISS}","aud":"{AUD}","exp":{},"exp":{}}}"#, at(3600), at(-100)),
        format!(r#"{{"iss":"{ISS}","aud":"{AUD}","exp":{},"\u0065xp":{}}}"#, at(3600), at(3600)),
        format!(r#"{{"iss":"{ISS}","iss":"{ISS}","aud":"{AUD}","exp":{}}}"#, at(3600)),
        format!(r#"{{"iss":"{ISS}","aud":"{AUD}","exp":{},"x":1,"x":1}}"#, at(3600)),
    ] {
        assert_claims(policy(), &claims, Err(Error::Malformed(Part::Payload)));
    }
}

#[test]
fn an_escaped_crit_is_still_critical() {
    assert_header(policy(), r#"{"alg":"HS256","\u0063rit":["x"],"x":1}"#, Err(Error::UnsupportedCrit));
    assert_header(policy(), r#"{"alg":"HS256","crit":["\u0078"],"x":1}"#, Err(Error::UnsupportedCrit));
    assert_header(policy().understood_crit(&["x"]), r#"{"alg":"HS256","\u0063rit":["\u0078"],"x":1}"#, Ok(()));
}

#[test]
fn a_header_that_is_not_an_object_is_malformed() {
    for header in
        [r#"["alg","HS256"]"#, r#""HS256""#, "null", "42", "true", r#"{"alg":"HS256"} {}"#, r#"{"alg":"HS256""#]
    {
        assert_header(policy(), header, Err(Error::Malformed(Part::Header)));
    }
    assert_header(policy(), "{}", Err(Error::MissingClaim(Field::Alg)));
    assert_header(policy(), r#"{"alg":256}"#, Err(Error::BadClaim(Field::Alg)));
    assert_header(policy(), r#"{"alg":["HS256"]}"#, Err(Error::BadClaim(Field::Alg)));
    assert_header(policy(), r#"{"alg":"HS256","kid":1}"#, Err(Error::BadClaim(Field::Kid)));
}

#[test]
fn a_payload_that_is_not_an_object_is_malformed() {
    for claims in ["[]", r#""claims""#, "null", "1", "{", r#"{"exp":1}x"#] {
        assert_claims(policy(), claims, Err(Error::Malformed(Part::Payload)));
    }
}

#[test]
fn invalid_utf8_is_malformed_in_header_and_payload() {
    let signer = Signer::hs256();
    let keys = [signer.key()];
    for bad in [&b"\xff"[..], b"\xc0\xaf", b"\xed\xa0\x80", b"\xe6\x97"] {
        let mut header = br#"{"alg":"HS256","x":""#.to_vec();
        header.extend_from_slice(bad);
        header.extend_from_slice(br#""}"#);
        assert_rejects(&keys, policy(), &signer.token(&header, good_claims()), Error::Malformed(Part::Header));
        let mut claims = good_claims().into_bytes();
        claims.pop();
        claims.extend_from_slice(br#","x":""#);
        claims.extend_from_slice(bad);
        claims.extend_from_slice(br#""}"#);
        assert_rejects(&keys, policy(), &signer.token(signer.header(), &claims), Error::Malformed(Part::Payload));
    }
    // Escaped lone surrogates are not Unicode either.
    let claims = format!(r#"{{"iss":"{ISS}","aud":"{AUD}","exp":{},"x":"\ud800"}}"#, at(60));
    assert_claims(policy(), &claims, Err(Error::Malformed(Part::Payload)));
}

#[test]
fn nesting_is_bounded_in_header_and_payload() {
    let nested = |levels: usize| format!("{}{}", "[".repeat(levels), "]".repeat(levels));
    // The top-level object is one level, so a member may nest MAX_DEPTH - 1 more.
    let header = |levels| format!(r#"{{"alg":"HS256","x":{}}}"#, nested(levels));
    assert_header(policy(), &header(MAX_DEPTH - 1), Ok(()));
    assert_header(policy(), &header(MAX_DEPTH), Err(Error::Malformed(Part::Header)));
    assert_header(policy(), &header(5_000), Err(Error::Malformed(Part::Header)));
    let claims = |levels| format!(r#"{{"iss":"{ISS}","aud":"{AUD}","exp":{},"x":{}}}"#, at(60), nested(levels));
    assert_claims(policy(), &claims(MAX_DEPTH - 1), Ok(()));
    assert_claims(policy(), &claims(MAX_DEPTH), Err(Error::Malformed(Part::Payload)));
    let deep_objects = format!(r#"{{"exp":{},"x":{}1}}"#, at(60), r#"{"a":"#.repeat(1_000));
    assert_claims(policy(), &deep_objects, Err(Error::Malformed(Part::Payload)));
}

// ---- size limits ----

/// A valid HS256 token of exactly `len` bytes (padded with a filler claim).
fn token_of_len(signer: &Signer, len: usize) -> String {
    for header_pad in 0..3 {
        let header = format!(r#"{{"alg":"HS256","typ":"JWT","x":"{}"}}"#, "h".repeat(header_pad));
        let fixed = b64(&header).len() + 2 + b64(signer.sign(b"")).len();
        let base = format!(r#"{{"iss":"{ISS}","aud":"{AUD}","exp":{},"pad":""}}"#, at(60));
        let Some(room) = len.checked_sub(fixed) else { continue };
        // Unpadded base64 of n bytes is ceil(4n/3) long, never 1 mod 4.
        for n in room * 3 / 4 - 2..=room * 3 / 4 + 2 {
            if (4 * n).div_ceil(3) == room && n >= base.len() {
                let claims = base.replace(r#""pad":"""#, &format!(r#""pad":"{}""#, "p".repeat(n - base.len())));
                let token = signer.token(&header, claims);
                assert_eq!(token.len(), len);
                return token;
            }
        }
    }
    panic!("no token of {len} bytes");
}

#[test]
fn tokens_over_the_default_16_kib_are_too_large() {
    let signer = Signer::hs256();
    let keys = [signer.key()];
    assert_accepts(&keys, policy(), &token_of_len(&signer, DEFAULT_MAX_TOKEN_LEN));
    assert_rejects(&keys, policy(), &token_of_len(&signer, DEFAULT_MAX_TOKEN_LEN + 1), Error::TooLarge);
    // The size is checked before anything else.
    assert_rejects(&keys, policy(), &"!".repeat(DEFAULT_MAX_TOKEN_LEN + 1), Error::TooLarge);
    assert_rejects(&keys, policy(), &"!".repeat(DEFAULT_MAX_TOKEN_LEN), Error::Malformed(Part::Token));
}

#[test]
fn a_custom_max_token_len_is_exact() {
    let signer = Signer::hs256();
    let keys = [signer.key()];
    let token = signer.jwt(good_claims());
    assert_accepts(&keys, policy().max_token_len(token.len()), &token);
    assert_rejects(&keys, policy().max_token_len(token.len() - 1), &token, Error::TooLarge);
    assert_rejects(&keys, policy().max_token_len(0), &token, Error::TooLarge);
    // A larger limit admits a larger token, with a big enough buffer.
    let big = token_of_len(&signer, 40_000);
    let mut buf = vec![0u8; buffer_len_for(big.len())];
    let verifier = Verifier::new(&keys, policy().max_token_len(40_000));
    assert_eq!(verifier.verify(&big, NOW, &mut buf).map(drop), Ok(()));
    assert_rejects(&keys, policy(), &big, Error::TooLarge);
}

#[test]
fn a_caller_buffer_too_small_for_header_and_payload_is_too_large() {
    let signer = Signer::hs256();
    let keys = [signer.key()];
    let verifier = Verifier::new(&keys, policy());
    let claims = good_claims();
    let token = signer.jwt(&claims);
    let exact = signer.header().len() + claims.len();
    let verify_with = |len: usize| verifier.verify(&token, NOW, &mut vec![0u8; len]).map(drop);
    assert_eq!(verify_with(exact), Ok(()));
    assert_eq!(verify_with(buffer_len_for(token.len())), Ok(()));
    assert!(buffer_len_for(token.len()) >= exact);
    assert_eq!(verify_with(exact - 1), Err(Error::TooLarge));
    assert_eq!(verify_with(signer.header().len()), Err(Error::TooLarge));
    assert_eq!(verify_with(signer.header().len() - 1), Err(Error::TooLarge));
    assert_eq!(verify_with(0), Err(Error::TooLarge));
}

// ---- keys come only from the caller ----

#[test]
fn an_embedded_jwk_signed_by_the_attackers_key_is_ignored() {
    let victim = Signer::es256();
    let attacker = Signer::es256();
    let point = attacker.public_key_bytes();
    let (x, y) = point[1..].split_at(32);
    let header = format!(
        r#"{{"alg":"ES256","typ":"JWT","kid":"victim","jwk":{{"kty":"EC","crv":"P-256","x":"{}","y":"{}","kid":"victim"}}}}"#,
        b64(x),
        b64(y)
    );
    let token = attacker.token(&header, good_claims());
    // The signature is valid for the embedded key…
    assert_accepts(&[attacker.key()], policy(), &token);
    // …which is never used.
    assert_rejects(&[victim.key()], policy(), &token, Error::BadSignature);
    assert_rejects(&[victim.key_with_kid("victim")], policy(), &token, Error::BadSignature);
    assert_rejects(&[], policy(), &token, Error::KeyNotFound);
}

#[test]
fn jku_x5u_and_x5c_are_never_followed() {
    let victim = Signer::es256();
    let attacker = Signer::es256();
    for param in [
        r#""jku":"https://attacker.example/jwks.json""#,
        r#""x5u":"https://attacker.example/cert.pem""#,
        r#""x5c":["MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA"]"#,
    ] {
        let header = format!(r#"{{"alg":"ES256","typ":"JWT",{param}}}"#);
        let forged = attacker.token(&header, good_claims());
        assert_rejects(&[victim.key()], policy(), &forged, Error::BadSignature);
        // The parameter is not critical: the issuer's own token carrying it verifies.
        assert_accepts(&[victim.key()], policy(), &victim.token(&header, good_claims()));
    }
}

#[test]
fn an_unknown_kid_finds_no_key() {
    let a = Signer::hs256();
    let b = Signer::es256();
    let keys = [a.key_with_kid("a"), b.key_with_kid("b")];
    assert_rejects(&keys, policy(), &a.token(a.header_with_kid("c"), good_claims()), Error::KeyNotFound);
    assert_accepts(&keys, policy(), &a.token(a.header_with_kid("a"), good_claims()));
    assert_accepts(&keys, policy(), &b.token(b.header_with_kid("b"), good_claims()));
    // Case matters, and escapes are decoded.
    assert_rejects(&keys, policy(), &a.token(a.header_with_kid("A"), good_claims()), Error::KeyNotFound);
    assert_accepts(&keys, policy(), &a.token(a.header_with_kid(r"\u0061"), good_claims()));
}

/// Documented: with a `kid` that no key carries, kid-less keys are the
/// candidates; a kid that matches takes precedence over them.
#[test]
fn kid_less_keys_are_fallbacks_for_unknown_kids() {
    let named = Signer::hs256();
    let fallback = Signer::hmac(Algorithm::HS256, &[3; 32]);
    let keys = [named.key_with_kid("a"), fallback.key()];
    assert_accepts(&keys, policy(), &fallback.token(fallback.header_with_kid("c"), good_claims()));
    assert_rejects(&keys, policy(), &fallback.token(fallback.header_with_kid("a"), good_claims()), Error::BadSignature);
}

/// The verified token names the key that verified it, by index, also when
/// the token has no `kid` (what a revocation list by key id needs).
#[test]
fn the_verified_token_names_the_key_that_verified_it() {
    let hs = Signer::hs256();
    let es = Signer::es256();
    let fallback = Signer::hmac(Algorithm::HS384, &[3; 48]);
    let keys = [hs.key_with_kid("a"), es.key_with_kid("b"), fallback.key()];
    let index_of = |token: &str| {
        let mut buf = vec![0u8; DEFAULT_BUFFER_LEN];
        Verifier::new(&keys, policy()).verify(token, NOW, &mut buf).map(|v| v.key_index())
    };
    assert_eq!(index_of(&hs.token(hs.header_with_kid("a"), good_claims())), Ok(0));
    assert_eq!(index_of(&es.token(es.header_with_kid("b"), good_claims())), Ok(1));
    assert_eq!(index_of(&es.jwt(good_claims())), Ok(1), "no kid: the one ES256 key");
    assert_eq!(index_of(&fallback.token(fallback.header_with_kid("zz"), good_claims())), Ok(2));
}

#[test]
fn a_kid_less_token_with_two_keys_of_its_algorithm_finds_no_key() {
    let one = Signer::hs256();
    let two = Signer::hmac(Algorithm::HS256, &[3; 32]);
    let token = one.jwt(good_claims());
    assert_rejects(&[one.key(), two.key()], policy(), &token, Error::KeyNotFound);
    assert_rejects(&[one.key_with_kid("1"), two.key_with_kid("2")], policy(), &token, Error::KeyNotFound);
    // Never tries several keys: the order does not matter.
    assert_rejects(&[two.key(), one.key()], policy(), &token, Error::KeyNotFound);
    // One key per algorithm: the algorithm picks it.
    let es = Signer::es256();
    assert_accepts(&[es.key(), one.key()], policy(), &token);
    assert_accepts(&[es.key(), one.key()], policy(), &es.jwt(good_claims()));
}

// ---- crit and b64 ----

#[test]
fn crit_must_name_only_understood_extensions() {
    let header = r#"{"alg":"HS256","crit":["exp"],"exp":1}"#;
    assert_header(policy(), header, Err(Error::UnsupportedCrit));
    assert_header(policy().understood_crit(&["other"]), header, Err(Error::UnsupportedCrit));
    assert_header(policy().understood_crit(&["exp"]), header, Ok(()));
    assert_header(
        policy().understood_crit(&["exp"]),
        r#"{"alg":"HS256","crit":["exp","x"]}"#,
        Err(Error::UnsupportedCrit),
    );
    assert_header(policy(), r#"{"alg":"HS256","crit":[]}"#, Err(Error::BadClaim(Field::Crit)));
    assert_header(policy(), r#"{"alg":"HS256","crit":"exp"}"#, Err(Error::BadClaim(Field::Crit)));
    assert_header(policy(), r#"{"alg":"HS256","crit":[1]}"#, Err(Error::BadClaim(Field::Crit)));
    // crit is checked before the key is looked up.
    let token = Signer::hs256().token(header, good_claims());
    assert_rejects(&[], policy(), &token, Error::UnsupportedCrit);
}

#[test]
fn the_unencoded_payload_option_b64_is_never_supported() {
    for header in [
        r#"{"alg":"HS256","b64":false,"crit":["b64"]}"#,
        r#"{"alg":"HS256","b64":true,"crit":["b64"]}"#,
        r#"{"alg":"HS256","b64":false}"#,
        r#"{"alg":"HS256","crit":["b64"]}"#,
        r#"{"alg":"HS256","\u0062\u0036\u0034":false,"crit":["\u0062\u0036\u0034"]}"#,
    ] {
        assert_header(policy(), header, Err(Error::UnsupportedCrit));
        assert_header(policy().understood_crit(&["b64"]), header, Err(Error::UnsupportedCrit));
    }
    // An RFC 7797 token with its payload unencoded in the signing input.
    let signer = Signer::hs256();
    let h = b64(r#"{"alg":"HS256","b64":false,"crit":["b64"]}"#);
    let signature = b64(signer.sign(format!("{h}.$.02").as_bytes()));
    assert_rejects(&[signer.key()], policy(), &format!("{h}..{signature}"), Error::Malformed(Part::Token));
}

// ---- shape ----

#[test]
fn a_jwe_and_other_segment_counts_are_malformed() {
    let signer = Signer::hs256();
    let keys = [signer.key()];
    let token = signer.jwt(good_claims());
    let [h, p, s] = segments(&token);
    let jwe_header = b64(r#"{"alg":"RSA-OAEP","enc":"A256GCM"}"#);
    for bad in [
        format!("{jwe_header}.{s}.{s}.{p}.{s}"),
        format!("{h}.{p}.{s}.{s}.{s}"),
        format!("{h}.{p}.{s}.{s}"),
        format!("{h}.{p}.{s}."),
        format!("{h}.{p}"),
        format!("{h}{p}{s}"),
        h.to_owned(),
    ] {
        assert_rejects(&keys, policy(), &bad, Error::Malformed(Part::Token));
    }
}

#[test]
fn empty_segments_are_malformed() {
    let signer = Signer::hs256();
    let keys = [signer.key()];
    let token = signer.jwt(good_claims());
    let [h, p, s] = segments(&token);
    for bad in
        [format!(".{p}.{s}"), format!("{h}..{s}"), format!("{h}.{p}."), "..".to_owned(), ".".to_owned(), String::new()]
    {
        assert_rejects(&keys, policy(), &bad, Error::Malformed(Part::Token));
    }
}

// ---- time ----

#[test]
fn exp_equal_to_now_is_expired_and_leeway_is_exact() {
    let strict = Policy::new().leeway_secs(0);
    let exp = |e: &str| format!(r#"{{"exp":{e}}}"#);
    assert_eq!(claims_at(strict, &exp(&NOW.to_string()), NOW), Err(Error::Expired));
    assert_eq!(claims_at(strict, &exp(&at(1).to_string()), NOW), Ok(()));
    assert_eq!(claims_at(strict, &exp(&at(-1).to_string()), NOW), Err(Error::Expired));
    assert_eq!(claims_at(strict, &exp("-1"), NOW), Err(Error::Expired));
    // Default leeway: 30 s.
    assert_eq!(claims_at(Policy::new(), &exp(&at(-30).to_string()), NOW), Err(Error::Expired));
    assert_eq!(claims_at(Policy::new(), &exp(&at(-29).to_string()), NOW), Ok(()));
    assert_eq!(claims_at(Policy::new().leeway_secs(120), &exp(&at(-119).to_string()), NOW), Ok(()));
    assert_eq!(claims_at(Policy::new().leeway_secs(120), &exp(&at(-120).to_string()), NOW), Err(Error::Expired));
}

#[test]
fn fractional_and_exponent_dates_compare_exactly() {
    let strict = Policy::new().leeway_secs(0);
    let exp = |e: &str| format!(r#"{{"exp":{e}}}"#);
    // exp = now + 0.5: still valid during second `now`.
    assert_eq!(claims_at(strict, &exp(&format!("{NOW}.5")), NOW), Ok(()));
    assert_eq!(claims_at(strict, &exp(&format!("{NOW}.001")), NOW), Ok(()));
    assert_eq!(claims_at(strict, &exp(&format!("{NOW}.000")), NOW), Err(Error::Expired));
    assert_eq!(claims_at(strict, &exp(&format!("{}.5", at(-1))), NOW), Err(Error::Expired));
    assert_eq!(claims_at(strict, &exp(&format!("{NOW}.5")), at(1)), Err(Error::Expired));
    // 1.7e9 is exactly NOW.
    assert_eq!(claims_at(strict, &exp("1.7e9"), NOW), Err(Error::Expired));
    assert_eq!(claims_at(strict, &exp("17000000001e-1"), NOW), Ok(()));
    assert_eq!(claims_at(strict, &exp("1.7e9"), NOW - 1), Ok(()));
}

#[test]
fn nbf_in_the_future_is_not_yet_valid() {
    let strict = Policy::new().leeway_secs(0);
    let nbf = |n: String| format!(r#"{{"exp":{},"nbf":{n}}}"#, at(3600));
    assert_eq!(claims_at(strict, &nbf(NOW.to_string()), NOW), Ok(()));
    assert_eq!(claims_at(strict, &nbf(at(1).to_string()), NOW), Err(Error::NotYetValid));
    assert_eq!(claims_at(strict, &nbf(format!("{NOW}.5")), NOW), Err(Error::NotYetValid));
    assert_eq!(claims_at(strict, &nbf(format!("{}.5", at(-1))), NOW), Ok(()));
    assert_eq!(claims_at(Policy::new(), &nbf(at(30).to_string()), NOW), Ok(()));
    assert_eq!(claims_at(Policy::new(), &nbf(at(31).to_string()), NOW), Err(Error::NotYetValid));
    assert_eq!(claims_at(Policy::new(), &nbf(r#""soon""#.to_owned()), NOW), Err(Error::BadClaim(Field::Nbf)));
}

#[test]
fn iat_in_the_future_is_rejected() {
    let strict = Policy::new().leeway_secs(0);
    let iat = |i: String| format!(r#"{{"exp":{},"iat":{i}}}"#, at(3600));
    assert_eq!(claims_at(strict, &iat(NOW.to_string()), NOW), Ok(()));
    assert_eq!(claims_at(strict, &iat(at(1).to_string()), NOW), Err(Error::IssuedInFuture));
    assert_eq!(claims_at(strict, &iat(format!("{NOW}.5")), NOW), Err(Error::IssuedInFuture));
    assert_eq!(claims_at(Policy::new(), &iat(at(30).to_string()), NOW), Ok(()));
    assert_eq!(claims_at(Policy::new(), &iat(at(31).to_string()), NOW), Err(Error::IssuedInFuture));
    assert_eq!(claims_at(Policy::new(), &iat("null".to_owned()), NOW), Err(Error::BadClaim(Field::Iat)));
}

#[test]
fn max_age_rejects_old_tokens_and_requires_iat() {
    let strict = Policy::new().leeway_secs(0).max_age_secs(3600);
    let iat = |i: String| format!(r#"{{"exp":{},"iat":{i}}}"#, at(3600));
    assert_eq!(claims_at(strict, &iat(at(-3600).to_string()), NOW), Ok(()));
    assert_eq!(claims_at(strict, &iat(at(-3601).to_string()), NOW), Err(Error::TooOld));
    assert_eq!(claims_at(strict, &iat(format!("{}.5", at(-3601))), NOW), Err(Error::TooOld));
    let lenient = Policy::new().leeway_secs(30).max_age_secs(3600);
    assert_eq!(claims_at(lenient, &iat(at(-3630).to_string()), NOW), Ok(()));
    assert_eq!(claims_at(lenient, &iat(at(-3631).to_string()), NOW), Err(Error::TooOld));
    assert_eq!(claims_at(strict, &format!(r#"{{"exp":{}}}"#, at(3600)), NOW), Err(Error::MissingClaim(Field::Iat)));
}

#[test]
fn max_lifetime_rejects_long_lived_tokens_and_requires_exp_and_iat() {
    let day = Policy::new().max_lifetime_secs(86_400);
    let token = |iat: String, exp: String| format!(r#"{{"iat":{iat},"exp":{exp}}}"#);
    let (iat, exp) = (at(-60), at(86_400 - 60));
    assert_eq!(claims_at(day, &token(iat.to_string(), exp.to_string()), NOW), Ok(()));
    assert_eq!(claims_at(day, &token(iat.to_string(), (exp + 1).to_string()), NOW), Err(Error::LifetimeTooLong));
    // Whole seconds, the longest reading: exp up, iat down.
    assert_eq!(claims_at(day, &token(iat.to_string(), format!("{exp}.5")), NOW), Err(Error::LifetimeTooLong));
    assert_eq!(claims_at(day, &token(format!("{iat}.5"), exp.to_string()), NOW), Ok(()));
    // No leeway: the lifetime reads no clock.
    let lenient = day.leeway_secs(300);
    assert_eq!(claims_at(lenient, &token(iat.to_string(), (exp + 1).to_string()), NOW), Err(Error::LifetimeTooLong));
    // Without iat, or (when exp may be missing) without exp, the lifetime is unknown.
    assert_eq!(claims_at(day, &format!(r#"{{"exp":{exp}}}"#), NOW), Err(Error::MissingClaim(Field::Iat)));
    let no_exp = day.allow_missing_exp();
    assert_eq!(claims_at(no_exp, &format!(r#"{{"iat":{iat}}}"#), NOW), Err(Error::MissingClaim(Field::Exp)));
    // Each missing claim is reported once, with max_age and require_exp too.
    let both = Policy::new().max_age_secs(3600).max_lifetime_secs(86_400);
    let signer = Signer::hs256();
    let keys = [signer.key()];
    let mut buf = [0u8; DEFAULT_BUFFER_LEN];
    let failures =
        Verifier::new(&keys, both).verify_all(signer.jwt("{}"), NOW, &mut buf).map(drop).expect_err("missing");
    assert_eq!(failures.as_slice(), [Error::MissingClaim(Field::Exp), Error::MissingClaim(Field::Iat)]);
}

// ---- claim types ----

#[test]
fn exp_must_be_a_number_and_is_required_unless_allowed_missing() {
    for bad in [r#""4102444800""#, "null", "true", "[1]", "{}", "1e400", "9223372036854775808"] {
        let claims = format!(r#"{{"iss":"{ISS}","aud":"{AUD}","exp":{bad}}}"#);
        assert_claims(policy(), &claims, Err(Error::BadClaim(Field::Exp)));
        assert_claims(policy().allow_missing_exp(), &claims, Err(Error::BadClaim(Field::Exp)));
    }
    let no_exp = format!(r#"{{"iss":"{ISS}","aud":"{AUD}"}}"#);
    assert_claims(policy(), &no_exp, Err(Error::MissingClaim(Field::Exp)));
    assert_claims(policy().allow_missing_exp(), &no_exp, Ok(()));
    // A present exp is still enforced.
    let expired = format!(r#"{{"iss":"{ISS}","aud":"{AUD}","exp":{}}}"#, at(-3600));
    assert_claims(policy().allow_missing_exp(), &expired, Err(Error::Expired));
}

// ---- issuer and audience ----

#[test]
fn the_issuer_must_match_exactly() {
    let claims = |iss: &str| format!(r#"{{"iss":{iss},"aud":"{AUD}","exp":{}}}"#, at(60));
    assert_claims(policy(), &claims(r#""https://evil.example""#), Err(Error::BadIssuer));
    assert_claims(policy(), &claims(r#""https://Issuer.example""#), Err(Error::BadIssuer));
    assert_claims(policy(), &claims(r#""https://issuer.example/""#), Err(Error::BadIssuer));
    assert_claims(policy(), &claims("1"), Err(Error::BadClaim(Field::Iss)));
    assert_claims(policy(), &claims(r#"["https://issuer.example"]"#), Err(Error::BadClaim(Field::Iss)));
    assert_claims(policy(), &format!(r#"{{"aud":"{AUD}","exp":{}}}"#, at(60)), Err(Error::MissingClaim(Field::Iss)));
    let two = Policy::new().issuers(&["https://other.example", ISS]).audience(AUD);
    assert_claims(two, &claims(r#""https://issuer.example""#), Ok(()));
    // Without a configured issuer any iss passes.
    assert_claims(Policy::new().audience(AUD), &claims(r#""https://evil.example""#), Ok(()));
}

#[test]
fn an_escaped_issuer_matches_after_decoding() {
    let claims = |iss: &str| format!(r#"{{"iss":"{iss}","aud":"{AUD}","exp":{}}}"#, at(60));
    assert_claims(policy(), &claims(r"https:\/\/issuer.example"), Ok(()));
    assert_claims(policy(), &claims(r"\u0068ttps://issuer\u002eexample"), Ok(()));
    assert_claims(policy(), &claims(r"https:\/\/issuer.example\u0000"), Err(Error::BadIssuer));
}

#[test]
fn the_audience_must_match_one_configured_value() {
    let claims = |aud: &str| format!(r#"{{"iss":"{ISS}","aud":{aud},"exp":{}}}"#, at(60));
    assert_claims(policy(), &claims(r#""other""#), Err(Error::BadAudience));
    assert_claims(policy(), &claims(r#""API""#), Err(Error::BadAudience));
    assert_claims(policy(), &claims(r#"["other","api"]"#), Ok(()));
    assert_claims(policy(), &claims(r#"["other","\u0061pi"]"#), Ok(()));
    assert_claims(policy(), &claims(r#"["other","more"]"#), Err(Error::BadAudience));
    assert_claims(policy(), &claims("[]"), Err(Error::BadAudience));
    assert_claims(policy(), &claims(r#"["api",1]"#), Err(Error::BadClaim(Field::Aud)));
    assert_claims(policy(), &claims(r#"[["api"]]"#), Err(Error::BadClaim(Field::Aud)));
    assert_claims(policy(), &claims("1"), Err(Error::BadClaim(Field::Aud)));
    assert_claims(policy(), &claims("null"), Err(Error::BadClaim(Field::Aud)));
    let many = Policy::new().issuer(ISS).audiences(&["reports", "api"]);
    assert_claims(many, &claims(r#""api""#), Ok(()));
    assert_claims(many, &claims(r#"["x","reports"]"#), Ok(()));
}

#[test]
fn a_missing_aud_is_rejected_when_audiences_are_configured() {
    let claims = format!(r#"{{"iss":"{ISS}","exp":{}}}"#, at(60));
    assert_claims(policy(), &claims, Err(Error::MissingClaim(Field::Aud)));
    assert_claims(Policy::new().issuer(ISS), &claims, Ok(()));
}

/// Documented: a token addressed to someone is not accepted by a verifier that
/// does not know who it is, unless it deliberately ignores the audience.
#[test]
fn an_aud_without_configured_audiences_is_rejected_unless_ignored() {
    let claims = format!(r#"{{"iss":"{ISS}","aud":"api","exp":{}}}"#, at(60));
    assert_claims(Policy::new().issuer(ISS), &claims, Err(Error::BadAudience));
    assert_claims(Policy::new().issuer(ISS).ignore_audience(), &claims, Ok(()));
    let array = format!(r#"{{"iss":"{ISS}","aud":[],"exp":{}}}"#, at(60));
    assert_claims(Policy::new().issuer(ISS), &array, Err(Error::BadAudience));
    assert_claims(Policy::new().issuer(ISS).ignore_audience(), &array, Ok(()));
    // The type is still checked when ignored.
    let bad = format!(r#"{{"iss":"{ISS}","aud":7,"exp":{}}}"#, at(60));
    assert_claims(Policy::new().issuer(ISS).ignore_audience(), &bad, Err(Error::BadClaim(Field::Aud)));
}

// ---- typ ----

#[test]
fn typ_is_compared_case_insensitively_with_an_optional_application_prefix() {
    let with_typ = |typ: &str| format!(r#"{{"alg":"HS256","typ":{typ}}}"#);
    let jwt = policy().typ("JWT");
    assert_header(jwt, &with_typ(r#""JWT""#), Ok(()));
    assert_header(jwt, &with_typ(r#""jwt""#), Ok(()));
    assert_header(jwt, &with_typ(r#""application/JWT""#), Ok(()));
    assert_header(jwt, &with_typ(r#""Application/jwt""#), Ok(()));
    assert_header(jwt, &with_typ(r#""at+jwt""#), Err(Error::BadType));
    assert_header(jwt, &with_typ(r#""JWTX""#), Err(Error::BadType));
    assert_header(jwt, &with_typ(r#""application/""#), Err(Error::BadType));
    assert_header(jwt, &with_typ("1"), Err(Error::BadClaim(Field::Typ)));
    assert_header(jwt, r#"{"alg":"HS256"}"#, Err(Error::MissingClaim(Field::Typ)));
    let at_jwt = policy().typ("at+jwt");
    assert_header(at_jwt, &with_typ(r#""application/at+jwt""#), Ok(()));
    assert_header(at_jwt, &with_typ(r#""AT+JWT""#), Ok(()));
    assert_header(at_jwt, &with_typ(r#""at\u002bjwt""#), Ok(()));
    assert_header(at_jwt, &with_typ(r#""JWT""#), Err(Error::BadType));
    assert_header(at_jwt, &with_typ(r#""application/jwt""#), Err(Error::BadType));
    assert_header(policy().typ("application/at+jwt"), &with_typ(r#""at+jwt""#), Ok(()));
    // Without a required typ, any typ passes.
    assert_header(policy(), &with_typ(r#""anything""#), Ok(()));
}

// ---- required claims ----

#[test]
fn required_claims_must_be_present() {
    let names: &[&str] = &["tenant", "sub", "role"];
    let p = policy().require_claims(names);
    let claims = |extra: &str| format!(r#"{{"iss":"{ISS}","aud":"{AUD}","exp":{}{extra}}}"#, at(60));
    assert_claims(p, &claims(r#","tenant":"acme","sub":"u","role":null"#), Ok(()));
    assert_claims(p, &claims(r#","tenant":"acme","sub":"u""#), Err(Error::MissingClaim(Field::Required(2))));
    assert_eq!(p.field_name(Field::Required(2)), Some("role"));
    assert_claims(p, &claims(r#","sub":"u","role":1"#), Err(Error::MissingClaim(Field::Required(0))));
    assert_eq!(p.field_name(Field::Required(0)), Some("tenant"));
    // A registered name is reported as itself.
    assert_claims(p, &claims(r#","tenant":"acme","role":1"#), Err(Error::MissingClaim(Field::Sub)));
    assert_eq!(p.field_name(Field::Sub), Some("sub"));
    assert_eq!(p.field_name(Field::Required(3)), None);
    // Escaped names are decoded.
    assert_claims(p, &claims(r#","\u0074enant":"acme","sub":"u","role":1"#), Ok(()));
}

#[test]
fn required_claim_values_must_be_equal_or_held() {
    let pairs: &[(&str, ClaimValue<'_>)] =
        &[("tenant", ClaimValue::String("acme")), ("role", ClaimValue::String("admin"))];
    let p = policy().require_claim_values(pairs);
    let claims = |extra: &str| format!(r#"{{"iss":"{ISS}","aud":"{AUD}","exp":{}{extra}}}"#, at(60));
    assert_claims(p, &claims(r#","tenant":"acme","role":"admin""#), Ok(()));
    assert_claims(p, &claims(r#","tenant":"acme","role":"ad\u006din""#), Ok(()));
    assert_claims(p, &claims(r#","tenant":"acme","role":"user""#), Err(Error::BadClaim(Field::RequiredValue(1))));
    assert_eq!(p.field_name(Field::RequiredValue(1)), Some("role"));
    assert_claims(p, &claims(r#","tenant":"acme","role":"Admin""#), Err(Error::BadClaim(Field::RequiredValue(1))));
    // An array holds the value when one of its elements equals it.
    assert_claims(p, &claims(r#","tenant":"acme","role":["user","admin"]"#), Ok(()));
    assert_claims(
        p,
        &claims(r#","tenant":"acme","role":["user",["admin"]]"#),
        Err(Error::BadClaim(Field::RequiredValue(1))),
    );
    assert_claims(
        p,
        &claims(r#","tenant":"acme","role":{"admin":true}"#),
        Err(Error::BadClaim(Field::RequiredValue(1))),
    );
    assert_claims(p, &claims(r#","tenant":"acme""#), Err(Error::MissingClaim(Field::RequiredValue(1))));
    assert_claims(p, &claims(r#","role":"admin""#), Err(Error::MissingClaim(Field::RequiredValue(0))));
    assert_eq!(p.field_name(Field::RequiredValue(0)), Some("tenant"));
    assert_eq!(p.field_name(Field::RequiredValue(2)), None);
    let sub = policy().require_claim_values(&[("sub", ClaimValue::String("user-1"))]);
    assert_claims(sub, &claims(r#","sub":"user-2""#), Err(Error::BadClaim(Field::Sub)));
    assert_claims(sub, &claims(r#","sub":"user-1""#), Ok(()));
}

#[test]
fn required_claim_values_of_other_types_match_only_their_type() {
    let pairs: &[(&str, ClaimValue<'_>)] =
        &[("level", ClaimValue::Integer(3)), ("email_verified", ClaimValue::Bool(true))];
    let p = policy().require_claim_values(pairs);
    let claims = |extra: &str| format!(r#"{{"iss":"{ISS}","aud":"{AUD}","exp":{}{extra}}}"#, at(60));
    assert_claims(p, &claims(r#","level":3,"email_verified":true"#), Ok(()));
    assert_claims(p, &claims(r#","level":3.0,"email_verified":[false,true]"#), Ok(()));
    for (level, verified, code) in [
        ("\"3\"", "true", Error::BadClaim(Field::RequiredValue(0))),
        ("3e0", "true", Error::BadClaim(Field::RequiredValue(0))),
        ("3.5", "true", Error::BadClaim(Field::RequiredValue(0))),
        ("4", "true", Error::BadClaim(Field::RequiredValue(0))),
        ("3", "\"true\"", Error::BadClaim(Field::RequiredValue(1))),
        ("3", "1", Error::BadClaim(Field::RequiredValue(1))),
        ("3", "null", Error::BadClaim(Field::RequiredValue(1))),
    ] {
        let extra = format!(r#","level":{level},"email_verified":{verified}"#);
        assert_claims(p, &claims(&extra), Err(code));
    }
}

#[test]
fn scope_holds_its_space_separated_words() {
    let p = policy().require_claim_values(&[("scope", ClaimValue::String("read"))]);
    let claims = |scope: &str| format!(r#"{{"iss":"{ISS}","aud":"{AUD}","exp":{},"scope":{scope}}}"#, at(60));
    for held in [r#""read""#, r#""openid read""#, r#""read write""#, r#"["write","read"]"#] {
        assert_claims(p, &claims(held), Ok(()));
    }
    for not in [r#""readonly""#, r#""openid  reader""#, r#""write,read""#, r#""""#] {
        assert_claims(p, &claims(not), Err(Error::BadClaim(Field::RequiredValue(0))));
    }
}

#[test]
fn json_pointers_reach_nested_claims() {
    let p = policy().require_claims(&["/realm_access/roles"]).require_claim_values(&[
        ("/realm_access/roles", ClaimValue::String("admin")),
        ("/org/id", ClaimValue::Integer(7)),
    ]);
    let claims = |extra: &str| format!(r#"{{"iss":"{ISS}","aud":"{AUD}","exp":{}{extra}}}"#, at(60));
    assert_claims(p, &claims(r#","realm_access":{"roles":["user","admin"]},"org":{"id":7}"#), Ok(()));
    assert_claims(
        p,
        &claims(r#","realm_access":{"roles":["user"]},"org":{"id":7}"#),
        Err(Error::BadClaim(Field::RequiredValue(0))),
    );
    assert_claims(p, &claims(r#","realm_access":{},"org":{"id":7}"#), Err(Error::MissingClaim(Field::Required(0))));
    // A top-level claim literally named like the pointer is not what it points at.
    assert_claims(
        p,
        &claims(r#","/realm_access/roles":"admin","org":{"id":7}"#),
        Err(Error::MissingClaim(Field::Required(0))),
    );
    assert_eq!(p.field_name(Field::RequiredValue(1)), Some("/org/id"));
    // An invalid pointer finds nothing.
    let bad = policy().require_claims(&["/a~2"]);
    assert_claims(bad, &claims(r#","a~2":1,"a":{"~2":1}"#), Err(Error::MissingClaim(Field::Required(0))));
}

// ---- verify_all ----

#[test]
fn verify_all_reports_every_failure_in_check_order() {
    let signer = Signer::hs256();
    let keys = [signer.key()];
    let verifier = Verifier::new(&keys, policy());
    let claims = format!(r#"{{"iss":"https://evil.example","aud":"other","exp":{}}}"#, at(-3600));
    let token = signer.jwt(&claims);
    let mut buf = [0u8; DEFAULT_BUFFER_LEN];
    let failures = verifier.verify_all(&token, NOW, &mut buf).map(drop).expect_err("three failures");
    assert_eq!(failures.as_slice(), [Error::Expired, Error::BadIssuer, Error::BadAudience]);
    assert_eq!(failures.first(), Some(Error::Expired));
    assert!(failures.contains(ErrorCode::BadIssuer) && !failures.contains(ErrorCode::BadType));
    assert!(!failures.truncated());
    assert_eq!(verifier.verify(&token, NOW, &mut buf).map(drop), Err(Error::Expired));
    // With a required typ missing as well: one more, at its place.
    let typed = Verifier::new(&keys, policy().typ("JWT"));
    let untyped = signer.token(r#"{"alg":"HS256"}"#, &claims);
    let failures = typed.verify_all(&untyped, NOW, &mut buf).map(drop).expect_err("four failures");
    assert_eq!(
        failures.as_slice(),
        [Error::Expired, Error::BadIssuer, Error::BadAudience, Error::MissingClaim(Field::Typ)]
    );
    // Structural and signature failures end the run with one failure.
    let forged = Signer::hmac(Algorithm::HS256, &[1; 32]).jwt(&claims);
    let failures = verifier.verify_all(&forged, NOW, &mut buf).map(drop).expect_err("bad signature");
    assert_eq!(failures.as_slice(), [Error::BadSignature]);
    // A good token passes.
    assert!(verifier.verify_all(signer.jwt(good_claims()), NOW, &mut buf).is_ok());
}

// ---- verify_jws ----

#[test]
fn verify_jws_takes_any_payload_but_verify_needs_claims() {
    let signer = Signer::es256();
    let keys = [signer.key()];
    let token = signer.token(r#"{"alg":"ES256"}"#, b"\x00not json\xff");
    let mut buf = [0u8; DEFAULT_BUFFER_LEN];
    let jws = Verifier::new(&keys, policy()).verify_jws(&token, &mut buf).expect("a valid JWS");
    assert_eq!(jws.payload(), b"\x00not json\xff");
    assert_rejects(&keys, policy(), &token, Error::Malformed(Part::Payload));
    let forged = Signer::es256().token(r#"{"alg":"ES256"}"#, b"payload");
    let got = Verifier::new(&keys, policy()).verify_jws(&forged, &mut buf).map(drop);
    assert_eq!(got, Err(Error::BadSignature));
}

// ---- UnverifiedToken ----

/// Whether `T` converts into a `VerifiedToken` by `Into`/`TryInto`; decided at
/// compile time by method resolution (the inherent method needs the bound,
/// the trait method is the fallback).
struct ConvertsToVerified<T>(core::marker::PhantomData<T>);

trait NoConversion {
    fn converts(&self) -> bool {
        false
    }
}

impl<T> NoConversion for ConvertsToVerified<T> {}

impl<T: TryInto<VerifiedToken<'static>>> ConvertsToVerified<T> {
    fn converts(&self) -> bool {
        true
    }
}

#[test]
fn unverified_token_decodes_without_a_valid_signature_but_never_passes_as_verified() {
    let issuer = Signer::es256();
    let keys = [issuer.key()];
    let token = issuer.jwt(good_claims());
    let [h, p, _] = segments(&token);
    let forged = format!("{h}.{p}.AAAA");
    let mut buf = [0u8; DEFAULT_BUFFER_LEN];
    let unverified = UnverifiedToken::decode(&forged, DEFAULT_MAX_TOKEN_LEN, &mut buf).expect("decodes");
    assert!(unverified.unverified_header().alg() == "ES256");
    let claims = unverified.unverified_claims().expect("claims");
    assert!(claims.sub().expect("sub") == "user-1" && claims.iss().expect("iss") == ISS);
    assert_eq!(unverified.signature_len(), 3);
    assert!(unverified.check_unverified(&policy(), NOW).is_empty(), "says nothing about the signature");
    assert_eq!(unverified.check_unverified(&policy(), at(7200)).as_slice(), [Error::Expired]);
    assert_eq!(unverified.unverified_payload(), good_claims().as_bytes());
    // The verifier rejects it, and no conversion exists.
    assert_rejects(&keys, policy(), &forged, Error::BadSignature);
    assert!(!ConvertsToVerified::<UnverifiedToken<'static>>(core::marker::PhantomData).converts());
    assert!(ConvertsToVerified::<VerifiedToken<'static>>(core::marker::PhantomData).converts(), "the probe works");
}

#[test]
fn unverified_token_decoding_is_as_strict_as_verification() {
    let signer = Signer::hs256();
    let token = signer.jwt(good_claims());
    let [h, p, s] = segments(&token);
    let decode = |t: &str| UnverifiedToken::decode(t, DEFAULT_MAX_TOKEN_LEN, &mut [0u8; DEFAULT_BUFFER_LEN]).map(drop);
    assert_eq!(decode(&token), Ok(()));
    assert_eq!(decode(&format!("{h}=.{p}.{s}")), Err(Error::Malformed(Part::Header)));
    assert_eq!(decode(&format!("{h}.{p}=.{s}")), Err(Error::Malformed(Part::Payload)));
    assert_eq!(decode(&format!("{h}.{p}.{s}=")), Err(Error::Malformed(Part::Signature)));
    assert_eq!(decode(&format!("{h}.{p}")), Err(Error::Malformed(Part::Token)));
    assert_eq!(decode(&format!("{h}.{p}.{}", "A".repeat(2000))), Err(Error::Malformed(Part::Signature)));
    let dup = b64(r#"{"alg":"HS256","alg":"none"}"#);
    assert_eq!(decode(&format!("{dup}.{p}.{s}")), Err(Error::Malformed(Part::Header)));
    let too_long = format!("{h}.{p}.{s}");
    let got = UnverifiedToken::decode(&too_long, too_long.len() - 1, &mut [0u8; DEFAULT_BUFFER_LEN]).map(drop);
    assert_eq!(got, Err(Error::TooLarge));
    // A payload that is not JSON decodes; its claims do not.
    let mut buf = [0u8; DEFAULT_BUFFER_LEN];
    let text = format!("{h}.{}.{s}", b64("plain text"));
    let unverified = UnverifiedToken::decode(&text, DEFAULT_MAX_TOKEN_LEN, &mut buf).expect("decodes");
    assert_eq!(unverified.unverified_claims().map(drop), Err(Error::Malformed(Part::Payload)));
    assert_eq!(unverified.check_unverified(&policy(), NOW).as_slice(), [Error::Malformed(Part::Payload)]);
}
