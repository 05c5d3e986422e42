//! Fixtures shared by the benchmarks in `benches/benches/`.
//!
//! One realistic access token per algorithm, signed at start-up with ring:
//! the same 14 claims for every algorithm (three audiences, two arrays, times
//! far in the future), a header with `kid` and `typ`. Each [`Fixture`] holds
//! the token and the same public key prepared three ways: as a
//! [`jwtv::VerifyingKey`], as the bare ring key the floor benchmarks use, and
//! as a [`jsonwebtoken::DecodingKey`].
//!
//! The RSA key is a checked-in 2048-bit TEST key (`fixtures/rsa2048-test-key.pk8`);
//! the EC and Ed25519 keys are generated at start-up. None of them protect anything.

use base64ct::{Base64UrlUnpadded, Encoding as _};
use ring::rand::SystemRandom;
use ring::signature::{self as sig, KeyPair as _};

/// The issuer every fixture names and every verifier requires.
pub const ISSUER: &str = "https://login.example.com/8f2c6a1e-4b7d/v2.0";
/// The audience the verifiers require (the second of the token's three).
pub const AUDIENCE: &str = "https://api.example.com";
/// The verification time, in Unix seconds: after `nbf`/`iat`, long before `exp`.
pub const NOW: u64 = 1_700_000_100;

/// The claims of every fixture token (compact JSON, 14 members).
pub const CLAIMS_JSON: &str = concat!(
    r#"{"iss":"https://login.example.com/8f2c6a1e-4b7d/v2.0","#,
    r#""sub":"user-7c1e2f9a-3b4d-4e5f-8a6b-9c0d1e2f3a4b","#,
    r#""aud":["api://orders","https://api.example.com","account"],"#,
    r#""exp":4102444800,"nbf":1700000000,"iat":1700000000,"#,
    r#""jti":"0f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a","#,
    r#""scope":"openid profile email orders:read orders:write","#,
    r#""azp":"web-frontend","tenant":"acme-eu-west","#,
    r#""email":"jane.doe@acme.example.com","roles":["reader","writer","billing-admin"],"#,
    r#""name":"Jane Doe","sid":"sess-5e4d3c2b-1a0f-4e9d-8c7b-6a5f4e3d2c1b"}"#,
);

/// The 2048-bit RSA TEST key (PKCS#8 DER) that signs the RS256 and PS256 fixtures.
pub const RSA_TEST_KEY_PKCS8: &[u8] = include_bytes!("../fixtures/rsa2048-test-key.pk8");

/// The HMAC secret of the HS256 fixture (a test value, 32 bytes).
pub const HMAC_TEST_SECRET: &[u8; 32] = b"bench-test-secret-not-a-real-key";

/// The algorithms benchmarked, in table order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Alg {
    /// HMAC-SHA-256.
    Hs256,
    /// RSASSA-PKCS1-v1_5 with SHA-256, 2048-bit key.
    Rs256,
    /// RSASSA-PSS with SHA-256, 2048-bit key.
    Ps256,
    /// ECDSA P-256.
    Es256,
    /// ECDSA P-384.
    Es384,
    /// Ed25519.
    EdDsa,
}

impl Alg {
    /// Every benchmarked algorithm.
    pub const ALL: [Self; 6] = [Self::Hs256, Self::Rs256, Self::Ps256, Self::Es256, Self::Es384, Self::EdDsa];

    /// The lower-case name used in benchmark ids (`verify/es256`).
    pub const fn id(self) -> &'static str {
        match self {
            Self::Hs256 => "hs256",
            Self::Rs256 => "rs256",
            Self::Ps256 => "ps256",
            Self::Es256 => "es256",
            Self::Es384 => "es384",
            Self::EdDsa => "eddsa",
        }
    }

    /// The JOSE name.
    pub const fn jose(self) -> jwtv::Algorithm {
        match self {
            Self::Hs256 => jwtv::Algorithm::HS256,
            Self::Rs256 => jwtv::Algorithm::RS256,
            Self::Ps256 => jwtv::Algorithm::PS256,
            Self::Es256 => jwtv::Algorithm::ES256,
            Self::Es384 => jwtv::Algorithm::ES384,
            Self::EdDsa => jwtv::Algorithm::EdDSA,
        }
    }

    /// The same algorithm in `jsonwebtoken`.
    pub const fn jsonwebtoken(self) -> jsonwebtoken::Algorithm {
        match self {
            Self::Hs256 => jsonwebtoken::Algorithm::HS256,
            Self::Rs256 => jsonwebtoken::Algorithm::RS256,
            Self::Ps256 => jsonwebtoken::Algorithm::PS256,
            Self::Es256 => jsonwebtoken::Algorithm::ES256,
            Self::Es384 => jsonwebtoken::Algorithm::ES384,
            Self::EdDsa => jsonwebtoken::Algorithm::EdDSA,
        }
    }
}

/// The bare ring key of the floor benchmarks, prepared once.
///
/// RSA is held exactly as jwtv holds it (`RsaPublicKeyComponents<Vec<u8>>`), so
/// the floor pays the same per-call key parsing inside ring as jwtv does.
#[derive(Debug)]
pub enum FloorKey {
    /// An HMAC key.
    Hmac(ring::hmac::Key),
    /// An EC or Ed25519 public key.
    Public(sig::UnparsedPublicKey<Vec<u8>>),
    /// An RSA public key and its verification parameters.
    Rsa(sig::RsaPublicKeyComponents<Vec<u8>>, &'static sig::RsaParameters),
}

impl FloorKey {
    /// Verifies `signature` over `message` with ring, nothing else.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        match self {
            Self::Hmac(key) => ring::hmac::verify(key, message, signature).is_ok(),
            Self::Public(key) => key.verify(message, signature).is_ok(),
            Self::Rsa(key, params) => key.verify(params, message, signature).is_ok(),
        }
    }
}

/// The claims `jsonwebtoken` deserializes into (owned, as its `decode` requires).
#[derive(Debug, serde::Deserialize)]
#[expect(dead_code, reason = "read only through Debug; the fields exist to be deserialized")]
pub struct JwtClaims {
    iss: String,
    sub: String,
    aud: Vec<String>,
    exp: u64,
    nbf: u64,
    iat: u64,
    jti: String,
    scope: String,
    azp: String,
    tenant: String,
    email: String,
    roles: Vec<String>,
    name: String,
    sid: String,
}

/// One algorithm's token and its key in every form the benchmarks need.
#[derive(Debug)]
pub struct Fixture {
    /// The algorithm.
    pub alg: Alg,
    /// The compact token.
    pub token: String,
    /// The key for jwtv, with the token's `kid`.
    pub key: jwtv::VerifyingKey,
    /// The key for the ring floor.
    pub floor: FloorKey,
    /// The key for `jsonwebtoken`.
    pub jwt_key: jsonwebtoken::DecodingKey,
    /// The `jsonwebtoken` validation equivalent to [`policy`].
    pub jwt_validation: jsonwebtoken::Validation,
}

impl Fixture {
    /// Signs the fixture token for `alg` and prepares its keys.
    ///
    /// # Panics
    ///
    /// When ring cannot generate or use a key (never with the checked-in key).
    pub fn new(alg: Alg) -> Self {
        let rng = SystemRandom::new();
        let kid = format!("bench-{}", alg.id());
        let header = format!(r#"{{"alg":"{}","kid":"{kid}","typ":"JWT"}}"#, alg.jose().name());
        let signing_input =
            format!("{}.{}", Base64UrlUnpadded::encode_string(header.as_bytes()), b64(CLAIMS_JSON.as_bytes()));
        let message = signing_input.as_bytes();

        let (signature, key, floor, jwt_key) = match alg {
            Alg::Hs256 => {
                let ring_key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, HMAC_TEST_SECRET);
                let tag = ring::hmac::sign(&ring_key, message).as_ref().to_vec();
                let key = jwtv::VerifyingKey::hs256(HMAC_TEST_SECRET).expect("valid HMAC key");
                (tag, key, FloorKey::Hmac(ring_key), jsonwebtoken::DecodingKey::from_secret(HMAC_TEST_SECRET))
            }
            Alg::Rs256 | Alg::Ps256 => {
                let pair = sig::RsaKeyPair::from_pkcs8(RSA_TEST_KEY_PKCS8).expect("valid RSA test key");
                let (encoding, params): (&'static dyn sig::RsaEncoding, _) = if alg == Alg::Rs256 {
                    (&sig::RSA_PKCS1_SHA256, &sig::RSA_PKCS1_2048_8192_SHA256)
                } else {
                    (&sig::RSA_PSS_SHA256, &sig::RSA_PSS_2048_8192_SHA256)
                };
                let mut signature = vec![0; pair.public().modulus_len()];
                pair.sign(encoding, &rng, message, &mut signature).expect("RSA signing");
                let public = sig::RsaPublicKeyComponents::<Vec<u8>>::from(pair.public());
                let key =
                    jwtv::VerifyingKey::rsa_from_components(alg.jose(), &public.n, &public.e).expect("valid RSA key");
                let jwt_key = jsonwebtoken::DecodingKey::from_rsa_components(&b64(&public.n), &b64(&public.e))
                    .expect("valid RSA components");
                (signature, key, FloorKey::Rsa(public, params), jwt_key)
            }
            Alg::Es256 | Alg::Es384 => {
                let (signing, verifying) = if alg == Alg::Es256 {
                    (&sig::ECDSA_P256_SHA256_FIXED_SIGNING, &sig::ECDSA_P256_SHA256_FIXED)
                } else {
                    (&sig::ECDSA_P384_SHA384_FIXED_SIGNING, &sig::ECDSA_P384_SHA384_FIXED)
                };
                let pkcs8 = sig::EcdsaKeyPair::generate_pkcs8(signing, &rng).expect("EC key generation");
                let pair = sig::EcdsaKeyPair::from_pkcs8(signing, pkcs8.as_ref(), &rng).expect("EC key");
                let signature = pair.sign(&rng, message).expect("ECDSA signing").as_ref().to_vec();
                let point = pair.public_key().as_ref().to_vec();
                let key = jwtv::VerifyingKey::ecdsa_from_sec1(alg.jose(), &point).expect("valid EC point");
                let (x, y) = point.get(1..).expect("uncompressed point").split_at((point.len() - 1) / 2);
                let jwt_key =
                    jsonwebtoken::DecodingKey::from_ec_components(&b64(x), &b64(y)).expect("valid EC components");
                (signature, key, FloorKey::Public(sig::UnparsedPublicKey::new(verifying, point)), jwt_key)
            }
            Alg::EdDsa => {
                let pkcs8 = sig::Ed25519KeyPair::generate_pkcs8(&rng).expect("Ed25519 key generation");
                let pair = sig::Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).expect("Ed25519 key");
                let signature = pair.sign(message).as_ref().to_vec();
                let public = pair.public_key().as_ref().to_vec();
                let key = jwtv::VerifyingKey::ed25519(&public).expect("valid Ed25519 key");
                let jwt_key = jsonwebtoken::DecodingKey::from_ed_components(&b64(&public)).expect("valid Ed25519 key");
                (signature, key, FloorKey::Public(sig::UnparsedPublicKey::new(&sig::ED25519, public)), jwt_key)
            }
        };

        let token = format!("{signing_input}.{}", b64(&signature));
        let key = key.with_kid(&kid).expect("short kid");
        Self { alg, token, key, floor, jwt_key, jwt_validation: jwt_validation(alg) }
    }

    /// Every fixture, in [`Alg::ALL`] order.
    pub fn all() -> Vec<Self> {
        Alg::ALL.into_iter().map(Self::new).collect()
    }

    /// The three segments: (`header.payload` signing input, payload, signature).
    pub fn segments(&self) -> (&str, &str, &str) {
        let (signing_input, signature) = self.token.rsplit_once('.').expect("three segments");
        let (_, payload) = signing_input.split_once('.').expect("three segments");
        (signing_input, payload, signature)
    }

    /// A one-key verifier under [`policy`].
    pub fn verifier(&self) -> jwtv::Verifier<'_> {
        jwtv::Verifier::new(core::slice::from_ref(&self.key), policy())
    }

    /// Verifies with jwtv; `true` on success.
    pub fn verify_jwtv(&self, verifier: &jwtv::Verifier<'_>, buf: &mut [u8]) -> bool {
        verifier.verify(&self.token, NOW, buf).is_ok()
    }

    /// The gateway's server verifier over this fixture's key, under the same
    /// rules as [`policy`], with a token cache of `cache` entries (0: none).
    pub fn server_verifier(&self, cache: usize) -> jwtv_gateway::Verifier {
        let keys = jwtv_jwks::KeySet::from_keys(vec![self.key.clone()]);
        let rules =
            jwtv_gateway::Policy::new(jwtv::AlgorithmSet::of(&[self.alg.jose()])).issuer(ISSUER).audience(AUDIENCE);
        let source = jwtv_jwks::KeySource::fixed(keys);
        jwtv_gateway::Verifier::new(source, rules).expect("bench rules").with_token_cache(cache)
    }

    /// The interleaved runner's floor: table-decode the signature, check it
    /// with the key jwtv holds (on the backend jwtv is built with), decode
    /// the payload. `true` on success.
    pub fn verify_floor(&self) -> bool {
        let (signing_input, payload, signature) = self.segments();
        let (mut sig, mut body) = ([0u8; 1024], [0u8; 1024]);
        let Some(sig) = table::decode(core::hint::black_box(signature).as_bytes(), &mut sig) else { return false };
        self.key.verify_signature(signing_input.as_bytes(), sig).is_ok()
            && table::decode(payload.as_bytes(), &mut body).is_some_and(|p| core::hint::black_box(p).len() > 2)
    }

    /// Decodes and validates with `jsonwebtoken` into [`JwtClaims`].
    pub fn verify_jsonwebtoken(&self) -> jsonwebtoken::errors::Result<jsonwebtoken::TokenData<JwtClaims>> {
        jsonwebtoken::decode::<JwtClaims>(&self.token, &self.jwt_key, &self.jwt_validation)
    }
}

/// The jwtv policy of every benchmark: the fixture's issuer and one audience;
/// `exp` is required by default (`nbf` and `iat` are checked when present, as here).
pub const fn policy() -> jwtv::Policy<'static> {
    jwtv::Policy::new().issuer(ISSUER).audience(AUDIENCE)
}

/// The `jsonwebtoken` validation matching [`policy`]: the one algorithm, `iss`,
/// `aud` and `exp` required and checked, `nbf` checked.
pub fn jwt_validation(alg: Alg) -> jsonwebtoken::Validation {
    let mut validation = jsonwebtoken::Validation::new(alg.jsonwebtoken());
    validation.set_issuer(&[ISSUER]);
    validation.set_audience(&[AUDIENCE]);
    validation.set_required_spec_claims(&["exp", "iss", "aud"]);
    validation.validate_nbf = true;
    validation
}

fn b64(bytes: &[u8]) -> String {
    Base64UrlUnpadded::encode_string(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_fixture_verifies_with_every_verifier() {
        let mut buf = [0u8; jwtv::DEFAULT_BUFFER_LEN];
        for fixture in Fixture::all() {
            let verifier = fixture.verifier();
            assert!(fixture.verify_jwtv(&verifier, &mut buf), "jwtv {:?}", fixture.alg);
            assert!(fixture.verify_jsonwebtoken().is_ok(), "jsonwebtoken {:?}", fixture.alg);
            let (signing_input, _, signature) = fixture.segments();
            let signature = Base64UrlUnpadded::decode_vec(signature).unwrap();
            assert!(fixture.floor.verify(signing_input.as_bytes(), &signature), "ring {:?}", fixture.alg);
            assert!(!fixture.floor.verify(b"tampered", &signature), "ring {:?}", fixture.alg);
        }
    }

    #[test]
    fn tokens_are_realistic_sizes() {
        for fixture in Fixture::all() {
            assert!((700..=1100).contains(&fixture.token.len()), "{:?}: {}", fixture.alg, fixture.token.len());
        }
    }
}

/// A plain, strict, table-driven base64url decoder: the obvious implementation,
/// as a floor for jwtv's own. Rejects padding, foreign bytes, a length of 1
/// mod 4 and non-zero trailing bits.
pub mod table {
    const INVALID: u8 = 0xFF;

    #[expect(clippy::as_conversions, reason = "const context: `usize::from` is not const")]
    static TABLE: [u8; 256] = {
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let mut table = [INVALID; 256];
        let mut i = 0u8;
        while i < 64 {
            table[alphabet[i as usize] as usize] = i;
            i += 1;
        }
        table
    };

    fn sextets<const N: usize>(chars: &[u8]) -> Option<[u32; N]> {
        let mut out = [0u32; N];
        for (o, c) in out.iter_mut().zip(chars) {
            let v = TABLE[usize::from(*c)];
            if v == INVALID {
                return None;
            }
            *o = u32::from(v);
        }
        Some(out)
    }

    pub fn decode<'o>(src: &[u8], out: &'o mut [u8]) -> Option<&'o [u8]> {
        let rem = src.len() % 4;
        if rem == 1 {
            return None;
        }
        let len = src.len() / 4 * 3 + rem.saturating_sub(1);
        let out = out.get_mut(..len)?;
        let mut quads = src.chunks_exact(4);
        let mut triples = out.chunks_exact_mut(3);
        for (quad, triple) in (&mut quads).zip(&mut triples) {
            let [a, b, c, d] = sextets::<4>(quad)?;
            let n = a << 18 | b << 12 | c << 6 | d;
            triple.copy_from_slice(&n.to_be_bytes()[1..]);
        }
        let tail = quads.remainder();
        let last = triples.into_remainder();
        match tail.len() {
            2 => {
                let [a, b] = sextets::<2>(tail)?;
                if b & 0x0F != 0 {
                    return None;
                }
                last.copy_from_slice(&(a << 18 | b << 12).to_be_bytes()[1..2]);
            }
            3 => {
                let [a, b, c] = sextets::<3>(tail)?;
                if c & 0x03 != 0 {
                    return None;
                }
                last.copy_from_slice(&(a << 18 | b << 12 | c << 6).to_be_bytes()[1..3]);
            }
            _ => {}
        }
        Some(out)
    }

    /// Panics unless this decoder agrees with `reference` (base64ct) on edge cases and on `extra`.
    pub fn self_check<'a>(
        extra: impl IntoIterator<Item = &'a str>,
        reference: impl for<'o> Fn(&[u8], &'o mut [u8]) -> Option<&'o [u8]>,
    ) {
        let edge =
            ["", "Zg", "Zm8", "Zm9v", "Zm9vYg", "Zm9vYmE", "-_-_", "Zg==", "Zh", "Zm9", "Z", "Zm+v", "Zm 9", "Zm9/"];
        for input in edge.into_iter().chain(extra) {
            let (mut a, mut b) = ([0u8; 1024], [0u8; 1024]);
            let ours = decode(input.as_bytes(), &mut a).map(<[u8]>::to_vec);
            let theirs = reference(input.as_bytes(), &mut b).map(<[u8]>::to_vec);
            assert_eq!(ours, theirs, "{input:?}");
        }
    }
}
