//! Proof that the certificate header came from the terminator, checked before any
//! certificate parsing: a shared secret the proxy sets in a header (compared in constant
//! time), and/or an HMAC-SHA256 over a timestamp and the forwarded certificate header.
//! Also the terminator's own verdict header (`ssl-client-verify: SUCCESS`, ...).

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::reason::Reason;

/// Why the request's proof of origin, or the terminator's verdict, was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum OriginDenial {
    /// The shared-secret header is absent.
    SecretMissing,
    /// The shared-secret header occurs more than once.
    SecretRepeated,
    /// The shared secret is wrong.
    SecretMismatch,
    /// The signature header is absent.
    SignatureMissing,
    /// The signature header occurs more than once.
    SignatureRepeated,
    /// The signature header is not UTF-8.
    SignatureNotText,
    /// The signature header is not `t=<unix seconds>,v1=<hex>`.
    SignatureSyntax,
    /// The MAC is not hex.
    SignatureNotHex,
    /// The signature is older than `proxy_signature_max_age_seconds`.
    SignatureTooOld,
    /// The signature is dated beyond the clock skew in the future.
    SignatureInFuture,
    /// A signed request carries the certificate header more than once.
    SignedHeaderRepeated,
    /// The MAC does not verify.
    SignatureMismatch,
    /// A verdict header (`header`, from configuration) is absent.
    VerdictMissing {
        /// The configured header.
        header: String,
    },
    /// A verdict header occurs more than once.
    VerdictRepeated {
        /// The configured header.
        header: String,
    },
    /// A verdict header carries a value not accepted (at most 80 characters of it, as the
    /// terminator wrote it: a verdict, not the client's data).
    VerdictNotAccepted {
        /// What the terminator said.
        value: String,
    },
}

impl OriginDenial {
    /// The reason code.
    pub fn reason(&self) -> Reason {
        match self {
            OriginDenial::VerdictMissing { .. }
            | OriginDenial::VerdictRepeated { .. }
            | OriginDenial::VerdictNotAccepted { .. } => Reason::TerminatorRejected,
            _ => Reason::ProxyUnauthenticated,
        }
    }
}

impl std::fmt::Display for OriginDenial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OriginDenial::SecretMissing => f.write_str("the proxy secret header is missing"),
            OriginDenial::SecretRepeated => f.write_str("the proxy secret header occurs more than once"),
            OriginDenial::SecretMismatch => f.write_str("the proxy secret does not match"),
            OriginDenial::SignatureMissing => f.write_str("the proxy signature header is missing"),
            OriginDenial::SignatureRepeated => f.write_str("the proxy signature header occurs more than once"),
            OriginDenial::SignatureNotText => f.write_str("the proxy signature is not text"),
            OriginDenial::SignatureSyntax => f.write_str("the proxy signature is not `t=<unix seconds>,v1=<hex>`"),
            OriginDenial::SignatureNotHex => f.write_str("the proxy signature MAC is not hex"),
            OriginDenial::SignatureTooOld => f.write_str("the proxy signature is too old"),
            OriginDenial::SignatureInFuture => f.write_str("the proxy signature is dated in the future"),
            OriginDenial::SignedHeaderRepeated => f.write_str("the certificate header occurs more than once"),
            OriginDenial::SignatureMismatch => f.write_str("the proxy signature does not match"),
            OriginDenial::VerdictMissing { header } => write!(f, "the terminator sent no `{header}` verdict"),
            OriginDenial::VerdictRepeated { header } => write!(f, "the `{header}` verdict occurs more than once"),
            OriginDenial::VerdictNotAccepted { value } => write!(f, "the terminator's verdict is `{value}`"),
        }
    }
}

impl std::error::Error for OriginDenial {}

/// Shortest secret or HMAC key accepted: guessing must be hopeless.
pub(crate) const MIN_SECRET_LEN: usize = 16;

/// The shared-secret check.
#[derive(Clone, PartialEq, Eq)]
pub struct SharedSecret {
    pub header: String,
    digest: [u8; 32],
}

impl std::fmt::Debug for SharedSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedSecret").field("header", &self.header).finish_non_exhaustive()
    }
}

impl SharedSecret {
    pub fn new(header: String, secret: &str) -> Result<Self, String> {
        if secret.len() < MIN_SECRET_LEN {
            return Err(format!("must be at least {MIN_SECRET_LEN} characters"));
        }
        Ok(SharedSecret { header, digest: Sha256::digest(secret.as_bytes()).into() })
    }

    /// Check the header lines. Comparing digests keeps the comparison constant-time and
    /// independent of the presented value's length.
    pub fn check(&self, lines: &[Vec<u8>]) -> Result<(), OriginDenial> {
        let [value] = lines else {
            return Err(if lines.is_empty() { OriginDenial::SecretMissing } else { OriginDenial::SecretRepeated });
        };
        let presented: [u8; 32] = Sha256::digest(value).into();
        if bool::from(presented.ct_eq(&self.digest)) {
            Ok(())
        } else {
            Err(OriginDenial::SecretMismatch)
        }
    }
}

/// The HMAC check. The proxy sends `<header>: t=<unix seconds>,v1=<hex HMAC-SHA256>`, the
/// MAC taken over `<t>.<value of the certificate header>` (empty when there is none).
#[derive(Clone, PartialEq, Eq)]
pub struct Signature {
    pub header: String,
    pub max_age_seconds: u64,
    key: Vec<u8>,
}

impl std::fmt::Debug for Signature {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signature")
            .field("header", &self.header)
            .field("max_age_seconds", &self.max_age_seconds)
            .finish_non_exhaustive()
    }
}

/// Compute the signature header value a proxy would send (for tests and proxy code).
pub fn sign(key: &[u8], timestamp: i64, certificate_header: &[u8]) -> String {
    // HMAC accepts keys of any length, so this never takes the empty branch.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else { return String::new() };
    mac.update(format!("{timestamp}.").as_bytes());
    mac.update(certificate_header);
    format!("t={timestamp},v1={}", hex::encode(mac.finalize().into_bytes()))
}

impl Signature {
    pub fn new(header: String, key: &str, max_age_seconds: u64) -> Result<Self, String> {
        if key.len() < MIN_SECRET_LEN {
            return Err(format!("must be at least {MIN_SECRET_LEN} characters"));
        }
        Ok(Signature { header, max_age_seconds, key: key.as_bytes().to_vec() })
    }

    pub fn check(
        &self,
        lines: &[Vec<u8>],
        certificate_lines: &[Vec<u8>],
        now: i64,
        skew: u64,
    ) -> Result<(), OriginDenial> {
        let fail = |d: OriginDenial| Err(d);
        let [value] = lines else {
            return fail(if lines.is_empty() {
                OriginDenial::SignatureMissing
            } else {
                OriginDenial::SignatureRepeated
            });
        };
        let Ok(value) = std::str::from_utf8(value) else {
            return fail(OriginDenial::SignatureNotText);
        };
        let (mut timestamp, mut mac_hex) = (None, None);
        for part in value.split(',') {
            match part.trim().split_once('=') {
                Some(("t", t)) if timestamp.is_none() => timestamp = t.parse::<i64>().ok(),
                Some(("v1", v)) if mac_hex.is_none() => mac_hex = Some(v),
                _ => return fail(OriginDenial::SignatureSyntax),
            }
        }
        let (Some(timestamp), Some(mac_hex)) = (timestamp, mac_hex) else {
            return fail(OriginDenial::SignatureSyntax);
        };
        let Ok(presented) = hex::decode(mac_hex) else {
            return fail(OriginDenial::SignatureNotHex);
        };
        let age = now.saturating_sub(timestamp);
        if age > i64::try_from(self.max_age_seconds).unwrap_or(i64::MAX) {
            return fail(OriginDenial::SignatureTooOld);
        }
        if -age > i64::try_from(skew).unwrap_or(0) {
            return fail(OriginDenial::SignatureInFuture);
        }
        let certificate: &[u8] = match certificate_lines {
            [] => b"",
            [one] => one,
            _ => return fail(OriginDenial::SignedHeaderRepeated),
        };
        // HMAC accepts keys of any length: the error branch cannot be taken.
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&self.key) else {
            return fail(OriginDenial::SignatureMismatch);
        };
        mac.update(format!("{timestamp}.").as_bytes());
        mac.update(certificate);
        // verify_slice compares in constant time.
        mac.verify_slice(&presented).or_else(|_| fail(OriginDenial::SignatureMismatch))
    }
}

/// The terminator's verdict: a header that must carry one of the accepted values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    pub header: String,
    pub accepted: Vec<String>,
}

impl Verdict {
    pub fn check(&self, lines: &[Vec<u8>]) -> Result<(), OriginDenial> {
        let [value] = lines else {
            let header = self.header.clone();
            return Err(if lines.is_empty() {
                OriginDenial::VerdictMissing { header }
            } else {
                OriginDenial::VerdictRepeated { header }
            });
        };
        let value = String::from_utf8_lossy(value);
        let value = value.trim();
        if self.accepted.iter().any(|a| a.eq_ignore_ascii_case(value)) {
            Ok(())
        } else {
            let shown: String = value.chars().take(80).collect();
            Err(OriginDenial::VerdictNotAccepted { value: shown })
        }
    }
}

/// Most verdict headers one configuration may require.
pub(crate) const MAX_VERDICTS: usize = 8;

/// Parse `terminator_verdicts`: entries separated by `;` or line breaks, each
/// `<header>: <value>[|<value>...]`, e.g. `cf-cert-verified: true; cf-cert-revoked: false`.
pub(crate) fn parse_verdicts(raw: &str) -> Result<Vec<Verdict>, String> {
    let mut out = Vec::new();
    for (i, entry) in raw.split([';', '\n']).map(str::trim).filter(|e| !e.is_empty()).enumerate() {
        let n = i + 1;
        let Some((header, values)) = entry.split_once(':') else {
            return Err(format!("entry {n} is not `<header>: <value>[|<value>...]`"));
        };
        let header = crate::extract::parse_header_name(header.trim())
            .ok_or_else(|| format!("entry {n} does not start with a valid header name"))?;
        let accepted: Vec<String> = values.split('|').map(|v| v.trim().to_string()).filter(|v| !v.is_empty()).collect();
        if accepted.is_empty() {
            return Err(format!("entry {n} accepts no value"));
        }
        if out.len() >= MAX_VERDICTS {
            return Err(format!("more than {MAX_VERDICTS} entries"));
        }
        out.push(Verdict { header, accepted });
    }
    if out.is_empty() {
        return Err("has no entries".into());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_secret() {
        let s = SharedSecret::new("x".into(), "correct horse battery staple").unwrap();
        assert!(s.check(&[b"correct horse battery staple".to_vec()]).is_ok());
        assert!(s.check(&[b"correct horse battery stapl".to_vec()]).is_err());
        assert!(s.check(&[]).is_err());
        assert!(s.check(&[b"correct horse battery staple".to_vec(), b"x".to_vec()]).is_err());
        assert!(SharedSecret::new("x".into(), "short").is_err());
        let debug = format!("{s:?}");
        assert!(!debug.contains("horse"), "Debug never shows the secret");
        assert!(debug.starts_with("SharedSecret") && debug.contains("header: \"x\""), "{debug}");
    }

    #[test]
    fn hmac_signature() {
        let key = "0123456789abcdef0123456789abcdef";
        let s = Signature::new("x".into(), key, 300).unwrap();
        let cert = b"MIIBcert".to_vec();
        let now = 1_800_000_000;
        let good = sign(key.as_bytes(), now - 10, &cert).into_bytes();
        assert!(s.check(std::slice::from_ref(&good), std::slice::from_ref(&cert), now, 60).is_ok());
        assert_eq!(
            s.check(std::slice::from_ref(&good), &[b"MIIBother".to_vec()], now, 60),
            Err(OriginDenial::SignatureMismatch)
        );
        assert_eq!(s.check(&[good], std::slice::from_ref(&cert), now + 400, 60), Err(OriginDenial::SignatureTooOld));
        let future = sign(key.as_bytes(), now + 120, &cert).into_bytes();
        assert_eq!(s.check(&[future], std::slice::from_ref(&cert), now, 60), Err(OriginDenial::SignatureInFuture));
        let none = sign(key.as_bytes(), now, b"").into_bytes();
        assert!(s.check(&[none], &[], now, 60).is_ok(), "no certificate signs the empty string");
        let other_key = sign(b"another key of enough length!!", now, &cert).into_bytes();
        assert_eq!(s.check(&[other_key], std::slice::from_ref(&cert), now, 60), Err(OriginDenial::SignatureMismatch));
        for bad in ["", "t=1", "v1=00", "t=x,v1=00", "t=1,v1=zz", "t=1,v1=00,t=2"] {
            assert!(s.check(&[bad.as_bytes().to_vec()], std::slice::from_ref(&cert), now, 60).is_err(), "{bad}");
        }
        // A part given twice is refused even when both copies are right.
        let signed = sign(key.as_bytes(), now, &cert);
        let (t, v1) = signed.split_once(',').unwrap();
        for twice in [format!("{signed},{t}"), format!("{signed},{v1}")] {
            let e = s.check(&[twice.clone().into_bytes()], std::slice::from_ref(&cert), now, 60);
            assert_eq!(e, Err(OriginDenial::SignatureSyntax), "{twice}");
        }
        // The age and the skew are inclusive limits.
        let at = |t: i64| sign(key.as_bytes(), t, &cert).into_bytes();
        assert!(s.check(&[at(now - 300)], std::slice::from_ref(&cert), now, 60).is_ok(), "exactly max_age old");
        assert!(s.check(&[at(now - 301)], std::slice::from_ref(&cert), now, 60).is_err());
        assert!(s.check(&[at(now + 60)], std::slice::from_ref(&cert), now, 60).is_ok(), "exactly skew ahead");
        assert!(s.check(&[at(now + 61)], std::slice::from_ref(&cert), now, 60).is_err());
        let debug = format!("{s:?}");
        assert!(!debug.contains(key), "Debug never shows the key");
        assert!(debug.starts_with("Signature") && debug.contains("max_age_seconds: 300"), "{debug}");
    }

    #[test]
    fn verdict() {
        let v = Verdict { header: "ssl-client-verify".into(), accepted: vec!["SUCCESS".into()] };
        assert!(v.check(&[b"SUCCESS".to_vec()]).is_ok());
        assert!(v.check(&[b"success".to_vec()]).is_ok());
        let e = v.check(&[b"FAILED:certificate has expired".to_vec()]).unwrap_err();
        assert_eq!(e, OriginDenial::VerdictNotAccepted { value: "FAILED:certificate has expired".into() });
        assert_eq!(e.reason(), Reason::TerminatorRejected);
        assert_eq!(e.to_string(), "the terminator's verdict is `FAILED:certificate has expired`");
        assert!(v.check(&[b"NONE".to_vec()]).is_err());
        let missing = v.check(&[]).unwrap_err();
        assert_eq!(missing, OriginDenial::VerdictMissing { header: "ssl-client-verify".into() });
        assert_eq!(missing.to_string(), "the terminator sent no `ssl-client-verify` verdict");
        assert_eq!(
            v.check(&[b"SUCCESS".to_vec(), b"SUCCESS".to_vec()]).unwrap_err().reason(),
            Reason::TerminatorRejected
        );
        assert_eq!(OriginDenial::SecretMissing.reason(), Reason::ProxyUnauthenticated);
    }

    #[test]
    fn verdict_lists() {
        let v = parse_verdicts("Cf-Cert-Verified: true;\n cf-cert-revoked : false | 0 ;").unwrap();
        assert_eq!(
            v,
            [
                Verdict { header: "cf-cert-verified".into(), accepted: vec!["true".into()] },
                Verdict { header: "cf-cert-revoked".into(), accepted: vec!["false".into(), "0".into()] },
            ]
        );
        for bad in ["", ";", "x-a", "x a: 1", "x-a:", "x-a: |", ": true"] {
            assert!(parse_verdicts(bad).is_err(), "{bad:?}");
        }
        let nine = (0..9).map(|i| format!("x-{i}: 1")).collect::<Vec<_>>().join(";");
        assert!(parse_verdicts(&nine).unwrap_err().contains("more than 8"));
    }
}
