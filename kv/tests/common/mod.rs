//! What the SQLite and Redis tests share: running the built `certgate-kv`, reading its
//! stores back through certgate's own reader over small [`KeyValue`]s of their own (not
//! the tool's), and a throwaway Redis server.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use certgate::store::KeyValue;
use certgate::{Gate, Reason, TrustedBy};
use certgate_testkit::{encode, Issued};
use sha2::{Digest, Sha256};

/// Run `certgate-kv` with these arguments in `dir`.
pub(crate) fn kv(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_certgate-kv")).args(args).current_dir(dir).output().expect("certgate-kv runs")
}

/// Run it and require success; its stderr (the summary).
pub(crate) fn kv_ok(dir: &Path, args: &[&str]) -> String {
    let out = kv(dir, args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "certgate-kv {args:?} failed: {stderr}");
    stderr
}

/// Run it and require failure (exit code 1); its stderr.
pub(crate) fn kv_err(dir: &Path, args: &[&str]) -> String {
    let out = kv(dir, args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "certgate-kv {args:?} should fail: {stderr}");
    stderr
}

/// `n` distinct SHA-256 thumbprints, reproducible from `seed`.
pub(crate) fn thumbprints(seed: &str, n: usize) -> Vec<[u8; 32]> {
    (0..n).map(|i| Sha256::digest(format!("{seed}/{i}")).into()).collect()
}

/// Write thumbprints one per line (lowercase hex) to `path`.
pub(crate) fn write_lines(path: &Path, digests: &[[u8; 32]]) {
    let mut text = String::with_capacity(digests.len() * 65);
    for d in digests {
        text.push_str(&hex::encode(d));
        text.push('\n');
    }
    std::fs::write(path, text).unwrap();
}

/// SHA-256 of a certificate's DER.
pub(crate) fn sha256(der: &[u8]) -> [u8; 32] {
    Sha256::digest(der).into()
}

/// A reader over Spin's SQLite table, written for the tests: one `SELECT` per key.
pub(crate) struct SqliteKv {
    conn: rusqlite::Connection,
    store: String,
}

impl SqliteKv {
    pub(crate) fn open(path: &Path, store: &str) -> SqliteKv {
        SqliteKv { conn: rusqlite::Connection::open(path).unwrap(), store: store.into() }
    }

    /// Every row of the file (all labels), for before/after comparisons.
    pub(crate) fn dump(path: &Path) -> BTreeMap<(String, String), Vec<u8>> {
        if !path.exists() {
            return BTreeMap::new();
        }
        let conn = rusqlite::Connection::open(path).unwrap();
        let exists: bool = conn
            .query_row("SELECT count(*) FROM sqlite_master WHERE name = 'spin_key_value'", [], |r| r.get::<_, i64>(0))
            .unwrap()
            > 0;
        if !exists {
            return BTreeMap::new();
        }
        let mut stmt = conn.prepare("SELECT store, key, value FROM spin_key_value").unwrap();
        let rows = stmt.query_map([], |r| Ok(((r.get(0)?, r.get(1)?), r.get(2)?))).unwrap();
        rows.map(Result::unwrap).collect()
    }
}

impl KeyValue for SqliteKv {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, String> {
        use rusqlite::OptionalExtension;
        self.conn
            .query_row("SELECT value FROM spin_key_value WHERE store = ?1 AND key = ?2", (&self.store, key), |r| {
                r.get::<_, Vec<u8>>(0)
            })
            .optional()
            .map_err(|e| e.to_string())
    }

    fn set(&self, key: &str, value: &[u8]) -> Result<(), String> {
        self.conn
            .execute(
                "INSERT INTO spin_key_value (store, key, value) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (store, key) DO UPDATE SET value = excluded.value",
                (&self.store, key, value),
            )
            .map(drop)
            .map_err(|e| e.to_string())
    }
}

/// A reader over Redis, written for the tests: one `GET` per key.
pub(crate) struct RedisKv(std::cell::RefCell<redis::Connection>);

impl RedisKv {
    pub(crate) fn open(url: &str) -> RedisKv {
        RedisKv(std::cell::RefCell::new(redis::Client::open(url).unwrap().get_connection().unwrap()))
    }

    /// Every key and value of the database.
    pub(crate) fn dump(&self) -> BTreeMap<String, Vec<u8>> {
        let mut con = self.0.borrow_mut();
        let keys: Vec<String> = redis::cmd("KEYS").arg("*").query(&mut *con).unwrap();
        let mut out = BTreeMap::new();
        for chunk in keys.chunks(1000) {
            let values: Vec<Vec<u8>> = redis::cmd("MGET").arg(chunk).query(&mut *con).unwrap();
            out.extend(chunk.iter().cloned().zip(values));
        }
        out
    }

    pub(crate) fn set(&self, key: &str, value: &[u8]) {
        redis::cmd("SET").arg(key).arg(value).exec(&mut *self.0.borrow_mut()).unwrap();
    }

    pub(crate) fn flush(&self) {
        redis::cmd("FLUSHDB").exec(&mut *self.0.borrow_mut()).unwrap();
    }

    pub(crate) fn dbsize(&self) -> usize {
        redis::cmd("DBSIZE").query(&mut *self.0.borrow_mut()).unwrap()
    }
}

impl KeyValue for RedisKv {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, String> {
        redis::cmd("GET").arg(key).query(&mut *self.0.borrow_mut()).map_err(|e| e.to_string())
    }

    fn set(&self, key: &str, value: &[u8]) -> Result<(), String> {
        redis::cmd("SET").arg(key).arg(value).exec(&mut *self.0.borrow_mut()).map_err(|e| e.to_string())
    }
}

/// A fleet on the chain path with the chain cache on: the gate, and the leaf's headers
/// (the issuing CA forwarded with it).
pub(crate) fn chain_fleet() -> (Gate, Vec<(String, Vec<u8>)>) {
    let root = certgate_testkit::Ca::new("Fleet Root");
    let issuing = root.intermediate("Fleet Issuing");
    let leaf = issuing.issue(&certgate_testkit::LeafOptions::named("device-1"));
    let anchors = root.certificate.pem();
    let vars = [
        ("keyvalue_store", "default"),
        ("trust_anchors", anchors.as_str()),
        ("platform", "rfc9440"),
        ("chain_cache_seconds", "600"),
    ];
    let gate = Gate::from_source(&vars).unwrap();
    let headers = vec![
        ("client-cert".to_string(), encode::rfc9440(&leaf.der).into_bytes()),
        ("client-cert-chain".to_string(), encode::rfc9440(&issuing.certificate.der).into_bytes()),
    ];
    (gate, headers)
}

/// Whether `gate` allows `headers` from `kv`, and whether the path came from the cache.
pub(crate) fn chain_decision(gate: &Gate, headers: &[(String, Vec<u8>)], kv: &dyn KeyValue) -> Result<bool, Reason> {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    gate.authenticate_with(headers, now, kv).map(|id| id.path_from_cache).map_err(|d| d.reason())
}

/// A redis-server of its own on a free loopback port, without persistence, stopped (by
/// its PID) when dropped.
pub(crate) struct RedisServer {
    child: Child,
    pub(crate) url: String,
    _dir: tempfile::TempDir,
}

impl RedisServer {
    /// Start one, or `None` (with the reason printed) when redis-server is not installed.
    pub(crate) fn start() -> Option<RedisServer> {
        let binary = std::env::var_os("REDIS_SERVER").map(PathBuf::from).unwrap_or_else(|| "redis-server".into());
        if Command::new(&binary).arg("--version").output().is_err() {
            eprintln!("skipped: redis-server is not installed (apt-get install -y redis-server)");
            return None;
        }
        let mut dir = tempfile::tempdir().unwrap();
        for _ in 0..5 {
            let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
            let child = Command::new(&binary)
                .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
                .arg("--dir")
                .arg(dir.path())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("redis-server starts");
            let mut server = RedisServer { child, url: format!("redis://127.0.0.1:{port}/0"), _dir: dir };
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = server.child.try_wait() {
                    break; // the port was taken after all: try another
                }
                let ping = redis::Client::open(server.url.as_str())
                    .and_then(|c| c.get_connection())
                    .and_then(|mut c| redis::cmd("PING").query::<String>(&mut c));
                if ping.is_ok() {
                    return Some(server);
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            dir = server.take_dir();
        }
        panic!("redis-server did not start");
    }

    fn take_dir(mut self) -> tempfile::TempDir {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let dir = tempfile::tempdir().unwrap();
        std::mem::replace(&mut self._dir, dir)
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What certgate decides for `leaf` with the store alone as its trust source
/// (`keyvalue_store`), or with a chain to `anchor` as well.
pub(crate) fn decide(kv: &dyn KeyValue, leaf: &Issued, anchor: Option<&Issued>) -> Result<TrustedBy, Reason> {
    let mut vars = vec![("keyvalue_store", "default".to_string())];
    if let Some(anchor) = anchor {
        vars.push(("trust_anchors", anchor.pem()));
    }
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let gate = Gate::from_source(&vars.as_slice()).unwrap();
    let headers = vec![("x-arr-clientcert".to_string(), encode::base64_der(&leaf.der).into_bytes())];
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    gate.authenticate_with(&headers, now, kv).map(|id| id.trusted_by).map_err(|d| d.reason())
}

/// Four certgate-kv processes pinning 2,000 thumbprints each into the same store
/// (`store`: `--sqlite PATH` or `--redis URL`) at once, each of which must succeed; the
/// thumbprints each wrote.
pub(crate) fn pin_from_four_writers_at_once(d: &Path, store: &[&str]) -> Vec<Vec<[u8; 32]>> {
    let sets: Vec<Vec<[u8; 32]>> = (0..4).map(|i| thumbprints(&format!("writer {i}"), 2000)).collect();
    for (i, set) in sets.iter().enumerate() {
        write_lines(&d.join(format!("{i}.txt")), set);
    }
    let children: Vec<_> = (0..4)
        .map(|i| {
            std::process::Command::new(env!("CARGO_BIN_EXE_certgate-kv"))
                .arg("pin")
                .args(store)
                .arg(format!("{i}.txt"))
                .current_dir(d)
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    sets
}
