//! The same per-request work inside certgate.wasm through wasmtime: a fresh instance per
//! request (pooling allocator, as Spin runs it), including instantiation, the guest's
//! configuration read and the response body; and certgate-p3.wasm on reused instances. Next to it, the raw-wasi hello component:
//! the floor any component pays. Run by scripts/bench.

use std::collections::BTreeMap;
use std::sync::Arc;

use bytes::Bytes;
use certgate_host::{Runtime, RuntimeOptions};
use certgate_testkit::{encode, Ca, KeyKind, LeafOptions};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use http_body_util::Full;

fn request(header: &str, value: &str) -> hyper::Request<Full<Bytes>> {
    hyper::Request::builder()
        .uri("http://bench.test/api/values")
        .header(header, value)
        .body(Full::new(Bytes::new()))
        .expect("request")
}

/// A request to /api/values with a chain case's headers.
fn case_request(headers: &[(String, Vec<u8>)]) -> hyper::Request<Full<Bytes>> {
    let mut builder = hyper::Request::builder().uri("http://bench.test/api/values");
    for (k, v) in headers {
        builder = builder.header(k.as_str(), v.as_slice());
    }
    builder.body(Full::new(Bytes::new())).expect("request")
}

/// A `default` store in Spin's SQLite schema at `path` with certgate's direct-layout marker
/// and `entries`, as certgate-kv leaves one, for the component to open.
fn spin_store(path: &std::path::Path, entries: &[(String, &[u8])]) -> certgate_host::KeyValueStores {
    let conn = rusqlite::Connection::open(path).expect("sqlite");
    conn.execute_batch(
        "CREATE TABLE spin_key_value (store TEXT NOT NULL, key TEXT NOT NULL, value BLOB NOT NULL, \
         PRIMARY KEY (store, key))",
    )
    .expect("schema");
    let marker = br#"{"format":"certgate-store","version":1,"layout":"direct"}"#;
    let marker = ("certgate/v1".to_string(), &marker[..]);
    for (key, value) in std::iter::once(&marker).chain(entries) {
        conn.execute("INSERT INTO spin_key_value VALUES ('default', ?1, ?2)", (key, value)).expect("row");
    }
    certgate_host::KeyValueStores::new()
        .with_store("default", certgate_host::StoreConfig::Sqlite(path.to_path_buf()))
        .expect("store")
        .allow(&["default"])
}

fn wasm(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("tokio");
    // certgate-p3 first: building it writes a library-only certgate.wasm, which the next build replaces.
    let p3_path = certgate_host::build::build_wasm("certgate-p3", "certgate_p3.wasm").expect("build certgate-p3");
    let certgate = Runtime::new(&certgate_host::build::build_component().expect("build"), &RuntimeOptions::default())
        .expect("compile certgate");
    let p3 = Runtime::new(&p3_path, &RuntimeOptions::default()).expect("compile certgate-p3");
    let ca = Ca::new("bench root");
    let kinds = [
        ("rsa2048", ca.issue(&LeafOptions::named("rsa").key(KeyKind::Rsa2048))),
        ("p256", ca.issue(&LeafOptions::named("p256"))),
        ("ed25519", ca.issue(&LeafOptions::named("ed").key(KeyKind::Ed25519))),
        ("large", ca.issue(&LeafOptions::named("large").large())),
    ];
    type Encoder = fn(&[u8]) -> String;
    let formats: [(&str, &str, &str, Encoder); 4] = [
        ("base64-der", "azure-app-service", "X-ARR-ClientCert", encode::base64_der),
        ("url-pem", "nginx", "X-SSL-Client-Cert", encode::url_pem_nginx),
        ("xfcc", "envoy", "X-Forwarded-Client-Cert", |d: &[u8]| encode::xfcc_element(d, &[], "CN=bench")),
        ("rfc9440", "rfc9440", "Client-Cert", encode::rfc9440),
    ];
    let mut group = c.benchmark_group("wasm-decision");
    for (format, platform, header, enc) in formats {
        for (kind, cert) in &kinds {
            let vars: BTreeMap<String, String> = [
                ("allowed_thumbprints".to_string(), cert.sha256_hex()),
                ("platform".to_string(), platform.to_string()),
            ]
            .into();
            let vars = Arc::new(vars);
            let value = enc(&cert.der);
            let probe = rt.block_on(certgate.call(request(header, &value), vars.clone())).expect("call");
            assert_eq!(probe.status, 200, "{format}/{kind}");
            group.bench_function(BenchmarkId::new(format, kind), |b| {
                b.iter(|| rt.block_on(certgate.call(request(header, &value), vars.clone())).expect("call"))
            });
        }
    }
    group.finish();

    // The trust-anchor path, the shapes the hostile review's fixes added work to, and the
    // worst headers within the limits, each next to the normal request.
    let mut chain = c.benchmark_group("wasm-chain");
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs() as i64;
    for case in certgate_testkit::chain_cases(now) {
        let vars = Arc::new(case.variables.into_iter().collect::<BTreeMap<_, _>>());
        let make = || case_request(&case.headers);
        let probe = rt.block_on(certgate.call(make(), vars.clone())).expect("call");
        assert_eq!(probe.status == 200, case.allowed, "{}: {}", case.name, probe.status);
        chain.bench_function(case.name, |b| b.iter(|| rt.block_on(certgate.call(make(), vars.clone())).expect("call")));
    }
    chain.finish();

    // The chain cache (`chain_cache_seconds`): the same requests with a store (SQLite in
    // Spin's schema, as `spin up` keeps it), validating the path on every request next to
    // reading it back from the store. A fresh instance per request, as Spin 3 serves, so
    // nothing is remembered between requests but what the store keeps.
    let mut cached = c.benchmark_group("wasm-chain-cache");
    let dir = tempfile::tempdir().expect("temp dir");
    let stores = spin_store(&dir.path().join("sqlite_key_value.db"), &[]);
    let with_store = certgate.clone().with_key_value(stores);
    let wanted = ["anchor-normal", "matrix-rsa2048-under-rsa2048", "matrix-rsa2048-under-p384-under-p256"];
    for case in certgate_testkit::chain_cases(now).into_iter().filter(|c| wanted.contains(&c.name)) {
        for (row, lifetime) in [("validated", None), ("cached", Some("3600"))] {
            let mut vars: BTreeMap<String, String> = case.variables.iter().cloned().collect();
            vars.insert("keyvalue_store".into(), "default".into());
            if let Some(seconds) = lifetime {
                vars.insert("chain_cache_seconds".into(), seconds.into());
            }
            let vars = Arc::new(vars);
            let make = || case_request(&case.headers);
            let probe = rt.block_on(with_store.call(make(), vars.clone())).expect("call");
            assert_eq!(probe.status, 200, "{} {row}: {}", case.name, probe.status);
            cached.bench_function(BenchmarkId::new(case.name, row), |b| {
                b.iter(|| rt.block_on(with_store.call(make(), vars.clone())).expect("call"))
            });
        }
    }
    cached.finish();

    // A store pin against a variable pin, a fresh instance each, no HTTP server around it:
    // what the store's three host calls (open, the marker, the entry) cost the component.
    let mut store = c.benchmark_group("wasm-store");
    let device = &kinds[1].1;
    let value = encode::base64_der(&device.der);
    let entry = (format!("certgate/v1/cert/{}", device.sha256_hex()), &br#"{"state":"pinned"}"#[..]);
    let pinned = spin_store(&dir.path().join("pinned.db"), &[entry]);
    let with_pin = certgate.clone().with_key_value(pinned);
    let rows: [(&str, &Runtime, BTreeMap<String, String>); 2] = [
        ("variable-pin", &certgate, BTreeMap::from([("allowed_thumbprints".to_string(), device.sha256_hex())])),
        ("store-pin", &with_pin, BTreeMap::from([("keyvalue_store".to_string(), "default".to_string())])),
    ];
    for (row, runtime, vars) in rows {
        let vars = Arc::new(vars);
        let probe = rt.block_on(runtime.call(request("X-ARR-ClientCert", &value), vars.clone())).expect("call");
        assert_eq!(probe.status, 200, "{row}");
        store.bench_function(row, |b| {
            b.iter(|| rt.block_on(runtime.call(request("X-ARR-ClientCert", &value), vars.clone())).expect("call"))
        });
    }
    store.finish();

    // certgate-p3.wasm on instances reused as Spin 4 reuses them (128 requests each): the
    // configuration is read once per instance and window, and a returning client's chain
    // signatures are remembered, so these rows are the steady state of a reused instance.
    let mut reused = c.benchmark_group("wasm-p3");
    let (p256_vars, p256_value) = {
        let cert = &kinds[1].1;
        let vars: BTreeMap<String, String> = [
            ("allowed_thumbprints".to_string(), cert.sha256_hex()),
            ("platform".to_string(), "azure-app-service".to_string()),
        ]
        .into();
        (Arc::new(vars), encode::base64_der(&cert.der))
    };
    let probe = rt.block_on(p3.call(request("X-ARR-ClientCert", &p256_value), p256_vars.clone())).expect("call");
    assert_eq!(probe.status, 200);
    reused.bench_function("base64-der/p256", |b| {
        b.iter(|| rt.block_on(p3.call(request("X-ARR-ClientCert", &p256_value), p256_vars.clone())).expect("call"))
    });
    for case in certgate_testkit::chain_cases(now).into_iter().filter(|c| c.name.starts_with("matrix-")) {
        let vars = Arc::new(case.variables.into_iter().collect::<BTreeMap<_, _>>());
        let make = || case_request(&case.headers);
        let probe = rt.block_on(p3.call(make(), vars.clone())).expect("call");
        assert_eq!(probe.status == 200, case.allowed, "{}: {}", case.name, probe.status);
        reused.bench_function(case.name, |b| b.iter(|| rt.block_on(p3.call(make(), vars.clone())).expect("call")));
    }
    reused.finish();

    let mut scale = c.benchmark_group("wasm-scale");
    let cert = &kinds[1].1;
    let value = encode::base64_der(&cert.der);
    for n in [1usize, 100, 1_000, 10_000] {
        let mut pins: Vec<String> = (0..n - 1).map(|i| format!("{:064x}", i + 1)).collect();
        pins.push(cert.sha256_hex());
        let vars = Arc::new(BTreeMap::from([("allowed_thumbprints".to_string(), pins.join(";"))]));
        scale.bench_function(BenchmarkId::new("pins", n), |b| {
            b.iter(|| rt.block_on(certgate.call(request("X-ARR-ClientCert", &value), vars.clone())).expect("call"))
        });
    }
    scale.finish();

    let hello_path = certgate_host::build::workspace_root().join("target/wasm32-wasip2/release/hello_wasi.wasm");
    let hello_path = std::env::var_os("CARGO_TARGET_DIR")
        .map(|d| std::path::PathBuf::from(d).join("wasm32-wasip2/release/hello_wasi.wasm"))
        .unwrap_or(hello_path);
    if let Ok(hello) = Runtime::new(&hello_path, &RuntimeOptions::default()) {
        let mut floor = c.benchmark_group("wasm-floor");
        floor.bench_function("hello-wasi", |b| {
            b.iter(|| {
                rt.block_on(hello.call(request("X-ARR-ClientCert", &value), Arc::new(BTreeMap::new()))).expect("call")
            })
        });
        floor.finish();
    }
}

criterion_group!(benches, wasm);
criterion_main!(benches);
