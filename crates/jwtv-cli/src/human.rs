//! Text for people: dates, durations, token labels, colour on terminals,
//! and the one rule that keeps untrusted text inert on a terminal ([`inert`]).

use core::fmt::Write as _;
use std::borrow::Cow;
use std::io::IsTerminal as _;

use serde_json::Value;

/// Whether `c` must never reach a terminal as it is: a C0 control (line
/// breaks and tabs included), DEL, a C1 control (U+0080 to U+009F: CSI, OSC
/// and the like in one character) or a bidirectional control (U+061C,
/// U+200E, U+200F, U+202A to U+202E, U+2066 to U+2069), which reorders what
/// the reader sees.
fn is_unsafe(c: char) -> bool {
    matches!(
        c,
        '\0'..='\x1f'
            | '\x7f'..='\u{9f}'
            | '\u{61c}'
            | '\u{200e}'
            | '\u{200f}'
            | '\u{202a}'..='\u{202e}'
            | '\u{2066}'..='\u{2069}'
    )
}

fn push_inert(out: &mut String, c: char) {
    if is_unsafe(c) {
        let _ = write!(out, "\\u{:04x}", u32::from(c));
    } else {
        out.push(c);
    }
}

/// Untrusted text made inert for a terminal: every [unsafe](is_unsafe)
/// character is written as JSON escapes it (`\u001b`, `\u009b`, `\u202e`),
/// so escape sequences, line breaks and bidi overrides show as text.
///
/// The one escaping rule of the human output: every string that comes from
/// a token, a key set, a revocation list, a file or a server goes through it
/// on its way into a line ([`quote`], [`shown`], [`json`] and [`json_pretty`]
/// are built on it), and [`terminal`] applies it once more to everything
/// printed.
pub(crate) fn inert(text: &str) -> Cow<'_, str> {
    if !text.contains(is_unsafe) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len().saturating_add(16));
    for c in text.chars() {
        push_inert(&mut out, c);
    }
    Cow::Owned(out)
}

/// Untrusted text in quotes, written as a JSON string (`"` and `\` escaped)
/// and [`inert`]: `"test-es256"`, `"x\u001b[2J"`. For ids and names in a
/// sentence.
pub(crate) fn quote(text: &str) -> String {
    let json = serde_json::to_string(text).unwrap_or_default();
    inert(&json).into_owned()
}

/// An id as printed: as it is when plain, [quoted](quote) when it is empty
/// or has spaces, quotes, backslashes or [unsafe](is_unsafe) characters.
pub(crate) fn shown(id: &str) -> String {
    let plain = !id.is_empty() && !id.contains(|c: char| c.is_whitespace() || is_unsafe(c) || c == '"' || c == '\\');
    if plain { id.to_owned() } else { quote(id) }
}

/// A JSON value on one line, [`inert`]: still JSON, with the same value.
pub(crate) fn json(value: &Value) -> String {
    inert(&value.to_string()).into_owned()
}

/// A JSON value pretty-printed, each line [`inert`] (JSON escapes the line
/// breaks inside strings, so the ones left are the layout's).
pub(crate) fn json_pretty(value: &Value) -> String {
    let text = serde_json::to_string_pretty(value).unwrap_or_default();
    text.split('\n').map(inert).collect::<Vec<_>>().join("\n")
}

/// Output on its way to the terminal: whatever [unsafe](is_unsafe)
/// character is still in `text` is made [`inert`], except line breaks and
/// the colours [`Style`] wrote.
pub(crate) fn terminal(text: &str) -> Cow<'_, str> {
    if !text.contains(|c: char| c != '\n' && is_unsafe(c)) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len().saturating_add(16));
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        let len = match Style::sequence_at(rest) {
            Some(sequence) => {
                out.push_str(sequence);
                sequence.len()
            }
            None => {
                if c == '\n' {
                    out.push(c);
                } else {
                    push_inert(&mut out, c);
                }
                c.len_utf8()
            }
        };
        rest = rest.get(len..).unwrap_or_default();
    }
    Cow::Owned(out)
}

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

/// Proleptic Gregorian (year, month, day) to days since 1970-01-01: the
/// inverse of [`civil_from_days`].
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `--now`: Unix seconds (`1767225600`), or an RFC 3339 time
/// (`2026-01-01T00:00:00Z`, `2026-01-01 01:00:00+01:00`; a fraction of a
/// second is dropped), not before 1970.
pub(crate) fn parse_time(text: &str) -> Result<u64, String> {
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return text.parse().map_err(|_| format!("{text}: too large for Unix seconds"));
    }
    let bad = || format!("{text}: not Unix seconds nor an RFC 3339 time (2026-01-01T00:00:00Z)");
    let number = |range: std::ops::Range<usize>| -> Result<i64, String> {
        let digits = text.get(range).filter(|d| d.bytes().all(|b| b.is_ascii_digit())).ok_or_else(bad)?;
        digits.parse().map_err(|_| bad())
    };
    let b = text.as_bytes();
    let at = |i: usize| b.get(i).copied();
    if at(4) != Some(b'-') || at(7) != Some(b'-') || !matches!(at(10), Some(b'T' | b't' | b' ')) {
        return Err(bad());
    }
    if at(13) != Some(b':') || at(16) != Some(b':') {
        return Err(bad());
    }
    let (y, mo, d, h, mi, sec) =
        (number(0..4)?, number(5..7)?, number(8..10)?, number(11..13)?, number(14..16)?, number(17..19)?);
    let mut rest = text.get(19..).ok_or_else(bad)?;
    if let Some(fraction) = rest.strip_prefix('.') {
        let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(bad());
        }
        rest = fraction.get(digits..).ok_or_else(bad)?;
    }
    let offset = match rest.as_bytes() {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), _, _, b':', _, _] => {
            let (oh, om) = (number(text.len() - 5..text.len() - 3)?, number(text.len() - 2..text.len())?);
            if oh > 23 || om > 59 {
                return Err(bad());
            }
            let secs = oh * 3600 + om * 60;
            if *sign == b'+' { secs } else { -secs }
        }
        _ => return Err(bad()),
    };
    let days_in_month = match mo {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        _ => return Err(bad()),
    };
    // 60: a leap second, read as the next second's start.
    if d < 1 || d > days_in_month || h > 23 || mi > 59 || sec > 60 {
        return Err(bad());
    }
    let secs = days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + sec - offset;
    u64::try_from(secs).map_err(|_| format!("{text}: before 1970"))
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

/// A token named without showing it: its first 12 characters ([`inert`])
/// and its length.
pub(crate) fn token_label(token: &str) -> String {
    let prefix: String = token.chars().take(12).collect();
    let chars = token.chars().count();
    if chars > 12 {
        format!("{}… ({chars} chars)", inert(&prefix))
    } else {
        format!("{} ({chars} chars)", quote(&prefix))
    }
}

/// `--color`: when [`Style`] paints.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum ColorChoice {
    /// On a terminal, unless `NO_COLOR` is set.
    Auto,
    /// Always, even into a pipe.
    Always,
    /// Never.
    Never,
}

static COLOR: std::sync::OnceLock<ColorChoice> = std::sync::OnceLock::new();

/// The process's `--color`, set once by `main` before any output.
pub(crate) fn set_color(choice: ColorChoice) {
    let _ = COLOR.set(choice);
}

/// ANSI colour: as `--color` says; by default only when stdout is a
/// terminal and `NO_COLOR` is unset.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Style {
    on: bool,
}

impl Style {
    /// Every escape sequence a style writes: reset, bold, red, green, yellow.
    const SEQUENCES: [&'static str; 5] = ["\x1b[0m", "\x1b[1m", "\x1b[31m", "\x1b[32m", "\x1b[33m"];

    pub(crate) fn detect() -> Self {
        let on = match COLOR.get().copied().unwrap_or(ColorChoice::Auto) {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
        };
        Self { on }
    }

    /// The sequence of [`Style::SEQUENCES`] `text` starts with, if any.
    fn sequence_at(text: &str) -> Option<&'static str> {
        Self::SEQUENCES.into_iter().find(|sequence| text.starts_with(sequence))
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
    let quoted: Vec<String> = items.iter().map(|s| quote(s.as_ref())).collect();
    match quoted.split_last() {
        None => "none".to_owned(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
    }
}

/// `1 key`, `3 keys`.
pub(crate) fn plural(n: usize, noun: &str) -> String {
    if n == 1 { format!("1 {noun}") } else { format!("{n} {noun}s") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn now_takes_unix_seconds_or_rfc_3339() {
        let good = [
            ("1767225600", 1_767_225_600),
            ("0", 0),
            ("2026-01-01T00:00:00Z", 1_767_225_600),
            ("2026-01-01t00:00:00z", 1_767_225_600),
            ("2026-01-01 01:00:00+01:00", 1_767_225_600),
            ("2025-12-31T19:00:00-05:00", 1_767_225_600),
            ("2026-01-01T00:00:00.999Z", 1_767_225_600),
            ("2000-02-29T00:00:00Z", 951_782_400),
            ("2100-01-01T00:00:00Z", 4_102_444_800),
            ("1970-01-01T00:00:00Z", 0),
        ];
        for (text, want) in good {
            assert_eq!(parse_time(text), Ok(want), "{text}");
        }
        for (day, secs) in (0..2000).map(|d| (d, d * 86_400 + 12_345)) {
            assert_eq!(
                parse_time(&utc(secs).replace(" UTC", "Z").replacen(' ', "T", 1)),
                Ok(secs.unsigned_abs()),
                "day {day}"
            );
        }
        let bad = [
            "",
            "-1",
            "2026-01-01",
            "2026-01-01T00:00:00",
            "2026-02-29T00:00:00Z",
            "2026-13-01T00:00:00Z",
            "2026-01-32T00:00:00Z",
            "2026-01-01T24:00:00Z",
            "2026-01-01T00:60:00Z",
            "2026-01-01T00:00:00.Z",
            "2026-01-01T00:00:00+1:00",
            "2026-01-01T00:00:00+24:00",
            "1969-12-31T23:59:59Z",
            "2026-1-01T00:00:00Z",
            "99999999999999999999999",
            "2026-01-01T00:00:00Z trailing",
            "+026-01-01T00:00:00Z",
        ];
        for text in bad {
            assert!(parse_time(text).is_err(), "{text}");
        }
        assert_eq!(parse_time("1969-12-31T23:59:59Z"), Err("1969-12-31T23:59:59Z: before 1970".to_owned()));
    }

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

    #[test]
    fn untrusted_text_is_inert() {
        let hostile =
            "a\u{1b}]0;pwned\u{7}b\u{1b}[2J\u{9b}c\u{202e}d\u{7f}\n\t\u{61c}\u{200e}\u{200f}\u{2066}\u{2069}é";
        let escaped = r"a\u001b]0;pwned\u0007b\u001b[2J\u009bc\u202ed\u007f\u000a\u0009\u061c\u200e\u200f\u2066\u2069é";
        assert_eq!(inert(hostile), escaped);
        assert!(matches!(inert("plain ✔ text"), Cow::Borrowed(_)));
        for c in ['\0', '\u{1f}', '\u{7f}', '\u{80}', '\u{9f}', '\u{202a}', '\u{202d}', '\u{2067}', '\u{2068}'] {
            assert!(!inert(&c.to_string()).contains(c), "{c:?}");
        }
        for c in ['\u{a0}', '\u{200d}', '\u{2029}', '\u{206a}', '…', '✔'] {
            assert_eq!(inert(&c.to_string()), c.to_string(), "{c:?}");
        }
        assert_eq!(quote("k\u{1b}[2J\"\\"), r#""k\u001b[2J\"\\""#);
        assert_eq!(quote("line\nbreak\u{202e}"), r#""line\nbreak\u202e""#);
        assert_eq!(shown("user-1"), "user-1");
        assert_eq!(shown("a b"), "\"a b\"");
        assert_eq!(shown("\u{202e}x"), r#""\u202ex""#);
        assert_eq!(shown(r"a\u001b"), r#""a\\u001b""#, "a literal backslash is not an escape");
        let value = serde_json::json!({"sub": hostile});
        let line = json(&value);
        assert_eq!(serde_json::from_str::<Value>(&line).unwrap(), value, "still JSON, same value");
        assert!(!line.contains(is_unsafe), "{line}");
        let pretty = json_pretty(&value);
        assert_eq!(serde_json::from_str::<Value>(&pretty).unwrap(), value);
        assert!(!pretty.contains(|c| c != '\n' && is_unsafe(c)), "{pretty}");
    }

    #[test]
    fn the_terminal_sink_keeps_line_breaks_and_our_colours_only() {
        let style = Style { on: true };
        let text = format!("{} ok\n\u{1b}]0;x\u{7}\u{1b}[2J\u{1b}[31\u{9b}1m\u{202e}\n", style.green("✔"));
        assert_eq!(
            terminal(&text),
            "\u{1b}[32m✔\u{1b}[0m ok\n\\u001b]0;x\\u0007\\u001b[2J\\u001b[31\\u009b1m\\u202e\n"
        );
        assert!(matches!(terminal("✔ plain\nlines\n"), Cow::Borrowed(_)));
        for painted in [style.green("a"), style.red("b"), style.yellow("c"), style.bold("d")] {
            assert_eq!(terminal(&painted), painted, "every colour Style writes is one of its SEQUENCES");
        }
        assert_eq!(token_label("\u{1b}[2J.e30.AAAAAAAAAAAA"), r"\u001b[2J.e30.AAA… (21 chars)");
        assert_eq!(token_label("\u{1b}[2J"), r#""\u001b[2J" (4 chars)"#);
    }
}
