//! Verifies every bundled example token (`examples/tokens/*.jwt`) against the
//! bundled key sets (`examples/jwks.json` with the public keys,
//! `examples/hs256-jwks.json` with the HMAC test secret) and prints each verdict.
//!
//! ```text
//! cargo run --release -p jwtv --example verify_examples
//! ```
//!
//! The JWK handling here is deliberately minimal (one key per JWK, `alg`
//! required); production key sets belong to a JWKS loader.

use core::error::Error as StdError;
use std::path::{Path, PathBuf};

use base64ct::{Base64UrlUnpadded, Encoding};
use jwtv::{Algorithm, Policy, Verifier, VerifyingKey};

fn b64(value: &serde_json::Value, member: &str) -> Result<Vec<u8>, Box<dyn StdError>> {
    let text = value[member].as_str().ok_or_else(|| format!("JWK member {member} missing"))?;
    Ok(Base64UrlUnpadded::decode_vec(text).map_err(|e| format!("JWK member {member}: {e}"))?)
}

fn key_from_jwk(jwk: &serde_json::Value) -> Result<VerifyingKey, Box<dyn StdError>> {
    let alg = jwk["alg"].as_str().and_then(Algorithm::from_name).ok_or("JWK without a supported alg")?;
    let key = match jwk["kty"].as_str() {
        Some("EC") => VerifyingKey::ecdsa_from_coordinates(alg, &b64(jwk, "x")?, &b64(jwk, "y")?)?,
        Some("OKP") => VerifyingKey::ed25519(&b64(jwk, "x")?)?,
        Some("RSA") => VerifyingKey::rsa_from_components(alg, &b64(jwk, "n")?, &b64(jwk, "e")?)?,
        Some("oct") => VerifyingKey::hmac_from_base64url(alg, jwk["k"].as_str().ok_or("oct JWK without k")?)?,
        other => return Err(format!("unsupported kty {other:?}").into()),
    };
    Ok(match jwk["kid"].as_str() {
        Some(kid) => key.with_kid(kid)?,
        None => key,
    })
}

fn main() -> Result<(), Box<dyn StdError>> {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let mut keys = Vec::new();
    for file in ["jwks.json", "hs256-jwks.json"] {
        let jwks: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(examples.join(file))?)?;
        for jwk in jwks["keys"].as_array().ok_or_else(|| format!("{file} has no keys array"))? {
            keys.push(key_from_jwk(jwk)?);
        }
    }

    let policy = Policy::new().issuer("https://issuer.example").audience("api");
    let verifier = Verifier::new(&keys, policy);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs();
    let mut buf = [0u8; jwtv::DEFAULT_BUFFER_LEN];

    let mut paths: Vec<PathBuf> =
        std::fs::read_dir(examples.join("tokens"))?.map(|e| e.map(|e| e.path())).collect::<Result<_, _>>()?;
    paths.sort();
    for path in paths {
        let name = path.file_stem().and_then(|s| s.to_str()).unwrap_or("?").to_owned();
        let token = std::fs::read_to_string(&path)?;
        match verifier.verify(token.trim_end(), now, &mut buf) {
            Ok(verified) => {
                let sub = verified.claims().sub().map(|s| s.to_string()).unwrap_or_default();
                println!("{name:<18} valid    alg={} sub={sub}", verified.algorithm());
            }
            Err(err) => println!("{name:<18} rejected {:<16} {}", err.code(), err),
        }
    }
    Ok(())
}
