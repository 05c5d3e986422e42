//! Untrusted text never reaches a terminal raw. Every command runs under a
//! pseudo-terminal (python3's `pty` module), as on an operator's screen, on a
//! hostile token, key set and revocation list: escape sequences (OSC, CSI,
//! clear screen), C1 controls and bidi overrides must show as their escaped
//! forms (`\u001b`, `\u009b`, `\u202e`), never as the bytes a terminal obeys.

#![allow(clippy::std_instead_of_alloc, clippy::std_instead_of_core, reason = "a test harness on std")]

mod common;

use std::process::Command;

use common::{NOW, Run, TempDir, jwtv, root};
use serde_json::{Value, json};

/// A window title (OSC), a clear screen (CSI), a C1 CSI and a right-to-left
/// override, between printable characters.
const HOSTILE: &str = "x\u{1b}]0;pwned\u{7}y\u{1b}[2Jz\u{9b}31m\u{202e}!";

/// [`HOSTILE`] as the escaped text that must be printed instead.
const ESCAPED: &str = r"x\u001b]0;pwned\u0007y\u001b[2Jz\u009b31m\u202e!";

/// Runs `jwtv` on a pseudo-terminal (stdout and stderr both), in the
/// repository root; `colour` leaves `NO_COLOR` unset.
const PTY: &str = r#"
import os, pty, sys
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
chunks = []
while True:
    try:
        chunk = os.read(fd, 65536)
    except OSError:
        break
    if not chunk:
        break
    chunks.append(chunk)
_, status = os.waitpid(pid, 0)
sys.stdout.buffer.write(b"".join(chunks))
sys.exit(os.waitstatus_to_exitcode(status))
"#;

#[track_caller]
fn on_terminal(args: &[&str], colour: bool) -> Run {
    let mut command = Command::new("python3");
    command.args(["-c", PTY, env!("CARGO_BIN_EXE_jwtv")]).args(args).current_dir(root());
    if colour {
        command.env_remove("NO_COLOR");
    } else {
        command.env("NO_COLOR", "1");
    }
    let out = command.output().expect("python3 runs the pty wrapper");
    let text = String::from_utf8(out.stdout).expect("UTF-8 output").replace("\r\n", "\n");
    assert!(!text.contains("panicked"), "{args:?}: {text}");
    Run {
        code: out.status.code().expect("exit code"),
        stdout: text,
        stderr: String::from_utf8_lossy(&out.stderr).into(),
    }
}

/// What a terminal would obey: C0 controls but the line break, DEL, C1
/// controls and the bidi controls.
fn obeyed(c: char) -> bool {
    matches!(c, '\0'..='\u{9}' | '\u{b}'..='\u{1f}' | '\u{7f}'..='\u{9f}' | '\u{61c}' | '\u{200e}' | '\u{200f}')
        || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `jwtv args` on a terminal without colour: nothing a terminal obeys, and
/// each of `shown` in the output.
#[track_caller]
fn assert_inert(args: &[&str], code: i32, shown: &[&str]) -> String {
    let run = on_terminal(args, false);
    assert_eq!(run.code, code, "{args:?}: {}", run.stdout);
    let raw: Vec<char> = run.stdout.chars().filter(|c| obeyed(*c)).collect();
    assert!(raw.is_empty(), "{args:?} printed {raw:?} raw:\n{}", run.stdout);
    for text in shown {
        assert!(run.stdout.contains(text), "{args:?}: {text:?} not in\n{}", run.stdout);
    }
    run.stdout
}

/// A key set and tokens full of [`HOSTILE`] text, in a fresh folder.
struct Fixtures {
    dir: TempDir,
    /// The example ES256 key with kid [`HOSTILE`], and two keys with hostile members.
    jwks: String,
    /// Signed by the example ES256 key: kid, iss, sub, aud, jti and a claim [`HOSTILE`].
    token: String,
}

impl Fixtures {
    fn new(name: &str) -> Self {
        let dir = TempDir::new(&format!("terminal-{name}"));
        let examples: Value =
            serde_json::from_slice(&std::fs::read(root().join("examples/jwks.json")).expect("jwks")).expect("JSON");
        let mut es256 = examples["keys"][0].clone();
        es256["kid"] = HOSTILE.into();
        let junk = json!({"kty": HOSTILE, "use": HOSTILE, "crv": HOSTILE, "alg": HOSTILE, "kid": HOSTILE});
        let mut odd = examples["keys"][0].clone();
        odd["kid"] = "odd".into();
        odd["crv"] = "P-256\u{202e}".into();
        odd["use"] = "sig\u{9b}2J".into();
        odd["alg"] = "ES256\u{1b}[2J".into();
        let jwks = dir.path("jwks.json");
        std::fs::write(&jwks, json!({"keys": [es256, junk, odd]}).to_string()).expect("write jwks");

        let claims = json!({
            "iss": HOSTILE, "sub": HOSTILE, "aud": ["api", HOSTILE], "jti": HOSTILE, "note": HOSTILE,
            "iat": 1_767_225_600_u64, "exp": 4_102_444_800_u64,
        });
        let signed = jwtv(&[
            "sign",
            "--key",
            "examples/keys/test-es256.pem",
            "--alg",
            "ES256",
            "--kid",
            HOSTILE,
            "--claims",
            &claims.to_string(),
        ]);
        assert_eq!(signed.code, 0, "{signed:?}");
        let token = dir.path("hostile.jwt");
        std::fs::write(&token, signed.stdout.trim()).expect("write token");
        Self { dir, jwks, token }
    }
}

/// A "token" whose first characters are escape sequences.
const GARBAGE: &str = "\u{1b}]0;pwned\u{7}\u{1b}[2J\u{9b}\u{202e}.e30.AAAA";

#[test]
fn inspect_prints_a_hostile_token_inert() {
    let f = Fixtures::new("inspect");
    assert_inert(&["inspect", &f.token, "--now", NOW], 0, &[&format!("\"kid\": \"{ESCAPED}\""), ESCAPED]);
    assert_inert(
        &["inspect", GARBAGE, "--now", NOW],
        1,
        &[r"token:     \u001b]0;pwned\u0007\u001b[… (25 chars) from argument"],
    );
}

#[test]
fn verify_prints_a_hostile_token_inert() {
    let f = Fixtures::new("verify");
    let base = ["verify", f.token.as_str(), "--jwks", f.jwks.as_str(), "--now", NOW];
    let valid = assert_inert(&[&base[..], &["--aud", "api"]].concat(), 0, &[&format!("key \"{ESCAPED}\"")]);
    assert!(valid.contains(&format!("\"sub\": \"{ESCAPED}\"")), "{valid}");
    // The reasons quote the token's values.
    assert_inert(&[&base[..], &["--aud", "api", "--iss", "other"]].concat(), 1, &["reason: iss is ", ESCAPED]);
    assert_inert(&[&base[..], &["--aud", "other"]].concat(), 1, &["reason: aud is ", ESCAPED]);
    let unknown_kid = ["verify", f.token.as_str(), "--jwks", "examples/jwks.json", "--aud", "api", "--now", NOW];
    assert_inert(&unknown_kid, 1, &[&format!("reason: no key has kid \"{ESCAPED}\"")]);
    assert_inert(&[&base[..], &["--aud", "api", "--require", HOSTILE]].concat(), 1, &[ESCAPED]);
    assert_inert(&["verify", GARBAGE, "--jwks", f.jwks.as_str()], 1, &["rejected: malformed"]);
}

#[test]
fn doctor_prints_a_hostile_token_inert() {
    let f = Fixtures::new("doctor");
    let base = ["doctor", f.token.as_str(), "--jwks", f.jwks.as_str(), "--now", NOW];
    let valid = assert_inert(&[&base[..], &["--aud", "api"]].concat(), 0, &["✔ 8 verdict     valid"]);
    for line in [
        format!("kid \"{ESCAPED}\"); signature 64 bytes"),
        format!("✔ 4 signing key kid \"{ESCAPED}\" is in the key set (EC P-256)"),
        format!(r#"skipped key #1 "{ESCAPED}""#),
        format!(r#"as the policy asks: iss not checked, aud ["api","{ESCAPED}"]"#),
    ] {
        assert!(valid.contains(&line), "{line:?} not in\n{valid}");
    }
    assert_inert(&[&base[..], &["--aud", "api", "--iss", "other"]].concat(), 1, &["✘ 6 claims      iss is ", ESCAPED]);
    assert_inert(&["doctor", GARBAGE, "--jwks", f.jwks.as_str()], 1, &[r"jwtv doctor: \u001b]0;pwned\u0007"]);
    // With a revocation list: the ids it looks up, and the one that matched.
    let list = f.dir.path("revoked.json");
    let revoke = jwtv(&["revoke", "kid", HOSTILE, "--to", &list]);
    assert_eq!(revoke.code, 0, "{revoke:?}");
    let with_list = [&base[..], &["--aud", "api", "--revocations", list.as_str()]].concat();
    assert_inert(&with_list, 1, &[&format!("✘ 7 revocation  revoked by kid: the signing key (kid \"{ESCAPED}\")")]);
}

#[test]
fn keys_prints_a_hostile_key_set_inert() {
    let f = Fixtures::new("keys");
    let out = assert_inert(&["keys", &f.jwks], 0, &[&format!("#0 kid \"{ESCAPED}\"  EC P-256  alg ES256  use sig")]);
    let junk = format!("#1 kid \"{ESCAPED}\"  \"{ESCAPED}\" \"{ESCAPED}\"  alg \"{ESCAPED}\"  use \"{ESCAPED}\"");
    assert!(out.contains(&junk), "{junk:?} not in\n{out}");
    let odd = r#"#2 kid "odd"  EC "P-256\u202e"  alg "ES256\u001b[2J"  use "sig\u009b2J""#;
    assert!(out.contains(odd), "{odd:?} not in\n{out}");
}

#[test]
fn revocation_commands_print_hostile_ids_inert() {
    let f = Fixtures::new("revoke");
    let list = f.dir.path("revoked.json");
    let to = ["--to", list.as_str()];
    let quoted = format!("\"{ESCAPED}\"");
    assert_inert(&[&["revoke", "sub", HOSTILE][..], &to].concat(), 0, &[&format!("revoked sub {quoted} for tokens")]);
    assert_inert(&[&["revoke", "kid", "k\u{202e}1"][..], &to].concat(), 0, &[r#"revoked kid "k\u202e1" since"#]);
    assert_inert(&[&["revoke", "token", f.token.as_str()][..], &to].concat(), 0, &[&format!("revoked jti {quoted}")]);
    let listed = assert_inert(&[&["revocations", "list"][..], &to].concat(), 0, &["3 entries: 1 jti, 1 sub, 1 kid"]);
    assert_eq!(listed.matches(&quoted).count(), 2, "{listed}");
    assert_inert(&[&["unrevoke", "sub", HOSTILE][..], &to].concat(), 0, &[&format!("unrevoked sub {quoted}")]);
    assert_inert(&[&["unrevoke", "sub", HOSTILE][..], &to].concat(), 1, &[&format!("no sub entry {quoted}")]);
}

#[test]
fn errors_that_quote_the_input_are_inert() {
    let f = Fixtures::new("errors");
    // A path with escape sequences, a policy with a hostile member name, a
    // key file that is not a JWKS, a token without jti to revoke.
    let path = format!("{}/{HOSTILE}.jwt", f.dir.path("missing"));
    assert_inert(&["inspect", &path], 2, &[r"jwtv: error: cannot read ", ESCAPED]);
    let policy = f.dir.path("policy.json");
    std::fs::write(
        &policy,
        json!({"keys": {"jwks_file": "jwks.json"}, "algorithms": ["ES256"], HOSTILE: 1}).to_string(),
    )
    .expect("write policy");
    assert_inert(&["verify", &f.token, "--policy", &policy], 2, &["jwtv: error: policy ", ESCAPED]);
    let not_jwks = f.dir.path("not-jwks.json");
    std::fs::write(&not_jwks, json!({HOSTILE: []}).to_string()).expect("write");
    assert_inert(&["verify", &f.token, "--jwks", &not_jwks], 2, &["jwtv: error: "]);
    let no_jti = format!("{GARBAGE}.e30.AAAA");
    let list = f.dir.path("revoked.json");
    assert_inert(&["revoke", "token", &no_jti, "--to", &list], 2, &[r"jwtv: error: token \u001b]0;pwned\u0007"]);
    // One line each: a line break in the input does not start another.
    let run = on_terminal(&["inspect", &format!("{}/a\nfake line.jwt", f.dir.path("x"))], false);
    assert_eq!((run.code, run.stdout.lines().count()), (2, 1), "{}", run.stdout);
    assert!(run.stdout.contains(r"a\u000afake line.jwt"), "{}", run.stdout);
}

#[test]
fn json_output_keeps_the_values_and_carries_no_raw_controls() {
    let f = Fixtures::new("json");
    let list = f.dir.path("revoked.json");
    assert_eq!(jwtv(&["revoke", "sub", HOSTILE, "--to", &list]).code, 0);
    let token = f.token.as_str();
    // Values stay the token's (the JSON escapes change how they are written,
    // not what they are); doctor's sentences hold them as printed.
    let cases: [(&[&str], i32, &str); 5] = [
        (&["inspect", token, "--json", "--now", NOW], 0, HOSTILE),
        (&["verify", token, "--jwks", &f.jwks, "--aud", "api", "--json", "--now", NOW], 0, HOSTILE),
        (
            &["doctor", token, "--jwks", &f.jwks, "--aud", "api", "--revocations", &list, "--json", "--now", NOW],
            1,
            ESCAPED,
        ),
        (&["keys", &f.jwks, "--json"], 0, HOSTILE),
        (&["revocations", "list", "--to", &list, "--json"], 0, HOSTILE),
    ];
    for (args, code, kept) in cases {
        let out = assert_inert(args, code, &[r"\u001b", r"\u009b", r"\u202e"]);
        let doc: Value = serde_json::from_str(out.trim_end()).unwrap_or_else(|e| panic!("{args:?}: {e}: {out}"));
        assert!(strings_of(&doc).iter().any(|s| s.contains(kept)), "{args:?}: {kept:?} not in {out}");
    }
}

/// Every string in a JSON value.
fn strings_of(value: &Value) -> Vec<String> {
    match value {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) => items.iter().flat_map(strings_of).collect(),
        Value::Object(map) => map.iter().flat_map(|(k, v)| std::iter::once(k.clone()).chain(strings_of(v))).collect(),
        _ => Vec::new(),
    }
}

#[test]
fn colours_are_the_only_escape_sequences() {
    let f = Fixtures::new("colour");
    let run = on_terminal(&["doctor", &f.token, "--jwks", &f.jwks, "--aud", "api", "--now", NOW], true);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(run.stdout.contains("\u{1b}[32m✔\u{1b}[0m 1 token"), "colour on a terminal: {:?}", run.stdout);
    let ours = ["\u{1b}[0m", "\u{1b}[1m", "\u{1b}[31m", "\u{1b}[32m", "\u{1b}[33m"];
    for (at, _) in run.stdout.match_indices('\u{1b}') {
        let rest = &run.stdout[at..];
        assert!(ours.iter().any(|sgr| rest.starts_with(sgr)), "an escape sequence not ours: {rest:?}");
    }
    assert!(!run.stdout.contains(|c: char| matches!(c, '\u{80}'..='\u{9f}' | '\u{202e}')), "{:?}", run.stdout);
    assert!(run.stdout.contains(ESCAPED), "{:?}", run.stdout);
}
