//! What one forged RS256 token costs by key size and public exponent:
//! `rsa_forged/<bits>/e<exponent>` is `jwtv::Verifier::verify` of the
//! fixture claims under a signature of garbage as long as the modulus,
//! against one key of that size and exponent. The signature check runs in
//! full (ring raises the signature to the public exponent before anything
//! can be compared) and the token is refused with `bad_signature`.
//!
//! The moduli are odd numbers of the size, not products of two primes: what
//! verifying costs does not depend on the factors (and ring makes no RSA
//! keys). The figures are in `docs/POLICY.md`, next to the policy field that
//! allows exponents other than 65537.

use core::hint::black_box;
use core::time::Duration;

use base64ct::{Base64UrlUnpadded, Encoding as _};
use criterion::{Criterion, criterion_group, criterion_main};
use jwtv::{Algorithm, Error, VerifyingKey};

const BITS: [usize; 3] = [2048, 4096, 8192];
/// F4, the default and only exponent jwtv-jwks takes unless allowed, and the
/// largest ring verifies with.
const EXPONENTS: [u64; 2] = [65_537, (1 << 33) - 1];

/// `len` bytes derived from `seed` with SHA-256.
fn bytes(seed: &str, len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len);
    for i in 0u32.. {
        if out.len() >= len {
            break;
        }
        out.extend_from_slice(ring::digest::digest(&ring::digest::SHA256, format!("{seed}/{i}").as_bytes()).as_ref());
    }
    out.truncate(len);
    out
}

fn forged(c: &mut Criterion, bits: usize, exponent: u64) {
    let len = bits / 8;
    // Exactly `bits` long, and odd.
    let mut n = bytes("modulus", len);
    n[0] |= 0x80;
    n[len - 1] |= 1;
    let e: Vec<u8> = exponent.to_be_bytes().into_iter().skip_while(|&b| b == 0).collect();
    let key = VerifyingKey::rsa_from_components(Algorithm::RS256, &n, &e).expect("valid size and exponent");
    let key = key.with_kid("forged").expect("short kid");
    assert_eq!(key.rsa_public_exponent(), Some(exponent));
    let keys = [key];
    let verifier = jwtv::Verifier::new(&keys, jwtv_benches::policy());

    let mut signature = bytes("signature", len);
    signature[0] &= 0x7f; // below the modulus, which ring checks before exponentiating
    let header = r#"{"alg":"RS256","kid":"forged","typ":"JWT"}"#;
    let token = format!(
        "{}.{}.{}",
        Base64UrlUnpadded::encode_string(header.as_bytes()),
        Base64UrlUnpadded::encode_string(jwtv_benches::CLAIMS_JSON.as_bytes()),
        Base64UrlUnpadded::encode_string(&signature)
    );
    let mut buf = [0u8; jwtv::DEFAULT_BUFFER_LEN];
    assert_eq!(verifier.verify(&token, jwtv_benches::NOW, &mut buf).err(), Some(Error::BadSignature));
    c.benchmark_group("rsa_forged").bench_function(format!("{bits}/e{exponent}"), |b| {
        b.iter(|| black_box(verifier.verify(black_box(&token), jwtv_benches::NOW, &mut buf).is_err()));
    });
}

fn all(c: &mut Criterion) {
    for bits in BITS {
        for exponent in EXPONENTS {
            forged(c, bits, exponent);
        }
    }
}

fn config() -> Criterion {
    Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3)).sample_size(30)
}

criterion_group! { name = benches; config = config(); targets = all }
criterion_main!(benches);
