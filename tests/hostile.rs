//! The hostile review's findings, each as the concrete input an attacker (or a mistaken
//! operator) would send, run against the native library and through certgate.wasm in
//! wasmtime: both must refuse with the stated reason, never authenticate, never trap.
//! Every case here was accepted (or trapped) before the fix it names.

use certgate_tests as support;

use std::collections::HashMap;

use certgate::service::handle;
use certgate_testkit::{encode, forge_bridge, Ca, Duration, Issued, LeafOptions, OffsetDateTime};

fn now() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

use support::{case, check, reason_of, Case};

struct Pki {
    root: Ca,
    issuing: Ca,
    /// The victim: pinned, chains to the root.
    alice: Issued,
    /// The attacker's own certificate (its key is the attacker's), from the same CA.
    mallory: Issued,
}

fn pki() -> &'static Pki {
    static PKI: std::sync::OnceLock<Pki> = std::sync::OnceLock::new();
    PKI.get_or_init(|| {
        let root = Ca::new("Hostile Root");
        let issuing = root.intermediate("Hostile Issuing CA");
        let alice = issuing.issue(&LeafOptions::named("alice").uri("spiffe://prod.example/alice"));
        let mallory = issuing.issue(&LeafOptions::named("mallory"));
        Pki { root, issuing, alice, mallory }
    })
}

fn anchors() -> String {
    pki().root.certificate.pem()
}

/// Finding 1: a client whose certificate the terminator accepted writes XFCC syntax into a
/// SAN value, which Envoy copies unescaped.
#[tokio::test]
async fn xfcc_injection_through_san_values() {
    let p = pki();
    let victim = encode::url_pem_envoy(&p.alice.der);
    let victim_hash = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&p.alice.der));
    let inter = encode::url_pem_envoy(&p.issuing.certificate.der);
    let ca = anchors();
    let pinned: Vec<(&str, String)> = vec![("allowed_thumbprints", p.alice.sha256_hex()), ("platform", "envoy".into())];
    let trust = [("trust_anchors", ca.clone()), ("platform", "envoy".into())];
    let mut cases = Vec::new();
    let sans = [
        ("comma-cert", format!("x,Cert=\"{victim}\"")),
        ("comma-whole-element", format!("x,By=spiffe://cluster.local/ns/default/sa/certgate;Hash={victim_hash};Cert=\"{victim}\";Subject=\"CN=alice\";URI=spiffe://prod.example/alice")),
        ("comma-cert-chain", format!("x,Cert=\"{victim}\";Chain=\"{victim}{inter}\"")),
        ("semicolon-cert", format!("x;Cert=\"{victim}\"")),
        ("semicolon-hash", format!("x;Hash={victim_hash}")),
        ("comma-two-elements", format!("x,Hash=1,Cert=\"{victim}\"")),
        ("quote-swallow", format!("\"x;Cert={victim}\"")),
    ];
    for (what, san) in &sans {
        let attacker = p.issuing.issue(&LeafOptions::named("mallory").uri(san));
        // Envoy with set_current_client_cert_details {cert, subject, uri}.
        let xfcc = encode::xfcc_element(&attacker.der, &[], "CN=mallory");
        for mode in ["single", "last"] {
            for (trust_name, vars) in [("pinned", pinned.clone()), ("anchored", trust.to_vec())] {
                let mut vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
                vars.push(("xfcc_elements", mode));
                // A quoted SAN value splits nothing: in `single` mode the element is whole and
                // it is the client's own certificate (not pinned; its issuing CA is not configured).
                let want = match (*what, mode, trust_name) {
                    ("quote-swallow", "single", "pinned") => "certificate_not_allowed",
                    ("quote-swallow", "single", _) => "certificate_untrusted",
                    _ => "certificate_ambiguous",
                };
                cases.push(case(&format!("{what} {mode} {trust_name}"), &vars, &[("x-forwarded-client-cert", &xfcc)], want));
            }
        }
    }
    // Envoy forwarding `Chain` but not `Cert`: an injected `;Cert=` after `URI=` used to be
    // taken as the leaf in the default single mode.
    let attacker = p.issuing.issue(&LeafOptions::named("mallory").uri(&format!("x;Cert=\"{victim}\"")));
    let own_hash = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&attacker.der));
    let chain_only = format!(
        "By=spiffe://cluster.local/ns/default/sa/certgate;Hash={own_hash};Chain=\"{}{inter}\";Subject=\"CN=mallory\";URI=x;Cert=\"{victim}\"",
        encode::url_pem_envoy(&attacker.der)
    );
    let pinned_vars: Vec<(&str, &str)> = pinned.iter().map(|(k, v)| (*k, v.as_str())).collect();
    cases.push(case("chain-only single", &pinned_vars, &[("x-forwarded-client-cert", &chain_only)], "certificate_ambiguous"));
    // `Hash` that is not the leaf's.
    let lying = format!("Hash={};Cert=\"{victim}\"", "ab".repeat(32));
    cases.push(case("hash mismatch", &pinned_vars, &[("x-forwarded-client-cert", &lying)], "certificate_ambiguous"));
    // The honest header still works, in both modes, with the SANs Envoy writes.
    let honest = encode::xfcc_element(&p.alice.der, &[&p.issuing.certificate.der], "CN=alice");
    cases.push(case("honest single", &pinned_vars, &[("x-forwarded-client-cert", &honest)], ""));
    let mut last = pinned_vars.clone();
    last.push(("xfcc_elements", "last"));
    let two = format!("{},{honest}", encode::xfcc_element(&p.mallory.der, &[], "CN=mallory"));
    cases.push(case("honest two hops last", &last, &[("x-forwarded-client-cert", &two)], ""));
    check(cases).await;
}

/// Finding 2: several certificates in one value, `victim, bridge, real`, where the bridge
/// only carries the victim's issuer's name (or even its key, signed by the attacker's leaf).
#[tokio::test]
async fn merged_lines_need_signatures_not_names() {
    let p = pki();
    // A self-signed impostor; a bridge named to link victim and real (issuer CN=mallory), with
    // a key of its own; and one carrying the real CA's public key, signed by mallory's own key.
    let impostor = Ca::new("Hostile Issuing CA").certificate;
    let named = forge_bridge("Hostile Issuing CA", &Ca::new("Elsewhere").certificate, &p.issuing.issue(&LeafOptions::named("mallory")));
    let forged = forge_bridge("Hostile Issuing CA", &p.issuing.certificate, &p.mallory);
    let pin = p.alice.sha256_hex();
    let ca = anchors();
    let mut cases = Vec::new();
    for (bridge_name, bridge) in [("self-signed", &impostor), ("name-linked", &named), ("key-copied", &forged)] {
        let list: [&[u8]; 3] = [&p.alice.der, &bridge.der, &p.mallory.der];
        let b64 = encode::traefik_chain(&list);
        let pem: String = list.iter().map(|d| encode::pem_apache(d)).collect::<Vec<_>>().join(" ");
        let url_pem: String = list.iter().map(|d| encode::url_pem_nginx(d)).collect();
        let xfcc_chain = format!("Chain=\"{}\"", list.iter().map(|d| encode::url_pem_envoy(d)).collect::<String>());
        for (format, value) in [("base64-der", b64), ("pem", pem), ("url-pem", url_pem), ("xfcc", xfcc_chain)] {
            for (trust, vars) in [
                ("pinned", vec![("allowed_thumbprints", pin.as_str())]),
                ("anchored", vec![("trust_anchors", ca.as_str())]),
            ] {
                let mut vars = vars;
                vars.push(("certificate_format", format));
                vars.push(("max_chain_certificates", "5"));
                cases.push(case(
                    &format!("{bridge_name} {format} {trust}"),
                    &vars,
                    &[("x-arr-clientcert", &value)],
                    "certificate_ambiguous",
                ));
            }
        }
    }
    // A real chain in one value, leaf first, still authenticates.
    let real = encode::traefik_chain(&[&p.alice.der, &p.issuing.certificate.der, &p.root.certificate.der]);
    cases.push(case("real chain pinned", &[("allowed_thumbprints", &pin)], &[("x-arr-clientcert", &real)], ""));
    cases.push(case("real chain anchored", &[("trust_anchors", &ca)], &[("x-arr-clientcert", &real)], ""));
    // Out of order, or with a leaf in the middle, is refused.
    let reversed = encode::traefik_chain(&[&p.alice.der, &p.root.certificate.der, &p.issuing.certificate.der]);
    cases.push(case("out of order", &[("allowed_thumbprints", &pin)], &[("x-arr-clientcert", &reversed)], "certificate_ambiguous"));
    check(cases).await;
}

/// Finding 3: serials of 0x80 and more (DER writes a 0x00 sign byte before them).
#[tokio::test]
async fn high_bit_serials_are_revoked_in_every_spelling() {
    let p = pki();
    let mut options = LeafOptions::named("high");
    options.serial = Some(vec![0x80, 0x11, 0x22, 0x33]);
    let high = p.issuing.issue(&options);
    let pin = high.sha256_hex();
    let t = OffsetDateTime::now_utc();
    let crl = p.issuing.crl(&[&[0x80, 0x11, 0x22, 0x33]], t - Duration::hours(1), t + Duration::days(1));
    let ca = anchors();
    let inter = p.issuing.certificate.pem();
    let value = encode::base64_der(&high.der);
    let h = [("x-arr-clientcert", value.as_str())];
    let mut cases = vec![case("not revoked", &[("allowed_thumbprints", &pin)], &h, "")];
    for spelling in ["serial:80:11:22:33", "serial:80112233", "serial:0080112233", "serial:00:80:11:22:33", "SERIAL:80 11 22 33"] {
        cases.push(case(spelling, &[("allowed_thumbprints", &pin), ("revoked", spelling)], &h, "certificate_revoked"));
    }
    cases.push(case("crl pinned", &[("allowed_thumbprints", &pin), ("trust_anchors", &ca), ("intermediates", &inter), ("crls", &crl)], &h, "certificate_revoked"));
    cases.push(case("crl anchored", &[("trust_anchors", &ca), ("intermediates", &inter), ("crls", &crl)], &h, "certificate_revoked"));
    check(cases).await;
}

/// Finding 4: the CRL that applies is chosen by issuer name *and* key, the freshest of an
/// issuer judges staleness whatever the order, and every CA on the path is checked.
#[tokio::test]
async fn crl_selection_is_by_key_freshness_and_path() {
    let p = pki();
    let t = OffsetDateTime::now_utc();
    let ca = anchors();
    let inter = p.issuing.certificate.pem();
    let stale = p.issuing.crl(&[], t - Duration::days(10), t - Duration::days(3));
    let fresh = p.issuing.crl(&[], t - Duration::hours(1), t + Duration::days(1));
    let value = encode::base64_der(&p.alice.der);
    let h = [("x-arr-clientcert", value.as_str())];
    let base = |crls: &str| vec![("trust_anchors", ca.clone()), ("intermediates", inter.clone()), ("crls", crls.to_string())];
    let as_refs = |v: &Vec<(&'static str, String)>| -> Vec<(String, String)> { v.iter().map(|(k, v)| (k.to_string(), v.clone())).collect() };
    let mk = |name: &str, vars: Vec<(&'static str, String)>, want: &'static str| Case {
        name: name.into(),
        vars: as_refs(&vars),
        headers: h.iter().map(|(k, v)| (k.to_string(), v.as_bytes().to_vec())).collect(),
        want,
    };
    let mut cases = vec![
        mk("stale then fresh", base(&format!("{stale}{fresh}")), ""),
        mk("fresh then stale", base(&format!("{fresh}{stale}")), ""),
        mk("stale only", base(&stale), "revocation_list_stale"),
    ];
    // A stale CRL of the root (for the intermediate) denies too.
    let root_stale = p.root.crl(&[], t - Duration::days(10), t - Duration::days(3));
    cases.push(mk("stale root CRL", base(&format!("{fresh}{root_stale}")), "revocation_list_stale"));
    let revoking_root = p.root.crl(&[&issuing_serial(p)], t - Duration::hours(1), t + Duration::days(1));
    cases.push(mk("intermediate revoked by root", base(&format!("{fresh}{revoking_root}")), "certificate_revoked"));
    // Rollover: two roots with one name (one CA, two keys). A serial the new root's CRL
    // lists is revoked whichever key issued the certificate (RFC 5280 lets a CA's new key
    // list its old key's certificates); whether an old-key certificate's status is current
    // only the old key's own lists can say, so with none configured it is unknown.
    let old_root = Ca::new("Rollover Root");
    let new_root = Ca::new("Rollover Root");
    let mut options = LeafOptions::named("old-leaf");
    options.serial = Some(vec![0x42]);
    let old_leaf = old_root.issue(&options);
    let mut options = LeafOptions::named("new-leaf");
    options.serial = Some(vec![0x42]);
    let new_leaf = new_root.issue(&options);
    let roots = format!("{}{}", old_root.certificate.pem(), new_root.certificate.pem());
    let new_revokes = new_root.crl(&[&[0x42]], t - Duration::hours(1), t + Duration::days(1));
    let new_stale = new_root.crl(&[], t - Duration::days(10), t - Duration::days(3));
    for (name, leaf, crls, want) in [
        ("old leaf, new root revokes 42", &old_leaf, &new_revokes, "certificate_revoked"),
        ("new leaf, new root revokes 42", &new_leaf, &new_revokes, "certificate_revoked"),
        ("old leaf, new root stale", &old_leaf, &new_stale, "revocation_list_stale"),
        ("new leaf, new root stale", &new_leaf, &new_stale, "revocation_list_stale"),
    ] {
        let v = encode::base64_der(&leaf.der);
        for trust in ["anchored", "pinned"] {
            let mut vars = vec![("trust_anchors", roots.as_str()), ("crls", crls.as_str())];
            let pin = leaf.sha256_hex();
            if trust == "pinned" {
                vars.push(("allowed_thumbprints", pin.as_str()));
            }
            cases.push(case(&format!("{name} ({trust})"), &vars, &[("x-arr-clientcert", &v)], want));
        }
    }
    check(cases).await;
}

/// The issuing CA's serial, read by an implementation independent of certgate's.
fn issuing_serial(p: &Pki) -> Vec<u8> {
    issuing_serial_of(&p.issuing.certificate)
}

/// Finding 5: notBefore after notAfter, both within the skew of now, trapped the component.
#[tokio::test]
async fn inverted_validity_is_refused_not_a_trap() {
    let p = pki();
    let t = OffsetDateTime::now_utc();
    let mut options = LeafOptions::named("inverted");
    options.not_before = t + Duration::seconds(20);
    options.not_after = t - Duration::seconds(20);
    let inverted = p.issuing.issue(&options);
    let v = encode::base64_der(&inverted.der);
    let h = [("x-arr-clientcert", v.as_str())];
    let ca = anchors();
    let inter = p.issuing.certificate.pem();
    check(vec![
        case("pinned", &[("allowed_thumbprints", &inverted.sha256_hex())], &h, "certificate_malformed"),
        case("anchored", &[("trust_anchors", &ca), ("intermediates", &inter)], &h, "certificate_malformed"),
        case("pinned, day of skew", &[("allowed_thumbprints", &inverted.sha256_hex()), ("clock_skew_seconds", "86400")], &h, "certificate_malformed"),
    ])
    .await;
}

/// Finding 6: a leaf and many CA certificates sharing one subject made path building try
/// every combination.
#[tokio::test]
async fn chain_building_is_bounded() {
    let p = pki();
    let ca = anchors();
    let twins: Vec<Issued> = (0..15).map(|_| Ca::new("Hostile Issuing CA").certificate).collect();
    let rfc: Vec<String> = twins.iter().map(|c| encode::rfc9440(&c.der)).collect();
    let chain_header = rfc.join(", ");
    let leaf = encode::rfc9440(&p.alice.der);
    let h = [("client-cert", leaf.as_str()), ("client-cert-chain", chain_header.as_str())];
    let few = rfc[..3].join(", ");
    let h_few = [("client-cert", leaf.as_str()), ("client-cert-chain", few.as_str())];
    check(vec![
        case("16 by default", &[("trust_anchors", &ca), ("platform", "rfc9440")], &h, "certificate_too_large"),
        case("16 allowed, twins", &[("trust_anchors", &ca), ("platform", "rfc9440"), ("max_chain_certificates", "16")], &h, "certificate_ambiguous"),
        case("4 twins", &[("trust_anchors", &ca), ("platform", "rfc9440")], &h_few, "certificate_ambiguous"),
        case("max 1", &[("trust_anchors", &ca), ("platform", "rfc9440"), ("max_chain_certificates", "1")], &h_few, "certificate_too_large"),
    ])
    .await;
}

/// Finding 7: an end-entity certificate configured as a CA.
#[tokio::test]
async fn end_entity_certificates_are_not_cas() {
    let p = pki();
    let v = encode::base64_der(&p.alice.der);
    let h = [("x-arr-clientcert", v.as_str())];
    let leaf_pem = p.mallory.pem();
    let ca = anchors();
    check(vec![
        case("leaf as anchor", &[("trust_anchors", &leaf_pem)], &h, "configuration_error"),
        case("leaf as intermediate", &[("trust_anchors", &ca), ("intermediates", &leaf_pem)], &h, "configuration_error"),
    ])
    .await;
    let vars: HashMap<String, String> = [("trust_anchors".to_string(), format!("{ca}{leaf_pem}"))].into();
    let error = certgate::Gate::from_source(&vars).unwrap_err();
    assert_eq!(error.variable, "trust_anchors");
    assert_eq!(
        error.to_string(),
        "variable `trust_anchors`: certificate 2: CN=mallory is not a CA certificate (no basicConstraints cA=TRUE)"
    );
}

/// Finding 9: a 403 tells the client the reason and generic text, never configuration.
#[tokio::test]
async fn refusals_reveal_no_configuration() {
    let p = pki();
    let t = now();
    let soon = certgate::internals::rfc3339(t + 86_400);
    let pins = serde_json::json!([{"label": "break-glass-2027", "sha256": p.alice.sha256_hex(), "not_before": soon}]).to_string();
    let value = encode::base64_der(&p.alice.der);
    let ca = anchors();
    let inter = p.issuing.certificate.pem();
    let tt = OffsetDateTime::now_utc();
    let stale = p.issuing.crl(&[], tt - Duration::days(10), tt - Duration::days(3));
    let secrets = ["break-glass-2027", &soon[..10], "Hostile Issuing CA", "x-secret-cert-header", "x-my-verdict", "FAILED:", "Hostile Root"];
    let requests: Vec<(Vec<(&str, String)>, Vec<(&str, String)>)> = vec![
        (vec![("pins", pins.clone())], vec![("x-arr-clientcert", value.clone())]),
        (vec![("trust_anchors", ca.clone()), ("intermediates", inter.clone()), ("crls", stale.clone())], vec![("x-arr-clientcert", value.clone())]),
        (vec![("allowed_thumbprints", p.alice.sha256_hex()), ("certificate_header", "x-secret-cert-header".into())], vec![]),
        (
            vec![("allowed_thumbprints", p.alice.sha256_hex()), ("terminator_verify_header", "x-my-verdict".into())],
            vec![("x-arr-clientcert", value.clone()), ("x-my-verdict", "FAILED:certificate revoked".into())],
        ),
        (vec![("allowed_thumbprints", p.alice.sha256_hex()), ("terminator_verify_header", "x-my-verdict".into())], vec![("x-arr-clientcert", value.clone())]),
        (vec![("trust_anchors", p.mallory.pem())], vec![("x-arr-clientcert", value.clone())]),
        (vec![("trust_anchors", Ca::new("Other Root").certificate.pem())], vec![("x-arr-clientcert", value.clone())]),
    ];
    for (vars, headers) in requests {
        let vars_map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
        let headers: Vec<(String, Vec<u8>)> = headers.iter().map(|(k, v)| (k.to_string(), v.clone().into_bytes())).collect();
        let native = handle("GET", "/api/values", &headers, &vars_map, t);
        let mut req = support::get("/api/values");
        for (k, v) in &headers {
            req = req.header(k, v.clone());
        }
        for (k, v) in &vars {
            req = req.var(k, v);
        }
        let wasm = req.send().await;
        for body in [String::from_utf8_lossy(&native.response.body).to_string(), String::from_utf8_lossy(&wasm.body).to_string()] {
            assert_ne!(reason_of(native.response.status, body.as_bytes()), "", "{body}");
            for secret in secrets {
                assert!(!body.contains(secret), "{secret:?} reached the client: {body}");
            }
        }
        // The operator still gets the specifics in the log.
        let logged: String = native.logs.iter().map(|l| l.render()).collect();
        assert!(logged.contains("\"detail\"") || logged.contains("\"problem\""), "the log says why: {logged}");
    }
}

/// A pinned certificate's CRLs need its issuer among the configured CAs, found by signature.
/// When the signature budget runs out before every CA of that name was tried, revocation is
/// unknown: refused, never skipped.
#[tokio::test]
async fn revocation_is_never_skipped_for_lack_of_budget() {
    let t = OffsetDateTime::now_utc();
    let twins: Vec<Ca> = (0..30).map(|_| Ca::new("Twin Root")).collect();
    let real = Ca::new("Twin Root");
    let leaf = real.issue(&LeafOptions::named("pinned"));
    let crl = twins[0].crl(&[], t - Duration::hours(1), t + Duration::days(1));
    let value = encode::base64_der(&leaf.der);
    let h = [("x-arr-clientcert", value.as_str())];
    let pin = leaf.sha256_hex();
    let bundle = |cas: &[&Ca]| cas.iter().map(|c| c.certificate.pem()).collect::<String>();
    let all_twins: Vec<&Ca> = twins.iter().collect();
    let few_twins: Vec<&Ca> = twins.iter().take(3).collect();
    let many = bundle(&all_twins);
    let few = bundle(&few_twins);
    let mut with_real = few_twins.clone();
    with_real.push(&real);
    let revoking = real.crl(&[&issuing_serial_of(&leaf)], t - Duration::hours(1), t + Duration::days(1));
    let few_and_real = bundle(&with_real);
    let crls = format!("{crl}{revoking}");
    check(vec![
        // The real issuer is not configured, but a CRL names it: whether the CRL applies is
        // unknown (crl_when_stale decides; deny by default).
        case("few twins", &[("allowed_thumbprints", &pin), ("trust_anchors", &few), ("crls", &crl)], &h, "revocation_list_stale"),
        // 30 CAs of that name, none the issuer: the budget runs out first.
        case("30 twins", &[("allowed_thumbprints", &pin), ("trust_anchors", &many), ("crls", &crl)], &h, "certificate_untrusted"),
        // The real issuer among them, revoking it.
        case("real issuer revokes", &[("allowed_thumbprints", &pin), ("trust_anchors", &few_and_real), ("crls", &crls)], &h, "certificate_revoked"),
    ])
    .await;
}

fn issuing_serial_of(cert: &Issued) -> Vec<u8> {
    let (_, c) = x509_parser::parse_x509_certificate(&cert.der).unwrap();
    c.raw_serial().to_vec()
}

/// Review II, finding 1: an ECDSA signature has two valid forms, (r, s) and (r, n - s). Anyone
/// can rewrite a public certificate into its twin, which verifies the same and has other
/// thumbprints: a thumbprint on the denylist must still match.
#[tokio::test]
async fn thumbprint_denylist_matches_the_ecdsa_twin() {
    use certgate_testkit::reencode::ecdsa_p256_twin;
    let p = pki();
    let ca = anchors();
    let inter_twin = ecdsa_p256_twin(&p.issuing.certificate.der);
    let leaf_twin = ecdsa_p256_twin(&p.alice.der);
    let honest_list = encode::traefik_chain(&[&p.alice.der, &p.issuing.certificate.der]);
    let twin_list = encode::traefik_chain(&[&p.alice.der, &inter_twin]);
    let leaf_rfc = encode::rfc9440(&p.alice.der);
    let twin_chain = encode::rfc9440(&inter_twin);
    let revoked_ca = p.issuing.certificate.sha256_hex();
    let revoked_leaf = p.alice.sha1_hex();
    let leaf_twin_b64 = encode::base64_der(&leaf_twin);
    let key_pin = p.alice.key_sha256_b64();
    check(vec![
        case("honest list", &[("trust_anchors", &ca), ("revoked", &revoked_ca)], &[("x-arr-clientcert", &honest_list)], "certificate_revoked"),
        case("twin CA inline", &[("trust_anchors", &ca), ("revoked", &revoked_ca)], &[("x-arr-clientcert", &twin_list)], "certificate_revoked"),
        case(
            "twin CA chain header",
            &[("trust_anchors", &ca), ("revoked", &revoked_ca), ("platform", "rfc9440")],
            &[("client-cert", &leaf_rfc), ("client-cert-chain", &twin_chain)],
            "certificate_revoked",
        ),
        case(
            "twin leaf, key pin",
            &[("allowed_key_pins", &key_pin), ("revoked", &revoked_leaf)],
            &[("x-arr-clientcert", &leaf_twin_b64)],
            "certificate_revoked",
        ),
        case(
            "twin leaf, anchored",
            &[("trust_anchors", &ca), ("intermediates", &p.issuing.certificate.pem()), ("revoked", &revoked_leaf)],
            &[("x-arr-clientcert", &leaf_twin_b64)],
            "certificate_revoked",
        ),
        // Without a denylist the twin is the same certificate to the chain: allowed.
        case("twin CA, no denylist", &[("trust_anchors", &ca)], &[("x-arr-clientcert", &twin_list)], ""),
    ])
    .await;
}

/// Review II, finding 2: a CA signed the bytes it wrote, an explicit DEFAULT included; a
/// re-encoding parser normalises them away. Signatures are checked over the bytes as sent,
/// so the pinned leaf's issuer (and its CRL) is found.
#[tokio::test]
async fn signatures_are_checked_over_the_bytes_as_sent() {
    use certgate_testkit::reencode::with_explicit_false;
    let ca = Ca::new("Legacy Issuing CA");
    let mut options = LeafOptions::named("legacy");
    options.serial = Some(vec![0x11, 0x22, 0x33]);
    let legacy = with_explicit_false(&ca, &options);
    let t = OffsetDateTime::now_utc();
    let crl = ca.crl(&[&[0x11, 0x22, 0x33]], t - Duration::hours(1), t + Duration::days(1));
    let anchors = ca.certificate.pem();
    let value = encode::base64_der(&legacy.der);
    let list = encode::traefik_chain(&[&legacy.der, &ca.certificate.der]);
    let pin = legacy.sha256_hex();
    check(vec![
        case("pinned, CRL", &[("allowed_thumbprints", &pin), ("trust_anchors", &anchors), ("crls", &crl)], &[("x-arr-clientcert", &value)], "certificate_revoked"),
        case("anchored, CRL", &[("trust_anchors", &anchors), ("crls", &crl)], &[("x-arr-clientcert", &value)], "certificate_revoked"),
        case("pinned inline with its CA", &[("allowed_thumbprints", &pin)], &[("x-arr-clientcert", &list)], ""),
        case("anchored, no CRL", &[("trust_anchors", &anchors)], &[("x-arr-clientcert", &value)], ""),
    ])
    .await;
    // A CRL that names the pinned leaf's issuer, but no configured CA of that name signed
    // the leaf: whether it applies is unknown, and crl_when_stale decides.
    let impostor = Ca::new("Legacy Issuing CA");
    let other_crl = impostor.crl(&[], t - Duration::hours(1), t + Duration::days(1));
    let impostor_pem = impostor.certificate.pem();
    check(vec![
        case("unconfirmed, deny", &[("allowed_thumbprints", &pin), ("trust_anchors", &impostor_pem), ("crls", &other_crl)], &[("x-arr-clientcert", &value)], "revocation_list_stale"),
        case(
            "unconfirmed, allow",
            &[("allowed_thumbprints", &pin), ("trust_anchors", &impostor_pem), ("crls", &other_crl), ("crl_when_stale", "allow")],
            &[("x-arr-clientcert", &value)],
            "",
        ),
    ])
    .await;
    // Review III: such a CRL that lists the leaf's serial revokes it, whatever crl_when_stale.
    let listing = impostor.crl(&[&[0x11, 0x22, 0x33]], t - Duration::hours(1), t + Duration::days(1));
    check(vec![case(
        "unconfirmed but listed, allow",
        &[("allowed_thumbprints", &pin), ("trust_anchors", &impostor_pem), ("crls", &listing), ("crl_when_stale", "allow")],
        &[("x-arr-clientcert", &value)],
        "certificate_revoked",
    )])
    .await;
}

/// Review II, finding 4: a key pin trusts the key, whatever certificate carries it. A
/// `key:` denylist entry revokes the key itself.
#[tokio::test]
async fn key_denylist_revokes_every_certificate_of_a_key() {
    let p = pki();
    let key_pin = p.alice.key_sha256_b64();
    let renewed = p.issuing.issue(&LeafOptions::named("alice-renewed").same_key_as(&p.alice));
    let value = encode::base64_der(&renewed.der);
    let revoked = format!("key:{key_pin}");
    check(vec![
        case("renewed, key pinned", &[("allowed_key_pins", &key_pin)], &[("x-arr-clientcert", &value)], ""),
        case("renewed, key revoked", &[("allowed_key_pins", &key_pin), ("revoked", &revoked)], &[("x-arr-clientcert", &value)], "certificate_revoked"),
        case("bad key entry", &[("allowed_key_pins", &key_pin), ("revoked", "key:nope")], &[("x-arr-clientcert", &value)], "configuration_error"),
    ])
    .await;
}

/// Review III: a list whose later links are signed by keys its sender chose (P-384, the most
/// expensive) no longer buys signature work: on the anchor path the list must be the path's
/// own certificates; for a pin its links have a small budget of their own. And a denylisted
/// trust anchor's thumbprint revokes what chains to it.
#[tokio::test]
async fn lists_cost_bounded_work_and_anchors_can_be_denylisted() {
    use certgate_testkit::KeyKind;
    let p = pki();
    let a4 = Ca::with_key("A4", KeyKind::EcdsaP384);
    let a3 = a4.intermediate_with_key("A3", KeyKind::EcdsaP384);
    let a2 = a3.intermediate_with_key("A2", KeyKind::EcdsaP384);
    let bridge = forge_bridge("Hostile Issuing CA", &p.issuing.certificate, &a2.certificate);
    let hostile = encode::traefik_chain(&[&p.alice.der, &bridge.der, &a2.certificate.der, &a3.certificate.der, &a4.certificate.der]);
    let ca = anchors();
    let inter = p.issuing.certificate.pem();
    let real = encode::traefik_chain(&[&p.alice.der, &p.issuing.certificate.der, &p.root.certificate.der]);
    let root_thumbprint = p.root.certificate.sha256_hex();
    check(vec![
        case("hostile list, anchored", &[("trust_anchors", &ca), ("intermediates", &inter)], &[("x-arr-clientcert", &hostile)], "certificate_ambiguous"),
        case("hostile list, pinned", &[("allowed_thumbprints", &p.alice.sha256_hex())], &[("x-arr-clientcert", &hostile)], "certificate_ambiguous"),
        case("real list, anchored", &[("trust_anchors", &ca)], &[("x-arr-clientcert", &real)], ""),
        case("real list, pinned", &[("allowed_thumbprints", &p.alice.sha256_hex())], &[("x-arr-clientcert", &real)], ""),
        case("anchor denylisted", &[("trust_anchors", &ca), ("revoked", &root_thumbprint)], &[("x-arr-clientcert", &real)], "certificate_revoked"),
    ])
    .await;
}
