//! Every wire format and preset added for the field's current terminators, as each one
//! writes its headers, run natively and through certgate.wasm in wasmtime: the ASP.NET
//! sample client's hex DER, Envoy's JSON XFCC and its contrib `client_cert` filter,
//! Cloudflare's RFC 9440 fields and too-large flags, CloudFront (viewer headers and
//! passthrough), renamed AWS ALB headers, Google Cloud's mTLS variables and Akamai. The
//! hostile review's rules (injection, merged lines, limits) are checked for each new format.

use certgate_tests as support;

use certgate_testkit::{encode, forge_bridge, Ca, Issued, LeafOptions};
use support::{case, check, get_raw_cert_data_string, Case};

struct Pki {
    root: Ca,
    issuing: Ca,
    alice: Issued,
    mallory: Issued,
}

fn pki() -> &'static Pki {
    static PKI: std::sync::OnceLock<Pki> = std::sync::OnceLock::new();
    PKI.get_or_init(|| {
        let root = Ca::new("Formats Root");
        let issuing = root.intermediate("Formats Issuing CA");
        let alice = issuing.issue(&LeafOptions::named("alice").uri("spiffe://prod.example/alice").dns("alice.example"));
        let mallory = issuing.issue(&LeafOptions::named("mallory"));
        Pki { root, issuing, alice, mallory }
    })
}

#[tokio::test]
async fn the_aspnet_sample_clients_header_authenticates_by_default() {
    let p = pki();
    let pin = p.alice.sha256_hex();
    let sample = get_raw_cert_data_string(&p.alice.der);
    assert!(sample.starts_with("3082") && !sample.bytes().any(|b| b.is_ascii_lowercase()));
    let pinned = [("allowed_thumbprints", pin.as_str())];
    let with_preset = [("allowed_thumbprints", pin.as_str()), ("platform", "aspnetcore-sample")];
    // The sample's server reads `X-SSL-CERT` in the current docs: header renamed, format kept.
    let renamed = [
        ("allowed_thumbprints", pin.as_str()),
        ("platform", "aspnetcore-sample"),
        ("certificate_header", "X-SSL-CERT"),
    ];
    let lower = sample.to_lowercase();
    let quoted = format!("\"{sample}\"");
    let dashed = p.alice.der.iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join("-");
    let prefixed = format!("0x{sample}");
    let merged = format!("{},{sample}", get_raw_cert_data_string(&p.mallory.der));
    let trailing = get_raw_cert_data_string(&[p.alice.der.clone(), vec![0]].concat());
    let double_b64 = encode::base64_der(sample.as_bytes());
    let odd = &sample[..sample.len() - 1];
    let truncated = &sample[..sample.len() * 2 / 3];
    let too_big = [("allowed_thumbprints", pin.as_str()), ("max_header_bytes", "512")];
    let mallory = get_raw_cert_data_string(&p.mallory.der);
    let h = "X-ARR-ClientCert";
    check(vec![
        case("sample header, defaults", &pinned, &[(h, &sample)], ""),
        case("lower-case hex, defaults", &pinned, &[(h, &lower)], ""),
        case("HAProxy %{+Q} quotes", &pinned, &[(h, &quoted)], ""),
        case("sample header, preset", &with_preset, &[(h, &sample)], ""),
        case("sample server's X-SSL-CERT", &renamed, &[("X-SSL-CERT", &sample)], ""),
        case("another certificate", &pinned, &[(h, &mallory)], "certificate_not_allowed"),
        case("BitConverter dashes", &with_preset, &[(h, &dashed)], "certificate_malformed"),
        case("0x prefix", &pinned, &[(h, &prefixed)], "certificate_malformed"),
        case("0x prefix, preset", &with_preset, &[(h, &prefixed)], "certificate_malformed"),
        case("two values merged into one line", &pinned, &[(h, &merged)], "certificate_malformed"),
        case("two lines", &pinned, &[(h, &sample), (h, &sample)], "certificate_ambiguous"),
        case("trailing byte", &pinned, &[(h, &trailing)], "certificate_malformed"),
        case("base64 of the hex text", &pinned, &[(h, &double_b64)], "certificate_malformed"),
        case("odd digit count", &pinned, &[(h, odd)], "certificate_malformed"),
        case("truncated", &pinned, &[(h, truncated)], "certificate_malformed"),
        case("over max_header_bytes", &too_big, &[(h, &sample)], "certificate_too_large"),
        case("base64 still read by default", &pinned, &[(h, &encode::base64_der(&p.alice.der))], ""),
        case(
            "base64 refused by the hex preset",
            &with_preset,
            &[(h, &encode::base64_der(&p.alice.der))],
            "certificate_malformed",
        ),
    ])
    .await;
}

/// What Envoy does under APPEND_FORWARD when the incoming value is `[...]`: its own object
/// goes inside the array, before the final `]`.
fn envoy_appends(incoming: &str, own: &str) -> String {
    format!("{},{own}]", &incoming[..incoming.len() - 1])
}

#[tokio::test]
async fn envoy_json_xfcc() {
    let p = pki();
    let pin = p.alice.sha256_hex();
    let inter = &p.issuing.certificate.der;
    let alice = encode::xfcc_json_element(&p.alice.der, &[inter], "CN=alice");
    let mallory = encode::xfcc_json_element(&p.mallory.der, &[], "CN=mallory");
    let one = format!("[{alice}]");
    let anchors = p.root.certificate.pem();
    let envoy = [("allowed_thumbprints", pin.as_str()), ("platform", "envoy")];
    let json_only = [("allowed_thumbprints", pin.as_str()), ("platform", "envoy-json")];
    let anchored = [("allowed_thumbprints", ""), ("trust_anchors", anchors.as_str()), ("platform", "envoy-json")];
    let last = [("allowed_thumbprints", pin.as_str()), ("platform", "envoy-json"), ("xfcc_elements", "last")];
    let defaults = [("allowed_thumbprints", pin.as_str())];
    let x = "X-Forwarded-Client-Cert";
    let two_hops = envoy_appends(&format!("[{mallory}]"), &alice);
    let text = encode::xfcc_element(&p.alice.der, &[], "CN=alice");
    // A forged chain: alice, a bridge with the issuing CA's name and mallory's key, the real CA.
    let bridge = forge_bridge("Formats Issuing CA", &p.mallory, &p.mallory);
    let pem = |d: &[u8]| serde_json::to_string(&encode::pem(d)).unwrap();
    let bridged = format!(
        r#"[{{"cert":{},"chain":[{},{},{}]}}]"#,
        pem(&p.alice.der),
        pem(&p.alice.der),
        pem(&bridge.der),
        pem(inter)
    );
    let reversed = format!(r#"[{{"chain":[{},{}]}}]"#, pem(inter), pem(&p.alice.der));
    let small = [("allowed_thumbprints", pin.as_str()), ("platform", "envoy-json"), ("max_header_bytes", "1024")];
    let short_chain =
        [("allowed_thumbprints", pin.as_str()), ("platform", "envoy-json"), ("max_chain_certificates", "1")];
    let mut cases = vec![
        case("one hop, envoy preset", &envoy, &[(x, &one)], ""),
        case("one hop, envoy-json preset", &json_only, &[(x, &one)], ""),
        case("one hop, anchored through its chain", &anchored, &[(x, &one)], ""),
        case("auto-detected", &defaults, &[("X-ARR-ClientCert", &one)], ""),
        case("two hops, single", &json_only, &[(x, &two_hops)], "certificate_ambiguous"),
        case("two hops, last", &last, &[(x, &two_hops)], ""),
        case("text form to the JSON-only preset", &json_only, &[(x, &text)], "certificate_malformed"),
        case("text form to the envoy preset", &envoy, &[(x, &text)], ""),
        case("two JSON lines", &envoy, &[(x, &one), (x, &one)], "certificate_ambiguous"),
        case("text line then JSON line", &last, &[(x, &text), (x, &one)], "certificate_ambiguous"),
        case("bridged chain", &json_only, &[(x, &bridged)], "certificate_ambiguous"),
        case("chain in reverse", &json_only, &[(x, &reversed)], "certificate_ambiguous"),
        case("over max_header_bytes", &small, &[(x, &one)], "certificate_too_large"),
        case("over max_chain_certificates", &short_chain, &[(x, &one)], "certificate_too_large"),
        case("empty", &json_only, &[(x, "")], "certificate_missing"),
    ];
    // A client that sends its own `[...]` to an appending Envoy: whatever it writes, the
    // value is refused or the nearest proxy's object (alice's real one) is what counts.
    let mallory_pem = pem(&p.mallory.der);
    for (i, incoming) in [
        format!("[{mallory}]"),
        format!(r#"[{{"cert":{mallory_pem},"x":"]"#),
        format!(r#"[{{"cert":{mallory_pem},"by":[]"#),
        format!(r#"[{{"cert":{mallory_pem}}},{{"cert":]"#),
        r#"[{"x":"]"#.to_string(),
        "[]".to_string(),
        "[[]".to_string(),
        format!(r#"[{{"cert":{mallory_pem}}},"]"#),
    ]
    .iter()
    .enumerate()
    {
        let value = envoy_appends(incoming, &alice);
        let want_last = if serde_json::from_str::<serde_json::Value>(&value)
            .is_ok_and(|v| v.as_array().is_some_and(|a| a.iter().all(|e| e.is_object())))
        {
            ""
        } else {
            "certificate_malformed"
        };
        let name = format!("client-sent prefix {i}");
        cases.push(Case { want: want_last, ..case(&name, &last, &[(x, &value)], "") });
        let want_single = if want_last.is_empty() { "certificate_ambiguous" } else { want_last };
        cases.push(Case { want: want_single, ..case(&name, &json_only, &[(x, &value)], "") });
    }
    check(cases).await;
}

/// A SAN value written to split or extend an object: JSON escaping keeps it one string, so
/// the object is read whole and its certificate is the one that counts.
#[tokio::test]
async fn json_xfcc_san_values_cannot_inject() {
    let p = pki();
    let mallory_pem = serde_json::to_string(&encode::pem(&p.mallory.der)).unwrap();
    let evil = format!(r#"spiffe://x"]}},{{"cert":{mallory_pem},"uri":["y"#);
    let attacker = p.issuing.issue(&LeafOptions::named("attacker").uri(&evil));
    let value = format!("[{}]", encode::xfcc_json_element(&attacker.der, &[], "CN=attacker\",\"cert\":\"x"));
    // The attacker's certificate is pinned here only to show which certificate is read.
    let attacker_pin = attacker.sha256_hex();
    let mallory_pin = p.mallory.sha256_hex();
    let x = "X-Forwarded-Client-Cert";
    check(vec![
        case(
            "read whole: the attacker's own",
            &[("allowed_thumbprints", &attacker_pin), ("platform", "envoy-json")],
            &[(x, &value)],
            "",
        ),
        case(
            "never the injected one",
            &[("allowed_thumbprints", &mallory_pin), ("platform", "envoy-json"), ("xfcc_elements", "last")],
            &[(x, &value)],
            "certificate_not_allowed",
        ),
    ])
    .await;
}

#[tokio::test]
async fn rfc9440_platforms() {
    let p = pki();
    let (leaf, inter, root) = (&p.alice.der, &p.issuing.certificate.der, &p.root.certificate.der);
    let anchors = p.root.certificate.pem();
    let cc = encode::rfc9440(leaf);
    let chain_with_root = encode::rfc9440_list(&[inter, root]);
    let chain = encode::rfc9440_list(&[inter]);
    let anchored = |platform: &'static str| {
        vec![("allowed_thumbprints", ""), ("trust_anchors", anchors.as_str()), ("platform", platform)]
    };
    let a = anchored("envoy-client-cert");
    let cf = anchored("cloudflare-rfc9440");
    let cfp = anchored("cloudfront-passthrough");
    let inter_pem = p.issuing.certificate.pem();
    let akamai: Vec<(&str, &str)> =
        anchored("akamai").into_iter().chain([("intermediates", inter_pem.as_str())]).collect();
    let gcp = anchored("gcp");
    let cf_verdicts: Vec<(&str, &str)> =
        cf.iter().copied().chain([("terminator_verdicts", "cf-cert-verified: true; cf-cert-revoked: false")]).collect();
    let cf_digest: Vec<(&str, &str)> =
        cf.iter().copied().chain([("certificate_digest_header", "Cf-Cert-Fingerprint-Sha256")]).collect();
    let sha = p.alice.sha256_hex();
    let other_sha = p.mallory.sha256_hex();
    let gcp_checked: Vec<(&str, &str)> = gcp
        .iter()
        .copied()
        .chain([
            ("terminator_verify_header", "X-Client-Cert-Verified"),
            ("terminator_verify_values", "true"),
            ("certificate_digest_header", "X-Client-Cert-Sha256"),
        ])
        .collect();
    use sha2::Digest;
    let sha_b64 = encode::base64_der(&sha2::Sha256::digest(leaf));
    let two_items = format!("{cc}, {}", encode::rfc9440(&p.mallory.der));
    check(vec![
        // Envoy's contrib filter: the validated chain, leaf excluded, root included.
        case(
            "envoy client_cert, chain with root",
            &a,
            &[("client-cert", &cc), ("client-cert-chain", &chain_with_root)],
            "",
        ),
        case("envoy client_cert, leaf only: no path", &a, &[("client-cert", &cc)], "certificate_untrusted"),
        case("two Client-Cert lines", &a, &[("client-cert", &cc), ("client-cert", &cc)], "certificate_ambiguous"),
        case("a list in Client-Cert", &a, &[("client-cert", &two_items)], "certificate_malformed"),
        case(
            "two chain lines",
            &a,
            &[("client-cert", &cc), ("client-cert-chain", &chain), ("client-cert-chain", &chain)],
            "certificate_ambiguous",
        ),
        // Cloudflare's RFC 9440 fields, forwarded by Transform Rules.
        case("cloudflare", &cf, &[("Client-Cert", &cc), ("Client-Cert-Chain", &chain)], ""),
        case("cloudflare, leaf too large", &cf, &[("Client-Cert-Too-Large", "true")], "certificate_too_large"),
        case(
            "cloudflare, chain too large",
            &cf,
            &[("Client-Cert", &cc), ("Client-Cert-Too-Large", "true")],
            "certificate_too_large",
        ),
        case(
            "cloudflare, empty value and flag",
            &cf,
            &[("Client-Cert", ""), ("Client-Cert-Too-Large", "TRUE")],
            "certificate_too_large",
        ),
        case(
            "cloudflare, flag false",
            &cf,
            &[("Client-Cert", &cc), ("Client-Cert-Chain", &chain), ("Client-Cert-Too-Large", "false")],
            "",
        ),
        case("cloudflare, nothing", &cf, &[], "certificate_missing"),
        case(
            "cloudflare verdicts",
            &cf_verdicts,
            &[
                ("Client-Cert", &cc),
                ("Client-Cert-Chain", &chain),
                ("cf-cert-verified", "true"),
                ("cf-cert-revoked", "false"),
            ],
            "",
        ),
        case(
            "cloudflare, revoked",
            &cf_verdicts,
            &[
                ("Client-Cert", &cc),
                ("Client-Cert-Chain", &chain),
                ("cf-cert-verified", "true"),
                ("cf-cert-revoked", "true"),
            ],
            "terminator_rejected",
        ),
        case(
            "cloudflare, revoked verdict missing",
            &cf_verdicts,
            &[("Client-Cert", &cc), ("Client-Cert-Chain", &chain), ("cf-cert-verified", "true")],
            "terminator_rejected",
        ),
        case(
            "cloudflare digest",
            &cf_digest,
            &[("Client-Cert", &cc), ("Client-Cert-Chain", &chain), ("cf-cert-fingerprint-sha256", &sha)],
            "",
        ),
        case(
            "cloudflare digest of another",
            &cf_digest,
            &[("Client-Cert", &cc), ("Client-Cert-Chain", &chain), ("cf-cert-fingerprint-sha256", &other_sha)],
            "certificate_ambiguous",
        ),
        case(
            "cloudflare digest missing",
            &cf_digest,
            &[("Client-Cert", &cc), ("Client-Cert-Chain", &chain)],
            "certificate_ambiguous",
        ),
        // CloudFront passthrough and Akamai.
        case("cloudfront passthrough", &cfp, &[("Client-Cert", &cc), ("Client-Cert-Chain", &chain)], ""),
        case("akamai", &akamai, &[("Akamai-CC-DER", &cc)], ""),
        // Google Cloud: {client_cert_leaf}, {client_cert_chain}, {client_cert_error}.
        case("gcp", &gcp, &[("X-Client-Cert", &cc), ("X-Client-Cert-Chain", &chain)], ""),
        case(
            "gcp, leaf over 16 KB",
            &gcp,
            &[("X-Client-Cert", ""), ("X-Client-Cert-Error", "client_cert_validated_leaf_exceeded_size_limit")],
            "certificate_too_large",
        ),
        case(
            "gcp, chain over 16 KB",
            &gcp,
            &[
                ("X-Client-Cert", &cc),
                (
                    "X-Client-Cert-Error",
                    "client_cert_serial_number_exceeded_size_limit,client_cert_validated_chain_exceeded_size_limit",
                ),
            ],
            "certificate_too_large",
        ),
        case(
            "gcp, other error",
            &gcp,
            &[
                ("X-Client-Cert", &cc),
                ("X-Client-Cert-Chain", &chain),
                ("X-Client-Cert-Error", "client_cert_spiffe_id_exceeded_size_limit"),
            ],
            "",
        ),
        case(
            "gcp checked",
            &gcp_checked,
            &[
                ("X-Client-Cert", &cc),
                ("X-Client-Cert-Chain", &chain),
                ("X-Client-Cert-Verified", "true"),
                ("X-Client-Cert-Sha256", &sha_b64),
            ],
            "",
        ),
        case(
            "gcp, not verified",
            &gcp_checked,
            &[
                ("X-Client-Cert", &cc),
                ("X-Client-Cert-Chain", &chain),
                ("X-Client-Cert-Verified", "false"),
                ("X-Client-Cert-Sha256", &sha_b64),
            ],
            "terminator_rejected",
        ),
    ])
    .await;
}

#[tokio::test]
async fn cloudfront_and_renamed_alb_headers() {
    let p = pki();
    let pin = p.alice.sha256_hex();
    let sha = p.alice.sha256_hex();
    let cloudfront = [("allowed_thumbprints", pin.as_str()), ("platform", "cloudfront")];
    let cloudfront_checked = [
        ("allowed_thumbprints", pin.as_str()),
        ("platform", "cloudfront"),
        ("certificate_digest_header", "CloudFront-Viewer-Cert-Sha256"),
        ("terminator_verify_header", "CloudFront-Viewer-Cert-Present"),
        ("terminator_verify_values", "1"),
    ];
    let alb_pem = encode::url_pem_alb(&p.alice.der);
    let nginx_pem = encode::url_pem_nginx(&p.alice.der);
    let alb_renamed =
        [("allowed_thumbprints", pin.as_str()), ("platform", "aws-alb"), ("certificate_header", "X-Client-Leaf")];
    let passthrough_renamed = [
        ("allowed_thumbprints", pin.as_str()),
        ("platform", "aws-alb-passthrough"),
        ("certificate_header", "X-Client-Chain"),
    ];
    let chain = format!("{}{}", alb_pem, encode::url_pem_alb(&p.issuing.certificate.der));
    // A certificate whose PEM has a `+` (about 2% of certificates of this size have none,
    // and for them the case would test nothing): issued until one does, at most 50 times.
    let with_plus = (0..50)
        .map(|i| encode::url_pem_alb(&p.issuing.issue(&LeafOptions::named(&format!("plus {i}"))).der))
        .find(|pem| pem.contains('+'))
        .expect("a PEM with a +");
    let form_decoded = with_plus.replace('+', " ");
    let cf = "CloudFront-Viewer-Cert-Pem";
    check(vec![
        case("cloudfront", &cloudfront, &[(cf, &alb_pem)], ""),
        case("cloudfront, = escaped", &cloudfront, &[(cf, &nginx_pem)], ""),
        case(
            "cloudfront checked",
            &cloudfront_checked,
            &[(cf, &alb_pem), ("CloudFront-Viewer-Cert-Sha256", &sha), ("CloudFront-Viewer-Cert-Present", "1")],
            "",
        ),
        case(
            "cloudfront, digest of another",
            &cloudfront_checked,
            &[
                (cf, &alb_pem),
                ("CloudFront-Viewer-Cert-Sha256", &p.mallory.sha256_hex()),
                ("CloudFront-Viewer-Cert-Present", "1"),
            ],
            "certificate_ambiguous",
        ),
        case(
            "cloudfront, not present",
            &cloudfront_checked,
            &[("CloudFront-Viewer-Cert-Present", "0")],
            "terminator_rejected",
        ),
        case("alb renamed", &alb_renamed, &[("X-Client-Leaf", &alb_pem)], ""),
        case(
            "alb renamed: the default name is not read",
            &alb_renamed,
            &[("X-Amzn-Mtls-Clientcert-Leaf", &alb_pem)],
            "certificate_missing",
        ),
        case(
            "alb renamed, + read as a space",
            &alb_renamed,
            &[("X-Client-Leaf", &form_decoded)],
            "certificate_malformed",
        ),
        case("alb passthrough renamed", &passthrough_renamed, &[("X-Client-Chain", &chain)], ""),
    ])
    .await;
}

#[test]
fn variables_for_the_side_headers_are_validated() {
    use certgate::internals::Config;
    let pin = pki().alice.sha256_hex();
    let load = |extra: &[(&str, &str)]| {
        let mut vars: Vec<(&str, &str)> = vec![("allowed_thumbprints", pin.as_str())];
        vars.extend_from_slice(extra);
        Config::load(&vars.as_slice())
    };
    for bad in [
        vec![("certificate_too_large_values", "true")],
        vec![("certificate_too_large_header", "x a")],
        vec![("certificate_too_large_header", "x-a"), ("certificate_too_large_values", " , ")],
        vec![("certificate_digest_header", "X-ARR-ClientCert")],
        vec![("certificate_digest_header", "bad header")],
        vec![("terminator_verdicts", "x-a")],
        vec![("terminator_verdicts", "x-a: 1; x-a: 2")],
        vec![("terminator_verify_header", "x-a"), ("terminator_verdicts", "x-a: 1")],
        vec![("platform", "gcp"), ("certificate_too_large_header", "X-Client-Cert")],
    ] {
        let e = load(&bad).unwrap_err();
        assert!(certgate::vars::find(e.variable).is_some(), "{bad:?}: {e}");
    }
    let gcp = load(&[("platform", "gcp")]).unwrap();
    let flag = gcp.extraction.too_large_flag.unwrap();
    assert_eq!(flag.header, "x-client-cert-error");
    assert_eq!(gcp.extraction.chain_header.as_deref(), Some("x-client-cert-chain"));
    let renamed = load(&[("platform", "gcp"), ("certificate_too_large_header", "X-Err")]).unwrap();
    let flag = renamed.extraction.too_large_flag.unwrap();
    assert_eq!(flag.header, "x-err");
    assert!(flag.values.iter().any(|v| v == "client_cert_validated_leaf_exceeded_size_limit"), "renamed, same values");
    let plain = load(&[("certificate_too_large_header", "X-Err")]).unwrap();
    assert_eq!(plain.extraction.too_large_flag.unwrap().values, ["true"]);
    let own = load(&[("platform", "gcp"), ("certificate_too_large_values", "mine")]).unwrap();
    assert_eq!(own.extraction.too_large_flag.unwrap().values, ["mine"], "values override the preset's");
    let alb = load(&[("platform", "aws-alb"), ("certificate_header", "X-Client-Leaf")]).unwrap();
    assert_eq!((alb.extraction.header.as_str(), alb.extraction.format), ("x-client-leaf", certgate::Format::UrlPem));
}
