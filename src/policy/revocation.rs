//! Revocation that works offline at the edge: a denylist of serials and thumbprints, and
//! CRLs supplied in configuration, signature-checked against their issuer when read, with
//! a freshness limit (nextUpdate) and an explicit fail-open / fail-closed choice.

use x509_cert::crl::CertificateList;
use x509_cert::der::{Decode, Encode};

use crate::certificate::{name_text, rfc3339, ClientCertificate};
use crate::thumbprint::{self, split_entries, Thumbprint};
use crate::trust::{verify_signed, CaCertificate};

/// Denied serial numbers and thumbprints.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Denylist {
    serials: Vec<Vec<u8>>,
    thumbprints: Vec<Thumbprint>,
}

fn parse_serial(raw: &str) -> Result<Vec<u8>, &'static str> {
    let digits: String =
        raw.chars().filter(|c| *c != ':' && !c.is_whitespace() && !thumbprint::is_invisible(*c)).collect();
    if digits.is_empty() || digits.len() > 42 || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err("a serial is 1 to 21 bytes of hex");
    }
    let padded = if digits.len() % 2 == 1 { format!("0{digits}") } else { digits };
    let bytes = hex::decode(padded).map_err(|_| "not hexadecimal")?;
    let first = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len().saturating_sub(1));
    Ok(bytes[first..].to_vec())
}

impl Denylist {
    /// Entries: `serial:0A:1B:…` (hex, as `openssl x509 -serial` prints it) or a SHA-1 /
    /// SHA-256 thumbprint in any spelling `allowed_thumbprints` accepts.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let mut list = Denylist::default();
        for (i, piece) in split_entries(raw) {
            let trimmed = piece.trim();
            let serial = trimmed.get(..7).filter(|p| p.eq_ignore_ascii_case("serial:")).and_then(|_| trimmed.get(7..));
            if let Some(serial) = serial {
                list.serials.push(parse_serial(serial).map_err(|p| format!("entry {i}: {p}"))?);
            } else {
                list.thumbprints.push(thumbprint::parse_entry(piece).map_err(|p| format!("entry {i}: {p}"))?);
            }
        }
        Ok(list)
    }

    pub fn is_empty(&self) -> bool {
        self.serials.is_empty() && self.thumbprints.is_empty()
    }

    pub fn len(&self) -> usize {
        self.serials.len() + self.thumbprints.len()
    }

    /// Why this certificate is denied, if it is.
    pub fn check(&self, c: &ClientCertificate) -> Option<String> {
        if self.serials.iter().any(|s| *s == c.serial) {
            return Some(format!("serial {} is on the denylist", c.serial_hex));
        }
        self.thumbprints
            .iter()
            .find(|t| t.matches(&c.sha1, &c.sha256))
            .map(|t| format!("thumbprint {t} is on the denylist"))
    }
}

/// What to do when the CRL for a certificate's issuer is past its nextUpdate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WhenStale {
    /// Refuse with `revocation_list_stale` (fail closed, the default).
    Deny,
    /// Carry on with the stale list and log a warning (fail open).
    Allow,
}

impl WhenStale {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "deny" | "fail-closed" => Some(WhenStale::Deny),
            "allow" | "fail-open" => Some(WhenStale::Allow),
            _ => None,
        }
    }
}

/// A CRL from configuration, already signature-checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Crl {
    pub der: Vec<u8>,
    pub issuer: String,
    pub this_update: i64,
    pub next_update: i64,
    revoked: Vec<Vec<u8>>,
}

/// The CRL verdict for one certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CrlStatus {
    /// No configured CRL is from this certificate's issuer.
    NoList,
    Good,
    Revoked(String),
    /// The issuer's list is past its nextUpdate.
    Stale(String),
}

fn time_secs(t: &x509_cert::time::Time) -> i64 {
    i64::try_from(t.to_unix_duration().as_secs()).unwrap_or(i64::MAX)
}

/// Parse a PEM bundle of `X509 CRL` blocks. Each must be signed by one of `issuers`
/// (configured anchors or intermediates) and carry a nextUpdate.
pub fn parse_crls(raw: &str, issuers: &[CaCertificate]) -> Result<Vec<Crl>, String> {
    let ders = crate::extract::decode_pem_blocks(raw, "X509 CRL", super::MAX_BUNDLE).map_err(|e| e.detail)?;
    let mut out = Vec::new();
    for (i, der) in ders.into_iter().enumerate() {
        let n = i + 1;
        let crl = CertificateList::<x509_cert::certificate::Rfc5280>::from_der(&der)
            .map_err(|e| format!("CRL {n} is not DER ({e})"))?;
        let tbs = &crl.tbs_cert_list;
        let issuer_der = tbs.issuer.to_der().map_err(|e| format!("CRL {n}: bad issuer ({e})"))?;
        let issuer = issuers.iter().find(|c| c.subject_der == issuer_der).ok_or(format!(
            "CRL {n}: its issuer ({}) is not a configured trust anchor or intermediate",
            name_text(&tbs.issuer)
        ))?;
        let issuer_cert = x509_cert::Certificate::from_der(&issuer.der).map_err(|e| format!("CRL {n}: {e}"))?;
        let spki =
            issuer_cert.tbs_certificate().subject_public_key_info().to_der().map_err(|e| format!("CRL {n}: {e}"))?;
        let message = tbs.to_der().map_err(|e| format!("CRL {n}: {e}"))?;
        let alg = crl.signature_algorithm.to_der().map_err(|e| format!("CRL {n}: {e}"))?;
        let signature = crl.signature.as_bytes().ok_or(format!("CRL {n}: signature is not whole bytes"))?;
        verify_signed(&spki, &alg, &message, signature)
            .map_err(|e| format!("CRL {n} from {}: {e}", name_text(&tbs.issuer)))?;
        let next_update =
            tbs.next_update.as_ref().ok_or(format!("CRL {n} has no nextUpdate, so its freshness cannot be judged"))?;
        webpki::OwnedCertRevocationList::from_der(&der).map_err(|e| format!("CRL {n}: not usable ({e:?})"))?;
        out.push(Crl {
            issuer: name_text(&tbs.issuer),
            this_update: time_secs(&tbs.this_update),
            next_update: time_secs(next_update),
            revoked: tbs.revoked_certificates.iter().flatten().map(|r| r.serial_number.as_bytes().to_vec()).collect(),
            der,
        });
    }
    Ok(out)
}

/// Look the certificate up in the CRLs from its issuer.
pub fn crl_status(crls: &[Crl], c: &ClientCertificate, now: i64) -> CrlStatus {
    let mut status = CrlStatus::NoList;
    for crl in crls.iter().filter(|crl| crl.issuer == c.issuer) {
        if crl.revoked.iter().any(|s| *s == c.serial) {
            return CrlStatus::Revoked(format!("serial {} is revoked by the CRL of {}", c.serial_hex, crl.issuer));
        }
        status = if now > crl.next_update {
            CrlStatus::Stale(format!("the CRL of {} was due for renewal at {}", crl.issuer, rfc3339(crl.next_update)))
        } else {
            CrlStatus::Good
        };
    }
    status
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn when_stale_spellings_and_crl_numbering() {
        for (raw, want) in [
            ("deny", Some(WhenStale::Deny)),
            (" Fail-Closed ", Some(WhenStale::Deny)),
            ("allow", Some(WhenStale::Allow)),
            ("FAIL-OPEN", Some(WhenStale::Allow)),
            ("", None),
            ("open", None),
        ] {
            assert_eq!(WhenStale::parse(raw), want, "{raw:?}");
        }
        // A CRL is good up to and including its nextUpdate second, stale after it.
        let c = ClientCertificate::for_tests("alice");
        let crl = |revoked: Vec<Vec<u8>>| Crl {
            der: Vec::new(),
            issuer: "CN=ca".into(),
            this_update: 0,
            next_update: 100,
            revoked,
        };
        assert_eq!(crl_status(&[crl(vec![vec![2]])], &c, 100), CrlStatus::Good);
        assert!(matches!(crl_status(&[crl(vec![vec![2]])], &c, 101), CrlStatus::Stale(_)));
        assert!(matches!(crl_status(&[crl(vec![vec![1]])], &c, 50), CrlStatus::Revoked(_)));
        let other = Crl { issuer: "CN=other".into(), ..crl(vec![vec![1]]) };
        assert_eq!(crl_status(&[other], &c, 50), CrlStatus::NoList);
        // Errors name the CRL by its 1-based place in the bundle.
        let block = "-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n";
        let e = parse_crls(block, &[]).unwrap_err();
        assert!(e.starts_with("CRL 1 is not DER"), "{e}");
    }

    #[test]
    fn denylist_entries() {
        let d = Denylist::parse(&format!("serial:0A:BC:DE; serial:00ff\n{}", "ab".repeat(32))).unwrap();
        assert_eq!(d.serials, vec![vec![0x0a, 0xbc, 0xde], vec![0xff]]);
        assert_eq!(d.thumbprints.len(), 1);
        assert_eq!(d.len(), 3, "len counts serials and thumbprints (the 100,000-entry limit uses it)");
        assert!(!Denylist::parse("serial:01").unwrap().is_empty());
        assert!(!Denylist::parse(&"ab".repeat(20)).unwrap().is_empty());
        // An odd number of digits is a leading zero short.
        assert_eq!(Denylist::parse("serial:ABCDE").unwrap().serials, vec![vec![0x0a, 0xbc, 0xde]]);
        assert!(Denylist::parse("serial:xyz").is_err());
        // A serial is 1 to 21 bytes: 42 hex digits at most, and at least one.
        assert_eq!(Denylist::parse(&format!("serial:{}", "1".repeat(42))).unwrap().serials[0].len(), 21);
        for bad in [
            "serial:".to_string(),
            "serial: : ".into(),
            format!("serial:{}", "1".repeat(43)),
            format!("serial:{}", "1".repeat(44)),
        ] {
            let e = Denylist::parse(&bad).unwrap_err();
            assert!(e.contains("a serial is 1 to 21 bytes of hex"), "{bad}: {e}");
        }
        assert!(Denylist::parse("nope").is_err());
        assert!(Denylist::parse(" ; ").unwrap().is_empty());
        // Fuzzing found this: a multi-byte character across the `serial:` prefix length.
        assert!(Denylist::parse("aEyNjA\u{272}zcz").is_err());
        assert!(Denylist::parse("serial\u{e9}:01").is_err());
    }
}
