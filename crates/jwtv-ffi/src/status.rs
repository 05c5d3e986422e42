//! `jwtv_status`: the core's error codes, same names (upper case) and numbers,
//! plus codes of the ABI itself from 100 on.

use std::ffi::{CStr, c_char};

use jwtv::ErrorCode;

/// The result of every libjwtv function.
///
/// 0 is success; 1–99 are the verifier's rejection codes, identical in name
/// and number to jwtv's `ErrorCode` (the README's table); 100 and above are
/// errors of the call itself. Numbers are stable: new codes get new numbers,
/// retired numbers are never reused.
#[allow(non_camel_case_types, reason = "C naming")]
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum jwtv_status {
    /// Success.
    JWTV_OK = 0,
    /// The token is not a well-formed compact JWS/JWT.
    JWTV_MALFORMED = 1,
    /// The token exceeds the configured maximum size.
    JWTV_TOO_LARGE = 2,
    /// The header names an algorithm jwtv does not support (including `none`).
    JWTV_UNSUPPORTED_ALG = 3,
    /// The algorithm is not allowed by the policy or does not match the key.
    JWTV_ALG_NOT_ALLOWED = 4,
    /// No key matches the token's `kid`.
    JWTV_KEY_NOT_FOUND = 5,
    /// The signature does not verify.
    JWTV_BAD_SIGNATURE = 6,
    /// The token has expired (`exp`).
    JWTV_EXPIRED = 7,
    /// The token is not valid yet (`nbf`).
    JWTV_NOT_YET_VALID = 8,
    /// The token was issued in the future (`iat`).
    JWTV_ISSUED_IN_FUTURE = 9,
    /// The token is older than the policy's maximum age.
    JWTV_TOO_OLD = 10,
    /// The issuer is not accepted.
    JWTV_BAD_ISSUER = 11,
    /// No audience is accepted.
    JWTV_BAD_AUDIENCE = 12,
    /// The header `typ` is not the expected one.
    JWTV_BAD_TYPE = 13,
    /// A required claim or header parameter is missing.
    JWTV_MISSING_CLAIM = 14,
    /// A claim has the wrong type or value.
    JWTV_BAD_CLAIM = 15,
    /// The header `crit` names an extension that is not understood.
    JWTV_UNSUPPORTED_CRIT = 16,
    /// The token, its subject or its signing key is on the revocation list.
    JWTV_REVOKED = 17,
    /// A check the policy requires could not run: the key set has never
    /// loaded, or the revocation list has never synced or is too stale. Not
    /// a verdict on the token: HTTP hosts answer 503 with `Retry-After`.
    JWTV_UNAVAILABLE = 18,
    /// The token's lifetime (`exp − iat`) is longer than the policy allows.
    JWTV_LIFETIME_TOO_LONG = 19,
    /// A required pointer argument is NULL.
    JWTV_NULL_ARGUMENT = 100,
    /// A string argument is not valid UTF-8.
    JWTV_INVALID_UTF8 = 101,
    /// The caller's buffer is too small; the needed length was written.
    JWTV_BUFFER_TOO_SMALL = 102,
    /// An argument is out of range or not understood (e.g. an unknown algorithm name).
    JWTV_INVALID_ARGUMENT = 103,
    /// The configuration cannot make a verifier (the message says why).
    JWTV_CONFIG_ERROR = 104,
    /// The token has no such claim or header parameter.
    JWTV_NOT_FOUND = 105,
    /// The claim or parameter exists but has another JSON type.
    JWTV_WRONG_TYPE = 106,
    /// The string value contains a NUL byte (a JSON `\u0000` escape), so it
    /// cannot be returned as a C string without being cut short; nothing was
    /// written. Read such a claim as raw JSON instead.
    JWTV_EMBEDDED_NUL = 107,
    /// A bug: a panic was caught at the boundary. Please report it.
    JWTV_INTERNAL_ERROR = 199,
}

impl jwtv_status {
    /// The status's number: the discriminant of a fieldless `#[repr(u32)]`
    /// enum, which is what C sees.
    #[expect(clippy::as_conversions, reason = "a fieldless #[repr(u32)] enum's discriminant")]
    const fn number(self) -> u32 {
        self as u32
    }
}

/// One status as C sees it. Its number is the enum's discriminant above;
/// everything else about it is here.
struct Row {
    status: jwtv_status,
    /// The core's code of a rejection status (1–99), whose name and message
    /// the row takes unchanged.
    code: Option<ErrorCode>,
    name: &'static CStr,
    message: &'static CStr,
}

/// `$text`, a `&'static str` known at compile time (the core's
/// `ErrorCode::as_str` or `ErrorCode::message`), as a static C string: the
/// bytes and a NUL, laid out when the crate is built. A NUL inside fails the
/// build.
macro_rules! c_text {
    ($text:expr) => {{
        const TEXT: &str = $text;
        const BYTES: [u8; TEXT.len() + 1] = nul_terminated(TEXT);
        match CStr::from_bytes_with_nul(&BYTES) {
            Ok(c) => c,
            Err(_) => panic!("a NUL inside a status name or message"),
        }
    }};
}

const fn nul_terminated<const N: usize>(text: &str) -> [u8; N] {
    let bytes = text.as_bytes();
    assert!(bytes.len() + 1 == N);
    let mut out = [0; N];
    let mut i = 0;
    while i < bytes.len() {
        assert!(bytes[i] != 0, "a NUL inside a status name or message");
        out[i] = bytes[i];
        i += 1;
    }
    out
}

/// A rejection: the core's code, its name and message.
macro_rules! core_row {
    ($status:ident, $code:ident) => {
        Row {
            status: jwtv_status::$status,
            code: Some(ErrorCode::$code),
            name: c_text!(ErrorCode::$code.as_str()),
            message: c_text!(ErrorCode::$code.message()),
        }
    };
}

/// A status of the ABI itself, with its own name and message.
const fn abi_row(status: jwtv_status, name: &'static CStr, message: &'static CStr) -> Row {
    Row { status, code: None, name, message }
}

/// Every status, in numeric order: the one place a status meets its name,
/// its message and the core's code. Every conversion reads it: the core's
/// codes sit at the index of their number (`From<ErrorCode>`, on the verify
/// path, is an index), any other number is found by a binary search.
static TABLE: [Row; 29] = [
    abi_row(jwtv_status::JWTV_OK, c"ok", c"success"),
    core_row!(JWTV_MALFORMED, Malformed),
    core_row!(JWTV_TOO_LARGE, TooLarge),
    core_row!(JWTV_UNSUPPORTED_ALG, UnsupportedAlg),
    core_row!(JWTV_ALG_NOT_ALLOWED, AlgNotAllowed),
    core_row!(JWTV_KEY_NOT_FOUND, KeyNotFound),
    core_row!(JWTV_BAD_SIGNATURE, BadSignature),
    core_row!(JWTV_EXPIRED, Expired),
    core_row!(JWTV_NOT_YET_VALID, NotYetValid),
    core_row!(JWTV_ISSUED_IN_FUTURE, IssuedInFuture),
    core_row!(JWTV_TOO_OLD, TooOld),
    core_row!(JWTV_BAD_ISSUER, BadIssuer),
    core_row!(JWTV_BAD_AUDIENCE, BadAudience),
    core_row!(JWTV_BAD_TYPE, BadType),
    core_row!(JWTV_MISSING_CLAIM, MissingClaim),
    core_row!(JWTV_BAD_CLAIM, BadClaim),
    core_row!(JWTV_UNSUPPORTED_CRIT, UnsupportedCrit),
    core_row!(JWTV_REVOKED, Revoked),
    core_row!(JWTV_UNAVAILABLE, Unavailable),
    core_row!(JWTV_LIFETIME_TOO_LONG, LifetimeTooLong),
    abi_row(jwtv_status::JWTV_NULL_ARGUMENT, c"null_argument", c"a required pointer argument is NULL"),
    abi_row(jwtv_status::JWTV_INVALID_UTF8, c"invalid_utf8", c"a string argument is not valid UTF-8"),
    abi_row(
        jwtv_status::JWTV_BUFFER_TOO_SMALL,
        c"buffer_too_small",
        c"the buffer is too small; the needed length was written",
    ),
    abi_row(jwtv_status::JWTV_INVALID_ARGUMENT, c"invalid_argument", c"an argument is out of range or not understood"),
    abi_row(jwtv_status::JWTV_CONFIG_ERROR, c"config_error", c"the configuration cannot make a verifier"),
    abi_row(jwtv_status::JWTV_NOT_FOUND, c"not_found", c"no such claim or header parameter"),
    abi_row(jwtv_status::JWTV_WRONG_TYPE, c"wrong_type", c"the claim or parameter has another JSON type"),
    abi_row(
        jwtv_status::JWTV_EMBEDDED_NUL,
        c"embedded_nul",
        c"the string contains a NUL byte and cannot be returned as a C string",
    ),
    abi_row(jwtv_status::JWTV_INTERNAL_ERROR, c"internal_error", c"internal error (a bug): please report it"),
];

/// What the lookups rely on, checked when the crate is built: numbers strictly
/// increase; a row has a core code exactly when its number is 1–99, that code
/// has the row's number, and the row sits at the index of its number.
const _: () = {
    let mut i = 0;
    while i < TABLE.len() {
        let number = TABLE[i].status.number();
        assert!(i == 0 || TABLE[i - 1].status.number() < number, "TABLE is in numeric order");
        match TABLE[i].code {
            Some(code) => {
                assert!(code.to_u32() == number && number < 100, "a rejection row has the core's number");
                assert!(number == index_number(i), "a rejection row sits at the index of its number");
            }
            None => assert!(number == 0 || number >= 100, "rows 1-99 are the core's codes"),
        }
        i += 1;
    }
};

/// `index` as a status number, at compile time (`TABLE` is far shorter than `u32::MAX`).
#[expect(clippy::as_conversions, clippy::cast_possible_truncation, reason = "an index into TABLE")]
const fn index_number(index: usize) -> u32 {
    index as u32
}

static INTERNAL_ERROR: &Row = &TABLE[TABLE.len() - 1];

/// The row of a status number, if it is one.
fn row(number: u32) -> Option<&'static Row> {
    let index = TABLE.binary_search_by_key(&number, |row| row.status.number()).ok()?;
    TABLE.get(index)
}

/// The row of any 32-bit value: `JWTV_INTERNAL_ERROR`'s when it is not a
/// status (C may pass anything).
fn row_or_internal(number: u32) -> &'static Row {
    row(number).unwrap_or(INTERNAL_ERROR)
}

impl From<ErrorCode> for jwtv_status {
    /// The status of a core rejection code: an index into the table. A code
    /// the table lacks (the core's list is non-exhaustive) reads as
    /// `JWTV_INTERNAL_ERROR`, which the tests rule out.
    fn from(code: ErrorCode) -> Self {
        usize::try_from(code.to_u32())
            .ok()
            .and_then(|index| TABLE.get(index))
            .filter(|row| row.code == Some(code))
            .map_or(Self::JWTV_INTERNAL_ERROR, |row| row.status)
    }
}

impl From<jwtv_status> for u32 {
    fn from(status: jwtv_status) -> Self {
        status.number()
    }
}

/// The stable snake_case name of a `jwtv_status` value (`"expired"`,
/// `"null_argument"`; `"internal_error"` for values that are not a status), a
/// static NUL-terminated string; never NULL.
#[unsafe(no_mangle)]
pub extern "C" fn jwtv_error_name(status: u32) -> *const c_char {
    row_or_internal(status).name.as_ptr()
}

/// A one-line English message for a `jwtv_status` value, a static
/// NUL-terminated string; never NULL.
#[unsafe(no_mangle)]
pub extern "C" fn jwtv_error_message(status: u32) -> *const c_char {
    row_or_internal(status).message.as_ptr()
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    fn name(number: u32) -> &'static CStr {
        // SAFETY: jwtv_error_name returns a static NUL-terminated string.
        unsafe { CStr::from_ptr(jwtv_error_name(number)) }
    }

    fn message(number: u32) -> &'static CStr {
        // SAFETY: jwtv_error_message returns a static NUL-terminated string.
        unsafe { CStr::from_ptr(jwtv_error_message(number)) }
    }

    #[test]
    fn core_codes_keep_their_names_numbers_and_messages() {
        for code in ErrorCode::ALL {
            let status = jwtv_status::from(code);
            assert_eq!(u32::from(status), code.to_u32());
            assert_eq!(name(code.to_u32()).to_str().ok(), Some(code.as_str()));
            assert_eq!(message(code.to_u32()).to_str().ok(), Some(code.message()), "{code}");
        }
        assert_eq!(name(0), c"ok");
        assert_eq!(name(102), c"buffer_too_small");
        assert_eq!(u32::from(jwtv_status::JWTV_INTERNAL_ERROR), 199);
    }

    #[test]
    fn every_status_round_trips_through_the_table() {
        let mut names = HashSet::new();
        let mut messages = HashSet::new();
        for entry in &TABLE {
            let number = u32::from(entry.status);
            let found = row(number).expect("a row for the number");
            assert_eq!(found.status, entry.status, "{number}");
            assert_eq!(u32::from(found.status), number);
            assert_eq!((name(number), message(number)), (entry.name, entry.message));
            assert!(names.insert(entry.name), "{:?} names two statuses", entry.name);
            assert!(messages.insert(entry.message), "{:?} describes two statuses", entry.message);
            let text = entry.name.to_str().expect("ASCII");
            assert!(
                !text.is_empty() && text.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            );
            if let Some(code) = entry.code {
                assert_eq!(jwtv_status::from(code), entry.status);
                assert_eq!(ErrorCode::from_name(text), Some(code));
            }
        }
        for code in ErrorCode::ALL {
            assert!(TABLE.iter().any(|entry| entry.code == Some(code)), "{code} has no row");
        }
        for n in (0..=1000).chain([u32::MAX - 1, u32::MAX]) {
            match row(n) {
                Some(entry) => assert_eq!(u32::from(entry.status), n),
                None => assert_eq!((name(n), message(n)), (c"internal_error", INTERNAL_ERROR.message), "{n}"),
            }
        }
    }

    /// Every status of `enum jwtv_status` in include/jwtv.h (which a test keeps
    /// equal to the enum above) has its row, under its own name.
    #[test]
    fn the_table_has_every_status_of_the_header() {
        let header = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../include/jwtv.h"))
            .expect("include/jwtv.h");
        let body = header.lines().skip_while(|l| *l != "enum jwtv_status").take_while(|l| !l.starts_with("};"));
        let mut count = 0;
        for line in body.map(str::trim).filter(|l| l.starts_with("JWTV_")) {
            let (variant, number) = line.trim_end_matches(',').split_once(" = ").expect("JWTV_X = n");
            let number: u32 = number.parse().expect("a number");
            let entry = row(number).unwrap_or_else(|| panic!("{variant} = {number} has no row"));
            assert_eq!(
                entry.name.to_str().ok().map(str::to_ascii_uppercase),
                variant.strip_prefix("JWTV_").map(str::to_owned)
            );
            count += 1;
        }
        assert_eq!(count, TABLE.len(), "statuses in the header");
    }
}
