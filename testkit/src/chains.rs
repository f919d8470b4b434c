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
    vec![
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
    ]
}
