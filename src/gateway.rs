//! `service = gateway`: certgate in front of an upstream, forwarding what it allows.
//!
//! Free of host bindings like [`crate::service`]: [`handle`] decides and either answers
//! (health, a refusal) or returns a [`Forward`], the exact request to send upstream
//! (method, target, the headers with everything certgate reads or writes taken out and the
//! identity headers added) and the limits to send it within. The shell that owns the
//! network (the component's `wasi:http/outgoing-handler` glue) streams the bodies and
//! reports back through [`Forward`]'s methods, which write the log lines and the problem
//! responses, so every shell words them the same.

use crate::config::{ConfigError, GatewaySettings, Service};
use crate::decision::Identity;
use crate::gate::Gate;
use crate::log::LogLine;
use crate::reason::Reason;
use crate::service::{self, Outcome};
use crate::store::KeyValue;
use crate::upstream::IdentityHeaders;

/// What to do with a request.
#[derive(Debug)]
pub enum Handling {
    /// Answer it with this (health, a refusal, a configuration error).
    Answer(Outcome),
    /// Forward it upstream.
    Forward(Box<Forward>),
}

/// An allowed request, ready to be sent upstream.
#[derive(Debug)]
pub struct Forward {
    /// The method, as received.
    pub method: String,
    /// `http` or `https`.
    pub scheme: &'static str,
    /// The upstream's `host[:port]`.
    pub authority: String,
    /// The upstream's base path followed by the request's path and query.
    pub path_with_query: String,
    /// The headers to send, in order: the client's, less the ones certgate reads, writes
    /// or a proxy consumes, then the identity headers.
    pub headers: Vec<(String, Vec<u8>)>,
    /// The largest request body to forward.
    pub max_body_bytes: u64,
    /// Connect timeout, in nanoseconds.
    pub connect_timeout_ns: u64,
    /// Wait for the response headers and between pieces of the response body, in nanoseconds.
    pub timeout_ns: u64,
    path: String,
    now: i64,
    identity: Identity,
}

/// Why the upstream gave no response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UpstreamFailure {
    /// Not reachable, refused, TLS or protocol failure, denied by the host: `502`.
    Unavailable(String),
    /// No connection or no response headers in time: `504`.
    Timeout(String),
    /// The request body grew past the limit while it was streamed: `413`.
    BodyTooLarge,
}

/// Headers a hop consumes (RFC 9110 section 7.6.1) or the host sets itself: never copied
/// from one side to the other. `expect` too: the host's client speaks for itself.
const HOP_BY_HOP: [&str; 12] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "proxy-authorization",
    "proxy-authenticate",
    "host",
    "http2-settings",
    "expect",
];

/// Header names compared as HTTP does (ASCII case) and as CGI-style servers do (`_` is
/// `-`), so a client cannot slip a header past the filter that an upstream reads as a
/// filtered one.
fn same_name(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).all(|(x, y)| fold(x) == fold(y))
}

fn fold(b: u8) -> u8 {
    match b {
        b'_' => b'-',
        _ => b.to_ascii_lowercase(),
    }
}

fn starts_with_name(name: &str, prefix: &str) -> bool {
    name.len() >= prefix.len() && name.bytes().zip(prefix.bytes()).all(|(x, y)| fold(x) == fold(y))
}

/// Every header name certgate reads for its decision: none of them goes upstream.
fn read_headers(gate: &Gate) -> Vec<&str> {
    let config = gate.config();
    let e = &config.extraction;
    let p = &config.policy;
    [Some(e.header.as_str()), e.chain_header.as_deref(), e.digest_header.as_deref()]
        .into_iter()
        .flatten()
        .chain(e.too_large_flag.as_ref().map(|f| f.header.as_str()))
        .chain(p.shared_secret.as_ref().map(|s| s.header.as_str()))
        .chain(p.signature.as_ref().map(|s| s.header.as_str()))
        .chain(p.verdicts.iter().map(|v| v.header.as_str()))
        .collect()
}

/// The names a `Connection` header lists (hop-by-hop for this hop only).
fn connection_options(headers: &[(String, Vec<u8>)]) -> Vec<String> {
    headers
        .iter()
        .filter(|(name, _)| same_name(name, "connection"))
        .flat_map(|(_, value)| {
            String::from_utf8_lossy(value).split(',').map(|o| o.trim().to_string()).collect::<Vec<_>>()
        })
        .filter(|o| !o.is_empty())
        .collect()
}

/// The client's headers as they go upstream: without hop-by-hop headers, certgate's
/// inputs (certificate, chain, digest, proofs, verdicts) and anything named like an
/// identity header; the original host (`Host`, or the request's authority where the host
/// keeps `Host` from the guest) as `X-Forwarded-Host`, replacing any the client sent;
/// then the identity headers.
fn upstream_headers(
    gate: &Gate,
    identity_headers: &IdentityHeaders,
    identity: &Identity,
    request: &Request<'_>,
    now: i64,
) -> Vec<(String, Vec<u8>)> {
    let headers = request.headers;
    let read = read_headers(gate);
    let options = connection_options(headers);
    let dropped = |name: &str| {
        HOP_BY_HOP.iter().any(|h| same_name(name, h))
            || options.iter().any(|o| same_name(name, o))
            || read.iter().any(|h| same_name(name, h))
            || starts_with_name(name, identity_headers.prefix())
            // Spin's own request metadata (`spin-full-url`, `spin-client-addr`, ...) describes
            // certgate's route; Spin writes the upstream's afresh on a chained request.
            || starts_with_name(name, "spin-")
    };
    // A client's own X-Forwarded-Host (in any spelling) never goes up: an upstream that
    // trusts certgate as its proxy builds links and cache keys from it.
    let mut out: Vec<(String, Vec<u8>)> = headers
        .iter()
        .filter(|(name, _)| !dropped(name) && !same_name(name, "x-forwarded-host"))
        .map(|(n, v)| (n.to_ascii_lowercase(), v.clone()))
        .collect();
    let host = headers.iter().find(|(name, _)| name.eq_ignore_ascii_case("host")).map(|(_, v)| v.clone());
    if let Some(host) = host.or_else(|| request.authority.map(|a| a.as_bytes().to_vec())) {
        out.push(("x-forwarded-host".to_string(), host));
    }
    for (name, value) in identity_headers.for_identity(identity, now) {
        out.push((name.to_ascii_lowercase(), value.into_bytes()));
    }
    out
}

/// `%XX` decoded (malformed escapes kept as they are).
fn percent_decoded(segment: &str) -> Vec<u8> {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| char::from(b).to_digit(16);
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                // Two hex digits: at most 255.
                out.push(u8::try_from(h * 16 + l).unwrap_or(0));
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
}

/// Whether a path segment could be taken for `.` or `..` by some upstream: as sent and
/// percent-decoded (once, and twice for upstreams that decode again), split at `/` and `\`,
/// each piece up to its first `;` (Tomcat and Jetty drop `;parameters` before normalising)
/// and without trailing spaces or NULs (Windows trims them), is refused if it is only dots.
fn is_dot_segment(segment: &str) -> bool {
    let once = percent_decoded(segment);
    let twice = percent_decoded(&String::from_utf8_lossy(&once));
    [segment.as_bytes().to_vec(), once, twice].iter().any(|decoded| {
        decoded.split(|&b| b == b'/' || b == b'\\').any(|piece| {
            let piece = piece.split(|&b| b == b';').next().unwrap_or_default();
            let end = piece.iter().rposition(|&b| b != b' ' && b != 0).map_or(0, |i| i + 1);
            let piece = &piece[..end];
            !piece.is_empty() && piece.iter().all(|&b| b == b'.')
        })
    })
}

/// Whether the target is a path (origin form) without `.` or `..` segments in any form
/// [`is_dot_segment`] knows, and without a fragment: an upstream that normalises such a
/// path would serve a resource outside the base path, or a different one than certgate saw.
fn forwardable(path_with_query: &str) -> bool {
    if path_with_query.contains('#') {
        return false;
    }
    let path = path_with_query.split('?').next().unwrap_or_default();
    path.starts_with('/') && !path.split('/').any(is_dot_segment)
}

/// The request's `Content-Length`, if it has exactly one that is a number.
fn content_length(headers: &[(String, Vec<u8>)]) -> Option<u64> {
    let mut values = headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case("content-length"));
    let (_, value) = values.next()?;
    std::str::from_utf8(value).ok()?.trim().parse().ok()
}

/// One request as the shell received it.
#[derive(Clone, Copy, Debug)]
pub struct Request<'a> {
    /// The method, upper case as received.
    pub method: &'a str,
    /// The path and query.
    pub path_with_query: &'a str,
    /// The authority it was sent to, if the host says (hosts keep `Host` from the guest).
    pub authority: Option<&'a str>,
    /// Every header line, in order.
    pub headers: &'a [(String, Vec<u8>)],
}

/// Decide about one request for `service = gateway`, with the key-value store `kv` (read
/// only when `keyvalue_store` is configured). Any other configuration (and `/healthz`) is
/// answered by [`service::respond_with_store`] as usual.
pub fn handle(gate: &Result<Gate, ConfigError>, request: &Request<'_>, now: i64, kv: &dyn KeyValue) -> Handling {
    let Request { method, path_with_query, headers, .. } = *request;
    let answer = || Handling::Answer(service::respond_with_store(gate, method, path_with_query, &headers, now, kv));
    let (gate, settings) = match gate {
        Ok(g) => match (&g.config().service.gateway, g.config().service.service) {
            (Some(settings), Service::Gateway) => (g, settings),
            _ => return answer(),
        },
        Err(_) => return answer(),
    };
    let path = service::path_of(path_with_query);
    if path == service::HEALTH_PATH {
        return answer();
    }
    let mut logs = Vec::new();
    let Ok(identity_headers) = service::identity_headers(gate) else {
        let response = service::configuration_refusal(now, method, path, &mut logs);
        return Handling::Answer(Outcome { response, logs });
    };
    let identity = match gate.decide_with(headers, now, kv) {
        Ok(identity) => identity,
        Err(denial) => {
            let response = service::refusal(now, method, path, denial, &mut logs);
            return Handling::Answer(Outcome { response, logs });
        }
    };
    let refuse = |reason: Reason, public: &'static str, detail: &str, identity: &Identity| {
        let response = service::problem(reason.status(), reason, public);
        let logs = vec![service::gateway_log(now, method, path, response.status, identity)
            .with("outcome", "deny")
            .with("reason", reason.code())
            .with_text("detail", detail)];
        Handling::Answer(Outcome { response, logs })
    };
    if method.eq_ignore_ascii_case("TRACE") {
        // An upstream's TRACE echoes the request: certgate's signed identity headers included.
        let public = "TRACE is not forwarded";
        return refuse(Reason::RequestNotForwardable, public, "TRACE would echo the identity headers", &identity);
    }
    if !forwardable(path_with_query) {
        let public = "the request path has dot segments or is not a path";
        return refuse(
            Reason::RequestNotForwardable,
            public,
            "the target has dot segments or is not a path",
            &identity,
        );
    }
    if let Some(length) = content_length(headers).filter(|&n| n > settings.max_request_body_bytes) {
        let detail =
            format!("Content-Length {length} is over max_request_body_bytes ({})", settings.max_request_body_bytes);
        return refuse(Reason::RequestBodyTooLarge, Reason::RequestBodyTooLarge.public_detail(), &detail, &identity);
    }
    Handling::Forward(Box::new(Forward::new(gate, settings, &identity_headers, identity, request, now)))
}

impl Forward {
    fn new(
        gate: &Gate,
        settings: &GatewaySettings,
        identity_headers: &IdentityHeaders,
        identity: Identity,
        request: &Request<'_>,
        now: i64,
    ) -> Self {
        let Request { method, path_with_query, .. } = *request;
        const NS: u64 = 1_000_000_000;
        Forward {
            method: method.to_string(),
            scheme: settings.upstream.scheme(),
            authority: settings.upstream.authority.clone(),
            path_with_query: format!("{}{path_with_query}", settings.upstream.base_path),
            headers: upstream_headers(gate, identity_headers, &identity, request, now),
            max_body_bytes: settings.max_request_body_bytes,
            connect_timeout_ns: settings.connect_timeout_seconds.saturating_mul(NS),
            timeout_ns: settings.timeout_seconds.saturating_mul(NS),
            path: service::path_of(path_with_query).to_string(),
            now,
            identity,
        }
    }

    /// The time the request was decided at (Unix seconds).
    pub fn now(&self) -> i64 {
        self.now
    }

    /// The identity the request is forwarded with.
    pub fn identity(&self) -> &Identity {
        &self.identity
    }

    /// The upstream answered with `status`: the decision line, and the response headers to
    /// pass on (hop-by-hop ones removed; for `HEAD` and bodiless statuses also
    /// `Content-Length`, which the host would otherwise hold the empty body to).
    pub fn answered(&self, status: u16, headers: &[(String, Vec<u8>)]) -> (Vec<(String, Vec<u8>)>, LogLine) {
        let options = connection_options(headers);
        let bodiless = self.method == "HEAD" || status == 204 || status == 304 || (100..200).contains(&status);
        let passed = headers
            .iter()
            .filter(|(name, _)| {
                !(HOP_BY_HOP.iter().any(|h| same_name(name, h))
                    || options.iter().any(|o| same_name(name, o))
                    || (bodiless && name.eq_ignore_ascii_case("content-length")))
            })
            .cloned()
            .collect();
        (passed, service::allow_log(self.now, &self.method, &self.path, status, &self.identity))
    }

    /// The upstream gave no response: the problem to answer and its decision line.
    pub fn failed(&self, failure: UpstreamFailure) -> Outcome {
        let (reason, detail) = match failure {
            UpstreamFailure::Unavailable(d) => (Reason::UpstreamUnavailable, d),
            UpstreamFailure::Timeout(d) => (Reason::UpstreamTimeout, d),
            UpstreamFailure::BodyTooLarge => (
                Reason::RequestBodyTooLarge,
                format!("the streamed body grew past max_request_body_bytes ({})", self.max_body_bytes),
            ),
        };
        let mut response = service::problem(reason.status(), reason, reason.public_detail());
        if self.method == "HEAD" {
            response.body.clear();
        }
        let line = service::gateway_log(self.now, &self.method, &self.path, response.status, &self.identity)
            .with("outcome", "upstream_error")
            .with("reason", reason.code())
            .with_text("detail", &detail);
        Outcome { response, logs: vec![line] }
    }

    /// The response was cut off after its headers went out (the upstream's body broke off or
    /// stalled, or the client went away): the line to log.
    pub fn response_cut_off(&self, detail: &str) -> LogLine {
        let line = LogLine::new("warn", "response_cut_off", self.now)
            .with_text("method", &self.method)
            .with_text("path", &self.path)
            .with_text("detail", detail);
        service::with_certificate(line, Some(&self.identity.certificate))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::var;
    use certgate_testkit::{encode, Ca, Issued, LeafOptions, OffsetDateTime};

    const SECRET: &str = "gateway-proxy-secret-123";

    fn now() -> i64 {
        OffsetDateTime::now_utc().unix_timestamp()
    }

    fn gate(pin: &str, extra: &[(&str, &str)]) -> Result<Gate, ConfigError> {
        let mut vars: Vec<(&str, &str)> = vec![
            (var::ALLOWED_THUMBPRINTS, pin),
            (var::SERVICE, "gateway"),
            (var::UPSTREAM, "http://127.0.0.1:8081/base"),
            (var::PROXY_SECRET, SECRET),
        ];
        vars.extend_from_slice(extra);
        Gate::from_source(&vars.as_slice())
    }

    fn headers(cert: Option<&Issued>, extra: &[(&str, &str)]) -> Vec<(String, Vec<u8>)> {
        let mut h: Vec<(String, Vec<u8>)> = vec![
            ("host".into(), b"certgate.example".to_vec()),
            ("x-certgate-proxy-secret".into(), SECRET.as_bytes().to_vec()),
        ];
        if let Some(c) = cert {
            h.push(("x-arr-clientcert".into(), encode::base64_der(&c.der).into_bytes()));
        }
        h.extend(extra.iter().map(|(k, v)| (k.to_string(), v.as_bytes().to_vec())));
        h
    }

    fn req<'a>(method: &'a str, path_with_query: &'a str, headers: &'a [(String, Vec<u8>)]) -> Request<'a> {
        Request { method, path_with_query, authority: None, headers }
    }

    fn forward(h: Handling) -> Box<Forward> {
        match h {
            Handling::Forward(f) => f,
            Handling::Answer(o) => {
                panic!("answered {} {:?}", o.response.status, String::from_utf8_lossy(&o.response.body))
            }
        }
    }

    fn answer(h: Handling) -> Outcome {
        match h {
            Handling::Answer(o) => o,
            Handling::Forward(f) => panic!("forwarded to {}", f.path_with_query),
        }
    }

    fn reason(o: &Outcome) -> String {
        let v: serde_json::Value = serde_json::from_slice(&o.response.body).unwrap();
        v["reason"].as_str().unwrap().to_string()
    }

    fn names(h: &[(String, Vec<u8>)]) -> Vec<&str> {
        h.iter().map(|(n, _)| n.as_str()).collect()
    }

    #[test]
    fn an_allowed_request_goes_upstream_with_certgates_identity_and_nothing_it_reads() {
        let ca = Ca::new("Gateway Root");
        let alice = ca.issue(&LeafOptions::named("alice").dns("alice.example"));
        let g = gate(&alice.sha256_hex(), &[]);
        let sent = headers(
            Some(&alice),
            &[
                ("Accept", "application/json"),
                ("X-Certgate-Client-Subject", "CN=admin"),
                ("x-certgate-client_sha256", "00"),
                ("X_CERTGATE_CLIENT-Matched", "admin"),
                ("X_ARR_CLIENTCERT", "spoof"),
                ("x-certgate-proxy_secret", "copy"),
                ("Connection", "keep-alive, X-Hop"),
                ("x-hop", "1"),
                ("transfer-encoding", "chunked"),
                ("te", "trailers"),
                ("upgrade", "h2c"),
                ("proxy-authorization", "Basic x"),
                ("expect", "100-continue"),
                ("content-length", "5"),
                ("x-request-id", "r-1"),
                ("spin-client-addr", "10.0.0.1:1"),
                ("spin_full_url", "http://evil.example/"),
            ],
        );
        let f = forward(handle(&g, &req("POST", "/orders/42?x=1&y=../z", &sent), now(), &crate::store::NoKeyValue));
        assert_eq!((f.method.as_str(), f.scheme, f.authority.as_str()), ("POST", "http", "127.0.0.1:8081"));
        assert_eq!(f.path_with_query, "/base/orders/42?x=1&y=../z");
        let got = names(&f.headers);
        assert_eq!(
            got[..4],
            ["accept", "content-length", "x-request-id", "x-forwarded-host"],
            "the client's own headers, in order, then the original host: {got:?}"
        );
        let identity: Vec<&str> = got[4..].to_vec();
        assert_eq!(identity.len(), crate::upstream::FIELDS.len(), "{got:?}");
        assert!(identity.iter().all(|n| n.starts_with("x-certgate-client-")), "{got:?}");
        let value =
            |name: &str| f.headers.iter().find(|(n, _)| n == name).map(|(_, v)| String::from_utf8_lossy(v).to_string());
        assert_eq!(value("x-certgate-client-subject").as_deref(), Some("CN=alice"));
        assert_eq!(value("x-certgate-client-sha256"), Some(alice.sha256_hex()));
        assert_eq!(value("x-forwarded-host").as_deref(), Some("certgate.example"));
        assert_eq!(f.headers.iter().filter(|(n, _)| n == "x-certgate-client-subject").count(), 1);
        assert_eq!((f.max_body_bytes, f.connect_timeout_ns, f.timeout_ns), (10 << 20, 5_000_000_000, 30_000_000_000));
    }

    #[test]
    fn x_forwarded_host_is_always_certgates_and_odd_names_are_safe() {
        let ca = Ca::new("Gateway Root");
        let alice = ca.issue(&LeafOptions::named("alice"));
        let g = gate(&alice.sha256_hex(), &[]);
        let h = headers(Some(&alice), &[("X-Forwarded-Host", "outer.example")]);
        let f = forward(handle(&g, &req("GET", "/", &h), now(), &crate::store::NoKeyValue));
        let hosts: Vec<_> = f.headers.iter().filter(|(n, _)| n == "x-forwarded-host").map(|(_, v)| v.clone()).collect();
        assert_eq!(hosts, [b"certgate.example".to_vec()], "the client's own is replaced");
        let h = headers(Some(&alice), &[("x_forwarded_host", "evil.example"), ("X-Forwarded_Host", "evil.example")]);
        let f = forward(handle(&g, &req("GET", "/", &h), now(), &crate::store::NoKeyValue));
        let hosts: Vec<_> = f
            .headers
            .iter()
            .filter(|(n, _)| same_name(n, "x-forwarded-host"))
            .map(|(n, v)| (n.clone(), v.clone()))
            .collect();
        assert_eq!(hosts, [("x-forwarded-host".to_string(), b"certgate.example".to_vec())]);
        // Names that are not ASCII are compared, never sliced.
        let h = headers(Some(&alice), &[("x-certgate-client\u{e9}", "x"), ("\u{e9}", "y")]);
        let f = forward(handle(&g, &req("GET", "/", &h), now(), &crate::store::NoKeyValue));
        assert!(f.headers.iter().any(|(n, _)| n == "\u{e9}"));
        let o = answer(handle(&g, &req("TRACE", "/", &headers(Some(&alice), &[])), now(), &crate::store::NoKeyValue));
        assert_eq!((o.response.status, reason(&o).as_str()), (400, "request_not_forwardable"));
        // Where the host keeps `Host` from the guest, the request's authority stands in.
        let mut no_host = headers(Some(&alice), &[]);
        no_host.retain(|(n, _)| n != "host");
        let asked =
            Request { method: "GET", path_with_query: "/", authority: Some("edge.example:8443"), headers: &no_host };
        let f = forward(handle(&g, &asked, now(), &crate::store::NoKeyValue));
        let hosts: Vec<_> = f.headers.iter().filter(|(n, _)| n == "x-forwarded-host").map(|(_, v)| v.clone()).collect();
        assert_eq!(hosts, [b"edge.example:8443".to_vec()]);
    }

    #[test]
    fn refusals_health_and_other_services_are_answered_not_forwarded() {
        let ca = Ca::new("Gateway Root");
        let alice = ca.issue(&LeafOptions::named("alice"));
        let mallory = ca.issue(&LeafOptions::named("mallory"));
        let g = gate(&alice.sha256_hex(), &[]);
        let o = answer(handle(&g, &req("GET", "/x", &headers(Some(&mallory), &[])), now(), &crate::store::NoKeyValue));
        assert_eq!((o.response.status, reason(&o).as_str()), (403, "certificate_not_allowed"));
        let o = answer(handle(&g, &req("GET", "/x", &headers(None, &[])), now(), &crate::store::NoKeyValue));
        assert_eq!(reason(&o), "certificate_missing");
        let mut no_secret = headers(Some(&alice), &[]);
        no_secret.retain(|(n, _)| n != "x-certgate-proxy-secret");
        assert_eq!(
            reason(&answer(handle(&g, &req("GET", "/x", &no_secret), now(), &crate::store::NoKeyValue))),
            "proxy_unauthenticated"
        );
        let o = answer(handle(&g, &req("GET", "/healthz", &headers(None, &[])), now(), &crate::store::NoKeyValue));
        assert_eq!((o.response.status, o.response.body.as_slice()), (200, &br#"{"status":"ok"}"#[..]));
        // The app service answers its own routes.
        let pin = alice.sha256_hex();
        let app = Gate::from_source(&[(var::ALLOWED_THUMBPRINTS, pin.as_str())]);
        assert_eq!(
            answer(handle(
                &app,
                &req("GET", "/api/values", &headers(Some(&alice), &[])),
                now(),
                &crate::store::NoKeyValue
            ))
            .response
            .status,
            200
        );
        // A broken configuration is refused, health says 503.
        let broken = gate("not-a-pin", &[]);
        assert_eq!(
            answer(handle(&broken, &req("GET", "/x", &headers(Some(&alice), &[])), now(), &crate::store::NoKeyValue))
                .response
                .status,
            500
        );
        assert_eq!(
            answer(handle(&broken, &req("GET", "/healthz", &[]), now(), &crate::store::NoKeyValue)).response.status,
            503
        );
    }

    #[test]
    fn a_shell_that_cannot_forward_refuses_a_gateway_configuration() {
        let ca = Ca::new("Gateway Root");
        let alice = ca.issue(&LeafOptions::named("alice"));
        let g = gate(&alice.sha256_hex(), &[]);
        let o = service::respond(&g, "GET", "/x", &headers(Some(&alice), &[]), now());
        assert_eq!((o.response.status, reason(&o).as_str()), (500, "configuration_error"));
        assert!(o.logs.iter().any(|l| l.render().contains("needs a shell that forwards")), "{:?}", o.logs);
        assert_eq!(service::respond(&g, "GET", "/healthz", &headers(None, &[]), now()).response.status, 200);
    }

    #[test]
    fn dot_segments_plain_or_encoded_are_never_forwarded() {
        let ca = Ca::new("Gateway Root");
        let alice = ca.issue(&LeafOptions::named("alice"));
        let g = gate(&alice.sha256_hex(), &[]);
        let h = headers(Some(&alice), &[]);
        for target in [
            "/a/../b",
            "/..",
            "/.",
            "/a/./b",
            "/a/%2e%2e/b",
            "/a/%2E%2e",
            "/a/.%2e/b",
            "/a/%2e./b",
            "/a/..%2fb",
            "/a/..%5cb",
            "/a/%5c..%5cb",
            "/a\\..\\b",
            "/a/%2e",
            "*",
            "a/b",
            "",
            "/..;/admin",
            "/a/..;x=1/b",
            "/.;/x",
            "/a/..%3b/b",
            "/a/%252e%252e/b",
            "/a/..%00/b",
            "/a/..%20/b",
            "/a/.../b",
            "/a/..#/x",
            "/x#f",
        ] {
            let o = answer(handle(&g, &req("GET", target, &h), now(), &crate::store::NoKeyValue));
            assert_eq!((o.response.status, reason(&o).as_str()), (400, "request_not_forwardable"), "{target}");
        }
        for target in
            ["/a/..b", "/a/b..", "/.well-known/x", "/a/%2e%2ex", "/x?path=../../etc", "/%", "/%2", "/a%zz", "/a;v=1/b"]
        {
            let f = forward(handle(&g, &req("GET", target, &h), now(), &crate::store::NoKeyValue));
            assert_eq!(f.path_with_query, format!("/base{target}"));
        }
    }

    #[test]
    fn the_body_limit_refuses_a_declared_length_before_the_upstream_is_asked() {
        let ca = Ca::new("Gateway Root");
        let alice = ca.issue(&LeafOptions::named("alice"));
        let g = gate(&alice.sha256_hex(), &[(var::MAX_REQUEST_BODY_BYTES, "100")]);
        let o = answer(handle(
            &g,
            &req("PUT", "/u", &headers(Some(&alice), &[("content-length", "101")])),
            now(),
            &crate::store::NoKeyValue,
        ));
        assert_eq!((o.response.status, reason(&o).as_str()), (413, "request_body_too_large"));
        let body = String::from_utf8_lossy(&o.response.body).to_string();
        assert!(!body.contains("100"), "the limit is configuration: {body}");
        assert!(o.logs[0].render().contains("max_request_body_bytes (100)"));
        let f = forward(handle(
            &g,
            &req("PUT", "/u", &headers(Some(&alice), &[("content-length", "100")])),
            now(),
            &crate::store::NoKeyValue,
        ));
        assert_eq!(f.max_body_bytes, 100);
    }

    #[test]
    fn upstream_failures_are_reasoned_problems_that_name_nothing_of_the_upstream() {
        let ca = Ca::new("Gateway Root");
        let alice = ca.issue(&LeafOptions::named("alice"));
        let g = gate(&alice.sha256_hex(), &[]);
        let f = forward(handle(&g, &req("GET", "/x", &headers(Some(&alice), &[])), now(), &crate::store::NoKeyValue));
        for (failure, status, code) in [
            (UpstreamFailure::Unavailable("ConnectionRefused at 127.0.0.1:8081".into()), 502, "upstream_unavailable"),
            (UpstreamFailure::Timeout("no response headers in 30 s".into()), 504, "upstream_timeout"),
            (UpstreamFailure::BodyTooLarge, 413, "request_body_too_large"),
        ] {
            let o = f.failed(failure);
            assert_eq!((o.response.status, reason(&o).as_str()), (status, code));
            let body = String::from_utf8_lossy(&o.response.body).to_string();
            assert!(!body.contains("127.0.0.1") && !body.contains("30 s"), "{body}");
            let line = o.logs[0].render();
            assert!(line.contains(r#""outcome":"upstream_error""#) && line.contains(&alice.sha256_hex()), "{line}");
        }
        assert!(f.failed(UpstreamFailure::Unavailable("x".into())).logs[0].render().contains(r#""detail":"x""#));
    }

    #[test]
    fn response_headers_lose_hop_by_hop_ones_and_a_bodiless_length() {
        let ca = Ca::new("Gateway Root");
        let alice = ca.issue(&LeafOptions::named("alice"));
        let g = gate(&alice.sha256_hex(), &[]);
        let upstream: Vec<(String, Vec<u8>)> = [
            ("content-type", "text/plain"),
            ("content-length", "12"),
            ("connection", "close, x-internal"),
            ("x-internal", "1"),
            ("keep-alive", "timeout=5"),
            ("transfer-encoding", "chunked"),
            ("set-cookie", "a=1"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.as_bytes().to_vec()))
        .collect();
        let get = forward(handle(&g, &req("GET", "/x", &headers(Some(&alice), &[])), now(), &crate::store::NoKeyValue));
        let (passed, line) = get.answered(200, &upstream);
        assert_eq!(names(&passed), ["content-type", "content-length", "set-cookie"]);
        let line = line.render();
        assert!(line.contains(r#""outcome":"allow""#) && line.contains(r#""status":200"#), "{line}");
        let head =
            forward(handle(&g, &req("HEAD", "/x", &headers(Some(&alice), &[])), now(), &crate::store::NoKeyValue));
        assert_eq!(names(&head.answered(200, &upstream).0), ["content-type", "set-cookie"]);
        assert_eq!(names(&get.answered(304, &upstream).0), ["content-type", "set-cookie"]);
        assert!(get.response_cut_off("upstream body stalled").render().contains(r#""event":"response_cut_off""#));
    }

    #[test]
    fn gateway_configuration_is_checked_when_read() {
        let pin = "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678";
        let load = |vars: &[(&str, &str)]| crate::config::Config::load(&vars).map(|_| ()).map_err(|e| e.to_string());
        assert!(load(&[(var::ALLOWED_THUMBPRINTS, pin), (var::SERVICE, "gateway")]).unwrap_err().contains("upstream"));
        let e = load(&[(var::ALLOWED_THUMBPRINTS, pin), (var::UPSTREAM, "http://a.example")]).unwrap_err();
        assert!(e.contains("service = gateway"), "{e}");
        let e = load(&[(var::ALLOWED_THUMBPRINTS, pin), (var::SERVICE, "gateway"), (var::UPSTREAM, "a.example")])
            .unwrap_err();
        assert!(e.contains("http:// or https://"), "{e}");
        let e = load(&[
            (var::ALLOWED_THUMBPRINTS, pin),
            (var::SERVICE, "gateway"),
            (var::UPSTREAM, "http://a.example"),
            (var::MODE, "report-only"),
        ])
        .unwrap_err();
        assert!(e.contains("report-only"), "{e}");
        let e = load(&[
            (var::ALLOWED_THUMBPRINTS, pin),
            (var::SERVICE, "gateway"),
            (var::UPSTREAM, "http://a.example"),
            (var::UPSTREAM_TIMEOUT_SECONDS, "0"),
        ])
        .unwrap_err();
        assert!(e.contains("between 1 and 600"), "{e}");
        // A gateway needs no proof of origin (certgate faces the terminator as the app does).
        assert_eq!(
            load(&[(var::ALLOWED_THUMBPRINTS, pin), (var::SERVICE, "gateway"), (var::UPSTREAM, "https://a.example")]),
            Ok(())
        );
    }
}
