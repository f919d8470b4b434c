//! The optional real-Spin lane: certgate.wasm under the real `spin up`, for what depends on
//! Spin's own behaviour (variables through its providers and `get-all`, undeclared variables,
//! responses on keep-alive connections). Runs when `spin` is on `PATH` or `CERTGATE_SPIN`
//! names it; otherwise each test says it is skipped. It is never required: Spin is in no
//! package registry, so a fresh machine (and CI) does not have it.

use certgate_tests as support;

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use certgate_testkit::{encode, Ca, LeafOptions};
use support::{connect, exchange, free_port, Running};

fn spin(test: &str) -> Option<PathBuf> {
    let found = std::env::var_os("CERTGATE_SPIN").map(PathBuf::from).or_else(|| support::find_program("spin"));
    if found.is_none() {
        eprintln!("{test}: skipped (no `spin` on PATH and CERTGATE_SPIN unset; see docs/development.md)");
    }
    found
}

/// `spin up` in its own app folder: stopped by PID, then the folder removed, when dropped.
struct SpinUp {
    spin: Option<Running>,
    port: u16,
    dir: PathBuf,
}

impl Drop for SpinUp {
    fn drop(&mut self) {
        drop(self.spin.take());
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn spin_up(spin: &Path, name: &str, manifest: &str, env: &[(&str, String)]) -> SpinUp {
    spin_up_component(spin, name, manifest, env, Path::new(&support::component_path()))
}

/// As [`spin_up`], serving `component` where the manifest expects certgate.wasm.
fn spin_up_component(spin: &Path, name: &str, manifest: &str, env: &[(&str, String)], component: &Path) -> SpinUp {
    let dir = std::env::temp_dir().join(format!("certgate-spin-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let release = dir.join("target/wasm32-wasip2/release");
    std::fs::create_dir_all(&release).expect("app dir");
    std::fs::create_dir_all(dir.join("home")).expect("home");
    std::fs::copy(component, release.join("certgate.wasm")).expect("copy the component");
    std::fs::write(dir.join("spin.toml"), manifest).expect("manifest");
    let port = free_port();
    let mut command = Command::new(spin);
    command
        .args(["up", "--from", "spin.toml", "--listen", &format!("127.0.0.1:{port}")])
        .current_dir(&dir)
        .env("HOME", dir.join("home"))
        .env_remove("RUST_BACKTRACE")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    for (k, v) in env {
        command.env(k, v);
    }
    let up = SpinUp { spin: Some(Running(command.spawn().expect("starting spin"), "spin")), port, dir };
    // Bounded wait for the listener (Spin compiles the component first).
    let deadline = Instant::now() + Duration::from_secs(60);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "spin up did not listen on {port}");
        std::thread::sleep(Duration::from_millis(100));
    }
    up
}

fn repository_manifest() -> String {
    std::fs::read_to_string(certgate_host::build::workspace_root().join("spin.toml")).expect("spin.toml")
}

/// A whole manifest declaring only `names` (what `certgate-host manifest` writes).
fn manifest_declaring(names: &[&str]) -> String {
    certgate_host::variables::manifest_declaring(names, "target/wasm32-wasip2/release/certgate.wasm")
        .expect("known names")
}

#[test]
fn spin_serves_certgate_from_environment_variables_on_one_connection() {
    let Some(spin) = spin("spin_serves_certgate_from_environment_variables_on_one_connection") else { return };
    let ca = Ca::new("Spin Lane Root");
    let alice = ca.issue(&LeafOptions::named("alice"));
    let bob = ca.issue(&LeafOptions::named("bob"));
    let big = ca.issue(&LeafOptions::named("big").large());
    let pins = format!("{};{}", alice.sha256_hex(), big.sha256_hex());
    let up = spin_up(&spin, "env", &repository_manifest(), &[("SPIN_VARIABLE_ALLOWED_THUMBPRINTS", pins)]);
    let mut conn = connect(up.port);
    let (alice_b64, bob_b64, big_b64) =
        (encode::base64_der(&alice.der), encode::base64_der(&bob.der), encode::base64_der(&big.der));
    // Many requests on one kept-alive connection, allowed and refused alternating, as a
    // terminator sends them: every one answered whole and right.
    for i in 0..20 {
        let (status, body) = exchange(&mut conn, "/api/whoami", &[("X-ARR-ClientCert", &alice_b64)]);
        assert_eq!(status, 200, "request {i}: {body}");
        assert!(body.contains(&alice.sha256_hex()), "{body}");
        let (status, body) = exchange(&mut conn, "/api/values", &[("X-ARR-ClientCert", &bob_b64)]);
        assert_eq!(status, 403, "request {i}: {body}");
        assert!(body.contains("certificate_not_allowed"), "{body}");
    }
    // A body over 4 KiB streams after the head and still arrives whole.
    let (status, body) = exchange(&mut conn, "/api/whoami", &[("X-ARR-ClientCert", &big_b64)]);
    assert_eq!(status, 200);
    assert!(body.len() > 4096 && body.contains(&big.sha256_hex()), "{} bytes", body.len());
}

#[test]
fn spin_reads_undeclared_variables_as_unset() {
    let Some(spin) = spin("spin_reads_undeclared_variables_as_unset") else { return };
    let ca = Ca::new("Spin Lane Root");
    let alice = ca.issue(&LeafOptions::named("alice"));
    let cert = encode::base64_der(&alice.der);
    // Only allowed_thumbprints declared: the proxy secret in the environment is not a
    // variable of this app, so Spin ignores it and certgate never sees it (the reason
    // docs/configuration.md says to declare every variable you set).
    let env =
        [("SPIN_VARIABLE_ALLOWED_THUMBPRINTS", alice.sha256_hex()), ("SPIN_VARIABLE_PROXY_SECRET", "s".repeat(40))];
    let up = spin_up(&spin, "minimal", &manifest_declaring(&["allowed_thumbprints"]), &env);
    let mut conn = connect(up.port);
    assert_eq!(exchange(&mut conn, "/healthz", &[]).0, 200);
    let (status, body) = exchange(&mut conn, "/api/values", &[("X-ARR-ClientCert", &cert)]);
    assert_eq!(status, 200, "{body}");
    drop(up);

    // Declared, the same secret is enforced: no proof header, refused.
    let declared = manifest_declaring(&["allowed_thumbprints", "proxy_secret"]);
    let up = spin_up(&spin, "declared", &declared, &env);
    let mut conn = connect(up.port);
    let (status, body) = exchange(&mut conn, "/api/values", &[("X-ARR-ClientCert", &cert)]);
    assert_eq!(status, 403, "{body}");
    drop(up);

    // No trust source declared at all: fail closed.
    let up = spin_up(&spin, "none", &manifest_declaring(&["platform"]), &[]);
    let mut conn = connect(up.port);
    assert_eq!(exchange(&mut conn, "/healthz", &[]).0, 503);
    let (status, body) = exchange(&mut conn, "/api/values", &[("X-ARR-ClientCert", &cert)]);
    assert_eq!(status, 500, "{body}");
    assert!(body.contains("configuration_error"), "{body}");
}

/// Whether this Spin runs WASI 0.3 components (4.0 and later).
fn runs_wasi_0_3(spin: &Path) -> bool {
    let out = Command::new(spin).arg("--version").output().expect("spin --version");
    let version = String::from_utf8_lossy(&out.stdout).to_string();
    let major = version.split_whitespace().nth(1).and_then(|v| v.split('.').next()?.parse::<u32>().ok());
    major.is_some_and(|m| m >= 4)
}

#[test]
fn spin_4_serves_the_p3_artifact_across_reused_instances() {
    let test = "spin_4_serves_the_p3_artifact_across_reused_instances";
    let Some(spin) = spin(test) else { return };
    if !runs_wasi_0_3(&spin) {
        eprintln!("{test}: skipped (this Spin predates WASI 0.3; use Spin 4.0 or later)");
        return;
    }
    let p3 = Path::new(env!("CERTGATE_P3_WASM"));
    let ca = Ca::new("Spin P3 Root");
    let alice = ca.issue(&LeafOptions::named("alice"));
    let bob = ca.issue(&LeafOptions::named("bob"));
    let big = ca.issue(&LeafOptions::named("big").large());
    let pins = format!("{};{}", alice.sha256_hex(), big.sha256_hex());
    let up = spin_up_component(&spin, "p3", &repository_manifest(), &[("SPIN_VARIABLE_ALLOWED_THUMBPRINTS", pins)], p3);
    let mut conn = connect(up.port);
    let (alice_b64, bob_b64, big_b64) =
        (encode::base64_der(&alice.der), encode::base64_der(&bob.der), encode::base64_der(&big.der));
    // More requests than Spin 4 gives one instance (128): the kept Gate answers as a
    // fresh one would, in the instance that built it and in the next.
    for i in 0..150 {
        let (status, body) = exchange(&mut conn, "/api/whoami", &[("X-ARR-ClientCert", &alice_b64)]);
        assert_eq!(status, 200, "request {i}: {body}");
        assert!(body.contains(&alice.sha256_hex()), "{body}");
        let (status, body) = exchange(&mut conn, "/api/values", &[("X-ARR-ClientCert", &bob_b64)]);
        assert_eq!(status, 403, "request {i}: {body}");
        assert!(body.contains("certificate_not_allowed"), "{body}");
    }
    let (status, body) = exchange(&mut conn, "/api/whoami", &[("X-ARR-ClientCert", &big_b64)]);
    assert_eq!(status, 200);
    assert!(body.len() > 4096 && body.contains(&big.sha256_hex()), "{} bytes", body.len());
    let (status, _) = exchange(&mut conn, "/api/values", &[]);
    assert_eq!(status, 403);
    drop(up);

    // A broken configuration is refused on every request of a reused instance, not only
    // the first: it is never kept.
    let up = spin_up_component(
        &spin,
        "p3-broken",
        &repository_manifest(),
        &[("SPIN_VARIABLE_ALLOWED_THUMBPRINTS", "not-a-pin".to_string())],
        p3,
    );
    let mut conn = connect(up.port);
    for i in 0..20 {
        let (status, body) = exchange(&mut conn, "/api/values", &[("X-ARR-ClientCert", &alice_b64)]);
        assert_eq!(status, 500, "request {i}: {body}");
        assert!(body.contains("configuration_error"), "{body}");
    }
    let (status, _) = exchange(&mut conn, "/healthz", &[]);
    assert_eq!(status, 503);
}

/// One certgate-kv command, as its command line would run it.
fn certgate_kv(args: &[&str]) {
    use clap::Parser;
    let argv: Vec<&str> = std::iter::once("certgate-kv").chain(args.iter().copied()).collect();
    let cli = certgate_kv::cli::Cli::try_parse_from(&argv).unwrap_or_else(|e| panic!("{argv:?}: {e}"));
    certgate_kv::cli::run(cli).unwrap_or_else(|e| panic!("{argv:?}: {e}"));
}

/// `spin up` with the repository's manifest (`key_value_stores = ["default"]`) reads the
/// `.spin/sqlite_key_value.db` certgate-kv writes beside it: an empty store is refused,
/// a pin allows, a revocation written while Spin serves refuses the next request, and a
/// restore allows again.
#[test]
fn spin_serves_certgate_from_the_store_certgate_kv_writes() {
    let Some(spin) = spin("spin_serves_certgate_from_the_store_certgate_kv_writes") else { return };
    let ca = Ca::new("Spin Lane Fleet CA");
    let alice = ca.issue(&LeafOptions::named("alice"));
    let bob = ca.issue(&LeafOptions::named("bob"));
    let up = spin_up(&spin, "kv", &repository_manifest(), &[("SPIN_VARIABLE_KEYVALUE_STORE", "default".into())]);
    let db = up.dir.join(".spin/sqlite_key_value.db").display().to_string();
    let pem = up.dir.join("alice.pem");
    std::fs::write(&pem, alice.pem()).unwrap();
    let pem = pem.display().to_string();
    let mut conn = connect(up.port);
    let alice_b64 = encode::base64_der(&alice.der);
    let ask = |conn: &mut _| exchange(conn, "/api/whoami", &[("X-ARR-ClientCert", &alice_b64)]);
    let (status, body) = ask(&mut conn);
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("store_invalid"), "{body}");
    certgate_kv(&["--sqlite", &db, "pin", "--label", "alice", &pem]);
    let (status, body) = ask(&mut conn);
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(r#""source":"keyvalue_store""#), "{body}");
    let (status, body) = exchange(&mut conn, "/api/values", &[("X-ARR-ClientCert", &encode::base64_der(&bob.der))]);
    assert_eq!(status, 403, "{body}");
    certgate_kv(&["--sqlite", &db, "revoke", &pem]);
    let (status, body) = ask(&mut conn);
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("certificate_revoked"), "{body}");
    certgate_kv(&["--sqlite", &db, "pin", &pem]);
    assert_eq!(ask(&mut conn).0, 200);
}

/// The chain cache under real Spin: its `wasi:keyvalue` `set` keeps the validated path in
/// `.spin/sqlite_key_value.db` (Spin's own row, read back here), the next request is served
/// from it, a revocation in the store still refuses, and with the entry gone the path is
/// validated and kept again.
#[test]
fn spin_keeps_validated_chains_in_its_store() {
    use sha2::Digest as _;
    let Some(spin) = spin("spin_keeps_validated_chains_in_its_store") else { return };
    let root = Ca::new("Spin Lane Chain Root");
    let issuing = root.intermediate("Spin Lane Issuing");
    let device = issuing.issue(&LeafOptions::named("device"));
    let env = [
        ("SPIN_VARIABLE_KEYVALUE_STORE", "default".to_string()),
        ("SPIN_VARIABLE_TRUST_ANCHORS", root.certificate.pem()),
        ("SPIN_VARIABLE_PLATFORM", "rfc9440".to_string()),
        ("SPIN_VARIABLE_CHAIN_CACHE_SECONDS", "600".to_string()),
    ];
    let up = spin_up(&spin, "chain-cache", &repository_manifest(), &env);
    let db = up.dir.join(".spin/sqlite_key_value.db");
    let db_arg = db.display().to_string();
    certgate_kv(&["--sqlite", &db_arg, "init"]);
    let cached_rows = || -> Vec<(String, Vec<u8>)> {
        let conn = rusqlite::Connection::open(&db).unwrap();
        let mut stmt = conn
            .prepare("SELECT key, value FROM spin_key_value WHERE store = 'default' AND key LIKE 'certgate/v1/chain/%'")
            .unwrap();
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
        rows.map(Result::unwrap).collect()
    };
    let (cert, chain) = (encode::rfc9440(&device.der), encode::rfc9440(&issuing.certificate.der));
    let mut conn = connect(up.port);
    let mut ask = || exchange(&mut conn, "/api/values", &[("client-cert", &cert), ("client-cert-chain", &chain)]);
    assert_eq!(ask().0, 200);
    let rows = cached_rows();
    assert_eq!(rows.len(), 1, "Spin kept the entry certgate wrote");
    let leaf_hex = device.sha256_hex();
    assert!(rows[0].0.ends_with(&leaf_hex), "{}", rows[0].0);
    let entry: serde_json::Value = serde_json::from_slice(&rows[0].1).unwrap();
    assert_eq!(entry["format"], "certgate-chain");
    assert_eq!(entry["path"][0].as_str(), Some(hex::encode(sha2::Sha256::digest(&issuing.certificate.der)).as_str()));
    assert_eq!(ask().0, 200);
    assert_eq!(cached_rows(), rows, "a hit writes nothing");
    let pem = up.dir.join("device.pem");
    std::fs::write(&pem, device.pem()).unwrap();
    let pem = pem.display().to_string();
    certgate_kv(&["--sqlite", &db_arg, "revoke", &pem]);
    let (status, body) = ask();
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("certificate_revoked"), "{body}");
    certgate_kv(&["--sqlite", &db_arg, "remove", &pem]);
    certgate_kv(&["--sqlite", &db_arg, "clear-chain-cache"]);
    assert!(cached_rows().is_empty());
    assert_eq!(ask().0, 200);
    assert_eq!(cached_rows().len(), 1, "validated and kept again");
}
