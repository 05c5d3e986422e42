//! `jwtv_config`: what a verifier is made from — a key source, the token rules,
//! cache size, a revocation list — set field by field from C.

use std::ffi::c_char;
use std::path::{Path, PathBuf};
use std::time::Duration;

use jwtv::{Algorithm, AlgorithmSet, VerifyingKey};
use jwtv_jwks::{
    FileJwks, Freshness, KeySet, KeySetOptions, KeySource, RedisOptions, RefreshPolicy, RemoteJwks, Revocations, Rules,
    Verifier, key_from_pem,
};

use crate::boundary::{bytes, guard, guard_void, optional_text, text, write_out};
use crate::status::jwtv_status;

/// A verifier configuration under construction. Opaque; made by
/// `jwtv_config_new`, released by `jwtv_config_free`.
#[allow(non_camel_case_types, reason = "C naming")]
#[derive(Debug)]
pub struct jwtv_config {
    source: Option<Source>,
    keys: Vec<VerifyingKey>,
    algorithms: AlgorithmSet,
    rules: Rules,
    token_cache: usize,
    first_fetch_timeout: Duration,
    /// A revocation list's source: a file path or a `redis://` URL.
    revocations: Option<String>,
    /// Whether the list fails closed while it is not in sync.
    freshness: Freshness,
}

/// The most entries of each rule list (issuers, audiences, required claims,
/// required claim values): the next one is refused, never dropped.
pub const JWTV_MAX_LIST_LEN: usize = 32;
const _: () = assert!(JWTV_MAX_LIST_LEN == jwtv_jwks::MAX_RULE_LIST_LEN);

/// The largest clock leeway, in seconds (a revoked `jti` is kept this long
/// past its `exp`).
pub const JWTV_MAX_LEEWAY_SECS: u64 = 300;
const _: () = assert!(JWTV_MAX_LEEWAY_SECS == jwtv_jwks::MAX_LEEWAY_SECS);

/// How long `jwtv_verifier_new` waits for a Redis revocation list's first
/// sync (a policy file's `revocations.first_sync_timeout_ms` by default).
const FIRST_SYNC_TIMEOUT: Duration = Duration::from_secs(2);

#[derive(Debug)]
enum Source {
    Jwks(Vec<u8>),
    File(PathBuf),
    Url(String),
}

impl jwtv_config {
    fn new() -> Self {
        Self {
            source: None,
            keys: Vec::new(),
            algorithms: AlgorithmSet::EMPTY,
            rules: Rules::new(AlgorithmSet::EMPTY),
            token_cache: 0,
            first_fetch_timeout: jwtv_jwks::DEFAULT_FIRST_FETCH_TIMEOUT,
            revocations: None,
            freshness: Freshness::default(),
        }
    }

    fn set_source(&mut self, source: Source) {
        self.source = Some(source);
    }

    /// The verifier this configuration describes, or the message of what is
    /// wrong. A file revocation list is loaded now; a Redis one is connected
    /// to and waited for up to [`FIRST_SYNC_TIMEOUT`] (it keeps syncing in the
    /// background either way).
    pub(crate) fn build(&self) -> Result<Verifier, String> {
        let (source, rules) = self.key_source_and_rules()?;
        let verifier = Verifier::new(source, rules)
            .map_err(|e| e.to_string())?
            .with_token_cache(self.token_cache)
            .with_first_fetch_timeout(self.first_fetch_timeout);
        let Some(location) = &self.revocations else { return Ok(verifier) };
        let revocations = Revocations::open(location, Path::new("."), RedisOptions::default())
            .map_err(|e| format!("revocations: {e}"))?
            .with_freshness(self.freshness);
        revocations.wait_synced(FIRST_SYNC_TIMEOUT);
        Ok(verifier.with_revocations(revocations))
    }

    /// The key source and rules, or the message of what is wrong.
    fn key_source_and_rules(&self) -> Result<(KeySource, Rules), String> {
        if self.algorithms.is_empty() {
            return Err("no algorithm allowed: call jwtv_config_add_algorithm".into());
        }
        let options = KeySetOptions::for_algorithms(self.algorithms);
        let source = match (&self.source, self.keys.is_empty()) {
            (Some(_), false) => return Err("both a JWKS and individual keys were given: choose one key source".into()),
            (None, true) => return Err("no keys: give a JWKS (memory, file or URL), PEM keys or HMAC secrets".into()),
            (None, false) => KeySource::fixed(KeySet::from_keys(self.keys.clone())),
            (Some(Source::Jwks(document)), true) => {
                let set = KeySet::parse(document, &options).map_err(|e| format!("JWKS: {e}"))?;
                if set.is_empty() {
                    return Err("JWKS: no usable key".into());
                }
                KeySource::fixed(set)
            }
            (Some(Source::File(path)), true) => {
                let file = FileJwks::open(path, options).map_err(|e| format!("{}: {e}", path.display()))?;
                KeySource::File(std::sync::Arc::new(file))
            }
            (Some(Source::Url(url)), true) => {
                KeySource::Remote(RemoteJwks::new(url, RefreshPolicy::default(), options).map_err(|e| e.to_string())?)
            }
        };
        let rules = self.rules.clone().with_algorithms(self.algorithms);
        Ok((source, rules))
    }
}

/// Runs a setter on a non-NULL config.
///
/// # Safety
/// `config` is NULL or a live pointer from `jwtv_config_new`, not used by
/// another thread during the call.
unsafe fn with_config(
    config: *mut jwtv_config,
    set: impl FnOnce(&mut jwtv_config) -> Result<(), jwtv_status>,
) -> jwtv_status {
    guard(|| {
        // SAFETY: NULL or a live, exclusively used config per the contract.
        let config = unsafe { config.as_mut() }.ok_or(jwtv_status::JWTV_NULL_ARGUMENT)?;
        set(config)
    })
}

fn algorithm(name: &str) -> Result<Algorithm, jwtv_status> {
    Algorithm::from_name(name).ok_or(jwtv_status::JWTV_INVALID_ARGUMENT)
}

/// Makes an empty configuration and writes it to `*out`. Free it with
/// `jwtv_config_free` (a verifier made from it does not need it).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn jwtv_config_new(out: *mut *mut jwtv_config) -> jwtv_status {
    guard(|| {
        let config = Box::into_raw(Box::new(jwtv_config::new()));
        // SAFETY: `out` is NULL or writable per the contract.
        unsafe { write_out(out, config) }.inspect_err(|_| {
            // SAFETY: just made by Box::into_raw and not shared.
            drop(unsafe { Box::from_raw(config) });
        })
    })
}

/// Releases a configuration. NULL is a no-op.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn jwtv_config_free(config: *mut jwtv_config) {
    guard_void(|| {
        if !config.is_null() {
            // SAFETY: a pointer from `jwtv_config_new`, released once per the contract.
            drop(unsafe { Box::from_raw(config) });
        }
    });
}

/// Allows an algorithm by its JOSE name (`"ES256"`, `"RS256"`, `"EdDSA"`, …).
/// At least one is required. `JWTV_INVALID_ARGUMENT` for unknown names (and `"none"`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn jwtv_config_add_algorithm(config: *mut jwtv_config, alg: *const c_char) -> jwtv_status {
    // SAFETY: forwarded contracts.
    unsafe {
        with_config(config, |c| {
            let alg = algorithm(text(alg)?)?;
            c.algorithms = c.algorithms.with(alg);
            Ok(())
        })
    }
}

/// Uses a JWKS document held in memory (copied).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn jwtv_config_set_jwks(config: *mut jwtv_config, json: *const u8, len: usize) -> jwtv_status {
    // SAFETY: forwarded contracts.
    unsafe {
        with_config(config, |c| {
            let document = bytes(json, len)?;
            c.set_source(Source::Jwks(document.to_vec()));
            Ok(())
        })
    }
}

/// Uses a JWKS file, re-read when it changes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn jwtv_config_set_jwks_file(config: *mut jwtv_config, path: *const c_char) -> jwtv_status {
    // SAFETY: forwarded contracts.
    unsafe {
        with_config(config, |c| {
            c.set_source(Source::File(PathBuf::from(text(path)?)));
            Ok(())
        })
    }
}

/// Uses a JWKS URL (`http` or `https`), refreshed by a background thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn jwtv_config_set_jwks_url(config: *mut jwtv_config, url: *const c_char) -> jwtv_status {
    // SAFETY: forwarded contracts.
    unsafe {
        with_config(config, |c| {
            c.set_source(Source::Url(text(url)?.to_owned()));
            Ok(())
        })
    }
}

/// Adds a PEM public key (`BEGIN PUBLIC KEY` or `BEGIN RSA PUBLIC KEY`) bound
/// to `alg`, with an optional `kid` (NULL: none). Private keys are refused
/// (`JWTV_CONFIG_ERROR`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn jwtv_config_add_pem_key(
    config: *mut jwtv_config,
    pem: *const u8,
    pem_len: usize,
    alg: *const c_char,
    kid: *const c_char,
) -> jwtv_status {
    // SAFETY: forwarded contracts.
    unsafe {
        with_config(config, |c| {
            let pem = std::str::from_utf8(bytes(pem, pem_len)?).map_err(|_| jwtv_status::JWTV_INVALID_UTF8)?;
            let alg = algorithm(text(alg)?)?;
            let kid = optional_text(kid)?;
            let key = key_from_pem(pem, alg).map_err(|_| jwtv_status::JWTV_CONFIG_ERROR)?;
            let key = match kid {
                Some(kid) => key.with_kid(kid).map_err(|_| jwtv_status::JWTV_INVALID_ARGUMENT)?,
                None => key,
            };
            c.keys.push(key);
            Ok(())
        })
    }
}

/// Adds an HMAC secret bound to `alg` (`HS256`, `HS384`, `HS512`), at least as
/// long as the hash output, with an optional `kid` (NULL: none).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn jwtv_config_add_hmac_secret(
    config: *mut jwtv_config,
    secret: *const u8,
    secret_len: usize,
    alg: *const c_char,
    kid: *const c_char,
) -> jwtv_status {
    // SAFETY: forwarded contracts.
    unsafe {
        with_config(config, |c| {
            let secret = bytes(secret, secret_len)?;
            let alg = algorithm(text(alg)?)?;
            let kid = optional_text(kid)?;
            let key = VerifyingKey::hmac(alg, secret).map_err(|_| jwtv_status::JWTV_CONFIG_ERROR)?;
            let key = match kid {
                Some(kid) => key.with_kid(kid).map_err(|_| jwtv_status::JWTV_INVALID_ARGUMENT)?,
                None => key,
            };
            c.keys.push(key);
            Ok(())
        })
    }
}

/// Adds an accepted issuer (`iss`). At most 32 issuers: the 33rd is refused
/// with `JWTV_INVALID_ARGUMENT` (nothing is ever dropped).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn jwtv_config_add_issuer(config: *mut jwtv_config, issuer: *const c_char) -> jwtv_status {
    // SAFETY: forwarded contracts.
    unsafe { with_config(config, |c| checked(c, |r| Ok(r.issuer(text(issuer)?)))) }
}

/// Adds an accepted audience (`aud`). At most 32: the 33rd is refused with
/// `JWTV_INVALID_ARGUMENT`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn jwtv_config_add_audience(config: *mut jwtv_config, audience: *const c_char) -> jwtv_status {
    // SAFETY: forwarded contracts.
    unsafe { with_config(config, |c| checked(c, |r| Ok(r.audience(text(audience)?)))) }
}

/// Requires the header `typ` (case-insensitive, `application/` optional).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn jwtv_config_set_typ(config: *mut jwtv_config, typ: *const c_char) -> jwtv_status {
    // SAFETY: forwarded contracts.
    unsafe {
        with_config(config, |c| {
            let typ = text(typ)?;
            c.rules = c.rules.clone().typ(typ);
            Ok(())
        })
    }
}

/// Sets the clock-skew leeway for `exp`, `nbf` and `iat` (default 30 s; at
/// most 300 s, `JWTV_INVALID_ARGUMENT` above).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn jwtv_config_set_leeway(config: *mut jwtv_config, seconds: u64) -> jwtv_status {
    // SAFETY: forwarded contracts.
    unsafe { with_config(config, |c| checked(c, |r| Ok(r.leeway_secs(seconds)))) }
}

/// Requires a claim to be present. At most 32 required claims: the 33rd is
/// refused with `JWTV_INVALID_ARGUMENT`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn jwtv_config_require_claim(config: *mut jwtv_config, name: *const c_char) -> jwtv_status {
    // SAFETY: forwarded contracts.
    unsafe { with_config(config, |c| checked(c, |r| Ok(r.require_claim(text(name)?)))) }
}

/// Requires a claim to be a string equal to `value`. At most 32 such pairs:
/// the 33rd is refused with `JWTV_INVALID_ARGUMENT`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn jwtv_config_require_claim_value(
    config: *mut jwtv_config,
    name: *const c_char,
    value: *const c_char,
) -> jwtv_status {
    // SAFETY: forwarded contracts.
    unsafe { with_config(config, |c| checked(c, |r| Ok(r.require_claim_value(text(name)?, text(value)?)))) }
}

/// Sets the largest token accepted, in bytes (default 16384; 0 is invalid).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn jwtv_config_set_max_token_len(config: *mut jwtv_config, max: usize) -> jwtv_status {
    // SAFETY: forwarded contracts.
    unsafe {
        with_config(config, |c| {
            if max == 0 {
                return Err(jwtv_status::JWTV_INVALID_ARGUMENT);
            }
            c.rules = c.rules.clone().max_token_len(max);
            Ok(())
        })
    }
}

/// Sets the verified-token cache size (default 0: no cache).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn jwtv_config_set_token_cache(config: *mut jwtv_config, entries: usize) -> jwtv_status {
    // SAFETY: forwarded contracts.
    unsafe {
        with_config(config, |c| {
            c.token_cache = entries;
            Ok(())
        })
    }
}

/// Checks every token that passes against a revocation list (tokens revoked
/// by `jti`, subject or key id are rejected with `JWTV_REVOKED`). `source` is
/// a file path (a JSON list, re-read when it changes; relative to the current
/// directory) or a `redis://` / `redis+unix://` URL (synced in the
/// background; `jwtv_verifier_new` waits up to 2 s for the first sync). A
/// missing or invalid file or a malformed URL is reported by
/// `jwtv_verifier_new` as `JWTV_CONFIG_ERROR`. Replaces an earlier source.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn jwtv_config_set_revocations(config: *mut jwtv_config, source: *const c_char) -> jwtv_status {
    // SAFETY: forwarded contracts.
    unsafe {
        with_config(config, |c| {
            c.revocations = Some(text(source)?.to_owned());
            Ok(())
        })
    }
}

/// Says what verifications do while the revocation list is not in sync
/// (never synced, or not for more than `max_staleness_secs`): with
/// `fail_closed` false (the default) they go on against the last good copy,
/// and the state is only reported (`jwtv_verifier_revocation_status`); with
/// `fail_closed` true every token is refused with `JWTV_UNAVAILABLE` until
/// the list syncs again: the safer choice where a revoked token must never
/// pass. `max_staleness_secs` is 60 by default; 0 is `JWTV_INVALID_ARGUMENT`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn jwtv_config_set_revocation_freshness(
    config: *mut jwtv_config,
    fail_closed: bool,
    max_staleness_secs: u64,
) -> jwtv_status {
    // SAFETY: forwarded contracts.
    unsafe {
        with_config(config, |c| {
            if max_staleness_secs == 0 {
                return Err(jwtv_status::JWTV_INVALID_ARGUMENT);
            }
            c.freshness = Freshness { fail_closed, max_staleness: Duration::from_secs(max_staleness_secs) };
            Ok(())
        })
    }
}

/// Changes the rules, refusing a change that makes them unenforceable
/// (`Rules::check`: a list past 32 entries, a leeway past 300 s) with
/// `JWTV_INVALID_ARGUMENT` and the rules as they were.
fn checked(
    config: &mut jwtv_config,
    change: impl FnOnce(Rules) -> Result<Rules, jwtv_status>,
) -> Result<(), jwtv_status> {
    let rules = change(config.rules.clone())?;
    rules.check().map_err(|_| jwtv_status::JWTV_INVALID_ARGUMENT)?;
    config.rules = rules;
    Ok(())
}
