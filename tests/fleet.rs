//! Fleets, end to end on the real engines: a million pins imported by certgate-kv into
//! Spin's SQLite file and into a real `redis-server`, certgate.wasm serving from them in
//! certgate-host, a client revoked with one command while it serves and restored with
//! another, a CRL's serials, and Redis stopped mid-run (refused with the reason) and
//! started again (served again); and the chain cache written and read back through the
//! host's `wasi:keyvalue` on both engines.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use certgate_host::{KeyValueStores, Runtime, StoreConfig};
use certgate_testkit::{encode, Ca, Issued, LeafOptions, OffsetDateTime};
use certgate_tests::{free_port, tool, Running};
use clap::Parser;
use http_body_util::Full;

const FLEET: usize = 1_000_000;

/// One certgate-kv command, as its command line would run it.
fn kv(args: &[&str]) {
    let mut argv = vec!["certgate-kv"];
    argv.extend_from_slice(args);
    let cli = certgate_kv::cli::Cli::try_parse_from(&argv).unwrap_or_else(|e| panic!("{argv:?}: {e}"));
    certgate_kv::cli::run(cli).unwrap_or_else(|e| panic!("{argv:?}: {e}"));
}

/// A file of `FLEET` SHA-256 thumbprints, one a line, with `extra` among them.
fn fleet_file(dir: &Path, extra: &[&Issued]) -> String {
    let mut text = String::with_capacity((FLEET + extra.len()) * 65);
    for i in 0..FLEET as u64 {
        text.push_str(&format!("{i:016x}{:048x}\n", i.wrapping_mul(0x9e37_79b9_7f4a_7c15)));
        if i == FLEET as u64 / 2 {
            for issued in extra {
                text.push_str(&issued.sha256_hex());
                text.push('\n');
            }
        }
    }
    let path = dir.join("fleet.txt");
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

struct Served {
    runtime: Runtime,
    vars: Arc<BTreeMap<String, String>>,
}

impl Served {
    fn new(store: StoreConfig) -> Served {
        let stores = KeyValueStores::new().with_store("default", store).unwrap().allow(&["default"]);
        let runtime = certgate_tests::runtime().clone().with_key_value(stores);
        let vars = BTreeMap::from([("keyvalue_store".to_string(), "default".to_string())]);
        Served { runtime, vars: Arc::new(vars) }
    }

    /// `GET /api/whoami` with `leaf` forwarded: status, reason (or the matched source), log.
    async fn whoami(&self, leaf: &Issued) -> (u16, String, String) {
        let request = hyper::Request::builder()
            .uri("http://fleet.test/api/whoami")
            .header("X-ARR-ClientCert", encode::base64_der(&leaf.der))
            .body(Full::new(Bytes::new()))
            .unwrap();
        let answer = self.runtime.call(request, self.vars.clone()).await.expect("no trap");
        let body: serde_json::Value = serde_json::from_slice(&answer.body).unwrap();
        let what = match answer.status {
            200 => body["matched"]["source"].as_str().unwrap_or_default().to_string(),
            _ => body["reason"].as_str().unwrap_or_default().to_string(),
        };
        (answer.status, what, answer.stderr)
    }
}

struct Fleet {
    ca: Ca,
    alice: Issued,
    bob: Issued,
    carol: Issued,
}

fn fleet() -> Fleet {
    let ca = Ca::new("Fleet CA");
    let mut carol = LeafOptions::named("carol");
    // A serial with its high bit set: DER writes a 00 sign byte, the CRL entry may not.
    carol.serial = Some(vec![0x00, 0x9c, 0x41, 0x7e]);
    Fleet {
        alice: ca.issue(&LeafOptions::named("alice")),
        bob: ca.issue(&LeafOptions::named("bob")),
        carol: ca.issue(&carol),
        ca,
    }
}

/// Import, allow, refuse a stranger, revoke and restore while serving, revoke by CRL.
async fn lifecycle(served: &Served, store: &[&str], dir: &Path, f: &Fleet) {
    let started = Instant::now();
    let fleet = fleet_file(dir, &[&f.alice, &f.carol]);
    kv(&[store, &["pin", "--label", "fleet", &fleet]].concat());
    eprintln!("{store:?}: imported {FLEET} pins in {:?}", started.elapsed());

    let (status, source, _) = served.whoami(&f.alice).await;
    assert_eq!((status, source.as_str()), (200, "keyvalue_store"));
    let (status, reason, log) = served.whoami(&f.bob).await;
    assert_eq!((status, reason.as_str()), (403, "certificate_not_allowed"), "{log}");

    // Revoked with one command while certgate serves: the next request is refused.
    let lost = dir.join("lost.pem");
    std::fs::write(&lost, f.alice.pem()).unwrap();
    let lost = lost.display().to_string();
    kv(&[store, &["revoke", "--label", "lost laptop", &lost]].concat());
    let (status, reason, log) = served.whoami(&f.alice).await;
    assert_eq!((status, reason.as_str()), (403, "certificate_revoked"), "{log}");
    assert!(log.contains(r#"revoked by the key-value store's thumbprint entry \"lost laptop\""#), "{log}");
    // Restored with another: served again.
    kv(&[store, &["pin", "--label", "found", &lost]].concat());
    assert_eq!(served.whoami(&f.alice).await.0, 200);

    // A CRL of the fleet's CA revoking carol's serial (written without the sign byte).
    assert_eq!(served.whoami(&f.carol).await.0, 200);
    let now = OffsetDateTime::now_utc();
    let crl = dir.join("fleet.crl");
    std::fs::write(&crl, f.ca.crl(&[&[0x9c, 0x41, 0x7e]], now, now + certgate_testkit::Duration::days(7))).unwrap();
    kv(&[store, &["revoke-crl", &crl.display().to_string()]].concat());
    let (status, reason, log) = served.whoami(&f.carol).await;
    assert_eq!((status, reason.as_str()), (403, "certificate_revoked"), "{log}");
    assert_eq!(served.whoami(&f.alice).await.0, 200, "alice's serial is not on the CRL");
}

#[tokio::test]
async fn a_million_pins_in_spins_sqlite_file_revoked_and_restored_while_serving() {
    let dir = tempfile_dir("sqlite");
    let db = dir.join(".spin/sqlite_key_value.db");
    let served = Served::new(StoreConfig::Sqlite(db.clone()));
    let f = fleet();
    // Before anything is imported the store has no marker: refused, never read as empty.
    let (status, reason, log) = served.whoami(&f.alice).await;
    assert_eq!((status, reason.as_str()), (503, "store_invalid"), "{log}");
    lifecycle(&served, &["--sqlite", &db.display().to_string()], &dir, &f).await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// A `redis-server` on a loopback port with a temporary directory and no persistence.
fn redis(program: &Path, port: u16, dir: &Path) -> Running {
    let child = std::process::Command::new(program)
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
        .arg("--dir")
        .arg(dir)
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("start redis-server");
    let running = Running(child, "redis-server");
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "redis-server did not listen on {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
    running
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_million_pins_in_redis_and_redis_going_down_and_coming_back() {
    let Some(program) = tool("a_million_pins_in_redis_and_redis_going_down_and_coming_back", "redis-server") else {
        return;
    };
    let dir = tempfile_dir("redis");
    let port = free_port();
    let url = format!("redis://127.0.0.1:{port}");
    let server = redis(&program, port, &dir);
    let served = Served::new(StoreConfig::Redis(url.clone()));
    let f = fleet();
    lifecycle(&served, &["--redis", &url], &dir, &f).await;

    // Stopped mid-run: refused with the reason, quickly, even for a pinned client.
    drop(server);
    let asked = Instant::now();
    let (status, reason, log) = served.whoami(&f.alice).await;
    assert_eq!((status, reason.as_str()), (503, "store_unavailable"), "{log}");
    assert!(asked.elapsed() < Duration::from_secs(5), "answered in {:?}", asked.elapsed());
    // Back (empty: no persistence), it is a store without a marker until imported again.
    let _server = redis(&program, port, &dir);
    let deadline = Instant::now() + Duration::from_secs(10);
    let reason = loop {
        let (_, reason, _) = served.whoami(&f.alice).await;
        if reason != "store_unavailable" || Instant::now() > deadline {
            break reason;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(reason, "store_invalid", "a restarted, empty Redis has no marker");
    let lost = dir.join("alice.pem");
    std::fs::write(&lost, f.alice.pem()).unwrap();
    kv(&["--redis", &url, "pin", &lost.display().to_string()]);
    let (status, source, log) = served.whoami(&f.alice).await;
    assert_eq!((status, source.as_str()), (200, "keyvalue_store"), "{log}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The chain cache through certgate.wasm and the host's `wasi:keyvalue` `set`: the first
/// request validates the chain and writes its entry, the next is served from it (the log
/// says so), a store revocation still denies it, and clear-chain-cache makes the next one
/// validate again.
async fn chain_cache(store: StoreConfig, target: &[&str], dir: &Path) {
    let root = Ca::new("Fleet Root");
    let issuing = root.intermediate("Fleet Issuing");
    let device = issuing.issue(&LeafOptions::named("device-7"));
    kv(&[target, &["init"]].concat());
    let stores = KeyValueStores::new().with_store("default", store).unwrap().allow(&["default"]);
    let runtime = certgate_tests::runtime().clone().with_key_value(stores);
    let vars = Arc::new(BTreeMap::from([
        ("keyvalue_store".to_string(), "default".to_string()),
        ("trust_anchors".to_string(), root.certificate.pem()),
        ("platform".to_string(), "rfc9440".to_string()),
        ("chain_cache_seconds".to_string(), "600".to_string()),
    ]));
    let ask = || async {
        let request = hyper::Request::builder()
            .uri("http://fleet.test/api/values")
            .header("client-cert", encode::rfc9440(&device.der))
            .header("client-cert-chain", encode::rfc9440(&issuing.certificate.der))
            .body(Full::new(Bytes::new()))
            .unwrap();
        let answer = runtime.call(request, vars.clone()).await.expect("no trap");
        (answer.status, answer.stderr.contains("\"path_from_cache\":true"), answer.stderr)
    };
    let (status, cached, log) = ask().await;
    assert_eq!((status, cached), (200, false), "{log}");
    let (status, cached, log) = ask().await;
    assert_eq!((status, cached), (200, true), "the second request reads the path back: {log}");
    let pem = dir.join("device.pem");
    std::fs::write(&pem, device.pem()).unwrap();
    kv(&[target, &["revoke", &pem.display().to_string()]].concat());
    let (status, _, log) = ask().await;
    assert_eq!(status, 403, "revoked while its path is cached: {log}");
    assert!(log.contains("certificate_revoked"), "{log}");
    kv(&[target, &["remove", &pem.display().to_string()]].concat());
    kv(&[target, &["clear-chain-cache"]].concat());
    let (status, cached, log) = ask().await;
    assert_eq!((status, cached), (200, false), "validated again after clear-chain-cache: {log}");
    let (status, cached, log) = ask().await;
    assert_eq!((status, cached), (200, true), "{log}");
}

#[tokio::test]
async fn the_chain_cache_in_spins_sqlite_file() {
    let dir = tempfile_dir("chain-sqlite");
    let db = dir.join(".spin/sqlite_key_value.db");
    chain_cache(StoreConfig::Sqlite(db.clone()), &["--sqlite", &db.display().to_string()], &dir).await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_chain_cache_in_redis() {
    let Some(program) = tool("the_chain_cache_in_redis", "redis-server") else {
        return;
    };
    let dir = tempfile_dir("chain-redis");
    let port = free_port();
    let url = format!("redis://127.0.0.1:{port}");
    let _server = redis(&program, port, &dir);
    chain_cache(StoreConfig::Redis(url.clone()), &["--redis", &url], &dir).await;
    let _ = std::fs::remove_dir_all(&dir);
}

fn tempfile_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("certgate-fleet-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
