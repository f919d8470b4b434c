//! The HTTP contract, free of host bindings: from (method, path, headers, configuration,
//! time) to a response and the log lines to write. The component, the native benchmark
//! server and the fuzzers all drive this one function.

use std::borrow::Cow;

use serde::Serialize;
use serde_json::Value;

use crate::certificate::{rfc3339, ClientCertificate};
use crate::config::{ConfigError, Service, VariableSource};
#[cfg(test)]
use crate::decision::Denied;
use crate::decision::{Denial, Identity, TrustedBy};
use crate::gate::Gate;
use crate::log::LogLine;
use crate::policy::pins::PinValue;
use crate::reason::Reason;
use crate::store::{KeyValue, NoKeyValue};
use crate::upstream::IdentityHeaders;

pub use crate::decision::RequestHeaders;

/// A response to write.
#[derive(Clone, Debug, PartialEq)]
pub struct HttpResponse {
    /// The HTTP status code.
    pub status: u16,
    /// Header names (lowercase) and values, in the order to write them.
    pub headers: Vec<(Cow<'static, str>, String)>,
    /// The body bytes (empty for HEAD).
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The value of the header `name` (ASCII case-insensitive), if set.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// A response plus what to log about it.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    /// The response to write.
    pub response: HttpResponse,
    /// The log lines to write to stderr, in order.
    pub logs: Vec<LogLine>,
}

/// Health: 200 when the configuration is valid, 503 when not; needs no certificate.
pub const HEALTH_PATH: &str = "/healthz";
/// The protected sample document.
pub const VALUES_PATH: &str = "/api/values";
/// The authenticated client's identity, as JSON.
pub const WHOAMI_PATH: &str = "/api/whoami";
/// Set on responses let through by report-only mode that enforcement would refuse.
pub const REPORT_ONLY_HEADER: &str = "certgate-report-only";
const ALLOW: &str = "GET, HEAD";

/// The protected sample document.
const PROTECTED_VALUES: [&str; 2] = ["value1", "value2"];

// The documents below are structs whose fields are in alphabetical order: the order the
// `json!` maps they replace wrote them in (serde_json's map sorts its keys), so the bytes
// on the wire are unchanged. A test pins them.

/// An RFC 9457 problem document.
#[derive(Serialize)]
struct Problem<'a> {
    detail: &'a str,
    reason: &'static str,
    status: u16,
    title: &'static str,
    #[serde(rename = "type")]
    type_uri: String,
}

#[derive(Serialize)]
struct Health {
    status: &'static str,
}

/// How the client was trusted, in `whoami` and the decision log.
#[derive(Serialize)]
#[serde(untagged)]
enum Matched<'a> {
    Pin {
        #[serde(skip_serializing_if = "Option::is_none")]
        algorithm: Option<&'static str>,
        /// The entry in its variable; absent for a pin from the key-value store.
        #[serde(skip_serializing_if = "Option::is_none")]
        entry: Option<usize>,
        #[serde(skip_serializing_if = "Option::is_none")]
        key_sha256: Option<String>,
        kind: &'static str,
        label: Option<&'a str>,
        source: &'static str,
        #[serde(skip_serializing_if = "Option::is_none")]
        thumbprint: Option<String>,
    },
    Anchor {
        anchor: &'a str,
        kind: &'static str,
    },
}

/// A certificate of the rest of the forwarded chain.
#[derive(Serialize)]
struct ChainCertificate<'a> {
    issuer: &'a str,
    subject: &'a str,
    thumbprint_sha256: String,
}

/// The `whoami` document: the certificate's fields (absent when report-only mode let a
/// request without one through), how it was trusted, or what enforcement would refuse.
#[derive(Default, Serialize)]
struct Whoami<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    authenticated: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    chain: Option<Vec<ChainCertificate<'a>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dns_names: Option<&'a [String]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    emails: Option<&'a [String]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    format: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    issuer: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    key_sha256: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    matched: Option<Matched<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    not_after: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    not_before: Option<String>,
    /// Always written, `null` when no preset is configured.
    platform: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    serial: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    subject: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    thumbprint_sha1: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    thumbprint_sha256: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    uris: Option<&'a [String]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    would_deny: Option<&'static str>,
}

impl<'a> Whoami<'a> {
    fn certificate(c: &'a ClientCertificate, platform: Option<&'a str>) -> Self {
        Whoami {
            dns_names: Some(&c.dns_names),
            emails: Some(&c.emails),
            issuer: Some(&c.issuer),
            key_sha256: Some(hex::encode(c.spki_sha256)),
            not_after: Some(rfc3339(c.not_after)),
            not_before: Some(rfc3339(c.not_before)),
            platform,
            serial: Some(&c.serial_hex),
            subject: Some(&c.subject),
            thumbprint_sha1: Some(c.sha1_hex()),
            thumbprint_sha256: Some(c.sha256_hex()),
            uris: Some(&c.uris),
            ..Whoami::default()
        }
    }
}

fn json_response(status: u16, content_type: &str, body: &impl Serialize) -> HttpResponse {
    HttpResponse {
        status,
        headers: vec![
            ("content-type".into(), content_type.to_string()),
            ("cache-control".into(), "no-store".to_string()),
            ("x-content-type-options".into(), "nosniff".to_string()),
        ],
        // Serialising these structs cannot fail: every key is a field name.
        body: serde_json::to_vec(body).unwrap_or_default(),
    }
}

/// An RFC 9457 problem response.
pub(crate) fn problem(status: u16, reason: Reason, detail: &str) -> HttpResponse {
    let body = Problem {
        detail,
        reason: reason.code(),
        status,
        title: reason.title(),
        type_uri: format!("urn:certgate:reason:{}", reason.code()),
    };
    let mut response = json_response(status, "application/problem+json", &body);
    if reason == Reason::MethodNotAllowed {
        response.headers.push(("allow".into(), ALLOW.to_string()));
    }
    response
}

/// The client never sees configuration details: they are logged instead.
const CONFIGURATION_DETAIL: &str = Reason::ConfigurationError.public_detail();

fn matched(trusted_by: &TrustedBy) -> Matched<'_> {
    match trusted_by {
        TrustedBy::Pin(pin) => {
            let (algorithm, thumbprint, key_sha256) = match &pin.value {
                PinValue::Thumbprint(t) => (Some(t.algorithm.name()), Some(t.hex()), None),
                PinValue::KeySha256(k) => (None, None, Some(hex::encode(k))),
            };
            Matched::Pin {
                algorithm,
                entry: (pin.entry > 0).then_some(pin.entry),
                key_sha256,
                kind: pin.kind(),
                label: pin.label.as_deref(),
                source: pin.source,
                thumbprint,
            }
        }
        TrustedBy::Anchor(subject) => Matched::Anchor { anchor: subject, kind: "trust_anchor" },
    }
}

/// [`matched`] as a value for the decision log.
fn matched_json(trusted_by: &TrustedBy) -> Value {
    serde_json::to_value(matched(trusted_by)).unwrap_or_default()
}

fn whoami_body<'a>(identity: &'a Identity, platform: Option<&'a str>) -> Whoami<'a> {
    let chain = identity
        .chain
        .iter()
        .map(|c| ChainCertificate { issuer: &c.issuer, subject: &c.subject, thumbprint_sha256: c.sha256_hex() })
        .collect();
    Whoami {
        chain: Some(chain),
        format: Some(identity.format.name()),
        matched: Some(matched(&identity.trusted_by)),
        ..Whoami::certificate(&identity.certificate, platform)
    }
}

/// `whoami` for a request that report-only mode let through.
fn whoami_report_only_body<'a>(denial: &'a Denial, platform: Option<&'a str>) -> Whoami<'a> {
    let base = match denial.certificate.as_deref() {
        Some(c) => Whoami::certificate(c, platform),
        None => Whoami { platform, ..Whoami::default() },
    };
    Whoami { authenticated: Some(false), would_deny: Some(denial.denied.reason().code()), ..base }
}

pub(crate) fn path_of(path_with_query: &str) -> &str {
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

pub(crate) fn with_certificate(line: LogLine, c: Option<&ClientCertificate>) -> LogLine {
    match c {
        Some(c) => line.with("thumbprint_sha256", c.sha256_hex()).with_text("subject", &c.subject),
        None => line,
    }
}

/// Route an authenticated (or report-only) request.
fn route<'a>(path: &str, is_read: bool, whoami: impl FnOnce() -> Whoami<'a>) -> HttpResponse {
    match (path, is_read) {
        (VALUES_PATH, true) => json_response(200, "application/json", &PROTECTED_VALUES),
        (WHOAMI_PATH, true) => json_response(200, "application/json", &whoami()),
        (VALUES_PATH | WHOAMI_PATH, false) => problem(405, Reason::MethodNotAllowed, "use GET or HEAD"),
        _ => problem(404, Reason::NotFound, "no such resource"),
    }
}

/// Headers a proxy adds to an authorization request to say which request it is asking
/// about (Caddy and Traefik `X-Forwarded-*`, nginx configurations `X-Original-*`).
pub const FORWARDED_REQUEST_HEADERS: [&str; 4] =
    ["x-forwarded-uri", "x-forwarded-method", "x-original-uri", "x-original-method"];

fn is_forwarded_request(headers: &dyn RequestHeaders) -> bool {
    FORWARDED_REQUEST_HEADERS.iter().any(|name| !headers.get_all(name).is_empty())
}

/// Whether the request carries a header of the configured proof of origin (any value):
/// the proxy adds it to every request it sends, a health probe does not.
fn carries_proxy_proof(gate: &Gate, headers: &dyn RequestHeaders) -> bool {
    let policy = &gate.config().policy;
    let names = policy
        .shared_secret
        .iter()
        .map(|s| s.header.as_str())
        .chain(policy.signature.iter().map(|s| s.header.as_str()));
    names.into_iter().any(|name| !headers.get_all(name).is_empty())
}

/// The decision log line of an allowed request.
pub(crate) fn allow_log(now: i64, method: &str, path: &str, status: u16, identity: &Identity) -> LogLine {
    let line = decision_log(now, method, path, status)
        .with("outcome", "allow")
        .with("matched", matched_json(&identity.trusted_by));
    let line = if identity.path_from_cache { line.with("path_from_cache", true) } else { line };
    let line = with_certificate(line, Some(&identity.certificate));
    if identity.warnings.is_empty() {
        line
    } else {
        line.with("level", "warn").with("warnings", identity.warnings.clone())
    }
}

/// A refused request: its problem response, and its decision line in `logs`.
pub(crate) fn refusal(now: i64, method: &str, path: &str, denial: Denial, logs: &mut Vec<LogLine>) -> HttpResponse {
    let Denial { denied, certificate } = denial;
    let reason = denied.reason();
    let response = problem(reason.status(), reason, denied.public_detail());
    let line = decision_log(now, method, path, response.status)
        .with("outcome", "deny")
        .with("reason", reason.code())
        .with_text("detail", &denied.to_string());
    logs.push(with_certificate(line, certificate.as_deref()));
    response
}

/// A request refused because the configuration does not load: `500`, and its decision line.
pub(crate) fn configuration_refusal(now: i64, method: &str, path: &str, logs: &mut Vec<LogLine>) -> HttpResponse {
    let response = problem(500, Reason::ConfigurationError, CONFIGURATION_DETAIL);
    logs.push(
        decision_log(now, method, path, response.status)
            .with("outcome", "deny")
            .with("reason", Reason::ConfigurationError.code()),
    );
    response
}

/// The decision line of a request the gateway let through, before it knows more.
pub(crate) fn gateway_log(now: i64, method: &str, path: &str, status: u16, identity: &Identity) -> LogLine {
    with_certificate(decision_log(now, method, path, status), Some(&identity.certificate))
}

/// The identity headers as configured (prefix, optional signing key).
pub(crate) fn identity_headers(gate: &Gate) -> Result<IdentityHeaders, crate::upstream::IdentityHeaderError> {
    let settings = &gate.config().service;
    IdentityHeaders::new(&settings.identity_prefix).and_then(|h| match &settings.identity_key {
        Some(key) => h.signed_with(key),
        None => Ok(h),
    })
}

/// `service = forward-auth`: any path and method; `200` with an empty body and the identity
/// headers, or the reasoned refusal (report-only cannot be configured with it).
fn forward_auth_answer(
    gate: &Gate,
    method: &str,
    path: &str,
    headers: &dyn RequestHeaders,
    now: i64,
    kv: &dyn KeyValue,
    logs: &mut Vec<LogLine>,
) -> HttpResponse {
    let Ok(identity_headers) = identity_headers(gate) else {
        // The configuration checks both when it is read; refused rather than assumed.
        return configuration_refusal(now, method, path, logs);
    };
    let allowed = || HttpResponse {
        status: 200,
        headers: vec![("cache-control".into(), "no-store".to_string())],
        body: Vec::new(),
    };
    match gate.decide_with(headers, now, kv) {
        Ok(identity) => {
            let mut response = allowed();
            for (name, value) in identity_headers.for_identity(&identity, now) {
                response.headers.push((name.to_ascii_lowercase().into(), value));
            }
            logs.push(allow_log(now, method, path, response.status, &identity));
            response
        }
        Err(denial) => refusal(now, method, path, denial, logs),
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
/// error that building it gave), in a host that gives no key-value store (a configuration
/// with `keyvalue_store` is then refused with `store_unavailable`).
pub fn respond(
    gate: &Result<Gate, ConfigError>,
    method: &str,
    path_with_query: &str,
    headers: &dyn RequestHeaders,
    now: i64,
) -> Outcome {
    respond_with_store(gate, method, path_with_query, headers, now, &NoKeyValue)
}

/// As [`respond`], with the key-value store `keyvalue_store` names ([`Gate::store_label`]).
pub fn respond_with_store(
    gate: &Result<Gate, ConfigError>,
    method: &str,
    path_with_query: &str,
    headers: &dyn RequestHeaders,
    now: i64,
    kv: &dyn KeyValue,
) -> Outcome {
    let path = path_of(path_with_query);
    let is_read = method == "GET" || method == "HEAD";
    let mut logs = Vec::new();

    let forward_auth = matches!(gate, Ok(g) if g.config().service.service == Service::ForwardAuth);
    // In forward-auth mode a proxy may send the client's own path: a request that came
    // through it (it carries the proxy's proof, which forward-auth requires, or a
    // forwarded-request header) is authenticated, `/healthz` or not.
    let through_proxy = match gate {
        Ok(g) if forward_auth => carries_proxy_proof(g, headers) || is_forwarded_request(headers),
        _ => false,
    };
    let health = path == HEALTH_PATH && !through_proxy;
    let mut response = if health {
        match (gate, is_read) {
            (_, false) => problem(405, Reason::MethodNotAllowed, "use GET or HEAD"),
            (Ok(_), true) => json_response(200, "application/json", &Health { status: "ok" }),
            (Err(refusal), true) => {
                logs.push(configuration_log(now, refusal));
                problem(503, Reason::ConfigurationError, CONFIGURATION_DETAIL)
            }
        }
    } else {
        match gate {
            Err(error) => {
                logs.push(configuration_log(now, error));
                configuration_refusal(now, method, path, &mut logs)
            }
            Ok(gate) if forward_auth => forward_auth_answer(gate, method, path, headers, now, kv, &mut logs),
            Ok(gate) if gate.config().service.service == Service::Gateway => {
                // Only a shell that can send requests forwards (the gateway shell); this
                // one was asked to answer itself, which a gateway never does.
                logs.push(
                    LogLine::new("error", "configuration_error", now)
                        .with("reason", Reason::ConfigurationError.code())
                        .with_text(
                            "problem",
                            "service = gateway needs a shell that forwards (certgate.wasm); this one cannot",
                        ),
                );
                configuration_refusal(now, method, path, &mut logs)
            }
            Ok(gate) => match gate.decide_with(headers, now, kv) {
                Ok(identity) => {
                    let response = route(path, is_read, || whoami_body(&identity, gate.platform()));
                    logs.push(allow_log(now, method, path, response.status, &identity));
                    response
                }
                Err(denial) if gate.report_only() => {
                    let mut response = route(path, is_read, || whoami_report_only_body(&denial, gate.platform()));
                    let code = denial.denied.reason().code();
                    response.headers.push((REPORT_ONLY_HEADER.into(), format!("would-deny; reason={code}")));
                    let line = decision_log(now, method, path, response.status)
                        .with("level", "warn")
                        .with("outcome", "report_only")
                        .with("reason", code)
                        .with_text("detail", &denial.denied.to_string());
                    logs.push(with_certificate(line, denial.certificate.as_deref()));
                    response
                }
                Err(denial) => refusal(now, method, path, denial, &mut logs),
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
/// is tested on the native library and through the `.wasm` in `tests/contract.rs`.
#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::var;
    use certgate_testkit::{encode, Ca, Issued, LeafOptions, OffsetDateTime};
    use serde_json::json;

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

    fn send_with(method: &str, path: &str, vars: &[(&str, &str)], headers: &[(&str, &str)]) -> Outcome {
        let headers: Vec<(String, Vec<u8>)> =
            headers.iter().map(|(k, v)| (k.to_ascii_lowercase(), v.as_bytes().to_vec())).collect();
        handle(method, path, &headers, &vars, OffsetDateTime::now_utc().unix_timestamp())
    }

    const SECRET: &str = "forward-auth-proxy-secret";

    /// forward-auth with the proxy's secret configured, and these variables.
    fn forward_vars<'a>(pin: &'a str, extra: &[(&'static str, &'a str)]) -> Vec<(&'static str, &'a str)> {
        let mut vars = extra.to_vec();
        vars.extend([(var::ALLOWED_THUMBPRINTS, pin), (var::SERVICE, "forward-auth"), (var::PROXY_SECRET, SECRET)]);
        vars
    }

    /// A request as the proxy sends it: its secret, and these headers.
    fn via_proxy(method: &str, path: &str, vars: &[(&str, &str)], headers: &[(&str, &str)]) -> Outcome {
        let mut all = vec![("X-Certgate-Proxy-Secret", SECRET)];
        all.extend_from_slice(headers);
        send_with(method, path, vars, &all)
    }

    #[test]
    fn forward_auth_answers_every_path_and_method_with_identity_headers_or_a_reason() {
        let ca = Ca::new("Forward Root");
        let alice = ca.issue(&LeafOptions::named("alice, admin").dns("alice.example"));
        let bob = ca.issue(&LeafOptions::named("bob"));
        let pin = alice.sha256_hex();
        let vars = forward_vars(&pin, &[]);
        let cert = encode::base64_der(&alice.der);
        for (method, path) in [("GET", "/"), ("POST", "/orders/42?x=1"), ("DELETE", "/api/values"), ("PATCH", "/auth")]
        {
            let o = via_proxy(method, path, &vars, &[("X-ARR-ClientCert", &cert)]);
            let r = &o.response;
            assert_eq!(r.status, 200, "{method} {path}: {}", String::from_utf8_lossy(&r.body));
            assert!(r.body.is_empty());
            assert_eq!(r.header("cache-control"), Some("no-store"));
            assert_eq!(r.header("x-certgate-client-sha256"), Some(pin.as_str()));
            assert_eq!(r.header("x-certgate-client-dns"), Some("alice.example"));
            assert_eq!(r.header("x-certgate-client-matched-kind"), Some("thumbprint"));
            assert!(r.header("x-certgate-client-subject").is_some_and(|s| s.contains("%2C") && !s.contains(',')));
            assert!(r.header("x-certgate-client-signature").is_none(), "unsigned without a key");
            assert!(o.logs.last().unwrap().render().contains("\"outcome\":\"allow\""));
        }
        // Without the proxy's secret (asked directly): refused, whatever the certificate.
        let direct = send_with("GET", "/", &vars, &[("X-ARR-ClientCert", &cert)]);
        assert_eq!(json(&direct)["reason"], "proxy_unauthenticated");
        // Refused: the reasoned problem, no identity header.
        let refused = via_proxy("GET", "/", &vars, &[("X-ARR-ClientCert", &encode::base64_der(&bob.der))]);
        assert_eq!(refused.response.status, 403);
        assert_eq!(json(&refused)["reason"], "certificate_not_allowed");
        assert!(refused.response.headers.iter().all(|(k, _)| !k.starts_with("x-certgate-client-")));
        let missing = via_proxy("GET", "/", &vars, &[]);
        assert_eq!(json(&missing)["reason"], "certificate_missing");
        // Signed, under another prefix.
        let signed = forward_vars(
            &pin,
            &[(var::IDENTITY_HEADER_PREFIX, "X-Client-"), (var::IDENTITY_SIGNING_KEY, "0123456789abcdef")],
        );
        let o = via_proxy("GET", "/", &signed, &[("X-ARR-ClientCert", &cert)]);
        let identity: Vec<(String, String)> = o
            .response
            .headers
            .iter()
            .filter(|(k, _)| k.starts_with("x-client-") && !k.ends_with("signature"))
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        assert_eq!(identity.len(), crate::upstream::FIELDS.len());
        let want = format!("v1={}", crate::upstream::sign(b"0123456789abcdef", &identity));
        assert_eq!(o.response.header("x-client-signature"), Some(want.as_str()));
        // The default service is the app: its own routes, not an allow for any path.
        let app =
            send_with("GET", "/orders", &[(var::ALLOWED_THUMBPRINTS, pin.as_str())], &[("X-ARR-ClientCert", &cert)]);
        assert_eq!(app.response.status, 404);
    }

    #[test]
    fn forward_auth_never_lets_a_healthz_through_the_proxy_be_an_allow() {
        let pin = "ab".repeat(32);
        let vars = forward_vars(&pin, &[]);
        // A probe (no proxy proof, no forwarded-request header): health.
        let probe = send_with("GET", "/healthz", &vars, &[]);
        assert_eq!((probe.response.status, json(&probe)["status"].clone()), (200, json!("ok")));
        // Through the proxy (its secret), or saying it is a forwarded request: authenticated.
        let o = via_proxy("GET", "/healthz", &vars, &[]);
        assert_eq!((o.response.status, json(&o)["reason"].clone()), (403, json!("certificate_missing")));
        for marker in FORWARDED_REQUEST_HEADERS {
            let o = send_with("GET", "/healthz", &vars, &[(marker, "/healthz")]);
            assert_eq!(o.response.status, 403, "{marker}: {}", String::from_utf8_lossy(&o.response.body));
        }
        // A wrong secret is still the proxy's header: authenticated (and refused), never health.
        let o = send_with("GET", "/healthz", &vars, &[("X-Certgate-Proxy-Secret", "guess")]);
        assert_eq!(json(&o)["reason"], "proxy_unauthenticated");
    }

    #[test]
    fn forward_auth_settings_fail_closed() {
        let pin = "ab".repeat(32);
        let status =
            |extra: &[(&'static str, &str)]| via_proxy("GET", "/", &forward_vars(&pin, extra), &[]).response.status;
        assert_eq!(status(&[(var::IDENTITY_SIGNING_KEY, "too short")]), 500);
        assert_eq!(status(&[(var::IDENTITY_HEADER_PREFIX, "Bad Prefix")]), 500);
        let long = "x".repeat(65);
        assert_eq!(status(&[(var::IDENTITY_HEADER_PREFIX, long.as_str())]), 500);
        // Named like a header certgate reads: the certificate header, the proof header.
        assert_eq!(status(&[(var::IDENTITY_HEADER_PREFIX, "X-ARR-")]), 500);
        assert_eq!(status(&[(var::IDENTITY_HEADER_PREFIX, "X-Certgate-")]), 500);
        assert_eq!(
            status(&[(var::IDENTITY_HEADER_PREFIX, "X-Upstream-")]),
            403,
            "a good one: refused for the certificate"
        );
        // Report-only would let every client reach the app; no proof would let anyone ask.
        assert_eq!(status(&[(var::MODE, "report-only")]), 500);
        let unproven = [(var::ALLOWED_THUMBPRINTS, pin.as_str()), (var::SERVICE, "forward-auth")];
        assert_eq!(send_with("GET", "/", &unproven, &[]).response.status, 500);
        let unknown = [(var::ALLOWED_THUMBPRINTS, pin.as_str()), (var::SERVICE, "gateway")];
        assert_eq!(send_with("GET", "/", &unknown, &[]).response.status, 500, "an unknown service");
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

    /// The documents' bytes, key order included, for every shape they take: what the
    /// `json!` maps wrote before the bodies became structs (serde_json's map sorts keys).
    #[test]
    fn documents_keep_their_bytes() {
        use crate::extract::Format;
        use crate::policy::pins::{Pin, PinValue};
        let mut cert = ClientCertificate::for_tests("al\"ice");
        cert.dns_names = vec!["a.example".into(), "b.example".into()];
        cert.uris = vec!["spiffe://example/ü".into()];
        cert.emails = vec!["a@example".into()];
        cert.not_before = 1_700_000_000;
        cert.not_after = 1_800_000_000;
        let sha = crate::thumbprint::parse_entry(&"ab".repeat(32)).unwrap();
        let pin = |value, label: Option<&str>| Pin {
            value,
            label: label.map(String::from),
            not_before: None,
            not_after: None,
            source: "pins",
            entry: 2,
        };
        let identity = |trusted_by| Identity {
            certificate: cert.clone(),
            chain: vec![ClientCertificate::for_tests("issuing")],
            format: Format::Pem,
            trusted_by,
            warnings: Vec::new(),
            path_from_cache: false,
        };
        let text = |v: &HttpResponse| String::from_utf8(v.body.clone()).unwrap();
        let cert_head = r#""dns_names":["a.example","b.example"],"emails":["a@example"],"#;
        let cert_middle =
            r#""issuer":"CN=ca","key_sha256":"0000000000000000000000000000000000000000000000000000000000000000","#;
        let cert_tail = concat!(
            r#""not_after":"2027-01-15T08:00:00Z","not_before":"2023-11-14T22:13:20Z","#,
            r#""platform":"envoy","serial":"01","subject":"CN=al\"ice","#,
            r#""thumbprint_sha1":"0000000000000000000000000000000000000000","#,
            r#""thumbprint_sha256":"0000000000000000000000000000000000000000000000000000000000000000","#,
            r#""uris":["spiffe://example/ü"]"#,
        );
        let chain = concat!(
            r#""chain":[{"issuer":"CN=ca","subject":"CN=issuing","#,
            r#""thumbprint_sha256":"0000000000000000000000000000000000000000000000000000000000000000"}],"#
        );
        let platform = Some("envoy");
        for (trusted_by, matched) in [
            (
                TrustedBy::Pin(pin(PinValue::Thumbprint(sha), Some("cur"))),
                format!(
                    r#"{{"algorithm":"sha256","entry":2,"kind":"thumbprint","label":"cur","source":"pins","thumbprint":"{}"}}"#,
                    "ab".repeat(32)
                ),
            ),
            (
                TrustedBy::Pin(pin(PinValue::KeySha256([0xcd; 32]), None)),
                format!(
                    r#"{{"entry":2,"key_sha256":"{}","kind":"key","label":null,"source":"pins"}}"#,
                    "cd".repeat(32)
                ),
            ),
            (TrustedBy::Anchor("CN=Root".into()), r#"{"anchor":"CN=Root","kind":"trust_anchor"}"#.to_string()),
        ] {
            let identity = identity(trusted_by.clone());
            let body = route(WHOAMI_PATH, true, || whoami_body(&identity, platform));
            let expected =
                format!(r#"{{{chain}{cert_head}"format":"pem",{cert_middle}"matched":{matched},{cert_tail}}}"#);
            assert_eq!(text(&body), expected);
            // The decision log carries the same object.
            assert_eq!(matched_json(&trusted_by).to_string(), matched);
        }
        let denial = Denial {
            denied: Denied::Certificate(crate::certificate::CertificateError::SignatureAlgorithmMismatch),
            certificate: Some(Box::new(cert.clone())),
        };
        let body = route(WHOAMI_PATH, true, || whoami_report_only_body(&denial, platform));
        let expected = format!(
            r#"{{"authenticated":false,{cert_head}{cert_middle}{cert_tail},"would_deny":"certificate_malformed"}}"#
        );
        assert_eq!(text(&body), expected);
        let denial = Denial { denied: Denied::Extract(crate::extract::ExtractError::XfccEmpty), certificate: None };
        let body = route(WHOAMI_PATH, true, || whoami_report_only_body(&denial, None));
        assert_eq!(text(&body), r#"{"authenticated":false,"platform":null,"would_deny":"certificate_missing"}"#);

        assert_eq!(text(&route(VALUES_PATH, true, || unreachable!())), r#"["value1","value2"]"#);
        assert_eq!(
            text(&problem(405, Reason::MethodNotAllowed, "use \"GET\"")),
            concat!(
                r#"{"detail":"use \"GET\"","reason":"method_not_allowed","status":405,"#,
                r#""title":"Method not allowed","type":"urn:certgate:reason:method_not_allowed"}"#
            )
        );
        let pin = "ab".repeat(32);
        let vars: &[(&str, &str)] = &[(var::ALLOWED_THUMBPRINTS, &pin)];
        let health = handle("GET", HEALTH_PATH, &Vec::<(String, Vec<u8>)>::new(), &vars, 0);
        assert_eq!(text(&health.response), r#"{"status":"ok"}"#);
    }
}
