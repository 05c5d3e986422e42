//! One contender of the interleaved runner, for instruction counts under
//! callgrind (stable where wall time is not): `benches/instructions.sh`
//! runs it. Arguments: `<contender> <alg> <iterations>`, with the
//! contenders `floor`, `jwtv`, `server`, `owned`, `hit` and `jsonwebtoken`
//! of `interleaved.rs` and an alg id of `jwtv_benches::Alg`. Only
//! [`measured`] is counted (`--toggle-collect`), so set-up is left out.

use core::hint::black_box;

use jwtv_benches::{Alg, Fixture, NOW};

/// The counted loop.
#[inline(never)]
fn measured(iterations: u64, op: &mut dyn FnMut() -> bool) {
    for _ in 0..iterations {
        assert!(black_box(op()), "the contender verifies its token");
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    let [contender, alg, iterations] = args.as_slice() else {
        // `cargo bench` without arguments: nothing to count.
        eprintln!("usage: instructions <floor|jwtv|server|owned|hit|jsonwebtoken> <alg> <iterations>");
        return;
    };
    let alg = Alg::ALL.into_iter().find(|a| a.id() == alg).expect("an alg id");
    let iterations: u64 = iterations.parse().expect("a number of iterations");
    let fixture = Fixture::new(alg);
    let token = fixture.token.as_str();
    let mut buf = [0u8; jwtv::DEFAULT_BUFFER_LEN];
    let core = fixture.verifier();
    let uncached = fixture.server_verifier(0);
    let cached = fixture.server_verifier(16);
    let mut op: Box<dyn FnMut() -> bool> = match contender.as_str() {
        "floor" => Box::new(|| fixture.verify_floor()),
        "jwtv" => Box::new(|| core.verify(black_box(token), NOW, &mut buf).is_ok()),
        "server" => Box::new(|| uncached.verify_in(black_box(token), NOW, &mut buf).is_ok()),
        "owned" => Box::new(|| uncached.verify(black_box(token), NOW).is_ok()),
        "hit" => Box::new(|| cached.verify_in(black_box(token), NOW, &mut buf).is_ok_and(|v| v.from_cache())),
        "jsonwebtoken" => Box::new(|| fixture.verify_jsonwebtoken().is_ok()),
        other => panic!("unknown contender {other}"),
    };
    // Warm: first-use state (the cache entry, lazily made tables) is not per verification.
    assert!(cached.verify(token, NOW).is_ok(), "{}", alg.id());
    assert!(op(), "{contender}/{} verifies", alg.id());
    measured(iterations, op.as_mut());
}
