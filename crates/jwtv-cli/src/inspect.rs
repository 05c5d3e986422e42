//! `jwtv inspect`: what a token says, UNVERIFIED.

use core::fmt::Write as _;

use clap::Args;
use jwtv::{DEFAULT_MAX_TOKEN_LEN, Error, Policy, UnverifiedToken, buffer_len_for};
use serde_json::{Value, json};

use crate::explain::{date_claim, segment_problem, shape_problem};
use crate::human::{self, Style, inert, quote, relative, token_label, utc};
use crate::input::{Lenient, Segment, read_token};
use crate::{EXIT_OK, EXIT_REJECTED, Outcome};

#[derive(Debug, Args)]
pub(crate) struct InspectArgs {
    /// The token, a file holding it, or `-` for stdin.
    #[arg(value_name = "TOKEN")]
    token: String,
    /// The time to show relative times against, in Unix seconds or as an RFC 3339
    /// time (`2026-01-01T00:00:00Z`); default: the system clock.
    #[arg(long, value_name = "TIME", value_parser = crate::human::parse_time)]
    now: Option<u64>,
    /// Print one JSON object: {"verified": false, "header", "claims", "signature_bytes", "times", "problems"}.
    #[arg(long)]
    pub(crate) json: bool,
}

/// Problems of a token found without a key; empty when the core decodes it cleanly.
pub(crate) fn structural_problems(token: &str, lenient: &Lenient) -> Vec<String> {
    let mut problems = Vec::new();
    if lenient.segments != 3 || token.is_empty() {
        problems.push(shape_problem(token, lenient));
        return problems;
    }
    for (name, segment) in [("header", &lenient.header), ("payload", &lenient.payload)] {
        problems.extend(segment_problem(name, segment.as_ref()));
    }
    match &lenient.signature {
        Some(Segment::Empty) => problems.push(shape_problem(token, lenient)),
        other => problems.extend(segment_problem("signature", other.as_ref())),
    }
    if problems.is_empty() {
        let mut buf = vec![0u8; buffer_len_for(token.len().min(DEFAULT_MAX_TOKEN_LEN + 4))];
        match UnverifiedToken::decode(token, DEFAULT_MAX_TOKEN_LEN, &mut buf) {
            Err(Error::TooLarge) => {
                problems
                    .push(format!("{} bytes: larger than the default limit of {DEFAULT_MAX_TOKEN_LEN}", token.len()));
            }
            Err(e @ Error::Malformed(part)) => {
                problems.push(format!("{e}: the {} is not strict JSON (duplicate names, bad escapes?)", part.as_str()));
            }
            Err(e) => problems.push(format!("header: {e}")),
            Ok(decoded) => {
                if let Err(e) = decoded.unverified_header().algorithm() {
                    let alg = lenient.alg().unwrap_or("?");
                    let what = if alg.eq_ignore_ascii_case("none") { "an unsigned token" } else { "not supported" };
                    problems.push(format!("{e}: alg {} is {what}", quote(alg)));
                }
                match decoded.unverified_claims() {
                    Err(e) => problems.push(format!("{e}")),
                    Ok(claims) => {
                        let lax = Policy::new().ignore_audience().allow_missing_exp().leeway_secs(0);
                        for failure in &lax.check_all(decoded.unverified_header(), &claims, 0) {
                            if let Error::BadClaim(_) = failure {
                                problems.push(format!("{failure}"));
                            }
                        }
                    }
                }
            }
        }
    }
    problems
}

/// Time problems and notes (expired, not yet valid, no exp), against `now`, without leeway.
fn time_notes(lenient: &Lenient, now: i64) -> Vec<String> {
    let mut notes = Vec::new();
    let Some(claims) = lenient.claims_json() else { return notes };
    match date_claim(lenient, "exp") {
        Some(exp) if exp <= now => notes.push(format!("expired {} (exp)", relative(exp, now))),
        Some(_) => {}
        None if claims.get("exp").is_none() => notes.push("no exp: the token never expires".to_owned()),
        None => {}
    }
    if let Some(nbf) = date_claim(lenient, "nbf").filter(|nbf| *nbf > now) {
        notes.push(format!("not valid before {} (nbf, {})", utc(nbf), relative(nbf, now)));
    }
    if let Some(iat) = date_claim(lenient, "iat").filter(|iat| *iat > now) {
        notes.push(format!("issued in the future (iat, {})", relative(iat, now)));
    }
    notes
}

pub(crate) fn run(args: &InspectArgs) -> Outcome {
    let input = read_token(&args.token)?;
    let token = input.token.as_str();
    let now = i64::try_from(args.now.unwrap_or_else(jwtv_jwks::unix_now)).unwrap_or(i64::MAX);
    let lenient = Lenient::decode(token);
    let mut problems = structural_problems(token, &lenient);
    let broken = !problems.is_empty();
    problems.extend(time_notes(&lenient, now));
    let signature_bytes = match lenient.signature {
        Some(Segment::Bytes(n)) => Some(n),
        _ => None,
    };
    let dates: Vec<(&str, i64)> =
        ["iat", "nbf", "exp"].into_iter().filter_map(|name| date_claim(&lenient, name).map(|t| (name, t))).collect();

    let mut out = String::new();
    if args.json {
        let times: serde_json::Map<String, Value> = dates
            .iter()
            .map(|(name, t)| ((*name).to_owned(), json!({"unix": t, "utc": utc(*t), "relative": relative(*t, now)})))
            .collect();
        let doc = json!({
            "verified": false,
            "header": lenient.header_json(),
            "claims": lenient.claims_json(),
            "signature_bytes": signature_bytes,
            "times": times,
            "problems": problems,
        });
        let _ = writeln!(out, "{}", human::json(&doc));
    } else {
        let style = Style::detect();
        let _ = writeln!(
            out,
            "{}",
            style.yellow("UNVERIFIED: decoded without checking the signature; do not trust these values")
        );
        let _ = writeln!(out, "token:     {} from {}", token_label(token), inert(&input.source));
        if let Some(n) = signature_bytes {
            let _ = writeln!(out, "signature: {n} bytes (not shown)");
        }
        for (name, value) in [("header", lenient.header_json()), ("claims", lenient.claims_json())] {
            if let Some(value) = value {
                let _ = writeln!(out, "{name}:\n{}", human::json_pretty(value));
            }
        }
        if !dates.is_empty() {
            let _ = writeln!(out, "times (now {}):", utc(now));
            for (name, t) in &dates {
                let _ = writeln!(out, "  {name}  {}  {}", utc(*t), relative(*t, now));
            }
        }
        if problems.is_empty() {
            let _ = writeln!(out, "problems:  none found without a key (run `jwtv verify` to check the signature)");
        } else {
            let _ = writeln!(out, "problems:");
            for problem in &problems {
                let _ = writeln!(out, "  - {problem}");
            }
        }
    }
    Ok((if broken { EXIT_REJECTED } else { EXIT_OK }, out))
}
