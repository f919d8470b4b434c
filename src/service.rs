//! The HTTP contract, free of host bindings: from (method, path, headers, configuration,
//! time) to a response and the log lines to write. The component, the native benchmark
//! server and the fuzzers all drive this one function.

use serde_json::{json, Value};

use crate::certificate::{rfc3339, ClientCertificate};
use crate::config::{Config, VariableSource};
use crate::decision::{authenticate, Denial, Identity, TrustedBy};
use crate::log::LogLine;
use crate::policy::pins::PinValue;
use crate::reason::{Reason, Refusal};

pub use crate::decision::RequestHeaders;

/// A response to write.
#[derive(Clone, Debug, PartialEq)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// A response plus what to log about it.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    pub response: HttpResponse,
    pub logs: Vec<LogLine>,
}

pub const HEALTH_PATH: &str = "/healthz";
pub const VALUES_PATH: &str = "/api/values";
pub const WHOAMI_PATH: &str = "/api/whoami";
/// Set on responses let through by report-only mode that enforcement would refuse.
pub const REPORT_ONLY_HEADER: &str = "certgate-report-only";
const ALLOW: &str = "GET, HEAD";

/// The protected sample document.
pub fn protected_values() -> Value {
    json!(["value1", "value2"])
}

fn json_response(status: u16, content_type: &str, body: &Value) -> HttpResponse {
    HttpResponse {
        status,
        headers: vec![
            ("content-type", content_type.to_string()),
            ("cache-control", "no-store".to_string()),
            ("x-content-type-options", "nosniff".to_string()),
        ],
        body: body.to_string().into_bytes(),
    }
}

/// An RFC 9457 problem response.
fn problem(status: u16, reason: Reason, detail: &str) -> HttpResponse {
    let body = json!({
        "type": format!("urn:certgate:reason:{}", reason.code()),
        "title": reason.title(),
        "status": status,
        "detail": detail,
        "reason": reason.code(),
    });
    let mut response = json_response(status, "application/problem+json", &body);
    if reason == Reason::MethodNotAllowed {
        response.headers.push(("allow", ALLOW.to_string()));
    }
    response
}

/// The client never sees configuration details: they are logged instead.
const CONFIGURATION_DETAIL: &str = "certgate's configuration is missing or invalid; see the service log";

fn certificate_json(c: &ClientCertificate) -> serde_json::Map<String, Value> {
    let value = json!({
        "subject": c.subject,
        "issuer": c.issuer,
        "serial": c.serial_hex,
        "thumbprint_sha1": c.sha1_hex(),
        "thumbprint_sha256": c.sha256_hex(),
        "key_sha256": hex::encode(c.spki_sha256),
        "not_before": rfc3339(c.not_before),
        "not_after": rfc3339(c.not_after),
        "dns_names": c.dns_names,
        "uris": c.uris,
        "emails": c.emails,
    });
    match value {
        Value::Object(map) => map,
        _ => serde_json::Map::new(),
    }
}

fn matched_json(trusted_by: &TrustedBy) -> Value {
    match trusted_by {
        TrustedBy::Pin(pin) => {
            let mut m = json!({
                "kind": pin.kind(),
                "source": pin.source,
                "entry": pin.entry,
                "label": pin.label,
            });
            match &pin.value {
                PinValue::Thumbprint(t) => {
                    m["algorithm"] = json!(t.algorithm.name());
                    m["thumbprint"] = json!(t.hex());
                }
                PinValue::KeySha256(k) => m["key_sha256"] = json!(hex::encode(k)),
            }
            m
        }
        TrustedBy::Anchor(subject) => json!({ "kind": "trust_anchor", "anchor": subject }),
    }
}

fn whoami(identity: &Identity, config: &Config) -> Value {
    let mut body = certificate_json(&identity.certificate);
    body.insert("matched".into(), matched_json(&identity.trusted_by));
    body.insert("format".into(), json!(identity.format.name()));
    body.insert("platform".into(), json!(config.platform));
    body.insert(
        "chain".into(),
        identity
            .chain
            .iter()
            .map(|cert| json!({"subject": cert.subject, "issuer": cert.issuer, "thumbprint_sha256": cert.sha256_hex()}))
            .collect(),
    );
    Value::Object(body)
}

/// `whoami` for a request that report-only mode let through.
fn whoami_report_only(denial: &Denial, config: &Config) -> Value {
    let mut body = denial.certificate.as_deref().map(certificate_json).unwrap_or_default();
    body.insert("authenticated".into(), json!(false));
    body.insert("would_deny".into(), json!(denial.refusal.reason.code()));
    body.insert("platform".into(), json!(config.platform));
    Value::Object(body)
}

fn path_of(path_with_query: &str) -> &str {
    let end = path_with_query.find(['?', '#']).unwrap_or(path_with_query.len());
    &path_with_query[..end]
}

fn decision_log(now: i64, method: &str, path: &str, status: u16) -> LogLine {
    LogLine::new(if status < 400 { "info" } else { "warn" }, "decision", now)
        .with_text("method", method)
        .with_text("path", path)
        .with("status", status)
}

fn configuration_log(now: i64, refusal: &Refusal) -> LogLine {
    LogLine::new("error", "configuration_error", now)
        .with("reason", Reason::ConfigurationError.code())
        .with_text("problem", &refusal.detail)
}

fn with_certificate(line: LogLine, c: Option<&ClientCertificate>) -> LogLine {
    match c {
        Some(c) => line.with("thumbprint_sha256", c.sha256_hex()).with_text("subject", &c.subject),
        None => line,
    }
}

/// Route an authenticated (or report-only) request.
fn route(path: &str, is_read: bool, whoami_body: impl FnOnce() -> Value) -> HttpResponse {
    match (path, is_read) {
        (VALUES_PATH, true) => json_response(200, "application/json", &protected_values()),
        (WHOAMI_PATH, true) => json_response(200, "application/json", &whoami_body()),
        (VALUES_PATH | WHOAMI_PATH, false) => problem(405, Reason::MethodNotAllowed, "use GET or HEAD"),
        _ => problem(404, Reason::NotFound, "no such resource"),
    }
}

/// Handle one request.
pub fn handle(
    method: &str,
    path_with_query: &str,
    headers: &dyn RequestHeaders,
    variables: &dyn VariableSource,
    now: i64,
) -> Outcome {
    let path = path_of(path_with_query);
    let is_read = method == "GET" || method == "HEAD";
    let config = Config::load(variables);
    let mut logs = Vec::new();

    let mut response = if path == HEALTH_PATH {
        match (&config, is_read) {
            (_, false) => problem(405, Reason::MethodNotAllowed, "use GET or HEAD"),
            (Ok(_), true) => json_response(200, "application/json", &json!({"status": "ok"})),
            (Err(refusal), true) => {
                logs.push(configuration_log(now, refusal));
                problem(503, Reason::ConfigurationError, CONFIGURATION_DETAIL)
            }
        }
    } else {
        match &config {
            Err(refusal) => {
                logs.push(configuration_log(now, refusal));
                let response = problem(500, Reason::ConfigurationError, CONFIGURATION_DETAIL);
                logs.push(
                    decision_log(now, method, path, response.status)
                        .with("outcome", "deny")
                        .with("reason", Reason::ConfigurationError.code()),
                );
                response
            }
            Ok(config) => match authenticate(config, headers, now) {
                Ok(identity) => {
                    let response = route(path, is_read, || whoami(&identity, config));
                    let mut line = decision_log(now, method, path, response.status)
                        .with("outcome", "allow")
                        .with("matched", matched_json(&identity.trusted_by));
                    line = with_certificate(line, Some(&identity.certificate));
                    if !identity.warnings.is_empty() {
                        line = line.with("level", "warn").with("warnings", identity.warnings.clone());
                    }
                    logs.push(line);
                    response
                }
                Err(denial) if config.policy.report_only => {
                    let mut response = route(path, is_read, || whoami_report_only(&denial, config));
                    let code = denial.refusal.reason.code();
                    response.headers.push((REPORT_ONLY_HEADER, format!("would-deny; reason={code}")));
                    let line = decision_log(now, method, path, response.status)
                        .with("level", "warn")
                        .with("outcome", "report_only")
                        .with("reason", code)
                        .with_text("detail", &denial.refusal.detail);
                    logs.push(with_certificate(line, denial.certificate.as_deref()));
                    response
                }
                Err(Denial { refusal, certificate }) => {
                    let response = problem(refusal.reason.status(), refusal.reason, &refusal.detail);
                    let line = decision_log(now, method, path, response.status)
                        .with("outcome", "deny")
                        .with("reason", refusal.reason.code())
                        .with_text("detail", &refusal.detail);
                    logs.push(with_certificate(line, certificate.as_deref()));
                    response
                }
            },
        }
    };
    if method == "HEAD" {
        response.body.clear();
    }
    Outcome { response, logs }
}
