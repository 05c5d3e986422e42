//! A small, strict JSON reader (RFC 8259) for headers and claims.
//!
//! - No recursion and no allocation: nesting is tracked in a bit stack with a hard
//!   depth bound ([`MAX_DEPTH`]), so hostile input cannot exhaust the stack.
//! - The whole document must be valid UTF-8; strings may not hold raw control
//!   characters; `\u` escapes must form valid UTF-16 (paired surrogates only).
//! - Numbers follow the RFC grammar exactly (no `+`, no leading zeros, no `.5`).
//! - Strings are kept as validated raw slices ([`JsonStr`]) and every comparison
//!   decodes escapes first, so `"\u0048S256"` equals `HS256`.
//! - [`parse_object`] reads a top-level object, rejects duplicate member names
//!   (compared after decoding) and hands each member to a visitor.

use core::fmt;

/// Maximum nesting depth of arrays and objects (the top-level value counts as 1).
pub const MAX_DEPTH: usize = 32;
/// Maximum number of members in a top-level header or claims object.
pub const MAX_MEMBERS: usize = 128;

/// The input is not JSON this reader accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InvalidJson;

type Result<T> = core::result::Result<T, InvalidJson>;

/// A validated JSON string, held with its escapes still encoded.
///
/// Every comparison and conversion decodes escapes, so two spellings of one
/// string are equal. [`JsonStr::as_str`] gives a zero-copy `&str` when the
/// string has no escapes; [`JsonStr::decode_into`] copies the decoded text.
#[derive(Clone, Copy)]
pub struct JsonStr<'a> {
    /// The text between the quotes, escapes not decoded.
    raw: &'a str,
    /// Whether `raw` contains at least one backslash escape.
    escaped: Escapes,
}

/// Whether a [`JsonStr`] has escapes, as a full machine word: a `bool` would
/// leave seven bytes of padding that every copy of a string or a [`Value`]
/// moves piecemeal, which costs more than it looks in the member loop.
#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(usize)]
enum Escapes {
    None,
    Some,
}

impl From<bool> for Escapes {
    #[inline]
    fn from(escaped: bool) -> Self {
        if escaped { Self::Some } else { Self::None }
    }
}

impl<'a> JsonStr<'a> {
    /// The string exactly as written between the quotes (escapes not decoded).
    pub fn raw(&self) -> &'a str {
        self.raw
    }

    /// The decoded string without copying, when it contains no escapes.
    pub fn as_str(&self) -> Option<&'a str> {
        (self.escaped == Escapes::None).then_some(self.raw)
    }

    /// The decoded characters.
    pub fn chars(&self) -> Chars<'a> {
        Chars { rest: self.raw.chars() }
    }

    /// The length of the decoded string in UTF-8 bytes.
    pub fn decoded_len(&self) -> usize {
        if self.escaped == Escapes::Some { self.chars().map(char::len_utf8).sum() } else { self.raw.len() }
    }

    /// Copies the decoded string into `buf`; `None` when `buf` is too small.
    pub fn decode_into<'b>(&self, buf: &'b mut [u8]) -> Option<&'b str> {
        let mut len = 0usize;
        for c in self.chars() {
            let end = len.checked_add(c.len_utf8())?;
            c.encode_utf8(buf.get_mut(len..end)?);
            len = end;
        }
        core::str::from_utf8(buf.get(..len)?).ok()
    }

    /// Whether the decoded string equals `s` ignoring ASCII case.
    pub fn eq_ignore_ascii_case(&self, s: &str) -> bool {
        match self.as_str() {
            Some(raw) => raw.eq_ignore_ascii_case(s),
            None => self.chars().map(|c| c.to_ascii_lowercase()).eq(s.chars().map(|c| c.to_ascii_lowercase())),
        }
    }
}

impl PartialEq<str> for JsonStr<'_> {
    fn eq(&self, other: &str) -> bool {
        match self.as_str() {
            Some(raw) => raw == other,
            None => self.chars().eq(other.chars()),
        }
    }
}

impl PartialEq<&str> for JsonStr<'_> {
    fn eq(&self, other: &&str) -> bool {
        *self == **other
    }
}

impl PartialEq for JsonStr<'_> {
    fn eq(&self, other: &Self) -> bool {
        match (self.as_str(), other.as_str()) {
            (Some(a), Some(b)) => a == b,
            _ => self.chars().eq(other.chars()),
        }
    }
}

impl Eq for JsonStr<'_> {}

impl fmt::Display for JsonStr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.as_str() {
            Some(s) => f.write_str(s),
            None => self.chars().try_for_each(|c| fmt::Write::write_char(f, c)),
        }
    }
}

impl fmt::Debug for JsonStr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"")?;
        self.chars().try_for_each(|c| write!(f, "{}", c.escape_debug()))?;
        f.write_str("\"")
    }
}

/// The decoded characters of a [`JsonStr`].
#[derive(Clone, Debug)]
pub struct Chars<'a> {
    rest: core::str::Chars<'a>,
}

impl Chars<'_> {
    fn hex4(&mut self) -> u32 {
        (0..4).fold(0, |acc, _| (acc << 4) | self.rest.next().and_then(|c| c.to_digit(16)).unwrap_or(0))
    }
}

impl Iterator for Chars<'_> {
    type Item = char;

    fn next(&mut self) -> Option<char> {
        let c = self.rest.next()?;
        if c != '\\' {
            return Some(c);
        }
        // The string was validated, so escapes are well formed; the fallbacks
        // below only keep this total (U+FFFD) without a panic path.
        Some(match self.rest.next()? {
            'b' => '\u{8}',
            'f' => '\u{c}',
            'n' => '\n',
            'r' => '\r',
            't' => '\t',
            'u' => {
                let hi = self.hex4();
                if (0xD800..0xDC00).contains(&hi) {
                    self.rest.next(); // '\\'
                    self.rest.next(); // 'u'
                    let lo = self.hex4();
                    let code = 0x10000 + ((hi - 0xD800) << 10) + (lo.wrapping_sub(0xDC00) & 0x3FF);
                    char::from_u32(code).unwrap_or('\u{FFFD}')
                } else {
                    char::from_u32(hi).unwrap_or('\u{FFFD}')
                }
            }
            other => other, // '"', '\\', '/'
        })
    }
}

/// A JSON value, as found in a validated document.
#[derive(Clone, Copy, Debug)]
pub enum Value<'a> {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number, as written (grammar already checked).
    Number(&'a str),
    /// A string.
    String(JsonStr<'a>),
    /// An array, as written including its brackets.
    Array(&'a str),
    /// An object, as written including its braces.
    Object(&'a str),
}

impl<'a> Value<'a> {
    /// The string, if this is one.
    pub fn as_json_str(&self) -> Option<JsonStr<'a>> {
        match *self {
            Self::String(s) => Some(s),
            _ => None,
        }
    }

    /// The elements of an array, if this is one.
    pub fn as_array(&self) -> Option<Elements<'a>> {
        match *self {
            Self::Array(raw) => Some(Elements::new(raw)),
            _ => None,
        }
    }

    /// A short name of the JSON type (`"string"`, `"number"`, …).
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::Null => "null",
            Self::Bool(_) => "boolean",
            Self::Number(_) => "number",
            Self::String(_) => "string",
            Self::Array(_) => "array",
            Self::Object(_) => "object",
        }
    }
}

/// The elements of a validated array.
#[derive(Clone, Debug)]
pub struct Elements<'a> {
    scanner: Scanner<'a>,
    first: bool,
    done: bool,
}

impl<'a> Elements<'a> {
    fn new(raw: &'a str) -> Self {
        let mut scanner = Scanner::new(raw);
        scanner.pos = 1; // past '['
        Self { scanner, first: true, done: false }
    }
}

impl<'a> Iterator for Elements<'a> {
    type Item = Value<'a>;

    fn next(&mut self) -> Option<Value<'a>> {
        if self.done {
            return None;
        }
        let s = &mut self.scanner;
        s.skip_ws();
        if s.peek() == Some(b']') {
            self.done = true;
            return None;
        }
        if !self.first {
            s.pos = s.pos.saturating_add(1); // ','
            s.skip_ws();
        }
        self.first = false;
        let value = s.value_inline_string(MAX_DEPTH);
        if value.is_err() {
            self.done = true;
        }
        value.ok()
    }
}

/// Validates a complete JSON text of any type (used for conformance tests).
pub fn validate(src: &[u8]) -> Result<()> {
    let text = core::str::from_utf8(src).map_err(|_| InvalidJson)?;
    let mut s = Scanner::new(text);
    s.skip_ws();
    s.value(MAX_DEPTH)?;
    s.end()
}

/// Parses a top-level JSON object, calling `visit` for each member in order.
///
/// The whole document is validated before this returns `Ok`, but `visit` sees
/// members as they are read: callers must only record what they see and act
/// after `Ok`. Duplicate names (after decoding escapes) are an error, as are
/// more than [`MAX_MEMBERS`] members.
pub fn parse_object<'a>(src: &'a [u8], mut visit: impl FnMut(JsonStr<'a>, Value<'a>)) -> Result<()> {
    parse_object_shaped(src, |name, value, _| visit(name, value))
}

/// [`parse_object`], telling the visitor also whether each value is an array
/// whose elements are all strings (known from reading it, so callers need not
/// walk the array again to type it).
pub(crate) fn parse_object_shaped<'a>(
    src: &'a [u8],
    mut visit: impl FnMut(JsonStr<'a>, Value<'a>, bool),
) -> Result<()> {
    let text = core::str::from_utf8(src).map_err(|_| InvalidJson)?;
    let mut s = Scanner::new(text);
    let mut names = Names::default();
    s.skip_ws();
    s.expect(b'{')?;
    s.skip_ws();
    if s.peek() == Some(b'}') {
        s.pos += 1;
        return s.end();
    }
    loop {
        s.skip_ws();
        s.expect(b'"')?;
        let name = s.string_body()?;
        names.insert(name)?;
        s.skip_ws();
        s.expect(b':')?;
        s.skip_ws();
        s.string_array = false;
        let value = s.value(MAX_DEPTH - 1)?;
        visit(name, value, s.string_array);
        s.skip_ws();
        match s.next_byte() {
            Some(b',') => continue,
            Some(b'}') => return s.end(),
            _ => return Err(InvalidJson),
        }
    }
}

/// The member names read so far, for the duplicate check: a filter that
/// rules out most repeats cheaply, then an exact search (escapes decoded).
///
/// Names are kept as their raw text plus a bit per name telling whether it
/// has escapes (a [`JsonStr`] is half padding), which keeps the list small.
#[derive(Default)]
struct Names<'a> {
    filter: NameFilter,
    raw: heapless::Vec<&'a str, MAX_MEMBERS>,
    /// Bit `i` is set when name `i` has escapes.
    escaped: u128,
}

const _: () = assert!(MAX_MEMBERS <= 128, "one bit of `Names::escaped` per member");

impl<'a> Names<'a> {
    /// Adds `name`; `Err` when it repeats an earlier name or there are too many.
    #[inline]
    fn insert(&mut self, name: JsonStr<'a>) -> Result<()> {
        if self.filter.insert(name) && self.contains(name) {
            return Err(InvalidJson);
        }
        let bit = u32::try_from(self.raw.len()).ok().and_then(|i| 1u128.checked_shl(i)).ok_or(InvalidJson)?;
        self.raw.push(name.raw).map_err(|_| InvalidJson)?;
        if name.escaped == Escapes::Some {
            self.escaped |= bit;
        }
        Ok(())
    }

    #[inline(never)]
    fn contains(&self, name: JsonStr<'_>) -> bool {
        let mut escaped = self.escaped;
        self.raw.iter().any(|&raw| {
            let earlier = JsonStr { raw, escaped: Escapes::from(escaped & 1 == 1) };
            escaped >>= 1;
            earlier == name
        })
    }
}

/// A 256-bit Bloom filter with two probes over the member names read so far,
/// so that the exact duplicate search runs only when a name may repeat one.
///
/// Each unescaped name sets two bits hashed from its length and its first two
/// and last two bytes (raw equals decoded for them). A false hit costs a walk
/// over every earlier name, so the filter is sized for claim sets of a few
/// dozen names to make one rare. Any escaped name turns the filter off: its
/// decoded text can equal a name spelled differently, so every later name
/// gets the exact search.
#[derive(Default)]
struct NameFilter {
    bits: [u64; 4],
    escaped: bool,
}

impl NameFilter {
    /// The two bit positions (0 to 255) of `name`; equal names get equal ones.
    #[inline]
    fn probes(name: &str) -> [usize; 2] {
        let bytes = name.as_bytes();
        let (head, tail) = match (bytes.first_chunk::<2>(), bytes.last_chunk::<2>()) {
            (Some(head), Some(tail)) => (u16::from_le_bytes(*head), u16::from_le_bytes(*tail)),
            _ => (u16::from(bytes.first().copied().unwrap_or(0)), 0),
        };
        let key = u64::from(head) | u64::from(tail) << 16 | u64::try_from(bytes.len()).unwrap_or(u64::MAX) << 32;
        let [.., second, first] = key.wrapping_mul(0x9E37_79B9_7F4A_7C15).to_le_bytes();
        [usize::from(first), usize::from(second)]
    }

    /// Records `name`; `false` only when it certainly equals no name recorded before.
    #[inline]
    fn insert(&mut self, name: JsonStr<'_>) -> bool {
        match name.as_str() {
            Some(plain) if !self.escaped => {
                let mut seen = true;
                for bit in Self::probes(plain) {
                    if let Some(word) = self.bits.get_mut(bit / 64) {
                        let mask = 1u64 << (bit % 64);
                        seen &= *word & mask != 0;
                        *word |= mask;
                    }
                }
                seen
            }
            Some(_) => true,
            None => {
                self.escaped = true;
                true
            }
        }
    }
}

/// The value of the member called `name` (compared after decoding escapes) in
/// a top-level object, if `src` is one and has it.
pub fn find_member<'a>(src: &'a [u8], name: &str) -> Option<Value<'a>> {
    let mut found = None;
    parse_object(src, |n, v| {
        if found.is_none() && n == name {
            found = Some(v);
        }
    })
    .ok()?;
    found
}

/// Bytes that end the fast path inside a string: `"`, `\` and control characters.
#[expect(clippy::indexing_slicing, reason = "evaluated at compile time: an out-of-bounds index fails the build")]
static STRING_STOP: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 0x20 {
        t[i] = true;
        i += 1;
    }
    t[0x22] = true; // '"'
    t[0x5C] = true; // '\\'
    t
};

/// Flags (high bit of each byte) the [`STRING_STOP`] bytes among the eight
/// bytes of `word`, first byte lowest: bytes that are zero after XOR with `"`
/// or `\`, or below 0x20 (control). Bytes of 0x80 and above (UTF-8) never match.
///
/// Word-at-a-time tests have no false negatives, and a borrow can only flag a
/// byte above a true match: so `0` is exact, and so is the lowest flagged byte.
const fn string_stops(word: u64) -> u64 {
    const ONES: u64 = u64::from_le_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_le_bytes([0x80; 8]);
    const fn has_zero_byte(x: u64) -> u64 {
        x.wrapping_sub(ONES) & !x & HIGHS
    }
    let quote = has_zero_byte(word ^ (ONES * 0x22));
    let backslash = has_zero_byte(word ^ (ONES * 0x5C));
    let control = word.wrapping_sub(ONES * 0x20) & !word & HIGHS;
    quote | backslash | control
}

/// What the container loop expects next.
#[derive(Clone, Copy)]
enum Expect {
    ValueOrClose,
    Value,
    NameOrClose,
    Name,
    CommaOrClose,
}

#[derive(Clone, Debug)]
struct Scanner<'a> {
    text: &'a str,
    pos: usize,
    /// Whether the last value read was an array of strings only.
    string_array: bool,
}

impl<'a> Scanner<'a> {
    fn new(text: &'a str) -> Self {
        Self { text, pos: 0, string_array: false }
    }

    #[inline]
    fn bytes(&self) -> &'a [u8] {
        self.text.as_bytes()
    }

    #[inline]
    fn peek(&self) -> Option<u8> {
        self.bytes().get(self.pos).copied()
    }

    #[inline]
    fn next_byte(&mut self) -> Option<u8> {
        let b = self.peek()?;
        self.pos += 1;
        Some(b)
    }

    #[inline]
    fn expect(&mut self, want: u8) -> Result<()> {
        if self.next_byte() == Some(want) { Ok(()) } else { Err(InvalidJson) }
    }

    fn end(&mut self) -> Result<()> {
        self.skip_ws();
        if self.pos == self.bytes().len() { Ok(()) } else { Err(InvalidJson) }
    }

    #[inline]
    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    #[inline]
    fn slice(&self, start: usize, end: usize) -> Result<&'a str> {
        self.text.get(start..end).ok_or(InvalidJson)
    }

    /// Reads one value starting at the current byte; containers may nest at
    /// most `depth` levels (the value itself included).
    fn value(&mut self, depth: usize) -> Result<Value<'a>> {
        let start = self.pos;
        match self.peek().ok_or(InvalidJson)? {
            b'"' => {
                self.pos += 1;
                self.string_body().map(Value::String)
            }
            b'{' => {
                self.container(depth)?;
                self.slice(start, self.pos).map(Value::Object)
            }
            b'[' => {
                self.string_array = depth > 0 && self.flat_string_array();
                if !self.string_array {
                    self.pos = start;
                    self.container(depth)?;
                }
                self.slice(start, self.pos).map(Value::Array)
            }
            b't' => self.literal("true", Value::Bool(true)),
            b'f' => self.literal("false", Value::Bool(false)),
            b'n' => self.literal("null", Value::Null),
            _ => {
                self.number()?;
                self.slice(start, self.pos).map(Value::Number)
            }
        }
    }

    /// [`Scanner::value`], with the string case (most values in tokens) read
    /// in the caller rather than through a call.
    #[inline(always)]
    fn value_inline_string(&mut self, depth: usize) -> Result<Value<'a>> {
        if self.peek() == Some(b'"') {
            self.pos += 1;
            self.string_body().map(Value::String)
        } else {
            self.value(depth)
        }
    }

    fn scalar(&mut self) -> Result<()> {
        match self.peek().ok_or(InvalidJson)? {
            b'"' => {
                self.pos += 1;
                self.string_body().map(drop)
            }
            b't' => self.literal("true", ()),
            b'f' => self.literal("false", ()),
            b'n' => self.literal("null", ()),
            _ => self.number(),
        }
    }

    fn literal<T>(&mut self, word: &str, value: T) -> Result<T> {
        let end = self.pos.checked_add(word.len()).ok_or(InvalidJson)?;
        if self.bytes().get(self.pos..end) == Some(word.as_bytes()) {
            self.pos = end;
            Ok(value)
        } else {
            Err(InvalidJson)
        }
    }

    /// Reads an array at the current `[` whose elements are all strings, the
    /// usual shape of `aud`, `crit` and role lists, without the general
    /// container loop. `false` at anything else (another element type, an
    /// invalid string, the end): the caller then rewinds and reads the array
    /// with [`Scanner::container`], which accepts and rejects as always.
    fn flat_string_array(&mut self) -> bool {
        self.pos += 1; // '['
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return true;
        }
        loop {
            if self.peek() != Some(b'"') {
                return false;
            }
            self.pos += 1;
            if self.string_body().is_err() {
                return false;
            }
            self.skip_ws();
            match self.next_byte() {
                Some(b',') => self.skip_ws(),
                Some(b']') => return true,
                _ => return false,
            }
        }
    }

    /// Skips a whole array or object without recursion, validating it.
    fn container(&mut self, max_depth: usize) -> Result<()> {
        // Bit i of `kinds` is set when nesting level i is an object.
        let mut kinds: u64 = 0;
        let mut depth: usize = 0;
        let mut expect = Expect::Value;
        loop {
            self.skip_ws();
            match expect {
                Expect::Value => match self.peek().ok_or(InvalidJson)? {
                    open @ (b'[' | b'{') => {
                        if depth >= max_depth || depth >= MAX_DEPTH {
                            return Err(InvalidJson);
                        }
                        let is_object = open == b'{';
                        kinds = (kinds & !(1u64 << depth)) | (u64::from(is_object) << depth);
                        depth += 1;
                        self.pos += 1;
                        expect = if is_object { Expect::NameOrClose } else { Expect::ValueOrClose };
                    }
                    _ => {
                        self.scalar()?;
                        expect = Expect::CommaOrClose;
                    }
                },
                Expect::ValueOrClose => {
                    if self.peek() == Some(b']') {
                        expect = Expect::CommaOrClose;
                        if self.close(&mut depth, kinds)? {
                            return Ok(());
                        }
                    } else {
                        expect = Expect::Value;
                    }
                }
                Expect::NameOrClose => {
                    if self.peek() == Some(b'}') {
                        expect = Expect::CommaOrClose;
                        if self.close(&mut depth, kinds)? {
                            return Ok(());
                        }
                    } else {
                        expect = Expect::Name;
                    }
                }
                Expect::Name => {
                    self.expect(b'"')?;
                    self.string_body()?;
                    self.skip_ws();
                    self.expect(b':')?;
                    expect = Expect::Value;
                }
                Expect::CommaOrClose => match self.peek() {
                    Some(b',') => {
                        self.pos += 1;
                        let in_object = depth.checked_sub(1).is_some_and(|top| kinds >> top & 1 == 1);
                        expect = if in_object { Expect::Name } else { Expect::Value };
                    }
                    Some(b']' | b'}') => {
                        if self.close(&mut depth, kinds)? {
                            return Ok(());
                        }
                    }
                    _ => return Err(InvalidJson),
                },
            }
        }
    }

    /// Consumes a closing bracket that must match the innermost container;
    /// returns whether the outermost container is now closed.
    fn close(&mut self, depth: &mut usize, kinds: u64) -> Result<bool> {
        let top = depth.checked_sub(1).ok_or(InvalidJson)?;
        let want = if kinds >> top & 1 == 1 { b'}' } else { b']' };
        self.expect(want)?;
        *depth = top;
        Ok(top == 0)
    }

    /// Reads a string body after its opening quote, through the closing quote.
    ///
    /// Inlined for the usual string without escapes; the first `\\` or
    /// control byte continues in [`Scanner::escaped_string_body`].
    #[inline(always)]
    fn string_body(&mut self) -> Result<JsonStr<'a>> {
        let start = self.pos;
        self.skip_string_bytes();
        if self.peek() == Some(b'"') {
            let raw = self.slice(start, self.pos)?;
            self.pos += 1;
            return Ok(JsonStr { raw, escaped: Escapes::None });
        }
        self.escaped_string_body(start)
    }

    /// The rest of a string that stopped at something other than its closing
    /// quote: escapes (checked one by one), a raw control character or the end.
    #[inline(never)]
    fn escaped_string_body(&mut self, start: usize) -> Result<JsonStr<'a>> {
        let mut escaped = false;
        loop {
            match self.next_byte().ok_or(InvalidJson)? {
                b'"' => {
                    let raw = self.slice(start, self.pos - 1)?;
                    return Ok(JsonStr { raw, escaped: Escapes::from(escaped) });
                }
                b'\\' => {
                    escaped = true;
                    self.escape()?;
                }
                _ => return Err(InvalidJson), // raw control character
            }
            self.skip_string_bytes();
        }
    }

    /// Advances to the next `"`, `\` or control byte (or the end of input).
    /// Non-ASCII bytes are already valid UTF-8.
    #[inline]
    fn skip_string_bytes(&mut self) {
        let rest = self.bytes().get(self.pos..).unwrap_or_default();
        // Eight bytes at a time; the lowest flagged byte is the stop byte (see `string_stops`).
        let mut words = rest.chunks_exact(8);
        let mut skipped = 0usize;
        for word in &mut words {
            let stops = word.first_chunk::<8>().map_or(0, |w| string_stops(u64::from_le_bytes(*w)));
            if stops != 0 {
                self.pos += skipped + usize::try_from(stops.trailing_zeros() / 8).unwrap_or(0);
                return;
            }
            skipped += 8;
        }
        // The last few bytes of the input, one at a time.
        for &b in words.remainder() {
            if STRING_STOP.get(usize::from(b)).copied().unwrap_or(true) {
                break;
            }
            skipped += 1;
        }
        self.pos += skipped;
    }

    /// Checks one escape sequence after its backslash.
    fn escape(&mut self) -> Result<()> {
        match self.next_byte().ok_or(InvalidJson)? {
            b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => Ok(()),
            b'u' => {
                let unit = self.hex4()?;
                match unit {
                    0xD800..=0xDBFF => {
                        // A high surrogate must be followed by an escaped low surrogate.
                        self.expect(b'\\')?;
                        self.expect(b'u')?;
                        if (0xDC00..=0xDFFF).contains(&self.hex4()?) { Ok(()) } else { Err(InvalidJson) }
                    }
                    0xDC00..=0xDFFF => Err(InvalidJson), // lone low surrogate
                    _ => Ok(()),
                }
            }
            _ => Err(InvalidJson),
        }
    }

    fn hex4(&mut self) -> Result<u32> {
        let mut unit = 0u32;
        for _ in 0..4 {
            let digit = char::from(self.next_byte().ok_or(InvalidJson)?).to_digit(16).ok_or(InvalidJson)?;
            unit = (unit << 4) | digit;
        }
        Ok(unit)
    }

    fn digits(&mut self) -> usize {
        let rest = self.bytes().get(self.pos..).unwrap_or_default();
        let count = rest.iter().take_while(|b| b.is_ascii_digit()).count();
        self.pos += count;
        count
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`
    fn number(&mut self) -> Result<()> {
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return Err(InvalidJson),
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if self.digits() == 0 {
                return Err(InvalidJson);
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            if self.digits() == 0 {
                return Err(InvalidJson);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn members(src: &str) -> Result<heapless::Vec<(heapless::String<32>, &'static str), 16>> {
        let src: &'static str = std::boxed::Box::leak(src.into());
        let mut out = heapless::Vec::new();
        parse_object(src.as_bytes(), |name, value| {
            let mut n = heapless::String::new();
            for c in name.chars() {
                n.push(c).unwrap();
            }
            out.push((n, value.type_name())).unwrap();
        })?;
        Ok(out)
    }

    extern crate std;

    #[test]
    fn accepts_objects_and_reports_members_in_order() {
        let m = members(r#" {"a":1, "b" : "x", "c":[1,{"d":null}], "e":{}, "f":true} "#).unwrap();
        let names: std::vec::Vec<_> = m.iter().map(|(n, t)| (n.as_str(), *t)).collect();
        assert_eq!(names, [("a", "number"), ("b", "string"), ("c", "array"), ("e", "object"), ("f", "boolean")]);
        assert!(members("{}").unwrap().is_empty());
    }

    #[test]
    fn rejects_duplicates_after_decoding_escapes() {
        assert_eq!(members(r#"{"alg":"a","alg":"b"}"#), Err(InvalidJson));
        assert_eq!(members(r#"{"alg":"a","\u0061lg":"b"}"#), Err(InvalidJson));
        assert_eq!(members(r#"{"a\/b":1,"a/b":2}"#), Err(InvalidJson));
        assert_eq!(members(r#"{"\u0061lg":"a","x":0,"alg":"b"}"#), Err(InvalidJson));
        // Names of every length the filter hashes differently (none, one byte, more).
        assert_eq!(members(r#"{"":1,"":2}"#), Err(InvalidJson));
        assert_eq!(members(r#"{"a":1,"b":1,"a":2}"#), Err(InvalidJson));
        assert_eq!(members(r#"{"ab":1,"abab":1,"ab":2}"#), Err(InvalidJson));
        assert!(members(r#"{"":1,"a":1,"ab":1,"aab":1,"abb":1,"ba":1,"é":1,"éé":1}"#).is_ok());
        // Nested duplicates are JSON-valid and left to the application.
        assert!(members(r#"{"a":{"x":1,"x":2}}"#).is_ok());
    }

    #[test]
    fn finds_every_duplicate_past_the_name_filter() {
        extern crate std;
        use std::string::String;
        let names: std::vec::Vec<String> = (0..100).map(|i| std::format!("n{i}")).collect();
        let object = |extra: Option<&str>| {
            let mut json: String = names.iter().map(|n| std::format!("\"{n}\":1,")).collect();
            if let Some(extra) = extra {
                json.push_str(&std::format!("\"{extra}\":2,"));
            }
            json.pop();
            std::format!("{{{json}}}")
        };
        assert_eq!(parse_object(object(None).as_bytes(), |_, _| ()), Ok(()));
        for name in &names {
            assert_eq!(parse_object(object(Some(name)).as_bytes(), |_, _| ()), Err(InvalidJson), "{name}");
        }
    }

    #[test]
    fn strings_and_values_stay_three_words() {
        // The escape flag is a word with a niche: no padding, and `Value`
        // (and `Option`/`Result` around it) keep their tags in that word.
        assert_eq!(size_of::<JsonStr<'_>>(), 3 * size_of::<usize>());
        assert_eq!(size_of::<Value<'_>>(), 3 * size_of::<usize>());
        assert_eq!(size_of::<Result<Value<'_>>>(), 3 * size_of::<usize>());
    }

    #[test]
    fn member_limit_and_escaped_names_at_every_position() {
        use std::string::String;
        let object = |names: &[String]| {
            let members: std::vec::Vec<String> = names.iter().map(|n| std::format!("\"{n}\":0")).collect();
            std::format!("{{{}}}", members.join(","))
        };
        let names: std::vec::Vec<String> = (0..MAX_MEMBERS).map(|i| std::format!("n{i}")).collect();
        assert_eq!(parse_object(object(&names).as_bytes(), |_, _| ()), Ok(()));
        let mut too_many = names.clone();
        too_many.push("extra".into());
        assert_eq!(parse_object(object(&too_many).as_bytes(), |_, _| ()), Err(InvalidJson));
        // An escaped spelling at any position still matches a later plain one
        // and the other way round (each name's escape bit is its own).
        for at in [0, 1, 63, 64, 65, 100, MAX_MEMBERS - 2] {
            let mut escaped_first = names[..MAX_MEMBERS - 1].to_vec();
            escaped_first[at] = std::format!("\\u006e{at}");
            let mut plain_last = escaped_first.clone();
            plain_last.push(std::format!("n{at}"));
            assert_eq!(parse_object(object(&escaped_first).as_bytes(), |_, _| ()), Ok(()), "{at}");
            assert_eq!(parse_object(object(&plain_last).as_bytes(), |_, _| ()), Err(InvalidJson), "{at}");
            let mut escaped_last = names[..MAX_MEMBERS - 1].to_vec();
            escaped_last.push(std::format!("\\u006e{at}"));
            assert_eq!(parse_object(object(&escaped_last).as_bytes(), |_, _| ()), Err(InvalidJson), "{at}");
        }
    }

    fn first_stop(word: [u8; 8]) -> Option<usize> {
        let stops = string_stops(u64::from_le_bytes(word));
        (stops != 0).then(|| usize::try_from(stops.trailing_zeros() / 8).unwrap())
    }

    #[test]
    fn word_at_a_time_string_scan_matches_the_byte_table() {
        for byte in 0..=u8::MAX {
            for at in 0..8 {
                let mut word = [b'a'; 8];
                word[at] = byte;
                let want = STRING_STOP[usize::from(byte)].then_some(at);
                assert_eq!(first_stop(word), want, "{byte:#x} at {at}");
                word = [0xC3; 8]; // bytes of multi-byte UTF-8 sequences
                word[at] = byte;
                assert_eq!(first_stop(word), want, "{byte:#x} at {at} among 0xC3");
                // A stop byte below another: the lowest flag is the first one.
                for (below, stop) in (0..at).flat_map(|b| [b'"', b'\\', 0x00, 0x1F].map(|s| (b, s))) {
                    word[below] = stop;
                    assert_eq!(first_stop(word), Some(below), "{stop:#x} at {below} below {byte:#x} at {at}");
                    word[below] = 0xC3;
                }
            }
        }
        // Strings of every length around the 8-byte steps end exactly at their quote.
        let raw_len = |json: &str| {
            let mut got = None;
            parse_object(json.as_bytes(), |_, v| got = v.as_json_str().map(|s| (s.raw().len(), s.as_str().is_none())))
                .map(|()| got)
        };
        for len in 0..24 {
            let body = std::format!("é{}", "x".repeat(len));
            assert_eq!(raw_len(&std::format!(r#"{{"k":"{body}"}}"#)), Ok(Some((len + 2, false))), "{len}");
            let escaped = std::format!(r#"{{"k":"{body}\n{body}"}}"#);
            assert_eq!(raw_len(&escaped), Ok(Some((2 * len + 6, true))), "{len}");
            for bad in ["\u{1}", "\u{1f}", r"\x", r#"" "#] {
                assert_eq!(raw_len(&std::format!(r#"{{"k":"{body}{bad}{body}"}}"#)), Err(InvalidJson), "{len} {bad:?}");
            }
        }
    }

    #[test]
    fn string_arrays_are_typed_while_read_and_still_validated() {
        // Arrays the fast path reads, arrays it hands to the container loop,
        // and broken ones: acceptance is unchanged and the flag says exactly
        // whether every element is a string.
        let arrays = [
            r#"[]"#,
            r#"[ ]"#,
            r#"["a"]"#,
            r#"[ "a" , "b" ,"c\n", "\u00e9\ud83d\ude00", "é" ]"#,
            "[\n\t\"a\"\r\n]",
            r#"["a",1]"#,
            r#"[1,"a"]"#,
            r#"["a",["b"]]"#,
            r#"[["a"]]"#,
            r#"["a",{"b":"c"}]"#,
            r#"["a",null,true]"#,
            r#"["a",]"#,
            r#"[,"a"]"#,
            r#"["a" "b"]"#,
            r#"["a":"b"]"#,
            r#"["a"}"#,
            r#"["a""#,
            r#"["a"#,
            r#"["\x"]"#,
            r#"["\ud800"]"#,
            "[\"\u{1}\"]",
            r#"["a"],"#,
        ];
        for array in arrays {
            let json = std::format!(r#"{{"k":{array}}}"#);
            let mut flag = None;
            let got = parse_object_shaped(json.as_bytes(), |_, v, strings| {
                let all = v.as_array().is_some_and(|mut e| e.all(|v| v.as_json_str().is_some()));
                assert_eq!(strings, all, "{array}");
                flag = Some(strings);
            });
            assert_eq!(got.is_ok(), validate(array.as_bytes()).is_ok(), "{array}");
            assert_eq!(got, parse_object(json.as_bytes(), |_, _| ()), "{array}");
            assert!(got.is_err() || flag.is_some(), "{array}");
        }
        // Strings, numbers and objects are never flagged; nor is an array
        // after one (the flag is per member).
        let json = br#"{"a":["x"],"b":"x","c":1,"d":{"e":["x"]},"f":[1],"g":["y"]}"#;
        let mut flags = std::vec::Vec::new();
        parse_object_shaped(json, |_, _, strings| flags.push(strings)).unwrap();
        assert_eq!(flags, [true, false, false, false, false, true]);
    }

    #[test]
    fn invalid_utf8_is_rejected_in_names_values_and_arrays() {
        let bad: [&[u8]; 9] = [
            b"\xff",             // never valid
            b"\xc3",             // truncated sequence
            b"\xc0\xaf",         // overlong '/'
            b"\xe0\x80\xaf",     // overlong '/', three bytes
            b"\xf0\x80\x80\xaf", // overlong '/', four bytes
            b"\xed\xa0\x80",     // UTF-16 surrogate U+D800 encoded as UTF-8
            b"\xed\xbf\xbf",     // surrogate U+DFFF
            b"\xf4\x90\x80\x80", // U+110000, past the last code point
            b"\x80",             // lone continuation byte
        ];
        for bytes in bad {
            for (before, after) in [
                (&br#"{""#[..], &br#"":1}"#[..]),
                (br#"{"k":""#, br#""}"#),
                (br#"{"k":"abcdefghij"#, br#"klmnopqrstuvwxyz"}"#),
                (br#"{"k":[""#, br#""]}"#),
                (br#"{"k":["a",""#, br#"","b"]}"#),
                (br#"{"k":{""#, br#"":1}}"#),
                (br#"{"k":"#, b"}"),
            ] {
                let json = [before, bytes, after].concat();
                assert_eq!(parse_object(&json, |_, _| ()), Err(InvalidJson), "{json:x?}");
                assert_eq!(validate(&json), Err(InvalidJson), "{json:x?}");
            }
        }
        // The largest code point and the ones next to the surrogates are fine.
        for good in [&b"\xf4\x8f\xbf\xbf"[..], b"\xed\x9f\xbf", b"\xee\x80\x80", b"\xc2\x80"] {
            let json = [&br#"{"k":[""#[..], good, br#""],""#, good, br#"":1}"#].concat();
            assert_eq!(parse_object(&json, |_, _| ()), Ok(()), "{json:x?}");
        }
    }

    #[test]
    fn rejects_non_objects_and_trailing_data() {
        for bad in ["[]", "1", "\"x\"", "null", "{} {}", "{", "{\"a\"}", "{\"a\":1,}", "\u{feff}{}", ""] {
            assert_eq!(members(bad), Err(InvalidJson), "{bad:?}");
        }
    }

    #[test]
    fn decodes_escapes_before_comparing() {
        let src = br#"{"iss":"https:\/\/issuer.example","alg":"\u0048S256","e":"\ud83d\ude00"}"#;
        let mut seen = 0;
        parse_object(src, |name, value| {
            let s = value.as_json_str().unwrap();
            match name.raw() {
                "iss" => assert!(s == "https://issuer.example"),
                "alg" => assert!(s == "HS256"),
                "e" => assert!(s == "\u{1F600}"),
                _ => unreachable!(),
            }
            assert!(s.as_str().is_none());
            seen += 1;
        })
        .unwrap();
        assert_eq!(seen, 3);
    }

    #[test]
    fn rejects_lone_surrogates_control_characters_and_bad_escapes() {
        for bad in [
            r#"{"a":"\ud800"}"#,
            r#"{"a":"\udc00"}"#,
            r#"{"a":"\ud800\u0041"}"#,
            r#"{"a":"\u+048"}"#,
            r#"{"a":"\x41"}"#,
            "{\"a\":\"\t\"}",
            "{\"a\":\"\u{0}\"}",
        ] {
            assert_eq!(members(bad), Err(InvalidJson), "{bad:?}");
        }
        assert_eq!(parse_object(b"{\"a\":\"\xff\"}", |_, _| ()), Err(InvalidJson));
    }

    #[test]
    fn number_grammar_is_exact() {
        for good in ["0", "-0", "1", "-12", "1.5", "1e9", "1E+9", "1.0e-9", "1700000000.25"] {
            assert_eq!(validate(good.as_bytes()), Ok(()), "{good}");
        }
        for bad in ["+1", "01", ".5", "1.", "1e", "-", "1.e5", "0x10", "NaN", "Infinity", "1 2"] {
            assert_eq!(validate(bad.as_bytes()), Err(InvalidJson), "{bad}");
        }
    }

    #[test]
    fn depth_is_bounded_without_recursion() {
        let mut deep = std::string::String::new();
        for _ in 0..MAX_DEPTH {
            deep.push('[');
        }
        for _ in 0..MAX_DEPTH {
            deep.push(']');
        }
        assert_eq!(validate(deep.as_bytes()), Ok(()));
        let deeper = std::format!("[{deep}]");
        assert_eq!(validate(deeper.as_bytes()), Err(InvalidJson));
        let huge = "[".repeat(100_000);
        assert_eq!(validate(huge.as_bytes()), Err(InvalidJson));
        let objects = "{\"a\":".repeat(100_000);
        assert_eq!(validate(objects.as_bytes()), Err(InvalidJson));
    }

    #[test]
    fn mismatched_brackets_are_rejected() {
        for bad in ["[}", "{]", "[1,]", "[,1]", "{\"a\":1]", "[[]", "[]]", "{\"a\" 1}", "{1:1}"] {
            assert_eq!(validate(bad.as_bytes()), Err(InvalidJson), "{bad}");
        }
    }

    #[test]
    fn array_elements_iterate_values() {
        let mut names = std::vec::Vec::new();
        parse_object(br#"{"aud":[ "a" , "b\u0063", 3 ]}"#, |_, v| {
            for e in v.as_array().unwrap() {
                names.push(std::format!(
                    "{}:{}",
                    e.type_name(),
                    e.as_json_str().map(|s| std::format!("{s}")).unwrap_or_default()
                ));
            }
        })
        .unwrap();
        assert_eq!(names, ["string:a", "string:bc", "number:"]);
    }

    #[test]
    fn decode_into_and_case_insensitive_compare() {
        let mut out = None;
        parse_object(br#"{"typ":"at\u002BJWT"}"#, |_, v| out = v.as_json_str()).unwrap();
        let s = out.unwrap();
        assert!(s.eq_ignore_ascii_case("AT+jwt"));
        assert_eq!(s.decoded_len(), 6);
        let mut buf = [0u8; 6];
        assert_eq!(s.decode_into(&mut buf), Some("at+JWT"));
        assert_eq!(s.decode_into(&mut [0u8; 5]), None);
    }
}
