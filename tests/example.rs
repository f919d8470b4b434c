//! examples/inventory, someone else's API built on `certgate::Gate`: built for
//! wasm32-wasip2 and driven through the local host with its own spin.toml, as certgate is.

use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use certgate_host::runtime::Collected;
use certgate_host::{build, Runtime, RuntimeOptions, Variables};
use certgate_testkit::{encode, Ca, Issued, LeafOptions};
use http_body_util::Full;
use serde_json::json;

struct Fixture {
    runtime: Runtime,
    client: Issued,
    stranger: Issued,
    config: certgate_host::runtime::ConfigValues,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        // Built by tests/build.rs, next to certgate.wasm.
        let wasm = std::path::PathBuf::from(env!("CERTGATE_EXAMPLE_WASM"));
        let runtime = Runtime::new(&wasm, &RuntimeOptions { pooling: false, max_instances: 4 }).expect("compile it");
        let ca = Ca::new("Inventory Test CA");
        let client = ca.issue(&LeafOptions::named("warehouse-robot-7").dns("robot7.warehouse.example"));
        let stranger = ca.issue(&LeafOptions::named("stranger"));
        let manifest = build::workspace_root().join("examples/inventory/spin.toml");
        let mut variables = Variables::from_manifest(&manifest, "inventory").expect("read its spin.toml");
        assert_eq!(variables.missing_required(), ["allowed_thumbprints"]);
        variables.provide("allowed_thumbprints", &client.sha256_hex()).unwrap();
        let config = Arc::new(variables.resolve().expect("resolve its variables"));
        Fixture { runtime, client, stranger, config }
    })
}

/// GET `path`, forwarding `certificate` as nginx's `$ssl_client_escaped_cert` would.
async fn get(path: &str, certificate: Option<&Issued>) -> Collected {
    let f = fixture();
    let mut request = hyper::Request::builder().uri(format!("http://inventory.test{path}"));
    if let Some(c) = certificate {
        request = request.header("X-Client-Cert", encode::url_pem_nginx(&c.der));
    }
    f.runtime.call(request.body(Full::new(Bytes::new())).unwrap(), f.config.clone()).await.expect("a response")
}

fn body(r: &Collected) -> serde_json::Value {
    assert_eq!(r.header("content-type"), Some("application/json"), "{r:?}");
    r.json().expect("JSON")
}

#[tokio::test]
async fn an_allowed_client_reads_the_inventory_and_one_item() {
    let client = &fixture().client;
    let all = get("/inventory", Some(client)).await;
    assert_eq!(all.status, 200);
    let items = body(&all);
    assert_eq!(items.as_array().map(Vec::len), Some(3));
    assert_eq!(items[0], json!({"id": 1, "name": "bolt M6", "quantity": 1200}));

    let one = get("/inventory/2", Some(client)).await;
    assert_eq!((one.status, body(&one)), (200, json!({"id": 2, "name": "washer M6", "quantity": 800})));
    let none = get("/inventory/9", Some(client)).await;
    assert_eq!((none.status, body(&none)), (404, json!({"error": "no_such_item"})));
}

#[tokio::test]
async fn me_reports_the_identity_certgate_established() {
    let client = &fixture().client;
    let me = get("/me", Some(client)).await;
    assert_eq!(me.status, 200);
    assert_eq!(
        body(&me),
        json!({
            "subject": "CN=warehouse-robot-7",
            "dns_names": ["robot7.warehouse.example"],
            "sha256": client.sha256_hex(),
            "trusted_by": "pin 1 in allowed_thumbprints",
        })
    );
}

#[tokio::test]
async fn refusals_carry_certgate_reasons_and_log_the_detail() {
    let stranger = get("/inventory", Some(&fixture().stranger)).await;
    assert_eq!(stranger.status, 403);
    let refused = body(&stranger);
    assert_eq!(refused["error"], "certificate_not_allowed");
    assert_eq!(refused["detail"], "the client certificate is not on the allow list");
    // The operator's detail names the stranger's thumbprint; the client's body does not.
    assert!(stranger.stderr.contains(&fixture().stranger.sha256_hex()), "{}", stranger.stderr);
    assert!(!String::from_utf8_lossy(&stranger.body).contains(&fixture().stranger.sha256_hex()));

    let missing = get("/me", None).await;
    assert_eq!((missing.status, body(&missing)["error"].clone()), (403, json!("certificate_missing")));
}

#[test]
fn the_example_exports_its_own_handler_and_reads_spin_variables() {
    let runtime = &fixture().runtime;
    assert_eq!(runtime.exports(), ["wasi:http/incoming-handler@0.2.0"]);
    let imports = runtime.imports();
    assert!(imports.iter().any(|i| i == "fermyon:spin/variables@2.0.0"), "{imports:?}");
    assert!(!imports.iter().any(|i| i.starts_with("wasi:config/")), "{imports:?}");
}
