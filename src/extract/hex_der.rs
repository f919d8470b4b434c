//! Hexadecimal DER: what the ASP.NET Core sample client sends in `X-ARR-ClientCert`
//! (`X509Certificate.GetRawCertDataString()`: upper-case hex, no separators, no prefix),
//! what `Convert.ToHexString` / `ToHexStringLower` write, and HAProxy's `ssl_c_der,hex`
//! (upper case; `%{+Q}` adds double quotes). Either case is read, as .NET's
//! `Convert.FromHexString` does; nothing else is: no separators, no `0x`, no white space
//! inside the value.

use super::percent::hex_value;
use super::ExtractError;

/// Decode one certificate written as hex digits (optionally inside one pair of double quotes).
pub(super) fn decode_hex_der(value: &str) -> Result<Vec<u8>, ExtractError> {
    let value = value.trim();
    let value = value.strip_prefix('"').and_then(|v| v.strip_suffix('"')).unwrap_or(value);
    let bytes = value.as_bytes();
    if bytes.is_empty() {
        return Err(ExtractError::EmptyHex);
    }
    let mut out = Vec::with_capacity(bytes.len() / 2);
    for (i, pair) in bytes.chunks(2).enumerate() {
        let digit = |k: usize| pair.get(k).copied().and_then(hex_value);
        match (digit(0), digit(1)) {
            (Some(hi), Some(lo)) => out.push(hi << 4 | lo),
            _ if pair.len() == 1 && digit(0).is_some() => return Err(ExtractError::OddHexDigits),
            _ => return Err(ExtractError::NotHex { position: 2 * i + 1 }),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_cases_and_quotes() {
        assert_eq!(decode_hex_der("3082ABcd").unwrap(), vec![0x30, 0x82, 0xab, 0xcd]);
        assert_eq!(decode_hex_der("\"3082abcd\"").unwrap(), vec![0x30, 0x82, 0xab, 0xcd]);
        assert_eq!(decode_hex_der(" 30 ").unwrap(), vec![0x30]);
        for bad in ["", "\"\"", "308", "30 82", "30-82", "30:82", "0x3082", "3082g0", "３０", "\"3082"] {
            assert_eq!(decode_hex_der(bad).unwrap_err().reason(), crate::Reason::CertificateMalformed, "{bad:?}");
        }
        assert_eq!(decode_hex_der("\"\"").unwrap_err(), ExtractError::EmptyHex);
        assert_eq!(decode_hex_der("308").unwrap_err(), ExtractError::OddHexDigits);
        assert_eq!(decode_hex_der("3082g0").unwrap_err(), ExtractError::NotHex { position: 5 });
        assert_eq!(decode_hex_der("30 82").unwrap_err(), ExtractError::NotHex { position: 3 });
        assert_eq!(decode_hex_der("30g").unwrap_err(), ExtractError::NotHex { position: 3 }, "odd, but not a digit");
    }

    #[test]
    fn display_is_the_log_text() {
        for (e, text) in [
            (ExtractError::EmptyHex, "empty hex value"),
            (ExtractError::OddHexDigits, "hex value has an odd number of digits"),
            (ExtractError::NotHex { position: 5 }, "invalid hex digit near position 5"),
        ] {
            assert_eq!((e.to_string().as_str(), e.reason()), (text, crate::Reason::CertificateMalformed));
        }
    }

    /// Cross-check against the `hex` crate, an independent decoder.
    #[test]
    fn agrees_with_the_hex_crate() {
        let bytes: Vec<u8> = (0..=255u8).collect();
        for text in [hex::encode(&bytes), hex::encode_upper(&bytes)] {
            assert_eq!(decode_hex_der(&text).unwrap(), hex::decode(&text).unwrap());
        }
    }
}
