//! certgate composed in front of another component (`certgate-middleware.wasm`): the
//! decision for a shell that can only pass the original request on, unchanged, or answer
//! it itself. On WASI 0.2 a component cannot build a new incoming request, so it cannot
//! remove or add headers for the component it wraps: a request carrying a header named like
//! an identity header is refused rather than passed with a claim the app might believe.
//!
//! Free of host bindings like [`crate::service`], which answers health and refusals.

use crate::config::{ConfigError, Service};
use crate::gate::Gate;
use crate::log::LogLine;
use crate::reason::Reason;
use crate::service::{self, Outcome};
use crate::upstream::IdentityHeaders;

/// What to do with a request.
#[derive(Debug)]
pub enum Passage {
    /// Hand the request, unchanged, to the wrapped component; log these lines.
    Pass(Vec<LogLine>),
    /// Answer it with this (health, a refusal, a configuration error).
    Answer(Outcome),
}

/// Why a configuration cannot run as a middleware, if it cannot.
fn unsuitable(gate: &Gate) -> Option<&'static str> {
    let config = gate.config();
    if config.service.service != Service::App {
        return Some("certgate-middleware.wasm passes allowed requests to the component it wraps: service must be app");
    }
    if config.policy.report_only {
        return Some("report-only cannot be combined with certgate-middleware.wasm (it would pass every client)");
    }
    None
}

/// Decide about one request in front of a wrapped component.
pub fn handle(
    gate: &Result<Gate, ConfigError>,
    method: &str,
    path_with_query: &str,
    headers: &[(String, Vec<u8>)],
    now: i64,
) -> Passage {
    let path = service::path_of(path_with_query);
    let gate = match gate {
        Ok(g) if path != service::HEALTH_PATH => g,
        // Health, and a configuration that does not load, as every shell answers them.
        _ => return Passage::Answer(service::respond(gate, method, path_with_query, &headers, now)),
    };
    let mut logs = Vec::new();
    if let Some(problem) = unsuitable(gate) {
        logs.push(
            LogLine::new("error", "configuration_error", now)
                .with("reason", Reason::ConfigurationError.code())
                .with_text("problem", problem),
        );
        let response = service::configuration_refusal(now, method, path, &mut logs);
        return Passage::Answer(Outcome { response, logs });
    }
    let identity = match gate.decide(headers, now) {
        Ok(identity) => identity,
        Err(denial) => {
            let response = service::refusal(now, method, path, denial, &mut logs);
            return Passage::Answer(Outcome { response, logs });
        }
    };
    let prefix = IdentityHeaders::new(&gate.config().service.identity_prefix).unwrap_or_default();
    if let Some((name, _)) = headers.iter().find(|(name, _)| prefix.is_identity_header(name)) {
        let reason = Reason::RequestNotForwardable;
        let response = service::problem(
            reason.status(),
            reason,
            "the request carries headers named like certgate's identity headers",
        );
        logs.push(
            service::gateway_log(now, method, path, response.status, &identity)
                .with("outcome", "deny")
                .with("reason", reason.code())
                .with_text(
                    "detail",
                    &format!("{name} is named like an identity header; a middleware cannot remove it"),
                ),
        );
        let mut response = response;
        if method == "HEAD" {
            response.body.clear();
        }
        return Passage::Answer(Outcome { response, logs });
    }
    // The wrapped component answers; its status is not known here.
    let line = LogLine::new("info", "decision", now)
        .with_text("method", method)
        .with_text("path", path)
        .with("outcome", "pass");
    logs.push(service::with_certificate(line, Some(&identity.certificate)));
    Passage::Pass(logs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::var;
    use certgate_testkit::{encode, Ca, LeafOptions, OffsetDateTime};

    fn now() -> i64 {
        OffsetDateTime::now_utc().unix_timestamp()
    }

    fn reason(o: &Outcome) -> String {
        let v: serde_json::Value = serde_json::from_slice(&o.response.body).unwrap();
        v["reason"].as_str().unwrap().to_string()
    }

    #[test]
    fn allowed_requests_pass_unchanged_and_everything_else_is_answered() {
        let ca = Ca::new("Middleware Root");
        let alice = ca.issue(&LeafOptions::named("alice"));
        let bob = ca.issue(&LeafOptions::named("bob"));
        let pin = alice.sha256_hex();
        let gate = Gate::from_source(&[(var::ALLOWED_THUMBPRINTS, pin.as_str())]);
        let with = |c: &certgate_testkit::Issued, extra: &[(&str, &str)]| {
            let mut h = vec![("x-arr-clientcert".to_string(), encode::base64_der(&c.der).into_bytes())];
            h.extend(extra.iter().map(|(k, v)| (k.to_string(), v.as_bytes().to_vec())));
            h
        };
        let Passage::Pass(logs) = handle(&gate, "POST", "/orders?x=1", &with(&alice, &[]), now()) else {
            panic!("alice was not passed")
        };
        let line = logs[0].render();
        assert!(line.contains(r#""outcome":"pass""#) && line.contains(&alice.sha256_hex()), "{line}");
        let Passage::Answer(o) = handle(&gate, "GET", "/", &with(&bob, &[]), now()) else { panic!("bob passed") };
        assert_eq!((o.response.status, reason(&o).as_str()), (403, "certificate_not_allowed"));
        let Passage::Answer(o) = handle(&gate, "GET", "/healthz", &[], now()) else { panic!("health passed") };
        assert_eq!(o.response.status, 200);
        // A claim the app might read is never passed: the middleware cannot remove it.
        for spoof in ["X-Certgate-Client-Subject", "x_certgate_client_sha256", "X-CERTGATE-CLIENT-Role"] {
            let Passage::Answer(o) = handle(&gate, "GET", "/", &with(&alice, &[(spoof, "CN=admin")]), now()) else {
                panic!("{spoof} passed")
            };
            assert_eq!((o.response.status, reason(&o).as_str()), (400, "request_not_forwardable"), "{spoof}");
        }
    }

    #[test]
    fn configurations_a_middleware_cannot_honour_refuse_everything() {
        let pin = "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678";
        for vars in [
            vec![(var::ALLOWED_THUMBPRINTS, pin), (var::MODE, "report-only")],
            vec![
                (var::ALLOWED_THUMBPRINTS, pin),
                (var::SERVICE, "forward-auth"),
                (var::PROXY_SECRET, "0123456789abcdef"),
            ],
            vec![(var::ALLOWED_THUMBPRINTS, "not a pin")],
        ] {
            let gate = Gate::from_source(&vars.as_slice());
            let Passage::Answer(o) = handle(&gate, "GET", "/x", &[], now()) else { panic!("{vars:?} passed") };
            assert_eq!((o.response.status, reason(&o).as_str()), (500, "configuration_error"), "{vars:?}");
        }
    }
}
