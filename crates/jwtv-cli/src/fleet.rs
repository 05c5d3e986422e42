//! `jwtv doctor --metrics URL`: a gateway's metrics (docs/OBSERVABILITY.md), read
//! twice a few seconds apart, and the incident patterns they show, each with
//! the runbook section that handles it.

use core::fmt::Write as _;
use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::json;

use crate::human::{self, Style, inert};
use crate::{CliError, EXIT_OK, EXIT_REJECTED, Outcome};

/// Samples of one scrape: `name{labels}` → value, summed when the same
/// series appears more than once (several verifiers behind one endpoint).
type Samples = BTreeMap<String, f64>;

/// Reads Prometheus text exposition: comment lines aside, `series value`.
fn parse(text: &str) -> Samples {
    let mut samples = Samples::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
        let Some((series, value)) = line.rsplit_once(' ') else { continue };
        let Ok(value) = value.parse::<f64>() else { continue };
        *samples.entry(series.trim().to_owned()).or_default() += value;
    }
    samples
}

fn fetch(url: &str, timeout: Duration) -> Result<Samples, CliError> {
    let agent = ureq::Agent::new_with_config(ureq::Agent::config_builder().timeout_global(Some(timeout)).build());
    let mut response = agent.get(url).call().map_err(|e| CliError::new(format!("cannot read {}: {e}", inert(url))))?;
    let text = response
        .body_mut()
        .with_config()
        .limit(16 << 20)
        .read_to_string()
        .map_err(|e| CliError::new(format!("cannot read {}: {e}", inert(url))))?;
    let samples = parse(&text);
    if !samples.keys().any(|series| series.starts_with("jwtv_verifications_total")) {
        return Err(CliError::new(format!("{}: no jwtv metrics there (jwtv_verifications_total)", inert(url))));
    }
    Ok(samples)
}

/// One pattern found, with its evidence and where the runbook handles it.
#[derive(Debug)]
struct Finding {
    pattern: &'static str,
    evidence: String,
    runbook: &'static str,
}

/// The value of a series (0 when absent).
/// A gauge's value: the sum of its series whatever their labels, so a
/// gateway whose policy has a name (`policy="…"` on every series) reads the same.
fn value(samples: &Samples, name: &str) -> f64 {
    total(samples, name, "")
}

/// The sum of a metric's series whose labels contain `label` (all with "").
fn total(samples: &Samples, name: &str, label: &str) -> f64 {
    samples
        .iter()
        .filter(|(series, _)| {
            series.split_once('{').map_or(series.as_str(), |(n, _)| n) == name && series.contains(label)
        })
        .map(|(_, v)| v)
        .sum()
}

/// The patterns the two scrapes show, worst first.
fn diagnose(before: &Samples, after: &Samples) -> Vec<Finding> {
    let mut found = Vec::new();
    let delta = |name: &str, label: &str| (total(after, name, label) - total(before, name, label)).max(0.0);
    let judged = delta("jwtv_verifications_total", "");
    let share = |label: &str| if judged > 0.0 { delta("jwtv_verifications_total", label) / judged } else { 0.0 };

    let failures = value(after, "jwtv_jwks_consecutive_failures");
    if value(after, "jwtv_keys") == 0.0 {
        found.push(Finding {
            pattern: "no key served",
            evidence: "jwtv_keys 0: every token is refused or not judged".to_owned(),
            runbook: "3. Verify signing keys",
        });
    }
    if failures >= 1.0 {
        let reason = after
            .iter()
            .find(|(series, v)| series.starts_with("jwtv_jwks_last_failure{") && **v >= 1.0)
            .and_then(|(series, _)| series.split('"').nth(1))
            .unwrap_or("unknown");
        found.push(Finding {
            pattern: "key server outage",
            evidence: format!("{failures} fetches failed in a row (last: {reason}); the last good set is served"),
            runbook: "3. Verify signing keys",
        });
    }
    let generation_changed = value(after, "jwtv_key_set_generation") != value(before, "jwtv_key_set_generation");
    let unknown_kid = share("result=\"key_not_found\"");
    if generation_changed || unknown_kid > 0.01 {
        found.push(Finding {
            pattern: "rotation in progress",
            evidence: format!(
                "key set generation {} → {}; {:.1}% of tokens name a key the set lacks",
                value(before, "jwtv_key_set_generation"),
                value(after, "jwtv_key_set_generation"),
                unknown_kid * 100.0
            ),
            runbook: "Key rotation done safely",
        });
    }
    let skew = value(after, "jwtv_key_server_clock_skew_seconds");
    if skew.abs() > 30.0 {
        found.push(Finding {
            pattern: "clock skew",
            evidence: format!("this host's clock is {:.1} s off the key server's", skew.abs()),
            runbook: "4. Check time synchronization",
        });
    }
    let expired = share("result=\"expired\"");
    if expired > 0.05 {
        found.push(Finding {
            pattern: "expired-token storm",
            evidence: format!("{:.1}% of tokens judged in the interval were expired", expired * 100.0),
            runbook: "4. Check time synchronization",
        });
    }
    if after.contains_key("jwtv_revocations_synced") {
        let lag = value(after, "jwtv_revocations_sync_lag_seconds");
        if value(after, "jwtv_revocations_synced") == 0.0 || lag > 60.0 {
            found.push(Finding {
                pattern: "revocation list lagging",
                evidence: format!("last in sync {lag} s ago (synced: {})", value(after, "jwtv_revocations_synced")),
                runbook: "Revoking a token, a user or a key",
            });
        }
    }
    let unavailable = share("result=\"unavailable\"");
    if unavailable > 0.0 {
        found.push(Finding {
            pattern: "tokens not judged",
            evidence: format!("{:.1}% of tokens got unavailable (HTTP 503)", unavailable * 100.0),
            runbook: "When a check cannot run",
        });
    }
    found
}

pub(crate) fn run(url: &str, interval: Duration, timeout: Duration, as_json: bool) -> Outcome {
    let before = fetch(url, timeout)?;
    std::thread::sleep(interval);
    let after = fetch(url, timeout)?;
    let found = diagnose(&before, &after);
    let judged =
        (total(&after, "jwtv_verifications_total", "") - total(&before, "jwtv_verifications_total", "")).max(0.0);
    let code = if found.is_empty() { EXIT_OK } else { EXIT_REJECTED };
    let mut out = String::new();
    if as_json {
        let findings: Vec<_> =
            found.iter().map(|f| json!({"pattern": f.pattern, "evidence": f.evidence, "runbook": f.runbook})).collect();
        let doc = json!({"url": url, "interval_secs": interval.as_secs(), "judged": judged, "findings": findings});
        let _ = writeln!(out, "{}", human::json(&doc));
        return Ok((code, out));
    }
    let style = Style::detect();
    let _ = writeln!(out, "{}: {judged} tokens judged in {} s", inert(url), interval.as_secs());
    if found.is_empty() {
        let _ = writeln!(out, "{} no known incident pattern", style.green("✔"));
    }
    for f in &found {
        // The evidence quotes the gateway's answer (a failure reason): inert.
        let _ = writeln!(out, "{} {}: {}", style.red("✘"), f.pattern, inert(&f.evidence));
        let _ = writeln!(out, "  runbook: docs/RUNBOOK.md, \"{}\"", f.runbook);
    }
    Ok((code, out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scrape(lines: &[(&str, f64)]) -> Samples {
        let text: String = lines.iter().map(|(series, v)| format!("{series} {v}\n")).collect();
        parse(&format!("# HELP x y\n{text}"))
    }

    fn patterns(before: &[(&str, f64)], after: &[(&str, f64)]) -> Vec<&'static str> {
        diagnose(&scrape(before), &scrape(after)).iter().map(|f| f.pattern).collect()
    }

    #[test]
    fn a_healthy_gateway_shows_nothing() {
        let before = [("jwtv_keys", 3.0), ("jwtv_verifications_total{result=\"ok\"}", 100.0)];
        let after = [("jwtv_keys", 3.0), ("jwtv_verifications_total{result=\"ok\"}", 200.0)];
        assert!(patterns(&before, &after).is_empty());
    }

    #[test]
    fn each_pattern_is_named() {
        let ok = |n: f64| ("jwtv_verifications_total{result=\"ok\"}", n);
        let base = [("jwtv_keys", 3.0), ("jwtv_key_set_generation", 4.0)];
        let outage = [
            base[0],
            base[1],
            ("jwtv_jwks_consecutive_failures", 4.0),
            ("jwtv_jwks_last_failure{reason=\"timeout\"}", 1.0),
        ];
        assert_eq!(patterns(&base, &outage), ["key server outage"]);
        let f = diagnose(&scrape(&base), &scrape(&outage));
        assert!(f[0].evidence.contains("last: timeout"), "{}", f[0].evidence);

        let rotated = [
            ("jwtv_keys", 3.0),
            ("jwtv_key_set_generation", 5.0),
            ok(50.0),
            ("jwtv_verifications_total{result=\"key_not_found\"}", 50.0),
        ];
        assert_eq!(patterns(&[base[0], base[1], ok(0.0)], &rotated), ["rotation in progress"]);

        let skewed = [base[0], base[1], ("jwtv_key_server_clock_skew_seconds", -45.0)];
        assert_eq!(patterns(&base, &skewed), ["clock skew"]);

        let storm = [base[0], base[1], ok(10.0), ("jwtv_verifications_total{result=\"expired\"}", 90.0)];
        assert_eq!(patterns(&[base[0], base[1], ok(0.0)], &storm), ["expired-token storm"]);

        let lagging =
            [base[0], base[1], ("jwtv_revocations_synced", 1.0), ("jwtv_revocations_sync_lag_seconds", 300.0)];
        assert_eq!(patterns(&base, &lagging), ["revocation list lagging"]);

        let empty = [("jwtv_keys", 0.0), ("jwtv_verifications_total{result=\"unavailable\"}", 5.0)];
        assert_eq!(patterns(&[("jwtv_keys", 0.0)], &empty), ["no key served", "tokens not judged"]);
    }

    #[test]
    fn series_of_several_verifiers_are_summed() {
        let samples = parse("jwtv_keys 2\njwtv_keys 3\nnot a sample\n# TYPE x gauge\n");
        assert_eq!(value(&samples, "jwtv_keys"), 5.0);
        let named =
            parse("jwtv_keys{policy=\"orders-api\"} 3\njwtv_jwks_consecutive_failures{policy=\"orders-api\"} 5\n");
        assert_eq!((value(&named, "jwtv_keys"), value(&named, "jwtv_jwks_consecutive_failures")), (3.0, 5.0));
    }
}
