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
//!   prepared once, on the backend jwtv is built with) plus decoding the
//!   signature and the payload with a plain table decoder
//!   ([`jwtv_benches::table`]): what any verifier must do;
//! - `jwtv`: the core `Verifier::verify` (iss, aud, exp checked);
//! - `server`: `jwtv_gateway::Verifier::verify_in` without a cache (metrics,
//!   key source, the result in the caller's buffer);
//! - `owned`: `jwtv_gateway::Verifier::verify`, the same with an owned result;
//! - `hit`: `verify_in` with a token cache, after the first verification;
//! - `jsonwebtoken`: `jsonwebtoken::decode` (aws-lc-rs) with the same checks.
//!
//! Then two threads against one: per algorithm, the core and the server
//! verifier (one verifier shared by both threads, as a server shares it)
//! run on one thread and on two in turns, and the speed-up is the ratio of
//! their throughputs within a round.

use core::hint::black_box;
use core::time::Duration;
use std::time::Instant;

use jwtv_benches::{Alg, Fixture, NOW};

const CONTENDERS: [&str; 6] = ["floor", "jwtv", "server", "owned", "hit", "jsonwebtoken"];
/// Same-round ratios reported: (numerator, denominator).
const RATIOS: [(&str, &str); 4] = [("jwtv", "floor"), ("server", "jwtv"), ("server", "hit"), ("jsonwebtoken", "jwtv")];

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Runs `op` for `slice` (at least 3 times) and returns the calls made and the time taken.
fn run_for(slice: Duration, op: &mut dyn FnMut() -> bool) -> (u64, Duration) {
    let started = Instant::now();
    let mut calls = 0u64;
    while calls < 3 || started.elapsed() < slice {
        for _ in 0..8 {
            assert!(black_box(op()), "every contender verifies its token");
        }
        calls += 8;
    }
    (calls, started.elapsed())
}

fn per_call_ns((calls, took): (u64, Duration)) -> f64 {
    took.as_secs_f64() * 1e9 / f64::from(u32::try_from(calls).unwrap_or(u32::MAX))
}

/// Runs `op` for `slice` and returns nanoseconds per call.
fn slice_ns(slice: Duration, op: &mut dyn FnMut() -> bool) -> f64 {
    per_call_ns(run_for(slice, op))
}

/// Runs `make()`'s operation on `threads` threads at once for `slice` and
/// returns nanoseconds per call of the whole (wall time over all calls).
fn threads_ns<F: FnMut() -> bool>(slice: Duration, threads: usize, make: &(dyn Fn() -> F + Sync)) -> f64 {
    let started = Instant::now();
    let calls: u64 = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut op = make();
                    run_for(slice, &mut op).0
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().expect("a worker")).sum()
    });
    started.elapsed().as_secs_f64() * 1e9 / f64::from(u32::try_from(calls).unwrap_or(u32::MAX))
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 { values[n / 2] } else { (values[n / 2 - 1] + values[n / 2]) / 2.0 }
}

fn shown(ns: f64) -> String {
    match ns {
        ns if ns >= 1e6 => format!("{:.2} ms", ns / 1e6),
        ns if ns >= 1e3 => format!("{:.2} µs", ns / 1e3),
        ns => format!("{ns:.0} ns"),
    }
}

fn main() {
    // `cargo bench` passes `--bench`; any other argument filters algorithms by id.
    let filter: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    let rounds = env_or("ROUNDS", 15).max(1);
    let slice = Duration::from_millis(env_or("SLICE_MS", 20).max(1));
    let backend = if cfg!(feature = "aws-lc") { "aws-lc" } else { "ring" };
    let algs: Vec<Alg> =
        Alg::ALL.into_iter().filter(|a| filter.is_empty() || filter.iter().any(|f| f == a.id())).collect();
    println!("jwtv on {backend}: {rounds} rounds of {} ms slices per contender\n", slice.as_millis());
    println!(
        "| alg | floor | jwtv | server | owned | hit | jsonwebtoken | jwtv / floor | server − jwtv | server / jwtv | \
         server / hit | jsonwebtoken / jwtv |"
    );
    println!("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|");
    let at = |name: &str| CONTENDERS.iter().position(|c| *c == name).expect("a contender");
    for &alg in &algs {
        let fixture = Fixture::new(alg);
        let core = fixture.verifier();
        let uncached = fixture.server_verifier(0);
        let cached = fixture.server_verifier(16);
        assert!(cached.verify(&fixture.token, NOW).is_ok());
        let token = fixture.token.as_str();
        let (mut core_buf, mut server_buf, mut hit_buf) =
            ([0u8; jwtv::DEFAULT_BUFFER_LEN], [0u8; jwtv::DEFAULT_BUFFER_LEN], [0u8; jwtv::DEFAULT_BUFFER_LEN]);
        let mut ops: Vec<Box<dyn FnMut() -> bool + '_>> = vec![
            Box::new(|| fixture.verify_floor()),
            Box::new(|| core.verify(black_box(token), NOW, &mut core_buf).is_ok()),
            Box::new(|| uncached.verify_in(black_box(token), NOW, &mut server_buf).is_ok()),
            Box::new(|| uncached.verify(black_box(token), NOW).is_ok()),
            Box::new(|| cached.verify_in(black_box(token), NOW, &mut hit_buf).is_ok_and(|v| v.from_cache())),
            Box::new(|| fixture.verify_jsonwebtoken().is_ok()),
        ];
        // Warm-up: one slice each.
        for op in &mut ops {
            slice_ns(slice, op.as_mut());
        }
        let mut times: Vec<Vec<f64>> = vec![Vec::new(); CONTENDERS.len()];
        let mut ratios: Vec<Vec<f64>> = vec![Vec::new(); RATIOS.len()];
        let mut overhead = Vec::new();
        for round in 0..rounds {
            let mut this = [0f64; CONTENDERS.len()];
            for k in 0..ops.len() {
                let i = (k + usize::try_from(round).unwrap_or(0)) % ops.len();
                this[i] = slice_ns(slice, ops[i].as_mut());
            }
            for (i, t) in this.iter().enumerate() {
                times[i].push(*t);
            }
            for (r, (num, den)) in RATIOS.iter().enumerate() {
                ratios[r].push(this[at(num)] / this[at(den)]);
            }
            overhead.push(this[at("server")] - this[at("jwtv")]);
        }
        let cells: Vec<String> = times.iter_mut().map(|t| shown(median(t))).collect();
        let mut ratio_cells: Vec<String> = ratios.iter_mut().map(|r| format!("{:.2}×", median(r))).collect();
        let overhead = median(&mut overhead);
        let overhead =
            if overhead < 0.0 { format!("−{}", shown(-overhead)) } else { format!("+{}", shown(overhead)) };
        ratio_cells.insert(1, overhead);
        println!("| {} | {} | {} |", alg.id(), cells.join(" | "), ratio_cells.join(" | "));
    }
    println!("\nTimes: medians over the rounds. Ratios and the difference: medians of those taken within each round.");

    println!("\nTwo threads against one (throughput; the server verifier shared by both threads):\n");
    println!("| alg | jwtv, 1 thread | jwtv, 2 threads | speed-up | server, 1 thread | server, 2 threads | speed-up |");
    println!("|---|--:|--:|--:|--:|--:|--:|");
    for &alg in &algs {
        let fixture = Fixture::new(alg);
        let core = &fixture.verifier();
        let shared = &fixture.server_verifier(0);
        let token = fixture.token.as_str();
        let core_op = || {
            let mut buf = [0u8; jwtv::DEFAULT_BUFFER_LEN];
            move || core.verify(black_box(token), NOW, &mut buf).is_ok()
        };
        let server_op = || {
            let mut buf = [0u8; jwtv::DEFAULT_BUFFER_LEN];
            move || shared.verify_in(black_box(token), NOW, &mut buf).is_ok()
        };
        let mut times: [Vec<f64>; 4] = Default::default();
        let mut speedups: [Vec<f64>; 2] = Default::default();
        for round in 0..rounds {
            let mut this = [0f64; 4];
            for k in 0..4 {
                let i = (k + usize::try_from(round).unwrap_or(0)) % 4;
                let threads = 1 + i % 2;
                this[i] =
                    if i < 2 { threads_ns(slice, threads, &core_op) } else { threads_ns(slice, threads, &server_op) };
            }
            for (i, t) in this.iter().enumerate() {
                times[i].push(*t);
            }
            speedups[0].push(this[0] / this[1]);
            speedups[1].push(this[2] / this[3]);
        }
        let [a, b, c, d] = times.each_mut().map(|t| shown(median(t)));
        let [s1, s2] = speedups.each_mut().map(|s| format!("{:.2}×", median(s)));
        println!("| {} | {a} | {b} | {s1} | {c} | {d} | {s2} |", alg.id());
    }
    println!("\nTimes per verification over all threads (wall time / calls); speed-ups: medians of same-round ratios.");
}
