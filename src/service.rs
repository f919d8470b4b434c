//! The HTTP contract, free of host bindings: from (method, path, headers, configuration,
//! time) to a response and the log lines to write. The component, the native benchmark
//! server and the fuzzers all drive this one function.

use serde_json::{json, Value};

use crate::config::{Config, VariableSource};
use crate::decision::{authenticate, Denial, Identity};
use crate::log::LogLine;
use crate::reason::{Reason, Refusal};

/// Read access to the request's header lines.
pub trait RequestHeaders {
    /// Every line of the header `name` (lowercase), in order; empty when absent.
    fn get_all(&self, name: &str) -> Vec<Vec<u8>>;
}

impl RequestHeaders for &[(&str, &[u8])] {
    fn get_all(&self, name: &str) -> Vec<Vec<u8>> {
        self.iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.to_vec())
            .collect()
    }
}

impl RequestHeaders for Vec<(String, Vec<u8>)> {
    fn get_all(&self, name: &str) -> Vec<Vec<u8>> {
        self.iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
            .collect()
    }
}

/// A response to write.
#[derive(Clone, Debug, PartialEq)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
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
const CONFIGURATION_DETAIL: &str =
    "certgate's configuration is missing or invalid; see the service log";

fn whoami(identity: &Identity, config: &Config) -> Value {
    let c = &identity.certificate;
    json!({
        "subject": c.subject,
        "issuer": c.issuer,
        "serial": c.serial_hex,
        "thumbprint_sha1": c.sha1_hex(),
        "thumbprint_sha256": c.sha256_hex(),
        "not_before": crate::certificate::rfc3339(c.not_before),
        "not_after": crate::certificate::rfc3339(c.not_after),
        "dns_names": c.dns_names,
        "uris": c.uris,
        "emails": c.emails,
        "matched": {
            "entry": identity.matched.entry,
            "algorithm": identity.matched.thumbprint.algorithm.name(),
            "thumbprint": identity.matched.thumbprint.hex(),
        },
        "format": identity.format.name(),
        "platform": config.platform,
        "chain": identity.chain.iter().map(|cert| json!({
            "subject": cert.subject,
            "issuer": cert.issuer,
            "thumbprint_sha256": cert.sha256_hex(),
        })).collect::<Vec<_>>(),
    })
}

fn path_of(path_with_query: &str) -> &str {
    let end = path_with_query
        .find(['?', '#'])
        .unwrap_or(path_with_query.len());
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
            Ok(config) => {
                let cert_lines = headers.get_all(&config.extraction.header);
                let chain_lines = match &config.extraction.chain_header {
                    Some(h) => headers.get_all(h),
                    None => Vec::new(),
                };
                match authenticate(config, &cert_lines, &chain_lines, now) {
                    Err(Denial {
                        refusal,
                        certificate,
                    }) => {
                        let response =
                            problem(refusal.reason.status(), refusal.reason, &refusal.detail);
                        let mut line = decision_log(now, method, path, response.status)
                            .with("outcome", "deny")
                            .with("reason", refusal.reason.code())
                            .with_text("detail", &refusal.detail);
                        if let Some(c) = certificate {
                            line = line
                                .with("thumbprint_sha256", c.sha256_hex())
                                .with_text("subject", &c.subject);
                        }
                        logs.push(line);
                        response
                    }
                    Ok(identity) => {
                        let response = match (path, is_read) {
                            (VALUES_PATH, true) => {
                                json_response(200, "application/json", &protected_values())
                            }
                            (WHOAMI_PATH, true) => {
                                json_response(200, "application/json", &whoami(&identity, config))
                            }
                            (VALUES_PATH | WHOAMI_PATH, false) => {
                                problem(405, Reason::MethodNotAllowed, "use GET or HEAD")
                            }
                            _ => problem(404, Reason::NotFound, "no such resource"),
                        };
                        logs.push(
                            decision_log(now, method, path, response.status)
                                .with("outcome", "allow")
                                .with("thumbprint_sha256", identity.certificate.sha256_hex())
                                .with_text("subject", &identity.certificate.subject)
                                .with("matched_entry", identity.matched.entry),
                        );
                        response
                    }
                }
            }
        }
    };
    if method == "HEAD" {
        response.body.clear();
    }
    Outcome { response, logs }
}
