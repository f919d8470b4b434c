//! certgate-standalone.wasm: certgate.wasm composed (`wac plug`) with the config-env
//! adapter, so it imports no `wasi:config` and runs on any wasi:http host, configured by
//! environment variables only (as `wasmtime serve --env allowed_thumbprints=...`).

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use certgate_host::{Runtime, RuntimeOptions};
use certgate_testkit::{encode, Ca, Issued, LeafOptions};
use http_body_util::Full;

fn standalone() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        let path = certgate_host::build::build_standalone().expect("compose certgate-standalone.wasm");
        Runtime::new(&path, &RuntimeOptions { pooling: true, max_instances: 8 }).expect("compile")
    })
}

fn alice() -> &'static Issued {
    static ALICE: OnceLock<Issued> = OnceLock::new();
    ALICE.get_or_init(|| Ca::new("standalone CA").issue(&LeafOptions::named("alice")))
}

async fn get(env: &[(&str, String)], path: &str, header: Option<(&str, String)>) -> certgate_host::runtime::Collected {
    let runtime = standalone().clone().with_env(env.iter().map(|(k, v)| (k.to_string(), v.clone())).collect());
    let mut request = hyper::Request::builder().uri(format!("http://standalone.test{path}"));
    if let Some((name, value)) = header {
        request = request.header(name, value);
    }
    let request = request.body(Full::new(Bytes::new())).unwrap();
    // The draft config store the test host offers is empty: only the environment counts.
    runtime.call(request, Arc::new(BTreeMap::new())).await.expect("no trap")
}

#[test]
fn imports_no_wasi_config() {
    let imports = standalone().imports();
    assert!(imports.iter().all(|i| !i.starts_with("wasi:config")), "{imports:?}");
    assert!(imports.iter().all(|i| i.starts_with("wasi:")), "{imports:?}");
    assert!(standalone().exports().iter().any(|e| e.starts_with("wasi:http/incoming-handler@0.2.")));
}

#[tokio::test]
async fn configured_by_environment_variables_only() {
    let pin = alice().sha256_hex();
    let cert = encode::base64_der(&alice().der);
    let ok =
        get(&[("allowed_thumbprints", pin.clone())], "/api/whoami", Some(("X-ARR-ClientCert", cert.clone()))).await;
    assert_eq!(ok.status, 200, "{}", String::from_utf8_lossy(&ok.body));
    assert_eq!(ok.json().unwrap()["thumbprint_sha256"], pin);

    // The CERTGATE_<NAME> spelling works too, and presets apply.
    let env = [("CERTGATE_ALLOWED_THUMBPRINTS", pin.clone()), ("CERTGATE_PLATFORM", "nginx".to_string())];
    let nginx = get(&env, "/api/values", Some(("X-SSL-Client-Cert", encode::url_pem_nginx(&alice().der)))).await;
    assert_eq!(nginx.status, 200, "{}", String::from_utf8_lossy(&nginx.body));

    // Without the variable: fail closed.
    let none = get(&[], "/api/values", Some(("X-ARR-ClientCert", cert))).await;
    assert_eq!(none.status, 500);
    assert_eq!(none.json().unwrap()["reason"], "configuration_error");
    let health = get(&[], "/healthz", None).await;
    assert_eq!(health.status, 503);
    let other = get(
        &[("allowed_thumbprints", "ab".repeat(32))],
        "/api/values",
        Some(("X-ARR-ClientCert", encode::base64_der(&alice().der))),
    )
    .await;
    assert_eq!(other.json().unwrap()["reason"], "certificate_not_allowed");
}
