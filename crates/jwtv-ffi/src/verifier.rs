//! `jwtv_verifier`: made once from a policy, then
//! shared by every thread that verifies.

use std::collections::VecDeque;
use std::ffi::c_char;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use jwtv::ErrorCode;
use jwtv_gateway::{Policy, StateChange, Verifier};

use crate::audit::Audit;
use crate::boundary::{
    bytes, clear_out, config_error, copy_out, guard, guard_void, optional_text, text, write_error, write_out,
};

use crate::status::jwtv_status;
use crate::token::jwtv_token;

/// A verifier. Opaque; made by `jwtv_verifier_from_policy` or
/// `jwtv_verifier_from_policy_file`, released by `jwtv_verifier_free`.
/// Safe to use from many threads at once (every function takes it `const`).
#[allow(non_camel_case_types, reason = "C naming")]
#[derive(Debug)]
pub struct jwtv_verifier {
    inner: Verifier,
    /// The audit callback (`jwtv_verifier_set_audit_callback`).
    pub(crate) audit: Audit,
    /// State changes taken from the verifier and not yet handed out
    /// (`jwtv_verifier_take_state_change`).
    changes: Mutex<VecDeque<StateChange>>,
}

impl jwtv_verifier {
    /// The verifier behind the handle, for the other modules of this crate.
    pub(crate) fn inner(&self) -> &Verifier {
        &self.inner
    }
}

/// Entries of `jwtv_metrics.rejected`: index `code - 1` for each rejection
/// code; room is left for codes added later (unused entries stay 0).
pub const JWTV_REJECTION_SLOTS: usize = 32;

/// A snapshot of a verifier's counters.
#[allow(non_camel_case_types, reason = "C naming")]
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct jwtv_metrics {
    /// Tokens verified.
    pub verified: u64,
    /// Tokens rejected, at index `code - 1` (e.g. `rejected[JWTV_EXPIRED - 1]`).
    pub rejected: [u64; JWTV_REJECTION_SLOTS],
    /// Verifications answered from the verified-token cache.
    pub cache_hits: u64,
    /// Verifications that missed the cache (0 without a cache).
    pub cache_misses: u64,
    /// Tokens held in the cache.
    pub cache_entries: u64,
    /// Usable keys served now.
    pub key_count: u64,
    /// Seconds since the key set was loaded, fetched or renewed; `UINT64_MAX` if never.
    pub key_set_age_secs: u64,
    /// Generation of the served key set (0: none yet).
    pub key_set_generation: u64,
    /// Key-set fetches (or file reloads) that changed the set.
    pub fetches_updated: u64,
    /// Fetches that found the set unchanged (200 with the same body, or 304).
    pub fetches_unchanged: u64,
    /// Fetches that failed to connect.
    pub fetches_transport_errors: u64,
    /// Fetches that timed out.
    pub fetches_timeouts: u64,
    /// Fetches answered with another HTTP status.
    pub fetches_http_errors: u64,
    /// Fetches whose document was malformed or had no usable key.
    pub fetches_malformed: u64,
}

/// The state of a verifier's revocation list (`jwtv_verifier_revocation_status`).
/// Tokens rejected because of it are counted in `jwtv_metrics.rejected[JWTV_REVOKED - 1]`.
#[allow(non_camel_case_types, reason = "C naming")]
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct jwtv_revocation_status {
    /// Entries in the local copy of the list.
    pub entries: u64,
    /// Revoked token ids (`jti`).
    pub jti: u64,
    /// Revoked subjects (`sub`).
    pub sub: u64,
    /// Revoked key ids (`kid`).
    pub kid: u64,
    /// Unix time of the last successful sync (load, reload, Redis resync or
    /// answered ping); 0 if never.
    pub last_sync_unix: u64,
    /// Seconds since then, or since the list was opened if it never synced:
    /// how stale the local copy may be.
    pub sync_lag_secs: u64,
    /// Failed syncs (an unreadable or invalid file, Redis errors).
    pub sync_errors: u64,
    /// True when the verifier checks a revocation list; when false, every other field is 0.
    pub has_list: bool,
    /// True while the list's back end is reachable (a file: its last read succeeded).
    pub connected: bool,
    /// True once the list has synced at least once.
    pub synced: bool,
    /// True when the verifier fails closed (`JWTV_UNAVAILABLE`) while the
    /// list has never synced or is staler than the policy's
    /// `revocations.max_staleness_secs`.
    pub fail_closed: bool,
}

/// Makes a verifier from a policy file (`docs/POLICY.md`), in one call
/// (`jwtv_policy_from_file` then `jwtv_verifier_from_policy`).
/// `JWTV_CONFIG_ERROR` with a message naming the field in `err` (when
/// non-NULL, cut to `err_cap - 1` bytes); `*out` is NULL after a failure.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn jwtv_verifier_from_policy_file(
    path: *const c_char,
    out: *mut *mut jwtv_verifier,
    err: *mut c_char,
    err_cap: usize,
) -> jwtv_status {
    guard(|| {
        // SAFETY: NULL or writable per the contract.
        unsafe { clear_out(out) };
        // SAFETY: NULL or a NUL-terminated string per the contract.
        let path = unsafe { text(path) }?;
        if out.is_null() {
            return Err(jwtv_status::JWTV_NULL_ARGUMENT);
        }
        let built = Policy::from_file(path).and_then(|policy| policy.verifier());
        verifier_out(built.map_err(|e| config_error(&e, err, err_cap))?, out)
    })
}

/// Hands a new verifier to C through `out` (non-NULL, checked by the caller).
pub(crate) fn verifier_out(inner: Verifier, out: *mut *mut jwtv_verifier) -> Result<(), jwtv_status> {
    let verifier = Box::into_raw(Box::new(jwtv_verifier { inner, audit: Audit::default(), changes: Mutex::default() }));
    // SAFETY: `out` is NULL or writable per the caller's contract.
    unsafe { write_out(out, verifier) }.inspect_err(|_| {
        // SAFETY: just made by Box::into_raw and not shared.
        drop(unsafe { Box::from_raw(verifier) });
    })
}

/// Releases a verifier (and stops its background refresh, if any). NULL is a
/// no-op. No other thread may be using it.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn jwtv_verifier_free(verifier: *mut jwtv_verifier) {
    guard_void(|| {
        if !verifier.is_null() {
            // SAFETY: a pointer from a jwtv_verifier constructor, released once per the contract.
            drop(unsafe { Box::from_raw(verifier) });
        }
    });
}

/// Verifies a compact JWT at `now` (Unix seconds; 0: the system clock).
///
/// Returns `JWTV_OK` or the rejection code. When `out` is non-NULL, `*out`
/// receives the verified token on success (free it with `jwtv_token_free`)
/// and NULL otherwise; with `out` NULL the verdict alone costs no heap
/// allocation (HS, ES and EdDSA tokens up to 16 KiB). On rejection, when
/// `detail` is non-NULL, the part or claim concerned (`"payload"`, `"exp"`,
/// a required claim's name) or an empty string is written there,
/// NUL-terminated and truncated to
/// `detail_cap - 1` bytes; then the verifier's audit callback, if any, is
/// called with the rejection's event (`jwtv_verifier_set_audit_callback`).
/// Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn jwtv_verifier_verify(
    verifier: *const jwtv_verifier,
    token: *const u8,
    token_len: usize,
    now: u64,
    out: *mut *mut jwtv_token,
    detail: *mut c_char,
    detail_cap: usize,
) -> jwtv_status {
    guard(|| {
        // SAFETY: NULL or writable per the contract.
        unsafe { clear_out(out) };
        // SAFETY: NULL or a live verifier per the contract.
        let verifier = unsafe { verifier.as_ref() }.ok_or(jwtv_status::JWTV_NULL_ARGUMENT)?;
        // SAFETY: `token_len` readable bytes per the contract.
        let token = unsafe { bytes(token, token_len) }?;
        let now = if now == 0 { jwtv_jwks::unix_now() } else { now };
        if !detail.is_null() && detail_cap > 0 {
            // SAFETY: `detail_cap` writable bytes per the contract.
            unsafe { detail.write(0) };
        }
        let result = if out.is_null() {
            verify_only(&verifier.inner, token, now)
        } else {
            verifier.inner.verify(token, now).map(|verified| {
                let token = Box::into_raw(Box::new(jwtv_token::new(verified)));
                // SAFETY: non-NULL and writable per the contract.
                unsafe { out.write(token) };
            })
        };
        match result {
            Ok(()) => Ok(()),
            Err(e) => {
                let text = match e.field() {
                    Some(field) => verifier.inner.policy().field_name(field),
                    None => e.detail().map(str::to_owned),
                };
                write_error(&text.unwrap_or_default(), detail, detail_cap);
                verifier.audit.rejected(e.code(), token, verifier.inner.policy().name());
                Err(jwtv_status::from(e.code()))
            }
        }
    })
}

/// A verdict without the verified token: into a buffer on the stack, so
/// that nothing is allocated.
fn verify_only(verifier: &Verifier, token: &[u8], now: u64) -> Result<(), jwtv::Error> {
    verifier.verify_with(token, now, |verified| verified.map(|_| ()))
}

/// Waits up to `timeout_ms` milliseconds for the verifier's key set, then
/// writes to `*ready_out` whether one is served: true at once for keys in
/// the policy and for a key file; for a URL key set, true once a fetch has
/// succeeded (and while its set is not too stale to serve), false when the
/// time ran out first (meanwhile `jwtv_verifier_verify` answers
/// `JWTV_UNAVAILABLE`, detail `keys`). Both are `JWTV_OK`. `timeout_ms` 0
/// asks without waiting.
///
/// Blocks the calling thread for up to `timeout_ms`: call it at start-up,
/// or from a thread that may wait (a worker thread; Go calls it in short
/// slices to honour a context), never from an event loop. A host that must
/// not wait at all polls it with `timeout_ms` 0. Thread-safe, like
/// `jwtv_verifier_verify`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn jwtv_verifier_wait_ready(
    verifier: *const jwtv_verifier,
    timeout_ms: u32,
    ready_out: *mut bool,
) -> jwtv_status {
    guard(|| {
        // SAFETY: NULL or a live verifier per the contract.
        let verifier = unsafe { verifier.as_ref() }.ok_or(jwtv_status::JWTV_NULL_ARGUMENT)?;
        if ready_out.is_null() {
            return Err(jwtv_status::JWTV_NULL_ARGUMENT);
        }
        let ready = verifier.inner.wait_ready(Duration::from_millis(u64::from(timeout_ms)));
        // SAFETY: non-NULL and writable per the contract.
        unsafe { write_out(ready_out, ready) }
    })
}

/// Counts a request that carried no token at all (HTTP middleware, NGINX):
/// exported as `jwtv_requests_without_token_total`, the rest of the
/// denominator of the rejection rate. Thread-safe; never blocks.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn jwtv_verifier_record_no_token(verifier: *const jwtv_verifier) -> jwtv_status {
    guard(|| {
        // SAFETY: NULL or a live verifier per the contract.
        let verifier = unsafe { verifier.as_ref() }.ok_or(jwtv_status::JWTV_NULL_ARGUMENT)?;
        verifier.inner.record_no_token();
        Ok(())
    })
}

/// Writes a snapshot of the verifier's counters to `*out`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn jwtv_verifier_metrics(verifier: *const jwtv_verifier, out: *mut jwtv_metrics) -> jwtv_status {
    guard(|| {
        // SAFETY: NULL or a live verifier per the contract.
        let verifier = unsafe { verifier.as_ref() }.ok_or(jwtv_status::JWTV_NULL_ARGUMENT)?;
        let m = verifier.inner.metrics();
        let mut rejected = [0u64; JWTV_REJECTION_SLOTS];
        for code in ErrorCode::ALL {
            let slot =
                usize::try_from(code.to_u32()).ok().and_then(|n| n.checked_sub(1)).and_then(|i| rejected.get_mut(i));
            if let Some(slot) = slot {
                *slot = m.rejected_with(code);
            }
        }
        let wide = |n: usize| u64::try_from(n).unwrap_or(u64::MAX);
        let f = m.keys.fetches;
        let metrics = jwtv_metrics {
            verified: m.verified,
            rejected,
            cache_hits: m.cache_hits,
            cache_misses: m.cache_misses,
            cache_entries: wide(m.cache_entries),
            key_count: wide(m.keys.key_count),
            key_set_age_secs: m.keys.age_secs.unwrap_or(u64::MAX),
            key_set_generation: m.keys.generation,
            fetches_updated: f.updated,
            fetches_unchanged: f.unchanged,
            fetches_transport_errors: f.transport_errors,
            fetches_timeouts: f.timeouts,
            fetches_http_errors: f.http_errors,
            fetches_malformed: f.malformed,
        };
        // SAFETY: NULL or writable per the contract.
        unsafe { write_out(out, metrics) }
    })
}

/// Writes the state of the verifier's revocation list to `*out`: its size by
/// kind and how fresh it is. Without a list, `has_list` is false and the
/// other fields are 0 (still `JWTV_OK`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn jwtv_verifier_revocation_status(
    verifier: *const jwtv_verifier,
    out: *mut jwtv_revocation_status,
) -> jwtv_status {
    guard(|| {
        // SAFETY: NULL or a live verifier per the contract.
        let verifier = unsafe { verifier.as_ref() }.ok_or(jwtv_status::JWTV_NULL_ARGUMENT)?;
        let status = verifier.inner.revocations().map_or_else(jwtv_revocation_status::default, |revocations| {
            let g = revocations.gauges();
            let wide = |n: usize| u64::try_from(n).unwrap_or(u64::MAX);
            let [jti, sub, kid] = g.by_kind.map(wide);
            jwtv_revocation_status {
                entries: wide(g.entries),
                jti,
                sub,
                kid,
                last_sync_unix: g.last_sync_unix.unwrap_or(0),
                sync_lag_secs: g.sync_lag_secs,
                sync_errors: g.sync_errors,
                has_list: true,
                connected: g.connected,
                synced: g.synced,
                fail_closed: revocations.freshness().fail_closed,
            }
        });
        // SAFETY: NULL or writable per the contract.
        unsafe { write_out(out, status) }
    })
}

/// Writes the counters in Prometheus text format to `buf` (NUL-terminated).
/// `*len_out` (when non-NULL) receives the text's length without the NUL;
/// `JWTV_BUFFER_TOO_SMALL` when `buf_cap` is not more than that.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn jwtv_verifier_metrics_prometheus(
    verifier: *const jwtv_verifier,
    buf: *mut c_char,
    buf_cap: usize,
    len_out: *mut usize,
) -> jwtv_status {
    guard(|| {
        // SAFETY: NULL or a live verifier per the contract.
        let verifier = unsafe { verifier.as_ref() }.ok_or(jwtv_status::JWTV_NULL_ARGUMENT)?;
        let text = verifier.inner.metrics_prometheus();
        // SAFETY: buffer contract forwarded.
        unsafe { copy_out(text.as_bytes(), buf, buf_cap, len_out) }
    })
}

/// Takes the oldest state change of the verifier's dependencies not taken
/// yet: a key server whose fetches start failing, fail for another reason
/// or succeed again, a revocation list that stops or resumes syncing. Each
/// change is reported once, never per request: call this from time to time
/// (NGINX does every second) and log what it gives.
///
/// Writes the message (escaped: no control characters; with the policy's
/// name) to `buf`, NUL-terminated; `*len_out` (when non-NULL) receives its
/// length, 0 when there is no change to take (then `buf` holds an empty
/// string when `buf_cap` > 0); `*failing_out` (when non-NULL) is true for a
/// failure, false for a recovery. `JWTV_BUFFER_TOO_SMALL` when `buf` is
/// NULL or `buf_cap` is not more than the length: the change stays to be
/// taken with a larger buffer. At most 32 changes wait; the next one taken after older ones were
/// dropped says how many.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn jwtv_verifier_take_state_change(
    verifier: *const jwtv_verifier,
    buf: *mut c_char,
    buf_cap: usize,
    len_out: *mut usize,
    failing_out: *mut bool,
) -> jwtv_status {
    guard(|| {
        // SAFETY: NULL or a live verifier per the contract.
        let verifier = unsafe { verifier.as_ref() }.ok_or(jwtv_status::JWTV_NULL_ARGUMENT)?;
        let mut changes = verifier.changes.lock().unwrap_or_else(PoisonError::into_inner);
        if changes.is_empty() {
            changes.extend(verifier.inner.take_state_changes());
        }
        let (message, failing) = changes.front().map_or(("", false), |c| (c.message.as_str(), c.failing));
        // SAFETY: buffer contract forwarded.
        unsafe { copy_out(message.as_bytes(), buf, buf_cap, len_out) }?;
        changes.pop_front();
        if !failing_out.is_null() {
            // SAFETY: non-NULL and writable per the contract.
            unsafe { failing_out.write(failing) };
        }
        Ok(())
    })
}

/// Makes a verifier from a policy document in memory (the JSON of a policy
/// file, `docs/POLICY.md`), in one call; relative paths in it are relative
/// to `base_dir` (NULL: the current directory). Errors as
/// `jwtv_verifier_from_policy_file`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn jwtv_verifier_from_policy_json(
    json: *const u8,
    json_len: usize,
    base_dir: *const c_char,
    out: *mut *mut jwtv_verifier,
    err: *mut c_char,
    err_cap: usize,
) -> jwtv_status {
    guard(|| {
        // SAFETY: NULL or writable per the contract.
        unsafe { clear_out(out) };
        // SAFETY: forwarded contracts.
        let (json, base_dir) = unsafe { (bytes(json, json_len)?, optional_text(base_dir)?) };
        if out.is_null() {
            return Err(jwtv_status::JWTV_NULL_ARGUMENT);
        }
        let built = Policy::from_json(json, base_dir.unwrap_or(".")).and_then(|policy| policy.verifier());
        verifier_out(built.map_err(|e| config_error(&e, err, err_cap))?, out)
    })
}
