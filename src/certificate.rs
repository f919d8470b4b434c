//! Certificate decoding: the identity fields certgate reports and checks, from DER.

use sha1::Sha1;
use sha2::{Digest, Sha256};
use x509_cert::der::Decode;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::SubjectAltName;
use x509_cert::Certificate;

use crate::reason::Refusal;

/// A decoded client certificate: what the policy looks at and what `whoami` reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientCertificate {
    pub sha1: [u8; 20],
    pub sha256: [u8; 32],
    /// RFC 4514 string form.
    pub subject: String,
    pub issuer: String,
    /// Lowercase hex of the serial number's big-endian bytes.
    pub serial_hex: String,
    /// Seconds since the Unix epoch.
    pub not_before: i64,
    pub not_after: i64,
    pub dns_names: Vec<String>,
    pub uris: Vec<String>,
    pub emails: Vec<String>,
}

fn unix_seconds(t: &x509_cert::time::Time) -> i64 {
    i64::try_from(t.to_unix_duration().as_secs()).unwrap_or(i64::MAX)
}

impl ClientCertificate {
    /// Decode and summarise a DER certificate. Trailing bytes, bad encodings and
    /// undecodable subjectAltName extensions are refused as malformed.
    pub fn from_der(der: &[u8]) -> Result<Self, Refusal> {
        let cert = Certificate::from_der(der)
            .map_err(|e| Refusal::malformed(format!("not a DER X.509 certificate: {e}")))?;
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

        Ok(ClientCertificate {
            sha1: Sha1::digest(der).into(),
            sha256: Sha256::digest(der).into(),
            subject: tbs.subject().to_string(),
            issuer: tbs.issuer().to_string(),
            serial_hex: hex::encode(tbs.serial_number().as_bytes()),
            not_before: unix_seconds(&validity.not_before),
            not_after: unix_seconds(&validity.not_after),
            dns_names,
            uris,
            emails,
        })
    }

    pub fn sha1_hex(&self) -> String {
        hex::encode(self.sha1)
    }

    pub fn sha256_hex(&self) -> String {
        hex::encode(self.sha256)
    }
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
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
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
    fn garbage_is_malformed() {
        for der in [
            &b""[..],
            b"\x30\x03\x02\x01\x01",
            b"\x30\x82\xff\xff",
            &[0x30; 64],
        ] {
            assert_eq!(
                ClientCertificate::from_der(der).unwrap_err().reason,
                crate::Reason::CertificateMalformed
            );
        }
    }
}
