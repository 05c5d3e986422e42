//! The one list of reasons a token is rejected.
//!
//! [`ErrorCode`] is the public contract: its names (`expired`, `bad_signature`, …)
//! and numbers are shared unchanged by every binding (C, Go, NGINX, the CLI).
//! [`Error`] is what the Rust API returns: a code plus, where it helps diagnosis
//! and costs no allocation, the part of the token or the claim concerned.

use core::fmt;

/// A stable, machine-readable rejection code.
///
/// Numbers never change meaning; a retired code keeps its number reserved.
/// `0` is reserved for "no error" in the C ABI.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u32)]
pub enum ErrorCode {
    /// Not a compact JWS: wrong segment count, bad base64url, bad JSON, or a
    /// header or payload that is not a JSON object.
    Malformed = 1,
    /// The token is longer than the policy's maximum size, or its decoded
    /// parts do not fit the caller's buffer.
    TooLarge = 2,
    /// The header's `alg` is not one this library can verify (including `none`).
    UnsupportedAlg = 3,
    /// The `alg` is supported but the policy or the selected key does not allow it.
    AlgNotAllowed = 4,
    /// No key matches the token's `kid` (or, without a `kid`, no single key fits).
    KeyNotFound = 5,
    /// The signature does not verify.
    BadSignature = 6,
    /// `exp` is in the past (beyond the leeway).
    Expired = 7,
    /// `nbf` is in the future (beyond the leeway).
    NotYetValid = 8,
    /// `iat` is in the future (beyond the leeway).
    IssuedInFuture = 9,
    /// `iat` is older than the policy's maximum age.
    TooOld = 10,
    /// `iss` is not one of the allowed issuers.
    BadIssuer = 11,
    /// No `aud` value is one of the allowed audiences.
    BadAudience = 12,
    /// The header's `typ` is not the required type.
    BadType = 13,
    /// A required claim or header parameter is absent.
    MissingClaim = 14,
    /// A claim or header parameter has the wrong JSON type or a wrong value.
    BadClaim = 15,
    /// The header's `crit` names an extension this verifier does not process.
    UnsupportedCrit = 16,
    /// The token, its subject or its signing key is on a revocation list.
    /// The core verifier never returns it: a server verifier with a
    /// revocation list does, after every other check has passed.
    Revoked = 17,
    /// A check the policy asks for could not run: the key set has never
    /// loaded, or the revocation list has never synced or is staler than the
    /// policy allows. Not a verdict on the token: try again later. HTTP hosts
    /// answer 503 with `Retry-After`, not 401. The core verifier never
    /// returns it.
    Unavailable = 18,
    /// `exp − iat` is longer than the policy's maximum token lifetime: the
    /// issuer hands out tokens that live longer than this verifier accepts.
    LifetimeTooLong = 19,
}

impl ErrorCode {
    /// Every code, in numeric order.
    pub const ALL: [Self; 19] = [
        Self::Malformed,
        Self::TooLarge,
        Self::UnsupportedAlg,
        Self::AlgNotAllowed,
        Self::KeyNotFound,
        Self::BadSignature,
        Self::Expired,
        Self::NotYetValid,
        Self::IssuedInFuture,
        Self::TooOld,
        Self::BadIssuer,
        Self::BadAudience,
        Self::BadType,
        Self::MissingClaim,
        Self::BadClaim,
        Self::UnsupportedCrit,
        Self::Revoked,
        Self::Unavailable,
        Self::LifetimeTooLong,
    ];

    /// The stable snake_case name, e.g. `"bad_signature"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Malformed => "malformed",
            Self::TooLarge => "too_large",
            Self::UnsupportedAlg => "unsupported_alg",
            Self::AlgNotAllowed => "alg_not_allowed",
            Self::KeyNotFound => "key_not_found",
            Self::BadSignature => "bad_signature",
            Self::Expired => "expired",
            Self::NotYetValid => "not_yet_valid",
            Self::IssuedInFuture => "issued_in_future",
            Self::TooOld => "too_old",
            Self::BadIssuer => "bad_issuer",
            Self::BadAudience => "bad_audience",
            Self::BadType => "bad_type",
            Self::MissingClaim => "missing_claim",
            Self::BadClaim => "bad_claim",
            Self::UnsupportedCrit => "unsupported_crit",
            Self::Revoked => "revoked",
            Self::Unavailable => "unavailable",
            Self::LifetimeTooLong => "lifetime_too_long",
        }
    }

    /// A one-line message in plain language.
    pub const fn message(self) -> &'static str {
        match self {
            Self::Malformed => "the token is not a well-formed compact JWS/JWT",
            Self::TooLarge => "the token is larger than the configured limit",
            Self::UnsupportedAlg => "the token's algorithm is not supported",
            Self::AlgNotAllowed => "the token's algorithm is not allowed for this key or policy",
            Self::KeyNotFound => "no verification key matches the token",
            Self::BadSignature => "the signature is invalid",
            Self::Expired => "the token has expired",
            Self::NotYetValid => "the token is not valid yet (nbf)",
            Self::IssuedInFuture => "the token was issued in the future (iat)",
            Self::TooOld => "the token was issued too long ago (iat)",
            Self::BadIssuer => "the token's issuer is not allowed",
            Self::BadAudience => "the token is not intended for this audience",
            Self::BadType => "the token's type (typ) is not the required one",
            Self::MissingClaim => "a required claim or header parameter is missing",
            Self::BadClaim => "a claim or header parameter has an invalid value",
            Self::UnsupportedCrit => "the token requires an unsupported extension (crit)",
            Self::Revoked => "the token, its subject or its signing key has been revoked",
            Self::Unavailable => "a check the policy requires could not run (key set or revocation list unavailable)",
            Self::LifetimeTooLong => "the token's lifetime (exp - iat) is longer than the policy allows",
        }
    }

    /// The numeric value shared with the C ABI.
    #[expect(clippy::as_conversions, reason = "a fieldless #[repr(u32)] enum's discriminant")]
    pub const fn to_u32(self) -> u32 {
        self as u32
    }

    /// The code with this number, if any.
    pub fn from_u32(n: u32) -> Option<Self> {
        Self::ALL.iter().copied().find(|c| c.to_u32() == n)
    }

    /// The code with this name, if any.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|c| c.as_str() == name)
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// Which part of a compact token failed to parse.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Part {
    /// The overall `header.payload.signature` shape.
    Token,
    /// The protected header segment (base64url or JSON).
    Header,
    /// The payload segment (base64url or JSON).
    Payload,
    /// The signature segment (base64url).
    Signature,
}

impl Part {
    /// A lower-case name: `token`, `header`, `payload`, `signature`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Token => "token",
            Self::Header => "header",
            Self::Payload => "payload",
            Self::Signature => "signature",
        }
    }
}

/// A header parameter or claim named in an error.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Field {
    /// Header `alg`.
    Alg,
    /// Header `typ`.
    Typ,
    /// Header `kid`.
    Kid,
    /// Header `crit`.
    Crit,
    /// Claim `exp`.
    Exp,
    /// Claim `nbf`.
    Nbf,
    /// Claim `iat`.
    Iat,
    /// Claim `iss`.
    Iss,
    /// Claim `aud`.
    Aud,
    /// Claim `sub`.
    Sub,
    /// Claim `jti`.
    Jti,
    /// A claim the policy requires: the index into
    /// [`Policy::require_claims`](crate::Policy::require_claims); resolve it with
    /// [`Policy::field_name`](crate::Policy::field_name).
    Required(u8),
    /// A claim whose value the policy requires: the index into
    /// [`Policy::require_claim_values`](crate::Policy::require_claim_values);
    /// resolve it with [`Policy::field_name`](crate::Policy::field_name).
    RequiredValue(u8),
}

impl Field {
    /// The JSON member name, or `None` for the policy's own entries
    /// ([`Field::Required`], [`Field::RequiredValue`]: see [`Policy::field_name`](crate::Policy::field_name)).
    pub const fn name(self) -> Option<&'static str> {
        Some(match self {
            Self::Alg => "alg",
            Self::Typ => "typ",
            Self::Kid => "kid",
            Self::Crit => "crit",
            Self::Exp => "exp",
            Self::Nbf => "nbf",
            Self::Iat => "iat",
            Self::Iss => "iss",
            Self::Aud => "aud",
            Self::Sub => "sub",
            Self::Jti => "jti",
            Self::Required(_) | Self::RequiredValue(_) => return None,
        })
    }
}

/// Why a token was rejected.
///
/// `Copy`, allocation-free; [`Error::code`] gives the stable [`ErrorCode`].
/// Signature failures are deliberately never explained further.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Error {
    /// See [`ErrorCode::Malformed`]; names the part that failed.
    Malformed(Part),
    /// See [`ErrorCode::TooLarge`].
    TooLarge,
    /// See [`ErrorCode::UnsupportedAlg`].
    UnsupportedAlg,
    /// See [`ErrorCode::AlgNotAllowed`].
    AlgNotAllowed,
    /// See [`ErrorCode::KeyNotFound`].
    KeyNotFound,
    /// See [`ErrorCode::BadSignature`].
    BadSignature,
    /// See [`ErrorCode::Expired`].
    Expired,
    /// See [`ErrorCode::NotYetValid`].
    NotYetValid,
    /// See [`ErrorCode::IssuedInFuture`].
    IssuedInFuture,
    /// See [`ErrorCode::TooOld`].
    TooOld,
    /// See [`ErrorCode::BadIssuer`].
    BadIssuer,
    /// See [`ErrorCode::BadAudience`].
    BadAudience,
    /// See [`ErrorCode::BadType`].
    BadType,
    /// See [`ErrorCode::MissingClaim`]; names the missing field.
    MissingClaim(Field),
    /// See [`ErrorCode::BadClaim`]; names the offending field.
    BadClaim(Field),
    /// See [`ErrorCode::UnsupportedCrit`].
    UnsupportedCrit,
    /// See [`ErrorCode::Revoked`]; names the list that matched: [`Field::Jti`]
    /// (the token), [`Field::Sub`] (its subject) or [`Field::Kid`] (its key).
    Revoked(Field),
    /// See [`ErrorCode::Unavailable`]; names what could not be checked.
    Unavailable(Dependency),
    /// See [`ErrorCode::LifetimeTooLong`].
    LifetimeTooLong,
}

/// What a verifier depends on that can be away, named by
/// [`Error::Unavailable`].
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Dependency {
    /// The key set: never loaded, or too stale to serve.
    Keys,
    /// The revocation list: never synced, or staler than the policy allows.
    Revocations,
}

impl Dependency {
    /// A lower-case name: `keys`, `revocations`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Keys => "keys",
            Self::Revocations => "revocations",
        }
    }
}

impl Error {
    /// The stable code of this error.
    pub const fn code(self) -> ErrorCode {
        match self {
            Self::Malformed(_) => ErrorCode::Malformed,
            Self::TooLarge => ErrorCode::TooLarge,
            Self::UnsupportedAlg => ErrorCode::UnsupportedAlg,
            Self::AlgNotAllowed => ErrorCode::AlgNotAllowed,
            Self::KeyNotFound => ErrorCode::KeyNotFound,
            Self::BadSignature => ErrorCode::BadSignature,
            Self::Expired => ErrorCode::Expired,
            Self::NotYetValid => ErrorCode::NotYetValid,
            Self::IssuedInFuture => ErrorCode::IssuedInFuture,
            Self::TooOld => ErrorCode::TooOld,
            Self::BadIssuer => ErrorCode::BadIssuer,
            Self::BadAudience => ErrorCode::BadAudience,
            Self::BadType => ErrorCode::BadType,
            Self::MissingClaim(_) => ErrorCode::MissingClaim,
            Self::BadClaim(_) => ErrorCode::BadClaim,
            Self::UnsupportedCrit => ErrorCode::UnsupportedCrit,
            Self::Revoked(_) => ErrorCode::Revoked,
            Self::Unavailable(_) => ErrorCode::Unavailable,
            Self::LifetimeTooLong => ErrorCode::LifetimeTooLong,
        }
    }

    /// The one-line message of the code.
    pub const fn message(self) -> &'static str {
        self.code().message()
    }

    /// The part or field concerned, as a short name (`"payload"`, `"exp"`), when known.
    pub const fn detail(self) -> Option<&'static str> {
        match self {
            Self::Malformed(part) => Some(part.as_str()),
            Self::MissingClaim(field) | Self::BadClaim(field) | Self::Revoked(field) => field.name(),
            Self::Unavailable(dependency) => Some(dependency.as_str()),
            _ => None,
        }
    }

    /// The field concerned, for [`Error::MissingClaim`], [`Error::BadClaim`]
    /// and [`Error::Revoked`].
    pub const fn field(self) -> Option<Field> {
        match self {
            Self::MissingClaim(field) | Self::BadClaim(field) | Self::Revoked(field) => Some(field),
            _ => None,
        }
    }
}

impl From<Error> for ErrorCode {
    fn from(e: Error) -> Self {
        e.code()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code().as_str(), self.message())?;
        match (self.detail(), self.field()) {
            (Some(d), _) => write!(f, " ({d})"),
            (None, Some(Field::Required(i))) => write!(f, " (required claim #{i})"),
            (None, Some(Field::RequiredValue(i))) => write!(f, " (required claim value #{i})"),
            _ => Ok(()),
        }
    }
}

impl core::error::Error for Error {}

/// Why a [`VerifyingKey`](crate::VerifyingKey) could not be built.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeyError {
    /// The key material does not parse for the chosen algorithm.
    Invalid,
    /// The key is too weak for the algorithm: an HMAC secret shorter than the
    /// hash output (RFC 7518 §3.2) or an RSA modulus below 2048 bits.
    Weak,
    /// The algorithm cannot be used with this kind of key.
    WrongAlgorithm,
    /// The `kid` is longer than [`MAX_KID_LEN`](crate::MAX_KID_LEN) bytes.
    KidTooLong,
    /// The algorithm needs a feature that is not enabled (RSA needs `alloc`).
    Unsupported,
}

impl KeyError {
    /// A one-line message in plain language.
    pub const fn message(self) -> &'static str {
        match self {
            Self::Invalid => "the key material is invalid for this algorithm",
            Self::Weak => "the key is too weak for this algorithm",
            Self::WrongAlgorithm => "the algorithm does not fit this kind of key",
            Self::KidTooLong => "the key id is too long",
            Self::Unsupported => "this key type needs a crate feature that is not enabled",
        }
    }
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl core::error::Error for KeyError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_numbered_in_order_and_named_uniquely() {
        for (i, code) in ErrorCode::ALL.iter().enumerate() {
            assert_eq!(code.to_u32(), u32::try_from(i + 1).unwrap());
            assert_eq!(ErrorCode::from_u32(code.to_u32()), Some(*code));
            assert_eq!(ErrorCode::from_name(code.as_str()), Some(*code));
            assert!(!code.message().is_empty());
        }
        assert_eq!(ErrorCode::from_u32(0), None);
        assert_eq!(ErrorCode::from_u32(18), Some(ErrorCode::Unavailable));
        assert_eq!(ErrorCode::from_u32(19), Some(ErrorCode::LifetimeTooLong));
        assert_eq!(ErrorCode::from_u32(20), None);
    }

    #[test]
    fn display_names_code_and_detail() {
        extern crate std;
        use std::string::ToString;
        assert_eq!(
            Error::MissingClaim(Field::Exp).to_string(),
            "missing_claim: a required claim or header parameter is missing (exp)"
        );
        assert_eq!(
            Error::Malformed(Part::Payload).to_string(),
            "malformed: the token is not a well-formed compact JWS/JWT (payload)"
        );
        assert_eq!(Error::BadSignature.to_string(), "bad_signature: the signature is invalid");
        assert_eq!(
            Error::Revoked(Field::Sub).to_string(),
            "revoked: the token, its subject or its signing key has been revoked (sub)"
        );
        assert_eq!(
            Error::Unavailable(Dependency::Revocations).to_string(),
            "unavailable: a check the policy requires could not run (key set or revocation list unavailable) (revocations)"
        );
    }
}
