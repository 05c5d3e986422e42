//! The JWT claims set (RFC 7519 §4) and NumericDate values.

use crate::error::{Error, Field, Part};
use crate::json::{self, JsonStr, Value};

/// A NumericDate (RFC 7519 §2): seconds since the Unix epoch, integer or fractional.
///
/// Held as its floor plus whether a fraction was present, so comparisons with
/// whole-second clocks are exact.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NumericDate {
    floor: i64,
    fractional: bool,
}

impl NumericDate {
    /// The date rounded down to whole seconds.
    pub fn floor(self) -> i64 {
        self.floor
    }

    /// The date rounded up to whole seconds.
    pub fn ceil(self) -> i64 {
        if self.fractional { self.floor.saturating_add(1) } else { self.floor }
    }

    /// Parses a JSON number (grammar already validated) exactly, without floats.
    ///
    /// `None` when the value does not fit an `i64` number of seconds.
    #[inline]
    pub(crate) fn from_json_number(raw: &str) -> Option<Self> {
        // Fast path: the usual plain integer of at most 18 digits cannot overflow.
        match plain_integer(raw.as_bytes()) {
            Some(floor) => Some(Self { floor, fractional: false }),
            None => Self::from_general_json_number(raw),
        }
    }

    /// [`NumericDate::from_json_number`] for signs, fractions, exponents and long digit runs.
    #[inline(never)]
    fn from_general_json_number(raw: &str) -> Option<Self> {
        let (negative, unsigned) = match raw.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, raw),
        };
        let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
            Some(at) => (unsigned.get(..at)?, unsigned.get(at.checked_add(1)?..)?.parse::<i64>().ok()?),
            None => (unsigned, 0),
        };
        let (int_digits, frac_digits) = match mantissa.split_once('.') {
            Some((i, f)) => (i, f),
            None => (mantissa, ""),
        };
        let digits = || int_digits.bytes().chain(frac_digits.bytes());
        // Position of the decimal point within `digits`, after the exponent.
        let point = i64::try_from(int_digits.len()).ok()?.checked_add(exponent)?;
        let Some(first_nonzero) = digits().position(|d| d != b'0') else {
            return Some(Self { floor: 0, fractional: false });
        };
        let first_nonzero = i64::try_from(first_nonzero).ok()?;
        // More than 19 significant integer digits cannot fit an i64.
        if point.checked_sub(first_nonzero)? > 19 {
            return None;
        }
        let integer_digits = usize::try_from(point.checked_sub(first_nonzero)?.max(0)).ok()?;
        let mut significant = digits().skip(usize::try_from(first_nonzero).ok()?);
        let mut magnitude: i64 = 0;
        for _ in 0..integer_digits {
            // Digits past the written ones are the zeros a positive exponent adds.
            let d = significant.next().map_or(Some(0), |d| char::from(d).to_digit(10))?;
            magnitude = magnitude.checked_mul(10)?.checked_add(i64::from(d))?;
        }
        let skip = usize::try_from(point.max(0)).ok()?;
        let fractional = digits().skip(skip).any(|d| d != b'0');
        let floor = match (negative, fractional) {
            (false, _) => magnitude,
            (true, false) => magnitude.checked_neg()?,
            (true, true) => magnitude.checked_neg()?.checked_sub(1)?,
        };
        Some(Self { floor, fractional })
    }
}

/// The value of 1 to 18 ASCII digits (too few to overflow an `i64`); `None`
/// for anything else. The first eight digits are read at once: a date in
/// seconds has ten.
#[inline]
fn plain_integer(digits: &[u8]) -> Option<i64> {
    if digits.is_empty() || digits.len() > 18 {
        return None;
    }
    let (mut n, rest) = match digits.split_first_chunk::<8>() {
        Some((head, rest)) => (eight_digits(*head)?, rest),
        None => (0, digits),
    };
    for &b in rest {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        n = n * 10 + u64::from(d);
    }
    i64::try_from(n).ok()
}

/// The value of eight ASCII digits, most significant first (SWAR: digit
/// pairs, then quadruples, then the halves are combined in one register);
/// `None` when a byte is not a digit.
#[inline]
fn eight_digits(bytes: [u8; 8]) -> Option<u64> {
    const HIGH_NIBBLES: u64 = u64::from_le_bytes([0xF0; 8]);
    const ZEROS: u64 = u64::from_le_bytes([b'0'; 8]);
    const SIXES: u64 = u64::from_le_bytes([6; 8]);
    let x = u64::from_le_bytes(bytes);
    // A byte is a digit when its high nibble is 3 and still is after adding 6
    // (which cannot carry into the next byte once the first test passed).
    if x & HIGH_NIBBLES != ZEROS || x.wrapping_add(SIXES) & HIGH_NIBBLES != ZEROS {
        return None;
    }
    let d = x.wrapping_sub(ZEROS); // each byte 0..=9, first digit lowest
    let d = d.wrapping_mul(10).wrapping_add(d >> 8) & 0x00FF_00FF_00FF_00FF; // pairs, 0..=99
    let d = d.wrapping_mul(100).wrapping_add(d >> 16) & 0x0000_FFFF_0000_FFFF; // quads, 0..=9999
    Some(d.wrapping_mul(10_000).wrapping_add(d >> 32) & 0xFFFF_FFFF)
}

/// A registered claim as found: absent, of the wrong JSON type (or an
/// out-of-range date), or good. Typed once, while parsing.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) enum Slot<T> {
    #[default]
    Absent,
    Bad,
    Good(T),
}

impl<T: Copy> Slot<T> {
    fn from_option(value: Option<T>) -> Self {
        value.map_or(Self::Bad, Self::Good)
    }

    pub(crate) fn good(self) -> Option<T> {
        match self {
            Self::Good(value) => Some(value),
            _ => None,
        }
    }

    pub(crate) fn is_absent(self) -> bool {
        matches!(self, Self::Absent)
    }

    fn is_bad(self) -> bool {
        matches!(self, Self::Bad)
    }
}

/// The registered claims, typed while the claims object is parsed.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Registered<'a> {
    pub(crate) exp: Slot<NumericDate>,
    pub(crate) nbf: Slot<NumericDate>,
    pub(crate) iat: Slot<NumericDate>,
    pub(crate) iss: Slot<JsonStr<'a>>,
    pub(crate) sub: Slot<JsonStr<'a>>,
    pub(crate) jti: Slot<JsonStr<'a>>,
    /// A string or an array of strings, kept as the JSON value.
    pub(crate) aud: Slot<Value<'a>>,
}

impl<'a> Registered<'a> {
    #[inline]
    fn record_as(&mut self, name: &str, value: Value<'a>, string_array: bool) {
        // Every registered name has three bytes: one length test and a
        // fixed-size compare, not a string comparison per name.
        let Ok(name) = <[u8; 3]>::try_from(name.as_bytes()) else { return };
        let date = || Slot::from_option(date(Some(value)));
        let string = || Slot::from_option(value.as_json_str());
        match &name {
            b"exp" => self.exp = date(),
            b"nbf" => self.nbf = date(),
            b"iat" => self.iat = date(),
            b"iss" => self.iss = string(),
            b"sub" => self.sub = string(),
            b"jti" => self.jti = string(),
            b"aud" => {
                // The reader knows whether an array held strings only.
                let strings = match value {
                    Value::String(_) => true,
                    Value::Array(_) => string_array,
                    _ => false,
                };
                self.aud = if strings { Slot::Good(value) } else { Slot::Bad };
            }
            _ => {}
        }
    }

    #[inline]
    fn record(&mut self, name: JsonStr<'a>, value: Value<'a>, string_array: bool) {
        match name.as_str() {
            Some(plain) => self.record_as(plain, value, string_array),
            None => {
                // An escaped name: decode it (registered names are 3 ASCII bytes).
                let mut buf = [0u8; 3];
                if let Some(decoded) = name.decode_into(&mut buf) {
                    self.record_as(decoded, value, string_array);
                }
            }
        }
    }
}

/// A parsed claims set, with its registered claims type-checked.
///
/// Obtained from a [`VerifiedToken`](crate::VerifiedToken) (verified) or an
/// [`UnverifiedToken`](crate::UnverifiedToken) (for diagnosis only).
#[derive(Clone, Copy, Debug)]
pub struct Claims<'a> {
    raw: &'a [u8],
    pub(crate) registered: Registered<'a>,
}

impl<'a> Claims<'a> {
    /// Parses a claims object, calling `other` for each member (registered or not).
    pub(crate) fn parse(raw: &'a [u8], mut other: impl FnMut(JsonStr<'a>, Value<'a>)) -> Result<Self, Error> {
        let mut registered = Registered::default();
        json::parse_object_shaped(raw, |name, value, string_array| {
            registered.record(name, value, string_array);
            other(name, value);
        })
        .map_err(|_| Error::Malformed(Part::Payload))?;
        Ok(Self { raw, registered })
    }

    /// Checks the JSON types of the registered claims: dates are numbers that
    /// fit, `iss`/`sub`/`jti` are strings, `aud` is a string or an array of strings.
    pub(crate) fn check_types(&self) -> Result<(), Error> {
        let r = &self.registered;
        let bad = [
            (r.exp.is_bad(), Field::Exp),
            (r.nbf.is_bad(), Field::Nbf),
            (r.iat.is_bad(), Field::Iat),
            (r.iss.is_bad(), Field::Iss),
            (r.sub.is_bad(), Field::Sub),
            (r.jti.is_bad(), Field::Jti),
            (r.aud.is_bad(), Field::Aud),
        ];
        match bad.into_iter().find(|(is_bad, _)| *is_bad) {
            Some((_, field)) => Err(Error::BadClaim(field)),
            None => Ok(()),
        }
    }

    /// `exp`, when present and a valid NumericDate.
    pub fn exp(&self) -> Option<NumericDate> {
        self.registered.exp.good()
    }

    /// `nbf`, when present and a valid NumericDate.
    pub fn nbf(&self) -> Option<NumericDate> {
        self.registered.nbf.good()
    }

    /// `iat`, when present and a valid NumericDate.
    pub fn iat(&self) -> Option<NumericDate> {
        self.registered.iat.good()
    }

    /// `iss`, when present and a string.
    pub fn iss(&self) -> Option<JsonStr<'a>> {
        self.registered.iss.good()
    }

    /// `sub`, when present and a string.
    pub fn sub(&self) -> Option<JsonStr<'a>> {
        self.registered.sub.good()
    }

    /// `jti`, when present and a string.
    pub fn jti(&self) -> Option<JsonStr<'a>> {
        self.registered.jti.good()
    }

    /// The audiences: `aud` as a single string or each string of an array.
    pub fn audiences(&self) -> impl Iterator<Item = JsonStr<'a>> + 'a {
        match self.registered.aud.good() {
            Some(Value::String(one)) => Audiences::One(one),
            Some(many @ Value::Array(_)) => many.as_array().map_or(Audiences::Done, Audiences::Many),
            _ => Audiences::Done,
        }
    }

    /// Any claim by name (escapes decoded before comparing).
    pub fn get(&self, name: &str) -> Option<Value<'a>> {
        json::find_member(self.raw, name)
    }

    /// The claims JSON, as decoded from base64url.
    pub fn raw_json(&self) -> &'a [u8] {
        self.raw
    }

    /// Deserializes the claims into the caller's own type with `serde-json-core`.
    ///
    /// Borrowed `&str` fields only work for strings without escapes; use
    /// [`Claims::deserialize_unescaped`] when they may hold escapes.
    ///
    /// When the claims do not fit `T` (a missing field, a value of another
    /// type), the error is [`Error::Malformed`]`(`[`Part::Payload`]`)`.
    ///
    /// ```
    /// #[derive(serde::Deserialize)]
    /// struct Mine<'a> {
    ///     sub: &'a str,
    ///     exp: u64,
    /// }
    /// let claims = jwtv::Claims::from_json(br#"{"sub":"alice","exp":1700000000,"scope":"read"}"#)?;
    /// let mine: Mine = claims.deserialize()?;
    /// assert_eq!((mine.sub, mine.exp), ("alice", 1_700_000_000));
    /// assert!(claims.deserialize::<(u64, u64)>().is_err());
    /// # Ok::<(), jwtv::Error>(())
    /// ```
    pub fn deserialize<T: serde::Deserialize<'a>>(&self) -> Result<T, Error> {
        serde_json_core::from_slice(self.raw).map(|(value, _)| value).map_err(deserialize_error)
    }

    /// Like [`Claims::deserialize`], decoding string escapes into `scratch`.
    ///
    /// A decoded string longer than `scratch` gives [`Error::TooLarge`].
    pub fn deserialize_unescaped<T: serde::Deserialize<'a>>(&self, scratch: &mut [u8]) -> Result<T, Error> {
        serde_json_core::from_slice_escaped(self.raw, scratch).map(|(value, _)| value).map_err(deserialize_error)
    }
}

/// The core's error for a `serde-json-core` one, which stays out of the API.
fn deserialize_error(e: serde_json_core::de::Error) -> Error {
    match e {
        serde_json_core::de::Error::EscapedStringIsTooLong => Error::TooLarge,
        _ => Error::Malformed(Part::Payload),
    }
}

/// The strings of `aud`: one, or each of an array (typed as strings when parsed).
enum Audiences<'a> {
    Done,
    One(JsonStr<'a>),
    Many(json::Elements<'a>),
}

impl<'a> Iterator for Audiences<'a> {
    type Item = JsonStr<'a>;

    fn next(&mut self) -> Option<JsonStr<'a>> {
        match self {
            Self::Done => None,
            Self::One(one) => {
                let one = *one;
                *self = Self::Done;
                Some(one)
            }
            Self::Many(elements) => elements.find_map(|v| v.as_json_str()),
        }
    }
}

#[inline]
fn date(value: Option<Value<'_>>) -> Option<NumericDate> {
    match value? {
        Value::Number(raw) => NumericDate::from_json_number(raw),
        _ => None,
    }
}

impl<'a> Claims<'a> {
    /// Reads claims JSON the caller already holds (for example the payload a
    /// server cached after an earlier verification) with the same rules as
    /// verification: a JSON object without duplicate names. Claim types and
    /// values are checked by [`Policy::check`](crate::Policy::check).
    ///
    /// Claims made this way prove nothing about a signature; only
    /// [`Verifier::verify`](crate::Verifier::verify) does.
    ///
    /// ```
    /// let claims = jwtv::Claims::from_json(br#"{"sub":"alice","exp":1700000000}"#)?;
    /// assert!(claims.sub().is_some_and(|sub| sub == "alice"));
    /// assert_eq!(claims.exp().map(|exp| exp.floor()), Some(1_700_000_000));
    /// # Ok::<(), jwtv::Error>(())
    /// ```
    pub fn from_json(json: &'a [u8]) -> Result<Self, Error> {
        Self::parse(json, |_, _| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nd(raw: &str) -> Option<(i64, i64)> {
        NumericDate::from_json_number(raw).map(|d| (d.floor(), d.ceil()))
    }

    #[test]
    fn numeric_dates_are_exact_without_floats() {
        assert_eq!(nd("0"), Some((0, 0)));
        assert_eq!(nd("1700000000"), Some((1_700_000_000, 1_700_000_000)));
        assert_eq!(nd("1700000000.5"), Some((1_700_000_000, 1_700_000_001)));
        assert_eq!(nd("1700000000.000"), Some((1_700_000_000, 1_700_000_000)));
        assert_eq!(nd("1.7e9"), Some((1_700_000_000, 1_700_000_000)));
        assert_eq!(nd("17E+8"), Some((1_700_000_000, 1_700_000_000)));
        assert_eq!(nd("1.7000000005e9"), Some((1_700_000_000, 1_700_000_001)));
        assert_eq!(nd("5e-1"), Some((0, 1)));
        assert_eq!(nd("-1.5"), Some((-2, -1)));
        assert_eq!(nd("-0"), Some((0, 0)));
        assert_eq!(nd("0.0e99999999"), Some((0, 0)));
        assert_eq!(nd("9223372036854775807"), Some((i64::MAX, i64::MAX)));
        assert_eq!(nd("9223372036854775808"), None);
        assert_eq!(nd("1e19"), None);
        assert_eq!(nd("1e999999999999"), None);
        assert_eq!(nd("1e-999999999"), Some((0, 1)));
        // Either side of the one-pass integer path (at most 18 digits).
        assert_eq!(nd("7"), Some((7, 7)));
        assert_eq!(nd("999999999999999999"), Some((999_999_999_999_999_999, 999_999_999_999_999_999)));
        assert_eq!(nd("1000000000000000000"), Some((1_000_000_000_000_000_000, 1_000_000_000_000_000_000)));
        assert_eq!(nd("-7"), Some((-7, -7)));
        assert_eq!(nd("99999999999999999.5"), Some((99_999_999_999_999_999, 100_000_000_000_000_000)));
        assert_eq!(nd("99999999999999999e1"), Some((999_999_999_999_999_990, 999_999_999_999_999_990)));
    }

    #[test]
    fn plain_integers_match_the_standard_parser() {
        extern crate std;
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for len in 0..=20 {
            for _ in 0..200 {
                let digits: std::string::String =
                    (0..len).map(|_| char::from(b'0' + u8::try_from(next() % 10).unwrap())).collect();
                let want = (1..=18).contains(&len).then(|| digits.parse::<i64>().unwrap());
                assert_eq!(plain_integer(digits.as_bytes()), want, "{digits}");
                // Any one byte that is not a digit, anywhere, is refused.
                for at in 0..len {
                    for bad in [b'.', b'e', b'-', b'+', b'/', b':', b' ', 0x00, 0x36 + 0x80, 0xFF] {
                        let mut bytes = digits.clone().into_bytes();
                        bytes[at] = bad;
                        assert_eq!(plain_integer(&bytes), None, "{bytes:?}");
                    }
                }
            }
        }
        assert_eq!(plain_integer(b"999999999999999999"), Some(999_999_999_999_999_999));
        assert_eq!(plain_integer(b"000000000000000000"), Some(0));
        assert_eq!(plain_integer(b"4102444800"), Some(4_102_444_800));
    }

    #[test]
    fn registered_claims_are_type_checked() {
        let cases: [(&str, Option<Error>); 9] = [
            (r#"{"exp":1,"nbf":2,"iat":3.5,"iss":"a","sub":"b","jti":"c","aud":["x","y"]}"#, None),
            (r#"{"exp":"1"}"#, Some(Error::BadClaim(Field::Exp))),
            (r#"{"nbf":null}"#, Some(Error::BadClaim(Field::Nbf))),
            (r#"{"iat":1e400}"#, Some(Error::BadClaim(Field::Iat))),
            (r#"{"iss":1}"#, Some(Error::BadClaim(Field::Iss))),
            (r#"{"sub":["a"]}"#, Some(Error::BadClaim(Field::Sub))),
            (r#"{"aud":["a",1]}"#, Some(Error::BadClaim(Field::Aud))),
            (r#"{"aud":{}}"#, Some(Error::BadClaim(Field::Aud))),
            (r#"{"\u0065xp":"soon"}"#, Some(Error::BadClaim(Field::Exp))),
        ];
        for (json, want) in cases {
            let claims = Claims::parse(json.as_bytes(), |_, _| ()).unwrap();
            assert_eq!(claims.check_types().err(), want, "{json}");
        }
    }

    #[test]
    fn accessors_decode_and_iterate() {
        let json = br#"{"iss":"https:\/\/issuer.example","aud":["a","b"],"sub":"u1","tenant":"acme"}"#;
        let claims = Claims::parse(json, |_, _| ()).unwrap();
        assert!(claims.iss().unwrap() == "https://issuer.example");
        assert_eq!(claims.audiences().count(), 2);
        assert!(claims.audiences().nth(1).unwrap() == "b");
        assert!(claims.get("tenant").unwrap().as_json_str().unwrap() == "acme");
        assert!(claims.get("missing").is_none());
        for (json, want) in [
            (&br#"{"aud":[]}"#[..], &[][..]),
            (br#"{"aud":[ "a" ,"b\u0063" ]}"#, &["a", "bc"]),
            (br#"{"aud":"x"}"#, &["x"]),
            (br#"{"aud":["x",1]}"#, &[]),
            (br#"{"aud":1}"#, &[]),
            (br#"{}"#, &[]),
        ] {
            let claims = Claims::parse(json, |_, _| ()).unwrap();
            assert!(claims.audiences().eq(want.iter().copied()), "{json:?}");
        }
        let single = Claims::parse(br#"{"aud":"only"}"#, |_, _| ()).unwrap();
        assert!(single.audiences().eq(["only"].into_iter().map(|_| single.audiences().next().unwrap())));
    }

    #[test]
    fn deserializing_fails_with_the_core_errors() {
        extern crate std;
        #[derive(serde::Deserialize)]
        struct Mine {
            sub: std::string::String,
        }
        let claims = Claims::from_json(br#"{"sub":"al\u0069ce","n":1}"#).unwrap();
        let mine: Mine = claims.deserialize_unescaped(&mut [0; 5]).unwrap();
        assert_eq!(mine.sub, "alice");
        assert_eq!(claims.deserialize_unescaped::<Mine>(&mut [0; 4]).err(), Some(Error::TooLarge));
        assert_eq!(claims.deserialize::<[u8; 2]>().err(), Some(Error::Malformed(Part::Payload)));
        let other = Claims::from_json(br#"{"n":1}"#).unwrap();
        assert_eq!(other.deserialize::<Mine>().err(), Some(Error::Malformed(Part::Payload)), "missing field");
    }

    #[test]
    fn payload_must_be_an_object_without_duplicates() {
        for bad in [&b"[1]"[..], b"\"x\"", br#"{"exp":1,"exp":2}"#, b"{", b""] {
            assert_eq!(Claims::parse(bad, |_, _| ()).err(), Some(Error::Malformed(Part::Payload)));
        }
    }
}
