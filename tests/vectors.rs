//! The published test vectors (tests/vectors/, made by `cargo run -p certgate-testkit
//! --bin make-vectors -- tests/vectors`): the format and reason matrix, run once, on every
//! target (the native library and certgate.wasm in wasmtime). Each must give the status and
//! reason the manifest states; beyond what the manifest states, both must answer with the
//! same headers, the same body bytes and the same decision log line.

use std::path::PathBuf;

use certgate_tests::{reason_of, targets, Request, Response};
use serde_json::Value;

fn dir() -> PathBuf {
    certgate_tests::root().join("tests/vectors")
}

struct Vector {
    name: String,
    request: Request,
    status: u16,
    reason: String,
}

/// The published manifest, parsed.
fn manifest() -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir().join("manifest.json")).unwrap()).unwrap()
}

/// Every vector as the request its description says: GET /api/values with its headers
/// (values from their files) and variables.
fn vectors() -> Vec<Vector> {
    let manifest = manifest();
    manifest["vectors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| Vector {
            name: v["name"].as_str().unwrap().to_string(),
            request: Request {
                method: "GET".into(),
                path: "/api/values".into(),
                vars: v["variables"]
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
            },
            status: v["expect"]["status"].as_u64().unwrap() as u16,
            reason: v["expect"]["reason"].as_str().unwrap().to_string(),
        })
        .collect()
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
    let script = std::fs::read_to_string(certgate_tests::root().join("fuzz/make-seeds.py")).unwrap();
    let line = script.lines().find(|l| l.starts_with("FORMATS = ")).unwrap();
    let names: Vec<String> = serde_json::from_str(line.trim_start_matches("FORMATS = ")).unwrap();
    let ours: Vec<&str> = certgate::Format::NAMES.iter().map(|(n, _)| *n).collect();
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

/// The response's form: the sample document for a 200, a problem+json document (status,
/// reason, title, detail, type) for a refusal, never cached.
fn form(response: &Response) -> Result<(), String> {
    if response.header("cache-control") != Some("no-store") {
        return Err(format!("cache-control {:?}", response.header("cache-control")));
    }
    let body = response.json().map_err(|e| format!("body is not JSON ({e})"))?;
    let (content_type, ok) = if response.status == 200 {
        ("application/json", body == serde_json::json!(["value1", "value2"]))
    } else {
        let strings = ["reason", "title", "detail", "type"].iter().all(|k| body[k].is_string());
        ("application/problem+json", strings && body["status"] == response.status)
    };
    if response.header("content-type") != Some(content_type) || !ok {
        return Err(format!("{:?}: {body}", response.header("content-type")));
    }
    Ok(())
}

/// The decision line without its timestamp (the targets read the clock apart).
fn decision_without_time(response: &Response) -> Option<Value> {
    let mut line = response.log_lines().into_iter().find(|l| l["event"] == "decision")?;
    line.as_object_mut()?.remove("ts");
    Some(line)
}

#[tokio::test]
async fn every_vector_on_every_target() {
    let vectors = vectors();
    assert!(!vectors.is_empty());
    let mut failures = Vec::new();
    for v in &vectors {
        let mut answers = Vec::new();
        for target in targets() {
            let response = target.handle(&v.request).await;
            let got = (response.status, reason_of(response.status, &response.body));
            if got != (v.status, v.reason.clone()) {
                let name = target.name();
                failures
                    .push(format!("{name}, {}: expected {} {}, got {} {}", v.name, v.status, v.reason, got.0, got.1));
            }
            if let Err(e) = form(&response) {
                failures.push(format!("{}, {}: {e}", target.name(), v.name));
            }
            if decision_without_time(&response).is_none() {
                failures.push(format!("{}, {}: no decision line: {}", target.name(), v.name, response.stderr));
            }
            answers.push(response);
        }
        let (native, wasm) = (&answers[0], &answers[1]);
        for header in ["content-type", "cache-control", "x-content-type-options"] {
            if native.header(header) != wasm.header(header) {
                failures.push(format!("{}: {header} differs: {native:?} / {wasm:?}", v.name));
            }
        }
        if native.body != wasm.body {
            failures.push(format!(
                "{}: bodies differ: native {} / wasm {}",
                v.name,
                String::from_utf8_lossy(&native.body),
                String::from_utf8_lossy(&wasm.body)
            ));
        }
        if decision_without_time(native) != decision_without_time(wasm) {
            failures.push(format!("{}: decision lines differ: {} / {}", v.name, native.stderr, wasm.stderr));
        }
    }
    assert!(failures.is_empty(), "{} of {} vectors:\n{}", failures.len(), vectors.len(), failures.join("\n"));
}
