//! `certgate-middleware.wasm`: certgate composed in front of another `wasi:http` component,
//! in any language (`wac plug`, or Spin's `[component.x.dependencies]`).
//!
//! Every request is decided by [`certgate::middleware::handle`]: an allowed one is handed,
//! unchanged, to the wrapped component's `incoming-handler`, which answers it itself; any
//! other is answered here (a refusal, health, a configuration error). WASI 0.2 gives a
//! component no way to build a new incoming request, so nothing is added for the app: it can
//! re-read the certificate header, which passes unchanged (deploy/compose/README.md).

#![cfg(target_arch = "wasm32")]

use ::wasi::http::types::{Fields, IncomingRequest, OutgoingBody, OutgoingResponse, ResponseOutparam};
use certgate::middleware::Passage;
use certgate::service::HttpResponse;
use certgate::{Gate, VariableSource};

wit_bindgen::generate!({
    world: "middleware",
    path: "wit",
    with: {
        "wasi:http/types@0.2.0": ::wasi::http::types,
        "wasi:io/error@0.2.0": ::wasi::io::error,
        "wasi:io/poll@0.2.0": ::wasi::io::poll,
        "wasi:io/streams@0.2.0": ::wasi::io::streams,
        "wasi:clocks/monotonic-clock@0.2.0": ::wasi::clocks::monotonic_clock,
        "wasi:config/store@0.2.0-draft-2024-09-27": generate,
        "wasi:http/incoming-handler@0.2.0": generate,
    },
});

use self::wasi::config::store;
use self::wasi::http::incoming_handler as app;

/// The variables, with one `get-all` per request (as certgate.wasm reads them).
#[derive(Default)]
struct Variables {
    all: std::cell::OnceCell<Result<std::collections::HashMap<String, String>, String>>,
}

impl VariableSource for Variables {
    fn get(&self, name: &str) -> Result<Option<String>, String> {
        let all = self
            .all
            .get_or_init(|| store::get_all().map(|pairs| pairs.into_iter().collect()).map_err(|e| format!("{e:?}")));
        match all {
            Ok(all) => Ok(all.get(name).cloned()),
            Err(e) => Err(e.clone()),
        }
    }
}

fn unix_now() -> i64 {
    match std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(_) => 0,
    }
}

fn write_logs(lines: impl IntoIterator<Item = String>) {
    use std::io::Write;
    let text: String = lines.into_iter().map(|l| l + "\n").collect();
    if !text.is_empty() {
        let _ = std::io::stderr().write_all(text.as_bytes());
    }
}

/// Write a complete response (a few hundred bytes: certgate's own documents).
fn answer(response_out: ResponseOutparam, response: &HttpResponse) -> Result<(), String> {
    let fields = Fields::new();
    for (name, value) in &response.headers {
        let _ = fields.append(&name.to_string(), &value.as_bytes().to_vec());
    }
    if !response.body.is_empty() {
        let _ = fields.append(&"content-length".to_string(), &response.body.len().to_string().into_bytes());
    }
    let outgoing = OutgoingResponse::new(fields);
    let _ = outgoing.set_status_code(response.status);
    let body = outgoing.body().map_err(|()| "the response body was already taken".to_string())?;
    {
        let stream = body.write().map_err(|()| "the response body stream was already taken".to_string())?;
        for chunk in response.body.chunks(4096) {
            stream.blocking_write_and_flush(chunk).map_err(|e| format!("{e:?}"))?;
        }
    }
    OutgoingBody::finish(body, None).map_err(|e| format!("{e:?}"))?;
    ResponseOutparam::set(response_out, Ok(outgoing));
    Ok(())
}

struct Middleware;

impl ::wasi::exports::http::incoming_handler::Guest for Middleware {
    fn handle(request: IncomingRequest, response_out: ResponseOutparam) {
        let method = match request.method() {
            ::wasi::http::types::Method::Get => "GET".to_string(),
            ::wasi::http::types::Method::Head => "HEAD".to_string(),
            ::wasi::http::types::Method::Post => "POST".to_string(),
            ::wasi::http::types::Method::Put => "PUT".to_string(),
            ::wasi::http::types::Method::Delete => "DELETE".to_string(),
            ::wasi::http::types::Method::Connect => "CONNECT".to_string(),
            ::wasi::http::types::Method::Options => "OPTIONS".to_string(),
            ::wasi::http::types::Method::Trace => "TRACE".to_string(),
            ::wasi::http::types::Method::Patch => "PATCH".to_string(),
            ::wasi::http::types::Method::Other(other) => other,
        };
        let path = request.path_with_query().unwrap_or_default();
        // The headers are a child of the request: copied out and dropped before the request
        // is handed on.
        let headers = request.headers().entries();
        let now = unix_now();
        let gate = Gate::from_source(&Variables::default());
        match certgate::middleware::handle(&gate, &method, &path, &headers, now) {
            Passage::Pass(logs) => {
                write_logs(logs.iter().map(|l| l.render()));
                app::handle(request, response_out);
            }
            Passage::Answer(outcome) => {
                write_logs(outcome.logs.iter().map(|l| l.render()));
                if let Err(e) = answer(response_out, &outcome.response) {
                    let line =
                        certgate::internals::LogLine::new("error", "response_write_failed", now).with_text("error", &e);
                    write_logs([line.render()]);
                }
            }
        }
    }
}

::wasi::http::proxy::export!(Middleware with_types_in ::wasi);
