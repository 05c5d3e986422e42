//! What a revocation list adds to a verification: the server verifier on the
//! HS256 fixture (the cheapest signature, so the list's share shows most)
//!
//! - `revocation/none`: no list;
//! - `revocation/empty`: an empty in-memory list;
//! - `revocation/100k_memory`: 100,000 revoked `jti`s, 1,000 subjects and 10
//!   key ids, none of them the token's (every lookup runs and misses);
//! - `revocation/100k_file`: the same list loaded from a file (adds the
//!   once-a-second change check's clock read);
//! - `revocation_check/100k`: the list check alone.
//!
//! The added cost is `100k_*` − `none` from one run (target: < 100 ns). As
//! that is a few per cent of a verification, within this kind of machine's
//! run-to-run noise, the bench also measures it interleaved: batches with and
//! without the list alternate in one loop, and the per-round differences are
//! summarised (median and fastest rounds).

use core::hint::black_box;
use std::time::Instant;

use criterion::{Criterion, criterion_group};
use jwtv::{AlgorithmSet, Claims, Header};
use jwtv_benches::{AUDIENCE, Alg, CLAIMS_JSON, Fixture, ISSUER, NOW};
use jwtv_gateway::{Policy, Revocation, RevocationList, Revocations, Verifier};
use jwtv_jwks::{KeySet, KeySource};

fn list() -> RevocationList {
    let mut list = RevocationList::new();
    for i in 0..100_000u32 {
        list.insert(Revocation::Jti { id: format!("{i:08x}-5b4a-4392-8170-6f5e4d3c2b1a"), exp: 4_102_444_800 });
    }
    for i in 0..1_000u32 {
        list.insert(Revocation::Sub { id: format!("user-{i:08x}-3b4d-4e5f-8a6b-9c0d1e2f3a4b"), not_before: NOW });
    }
    for i in 0..10u32 {
        list.insert(Revocation::Kid { id: format!("revoked-key-{i}"), since: NOW });
    }
    list
}

fn verifier(fixture: &Fixture, revocations: Option<Revocations>) -> Verifier {
    let keys = KeySet::from_keys(vec![fixture.key.clone()]);
    let rules = Policy::new(AlgorithmSet::of(&[fixture.alg.jose()])).issuer(ISSUER).audience(AUDIENCE);
    let verifier = Verifier::new(KeySource::fixed(keys), rules).expect("bench rules");
    match revocations {
        Some(r) => verifier.with_revocations(r),
        None => verifier,
    }
}

fn revocation(c: &mut Criterion) {
    let fixture = Fixture::new(Alg::Hs256);
    let path = std::env::temp_dir().join(format!("jwtv-bench-revocations-{}.json", std::process::id()));
    std::fs::write(&path, list().to_json()).expect("write the list");
    let from_file = Revocations::from_file(&path).expect("load the list");
    std::fs::remove_file(&path).ok(); // the last good list keeps serving
    let in_memory = Revocations::in_memory(list());
    assert_eq!(in_memory.status().gauges.entries, 101_010);
    let variants = [
        ("none", verifier(&fixture, None)),
        ("empty", verifier(&fixture, Some(Revocations::in_memory(RevocationList::new())))),
        ("100k_memory", verifier(&fixture, Some(in_memory.clone()))),
        ("100k_file", verifier(&fixture, Some(from_file))),
    ];
    let mut group = c.benchmark_group("revocation");
    for (name, verifier) in &variants {
        assert!(verifier.verify(&fixture.token, NOW).is_ok(), "{name}");
        group.bench_function(*name, |b| b.iter(|| black_box(verifier.verify(black_box(&fixture.token), NOW).is_ok())));
    }
    group.finish();

    let header = Header::from_json(br#"{"alg":"HS256","typ":"JWT"}"#).expect("header");
    let claims = Claims::from_json(CLAIMS_JSON.as_bytes()).expect("claims");
    c.benchmark_group("revocation_check").bench_function("100k", |b| {
        b.iter(|| black_box(in_memory.check(black_box(&header), black_box(&claims), Some("key"), NOW).is_ok()));
    });
}

/// Nanoseconds per verification of `verifier` over a batch.
fn batch_ns(verifier: &Verifier, token: &str, n: u32) -> f64 {
    let started = Instant::now();
    for _ in 0..n {
        black_box(verifier.verify(black_box(token), NOW).is_ok());
    }
    started.elapsed().as_secs_f64() * 1e9 / f64::from(n)
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
}

/// The list's cost, interleaved: 201 rounds of 2,000 verifications without,
/// then with, the 100,000-entry list (the order alternating per round).
fn interleaved() {
    const ROUNDS: u32 = 201;
    const BATCH: u32 = 2_000;
    let fixture = Fixture::new(Alg::Hs256);
    let without = verifier(&fixture, None);
    let with = verifier(&fixture, Some(Revocations::in_memory(list())));
    let (mut base, mut listed, mut added) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        let (a, b) = if round % 2 == 0 {
            let a = batch_ns(&without, &fixture.token, BATCH);
            (a, batch_ns(&with, &fixture.token, BATCH))
        } else {
            let b = batch_ns(&with, &fixture.token, BATCH);
            (batch_ns(&without, &fixture.token, BATCH), b)
        };
        base.push(a);
        listed.push(b);
        added.push(b - a);
    }
    let (base_median, added_median) = (median(&mut base), median(&mut added));
    let fastest = |v: &[f64]| v.iter().copied().fold(f64::INFINITY, f64::min);
    println!(
        "revocation/interleaved: 100k list adds {added_median:.0} ns per HS256 verification (median of {ROUNDS} rounds; \
         {:.1} % of {base_median:.0} ns); fastest rounds: {:.0} ns vs {:.0} ns, +{:.0} ns",
        added_median / base_median * 100.0,
        fastest(&base),
        fastest(&listed),
        fastest(&listed) - fastest(&base),
    );
}

criterion_group!(benches, revocation);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    interleaved();
}
