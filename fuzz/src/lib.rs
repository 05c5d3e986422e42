//! What the fuzz targets share: the fixed TEST keys (those of `examples/`),
//! signers for them, a counting global allocator, and the invariants checked
//! on every token a verifier accepts. `fuzz/README.md` lists every invariant
//! and allocation bound.

#![allow(clippy::missing_panics_doc, reason = "panicking is how a fuzz target reports")]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use base64ct::{Base64, Base64UrlUnpadded, Encoding as _};
use jwtv::{Algorithm, DEFAULT_BUFFER_LEN, Error, KeyKind, VerifiedToken, Verifier, VerifyingKey};
use ring::rand::SystemRandom;
use ring::signature::{self, EcdsaKeyPair, Ed25519KeyPair, RsaKeyPair};

pub mod ffi_harness;
pub mod jwks;
pub mod structured;
pub mod verify;

// ---------------------------------------------------------------------------
// Counting allocator
// ---------------------------------------------------------------------------

/// The system allocator, counting allocations, bytes and live bytes.
#[derive(Debug)]
pub struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);
static BYTES: AtomicUsize = AtomicUsize::new(0);
static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(size: usize) {
    ALLOCATIONS.fetch_add(1, Relaxed);
    BYTES.fetch_add(size, Relaxed);
    let live = LIVE.fetch_add(size, Relaxed) + size;
    PEAK.fetch_max(live, Relaxed);
}

// SAFETY: every call is forwarded unchanged to `System`; only counters are added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        grew(layout.size());
        // SAFETY: forwarded contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        grew(layout.size());
        // SAFETY: forwarded contract.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Relaxed);
        // SAFETY: forwarded contract.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_sub(layout.size(), Relaxed);
        grew(new_size);
        // SAFETY: forwarded contract.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// What a region of code allocated.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    /// Allocations and reallocations.
    pub allocations: usize,
    /// Bytes requested by them, in total.
    pub bytes: usize,
    /// The most bytes live at once above the level at the start.
    pub peak: usize,
    /// Live bytes at the end minus live bytes at the start (0: nothing kept).
    pub kept: isize,
}

/// Runs `f`, returning its result and what it allocated. The fuzz targets
/// are single-threaded, so the global counters see only `f`.
pub fn measure<T>(f: impl FnOnce() -> T) -> (T, Usage) {
    let (allocations, bytes, live) = (ALLOCATIONS.load(Relaxed), BYTES.load(Relaxed), LIVE.load(Relaxed));
    PEAK.store(live, Relaxed);
    let out = std::hint::black_box(f());
    let end_live = LIVE.load(Relaxed);
    let kept = isize::try_from(end_live).unwrap_or(isize::MAX) - isize::try_from(live).unwrap_or(isize::MAX);
    let usage = Usage {
        allocations: ALLOCATIONS.load(Relaxed) - allocations,
        bytes: BYTES.load(Relaxed) - bytes,
        peak: PEAK.load(Relaxed).saturating_sub(live),
        kept,
    };
    (out, usage)
}

/// Most allocations ring's RSA verification makes (RS256, 2048-bit test key):
/// it measures 4; the bound leaves room for other ring versions.
pub const RSA_VERIFY_MAX_ALLOCATIONS: usize = 8;
/// Most bytes ring's RSA verification allocates for the 2048-bit test key.
pub const RSA_VERIFY_MAX_BYTES: usize = 4096;

/// Asserts the allocation bound of one `Verifier` call: nothing at all unless
/// an RSA key verified a signature, then no more than ring's RSA verification.
#[track_caller]
pub fn assert_verify_bound(usage: Usage, rsa_ran: bool, what: &str) {
    if rsa_ran {
        assert!(
            usage.allocations <= RSA_VERIFY_MAX_ALLOCATIONS && usage.bytes <= RSA_VERIFY_MAX_BYTES,
            "{what}: RSA verification allocated beyond its bound: {usage:?}"
        );
    } else {
        assert_eq!(usage.allocations, 0, "{what}: allocated without RSA: {usage:?}");
    }
    assert!(usage.kept <= 0, "{what}: kept memory: {usage:?}");
}

// ---------------------------------------------------------------------------
// Test keys: examples/keys (TEST KEYS, public in the repository)
// ---------------------------------------------------------------------------

/// The clock of every target: 2027-01-15, when the example tokens are valid.
pub const NOW: u64 = 1_800_000_000;
/// The issuer of the example tokens.
pub const ISS: &str = "https://issuer.example";
/// The audience the policies want.
pub const AUD: &str = "api";

/// The HMAC test secret.
pub const HS256_SECRET: &[u8] = include_bytes!("../../examples/keys/test-hs256.secret");
/// The public JWKS of the examples (ES256, EdDSA, RS256).
pub const EXAMPLE_JWKS: &[u8] = include_bytes!("../../examples/jwks.json");

const ES256_PRIVATE: &str = include_str!("../../examples/keys/test-es256.pem");
const EDDSA_PRIVATE: &str = include_str!("../../examples/keys/test-eddsa.pem");
const RS256_PRIVATE: &str = include_str!("../../examples/keys/test-rs256.pem");
const ES256_PUBLIC: &str = include_str!("../../examples/keys/test-es256.pub.pem");
const EDDSA_PUBLIC: &str = include_str!("../../examples/keys/test-eddsa.pub.pem");
const RS256_PUBLIC: &str = include_str!("../../examples/keys/test-rs256.pub.pem");

/// Tokens of `examples/tokens/` that verify under [`policy`] at [`NOW`].
pub const VALID_TOKENS: [&str; 4] = [
    include_str!("../../examples/tokens/valid-hs256.jwt"),
    include_str!("../../examples/tokens/valid-es256.jwt"),
    include_str!("../../examples/tokens/valid-eddsa.jwt"),
    include_str!("../../examples/tokens/valid-rs256.jwt"),
];

/// The four fixed algorithms, in key order.
pub const ALGS: [Algorithm; 4] = [Algorithm::HS256, Algorithm::ES256, Algorithm::EdDSA, Algorithm::RS256];

/// The `kid` of each test key, as in the examples.
pub fn kid_of(alg: Algorithm) -> &'static str {
    match alg {
        Algorithm::HS256 => "test-hs256",
        Algorithm::ES256 => "test-es256",
        Algorithm::EdDSA => "test-eddsa",
        _ => "test-rs256",
    }
}

/// The verification key of one test algorithm, with its `kid`.
fn verifying_key(alg: Algorithm) -> VerifyingKey {
    let key = match alg {
        Algorithm::HS256 => VerifyingKey::hs256(HS256_SECRET).expect("HS256 test key"),
        Algorithm::ES256 => jwtv_jwks::key_from_pem(ES256_PUBLIC, alg).expect("ES256 test key"),
        Algorithm::EdDSA => jwtv_jwks::key_from_pem(EDDSA_PUBLIC, alg).expect("EdDSA test key"),
        _ => jwtv_jwks::key_from_pem(RS256_PUBLIC, alg).expect("RS256 test key"),
    };
    key.with_kid(kid_of(alg)).expect("short kid")
}

/// The fixed key sets, built once.
#[derive(Debug)]
pub struct Keys {
    /// HS256, ES256, EdDSA and RS256.
    pub all: Vec<VerifyingKey>,
    /// HS256, ES256 and EdDSA: verification must never allocate with these.
    pub no_rsa: Vec<VerifyingKey>,
}

/// The fixed key sets.
pub fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let all: Vec<_> = ALGS.into_iter().map(verifying_key).collect();
        let no_rsa = all.iter().filter(|k| k.algorithm().key_kind() != KeyKind::Rsa).cloned().collect();
        Keys { all, no_rsa }
    })
}

/// The policy of the `verify` target: the example tokens' issuer and
/// audience, `sub` required.
pub fn policy() -> jwtv::Policy<'static> {
    jwtv::Policy::new().issuer(ISS).audience(AUD).require_claims(&["sub"])
}

/// A private TEST key that signs like a JWS signer.
#[derive(Debug)]
pub enum Signer {
    /// HS256 with [`HS256_SECRET`].
    Hs256,
    /// ES256 (fixed `r ‖ s`).
    Es256(EcdsaKeyPair),
    /// Ed25519.
    EdDsa(Ed25519KeyPair),
    /// RS256, PKCS#1 v1.5.
    Rs256(RsaKeyPair),
}

fn pem_der(pem: &str) -> Vec<u8> {
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    Base64::decode_vec(body.trim()).expect("PEM base64")
}

impl Signer {
    fn new(alg: Algorithm) -> Self {
        match alg {
            Algorithm::HS256 => Self::Hs256,
            Algorithm::ES256 => Self::Es256(
                EcdsaKeyPair::from_pkcs8(
                    &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
                    &pem_der(ES256_PRIVATE),
                    &SystemRandom::new(),
                )
                .expect("ES256 private test key"),
            ),
            Algorithm::EdDSA => Self::EdDsa(
                Ed25519KeyPair::from_pkcs8_maybe_unchecked(&pem_der(EDDSA_PRIVATE)).expect("Ed25519 private test key"),
            ),
            _ => Self::Rs256(RsaKeyPair::from_pkcs8(&pem_der(RS256_PRIVATE)).expect("RS256 private test key")),
        }
    }

    /// The algorithm it signs with.
    pub fn alg(&self) -> Algorithm {
        match self {
            Self::Hs256 => Algorithm::HS256,
            Self::Es256(_) => Algorithm::ES256,
            Self::EdDsa(_) => Algorithm::EdDSA,
            Self::Rs256(_) => Algorithm::RS256,
        }
    }

    /// The JWS signature of `message`.
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        match self {
            Self::Hs256 => ring::hmac::sign(&ring::hmac::Key::new(ring::hmac::HMAC_SHA256, HS256_SECRET), message)
                .as_ref()
                .to_vec(),
            Self::Es256(pair) => pair.sign(&SystemRandom::new(), message).expect("ECDSA signing").as_ref().to_vec(),
            Self::EdDsa(pair) => pair.sign(message).as_ref().to_vec(),
            Self::Rs256(pair) => {
                let mut out = vec![0; pair.public().modulus_len()];
                pair.sign(&signature::RSA_PKCS1_SHA256, &SystemRandom::new(), message, &mut out).expect("RSA signing");
                out
            }
        }
    }

    /// `b64(header).b64(payload).b64(signature)`.
    pub fn token(&self, header: &[u8], payload: &[u8]) -> String {
        let signing_input = format!("{}.{}", b64(header), b64(payload));
        let signature = b64(self.sign(signing_input.as_bytes()));
        format!("{signing_input}.{signature}")
    }
}

/// The signers of [`ALGS`], in the same order.
pub fn signers() -> &'static [Signer; 4] {
    static SIGNERS: OnceLock<[Signer; 4]> = OnceLock::new();
    SIGNERS.get_or_init(|| ALGS.map(Signer::new))
}

/// Unpadded base64url.
pub fn b64(bytes: impl AsRef<[u8]>) -> String {
    Base64UrlUnpadded::encode_string(bytes.as_ref())
}

// ---------------------------------------------------------------------------
// Invariants of accepted tokens
// ---------------------------------------------------------------------------

/// How thoroughly [`check_accepted`] alters the signature.
#[derive(Clone, Copy, Debug)]
pub enum Sweep {
    /// Every decoded byte and every base64url character (for targets where
    /// accepted tokens are rare).
    Full,
    /// A few positions chosen by `seed` (for targets where most inputs are accepted).
    Sample(u64),
}

/// Whether a token's header names an RSA algorithm, so that RSA verification
/// (and ring's allocations) may run. Only the header segment is read: the
/// signature is checked before the payload is decoded.
pub fn uses_rsa(token: &[u8]) -> bool {
    let header = token.split(|b| *b == b'.').next().unwrap_or_default();
    let Ok(json) = Base64UrlUnpadded::decode_vec(&String::from_utf8_lossy(header)) else { return false };
    jwtv::Header::from_json(&json)
        .ok()
        .and_then(|h| h.algorithm().ok())
        .is_some_and(|alg| alg.key_kind() == KeyKind::Rsa)
}

/// The invariants of a token `verifier` accepted at `now`:
///
/// 1. the header's `alg` is the algorithm of the key that verified it (the
///    key its `kid` names, else the only key of that algorithm);
/// 2. re-encoding the decoded header, payload and signature gives the token
///    back byte for byte (base64url is canonical), and it verifies again with
///    the same header and claims;
/// 3. a token with any one signature byte, or any one base64url character
///    of the signature, changed is rejected.
pub fn check_accepted(verifier: &Verifier<'_>, token: &[u8], now: u64, verified: &VerifiedToken<'_>, sweep: Sweep) {
    let alg = verified.algorithm();
    let header = verified.header();
    assert_eq!(header.algorithm(), Ok(alg), "accepted: header alg is not the verifying algorithm");
    assert!(header.alg() == alg.name(), "accepted: alg as written differs");
    let keys = verifier.keys();
    let named = header.kid().and_then(|kid| keys.iter().find(|k| k.kid().is_some_and(|have| kid == have)));
    match named {
        Some(key) => assert_eq!(key.algorithm(), alg, "accepted: the kid's key has another algorithm"),
        None => assert!(
            keys.iter().filter(|k| k.algorithm() == alg).count() == 1,
            "accepted without a unique key of its algorithm"
        ),
    }

    // 2. Canonical re-encoding.
    let text = std::str::from_utf8(token).expect("an accepted token is ASCII");
    let (signing_input, sig_b64) = text.rsplit_once('.').expect("three segments");
    let signature = Base64UrlUnpadded::decode_vec(sig_b64).expect("an accepted signature is base64url");
    let header_json = header.raw_json();
    let claims_json = verified.claims().raw_json();
    let reencoded = format!("{}.{}.{}", b64(header_json), b64(claims_json), b64(&signature));
    assert_eq!(reencoded.as_bytes(), token, "accepted token is not the canonical encoding of its parts");
    let mut buf = vec![0u8; DEFAULT_BUFFER_LEN];
    let again = verifier.verify(&reencoded, now, &mut buf).expect("re-encoded token verifies");
    assert_same_claims(verified, &again);

    // 3. Signature alterations.
    let rejected = |sig: &str, what: &dyn std::fmt::Display| {
        let altered = format!("{signing_input}.{sig}");
        let mut buf = vec![0u8; DEFAULT_BUFFER_LEN];
        let result = verifier.verify(&altered, now, &mut buf);
        assert!(result.is_err(), "accepted with {what}: {altered}");
    };
    let positions: Vec<usize> = match sweep {
        Sweep::Full => (0..signature.len()).collect(),
        Sweep::Sample(seed) => (0..4u64)
            .map(|i| usize::try_from(splitmix(seed.wrapping_add(i)) % signature.len() as u64).unwrap_or(0))
            .collect(),
    };
    for &i in &positions {
        let mut altered = signature.clone();
        altered[i] ^= 1 << (i % 8);
        rejected(&b64(&altered), &format_args!("signature byte {i} changed"));
    }
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let chars = sig_b64.as_bytes();
    let char_positions: Vec<usize> = match sweep {
        Sweep::Full => (0..chars.len()).collect(),
        Sweep::Sample(seed) => {
            (0..4u64).map(|i| usize::try_from(splitmix(seed ^ 0x5EED ^ i) % chars.len() as u64).unwrap_or(0)).collect()
        }
    };
    for &i in &char_positions {
        let mut altered = chars.to_vec();
        let at = alphabet.iter().position(|c| *c == altered[i]).expect("base64url character");
        altered[i] = alphabet[(at + 1 + i % 63) % 64];
        rejected(std::str::from_utf8(&altered).expect("ASCII"), &format_args!("signature character {i} changed"));
    }
    // The last character's unused low bits: every other value decodes to the
    // same bytes under a lenient decoder, so each must be rejected.
    let last = chars.len() - 1;
    let value = alphabet.iter().position(|c| *c == chars[last]).expect("base64url character");
    let unused_bits = match chars.len() % 4 {
        2 => 4,
        3 => 2,
        _ => 0,
    };
    for low in 1..(1usize << unused_bits) {
        let mut altered = chars.to_vec();
        altered[last] = alphabet[value ^ low];
        rejected(std::str::from_utf8(&altered).expect("ASCII"), &"non-canonical last character");
    }
    // Padding, one byte more, one byte less.
    rejected(&format!("{sig_b64}="), &"padding");
    let mut longer = signature.clone();
    longer.push(0);
    rejected(&b64(&longer), &"a byte appended");
    if signature.len() > 1 {
        rejected(&b64(&signature[..signature.len() - 1]), &"a byte removed");
    }
}

/// Asserts two verifications of the same token agree on everything they report.
#[track_caller]
pub fn assert_same_claims(a: &VerifiedToken<'_>, b: &VerifiedToken<'_>) {
    assert_eq!(a.algorithm(), b.algorithm());
    assert_eq!(a.header().raw_json(), b.header().raw_json());
    let (x, y) = (a.claims(), b.claims());
    assert_eq!(x.raw_json(), y.raw_json(), "claims differ after re-encoding");
    assert_eq!(x.exp(), y.exp());
    assert_eq!(x.nbf(), y.nbf());
    assert_eq!(x.iat(), y.iat());
    assert_eq!(x.iss().map(|s| s.raw()), y.iss().map(|s| s.raw()));
    assert_eq!(x.sub().map(|s| s.raw()), y.sub().map(|s| s.raw()));
    assert_eq!(x.jti().map(|s| s.raw()), y.jti().map(|s| s.raw()));
    assert!(x.audiences().map(|s| s.raw()).eq(y.audiences().map(|s| s.raw())));
}

/// `verify` and `verify_all` agree: both accept, or `verify`'s error is the
/// first of `verify_all`'s failures.
#[track_caller]
pub fn assert_consistent(one: &Result<VerifiedToken<'_>, Error>, all: &Result<VerifiedToken<'_>, jwtv::Failures>) {
    match (one, all) {
        (Ok(a), Ok(b)) => assert_same_claims(a, b),
        (Err(e), Err(failures)) => {
            assert_eq!(failures.first(), Some(*e), "verify and verify_all disagree on the first failure");
        }
        (one, all) => panic!("verify and verify_all disagree: {:?} vs {:?}", one.as_ref().err(), all.as_ref().err()),
    }
}

/// A 64-bit mix (SplitMix64), to derive sample positions from the input.
pub fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// FNV-1a of the input, a seed for [`Sweep::Sample`].
pub fn fnv(data: &[u8]) -> u64 {
    data.iter().fold(0xCBF2_9CE4_8422_2325, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01B3))
}
