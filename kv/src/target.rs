//! The stores certgate-kv writes, as Spin keeps them: SQLite rows in Spin's own
//! `spin_key_value` table (what `spin up` reads from `.spin/sqlite_key_value.db`), and Redis
//! keys as given with raw values (Spin's `type = "redis"` store).
//!
//! Every write command is one atomic batch: SQLite plans and writes inside one
//! `BEGIN IMMEDIATE` transaction; Redis plans under WATCH (the marker and the buckets it
//! rewrites) and writes in one MULTI/EXEC, planned again when another writer changed what
//! was read. A batch that fails writes nothing.

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::time::Duration;

use certgate::store::{KeyValue, MARKER_KEY};
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior};

use crate::batch::{plan, Plan, Request, Snapshot};
use crate::Error;

/// Spin's schema for its SQLite key-value store (spin-key-value-sqlite), exactly.
pub const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS spin_key_value (store TEXT NOT NULL, key TEXT NOT NULL, \
                                value BLOB NOT NULL, PRIMARY KEY (store, key))";
const SELECT_VALUE: &str = "SELECT value FROM spin_key_value WHERE store = ?1 AND key = ?2";
const UPSERT: &str = "INSERT INTO spin_key_value (store, key, value) VALUES (?1, ?2, ?3) \
                      ON CONFLICT (store, key) DO UPDATE SET value = excluded.value";
const DELETE: &str = "DELETE FROM spin_key_value WHERE store = ?1 AND key = ?2";
/// Keys from `certgate/v1/` up to (not including) `certgate/v10`: every entry and bucket key.
const SELECT_FORMAT_KEY: &str =
    "SELECT 1 FROM spin_key_value WHERE store = ?1 AND key >= 'certgate/v1/' AND key < 'certgate/v10' LIMIT 1";
const CHAIN_PREFIX: &str = certgate::store::chain::PREFIX;
/// The first key after every key that starts with [`CHAIN_PREFIX`] (`/` + 1 is `0`).
const CHAIN_PREFIX_END: &str = "certgate/v1/chain0";
const SELECT_FORMAT: &str = "SELECT key, value FROM spin_key_value WHERE store = ?1 \
                             AND (key = 'certgate/v1' OR (key >= 'certgate/v1/' AND key < 'certgate/v10')) ORDER BY key";

/// How long a write waits for another connection's lock (Spin reading, say) to go.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// How many times a Redis batch is planned at most, when other writers keep changing what it read.
pub const REDIS_ATTEMPTS: usize = 8;
/// Keys per MSET / DEL / MGET / WATCH command.
const REDIS_KEYS_PER_COMMAND: usize = 1000;
/// Commands sent before their replies are read.
const REDIS_COMMANDS_PER_FLUSH: usize = 16;

/// What a committed batch did.
#[derive(Debug)]
pub struct Outcome {
    /// The store's layout.
    pub layout: certgate::store::Layout,
    /// Whether the batch created the store (wrote its first marker).
    pub new_store: bool,
    /// Keys written.
    pub writes: usize,
    /// For a removal, how many of the keys had an entry.
    pub removed: usize,
    /// How many times the batch was planned: more than once when another writer changed
    /// what it read (Redis) before it could commit.
    pub attempts: usize,
}

impl Outcome {
    fn of(plan: &Plan<'_>, removed_direct: usize, attempts: usize) -> Outcome {
        Outcome {
            layout: plan.layout,
            new_store: plan.new_store,
            writes: plan.writes(),
            removed: plan.removed.unwrap_or(removed_direct),
            attempts,
        }
    }
}

/// A store certgate-kv writes or reads.
pub enum Target {
    /// Spin's local SQLite file.
    Sqlite(SqliteTarget),
    /// A Redis database.
    Redis(RedisTarget),
}

impl Target {
    /// Apply one command's request as one atomic batch.
    pub fn apply(&mut self, request: &Request) -> Result<Outcome, Error> {
        match self {
            Target::Sqlite(t) => t.apply(request),
            Target::Redis(t) => t.apply(request),
        }
    }

    /// Where the store is, for summaries (no credentials): `store "default" of PATH`, or
    /// `Redis HOST:PORT db N`.
    pub fn describe(&self) -> String {
        match self {
            Target::Sqlite(t) => format!("store \"{}\" of {}", t.store, t.path.display()),
            Target::Redis(t) => t.shown.clone(),
        }
    }

    /// [`Target::describe`] with a detail (the layout) after the store's label.
    pub fn describe_with(&self, detail: &str) -> String {
        match self {
            Target::Sqlite(t) => format!("store \"{}\" ({detail}) of {}", t.store, t.path.display()),
            Target::Redis(t) => format!("{} ({detail})", t.shown),
        }
    }

    /// The marker and every `certgate/v1/…` key with its value, sorted by key.
    pub fn format_keys(&mut self) -> Result<Vec<(String, Vec<u8>)>, Error> {
        match self {
            Target::Sqlite(t) => t.format_keys(),
            Target::Redis(t) => t.format_keys(),
        }
    }

    /// Delete every chain cache entry (`certgate/v1/chain/…`, which certgate writes itself
    /// with `chain_cache_seconds`), in one transaction for SQLite; how many were deleted.
    pub fn clear_chain_cache(&mut self) -> Result<usize, Error> {
        match self {
            Target::Sqlite(t) => {
                if !t.has_table()? {
                    return Ok(0);
                }
                // `0` is the character after `/`: every key with the prefix, and no other.
                let removed = t.conn.execute(
                    "DELETE FROM spin_key_value WHERE store = ?1 AND key >= ?2 AND key < ?3",
                    (&t.store, CHAIN_PREFIX, CHAIN_PREFIX_END),
                )?;
                Ok(removed)
            }
            Target::Redis(t) => {
                let keys = scan(&mut t.con, CHAIN_PREFIX)?;
                let mut removed = 0;
                for chunk in keys.chunks(REDIS_KEYS_PER_COMMAND) {
                    removed += redis::cmd("DEL").arg(chunk).query::<usize>(&mut t.con)?;
                }
                Ok(removed)
            }
        }
    }

    /// The store as certgate reads it, one key at a time.
    pub fn reader(&mut self) -> Reader<'_> {
        Reader(RefCell::new(self))
    }

    fn get(&mut self, key: &str) -> Result<Option<Vec<u8>>, Error> {
        match self {
            Target::Sqlite(t) => sqlite_get(&t.conn, &t.store, key),
            Target::Redis(t) => Ok(redis::cmd("GET").arg(key).query(&mut t.con)?),
        }
    }
}

/// A [`Target`] as certgate's [`KeyValue`], so `show` reads through certgate's own
/// `open` and `lookup`.
pub struct Reader<'t>(RefCell<&'t mut Target>);

impl KeyValue for Reader<'_> {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, String> {
        self.0.borrow_mut().get(key).map_err(|e| e.to_string())
    }
}

/// Spin's SQLite store: the rows of one label in one file.
pub struct SqliteTarget {
    conn: Connection,
    store: String,
    path: PathBuf,
    /// Whether the file was created by this process (removed again when the batch fails).
    created: bool,
}

impl SqliteTarget {
    /// Open the file to write (creating it and its parent directories) or only to read.
    pub fn open(path: &Path, store: &str, write: bool) -> Result<SqliteTarget, Error> {
        let shown = path.display();
        let exists = path.exists();
        let conn = if write {
            if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent)
                    .map_err(|e| Error::new(format!("{}: cannot be created ({e})", parent.display())))?;
            }
            Connection::open(path)
        } else {
            if !exists {
                return Err(Error::new(format!("{shown}: no such file")));
            }
            Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
        }
        .map_err(|e| Error::new(format!("{shown}: {e}")))?;
        conn.busy_timeout(SQLITE_BUSY_TIMEOUT).map_err(|e| Error::new(format!("{shown}: {e}")))?;
        Ok(SqliteTarget { conn, store: store.into(), path: path.into(), created: write && !exists })
    }

    fn apply(&mut self, request: &Request) -> Result<Outcome, Error> {
        let result = self.transact(request);
        if result.is_err() && self.created {
            // Nothing was committed to a file this process made: leave no empty file.
            let _ = std::fs::remove_file(&self.path);
        }
        result.map_err(|e| e.context(&format!("{}", self.path.display())))
    }

    fn transact(&mut self, request: &Request) -> Result<Outcome, Error> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute_batch(CREATE_TABLE)?;
        let plan = plan(request, &mut SqliteSnapshot { conn: &tx, store: &self.store })?;
        let mut removed = 0;
        {
            let mut upsert = tx.prepare_cached(UPSERT)?;
            let mut delete = tx.prepare_cached(DELETE)?;
            match &plan.direct_value {
                Some(value) => {
                    for key in plan.direct {
                        upsert.execute((&self.store, key.name(), value.as_slice()))?;
                    }
                }
                None => {
                    for key in plan.direct {
                        removed += delete.execute((&self.store, key.name()))?;
                    }
                }
            }
            for (key, value) in &plan.values {
                upsert.execute((&self.store, key, value.as_slice()))?;
            }
        }
        tx.commit()?;
        self.created = false;
        Ok(Outcome::of(&plan, removed, 1))
    }

    fn format_keys(&mut self) -> Result<Vec<(String, Vec<u8>)>, Error> {
        if !self.has_table()? {
            return Ok(Vec::new());
        }
        let mut stmt = self.conn.prepare(SELECT_FORMAT)?;
        let rows = stmt.query_map([&self.store], |row| Ok((row.get::<_, String>(0)?, bytes(row.get_ref(1)?)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn has_table(&self) -> Result<bool, Error> {
        let found = self
            .conn
            .query_row("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'spin_key_value'", [], |_| Ok(()))
            .optional()?;
        Ok(found.is_some())
    }
}

/// A value as Spin stores it (BLOB), or as TEXT if another writer stored text.
fn bytes(value: ValueRef<'_>) -> rusqlite::Result<Vec<u8>> {
    match value {
        ValueRef::Blob(b) | ValueRef::Text(b) => Ok(b.to_vec()),
        other => Err(rusqlite::Error::FromSqlConversionFailure(
            0,
            other.data_type(),
            "a key-value store value is a BLOB".into(),
        )),
    }
}

fn sqlite_get(conn: &Connection, store: &str, key: &str) -> Result<Option<Vec<u8>>, Error> {
    let table = conn
        .query_row("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'spin_key_value'", [], |_| Ok(()))
        .optional()?;
    if table.is_none() {
        return Ok(None);
    }
    let mut stmt = conn.prepare_cached(SELECT_VALUE)?;
    Ok(stmt.query_row((store, key), |row| bytes(row.get_ref(0)?)).optional()?)
}

struct SqliteSnapshot<'c> {
    conn: &'c Connection,
    store: &'c str,
}

impl Snapshot for SqliteSnapshot<'_> {
    fn get(&mut self, key: &str) -> Result<Option<Vec<u8>>, Error> {
        let mut stmt = self.conn.prepare_cached(SELECT_VALUE)?;
        Ok(stmt.query_row((self.store, key), |row| bytes(row.get_ref(0)?)).optional()?)
    }

    fn get_many(&mut self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, Error> {
        keys.iter().map(|k| self.get(k)).collect()
    }

    fn has_format_keys(&mut self) -> Result<bool, Error> {
        let mut stmt = self.conn.prepare_cached(SELECT_FORMAT_KEY)?;
        Ok(stmt.query_row([self.store], |_| Ok(())).optional()?.is_some())
    }
}

/// A Redis database, over one connection.
pub struct RedisTarget {
    con: redis::Connection,
    shown: String,
}

impl RedisTarget {
    /// Connect to `url`: `redis://[user:password@]host:port[/db]` or `redis+unix://path`
    /// (TLS, `rediss://`, is not built in). The URL's password is never printed.
    pub fn open(url: &str) -> Result<RedisTarget, Error> {
        let client = redis::Client::open(url).map_err(|e| Error::new(format!("the Redis URL: {e}")))?;
        let info = client.get_connection_info();
        let shown = format!("Redis {} db {}", info.addr(), info.redis_settings().db());
        let con = client.get_connection().map_err(|e| Error::new(format!("{shown}: {e}")))?;
        Ok(RedisTarget { con, shown })
    }

    fn apply(&mut self, request: &Request) -> Result<Outcome, Error> {
        self.transact(request, &mut |_| ()).map_err(|e| e.context(&self.shown))
    }

    /// Plan under WATCH and commit in MULTI/EXEC, planning again when a watched key
    /// changed. `planned` runs after each plan (with the attempt's number), before its
    /// writes are queued: the tests write there, as a concurrent writer would.
    fn transact(&mut self, request: &Request, planned: &mut dyn FnMut(usize)) -> Result<Outcome, Error> {
        for attempt in 1..=REDIS_ATTEMPTS {
            let planned_now = plan(request, &mut RedisSnapshot { con: &mut self.con });
            let plan = match planned_now {
                Ok(plan) => plan,
                Err(e) => {
                    let _ = redis::cmd("UNWATCH").exec(&mut self.con);
                    return Err(e);
                }
            };
            planned(attempt);
            redis::cmd("MULTI").exec(&mut self.con)?;
            if let Err(e) = queue(&mut self.con, &plan) {
                // Nothing queued runs: DISCARD drops it (and a closed connection does too).
                let _ = redis::cmd("DISCARD").exec(&mut self.con);
                return Err(e);
            }
            match redis::cmd("EXEC").query::<redis::Value>(&mut self.con)? {
                // A watched key changed: nothing ran; read and plan again.
                redis::Value::Nil => continue,
                redis::Value::Array(replies) => {
                    let mut removed = 0;
                    for reply in replies {
                        match reply {
                            redis::Value::Int(n) => removed += usize::try_from(n).unwrap_or(0),
                            redis::Value::Okay => {}
                            redis::Value::ServerError(e) => {
                                return Err(Error::new(format!("a write in the batch failed: {e:?}")))
                            }
                            other => return Err(Error::new(format!("unexpected reply to a write: {other:?}"))),
                        }
                    }
                    return Ok(Outcome::of(&plan, removed, attempt));
                }
                other => return Err(Error::new(format!("unexpected reply to EXEC: {other:?}"))),
            }
        }
        Err(Error::new(format!(
            "another writer changed the store during each of {REDIS_ATTEMPTS} attempts; nothing was written"
        )))
    }

    fn format_keys(&mut self) -> Result<Vec<(String, Vec<u8>)>, Error> {
        let mut keys = scan(&mut self.con, MARKER_KEY)?;
        keys.retain(|k| k == MARKER_KEY || k.starts_with(&format!("{MARKER_KEY}/")));
        let mut out = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(REDIS_KEYS_PER_COMMAND) {
            let values: Vec<Option<Vec<u8>>> = redis::cmd("MGET").arg(chunk).query(&mut self.con)?;
            out.extend(chunk.iter().cloned().zip(values).filter_map(|(k, v)| Some((k, v?))));
        }
        Ok(out)
    }
}

/// Every key that starts with `prefix` (SCAN, so the server is never blocked), sorted and
/// without the repeats SCAN may return.
fn scan(con: &mut redis::Connection, prefix: &str) -> Result<Vec<String>, Error> {
    let mut keys: Vec<String> = Vec::new();
    let mut cursor: u64 = 0;
    loop {
        let (next, batch): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(format!("{prefix}*"))
            .arg("COUNT")
            .arg(REDIS_KEYS_PER_COMMAND)
            .query(con)?;
        // MATCH is a glob: a prefix with `*`, `?` or `[` in it would match more.
        keys.extend(batch.into_iter().filter(|k| k.starts_with(prefix)));
        cursor = next;
        if cursor == 0 {
            break;
        }
    }
    keys.sort();
    keys.dedup();
    Ok(keys)
}

/// Queue the plan's writes after MULTI, pipelined: up to [`REDIS_COMMANDS_PER_FLUSH`]
/// commands of [`REDIS_KEYS_PER_COMMAND`] keys each are sent before their `QUEUED` replies
/// are read, so a million keys cost a few hundred round trips, not a million.
fn queue(con: &mut redis::Connection, plan: &Plan<'_>) -> Result<(), Error> {
    let mut pipe = redis::pipe();
    let mut pending = 0;
    let mut flush = |pipe: &mut redis::Pipeline, pending: &mut usize, force: bool| -> Result<(), Error> {
        if *pending > 0 && (force || *pending >= REDIS_COMMANDS_PER_FLUSH) {
            let replies: Vec<redis::Value> = pipe.query(con)?;
            if let Some(bad) = replies.iter().find(|r| !matches!(r, redis::Value::SimpleString(s) if s == "QUEUED")) {
                return Err(Error::new(format!("a write was not queued: {bad:?}")));
            }
            pipe.clear();
            *pending = 0;
        }
        Ok(())
    };
    for chunk in plan.direct.chunks(REDIS_KEYS_PER_COMMAND) {
        let cmd = match &plan.direct_value {
            Some(value) => {
                let mut cmd = redis::cmd("MSET");
                for key in chunk {
                    cmd.arg(key.name()).arg(value.as_slice());
                }
                cmd
            }
            None => {
                let mut cmd = redis::cmd("DEL");
                for key in chunk {
                    cmd.arg(key.name());
                }
                cmd
            }
        };
        pipe.add_command(cmd);
        pending += 1;
        flush(&mut pipe, &mut pending, false)?;
    }
    // Buckets, then the marker, each a SET of its own so the marker is the last write.
    for (key, value) in &plan.values {
        pipe.add_command(redis::cmd("SET").arg(key).arg(value.as_slice()).to_owned());
        pending += 1;
        flush(&mut pipe, &mut pending, false)?;
    }
    flush(&mut pipe, &mut pending, true)
}

struct RedisSnapshot<'c> {
    con: &'c mut redis::Connection,
}

impl Snapshot for RedisSnapshot<'_> {
    fn get(&mut self, key: &str) -> Result<Option<Vec<u8>>, Error> {
        redis::cmd("WATCH").arg(key).exec(self.con)?;
        Ok(redis::cmd("GET").arg(key).query(self.con)?)
    }

    fn get_many(&mut self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, Error> {
        let mut out = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(REDIS_KEYS_PER_COMMAND) {
            redis::cmd("WATCH").arg(chunk).exec(self.con)?;
            let values: Vec<Option<Vec<u8>>> = redis::cmd("MGET").arg(chunk).query(self.con)?;
            out.extend(values);
        }
        Ok(out)
    }

    fn has_format_keys(&mut self) -> Result<bool, Error> {
        let mut cursor: u64 = 0;
        loop {
            let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(format!("{MARKER_KEY}/*"))
                .arg("COUNT")
                .arg(REDIS_KEYS_PER_COMMAND)
                .query(self.con)?;
            if !keys.is_empty() {
                return Ok(true);
            }
            cursor = next;
            if cursor == 0 {
                return Ok(false);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use certgate::store::{bucket_with, open, Entry, EntryKey};
    use sha2::{Digest, Sha256};

    use super::*;
    use crate::batch::LayoutChoice;

    /// A redis-server of the test's own, stopped by its PID when dropped.
    struct Server {
        child: std::process::Child,
        url: String,
        _dir: tempfile::TempDir,
    }

    impl Drop for Server {
        fn drop(&mut self) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }

    fn server() -> Option<Server> {
        if std::process::Command::new("redis-server").arg("--version").output().is_err() {
            eprintln!("skipped: redis-server is not installed (apt-get install -y redis-server)");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = std::process::Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(dir.path())
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let server = Server { child, url: format!("redis://127.0.0.1:{port}/0"), _dir: dir };
        for _ in 0..200 {
            if RedisTarget::open(&server.url).is_ok() {
                return Some(server);
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        panic!("redis-server did not start");
    }

    /// Certificate keys that share one bucket of one digit.
    fn same_bucket(n: usize) -> Vec<EntryKey> {
        let first = EntryKey::Certificate(Sha256::digest(b"0").into());
        let bucket = first.bucket(1);
        let mut keys = vec![first];
        for i in 1u32.. {
            if keys.len() == n {
                break;
            }
            let key = EntryKey::Certificate(Sha256::digest(i.to_be_bytes()).into());
            if key.bucket(1) == bucket {
                keys.push(key);
            }
        }
        keys
    }

    /// What another writer does between this batch's plan and its EXEC: rewrite the bucket.
    fn write_beside(url: &str, key: &EntryKey) {
        let mut con = redis::Client::open(url).unwrap().get_connection().unwrap();
        let bucket = key.bucket(1);
        let old: Option<Vec<u8>> = redis::cmd("GET").arg(&bucket).query(&mut con).unwrap();
        let new = bucket_with(&old.unwrap_or_default(), &[(key.name(), Some(Entry::revoked()))]).unwrap();
        redis::cmd("SET").arg(&bucket).arg(new).exec(&mut con).unwrap();
    }

    #[test]
    fn a_write_between_plan_and_exec_makes_the_batch_plan_again_and_keeps_both() {
        let Some(server) = server() else { return };
        let keys = same_bucket(3);
        let mut target = RedisTarget::open(&server.url).unwrap();
        let bucketed = Some(LayoutChoice::Bucketed(Some(1)));
        target.apply(&Request::new(vec![keys[0].clone()], Some(Entry::revoked()), bucketed)).unwrap();

        let request = Request::new(vec![keys[1].clone()], Some(Entry::pinned()), None);
        let outcome = target
            .transact(&request, &mut |attempt| {
                if attempt == 1 {
                    write_beside(&server.url, &keys[2]);
                }
            })
            .unwrap();
        assert_eq!(outcome.attempts, 2);
        let mut target = Target::Redis(target);
        let reader = target.reader();
        let opened = open(&reader).unwrap();
        assert_eq!(opened.lookup(&keys[0]).unwrap(), Some(Entry::revoked()));
        assert_eq!(opened.lookup(&keys[1]).unwrap(), Some(Entry::pinned()));
        assert_eq!(opened.lookup(&keys[2]).unwrap(), Some(Entry::revoked()), "the other writer's entry is kept");
    }

    #[test]
    fn a_batch_that_never_wins_gives_up_and_writes_nothing() {
        let Some(server) = server() else { return };
        let keys = same_bucket(2);
        let mut target = RedisTarget::open(&server.url).unwrap();
        target.apply(&Request::new(vec![], Some(Entry::pinned()), Some(LayoutChoice::Bucketed(Some(1))))).unwrap();
        let request = Request::new(vec![keys[0].clone()], Some(Entry::pinned()), None);
        let error = target.transact(&request, &mut |_| write_beside(&server.url, &keys[1])).unwrap_err();
        assert!(error.to_string().contains(&format!("during each of {REDIS_ATTEMPTS} attempts")), "{error}");
        let mut target = Target::Redis(target);
        let reader = target.reader();
        let opened = open(&reader).unwrap();
        assert_eq!(opened.lookup(&keys[0]).unwrap(), None);
        assert_eq!(opened.lookup(&keys[1]).unwrap(), Some(Entry::revoked()));
    }
}
