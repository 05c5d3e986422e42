//! Runs every `jwtv` command of docs/RUNBOOK.md and compares its output with
//! the one the runbook shows, so the runbook cannot rot.
//!
//! A command is a ```sh block starting with `jwtv `; its expected output is
//! the ```text block right after it (stdout and stderr); `# exit N` at the end
//! of the command gives the exit code (0 when absent); `[...]` in an expected
//! line matches any text. `$JWKS_URL` is examples/jwks.json served from
//! 127.0.0.1 with a current `Date` header; `$METRICS_URL` is a gateway's
//! metrics page served from there too, which shows every incident pattern
//! `jwtv doctor --metrics` knows between one scrape and the next;
//! `$REVOCATIONS` is a revocation list file in a fresh temporary folder
//! (absent until a command creates it), shared by the commands of one
//! document in order.

#![allow(clippy::std_instead_of_alloc, clippy::std_instead_of_core, reason = "a test harness on std")]

#[path = "../../jwtv-jwks/tests/support/http_server.rs"]
#[allow(dead_code, reason = "a shared test server; not every helper is used here")]
mod http_server;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use http_server::{Answer, TestServer};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The first of two scrapes of `$METRICS_URL`: a healthy gateway.
const SCRAPE_BEFORE: &str = "\
# TYPE jwtv_verifications_total counter
jwtv_verifications_total{result=\"ok\"} 91250
jwtv_verifications_total{result=\"expired\"} 310
jwtv_verifications_total{result=\"key_not_found\"} 12
jwtv_verifications_total{result=\"unavailable\"} 0
# TYPE jwtv_keys gauge
jwtv_keys 3
# TYPE jwtv_key_set_generation gauge
jwtv_key_set_generation 7
# TYPE jwtv_jwks_consecutive_failures gauge
jwtv_jwks_consecutive_failures 0
# TYPE jwtv_key_server_clock_skew_seconds gauge
jwtv_key_server_clock_skew_seconds 0.4
# TYPE jwtv_revocations_synced gauge
jwtv_revocations_synced 1
# TYPE jwtv_revocations_sync_lag_seconds gauge
jwtv_revocations_sync_lag_seconds 0.5
";

/// The second: 200 tokens later, every pattern at once (no key served, the
/// key server timing out, a new key set generation, 10% `key_not_found`,
/// clock skew, 10% expired, the revocation list 300 s behind, 5% not judged).
const SCRAPE_AFTER: &str = "\
# TYPE jwtv_verifications_total counter
jwtv_verifications_total{result=\"ok\"} 91400
jwtv_verifications_total{result=\"expired\"} 330
jwtv_verifications_total{result=\"key_not_found\"} 32
jwtv_verifications_total{result=\"unavailable\"} 10
# TYPE jwtv_keys gauge
jwtv_keys 0
# TYPE jwtv_key_set_generation gauge
jwtv_key_set_generation 8
# TYPE jwtv_jwks_consecutive_failures gauge
jwtv_jwks_consecutive_failures 4
# TYPE jwtv_jwks_last_failure gauge
jwtv_jwks_last_failure{reason=\"transport\"} 0
jwtv_jwks_last_failure{reason=\"timeout\"} 1
# TYPE jwtv_key_server_clock_skew_seconds gauge
jwtv_key_server_clock_skew_seconds -42.5
# TYPE jwtv_revocations_synced gauge
jwtv_revocations_synced 1
# TYPE jwtv_revocations_sync_lag_seconds gauge
jwtv_revocations_sync_lag_seconds 300
";

#[derive(Debug)]
struct Example {
    line: usize,
    command: String,
    exit: i32,
    expected: String,
}

/// The `jwtv` examples of a Markdown document.
fn examples(markdown: &str) -> Vec<Example> {
    let lines: Vec<&str> = markdown.lines().collect();
    let mut found = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if lines[i] != "```sh" {
            i += 1;
            continue;
        }
        let start = i + 1;
        let end = start + lines[start..].iter().position(|l| *l == "```").expect("closed ```sh block");
        let command = lines[start..end].join("\n");
        i = end + 1;
        if !command.starts_with("jwtv ") {
            continue;
        }
        while lines.get(i).is_some_and(|l| l.trim().is_empty()) {
            i += 1;
        }
        assert_eq!(lines.get(i), Some(&"```text"), "line {}: a jwtv command needs a ```text block after it", start);
        let out_start = i + 1;
        let out_end = out_start + lines[out_start..].iter().position(|l| *l == "```").expect("closed ```text block");
        let expected = lines[out_start..out_end].join("\n");
        i = out_end + 1;
        let (command, exit) = match command.rsplit_once("# exit ") {
            Some((command, code)) => (command.trim_end().to_owned(), code.trim().parse().expect("exit code")),
            None => (command, 0),
        };
        found.push(Example { line: start, command, exit, expected });
    }
    found
}

/// Whether `actual` matches `expected`, where `[...]` stands for any text.
fn line_matches(expected: &str, actual: &str) -> bool {
    let mut pieces = expected.split("[...]");
    let first = pieces.next().unwrap_or_default();
    let Some(mut rest) = actual.strip_prefix(first) else { return false };
    let pieces: Vec<&str> = pieces.collect();
    for (n, piece) in pieces.iter().enumerate() {
        if n + 1 == pieces.len() {
            return rest.ends_with(piece);
        }
        match rest.find(piece) {
            Some(at) => rest = &rest[at + piece.len()..],
            None => return false,
        }
    }
    rest.is_empty()
}

/// An IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`) of the current time.
fn http_date_now() -> String {
    let secs =
        i64::try_from(SystemTime::now().duration_since(UNIX_EPOCH).expect("after 1970").as_secs()).expect("fits");
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let weekday = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"][usize::try_from(days.rem_euclid(7)).expect("0..7")];
    let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let month = months[usize::try_from(month - 1).expect("1..=12")];
    format!("{weekday}, {day:02} {month} {year} {:02}:{:02}:{:02} GMT", rem / 3600, rem % 3600 / 60, rem % 60)
}

#[test]
fn wildcards_match_any_text() {
    assert!(line_matches("a [...] ms", "a 12 ms"));
    assert!(line_matches("a [...] b [...] c", "a 1 b 2 c"));
    assert!(!line_matches("a [...] ms", "b 12 ms"));
    assert!(!line_matches("exact", "exact!"));
    assert!(line_matches("exact", "exact"));
}

#[test]
fn every_runbook_command_prints_what_the_runbook_shows() {
    let markdown = std::fs::read_to_string(root().join("docs/RUNBOOK.md")).expect("docs/RUNBOOK.md");
    let examples = examples(&markdown);
    assert!(examples.len() >= 10, "the runbook has its jwtv commands: {}", examples.len());
    for command in
        ["jwtv inspect", "jwtv verify", "jwtv doctor", "jwtv keys", "jwtv sign", "jwtv revoke", "jwtv revocations list"]
    {
        assert!(examples.iter().any(|e| e.command.contains(command)), "{command} is in the runbook");
    }
    run_examples("RUNBOOK.md", &examples);
}

#[test]
fn every_alert_has_its_section_in_the_monitoring_view() {
    let markdown = std::fs::read_to_string(root().join("docs/RUNBOOK.md")).expect("docs/RUNBOOK.md");
    let rules = std::fs::read_to_string(root().join("deploy/prometheus/jwtv-rules.yml")).expect("rules");
    let (_, view) = markdown.split_once("\n## Monitoring view\n").expect("a Monitoring view section");
    let view = view.split("\n## ").next().unwrap_or_default();
    let alerts: Vec<&str> = rules.lines().filter_map(|l| l.trim().strip_prefix("- alert: ")).map(str::trim).collect();
    assert!(alerts.len() >= 10, "{alerts:?}");
    for alert in alerts {
        assert!(view.lines().any(|l| l == format!("### {alert}")), "docs/RUNBOOK.md has no section ### {alert}");
        let anchor = format!("RUNBOOK.md#{}", alert.to_lowercase());
        assert!(rules.contains(&anchor), "{alert}'s runbook_url should be {anchor}");
    }
}

#[test]
fn the_readme_doctor_example_is_what_doctor_prints() {
    let markdown = std::fs::read_to_string(root().join("README.md")).expect("README.md");
    let examples = examples(&markdown);
    assert!(examples.iter().any(|e| e.command.starts_with("jwtv doctor")), "the README shows doctor");
    run_examples("README.md", &examples);
}

fn run_examples(file: &str, examples: &[Example]) {
    let jwks = std::fs::read(root().join("examples/jwks.json")).expect("jwks");
    let mut scrapes = 0_u32;
    let server = TestServer::start(move |request| {
        if request.path == "/metrics" {
            // `doctor --metrics` reads twice: before, then after.
            scrapes += 1;
            let text = if scrapes % 2 == 1 { SCRAPE_BEFORE } else { SCRAPE_AFTER };
            return Answer::ok(text.as_bytes().to_vec(), &[("Content-Type", "text/plain; version=0.0.4")]);
        }
        Answer::ok(jwks.clone(), &[("Date", http_date_now().as_str())])
    });
    let url = server.url("/jwks.json");
    let metrics_url = server.url("/metrics");
    let temp = std::env::temp_dir().join(format!("jwtv-runbook-{}-{file}", std::process::id()));
    let _ = std::fs::remove_dir_all(&temp);
    std::fs::create_dir_all(&temp).expect("temp dir");
    let revocations = temp.join("revoked.json");
    let revocations = revocations.to_str().expect("UTF-8 temp path");
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_jwtv")).parent().expect("bin dir").to_path_buf();
    let path = std::env::join_paths(
        std::iter::once(bin_dir).chain(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())),
    )
    .expect("PATH");

    let mut failures = Vec::new();
    for example in examples {
        let out = Command::new("sh")
            .arg("-c")
            .arg(format!("{} 2>&1", example.command))
            .current_dir(root())
            .env("PATH", &path)
            .env("JWKS_URL", &url)
            .env("METRICS_URL", &metrics_url)
            .env("REVOCATIONS", revocations)
            .env_remove("NO_COLOR")
            .output()
            .expect("run sh");
        let actual = String::from_utf8(out.stdout)
            .expect("UTF-8")
            .replace(&url, "$JWKS_URL")
            .replace(&metrics_url, "$METRICS_URL")
            .replace(revocations, "$REVOCATIONS");
        let code = out.status.code().unwrap_or(-1);
        let actual_lines: Vec<&str> = actual.lines().collect();
        let expected_lines: Vec<&str> = example.expected.lines().collect();
        let same = actual_lines.len() == expected_lines.len()
            && expected_lines.iter().zip(&actual_lines).all(|(e, a)| line_matches(e, a));
        if !same || code != example.exit {
            failures.push(format!(
                "{file} line {}: {}\nexit {code} (expected {})\n--- expected\n{}\n--- actual\n{actual}",
                example.line, example.command, example.exit, example.expected
            ));
        }
    }
    let _ = std::fs::remove_dir_all(&temp);
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
