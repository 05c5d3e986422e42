//! The contenders of each algorithm in turns, inside one process: every
//! round runs each for a short slice (20 ms by default), in an order that
//! rotates from round to round, and ratios are taken within the round. On a
//! shared machine whose speed drifts by tens of percent between minutes, a
//! ratio of two slices a few milliseconds apart holds still where two
//! criterion runs do not. Prints Markdown: per algorithm the median time of
//! each contender and the median of each same-round ratio.
//!
//! ```sh
//! cargo bench -p jwtv-benches --bench interleaved                      # ring (the default)
//! cargo bench -p jwtv-benches --bench interleaved --features aws-lc    # the aws-lc backend
//! ROUNDS=30 SLICE_MS=20 cargo bench -p jwtv-benches --bench interleaved
//! ```
//!
//! Contenders:
//! - `floor`: the key's own signature check (`VerifyingKey::verify_signature`,
//!   prepared once, on the backend jwtv is built with) plus table-decoding the
//!   signature and the payload: what any verifier must do;
//! - `jwtv`: the core `Verifier::verify` (iss, aud, exp checked);
//! - `server`: `jwtv_gateway::Verifier::verify` without a cache (metrics,
//!   key source, owned result);
//! - `hit`: the same with a token cache, after the first verification;
//! - `jsonwebtoken`: `jsonwebtoken::decode` (aws-lc-rs) with the same checks.

use core::hint::black_box;
use core::time::Duration;
use std::time::Instant;

use jwtv::AlgorithmSet;
use jwtv_benches::{AUDIENCE, Alg, Fixture, ISSUER, NOW};
use jwtv_gateway::{Policy, Verifier};
use jwtv_jwks::{KeySet, KeySource};

const CONTENDERS: [&str; 5] = ["floor", "jwtv", "server", "hit", "jsonwebtoken"];
/// Same-round ratios reported: (numerator, denominator).
const RATIOS: [(&str, &str); 4] = [("jwtv", "floor"), ("server", "jwtv"), ("server", "hit"), ("jsonwebtoken", "jwtv")];

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Runs `op` for `slice` (at least 3 times) and returns nanoseconds per call.
fn slice_ns(slice: Duration, op: &mut dyn FnMut() -> bool) -> f64 {
    let started = Instant::now();
    let mut calls = 0u64;
    while calls < 3 || started.elapsed() < slice {
        for _ in 0..8 {
            assert!(black_box(op()), "every contender verifies its token");
        }
        calls += 8;
    }
    started.elapsed().as_secs_f64() * 1e9 / f64::from(u32::try_from(calls).unwrap_or(u32::MAX))
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 { values[n / 2] } else { (values[n / 2 - 1] + values[n / 2]) / 2.0 }
}

fn table_decode<'o>(src: &[u8], out: &'o mut [u8]) -> Option<&'o [u8]> {
    const fn value(c: u8) -> u8 {
        match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' => 62,
            b'_' => 63,
            _ => 0xff,
        }
    }
    let len = src.len() * 6 / 8;
    let out = out.get_mut(..len)?;
    let (mut acc, mut bits, mut at) = (0u32, 0u32, 0usize);
    for &c in src {
        let v = value(c);
        if v == 0xff {
            return None;
        }
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            *out.get_mut(at)? = (acc >> bits).to_le_bytes()[0];
            at += 1;
        }
    }
    Some(out)
}

fn server(fixture: &Fixture, cache: usize) -> Verifier {
    let keys = KeySet::from_keys(vec![fixture.key.clone()]);
    let rules = Policy::new(AlgorithmSet::of(&[fixture.alg.jose()])).issuer(ISSUER).audience(AUDIENCE);
    Verifier::new(KeySource::fixed(keys), rules).expect("bench rules").with_token_cache(cache)
}

fn main() {
    // `cargo bench` passes `--bench`; any other argument filters algorithms by id.
    let filter: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    let rounds = env_or("ROUNDS", 15).max(1);
    let slice = Duration::from_millis(env_or("SLICE_MS", 20).max(1));
    let backend = if cfg!(feature = "aws-lc") { "aws-lc" } else { "ring" };
    println!("jwtv on {backend}: {rounds} rounds of {} ms slices per contender\n", slice.as_millis());
    println!(
        "| alg | floor | jwtv | server | hit | jsonwebtoken | jwtv / floor | server / jwtv | server / hit | jsonwebtoken / jwtv |"
    );
    println!("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|");
    for alg in Alg::ALL.into_iter().filter(|a| filter.is_empty() || filter.iter().any(|f| f == a.id())) {
        let fixture = Fixture::new(alg);
        let core = fixture.verifier();
        let uncached = server(&fixture, 0);
        let cached = server(&fixture, 16);
        assert!(cached.verify(&fixture.token, NOW).is_ok());
        let (signing_input, payload, signature) = fixture.segments();
        let mut buf = vec![0u8; jwtv::DEFAULT_BUFFER_LEN];
        let token = fixture.token.as_str();
        let mut ops: Vec<Box<dyn FnMut() -> bool + '_>> = vec![
            Box::new(|| {
                let (mut sig, mut body) = ([0u8; 512], [0u8; 1024]);
                let Some(sig) = table_decode(signature.as_bytes(), &mut sig) else { return false };
                fixture.key.verify_signature(signing_input.as_bytes(), sig).is_ok()
                    && table_decode(payload.as_bytes(), &mut body).is_some_and(|p| black_box(p).len() > 2)
            }),
            Box::new(move || core.verify(black_box(token), NOW, &mut buf).is_ok()),
            Box::new(|| uncached.verify(black_box(&fixture.token), NOW).is_ok()),
            Box::new(|| cached.verify(black_box(&fixture.token), NOW).is_ok_and(|v| v.from_cache())),
            Box::new(|| fixture.verify_jsonwebtoken().is_ok()),
        ];
        // Warm-up: one slice each.
        for op in &mut ops {
            slice_ns(slice, op.as_mut());
        }
        let mut times: Vec<Vec<f64>> = vec![Vec::new(); CONTENDERS.len()];
        let mut ratios: Vec<Vec<f64>> = vec![Vec::new(); RATIOS.len()];
        for round in 0..rounds {
            let mut this = [0f64; CONTENDERS.len()];
            for k in 0..ops.len() {
                let i = (k + usize::try_from(round).unwrap_or(0)) % ops.len();
                this[i] = slice_ns(slice, ops[i].as_mut());
            }
            for (i, t) in this.iter().enumerate() {
                times[i].push(*t);
            }
            let at = |name: &str| CONTENDERS.iter().position(|c| *c == name).expect("a contender");
            for (r, (num, den)) in RATIOS.iter().enumerate() {
                ratios[r].push(this[at(num)] / this[at(den)]);
            }
        }
        let shown = |ns: f64| match ns {
            ns if ns >= 1e6 => format!("{:.2} ms", ns / 1e6),
            ns if ns >= 1e3 => format!("{:.2} µs", ns / 1e3),
            ns => format!("{ns:.0} ns"),
        };
        let cells: Vec<String> = times.iter_mut().map(|t| shown(median(t))).collect();
        let ratio_cells: Vec<String> = ratios.iter_mut().map(|r| format!("{:.2}×", median(r))).collect();
        println!("| {} | {} | {} |", alg.id(), cells.join(" | "), ratio_cells.join(" | "));
    }
    println!("\nTimes: medians over the rounds. Ratios: medians of the ratios taken within each round.");
}
