//! `jwtv_policy`: a policy document under construction, from C. One generic
//! setter takes any field by its path (`jwtv_policy_set(policy,
//! "leeway_secs", "60", …)`); keys in memory keep typed entries. Every field
//! of docs/POLICY.md is reachable, and no field has a setter of its own.

use std::ffi::c_char;

use jwtv::Algorithm;
use jwtv_gateway::{Policy, PolicyError};

use crate::boundary::{
    bytes, clear_out, config_error, copy_out, guard, guard_void, optional_text, text, write_error, write_out,
};
use crate::status::jwtv_status;
use crate::verifier::{jwtv_verifier, verifier_out};

/// The most entries of each list of a policy (issuers, audiences, required
/// claims, required claim values, understood `crit`): the next one is
/// refused, never dropped.
pub const JWTV_MAX_LIST_LEN: usize = 32;
const _: () = assert!(JWTV_MAX_LIST_LEN == jwtv_gateway::MAX_RULE_LIST_LEN);

/// The largest clock leeway, in seconds (a revoked `jti` is kept this long
/// past its `exp`).
pub const JWTV_MAX_LEEWAY_SECS: u64 = 300;
const _: () = assert!(JWTV_MAX_LEEWAY_SECS == jwtv_gateway::MAX_LEEWAY_SECS);

/// `jwtv_verifier_from_policy` flag: the host runs an event loop (an NGINX
/// worker, an async runtime). Making the verifier and verifying never wait
/// for a key server or a revocation store, whatever the policy's
/// `refresh.first_fetch_timeout_ms` and `revocations.first_sync_timeout_ms`
/// say; until the key set has loaded, verifications return
/// `JWTV_UNAVAILABLE` at once (answer 503 with `Retry-After`).
pub const JWTV_NONBLOCKING: u32 = 1;

/// A policy document under construction. Opaque; made by `jwtv_policy_new`,
/// `jwtv_policy_from_json` or `jwtv_policy_from_file`, released by
/// `jwtv_policy_free`. Not thread-safe: one thread changes it at a time
/// (verifiers made from it are independent of it and thread-safe).
#[allow(non_camel_case_types, reason = "C naming")]
#[derive(Debug)]
pub struct jwtv_policy {
    inner: Policy,
}

fn made(
    policy: Result<Policy, PolicyError>,
    out: *mut *mut jwtv_policy,
    err: *mut c_char,
    err_cap: usize,
) -> Result<(), jwtv_status> {
    let inner = policy.map_err(|e| config_error(&e, err, err_cap))?;
    let policy = Box::into_raw(Box::new(jwtv_policy { inner }));
    // SAFETY: `out` is NULL or writable per the caller's contract.
    unsafe { write_out(out, policy) }.inspect_err(|_| {
        // SAFETY: just made by Box::into_raw and not shared.
        drop(unsafe { Box::from_raw(policy) });
    })
}

/// Runs a change on a non-NULL policy; a policy error is `JWTV_CONFIG_ERROR`
/// with its message in `err`, and leaves the policy as it was.
///
/// # Safety
/// `policy` is NULL or a live pointer from a `jwtv_policy_*` constructor, not
/// used by another thread during the call.
unsafe fn change(
    policy: *mut jwtv_policy,
    err: *mut c_char,
    err_cap: usize,
    f: impl FnOnce(&mut Policy) -> Result<Result<(), PolicyError>, jwtv_status>,
) -> jwtv_status {
    guard(|| {
        // SAFETY: NULL or a live, exclusively used policy per the contract.
        let policy = unsafe { policy.as_mut() }.ok_or(jwtv_status::JWTV_NULL_ARGUMENT)?;
        f(&mut policy.inner)?.map_err(|e| config_error(&e, err, err_cap))
    })
}

fn algorithm(name: &str, err: *mut c_char, err_cap: usize) -> Result<Algorithm, jwtv_status> {
    Algorithm::from_name(name).ok_or_else(|| {
        write_error(&format!("unknown algorithm `{name}`"), err, err_cap);
        jwtv_status::JWTV_INVALID_ARGUMENT
    })
}

/// Makes an empty policy (no key source, no algorithm: set `keys…` and
/// `algorithms` before making a verifier) and writes it to `*out`. Free it
/// with `jwtv_policy_free`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn jwtv_policy_new(out: *mut *mut jwtv_policy) -> jwtv_status {
    guard(|| {
        // SAFETY: NULL or writable per the contract.
        unsafe { clear_out(out) };
        made(Ok(Policy::new(jwtv::AlgorithmSet::EMPTY)), out, std::ptr::null_mut(), 0)
    })
}

/// Reads a policy document (the JSON of a policy file, docs/POLICY.md);
/// relative paths in it are relative to `base_dir` (NULL: the current
/// directory). `JWTV_CONFIG_ERROR` with a message naming the field in `err`
/// (when non-NULL, cut to `err_cap - 1` bytes).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn jwtv_policy_from_json(
    json: *const u8,
    json_len: usize,
    base_dir: *const c_char,
    out: *mut *mut jwtv_policy,
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
        made(Policy::from_json(json, base_dir.unwrap_or(".")), out, err, err_cap)
    })
}

/// Reads a policy file; relative paths in it are relative to its folder.
/// Errors as `jwtv_policy_from_json`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn jwtv_policy_from_file(
    path: *const c_char,
    out: *mut *mut jwtv_policy,
    err: *mut c_char,
    err_cap: usize,
) -> jwtv_status {
    guard(|| {
        // SAFETY: NULL or writable per the contract.
        unsafe { clear_out(out) };
        // SAFETY: forwarded contract.
        let path = unsafe { text(path) }?;
        if out.is_null() {
            return Err(jwtv_status::JWTV_NULL_ARGUMENT);
        }
        made(Policy::from_file(path), out, err, err_cap)
    })
}

/// Releases a policy. NULL is a no-op.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn jwtv_policy_free(policy: *mut jwtv_policy) {
    guard_void(|| {
        if !policy.is_null() {
            // SAFETY: a pointer from a jwtv_policy constructor, released once per the contract.
            drop(unsafe { Box::from_raw(policy) });
        }
    });
}

/// Sets the field at `path` of the policy document (`"leeway_secs"`,
/// `"refresh.max_stale_secs"`, `"revocations.fail_closed"`,
/// `"keys.jwks_url"`) to `json_value`, a JSON value (`"60"`, `"true"`,
/// `"\"https://…\""`, `"[\"a\",\"b\"]"`). The policy is read again as a
/// document would be: an unknown field, a wrong type, a list past
/// `JWTV_MAX_LIST_LEN` or a leeway past `JWTV_MAX_LEEWAY_SECS` is
/// `JWTV_CONFIG_ERROR`, with a message naming the field in `err`, and leaves
/// the policy unchanged.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn jwtv_policy_set(
    policy: *mut jwtv_policy,
    path: *const c_char,
    json_value: *const c_char,
    err: *mut c_char,
    err_cap: usize,
) -> jwtv_status {
    // SAFETY: forwarded contracts.
    unsafe {
        change(policy, err, err_cap, |p| {
            let (path, value) = (text(path)?, text(json_value)?);
            Ok(p.set(path, value))
        })
    }
}

/// As `jwtv_policy_set` with a string value given as plain text (encoded as
/// JSON by the library: no quoting or escaping by the caller).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn jwtv_policy_set_string(
    policy: *mut jwtv_policy,
    path: *const c_char,
    value: *const c_char,
    err: *mut c_char,
    err_cap: usize,
) -> jwtv_status {
    // SAFETY: forwarded contracts.
    unsafe {
        change(policy, err, err_cap, |p| {
            let (path, value) = (text(path)?, text(value)?);
            Ok(p.set_string(path, value))
        })
    }
}

/// Appends the string `value` (plain text) to the list at `path`
/// (`"issuers"`, `"audiences"`, `"required_claims"`, `"understood_crit"`,
/// `"algorithms"`). Errors as `jwtv_policy_set` (the 33rd entry is refused).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn jwtv_policy_add_string(
    policy: *mut jwtv_policy,
    path: *const c_char,
    value: *const c_char,
    err: *mut c_char,
    err_cap: usize,
) -> jwtv_status {
    // SAFETY: forwarded contracts.
    unsafe {
        change(policy, err, err_cap, |p| {
            let (path, value) = (text(path)?, text(value)?);
            Ok(p.add_string(path, value))
        })
    }
}

/// Adds a key source: `form` is `"jwks_file"`, `"jwks_url"` or
/// `"issuer_discovery"` (an OpenID Connect issuer URL), `location` the path
/// or URL. The first is the policy's key source; a second makes
/// both `keys.sources` (served as one set, each refreshed on its own), later
/// ones join them. A policy with static keys or an inline JWKS takes no
/// other source. Errors as `jwtv_policy_set`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn jwtv_policy_add_key_source(
    policy: *mut jwtv_policy,
    form: *const c_char,
    location: *const c_char,
    err: *mut c_char,
    err_cap: usize,
) -> jwtv_status {
    // SAFETY: forwarded contracts.
    unsafe {
        change(policy, err, err_cap, |p| {
            let (form, location) = (text(form)?, text(location)?);
            Ok(p.add_key_source(form, location))
        })
    }
}

/// Sets member `name` of the object at `path` to the string `value`
/// (`"required_claim_values"`); a name given twice is refused. Errors as
/// `jwtv_policy_set`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn jwtv_policy_set_member(
    policy: *mut jwtv_policy,
    path: *const c_char,
    name: *const c_char,
    value: *const c_char,
    err: *mut c_char,
    err_cap: usize,
) -> jwtv_status {
    // SAFETY: forwarded contracts.
    unsafe {
        change(policy, err, err_cap, |p| {
            let (path, name, value) = (text(path)?, text(name)?, text(value)?);
            Ok(p.set_member(path, name, value))
        })
    }
}

/// Sets member `name` of the object at `path` to a JSON value
/// (`jwtv_policy_set_member_json(p, "required_claim_values", "level", "3")`),
/// as `jwtv_policy_set_member`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn jwtv_policy_set_member_json(
    policy: *mut jwtv_policy,
    path: *const c_char,
    name: *const c_char,
    json_value: *const c_char,
    err: *mut c_char,
    err_cap: usize,
) -> jwtv_status {
    // SAFETY: forwarded contracts.
    unsafe {
        change(policy, err, err_cap, |p| {
            let (path, name, value) = (text(path)?, text(name)?, text(json_value)?);
            Ok(p.set_member_json(path, name, value))
        })
    }
}

/// Adds a public key in PEM (`BEGIN PUBLIC KEY` or `BEGIN RSA PUBLIC KEY`)
/// bound to `alg` (`"RS256"`, `"ES256"`, `"EdDSA"`, …), with an optional `kid`
/// (NULL: none), to the policy's static keys (`keys.pem`); the key is checked
/// now. Static keys cannot be combined with a JWKS source.
/// `JWTV_INVALID_ARGUMENT` for an unknown algorithm, `JWTV_CONFIG_ERROR` for
/// a key that is invalid, private, too weak or of another kind.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn jwtv_policy_add_pem_key(
    policy: *mut jwtv_policy,
    pem: *const u8,
    pem_len: usize,
    alg: *const c_char,
    kid: *const c_char,
    err: *mut c_char,
    err_cap: usize,
) -> jwtv_status {
    // SAFETY: forwarded contracts.
    unsafe {
        change(policy, err, err_cap, |p| {
            let pem = std::str::from_utf8(bytes(pem, pem_len)?).map_err(|_| jwtv_status::JWTV_INVALID_UTF8)?;
            let alg = algorithm(text(alg)?, err, err_cap)?;
            Ok(p.add_pem_key(pem, alg, optional_text(kid)?))
        })
    }
}

/// Adds an HMAC secret bound to `alg` (`"HS256"`, `"HS384"`, `"HS512"`), with
/// an optional `kid`, to the policy's static keys (`keys.secrets`, stored
/// base64url-encoded: a policy holding secrets is itself a secret). The
/// secret must be at least as long as the hash output. Errors as
/// `jwtv_policy_add_pem_key`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn jwtv_policy_add_hmac_secret(
    policy: *mut jwtv_policy,
    secret: *const u8,
    secret_len: usize,
    alg: *const c_char,
    kid: *const c_char,
    err: *mut c_char,
    err_cap: usize,
) -> jwtv_status {
    // SAFETY: forwarded contracts.
    unsafe {
        change(policy, err, err_cap, |p| {
            let secret = bytes(secret, secret_len)?;
            let alg = algorithm(text(alg)?, err, err_cap)?;
            Ok(p.add_secret(secret, alg, optional_text(kid)?))
        })
    }
}

/// Uses a JWKS document held in memory (copied, read strictly now) as the
/// key source (`keys.jwks`), replacing any other. A document without a
/// usable key is `JWTV_CONFIG_ERROR`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn jwtv_policy_set_jwks(
    policy: *mut jwtv_policy,
    jwks: *const u8,
    jwks_len: usize,
    err: *mut c_char,
    err_cap: usize,
) -> jwtv_status {
    // SAFETY: forwarded contracts.
    unsafe { change(policy, err, err_cap, |p| Ok(p.set_jwks(bytes(jwks, jwks_len)?))) }
}

/// Checks the policy without making a verifier: every field, key files read
/// and valid, a key URL and a revocation source well formed; nothing is
/// fetched and no thread started (for configuration tests such as
/// `nginx -t`). `JWTV_CONFIG_ERROR` with a message in `err`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn jwtv_policy_check(
    policy: *const jwtv_policy,
    err: *mut c_char,
    err_cap: usize,
) -> jwtv_status {
    guard(|| {
        // SAFETY: NULL or a live policy per the contract.
        let policy = unsafe { policy.as_ref() }.ok_or(jwtv_status::JWTV_NULL_ARGUMENT)?;
        policy.inner.check_sources().map_err(|e| config_error(&e, err, err_cap))
    })
}

/// Writes the policy document (JSON, NUL-terminated) to `buf`, as
/// `jwtv_token_claim_string` writes strings: `*len_out` (when non-NULL)
/// receives its length; `JWTV_BUFFER_TOO_SMALL` when `buf_cap` is not more
/// than it. The document holds inline keys and secrets as given: treat it as
/// a secret when it has any, and never log it.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn jwtv_policy_to_json(
    policy: *const jwtv_policy,
    buf: *mut c_char,
    buf_cap: usize,
    len_out: *mut usize,
) -> jwtv_status {
    guard(|| {
        // SAFETY: NULL or a live policy per the contract.
        let policy = unsafe { policy.as_ref() }.ok_or(jwtv_status::JWTV_NULL_ARGUMENT)?;
        // SAFETY: buffer contract forwarded.
        unsafe { copy_out(policy.inner.to_json().as_bytes(), buf, buf_cap, len_out) }
    })
}

/// Makes a verifier from a policy (which stays the caller's: free it when
/// convenient). `flags`: 0, or `JWTV_NONBLOCKING` for hosts that run an event
/// loop. A URL key source starts fetching in the background at once.
/// `JWTV_CONFIG_ERROR` with a message in `err` when the key source or the
/// revocation list cannot be set up; `*out` is NULL after a failure.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn jwtv_verifier_from_policy(
    policy: *const jwtv_policy,
    flags: u32,
    out: *mut *mut jwtv_verifier,
    err: *mut c_char,
    err_cap: usize,
) -> jwtv_status {
    guard(|| {
        // SAFETY: NULL or writable per the contract.
        unsafe { clear_out(out) };
        // SAFETY: NULL or a live policy per the contract.
        let policy = unsafe { policy.as_ref() }.ok_or(jwtv_status::JWTV_NULL_ARGUMENT)?;
        if out.is_null() {
            return Err(jwtv_status::JWTV_NULL_ARGUMENT);
        }
        if flags & !JWTV_NONBLOCKING != 0 {
            write_error("unknown flags", err, err_cap);
            return Err(jwtv_status::JWTV_INVALID_ARGUMENT);
        }
        let inner = if flags & JWTV_NONBLOCKING != 0 {
            policy.inner.clone().never_waiting().verifier()
        } else {
            policy.inner.verifier()
        };
        verifier_out(inner.map_err(|e| config_error(&e, err, err_cap))?, out)
    })
}
