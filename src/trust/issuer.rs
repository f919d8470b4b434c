//! Who issued a certificate, decided by keys rather than by names: a certificate's signed
//! parts, the check that one certificate issued another, and a per-request budget on the
//! signature verifications that such checks (and path building) may spend.
//!
//! Names alone prove nothing: anyone can make a certificate whose subject is another
//! CA's name. Every issuance certgate relies on (a list of certificates in one header
//! value, a CRL's issuer, a pinned certificate's issuer) is checked here by signature.

use std::sync::atomic::{AtomicUsize, Ordering};

use pki_types::{AlgorithmIdentifier, InvalidSignature, SignatureVerificationAlgorithm};
use x509_cert::der::{Decode, Encode};
use x509_cert::ext::pkix::{BasicConstraints, KeyUsage, KeyUsages};

use super::{algorithms, strip_sequence};

/// Most signature verifications one request may spend: on the links of a forwarded list,
/// on finding a pinned certificate's issuer and on path building together. A normal
/// request spends one to four; a hostile chain stops here instead of costing more.
pub const MAX_SIGNATURE_CHECKS: usize = 24;

/// The signature verifications a request has left. Path building asks for them through
/// [`SignatureBudget::algorithms`]; the other checks through [`SignatureBudget::verify`].
#[derive(Debug)]
pub struct SignatureBudget {
    remaining: AtomicUsize,
}

impl Default for SignatureBudget {
    fn default() -> Self {
        Self::new(MAX_SIGNATURE_CHECKS)
    }
}

impl SignatureBudget {
    pub fn new(checks: usize) -> Self {
        SignatureBudget { remaining: AtomicUsize::new(checks) }
    }

    /// Take one verification; false when none is left.
    fn take(&self) -> bool {
        self.remaining.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1)).is_ok()
    }

    /// Whether every verification has been spent.
    pub fn is_exhausted(&self) -> bool {
        self.remaining.load(Ordering::Relaxed) == 0
    }

    /// How many verifications are left.
    pub fn remaining(&self) -> usize {
        self.remaining.load(Ordering::Relaxed)
    }

    /// The supported algorithms, each drawing on this budget (for rustls-webpki).
    pub fn algorithms(&self) -> Vec<Budgeted<'_>> {
        algorithms::ALL.iter().map(|inner| Budgeted { inner: *inner, budget: self }).collect()
    }

    /// Verify a signature by the key in a DER SubjectPublicKeyInfo with the algorithm in
    /// a DER AlgorithmIdentifier. Fails without any work once the budget is spent.
    pub fn verify(&self, spki_der: &[u8], algorithm_der: &[u8], message: &[u8], signature: &[u8]) -> Result<(), String> {
        if !self.take() {
            return Err("the request's signature budget is spent".into());
        }
        super::verify_signed(spki_der, algorithm_der, message, signature)
    }
}

/// An algorithm that spends one unit of a [`SignatureBudget`] per verification.
#[derive(Debug)]
pub struct Budgeted<'a> {
    inner: &'static dyn SignatureVerificationAlgorithm,
    budget: &'a SignatureBudget,
}

impl SignatureVerificationAlgorithm for Budgeted<'_> {
    fn verify_signature(&self, public_key: &[u8], message: &[u8], signature: &[u8]) -> Result<(), InvalidSignature> {
        if !self.budget.take() {
            return Err(InvalidSignature);
        }
        self.inner.verify_signature(public_key, message, signature)
    }

    fn public_key_alg_id(&self) -> AlgorithmIdentifier {
        self.inner.public_key_alg_id()
    }

    fn signature_alg_id(&self) -> AlgorithmIdentifier {
        self.inner.signature_alg_id()
    }

    fn fips(&self) -> bool {
        self.inner.fips()
    }
}

/// The parts of a certificate that say who issued it and whom it may issue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedCertificate {
    /// DER of the subject and issuer Names (with their SEQUENCE tags).
    pub subject_der: Vec<u8>,
    pub issuer_der: Vec<u8>,
    /// DER SubjectPublicKeyInfo.
    pub spki_der: Vec<u8>,
    /// DER of tbsCertificate, the signed bytes.
    tbs_der: Vec<u8>,
    signature_algorithm_der: Vec<u8>,
    signature: Vec<u8>,
    /// basicConstraints cA.
    pub is_ca: bool,
    /// Whether keyUsage, if present, allows keyCertSign / cRLSign (absent allows both).
    pub may_sign_certificates: bool,
    pub may_sign_crls: bool,
}

impl SignedCertificate {
    pub fn from_der(der: &[u8]) -> Result<Self, String> {
        let cert = x509_cert::Certificate::from_der(der).map_err(|e| format!("not a DER certificate ({e})"))?;
        Self::from_certificate(&cert)
    }

    pub fn from_certificate(cert: &x509_cert::Certificate) -> Result<Self, String> {
        let tbs = cert.tbs_certificate();
        let enc = |r: Result<Vec<u8>, x509_cert::der::Error>| r.map_err(|e| format!("does not re-encode ({e})"));
        let basic = tbs.get_extension::<BasicConstraints>().map_err(|e| format!("invalid basicConstraints ({e})"))?;
        let usage = tbs.get_extension::<KeyUsage>().map_err(|e| format!("invalid keyUsage ({e})"))?;
        let allows = |flag: KeyUsages| usage.as_ref().is_none_or(|(_, KeyUsage(flags))| flags.contains(flag));
        Ok(SignedCertificate {
            subject_der: enc(tbs.subject().to_der())?,
            issuer_der: enc(tbs.issuer().to_der())?,
            spki_der: enc(tbs.subject_public_key_info().to_der())?,
            tbs_der: enc(tbs.to_der())?,
            signature_algorithm_der: enc(cert.signature_algorithm().to_der())?,
            signature: cert.signature().as_bytes().ok_or("the signature is not whole bytes")?.to_vec(),
            is_ca: basic.is_some_and(|(_, b)| b.ca),
            may_sign_certificates: allows(KeyUsages::KeyCertSign),
            may_sign_crls: allows(KeyUsages::CRLSign),
        })
    }

    /// Whether `issuer` names this certificate's issuer and its key verifies this
    /// certificate's signature. Names are compared as DER and a name match alone is never
    /// enough.
    pub fn verify_issued_by(&self, issuer: &SignedCertificate, budget: &SignatureBudget) -> Result<(), String> {
        if self.issuer_der != issuer.subject_der {
            return Err("its issuer name is not the next certificate's subject".into());
        }
        budget
            .verify(&issuer.spki_der, &self.signature_algorithm_der, &self.tbs_der, &self.signature)
            .map_err(|e| format!("its signature does not verify under the next certificate's key ({e})"))
    }

    /// Whether this certificate may issue others: a CA (basicConstraints cA) whose
    /// keyUsage, if present, allows keyCertSign.
    pub fn can_issue(&self) -> bool {
        self.is_ca && self.may_sign_certificates
    }

    /// The subject's Name without its SEQUENCE tag and length, as rustls-webpki keeps it.
    pub fn subject_content(&self) -> &[u8] {
        strip_sequence(&self.subject_der)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_is_spent_one_check_at_a_time_and_then_refuses_without_work() {
        let budget = SignatureBudget::new(2);
        assert_eq!(budget.remaining(), 2);
        // A bad key still spends a check: the work was asked for.
        assert!(budget.verify(b"\x30\x00", b"\x30\x00", b"m", b"s").is_err());
        assert_eq!(budget.remaining(), 1);
        assert!(!budget.is_exhausted());
        assert!(budget.algorithms()[0].verify_signature(b"", b"", b"").is_err());
        assert!(budget.is_exhausted());
        let e = budget.verify(b"\x30\x00", b"\x30\x00", b"m", b"s").unwrap_err();
        assert_eq!(e, "the request's signature budget is spent");
        assert_eq!(budget.remaining(), 0, "an empty budget stays empty");
        assert_eq!(SignatureBudget::default().remaining(), MAX_SIGNATURE_CHECKS);
    }
}
