//! Verification time of one ~800-byte access token per algorithm, in one
//! binary so that one run gives comparable numbers (see `benches/README.md`):
//!
//! - `jwtv/<alg>`: `Verifier::verify` with iss, aud and exp checks, reused buffer;
//! - `floor_b64ct/<alg>`: ring alone with a key prepared once, plus base64ct
//!   decoding the signature and payload into stack buffers;
//! - `floor_table/<alg>`: the same with the plain table decoder below;
//! - `jsonwebtoken/<alg>`: `jsonwebtoken::decode` (aws-lc-rs) with the same checks;
//! - `threads/<alg>/<n>`: a batch of verifications on 1 thread or split over 2.

use core::hint::black_box;
use core::time::Duration;
use std::time::Instant;

use base64ct::{Base64UrlUnpadded, Encoding as _};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use jwtv_benches::{Alg, Fixture, table};

/// Room for the decoded payload of any fixture (the token is under 1.1 KB).
const PAYLOAD_BUF: usize = 1024;
/// Room for the largest fixture signature (RSA-2048).
const SIG_BUF: usize = 256;
/// Verifications per `threads` iteration, split evenly over the threads.
const BATCH: u64 = 512;

fn jwtv(c: &mut Criterion, fixture: &Fixture) {
    let verifier = fixture.verifier();
    let mut buf = [0u8; jwtv::DEFAULT_BUFFER_LEN];
    assert!(fixture.verify_jwtv(&verifier, &mut buf));
    c.benchmark_group("jwtv").bench_function(fixture.alg.id(), |b| {
        b.iter(|| black_box(verifier.verify(black_box(&fixture.token), jwtv_benches::NOW, &mut buf).is_ok()));
    });
}

/// ring plus the two decodes the verifier cannot skip: the signature (to
/// verify it) and the payload (to read the claims). No JSON, no header.
fn floor<D>(c: &mut Criterion, fixture: &Fixture, name: &str, decode: D)
where
    D: for<'o> Fn(&[u8], &'o mut [u8]) -> Option<&'o [u8]>,
{
    let (signing_input, payload, signature) = fixture.segments();
    let run = |signing_input: &str, payload: &str, signature: &str| {
        let mut sig_buf = [0u8; SIG_BUF];
        let mut payload_buf = [0u8; PAYLOAD_BUF];
        let Some(signature) = decode(signature.as_bytes(), &mut sig_buf) else { return false };
        if !fixture.floor.verify(signing_input.as_bytes(), signature) {
            return false;
        }
        decode(payload.as_bytes(), &mut payload_buf).is_some_and(|p| black_box(p).len() > 2)
    };
    assert!(run(signing_input, payload, signature), "{name}/{}", fixture.alg.id());
    c.benchmark_group(name).bench_function(fixture.alg.id(), |b| {
        b.iter(|| run(black_box(signing_input), black_box(payload), black_box(signature)));
    });
}

fn decode_b64ct<'o>(src: &[u8], out: &'o mut [u8]) -> Option<&'o [u8]> {
    Base64UrlUnpadded::decode(src, out).ok()
}

fn jsonwebtoken(c: &mut Criterion, fixture: &Fixture) {
    assert!(fixture.verify_jsonwebtoken().is_ok());
    c.benchmark_group("jsonwebtoken").bench_function(fixture.alg.id(), |b| {
        b.iter(|| black_box(fixture.verify_jsonwebtoken()).is_ok());
    });
}

/// `BATCH` verifications on one thread, or split in halves over two scoped
/// threads (spawned once per sample, so spawning is amortized over the sample).
fn threads(c: &mut Criterion, fixture: &Fixture) {
    let verifier = fixture.verifier();
    let mut group = c.benchmark_group("threads");
    group.throughput(Throughput::Elements(BATCH));
    for n_threads in [1u64, 2] {
        group.bench_with_input(BenchmarkId::new(fixture.alg.id(), n_threads), &n_threads, |b, &n_threads| {
            b.iter_custom(|iters| {
                let per_thread = iters * (BATCH / n_threads);
                let work = || {
                    let mut buf = [0u8; jwtv::DEFAULT_BUFFER_LEN];
                    let mut ok = 0u64;
                    for _ in 0..per_thread {
                        ok += u64::from(black_box(fixture.verify_jwtv(&verifier, &mut buf)));
                    }
                    assert_eq!(ok, per_thread);
                };
                let start = Instant::now();
                std::thread::scope(|s| {
                    for _ in 0..n_threads {
                        s.spawn(work);
                    }
                });
                start.elapsed()
            });
        });
    }
    group.finish();
}

/// Algorithm by algorithm, so that the numbers compared in one row are
/// measured back to back (this machine's speed drifts over minutes).
fn all(c: &mut Criterion) {
    let fixtures = Fixture::all();
    for fixture in &fixtures {
        eprintln!("fixture {}: token {} bytes", fixture.alg.id(), fixture.token.len());
        let (_, payload, signature) = fixture.segments();
        table::self_check([payload, signature], decode_b64ct);
    }
    for fixture in &fixtures {
        jwtv(c, fixture);
        floor(c, fixture, "floor_table", table::decode);
        floor(c, fixture, "floor_b64ct", decode_b64ct);
        jsonwebtoken(c, fixture);
    }
    for fixture in fixtures.iter().filter(|f| matches!(f.alg, Alg::Hs256 | Alg::Es256)) {
        threads(c, fixture);
    }
}

fn config() -> Criterion {
    Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3)).sample_size(50)
}

criterion_group! { name = benches; config = config(); targets = all }
criterion_main!(benches);
