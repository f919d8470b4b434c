//! Chain validation to configured trust anchors with rustls-webpki (path building, basic
//! constraints, name constraints, validity, EKU, CRLs), with pure-Rust signature checks.

pub(crate) mod algorithms;
pub(crate) mod issuer;

use std::time::Duration;

use pki_types::{CertificateDer, SignatureVerificationAlgorithm, TrustAnchor, UnixTime};
use webpki::{EndEntityCert, ExtendedKeyUsageValidator, KeyPurposeIdIter, KeyUsage};
use x509_cert::der::{AnyRef, Decode, Encode, Tag, Tagged};

pub use issuer::{SignatureBudget, SignedCertificate, VerifiedSignatures, MAX_REMEMBERED_SIGNATURES};

/// A CA certificate from configuration (`trust_anchors`, `intermediates`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaCertificate {
    /// The certificate's DER, as configured.
    pub der: Vec<u8>,
    /// RFC 4514 subject, for reports.
    pub subject: String,
    /// Names, key and the signed parts: what issuance checks need.
    pub signed: SignedCertificate,
}

impl CaCertificate {
    /// Read a configured CA certificate. Only a CA may be one: a certificate without
    /// basicConstraints cA, or whose keyUsage does not allow keyCertSign, is refused (an
    /// end-entity certificate as an anchor would let whoever holds its key mint any
    /// identity).
    pub fn from_der(der: Vec<u8>) -> Result<Self, String> {
        let cert = x509_cert::Certificate::from_der(&der).map_err(|e| format!("not a DER certificate ({e})"))?;
        let subject = crate::certificate::name_text(&cert.tbs_certificate.subject);
        let signed = SignedCertificate::from_certificate(&der, &cert).map_err(|e| format!("{subject}: {e}"))?;
        if !signed.is_ca {
            return Err(format!("{subject} is not a CA certificate (no basicConstraints cA=TRUE)"));
        }
        if !signed.may_sign_certificates {
            return Err(format!("{subject} is a CA whose keyUsage does not allow keyCertSign"));
        }
        webpki::anchor_from_trusted_cert(&CertificateDer::from(der.as_slice()))
            .map_err(|e| format!("{subject} is not usable as a CA certificate ({e:?})"))?;
        Ok(CaCertificate { subject, signed, der })
    }
}

/// Why a chain did not validate.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ChainError {
    /// The leaf's extended key usage does not allow clientAuth.
    NotForClientAuth,
    /// A CA certificate was presented as the client certificate.
    CaAsClient,
    /// No path leads to a configured trust anchor.
    UnknownIssuer,
    /// A signature on the path does not verify.
    BadSignature,
    /// A CA's name constraints exclude the certificate.
    NameConstraints,
    /// A CA's path length constraint is exceeded.
    PathLength,
    /// A certificate that is not a CA issued another.
    EndEntityAsCa,
    /// A certificate on the path has expired.
    Expired,
    /// A certificate on the path is not valid yet.
    NotYetValid,
    /// Path building spent the request's signature budget.
    TooMuchWork,
    /// The path ends at an anchor that is not configured (cannot happen with webpki's
    /// path building; refused rather than assumed).
    AnchorNotConfigured,
    /// webpki cannot read the leaf (its error, as webpki names it).
    Unusable(String),
    /// webpki refused the path for another reason (its error, as webpki names it).
    Other(String),
}

impl ChainError {
    /// The reason code: a wrong usage, or untrusted.
    pub fn reason(&self) -> crate::reason::Reason {
        match self {
            ChainError::NotForClientAuth | ChainError::CaAsClient => crate::reason::Reason::CertificateWrongUsage,
            _ => crate::reason::Reason::CertificateUntrusted,
        }
    }
}

impl std::fmt::Display for ChainError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ChainError::NotForClientAuth => {
                f.write_str("the certificate's extended key usage does not allow clientAuth")
            }
            ChainError::CaAsClient => f.write_str("a CA certificate was presented as the client certificate"),
            ChainError::UnknownIssuer => f.write_str("no path to a configured trust anchor"),
            ChainError::BadSignature => f.write_str("a signature on the path does not verify"),
            ChainError::NameConstraints => f.write_str("a CA's name constraints exclude this certificate"),
            ChainError::PathLength => f.write_str("a CA's path length constraint is exceeded"),
            ChainError::EndEntityAsCa => f.write_str("a non-CA certificate issued another"),
            ChainError::Expired => f.write_str("a certificate on the path has expired"),
            ChainError::NotYetValid => f.write_str("a certificate on the path is not valid yet"),
            ChainError::TooMuchWork => {
                write!(f, "no path found within the budget of {} signature checks", issuer::MAX_SIGNATURE_CHECKS)
            }
            ChainError::AnchorNotConfigured => f.write_str("the path ends at an anchor that is not configured"),
            ChainError::Unusable(what) => f.write_str(what),
            ChainError::Other(what) => write!(f, "chain validation failed ({what})"),
        }
    }
}

impl std::error::Error for ChainError {}

/// The extended key usage policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EkuPolicy {
    /// clientAuth must be allowed: listed, or no EKU extension at all (RFC 5280).
    ClientAuth,
    /// Any EKU (public CAs are dropping clientAuth in 2026).
    Any,
}

struct AnyEku;

impl ExtendedKeyUsageValidator for AnyEku {
    fn validate(&self, iter: KeyPurposeIdIter<'_, '_>) -> Result<(), webpki::Error> {
        for purpose in iter {
            purpose?;
        }
        Ok(())
    }
}

/// One certificate of a validated path and the key that issued it: what revocation is
/// checked against.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PathLink {
    /// DER of the certificate.
    pub der: Vec<u8>,
    /// Its issuer Name, without the SEQUENCE tag and length.
    pub issuer_content: Vec<u8>,
    /// Its serial as an unsigned integer ([`crate::certificate::serial_magnitude`]).
    pub serial: Vec<u8>,
    /// The DER SubjectPublicKeyInfo of the certificate that issued it.
    pub issuer_spki: Vec<u8>,
}

/// A validated path: the anchor it ends at and every certificate below the anchor, leaf
/// first, each with its issuer's key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedChain {
    /// RFC 4514 subject of the anchor.
    pub anchor: String,
    /// DER of the anchor's certificate.
    pub anchor_der: Vec<u8>,
    pub links: Vec<PathLink>,
}

/// Anchors and extra intermediates, parsed once when the configuration is read: path
/// building then starts from webpki's own anchors and DER, owned here, on every request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrustStore {
    /// `trust_anchors`: the CAs a chain must end at.
    pub anchors: Vec<CaCertificate>,
    /// `intermediates`: CAs path building may use between the leaf and an anchor.
    pub intermediates: Vec<CaCertificate>,
    webpki_anchors: Vec<TrustAnchor<'static>>,
    /// Signatures verified by earlier requests under this store (see [`VerifiedSignatures`]).
    pub verified: VerifiedSignatures,
    /// The chain cache's digests of this store, computed on first use.
    digests: Digests,
}

/// [`TrustStore::digest`] for each EKU policy, and the SHA-256 of each configured CA
/// (anchors, intermediates), computed when the chain cache first needs them. It compares
/// equal to any other: it is a memo of the store's own fields, not configuration.
#[derive(Clone, Debug, Default)]
struct Digests {
    client_auth: std::sync::OnceLock<[u8; 32]>,
    any_eku: std::sync::OnceLock<[u8; 32]>,
    #[allow(clippy::type_complexity)]
    cas: std::sync::OnceLock<(Vec<[u8; 32]>, Vec<[u8; 32]>)>,
}

impl PartialEq for Digests {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for Digests {}

impl TrustStore {
    /// A store of these CAs (each already checked by [`CaCertificate::from_der`]).
    pub fn new(anchors: Vec<CaCertificate>, intermediates: Vec<CaCertificate>) -> Self {
        let webpki_anchors = anchors
            .iter()
            .filter_map(|a| {
                let der = CertificateDer::from(a.der.as_slice());
                webpki::anchor_from_trusted_cert(&der).ok().map(|anchor| anchor.to_owned())
            })
            .collect();
        TrustStore {
            anchors,
            intermediates,
            webpki_anchors,
            verified: VerifiedSignatures::default(),
            digests: Digests::default(),
        }
    }

    /// Whether no anchor is configured (then no chain is validated).
    pub fn is_empty(&self) -> bool {
        self.anchors.is_empty()
    }

    /// Every configured CA, anchors first.
    pub fn cas(&self) -> impl Iterator<Item = &CaCertificate> {
        self.anchors.iter().chain(&self.intermediates)
    }

    /// The configured CA whose key signed `certificate`, if any (the name must match too).
    /// `Err` when the budget ran out before every candidate was tried: the caller cannot
    /// tell "no configured issuer" from "not checked", and must not take it as the former.
    pub fn issuer_of(
        &self,
        certificate: &SignedCertificate,
        budget: &SignatureBudget,
    ) -> Result<Option<&CaCertificate>, ChainError> {
        for ca in self.cas().filter(|ca| ca.signed.subject_der == certificate.issuer_der) {
            if certificate.verify_issued_by(&ca.signed, budget).is_ok() {
                return Ok(Some(ca));
            }
            if budget.is_exhausted() {
                return Err(ChainError::TooMuchWork);
            }
        }
        Ok(None)
    }

    /// Validate `leaf` (with `forwarded` as untrusted intermediates) at `time`, spending
    /// signature checks from `budget`. Revocation is not judged here: the caller checks the
    /// returned path against its CRLs, so every list is chosen the same way.
    pub fn verify(
        &self,
        leaf: &[u8],
        forwarded: &[Vec<u8>],
        time: i64,
        eku: EkuPolicy,
        budget: &SignatureBudget,
    ) -> Result<VerifiedChain, ChainError> {
        let anchors = &self.webpki_anchors;
        let intermediates: Vec<CertificateDer<'_>> = self
            .intermediates
            .iter()
            .map(|c| CertificateDer::from(c.der.as_slice()))
            .chain(forwarded.iter().map(|c| CertificateDer::from(c.as_slice())))
            .collect();
        let leaf_der = CertificateDer::from(leaf);
        let ee = EndEntityCert::try_from(&leaf_der).map_err(|e| ChainError::Unusable(format!("{e:?}")))?;
        let when = UnixTime::since_unix_epoch(Duration::from_secs(u64::try_from(time).unwrap_or(0)));
        let budgeted = budget.algorithms();
        let algs: Vec<&dyn SignatureVerificationAlgorithm> =
            budgeted.iter().map(|a| a as &dyn SignatureVerificationAlgorithm).collect();
        let result = match eku {
            EkuPolicy::ClientAuth => {
                ee.verify_for_usage(&algs, anchors, &intermediates, when, KeyUsage::client_auth(), None, None)
            }
            EkuPolicy::Any => ee.verify_for_usage(&algs, anchors, &intermediates, when, AnyEku, None, None),
        };
        let path = match result {
            Ok(path) => path,
            Err(_) if budget.is_exhausted() => return Err(ChainError::TooMuchWork),
            Err(e) => return Err(classify(e)),
        };
        // The anchor, found again by its subject and key.
        let anchor = path.anchor();
        let anchor_ca = self.anchors.iter().find(|a| {
            a.signed.subject_content() == anchor.subject.as_ref()
                && strip_sequence(&a.signed.spki_der) == anchor.subject_public_key_info.as_ref()
        });
        let Some(anchor_ca) = anchor_ca else {
            return Err(ChainError::AnchorNotConfigured);
        };
        let mut certs: Vec<&webpki::Cert<'_>> = vec![&**path.end_entity()];
        certs.extend(path.intermediate_certificates());
        let mut links = Vec::with_capacity(certs.len());
        for (i, cert) in certs.iter().enumerate() {
            let issuer_spki = match certs.get(i + 1) {
                Some(next) => next.subject_public_key_info().as_ref().to_vec(),
                None => anchor_ca.signed.spki_der.clone(),
            };
            links.push(PathLink {
                der: cert.der().as_ref().to_vec(),
                issuer_content: cert.issuer().to_vec(),
                serial: crate::certificate::serial_magnitude(cert.serial()),
                issuer_spki,
            });
        }
        Ok(VerifiedChain { anchor: anchor_ca.subject.clone(), anchor_der: anchor_ca.der.clone(), links })
    }

    /// SHA-256 of everything a path's validation depends on besides the time and the
    /// certificates sent: the anchors and intermediates (their DER, in order), the extended
    /// key usage policy and this build (version, dependency set, the version of its own
    /// verification rules, signature algorithms). The
    /// chain cache keys its entries by it, so an entry never outlives its configuration.
    /// Computed once per store and policy.
    pub fn digest(&self, eku: EkuPolicy) -> [u8; 32] {
        let slot = match eku {
            EkuPolicy::ClientAuth => &self.digests.client_auth,
            EkuPolicy::Any => &self.digests.any_eku,
        };
        *slot.get_or_init(|| self.compute_digest(eku))
    }

    fn compute_digest(&self, eku: EkuPolicy) -> [u8; 32] {
        use sha2::Digest;
        let mut digest = sha2::Sha256::new();
        digest.update(b"certgate trust configuration v1\0");
        // This build: its version, its dependency set and the signature algorithms it
        // accepts (a later build may judge the same path differently).
        digest.update(env!("CARGO_PKG_VERSION").as_bytes());
        digest.update(env!("CERTGATE_LOCK_HASH").as_bytes());
        digest.update(algorithms::VERIFICATION_RULES.to_be_bytes());
        for alg in algorithms::ALL {
            for id in [alg.public_key_alg_id(), alg.signature_alg_id()] {
                digest.update((id.as_ref().len() as u64).to_be_bytes());
                digest.update(id.as_ref());
            }
        }
        digest.update(match eku {
            EkuPolicy::ClientAuth => &b"\0eku client-auth\0"[..],
            EkuPolicy::Any => &b"\0eku any\0"[..],
        });
        for set in [&self.anchors, &self.intermediates] {
            digest.update((set.len() as u64).to_be_bytes());
            for ca in set.iter() {
                digest.update((ca.der.len() as u64).to_be_bytes());
                digest.update(&ca.der);
            }
        }
        digest.finalize().into()
    }

    /// A path an earlier request validated (the chain cache), rebuilt from certificates this
    /// request has: `leaf`, then each certificate of `path` (by SHA-256, the leaf's issuer
    /// first) found among `forwarded` or the configured intermediates, ending at the
    /// configured anchor whose DER has the SHA-256 `anchor`. No signature is checked again;
    /// the names must still chain to the anchor and every certificate must be within its
    /// validity at `time`. `Err` says why it cannot be used (the caller then validates).
    pub fn cached(
        &self,
        leaf: &[u8],
        forwarded: &[Vec<u8>],
        path: &[[u8; 32]],
        anchor: &[u8; 32],
        time: i64,
    ) -> Result<VerifiedChain, String> {
        use sha2::{Digest, Sha256};
        let sha256 = |der: &[u8]| -> [u8; 32] { Sha256::digest(der).into() };
        let (anchor_digests, intermediate_digests) = self.digests.cas.get_or_init(|| {
            (
                self.anchors.iter().map(|a| sha256(&a.der)).collect(),
                self.intermediates.iter().map(|c| sha256(&c.der)).collect(),
            )
        });
        let anchor_ca = self
            .anchors
            .iter()
            .zip(anchor_digests)
            .find_map(|(ca, d)| (d == anchor).then_some(ca))
            .ok_or("its anchor is not configured")?;
        let forwarded_digests: Vec<[u8; 32]> = forwarded.iter().map(|c| sha256(c)).collect();
        let mut ders: Vec<&[u8]> = vec![leaf];
        for digest in path {
            let found = match forwarded.iter().zip(&forwarded_digests).find(|(_, d)| *d == digest) {
                Some((der, _)) => Some(der.as_slice()),
                None => self
                    .intermediates
                    .iter()
                    .zip(intermediate_digests)
                    .find_map(|(ca, d)| (d == digest).then_some(ca.der.as_slice())),
            };
            ders.push(found.ok_or("a certificate of its path was not forwarded and is not configured")?);
        }
        let mut certs = Vec::with_capacity(ders.len());
        for der in &ders {
            let cert =
                x509_cert::Certificate::from_der(der).map_err(|_| "a certificate of its path does not decode")?;
            let validity = &cert.tbs_certificate.validity;
            let seconds = crate::certificate::unix_seconds;
            if time < seconds(&validity.not_before) || time > seconds(&validity.not_after) {
                return Err("a certificate of its path is not valid at this time".into());
            }
            certs.push(cert);
        }
        // Names and keys as signed, as validation compares them.
        let fields: Vec<_> = ders
            .iter()
            .map(|der| crate::certificate::signed_fields(der).ok_or("a certificate of its path cannot be read"))
            .collect::<Result<_, _>>()?;
        let mut links = Vec::with_capacity(certs.len());
        for (i, ((cert, der), signed)) in certs.iter().zip(&ders).zip(&fields).enumerate() {
            let tbs = &cert.tbs_certificate;
            let issuer_spki = match fields.get(i + 1) {
                Some(next) => {
                    if next.subject != signed.issuer {
                        return Err("its path's names do not chain".into());
                    }
                    next.spki.to_vec()
                }
                None => {
                    if anchor_ca.signed.subject_der != signed.issuer {
                        return Err("its path's names do not chain to the anchor".into());
                    }
                    anchor_ca.signed.spki_der.clone()
                }
            };
            links.push(PathLink {
                der: der.to_vec(),
                issuer_content: strip_sequence(signed.issuer).to_vec(),
                serial: crate::certificate::serial_magnitude(tbs.serial_number.as_bytes()),
                issuer_spki,
            });
        }
        Ok(VerifiedChain { anchor: anchor_ca.subject.clone(), anchor_der: anchor_ca.der.clone(), links })
    }
}

fn classify(e: webpki::Error) -> ChainError {
    use webpki::Error as E;
    match e {
        #[allow(deprecated)]
        E::RequiredEkuNotFound => ChainError::NotForClientAuth,
        E::RequiredEkuNotFoundContext(_) | E::EmptyEkuExtension => ChainError::NotForClientAuth,
        E::CertExpired { .. } => ChainError::Expired,
        E::CertNotValidYet { .. } => ChainError::NotYetValid,
        E::UnknownIssuer => ChainError::UnknownIssuer,
        E::InvalidSignatureForPublicKey => ChainError::BadSignature,
        E::NameConstraintViolation => ChainError::NameConstraints,
        E::PathLenConstraintViolated => ChainError::PathLength,
        E::CaUsedAsEndEntity => ChainError::CaAsClient,
        E::EndEntityUsedAsCa => ChainError::EndEntityAsCa,
        other => ChainError::Other(format!("{other:?}")),
    }
}

/// The contents of a DER SEQUENCE (its tag and length stripped), or `der` itself when it
/// is not exactly one well-formed SEQUENCE (what callers then compare matches nothing).
pub(crate) fn strip_sequence(der: &[u8]) -> &[u8] {
    match AnyRef::from_der(der) {
        Ok(any) if any.tag() == Tag::Sequence => any.value(),
        _ => der,
    }
}

/// The algorithm for a DER SubjectPublicKeyInfo and a DER signature AlgorithmIdentifier,
/// with the raw key bytes it verifies with.
pub(crate) fn find_algorithm(
    spki_der: &[u8],
    signature_algorithm_der: &[u8],
) -> Result<(&'static dyn SignatureVerificationAlgorithm, Vec<u8>), String> {
    let spki = x509_cert::spki::SubjectPublicKeyInfoOwned::from_der(spki_der).map_err(|e| format!("bad key ({e})"))?;
    let key_alg = spki.algorithm.to_der().map_err(|e| format!("bad key algorithm ({e})"))?;
    let key_alg = strip_sequence(&key_alg);
    let sig_alg = strip_sequence(signature_algorithm_der);
    let alg = algorithms::ALL
        .iter()
        .find(|a| a.public_key_alg_id().as_ref() == key_alg && a.signature_alg_id().as_ref() == sig_alg)
        .ok_or("unsupported signature algorithm")?;
    Ok((*alg, spki.subject_public_key.raw_bytes().to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ecdsa::signature::hazmat::PrehashSigner;
    use pki_types::{alg_id, AlgorithmIdentifier};
    use sha2::{Digest, Sha256, Sha384};

    #[test]
    fn strip_sequence_takes_off_one_tag_and_length() {
        // Short and long length forms.
        assert_eq!(strip_sequence(&[0x30, 0x02, 0xaa, 0xbb]), &[0xaa, 0xbb]);
        assert_eq!(strip_sequence(&[0x30, 0x00]), &[] as &[u8]);
        let mut long = vec![0x30, 0x81, 0x80];
        long.extend([0xaa; 0x80]);
        assert_eq!(strip_sequence(&long), &[0xaa; 0x80]);
        let mut longer = vec![0x30, 0x82, 0x01, 0x00];
        longer.extend([0xbb; 0x100]);
        assert_eq!(strip_sequence(&longer), &[0xbb; 0x100]);
        // What is not exactly one DER SEQUENCE it returns whole: not a SEQUENCE, no length,
        // the indefinite form, a length that is not minimal, more or fewer bytes than the
        // length says, length bytes cut short.
        for der in [
            &[][..],
            &[0x31, 0x01, 0xaa],
            &[0x30],
            &[0x30, 0x80, 0xaa, 0x00, 0x00],
            &[0x30, 0x81, 0x01, 0xaa],
            &[0x30, 0x7f, 0xaa],
            &[0x30, 0x01, 0xaa, 0xbb],
            &[0x30, 0x82, 0x01],
            &[0x30, 0x84, 0, 0, 1],
        ] {
            assert_eq!(strip_sequence(der), der, "{der:02x?}");
        }
    }

    /// A P-256 SubjectPublicKeyInfo (RFC 5480: id-ecPublicKey, prime256v1).
    fn p256_spki(point: &[u8]) -> Vec<u8> {
        let mut der = hex::decode("3059301306072a8648ce3d020106082a8648ce3d030107034200").unwrap();
        der.extend_from_slice(point);
        der
    }

    fn algorithm_der(id: AlgorithmIdentifier) -> Vec<u8> {
        let mut der = vec![0x30, id.as_ref().len() as u8];
        der.extend_from_slice(id.as_ref());
        der
    }

    #[test]
    fn verification_picks_the_algorithm_by_key_and_signature_together() {
        let verify_signed = |spki: &[u8], alg: &[u8], message: &[u8], sig: &[u8]| {
            SignatureBudget::new(usize::MAX).verify(spki, alg, message, sig)
        };
        let key = p256::ecdsa::SigningKey::from_bytes(&[5u8; 32].into()).unwrap();
        let spki = p256_spki(key.verifying_key().to_encoded_point(false).as_bytes());
        let message = b"tbsCertList bytes";
        let sha256: p256::ecdsa::Signature = key.sign_prehash(&Sha256::digest(message)).unwrap();
        let sha384: p256::ecdsa::Signature = key.sign_prehash(&Sha384::digest(message)).unwrap();
        let (sha256, sha384) = (sha256.to_der().as_bytes().to_vec(), sha384.to_der().as_bytes().to_vec());
        let ecdsa_sha256 = algorithm_der(alg_id::ECDSA_SHA256);
        let ecdsa_sha384 = algorithm_der(alg_id::ECDSA_SHA384);
        assert_eq!(verify_signed(&spki, &ecdsa_sha256, message, &sha256), Ok(()));
        // P-256 with SHA-384 is not the first P-256 algorithm in the list.
        assert_eq!(verify_signed(&spki, &ecdsa_sha384, message, &sha384), Ok(()));
        let refused = Err("the signature does not verify".to_string());
        assert_eq!(verify_signed(&spki, &ecdsa_sha384, message, &sha256), refused);
        assert_eq!(verify_signed(&spki, &ecdsa_sha256, b"other bytes", &sha256), refused);
        let ed25519 = algorithm_der(alg_id::ED25519);
        assert_eq!(verify_signed(&spki, &ed25519, message, &sha256), Err("unsupported signature algorithm".into()));
        assert!(verify_signed(b"\x30\x00", &ecdsa_sha256, message, &sha256).unwrap_err().starts_with("bad key"));
    }
}
