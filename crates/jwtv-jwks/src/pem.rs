//! Public keys from PEM files: `BEGIN PUBLIC KEY` (SubjectPublicKeyInfo, for
//! RSA, P-256, P-384, P-521 with `aws-lc`, and Ed25519) and `BEGIN RSA PUBLIC KEY` (PKCS#1).

use core::fmt;

use base64ct::{Base64, Encoding as _};
use jwtv::{Algorithm, KeyError, KeyKind, VerifyingKey};

use crate::options::KeySetOptions;

/// Why a PEM file did not give a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PemError {
    /// No `-----BEGIN …-----` / `-----END …-----` block, or bad base64 inside.
    NotPem,
    /// The block holds a private key; a verifier takes public keys only
    /// (`openssl pkey -in key.pem -pubout` prints the public one).
    PrivateKey,
    /// The block's label is not `PUBLIC KEY` or `RSA PUBLIC KEY`.
    UnsupportedLabel,
    /// The DER inside is malformed or of a key type that does not fit the algorithm.
    WrongKeyType,
    /// The key itself was refused.
    Key(KeyError),
    /// An RSA key whose public exponent is not 65537, which only
    /// [`key_from_pem_with`] and options allowing it accept (see
    /// [`KeySetOptions::allow_any_rsa_exponent`]).
    RsaExponentNotAllowed(u64),
}

impl fmt::Display for PemError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotPem => f.write_str("not a PEM block"),
            Self::PrivateKey => f.write_str("a private key: give the public key (openssl pkey -pubout)"),
            Self::UnsupportedLabel => f.write_str("PEM label is not PUBLIC KEY or RSA PUBLIC KEY"),
            Self::WrongKeyType => f.write_str("the public key does not fit the algorithm"),
            Self::Key(e) => write!(f, "{e}"),
            Self::RsaExponentNotAllowed(e) => {
                write!(f, "RSA public exponent {e} is not allowed (only 65537 unless the policy allows others)")
            }
        }
    }
}

impl std::error::Error for PemError {}

const OID_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
const OID_EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
const OID_P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
const OID_P384: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x22];
#[cfg(feature = "aws-lc")]
const OID_P521: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x23];
const OID_ED25519: &[u8] = &[0x2b, 0x65, 0x70];

/// A verification key for `alg` from a PEM public key.
///
/// An RSA key must have the public exponent 65537
/// ([`PemError::RsaExponentNotAllowed`] otherwise); [`key_from_pem_with`]
/// takes options that allow others.
///
/// ```
/// use jwtv::Algorithm;
/// let pem = "-----BEGIN PUBLIC KEY-----\n\
///            MCowBQYDK2VwAyEAYPs9Vmzu9saQraBCqOf+qJIjQ2LPZs9imx0jbWLGE1w=\n\
///            -----END PUBLIC KEY-----\n";
/// let key = jwtv_jwks::key_from_pem(pem, Algorithm::EdDSA)?;
/// assert_eq!(key.algorithm(), Algorithm::EdDSA);
/// assert!(jwtv_jwks::key_from_pem(pem, Algorithm::ES256).is_err());
/// # Ok::<(), jwtv_jwks::PemError>(())
/// ```
pub fn key_from_pem(pem: &str, alg: Algorithm) -> Result<VerifyingKey, PemError> {
    key_from_pem_with(pem, alg, &KeySetOptions::default())
}

/// [`key_from_pem`] under `options`: of them, only
/// [`KeySetOptions::allow_any_rsa_exponent`] applies to a single key.
pub fn key_from_pem_with(pem: &str, alg: Algorithm, options: &KeySetOptions) -> Result<VerifyingKey, PemError> {
    let (label, der) = decode_pem(pem)?;
    let key = match label.as_str() {
        "RSA PUBLIC KEY" => VerifyingKey::rsa_from_der(alg, &der).map_err(PemError::Key),
        "PUBLIC KEY" => from_spki(&der, alg),
        l if l.contains("PRIVATE KEY") => Err(PemError::PrivateKey),
        _ => Err(PemError::UnsupportedLabel),
    }?;
    options.check_rsa_exponent(&key).map_err(PemError::RsaExponentNotAllowed)?;
    Ok(key)
}

/// The public JWK (RFC 7517, members `kty` and the key's own: `n`/`e`,
/// `crv`/`x`/`y` or `crv`/`x`, sorted by name; no `alg`, `kid` or `use`) of a PEM public key
/// of a type jwtv verifies: RSA, EC P-256 and P-384 (and P-521 with the
/// `aws-lc` feature; uncompressed points), Ed25519. For showing a PEM key as a JWKS key is shown (its RFC 7638
/// thumbprint), or for publishing it in a JWKS.
///
/// ```
/// let pem = "-----BEGIN PUBLIC KEY-----\n\
///            MCowBQYDK2VwAyEAYPs9Vmzu9saQraBCqOf+qJIjQ2LPZs9imx0jbWLGE1w=\n\
///            -----END PUBLIC KEY-----\n";
/// assert_eq!(
///     jwtv_jwks::jwk_from_pem(pem)?,
///     r#"{"crv":"Ed25519","kty":"OKP","x":"YPs9Vmzu9saQraBCqOf-qJIjQ2LPZs9imx0jbWLGE1w"}"#
/// );
/// # Ok::<(), jwtv_jwks::PemError>(())
/// ```
pub fn jwk_from_pem(pem: &str) -> Result<String, PemError> {
    let (label, der) = decode_pem(pem)?;
    let members: Vec<(&str, String)> = match label.as_str() {
        "RSA PUBLIC KEY" => rsa_members(&der)?,
        "PUBLIC KEY" => {
            let (spki, rest) = der_read(&der, 0x30)?;
            let (algorithm_id, after_id) = der_read(spki, 0x30)?;
            let (bits, after_bits) = der_read(after_id, 0x03)?;
            if !rest.is_empty() || !after_bits.is_empty() {
                return Err(PemError::NotPem);
            }
            let (oid, params) = der_read(algorithm_id, 0x06)?;
            let Some((0, key)) = bits.split_first() else { return Err(PemError::NotPem) };
            match oid {
                OID_RSA => rsa_members(key)?,
                OID_EC_PUBLIC_KEY => {
                    let (curve, _) = der_read(params, 0x06)?;
                    let (crv, len) = match curve {
                        OID_P256 => ("P-256", 32),
                        OID_P384 => ("P-384", 48),
                        #[cfg(feature = "aws-lc")]
                        OID_P521 => ("P-521", 66),
                        _ => return Err(PemError::WrongKeyType),
                    };
                    let point =
                        key.strip_prefix(&[0x04]).filter(|p| p.len() == 2 * len).ok_or(PemError::WrongKeyType)?;
                    let (x, y) = point.split_at(len);
                    vec![("kty", "EC".to_owned()), ("crv", crv.to_owned()), ("x", b64url(x)), ("y", b64url(y))]
                }
                OID_ED25519 if key.len() == 32 => {
                    vec![("kty", "OKP".to_owned()), ("crv", "Ed25519".to_owned()), ("x", b64url(key))]
                }
                _ => return Err(PemError::WrongKeyType),
            }
        }
        l if l.contains("PRIVATE KEY") => return Err(PemError::PrivateKey),
        _ => return Err(PemError::UnsupportedLabel),
    };
    let mut object = serde_json::Map::new();
    for (name, value) in members {
        object.insert(name.to_owned(), value.into());
    }
    Ok(serde_json::Value::Object(object).to_string())
}

/// `kty`, `n` and `e` of a PKCS#1 `RSAPublicKey`.
fn rsa_members(der: &[u8]) -> Result<Vec<(&'static str, String)>, PemError> {
    let (sequence, rest) = der_read(der, 0x30)?;
    let (n, after_n) = der_read(sequence, 0x02)?;
    let (e, after_e) = der_read(after_n, 0x02)?;
    if !rest.is_empty() || !after_e.is_empty() {
        return Err(PemError::NotPem);
    }
    let unsigned = |int: &[u8]| {
        let start = int.iter().position(|&b| b != 0).unwrap_or(int.len());
        b64url(int.get(start..).unwrap_or_default())
    };
    Ok(vec![("kty", "RSA".to_owned()), ("n", unsigned(n)), ("e", unsigned(e))])
}

fn b64url(bytes: &[u8]) -> String {
    base64ct::Base64UrlUnpadded::encode_string(bytes)
}

fn decode_pem(pem: &str) -> Result<(String, Vec<u8>), PemError> {
    let mut lines = pem.lines().map(str::trim).skip_while(|l| !l.starts_with("-----BEGIN "));
    let begin = lines.next().ok_or(PemError::NotPem)?;
    let label = begin.strip_prefix("-----BEGIN ").and_then(|l| l.strip_suffix("-----")).ok_or(PemError::NotPem)?;
    let end = format!("-----END {label}-----");
    let mut body = String::new();
    for line in lines.by_ref() {
        if line == end {
            let der = Base64::decode_vec(&body).map_err(|_| PemError::NotPem)?;
            return Ok((label.to_owned(), der));
        }
        body.push_str(line);
    }
    Err(PemError::NotPem)
}

fn from_spki(der: &[u8], alg: Algorithm) -> Result<VerifyingKey, PemError> {
    let (spki, rest) = der_read(der, 0x30)?;
    let (algorithm_id, after_id) = der_read(spki, 0x30)?;
    let (bits, after_bits) = der_read(after_id, 0x03)?;
    if !rest.is_empty() || !after_bits.is_empty() {
        return Err(PemError::NotPem);
    }
    let (oid, params) = der_read(algorithm_id, 0x06)?;
    let key_bits = match bits.split_first() {
        Some((0, key)) => key,
        _ => return Err(PemError::NotPem),
    };
    match (alg.key_kind(), oid) {
        (KeyKind::Rsa, OID_RSA) => VerifyingKey::rsa_from_der(alg, der).map_err(PemError::Key),
        (KeyKind::Ec, OID_EC_PUBLIC_KEY) => {
            let (curve, _) = der_read(params, 0x06)?;
            match (alg, curve) {
                (Algorithm::ES256, OID_P256) | (Algorithm::ES384, OID_P384) => {
                    VerifyingKey::ecdsa_from_sec1(alg, key_bits).map_err(PemError::Key)
                }
                #[cfg(feature = "aws-lc")]
                (Algorithm::ES512, OID_P521) => VerifyingKey::ecdsa_from_sec1(alg, key_bits).map_err(PemError::Key),
                _ => Err(PemError::WrongKeyType),
            }
        }
        (KeyKind::Okp, OID_ED25519) => VerifyingKey::ed25519(key_bits).map_err(PemError::Key),
        _ => Err(PemError::WrongKeyType),
    }
}

/// Reads one DER element with `tag`: its contents and what follows.
fn der_read(input: &[u8], tag: u8) -> Result<(&[u8], &[u8]), PemError> {
    const BAD: PemError = PemError::NotPem;
    let (&found, rest) = input.split_first().ok_or(BAD)?;
    if found != tag {
        return Err(BAD);
    }
    let (&first, rest) = rest.split_first().ok_or(BAD)?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 3 {
            return Err(BAD);
        }
        let (len_bytes, rest) = rest.split_at_checked(count).ok_or(BAD)?;
        let len = len_bytes.iter().fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
        if len_bytes.first() == Some(&0) || len < 0x80 {
            return Err(BAD); // not the minimal (DER) encoding
        }
        (len, rest)
    };
    rest.split_at_checked(len).ok_or(BAD)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ED25519_PUBLIC: &str = "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAYPs9Vmzu9saQraBCqOf+qJIjQ2LPZs9imx0jbWLGE1w=\n-----END PUBLIC KEY-----\n";

    #[test]
    fn refuses_what_is_not_a_public_key() {
        assert_eq!(key_from_pem("hello", Algorithm::EdDSA).err(), Some(PemError::NotPem));
        let private = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIC1W1IuQ3DCjD9xMaoDOkXuLNogE0J9xk5NzXZW3nJLY\n-----END PRIVATE KEY-----\n";
        assert_eq!(key_from_pem(private, Algorithm::EdDSA).err(), Some(PemError::PrivateKey));
        let cert = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        assert_eq!(key_from_pem(cert, Algorithm::EdDSA).err(), Some(PemError::UnsupportedLabel));
        let truncated = ED25519_PUBLIC.replace("-----END PUBLIC KEY-----\n", "");
        assert_eq!(key_from_pem(&truncated, Algorithm::EdDSA).err(), Some(PemError::NotPem));
    }

    #[test]
    fn key_type_must_fit_the_algorithm() {
        assert!(key_from_pem(ED25519_PUBLIC, Algorithm::EdDSA).is_ok());
        assert_eq!(key_from_pem(ED25519_PUBLIC, Algorithm::RS256).err(), Some(PemError::WrongKeyType));
        assert_eq!(key_from_pem(ED25519_PUBLIC, Algorithm::HS256).err(), Some(PemError::WrongKeyType));
    }

    /// A PKCS#1 `RSA PUBLIC KEY` with a 2048-bit modulus and exponent `e`.
    fn rsa_pem(e: &[u8]) -> String {
        let mut body = vec![0x02, 0x82, 0x01, 0x01, 0x00];
        body.extend([0xc5; 256]);
        body.extend([0x02, u8::try_from(e.len()).unwrap()]);
        body.extend(e);
        let mut der = vec![0x30, 0x82];
        der.extend(u16::try_from(body.len()).unwrap().to_be_bytes());
        der.extend(body);
        format!("-----BEGIN RSA PUBLIC KEY-----\n{}\n-----END RSA PUBLIC KEY-----\n", Base64::encode_string(&der))
    }

    #[test]
    fn rsa_exponents_other_than_65537_need_options_allowing_them() {
        let f4 = key_from_pem(&rsa_pem(&[1, 0, 1]), Algorithm::RS256).unwrap();
        assert_eq!(f4.rsa_public_exponent(), Some(65_537));
        let e3 = rsa_pem(&[3]);
        let refused = key_from_pem(&e3, Algorithm::RS256).unwrap_err();
        assert_eq!(refused, PemError::RsaExponentNotAllowed(3));
        assert!(refused.to_string().contains("exponent 3 "), "{refused}");
        let allowing = KeySetOptions::default().allowing_any_rsa_exponent();
        let key = key_from_pem_with(&e3, Algorithm::PS256, &allowing).unwrap();
        assert_eq!((key.algorithm(), key.rsa_public_exponent()), (Algorithm::PS256, Some(3)));
        let e33 = rsa_pem(&[1, 0xff, 0xff, 0xff, 0xff]);
        assert_eq!(key_from_pem(&e33, Algorithm::RS256).err(), Some(PemError::RsaExponentNotAllowed(8_589_934_591)));
        assert!(key_from_pem_with(&e33, Algorithm::RS256, &allowing).is_ok());
        // Not an exponent ring takes, allowed or not.
        let even = rsa_pem(&[1, 0, 0]);
        assert_eq!(key_from_pem_with(&even, Algorithm::RS256, &allowing).err(), Some(PemError::Key(KeyError::Invalid)));
    }

    #[test]
    fn a_pem_key_reads_as_the_jwk_that_verifies_the_same() {
        for (pem_file, alg) in [
            ("test-es256.pub.pem", Algorithm::ES256),
            ("test-rs256.pub.pem", Algorithm::RS256),
            ("test-eddsa.pub.pem", Algorithm::EdDSA),
        ] {
            let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/keys").join(pem_file);
            let pem = std::fs::read_to_string(path).unwrap();
            let jwk = jwk_from_pem(&pem).unwrap();
            let set = crate::KeySet::parse(
                format!(r#"{{"keys":[{jwk}]}}"#).as_bytes(),
                &KeySetOptions::for_algorithms(jwtv::AlgorithmSet::of(&[alg])),
            )
            .unwrap();
            assert_eq!(set.len(), 1, "{pem_file}: {jwk}");
            let from_pem = key_from_pem(&pem, alg).unwrap();
            assert_eq!(set.keys()[0].algorithm(), from_pem.algorithm(), "{pem_file}");
        }
        assert!(jwk_from_pem(&rsa_pem(&[1, 0, 1])).unwrap().contains(r#""e":"AQAB""#));
        let private = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIC1W1IuQ3DCjD9xMaoDOkXuLNogE0J9xk5NzXZW3nJLY\n-----END PRIVATE KEY-----\n";
        assert_eq!(jwk_from_pem(private).err(), Some(PemError::PrivateKey));
        assert_eq!(jwk_from_pem("hello").err(), Some(PemError::NotPem));
    }

    #[test]
    fn der_lengths_are_checked() {
        assert_eq!(der_read(&[0x30, 0x01, 0xaa, 0xbb], 0x30), Ok((&[0xaa][..], &[0xbb][..])));
        let bad = Err(PemError::NotPem);
        assert_eq!(der_read(&[0x30, 0x02, 0xaa], 0x30), bad, "short");
        assert_eq!(der_read(&[0x30, 0x81, 0x01, 0xaa], 0x30), bad, "long form for a short length");
        assert_eq!(der_read(&[0x30, 0x82, 0x00, 0x01, 0xaa], 0x30), bad, "non-minimal length");
        assert_eq!(der_read(&[0x30, 0x80], 0x30), bad, "indefinite length");
        assert_eq!(der_read(&[0x31, 0x00], 0x30), bad, "wrong tag");
    }
}
