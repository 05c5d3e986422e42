//! [`Policy`]: everything a server verifier enforces and where its keys come
//! from, in one type. Its serialised form, the **policy document**
//! (`docs/POLICY.md`), is what the CLI, the C ABI, Go and the NGINX module
//! hand over: every host configures a verifier through it, field by field
//! ([`Policy::set`]) or whole ([`Policy::from_json`]).
//!
//! Reading is strict: the top level must be an object, unknown fields and
//! bad values are errors naming the field's path
//! (`refresh.min_ttl_secs: invalid type: string "60", expected u64`).

use core::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use base64ct::{Base64UrlUnpadded, Encoding};
use jwtv::{
    Algorithm, AlgorithmSet, ClaimValue, DEFAULT_LEEWAY_SECS, DEFAULT_MAX_TOKEN_LEN, VerifyingKey, is_valid_pointer,
};
use jwtv_jwks::{
    DEFAULT_MAX_JWKS_BYTES, DEFAULT_MAX_KEYS, FileJwks, KeySet, KeySetOptions, KeySource, RefreshPolicy, RemoteJwks,
    SkipReason, TrustRoots, key_from_pem_with,
};
use serde::{Deserialize, Serialize};

use crate::document::{self, UniqueMap};
use crate::revoke::{DEFAULT_MAX_STALENESS, DEFAULT_REDIS_PREFIX, Freshness, RedisOptions, Revocations};

/// How long the first verification waits for a remote key set that has not
/// been fetched yet, by default.
pub const DEFAULT_FIRST_FETCH_TIMEOUT: Duration = Duration::from_secs(5);

/// The members of a policy document a shadow policy may change: the token
/// rules ([`Policy::shadow`]).
pub const SHADOW_FIELDS: [&str; 12] = [
    "algorithms",
    "issuers",
    "audiences",
    "ignore_audience",
    "typ",
    "leeway_secs",
    "require_exp",
    "max_age_secs",
    "max_lifetime_secs",
    "required_claims",
    "required_claim_values",
    "understood_crit",
];

/// The most names each list of a [`Policy`] may hold (issuers, audiences,
/// required claims, …). Lists are lent to the core on the stack at each
/// verification, without allocation. A longer list is an error
/// ([`Policy::check`]), never cut short.
pub const MAX_RULE_LIST_LEN: usize = 32;

/// The largest clock leeway a server verifier accepts, in seconds (five
/// minutes). Revocation lists keep a revoked `jti` this long past its `exp`
/// ([`JTI_GRACE_SECS`](crate::JTI_GRACE_SECS) is the same number), so no
/// verifier of a fleet can accept a revoked token again after its entry
/// is dropped.
pub const MAX_LEEWAY_SECS: u64 = 300;

/// A policy that cannot be read or enforced, or whose key source or
/// revocation list cannot be set up: the path of the field concerned and
/// what is wrong.
#[derive(Debug)]
pub struct PolicyError {
    path: String,
    message: String,
}

/// The former name of [`PolicyError`].
#[deprecated(note = "renamed PolicyError")]
pub type ConfigError = PolicyError;

impl PolicyError {
    pub(crate) fn at(path: impl Into<String>, message: impl fmt::Display) -> Self {
        Self { path: path.into(), message: message.to_string() }
    }

    /// The path of the offending field (`refresh.max_ttl_secs`, `algorithms[2]`),
    /// empty for the document as a whole.
    pub fn field(&self) -> &str {
        &self.path
    }

    /// What is wrong.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() { f.write_str(&self.message) } else { write!(f, "{}: {}", self.path, self.message) }
    }
}

impl std::error::Error for PolicyError {}

/// The token rules of a server verifier and where its keys come from.
///
/// Read one from a policy document ([`Policy::from_json`],
/// [`Policy::from_file`]) and make the verifier with [`Policy::verifier`](Policy::verifier);
/// or build one in code ([`Policy::new`] and the builder methods) for a key
/// source of your own ([`Verifier::new`](crate::Verifier::new)). The defaults are the core's:
/// `exp` required, 30 s leeway, no issuer or audience (so a token *with* an
/// `aud` is refused until audiences are set), 16 KiB tokens.
///
/// ```
/// let json = br#"{
///   "keys": {"jwks": {"keys": [{"kty":"OKP","crv":"Ed25519","kid":"k1","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}},
///   "algorithms": ["EdDSA"],
///   "issuers": ["https://issuer.example"],
///   "audiences": ["api"],
///   "token_cache_size": 10000
/// }"#;
/// let mut policy = jwtv_gateway::Policy::from_json(json, ".")?;
/// policy.set("leeway_secs", "60")?; // any field, by its path, as JSON
/// let verifier = policy.verifier()?;
/// assert_eq!(verifier.key_set().map(|set| set.len()), Some(1));
///
/// let err = jwtv_gateway::Policy::from_json(br#"{"keys":{"jwks_file":"k.json"},"algorithms":["none"]}"#, ".").unwrap_err();
/// assert_eq!(err.field(), "algorithms[0]");
/// # Ok::<(), jwtv_gateway::PolicyError>(())
/// ```
///
/// Every list holds at most [`MAX_RULE_LIST_LEN`] entries and the leeway is
/// at most [`MAX_LEEWAY_SECS`]: [`Policy::check`] says so, and nothing that
/// makes a verifier accepts a policy past them.
#[derive(Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default = "Policy::empty")]
pub struct Policy {
    /// A name for this policy in metrics (`policy="…"`) and logs.
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(skip_serializing_if = "Keys::is_empty")]
    keys: Keys,
    #[serde(with = "algorithm_names")]
    algorithms: AlgorithmSet,
    issuers: Vec<String>,
    audiences: Vec<String>,
    ignore_audience: bool,
    typ: Option<String>,
    leeway_secs: u64,
    require_exp: bool,
    max_age_secs: Option<u64>,
    max_lifetime_secs: Option<u64>,
    required_claims: Vec<String>,
    required_claim_values: UniqueMap<ClaimValueBuf>,
    understood_crit: Vec<String>,
    max_token_len: usize,
    token_cache_size: usize,
    jwks_max_bytes: usize,
    jwks_max_keys: usize,
    allow_any_rsa_exponent: bool,
    refresh: RefreshConfig,
    #[serde(skip_serializing_if = "TlsConfig::is_default")]
    tls: TlsConfig,
    #[serde(skip_serializing_if = "Option::is_none")]
    revocations: Option<RevocationsConfig>,
    /// Token rules evaluated beside these and never enforced: the members of
    /// this policy a shadow policy changes ([`Policy::shadow`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    shadow: Option<serde_json::Map<String, serde_json::Value>>,
    /// Relative paths in the document are relative to this folder.
    #[serde(skip)]
    base_dir: PathBuf,
}

/// Where the keys come from: exactly one of a JWKS file, a JWKS URL, an
/// inline JWKS, or static keys (PEM and secrets, from files or inline, in
/// any combination).
#[derive(Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
struct Keys {
    #[serde(skip_serializing_if = "Option::is_none")]
    jwks_file: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    jwks_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    jwks: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    issuer_discovery: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pem_files: Vec<KeyFile>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    secret_files: Vec<KeyFile>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pem: Vec<InlinePem>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    secrets: Vec<InlineSecret>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    sources: Vec<SourceConfig>,
}

/// One of several key sources (`keys.sources`): exactly one of a JWKS
/// file, a JWKS URL or an inline JWKS, optionally bound to an issuer.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
struct SourceConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    jwks_file: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    jwks_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    jwks: Option<serde_json::Value>,
    /// An OpenID Connect issuer whose configuration names the JWKS URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    issuer_discovery: Option<String>,
    /// The keys of this source verify only tokens with this `iss`.
    #[serde(skip_serializing_if = "Option::is_none")]
    issuer: Option<String>,
}

impl SourceConfig {
    fn forms(&self) -> usize {
        [self.jwks_file.is_some(), self.jwks_url.is_some(), self.jwks.is_some(), self.issuer_discovery.is_some()]
            .into_iter()
            .filter(|&n| n)
            .count()
    }

    /// The issuer the source's keys are bound to: the one named, or the
    /// discovered issuer.
    fn bound_issuer(&self) -> Option<String> {
        self.issuer.clone().or_else(|| self.issuer_discovery.clone())
    }
}

impl Keys {
    /// The single JWKS form of `keys` (file, URL, inline or discovery) as a source.
    fn single(&self) -> SourceConfig {
        SourceConfig {
            jwks_file: self.jwks_file.clone(),
            jwks_url: self.jwks_url.clone(),
            jwks: self.jwks.clone(),
            issuer_discovery: self.issuer_discovery.clone(),
            issuer: None,
        }
    }
}

impl Keys {
    fn is_empty(&self) -> bool {
        self.forms() == 0
    }

    /// How many of the exclusive forms are named (static keys count once).
    fn forms(&self) -> usize {
        let statics = !(self.pem_files.is_empty()
            && self.secret_files.is_empty()
            && self.pem.is_empty()
            && self.secrets.is_empty());
        [
            self.jwks_file.is_some(),
            self.jwks_url.is_some(),
            self.jwks.is_some(),
            self.issuer_discovery.is_some(),
            statics,
            !self.sources.is_empty(),
        ]
        .into_iter()
        .filter(|&named| named)
        .count()
    }
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct KeyFile {
    path: PathBuf,
    alg: AlgName,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    kid: Option<String>,
}

/// A public key in PEM, in the document itself.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct InlinePem {
    pem: String,
    alg: AlgName,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    kid: Option<String>,
}

/// An HMAC secret in the document itself, base64url without padding (as a
/// JWK's `k`).
#[derive(Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct InlineSecret {
    k: String,
    alg: AlgName,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    kid: Option<String>,
}

impl fmt::Debug for InlineSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InlineSecret")
            .field("k", &"<redacted>")
            .field("alg", &self.alg)
            .field("kid", &self.kid)
            .finish()
    }
}

/// How `https` key servers are checked.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
struct TlsConfig {
    /// The CAs to trust (PEM) in place of the system's trust store.
    #[serde(skip_serializing_if = "Option::is_none")]
    ca_file: Option<PathBuf>,
}

impl TlsConfig {
    fn is_default(&self) -> bool {
        self.ca_file.is_none()
    }
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct RevocationsConfig {
    /// A file path or a `redis://` URL.
    source: String,
    #[serde(default = "default_redis_prefix")]
    redis_prefix: String,
    #[serde(default = "default_resync_secs")]
    resync_secs: u64,
    #[serde(default = "default_first_sync_timeout_ms")]
    first_sync_timeout_ms: u64,
    #[serde(default)]
    fail_closed: bool,
    #[serde(default = "default_max_staleness_secs")]
    max_staleness_secs: u64,
}

impl RevocationsConfig {
    fn new(source: String) -> Self {
        Self {
            source,
            redis_prefix: default_redis_prefix(),
            resync_secs: default_resync_secs(),
            first_sync_timeout_ms: default_first_sync_timeout_ms(),
            fail_closed: false,
            max_staleness_secs: default_max_staleness_secs(),
        }
    }
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
struct RefreshConfig {
    default_ttl_secs: u64,
    min_ttl_secs: u64,
    max_ttl_secs: u64,
    max_stale_secs: u64,
    unknown_kid_cooldown_secs: u64,
    backoff_min_ms: u64,
    backoff_max_ms: u64,
    fetch_timeout_ms: u64,
    first_fetch_timeout_ms: u64,
    file_check_interval_ms: u64,
}

impl Default for RefreshConfig {
    fn default() -> Self {
        let p = RefreshPolicy::default();
        Self {
            default_ttl_secs: p.default_ttl.as_secs(),
            min_ttl_secs: p.min_ttl.as_secs(),
            max_ttl_secs: p.max_ttl.as_secs(),
            max_stale_secs: p.max_stale.as_secs(),
            unknown_kid_cooldown_secs: p.unknown_kid_cooldown.as_secs(),
            backoff_min_ms: millis(p.backoff_min),
            backoff_max_ms: millis(p.backoff_max),
            fetch_timeout_ms: millis(p.fetch_timeout),
            first_fetch_timeout_ms: millis(DEFAULT_FIRST_FETCH_TIMEOUT),
            file_check_interval_ms: 1000,
        }
    }
}

/// An algorithm name, refused at parse time (with the field's path) when jwtv
/// does not verify it.
#[derive(Clone, Copy, Debug)]
struct AlgName(Algorithm);

impl<'de> Deserialize<'de> for AlgName {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        Algorithm::from_name(&name).map(AlgName).ok_or_else(|| {
            let supported: Vec<&str> = Algorithm::ALL.iter().map(|a| a.name()).collect();
            let backend = if name == "ES512" { "; ES512 needs the aws-lc backend" } else { "" };
            serde::de::Error::custom(format!(
                "unknown algorithm `{name}` (supported: {}{backend})",
                supported.join(", ")
            ))
        })
    }
}

impl Serialize for AlgName {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.0.name())
    }
}

/// `algorithms` is a list of names in the document, a set in memory.
mod algorithm_names {
    use jwtv::{Algorithm, AlgorithmSet};
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::AlgName;

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<AlgorithmSet, D::Error> {
        let names = Vec::<AlgName>::deserialize(deserializer)?;
        Ok(names.iter().fold(AlgorithmSet::EMPTY, |set, alg| set.with(alg.0)))
    }

    pub(super) fn serialize<S: Serializer>(set: &AlgorithmSet, serializer: S) -> Result<S::Ok, S::Error> {
        let names: Vec<AlgName> = Algorithm::ALL.into_iter().filter(|&alg| set.contains(alg)).map(AlgName).collect();
        names.serialize(serializer)
    }
}

fn default_max_staleness_secs() -> u64 {
    DEFAULT_MAX_STALENESS.as_secs()
}
fn default_redis_prefix() -> String {
    DEFAULT_REDIS_PREFIX.to_owned()
}
fn default_resync_secs() -> u64 {
    RedisOptions::default().resync_interval.as_secs()
}
fn default_first_sync_timeout_ms() -> u64 {
    2000
}
/// A duration in whole milliseconds, saturating.
fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

impl fmt::Debug for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Inline secrets are redacted by their own Debug.
        f.debug_struct("Policy")
            .field("name", &self.name)
            .field("keys.forms", &self.keys.forms())
            .field("algorithms", &self.algorithms)
            .field("issuers", &self.issuers)
            .field("audiences", &self.audiences)
            .field("ignore_audience", &self.ignore_audience)
            .field("typ", &self.typ)
            .field("leeway_secs", &self.leeway_secs)
            .field("require_exp", &self.require_exp)
            .field("max_age_secs", &self.max_age_secs)
            .field("max_lifetime_secs", &self.max_lifetime_secs)
            .field("required_claims", &self.required_claims)
            .field("required_claim_values", &self.required_claim_values)
            .field("understood_crit", &self.understood_crit)
            .field("max_token_len", &self.max_token_len)
            .field("token_cache_size", &self.token_cache_size)
            .field("refresh", &self.refresh)
            .field("tls", &self.tls)
            .field("revocations", &self.revocations)
            .finish_non_exhaustive()
    }
}

impl Policy {
    /// A policy allowing `algorithms`, otherwise the core's defaults, with no
    /// key source (give one to [`Verifier::new`](crate::Verifier::new), or set `keys`).
    pub fn new(algorithms: AlgorithmSet) -> Self {
        Self {
            name: None,
            keys: Keys::default(),
            algorithms,
            issuers: Vec::new(),
            audiences: Vec::new(),
            ignore_audience: false,
            typ: None,
            leeway_secs: DEFAULT_LEEWAY_SECS,
            require_exp: true,
            max_age_secs: None,
            max_lifetime_secs: None,
            required_claims: Vec::new(),
            required_claim_values: UniqueMap::default(),
            understood_crit: Vec::new(),
            max_token_len: DEFAULT_MAX_TOKEN_LEN,
            token_cache_size: 0,
            jwks_max_bytes: DEFAULT_MAX_JWKS_BYTES,
            jwks_max_keys: DEFAULT_MAX_KEYS,
            allow_any_rsa_exponent: false,
            refresh: RefreshConfig::default(),
            tls: TlsConfig::default(),
            revocations: None,
            shadow: None,
            base_dir: PathBuf::from("."),
        }
    }

    /// The document's defaults: no algorithm, the rest as [`Policy::new`].
    fn empty() -> Self {
        Self::new(AlgorithmSet::EMPTY)
    }

    /// Reads a policy file; relative paths inside it are relative to its folder.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, PolicyError> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|e| PolicyError::at("", format!("{}: {e}", path.display())))?;
        let base = path.parent().map_or_else(|| PathBuf::from("."), Path::to_path_buf);
        Self::from_json(&bytes, base)
    }

    /// Reads a policy document; relative paths inside it are relative to
    /// `base_dir`. The document must name a key source (`keys`) and at least
    /// one algorithm.
    pub fn from_json(json: &[u8], base_dir: impl AsRef<Path>) -> Result<Self, PolicyError> {
        let mut policy: Self = document::read(json).map_err(|e| PolicyError::at(e.path, e.message))?;
        policy.base_dir = base_dir.as_ref().to_path_buf();
        if policy.keys.is_empty() {
            return Err(PolicyError::at("keys", "missing: name a key source"));
        }
        policy.check()?;
        Ok(policy)
    }

    /// The policy document: the JSON that [`Policy::from_json`] reads back to
    /// this policy. It holds inline keys and secrets as they were given:
    /// treat it as a secret when it has any.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Sets one field by its path in the policy document (`leeway_secs`,
    /// `refresh.min_ttl_secs`, `revocations.fail_closed`, `keys.jwks_url`), to
    /// a JSON value (`60`, `true`, `"https://…"`, `["a","b"]`). The whole
    /// policy is read again as a document would be, so a wrong name or value
    /// is refused with the field's path and leaves the policy unchanged.
    /// Setting a field of `revocations` without a `source` yet is refused
    /// until `revocations.source` is set.
    ///
    /// ```
    /// use jwtv::{Algorithm, AlgorithmSet};
    /// let mut policy = jwtv_gateway::Policy::new(AlgorithmSet::of(&[Algorithm::ES256]));
    /// policy.set("issuers", r#"["https://issuer.example"]"#)?;
    /// policy.set("refresh.max_stale_secs", "3600")?;
    /// assert_eq!(policy.issuers(), ["https://issuer.example"]);
    /// let err = policy.set("leeway_secs", "\"60\"").unwrap_err();
    /// assert_eq!(err.field(), "leeway_secs");
    /// assert_eq!(policy.set("refresh.ttl", "1").unwrap_err().field(), "refresh.ttl");
    /// # Ok::<(), jwtv_gateway::PolicyError>(())
    /// ```
    pub fn set(&mut self, path: &str, json_value: &str) -> Result<(), PolicyError> {
        let value: serde_json::Value = serde_json::from_str(json_value)
            .map_err(|e| PolicyError::at(path, format!("not a JSON value ({e}): {json_value}")))?;
        self.set_value(path, value)
    }

    /// [`Policy::set`] with a string value, encoded as JSON here (so a host
    /// passes any text without quoting it itself).
    pub fn set_string(&mut self, path: &str, value: &str) -> Result<(), PolicyError> {
        self.set_value(path, serde_json::Value::String(value.to_owned()))
    }

    /// Appends a string to the list at `path` (`issuers`, `audiences`,
    /// `required_claims`, `understood_crit`), or adds a member to the object
    /// at `path` for `name=value` forms: see [`Policy::set_member`].
    pub fn add_string(&mut self, path: &str, value: &str) -> Result<(), PolicyError> {
        let mut document = self.document()?;
        let slot = slot(&mut document, path)?;
        match slot {
            serde_json::Value::Null => *slot = serde_json::Value::Array(vec![value.into()]),
            serde_json::Value::Array(list) => list.push(value.into()),
            _ => return Err(PolicyError::at(path, "not a list")),
        }
        self.replace_with(document)
    }

    /// Sets member `name` of the object at `path` to the string `value`
    /// (`required_claim_values`): a name given twice is refused.
    pub fn set_member(&mut self, path: &str, name: &str, value: &str) -> Result<(), PolicyError> {
        self.set_member_value(path, name, value.into())
    }

    /// [`Policy::set_member`] with a JSON value (`3`, `true`, `"acme"`).
    pub fn set_member_json(&mut self, path: &str, name: &str, json_value: &str) -> Result<(), PolicyError> {
        let value: serde_json::Value = serde_json::from_str(json_value)
            .map_err(|e| PolicyError::at(path, format!("`{name}`: not a JSON value ({e}): {json_value}")))?;
        self.set_member_value(path, name, value)
    }

    fn set_member_value(&mut self, path: &str, name: &str, value: serde_json::Value) -> Result<(), PolicyError> {
        let mut document = self.document()?;
        let slot = slot(&mut document, path)?;
        if slot.is_null() {
            *slot = serde_json::Value::Object(serde_json::Map::new());
        }
        let serde_json::Value::Object(object) = slot else { return Err(PolicyError::at(path, "not an object")) };
        if object.contains_key(name) {
            return Err(PolicyError::at(path, format!("duplicate name `{name}`")));
        }
        object.insert(name.to_owned(), value);
        self.replace_with(document)
    }

    fn set_value(&mut self, path: &str, value: serde_json::Value) -> Result<(), PolicyError> {
        let mut document = self.document()?;
        *slot(&mut document, path)? = value;
        self.replace_with(document)
    }

    fn document(&self) -> Result<serde_json::Value, PolicyError> {
        serde_json::to_value(self).map_err(|e| PolicyError::at("", e))
    }

    /// Reads `document` back strictly; on success it replaces this policy.
    fn replace_with(&mut self, document: serde_json::Value) -> Result<(), PolicyError> {
        let text = document.to_string();
        let mut next: Self = document::read(text.as_bytes()).map_err(|e| PolicyError::at(e.path, e.message))?;
        next.base_dir = std::mem::take(&mut self.base_dir);
        if let Err(e) = next.check_consistent() {
            self.base_dir = std::mem::take(&mut next.base_dir);
            return Err(e);
        }
        *self = next;
        Ok(())
    }

    /// Adds a public key in PEM (`BEGIN PUBLIC KEY`, `BEGIN RSA PUBLIC KEY`)
    /// bound to `alg`, to the static keys (`keys.pem`). The key is checked now.
    pub fn add_pem_key(&mut self, pem: &str, alg: Algorithm, kid: Option<&str>) -> Result<(), PolicyError> {
        let at = format!("keys.pem[{}]", self.keys.pem.len());
        let key = key_from_pem_with(pem, alg, &self.key_set_options()).map_err(|e| PolicyError::at(&at, e))?;
        if let Some(kid) = kid {
            key.with_kid(kid).map_err(|e| PolicyError::at(&at, e))?;
        }
        self.only_static_keys(&at)?;
        self.keys.pem.push(InlinePem { pem: pem.to_owned(), alg: AlgName(alg), kid: kid.map(str::to_owned) });
        Ok(())
    }

    /// Adds an HMAC secret bound to `alg` to the static keys (`keys.secrets`).
    /// The secret is checked now (at least as long as the hash output).
    pub fn add_secret(&mut self, secret: &[u8], alg: Algorithm, kid: Option<&str>) -> Result<(), PolicyError> {
        let at = format!("keys.secrets[{}]", self.keys.secrets.len());
        let key = VerifyingKey::hmac(alg, secret).map_err(|e| PolicyError::at(&at, e))?;
        if let Some(kid) = kid {
            key.with_kid(kid).map_err(|e| PolicyError::at(&at, e))?;
        }
        self.only_static_keys(&at)?;
        let k = Base64UrlUnpadded::encode_string(secret);
        self.keys.secrets.push(InlineSecret { k, alg: AlgName(alg), kid: kid.map(str::to_owned) });
        Ok(())
    }

    /// Adds a key source, `form` being `jwks_file`, `jwks_url` or
    /// `issuer_discovery`: the first is the policy's key source
    /// (`keys.jwks_file`, `keys.jwks_url`, `keys.issuer_discovery`), a
    /// second makes both `keys.sources`, later ones join them (what repeated
    /// NGINX `auth_jwt_key_file`/`auth_jwt_key_url` directives do). Static
    /// keys and an inline JWKS take no other source.
    ///
    /// ```
    /// use jwtv::{Algorithm, AlgorithmSet};
    /// let mut policy = jwtv_gateway::Policy::new(AlgorithmSet::of(&[Algorithm::ES256]));
    /// policy.add_key_source("jwks_file", "a.json")?;
    /// assert_eq!(policy.to_json(), jwtv_gateway::Policy::from_json(br#"{"keys":{"jwks_file":"a.json"},"algorithms":["ES256"]}"#, ".")?.to_json());
    /// policy.add_key_source("jwks_url", "https://login.example/keys")?;
    /// assert!(policy.to_json().contains(r#""sources":[{"jwks_file":"a.json"},{"jwks_url":"https://login.example/keys"}]"#));
    /// assert_eq!(policy.add_key_source("pem", "k.pem").unwrap_err().field(), "keys");
    /// # Ok::<(), jwtv_gateway::PolicyError>(())
    /// ```
    pub fn add_key_source(&mut self, form: &str, location: &str) -> Result<(), PolicyError> {
        let source = match form {
            "jwks_file" => SourceConfig { jwks_file: Some(PathBuf::from(location)), ..SourceConfig::default() },
            "jwks_url" => SourceConfig { jwks_url: Some(location.to_owned()), ..SourceConfig::default() },
            "issuer_discovery" => {
                SourceConfig { issuer_discovery: Some(location.to_owned()), ..SourceConfig::default() }
            }
            _ => {
                return Err(PolicyError::at(
                    "keys",
                    format!("`{form}`: a key source to add is jwks_file, jwks_url or issuer_discovery"),
                ));
            }
        };
        let mut keys = self.keys.clone();
        let single = keys.sources.is_empty()
            && keys.forms() == 1
            && (keys.jwks_file.is_some() || keys.jwks_url.is_some() || keys.issuer_discovery.is_some());
        if keys.is_empty() {
            keys.jwks_file = source.jwks_file;
            keys.jwks_url = source.jwks_url;
            keys.issuer_discovery = source.issuer_discovery;
        } else if single {
            let first = SourceConfig {
                jwks_file: keys.jwks_file.take(),
                jwks_url: keys.jwks_url.take(),
                issuer_discovery: keys.issuer_discovery.take(),
                ..SourceConfig::default()
            };
            keys.sources = vec![first, source];
        } else if !keys.sources.is_empty() {
            keys.sources.push(source);
        } else {
            return Err(PolicyError::at("keys", "static keys or an inline JWKS take no other key source"));
        }
        let previous = std::mem::replace(&mut self.keys, keys);
        self.check_consistent().inspect_err(|_| self.keys = previous)
    }

    /// Uses the JWKS document `jwks` (read strictly now, with the algorithms
    /// allowed so far: set `algorithms` first) as the key source
    /// (`keys.jwks`). A document without a usable key is refused.
    pub fn set_jwks(&mut self, jwks: &[u8]) -> Result<(), PolicyError> {
        let set = KeySet::parse(jwks, &self.key_set_options()).map_err(|e| PolicyError::at("keys.jwks", e))?;
        usable(&set)?;
        let value = serde_json::from_slice(jwks).map_err(|e| PolicyError::at("keys.jwks", e))?;
        self.keys = Keys { jwks: Some(value), ..Keys::default() };
        Ok(())
    }

    fn only_static_keys(&self, at: &str) -> Result<(), PolicyError> {
        if self.keys.jwks_file.is_some()
            || self.keys.jwks_url.is_some()
            || self.keys.jwks.is_some()
            || self.keys.issuer_discovery.is_some()
            || !self.keys.sources.is_empty()
        {
            return Err(PolicyError::at(at, "static keys cannot be combined with a JWKS source"));
        }
        Ok(())
    }

    /// These rules with another set of allowed algorithms.
    #[must_use]
    pub fn with_algorithms(mut self, algorithms: AlgorithmSet) -> Self {
        self.algorithms = algorithms;
        self
    }

    /// Adds an accepted issuer (see [`jwtv::Policy::issuers`]).
    #[must_use]
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuers.push(issuer.into());
        self
    }

    /// Adds an accepted audience (see [`jwtv::Policy::audiences`]).
    #[must_use]
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audiences.push(audience.into());
        self
    }

    /// See [`jwtv::Policy::ignore_audience`].
    #[must_use]
    pub fn ignore_audience(mut self) -> Self {
        self.ignore_audience = true;
        self
    }

    /// See [`jwtv::Policy::typ`].
    #[must_use]
    pub fn typ(mut self, typ: impl Into<String>) -> Self {
        self.typ = Some(typ.into());
        self
    }

    /// See [`jwtv::Policy::leeway_secs`]. At most [`MAX_LEEWAY_SECS`].
    #[must_use]
    pub fn leeway_secs(mut self, leeway: u64) -> Self {
        self.leeway_secs = leeway;
        self
    }

    /// See [`jwtv::Policy::allow_missing_exp`].
    #[must_use]
    pub fn allow_missing_exp(mut self) -> Self {
        self.require_exp = false;
        self
    }

    /// See [`jwtv::Policy::max_lifetime_secs`].
    #[must_use]
    pub fn max_lifetime_secs(mut self, max_lifetime: u64) -> Self {
        self.max_lifetime_secs = Some(max_lifetime);
        self
    }

    /// See [`jwtv::Policy::max_age_secs`].
    #[must_use]
    pub fn max_age_secs(mut self, max_age: u64) -> Self {
        self.max_age_secs = Some(max_age);
        self
    }

    /// Adds a claim that must be present (see [`jwtv::Policy::require_claims`]).
    #[must_use]
    pub fn require_claim(mut self, name: impl Into<String>) -> Self {
        self.required_claims.push(name.into());
        self
    }

    /// Adds a claim that must hold this value: a string, an integer or a
    /// boolean (see [`jwtv::Policy::require_claim_values`]).
    #[must_use]
    pub fn require_claim_value(mut self, name: impl Into<String>, value: impl Into<ClaimValueBuf>) -> Self {
        self.required_claim_values.0.push((name.into(), value.into()));
        self
    }

    /// Adds an understood `crit` extension (see [`jwtv::Policy::understood_crit`]).
    #[must_use]
    pub fn understood_crit(mut self, name: impl Into<String>) -> Self {
        self.understood_crit.push(name.into());
        self
    }

    /// See [`jwtv::Policy::max_token_len`].
    #[must_use]
    pub fn max_token_len(mut self, max: usize) -> Self {
        self.max_token_len = max;
        self
    }

    /// Sets the verified-token cache size (0: no cache).
    #[must_use]
    pub fn token_cache_size(mut self, entries: usize) -> Self {
        self.token_cache_size = entries;
        self
    }

    /// This policy for a host that runs an event loop (an NGINX worker, an
    /// async runtime): making the verifier and verifying never wait for a
    /// key server or a revocation store, whatever
    /// `refresh.first_fetch_timeout_ms` and
    /// `revocations.first_sync_timeout_ms` say. Until the key set has
    /// loaded, verifications give `unavailable` at once.
    #[must_use]
    pub fn never_waiting(mut self) -> Self {
        self.refresh.first_fetch_timeout_ms = 0;
        if let Some(r) = &mut self.revocations {
            r.first_sync_timeout_ms = 0;
        }
        self
    }

    /// Uses `source` (a file path or a `redis://` URL) as the revocation list,
    /// in place of `revocations.source` (other `revocations` settings are kept).
    #[must_use]
    pub fn with_revocations_source(mut self, source: impl Into<String>) -> Self {
        let source = source.into();
        match &mut self.revocations {
            Some(r) => r.source = source,
            None => self.revocations = Some(RevocationsConfig::new(source)),
        }
        self
    }

    /// True when the policy names where its keys come from (`keys`).
    pub fn has_key_source(&self) -> bool {
        !self.keys.is_empty()
    }

    /// The policy's name (`name`), if it has one.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// The shadow policy (`shadow`): these rules with the members the
    /// document's `shadow` object changes, evaluated beside them for every
    /// token they accept and never enforced. Its would-be rejections are
    /// counted (`jwtv_shadow_verifications_total`) and logged: the safe way
    /// to tighten `issuers`, `audiences` or `max_lifetime_secs` in
    /// production. A shadow changes token rules only ([`SHADOW_FIELDS`]);
    /// it shares this policy's keys, cache and revocation list.
    ///
    /// ```
    /// let json = br#"{"keys":{"jwks_file":"jwks.json"},"algorithms":["ES256"],"audiences":["api","api-v1"],
    ///                 "shadow":{"audiences":["api"],"max_lifetime_secs":3600}}"#;
    /// let policy = jwtv_gateway::Policy::from_json(json, ".")?;
    /// let shadow = policy.shadow()?.expect("a shadow policy");
    /// assert_eq!(shadow.audiences(), ["api"]);
    /// assert_eq!(shadow.algorithms(), policy.algorithms());
    ///
    /// let err = jwtv_gateway::Policy::from_json(br#"{"keys":{"jwks_file":"k.json"},"algorithms":["ES256"],
    ///                                               "shadow":{"token_cache_size":10}}"#, ".").unwrap_err();
    /// assert_eq!(err.field(), "shadow.token_cache_size");
    /// # Ok::<(), jwtv_gateway::PolicyError>(())
    /// ```
    pub fn shadow(&self) -> Result<Option<Policy>, PolicyError> {
        let Some(overlay) = &self.shadow else { return Ok(None) };
        if let Some(name) = overlay.keys().find(|name| !SHADOW_FIELDS.contains(&name.as_str())) {
            return Err(PolicyError::at(
                format!("shadow.{name}"),
                format!(
                    "a shadow policy changes token rules only ({}); it shares the enforced policy's keys, cache \
                     and revocations",
                    SHADOW_FIELDS.join(", ")
                ),
            ));
        }
        let mut document = self.document()?;
        if let serde_json::Value::Object(members) = &mut document {
            members.remove("shadow");
            members.extend(overlay.iter().map(|(name, value)| (name.clone(), value.clone())));
        }
        let in_shadow = |e: PolicyError| {
            let path = if e.path.is_empty() { "shadow".to_owned() } else { format!("shadow.{}", e.path) };
            PolicyError::at(path, e.message)
        };
        let text = document.to_string();
        let mut shadow: Self =
            document::read(text.as_bytes()).map_err(|e| in_shadow(PolicyError::at(e.path, e.message)))?;
        shadow.base_dir.clone_from(&self.base_dir);
        shadow.check().map_err(in_shadow)?;
        Ok(Some(shadow))
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

    /// The required claims.
    pub fn required_claims(&self) -> &[String] {
        &self.required_claims
    }

    /// The claims that must hold a given value (name, value).
    pub fn required_claim_values(&self) -> impl Iterator<Item = (&str, ClaimValue<'_>)> {
        self.required_claim_values.0.iter().map(|(name, value)| (name.as_str(), value.as_claim_value()))
    }

    /// The header `typ` required, if any.
    pub fn required_typ(&self) -> Option<&str> {
        self.typ.as_deref()
    }

    /// The clock leeway, in seconds.
    pub fn leeway(&self) -> u64 {
        self.leeway_secs
    }

    /// The largest token accepted, in bytes.
    pub fn token_len_limit(&self) -> usize {
        self.max_token_len
    }

    /// The verified-token cache size (0: no cache).
    pub fn cache_size(&self) -> usize {
        self.token_cache_size
    }

    /// The name of the claim a [`jwtv::Field`] stands for (including the
    /// required claims this policy names), for error details.
    pub fn field_name(&self, field: jwtv::Field) -> Option<String> {
        self.with_policy(|policy| policy.field_name(field).map(str::to_owned))
    }

    /// How JWKS documents are read under this policy.
    pub fn key_set_options(&self) -> KeySetOptions {
        let mut options = KeySetOptions::for_algorithms(self.algorithms);
        options.max_bytes = self.jwks_max_bytes;
        options.max_keys = self.jwks_max_keys;
        options.allow_any_rsa_exponent = self.allow_any_rsa_exponent;
        options
    }

    /// The refresh timings of a remote key set.
    pub fn refresh_policy(&self) -> RefreshPolicy {
        let r = &self.refresh;
        let mut policy = RefreshPolicy::default();
        policy.default_ttl = Duration::from_secs(r.default_ttl_secs);
        policy.min_ttl = Duration::from_secs(r.min_ttl_secs);
        policy.max_ttl = Duration::from_secs(r.max_ttl_secs);
        policy.max_stale = Duration::from_secs(r.max_stale_secs);
        policy.unknown_kid_cooldown = Duration::from_secs(r.unknown_kid_cooldown_secs);
        policy.backoff_min = Duration::from_millis(r.backoff_min_ms);
        policy.backoff_max = Duration::from_millis(r.backoff_max_ms);
        policy.fetch_timeout = Duration::from_millis(r.fetch_timeout_ms);
        policy
    }

    /// The revocation list's source as written (`revocations.source`), if any.
    pub fn revocations_source(&self) -> Option<&str> {
        self.revocations.as_ref().map(|r| r.source.as_str())
    }

    /// Whether the revocation list fails closed, and after how long without
    /// a sync (the defaults without a list).
    pub fn revocation_freshness(&self) -> Freshness {
        self.revocations.as_ref().map_or_else(Freshness::default, |r| Freshness {
            fail_closed: r.fail_closed,
            max_staleness: Duration::from_secs(r.max_staleness_secs),
        })
    }

    /// How a Redis revocation list is synced under this policy.
    pub fn redis_options(&self) -> RedisOptions {
        let mut options = RedisOptions::default();
        if let Some(r) = &self.revocations {
            options.prefix.clone_from(&r.redis_prefix);
            options.resync_interval = Duration::from_secs(r.resync_secs);
        }
        options
    }

    /// Whether this policy can be enforced as written: at least one
    /// algorithm, every list within [`MAX_RULE_LIST_LEN`], the leeway within
    /// [`MAX_LEEWAY_SECS`], consistent timings, one key source at most. The
    /// error names the field as the policy document does
    /// (`required_claims: at most 32 entries (33 given)`).
    ///
    /// ```
    /// use jwtv::{Algorithm, AlgorithmSet};
    /// use jwtv_gateway::{MAX_RULE_LIST_LEN, Policy};
    /// let mut policy = Policy::new(AlgorithmSet::of(&[Algorithm::ES256]));
    /// for i in 0..=MAX_RULE_LIST_LEN {
    ///     policy = policy.require_claim(format!("claim-{i}"));
    /// }
    /// let err = policy.check().unwrap_err();
    /// assert_eq!(err.field(), "required_claims");
    /// assert_eq!(err.message(), "at most 32 entries (33 given)");
    /// ```
    pub fn check(&self) -> Result<(), PolicyError> {
        if self.algorithms.is_empty() {
            return Err(PolicyError::at("algorithms", "name at least one algorithm"));
        }
        self.check_consistent()
    }

    /// [`Policy::check`] but for completeness: what every change by path
    /// must keep true, while a policy is still being built.
    fn check_consistent(&self) -> Result<(), PolicyError> {
        if let Some((name, len)) = self.list_lens().into_iter().find(|(_, len)| *len > MAX_RULE_LIST_LEN) {
            return Err(PolicyError::at(name, format!("at most {MAX_RULE_LIST_LEN} entries ({len} given)")));
        }
        if self.leeway_secs > MAX_LEEWAY_SECS {
            return Err(PolicyError::at(
                "leeway_secs",
                format!("at most {MAX_LEEWAY_SECS} s (clock skew, not token lifetime; {} given)", self.leeway_secs),
            ));
        }
        if self.max_token_len == 0 {
            return Err(PolicyError::at("max_token_len", "must be positive"));
        }
        if let Some(name) = &self.name
            && !is_valid_name(name)
        {
            return Err(PolicyError::at(
                "name",
                "1 to 64 characters of A-Z, a-z, 0-9, `_`, `-`, `.` (it becomes a metrics label)",
            ));
        }
        if self.max_lifetime_secs == Some(0) {
            return Err(PolicyError::at("max_lifetime_secs", "must be positive"));
        }
        self.shadow()?;
        let names = self.required_claims.iter().map(|n| ("required_claims", n));
        let value_names = self.required_claim_values.0.iter().map(|(n, _)| ("required_claim_values", n));
        if let Some((field, name)) = names.chain(value_names).find(|(_, n)| n.starts_with('/') && !is_valid_pointer(n))
        {
            return Err(PolicyError::at(
                field,
                format!("`{name}`: not a JSON Pointer (RFC 6901): after `~` comes `0` (for `~`) or `1` (for `/`)"),
            ));
        }
        if self.ignore_audience && !self.audiences.is_empty() {
            return Err(PolicyError::at("ignore_audience", "cannot be true when audiences are listed"));
        }
        if self.keys.forms() > 1 {
            return Err(PolicyError::at(
                "keys",
                "name one key source: jwks_file, jwks_url, jwks, issuer_discovery, static keys (pem_files, \
                 secret_files, pem, secrets), or several in sources",
            ));
        }
        if self.keys.sources.len() > MAX_RULE_LIST_LEN {
            return Err(PolicyError::at(
                "keys.sources",
                format!("at most {MAX_RULE_LIST_LEN} entries ({} given)", self.keys.sources.len()),
            ));
        }
        for (i, source) in self.keys.sources.iter().enumerate() {
            if source.forms() != 1 {
                return Err(PolicyError::at(
                    format!("keys.sources[{i}]"),
                    "name exactly one of jwks_file, jwks_url, jwks, issuer_discovery",
                ));
            }
            if source.issuer.as_deref() == Some("") {
                return Err(PolicyError::at(format!("keys.sources[{i}].issuer"), "must not be empty"));
            }
            if let (Some(issuer), Some(discovered)) = (&source.issuer, &source.issuer_discovery)
                && issuer != discovered
            {
                return Err(PolicyError::at(
                    format!("keys.sources[{i}].issuer"),
                    "must be the issuer_discovery issuer (the keys it names are that issuer's), or left out",
                ));
            }
        }
        let r = &self.refresh;
        if r.min_ttl_secs > r.max_ttl_secs {
            return Err(PolicyError::at("refresh.min_ttl_secs", "must not exceed refresh.max_ttl_secs"));
        }
        if r.fetch_timeout_ms == 0 {
            return Err(PolicyError::at("refresh.fetch_timeout_ms", "must be positive"));
        }
        if let Some(r) = &self.revocations {
            if r.resync_secs == 0 {
                return Err(PolicyError::at("revocations.resync_secs", "must be positive"));
            }
            if r.max_staleness_secs == 0 {
                return Err(PolicyError::at("revocations.max_staleness_secs", "must be positive"));
            }
            if r.redis_prefix.is_empty() || r.redis_prefix.contains(char::is_whitespace) {
                return Err(PolicyError::at("revocations.redis_prefix", "must be non-empty, without spaces"));
            }
        }
        Ok(())
    }

    /// [`Policy::check`]'s bounds without building an error (on every verification).
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
            ("required_claim_values", self.required_claim_values.0.len()),
            ("understood_crit", self.understood_crit.len()),
        ]
    }

    /// Lends the token rules to the core as a [`jwtv::Policy`] for the
    /// duration of `f`.
    ///
    /// A policy that fails [`Policy::check`]'s bounds is never enforced in
    /// part: it lends a core policy that allows no algorithm, so every token
    /// is refused (`alg_not_allowed`). [`Verifier::new`](crate::Verifier::new) refuses such a
    /// policy up front.
    pub fn with_policy<R>(&self, f: impl FnOnce(&jwtv::Policy<'_>) -> R) -> R {
        let enforceable = self.within_bounds();
        // Filled where they stand: a heapless vector moved is copied whole.
        let (mut issuers, mut audiences, mut required, mut crit, mut values) = (
            heapless::Vec::new(),
            heapless::Vec::new(),
            heapless::Vec::new(),
            heapless::Vec::new(),
            heapless::Vec::new(),
        );
        lend(&mut issuers, &self.issuers, String::as_str);
        lend(&mut audiences, &self.audiences, String::as_str);
        lend(&mut required, &self.required_claims, String::as_str);
        lend(&mut crit, &self.understood_crit, String::as_str);
        lend(&mut values, &self.required_claim_values.0, |(n, v)| (n.as_str(), v.as_claim_value()));
        let mut policy = jwtv::Policy::new()
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
        if let Some(max_lifetime) = self.max_lifetime_secs {
            policy = policy.max_lifetime_secs(max_lifetime);
        }
        if let Some(max_age) = self.max_age_secs {
            policy = policy.max_age_secs(max_age);
        }
        f(&policy)
    }

    /// Sets up the key source the policy names: loads the file or the static
    /// keys, or starts refreshing the URL in the background.
    pub fn key_source(&self) -> Result<KeySource, PolicyError> {
        let options = self.key_set_options();
        let keys = &self.keys;
        if !keys.sources.is_empty() {
            let parts = keys
                .sources
                .iter()
                .enumerate()
                .map(|(i, source)| {
                    let at = format!("keys.sources[{i}]");
                    let part = self.jwks_source(source, &at)?;
                    Ok((part.ok_or_else(|| PolicyError::at(&at, "missing: name a key source"))?, source.bound_issuer()))
                })
                .collect::<Result<Vec<_>, PolicyError>>()?;
            return Ok(KeySource::merged(parts));
        }
        if let Some(issuer) = &keys.issuer_discovery {
            // One discovered issuer: its keys verify its tokens only.
            let remote = self.jwks_source(&keys.single(), "keys")?;
            let remote = remote.ok_or_else(|| PolicyError::at("keys", "missing: name a key source"))?;
            return Ok(KeySource::merged(vec![(remote, Some(issuer.clone()))]));
        }
        if let Some(source) = self.jwks_source(&keys.single(), "keys")? {
            return Ok(source);
        }
        if keys.is_empty() {
            return Err(PolicyError::at("keys", "missing: name a key source"));
        }
        let pem = |text: &[u8], alg| {
            let pem = std::str::from_utf8(text).map_err(|_| "not UTF-8 text".to_owned())?;
            key_from_pem_with(pem, alg, &options).map_err(|e| e.to_string())
        };
        let secret = |secret: &[u8], alg| {
            // A single trailing newline is the file's, not the secret's.
            let secret = secret.strip_suffix(b"\n").unwrap_or(secret);
            VerifyingKey::hmac(alg, secret).map_err(|e| e.to_string())
        };
        let mut all = self.key_files(&keys.pem_files, "keys.pem_files", pem)?;
        all.extend(self.key_files(&keys.secret_files, "keys.secret_files", secret)?);
        for (i, inline) in keys.pem.iter().enumerate() {
            let at = format!("keys.pem[{i}]");
            let key = key_from_pem_with(&inline.pem, inline.alg.0, &options).map_err(|e| PolicyError::at(&at, e))?;
            all.push(with_kid(key, inline.kid.as_deref(), &at)?);
        }
        for (i, inline) in keys.secrets.iter().enumerate() {
            let at = format!("keys.secrets[{i}]");
            let bytes = Base64UrlUnpadded::decode_vec(&inline.k)
                .map_err(|_| PolicyError::at(format!("{at}.k"), "not base64url without padding"))?;
            let key = VerifyingKey::hmac(inline.alg.0, &bytes).map_err(|e| PolicyError::at(&at, e))?;
            all.push(with_kid(key, inline.kid.as_deref(), &at)?);
        }
        Ok(KeySource::fixed(KeySet::from_keys(all)))
    }

    /// The JWKS source named by one of `file`, `url` or `document` (fields
    /// of `at`), if any: the file loaded, the URL's refresh started.
    fn jwks_source(&self, source: &SourceConfig, at: &str) -> Result<Option<KeySource>, PolicyError> {
        let options = self.key_set_options();
        if let Some(issuer) = &source.issuer_discovery {
            return RemoteJwks::discover(issuer, self.refresh_policy(), options, &self.trust_roots()?)
                .map(|remote| Some(KeySource::Remote(remote)))
                .map_err(|e| PolicyError::at(format!("{at}.issuer_discovery"), e));
        }
        if let Some(path) = &source.jwks_file {
            let path = self.base_dir.join(path);
            let interval = Duration::from_millis(self.refresh.file_check_interval_ms);
            let file = FileJwks::open(&path, options)
                .map_err(|e| PolicyError::at(format!("{at}.jwks_file"), format!("{}: {e}", path.display())))?;
            return Ok(Some(KeySource::File(Arc::new(file.with_check_interval(interval)))));
        }
        if let Some(url) = &source.jwks_url {
            return RemoteJwks::with_trust(url, self.refresh_policy(), options, &self.trust_roots()?)
                .map(|remote| Some(KeySource::Remote(remote)))
                .map_err(|e| PolicyError::at(format!("{at}.jwks_url"), e));
        }
        if let Some(document) = &source.jwks {
            let set = KeySet::parse(document.to_string().as_bytes(), &options)
                .map_err(|e| PolicyError::at(format!("{at}.jwks"), e))?;
            // As a key file or `set_jwks`: a set that can verify nothing is a mistake.
            usable(&set).map_err(|e| PolicyError::at(format!("{at}.jwks"), e.message()))?;
            return Ok(Some(KeySource::fixed(set)));
        }
        Ok(None)
    }

    fn key_files(
        &self,
        files: &[KeyFile],
        field: &str,
        make: impl Fn(&[u8], Algorithm) -> Result<VerifyingKey, String>,
    ) -> Result<Vec<VerifyingKey>, PolicyError> {
        files
            .iter()
            .enumerate()
            .map(|(i, file)| {
                let at = format!("{field}[{i}]");
                let path = self.base_dir.join(&file.path);
                let bytes =
                    std::fs::read(&path).map_err(|e| PolicyError::at(&at, format!("{}: {e}", path.display())))?;
                let key =
                    make(&bytes, file.alg.0).map_err(|e| PolicyError::at(&at, format!("{}: {e}", path.display())))?;
                with_kid(key, file.kid.as_deref(), &at)
            })
            .collect()
    }

    /// Opens the revocation list the policy names (`None` without one); a
    /// Redis list is waited for up to `revocations.first_sync_timeout_ms`
    /// (then it keeps syncing in the background).
    pub fn revocations(&self) -> Result<Option<Revocations>, PolicyError> {
        let Some(r) = &self.revocations else { return Ok(None) };
        let revocations = Revocations::open(&r.source, &self.base_dir, self.redis_options())
            .map_err(|e| PolicyError::at("revocations.source", e))?
            .with_freshness(self.revocation_freshness());
        revocations.wait_synced(Duration::from_millis(r.first_sync_timeout_ms));
        Ok(Some(revocations))
    }

    /// Checks that the key source and the revocation list can be set up —
    /// key files read and valid, URLs well formed — without starting
    /// anything (no fetch, no thread): what a configuration test (`nginx -t`)
    /// needs before worker processes exist. A policy without a key source
    /// passes (making a verifier from it still fails).
    pub fn check_sources(&self) -> Result<(), PolicyError> {
        self.check()?;
        self.trust_roots()?;
        if !self.keys.sources.is_empty() {
            let mut loaded = Vec::new();
            for (i, source) in self.keys.sources.iter().enumerate() {
                let at = format!("keys.sources[{i}]");
                match (&source.jwks_url, &source.issuer_discovery) {
                    (Some(url), _) => {
                        RemoteJwks::check_url(url).map_err(|e| PolicyError::at(format!("{at}.jwks_url"), e))?;
                    }
                    (_, Some(issuer)) => RemoteJwks::check_url(issuer)
                        .map_err(|e| PolicyError::at(format!("{at}.issuer_discovery"), e))?,
                    _ => loaded.extend(self.jwks_source(source, &at)?),
                }
            }
            // Sources that can be read now must not name different keys with one kid.
            let sets: Vec<_> = loaded.iter().filter_map(|source| source.current(Duration::ZERO)).collect();
            let parts: Vec<_> = sets.iter().map(|(set, _)| (&**set, None)).collect();
            let merged = KeySet::merge(&parts);
            let collision = merged.skipped().find(|info| info.skip_reason() == Some(SkipReason::KidInAnotherSource));
            if let Some(kid) = collision.and_then(|info| info.kid.as_deref()) {
                return Err(PolicyError::at(
                    "keys.sources",
                    format!("kid {kid:?} names different keys in two sources (neither would be served)"),
                ));
            }
        } else {
            match (&self.keys.jwks_url, &self.keys.issuer_discovery) {
                (Some(url), _) => RemoteJwks::check_url(url).map_err(|e| PolicyError::at("keys.jwks_url", e))?,
                (_, Some(issuer)) => {
                    RemoteJwks::check_url(issuer).map_err(|e| PolicyError::at("keys.issuer_discovery", e))?;
                }
                // No key source yet is the host's to complete (NGINX key
                // files named with variables are added per request).
                _ if self.keys.is_empty() => {}
                _ => self.key_source().map(drop)?,
            }
        }
        if let Some(r) = &self.revocations {
            Revocations::check_source(&r.source, &self.base_dir)
                .map_err(|e| PolicyError::at("revocations.source", e))?;
        }
        Ok(())
    }

    /// The CAs an `https` key server must chain to: those of `tls.ca_file`
    /// (read now), or the system's trust store (read when first used).
    pub fn trust_roots(&self) -> Result<TrustRoots, PolicyError> {
        match &self.tls.ca_file {
            Some(file) => {
                let path = self.base_dir.join(file);
                TrustRoots::from_pem_file(&path)
                    .map_err(|e| PolicyError::at("tls.ca_file", format!("{}: {e}", path.display())))
            }
            None => Ok(TrustRoots::system()),
        }
    }

    /// How long the first verification waits for the first fetch of a
    /// remote key set (`refresh.first_fetch_timeout_ms`).
    pub fn first_fetch_timeout(&self) -> Duration {
        Duration::from_millis(self.refresh.first_fetch_timeout_ms)
    }
}

/// A policy name fit for a metrics label value and a log field.
fn is_valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

fn with_kid(key: VerifyingKey, kid: Option<&str>, at: &str) -> Result<VerifyingKey, PolicyError> {
    match kid {
        Some(kid) => key.with_kid(kid).map_err(|e| PolicyError::at(at, e)),
        None => Ok(key),
    }
}

/// The value at a dotted `path` of `document`, made (as `null`) when absent;
/// every step but the last must be an object or absent.
fn slot<'a>(document: &'a mut serde_json::Value, path: &str) -> Result<&'a mut serde_json::Value, PolicyError> {
    if path.is_empty() || path.split('.').any(str::is_empty) {
        return Err(PolicyError::at(path, "not a field path"));
    }
    let mut here = document;
    for step in path.split('.') {
        if here.is_null() {
            *here = serde_json::Value::Object(serde_json::Map::new());
        }
        let serde_json::Value::Object(object) = here else {
            return Err(PolicyError::at(path, "not inside an object"));
        };
        here = object.entry(step.to_owned()).or_insert(serde_json::Value::Null);
    }
    Ok(here)
}

/// An inline key set that can verify something; otherwise the error says why
/// its first skipped key was skipped.
fn usable(set: &KeySet) -> Result<(), PolicyError> {
    if !set.is_empty() {
        return Ok(());
    }
    let why = set.skipped().find_map(|info| info.skip_reason()).map(|r| format!(" (key skipped: {r})"));
    Err(PolicyError::at("keys.jwks", format!("no usable key for the policy's algorithms{}", why.unwrap_or_default())))
}

/// A value a required claim must hold, owned: a string, an integer or a
/// boolean (the policy document's `required_claim_values`; see
/// [`jwtv::ClaimValue`] for how a claim holds it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum ClaimValueBuf {
    /// A string.
    String(String),
    /// An integer.
    Integer(i64),
    /// `true` or `false`.
    Bool(bool),
}

impl ClaimValueBuf {
    /// Borrows it for the core.
    pub fn as_claim_value(&self) -> ClaimValue<'_> {
        match self {
            Self::String(s) => ClaimValue::String(s),
            Self::Integer(n) => ClaimValue::Integer(*n),
            Self::Bool(b) => ClaimValue::Bool(*b),
        }
    }
}

impl From<&str> for ClaimValueBuf {
    fn from(s: &str) -> Self {
        Self::String(s.to_owned())
    }
}

impl From<String> for ClaimValueBuf {
    fn from(s: String) -> Self {
        Self::String(s)
    }
}

impl From<i64> for ClaimValueBuf {
    fn from(n: i64) -> Self {
        Self::Integer(n)
    }
}

impl From<bool> for ClaimValueBuf {
    fn from(b: bool) -> Self {
        Self::Bool(b)
    }
}

/// By hand, for errors that say what is wanted (`3.5: a number must be an
/// integer`) where an untagged derive says only that nothing matched.
impl<'de> Deserialize<'de> for ClaimValueBuf {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = ClaimValueBuf;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string, an integer or a boolean")
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<ClaimValueBuf, E> {
                Ok(ClaimValueBuf::String(s.to_owned()))
            }
            fn visit_i64<E: serde::de::Error>(self, n: i64) -> Result<ClaimValueBuf, E> {
                Ok(ClaimValueBuf::Integer(n))
            }
            fn visit_u64<E: serde::de::Error>(self, n: u64) -> Result<ClaimValueBuf, E> {
                i64::try_from(n)
                    .map(ClaimValueBuf::Integer)
                    .map_err(|_| E::custom(format!("{n} is past 64-bit integers")))
            }
            fn visit_f64<E: serde::de::Error>(self, n: f64) -> Result<ClaimValueBuf, E> {
                Err(E::custom(format!("{n}: a number must be an integer")))
            }
            fn visit_bool<E: serde::de::Error>(self, b: bool) -> Result<ClaimValueBuf, E> {
                Ok(ClaimValueBuf::Bool(b))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

/// Pushes the first [`MAX_RULE_LIST_LEN`] entries of `list`, borrowed, onto `lent`
/// (only ever all of them: [`Policy::with_policy`] enforces nothing of a
/// policy with a longer list).
fn lend<'a, T, U>(lent: &mut heapless::Vec<U, MAX_RULE_LIST_LEN>, list: &'a [T], borrow: impl Fn(&'a T) -> U) {
    for item in list.iter().take(MAX_RULE_LIST_LEN) {
        if lent.push(borrow(item)).is_err() {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jwtv::{Claims, Error, Header};

    fn es256() -> Policy {
        Policy::new(AlgorithmSet::of(&[Algorithm::ES256]))
    }

    #[test]
    fn every_list_past_its_bound_is_an_error_naming_it() {
        type Add = fn(Policy, String) -> Policy;
        let adders: [(&str, Add); 5] = [
            ("issuers", |p, s| p.issuer(s)),
            ("audiences", |p, s| p.audience(s)),
            ("required_claims", |p, s| p.require_claim(s)),
            ("required_claim_values", |p, s| p.require_claim_value(s, "v")),
            ("understood_crit", |p, s| p.understood_crit(s)),
        ];
        for (field, add) in adders {
            let at_limit = (0..MAX_RULE_LIST_LEN).fold(es256(), |p, i| add(p, format!("e{i}")));
            assert!(at_limit.check().is_ok(), "{field}: {MAX_RULE_LIST_LEN} entries are fine");
            let over = add(at_limit, "one-too-many".into());
            let err = over.check().expect_err(field);
            assert_eq!((err.field(), err.message()), (field, "at most 32 entries (33 given)"));
        }
    }

    #[test]
    fn a_policy_past_a_bound_is_never_enforced_in_part() {
        // 33 required claims: the 33rd is not dropped, every token is refused.
        let policy = (0..=MAX_RULE_LIST_LEN).fold(es256(), |p, i| p.require_claim(format!("c{i}")));
        let header = Header::from_json(br#"{"alg":"ES256"}"#).unwrap();
        let claims = Claims::from_json(br#"{"exp":4102444800}"#).unwrap();
        assert!(!policy.with_policy(|p| p.allows(Algorithm::ES256)), "no algorithm is allowed");
        let checked = policy.with_policy(|p| p.check(&header, &claims, 1_700_000_000));
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
        assert_eq!(Policy::new(AlgorithmSet::EMPTY).check().unwrap_err().field(), "algorithms");
    }

    #[test]
    fn the_document_round_trips() {
        let mut policy = es256().issuer("https://issuer.example").audience("api").require_claim_value("tenant", "a");
        policy.set("revocations", r#"{"source":"revoked.json","fail_closed":true}"#).unwrap();
        let json = policy.to_json();
        let mut again: Policy = document::read(json.as_bytes()).unwrap();
        again.base_dir = policy.base_dir.clone();
        assert_eq!(again.to_json(), json);
        assert!(json.contains(r#""fail_closed":true"#), "{json}");
        assert!(json.contains(r#""required_claim_values":{"tenant":"a"}"#), "{json}");
    }

    #[test]
    fn fields_are_set_by_path_and_refused_with_it() {
        let mut policy = es256();
        policy.set("leeway_secs", "60").unwrap();
        assert_eq!(policy.leeway(), 60);
        policy.set_string("typ", "at+jwt").unwrap();
        policy.add_string("issuers", "a").unwrap();
        policy.add_string("issuers", "b").unwrap();
        assert_eq!(policy.issuers(), ["a", "b"]);
        policy.set_member("required_claim_values", "tenant", "acme").unwrap();
        let err = policy.set_member("required_claim_values", "tenant", "other").unwrap_err();
        assert_eq!((err.field(), err.message()), ("required_claim_values", "duplicate name `tenant`"));
        for (path, value, field) in [
            ("leeway_secs", "301", "leeway_secs"),
            ("leeway_secs", "-1", "leeway_secs"),
            ("refresh.no_such_field", "1", "refresh.no_such_field"),
            ("no_such_field", "1", "no_such_field"),
            ("algorithms", r#"["none"]"#, "algorithms[0]"),
            ("revocations.fail_closed", "true", "revocations"),
            ("keys.jwks_url", "1", "keys.jwks_url"),
            ("", "1", ""),
            ("leeway_secs", "sixty", "leeway_secs"),
        ] {
            let before = policy.to_json();
            let err = policy.set(path, value).expect_err(path);
            assert_eq!(err.field(), field, "{path} = {value}: {err}");
            assert_eq!(policy.to_json(), before, "a refused change leaves the policy as it was");
        }
        for _ in 0..30 {
            policy.add_string("issuers", "more").unwrap();
        }
        assert_eq!(policy.add_string("issuers", "33rd").unwrap_err().field(), "issuers");
    }

    #[test]
    fn secrets_are_never_in_debug_output() {
        let mut policy = Policy::new(AlgorithmSet::of(&[Algorithm::HS256]));
        policy.add_secret(b"test-key-do-not-use-0123456789abcdef", Algorithm::HS256, None).unwrap();
        let shown = format!("{policy:?}");
        assert!(!shown.contains("dGVzd"), "{shown}");
        assert!(policy.key_source().is_ok());
    }
}
