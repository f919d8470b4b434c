//! Write a DER certificate the way each terminator forwards it.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

pub fn base64_der(der: &[u8]) -> String {
    STANDARD.encode(der)
}

/// PEM with 64-column lines and real newlines.
pub fn pem(der: &[u8]) -> String {
    let b64 = base64_der(der);
    let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).unwrap_or(""));
        out.push('\n');
    }
    out.push_str("-----END CERTIFICATE-----\n");
    out
}

/// Apache `%{SSL_CLIENT_CERT}s` through `RequestHeader set`: line breaks become spaces.
pub fn pem_apache(der: &[u8]) -> String {
    pem(der).replace('\n', " ").trim_end().to_string()
}

/// nginx's deprecated `$ssl_client_cert`: every line after the first starts with a tab.
pub fn pem_tab_continued(der: &[u8]) -> String {
    pem(der).trim_end().replace('\n', "\n\t")
}

fn percent_encode(text: &str, keep: impl Fn(u8) -> bool) -> String {
    let mut out = String::with_capacity(text.len() * 3 / 2);
    for b in text.bytes() {
        if keep(b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// nginx `$ssl_client_escaped_cert` (and ingress-nginx, App Gateway, Kong): everything
/// but unreserved characters escaped, `+ / =` included.
pub fn url_pem_nginx(der: &[u8]) -> String {
    percent_encode(&pem(der), |b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
}

/// AWS ALB: URL-encoded, but `+ = /` left literal.
pub fn url_pem_alb(der: &[u8]) -> String {
    percent_encode(&pem(der), |b| b.is_ascii_alphanumeric() || b"-._~+=/".contains(&b))
}

/// Envoy's own encoding for XFCC `Cert`/`Chain`: only newline, space, `+`, `/`, `=`.
pub fn url_pem_envoy(der: &[u8]) -> String {
    percent_encode(&pem(der), |b| !b"\n +/=".contains(&b))
}

/// RFC 9440 byte sequence.
pub fn rfc9440(der: &[u8]) -> String {
    format!(":{}:", base64_der(der))
}

/// An XFCC element as Envoy writes it with `set_current_client_cert_details` {cert, chain
/// (if given), subject, uri, dns}: `By;Hash;Cert;Chain;Subject;URI…;DNS…`, `Chain` including
/// the leaf, one `URI` per URI SAN (a lone `URI=` when there is none) and one `DNS` per DNS
/// SAN, read from the certificate by x509-parser (an implementation independent of
/// certgate's), values unescaped as Envoy leaves them.
pub fn xfcc_element(leaf: &[u8], chain: &[&[u8]], subject: &str) -> String {
    use sha2::Digest;
    let hash = hex::encode(sha2::Sha256::digest(leaf));
    let mut element = format!(
        "By=spiffe://cluster.local/ns/default/sa/certgate;Hash={hash};Cert=\"{}\"",
        url_pem_envoy(leaf)
    );
    if !chain.is_empty() {
        let mut all = url_pem_envoy(leaf);
        for c in chain {
            all.push_str(&url_pem_envoy(c));
        }
        element.push_str(&format!(";Chain=\"{all}\""));
    }
    element.push_str(&format!(";Subject=\"{}\"", subject.replace('"', "\\\"")));
    let (uris, dns) = san_values(leaf);
    if uris.is_empty() {
        element.push_str(";URI=");
    }
    for uri in uris {
        element.push_str(&format!(";URI={uri}"));
    }
    for name in dns {
        element.push_str(&format!(";DNS={name}"));
    }
    element
}

/// The URI and DNS SANs of a DER certificate, in order (x509-parser).
pub fn san_values(der: &[u8]) -> (Vec<String>, Vec<String>) {
    use x509_parser::extensions::GeneralName;
    let (_, cert) = x509_parser::parse_x509_certificate(der).expect("a certificate x509-parser reads");
    let (mut uris, mut dns) = (Vec::new(), Vec::new());
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        for name in &san.value.general_names {
            match name {
                GeneralName::URI(u) => uris.push(u.to_string()),
                GeneralName::DNSName(d) => dns.push(d.to_string()),
                _ => {}
            }
        }
    }
    (uris, dns)
}

/// Traefik: comma-separated base64 DER, leaf first.
pub fn traefik_chain(certs: &[&[u8]]) -> String {
    certs.iter().map(|c| base64_der(c)).collect::<Vec<_>>().join(",")
}

/// An object of Envoy's JSON XFCC (Envoy 1.38 `format: JSON`), as its docs describe it:
/// lowercase keys, `by`/`uri`/`dns`/`chain` arrays, plain PEM in `cert` and each `chain`
/// entry (leaf first), empty fields left out, JSON escaping by serde_json. SANs are read by
/// x509-parser. Wrap one or more in `[...]` (joined with `,`) for the header value.
pub fn xfcc_json_element(leaf: &[u8], chain: &[&[u8]], subject: &str) -> String {
    use sha2::Digest;
    let mut object = serde_json::Map::new();
    object.insert("by".into(), serde_json::json!(["spiffe://cluster.local/ns/default/sa/certgate"]));
    object.insert("hash".into(), hex::encode(sha2::Sha256::digest(leaf)).into());
    object.insert("cert".into(), pem(leaf).into());
    if !chain.is_empty() {
        let all: Vec<String> = std::iter::once(leaf).chain(chain.iter().copied()).map(pem).collect();
        object.insert("chain".into(), all.into());
    }
    if !subject.is_empty() {
        object.insert("subject".into(), subject.into());
    }
    let (uris, dns) = san_values(leaf);
    if !uris.is_empty() {
        object.insert("uri".into(), uris.into());
    }
    if !dns.is_empty() {
        object.insert("dns".into(), dns.into());
    }
    serde_json::Value::Object(object).to_string()
}

/// The ASP.NET Core sample client: `X509Certificate.GetRawCertDataString()`, i.e. the DER as
/// upper-case hex with no separators (`Convert.ToHexString`).
pub fn hex_der_upper(der: &[u8]) -> String {
    hex::encode_upper(der)
}

/// `Convert.ToHexStringLower` and most hand-written clients: lower-case hex DER.
pub fn hex_der_lower(der: &[u8]) -> String {
    hex::encode(der)
}

/// An RFC 9440 `Client-Cert-Chain` list as Envoy's contrib `client_cert` filter, Cloudflare
/// and CloudFront write it: byte sequences joined by `", "`.
pub fn rfc9440_list(certs: &[&[u8]]) -> String {
    certs.iter().map(|c| rfc9440(c)).collect::<Vec<_>>().join(", ")
}
