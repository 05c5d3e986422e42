//! `jwtv doctor`: the runbook, in order, on one token. Each step says ✔ or ✘
//! (or ? when it could not run), why in one line, and what to do; the first
//! failing step is the answer. The verdict is always the core verifier's,
//! followed by the revocation list's check as a server verifier runs it: a
//! check the policy requires that could not run (the key set or the list
//! unavailable) leaves it undetermined, exit 2, never valid.

use core::fmt::Write as _;

use core::time::Duration;

use clap::Args;
use jwtv::{Algorithm, Dependency, Error, ErrorCode, Header, buffer_len_for};
use jwtv_gateway::{RevocationList, Revocations};
use serde_json::json;

use crate::explain::{self, Context, date_claim};
use crate::human::{self, Style, inert, plural, quote, quoted_list, relative, span, token_label, utc};
use crate::input::{Lenient, Segment, read_token};
use crate::inspect::structural_problems;
use crate::revoke::{counts, unsynced, where_};
use crate::setup::{KeyLoadError, Loaded, Origin, RemoteReport, Setup};
use crate::verify::{Verdict, verify_token};
use crate::{Outcome, PolicyArgs};

#[derive(Debug, Args)]
pub(crate) struct DoctorArgs {
    /// The token, a file holding it, or `-` for stdin.
    #[arg(value_name = "TOKEN", required_unless_present = "metrics")]
    token: Option<String>,
    /// Diagnose a gateway instead of a token: read its Prometheus metrics at
    /// URL twice, --interval apart, and name the incident patterns they show
    /// (key server outage, rotation in progress, clock skew, expired-token
    /// storm, revocation lag), each with its runbook section. Exit 0: none; 1: some.
    #[arg(long, value_name = "URL", conflicts_with = "token")]
    metrics: Option<String>,
    /// Seconds between the two reads of --metrics.
    #[arg(long, value_name = "SECS", default_value_t = 5, requires = "metrics")]
    interval: u64,
    #[command(flatten)]
    policy: PolicyArgs,
    /// Print one JSON object: {"valid", "verdict", "code", "first_failing_step", "steps": [{"step", "name", "status", "summary", "notes", "todo"}]};
    /// verdict is valid, rejected or undetermined, a step's status pass, fail, skipped or unavailable.
    #[arg(long)]
    pub(crate) json: bool,
}

/// The skew between this host and the key server that deserves a warning.
const SKEW_WARN_MS: i64 = 5_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Status {
    Pass,
    Fail,
    Skipped,
    /// The check is configured but could not run (key set, revocation list).
    Unavailable,
}

#[derive(Debug)]
struct Step {
    name: &'static str,
    status: Status,
    summary: String,
    notes: Vec<String>,
    todo: Option<String>,
}

impl Step {
    fn pass(name: &'static str, summary: impl Into<String>) -> Self {
        Self { name, status: Status::Pass, summary: summary.into(), notes: Vec::new(), todo: None }
    }

    fn fail(name: &'static str, summary: impl Into<String>, todo: impl Into<String>) -> Self {
        Self { name, status: Status::Fail, summary: summary.into(), notes: Vec::new(), todo: Some(todo.into()) }
    }

    fn skipped(name: &'static str, why: &str) -> Self {
        Self { name, status: Status::Skipped, summary: format!("not checked: {why}"), notes: Vec::new(), todo: None }
    }

    fn unavailable(name: &'static str, why: &str, todo: &str) -> Self {
        Self {
            name,
            status: Status::Unavailable,
            summary: format!("could not run: {why}"),
            notes: Vec::new(),
            todo: Some(todo.to_owned()),
        }
    }

    fn note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }
}

/// The core's checks of header and claims (without signature), by code.
fn claim_failures(setup: &Setup, lenient: &Lenient) -> Option<Vec<(Error, Option<String>)>> {
    let header = Header::from_json(lenient.header_bytes()?).ok()?;
    let claims = jwtv::Claims::from_json(lenient.claims_bytes()?).ok()?;
    Some(setup.with_policy(|policy| {
        policy
            .check_all(&header, &claims, setup.now)
            .as_slice()
            .iter()
            .map(|e| (*e, e.detail().or_else(|| e.field().and_then(|f| policy.field_name(f))).map(str::to_owned)))
            .collect()
    }))
}

/// The signature-only verdict: structure, alg, crit, key selection,
/// signature; the `kid` of the key that verified it.
fn signature_check<'a>(setup: &Setup, loaded: &'a Loaded, token: &str) -> Result<Option<&'a str>, Error> {
    let len = token.len().min(setup.max_token_len.saturating_add(4));
    let mut buf = vec![0u8; buffer_len_for(len).max(64)];
    let index =
        setup.with_policy(|policy| loaded.set.verifier(*policy).verify_jws(token, &mut buf).map(|v| v.key_index()))?;
    Ok(loaded.set.keys().get(index).and_then(|key| key.kid()))
}

fn step_token(token: &str, lenient: &Lenient, setup: &Setup) -> Step {
    let name = "token";
    if token.is_empty() {
        return Step::fail(
            name,
            "no token: the input is empty",
            "check that the client sends `Authorization: Bearer <token>` and that a proxy does not strip it",
        );
    }
    if token.len() > setup.max_token_len {
        return Step::fail(
            name,
            format!("{} bytes, over the limit of {}", token.len(), setup.max_token_len),
            explain::todo(ErrorCode::TooLarge),
        );
    }
    match lenient.segments {
        3 => Step::pass(name, format!("looks like a signed JWT (JWS): 3 segments, {}", token_label(token))),
        5 => Step::fail(
            name,
            "an encrypted token (JWE, 5 segments): jwtv verifies signed tokens (JWS) only",
            "this API expects signed access tokens: check the client's token type or the issuer's encryption setting",
        ),
        1 => Step::fail(
            name,
            "an opaque token (no dots): not a JWT",
            "opaque tokens are checked at the issuer (token introspection, RFC 7662), not with a key set; or the client sent a session id",
        ),
        n => Step::fail(
            name,
            format!("{n} segments: not a compact JWS (header.payload.signature)"),
            "the token was truncated or joined when copied: check quoting and length limits on the way",
        ),
    }
}

fn step_structure(token: &str, lenient: &Lenient, problems: &[String]) -> Step {
    let name = "structure";
    if problems.is_empty() {
        let sig = match lenient.signature {
            Some(Segment::Bytes(n)) => format!("; signature {n} bytes"),
            _ => String::new(),
        };
        let alg = quote(lenient.alg().unwrap_or("?"));
        let kid = lenient.kid().map_or("no kid".to_owned(), |k| format!("kid {}", quote(k)));
        return Step::pass(name, format!("header and claims are base64url JSON objects (alg {alg}, {kid}){sig}"));
    }
    let todo = if matches!(lenient.signature, Some(Segment::Empty)) {
        "an unsigned token is never accepted: if the issuer sends alg none, fix its signing configuration; otherwise treat it as a forgery attempt"
    } else {
        explain::todo(ErrorCode::Malformed)
    };
    let mut step = Step::fail(name, inert(problems.first().map_or("", String::as_str)), todo);
    for problem in problems.iter().skip(1) {
        step = step.note(inert(problem));
    }
    if lenient.segments == 3 && token.contains(char::is_whitespace) {
        step = step.note("the token contains whitespace: it was wrapped or pasted with line breaks");
    }
    step
}

fn step_algorithm(setup: &Setup, lenient: &Lenient, sig: Result<(), Error>, ctx: &Context<'_>) -> Step {
    let name = "algorithm";
    let alg = lenient.alg().unwrap_or("?");
    match sig {
        Err(e @ (Error::UnsupportedAlg | Error::AlgNotAllowed)) => {
            Step::fail(name, explain::reason(e, None, ctx), explain::todo(e.code()))
        }
        _ => match Algorithm::from_name(alg) {
            Some(a) if !setup.algorithms.contains(a) => Step::fail(
                name,
                explain::reason(Error::AlgNotAllowed, None, ctx),
                explain::todo(ErrorCode::AlgNotAllowed),
            ),
            Some(a) => Step::pass(name, format!("{a} is allowed ({})", setup.algorithm_names())),
            None => Step::fail(
                name,
                explain::reason(Error::UnsupportedAlg, None, ctx),
                explain::todo(ErrorCode::UnsupportedAlg),
            ),
        },
    }
}

fn key_set_notes(mut step: Step, loaded: &Loaded) -> Step {
    let set = &loaded.set;
    let mut source = format!(
        "key set: {} ({}, {} usable)",
        inert(&loaded.origin.describe()),
        plural(set.entries().len(), "key"),
        set.len()
    );
    if let Origin::Url(report) = &loaded.origin {
        let cache = report.cache_secs.map(|s| format!(", cache lifetime {}", span(s))).unwrap_or_default();
        let _ = write!(source, "; HTTP 200 in {} ms{cache}", report.latency.as_millis());
    }
    step = step.note(source);
    for info in set.skipped() {
        let kid = info.kid.as_deref().map_or("(no kid)".to_owned(), quote);
        let why = info.skip_reason().map(|r| r.to_string()).unwrap_or_default();
        step = step.note(format!("skipped key #{} {kid}: {}", info.index, inert(&why)));
    }
    step
}

fn step_key(
    lenient: &Lenient,
    loaded: Result<&Loaded, &KeyLoadError>,
    sig: Result<(), Error>,
    ctx: &Context<'_>,
) -> Step {
    let name = "signing key";
    let loaded = match loaded {
        Err(e) => {
            let todo = match e.remote {
                Some(_) => explain::todo_for(Error::Unavailable(Dependency::Keys)),
                None => "check the key set's location and contents (`jwtv keys FILE` reads it as a verifier would)",
            };
            let mut step =
                Step::unavailable(name, &format!("the key set cannot be loaded: {}", inert(&e.message)), todo);
            if let Some(report) = &e.remote {
                step = step.note(format!(
                    "{} fetch(es): {} transport error(s), {} timeout(s), {} HTTP error(s), {} unreadable",
                    report.fetches.total(),
                    report.fetches.transport_errors,
                    report.fetches.timeouts,
                    report.fetches.http_errors,
                    report.fetches.malformed
                ));
            }
            return step;
        }
        Ok(loaded) => loaded,
    };
    let step = match sig {
        Err(e @ (Error::KeyNotFound | Error::BadSignature)) => {
            Step::fail(name, explain::reason(e, None, ctx), explain::todo(e.code()))
        }
        Err(Error::UnsupportedAlg | Error::AlgNotAllowed) => {
            Step::skipped(name, "no key is used for this algorithm (step 3)")
        }
        Err(_) => Step::skipped(name, "the token cannot be decoded"),
        Ok(()) => {
            let kid = lenient.kid();
            let info = loaded.set.entries().iter().find(|i| i.is_usable() && kid.is_some() && i.kid.as_deref() == kid);
            let which = match (kid, info) {
                (Some(kid), Some(info)) => {
                    format!("kid {} is in the key set ({})", quote(kid), crate::keys::kty_crv(info))
                }
                (Some(kid), None) => format!("kid {} selected a key", quote(kid)),
                (None, _) => "no kid: the one key for this algorithm was used".to_owned(),
            };
            Step::pass(name, format!("{which}; the signature verifies"))
        }
    };
    key_set_notes(step, loaded)
}

fn step_time(
    setup: &Setup,
    lenient: &Lenient,
    failures: &[(Error, Option<String>)],
    loaded: Result<&Loaded, &KeyLoadError>,
    ctx: &Context<'_>,
) -> Step {
    let name = "time";
    let now = i64::try_from(setup.now).unwrap_or(i64::MAX);
    let is_time = |e: &Error| {
        matches!(
            e,
            Error::Expired | Error::NotYetValid | Error::IssuedInFuture | Error::TooOld | Error::LifetimeTooLong
        ) || matches!(e, Error::MissingClaim(_) | Error::BadClaim(_))
            && matches!(e.detail(), Some("exp" | "nbf" | "iat"))
    };
    let dates: Vec<(&str, String)> = ["exp", "nbf", "iat"]
        .into_iter()
        .filter_map(|n| date_claim(lenient, n).map(|t| (n, format!("{n} {}, {}", utc(t), relative(t, now)))))
        .collect();
    let failure = failures.iter().find(|(e, _)| is_time(e));
    let shown = match failure {
        Some((Error::Expired, _)) => Some("exp"),
        Some((Error::LifetimeTooLong, _)) => None, // every date: exp and iat make the lifetime
        Some((Error::NotYetValid, _)) => Some("nbf"),
        Some((Error::IssuedInFuture | Error::TooOld, _)) => Some("iat"),
        Some((_, detail)) => detail.as_deref(),
        None => dates.first().map(|(n, _)| *n),
    };
    let mut step = match failure {
        Some((e, detail)) => Step::fail(name, explain::reason(*e, detail.as_deref(), ctx), explain::todo(e.code())),
        None => {
            let first = dates.first().map_or("no dates", |(_, d)| d.as_str());
            Step::pass(name, format!("valid at this time: {first}; leeway {} s", setup.leeway))
        }
    };
    for (_, date) in dates.iter().filter(|(n, _)| Some(*n) != shown) {
        step = step.note(date.clone());
    }
    let clock = if setup.now_given { "given by --now" } else { "this host's clock" };
    step = step.note(format!("now {} ({clock})", utc(now)));
    let server: Option<&RemoteReport> = match loaded {
        Ok(Loaded { origin: Origin::Url(report), .. }) => Some(report),
        Ok(Loaded { origin: Origin::File(_), .. }) => {
            return step.note("key set from a file: no server clock to compare with");
        }
        Ok(Loaded { origin: Origin::Inline, .. }) => {
            return step.note("key set in the policy file: no server clock to compare with");
        }
        Err(KeyLoadError { remote: Some(report), .. }) => Some(report),
        Err(KeyLoadError { remote: None, .. }) => {
            return step.note("the key set could not be loaded: no server clock to compare with");
        }
    };
    match server.and_then(|r| r.skew_ms) {
        Some(skew) if skew.abs() > SKEW_WARN_MS => {
            let dir = if skew > 0 { "ahead of" } else { "behind" };
            let secs = skew.unsigned_abs() / 1000;
            step = step.note(format!(
                "the key server's clock is {} {dir} this host's: check time synchronization (chronyc tracking, timedatectl)",
                span(secs)
            ));
            if step.status == Status::Pass {
                step.todo = Some("check time synchronization on this host (chronyc tracking, timedatectl)".to_owned());
            }
        }
        Some(skew) => {
            step = step.note(format!("this host's clock agrees with the key server's Date within {} ms", skew.abs()));
        }
        None if loaded.is_err() => step = step.note("the key set could not be fetched: clock skew not estimated"),
        None => step = step.note("the key server sent no Date header: clock skew not estimated"),
    }
    step
}

fn step_claims(setup: &Setup, lenient: &Lenient, failures: &[(Error, Option<String>)], ctx: &Context<'_>) -> Step {
    let name = "claims";
    let other: Vec<&(Error, Option<String>)> = failures
        .iter()
        .filter(|(e, _)| {
            !matches!(
                e,
                Error::Expired | Error::NotYetValid | Error::IssuedInFuture | Error::TooOld | Error::LifetimeTooLong
            ) && !matches!(e.detail(), Some("exp" | "nbf" | "iat"))
        })
        .collect();
    if let Some((first, detail)) = other.first() {
        let mut step = Step::fail(name, explain::reason(*first, detail.as_deref(), ctx), explain::todo(first.code()));
        for (e, detail) in other.iter().skip(1) {
            step = step.note(format!("also {}: {}", e.code(), explain::reason(*e, detail.as_deref(), ctx)));
        }
        return step;
    }
    let claims = lenient.claims_json();
    let get = |n: &str| claims.and_then(|c| c.get(n)).map_or("absent".to_owned(), human::json);
    let mut parts = Vec::new();
    parts.push(if setup.issuers.is_empty() { "iss not checked".to_owned() } else { format!("iss {}", get("iss")) });
    parts.push(if setup.audiences.is_empty() { "no aud".to_owned() } else { format!("aud {}", get("aud")) });
    if let Some(typ) = &setup.typ {
        parts.push(format!("typ {}", quote(typ)));
    }
    if !setup.required.is_empty() {
        parts.push(format!("required {} present", quoted_list(&setup.required)));
    }
    Step::pass(name, format!("as the policy asks: {}", parts.join(", ")))
}

fn step_revocation(
    setup: &Setup,
    lenient: &Lenient,
    revocations: Option<(&Revocations, &RevocationList)>,
    key_kid: Option<&str>,
    ctx: &Context<'_>,
) -> Step {
    let name = "revocation";
    let Some((revocations, list)) = revocations else {
        return Step::skipped(
            name,
            "no revocation list is configured (--revocations SOURCE, or revocations.source in the policy)",
        );
    };
    let status = revocations.status();
    let source = format!("revocation list: {}; {}", where_(&status), counts(&status));
    if !revocations.wait_synced(Duration::ZERO) {
        let todo = explain::todo_for(Error::Unavailable(Dependency::Revocations));
        return Step::unavailable(name, &unsynced(&status, setup.timeout), todo).note(source);
    }
    let parsed = lenient
        .header_bytes()
        .and_then(|h| Header::from_json(h).ok())
        .zip(lenient.claims_bytes().and_then(|c| jwtv::Claims::from_json(c).ok()));
    let Some((header, claims)) = parsed else {
        return Step::skipped(name, "the token cannot be decoded").note(source);
    };
    let step = match list.check(&header, &claims, key_kid, setup.now) {
        Ok(()) => {
            let claim = |n: &str| lenient.claims_json().and_then(|c| c.get(n)).and_then(|v| v.as_str());
            let named: Vec<String> = [("jti", claim("jti")), ("sub", claim("sub")), ("kid", key_kid.or(lenient.kid()))]
                .into_iter()
                .filter_map(|(kind, id)| id.map(|id| format!("{kind} {}", quote(id))))
                .collect();
            let listed = if named.is_empty() { "no jti, sub or kid to look up".to_owned() } else { named.join(", ") };
            Step::pass(name, format!("not revoked: {listed}"))
        }
        Err(e @ Error::Revoked(field)) => Step::fail(
            name,
            format!("revoked by {}: {}", field.name().unwrap_or("?"), explain::reason(e, None, ctx)),
            explain::todo_for(e),
        ),
        Err(e) => Step::fail(name, explain::reason(e, None, ctx), explain::todo_for(e)),
    };
    step.note(source)
}

pub(crate) fn run(args: &DoctorArgs) -> Outcome {
    if let Some(url) = &args.metrics {
        let timeout = Duration::from_secs(args.policy.timeout);
        return crate::fleet::run(url, Duration::from_secs(args.interval), timeout, args.json);
    }
    let input = read_token(args.token.as_deref().unwrap_or("-"))?;
    let token = input.token.as_str();
    let setup = Setup::from_args(&args.policy)?;
    let lenient = Lenient::decode(token);
    let loaded = setup.load_keys();
    let revocations = setup.open_revocations()?;
    let snapshot = revocations.as_ref().map(Revocations::snapshot);
    let unavailable = match (&loaded, &revocations) {
        (Err(e), _) => Some(e.message.clone()),
        (Ok(_), Some(list)) if !list.wait_synced(Duration::ZERO) => Some(unsynced(&list.status(), setup.timeout)),
        _ => None,
    };
    let ctx = Context {
        setup: &setup,
        token,
        lenient: &lenient,
        keys: loaded.as_ref().ok().map(|l| l.set.as_ref()),
        revocations: snapshot.as_ref(),
        unavailable: unavailable.as_deref(),
    };

    let mut steps = Vec::new();
    let first = step_token(token, &lenient, &setup);
    let token_ok = first.status == Status::Pass;
    steps.push(first);
    let problems = if token_ok { structural_problems(token, &lenient) } else { Vec::new() };
    let decoded = token_ok && problems.is_empty();
    let verdict = match &loaded {
        Ok(l) => verify_token(&setup, &l.set, token, revocations.as_ref()),
        Err(_) if !decoded => Verdict::Rejected { error: Error::Malformed(jwtv::Part::Token), detail: None },
        // Without a key set the signature cannot be checked: no verdict.
        Err(_) => Verdict::unavailable(Dependency::Keys),
    };
    if token_ok {
        steps.push(step_structure(token, &lenient, &problems));
    } else {
        steps.push(Step::skipped("structure", "there is no JWT to decode"));
    }
    let verified_by = match &loaded {
        Ok(l) if decoded => signature_check(&setup, l, token),
        _ => Err(Error::Malformed(jwtv::Part::Token)),
    };
    let sig = verified_by.map(|_| ());
    let mut sig_for_steps = sig;
    if let Err(Error::UnsupportedCrit) = sig {
        if let Some(step) = steps.last_mut() {
            *step = Step::fail(
                "structure",
                explain::reason(Error::UnsupportedCrit, None, &ctx),
                explain::todo(ErrorCode::UnsupportedCrit),
            );
        }
        sig_for_steps = Err(Error::Malformed(jwtv::Part::Header));
    }
    if decoded {
        steps.push(step_algorithm(&setup, &lenient, sig_for_steps, &ctx));
        steps.push(step_key(&lenient, loaded.as_ref(), sig_for_steps, &ctx));
        let failures = claim_failures(&setup, &lenient).unwrap_or_default();
        let unverified = if sig_for_steps.is_ok() { "" } else { " (claims read without a valid signature)" };
        let mut time = step_time(&setup, &lenient, &failures, loaded.as_ref(), &ctx);
        let mut claims = step_claims(&setup, &lenient, &failures, &ctx);
        // The key that verified the signature (the header names the key
        // otherwise; the list checks the header's kid as well).
        let kid = verified_by.ok().flatten();
        let mut revoked = step_revocation(&setup, &lenient, revocations.as_ref().zip(snapshot.as_ref()), kid, &ctx);
        if !unverified.is_empty() {
            time.summary.push_str(unverified);
            claims.summary.push_str(unverified);
            if matches!(revoked.status, Status::Pass | Status::Fail) {
                revoked.summary.push_str(unverified);
            }
        }
        steps.push(time);
        steps.push(claims);
        steps.push(revoked);
    } else {
        for name in ["algorithm", "signing key", "time", "claims", "revocation"] {
            steps.push(Step::skipped(name, "the token cannot be decoded"));
        }
    }

    let failing = steps.iter().position(|s| s.status == Status::Fail);
    let not_run = steps.iter().position(|s| s.status == Status::Unavailable);
    let (valid, code) = match &verdict {
        Verdict::Valid { .. } => (true, None),
        Verdict::Rejected { error, .. } => (false, Some(error.code())),
    };
    let verdict_name = match &verdict {
        Verdict::Valid { .. } => "valid",
        v if v.is_undetermined() => "undetermined",
        Verdict::Rejected { .. } => "rejected",
    };
    let mut out = String::new();
    if args.json {
        let steps_json: Vec<_> = steps
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let status = match s.status {
                    Status::Pass => "pass",
                    Status::Fail => "fail",
                    Status::Skipped => "skipped",
                    Status::Unavailable => "unavailable",
                };
                json!({"step": i + 1, "name": s.name, "status": status, "summary": s.summary, "notes": s.notes, "todo": s.todo})
            })
            .collect();
        let doc = json!({
            "valid": valid,
            "verdict": verdict_name,
            "code": code.map(ErrorCode::as_str),
            "first_failing_step": failing.map(|i| i + 1),
            "steps": steps_json,
        });
        let _ = writeln!(out, "{}", human::json(&doc));
    } else {
        let style = Style::detect();
        let _ = writeln!(out, "jwtv doctor: {} from {}", token_label(token), inert(&input.source));
        for (i, step) in steps.iter().enumerate() {
            let mark = match step.status {
                Status::Pass => style.green("✔"),
                Status::Fail => style.red("✘"),
                Status::Skipped => "·".to_owned(),
                Status::Unavailable => style.yellow("?"),
            };
            let _ = writeln!(out, "{mark} {} {:<12}{}", i + 1, step.name, step.summary);
            for note in &step.notes {
                let _ = writeln!(out, "{:16}{note}", "");
            }
            if let Some(todo) = &step.todo {
                let _ = writeln!(out, "{:16}→ {todo}", "");
            }
        }
        let number = steps.len() + 1;
        match (&verdict, failing) {
            (Verdict::Valid { .. }, _) => {
                let _ = writeln!(
                    out,
                    "{} {number} {:<12}{}",
                    style.green("✔"),
                    "verdict",
                    style.bold("valid: every check passed")
                );
            }
            (v @ Verdict::Rejected { error, .. }, _) if v.is_undetermined() => {
                let code = error.code();
                let at =
                    not_run.and_then(|i| steps.get(i).map(|s| format!("; could not run: step {} ({})", i + 1, s.name)));
                let line = format!("undetermined: {} ({}){}", code.as_str(), code.message(), at.unwrap_or_default());
                let _ = writeln!(out, "{} {number} {:<12}{}", style.yellow("?"), "verdict", style.bold(&line));
            }
            (Verdict::Rejected { error, .. }, failing) => {
                let code = error.code();
                let at =
                    failing.and_then(|i| steps.get(i).map(|s| format!("; first failing step: {} ({})", i + 1, s.name)));
                let line = format!("rejected: {} ({}){}", code.as_str(), code.message(), at.unwrap_or_default());
                let _ = writeln!(out, "{} {number} {:<12}{}", style.red("✘"), "verdict", style.bold(&line));
            }
        }
    }
    Ok((verdict.exit_code(), out))
}
