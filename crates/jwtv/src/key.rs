//! Verification keys, each bound to exactly one algorithm when it is made.

use core::fmt;

use crate::alg::{Algorithm, KeyKind, Verification};
use crate::crypto;
use crate::error::{Error, KeyError};

/// The longest `kid` a key may carry, in bytes.
pub const MAX_KID_LEN: usize = 128;

/// The longest HMAC secret [`VerifyingKey::hmac_from_base64url`] decodes, in bytes.
pub const MAX_HMAC_SECRET_LEN: usize = 512;

/// A public key (or HMAC secret) bound to one [`Algorithm`], with an optional `kid`.
///
/// The algorithm is part of the key: a token whose header names another
/// algorithm is rejected before any cryptography runs, which rules out
/// algorithm-confusion attacks (e.g. an RSA public key used as an HMAC secret).
///
/// ```
/// use jwtv::{Algorithm, VerifyingKey};
/// let key = VerifyingKey::hs256(b"test-key-do-not-use-0123456789abcdef")?.with_kid("k1")?;
/// assert_eq!(key.algorithm(), Algorithm::HS256);
/// assert_eq!(key.kid(), Some("k1"));
/// # Ok::<(), jwtv::KeyError>(())
/// ```
#[derive(Clone)]
pub struct VerifyingKey {
    alg: Algorithm,
    kid: Option<heapless::String<MAX_KID_LEN>>,
    material: Material,
}

/// The longest uncompressed SEC1 point a key can be made from: P-384's with
/// ring, P-521's with aws-lc.
const MAX_POINT_LEN: usize = if cfg!(feature = "aws-lc") { 133 } else { 97 };

/// The key material, each kind holding the backend algorithm of the key's
/// [`Algorithm`] (from its [`Verification`]), fixed when the key is made.
#[derive(Clone)]
#[cfg_attr(
    feature = "aws-lc",
    expect(
        clippy::large_enum_variant,
        reason = "aws-lc's HMAC key holds its prepared contexts inline (1.2 KB); keys are made once and \
                  held in small sets, and a Box would add a pointer chase to every HMAC verification"
    )
)]
enum Material {
    Hmac(crypto::hmac::Key),
    /// ring: an uncompressed SEC1 point (65 bytes on P-256, 97 on P-384) or
    /// a 32-byte Ed25519 key, parsed by every verification.
    #[cfg(not(feature = "aws-lc"))]
    Public(crypto::signature::UnparsedPublicKey<heapless::Vec<u8, MAX_POINT_LEN>>),
    #[cfg(all(feature = "alloc", not(feature = "aws-lc")))]
    Rsa(&'static crypto::signature::RsaParameters, crypto::signature::RsaPublicKeyComponents<alloc::vec::Vec<u8>>),
    /// aws-lc: a public key (EC, Ed25519 or RSA) parsed once, when the key
    /// is made. `None` when the bytes are no key of the curve: such a key
    /// verifies nothing, as ring's (which parses at every verification)
    /// does, so both backends give the same verdicts. RSA keys keep their
    /// public exponent for [`VerifyingKey::rsa_public_exponent`].
    #[cfg(feature = "aws-lc")]
    Parsed(Option<crypto::signature::ParsedPublicKey>, Option<u64>),
}

impl VerifyingKey {
    // ---- HMAC ----

    /// An HMAC key for `alg` (HS256, HS384 or HS512).
    ///
    /// The secret must be at least as long as the hash output (32, 48 or 64
    /// bytes, RFC 7518 §3.2), otherwise [`KeyError::Weak`].
    pub fn hmac(alg: Algorithm, secret: &[u8]) -> Result<Self, KeyError> {
        let Verification::Hmac { algorithm, min_secret_len } = alg.verification() else {
            return Err(KeyError::WrongAlgorithm);
        };
        if secret.len() < min_secret_len {
            return Err(KeyError::Weak);
        }
        Ok(Self::bare(alg, Material::Hmac(crypto::hmac::Key::new(algorithm, secret))))
    }

    /// An HS256 key; see [`VerifyingKey::hmac`].
    pub fn hs256(secret: &[u8]) -> Result<Self, KeyError> {
        Self::hmac(Algorithm::HS256, secret)
    }

    /// An HS384 key; see [`VerifyingKey::hmac`].
    pub fn hs384(secret: &[u8]) -> Result<Self, KeyError> {
        Self::hmac(Algorithm::HS384, secret)
    }

    /// An HS512 key; see [`VerifyingKey::hmac`].
    pub fn hs512(secret: &[u8]) -> Result<Self, KeyError> {
        Self::hmac(Algorithm::HS512, secret)
    }

    /// An HMAC key from an unpadded base64url secret (a JWK's `k`), decoded in
    /// constant time with `base64ct` because it is secret material.
    pub fn hmac_from_base64url(alg: Algorithm, k: &str) -> Result<Self, KeyError> {
        use base64ct::Encoding as _;
        let mut buf = [0u8; MAX_HMAC_SECRET_LEN];
        let result = match base64ct::Base64UrlUnpadded::decode(k, &mut buf) {
            Ok(secret) => Self::hmac(alg, secret),
            Err(_) => Err(KeyError::Invalid),
        };
        buf.fill(0);
        core::hint::black_box(&buf);
        result
    }

    // ---- ECDSA ----

    /// An ECDSA key for `alg` (ES256, ES384, or ES512 with `aws-lc`) from an
    /// uncompressed SEC1 point (`0x04 ‖ x ‖ y`, 65, 97 or 133 bytes).
    ///
    /// Whether the point is on the curve is checked by every verification:
    /// a key off the curve verifies nothing.
    pub fn ecdsa_from_sec1(alg: Algorithm, point: &[u8]) -> Result<Self, KeyError> {
        let Verification::Ecdsa { algorithm, point_len } = alg.verification() else {
            return Err(KeyError::WrongAlgorithm);
        };
        if point.len() != point_len || point.first() != Some(&0x04) {
            return Err(KeyError::Invalid);
        }
        Self::public(alg, algorithm, point)
    }

    /// An ES256 key; see [`VerifyingKey::ecdsa_from_sec1`].
    pub fn es256_from_sec1(point: &[u8]) -> Result<Self, KeyError> {
        Self::ecdsa_from_sec1(Algorithm::ES256, point)
    }

    /// An ES384 key; see [`VerifyingKey::ecdsa_from_sec1`].
    pub fn es384_from_sec1(point: &[u8]) -> Result<Self, KeyError> {
        Self::ecdsa_from_sec1(Algorithm::ES384, point)
    }

    /// An ECDSA key from the affine coordinates of a JWK (`x`, `y`, each 32
    /// bytes for ES256, 48 for ES384 or 66 for ES512).
    pub fn ecdsa_from_coordinates(alg: Algorithm, x: &[u8], y: &[u8]) -> Result<Self, KeyError> {
        let mut point: heapless::Vec<u8, MAX_POINT_LEN> = heapless::Vec::new();
        point.push(0x04).map_err(|_| KeyError::Invalid)?;
        point.extend_from_slice(x).map_err(|_| KeyError::Invalid)?;
        point.extend_from_slice(y).map_err(|_| KeyError::Invalid)?;
        if x.len() != y.len() {
            return Err(KeyError::Invalid);
        }
        Self::ecdsa_from_sec1(alg, &point)
    }

    // ---- EdDSA ----

    /// An EdDSA key from a 32-byte Ed25519 public key.
    pub fn ed25519(public_key: &[u8]) -> Result<Self, KeyError> {
        let Verification::Ed25519(algorithm) = Algorithm::EdDSA.verification() else {
            return Err(KeyError::WrongAlgorithm);
        };
        if public_key.len() != 32 {
            return Err(KeyError::Invalid);
        }
        Self::public(Algorithm::EdDSA, algorithm, public_key)
    }

    // ---- RSA ----

    /// An RSA key for `alg` (RS256/384/512, PS256/384/512) from its modulus
    /// and public exponent as big-endian bytes (a JWK's `n` and `e`).
    ///
    /// The modulus must be 2048 to 8192 bits ([`KeyError::Weak`] below), the
    /// exponent odd, from 3 to 2^33 − 1 (what ring verifies with). Needs the
    /// `alloc` feature.
    ///
    /// A verification costs about one modular multiplication per bit of the
    /// exponent, each growing with the square of the modulus: a garbage
    /// signature against an 8192-bit key with e = 2^33 − 1 takes some 40
    /// times as long as against RSA-2048 with e = 65537. Keys from documents
    /// an attacker may influence should be held to e = 65537, as jwtv-jwks
    /// does by default; [`VerifyingKey::rsa_public_exponent`] tells.
    pub fn rsa_from_components(alg: Algorithm, n: &[u8], e: &[u8]) -> Result<Self, KeyError> {
        if alg.key_kind() != KeyKind::Rsa {
            return Err(KeyError::WrongAlgorithm);
        }
        let n = strip_leading_zeros(n);
        let e = strip_leading_zeros(e);
        let bits = bit_len(n);
        if bits > 8192 {
            return Err(KeyError::Invalid);
        }
        if bits < 2048 {
            return Err(KeyError::Weak);
        }
        // ring accepts odd exponents in [3, 2^33 - 1].
        let e_odd = e.last().is_some_and(|b| b & 1 == 1);
        if !e_odd || bit_len(e) > 33 || bit_len(e) < 2 {
            return Err(KeyError::Invalid);
        }
        #[cfg(all(feature = "alloc", not(feature = "aws-lc")))]
        {
            let Verification::Rsa(parameters) = alg.verification() else {
                return Err(KeyError::WrongAlgorithm);
            };
            let components = crypto::signature::RsaPublicKeyComponents { n: n.to_vec(), e: e.to_vec() };
            Ok(Self::bare(alg, Material::Rsa(parameters, components)))
        }
        #[cfg(feature = "aws-lc")]
        {
            let Verification::Rsa(parameters) = alg.verification() else {
                return Err(KeyError::WrongAlgorithm);
            };
            let parsed = crypto::signature::RsaPublicKeyComponents { n, e }.to_parsed_public_key(parameters).ok();
            // At most 33 bits: checked above.
            let exponent = e.iter().fold(0, |acc, &byte| (acc << 8) | u64::from(byte));
            Ok(Self::bare(alg, Material::Parsed(parsed, Some(exponent))))
        }
        #[cfg(not(feature = "alloc"))]
        {
            Err(KeyError::Unsupported)
        }
    }

    /// An RSA key for `alg` from DER: a `SubjectPublicKeyInfo` (what PEM
    /// `BEGIN PUBLIC KEY` holds) or a PKCS#1 `RSAPublicKey` (`BEGIN RSA PUBLIC KEY`).
    pub fn rsa_from_der(alg: Algorithm, der: &[u8]) -> Result<Self, KeyError> {
        let (n, e) = der::rsa_public_key(der)?;
        Self::rsa_from_components(alg, n, e)
    }

    /// An RS256 key from DER; see [`VerifyingKey::rsa_from_der`].
    pub fn rs256_from_der(der: &[u8]) -> Result<Self, KeyError> {
        Self::rsa_from_der(Algorithm::RS256, der)
    }

    /// A PS256 key from DER; see [`VerifyingKey::rsa_from_der`].
    pub fn ps256_from_der(der: &[u8]) -> Result<Self, KeyError> {
        Self::rsa_from_der(Algorithm::PS256, der)
    }

    // ---- common ----

    fn bare(alg: Algorithm, material: Material) -> Self {
        Self { alg, kid: None, material }
    }

    /// A key verified by `algorithm` (which must be `alg`'s) over public key bytes.
    #[cfg(not(feature = "aws-lc"))]
    fn public(
        alg: Algorithm,
        algorithm: &'static dyn crypto::signature::VerificationAlgorithm,
        bytes: &[u8],
    ) -> Result<Self, KeyError> {
        let bytes = heapless::Vec::from_slice(bytes).map_err(|_| KeyError::Invalid)?;
        Ok(Self::bare(alg, Material::Public(crypto::signature::UnparsedPublicKey::new(algorithm, bytes))))
    }

    /// A key verified by `algorithm` (which must be `alg`'s) over public key
    /// bytes, parsed now.
    #[cfg(feature = "aws-lc")]
    fn public(
        alg: Algorithm,
        algorithm: &'static dyn crypto::signature::VerificationAlgorithm,
        bytes: &[u8],
    ) -> Result<Self, KeyError> {
        let parsed = crypto::signature::ParsedPublicKey::new(algorithm, bytes).ok();
        Ok(Self::bare(alg, Material::Parsed(parsed, None)))
    }

    /// This key with a key id, matched against the token header's `kid`.
    pub fn with_kid(mut self, kid: &str) -> Result<Self, KeyError> {
        self.kid = Some(heapless::String::try_from(kid).map_err(|_| KeyError::KidTooLong)?);
        Ok(self)
    }

    /// The one algorithm this key verifies.
    pub fn algorithm(&self) -> Algorithm {
        self.alg
    }

    /// The key id, if any.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// The public exponent of an RSA key (`None` for other keys).
    pub fn rsa_public_exponent(&self) -> Option<u64> {
        #[cfg(all(feature = "alloc", not(feature = "aws-lc")))]
        if let Material::Rsa(_, components) = &self.material {
            // At most 33 bits: checked when the key was made.
            return Some(components.e.iter().fold(0, |e, &byte| (e << 8) | u64::from(byte)));
        }
        #[cfg(feature = "aws-lc")]
        if let Material::Parsed(_, exponent) = &self.material {
            return *exponent;
        }
        None
    }

    /// Verifies `signature` over `message` with this key's algorithm.
    ///
    /// This is the bare algorithm layer: no header, no policy. Any failure is
    /// [`Error::BadSignature`], without saying why.
    pub fn verify_signature(&self, message: &[u8], signature: &[u8]) -> Result<(), Error> {
        // The backend algorithm was fixed when the key was made.
        let ok = match &self.material {
            Material::Hmac(key) => crypto::hmac::verify(key, message, signature).is_ok(),
            #[cfg(not(feature = "aws-lc"))]
            Material::Public(key) => key.verify(message, signature).is_ok(),
            #[cfg(all(feature = "alloc", not(feature = "aws-lc")))]
            Material::Rsa(parameters, components) => components.verify(parameters, message, signature).is_ok(),
            #[cfg(feature = "aws-lc")]
            Material::Parsed(key, _) => key.as_ref().is_some_and(|key| key.verify_sig(message, signature).is_ok()),
        };
        if ok { Ok(()) } else { Err(Error::BadSignature) }
    }
}

impl fmt::Debug for VerifyingKey {
    /// Shows the algorithm and kid, never key material.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifyingKey").field("alg", &self.alg).field("kid", &self.kid()).finish_non_exhaustive()
    }
}

fn strip_leading_zeros(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    bytes.get(start..).unwrap_or_default()
}

/// Bit length of a big-endian unsigned integer without leading zero bytes.
fn bit_len(bytes: &[u8]) -> usize {
    match bytes.first() {
        None => 0,
        Some(first) => {
            let top = 8usize.saturating_sub(usize::try_from(first.leading_zeros()).unwrap_or(8));
            bytes.len().saturating_sub(1).saturating_mul(8).saturating_add(top)
        }
    }
}

/// Just enough DER to find an RSA public key's modulus and exponent.
///
/// Every read returns a `Result`, and the contents of each element are read
/// to their end: a byte left over is an error.
mod der {
    use crate::error::KeyError;

    const SEQUENCE: u8 = 0x30;
    const INTEGER: u8 = 0x02;
    const BIT_STRING: u8 = 0x03;
    const OID: u8 = 0x06;
    const NULL: u8 = 0x05;
    /// 1.2.840.113549.1.1.1 (rsaEncryption)
    const RSA_ENCRYPTION: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];

    #[cfg(test)]
    pub(super) const RSA_ENCRYPTION_FOR_TESTS: &[u8] = RSA_ENCRYPTION;

    /// What any malformed input gives.
    const BAD: KeyError = KeyError::Invalid;

    /// A cursor over DER input.
    struct Reader<'a>(&'a [u8]);

    impl<'a> Reader<'a> {
        /// Reads all of `input` with `read`; input left over is an error.
        fn read_all<T>(input: &'a [u8], read: impl FnOnce(&mut Self) -> Result<T, KeyError>) -> Result<T, KeyError> {
            let mut reader = Self(input);
            let value = read(&mut reader)?;
            if reader.0.is_empty() { Ok(value) } else { Err(BAD) }
        }

        fn byte(&mut self) -> Result<u8, KeyError> {
            let (&byte, rest) = self.0.split_first().ok_or(BAD)?;
            self.0 = rest;
            Ok(byte)
        }

        /// Whatever is left.
        fn rest(&mut self) -> &'a [u8] {
            core::mem::take(&mut self.0)
        }

        fn bytes(&mut self, len: usize) -> Result<&'a [u8], KeyError> {
            let (bytes, rest) = self.0.split_at_checked(len).ok_or(BAD)?;
            self.0 = rest;
            Ok(bytes)
        }

        /// The contents of one element with the expected tag, its length in
        /// the shortest form (lengths up to 65535).
        fn contents(&mut self, tag: u8) -> Result<&'a [u8], KeyError> {
            if self.byte()? != tag {
                return Err(BAD);
            }
            let len = match self.byte()? {
                short @ 0..=0x7f => usize::from(short),
                0x81 => match self.byte()? {
                    long @ 0x80.. => usize::from(long),
                    _ => return Err(BAD), // not minimal
                },
                0x82 => match u16::from_be_bytes([self.byte()?, self.byte()?]) {
                    long @ 0x100.. => usize::from(long),
                    _ => return Err(BAD), // not minimal
                },
                _ => return Err(BAD),
            };
            self.bytes(len)
        }

        /// Reads the whole contents of one element with `read`.
        fn nested<T>(&mut self, tag: u8, read: impl FnOnce(&mut Self) -> Result<T, KeyError>) -> Result<T, KeyError> {
            Self::read_all(self.contents(tag)?, read)
        }

        /// A non-negative INTEGER in its shortest form, as big-endian bytes.
        fn positive_integer(&mut self) -> Result<&'a [u8], KeyError> {
            match self.contents(INTEGER)? {
                [] => Err(BAD),
                [first, ..] if first & 0x80 != 0 => Err(BAD), // negative
                [0, second, ..] if second & 0x80 == 0 => Err(BAD), // not minimal
                value => Ok(value),
            }
        }
    }

    /// PKCS#1 `RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }`.
    fn pkcs1(input: &[u8]) -> Result<(&[u8], &[u8]), KeyError> {
        Reader::read_all(input, |der| {
            der.nested(SEQUENCE, |key| Ok((key.positive_integer()?, key.positive_integer()?)))
        })
    }

    /// SPKI `SEQUENCE { SEQUENCE { rsaEncryption, NULL }, BIT STRING { RSAPublicKey } }`.
    fn spki(input: &[u8]) -> Result<(&[u8], &[u8]), KeyError> {
        Reader::read_all(input, |der| {
            der.nested(SEQUENCE, |spki| {
                spki.nested(SEQUENCE, |algorithm| {
                    let oid = algorithm.contents(OID)?;
                    let null = algorithm.contents(NULL)?;
                    if oid == RSA_ENCRYPTION && null.is_empty() { Ok(()) } else { Err(BAD) }
                })?;
                let key = spki.nested(BIT_STRING, |bits| match bits.byte()? {
                    0 => Ok(bits.rest()),
                    _ => Err(BAD), // unused bits
                })?;
                pkcs1(key)
            })
        })
    }

    pub(super) fn rsa_public_key(input: &[u8]) -> Result<(&[u8], &[u8]), KeyError> {
        spki(input).or_else(|_| pkcs1(input))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEST_SECRET_32: &[u8; 32] = b"test-secret-0123456789abcdefghij";

    #[test]
    fn hmac_secrets_shorter_than_the_hash_are_weak() {
        assert_eq!(VerifyingKey::hs256(&TEST_SECRET_32[..31]).err(), Some(KeyError::Weak));
        assert!(VerifyingKey::hs256(TEST_SECRET_32).is_ok());
        assert_eq!(VerifyingKey::hs384(TEST_SECRET_32).err(), Some(KeyError::Weak));
        assert_eq!(VerifyingKey::hs512(&[7; 63]).err(), Some(KeyError::Weak));
        assert!(VerifyingKey::hs512(&[7; 64]).is_ok());
        assert_eq!(VerifyingKey::hmac(Algorithm::ES256, TEST_SECRET_32).err(), Some(KeyError::WrongAlgorithm));
    }

    #[test]
    fn hmac_from_base64url_is_strict() {
        let k = "dGVzdC1zZWNyZXQtMDEyMzQ1Njc4OWFiY2RlZmdoaWo"; // TEST_SECRET_32
        let key = VerifyingKey::hmac_from_base64url(Algorithm::HS256, k).unwrap();
        let tag = ring::hmac::sign(&ring::hmac::Key::new(ring::hmac::HMAC_SHA256, TEST_SECRET_32), b"m");
        assert_eq!(key.verify_signature(b"m", tag.as_ref()), Ok(()));
        for bad in
            ["dGVzdC1zZWNyZXQtMDEyMzQ1Njc4OWFiY2RlZmdoaWo=", "dGVzdC1zZWNyZXQtMDEyMzQ1Njc4OWFiY2RlZmdoaWp", "a+b/"]
        {
            assert_eq!(
                VerifyingKey::hmac_from_base64url(Algorithm::HS256, bad).err(),
                Some(KeyError::Invalid),
                "{bad}"
            );
        }
    }

    #[test]
    fn ec_points_must_be_uncompressed_and_sized_for_the_curve() {
        let mut p256 = [0u8; 65];
        p256[0] = 4;
        assert!(VerifyingKey::es256_from_sec1(&p256).is_ok());
        assert_eq!(VerifyingKey::es384_from_sec1(&p256).err(), Some(KeyError::Invalid));
        p256[0] = 2;
        assert_eq!(VerifyingKey::es256_from_sec1(&p256).err(), Some(KeyError::Invalid));
        assert_eq!(VerifyingKey::ecdsa_from_sec1(Algorithm::EdDSA, &p256).err(), Some(KeyError::WrongAlgorithm));
        assert!(VerifyingKey::ecdsa_from_coordinates(Algorithm::ES256, &[1; 32], &[2; 32]).is_ok());
        assert_eq!(
            VerifyingKey::ecdsa_from_coordinates(Algorithm::ES256, &[1; 31], &[2; 33]).err(),
            Some(KeyError::Invalid)
        );
    }

    #[test]
    fn ed25519_keys_are_32_bytes() {
        assert!(VerifyingKey::ed25519(&[0; 32]).is_ok());
        assert_eq!(VerifyingKey::ed25519(&[0; 31]).err(), Some(KeyError::Invalid));
    }

    #[test]
    fn rsa_moduli_below_2048_bits_are_weak() {
        let mut n = [0xffu8; 256];
        assert!(VerifyingKey::rsa_from_components(Algorithm::RS256, &n, &[1, 0, 1]).is_ok());
        n[0] = 0x7f; // 2047 bits
        assert_eq!(VerifyingKey::rsa_from_components(Algorithm::RS256, &n, &[1, 0, 1]).err(), Some(KeyError::Weak));
        let n = [0xffu8; 256];
        assert_eq!(VerifyingKey::rsa_from_components(Algorithm::RS256, &n, &[1]).err(), Some(KeyError::Invalid));
        assert_eq!(VerifyingKey::rsa_from_components(Algorithm::RS256, &n, &[1, 0, 0]).err(), Some(KeyError::Invalid));
        assert_eq!(VerifyingKey::rsa_from_components(Algorithm::ES256, &n, &[3]).err(), Some(KeyError::WrongAlgorithm));
    }

    #[test]
    fn rsa_keys_tell_their_public_exponent() {
        let n = [0xffu8; 1024];
        let exponent =
            |e: &[u8]| VerifyingKey::rsa_from_components(Algorithm::RS256, &n, e).map(|k| k.rsa_public_exponent());
        assert_eq!(exponent(&[1, 0, 1]), Ok(Some(65_537)));
        assert_eq!(exponent(&[0, 0, 3]), Ok(Some(3)), "leading zeros");
        assert_eq!(exponent(&[1, 0xff, 0xff, 0xff, 0xff]), Ok(Some((1 << 33) - 1)), "ring's largest");
        assert_eq!(exponent(&[2, 0, 0, 0, 1]), Err(KeyError::Invalid), "past 33 bits");
        assert_eq!(VerifyingKey::hs256(TEST_SECRET_32).unwrap().rsa_public_exponent(), None);
    }

    #[test]
    fn kids_are_bounded_and_debug_hides_material() {
        let key = VerifyingKey::hs256(TEST_SECRET_32).unwrap();
        let long = "k".repeat(MAX_KID_LEN + 1);
        assert_eq!(key.clone().with_kid(&long).err(), Some(KeyError::KidTooLong));
        let key = key.with_kid("kid-1").unwrap();
        extern crate std;
        let shown = std::format!("{key:?}");
        assert!(shown.contains("HS256") && shown.contains("kid-1"));
        assert!(!shown.contains("test-secret"));
    }

    #[test]
    fn der_reader_takes_spki_and_pkcs1_and_rejects_trailing_bytes() {
        // PKCS#1 SEQUENCE { INTEGER 0x00c5.., INTEGER 65537 } with a 257-byte modulus field.
        let mut n = [0xc5u8; 256];
        n[255] = 0x01;
        let mut pkcs1 = std::vec![0x30, 0x82, 0x01, 0x0a, 0x02, 0x82, 0x01, 0x01, 0x00];
        extern crate std;
        pkcs1.extend_from_slice(&n);
        pkcs1.extend_from_slice(&[0x02, 0x03, 0x01, 0x00, 0x01]);
        let (got_n, got_e) = der::rsa_public_key(&pkcs1).unwrap();
        assert_eq!(strip_leading_zeros(got_n), &n[..]);
        assert_eq!(got_e, &[1, 0, 1]);
        let mut spki = std::vec![0x30, 0x82, 0x01, 0x22, 0x30, 0x0d, 0x06, 0x09];
        spki.extend_from_slice(der::RSA_ENCRYPTION_FOR_TESTS);
        spki.extend_from_slice(&[0x05, 0x00, 0x03, 0x82, 0x01, 0x0f, 0x00]);
        spki.extend_from_slice(&pkcs1);
        assert_eq!(der::rsa_public_key(&spki), Ok((got_n, got_e)));
        assert!(VerifyingKey::rs256_from_der(&spki).is_ok());
        pkcs1.push(0);
        assert_eq!(der::rsa_public_key(&pkcs1), Err(KeyError::Invalid));
        assert_eq!(VerifyingKey::rs256_from_der(&pkcs1).err(), Some(KeyError::Invalid));
    }

    #[test]
    fn der_reader_refuses_what_is_not_strict_der() {
        let bad: [&[u8]; 9] = [
            &[],
            &[0x30],
            &[0x30, 0x02, 0x02],                                           // shorter than its length
            &[0x31, 0x00],                                                 // not a SEQUENCE
            &[0x30, 0x80, 0x00, 0x00],                                     // indefinite length
            &[0x30, 0x81, 0x06, 0x02, 0x01, 0x03, 0x02, 0x01, 0x03],       // long form for 6
            &[0x30, 0x82, 0x00, 0x06, 0x02, 0x01, 0x03, 0x02, 0x01, 0x03], // long form for 6
            &[0x30, 0x06, 0x02, 0x01, 0x83, 0x02, 0x01, 0x03],             // negative
            &[0x30, 0x07, 0x02, 0x02, 0x00, 0x03, 0x02, 0x01, 0x03],       // leading zero
        ];
        for der in bad {
            assert_eq!(der::rsa_public_key(der), Err(KeyError::Invalid), "{der:02x?}");
        }
        let good: &[u8] = &[0x30, 0x06, 0x02, 0x01, 0x7f, 0x02, 0x01, 0x03];
        assert_eq!(der::rsa_public_key(good), Ok((&[0x7f][..], &[0x03][..])));
    }
}
