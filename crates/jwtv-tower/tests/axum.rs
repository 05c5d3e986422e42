//! A real axum server on 127.0.0.1 behind the layer, asked over TCP.

#![allow(clippy::std_instead_of_alloc, clippy::std_instead_of_core, reason = "a test harness on std")]

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::get;
use base64ct::{Base64UrlUnpadded, Encoding as _};
use jwtv::{Algorithm, AlgorithmSet, VerifyingKey};
use jwtv_gateway::{Policy, Verifier};
use jwtv_jwks::{KeySet, KeySource};
use jwtv_tower::{JwtLayer, Token, TokenSource};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

/// A test secret, in no deployment.
const TEST_SECRET: &[u8] = b"jwtv-tower test secret, 32 bytes!";

fn hs256(claims: &str) -> String {
    let header = Base64UrlUnpadded::encode_string(br#"{"alg":"HS256","kid":"k1","typ":"JWT"}"#);
    let payload = Base64UrlUnpadded::encode_string(claims.as_bytes());
    let input = format!("{header}.{payload}");
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, TEST_SECRET);
    let tag = ring::hmac::sign(&key, input.as_bytes());
    format!("{input}.{}", Base64UrlUnpadded::encode_string(tag.as_ref()))
}

fn now() -> u64 {
    jwtv_jwks::unix_now()
}

fn valid_token() -> String {
    hs256(&format!(r#"{{"sub":"alice","aud":"api","exp":{},"iat":{}}}"#, now() + 600, now()))
}

fn expired_token() -> String {
    hs256(&format!(r#"{{"sub":"alice","aud":"api","exp":{},"iat":{}}}"#, now() - 600, now() - 1200))
}

fn policy() -> Policy {
    Policy::new(AlgorithmSet::of(&[Algorithm::HS256])).audience("api")
}

fn fixed_layer() -> JwtLayer {
    let key = VerifyingKey::hmac(Algorithm::HS256, TEST_SECRET).expect("key").with_kid("k1").expect("kid");
    let verifier = Verifier::new(KeySource::fixed(KeySet::from_keys(vec![key])), policy()).expect("verifier");
    JwtLayer::new(verifier)
}

async fn whoami(token: Token) -> String {
    let sub = token.claim("sub").and_then(|sub| sub.as_json_str()).map(|s| s.chars().collect::<String>());
    format!("sub={}", sub.unwrap_or_default())
}

async fn hello(token: Option<Token>) -> &'static str {
    if token.is_some() { "member" } else { "guest" }
}

fn app(layer: JwtLayer) -> Router {
    Router::new()
        .route("/whoami", get(whoami))
        .layer(layer.clone())
        .merge(Router::new().route("/hello", get(hello)).layer(layer.optional()))
        .route("/health", get(|| async { "ok" }))
        .route("/unprotected-whoami", get(whoami))
}

async fn serve(app: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move { axum::serve(listener, app).await });
    address
}

#[derive(Debug)]
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

async fn get_with(address: SocketAddr, path: &str, headers: &[(&str, &str)]) -> Answer {
    let mut stream = tokio::net::TcpStream::connect(address).await.expect("connect");
    let mut request = format!("GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.expect("read");
    let text = String::from_utf8(raw).expect("UTF-8");
    let (head, body) = text.split_once("\r\n\r\n").expect("head");
    let mut lines = head.lines();
    let status = lines.next().and_then(|l| l.split(' ').nth(1)).and_then(|s| s.parse().ok()).expect("status");
    let headers = lines.filter_map(|l| l.split_once(": ")).map(|(n, v)| (n.to_owned(), v.to_owned())).collect();
    Answer { status, headers, body: body.to_owned() }
}

async fn fetch(address: SocketAddr, path: &str, token: Option<&str>) -> Answer {
    match token {
        Some(token) => get_with(address, path, &[("Authorization", &format!("Bearer {token}"))]).await,
        None => get_with(address, path, &[]).await,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_valid_token_reaches_the_handler_and_others_get_rfc_6750_answers() {
    let address = serve(app(fixed_layer().realm("orders"))).await;

    let ok = fetch(address, "/whoami", Some(&valid_token())).await;
    assert_eq!((ok.status, ok.body.as_str()), (200, "sub=alice"), "{ok:?}");

    let none = fetch(address, "/whoami", None).await;
    assert_eq!(none.status, 401);
    assert_eq!(none.header("www-authenticate"), Some(r#"Bearer realm="orders""#));

    let expired = fetch(address, "/whoami", Some(&expired_token())).await;
    assert_eq!(expired.status, 401);
    assert_eq!(
        expired.header("www-authenticate"),
        Some(r#"Bearer realm="orders", error="invalid_token", error_description="expired""#)
    );
    let tampered = valid_token().replace(".ey", ".eX");
    let bad = fetch(address, "/whoami", Some(&tampered)).await;
    assert_eq!(bad.status, 401);
    assert!(bad.header("www-authenticate").is_some_and(|h| h.contains("error_description=\"")), "{bad:?}");
    let empty = get_with(address, "/whoami", &[("Authorization", "Bearer")]).await;
    assert_eq!(
        empty.header("www-authenticate"),
        Some(r#"Bearer realm="orders", error="invalid_token", error_description="malformed""#)
    );

    // Another scheme is no bearer token.
    let basic = get_with(address, "/whoami", &[("Authorization", "Basic dXNlcjpwYXNz")]).await;
    assert_eq!(basic.header("www-authenticate"), Some(r#"Bearer realm="orders""#));
    assert_eq!(fetch(address, "/health", None).await.status, 200);
}

#[tokio::test]
async fn requests_without_a_token_are_counted_for_the_metrics() {
    let layer = fixed_layer();
    let verifier = std::sync::Arc::clone(layer.verifier());
    let address = serve(app(layer)).await;
    fetch(address, "/whoami", None).await;
    fetch(address, "/hello", None).await;
    fetch(address, "/whoami", Some(&valid_token())).await;
    let metrics = verifier.metrics();
    assert_eq!((metrics.requests_without_token, metrics.verified), (2, 1));
    assert!(metrics.to_prometheus().contains("jwtv_requests_without_token_total 2\n"));
}

#[tokio::test]
async fn an_optional_layer_lets_requests_without_a_token_through_but_never_a_bad_token() {
    let address = serve(app(fixed_layer())).await;
    assert_eq!(fetch(address, "/hello", None).await.body, "guest");
    assert_eq!(fetch(address, "/hello", Some(&valid_token())).await.body, "member");
    let bad = fetch(address, "/hello", Some(&expired_token())).await;
    assert_eq!(bad.status, 401, "{bad:?}");
    assert!(bad.header("www-authenticate").is_some_and(|h| h.ends_with(r#"error_description="expired""#)));
}

#[tokio::test]
async fn a_handler_asking_for_a_token_outside_the_layer_never_runs() {
    let address = serve(app(fixed_layer())).await;
    let answer = fetch(address, "/unprotected-whoami", Some(&valid_token())).await;
    assert_eq!(answer.status, 500, "{answer:?}");
    // Behind an optional layer, `Token` (not `Option<Token>`) answers the challenge.
    let optional = Router::new().route("/whoami", get(whoami)).layer(fixed_layer().optional());
    let address = serve(optional).await;
    let none = fetch(address, "/whoami", None).await;
    assert_eq!((none.status, none.header("www-authenticate")), (401, Some(r#"Bearer realm="api""#)));
}

#[tokio::test]
async fn tokens_are_read_from_a_cookie_or_a_query_parameter_when_asked() {
    let source = TokenSource::first([TokenSource::cookie("session"), TokenSource::query("access_token")]);
    let address = serve(app(fixed_layer().token_source(source))).await;
    let token = valid_token();
    let by_cookie = get_with(address, "/whoami", &[("Cookie", &format!("theme=dark; session={token}"))]).await;
    assert_eq!(by_cookie.status, 200, "{by_cookie:?}");
    let by_query = fetch(address, &format!("/whoami?access_token={token}"), None).await;
    assert_eq!(by_query.status, 200, "{by_query:?}");
    // The header is not a source of this layer.
    assert_eq!(fetch(address, "/whoami", Some(&token)).await.status, 401);
}

/// A key server that accepts connections and never answers.
fn silent_key_server() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}/jwks.json", listener.local_addr().expect("address"));
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in listener.incoming().flatten() {
            held.push(conn);
        }
    });
    url
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_server_that_never_answers_holds_up_no_worker_and_no_route() {
    let mut policy = policy();
    policy.set_string("keys.jwks_url", &silent_key_server()).expect("url");
    policy.set("refresh.fetch_timeout_ms", "30000").expect("timeout");
    // A policy that would make a blocking host wait 10 s for the first fetch.
    policy.set("refresh.first_fetch_timeout_ms", "10000").expect("first fetch");
    let layer = JwtLayer::from_policy(policy).expect("layer");
    let started = Instant::now();
    assert!(!layer.ready(Duration::from_millis(300)).await, "no key set");
    assert!(started.elapsed() < Duration::from_secs(5), "ready waited {:?}", started.elapsed());
    let address = serve(app(layer)).await;

    // More protected requests in flight than the runtime has workers.
    let token = valid_token();
    let started = Instant::now();
    let protected: Vec<_> = (0..8)
        .map(|_| {
            let token = token.clone();
            tokio::spawn(async move { fetch(address, "/whoami", Some(&token)).await })
        })
        .collect();
    let health = fetch(address, "/health", None).await;
    assert_eq!(health.status, 200);
    for request in protected {
        let answer = request.await.expect("request");
        assert_eq!(answer.status, 503, "{answer:?}");
        assert_eq!(answer.header("retry-after"), Some("5"));
    }
    // Generous on a loaded machine; a blocked worker would take 10 s.
    assert!(started.elapsed() < Duration::from_secs(5), "took {:?}", started.elapsed());
}

#[tokio::test]
async fn ready_is_at_once_for_a_fixed_key_set() {
    let layer = fixed_layer();
    let started = Instant::now();
    assert!(layer.ready(Duration::from_secs(10)).await);
    assert!(started.elapsed() < Duration::from_secs(1));
    assert_eq!(layer.verifier().metrics().keys.key_count, 1);
}
