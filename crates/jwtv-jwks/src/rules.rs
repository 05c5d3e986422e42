//! [`Rules`]: an owned [`jwtv::Policy`], for servers that read their rules
//! from a file at startup and keep them for the life of the process.

use jwtv::{AlgorithmSet, DEFAULT_LEEWAY_SECS, DEFAULT_MAX_TOKEN_LEN, Policy};

/// The most names each list of [`Rules`] may hold (issuers, audiences,
/// required claims, …). Lists are lent to the core on the stack at each
/// verification, without allocation.
pub const MAX_RULE_LIST_LEN: usize = 32;

/// The token rules of a server verifier: what [`jwtv::Policy`] says, owned.
///
/// The defaults are the core's: every algorithm the key set allows, `exp`
/// required, 30 s leeway, no issuer or audience (so a token *with* an `aud`
/// is refused until audiences are set), 16 KiB tokens.
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

    /// Adds an accepted issuer (see [`Policy::issuers`]). Lists longer than
    /// [`MAX_RULE_LIST_LEN`] are cut there; the policy file refuses them.
    #[must_use]
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        push_bounded(&mut self.issuers, issuer.into());
        self
    }

    /// Adds an accepted audience (see [`Policy::audiences`]).
    #[must_use]
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        push_bounded(&mut self.audiences, audience.into());
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

    /// See [`Policy::leeway_secs`].
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
        push_bounded(&mut self.required_claims, name.into());
        self
    }

    /// Adds a claim that must have this string value (see [`Policy::require_claim_values`]).
    #[must_use]
    pub fn require_claim_value(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        if self.required_values.len() < MAX_RULE_LIST_LEN {
            self.required_values.push((name.into(), value.into()));
        }
        self
    }

    /// Adds an understood `crit` extension (see [`Policy::understood_crit`]).
    #[must_use]
    pub fn understood_crit(mut self, name: impl Into<String>) -> Self {
        push_bounded(&mut self.understood_crit, name.into());
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

    /// Lends these rules to the core as a [`Policy`] for the duration of `f`.
    pub fn with_policy<R>(&self, f: impl FnOnce(&Policy<'_>) -> R) -> R {
        let issuers = borrowed(&self.issuers);
        let audiences = borrowed(&self.audiences);
        let required = borrowed(&self.required_claims);
        let crit = borrowed(&self.understood_crit);
        let values: heapless::Vec<(&str, &str), MAX_RULE_LIST_LEN> =
            self.required_values.iter().take(MAX_RULE_LIST_LEN).map(|(n, v)| (n.as_str(), v.as_str())).collect();
        let mut policy = Policy::new()
            .algorithms(self.algorithms)
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

fn push_bounded(list: &mut Vec<String>, item: String) {
    if list.len() < MAX_RULE_LIST_LEN {
        list.push(item);
    }
}

fn borrowed(list: &[String]) -> heapless::Vec<&str, MAX_RULE_LIST_LEN> {
    list.iter().take(MAX_RULE_LIST_LEN).map(String::as_str).collect()
}
