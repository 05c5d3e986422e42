//! `jwtv_status`: the core's error codes, same names (upper case) and numbers,
//! plus codes of the ABI itself from 100 on.

use std::ffi::{CStr, CString, c_char};
use std::sync::LazyLock;

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

impl From<ErrorCode> for jwtv_status {
    fn from(code: ErrorCode) -> Self {
        match code {
            ErrorCode::Malformed => Self::JWTV_MALFORMED,
            ErrorCode::TooLarge => Self::JWTV_TOO_LARGE,
            ErrorCode::UnsupportedAlg => Self::JWTV_UNSUPPORTED_ALG,
            ErrorCode::AlgNotAllowed => Self::JWTV_ALG_NOT_ALLOWED,
            ErrorCode::KeyNotFound => Self::JWTV_KEY_NOT_FOUND,
            ErrorCode::BadSignature => Self::JWTV_BAD_SIGNATURE,
            ErrorCode::Expired => Self::JWTV_EXPIRED,
            ErrorCode::NotYetValid => Self::JWTV_NOT_YET_VALID,
            ErrorCode::IssuedInFuture => Self::JWTV_ISSUED_IN_FUTURE,
            ErrorCode::TooOld => Self::JWTV_TOO_OLD,
            ErrorCode::BadIssuer => Self::JWTV_BAD_ISSUER,
            ErrorCode::BadAudience => Self::JWTV_BAD_AUDIENCE,
            ErrorCode::BadType => Self::JWTV_BAD_TYPE,
            ErrorCode::MissingClaim => Self::JWTV_MISSING_CLAIM,
            ErrorCode::BadClaim => Self::JWTV_BAD_CLAIM,
            ErrorCode::UnsupportedCrit => Self::JWTV_UNSUPPORTED_CRIT,
            ErrorCode::Revoked => Self::JWTV_REVOKED,
            ErrorCode::Unavailable => Self::JWTV_UNAVAILABLE,
            _ => Self::JWTV_INTERNAL_ERROR,
        }
    }
}

impl jwtv_status {
    /// The core's code for a rejection status.
    pub(crate) fn core_code(self) -> Option<ErrorCode> {
        ErrorCode::from_u32(u32::from(self))
    }

    fn abi_name_and_message(self) -> (&'static CStr, &'static CStr) {
        match self {
            Self::JWTV_OK => (c"ok", c"success"),
            Self::JWTV_NULL_ARGUMENT => (c"null_argument", c"a required pointer argument is NULL"),
            Self::JWTV_INVALID_UTF8 => (c"invalid_utf8", c"a string argument is not valid UTF-8"),
            Self::JWTV_BUFFER_TOO_SMALL => {
                (c"buffer_too_small", c"the buffer is too small; the needed length was written")
            }
            Self::JWTV_INVALID_ARGUMENT => (c"invalid_argument", c"an argument is out of range or not understood"),
            Self::JWTV_CONFIG_ERROR => (c"config_error", c"the configuration cannot make a verifier"),
            Self::JWTV_NOT_FOUND => (c"not_found", c"no such claim or header parameter"),
            Self::JWTV_WRONG_TYPE => (c"wrong_type", c"the claim or parameter has another JSON type"),
            Self::JWTV_EMBEDDED_NUL => {
                (c"embedded_nul", c"the string contains a NUL byte and cannot be returned as a C string")
            }
            _ => (c"internal_error", c"internal error (a bug): please report it"),
        }
    }
}

impl From<jwtv_status> for u32 {
    fn from(status: jwtv_status) -> Self {
        // A fieldless #[repr(u32)] enum: the discriminant is the value.
        match status {
            jwtv_status::JWTV_OK => 0,
            other => ErrorCode::ALL
                .iter()
                .find(|&&code| jwtv_status::from(code) == other)
                .map_or_else(|| abi_number(other), |code| code.to_u32()),
        }
    }
}

fn abi_number(status: jwtv_status) -> u32 {
    match status {
        jwtv_status::JWTV_NULL_ARGUMENT => 100,
        jwtv_status::JWTV_INVALID_UTF8 => 101,
        jwtv_status::JWTV_BUFFER_TOO_SMALL => 102,
        jwtv_status::JWTV_INVALID_ARGUMENT => 103,
        jwtv_status::JWTV_CONFIG_ERROR => 104,
        jwtv_status::JWTV_NOT_FOUND => 105,
        jwtv_status::JWTV_WRONG_TYPE => 106,
        jwtv_status::JWTV_EMBEDDED_NUL => 107,
        _ => 199,
    }
}

/// The core's names and messages, NUL-terminated once at first use: the
/// core's `ErrorCode::as_str` / `ErrorCode::message` stay the one source.
static CORE_STRINGS: LazyLock<Vec<(CString, CString)>> = LazyLock::new(|| {
    let c_string = |s: &str| CString::new(s).unwrap_or_default();
    ErrorCode::ALL.iter().map(|code| (c_string(code.as_str()), c_string(code.message()))).collect()
});

fn core_name_and_message(code: ErrorCode) -> Option<(&'static CStr, &'static CStr)> {
    let index = ErrorCode::ALL.iter().position(|&c| c == code)?;
    CORE_STRINGS.get(index).map(|(name, message)| (name.as_c_str(), message.as_c_str()))
}

fn name_and_message(status: jwtv_status) -> (&'static CStr, &'static CStr) {
    match status.core_code().and_then(core_name_and_message) {
        Some(strings) if status != jwtv_status::JWTV_OK => strings,
        _ => status.abi_name_and_message(),
    }
}

/// A status from C: any 32-bit value may arrive, so it is matched, never
/// transmuted; unknown values read as `JWTV_INTERNAL_ERROR`.
fn from_c(status: u32) -> jwtv_status {
    match status {
        0 => jwtv_status::JWTV_OK,
        100 => jwtv_status::JWTV_NULL_ARGUMENT,
        101 => jwtv_status::JWTV_INVALID_UTF8,
        102 => jwtv_status::JWTV_BUFFER_TOO_SMALL,
        103 => jwtv_status::JWTV_INVALID_ARGUMENT,
        104 => jwtv_status::JWTV_CONFIG_ERROR,
        105 => jwtv_status::JWTV_NOT_FOUND,
        106 => jwtv_status::JWTV_WRONG_TYPE,
        107 => jwtv_status::JWTV_EMBEDDED_NUL,
        n => ErrorCode::from_u32(n).map_or(jwtv_status::JWTV_INTERNAL_ERROR, jwtv_status::from),
    }
}

/// The stable snake_case name of a `jwtv_status` value (`"expired"`,
/// `"null_argument"`; `"internal_error"` for values that are not a status), a
/// static NUL-terminated string; never NULL.
#[unsafe(no_mangle)]
pub extern "C" fn jwtv_error_name(status: u32) -> *const c_char {
    name_and_message(from_c(status)).0.as_ptr()
}

/// A one-line English message for a `jwtv_status` value, a static
/// NUL-terminated string; never NULL.
#[unsafe(no_mangle)]
pub extern "C" fn jwtv_error_message(status: u32) -> *const c_char {
    name_and_message(from_c(status)).1.as_ptr()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_codes_keep_their_names_numbers_and_messages() {
        for code in ErrorCode::ALL {
            let status = jwtv_status::from(code);
            assert_eq!(u32::from(status), code.to_u32());
            assert_eq!(status.core_code(), Some(code));
            let (name, message) = name_and_message(status);
            assert_eq!(name.to_str().ok(), Some(code.as_str()));
            assert_eq!(message.to_str().ok(), Some(code.message()), "{code}");
        }
        assert_eq!(name_and_message(jwtv_status::JWTV_OK).0, c"ok");
        assert_eq!(name_and_message(jwtv_status::JWTV_BUFFER_TOO_SMALL).0, c"buffer_too_small");
        assert_eq!(u32::from(jwtv_status::JWTV_INTERNAL_ERROR), 199);
        for n in (0..=200).chain([u32::MAX]) {
            let status = from_c(n);
            assert!(u32::from(status) == n || status == jwtv_status::JWTV_INTERNAL_ERROR, "{n}");
        }
    }
}
