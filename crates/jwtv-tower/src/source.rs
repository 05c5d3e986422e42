//! Where a request carries its token.

use std::borrow::Cow;

use http::header::{AUTHORIZATION, COOKIE};
use http::request::Parts;

/// Where a request carries its token: the `Authorization: Bearer` header
/// (RFC 6750 §2.1, the default), a cookie, a query parameter, or the first
/// of several that has one.
///
/// ```
/// use jwtv_tower::TokenSource;
/// let source = TokenSource::first([TokenSource::Bearer, TokenSource::cookie("session")]);
/// # let _ = source;
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenSource {
    /// `Authorization: Bearer <token>` (the scheme in any case).
    Bearer,
    /// The cookie of this name.
    Cookie(String),
    /// The query parameter of this name (percent-decoded; RFC 6750 §2.3
    /// names it `access_token`). Query strings end up in access logs: prefer
    /// the header where clients allow it.
    Query(String),
    /// The first of these sources that holds a token.
    First(Vec<TokenSource>),
}

impl TokenSource {
    /// The cookie `name`.
    pub fn cookie(name: impl Into<String>) -> Self {
        Self::Cookie(name.into())
    }

    /// The query parameter `name`.
    pub fn query(name: impl Into<String>) -> Self {
        Self::Query(name.into())
    }

    /// The first of `sources` that holds a token.
    pub fn first(sources: impl IntoIterator<Item = TokenSource>) -> Self {
        Self::First(sources.into_iter().collect())
    }

    /// The token of a request, if it carries one. A header that names the
    /// scheme with nothing after it (`Bearer`) carries an empty token, which
    /// verification refuses as malformed.
    pub fn token<'r>(&self, parts: &'r Parts) -> Option<Cow<'r, [u8]>> {
        match self {
            Self::Bearer => bearer(parts).map(Cow::Borrowed),
            Self::Cookie(name) => cookie(parts, name).map(Cow::Borrowed),
            Self::Query(name) => query(parts, name),
            Self::First(sources) => sources.iter().find_map(|source| source.token(parts)),
        }
    }
}

fn bearer(parts: &Parts) -> Option<&[u8]> {
    let value = parts.headers.get(AUTHORIZATION)?.as_bytes();
    const SCHEME: &[u8] = b"bearer";
    let (scheme, rest) = value.split_at_checked(SCHEME.len())?;
    if !scheme.eq_ignore_ascii_case(SCHEME) {
        return None;
    }
    match rest.first() {
        None => Some(rest),
        Some(b' ') => Some(rest.trim_ascii()),
        Some(_) => None, // another scheme, such as `Bearerx`
    }
}

fn cookie<'r>(parts: &'r Parts, name: &str) -> Option<&'r [u8]> {
    parts.headers.get_all(COOKIE).iter().flat_map(|line| line.as_bytes().split(|&b| b == b';')).find_map(|pair| {
        let pair = pair.trim_ascii();
        let (key, value) = pair.split_at_checked(pair.iter().position(|&b| b == b'=')?)?;
        (key == name.as_bytes()).then(|| value.get(1..).unwrap_or_default())
    })
}

fn query<'r>(parts: &'r Parts, name: &str) -> Option<Cow<'r, [u8]>> {
    let query = parts.uri.query()?;
    query.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        (key == name).then(|| percent_decode(value.as_bytes()))
    })
}

/// `%XX` escapes decoded; a `%` not followed by two hex digits is kept.
fn percent_decode(value: &[u8]) -> Cow<'_, [u8]> {
    if !value.contains(&b'%') {
        return Cow::Borrowed(value);
    }
    let hex = |b: u8| char::from(b).to_digit(16).and_then(|d| u8::try_from(d).ok());
    let mut out = Vec::with_capacity(value.len());
    let mut i = 0;
    while let Some(&b) = value.get(i) {
        let escaped = (b == b'%').then(|| Some(hex(*value.get(i + 1)?)? << 4 | hex(*value.get(i + 2)?)?)).flatten();
        match escaped {
            Some(decoded) => {
                out.push(decoded);
                i += 3;
            }
            None => {
                out.push(b);
                i += 1;
            }
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(uri: &str, headers: &[(&str, &str)]) -> Parts {
        let mut request = http::Request::builder().uri(uri);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.body(()).unwrap().into_parts().0
    }

    fn token(source: &TokenSource, parts: &Parts) -> Option<String> {
        source.token(parts).map(|t| String::from_utf8(t.into_owned()).unwrap())
    }

    #[test]
    fn bearer_takes_the_scheme_in_any_case_and_nothing_else() {
        let cases = [
            ("Bearer abc.def.ghi", Some("abc.def.ghi")),
            ("bearer   abc ", Some("abc")),
            ("BEARER abc", Some("abc")),
            ("Bearer", Some("")),
            ("Bearerx abc", None),
            ("Basic dXNlcjpwYXNz", None),
            ("Bear", None),
        ];
        for (header, expected) in cases {
            let parts = parts("/", &[("authorization", header)]);
            assert_eq!(token(&TokenSource::Bearer, &parts).as_deref(), expected, "{header}");
        }
        assert_eq!(token(&TokenSource::Bearer, &parts("/", &[])), None);
    }

    #[test]
    fn cookies_and_query_parameters_are_found_by_exact_name() {
        let p = parts("/x?a=1&access_token=t%2Eu.v&b", &[("cookie", "other=1; session=s.t.u"), ("cookie", "x=y")]);
        assert_eq!(token(&TokenSource::cookie("session"), &p).as_deref(), Some("s.t.u"));
        assert_eq!(token(&TokenSource::cookie("sess"), &p), None);
        assert_eq!(token(&TokenSource::cookie("x"), &p).as_deref(), Some("y"));
        assert_eq!(token(&TokenSource::query("access_token"), &p).as_deref(), Some("t.u.v"));
        assert_eq!(token(&TokenSource::query("b"), &p).as_deref(), Some(""));
        assert_eq!(token(&TokenSource::query("c"), &p), None);
        let first = TokenSource::first([TokenSource::Bearer, TokenSource::query("access_token")]);
        assert_eq!(token(&first, &p).as_deref(), Some("t.u.v"));
        assert_eq!(percent_decode(b"a%zz%4").as_ref(), b"a%zz%4");
    }
}
