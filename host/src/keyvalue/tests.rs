//! The key-value stores: runtime config and manifest parsing, and each backend read and
//! written through the host functions a guest calls, directly and from a small component.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::Instant;

use store::{Host as _, HostBucket as _};
use wasmtime::component::{Component, Linker};
use wasmtime::{Engine, Store};

use super::*;

/// Another handle to the same bucket, as the component model passes a `borrow`.
fn borrow(bucket: &Resource<Bucket>) -> Resource<Bucket> {
    Resource::new_borrow(bucket.rep())
}

/// A fresh instance's key-value state over the runtime's `stores`.
fn instance(stores: &Arc<KeyValueStores>) -> KeyValueCtx {
    KeyValueCtx::new(stores.clone())
}

/// Rows written as Spin writes them, into `path` (Spin's schema).
fn write_rows(path: &Path, rows: &[(&str, &str, &[u8])]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let conn = Connection::open(path).unwrap();
    conn.execute_batch(CREATE_TABLE).unwrap();
    for (store, key, value) in rows {
        conn.execute("INSERT INTO spin_key_value (store, key, value) VALUES (?1, ?2, ?3)", (store, key, value))
            .unwrap();
    }
}

/// The value of one row, read straight from the file.
fn read_row(path: &Path, store: &str, key: &str) -> Option<Vec<u8>> {
    let conn = Connection::open(path).unwrap();
    conn.query_row("SELECT value FROM spin_key_value WHERE store = ?1 AND key = ?2", (store, key), |row| row.get(0))
        .optional()
        .unwrap()
}

fn is_other(result: &Result<impl fmt::Debug, store::Error>, part: &str) -> bool {
    matches!(result, Err(store::Error::Other(message)) if message.contains(part))
}

#[test]
fn runtime_config_redis_and_spin_stores() {
    let text = r#"
        [key_value_store.default]
        type = "redis"
        url = "redis://127.0.0.1:6379"

        [key_value_store.sessions]
        type = "spin"
        path = "data/sessions.db"

        [key_value_store.scratch]
        type = "spin"

        [key_value_store.absolute]
        type = "spin"
        path = "/var/lib/kv.db"

        # Spin's other tables are not this module's business.
        [variables_provider]
        type = "vault"
        [llm_compute]
        type = "spin"
    "#;
    let config = RuntimeConfig::parse(text, Path::new("/etc/app")).unwrap();
    let stores = config.stores();
    assert_eq!(stores.len(), 4);
    assert_eq!(stores["default"], StoreConfig::Redis("redis://127.0.0.1:6379".to_string()));
    assert_eq!(stores["sessions"], StoreConfig::Sqlite(PathBuf::from("/etc/app/data/sessions.db")));
    assert_eq!(stores["scratch"], StoreConfig::InMemory);
    assert_eq!(stores["absolute"], StoreConfig::Sqlite(PathBuf::from("/var/lib/kv.db")));
    assert_eq!(stores["default"].to_string(), "Redis at 127.0.0.1:6379");
    assert_eq!(config.state_dir, StateDir::BesideManifest);
    assert_eq!(RuntimeConfig::parse("", Path::new("")).unwrap(), RuntimeConfig::default());
}

#[test]
fn runtime_config_refuses_what_spin_cannot_run_here() {
    let refused = |text: &str, part: &str| {
        let err = RuntimeConfig::parse(text, Path::new("")).unwrap_err();
        let message = format!("{err:#}");
        assert!(message.contains(part), "{text:?}: {message}");
    };
    refused("[key_value_store.default]\ntype = \"memcached\"\n", "unknown key-value store type \"memcached\"");
    refused("[key_value_store.default]\ntype = \"memcached\"\n", "label 'default'");
    refused("[key_value_store.x]\ntype = \"azure_cosmos\"\n", "needs Spin");
    refused("[key_value_store.x]\npath = \"a.db\"\n", "no `type`");
    refused("[key_value_store.x]\ntype = 3\n", "`type` must be a string");
    refused("[key_value_store.x]\ntype = \"redis\"\n", "needs a `url`");
    refused("[key_value_store.x]\ntype = \"redis\"\nurl = \"http://example.com\"\n", "not a usable Redis URL");
    refused("[key_value_store.x]\ntype = \"spin\"\npath = 7\n", "`path` must be a string");
    refused("key_value_store = 1\n", "[key_value_store.<label>]");
    refused("[key_value_store]\nx = 1\n", "must be a table");
    refused("[key_value_store.x\ntype = \"spin\"\n", "not valid TOML");
    refused("state_dir = 1\n", "`state_dir` must be a string");
}

#[test]
fn runtime_config_file_paths_are_relative_to_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("runtime-config.toml");
    std::fs::write(&path, "[key_value_store.default]\ntype = \"spin\"\npath = \"kv/default.db\"\n").unwrap();
    let config = RuntimeConfig::from_file(&path).unwrap();
    assert_eq!(config.stores()["default"], StoreConfig::Sqlite(dir.path().join("kv/default.db")));
    let missing = RuntimeConfig::from_file(&dir.path().join("nope.toml")).unwrap_err();
    assert!(format!("{missing:#}").contains("failed to read runtime config file"), "{missing:#}");
    std::fs::write(&path, "[key_value_store.default]\ntype = \"dynamo\"\n").unwrap();
    let bad = RuntimeConfig::from_file(&path).unwrap_err();
    let message = format!("{bad:#}");
    assert!(message.contains("runtime-config.toml") && message.contains("\"dynamo\""), "{message}");
}

#[test]
fn state_dir_moves_the_default_store() {
    let manifest = Path::new("/srv/app/spin.toml");
    let allowed = ["default".to_string()];
    let beside = KeyValueStores::for_app(manifest, None, &allowed).unwrap();
    assert_eq!(
        beside.store("default"),
        Some(&StoreConfig::Sqlite(PathBuf::from("/srv/app/.spin/sqlite_key_value.db")))
    );
    let moved = RuntimeConfig::parse("state_dir = \"/var/state\"\n", Path::new("")).unwrap();
    let moved = KeyValueStores::for_app(manifest, Some(&moved), &allowed).unwrap();
    assert_eq!(moved.store("default"), Some(&StoreConfig::Sqlite(PathBuf::from("/var/state/sqlite_key_value.db"))));
    let unset = RuntimeConfig::parse("state_dir = \"\"\n", Path::new("")).unwrap();
    let unset = KeyValueStores::for_app(manifest, Some(&unset), &allowed).unwrap();
    assert_eq!(unset.store("default"), Some(&StoreConfig::InMemory));
    // A runtime config's own `default` wins over the state directory.
    let own = RuntimeConfig::parse(
        "state_dir = \"\"\n[key_value_store.default]\ntype = \"spin\"\npath = \"d.db\"\n",
        Path::new("/rc"),
    )
    .unwrap();
    let own = KeyValueStores::for_app(manifest, Some(&own), &allowed).unwrap();
    assert_eq!(own.store("default"), Some(&StoreConfig::Sqlite(PathBuf::from("/rc/d.db"))));
    assert_eq!(KeyValueStores::default_store_path(Path::new("spin.toml")), PathBuf::from(".spin/sqlite_key_value.db"));
}

#[test]
fn manifest_key_value_stores_of_the_served_component() {
    let manifest = r#"
        spin_manifest_version = 2
        [application]
        name = "x"
        [component.gate]
        source = "gate.wasm"
        key_value_stores = ["default", "sessions", "user_data", "CACHE-V2"]
        [component.other]
        source = "other.wasm"
    "#;
    assert_eq!(manifest_key_value_stores(manifest, "gate").unwrap(), ["default", "sessions", "user_data", "CACHE-V2"]);
    assert!(manifest_key_value_stores(manifest, "other").unwrap().is_empty());
    assert!(manifest_key_value_stores(manifest, "missing").is_err());
    let refused = |list: &str| {
        let text = format!("[component.c]\nkey_value_stores = {list}\n");
        manifest_key_value_stores(&text, "c").unwrap_err()
    };
    assert!(refused("[\"b@dlabel\"]").to_string().contains("kebab-case or snake_case"));
    assert!(refused("\"default\"").to_string().contains("array"));
    assert!(refused("[1]").to_string().contains("array"));
}

#[test]
fn labels_follow_spins_rule() {
    for good in ["default", "a", "my-store", "snake_case", "v2", "UPPER-CASE", "mixed-CASE", "a1-b2"] {
        assert!(is_valid_label(good), "{good}");
    }
    for bad in ["", "b@dlabel", "camelCase", "kebab-and_snake", "-lead", "trail_", "a--b", "2nd", "a-2b", "a b"] {
        assert!(!is_valid_label(bad), "{bad}");
    }
}

/// The default store is Spin's file beside the manifest: rows Spin (or anything else)
/// wrote there read back through the host functions, bytes as they are, and writes land
/// in the same rows.
#[tokio::test]
async fn sqlite_default_store_reads_and_writes_spins_rows() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("spin.toml");
    let db = KeyValueStores::default_store_path(&manifest);
    let binary: &[u8] = &[0, 159, 146, 150, 255, b'\n'];
    write_rows(
        &db,
        &[("default", "greeting", b"hello"), ("default", "binary", binary), ("other", "greeting", b"not mine")],
    );

    let stores = Arc::new(KeyValueStores::for_app(&manifest, None, &["default".to_string()]).unwrap());
    let mut kv = instance(&stores);
    let bucket = kv.open("default".to_string()).await.unwrap();
    assert_eq!(kv.get(borrow(&bucket), "greeting".to_string()).await.unwrap().as_deref(), Some(&b"hello"[..]));
    assert_eq!(kv.get(borrow(&bucket), "binary".to_string()).await.unwrap().as_deref(), Some(binary));
    assert_eq!(kv.get(borrow(&bucket), "missing".to_string()).await.unwrap(), None);
    assert!(kv.exists(borrow(&bucket), "greeting".to_string()).await.unwrap());
    assert!(!kv.exists(borrow(&bucket), "missing".to_string()).await.unwrap());

    kv.set(borrow(&bucket), "new".to_string(), vec![1, 2, 3]).await.unwrap();
    kv.set(borrow(&bucket), "greeting".to_string(), b"replaced".to_vec()).await.unwrap();
    assert_eq!(read_row(&db, "default", "new"), Some(vec![1, 2, 3]));
    assert_eq!(read_row(&db, "default", "greeting"), Some(b"replaced".to_vec()));
    assert_eq!(read_row(&db, "other", "greeting"), Some(b"not mine".to_vec()), "another label's row is untouched");

    let mut keys = kv.list_keys(borrow(&bucket), None).await.unwrap();
    assert_eq!(keys.cursor, None);
    keys.keys.sort();
    assert_eq!(keys.keys, ["binary", "greeting", "new"]);
    assert!(is_other(&kv.list_keys(borrow(&bucket), Some("next".to_string())).await, "cursor not supported"));

    kv.delete(borrow(&bucket), "new".to_string()).await.unwrap();
    kv.delete(borrow(&bucket), "never-there".to_string()).await.unwrap();
    assert_eq!(read_row(&db, "default", "new"), None);

    // What another process writes meanwhile is seen on the next read.
    write_rows(&db, &[("default", "external", b"from outside")]);
    assert_eq!(kv.get(borrow(&bucket), "external".to_string()).await.unwrap(), Some(b"from outside".to_vec()));
    kv.drop(bucket).await.unwrap();

    // A later request (another instance) sees the same data over the same connection.
    let mut later = instance(&stores);
    let bucket = later.open("default".to_string()).await.unwrap();
    assert_eq!(later.get(borrow(&bucket), "greeting".to_string()).await.unwrap(), Some(b"replaced".to_vec()));
}

#[tokio::test]
async fn only_listed_labels_open() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("spin.toml");
    let config = RuntimeConfig::parse("[key_value_store.cache]\ntype = \"spin\"\n", Path::new("")).unwrap();
    let allowed = ["default".to_string(), "sessions".to_string()];
    let stores = Arc::new(KeyValueStores::for_app(&manifest, Some(&config), &allowed).unwrap());
    assert_eq!(stores.unbacked(), ["sessions"]);
    let mut kv = instance(&stores);
    // Configured but not listed, and neither: both denied, as Spin checks the list first.
    assert!(matches!(kv.open("cache".to_string()).await, Err(store::Error::AccessDenied)));
    assert!(matches!(kv.open("elsewhere".to_string()).await, Err(store::Error::AccessDenied)));
    assert!(matches!(kv.open("sessions".to_string()).await, Err(store::Error::NoSuchStore)));
    assert!(kv.open("default".to_string()).await.is_ok());

    // Nothing listed (the runtime's default): nothing opens.
    let mut none = instance(&Arc::new(KeyValueStores::new()));
    assert!(matches!(none.open("default".to_string()).await, Err(store::Error::AccessDenied)));
}

#[tokio::test]
async fn the_state_directory_and_table_are_created_on_first_open() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("app").join("spin.toml");
    let stores = Arc::new(KeyValueStores::for_app(&manifest, None, &["default".to_string()]).unwrap());
    let db = dir.path().join("app/.spin/sqlite_key_value.db");
    assert!(!db.exists(), "nothing is created before the component opens the store");
    let mut kv = instance(&stores);
    let bucket = kv.open("default".to_string()).await.unwrap();
    assert!(db.is_file());
    assert_eq!(kv.get(borrow(&bucket), "k".to_string()).await.unwrap(), None);
    kv.set(borrow(&bucket), "k".to_string(), b"v".to_vec()).await.unwrap();
    assert_eq!(read_row(&db, "default", "k"), Some(b"v".to_vec()));
}

#[tokio::test]
async fn an_sqlite_failure_answers_other_and_the_next_open_tries_again() {
    let dir = tempfile::tempdir().unwrap();
    // A directory where the database file should be: SQLite cannot open it.
    let path = dir.path().join("store.db");
    std::fs::create_dir(&path).unwrap();
    let stores = KeyValueStores::new().with_store("default", StoreConfig::Sqlite(path.clone())).unwrap();
    let stores = Arc::new(stores.allow(&["default"]));
    let mut kv = instance(&stores);
    let failed = kv.open("default".to_string()).await;
    assert!(is_other(&failed, "key-value store \"default\" (SQLite)"), "{failed:?}");
    std::fs::remove_dir(&path).unwrap();
    let bucket = kv.open("default".to_string()).await.unwrap();
    kv.set(borrow(&bucket), "k".to_string(), b"v".to_vec()).await.unwrap();

    // A file that is not a database fails every call with `other`, never a trap.
    let garbage = dir.path().join("garbage.db");
    std::fs::write(&garbage, vec![0x55u8; 8192]).unwrap();
    let stores = KeyValueStores::new().with_store("default", StoreConfig::Sqlite(garbage)).unwrap();
    let mut kv = instance(&Arc::new(stores.allow(&["default"])));
    assert!(is_other(&kv.open("default".to_string()).await, "SQLite"));
}

#[tokio::test]
async fn an_in_memory_store_lasts_as_long_as_the_runtime() {
    let config = RuntimeConfig::parse("[key_value_store.scratch]\ntype = \"spin\"\n", Path::new("")).unwrap();
    let stores = KeyValueStores::for_app(Path::new("/nonexistent/spin.toml"), Some(&config), &["scratch".to_string()]);
    let stores = Arc::new(stores.unwrap());
    let mut first = instance(&stores);
    let bucket = first.open("scratch".to_string()).await.unwrap();
    first.set(borrow(&bucket), "k".to_string(), b"kept".to_vec()).await.unwrap();
    let mut second = instance(&stores);
    let bucket = second.open("scratch".to_string()).await.unwrap();
    assert_eq!(second.get(borrow(&bucket), "k".to_string()).await.unwrap(), Some(b"kept".to_vec()));
    // Another runtime's in-memory store is its own.
    let other =
        Arc::new(KeyValueStores::for_app(Path::new("/x/spin.toml"), Some(&config), &["scratch".to_string()]).unwrap());
    let mut third = instance(&other);
    let bucket = third.open("scratch".to_string()).await.unwrap();
    assert_eq!(third.get(borrow(&bucket), "k".to_string()).await.unwrap(), None);
}

#[tokio::test]
async fn an_instance_holds_at_most_256_buckets() {
    let stores =
        Arc::new(KeyValueStores::new().with_store("default", StoreConfig::InMemory).unwrap().allow(&["default"]));
    let mut kv = instance(&stores);
    let mut buckets = Vec::new();
    for _ in 0..MAX_OPEN_BUCKETS {
        buckets.push(kv.open("default".to_string()).await.unwrap());
    }
    assert!(is_other(&kv.open("default".to_string()).await, "store table full"));
    kv.drop(buckets.pop().unwrap()).await.unwrap();
    assert!(kv.open("default".to_string()).await.is_ok());
}

/// A component that imports `wasi:keyvalue/store@0.2.0-draft2` as a guest built from the
/// vendored WIT does, and exports `probe(label, key) -> list<u8>` (open, get, drop) and
/// `put(label, key, value) -> list<u8>` (open, set, drop). The answer's first byte says
/// what happened: 0 set, 1 no value, 2 a value (the rest of the answer); 0x10 + the error
/// case of `open`, 0x20 of `get`, 0x30 of `set`, then the `other` message.
const GUEST: &str = r#"
(component
  (import "wasi:keyvalue/store@0.2.0-draft2" (instance $store
    (export "bucket" (type $bucket (sub resource)))
    (type $error-def (variant (case "no-such-store") (case "access-denied") (case "other" string)))
    (export "error" (type $error (eq $error-def)))
    (export "open" (func (param "identifier" string) (result (result (own $bucket) (error $error)))))
    (export "[method]bucket.get"
      (func (param "self" (borrow $bucket)) (param "key" string) (result (result (option (list u8)) (error $error)))))
    (export "[method]bucket.set"
      (func (param "self" (borrow $bucket)) (param "key" string) (param "value" (list u8)) (result (result (error $error)))))
  ))
  (alias export $store "bucket" (type $bucket))
  (alias export $store "open" (func $open))
  (alias export $store "[method]bucket.get" (func $get))
  (alias export $store "[method]bucket.set" (func $set))

  (core module $libc
    (memory (export "memory") 2)
    (global $next (mut i32) (i32.const 4096))
    (func (export "realloc") (param i32 i32) (param $align i32) (param $size i32) (result i32)
      (local $at i32)
      (local.set $at (i32.and (i32.add (global.get $next) (i32.sub (local.get $align) (i32.const 1)))
                              (i32.sub (i32.const 0) (local.get $align))))
      (global.set $next (i32.add (local.get $at) (local.get $size)))
      (local.get $at)))
  (core instance $libc (instantiate $libc))
  (alias core export $libc "memory" (core memory $memory))
  (alias core export $libc "realloc" (core func $realloc))

  (core func $open-core (canon lower (func $open) (memory $memory) (realloc $realloc)))
  (core func $get-core (canon lower (func $get) (memory $memory) (realloc $realloc)))
  (core func $set-core (canon lower (func $set) (memory $memory) (realloc $realloc)))
  (core func $drop-core (canon resource.drop $bucket))
  (core instance $kv
    (export "open" (func $open-core))
    (export "get" (func $get-core))
    (export "set" (func $set-core))
    (export "drop" (func $drop-core)))

  (core module $main
    (import "libc" "memory" (memory 1))
    (import "libc" "realloc" (func $realloc (param i32 i32 i32 i32) (result i32)))
    (import "kv" "open" (func $open (param i32 i32 i32)))
    (import "kv" "get" (func $get (param i32 i32 i32 i32)))
    (import "kv" "set" (func $set (param i32 i32 i32 i32 i32 i32)))
    (import "kv" "drop" (func $drop (param i32)))
    ;; The answer: `code` then `len` bytes from `src`, as a list<u8> at 16.
    (func $answer (param $code i32) (param $src i32) (param $len i32) (result i32)
      (local $out i32)
      (local.set $out (call $realloc (i32.const 0) (i32.const 0) (i32.const 1) (i32.add (local.get $len) (i32.const 1))))
      (i32.store8 (local.get $out) (local.get $code))
      (memory.copy (i32.add (local.get $out) (i32.const 1)) (local.get $src) (local.get $len))
      (i32.store (i32.const 16) (local.get $out))
      (i32.store (i32.const 20) (i32.add (local.get $len) (i32.const 1)))
      (i32.const 16))
    ;; An error at 256 (its case at 260, an `other` message at 264): `base` + the case.
    (func $failed (param $base i32) (result i32)
      (if (result i32) (i32.eq (i32.load8_u (i32.const 260)) (i32.const 2))
        (then (call $answer (i32.add (local.get $base) (i32.const 2)) (i32.load (i32.const 264)) (i32.load (i32.const 268))))
        (else (call $answer (i32.add (local.get $base) (i32.load8_u (i32.const 260))) (i32.const 0) (i32.const 0)))))
    (func (export "probe") (param $lp i32) (param $ll i32) (param $kp i32) (param $kl i32) (result i32)
      (local $bucket i32)
      (call $open (local.get $lp) (local.get $ll) (i32.const 256))
      (if (i32.load8_u (i32.const 256)) (then (return (call $failed (i32.const 0x10)))))
      (local.set $bucket (i32.load (i32.const 260)))
      (call $get (local.get $bucket) (local.get $kp) (local.get $kl) (i32.const 256))
      (call $drop (local.get $bucket))
      (if (i32.load8_u (i32.const 256)) (then (return (call $failed (i32.const 0x20)))))
      (if (i32.eqz (i32.load8_u (i32.const 260))) (then (return (call $answer (i32.const 1) (i32.const 0) (i32.const 0)))))
      (call $answer (i32.const 2) (i32.load (i32.const 264)) (i32.load (i32.const 268))))
    (func (export "put") (param $lp i32) (param $ll i32) (param $kp i32) (param $kl i32) (param $vp i32) (param $vl i32)
                         (result i32)
      (local $bucket i32)
      (call $open (local.get $lp) (local.get $ll) (i32.const 256))
      (if (i32.load8_u (i32.const 256)) (then (return (call $failed (i32.const 0x10)))))
      (local.set $bucket (i32.load (i32.const 260)))
      (call $set (local.get $bucket) (local.get $kp) (local.get $kl) (local.get $vp) (local.get $vl) (i32.const 256))
      (call $drop (local.get $bucket))
      (if (i32.load8_u (i32.const 256)) (then (return (call $failed (i32.const 0x30)))))
      (call $answer (i32.const 0) (i32.const 0) (i32.const 0))))
  (core instance $main (instantiate $main (with "libc" (instance $libc)) (with "kv" (instance $kv))))
  (alias core export $main "probe" (core func $probe-core))
  (alias core export $main "put" (core func $put-core))
  (func (export "probe") (param "label" string) (param "key" string) (result (list u8))
    (canon lift (core func $probe-core) (memory $memory) (realloc $realloc)))
  (func (export "put") (param "label" string) (param "key" string) (param "value" (list u8)) (result (list u8))
    (canon lift (core func $put-core) (memory $memory) (realloc $realloc)))
)
"#;

/// [`GUEST`], compiled once, linked as the runtime links it.
struct Guest {
    engine: Engine,
    component: Component,
    linker: Linker<KeyValueCtx>,
}

impl Guest {
    fn new() -> Self {
        let engine = Engine::default();
        let component = Component::new(&engine, GUEST).unwrap();
        let mut linker = Linker::new(&engine);
        add_to_linker(&mut linker, |kv| kv).unwrap();
        Guest { engine, component, linker }
    }

    /// Call `name` in a fresh instance over `stores`, as one request does.
    async fn call<P>(&self, stores: &Arc<KeyValueStores>, name: &str, params: P) -> Vec<u8>
    where
        P: wasmtime::component::ComponentNamedList + wasmtime::component::Lower + Send + Sync,
    {
        let mut store = Store::new(&self.engine, instance(stores));
        let instance = self.linker.instantiate_async(&mut store, &self.component).await.unwrap();
        let func = instance.get_typed_func::<P, (Vec<u8>,)>(&mut store, name).unwrap();
        func.call_async(&mut store, params).await.unwrap().0
    }

    async fn get(&self, stores: &Arc<KeyValueStores>, label: &str, key: &str) -> Vec<u8> {
        self.call(stores, "probe", (label, key)).await
    }

    async fn set(&self, stores: &Arc<KeyValueStores>, label: &str, key: &str, value: &[u8]) -> Vec<u8> {
        self.call(stores, "put", (label, key, value)).await
    }
}

/// A guest reads Spin's rows, writes its own, and gets each refusal as an error value.
#[tokio::test]
async fn a_guest_reads_and_writes_the_default_store() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("spin.toml");
    let db = KeyValueStores::default_store_path(&manifest);
    let binary: &[u8] = &[0xff, 0, 0xfe, b'x'];
    write_rows(&db, &[("default", "greeting", b"hello"), ("default", "binary", binary)]);
    let allowed = ["default".to_string(), "unbacked".to_string()];
    let stores = Arc::new(KeyValueStores::for_app(&manifest, None, &allowed).unwrap());
    let guest = Guest::new();

    assert_eq!(guest.get(&stores, "default", "greeting").await, b"\x02hello");
    assert_eq!(guest.get(&stores, "default", "binary").await, [&[2u8][..], binary].concat());
    assert_eq!(guest.get(&stores, "default", "missing").await, [1]);
    assert_eq!(guest.set(&stores, "default", "written", &[9, 8, 7]).await, [0]);
    assert_eq!(read_row(&db, "default", "written"), Some(vec![9, 8, 7]));
    assert_eq!(guest.get(&stores, "default", "written").await, [2, 9, 8, 7]);
    assert_eq!(guest.get(&stores, "private", "greeting").await, [0x11], "access-denied");
    assert_eq!(guest.set(&stores, "private", "k", b"v").await, [0x11], "access-denied");
    assert_eq!(guest.get(&stores, "unbacked", "greeting").await, [0x10], "no-such-store");
}

/// What a guest's `get` costs on the default store: the host function alone, and a whole
/// request's worth from a guest (instantiate, open, get, drop). Printed, with a loose bound
/// that catches a connection per call (an unoptimised build's SQLite is several times
/// slower than a release build's).
#[tokio::test]
async fn a_get_costs_microseconds() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("spin.toml");
    write_rows(&KeyValueStores::default_store_path(&manifest), &[("default", "greeting", b"hello")]);
    let stores = Arc::new(KeyValueStores::for_app(&manifest, None, &["default".to_string()]).unwrap());
    let mut kv = instance(&stores);
    let bucket = kv.open("default".to_string()).await.unwrap();
    let rounds = 20_000;
    let started = Instant::now();
    for _ in 0..rounds {
        let value = kv.get(borrow(&bucket), "greeting".to_string()).await.unwrap();
        std::hint::black_box(value);
    }
    let host = started.elapsed() / rounds;

    let guest = Guest::new();
    let rounds = 500;
    let started = Instant::now();
    for _ in 0..rounds {
        assert_eq!(guest.get(&stores, "default", "greeting").await, b"\x02hello");
    }
    let request = started.elapsed() / rounds;
    println!("key-value get on SQLite: {host:?} per host call, {request:?} per guest instance (open, get, drop)");
    assert!(host < Duration::from_micros(500), "{host:?} per get");
}

/// A `redis-server` of this test's own on a loopback port, stopped by its PID.
struct RedisServer {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl RedisServer {
    /// The binary, or why the Redis tests are skipped.
    fn available() -> bool {
        let found = Command::new("redis-server").arg("--version").stdout(Stdio::null()).status().is_ok();
        if !found {
            println!("skipped: no redis-server on PATH (apt-get install -y redis-server)");
        }
        found
    }

    fn free_port() -> u16 {
        TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
    }

    /// Start one on `port` and wait until it accepts connections.
    fn start(port: u16) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let server = RedisServer { child, port, _dir: dir };
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start on port {port}");
            std::thread::sleep(Duration::from_millis(20));
        }
        server
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// A plain client of its own, to see what the store wrote.
    fn client(&self) -> redis::Connection {
        redis::Client::open(self.url()).unwrap().get_connection().unwrap()
    }

    fn stop(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn redis_stores(url: &str, label: &str) -> Arc<KeyValueStores> {
    let text = format!("[key_value_store.{label}]\ntype = \"redis\"\nurl = \"{url}\"\n");
    let config = RuntimeConfig::parse(&text, Path::new("")).unwrap();
    let allowed = [label.to_string()];
    Arc::new(KeyValueStores::for_app(Path::new("/nonexistent/spin.toml"), Some(&config), &allowed).unwrap())
}

/// Spin's Redis layout: keys as given, values as raw bytes, through the host functions
/// and from a guest.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_store_keeps_spins_layout() {
    if !RedisServer::available() {
        return;
    }
    let server = RedisServer::start(RedisServer::free_port());
    let stores = redis_stores(&server.url(), "cache");
    let mut kv = instance(&stores);
    let bucket = kv.open("cache".to_string()).await.unwrap();
    let binary = vec![0u8, 255, 10, 13, 128];
    kv.set(borrow(&bucket), "bin".to_string(), binary.clone()).await.unwrap();
    kv.set(borrow(&bucket), "text".to_string(), b"hello".to_vec()).await.unwrap();
    let mut raw = server.client();
    let stored: Vec<u8> = redis::cmd("GET").arg("bin").query(&mut raw).unwrap();
    assert_eq!(stored, binary, "no prefix, raw bytes");
    let _: () = redis::cmd("SET").arg("outside").arg(b"\x01\x02".as_slice()).query(&mut raw).unwrap();
    assert_eq!(kv.get(borrow(&bucket), "outside".to_string()).await.unwrap(), Some(vec![1, 2]));
    assert_eq!(kv.get(borrow(&bucket), "bin".to_string()).await.unwrap(), Some(binary));
    assert_eq!(kv.get(borrow(&bucket), "missing".to_string()).await.unwrap(), None);
    assert!(kv.exists(borrow(&bucket), "text".to_string()).await.unwrap());
    assert!(!kv.exists(borrow(&bucket), "missing".to_string()).await.unwrap());
    let mut keys = kv.list_keys(borrow(&bucket), None).await.unwrap().keys;
    keys.sort();
    assert_eq!(keys, ["bin", "outside", "text"]);
    kv.delete(borrow(&bucket), "text".to_string()).await.unwrap();
    kv.delete(borrow(&bucket), "never-there".to_string()).await.unwrap();
    let exists: bool = redis::cmd("EXISTS").arg("text").query(&mut raw).unwrap();
    assert!(!exists);

    // Enough keys that SCAN takes several rounds.
    for i in 0..2500 {
        kv.set(borrow(&bucket), format!("many:{i}"), vec![]).await.unwrap();
    }
    assert_eq!(kv.list_keys(borrow(&bucket), None).await.unwrap().keys.len(), 2502);

    let guest = Guest::new();
    assert_eq!(guest.get(&stores, "cache", "outside").await, [2, 1, 2]);
    assert_eq!(guest.set(&stores, "cache", "from-guest", b"g").await, [0]);
    let stored: Vec<u8> = redis::cmd("GET").arg("from-guest").query(&mut raw).unwrap();
    assert_eq!(stored, b"g");
    assert_eq!(guest.get(&stores, "default", "outside").await, [0x11], "not listed");
    server.stop();
}

/// Redis stopped mid-run: calls answer `other` within a few seconds, never hang or trap;
/// started again on the same port, the next calls work.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_going_away_is_an_error_and_coming_back_is_recovered() {
    if !RedisServer::available() {
        return;
    }
    let port = RedisServer::free_port();
    let server = RedisServer::start(port);
    let stores = redis_stores(&server.url(), "default");
    let mut kv = instance(&stores);
    let bucket = kv.open("default".to_string()).await.unwrap();
    kv.set(borrow(&bucket), "k".to_string(), b"before".to_vec()).await.unwrap();
    server.stop();

    for _ in 0..3 {
        let started = Instant::now();
        let result = kv.get(borrow(&bucket), "k".to_string()).await;
        let took = started.elapsed();
        assert!(is_other(&result, &format!("Redis at 127.0.0.1:{port}")), "{result:?}");
        assert!(took < Duration::from_secs(3), "took {took:?}");
        println!("get with Redis stopped: other after {took:?}");
    }
    let guest = Guest::new();
    let answer = guest.get(&stores, "default", "k").await;
    assert_eq!(answer[0], 0x22, "get answers other: {}", String::from_utf8_lossy(&answer[1..]));

    let server = RedisServer::start(port);
    // The data went with the server (no persistence): the key is gone, and the call works.
    let started = Instant::now();
    let result = kv.get(borrow(&bucket), "k".to_string()).await;
    assert!(matches!(result, Ok(None)), "the first call after the restart: {result:?} after {:?}", started.elapsed());
    println!("the first get after the restart: {result:?} after {:?}", started.elapsed());
    kv.set(borrow(&bucket), "k".to_string(), b"after".to_vec()).await.unwrap();
    assert_eq!(kv.get(borrow(&bucket), "k".to_string()).await.unwrap(), Some(b"after".to_vec()));
    assert_eq!(guest.get(&stores, "default", "k").await, b"\x02after");
    server.stop();
}

/// Redis not there when the component first opens the store: `open` answers `other`
/// quickly, and opens once it is there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_absent_at_the_first_open() {
    if !RedisServer::available() {
        return;
    }
    let port = RedisServer::free_port();
    let stores = redis_stores(&format!("redis://127.0.0.1:{port}"), "default");
    let mut kv = instance(&stores);
    let started = Instant::now();
    let result = kv.open("default".to_string()).await;
    assert!(is_other(&result, "Redis at"), "{result:?}");
    assert!(started.elapsed() < Duration::from_secs(3), "took {:?}", started.elapsed());
    let server = RedisServer::start(port);
    let bucket = kv.open("default".to_string()).await.unwrap();
    assert_eq!(kv.get(borrow(&bucket), "k".to_string()).await.unwrap(), None);
    server.stop();
}
