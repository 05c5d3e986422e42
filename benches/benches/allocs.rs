//! Heap allocations per verification, counted by a wrapping global allocator.
//!
//! Kept out of the `verify` binary so that the counting (an atomic add per
//! allocation) never slows the timed runs. Prints a table and writes
//! `<criterion dir>/allocations.json` for `benches/report.py`. Fails when the
//! core or the server verifier's `verify_in` allocates for an algorithm that
//! ring verifies without a heap (HS, ES, EdDSA), or a cache hit allocates.

use core::hint::black_box;
use std::alloc::System;
use std::path::PathBuf;

use jwtv_benches::{Alg, Fixture, NOW};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Verifications counted per measurement (after one uncounted warm-up).
const RUNS: u32 = 200;

#[derive(Debug, serde::Serialize)]
struct Row {
    alg: &'static str,
    verifier: &'static str,
    token_bytes: usize,
    allocs_per_verify: f64,
    reallocs_per_verify: f64,
    bytes_per_verify: f64,
}

fn count(alg: Alg, verifier: &'static str, token_bytes: usize, mut verify: impl FnMut() -> bool) -> Row {
    assert!(verify(), "{verifier}/{} must verify", alg.id());
    let region = Region::new(GLOBAL);
    for _ in 0..RUNS {
        assert!(black_box(verify()));
    }
    let stats = region.change();
    let per = |n: usize| f64::from(u32::try_from(n).expect("small count")) / f64::from(RUNS);
    Row {
        alg: alg.id(),
        verifier,
        token_bytes,
        allocs_per_verify: per(stats.allocations),
        reallocs_per_verify: per(stats.reallocations),
        bytes_per_verify: per(stats.bytes_allocated),
    }
}

/// Where criterion writes: `$CRITERION_HOME`, `$CARGO_TARGET_DIR/criterion`,
/// else the target directory `cargo metadata` names (as criterion does).
fn criterion_dir() -> PathBuf {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return PathBuf::from(home);
    }
    if let Some(target) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(target).join("criterion");
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let metadata = std::process::Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .output()
        .ok()
        .and_then(|out| serde_json::from_slice::<serde_json::Value>(&out.stdout).ok());
    let target = metadata.as_ref().and_then(|m| m["target_directory"].as_str()).unwrap_or("target");
    PathBuf::from(target).join("criterion")
}

fn main() {
    // `cargo test --benches` runs bench binaries in test mode; counting is cheap, so run anyway.
    let fixtures = Fixture::all();
    let mut rows = Vec::new();
    let mut buf = [0u8; jwtv::DEFAULT_BUFFER_LEN];
    for fixture in &fixtures {
        let verifier = fixture.verifier();
        let len = fixture.token.len();
        rows.push(count(fixture.alg, "jwtv", len, || fixture.verify_jwtv(&verifier, &mut buf)));
        rows.push(count(fixture.alg, "jsonwebtoken", len, || fixture.verify_jsonwebtoken().is_ok()));
        let server = fixture.server_verifier(0);
        rows.push(count(fixture.alg, "jwtv server", len, || server.verify_in(&fixture.token, NOW, &mut buf).is_ok()));
        rows.push(count(fixture.alg, "jwtv server, owned", len, || server.verify(&fixture.token, NOW).is_ok()));
        let cached = fixture.server_verifier(1000);
        rows.push(count(fixture.alg, "jwtv server, cache hit", len, || {
            cached.verify_in(&fixture.token, NOW, &mut buf).is_ok()
        }));
    }

    println!("| alg | token bytes | verifier | allocations / verify | reallocations / verify | bytes / verify |");
    println!("|-----|------------:|----------|---------------------:|-----------------------:|---------------:|");
    for row in &rows {
        println!(
            "| {} | {} | {} | {} | {} | {} |",
            row.alg,
            row.token_bytes,
            row.verifier,
            row.allocs_per_verify,
            row.reallocs_per_verify,
            row.bytes_per_verify
        );
    }

    let dir = criterion_dir();
    std::fs::create_dir_all(&dir).expect("create the criterion directory");
    let path = dir.join("allocations.json");
    let json = serde_json::to_string_pretty(&rows).expect("serialize");
    std::fs::write(&path, json + "\n").expect("write allocations.json");
    println!("wrote {}", path.display());

    // A cache hit allocates nothing, whatever the algorithm.
    for row in rows.iter().filter(|r| r.verifier == "jwtv server, cache hit") {
        assert!(
            row.allocs_per_verify == 0.0 && row.reallocs_per_verify == 0.0,
            "a cache hit allocates for {}",
            row.alg
        );
    }
    let heap_free = [Alg::Hs256, Alg::Es256, Alg::Es384, Alg::EdDsa];
    for row in rows.iter().filter(|r| r.verifier == "jwtv" || r.verifier == "jwtv server") {
        if heap_free.iter().any(|a| a.id() == row.alg) {
            assert!(
                row.allocs_per_verify == 0.0 && row.reallocs_per_verify == 0.0,
                "{} allocates for {}",
                row.verifier,
                row.alg
            );
        }
    }
}
