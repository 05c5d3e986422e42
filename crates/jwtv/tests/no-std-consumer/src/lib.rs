//! A `#![no_std]`, heap-free consumer of `jwtv` (no default features),
//! linked into a C program by `run.sh`.
//!
//! Every key and token here is a TEST KEY or TEST TOKEN: public, for this
//! check only, never to protect anything.

#![no_std]

use jwtv::{Error, Policy, Verifier, VerifyingKey};

/// Test ES256 public key (uncompressed SEC1 point).
const TEST_ES256_PUBLIC_KEY: [u8; 65] = [
    0x04, 0xd6, 0x63, 0xa1, 0x9c, 0x5e, 0x8d, 0x95, 0xd4, 0xa2, 0xe1, 0x3f, 0x48, 0x57, 0x37, 0x10, 0x5f, 0xfc, 0x4e,
    0x96, 0x7b, 0x69, 0xea, 0xe5, 0xe6, 0xb5, 0xff, 0x27, 0xea, 0xef, 0x6b, 0xc8, 0x02, 0x21, 0x8c, 0x33, 0x29, 0x22,
    0xc5, 0xa6, 0x82, 0xa2, 0x59, 0x7d, 0xd0, 0x8b, 0x42, 0x76, 0x43, 0x22, 0xad, 0xfa, 0xe5, 0xd3, 0x27, 0x1b, 0xf8,
    0x45, 0xaa, 0x0a, 0x1f, 0x0f, 0x88, 0xe4, 0xc5,
];

/// Test HS256 secret.
const TEST_HS256_SECRET: &[u8] = b"test-hs256-secret-no-std-do-not-use-0123";

/// Test token signed by the ES256 test key: `iss` https://issuer.example,
/// `aud` no-std, `sub` no-std-consumer, `iat` 1700000000, `exp` 4102444800.
const TEST_ES256_TOKEN: &str = concat!(
    "eyJhbGciOiJFUzI1NiIsImtpZCI6InRlc3QtZXMyNTYiLCJ0eXAiOiJKV1QifQ.",
    "eyJpc3MiOiJodHRwczovL2lzc3Vlci5leGFtcGxlIiwiYXVkIjoibm8tc3RkIiwic3ViIjoibm8tc3RkLWNvbnN1bWVyIiwiaWF0IjoxNzAwMDAwMDAwLCJleHAiOjQxMDI0NDQ4MDB9.",
    "yts0B7vL2b12H1FjBJf4A7IEQSEsCchvSP65nDziTpd__TIRyeO-UlyDC7ELVOlVba9ONPEn62Bsg6FcFXYHhQ",
);

/// Test token with the same claims, signed with the HS256 test secret.
const TEST_HS256_TOKEN: &str = concat!(
    "eyJhbGciOiJIUzI1NiIsImtpZCI6InRlc3QtaHMyNTYiLCJ0eXAiOiJKV1QifQ.",
    "eyJpc3MiOiJodHRwczovL2lzc3Vlci5leGFtcGxlIiwiYXVkIjoibm8tc3RkIiwic3ViIjoibm8tc3RkLWNvbnN1bWVyIiwiaWF0IjoxNzAwMDAwMDAwLCJleHAiOjQxMDI0NDQ4MDB9.",
    "uY4FkVWubSxGyDq-H-uPE_LWPya5pZJS8L3P5K_v0vY",
);

/// The test clock: shortly after the tokens were issued.
const NOW: u64 = 1_700_000_100;

/// Verifies `token` with the two test keys; checks the subject read back.
fn verify(token: &str, now: u64) -> Result<(), Error> {
    let keys = [
        VerifyingKey::es256_from_sec1(&TEST_ES256_PUBLIC_KEY).map_err(|_| Error::KeyNotFound)?,
        VerifyingKey::hs256(TEST_HS256_SECRET).map_err(|_| Error::KeyNotFound)?,
    ];
    let policy = Policy::new().issuer("https://issuer.example").audience("no-std").typ("JWT");
    let mut buf = [0u8; 512];
    let verified = Verifier::new(&keys, policy).verify(token, now, &mut buf)?;
    match verified.claims().sub() {
        Some(sub) if sub == "no-std-consumer" => Ok(()),
        _ => Err(Error::BadClaim(jwtv::Field::Sub)),
    }
}

/// Runs the self-test; 0 on success, otherwise the number of the failing step.
#[unsafe(no_mangle)]
pub extern "C" fn jwtv_no_std_selftest() -> i32 {
    if verify(TEST_ES256_TOKEN, NOW).is_err() {
        return 1;
    }
    if verify(TEST_HS256_TOKEN, NOW).is_err() {
        return 2;
    }
    // Rejections work too: a changed signature, and the clock past `exp`.
    let mut tampered = [0u8; TEST_HS256_TOKEN.len()];
    tampered.copy_from_slice(TEST_HS256_TOKEN.as_bytes());
    if let Some(last) = tampered.last_mut() {
        *last = if *last == b'A' { b'Q' } else { b'A' };
    }
    let Ok(tampered) = core::str::from_utf8(&tampered) else { return 3 };
    if verify(tampered, NOW) != Err(Error::BadSignature)
        && verify(tampered, NOW) != Err(Error::Malformed(jwtv::Part::Signature))
    {
        return 4;
    }
    if verify(TEST_ES256_TOKEN, 4_102_444_800 + 60).map_err(Error::code) != Err(jwtv::ErrorCode::Expired) {
        return 5;
    }
    0
}

unsafe extern "C" {
    /// The C library's `abort`: the C program that links this library has one.
    fn abort() -> !;
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    // SAFETY: `abort` takes no arguments and never returns.
    unsafe { abort() }
}

/// An allocator that refuses every allocation.
///
/// ring 0.17 links the `alloc` crate even without its `alloc` feature (for a
/// hidden test-support module), so a final no_std artifact must name a global
/// allocator although nothing allocates. This one would fail any allocation
/// (and a failed allocation aborts); besides, `run.sh` links with
/// `--gc-sections`, and any code of the prebuilt `alloc` crate that survives
/// it fails the link (it needs `rust_eh_personality`).
struct NoHeap;

// SAFETY: `alloc` always returns null, which `GlobalAlloc` permits (allocation
// failure); `dealloc` is then never given a pointer, so it has nothing to do.
unsafe impl core::alloc::GlobalAlloc for NoHeap {
    unsafe fn alloc(&self, _: core::alloc::Layout) -> *mut u8 {
        core::ptr::null_mut()
    }

    unsafe fn dealloc(&self, _: *mut u8, _: core::alloc::Layout) {}
}

#[global_allocator]
static NO_HEAP: NoHeap = NoHeap;
