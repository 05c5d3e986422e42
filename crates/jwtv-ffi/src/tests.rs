//! The ABI as C calls it: policies built field by field, verifiers made
//! from them, the revocation list's status, and their errors.

use std::ffi::{CStr, CString, c_char};
use std::path::PathBuf;
use std::ptr;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::policy::{
    JWTV_NONBLOCKING, jwtv_policy, jwtv_policy_add_hmac_secret, jwtv_policy_add_key_source, jwtv_policy_add_pem_key,
    jwtv_policy_add_string, jwtv_policy_check, jwtv_policy_free, jwtv_policy_from_file, jwtv_policy_from_json,
    jwtv_policy_new, jwtv_policy_set, jwtv_policy_set_jwks, jwtv_policy_set_member, jwtv_policy_set_string,
    jwtv_policy_to_json, jwtv_verifier_from_policy,
};
use crate::status::{jwtv_error_name, jwtv_status};
use crate::verifier::{
    jwtv_revocation_status, jwtv_verifier, jwtv_verifier_free, jwtv_verifier_from_policy_file,
    jwtv_verifier_from_policy_json, jwtv_verifier_metrics, jwtv_verifier_metrics_prometheus,
    jwtv_verifier_record_no_token, jwtv_verifier_revocation_status, jwtv_verifier_take_state_change,
    jwtv_verifier_verify, jwtv_verifier_wait_ready,
};
use crate::{JWTV_REJECTION_SLOTS, jwtv_metrics};

const EXAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples");
/// jti `example-0001`, sub `user-1234`, kid `test-es256`, exp 4102444800.
const ES256_TOKEN: &str = include_str!("../../../examples/tokens/valid-es256.jwt");
/// The same claims, kid `test-eddsa`.
const EDDSA_TOKEN: &str = include_str!("../../../examples/tokens/valid-eddsa.jwt");
const NOW: u64 = 1_800_000_000;

/// A fresh folder under the system's temporary folder, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("jwtv-ffi-test-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        Self(dir)
    }

    /// Writes `name` atomically (temporary file, then rename) and returns its path.
    fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.0.join(name);
        let temp = self.0.join(format!(".{name}.tmp"));
        std::fs::write(&temp, text).expect("write");
        std::fs::rename(&temp, &path).expect("rename");
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn c(s: &str) -> CString {
    CString::new(s).expect("no NUL")
}

/// The message a call wrote to its error buffer.
fn message(err: &[c_char]) -> String {
    // SAFETY: the calls always NUL-terminate what they write; the buffer starts zeroed.
    unsafe { CStr::from_ptr(err.as_ptr()) }.to_string_lossy().into_owned()
}

/// An empty policy.
fn empty_policy() -> *mut jwtv_policy {
    let mut policy = ptr::null_mut();
    // SAFETY: a valid out-pointer.
    assert_eq!(unsafe { jwtv_policy_new(&mut policy) }, jwtv_status::JWTV_OK);
    policy
}

/// `jwtv_policy_set`: the status and the message.
fn set(policy: *mut jwtv_policy, path: &str, json: &str) -> (jwtv_status, String) {
    let mut err: [c_char; 256] = [0; 256];
    let (path, json) = (c(path), c(json));
    // SAFETY: a live policy, NUL-terminated strings, a buffer of err.len() bytes.
    let status = unsafe { jwtv_policy_set(policy, path.as_ptr(), json.as_ptr(), err.as_mut_ptr(), err.len()) };
    (status, message(&err))
}

/// `jwtv_policy_add_string`: the status and the message.
fn add(policy: *mut jwtv_policy, path: &str, value: &str) -> (jwtv_status, String) {
    let mut err: [c_char; 256] = [0; 256];
    let (path, value) = (c(path), c(value));
    // SAFETY: as `set`.
    let status = unsafe { jwtv_policy_add_string(policy, path.as_ptr(), value.as_ptr(), err.as_mut_ptr(), err.len()) };
    (status, message(&err))
}

/// `jwtv_policy_set_string`: the status.
fn set_string(policy: *mut jwtv_policy, path: &str, value: &str) -> jwtv_status {
    let (path, value) = (c(path), c(value));
    // SAFETY: as `set`, without an error buffer.
    unsafe { jwtv_policy_set_string(policy, path.as_ptr(), value.as_ptr(), ptr::null_mut(), 0) }
}

/// A policy over examples/jwks.json for the example tokens.
fn example_policy() -> *mut jwtv_policy {
    let policy = empty_policy();
    assert_eq!(set_string(policy, "keys.jwks_file", &format!("{EXAMPLES}/jwks.json")), jwtv_status::JWTV_OK);
    for alg in ["ES256", "EdDSA"] {
        assert_eq!(add(policy, "algorithms", alg).0, jwtv_status::JWTV_OK);
    }
    assert_eq!(add(policy, "issuers", "https://issuer.example").0, jwtv_status::JWTV_OK);
    assert_eq!(add(policy, "audiences", "api").0, jwtv_status::JWTV_OK);
    policy
}

/// `jwtv_verifier_from_policy`: the verifier, or the status and message.
fn new_verifier(policy: *const jwtv_policy) -> Result<*mut jwtv_verifier, (jwtv_status, String)> {
    let mut verifier = ptr::null_mut();
    let mut err: [c_char; 256] = [0; 256];
    // SAFETY: a live policy, a valid out-pointer and a buffer of err.len() bytes.
    let status = unsafe { jwtv_verifier_from_policy(policy, 0, &mut verifier, err.as_mut_ptr(), err.len()) };
    if status == jwtv_status::JWTV_OK { Ok(verifier) } else { Err((status, message(&err))) }
}

/// Verifies `token` at NOW; the status and the detail.
fn verify(verifier: *const jwtv_verifier, token: &str) -> (jwtv_status, String) {
    let token = token.trim();
    let mut detail: [c_char; 64] = [0; 64];
    // SAFETY: a live verifier, `token.len()` readable bytes, a detail buffer of its length.
    let status = unsafe {
        jwtv_verifier_verify(
            verifier,
            token.as_ptr(),
            token.len(),
            NOW,
            ptr::null_mut(),
            detail.as_mut_ptr(),
            detail.len(),
        )
    };
    // SAFETY: jwtv_verifier_verify wrote a NUL-terminated detail.
    (status, unsafe { CStr::from_ptr(detail.as_ptr()) }.to_string_lossy().into_owned())
}

fn revocation_status(verifier: *const jwtv_verifier) -> jwtv_revocation_status {
    let mut out = jwtv_revocation_status::default();
    // SAFETY: a live verifier and a writable struct.
    assert_eq!(unsafe { jwtv_verifier_revocation_status(verifier, &mut out) }, jwtv_status::JWTV_OK);
    out
}

fn prometheus(verifier: *const jwtv_verifier) -> String {
    let mut len = 0;
    // SAFETY: a live verifier; NULL buffer with a length out-pointer asks for the size.
    let status = unsafe { jwtv_verifier_metrics_prometheus(verifier, ptr::null_mut(), 0, &mut len) };
    assert_eq!(status, jwtv_status::JWTV_BUFFER_TOO_SMALL);
    let mut buf = vec![0; len + 1];
    // SAFETY: a buffer of len + 1 bytes.
    let status = unsafe { jwtv_verifier_metrics_prometheus(verifier, buf.as_mut_ptr(), buf.len(), ptr::null_mut()) };
    assert_eq!(status, jwtv_status::JWTV_OK);
    // SAFETY: NUL-terminated by the call.
    unsafe { CStr::from_ptr(buf.as_ptr()) }.to_string_lossy().into_owned()
}

#[test]
fn the_new_codes_are_named() {
    // SAFETY: static strings.
    let name = |n| unsafe { CStr::from_ptr(jwtv_error_name(n)) };
    assert_eq!(name(17), c"revoked");
    assert_eq!(u32::from(jwtv_status::JWTV_REVOKED), 17);
    assert_eq!(name(18), c"unavailable");
    assert_eq!(u32::from(jwtv_status::JWTV_UNAVAILABLE), 18);
    assert_eq!(name(107), c"embedded_nul");
    assert_eq!(u32::from(jwtv_status::JWTV_EMBEDDED_NUL), 107);
}

#[test]
fn a_revocation_file_rejects_revoked_tokens_and_is_re_read() {
    let dir = TempDir::new();
    let list = dir.write("revoked.json", r#"{"jti": {"other-token": 4102444800}, "sub": {"someone-else": 1}}"#);
    let policy = example_policy();
    assert_eq!(set_string(policy, "revocations.source", list.to_str().expect("UTF-8 path")), jwtv_status::JWTV_OK);
    let verifier = new_verifier(policy).expect("verifier");
    // SAFETY: made by jwtv_policy_new; the verifier does not need it.
    unsafe { jwtv_policy_free(policy) };

    assert_eq!(verify(verifier, ES256_TOKEN).0, jwtv_status::JWTV_OK);
    let s = revocation_status(verifier);
    assert!(s.has_list && s.connected);
    assert_eq!((s.entries, s.jti, s.sub, s.kid, s.sync_errors), (2, 1, 1, 0, 0));
    assert!(s.last_sync_unix > 1_700_000_000 && s.sync_lag_secs < 60, "{s:?}");

    // The operator revokes the token by its jti and the key of the other one;
    // the file is looked at again after a second.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    dir.write(
        "revoked.json",
        r#"{"jti": {"other-token": 4102444800, "example-0001": 4102444800}, "kid": {"test-eddsa": 1}}"#,
    );
    assert_eq!(verify(verifier, ES256_TOKEN), (jwtv_status::JWTV_REVOKED, "jti".to_owned()));
    assert_eq!(verify(verifier, EDDSA_TOKEN), (jwtv_status::JWTV_REVOKED, "kid".to_owned()));
    let s = revocation_status(verifier);
    assert_eq!((s.entries, s.jti, s.sub, s.kid), (3, 2, 0, 1));

    // A broken version is counted and the last good list keeps serving.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    dir.write("revoked.json", "{ not json");
    assert_eq!(verify(verifier, ES256_TOKEN).0, jwtv_status::JWTV_REVOKED);
    let s = revocation_status(verifier);
    assert_eq!((s.entries, s.sync_errors, s.connected), (3, 1, false));

    let mut metrics: jwtv_metrics = jwtv_metrics {
        verified: 0,
        rejected: [0; JWTV_REJECTION_SLOTS],
        cache_hits: 0,
        cache_misses: 0,
        cache_entries: 0,
        key_count: 0,
        key_set_age_secs: 0,
        key_set_generation: 0,
        fetches_updated: 0,
        fetches_unchanged: 0,
        fetches_transport_errors: 0,
        fetches_timeouts: 0,
        fetches_http_errors: 0,
        fetches_malformed: 0,
    };
    // SAFETY: a live verifier and a writable struct.
    assert_eq!(unsafe { jwtv_verifier_metrics(verifier, &mut metrics) }, jwtv_status::JWTV_OK);
    assert_eq!(metrics.rejected.get(16), Some(&3));
    let text = prometheus(verifier);
    for line in [
        "jwtv_verifications_total{result=\"revoked\"} 3\n",
        "jwtv_revocations{kind=\"jti\"} 2\n",
        "jwtv_revocations{kind=\"kid\"} 1\n",
        "jwtv_revocations_connected 0\n",
        "jwtv_revocations_sync_errors_total 1\n",
        "jwtv_revocations_last_sync_timestamp_seconds ",
        "jwtv_revocations_sync_lag_seconds ",
    ] {
        assert!(text.contains(line), "{line:?} not in\n{text}");
    }
    // SAFETY: made by jwtv_verifier_from_policy, freed once.
    unsafe { jwtv_verifier_free(verifier) };
}

#[test]
fn bad_revocation_sources_are_config_errors_with_a_message() {
    let dir = TempDir::new();
    let invalid = dir.write("invalid.json", r#"{"jti": {"a": "tomorrow"}}"#);
    let missing = dir.0.join("missing.json");
    let cases = [
        (missing.to_str().expect("UTF-8").to_owned(), "missing.json"),
        (invalid.to_str().expect("UTF-8").to_owned(), "invalid revocation list"),
        ("https://revocations.example/list".to_owned(), "unsupported scheme"),
        ("rediss://127.0.0.1".to_owned(), "not supported"),
        (String::new(), "empty"),
    ];
    for (source, expected) in cases {
        let policy = example_policy();
        assert_eq!(set_string(policy, "revocations.source", &source), jwtv_status::JWTV_OK);
        let (status, err) = new_verifier(policy).expect_err("refused");
        assert_eq!(status, jwtv_status::JWTV_CONFIG_ERROR);
        assert!(err.starts_with("revocations.source: ") && err.contains(expected), "{err:?} for {source:?}");
        // The same check without making a verifier (what nginx -t runs).
        let mut buf: [c_char; 256] = [0; 256];
        // SAFETY: a live policy and a buffer of buf.len() bytes.
        let status = unsafe { jwtv_policy_check(policy, buf.as_mut_ptr(), buf.len()) };
        assert_eq!((status, message(&buf)), (jwtv_status::JWTV_CONFIG_ERROR, err));
        // SAFETY: made by jwtv_policy_new.
        unsafe { jwtv_policy_free(policy) };
    }
}

#[test]
fn the_setters_and_the_status_check_their_arguments() {
    let policy = example_policy();
    let path = c"revocations.source";
    // SAFETY: NULL and invalid arguments are what is tested; the rest is valid.
    unsafe {
        let null = ptr::null_mut();
        assert_eq!(
            jwtv_policy_set_string(null, path.as_ptr(), c"x".as_ptr(), null.cast(), 0),
            jwtv_status::JWTV_NULL_ARGUMENT
        );
        assert_eq!(
            jwtv_policy_set_string(policy, path.as_ptr(), ptr::null(), null.cast(), 0),
            jwtv_status::JWTV_NULL_ARGUMENT
        );
        assert_eq!(
            jwtv_policy_set(policy, ptr::null(), c"1".as_ptr(), null.cast(), 0),
            jwtv_status::JWTV_NULL_ARGUMENT
        );
        let not_utf8 = [0xffu8, 0xfe, 0];
        let status = jwtv_policy_set_string(policy, path.as_ptr(), not_utf8.as_ptr().cast(), null.cast(), 0);
        assert_eq!(status, jwtv_status::JWTV_INVALID_UTF8);
        let mut out = ptr::null_mut();
        assert_eq!(jwtv_policy_new(ptr::null_mut()), jwtv_status::JWTV_NULL_ARGUMENT);
        assert_eq!(
            jwtv_verifier_from_policy(ptr::null(), 0, &mut out, null.cast(), 0),
            jwtv_status::JWTV_NULL_ARGUMENT
        );
        assert_eq!(jwtv_verifier_from_policy(policy, 4, &mut out, null.cast(), 0), jwtv_status::JWTV_INVALID_ARGUMENT);
        assert!(out.is_null(), "*out is NULL after a failure");
        jwtv_policy_free(ptr::null_mut());
    }
    // The refused calls left the policy without a list.
    let verifier = new_verifier(policy).expect("verifier");
    let s = revocation_status(verifier);
    assert!(!s.has_list && !s.connected);
    assert_eq!((s.entries, s.last_sync_unix, s.sync_lag_secs), (0, 0, 0));
    assert!(!prometheus(verifier).contains("jwtv_revocations"));
    let mut out = jwtv_revocation_status::default();
    // SAFETY: NULL arguments are refused before any use.
    unsafe {
        assert_eq!(jwtv_verifier_revocation_status(ptr::null(), &mut out), jwtv_status::JWTV_NULL_ARGUMENT);
        assert_eq!(jwtv_verifier_revocation_status(verifier, ptr::null_mut()), jwtv_status::JWTV_NULL_ARGUMENT);
        jwtv_verifier_free(verifier);
        jwtv_policy_free(policy);
    }
}

#[test]
fn a_redis_source_is_set_up_without_waiting_forever() {
    // Nothing listens on port 1: the verifier is made (after the first-sync
    // wait), serves an empty list and reports the back end unreachable.
    let policy = example_policy();
    assert_eq!(set_string(policy, "revocations.source", "redis://127.0.0.1:1/0"), jwtv_status::JWTV_OK);
    let started = std::time::Instant::now();
    let verifier = new_verifier(policy).expect("verifier");
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    assert_eq!(verify(verifier, ES256_TOKEN).0, jwtv_status::JWTV_OK);
    let s = revocation_status(verifier);
    assert!(s.has_list && !s.connected && !s.synced && !s.fail_closed);
    assert_eq!((s.entries, s.last_sync_unix), (0, 0));
    assert!(s.sync_lag_secs < 60, "the lag counts from the moment the list was opened: {s:?}");
    assert!(prometheus(verifier).contains("jwtv_revocations_synced 0\n"));

    // Failing closed, the same list refuses every token with JWTV_UNAVAILABLE.
    let refused = set(policy, "revocations.max_staleness_secs", "0");
    assert_eq!(refused, (jwtv_status::JWTV_CONFIG_ERROR, "revocations.max_staleness_secs: must be positive".into()));
    assert_eq!(set(policy, "revocations.fail_closed", "true").0, jwtv_status::JWTV_OK);
    let strict = new_verifier(policy).expect("verifier");
    assert_eq!(verify(strict, ES256_TOKEN).0, jwtv_status::JWTV_UNAVAILABLE);
    assert!(revocation_status(strict).fail_closed);
    // SAFETY: made by jwtv_verifier_from_policy and jwtv_policy_new, freed once.
    unsafe {
        jwtv_verifier_free(strict);
        jwtv_verifier_free(verifier);
        jwtv_policy_free(policy);
    }
}

#[test]
fn a_nonblocking_verifier_never_waits_for_its_keys() {
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("listener");
    let policy = empty_policy();
    let url = format!("http://{}/jwks.json", silent.local_addr().expect("address"));
    assert_eq!(set_string(policy, "keys.jwks_url", &url), jwtv_status::JWTV_OK);
    assert_eq!(add(policy, "algorithms", "ES256").0, jwtv_status::JWTV_OK);
    assert_eq!(set(policy, "refresh.first_fetch_timeout_ms", "5000").0, jwtv_status::JWTV_OK);
    let mut verifier = ptr::null_mut();
    // SAFETY: a live policy and a valid out-pointer.
    let status = unsafe { jwtv_verifier_from_policy(policy, JWTV_NONBLOCKING, &mut verifier, ptr::null_mut(), 0) };
    assert_eq!(status, jwtv_status::JWTV_OK);
    let started = std::time::Instant::now();
    assert_eq!(verify(verifier, ES256_TOKEN), (jwtv_status::JWTV_UNAVAILABLE, "keys".to_owned()));
    assert!(started.elapsed() < std::time::Duration::from_millis(500), "{:?}", started.elapsed());
    // SAFETY: made here, freed once.
    unsafe {
        jwtv_verifier_free(verifier);
        jwtv_policy_free(policy);
    }
}

#[test]
fn keys_in_memory_have_typed_entries() {
    let policy = empty_policy();
    assert_eq!(add(policy, "algorithms", "ES256").0, jwtv_status::JWTV_OK);
    assert_eq!(add(policy, "audiences", "api").0, jwtv_status::JWTV_OK);
    let pem = std::fs::read(format!("{EXAMPLES}/keys/test-es256.pub.pem")).expect("example key");
    let mut err: [c_char; 256] = [0; 256];
    // SAFETY: a live policy, pem.len() readable bytes, NUL-terminated strings, a buffer of err.len() bytes.
    unsafe {
        let status = jwtv_policy_add_pem_key(
            policy,
            pem.as_ptr(),
            pem.len(),
            c"ES256".as_ptr(),
            c"test-es256".as_ptr(),
            err.as_mut_ptr(),
            err.len(),
        );
        assert_eq!(status, jwtv_status::JWTV_OK, "{}", message(&err));
        let status = jwtv_policy_add_pem_key(
            policy,
            pem.as_ptr(),
            pem.len(),
            c"ES999".as_ptr(),
            ptr::null(),
            err.as_mut_ptr(),
            err.len(),
        );
        assert_eq!(status, jwtv_status::JWTV_INVALID_ARGUMENT);
        let short = b"short";
        let status = jwtv_policy_add_hmac_secret(
            policy,
            short.as_ptr(),
            short.len(),
            c"HS256".as_ptr(),
            ptr::null(),
            err.as_mut_ptr(),
            err.len(),
        );
        assert_eq!(status, jwtv_status::JWTV_CONFIG_ERROR);
        assert!(message(&err).starts_with("keys.secrets[0]: "), "{}", message(&err));
        let jwks = b"{\"keys\":[]}";
        let status = jwtv_policy_set_jwks(policy, jwks.as_ptr(), jwks.len(), err.as_mut_ptr(), err.len());
        assert_eq!(status, jwtv_status::JWTV_CONFIG_ERROR, "a JWKS without a usable key");
    }
    let verifier = new_verifier(policy).expect("a PEM key");
    assert_eq!(verify(verifier, ES256_TOKEN).0, jwtv_status::JWTV_OK);
    // The document holds the key inline; the secret was refused.
    let mut len = 0;
    // SAFETY: NULL buffer asks for the length.
    let status = unsafe { jwtv_policy_to_json(policy, ptr::null_mut(), 0, &mut len) };
    assert_eq!(status, jwtv_status::JWTV_BUFFER_TOO_SMALL);
    let mut buf: Vec<c_char> = vec![0; len + 1];
    // SAFETY: a buffer of len + 1 bytes.
    let status = unsafe { jwtv_policy_to_json(policy, buf.as_mut_ptr(), buf.len(), ptr::null_mut()) };
    assert_eq!(status, jwtv_status::JWTV_OK);
    let document = message(&buf);
    assert!(document.contains(r#""pem":[{"pem":"-----BEGIN PUBLIC KEY-----"#), "{document}");
    assert!(!document.contains("secrets"), "{document}");
    // SAFETY: made here, freed once.
    unsafe {
        jwtv_verifier_free(verifier);
        jwtv_policy_free(policy);
    }
}

#[test]
fn rule_lists_past_their_bound_are_refused_never_cut() {
    for path in ["issuers", "audiences", "required_claims", "understood_crit"] {
        let policy = example_policy();
        assert_eq!(set(policy, path, "[]").0, jwtv_status::JWTV_OK);
        for i in 0..crate::JWTV_MAX_LIST_LEN {
            assert_eq!(add(policy, path, &format!("{path}-{i}")).0, jwtv_status::JWTV_OK, "{path} #{i}");
        }
        let refused = add(policy, path, "one-too-many");
        assert_eq!(refused, (jwtv_status::JWTV_CONFIG_ERROR, format!("{path}: at most 32 entries (33 given)")));
        // SAFETY: made by jwtv_policy_new, freed once.
        unsafe { jwtv_policy_free(policy) };
    }
    let policy = example_policy();
    let mut err: [c_char; 256] = [0; 256];
    for i in 0..=crate::JWTV_MAX_LIST_LEN {
        let name = c(&format!("claim-{i}"));
        // SAFETY: a live policy, NUL-terminated strings and a buffer of err.len() bytes.
        let status = unsafe {
            jwtv_policy_set_member(
                policy,
                c"required_claim_values".as_ptr(),
                name.as_ptr(),
                c"v".as_ptr(),
                err.as_mut_ptr(),
                err.len(),
            )
        };
        let expected = if i < crate::JWTV_MAX_LIST_LEN { jwtv_status::JWTV_OK } else { jwtv_status::JWTV_CONFIG_ERROR };
        assert_eq!(status, expected, "#{i}");
    }
    assert_eq!(message(&err), "required_claim_values: at most 32 entries (33 given)");
    assert_eq!(set(policy, "leeway_secs", "300").0, jwtv_status::JWTV_OK);
    assert_eq!(
        set(policy, "leeway_secs", "301").1,
        "leeway_secs: at most 300 s (clock skew, not token lifetime; 301 given)"
    );
    assert_eq!(set(policy, "leeway_secs", "sixty").0, jwtv_status::JWTV_CONFIG_ERROR);
    // SAFETY: made by jwtv_policy_new, freed once.
    unsafe { jwtv_policy_free(policy) };
}

#[test]
fn policy_documents_name_a_revocation_list() {
    let dir = TempDir::new();
    dir.write("revoked.json", r#"{"sub": {"user-1234": 1900000000}}"#);
    let policy = format!(
        r#"{{"keys": {{"jwks_file": "{EXAMPLES}/jwks.json"}}, "algorithms": ["ES256"], "audiences": ["api"],
            "revocations": {{"source": "revoked.json"}}}}"#
    );
    let base = c(dir.0.to_str().expect("UTF-8"));
    let mut err: [c_char; 256] = [0; 256];
    let mut verifier = ptr::null_mut();
    let mut handle = ptr::null_mut();
    // SAFETY: valid buffers, lengths and out-pointers.
    unsafe {
        let status = jwtv_policy_from_json(
            policy.as_ptr(),
            policy.len(),
            base.as_ptr(),
            &mut handle,
            err.as_mut_ptr(),
            err.len(),
        );
        assert_eq!(status, jwtv_status::JWTV_OK);
        assert_eq!(jwtv_policy_check(handle, err.as_mut_ptr(), err.len()), jwtv_status::JWTV_OK);
        jwtv_policy_free(handle);
        let status = jwtv_verifier_from_policy_json(
            policy.as_ptr(),
            policy.len(),
            base.as_ptr(),
            &mut verifier,
            err.as_mut_ptr(),
            err.len(),
        );
        assert_eq!(status, jwtv_status::JWTV_OK);
    }
    // Issued (iat 1767225600) before the subject's cut-off.
    assert_eq!(verify(verifier, ES256_TOKEN), (jwtv_status::JWTV_REVOKED, "sub".to_owned()));
    let s = revocation_status(verifier);
    assert_eq!((s.has_list, s.entries, s.sub), (true, 1, 1));
    // SAFETY: made by jwtv_verifier_from_policy_json, freed once.
    unsafe { jwtv_verifier_free(verifier) };

    // The check reads the list without making a verifier.
    let missing = policy.replace("revoked.json", "missing.json");
    let mut handle = ptr::null_mut();
    // SAFETY: as above.
    let status = unsafe {
        assert_eq!(
            jwtv_policy_from_json(
                missing.as_ptr(),
                missing.len(),
                base.as_ptr(),
                &mut handle,
                err.as_mut_ptr(),
                err.len()
            ),
            jwtv_status::JWTV_OK
        );
        let status = jwtv_policy_check(handle, err.as_mut_ptr(), err.len());
        jwtv_policy_free(handle);
        status
    };
    assert_eq!(status, jwtv_status::JWTV_CONFIG_ERROR);
    let text = message(&err);
    assert!(text.starts_with("revocations.source: ") && text.contains("missing.json"), "{text}");
    // A document that is not one is refused with the field path, nothing made.
    // SAFETY: as above.
    let status =
        unsafe { jwtv_policy_from_json(b"[]".as_ptr(), 2, ptr::null(), &mut handle, err.as_mut_ptr(), err.len()) };
    assert_eq!(status, jwtv_status::JWTV_CONFIG_ERROR);
    assert!(message(&err).contains("expected a JSON object at the top"));
}

/// Every call that makes a handle sets `*out` to NULL when it fails, whatever
/// it held: a caller never frees or uses a stale handle.
#[test]
fn every_failed_call_leaves_its_handle_null() {
    let missing = c"/nonexistent/policy.json";
    let bad_json = b"{\"keys\": 1}";
    let policy = example_policy();
    let verifier = new_verifier(policy).expect("verifier");
    let forged = "eyJhbGciOiJFUzI1NiJ9.e30.AAAA";
    // SAFETY: each call gets live handles or NULL, readable bytes with their
    // lengths, and out-pointers to locals; `*out` starts as a dangling
    // sentinel that no call may read, only overwrite.
    unsafe {
        let mut policy_out: *mut jwtv_policy = ptr::NonNull::dangling().as_ptr();
        assert_eq!(
            jwtv_policy_from_file(missing.as_ptr(), &mut policy_out, ptr::null_mut(), 0),
            jwtv_status::JWTV_CONFIG_ERROR
        );
        assert!(policy_out.is_null(), "jwtv_policy_from_file");
        policy_out = ptr::NonNull::dangling().as_ptr();
        let status =
            jwtv_policy_from_json(bad_json.as_ptr(), bad_json.len(), ptr::null(), &mut policy_out, ptr::null_mut(), 0);
        assert_eq!(status, jwtv_status::JWTV_CONFIG_ERROR);
        assert!(policy_out.is_null(), "jwtv_policy_from_json");
        policy_out = ptr::NonNull::dangling().as_ptr();
        let status = jwtv_policy_from_json(ptr::null(), 3, ptr::null(), &mut policy_out, ptr::null_mut(), 0);
        assert_eq!(status, jwtv_status::JWTV_NULL_ARGUMENT);
        assert!(policy_out.is_null(), "jwtv_policy_from_json, NULL bytes");

        let mut verifier_out: *mut jwtv_verifier = ptr::NonNull::dangling().as_ptr();
        assert_eq!(
            jwtv_verifier_from_policy(ptr::null(), 0, &mut verifier_out, ptr::null_mut(), 0),
            jwtv_status::JWTV_NULL_ARGUMENT
        );
        assert!(verifier_out.is_null(), "jwtv_verifier_from_policy");
        verifier_out = ptr::NonNull::dangling().as_ptr();
        assert_eq!(
            jwtv_verifier_from_policy_file(missing.as_ptr(), &mut verifier_out, ptr::null_mut(), 0),
            jwtv_status::JWTV_CONFIG_ERROR
        );
        assert!(verifier_out.is_null(), "jwtv_verifier_from_policy_file");
        verifier_out = ptr::NonNull::dangling().as_ptr();
        let status = jwtv_verifier_from_policy_json(
            bad_json.as_ptr(),
            bad_json.len(),
            ptr::null(),
            &mut verifier_out,
            ptr::null_mut(),
            0,
        );
        assert_eq!(status, jwtv_status::JWTV_CONFIG_ERROR);
        assert!(verifier_out.is_null(), "jwtv_verifier_from_policy_json");

        let mut token_out = ptr::NonNull::dangling().as_ptr();
        let status =
            jwtv_verifier_verify(verifier, forged.as_ptr(), forged.len(), NOW, &mut token_out, ptr::null_mut(), 0);
        assert_eq!(status, jwtv_status::JWTV_BAD_SIGNATURE);
        assert!(token_out.is_null(), "jwtv_verifier_verify");
        token_out = ptr::NonNull::dangling().as_ptr();
        let status =
            jwtv_verifier_verify(ptr::null(), forged.as_ptr(), forged.len(), NOW, &mut token_out, ptr::null_mut(), 0);
        assert_eq!(status, jwtv_status::JWTV_NULL_ARGUMENT);
        assert!(token_out.is_null(), "jwtv_verifier_verify, NULL verifier");

        jwtv_verifier_free(verifier);
        jwtv_policy_free(policy);
    }
}

/// `jwtv_verifier_wait_ready`: the status and what it wrote (`None`: nothing).
fn wait_ready(verifier: *const jwtv_verifier, timeout_ms: u32) -> (jwtv_status, Option<bool>) {
    // Neither true nor false: a byte the call must overwrite, read only through `ready_byte`.
    let mut ready_byte: u8 = 2;
    // SAFETY: a live verifier and a writable one-byte out-parameter, written only as a bool.
    let status = unsafe { jwtv_verifier_wait_ready(verifier, timeout_ms, (&raw mut ready_byte).cast::<bool>()) };
    let ready = match ready_byte {
        0 => Some(false),
        1 => Some(true),
        _ => None,
    };
    (status, ready)
}

/// A verifier over the JWKS URL `url`, for the example tokens.
fn url_verifier(url: &str, flags: u32) -> *mut jwtv_verifier {
    let policy = empty_policy();
    assert_eq!(set_string(policy, "keys.jwks_url", url), jwtv_status::JWTV_OK);
    assert_eq!(add(policy, "algorithms", "ES256").0, jwtv_status::JWTV_OK);
    assert_eq!(add(policy, "issuers", "https://issuer.example").0, jwtv_status::JWTV_OK);
    assert_eq!(add(policy, "audiences", "api").0, jwtv_status::JWTV_OK);
    let mut verifier = ptr::null_mut();
    // SAFETY: a live policy and a valid out-pointer.
    let status = unsafe { jwtv_verifier_from_policy(policy, flags, &mut verifier, ptr::null_mut(), 0) };
    assert_eq!(status, jwtv_status::JWTV_OK);
    // SAFETY: made by jwtv_policy_new; the verifier does not need it.
    unsafe { jwtv_policy_free(policy) };
    verifier
}

#[test]
fn keys_in_the_policy_and_key_files_are_ready_at_once() {
    let policy = example_policy();
    let from_file = new_verifier(policy).expect("verifier");
    // SAFETY: made by jwtv_policy_new, freed once.
    unsafe { jwtv_policy_free(policy) };
    let policy = empty_policy();
    for (list, value) in [("algorithms", "ES256"), ("issuers", "https://issuer.example"), ("audiences", "api")] {
        assert_eq!(add(policy, list, value).0, jwtv_status::JWTV_OK);
    }
    let jwks = std::fs::read(format!("{EXAMPLES}/jwks.json")).expect("example JWKS");
    // SAFETY: a live policy and jwks.len() readable bytes.
    let status = unsafe { jwtv_policy_set_jwks(policy, jwks.as_ptr(), jwks.len(), ptr::null_mut(), 0) };
    assert_eq!(status, jwtv_status::JWTV_OK);
    let fixed = new_verifier(policy).expect("verifier");
    for verifier in [from_file, fixed] {
        let started = std::time::Instant::now();
        assert_eq!(wait_ready(verifier, 0), (jwtv_status::JWTV_OK, Some(true)));
        assert_eq!(wait_ready(verifier, 60_000), (jwtv_status::JWTV_OK, Some(true)));
        assert!(started.elapsed() < std::time::Duration::from_secs(5), "{:?}", started.elapsed());
        assert_eq!(verify(verifier, ES256_TOKEN).0, jwtv_status::JWTV_OK);
    }
    // SAFETY: made here, freed once.
    unsafe {
        jwtv_verifier_free(from_file);
        jwtv_verifier_free(fixed);
        jwtv_policy_free(policy);
    }
}

#[test]
fn a_key_server_that_never_answers_is_not_ready_and_the_wait_is_bounded() {
    // Connections are accepted (by the kernel) and never answered.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("listener");
    let url = format!("http://{}/jwks.json", silent.local_addr().expect("address"));
    for flags in [0, JWTV_NONBLOCKING] {
        let verifier = url_verifier(&url, flags);
        assert_eq!(wait_ready(verifier, 0), (jwtv_status::JWTV_OK, Some(false)));
        let started = std::time::Instant::now();
        assert_eq!(wait_ready(verifier, 200), (jwtv_status::JWTV_OK, Some(false)));
        let waited = started.elapsed();
        assert!(waited >= std::time::Duration::from_millis(190), "returned early: {waited:?}");
        assert!(waited < std::time::Duration::from_secs(3), "waited {waited:?}");
        // SAFETY: made here, freed once.
        unsafe { jwtv_verifier_free(verifier) };
    }
}

#[test]
fn a_key_server_that_answers_late_makes_the_verifier_ready() {
    let server = std::net::TcpListener::bind("127.0.0.1:0").expect("listener");
    let url = format!("http://{}/jwks.json", server.local_addr().expect("address"));
    let jwks = std::fs::read_to_string(format!("{EXAMPLES}/jwks.json")).expect("example JWKS");
    let serving = std::thread::spawn(move || {
        use std::io::{Read, Write};
        let (mut stream, _) = server.accept().expect("a connection");
        std::thread::sleep(std::time::Duration::from_millis(300));
        let mut request = [0u8; 4096];
        let _ = stream.read(&mut request).expect("the request");
        let response = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{jwks}",
            jwks.len()
        );
        stream.write_all(response.as_bytes()).expect("the answer");
    });
    let verifier = url_verifier(&url, JWTV_NONBLOCKING);
    assert_eq!(verify(verifier, ES256_TOKEN), (jwtv_status::JWTV_UNAVAILABLE, "keys".to_owned()));
    assert_eq!(wait_ready(verifier, 30_000), (jwtv_status::JWTV_OK, Some(true)));
    assert_eq!(verify(verifier, ES256_TOKEN), (jwtv_status::JWTV_OK, String::new()));
    serving.join().expect("the server thread");
    // SAFETY: made here, freed once.
    unsafe { jwtv_verifier_free(verifier) };
}

#[test]
fn waiting_for_keys_checks_its_arguments() {
    let policy = example_policy();
    let verifier = new_verifier(policy).expect("verifier");
    let mut ready = false;
    // SAFETY: NULL arguments are refused before any use; the rest is valid.
    unsafe {
        assert_eq!(jwtv_verifier_wait_ready(ptr::null(), 0, &mut ready), jwtv_status::JWTV_NULL_ARGUMENT);
        assert_eq!(jwtv_verifier_wait_ready(ptr::null(), 1000, ptr::null_mut()), jwtv_status::JWTV_NULL_ARGUMENT);
        let started = std::time::Instant::now();
        assert_eq!(jwtv_verifier_wait_ready(verifier, 1000, ptr::null_mut()), jwtv_status::JWTV_NULL_ARGUMENT);
        assert!(started.elapsed() < std::time::Duration::from_secs(1), "refused without waiting");
    }
    assert!(!ready, "nothing written after a failure");
    // SAFETY: made here, freed once.
    unsafe {
        jwtv_verifier_free(verifier);
        jwtv_policy_free(policy);
    }
}

/// `jwtv_policy_add_key_source`: the status and the message.
fn add_key_source(policy: *mut jwtv_policy, form: &str, location: &str) -> (jwtv_status, String) {
    let mut err: [c_char; 256] = [0; 256];
    let (form, location) = (c(form), c(location));
    // SAFETY: as `set`.
    let status =
        unsafe { jwtv_policy_add_key_source(policy, form.as_ptr(), location.as_ptr(), err.as_mut_ptr(), err.len()) };
    (status, message(&err))
}

#[test]
fn key_sources_added_one_by_one_are_merged() {
    let dir = TempDir::new();
    let es = dir.write("es.json", &format!(r#"{{"keys":[{}]}}"#, example_key("test-es256")));
    let ed = dir.write("ed.json", &format!(r#"{{"keys":[{}]}}"#, example_key("test-eddsa")));
    let policy = empty_policy();
    for alg in ["ES256", "EdDSA"] {
        assert_eq!(add(policy, "algorithms", alg).0, jwtv_status::JWTV_OK);
    }
    assert_eq!(add(policy, "audiences", "api").0, jwtv_status::JWTV_OK);
    assert_eq!(add_key_source(policy, "jwks_file", es.to_str().unwrap()).0, jwtv_status::JWTV_OK);
    assert_eq!(add_key_source(policy, "jwks_file", ed.to_str().unwrap()).0, jwtv_status::JWTV_OK);
    let verifier = new_verifier(policy).expect("verifier");
    for name in ["valid-es256", "valid-eddsa"] {
        let token = std::fs::read_to_string(format!("{EXAMPLES}/tokens/{name}.jwt")).unwrap();
        assert_eq!(verify(verifier, &token).0, jwtv_status::JWTV_OK, "{name}");
    }
    let (status, message) = add_key_source(policy, "pem", "k.pem");
    assert_eq!(status, jwtv_status::JWTV_CONFIG_ERROR);
    assert!(
        message.starts_with("keys: `pem`: a key source to add is jwks_file, jwks_url or issuer_discovery"),
        "{message}"
    );
    // SAFETY: live handles, freed once.
    unsafe {
        jwtv_verifier_free(verifier);
        jwtv_policy_free(policy);
    }
}

/// The JWK of examples/jwks.json with this kid, as JSON text.
fn example_key(kid: &str) -> String {
    let jwks: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(format!("{EXAMPLES}/jwks.json")).unwrap()).unwrap();
    let keys = jwks["keys"].as_array().unwrap();
    keys.iter().find(|k| k["kid"] == kid).unwrap().to_string()
}

#[test]
fn requests_without_a_token_are_counted() {
    let verifier = new_verifier(example_policy()).expect("verifier");
    // SAFETY: a live verifier, then NULL.
    unsafe {
        assert_eq!(jwtv_verifier_record_no_token(verifier), jwtv_status::JWTV_OK);
        assert_eq!(jwtv_verifier_record_no_token(verifier), jwtv_status::JWTV_OK);
        assert_eq!(jwtv_verifier_record_no_token(ptr::null()), jwtv_status::JWTV_NULL_ARGUMENT);
    }
    assert!(prometheus(verifier).contains("jwtv_requests_without_token_total 2\n"));
    // SAFETY: freed once.
    unsafe { jwtv_verifier_free(verifier) };
}

/// Takes one state change: its status, message and whether it is a failure.
fn take_change(verifier: *const jwtv_verifier, cap: usize) -> (jwtv_status, String, usize, bool) {
    let mut buf: Vec<c_char> = vec![0; cap.max(1)];
    let (mut len, mut failing) = (usize::MAX, false);
    // SAFETY: a live verifier, `cap` writable bytes (or a NULL buffer for 0), valid out-pointers.
    let status = unsafe {
        jwtv_verifier_take_state_change(
            verifier,
            if cap == 0 { ptr::null_mut() } else { buf.as_mut_ptr() },
            cap,
            &mut len,
            &mut failing,
        )
    };
    let message = if status == jwtv_status::JWTV_OK {
        // SAFETY: NUL-terminated when the call succeeded; read only then.
        unsafe { CStr::from_ptr(buf.as_ptr()) }.to_string_lossy().into_owned()
    } else {
        String::new()
    };
    (status, message, len, failing)
}

#[test]
fn a_failing_key_server_is_one_state_change_taken_once() {
    // Nothing listens: every fetch is refused at once.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("listener");
    let url = format!("http://{}/jwks.json", closed.local_addr().expect("address"));
    drop(closed);
    let verifier = url_verifier(&url, JWTV_NONBLOCKING);
    // Polled with a buffer too small: the change waits, its length is told.
    let started = std::time::Instant::now();
    let mut small = take_change(verifier, 8);
    while small.0 == jwtv_status::JWTV_OK && started.elapsed() < std::time::Duration::from_secs(10) {
        assert_eq!(small.2, 0, "nothing to take yet");
        std::thread::sleep(std::time::Duration::from_millis(10));
        small = take_change(verifier, 8);
    }
    assert_eq!(small.0, jwtv_status::JWTV_BUFFER_TOO_SMALL);
    let (status, message, len, failing) = take_change(verifier, 1024);
    assert_eq!(len, small.2, "the same change, whole");
    assert_eq!(status, jwtv_status::JWTV_OK);
    assert!(failing, "{message}");
    assert_eq!(len, message.len());
    assert!(message.starts_with("policy=- key set fetches from http://127.0.0.1:"), "{message}");
    assert!(message.contains("failing (1 in a row)"), "{message}");
    // Retries fail the same way: nothing more to take.
    std::thread::sleep(std::time::Duration::from_millis(1500));
    assert_eq!(take_change(verifier, 1024), (jwtv_status::JWTV_OK, String::new(), 0, false));
    // SAFETY: made here, freed once.
    unsafe { jwtv_verifier_free(verifier) };
}
