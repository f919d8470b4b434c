//! `certgate-p3.wasm`: certgate as a WASI 0.3 HTTP component
//! (`wasi:http/handler@0.3.0-rc-2026-03-15`, spin-sdk 6) for Spin 4.0 and later.
//!
//! The decision is the library's own ([`certgate::service::respond`]); what differs from
//! `certgate.wasm` is the instance's life. Spin 4 keeps a WASI 0.3 instance for many
//! requests (at most 128, at most 16 at once, dropped after 1 s idle), so the [`Gate`] is
//! built once and kept: configuration is read, parsed and checked once per instance, not
//! once per request. A kept configuration is used for at most `config_refresh_seconds`
//! (default 10; 0 reads it for every request), then read again, so a changed variable is
//! seen within that window, and sooner whenever the host starts a new instance.
//!
//! A configuration that does not load is never kept: every request reads it again, is
//! refused with `configuration_error` while it stays broken, and is served as soon as it
//! is fixed.
//!
//! Only for `wasm32-wasip2`: on any other target this crate is empty.
#![cfg(target_arch = "wasm32")]

use std::cell::RefCell;

use certgate::service::{self, Outcome};
use certgate::{Gate, KeptGate, VariableSource};
use spin_sdk::http::IntoResponse;
use spin_sdk::wasip3::http::types::{ErrorCode, Method, Request, Response};

wit_bindgen::generate!({
    world: "certgate",
    path: "../wit",
    generate_all,
});

use wasi::config::store;

/// Spin variables through `wasi:config/store`, one `get-all` per configuration read,
/// falling back to one `get` per name if the host refuses `get-all` (as `certgate.wasm`).
#[derive(Default)]
struct WasiConfig {
    all: std::cell::OnceCell<Result<std::collections::HashMap<String, String>, store::Error>>,
}

impl VariableSource for WasiConfig {
    fn get(&self, name: &str) -> Result<Option<String>, String> {
        match self.all.get_or_init(|| store::get_all().map(|pairs| pairs.into_iter().collect())) {
            Ok(all) => Ok(all.get(name).cloned()),
            Err(_) => store::get(name).map_err(|e| match e {
                store::Error::Upstream(m) => format!("upstream: {m}"),
                store::Error::Io(m) => format!("io: {m}"),
            }),
        }
    }
}

thread_local! {
    /// The configuration this instance read, and when.
    static KEPT: RefCell<KeptGate> = RefCell::new(KeptGate::default());
}

fn unix_now() -> i64 {
    match std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(_) => 0,
    }
}

fn method_name(method: Method) -> String {
    match method {
        Method::Get => "GET".into(),
        Method::Head => "HEAD".into(),
        Method::Post => "POST".into(),
        Method::Put => "PUT".into(),
        Method::Delete => "DELETE".into(),
        Method::Connect => "CONNECT".into(),
        Method::Options => "OPTIONS".into(),
        Method::Trace => "TRACE".into(),
        Method::Patch => "PATCH".into(),
        Method::Other(m) => m,
    }
}

/// Log lines go to stderr in one write; a line is never split between writes.
fn write_logs(lines: impl IntoIterator<Item = String>) {
    use std::io::Write;
    let mut text = String::new();
    for line in lines {
        text.push_str(&line);
        text.push('\n');
    }
    if !text.is_empty() {
        let _ = std::io::stderr().write_all(text.as_bytes());
    }
}

/// The response: status, certgate's headers, `content-length`, and the whole body at once.
fn into_http(outcome: Outcome) -> Result<Response, ErrorCode> {
    let mut builder = http::Response::builder().status(outcome.response.status);
    for (name, value) in &outcome.response.headers {
        builder = builder.header(name.to_string(), value.as_str());
    }
    if !outcome.response.body.is_empty() {
        builder = builder.header("content-length", outcome.response.body.len());
    }
    // Names and values are fixed ASCII built by `service`; a refusal here would be a bug,
    // and is answered as the host's internal error rather than a panic.
    let response = builder
        .body(http_body_util::Full::new(bytes::Bytes::from(outcome.response.body)))
        .map_err(|e| ErrorCode::InternalError(Some(e.to_string())))?;
    response.into_response().map_err(|e| ErrorCode::InternalError(Some(e.to_string())))
}

struct Certgate;

spin_sdk::wasip3::http::service::export!(Certgate);

impl spin_sdk::wasip3::exports::http::handler::Guest for Certgate {
    async fn handle(request: Request) -> Result<Response, ErrorCode> {
        let now = unix_now();
        let method = method_name(request.get_method());
        let path = request.get_path_with_query().unwrap_or_default();
        // Every header line, in order, with one host call.
        let headers: Vec<(String, Vec<u8>)> = request.get_headers().copy_all();
        let gate = KEPT.with(|kept| kept.borrow_mut().at(now, || Gate::from_source(&WasiConfig::default())));
        let outcome = service::respond(&gate, &method, &path, &headers, now);
        write_logs(outcome.logs.iter().map(|line| line.render()));
        into_http(outcome).inspect_err(|e| {
            let line = certgate::internals::LogLine::new("error", "response_write_failed", now)
                .with_text("error", &format!("{e:?}"));
            write_logs(std::iter::once(line.render()));
        })
    }
}
