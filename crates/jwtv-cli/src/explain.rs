//! Plain-language reasons for the core's error codes, with the values of the
//! token at hand, and what to do about each. Shared by `verify` and `doctor`.

use jwtv::{Claims, Dependency, Error, ErrorCode, Field, Part};
use jwtv_gateway::{RevocationKind, RevocationList};
use jwtv_jwks::KeySet;

use crate::human::{self, inert, quote, quoted_list, relative, utc};
use crate::input::{Lenient, Segment};
use crate::setup::Setup;

/// What a reason is built from.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Context<'a> {
    pub(crate) setup: &'a Setup,
    pub(crate) token: &'a str,
    pub(crate) lenient: &'a Lenient,
    pub(crate) keys: Option<&'a KeySet>,
    /// The revocation list checked, for the time of a matching entry.
    pub(crate) revocations: Option<&'a RevocationList>,
    /// Why the key set or the revocation list is unavailable, when one is.
    pub(crate) unavailable: Option<&'a str>,
}

/// A date claim of the token, as the core reads it (floor of a fractional date).
pub(crate) fn date_claim(lenient: &Lenient, name: &str) -> Option<i64> {
    let claims = Claims::from_json(lenient.claims_bytes()?).ok()?;
    let date = match name {
        "exp" => claims.exp(),
        "nbf" => claims.nbf(),
        "iat" => claims.iat(),
        _ => None,
    }?;
    Some(date.floor())
}

fn now(ctx: &Context<'_>) -> i64 {
    i64::try_from(ctx.setup.now).unwrap_or(i64::MAX)
}

fn when(ctx: &Context<'_>, name: &str) -> String {
    match date_claim(ctx.lenient, name) {
        Some(t) => format!("{name} is {} ({})", utc(t), relative(t, now(ctx))),
        None => format!("{name} is not a usable date"),
    }
}

fn claim_text(ctx: &Context<'_>, name: &str) -> String {
    match ctx.lenient.claims_json().and_then(|c| c.get(name)) {
        Some(value) => human::json(value),
        None => "absent".to_owned(),
    }
}

/// Describes a malformed segment.
pub(crate) fn segment_problem(name: &str, segment: Option<&Segment>) -> Option<String> {
    match segment? {
        Segment::Json(..) | Segment::Bytes(_) => None,
        Segment::Empty => Some(format!("the {name} segment is empty")),
        Segment::NotBase64(why) => Some(format!("the {name} segment {why}")),
        Segment::NotJson(why) => Some(format!("the {name} {why}")),
    }
}

/// Why the token's shape is wrong, in words.
pub(crate) fn shape_problem(token: &str, lenient: &Lenient) -> String {
    match lenient.segments {
        _ if token.is_empty() => "there is no token (empty input)".to_owned(),
        1 => "one segment, no dots: an opaque token, not a JWT (introspect it at the issuer, RFC 7662)".to_owned(),
        5 => "five segments: an encrypted token (JWE); jwtv verifies signed tokens (JWS) only".to_owned(),
        3 => {
            let empty: Vec<&str> =
                [("header", &lenient.header), ("payload", &lenient.payload), ("signature", &lenient.signature)]
                    .iter()
                    .filter(|(_, s)| matches!(s, Some(Segment::Empty)))
                    .map(|(name, _)| *name)
                    .collect();
            if empty == ["signature"] {
                let alg = lenient.alg().map(|a| format!(" (header alg {})", quote(a))).unwrap_or_default();
                format!("the signature segment is empty: an unsigned token{alg}, never accepted")
            } else if empty.is_empty() {
                "three segments".to_owned()
            } else {
                format!("empty segment: {}", empty.join(", "))
            }
        }
        n => format!("{n} segments; a signed JWT has exactly three (header.payload.signature)"),
    }
}

/// The reason for `error`, with the token's values.
pub(crate) fn reason(error: Error, detail: Option<&str>, ctx: &Context<'_>) -> String {
    let setup = ctx.setup;
    let lenient = ctx.lenient;
    let alg = lenient.alg().unwrap_or("?");
    match error {
        Error::Malformed(Part::Token) => shape_problem(ctx.token, lenient),
        Error::Malformed(part) => {
            let segment = match part {
                Part::Header => lenient.header.as_ref(),
                Part::Payload => lenient.payload.as_ref(),
                _ => lenient.signature.as_ref(),
            };
            segment_problem(part.as_str(), segment).unwrap_or_else(|| {
                format!("the {} is not strict JSON (duplicate member names, bad escapes or numbers)", part.as_str())
            })
        }
        Error::TooLarge => format!("the token is {} bytes; the limit is {}", ctx.token.len(), setup.max_token_len),
        Error::UnsupportedAlg if alg.eq_ignore_ascii_case("none") => {
            "alg is \"none\": an unsigned token, never accepted".to_owned()
        }
        Error::UnsupportedAlg => format!("alg {} is not an algorithm jwtv verifies", quote(alg)),
        Error::AlgNotAllowed => alg_not_allowed(ctx, alg),
        Error::KeyNotFound => key_not_found(ctx, alg),
        Error::BadSignature => {
            let kid = lenient.kid().map(|k| format!(" (kid {})", quote(k))).unwrap_or_default();
            format!(
                "the signature does not verify with the key{kid}: signed by another key with the same kid \
                 (another environment, a rotated-out key) or altered"
            )
        }
        Error::Expired => format!("{}; leeway {} s", when(ctx, "exp"), setup.leeway),
        Error::NotYetValid => format!("{}; leeway {} s", when(ctx, "nbf"), setup.leeway),
        Error::IssuedInFuture => format!("{}; leeway {} s", when(ctx, "iat"), setup.leeway),
        Error::TooOld => format!("{}: older than the maximum age", when(ctx, "iat")),
        Error::LifetimeTooLong => {
            let lifetime =
                date_claim(lenient, "exp").zip(date_claim(lenient, "iat")).map(|(exp, iat)| exp.saturating_sub(iat));
            let lifetime = lifetime.map_or("an unknown time".to_owned(), |secs| format!("{secs} s"));
            format!("the token lives {lifetime} (exp - iat): longer than the maximum lifetime")
        }
        Error::BadIssuer => {
            format!("iss is {}; accepted: {}", claim_text(ctx, "iss"), quoted_list(&setup.issuers))
        }
        Error::BadAudience if setup.audiences.is_empty() => format!(
            "aud is {}, but no audience is configured: a token with an aud is refused (pass --aud)",
            claim_text(ctx, "aud")
        ),
        Error::BadAudience => {
            format!("aud is {}; accepted: {}", claim_text(ctx, "aud"), quoted_list(&setup.audiences))
        }
        Error::BadType => {
            let typ = lenient.header_json().and_then(|h| h.get("typ")).map_or("absent".to_owned(), human::json);
            format!("header typ is {typ}; required: {}", quote(setup.typ.as_deref().unwrap_or("")))
        }
        Error::MissingClaim(_) => format!("the token has no {}, which is required", quote(detail.unwrap_or("?"))),
        Error::BadClaim(_) => {
            let name = detail.unwrap_or("?");
            let header = lenient.header_json().and_then(|h| h.get(name));
            let value = header.map_or_else(|| claim_text(ctx, name), human::json);
            format!("{} has the wrong type or value: {value}", quote(name))
        }
        Error::UnsupportedCrit => {
            let crit = lenient.header_json().and_then(|h| h.get("crit")).map_or("b64".to_owned(), human::json);
            format!("the header requires extensions this verifier does not process: crit {crit}")
        }
        Error::Revoked(field) => revoked(ctx, field),
        Error::Unavailable(dependency) => unavailable(ctx, dependency),
        _ => error.message().to_owned(),
    }
}

/// Which list matched, with the entry's time when the list is at hand.
fn revoked(ctx: &Context<'_>, field: Field) -> String {
    let claim = |name: &str| ctx.lenient.claims_json().and_then(|c| c.get(name)).and_then(|v| v.as_str());
    let entry = |kind: RevocationKind, id: Option<&str>| {
        let time = ctx.revocations.zip(id).and_then(|(list, id)| list.get(kind, id)).map(|e| e.time())?;
        let time = i64::try_from(time).unwrap_or(i64::MAX);
        Some(format!("{} ({})", utc(time), relative(time, now(ctx))))
    };
    match field {
        Field::Jti => {
            let jti = claim("jti");
            let until = entry(RevocationKind::Jti, jti).map(|t| format!("; the entry lasts until its exp, {t}"));
            format!("this token was revoked (jti {}){}", quoted(jti), until.unwrap_or_default())
        }
        Field::Sub => {
            let sub = claim("sub");
            let before = entry(RevocationKind::Sub, sub).unwrap_or_else(|| "a time".to_owned());
            let issued = date_claim(ctx.lenient, "iat")
                .map_or("it has no iat".to_owned(), |t| format!("this one was issued {}", utc(t)));
            format!("every token of subject {} issued before {before} was revoked; {issued}", quoted(sub))
        }
        _ => {
            let kid = ctx.lenient.kid();
            let since = entry(RevocationKind::Kid, kid).map(|t| format!(" on {t}")).unwrap_or_default();
            match kid {
                Some(kid) => {
                    format!(
                        "the signing key (kid {}) was revoked{since}: every token it signed is rejected",
                        quote(kid)
                    )
                }
                None => "the key that signed the token was revoked: every token it signed is rejected".to_owned(),
            }
        }
    }
}

fn quoted(value: Option<&str>) -> String {
    value.map_or("absent".to_owned(), quote)
}

/// Why a check could not run, and which.
fn unavailable(ctx: &Context<'_>, dependency: Dependency) -> String {
    let (fallback, check) = match dependency {
        Dependency::Keys => ("no key set could be loaded", "the signature cannot be checked"),
        _ => ("the revocation list has not synced", "whether the token is revoked cannot be checked"),
    };
    let why = ctx.unavailable.map_or(fallback.into(), inert);
    format!("{why}: {check}, so the token is neither accepted nor rejected")
}

fn alg_not_allowed(ctx: &Context<'_>, alg: &str) -> String {
    let allowed = jwtv::Algorithm::from_name(alg).is_some_and(|a| ctx.setup.algorithms.contains(a));
    if !allowed {
        return format!("alg {} is not among the allowed algorithms ({})", quote(alg), ctx.setup.algorithm_names());
    }
    let kid = ctx.lenient.kid();
    let pinned: Vec<String> = ctx
        .keys
        .map(|set| {
            set.entries()
                .iter()
                .filter(|info| info.is_usable() && (kid.is_none() || info.kid.as_deref() == kid))
                .filter_map(|info| info.algorithm.map(|a| a.name().to_owned()))
                .collect()
        })
        .unwrap_or_default();
    match kid {
        Some(kid) => format!(
            "the key {} is pinned to {}, but the token says {} (a key is never used with another algorithm)",
            quote(kid),
            pinned.join(", "),
            quote(alg)
        ),
        None => format!("no key of the set is for {} (the keys are for {})", quote(alg), pinned.join(", ")),
    }
}

fn key_not_found(ctx: &Context<'_>, alg: &str) -> String {
    let Some(set) = ctx.keys else {
        return "no key set could be loaded".to_owned();
    };
    let kids: Vec<&str> = set.entries().iter().filter(|i| i.is_usable()).filter_map(|i| i.kid.as_deref()).collect();
    match ctx.lenient.kid() {
        Some(kid) => {
            if let Some(skipped) = set.entries().iter().find(|i| i.kid.as_deref() == Some(kid) && !i.is_usable()) {
                let why = skipped.skip_reason().map(|r| r.to_string()).unwrap_or_default();
                return format!("the key set has kid {} but does not use it: {}", quote(kid), inert(&why));
            }
            format!("no key has kid {}; the key set has {}", quote(kid), quoted_list(&kids))
        }
        None => format!("the token has no kid, and not exactly one key of the set is for {}", quote(alg)),
    }
}

/// What to do about a rejection with this code.
pub(crate) fn todo(code: ErrorCode) -> &'static str {
    match code {
        ErrorCode::Malformed => {
            "the caller is not sending a JWT: check how the client builds the Authorization header (truncation, quoting, a session id or a JWE instead)"
        }
        ErrorCode::TooLarge => {
            "find out why the token is so big (too many claims or groups); raise max_token_len only if that is intended"
        }
        ErrorCode::UnsupportedAlg => {
            "the issuer signs with an algorithm jwtv does not verify, or the token is forged (alg none): reject it and check the issuer's signing configuration"
        }
        ErrorCode::AlgNotAllowed => {
            "compare the issuer's signing algorithm with the policy's algorithms and the key's alg; a mismatch can also be an attack (algorithm confusion)"
        }
        ErrorCode::KeyNotFound => {
            "compare the token's kid with the published JWKS (`jwtv keys URL`): after a key rotation, wait for or force the verifiers' refresh; a kid in neither means another issuer or environment"
        }
        ErrorCode::BadSignature => {
            "make sure the token comes from this environment's issuer; if the issuer rotated keys without changing the kid, that is its bug; never skip the check"
        }
        ErrorCode::Expired => {
            "the client must refresh the token; if fresh tokens arrive expired, check time synchronization on the issuer and on this host"
        }
        ErrorCode::NotYetValid | ErrorCode::IssuedInFuture => {
            "a clock is ahead or behind: check time synchronization (chronyc tracking, timedatectl) on the issuer and on this host"
        }
        ErrorCode::TooOld => "the client must get a new token (re-authenticate)",
        ErrorCode::LifetimeTooLong => {
            "the issuer hands out tokens that live longer than this policy accepts: shorten the token lifetime in the issuer's settings, or raise max_lifetime_secs if that is intended"
        }
        ErrorCode::BadIssuer => {
            "the token comes from another issuer (environment, tenant, a trailing slash?): fix the client's login URL, or add the issuer if it is legitimate"
        }
        ErrorCode::BadAudience => {
            "the token was issued for another API: the client must request this API's audience (scope/resource), or add the audience if this API really serves it"
        }
        ErrorCode::BadType => {
            "the token is of another kind (an ID token or a refresh token?): the client must send an access token"
        }
        ErrorCode::MissingClaim | ErrorCode::BadClaim => {
            "the issuer must include the claim with the right type: check its token configuration (claim mappings, scopes)"
        }
        ErrorCode::UnsupportedCrit => {
            "the issuer marks extensions as critical that this verifier does not process: configure understood_crit only if you really process them"
        }
        ErrorCode::Revoked => {
            "the token, its subject or its key was revoked on purpose (`jwtv revocations list` shows the entries): the client needs a new token; `jwtv unrevoke` takes back a mistaken entry"
        }
        ErrorCode::Unavailable => {
            "a key server or revocation store the policy needs cannot be reached: check it (`jwtv keys URL`, `jwtv revocations list`) and retry; the token was neither accepted nor rejected"
        }
        _ => "see docs/RUNBOOK.md",
    }
}

/// What to do about this rejection: [`todo`], with which list matched for `revoked`.
pub(crate) fn todo_for(error: Error) -> &'static str {
    match error {
        Error::Revoked(Field::Jti) => {
            "this one token was revoked (a logout, a leaked token): the client must get a new one (sign in or refresh); if the revocation is a mistake, `jwtv unrevoke jti ID`"
        }
        Error::Revoked(Field::Sub) => {
            "every token of this user issued before the revocation is refused: the user must sign in again (new tokens are accepted); if it is a mistake, `jwtv unrevoke sub SUB`"
        }
        Error::Revoked(_) => {
            "the signing key was revoked: the issuer must sign with another key (and remove this one from its JWKS); clients then need new tokens; if it is a mistake, `jwtv unrevoke kid KID`"
        }
        Error::Unavailable(Dependency::Keys) => {
            "the key server is unreachable or does not serve a key set: check it with `jwtv keys URL` (URL, network, proxy, the issuer's status page) and retry; gateways answer 503 until it loads"
        }
        Error::Unavailable(_) => {
            "the revocation store is unreachable: check it with `jwtv revocations list` (address, password, firewall) and retry; gateways failing closed answer 503 until it syncs"
        }
        _ => todo(error.code()),
    }
}
