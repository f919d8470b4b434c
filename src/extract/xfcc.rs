//! Envoy / Istio `X-Forwarded-Client-Cert`, with its full grammar: comma-separated
//! elements (one per proxy hop, the nearest proxy's last), `;`-separated `key=value`
//! pairs, case-insensitive keys, double-quoted values with `\"` escapes, repeatable
//! `By` / `URI` / `DNS` keys. `Cert` and `Chain` hold URL-encoded PEM.

use super::pem::decode_pem_certificates;
use super::percent::percent_decode;
use super::XfccElements;
use crate::reason::Refusal;

/// Most elements (proxy hops) accepted in one header.
pub const MAX_ELEMENTS: usize = 32;
/// Most `key=value` pairs accepted in one element.
pub const MAX_PAIRS: usize = 64;

const KEYS: [&str; 7] = ["by", "hash", "cert", "chain", "subject", "uri", "dns"];

/// One element: its pairs in order, keys lowercased.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct XfccElement {
    pub pairs: Vec<(String, String)>,
}

impl XfccElement {
    pub fn values<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.pairs.iter().filter(move |(k, _)| k == key).map(|(_, v)| v.as_str())
    }
}

/// Whether a value starts the way an XFCC header does (`Key=` with a known key).
pub fn looks_like_xfcc(value: &str) -> bool {
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
pub fn parse_xfcc(value: &str) -> Result<Vec<XfccElement>, Refusal> {
    let bytes = value.as_bytes();
    let mut elements = vec![XfccElement::default()];
    let mut i = 0;
    loop {
        // Key (white space around it is trimmed below).
        let key_start = i;
        while i < bytes.len() && !matches!(bytes[i], b'=' | b';' | b',' | b'"') {
            i += 1;
        }
        if i >= bytes.len() || bytes[i] != b'=' {
            return Err(Refusal::malformed(format!("XFCC pair without `=` at byte {key_start}")));
        }
        let key = value[key_start..i].trim_matches(|c| c == ' ' || c == '\t');
        if key.is_empty() || !key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
            return Err(Refusal::malformed(format!("invalid XFCC key at byte {key_start}")));
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
                    None => return Err(Refusal::malformed("unterminated quoted XFCC value")),
                    Some(b'"') => {
                        i += 1;
                        break;
                    }
                    Some(b'\\') => match bytes.get(i + 1) {
                        Some(&c) => {
                            out.push(c);
                            i += 2;
                        }
                        None => return Err(Refusal::malformed("dangling escape in XFCC value")),
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
                return Err(Refusal::malformed(format!("text after a quoted XFCC value at byte {i}")));
            }
            String::from_utf8(out).map_err(|_| Refusal::malformed("XFCC value is not UTF-8"))?
        } else {
            let start = i;
            while i < bytes.len() && !matches!(bytes[i], b';' | b',') {
                if bytes[i] == b'"' {
                    return Err(Refusal::malformed(format!("stray quote in XFCC value at byte {i}")));
                }
                i += 1;
            }
            value[start..i].trim_end_matches([' ', '\t']).to_string()
        };
        let element = elements.last_mut().ok_or_else(|| Refusal::malformed("XFCC parse error"))?;
        if element.pairs.len() >= MAX_PAIRS {
            return Err(Refusal::too_large(format!("more than {MAX_PAIRS} pairs in one XFCC element")));
        }
        element.pairs.push((key.to_ascii_lowercase(), val));
        match bytes.get(i) {
            None => break,
            Some(b';') => i += 1,
            Some(b',') => {
                i += 1;
                if elements.len() >= MAX_ELEMENTS {
                    return Err(Refusal::too_large(format!("more than {MAX_ELEMENTS} XFCC elements")));
                }
                elements.push(XfccElement::default());
            }
            Some(_) => return Err(Refusal::malformed("XFCC parse error")),
        }
    }
    Ok(elements)
}

/// The value of a key that may occur at most once in an element.
fn single_value<'a>(element: &'a XfccElement, key: &'static str) -> Result<Option<&'a str>, Refusal> {
    let mut values = element.values(key);
    let first = values.next();
    if values.next().is_some() {
        return Err(Refusal::ambiguous(format!("XFCC element has more than one `{key}`")));
    }
    Ok(first)
}

/// Pick the element to trust and return (leaf DER, rest of the chain).
pub fn extract(value: &str, mode: XfccElements) -> Result<(Vec<u8>, Vec<Vec<u8>>), Refusal> {
    let elements = parse_xfcc(value)?;
    if elements.len() > 1 && mode == XfccElements::Single {
        return Err(Refusal::ambiguous(format!(
            "XFCC carries {} elements (set xfcc_elements = \"last\" to use the nearest proxy's)",
            elements.len()
        )));
    }
    let element = elements.last().ok_or_else(|| Refusal::missing("XFCC has no element"))?;
    let cert = single_value(element, "cert")?;
    let chain = single_value(element, "chain")?;
    let mut chain = match chain {
        Some(c) if !c.is_empty() => decode_pem_certificates(&percent_decode(c)?)?,
        _ => Vec::new(),
    };
    let leaf = match cert {
        Some(c) if !c.is_empty() => {
            let mut certs = decode_pem_certificates(&percent_decode(c)?)?;
            if certs.len() != 1 {
                return Err(Refusal::ambiguous("XFCC `Cert` holds more than one certificate"));
            }
            let leaf = certs.remove(0);
            // `Chain` includes the leaf; keep only the others.
            chain.retain(|c| *c != leaf);
            leaf
        }
        _ if !chain.is_empty() => chain.remove(0),
        _ => return Err(Refusal::missing("XFCC element carries no `Cert` or `Chain`")),
    };
    Ok((leaf, chain))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Reason;

    const PEM: &str = "-----BEGIN%20CERTIFICATE-----%0AAQID%0A-----END%20CERTIFICATE-----%0A";
    const PEM2: &str = "-----BEGIN%20CERTIFICATE-----%0ABAUG%0A-----END%20CERTIFICATE-----%0A";

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
        assert!(parse_xfcc("Hash=\"1\" x").unwrap_err().detail.contains("text after a quoted XFCC value"));
    }

    #[test]
    fn picks_cert_and_chain() {
        let (leaf, chain) =
            extract(&format!("Hash=x;Cert=\"{PEM}\";Chain=\"{PEM}{PEM2}\""), XfccElements::Single).unwrap();
        assert_eq!(leaf, vec![1, 2, 3]);
        assert_eq!(chain, vec![vec![4, 5, 6]]);
        let (leaf, chain) = extract(&format!("Chain=\"{PEM2}{PEM}\""), XfccElements::Single).unwrap();
        assert_eq!((leaf, chain), (vec![4, 5, 6], vec![vec![1, 2, 3]]));
        // An empty `Chain` is no chain; an empty `Cert` falls back to the chain's first.
        let (leaf, chain) = extract(&format!("Cert=\"{PEM}\";Chain=\"\""), XfccElements::Single).unwrap();
        assert_eq!((leaf, chain), (vec![1, 2, 3], vec![]));
        let (leaf, chain) = extract(&format!("Cert=\"\";Chain=\"{PEM2}{PEM}\""), XfccElements::Single).unwrap();
        assert_eq!((leaf, chain), (vec![4, 5, 6], vec![vec![1, 2, 3]]));
        // Unquoted Cert works too (Envoy's encoding leaves no `,;=`).
        let (leaf, _) = extract(&format!("Cert={PEM}"), XfccElements::Single).unwrap();
        assert_eq!(leaf, vec![1, 2, 3]);
    }

    #[test]
    fn several_elements() {
        let v = format!("Cert=\"{PEM}\",Cert=\"{PEM2}\"");
        assert_eq!(extract(&v, XfccElements::Single).unwrap_err().reason, Reason::CertificateAmbiguous);
        assert_eq!(extract(&v, XfccElements::Last).unwrap().0, vec![4, 5, 6], "nearest proxy = last");
        let dup = format!("Cert=\"{PEM}\";Cert=\"{PEM2}\"");
        assert_eq!(extract(&dup, XfccElements::Last).unwrap_err().reason, Reason::CertificateAmbiguous);
        assert_eq!(extract("Hash=abc;By=x", XfccElements::Single).unwrap_err().reason, Reason::CertificateMissing);
        let many = vec!["Hash=1"; MAX_ELEMENTS + 1].join(",");
        assert_eq!(parse_xfcc(&many).unwrap_err().reason, Reason::CertificateTooLarge);
        let pairs = vec!["DNS=a"; MAX_PAIRS + 1].join(";");
        assert_eq!(parse_xfcc(&pairs).unwrap_err().reason, Reason::CertificateTooLarge);
    }
}
