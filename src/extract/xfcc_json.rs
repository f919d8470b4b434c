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

use super::pem::decode_pem_certificates;
use super::xfcc::{LeafAndChain, MAX_ELEMENTS};
use super::XfccElements;
use crate::certificate::ClientCertificate;
use crate::reason::Refusal;

const KEYS: [&str; 7] = ["by", "hash", "cert", "chain", "subject", "uri", "dns"];

/// One hop's object, as read. `problem` records the first thing that makes the object
/// ambiguous (a repeated key, a known key in the wrong case), reported after parsing.
#[derive(Debug, Default)]
struct Element {
    by: Vec<String>,
    hash: Option<String>,
    cert: Option<String>,
    chain: Option<Vec<String>>,
    subject: Option<String>,
    uri: Vec<String>,
    dns: Vec<String>,
    problem: Option<String>,
}

/// The array, as read; `more_than_max` when it had more than [`MAX_ELEMENTS`] objects
/// (the rest were skipped, not stored).
#[derive(Debug, Default)]
struct Header {
    elements: Vec<Element>,
    more_than_max: bool,
}

impl<'de> de::Deserialize<'de> for Element {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ElementVisitor;
        impl<'de> Visitor<'de> for ElementVisitor {
            type Value = Element;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an XFCC object")
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
                        let what = if seen[index] { "occurs twice" } else { "is not in Envoy's lowercase" };
                        e.problem.get_or_insert_with(|| format!("XFCC JSON key `{}` {what}", KEYS[index]));
                        map.next_value::<IgnoredAny>()?;
                        continue;
                    }
                    seen[index] = true;
                    match KEYS[index] {
                        "by" => e.by = map.next_value()?,
                        "hash" => e.hash = Some(map.next_value()?),
                        "cert" => e.cert = Some(map.next_value()?),
                        "chain" => e.chain = Some(map.next_value()?),
                        "subject" => e.subject = Some(map.next_value()?),
                        "uri" => e.uri = map.next_value()?,
                        _ => e.dns = map.next_value()?,
                    }
                }
                Ok(e)
            }
        }
        deserializer.deserialize_map(ElementVisitor)
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
        deserializer.deserialize_seq(HeaderVisitor)
    }
}

/// Whether Envoy would read this value as JSON: it starts with `[` and ends with `]`.
pub fn is_json(value: &str) -> bool {
    value.starts_with('[') && value.ends_with(']')
}

/// One PEM string holding exactly one certificate.
fn one_certificate(pem: &str, what: &str, decoded: &mut usize) -> Result<Vec<u8>, Refusal> {
    let mut certs = decode_pem_certificates(pem)?;
    if certs.len() != 1 {
        return Err(Refusal::ambiguous(format!("XFCC JSON `{what}` entry holds {} certificates", certs.len())));
    }
    *decoded += 1;
    if *decoded > super::MAX_CERTIFICATES {
        return Err(Refusal::too_large(format!(
            "more than {} certificates in the XFCC header",
            super::MAX_CERTIFICATES
        )));
    }
    Ok(certs.remove(0))
}

/// The certificates an object carries, checked against its own `hash` and `chain`.
fn element_certificates(e: &Element, decoded: &mut usize) -> Result<Option<LeafAndChain>, Refusal> {
    if let Some(problem) = &e.problem {
        return Err(Refusal::ambiguous(problem.clone()));
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
                    return Err(Refusal::ambiguous("XFCC JSON `chain` does not start with the object's `cert`"));
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
        let facts = ClientCertificate::from_der(&leaf)?;
        if !hash.eq_ignore_ascii_case(&facts.sha256_hex()) {
            return Err(Refusal::ambiguous("XFCC JSON `hash` is not the SHA-256 of the object's certificate"));
        }
    }
    Ok(Some((leaf, rest)))
}

/// Read the whole value and pick the object to trust, as [`super::xfcc::extract`] does for
/// the text form: `single` refuses more than one object; `last` takes the nearest proxy's
/// and first checks every object that carries a certificate.
pub fn extract(value: &str, mode: XfccElements) -> Result<LeafAndChain, Refusal> {
    let header: Header =
        serde_json::from_str(value).map_err(|e| Refusal::malformed(format!("XFCC is not Envoy's JSON form: {e}")))?;
    if header.more_than_max {
        return Err(Refusal::too_large(format!("more than {MAX_ELEMENTS} XFCC elements")));
    }
    if header.elements.len() > 1 && mode == XfccElements::Single {
        return Err(Refusal::ambiguous(format!(
            "XFCC carries {} elements (set xfcc_elements = \"last\" to use the nearest proxy's)",
            header.elements.len()
        )));
    }
    let Some((selected, earlier)) = header.elements.split_last() else {
        return Err(Refusal::missing("XFCC has no element"));
    };
    let mut decoded = 0;
    for element in earlier {
        element_certificates(element, &mut decoded)?;
    }
    element_certificates(selected, &mut decoded)?
        .ok_or_else(|| Refusal::missing("XFCC element carries no `cert` or `chain`"))
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
        assert_eq!(extract(doc, XfccElements::Single).unwrap_err().reason, Reason::CertificateMissing);
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
            extract(&format!("[{wrong_hash}]"), XfccElements::Single).unwrap_err().reason,
            Reason::CertificateAmbiguous
        );
        let pem = |d: &[u8]| serde_json::to_string(&encode::pem(d)).unwrap();
        let swapped = format!(r#"[{{"cert":{},"chain":[{},{}]}}]"#, pem(l), pem(i), pem(l));
        assert_eq!(extract(&swapped, XfccElements::Single).unwrap_err().reason, Reason::CertificateAmbiguous);
        // Without `cert`, the chain's first is the leaf.
        let chain_only = format!(r#"[{{"chain":[{},{}]}}]"#, pem(l), pem(i));
        assert_eq!(extract(&chain_only, XfccElements::Single).unwrap().0, *l);
        // Two certificates in one `cert` string.
        let two = serde_json::to_string(&format!("{}{}", encode::pem(l), encode::pem(i))).unwrap();
        let e = extract(&format!(r#"[{{"cert":{two}}}]"#), XfccElements::Single).unwrap_err();
        assert_eq!(e.reason, Reason::CertificateAmbiguous);
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
            assert_eq!(extract(&bad, XfccElements::Last).unwrap_err().reason, reason, "{bad}");
        }
        let many = format!("[{}]", vec!["{}"; MAX_ELEMENTS + 1].join(","));
        assert_eq!(extract(&many, XfccElements::Last).unwrap_err().reason, Reason::CertificateTooLarge);
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
        assert_eq!(extract(&v, XfccElements::Single).unwrap_err().reason, Reason::CertificateAmbiguous);
        assert_eq!(extract(&v, XfccElements::Last).unwrap().0, b.der, "nearest proxy = last");
        // An earlier object that contradicts itself refuses the header in `last` mode.
        let lying = encode::xfcc_json_element(&a.der, &[], "CN=a").replace(&a.sha256_hex(), &b.sha256_hex());
        let v = format!("[{lying},{}]", encode::xfcc_json_element(&b.der, &[], "CN=b"));
        assert_eq!(extract(&v, XfccElements::Last).unwrap_err().reason, Reason::CertificateAmbiguous);
        let one = encode::xfcc_json_element(&a.der, &[], "CN=a");
        let seventeen = format!("[{}]", vec![one.as_str(); crate::extract::MAX_CERTIFICATES + 1].join(","));
        assert_eq!(extract(&seventeen, XfccElements::Last).unwrap_err().reason, Reason::CertificateTooLarge);
    }
}
