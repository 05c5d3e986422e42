//! JOSE signature algorithms (RFC 7518 §3, RFC 8037) and the set type policies use.
//!
//! `none` is deliberately absent: it cannot be named, allowed or bound to a key.

use core::fmt;

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
    /// An elliptic-curve public key on P-256 or P-384.
    Ec,
    /// An Ed25519 public key.
    Okp,
}

impl Algorithm {
    /// Every supported algorithm.
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

    /// The JOSE name, e.g. `"ES256"`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::HS256 => "HS256",
            Self::HS384 => "HS384",
            Self::HS512 => "HS512",
            Self::RS256 => "RS256",
            Self::RS384 => "RS384",
            Self::RS512 => "RS512",
            Self::PS256 => "PS256",
            Self::PS384 => "PS384",
            Self::PS512 => "PS512",
            Self::ES256 => "ES256",
            Self::ES384 => "ES384",
            Self::EdDSA => "EdDSA",
        }
    }

    /// The algorithm with this exact (case-sensitive) JOSE name.
    ///
    /// `none`, in any case, and unsupported names such as `ES512` give `None`.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|a| a.name() == name)
    }

    /// The key family this algorithm verifies with.
    pub const fn key_kind(self) -> KeyKind {
        match self {
            Self::HS256 | Self::HS384 | Self::HS512 => KeyKind::Hmac,
            Self::RS256 | Self::RS384 | Self::RS512 | Self::PS256 | Self::PS384 | Self::PS512 => KeyKind::Rsa,
            Self::ES256 | Self::ES384 => KeyKind::Ec,
            Self::EdDSA => KeyKind::Okp,
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
        for name in ["none", "None", "NONE", "nOnE", "hs256", "ES512", "RS1", "", "HS256 "] {
            assert_eq!(Algorithm::from_name(name), None, "{name}");
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
