//! From the command line to the rules and keys a token is checked against.
//!
//! Without `--policy`, the flags are the whole policy. With it, the file is
//! read by `jwtv_gateway::Policy` (docs/POLICY.md) and the flags change it:
//! `--alg`, `--typ`, `--leeway`, `--jwks` and `--cacert` replace the file's values;
//! `--iss`, `--aud` and `--require` add to the file's lists. `--revocations`
//! replaces the file's `revocations.source`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use jwtv::{Algorithm, AlgorithmSet};
use jwtv_gateway::Policy;
use jwtv_jwks::{FetchCounts, FetchFailure, KeySet, KeySetOptions, KeySource, RefreshPolicy, RemoteJwks, TrustRoots};

use crate::input::read_file;
use crate::revoke::ListSource;
use crate::{CliError, PolicyArgs};

/// Parses an algorithm name for clap (`none` and unknown names are refused).
pub(crate) fn parse_alg(name: &str) -> Result<Algorithm, String> {
    Algorithm::from_name(name).ok_or_else(|| {
        let supported: Vec<&str> = Algorithm::ALL.iter().map(|a| a.name()).collect();
        let why = if name.eq_ignore_ascii_case("none") {
            " (`none` is never accepted)"
        } else if name == "ES512" {
            " (ES512 needs the aws-lc backend: build with --features aws-lc)"
        } else {
            ""
        };
        format!("unknown algorithm {}{why}; supported: {}", crate::human::quote(name), supported.join(", "))
    })
}

/// Where the keys come from.
#[derive(Debug)]
enum KeysFrom {
    /// `--jwks`: a file path or an http(s) URL.
    Jwks(String),
    /// The policy file's `keys`.
    Policy(Box<Policy>),
}

/// The rules and the key source of one run.
#[derive(Debug)]
pub(crate) struct Setup {
    rules: Policy,
    pub(crate) algorithms: AlgorithmSet,
    pub(crate) leeway: u64,
    pub(crate) typ: Option<String>,
    pub(crate) required: Vec<String>,
    pub(crate) issuers: Vec<String>,
    pub(crate) audiences: Vec<String>,
    pub(crate) max_token_len: usize,
    pub(crate) now: u64,
    pub(crate) now_given: bool,
    keys: KeysFrom,
    key_options: KeySetOptions,
    refresh: RefreshPolicy,
    /// The CAs an https key server must chain to.
    pub(crate) trust: TrustRoots,
    pub(crate) timeout: Duration,
    /// The revocation list to check tokens against, if any.
    pub(crate) revocations: Option<ListSource>,
}

impl Setup {
    pub(crate) fn from_args(args: &PolicyArgs) -> Result<Self, CliError> {
        let now = args.now.unwrap_or_else(jwtv_jwks::unix_now);
        let mut rules = match &args.policy {
            Some(path) => {
                Policy::from_file(path).map_err(|e| CliError::new(format!("policy {}: {e}", path.display())))?
            }
            None => Policy::new(AlgorithmSet::ALL),
        };
        // Every flag is a change of the policy document's fields, refused
        // (never cut short) as a server verifier would refuse it.
        let flag = |flag: &'static str| {
            move |e: jwtv_gateway::PolicyError| CliError::new(format!("{} ({flag}): {}", e.field(), e.message()))
        };
        if !args.algs.is_empty() {
            let names: Vec<&str> = args.algs.iter().map(|alg| alg.name()).collect();
            rules.set("algorithms", &serde_json::to_string(&names).unwrap_or_default()).map_err(flag("--alg"))?;
        }
        for issuer in &args.issuers {
            rules.add_string("issuers", issuer).map_err(flag("--iss"))?;
        }
        for audience in &args.audiences {
            rules.add_string("audiences", audience).map_err(flag("--aud"))?;
        }
        for claim in &args.required {
            rules.add_string("required_claims", claim).map_err(flag("--require"))?;
        }
        if let Some(secs) = args.leeway {
            rules.set("leeway_secs", &secs.to_string()).map_err(flag("--leeway"))?;
        }
        if let Some(t) = &args.typ {
            rules.set_string("typ", t).map_err(flag("--typ"))?;
        }
        if let Some(file) = &args.cacert {
            // Relative to where the command runs, not to the policy file.
            let file = std::path::absolute(file).unwrap_or_else(|_| file.clone());
            rules.set_string("tls.ca_file", &file.to_string_lossy()).map_err(flag("--cacert"))?;
        }
        for assignment in &args.set {
            let (path, value) = assignment
                .split_once('=')
                .ok_or_else(|| CliError::new(format!("--set {}: write PATH=JSON", crate::human::quote(assignment))))?;
            rules.set(path, value).map_err(flag("--set"))?;
        }
        rules.check().map_err(flag("--policy"))?;
        let trust = rules.trust_roots().map_err(flag(if args.cacert.is_some() { "--cacert" } else { "--policy" }))?;

        let mut revocations = match (&args.policy, rules.revocations_source()) {
            (Some(path), Some(_)) => ListSource::of_policy(&rules, path),
            (None, Some(source)) => Some(ListSource::given(source, Some(rules.redis_options()))),
            (_, None) => None,
        };
        if let Some(source) = &args.revocations {
            revocations = Some(ListSource::given(source, revocations.map(|r| r.options)));
        }
        let keys = match (&args.jwks, rules.has_key_source()) {
            (Some(jwks), _) => KeysFrom::Jwks(jwks.clone()),
            (None, true) => KeysFrom::Policy(Box::new(rules.clone())),
            (None, false) => {
                return Err(CliError::new("name the keys: --jwks FILE|URL, or a policy file with --policy FILE"));
            }
        };
        let mut required = rules.required_claims().to_vec();
        required.extend(rules.required_claim_values().map(|(name, _)| name.to_owned()));
        let algorithms = rules.algorithms();
        let leeway = rules.leeway();
        let typ = rules.required_typ().map(str::to_owned);
        let key_options = rules.key_set_options();
        let refresh = rules.refresh_policy();
        Ok(Self {
            issuers: rules.issuers().to_vec(),
            audiences: rules.audiences().to_vec(),
            max_token_len: rules.token_len_limit(),
            rules,
            algorithms,
            leeway,
            typ,
            required,
            now,
            now_given: args.now.is_some(),
            keys,
            key_options,
            refresh,
            trust,
            timeout: Duration::from_secs(args.timeout),
            revocations,
        })
    }

    /// Lends the rules to the core as a [`jwtv::Policy`].
    pub(crate) fn with_policy<R>(&self, f: impl FnOnce(&jwtv::Policy<'_>) -> R) -> R {
        let algorithms = self.algorithms;
        self.rules.with_policy(|policy| f(&policy.algorithms(algorithms)))
    }

    /// The allowed algorithms, for messages.
    pub(crate) fn algorithm_names(&self) -> String {
        let names: Vec<&str> = self.algorithms.iter().map(|a| a.name()).collect();
        if self.algorithms == AlgorithmSet::ALL { "any supported".to_owned() } else { names.join(", ") }
    }

    /// Opens the revocation list (`None` without one), waiting up to
    /// `--timeout` for a Redis list's first sync; whether it synced is the
    /// caller's to look at.
    pub(crate) fn open_revocations(&self) -> Result<Option<jwtv_gateway::Revocations>, CliError> {
        self.revocations.as_ref().map(|source| source.open_and_wait(false, self.timeout)).transpose()
    }

    /// Loads (or fetches) the key set.
    pub(crate) fn load_keys(&self) -> Result<Loaded, KeyLoadError> {
        match &self.keys {
            KeysFrom::Jwks(location) if is_url(location) => {
                let remote = RemoteJwks::with_trust(location, self.refresh, self.key_options, &self.trust)
                    .map_err(|e| KeyLoadError::plain(e.to_string()))?;
                fetch(location, remote, self.timeout)
            }
            KeysFrom::Jwks(path) => {
                let mut bytes = read_file(path).map_err(|e| KeyLoadError::plain(e.0))?;
                if bytes.trim_ascii_start().starts_with(b"-----BEGIN") {
                    // A PEM public key: read as the one key of a JWKS.
                    let pem = String::from_utf8_lossy(&bytes);
                    let jwk = jwtv_jwks::jwk_from_pem(&pem).map_err(|e| KeyLoadError::plain(format!("{path}: {e}")))?;
                    bytes = format!(r#"{{"keys":[{jwk}]}}"#).into_bytes();
                }
                let set = KeySet::parse(&bytes, &self.key_options)
                    .map_err(|e| KeyLoadError::plain(format!("{path}: {e}")))?;
                Ok(Loaded { set: Arc::new(set), origin: Origin::File(path.clone()) })
            }
            KeysFrom::Policy(config) => {
                let source = config.key_source().map_err(|e| KeyLoadError::plain(e.to_string()))?;
                match source {
                    KeySource::Remote(remote) => {
                        let url = remote.url().to_owned();
                        fetch(&url, remote, self.timeout)
                    }
                    KeySource::File(file) => {
                        let (set, _) = file.current();
                        Ok(Loaded { set, origin: Origin::File(file.path().display().to_string()) })
                    }
                    other => match other.current(self.timeout) {
                        Some((set, _)) => Ok(Loaded { set, origin: Origin::Inline }),
                        None => Err(KeyLoadError::plain("no key set".to_owned())),
                    },
                }
            }
        }
    }
}

pub(crate) fn is_url(location: &str) -> bool {
    let lower = location.to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://")
}

/// A loaded key set and where it came from.
#[derive(Debug)]
pub(crate) struct Loaded {
    pub(crate) set: Arc<KeySet>,
    pub(crate) origin: Origin,
}

/// Where a key set came from, with what the doctor reports about it.
#[derive(Debug)]
pub(crate) enum Origin {
    File(String),
    Url(RemoteReport),
    Inline,
}

/// What one fetch of a JWKS URL showed.
#[derive(Debug)]
pub(crate) struct RemoteReport {
    pub(crate) url: String,
    pub(crate) latency: Duration,
    pub(crate) cache_secs: Option<u64>,
    pub(crate) fetches: FetchCounts,
    pub(crate) last_failure: Option<FetchFailure>,
    pub(crate) skew_ms: Option<i64>,
}

impl Origin {
    pub(crate) fn describe(&self) -> String {
        match self {
            Self::File(path) => format!("file {path}"),
            Self::Url(report) => report.url.clone(),
            Self::Inline => "the policy file".to_owned(),
        }
    }
}

/// A key set that could not be loaded.
#[derive(Debug)]
pub(crate) struct KeyLoadError {
    pub(crate) message: String,
    pub(crate) remote: Option<Box<RemoteReport>>,
}

impl KeyLoadError {
    fn plain(message: String) -> Self {
        Self { message, remote: None }
    }
}

/// Waits for the first fetch of `remote` (success, failure or `timeout`).
fn fetch(url: &str, remote: RemoteJwks, timeout: Duration) -> Result<Loaded, KeyLoadError> {
    let started = Instant::now();
    let ready = loop {
        if let Some(found) = remote.wait_ready(Duration::from_millis(20)) {
            break Some(found);
        }
        let status = remote.status();
        if status.fetches.total() > 0 || started.elapsed() >= timeout {
            break None;
        }
    };
    let elapsed = started.elapsed();
    let status = remote.status();
    let date = remote.last_server_date();
    let mut fetches = status.fetches;
    if ready.is_none() && fetches.total() == 0 {
        // The fetch waited for is still unanswered after --timeout: a timeout.
        fetches.timeouts = fetches.timeouts.saturating_add(1);
    }
    let report = RemoteReport {
        url: url.to_owned(),
        latency: date.map_or(elapsed, |d| d.round_trip),
        cache_secs: status.fresh_until.zip(status.fetched_at).map(|(until, at)| until.saturating_sub(at) / 1000),
        fetches,
        last_failure: status.last_failure,
        skew_ms: date.map(|d| d.estimated_skew_ms()),
    };
    match ready {
        Some((set, _)) => Ok(Loaded { set, origin: Origin::Url(report) }),
        None => {
            let why = match report.last_failure {
                Some(failure) => failure.to_string(),
                None => format!("no answer within {} s", timeout.as_secs()),
            };
            Err(KeyLoadError { message: format!("cannot fetch {url}: {why}"), remote: Some(Box::new(report)) })
        }
    }
}
