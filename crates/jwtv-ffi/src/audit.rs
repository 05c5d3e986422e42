//! Audit events of rejected tokens, for C: a callback registered on a
//! verifier receives each one as a `jwtv_audit_event`, never the token.

use std::ffi::{CString, c_char, c_void};
use std::sync::{PoisonError, RwLock};

use jwtv::ErrorCode;
use jwtv_gateway::AuditEvent;

use crate::boundary::{audit_c_string, guard, guard_void};
use crate::status::{jwtv_error_name, jwtv_status};
use crate::verifier::jwtv_verifier;

/// The audit event of one rejected token, as `jwtv_verifier_verify` hands
/// it to the verifier's audit callback (`jwtv_verifier_set_audit_callback`).
///
/// Every string is NUL-terminated UTF-8, lent for the callback's call only
/// (copy what you keep). The values read from the token (`alg`, `kid`,
/// `iss`, `jti`) are read without trusting it, cut to 128 characters, then
/// escaped as in the Rust host's events (docs/OBSERVABILITY.md, "Audit
/// events"): quotes, backslashes and every control or invisible formatting
/// character are written as escapes (`\n`, `\u{1b}`, `\0`, `\"`), so a value
/// holds no control byte and can go into a log line or an HTTP header as it
/// is. A value the token lacks (or that does not decode) is NULL. The event
/// holds nothing else of the token: not the token, its signature, its raw
/// header or claims, nor `sub` (only its keyed hash).
#[allow(non_camel_case_types, reason = "C naming")]
#[repr(C)]
#[derive(Debug)]
pub struct jwtv_audit_event {
    /// The rejection code: a status from 1 to 99, `JWTV_UNAVAILABLE` (the
    /// token was not judged: no key set yet) included.
    pub code: jwtv_status,
    /// `jwtv_error_name(code)` (`"key_not_found"`): a static string.
    pub code_name: *const c_char,
    /// The header's `alg`, escaped; NULL if none.
    pub alg: *const c_char,
    /// The header's `kid`, escaped; NULL if none.
    pub kid: *const c_char,
    /// The `iss` claim, escaped; NULL if none.
    pub iss: *const c_char,
    /// The `jti` claim, escaped; NULL if none.
    pub jti: *const c_char,
    /// A keyed hash of the `sub` claim (HMAC-SHA256 under a key drawn once
    /// per process, 16 lowercase hex digits): equal subjects give equal
    /// hashes within one process, and the subject is never written. NULL
    /// without a string `sub`.
    pub sub_hash: *const c_char,
    /// The policy's `name`; NULL if it has none.
    pub policy: *const c_char,
    /// The token's length in bytes.
    pub token_len: usize,
}

/// A verifier's audit callback: called with each rejection's event and the
/// `user` pointer given with it (see `jwtv_verifier_set_audit_callback`).
#[allow(non_camel_case_types, reason = "C naming")]
pub type jwtv_audit_callback = Option<unsafe extern "C" fn(event: *const jwtv_audit_event, user: *mut c_void)>;

/// A callback and its `user` pointer.
#[derive(Debug)]
struct Sink {
    callback: unsafe extern "C" fn(event: *const jwtv_audit_event, user: *mut c_void),
    user: *mut c_void,
}

// SAFETY: `user` is never dereferenced here, only handed back to the
// callback, which the header's contract lets any verifying thread call
// (the caller makes `user` fit for that).
unsafe impl Send for Sink {}
// SAFETY: as above; a shared `Sink` is only read.
unsafe impl Sync for Sink {}

/// A verifier's audit callback, if any. Calls hold the lock for reading, so
/// that replacing the callback waits for the calls of the old one in
/// progress: once `jwtv_verifier_set_audit_callback` returns, the old `user`
/// is never used again.
#[derive(Debug, Default)]
pub(crate) struct Audit(RwLock<Option<Sink>>);

impl Audit {
    /// Calls the callback, if any, with the event of `token` rejected with
    /// `code`. A panic while the event is made is caught here (no event;
    /// the verdict stands).
    pub(crate) fn rejected(&self, code: ErrorCode, token: &[u8], policy: Option<&str>) {
        guard_void(|| {
            let sink = self.0.read().unwrap_or_else(PoisonError::into_inner);
            let Some(sink) = sink.as_ref() else {
                return;
            };
            let event = AuditEvent::new(code, token, policy);
            let strings: [Option<CString>; 6] =
                [event.alg(), event.kid(), event.iss(), event.jti(), event.sub_hash(), event.policy()]
                    .map(|value| value.and_then(audit_c_string));
            let [alg, kid, iss, jti, sub_hash, policy] =
                strings.each_ref().map(|s| s.as_ref().map_or(std::ptr::null(), |s| s.as_ptr()));
            let status = jwtv_status::from(code);
            let c_event = jwtv_audit_event {
                code: status,
                code_name: jwtv_error_name(u32::from(status)),
                alg,
                kid,
                iss,
                jti,
                sub_hash,
                policy,
                token_len: event.token_len(),
            };
            // SAFETY: a callback registered through the header's contract,
            // called with an event whose strings live until it returns.
            unsafe { (sink.callback)(&c_event, sink.user) };
        });
    }
}

/// Sets the verifier's audit callback: from now on `callback(event, user)`
/// is called for every token `jwtv_verifier_verify` rejects — every
/// rejection code, `JWTV_UNAVAILABLE` included (not a verdict, but the
/// `kid` of tokens refused during a key-server outage is what an operator
/// looks for) — synchronously, on the verifying thread, before
/// `jwtv_verifier_verify` returns. Tokens it accepts and errors of the call
/// (100 and above) give no event. A NULL `callback` clears it; `user` is
/// passed through untouched.
///
/// The event is a `jwtv_audit_event`: escaped strings lent for the call and
/// never the token. The callback may run on several threads at once (the
/// verifier's), so `user` must be fit for that; it must not unwind into
/// libjwtv (no C++ exception, no `longjmp` out of it), and must not set the
/// callback of, verify with or free its own verifier (it would deadlock).
///
/// Thread-safe: it may be called while other threads verify. It waits for
/// calls of the former callback in progress, so once it returns the former
/// `user` is no longer used and may be released.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn jwtv_verifier_set_audit_callback(
    verifier: *const jwtv_verifier,
    callback: jwtv_audit_callback,
    user: *mut c_void,
) -> jwtv_status {
    guard(|| {
        // SAFETY: NULL or a live verifier per the contract.
        let verifier = unsafe { verifier.as_ref() }.ok_or(jwtv_status::JWTV_NULL_ARGUMENT)?;
        let sink = callback.map(|callback| Sink { callback, user });
        *verifier.audit.0.write().unwrap_or_else(PoisonError::into_inner) = sink;
        Ok(())
    })
}
