//! [`Rules`]: an owned [`jwtv::Policy`], for servers that read their rules
//! from a file at startup and keep them for the life of the process.

use jwtv::{AlgorithmSet, DEFAULT_LEEWAY_SECS, DEFAULT_MAX_TOKEN_LEN, Policy};

use crate::config::ConfigError;

/// The most names each list of [`Rules`] may hold (issuers, audiences,
/// required claims, …). Lists are lent to the core on the stack at each
/// verification, without allocation. A longer list is a configuration error
/// ([`Rules::check`]), never cut short.
pub const MAX_RULE_LIST_LEN: usize = 32;

/// The largest clock leeway a server verifier accepts, in seconds (five
/// minutes). Revocation lists keep a revoked `jti` this long past its `exp`
/// ([`JTI_GRACE_SECS`](crate::JTI_GRACE_SECS) is the same number), so no
/// verifier of a fleet can accept a revoked token again after its entry
/// is dropped.
pub const MAX_LEEWAY_SECS: u64 = 300;

/// The token rules of a server verifier: what [`jwtv::Policy`] says, owned.
///
/// The defaults are the core's: every algorithm the key set allows, `exp`
/// required, 30 s leeway, no issuer or audience (so a token *with* an `aud`
/// is refused until audiences are set), 16 KiB tokens.
///
/// The builder methods never fail; [`Rules::check`] says whether the rules
/// can be enforced (lists within [`MAX_RULE_LIST_LEN`], leeway within
/// [`MAX_LEEWAY_SECS`]), and [`Verifier::new`](crate::Verifier::new) refuses
/// rules that cannot.
///
/// ```
/// use jwtv::{Algorithm, AlgorithmSet};
/// use jwtv_jwks::Rules;
/// let rules = Rules::new(AlgorithmSet::of(&[Algorithm::ES256]))
///     .issuer("https://issuer.example")
///     .audience("api")
///     .leeway_secs(10);
/// assert_eq!(rules.issuers(), ["https://issuer.example"]);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rules {
    pub(crate) algorithms: AlgorithmSet,
    pub(crate) issuers: Vec<String>,
    pub(crate) audiences: Vec<String>,
    pub(crate) ignore_audience: bool,
    pub(crate) typ: Option<String>,
    pub(crate) leeway_secs: u64,
    pub(crate) require_exp: bool,
    pub(crate) max_age_secs: Option<u64>,
    pub(crate) required_claims: Vec<String>,
    pub(crate) required_values: Vec<(String, String)>,
    pub(crate) understood_crit: Vec<String>,
    pub(crate) max_token_len: usize,
}

impl Rules {
    /// Rules allowing `algorithms`, otherwise the core's defaults.
    pub fn new(algorithms: AlgorithmSet) -> Self {
        Self {
            algorithms,
            issuers: Vec::new(),
            audiences: Vec::new(),
            ignore_audience: false,
            typ: None,
            leeway_secs: DEFAULT_LEEWAY_SECS,
            require_exp: true,
            max_age_secs: None,
            required_claims: Vec::new(),
            required_values: Vec::new(),
            understood_crit: Vec::new(),
            max_token_len: DEFAULT_MAX_TOKEN_LEN,
        }
    }

    /// These rules with another set of allowed algorithms.
    #[must_use]
    pub fn with_algorithms(mut self, algorithms: AlgorithmSet) -> Self {
        self.algorithms = algorithms;
        self
    }

    /// Adds an accepted issuer (see [`Policy::issuers`]). At most
    /// [`MAX_RULE_LIST_LEN`]: see [`Rules::check`].
    #[must_use]
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuers.push(issuer.into());
        self
    }

    /// Adds an accepted audience (see [`Policy::audiences`]).
    #[must_use]
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audiences.push(audience.into());
        self
    }

    /// See [`Policy::ignore_audience`].
    #[must_use]
    pub fn ignore_audience(mut self) -> Self {
        self.ignore_audience = true;
        self
    }

    /// See [`Policy::typ`].
    #[must_use]
    pub fn typ(mut self, typ: impl Into<String>) -> Self {
        self.typ = Some(typ.into());
        self
    }

    /// See [`Policy::leeway_secs`]. At most [`MAX_LEEWAY_SECS`]: see [`Rules::check`].
    #[must_use]
    pub fn leeway_secs(mut self, leeway: u64) -> Self {
        self.leeway_secs = leeway;
        self
    }

    /// See [`Policy::allow_missing_exp`].
    #[must_use]
    pub fn allow_missing_exp(mut self) -> Self {
        self.require_exp = false;
        self
    }

    /// See [`Policy::max_age_secs`].
    #[must_use]
    pub fn max_age_secs(mut self, max_age: u64) -> Self {
        self.max_age_secs = Some(max_age);
        self
    }

    /// Adds a claim that must be present (see [`Policy::require_claims`]).
    #[must_use]
    pub fn require_claim(mut self, name: impl Into<String>) -> Self {
        self.required_claims.push(name.into());
        self
    }

    /// Adds a claim that must have this string value (see [`Policy::require_claim_values`]).
    #[must_use]
    pub fn require_claim_value(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.required_values.push((name.into(), value.into()));
        self
    }

    /// Adds an understood `crit` extension (see [`Policy::understood_crit`]).
    #[must_use]
    pub fn understood_crit(mut self, name: impl Into<String>) -> Self {
        self.understood_crit.push(name.into());
        self
    }

    /// See [`Policy::max_token_len`].
    #[must_use]
    pub fn max_token_len(mut self, max: usize) -> Self {
        self.max_token_len = max;
        self
    }

    /// The allowed algorithms.
    pub fn algorithms(&self) -> AlgorithmSet {
        self.algorithms
    }

    /// The accepted issuers.
    pub fn issuers(&self) -> &[String] {
        &self.issuers
    }

    /// The accepted audiences.
    pub fn audiences(&self) -> &[String] {
        &self.audiences
    }

    /// The name of the claim a [`jwtv::Field`] stands for (including the
    /// required claims these rules name), for error details.
    pub fn field_name(&self, field: jwtv::Field) -> Option<String> {
        self.with_policy(|policy| policy.field_name(field).map(str::to_owned))
    }

    /// The largest token accepted, in bytes.
    pub fn token_len_limit(&self) -> usize {
        self.max_token_len
    }

    /// Whether these rules can be enforced as written: every list within
    /// [`MAX_RULE_LIST_LEN`], the leeway within [`MAX_LEEWAY_SECS`], a
    /// positive token size. The error names the field as the policy file
    /// does (`required_claims`, `leeway_secs`).
    ///
    /// ```
    /// use jwtv::{Algorithm, AlgorithmSet};
    /// use jwtv_jwks::{MAX_RULE_LIST_LEN, Rules};
    /// let mut rules = Rules::new(AlgorithmSet::of(&[Algorithm::ES256]));
    /// for i in 0..=MAX_RULE_LIST_LEN {
    ///     rules = rules.require_claim(format!("claim-{i}"));
    /// }
    /// let err = rules.check().unwrap_err();
    /// assert_eq!(err.field(), "required_claims");
    /// assert_eq!(err.message(), "at most 32 entries (33 given)");
    /// ```
    pub fn check(&self) -> Result<(), ConfigError> {
        let lists = self.list_lens();
        if let Some((name, len)) = lists.into_iter().find(|(_, len)| *len > MAX_RULE_LIST_LEN) {
            return Err(ConfigError::at(name, format!("at most {MAX_RULE_LIST_LEN} entries ({len} given)")));
        }
        if self.leeway_secs > MAX_LEEWAY_SECS {
            return Err(ConfigError::at(
                "leeway_secs",
                format!("at most {MAX_LEEWAY_SECS} s (clock skew, not token lifetime; {} given)", self.leeway_secs),
            ));
        }
        if self.max_token_len == 0 {
            return Err(ConfigError::at("max_token_len", "must be positive"));
        }
        Ok(())
    }

    /// [`Rules::check`] without building an error (on every verification).
    fn within_bounds(&self) -> bool {
        self.list_lens().iter().all(|(_, len)| *len <= MAX_RULE_LIST_LEN)
            && self.leeway_secs <= MAX_LEEWAY_SECS
            && self.max_token_len > 0
    }

    fn list_lens(&self) -> [(&'static str, usize); 5] {
        [
            ("issuers", self.issuers.len()),
            ("audiences", self.audiences.len()),
            ("required_claims", self.required_claims.len()),
            ("required_claim_values", self.required_values.len()),
            ("understood_crit", self.understood_crit.len()),
        ]
    }

    /// The clock leeway, in seconds.
    pub fn leeway(&self) -> u64 {
        self.leeway_secs
    }

    /// Lends these rules to the core as a [`Policy`] for the duration of `f`.
    ///
    /// Rules that fail [`Rules::check`] are never enforced in part: they
    /// lend a policy that allows no algorithm, so every token is refused
    /// (`alg_not_allowed`). [`Verifier::new`](crate::Verifier::new) refuses
    /// such rules up front.
    pub fn with_policy<R>(&self, f: impl FnOnce(&Policy<'_>) -> R) -> R {
        let enforceable = self.within_bounds();
        let issuers = lend(&self.issuers, String::as_str);
        let audiences = lend(&self.audiences, String::as_str);
        let required = lend(&self.required_claims, String::as_str);
        let crit = lend(&self.understood_crit, String::as_str);
        let values = lend(&self.required_values, |(n, v)| (n.as_str(), v.as_str()));
        let mut policy = Policy::new()
            .algorithms(if enforceable { self.algorithms } else { AlgorithmSet::EMPTY })
            .issuers(&issuers)
            .audiences(&audiences)
            .leeway_secs(self.leeway_secs)
            .require_claims(&required)
            .require_claim_values(&values)
            .understood_crit(&crit)
            .max_token_len(self.max_token_len);
        if self.ignore_audience {
            policy = policy.ignore_audience();
        }
        if let Some(typ) = &self.typ {
            policy = policy.typ(typ);
        }
        if !self.require_exp {
            policy = policy.allow_missing_exp();
        }
        if let Some(max_age) = self.max_age_secs {
            policy = policy.max_age_secs(max_age);
        }
        f(&policy)
    }
}

/// The first [`MAX_RULE_LIST_LEN`] entries of `list`, borrowed on the stack
/// (only ever all of them: [`Rules::with_policy`] enforces nothing of rules
/// with a longer list).
fn lend<'a, T, U>(list: &'a [T], borrow: impl Fn(&'a T) -> U) -> heapless::Vec<U, MAX_RULE_LIST_LEN> {
    let mut lent = heapless::Vec::new();
    for item in list.iter().take(MAX_RULE_LIST_LEN) {
        if lent.push(borrow(item)).is_err() {
            break;
        }
    }
    lent
}

#[cfg(test)]
mod tests {
    use super::*;
    use jwtv::{Algorithm, Claims, Error, Header};

    fn es256() -> Rules {
        Rules::new(AlgorithmSet::of(&[Algorithm::ES256]))
    }

    #[test]
    fn every_list_past_its_bound_is_a_configuration_error_naming_it() {
        type Add = fn(Rules, String) -> Rules;
        let adders: [(&str, Add); 5] = [
            ("issuers", |r, s| r.issuer(s)),
            ("audiences", |r, s| r.audience(s)),
            ("required_claims", |r, s| r.require_claim(s)),
            ("required_claim_values", |r, s| r.require_claim_value(s, "v")),
            ("understood_crit", |r, s| r.understood_crit(s)),
        ];
        for (field, add) in adders {
            let at_limit = (0..MAX_RULE_LIST_LEN).fold(es256(), |r, i| add(r, format!("e{i}")));
            assert!(at_limit.check().is_ok(), "{field}: {MAX_RULE_LIST_LEN} entries are fine");
            let over = add(at_limit, "one-too-many".into());
            let err = over.check().expect_err(field);
            assert_eq!((err.field(), err.message()), (field, "at most 32 entries (33 given)"));
        }
    }

    #[test]
    fn rules_past_a_bound_are_never_enforced_in_part() {
        // 33 required claims: the 33rd is not dropped, every token is refused.
        let rules = (0..=MAX_RULE_LIST_LEN).fold(es256(), |r, i| r.require_claim(format!("c{i}")));
        let header = Header::from_json(br#"{"alg":"ES256"}"#).unwrap();
        let claims = Claims::from_json(br#"{"exp":4102444800}"#).unwrap();
        let allowed = rules.with_policy(|p| p.allows(Algorithm::ES256));
        assert!(!allowed, "no algorithm is allowed");
        let checked = rules.with_policy(|p| p.check(&header, &claims, 1_700_000_000));
        assert!(matches!(checked, Err(Error::MissingClaim(_))), "{checked:?}");
    }

    #[test]
    fn the_leeway_is_bounded_by_the_revocation_grace() {
        assert_eq!(MAX_LEEWAY_SECS, crate::JTI_GRACE_SECS);
        assert!(es256().leeway_secs(MAX_LEEWAY_SECS).check().is_ok());
        let err = es256().leeway_secs(MAX_LEEWAY_SECS + 1).check().unwrap_err();
        assert_eq!(err.field(), "leeway_secs");
        assert!(err.message().starts_with("at most 300 s"), "{err}");
        assert!(es256().max_token_len(0).check().is_err());
    }
}
