//! One JSON Web Key (RFC 7517, 7518 §6, 8037) turned into a [`VerifyingKey`],
//! or into the reason it cannot be one.

use core::fmt;

use base64ct::{Base64UrlUnpadded, Encoding as _};
use jwtv::json::{self, JsonStr, Value};
use jwtv::{Algorithm, AlgorithmSet, KeyError, KeyKind, VerifyingKey};

use crate::options::KeySetOptions;
use crate::roca;
use crate::thumbprint::{self, ThumbprintMembers};

/// Why a JWK of a key set is not used for verification.
///
/// A skipped key never fails the rest of the set: the other keys are still
/// served, and the reason is kept in [`KeyInfo::status`] for the CLI and logs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SkipReason {
    /// The element of `keys` is not a JSON object (or has duplicate members).
    NotAnObject,
    /// A member has the wrong JSON type (e.g. a number where a string belongs).
    BadMember(&'static str),
    /// A member the key type needs is absent.
    MissingMember(&'static str),
    /// A member is not strict unpadded base64url.
    BadBase64(&'static str),
    /// `kty` is not `RSA`, `EC`, `OKP` or `oct`.
    UnsupportedKeyType,
    /// `crv` is not P-256, P-384, P-521 with `aws-lc` (EC) or Ed25519 (OKP).
    UnsupportedCurve,
    /// `alg` is not a signature algorithm jwtv verifies (e.g. `ES512`, `RSA1_5`, `A256GCM`).
    UnsupportedAlgorithm,
    /// `alg` does not fit `kty`/`crv` (e.g. ES256 on a P-384 key).
    AlgorithmMismatch,
    /// No `alg`, and the policy allows no single algorithm for this key type.
    NoAlgorithm,
    /// The key's algorithm is not among the policy's allowed algorithms.
    AlgorithmNotAllowed,
    /// `use` is not `sig`.
    NotForSignatures,
    /// `key_ops` is present and does not contain `verify`.
    NotForVerify,
    /// The JWK holds private key material (`d`); a verification key set must
    /// publish public keys only.
    PrivateKey,
    /// A shared secret (`oct`) in a set that also holds public keys: secrets
    /// must never sit next to keys meant for publication.
    MixedKeySet,
    /// An RSA modulus below 2048 bits or an HMAC secret shorter than its hash.
    WeakKey,
    /// The key material is malformed (lengths, RSA exponent, …).
    InvalidKey,
    /// The EC point is not on the named curve.
    OffCurve,
    /// The RSA modulus has the ROCA fingerprint (CVE-2017-15361): its factors
    /// can be recovered.
    RocaVulnerable,
    /// The RSA public exponent is not 65537, and the key set's options do
    /// not allow others ([`KeySetOptions::allow_any_rsa_exponent`]): a
    /// larger exponent makes every verification, forged tokens included,
    /// cost more.
    RsaExponentNotAllowed(u64),
    /// Another key of the set has the same `kid`.
    DuplicateKid,
    /// Another key source of the verifier serves a different key with the
    /// same `kid` (see [`KeySet::merge`](crate::KeySet::merge)).
    KidInAnotherSource,
    /// `kid` is longer than [`jwtv::MAX_KID_LEN`] bytes.
    KidTooLong,
}

impl SkipReason {
    /// A stable snake_case name, for logs and JSON output.
    pub const fn code(self) -> &'static str {
        match self {
            Self::NotAnObject => "not_an_object",
            Self::BadMember(_) => "bad_member",
            Self::MissingMember(_) => "missing_member",
            Self::BadBase64(_) => "bad_base64",
            Self::UnsupportedKeyType => "unsupported_kty",
            Self::UnsupportedCurve => "unsupported_crv",
            Self::UnsupportedAlgorithm => "unsupported_alg",
            Self::AlgorithmMismatch => "alg_mismatch",
            Self::NoAlgorithm => "no_alg",
            Self::AlgorithmNotAllowed => "alg_not_allowed",
            Self::NotForSignatures => "not_for_signatures",
            Self::NotForVerify => "not_for_verify",
            Self::PrivateKey => "private_key",
            Self::MixedKeySet => "mixed_key_set",
            Self::WeakKey => "weak_key",
            Self::InvalidKey => "invalid_key",
            Self::OffCurve => "off_curve",
            Self::RocaVulnerable => "roca_vulnerable",
            Self::RsaExponentNotAllowed(_) => "rsa_exponent_not_allowed",
            Self::DuplicateKid => "duplicate_kid",
            Self::KidInAnotherSource => "kid_in_another_source",
            Self::KidTooLong => "kid_too_long",
        }
    }
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotAnObject => f.write_str("not a JSON object without duplicate members"),
            Self::BadMember(name) => write!(f, "member `{name}` has the wrong JSON type"),
            Self::MissingMember(name) => write!(f, "member `{name}` is missing"),
            Self::BadBase64(name) => write!(f, "member `{name}` is not unpadded base64url"),
            Self::UnsupportedKeyType => f.write_str("unsupported kty (RSA, EC, OKP and oct are supported)"),
            Self::UnsupportedCurve => f.write_str(if cfg!(feature = "aws-lc") {
                "unsupported crv (P-256, P-384, P-521 and Ed25519 are supported)"
            } else {
                "unsupported crv (P-256, P-384 and Ed25519 are supported; P-521 with the aws-lc backend)"
            }),
            Self::UnsupportedAlgorithm => f.write_str("alg is not a supported signature algorithm"),
            Self::AlgorithmMismatch => f.write_str("alg does not match the key type or curve"),
            Self::NoAlgorithm => {
                f.write_str("no alg, and the policy does not allow exactly one algorithm for this key type")
            }
            Self::AlgorithmNotAllowed => f.write_str("the key's alg is not allowed by the policy"),
            Self::NotForSignatures => f.write_str("use is not \"sig\""),
            Self::NotForVerify => f.write_str("key_ops does not include \"verify\""),
            Self::PrivateKey => f.write_str("private key material (d) in a verification key set"),
            Self::MixedKeySet => f.write_str("shared secret (oct) in a set of public keys"),
            Self::WeakKey => f.write_str("key too weak (RSA < 2048 bits or HMAC secret shorter than its hash)"),
            Self::InvalidKey => f.write_str("malformed key material"),
            Self::OffCurve => f.write_str("point is not on the curve"),
            Self::RocaVulnerable => f.write_str("RSA modulus has the ROCA fingerprint (CVE-2017-15361)"),
            Self::RsaExponentNotAllowed(e) => {
                write!(f, "RSA public exponent {e} is not allowed (only 65537 unless the key set allows others)")
            }
            Self::DuplicateKid => f.write_str("another key has the same kid"),
            Self::KidInAnotherSource => f.write_str("another key source serves a different key with the same kid"),
            Self::KidTooLong => f.write_str("kid longer than 128 bytes"),
        }
    }
}

/// Whether a JWK is used for verification.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyStatus {
    /// The key is served, bound to [`KeyInfo::algorithm`].
    Usable,
    /// The key is not served.
    Skipped(SkipReason),
}

/// What a key set says about one of its JWKs: identity, type, size,
/// thumbprint and whether it is used. Never holds key material.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct KeyInfo {
    /// Position in the document's `keys` array.
    pub index: usize,
    /// `kid`, decoded.
    pub kid: Option<String>,
    /// `kty`, decoded.
    pub kty: Option<String>,
    /// `crv`, decoded.
    pub crv: Option<String>,
    /// `alg` as written in the JWK.
    pub alg: Option<String>,
    /// `use` as written in the JWK.
    pub key_use: Option<String>,
    /// The algorithm the key is bound to (from `alg`, or inferred when absent).
    pub algorithm: Option<Algorithm>,
    /// True when [`KeyInfo::algorithm`] was inferred (no `alg` in the JWK).
    pub alg_inferred: bool,
    /// Key size in bits (RSA modulus, curve order, HMAC secret).
    pub bits: Option<usize>,
    /// RFC 7638 SHA-256 thumbprint, base64url (absent when required members are
    /// missing, and for shared secrets, whose thumbprint would be a hash of the secret).
    pub thumbprint: Option<String>,
    /// Used, or skipped with a reason.
    pub status: KeyStatus,
}

impl KeyInfo {
    /// True when the key is served.
    pub fn is_usable(&self) -> bool {
        self.status == KeyStatus::Usable
    }

    /// The skip reason, if the key is not served.
    pub fn skip_reason(&self) -> Option<SkipReason> {
        match self.status {
            KeyStatus::Usable => None,
            KeyStatus::Skipped(reason) => Some(reason),
        }
    }
}

/// The members of one JWK this crate reads, decoded.
#[derive(Default)]
pub(crate) struct Members {
    kty: Option<String>,
    kid: Option<String>,
    alg: Option<String>,
    key_use: Option<String>,
    crv: Option<String>,
    x: Option<String>,
    y: Option<String>,
    n: Option<String>,
    e: Option<String>,
    k: Option<String>,
    has_private: bool,
    key_ops: Option<Vec<String>>,
    bad_member: Option<&'static str>,
}

fn decode(s: JsonStr<'_>) -> String {
    s.chars().collect()
}

impl Members {
    fn parse(object: &str) -> Result<Self, SkipReason> {
        let mut m = Self::default();
        json::parse_object(object.as_bytes(), |name, value| m.record(name, value))
            .map_err(|_| SkipReason::NotAnObject)?;
        match m.bad_member {
            Some(name) => Err(SkipReason::BadMember(name)),
            None => Ok(m),
        }
    }

    fn record(&mut self, name: JsonStr<'_>, value: Value<'_>) {
        const STRINGS: [&str; 10] = ["kty", "kid", "alg", "use", "crv", "x", "y", "n", "e", "k"];
        if let Some(&member) = STRINGS.iter().find(|m| name == **m) {
            let Value::String(s) = value else {
                self.bad_member.get_or_insert(member);
                return;
            };
            let slot = match member {
                "kty" => &mut self.kty,
                "kid" => &mut self.kid,
                "alg" => &mut self.alg,
                "use" => &mut self.key_use,
                "crv" => &mut self.crv,
                "x" => &mut self.x,
                "y" => &mut self.y,
                "n" => &mut self.n,
                "e" => &mut self.e,
                _ => &mut self.k,
            };
            *slot = Some(decode(s));
        } else if name == "key_ops" {
            let ops = value.as_array().map(|elements| elements.map(|v| v.as_json_str().map(decode)).collect());
            match ops {
                Some(Some(ops)) => self.key_ops = Some(ops),
                _ => {
                    self.bad_member.get_or_insert("key_ops");
                }
            }
        } else if ["d", "p", "q", "dp", "dq", "qi", "oth"].iter().any(|m| name == *m) {
            self.has_private = true;
        }
    }
}

/// The result of reading one JWK: what it is, and the key when it is usable.
pub(crate) struct ParsedJwk {
    pub(crate) info: KeyInfo,
    pub(crate) key: Option<VerifyingKey>,
}

/// Reads one element of a JWKS `keys` array. The options' algorithms are the
/// policy's allowed set: they fill in a missing `alg` and refuse keys they do
/// not allow.
pub(crate) fn parse(index: usize, element: Value<'_>, options: &KeySetOptions) -> ParsedJwk {
    let mut info = KeyInfo {
        index,
        kid: None,
        kty: None,
        crv: None,
        alg: None,
        key_use: None,
        algorithm: None,
        alg_inferred: false,
        bits: None,
        thumbprint: None,
        status: KeyStatus::Usable,
    };
    let members = match element {
        Value::Object(object) => Members::parse(object),
        _ => Err(SkipReason::NotAnObject),
    };
    let key = members.and_then(|m| {
        info.kid.clone_from(&m.kid);
        info.kty.clone_from(&m.kty);
        info.crv.clone_from(&m.crv);
        info.alg.clone_from(&m.alg);
        info.key_use.clone_from(&m.key_use);
        info.thumbprint = m.thumbprint_members().and_then(thumbprint::of);
        build(&m, options, &mut info)
    });
    match key {
        Ok(key) => ParsedJwk { info, key: Some(key) },
        Err(reason) => {
            info.status = KeyStatus::Skipped(reason);
            ParsedJwk { info, key: None }
        }
    }
}

/// Turns the members into a key bound to one algorithm, checking the rules in
/// the order a reader of the skip reason expects: purpose, type, algorithm,
/// then material.
fn build(m: &Members, options: &KeySetOptions, info: &mut KeyInfo) -> Result<VerifyingKey, SkipReason> {
    let algorithms = options.algorithms;
    if m.key_use.as_deref().is_some_and(|u| u != "sig") {
        return Err(SkipReason::NotForSignatures);
    }
    if m.key_ops.as_ref().is_some_and(|ops| !ops.iter().any(|op| op == "verify")) {
        return Err(SkipReason::NotForVerify);
    }
    let kty = m.kty.as_deref().ok_or(SkipReason::MissingMember("kty"))?;
    let kind = match kty {
        "RSA" => KeyKind::Rsa,
        "EC" => KeyKind::Ec,
        "OKP" => KeyKind::Okp,
        "oct" => KeyKind::Hmac,
        _ => return Err(SkipReason::UnsupportedKeyType),
    };
    if m.has_private {
        return Err(SkipReason::PrivateKey);
    }
    let curve_alg = match kind {
        KeyKind::Ec => Some(match m.crv.as_deref().ok_or(SkipReason::MissingMember("crv"))? {
            "P-256" => Algorithm::ES256,
            "P-384" => Algorithm::ES384,
            #[cfg(feature = "aws-lc")]
            "P-521" => Algorithm::ES512,
            _ => return Err(SkipReason::UnsupportedCurve),
        }),
        KeyKind::Okp => Some(match m.crv.as_deref().ok_or(SkipReason::MissingMember("crv"))? {
            "Ed25519" => Algorithm::EdDSA,
            _ => return Err(SkipReason::UnsupportedCurve),
        }),
        _ => None,
    };
    let alg = match m.alg.as_deref() {
        Some(name) => {
            let alg = Algorithm::from_name(name).ok_or(SkipReason::UnsupportedAlgorithm)?;
            if alg.key_kind() != kind || curve_alg.is_some_and(|c| c != alg) {
                return Err(SkipReason::AlgorithmMismatch);
            }
            alg
        }
        None => {
            info.alg_inferred = true;
            match curve_alg {
                Some(alg) => alg,
                None => only_allowed(algorithms, kind).ok_or(SkipReason::NoAlgorithm)?,
            }
        }
    };
    info.algorithm = Some(alg);
    if !algorithms.contains(alg) {
        return Err(SkipReason::AlgorithmNotAllowed);
    }

    let key = match kind {
        KeyKind::Rsa => {
            let n = base64url(m.n.as_deref(), "n")?;
            let e = base64url(m.e.as_deref(), "e")?;
            let significant = n.iter().position(|&b| b != 0).map_or(0, |start| n.len() - start);
            info.bits = Some(bit_len(n.get(n.len() - significant..).unwrap_or_default()));
            let key = VerifyingKey::rsa_from_components(alg, &n, &e).map_err(key_error)?;
            options.check_rsa_exponent(&key).map_err(SkipReason::RsaExponentNotAllowed)?;
            if roca::has_fingerprint(&n) {
                return Err(SkipReason::RocaVulnerable);
            }
            key
        }
        KeyKind::Ec => {
            let x = base64url(m.x.as_deref(), "x")?;
            let y = base64url(m.y.as_deref(), "y")?;
            let field_len = match alg.name() {
                "ES384" => 48,
                "ES512" => 66,
                _ => 32,
            };
            info.bits = Some(field_len * 8);
            if x.len() != field_len || y.len() != field_len {
                return Err(SkipReason::InvalidKey);
            }
            let key = VerifyingKey::ecdsa_from_coordinates(alg, &x, &y).map_err(key_error)?;
            if !on_curve(alg, &x, &y) {
                return Err(SkipReason::OffCurve);
            }
            key
        }
        KeyKind::Okp => {
            let x = base64url(m.x.as_deref(), "x")?;
            info.bits = Some(256);
            VerifyingKey::ed25519(&x).map_err(key_error)?
        }
        KeyKind::Hmac => {
            let k = m.k.as_deref().ok_or(SkipReason::MissingMember("k"))?;
            // The secret's length is public (it follows from the encoding's length).
            info.bits = k.len().checked_mul(6).map(|bits| bits - bits % 8);
            VerifyingKey::hmac_from_base64url(alg, k).map_err(|e| match e {
                KeyError::Invalid => SkipReason::BadBase64("k"),
                other => key_error(other),
            })?
        }
    };
    match m.kid.as_deref() {
        Some(kid) => key.with_kid(kid).map_err(key_error),
        None => Ok(key),
    }
}

/// The one algorithm of `kind` the policy allows, if there is exactly one.
fn only_allowed(algorithms: AlgorithmSet, kind: KeyKind) -> Option<Algorithm> {
    let mut of_kind = algorithms.iter().filter(|alg| alg.key_kind() == kind);
    match (of_kind.next(), of_kind.next()) {
        (Some(alg), None) => Some(alg),
        _ => None,
    }
}

fn base64url(member: Option<&str>, name: &'static str) -> Result<Vec<u8>, SkipReason> {
    let text = member.ok_or(SkipReason::MissingMember(name))?;
    Base64UrlUnpadded::decode_vec(text).map_err(|_| SkipReason::BadBase64(name))
}

fn key_error(e: KeyError) -> SkipReason {
    match e {
        KeyError::Weak => SkipReason::WeakKey,
        KeyError::KidTooLong => SkipReason::KidTooLong,
        KeyError::WrongAlgorithm => SkipReason::AlgorithmMismatch,
        _ => SkipReason::InvalidKey,
    }
}

fn bit_len(big_endian: &[u8]) -> usize {
    match big_endian.first() {
        None => 0,
        Some(&top) => {
            let top_bits = usize::try_from(u8::BITS - top.leading_zeros()).unwrap_or(8);
            (big_endian.len() - 1) * 8 + top_bits
        }
    }
}

/// Whether `(x, y)` is a point of the curve of `alg`: aws-lc checks the point
/// fully (on the curve, coordinates in range) when it parses a public key.
#[cfg(feature = "aws-lc")]
fn on_curve(alg: Algorithm, x: &[u8], y: &[u8]) -> bool {
    use aws_lc_rs::signature;
    let algorithm = match alg.name() {
        "ES384" => &signature::ECDSA_P384_SHA384_FIXED,
        "ES512" => &signature::ECDSA_P521_SHA512_FIXED,
        _ => &signature::ECDSA_P256_SHA256_FIXED,
    };
    let point = [&[0x04], x, y].concat();
    signature::ParsedPublicKey::new(algorithm, point).is_ok()
}

/// Whether `(x, y)` is a point of the curve of `alg` (and not the identity).
///
/// ring validates a peer's public key fully (on the curve, in range) before
/// an ECDH agreement, so one agreement with a throwaway ephemeral key is the
/// audited check; its result is discarded.
#[cfg(not(feature = "aws-lc"))]
fn on_curve(alg: Algorithm, x: &[u8], y: &[u8]) -> bool {
    use ring::agreement;
    let curve = match alg {
        Algorithm::ES384 => &agreement::ECDH_P384,
        _ => &agreement::ECDH_P256,
    };
    let mut point = Vec::with_capacity(1 + x.len() + y.len());
    point.push(0x04);
    point.extend_from_slice(x);
    point.extend_from_slice(y);
    let rng = ring::rand::SystemRandom::new();
    let Ok(ephemeral) = agreement::EphemeralPrivateKey::generate(curve, &rng) else {
        return false;
    };
    agreement::agree_ephemeral(ephemeral, &agreement::UnparsedPublicKey::new(curve, &point), |_| ()).is_ok()
}

impl Members {
    pub(crate) fn thumbprint_members(&self) -> Option<ThumbprintMembers<'_>> {
        let kty = self.kty.as_deref()?;
        let needed: &[(&'static str, &Option<String>)] = match kty {
            "RSA" => &[("e", &self.e), ("n", &self.n)],
            "EC" => &[("crv", &self.crv), ("x", &self.x), ("y", &self.y)],
            "OKP" => &[("crv", &self.crv), ("x", &self.x)],
            // Not "oct": its thumbprint would be an unsalted hash of the secret.
            _ => return None,
        };
        let members = needed.iter().map(|(name, value)| value.as_deref().map(|v| (*name, v))).collect::<Option<_>>()?;
        Some(ThumbprintMembers { kty, members })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bit_length() {
        assert_eq!(bit_len(&[]), 0);
        assert_eq!(bit_len(&[1]), 1);
        assert_eq!(bit_len(&[0x80, 0]), 16);
        assert_eq!(bit_len(&[0x01, 0xff]), 9);
    }

    #[test]
    fn only_allowed_needs_exactly_one() {
        let rs = AlgorithmSet::of(&[Algorithm::RS256, Algorithm::ES256]);
        assert_eq!(only_allowed(rs, KeyKind::Rsa), Some(Algorithm::RS256));
        let two = rs.with(Algorithm::PS256);
        assert_eq!(only_allowed(two, KeyKind::Rsa), None);
        assert_eq!(only_allowed(rs, KeyKind::Hmac), None);
    }
}
