//! The thin `wasi:http` glue: read the request through spin-sdk's low-level
//! `IncomingRequest` (every header line, unlike the map-based convenience `Request`),
//! read configuration through `wasi:config/store`, hand both to [`crate::service`], and
//! write the response and log lines.

use spin_sdk::http::{Fields, IncomingRequest, Method, OutgoingResponse, ResponseOutparam};

use crate::config::VariableSource;
use crate::service::{self, RequestHeaders};

wit_bindgen::generate!({
    world: "certgate",
    path: "wit",
    generate_all,
});

use wasi::config::store;

/// Spin variables, through the standard `wasi:config/store` interface.
struct WasiConfig;

impl VariableSource for WasiConfig {
    fn get(&self, name: &str) -> Result<Option<String>, String> {
        store::get(name).map_err(|e| match e {
            store::Error::Upstream(m) => format!("upstream: {m}"),
            store::Error::Io(m) => format!("io: {m}"),
        })
    }
}

struct Headers(Fields);

impl RequestHeaders for Headers {
    fn get_all(&self, name: &str) -> Vec<Vec<u8>> {
        self.0.get(&name.to_string())
    }
}

fn method_name(method: &Method) -> String {
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
        Method::Other(m) => m.clone(),
    }
}

fn unix_now() -> i64 {
    match std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(_) => 0,
    }
}

#[spin_sdk::http_component]
async fn handle(request: IncomingRequest, response_out: ResponseOutparam) {
    let method = method_name(&request.method());
    let path = request.path_with_query().unwrap_or_default();
    let headers = Headers(request.headers());
    let outcome = service::handle(&method, &path, &headers, &WasiConfig, unix_now());
    for line in &outcome.logs {
        eprintln!("{}", line.render());
    }

    let response_headers = Fields::new();
    for (name, value) in &outcome.response.headers {
        // Names and values are fixed ASCII built by `service`; a refusal here would be a
        // bug, and the response still goes out with its status.
        let _ = response_headers.append(&name.to_string(), &value.as_bytes().to_vec());
    }
    let response = OutgoingResponse::new(response_headers);
    let _ = response.set_status_code(outcome.response.status);
    if let Err(e) = response_out.set_with_body(response, outcome.response.body).await {
        eprintln!(
            "{}",
            crate::log::LogLine::new("error", "response_write_failed", unix_now())
                .with_text("error", &format!("{e:?}"))
                .render()
        );
    }
}
