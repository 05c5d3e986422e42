//! Test keys (clearly not for use anywhere) and token signing with ring.

#![allow(dead_code, unreachable_pub, reason = "each test file uses part of this")]

use base64ct::{Base64UrlUnpadded, Encoding as _};
use ring::signature::{Ed25519KeyPair, KeyPair as _};

pub const NOW: u64 = 1_700_000_000;

pub fn b64(bytes: &[u8]) -> String {
    Base64UrlUnpadded::encode_string(bytes)
}

/// An Ed25519 test key made from a fixed seed, with its kid.
pub struct TestKey {
    pub kid: String,
    pair: Ed25519KeyPair,
}

impl TestKey {
    pub fn new(kid: &str, seed: u8) -> Self {
        Self { kid: kid.to_owned(), pair: Ed25519KeyPair::from_seed_unchecked(&[seed; 32]).expect("seed") }
    }

    pub fn jwk(&self) -> String {
        format!(
            r#"{{"kty":"OKP","crv":"Ed25519","alg":"EdDSA","use":"sig","kid":"{}","x":"{}"}}"#,
            self.kid,
            b64(self.pair.public_key().as_ref())
        )
    }

    pub fn sign(&self, claims: &str) -> String {
        self.sign_with_header(&format!(r#"{{"alg":"EdDSA","typ":"JWT","kid":"{}"}}"#, self.kid), claims)
    }

    /// A token whose header names no key.
    pub fn sign_without_kid(&self, claims: &str) -> String {
        self.sign_with_header(r#"{"alg":"EdDSA","typ":"JWT"}"#, claims)
    }

    pub fn sign_with_header(&self, header: &str, claims: &str) -> String {
        let header = b64(header.as_bytes());
        let input = format!("{header}.{}", b64(claims.as_bytes()));
        let signature = self.pair.sign(input.as_bytes());
        format!("{input}.{}", b64(signature.as_ref()))
    }
}

pub fn jwks(keys: &[&TestKey]) -> String {
    let members: Vec<String> = keys.iter().map(|k| k.jwk()).collect();
    format!(r#"{{"keys":[{}]}}"#, members.join(","))
}

/// Claims valid at [`NOW`] for issuer `https://issuer.example` and audience `api`.
pub fn claims() -> String {
    claims_with(r#""iat":1699999000,"exp":1700003600"#)
}

pub fn claims_with(times: &str) -> String {
    format!(r#"{{"iss":"https://issuer.example","aud":"api","sub":"user-1",{times}}}"#)
}

/// A log writer that keeps what it is given, for tests of what is logged.
#[derive(Clone, Default)]
pub struct Captured(pub std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    /// Everything written so far.
    pub fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).expect("UTF-8")
    }
}
