//! `jwtv sign`: a TESTING AID that mints tokens with test keys, for staging
//! and for testing authentication flows. Production tokens come from your
//! identity provider, never from this command.

use core::fmt::Write as _;

use base64ct::{Base64, Base64UrlUnpadded, Encoding as _};
use clap::Args;
use jwtv::{Algorithm, KeyKind};
use ring::rand::SystemRandom;
use ring::signature::{self as sig, EcdsaKeyPair, Ed25519KeyPair, RsaKeyPair};
use serde_json::{Map, Value};

use crate::human::quote;
use crate::input::read_file;
use crate::setup::parse_alg;
use crate::{CliError, EXIT_OK, Outcome};

#[derive(Debug, Args)]
#[command(long_about = "TESTING AID: mint a signed token with a test key, for staging and for testing \
                  authentication flows. Real tokens come from your identity provider.\n\n\
                  The key is a PKCS#8 private key in PEM (`BEGIN PRIVATE KEY`; `BEGIN RSA PRIVATE KEY` \
                  for RSA), a private JWK (or a JWKS with one key, or the one named by --kid), or, \
                  for HS256/384/512, a file holding the shared secret (one trailing newline dropped).\n\n\
                  The token is printed on stdout. `iat` is --now and `exp` is --now + --ttl unless \
                  --claims sets them.")]
pub(crate) struct SignArgs {
    /// The private key: a PEM file, a JWK/JWKS file, or an HMAC secret file.
    #[arg(long, value_name = "PEM|JWK")]
    key: String,
    /// The algorithm to sign with.
    #[arg(long, value_name = "ALG", value_parser = parse_alg)]
    alg: Algorithm,
    /// The header's kid (default: the JWK's kid, if any).
    #[arg(long)]
    kid: Option<String>,
    /// Claims as a JSON object (or @FILE); the flags below override its members.
    #[arg(long, value_name = "JSON")]
    claims: Option<String>,
    /// The iss claim.
    #[arg(long)]
    iss: Option<String>,
    /// The sub claim.
    #[arg(long)]
    sub: Option<String>,
    /// An aud value (repeatable; several make an array).
    #[arg(long)]
    aud: Vec<String>,
    /// Lifetime: exp = now + ttl (`90s`, `15m`, `1h`, `7d`, or seconds).
    #[arg(long, value_name = "TTL", default_value = "15m", value_parser = parse_ttl)]
    ttl: u64,
    /// The issue time in Unix seconds or as an RFC 3339
    /// time (`2026-01-01T00:00:00Z`); default: the system clock.
    #[arg(long, value_name = "TIME", value_parser = crate::human::parse_time)]
    now: Option<u64>,
    /// The header's typ.
    #[arg(long, default_value = "JWT")]
    typ: String,
}

/// Parses `90s`, `15m`, `1h`, `7d` or plain seconds.
pub(crate) fn parse_ttl(text: &str) -> Result<u64, String> {
    let (digits, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(at) => text.split_at(at),
        None => (text, "s"),
    };
    let n: u64 = digits.parse().map_err(|_| format!("`{text}` is not a duration like 90s, 15m, 1h or 7d"))?;
    let scale = match unit {
        "s" => 1,
        "m" | "min" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("unknown unit in `{text}` (s, m, h or d)")),
    };
    n.checked_mul(scale).ok_or_else(|| format!("`{text}` is too long"))
}

enum Signer {
    Hmac(ring::hmac::Key),
    Ecdsa(EcdsaKeyPair),
    Ed25519(Ed25519KeyPair),
    Rsa(RsaKeyPair, &'static dyn sig::RsaEncoding),
}

fn ecdsa_alg(alg: Algorithm) -> &'static sig::EcdsaSigningAlgorithm {
    if alg == Algorithm::ES384 { &sig::ECDSA_P384_SHA384_FIXED_SIGNING } else { &sig::ECDSA_P256_SHA256_FIXED_SIGNING }
}

fn rsa_padding(alg: Algorithm) -> &'static dyn sig::RsaEncoding {
    match alg {
        Algorithm::RS384 => &sig::RSA_PKCS1_SHA384,
        Algorithm::RS512 => &sig::RSA_PKCS1_SHA512,
        Algorithm::PS256 => &sig::RSA_PSS_SHA256,
        Algorithm::PS384 => &sig::RSA_PSS_SHA384,
        Algorithm::PS512 => &sig::RSA_PSS_SHA512,
        _ => &sig::RSA_PKCS1_SHA256,
    }
}

fn hmac(alg: Algorithm, secret: &[u8]) -> Result<Signer, CliError> {
    let (hash, min) = match alg {
        Algorithm::HS384 => (ring::hmac::HMAC_SHA384, 48),
        Algorithm::HS512 => (ring::hmac::HMAC_SHA512, 64),
        _ => (ring::hmac::HMAC_SHA256, 32),
    };
    if secret.len() < min {
        return Err(CliError::new(format!(
            "the secret has {} bytes; {alg} needs at least {min} (verifiers refuse shorter ones)",
            secret.len()
        )));
    }
    Ok(Signer::Hmac(ring::hmac::Key::new(hash, secret)))
}

fn rejected(alg: Algorithm, e: impl core::fmt::Display) -> CliError {
    CliError::new(format!("the key does not fit {alg}: {e}"))
}

/// A signer from PKCS#8 (or PKCS#1 for RSA) DER.
fn from_der(alg: Algorithm, der: &[u8], pkcs1: bool, rng: &SystemRandom) -> Result<Signer, CliError> {
    match alg.key_kind() {
        KeyKind::Ec if alg.name() == "ES512" => {
            Err(CliError::new("jwtv sign makes no ES512 tokens: it signs with ring, which has no P-521"))
        }
        KeyKind::Ec => {
            EcdsaKeyPair::from_pkcs8(ecdsa_alg(alg), der, rng).map(Signer::Ecdsa).map_err(|e| rejected(alg, e))
        }
        KeyKind::Okp => {
            Ed25519KeyPair::from_pkcs8_maybe_unchecked(der).map(Signer::Ed25519).map_err(|e| rejected(alg, e))
        }
        KeyKind::Rsa => {
            let pair = if pkcs1 { RsaKeyPair::from_der(der) } else { RsaKeyPair::from_pkcs8(der) };
            pair.map(|k| Signer::Rsa(k, rsa_padding(alg))).map_err(|e| rejected(alg, e))
        }
        KeyKind::Hmac => Err(CliError::new(format!("{alg} signs with a shared secret, not a PEM key"))),
    }
}

fn from_pem(alg: Algorithm, pem: &str, rng: &SystemRandom) -> Result<Signer, CliError> {
    let begin = pem.find("-----BEGIN ").ok_or_else(|| CliError::new("not a PEM file"))?;
    let rest = pem.get(begin + 11..).unwrap_or_default();
    let label_end = rest.find("-----").ok_or_else(|| CliError::new("not a PEM file"))?;
    let label = rest.get(..label_end).unwrap_or_default();
    let end_marker = format!("-----END {label}-----");
    let body_start = label_end + 5;
    let body_end = rest.find(&end_marker).ok_or_else(|| CliError::new(format!("PEM without {end_marker}")))?;
    let body: String = rest.get(body_start..body_end).unwrap_or_default().split_whitespace().collect();
    let der = Base64::decode_vec(&body).map_err(|_| CliError::new("the PEM body is not base64"))?;
    match label {
        "PRIVATE KEY" => from_der(alg, &der, false, rng),
        "RSA PRIVATE KEY" => from_der(alg, &der, true, rng),
        "EC PRIVATE KEY" => Err(CliError::new(
            "a SEC1 EC key: convert it to PKCS#8 with `openssl pkcs8 -topk8 -nocrypt -in KEY -out KEY.p8.pem`",
        )),
        "PUBLIC KEY" | "RSA PUBLIC KEY" => Err(CliError::new("a public key cannot sign: give the private key")),
        "ENCRYPTED PRIVATE KEY" => Err(CliError::new("an encrypted private key: decrypt it to PKCS#8 first")),
        other => Err(CliError::new(format!("unsupported PEM label {}", quote(other)))),
    }
}

fn member(jwk: &Value, name: &str) -> Result<Vec<u8>, CliError> {
    let text = jwk
        .get(name)
        .and_then(Value::as_str)
        .ok_or_else(|| CliError::new(format!("the JWK has no {}", quote(name))))?;
    Base64UrlUnpadded::decode_vec(text)
        .map_err(|_| CliError::new(format!("the JWK member {} is not base64url", quote(name))))
}

fn from_jwk(alg: Algorithm, jwk: &Value, rng: &SystemRandom) -> Result<Signer, CliError> {
    let kty = jwk.get("kty").and_then(Value::as_str).unwrap_or_default();
    match (alg.key_kind(), kty) {
        (KeyKind::Hmac, "oct") => hmac(alg, &member(jwk, "k")?),
        (KeyKind::Ec, "EC") => {
            let mut point = vec![4u8];
            point.extend(member(jwk, "x")?);
            point.extend(member(jwk, "y")?);
            EcdsaKeyPair::from_private_key_and_public_key(ecdsa_alg(alg), &member(jwk, "d")?, &point, rng)
                .map(Signer::Ecdsa)
                .map_err(|e| rejected(alg, e))
        }
        (KeyKind::Okp, "OKP") => Ed25519KeyPair::from_seed_and_public_key(&member(jwk, "d")?, &member(jwk, "x")?)
            .map(Signer::Ed25519)
            .map_err(|e| rejected(alg, e)),
        (KeyKind::Rsa, "RSA") => {
            let components = ring::rsa::KeyPairComponents {
                public_key: ring::rsa::PublicKeyComponents { n: member(jwk, "n")?, e: member(jwk, "e")? },
                d: member(jwk, "d")?,
                p: member(jwk, "p")?,
                q: member(jwk, "q")?,
                dP: member(jwk, "dp")?,
                dQ: member(jwk, "dq")?,
                qInv: member(jwk, "qi")?,
            };
            RsaKeyPair::from_components(&components)
                .map(|k| Signer::Rsa(k, rsa_padding(alg)))
                .map_err(|e| rejected(alg, e))
        }
        _ => Err(CliError::new(format!("a JWK with kty {} cannot sign {alg}", quote(kty)))),
    }
}

/// The signer and the kid the key file names (a JWK's `kid`).
fn load_key(args: &SignArgs, rng: &SystemRandom) -> Result<(Signer, Option<String>), CliError> {
    let bytes = read_file(&args.key)?;
    let text = std::str::from_utf8(&bytes).ok();
    if let Some(pem) = text.filter(|t| t.contains("-----BEGIN ")) {
        return Ok((from_pem(args.alg, pem, rng).map_err(|e| CliError::new(format!("{}: {}", args.key, e.0)))?, None));
    }
    if let Some(Value::Object(object)) = text.and_then(|t| serde_json::from_str::<Value>(t).ok()) {
        let object = Value::Object(object);
        let jwk = match object.get("keys").and_then(Value::as_array) {
            Some(keys) => {
                let chosen: Vec<&Value> = keys
                    .iter()
                    .filter(|k| args.kid.is_none() || k.get("kid").and_then(Value::as_str) == args.kid.as_deref())
                    .collect();
                match chosen.as_slice() {
                    [one] => (*one).clone(),
                    [] => return Err(CliError::new(format!("{}: no key with that kid", args.key))),
                    _ => return Err(CliError::new(format!("{}: several keys; name one with --kid", args.key))),
                }
            }
            None => object,
        };
        let kid = jwk.get("kid").and_then(Value::as_str).map(str::to_owned);
        let signer = from_jwk(args.alg, &jwk, rng).map_err(|e| CliError::new(format!("{}: {}", args.key, e.0)))?;
        return Ok((signer, kid));
    }
    if args.alg.key_kind() == KeyKind::Hmac {
        let secret = bytes.strip_suffix(b"\n").unwrap_or(&bytes);
        return Ok((hmac(args.alg, secret).map_err(|e| CliError::new(format!("{}: {}", args.key, e.0)))?, None));
    }
    Err(CliError::new(format!("{}: neither a PEM private key nor a JWK", args.key)))
}

fn sign(signer: &Signer, input: &[u8], rng: &SystemRandom) -> Result<Vec<u8>, CliError> {
    let failed = |_| CliError::new("signing failed");
    Ok(match signer {
        Signer::Hmac(key) => ring::hmac::sign(key, input).as_ref().to_vec(),
        Signer::Ecdsa(key) => key.sign(rng, input).map_err(failed)?.as_ref().to_vec(),
        Signer::Ed25519(key) => key.sign(input).as_ref().to_vec(),
        Signer::Rsa(key, padding) => {
            let mut out = vec![0u8; key.public().modulus_len()];
            key.sign(*padding, rng, input, &mut out).map_err(failed)?;
            out
        }
    })
}

fn claims(args: &SignArgs, now: u64) -> Result<Map<String, Value>, CliError> {
    let mut claims = match &args.claims {
        None => Map::new(),
        Some(text) => {
            let text = match text.strip_prefix('@') {
                Some(path) => {
                    String::from_utf8(read_file(path)?).map_err(|_| CliError::new(format!("{path} is not UTF-8")))?
                }
                None => text.clone(),
            };
            match serde_json::from_str::<Value>(&text) {
                Ok(Value::Object(map)) => map,
                Ok(_) => return Err(CliError::new("--claims must be a JSON object")),
                Err(e) => return Err(CliError::new(format!("--claims is not JSON: {e}"))),
            }
        }
    };
    if let Some(iss) = &args.iss {
        claims.insert("iss".to_owned(), Value::from(iss.as_str()));
    }
    if let Some(sub) = &args.sub {
        claims.insert("sub".to_owned(), Value::from(sub.as_str()));
    }
    match args.aud.as_slice() {
        [] => {}
        [one] => {
            claims.insert("aud".to_owned(), Value::from(one.as_str()));
        }
        many => {
            claims.insert("aud".to_owned(), Value::from(many.to_vec()));
        }
    }
    claims.entry("iat").or_insert_with(|| Value::from(now));
    claims.entry("exp").or_insert_with(|| Value::from(now.saturating_add(args.ttl)));
    Ok(claims)
}

pub(crate) fn run(args: &SignArgs) -> Outcome {
    let rng = SystemRandom::new();
    let (signer, jwk_kid) = load_key(args, &rng)?;
    let now = args.now.unwrap_or_else(jwtv_jwks::unix_now);
    let mut header = Map::new();
    header.insert("alg".to_owned(), Value::from(args.alg.name()));
    header.insert("typ".to_owned(), Value::from(args.typ.as_str()));
    if let Some(kid) = args.kid.clone().or(jwk_kid) {
        header.insert("kid".to_owned(), Value::from(kid));
    }
    let header = Value::Object(header).to_string();
    let claims = Value::Object(claims(args, now)?).to_string();
    let input = format!(
        "{}.{}",
        Base64UrlUnpadded::encode_string(header.as_bytes()),
        Base64UrlUnpadded::encode_string(claims.as_bytes())
    );
    let signature = sign(&signer, input.as_bytes(), &rng)?;
    let mut out = String::new();
    let _ = writeln!(out, "{input}.{}", Base64UrlUnpadded::encode_string(&signature));
    Ok((EXIT_OK, out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttls() {
        assert_eq!(parse_ttl("15m"), Ok(900));
        assert_eq!(parse_ttl("90"), Ok(90));
        assert_eq!(parse_ttl("2h"), Ok(7200));
        assert_eq!(parse_ttl("1d"), Ok(86_400));
        assert!(parse_ttl("1w").is_err());
        assert!(parse_ttl("m").is_err());
    }
}
