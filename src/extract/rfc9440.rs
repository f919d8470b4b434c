//! RFC 9440 `Client-Cert` / `Client-Cert-Chain`: RFC 8941 byte sequences (`:base64:`),
//! also used by Akamai and Google Cloud.

use super::base64_der::decode_base64;
use crate::reason::Refusal;

fn is_base64_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '+' || c == '/' || c == '='
}

/// Decode one Item: a byte sequence, optionally followed by `;parameters` (ignored).
pub fn decode_item(value: &str) -> Result<Vec<u8>, Refusal> {
    let value = value.trim();
    let Some(inner) = value.strip_prefix(':') else {
        return Err(Refusal::malformed("RFC 9440 value must be a byte sequence `:base64:`"));
    };
    let Some(end) = inner.find(':') else {
        return Err(Refusal::malformed("RFC 9440 byte sequence is not closed"));
    };
    let (b64, rest) = (&inner[..end], &inner[end + 1..]);
    if !b64.chars().all(is_base64_char) {
        return Err(Refusal::malformed("RFC 9440 byte sequence contains non-base64 characters"));
    }
    let rest = rest.trim_end();
    if !rest.is_empty() && !rest.starts_with(';') {
        return Err(Refusal::malformed("unexpected text after the RFC 9440 byte sequence"));
    }
    decode_base64(b64)
}

/// Decode a List of byte sequences (`Client-Cert-Chain`).
pub fn decode_list(value: &str) -> Result<Vec<Vec<u8>>, Refusal> {
    let mut out = Vec::new();
    for member in value.split(',') {
        if out.len() >= super::MAX_CERTIFICATES {
            return Err(Refusal::too_large(format!(
                "more than {} certificates in the chain header",
                super::MAX_CERTIFICATES
            )));
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
        for bad in ["AQID", ":AQID", ":AQ ID:", ":AQID:x", "::", ":-_8:"] {
            assert!(decode_item(bad).is_err(), "{bad:?}");
        }
        assert!(decode_list(":AQID:,").is_err());
    }
}
