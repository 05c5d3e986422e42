//! JOSE signature algorithms (RFC 7518 §3, RFC 8037) and the set type policies use.
//!
//! `none` is deliberately absent: it cannot be named, allowed or bound to a key.

use core::fmt;

use crate::crypto;

/// A JWS signature algorithm this library verifies.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Algorithm {
    /// HMAC with SHA-256.
    HS256,
    /// HMAC with SHA-384.
    HS384,
    /// HMAC with SHA-512.
    HS512,
    /// RSASSA-PKCS1-v1_5 with SHA-256 (needs the `alloc` feature).
    RS256,
    /// RSASSA-PKCS1-v1_5 with SHA-384 (needs the `alloc` feature).
    RS384,
    /// RSASSA-PKCS1-v1_5 with SHA-512 (needs the `alloc` feature).
    RS512,
    /// RSASSA-PSS with SHA-256 and MGF1-SHA-256 (needs the `alloc` feature).
    PS256,
    /// RSASSA-PSS with SHA-384 and MGF1-SHA-384 (needs the `alloc` feature).
    PS384,
    /// RSASSA-PSS with SHA-512 and MGF1-SHA-512 (needs the `alloc` feature).
    PS512,
    /// ECDSA on P-256 with SHA-256, signature as raw `r ‖ s` (64 bytes).
    ES256,
    /// ECDSA on P-384 with SHA-384, signature as raw `r ‖ s` (96 bytes).
    ES384,
    /// ECDSA on P-521 with SHA-512, signature as raw `r ‖ s` (132 bytes).
    /// Needs the `aws-lc` feature: ring has no P-521, so without it the name
    /// is an unsupported algorithm.
    #[cfg(feature = "aws-lc")]
    ES512,
    /// EdDSA with Ed25519 (RFC 8037).
    EdDSA,
}

/// The family of key an algorithm needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeyKind {
    /// A shared HMAC secret.
    Hmac,
    /// An RSA public key.
    Rsa,
    /// An elliptic-curve public key on P-256 or P-384 (and P-521 with `aws-lc`).
    Ec,
    /// An Ed25519 public key.
    Okp,
}

impl Algorithm {
    /// Every supported algorithm.
    #[cfg(not(feature = "aws-lc"))]
    pub const ALL: [Self; 12] = [
        Self::HS256,
        Self::HS384,
        Self::HS512,
        Self::RS256,
        Self::RS384,
        Self::RS512,
        Self::PS256,
        Self::PS384,
        Self::PS512,
        Self::ES256,
        Self::ES384,
        Self::EdDSA,
    ];

    /// Every supported algorithm.
    #[cfg(feature = "aws-lc")]
    pub const ALL: [Self; 13] = [
        Self::HS256,
        Self::HS384,
        Self::HS512,
        Self::RS256,
        Self::RS384,
        Self::RS512,
        Self::PS256,
        Self::PS384,
        Self::PS512,
        Self::ES256,
        Self::ES384,
        Self::ES512,
        Self::EdDSA,
    ];

    /// The JOSE name, e.g. `"ES256"`.
    pub const fn name(self) -> &'static str {
        self.spec().name
    }

    /// The algorithm with this exact (case-sensitive) JOSE name.
    ///
    /// `none`, in any case, and unsupported names such as `RS1` (or `ES512`
    /// without the `aws-lc` feature) give `None`.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|a| a.name() == name)
    }

    /// The key family this algorithm verifies with.
    pub const fn key_kind(self) -> KeyKind {
        self.spec().key_kind
    }

    /// How this algorithm verifies; a key stores it when it is made.
    pub(crate) const fn verification(self) -> Verification {
        self.spec().verification
    }

    /// This algorithm's row of the table below.
    const fn spec(self) -> &'static Spec {
        match self {
            Self::HS256 => &HS256,
            Self::HS384 => &HS384,
            Self::HS512 => &HS512,
            Self::RS256 => &RS256,
            Self::RS384 => &RS384,
            Self::RS512 => &RS512,
            Self::PS256 => &PS256,
            Self::PS384 => &PS384,
            Self::PS512 => &PS512,
            Self::ES256 => &ES256,
            Self::ES384 => &ES384,
            #[cfg(feature = "aws-lc")]
            Self::ES512 => &ES512,
            Self::EdDSA => &EDDSA,
        }
    }

    #[expect(clippy::as_conversions, reason = "a fieldless enum's discriminant, < 16")]
    const fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How an algorithm verifies: the backend's algorithm, and what a key for it
/// must be. Each [`Algorithm`] has exactly one, in the table below; a
/// [`VerifyingKey`](crate::VerifyingKey) stores it when it is made, so
/// nothing picks a backend algorithm at verification time.
#[derive(Clone, Copy)]
pub(crate) enum Verification {
    /// HMAC, with a secret at least as long as the hash output (RFC 7518 §3.2).
    Hmac { algorithm: crypto::hmac::Algorithm, min_secret_len: usize },
    /// ECDSA with a raw `r ‖ s` signature, over an uncompressed SEC1 point of
    /// `point_len` bytes (the curve's).
    Ecdsa { algorithm: &'static crypto::signature::EcdsaVerificationAlgorithm, point_len: usize },
    /// EdDSA over Ed25519 (RFC 8037).
    Ed25519(&'static crypto::signature::EdDSAParameters),
    /// RSA with a 2048- to 8192-bit modulus.
    #[cfg(feature = "alloc")]
    Rsa(&'static crypto::signature::RsaParameters),
    /// RSA without the `alloc` feature: ring has none, so no key can be made.
    #[cfg(not(feature = "alloc"))]
    RsaNeedsAlloc,
}

/// One algorithm: its JOSE name, its key family and how it verifies.
struct Spec {
    name: &'static str,
    key_kind: KeyKind,
    verification: Verification,
}

/// ring's RSA verification algorithms exist with its `alloc` feature only.
#[cfg(feature = "alloc")]
macro_rules! rsa {
    ($parameters:ident) => {
        Verification::Rsa(&crypto::signature::$parameters)
    };
}
#[cfg(not(feature = "alloc"))]
macro_rules! rsa {
    ($parameters:ident) => {
        Verification::RsaNeedsAlloc
    };
}

// The table: every algorithm paired, here and nowhere else, with its key
// family and its backend algorithm.

static HS256: Spec = Spec {
    name: "HS256",
    key_kind: KeyKind::Hmac,
    verification: Verification::Hmac { algorithm: crypto::hmac::HMAC_SHA256, min_secret_len: 32 },
};
static HS384: Spec = Spec {
    name: "HS384",
    key_kind: KeyKind::Hmac,
    verification: Verification::Hmac { algorithm: crypto::hmac::HMAC_SHA384, min_secret_len: 48 },
};
static HS512: Spec = Spec {
    name: "HS512",
    key_kind: KeyKind::Hmac,
    verification: Verification::Hmac { algorithm: crypto::hmac::HMAC_SHA512, min_secret_len: 64 },
};
static RS256: Spec = Spec { name: "RS256", key_kind: KeyKind::Rsa, verification: rsa!(RSA_PKCS1_2048_8192_SHA256) };
static RS384: Spec = Spec { name: "RS384", key_kind: KeyKind::Rsa, verification: rsa!(RSA_PKCS1_2048_8192_SHA384) };
static RS512: Spec = Spec { name: "RS512", key_kind: KeyKind::Rsa, verification: rsa!(RSA_PKCS1_2048_8192_SHA512) };
static PS256: Spec = Spec { name: "PS256", key_kind: KeyKind::Rsa, verification: rsa!(RSA_PSS_2048_8192_SHA256) };
static PS384: Spec = Spec { name: "PS384", key_kind: KeyKind::Rsa, verification: rsa!(RSA_PSS_2048_8192_SHA384) };
static PS512: Spec = Spec { name: "PS512", key_kind: KeyKind::Rsa, verification: rsa!(RSA_PSS_2048_8192_SHA512) };
static ES256: Spec = Spec {
    name: "ES256",
    key_kind: KeyKind::Ec,
    verification: Verification::Ecdsa { algorithm: &crypto::signature::ECDSA_P256_SHA256_FIXED, point_len: 65 },
};
static ES384: Spec = Spec {
    name: "ES384",
    key_kind: KeyKind::Ec,
    verification: Verification::Ecdsa { algorithm: &crypto::signature::ECDSA_P384_SHA384_FIXED, point_len: 97 },
};
#[cfg(feature = "aws-lc")]
static ES512: Spec = Spec {
    name: "ES512",
    key_kind: KeyKind::Ec,
    verification: Verification::Ecdsa { algorithm: &crypto::signature::ECDSA_P521_SHA512_FIXED, point_len: 133 },
};
static EDDSA: Spec =
    Spec { name: "EdDSA", key_kind: KeyKind::Okp, verification: Verification::Ed25519(&crypto::signature::ED25519) };

/// A set of algorithms, for narrowing a [`Policy`](crate::Policy).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct AlgorithmSet(u16);

impl AlgorithmSet {
    /// No algorithm.
    pub const EMPTY: Self = Self(0);
    /// Every supported algorithm.
    pub const ALL: Self = Self::of(&Algorithm::ALL);

    /// The set of the given algorithms.
    #[expect(clippy::indexing_slicing, reason = "i < algs.len()")]
    pub const fn of(algs: &[Algorithm]) -> Self {
        let mut bits = 0;
        let mut i = 0;
        while i < algs.len() {
            bits |= algs[i].bit();
            i += 1;
        }
        Self(bits)
    }

    /// This set plus `alg`.
    #[must_use]
    pub const fn with(self, alg: Algorithm) -> Self {
        Self(self.0 | alg.bit())
    }

    /// Whether `alg` is in the set.
    pub const fn contains(self, alg: Algorithm) -> bool {
        self.0 & alg.bit() != 0
    }

    /// Whether the set is empty.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The members, in [`Algorithm::ALL`] order.
    pub fn iter(self) -> impl Iterator<Item = Algorithm> {
        Algorithm::ALL.into_iter().filter(move |a| self.contains(*a))
    }
}

impl fmt::Debug for AlgorithmSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_none_is_unrepresentable() {
        for alg in Algorithm::ALL {
            assert_eq!(Algorithm::from_name(alg.name()), Some(alg));
        }
        for name in ["none", "None", "NONE", "nOnE", "hs256", "es512", "RS1", "ES521", "", "HS256 "] {
            assert_eq!(Algorithm::from_name(name), None, "{name}");
        }
        // P-521 is aws-lc's only.
        assert_eq!(Algorithm::from_name("ES512").is_some(), cfg!(feature = "aws-lc"));
    }

    #[test]
    fn each_algorithm_verifies_with_the_backend_algorithm_of_its_key_kind() {
        for alg in Algorithm::ALL {
            let kind = match alg.verification() {
                Verification::Hmac { algorithm, min_secret_len } => {
                    let hash_len = algorithm.digest_algorithm().output_len();
                    assert_eq!(min_secret_len, hash_len, "{alg}: a secret as long as the hash");
                    assert_eq!(alg.name()[2..].parse(), Ok(hash_len * 8), "{alg}");
                    KeyKind::Hmac
                }
                Verification::Ecdsa { point_len, .. } => {
                    let field_bits: usize = match alg.name() {
                        "ES256" => 256,
                        "ES384" => 384,
                        _ => 521,
                    };
                    assert_eq!(point_len, 1 + 2 * field_bits.div_ceil(8), "{alg}");
                    KeyKind::Ec
                }
                Verification::Ed25519(_) => KeyKind::Okp,
                #[cfg(feature = "alloc")]
                Verification::Rsa(_) => KeyKind::Rsa,
                #[cfg(not(feature = "alloc"))]
                Verification::RsaNeedsAlloc => KeyKind::Rsa,
            };
            assert_eq!(alg.key_kind(), kind, "{alg}");
        }
    }

    #[test]
    fn sets_hold_exactly_their_members() {
        let set = AlgorithmSet::of(&[Algorithm::ES256, Algorithm::EdDSA]);
        assert!(set.contains(Algorithm::ES256) && set.contains(Algorithm::EdDSA));
        assert!(!set.contains(Algorithm::HS256));
        assert_eq!(set.iter().count(), 2);
        assert!(AlgorithmSet::EMPTY.is_empty());
        assert_eq!(AlgorithmSet::ALL.iter().count(), Algorithm::ALL.len());
        assert!(AlgorithmSet::EMPTY.with(Algorithm::PS512).contains(Algorithm::PS512));
    }
}
