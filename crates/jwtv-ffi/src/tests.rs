//! The revocation part of the ABI, called as C calls it: a configuration
//! with a revocation list, its status, and its errors.

use std::ffi::{CStr, CString, c_char};
use std::path::PathBuf;
use std::ptr;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::config::{
    jwtv_config, jwtv_config_add_algorithm, jwtv_config_add_audience, jwtv_config_add_issuer, jwtv_config_free,
    jwtv_config_new, jwtv_config_require_claim, jwtv_config_require_claim_value, jwtv_config_set_jwks_file,
    jwtv_config_set_leeway, jwtv_config_set_revocation_freshness, jwtv_config_set_revocations,
};
use crate::status::{jwtv_error_name, jwtv_status};
use crate::verifier::{
    jwtv_policy_check, jwtv_revocation_status, jwtv_verifier, jwtv_verifier_free, jwtv_verifier_from_policy_json,
    jwtv_verifier_metrics, jwtv_verifier_metrics_prometheus, jwtv_verifier_new, jwtv_verifier_revocation_status,
    jwtv_verifier_verify,
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

/// A configuration over examples/jwks.json for the example tokens.
fn example_config() -> *mut jwtv_config {
    let mut config = ptr::null_mut();
    // SAFETY: valid out-pointer and NUL-terminated strings.
    unsafe {
        assert_eq!(jwtv_config_new(&mut config), jwtv_status::JWTV_OK);
        let jwks = c(&format!("{EXAMPLES}/jwks.json"));
        assert_eq!(jwtv_config_set_jwks_file(config, jwks.as_ptr()), jwtv_status::JWTV_OK);
        for alg in [c"ES256", c"EdDSA"] {
            assert_eq!(jwtv_config_add_algorithm(config, alg.as_ptr()), jwtv_status::JWTV_OK);
        }
        assert_eq!(jwtv_config_add_issuer(config, c"https://issuer.example".as_ptr()), jwtv_status::JWTV_OK);
        assert_eq!(jwtv_config_add_audience(config, c"api".as_ptr()), jwtv_status::JWTV_OK);
    }
    config
}

/// `jwtv_verifier_new`: the verifier, or the status and message.
fn new_verifier(config: *const jwtv_config) -> Result<*mut jwtv_verifier, (jwtv_status, String)> {
    let mut verifier = ptr::null_mut();
    let mut err: [c_char; 256] = [0; 256];
    // SAFETY: a live config, a valid out-pointer and a buffer of err.len() bytes.
    let status = unsafe { jwtv_verifier_new(config, &mut verifier, err.as_mut_ptr(), err.len()) };
    if status == jwtv_status::JWTV_OK {
        Ok(verifier)
    } else {
        // SAFETY: jwtv_verifier_new wrote a NUL-terminated message.
        Err((status, unsafe { CStr::from_ptr(err.as_ptr()) }.to_string_lossy().into_owned()))
    }
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
    let config = example_config();
    let source = c(list.to_str().expect("UTF-8 path"));
    // SAFETY: a live config and a NUL-terminated string.
    assert_eq!(unsafe { jwtv_config_set_revocations(config, source.as_ptr()) }, jwtv_status::JWTV_OK);
    let verifier = new_verifier(config).expect("verifier");
    // SAFETY: made by jwtv_config_new; the verifier does not need it.
    unsafe { jwtv_config_free(config) };

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
    // SAFETY: made by jwtv_verifier_new, freed once.
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
    for (source, message) in cases {
        let config = example_config();
        let source = c(&source);
        // SAFETY: a live config and a NUL-terminated string.
        assert_eq!(unsafe { jwtv_config_set_revocations(config, source.as_ptr()) }, jwtv_status::JWTV_OK);
        let (status, err) = new_verifier(config).expect_err("refused");
        assert_eq!(status, jwtv_status::JWTV_CONFIG_ERROR);
        assert!(err.starts_with("revocations: ") && err.contains(message), "{err:?} for {source:?}");
        // SAFETY: made by jwtv_config_new.
        unsafe { jwtv_config_free(config) };
    }
}

#[test]
fn the_setter_and_the_status_check_their_arguments() {
    let config = example_config();
    // SAFETY: NULL and invalid arguments are what is tested; the rest is valid.
    unsafe {
        assert_eq!(jwtv_config_set_revocations(ptr::null_mut(), c"x.json".as_ptr()), jwtv_status::JWTV_NULL_ARGUMENT);
        assert_eq!(jwtv_config_set_revocations(config, ptr::null()), jwtv_status::JWTV_NULL_ARGUMENT);
        let not_utf8 = [0xffu8, 0xfe, 0];
        assert_eq!(jwtv_config_set_revocations(config, not_utf8.as_ptr().cast()), jwtv_status::JWTV_INVALID_UTF8);
    }
    // The refused calls left the configuration without a list.
    let verifier = new_verifier(config).expect("verifier");
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
        jwtv_config_free(config);
    }
}

#[test]
fn a_redis_source_is_set_up_without_waiting_forever() {
    // Nothing listens on port 1: the verifier is made (after the first-sync
    // wait), serves an empty list and reports the back end unreachable.
    let config = example_config();
    // SAFETY: a live config and a NUL-terminated string.
    let status = unsafe { jwtv_config_set_revocations(config, c"redis://127.0.0.1:1/0".as_ptr()) };
    assert_eq!(status, jwtv_status::JWTV_OK);
    let started = std::time::Instant::now();
    let verifier = new_verifier(config).expect("verifier");
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    assert_eq!(verify(verifier, ES256_TOKEN).0, jwtv_status::JWTV_OK);
    let s = revocation_status(verifier);
    assert!(s.has_list && !s.connected && !s.synced && !s.fail_closed);
    assert_eq!((s.entries, s.last_sync_unix), (0, 0));
    assert!(s.sync_lag_secs < 60, "the lag counts from the moment the list was opened: {s:?}");
    assert!(prometheus(verifier).contains("jwtv_revocations_synced 0\n"));

    // Failing closed, the same list refuses every token with JWTV_UNAVAILABLE.
    // SAFETY: a live config; 0 s is refused, nothing changes.
    unsafe {
        assert_eq!(jwtv_config_set_revocation_freshness(config, true, 0), jwtv_status::JWTV_INVALID_ARGUMENT);
        assert_eq!(jwtv_config_set_revocation_freshness(config, true, 60), jwtv_status::JWTV_OK);
    }
    let strict = new_verifier(config).expect("verifier");
    assert_eq!(verify(strict, ES256_TOKEN).0, jwtv_status::JWTV_UNAVAILABLE);
    assert!(revocation_status(strict).fail_closed);
    // SAFETY: made by jwtv_verifier_new and jwtv_config_new, freed once.
    unsafe {
        jwtv_verifier_free(strict);
        jwtv_verifier_free(verifier);
        jwtv_config_free(config);
    }
}

#[test]
fn rule_lists_past_their_bound_are_refused_never_cut() {
    type Add = unsafe extern "C" fn(*mut jwtv_config, *const c_char) -> jwtv_status;
    let adders: [(&str, Add); 3] = [
        ("issuer", jwtv_config_add_issuer),
        ("audience", jwtv_config_add_audience),
        ("claim", jwtv_config_require_claim),
    ];
    let empty = || {
        let mut config = ptr::null_mut();
        // SAFETY: a valid out-pointer.
        assert_eq!(unsafe { jwtv_config_new(&mut config) }, jwtv_status::JWTV_OK);
        config
    };
    for (what, add) in adders {
        let config = empty();
        for i in 0..jwtv_jwks::MAX_RULE_LIST_LEN {
            let value = CString::new(format!("{what}-{i}")).expect("no NUL");
            // SAFETY: a live config and a NUL-terminated string.
            assert_eq!(unsafe { add(config, value.as_ptr()) }, jwtv_status::JWTV_OK, "{what} #{i}");
        }
        // SAFETY: as above.
        assert_eq!(unsafe { add(config, c"one-too-many".as_ptr()) }, jwtv_status::JWTV_INVALID_ARGUMENT, "{what}");
        // SAFETY: made by jwtv_config_new, freed once.
        unsafe { jwtv_config_free(config) };
    }
    let config = empty();
    for i in 0..jwtv_jwks::MAX_RULE_LIST_LEN {
        let name = CString::new(format!("claim-{i}")).expect("no NUL");
        // SAFETY: a live config and NUL-terminated strings.
        let status = unsafe { jwtv_config_require_claim_value(config, name.as_ptr(), c"v".as_ptr()) };
        assert_eq!(status, jwtv_status::JWTV_OK);
    }
    // SAFETY: as above.
    unsafe {
        assert_eq!(
            jwtv_config_require_claim_value(config, c"claim-32".as_ptr(), c"v".as_ptr()),
            jwtv_status::JWTV_INVALID_ARGUMENT
        );
        assert_eq!(jwtv_config_set_leeway(config, 300), jwtv_status::JWTV_OK);
        assert_eq!(jwtv_config_set_leeway(config, 301), jwtv_status::JWTV_INVALID_ARGUMENT);
        jwtv_config_free(config);
    }
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
    // SAFETY: valid buffers, lengths and out-pointers.
    unsafe {
        let status = jwtv_policy_check(policy.as_ptr(), policy.len(), base.as_ptr(), err.as_mut_ptr(), err.len());
        assert_eq!(status, jwtv_status::JWTV_OK);
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
    // SAFETY: as above.
    let status =
        unsafe { jwtv_policy_check(missing.as_ptr(), missing.len(), base.as_ptr(), err.as_mut_ptr(), err.len()) };
    assert_eq!(status, jwtv_status::JWTV_CONFIG_ERROR);
    // SAFETY: NUL-terminated by the call.
    let message = unsafe { CStr::from_ptr(err.as_ptr()) }.to_string_lossy().into_owned();
    assert!(message.starts_with("revocations.source: ") && message.contains("missing.json"), "{message}");
}
