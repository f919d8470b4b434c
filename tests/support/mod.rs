//! Shared set-up for the wasmtime-based tests: build `certgate.wasm` once, compile it
//! once per test binary, and send requests to a fresh instance each, as Spin does.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use certgate_host::runtime::Collected;
use certgate_host::{Runtime, RuntimeOptions};
use http_body_util::Full;

pub fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        let path = certgate_host::build::build_component().expect("build certgate.wasm");
        Runtime::new(&path, &RuntimeOptions { pooling: true, max_instances: 16 }).expect("compile certgate.wasm")
    })
}

/// A request under construction.
pub struct Req {
    method: &'static str,
    path: String,
    headers: Vec<(String, Vec<u8>)>,
    vars: BTreeMap<String, String>,
}

pub fn get(path: &str) -> Req {
    request("GET", path)
}

pub fn request(method: &'static str, path: &str) -> Req {
    Req { method, path: path.into(), headers: vec![], vars: BTreeMap::new() }
}

impl Req {
    pub fn header(mut self, name: &str, value: impl Into<Vec<u8>>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    pub fn var(mut self, name: &str, value: &str) -> Self {
        self.vars.insert(name.into(), value.into());
        self
    }

    pub fn pins(self, pins: &str) -> Self {
        self.var("allowed_thumbprints", pins)
    }

    pub async fn send(self) -> Collected {
        let mut builder =
            hyper::Request::builder().method(self.method).uri(format!("http://certgate.test{}", self.path));
        for (name, value) in &self.headers {
            builder =
                builder.header(name.as_str(), hyper::header::HeaderValue::from_bytes(value).expect("header value"));
        }
        let request = builder.body(Full::new(Bytes::new())).expect("request");
        runtime().call(request, Arc::new(self.vars)).await.expect("the component answered without trapping")
    }
}

/// Assert a problem+json refusal with a reason, and return its body.
pub fn assert_problem(response: &Collected, status: u16, reason: &str) -> serde_json::Value {
    assert_eq!(response.status, status, "body: {}", String::from_utf8_lossy(&response.body));
    assert_eq!(response.header("content-type"), Some("application/problem+json"));
    assert_eq!(response.header("cache-control"), Some("no-store"));
    let body = response.json().expect("problem body is JSON");
    assert_eq!(body["reason"], reason, "body: {body}");
    assert_eq!(body["status"], status);
    assert!(body["title"].is_string() && body["detail"].is_string() && body["type"].is_string());
    body
}

/// The single decision log line of a response.
pub fn decision_line(response: &Collected) -> serde_json::Value {
    let lines: Vec<_> = response.log_lines().into_iter().filter(|l| l["event"] == "decision").collect();
    assert_eq!(lines.len(), 1, "stderr: {}", response.stderr);
    lines.into_iter().next().unwrap_or_default()
}
