//! The published test vectors (tests/vectors/, made by `cargo run -p certgate-testkit
//! --bin make-vectors -- tests/vectors`), each run against the native code and against
//! certgate.wasm in wasmtime: both must give the expected status and reason.

mod support;

use std::collections::HashMap;
use std::path::PathBuf;

use serde_json::Value;

fn dir() -> PathBuf {
    certgate_host::build::workspace_root().join("tests/vectors")
}

struct Vector {
    name: String,
    variables: Vec<(String, String)>,
    headers: Vec<(String, Vec<u8>)>,
    status: u16,
    reason: String,
}

/// The published manifest, parsed.
fn manifest() -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir().join("manifest.json")).unwrap()).unwrap()
}

fn vectors() -> Vec<Vector> {
    let manifest = manifest();
    manifest["vectors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| Vector {
            name: v["name"].as_str().unwrap().to_string(),
            variables: v["variables"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
                .collect(),
            headers: v["headers"]
                .as_array()
                .unwrap()
                .iter()
                .map(|h| {
                    let value = std::fs::read(dir().join(h["value_file"].as_str().unwrap())).unwrap();
                    (h["name"].as_str().unwrap().to_string(), value)
                })
                .collect(),
            status: v["expect"]["status"].as_u64().unwrap() as u16,
            reason: v["expect"]["reason"].as_str().unwrap().to_string(),
        })
        .collect()
}

fn reason_of(status: u16, body: &[u8]) -> String {
    if status == 200 {
        return String::new();
    }
    serde_json::from_slice::<Value>(body).map(|b| b["reason"].as_str().unwrap_or("?").to_string()).unwrap_or_default()
}

#[test]
fn manifest_covers_every_category_and_format() {
    let manifest = manifest();
    let all = manifest["vectors"].as_array().unwrap();
    assert!(all.len() >= 70, "{} vectors", all.len());
    for category in [
        "valid",
        "forged",
        "duplicated",
        "truncated",
        "oversized",
        "padded",
        "double-encoded",
        "wrong-format",
        "expired",
        "not-yet-valid",
        "wrong-eku",
        "multi-element-xfcc",
    ] {
        assert!(all.iter().any(|v| v["category"] == category), "no {category} vector");
    }
    for format in ["base64-der", "hex-der", "pem", "url-pem", "rfc9440", "xfcc", "xfcc-json"] {
        for category in [
            "forged",
            "duplicated",
            "truncated",
            "oversized",
            "double-encoded",
            "expired",
            "not-yet-valid",
            "wrong-eku",
        ] {
            assert!(
                all.iter().any(|v| v["category"] == category && v["format"] == format),
                "no {category} vector in {format}"
            );
        }
    }
}

#[test]
fn fuzz_seeds_name_formats_in_certgates_order() {
    let script = std::fs::read_to_string(certgate_host::build::workspace_root().join("fuzz/make-seeds.py")).unwrap();
    let line = script.lines().find(|l| l.starts_with("FORMATS = ")).unwrap();
    let names: Vec<String> = serde_json::from_str(line.trim_start_matches("FORMATS = ")).unwrap();
    let ours: Vec<&str> = certgate::extract::Format::NAMES.iter().map(|(n, _)| *n).collect();
    assert_eq!(names, ours);
}

#[test]
fn every_preset_has_its_vectors() {
    let manifest = manifest();
    let all = manifest["vectors"].as_array().unwrap();
    for preset in certgate::platform::PRESETS {
        for category in ["valid", "forged", "truncated", "double-encoded", "wrong-format", "duplicated"] {
            assert!(
                all.iter().any(|v| v["category"] == category && v["variables"]["platform"] == preset.name),
                "no {category} vector for preset {}",
                preset.name
            );
        }
    }
}

#[test]
fn every_vector_natively() {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let mut failures = Vec::new();
    for v in vectors() {
        let vars: HashMap<String, String> = v.variables.iter().cloned().collect();
        let outcome = certgate::service::handle("GET", "/api/values", &v.headers, &vars, now);
        let got = (outcome.response.status, reason_of(outcome.response.status, &outcome.response.body));
        if got != (v.status, v.reason.clone()) {
            failures.push(format!("{}: expected {} {}, got {} {}", v.name, v.status, v.reason, got.0, got.1));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn every_vector_in_wasmtime() {
    let mut failures = Vec::new();
    for v in vectors() {
        let mut req = support::get("/api/values");
        for (k, value) in &v.variables {
            req = req.var(k, value);
        }
        for (name, value) in &v.headers {
            req = req.header(name, value.clone());
        }
        let response = req.send().await;
        let got = (response.status, reason_of(response.status, &response.body));
        if got != (v.status, v.reason.clone()) {
            failures.push(format!("{}: expected {} {}, got {} {}", v.name, v.status, v.reason, got.0, got.1));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
