//! PEM certificates in every shape terminators produce: real line breaks, line breaks
//! turned into spaces (Apache), tab-continued lines (nginx's old `$ssl_client_cert`).

use super::base64_der::decode_base64;
use super::{Counted, ExtractError};

/// Decode every `CERTIFICATE` block, in order. Only white space may stand between blocks.
pub(super) fn decode_pem_certificates(text: &str) -> Result<Vec<Vec<u8>>, ExtractError> {
    decode_pem_blocks(text, "CERTIFICATE", super::MAX_CERTIFICATES)
}

/// Decode every block with this label (at most `limit` of them), in order. Only white
/// space may stand between blocks.
pub(crate) fn decode_pem_blocks(text: &str, label: &'static str, limit: usize) -> Result<Vec<Vec<u8>>, ExtractError> {
    let begin = format!("-----BEGIN {label}-----");
    let end_marker = format!("-----END {label}-----");
    let mut out = Vec::new();
    let mut rest = text;
    loop {
        let trimmed = rest.trim_start();
        if trimmed.is_empty() {
            break;
        }
        let Some(body_and_more) = trimmed.strip_prefix(begin.as_str()) else {
            return Err(ExtractError::PemBeginMissing { label });
        };
        let Some(end) = body_and_more.find(end_marker.as_str()) else {
            return Err(ExtractError::PemEndMissing { label });
        };
        let body = &body_and_more[..end];
        if body.contains("-----") {
            return Err(ExtractError::PemArmourInBody);
        }
        if out.len() >= limit {
            return Err(ExtractError::TooMany { what: Counted::PemBlocks, limit });
        }
        out.push(decode_base64(body)?);
        rest = &body_and_more[end + end_marker.len()..];
    }
    if out.is_empty() {
        return Err(ExtractError::NoPemBlock { label });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        let newline = "-----BEGIN CERTIFICATE-----\nAQID\nBAUG\n-----END CERTIFICATE-----\n";
        let spaces = newline.replace('\n', " ");
        let tabbed = newline.replace("\nB", "\n\tB").replace("\n-----END", "\n\t-----END");
        let crlf = newline.replace('\n', "\r\n");
        for v in [newline.to_string(), spaces, tabbed, crlf] {
            assert_eq!(decode_pem_certificates(&v).unwrap(), vec![vec![1, 2, 3, 4, 5, 6]], "{v:?}");
        }
        let two = format!("{newline}{newline}");
        assert_eq!(decode_pem_certificates(&two).unwrap().len(), 2);
    }

    #[test]
    fn refusals() {
        for bad in [
            "",
            "AQID",
            "-----BEGIN CERTIFICATE-----\nAQID\n",
            "junk -----BEGIN CERTIFICATE-----\nAQID\n-----END CERTIFICATE-----",
            "-----BEGIN CERTIFICATE-----\nAQID\n-----END CERTIFICATE----- trailing",
            "-----BEGIN PRIVATE KEY-----\nAQID\n-----END PRIVATE KEY-----",
            "-----BEGIN CERTIFICATE-----\n-----BEGIN CERTIFICATE-----\nAQID\n-----END CERTIFICATE-----",
        ] {
            assert!(decode_pem_certificates(bad).is_err(), "{bad:?}");
        }
        let label = "CERTIFICATE";
        let block = "-----BEGIN CERTIFICATE-----\nAQID\n-----END CERTIFICATE-----";
        for (bad, want) in [
            (String::new(), ExtractError::NoPemBlock { label }),
            ("AQID".into(), ExtractError::PemBeginMissing { label }),
            (format!("{block} trailing"), ExtractError::PemBeginMissing { label }),
            ("-----BEGIN CERTIFICATE-----\nAQID\n".into(), ExtractError::PemEndMissing { label }),
            (format!("-----BEGIN CERTIFICATE-----\n{block}"), ExtractError::PemArmourInBody),
            (
                block.replace("AQID", "A"),
                ExtractError::Base64(crate::extract::Base64Problem::InvalidLength { length: 1 }),
            ),
        ] {
            assert_eq!(decode_pem_certificates(&bad).unwrap_err(), want, "{bad:?}");
        }
        let three = [block; 3].join("\n");
        assert_eq!(decode_pem_blocks(&three, label, 3).unwrap().len(), 3);
        let e = decode_pem_blocks(&three, label, 2).unwrap_err();
        assert_eq!(e, ExtractError::TooMany { what: Counted::PemBlocks, limit: 2 });
        assert_eq!(e.reason(), crate::Reason::CertificateTooLarge);
    }

    #[test]
    fn display_is_the_log_text() {
        let label = "X509 CRL";
        for (e, text) in [
            (ExtractError::PemBeginMissing { label }, "expected `-----BEGIN X509 CRL-----`"),
            (ExtractError::PemEndMissing { label }, "PEM block has no `-----END X509 CRL-----`"),
            (ExtractError::PemArmourInBody, "PEM block contains another armour line"),
            (ExtractError::NoPemBlock { label }, "no `X509 CRL` PEM block"),
            (ExtractError::TooMany { what: Counted::PemBlocks, limit: 64 }, "more than 64 PEM blocks"),
        ] {
            assert_eq!(e.to_string(), text);
        }
    }
}
