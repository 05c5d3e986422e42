//! Audit events of rejected tokens, never the token: the code, the token's
//! length, the policy's name and, from the token read without trusting it,
//! `alg`, `kid`, `iss`, `jti` and a keyed hash of `sub`. Through `tracing`
//! (feature `tracing`, target `jwtv::audit`, level INFO) or `log` (feature
//! `log`, the same target); nothing without either feature.
//!
//! The values come from an attacker's bytes: each is cut to
//! [`MAX_FIELD_CHARS`] characters and written escaped (Rust's `Debug`
//! quoting: control characters, quotes and backslashes escaped), so that a
//! field can neither split a log line nor forge another field.

#![cfg_attr(not(any(feature = "tracing", feature = "log")), allow(dead_code))]

use std::fmt::Write as _;
use std::sync::OnceLock;

use base64ct::{Base64UrlUnpadded, Encoding as _};
use jwtv::ErrorCode;

/// The longest value an event carries, in characters.
pub const MAX_FIELD_CHARS: usize = 128;

/// What an audit event says of a rejected token.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Rejected {
    pub(crate) alg: Option<String>,
    pub(crate) kid: Option<String>,
    pub(crate) iss: Option<String>,
    pub(crate) jti: Option<String>,
    /// HMAC-SHA256 of `sub` under a key drawn per process, first 8 bytes in
    /// hex: equal subjects correlate within a process, nothing reveals one.
    pub(crate) sub_hash: Option<String>,
}

impl Rejected {
    /// Reads what it can of `token` (header and claims decoded without any
    /// check); whatever does not decode is left out.
    pub(crate) fn read(token: &[u8]) -> Self {
        let mut parts = token.split(|&b| b == b'.');
        let decode = |part: Option<&[u8]>| -> Option<serde_json::Value> {
            let bytes = Base64UrlUnpadded::decode_vec(std::str::from_utf8(part?).ok()?).ok()?;
            serde_json::from_slice::<serde_json::Value>(&bytes).ok().filter(serde_json::Value::is_object)
        };
        let header = decode(parts.next());
        let claims = decode(parts.next());
        let text = |doc: &Option<serde_json::Value>, name: &str| {
            doc.as_ref()?.get(name)?.as_str().map(|s| s.chars().take(MAX_FIELD_CHARS).collect::<String>())
        };
        Self {
            alg: text(&header, "alg"),
            kid: text(&header, "kid"),
            iss: text(&claims, "iss"),
            jti: text(&claims, "jti"),
            sub_hash: claims.as_ref().and_then(|c| c.get("sub")?.as_str().map(keyed_hash)),
        }
    }
}

fn keyed_hash(sub: &str) -> String {
    static KEY: OnceLock<ring::hmac::Key> = OnceLock::new();
    let key = KEY.get_or_init(|| {
        let rng = ring::rand::SystemRandom::new();
        ring::hmac::Key::generate(ring::hmac::HMAC_SHA256, &rng)
            .unwrap_or_else(|_| ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &std::process::id().to_le_bytes()))
    });
    let tag = ring::hmac::sign(key, sub.as_bytes());
    tag.as_ref().iter().take(8).fold(String::with_capacity(16), |mut hex, b| {
        let _ = write!(hex, "{b:02x}");
        hex
    })
}

/// `Some("…")` escaped as Rust's `Debug` writes a string, or `-`.
fn shown(value: &Option<String>) -> String {
    value.as_ref().map_or_else(|| "-".to_owned(), |v| format!("{v:?}"))
}

/// Emits the audit event of a token rejected with `code` (when a feature
/// carries events and the target is enabled).
#[allow(unused_variables, reason = "without a logging feature there is nothing to emit")]
pub(crate) fn rejected(code: ErrorCode, token: &[u8], policy: Option<&str>) {
    #[cfg(feature = "tracing")]
    if tracing::enabled!(target: "jwtv::audit", tracing::Level::INFO) {
        let r = Rejected::read(token);
        tracing::info!(
            target: "jwtv::audit",
            code = code.as_str(),
            alg = %shown(&r.alg),
            kid = %shown(&r.kid),
            iss = %shown(&r.iss),
            jti = %shown(&r.jti),
            sub_hash = %r.sub_hash.as_deref().unwrap_or("-"),
            token_len = token.len(),
            policy = policy.unwrap_or("-"),
            "token rejected"
        );
    }
    #[cfg(feature = "log")]
    if log::log_enabled!(target: "jwtv::audit", log::Level::Info) {
        let r = Rejected::read(token);
        log::info!(
            target: "jwtv::audit",
            "token rejected code={} alg={} kid={} iss={} jti={} sub_hash={} token_len={} policy={}",
            code.as_str(),
            shown(&r.alg),
            shown(&r.kid),
            shown(&r.iss),
            shown(&r.jti),
            r.sub_hash.as_deref().unwrap_or("-"),
            token.len(),
            policy.unwrap_or("-"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(header: &str, claims: &str) -> Vec<u8> {
        let b64 = |s: &str| Base64UrlUnpadded::encode_string(s.as_bytes());
        format!("{}.{}.c2ln", b64(header), b64(claims)).into_bytes()
    }

    #[test]
    fn the_fields_are_read_without_trusting_the_token_and_kept_inert() {
        let t = token(
            r#"{"alg":"HS256","kid":"k\u001b[31m1"}"#,
            r#"{"iss":"https://i.example","sub":"alice","jti":"j-1"}"#,
        );
        let r = Rejected::read(&t);
        assert_eq!(r.alg.as_deref(), Some("HS256"));
        assert_eq!(shown(&r.kid), r#""k\u{1b}[31m1""#, "control characters are escaped");
        assert_eq!(r.iss.as_deref(), Some("https://i.example"));
        assert_eq!(r.jti.as_deref(), Some("j-1"));
        let hash = r.sub_hash.expect("a sub");
        assert_eq!(hash.len(), 16);
        assert!(!hash.contains("alice"));
        assert_eq!(Rejected::read(&token("{}", r#"{"sub":"alice"}"#)).sub_hash, Some(hash), "stable within a process");
        assert_ne!(Rejected::read(&token("{}", r#"{"sub":"bob"}"#)).sub_hash, Rejected::read(&t).sub_hash);
    }

    #[test]
    fn garbage_gives_no_fields_and_long_values_are_cut() {
        assert_eq!(Rejected::read(b"not a token"), Rejected::default());
        assert_eq!(Rejected::read(b"%%%.%%%.%%%"), Rejected::default());
        assert_eq!(Rejected::read(&token("[1]", "\"x\"")), Rejected::default());
        let long = "x".repeat(1000);
        let r = Rejected::read(&token(&format!(r#"{{"kid":"{long}"}}"#), "{}"));
        assert_eq!(r.kid.map(|k| k.chars().count()), Some(MAX_FIELD_CHARS));
    }
}
