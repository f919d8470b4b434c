//! Strict percent-decoding, path style: `+` is data (AWS ALB leaves `+ = /` literal),
//! never a space. A `%` not followed by two hex digits is malformed, not passed through.

use super::ExtractError;

/// The value of one ASCII hex digit.
pub(crate) fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Decode `%XX` escapes once. The result must be UTF-8 (it is PEM text).
pub(crate) fn percent_decode(value: &str) -> Result<String, ExtractError> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hi = bytes.get(i + 1).copied().and_then(hex_value);
            let lo = bytes.get(i + 2).copied().and_then(hex_value);
            match (hi, lo) {
                (Some(hi), Some(lo)) => out.push(hi << 4 | lo),
                _ => return Err(ExtractError::PercentEscape { offset: i }),
            }
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| ExtractError::PercentNotUtf8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_style() {
        assert_eq!(percent_decode("a%2Bb+c%3d%0A").unwrap(), "a+b+c=\n");
        assert_eq!(percent_decode("%252D").unwrap(), "%2D", "decodes exactly once");
        assert_eq!(percent_decode("%").unwrap_err(), ExtractError::PercentEscape { offset: 0 });
        assert_eq!(percent_decode("ab%2").unwrap_err(), ExtractError::PercentEscape { offset: 2 });
        assert_eq!(percent_decode("%41%G0").unwrap_err(), ExtractError::PercentEscape { offset: 3 });
        assert_eq!(percent_decode("%FF").unwrap_err(), ExtractError::PercentNotUtf8, "not UTF-8");
    }

    #[test]
    fn display_is_the_log_text() {
        assert_eq!(ExtractError::PercentEscape { offset: 3 }.to_string(), "invalid percent-escape at byte 3");
        assert_eq!(ExtractError::PercentNotUtf8.to_string(), "percent-decoded value is not UTF-8");
        assert_eq!(ExtractError::PercentNotUtf8.reason(), crate::Reason::CertificateMalformed);
    }
}
