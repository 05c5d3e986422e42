//! Remote key sets over HTTPS: a test CA and server certificates are made
//! here, at test time, and a local rustls server answers with a JWKS.

#![allow(clippy::std_instead_of_alloc, clippy::std_instead_of_core, reason = "a test harness on std")]

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use jwtv::{Algorithm, AlgorithmSet};
use jwtv_jwks::{CertificateProblem, FetchFailure, KeySetOptions, RefreshPolicy, RemoteJwks, TrustError, TrustRoots};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};

const JWKS: &str =
    r#"{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"k1","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}"#;

struct TestCa {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

impl TestCa {
    fn new(name: &str) -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        let issuer = CertifiedIssuer::self_signed(params, KeyPair::generate().expect("key")).expect("CA");
        Self { issuer }
    }

    fn pem(&self) -> String {
        self.issuer.pem()
    }

    /// A server certificate for `names` (host names or IP addresses),
    /// optionally already expired; returns (certificate DER, key DER).
    fn server(&self, names: &[&str], expired: bool) -> (Vec<u8>, Vec<u8>) {
        let key = KeyPair::generate().expect("key");
        let mut params =
            CertificateParams::new(names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>()).expect("params");
        if expired {
            params.not_before = rcgen::date_time_ymd(2000, 1, 1);
            params.not_after = rcgen::date_time_ymd(2001, 1, 1);
        }
        let cert = params.signed_by(&key, &self.issuer).expect("certificate");
        (cert.der().to_vec(), key.serialize_der())
    }
}

/// Serves `JWKS` over TLS with this certificate on 127.0.0.1 until the
/// test ends; returns the URL.
fn https_server(cert_der: Vec<u8>, key_der: Vec<u8>) -> String {
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(vec![CertificateDer::from(cert_der)], PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key_der)))
        .expect("server config");
    let config = Arc::new(config);
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("https://127.0.0.1:{}/jwks.json", listener.local_addr().expect("addr").port());
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(conn) = conn else { continue };
            let config = Arc::clone(&config);
            std::thread::spawn(move || {
                let Ok(session) = rustls::ServerConnection::new(config) else { return };
                let mut tls = rustls::StreamOwned::new(session, conn);
                let mut request = [0u8; 2048];
                // A client that refuses the certificate ends the handshake here.
                if tls.read(&mut request).is_err() {
                    return;
                }
                let _ = write!(
                    tls,
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{JWKS}",
                    JWKS.len()
                );
                tls.conn.send_close_notify();
                let _ = tls.flush();
            });
        }
    });
    url
}

fn options() -> KeySetOptions {
    KeySetOptions::for_algorithms(AlgorithmSet::of(&[Algorithm::EdDSA]))
}

fn policy() -> RefreshPolicy {
    let mut policy = RefreshPolicy::default();
    policy.fetch_timeout = Duration::from_secs(5);
    policy.backoff_min = Duration::from_secs(60);
    policy
}

/// Starts fetching and waits for the first fetch to end; returns the keys
/// served (if any) and the first failure (if any).
fn first_fetch(url: &str, roots: Option<&TrustRoots>) -> (Option<usize>, Option<FetchFailure>) {
    let remote = match roots {
        Some(roots) => RemoteJwks::with_trust(url, policy(), options(), roots),
        None => RemoteJwks::new(url, policy(), options()),
    }
    .expect("remote");
    for _ in 0..400 {
        if remote.status().fetches.total() > 0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    (remote.current().map(|(set, _)| set.len()), remote.status().last_failure)
}

#[test]
fn a_key_server_of_a_private_ca_is_trusted_through_its_ca_file() {
    let ca = TestCa::new("jwtv test CA");
    let (cert, key) = ca.server(&["127.0.0.1", "localhost"], false);
    let url = https_server(cert, key);
    let dir = std::env::temp_dir().join(format!("jwtv-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let ca_file = dir.join("ca.pem");
    std::fs::write(&ca_file, ca.pem()).expect("write");

    let roots = TrustRoots::from_pem_file(&ca_file).expect("CA file");
    assert!(roots.describe().ends_with("ca.pem (1 certificates)"), "{}", roots.describe());
    assert_eq!(first_fetch(&url, Some(&roots)), (Some(1), None));
}

#[test]
fn a_private_ca_unknown_to_the_system_store_is_an_unknown_issuer() {
    let ca = TestCa::new("jwtv test CA");
    let (cert, key) = ca.server(&["127.0.0.1"], false);
    let url = https_server(cert, key);
    let (keys, failure) = first_fetch(&url, None);
    assert_eq!(keys, None);
    assert_eq!(failure, Some(FetchFailure::Certificate(CertificateProblem::UnknownIssuer)));
    assert_eq!(
        FetchFailure::Certificate(CertificateProblem::UnknownIssuer).to_string(),
        "TLS certificate unknown issuer (not signed by a trusted CA)"
    );
}

#[test]
fn another_ca_than_the_one_trusted_is_an_unknown_issuer() {
    let ca = TestCa::new("jwtv test CA");
    let other = TestCa::new("another test CA");
    let (cert, key) = ca.server(&["127.0.0.1"], false);
    let url = https_server(cert, key);
    let roots = TrustRoots::from_pem(other.pem().as_bytes()).expect("roots");
    assert_eq!(first_fetch(&url, Some(&roots)).1, Some(FetchFailure::Certificate(CertificateProblem::UnknownIssuer)));
}

#[test]
fn an_expired_certificate_is_named_expired() {
    let ca = TestCa::new("jwtv test CA");
    let (cert, key) = ca.server(&["127.0.0.1"], true);
    let url = https_server(cert, key);
    let roots = TrustRoots::from_pem(ca.pem().as_bytes()).expect("roots");
    let (keys, failure) = first_fetch(&url, Some(&roots));
    assert_eq!(keys, None);
    assert_eq!(failure, Some(FetchFailure::Certificate(CertificateProblem::Expired)));
    assert_eq!(failure.expect("failure").to_string(), "TLS certificate expired");
}

#[test]
fn a_certificate_for_another_host_is_a_name_mismatch() {
    let ca = TestCa::new("jwtv test CA");
    let (cert, key) = ca.server(&["keys.other.example"], false);
    let url = https_server(cert, key);
    let roots = TrustRoots::from_pem(ca.pem().as_bytes()).expect("roots");
    let (keys, failure) = first_fetch(&url, Some(&roots));
    assert_eq!(keys, None);
    assert_eq!(failure, Some(FetchFailure::Certificate(CertificateProblem::NameMismatch)));
    assert_eq!(failure.expect("failure").to_string(), "TLS certificate not valid for the host name");
}

#[test]
fn a_ca_file_that_cannot_be_used_is_refused_with_its_reason() {
    let missing = std::env::temp_dir().join("jwtv-tls-no-such-file.pem");
    assert!(matches!(TrustRoots::from_pem_file(&missing), Err(TrustError::Read(_))));
    assert_eq!(TrustRoots::from_pem(b"").unwrap_err(), TrustError::NoCertificate);
    // A private key alone holds no certificate.
    let key = KeyPair::generate().expect("key").serialize_pem();
    assert_eq!(TrustRoots::from_pem(key.as_bytes()).unwrap_err(), TrustError::NoCertificate);
    let broken = "-----BEGIN CERTIFICATE-----\n%%%%\n-----END CERTIFICATE-----\n";
    assert!(matches!(TrustRoots::from_pem(broken.as_bytes()), Err(TrustError::Pem(_))));
}

#[test]
fn every_certificate_of_a_bundle_is_trusted() {
    let first = TestCa::new("first test CA");
    let second = TestCa::new("second test CA");
    let bundle = format!("{}{}", first.pem(), second.pem());
    let roots = TrustRoots::from_pem(bundle.as_bytes()).expect("bundle");
    assert_eq!(roots.describe(), "2 certificates");
    let (cert, key) = second.server(&["127.0.0.1"], false);
    assert_eq!(first_fetch(&https_server(cert, key), Some(&roots)), (Some(1), None));
}
