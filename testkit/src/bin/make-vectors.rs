//! Generate certgate's published test vectors: `cargo run -p certgate-testkit --bin
//! make-vectors -- tests/vectors`. Writes `manifest.json` and `inputs/*` (the header
//! values). Certificates are made fresh each run; validity windows are fixed far from
//! now (2020 to 2099, or wholly in the past or future), so expectations do not age.
//!
//! Each vector: the Spin variables, the request headers (values in files), and the
//! expected status and reason. tests/vectors.rs runs every vector against the native
//! code and against certgate.wasm in wasmtime.

use std::path::{Path, PathBuf};

use certgate_testkit::{encode, Ca, Issued, LeafOptions, OffsetDateTime};
use serde_json::{json, Value};

struct Writer {
    dir: PathBuf,
    vectors: Vec<Value>,
}

impl Writer {
    fn input(&self, name: &str, index: usize, value: &[u8]) -> String {
        let file = format!("inputs/{name}.{index}.txt");
        std::fs::write(self.dir.join(&file), value).expect("write input");
        file
    }

    /// Add a vector. `headers`: (header name, value bytes).
    fn add(
        &mut self,
        name: &str,
        category: &str,
        format: &str,
        vars: Value,
        headers: Vec<(&str, Vec<u8>)>,
        status: u16,
        reason: &str,
    ) {
        let headers: Vec<Value> = headers
            .iter()
            .enumerate()
            .map(|(i, (h, v))| json!({"name": h, "value_file": self.input(name, i, v)}))
            .collect();
        self.vectors.push(json!({
            "name": name,
            "category": category,
            "format": format,
            "variables": vars,
            "headers": headers,
            "expect": {"status": status, "reason": reason},
        }));
    }
}

fn at(year: i32) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(time_year_start(year)).expect("time")
}

/// Unix time of 1 January of `year` (UTC).
fn time_year_start(year: i32) -> i64 {
    let y = i64::from(year) - 1;
    let days = 365 * (y - 1969) + (y / 4 - 1969 / 4) - (y / 100 - 1969 / 100) + (y / 400 - 1969 / 400);
    days * 86_400
}

fn leaf(ca: &Ca, name: &str, nb: i32, na: i32) -> Issued {
    let mut o = LeafOptions::named(name);
    o.not_before = at(nb);
    o.not_after = at(na);
    ca.issue(&o)
}

fn main() {
    let dir = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "tests/vectors".into()));
    let _ = std::fs::remove_dir_all(dir.join("inputs"));
    std::fs::create_dir_all(dir.join("inputs")).expect("vectors dir");
    let mut w = Writer { dir: dir.clone(), vectors: Vec::new() };

    let ca = Ca::new("certgate vectors root");
    let alice = leaf(&ca, "alice", 2020, 2099);
    let mallory = leaf(&ca, "mallory", 2020, 2099);
    let expired = leaf(&ca, "expired", 2020, 2021);
    let future = leaf(&ca, "future", 2098, 2099);
    let mut server_opts = LeafOptions::named("web-server").server_only();
    server_opts.not_before = at(2020);
    server_opts.not_after = at(2099);
    let server_only = ca.issue(&server_opts);
    // Same subject as alice, self-made: a forgery that only a pin or chain check catches.
    let forger = Ca::new("certgate vectors root");
    let forged = leaf(&forger, "alice", 2020, 2099);

    let pins = format!("{};{};{}", alice.sha256_hex(), expired.sha256_hex(), future.sha256_hex());
    let encoders: [(&str, &str, fn(&[u8]) -> String); 7] = [
        ("base64-der", "X-ARR-ClientCert", encode::base64_der),
        ("hex-der", "X-ARR-ClientCert", encode::hex_der_upper),
        ("xfcc-json", "X-ARR-ClientCert", |d: &[u8]| format!("[{}]", encode::xfcc_json_element(d, &[], "CN=x"))),
        ("pem", "X-ARR-ClientCert", encode::pem_apache),
        ("url-pem", "X-ARR-ClientCert", encode::url_pem_nginx),
        ("rfc9440", "X-ARR-ClientCert", encode::rfc9440),
        ("xfcc", "X-ARR-ClientCert", |d: &[u8]| encode::xfcc_element(d, &[], "CN=x")),
    ];
    for (format, header, enc) in encoders {
        let vars = json!({"allowed_thumbprints": pins, "certificate_format": format});
        let v = |c: &Issued| enc(&c.der).into_bytes();
        w.add(&format!("{format}-valid"), "valid", format, vars.clone(), vec![(header, v(&alice))], 200, "");
        w.add(
            &format!("{format}-not-allowed"),
            "forged",
            format,
            vars.clone(),
            vec![(header, v(&mallory))],
            403,
            "certificate_not_allowed",
        );
        w.add(
            &format!("{format}-forged-same-subject"),
            "forged",
            format,
            vars.clone(),
            vec![(header, v(&forged))],
            403,
            "certificate_not_allowed",
        );
        w.add(
            &format!("{format}-expired"),
            "expired",
            format,
            vars.clone(),
            vec![(header, v(&expired))],
            403,
            "certificate_expired",
        );
        w.add(
            &format!("{format}-not-yet-valid"),
            "not-yet-valid",
            format,
            vars.clone(),
            vec![(header, v(&future))],
            403,
            "certificate_not_yet_valid",
        );
        // Two lines of one header: refused, even when identical (XFCC lines join into two elements).
        w.add(
            &format!("{format}-duplicated"),
            "duplicated",
            format,
            vars.clone(),
            vec![(header, v(&alice)), (header, v(&alice))],
            403,
            "certificate_ambiguous",
        );
        let full = enc(&alice.der);
        let truncated = full[..full.len() * 2 / 3].to_string();
        w.add(
            &format!("{format}-truncated"),
            "truncated",
            format,
            vars.clone(),
            vec![(header, truncated.into_bytes())],
            403,
            "certificate_malformed",
        );
        let small = json!({"allowed_thumbprints": pins, "certificate_format": format, "max_header_bytes": "512"});
        w.add(
            &format!("{format}-oversized"),
            "oversized",
            format,
            small,
            vec![(header, v(&alice))],
            403,
            "certificate_too_large",
        );
        let huge = format!("{full}{}", " ".repeat(40_000));
        w.add(
            &format!("{format}-oversized-default"),
            "oversized",
            format,
            vars.clone(),
            vec![(header, huge.into_bytes())],
            403,
            "certificate_too_large",
        );
        let double = encode::url_pem_nginx(full.as_bytes());
        w.add(
            &format!("{format}-double-encoded"),
            "double-encoded",
            format,
            vars.clone(),
            vec![(header, double.into_bytes())],
            403,
            "certificate_malformed",
        );
        let eku =
            json!({"allowed_thumbprints": "", "trust_anchors": ca.certificate.pem(), "certificate_format": format});
        w.add(
            &format!("{format}-wrong-eku"),
            "wrong-eku",
            format,
            eku,
            vec![(header, v(&server_only))],
            403,
            "certificate_wrong_usage",
        );
        w.add(
            &format!("{format}-empty"),
            "missing",
            format,
            vars.clone(),
            vec![(header, Vec::new())],
            403,
            "certificate_missing",
        );
    }
    // Padding and wrong-format values.
    let b64 = encode::base64_der(&alice.der);
    let vars = json!({"allowed_thumbprints": pins});
    w.add(
        "base64-der-padded-extra",
        "padded",
        "base64-der",
        vars.clone(),
        vec![("X-ARR-ClientCert", format!("{b64}==").into_bytes())],
        403,
        "certificate_malformed",
    );
    w.add(
        "base64-der-whitespace-padded",
        "padded",
        "base64-der",
        vars.clone(),
        vec![("X-ARR-ClientCert", format!("  {b64}\t").into_bytes())],
        200,
        "",
    );
    w.add(
        "base64-der-unpadded",
        "padded",
        "base64-der",
        vars.clone(),
        vec![("X-ARR-ClientCert", b64.trim_end_matches('=').as_bytes().to_vec())],
        200,
        "",
    );
    w.add(
        "base64-der-trailing-garbage",
        "padded",
        "base64-der",
        vars.clone(),
        vec![("X-ARR-ClientCert", encode::base64_der(&[alice.der.clone(), vec![0]].concat()).into_bytes())],
        403,
        "certificate_malformed",
    );
    let as_pem = json!({"allowed_thumbprints": pins, "certificate_format": "pem"});
    w.add(
        "wrong-format-base64-as-pem",
        "wrong-format",
        "pem",
        as_pem,
        vec![("X-ARR-ClientCert", b64.clone().into_bytes())],
        403,
        "certificate_malformed",
    );
    let as_rfc = json!({"allowed_thumbprints": pins, "certificate_format": "rfc9440"});
    w.add(
        "wrong-format-pem-as-rfc9440",
        "wrong-format",
        "rfc9440",
        as_rfc,
        vec![("X-ARR-ClientCert", encode::pem(&alice.der).replace('\n', " ").into_bytes())],
        403,
        "certificate_malformed",
    );
    w.add(
        "not-utf8",
        "malformed",
        "auto",
        vars.clone(),
        vec![("X-ARR-ClientCert", vec![0xff, 0xfe, 0x4d, 0x49])],
        403,
        "certificate_malformed",
    );
    w.add(
        "apache-null",
        "missing",
        "pem",
        json!({"allowed_thumbprints": pins, "platform": "apache"}),
        vec![("X-SSL-Client-Cert", b"(null)".to_vec())],
        403,
        "certificate_missing",
    );
    w.add(
        "caddy-placeholder",
        "missing",
        "base64-der",
        json!({"allowed_thumbprints": pins, "platform": "caddy"}),
        vec![("X-Client-Cert", b"{http.request.tls.client.certificate_der_base64}".to_vec())],
        403,
        "certificate_missing",
    );
    w.add(
        "merged-lines",
        "duplicated",
        "base64-der",
        vars.clone(),
        vec![("X-ARR-ClientCert", format!("{},{b64}", encode::base64_der(&mallory.der)).into_bytes())],
        403,
        "certificate_ambiguous",
    );
    // XFCC multi-element values.
    let envoy = json!({"allowed_thumbprints": pins, "platform": "envoy"});
    let two = format!(
        "{},{}",
        encode::xfcc_element(&mallory.der, &[], "CN=mallory"),
        encode::xfcc_element(&alice.der, &[], "CN=alice")
    );
    w.add(
        "xfcc-two-elements",
        "multi-element-xfcc",
        "xfcc",
        envoy.clone(),
        vec![("X-Forwarded-Client-Cert", two.clone().into_bytes())],
        403,
        "certificate_ambiguous",
    );
    let last = json!({"allowed_thumbprints": pins, "platform": "envoy", "xfcc_elements": "last"});
    w.add(
        "xfcc-two-elements-last",
        "multi-element-xfcc",
        "xfcc",
        last.clone(),
        vec![("X-Forwarded-Client-Cert", two.into_bytes())],
        200,
        "",
    );
    let spoof_last = format!(
        "{},{}",
        encode::xfcc_element(&alice.der, &[], "CN=alice"),
        encode::xfcc_element(&mallory.der, &[], "CN=mallory")
    );
    w.add(
        "xfcc-client-element-first",
        "multi-element-xfcc",
        "xfcc",
        last,
        vec![("X-Forwarded-Client-Cert", spoof_last.into_bytes())],
        403,
        "certificate_not_allowed",
    );
    let hash_only = format!("By=spiffe://a;Hash={}", alice.sha256_hex());
    w.add(
        "xfcc-hash-only",
        "forged",
        "xfcc",
        envoy.clone(),
        vec![("X-Forwarded-Client-Cert", hash_only.into_bytes())],
        403,
        "certificate_missing",
    );
    let dup_cert =
        format!("Cert=\"{}\";Cert=\"{}\"", encode::url_pem_envoy(&alice.der), encode::url_pem_envoy(&mallory.der));
    w.add(
        "xfcc-repeated-cert-key",
        "multi-element-xfcc",
        "xfcc",
        envoy.clone(),
        vec![("X-Forwarded-Client-Cert", dup_cert.into_bytes())],
        403,
        "certificate_ambiguous",
    );
    let many = vec!["Hash=00"; 40].join(",");
    w.add(
        "xfcc-too-many-elements",
        "oversized",
        "xfcc",
        envoy.clone(),
        vec![("X-Forwarded-Client-Cert", many.into_bytes())],
        403,
        "certificate_too_large",
    );
    let unterminated = format!("Cert=\"{}", encode::url_pem_envoy(&alice.der));
    w.add(
        "xfcc-unterminated-quote",
        "truncated",
        "xfcc",
        envoy,
        vec![("X-Forwarded-Client-Cert", unterminated.into_bytes())],
        403,
        "certificate_malformed",
    );
    // Proxy proof: a perfect forged certificate header without the proxy's secret.
    let secret = json!({"allowed_thumbprints": pins, "proxy_secret": "vectors-shared-secret-0123456789"});
    w.add(
        "forged-without-proxy-secret",
        "forged",
        "base64-der",
        secret.clone(),
        vec![("X-ARR-ClientCert", b64.clone().into_bytes())],
        403,
        "proxy_unauthenticated",
    );
    w.add(
        "with-proxy-secret",
        "valid",
        "base64-der",
        secret,
        vec![
            ("X-ARR-ClientCert", b64.clone().into_bytes()),
            ("X-Certgate-Proxy-Secret", b"vectors-shared-secret-0123456789".to_vec()),
        ],
        200,
        "",
    );
    // Configuration that must fail closed.
    w.add(
        "config-missing-list",
        "configuration",
        "auto",
        json!({}),
        vec![("X-ARR-ClientCert", b64.clone().into_bytes())],
        500,
        "configuration_error",
    );
    w.add(
        "config-bad-entry",
        "configuration",
        "auto",
        json!({"allowed_thumbprints": format!("{};not-a-thumbprint", alice.sha256_hex())}),
        vec![("X-ARR-ClientCert", b64.clone().into_bytes())],
        500,
        "configuration_error",
    );
    w.add(
        "config-unknown-platform",
        "configuration",
        "auto",
        json!({"allowed_thumbprints": pins, "platform": "iis"}),
        vec![("X-ARR-ClientCert", b64.into_bytes())],
        500,
        "configuration_error",
    );

    // The hostile review's findings (tests/hostile.rs runs more of each).
    let victim = encode::url_pem_envoy(&alice.der);
    let mut o = LeafOptions::named("mallory");
    o.not_before = at(2020);
    o.not_after = at(2099);
    o.uris.push(format!("x,Cert=\"{victim}\""));
    let injector = ca.issue(&o);
    let injected = encode::xfcc_element(&injector.der, &[], "CN=mallory");
    for (mode, name) in [("single", "xfcc-san-injection-comma"), ("last", "xfcc-san-injection-comma-last")] {
        w.add(
            name,
            "forged",
            "xfcc",
            json!({"allowed_thumbprints": alice.sha256_hex(), "platform": "envoy", "xfcc_elements": mode}),
            vec![("X-Forwarded-Client-Cert", injected.clone().into_bytes())],
            403,
            "certificate_ambiguous",
        );
    }
    o.uris = vec![format!("x;Cert=\"{victim}\"")];
    let injector = ca.issue(&o);
    w.add(
        "xfcc-san-injection-semicolon",
        "forged",
        "xfcc",
        json!({"allowed_thumbprints": alice.sha256_hex(), "platform": "envoy"}),
        vec![("X-Forwarded-Client-Cert", encode::xfcc_element(&injector.der, &[], "CN=mallory").into_bytes())],
        403,
        "certificate_ambiguous",
    );
    w.add(
        "xfcc-hash-mismatch",
        "forged",
        "xfcc",
        json!({"allowed_thumbprints": alice.sha256_hex(), "platform": "envoy"}),
        vec![("X-Forwarded-Client-Cert", format!("Hash={};Cert=\"{victim}\"", mallory.sha256_hex()).into_bytes())],
        403,
        "certificate_ambiguous",
    );
    let bridge = certgate_testkit::forge_bridge("certgate vectors root", &ca.certificate, &mallory);
    w.add(
        "merged-line-forged-bridge",
        "forged",
        "base64-der",
        json!({"allowed_thumbprints": alice.sha256_hex()}),
        vec![("X-ARR-ClientCert", encode::traefik_chain(&[&alice.der, &bridge.der, &mallory.der]).into_bytes())],
        403,
        "certificate_ambiguous",
    );
    let mut o = LeafOptions::named("high-serial");
    o.not_before = at(2020);
    o.not_after = at(2099);
    o.serial = Some(vec![0x80, 0x01, 0x02]);
    let high = ca.issue(&o);
    w.add(
        "revoked-high-bit-serial",
        "revocation",
        "base64-der",
        json!({"allowed_thumbprints": high.sha256_hex(), "revoked": "serial:80:01:02"}),
        vec![("X-ARR-ClientCert", encode::base64_der(&high.der).into_bytes())],
        403,
        "certificate_revoked",
    );
    let inverted = leaf(&ca, "inverted", 2099, 2020);
    w.add(
        "inverted-validity",
        "malformed",
        "base64-der",
        json!({"allowed_thumbprints": inverted.sha256_hex()}),
        vec![("X-ARR-ClientCert", encode::base64_der(&inverted.der).into_bytes())],
        403,
        "certificate_malformed",
    );
    let twins: Vec<String> = (0..4).map(|_| encode::rfc9440(&Ca::new("certgate vectors root").certificate.der)).collect();
    w.add(
        "chain-twin-subjects",
        "limits",
        "rfc9440",
        json!({"trust_anchors": ca.certificate.pem(), "platform": "rfc9440"}),
        vec![("Client-Cert", encode::rfc9440(&alice.der).into_bytes()), ("Client-Cert-Chain", twins.join(", ").into_bytes())],
        403,
        "certificate_ambiguous",
    );
    w.add(
        "config-end-entity-anchor",
        "configuration",
        "auto",
        json!({"trust_anchors": mallory.pem()}),
        vec![("X-ARR-ClientCert", encode::base64_der(&alice.der).into_bytes())],
        500,
        "configuration_error",
    );

    presets(&mut w, &ca, &alice, &forged, &mallory);

    let manifest = json!({
        "description": "certgate test vectors: forwarded client-certificate headers and their expected outcome. \
                        Request: GET /api/values with the listed headers (values in the files) and Spin variables.",
        "generator": "cargo run -p certgate-testkit --bin make-vectors -- tests/vectors",
        "ca_pem": ca.certificate.pem(),
        "vectors": w.vectors,
    });
    std::fs::write(dir.join("manifest.json"), serde_json::to_string_pretty(&manifest).expect("json") + "\n")
        .expect("manifest");
    println!("wrote {} vectors to {}", manifest["vectors"].as_array().map_or(0, Vec::len), Path::new(&dir).display());
}

/// Every preset, as its platform writes the header: valid, forged (same subject, another
/// CA), truncated, double-encoded, in the wrong format, duplicated; then each platform's
/// side headers (too-large flags, digests, renamed headers, a root in the chain).
fn presets(w: &mut Writer, ca: &Ca, alice: &Issued, forged: &Issued, mallory: &Issued) {
    type Enc = fn(&[u8]) -> String;
    let xfcc: Enc = |d| encode::xfcc_element(d, &[], "CN=x");
    let xfcc_json: Enc = |d| format!("[{}]", encode::xfcc_json_element(d, &[], "CN=x"));
    // (preset, header it reads, its encoder, its format's name, a value in another format)
    let table: [(&str, &str, Enc, &str, Enc); 24] = [
        ("azure-app-service", "X-ARR-ClientCert", encode::base64_der, "base64-der", encode::pem_apache),
        ("aspnetcore", "X-Client-Cert", encode::base64_der, "base64-der", encode::rfc9440),
        ("aspnetcore-sample", "X-ARR-ClientCert", encode::hex_der_upper, "hex-der", encode::base64_der),
        ("azure-app-gateway", "X-Client-Cert", encode::url_pem_nginx, "url-pem", encode::base64_der),
        ("aws-alb", "X-Amzn-Mtls-Clientcert-Leaf", encode::url_pem_alb, "url-pem", encode::rfc9440),
        ("aws-alb-passthrough", "X-Amzn-Mtls-Clientcert", encode::url_pem_alb, "url-pem", encode::base64_der),
        ("cloudfront", "CloudFront-Viewer-Cert-Pem", encode::url_pem_alb, "url-pem", encode::base64_der),
        ("cloudfront-passthrough", "Client-Cert", encode::rfc9440, "rfc9440", encode::base64_der),
        ("envoy", "X-Forwarded-Client-Cert", xfcc, "xfcc", encode::url_pem_envoy),
        ("envoy-json", "X-Forwarded-Client-Cert", xfcc_json, "xfcc-json", xfcc),
        ("envoy-client-cert", "client-cert", encode::rfc9440, "rfc9440", encode::hex_der_upper),
        ("istio", "X-Forwarded-Client-Cert", xfcc, "xfcc", encode::base64_der),
        ("nginx", "X-SSL-Client-Cert", encode::url_pem_nginx, "url-pem", encode::hex_der_lower),
        ("ingress-nginx", "ssl-client-cert", encode::url_pem_nginx, "url-pem", encode::base64_der),
        ("traefik", "X-Forwarded-Tls-Client-Cert", encode::base64_der, "base64-der", encode::pem_apache),
        ("haproxy", "X-SSL-Client-Cert", encode::base64_der, "base64-der", encode::hex_der_upper),
        ("caddy", "X-Client-Cert", encode::base64_der, "base64-der", encode::url_pem_nginx),
        ("apache", "X-SSL-Client-Cert", encode::pem_apache, "pem", encode::base64_der),
        ("cloudflare", "Cf-Client-Cert-Der-Base64", encode::base64_der, "base64-der", encode::rfc9440),
        ("cloudflare-rfc9440", "Client-Cert", encode::rfc9440, "rfc9440", encode::base64_der),
        ("gcp", "X-Client-Cert", encode::rfc9440, "rfc9440", encode::url_pem_alb),
        ("akamai", "Akamai-CC-DER", encode::rfc9440, "rfc9440", encode::pem_apache),
        ("kong", "X-Client-Cert", encode::url_pem_nginx, "url-pem", encode::base64_der),
        ("rfc9440", "Client-Cert", encode::rfc9440, "rfc9440", encode::url_pem_nginx),
    ];
    let pin = alice.sha256_hex();
    for (preset, header, enc, format, wrong) in table {
        let vars = json!({"allowed_thumbprints": pin, "platform": preset});
        let value = enc(&alice.der);
        let truncated = value[..value.len() * 2 / 3].to_string();
        let cases: [(&str, &str, Vec<(&str, Vec<u8>)>, u16, &str); 6] = [
            ("valid", "valid", vec![(header, value.clone().into_bytes())], 200, ""),
            ("forged", "forged", vec![(header, enc(&forged.der).into_bytes())], 403, "certificate_not_allowed"),
            ("truncated", "truncated", vec![(header, truncated.into_bytes())], 403, "certificate_malformed"),
            (
                "double-encoded",
                "double-encoded",
                vec![(header, encode::url_pem_nginx(value.as_bytes()).into_bytes())],
                403,
                "certificate_malformed",
            ),
            ("wrong-format", "wrong-format", vec![(header, wrong(&alice.der).into_bytes())], 403, "certificate_malformed"),
            (
                "duplicated",
                "duplicated",
                vec![(header, value.clone().into_bytes()), (header, value.clone().into_bytes())],
                403,
                "certificate_ambiguous",
            ),
        ];
        for (suffix, category, headers, status, reason) in cases {
            w.add(&format!("preset-{preset}-{suffix}"), category, format, vars.clone(), headers, status, reason);
        }
    }

    let cc = encode::rfc9440(&alice.der);
    let pinned = |preset: &str| json!({"allowed_thumbprints": pin, "platform": preset});
    // The ASP.NET sample client's header, read with no preset at all.
    w.add(
        "aspnet-sample-client-default-config",
        "valid",
        "hex-der",
        json!({"allowed_thumbprints": alice.sha1_hex().to_uppercase()}),
        vec![("X-ARR-ClientCert", encode::hex_der_upper(&alice.der).into_bytes())],
        200,
        "",
    );
    w.add(
        "aspnet-sample-client-lower-case",
        "valid",
        "hex-der",
        json!({"allowed_thumbprints": pin}),
        vec![("X-ARR-ClientCert", encode::hex_der_lower(&alice.der).into_bytes())],
        200,
        "",
    );
    // Too-large flags: a dropped certificate is not a missing one.
    w.add(
        "cloudflare-rfc9440-too-large",
        "oversized",
        "rfc9440",
        pinned("cloudflare-rfc9440"),
        vec![("Client-Cert-Too-Large", b"true".to_vec())],
        403,
        "certificate_too_large",
    );
    w.add(
        "cloudflare-rfc9440-missing",
        "missing",
        "rfc9440",
        pinned("cloudflare-rfc9440"),
        vec![("Client-Cert-Too-Large", b"false".to_vec())],
        403,
        "certificate_missing",
    );
    w.add(
        "gcp-chain-too-large",
        "oversized",
        "rfc9440",
        pinned("gcp"),
        vec![
            ("X-Client-Cert", cc.clone().into_bytes()),
            ("X-Client-Cert-Error", b"client_cert_validated_chain_exceeded_size_limit".to_vec()),
        ],
        403,
        "certificate_too_large",
    );
    // Digests: CloudFront's lowercase hex, Google Cloud's base64.
    let cloudfront = json!({"allowed_thumbprints": pin, "platform": "cloudfront",
        "certificate_digest_header": "CloudFront-Viewer-Cert-Sha256"});
    let pem = encode::url_pem_alb(&alice.der);
    for (name, digest, status, reason) in [
        ("cloudfront-digest", alice.sha256_hex(), 200, ""),
        ("cloudfront-digest-of-another", mallory.sha256_hex(), 403, "certificate_ambiguous"),
    ] {
        w.add(
            name,
            if status == 200 { "valid" } else { "forged" },
            "url-pem",
            cloudfront.clone(),
            vec![("CloudFront-Viewer-Cert-Pem", pem.clone().into_bytes()), ("CloudFront-Viewer-Cert-Sha256", digest.into_bytes())],
            status,
            reason,
        );
    }
    let sha_b64 = {
        use sha2::Digest;
        encode::base64_der(&sha2::Sha256::digest(&alice.der))
    };
    w.add(
        "gcp-digest-base64",
        "valid",
        "rfc9440",
        json!({"allowed_thumbprints": pin, "platform": "gcp", "certificate_digest_header": "X-Client-Cert-Sha256"}),
        vec![("X-Client-Cert", cc.clone().into_bytes()), ("X-Client-Cert-Sha256", sha_b64.into_bytes())],
        200,
        "",
    );
    // A renamed ALB header keeps the preset's format.
    let renamed = json!({"allowed_thumbprints": pin, "platform": "aws-alb", "certificate_header": "X-Client-Leaf"});
    w.add("aws-alb-renamed", "valid", "url-pem", renamed.clone(), vec![("X-Client-Leaf", pem.clone().into_bytes())], 200, "");
    w.add(
        "aws-alb-renamed-default-name-ignored",
        "missing",
        "url-pem",
        renamed,
        vec![("X-Amzn-Mtls-Clientcert-Leaf", pem.into_bytes())],
        403,
        "certificate_missing",
    );
    // Envoy's contrib filter forwards the validated chain, which may end with the root.
    let inter = ca.intermediate("certgate vectors issuing");
    let mut o = LeafOptions::named("via-intermediate");
    o.not_before = at(2020);
    o.not_after = at(2099);
    let deep = inter.issue(&o);
    w.add(
        "envoy-client-cert-chain-with-root",
        "valid",
        "rfc9440",
        json!({"allowed_thumbprints": "", "trust_anchors": ca.certificate.pem(), "platform": "envoy-client-cert"}),
        vec![
            ("client-cert", encode::rfc9440(&deep.der).into_bytes()),
            ("client-cert-chain", encode::rfc9440_list(&[&inter.certificate.der, &ca.certificate.der]).into_bytes()),
        ],
        200,
        "",
    );
    // JSON XFCC: a client-sent object before Envoy's, and a key in the wrong case.
    let two = format!(
        "[{},{}]",
        encode::xfcc_json_element(&mallory.der, &[], "CN=mallory"),
        encode::xfcc_json_element(&alice.der, &[], "CN=alice")
    );
    for (mode, status, reason) in [("single", 403, "certificate_ambiguous"), ("last", 200, "")] {
        w.add(
            &format!("xfcc-json-two-objects-{mode}"),
            "multi-element-xfcc",
            "xfcc-json",
            json!({"allowed_thumbprints": pin, "platform": "envoy-json", "xfcc_elements": mode}),
            vec![("X-Forwarded-Client-Cert", two.clone().into_bytes())],
            status,
            reason,
        );
    }
    let upper = format!("[{{\"Cert\":{}}}]", serde_json::to_string(&encode::pem(&alice.der)).expect("json"));
    w.add(
        "xfcc-json-key-case",
        "forged",
        "xfcc-json",
        pinned("envoy-json"),
        vec![("X-Forwarded-Client-Cert", upper.into_bytes())],
        403,
        "certificate_ambiguous",
    );
}
