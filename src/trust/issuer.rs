//! Who issued a certificate, decided by keys rather than by names: a certificate's signed
//! parts, the check that one certificate issued another, and a per-request budget on the
//! signature verifications that such checks (and path building) may spend.
//!
//! Names alone prove nothing: anyone can make a certificate whose subject is another
//! CA's name. Every issuance certgate relies on (a list of certificates in one header
//! value, a CRL's issuer, a pinned certificate's issuer) is checked here by signature.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use pki_types::{AlgorithmIdentifier, InvalidSignature, SignatureVerificationAlgorithm};
use x509_cert::der::{Decode, Encode, Reader, SliceReader};
use x509_cert::ext::pkix::{BasicConstraints, KeyUsage, KeyUsages};

use super::{algorithms, strip_sequence};

/// Most signature work one request may spend, in units of one P-256 verification: on the
/// links of a forwarded list, on finding a pinned certificate's issuer and on path building
/// together. A normal request spends one to four; a hostile chain stops here instead of
/// costing more. Each verification costs [`weight`] units.
pub(crate) const MAX_SIGNATURE_CHECKS: usize = 24;

/// Most signature work the links of a list forwarded in one value may spend when no path
/// building verified them (a pinned leaf): a P-384 chain of three, or four P-256 links.
pub(crate) const MAX_LIST_SIGNATURE_CHECKS: usize = 8;

/// What one verification costs, in P-256 verifications (measured with the benchmarks:
/// P-384 about 4, RSA-4096 about 2, RSA-2048 and Ed25519 at most 1).
pub(crate) fn weight(algorithm: &dyn SignatureVerificationAlgorithm, key: &[u8]) -> usize {
    if algorithm.public_key_alg_id() == pki_types::alg_id::ECDSA_P384 {
        4
    } else if algorithm.public_key_alg_id() == pki_types::alg_id::RSA_ENCRYPTION && key.len() > 300 {
        // A PKCS#1 RSAPublicKey of more than 2048 bits.
        2
    } else {
        1
    }
}

/// The signature verifications a request has left. Path building asks for them through
/// [`SignatureBudget::algorithms`]; the other checks through [`SignatureBudget::verify`].
///
/// It also remembers the signatures it has seen verify, so one check asked for twice (a
/// forwarded list's links, then path building over the same certificates) costs once: a
/// hit needs the same algorithm, key, signature and signed bytes. Given a
/// [`VerifiedSignatures`] (a configuration kept across requests holds one), it also finds
/// and adds to what earlier requests verified.
#[derive(Debug)]
pub struct SignatureBudget {
    remaining: AtomicUsize,
    verified: Mutex<Vec<[u8; 32]>>,
    earlier: Option<VerifiedSignatures>,
}

/// Why [`SignatureBudget::check`] refused.
enum CheckFailed {
    /// Not enough budget was left; no work was done.
    Spent,
    Invalid,
}

/// What a verification depends on, as one SHA-256: the algorithm's identifiers, the key,
/// the signature and the signed bytes, each with its length, so no two different checks
/// share a key. A signature check is a pure function of these four, so a hit is the
/// check's own answer.
fn check_key(algorithm: &dyn SignatureVerificationAlgorithm, key: &[u8], message: &[u8], signature: &[u8]) -> [u8; 32] {
    use sha2::Digest;
    let mut digest = sha2::Sha256::new();
    digest.update(b"certgate signature check v1");
    for part in [algorithm.public_key_alg_id().as_ref(), algorithm.signature_alg_id().as_ref(), key, signature, message]
    {
        digest.update((part.len() as u64).to_be_bytes());
        digest.update(part);
    }
    digest.finalize().into()
}

/// Most signatures a [`VerifiedSignatures`] holds (32 bytes each). When it is full it starts
/// over: whoever fills it (say, a client sending chains through its own intermediates) makes
/// the next checks cost what they cost without it, and no more.
pub const MAX_REMEMBERED_SIGNATURES: usize = 4096;

/// Signatures that verified in earlier requests, shared by every request that uses one
/// configuration (its [`TrustStore`](super::TrustStore)): a client whose chain was checked
/// once is not checked again by signature while the configuration is kept (a WASI 0.3
/// instance on Spin 4, a `Gate` in a long-running server). Only the signature arithmetic is
/// skipped: path building, names, validity, key usage and revocation are judged on every
/// request. A failed check is never remembered. Clones share the same memory; it compares
/// equal to any other (it is a cache, not configuration).
#[derive(Clone, Default)]
pub struct VerifiedSignatures {
    seen: std::sync::Arc<Mutex<std::collections::HashSet<[u8; 32]>>>,
}

impl VerifiedSignatures {
    fn contains(&self, key: &[u8; 32]) -> bool {
        self.seen.lock().is_ok_and(|seen| seen.contains(key))
    }

    fn insert(&self, key: [u8; 32]) {
        if let Ok(mut seen) = self.seen.lock() {
            if seen.len() >= MAX_REMEMBERED_SIGNATURES {
                seen.clear();
            }
            seen.insert(key);
        }
    }

    /// How many signatures are remembered.
    pub fn len(&self) -> usize {
        self.seen.lock().map_or(0, |seen| seen.len())
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl std::fmt::Debug for VerifiedSignatures {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "VerifiedSignatures({})", self.len())
    }
}

impl PartialEq for VerifiedSignatures {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for VerifiedSignatures {}

impl Default for SignatureBudget {
    fn default() -> Self {
        Self::new(MAX_SIGNATURE_CHECKS)
    }
}

impl SignatureBudget {
    /// A budget of `checks` units of signature work (one unit: one P-256 verification).
    pub fn new(checks: usize) -> Self {
        SignatureBudget { remaining: AtomicUsize::new(checks), verified: Mutex::new(Vec::new()), earlier: None }
    }

    /// The same budget, also using (and adding to) what earlier requests verified.
    pub fn remembering(mut self, earlier: &VerifiedSignatures) -> Self {
        self.earlier = Some(earlier.clone());
        self
    }

    fn seen_in_this_request(&self, key: &[u8; 32]) -> bool {
        self.verified.lock().is_ok_and(|v| v.contains(key))
    }

    fn remember(&self, key: [u8; 32]) {
        if let Ok(mut v) = self.verified.lock() {
            v.push(key);
        }
    }

    /// Verify with `algorithm`, spending its [`weight`] unless this exact signature
    /// verified before in this request. A signature an earlier request verified is paid
    /// for all the same, and only its arithmetic skipped: what a request may spend, and so
    /// whether it is refused for spending too much, never depends on earlier requests.
    fn check(
        &self,
        algorithm: &dyn SignatureVerificationAlgorithm,
        key: &[u8],
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), CheckFailed> {
        let entry = check_key(algorithm, key, message, signature);
        if self.seen_in_this_request(&entry) {
            return Ok(());
        }
        if !self.take(weight(algorithm, key)) {
            return Err(CheckFailed::Spent);
        }
        let earlier = self.earlier.as_ref();
        if !earlier.is_some_and(|e| e.contains(&entry)) {
            algorithm.verify_signature(key, message, signature).map_err(|_| CheckFailed::Invalid)?;
            if let Some(e) = earlier {
                e.insert(entry);
            }
        }
        self.remember(entry);
        Ok(())
    }

    /// Take `units` of work; false (and the budget spent) when fewer are left.
    fn take(&self, units: usize) -> bool {
        let taken = self.remaining.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(units)).is_ok();
        if !taken {
            self.remaining.store(0, Ordering::Relaxed);
        }
        taken
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
    pub fn verify(
        &self,
        spki_der: &[u8],
        algorithm_der: &[u8],
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), String> {
        let (algorithm, key) = super::find_algorithm(spki_der, algorithm_der)?;
        self.check(algorithm, &key, message, signature).map_err(|failed| match failed {
            CheckFailed::Spent => "the request's signature budget is spent".to_string(),
            CheckFailed::Invalid => "the signature does not verify".to_string(),
        })
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
        self.budget.check(self.inner, public_key, message, signature).map_err(|_| InvalidSignature)
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

/// (to-be-signed, signatureAlgorithm, signature), each a whole TLV.
pub(crate) type SignedParts<'a> = (&'a [u8], &'a [u8], &'a [u8]);

/// The three parts of a signed X.509 structure (a certificate or a CRL) as the raw TLVs it
/// carries: the signed bytes (tbsCertificate / tbsCertList), signatureAlgorithm and the
/// signature BIT STRING. Nothing may follow.
pub fn signed_parts(der: &[u8]) -> Result<SignedParts<'_>, String> {
    fn split(der: &[u8]) -> Result<SignedParts<'_>, x509_cert::der::Error> {
        let mut reader = SliceReader::new(der)?;
        let parts =
            reader.sequence(|r| Ok::<_, x509_cert::der::Error>((r.tlv_bytes()?, r.tlv_bytes()?, r.tlv_bytes()?)))?;
        reader.finish(parts)
    }
    split(der).map_err(|e| format!("not a signed DER structure ({e})"))
}

/// The DER of every certificate that differs from `der` only in an ECDSA signature's `s`
/// being replaced by `n - s` (for the orders of P-256 and P-384, whichever the issuer's
/// key uses): an equally valid signature over the same bytes. Anyone can make such a twin
/// of any ECDSA-signed certificate without a private key, and it has other thumbprints,
/// so a thumbprint denylist must match the twins too. Empty for other signatures.
pub fn ecdsa_twins(der: &[u8]) -> Vec<Vec<u8>> {
    use x509_cert::der::asn1::BitString;
    let Ok((tbs, algorithm, signature)) = signed_parts(der) else { return Vec::new() };
    let Ok(bits) = BitString::from_der(signature) else { return Vec::new() };
    let Some(sig) = bits.as_bytes() else { return Vec::new() };
    let mut twins = Vec::new();
    let mut push = |twin_sig: Vec<u8>| {
        let Ok(bits) = BitString::from_bytes(&twin_sig) else { return };
        let Ok(bits) = bits.to_der() else { return };
        let body_len = tbs.len() + algorithm.len() + bits.len();
        let Ok(length) = x509_cert::der::Length::try_from(body_len) else { return };
        let Ok(header) = x509_cert::der::Header::new(x509_cert::der::Tag::Sequence, length) else { return };
        let Ok(mut out) = header.to_der() else { return };
        out.extend_from_slice(tbs);
        out.extend_from_slice(algorithm);
        out.extend_from_slice(&bits);
        if out != der {
            twins.push(out);
        }
    };
    // A signature that P-256 reads (r and s below its order) is a P-256 one: a P-384
    // signature reads so with a chance of about 2^-256, and nobody without the CA's key can
    // choose one. So one twin, not two, whatever the issuer's key.
    if let Ok(s256) = p256::ecdsa::Signature::from_der(sig) {
        if let Ok(twin) = p256::ecdsa::Signature::from_scalars(s256.r(), -*s256.s()) {
            push(twin.to_der().as_bytes().to_vec());
        }
    } else if let Ok(s384) = p384::ecdsa::Signature::from_der(sig) {
        if let Ok(twin) = p384::ecdsa::Signature::from_scalars(s384.r(), -*s384.s()) {
            push(twin.to_der().as_bytes().to_vec());
        }
    }
    twins
}

/// The parts of a certificate that say who issued it and whom it may issue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedCertificate {
    /// DER of the subject Name as signed (with its SEQUENCE tag).
    pub subject_der: Vec<u8>,
    /// DER of the issuer Name as signed.
    pub issuer_der: Vec<u8>,
    /// DER SubjectPublicKeyInfo as signed.
    pub spki_der: Vec<u8>,
    /// DER of tbsCertificate, the signed bytes.
    tbs_der: Vec<u8>,
    signature_algorithm_der: Vec<u8>,
    signature: Vec<u8>,
    /// basicConstraints cA.
    pub is_ca: bool,
    /// Whether keyUsage, if present, allows keyCertSign (absent allows it).
    pub may_sign_certificates: bool,
    /// Whether keyUsage, if present, allows cRLSign (absent allows it).
    pub may_sign_crls: bool,
}

impl SignedCertificate {
    /// Decode a DER certificate and keep its signed parts; the error says why it is not one.
    pub fn from_der(der: &[u8]) -> Result<Self, String> {
        let cert = x509_cert::Certificate::from_der(der).map_err(|e| format!("not a DER certificate ({e})"))?;
        Self::from_certificate(der, &cert)
    }

    /// From the DER and its decoding. The signed bytes, the names and the key are taken
    /// from the DER as sent, not re-encoded: x509-cert reads some encodings that it writes
    /// differently (an explicit DEFAULT, such as `critical FALSE`; a SET OF in a Name
    /// written out of order, which it re-sorts), the issuer signed the bytes as sent, and
    /// rustls-webpki and CRLs name issuers by those bytes.
    pub fn from_certificate(der: &[u8], cert: &x509_cert::Certificate) -> Result<Self, String> {
        let tbs = &cert.tbs_certificate;
        let fields = crate::certificate::signed_fields(der).ok_or("its names cannot be read as signed")?;
        let (_, signature_algorithm, _) = signed_parts(der)?;
        let basic = tbs.get::<BasicConstraints>().map_err(|e| format!("invalid basicConstraints ({e})"))?;
        let usage = tbs.get::<KeyUsage>().map_err(|e| format!("invalid keyUsage ({e})"))?;
        let allows = |flag: KeyUsages| usage.as_ref().is_none_or(|(_, KeyUsage(flags))| flags.contains(flag));
        Ok(SignedCertificate {
            subject_der: fields.subject.to_vec(),
            issuer_der: fields.issuer.to_vec(),
            spki_der: fields.spki.to_vec(),
            tbs_der: signed_parts(der)?.0.to_vec(),
            signature_algorithm_der: signature_algorithm.to_vec(),
            signature: cert.signature.as_bytes().ok_or("the signature is not whole bytes")?.to_vec(),
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
        // A key that does not parse costs nothing; a verification that fails costs one.
        assert!(budget.verify(b"\x30\x00", b"\x30\x00", b"m", b"s").is_err());
        assert_eq!(budget.remaining(), 2);
        assert!(budget.algorithms()[0].verify_signature(b"", b"", b"").is_err());
        assert_eq!(budget.remaining(), 1);
        assert!(!budget.is_exhausted());
        assert!(budget.algorithms()[1].verify_signature(b"", b"", b"").is_err());
        assert!(budget.is_exhausted());
        let spki = hex::decode("3059301306072a8648ce3d020106082a8648ce3d030107034200").unwrap();
        let mut spki = spki;
        spki.extend_from_slice(&[4; 65]);
        let e = budget.verify(&spki, &hex::decode("300a06082a8648ce3d040302").unwrap(), b"m", b"s").unwrap_err();
        assert_eq!(e, "the request's signature budget is spent");
        assert_eq!(budget.remaining(), 0, "an empty budget stays empty");
        assert_eq!(SignatureBudget::default().remaining(), MAX_SIGNATURE_CHECKS);
    }

    #[test]
    fn a_signature_that_verified_once_is_not_paid_for_again_and_nothing_else_is_remembered() {
        use ecdsa::signature::hazmat::PrehashSigner;
        use sha2::Digest;
        let key = p256::ecdsa::SigningKey::from_bytes(&[9u8; 32].into()).unwrap();
        let mut spki = hex::decode("3059301306072a8648ce3d020106082a8648ce3d030107034200").unwrap();
        spki.extend_from_slice(key.verifying_key().to_encoded_point(false).as_bytes());
        let alg = hex::decode("300a06082a8648ce3d040302").unwrap();
        let sig: p256::ecdsa::Signature = key.sign_prehash(&sha2::Sha256::digest(b"tbs")).unwrap();
        let sig = sig.to_der().as_bytes().to_vec();
        let budget = SignatureBudget::new(3);
        assert_eq!(budget.verify(&spki, &alg, b"tbs", &sig), Ok(()));
        assert_eq!(budget.remaining(), 2);
        assert_eq!(budget.verify(&spki, &alg, b"tbs", &sig), Ok(()), "remembered");
        assert_eq!(budget.remaining(), 2);
        // Path building's algorithms share the memory.
        let p256_sha256 = budget.algorithms().into_iter().find(|a| {
            a.public_key_alg_id() == pki_types::alg_id::ECDSA_P256
                && a.signature_alg_id() == pki_types::alg_id::ECDSA_SHA256
        });
        let point = key.verifying_key().to_encoded_point(false);
        assert!(p256_sha256.unwrap().verify_signature(point.as_bytes(), b"tbs", &sig).is_ok());
        assert_eq!(budget.remaining(), 2);
        // Other bytes are checked (and paid for); failures are not remembered.
        assert!(budget.verify(&spki, &alg, b"tbs!", &sig).is_err());
        assert_eq!(budget.remaining(), 1);
        assert!(budget.verify(&spki, &alg, b"tbs!", &sig).is_err());
        assert_eq!(budget.remaining(), 0);
    }

    fn p256_signed(message: &[u8]) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
        p256_signed_by(7, message)
    }

    fn p256_signed_by(seed: u8, message: &[u8]) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
        use ecdsa::signature::hazmat::PrehashSigner;
        use sha2::Digest;
        let key = p256::ecdsa::SigningKey::from_bytes(&[seed; 32].into()).unwrap();
        let mut spki = hex::decode("3059301306072a8648ce3d020106082a8648ce3d030107034200").unwrap();
        spki.extend_from_slice(key.verifying_key().to_encoded_point(false).as_bytes());
        let alg = hex::decode("300a06082a8648ce3d040302").unwrap();
        let sig: p256::ecdsa::Signature = key.sign_prehash(&sha2::Sha256::digest(message)).unwrap();
        (spki, alg, sig.to_der().as_bytes().to_vec())
    }

    #[test]
    fn a_later_request_finds_what_an_earlier_one_verified_and_only_that() {
        let earlier = VerifiedSignatures::default();
        let (spki, alg, sig) = p256_signed(b"tbs");
        let first = SignatureBudget::new(1).remembering(&earlier);
        assert_eq!(first.verify(&spki, &alg, b"tbs", &sig), Ok(()));
        assert_eq!(first.remaining(), 0);
        assert_eq!(earlier.len(), 1);
        // A new request pays for the same check (so what it may spend never depends on
        // earlier requests) but is answered without the arithmetic.
        let broke = SignatureBudget::new(0).remembering(&earlier);
        assert!(broke.verify(&spki, &alg, b"tbs", &sig).is_err(), "paid for even when remembered");
        let second = SignatureBudget::new(1).remembering(&earlier);
        assert_eq!(second.verify(&spki, &alg, b"tbs", &sig), Ok(()));
        assert_eq!(second.remaining(), 0);
        assert_eq!(second.verify(&spki, &alg, b"tbs", &sig), Ok(()), "free again within one request");
        // Anything else is checked by its arithmetic (and refused: it does not verify).
        let other = SignatureBudget::new(100).remembering(&earlier);
        assert!(other.verify(&spki, &alg, b"tbs ", &sig).is_err(), "other signed bytes");
        let mut other_sig = sig.clone();
        let last = other_sig.len() - 1;
        other_sig[last] ^= 1;
        assert!(other.verify(&spki, &alg, b"tbs", &other_sig).is_err(), "another signature");
        let sha384 = hex::decode("300a06082a8648ce3d040303").unwrap();
        assert!(other.verify(&spki, &sha384, b"tbs", &sig).is_err(), "another algorithm");
        let (other_spki, _, _) = p256_signed_by(8, b"x");
        assert!(other.verify(&other_spki, &alg, b"tbs", &sig).is_err(), "another key");
        assert_eq!(other.verify(&spki, &alg, b"tbs", &sig), Ok(()));
        // A budget without the memory pays again; failures were not remembered.
        let fresh = SignatureBudget::new(0);
        assert!(fresh.verify(&spki, &alg, b"tbs", &sig).is_err());
        assert_eq!(earlier.len(), 1);
        let funded = SignatureBudget::new(4).remembering(&earlier);
        assert!(funded.verify(&spki, &alg, b"tbs ", &sig).is_err());
        assert_eq!(earlier.len(), 1, "a failed check is not remembered");
        // Clones share the memory; it is not part of a configuration's equality.
        assert_eq!(earlier.clone().len(), 1);
        assert_eq!(earlier, VerifiedSignatures::default());
    }

    #[test]
    fn the_lengths_keep_the_parts_of_a_check_apart() {
        // The same bytes split differently between key, signature and message are other checks.
        let alg = algorithms::ALL[0];
        assert_ne!(check_key(alg, b"ab", b"c", b"d"), check_key(alg, b"a", b"bc", b"d"));
        assert_ne!(check_key(alg, b"a", b"b", b"cd"), check_key(alg, b"a", b"bc", b"d"));
        assert_ne!(check_key(algorithms::ALL[0], b"a", b"b", b"c"), check_key(algorithms::ALL[1], b"a", b"b", b"c"));
        assert_eq!(check_key(alg, b"a", b"b", b"c"), check_key(alg, b"a", b"b", b"c"));
    }

    #[test]
    fn the_memory_starts_over_when_full() {
        let memory = VerifiedSignatures::default();
        for i in 0..MAX_REMEMBERED_SIGNATURES as u32 {
            let mut key = [0u8; 32];
            key[..4].copy_from_slice(&i.to_be_bytes());
            memory.insert(key);
        }
        assert_eq!(memory.len(), MAX_REMEMBERED_SIGNATURES);
        assert!(memory.contains(&[0u8; 32]));
        memory.insert([0xff; 32]);
        assert_eq!(memory.len(), 1);
        assert!(memory.contains(&[0xff; 32]) && !memory.contains(&[0u8; 32]));
        assert!(!memory.is_empty());
        assert!(VerifiedSignatures::default().is_empty());
        assert_eq!(format!("{memory:?}"), "VerifiedSignatures(1)");
    }
}
