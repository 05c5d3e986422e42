//! The server verifier's verified-token cache: the same token verified again
//! and again, as a gateway sees a client's token on every request.
//!
//! - `server/<alg>`: `jwtv_gateway::Verifier::verify` without a cache (signature every time);
//! - `server_cached/<alg>`: with a cache, after the first verification (a hit:
//!   a seeded hash of the token, a map lookup, the token's bytes compared, and
//!   `now` tested against the span of times its claims pass).
//!
//! The gain is `server/<alg>` ÷ `server_cached/<alg>` from one run.

use core::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use jwtv_benches::{Alg, Fixture, NOW};

fn cache(c: &mut Criterion) {
    for alg in [Alg::Rs256, Alg::Es256, Alg::EdDsa, Alg::Hs256] {
        let fixture = Fixture::new(alg);
        let uncached = fixture.server_verifier(0);
        let cached = fixture.server_verifier(10_000);
        assert!(uncached.verify(&fixture.token, NOW).is_ok());
        assert!(!cached.verify(&fixture.token, NOW).expect("valid").from_cache());
        assert!(cached.verify(&fixture.token, NOW).expect("valid").from_cache());

        c.benchmark_group("server").bench_function(alg.id(), |b| {
            b.iter(|| black_box(uncached.verify(black_box(&fixture.token), NOW).is_ok()));
        });
        c.benchmark_group("server_cached").bench_function(alg.id(), |b| {
            b.iter(|| black_box(cached.verify(black_box(&fixture.token), NOW).is_ok()));
        });
    }
}

criterion_group!(benches, cache);
criterion_main!(benches);
