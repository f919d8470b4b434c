//! Base64 of DER without armour, as App Service, ASP.NET, Caddy, HAProxy, Cloudflare and
//! Traefik (comma-separated chain, leaf first) send it.

use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine;

use super::percent::percent_decode;
use super::{Base64Problem, Counted, ExtractError};

const STANDARD: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);
const URL_SAFE: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Decode base64 (standard or URL-safe alphabet, padding optional), ignoring white space.
pub(crate) fn decode_base64(text: &str) -> Result<Vec<u8>, ExtractError> {
    let compact: String = text.chars().filter(|c| !matches!(c, ' ' | '\t' | '\r' | '\n')).collect();
    if compact.is_empty() {
        return Err(ExtractError::EmptyBase64);
    }
    let url_safe = compact.contains(['-', '_']) && !compact.contains(['+', '/']);
    let engine = if url_safe { &URL_SAFE } else { &STANDARD };
    engine.decode(compact.as_bytes()).map_err(|e| ExtractError::Base64(Base64Problem::from(e)))
}

/// Strip one pair of surrounding double quotes (HAProxy `%{+Q}`).
fn unquote(value: &str) -> &str {
    value.strip_prefix('"').and_then(|v| v.strip_suffix('"')).unwrap_or(value)
}

/// Decode a value holding one base64 DER certificate or a comma-separated list of them.
pub(super) fn decode_list(value: &str) -> Result<Vec<Vec<u8>>, ExtractError> {
    let value = unquote(value.trim());
    let mut out = Vec::new();
    for (i, piece) in value.split(',').enumerate() {
        let piece = unquote(piece.trim());
        if piece.is_empty() {
            return Err(ExtractError::EmptyListEntry { position: i + 1 });
        }
        if out.len() >= super::MAX_CERTIFICATES {
            return Err(ExtractError::TooMany { what: Counted::CertificatesInHeader, limit: super::MAX_CERTIFICATES });
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
        assert_eq!(decode_list("AQID,").unwrap_err(), ExtractError::EmptyListEntry { position: 2 });
        assert_eq!(decode_list("A").unwrap_err(), ExtractError::Base64(Base64Problem::InvalidLength { length: 1 }));
        assert_eq!(decode_list("AQ!D").unwrap_err(), ExtractError::Base64(Base64Problem::InvalidSymbol { offset: 2 }));
        assert_eq!(decode_list("AQ=D").unwrap_err(), ExtractError::Base64(Base64Problem::InvalidSymbol { offset: 2 }));
        assert_eq!(
            decode_list("AR").unwrap_err(),
            ExtractError::Base64(Base64Problem::InvalidLastSymbol { offset: 1 })
        );
        assert_eq!(decode_base64(" \t\r\n").unwrap_err(), ExtractError::EmptyBase64);
        assert_eq!(decode_list("%zz").unwrap_err(), ExtractError::PercentEscape { offset: 0 });
        let many = vec!["AQID"; 17].join(",");
        let e = decode_list(&many).unwrap_err();
        assert_eq!(e, ExtractError::TooMany { what: Counted::CertificatesInHeader, limit: 16 });
        assert_eq!(e.reason(), crate::Reason::CertificateTooLarge);
    }

    /// The log text, as the free-text refusals wrote it; the base64 crate's wording, less the
    /// offending byte it also prints (`Invalid symbol 33, offset 2.`).
    #[test]
    fn display_is_the_log_text() {
        for (e, text) in [
            (ExtractError::EmptyBase64, "empty base64 value"),
            (
                ExtractError::Base64(Base64Problem::InvalidSymbol { offset: 2 }),
                "invalid base64: Invalid symbol, offset 2.",
            ),
            (
                ExtractError::Base64(Base64Problem::InvalidLength { length: 1 }),
                "invalid base64: Invalid input length: 1",
            ),
            (
                ExtractError::Base64(Base64Problem::InvalidLastSymbol { offset: 1 }),
                "invalid base64: Invalid last symbol, offset 1.",
            ),
            (ExtractError::Base64(Base64Problem::InvalidPadding), "invalid base64: Invalid padding"),
            (ExtractError::EmptyListEntry { position: 2 }, "empty certificate at position 2"),
            (
                ExtractError::TooMany { what: Counted::CertificatesInHeader, limit: 16 },
                "more than 16 certificates in one header",
            ),
        ] {
            assert_eq!(e.to_string(), text);
        }
        // What the base64 crate says, byte aside.
        let e = STANDARD.decode("AQ!D").unwrap_err();
        assert_eq!(e.to_string(), "Invalid symbol 33, offset 2.");
        assert_eq!(Base64Problem::from(e).to_string(), "Invalid symbol, offset 2.");
        let e = STANDARD.decode("A").unwrap_err();
        assert_eq!(Base64Problem::from(e.clone()).to_string(), e.to_string());
    }
}
