//! Envoy's JSON form of `X-Forwarded-Client-Cert` (Envoy 1.38, PR envoyproxy/envoy#43855:
//! `set_current_client_cert_details { format: JSON }`). The value is one JSON array with an
//! object per proxy hop, the nearest proxy's last: `by`, `uri`, `dns` and `chain` are arrays
//! of strings, `hash`, `cert` and `subject` strings; `cert` and each `chain` entry are plain
//! PEM (JSON-escaped, not URL-encoded); `chain` includes the leaf, first; empty fields are
//! left out. Envoy decides an existing value is JSON when it starts with `[` and ends with
//! `]`, and certgate reads it by the same rule.
//!
//! The reading is strict where two readers could disagree: keys are exactly Envoy's
//! lowercase names (a known key in another case, or any key twice, is refused rather than
//! ignored or overwritten), values have exactly Envoy's types, and nothing may follow the
//! array. JSON escaping means a SAN value cannot split an object, so there is no key-order
//! rule; every object that carries a certificate must agree with its own `hash` and `chain`.

use std::fmt;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use super::pem::decode_pem_certificates;
use super::xfcc::{LeafAndChain, MAX_ELEMENTS};
use super::{Counted, ExtractError, JsonKeyProblem, JsonType, XfccElements, XfccForm, XfccJsonProblem};
use crate::certificate::{ClientCertificate, DecodeBudget};

const KEYS: [&str; 7] = ["by", "hash", "cert", "chain", "subject", "uri", "dns"];

/// One hop's object, as read. Problems are recorded and reported after parsing:
/// `not_object` when the element is another JSON value, `ambiguity` for the first key that
/// makes the object ambiguous (a repeated key, a known key in the wrong case), `wrong_type`
/// for the first known key whose value is not of Envoy's type. The parser reports none of
/// them itself, because its messages for them quote the value.
#[derive(Debug, Default)]
struct Element {
    not_object: bool,
    by: Vec<String>,
    hash: Option<String>,
    cert: Option<String>,
    chain: Option<Vec<String>>,
    subject: Option<String>,
    uri: Vec<String>,
    dns: Vec<String>,
    ambiguity: Option<(&'static str, JsonKeyProblem)>,
    wrong_type: Option<(&'static str, JsonType)>,
}

/// The array, as read; `more_than_max` when it had more than [`MAX_ELEMENTS`] objects
/// (the rest were skipped, not stored); `not_array` when the value is another JSON value.
#[derive(Debug, Default)]
struct Header {
    elements: Vec<Element>,
    more_than_max: bool,
    not_array: bool,
}

fn string(value: Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s),
        _ => None,
    }
}

fn strings(value: Value) -> Option<Vec<String>> {
    match value {
        Value::Array(values) => values.into_iter().map(string).collect(),
        _ => None,
    }
}

/// The visitor methods for the JSON values a visitor does not expect: each yields
/// `$other`, so that the parser never writes an error quoting the value.
macro_rules! accept_other_values {
    ($value:ty, $other:expr) => {
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<$value, E> {
            Ok($other)
        }
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<$value, E> {
            Ok($other)
        }
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<$value, E> {
            Ok($other)
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<$value, E> {
            Ok($other)
        }
        fn visit_str<E: de::Error>(self, _: &str) -> Result<$value, E> {
            Ok($other)
        }
        fn visit_unit<E: de::Error>(self) -> Result<$value, E> {
            Ok($other)
        }
    };
}

impl<'de> de::Deserialize<'de> for Element {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ElementVisitor;
        impl<'de> Visitor<'de> for ElementVisitor {
            type Value = Element;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an XFCC object")
            }
            accept_other_values!(Element, Element { not_object: true, ..Element::default() });
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Element, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Element { not_object: true, ..Element::default() })
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Element, A::Error> {
                let mut e = Element::default();
                let mut seen = [false; KEYS.len()];
                while let Some(key) = map.next_key::<String>()? {
                    let Some(index) = KEYS.iter().position(|k| k.eq_ignore_ascii_case(&key)) else {
                        map.next_value::<IgnoredAny>()?;
                        continue;
                    };
                    if KEYS[index] != key || seen[index] {
                        let problem = if seen[index] { JsonKeyProblem::Repeated } else { JsonKeyProblem::NotLowercase };
                        e.ambiguity.get_or_insert((KEYS[index], problem));
                        map.next_value::<IgnoredAny>()?;
                        continue;
                    }
                    seen[index] = true;
                    let value: Value = map.next_value()?;
                    let read = match KEYS[index] {
                        "by" => strings(value).map(|v| e.by = v),
                        "hash" => string(value).map(|v| e.hash = Some(v)),
                        "cert" => string(value).map(|v| e.cert = Some(v)),
                        "chain" => strings(value).map(|v| e.chain = Some(v)),
                        "subject" => string(value).map(|v| e.subject = Some(v)),
                        "uri" => strings(value).map(|v| e.uri = v),
                        _ => strings(value).map(|v| e.dns = v),
                    };
                    if read.is_none() {
                        let expected = match KEYS[index] {
                            "hash" | "cert" | "subject" => JsonType::String,
                            _ => JsonType::Strings,
                        };
                        e.wrong_type.get_or_insert((KEYS[index], expected));
                    }
                }
                Ok(e)
            }
        }
        deserializer.deserialize_any(ElementVisitor)
    }
}

impl<'de> de::Deserialize<'de> for Header {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct HeaderVisitor;
        impl<'de> Visitor<'de> for HeaderVisitor {
            type Value = Header;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an array of XFCC objects")
            }
            accept_other_values!(Header, Header { not_array: true, ..Header::default() });
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Header, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Header { not_array: true, ..Header::default() })
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Header, A::Error> {
                let mut h = Header::default();
                while h.elements.len() < MAX_ELEMENTS {
                    match seq.next_element::<Element>()? {
                        Some(e) => h.elements.push(e),
                        None => return Ok(h),
                    }
                }
                while seq.next_element::<IgnoredAny>()?.is_some() {
                    h.more_than_max = true;
                }
                Ok(h)
            }
        }
        deserializer.deserialize_any(HeaderVisitor)
    }
}

/// Whether Envoy would read this value as JSON: it starts with `[` and ends with `]`.
pub(super) fn is_json(value: &str) -> bool {
    value.starts_with('[') && value.ends_with(']')
}

/// One PEM string holding exactly one certificate.
fn one_certificate(pem: &str, key: &'static str, decoded: &mut usize) -> Result<Vec<u8>, ExtractError> {
    let mut certs = decode_pem_certificates(pem)?;
    if certs.len() != 1 {
        return Err(ExtractError::XfccJsonEntry { key, count: certs.len() });
    }
    *decoded += 1;
    if *decoded > super::MAX_CERTIFICATES {
        return Err(ExtractError::TooMany { what: Counted::CertificatesInXfcc, limit: super::MAX_CERTIFICATES });
    }
    Ok(certs.remove(0))
}

/// The certificates an object carries, checked against its own `hash` and `chain`.
fn element_certificates(
    e: &Element,
    decoded: &mut usize,
    budget: &mut DecodeBudget,
) -> Result<Option<LeafAndChain>, ExtractError> {
    if let Some((key, problem)) = e.ambiguity {
        return Err(ExtractError::XfccJsonKey { key, problem });
    }
    let cert = e.cert.as_deref().map(|pem| one_certificate(pem, "cert", decoded)).transpose()?;
    let mut chain = Vec::new();
    for pem in e.chain.iter().flatten() {
        chain.push(one_certificate(pem, "chain", decoded)?);
    }
    let (leaf, rest) = match cert {
        Some(leaf) => {
            if !chain.is_empty() {
                if chain[0] != leaf {
                    return Err(ExtractError::XfccChainNotLeaf { form: XfccForm::Json });
                }
                chain.remove(0);
            }
            (leaf, chain)
        }
        None if !chain.is_empty() => {
            let leaf = chain.remove(0);
            (leaf, chain)
        }
        None => return Ok(None),
    };
    if let Some(hash) = &e.hash {
        let facts = ClientCertificate::from_der_within(&leaf, budget)?;
        if !hash.eq_ignore_ascii_case(&facts.sha256_hex()) {
            return Err(ExtractError::XfccHashMismatch { form: XfccForm::Json });
        }
    }
    Ok(Some((leaf, rest)))
}

/// Read the whole value and pick the object to trust, as [`super::xfcc::extract`] does for
/// the text form: `single` refuses more than one object; `last` takes the nearest proxy's
/// and first checks every object that carries a certificate.
pub(super) fn extract(value: &str, mode: XfccElements) -> Result<LeafAndChain, ExtractError> {
    let header: Header = serde_json::from_str(value).map_err(|e| ExtractError::XfccJson(XfccJsonProblem::from(&e)))?;
    if header.not_array {
        return Err(ExtractError::XfccJson(XfccJsonProblem::NotAnArray));
    }
    // What the parser would have stopped at: an element or a value of the wrong type.
    for (i, e) in header.elements.iter().enumerate() {
        let element = i + 1;
        if e.not_object {
            return Err(ExtractError::XfccJson(XfccJsonProblem::ElementNotObject { element }));
        }
        if let Some((key, expected)) = e.wrong_type {
            return Err(ExtractError::XfccJson(XfccJsonProblem::WrongType { element, key, expected }));
        }
    }
    if header.more_than_max {
        return Err(ExtractError::TooMany { what: Counted::XfccElements, limit: MAX_ELEMENTS });
    }
    if header.elements.len() > 1 && mode == XfccElements::Single {
        return Err(ExtractError::XfccElements { count: header.elements.len() });
    }
    let Some((selected, earlier)) = header.elements.split_last() else {
        return Err(ExtractError::XfccNoElement);
    };
    let mut decoded = 0;
    // The objects' certificates together are bounded as one request's are.
    let mut budget = DecodeBudget::default();
    for element in earlier {
        element_certificates(element, &mut decoded, &mut budget)?;
    }
    element_certificates(selected, &mut decoded, &mut budget)?
        .ok_or(ExtractError::XfccNoCertificate { form: XfccForm::Json })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Reason;
    use certgate_testkit::{encode, Ca, LeafOptions};

    #[test]
    fn reads_envoys_documented_example_shape() {
        // The shape of Envoy's own documented example (no certificate: `missing`).
        let doc = r#"[{"by":["http://frontend.lyft.com"],"hash":"468ed33be74eee6556d90c0149c1309e9ba61d6425303443c0748a02dd8de688","subject":"/C=US/ST=CA/L=San Francisco/OU=Lyft/CN=Test Client","uri":["http://testclient.lyft.com"],"dns":["lyft.com","www.lyft.com"]}]"#;
        let e = extract(doc, XfccElements::Single).unwrap_err();
        assert_eq!(e, ExtractError::XfccNoCertificate { form: XfccForm::Json });
        assert_eq!(e.reason(), Reason::CertificateMissing);
    }

    #[test]
    fn cert_chain_and_hash() {
        let ca = Ca::new("Root");
        let inter = ca.intermediate("Inter");
        let leaf = inter.issue(&LeafOptions::named("a").uri("spiffe://t/a"));
        let (l, i) = (&leaf.der, &inter.certificate.der);
        let one = encode::xfcc_json_element(l, &[i], "CN=a");
        let (got, chain) = extract(&format!("[{one}]"), XfccElements::Single).unwrap();
        assert_eq!((&got, &chain), (l, &vec![i.clone()]));
        // Hash must be the leaf's; chain must start with cert.
        let wrong_hash = one.replace(&leaf.sha256_hex(), &"0".repeat(64));
        assert_eq!(
            extract(&format!("[{wrong_hash}]"), XfccElements::Single).unwrap_err(),
            ExtractError::XfccHashMismatch { form: XfccForm::Json }
        );
        let pem = |d: &[u8]| serde_json::to_string(&encode::pem(d)).unwrap();
        let swapped = format!(r#"[{{"cert":{},"chain":[{},{}]}}]"#, pem(l), pem(i), pem(l));
        let e = extract(&swapped, XfccElements::Single).unwrap_err();
        assert_eq!(e, ExtractError::XfccChainNotLeaf { form: XfccForm::Json });
        // Without `cert`, the chain's first is the leaf.
        let chain_only = format!(r#"[{{"chain":[{},{}]}}]"#, pem(l), pem(i));
        assert_eq!(extract(&chain_only, XfccElements::Single).unwrap().0, *l);
        // Two certificates in one `cert` string.
        let two = serde_json::to_string(&format!("{}{}", encode::pem(l), encode::pem(i))).unwrap();
        let e = extract(&format!(r#"[{{"cert":{two}}}]"#), XfccElements::Single).unwrap_err();
        assert_eq!(e, ExtractError::XfccJsonEntry { key: "cert", count: 2 });
        assert_eq!(e.reason(), Reason::CertificateAmbiguous);
    }

    #[test]
    fn strict_keys_types_and_shape() {
        let ca = Ca::new("Root");
        let leaf = ca.issue(&LeafOptions::named("a"));
        let pem = serde_json::to_string(&encode::pem(&leaf.der)).unwrap();
        assert!(
            extract(&format!(r#"[{{"cert":{pem},"issuer":"CN=Root","x":{{"y":[1]}}}}]"#), XfccElements::Single).is_ok()
        );
        for (bad, reason) in [
            (format!(r#"[{{"cert":{pem},"cert":{pem}}}]"#), Reason::CertificateAmbiguous),
            (format!(r#"[{{"Cert":{pem}}}]"#), Reason::CertificateAmbiguous),
            (format!(r#"[{{"cert":{pem},"HASH":"00"}}]"#), Reason::CertificateAmbiguous),
            (format!(r#"[{{"cert":[{pem}]}}]"#), Reason::CertificateMalformed),
            (format!(r#"[{{"cert":{pem},"by":"spiffe://x"}}]"#), Reason::CertificateMalformed),
            (format!(r#"[{{"cert":{pem}}}]x"#), Reason::CertificateMalformed),
            (format!(r#"[{{"cert":{pem}}}]]"#), Reason::CertificateMalformed),
            (format!(r#"{{"cert":{pem}}}"#), Reason::CertificateMalformed),
            (r#"[{"cert":"\ud800"}]"#.to_string(), Reason::CertificateMalformed),
            ("[]".to_string(), Reason::CertificateMissing),
            ("[{}]".to_string(), Reason::CertificateMissing),
            (format!("{}1{}", "[".repeat(200), "]".repeat(200)), Reason::CertificateMalformed),
        ] {
            assert_eq!(extract(&bad, XfccElements::Last).unwrap_err().reason(), reason, "{bad}");
        }
        let many = format!("[{}]", vec!["{}"; MAX_ELEMENTS + 1].join(","));
        let e = extract(&many, XfccElements::Last).unwrap_err();
        assert_eq!(e, ExtractError::TooMany { what: Counted::XfccElements, limit: MAX_ELEMENTS });
        assert_eq!(e.reason(), Reason::CertificateTooLarge);
        // The values: which key, which problem; no text of the request.
        let json = ExtractError::XfccJson;
        let key = |key, problem| ExtractError::XfccJsonKey { key, problem };
        let syntax = |message, column| json(XfccJsonProblem::Syntax { message, line: 1, column });
        let wrong = |element, key, expected| json(XfccJsonProblem::WrongType { element, key, expected });
        let secret = r#""spiffe://secret""#;
        for (bad, want) in [
            (format!(r#"[{{"cert":{pem},"cert":{pem}}}]"#), key("cert", JsonKeyProblem::Repeated)),
            (format!(r#"[{{"Cert":{pem}}}]"#), key("cert", JsonKeyProblem::NotLowercase)),
            (format!(r#"[{{"cert":[{pem}]}}]"#), wrong(1, "cert", JsonType::String)),
            (format!(r#"[{{}},{{"cert":{pem},"by":{secret}}}]"#), wrong(2, "by", JsonType::Strings)),
            (format!(r#"[{{"cert":{pem},"dns":[{secret},7]}}]"#), wrong(1, "dns", JsonType::Strings)),
            (format!(r#"[{{}},{secret}]"#), json(XfccJsonProblem::ElementNotObject { element: 2 })),
            (format!(r#"[[{secret}]]"#), json(XfccJsonProblem::ElementNotObject { element: 1 })),
            (format!(r#"{{"cert":{secret}}}"#), json(XfccJsonProblem::NotAnArray)),
            ("[{}]x".to_string(), syntax("trailing characters", 5)),
            (r#"[{"cert":"\ud800"}]"#.to_string(), syntax("unexpected end of hex escape", 17)),
            (
                format!("{}1{}", "[".repeat(200), "]".repeat(200)),
                json(XfccJsonProblem::ElementNotObject { element: 1 }),
            ),
            (format!(r#"[{{"by":{}1{}}}]"#, "[".repeat(200), "]".repeat(200)), syntax("recursion limit exceeded", 133)),
        ] {
            let e = extract(&bad, XfccElements::Last).unwrap_err();
            assert_eq!(e, want, "{bad}");
            assert!(!e.to_string().contains("secret"), "{e}");
        }
    }

    #[test]
    fn display_is_the_log_text() {
        let json = ExtractError::XfccJson;
        let cases: Vec<(ExtractError, &str)> = vec![
            (
                json(XfccJsonProblem::Syntax { message: "trailing characters", line: 1, column: 5 }),
                "XFCC is not Envoy's JSON form: trailing characters at line 1 column 5",
            ),
            (
                json(XfccJsonProblem::Syntax { message: "invalid JSON", line: 0, column: 0 }),
                "XFCC is not Envoy's JSON form: invalid JSON",
            ),
            (
                ExtractError::XfccJsonKey { key: "cert", problem: JsonKeyProblem::Repeated },
                "XFCC JSON key `cert` occurs twice",
            ),
            (
                ExtractError::XfccJsonKey { key: "hash", problem: JsonKeyProblem::NotLowercase },
                "XFCC JSON key `hash` is not in Envoy's lowercase",
            ),
            (ExtractError::XfccJsonEntry { key: "chain", count: 2 }, "XFCC JSON `chain` entry holds 2 certificates"),
            (
                ExtractError::XfccChainNotLeaf { form: XfccForm::Json },
                "XFCC JSON `chain` does not start with the object's `cert`",
            ),
            (
                ExtractError::XfccHashMismatch { form: XfccForm::Json },
                "XFCC JSON `hash` is not the SHA-256 of the object's certificate",
            ),
            (ExtractError::XfccNoCertificate { form: XfccForm::Json }, "XFCC element carries no `cert` or `chain`"),
            // New text: these replace serde_json's messages, which quote the value
            // (`invalid type: string "spiffe://x", expected a sequence at line 1 column 30`).
            (json(XfccJsonProblem::NotAnArray), "XFCC is not Envoy's JSON form: the value is not an array"),
            (
                json(XfccJsonProblem::ElementNotObject { element: 2 }),
                "XFCC is not Envoy's JSON form: element 2 is not an object",
            ),
            (
                json(XfccJsonProblem::WrongType { element: 1, key: "by", expected: JsonType::Strings }),
                "XFCC is not Envoy's JSON form: `by` of element 1 is not an array of strings",
            ),
            (
                json(XfccJsonProblem::WrongType { element: 3, key: "cert", expected: JsonType::String }),
                "XFCC is not Envoy's JSON form: `cert` of element 3 is not a string",
            ),
        ];
        for (e, text) in cases {
            assert_eq!(e.to_string(), text);
        }
        // serde_json's own text for a syntax error, unchanged.
        let e = serde_json::from_str::<Vec<String>>("[\"a\"]x").unwrap_err();
        assert_eq!(json(XfccJsonProblem::from(&e)).to_string(), format!("XFCC is not Envoy's JSON form: {e}"));
    }

    #[test]
    fn several_objects() {
        let ca = Ca::new("Root");
        let (a, b) = (ca.issue(&LeafOptions::named("a")), ca.issue(&LeafOptions::named("b")));
        let v = format!(
            "[{},{}]",
            encode::xfcc_json_element(&a.der, &[], "CN=a"),
            encode::xfcc_json_element(&b.der, &[], "CN=b")
        );
        assert_eq!(extract(&v, XfccElements::Single).unwrap_err(), ExtractError::XfccElements { count: 2 });
        assert_eq!(extract(&v, XfccElements::Last).unwrap().0, b.der, "nearest proxy = last");
        assert_eq!(extract("[]", XfccElements::Last).unwrap_err(), ExtractError::XfccNoElement);
        // An earlier object that contradicts itself refuses the header in `last` mode.
        let lying = encode::xfcc_json_element(&a.der, &[], "CN=a").replace(&a.sha256_hex(), &b.sha256_hex());
        let v = format!("[{lying},{}]", encode::xfcc_json_element(&b.der, &[], "CN=b"));
        assert_eq!(
            extract(&v, XfccElements::Last).unwrap_err(),
            ExtractError::XfccHashMismatch { form: XfccForm::Json }
        );
        let one = encode::xfcc_json_element(&a.der, &[], "CN=a");
        let seventeen = format!("[{}]", vec![one.as_str(); crate::extract::MAX_CERTIFICATES + 1].join(","));
        let e = extract(&seventeen, XfccElements::Last).unwrap_err();
        assert_eq!(
            e,
            ExtractError::TooMany { what: Counted::CertificatesInXfcc, limit: crate::extract::MAX_CERTIFICATES }
        );
    }
}
