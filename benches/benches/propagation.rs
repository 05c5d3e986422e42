//! Revocation propagation (SLI M9): the time from a revocation written to
//! Redis to its rejection by another process's verifier, on loopback.
//!
//! Starts a throwaway `redis-server`, then a second process (this binary
//! again) that keeps a Redis-synced revocation list and spins on the check a
//! verification makes. For each sample, this process revokes a new `jti` and
//! times until the other answers that it rejects it.
//!
//! - `library`: the revocation written by `Revocations::revoke` (what
//!   `jwtv revoke` calls), 200 samples;
//! - `cli`: the revocation written by running `jwtv revoke jti …` (process
//!   start included), 50 samples; needs `JWTV_BIN` (the `jwtv` binary).
//!
//! Prints p50, p99 and max per writer (target: p99 < 1 s).
//!
//!     cargo build --release -p jwtv-cli
//!     JWTV_BIN=target/release/jwtv cargo bench -p jwtv-benches --bench propagation

#![allow(clippy::std_instead_of_core, reason = "a std harness")]

#[path = "../../crates/jwtv-gateway/tests/support/redis_server.rs"]
mod redis_server;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use jwtv::{Claims, Error, Header};
use jwtv_gateway::{RedisOptions, Revocation, Revocations};

const CHILD_ENV: &str = "JWTV_PROPAGATION_SUBSCRIBER";

fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// The defaults, prefix included, as `jwtv revoke --to redis://…` uses them.
fn options() -> RedisOptions {
    RedisOptions::default()
}

/// The other process: answers `ready`, then for each `jti` read on stdin,
/// `watching`, then `rejected` as soon as its verifier's check rejects it.
fn subscriber(url: &str) {
    let revocations = Revocations::redis(url, options()).expect("redis");
    assert!(revocations.wait_synced(Duration::from_secs(5)), "first sync");
    let header = Header::from_json(br#"{"alg":"EdDSA"}"#).expect("header");
    let mut out = std::io::stdout().lock();
    writeln!(out, "ready").and_then(|()| out.flush()).expect("stdout");
    for jti in std::io::stdin().lock().lines() {
        let claims_json = format!(r#"{{"jti":"{}"}}"#, jti.expect("stdin"));
        let claims = Claims::from_json(claims_json.as_bytes()).expect("claims");
        writeln!(out, "watching").and_then(|()| out.flush()).expect("stdout");
        let deadline = Instant::now() + Duration::from_secs(10);
        while revocations.check(&header, &claims, None, unix_now()) != Err(Error::Revoked(jwtv::Field::Jti)) {
            assert!(Instant::now() < deadline, "not revoked after 10 s");
            std::thread::yield_now();
        }
        writeln!(out, "rejected").and_then(|()| out.flush()).expect("stdout");
    }
}

/// The nearest-rank `p`th percentile (`p` in whole percent) of sorted samples.
fn percentile(sorted: &[Duration], p: usize) -> Duration {
    let rank = (p * sorted.len()).div_ceil(100);
    sorted.get(rank.clamp(1, sorted.len()) - 1).copied().unwrap_or_default()
}

fn main() {
    if let Ok(url) = std::env::var(CHILD_ENV) {
        subscriber(&url);
        return;
    }
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo bench -- --list` and test discovery
    }
    let server = redis_server::RedisServer::start("propagation");
    let mut child = Command::new(std::env::current_exe().expect("this binary"))
        .env(CHILD_ENV, server.url())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the subscriber");
    let mut to_child = child.stdin.take().expect("stdin");
    let mut from_child = BufReader::new(child.stdout.take().expect("stdout"));
    let mut expect = |want: &str| {
        let mut line = String::new();
        from_child.read_line(&mut line).expect("read");
        assert_eq!(line.trim(), want);
    };
    expect("ready");

    let writer = Revocations::redis(&server.url(), options()).expect("redis");
    let jwtv_bin = std::env::var("JWTV_BIN").ok();
    let writers: [(&str, usize); 2] = [("library", 200), ("cli", 50)];
    println!("revocation propagation, Redis on loopback (write -> rejected by another process)");
    for (name, samples) in writers {
        if name == "cli" && jwtv_bin.is_none() {
            println!("{name:>8}: skipped (set JWTV_BIN to the jwtv binary)");
            continue;
        }
        let mut times = Vec::with_capacity(samples);
        for i in 0..samples {
            let jti = format!("{name}-{i}-{}", std::process::id());
            writeln!(to_child, "{jti}").expect("write");
            expect("watching");
            let until = unix_now() + 3600;
            let started = Instant::now();
            match (name, &jwtv_bin) {
                ("cli", Some(bin)) => {
                    let status = Command::new(bin)
                        .args(["revoke", "jti", &jti, "--until", &until.to_string(), "--to", &server.url()])
                        .stdout(Stdio::null())
                        .status()
                        .expect("run jwtv revoke");
                    assert!(status.success(), "jwtv revoke failed");
                }
                _ => writer.revoke(Revocation::Jti { id: jti.clone(), exp: until }).expect("revoke"),
            }
            expect("rejected");
            times.push(started.elapsed());
        }
        times.sort();
        println!(
            "{name:>8}: {samples} samples  p50 {:?}  p99 {:?}  max {:?}",
            percentile(&times, 50),
            percentile(&times, 99),
            times.last().copied().unwrap_or_default()
        );
    }
    drop(to_child);
    let _ = child.wait();
}
