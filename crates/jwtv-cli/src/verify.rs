//! `jwtv verify`: the verdict, with the claims or the reason.

use core::fmt::Write as _;

use clap::Args;
use jwtv::{Algorithm, Error, buffer_len_for};
use jwtv_jwks::{KeySet, Revocations};
use serde_json::{Value, json};

use crate::explain::{self, Context};
use crate::input::{Lenient, read_token};
use crate::revoke::unsynced;
use crate::setup::Setup;
use crate::{CliError, EXIT_OK, EXIT_REJECTED, Outcome, PolicyArgs};

#[derive(Debug, Args)]
pub(crate) struct VerifyArgs {
    /// The token, a file holding it, or `-` for stdin.
    #[arg(value_name = "TOKEN")]
    token: String,
    #[command(flatten)]
    policy: PolicyArgs,
    /// Print exactly one JSON object: {"valid": true, "header": …, "claims": …} or
    /// {"valid": false, "error": {"code", "message", "detail"}}. Usage errors (exit 2)
    /// print nothing on stdout.
    #[arg(long)]
    json: bool,
}

/// The core's verdict, owned.
#[derive(Debug)]
pub(crate) enum Verdict {
    Valid { alg: Algorithm, header: Vec<u8>, claims: Vec<u8> },
    Rejected { error: Error, detail: Option<String> },
}

/// Verifies `token` with the core's verifier over `set` and the setup's
/// rules, then, as a server verifier does, against the revocation list.
pub(crate) fn verify_token(setup: &Setup, set: &KeySet, token: &str, revocations: Option<&Revocations>) -> Verdict {
    let len = token.len().min(setup.max_token_len.saturating_add(4));
    let mut buf = vec![0u8; buffer_len_for(len).max(64)];
    setup.with_policy(|policy| {
        let checked = set.verifier(*policy).verify(token, setup.now, &mut buf).and_then(|verified| {
            if let Some(revocations) = revocations {
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
    let loaded = setup.load_keys().map_err(|e| CliError::new(e.message))?;
    let revocations = setup.open_revocations()?;
    if let Some(list) = &revocations {
        // A verdict against a list that never synced would be a guess.
        if !list.wait_synced(core::time::Duration::ZERO) {
            return Err(CliError::new(unsynced(&list.status(), setup.timeout)));
        }
    }
    let verdict = verify_token(&setup, &loaded.set, &input.token, revocations.as_ref());
    let mut out = String::new();
    match verdict {
        Verdict::Valid { alg, header, claims } => {
            let header: Value = serde_json::from_slice(&header).unwrap_or_default();
            let claims: Value = serde_json::from_slice(&claims).unwrap_or_default();
            if args.json {
                let _ = writeln!(out, r#"{{"valid":true,"header":{header},"claims":{claims}}}"#);
            } else {
                let kid = header.get("kid").and_then(Value::as_str).map(|k| format!(", key {k:?}")).unwrap_or_default();
                let _ = writeln!(out, "valid: {alg} signature{kid}; every check passed");
                let _ = writeln!(out, "{}", serde_json::to_string_pretty(&claims).unwrap_or_default());
            }
            Ok((EXIT_OK, out))
        }
        Verdict::Rejected { error, detail } => {
            let code = error.code();
            if args.json {
                let error = json!({"code": code.as_str(), "message": code.message(), "detail": detail});
                let _ = writeln!(out, r#"{{"valid":false,"error":{error}}}"#);
            } else {
                let lenient = Lenient::decode(&input.token);
                let snapshot = revocations.as_ref().map(Revocations::snapshot);
                let ctx = Context {
                    setup: &setup,
                    token: &input.token,
                    lenient: &lenient,
                    keys: Some(&loaded.set),
                    revocations: snapshot.as_ref(),
                };
                let _ = writeln!(out, "rejected: {} ({})", code.as_str(), code.message());
                let _ = writeln!(out, "reason: {}", explain::reason(error, detail.as_deref(), &ctx));
                let _ = writeln!(out, "what to do: {}", explain::todo_for(error));
                let _ = writeln!(out, "every check in order: run `jwtv doctor` with the same arguments");
            }
            Ok((EXIT_REJECTED, out))
        }
    }
}
