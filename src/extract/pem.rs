//! PEM certificates in every shape terminators produce: real line breaks, line breaks
//! turned into spaces (Apache), tab-continued lines (nginx's old `$ssl_client_cert`).

use super::base64_der::decode_base64;
use crate::reason::Refusal;

/// Decode every `CERTIFICATE` block, in order. Only white space may stand between blocks.
pub fn decode_pem_certificates(text: &str) -> Result<Vec<Vec<u8>>, Refusal> {
    decode_pem_blocks(text, "CERTIFICATE", super::MAX_CERTIFICATES)
}

/// Decode every block with this label (at most `limit` of them), in order. Only white
/// space may stand between blocks.
pub fn decode_pem_blocks(text: &str, label: &str, limit: usize) -> Result<Vec<Vec<u8>>, Refusal> {
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
            return Err(Refusal::malformed(format!("expected `{begin}`")));
        };
        let Some(end) = body_and_more.find(end_marker.as_str()) else {
            return Err(Refusal::malformed(format!("PEM block has no `{end_marker}`")));
        };
        let body = &body_and_more[..end];
        if body.contains("-----") {
            return Err(Refusal::malformed("PEM block contains another armour line"));
        }
        if out.len() >= limit {
            return Err(Refusal::too_large(format!("more than {limit} PEM blocks")));
        }
        out.push(decode_base64(body)?);
        rest = &body_and_more[end + end_marker.len()..];
    }
    if out.is_empty() {
        return Err(Refusal::malformed(format!("no `{label}` PEM block")));
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
    }
}
