//! Native cost of the whole per-request decision (`service::handle`: configuration read,
//! header extraction, certificate decoding and hashing, policy), next to the floor for
//! the same bytes (base64 decode + SHA-256 alone); the scale curve with 1 to 10,000 pins;
//! and hostile maximum-size headers against normal ones. `scripts/bench` runs these and
//! the wasm and throughput measurements and writes docs/reports/benchmarks.md.

use std::collections::HashMap;
use std::hint::black_box;

use base64::Engine;
use certgate::service::handle;
use certgate_testkit::{encode, Ca, Issued, KeyKind, LeafOptions};
use criterion::{criterion_main, BenchmarkId, Criterion};
use sha2::{Digest, Sha256};

const NOW: i64 = 1_800_000_000;

fn kinds(ca: &Ca) -> Vec<(&'static str, Issued)> {
    let o = |name: &str, kind| {
        let mut opts = LeafOptions::named(name).key(kind);
        opts.not_before = certgate_testkit::OffsetDateTime::from_unix_timestamp(NOW - 86_400).unwrap();
        opts.not_after = certgate_testkit::OffsetDateTime::from_unix_timestamp(NOW + 86_400 * 365).unwrap();
        opts
    };
    let mut large = o("large", KeyKind::Rsa4096).large();
    large.not_before = certgate_testkit::OffsetDateTime::from_unix_timestamp(NOW - 86_400).unwrap();
    vec![
        ("rsa2048", ca.issue(&o("rsa", KeyKind::Rsa2048))),
        ("p256", ca.issue(&o("p256", KeyKind::EcdsaP256))),
        ("ed25519", ca.issue(&o("ed25519", KeyKind::Ed25519))),
        ("large", ca.issue(&large)),
    ]
}

type Encoder = fn(&[u8]) -> String;
const FORMATS: [(&str, &str, Encoder); 6] = [
    ("base64-der", "azure-app-service", encode::base64_der),
    ("hex-der", "aspnetcore-sample", encode::hex_der_upper),
    ("xfcc-json", "envoy-json", |d: &[u8]| format!("[{}]", encode::xfcc_json_element(d, &[], "CN=bench"))),
    ("url-pem", "nginx", encode::url_pem_nginx),
    ("xfcc", "envoy", |d: &[u8]| encode::xfcc_element(d, &[], "CN=bench")),
    ("rfc9440", "rfc9440", encode::rfc9440),
];

fn header_for(platform: &str) -> &'static str {
    certgate::platform::find(platform).map(|p| p.header).unwrap_or("X-ARR-ClientCert")
}

fn decision(c: &mut Criterion) {
    let ca = Ca::new("bench root");
    let kinds = kinds(&ca);
    let mut group = c.benchmark_group("decision");
    for (format, platform, enc) in FORMATS {
        for (kind, cert) in &kinds {
            let vars: HashMap<String, String> = [
                ("allowed_thumbprints".to_string(), cert.sha256_hex()),
                ("platform".to_string(), platform.to_string()),
            ]
            .into();
            let headers = vec![(header_for(platform).to_ascii_lowercase(), enc(&cert.der).into_bytes())];
            assert_eq!(handle("GET", "/api/values", &headers, &vars, NOW).response.status, 200);
            group.bench_with_input(BenchmarkId::new(format, kind), &headers, |b, headers| {
                b.iter(|| handle("GET", "/api/values", black_box(headers), &vars, NOW))
            });
        }
    }
    group.finish();

    // The floor: decode the base64 of the same DER and hash it, nothing else.
    let mut floor = c.benchmark_group("floor");
    for (kind, cert) in &kinds {
        let b64 = encode::base64_der(&cert.der);
        floor.bench_with_input(BenchmarkId::new("base64+sha256", kind), &b64, |b, b64| {
            b.iter(|| {
                let der = base64::engine::general_purpose::STANDARD.decode(black_box(b64)).unwrap();
                Sha256::digest(&der)
            })
        });
    }
    floor.finish();
}

fn scale(c: &mut Criterion) {
    let ca = Ca::new("bench root");
    let (_, cert) = kinds(&ca).remove(1);
    let headers = vec![("x-arr-clientcert".to_string(), encode::base64_der(&cert.der).into_bytes())];
    let mut group = c.benchmark_group("scale");
    for n in [1usize, 100, 1_000, 10_000] {
        // The allowed pin is the last entry: the worst case for a scan.
        let mut pins: Vec<String> = (0..n - 1).map(|i| format!("{:064x}", i + 1)).collect();
        pins.push(cert.sha256_hex());
        let vars: HashMap<String, String> = [("allowed_thumbprints".to_string(), pins.join(";"))].into();
        assert_eq!(handle("GET", "/api/values", &headers, &vars, NOW).response.status, 200);
        group.bench_with_input(BenchmarkId::new("pins", n), &vars, |b, vars| {
            b.iter(|| handle("GET", "/api/values", black_box(&headers), vars, NOW))
        });
    }
    group.finish();
}

fn hostile(c: &mut Criterion) {
    let ca = Ca::new("bench root");
    let (_, cert) = kinds(&ca).remove(1);
    let limit = 32 * 1024;
    let normal = encode::xfcc_element(&cert.der, &[], "CN=bench");
    let cases: Vec<(&str, &str, String)> = vec![
        ("normal-base64", "azure-app-service", encode::base64_der(&cert.der)),
        ("max-base64-garbage", "azure-app-service", "A".repeat(limit - 1) + "!"),
        ("max-base64-list", "traefik", vec!["AAAA"; limit / 5].join(",")),
        ("normal-xfcc", "envoy", normal.clone()),
        ("max-xfcc-quotes", "envoy", format!("Subject=\"{}\"", "\\\"".repeat(limit / 2 - 8))),
        ("max-xfcc-pairs", "envoy", vec!["DNS=a"; limit / 6].join(";")),
        ("normal-url-pem", "nginx", encode::url_pem_nginx(&cert.der)),
        ("max-url-pem-escapes", "nginx", format!("-----BEGIN%20CERTIFICATE-----{}", "%41".repeat(limit / 3 - 12))),
        ("normal-hex", "aspnetcore-sample", encode::hex_der_upper(&cert.der)),
        ("max-hex-garbage", "aspnetcore-sample", format!("3082{}", "AB".repeat(limit / 2 - 2))),
        ("normal-xfcc-json", "envoy-json", format!("[{}]", encode::xfcc_json_element(&cert.der, &[], "CN=bench"))),
        ("max-xfcc-json-escapes", "envoy-json", format!("[{{\"subject\":\"{}\"}}]", "\\u00e9".repeat(limit / 6 - 4))),
        ("max-xfcc-json-objects", "envoy-json", format!("[{}]", vec!["{}"; limit / 3 - 1].join(","))),
        ("max-xfcc-json-nesting", "envoy-json", format!("[{{\"x\":{}1{}}}]", "[".repeat(127), "]".repeat(127))),
    ];
    let mut group = c.benchmark_group("hostile");
    for (name, platform, value) in cases {
        assert!(value.len() <= limit, "{name} is {} bytes", value.len());
        let vars: HashMap<String, String> =
            [("allowed_thumbprints".to_string(), cert.sha256_hex()), ("platform".to_string(), platform.to_string())]
                .into();
        let headers = vec![(header_for(platform).to_ascii_lowercase(), value.into_bytes())];
        group.bench_with_input(BenchmarkId::from_parameter(name), &headers, |b, headers| {
            b.iter(|| handle("GET", "/api/values", black_box(headers), &vars, NOW))
        });
    }
    group.finish();
}

/// The largest certificates certgate reads ([`certgate::certificate_limits`]) and two far
/// past them (refused before they are decoded), against a normal one, key-pinned: a
/// key-pinned client writes its own certificate, issuer Name included, which with CRLs
/// configured (16 here) is keyed to look for its CA's lists.
fn large_certificate(c: &mut Criterion) {
    use certgate::certificate_limits as limits;
    use certgate_testkit::reencode::{with_names, Node};
    use certgate_testkit::{Duration, OffsetDateTime};
    let at = OffsetDateTime::from_unix_timestamp(NOW).unwrap();
    let cas: Vec<Ca> = (0..16).map(|i| Ca::new(&format!("bench CA {i}"))).collect();
    let key = &cas[0].certificate.key_pem;
    let anchors: String = cas.iter().map(|ca| ca.certificate.pem()).collect();
    let crls: String =
        cas.iter().map(|ca| ca.crl(&[&[0x42]], at - Duration::hours(1), at + Duration::days(7))).collect();
    let mut options = LeafOptions::named("key-pinned");
    options.not_before = at - Duration::days(1);
    options.not_after = at + Duration::days(365);
    let leaf = cas[0].issue(&options);
    // `rdns` RDNs, each a CN of `bytes` letters.
    let name = |rdns: usize, bytes: usize| {
        let cn = Node::Constructed(
            0x30,
            vec![Node::Primitive(0x06, vec![0x55, 0x04, 0x03]), Node::Primitive(0x0c, vec![b'a'; bytes])],
        );
        Node::Constructed(0x30, vec![Node::Constructed(0x31, vec![cn]); rdns])
    };
    let widest = name(limits::NAME_RDNS, (limits::NAME_BYTES - 4) / limits::NAME_RDNS - 13);
    let extensions = |n: usize| {
        let mut o = options.clone();
        o.extensions = (0..n).map(|i| (vec![1, 3, 6, 1, 4, 1, 99999, 2, i as u64], vec![0x05, 0x00])).collect();
        cas[0].issue(&o).der
    };
    let sans = |n: usize| {
        let mut o = options.clone();
        o.dns_names = (0..n).map(|i| format!("host-{i}.fleet.example")).collect();
        cas[0].issue(&o).der
    };
    // One RDN of `n` small attributes in reverse order (the decoder sorts a SET OF by
    // insertion), and a subjectAltName of one directoryName of such a Name.
    let descending = |n: usize| {
        let attributes = (0..n)
            .map(|i| {
                let (oid, value) = (127 - (i / 256) as u8, 255 - (i % 256) as u8);
                Node::Constructed(
                    0x30,
                    vec![Node::Primitive(0x06, vec![0x55, 0x04, oid]), Node::Primitive(0x04, vec![value])],
                )
            })
            .collect();
        Node::Constructed(0x31, attributes)
    };
    let san_of = |name: Node| {
        let mut o = options.clone();
        let value =
            certgate_testkit::reencode::write(&Node::Constructed(0x30, vec![Node::Constructed(0xa4, vec![name])]));
        o.extensions.push((vec![2, 5, 29, 17], value));
        cas[0].issue(&o).der
    };
    let cases = [
        ("normal", leaf.der.clone(), true),
        ("widest-issuer", with_names(&leaf.der, Some(&widest), None, key), true),
        ("widest-subject", with_names(&leaf.der, None, Some(&widest), key), true),
        ("most-extensions", extensions(limits::EXTENSIONS - 4), true),
        ("most-subject-alt-names", sans(limits::SUBJECT_ALT_NAMES), true),
        (
            "widest-issuer-descending",
            with_names(&leaf.der, Some(&Node::Constructed(0x30, vec![descending(4); 15])), None, key),
            true,
        ),
        ("refused-20k-issuer", with_names(&leaf.der, Some(&name(1700, 1)), None, key), false),
        (
            "refused-descending-rdn",
            with_names(&leaf.der, Some(&Node::Constructed(0x30, vec![descending(408)])), None, key),
            false,
        ),
        ("refused-san-descending-rdn", san_of(Node::Constructed(0x30, vec![descending(2400)])), false),
        ("refused-800-subject-alt-names", sans(800), false),
    ];
    let vars: HashMap<String, String> = [
        ("allowed_key_pins".to_string(), leaf.key_sha256_b64()),
        ("trust_anchors".to_string(), anchors),
        ("crls".to_string(), crls),
    ]
    .into();
    // The Gate is built once (`Gate` in a long-lived instance): reading 16 CRLs, each
    // signature-checked, would otherwise be most of the request.
    let gate = certgate::Gate::from_source(&vars).expect("bench configuration is valid");
    let mut group = c.benchmark_group("large-certificate");
    for (name, der, allowed) in cases {
        let headers = vec![("x-arr-clientcert".to_string(), encode::base64_der(&der).into_bytes())];
        assert!(headers[0].1.len() <= 32 * 1024, "{name}");
        assert_eq!(gate.authenticate(&headers, NOW).is_ok(), allowed, "{name}");
        group.bench_with_input(BenchmarkId::from_parameter(name), &headers, |b, headers| {
            b.iter(|| gate.authenticate(black_box(headers), NOW))
        });
    }
    group.finish();
}

/// Forwarded certificates are bounded together as well as one by one
/// (`certificate_limits::REQUEST_*`): a pinned client with a chain header or earlier XFCC
/// elements full of the widest names certgate reads, against the same client alone.
fn request_budget(c: &mut Criterion) {
    use certgate::certificate_limits as limits;
    let ca = Ca::new("bench root");
    let mut options = LeafOptions::named("pinned");
    options.not_before = certgate_testkit::OffsetDateTime::from_unix_timestamp(NOW - 86_400).unwrap();
    options.not_after = certgate_testkit::OffsetDateTime::from_unix_timestamp(NOW + 86_400 * 365).unwrap();
    let leaf = ca.issue(&options);
    let wides: Vec<Vec<u8>> =
        (0..13).map(|tag| certgate_testkit::reencode::ca_with_wide_names(tag, limits::NAME_RDNS)).collect();
    let pin = [("allowed_thumbprints".to_string(), leaf.sha256_hex())];
    let gate_for = |platform: &str, extra: &[(&str, &str)]| {
        let mut vars: HashMap<String, String> = pin.iter().cloned().collect();
        vars.insert("platform".into(), platform.into());
        vars.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        certgate::Gate::from_source(&vars).expect("bench configuration is valid")
    };
    let rfc9440 = gate_for("rfc9440", &[("max_chain_certificates", "16")]);
    let envoy = gate_for("envoy", &[("xfcc_elements", "last")]);
    let chain = |n: usize| {
        let mut headers = vec![("client-cert".to_string(), encode::rfc9440(&leaf.der).into_bytes())];
        if n > 0 {
            let value = wides[..n].iter().map(|c| encode::rfc9440(c)).collect::<Vec<_>>().join(", ");
            headers.push(("client-cert-chain".to_string(), value.into_bytes()));
        }
        headers
    };
    let xfcc = |n: usize| {
        let mut elements: Vec<String> = wides[..n].iter().map(|c| encode::xfcc_element(c, &[], "")).collect();
        elements.push(encode::xfcc_element(&leaf.der, &[], ""));
        vec![("x-forwarded-client-cert".to_string(), elements.join(",").into_bytes())]
    };
    let cases = [
        ("alone", &rfc9440, chain(0), true),
        ("one-wide-chain-certificate", &rfc9440, chain(1), true),
        ("refused-13-wide-chain-certificates", &rfc9440, chain(13), false),
        ("xfcc-alone", &envoy, xfcc(0), true),
        ("xfcc-one-wide-element", &envoy, xfcc(1), true),
        ("refused-xfcc-13-wide-elements", &envoy, xfcc(13), false),
    ];
    let mut group = c.benchmark_group("request-budget");
    for (name, gate, headers, allowed) in cases {
        assert!(headers.iter().all(|(_, v)| v.len() <= 32 * 1024), "{name}");
        assert_eq!(gate.authenticate(&headers, NOW).is_ok(), allowed, "{name}");
        group.bench_with_input(BenchmarkId::from_parameter(name), &headers, |b, headers| {
            b.iter(|| gate.authenticate(black_box(headers), NOW))
        });
    }
    group.finish();
}

/// The trust-anchor path and what the hostile review's fixes added to it, and the worst
/// headers within the limits ([`certgate_testkit::chain_cases`]).
fn chain(c: &mut Criterion) {
    let mut group = c.benchmark_group("chain");
    for case in certgate_testkit::chain_cases(NOW) {
        let vars: HashMap<String, String> = case.variables.into_iter().collect();
        let headers = case.headers;
        let status = handle("GET", "/api/values", &headers, &vars, NOW).response.status;
        assert_eq!(status == 200, case.allowed, "{}: {status}", case.name);
        group.bench_with_input(BenchmarkId::from_parameter(case.name), &headers, |b, headers| {
            b.iter(|| handle("GET", "/api/values", black_box(headers), &vars, NOW))
        });
    }
    group.finish();
}

/// The trust-anchor path with the configuration read once (a [`certgate::Gate`] kept by a
/// long-lived instance or an embedding app), next to `chain`, which reads it per request.
fn gate(c: &mut Criterion) {
    let mut group = c.benchmark_group("gate");
    for case in certgate_testkit::chain_cases(NOW) {
        let vars: HashMap<String, String> = case.variables.into_iter().collect();
        let gate = certgate::Gate::from_source(&vars).expect("bench configuration is valid");
        let headers = case.headers;
        assert_eq!(gate.authenticate(&headers, NOW).is_ok(), case.allowed, "{}", case.name);
        group.bench_with_input(BenchmarkId::from_parameter(case.name), &headers, |b, headers| {
            b.iter(|| gate.authenticate(black_box(headers), NOW))
        });
    }
    group.finish();
}

/// Pins in a key-value store against one variable pin: the whole request (configuration
/// read, decision) with 1, 10,000 and 1,000,000 store entries, the allowed one among them,
/// next to the same request allowed by `allowed_thumbprints`. The store here is an ordered
/// map in memory (the engines' own cost is measured end to end by `bench/keyvalue`).
fn store(c: &mut Criterion) {
    use certgate::store::{Entry, EntryKey, Layout, Marker, MARKER_KEY};
    use std::collections::BTreeMap;
    let ca = Ca::new("bench root");
    let (_, cert) = kinds(&ca).remove(1);
    let headers = vec![("x-arr-clientcert".to_string(), encode::base64_der(&cert.der).into_bytes())];
    let mut group = c.benchmark_group("store");
    let variable: HashMap<String, String> = [("allowed_thumbprints".to_string(), cert.sha256_hex())].into();
    assert_eq!(handle("GET", "/api/values", &headers, &variable, NOW).response.status, 200);
    group.bench_function("variable-pin", |b| {
        b.iter(|| handle("GET", "/api/values", black_box(&headers), &variable, NOW))
    });
    let in_store: HashMap<String, String> = [("keyvalue_store".to_string(), "default".to_string())].into();
    let pinned = Entry::pinned().to_json();
    let mut kv: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    kv.insert(MARKER_KEY.into(), Marker::new(Layout::Direct).to_json());
    kv.insert(EntryKey::Certificate(Sha256::digest(&cert.der).into()).name(), pinned.clone());
    let mut filled = 1usize;
    for n in [1usize, 10_000, 1_000_000] {
        while filled < n {
            kv.insert(EntryKey::Certificate(Sha256::digest(filled.to_be_bytes()).into()).name(), pinned.clone());
            filled += 1;
        }
        let request = |kv: &BTreeMap<String, Vec<u8>>| {
            let gate = certgate::Gate::from_source(&in_store);
            certgate::service::respond_with_store(&gate, "GET", "/api/values", black_box(&headers), NOW, kv)
        };
        assert_eq!(request(&kv).response.status, 200);
        group.bench_with_input(BenchmarkId::new("entries", n), &kv, |b, kv| b.iter(|| request(kv)));
    }
    group.finish();
}

/// The chain cache (`chain_cache_seconds`) against validating the path on every request:
/// the whole request (configuration read, decision), with a store in memory holding the
/// marker and, for the cached rows, the entry the first request wrote.
fn chain_cache(c: &mut Criterion) {
    use certgate::store::{Layout, Marker, MARKER_KEY};
    use std::collections::BTreeMap;
    use std::sync::Mutex;
    let mut group = c.benchmark_group("chain-cache");
    let wanted = ["anchor-normal", "matrix-rsa2048-under-rsa2048", "matrix-rsa2048-under-p384-under-p256"];
    for case in certgate_testkit::chain_cases(NOW).into_iter().filter(|c| wanted.contains(&c.name)) {
        for (row, lifetime) in [("validated", None), ("cached", Some("3600"))] {
            let mut vars: HashMap<String, String> = case.variables.iter().cloned().collect();
            vars.insert("keyvalue_store".into(), "default".into());
            if let Some(seconds) = lifetime {
                vars.insert("chain_cache_seconds".into(), seconds.into());
            }
            let kv = Mutex::new(BTreeMap::from([(MARKER_KEY.to_string(), Marker::new(Layout::Direct).to_json())]));
            let request = |kv: &Mutex<BTreeMap<String, Vec<u8>>>| {
                let gate = certgate::Gate::from_source(&vars);
                certgate::service::respond_with_store(&gate, "GET", "/api/values", black_box(&case.headers), NOW, kv)
            };
            assert_eq!(request(&kv).response.status, 200, "{} {row}", case.name);
            group.bench_with_input(BenchmarkId::new(case.name, row), &kv, |b, kv| b.iter(|| request(kv)));
        }
    }
    group.finish();
}

// `criterion_group!` defines an undocumented `pub fn benches`: kept in a private module,
// it is no public item of this crate (so `missing_docs` does not apply).
mod group {
    use super::{chain, chain_cache, decision, gate, hostile, large_certificate, request_budget, scale, store};
    criterion::criterion_group!(
        benches,
        decision,
        scale,
        hostile,
        large_certificate,
        request_budget,
        chain,
        gate,
        store,
        chain_cache
    );
}
criterion_main!(group::benches);
