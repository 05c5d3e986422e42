//! `RemoteJwks` against a scripted HTTP server on 127.0.0.1.
//!
//! Time-dependent behaviour (freshness, refresh-ahead, backoff, cooldown)
//! runs on a `ManualClock` moved by the test, followed by `wake()`; only the
//! network timeout tests wait for real time (a few hundred milliseconds).

#![allow(clippy::std_instead_of_alloc, clippy::std_instead_of_core, reason = "a test harness on std")]

#[path = "support/http_server.rs"]
mod http_server;

use std::io::Write;
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use base64ct::{Base64UrlUnpadded, Encoding};
use http_server::{Answer, TestServer};
use jwtv::{DEFAULT_BUFFER_LEN, ErrorCode, Policy, Verifier};
use jwtv_jwks::{
    Clock, FetchFailure, FetchStateChange, JwksError, KeySet, KeySetOptions, ManualClock, RefreshPolicy, RemoteError,
    RemoteJwks,
};
use ring::signature::{Ed25519KeyPair, KeyPair};

const ISS: &str = "https://issuer.test";
const AUD: &str = "api";
const T0: u64 = 1_000_000;
const USER_AGENT: &str = concat!("jwtv-jwks/", env!("CARGO_PKG_VERSION"));

fn key(seed: u8) -> Ed25519KeyPair {
    Ed25519KeyPair::from_seed_unchecked(&[seed; 32]).expect("an Ed25519 seed")
}

/// A JWKS document of Ed25519 keys, each (kid, seed).
fn jwks(keys: &[(&str, u8)]) -> Vec<u8> {
    let members: Vec<String> = keys
        .iter()
        .map(|(kid, seed)| {
            let x = Base64UrlUnpadded::encode_string(key(*seed).public_key().as_ref());
            format!(r#"{{"kty":"OKP","crv":"Ed25519","alg":"EdDSA","kid":"{kid}","x":"{x}"}}"#)
        })
        .collect();
    format!(r#"{{"keys":[{}]}}"#, members.join(",")).into_bytes()
}

/// A token signed by the key of `seed`, naming `kid`.
fn token(kid: &str, seed: u8) -> String {
    let header = Base64UrlUnpadded::encode_string(format!(r#"{{"alg":"EdDSA","kid":"{kid}","typ":"JWT"}}"#).as_bytes());
    let claims = Base64UrlUnpadded::encode_string(format!(r#"{{"iss":"{ISS}","aud":"{AUD}","sub":"u1"}}"#).as_bytes());
    let signing_input = format!("{header}.{claims}");
    let signature = key(seed).sign(signing_input.as_bytes());
    format!("{signing_input}.{}", Base64UrlUnpadded::encode_string(signature.as_ref()))
}

/// Verifies `token` with `set`: `Ok` or the error code.
fn verify(set: &KeySet, token: &str) -> Result<(), ErrorCode> {
    let verifier = Verifier::new(set.keys(), Policy::new().issuer(ISS).audience(AUD).allow_missing_exp());
    let mut buf = [0u8; DEFAULT_BUFFER_LEN];
    verifier.verify(token, jwtv_jwks::unix_now(), &mut buf).map(|_| ()).map_err(|e| e.code())
}

fn kids(set: &KeySet) -> Vec<&str> {
    set.keys().iter().filter_map(|k| k.kid()).collect()
}

fn policy() -> RefreshPolicy {
    let mut policy = RefreshPolicy::default();
    policy.fetch_timeout = Duration::from_secs(5);
    policy
}

fn start(server: &TestServer, policy: RefreshPolicy, options: KeySetOptions) -> (RemoteJwks, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(T0));
    let remote =
        RemoteJwks::with_clock(&server.url("/jwks.json"), policy, options, clock.clone()).expect("a valid URL");
    (remote, clock)
}

/// Polls `condition` every 2 ms for up to 5 s.
fn wait_until(what: &str, condition: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        thread::sleep(Duration::from_millis(2));
    }
}

/// Waits until `n` fetches have ended.
fn wait_fetches(remote: &RemoteJwks, n: u64) {
    wait_until(&format!("{n} fetches"), || remote.status().fetches.total() >= n);
    assert_eq!(remote.status().fetches.total(), n, "exactly {n} fetches");
}

/// Moves the clock and wakes the thread.
fn advance(remote: &RemoteJwks, clock: &ManualClock, ms: u64) {
    clock.advance(Duration::from_millis(ms));
    remote.wake();
}

/// Gives the thread a moment to do something it should not do.
fn settle() {
    thread::sleep(Duration::from_millis(50));
}

#[test]
fn first_fetch_serves_keys() {
    let server = TestServer::start(|_| {
        Answer::ok(
            jwks(&[("k1", 1)]),
            &[("ETag", "\"v1\""), ("Cache-Control", "max-age=600"), ("Date", "Tue, 14 Nov 2023 22:13:20 GMT")],
        )
    });
    let (remote, _clock) = start(&server, policy(), KeySetOptions::default());
    assert_eq!(remote.url(), server.url("/jwks.json"));

    let started = Instant::now();
    let (set, generation) = remote.wait_ready(Duration::from_secs(5)).expect("keys within the timeout");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(generation, 1);
    assert_eq!(kids(&set), ["k1"]);
    assert_eq!(verify(&set, &token("k1", 1)), Ok(()));
    assert_eq!(verify(&set, &token("k1", 2)), Err(ErrorCode::BadSignature));

    // Warm: returns at once, same set.
    let (again, generation) = remote.wait_ready(Duration::ZERO).expect("warm");
    assert!(Arc::ptr_eq(&set, &again));
    assert_eq!(generation, 1);
    let (current, _) = remote.current().expect("served");
    assert!(Arc::ptr_eq(&set, &current));

    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].method, "GET");
    assert_eq!(requests[0].path, "/jwks.json");
    assert_eq!(requests[0].header("user-agent"), Some(USER_AGENT));
    assert_eq!(requests[0].header("if-none-match"), None);

    let status = remote.status();
    assert_eq!((status.generation, status.key_count, status.serving), (1, 1, true));
    assert_eq!(status.fetched_at, Some(T0));
    assert_eq!(status.fresh_until, Some(T0 + 600_000));
    assert_eq!(status.next_fetch_at, T0 + 480_000);
    assert_eq!(status.fetches.updated, 1);

    let date = remote.last_server_date().expect("a Date header");
    assert_eq!(date.server_unix_secs, 1_700_000_000);
    let now_ms = jwtv_jwks::unix_now() * 1000;
    assert!(date.received_unix_ms.abs_diff(now_ms) < 10_000, "received {} now {now_ms}", date.received_unix_ms);
    assert!(date.round_trip < Duration::from_secs(5));
    assert!(date.estimated_skew_ms() < 0, "the server's date is in the past");
}

#[test]
fn rotation_after_refresh_ahead() {
    let server =
        TestServer::start(|_| Answer::ok(jwks(&[("k1", 1)]), &[("ETag", "\"v1\""), ("Cache-Control", "max-age=600")]));
    let (remote, clock) = start(&server, policy(), KeySetOptions::default());
    let (old, generation) = remote.wait_ready(Duration::from_secs(5)).expect("warm");
    assert_eq!(generation, 1);

    server.set(|_| Answer::ok(jwks(&[("k2", 2)]), &[("ETag", "\"v2\""), ("Cache-Control", "max-age=600")]));
    // Just before 80% of the lifetime: nothing happens.
    advance(&remote, &clock, 479_999);
    settle();
    assert_eq!(server.count(), 1);
    assert_eq!(remote.current().map(|(_, g)| g), Some(1));

    advance(&remote, &clock, 1);
    wait_fetches(&remote, 2);
    let (new, generation) = remote.current().expect("served");
    assert_eq!(generation, 2);
    assert_eq!(remote.status().generation, 2);
    assert_eq!(kids(&new), ["k2"]);
    assert_eq!(verify(&new, &token("k2", 2)), Ok(()));
    assert_eq!(verify(&new, &token("k1", 1)), Err(ErrorCode::KeyNotFound), "the old key is gone");
    // Holders of the old set keep it until they drop it.
    assert_eq!(verify(&old, &token("k1", 1)), Ok(()));

    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[1].header("if-none-match"), Some("\"v1\""));
}

#[test]
fn not_modified_renews_freshness_without_reparsing() {
    let body = jwks(&[("k1", 1)]);
    let server = TestServer::start(move |request| {
        if request.header("if-none-match") == Some("\"v1\"") {
            Answer::status(304, &[("ETag", "\"v1\""), ("Cache-Control", "max-age=600")])
        } else {
            Answer::ok(body.clone(), &[("ETag", "\"v1\""), ("Cache-Control", "max-age=600")])
        }
    });
    let (remote, clock) = start(&server, policy(), KeySetOptions::default());
    let (before, _) = remote.wait_ready(Duration::from_secs(5)).expect("warm");
    assert_eq!(remote.status().fresh_until, Some(T0 + 600_000));

    advance(&remote, &clock, 480_000);
    wait_fetches(&remote, 2);
    let status = remote.status();
    assert_eq!(status.generation, 1);
    assert_eq!(status.fetched_at, Some(T0 + 480_000));
    assert_eq!(status.fresh_until, Some(T0 + 480_000 + 600_000));
    assert_eq!(status.next_fetch_at, T0 + 480_000 + 480_000);
    assert_eq!((status.fetches.updated, status.fetches.unchanged), (1, 1));
    let (after, generation) = remote.current().expect("served");
    assert_eq!(generation, 1);
    assert!(Arc::ptr_eq(&before, &after), "the same parsed set");

    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[1].header("if-none-match"), Some("\"v1\""));
}

#[test]
fn failures_keep_the_last_good_set_and_back_off() {
    const LIMIT: usize = 4096;
    let good = jwks(&[("k1", 1)]);
    let oversize = {
        let mut doc = br#"{"keys":[],"pad":""#.to_vec();
        doc.resize(LIMIT + 100, b'x');
        doc.extend_from_slice(br#""}"#);
        doc
    };
    // A close-delimited body (no Content-Length): the limit applies while reading.
    let oversize_unannounced = {
        let mut raw = b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n".to_vec();
        raw.extend_from_slice(&oversize);
        raw
    };
    let step = Arc::new(AtomicUsize::new(0));
    let server = {
        let (step, good) = (Arc::clone(&step), good.clone());
        TestServer::start(move |_| match step.load(Ordering::SeqCst) {
            0 | 5 => Answer::ok(good.clone(), &[("Cache-Control", "max-age=600")]),
            1 => Answer::status(500, &[]),
            2 => Answer::ok("{not json", &[]),
            3 => Answer::ok(oversize.clone(), &[]),
            _ => Answer::Raw(oversize_unannounced.clone()),
        })
    };
    let mut options = KeySetOptions::default();
    options.max_bytes = LIMIT;
    let (remote, clock) = start(&server, policy(), options);
    remote.wait_ready(Duration::from_secs(5)).expect("warm");

    let too_large = FetchFailure::Malformed(JwksError::TooLarge { limit: LIMIT });
    let expected = [FetchFailure::Status(500), FetchFailure::Malformed(JwksError::Malformed), too_large, too_large];
    let mut wait = 480_000;
    let mut delays = Vec::new();
    for (i, failure) in expected.into_iter().enumerate() {
        step.store(i + 1, Ordering::SeqCst);
        advance(&remote, &clock, wait);
        let fetches = u64::try_from(i).expect("small") + 2;
        wait_fetches(&remote, fetches);
        let status = remote.status();
        assert_eq!(status.last_failure, Some(failure), "step {}", i + 1);
        assert_eq!(status.consecutive_failures, u32::try_from(i + 1).expect("small"));
        assert!(status.serving);
        let (set, generation) = remote.current().expect("the last good set is still served");
        assert_eq!((kids(&set), generation), (vec!["k1"], 1));
        wait = status.next_fetch_at - clock.now_ms();
        delays.push(wait);
    }
    assert_eq!(delays, [1_000, 2_000, 4_000, 8_000]);
    let fetches = remote.status().fetches;
    assert_eq!((fetches.http_errors, fetches.malformed), (1, 3));

    // The server recovers with the same document: no new generation.
    step.store(5, Ordering::SeqCst);
    advance(&remote, &clock, wait);
    wait_fetches(&remote, 6);
    let status = remote.status();
    assert_eq!((status.consecutive_failures, status.last_failure, status.generation), (0, None, 1));
    assert_eq!(server.count(), 6);
}

#[test]
fn a_hanging_server_times_out_and_the_last_set_stays() {
    let server = TestServer::start(|_| Answer::ok(jwks(&[("k1", 1)]), &[("Cache-Control", "max-age=600")]));
    let mut policy = policy();
    policy.fetch_timeout = Duration::from_millis(300);
    let (remote, clock) = start(&server, policy, KeySetOptions::default());
    remote.wait_ready(Duration::from_secs(5)).expect("warm");

    server.set(|_| Answer::Hang);
    let started = Instant::now();
    advance(&remote, &clock, 480_000);
    wait_fetches(&remote, 2);
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_millis(250), "gave up after {elapsed:?}");
    assert!(elapsed < Duration::from_secs(3), "gave up after {elapsed:?}");
    let status = remote.status();
    assert_eq!(status.last_failure, Some(FetchFailure::Timeout));
    assert_eq!(status.fetches.timeouts, 1);
    assert_eq!(remote.current().map(|(set, g)| (kids(&set).len(), g)), Some((1, 1)));
    assert_eq!(server.count(), 2);
}

#[test]
fn cold_wait_ready_against_a_hanging_server_gives_up() {
    let server = TestServer::start(|_| Answer::Hang);
    let mut policy = policy();
    policy.fetch_timeout = Duration::from_millis(300);
    let (remote, clock) = start(&server, policy, KeySetOptions::default());

    let started = Instant::now();
    assert!(remote.wait_ready(Duration::from_secs(1)).is_none());
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_secs(1) && elapsed < Duration::from_millis(1_500), "{elapsed:?}");
    assert!(remote.current().is_none());
    let status = remote.status();
    assert_eq!(status.last_failure, Some(FetchFailure::Timeout));
    assert!(!status.serving);

    // The thread is waiting out its backoff, so it stops at once.
    drop(remote);
    wait_until("the thread to exit", || Arc::strong_count(&clock) == 1);
}

#[test]
fn connection_refused_is_a_transport_failure() {
    let addr = {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("address")
    };
    let clock = Arc::new(ManualClock::new(T0));
    let remote = RemoteJwks::with_clock(&format!("http://{addr}/jwks.json"), policy(), KeySetOptions::default(), clock)
        .expect("a valid URL");
    wait_fetches(&remote, 1);
    let status = remote.status();
    assert_eq!(status.last_failure, Some(FetchFailure::Transport));
    assert_eq!((status.fetches.transport_errors, status.consecutive_failures), (1, 1));
    assert_eq!(status.next_fetch_at, T0 + 1_000);
    assert!(remote.current().is_none());
    assert!(remote.wait_ready(Duration::ZERO).is_none());
    assert!(remote.last_server_date().is_none());
}

#[test]
fn a_tls_failure_is_a_transport_failure() {
    // A server that answers the TLS handshake with plain HTTP.
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("address");
    let server = thread::spawn(move || {
        let (mut stream, _) = listener.accept().expect("a connection");
        let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}");
    });
    let clock = Arc::new(ManualClock::new(T0));
    let remote =
        RemoteJwks::with_clock(&format!("https://{addr}/jwks.json"), policy(), KeySetOptions::default(), clock)
            .expect("a valid URL");
    wait_fetches(&remote, 1);
    assert_eq!(remote.status().last_failure, Some(FetchFailure::Transport));
    assert!(remote.current().is_none());
    server.join().expect("the server thread");
}

#[test]
fn max_age_sets_freshness_clamped_to_max_ttl() {
    let max_age = Arc::new(std::sync::Mutex::new("public, max-age=120"));
    let server = {
        let max_age = Arc::clone(&max_age);
        TestServer::start(move |_| {
            let value = *max_age.lock().expect("lock");
            Answer::ok(jwks(&[("k1", 1)]), &[("Cache-Control", value)])
        })
    };
    let mut policy = policy();
    policy.max_ttl = Duration::from_secs(3_600);
    let (remote, clock) = start(&server, policy, KeySetOptions::default());
    remote.wait_ready(Duration::from_secs(5)).expect("warm");
    let status = remote.status();
    assert_eq!(status.fetched_at, Some(T0));
    assert_eq!(status.fresh_until, Some(T0 + 120_000));
    assert_eq!(status.next_fetch_at, T0 + 96_000);

    *max_age.lock().expect("lock") = "max-age=999999";
    advance(&remote, &clock, 96_000);
    wait_fetches(&remote, 2);
    let status = remote.status();
    assert_eq!(status.fetched_at, Some(T0 + 96_000));
    assert_eq!(status.fresh_until, Some(T0 + 96_000 + 3_600_000), "clamped to max_ttl");
    assert_eq!(status.generation, 1);
}

#[test]
fn unknown_kid_storm_fetches_at_most_once_per_cooldown() {
    let server = TestServer::start(|_| Answer::ok(jwks(&[("k1", 1)]), &[("Cache-Control", "max-age=600")]));
    let (remote, clock) = start(&server, policy(), KeySetOptions::default());
    let (set, _) = remote.wait_ready(Duration::from_secs(5)).expect("warm");
    let rotated = token("k2", 2);
    assert_eq!(verify(&set, &rotated), Err(ErrorCode::KeyNotFound));

    let storm = |remote: &RemoteJwks| -> usize {
        const THREADS: usize = 4;
        let barrier = Arc::new(Barrier::new(THREADS));
        let workers: Vec<_> = (0..THREADS)
            .map(|_| {
                let (remote, barrier) = (remote.clone(), Arc::clone(&barrier));
                thread::spawn(move || {
                    barrier.wait();
                    (0..10_000 / THREADS).filter(|_| remote.request_refetch()).count()
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().expect("storm thread")).sum()
    };

    // Within the cooldown of the first fetch: nothing.
    assert_eq!(storm(&remote), 0);
    settle();
    assert_eq!(server.count(), 1);

    // The issuer rotates; past the cooldown one storm makes exactly one fetch.
    server.set(|_| Answer::ok(jwks(&[("k1", 1), ("k2", 2)]), &[("Cache-Control", "max-age=600")]));
    clock.advance(Duration::from_secs(31));
    assert_eq!(storm(&remote), 1);
    wait_fetches(&remote, 2);
    let (set, generation) = remote.current().expect("served");
    assert_eq!(generation, 2);
    assert_eq!(verify(&set, &rotated), Ok(()));
    assert_eq!(storm(&remote), 0, "the fetch just happened");
    settle();
    assert_eq!(server.count(), 2);

    // Just inside the cooldown of that fetch: refused; past it, one more.
    advance(&remote, &clock, 29_999);
    assert!(!remote.request_refetch());
    clock.advance(Duration::from_millis(1));
    assert!(remote.request_refetch());
    assert!(!remote.request_refetch());
    wait_fetches(&remote, 3);
    settle();
    assert_eq!(server.count(), 3);
    assert_eq!(remote.status().fetches.unchanged, 1);
    // Two refetches were granted: the rotation (a new set), then the same set again.
    let refetches = remote.status().refetches;
    assert_eq!((refetches.updated, refetches.unchanged, refetches.failed), (1, 1, 0));
    assert_eq!(refetches.refused, 3 * 10_000 - 1 + 2, "three storms, one granted; two single refusals");
    assert_eq!(jwtv_jwks::KeySource::Remote(remote.clone()).gauges().refetches, refetches);
}

#[test]
fn the_thread_stops_with_the_last_handle() {
    let server = TestServer::start(|_| Answer::ok(jwks(&[("k1", 1)]), &[("Cache-Control", "max-age=600")]));
    let (remote, clock) = start(&server, policy(), KeySetOptions::default());
    remote.wait_ready(Duration::from_secs(5)).expect("warm");
    assert_eq!(Arc::strong_count(&clock), 2, "the test and the refresh state");

    // A clone keeps the thread alive.
    let clone = remote.clone();
    drop(remote);
    advance(&clone, &clock, 480_000);
    wait_fetches(&clone, 2);
    assert_eq!(server.count(), 2);

    drop(clone);
    wait_until("the thread to exit", || Arc::strong_count(&clock) == 1);
    clock.advance(Duration::from_secs(3_600));
    settle();
    assert_eq!(server.count(), 2, "no fetch after the last handle is gone");
}

#[test]
fn the_thread_stops_after_an_in_flight_fetch_ends() {
    let server = TestServer::start(|_| Answer::Hang);
    let mut policy = policy();
    policy.fetch_timeout = Duration::from_millis(300);
    let (remote, clock) = start(&server, policy, KeySetOptions::default());
    assert_eq!(server.wait_for_requests(1, Duration::from_secs(5)), 1);
    drop(remote);
    let started = Instant::now();
    wait_until("the thread to exit", || Arc::strong_count(&clock) == 1);
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(server.count(), 1);
}

#[test]
fn redirects_are_not_followed() {
    let server = TestServer::start(|request| {
        if request.path == "/moved" {
            Answer::status(301, &[("Location", "/jwks.json")])
        } else {
            Answer::ok(jwks(&[("k1", 1)]), &[])
        }
    });
    let clock = Arc::new(ManualClock::new(T0));
    let remote =
        RemoteJwks::with_clock(&server.url("/moved"), policy(), KeySetOptions::default(), clock).expect("a valid URL");
    wait_fetches(&remote, 1);
    assert_eq!(remote.status().last_failure, Some(FetchFailure::Status(301)));
    assert!(remote.current().is_none());
    assert_eq!(server.count(), 1);
}

#[test]
fn invalid_urls_are_refused() {
    let make = |url: &str| RemoteJwks::new(url, RefreshPolicy::default(), KeySetOptions::default()).map(|_| ());
    assert_eq!(make("ftp://issuer.example/jwks.json"), Err(RemoteError::UnsupportedScheme("ftp".to_owned())));
    assert_eq!(make("file:///etc/jwks.json").map_err(|e| matches!(e, RemoteError::UnsupportedScheme(_))), Err(true));
    for url in ["not a url", "", "/jwks.json", "https://", "http://exa mple/jwks"] {
        let error = make(url).expect_err(url);
        assert!(matches!(error, RemoteError::InvalidUrl { .. }), "{url:?}: {error:?}");
        assert!(error.to_string().starts_with("invalid JWKS URL"), "{error}");
    }
    assert!(make("ftp://x/").expect_err("ftp").to_string().contains("http and https"));
}

#[test]
fn unknown_kid_storm_through_a_key_source() {
    use jwtv_jwks::KeySource;

    // What a server verifier does per request: verify over the source's
    // current set, and report an unknown kid to the source.
    let check = |source: &KeySource, token: &str| {
        let (set, _) = source.current(Duration::from_secs(5)).expect("a key set");
        let result = verify(&set, token);
        if result == Err(ErrorCode::KeyNotFound) {
            source.unknown_kid();
        }
        result
    };
    let server = TestServer::start(|_| Answer::ok(jwks(&[("k1", 1)]), &[("Cache-Control", "max-age=600")]));
    let (remote, clock) = start(&server, policy(), KeySetOptions::default());
    let source = Arc::new(KeySource::Remote(remote.clone()));
    check(&source, &token("k1", 1)).expect("first use waits for the first fetch");

    // The issuer rotates; 10,000 requests carry the new kid from 4 threads.
    server.set(|_| Answer::ok(jwks(&[("k1", 1), ("k2", 2)]), &[("Cache-Control", "max-age=600")]));
    clock.advance(Duration::from_secs(31));
    let rotated = Arc::new(token("k2", 2));
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let (source, rotated) = (Arc::clone(&source), Arc::clone(&rotated));
            thread::spawn(move || {
                (0..2_500)
                    .map(|_| check(&source, rotated.as_str()))
                    .filter(|result| *result != Err(ErrorCode::KeyNotFound))
                    .count()
            })
        })
        .collect();
    for worker in workers {
        worker.join().expect("worker");
    }
    wait_fetches(&remote, 2);
    settle();
    assert_eq!(server.count(), 2, "one refetch for the whole storm");
    check(&source, &rotated).expect("the new key is served");
    let gauges = source.gauges();
    assert_eq!((gauges.generation, gauges.key_count), (2, 2));
}

/// Fetch failures are reported once per change of state, however many
/// fetches fail: the first failure, a failure for another reason, and the
/// first success after them.
#[test]
fn fetch_state_changes_are_reported_once_each() {
    let server = TestServer::start(|_| Answer::ok(jwks(&[("k1", 1)]), &[("Cache-Control", "max-age=600")]));
    let (remote, clock) = start(&server, policy(), KeySetOptions::default());
    wait_fetches(&remote, 1);
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = Arc::clone(&seen);
    jwtv_jwks::KeySource::Remote(remote.clone())
        .on_change(move |change| sink.lock().expect("not poisoned").push(change.clone()));

    server.set(|_| Answer::status(500, &[]));
    advance(&remote, &clock, 480_000);
    wait_fetches(&remote, 2);
    for n in 3..=4 {
        advance(&remote, &clock, 3_600_000);
        wait_fetches(&remote, n);
    }
    server.set(|_| Answer::status(503, &[]));
    advance(&remote, &clock, 3_600_000);
    wait_fetches(&remote, 5);
    server.set(|_| Answer::ok(jwks(&[("k1", 1)]), &[("Cache-Control", "max-age=600")]));
    advance(&remote, &clock, 3_600_000);
    wait_fetches(&remote, 6);
    settle();

    let url = server.url("/jwks.json");
    let seen = seen.lock().expect("not poisoned").clone();
    assert_eq!(
        seen,
        [
            FetchStateChange::Failing {
                url: url.clone(),
                failure: FetchFailure::Status(500),
                consecutive: 1,
                serving: true
            },
            FetchStateChange::Failing {
                url: url.clone(),
                failure: FetchFailure::Status(503),
                consecutive: 4,
                serving: true
            },
            FetchStateChange::Recovered { url: url.clone(), after_failures: 4 },
        ]
    );
    assert!(seen[0].to_string().contains("failing (1 in a row): HTTP status 500"), "{}", seen[0]);
}
