//! Envoy / Istio `X-Forwarded-Client-Cert`, with its full grammar: comma-separated
//! elements (one per proxy hop, the nearest proxy's last), `;`-separated `key=value`
//! pairs, case-insensitive keys, double-quoted values with `\"` escapes, repeatable
//! `By` / `URI` / `DNS` keys. `Cert` and `Chain` hold URL-encoded PEM.

use super::pem::decode_pem_certificates;
use super::percent::percent_decode;
use super::{Counted, ExtractError, XfccElements, XfccForm, XfccSyntax};
use crate::certificate::{ClientCertificate, DecodeBudget};

/// Most elements (proxy hops) accepted in one header.
pub(super) const MAX_ELEMENTS: usize = 32;
/// Most `key=value` pairs accepted in one element.
pub(super) const MAX_PAIRS: usize = 256;

const KEYS: [&str; 7] = ["by", "hash", "cert", "chain", "subject", "uri", "dns"];

/// One element: its pairs in order, keys lowercased.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct XfccElement {
    pub pairs: Vec<(String, String)>,
}

impl XfccElement {
    pub(super) fn values<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.pairs.iter().filter(move |(k, _)| k == key).map(|(_, v)| v.as_str())
    }
}

/// Whether a value starts the way an XFCC header does (`Key=` with a known key).
pub(super) fn looks_like_xfcc(value: &str) -> bool {
    let Some((key, _)) = value.split_once('=') else {
        return false;
    };
    let key = key.trim();
    KEYS.iter().any(|k| k.eq_ignore_ascii_case(key))
}

fn is_ows(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// Parse the whole header into elements.
pub(super) fn parse_xfcc(value: &str) -> Result<Vec<XfccElement>, ExtractError> {
    let syntax = |problem| Err(ExtractError::XfccSyntax(problem));
    let bytes = value.as_bytes();
    let mut elements = Vec::new();
    let mut element = XfccElement::default();
    let mut i = 0;
    loop {
        // Key (white space around it is trimmed below).
        let key_start = i;
        while i < bytes.len() && !matches!(bytes[i], b'=' | b';' | b',' | b'"') {
            i += 1;
        }
        if i >= bytes.len() || bytes[i] != b'=' {
            return syntax(XfccSyntax::PairWithoutEquals { offset: key_start });
        }
        let key = value[key_start..i].trim_matches(|c| c == ' ' || c == '\t');
        if key.is_empty() || !key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
            return syntax(XfccSyntax::InvalidKey { offset: key_start });
        }
        i += 1; // '='
        while i < bytes.len() && is_ows(bytes[i]) {
            i += 1;
        }
        // Value.
        let val = if i < bytes.len() && bytes[i] == b'"' {
            i += 1;
            let mut out = Vec::new();
            loop {
                match bytes.get(i) {
                    None => return syntax(XfccSyntax::UnterminatedQuote),
                    Some(b'"') => {
                        i += 1;
                        break;
                    }
                    Some(b'\\') => match bytes.get(i + 1) {
                        Some(&c) => {
                            out.push(c);
                            i += 2;
                        }
                        None => return syntax(XfccSyntax::DanglingEscape),
                    },
                    Some(&c) => {
                        out.push(c);
                        i += 1;
                    }
                }
            }
            while i < bytes.len() && is_ows(bytes[i]) {
                i += 1;
            }
            if i < bytes.len() && !matches!(bytes[i], b';' | b',') {
                return syntax(XfccSyntax::TextAfterQuote { offset: i });
            }
            // Unescaping drops ASCII backslashes from UTF-8 text: the result is UTF-8.
            String::from_utf8_lossy(&out).into_owned()
        } else {
            let start = i;
            while i < bytes.len() && !matches!(bytes[i], b';' | b',') {
                if bytes[i] == b'"' {
                    return syntax(XfccSyntax::StrayQuote { offset: i });
                }
                i += 1;
            }
            value[start..i].trim_end_matches([' ', '\t']).to_string()
        };
        if element.pairs.len() >= MAX_PAIRS {
            return Err(ExtractError::TooMany { what: Counted::XfccPairs, limit: MAX_PAIRS });
        }
        element.pairs.push((key.to_ascii_lowercase(), val));
        // Both value readers stop only at `;`, `,` or the end.
        match bytes.get(i) {
            None => break,
            Some(b',') => {
                i += 1;
                if elements.len() + 1 >= MAX_ELEMENTS {
                    return Err(ExtractError::TooMany { what: Counted::XfccElements, limit: MAX_ELEMENTS });
                }
                elements.push(std::mem::take(&mut element));
            }
            Some(_) => i += 1,
        }
    }
    elements.push(element);
    Ok(elements)
}

/// The value of a key that may occur at most once in an element.
fn single_value<'a>(element: &'a XfccElement, key: &'static str) -> Result<Option<&'a str>, ExtractError> {
    let mut values = element.values(key);
    let first = values.next();
    if values.next().is_some() {
        return Err(ExtractError::XfccKeyRepeated { key });
    }
    Ok(first)
}

/// Keys whose values Envoy writes from the client certificate without escaping (`URI`,
/// `DNS`; `Subject` is quoted), and which it writes after every key that carries or
/// vouches for a certificate.
const DESCRIPTIVE_KEYS: [&str; 3] = ["subject", "uri", "dns"];
const CERTIFICATE_KEYS: [&str; 4] = ["by", "hash", "cert", "chain"];

/// Rules every element must keep, whichever is used:
/// - no `By`, `Hash`, `Cert` or `Chain` after a `Subject`, `URI` or `DNS` pair: Envoy writes
///   them first, so one that follows can only be text a client put into a SAN value;
/// - `Hash`, `Cert`, `Chain` and `Subject` at most once.
fn check_element_shape(element: &XfccElement) -> Result<(), ExtractError> {
    let mut described = false;
    for (key, _) in &element.pairs {
        if DESCRIPTIVE_KEYS.contains(&key.as_str()) {
            described = true;
        } else if let Some(key) = CERTIFICATE_KEYS.iter().copied().find(|k| described && *k == key.as_str()) {
            return Err(ExtractError::XfccKeyAfterDescription { key });
        }
    }
    for key in ["hash", "cert", "chain", "subject"] {
        single_value(element, key)?;
    }
    Ok(())
}

/// The certificates one element carries, (leaf, rest of its chain), checked against the
/// element's own claims: `Chain` starts with the `Cert`; `Hash`, when present, is the
/// SHA-256 of the leaf; with `check_sans` (`last` mode), `URI` and `DNS` values are the leaf's SANs (all of them, or, for
/// `URI`, only the first, as Envoy before 1.28 wrote it; a lone empty `URI=` means none). A
/// SAN value carrying `,` `;` or `"` is split by the grammar, so it never matches its
/// certificate: an element whose values a client's SAN split or extended is refused.
/// `None` when the element carries no certificate.
fn element_certificates(
    element: &XfccElement,
    decoded: &mut usize,
    budget: &mut DecodeBudget,
    check_sans: bool,
) -> Result<Option<LeafAndChain>, ExtractError> {
    let mut decode = |text: &str| -> Result<Vec<Vec<u8>>, ExtractError> {
        let certs = decode_pem_certificates(&percent_decode(text)?)?;
        *decoded += certs.len();
        if *decoded > super::MAX_CERTIFICATES {
            return Err(ExtractError::TooMany { what: Counted::CertificatesInXfcc, limit: super::MAX_CERTIFICATES });
        }
        Ok(certs)
    };
    let cert = single_value(element, "cert")?.filter(|c| !c.is_empty()).map(&mut decode).transpose()?;
    let chain = single_value(element, "chain")?.filter(|c| !c.is_empty()).map(&mut decode).transpose()?;
    let (leaf, rest) = match (cert, chain) {
        (Some(mut cert), chain) => {
            if cert.len() != 1 {
                return Err(ExtractError::XfccCertHoldsSeveral);
            }
            let leaf = cert.remove(0);
            let rest = match chain {
                Some(mut chain) => {
                    if chain[0] != leaf {
                        return Err(ExtractError::XfccChainNotLeaf { form: XfccForm::Text });
                    }
                    chain.remove(0);
                    chain
                }
                None => Vec::new(),
            };
            (leaf, rest)
        }
        (None, Some(mut chain)) => {
            let leaf = chain.remove(0);
            (leaf, chain)
        }
        (None, None) => return Ok(None),
    };
    let leaf_facts = ClientCertificate::from_der_within(&leaf, budget)?;
    if let Some(hash) = single_value(element, "hash")? {
        if !hash.eq_ignore_ascii_case(&leaf_facts.sha256_hex()) {
            return Err(ExtractError::XfccHashMismatch { form: XfccForm::Text });
        }
    }
    if !check_sans {
        return Ok(Some((leaf, rest)));
    }
    let uris: Vec<&str> = element.values("uri").collect();
    let uris_agree = match uris.as_slice() {
        [] => true,
        [""] => leaf_facts.uris.is_empty(),
        [first] => leaf_facts.uris.first().is_some_and(|u| u == first),
        many => many.iter().copied().eq(leaf_facts.uris.iter().map(String::as_str)),
    };
    let dns: Vec<&str> = element.values("dns").collect();
    let dns_agree = dns.is_empty() || dns.iter().copied().eq(leaf_facts.dns_names.iter().map(String::as_str));
    if !uris_agree || !dns_agree {
        return Err(ExtractError::XfccSansDiffer);
    }
    Ok(Some((leaf, rest)))
}

/// The DER of a leaf and of the rest of its chain.
pub(super) type LeafAndChain = (Vec<u8>, Vec<Vec<u8>>);

/// Pick the element to trust and return (leaf DER, rest of the chain).
///
/// `single` refuses more than one element. `last` takes the last element (the nearest
/// proxy's) and refuses the header when any element breaks the shape rules or carries a
/// certificate that disagrees with its own `Hash`, `URI` or `DNS` values: the element a
/// client's SAN value split always does, because the certificate Envoy wrote before the
/// split point has the whole SAN.
pub(super) fn extract(value: &str, mode: XfccElements) -> Result<LeafAndChain, ExtractError> {
    let elements = parse_xfcc(value)?;
    if elements.len() > 1 && mode == XfccElements::Single {
        return Err(ExtractError::XfccElements { count: elements.len() });
    }
    for element in &elements {
        check_element_shape(element)?;
    }
    let Some((selected, earlier)) = elements.split_last() else {
        return Err(ExtractError::XfccNoElement);
    };
    // The SAN check is what exposes an element a client's SAN value split, which matters
    // only when the last of several elements is taken; one element alone is kept whole by
    // the shape rules (a split makes two elements, an extension breaks the key order).
    let check_sans = mode == XfccElements::Last;
    let mut decoded = 0;
    // The elements' certificates together are bounded as one request's are.
    let mut budget = DecodeBudget::default();
    for element in earlier {
        element_certificates(element, &mut decoded, &mut budget, check_sans)?;
    }
    element_certificates(selected, &mut decoded, &mut budget, check_sans)?
        .ok_or(ExtractError::XfccNoCertificate { form: XfccForm::Text })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Reason;

    #[test]
    fn grammar() {
        let v = r#"By=spiffe://a/b;By=http://x;Hash=abc;Subject="CN=a\"b,O=c;d";URI=spiffe://c;DNS=a.example;DNS=b.example"#;
        let els = parse_xfcc(v).unwrap();
        assert_eq!(els.len(), 1);
        assert_eq!(els[0].values("by").collect::<Vec<_>>(), ["spiffe://a/b", "http://x"]);
        assert_eq!(els[0].values("subject").next(), Some("CN=a\"b,O=c;d"));
        assert_eq!(els[0].values("dns").count(), 2);
        // Optional white space (spaces and tabs) around a quoted value.
        let els = parse_xfcc("Hash= \t\"q\" \t;By=\t\"x\"\t, Hash=\"r\"").unwrap();
        assert_eq!(els.len(), 2);
        assert_eq!(els[0].values("hash").next(), Some("q"));
        assert_eq!(els[0].values("by").next(), Some("x"));
        assert_eq!(els[1].values("hash").next(), Some("r"));
        // Keys may carry `-` and `_`, white space around them is trimmed; a value may be empty.
        let els = parse_xfcc(" x-custom_key =1;\tHash\t=").unwrap();
        assert_eq!(els[0].values("x-custom_key").next(), Some("1"));
        assert_eq!(els[0].values("hash").next(), Some(""));
        assert_eq!(parse_xfcc("Hash= ").unwrap()[0].values("hash").next(), Some(""));
        assert_eq!(parse_xfcc("Hash=\"\"").unwrap()[0].values("hash").next(), Some(""));
        let els = parse_xfcc("hash=1, HASH=2 ;By=\"x\"").unwrap();
        assert_eq!(els.len(), 2);
        assert_eq!(els[1].values("by").next(), Some("x"));
        for bad in
            ["Hash", "Hash=1;", "=1", "Hash=\"1", "Hash=\"1\"x", "Hash=1\"", "Ha sh=1", "Hash=1,,Hash=2", "Hash=\"\\"]
        {
            assert!(parse_xfcc(bad).is_err(), "{bad:?}");
        }
        for (bad, want) in [
            ("Hash=\"1\" x", XfccSyntax::TextAfterQuote { offset: 9 }),
            ("By=a;Hash", XfccSyntax::PairWithoutEquals { offset: 5 }),
            ("By=a;=1", XfccSyntax::InvalidKey { offset: 5 }),
            ("Ha sh=1", XfccSyntax::InvalidKey { offset: 0 }),
            ("Hash=\"1", XfccSyntax::UnterminatedQuote),
            ("Hash=\"\\", XfccSyntax::DanglingEscape),
            ("Hash=1\"", XfccSyntax::StrayQuote { offset: 6 }),
        ] {
            assert_eq!(parse_xfcc(bad).unwrap_err(), ExtractError::XfccSyntax(want), "{bad:?}");
        }
    }

    use certgate_testkit::{encode, Ca, LeafOptions};

    fn pem(der: &[u8]) -> String {
        encode::url_pem_envoy(der)
    }

    fn sha256(der: &[u8]) -> String {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(der))
    }

    #[test]
    fn picks_cert_and_chain() {
        let ca = Ca::new("Root");
        let inter = ca.intermediate("Inter");
        let leaf = inter.issue(&LeafOptions::named("a"));
        let (l, i) = (leaf.der.clone(), inter.certificate.der.clone());
        let (got, chain) =
            extract(&format!("Cert=\"{}\";Chain=\"{}{}\"", pem(&l), pem(&l), pem(&i)), XfccElements::Single).unwrap();
        assert_eq!((got, chain), (l.clone(), vec![i.clone()]));
        // Without `Cert`, the chain's first is the leaf.
        let (got, chain) = extract(&format!("Chain=\"{}{}\"", pem(&l), pem(&i)), XfccElements::Single).unwrap();
        assert_eq!((got, chain), (l.clone(), vec![i.clone()]));
        // An empty `Chain` is no chain; an empty `Cert` falls back to the chain's first.
        let (got, chain) = extract(&format!("Cert=\"{}\";Chain=\"\"", pem(&l)), XfccElements::Single).unwrap();
        assert_eq!((got, chain), (l.clone(), vec![]));
        let (got, _) = extract(&format!("Cert=\"\";Chain=\"{}{}\"", pem(&l), pem(&i)), XfccElements::Single).unwrap();
        assert_eq!(got, l);
        // Unquoted Cert works too (Envoy's encoding leaves no `,;=`).
        assert_eq!(extract(&format!("Cert={}", pem(&l)), XfccElements::Single).unwrap().0, l);
        // A `Chain` that does not start with the `Cert` contradicts it.
        let e = extract(&format!("Cert=\"{}\";Chain=\"{}{}\"", pem(&l), pem(&i), pem(&l)), XfccElements::Single);
        assert_eq!(e.unwrap_err(), ExtractError::XfccChainNotLeaf { form: XfccForm::Text });
        let two = format!("Cert=\"{}{}\"", pem(&l), pem(&i));
        assert_eq!(extract(&two, XfccElements::Single).unwrap_err(), ExtractError::XfccCertHoldsSeveral);
        // Hash: the leaf's SHA-256 in either case, nothing else.
        for hash in [sha256(&l), sha256(&l).to_uppercase()] {
            assert!(extract(&format!("Hash={hash};Cert=\"{}\"", pem(&l)), XfccElements::Single).is_ok());
        }
        for hash in [sha256(&i), String::new(), "00".repeat(32), sha256(&l)[..63].to_string()] {
            let e = extract(&format!("Hash={hash};Cert=\"{}\"", pem(&l)), XfccElements::Single).unwrap_err();
            assert_eq!(e, ExtractError::XfccHashMismatch { form: XfccForm::Text }, "{hash:?}");
        }
    }

    #[test]
    fn uri_and_dns_values_must_be_the_certificates_sans() {
        let ca = Ca::new("Root");
        let two = ca.issue(&LeafOptions::named("a").uri("spiffe://t/a").uri("spiffe://t/b").dns("a.example"));
        let none = ca.issue(&LeafOptions::named("n"));
        let base = format!("Hash={};Cert=\"{}\";Subject=\"CN=a\"", sha256(&two.der), pem(&two.der));
        // All URI SANs (Envoy 1.28 and later), or only the first (earlier Envoy).
        for tail in [
            ";URI=spiffe://t/a;URI=spiffe://t/b;DNS=a.example",
            ";URI=spiffe://t/a;DNS=a.example",
            ";DNS=a.example",
            "",
        ] {
            assert!(extract(&format!("{base}{tail}"), XfccElements::Last).is_ok(), "{tail}");
        }
        for tail in [
            ";URI=spiffe://t/b",
            ";URI=spiffe://t/a;URI=spiffe://t/c",
            ";URI=",
            ";URI=spiffe://t/a;URI=spiffe://t/b;URI=spiffe://t/a",
            ";DNS=b.example",
            ";DNS=a.example;DNS=a.example",
        ] {
            let e = extract(&format!("{base}{tail}"), XfccElements::Last).unwrap_err();
            assert_eq!(e, ExtractError::XfccSansDiffer, "{tail}");
            // A single element is kept whole by the shape rules: its SAN values are not checked.
            assert!(extract(&format!("{base}{tail}"), XfccElements::Single).is_ok(), "{tail}");
        }
        let empty = format!("Cert=\"{}\";URI=", pem(&none.der));
        assert!(extract(&empty, XfccElements::Last).is_ok(), "a lone empty URI= means no URI SAN");
    }

    #[test]
    fn certificate_keys_after_descriptive_ones_are_injection() {
        let ca = Ca::new("Root");
        let leaf = ca.issue(&LeafOptions::named("a"));
        let cert = format!("Cert=\"{}\"", pem(&leaf.der));
        for bad in [
            format!("Subject=\"CN=a\";{cert}"),
            format!("URI=x;{cert}"),
            format!("DNS=x;{cert}"),
            format!("{cert};URI=x;Hash={}", sha256(&leaf.der)),
            format!("{cert};DNS=x;By=spiffe://proxy"),
            format!("{cert};URI=x;Chain=\"{}\"", pem(&leaf.der)),
        ] {
            let e = extract(&bad, XfccElements::Single).unwrap_err();
            assert_eq!(e.reason(), Reason::CertificateAmbiguous, "{bad}");
            assert_eq!(extract(&bad, XfccElements::Last).unwrap_err().reason(), Reason::CertificateAmbiguous, "{bad}");
        }
        for (bad, key) in [
            (format!("Subject=\"CN=a\";{cert}"), "cert"),
            (format!("{cert};DNS=x;By=spiffe://proxy"), "by"),
            (format!("{cert};URI=x;Hash={}", sha256(&leaf.der)), "hash"),
        ] {
            assert_eq!(extract(&bad, XfccElements::Single).unwrap_err(), ExtractError::XfccKeyAfterDescription { key });
        }
        let twice = format!("{cert};Subject=\"CN=a\";Subject=\"CN=b\"");
        assert_eq!(
            extract(&twice, XfccElements::Single).unwrap_err(),
            ExtractError::XfccKeyRepeated { key: "subject" }
        );
        // Unknown keys and By before the certificate are fine.
        assert!(extract(&format!("By=spiffe://p;{cert};x-other=1;URI="), XfccElements::Single).is_ok());
    }

    #[test]
    fn several_elements() {
        let ca = Ca::new("Root");
        let a = ca.issue(&LeafOptions::named("a"));
        let b = ca.issue(&LeafOptions::named("b"));
        let v = format!("Cert=\"{}\",Cert=\"{}\"", pem(&a.der), pem(&b.der));
        assert_eq!(extract(&v, XfccElements::Single).unwrap_err(), ExtractError::XfccElements { count: 2 });
        assert_eq!(extract(&v, XfccElements::Last).unwrap().0, b.der, "nearest proxy = last");
        let dup = format!("Cert=\"{}\";Cert=\"{}\"", pem(&a.der), pem(&b.der));
        assert_eq!(extract(&dup, XfccElements::Last).unwrap_err(), ExtractError::XfccKeyRepeated { key: "cert" });
        let none = ExtractError::XfccNoCertificate { form: XfccForm::Text };
        assert_eq!(extract("Hash=abc;By=x", XfccElements::Single).unwrap_err(), none);
        assert_eq!(none.reason(), Reason::CertificateMissing);
        // In `last` mode every element's certificate is read and checked against its claims:
        // an earlier element that does not agree with itself refuses the whole header.
        let lying = format!("Hash={};Cert=\"{}\"", sha256(&b.der), pem(&a.der));
        let v = format!("{lying},Cert=\"{}\"", pem(&b.der));
        assert_eq!(extract(&v, XfccElements::Last).unwrap_err().reason(), Reason::CertificateAmbiguous);
        let broken = format!("Cert=\"%zz\",Cert=\"{}\"", pem(&b.der));
        assert_eq!(extract(&broken, XfccElements::Last).unwrap_err(), ExtractError::PercentEscape { offset: 0 });
        let garbage = format!("Cert=\"{}\"", pem(b"\x30\x03\x02\x01\x01"));
        let e = extract(&garbage, XfccElements::Single).unwrap_err();
        assert!(matches!(e, ExtractError::Certificate(crate::certificate::CertificateError::NotDer(_))), "{e:?}");
        assert_eq!(e.reason(), Reason::CertificateMalformed);
        assert_eq!(parse_xfcc(&vec!["Hash=1"; MAX_ELEMENTS].join(",")).unwrap().len(), MAX_ELEMENTS);
        let many = vec!["Hash=1"; MAX_ELEMENTS + 1].join(",");
        let e = parse_xfcc(&many).unwrap_err();
        assert_eq!(e, ExtractError::TooMany { what: Counted::XfccElements, limit: MAX_ELEMENTS });
        assert_eq!(e.reason(), Reason::CertificateTooLarge);
        assert_eq!(parse_xfcc(&vec!["DNS=a"; MAX_PAIRS].join(";")).unwrap()[0].pairs.len(), MAX_PAIRS);
        let pairs = vec!["DNS=a"; MAX_PAIRS + 1].join(";");
        assert_eq!(
            parse_xfcc(&pairs).unwrap_err(),
            ExtractError::TooMany { what: Counted::XfccPairs, limit: MAX_PAIRS }
        );
        // At most MAX_CERTIFICATES certificates are decoded across all elements.
        let one = format!("Cert=\"{}\"", pem(&a.der));
        let seventeen = vec![one.as_str(); crate::extract::MAX_CERTIFICATES + 1].join(",");
        let e = extract(&seventeen, XfccElements::Last).unwrap_err();
        assert_eq!(
            e,
            ExtractError::TooMany { what: Counted::CertificatesInXfcc, limit: crate::extract::MAX_CERTIFICATES }
        );
    }

    #[test]
    fn display_is_the_log_text() {
        let cases: Vec<(ExtractError, &str)> = vec![
            (ExtractError::XfccSyntax(XfccSyntax::PairWithoutEquals { offset: 5 }), "XFCC pair without `=` at byte 5"),
            (ExtractError::XfccSyntax(XfccSyntax::InvalidKey { offset: 0 }), "invalid XFCC key at byte 0"),
            (ExtractError::XfccSyntax(XfccSyntax::UnterminatedQuote), "unterminated quoted XFCC value"),
            (ExtractError::XfccSyntax(XfccSyntax::DanglingEscape), "dangling escape in XFCC value"),
            (
                ExtractError::XfccSyntax(XfccSyntax::TextAfterQuote { offset: 9 }),
                "text after a quoted XFCC value at byte 9",
            ),
            (ExtractError::XfccSyntax(XfccSyntax::StrayQuote { offset: 6 }), "stray quote in XFCC value at byte 6"),
            (ExtractError::TooMany { what: Counted::XfccPairs, limit: 256 }, "more than 256 pairs in one XFCC element"),
            (ExtractError::TooMany { what: Counted::XfccElements, limit: 32 }, "more than 32 XFCC elements"),
            (
                ExtractError::TooMany { what: Counted::CertificatesInXfcc, limit: 16 },
                "more than 16 certificates in the XFCC header",
            ),
            (ExtractError::XfccKeyRepeated { key: "cert" }, "XFCC element has more than one `cert`"),
            (
                ExtractError::XfccKeyAfterDescription { key: "hash" },
                "XFCC `hash` after a Subject/URI/DNS pair in the same element (text injected through a SAN)",
            ),
            (ExtractError::XfccCertHoldsSeveral, "XFCC `Cert` holds more than one certificate"),
            (
                ExtractError::XfccChainNotLeaf { form: XfccForm::Text },
                "XFCC `Chain` does not start with the element's `Cert`",
            ),
            (
                ExtractError::XfccHashMismatch { form: XfccForm::Text },
                "XFCC `Hash` is not the SHA-256 of the element's certificate",
            ),
            (
                ExtractError::XfccSansDiffer,
                "XFCC URI/DNS values differ from the SANs of the element's certificate (a SAN value split the element)",
            ),
            (
                ExtractError::XfccElements { count: 2 },
                "XFCC carries 2 elements (set xfcc_elements = \"last\" to use the nearest proxy's)",
            ),
            (ExtractError::XfccNoElement, "XFCC has no element"),
            (ExtractError::XfccNoCertificate { form: XfccForm::Text }, "XFCC element carries no `Cert` or `Chain`"),
        ];
        for (e, text) in cases {
            assert_eq!(e.to_string(), text);
        }
    }
}
