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

/// One request: variables, headers and the reason it must get ("" for 200).
pub struct Case {
    pub name: String,
    pub vars: Vec<(String, String)>,
    pub headers: Vec<(String, Vec<u8>)>,
    pub want: &'static str,
}

pub fn case(name: &str, vars: &[(&str, &str)], headers: &[(&str, &str)], want: &'static str) -> Case {
    Case {
        name: name.into(),
        vars: vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        headers: headers.iter().map(|(k, v)| (k.to_ascii_lowercase(), v.as_bytes().to_vec())).collect(),
        want,
    }
}

/// The reason code of a response ("" for 200).
pub fn reason_of(status: u16, body: &[u8]) -> String {
    if status == 200 {
        return String::new();
    }
    let body: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    body["reason"].as_str().unwrap_or("?").to_string()
}

/// Run every case natively (`certgate::service::handle`) and through the component: both
/// must give the stated reason, and the component must answer with a decision, not a trap.
pub async fn check(cases: Vec<Case>) {
    let now = certgate_testkit::OffsetDateTime::now_utc().unix_timestamp();
    for c in &cases {
        let vars: std::collections::HashMap<String, String> = c.vars.iter().cloned().collect();
        let native = certgate::service::handle("GET", "/api/whoami", &c.headers, &vars, now);
        let got = reason_of(native.response.status, &native.response.body);
        assert_eq!(got, c.want, "native, {}: {}", c.name, String::from_utf8_lossy(&native.response.body));
        let mut req = get("/api/whoami");
        for (k, v) in &c.headers {
            req = req.header(k, v.clone());
        }
        for (k, v) in &c.vars {
            req = req.var(k, v);
        }
        let wasm = req.send().await;
        let got = reason_of(wasm.status, &wasm.body);
        assert_eq!(got, c.want, "wasm, {}: {}", c.name, String::from_utf8_lossy(&wasm.body));
        // Answered with a decision, not a trap (a trap writes no decision line).
        assert!(wasm.stderr.contains("\"event\":\"decision\""), "{}: {}", c.name, wasm.stderr);
    }
}

/// `X509Certificate.GetRawCertDataString()` as .NET implements it (what the ASP.NET docs'
/// sample client sends): every byte as two upper-case hex digits, no separators. Written
/// out here rather than through the `hex` crate, so the tests do not share an encoder with
/// anything they check.
pub fn get_raw_cert_data_string(der: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
    der.iter().flat_map(|b| [DIGITS[usize::from(b >> 4)] as char, DIGITS[usize::from(b & 15)] as char]).collect()
}
