//! The whole decision, from a request and a configuration to a response. Input (text):
//! `METHOD PATH` line, header lines `Name: value`, an empty line, then `name=value`
//! variable lines; `\x1f` inside a value stands for a line break.
#![no_main]

use std::collections::HashMap;

use certgate::service::handle;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (head, vars_text) = text.split_once("\n\n").unwrap_or((text, ""));
    let mut lines = head.lines();
    let request_line = lines.next().unwrap_or("GET /");
    let (method, path) = request_line.split_once(' ').unwrap_or(("GET", request_line));
    let headers: Vec<(String, Vec<u8>)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().replace('\x1f', "\n").into_bytes()))
        .collect();
    let vars: HashMap<String, String> = vars_text
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.replace('\x1f', "\n")))
        .collect();
    let outcome = handle(method, path, &headers, &vars, 1_800_000_000);
    let status = outcome.response.status;
    assert!(matches!(status, 200 | 403 | 404 | 405 | 500 | 503), "status {status}");
    if method != "HEAD" {
        let body: serde_json::Value = serde_json::from_slice(&outcome.response.body).expect("JSON body");
        if status != 200 {
            assert!(body["reason"].is_string());
        }
    }
    // Without any configuration nothing is ever allowed.
    if vars.is_empty() {
        assert_ne!(status, 200);
    }
});
