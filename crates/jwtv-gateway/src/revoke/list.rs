//! The deny list itself: revoked token ids, subjects and key ids, checked in
//! constant time per token, and its JSON file format.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use foldhash::fast::RandomState;
use jwtv::json::JsonStr;
use jwtv::{Claims, Error, Field, Header};
use serde::Deserialize;

use crate::document::UniqueMap;

/// A `jti` entry keeps rejecting its token this long after the `exp` given
/// with it, so that a verifier's clock leeway never lets the token through
/// again; then the entry is dropped.
pub const JTI_GRACE_SECS: u64 = 300;

/// The longest id (`jti`, `sub` or `kid`) a list accepts, in bytes.
pub const MAX_REVOKED_ID_LEN: usize = 1024;

/// Expired `jti` entries are dropped at most this often.
const PRUNE_INTERVAL_SECS: u64 = 60;

/// What a revocation names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RevocationKind {
    /// One token, by its `jti` claim.
    Jti,
    /// Every token of a subject (`sub`) issued before a time.
    Sub,
    /// Every token signed by a key, by its `kid`.
    Kid,
}

impl RevocationKind {
    /// The three kinds.
    pub const ALL: [Self; 3] = [Self::Jti, Self::Sub, Self::Kid];

    /// `"jti"`, `"sub"` or `"kid"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Jti => "jti",
            Self::Sub => "sub",
            Self::Kid => "kid",
        }
    }

    /// The kind called `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// The field an [`Error::Revoked`] of this kind names.
    pub const fn field(self) -> Field {
        match self {
            Self::Jti => Field::Jti,
            Self::Sub => Field::Sub,
            Self::Kid => Field::Kid,
        }
    }
}

impl fmt::Display for RevocationKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// One entry of a deny list. All times are Unix seconds.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Revocation {
    /// The token whose `jti` is `id` is rejected until `exp` (its own
    /// expiry) plus [`JTI_GRACE_SECS`]; then the entry goes away by itself.
    Jti {
        /// The token's `jti`.
        id: String,
        /// The token's `exp`.
        exp: u64,
    },
    /// Tokens of subject `id` issued before `not_before` (their `iat`, or
    /// without `iat`, any) are rejected: "log out everywhere".
    Sub {
        /// The subject.
        id: String,
        /// Tokens issued at or after this time are accepted again.
        not_before: u64,
    },
    /// Tokens verified by the key `id`, or naming it in their header, are
    /// rejected, even while the key is still published.
    Kid {
        /// The key id.
        id: String,
        /// When it was revoked (for the record).
        since: u64,
    },
}

impl Revocation {
    /// What the entry names.
    pub fn kind(&self) -> RevocationKind {
        match self {
            Self::Jti { .. } => RevocationKind::Jti,
            Self::Sub { .. } => RevocationKind::Sub,
            Self::Kid { .. } => RevocationKind::Kid,
        }
    }

    /// The revoked id.
    pub fn id(&self) -> &str {
        match self {
            Self::Jti { id, .. } | Self::Sub { id, .. } | Self::Kid { id, .. } => id,
        }
    }

    /// The entry's time: `exp`, `not_before` or `since`.
    pub fn time(&self) -> u64 {
        match *self {
            Self::Jti { exp, .. } => exp,
            Self::Sub { not_before, .. } => not_before,
            Self::Kid { since, .. } => since,
        }
    }

    /// The entry of `kind` for `id` at `time` (see [`Revocation::time`]).
    pub fn new(kind: RevocationKind, id: impl Into<String>, time: u64) -> Self {
        let id = id.into();
        match kind {
            RevocationKind::Jti => Self::Jti { id, exp: time },
            RevocationKind::Sub => Self::Sub { id, not_before: time },
            RevocationKind::Kid => Self::Kid { id, since: time },
        }
    }

    /// Checks the id: not empty, at most [`MAX_REVOKED_ID_LEN`] bytes.
    pub fn validate(&self) -> Result<(), RevocationError> {
        let id = self.id();
        if id.is_empty() {
            return Err(RevocationError::InvalidEntry(format!("{}: an empty id", self.kind())));
        }
        if id.len() > MAX_REVOKED_ID_LEN {
            return Err(RevocationError::InvalidEntry(format!(
                "{}: an id of {} bytes (at most {MAX_REVOKED_ID_LEN})",
                self.kind(),
                id.len()
            )));
        }
        Ok(())
    }
}

/// Why a revocation list could not be read, written or reached.
#[derive(Debug)]
#[non_exhaustive]
pub enum RevocationError {
    /// A file could not be read or written.
    Io(String),
    /// A list document is not valid (the message names the place).
    Invalid(String),
    /// An entry is not valid (empty or too long id).
    InvalidEntry(String),
    /// The source is neither a file path nor a `redis://` URL, or names an
    /// unsupported scheme.
    BadSource(String),
    /// Redis could not be reached or answered with an error.
    Redis(String),
}

impl fmt::Display for RevocationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io(m) => write!(f, "revocation list: {m}"),
            Self::Invalid(m) => write!(f, "invalid revocation list: {m}"),
            Self::InvalidEntry(m) => write!(f, "invalid revocation: {m}"),
            Self::BadSource(m) => write!(f, "revocation source: {m}"),
            Self::Redis(m) => write!(f, "redis: {m}"),
        }
    }
}

impl std::error::Error for RevocationError {}

/// Ids to times, hashed with a per-process random seed (ids may come from
/// tokens an attacker chose).
type IdMap = HashMap<Box<str>, u64, RandomState>;

/// A deny list: revoked `jti`s (each until its `exp`), subjects (tokens
/// issued before a time) and key ids.
///
/// [`RevocationList::check`] costs at most three hash lookups, none for an
/// empty kind, and allocates only for ids written with JSON escapes.
///
/// ```
/// use jwtv::{Claims, ErrorCode, Header};
/// use jwtv_gateway::{Revocation, RevocationList};
///
/// let mut list = RevocationList::new();
/// list.insert(Revocation::Sub { id: "user-1".into(), not_before: 1_700_000_000 });
/// let header = Header::from_json(br#"{"alg":"ES256","kid":"k1"}"#)?;
/// let old = Claims::from_json(br#"{"sub":"user-1","iat":1699999000}"#)?;
/// let new = Claims::from_json(br#"{"sub":"user-1","iat":1700000001}"#)?;
/// assert_eq!(list.check(&header, &old, Some("k1"), 1_700_000_100).unwrap_err().code(), ErrorCode::Revoked);
/// assert!(list.check(&header, &new, Some("k1"), 1_700_000_100).is_ok());
/// # Ok::<(), jwtv::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct RevocationList {
    jti: IdMap,
    sub: IdMap,
    kid: IdMap,
    /// When expired `jti` entries should next be dropped.
    next_prune: u64,
}

impl Default for RevocationList {
    fn default() -> Self {
        Self::new()
    }
}

impl PartialEq for RevocationList {
    fn eq(&self, other: &Self) -> bool {
        self.jti == other.jti && self.sub == other.sub && self.kid == other.kid
    }
}

impl RevocationList {
    /// An empty list.
    pub fn new() -> Self {
        Self { jti: IdMap::default(), sub: IdMap::default(), kid: IdMap::default(), next_prune: u64::MAX }
    }

    fn map(&self, kind: RevocationKind) -> &IdMap {
        match kind {
            RevocationKind::Jti => &self.jti,
            RevocationKind::Sub => &self.sub,
            RevocationKind::Kid => &self.kid,
        }
    }

    fn map_mut(&mut self, kind: RevocationKind) -> &mut IdMap {
        match kind {
            RevocationKind::Jti => &mut self.jti,
            RevocationKind::Sub => &mut self.sub,
            RevocationKind::Kid => &mut self.kid,
        }
    }

    /// Adds an entry. An id listed already keeps the stronger entry: the
    /// later `exp` or `not_before`, the earlier `since`.
    pub fn insert(&mut self, revocation: Revocation) {
        let kind = revocation.kind();
        let time = revocation.time();
        let id: Box<str> = match revocation {
            Revocation::Jti { id, .. } | Revocation::Sub { id, .. } | Revocation::Kid { id, .. } => id.into(),
        };
        let slot = self.map_mut(kind).entry(id).or_insert(time);
        *slot = if kind == RevocationKind::Kid { (*slot).min(time) } else { (*slot).max(time) };
        if kind == RevocationKind::Jti {
            self.next_prune = self.next_prune.min(time.saturating_add(JTI_GRACE_SECS));
        }
    }

    /// Removes the entry of `kind` for `id`; true when there was one.
    pub fn remove(&mut self, kind: RevocationKind, id: &str) -> bool {
        self.map_mut(kind).remove(id).is_some()
    }

    /// The entry of `kind` for `id`, if listed.
    pub fn get(&self, kind: RevocationKind, id: &str) -> Option<Revocation> {
        self.map(kind).get(id).map(|&time| Revocation::new(kind, id, time))
    }

    /// Entries of one kind.
    pub fn count(&self, kind: RevocationKind) -> usize {
        self.map(kind).len()
    }

    /// All entries.
    pub fn len(&self) -> usize {
        self.jti.len() + self.sub.len() + self.kid.len()
    }

    /// True when nothing is revoked.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every entry, sorted by kind then id.
    pub fn entries(&self) -> Vec<Revocation> {
        let mut all: Vec<Revocation> = RevocationKind::ALL
            .into_iter()
            .flat_map(|kind| self.map(kind).iter().map(move |(id, &time)| Revocation::new(kind, &**id, time)))
            .collect();
        all.sort();
        all
    }

    /// Rejects a verified token with [`Error::Revoked`] when its `jti`, its
    /// subject (issued before the subject's `not_before`, or without `iat`)
    /// or its key is listed. `key_kid` is the `kid` of the key that verified
    /// it; the header's `kid` is checked as well.
    pub fn check(
        &self,
        header: &Header<'_>,
        claims: &Claims<'_>,
        key_kid: Option<&str>,
        now: u64,
    ) -> Result<(), Error> {
        self.check_listed(&Listed::of(header, claims), key_kid, now)
    }

    /// [`RevocationList::check`] on what the list looks at in a token.
    pub(crate) fn check_listed(&self, token: &Listed<'_>, key_kid: Option<&str>, now: u64) -> Result<(), Error> {
        if !self.kid.is_empty() {
            let by_key = key_kid.is_some_and(|kid| self.kid.contains_key(kid));
            if by_key || token.header_kid.is_some_and(|kid| lookup(&self.kid, kid).is_some()) {
                return Err(Error::Revoked(Field::Kid));
            }
        }
        if let Some(exp) = token.jti.and_then(|jti| lookup(&self.jti, jti))
            && now <= exp.saturating_add(JTI_GRACE_SECS)
        {
            return Err(Error::Revoked(Field::Jti));
        }
        if let Some(not_before) = token.sub.and_then(|sub| lookup(&self.sub, sub))
            && token.iat.is_none_or(|iat| iat < i64::try_from(not_before).unwrap_or(i64::MAX))
        {
            return Err(Error::Revoked(Field::Sub));
        }
        Ok(())
    }

    /// True when [`RevocationList::prune`] has something to drop at `now`
    /// (checked at most once a minute).
    pub fn prune_due(&self, now: u64) -> bool {
        now >= self.next_prune
    }

    /// Drops `jti` entries past their `exp` plus [`JTI_GRACE_SECS`]; returns
    /// how many.
    pub fn prune(&mut self, now: u64) -> usize {
        let before = self.jti.len();
        self.jti.retain(|_, exp| now <= exp.saturating_add(JTI_GRACE_SECS));
        let earliest = self.jti.values().min().map_or(u64::MAX, |exp| exp.saturating_add(JTI_GRACE_SECS));
        self.next_prune = earliest.max(now.saturating_add(PRUNE_INTERVAL_SECS));
        before - self.jti.len()
    }

    /// Reads the JSON file format:
    ///
    /// ```json
    /// {
    ///   "jti": {"4f1c2b": 1767229200},
    ///   "sub": {"user-42": 1767225600},
    ///   "kid": {"2024-signing-key": 1767220000}
    /// }
    /// ```
    ///
    /// Each member maps an id to its time (`exp`, `not_before`, `since`, Unix
    /// seconds); every member is optional. Unknown members, duplicate ids,
    /// empty or overlong ids and non-integer times are errors.
    pub fn from_json(json: &[u8]) -> Result<Self, RevocationError> {
        let doc: ListDocument = crate::document::read(json).map_err(|e| {
            RevocationError::Invalid(if e.path.is_empty() { e.message } else { format!("{}: {}", e.path, e.message) })
        })?;
        let mut list = Self::new();
        for (kind, entries) in
            [(RevocationKind::Jti, doc.jti), (RevocationKind::Sub, doc.sub), (RevocationKind::Kid, doc.kid)]
        {
            for (id, time) in entries.0 {
                let entry = Revocation::new(kind, id, time);
                entry.validate()?;
                list.insert(entry);
            }
        }
        Ok(list)
    }

    /// The list in its JSON file format, ids sorted, one entry per line.
    pub fn to_json(&self) -> String {
        let mut out = String::from("{\n");
        let kinds: Vec<String> = RevocationKind::ALL
            .into_iter()
            .map(|kind| {
                let sorted: BTreeMap<&str, u64> = self.map(kind).iter().map(|(id, &t)| (&**id, t)).collect();
                let entries: Vec<String> =
                    sorted.iter().map(|(id, t)| format!("    {}: {t}", serde_json::Value::from(*id))).collect();
                if entries.is_empty() {
                    format!("  \"{kind}\": {{}}")
                } else {
                    format!("  \"{kind}\": {{\n{}\n  }}", entries.join(",\n"))
                }
            })
            .collect();
        out.push_str(&kinds.join(",\n"));
        out.push_str("\n}\n");
        out
    }
}

/// `map`'s value for the decoded string `s`.
fn lookup(map: &IdMap, s: Id<'_>) -> Option<u64> {
    if map.is_empty() {
        return None;
    }
    match s {
        Id::Text(plain) => map.get(plain).copied(),
        Id::Json(s) => match s.as_str() {
            Some(plain) => map.get(plain).copied(),
            None => map.get(s.chars().collect::<String>().as_str()).copied(),
        },
    }
}

/// An identifier a revocation list looks up: as the token's JSON holds it,
/// or decoded already.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Id<'a> {
    Json(JsonStr<'a>),
    Text(&'a str),
}

/// What a revocation list looks at in a verified token: the header's `kid`,
/// `jti`, `sub` and `iat` (whole seconds, rounded down).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Listed<'a> {
    pub(crate) header_kid: Option<Id<'a>>,
    pub(crate) jti: Option<Id<'a>>,
    pub(crate) sub: Option<Id<'a>>,
    pub(crate) iat: Option<i64>,
}

impl<'a> Listed<'a> {
    pub(crate) fn of(header: &Header<'a>, claims: &Claims<'a>) -> Self {
        Self {
            header_kid: header.kid().map(Id::Json),
            jti: claims.jti().map(Id::Json),
            sub: claims.sub().map(Id::Json),
            iat: claims.iat().map(|iat| iat.floor()),
        }
    }
}

/// [`Listed`], owned: kept with a cached verification.
#[derive(Clone, Debug, Default)]
pub(crate) struct ListedBuf {
    header_kid: Option<Box<str>>,
    jti: Option<Box<str>>,
    sub: Option<Box<str>>,
    iat: Option<i64>,
}

impl ListedBuf {
    pub(crate) fn of(header: &Header<'_>, claims: &Claims<'_>) -> Self {
        let text = |s: JsonStr<'_>| s.chars().collect::<String>().into_boxed_str();
        Self {
            header_kid: header.kid().map(text),
            jti: claims.jti().map(text),
            sub: claims.sub().map(text),
            iat: claims.iat().map(|iat| iat.floor()),
        }
    }

    pub(crate) fn as_listed(&self) -> Listed<'_> {
        Listed {
            header_kid: self.header_kid.as_deref().map(Id::Text),
            jti: self.jti.as_deref().map(Id::Text),
            sub: self.sub.as_deref().map(Id::Text),
            iat: self.iat,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListDocument {
    #[serde(default)]
    jti: UniqueMap<u64>,
    #[serde(default)]
    sub: UniqueMap<u64>,
    #[serde(default)]
    kid: UniqueMap<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use jwtv::ErrorCode;

    const NOW: u64 = 1_700_000_000;

    fn check(list: &RevocationList, header: &str, claims: &str, key_kid: Option<&str>, now: u64) -> Result<(), Error> {
        let header = Header::from_json(header.as_bytes()).unwrap();
        let claims = Claims::from_json(claims.as_bytes()).unwrap();
        list.check(&header, &claims, key_kid, now)
    }

    #[test]
    fn an_empty_list_revokes_nothing() {
        let list = RevocationList::new();
        assert_eq!(check(&list, r#"{"alg":"ES256","kid":"k"}"#, r#"{"jti":"a","sub":"u"}"#, Some("k"), NOW), Ok(()));
    }

    #[test]
    fn a_jti_is_revoked_until_its_exp_and_grace_then_pruned() {
        let mut list = RevocationList::new();
        list.insert(Revocation::Jti { id: "t-1".into(), exp: NOW + 100 });
        let claims = r#"{"jti":"t-1","sub":"u"}"#;
        let h = r#"{"alg":"ES256"}"#;
        assert_eq!(check(&list, h, claims, None, NOW), Err(Error::Revoked(Field::Jti)));
        assert_eq!(check(&list, h, claims, None, NOW + 100 + JTI_GRACE_SECS), Err(Error::Revoked(Field::Jti)));
        assert_eq!(check(&list, h, claims, None, NOW + 101 + JTI_GRACE_SECS), Ok(()));
        assert_eq!(check(&list, h, r#"{"jti":"t-2"}"#, None, NOW), Ok(()));
        // Escapes are decoded before comparing.
        assert_eq!(check(&list, h, r#"{"jti":"t\u002d1"}"#, None, NOW), Err(Error::Revoked(Field::Jti)));

        assert!(!list.prune_due(NOW));
        assert!(list.prune_due(NOW + 100 + JTI_GRACE_SECS));
        assert_eq!(list.prune(NOW + 100 + JTI_GRACE_SECS), 0, "still in its grace");
        assert_eq!(list.prune(NOW + 101 + JTI_GRACE_SECS), 1);
        assert!(list.is_empty());
        assert!(!list.prune_due(NOW + 10_000), "nothing left to drop");
    }

    #[test]
    fn a_subject_is_revoked_for_tokens_issued_before_its_time() {
        let mut list = RevocationList::new();
        list.insert(Revocation::Sub { id: "user-1".into(), not_before: NOW });
        let h = r#"{"alg":"ES256"}"#;
        let at = |iat: &str| format!(r#"{{"sub":"user-1","iat":{iat}}}"#);
        assert_eq!(check(&list, h, &at("1699999999"), None, NOW), Err(Error::Revoked(Field::Sub)));
        assert_eq!(check(&list, h, &at("1699999999.9"), None, NOW), Err(Error::Revoked(Field::Sub)));
        assert_eq!(check(&list, h, &at("1700000000"), None, NOW), Ok(()));
        assert_eq!(check(&list, h, r#"{"sub":"user-1"}"#, None, NOW), Err(Error::Revoked(Field::Sub)), "no iat");
        assert_eq!(check(&list, h, r#"{"sub":"user-2","iat":1}"#, None, NOW), Ok(()));
        // A later revocation of the same subject moves the time forward, never back.
        list.insert(Revocation::Sub { id: "user-1".into(), not_before: NOW + 10 });
        list.insert(Revocation::Sub { id: "user-1".into(), not_before: NOW - 10 });
        assert_eq!(
            list.get(RevocationKind::Sub, "user-1"),
            Some(Revocation::Sub { id: "user-1".into(), not_before: NOW + 10 })
        );
    }

    #[test]
    fn a_key_is_revoked_by_the_verifying_key_or_the_header_kid() {
        let mut list = RevocationList::new();
        list.insert(Revocation::Kid { id: "old".into(), since: NOW });
        let claims = r#"{"sub":"u"}"#;
        assert_eq!(
            check(&list, r#"{"alg":"ES256","kid":"old"}"#, claims, Some("old"), NOW),
            Err(Error::Revoked(Field::Kid))
        );
        // No kid in the token: the key that verified it decides.
        assert_eq!(check(&list, r#"{"alg":"ES256"}"#, claims, Some("old"), NOW), Err(Error::Revoked(Field::Kid)));
        assert_eq!(
            check(&list, r#"{"alg":"ES256","kid":"o\u006cd"}"#, claims, None, NOW),
            Err(Error::Revoked(Field::Kid))
        );
        assert_eq!(check(&list, r#"{"alg":"ES256","kid":"new"}"#, claims, Some("new"), NOW), Ok(()));
        assert!(list.remove(RevocationKind::Kid, "old"));
        assert!(!list.remove(RevocationKind::Kid, "old"));
        assert_eq!(check(&list, r#"{"alg":"ES256","kid":"old"}"#, claims, Some("old"), NOW), Ok(()));
        assert_eq!(Error::Revoked(Field::Kid).code(), ErrorCode::Revoked);
    }

    #[test]
    fn a_list_that_is_not_an_object_never_reads_as_empty() {
        for doc in ["[]", "[{}]", "null", "\"\"", "0"] {
            let err = RevocationList::from_json(doc.as_bytes()).expect_err(doc).to_string();
            assert!(err.contains("expected a JSON object at the top"), "{doc}: {err}");
        }
    }

    #[test]
    fn the_json_format_round_trips_and_is_strict() {
        let doc = br#"{"jti":{"a":1767229200,"b\"q":5},"sub":{"user-42":1767225600},"kid":{"k":1}}"#;
        let list = RevocationList::from_json(doc).unwrap();
        assert_eq!(list.len(), 4);
        assert_eq!(list.get(RevocationKind::Jti, "b\"q"), Some(Revocation::Jti { id: "b\"q".into(), exp: 5 }));
        assert_eq!(RevocationList::from_json(list.to_json().as_bytes()).unwrap(), list);
        assert_eq!(RevocationList::from_json(b"{}").unwrap().len(), 0);
        assert_eq!(RevocationList::new().to_json(), "{\n  \"jti\": {},\n  \"sub\": {},\n  \"kid\": {}\n}\n");

        let bad: &[(&[u8], &str)] = &[
            (br#"{"jti":{"a":1,"a":2}}"#, "jti: duplicate name `a`"),
            (br#"{"jti":{"a":1,"\u0061":2}}"#, "jti: duplicate name `a`"),
            (br#"{"jtis":{}}"#, "unknown field `jtis`"),
            (br#"{"sub":{"u":"1"}}"#, "sub.u: invalid type: string \"1\""),
            (br#"{"sub":{"u":-1}}"#, "sub.u: invalid value: integer `-1`"),
            (br#"{"kid":{"":1}}"#, "kid: an empty id"),
            (br#"{"kid":[]}"#, "kid: invalid type: sequence"),
            (br#"{} x"#, "trailing characters"),
        ];
        for (doc, want) in bad {
            let err = RevocationList::from_json(doc).unwrap_err().to_string();
            assert!(err.contains(want), "{}: got {err}", String::from_utf8_lossy(doc));
        }
        let long = format!(r#"{{"jti":{{"{}":1}}}}"#, "x".repeat(MAX_REVOKED_ID_LEN + 1));
        assert!(RevocationList::from_json(long.as_bytes()).unwrap_err().to_string().contains("at most 1024"));
    }
}
