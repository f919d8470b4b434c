//! Requests on the trust-anchor path for the benchmarks (native and in wasm): a normal one,
//! the shapes the hostile review's fixes added work to, and the worst headers within the
//! limits, so each is measured next to the normal request in one run.

use crate::{encode, Ca, Issued, KeyKind, LeafOptions, OffsetDateTime};

/// One request: variables, headers and whether it is allowed.
pub struct ChainCase {
    pub name: &'static str,
    pub variables: Vec<(String, String)>,
    pub headers: Vec<(String, Vec<u8>)>,
    pub allowed: bool,
}

fn at(t: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(t).expect("time")
}

fn rfc(certs: &[&[u8]]) -> String {
    certs.iter().map(|c| encode::rfc9440(c)).collect::<Vec<_>>().join(", ")
}

fn case(name: &'static str, vars: &[(&str, &str)], headers: &[(&str, &str)], allowed: bool) -> ChainCase {
    ChainCase {
        name,
        variables: vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        headers: headers.iter().map(|(k, v)| (k.to_string(), v.as_bytes().to_vec())).collect(),
        allowed,
    }
}

/// The cases, with certificates valid around `now`.
pub fn chain_cases(now: i64) -> Vec<ChainCase> {
    let root = Ca::new("bench root");
    let inter = root.intermediate("bench issuing");
    let mut o = LeafOptions::named("client");
    o.not_before = at(now - 86_400);
    o.not_after = at(now + 86_400 * 365);
    let leaf = inter.issue(&o);
    let crls = format!(
        "{}{}",
        inter.crl(&[&[1]], at(now - 3600), at(now + 86_400)),
        root.crl(&[&[1]], at(now - 3600), at(now + 86_400))
    );
    let anchors = root.certificate.pem();
    let intermediates = inter.certificate.pem();
    let pin = leaf.sha256_hex();
    // An attacker's own chain within the limits: four RSA-4096 CAs, each signing the next,
    // every link valid, ending at a root that is not configured: the most signature work one
    // header can ask for.
    let mut evil = vec![Ca::with_key("evil 0", KeyKind::Rsa4096)];
    for i in 1..4 {
        let next = evil[i - 1].intermediate_with_key(&format!("evil {i}"), KeyKind::Rsa4096);
        evil.push(next);
    }
    let evil_leaf = evil[3].issue(&o);
    let evil_list: Vec<&[u8]> =
        std::iter::once(evil_leaf.der.as_slice()).chain(evil.iter().rev().map(|c| c.certificate.der.as_slice())).collect();
    // Four forwarded CAs named like the leaf's issuer and root (and two more), none of them
    // signing anything on the path.
    let impostors: Vec<Issued> =
        ["bench issuing", "bench root", "bench other", "bench other 2"].iter().map(|n| Ca::new(n).certificate).collect();
    let impostor_refs: Vec<&[u8]> = impostors.iter().map(|c| c.der.as_slice()).collect();
    // The third review's list: the leaf, a bridge with its CA's name and key signed by an
    // attacker's P-384 CA, and that CA's own P-384 chain (the most expensive keys).
    let p384_top = Ca::with_key("p384 top", KeyKind::EcdsaP384);
    let p384_mid = p384_top.intermediate_with_key("p384 mid", KeyKind::EcdsaP384);
    let p384_low = p384_mid.intermediate_with_key("p384 low", KeyKind::EcdsaP384);
    let bridge = crate::forge_bridge("bench issuing", &inter.certificate, &p384_low.certificate);
    let p384_list = encode::traefik_chain(&[
        &leaf.der,
        &bridge.der,
        &p384_low.certificate.der,
        &p384_mid.certificate.der,
        &p384_top.certificate.der,
    ]);
    // The review's amplifier: 15 CAs sharing the issuer's subject.
    let twins: Vec<Issued> = (0..15).map(|_| Ca::new("bench issuing").certificate).collect();
    let twin_refs: Vec<&[u8]> = twins.iter().map(|c| c.der.as_slice()).collect();
    let hop = encode::xfcc_element(&leaf.der, &[&inter.certificate.der], "CN=client");
    let three_hops = format!("{hop},{hop},{hop}");
    let leaf_rfc = encode::rfc9440(&leaf.der);
    let inter_rfc = rfc(&[&inter.certificate.der]);
    let inline = encode::traefik_chain(&[&leaf.der, &inter.certificate.der]);
    let evil_inline = encode::traefik_chain(&evil_list);
    let impostor_chain = rfc(&impostor_refs);
    let twin_chain = rfc(&twin_refs);
    let rfc9440 = ("platform", "rfc9440");

    // Issue 14's matrix: each key type under its own kind of CA, a P-384 intermediate, CRLs
    // of 1,000 and 100,000 entries from the leaf's issuer, and 50 anchors.
    let rsa_root = Ca::with_key("matrix rsa root", KeyKind::Rsa2048);
    let rsa_leaf = rsa_root.issue(&o.clone().key(KeyKind::Rsa2048));
    let p256_root = Ca::new("matrix p256 root");
    let p256_leaf = p256_root.issue(&o.clone());
    let p384_inter = p256_root.intermediate_with_key("matrix p384 issuing", KeyKind::EcdsaP384);
    let rsa_under_p384 = p384_inter.issue(&o.clone().key(KeyKind::Rsa2048));
    let serials = |n: u32| -> Vec<Vec<u8>> { (0..n).map(|i| [&[0x10u8][..], &(i + 2).to_be_bytes()].concat()).collect() };
    let crl_of = |n: u32| {
        let owned = serials(n);
        let refs: Vec<&[u8]> = owned.iter().map(Vec::as_slice).collect();
        p256_root.crl(&refs, at(now - 3600), at(now + 86_400))
    };
    let (crl_1k, crl_100k) = (crl_of(1_000), crl_of(100_000));
    let fifty: String = (0..49).map(|i| Ca::new(&format!("matrix other root {i}")).certificate.pem()).collect::<String>()
        + &p256_root.certificate.pem();
    let rsa_anchor = rsa_root.certificate.pem();
    let p256_anchor = p256_root.certificate.pem();
    let p384_pem = p384_inter.certificate.pem();
    let rsa_rfc = encode::rfc9440(&rsa_leaf.der);
    let p256_rfc = encode::rfc9440(&p256_leaf.der);
    let under_p384_rfc = encode::rfc9440(&rsa_under_p384.der);
    let p256_pin = p256_leaf.sha256_hex();
    let matrix = vec![
        case("matrix-pin-p256", &[("allowed_thumbprints", &p256_pin), rfc9440], &[("client-cert", &p256_rfc)], true),
        case("matrix-rsa2048-under-rsa2048", &[("trust_anchors", &rsa_anchor), rfc9440], &[("client-cert", &rsa_rfc)], true),
        case("matrix-p256-under-p256", &[("trust_anchors", &p256_anchor), rfc9440], &[("client-cert", &p256_rfc)], true),
        case(
            "matrix-rsa2048-under-p384-under-p256",
            &[("trust_anchors", &p256_anchor), ("intermediates", &p384_pem), rfc9440],
            &[("client-cert", &under_p384_rfc)],
            true,
        ),
        case(
            "matrix-p256-crl-1000",
            &[("trust_anchors", &p256_anchor), ("crls", &crl_1k), rfc9440],
            &[("client-cert", &p256_rfc)],
            true,
        ),
        case(
            "matrix-p256-crl-100000",
            &[("trust_anchors", &p256_anchor), ("crls", &crl_100k), rfc9440],
            &[("client-cert", &p256_rfc)],
            true,
        ),
        case("matrix-p256-50-anchors", &[("trust_anchors", &fifty), rfc9440], &[("client-cert", &p256_rfc)], true),
    ];
    let mut cases = vec![
        case(
            "anchor-normal",
            &[("trust_anchors", &anchors), rfc9440],
            &[("client-cert", &leaf_rfc), ("client-cert-chain", &inter_rfc)],
            true,
        ),
        case("anchor-inline-list", &[("trust_anchors", &anchors), ("platform", "traefik")], &[("x-forwarded-tls-client-cert", &inline)], true),
        case(
            "anchor-crls-on-path",
            &[("trust_anchors", &anchors), ("intermediates", &intermediates), ("crls", &crls), rfc9440],
            &[("client-cert", &leaf_rfc)],
            true,
        ),
        case(
            "pinned-crl-issuer-lookup",
            &[("allowed_thumbprints", &pin), ("trust_anchors", &anchors), ("intermediates", &intermediates), ("crls", &crls), rfc9440],
            &[("client-cert", &leaf_rfc)],
            true,
        ),
        case("xfcc-single", &[("allowed_thumbprints", &pin), ("platform", "envoy")], &[("x-forwarded-client-cert", &hop)], true),
        case(
            "xfcc-last-3-hops",
            &[("allowed_thumbprints", &pin), ("platform", "envoy"), ("xfcc_elements", "last")],
            &[("x-forwarded-client-cert", &three_hops)],
            true,
        ),
        case(
            "worst-valid-rsa4096-list",
            &[("trust_anchors", &anchors), ("platform", "traefik")],
            &[("x-forwarded-tls-client-cert", &evil_inline)],
            false,
        ),
        case(
            "worst-p384-list-anchored",
            &[("trust_anchors", &anchors), ("intermediates", &intermediates), ("platform", "traefik")],
            &[("x-forwarded-tls-client-cert", &p384_list)],
            false,
        ),
        case(
            "worst-p384-list-pinned",
            &[("allowed_thumbprints", &pin), ("platform", "traefik")],
            &[("x-forwarded-tls-client-cert", &p384_list)],
            false,
        ),
        case(
            "worst-impostor-chain-header",
            &[("trust_anchors", &anchors), rfc9440],
            &[("client-cert", &leaf_rfc), ("client-cert-chain", &impostor_chain)],
            false,
        ),
        case(
            "twins-16-refused",
            &[("trust_anchors", &anchors), rfc9440, ("max_chain_certificates", "16")],
            &[("client-cert", &leaf_rfc), ("client-cert-chain", &twin_chain)],
            false,
        ),
    ];
    cases.extend(matrix);
    cases
}
