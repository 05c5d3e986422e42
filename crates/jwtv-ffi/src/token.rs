//! `jwtv_token`: a verified token's header and claims, read without the
//! caller allocating — strings are copied into caller buffers, the raw JSON
//! is lent.

use std::ffi::{CString, c_char};
use std::sync::LazyLock;

use jwtv::Algorithm;
use jwtv::json::Value;
use jwtv_gateway::Verified;

use crate::boundary::{copy_c_string, copy_out, guard, guard_void, text, write_out};
use crate::status::jwtv_status;

/// A verified token. Opaque; made by `jwtv_verifier_verify`, released by
/// `jwtv_token_free`. Independent of the verifier once made.
#[allow(non_camel_case_types, reason = "C naming")]
#[derive(Debug)]
pub struct jwtv_token {
    verified: Verified,
}

impl jwtv_token {
    pub(crate) fn new(verified: Verified) -> Self {
        Self { verified }
    }
}

/// Algorithm names, NUL-terminated once from the core's own names.
static ALG_NAMES: LazyLock<Vec<(Algorithm, CString)>> =
    LazyLock::new(|| Algorithm::ALL.iter().map(|&alg| (alg, CString::new(alg.name()).unwrap_or_default())).collect());

/// # Safety
/// `token` is NULL or a live pointer from `jwtv_verifier_verify`.
unsafe fn token_ref<'a>(token: *const jwtv_token) -> Result<&'a jwtv_token, jwtv_status> {
    // SAFETY: NULL or live per the contract.
    unsafe { token.as_ref() }.ok_or(jwtv_status::JWTV_NULL_ARGUMENT)
}

/// Releases a token. NULL is a no-op.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn jwtv_token_free(token: *mut jwtv_token) {
    guard_void(|| {
        if !token.is_null() {
            // SAFETY: a pointer from jwtv_verifier_verify, released once per the contract.
            drop(unsafe { Box::from_raw(token) });
        }
    });
}

/// The algorithm that verified the token (`"ES256"`…), a static
/// NUL-terminated string; NULL when `token` is NULL.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn jwtv_token_alg(token: *const jwtv_token) -> *const c_char {
    let mut name = std::ptr::null();
    let _ = guard(|| {
        // SAFETY: forwarded contract.
        let alg = unsafe { token_ref(token) }?.verified.algorithm();
        if let Some((_, c)) = ALG_NAMES.iter().find(|(a, _)| *a == alg) {
            name = c.as_ptr();
        }
        Ok(())
    });
    name
}

/// Lends the decoded claims JSON: `*json` and `*len` stay valid until the
/// token is freed. Not NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn jwtv_token_claims_json(
    token: *const jwtv_token,
    json: *mut *const u8,
    len: *mut usize,
) -> jwtv_status {
    // SAFETY: forwarded contracts.
    unsafe { lend(token, json, len, |v| v.claims_json()) }
}

/// Lends the decoded header JSON, as `jwtv_token_claims_json`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn jwtv_token_header_json(
    token: *const jwtv_token,
    json: *mut *const u8,
    len: *mut usize,
) -> jwtv_status {
    // SAFETY: forwarded contracts.
    unsafe { lend(token, json, len, |v| v.header_json()) }
}

/// # Safety
/// As the public callers.
unsafe fn lend(
    token: *const jwtv_token,
    json: *mut *const u8,
    len: *mut usize,
    part: impl Fn(&Verified) -> &[u8],
) -> jwtv_status {
    guard(|| {
        // SAFETY: forwarded contract.
        let bytes = part(&unsafe { token_ref(token) }?.verified);
        if json.is_null() || len.is_null() {
            return Err(jwtv_status::JWTV_NULL_ARGUMENT);
        }
        // SAFETY: both non-NULL and writable per the contract.
        unsafe {
            json.write(bytes.as_ptr());
            len.write(bytes.len());
        }
        Ok(())
    })
}

/// Copies the string claim `name` (escapes decoded) into `buf`,
/// NUL-terminated. `*len_out` (when non-NULL) receives its length in bytes.
/// `JWTV_NOT_FOUND` when absent, `JWTV_WRONG_TYPE` when not a string,
/// `JWTV_EMBEDDED_NUL` (nothing written) when the decoded string contains a
/// NUL byte (`\u0000`), which C would read cut short: read such a claim with
/// `jwtv_token_claim_json` instead, `JWTV_BUFFER_TOO_SMALL` when `buf_cap`
/// is not more than its length.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn jwtv_token_claim_string(
    token: *const jwtv_token,
    name: *const c_char,
    buf: *mut c_char,
    buf_cap: usize,
    len_out: *mut usize,
) -> jwtv_status {
    // SAFETY: forwarded contracts.
    unsafe { member_string(token, name, buf, buf_cap, len_out, Verified::claim) }
}

/// Copies the string header parameter `name`, as `jwtv_token_claim_string`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn jwtv_token_header_string(
    token: *const jwtv_token,
    name: *const c_char,
    buf: *mut c_char,
    buf_cap: usize,
    len_out: *mut usize,
) -> jwtv_status {
    // SAFETY: forwarded contracts.
    unsafe { member_string(token, name, buf, buf_cap, len_out, Verified::header_field) }
}

/// # Safety
/// As the public callers.
unsafe fn member_string(
    token: *const jwtv_token,
    name: *const c_char,
    buf: *mut c_char,
    buf_cap: usize,
    len_out: *mut usize,
    lookup: for<'v> fn(&'v Verified, &str) -> Option<Value<'v>>,
) -> jwtv_status {
    guard(|| {
        // SAFETY: forwarded contracts.
        let (token, name) = unsafe { (token_ref(token)?, text(name)?) };
        let value = lookup(&token.verified, name).ok_or(jwtv_status::JWTV_NOT_FOUND)?;
        let s: String = value.as_json_str().ok_or(jwtv_status::JWTV_WRONG_TYPE)?.chars().collect();
        // SAFETY: buffer contract forwarded.
        unsafe { copy_c_string(&s, buf, buf_cap, len_out) }
    })
}

/// Writes the integer claim `name` to `*out`. `JWTV_NOT_FOUND` when absent,
/// `JWTV_WRONG_TYPE` when not a number, when written with an exponent
/// (`1.7e9`) or beyond 64 bits. A number with a fraction gives its whole
/// seconds, rounded down: `1700000000.5` gives 1700000000, `-0.5` gives -1.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn jwtv_token_claim_int64(
    token: *const jwtv_token,
    name: *const c_char,
    out: *mut i64,
) -> jwtv_status {
    guard(|| {
        // SAFETY: forwarded contracts.
        let (token, name) = unsafe { (token_ref(token)?, text(name)?) };
        let value = token.verified.claim(name).ok_or(jwtv_status::JWTV_NOT_FOUND)?;
        let Value::Number(raw) = value else { return Err(jwtv_status::JWTV_WRONG_TYPE) };
        let n = whole_seconds(raw).ok_or(jwtv_status::JWTV_WRONG_TYPE)?;
        // SAFETY: NULL or writable per the contract.
        unsafe { write_out(out, n) }
    })
}

/// The integer part of a JSON number (grammar already validated) as C
/// `int64_t`, rounded down (`-1.5` is -2, `-0.5` is -1, `-1.0` is -1); `None`
/// with an exponent or beyond 64 bits.
fn whole_seconds(raw: &str) -> Option<i64> {
    if raw.contains(['e', 'E']) {
        return None;
    }
    let (negative, unsigned) = match raw.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, raw),
    };
    let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    // At most 19 digits fit an i64; more cannot, and i128 holds 20 without overflow.
    if whole.len() > 20 {
        return None;
    }
    let magnitude: i128 = whole.parse().ok()?;
    let floor = match (negative, fraction.bytes().any(|d| d != b'0')) {
        (false, _) => magnitude,
        (true, false) => -magnitude,
        (true, true) => -magnitude - 1,
    };
    i64::try_from(floor).ok()
}

/// Copies the JSON text of claim `name`, whatever its type (`"a"`, `42`,
/// `["x","y"]`, `{…}`), into `buf`, as `jwtv_token_claim_string`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn jwtv_token_claim_json(
    token: *const jwtv_token,
    name: *const c_char,
    buf: *mut c_char,
    buf_cap: usize,
    len_out: *mut usize,
) -> jwtv_status {
    guard(|| {
        // SAFETY: forwarded contracts.
        let (token, name) = unsafe { (token_ref(token)?, text(name)?) };
        let value = token.verified.claim(name).ok_or(jwtv_status::JWTV_NOT_FOUND)?;
        // SAFETY: buffer contract forwarded.
        unsafe { copy_out(as_json(&value).as_bytes(), buf, buf_cap, len_out) }
    })
}

/// Copies the claim at `path` (`depth` names, the first a top-level claim,
/// each next one a member of the object before it: `{"realm_access",
/// "roles"}`) into `buf` as text, NUL-terminated, the way NGINX Plus shows
/// claims: a string decoded; an array as its elements joined with commas,
/// string elements decoded and others as JSON (`["api","reports"]` gives
/// `api,reports`); any other value as its JSON text (`42`, `true`, `{…}`).
/// `JWTV_NOT_FOUND` when a name is absent or a value on the way is not an
/// object, `JWTV_INVALID_ARGUMENT` when `depth` is 0, `JWTV_EMBEDDED_NUL`
/// (nothing written) when the text holds a NUL byte; buffers as
/// `jwtv_token_claim_string`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn jwtv_token_claim_text(
    token: *const jwtv_token,
    path: *const *const c_char,
    depth: usize,
    buf: *mut c_char,
    buf_cap: usize,
    len_out: *mut usize,
) -> jwtv_status {
    // SAFETY: forwarded contracts.
    unsafe { member_text(token, path, depth, buf, buf_cap, len_out, Verified::claims_json) }
}

/// Copies the header parameter at `path` as text, as `jwtv_token_claim_text`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn jwtv_token_header_text(
    token: *const jwtv_token,
    path: *const *const c_char,
    depth: usize,
    buf: *mut c_char,
    buf_cap: usize,
    len_out: *mut usize,
) -> jwtv_status {
    // SAFETY: forwarded contracts.
    unsafe { member_text(token, path, depth, buf, buf_cap, len_out, Verified::header_json) }
}

/// # Safety
/// As the public callers: `path` points to `depth` NUL-terminated strings.
unsafe fn member_text(
    token: *const jwtv_token,
    path: *const *const c_char,
    depth: usize,
    buf: *mut c_char,
    buf_cap: usize,
    len_out: *mut usize,
    document: fn(&Verified) -> &[u8],
) -> jwtv_status {
    guard(|| {
        // SAFETY: forwarded contract.
        let token = unsafe { token_ref(token) }?;
        if path.is_null() {
            return Err(jwtv_status::JWTV_NULL_ARGUMENT);
        }
        if depth == 0 {
            return Err(jwtv_status::JWTV_INVALID_ARGUMENT);
        }
        // SAFETY: `depth` pointers per the contract.
        let names = unsafe { std::slice::from_raw_parts(path, depth) };
        let mut value = Value::Object(std::str::from_utf8(document(&token.verified)).unwrap_or("{}"));
        for &name in names {
            // SAFETY: each a NUL-terminated string per the contract.
            let name = unsafe { text(name) }?;
            let Value::Object(raw) = value else { return Err(jwtv_status::JWTV_NOT_FOUND) };
            value = jwtv::json::find_member(raw.as_bytes(), name).ok_or(jwtv_status::JWTV_NOT_FOUND)?;
        }
        let text = match value.as_array() {
            Some(elements) => elements.map(|element| as_text(&element)).collect::<Vec<_>>().join(","),
            None => as_text(&value),
        };
        // SAFETY: buffer contract forwarded.
        unsafe { copy_c_string(&text, buf, buf_cap, len_out) }
    })
}

/// A value's JSON text, as written in the token (strings keep their escapes).
fn as_json(value: &Value<'_>) -> String {
    match *value {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Number(raw) | Value::Array(raw) | Value::Object(raw) => raw.to_owned(),
        Value::String(s) => format!("\"{}\"", s.raw()),
    }
}

/// A value as text: a string decoded, anything else as its JSON.
fn as_text(value: &Value<'_>) -> String {
    match value.as_json_str() {
        Some(s) => s.chars().collect(),
        None => as_json(value),
    }
}

/// Writes the number of audiences (`aud` as a string counts 1; absent 0).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn jwtv_token_audience_count(token: *const jwtv_token, count: *mut usize) -> jwtv_status {
    guard(|| {
        // SAFETY: forwarded contract.
        let token = unsafe { token_ref(token) }?;
        let claims = token.verified.claims().map_err(|_| jwtv_status::JWTV_INTERNAL_ERROR)?;
        // SAFETY: NULL or writable per the contract.
        unsafe { write_out(count, claims.audiences().count()) }
    })
}

/// Copies audience number `index` (from 0) into `buf`, as
/// `jwtv_token_claim_string`; `JWTV_NOT_FOUND` past the last.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn jwtv_token_audience(
    token: *const jwtv_token,
    index: usize,
    buf: *mut c_char,
    buf_cap: usize,
    len_out: *mut usize,
) -> jwtv_status {
    guard(|| {
        // SAFETY: forwarded contract.
        let token = unsafe { token_ref(token) }?;
        let claims = token.verified.claims().map_err(|_| jwtv_status::JWTV_INTERNAL_ERROR)?;
        let audience: String = claims.audiences().nth(index).ok_or(jwtv_status::JWTV_NOT_FOUND)?.chars().collect();
        // SAFETY: buffer contract forwarded.
        unsafe { copy_c_string(&audience, buf, buf_cap, len_out) }
    })
}

#[cfg(test)]
mod tests {
    use super::whole_seconds;

    #[test]
    fn whole_seconds_round_down_and_refuse_exponents() {
        let cases = [
            ("0", Some(0)),
            ("-0", Some(0)),
            ("1700000000", Some(1_700_000_000)),
            ("1700000000.5", Some(1_700_000_000)),
            ("-1.5", Some(-2)),
            ("-2.25", Some(-3)),
            // Regressions found by the ffi fuzz target: -1.0 gave -2, -0.5 gave 0,
            // 1.5e3 gave 1, and the floor of i64::MIN - 0.5 overflowed.
            ("-1.0", Some(-1)),
            ("-1.000", Some(-1)),
            ("-0.5", Some(-1)),
            ("1.5e3", None),
            ("17E8", None),
            ("-9223372036854775808.5", None),
            ("-9223372036854775808", Some(i64::MIN)),
            ("9223372036854775807.9", Some(i64::MAX)),
            ("9223372036854775808", None),
            ("123456789012345678901234567890", None),
        ];
        for (raw, want) in cases {
            assert_eq!(whole_seconds(raw), want, "{raw}");
        }
    }
}
