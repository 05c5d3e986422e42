//! Token-making helpers for the strictness and safety suites.
//!
//! Tokens are assembled from arbitrary header and payload JSON strings (so a
//! test can write duplicates, escapes or invalid UTF-8 on purpose) and signed
//! with ring directly, never through the crate under test. Every key here is a
//! TEST KEY: fresh random ones, plus the RSA key checked in beside this file.

#![allow(dead_code, reason = "each test crate uses a different subset")]

use base64ct::{Base64UrlUnpadded, Encoding as _};
use jwtv::{Algorithm, VerifyingKey};
use ring::rand::SystemRandom;
use ring::signature::{self, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _, RsaKeyPair};

/// The clock of every test, in Unix seconds.
pub(crate) const NOW: u64 = 1_700_000_000;
/// The issuer the default policy wants.
pub(crate) const ISS: &str = "https://issuer.example";
/// The audience the default policy wants.
pub(crate) const AUD: &str = "api";
/// An HS256 test secret (never use it for anything real).
pub(crate) const TEST_HS256_SECRET: &[u8] = b"test-hs256-secret-do-not-use-0123456789";
/// An RSA-2048 test key (PKCS#8 DER, generated with `openssl genpkey`; never use it).
pub(crate) const TEST_RSA_2048_PKCS8: &[u8] = include_bytes!("rsa-2048-test-key.pk8");

/// Unpadded base64url, as a JWS segment.
pub(crate) fn b64(bytes: impl AsRef<[u8]>) -> String {
    Base64UrlUnpadded::encode_string(bytes.as_ref())
}

/// `NOW + delta`, for claims.
pub(crate) fn at(delta: i64) -> u64 {
    NOW.checked_add_signed(delta).expect("a time after 1970")
}

/// Claims the default [`policy`] accepts at [`NOW`].
pub(crate) fn good_claims() -> String {
    format!(r#"{{"iss":"{ISS}","aud":"{AUD}","sub":"user-1","iat":{},"exp":{}}}"#, at(-10), at(3600))
}

/// The policy most tests verify under: issuer [`ISS`], audience [`AUD`].
pub(crate) fn policy() -> jwtv::Policy<'static> {
    jwtv::Policy::new().issuer(ISS).audience(AUD)
}

/// A private key (or HMAC secret) that signs tokens for one algorithm.
pub(crate) enum Signer {
    Hmac(Algorithm, Vec<u8>),
    Ecdsa(Algorithm, EcdsaKeyPair),
    Ed25519(Ed25519KeyPair),
    Rsa(Algorithm, RsaKeyPair),
}

impl core::fmt::Debug for Signer {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Signer({})", self.alg())
    }
}

impl Signer {
    /// HS256 with [`TEST_HS256_SECRET`].
    pub(crate) fn hs256() -> Self {
        Self::hmac(Algorithm::HS256, TEST_HS256_SECRET)
    }

    /// HMAC with any secret (HS256, HS384 or HS512).
    pub(crate) fn hmac(alg: Algorithm, secret: &[u8]) -> Self {
        Self::Hmac(alg, secret.to_vec())
    }

    /// A fresh random ES256 key.
    pub(crate) fn es256() -> Self {
        Self::ecdsa(Algorithm::ES256)
    }

    /// A fresh random ES384 key.
    pub(crate) fn es384() -> Self {
        Self::ecdsa(Algorithm::ES384)
    }

    fn ecdsa(alg: Algorithm) -> Self {
        let rng = SystemRandom::new();
        let ring_alg = ecdsa_fixed(alg);
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(ring_alg, &rng).expect("generate an ECDSA test key");
        Self::Ecdsa(alg, EcdsaKeyPair::from_pkcs8(ring_alg, pkcs8.as_ref(), &rng).expect("load an ECDSA test key"))
    }

    /// A fresh random Ed25519 key.
    pub(crate) fn ed25519() -> Self {
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).expect("generate an Ed25519 test key");
        Self::Ed25519(Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).expect("load an Ed25519 test key"))
    }

    /// The checked-in RSA-2048 test key, signing with `alg` (RS* or PS*).
    pub(crate) fn rsa(alg: Algorithm) -> Self {
        Self::Rsa(alg, RsaKeyPair::from_pkcs8(TEST_RSA_2048_PKCS8).expect("load the RSA test key"))
    }

    /// The algorithm this signer signs with.
    pub(crate) fn alg(&self) -> Algorithm {
        match self {
            Self::Hmac(alg, _) | Self::Ecdsa(alg, _) | Self::Rsa(alg, _) => *alg,
            Self::Ed25519(_) => Algorithm::EdDSA,
        }
    }

    /// The public key bytes: SEC1 point, Ed25519 key, PKCS#1 `RSAPublicKey`
    /// DER, or the HMAC secret itself.
    pub(crate) fn public_key_bytes(&self) -> Vec<u8> {
        match self {
            Self::Hmac(_, secret) => secret.clone(),
            Self::Ecdsa(_, pair) => pair.public_key().as_ref().to_vec(),
            Self::Ed25519(pair) => pair.public_key().as_ref().to_vec(),
            Self::Rsa(_, pair) => pair.public().as_ref().to_vec(),
        }
    }

    /// The matching verification key, bound to this signer's algorithm.
    pub(crate) fn key(&self) -> VerifyingKey {
        let public = self.public_key_bytes();
        match self {
            Self::Hmac(alg, _) => VerifyingKey::hmac(*alg, &public),
            Self::Ecdsa(alg, _) => VerifyingKey::ecdsa_from_sec1(*alg, &public),
            Self::Ed25519(_) => VerifyingKey::ed25519(&public),
            Self::Rsa(alg, _) => VerifyingKey::rsa_from_der(*alg, &public),
        }
        .expect("a valid test verification key")
    }

    /// The matching verification key with a `kid`.
    pub(crate) fn key_with_kid(&self, kid: &str) -> VerifyingKey {
        self.key().with_kid(kid).expect("a short kid")
    }

    /// Signs `message` as JWS does: raw `r ‖ s` for ECDSA.
    pub(crate) fn sign(&self, message: &[u8]) -> Vec<u8> {
        let rng = SystemRandom::new();
        match self {
            Self::Hmac(alg, secret) => {
                let ring_alg = match alg {
                    Algorithm::HS384 => ring::hmac::HMAC_SHA384,
                    Algorithm::HS512 => ring::hmac::HMAC_SHA512,
                    _ => ring::hmac::HMAC_SHA256,
                };
                ring::hmac::sign(&ring::hmac::Key::new(ring_alg, secret), message).as_ref().to_vec()
            }
            Self::Ecdsa(_, pair) => pair.sign(&rng, message).expect("ECDSA signing").as_ref().to_vec(),
            Self::Ed25519(pair) => pair.sign(message).as_ref().to_vec(),
            Self::Rsa(alg, pair) => {
                let padding: &dyn signature::RsaEncoding = match alg {
                    Algorithm::RS256 => &signature::RSA_PKCS1_SHA256,
                    Algorithm::RS384 => &signature::RSA_PKCS1_SHA384,
                    Algorithm::RS512 => &signature::RSA_PKCS1_SHA512,
                    Algorithm::PS256 => &signature::RSA_PSS_SHA256,
                    Algorithm::PS384 => &signature::RSA_PSS_SHA384,
                    _ => &signature::RSA_PSS_SHA512,
                };
                let mut out = vec![0; pair.public().modulus_len()];
                pair.sign(padding, &rng, message, &mut out).expect("RSA signing");
                out
            }
        }
    }

    /// `header.payload.signature` with both segments given already encoded
    /// (so they may be anything, e.g. padded or non-canonical), signed properly.
    pub(crate) fn sign_segments(&self, header: &str, payload: &str) -> String {
        let signing_input = format!("{header}.{payload}");
        let signature = b64(self.sign(signing_input.as_bytes()));
        format!("{signing_input}.{signature}")
    }

    /// A token with exactly these header and payload bytes, signed.
    pub(crate) fn token(&self, header: impl AsRef<[u8]>, payload: impl AsRef<[u8]>) -> String {
        self.sign_segments(&b64(header), &b64(payload))
    }

    /// A token with the header `{"alg":"<alg>","typ":"JWT"}` and this payload, signed.
    pub(crate) fn jwt(&self, payload: impl AsRef<[u8]>) -> String {
        self.token(self.header(), payload)
    }

    /// `{"alg":"<alg>","typ":"JWT"}`.
    pub(crate) fn header(&self) -> String {
        format!(r#"{{"alg":"{}","typ":"JWT"}}"#, self.alg())
    }

    /// `{"alg":"<alg>","typ":"JWT","kid":"<kid>"}`.
    pub(crate) fn header_with_kid(&self, kid: &str) -> String {
        format!(r#"{{"alg":"{}","typ":"JWT","kid":"{kid}"}}"#, self.alg())
    }
}

/// The ring signing algorithm (fixed `r ‖ s` form) of an ECDSA JOSE algorithm.
pub(crate) fn ecdsa_fixed(alg: Algorithm) -> &'static signature::EcdsaSigningAlgorithm {
    match alg {
        Algorithm::ES384 => &signature::ECDSA_P384_SHA384_FIXED_SIGNING,
        _ => &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
    }
}

/// Splits a compact token into its three segments.
pub(crate) fn segments(token: &str) -> [&str; 3] {
    let mut parts = token.split('.');
    let out = [parts.next(), parts.next(), parts.next()].map(|p| p.expect("three segments"));
    assert!(parts.next().is_none(), "exactly three segments");
    out
}
