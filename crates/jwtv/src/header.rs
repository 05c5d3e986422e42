//! The JOSE protected header (RFC 7515 §4).

use crate::alg::Algorithm;
use crate::error::{Error, Field, Part};
use crate::json::{self, JsonStr, Value};

/// Header parameters that must be understood and that this verifier never
/// processes: RFC 7797's unencoded payload.
const NEVER_UNDERSTOOD: &[&str] = &["b64"];

/// A parsed protected header.
///
/// `jwk`, `jku`, `x5u` and `x5c` are never read: keys come only from the caller.
#[derive(Clone, Copy, Debug)]
pub struct Header<'a> {
    raw: &'a [u8],
    alg: JsonStr<'a>,
    typ: Option<JsonStr<'a>>,
    kid: Option<JsonStr<'a>>,
    cty: Option<JsonStr<'a>>,
    crit: Option<Value<'a>>,
    b64: bool,
}

impl<'a> Header<'a> {
    /// Parses header JSON: an object without duplicate names, with a string `alg`
    /// and, when present, string `typ`, `kid`, `cty` and a non-empty string array `crit`.
    pub(crate) fn parse(raw: &'a [u8]) -> Result<Self, Error> {
        let (mut alg, mut typ, mut kid, mut cty, mut crit, mut b64) = (None, None, None, None, None, false);
        json::parse_object(raw, |name, value| {
            // The parameters read here have at most four bytes; a small buffer
            // decodes escaped names, and slice patterns avoid string compares.
            let mut buf = [0u8; 4];
            let decoded = match name.as_str() {
                Some(plain) => plain.as_bytes(),
                None => name.decode_into(&mut buf).map(str::as_bytes).unwrap_or_default(),
            };
            match decoded {
                [b'a', b'l', b'g'] => alg = Some(value),
                [b't', b'y', b'p'] => typ = Some(value),
                [b'k', b'i', b'd'] => kid = Some(value),
                [b'c', b't', b'y'] => cty = Some(value),
                [b'c', b'r', b'i', b't'] => crit = Some(value),
                [b'b', b'6', b'4'] => b64 = true,
                _ => {}
            }
        })
        .map_err(|_| Error::Malformed(Part::Header))?;

        let string = |v: Option<Value<'a>>, field| match v {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(Error::BadClaim(field)),
        };
        let alg = string(alg, Field::Alg)?.ok_or(Error::MissingClaim(Field::Alg))?;
        let header = Self {
            raw,
            alg,
            typ: string(typ, Field::Typ)?,
            kid: string(kid, Field::Kid)?,
            // `cty` only informs the application; it is not a security decision.
            cty: cty.and_then(|v| v.as_json_str()),
            crit,
            b64,
        };
        if let Some(crit) = crit {
            let mut names = crit.as_array().ok_or(Error::BadClaim(Field::Crit))?.peekable();
            if names.peek().is_none() {
                return Err(Error::BadClaim(Field::Crit));
            }
            if !names.all(|v| matches!(v, Value::String(_))) {
                return Err(Error::BadClaim(Field::Crit));
            }
        }
        Ok(header)
    }

    /// The algorithm, if it is one this library supports.
    ///
    /// `none` in any spelling and unknown names give [`Error::UnsupportedAlg`].
    pub fn algorithm(&self) -> Result<Algorithm, Error> {
        Algorithm::ALL.into_iter().find(|a| self.alg == a.name()).ok_or(Error::UnsupportedAlg)
    }

    /// The `alg` value as written (escapes decoded on comparison).
    pub fn alg(&self) -> JsonStr<'a> {
        self.alg
    }

    /// `typ`, if present.
    pub fn typ(&self) -> Option<JsonStr<'a>> {
        self.typ
    }

    /// `kid`, if present.
    pub fn kid(&self) -> Option<JsonStr<'a>> {
        self.kid
    }

    /// `cty`, if present and a string.
    pub fn cty(&self) -> Option<JsonStr<'a>> {
        self.cty
    }

    /// The names in `crit`, if present.
    pub fn crit(&self) -> impl Iterator<Item = JsonStr<'a>> {
        self.crit.and_then(|c| c.as_array()).into_iter().flatten().filter_map(|v| v.as_json_str())
    }

    /// The header JSON, as decoded from base64url.
    pub fn raw_json(&self) -> &'a [u8] {
        self.raw
    }

    /// Any header parameter by name (escapes decoded before comparing).
    pub fn get(&self, name: &str) -> Option<Value<'a>> {
        json::find_member(self.raw, name)
    }

    /// Rejects `crit` names the caller has not declared understood, and any
    /// use of `b64`, which this verifier never supports.
    pub(crate) fn check_crit(&self, understood: &[&str]) -> Result<(), Error> {
        if self.b64 {
            return Err(Error::UnsupportedCrit);
        }
        for name in self.crit() {
            let known = understood.iter().any(|u| name == *u) && !NEVER_UNDERSTOOD.iter().any(|n| name == *n);
            if !known {
                return Err(Error::UnsupportedCrit);
            }
        }
        Ok(())
    }
}

impl<'a> Header<'a> {
    /// Reads header JSON the caller already holds (for example the decoded
    /// header a server kept from an earlier verification) with the same rules
    /// as verification: a JSON object without duplicate names and a string `alg`.
    ///
    /// A `Header` made this way proves nothing about a signature; only
    /// [`Verifier::verify`](crate::Verifier::verify) does.
    ///
    /// ```
    /// let header = jwtv::Header::from_json(br#"{"alg":"ES256","kid":"k1"}"#)?;
    /// assert_eq!(header.algorithm()?, jwtv::Algorithm::ES256);
    /// assert!(header.kid().is_some_and(|kid| kid == "k1"));
    /// assert!(jwtv::Header::from_json(br#"{"alg":"ES256","alg":"none"}"#).is_err());
    /// # Ok::<(), jwtv::Error>(())
    /// ```
    pub fn from_json(json: &'a [u8]) -> Result<Self, Error> {
        Self::parse(json)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Header<'_>, Error> {
        Header::parse(s.as_bytes())
    }

    #[test]
    fn reads_the_registered_parameters() {
        let h = parse(r#"{"alg":"ES256","typ":"JWT","kid":"k1","jwk":{"kty":"EC"},"x":[1]}"#).unwrap();
        assert_eq!(h.algorithm(), Ok(Algorithm::ES256));
        assert!(h.typ().unwrap() == "JWT" && h.kid().unwrap() == "k1");
        assert_eq!(h.crit().count(), 0);
        assert!(matches!(h.get("jwk"), Some(Value::Object(_))));
    }

    #[test]
    fn alg_is_required_as_a_string_and_none_is_unsupported() {
        assert_eq!(parse(r#"{"typ":"JWT"}"#).err(), Some(Error::MissingClaim(Field::Alg)));
        assert_eq!(parse(r#"{"alg":256}"#).err(), Some(Error::BadClaim(Field::Alg)));
        assert_eq!(parse(r#"{"alg":null}"#).err(), Some(Error::BadClaim(Field::Alg)));
        for none in ["none", "None", "NONE", "nOnE"] {
            let json = std::format!(r#"{{"alg":"{none}"}}"#);
            extern crate std;
            assert_eq!(Header::parse(json.as_bytes()).unwrap().algorithm(), Err(Error::UnsupportedAlg));
        }
        assert_eq!(parse(r#"{"alg":"\u0048S256"}"#).unwrap().algorithm(), Ok(Algorithm::HS256));
        assert_eq!(parse(r#"{"alg":"\u006eone"}"#).unwrap().algorithm(), Err(Error::UnsupportedAlg));
    }

    #[test]
    fn escaped_alg_is_decoded() {
        let h = parse(r#"{"\u0061lg":"HS256"}"#).unwrap();
        assert!(h.alg() == "HS256");
    }

    #[test]
    fn duplicates_and_non_objects_are_malformed() {
        assert_eq!(parse(r#"{"alg":"HS256","alg":"none"}"#).err(), Some(Error::Malformed(Part::Header)));
        assert_eq!(parse(r#"{"alg":"HS256","\u0061lg":"none"}"#).err(), Some(Error::Malformed(Part::Header)));
        assert_eq!(parse(r#"["alg","HS256"]"#).err(), Some(Error::Malformed(Part::Header)));
    }

    #[test]
    fn crit_must_be_understood_and_b64_never_is() {
        let h = parse(r#"{"alg":"HS256","crit":["exp"],"exp":1}"#).unwrap();
        assert_eq!(h.check_crit(&[]), Err(Error::UnsupportedCrit));
        assert_eq!(h.check_crit(&["exp"]), Ok(()));
        let h = parse(r#"{"alg":"HS256","crit":["b64"],"b64":false}"#).unwrap();
        assert_eq!(h.check_crit(&["b64"]), Err(Error::UnsupportedCrit));
        let h = parse(r#"{"alg":"HS256","b64":true}"#).unwrap();
        assert_eq!(h.check_crit(&[]), Err(Error::UnsupportedCrit));
        let h = parse(r#"{"alg":"HS256","\u0063rit":["x"]}"#).unwrap();
        assert_eq!(h.check_crit(&[]), Err(Error::UnsupportedCrit));
        assert_eq!(parse(r#"{"alg":"HS256","crit":[]}"#).err(), Some(Error::BadClaim(Field::Crit)));
        assert_eq!(parse(r#"{"alg":"HS256","crit":"exp"}"#).err(), Some(Error::BadClaim(Field::Crit)));
        assert_eq!(parse(r#"{"alg":"HS256","crit":[1]}"#).err(), Some(Error::BadClaim(Field::Crit)));
    }
}
