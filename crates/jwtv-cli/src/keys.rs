//! `jwtv keys`: the keys of a JWKS, their thumbprints and what is wrong with them.

use core::fmt::Write as _;

use clap::Args;
use jwtv::AlgorithmSet;
use jwtv_jwks::{KeyInfo, KeySet, SkipReason};
use serde_json::json;

use crate::human::{self, Style, inert, plural, quote, shown};
use crate::setup::{Origin, Setup, parse_alg};
use crate::{CliError, EXIT_OK, EXIT_REJECTED, Outcome, PolicyArgs};

#[derive(Debug, Args)]
pub(crate) struct KeysArgs {
    /// A JWKS file, a PEM public key file (`BEGIN PUBLIC KEY`, `BEGIN RSA PUBLIC KEY`)
    /// or an http(s) URL.
    #[arg(value_name = "FILE|URL")]
    location: String,
    /// Read the set as a verifier allowing only these algorithms would (repeatable).
    #[arg(long = "alg", value_name = "ALG", value_parser = parse_alg)]
    algs: Vec<jwtv::Algorithm>,
    /// How long to wait for a URL, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 5)]
    timeout: u64,
    /// The CA certificates (PEM) an https URL must chain to, in place of the
    /// system's trust store.
    #[arg(long, value_name = "FILE")]
    cacert: Option<std::path::PathBuf>,
    /// Print one JSON object: {"source", "usable", "keys": [{"kid", "kty", "crv", "alg", "use", "bits", "thumbprint", "usable", "skip_reason", "warnings"}]},
    /// and for a URL "fetch": {"status", "latency_ms", "cache_secs", "skew_ms"}.
    #[arg(long)]
    pub(crate) json: bool,
}

/// Every warning for a key: the set's own, plus the reason it is skipped.
pub(crate) fn warnings(info: &KeyInfo, set: &KeySet) -> Vec<String> {
    let mut warnings: Vec<String> = Vec::new();
    if let Some(reason) = info.skip_reason() {
        let prefix = match reason {
            SkipReason::WeakKey => "weak key",
            SkipReason::DuplicateKid => "duplicate kid",
            SkipReason::NotForSignatures => "not for signatures",
            SkipReason::NoAlgorithm => "missing alg",
            _ => "skipped",
        };
        warnings.push(format!("{prefix}: {}", inert(&reason.to_string())));
    }
    warnings.extend(info.warnings().into_iter().map(|warning| inert(warning).into_owned()));
    if info.is_usable()
        && let Some(kid) = info.kid.as_deref().filter(|kid| set.duplicate_kids().contains(kid))
    {
        warnings.push(format!("duplicate kid {}: other keys with this kid are skipped", quote(kid)));
    }
    warnings
}

/// `EC P-256`, `RSA`: the key's members as the JWKS has them ([`shown`]).
pub(crate) fn kty_crv(info: &KeyInfo) -> String {
    match (&info.kty, &info.crv) {
        (Some(kty), Some(crv)) => format!("{} {}", shown(kty), shown(crv)),
        (Some(kty), None) => shown(kty),
        _ => "?".to_owned(),
    }
}

pub(crate) fn run(args: &KeysArgs) -> Outcome {
    let policy = PolicyArgs {
        jwks: Some(args.location.clone()),
        policy: None,
        algs: args.algs.clone(),
        issuers: Vec::new(),
        audiences: Vec::new(),
        leeway: None,
        now: None,
        typ: None,
        required: Vec::new(),
        revocations: None,
        set: Vec::new(),
        cacert: args.cacert.clone(),
        timeout: args.timeout,
    };
    let setup = Setup::from_args(&policy)?;
    let loaded = setup.load_keys().map_err(|e| CliError::new(e.message))?;
    let set = &loaded.set;
    let mut out = String::new();
    if args.json {
        let keys: Vec<_> = set
            .entries()
            .iter()
            .map(|info| {
                json!({
                    "kid": info.kid, "kty": info.kty, "crv": info.crv,
                    "alg": info.algorithm.map(|a| a.name()).or(info.alg.as_deref()),
                    "use": info.key_use, "bits": info.bits, "thumbprint": info.thumbprint,
                    "usable": info.is_usable(), "skip_reason": info.skip_reason().map(SkipReason::code),
                    "warnings": warnings(info, set),
                })
            })
            .collect();
        let mut doc = json!({"source": loaded.origin.describe(), "usable": set.len(), "keys": keys});
        if let Origin::Url(report) = &loaded.origin {
            // What the human output says of the fetch, and the server's clock.
            doc["fetch"] = json!({
                "status": 200,
                "latency_ms": u64::try_from(report.latency.as_millis()).unwrap_or(u64::MAX),
                "cache_secs": report.cache_secs,
                "skew_ms": report.skew_ms,
            });
        }
        let _ = writeln!(out, "{}", human::json(&doc));
    } else {
        let style = Style::detect();
        let _ = writeln!(
            out,
            "{}: {}, {} usable",
            inert(&loaded.origin.describe()),
            plural(set.entries().len(), "key"),
            set.len()
        );
        if let Origin::Url(report) = &loaded.origin {
            let cache = report.cache_secs.map(|s| format!(", cache lifetime {s} s")).unwrap_or_default();
            let _ = writeln!(out, "fetched: HTTP 200 in {} ms{cache}", report.latency.as_millis());
        }
        for info in set.entries() {
            let status = if info.is_usable() { style.green("usable") } else { style.red("SKIPPED") };
            let alg = match (info.algorithm, &info.alg) {
                (Some(a), _) if info.alg_inferred => format!("{a} (inferred)"),
                (Some(a), _) => a.name().to_owned(),
                (None, Some(alg)) => shown(alg),
                (None, None) => "-".to_owned(),
            };
            let _ = writeln!(
                out,
                "#{} kid {}  {}  alg {alg}  use {}  {}  {status}",
                info.index,
                info.kid.as_deref().map_or("(none)".to_owned(), quote),
                kty_crv(info),
                info.key_use.as_deref().map_or("-".to_owned(), shown),
                info.bits.map_or("-".to_owned(), |b| format!("{b} bits")),
            );
            let _ = writeln!(out, "   thumbprint {}", info.thumbprint.as_deref().map_or("-".into(), inert));
            for warning in warnings(info, set) {
                let _ = writeln!(out, "   {} {warning}", style.yellow("warning:"));
            }
        }
        if setup.algorithms != AlgorithmSet::ALL {
            let _ = writeln!(out, "(read with algorithms: {})", setup.algorithm_names());
        }
    }
    Ok((if set.is_empty() { EXIT_REJECTED } else { EXIT_OK }, out))
}
