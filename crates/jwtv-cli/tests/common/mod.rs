//! What the `jwtv` binary's test files share: the examples' time, the
//! repository root, and running `jwtv` as a user runs it.

#![allow(dead_code, unreachable_pub, reason = "each test file uses part of this")]

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

/// 2026-01-01T01:00:00Z: the example tokens were issued an hour before.
pub const NOW: &str = "1767229200";

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `jwtv` from the repository root; never a panic, never colour
/// outside a terminal unless `--color always` asks for it.
pub fn jwtv_with_stdin(args: &[&str], stdin: Option<&[u8]>) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_jwtv"))
        .args(args)
        .current_dir(root())
        .env_remove("NO_COLOR")
        .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run jwtv");
    if let Some(input) = stdin {
        child.stdin.take().expect("stdin").write_all(input).expect("write stdin");
    }
    let out = child.wait_with_output().expect("wait for jwtv");
    let run = Run {
        code: out.status.code().expect("exit code"),
        stdout: String::from_utf8(out.stdout).expect("UTF-8 stdout"),
        stderr: String::from_utf8(out.stderr).expect("UTF-8 stderr"),
    };
    assert!(!run.stderr.contains("panicked") && !run.stderr.contains("RUST_BACKTRACE"), "{args:?}: {run:?}");
    let asked = args.windows(2).any(|pair| pair == ["--color", "always"]);
    if !asked {
        assert!(!run.stdout.contains('\x1b') && !run.stderr.contains('\x1b'), "colour outside a terminal: {run:?}");
    }
    run
}

pub fn jwtv(args: &[&str]) -> Run {
    jwtv_with_stdin(args, None)
}

/// A fresh folder per test, removed when dropped.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("jwtv-cli-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        Self(dir)
    }

    pub fn path(&self, name: &str) -> String {
        self.0.join(name).to_str().expect("UTF-8 path").to_owned()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// examples/policy.json with absolute key paths, changed by `edit`, written
/// into `dir` as `name`.
pub fn policy_with(dir: &TempDir, name: &str, edit: impl FnOnce(&mut Value)) -> String {
    let mut policy: Value =
        serde_json::from_slice(&std::fs::read(root().join("examples/policy.json")).expect("policy")).expect("JSON");
    let jwks = root().join("examples/jwks.json");
    policy["keys"] = serde_json::json!({"jwks_file": jwks.to_str().expect("UTF-8 path")});
    edit(&mut policy);
    let path = dir.path(name);
    std::fs::write(&path, policy.to_string()).expect("write policy");
    path
}

/// The one JSON line of `text`.
pub fn json(text: &str) -> Value {
    let mut lines = text.lines();
    let value = serde_json::from_str(lines.next().expect("a line")).expect("JSON");
    assert_eq!(lines.next(), None, "exactly one JSON object: {text}");
    value
}
