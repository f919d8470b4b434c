//! Revocation that works offline at the edge: a denylist of serials and thumbprints, and
//! CRLs supplied in configuration, signature-checked against their issuer when read, with
//! a freshness limit (nextUpdate) and an explicit fail-open / fail-closed choice.

use std::fmt;

use sha2::Digest as _;
use x509_cert::crl::CertificateList;
use x509_cert::der::Decode;

use crate::certificate::{name_text, rfc3339, serial_magnitude, ClientCertificate};
use crate::thumbprint::{self, split_entries, Thumbprint};
use crate::trust::{strip_sequence, CaCertificate, PathLink, SignatureBudget};

/// Denied serial numbers and thumbprints.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Denylist {
    serials: Vec<Vec<u8>>,
    thumbprints: Vec<Thumbprint>,
    /// SHA-256 of SubjectPublicKeyInfo: every certificate with that key.
    keys: Vec<[u8; 32]>,
}

fn parse_serial(raw: &str) -> Result<Vec<u8>, &'static str> {
    let digits: String =
        raw.chars().filter(|c| *c != ':' && !c.is_whitespace() && !thumbprint::is_invisible(*c)).collect();
    if digits.is_empty() || digits.len() > 42 || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err("a serial is 1 to 21 bytes of hex");
    }
    let padded = if digits.len() % 2 == 1 { format!("0{digits}") } else { digits };
    let bytes = hex::decode(padded).map_err(|_| "not hexadecimal")?;
    Ok(serial_magnitude(&bytes))
}

impl Denylist {
    /// Entries: `serial:0A:1B:…` (hex, as `openssl x509 -serial` prints it), `key:` and a
    /// key digest in any spelling `allowed_key_pins` accepts, or a SHA-1 / SHA-256
    /// thumbprint in any spelling `allowed_thumbprints` accepts.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let mut list = Denylist::default();
        for (i, piece) in split_entries(raw) {
            let trimmed = piece.trim();
            let serial = trimmed.get(..7).filter(|p| p.eq_ignore_ascii_case("serial:")).and_then(|_| trimmed.get(7..));
            let key = trimmed.get(..4).filter(|p| p.eq_ignore_ascii_case("key:")).and_then(|_| trimmed.get(4..));
            if let Some(serial) = serial {
                list.serials.push(parse_serial(serial).map_err(|p| format!("entry {i}: {p}"))?);
            } else if let Some(key) = key {
                list.keys.push(super::pins::parse_key_pin(key.trim()).map_err(|p| format!("entry {i}: {p}"))?);
            } else {
                list.thumbprints.push(thumbprint::parse_entry(piece).map_err(|p| format!("entry {i}: {p}"))?);
            }
        }
        Ok(list)
    }

    /// Whether nothing is denied.
    pub fn is_empty(&self) -> bool {
        self.serials.is_empty() && self.thumbprints.is_empty() && self.keys.is_empty()
    }

    /// How many entries (serials, thumbprints and keys) are denied.
    pub fn len(&self) -> usize {
        self.serials.len() + self.thumbprints.len() + self.keys.len()
    }

    /// The denied thumbprint of `der` or of any of its ECDSA twins (the same certificate
    /// with the other valid form of its signature, which anyone can write, and which has
    /// other thumbprints), if one is listed.
    fn thumbprint_of(&self, der: &[u8], sha1: &[u8; 20], sha256: &[u8; 32]) -> Option<&Thumbprint> {
        if self.thumbprints.is_empty() {
            return None;
        }
        if let Some(t) = self.thumbprints.iter().find(|t| t.matches(sha1, sha256)) {
            return Some(t);
        }
        crate::trust::issuer::ecdsa_twins(der).into_iter().find_map(|twin| {
            let sha1: [u8; 20] = sha1::Sha1::digest(&twin).into();
            let sha256: [u8; 32] = sha2::Sha256::digest(&twin).into();
            self.thumbprints.iter().find(|t| t.matches(&sha1, &sha256))
        })
    }

    /// Why a CA certificate on the verified path is denied, if it is: by thumbprint
    /// (serial entries name client certificates, whose issuers differ).
    pub fn check_ca(&self, der: &[u8]) -> Option<Revocation> {
        if self.thumbprints.is_empty() {
            return None;
        }
        let sha1: [u8; 20] = sha1::Sha1::digest(der).into();
        let sha256: [u8; 32] = sha2::Sha256::digest(der).into();
        self.thumbprint_of(der, &sha1, &sha256).map(|t| Revocation::CaThumbprint { thumbprint: t.to_string() })
    }

    /// Why this certificate (`der`, decoded as `c`) is denied, if it is: by serial, by key,
    /// or by the thumbprint of it or of its ECDSA twin.
    pub fn check(&self, c: &ClientCertificate, der: &[u8]) -> Option<Revocation> {
        if self.serials.contains(&c.serial) {
            return Some(Revocation::Serial { serial_hex: c.serial_hex.clone() });
        }
        if let Some(key) = c.key_digests().find(|k| self.keys.contains(k)) {
            return Some(Revocation::Key { key_sha256: *key });
        }
        self.thumbprint_of(der, &c.sha1, &c.sha256).map(|t| Revocation::Thumbprint { thumbprint: t.to_string() })
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

/// A CRL from configuration, already signature-checked against the CA that issued it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Crl {
    /// RFC 4514 text of the issuer, for the log.
    pub issuer: String,
    /// The digest of the issuer's key in its canonical form
    /// ([`crate::key_identity::issuer_key_sha256`]) and the identity of its Name
    /// ([`crate::name_identity::name_key`]): a CRL applies to a certificate only when both
    /// match its issuer's, so two CAs that share a name (a rollover) never share a list,
    /// while a CA that writes its key or its name two ways (a renewal that compresses its
    /// point or changes a string type) keeps its lists.
    issuer_key: [u8; 32],
    issuer_name: [u8; 32],
    pub this_update: i64,
    pub next_update: i64,
    /// Revoked serials as unsigned integers ([`serial_magnitude`]), sorted and unique.
    revoked: Vec<Vec<u8>>,
    /// Which of its issuer's certificates it speaks for.
    scope: Scope,
}

/// Which certificates of its issuer a CRL speaks for: all of them, unless its
/// issuingDistributionPoint (RFC 5280 5.2.5) says less. Its serials revoke whatever it
/// says (an issuer's serials are its own, so that denies nothing else), but only a list
/// that covers a certificate says whether that certificate's status is current: a fresh
/// list for CA certificates, or for another partition, hides nothing a stale one misses.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Scope {
    only_user_certs: bool,
    only_ca_certs: bool,
    /// onlySomeReasons, indirectCRL or onlyContainsAttributeCerts: never an issuer's
    /// whole status for a certificate.
    partial: bool,
    /// The distribution point's names (each GeneralName's DER) when it names one: then
    /// it covers only a certificate whose cRLDistributionPoints names one of them (a name
    /// relative to the issuer is kept as no name, so it covers nothing).
    point: Option<Vec<Vec<u8>>>,
}

/// id-ce-issuingDistributionPoint and id-ce-cRLDistributionPoints.
const ISSUING_DISTRIBUTION_POINT: &str = "2.5.29.28";
/// The extnID TLV of cRLDistributionPoints (2.5.29.31).
const CRL_DISTRIBUTION_POINTS_TLV: &[u8] = &[0x06, 0x03, 0x55, 0x1d, 0x1f];

impl Scope {
    fn read(crl: &CertificateList) -> Result<Scope, String> {
        use x509_cert::ext::pkix::crl::dp::IssuingDistributionPoint;
        use x509_cert::ext::pkix::name::DistributionPointName;
        let oid = x509_cert::der::oid::ObjectIdentifier::new_unwrap(ISSUING_DISTRIBUTION_POINT);
        let extensions = crl.tbs_cert_list.crl_extensions.iter().flatten();
        let Some(extension) = extensions.into_iter().find(|e| e.extn_id == oid) else { return Ok(Scope::default()) };
        let idp = IssuingDistributionPoint::from_der(extension.extn_value.as_bytes())
            .map_err(|e| format!("its issuingDistributionPoint does not decode ({e})"))?;
        let point = match &idp.distribution_point {
            None => None,
            Some(DistributionPointName::FullName(names)) => {
                Some(names.iter().filter_map(|n| x509_cert::der::Encode::to_der(n).ok()).collect())
            }
            Some(DistributionPointName::NameRelativeToCRLIssuer(_)) => Some(Vec::new()),
        };
        Ok(Scope {
            only_user_certs: idp.only_contains_user_certs,
            only_ca_certs: idp.only_contains_ca_certs,
            partial: idp.only_some_reasons.is_some() || idp.indirect_crl || idp.only_contains_attribute_certs,
            point,
        })
    }

    /// Whether the list speaks for `certificate` (DER), at `depth` on its path (0 is the
    /// client certificate; above it, CA certificates).
    fn covers(&self, depth: usize, certificate: &[u8]) -> bool {
        if self.partial || (self.only_user_certs && depth > 0) || (self.only_ca_certs && depth == 0) {
            return false;
        }
        let Some(names) = &self.point else { return true };
        use x509_cert::ext::pkix::name::DistributionPointName;
        // The extension alone, read from the bytes: a list is asked once per request for
        // each certificate of its issuer, and the certificate need not be decoded again.
        let Some(value) = crate::certificate::extension_value(certificate, CRL_DISTRIBUTION_POINTS_TLV) else {
            return false;
        };
        let Ok(points) = x509_cert::ext::pkix::CrlDistributionPoints::from_der(value) else {
            return false;
        };
        points.0.iter().any(|point| match &point.distribution_point {
            Some(DistributionPointName::FullName(full)) => {
                full.iter().filter_map(|n| x509_cert::der::Encode::to_der(n).ok()).any(|der| names.contains(&der))
            }
            _ => false,
        })
    }
}

impl Crl {
    /// Whether this CRL's issuer has the Name whose [`crate::name_identity::name_key`] this
    /// is (another string type, case or white space is the same name), whatever its key.
    /// For a pinned certificate's safety net: a list of that name makes its status unknown,
    /// never "no list".
    pub fn is_from_name_keyed(&self, name_key: &[u8; 32]) -> bool {
        self.issuer_name == *name_key
    }

    /// Whether this CRL lists the serial (an unsigned integer, [`serial_magnitude`]).
    pub fn lists(&self, serial: &[u8]) -> bool {
        self.revoked.binary_search_by(|s| s.as_slice().cmp(serial)).is_ok()
    }
}

/// Why a certificate is revoked.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Revocation {
    /// Its serial is on the denylist.
    Serial {
        /// The serial, as the certificate carries it (hex).
        serial_hex: String,
    },
    /// Its key is on the denylist.
    Key {
        /// SHA-256 of its SubjectPublicKeyInfo.
        key_sha256: [u8; 32],
    },
    /// Its thumbprint (or its ECDSA twin's) is on the denylist.
    Thumbprint {
        /// The denylist entry, as configured.
        thumbprint: String,
    },
    /// The thumbprint of a CA certificate on its path is on the denylist.
    CaThumbprint {
        /// The denylist entry, as configured.
        thumbprint: String,
    },
    /// A CRL of its issuer lists it (`depth` 0 is the client certificate, 1 the CA above it...).
    Crl {
        /// Position on the path.
        depth: usize,
        /// Its serial, as an unsigned integer.
        serial: Vec<u8>,
        /// The CRL issuer's name (RFC 4514).
        issuer: String,
    },
    /// A pinned certificate that no configured CA verifiably signed is listed by a CRL from a
    /// CA of its issuer's name.
    UnconfirmedIssuerListed,
    /// An entry of the key-value store revokes it (`depth` 0 is the client certificate, 1
    /// the CA above it...).
    Stored {
        /// What the entry is keyed by: `thumbprint` (of it or its ECDSA twin), `key` or `serial`.
        kind: &'static str,
        /// Position on the path.
        depth: usize,
        /// The entry's label, if it has one.
        label: Option<String>,
    },
}

fn on_path(depth: usize) -> String {
    if depth == 0 {
        "the certificate".to_string()
    } else {
        format!("CA certificate {depth} on the path")
    }
}

impl fmt::Display for Revocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Revocation::Serial { serial_hex } => write!(f, "serial {serial_hex} is on the denylist"),
            Revocation::Key { key_sha256 } => write!(f, "key sha256 {} is on the denylist", hex::encode(key_sha256)),
            Revocation::Thumbprint { thumbprint } => write!(f, "thumbprint {thumbprint} is on the denylist"),
            Revocation::CaThumbprint { thumbprint } => {
                write!(f, "thumbprint {thumbprint} of a CA certificate on the path is on the denylist")
            }
            Revocation::Crl { depth, serial, issuer } => {
                write!(f, "{} (serial {}) is revoked by a CRL of {issuer}", on_path(*depth), hex::encode(serial))
            }
            Revocation::UnconfirmedIssuerListed => f.write_str(
                "a configured CRL from a CA of its issuer's name lists its serial (no configured CA of that name \
                 verifiably signed it)",
            ),
            Revocation::Stored { kind, depth, label: Some(label) } => {
                write!(f, "{} is revoked by the key-value store's {kind} entry \"{label}\"", on_path(*depth))
            }
            Revocation::Stored { kind, depth, label: None } => {
                write!(f, "{} is revoked by the key-value store's {kind} entry", on_path(*depth))
            }
        }
    }
}

/// Why a certificate's revocation status cannot be confirmed current.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Staleness {
    /// The freshest CRL of an issuer on the path is past its nextUpdate.
    Crl {
        /// Position on the path of the certificate it is for.
        depth: usize,
        /// The CRL issuer's name (RFC 4514).
        issuer: String,
        /// Its nextUpdate (Unix seconds).
        next_update: i64,
    },
    /// A configured CRL names a pinned certificate's issuer, but no configured CA of that
    /// name verifies the certificate's signature.
    UnconfirmedIssuer,
    /// A pinned certificate's signed parts could not be read to find its issuer (the
    /// reader's explanation).
    Unreadable(String),
    /// Its issuer has configured CRLs, but none speaks for it: their
    /// issuingDistributionPoint limits them to CA certificates, to end-entity ones, to
    /// some reasons, or to another distribution point.
    NotCovered {
        /// Position on the path of the certificate.
        depth: usize,
        /// The CRL issuer's name (RFC 4514).
        issuer: String,
    },
    /// Its issuer's name has configured CRLs, but none from its issuer's key.
    OtherKey {
        /// Position on the path of the certificate.
        depth: usize,
        /// The CRL issuer's name (RFC 4514).
        issuer: String,
    },
}

impl fmt::Display for Staleness {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Staleness::Crl { depth, issuer, next_update } => write!(
                f,
                "the freshest CRL of {issuer} (for {}) was due for renewal at {}",
                on_path(*depth),
                rfc3339(*next_update)
            ),
            Staleness::UnconfirmedIssuer => f.write_str(
                "a configured CRL names its issuer, but no configured CA of that name verifies its signature, so \
                 whether that CRL applies is unknown",
            ),
            Staleness::Unreadable(problem) => write!(f, "the certificate: {problem}"),
            Staleness::NotCovered { depth, issuer } => write!(
                f,
                "no configured CRL of {issuer} speaks for {} (their issuingDistributionPoint leaves it out)",
                on_path(*depth)
            ),
            Staleness::OtherKey { depth, issuer } => write!(
                f,
                "the configured CRLs of {issuer} are all from another key than the one that issued {} (another CA \
                 of that name, or a new key whose CRLs are not configured)",
                on_path(*depth)
            ),
        }
    }
}

/// The CRL verdict for a certificate, or for every certificate of a path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum CrlStatus {
    /// No configured CRL is from the issuer of any certificate checked.
    NoList,
    Good,
    Revoked(Revocation),
    /// The freshest list of an issuer on the path is past its nextUpdate.
    Stale(Staleness),
}

fn time_secs(t: &x509_cert::time::Time) -> i64 {
    i64::try_from(t.to_unix_duration().as_secs()).unwrap_or(i64::MAX)
}

/// Parse a PEM bundle of `X509 CRL` blocks. Each must be signed by one of `issuers`
/// (configured anchors or intermediates): the one whose name it carries and whose key
/// verifies its signature, a CA allowed to sign CRLs. Each must carry a nextUpdate.
pub(crate) fn parse_crls(raw: &str, issuers: &[CaCertificate]) -> Result<Vec<Crl>, String> {
    let ders = crate::extract::decode_pem_blocks(raw, "X509 CRL", super::MAX_BUNDLE).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for (i, der) in ders.into_iter().enumerate() {
        let n = i + 1;
        let crl = CertificateList::from_der(&der).map_err(|e| format!("CRL {n} is not DER ({e})"))?;
        let tbs = &crl.tbs_cert_list;
        let (issuer_der, issuer) = signer(&der, &crl, issuers).map_err(|problem| match problem {
            SignerProblem::NotNamed(issuer) => {
                format!("CRL {n}: its issuer ({issuer}) is not a configured trust anchor or intermediate")
            }
            SignerProblem::Unreadable(problem) => format!("CRL {n}: {problem}"),
            SignerProblem::NotVerified(issuer) => {
                format!("CRL {n} from {issuer}: the key of no configured CA of that name verifies its signature")
            }
            SignerProblem::NoCrlSign(subject) => {
                format!("CRL {n}: the keyUsage of its issuer {subject} does not allow cRLSign")
            }
        })?;
        let next_update =
            tbs.next_update.as_ref().ok_or(format!("CRL {n} has no nextUpdate, so its freshness cannot be judged"))?;
        // rustls-webpki's reader refuses what certgate cannot judge (delta CRLs, critical
        // extensions it does not know).
        // Read in place and every entry checked, as `to_owned` would, without building
        // webpki's own map of the entries (a 100,000-entry list is parsed per request).
        let usable = webpki::BorrowedCertRevocationList::from_der(&der)
            .and_then(|list| (&list).into_iter().try_for_each(|entry| entry.map(|_| ())));
        usable.map_err(|e| format!("CRL {n}: not usable ({e:?})"))?;
        let mut revoked: Vec<Vec<u8>> =
            tbs.revoked_certificates.iter().flatten().map(|r| serial_magnitude(r.serial_number.as_bytes())).collect();
        // Sorted, so a lookup is a binary search whatever the list's length.
        revoked.sort_unstable();
        revoked.dedup();
        out.push(Crl {
            issuer: name_text(&tbs.issuer),
            issuer_name: crate::name_identity::name_key(strip_sequence(issuer_der)),
            issuer_key: crate::key_identity::issuer_key_sha256(&issuer.signed.spki_der),
            this_update: time_secs(&tbs.this_update),
            next_update: time_secs(next_update),
            revoked,
            scope: Scope::read(&crl).map_err(|e| format!("CRL {n}: {e}"))?,
        });
    }
    Ok(out)
}

/// Why a CRL has no issuer among the CA certificates it was checked against.
enum SignerProblem {
    /// No CA's subject is its issuer Name, byte for byte (the Name's RFC 4514 text).
    NotNamed(String),
    /// Its issuer or signed parts cannot be read (what is wrong).
    Unreadable(String),
    /// No CA of that name has a key that verifies its signature (the Name's text).
    NotVerified(String),
    /// The CA that signed it may not sign CRLs (the CA's subject).
    NoCrlSign(String),
}

/// The issuer Name of `der` (the CRL `crl` decodes) as signed, and which of `issuers` issued
/// it: a CA whose subject is that Name, byte for byte (what the path's certificates name
/// their issuer by), whose key verifies its signature over the bytes as the CRL carries
/// them, and whose keyUsage allows cRLSign.
fn signer<'a>(
    der: &'a [u8],
    crl: &CertificateList,
    issuers: &'a [CaCertificate],
) -> Result<(&'a [u8], &'a CaCertificate), SignerProblem> {
    let issuer_text = || name_text(&crl.tbs_cert_list.issuer);
    // Never re-encoded (see `certificate::raw_crl_issuer`): a decoder re-sorts a SET OF.
    let issuer_der =
        crate::certificate::raw_crl_issuer(der).ok_or_else(|| SignerProblem::Unreadable("bad issuer".into()))?;
    let named: Vec<&CaCertificate> = issuers.iter().filter(|c| c.signed.subject_der.as_slice() == issuer_der).collect();
    if named.is_empty() {
        return Err(SignerProblem::NotNamed(issuer_text()));
    }
    let (message, alg, _) = crate::trust::issuer::signed_parts(der).map_err(SignerProblem::Unreadable)?;
    let signature =
        crl.signature.as_bytes().ok_or_else(|| SignerProblem::Unreadable("signature is not whole bytes".into()))?;
    // Configuration is trusted and read once: every CA of that name may be tried.
    let unlimited = SignatureBudget::new(usize::MAX);
    let issuer = named
        .into_iter()
        .find(|c| unlimited.verify(&c.signed.spki_der, alg, message, signature).is_ok())
        .ok_or_else(|| SignerProblem::NotVerified(issuer_text()))?;
    if !issuer.signed.may_sign_crls {
        return Err(SignerProblem::NoCrlSign(issuer.subject.clone()));
    }
    Ok((issuer_der, issuer))
}

/// The issuer Names a DER CRL's serials are to be filed under, as SHA-256 of each Name's
/// DER, when one of the CA certificates `ca_ders` issued it as certgate requires of a CRL
/// in `crls`: its issuer Name is the CA's subject byte for byte, the CA's key verifies its
/// signature and the CA's keyUsage allows cRLSign. The Names are the CRL's issuer and the
/// subject of every other CA certificate given with a name that matches
/// ([`crate::name_identity::name_key`]: a renewal that writes the name with another string
/// type, or one of its old key), whatever its key, since a certificate names its issuer as
/// the CA certificate that signed it does and the `crls` variable revokes a serial a list
/// of the name names whichever key signed it. For tools that file a CRL's serials elsewhere (`certgate-kv revoke-crl --ca`),
/// so a CRL whose issuer no certificate names is refused rather than filed where no lookup
/// finds it. The error says why.
pub fn crl_issuer_digests(crl_der: &[u8], ca_ders: &[Vec<u8>]) -> Result<Vec<[u8; 32]>, String> {
    let cas = ca_ders
        .iter()
        .enumerate()
        .map(|(i, der)| CaCertificate::from_der(der.clone()).map_err(|e| format!("CA certificate {}: {e}", i + 1)))
        .collect::<Result<Vec<_>, _>>()?;
    let crl = CertificateList::from_der(crl_der).map_err(|e| format!("the CRL is not DER ({e})"))?;
    let (issuer_der, _) = signer(crl_der, &crl, &cas).map_err(|problem| match problem {
        SignerProblem::NotNamed(issuer) => format!(
            "the CRL's issuer ({issuer}) is not, byte for byte, the subject of any CA certificate given (a CA whose \
             CRLs write its name otherwise revokes nothing: no certificate is named so)"
        ),
        SignerProblem::Unreadable(problem) => format!("the CRL: {problem}"),
        SignerProblem::NotVerified(issuer) => {
            format!("the CRL from {issuer}: the key of no CA certificate given of that name verifies its signature")
        }
        SignerProblem::NoCrlSign(subject) => {
            format!("the keyUsage of the CRL's issuer {subject} does not allow cRLSign")
        }
    })?;
    let name = crate::name_identity::name_key(strip_sequence(issuer_der));
    let mut digests: Vec<[u8; 32]> = vec![sha2::Sha256::digest(issuer_der).into()];
    for ca in &cas {
        let digest: [u8; 32] = sha2::Sha256::digest(&ca.signed.subject_der).into();
        if crate::name_identity::name_key(strip_sequence(&ca.signed.subject_der)) == name && !digests.contains(&digest)
        {
            digests.push(digest);
        }
    }
    Ok(digests)
}

/// Look every certificate of `links` (a path, leaf first, each with its issuer's key) up
/// in the CRLs of its own issuer: those with that issuer's name *and* key (however each
/// certificate spells the key). A certificate whose issuer's name has lists, but none
/// from its issuer's key (another CA of that name, or a rollover whose new lists are not
/// configured), has an unknown status, never "no list".
///
/// A serial listed by any of that issuer's CRLs is revoked; whether the issuer's
/// revocation information is current is judged by its freshest CRL (latest thisUpdate,
/// then latest nextUpdate), so the order of the bundle never matters. Revoked anywhere on
/// the path beats stale anywhere on it.
pub(crate) fn crl_status(crls: &[Crl], links: &[PathLink], now: i64) -> CrlStatus {
    let mut status = CrlStatus::NoList;
    if crls.is_empty() {
        return status;
    }
    for (depth, link) in links.iter().enumerate() {
        let name = crate::name_identity::name_key(&link.issuer_content);
        let named = || crls.iter().filter(|c| c.issuer_name == name);
        let Some(of_the_name) = named().next() else {
            continue;
        };
        // A serial listed by any list of its issuer's name is revoked, whichever of the
        // CA's keys signed that list: a CA that rolled over to a new key may list its old
        // key's certificates there (RFC 5280 allows it).
        if let Some(listing) = named().find(|c| c.lists(&link.serial)) {
            return CrlStatus::Revoked(Revocation::Crl {
                depth,
                serial: link.serial.clone(),
                issuer: listing.issuer.clone(),
            });
        }
        // Whether the status is current, only its own issuer's key's lists can say;
        // lists of the name from other keys alone leave it unknown.
        let key = crate::key_identity::issuer_key_sha256(&link.issuer_spki);
        let lists = || named().filter(|c| c.issuer_key == key);
        let Some(any) = lists().next() else {
            if !matches!(status, CrlStatus::Stale(_)) {
                status = CrlStatus::Stale(Staleness::OtherKey { depth, issuer: of_the_name.issuer.clone() });
            }
            continue;
        };
        // Freshness from the lists that speak for this certificate only.
        let covering = lists().filter(|c| c.scope.covers(depth, &link.der));
        let Some(freshest) = covering.max_by_key(|c| (c.this_update, c.next_update)) else {
            if !matches!(status, CrlStatus::Stale(_)) {
                status = CrlStatus::Stale(Staleness::NotCovered { depth, issuer: any.issuer.clone() });
            }
            continue;
        };
        if now > freshest.next_update {
            if !matches!(status, CrlStatus::Stale(_)) {
                status = CrlStatus::Stale(Staleness::Crl {
                    depth,
                    issuer: freshest.issuer.clone(),
                    next_update: freshest.next_update,
                });
            }
        } else if status == CrlStatus::NoList {
            status = CrlStatus::Good;
        }
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
        let link =
            PathLink { der: Vec::new(), issuer_content: b"ca".to_vec(), serial: vec![1], issuer_spki: b"k".to_vec() };
        let links = std::slice::from_ref(&link);
        let crl = |revoked: Vec<Vec<u8>>| Crl {
            issuer: "CN=ca".into(),
            issuer_key: crate::key_identity::issuer_key_sha256(b"k"),
            issuer_name: crate::name_identity::name_key(b"ca"),
            this_update: 0,
            next_update: 100,
            revoked,
            scope: Scope::default(),
        };
        assert_eq!(crl_status(&[crl(vec![vec![2]])], links, 100), CrlStatus::Good);
        assert!(matches!(crl_status(&[crl(vec![vec![2]])], links, 101), CrlStatus::Stale(_)));
        assert!(matches!(crl_status(&[crl(vec![vec![1]])], links, 50), CrlStatus::Revoked(_)));
        // Another issuer's name, or the same name with another key, is another issuer.
        let other = Crl { issuer_name: crate::name_identity::name_key(b"other"), ..crl(vec![vec![1]]) };
        assert_eq!(crl_status(&[other], links, 50), CrlStatus::NoList);
        // The same name with another key: not its list, and not "no list" either.
        let rollover = Crl { issuer_key: crate::key_identity::issuer_key_sha256(b"new key"), ..crl(vec![vec![2]]) };
        // ...though a serial it lists is revoked (a CA's new key may list its old key's).
        let rollover_listing = Crl { revoked: vec![vec![1]], ..rollover.clone() };
        assert!(matches!(crl_status(&[rollover_listing], links, 50), CrlStatus::Revoked(_)));
        assert!(matches!(
            crl_status(&[rollover.clone()], links, 50),
            CrlStatus::Stale(Staleness::OtherKey { depth: 0, .. })
        ));
        assert_eq!(crl_status(&[rollover, crl(vec![])], links, 50), CrlStatus::Good, "its own key's list too");
        // Two lists of one issuer: the freshest judges staleness, in either order; a serial
        // on either is revoked.
        let stale = Crl { this_update: 0, next_update: 100, ..crl(vec![]) };
        let fresh = Crl { this_update: 150, next_update: 300, ..crl(vec![]) };
        for bundle in [[stale.clone(), fresh.clone()], [fresh.clone(), stale.clone()]] {
            assert_eq!(crl_status(&bundle, links, 200), CrlStatus::Good);
            assert!(matches!(crl_status(&bundle, links, 301), CrlStatus::Stale(_)));
        }
        let old_revoking = Crl { this_update: 0, next_update: 100, ..crl(vec![vec![1]]) };
        for bundle in [[old_revoking.clone(), fresh.clone()], [fresh.clone(), old_revoking.clone()]] {
            assert!(matches!(crl_status(&bundle, links, 200), CrlStatus::Revoked(_)));
        }
        // Every certificate of the path is checked against its own issuer's lists; revoked
        // anywhere beats stale anywhere.
        let ca_link = PathLink { issuer_content: b"root".to_vec(), issuer_spki: b"r".to_vec(), ..link.clone() };
        let root_crl = |revoked, next_update| Crl {
            issuer_key: crate::key_identity::issuer_key_sha256(b"r"),
            issuer_name: crate::name_identity::name_key(b"root"),
            next_update,
            ..crl(revoked)
        };
        let path = [link.clone(), ca_link];
        assert!(matches!(crl_status(&[crl(vec![]), root_crl(vec![], 10)], &path, 50), CrlStatus::Stale(_)));
        assert!(matches!(crl_status(&[crl(vec![]), root_crl(vec![vec![1]], 100)], &path, 50), CrlStatus::Revoked(_)));
        assert!(matches!(crl_status(&[crl(vec![]), root_crl(vec![vec![1]], 10)], &path, 50), CrlStatus::Revoked(_)));
        assert_eq!(crl_status(&[root_crl(vec![], 100)], &path, 50), CrlStatus::Good);
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

    /// A list speaks for a certificate by its scope: CA-only lists not for the client
    /// certificate, user-only ones not for CAs, a partial list for none, and a
    /// distribution point only for a certificate that names it. What a list does not
    /// speak for is not made current by it, but its serials still revoke.
    #[test]
    fn a_list_judges_freshness_only_for_what_its_scope_covers() {
        let leaf =
            PathLink { der: Vec::new(), issuer_content: b"ca".to_vec(), serial: vec![1], issuer_spki: b"k".to_vec() };
        let list = |scope: Scope, next_update: i64, revoked: Vec<Vec<u8>>| Crl {
            issuer: "CN=ca".into(),
            issuer_key: crate::key_identity::issuer_key_sha256(b"k"),
            issuer_name: crate::name_identity::name_key(b"ca"),
            this_update: next_update - 10,
            next_update,
            revoked,
            scope,
        };
        let ca_only = Scope { only_ca_certs: true, ..Scope::default() };
        let user_only = Scope { only_user_certs: true, ..Scope::default() };
        let partial = Scope { partial: true, ..Scope::default() };
        let elsewhere = Scope { point: Some(vec![b"uri".to_vec()]), ..Scope::default() };
        assert!(!ca_only.covers(0, b"") && ca_only.covers(1, b""));
        assert!(user_only.covers(0, b"") && !user_only.covers(1, b""));
        assert!(!partial.covers(0, b"") && !partial.covers(1, b""));
        assert!(!elsewhere.covers(0, b"not a certificate"));
        let links = std::slice::from_ref(&leaf);
        // A fresh list that does not speak for the leaf beside a stale one that does.
        for other in [ca_only, partial, elsewhere] {
            let crls = [list(Scope::default(), 100, vec![]), list(other.clone(), 1000, vec![])];
            assert!(matches!(crl_status(&crls, links, 500), CrlStatus::Stale(Staleness::Crl { depth: 0, .. })));
            // Alone it says nothing of the leaf: not current.
            let alone = [list(other.clone(), 1000, vec![])];
            assert!(matches!(crl_status(&alone, links, 500), CrlStatus::Stale(Staleness::NotCovered { depth: 0, .. })));
            // Its serials revoke all the same.
            let listing = [list(other, 1000, vec![vec![1]])];
            assert!(matches!(crl_status(&listing, links, 500), CrlStatus::Revoked(_)));
        }
        assert_eq!(crl_status(&[list(user_only, 1000, vec![])], links, 500), CrlStatus::Good);
    }
}
