//! Reading a token (argument, file or stdin) and decoding it leniently for
//! display. The lenient decoding never decides anything: verdicts are the
//! core's.

use std::io::Read as _;
use std::path::Path;

use base64ct::{Base64UrlUnpadded, Encoding as _};
use serde_json::Value;

use crate::CliError;

/// The most bytes read from a token file or stdin (far above any token limit).
const MAX_INPUT: u64 = 1024 * 1024;

/// A token and where it came from (for messages; never the token itself).
#[derive(Debug)]
pub(crate) struct TokenInput {
    pub(crate) token: String,
    pub(crate) source: String,
}

/// Reads TOKEN: `-` is stdin, an existing file is read, anything that looks
/// like a path but cannot be read is an error, anything else is the token.
/// Surrounding whitespace and an `Authorization:`/`Bearer ` prefix are removed.
pub(crate) fn read_token(arg: &str) -> Result<TokenInput, CliError> {
    let (text, source) = if arg == "-" {
        let mut bytes = Vec::new();
        std::io::stdin()
            .take(MAX_INPUT)
            .read_to_end(&mut bytes)
            .map_err(|e| CliError::new(format!("cannot read the token from stdin: {e}")))?;
        (text_of(bytes, "stdin")?, "stdin".to_owned())
    } else if Path::new(arg).is_file() || looks_like_path(arg) {
        (read_text_file(arg)?, arg.to_owned())
    } else {
        (arg.to_owned(), "argument".to_owned())
    };
    Ok(TokenInput { token: strip_bearer(text.trim()).to_owned(), source })
}

fn looks_like_path(arg: &str) -> bool {
    arg.contains('/') || arg.contains('\\') || [".jwt", ".txt", ".json"].iter().any(|ext| arg.ends_with(ext))
}

/// Reads a file of text, with an error message naming it.
pub(crate) fn read_text_file(path: &str) -> Result<String, CliError> {
    let bytes = read_file(path)?;
    text_of(bytes, path)
}

/// Reads a file, with an error message naming it.
pub(crate) fn read_file(path: &str) -> Result<Vec<u8>, CliError> {
    let file = std::fs::File::open(path).map_err(|e| CliError::new(format!("cannot read {path}: {e}")))?;
    let mut bytes = Vec::new();
    file.take(MAX_INPUT.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| CliError::new(format!("cannot read {path}: {e}")))?;
    if u64::try_from(bytes.len()).unwrap_or(u64::MAX) > MAX_INPUT {
        return Err(CliError::new(format!("{path} is larger than {MAX_INPUT} bytes")));
    }
    Ok(bytes)
}

fn text_of(bytes: Vec<u8>, source: &str) -> Result<String, CliError> {
    String::from_utf8(bytes).map_err(|_| CliError::new(format!("{source} is not UTF-8 text")))
}

fn strip_bearer(text: &str) -> &str {
    let text = strip_prefix_ignore_case(text, "authorization:").map_or(text, str::trim_start);
    strip_prefix_ignore_case(text, "bearer ").map_or(text, str::trim_start)
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix).then(|| text.get(prefix.len()..)).flatten()
}

/// One segment of a token, decoded as far as it goes.
#[derive(Debug)]
pub(crate) enum Segment {
    /// Decoded and parsed (header and payload: a JSON object).
    Json(Value, Vec<u8>),
    /// Base64url-decoded bytes (the signature).
    Bytes(usize),
    /// The segment is empty.
    Empty,
    /// Not canonical unpadded base64url.
    NotBase64(&'static str),
    /// Base64url, but not a JSON object.
    NotJson(String),
}

/// A token split and decoded leniently, for display and explanations.
#[derive(Debug)]
pub(crate) struct Lenient {
    pub(crate) segments: usize,
    pub(crate) header: Option<Segment>,
    pub(crate) payload: Option<Segment>,
    pub(crate) signature: Option<Segment>,
}

impl Lenient {
    pub(crate) fn decode(token: &str) -> Self {
        let parts: Vec<&str> = token.split('.').collect();
        let json = |i: usize| parts.get(i).map(|s| json_segment(s));
        let signature = if parts.len() == 3 { parts.get(2).map(|s| bytes_segment(s)) } else { None };
        Self { segments: parts.len(), header: json(0), payload: json(1), signature }
    }

    pub(crate) fn header_json(&self) -> Option<&Value> {
        match &self.header {
            Some(Segment::Json(v, _)) => Some(v),
            _ => None,
        }
    }

    pub(crate) fn claims_json(&self) -> Option<&Value> {
        match &self.payload {
            Some(Segment::Json(v, _)) => Some(v),
            _ => None,
        }
    }

    pub(crate) fn header_bytes(&self) -> Option<&[u8]> {
        match &self.header {
            Some(Segment::Json(_, raw)) => Some(raw),
            _ => None,
        }
    }

    pub(crate) fn claims_bytes(&self) -> Option<&[u8]> {
        match &self.payload {
            Some(Segment::Json(_, raw)) => Some(raw),
            _ => None,
        }
    }

    /// The header's `alg` as written, if it is a string.
    pub(crate) fn alg(&self) -> Option<&str> {
        self.header_json()?.get("alg")?.as_str()
    }

    /// The header's `kid`, if it is a string.
    pub(crate) fn kid(&self) -> Option<&str> {
        self.header_json()?.get("kid")?.as_str()
    }
}

fn decode_b64(segment: &str) -> Result<Vec<u8>, &'static str> {
    if segment.contains('=') {
        return Err("has '=' padding (JWTs use unpadded base64url)");
    }
    if segment.contains(['+', '/']) {
        return Err("has '+' or '/' (standard base64, not base64url)");
    }
    if segment.contains(char::is_whitespace) {
        return Err("contains whitespace (a line break pasted in?)");
    }
    Base64UrlUnpadded::decode_vec(segment).map_err(|_| "is not valid base64url")
}

fn json_segment(segment: &str) -> Segment {
    if segment.is_empty() {
        return Segment::Empty;
    }
    match decode_b64(segment) {
        Err(why) => Segment::NotBase64(why),
        Ok(bytes) => match serde_json::from_slice::<Value>(&bytes) {
            Ok(value @ Value::Object(_)) => Segment::Json(value, bytes),
            Ok(other) => Segment::NotJson(format!("is JSON but not an object ({})", type_name(&other))),
            Err(e) if std::str::from_utf8(&bytes).is_err() => Segment::NotJson(format!("is not UTF-8 text ({e})")),
            Err(e) => Segment::NotJson(format!("is not JSON ({e})")),
        },
    }
}

fn bytes_segment(segment: &str) -> Segment {
    if segment.is_empty() {
        return Segment::Empty;
    }
    match decode_b64(segment) {
        Err(why) => Segment::NotBase64(why),
        Ok(bytes) => Segment::Bytes(bytes.len()),
    }
}

pub(crate) fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_prefixes_are_removed() {
        assert_eq!(strip_bearer("Bearer abc"), "abc");
        assert_eq!(strip_bearer("Authorization: Bearer abc"), "abc");
        assert_eq!(strip_bearer("bearer  abc"), "abc");
        assert_eq!(strip_bearer("abc"), "abc");
    }

    #[test]
    fn lenient_decoding_names_problems() {
        let l = Lenient::decode("eyJhbGciOiJub25lIn0.e30.");
        assert_eq!(l.segments, 3);
        assert_eq!(l.alg(), Some("none"));
        assert!(matches!(l.signature, Some(Segment::Empty)));
        let l = Lenient::decode("eyJh=.W10.abc");
        assert!(matches!(l.header, Some(Segment::NotBase64(_))));
        assert!(matches!(l.payload, Some(Segment::NotJson(_))));
    }
}
