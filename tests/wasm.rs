//! What only the component has, in one place: the interfaces it imports and exports, its
//! stack (deep input is a refusal, not a trap), its log lines on stderr, and the standalone
//! composition. Everything the library decides is tested on both targets elsewhere
//! (tests/vectors.rs, tests/contract.rs).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use certgate_host::runtime::Collected;
use certgate_host::{Runtime, RuntimeOptions};
use certgate_testkit::{encode, Ca, Issued, LeafOptions};
use certgate_tests::{assert_problem, connect, exchange, get, targets};
use http_body_util::Full;

fn alice() -> &'static Issued {
    static ALICE: OnceLock<Issued> = OnceLock::new();
    ALICE.get_or_init(|| Ca::new("wasm test CA").issue(&LeafOptions::named("alice")))
}

#[test]
fn imports_only_standard_wasi_the_draft_config_store_and_the_draft_keyvalue_store() {
    let imports = certgate_tests::runtime().imports();
    assert!(imports.contains(&"wasi:config/store@0.2.0-draft-2024-09-27".to_string()), "{imports:?}");
    // Only wasi:keyvalue's `store` interface: Fermyon Cloud and Akamai Functions offer no more.
    let keyvalue: Vec<_> = imports.iter().filter(|n| n.starts_with("wasi:keyvalue/")).collect();
    assert_eq!(keyvalue, ["wasi:keyvalue/store@0.2.0-draft2"], "{imports:?}");
    for name in &imports {
        assert!(name.starts_with("wasi:"), "non-standard import {name}");
        assert!(!name.contains("fermyon") && !name.contains("spin"), "Spin-specific import {name}");
    }
    let configs: Vec<_> = imports.iter().filter(|n| n.starts_with("wasi:config/")).collect();
    assert_eq!(configs.len(), 1, "{configs:?}");
    let exports = certgate_tests::runtime().exports();
    assert!(exports.iter().any(|e| e.starts_with("wasi:http/incoming-handler@0.2.")), "{exports:?}");
}

/// certgate-p3.wasm (the WASI 0.3 artifact for Spin 4) exports the handler of the WASI 0.3
/// snapshot Spin 4.0 runs and imports, like certgate.wasm, only standard WASI and the
/// draft config store: nothing Spin-specific, so it runs on any host of that snapshot.
#[test]
fn p3_artifact_exports_the_wasi_0_3_handler_and_imports_only_standard_wasi() {
    let mut config = wasmtime::Config::new();
    config.wasm_component_model_async(true);
    let engine = wasmtime::Engine::new(&config).unwrap();
    let component = wasmtime::component::Component::from_file(&engine, env!("CERTGATE_P3_WASM")).unwrap();
    let ty = component.component_type();
    let exports: Vec<String> = ty.exports(&engine).map(|(n, _)| n.to_string()).collect();
    assert_eq!(exports, ["wasi:http/handler@0.3.0-rc-2026-03-15"], "{exports:?}");
    let imports: Vec<String> = ty.imports(&engine).map(|(n, _)| n.to_string()).collect();
    assert!(imports.contains(&"wasi:config/store@0.2.0-draft-2024-09-27".to_string()), "{imports:?}");
    assert!(imports.iter().any(|n| n.starts_with("wasi:http/types@0.3.0-rc-2026-03-15")), "{imports:?}");
    for name in &imports {
        assert!(name.starts_with("wasi:"), "non-standard import {name}");
        assert!(!name.contains("fermyon") && !name.contains("spin"), "Spin-specific import {name}");
    }
}

/// The deepest JSON serde_json parses (127 levels) and one past its limit: the guest's
/// 256 KiB stack holds both (see the root build.rs), so they are refusals, not traps
/// (`send` fails the test on a trap).
#[tokio::test]
async fn deep_json_pins_fit_the_stack() {
    let b64 = encode::base64_der(&alice().der);
    for depth in [127, 5000] {
        let response = get("/api/values")
            .pins(&alice().sha256_hex())
            .var("pins", &format!("{}{}", "[".repeat(depth), "]".repeat(depth)))
            .header("X-ARR-ClientCert", b64.clone())
            .send()
            .await;
        let body = assert_problem(&response, 500, "configuration_error").to_string();
        assert!(!body.contains(&alice().sha256_hex()), "{body}");
        let line = response.log_lines().into_iter().find(|l| l["event"] == "configuration_error");
        let line = line.unwrap_or_else(|| panic!("depth {depth}: no configuration_error line: {}", response.stderr));
        assert!(line["problem"].as_str().unwrap().contains("variable"), "{line}");
    }
}

/// The component writes the library's log lines to stderr, whole: one JSON object a line,
/// nothing else, and the same lines (but for the time) as the library returns.
#[tokio::test]
async fn stderr_holds_the_librarys_log_lines() {
    let cert = encode::base64_der(&alice().der);
    let requests = [
        get("/api/whoami").pins(&alice().sha256_hex()).header("X-ARR-ClientCert", cert.clone()).build(),
        get("/api/values").pins(&"ab".repeat(32)).header("X-ARR-ClientCert", cert.clone()).build(),
        get("/api/values").header("X-ARR-ClientCert", cert).build(),
        get("/healthz").build(),
    ];
    for request in &requests {
        let mut lines = Vec::new();
        for target in targets() {
            let response = target.handle(request).await;
            let mut parsed = Vec::new();
            for text in response.stderr.lines() {
                let mut line: serde_json::Value = serde_json::from_str(text)
                    .unwrap_or_else(|e| panic!("{}: a stderr line is not JSON ({e}): {text}", target.name()));
                line.as_object_mut().unwrap().remove("ts");
                parsed.push(line);
            }
            assert!(response.stderr.is_empty() || response.stderr.ends_with('\n'));
            lines.push(parsed);
        }
        assert!(!lines[0].is_empty(), "{}: no log line", request.path);
        assert_eq!(lines[0], lines[1], "{} {}", request.method, request.path);
    }
}

/// certgate-standalone.wasm: certgate.wasm composed (`wac plug`) with the config-env
/// adapter, so it imports no `wasi:config` and runs on any wasi:http host, configured by
/// environment variables only (as `wasmtime serve --env allowed_thumbprints=...`).
/// `None` (the test is skipped) when `wac` is not installed.
fn standalone(test: &str) -> Option<&'static Runtime> {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    let wac = certgate_tests::tool(test, "wac")?;
    Some(RUNTIME.get_or_init(|| {
        let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("certgate-standalone.wasm");
        let status = std::process::Command::new(wac)
            .arg("plug")
            .arg(certgate_tests::component_path())
            .arg("--plug")
            .arg(certgate_tests::config_env_adapter_path())
            .arg("-o")
            .arg(&out)
            .status()
            .expect("running wac");
        assert!(status.success(), "wac plug failed ({status})");
        Runtime::new(&out, &RuntimeOptions { pooling: true, max_instances: 8 }).expect("compile")
    }))
}

async fn standalone_get(
    runtime: &Runtime,
    env: &[(&str, String)],
    path: &str,
    header: Option<(&str, String)>,
) -> Collected {
    let runtime = runtime.clone().with_env(env.iter().map(|(k, v)| (k.to_string(), v.clone())).collect());
    let mut request = hyper::Request::builder().uri(format!("http://standalone.test{path}"));
    if let Some((name, value)) = header {
        request = request.header(name, value);
    }
    let request = request.body(Full::new(Bytes::new())).unwrap();
    // The draft config store the test host offers is empty: only the environment counts.
    runtime.call(request, Arc::new(BTreeMap::new())).await.expect("no trap")
}

#[test]
fn standalone_imports_no_wasi_config() {
    let Some(standalone) = standalone("standalone_imports_no_wasi_config") else { return };
    let imports = standalone.imports();
    assert!(imports.iter().all(|i| !i.starts_with("wasi:config")), "{imports:?}");
    // Nor wasi:keyvalue: the adapter's store refuses to open, so any wasi:http host runs it.
    assert!(imports.iter().all(|i| !i.starts_with("wasi:keyvalue")), "{imports:?}");
    assert!(imports.iter().all(|i| i.starts_with("wasi:")), "{imports:?}");
    assert!(standalone.exports().iter().any(|e| e.starts_with("wasi:http/incoming-handler@0.2.")));
}

#[tokio::test]
async fn standalone_is_configured_by_environment_variables_only() {
    let Some(standalone) = standalone("standalone_is_configured_by_environment_variables_only") else { return };
    let pin = alice().sha256_hex();
    let cert = encode::base64_der(&alice().der);
    let ok = standalone_get(
        standalone,
        &[("allowed_thumbprints", pin.clone())],
        "/api/whoami",
        Some(("X-ARR-ClientCert", cert.clone())),
    )
    .await;
    assert_eq!(ok.status, 200, "{}", String::from_utf8_lossy(&ok.body));
    assert_eq!(ok.json().unwrap()["thumbprint_sha256"], pin);

    // The CERTGATE_<NAME> spelling works too, and presets apply.
    let env = [("CERTGATE_ALLOWED_THUMBPRINTS", pin.clone()), ("CERTGATE_PLATFORM", "nginx".to_string())];
    let nginx = standalone_get(
        standalone,
        &env,
        "/api/values",
        Some(("X-SSL-Client-Cert", encode::url_pem_nginx(&alice().der))),
    )
    .await;
    assert_eq!(nginx.status, 200, "{}", String::from_utf8_lossy(&nginx.body));

    // The exact name wins over its CERTGATE_ spelling (the adapter's get and get-all agree).
    for (exact, prefixed, status) in [(pin.clone(), "ab".repeat(32), 200), ("ab".repeat(32), pin.clone(), 403)] {
        let env = [("allowed_thumbprints", exact), ("CERTGATE_ALLOWED_THUMBPRINTS", prefixed)];
        let r = standalone_get(standalone, &env, "/api/values", Some(("X-ARR-ClientCert", cert.clone()))).await;
        assert_eq!(r.status, status, "{}", String::from_utf8_lossy(&r.body));
    }

    // A suffix that is not upper case spells no key, in get and get-all alike: unset.
    let env = [("CERTGATE_allowed_thumbprints", pin.clone())];
    let r = standalone_get(standalone, &env, "/api/values", Some(("X-ARR-ClientCert", cert.clone()))).await;
    assert_eq!(r.status, 500, "{}", String::from_utf8_lossy(&r.body));
    // And a mixed-case twin cannot shadow the upper-case spelling: the denylist holds.
    let env = [
        ("allowed_thumbprints", pin.clone()),
        ("CERTGATE_REVOKED", alice().sha256_hex()),
        ("CERTGATE_Revoked", String::new()),
    ];
    let r = standalone_get(standalone, &env, "/api/values", Some(("X-ARR-ClientCert", cert.clone()))).await;
    assert_eq!(r.status, 403, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.json().unwrap()["reason"], "certificate_revoked");

    // Without the variable: fail closed.
    let none = standalone_get(standalone, &[], "/api/values", Some(("X-ARR-ClientCert", cert))).await;
    assert_eq!(none.status, 500);
    assert_eq!(none.json().unwrap()["reason"], "configuration_error");
    let health = standalone_get(standalone, &[], "/healthz", None).await;
    assert_eq!(health.status, 503);
    let other = standalone_get(
        standalone,
        &[("allowed_thumbprints", "ab".repeat(32))],
        "/api/values",
        Some(("X-ARR-ClientCert", encode::base64_der(&alice().der))),
    )
    .await;
    assert_eq!(other.json().unwrap()["reason"], "certificate_not_allowed");

    // A store configured where the adapter has none: refused, and the log says why.
    let env = [("allowed_thumbprints", pin.clone()), ("keyvalue_store", "default".to_string())];
    let r =
        standalone_get(standalone, &env, "/api/values", Some(("X-ARR-ClientCert", encode::base64_der(&alice().der))))
            .await;
    let body: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!((r.status, body["reason"].as_str()), (503, Some("store_unavailable")), "{body}");
    assert!(r.stderr.contains("certgate-standalone has no key-value store"), "{}", r.stderr);
}

/// The component hands the host each response whole: a `content-length` that matches the
/// body, and (for a body of at most 4096 bytes) the body written and finished before the
/// response, so a host writes headers and body together (`send` in src/component.rs). A
/// body over 4096 bytes streams after the headers and arrives whole too.
#[tokio::test]
async fn responses_carry_their_length_and_arrive_whole() {
    let big = Ca::new("Length Root").issue(&LeafOptions::named("big").large());
    let alice_cert = encode::base64_der(&alice().der);
    let big_cert = encode::base64_der(&big.der);
    let pins = format!("{};{}", alice().sha256_hex(), big.sha256_hex());
    let wasm = targets()[1];
    assert_eq!(wasm.name(), "wasm");
    let cases = [
        (get("/api/whoami").pins(&pins).header("X-ARR-ClientCert", alice_cert.clone()).build(), 200),
        (get("/api/whoami").pins(&pins).header("X-ARR-ClientCert", big_cert).build(), 200),
        (get("/api/values").pins(&"ab".repeat(32)).header("X-ARR-ClientCert", alice_cert).build(), 403),
        (get("/healthz").pins(&pins).build(), 200),
    ];
    let mut lengths = Vec::new();
    for (request, status) in &cases {
        let response = wasm.handle(request).await;
        assert_eq!(response.status, *status, "{}", request.path);
        let length: Vec<&str> =
            response.headers.iter().filter(|(k, _)| k == "content-length").map(|(_, v)| v.as_str()).collect();
        assert_eq!(length, [response.body.len().to_string().as_str()], "{}", request.path);
        lengths.push(response.body.len());
    }
    assert!(lengths[0] <= 4096 && lengths[1] > 4096, "one body on each path: {lengths:?}");
}

/// certgate-host's Spin-like mode (`--spin-lookups`): every variable read repeats the work
/// of Spin's environment provider (inside `block_in_place`, which needs tokio's
/// multi-threaded runtime, as Spin's). The answers are those of the plain mode.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spin_like_lookups_answer_as_the_plain_host() {
    let plain = certgate_tests::runtime().clone();
    let manifest =
        std::fs::read_to_string(certgate_host::build::workspace_root().join("spin.toml")).expect("spin.toml");
    let variables = certgate_host::Variables::from_manifest_text(&manifest, "certgate").expect("manifest");
    let lookups = variables.provider_lookups();
    assert_eq!(lookups.len(), certgate::vars::VARS.len(), "one component variable per table entry");
    assert!(
        lookups.iter().all(|(name, refs)| refs.as_slice() == std::slice::from_ref(name)),
        "each refers to its namesake"
    );
    let spin_like = plain.clone().with_spin_lookups(Arc::new(lookups));
    let pin = alice().sha256_hex();
    let config: Arc<BTreeMap<String, String>> = Arc::new(
        variables.resolve().expect("defaults").into_iter().chain([("allowed_thumbprints".to_string(), pin)]).collect(),
    );
    let cert = encode::base64_der(&alice().der);
    for (value, status) in [(cert.as_str(), 200), ("not base64!", 403)] {
        let request = || {
            hyper::Request::builder()
                .uri("http://host.test/api/values")
                .header("X-ARR-ClientCert", value)
                .body(Full::new(Bytes::new()))
                .expect("request")
        };
        let a = plain.call(request(), config.clone()).await.expect("plain");
        let b = spin_like.call(request(), config.clone()).await.expect("spin-like");
        assert_eq!((a.status, b.status), (status, status));
        assert_eq!(a.body, b.body);
    }
}

/// certgate-host serves certgate-p3.wasm as Spin 4.0.2 does: each instance serves up to 128
/// requests (then a new one starts), an idle one is dropped after 1 s, and the kept Gate
/// answers as a fresh one would in every instance; a broken configuration is refused on
/// every request of a reused instance. (The optional Spin lane, tests/spin.rs, checks the
/// same on the real Spin 4.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_local_host_reuses_p3_instances_as_spin_4_does() {
    use certgate_host::runtime::Stderr;
    use certgate_host::InstanceReuse;
    let ca = Ca::new("Local P3 Root");
    let alice = ca.issue(&LeafOptions::named("alice"));
    let bob = ca.issue(&LeafOptions::named("bob"));
    let big = ca.issue(&LeafOptions::named("big").large());
    let pins = format!("{};{}", alice.sha256_hex(), big.sha256_hex());
    let serve = |runtime: certgate_host::Runtime, pins: String| async move {
        let listener = certgate_host::server::bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let vars = std::collections::BTreeMap::from([("allowed_thumbprints".to_string(), pins)]);
        let server = tokio::spawn(certgate_host::server::serve_with(
            listener,
            runtime,
            std::sync::Arc::new(vars),
            Stderr::Capture,
        ));
        (port, server)
    };
    let p3 = certgate_tests::p3_runtime();
    assert!(p3.is_wasi_0_3() && !certgate_tests::runtime().is_wasi_0_3());

    let runtime = p3.clone().with_instance_reuse(InstanceReuse::default());
    let (port, server) = serve(runtime.clone(), pins.clone()).await;
    let (alice_b64, bob_b64, big_b64) =
        (encode::base64_der(&alice.der), encode::base64_der(&bob.der), encode::base64_der(&big.der));
    let (sha_alice, sha_big) = (alice.sha256_hex(), big.sha256_hex());
    tokio::task::spawn_blocking(move || {
        let mut conn = connect(port);
        for i in 0..150 {
            let (status, body) = exchange(&mut conn, "/api/whoami", &[("X-ARR-ClientCert", &alice_b64)]);
            assert_eq!(status, 200, "request {i}: {body}");
            assert!(body.contains(&sha_alice), "{body}");
            let (status, body) = exchange(&mut conn, "/api/values", &[("X-ARR-ClientCert", &bob_b64)]);
            assert_eq!(status, 403, "request {i}: {body}");
            assert!(body.contains("certificate_not_allowed"), "{body}");
        }
        let (status, body) = exchange(&mut conn, "/api/whoami", &[("X-ARR-ClientCert", &big_b64)]);
        assert_eq!(status, 200);
        assert!(body.len() > 4096 && body.contains(&sha_big), "{} bytes", body.len());
    })
    .await
    .unwrap();
    // 301 requests at most 128 an instance: at least 3 instances, and far fewer than one
    // per request (a task that arrives while an instance is busy may start another).
    let created = runtime.instances_created();
    eprintln!("301 requests on one connection: {created} instances");
    assert!((3..=12).contains(&created), "{created} instances for 301 requests");
    // Idle for longer than 1 s: the instance is gone, and the next request starts one.
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let before = runtime.instances_created();
    let alice_b64 = encode::base64_der(&alice.der);
    tokio::task::spawn_blocking(move || {
        let (status, _) = exchange(&mut connect(port), "/api/whoami", &[("X-ARR-ClientCert", &alice_b64)]);
        assert_eq!(status, 200);
    })
    .await
    .unwrap();
    assert_eq!(runtime.instances_created(), before + 1, "a new instance after 1 s idle");
    server.abort();

    // One request an instance (the limit set to 1): one instance each.
    let single = p3.clone().with_instance_reuse(InstanceReuse { max_requests: 1, ..InstanceReuse::default() });
    let (port, server) = serve(single.clone(), pins.clone()).await;
    let alice_b64 = encode::base64_der(&alice.der);
    tokio::task::spawn_blocking(move || {
        let mut conn = connect(port);
        for _ in 0..10 {
            assert_eq!(exchange(&mut conn, "/api/whoami", &[("X-ARR-ClientCert", &alice_b64)]).0, 200);
        }
    })
    .await
    .unwrap();
    assert_eq!(single.instances_created(), 10);
    server.abort();

    // A broken configuration is never kept: refused on every request, /healthz unready.
    let broken = p3.clone().with_instance_reuse(InstanceReuse::default());
    let (port, server) = serve(broken.clone(), "not-a-pin".into()).await;
    let alice_b64 = encode::base64_der(&alice.der);
    tokio::task::spawn_blocking(move || {
        let mut conn = connect(port);
        for i in 0..20 {
            let (status, body) = exchange(&mut conn, "/api/values", &[("X-ARR-ClientCert", &alice_b64)]);
            assert_eq!(status, 500, "request {i}: {body}");
            assert!(body.contains("configuration_error"), "{body}");
        }
        assert_eq!(exchange(&mut conn, "/healthz", &[]).0, 503);
    })
    .await
    .unwrap();
    assert!(broken.instances_created() < 21, "the instance was reused");
    server.abort();
}

/// The WASI 0.3 target answers a request whose configuration another test's runtime used
/// first, while that runtime is not running: its reused instance is a task of the
/// harness's own runtime (`p3_tokio`), not of the test that started it. Before, the
/// second request was queued for an instance nobody polled and a CI run hung.
#[test]
fn the_p3_target_answers_while_the_test_that_started_its_instance_is_not_running() {
    use certgate_tests::{Target, WasmP3};
    let pins = format!("{};{}", alice().sha256_hex(), "ab".repeat(32));
    let request = get("/api/whoami").pins(&pins).header("X-ARR-ClientCert", encode::base64_der(&alice().der)).build();
    let first = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let answered = first.block_on(WasmP3.handle(&request));
    assert_eq!(answered.status, 200, "{}", String::from_utf8_lossy(&answered.body));
    // `first` is alive and idle, as a test that has moved on to other work: the instance
    // must not depend on it.
    let (sent, received) = std::sync::mpsc::channel();
    let thread = std::thread::spawn(move || {
        let second = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let _ = sent.send(second.block_on(WasmP3.handle(&request)).status);
    });
    let status = received.recv_timeout(std::time::Duration::from_secs(60));
    assert_eq!(status, Ok(200), "the second request was never answered");
    thread.join().unwrap();
    drop(first);
}
