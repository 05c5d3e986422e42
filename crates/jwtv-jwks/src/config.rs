//! The policy file: one JSON document that states a team's token rules and
//! key source, read by the CLI, the C ABI, Go and the NGINX module alike.
//! `docs/POLICY.md` is the reference.
//!
//! Unknown fields and bad values are errors naming the field's path
//! (`refresh.min_ttl_secs: invalid type: string "60", expected u64`).

use core::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use jwtv::{Algorithm, AlgorithmSet, DEFAULT_LEEWAY_SECS, DEFAULT_MAX_TOKEN_LEN, VerifyingKey};
use serde::Deserialize;

use crate::clock::millis;
use crate::document::{self, UniqueMap};
use crate::file::FileJwks;
use crate::keyset::{DEFAULT_MAX_JWKS_BYTES, DEFAULT_MAX_KEYS, KeySet, KeySetOptions};
use crate::pem::key_from_pem_with;
use crate::refresh::RefreshPolicy;
use crate::remote::RemoteJwks;
use crate::revoke::{DEFAULT_MAX_STALENESS, DEFAULT_REDIS_PREFIX, Freshness, RedisOptions, Revocations};
use crate::rules::Rules;
use crate::source::KeySource;
use crate::verifier::{DEFAULT_FIRST_FETCH_TIMEOUT, Verifier};

/// A policy file that could not be read, or whose key source could not be set up.
#[derive(Debug)]
pub struct ConfigError {
    path: String,
    message: String,
}

impl ConfigError {
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

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() { f.write_str(&self.message) } else { write!(f, "{}: {}", self.path, self.message) }
    }
}

impl std::error::Error for ConfigError {}

/// A parsed policy file. Make one with [`Config::from_json`] or
/// [`Config::from_file`], then [`Config::verifier`].
///
/// ```
/// let json = br#"{
///   "keys": {"jwks": {"keys": [{"kty":"OKP","crv":"Ed25519","kid":"k1","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}},
///   "algorithms": ["EdDSA"],
///   "issuers": ["https://issuer.example"],
///   "audiences": ["api"],
///   "token_cache_size": 10000
/// }"#;
/// let config = jwtv_jwks::Config::from_json(json, ".")?;
/// let verifier = config.verifier()?;
/// assert_eq!(verifier.key_set().map(|set| set.len()), Some(1));
///
/// let err = jwtv_jwks::Config::from_json(br#"{"keys":{"jwks_file":"k.json"},"algorithms":["none"]}"#, ".").unwrap_err();
/// assert_eq!(err.field(), "algorithms[0]");
/// # Ok::<(), jwtv_jwks::ConfigError>(())
/// ```
#[derive(Clone, Debug)]
pub struct Config {
    file: PolicyFile,
    base_dir: PathBuf,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    keys: KeysConfig,
    algorithms: Vec<AlgName>,
    #[serde(default)]
    issuers: Vec<String>,
    #[serde(default)]
    audiences: Vec<String>,
    #[serde(default)]
    ignore_audience: bool,
    #[serde(default)]
    typ: Option<String>,
    #[serde(default = "default_leeway")]
    leeway_secs: u64,
    #[serde(default = "yes")]
    require_exp: bool,
    #[serde(default)]
    max_age_secs: Option<u64>,
    #[serde(default)]
    required_claims: Vec<String>,
    #[serde(default)]
    required_claim_values: UniqueMap<String>,
    #[serde(default)]
    understood_crit: Vec<String>,
    #[serde(default = "default_max_token_len")]
    max_token_len: usize,
    #[serde(default)]
    token_cache_size: usize,
    #[serde(default = "default_max_jwks_bytes")]
    jwks_max_bytes: usize,
    #[serde(default = "default_max_keys")]
    jwks_max_keys: usize,
    #[serde(default)]
    allow_any_rsa_exponent: bool,
    #[serde(default)]
    refresh: RefreshConfig,
    #[serde(default)]
    revocations: Option<RevocationsConfig>,
}

#[derive(Clone, Debug, Deserialize)]
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

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
enum KeysConfig {
    JwksFile(PathBuf),
    JwksUrl(String),
    Jwks(serde_json::Value),
    PemFiles(Vec<KeyFile>),
    SecretFiles(Vec<KeyFile>),
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyFile {
    path: PathBuf,
    alg: AlgName,
    #[serde(default)]
    kid: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
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
            serde::de::Error::custom(format!("unknown algorithm `{name}` (supported: {})", supported.join(", ")))
        })
    }
}

fn default_leeway() -> u64 {
    DEFAULT_LEEWAY_SECS
}
fn yes() -> bool {
    true
}
fn default_max_token_len() -> usize {
    DEFAULT_MAX_TOKEN_LEN
}
fn default_max_jwks_bytes() -> usize {
    DEFAULT_MAX_JWKS_BYTES
}
fn default_max_keys() -> usize {
    DEFAULT_MAX_KEYS
}

impl Config {
    /// Reads a policy file; relative paths inside it are relative to its folder.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, ConfigError> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|e| ConfigError::at("", format!("{}: {e}", path.display())))?;
        let base = path.parent().map_or_else(|| PathBuf::from("."), Path::to_path_buf);
        Self::from_json(&bytes, base)
    }

    /// Reads a policy document; relative paths inside it are relative to `base_dir`.
    pub fn from_json(json: &[u8], base_dir: impl AsRef<Path>) -> Result<Self, ConfigError> {
        let file: PolicyFile = document::read(json).map_err(|e| ConfigError::at(e.path, e.message))?;
        validate(&file)?;
        let config = Self { file, base_dir: base_dir.as_ref().to_path_buf() };
        config.rules().check()?;
        Ok(config)
    }

    /// The token rules the file states.
    pub fn rules(&self) -> Rules {
        let f = &self.file;
        let mut rules = Rules::new(self.algorithms()).leeway_secs(f.leeway_secs).max_token_len(f.max_token_len);
        for issuer in &f.issuers {
            rules = rules.issuer(issuer);
        }
        for audience in &f.audiences {
            rules = rules.audience(audience);
        }
        for claim in &f.required_claims {
            rules = rules.require_claim(claim);
        }
        for (name, value) in &f.required_claim_values.0 {
            rules = rules.require_claim_value(name, value);
        }
        for name in &f.understood_crit {
            rules = rules.understood_crit(name);
        }
        if f.ignore_audience {
            rules = rules.ignore_audience();
        }
        if let Some(typ) = &f.typ {
            rules = rules.typ(typ);
        }
        if !f.require_exp {
            rules = rules.allow_missing_exp();
        }
        if let Some(max_age) = f.max_age_secs {
            rules = rules.max_age_secs(max_age);
        }
        rules
    }

    /// The allowed algorithms.
    pub fn algorithms(&self) -> AlgorithmSet {
        self.file.algorithms.iter().fold(AlgorithmSet::EMPTY, |set, alg| set.with(alg.0))
    }

    /// How JWKS documents are read under this policy.
    pub fn key_set_options(&self) -> KeySetOptions {
        KeySetOptions {
            algorithms: self.algorithms(),
            max_bytes: self.file.jwks_max_bytes,
            max_keys: self.file.jwks_max_keys,
            allow_any_rsa_exponent: self.file.allow_any_rsa_exponent,
        }
    }

    /// The refresh timings of a remote key set.
    pub fn refresh_policy(&self) -> RefreshPolicy {
        let r = &self.file.refresh;
        RefreshPolicy {
            default_ttl: Duration::from_secs(r.default_ttl_secs),
            min_ttl: Duration::from_secs(r.min_ttl_secs),
            max_ttl: Duration::from_secs(r.max_ttl_secs),
            max_stale: Duration::from_secs(r.max_stale_secs),
            unknown_kid_cooldown: Duration::from_secs(r.unknown_kid_cooldown_secs),
            backoff_min: Duration::from_millis(r.backoff_min_ms),
            backoff_max: Duration::from_millis(r.backoff_max_ms),
            fetch_timeout: Duration::from_millis(r.fetch_timeout_ms),
        }
    }

    /// The verified-token cache size (0: no cache).
    pub fn token_cache_size(&self) -> usize {
        self.file.token_cache_size
    }

    /// Sets up the key source the file names: loads the file or PEM keys, or
    /// starts refreshing the URL in the background.
    pub fn key_source(&self) -> Result<KeySource, ConfigError> {
        let options = self.key_set_options();
        match &self.file.keys {
            KeysConfig::JwksFile(path) => {
                let path = self.base_dir.join(path);
                let interval = Duration::from_millis(self.file.refresh.file_check_interval_ms);
                let file = FileJwks::open(&path, options)
                    .map_err(|e| ConfigError::at("keys.jwks_file", format!("{}: {e}", path.display())))?;
                Ok(KeySource::File(std::sync::Arc::new(file.with_check_interval(interval))))
            }
            KeysConfig::JwksUrl(url) => RemoteJwks::new(url, self.refresh_policy(), options)
                .map(KeySource::Remote)
                .map_err(|e| ConfigError::at("keys.jwks_url", e)),
            KeysConfig::Jwks(document) => {
                let set = KeySet::parse(document.to_string().as_bytes(), &options)
                    .map_err(|e| ConfigError::at("keys.jwks", e))?;
                Ok(KeySource::fixed(set))
            }
            KeysConfig::PemFiles(files) => {
                let keys = self.key_files(files, "keys.pem_files", |text, alg| {
                    let pem = std::str::from_utf8(text).map_err(|_| "not UTF-8 text".to_owned())?;
                    key_from_pem_with(pem, alg, &options).map_err(|e| e.to_string())
                })?;
                Ok(KeySource::fixed(KeySet::from_keys(keys)))
            }
            KeysConfig::SecretFiles(files) => {
                let keys = self.key_files(files, "keys.secret_files", |secret, alg| {
                    // A single trailing newline is the file's, not the secret's.
                    let secret = secret.strip_suffix(b"\n").unwrap_or(secret);
                    VerifyingKey::hmac(alg, secret).map_err(|e| e.to_string())
                })?;
                Ok(KeySource::fixed(KeySet::from_keys(keys)))
            }
        }
    }

    fn key_files(
        &self,
        files: &[KeyFile],
        field: &str,
        make: impl Fn(&[u8], Algorithm) -> Result<VerifyingKey, String>,
    ) -> Result<Vec<VerifyingKey>, ConfigError> {
        files
            .iter()
            .enumerate()
            .map(|(i, file)| {
                let at = |msg: String| ConfigError::at(format!("{field}[{i}]"), msg);
                let path = self.base_dir.join(&file.path);
                let bytes = std::fs::read(&path).map_err(|e| at(format!("{}: {e}", path.display())))?;
                let key = make(&bytes, file.alg.0).map_err(|e| at(format!("{}: {e}", path.display())))?;
                match &file.kid {
                    Some(kid) => key.with_kid(kid).map_err(|e| at(e.to_string())),
                    None => Ok(key),
                }
            })
            .collect()
    }

    /// This policy for a host that runs an event loop (an NGINX worker, an
    /// async runtime): making the verifier and verifying never wait for a
    /// key server or a revocation store, whatever
    /// `refresh.first_fetch_timeout_ms` and
    /// `revocations.first_sync_timeout_ms` say. Until the key set has
    /// loaded, verifications give `unavailable` at once.
    #[must_use]
    pub fn never_waiting(mut self) -> Self {
        self.file.refresh.first_fetch_timeout_ms = 0;
        if let Some(r) = &mut self.file.revocations {
            r.first_sync_timeout_ms = 0;
        }
        self
    }

    /// Uses `source` (a file path or a `redis://` URL) as the revocation list,
    /// in place of the file's `revocations.source` (other `revocations`
    /// settings are kept).
    #[must_use]
    pub fn with_revocations_source(mut self, source: impl Into<String>) -> Self {
        let source = source.into();
        match &mut self.file.revocations {
            Some(r) => r.source = source,
            None => {
                self.file.revocations = Some(RevocationsConfig {
                    source,
                    redis_prefix: default_redis_prefix(),
                    resync_secs: default_resync_secs(),
                    first_sync_timeout_ms: default_first_sync_timeout_ms(),
                    fail_closed: false,
                    max_staleness_secs: default_max_staleness_secs(),
                });
            }
        }
        self
    }

    /// The revocation list's source as written (`revocations.source`), if any.
    pub fn revocations_source(&self) -> Option<&str> {
        self.file.revocations.as_ref().map(|r| r.source.as_str())
    }

    /// How a Redis revocation list is synced under this policy.
    pub fn redis_options(&self) -> RedisOptions {
        let mut options = RedisOptions::default();
        if let Some(r) = &self.file.revocations {
            options.prefix.clone_from(&r.redis_prefix);
            options.resync_interval = Duration::from_secs(r.resync_secs);
        }
        options
    }

    /// Opens the revocation list the file names (`None` without one); a
    /// Redis list is waited for up to `revocations.first_sync_timeout_ms`
    /// (then it keeps syncing in the background).
    pub fn revocations(&self) -> Result<Option<Revocations>, ConfigError> {
        let Some(r) = &self.file.revocations else { return Ok(None) };
        let freshness =
            Freshness { fail_closed: r.fail_closed, max_staleness: Duration::from_secs(r.max_staleness_secs) };
        let revocations = Revocations::open(&r.source, &self.base_dir, self.redis_options())
            .map_err(|e| ConfigError::at("revocations.source", e))?
            .with_freshness(freshness);
        revocations.wait_synced(Duration::from_millis(r.first_sync_timeout_ms));
        Ok(Some(revocations))
    }

    /// Checks that the key source can be set up — key files read and valid, a
    /// URL well formed — without starting anything (no fetch, no thread): what
    /// a configuration test (`nginx -t`) needs before worker processes exist.
    pub fn check(&self) -> Result<(), ConfigError> {
        match &self.file.keys {
            KeysConfig::JwksUrl(url) => {
                crate::remote::validate_url(url).map_err(|e| ConfigError::at("keys.jwks_url", e))?;
            }
            _ => self.key_source().map(drop)?,
        }
        if let Some(r) = &self.file.revocations {
            Revocations::check_source(&r.source, &self.base_dir)
                .map_err(|e| ConfigError::at("revocations.source", e))?;
        }
        Ok(())
    }

    /// A server verifier as the file describes it.
    pub fn verifier(&self) -> Result<Verifier, ConfigError> {
        let verifier = Verifier::new(self.key_source()?, self.rules())?
            .with_token_cache(self.file.token_cache_size)
            .with_first_fetch_timeout(Duration::from_millis(self.file.refresh.first_fetch_timeout_ms));
        Ok(match self.revocations()? {
            Some(revocations) => verifier.with_revocations(revocations),
            None => verifier,
        })
    }
}

fn validate(f: &PolicyFile) -> Result<(), ConfigError> {
    if f.algorithms.is_empty() {
        return Err(ConfigError::at("algorithms", "name at least one algorithm"));
    }
    if f.ignore_audience && !f.audiences.is_empty() {
        return Err(ConfigError::at("ignore_audience", "cannot be true when audiences are listed"));
    }
    let r = &f.refresh;
    if r.min_ttl_secs > r.max_ttl_secs {
        return Err(ConfigError::at("refresh.min_ttl_secs", "must not exceed refresh.max_ttl_secs"));
    }
    if r.fetch_timeout_ms == 0 {
        return Err(ConfigError::at("refresh.fetch_timeout_ms", "must be positive"));
    }
    if let Some(r) = &f.revocations {
        if r.resync_secs == 0 {
            return Err(ConfigError::at("revocations.resync_secs", "must be positive"));
        }
        if r.max_staleness_secs == 0 {
            return Err(ConfigError::at("revocations.max_staleness_secs", "must be positive"));
        }
        if r.redis_prefix.is_empty() || r.redis_prefix.contains(char::is_whitespace) {
            return Err(ConfigError::at("revocations.redis_prefix", "must be non-empty, without spaces"));
        }
    }
    if let KeysConfig::PemFiles(files) | KeysConfig::SecretFiles(files) = &f.keys
        && files.is_empty()
    {
        return Err(ConfigError::at("keys", "name at least one key file"));
    }
    Ok(())
}
