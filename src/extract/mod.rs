//! Header extraction: turn the value(s) of the configured certificate header into the
//! DER bytes of the leaf certificate and of any forwarded chain, in whatever format the
//! terminator used. Nothing here trusts the input: every failure is an [`ExtractError`].

mod base64_der;
mod error;
mod hex_der;
mod pem;
mod percent;
mod rfc9440;
mod side_headers;
mod xfcc;
mod xfcc_json;

pub(crate) use base64_der::decode_base64;
pub use error::{
    Base64Problem, Counted, ExtractError, HeaderRole, JsonKeyProblem, JsonType, XfccForm, XfccJsonProblem, XfccSyntax,
};
pub(crate) use pem::decode_pem_blocks;
pub(crate) use percent::{hex_value, percent_decode};
pub(crate) use side_headers::{check_digest, TooLargeFlag};

/// An HTTP header name: a non-empty RFC 9110 token of at most 256 bytes. Returned lowercase.
pub(crate) fn parse_header_name(raw: &str) -> Option<String> {
    let is_tchar = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
    (!raw.is_empty() && raw.len() <= 256 && raw.bytes().all(is_tchar)).then(|| raw.to_ascii_lowercase())
}

/// Most certificates (leaf plus chain) any request may carry; `max_chain_certificates`
/// sets the limit in force, at most this.
pub const MAX_CERTIFICATES: usize = 16;

/// How the certificate is encoded in the header.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    /// Detect from the value of the configured header (never from other headers).
    Auto,
    /// Base64 of DER, no armour: App Service, ASP.NET, Caddy, HAProxy (quotes tolerated),
    /// Cloudflare; Traefik's comma-separated chain, leaf first.
    Base64Der,
    /// Hexadecimal DER, either case, no separators: the ASP.NET Core sample client
    /// (`GetRawCertDataString()`), `Convert.ToHexString`, HAProxy `ssl_c_der,hex`.
    HexDer,
    /// PEM, with real line breaks, spaces for line breaks (Apache), or tab-continued lines.
    Pem,
    /// Percent-encoded PEM (nginx, ingress-nginx, App Gateway, Kong, AWS ALB with literal `+ = /`).
    UrlPem,
    /// RFC 9440 / RFC 8941 byte sequence `:base64:`.
    Rfc9440,
    /// Envoy / Istio `X-Forwarded-Client-Cert`, in either of Envoy's forms: JSON when the
    /// value starts with `[` and ends with `]` (Envoy's own rule), the text grammar otherwise.
    Xfcc,
    /// Envoy's JSON form of XFCC only (Envoy 1.38 `format: JSON`): the text form is refused.
    XfccJson,
}

impl Format {
    /// Every format with its configuration name (`certificate_format`), `auto` first.
    pub const NAMES: [(&'static str, Format); 8] = [
        ("auto", Format::Auto),
        ("base64-der", Format::Base64Der),
        ("hex-der", Format::HexDer),
        ("pem", Format::Pem),
        ("url-pem", Format::UrlPem),
        ("rfc9440", Format::Rfc9440),
        ("xfcc", Format::Xfcc),
        ("xfcc-json", Format::XfccJson),
    ];

    /// The format named `raw` (trimmed, ASCII case-insensitive), if any.
    pub fn parse(raw: &str) -> Option<Format> {
        let raw = raw.trim();
        Self::NAMES.iter().find(|(n, _)| n.eq_ignore_ascii_case(raw)).map(|(_, f)| *f)
    }

    /// The accepted names, comma-separated, for error messages.
    pub fn choices() -> String {
        Self::NAMES.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
    }

    /// This format's configuration name, as in [`NAMES`](Self::NAMES).
    pub fn name(self) -> &'static str {
        Self::NAMES.iter().find(|(_, f)| *f == self).map_or("auto", |(n, _)| n)
    }
}

/// What to do with an XFCC header that carries several elements (one per proxy hop).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum XfccElements {
    /// Refuse with `certificate_ambiguous` (default).
    Single,
    /// Use the last element: the one added by the proxy nearest to certgate.
    Last,
}

impl XfccElements {
    /// `single` or `last` (trimmed, ASCII case-insensitive), as `xfcc_elements` spells them.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "single" => Some(XfccElements::Single),
            "last" => Some(XfccElements::Last),
            _ => None,
        }
    }
}

/// The extraction part of the configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExtractionSettings {
    /// Lowercase header name.
    pub header: String,
    /// Lowercase name of a separate chain header (RFC 9440 `Client-Cert-Chain`).
    pub chain_header: Option<String>,
    /// How the header value is encoded (`certificate_format`).
    pub format: Format,
    /// Which element of a multi-hop XFCC header is used (`xfcc_elements`).
    pub xfcc_elements: XfccElements,
    /// Most bytes a header may carry, all its lines together (`max_header_bytes`).
    pub max_header_bytes: usize,
    /// Most certificates the request may forward, leaf included (`max_chain_certificates`).
    pub max_certificates: usize,
    /// Where the terminator says it left a too-large certificate out.
    pub too_large_flag: Option<TooLargeFlag>,
    /// Lowercase name of a header with the terminator's SHA-256 of the leaf, which must agree.
    pub digest_header: Option<String>,
}

/// The certificates found in the request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ForwardedCertificate {
    /// DER of the leaf: the certificate that gets authenticated.
    pub leaf: Vec<u8>,
    /// DER of the other forwarded certificates, nearest the leaf first (leaf excluded).
    pub chain: Vec<Vec<u8>>,
    /// The format the value was read as (resolved when `auto`).
    pub format: Format,
    /// How many of `chain` came in the certificate header's own value with the leaf (a
    /// Traefik list, PEM blocks, XFCC `Chain`), before any from a separate chain header.
    /// Such a list must be a chain in order, leaf first, each certificate issued by the
    /// next: the decision checks it, so a client copy merged into one line by an
    /// intermediary cannot pose as the leaf.
    pub inline_count: usize,
}

/// Values terminators send when there is no client certificate.
fn is_absent_sentinel(value: &str) -> bool {
    // Apache's `(null)`; a placeholder the terminator failed to expand, as Caddy 2.6
    // sends `{http.request.tls.client.certificate_der_base64}` verbatim.
    value == "(null)"
        || value == "\"\""
        || (value.len() > 2
            && value.starts_with('{')
            && value.ends_with('}')
            && value[1..value.len() - 1]
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b == b'-'))
}

/// Guess the format from the value alone. The rule, applied to the first line of the
/// configured header after leading white space and at most one opening double quote:
///
/// 1. `:` starts an RFC 9440 byte sequence;
/// 2. `30` is hexadecimal DER: every certificate is a DER SEQUENCE, tag `0x30`. Its base64
///    always starts with `M` (`0x30` is `001100`, the index of `M`), never with a digit, so no
///    base64 certificate or Traefik list, and no value of another format (`:`, `-`, `%`, or
///    an XFCC key, which starts with a letter), is read as hex;
/// 3. `[`, or a known XFCC key followed by `=`, is XFCC (JSON or text, by Envoy's rule);
/// 4. `%2D%2D%2D%2D%2DBEGIN`, or `-----BEGIN%` with escapes, is URL-encoded PEM;
/// 5. `-----BEGIN` anywhere is PEM;
/// 6. anything else is read as base64 DER (a base64 certificate starts with `MI` or `MH`).
///
/// Detection never looks at other headers, and a value that does not decode in the
/// detected format is `certificate_malformed`, never retried in another.
pub(crate) fn detect(value: &str) -> Format {
    let v = value.trim_start();
    if v.starts_with(':') {
        return Format::Rfc9440;
    }
    if v.strip_prefix('"').unwrap_or(v).starts_with("30") {
        return Format::HexDer;
    }
    if v.starts_with('[') || xfcc::looks_like_xfcc(v) {
        return Format::Xfcc;
    }
    let head: String = v.chars().take(40).collect::<String>().to_ascii_uppercase();
    // nginx leaves `-` unescaped (`-----BEGIN%20CERTIFICATE-----%0A`); other encoders
    // escape it too (`%2D%2D%2D%2D%2DBEGIN`).
    if head.starts_with("%2D%2D%2D%2D%2DBEGIN") || (head.starts_with("-----BEGIN%") && v.contains('%')) {
        return Format::UrlPem;
    }
    if v.contains("-----BEGIN") {
        return Format::Pem;
    }
    Format::Base64Der
}

fn header_text(value: &[u8]) -> Result<&str, ExtractError> {
    let text = std::str::from_utf8(value).map_err(|_| ExtractError::NotUtf8)?;
    if text.chars().any(|c| c.is_control() && c != '\t' && c != '\r' && c != '\n') {
        return Err(ExtractError::ControlCharacters);
    }
    Ok(text)
}

fn check_size(lines: &[Vec<u8>], limit: usize, header: HeaderRole) -> Result<(), ExtractError> {
    let bytes: usize = lines.iter().map(|l| l.len()).sum();
    if bytes > limit {
        return Err(ExtractError::TooLarge { header, bytes, limit });
    }
    Ok(())
}

/// Extract the certificate from the header lines (`cert_lines`: every line of the
/// configured header, in order; `chain_lines`: those of the chain header, if configured).
pub fn extract(
    settings: &ExtractionSettings,
    cert_lines: &[Vec<u8>],
    chain_lines: &[Vec<u8>],
) -> Result<ForwardedCertificate, ExtractError> {
    let header = || settings.header.clone();
    if cert_lines.is_empty() {
        return Err(ExtractError::HeaderAbsent { header: header() });
    }
    check_size(cert_lines, settings.max_header_bytes, HeaderRole::Certificate)?;
    check_size(chain_lines, settings.max_header_bytes, HeaderRole::Chain)?;

    let first = header_text(&cert_lines[0])?;
    let format = match settings.format {
        Format::Auto => detect(first),
        f => f,
    };

    let (leaf, mut chain) = if matches!(format, Format::Xfcc | Format::XfccJson) {
        let json = cert_lines.len() == 1 && xfcc_json::is_json(first.trim());
        if format == Format::XfccJson && !json {
            return Err(if cert_lines.len() > 1 {
                ExtractError::HeaderRepeated { header: header(), count: cert_lines.len() }
            } else if first.trim().is_empty() {
                ExtractError::XfccEmpty
            } else {
                ExtractError::XfccNotJsonForm
            });
        }
        if json {
            xfcc_json::extract(first.trim(), settings.xfcc_elements)?
        } else {
            // Several text lines are one comma-separated list; JSON never spans lines.
            let mut joined = String::new();
            for (i, line) in cert_lines.iter().enumerate() {
                let line = header_text(line)?;
                if xfcc_json::is_json(line.trim()) || line.trim_start().starts_with('[') {
                    return Err(ExtractError::JsonXfccRepeated { header: header(), count: cert_lines.len() });
                }
                if i > 0 {
                    joined.push(',');
                }
                joined.push_str(line);
            }
            let value = joined.trim();
            if value.is_empty() {
                return Err(ExtractError::XfccEmpty);
            }
            xfcc::extract(value, settings.xfcc_elements)?
        }
    } else {
        if cert_lines.len() > 1 {
            return Err(ExtractError::HeaderRepeated { header: header(), count: cert_lines.len() });
        }
        let value = first.trim_matches(|c: char| c == ' ' || c == '\t' || c == '\r' || c == '\n');
        if value.is_empty() || is_absent_sentinel(value) {
            return Err(ExtractError::NoCertificate { header: header() });
        }
        let mut certs = match format {
            Format::Base64Der => base64_der::decode_list(value)?,
            Format::HexDer => vec![hex_der::decode_hex_der(value)?],
            Format::Pem => pem::decode_pem_certificates(value)?,
            Format::UrlPem => pem::decode_pem_certificates(&percent_decode(value)?)?,
            Format::Rfc9440 => vec![rfc9440::decode_item(value)?],
            Format::Auto | Format::Xfcc | Format::XfccJson => return Err(ExtractError::UnsupportedFormat),
        };
        if certs.len() > MAX_CERTIFICATES {
            return Err(ExtractError::CertificatesInHeader { count: certs.len(), limit: MAX_CERTIFICATES });
        }
        let leaf = certs.remove(0);
        (leaf, certs)
    };

    let inline_count = chain.len();
    if let Some(chain_header) = &settings.chain_header {
        match chain_lines.len() {
            0 => {}
            1 => {
                let value = header_text(&chain_lines[0])?.trim();
                if !value.is_empty() {
                    chain.extend(rfc9440::decode_list(value)?);
                }
            }
            n => return Err(ExtractError::HeaderRepeated { header: chain_header.clone(), count: n }),
        }
    }
    let limit = settings.max_certificates.min(MAX_CERTIFICATES);
    if chain.len() + 1 > limit {
        return Err(ExtractError::CertificatesForwarded { count: chain.len() + 1, limit });
    }
    Ok(ForwardedCertificate { leaf, chain, format, inline_count })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(format: Format) -> ExtractionSettings {
        ExtractionSettings {
            header: "x-cert".into(),
            chain_header: None,
            format,
            xfcc_elements: XfccElements::Single,
            max_header_bytes: 1024,
            max_certificates: MAX_CERTIFICATES,
            too_large_flag: None,
            digest_header: None,
        }
    }

    #[test]
    fn format_and_xfcc_mode_names() {
        for (name, format) in Format::NAMES {
            assert_eq!(format.name(), name);
            assert_eq!(Format::parse(&name.to_uppercase()), Some(format));
        }
        assert_eq!(Format::parse("der"), None);
        assert_eq!(XfccElements::parse(" Last "), Some(XfccElements::Last));
        assert_eq!(XfccElements::parse("single"), Some(XfccElements::Single));
        assert_eq!(XfccElements::parse("first"), None);
    }

    #[test]
    fn detection() {
        assert_eq!(detect(":MIIB:"), Format::Rfc9440);
        assert_eq!(detect("-----BEGIN CERTIFICATE----- MIIB"), Format::Pem);
        assert_eq!(detect("%2D%2D%2D%2D%2DBEGIN%20CERTIFICATE"), Format::UrlPem);
        assert_eq!(detect("%2d%2d%2d%2d%2dBEGIN%20CERTIFICATE"), Format::UrlPem);
        assert_eq!(detect("-----BEGIN%20CERTIFICATE-----%0AMIIB"), Format::UrlPem);
        assert_eq!(detect("By=spiffe://a;Hash=00;Cert=\"x\""), Format::Xfcc);
        assert_eq!(detect("Hash=00"), Format::Xfcc);
        assert_eq!(detect("MIIBszCCAVmgAwIBAgIU"), Format::Base64Der);
        assert_eq!(detect("3082035A30820242A003020102"), Format::HexDer);
        assert_eq!(detect("\"3082035a\""), Format::HexDer);
        assert_eq!(detect("[{\"cert\":\"x\"}]"), Format::Xfcc);
        // `3` alone, or a hex value that is not a SEQUENCE, is no certificate: base64 reading.
        assert_eq!(detect("31"), Format::Base64Der);
        assert_eq!(detect("\"MIIBszCCAVmgAwIBAgIU\""), Format::Base64Der);
        // Percent-escaped base64 (`+` as %2B) is still base64, not URL-encoded PEM.
        assert_eq!(detect("MIIB%2BszCCAVmg%2FAwIBAgIU"), Format::Base64Der);
    }

    /// The detection rule against every format's real values: certificates of several
    /// shapes (P-256, RSA 4096, a long SAN list, a chain), each in every encoding.
    #[test]
    fn detection_of_every_format_is_exact() {
        use certgate_testkit::{encode, Ca, LeafOptions};
        let ca = Ca::new("Detect Root");
        let inter = ca.intermediate("Detect Inter");
        let rsa = LeafOptions::named("rsa").key(certgate_testkit::KeyKind::Rsa4096);
        let mut many = LeafOptions::named("many");
        for i in 0..40 {
            many = many.dns(&format!("host-{i}.example"));
        }
        let leaves = [inter.issue(&LeafOptions::named("p256")), ca.issue(&rsa), ca.issue(&many)];
        for leaf in &leaves {
            let d = &leaf.der[..];
            let i = &inter.certificate.der[..];
            let cases: Vec<(String, Format)> = vec![
                (encode::base64_der(d), Format::Base64Der),
                (format!("\"{}\"", encode::base64_der(d)), Format::Base64Der),
                (encode::traefik_chain(&[d, i]), Format::Base64Der),
                (encode::base64_der(d).replace('+', "%2B").replace('/', "%2F"), Format::Base64Der),
                (encode::hex_der_upper(d), Format::HexDer),
                (encode::hex_der_lower(d), Format::HexDer),
                (format!("\"{}\"", encode::hex_der_upper(d)), Format::HexDer),
                (encode::pem(d), Format::Pem),
                (encode::pem_apache(d), Format::Pem),
                (encode::pem_tab_continued(d), Format::Pem),
                (encode::url_pem_nginx(d), Format::UrlPem),
                (encode::url_pem_alb(d), Format::UrlPem),
                (encode::url_pem_envoy(d), Format::UrlPem),
                (encode::rfc9440(d), Format::Rfc9440),
                (encode::xfcc_element(d, &[i], "CN=x"), Format::Xfcc),
                (format!("Cert=\"{}\"", encode::url_pem_envoy(d)), Format::Xfcc),
                (format!("[{}]", encode::xfcc_json_element(d, &[i], "CN=x")), Format::Xfcc),
            ];
            for (value, want) in cases {
                assert_eq!(detect(&value), want, "{}", &value[..value.len().min(60)]);
                // What was detected decodes to this very certificate (auto and explicit agree).
                let mut s = settings(Format::Auto);
                s.max_header_bytes = 1 << 20;
                let got = extract(&s, &[value.clone().into_bytes()], &[]).unwrap();
                assert_eq!((got.leaf.as_slice(), got.format), (d, want));
            }
            // A chain list is read from the chain header, never the certificate header.
            assert_eq!(detect(&encode::rfc9440_list(&[d, i])), Format::Rfc9440);
            // Every base64 certificate starts `M` then `A`..`I`; hex starts `30`: disjoint.
            let b64 = encode::base64_der(d);
            assert!(b64.starts_with('M') && (b'A'..=b'I').contains(&b64.as_bytes()[1]), "{b64:.4}");
            assert!(encode::hex_der_upper(d).starts_with("30"));
        }
    }

    proptest::proptest! {
        /// For any DER-like bytes (a SEQUENCE tag, then anything), base64 is never read as
        /// hex and hex never as base64, in either case, quoted or not.
        #[test]
        fn hex_and_base64_never_collide(rest in proptest::collection::vec(proptest::num::u8::ANY, 0..64)) {
            use base64::Engine;
            let der: Vec<u8> = std::iter::once(0x30).chain(rest).collect();
            let b64 = base64::engine::general_purpose::STANDARD.encode(&der);
            proptest::prop_assert_eq!(detect(&b64), Format::Base64Der);
            proptest::prop_assert_eq!(detect(&format!("\"{b64}\"")), Format::Base64Der);
            proptest::prop_assert_eq!(detect(&hex::encode(&der)), Format::HexDer);
            proptest::prop_assert_eq!(detect(&hex::encode_upper(&der)), Format::HexDer);
            proptest::prop_assert_eq!(hex_der::decode_hex_der(&hex::encode_upper(&der)).unwrap(), der);
        }
    }

    #[test]
    fn sentinels_are_exact() {
        for v in ["(null)", "\"\"", "{a}", "{http.request.tls.client.certificate_der_base64}", "{a-b_c.d}"] {
            assert!(is_absent_sentinel(v), "{v:?}");
        }
        for v in ["{}", "{", "}", "{abc", "abc}", "{a b}", "{a/b}", "(null) ", "x\"\"", "MIIB"] {
            assert!(!is_absent_sentinel(v), "{v:?}");
        }
    }

    #[test]
    fn missing_and_sentinels() {
        let s = settings(Format::Auto);
        for v in ["", "   ", "(null)", "{http.request.tls.client.certificate_der_base64}", "\"\""] {
            let e = extract(&s, &[v.as_bytes().to_vec()], &[]).unwrap_err();
            assert_eq!(e.reason(), crate::Reason::CertificateMissing, "{v:?}");
        }
        assert_eq!(extract(&s, &[], &[]).unwrap_err(), ExtractError::HeaderAbsent { header: "x-cert".into() });
        let e = extract(&s, &[b" (null)".to_vec()], &[]).unwrap_err();
        assert_eq!(e, ExtractError::NoCertificate { header: "x-cert".into() });
        let xfcc = settings(Format::Xfcc);
        assert_eq!(extract(&xfcc, &[b" \t".to_vec()], &[]).unwrap_err(), ExtractError::XfccEmpty);
        let json = settings(Format::XfccJson);
        assert_eq!(extract(&json, &[b" ".to_vec()], &[]).unwrap_err(), ExtractError::XfccEmpty);
        assert_eq!(extract(&json, &[b"Hash=1".to_vec()], &[]).unwrap_err(), ExtractError::XfccNotJsonForm);
    }

    #[test]
    fn repeated_lines_are_ambiguous_and_size_is_limited() {
        let s = settings(Format::Base64Der);
        let e = extract(&s, &[b"AAAA".to_vec(), b"AAAA".to_vec()], &[]).unwrap_err();
        assert_eq!(e, ExtractError::HeaderRepeated { header: "x-cert".into(), count: 2 });
        assert_eq!(e.reason(), crate::Reason::CertificateAmbiguous);
        let e = extract(&s, &[vec![b'A'; 1025]], &[]).unwrap_err();
        assert_eq!(e, ExtractError::TooLarge { header: HeaderRole::Certificate, bytes: 1025, limit: 1024 });
        assert_eq!(e.reason(), crate::Reason::CertificateTooLarge);
        let e = extract(&s, &[vec![b'A'; 600], vec![b'A'; 600]], &[]).unwrap_err();
        let all_lines = ExtractError::TooLarge { header: HeaderRole::Certificate, bytes: 1200, limit: 1024 };
        assert_eq!(e, all_lines, "the limit counts every line");
        let mut chained = settings(Format::Base64Der);
        chained.chain_header = Some("x-chain".into());
        let e = extract(&chained, &[b"AAAA".to_vec()], &[vec![b'A'; 1025]]).unwrap_err();
        assert_eq!(e, ExtractError::TooLarge { header: HeaderRole::Chain, bytes: 1025, limit: 1024 });
        let e = extract(&chained, &[b"AAAA".to_vec()], &[b":AAAA:".to_vec(), b":AAAA:".to_vec()]).unwrap_err();
        assert_eq!(e, ExtractError::HeaderRepeated { header: "x-chain".into(), count: 2 });
        // Several XFCC lines are one list, unless one is JSON, which never spans lines.
        let xfcc = settings(Format::Xfcc);
        let e = extract(&xfcc, &[b"Hash=1".to_vec(), b"[{}]".to_vec()], &[]).unwrap_err();
        assert_eq!(e, ExtractError::JsonXfccRepeated { header: "x-cert".into(), count: 2 });
        let e = extract(&settings(Format::XfccJson), &[b"[{}]".to_vec(), b"[{}]".to_vec()], &[]).unwrap_err();
        assert_eq!(e, ExtractError::HeaderRepeated { header: "x-cert".into(), count: 2 });
    }

    #[test]
    fn control_characters_and_surrounding_white_space() {
        assert!(header_text(b"MIIB\tAA\r\nBB").is_ok());
        for v in [&b"MIIB\x01AA"[..], b"\x00", b"MIIB\x7f", b"MIIB\x1b[31m"] {
            assert_eq!(header_text(v).unwrap_err(), ExtractError::ControlCharacters, "{v:?}");
        }
        // Sentinels are recognised inside the white space terminators add.
        let s = settings(Format::Auto);
        for v in ["(null)\n", "\t(null)\r", "\r\n(null)\r\n", " \"\"\t"] {
            let e = extract(&s, &[v.as_bytes().to_vec()], &[]).unwrap_err();
            assert_eq!(e.reason(), crate::Reason::CertificateMissing, "{v:?}");
        }
    }

    #[test]
    fn limits_are_inclusive() {
        // Size: a header of exactly the limit is accepted.
        let s = settings(Format::Base64Der);
        assert_eq!(extract(&s, &[vec![b'A'; 1024]], &[]).unwrap().leaf.len(), 768);
        // Certificates in one header: MAX_CERTIFICATES pass, one more is too large.
        let list = |n: usize| vec!["AAAA"; n].join(",").into_bytes();
        let ok = extract(&s, &[list(MAX_CERTIFICATES)], &[]).unwrap();
        assert_eq!(ok.chain.len(), MAX_CERTIFICATES - 1);
        assert_eq!(ok.inline_count, MAX_CERTIFICATES - 1);
        let e = extract(&s, &[list(MAX_CERTIFICATES + 1)], &[]).unwrap_err();
        assert_eq!(e, ExtractError::TooMany { what: Counted::CertificatesInHeader, limit: MAX_CERTIFICATES });
        let one = extract(&s, &[list(1)], &[]).unwrap();
        assert!(one.inline_count == 0 && one.chain.is_empty());
        // Leaf plus chain header: MAX_CERTIFICATES in all pass, one more is too large.
        let mut chained = settings(Format::Base64Der);
        chained.chain_header = Some("x-chain".into());
        let chain = |n: usize| vec![":AAAA:"; n].join(",").into_bytes();
        let ok = extract(&chained, &[b"AAAA".to_vec()], &[chain(MAX_CERTIFICATES - 1)]).unwrap();
        assert_eq!(ok.chain.len(), MAX_CERTIFICATES - 1);
        assert_eq!(ok.inline_count, 0, "a separate chain header is not an inline list");
        let e = extract(&chained, &[b"AAAA".to_vec()], &[chain(MAX_CERTIFICATES)]).unwrap_err();
        assert_eq!(e, ExtractError::CertificatesForwarded { count: MAX_CERTIFICATES + 1, limit: MAX_CERTIFICATES });
        chained.max_certificates = 2;
        let e = extract(&chained, &[b"AAAA".to_vec()], &[chain(2)]).unwrap_err();
        assert_eq!(e, ExtractError::CertificatesForwarded { count: 3, limit: 2 });
    }

    #[test]
    fn hostile_bytes_are_malformed() {
        let s = settings(Format::Auto);
        for v in [&b"\xff\xfe"[..], b"MII\x00B", b"-----BEGIN CERTIFICATE-----", b":::", b"%zz", b"Cert=\"unterminated"]
        {
            let e = extract(&s, &[v.to_vec()], &[]).unwrap_err();
            assert_eq!(e.reason(), crate::Reason::CertificateMalformed, "{v:?}");
        }
        assert_eq!(extract(&s, &[b"\xff\xfe".to_vec()], &[]).unwrap_err(), ExtractError::NotUtf8);
    }

    /// The log text of every variant, as the free-text refusals wrote it before they were typed.
    #[test]
    fn display_is_the_log_text() {
        let h = || "x-cert".to_string();
        let cases: Vec<(ExtractError, &str)> = vec![
            (ExtractError::HeaderAbsent { header: h() }, "no `x-cert` header"),
            (ExtractError::NoCertificate { header: h() }, "the `x-cert` header carries no certificate"),
            (ExtractError::HeaderRepeated { header: h(), count: 2 }, "the `x-cert` header occurs 2 times"),
            (
                ExtractError::JsonXfccRepeated { header: h(), count: 3 },
                "the `x-cert` header occurs 3 times, with JSON XFCC",
            ),
            (
                ExtractError::TooLarge { header: HeaderRole::Certificate, bytes: 1025, limit: 1024 },
                "the certificate header is 1025 bytes; the limit is 1024",
            ),
            (
                ExtractError::TooLarge { header: HeaderRole::Chain, bytes: 9, limit: 8 },
                "the chain header is 9 bytes; the limit is 8",
            ),
            (
                ExtractError::CertificatesInHeader { count: 17, limit: 16 },
                "17 certificates in one header; the limit is 16",
            ),
            (
                ExtractError::CertificatesForwarded { count: 5, limit: 4 },
                "5 certificates forwarded; the limit (max_chain_certificates) is 4",
            ),
            (ExtractError::NotUtf8, "header value is not valid UTF-8"),
            (ExtractError::ControlCharacters, "header value contains control characters"),
            (ExtractError::XfccEmpty, "the XFCC header is empty"),
            (ExtractError::XfccNotJsonForm, "XFCC is not Envoy's JSON form (`[...]`)"),
        ];
        for (e, text) in cases {
            assert_eq!(e.to_string(), text);
            assert_eq!(e.public_detail(), e.reason().public_detail());
            let refusal = crate::Refusal::from(e.clone());
            assert_eq!((refusal.reason, refusal.detail.as_str()), (e.reason(), text));
        }
    }
}
