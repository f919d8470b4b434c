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

/// An XFCC element with `Hash`, `Cert`, `Subject` and, if given, `Chain` (which includes
/// the leaf, as Envoy writes it).
pub fn xfcc_element(leaf: &[u8], chain: &[&[u8]], subject: &str) -> String {
    use sha2::Digest;
    let hash = hex::encode(sha2::Sha256::digest(leaf));
    let mut element = format!(
        "By=spiffe://cluster.local/ns/default/sa/certgate;Hash={hash};Cert=\"{}\";Subject=\"{}\"",
        url_pem_envoy(leaf),
        subject.replace('"', "\\\"")
    );
    if !chain.is_empty() {
        let mut all = url_pem_envoy(leaf);
        for c in chain {
            all.push_str(&url_pem_envoy(c));
        }
        element.push_str(&format!(";Chain=\"{all}\""));
    }
    element.push_str(";URI=spiffe://cluster.local/ns/client/sa/default;DNS=client.example");
    element
}

/// Traefik: comma-separated base64 DER, leaf first.
pub fn traefik_chain(certs: &[&[u8]]) -> String {
    certs.iter().map(|c| base64_der(c)).collect::<Vec<_>>().join(",")
}
