//! Text for people: dates, durations, token labels, colour on terminals.

use std::io::IsTerminal as _;

/// A Unix time as `2026-01-01 00:00:00 UTC`.
pub(crate) fn utc(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC", rem / 3600, rem % 3600 / 60, rem % 60)
}

/// Days since 1970-01-01 to a proleptic Gregorian (year, month, day).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days.saturating_add(719_468);
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe.saturating_add(era.saturating_mul(400));
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// A duration in its two largest units: `2 h 14 min`, `74 y 1 d`, `45 s`.
pub(crate) fn span(secs: u64) -> String {
    const UNITS: [(u64, &str); 5] = [(365 * 86_400, "y"), (86_400, "d"), (3600, "h"), (60, "min"), (1, "s")];
    if secs == 0 {
        return "0 s".to_owned();
    }
    let mut parts = Vec::new();
    let mut rest = secs;
    for (size, name) in UNITS {
        if parts.len() == 2 {
            break;
        }
        let n = rest / size;
        if n > 0 {
            parts.push(format!("{n} {name}"));
            rest %= size;
        } else if !parts.is_empty() {
            break;
        }
    }
    parts.join(" ")
}

/// `t` relative to `now`: `2 h 14 min ago`, `in 5 min`, `now`.
pub(crate) fn relative(t: i64, now: i64) -> String {
    let diff = i128::from(t) - i128::from(now);
    let abs = u64::try_from(diff.unsigned_abs()).unwrap_or(u64::MAX);
    match diff {
        0 => "now".to_owned(),
        d if d < 0 => format!("{} ago", span(abs)),
        _ => format!("in {}", span(abs)),
    }
}

/// A token named without showing it: its first 12 characters and its length.
pub(crate) fn token_label(token: &str) -> String {
    let prefix: String = token.chars().take(12).collect();
    let chars = token.chars().count();
    if chars > 12 { format!("{prefix}… ({chars} chars)") } else { format!("{prefix:?} ({chars} chars)") }
}

/// ANSI colour, only when stdout is a terminal and `NO_COLOR` is unset.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Style {
    on: bool,
}

impl Style {
    pub(crate) fn detect() -> Self {
        Self { on: std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none() }
    }

    fn paint(self, code: &str, text: &str) -> String {
        if self.on { format!("\x1b[{code}m{text}\x1b[0m") } else { text.to_owned() }
    }

    pub(crate) fn green(self, text: &str) -> String {
        self.paint("32", text)
    }

    pub(crate) fn red(self, text: &str) -> String {
        self.paint("31", text)
    }

    pub(crate) fn yellow(self, text: &str) -> String {
        self.paint("33", text)
    }

    pub(crate) fn bold(self, text: &str) -> String {
        self.paint("1", text)
    }
}

/// A list of names for a sentence: `"a", "b" and "c"`.
pub(crate) fn quoted_list<S: AsRef<str>>(items: &[S]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| format!("{:?}", s.as_ref())).collect();
    match quoted.split_last() {
        None => "none".to_owned(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_spans() {
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(4_102_444_800), "2100-01-01 00:00:00 UTC");
        assert_eq!(utc(1_767_225_600), "2026-01-01 00:00:00 UTC");
        assert_eq!(utc(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(utc(-1), "1969-12-31 23:59:59 UTC");
        assert_eq!(span(8040), "2 h 14 min");
        assert_eq!(span(45), "45 s");
        assert_eq!(span(3600), "1 h");
        assert_eq!(span(7201), "2 h");
        assert_eq!(relative(100, 160), "1 min ago");
        assert_eq!(relative(160, 100), "in 1 min");
        assert_eq!(relative(5, 5), "now");
        assert_eq!(token_label("abc"), "\"abc\" (3 chars)");
        assert_eq!(token_label("eyJhbGciOiJFUzI1NiJ9"), "eyJhbGciOiJF… (20 chars)");
        assert_eq!(quoted_list(&["a", "b", "c"]), "\"a\", \"b\" and \"c\"");
    }
}
