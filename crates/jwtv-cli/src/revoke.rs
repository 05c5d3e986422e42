//! `jwtv revoke`, `jwtv unrevoke` and `jwtv revocations list`: the deny list
//! of `jti`s, subjects and key ids that verifiers check after the signature
//! and claims (code `revoked`), kept in a JSON file or in Redis. Also how
//! `verify` and `doctor` open the list they check tokens against.

use core::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use clap::{Args, Subcommand};
use jwtv_gateway::{MAX_LEEWAY_SECS, Policy, RedisOptions, Revocation, RevocationKind, RevocationStatus, Revocations};
use serde_json::json;

use crate::human::{self, inert, relative, shown, token_label, utc};
use crate::input::{Lenient, read_token};
use crate::{CliError, EXIT_OK, EXIT_REJECTED, Outcome};

/// How long `revocations list` waits for a Redis list's first sync.
const LIST_SYNC_TIMEOUT: Duration = Duration::from_secs(5);

/// Failed sync attempts after which a Redis list is not waited for any longer
/// (with the back end's backoff, well under a second for a refused connection).
const SYNC_ATTEMPTS: u64 = 3;

/// Where a revocation list is: a file path or a `redis://` URL, as given.
#[derive(Debug, Clone)]
pub(crate) struct ListSource {
    source: String,
    /// Relative file paths are relative to this: the policy file's folder,
    /// or the working directory for `--to` and `--revocations`.
    base_dir: PathBuf,
    pub(crate) options: RedisOptions,
}

impl ListSource {
    /// The policy's `revocations.source`, if it has one.
    pub(crate) fn of_policy(config: &Policy, policy: &Path) -> Option<Self> {
        let source = config.revocations_source()?;
        let base_dir = policy.parent().map_or_else(|| PathBuf::from("."), Path::to_path_buf);
        Some(Self { source: source.to_owned(), base_dir, options: config.redis_options() })
    }

    /// A source named on the command line (with a policy's Redis options, if any).
    pub(crate) fn given(source: &str, options: Option<RedisOptions>) -> Self {
        Self { source: source.to_owned(), base_dir: PathBuf::new(), options: options.unwrap_or_default() }
    }

    fn is_file(&self) -> bool {
        !self.source.contains("://")
    }

    /// Opens the list; with `create`, a file that does not exist yet is
    /// created empty first.
    pub(crate) fn open(&self, create: bool) -> Result<Revocations, CliError> {
        if create && self.is_file() {
            let path = self.base_dir.join(&self.source);
            match std::fs::OpenOptions::new().write(true).create_new(true).open(&path) {
                Ok(mut file) => file
                    .write_all(b"{}\n")
                    .map_err(|e| CliError::new(format!("cannot write {}: {e}", path.display())))?,
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(CliError::new(format!("cannot create {}: {e}", path.display()))),
            }
        }
        Revocations::open(&self.source, &self.base_dir, self.options.clone()).map_err(|e| CliError::new(e.to_string()))
    }

    /// Opens the list and waits up to `timeout` for its first sync.
    pub(crate) fn open_and_wait(&self, create: bool, timeout: Duration) -> Result<Revocations, CliError> {
        let list = self.open(create)?;
        wait_first_sync(&list, timeout);
        Ok(list)
    }
}

/// Waits for the first sync (at once for a file): up to `timeout`, or until
/// the back end failed a few times in a row. True when synced.
pub(crate) fn wait_first_sync(list: &Revocations, timeout: Duration) -> bool {
    let started = Instant::now();
    loop {
        if list.wait_synced(Duration::from_millis(50)) {
            return true;
        }
        if started.elapsed() >= timeout || list.gauges().sync_errors >= SYNC_ATTEMPTS {
            return false;
        }
    }
}

/// Why a list did not sync, for messages (the location has no password).
pub(crate) fn unsynced(status: &RevocationStatus, timeout: Duration) -> String {
    let why = status
        .last_error
        .as_deref()
        .map_or_else(|| format!("no answer within {} s", timeout.as_secs()), |e| inert(e).into_owned());
    format!("cannot sync the revocation list {}: {why}", where_(status))
}

/// `file revocations.json`, `redis://127.0.0.1:6379/` (without a password).
pub(crate) fn where_(status: &RevocationStatus) -> String {
    let location = inert(&status.location);
    if status.backend == "file" { format!("file {location}") } else { location.into_owned() }
}

/// `3 entries: 1 jti, 1 sub, 1 kid`, and for Redis when it last synced.
pub(crate) fn counts(status: &RevocationStatus) -> String {
    let g = &status.gauges;
    let [jti, sub, kid] = g.by_kind;
    let entries = if g.entries == 1 { "1 entry".to_owned() } else { format!("{} entries", g.entries) };
    let mut text = format!("{entries}: {jti} jti, {sub} sub, {kid} kid");
    if status.backend == "redis" {
        if g.synced {
            let _ = write!(text, "; synced {} s ago", g.sync_lag_secs);
        } else {
            let _ = write!(text, "; never synced ({} s since opened)", g.sync_lag_secs);
        }
    }
    text
}

/// A Unix time as a date.
pub(crate) fn date(secs: u64) -> String {
    utc(i64::try_from(secs).unwrap_or(i64::MAX))
}

/// Parses `jti`, `sub` or `kid` for clap.
fn parse_kind(name: &str) -> Result<RevocationKind, String> {
    RevocationKind::from_name(name).ok_or_else(|| format!("unknown kind `{name}`: jti, sub or kid"))
}

/// Which revocation list a command changes or shows.
#[derive(Debug, Args)]
pub(crate) struct Target {
    /// The revocation list: a JSON file (created by `revoke` if missing) or a
    /// redis:// URL. Wins over --policy.
    #[arg(long, value_name = "SOURCE")]
    to: Option<String>,
    /// A policy file (docs/POLICY.md) whose `revocations.source` names the list.
    #[arg(long, value_name = "FILE")]
    policy: Option<PathBuf>,
}

impl Target {
    fn resolve(&self) -> Result<ListSource, CliError> {
        let config = match &self.policy {
            Some(path) => {
                Some(Policy::from_file(path).map_err(|e| CliError::new(format!("policy {}: {e}", path.display())))?)
            }
            None => None,
        };
        if let Some(to) = &self.to {
            return Ok(ListSource::given(to, config.map(|c| c.redis_options())));
        }
        match (&self.policy, &config) {
            (Some(path), Some(config)) => ListSource::of_policy(config, path).ok_or_else(|| {
                CliError::new(format!(
                    "policy {} has no revocations section: add {{\"revocations\": {{\"source\": FILE|URL}}}}, or name the list with --to SOURCE",
                    path.display()
                ))
            }),
            _ => Err(CliError::new(
                "name the revocation list: --to SOURCE (a JSON file or a redis:// URL), or a policy file with a revocations section with --policy FILE",
            )),
        }
    }
}

#[derive(Debug, Args)]
pub(crate) struct RevokeArgs {
    #[command(subcommand)]
    what: Revoke,
}

#[derive(Debug, Subcommand)]
enum Revoke {
    /// One token, by its jti: rejected until its exp (then the entry goes away by itself).
    Jti {
        /// The token's jti.
        #[arg(value_name = "ID")]
        id: String,
        /// The token's exp, in Unix seconds: the entry is kept until then (plus a grace period).
        #[arg(long, value_name = "UNIX")]
        until: u64,
        #[command(flatten)]
        target: Target,
    },
    /// One token given whole (the token, a file holding it, or `-`): its jti until its exp.
    /// The token is not verified.
    Token {
        /// The token, a file holding it, or `-` for stdin.
        #[arg(value_name = "TOKEN")]
        token: String,
        #[command(flatten)]
        target: Target,
    },
    /// Every token of a subject issued before a time ("log out everywhere").
    Sub {
        /// The subject (the tokens' sub claim).
        #[arg(value_name = "SUB")]
        id: String,
        /// Tokens issued before this Unix time are rejected [default: now].
        #[arg(long, value_name = "UNIX")]
        before: Option<u64>,
        #[command(flatten)]
        target: Target,
    },
    /// Every token signed by a key, by its kid (even while the key is still published).
    Kid {
        /// The key's kid.
        #[arg(value_name = "KID")]
        id: String,
        #[command(flatten)]
        target: Target,
    },
}

#[derive(Debug, Args)]
pub(crate) struct UnrevokeArgs {
    /// What the entry names: jti, sub or kid.
    #[arg(value_name = "KIND", value_parser = parse_kind)]
    kind: RevocationKind,
    /// The revoked jti, subject or kid.
    #[arg(value_name = "ID")]
    id: String,
    #[command(flatten)]
    target: Target,
}

#[derive(Debug, Args)]
pub(crate) struct RevocationsArgs {
    #[command(subcommand)]
    command: RevocationsCommand,
}

impl RevocationsArgs {
    /// Whether JSON output was asked for.
    pub(crate) fn json(&self) -> bool {
        match self.command {
            RevocationsCommand::List { json, .. } => json,
        }
    }
}

#[derive(Debug, Subcommand)]
enum RevocationsCommand {
    /// Every entry: kind, id, time and what it means; the back end and the counts.
    List {
        /// Print a JSON array: [{"id", "kind", "time"}] (time in Unix seconds).
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        target: Target,
    },
}

/// The `jti` and `exp` of a token, as the core reads them.
fn from_token(arg: &str) -> Result<(Revocation, String), CliError> {
    let input = read_token(arg)?;
    let label = format!("{} from {}", token_label(&input.token), inert(&input.source));
    let lenient = Lenient::decode(&input.token);
    let claims = lenient.claims_bytes().and_then(|bytes| jwtv::Claims::from_json(bytes).ok()).ok_or_else(|| {
        CliError::new(format!("token {label}: its claims cannot be decoded (`jwtv inspect` says why)"))
    })?;
    let jti = claims.jti().map(|jti| jti.chars().collect::<String>()).ok_or_else(|| {
        CliError::new(format!(
            "token {label} has no jti claim: it cannot be revoked alone; revoke its subject (`jwtv revoke sub`) or its key (`jwtv revoke kid`)"
        ))
    })?;
    let exp = claims.exp().map(|exp| exp.floor()).ok_or_else(|| {
        CliError::new(format!(
            "token {label} has no exp claim: give the time its entry may be dropped with `jwtv revoke jti ID --until UNIX`"
        ))
    })?;
    let exp = u64::try_from(exp).map_err(|_| CliError::new(format!("token {label}: exp {exp} is before 1970")))?;
    Ok((Revocation::Jti { id: jti, exp }, label))
}

pub(crate) fn run_revoke(args: &RevokeArgs) -> Outcome {
    let now = jwtv_jwks::unix_now();
    let (revocation, target, from) = match &args.what {
        Revoke::Jti { id, until, target } => (Revocation::Jti { id: id.clone(), exp: *until }, target, None),
        Revoke::Token { token, target } => {
            let (revocation, label) = from_token(token)?;
            (revocation, target, Some(label))
        }
        Revoke::Sub { id, before, target } => {
            (Revocation::Sub { id: id.clone(), not_before: before.unwrap_or(now) }, target, None)
        }
        Revoke::Kid { id, target } => (Revocation::Kid { id: id.clone(), since: now }, target, None),
    };
    revocation.validate().map_err(|e| CliError::new(e.to_string()))?;
    // A token is expired for every verifier once now ≥ exp + leeway, and no
    // verifier has a leeway above MAX_LEEWAY_SECS: only then is there
    // nothing left to revoke.
    if let Revocation::Jti { id, exp } = &revocation
        && now >= exp.saturating_add(MAX_LEEWAY_SECS)
    {
        let exp_i = i64::try_from(*exp).unwrap_or(i64::MAX);
        let now_i = i64::try_from(now).unwrap_or(i64::MAX);
        return Err(CliError::new(format!(
            "jti {} expired at {} ({}), longer ago than any verifier's leeway (at most {MAX_LEEWAY_SECS} s): verifiers reject it anyway, there is nothing to revoke",
            shown(id),
            date(*exp),
            relative(exp_i, now_i)
        )));
    }
    let source = target.resolve()?;
    let list = source.open(true)?;
    let kind = revocation.kind();
    let id = revocation.id().to_owned();
    list.revoke(revocation).map_err(|e| CliError::new(format!("cannot revoke in {}: {e}", where_(&list.status()))))?;
    let status = list.status();
    // The list keeps the stronger of two entries for one id: show the one it has.
    let time = list.snapshot().get(kind, &id).map_or(now, |entry| entry.time());
    let what = match kind {
        RevocationKind::Jti => format!("until {}", date(time)),
        RevocationKind::Sub => format!("for tokens issued before {}", date(time)),
        RevocationKind::Kid => format!("since {}", date(time)),
    };
    let from = from.map(|label| format!(", token {label}")).unwrap_or_default();
    Ok((EXIT_OK, format!("revoked {kind} {} {what} ({}){from}\n", shown(&id), where_(&status))))
}

pub(crate) fn run_unrevoke(args: &UnrevokeArgs) -> Outcome {
    let source = args.target.resolve()?;
    let list = source.open(false)?;
    let removed = list
        .unrevoke(args.kind, &args.id)
        .map_err(|e| CliError::new(format!("cannot unrevoke in {}: {e}", where_(&list.status()))))?;
    let status = list.status();
    let (kind, id, at) = (args.kind, shown(&args.id), where_(&status));
    Ok(if removed {
        (EXIT_OK, format!("unrevoked {kind} {id} ({at})\n"))
    } else {
        (EXIT_REJECTED, format!("not revoked: no {kind} entry {id} in {at}\n"))
    })
}

pub(crate) fn run_revocations(args: &RevocationsArgs) -> Outcome {
    let RevocationsCommand::List { json, target } = &args.command;
    let source = target.resolve()?;
    let list = source.open(false)?;
    if !wait_first_sync(&list, LIST_SYNC_TIMEOUT) {
        return Err(CliError::new(unsynced(&list.status(), LIST_SYNC_TIMEOUT)));
    }
    let status = list.status();
    let entries = list.snapshot().entries();
    let mut out = String::new();
    if *json {
        let rows: Vec<_> =
            entries.iter().map(|e| json!({"kind": e.kind().as_str(), "id": e.id(), "time": e.time()})).collect();
        let _ = writeln!(out, "{}", human::json(&serde_json::Value::Array(rows)));
        return Ok((EXIT_OK, out));
    }
    let _ = writeln!(out, "revocation list: {}; {}", where_(&status), counts(&status));
    if entries.is_empty() {
        return Ok((EXIT_OK, out));
    }
    let now = i64::try_from(jwtv_jwks::unix_now()).unwrap_or(i64::MAX);
    let rows: Vec<[String; 4]> = entries
        .iter()
        .map(|e| {
            let t = i64::try_from(e.time()).unwrap_or(i64::MAX);
            let meaning = match e.kind() {
                RevocationKind::Jti => "this token is rejected until its exp",
                RevocationKind::Sub => "tokens of this subject issued before this time are rejected",
                RevocationKind::Kid => "every token signed by this key is rejected (revoked at this time)",
            };
            [
                e.kind().as_str().to_owned(),
                shown(e.id()),
                format!("{} ({})", utc(t), relative(t, now)),
                meaning.to_owned(),
            ]
        })
        .collect();
    let header = ["KIND", "ID", "TIME", "MEANING"].map(str::to_owned);
    let width = |i: usize| rows.iter().chain([&header]).map(|r| r[i].chars().count()).max().unwrap_or(0);
    let widths = [width(0), width(1), width(2)];
    for row in [&header].into_iter().chain(&rows) {
        let _ = writeln!(
            out,
            "{:w0$}  {:w1$}  {:w2$}  {}",
            row[0],
            row[1],
            row[2],
            row[3],
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2]
        );
    }
    Ok((EXIT_OK, out))
}
