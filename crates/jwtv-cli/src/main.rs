//! `jwtv`: inspect, verify and diagnose JWTs on the command line, list the
//! keys of a JWKS, sign test tokens, and revoke tokens, subjects and keys.
//! The runbook (`docs/RUNBOOK.md`) is written in these commands.
//!
//! Exit codes: 0 valid (or done), 1 rejected, 2 usage error, unreadable
//! input, or no verdict (a check the policy requires could not run: code
//! `unavailable`).
//!
//! Everything printed goes through [`human::terminal`]: no escape sequence,
//! control character or bidi override from a token, a key set or a list
//! reaches the terminal.

#![forbid(unsafe_code)]
#![allow(clippy::std_instead_of_core, clippy::std_instead_of_alloc, reason = "a std binary")]

mod doctor;
mod explain;
mod fleet;
mod human;
mod input;
mod inspect;
mod keys;
mod revoke;
mod setup;
mod sign;
mod verify;

use std::io::Write as _;
use std::process::ExitCode;

use clap::{Args, CommandFactory, FromArgMatches as _, Parser, Subcommand};

/// The exit code of a valid token (or a command that did its job).
pub(crate) const EXIT_OK: u8 = 0;
/// The exit code of a rejected token (or a key set without a usable key).
pub(crate) const EXIT_REJECTED: u8 = 1;
/// The exit code of a usage error or of input that cannot be read.
pub(crate) const EXIT_USAGE: u8 = 2;
/// The exit code when there is no verdict: a check the policy requires
/// could not run (the key set or the revocation list is unavailable). The
/// same number as [`EXIT_USAGE`]: neither is a verdict on the token.
pub(crate) const EXIT_UNDETERMINED: u8 = 2;

/// What a command prints on stdout, and its exit code.
pub(crate) type Outcome = Result<(u8, String), CliError>;

/// A failure that is not a verdict on the token: bad arguments, a file that
/// cannot be read, a key set that cannot be fetched. Exit code 2.
#[derive(Debug)]
pub(crate) struct CliError(pub(crate) String);

impl CliError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

#[derive(Debug, Parser)]
#[command(
    name = "jwtv",
    version,
    about = "Inspect, verify and diagnose JWTs; list JWKS keys; sign test tokens; revoke tokens",
    long_about = "Inspect, verify and diagnose JWTs; list JWKS keys; sign test tokens; revoke\n\
                  tokens, subjects and keys.\n\n\
                  A TOKEN is given as the token itself, as a file holding it, or as `-` for stdin\n\
                  (an `Authorization: Bearer` prefix is removed). Tokens and signatures are never\n\
                  printed whole.\n\n\
                  Exit codes: 0 valid, 1 rejected, 2 usage error, unreadable input, or no verdict\n\
                  (a key set or revocation list the policy needs is unavailable: code `unavailable`).\n\
                  docs/RUNBOOK.md walks through a token incident with these commands."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Colours: `auto` (on a terminal, unless NO_COLOR is set), `always`, `never`.
    #[arg(long, global = true, value_enum, default_value_t = human::ColorChoice::Auto)]
    color: human::ColorChoice,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Decode a token WITHOUT verifying it: header, claims, times, structural problems.
    Inspect(inspect::InspectArgs),
    /// Verify a token: exit 0 and the claims when valid, exit 1 and the error code when rejected.
    Verify(verify::VerifyArgs),
    /// Walk through every check in order and say which one fails and what to do.
    Doctor(doctor::DoctorArgs),
    /// List the keys of a JWKS (file or URL) with thumbprints and warnings.
    Keys(keys::KeysArgs),
    /// TESTING AID: mint a signed token with a test key (staging, auth-flow tests).
    Sign(sign::SignArgs),
    /// Revoke a token (by jti), every token of a subject, or a signing key, in a revocation list.
    Revoke(revoke::RevokeArgs),
    /// Take back a revocation: exit 0 when an entry was removed, 1 when there was none.
    Unrevoke(revoke::UnrevokeArgs),
    /// Show a revocation list (`jwtv revocations list`).
    Revocations(revoke::RevocationsArgs),
    /// Print a shell completion script: `jwtv completions bash > /etc/bash_completion.d/jwtv`.
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff): `jwtv man > jwtv.1; man ./jwtv.1`.
    Man,
}

impl Command {
    /// Whether the command was asked for JSON output (`--json`).
    fn json(&self) -> bool {
        match self {
            Self::Inspect(args) => args.json,
            Self::Verify(args) => args.json,
            Self::Doctor(args) => args.json,
            Self::Keys(args) => args.json,
            Self::Revocations(args) => args.json(),
            Self::Sign(_) | Self::Revoke(_) | Self::Unrevoke(_) | Self::Completions { .. } | Self::Man => false,
        }
    }
}

/// The rules a token is checked against: a policy file and/or flags.
#[derive(Debug, Clone, Args)]
pub(crate) struct PolicyArgs {
    /// The key set: a JWKS file, a PEM public key file or an http(s) URL.
    /// Overrides the policy file's keys.
    #[arg(long, value_name = "FILE|URL")]
    pub(crate) jwks: Option<String>,
    /// A policy file (docs/POLICY.md). Flags given with it override (--alg, --typ,
    /// --leeway, --jwks, --set) or add to (--iss, --aud, --require) what the file says.
    #[arg(long, value_name = "FILE")]
    pub(crate) policy: Option<std::path::PathBuf>,
    /// An accepted algorithm (repeatable). Default: the policy file's, or every
    /// algorithm jwtv verifies (each key is pinned to one).
    #[arg(long = "alg", value_name = "ALG", value_parser = setup::parse_alg)]
    pub(crate) algs: Vec<jwtv::Algorithm>,
    /// An accepted issuer (repeatable).
    #[arg(long = "iss", value_name = "ISS")]
    pub(crate) issuers: Vec<String>,
    /// An accepted audience (repeatable). Without any, a token with `aud` is refused.
    #[arg(long = "aud", value_name = "AUD")]
    pub(crate) audiences: Vec<String>,
    /// Clock-skew allowance for exp, nbf and iat, in seconds [default: 30].
    #[arg(long, value_name = "SECS")]
    pub(crate) leeway: Option<u64>,
    /// The time to check against, in Unix seconds or as an RFC 3339
    /// time (`2026-01-01T00:00:00Z`); default: the system clock.
    #[arg(long, value_name = "TIME", value_parser = crate::human::parse_time)]
    pub(crate) now: Option<u64>,
    /// The required header `typ` (case-insensitive, `application/` optional).
    #[arg(long, value_name = "TYP")]
    pub(crate) typ: Option<String>,
    /// A claim that must be present (repeatable).
    #[arg(long = "require", value_name = "CLAIM")]
    pub(crate) required: Vec<String>,
    /// A revocation list to check tokens against: a JSON file or a redis:// URL.
    /// Overrides the policy file's `revocations.source`.
    #[arg(long, value_name = "SOURCE")]
    pub(crate) revocations: Option<String>,
    /// Sets any field of the policy document (docs/POLICY.md) to a JSON value
    /// (repeatable), after the policy file and the other flags:
    /// `--set max_age_secs=3600`, `--set 'required_claim_values={"tenant":"acme"}'`.
    #[arg(long = "set", value_name = "PATH=JSON")]
    pub(crate) set: Vec<String>,
    /// The CA certificates (PEM) an https key server must chain to, in place of
    /// the system's trust store (the policy's `tls.ca_file`).
    #[arg(long, value_name = "FILE")]
    pub(crate) cacert: Option<std::path::PathBuf>,
    /// How long to wait for a JWKS URL (and a Redis revocation list), in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 5)]
    pub(crate) timeout: u64,
}

/// The command line, with `--leeway`'s help showing the value a `--policy`
/// file on the same command line sets (`jwtv verify --policy p.json --help`).
fn command() -> clap::Command {
    let command = Cli::command();
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let policy_file = args.iter().enumerate().find_map(|(i, arg)| {
        let arg = arg.to_str()?;
        match arg.strip_prefix("--policy=") {
            Some(file) => Some(file.to_owned()),
            None if arg == "--policy" => args.get(i + 1)?.to_str().map(str::to_owned),
            None => None,
        }
    });
    let Some(leeway) = policy_file.and_then(|file| jwtv_gateway::Policy::from_file(file).ok()).map(|p| p.leeway())
    else {
        return command;
    };
    let help = format!("Clock-skew allowance for exp, nbf and iat, in seconds [the policy file sets {leeway}]");
    let with_help = |sub: clap::Command| sub.mut_arg("leeway", |arg| arg.help(help.clone()));
    command.mut_subcommand("verify", with_help).mut_subcommand("doctor", with_help)
}

fn main() -> ExitCode {
    let cli = match Cli::from_arg_matches(&command().get_matches()) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    human::set_color(cli.color);
    let json = cli.command.json();
    let result = match cli.command {
        Command::Inspect(args) => inspect::run(&args),
        Command::Verify(args) => verify::run(&args),
        Command::Doctor(args) => doctor::run(&args),
        Command::Keys(args) => keys::run(&args),
        Command::Sign(args) => sign::run(&args),
        Command::Revoke(args) => revoke::run_revoke(&args),
        Command::Unrevoke(args) => revoke::run_unrevoke(&args),
        Command::Revocations(args) => revoke::run_revocations(&args),
        Command::Completions { shell } => {
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "jwtv", &mut script);
            // Generated from our own definitions: printed as they are.
            let _ = std::io::stdout().write_all(&script);
            return ExitCode::from(EXIT_OK);
        }
        Command::Man => {
            let mut page = Vec::new();
            if clap_mangen::Man::new(Cli::command()).render(&mut page).is_err() {
                return ExitCode::from(EXIT_USAGE);
            }
            let _ = std::io::stdout().write_all(&page);
            return ExitCode::from(EXIT_OK);
        }
    };
    match result {
        Ok((code, text)) => {
            // A closed pipe (`| head`) is not an error worth a message.
            let mut stdout = std::io::stdout().lock();
            let _ = stdout.write_all(human::terminal(&text).as_bytes());
            let _ = stdout.flush();
            ExitCode::from(code)
        }
        Err(CliError(message)) => {
            // With --json, scripts get a JSON object on stdout as well: no
            // verdict, and why.
            if json {
                let doc = serde_json::json!({"valid": null, "error": {"message": message}});
                let _ = std::io::stdout().write_all(human::terminal(&format!("{doc}\n")).as_bytes());
            }
            // One line: a line break from the input must not start another.
            let _ = writeln!(std::io::stderr(), "jwtv: error: {}", human::inert(&message));
            ExitCode::from(EXIT_USAGE)
        }
    }
}
