//! How a JWKS document (and a PEM key) is read: [`KeySetOptions`].

use jwtv::{AlgorithmSet, VerifyingKey};

/// The default limit on a JWKS document's size: 1 MiB.
pub const DEFAULT_MAX_JWKS_BYTES: usize = 1024 * 1024;
/// The default limit on the number of keys in a JWKS document.
pub const DEFAULT_MAX_KEYS: usize = 100;

/// How a JWKS document is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct KeySetOptions {
    /// The policy's allowed algorithms. A JWK without `alg` takes the one
    /// allowed algorithm of its key type (EC and OKP keys take their curve's);
    /// keys whose algorithm is not allowed are skipped.
    pub algorithms: AlgorithmSet,
    /// The largest document accepted, in bytes.
    pub max_bytes: usize,
    /// The most keys accepted in `keys`.
    pub max_keys: usize,
    /// Accept RSA keys with any public exponent ring verifies with (odd,
    /// 3 to 2^33 − 1). By default only 65537 is: the cost of a verification
    /// grows with the exponent's length, and a garbage signature against an
    /// 8192-bit key with e = 2^33 − 1 costs some 40 times one against
    /// RSA-2048 with 65537 (figures in `docs/POLICY.md`). Keys with another
    /// exponent are skipped with [`SkipReason::RsaExponentNotAllowed`](crate::SkipReason::RsaExponentNotAllowed).
    pub allow_any_rsa_exponent: bool,
}

/// The one RSA public exponent accepted by default: F4 = 2^16 + 1, what
/// every current key generator uses.
pub(crate) const DEFAULT_RSA_EXPONENT: u64 = 65_537;

impl Default for KeySetOptions {
    fn default() -> Self {
        Self {
            algorithms: AlgorithmSet::ALL,
            max_bytes: DEFAULT_MAX_JWKS_BYTES,
            max_keys: DEFAULT_MAX_KEYS,
            allow_any_rsa_exponent: false,
        }
    }
}

impl KeySetOptions {
    /// Options allowing only `algorithms`, with the default limits.
    pub fn for_algorithms(algorithms: AlgorithmSet) -> Self {
        Self { algorithms, ..Self::default() }
    }

    /// These options with RSA keys of any public exponent accepted (see
    /// [`KeySetOptions::allow_any_rsa_exponent`]).
    #[must_use]
    pub fn allowing_any_rsa_exponent(mut self) -> Self {
        self.allow_any_rsa_exponent = true;
        self
    }

    /// `Err(e)` for an RSA key whose public exponent `e` these options refuse.
    pub(crate) fn check_rsa_exponent(&self, key: &VerifyingKey) -> Result<(), u64> {
        match key.rsa_public_exponent() {
            Some(e) if e != DEFAULT_RSA_EXPONENT && !self.allow_any_rsa_exponent => Err(e),
            _ => Ok(()),
        }
    }
}
