//! `jwtv verify`: the verdict, with the claims or the reason.

use core::fmt::Write as _;
use core::time::Duration;

use clap::Args;
use jwtv::{Algorithm, Dependency, Error, buffer_len_for};
use jwtv_gateway::Revocations;
use jwtv_jwks::KeySet;
use serde_json::{Value, json};

use crate::explain::{self, Context};
use crate::human::{self, quote};
use crate::input::{Lenient, read_token};
use crate::revoke::unsynced;
use crate::setup::Setup;
use crate::{CliError, EXIT_OK, EXIT_REJECTED, EXIT_UNDETERMINED, Outcome, PolicyArgs};

#[derive(Debug, Args)]
pub(crate) struct VerifyArgs {
    /// The token, a file holding it, or `-` for stdin.
    #[arg(value_name = "TOKEN")]
    token: String,
    #[command(flatten)]
    policy: PolicyArgs,
    /// Print exactly one JSON object: {"valid": true, "header": …, "claims": …} or
    /// {"valid": false, "error": {"code", "message", "detail"}}; code `unavailable`
    /// (exit 2) when a key set or revocation list the policy needs cannot be reached.
    /// Usage errors (exit 2) print nothing on stdout.
    #[arg(long)]
    pub(crate) json: bool,
}

/// The core's verdict, owned.
#[derive(Debug)]
pub(crate) enum Verdict {
    Valid { alg: Algorithm, header: Vec<u8>, claims: Vec<u8> },
    Rejected { error: Error, detail: Option<String> },
}

impl Verdict {
    /// No verdict: `dependency` was needed and is unavailable.
    pub(crate) fn unavailable(dependency: Dependency) -> Self {
        Self::Rejected { error: Error::Unavailable(dependency), detail: Some(dependency.as_str().to_owned()) }
    }

    /// True when a check the policy requires could not run (`unavailable`):
    /// the token was neither accepted nor rejected.
    pub(crate) fn is_undetermined(&self) -> bool {
        matches!(self, Self::Rejected { error: Error::Unavailable(_), .. })
    }

    /// 0 valid, 1 rejected, 2 undetermined.
    pub(crate) fn exit_code(&self) -> u8 {
        match self {
            Self::Valid { .. } => EXIT_OK,
            _ if self.is_undetermined() => EXIT_UNDETERMINED,
            Self::Rejected { .. } => EXIT_REJECTED,
        }
    }
}

/// Verifies `token` with the core's verifier over `set` and the setup's
/// rules, then, as a server verifier does, against the revocation list: a
/// list that never synced cannot clear a token (`unavailable`).
pub(crate) fn verify_token(setup: &Setup, set: &KeySet, token: &str, revocations: Option<&Revocations>) -> Verdict {
    let len = token.len().min(setup.max_token_len.saturating_add(4));
    let mut buf = vec![0u8; buffer_len_for(len).max(64)];
    setup.with_policy(|policy| {
        let checked = set.verifier(*policy).verify(token, setup.now, &mut buf).and_then(|verified| {
            if let Some(revocations) = revocations {
                if !revocations.wait_synced(Duration::ZERO) {
                    return Err(Error::Unavailable(Dependency::Revocations));
                }
                let key_kid = set.keys().get(verified.key_index()).and_then(|key| key.kid());
                revocations.check(verified.header(), verified.claims(), key_kid, setup.now)?;
            }
            Ok(verified)
        });
        match checked {
            Ok(verified) => Verdict::Valid {
                alg: verified.algorithm(),
                header: verified.header().raw_json().to_vec(),
                claims: verified.claims().raw_json().to_vec(),
            },
            Err(error) => {
                let detail = error.detail().or_else(|| error.field().and_then(|f| policy.field_name(f)));
                Verdict::Rejected { error, detail: detail.map(str::to_owned) }
            }
        }
    })
}

pub(crate) fn run(args: &VerifyArgs) -> Outcome {
    let input = read_token(&args.token)?;
    let setup = Setup::from_args(&args.policy)?;
    // A key file that cannot be read is a usage error; a key server that
    // does not answer leaves the token undetermined.
    let loaded = match setup.load_keys() {
        Ok(loaded) => Ok(loaded),
        Err(e) if e.remote.is_some() => Err(e.message),
        Err(e) => return Err(CliError::new(e.message)),
    };
    let revocations = setup.open_revocations()?;
    let (verdict, unavailable) = match &loaded {
        Ok(loaded) => {
            let verdict = verify_token(&setup, &loaded.set, &input.token, revocations.as_ref());
            let why = match (&verdict, &revocations) {
                (Verdict::Rejected { error: Error::Unavailable(Dependency::Revocations), .. }, Some(list)) => {
                    Some(unsynced(&list.status(), setup.timeout))
                }
                _ => None,
            };
            (verdict, why)
        }
        Err(why) => (Verdict::unavailable(Dependency::Keys), Some(why.clone())),
    };
    let code = verdict.exit_code();
    let mut out = String::new();
    match verdict {
        Verdict::Valid { alg, header, claims } => {
            let header: Value = serde_json::from_slice(&header).unwrap_or_default();
            let claims: Value = serde_json::from_slice(&claims).unwrap_or_default();
            if args.json {
                let line = format!(r#"{{"valid":true,"header":{header},"claims":{claims}}}"#);
                let _ = writeln!(out, "{}", human::inert(&line));
            } else {
                let kid = header
                    .get("kid")
                    .and_then(Value::as_str)
                    .map(|k| format!(", key {}", quote(k)))
                    .unwrap_or_default();
                let _ = writeln!(out, "valid: {alg} signature{kid}; every check passed");
                let _ = writeln!(out, "{}", human::json_pretty(&claims));
            }
        }
        Verdict::Rejected { error, detail } => {
            let code = error.code();
            if args.json {
                let error = json!({"code": code.as_str(), "message": code.message(), "detail": detail});
                let line = format!(r#"{{"valid":false,"error":{error}}}"#);
                let _ = writeln!(out, "{}", human::inert(&line));
            } else {
                let lenient = Lenient::decode(&input.token);
                let snapshot = revocations.as_ref().map(Revocations::snapshot);
                let ctx = Context {
                    setup: &setup,
                    token: &input.token,
                    lenient: &lenient,
                    keys: loaded.as_ref().ok().map(|l| l.set.as_ref()),
                    revocations: snapshot.as_ref(),
                    unavailable: unavailable.as_deref(),
                };
                let verdict = if matches!(error, Error::Unavailable(_)) { "undetermined" } else { "rejected" };
                let _ = writeln!(out, "{verdict}: {} ({})", code.as_str(), code.message());
                let _ = writeln!(out, "reason: {}", explain::reason(error, detail.as_deref(), &ctx));
                let _ = writeln!(out, "what to do: {}", explain::todo_for(error));
                let _ = writeln!(out, "every check in order: run `jwtv doctor` with the same arguments");
            }
        }
    }
    Ok((code, out))
}
