//! Certificate decoding: the identity fields certgate reports and checks, from DER.

use sha1::Sha1;
use sha2::{Digest, Sha256};
use x509_cert::der::asn1::{Ia5StringRef, PrintableStringRef, Utf8StringRef};
use x509_cert::der::{Decode, Encode};
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{KeyUsage, KeyUsages, SubjectAltName};
use x509_cert::Certificate;

use crate::reason::Refusal;

/// The commonName attribute.
const COMMON_NAME: x509_cert::der::oid::ObjectIdentifier = x509_cert::der::oid::ObjectIdentifier::new_unwrap("2.5.4.3");

/// A decoded client certificate: what the policy looks at and what `whoami` reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientCertificate {
    pub sha1: [u8; 20],
    pub sha256: [u8; 32],
    /// SHA-256 of the DER SubjectPublicKeyInfo (what key pins match).
    pub spki_sha256: [u8; 32],
    /// RFC 4514 string form.
    pub subject: String,
    pub issuer: String,
    /// The subject's commonName values, decoded.
    pub common_names: Vec<String>,
    /// Big-endian serial number bytes, leading zeros stripped.
    pub serial: Vec<u8>,
    /// Lowercase hex of `serial`.
    pub serial_hex: String,
    /// Seconds since the Unix epoch.
    pub not_before: i64,
    pub not_after: i64,
    pub dns_names: Vec<String>,
    pub uris: Vec<String>,
    pub emails: Vec<String>,
    /// `Some(allowed)` when a keyUsage extension is present: whether it allows
    /// digitalSignature (what a TLS client certificate signs with).
    pub digital_signature_allowed: Option<bool>,
}

fn unix_seconds(t: &x509_cert::time::Time) -> i64 {
    i64::try_from(t.to_unix_duration().as_secs()).unwrap_or(i64::MAX)
}

fn attribute_text(value: &x509_cert::der::Any) -> Option<String> {
    value
        .decode_as::<Utf8StringRef<'_>>()
        .map(|s| s.as_str().to_string())
        .or_else(|_| value.decode_as::<PrintableStringRef<'_>>().map(|s| s.as_str().to_string()))
        .or_else(|_| value.decode_as::<Ia5StringRef<'_>>().map(|s| s.as_str().to_string()))
        .ok()
}

impl ClientCertificate {
    /// Decode and summarise a DER certificate. Trailing bytes, bad encodings and
    /// undecodable subjectAltName or keyUsage extensions are refused as malformed.
    pub fn from_der(der: &[u8]) -> Result<Self, Refusal> {
        let cert =
            Certificate::from_der(der).map_err(|e| Refusal::malformed(format!("not a DER X.509 certificate: {e}")))?;
        let tbs = cert.tbs_certificate();
        let validity = tbs.validity();

        let mut dns_names = Vec::new();
        let mut uris = Vec::new();
        let mut emails = Vec::new();
        let san = tbs
            .get_extension::<SubjectAltName>()
            .map_err(|e| Refusal::malformed(format!("invalid subjectAltName extension: {e}")))?;
        if let Some((_, SubjectAltName(names))) = san {
            for name in names {
                match name {
                    GeneralName::DnsName(s) => dns_names.push(s.to_string()),
                    GeneralName::UniformResourceIdentifier(s) => uris.push(s.to_string()),
                    GeneralName::Rfc822Name(s) => emails.push(s.to_string()),
                    _ => {}
                }
            }
        }
        let key_usage = tbs
            .get_extension::<KeyUsage>()
            .map_err(|e| Refusal::malformed(format!("invalid keyUsage extension: {e}")))?;
        let digital_signature_allowed =
            key_usage.map(|(_, KeyUsage(flags))| flags.contains(KeyUsages::DigitalSignature));
        let common_names = tbs
            .subject()
            .iter()
            .filter(|atv| atv.oid == COMMON_NAME)
            .filter_map(|atv| attribute_text(&atv.value))
            .collect();
        let spki = tbs
            .subject_public_key_info()
            .to_der()
            .map_err(|e| Refusal::malformed(format!("invalid public key: {e}")))?;
        let serial = tbs.serial_number().as_bytes().to_vec();

        Ok(ClientCertificate {
            sha1: Sha1::digest(der).into(),
            sha256: Sha256::digest(der).into(),
            spki_sha256: Sha256::digest(&spki).into(),
            subject: tbs.subject().to_string(),
            issuer: tbs.issuer().to_string(),
            common_names,
            serial_hex: hex::encode(&serial),
            serial,
            not_before: unix_seconds(&validity.not_before),
            not_after: unix_seconds(&validity.not_after),
            dns_names,
            uris,
            emails,
            digital_signature_allowed,
        })
    }

    pub fn sha1_hex(&self) -> String {
        hex::encode(self.sha1)
    }

    pub fn sha256_hex(&self) -> String {
        hex::encode(self.sha256)
    }
}

/// Parse an RFC 3339 UTC time (`2026-12-31T00:00:00Z`, fractional seconds and numeric
/// offsets accepted) into Unix seconds.
pub fn parse_rfc3339(text: &str) -> Option<i64> {
    let t = text.trim();
    let b = t.as_bytes();
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't' | b' ')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let s = t.get(r)?;
        s.bytes().all(|c| c.is_ascii_digit()).then(|| s.parse().ok()).flatten()
    };
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut rest = &t[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        rest = &frac[digits..];
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ if rest.len() == 6
            && rest.is_ascii()
            && (rest.starts_with('+') || rest.starts_with('-'))
            && &rest[3..4] == ":" =>
        {
            let h: i64 = rest[1..3].parse().ok()?;
            let m: i64 = rest[4..6].parse().ok()?;
            let sign = if rest.starts_with('-') { -1 } else { 1 };
            sign * (h * 3600 + m * 60)
        }
        _ => return None,
    };
    Some(days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second.min(59) - offset)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// RFC 3339 (UTC, seconds) for a Unix time; out-of-range values are clamped to the
/// range X.509 can express.
pub fn rfc3339(unix: i64) -> String {
    let secs = unix.clamp(-62_135_596_800, 253_402_300_799); // 0001-01-01 ..= 9999-12-31T23:59:59
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil-from-days (proleptic Gregorian), after Howard Hinnant's public-domain algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_known_points() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_795_651_199), "2026-11-25T23:59:59Z");
        assert_eq!(rfc3339(253_402_300_799), "9999-12-31T23:59:59Z");
        assert_eq!(rfc3339(i64::MAX), "9999-12-31T23:59:59Z");
        assert_eq!(rfc3339(-86_400), "1969-12-31T00:00:00Z");
    }

    #[test]
    fn rfc3339_round_trip_and_refusals() {
        for t in [0, 951_782_400, 1_795_651_199, 253_402_300_799, -86_400] {
            assert_eq!(parse_rfc3339(&rfc3339(t)), Some(t));
        }
        assert_eq!(parse_rfc3339("2026-11-25T23:59:59.123Z"), Some(1_795_651_199));
        assert_eq!(parse_rfc3339("2026-11-26T01:59:59+02:00"), Some(1_795_651_199));
        for bad in [
            "",
            "2026-11-25",
            "2026-13-01T00:00:00Z",
            "2026-02-30T00:00:00Z",
            "2026-11-25T24:00:00Z",
            "2026-11-25T23:59:59",
            "2026-11-25T23:59:59.Z",
            "２０２６-11-25T23:59:59Z",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
    }

    #[test]
    fn garbage_is_malformed() {
        for der in [&b""[..], b"\x30\x03\x02\x01\x01", b"\x30\x82\xff\xff", &[0x30; 64]] {
            assert_eq!(ClientCertificate::from_der(der).unwrap_err().reason, crate::Reason::CertificateMalformed);
        }
    }
}
