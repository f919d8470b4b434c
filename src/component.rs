//! The thin `wasi:http` glue: read the request through spin-sdk's low-level
//! `IncomingRequest` (every header line, unlike the map-based convenience `Request`),
//! read configuration through `wasi:config/store`, hand both to [`crate::gateway`] (which
//! answers through [`crate::service`], or with `service = gateway` says what to forward,
//! which [`forward`] sends), and write the response and log lines.

use spin_sdk::http::{Fields, IncomingRequest, OutgoingBody, OutgoingResponse, ResponseOutparam};

mod forward;

use crate::config::VariableSource;
use crate::gate::Gate;
use crate::gateway::{self, Handling};
use crate::log::LogLine;
use crate::service::HttpResponse;

wit_bindgen::generate!({
    world: "certgate",
    path: "wit",
    generate_all,
});

use self::wasi::config::store;
use self::wasi::keyvalue::store as keyvalue;

/// Spin variables, through the standard `wasi:config/store` interface, fetched with one
/// `get-all` per request: one host call instead of one per variable (on Spin each call is
/// an async host call with its own tracing span; an undeclared name is an error path). If
/// the host refuses `get-all`, each variable is asked for on its own, as before; if that
/// fails too, the configuration does not load and every request is refused.
/// Nothing is fetched until the first read (every route, `/healthz` included, reads the
/// configuration).
#[derive(Default)]
struct WasiConfig {
    all: std::cell::OnceCell<Result<std::collections::HashMap<String, String>, store::Error>>,
}

fn describe(e: store::Error) -> String {
    match e {
        store::Error::Upstream(m) => format!("upstream: {m}"),
        store::Error::Io(m) => format!("io: {m}"),
    }
}

impl VariableSource for WasiConfig {
    fn get(&self, name: &str) -> Result<Option<String>, String> {
        match self.all.get_or_init(|| store::get_all().map(|pairs| pairs.into_iter().collect())) {
            Ok(all) => Ok(all.get(name).cloned()),
            Err(_) => store::get(name).map_err(describe),
        }
    }
}

/// The key-value store `keyvalue_store` names, through the standard `wasi:keyvalue/store`:
/// opened on the first read (a configuration without a store never opens one), and a
/// failure to open it is the answer to every read.
struct WasiKeyValue {
    label: Option<String>,
    bucket: std::cell::OnceCell<Result<keyvalue::Bucket, String>>,
}

fn describe_keyvalue(e: keyvalue::Error) -> String {
    match e {
        keyvalue::Error::NoSuchStore => "no such store".into(),
        keyvalue::Error::AccessDenied => "access denied (is the store in the component's key_value_stores?)".into(),
        keyvalue::Error::Other(m) => m,
    }
}

impl crate::store::KeyValue for WasiKeyValue {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, String> {
        let Some(label) = &self.label else {
            return Err("no key-value store is configured".into());
        };
        match self.bucket.get_or_init(|| keyvalue::open(label).map_err(describe_keyvalue)) {
            Ok(bucket) => bucket.get(key).map_err(describe_keyvalue),
            Err(e) => Err(format!("opening store {label:?}: {e}")),
        }
    }

    fn set(&self, key: &str, value: &[u8]) -> Result<(), String> {
        let Some(label) = &self.label else {
            return Err("no key-value store is configured".into());
        };
        match self.bucket.get_or_init(|| keyvalue::open(label).map_err(describe_keyvalue)) {
            Ok(bucket) => bucket.set(key, value).map_err(describe_keyvalue),
            Err(e) => Err(format!("opening store {label:?}: {e}")),
        }
    }
}

fn unix_now() -> i64 {
    match std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(_) => 0,
    }
}

/// Log lines go to stderr in one write (each write is a host call and, on most hosts, a
/// system call); a line is never split between writes.
fn write_logs(lines: impl Iterator<Item = String>) {
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

#[spin_sdk::http_component]
async fn handle(request: IncomingRequest, response_out: ResponseOutparam) {
    // spin-sdk 5.2's `Display` for `Method` writes the upper-case name, or an extension
    // method as received.
    let method = request.method().to_string();
    let path = request.path_with_query().unwrap_or_default();
    let headers = request.headers().entries();
    let now = unix_now();
    let gate = Gate::from_source(&WasiConfig::default());
    let authority = request.authority();
    let received = gateway::Request {
        method: &method,
        path_with_query: &path,
        authority: authority.as_deref(),
        headers: &headers,
    };
    let kv = WasiKeyValue {
        label: gate.as_ref().ok().and_then(|g| g.store_label()).map(str::to_string),
        bucket: std::cell::OnceCell::new(),
    };
    match gateway::handle(&gate, &received, now, &kv) {
        Handling::Answer(outcome) => {
            write_logs(outcome.logs.iter().map(|l| l.render()));
            let mut failures = Vec::new();
            respond_with(response_out, &outcome.response, &mut failures);
            write_logs(failures.iter().map(|l| l.render()));
        }
        Handling::Forward(plan) => {
            let logs = forward::forward(request, response_out, &plan);
            write_logs(logs.iter().map(|l| l.render()));
        }
    }
}

/// Write `response` (a complete body); a failure to write it is logged to `logs`.
fn respond_with(response_out: ResponseOutparam, response: &HttpResponse, logs: &mut Vec<LogLine>) {
    let response_headers = Fields::new();
    for (name, value) in &response.headers {
        // Names and values are fixed ASCII built by `service`; a refusal here would be a
        // bug, and the response still goes out with its status.
        let _ = response_headers.append(&name.to_string(), &value.as_bytes().to_vec());
    }
    // The length up front: the host then frames the body without chunked encoding.
    if !response.body.is_empty() {
        let _ = response_headers.append(&"content-length".to_string(), &response.body.len().to_string().into_bytes());
    }
    let outgoing = OutgoingResponse::new(response_headers);
    let _ = outgoing.set_status_code(response.status);
    if let Err(e) = send(response_out, outgoing, &response.body) {
        logs.push(LogLine::new("error", "response_write_failed", unix_now()).with_text("error", &e));
    }
}

/// Send a response whose body is already complete (a few hundred bytes).
///
/// A body that fits one `blocking-write-and-flush` (4096 bytes, every certgate document in
/// practice) is written and finished *before* the response is handed to the host, so the
/// host has headers and body together and writes them at once. Handing the headers over
/// first made Spin write them alone; on a keep-alive connection the small body write then
/// waited for the client's delayed ACK (Nagle's algorithm: Spin sets no `TCP_NODELAY`),
/// about 40 ms per response. Measured on Spin 4.0.2 with the repository's spin.toml and
/// `SPIN_VARIABLE_*`, wrk -t1 -c8 keep-alive: 410 requests/s before, 2,480 after.
/// A larger body goes the streaming way (headers first), which cannot block on a host
/// that drains the body only once it has the response.
fn send(response_out: ResponseOutparam, response: OutgoingResponse, body: &[u8]) -> Result<(), String> {
    let outgoing = response.body().map_err(|()| "the response body was already taken".to_string())?;
    if body.len() <= 4096 {
        write_body(&outgoing, body)?;
        OutgoingBody::finish(outgoing, None).map_err(|e| format!("{e:?}"))?;
        response_out.set(response);
        return Ok(());
    }
    response_out.set(response);
    write_body(&outgoing, body)?;
    OutgoingBody::finish(outgoing, None).map_err(|e| format!("{e:?}"))
}

/// Write `body` with blocking writes of at most 4096 bytes (the most one
/// `blocking-write-and-flush` takes); the stream is dropped before the body is finished.
fn write_body(outgoing: &OutgoingBody, body: &[u8]) -> Result<(), String> {
    let stream = outgoing.write().map_err(|()| "the response body stream was already taken".to_string())?;
    for chunk in body.chunks(4096) {
        stream.blocking_write_and_flush(chunk).map_err(|e| format!("{e:?}"))?;
    }
    Ok(())
}
