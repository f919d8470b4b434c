//! RFC 9440 `Client-Cert` / `Client-Cert-Chain`: RFC 8941 byte sequences (`:base64:`),
//! also used by Akamai and Google Cloud.

use super::base64_der::decode_base64;
use super::{Counted, ExtractError};

fn is_base64_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '+' || c == '/' || c == '='
}

/// Decode one Item: a byte sequence, optionally followed by `;parameters` (ignored).
pub(super) fn decode_item(value: &str) -> Result<Vec<u8>, ExtractError> {
    let value = value.trim();
    let Some(inner) = value.strip_prefix(':') else {
        return Err(ExtractError::Rfc9440NotByteSequence);
    };
    let Some(end) = inner.find(':') else {
        return Err(ExtractError::Rfc9440Unclosed);
    };
    let (b64, rest) = (&inner[..end], &inner[end + 1..]);
    if !b64.chars().all(is_base64_char) {
        return Err(ExtractError::Rfc9440NotBase64);
    }
    let rest = rest.trim_end();
    if !rest.is_empty() && !rest.starts_with(';') {
        return Err(ExtractError::Rfc9440TrailingText);
    }
    decode_base64(b64)
}

/// Decode a List of byte sequences (`Client-Cert-Chain`).
pub(super) fn decode_list(value: &str) -> Result<Vec<Vec<u8>>, ExtractError> {
    let mut out = Vec::new();
    for member in value.split(',') {
        if out.len() >= super::MAX_CERTIFICATES {
            return Err(ExtractError::TooMany {
                what: Counted::CertificatesInChainHeader,
                limit: super::MAX_CERTIFICATES,
            });
        }
        out.push(decode_item(member)?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_and_lists() {
        assert_eq!(decode_item(":AQID:").unwrap(), vec![1, 2, 3]);
        assert_eq!(decode_item(" :AQID:;a=1 ").unwrap(), vec![1, 2, 3]);
        assert_eq!(decode_list(":AQID:, :BAUG:").unwrap(), vec![vec![1, 2, 3], vec![4, 5, 6]]);
        for (bad, want) in [
            ("AQID", ExtractError::Rfc9440NotByteSequence),
            (":AQID", ExtractError::Rfc9440Unclosed),
            (":AQ ID:", ExtractError::Rfc9440NotBase64),
            (":-_8:", ExtractError::Rfc9440NotBase64),
            (":AQID:x", ExtractError::Rfc9440TrailingText),
            ("::", ExtractError::EmptyBase64),
        ] {
            assert_eq!(decode_item(bad).unwrap_err(), want, "{bad:?}");
        }
        assert_eq!(decode_list(":AQID:,").unwrap_err(), ExtractError::Rfc9440NotByteSequence);
        let seventeen = vec![":AQID:"; 17].join(",");
        let e = decode_list(&seventeen).unwrap_err();
        assert_eq!(e, ExtractError::TooMany { what: Counted::CertificatesInChainHeader, limit: 16 });
    }

    #[test]
    fn display_is_the_log_text() {
        for (e, text) in [
            (ExtractError::Rfc9440NotByteSequence, "RFC 9440 value must be a byte sequence `:base64:`"),
            (ExtractError::Rfc9440Unclosed, "RFC 9440 byte sequence is not closed"),
            (ExtractError::Rfc9440NotBase64, "RFC 9440 byte sequence contains non-base64 characters"),
            (ExtractError::Rfc9440TrailingText, "unexpected text after the RFC 9440 byte sequence"),
            (
                ExtractError::TooMany { what: Counted::CertificatesInChainHeader, limit: 16 },
                "more than 16 certificates in the chain header",
            ),
        ] {
            assert_eq!(e.to_string(), text);
        }
    }
}
