//! The HTTP contract on every target (the library, and certgate.wasm in wasmtime with a
//! host binding of the draft wasi:config/store, one fresh instance per request, as Spin
//! runs it): health, routes, methods, the identity document, the log lines, refusals and
//! configuration errors. Each test runs as `<name>::native` and `<name>::wasm`. The format
//! and reason matrix itself is tests/vectors.rs; what only the component has, tests/wasm.rs.

use certgate_testkit::{encode, Ca, Issued, KeyKind, LeafOptions};
use certgate_tests::{assert_problem, decision_line, get, on_every_target, request, Target};

struct Pki {
    ca: Ca,
    alice: Issued,
    bob: Issued,
}

fn pki() -> &'static Pki {
    static PKI: std::sync::OnceLock<Pki> = std::sync::OnceLock::new();
    PKI.get_or_init(|| {
        let ca = Ca::new("certgate test root");
        let alice = ca.issue(
            &LeafOptions::named("alice")
                .dns("alice.example")
                .uri("spiffe://prod.example/ns/payments/sa/alice")
                .email("alice@example.com"),
        );
        let bob = ca.issue(&LeafOptions::named("bob"));
        Pki { ca, alice, bob }
    })
}

async fn healthz_reports_configuration_state(target: &dyn Target) {
    let ok = get("/healthz").pins(&pki().alice.sha256_hex()).on(target).await;
    assert_eq!(ok.status, 200);
    assert_eq!(ok.header("content-type"), Some("application/json"));
    assert_eq!(ok.json().unwrap(), serde_json::json!({"status": "ok"}));

    let bad = get("/healthz").on(target).await;
    assert_problem(&bad, 503, "configuration_error");
    let head = request("HEAD", "/healthz").pins(&pki().alice.sha256_hex()).on(target).await;
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
    let post = request("POST", "/healthz").pins(&pki().alice.sha256_hex()).on(target).await;
    assert_problem(&post, 405, "method_not_allowed");
    assert_eq!(post.header("allow"), Some("GET, HEAD"));
}

async fn values_with_an_allowed_certificate(target: &dyn Target) {
    let alice = &pki().alice;
    let response = get("/api/values")
        .pins(&alice.sha1_hex())
        .header("X-ARR-ClientCert", encode::base64_der(&alice.der))
        .on(target)
        .await;
    assert_eq!(response.status, 200, "{}", String::from_utf8_lossy(&response.body));
    assert_eq!(response.header("content-type"), Some("application/json"));
    assert_eq!(response.header("cache-control"), Some("no-store"));
    assert_eq!(response.json().unwrap(), serde_json::json!(["value1", "value2"]));
    let log = decision_line(&response);
    assert_eq!(log["outcome"], "allow");
    assert_eq!(log["path"], "/api/values");
    assert_eq!(log["thumbprint_sha256"], alice.sha256_hex());
    assert_eq!(log["subject"], "CN=alice");
    assert!(!response.stderr.contains(&encode::base64_der(&alice.der)[..40]), "the certificate is never logged");
}

async fn whoami_reports_the_identity(target: &dyn Target) {
    let alice = &pki().alice;
    let pins = format!("{};sha256:{}", pki().bob.sha256_hex(), alice.sha256_hex().to_uppercase());
    let response =
        get("/api/whoami").pins(&pins).header("X-ARR-ClientCert", encode::base64_der(&alice.der)).on(target).await;
    assert_eq!(response.status, 200, "{}", String::from_utf8_lossy(&response.body));
    let me = response.json().unwrap();
    assert_eq!(me["subject"], "CN=alice");
    assert_eq!(me["issuer"], "CN=certgate test root");
    assert_eq!(me["thumbprint_sha1"], alice.sha1_hex());
    assert_eq!(me["thumbprint_sha256"], alice.sha256_hex());
    assert!(me["serial"].as_str().unwrap().chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
    assert!(me["not_before"].as_str().unwrap().ends_with('Z'));
    assert!(me["not_after"].as_str().unwrap() > me["not_before"].as_str().unwrap());
    assert_eq!(me["dns_names"], serde_json::json!(["alice.example"]));
    assert_eq!(me["uris"], serde_json::json!(["spiffe://prod.example/ns/payments/sa/alice"]));
    assert_eq!(me["emails"], serde_json::json!(["alice@example.com"]));
    assert_eq!(me["matched"]["entry"], 2);
    assert_eq!(me["matched"]["algorithm"], "sha256");
    assert_eq!(me["matched"]["thumbprint"], alice.sha256_hex());
}

/// Each preset through its own header, and the same value auto-detected under the default
/// one; the identity reports the preset. (Refusals per preset are vectors.)
async fn every_platform_format_through_the_component(target: &dyn Target) {
    let ca = &pki().ca;
    let alice = &pki().alice;
    let der = &alice.der;
    let cases: Vec<(&str, &str, String)> = vec![
        ("azure-app-service", "X-ARR-ClientCert", encode::base64_der(der)),
        ("aspnetcore", "X-Client-Cert", encode::base64_der(der)),
        ("haproxy", "X-SSL-Client-Cert", format!("\"{}\"", encode::base64_der(der))),
        ("caddy", "X-Client-Cert", encode::base64_der(der)),
        ("cloudflare", "Cf-Client-Cert-Der-Base64", encode::base64_der(der)),
        ("traefik", "X-Forwarded-Tls-Client-Cert", encode::traefik_chain(&[der, &ca.certificate.der])),
        ("apache", "X-SSL-Client-Cert", encode::pem_apache(der)),
        ("nginx", "X-SSL-Client-Cert", encode::url_pem_nginx(der)),
        ("ingress-nginx", "ssl-client-cert", encode::url_pem_nginx(der)),
        ("azure-app-gateway", "X-Client-Cert", encode::url_pem_nginx(der)),
        ("kong", "X-Client-Cert", encode::url_pem_nginx(der)),
        ("cloudfront", "CloudFront-Viewer-Cert-Pem", encode::url_pem_nginx(der)),
        ("aws-alb", "X-Amzn-Mtls-Clientcert-Leaf", encode::url_pem_alb(der)),
        (
            "aws-alb-passthrough",
            "X-Amzn-Mtls-Clientcert",
            format!("{}{}", encode::url_pem_alb(der), encode::url_pem_alb(&ca.certificate.der)),
        ),
        ("envoy", "X-Forwarded-Client-Cert", encode::xfcc_element(der, &[&ca.certificate.der], "CN=alice")),
        ("gcp", "X-Client-Cert", encode::rfc9440(der)),
        ("akamai", "AKAMAI-CC-DER", encode::rfc9440(der)),
        ("rfc9440", "Client-Cert", encode::rfc9440(der)),
    ];
    for (platform, header, value) in cases {
        let response = get("/api/whoami")
            .pins(&alice.sha256_hex())
            .var("platform", platform)
            .header(header, value.clone())
            .on(target)
            .await;
        assert_eq!(response.status, 200, "{platform}: {}", String::from_utf8_lossy(&response.body));
        let me = response.json().unwrap();
        assert_eq!(me["thumbprint_sha256"], alice.sha256_hex(), "{platform}");
        assert_eq!(me["platform"], platform);
        // The same value under the default header, auto-detected.
        let auto = get("/api/values").pins(&alice.sha256_hex()).header("X-ARR-ClientCert", value).on(target).await;
        assert_eq!(auto.status, 200, "auto for {platform}: {}", String::from_utf8_lossy(&auto.body));
    }
}

async fn explicit_header_and_format_override_the_preset(target: &dyn Target) {
    let alice = &pki().alice;
    let response = get("/api/values")
        .pins(&alice.sha256_hex())
        .var("platform", "envoy")
        .var("certificate_header", "X-Custom-Cert")
        .var("certificate_format", "pem")
        .header("X-Custom-Cert", encode::pem_apache(&alice.der))
        .header("X-Forwarded-Client-Cert", "garbage")
        .on(target)
        .await;
    assert_eq!(response.status, 200, "{}", String::from_utf8_lossy(&response.body));
    // The configured format is enforced, not guessed: vectors wrong-format-base64-as-pem.
}

/// The refusals the vectors do not send (no header at all, IIS's `(null)`, base64 that is
/// not a certificate) and the decision line of a refusal. Truncated, binary, repeated,
/// oversized, expired, not yet valid and multi-element XFCC values are vectors.
async fn every_refusal_reason(target: &dyn Target) {
    let alice = &pki().alice;
    let pins = alice.sha256_hex();

    let missing = get("/api/values").pins(&pins).on(target).await;
    assert_problem(&missing, 403, "certificate_missing");
    let null = get("/api/values").pins(&pins).header("X-ARR-ClientCert", "(null)").on(target).await;
    assert_problem(&null, 403, "certificate_missing");
    let malformed = get("/api/values").pins(&pins).header("X-ARR-ClientCert", "bm90IGEgY2VydA==").on(target).await;
    assert_problem(&malformed, 403, "certificate_malformed");
    let stranger =
        get("/api/values").pins(&pins).header("X-ARR-ClientCert", encode::base64_der(&pki().bob.der)).on(target).await;
    assert_problem(&stranger, 403, "certificate_not_allowed");
    let log = decision_line(&stranger);
    assert_eq!(log["outcome"], "deny");
    assert_eq!(log["reason"], "certificate_not_allowed");
    assert_eq!(log["thumbprint_sha256"], pki().bob.sha256_hex());
    assert_eq!(log["subject"], "CN=bob");
}

async fn key_kinds_and_a_large_certificate(target: &dyn Target) {
    let ca = &pki().ca;
    for options in [
        LeafOptions::named("rsa").key(KeyKind::Rsa2048),
        LeafOptions::named("p384").key(KeyKind::EcdsaP384),
        LeafOptions::named("ed25519").key(KeyKind::Ed25519),
        LeafOptions::named("large").large(),
    ] {
        let leaf = ca.issue(&options);
        for (platform, header, value) in [
            ("nginx", "X-SSL-Client-Cert", encode::url_pem_nginx(&leaf.der)),
            ("envoy", "X-Forwarded-Client-Cert", encode::xfcc_element(&leaf.der, &[&ca.certificate.der], "CN=x")),
        ] {
            let response = get("/api/whoami")
                .pins(&leaf.sha256_hex())
                .var("platform", platform)
                .header(header, value)
                .on(target)
                .await;
            assert_eq!(
                response.status,
                200,
                "{} via {platform}: {}",
                options.common_name,
                String::from_utf8_lossy(&response.body)
            );
        }
    }
}

async fn configuration_errors_fail_closed_and_reveal_nothing(target: &dyn Target) {
    let alice = &pki().alice;
    let b64 = encode::base64_der(&alice.der);
    let secret_looking = "deadbeefnotathumbprint";
    let cases: Vec<Vec<(&str, String)>> = vec![
        vec![],
        vec![("allowed_thumbprints", String::new())],
        vec![("allowed_thumbprints", " ; ".into())],
        vec![("allowed_thumbprints", format!("{};{secret_looking}", alice.sha256_hex()))],
        vec![("allowed_thumbprints", alice.sha256_hex()), ("platform", "iis".into())],
        vec![("allowed_thumbprints", alice.sha256_hex()), ("certificate_format", "der".into())],
        vec![("allowed_thumbprints", alice.sha256_hex()), ("max_header_bytes", "lots".into())],
    ];
    for vars in cases {
        let mut req = get("/api/values").header("X-ARR-ClientCert", b64.clone());
        for (k, v) in &vars {
            req = req.var(k, v);
        }
        let response = req.on(target).await;
        let body = assert_problem(&response, 500, "configuration_error");
        let text = body.to_string();
        assert!(!text.contains(secret_looking) && !text.contains(&alice.sha256_hex()), "{text}");
        let config_line = response.log_lines().into_iter().find(|l| l["event"] == "configuration_error");
        let config_line = config_line.unwrap_or_else(|| panic!("no configuration_error log line: {}", response.stderr));
        assert!(config_line["problem"].as_str().unwrap().contains("variable"), "{config_line}");
        assert!(!response.stderr.contains(secret_looking), "the log names the entry, not its value");
    }
}

async fn routing_methods_and_head(target: &dyn Target) {
    let alice = &pki().alice;
    let pins = alice.sha256_hex();
    let cert = encode::base64_der(&alice.der);
    let unknown = get("/nope").pins(&pins).header("X-ARR-ClientCert", cert.clone()).on(target).await;
    assert_problem(&unknown, 404, "not_found");
    let unauthenticated = get("/nope").pins(&pins).on(target).await;
    assert_problem(&unauthenticated, 403, "certificate_missing");
    let post = request("POST", "/api/values").pins(&pins).header("X-ARR-ClientCert", cert.clone()).on(target).await;
    assert_problem(&post, 405, "method_not_allowed");
    assert_eq!(post.header("allow"), Some("GET, HEAD"));
    let head = request("HEAD", "/api/values").pins(&pins).header("X-ARR-ClientCert", cert.clone()).on(target).await;
    assert_eq!(head.status, 200);
    assert_eq!(head.header("content-type"), Some("application/json"));
    assert!(head.body.is_empty());
    let query = get("/api/values?x=1").pins(&pins).header("X-ARR-ClientCert", cert).on(target).await;
    assert_eq!(query.status, 200);
}

on_every_target!(
    healthz_reports_configuration_state,
    values_with_an_allowed_certificate,
    whoami_reports_the_identity,
    every_platform_format_through_the_component,
    explicit_header_and_format_override_the_preset,
    every_refusal_reason,
    key_kinds_and_a_large_certificate,
    configuration_errors_fail_closed_and_reveal_nothing,
    routing_methods_and_head,
);
