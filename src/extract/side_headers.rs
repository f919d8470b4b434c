//! What a terminator says about the certificate besides the certificate: that it dropped it
//! as too large (Cloudflare's `cert_rfc9440_too_large`, Google Cloud's
//! `client_cert_error`), and its digest (CloudFront `-Sha256`, Cloudflare
//! `Cf-Client-Cert-Sha256`, Google Cloud `client_cert_sha256_fingerprint`).

use sha2::{Digest, Sha256};

use super::base64_der::decode_base64;
use super::percent::hex_value;
use super::ExtractError;

/// The header, and the values (any comma-separated token, case-insensitive) that mean the
/// terminator left the certificate out because it was too large.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TooLargeFlag {
    /// Lowercase header name.
    pub header: String,
    pub values: Vec<String>,
}

impl TooLargeFlag {
    /// Refuse with `certificate_too_large` when any line carries a flagged value. A platform
    /// that drops a large certificate sends an empty certificate header, which must not read
    /// as "no certificate": a client deserves the real reason, and the operator a log line
    /// that says which limit was hit.
    pub fn check(&self, lines: &[Vec<u8>]) -> Result<(), ExtractError> {
        for line in lines {
            let text = String::from_utf8_lossy(line);
            // The error names the configured value that matched, not the request's spelling of it.
            if let Some(value) =
                text.split(',').map(str::trim).find_map(|t| self.values.iter().find(|v| v.eq_ignore_ascii_case(t)))
            {
                let value = value.chars().take(80).collect();
                return Err(ExtractError::FlaggedTooLarge { header: self.header.clone(), value });
            }
        }
        Ok(())
    }
}

/// A SHA-256 digest as terminators write it: 64 hex digits in either case, with or without
/// `:` between pairs (CloudFront, Cloudflare), or base64 of the 32 bytes (Google Cloud).
pub(super) fn parse_sha256(text: &str) -> Option<[u8; 32]> {
    let text = text.trim();
    let compact: Vec<u8> = text.bytes().filter(|b| *b != b':').collect();
    let bytes = if compact.len() == 64 && compact.iter().all(|b| hex_value(*b).is_some()) {
        hex::decode(&compact).ok()?
    } else if text.contains(':') {
        return None;
    } else {
        decode_base64(text).ok()?
    };
    bytes.try_into().ok()
}

/// The digest header must be there once and be the SHA-256 of the leaf: two statements
/// about one certificate that disagree are `certificate_ambiguous`.
pub(crate) fn check_digest(header: &str, lines: &[Vec<u8>], leaf: &[u8]) -> Result<(), ExtractError> {
    let [line] = lines else {
        let header = header.to_string();
        return Err(if lines.is_empty() {
            ExtractError::DigestAbsent { header }
        } else {
            ExtractError::DigestRepeated { header, count: lines.len() }
        });
    };
    let text = std::str::from_utf8(line).unwrap_or("");
    let Some(digest) = parse_sha256(text) else {
        return Err(ExtractError::DigestUnreadable { header: header.to_string() });
    };
    if digest[..] != Sha256::digest(leaf)[..] {
        return Err(ExtractError::DigestMismatch { header: header.to_string() });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Reason;
    use base64::Engine;

    #[test]
    fn too_large_tokens() {
        let flag = TooLargeFlag { header: "x-error".into(), values: vec!["true".into(), "leaf_too_big".into()] };
        for line in ["true", "TRUE", " true ", "other, leaf_too_big", "leaf_too_big,x"] {
            assert_eq!(
                flag.check(&[line.as_bytes().to_vec()]).unwrap_err().reason(),
                Reason::CertificateTooLarge,
                "{line}"
            );
        }
        for line in ["false", "", "truex", "leaf_too_big_not", "not true"] {
            assert!(flag.check(&[line.as_bytes().to_vec()]).is_ok(), "{line}");
        }
        assert!(flag.check(&[]).is_ok(), "absent means not flagged");
        assert!(flag.check(&[b"false".to_vec(), b"true".to_vec()]).is_err(), "any line");
        // The error names the configured value, never the request's text.
        let e = flag.check(&[b"x, LEAF_too_BIG".to_vec()]).unwrap_err();
        assert_eq!(e, ExtractError::FlaggedTooLarge { header: "x-error".into(), value: "leaf_too_big".into() });
    }

    #[test]
    fn display_is_the_log_text() {
        let header = || "x-sha".to_string();
        for (e, text) in [
            (
                ExtractError::FlaggedTooLarge { header: "x-error".into(), value: "true".into() },
                "the terminator left the certificate out as too large (`x-error`: `true`)",
            ),
            (ExtractError::DigestAbsent { header: header() }, "the terminator sent no `x-sha` digest"),
            (ExtractError::DigestRepeated { header: header(), count: 2 }, "the `x-sha` digest occurs 2 times"),
            (
                ExtractError::DigestUnreadable { header: header() },
                "the `x-sha` digest is not a SHA-256 in hex or base64",
            ),
            (
                ExtractError::DigestMismatch { header: header() },
                "the `x-sha` digest is not the SHA-256 of the forwarded certificate",
            ),
        ] {
            assert_eq!(e.to_string(), text);
        }
    }

    #[test]
    fn digests_in_every_spelling() {
        let leaf = b"certificate bytes";
        let d = Sha256::digest(leaf);
        let hex_lower = hex::encode(d);
        let colons = d.iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(":");
        let b64 = base64::engine::general_purpose::STANDARD.encode(d);
        for v in [hex_lower.clone(), hex_lower.to_uppercase(), colons, b64.clone(), b64.trim_end_matches('=').into()] {
            assert!(check_digest("x", &[v.clone().into_bytes()], leaf).is_ok(), "{v}");
        }
        let other = hex::encode(Sha256::digest(b"other"));
        for v in [other, hex_lower[..62].to_string(), format!("{hex_lower}00"), "zz".repeat(32), String::new()] {
            assert_eq!(
                check_digest("x", &[v.clone().into_bytes()], leaf).unwrap_err().reason(),
                Reason::CertificateAmbiguous,
                "{v}"
            );
        }
        let x = || "x".to_string();
        let e = check_digest("x", &[hex::encode(Sha256::digest(b"other")).into_bytes()], leaf).unwrap_err();
        assert_eq!(e, ExtractError::DigestMismatch { header: x() });
        assert_eq!(
            check_digest("x", &[b"zz".to_vec()], leaf).unwrap_err(),
            ExtractError::DigestUnreadable { header: x() }
        );
        // SHA-1 (20 bytes) is not accepted as a SHA-256 digest.
        let sha1 = base64::engine::general_purpose::STANDARD.encode([0u8; 20]);
        assert_eq!(
            check_digest("x", &[sha1.into_bytes()], leaf).unwrap_err(),
            ExtractError::DigestUnreadable { header: x() }
        );
        assert_eq!(check_digest("x", &[], leaf).unwrap_err(), ExtractError::DigestAbsent { header: x() });
        let twice = [hex_lower.clone().into_bytes(), hex_lower.into_bytes()];
        assert_eq!(
            check_digest("x", &twice, leaf).unwrap_err(),
            ExtractError::DigestRepeated { header: x(), count: 2 }
        );
    }
}
