//! The HTTP contract, free of host bindings: from (method, path, headers, configuration,
//! time) to a response and the log lines to write. The component, the native benchmark
//! server and the fuzzers all drive this one function.

use serde_json::{json, Value};

use crate::certificate::{rfc3339, ClientCertificate};
use crate::config::{ConfigError, VariableSource};
use crate::decision::{Denial, Identity, TrustedBy};
use crate::gate::Gate;
use crate::log::LogLine;
use crate::policy::pins::PinValue;
use crate::reason::Reason;

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
const CONFIGURATION_DETAIL: &str = Reason::ConfigurationError.public_detail();

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

fn whoami(identity: &Identity, gate: &Gate) -> Value {
    let mut body = certificate_json(&identity.certificate);
    body.insert("matched".into(), matched_json(&identity.trusted_by));
    body.insert("format".into(), json!(identity.format.name()));
    body.insert("platform".into(), json!(gate.platform()));
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
fn whoami_report_only(denial: &Denial, gate: &Gate) -> Value {
    let mut body = denial.certificate.as_deref().map(certificate_json).unwrap_or_default();
    body.insert("authenticated".into(), json!(false));
    body.insert("would_deny".into(), json!(denial.denied.reason().code()));
    body.insert("platform".into(), json!(gate.platform()));
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

fn configuration_log(now: i64, error: &ConfigError) -> LogLine {
    LogLine::new("error", "configuration_error", now)
        .with("reason", Reason::ConfigurationError.code())
        .with_text("problem", &error.to_string())
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

/// Handle one request, reading the configuration from `variables` for it.
pub fn handle(
    method: &str,
    path_with_query: &str,
    headers: &dyn RequestHeaders,
    variables: &dyn VariableSource,
    now: i64,
) -> Outcome {
    respond(&Gate::from_source(variables), method, path_with_query, headers, now)
}

/// Handle one request with a configuration already read (a [`Gate`] built once, or the
/// error that building it gave).
pub fn respond(
    gate: &Result<Gate, ConfigError>,
    method: &str,
    path_with_query: &str,
    headers: &dyn RequestHeaders,
    now: i64,
) -> Outcome {
    let path = path_of(path_with_query);
    let is_read = method == "GET" || method == "HEAD";
    let config = gate;
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
            Ok(gate) => match gate.decide(headers, now) {
                Ok(identity) => {
                    let response = route(path, is_read, || whoami(&identity, gate));
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
                Err(denial) if gate.report_only() => {
                    let mut response = route(path, is_read, || whoami_report_only(&denial, gate));
                    let code = denial.denied.reason().code();
                    response.headers.push((REPORT_ONLY_HEADER, format!("would-deny; reason={code}")));
                    let line = decision_log(now, method, path, response.status)
                        .with("level", "warn")
                        .with("outcome", "report_only")
                        .with("reason", code)
                        .with_text("detail", &denial.denied.to_string());
                    logs.push(with_certificate(line, denial.certificate.as_deref()));
                    response
                }
                Err(Denial { denied, certificate }) => {
                    let reason = denied.reason();
                    let response = problem(reason.status(), reason, denied.public_detail());
                    let line = decision_log(now, method, path, response.status)
                        .with("outcome", "deny")
                        .with("reason", reason.code())
                        .with_text("detail", &denied.to_string());
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

/// The HTTP contract, natively: routes, methods, problem documents, headers and the log
/// lines, for allowed, denied, report-only and misconfigured requests. The same contract
/// is tested through the `.wasm` in `tests/component.rs`.
#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::var;
    use certgate_testkit::{encode, Ca, Issued, LeafOptions, OffsetDateTime};

    fn send(method: &str, path: &str, vars: &[(&str, &str)], cert: Option<&Issued>) -> Outcome {
        let headers: Vec<(String, Vec<u8>)> = cert
            .map(|c| ("x-arr-clientcert".to_string(), encode::base64_der(&c.der).into_bytes()))
            .into_iter()
            .collect();
        handle(method, path, &headers, &vars, OffsetDateTime::now_utc().unix_timestamp())
    }

    fn json(o: &Outcome) -> Value {
        serde_json::from_slice(&o.response.body).unwrap()
    }

    fn assert_security_headers(r: &HttpResponse) {
        assert_eq!(r.header("cache-control"), Some("no-store"));
        assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
    }

    #[test]
    fn allowed_requests_route_to_the_documents() {
        let ca = Ca::new("Root");
        let alice = ca.issue(&LeafOptions::named("alice"));
        let pin = alice.sha256_hex();
        let vars = [(var::ALLOWED_THUMBPRINTS, pin.as_str())];

        let o = send("GET", "/api/values?x=1#f", &vars, Some(&alice));
        assert_eq!(o.response.status, 200);
        assert_eq!(json(&o), json!(["value1", "value2"]));
        assert_eq!(o.response.header("content-type"), Some("application/json"));
        assert_eq!(o.response.header("allow"), None);
        assert_security_headers(&o.response);
        let line = &o.logs[0];
        assert_eq!(o.logs.len(), 1);
        assert_eq!(line.get("level").unwrap(), "info");
        assert_eq!(line.get("event").unwrap(), "decision");
        assert_eq!(line.get("outcome").unwrap(), "allow");
        assert_eq!(line.get("path").unwrap(), "/api/values");
        assert_eq!(line.get("method").unwrap(), "GET");
        assert_eq!(line.get("status").unwrap(), 200);
        assert_eq!(line.get("thumbprint_sha256").unwrap(), pin.as_str());
        assert_eq!(line.get("subject").unwrap(), "CN=alice");
        assert_eq!(line.get("matched").unwrap()["source"], "allowed_thumbprints");

        let o = send("GET", "/api/whoami", &vars, Some(&alice));
        let body = json(&o);
        assert_eq!(body["subject"], "CN=alice");
        assert_eq!(body["issuer"], "CN=Root");
        assert_eq!(body["thumbprint_sha256"], pin);
        assert_eq!(body["thumbprint_sha1"], alice.sha1_hex());
        assert_eq!(body["format"], "base64-der");
        assert_eq!(body["platform"], Value::Null);
        assert_eq!(body["matched"]["kind"], "thumbprint");
        assert_eq!(body["matched"]["algorithm"], "sha256");
        assert_eq!(body["matched"]["thumbprint"], pin);
        assert_eq!(body["matched"]["entry"], 1);
        assert_eq!(body["chain"], json!([]));

        let head = send("HEAD", "/api/values", &vars, Some(&alice));
        assert_eq!(head.response.status, 200);
        assert!(head.response.body.is_empty());
        assert_eq!(head.response.header("content-type"), Some("application/json"));

        for method in ["POST", "PUT", "DELETE", "get"] {
            let o = send(method, "/api/values", &vars, Some(&alice));
            assert_eq!(o.response.status, 405, "{method}");
            assert_eq!(o.response.header("allow"), Some("GET, HEAD"));
            assert_eq!(json(&o)["reason"], "method_not_allowed");
            assert_eq!(o.logs[0].get("level").unwrap(), "warn");
        }
        let o = send("GET", "/api/other", &vars, Some(&alice));
        assert_eq!(o.response.status, 404);
        assert_eq!(o.response.header("allow"), None);
        let problem = json(&o);
        assert_eq!(problem["reason"], "not_found");
        assert_eq!(problem["type"], "urn:certgate:reason:not_found");
        assert_eq!(problem["status"], 404);
        assert_eq!(o.response.header("content-type"), Some("application/problem+json"));
    }

    #[test]
    fn denials_are_problem_documents_and_logged() {
        let ca = Ca::new("Root");
        let mallory = ca.issue(&LeafOptions::named("mallory"));
        let pin = "ab".repeat(32);
        let vars = [(var::ALLOWED_THUMBPRINTS, pin.as_str())];
        let o = send("GET", "/api/values", &vars, Some(&mallory));
        assert_eq!(o.response.status, 403);
        assert_security_headers(&o.response);
        assert_eq!(o.response.header("content-type"), Some("application/problem+json"));
        assert_eq!(o.response.header(REPORT_ONLY_HEADER), None);
        let problem = json(&o);
        assert_eq!(problem["reason"], "certificate_not_allowed");
        assert_eq!(problem["type"], "urn:certgate:reason:certificate_not_allowed");
        assert_eq!(problem["status"], 403);
        assert_eq!(problem["title"], Reason::CertificateNotAllowed.title());
        assert!(!problem["detail"].as_str().unwrap().is_empty());
        let line = &o.logs[0];
        assert_eq!(line.get("level").unwrap(), "warn");
        assert_eq!(line.get("outcome").unwrap(), "deny");
        assert_eq!(line.get("reason").unwrap(), "certificate_not_allowed");
        assert_eq!(line.get("subject").unwrap(), "CN=mallory");
        assert_eq!(line.get("thumbprint_sha256").unwrap(), mallory.sha256_hex().as_str());

        let o = send("GET", "/api/values", &vars, None);
        assert_eq!(o.response.status, 403);
        assert_eq!(json(&o)["reason"], "certificate_missing");
        assert_eq!(o.logs[0].get("subject"), None);

        // HEAD of a denial: the status and headers, no body.
        let o = send("HEAD", "/api/values", &vars, Some(&mallory));
        assert_eq!(o.response.status, 403);
        assert!(o.response.body.is_empty());
    }

    #[test]
    fn report_only_routes_like_enforcement_would_with_a_header() {
        let ca = Ca::new("Root");
        let mallory = ca.issue(&LeafOptions::named("mallory"));
        let pin = "ab".repeat(32);
        let vars = [(var::ALLOWED_THUMBPRINTS, pin.as_str()), (var::MODE, "report-only")];
        let o = send("GET", "/api/values", &vars, Some(&mallory));
        assert_eq!(o.response.status, 200);
        assert_eq!(json(&o), json!(["value1", "value2"]));
        assert_eq!(o.response.header(REPORT_ONLY_HEADER), Some("would-deny; reason=certificate_not_allowed"));
        let o = send("DELETE", "/api/values", &vars, Some(&mallory));
        assert_eq!(o.response.status, 405);
        assert_eq!(o.response.header(REPORT_ONLY_HEADER), Some("would-deny; reason=certificate_not_allowed"));
        let o = send("GET", "/api/whoami", &vars, Some(&mallory));
        let body = json(&o);
        assert_eq!(body["authenticated"], false);
        assert_eq!(body["would_deny"], "certificate_not_allowed");
        assert_eq!(body["subject"], "CN=mallory");
        let line = &o.logs[0];
        assert_eq!(line.get("level").unwrap(), "warn");
        assert_eq!(line.get("outcome").unwrap(), "report_only");
        assert_eq!(line.get("status").unwrap(), 200);
    }

    #[test]
    fn health_and_configuration_errors() {
        let pin = "ab".repeat(32);
        let good = [(var::ALLOWED_THUMBPRINTS, pin.as_str())];
        let o = send("GET", "/healthz", &good, None);
        assert_eq!((o.response.status, json(&o)), (200, json!({"status": "ok"})));
        assert!(o.logs.is_empty());
        assert_eq!(send("HEAD", "/healthz?probe", &good, None).response.status, 200);
        let o = send("POST", "/healthz", &good, None);
        assert_eq!(o.response.status, 405);
        assert_eq!(o.response.header("allow"), Some("GET, HEAD"));

        let broken = [(var::ALLOWED_THUMBPRINTS, "secret-looking-garbage")];
        let o = send("GET", "/healthz", &broken, None);
        assert_eq!(o.response.status, 503);
        assert_eq!(json(&o)["reason"], "configuration_error");
        assert_eq!(o.logs.len(), 1);
        assert_eq!(o.logs[0].get("event").unwrap(), "configuration_error");
        assert_eq!(o.logs[0].get("level").unwrap(), "error");

        let o = send("GET", "/api/values", &broken, None);
        assert_eq!(o.response.status, 500);
        let problem = json(&o);
        assert_eq!(problem["reason"], "configuration_error");
        // The client is told to look at the log; the log says what is wrong.
        assert_eq!(problem["detail"], CONFIGURATION_DETAIL);
        assert!(!o.response.body.windows(6).any(|w| w == b"secret"));
        let logged = o.logs[0].get("problem").unwrap().as_str().unwrap();
        assert!(logged.contains("allowed_thumbprints") && logged.contains("entry 1"), "{logged}");
        assert!(!logged.contains("secret-looking-garbage"));
        assert_eq!(o.logs[1].get("event").unwrap(), "decision");
        assert_eq!(o.logs[1].get("outcome").unwrap(), "deny");
        assert_eq!(o.logs[1].get("status").unwrap(), 500);
    }
}
