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
//! The added cost is `100k_*` − `none` from one run (target: < 100 ns).

use core::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use jwtv::{AlgorithmSet, Claims, Header};
use jwtv_benches::{AUDIENCE, Alg, CLAIMS_JSON, Fixture, ISSUER, NOW};
use jwtv_jwks::{KeySet, KeySource, Revocation, RevocationList, Revocations, Rules, Verifier};

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
    let rules = Rules::new(AlgorithmSet::of(&[fixture.alg.jose()])).issuer(ISSUER).audience(AUDIENCE);
    let verifier = Verifier::new(KeySource::fixed(keys), rules);
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
    assert_eq!(in_memory.status().entries, 101_010);
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

criterion_group!(benches, revocation);
criterion_main!(benches);
