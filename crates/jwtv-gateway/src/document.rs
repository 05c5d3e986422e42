//! The JSON documents jwtv is configured with (the policy document, the
//! revocation file): one object at the top, read strictly, with errors that
//! name the field's path (`refresh.min_ttl_secs: invalid type: …`).
//!
//! serde would read a struct from an array as well (its positional form), so
//! `[]` would be an empty document that silently replaces a live one: the
//! top level is checked to be an object before anything else.

use core::fmt;
use core::marker::PhantomData;
use std::collections::HashSet;

use serde::de::DeserializeOwned;
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Why a document was refused: the path of the offending field (empty for
/// the document as a whole) and what is wrong.
#[derive(Debug)]
pub(crate) struct DocumentError {
    pub(crate) path: String,
    pub(crate) message: String,
}

/// Reads `json` as a `T`, which must be written as a JSON object.
pub(crate) fn read<T: DeserializeOwned>(json: &[u8]) -> Result<T, DocumentError> {
    let whole = |message: String| DocumentError { path: String::new(), message };
    let first = json.iter().copied().find(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'));
    match first {
        Some(b'{') => {}
        None => return Err(whole("empty document: expected a JSON object".into())),
        Some(other) => {
            let found = match other {
                b'[' => "an array",
                b'"' => "a string",
                b't' | b'f' => "a boolean",
                b'n' => "null",
                b'-' | b'0'..=b'9' => "a number",
                _ => "something that is not JSON",
            };
            return Err(whole(format!("expected a JSON object at the top of the document, found {found}")));
        }
    }
    let mut de = serde_json::Deserializer::from_slice(json);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        DocumentError {
            path: if path == "." { String::new() } else { path },
            message: without_position(&e.into_inner()),
        }
    })?;
    de.end().map_err(|e| whole(e.to_string()))?;
    Ok(value)
}

/// serde_json's message without its " at line L column C": the field's path
/// says where, and the document may be one the caller never wrote (a policy
/// re-read after a change by path).
fn without_position(e: &serde_json::Error) -> String {
    let message = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    message.strip_suffix(&suffix).map_or_else(|| message.clone(), str::to_owned)
}

/// A JSON object read in document order, refusing a name given twice
/// (serde's maps keep the last of two equal names, so one rule would vanish
/// without a word).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct UniqueMap<V>(pub(crate) Vec<(String, V)>);

impl<V> Default for UniqueMap<V> {
    fn default() -> Self {
        Self(Vec::new())
    }
}

impl<V: Serialize> Serialize for UniqueMap<V> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (name, value) in &self.0 {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

impl<'de, V: Deserialize<'de>> Deserialize<'de> for UniqueMap<V> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor<V>(PhantomData<V>);
        impl<'de, V: Deserialize<'de>> serde::de::Visitor<'de> for Visitor<V> {
            type Value = UniqueMap<V>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object whose names are all different")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<UniqueMap<V>, A::Error> {
                let mut seen = HashSet::new();
                let mut entries = Vec::new();
                while let Some((name, value)) = map.next_entry::<String, V>()? {
                    if !seen.insert(name.clone()) {
                        return Err(serde::de::Error::custom(format!("duplicate name `{name}`")));
                    }
                    entries.push((name, value));
                }
                Ok(UniqueMap(entries))
            }
        }
        deserializer.deserialize_map(Visitor(PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Doc {
        #[serde(default)]
        a: Vec<u64>,
        #[serde(default)]
        b: Option<Inner>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Inner {
        #[serde(default)]
        c: u64,
    }

    fn error(json: &str) -> (String, String) {
        let e = read::<Doc>(json.as_bytes()).expect_err(json);
        (e.path, e.message)
    }

    #[test]
    fn only_an_object_is_a_document() {
        assert_eq!(read::<Doc>(b" \n{}").map(|d| d.a.len()).ok(), Some(0));
        let doc = read::<Doc>(br#"{"a":[1],"b":{"c":3}}"#).expect("an object");
        assert_eq!((doc.a, doc.b.map(|b| b.c)), (vec![1], Some(3)));
        for (json, found) in [
            ("[]", "an array"),
            ("[[1], null]", "an array"),
            ("\"{}\"", "a string"),
            ("true", "a boolean"),
            ("null", "null"),
            ("-1", "a number"),
            ("\u{feff}{}", "something that is not JSON"),
        ] {
            let (path, message) = error(json);
            assert_eq!(path, "", "{json}");
            assert_eq!(message, format!("expected a JSON object at the top of the document, found {found}"));
        }
        assert_eq!(error("  ").1, "empty document: expected a JSON object");
    }

    #[test]
    fn a_name_given_twice_is_refused() {
        #[derive(Debug, Deserialize)]
        struct Names {
            m: UniqueMap<u64>,
        }
        let names = read::<Names>(br#"{"m":{"b":2,"a":1}}"#).expect("unique");
        assert_eq!(names.m.0, [("b".to_owned(), 2), ("a".to_owned(), 1)], "document order");
        let err = read::<Names>(br#"{"m":{"a":1,"a":2}}"#).expect_err("twice");
        assert!(err.message.contains("duplicate name `a`"), "{err:?}");
        // Equal after JSON escapes are decoded.
        let err = read::<Names>(br#"{"m":{"a":1,"\u0061":2}}"#).expect_err("escaped twice");
        assert!(err.message.contains("duplicate name `a`"), "{err:?}");
    }

    #[test]
    fn nested_mistakes_name_their_path() {
        assert_eq!(error(r#"{"b":{"c":"1"}}"#).0, "b.c");
        assert_eq!(error(r#"{"a":[1,"x"]}"#).0, "a[1]");
        assert!(error(r#"{"z":1}"#).1.contains("unknown field `z`"));
        assert!(error("{} {}").1.contains("trailing characters"));
    }
}
