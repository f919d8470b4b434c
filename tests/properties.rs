//! Property tests (proptest), natively: encodings round-trip, thumbprint spellings are
//! equivalent, and no input makes extraction or the decision panic.

use certgate::internals::{extract, ExtractionSettings, XfccElements};
use certgate::Format;
use certgate::internals::parse_entry;
use certgate_testkit::{encode, Ca, KeyKind, LeafOptions};
use proptest::prelude::*;

fn settings(format: Format, mode: XfccElements) -> ExtractionSettings {
    ExtractionSettings {
        header: "x-cert".into(),
        chain_header: None,
        format,
        xfcc_elements: mode,
        max_header_bytes: 64 * 1024,
        max_certificates: certgate::internals::MAX_CERTIFICATES,
        too_large_flag: None,
        digest_header: None,
    }
}

fn ca() -> &'static Ca {
    static CA: std::sync::OnceLock<Ca> = std::sync::OnceLock::new();
    CA.get_or_init(|| Ca::new("proptest root"))
}

/// Every encoder a terminator uses, with the format it is configured as.
const ENCODERS: [(fn(&[u8]) -> String, Format); 12] = [
    (encode::base64_der, Format::Base64Der),
    (encode::hex_der_upper, Format::HexDer),
    (encode::hex_der_lower, Format::HexDer),
    (encode::pem, Format::Pem),
    (encode::pem_apache, Format::Pem),
    (encode::pem_tab_continued, Format::Pem),
    (encode::url_pem_nginx, Format::UrlPem),
    (encode::url_pem_alb, Format::UrlPem),
    (encode::url_pem_envoy, Format::UrlPem),
    (encode::rfc9440, Format::Rfc9440),
    (|d: &[u8]| encode::xfcc_element(d, &[], "CN=x,O=\"quoted\""), Format::Xfcc),
    // Envoy's JSON form is read as `xfcc` (Envoy's own rule), configured or detected.
    (|d: &[u8]| format!("[{}]", encode::xfcc_json_element(d, &[], "CN=x,O=\"quoted\"")), Format::Xfcc),
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn encoding_then_extraction_gives_back_the_der(
        cn in "[a-zA-Z0-9 .,+=\"-]{1,40}",
        dns in proptest::collection::vec("[a-z]{1,12}\\.example", 0..4),
        ed25519 in any::<bool>(),
        encoder in 0..ENCODERS.len(),
        auto in any::<bool>(),
    ) {
        let mut options = LeafOptions::named(&cn).key(if ed25519 { KeyKind::Ed25519 } else { KeyKind::EcdsaP256 });
        options.dns_names = dns;
        let leaf = ca().issue(&options);
        let (encode, format) = ENCODERS[encoder];
        let value = encode(&leaf.der);
        let configured = if auto { Format::Auto } else { format };
        let found = extract(&settings(configured, XfccElements::Single), &[value.into_bytes()], &[]).unwrap();
        prop_assert_eq!(found.leaf, leaf.der);
        prop_assert_eq!(found.format, format);
        prop_assert!(found.chain.is_empty());
    }

    #[test]
    fn thumbprint_spelling_never_changes_the_match(
        digest in proptest::collection::vec(any::<u8>(), 32),
        sha1 in any::<bool>(),
        uppercase in proptest::collection::vec(any::<bool>(), 64),
        separator in prop_oneof![Just(""), Just(":"), Just(" "), Just(": ")],
        mark in prop_oneof![Just(""), Just("\u{200e}"), Just("\u{feff}"), Just("\u{200b}")],
        prefix in any::<bool>(),
    ) {
        let digest = if sha1 { &digest[..20] } else { &digest[..] };
        let canonical = parse_entry(&hex::encode(digest)).unwrap();
        let mut spelled: String = hex::encode(digest)
            .as_bytes()
            .chunks(2)
            .enumerate()
            .map(|(i, pair)| {
                let pair = std::str::from_utf8(pair).unwrap();
                if uppercase[i % 64] { pair.to_uppercase() } else { pair.to_string() }
            })
            .collect::<Vec<_>>()
            .join(separator);
        spelled = format!("{mark}{spelled}{mark}");
        if prefix {
            spelled = format!("{}:{spelled}", if sha1 { "SHA1" } else { "sha256" });
        }
        prop_assert_eq!(parse_entry(&spelled).unwrap(), canonical);
    }

    #[test]
    fn no_bytes_make_extraction_panic(
        lines in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..300), 0..4),
        chain in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..100), 0..2),
        format in 0..Format::NAMES.len(),
        last in any::<bool>(),
    ) {
        let mut s = settings(Format::NAMES[format].1, if last { XfccElements::Last } else { XfccElements::Single });
        s.chain_header = Some("x-chain".into());
        let _ = extract(&s, &lines, &chain);
    }

    #[test]
    fn no_text_makes_extraction_panic(
        value in "(Cert=|Hash=|By=|:|-----BEGIN CERTIFICATE-----|%2D|[\"\\\\;,=%A-Za-z0-9+/ \t\n])*",
        format in 0..Format::NAMES.len(),
    ) {
        let _ = extract(&settings(Format::NAMES[format].1, XfccElements::Last), &[value.into_bytes()], &[]);
    }

    #[test]
    fn no_request_makes_the_decision_panic(
        path in "/[a-z/?=]{0,20}",
        method in prop_oneof![Just("GET"), Just("HEAD"), Just("POST"), Just("BREW")],
        headers in proptest::collection::vec(("[a-zA-Z-]{1,20}", proptest::collection::vec(any::<u8>(), 0..200)), 0..4),
        vars in proptest::collection::vec((0..certgate::vars::VARS.len(), "[ -~]{0,80}"), 0..6),
    ) {
        let headers: Vec<(String, Vec<u8>)> = headers;
        let vars: std::collections::HashMap<String, String> =
            vars.into_iter().map(|(i, v)| (certgate::vars::VARS[i].name.to_string(), v)).collect();
        let outcome = certgate::service::handle(method, &path, &headers, &vars, 1_800_000_000);
        prop_assert!([200u16, 403, 404, 405, 500, 503].contains(&outcome.response.status));
    }
}
