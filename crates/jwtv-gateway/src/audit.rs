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
//!
//! Hosts that carry events themselves (the C ABI's callback, Go, NGINX) take
//! an [`AuditEvent`]: the same fields, escaped by the same one function
//! (`escape`), each sink adding only its own framing (the quotes of a log
//! line, the NUL of a C string).

#![cfg_attr(not(any(feature = "tracing", feature = "log")), allow(dead_code))]

use std::fmt::{self, Write as _};
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

/// The one escaping of a value read from a token: Rust's `Debug` quoting of
/// a string without its enclosing quotes. Quotes, backslashes and every
/// control or invisible formatting character (U+0000 included, as `\0`) are
/// written as escapes, so the result holds no control character at all:
/// safe in a log line, an HTTP header or a C string as it is.
fn escape(value: &str) -> String {
    let quoted = format!("{value:?}");
    quoted.strip_prefix('"').and_then(|q| q.strip_suffix('"')).unwrap_or(&quoted).to_owned()
}

/// The log sink: an escaped value in quotes (what `Debug` writes), or `-`.
fn quoted(escaped: Option<&str>) -> String {
    escaped.map_or_else(|| "-".to_owned(), |v| format!("\"{v}\""))
}

/// `Some("…")` escaped as Rust's `Debug` writes a string, or `-`.
fn shown(value: &Option<String>) -> String {
    quoted(value.as_deref().map(escape).as_deref())
}

/// The audit event of one rejected token, for a host that carries events
/// itself: the C ABI's callback (`jwtv_verifier_set_audit_callback`), Go,
/// NGINX. The fields of the `tracing` and `log` events, never the token.
///
/// Every string from the token is already cut to [`MAX_FIELD_CHARS`]
/// characters and escaped (Rust's `Debug` quoting, without the quotes: `\n`,
/// `\u{1b}`, `\0`, `\"`), so it holds no control character and no NUL;
/// `None` when the token has no such string (or does not decode).
///
/// ```
/// use jwtv::ErrorCode;
/// use jwtv_gateway::AuditEvent;
///
/// // {"alg":"ES256","kid":"k\n1"} . {"jti":"j-1"} . a signature
/// let token = "eyJhbGciOiJFUzI1NiIsImtpZCI6ImtcbjEifQ.eyJqdGkiOiJqLTEifQ.c2ln";
/// let event = AuditEvent::new(ErrorCode::KeyNotFound, token.as_bytes(), Some("orders-api"));
/// assert_eq!(event.kid(), Some(r"k\n1"));
/// assert_eq!(
///     event.to_string(),
///     r#"code=key_not_found alg="ES256" kid="k\n1" iss=- jti="j-1" sub_hash=- token_len=62 policy=orders-api"#
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    code: ErrorCode,
    alg: Option<String>,
    kid: Option<String>,
    iss: Option<String>,
    jti: Option<String>,
    sub_hash: Option<String>,
    token_len: usize,
    policy: Option<String>,
}

impl AuditEvent {
    /// The event of `token` rejected with `code` by the policy named
    /// `policy` (`Policy::name`). Reads the token without trusting it (as
    /// the `tracing` event does); keeps nothing of it but the fields.
    pub fn new(code: ErrorCode, token: &[u8], policy: Option<&str>) -> Self {
        let r = Rejected::read(token);
        let escaped = |value: Option<String>| value.as_deref().map(escape);
        Self {
            code,
            alg: escaped(r.alg),
            kid: escaped(r.kid),
            iss: escaped(r.iss),
            jti: escaped(r.jti),
            sub_hash: r.sub_hash,
            token_len: token.len(),
            policy: policy.map(escape),
        }
    }

    /// Why the token was rejected (`unavailable`: not judged).
    pub fn code(&self) -> ErrorCode {
        self.code
    }

    /// The header's `alg`, escaped.
    pub fn alg(&self) -> Option<&str> {
        self.alg.as_deref()
    }

    /// The header's `kid`, escaped.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// The `iss` claim, escaped.
    pub fn iss(&self) -> Option<&str> {
        self.iss.as_deref()
    }

    /// The `jti` claim, escaped.
    pub fn jti(&self) -> Option<&str> {
        self.jti.as_deref()
    }

    /// A keyed hash of the `sub` claim: 16 lowercase hex digits, equal for
    /// equal subjects within one process, never the subject.
    pub fn sub_hash(&self) -> Option<&str> {
        self.sub_hash.as_deref()
    }

    /// The token's length in bytes.
    pub fn token_len(&self) -> usize {
        self.token_len
    }

    /// The policy's name.
    pub fn policy(&self) -> Option<&str> {
        self.policy.as_deref()
    }
}

/// The `log` event's fields: `code=… alg="…" kid="…" iss="…" jti="…"
/// sub_hash=… token_len=… policy=…`, `-` for a field the token lacks.
impl fmt::Display for AuditEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "code={} alg={} kid={} iss={} jti={} sub_hash={} token_len={} policy={}",
            self.code.as_str(),
            quoted(self.alg()),
            quoted(self.kid()),
            quoted(self.iss()),
            quoted(self.jti()),
            self.sub_hash().unwrap_or("-"),
            self.token_len,
            self.policy().unwrap_or("-"),
        )
    }
}

/// Emits the audit event of a token rejected with `code` (when a feature
/// carries events and the target is enabled).
pub(crate) fn rejected(code: ErrorCode, token: &[u8], policy: Option<&str>) {
    emit(code, token, policy, false);
}

/// Emits the audit event of a token the policy accepted and its shadow
/// policy would have rejected with `code` (`shadow=true`).
pub(crate) fn shadow_rejected(code: ErrorCode, token: &[u8], policy: Option<&str>) {
    emit(code, token, policy, true);
}

#[allow(unused_variables, reason = "without a logging feature there is nothing to emit")]
fn emit(code: ErrorCode, token: &[u8], policy: Option<&str>, shadow: bool) {
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
            shadow = shadow,
            "token rejected"
        );
    }
    #[cfg(feature = "log")]
    if log::log_enabled!(target: "jwtv::audit", log::Level::Info) {
        let r = Rejected::read(token);
        log::info!(
            target: "jwtv::audit",
            "token rejected code={} alg={} kid={} iss={} jti={} sub_hash={} token_len={} policy={} shadow={}",
            code.as_str(),
            shown(&r.alg),
            shown(&r.kid),
            shown(&r.iss),
            shown(&r.jti),
            r.sub_hash.as_deref().unwrap_or("-"),
            token.len(),
            policy.unwrap_or("-"),
            shadow,
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
    fn one_escaping_for_every_sink() {
        for value in ["plain", "k\n1", "a\"b\\c", "\u{1b}[31m", "x\0y", "\r\n", "caf\u{e9}", "\u{202e}", "it's"] {
            let escaped = escape(value);
            assert_eq!(format!("\"{escaped}\""), format!("{value:?}"), "the log sink is Debug's quoting");
            assert_eq!(shown(&Some(value.to_owned())), format!("{value:?}"));
            assert!(!escaped.chars().any(|c| c.is_control()), "{escaped:?}");
        }
        assert_eq!(escape("x\0y"), r"x\0y", "a NUL is written as an escape, never kept");
        assert_eq!(shown(&None), "-");
    }

    #[test]
    fn an_event_holds_the_fields_escaped_and_never_the_token() {
        let t = token(
            r#"{"alg":"HS256","kid":"k\r\n\u001b[2J\u0000"}"#,
            r#"{"iss":"https://i.example\n","sub":"alice","jti":"j-1"}"#,
        );
        let e = AuditEvent::new(ErrorCode::BadSignature, &t, Some("orders-api"));
        assert_eq!(e.code(), ErrorCode::BadSignature);
        assert_eq!(e.alg(), Some("HS256"));
        assert_eq!(e.kid(), Some(r"k\r\n\u{1b}[2J\0"));
        assert_eq!(e.iss(), Some(r"https://i.example\n"));
        assert_eq!(e.jti(), Some("j-1"));
        assert_eq!(e.sub_hash(), Rejected::read(&t).sub_hash.as_deref());
        assert_eq!((e.token_len(), e.policy()), (t.len(), Some("orders-api")));
        let line = e.to_string();
        assert!(line.starts_with(r#"code=bad_signature alg="HS256" kid="k\r\n\u{1b}[2J\0" iss="https://i.example\n""#));
        assert!(line.ends_with(&format!(" token_len={} policy=orders-api", t.len())), "{line}");
        let text = std::str::from_utf8(&t).expect("ASCII");
        assert!(text.split('.').all(|part| !line.contains(part)), "never the token: {line}");
        let none = AuditEvent::new(ErrorCode::Malformed, b"%%%", None);
        assert_eq!(none.to_string(), "code=malformed alg=- kid=- iss=- jti=- sub_hash=- token_len=3 policy=-");
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
