//! Required claims: where a rule looks (a claim name, or a JSON Pointer into
//! the claims) and what value it asks for.

use crate::claims::Claims;
use crate::json::{self, JsonStr, Value};

/// A value a required claim must hold ([`Policy::require_claim_values`](crate::Policy::require_claim_values)).
///
/// The claim matches when it equals the value (a string exactly, an integer
/// by its value: `3`, `3.0` and `3.00` are 3, `3e0` is not read as a number
/// here), or when it is an array one of whose elements does (`"roles":
/// ["user","admin"]` holds `"admin"`). A top-level `scope` claim is a
/// space-separated list (RFC 8693 §4.2): it holds each of its words.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClaimValue<'a> {
    /// A string, compared after JSON escapes are decoded.
    String(&'a str),
    /// An integer.
    Integer(i64),
    /// `true` or `false`.
    Bool(bool),
}

impl<'a> From<&'a str> for ClaimValue<'a> {
    fn from(s: &'a str) -> Self {
        Self::String(s)
    }
}

impl From<i64> for ClaimValue<'_> {
    fn from(n: i64) -> Self {
        Self::Integer(n)
    }
}

impl From<bool> for ClaimValue<'_> {
    fn from(b: bool) -> Self {
        Self::Bool(b)
    }
}

/// Whether a required claim's name is a JSON Pointer (RFC 6901): it starts
/// with `/`, as `/realm_access/roles` does. Any other name is a top-level
/// claim, taken as written (`https://example.com/roles` included).
pub(crate) fn is_pointer(name: &str) -> bool {
    name.starts_with('/')
}

/// Whether `pointer` is a well-formed JSON Pointer: it starts with `/`, and
/// every `~` is followed by `0` (for `~`) or `1` (for `/`).
pub fn is_valid_pointer(pointer: &str) -> bool {
    let mut bytes = pointer.bytes();
    if bytes.next() != Some(b'/') {
        return false;
    }
    while let Some(b) = bytes.next() {
        if b == b'~' && !matches!(bytes.next(), Some(b'0' | b'1')) {
            return false;
        }
    }
    true
}

/// The value a required claim's `name` points at: a top-level claim, or the
/// member or array element a JSON Pointer names.
pub(crate) fn find<'a>(claims: &Claims<'a>, name: &str) -> Option<Value<'a>> {
    if !is_pointer(name) {
        return claims.get(name);
    }
    if !is_valid_pointer(name) {
        return None;
    }
    let mut value = Value::Object(core::str::from_utf8(claims.raw_json()).ok()?);
    for segment in name.split('/').skip(1) {
        value = match value {
            Value::Object(raw) => member(raw.as_bytes(), segment)?,
            Value::Array(_) => value.as_array()?.nth(index(segment)?)?,
            _ => return None,
        };
    }
    Some(value)
}

/// The member of an object whose name is the pointer segment `segment`.
fn member<'a>(object: &'a [u8], segment: &str) -> Option<Value<'a>> {
    let mut found = None;
    json::parse_object(object, |name, value| {
        if found.is_none() && name.chars().eq(unescape(segment)) {
            found = Some(value);
        }
    })
    .ok()?;
    found
}

/// A pointer segment's characters with `~1` read as `/` and `~0` as `~`.
fn unescape(segment: &str) -> impl Iterator<Item = char> + '_ {
    let mut chars = segment.chars();
    core::iter::from_fn(move || match chars.next()? {
        '~' => match chars.next() {
            Some('1') => Some('/'),
            _ => Some('~'),
        },
        c => Some(c),
    })
}

/// An array index segment: `0`, or digits without a leading zero.
fn index(segment: &str) -> Option<usize> {
    let leading_zero = segment.len() > 1 && segment.starts_with('0');
    if leading_zero || !segment.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    segment.parse().ok()
}

/// Whether the claim `name` holding `value` satisfies `want`.
pub(crate) fn holds(name: &str, value: Value<'_>, want: ClaimValue<'_>) -> bool {
    match (value, want) {
        (Value::Array(_), _) => value.as_array().is_some_and(|mut elements| elements.any(|e| equals(e, want))),
        (Value::String(s), ClaimValue::String(word)) if name == "scope" => has_word(s, word),
        _ => equals(value, want),
    }
}

fn equals(value: Value<'_>, want: ClaimValue<'_>) -> bool {
    match (value, want) {
        (Value::String(s), ClaimValue::String(w)) => s == w,
        (Value::Number(raw), ClaimValue::Integer(n)) => integer(raw) == Some(n),
        (Value::Bool(b), ClaimValue::Bool(w)) => b == w,
        _ => false,
    }
}

/// A JSON number (grammar already checked) as an integer: without an
/// exponent, with a fraction of zeros only, within 64 bits.
fn integer(raw: &str) -> Option<i64> {
    if raw.contains(['e', 'E']) {
        return None;
    }
    let (whole, fraction) = raw.split_once('.').unwrap_or((raw, ""));
    if fraction.bytes().any(|d| d != b'0') {
        return None;
    }
    whole.parse().ok()
}

/// Whether the space-separated list `list` holds `word`.
fn has_word(list: JsonStr<'_>, word: &str) -> bool {
    if word.is_empty() || word.contains(' ') {
        return false;
    }
    let mut chars = list.chars().peekable();
    while chars.peek().is_some() {
        let mut want = word.chars();
        let mut same = true;
        for c in chars.by_ref().take_while(|&c| c != ' ') {
            same = same && want.next() == Some(c);
        }
        if same && want.next().is_none() {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(json: &str) -> Claims<'_> {
        Claims::parse(json.as_bytes(), |_, _| ()).expect("claims")
    }

    #[test]
    fn pointers_are_checked_for_form() {
        for good in ["/", "/a", "/a/b", "/a~0b", "/a~1b", "/~0~1", "/0"] {
            assert!(is_valid_pointer(good), "{good}");
        }
        for bad in ["", "a", "a/b", "/a~", "/a~2", "/~x", "/a~~1"] {
            assert!(!is_valid_pointer(bad), "{bad}");
        }
    }

    #[test]
    fn a_pointer_walks_objects_and_arrays() {
        let c = claims(
            r#"{"realm_access":{"roles":["admin","user"]},"a/b":{"c~d":1},"https://x.test/r":"y","":{"":2},"l":[[5]]}"#,
        );
        let text = |name: &str| find(&c, name).map(|v| v.type_name());
        assert_eq!(text("/realm_access/roles"), Some("array"));
        assert!(matches!(find(&c, "/realm_access/roles/1"), Some(Value::String(s)) if s == "user"));
        assert!(matches!(find(&c, "/a~1b/c~0d"), Some(Value::Number("1"))));
        assert!(matches!(find(&c, "https://x.test/r"), Some(Value::String(s)) if s == "y"));
        assert!(matches!(find(&c, "//"), Some(Value::Number("2"))));
        assert!(matches!(find(&c, "/l/0/0"), Some(Value::Number("5"))));
        for absent in [
            "/realm_access/groups",
            "/realm_access/roles/2",
            "/realm_access/roles/01",
            "/realm_access/roles/-",
            "/a/b",
            "/realm_access/roles/0/x",
            "/x~2",
            "/https:~1~1x.test~1r/z",
        ] {
            assert!(find(&c, absent).is_none(), "{absent}");
        }
    }

    #[test]
    fn values_match_by_type_by_element_and_by_scope_word() {
        let c = claims(
            r#"{"s":"a\u0062","n":3.00,"big":12345678901234567890,"e":3e0,"t":true,"roles":["x",7,false],"scope":"openid read write","nested":[["admin"]]}"#,
        );
        let holds_at = |name: &str, want: ClaimValue<'_>| holds(name, find(&c, name).expect(name), want);
        assert!(holds_at("s", "ab".into()));
        assert!(!holds_at("s", "a".into()));
        assert!(holds_at("n", 3.into()));
        assert!(!holds_at("n", "3".into()), "a string never equals a number");
        assert!(!holds_at("big", i64::MAX.into()));
        assert!(!holds_at("e", 3.into()), "no exponent");
        assert!(holds_at("t", true.into()));
        assert!(!holds_at("t", "true".into()));
        assert!(holds_at("roles", "x".into()));
        assert!(holds_at("roles", 7.into()));
        assert!(holds_at("roles", false.into()));
        assert!(!holds_at("roles", "y".into()));
        assert!(!holds_at("nested", "admin".into()), "one level of membership");
        for word in ["openid", "read", "write"] {
            assert!(holds_at("scope", word.into()), "{word}");
        }
        for not in ["", "re", "read write", "openid read write", "ope"] {
            assert!(!holds_at("scope", not.into()), "{not:?}");
        }
        let spaced = claims(r#"{"s":"a b"}"#);
        assert!(!holds("s", find(&spaced, "s").expect("s"), "a".into()), "only `scope` splits words");
    }
}
