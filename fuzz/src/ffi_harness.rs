//! The `ffi` target: token, JWKS, policy and configuration bytes through the
//! C ABI's `extern "C"` functions (`include/jwtv.h`), called with raw
//! pointers as C calls them, checked against the Rust API underneath.
//!
//! Input: a mode byte (`mode % 5`), then the mode's bytes:
//!
//! - 0: a token for `jwtv_verifier_verify` on a verifier made from a
//!   `jwtv_policy` built field by field (the four test keys as PEM and HMAC
//!   secret);
//! - 1: a JWKS document for `jwtv_policy_set_jwks` + `jwtv_verifier_from_policy`;
//! - 2: a policy document for `jwtv_policy_from_json` + `jwtv_policy_check`
//!   and `jwtv_verifier_from_policy_json` (only with an inline `jwks` key
//!   source: files and URLs would make the fuzzer read the disk or the network);
//! - 3: NUL-separated strings (any bytes, UTF-8 or not) for the policy setters;
//! - 4: `header JSON` 0xFF `claims JSON`, signed with the test key chosen by
//!   bits 3-4 of the mode byte, then verified and read with every
//!   `jwtv_token_*` accessor.

use std::ffi::{CStr, CString, c_char};
use std::ptr::{null, null_mut};
use std::sync::OnceLock;

use jwtv::json::Value;
use jwtv::{AlgorithmSet, DEFAULT_BUFFER_LEN, Verifier};
use jwtv_gateway::Policy;
use jwtv_jwks::{KeySet, KeySetOptions};
use libjwtv::*;

use crate::{ALGS, AUD, HS256_SECRET, ISS, NOW, VALID_TOKENS, keys, kid_of, measure, policy, signers};

const BASE_DIR: &CStr = c"/nonexistent/jwtv-fuzz";

/// Bytes the C ABI may allocate for one mode's calls: this many per input byte…
pub const FFI_BYTES_PER_INPUT_BYTE: usize = 64;
/// …plus this much (a verifier, its token cache, a key set of four keys).
pub const FFI_BYTES_BASE: usize = 256 * 1024;

struct Shared(*mut jwtv_verifier);
// SAFETY: a jwtv_verifier may be used by many threads at once (jwtv.h).
unsafe impl Send for Shared {}
// SAFETY: as above.
unsafe impl Sync for Shared {}

/// The core policy equal to [`base_policy`]'s rules.
fn c_policy() -> jwtv::Policy<'static> {
    policy().algorithms(AlgorithmSet::of(&ALGS))
}

fn status_of(result: Result<(), jwtv::Error>) -> u32 {
    match result {
        Ok(()) => 0,
        Err(e) => e.code().to_u32(),
    }
}

#[track_caller]
fn ok(status: jwtv_status) {
    assert_eq!(status, jwtv_status::JWTV_OK);
}

fn cstring(s: &str) -> CString {
    CString::new(s).expect("no NUL")
}

/// `jwtv_policy_add_string` without an error buffer.
///
/// # Safety
/// `policy` is a live policy.
unsafe fn add(policy: *mut jwtv_policy, path: &CStr, value: &CStr) -> jwtv_status {
    // SAFETY: forwarded; NUL-terminated strings.
    unsafe { jwtv_policy_add_string(policy, path.as_ptr(), value.as_ptr(), null_mut(), 0) }
}

/// A policy with the four algorithms, the example issuer and audience, `sub` required.
fn base_policy() -> *mut jwtv_policy {
    let mut policy = null_mut();
    // SAFETY: every pointer is valid for the call; strings are NUL-terminated.
    unsafe {
        ok(jwtv_policy_new(&mut policy));
        for alg in ALGS {
            ok(add(policy, c"algorithms", &cstring(alg.name())));
        }
        ok(add(policy, c"issuers", &cstring(ISS)));
        ok(add(policy, c"audiences", &cstring(AUD)));
        ok(add(policy, c"required_claims", c"sub"));
    }
    policy
}

/// The verifier of modes 0 and 4: the test keys given one by one, a token cache.
fn fixed_verifier() -> *const jwtv_verifier {
    static VERIFIER: OnceLock<Shared> = OnceLock::new();
    VERIFIER
        .get_or_init(|| {
            let policy = base_policy();
            let pems: [(&str, &CStr); 3] = [
                (include_str!("../../examples/keys/test-es256.pub.pem"), c"ES256"),
                (include_str!("../../examples/keys/test-eddsa.pub.pem"), c"EdDSA"),
                (include_str!("../../examples/keys/test-rs256.pub.pem"), c"RS256"),
            ];
            let mut verifier = null_mut();
            // SAFETY: valid pointers, NUL-terminated strings.
            unsafe {
                for (pem, alg) in pems {
                    let kid = cstring(kid_of(jwtv::Algorithm::from_name(alg.to_str().unwrap()).unwrap()));
                    let status = jwtv_policy_add_pem_key(
                        policy,
                        pem.as_ptr(),
                        pem.len(),
                        alg.as_ptr(),
                        kid.as_ptr(),
                        null_mut(),
                        0,
                    );
                    ok(status);
                }
                ok(jwtv_policy_add_hmac_secret(
                    policy,
                    HS256_SECRET.as_ptr(),
                    HS256_SECRET.len(),
                    c"HS256".as_ptr(),
                    c"test-hs256".as_ptr(),
                    null_mut(),
                    0,
                ));
                ok(jwtv_policy_set(policy, c"token_cache_size".as_ptr(), c"64".as_ptr(), null_mut(), 0));
                ok(jwtv_verifier_from_policy(policy, 0, &mut verifier, null_mut(), 0));
                jwtv_policy_free(policy);
            }
            Shared(verifier)
        })
        .0
}

/// One input.
pub fn run(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else { return };
    let _ = fixed_verifier(); // built once, outside any measurement
    let (_, usage) = measure(|| match mode % 5 {
        0 => token_mode(rest, mode),
        1 => jwks_mode(rest, mode),
        2 => policy_mode(rest, mode),
        3 => strings_mode(rest),
        _ => signed_mode(rest, mode),
    });
    let bound = FFI_BYTES_PER_INPUT_BYTE * data.len() + FFI_BYTES_BASE;
    assert!(usage.bytes <= bound, "the C ABI allocated {usage:?} for {} input bytes", data.len());
    // Everything made was freed (the fixed verifier's cache aside, which only
    // mode 0 and 4 fill and which is bounded by its 64 entries).
    if !matches!(mode % 5, 0 | 4) {
        assert_eq!(usage.kept, 0, "the C ABI kept memory: {usage:?}");
    }
}

/// Verifies through the C ABI with a detail buffer of `detail_cap` bytes.
fn c_verify(verifier: *const jwtv_verifier, token: &[u8], detail_cap: usize) -> (jwtv_status, *mut jwtv_token) {
    let mut out = null_mut();
    let mut detail = vec![0x55u8; detail_cap];
    let detail_ptr = if detail_cap == 0 { null_mut() } else { detail.as_mut_ptr().cast::<c_char>() };
    // SAFETY: `token` is readable for its length, `detail` writable for `detail_cap` bytes.
    let status =
        unsafe { jwtv_verifier_verify(verifier, token.as_ptr(), token.len(), NOW, &mut out, detail_ptr, detail_cap) };
    assert_ne!(status, jwtv_status::JWTV_INTERNAL_ERROR, "jwtv_verifier_verify failed internally");
    if detail_cap > 0 {
        let end = detail.iter().position(|b| *b == 0).expect("detail is NUL-terminated within its capacity");
        std::str::from_utf8(&detail[..end]).expect("detail is UTF-8 (truncated at a character boundary)");
    }
    if status != jwtv_status::JWTV_OK {
        assert!(out.is_null(), "a token was returned with a rejection");
    }
    (status, out)
}

fn token_mode(token: &[u8], mode: u8) {
    let verifier = fixed_verifier();
    let core = Verifier::new(&keys().all, c_policy());
    let mut buf = vec![0u8; DEFAULT_BUFFER_LEN];
    let expected = core.verify(token, NOW, &mut buf);
    let (status, out) = c_verify(verifier, token, usize::from(mode >> 3));
    assert_eq!(status as u32, status_of(expected.as_ref().map(drop).map_err(|e| *e)), "C ABI and core disagree");
    // A second time: answered by the cache when accepted, the same either way.
    let (again, out2) = c_verify(verifier, token, 64);
    assert_eq!(status, again, "the token cache changed the verdict");
    if let Ok(verified) = &expected {
        check_token(out, verified, token);
        check_token(out2, verified, token);
    }
    // SAFETY: tokens from jwtv_verifier_verify (or NULL), freed once.
    unsafe {
        jwtv_token_free(out);
        jwtv_token_free(out2);
    }
}

/// Reads a verified token with every accessor and compares with the core.
fn check_token(token: *mut jwtv_token, verified: &jwtv::VerifiedToken<'_>, raw: &[u8]) {
    assert!(!token.is_null());
    // SAFETY: a live token; out-pointers valid for the calls.
    unsafe {
        let alg = CStr::from_ptr(jwtv_token_alg(token));
        assert_eq!(alg.to_str().unwrap(), verified.algorithm().name());
        let (mut ptr, mut len) = (null(), 0usize);
        ok(jwtv_token_claims_json(token, &mut ptr, &mut len));
        assert_eq!(std::slice::from_raw_parts(ptr, len), verified.claims().raw_json());
        ok(jwtv_token_header_json(token, &mut ptr, &mut len));
        assert_eq!(std::slice::from_raw_parts(ptr, len), verified.header().raw_json());
    }
    let claims = verified.claims();
    let header = verified.header();
    let seed = crate::fnv(raw);
    let cap = usize::try_from(seed % 48).unwrap_or(0);
    for name in ["sub", "iss", "jti", "scope", "tenant", "n", "exp"] {
        let c_name = cstring(name);
        let want = expected_string(claims.get(name));
        // SAFETY: a live token and a NUL-terminated name.
        check_copy_out(cap, &want, |buf, cap, len| unsafe {
            jwtv_token_claim_string(token, c_name.as_ptr(), buf, cap, len)
        });
        let want = expected_json(claims.get(name));
        // SAFETY: as above.
        check_copy_out(cap, &want, |buf, cap, len| unsafe {
            jwtv_token_claim_json(token, c_name.as_ptr(), buf, cap, len)
        });
    }
    // As text, by path: top-level and one level down (`realm_access.roles`).
    let paths: [&[&str]; 7] =
        [&["sub"], &["aud"], &["roles"], &["n"], &["realm_access"], &["realm_access", "roles"], &["sub", "x"]];
    for path in paths {
        let c_names: Vec<CString> = path.iter().map(|name| cstring(name)).collect();
        let c_path: Vec<*const c_char> = c_names.iter().map(|name| name.as_ptr()).collect();
        let want = expected_text(claims.raw_json(), path);
        // SAFETY: a live token and `path.len()` NUL-terminated names.
        check_copy_out(cap, &want, |buf, cap, len| unsafe {
            jwtv_token_claim_text(token, c_path.as_ptr(), c_path.len(), buf, cap, len)
        });
    }
    for name in ["exp", "iat", "nbf", "n", "sub"] {
        let c_name = cstring(name);
        let mut out = 0i64;
        // SAFETY: a live token, a NUL-terminated name, a writable i64.
        let status = unsafe { jwtv_token_claim_int64(token, c_name.as_ptr(), &mut out) };
        let want = expected_int64(claims.get(name));
        let got = if status == jwtv_status::JWTV_OK { Ok(out) } else { Err(status) };
        assert_eq!(got, want, "jwtv_token_claim_int64({name:?}) of {:?}", claims.get(name));
    }
    for name in ["kid", "typ", "alg", "cty"] {
        let c_name = cstring(name);
        let want = expected_string(header.get(name));
        // SAFETY: as above.
        check_copy_out(cap, &want, |buf, cap, len| unsafe {
            jwtv_token_header_string(token, c_name.as_ptr(), buf, cap, len)
        });
    }
    let audiences: Vec<String> = claims.audiences().map(|a| a.chars().collect()).collect();
    let mut count = usize::MAX;
    // SAFETY: a live token, a writable count.
    ok(unsafe { jwtv_token_audience_count(token, &mut count) });
    assert_eq!(count, audiences.len());
    for index in 0..=audiences.len() {
        let want = audiences.get(index).map(|a| a.clone().into_bytes()).ok_or(jwtv_status::JWTV_NOT_FOUND);
        // SAFETY: as above.
        check_copy_out(cap, &want, |buf, cap, len| unsafe { jwtv_token_audience(token, index, buf, cap, len) });
    }
}

fn expected_string(value: Option<Value<'_>>) -> Result<Vec<u8>, jwtv_status> {
    match value {
        None => Err(jwtv_status::JWTV_NOT_FOUND),
        Some(v) => {
            v.as_json_str().map(|s| s.chars().collect::<String>().into_bytes()).ok_or(jwtv_status::JWTV_WRONG_TYPE)
        }
    }
}

/// What `jwtv_token_claim_text` documents: the member at `path` (objects
/// only on the way), a string decoded, an array's elements joined with
/// commas, anything else as JSON; `EMBEDDED_NUL` for text holding NUL.
fn expected_text(claims: &[u8], path: &[&str]) -> Result<Vec<u8>, jwtv_status> {
    let mut value = Value::Object(std::str::from_utf8(claims).map_err(|_| jwtv_status::JWTV_INTERNAL_ERROR)?);
    for name in path {
        let Value::Object(raw) = value else { return Err(jwtv_status::JWTV_NOT_FOUND) };
        value = jwtv::json::find_member(raw.as_bytes(), name).ok_or(jwtv_status::JWTV_NOT_FOUND)?;
    }
    let scalar = |v: Value<'_>| match v.as_json_str() {
        Some(s) => Ok(s.chars().collect::<String>().into_bytes()),
        None => expected_json(Some(v)),
    };
    let text = match value.as_array() {
        Some(elements) => elements.map(scalar).collect::<Result<Vec<_>, _>>()?.join(&b","[..]),
        None => scalar(value)?,
    };
    if text.contains(&0) {
        return Err(jwtv_status::JWTV_EMBEDDED_NUL);
    }
    Ok(text)
}

fn expected_json(value: Option<Value<'_>>) -> Result<Vec<u8>, jwtv_status> {
    let text = match value.ok_or(jwtv_status::JWTV_NOT_FOUND)? {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Number(raw) | Value::Array(raw) | Value::Object(raw) => raw.to_owned(),
        Value::String(s) => format!("\"{}\"", s.raw()),
    };
    Ok(text.into_bytes())
}

/// What `jwtv_token_claim_int64` documents: the integer, or the whole
/// seconds (the floor) of a number with a fraction; `WRONG_TYPE` with an
/// exponent or beyond 64 bits. Computed exactly, digit by digit.
fn expected_int64(value: Option<Value<'_>>) -> Result<i64, jwtv_status> {
    let Value::Number(raw) = value.ok_or(jwtv_status::JWTV_NOT_FOUND)? else {
        return Err(jwtv_status::JWTV_WRONG_TYPE);
    };
    if raw.contains(['e', 'E']) {
        return Err(jwtv_status::JWTV_WRONG_TYPE);
    }
    let (negative, unsigned) = raw.strip_prefix('-').map_or((false, raw), |r| (true, r));
    let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    let mut n: i128 = 0;
    for d in whole.bytes() {
        n = n * 10 + i128::from(d - b'0');
        if n > i128::from(u64::MAX) {
            return Err(jwtv_status::JWTV_WRONG_TYPE);
        }
    }
    let has_fraction = fraction.bytes().any(|d| d != b'0');
    let floor = match (negative, has_fraction) {
        (false, _) => n,
        (true, false) => -n,
        (true, true) => -n - 1,
    };
    i64::try_from(floor).map_err(|_| jwtv_status::JWTV_WRONG_TYPE)
}

/// Calls a copy-out accessor with a buffer of `cap` bytes and checks the
/// buffer contract: on success the value and a NUL; `BUFFER_TOO_SMALL` with
/// the needed length when it does not fit, and a retry with that length + 1
/// succeeds.
fn check_copy_out(
    cap: usize,
    want: &Result<Vec<u8>, jwtv_status>,
    call: impl Fn(*mut c_char, usize, *mut usize) -> jwtv_status,
) {
    let mut buf = vec![0x55u8; cap + 1];
    let mut len = usize::MAX;
    let ptr = if cap == 0 { null_mut() } else { buf.as_mut_ptr().cast::<c_char>() };
    let status = call(ptr, cap, &mut len);
    match want {
        Err(code) => assert_eq!(status, *code),
        Ok(value) => {
            assert_eq!(len, value.len(), "needed length");
            if value.len() < cap {
                ok(status);
                assert_eq!(&buf[..value.len()], &value[..]);
                assert_eq!(buf[value.len()], 0, "NUL after the value");
            } else {
                assert_eq!(status, jwtv_status::JWTV_BUFFER_TOO_SMALL);
                assert_eq!(buf[cap], 0x55, "wrote past the capacity");
                let mut exact = vec![0u8; value.len() + 1];
                ok(call(exact.as_mut_ptr().cast::<c_char>(), exact.len(), null_mut()));
                assert_eq!(&exact[..value.len()], &value[..]);
            }
        }
    }
}

/// The core's verdict on the example tokens with these keys: what a C ABI
/// verifier over the same keys must answer.
fn verdicts_match(verifier: *const jwtv_verifier, core: &Verifier<'_>) {
    let mut buf = vec![0u8; DEFAULT_BUFFER_LEN];
    for token in VALID_TOKENS {
        let want = status_of(core.verify(token, NOW, &mut buf).map(drop));
        let (status, out) = c_verify(verifier, token.as_bytes(), 16);
        assert_eq!(status as u32, want, "C ABI and core disagree on {token}");
        // SAFETY: a token from jwtv_verifier_verify (or NULL), freed once.
        unsafe { jwtv_token_free(out) };
    }
}

fn jwks_mode(document: &[u8], mode: u8) {
    let policy = base_policy();
    let mut verifier = null_mut();
    let mut err = vec![0u8; usize::from(mode >> 3) + 1];
    // SAFETY: valid pointers and lengths.
    let status = unsafe {
        let set = jwtv_policy_set_jwks(policy, document.as_ptr(), document.len(), err.as_mut_ptr().cast(), err.len());
        if set == jwtv_status::JWTV_OK {
            jwtv_verifier_from_policy(policy, 0, &mut verifier, err.as_mut_ptr().cast(), err.len())
        } else {
            set
        }
    };
    let options = KeySetOptions::for_algorithms(AlgorithmSet::of(&ALGS));
    let set = KeySet::parse(document, &options);
    let usable = set.as_ref().is_ok_and(|s| !s.is_empty());
    if usable {
        ok(status);
        let set = set.expect("parsed");
        verdicts_match(verifier, &set.verifier(c_policy()));
    } else {
        assert_eq!(status, jwtv_status::JWTV_CONFIG_ERROR);
        assert!(verifier.is_null());
        let end = err.iter().position(|b| *b == 0).expect("error message NUL-terminated");
        std::str::from_utf8(&err[..end]).expect("error message is UTF-8");
    }
    // SAFETY: made above, freed once.
    unsafe {
        jwtv_verifier_free(verifier);
        jwtv_policy_free(policy);
    }
}

/// Whether a policy document's key source is an inline JWKS (the only one
/// the fuzzer may use: no files, no network).
fn inline_keys_only(json: &[u8]) -> bool {
    let Ok(serde_json::Value::Object(doc)) = serde_json::from_slice::<serde_json::Value>(json) else {
        return true; // not a JSON object: rejected before any key source
    };
    match doc.get("keys") {
        Some(serde_json::Value::Object(keys)) => keys.len() == 1 && keys.contains_key("jwks"),
        _ => true, // rejected as a bad `keys` field
    }
}

fn policy_mode(json: &[u8], mode: u8) {
    if !inline_keys_only(json) {
        return;
    }
    let cap = usize::from(mode >> 3) * 4;
    let mut err = vec![0x55u8; cap.max(1)];
    let err_ptr = if cap == 0 { null_mut() } else { err.as_mut_ptr().cast::<c_char>() };
    let mut handle = null_mut();
    // SAFETY: valid pointers and lengths; the handle is freed once.
    let checked = unsafe {
        let read = jwtv_policy_from_json(json.as_ptr(), json.len(), BASE_DIR.as_ptr(), &mut handle, err_ptr, cap);
        let checked = if read == jwtv_status::JWTV_OK { jwtv_policy_check(handle, err_ptr, cap) } else { read };
        jwtv_policy_free(handle);
        checked
    };
    let mut verifier = null_mut();
    // SAFETY: as above.
    let made = unsafe {
        jwtv_verifier_from_policy_json(json.as_ptr(), json.len(), BASE_DIR.as_ptr(), &mut verifier, err_ptr, cap)
    };
    assert_ne!(checked, jwtv_status::JWTV_INTERNAL_ERROR);
    assert_ne!(made, jwtv_status::JWTV_INTERNAL_ERROR);
    if cap > 0 && made != jwtv_status::JWTV_OK {
        let end = err.iter().position(|b| *b == 0).expect("error message NUL-terminated");
        std::str::from_utf8(&err[..end]).expect("error message is UTF-8");
    }
    let config = Policy::from_json(json, "/nonexistent/jwtv-fuzz");
    let rust = config.as_ref().map_err(|e| e.to_string()).and_then(|c| c.verifier().map_err(|e| e.to_string()));
    assert_eq!(made == jwtv_status::JWTV_OK, rust.is_ok(), "C ABI and Policy disagree: {:?}", rust.as_ref().err());
    if checked == jwtv_status::JWTV_OK {
        // `check` never accepts less than `verifier` does.
        assert!(config.is_ok());
    }
    if made == jwtv_status::JWTV_OK {
        assert_eq!(checked, jwtv_status::JWTV_OK, "a policy that makes a verifier fails its check");
        let rust = rust.expect("made");
        for token in VALID_TOKENS {
            let want = match rust.verify(token, NOW) {
                Ok(_) => 0,
                Err(e) => e.code().to_u32(),
            };
            let (status, out) = c_verify(verifier, token.as_bytes(), 8);
            assert_eq!(status as u32, want, "C ABI and Rust verifier disagree");
            // SAFETY: freed once.
            unsafe { jwtv_token_free(out) };
        }
    }
    // SAFETY: made above (or NULL), freed once.
    unsafe { jwtv_verifier_free(verifier) };
}

fn strings_mode(data: &[u8]) {
    let mut pieces = data.split(|b| *b == 0).map(|p| CString::new(p).expect("no NUL"));
    let mut next = || pieces.next().unwrap_or_default();
    let mut policy = null_mut();
    let mut err = [0u8; 32];
    let err_ptr = err.as_mut_ptr().cast::<c_char>();
    // SAFETY: valid pointers; every string NUL-terminated.
    unsafe {
        ok(jwtv_policy_new(&mut policy));
        let paths = [c"algorithms", c"issuers", c"audiences", c"typ", c"required_claims"];
        for path in paths {
            let s = next();
            let status = if path == c"typ" {
                jwtv_policy_set_string(policy, path.as_ptr(), s.as_ptr(), err_ptr, err.len())
            } else {
                jwtv_policy_add_string(policy, path.as_ptr(), s.as_ptr(), err_ptr, err.len())
            };
            let utf8 = s.to_str().is_ok();
            assert_eq!(status == jwtv_status::JWTV_INVALID_UTF8, !utf8, "UTF-8 check of {s:?}: {status:?}");
            assert!(matches!(
                status,
                jwtv_status::JWTV_OK | jwtv_status::JWTV_INVALID_UTF8 | jwtv_status::JWTV_CONFIG_ERROR
            ));
        }
        let (name, value) = (next(), next());
        let status = jwtv_policy_set_member(
            policy,
            c"required_claim_values".as_ptr(),
            name.as_ptr(),
            value.as_ptr(),
            err_ptr,
            err.len(),
        );
        assert_eq!(status == jwtv_status::JWTV_INVALID_UTF8, name.to_str().is_err() || value.to_str().is_err());
        let (secret, alg, kid) = (next(), next(), next());
        let status = jwtv_policy_add_hmac_secret(
            policy,
            secret.as_ptr().cast(),
            secret.as_bytes().len(),
            alg.as_ptr(),
            kid.as_ptr(),
            err_ptr,
            err.len(),
        );
        assert_ne!(status, jwtv_status::JWTV_INTERNAL_ERROR);
        ok(add(policy, c"algorithms", c"HS256"));
        let status = jwtv_policy_add_hmac_secret(
            policy,
            HS256_SECRET.as_ptr(),
            HS256_SECRET.len(),
            c"HS256".as_ptr(),
            null(),
            err_ptr,
            err.len(),
        );
        assert_ne!(status, jwtv_status::JWTV_INTERNAL_ERROR);
        let mut verifier = null_mut();
        let status = jwtv_verifier_from_policy(policy, 0, &mut verifier, err_ptr, err.len());
        assert_ne!(status, jwtv_status::JWTV_INTERNAL_ERROR);
        if status == jwtv_status::JWTV_OK {
            let (status, out) = c_verify(verifier, VALID_TOKENS[0].as_bytes(), 5);
            assert_ne!(status, jwtv_status::JWTV_INTERNAL_ERROR);
            jwtv_token_free(out);
        }
        jwtv_verifier_free(verifier);
        jwtv_policy_free(policy);
    }
}

fn signed_mode(data: &[u8], mode: u8) {
    let Some(at) = data.iter().position(|b| *b == crate::structured::SEPARATOR) else { return };
    let (header, claims) = (&data[..at], &data[at + 1..]);
    if header.len() + claims.len() > jwtv::DEFAULT_MAX_TOKEN_LEN / 2 {
        return;
    }
    let signer = &signers()[usize::from((mode >> 3) & 3)];
    let token = signer.token(header, claims);
    token_mode(token.as_bytes(), mode >> 5);
}
