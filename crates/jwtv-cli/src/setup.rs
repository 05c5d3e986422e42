//! From the command line to the rules and keys a token is checked against.
//!
//! Without `--policy`, the flags are the whole policy. With it, the file is
//! read by `jwtv_jwks::Policy` (docs/POLICY.md) and the flags change it:
//! `--alg`, `--typ`, `--leeway` and `--jwks` replace the file's values;
//! `--iss`, `--aud` and `--require` add to the file's lists. `--revocations`
//! replaces the file's `revocations.source`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use jwtv::{Algorithm, AlgorithmSet, DEFAULT_LEEWAY_SECS};
use jwtv_jwks::{FetchCounts, FetchFailure, KeySet, KeySetOptions, KeySource, Policy, RefreshPolicy, RemoteJwks};

use crate::input::read_file;
use crate::revoke::ListSource;
use crate::{CliError, PolicyArgs};

/// Parses an algorithm name for clap (`none` and unknown names are refused).
pub(crate) fn parse_alg(name: &str) -> Result<Algorithm, String> {
    Algorithm::from_name(name).ok_or_else(|| {
        let supported: Vec<&str> = Algorithm::ALL.iter().map(|a| a.name()).collect();
        let none = if name.eq_ignore_ascii_case("none") { " (`none` is never accepted)" } else { "" };
        format!("unknown algorithm {}{none}; supported: {}", crate::human::quote(name), supported.join(", "))
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
    pub(crate) timeout: Duration,
    /// The revocation list to check tokens against, if any.
    pub(crate) revocations: Option<ListSource>,
}

impl Setup {
    pub(crate) fn from_args(args: &PolicyArgs) -> Result<Self, CliError> {
        let now = args.now.unwrap_or_else(jwtv::now);
        let mut revocations = None;
        let (mut rules, file_algorithms, mut leeway, mut typ, mut required, key_options, refresh, keys) =
            match &args.policy {
                Some(path) => {
                    let shown = path.display();
                    let config = Policy::from_file(path).map_err(|e| CliError::new(format!("policy {shown}: {e}")))?;
                    revocations = ListSource::of_policy(&config, path);
                    let keys = match &args.jwks {
                        Some(jwks) => KeysFrom::Jwks(jwks.clone()),
                        None => KeysFrom::Policy(Box::new(config.clone())),
                    };
                    let mut required = config.required_claims().to_vec();
                    required.extend(config.required_claim_values().map(|(name, _)| name.to_owned()));
                    (
                        config.clone(),
                        config.algorithms(),
                        config.leeway(),
                        config.required_typ().map(str::to_owned),
                        required,
                        config.key_set_options(),
                        config.refresh_policy(),
                        keys,
                    )
                }
                None => {
                    let jwks = args.jwks.clone().ok_or_else(|| {
                        CliError::new("name the keys: --jwks FILE|URL, or a policy file with --policy FILE")
                    })?;
                    let all = AlgorithmSet::ALL;
                    (
                        Policy::new(all),
                        all,
                        DEFAULT_LEEWAY_SECS,
                        None,
                        Vec::new(),
                        KeySetOptions::for_algorithms(all),
                        RefreshPolicy::default(),
                        KeysFrom::Jwks(jwks),
                    )
                }
            };
        if let Some(source) = &args.revocations {
            revocations = Some(ListSource::given(source, revocations.map(|r| r.options)));
        }
        let algorithms = if args.algs.is_empty() { file_algorithms } else { AlgorithmSet::of(&args.algs) };
        let mut key_options = key_options;
        key_options.algorithms = algorithms;
        for issuer in &args.issuers {
            rules = rules.issuer(issuer);
        }
        for audience in &args.audiences {
            rules = rules.audience(audience);
        }
        for claim in &args.required {
            rules = rules.require_claim(claim);
            required.push(claim.clone());
        }
        if let Some(secs) = args.leeway {
            rules = rules.leeway_secs(secs);
            leeway = secs;
        }
        if let Some(t) = &args.typ {
            rules = rules.typ(t);
            typ = Some(t.clone());
        }
        // As a server verifier would: a list past its bound is refused, never cut short.
        rules.check().map_err(|e| {
            let flags = match e.field() {
                "issuers" => " (--iss)",
                "audiences" => " (--aud)",
                "required_claims" => " (--require)",
                "leeway_secs" => " (--leeway)",
                _ => "",
            };
            CliError::new(format!("{}{flags}: {}", e.field(), e.message()))
        })?;
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
    pub(crate) fn open_revocations(&self) -> Result<Option<jwtv_jwks::Revocations>, CliError> {
        self.revocations.as_ref().map(|source| source.open_and_wait(false, self.timeout)).transpose()
    }

    /// Loads (or fetches) the key set.
    pub(crate) fn load_keys(&self) -> Result<Loaded, KeyLoadError> {
        match &self.keys {
            KeysFrom::Jwks(location) if is_url(location) => {
                let remote = RemoteJwks::new(location, self.refresh, self.key_options)
                    .map_err(|e| KeyLoadError::plain(e.to_string()))?;
                fetch(location, remote, self.timeout)
            }
            KeysFrom::Jwks(path) => {
                let bytes = read_file(path).map_err(|e| KeyLoadError::plain(e.0))?;
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
