//! `wasi:keyvalue/store@0.2.0-draft2`, as `spin up` (Spin 3 and 4) provides it.
//!
//! A component may open only the labels its manifest lists in `key_value_stores`; any
//! other label answers `access-denied`, and a listed label with nothing behind it answers
//! `no-such-store`. The label `default` is an SQLite file, `.spin/sqlite_key_value.db` beside
//! the manifest; a runtime config file (`--runtime-config-file`) maps labels to other
//! stores with `[key_value_store.<label>]` tables: `type = "spin"` (SQLite, at `path`
//! relative to that file, or in memory without one) or `type = "redis"` (at `url`).
//!
//! Every store keeps Spin's layout, so the data is the data `spin up` reads and writes:
//! SQLite rows in Spin's `spin_key_value` table, keyed by the label; Redis keys as given,
//! values as raw bytes. A store's connection is opened once, on the first `open` of its
//! label, and shared by every request of the runtime; a failing store answers `other`,
//! within [`REDIS_CALL_TIMEOUT`] for Redis, and never traps the guest.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OptionalExtension};
use wasmtime::component::{HasSelf, Linker, Resource, ResourceTable};

/// Host side of `wasi:keyvalue/store@0.2.0-draft2`, the version Spin 3 and 4 provide (the
/// `wasmtime-wasi-keyvalue` crate implements an earlier draft). Every function is async:
/// a Redis round trip waits on the network without holding a tokio worker.
mod bindings {
    wasmtime::component::bindgen!({
        path: "../wit/deps/wasi-keyvalue",
        world: "wasi:keyvalue/imports",
        imports: { default: async },
        with: {
            "wasi:keyvalue/store.bucket": super::Bucket,
        },
    });
}
use bindings::wasi::keyvalue::store;

/// The label of the store every Spin app has without configuring it.
pub const DEFAULT_LABEL: &str = "default";

/// Where `spin up` keeps an app's state, beside its manifest (its `--state-dir` default).
const STATE_DIR: &str = ".spin";

/// The default store's SQLite file in the state directory (Spin's name for it).
const DEFAULT_STORE_FILE: &str = "sqlite_key_value.db";

/// Spin's table, created if missing, exactly as Spin creates it: one row per key of every
/// label that shares the file.
const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS spin_key_value (store TEXT NOT NULL, key TEXT NOT NULL, \
                            value BLOB NOT NULL, PRIMARY KEY (store, key))";
const SELECT_VALUE: &str = "SELECT value FROM spin_key_value WHERE store = ?1 AND key = ?2";
const SELECT_EXISTS: &str = "SELECT 1 FROM spin_key_value WHERE store = ?1 AND key = ?2";
const UPSERT_VALUE: &str = "INSERT INTO spin_key_value (store, key, value) VALUES (?1, ?2, ?3) \
                            ON CONFLICT (store, key) DO UPDATE SET value = excluded.value";
const DELETE_KEY: &str = "DELETE FROM spin_key_value WHERE store = ?1 AND key = ?2";
const SELECT_KEYS: &str = "SELECT key FROM spin_key_value WHERE store = ?1";

/// How long an SQLite call waits for a lock another process holds on the file before it
/// answers `other`. The call runs on the tokio worker (a point read under the mutex costs
/// microseconds), so the wait is kept short.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_millis(500);

/// The most bytes one answer may carry, as Spin limits what the host buffers for a guest
/// (`MAX_HOST_BUFFERED_BYTES`); a larger value or key list answers `other`.
const MAX_RESULT_BYTES: usize = 128 << 20;

/// The most buckets one instance may hold open at once (Spin's store table capacity);
/// another `open` answers `other("store table full")`.
const MAX_OPEN_BUCKETS: usize = 256;

/// How long a connection attempt to Redis may take.
const REDIS_CONNECT_TIMEOUT: Duration = Duration::from_secs(1);

/// How long Redis may take to answer one command on an open connection.
const REDIS_RESPONSE_TIMEOUT: Duration = Duration::from_secs(1);

/// The most one key-value call that goes to Redis takes, connecting and one retry
/// included: an unreachable server answers `other` by then instead of holding the request.
pub const REDIS_CALL_TIMEOUT: Duration = Duration::from_secs(2);

/// Where one label's data lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StoreConfig {
    /// An SQLite file in Spin's schema (the default store, or `type = "spin"` with a
    /// `path`). It and its directory are created on the label's first `open`.
    Sqlite(PathBuf),
    /// An SQLite database in memory, empty at start and kept for the runtime's life
    /// (`type = "spin"` without a `path`, as Spin runs it).
    InMemory,
    /// A Redis server (`type = "redis"`), by its `redis://` URL.
    Redis(String),
}

impl fmt::Display for StoreConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreConfig::Sqlite(path) => write!(f, "SQLite at {}", path.display()),
            StoreConfig::InMemory => f.write_str("a temporary in-memory SQLite store"),
            StoreConfig::Redis(url) => match redis::Client::open(url.as_str()) {
                Ok(client) => write!(f, "Redis at {}", client.get_connection_info().addr()),
                Err(_) => f.write_str("Redis"),
            },
        }
    }
}

/// Where the default store lives, from the runtime config's top-level `state_dir`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
enum StateDir {
    /// Not set: `.spin` beside the manifest.
    #[default]
    BesideManifest,
    /// `state_dir = ""`: no state directory, so the default store is in memory.
    Unset,
    /// `state_dir = "<path>"`, made absolute against the current directory as Spin does.
    Path(PathBuf),
}

/// The key-value part of a Spin runtime config file (`spin up --runtime-config-file`): its
/// `[key_value_store.<label>]` tables and its `state_dir`. Spin's other tables
/// (`[variables_provider]`, `[llm_compute]`, `[sqlite_database]`...) are not read here.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RuntimeConfig {
    stores: BTreeMap<String, StoreConfig>,
    state_dir: StateDir,
}

impl RuntimeConfig {
    /// Read a runtime config file; a relative `path` in it is relative to the file's
    /// directory, as Spin resolves it.
    pub fn from_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("failed to read runtime config file '{}'", path.display()))?;
        let dir = path.parent().unwrap_or(Path::new(""));
        Self::parse(&text, dir).with_context(|| format!("in runtime config file '{}'", path.display()))
    }

    /// Parse a runtime config's text; `dir` is what a relative SQLite `path` is relative
    /// to (the file's directory). An unknown store `type`, a missing `url`, a `url` that is
    /// not a Redis URL this host can use, or text that is not TOML is refused.
    pub fn parse(text: &str, dir: &Path) -> Result<Self> {
        let doc: toml::Table = text.parse().context("the runtime config is not valid TOML")?;
        let mut config = RuntimeConfig::default();
        if let Some(state_dir) = doc.get("state_dir") {
            let state_dir = state_dir.as_str().ok_or_else(|| anyhow!("`state_dir` must be a string"))?;
            config.state_dir = if state_dir.is_empty() {
                StateDir::Unset
            } else {
                let path = std::path::absolute(state_dir)
                    .with_context(|| format!("`state_dir` {state_dir:?} cannot be made absolute"))?;
                StateDir::Path(path)
            };
        }
        let Some(stores) = doc.get("key_value_store") else { return Ok(config) };
        let stores =
            stores.as_table().ok_or_else(|| anyhow!("`key_value_store` must hold [key_value_store.<label>] tables"))?;
        for (label, table) in stores {
            let store = Self::store(table, dir)
                .with_context(|| format!("could not configure key-value store with label '{label}'"))?;
            config.stores.insert(label.clone(), store);
        }
        Ok(config)
    }

    /// One `[key_value_store.<label>]` table.
    fn store(table: &toml::Value, dir: &Path) -> Result<StoreConfig> {
        let table = table.as_table().ok_or_else(|| anyhow!("it must be a table"))?;
        let string = |key: &str| -> Result<Option<&str>> {
            match table.get(key) {
                None => Ok(None),
                Some(value) => value.as_str().map(Some).ok_or_else(|| anyhow!("`{key}` must be a string")),
            }
        };
        let kind = string("type")?.ok_or_else(|| anyhow!("it has no `type` (\"spin\" or \"redis\")"))?;
        Ok(match kind {
            "spin" => match string("path")? {
                Some(path) => StoreConfig::Sqlite(dir.join(path)),
                None => StoreConfig::InMemory,
            },
            "redis" => {
                let url = string("url")?.ok_or_else(|| anyhow!("a \"redis\" store needs a `url`"))?;
                redis::Client::open(url).with_context(|| format!("`url` {url:?} is not a usable Redis URL"))?;
                StoreConfig::Redis(url.to_string())
            }
            "azure_cosmos" | "aws_dynamo" => {
                bail!("the store type {kind:?} needs Spin: certgate-host provides \"spin\" (SQLite) and \"redis\"")
            }
            other => bail!("unknown key-value store type {other:?} (certgate-host provides \"spin\" and \"redis\")"),
        })
    }

    /// The stores it configures, by label.
    pub fn stores(&self) -> &BTreeMap<String, StoreConfig> {
        &self.stores
    }
}

/// Spin's rule for a store label: words of ASCII letters and digits, each starting with a
/// letter and all lowercase or all uppercase, joined by single `-` (kebab-case) or single
/// `_` (snake_case), not both.
pub fn is_valid_label(label: &str) -> bool {
    let delimiter = if label.contains('_') { '_' } else { '-' };
    let mixed = label.contains('_') && label.contains('-');
    // An empty label is one empty word, which has no first letter.
    !mixed
        && label.split(delimiter).all(|word| {
            let mut chars = word.chars();
            let Some(first) = chars.next().filter(char::is_ascii_alphabetic) else { return false };
            let upper = first.is_ascii_uppercase();
            chars.all(|c| c.is_ascii_digit() || (c.is_ascii_alphabetic() && c.is_ascii_uppercase() == upper))
        })
}

/// The `key_value_stores` of `[component.<component>]` in a manifest's text: the labels
/// the component may open (none when the key is absent). A label that breaks Spin's rule
/// ([`is_valid_label`]) is refused, as Spin refuses the manifest.
pub fn manifest_key_value_stores(text: &str, component: &str) -> Result<Vec<String>> {
    let doc: toml::Table = text.parse().context("spin.toml is not valid TOML")?;
    let table = doc
        .get("component")
        .and_then(|c| c.get(component))
        .ok_or_else(|| anyhow!("no [component.{component}] in the manifest"))?;
    let Some(labels) = table.get("key_value_stores") else { return Ok(Vec::new()) };
    let labels = labels.as_array().ok_or_else(|| anyhow!("`key_value_stores` must be an array of labels"))?;
    labels
        .iter()
        .map(|label| {
            let label = label.as_str().ok_or_else(|| anyhow!("`key_value_stores` must be an array of labels"))?;
            if !is_valid_label(label) {
                bail!("key_value_stores label {label:?}: expected kebab-case or snake_case");
            }
            Ok(label.to_string())
        })
        .collect()
}

/// The key-value stores of one runtime: the store behind each label and the labels the
/// component may open. Every request of the runtime shares its connections. The default
/// (`KeyValueStores::new()`) has no stores and allows no label, as for a component with no
/// `key_value_stores`: every `open` answers `access-denied`.
///
/// Redis connections belong to the tokio runtime of the first call that opens them: use a
/// `KeyValueStores` from one tokio runtime that outlives it (as [`crate::Runtime::handle`]
/// asks of WASI 0.3 instances).
#[derive(Clone, Default)]
pub struct KeyValueStores {
    stores: BTreeMap<String, Arc<LabelStore>>,
    allowed: BTreeSet<String>,
}

impl fmt::Debug for KeyValueStores {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let stores: BTreeMap<&str, String> =
            self.stores.iter().map(|(label, store)| (label.as_str(), store.config.to_string())).collect();
        f.debug_struct("KeyValueStores").field("stores", &stores).field("allowed", &self.allowed).finish()
    }
}

impl KeyValueStores {
    /// No stores, no label allowed.
    pub fn new() -> Self {
        Self::default()
    }

    /// The stores `spin up` gives an app served from `manifest`: `default` in
    /// `.spin/sqlite_key_value.db` beside it (or as the runtime config's `state_dir` says),
    /// then every store of `runtime_config` (which may replace `default`); the component
    /// may open the labels `allowed` (its `key_value_stores`).
    pub fn for_app(manifest: &Path, runtime_config: Option<&RuntimeConfig>, allowed: &[String]) -> Result<Self> {
        let state_dir = runtime_config.map(|c| &c.state_dir).unwrap_or(&StateDir::BesideManifest);
        let default = match state_dir {
            StateDir::BesideManifest => StoreConfig::Sqlite(Self::default_store_path(manifest)),
            StateDir::Unset => StoreConfig::InMemory,
            StateDir::Path(dir) => StoreConfig::Sqlite(dir.join(DEFAULT_STORE_FILE)),
        };
        let mut stores = Self::new().with_store(DEFAULT_LABEL, default)?;
        for (label, store) in runtime_config.map(|c| &c.stores).into_iter().flatten() {
            stores = stores.with_store(label, store.clone())?;
        }
        Ok(stores.allow(allowed))
    }

    /// Where `spin up` keeps the default store of the app whose manifest is `manifest`.
    pub fn default_store_path(manifest: &Path) -> PathBuf {
        manifest.parent().unwrap_or(Path::new("")).join(STATE_DIR).join(DEFAULT_STORE_FILE)
    }

    /// Put `store` behind `label` (replacing what was there). Refuses a Redis URL this
    /// host cannot use; nothing connects until the label is first opened.
    pub fn with_store(mut self, label: &str, store: StoreConfig) -> Result<Self> {
        let backend = match &store {
            StoreConfig::Sqlite(path) => Backend::Sqlite(Sqlite::new(Some(path.clone()))),
            StoreConfig::InMemory => Backend::Sqlite(Sqlite::new(None)),
            StoreConfig::Redis(url) => Backend::Redis(Redis::new(url)?),
        };
        self.stores
            .insert(label.to_string(), Arc::new(LabelStore { label: label.to_string(), config: store, backend }));
        Ok(self)
    }

    /// Let the component open `labels` (its `key_value_stores`), and no other.
    pub fn allow<S: AsRef<str>>(mut self, labels: &[S]) -> Self {
        self.allowed = labels.iter().map(|l| l.as_ref().to_string()).collect();
        self
    }

    /// The labels the component may open.
    pub fn allowed(&self) -> impl Iterator<Item = &str> {
        self.allowed.iter().map(String::as_str)
    }

    /// What backs `label`, if anything.
    pub fn store(&self, label: &str) -> Option<&StoreConfig> {
        self.stores.get(label).map(|s| &s.config)
    }

    /// Labels the component may open that have no store (they answer `no-such-store`;
    /// `spin up` refuses to start with one).
    pub fn unbacked(&self) -> Vec<&str> {
        self.allowed().filter(|label| !self.stores.contains_key(*label)).collect()
    }
}

/// One label's store.
struct LabelStore {
    label: String,
    config: StoreConfig,
    backend: Backend,
}

enum Backend {
    Sqlite(Sqlite),
    Redis(Redis),
}

/// A guest's open bucket: the store of the label it opened.
pub struct Bucket(Arc<LabelStore>);

/// The key-value state of one instance: the runtime's stores and the buckets the guest
/// holds open.
pub(crate) struct KeyValueCtx {
    stores: Arc<KeyValueStores>,
    buckets: ResourceTable,
    open: usize,
}

impl KeyValueCtx {
    pub(crate) fn new(stores: Arc<KeyValueStores>) -> Self {
        KeyValueCtx { stores, buckets: ResourceTable::new(), open: 0 }
    }

    fn bucket(&self, bucket: &Resource<Bucket>) -> Result<Arc<LabelStore>, store::Error> {
        // The component model hands the host only live handles of this table.
        self.buckets.get(bucket).map(|b| b.0.clone()).map_err(|e| store::Error::Other(format!("bucket: {e}")))
    }
}

/// Link `wasi:keyvalue/store@0.2.0-draft2` into `linker`, answering from the
/// [`KeyValueCtx`] that `get` finds in each store's data.
pub(crate) fn add_to_linker<T: Send + 'static>(
    linker: &mut Linker<T>,
    get: fn(&mut T) -> &mut KeyValueCtx,
) -> Result<()> {
    store::add_to_linker::<T, HasSelf<KeyValueCtx>>(linker, get)?;
    Ok(())
}

impl store::Host for KeyValueCtx {
    async fn open(&mut self, identifier: String) -> Result<Resource<Bucket>, store::Error> {
        if !self.stores.allowed.contains(&identifier) {
            return Err(store::Error::AccessDenied);
        }
        let Some(store) = self.stores.stores.get(&identifier).cloned() else {
            return Err(store::Error::NoSuchStore);
        };
        if self.open >= MAX_OPEN_BUCKETS {
            return Err(store::Error::Other("store table full".to_string()));
        }
        store.open().await?;
        let bucket = self.buckets.push(Bucket(store)).map_err(|e| store::Error::Other(format!("bucket: {e}")))?;
        self.open += 1;
        Ok(bucket)
    }
}

impl store::HostBucket for KeyValueCtx {
    async fn get(&mut self, bucket: Resource<Bucket>, key: String) -> Result<Option<Vec<u8>>, store::Error> {
        self.bucket(&bucket)?.get(&key).await
    }

    async fn set(&mut self, bucket: Resource<Bucket>, key: String, value: Vec<u8>) -> Result<(), store::Error> {
        self.bucket(&bucket)?.set(&key, &value).await
    }

    async fn delete(&mut self, bucket: Resource<Bucket>, key: String) -> Result<(), store::Error> {
        self.bucket(&bucket)?.delete(&key).await
    }

    async fn exists(&mut self, bucket: Resource<Bucket>, key: String) -> Result<bool, store::Error> {
        self.bucket(&bucket)?.exists(&key).await
    }

    async fn list_keys(
        &mut self,
        bucket: Resource<Bucket>,
        cursor: Option<String>,
    ) -> Result<store::KeyResponse, store::Error> {
        // As Spin: every key in one answer, so there is never a cursor to continue from.
        if cursor.is_some() {
            return Err(store::Error::Other("list_keys: cursor not supported".to_string()));
        }
        let keys = self.bucket(&bucket)?.keys().await?;
        Ok(store::KeyResponse { keys, cursor: None })
    }

    async fn drop(&mut self, bucket: Resource<Bucket>) -> wasmtime::Result<()> {
        self.buckets.delete(bucket)?;
        self.open -= 1;
        Ok(())
    }
}

/// `other` for a result over [`MAX_RESULT_BYTES`].
fn too_large() -> store::Error {
    store::Error::Other(format!("query result exceeds limit of {MAX_RESULT_BYTES} bytes"))
}

impl LabelStore {
    /// Make sure the store can be used: the first `open` connects (and creates the SQLite
    /// file); a failure answers `other` and the next `open` tries again.
    async fn open(&self) -> Result<(), store::Error> {
        match &self.backend {
            Backend::Sqlite(db) => db.with(&self.label, |_| Ok(())),
            Backend::Redis(server) => server.open().await,
        }
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, store::Error> {
        let value = match &self.backend {
            Backend::Sqlite(db) => db.with(&self.label, |conn| {
                conn.prepare_cached(SELECT_VALUE)?
                    .query_row((&self.label, key), |row| bytes(row.get_ref(0)?))
                    .optional()
            })?,
            Backend::Redis(server) => server.call(redis::cmd("GET").arg(key)).await?,
        };
        match value {
            Some(value) if value.len() > MAX_RESULT_BYTES => Err(too_large()),
            value => Ok(value),
        }
    }

    async fn set(&self, key: &str, value: &[u8]) -> Result<(), store::Error> {
        match &self.backend {
            Backend::Sqlite(db) => {
                db.with(&self.label, |conn| conn.prepare_cached(UPSERT_VALUE)?.execute((&self.label, key, value)))?;
                Ok(())
            }
            Backend::Redis(server) => server.call(redis::cmd("SET").arg(key).arg(value)).await,
        }
    }

    async fn delete(&self, key: &str) -> Result<(), store::Error> {
        match &self.backend {
            Backend::Sqlite(db) => {
                db.with(&self.label, |conn| conn.prepare_cached(DELETE_KEY)?.execute((&self.label, key)))?;
                Ok(())
            }
            Backend::Redis(server) => server.call::<i64>(redis::cmd("DEL").arg(key)).await.map(drop),
        }
    }

    async fn exists(&self, key: &str) -> Result<bool, store::Error> {
        match &self.backend {
            Backend::Sqlite(db) => {
                db.with(&self.label, |conn| conn.prepare_cached(SELECT_EXISTS)?.exists((&self.label, key)))
            }
            Backend::Redis(server) => server.call(redis::cmd("EXISTS").arg(key)).await,
        }
    }

    /// Every key of the label, in no particular order.
    async fn keys(&self) -> Result<Vec<String>, store::Error> {
        let keys = match &self.backend {
            Backend::Sqlite(db) => db.with(&self.label, |conn| {
                conn.prepare_cached(SELECT_KEYS)?.query_map([&self.label], |row| row.get::<_, String>(0))?.collect()
            })?,
            Backend::Redis(server) => server.keys().await?,
        };
        let bytes: usize = keys.iter().map(|k: &String| k.len() + std::mem::size_of::<String>()).sum();
        if bytes > MAX_RESULT_BYTES {
            return Err(too_large());
        }
        Ok(keys)
    }
}

/// A value as bytes: Spin writes BLOBs; a TEXT value (a row another tool wrote) is its
/// UTF-8 bytes.
fn bytes(value: ValueRef<'_>) -> rusqlite::Result<Vec<u8>> {
    match value {
        ValueRef::Blob(b) | ValueRef::Text(b) => Ok(b.to_vec()),
        other => Err(rusqlite::Error::InvalidColumnType(0, "value".to_string(), other.data_type())),
    }
}

/// An SQLite database: one connection, opened on first use and kept, behind a mutex.
/// Calls run on the calling tokio worker: a point read or write is a few microseconds, and
/// a lock held by another process is waited on for at most [`SQLITE_BUSY_TIMEOUT`].
struct Sqlite {
    /// `None` for a database in memory.
    path: Option<PathBuf>,
    connection: Mutex<Option<Connection>>,
}

impl Sqlite {
    fn new(path: Option<PathBuf>) -> Self {
        Sqlite { path, connection: Mutex::new(None) }
    }

    /// Run `f` on the connection (opening it first if it is not open yet); an error
    /// answers `other`, naming the label.
    fn with<R>(&self, label: &str, f: impl FnOnce(&Connection) -> rusqlite::Result<R>) -> Result<R, store::Error> {
        let fail = |e: &dyn fmt::Display| store::Error::Other(format!("key-value store {label:?} (SQLite): {e}"));
        let call = || {
            // A panic under the lock leaves the connection as SQLite left it: still usable.
            let mut slot = self.connection.lock().unwrap_or_else(PoisonError::into_inner);
            let connection = match &mut *slot {
                Some(connection) => connection,
                empty => empty.insert(self.connect().map_err(|e| fail(&format!("{e:#}")))?),
            };
            f(connection).map_err(|e| fail(&e))
        };
        // As Spin's SQLite store (crates/key-value-spin): every call, `open` included, runs
        // in `block_in_place`, which hands the worker's scheduler to another thread; that
        // is most of what a store read costs under Spin, so certgate-host costs it too.
        // (`block_in_place` needs the multi-threaded runtime, which Spin and `main` use.)
        let multi_thread = tokio::runtime::Handle::try_current()
            .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
        if multi_thread {
            tokio::task::block_in_place(call)
        } else {
            call()
        }
    }

    fn connect(&self) -> Result<Connection> {
        let connection = match &self.path {
            Some(path) => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
                }
                Connection::open(path).with_context(|| format!("opening {}", path.display()))?
            }
            None => Connection::open_in_memory()?,
        };
        connection.busy_timeout(SQLITE_BUSY_TIMEOUT)?;
        connection.execute_batch(CREATE_TABLE)?;
        Ok(connection)
    }
}

/// A Redis server: one multiplexed connection, made on the first `open` and shared by
/// every request; it reconnects by itself after the server goes away.
struct Redis {
    client: redis::Client,
    /// `host:port`, for messages.
    address: String,
    connection: tokio::sync::OnceCell<ConnectionManager>,
}

impl Redis {
    fn new(url: &str) -> Result<Self> {
        let client = redis::Client::open(url).with_context(|| format!("{url:?} is not a usable Redis URL"))?;
        let address = client.get_connection_info().addr().to_string();
        Ok(Redis { client, address, connection: tokio::sync::OnceCell::new() })
    }

    fn fail(&self, e: impl fmt::Display) -> store::Error {
        store::Error::Other(format!("Redis at {}: {e}", self.address))
    }

    fn timed_out(&self) -> store::Error {
        self.fail(format_args!("no answer within {} ms", REDIS_CALL_TIMEOUT.as_millis()))
    }

    /// The shared connection, connecting if there is none yet. A failed first connection
    /// is not kept: the next call tries again.
    async fn connection(&self) -> Result<ConnectionManager, redis::RedisError> {
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(REDIS_CONNECT_TIMEOUT))
            .set_response_timeout(Some(REDIS_RESPONSE_TIMEOUT))
            // Few, short retries: while the server is away each call fails fast, and the
            // first call after it is back reconnects.
            .set_number_of_retries(1)
            .set_min_delay(Duration::from_millis(50))
            .set_max_delay(Duration::from_millis(250));
        let connection =
            self.connection.get_or_try_init(|| ConnectionManager::new_with_config(self.client.clone(), config)).await?;
        Ok(connection.clone())
    }

    async fn open(&self) -> Result<(), store::Error> {
        match tokio::time::timeout(REDIS_CALL_TIMEOUT, self.connection()).await {
            Ok(Ok(mut connection)) => {
                // As Spin's Redis store (`after_open`): a PING on every open, its failure
                // ignored (the next call reports it), so an open costs a round trip there too.
                let ping = redis::cmd("PING");
                let _ = tokio::time::timeout(REDIS_CALL_TIMEOUT, ping.query_async::<()>(&mut connection)).await;
                Ok(())
            }
            Ok(Err(e)) => Err(self.fail(e)),
            Err(_) => Err(self.timed_out()),
        }
    }

    /// Run one command. When the connection has failed (the server went away), the
    /// connection manager starts a new one and the command is sent once more on it, so
    /// the first call after the server is back succeeds; the whole call takes at most
    /// [`REDIS_CALL_TIMEOUT`].
    async fn call<T: redis::FromRedisValue>(&self, cmd: &redis::Cmd) -> Result<T, store::Error> {
        let attempt = async {
            let mut connection = self.connection().await?;
            match cmd.query_async(&mut connection).await {
                Err(e) if e.is_io_error() || e.is_connection_dropped() => cmd.query_async(&mut connection).await,
                result => result,
            }
        };
        match tokio::time::timeout(REDIS_CALL_TIMEOUT, attempt).await {
            Ok(result) => result.map_err(|e| self.fail(e)),
            Err(_) => Err(self.timed_out()),
        }
    }

    /// Every key in the database, by `SCAN` (which may repeat a key: each is kept once).
    async fn keys(&self) -> Result<Vec<String>, store::Error> {
        let mut seen = HashSet::new();
        let mut keys = Vec::new();
        let mut cursor = 0u64;
        loop {
            let (next, batch): (u64, Vec<String>) =
                self.call(redis::cmd("SCAN").arg(cursor).arg("COUNT").arg(1000)).await?;
            keys.extend(batch.into_iter().filter(|k| seen.insert(k.clone())));
            if next == 0 {
                return Ok(keys);
            }
            cursor = next;
        }
    }
}

#[cfg(test)]
mod tests;
