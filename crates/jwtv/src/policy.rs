//! What the caller requires of a token beyond its signature.

use crate::alg::{Algorithm, AlgorithmSet};
use crate::claims::Claims;
use crate::error::{Error, Field};
use crate::header::Header;
use crate::json::{self, JsonStr};
use crate::required::{self, ClaimValue};

/// The default maximum token size, in bytes.
pub const DEFAULT_MAX_TOKEN_LEN: usize = 16 * 1024;
/// The default clock leeway, in seconds.
pub const DEFAULT_LEEWAY_SECS: u64 = 30;
/// How many failures [`Failures`] holds.
pub const MAX_FAILURES: usize = 16;

/// One name or a borrowed list of names.
#[derive(Clone, Copy, Debug)]
enum Names<'a> {
    One(&'a str),
    Many(&'a [&'a str]),
}

impl<'a> Names<'a> {
    fn iter(self) -> impl Iterator<Item = &'a str> {
        let (one, many) = match self {
            Self::One(s) => (Some(s), &[][..]),
            Self::Many(list) => (None, list),
        };
        one.into_iter().chain(many.iter().copied())
    }

    fn is_empty(self) -> bool {
        self.iter().next().is_none()
    }
}

/// The checks a token must pass besides its signature. Built once, reused for
/// every token; borrowed strings, no allocation.
///
/// Defaults ([`Policy::new`]): every supported algorithm (each key still pins
/// its own), `exp` required, 30 s leeway, tokens up to 16 KiB, no issuer or
/// audience configured. Without configured audiences a token that carries an
/// `aud` is rejected (`bad_audience`): a token addressed to someone is not
/// accepted by a verifier that does not know who it is — call
/// [`Policy::audiences`] or, deliberately, [`Policy::ignore_audience`].
///
/// ```
/// use jwtv::{Algorithm, AlgorithmSet, ClaimValue, Policy};
/// let policy = Policy::new()
///     .algorithms(AlgorithmSet::of(&[Algorithm::ES256, Algorithm::EdDSA]))
///     .issuer("https://issuer.example")
///     .audiences(&["api", "admin-api"])
///     .leeway_secs(60)
///     .max_age_secs(3600)
///     .require_claim_values(&[
///         ("tenant", ClaimValue::String("acme")),
///         ("/realm_access/roles", ClaimValue::String("admin")),
///     ]);
/// # let _ = policy;
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Policy<'a> {
    algorithms: AlgorithmSet,
    issuers: Names<'a>,
    audiences: Names<'a>,
    ignore_audience: bool,
    typ: Option<&'a str>,
    leeway: u64,
    require_exp: bool,
    max_age: Option<u64>,
    max_lifetime: Option<u64>,
    required_claims: &'a [&'a str],
    required_values: &'a [(&'a str, ClaimValue<'a>)],
    understood_crit: &'a [&'a str],
    max_token_len: usize,
}

impl Default for Policy<'_> {
    fn default() -> Self {
        Self::new()
    }
}

impl<'a> Policy<'a> {
    /// The default policy; see the type's documentation.
    pub const fn new() -> Self {
        Self {
            algorithms: AlgorithmSet::ALL,
            issuers: Names::Many(&[]),
            audiences: Names::Many(&[]),
            ignore_audience: false,
            typ: None,
            leeway: DEFAULT_LEEWAY_SECS,
            require_exp: true,
            max_age: None,
            max_lifetime: None,
            required_claims: &[],
            required_values: &[],
            understood_crit: &[],
            max_token_len: DEFAULT_MAX_TOKEN_LEN,
        }
    }

    /// Only these algorithms are accepted (`alg_not_allowed` otherwise).
    #[must_use]
    pub const fn algorithms(mut self, algorithms: AlgorithmSet) -> Self {
        self.algorithms = algorithms;
        self
    }

    /// `iss` must be present and equal this issuer.
    #[must_use]
    pub const fn issuer(mut self, issuer: &'a str) -> Self {
        self.issuers = Names::One(issuer);
        self
    }

    /// `iss` must be present and equal one of these issuers.
    #[must_use]
    pub const fn issuers(mut self, issuers: &'a [&'a str]) -> Self {
        self.issuers = Names::Many(issuers);
        self
    }

    /// `aud` must be present and (one of its values) equal this audience.
    #[must_use]
    pub const fn audience(mut self, audience: &'a str) -> Self {
        self.audiences = Names::One(audience);
        self
    }

    /// `aud` must be present and one of its values equal one of these.
    #[must_use]
    pub const fn audiences(mut self, audiences: &'a [&'a str]) -> Self {
        self.audiences = Names::Many(audiences);
        self
    }

    /// Accept any `aud` (or none) when no audience is configured.
    ///
    /// Only for verifiers that truly serve every audience; it re-opens token
    /// reuse across services.
    #[must_use]
    pub const fn ignore_audience(mut self) -> Self {
        self.ignore_audience = true;
        self
    }

    /// The header's `typ` must be present and equal `typ`, ignoring ASCII case
    /// and an `application/` prefix (RFC 7515 §4.1.9), e.g. `"JWT"` or `"at+jwt"`.
    #[must_use]
    pub const fn typ(mut self, typ: &'a str) -> Self {
        self.typ = Some(typ);
        self
    }

    /// Clock leeway in seconds applied to `exp`, `nbf`, `iat` and the maximum age.
    #[must_use]
    pub const fn leeway_secs(mut self, leeway: u64) -> Self {
        self.leeway = leeway;
        self
    }

    /// Accept tokens without `exp` (a present `exp` is still enforced).
    ///
    /// Tokens without expiry live forever; opt out only on purpose.
    #[must_use]
    pub const fn allow_missing_exp(mut self) -> Self {
        self.require_exp = false;
        self
    }

    /// `iat` must be present and no older than `max_age` seconds.
    #[must_use]
    pub const fn max_age_secs(mut self, max_age: u64) -> Self {
        self.max_age = Some(max_age);
        self
    }

    /// `exp` and `iat` must be present and `exp − iat` at most `max_lifetime`
    /// seconds (`lifetime_too_long` otherwise; a fractional `exp` counts up
    /// and `iat` down to whole seconds; no leeway, since no clock is read):
    /// the guard against an issuer that hands out tokens living for days.
    #[must_use]
    pub const fn max_lifetime_secs(mut self, max_lifetime: u64) -> Self {
        self.max_lifetime = Some(max_lifetime);
        self
    }

    /// These claims must be present (any value). A name that starts with `/`
    /// is a JSON Pointer (RFC 6901) into the claims: `/realm_access/roles`.
    #[must_use]
    pub const fn require_claims(mut self, names: &'a [&'a str]) -> Self {
        self.required_claims = names;
        self
    }

    /// These claims must be present and hold the given values: equal to it,
    /// or an array with an element equal to it, or for `scope`, a
    /// space-separated list with it as a word (see [`ClaimValue`]). Names as
    /// in [`Policy::require_claims`].
    #[must_use]
    pub const fn require_claim_values(mut self, pairs: &'a [(&'a str, ClaimValue<'a>)]) -> Self {
        self.required_values = pairs;
        self
    }

    /// Extensions the caller processes itself and that may appear in `crit`.
    /// `b64` (RFC 7797) is never accepted.
    #[must_use]
    pub const fn understood_crit(mut self, names: &'a [&'a str]) -> Self {
        self.understood_crit = names;
        self
    }

    /// The maximum token size in bytes, checked before any other work.
    #[must_use]
    pub const fn max_token_len(mut self, max: usize) -> Self {
        self.max_token_len = max;
        self
    }

    /// The configured maximum token size.
    pub const fn token_len_limit(&self) -> usize {
        self.max_token_len
    }

    /// Whether `alg` is allowed by this policy.
    pub const fn allows(&self, alg: Algorithm) -> bool {
        self.algorithms.contains(alg)
    }

    pub(crate) fn understood(&self) -> &'a [&'a str] {
        self.understood_crit
    }

    /// The claim name a [`Field`] stands for, including the policy's own
    /// [`Field::Required`] and [`Field::RequiredValue`] entries.
    pub fn field_name(&self, field: Field) -> Option<&'a str> {
        match field {
            Field::Required(i) => self.required_claims.get(usize::from(i)).copied(),
            Field::RequiredValue(i) => self.required_values.get(usize::from(i)).map(|(name, _)| *name),
            other => other.name(),
        }
    }

    /// Runs every header and claim check against `now` (Unix seconds) and
    /// reports each failure, in the order [`Policy::check`] would stop at them.
    pub fn check_all(&self, header: &Header<'_>, claims: &Claims<'_>, now: u64) -> Failures {
        let mut failures = Failures::default();
        self.run_checks(header, claims, now, &mut |e| {
            failures.push(e);
            true
        });
        failures
    }

    /// The clock times at which the time checks of [`Policy::check`] (`exp`,
    /// `nbf`, `iat` in the future, maximum age) pass for these claims: what
    /// a cache of verified tokens keeps, so that a token verified once is
    /// judged again at another time without reading its claims again. The
    /// other checks do not depend on the time.
    ///
    /// ```
    /// use jwtv::{Claims, Policy};
    /// let claims = Claims::from_json(br#"{"iat":1000,"exp":2000}"#)?;
    /// let validity = Policy::new().leeway_secs(30).validity(&claims);
    /// assert!(!validity.contains(969) && validity.contains(970)); // iat − leeway
    /// assert!(validity.contains(2029) && !validity.contains(2030)); // exp + leeway
    /// # Ok::<(), jwtv::Error>(())
    /// ```
    pub fn validity(&self, claims: &Claims<'_>) -> Validity {
        let leeway = i128::from(self.leeway);
        let mut validity = Validity { from: i128::MIN, until: i128::MAX };
        if let Some(exp) = claims.exp() {
            validity.until = validity.until.min(i128::from(exp.ceil()) + leeway);
        }
        if let Some(nbf) = claims.nbf() {
            validity.from = validity.from.max(i128::from(nbf.ceil()) - leeway);
        }
        if let Some(iat) = claims.iat() {
            validity.from = validity.from.max(i128::from(iat.ceil()) - leeway);
            if let Some(max_age) = self.max_age {
                validity.until = validity.until.min(i128::from(iat.floor()) + i128::from(max_age) + leeway + 1);
            }
        }
        validity
    }

    /// Runs the header and claim checks and stops at the first failure.
    pub fn check(&self, header: &Header<'_>, claims: &Claims<'_>, now: u64) -> Result<(), Error> {
        let mut first = None;
        self.run_checks(header, claims, now, &mut |e| {
            first = Some(e);
            false
        });
        first.map_or(Ok(()), Err)
    }

    /// Calls `fail` for each failing check; stops when `fail` returns false.
    fn run_checks(&self, header: &Header<'_>, claims: &Claims<'_>, now: u64, fail: &mut dyn FnMut(Error) -> bool) {
        macro_rules! check {
            ($cond:expr, $err:expr) => {
                if $cond && !fail($err) {
                    return;
                }
            };
        }
        let now = i128::from(now);
        let leeway = i128::from(self.leeway);

        // Types first: a wrongly typed claim is never silently skipped.
        if let Err(e) = claims.check_types() {
            check!(true, e);
        }

        // Times. Dates compare by ceiling against a whole-second clock, which
        // is exact for fractional dates (now < exp ⟺ now < ⌈exp⌉).
        match claims.exp() {
            Some(exp) => check!(now >= i128::from(exp.ceil()) + leeway, Error::Expired),
            None => check!(self.require_exp && claims.registered.exp.is_absent(), Error::MissingClaim(Field::Exp)),
        }
        if let Some(nbf) = claims.nbf() {
            check!(now + leeway < i128::from(nbf.ceil()), Error::NotYetValid);
        }
        match (claims.iat(), self.max_age) {
            (Some(iat), max_age) => {
                check!(i128::from(iat.ceil()) > now + leeway, Error::IssuedInFuture);
                if let Some(max_age) = max_age {
                    check!(now - i128::from(iat.floor()) > i128::from(max_age) + leeway, Error::TooOld);
                }
            }
            (None, Some(_)) => check!(claims.registered.iat.is_absent(), Error::MissingClaim(Field::Iat)),
            (None, None) => {}
        }
        if let Some(max_lifetime) = self.max_lifetime {
            if let (Some(exp), Some(iat)) = (claims.exp(), claims.iat()) {
                let lifetime = i128::from(exp.ceil()) - i128::from(iat.floor());
                check!(lifetime > i128::from(max_lifetime), Error::LifetimeTooLong);
            }
            // Each absence once: above already when exp is required or max_age is set.
            check!(!self.require_exp && claims.registered.exp.is_absent(), Error::MissingClaim(Field::Exp));
            check!(self.max_age.is_none() && claims.registered.iat.is_absent(), Error::MissingClaim(Field::Iat));
        }

        // Issuer.
        if !self.issuers.is_empty() {
            match claims.iss() {
                Some(iss) => check!(!self.issuers.iter().any(|allowed| iss == allowed), Error::BadIssuer),
                None => check!(claims.registered.iss.is_absent(), Error::MissingClaim(Field::Iss)),
            }
        }

        // Audience.
        if !self.audiences.is_empty() {
            if claims.registered.aud.is_absent() {
                check!(true, Error::MissingClaim(Field::Aud));
            } else {
                let matched = claims.audiences().any(|aud| self.audiences.iter().any(|allowed| aud == allowed));
                check!(!matched, Error::BadAudience);
            }
        } else if !self.ignore_audience {
            check!(!claims.registered.aud.is_absent(), Error::BadAudience);
        }

        // Type.
        if let Some(want) = self.typ {
            match header.typ() {
                Some(typ) => check!(!typ_matches(typ, want), Error::BadType),
                None => check!(true, Error::MissingClaim(Field::Typ)),
            }
        }

        // Required claims and values, found in one pass over the claims.
        let found = self.find_required(claims);
        for (i, name) in self.required_claims.iter().enumerate() {
            let field = registered_field(name).unwrap_or(Field::Required(u8::try_from(i).unwrap_or(u8::MAX)));
            let present = match found.bit(i).filter(|_| !required::is_pointer(name)) {
                Some(bit) => found.claims & bit != 0,
                None => required::find(claims, name).is_some(),
            };
            check!(!present, Error::MissingClaim(field));
        }
        for (i, &(name, want)) in self.required_values.iter().enumerate() {
            let field = registered_field(name).unwrap_or(Field::RequiredValue(u8::try_from(i).unwrap_or(u8::MAX)));
            let (present, equal) = match found.bit(i).filter(|_| !required::is_pointer(name)) {
                Some(bit) => (found.values_present & bit != 0, found.values_equal & bit != 0),
                None => {
                    let value = required::find(claims, name);
                    (value.is_some(), value.is_some_and(|v| required::holds(name, v, want)))
                }
            };
            check!(!present, Error::MissingClaim(field));
            check!(present && !equal, Error::BadClaim(field));
        }
    }

    /// Reads the claims once for the first [`Found::CAPACITY`] required claims
    /// and values named as top-level claims (the rest, and JSON Pointers,
    /// are looked up one by one).
    fn find_required(&self, claims: &Claims<'_>) -> Found {
        let mut found = Found::default();
        if self.required_claims.is_empty() && self.required_values.is_empty() {
            return found;
        }
        // The claims were validated when parsed, so this pass cannot fail.
        let _ = json::parse_object(claims.raw_json(), |name, value| {
            for (i, want) in self.required_claims.iter().enumerate().take(Found::CAPACITY) {
                if name == *want {
                    found.claims |= 1 << i;
                }
            }
            for (i, &(want_name, want_value)) in self.required_values.iter().enumerate().take(Found::CAPACITY) {
                if name == want_name {
                    found.values_present |= 1 << i;
                    if required::holds(want_name, value, want_value) {
                        found.values_equal |= 1 << i;
                    }
                }
            }
        });
        found
    }
}

/// Which required claims and values one pass over the claims found, as bit sets.
#[derive(Default)]
struct Found {
    claims: u64,
    values_present: u64,
    values_equal: u64,
}

impl Found {
    const CAPACITY: usize = 64;

    /// The bit for entry `i`, or `None` past the capacity.
    fn bit(&self, i: usize) -> Option<u64> {
        (i < Self::CAPACITY).then(|| 1u64 << i)
    }
}

fn registered_field(name: &str) -> Option<Field> {
    [Field::Exp, Field::Nbf, Field::Iat, Field::Iss, Field::Aud, Field::Sub, Field::Jti]
        .into_iter()
        .find(|f| f.name() == Some(name))
}

/// `typ` comparison: ASCII case-insensitive, `application/` prefix optional on either side.
fn typ_matches(typ: JsonStr<'_>, want: &str) -> bool {
    const PREFIX: &str = "application/";
    let want = match want.get(..PREFIX.len()) {
        Some(p) if p.eq_ignore_ascii_case(PREFIX) => want.get(PREFIX.len()..).unwrap_or_default(),
        _ => want,
    };
    let mut chars = typ.chars();
    let mut prefixed = chars.clone();
    let has_prefix = PREFIX.chars().all(|p| prefixed.next().is_some_and(|c| c.eq_ignore_ascii_case(&p)));
    if has_prefix {
        chars = prefixed;
    }
    chars.map(|c| c.to_ascii_lowercase()).eq(want.chars().map(|c| c.to_ascii_lowercase()))
}

/// Every failing check of one token, in check order; allocation-free.
///
/// Holds up to [`MAX_FAILURES`]; further failures set [`Failures::truncated`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Failures {
    errors: heapless::Vec<Error, MAX_FAILURES>,
    truncated: bool,
}

impl Failures {
    pub(crate) fn one(error: Error) -> Self {
        let mut f = Self::default();
        f.push(error);
        f
    }

    pub(crate) fn push(&mut self, error: Error) {
        if self.errors.push(error).is_err() {
            self.truncated = true;
        }
    }

    /// The failures, first one first.
    pub fn as_slice(&self) -> &[Error] {
        &self.errors
    }

    /// The first failure: what [`Verifier::verify`](crate::Verifier::verify) returns.
    pub fn first(&self) -> Option<Error> {
        self.errors.first().copied()
    }

    /// Whether no check failed.
    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    /// Whether more failures occurred than fit.
    pub fn truncated(&self) -> bool {
        self.truncated
    }

    /// Whether a failure with this code is present.
    pub fn contains(&self, code: crate::ErrorCode) -> bool {
        self.errors.iter().any(|e| e.code() == code)
    }
}

impl<'f> IntoIterator for &'f Failures {
    type Item = &'f Error;
    type IntoIter = core::slice::Iter<'f, Error>;

    fn into_iter(self) -> Self::IntoIter {
        self.errors.iter()
    }
}

/// The clock times (Unix seconds) at which a token's time claims pass a
/// policy's time checks: from [`Policy::validity`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Validity {
    /// The first time that passes.
    from: i128,
    /// The first time that no longer passes.
    until: i128,
}

impl Validity {
    /// True when the time checks pass at `now`.
    pub fn contains(&self, now: u64) -> bool {
        let now = i128::from(now);
        self.from <= now && now < self.until
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `validity` agrees with `check` at every time, for every combination
    /// of time claims (whole and fractional), leeway and maximum age.
    #[test]
    fn validity_is_exactly_when_the_time_checks_pass() {
        extern crate std;
        use std::{format, string::String, vec::Vec};
        let header = Header::parse(br#"{"alg":"HS256"}"#).unwrap();
        let dates = ["", "100", "100.5", "40", "40.25", "260"];
        let mut compared = 0;
        for exp in dates {
            for nbf in dates {
                for iat in dates {
                    let members: Vec<String> = [("exp", exp), ("nbf", nbf), ("iat", iat)]
                        .iter()
                        .filter(|(_, v)| !v.is_empty())
                        .map(|(n, v)| format!("\"{n}\":{v}"))
                        .collect();
                    let json = format!("{{{}}}", members.join(","));
                    let claims = Claims::parse(json.as_bytes(), |_, _| ()).unwrap();
                    for leeway in [0, 7] {
                        for max_age in [None, Some(30)] {
                            let mut policy = Policy::new().allow_missing_exp().leeway_secs(leeway);
                            if let Some(max_age) = max_age {
                                if iat.is_empty() {
                                    continue; // a missing iat fails at every time
                                }
                                policy = policy.max_age_secs(max_age);
                            }
                            let validity = policy.validity(&claims);
                            for now in 0..320 {
                                let checked = policy.check(&header, &claims, now);
                                assert_eq!(
                                    checked.is_ok(),
                                    validity.contains(now),
                                    "{json} leeway {leeway} max_age {max_age:?} now {now}: {checked:?}"
                                );
                                compared += 1;
                            }
                        }
                    }
                }
            }
        }
        assert!(compared > 100_000);
    }

    #[test]
    fn required_claims_past_the_one_pass_capacity_are_still_checked() {
        extern crate std;
        use std::{format, string::String, vec::Vec};
        let names: Vec<String> = (0..70).map(|i| format!("c{i}")).collect();
        let required: Vec<&str> = names.iter().map(String::as_str).collect();
        let values: Vec<(&str, ClaimValue<'_>)> = required.iter().map(|n| (*n, ClaimValue::String("v"))).collect();
        let members: Vec<String> = names.iter().map(|n| format!("\"{n}\":\"v\"")).collect();
        let header = Header::parse(br#"{"alg":"HS256"}"#).unwrap();
        let policy = Policy::new().allow_missing_exp().require_claims(&required).require_claim_values(&values);

        let all = format!("{{{}}}", members.join(","));
        let claims = Claims::parse(all.as_bytes(), |_, _| ()).unwrap();
        assert_eq!(policy.check(&header, &claims, 0), Ok(()));

        for missing in [3usize, 64, 69] {
            let some: Vec<&String> =
                members.iter().enumerate().filter(|(i, _)| *i != missing).map(|(_, m)| m).collect();
            let json = format!("{{{}}}", some.iter().map(|m| m.as_str()).collect::<Vec<_>>().join(","));
            let claims = Claims::parse(json.as_bytes(), |_, _| ()).unwrap();
            let i = u8::try_from(missing).unwrap();
            assert_eq!(policy.check(&header, &claims, 0), Err(Error::MissingClaim(Field::Required(i))));
            let failures = policy.check_all(&header, &claims, 0);
            assert_eq!(
                failures.as_slice(),
                [Error::MissingClaim(Field::Required(i)), Error::MissingClaim(Field::RequiredValue(i))]
            );
        }

        let wrong = all.replace("\"c66\":\"v\"", "\"c66\":\"w\"");
        let claims = Claims::parse(wrong.as_bytes(), |_, _| ()).unwrap();
        assert_eq!(policy.check(&header, &claims, 0), Err(Error::BadClaim(Field::RequiredValue(66))));
    }
}
