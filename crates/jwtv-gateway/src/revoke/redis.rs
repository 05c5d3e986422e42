//! The Redis back end, for fleets: one shared list, a local copy in each
//! process kept in sync by pub/sub plus periodic full resyncs.
//!
//! Layout under the prefix `P` (default `jwtv:revoked`):
//!
//! | key | type | members | score |
//! |---|---|---|---|
//! | `P:jti` | sorted set | token ids | the token's `exp` |
//! | `P:sub` | sorted set | subjects | `not_before` |
//! | `P:kid` | sorted set | key ids | `since` |
//! | `P:events` | channel | `add <kind> <time> <id>` or `del <kind> <id>` | |
//!
//! Writers change a set and publish the change in one `MULTI`/`EXEC`;
//! `ZADD GT` (`LT` for `kid`) keeps the stronger entry as the local list does.
//! Expired `jti` entries are removed by every writer and every resync.
//! Redis is the source of truth: run it with persistence (RDB or AOF), or a
//! restart empties the list for every gateway at its next resync.

use std::sync::Arc;
use std::time::{Duration, Instant};

use redis::{Client, Connection, RedisError};

use super::{JTI_GRACE_SECS, RedisOptions, Revocation, RevocationError, RevocationKind, RevocationList, Shared};

/// A sorted set read `WITHSCORES`.
type Scored = Vec<(String, f64)>;

/// How long the subscriber blocks for a message before it looks at its timers.
const TICK: Duration = Duration::from_millis(200);

#[derive(Debug)]
pub(super) struct RedisStore {
    client: Client,
    location: String,
    options: RedisOptions,
}

impl From<RedisError> for RevocationError {
    fn from(e: RedisError) -> Self {
        Self::Redis(e.to_string())
    }
}

impl RedisStore {
    pub(super) fn new(url: &str, options: RedisOptions) -> Result<Self, RevocationError> {
        if options.prefix.is_empty() || options.prefix.contains(char::is_whitespace) {
            return Err(RevocationError::BadSource("the Redis prefix must be non-empty, without spaces".into()));
        }
        let client = Client::open(url).map_err(|e| RevocationError::BadSource(format!("{}: {e}", redact(url))))?;
        Ok(Self { client, location: redact(url), options })
    }

    pub(super) fn location(&self) -> String {
        self.location.clone()
    }

    fn key(&self, kind: RevocationKind) -> String {
        format!("{}:{kind}", self.options.prefix)
    }

    fn channel(&self) -> String {
        format!("{}:events", self.options.prefix)
    }

    fn connect(&self) -> Result<Connection, RevocationError> {
        let conn = self.client.get_connection_with_timeout(self.options.timeout)?;
        conn.set_read_timeout(Some(self.options.timeout))?;
        conn.set_write_timeout(Some(self.options.timeout))?;
        Ok(conn)
    }

    pub(super) fn revoke(&self, revocation: &Revocation) -> Result<(), RevocationError> {
        let kind = revocation.kind();
        let time = revocation.time();
        let mut conn = self.connect()?;
        let mut pipe = redis::pipe();
        pipe.atomic();
        // GT/LT add a missing member and update an existing one only to a
        // later (earlier, for `kid`) time.
        let keep = if kind == RevocationKind::Kid { "LT" } else { "GT" };
        pipe.cmd("ZADD").arg(self.key(kind)).arg(keep).arg(time).arg(revocation.id()).ignore();
        self.prune_into(&mut pipe);
        pipe.cmd("PUBLISH").arg(self.channel()).arg(format!("add {kind} {time} {}", revocation.id())).ignore();
        pipe.query::<()>(&mut conn)?;
        Ok(())
    }

    pub(super) fn unrevoke(&self, kind: RevocationKind, id: &str) -> Result<bool, RevocationError> {
        let mut conn = self.connect()?;
        let (removed,): (u64,) = redis::pipe()
            .atomic()
            .cmd("ZREM")
            .arg(self.key(kind))
            .arg(id)
            .cmd("PUBLISH")
            .arg(self.channel())
            .arg(format!("del {kind} {id}"))
            .ignore()
            .query(&mut conn)?;
        Ok(removed > 0)
    }

    fn prune_into(&self, pipe: &mut redis::Pipeline) {
        let cutoff = jwtv_jwks::unix_now().saturating_sub(JTI_GRACE_SECS);
        pipe.cmd("ZREMRANGEBYSCORE").arg(self.key(RevocationKind::Jti)).arg("-inf").arg(format!("({cutoff}")).ignore();
    }

    /// Replaces the local copy with the whole list: a sync.
    fn reload(&self, shared: &Shared, conn: &mut Connection) -> Result<(), RevocationError> {
        let (list, invalid) = self.load(conn)?;
        shared.replace(list);
        shared.mark_synced_with_invalid(invalid);
        Ok(())
    }

    /// The whole list, read in one transaction, and how many of its entries
    /// it cannot take (an empty id, or one past `MAX_REVOKED_ID_LEN` bytes):
    /// never dropped in silence, they are counted in the gauges.
    fn load(&self, conn: &mut Connection) -> Result<(RevocationList, u64), RevocationError> {
        let mut pipe = redis::pipe();
        pipe.atomic();
        for kind in RevocationKind::ALL {
            pipe.cmd("ZRANGE").arg(self.key(kind)).arg(0).arg(-1).arg("WITHSCORES");
        }
        let (jti, sub, kid): (Scored, Scored, Scored) = pipe.query(conn)?;
        let mut list = RevocationList::new();
        let mut invalid = 0u64;
        for (kind, entries) in [(RevocationKind::Jti, jti), (RevocationKind::Sub, sub), (RevocationKind::Kid, kid)] {
            for (id, score) in entries {
                let entry = Revocation::new(kind, id, score_to_time(score));
                if entry.validate().is_ok() {
                    list.insert(entry);
                } else {
                    invalid += 1;
                }
            }
        }
        list.prune(jwtv_jwks::unix_now());
        Ok((list, invalid))
    }

    pub(super) fn spawn_sync(&self, shared: Arc<Shared>) -> Result<(), RevocationError> {
        let store =
            Self { client: self.client.clone(), location: self.location.clone(), options: self.options.clone() };
        std::thread::Builder::new()
            .name("jwtv-revocations".into())
            .spawn(move || store.run(&shared))
            .map(drop)
            .map_err(|e| RevocationError::Redis(format!("cannot start the sync thread: {e}")))
    }

    /// The sync thread: sessions until the last handle is dropped, with
    /// backoff between failed ones.
    fn run(&self, shared: &Shared) {
        let mut backoff = self.options.backoff_min;
        while !shared.stopped() {
            match self.session(shared, &mut backoff) {
                Ok(()) => return,
                Err(e) => shared.mark_failed(&e),
            }
            let until = Instant::now() + backoff;
            while !shared.stopped() && Instant::now() < until {
                std::thread::sleep(TICK.min(until.saturating_duration_since(Instant::now())));
            }
            backoff = (backoff * 2).min(self.options.backoff_max);
        }
    }

    /// Subscribes, loads the whole list, then applies published changes as
    /// they come, pinging and resyncing on schedule. Ends with `Ok` when
    /// stopped, with the error when the connection fails.
    fn session(&self, shared: &Shared, backoff: &mut Duration) -> Result<(), RevocationError> {
        let mut subscriber = self.connect()?;
        let mut commands = self.connect()?;
        let mut pubsub = subscriber.as_pubsub();
        // Subscribe before loading: a change published meanwhile is applied
        // after the load (changes are idempotent), never lost.
        pubsub.subscribe(self.channel())?;
        pubsub.set_read_timeout(Some(TICK))?;
        self.reload(shared, &mut commands)?;
        *backoff = self.options.backoff_min;
        let mut last_resync = Instant::now();
        let mut last_ping = Instant::now();
        loop {
            if shared.stopped() {
                return Ok(());
            }
            match pubsub.get_message() {
                Ok(message) => {
                    if !apply(shared, message.get_payload_bytes()) {
                        // Not understood (another writer's format?): trust a full read.
                        last_resync = Instant::now() - self.options.resync_interval;
                    }
                }
                Err(e) if e.is_timeout() => {}
                Err(e) => return Err(e.into()),
            }
            if last_resync.elapsed() >= self.options.resync_interval {
                self.reload(shared, &mut commands)?;
                last_resync = Instant::now();
                last_ping = last_resync;
            } else if last_ping.elapsed() >= self.options.ping_interval {
                redis::cmd("PING").query::<String>(&mut commands)?;
                shared.mark_synced();
                last_ping = Instant::now();
            }
        }
    }
}

/// Applies one published change; false when it is not understood.
fn apply(shared: &Shared, payload: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(payload) else { return false };
    let mut words = text.splitn(3, ' ');
    let (Some(op), Some(kind), Some(rest)) =
        (words.next(), words.next().and_then(RevocationKind::from_name), words.next())
    else {
        return false;
    };
    match op {
        "add" => {
            let Some((time, id)) = rest.split_once(' ') else { return false };
            let Ok(time) = time.parse::<u64>() else { return false };
            let entry = Revocation::new(kind, id, time);
            if entry.validate().is_err() {
                return false;
            }
            shared.update(|list| list.insert(entry));
            true
        }
        "del" => {
            shared.update(|list| list.remove(kind, rest));
            true
        }
        _ => false,
    }
}

fn score_to_time(score: f64) -> u64 {
    if score.is_finite() && score > 0.0 {
        // Scores are whole seconds written by writers; saturate anything else.
        format!("{score:.0}").parse().unwrap_or(u64::MAX)
    } else {
        0
    }
}

/// The URL without its password, for status and errors.
fn redact(url: &str) -> String {
    match (url.split_once("://"), url.rfind('@')) {
        (Some((scheme, rest)), Some(at)) if at > scheme.len() => {
            let userinfo = rest.get(..at - scheme.len() - 3).unwrap_or("");
            let host = url.get(at..).unwrap_or("");
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{scheme}://{user}:***{host}")
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(redact("redis://:s3cret@h:6379/0"), "redis://:***@h:6379/0");
        assert_eq!(redact("redis://u:s3cret@h"), "redis://u:***@h");
        assert_eq!(redact("redis://h:6379"), "redis://h:6379");
    }

    #[test]
    fn published_changes_are_applied_or_refused() {
        let shared = Shared::new(RevocationList::new(), false, Arc::new(jwtv_jwks::SystemClock::new()));
        assert!(apply(&shared, b"add jti 1700000000 token id with spaces"));
        assert!(apply(&shared, b"add kid 5 k1"));
        assert_eq!(
            shared.read().get(RevocationKind::Jti, "token id with spaces"),
            Some(Revocation::Jti { id: "token id with spaces".into(), exp: 1_700_000_000 })
        );
        assert!(apply(&shared, b"del kid k1"));
        assert_eq!(shared.read().count(RevocationKind::Kid), 0);
        for bad in [&b"add jti x id"[..], b"add jti 5", b"add xyz 5 id", b"put jti 5 id", b"\xff", b"", b"add sub 5 "] {
            assert!(!apply(&shared, bad), "{bad:?}");
        }
        assert_eq!(shared.read().len(), 1);
    }

    #[test]
    fn scores_become_whole_seconds() {
        assert_eq!(score_to_time(1_700_000_000.0), 1_700_000_000);
        assert_eq!(score_to_time(-1.0), 0);
        assert_eq!(score_to_time(f64::NAN), 0);
        assert_eq!(score_to_time(f64::INFINITY), 0);
    }
}
