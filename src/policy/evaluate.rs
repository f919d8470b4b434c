//! [`Policy::evaluate`]: what the policy says of a decoded certificate that is within its
//! validity window: the denylist, trust (an active pin, else a valid chain to an anchor),
//! the signatures of a list forwarded in one value, revocation of every certificate on the
//! path that trusted it, and name rules, in that order.

use std::fmt;

use sha2::{Digest, Sha256};

use super::pins::{self, Pin, PinMatch, PinValue};
use super::revocation::{crl_status, CrlStatus, Revocation, Staleness, WhenStale};
use super::Policy;
use crate::certificate::{rfc3339, ClientCertificate};
use crate::reason::Reason;
use crate::store::chain::CachedChain;
use crate::store::{self, Entry, EntryKey, KeyValue, Opened, State, StoreProblem};
use crate::thumbprint::Thumbprint;
use crate::trust::issuer::{ecdsa_twins, MAX_LIST_SIGNATURE_CHECKS, MAX_SIGNATURE_CHECKS};
use crate::trust::{strip_sequence, ChainError, PathLink, SignatureBudget, SignedCertificate, VerifiedChain};

/// What made the certificate trusted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TrustedBy {
    /// An active pin.
    Pin(Pin),
    /// A valid path to this configured anchor (RFC 4514 subject).
    Anchor(String),
}

/// Where a matching pin's window stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PinWindow {
    /// It begins at this time (Unix seconds).
    NotYet(i64),
    /// It ended at this time.
    Ended(i64),
}

/// A pin that matched outside its window: its description (label, variable, entry) and
/// where its window stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InactivePin {
    /// `pin "label" (pins entry 2)` or `allowed_key_pins entry 1`.
    pub pin: String,
    /// Its window.
    pub window: PinWindow,
}

impl InactivePin {
    /// Where `pin`'s window stands at `now` (for a pin that is not active then).
    pub(crate) fn of(pin: &Pin, now: i64) -> Self {
        let window = match (pin.not_before, pin.not_after) {
            (Some(nb), _) if now < nb => PinWindow::NotYet(nb),
            (_, Some(na)) => PinWindow::Ended(na),
            // A pin without a window is always active: not reached.
            (Some(nb), None) => PinWindow::NotYet(nb),
            (None, None) => PinWindow::Ended(now),
        };
        InactivePin { pin: pin.describe(), window }
    }
}

impl fmt::Display for InactivePin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.window {
            PinWindow::NotYet(t) => write!(f, "{} is not active until {}", self.pin, rfc3339(t)),
            PinWindow::Ended(t) => write!(f, "{} ended at {}", self.pin, rfc3339(t)),
        }
    }
}

/// Why a list of certificates forwarded in one value is refused.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum InlineListError {
    /// A certificate of the list (1-based position) could not be read for its signature.
    Unreadable {
        /// Position in the header value.
        position: usize,
        /// Why.
        problem: String,
    },
    /// The certificate at `position` is not a CA allowed to sign certificates.
    NotACa {
        /// Position in the header value.
        position: usize,
    },
    /// The certificate at `position` does not name the next as its issuer.
    IssuerNameMismatch {
        /// Position in the header value.
        position: usize,
    },
    /// The certificate at `position` was not issued by the next.
    NotIssuedByNext {
        /// Position in the header value.
        position: usize,
        /// The signature check's explanation.
        problem: String,
    },
    /// On the anchor path, the certificate at `position` is not on the path that was built.
    NotOnPath {
        /// Position in the header value.
        position: usize,
    },
}

impl InlineListError {
    /// What the client is told (fixed text about the request, never configuration).
    pub const PUBLIC_DETAIL: &'static str =
        "several certificates in one header value must be a chain, leaf first, each issued by the next";
}

impl fmt::Display for InlineListError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InlineListError::Unreadable { position, problem } => {
                write!(f, "certificate {position} in the header value: {problem}")
            }
            InlineListError::NotACa { position } => write!(
                f,
                "certificate {position} in the header value is not a CA allowed to sign certificates, so it cannot \
                 have issued certificate {}",
                position - 1
            ),
            InlineListError::IssuerNameMismatch { position } => write!(
                f,
                "certificate {position} in the header value does not name certificate {} as its issuer",
                position + 1
            ),
            InlineListError::NotIssuedByNext { position, problem } => write!(
                f,
                "certificate {position} in the header value was not issued by certificate {}: {problem}",
                position + 1
            ),
            InlineListError::NotOnPath { position } => {
                write!(f, "certificate {position} in the header value is not on the path to the trust anchor")
            }
        }
    }
}

/// What the policy refuses a certificate for.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PolicyDenial {
    /// Revoked: denylisted, or listed by a CRL of its issuer.
    Revoked(Revocation),
    /// Its revocation status cannot be confirmed current (and `crl_when_stale = deny`).
    Stale(Staleness),
    /// No pin matches and no trust anchor is configured.
    NoPinMatches {
        /// SHA-256 of the certificate's DER.
        sha256: [u8; 32],
    },
    /// Only a pin outside its window matches, and no trust anchor is configured.
    PinInactive(InactivePin),
    /// No valid path to a configured anchor (with the inactive pin that matched, if one did).
    Chain {
        /// Why.
        error: ChainError,
        /// A matching pin outside its window.
        inactive_pin: Option<InactivePin>,
    },
    /// Chains to an anchor, but its keyUsage does not allow digitalSignature.
    KeyUsage,
    /// Finding a pinned certificate's issuer for its CRLs spent the signature budget.
    IssuerSearchExhausted,
    /// Several certificates forwarded in one value are not a chain, leaf first.
    InlineList(InlineListError),
    /// No name rule matches.
    NameNotAllowed,
    /// The key-value store could not be used, so the certificate's entries there are unknown.
    Store(StoreProblem),
}

impl PolicyDenial {
    /// The reason code.
    pub fn reason(&self) -> Reason {
        match self {
            PolicyDenial::Revoked(_) => Reason::CertificateRevoked,
            PolicyDenial::Stale(_) => Reason::RevocationListStale,
            PolicyDenial::NoPinMatches { .. } | PolicyDenial::PinInactive(_) => Reason::CertificateNotAllowed,
            PolicyDenial::Chain { error, .. } => error.reason(),
            PolicyDenial::KeyUsage => Reason::CertificateWrongUsage,
            PolicyDenial::IssuerSearchExhausted => Reason::CertificateUntrusted,
            PolicyDenial::InlineList(_) => Reason::CertificateAmbiguous,
            PolicyDenial::NameNotAllowed => Reason::CertificateNameNotAllowed,
            PolicyDenial::Store(problem) => problem.reason(),
        }
    }

    /// What the client is told.
    pub fn public_detail(&self) -> &'static str {
        match self {
            PolicyDenial::InlineList(_) => InlineListError::PUBLIC_DETAIL,
            other => other.reason().public_detail(),
        }
    }
}

impl fmt::Display for PolicyDenial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PolicyDenial::Revoked(r) => write!(f, "{r}"),
            PolicyDenial::Stale(s) => write!(f, "{s}"),
            PolicyDenial::NoPinMatches { sha256 } => {
                write!(f, "no configured pin matches (sha256 {})", hex::encode(sha256))
            }
            PolicyDenial::PinInactive(pin) => write!(f, "{pin}"),
            PolicyDenial::Chain { error, inactive_pin: None } => write!(f, "{error}"),
            PolicyDenial::Chain { error, inactive_pin: Some(pin) } => write!(f, "{error}; {pin}"),
            PolicyDenial::KeyUsage => f.write_str("keyUsage does not allow digitalSignature"),
            PolicyDenial::IssuerSearchExhausted => write!(
                f,
                "its issuer could not be found among the configured CAs within {MAX_SIGNATURE_CHECKS} signature \
                 checks, so its revocation is unknown"
            ),
            PolicyDenial::InlineList(e) => write!(f, "{e}"),
            PolicyDenial::NameNotAllowed => {
                f.write_str("no name rule matches the certificate's subject CN, DNS, email, URI or SPIFFE ID")
            }
            PolicyDenial::Store(problem) => write!(f, "{problem}"),
        }
    }
}

impl std::error::Error for PolicyDenial {}

/// The policy's verdict on a trusted certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trusted {
    /// What trusted it.
    pub trusted_by: TrustedBy,
    /// Things an operator should know (a pin nearing its end, a stale CRL let through).
    pub warnings: Vec<String>,
    /// Whether the path to the anchor came from the chain cache rather than being validated.
    pub path_from_cache: bool,
}

/// The certificates a request forwarded, as the policy sees them.
pub struct Presented<'a> {
    /// The leaf's DER.
    pub leaf: &'a [u8],
    /// The leaf, decoded.
    pub certificate: &'a ClientCertificate,
    /// The rest of the forwarded chain (DER), leaf excluded.
    pub chain: &'a [Vec<u8>],
    /// The first certificates of `chain`, when they came in the leaf's own header value (a
    /// list that must be a chain), read by [`InlineList::read`].
    pub inline: Option<(&'a [Vec<u8>], InlineList)>,
}

/// Several certificates forwarded in one value must form a chain, leaf first: each names
/// the next as its issuer (DER), every certificate after the leaf is a CA allowed to sign
/// certificates, and each is signed by the next one's key. Comparing names is not enough:
/// anyone can make a certificate with another CA's name (a "bridge" put between a victim's
/// certificate and the real one); and without the CA rule an attacker's own end-entity key
/// could sign such a bridge.
///
/// The cheap part (names, CA rules) is checked when the list is read; the signatures only
/// once the leaf would otherwise be trusted ([`InlineList::verify_signatures`]), so a list
/// that leads nowhere costs no signature work, and on the anchor path the links path
/// building already verified are not paid for again.
/// A list of certificates forwarded in one value, read and checked for shape.
pub struct InlineList {
    certificates: Vec<SignedCertificate>,
}

impl InlineList {
    /// Read the list (`chain`: the certificates after the leaf in its header value).
    pub fn read(leaf: &[u8], chain: &[Vec<u8>]) -> Result<Self, InlineListError> {
        let unreadable = |position: usize, e: String| InlineListError::Unreadable { position, problem: e };
        let mut certificates = vec![SignedCertificate::from_der(leaf).map_err(|e| unreadable(1, e.to_string()))?];
        for (i, der) in chain.iter().enumerate() {
            let position = i + 2;
            let issuer = SignedCertificate::from_der(der).map_err(|e| unreadable(position, e.to_string()))?;
            if !issuer.can_issue() {
                return Err(InlineListError::NotACa { position });
            }
            if certificates[i].issuer_der != issuer.subject_der {
                return Err(InlineListError::IssuerNameMismatch { position: position - 1 });
            }
            certificates.push(issuer);
        }
        Ok(InlineList { certificates })
    }

    /// On the anchor path: every certificate of the list after the leaf must be one that
    /// path building verified (on the path, or the anchor). No signature work: a list that
    /// carries certificates the path did not need is refused rather than checked at the
    /// cost of keys its sender chose.
    fn within_path(listed: &[Vec<u8>], links: &[PathLink], anchor_der: &[u8]) -> Result<(), InlineListError> {
        for (i, der) in listed.iter().enumerate() {
            if der != anchor_der && !links.iter().any(|l| l.der == *der) {
                return Err(InlineListError::NotOnPath { position: i + 2 });
            }
        }
        Ok(())
    }

    fn verify_signatures(&self, budget: &SignatureBudget) -> Result<(), InlineListError> {
        for (i, pair) in self.certificates.windows(2).enumerate() {
            pair[0]
                .verify_issued_by(&pair[1], budget)
                .map_err(|e| InlineListError::NotIssuedByNext { position: i + 1, problem: e.to_string() })?;
        }
        Ok(())
    }
}

/// Why a pinned certificate's revocation could not be judged.
enum Unjudged {
    /// Finding its issuer spent the signature budget.
    Budget,
    /// Its revocation status cannot be confirmed current (a CRL names its issuer but no
    /// configured CA of that name verifies it, or its signed parts cannot be read): judged
    /// as a stale list, so `crl_when_stale` decides.
    Stale(Staleness),
    /// A CRL from a CA of its issuer's name lists its serial: revoked, whatever crl_when_stale.
    Listed,
}

impl Policy {
    /// The revocation path of a pinned certificate: the certificate with the configured CA
    /// whose name and key issued it, or nothing when no configured CRL names its issuer.
    fn pinned_link(
        &self,
        leaf: &[u8],
        certificate: &ClientCertificate,
        budget: &SignatureBudget,
    ) -> Result<Vec<PathLink>, Unjudged> {
        let signed =
            SignedCertificate::from_der(leaf).map_err(|e| Unjudged::Stale(Staleness::Unreadable(e.to_string())))?;
        let issuer_content = strip_sequence(&signed.issuer_der).to_vec();
        let issuer = match self.trust.issuer_of(&signed, budget) {
            Ok(Some(issuer)) => issuer,
            Ok(None) if self.crls.is_empty() => return Ok(Vec::new()),
            Ok(None) => {
                // No configured CA of its issuer's name signed it: a list of that name (as
                // X.520 matches names) leaves its status unknown, or revoked if it lists it.
                // The name is the client's to choose, so it is keyed once, not per list.
                let name = crate::name_identity::name_key(&issuer_content);
                let mut named = false;
                for crl in self.crls.iter().filter(|c| c.is_from_name_keyed(&name)) {
                    if crl.lists(&certificate.serial) {
                        return Err(Unjudged::Listed);
                    }
                    named = true;
                }
                if named {
                    return Err(Unjudged::Stale(Staleness::UnconfirmedIssuer));
                }
                return Ok(Vec::new());
            }
            Err(_) => return Err(Unjudged::Budget),
        };
        Ok(vec![PathLink {
            der: leaf.to_vec(),
            issuer_content,
            serial: certificate.serial.clone(),
            issuer_spki: issuer.signed.spki_der.clone(),
        }])
    }

    /// A revocation status that cannot be confirmed current: refused, or with
    /// `crl_when_stale = allow` a warning.
    fn stale(&self, stale: Staleness, warnings: &mut Vec<String>) -> Result<(), PolicyDenial> {
        match self.when_stale {
            WhenStale::Deny => Err(PolicyDenial::Stale(stale)),
            WhenStale::Allow => {
                warnings.push(format!("{stale}; allowed by crl_when_stale = allow"));
                Ok(())
            }
        }
    }

    /// The store's entries for the client certificate: a revocation by its thumbprint, its
    /// key, or its issuer and serial denies it; otherwise the pin the store has for it by
    /// thumbprint or key, if any. Its ECDSA twins are looked up once it is trusted
    /// ([`Policy::stored_twins`]).
    fn stored_entries(store: &Opened<'_>, c: &ClientCertificate) -> Result<Option<Pin>, PolicyDenial> {
        let revoked = |kind, label| PolicyDenial::Revoked(Revocation::Stored { kind, depth: 0, label });
        let lookup = |key: &EntryKey| store.lookup(key).map_err(PolicyDenial::Store);
        let mut pin = None;
        match lookup(&EntryKey::Certificate(c.sha256))? {
            Some(Entry { state: State::Revoked, label, .. }) => return Err(revoked("thumbprint", label)),
            Some(entry) => pin = Some(store_pin(PinValue::Thumbprint(Thumbprint::sha256(c.sha256)), entry)),
            None => {}
        }
        if store.has_key_entries() {
            // The key as signed, and its canonical spelling when the certificate writes it
            // otherwise: either revokes; only the former pins (as `allowed_key_pins`).
            for key in c.key_digests() {
                match lookup(&EntryKey::Key(*key))? {
                    Some(Entry { state: State::Revoked, label, .. }) => return Err(revoked("key", label)),
                    Some(entry) if pin.is_none() && *key == c.spki_sha256 => {
                        pin = Some(store_pin(PinValue::KeySha256(c.spki_sha256), entry))
                    }
                    _ => {}
                }
            }
        }
        Self::stored_serial(store, c.issuer_sha256, &c.serial, 0)?;
        Ok(pin)
    }

    /// A revocation in the store by the thumbprint of the certificate's ECDSA twin: the
    /// same certificate with the other valid form of its signature, which anyone can write
    /// and which has another thumbprint ([`ecdsa_twins`]). Looked up whatever trusts the
    /// certificate, a pin of its own thumbprint included: the revoked thumbprint may be the
    /// twin's (the form a client once sent and the log showed), and the pinned one this.
    fn stored_twins(store: &Opened<'_>, leaf: &[u8]) -> Result<(), PolicyDenial> {
        for twin in ecdsa_twins(leaf) {
            let twin_sha256: [u8; 32] = Sha256::digest(&twin).into();
            let entry = store.lookup(&EntryKey::Certificate(twin_sha256)).map_err(PolicyDenial::Store)?;
            if let Some(Entry { state: State::Revoked, label, .. }) = entry {
                return Err(PolicyDenial::Revoked(Revocation::Stored { kind: "thumbprint", depth: 0, label }));
            }
        }
        Ok(())
    }

    /// A revocation by issuer and serial in the store, for the certificate at `depth` on
    /// the path. Looked up only for an issuer the marker lists; a serial entry can only
    /// revoke (a pin by issuer name and serial would trust anyone who copies them).
    fn stored_serial(store: &Opened<'_>, issuer: [u8; 32], serial: &[u8], depth: usize) -> Result<(), PolicyDenial> {
        if !store.has_serials_of(&issuer) {
            return Ok(());
        }
        let key = EntryKey::serial(issuer, serial);
        match store.lookup(&key).map_err(PolicyDenial::Store)? {
            Some(Entry { state: State::Revoked, label, .. }) => {
                Err(PolicyDenial::Revoked(Revocation::Stored { kind: "serial", depth, label }))
            }
            Some(_) => Err(PolicyDenial::Store(StoreProblem::Entry {
                key: key.name(),
                problem: "an entry by issuer and serial can only revoke".into(),
            })),
            None => Ok(()),
        }
    }

    /// Judge a decoded certificate within its validity window at `now`, with the
    /// key-value store `kv` when `keyvalue_store` is configured.
    pub fn evaluate(&self, presented: &Presented<'_>, now: i64, kv: &dyn KeyValue) -> Result<Trusted, PolicyDenial> {
        let Presented { leaf, certificate, chain, ref inline } = *presented;
        let budget = SignatureBudget::default().remembering(&self.trust.verified);

        let mut warnings = Vec::new();
        if let Some(revocation) = self.denylist.check(certificate, leaf) {
            return Err(PolicyDenial::Revoked(revocation));
        }
        // The store, when configured: its marker, then the certificate's own entries, whose
        // revocations come before any trust.
        let store = match &self.store {
            Some(_) => Some(store::open(kv).map_err(PolicyDenial::Store)?),
            None => None,
        };
        let stored_pin = match &store {
            Some(store) => Self::stored_entries(store, certificate)?,
            None => None,
        };

        // Trust, and the path whose revocation is then checked: for a pinned certificate, the
        // certificate alone with the configured CA whose key issued it (if any); for a chain,
        // every certificate below the anchor. A variable's active pin comes first, then the
        // store's; an inactive one is reported only when nothing is active.
        let found =
            match (pins::find(&self.thumbprints, self.thumbprints_source, &self.pins, certificate, now), stored_pin) {
                (PinMatch::Active(pin), _) => PinMatch::Active(pin),
                (_, Some(pin)) if pin.active_at(now) => PinMatch::Active(pin),
                (PinMatch::Inactive(pin), _) | (PinMatch::None, Some(pin)) => PinMatch::Inactive(pin),
                (PinMatch::None, None) => PinMatch::None,
            };
        let mut path_source = PathSource::Validated;
        let (trusted_by, links, anchor_der) = match found {
            PinMatch::Active(pin) => {
                if let Some(end) = pin.not_after {
                    if end - now <= self.pin_warning_seconds {
                        warnings.push(format!("{} ends at {}", pin.describe(), rfc3339(end)));
                    }
                }
                let links = if self.crls.is_empty() {
                    Vec::new()
                } else {
                    match self.pinned_link(leaf, certificate, &budget) {
                        Ok(links) => links,
                        Err(Unjudged::Budget) => return Err(PolicyDenial::IssuerSearchExhausted),
                        Err(Unjudged::Listed) => {
                            return Err(PolicyDenial::Revoked(Revocation::UnconfirmedIssuerListed))
                        }
                        Err(Unjudged::Stale(stale)) => {
                            self.stale(stale, &mut warnings)?;
                            Vec::new()
                        }
                    }
                };
                (TrustedBy::Pin(pin), links, None)
            }
            unmatched if !self.trust.is_empty() => {
                // Within the skew the chain is judged at a time inside the leaf's own window
                // (`from_der` refuses a window that ends before it begins; max-then-min cannot
                // panic even if one reached here, where `clamp` would).
                let at = now.max(certificate.not_before).min(certificate.not_after);
                let verified = match (&store, self.chain_cache_seconds) {
                    (Some(store), Some(lifetime)) => {
                        let cache = ChainCache { store, lifetime, now };
                        cache.verify(self, presented, at, &budget, &mut warnings)?
                    }
                    _ => self.trust.verify(leaf, chain, at, self.eku, &budget).map(|v| (v, PathSource::Validated)),
                };
                match verified {
                    Ok((verified, source)) => {
                        path_source = source;
                        if certificate.digital_signature_allowed == Some(false) {
                            return Err(PolicyDenial::KeyUsage);
                        }
                        (TrustedBy::Anchor(verified.anchor), verified.links, Some(verified.anchor_der))
                    }
                    Err(error) => {
                        let inactive_pin = match unmatched {
                            PinMatch::Inactive(pin) => Some(InactivePin::of(&pin, now)),
                            _ => None,
                        };
                        return Err(PolicyDenial::Chain { error, inactive_pin });
                    }
                }
            }
            PinMatch::Inactive(pin) => return Err(PolicyDenial::PinInactive(InactivePin::of(&pin, now))),
            PinMatch::None => return Err(PolicyDenial::NoPinMatches { sha256: certificate.sha256 }),
        };

        if let Some(store) = &store {
            Self::stored_twins(store, leaf)?;
        }

        // Trusted: only now does a list's chain of signatures matter (see `InlineList`). On the
        // anchor path the list must be made of the path's own certificates; for a pin, its links
        // are verified within their own small budget.
        if let Some((listed, list)) = inline {
            match &anchor_der {
                Some(anchor) => InlineList::within_path(listed, &links, anchor),
                None => list.verify_signatures(
                    &SignatureBudget::new(MAX_LIST_SIGNATURE_CHECKS).remembering(&self.trust.verified),
                ),
            }
            .map_err(PolicyDenial::InlineList)?;
        }

        // Revocation of every certificate on that path: thumbprints of its CA certificates on
        // the denylist, then each certificate against its own issuer's CRLs.
        for der in links.iter().skip(1).map(|l| l.der.as_slice()).chain(anchor_der.as_deref()) {
            if let Some(revocation) = self.denylist.check_ca(der) {
                return Err(PolicyDenial::Revoked(revocation));
            }
        }
        // The store's revocations by issuer and serial of the CA certificates on the path
        // (the client certificate's were looked up with its other entries).
        if let Some(store) = &store {
            for (depth, link) in links.iter().enumerate().skip(1) {
                Self::stored_serial(store, name_sha256(&link.issuer_content), &link.serial, depth)?;
            }
        }
        match crl_status(&self.crls, &links, now) {
            CrlStatus::Revoked(revocation) => return Err(PolicyDenial::Revoked(revocation)),
            CrlStatus::Stale(stale) => self.stale(stale, &mut warnings)?,
            CrlStatus::Good | CrlStatus::NoList => {}
        }

        if !self.names.is_empty() && !self.names.iter().any(|rule| rule.matches(certificate)) {
            return Err(PolicyDenial::NameNotAllowed);
        }
        // Allowed: only now is a validated path kept (a refused request writes nothing).
        if let (Some(store), PathSource::ToCache(key, value)) = (&store, &path_source) {
            ChainCache::write(store, key, value, &mut warnings);
        }
        let path_from_cache = matches!(path_source, PathSource::Cached);
        Ok(Trusted { trusted_by, warnings, path_from_cache })
    }
}

/// The chain cache (`chain_cache_seconds`) in an opened store: see [`store::chain`].
struct ChainCache<'s, 'kv> {
    store: &'s Opened<'kv>,
    lifetime: u64,
    now: i64,
}

/// Where an anchor path came from, and what the chain cache does once the request is
/// allowed.
enum PathSource {
    /// Validated, and the cache is off (or keeps the entry it has).
    Validated,
    /// Read back from the cache.
    Cached,
    /// Validated; write this entry under this key if the request is allowed.
    ToCache(String, Vec<u8>),
}

/// How old a fresh entry that could not be used must be before a validated path replaces
/// it: a client alternating between two valid paths costs a write a minute, not one a request.
const REPLACE_AFTER_SECONDS: i64 = 60;

impl ChainCache<'_, '_> {
    /// Validate the presented path at `at`, or use the path an earlier request validated
    /// for this leaf under this trust configuration if its entry is fresh and every
    /// certificate of it is at hand and valid at `at`. A validated path is written back only
    /// once the whole request is allowed ([`ChainCache::write`]), so a refused request
    /// writes nothing. Only an unreadable store refuses; an entry that cannot be used is
    /// validated again.
    fn verify(
        &self,
        policy: &Policy,
        presented: &Presented<'_>,
        at: i64,
        budget: &SignatureBudget,
        warnings: &mut Vec<String>,
    ) -> Result<Result<(VerifiedChain, PathSource), ChainError>, PolicyDenial> {
        let (leaf, chain) = (presented.leaf, presented.chain);
        let trust = policy.trust.digest(policy.eku);
        let key = store::chain::key(&trust, &presented.certificate.sha256);
        let mut replace = true;
        if let Some(bytes) = self.store.get(&key).map_err(PolicyDenial::Store)? {
            match CachedChain::parse(&bytes, &trust, &presented.certificate.sha256) {
                Ok(entry) if entry.is_fresh(self.now, self.lifetime) => {
                    // One not usable for this request (a path certificate not sent, or outside
                    // its validity) is validated as if it were not there.
                    if let Ok(verified) = policy.trust.cached(leaf, chain, &entry.path, &entry.anchor, at) {
                        return Ok(Ok((verified, PathSource::Cached)));
                    }
                    replace = self.now.saturating_sub(entry.verified_at) >= REPLACE_AFTER_SECONDS;
                }
                Ok(_) => {}
                Err(problem) => {
                    warnings.push(format!("chain cache entry {key}: {problem}; the path was validated again"))
                }
            }
        }
        Ok(policy.trust.verify(leaf, chain, at, policy.eku, budget).map(|verified| {
            let sha256 = |der: &[u8]| -> [u8; 32] { Sha256::digest(der).into() };
            let entry = CachedChain {
                trust,
                leaf: presented.certificate.sha256,
                path: verified.links.iter().skip(1).map(|l| sha256(&l.der)).collect(),
                anchor: sha256(&verified.anchor_der),
                verified_at: self.now,
            };
            let source = if replace && entry.path.len() <= store::chain::MAX_PATH {
                PathSource::ToCache(key, entry.to_json())
            } else {
                PathSource::Validated
            };
            (verified, source)
        }))
    }

    /// Write a validated path of an allowed request (a store that refuses is a warning:
    /// the request was judged all the same).
    fn write(store: &Opened<'_>, key: &str, value: &[u8], warnings: &mut Vec<String>) {
        if let Err(e) = store.set(key, value) {
            warnings.push(format!("chain cache entry {key} could not be written: {e}"));
        }
    }
}

/// A pin from a store entry (`keyvalue_store`, entry 0).
fn store_pin(value: PinValue, entry: Entry) -> Pin {
    Pin {
        value,
        label: entry.label,
        not_before: entry.not_before,
        not_after: entry.not_after,
        source: store::PIN_SOURCE,
        entry: 0,
    }
}

/// SHA-256 of a Name's DER from its content (the SEQUENCE's tag and length put back): what
/// [`ClientCertificate::issuer_sha256`] is for the client certificate.
fn name_sha256(content: &[u8]) -> [u8; 32] {
    let mut der = vec![0x30];
    let len = content.len();
    if len < 0x80 {
        der.push(len as u8);
    } else {
        let bytes: Vec<u8> = len.to_be_bytes().into_iter().skip_while(|b| *b == 0).collect();
        der.push(0x80 | bytes.len() as u8);
        der.extend_from_slice(&bytes);
    }
    der.extend_from_slice(content);
    Sha256::digest(&der).into()
}
