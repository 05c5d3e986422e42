//! The JSON documents jwtv is configured with (the policy document, the
//! revocation file): one object at the top, read strictly, with errors that
//! name the field's path (`refresh.min_ttl_secs: invalid type: …`).
//!
//! serde would read a struct from an array as well (its positional form), so
//! `[]` would be an empty document that silently replaces a live one: the
//! top level is checked to be an object before anything else.

use serde::de::DeserializeOwned;

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
        DocumentError { path: if path == "." { String::new() } else { path }, message: e.into_inner().to_string() }
    })?;
    de.end().map_err(|e| whole(e.to_string()))?;
    Ok(value)
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
    fn nested_mistakes_name_their_path() {
        assert_eq!(error(r#"{"b":{"c":"1"}}"#).0, "b.c");
        assert_eq!(error(r#"{"a":[1,"x"]}"#).0, "a[1]");
        assert!(error(r#"{"z":1}"#).1.contains("unknown field `z`"));
        assert!(error("{} {}").1.contains("trailing characters"));
    }
}
