//! certgate-middleware.wasm composed with `wac plug` in front of apps whose toolchains and
//! runtimes nobody here wrote: a Python app built with componentize-py (PyPI) and a
//! JavaScript app built with jco componentize (npm, StarlingMonkey), both exporting
//! wasi:http/incoming-handler@0.2.0. Driven through the local host, and through stock
//! `wasmtime serve` (with the config-env adapter plugged in too) when `wasmtime` is on PATH.
//!
//! What composition on WASI 0.2 means is checked, not assumed: an allowed request reaches
//! the app unchanged (method, path, every header line in order, the body), refused ones are
//! answered by certgate and never reach it, and a request carrying a header named like an
//! identity header is refused, since the middleware cannot remove it.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;

use bytes::Bytes;
use certgate_host::runtime::{ConfigValues, Stderr};
use certgate_host::{Runtime, RuntimeOptions};
use certgate_testkit::{encode, Ca, Issued, LeafOptions};
use certgate_tests::{self as support, free_port, Running};
use http_body_util::{BodyExt, Full};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("certgate-compose-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn run(what: &str, command: &mut Command) {
    let out = command.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The WIT the apps are built against: the middleware's package, world `wrapped-app`
/// (wasi:http/proxy@0.2.0), so the export's name is exactly the middleware's import.
fn wit() -> PathBuf {
    support::root().join("middleware/wit")
}

fn build_python(dir: &Path) -> PathBuf {
    let out = dir.join("python-app.wasm");
    run(
        "componentize-py",
        Command::new("componentize-py")
            .current_dir(support::root().join("tests/apps/python-app"))
            .arg("-d")
            .arg(wit())
            .args(["-w", "wrapped-app", "componentize", "app", "-o"])
            .arg(&out),
    );
    out
}

fn build_javascript(dir: &Path) -> PathBuf {
    let src = support::root().join("tests/apps/js-app");
    let work = dir.join("js-app");
    std::fs::create_dir_all(&work).unwrap();
    for file in ["app.js", "package.json", "package-lock.json"] {
        std::fs::copy(src.join(file), work.join(file)).unwrap();
    }
    run("npm ci", Command::new("npm").current_dir(&work).args(["ci", "--no-audit", "--no-fund", "--prefer-offline"]));
    let out = dir.join("js-app.wasm");
    run(
        "jco componentize",
        Command::new("npx")
            .current_dir(&work)
            .args(["jco", "componentize", "app.js", "--wit"])
            .arg(wit())
            .args(["--world-name", "wrapped-app", "-o"])
            .arg(&out),
    );
    out
}

/// `wac plug` the middleware's imports with `plugs`.
fn plug(dir: &Path, name: &str, plugs: &[&Path]) -> PathBuf {
    let out = dir.join(format!("{name}.wasm"));
    let mut command = Command::new(support::find_program("wac").expect("wac"));
    command.arg("plug").arg(support::middleware_path());
    for p in plugs {
        command.arg("--plug").arg(p);
    }
    run("wac plug", command.arg("-o").arg(&out));
    out
}

struct Answer {
    status: u16,
    body: String,
    log: String,
}

impl Answer {
    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
}

async fn send(
    runtime: &Runtime,
    config: &ConfigValues,
    method: &str,
    path: &str,
    headers: &[(&str, String)],
    body: &str,
) -> Answer {
    let mut request = hyper::Request::builder().method(method).uri(format!("http://compose.test{path}"));
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    let request = request.body(Full::new(Bytes::from(body.to_string())).map_err(|never| match never {})).unwrap();
    let (response, captured, finished) =
        runtime.handle(request, config.clone(), Stderr::Capture).await.expect("handled");
    let status = response.status().as_u16();
    let bytes = response.into_body().collect().await.expect("body").to_bytes();
    finished.await.expect("the guest finished");
    let log = captured.map(|c| c.text()).unwrap_or_default();
    Answer { status, body: String::from_utf8_lossy(&bytes).into_owned(), log }
}

fn cert(c: &Issued) -> (&'static str, String) {
    ("x-arr-clientcert", encode::base64_der(&c.der))
}

/// The checks, on one composed component in the local host.
async fn composed_in_the_local_host(app: &str, composed: &Path) {
    let ca = Ca::new("compose test CA");
    let alice = ca.issue(&LeafOptions::named("alice"));
    let bob = ca.issue(&LeafOptions::named("bob"));
    let config: ConfigValues =
        Arc::new([("allowed_thumbprints".to_string(), alice.sha256_hex())].into_iter().collect());
    let runtime = Runtime::new(composed, &RuntimeOptions { pooling: false, max_instances: 4 }).expect("compile");

    let allowed = [cert(&alice), ("x-test", "one".into()), ("x-test", "two".into()), ("x-request-id", "r-1".into())];
    let got = send(&runtime, &config, "POST", "/orders/42?full=1", &allowed, "hello body").await;
    assert_eq!(got.status, 200, "{app}: {}", got.body);
    let echo = got.json();
    assert_eq!(echo["app"], app);
    assert_eq!((echo["method"].as_str(), echo["path_with_query"].as_str()), (Some("POST"), Some("/orders/42?full=1")));
    assert_eq!(echo["body_bytes"], 10, "{app}: the body reached the app");
    let lines: Vec<(String, String)> = echo["headers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p[0].as_str().unwrap().to_string(), p[1].as_str().unwrap().to_string()))
        .collect();
    let tests: Vec<&str> = lines.iter().filter(|(n, _)| n == "x-test").map(|(_, v)| v.as_str()).collect();
    assert_eq!(tests, ["one", "two"], "{app}: every header line, in order: {lines:?}");
    // Unchanged: the certificate header is the app's to re-read, nothing was added.
    assert!(lines.iter().any(|(n, v)| n == "x-arr-clientcert" && *v == allowed[0].1), "{app}: {lines:?}");
    assert!(!lines.iter().any(|(n, _)| n.starts_with("x-certgate-")), "{app}: {lines:?}");
    assert!(got.log.contains(r#""outcome":"pass""#) && got.log.contains(&alice.sha256_hex()), "{}", got.log);

    for (headers, status, reason) in [
        (vec![cert(&bob)], 403, "certificate_not_allowed"),
        (vec![], 403, "certificate_missing"),
        (vec![cert(&alice), ("x-certgate-client-subject", "CN=admin".to_string())], 400, "request_not_forwardable"),
        (vec![cert(&alice), ("X_Certgate_Client_Sha256", bob.sha256_hex())], 400, "request_not_forwardable"),
    ] {
        let got = send(&runtime, &config, "GET", "/orders", &headers, "").await;
        assert_eq!((got.status, got.json()["reason"].as_str()), (status, Some(reason)), "{app}: {}", got.body);
        assert!(got.json().get("app").is_none(), "{app}: a refused request reached the app");
    }
    let health = send(&runtime, &config, "GET", "/healthz", &[], "").await;
    assert_eq!((health.status, health.body.as_str()), (200, r#"{"status":"ok"}"#), "{app}");
    // A configuration that does not load refuses everything.
    let broken: ConfigValues =
        Arc::new([("allowed_thumbprints".to_string(), "nope".to_string())].into_iter().collect());
    let got = send(&runtime, &broken, "GET", "/orders", &[cert(&alice)], "").await;
    assert_eq!((got.status, got.json()["reason"].as_str()), (500, Some("configuration_error")));
}

/// The same component with the config-env adapter plugged in too, under stock
/// `wasmtime serve` with its variables as environment variables.
fn composed_under_wasmtime_serve(app: &str, dir: &Path, app_wasm: &Path) {
    let Some(wasmtime) = support::find_program("wasmtime") else {
        let _ = std::io::Write::write_all(
            &mut std::io::stderr(),
            format!("SKIPPED {app} under wasmtime serve: `wasmtime` is not on PATH (optional lane)\n").as_bytes(),
        );
        return;
    };
    let standalone = plug(dir, &format!("{app}-standalone"), &[app_wasm, &support::config_env_adapter_path()]);
    let ca = Ca::new("compose serve CA");
    let alice = ca.issue(&LeafOptions::named("alice"));
    let bob = ca.issue(&LeafOptions::named("bob"));
    let port = free_port();
    let child = Command::new(wasmtime)
        .args(["serve", "-Scli", "--addr", &format!("127.0.0.1:{port}")])
        .arg(format!("--env=allowed_thumbprints={}", alice.sha256_hex()))
        .arg(&standalone)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join(format!("{app}-serve.out"))).unwrap())
        .spawn()
        .expect("wasmtime serve");
    let _running = Running(child, "wasmtime serve");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(300);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(std::time::Instant::now() < deadline, "wasmtime serve did not listen");
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let curl = |c: &Issued| {
        let out = Command::new("curl")
            .args(["-s", "--max-time", "60", "-H"])
            .arg(format!("X-ARR-ClientCert: {}", encode::base64_der(&c.der)))
            .arg(format!("http://127.0.0.1:{port}/served"))
            .output()
            .expect("curl");
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap_or_default()
    };
    assert_eq!(curl(&alice)["app"], app, "{app} under wasmtime serve");
    assert_eq!(curl(&bob)["reason"], "certificate_not_allowed", "{app} under wasmtime serve");
}

fn tools(test: &str, programs: &[&str]) -> bool {
    programs.iter().all(|p| support::tool(test, p).is_some())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_python_app_built_with_componentize_py_behind_certgate() {
    if !tools("compose (python)", &["componentize-py", "wac"]) {
        return;
    }
    let dir = scratch("python");
    let app = build_python(&dir);
    let composed = plug(&dir, "python-composed", &[&app]);
    composed_in_the_local_host("python", &composed).await;
    tokio::task::spawn_blocking(move || composed_under_wasmtime_serve("python", &dir, &app)).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_javascript_app_built_with_jco_behind_certgate() {
    if !tools("compose (javascript)", &["npm", "npx", "wac"]) {
        return;
    }
    let dir = scratch("javascript");
    let app = build_javascript(&dir);
    let composed = plug(&dir, "javascript-composed", &[&app]);
    composed_in_the_local_host("javascript", &composed).await;
    tokio::task::spawn_blocking(move || composed_under_wasmtime_serve("javascript", &dir, &app)).await.unwrap();
}
