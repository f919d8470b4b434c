//! An inventory API, as a Spin HTTP component, whose clients authenticate with a TLS
//! client certificate: the terminator forwards it in a header, `certgate::Gate` checks it,
//! and the handler reads who the client is from the `Identity`.
//!
//! Routes (all need an allowed certificate):
//! - `GET /inventory`: every item
//! - `GET /inventory/{id}`: one item, `404` when there is none
//! - `GET /me`: what certgate established about the client
//!
//! A refusal is `403` with certgate's reason code and its fixed public text; the operator's
//! detail goes to stderr (the Spin log), never to the client.
#![cfg(target_arch = "wasm32")]

use certgate::{Gate, Identity, RequestHeaders, TrustedBy, VariableSource};
use serde::Serialize;
use spin_sdk::http::{IncomingRequest, Method, Response};
use spin_sdk::http_component;

/// certgate's variables, read through Spin's `variables::get`. An undefined variable is
/// unset (certgate then applies its default or refuses a missing required one).
struct SpinVariables;

impl VariableSource for SpinVariables {
    fn get(&self, name: &str) -> Result<Option<String>, String> {
        match spin_sdk::variables::get(name) {
            Ok(value) => Ok(Some(value)),
            Err(spin_sdk::variables::Error::Undefined(_)) => Ok(None),
            Err(e) => Err(e.to_string()),
        }
    }
}

/// Every line of a header, as certgate needs (a header sent twice is refused, not guessed).
struct Headers<'a>(&'a IncomingRequest);

impl RequestHeaders for Headers<'_> {
    fn get_all(&self, name: &str) -> Vec<Vec<u8>> {
        self.0.headers().get(name)
    }
}

#[derive(Serialize)]
struct Item {
    id: u32,
    name: &'static str,
    quantity: u32,
}

const ITEMS: [Item; 3] = [
    Item { id: 1, name: "bolt M6", quantity: 1200 },
    Item { id: 2, name: "washer M6", quantity: 800 },
    Item { id: 3, name: "hex nut M6", quantity: 0 },
];

#[derive(Serialize)]
struct Me<'a> {
    subject: &'a str,
    dns_names: &'a [String],
    sha256: String,
    trusted_by: String,
}

fn json(status: u16, body: &impl Serialize) -> Response {
    let body = serde_json::to_vec(body).unwrap_or_default();
    Response::builder().status(status).header("content-type", "application/json").body(body).build()
}

fn error(status: u16, code: &str) -> Response {
    json(status, &serde_json::json!({ "error": code }))
}

fn unix_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

#[http_component]
fn handle(request: IncomingRequest) -> Response {
    // Spin instantiates the component per request, so the Gate is built per request; where
    // an instance serves many requests, build it once and keep it.
    let gate = match Gate::from_source(&SpinVariables) {
        Ok(gate) => gate,
        Err(e) => {
            eprintln!("inventory: certgate configuration: {e}");
            return error(500, "configuration_error");
        }
    };
    let identity = match gate.authenticate(&Headers(&request), unix_now()) {
        Ok(identity) => identity,
        Err(denied) => {
            eprintln!("inventory: refused: {denied}");
            let reason = denied.reason();
            let body = serde_json::json!({ "error": reason.code(), "detail": denied.public_detail() });
            return json(reason.status(), &body);
        }
    };
    if !matches!(request.method(), Method::Get) {
        return error(405, "method_not_allowed");
    }
    route(&request.path_with_query().unwrap_or_default(), &identity)
}

fn route(path: &str, identity: &Identity) -> Response {
    let path = path.split('?').next().unwrap_or_default();
    match path.strip_prefix("/inventory") {
        Some("") | Some("/") => return json(200, &ITEMS),
        Some(rest) => {
            let item = rest
                .strip_prefix('/')
                .and_then(|id| id.parse::<u32>().ok())
                .and_then(|id| ITEMS.iter().find(|i| i.id == id));
            return match item {
                Some(item) => json(200, item),
                None => error(404, "no_such_item"),
            };
        }
        None => {}
    }
    if path == "/me" {
        let certificate = &identity.certificate;
        let trusted_by = match &identity.trusted_by {
            TrustedBy::Pin(pin) => format!("pin {} in {}", pin.entry, pin.source),
            TrustedBy::Anchor(subject) => format!("anchor {subject}"),
        };
        return json(
            200,
            &Me {
                subject: &certificate.subject,
                dns_names: &certificate.dns_names,
                sha256: certificate.sha256_hex(),
                trusted_by,
            },
        );
    }
    error(404, "not_found")
}
