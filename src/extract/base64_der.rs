//! Base64 of DER without armour, as App Service, ASP.NET, Caddy, HAProxy, Cloudflare and
//! Traefik (comma-separated chain, leaf first) send it.

use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine;

use super::percent::percent_decode;
use crate::reason::Refusal;

const STANDARD: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);
const URL_SAFE: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Decode base64 (standard or URL-safe alphabet, padding optional), ignoring white space.
pub fn decode_base64(text: &str) -> Result<Vec<u8>, Refusal> {
    let compact: String = text.chars().filter(|c| !matches!(c, ' ' | '\t' | '\r' | '\n')).collect();
    if compact.is_empty() {
        return Err(Refusal::malformed("empty base64 value"));
    }
    let url_safe = compact.contains(['-', '_']) && !compact.contains(['+', '/']);
    let engine = if url_safe { &URL_SAFE } else { &STANDARD };
    engine.decode(compact.as_bytes()).map_err(|e| Refusal::malformed(format!("invalid base64: {e}")))
}

/// Strip one pair of surrounding double quotes (HAProxy `%{+Q}`).
fn unquote(value: &str) -> &str {
    value.strip_prefix('"').and_then(|v| v.strip_suffix('"')).unwrap_or(value)
}

/// Decode a value holding one base64 DER certificate or a comma-separated list of them.
pub fn decode_list(value: &str) -> Result<Vec<Vec<u8>>, Refusal> {
    let value = unquote(value.trim());
    let mut out = Vec::new();
    for (i, piece) in value.split(',').enumerate() {
        let piece = unquote(piece.trim());
        if piece.is_empty() {
            return Err(Refusal::malformed(format!("empty certificate at position {}", i + 1)));
        }
        if out.len() >= super::MAX_CERTIFICATES {
            return Err(Refusal::too_large(format!(
                "more than {} certificates in one header",
                super::MAX_CERTIFICATES
            )));
        }
        // Traefik 2.8 to 2.9.1 percent-escaped the base64.
        let decoded = if piece.contains('%') { decode_base64(&percent_decode(piece)?)? } else { decode_base64(piece)? };
        out.push(decoded);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variants() {
        assert_eq!(decode_list("AQID").unwrap(), vec![vec![1, 2, 3]]);
        assert_eq!(decode_list("\"AQID\"").unwrap(), vec![vec![1, 2, 3]]);
        assert_eq!(decode_list("AQI=").unwrap(), vec![vec![1, 2]]);
        assert_eq!(decode_list("AQI").unwrap(), vec![vec![1, 2]]);
        assert_eq!(decode_list("AQID,BAUG").unwrap(), vec![vec![1, 2, 3], vec![4, 5, 6]]);
        assert_eq!(decode_list("+/8=").unwrap(), vec![vec![0xfb, 0xff]]);
        assert_eq!(decode_list("-_8=").unwrap(), vec![vec![0xfb, 0xff]]);
        assert_eq!(decode_list("%2B%2F8%3D").unwrap(), vec![vec![0xfb, 0xff]]);
        assert!(decode_list("AQID,").is_err());
        assert!(decode_list("A").is_err());
        assert!(decode_list("AQ!D").is_err());
        let many = vec!["AQID"; 17].join(",");
        assert_eq!(decode_list(&many).unwrap_err().reason, crate::Reason::CertificateTooLarge);
    }
}
