//! The decision: from the request's headers and the configuration to an authenticated
//! identity or a refusal with its reason. Order: proof the header came from the proxy,
//! the terminator's verdict, extraction and decoding, validity, revocation, trust (pins,
//! then chain validation), name rules.

use crate::certificate::{rfc3339, ClientCertificate};
use crate::config::{var, Config};
use crate::extract::{check_digest, extract, Format};
use crate::policy::pins::{self, Pin, PinMatch};
use crate::policy::revocation::{crl_status, CrlStatus, WhenStale};
use crate::reason::{Reason, Refusal};
use crate::trust::issuer::{MAX_LIST_SIGNATURE_CHECKS, MAX_SIGNATURE_CHECKS};
use crate::trust::{ChainError, PathLink, SignatureBudget, SignedCertificate};

/// Read access to the request's header lines.
pub trait RequestHeaders {
    /// Every line of the header `name` (lowercase), in order; empty when absent.
    fn get_all(&self, name: &str) -> Vec<Vec<u8>>;
}

impl RequestHeaders for Vec<(String, Vec<u8>)> {
    fn get_all(&self, name: &str) -> Vec<Vec<u8>> {
        self.iter().filter(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.clone()).collect()
    }
}

/// What made the certificate trusted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TrustedBy {
    Pin(Pin),
    /// A valid path to this configured anchor (RFC 4514 subject).
    Anchor(String),
}

/// A successfully authenticated client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    pub certificate: ClientCertificate,
    /// The rest of the forwarded chain, decoded (leaf excluded).
    pub chain: Vec<ClientCertificate>,
    pub format: Format,
    pub trusted_by: TrustedBy,
    /// Things an operator should know (a pin nearing its end, a stale CRL let through).
    pub warnings: Vec<String>,
}

/// A refusal, with the certificate when it was decoded (for the decision log and
/// report-only mode).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Denial {
    pub refusal: Refusal,
    pub certificate: Option<Box<ClientCertificate>>,
}

impl From<Refusal> for Denial {
    fn from(refusal: Refusal) -> Self {
        Denial { refusal, certificate: None }
    }
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
struct InlineList {
    certificates: Vec<SignedCertificate>,
}

impl InlineList {
    fn read(leaf: &[u8], chain: &[Vec<u8>]) -> Result<Self, String> {
        let mut certificates = vec![
            SignedCertificate::from_der(leaf).map_err(|e| format!("certificate 1 in the header value: {e}"))?,
        ];
        for (i, der) in chain.iter().enumerate() {
            let n = i + 2;
            let issuer =
                SignedCertificate::from_der(der).map_err(|e| format!("certificate {n} in the header value: {e}"))?;
            if !issuer.can_issue() {
                return Err(format!(
                    "certificate {n} in the header value is not a CA allowed to sign certificates, so it cannot \
                     have issued certificate {}",
                    n - 1
                ));
            }
            if certificates[i].issuer_der != issuer.subject_der {
                return Err(format!(
                    "certificate {} in the header value does not name certificate {n} as its issuer",
                    n - 1
                ));
            }
            certificates.push(issuer);
        }
        Ok(InlineList { certificates })
    }

    /// On the anchor path: every certificate of the list after the leaf must be one that
    /// path building verified (on the path, or the anchor). No signature work: a list that
    /// carries certificates the path did not need is refused rather than checked at the
    /// cost of keys its sender chose.
    fn within_path(listed: &[Vec<u8>], links: &[PathLink], anchor_der: &[u8]) -> Result<(), String> {
        for (i, der) in listed.iter().enumerate() {
            if der != anchor_der && !links.iter().any(|l| l.der == *der) {
                return Err(format!(
                    "certificate {} in the header value is not on the path to the trust anchor",
                    i + 2
                ));
            }
        }
        Ok(())
    }

    fn verify_signatures(&self, budget: &SignatureBudget) -> Result<(), String> {
        for (i, pair) in self.certificates.windows(2).enumerate() {
            pair[0].verify_issued_by(&pair[1], budget).map_err(|e| {
                format!("certificate {} in the header value was not issued by certificate {}: {e}", i + 1, i + 2)
            })?;
        }
        Ok(())
    }
}

fn inline_refusal(detail: String) -> Refusal {
    Refusal::ambiguous(detail)
        .public("several certificates in one header value must be a chain, leaf first, each issued by the next")
}

/// Why a pinned certificate's revocation could not be judged.
enum Unjudged {
    /// Finding its issuer spent the signature budget.
    Budget(String),
    /// A CRL names its issuer, but no configured CA of that name verifies its signature.
    Unconfirmed(String),
    /// As `Unconfirmed`, and such a CRL lists its serial: revoked, whatever crl_when_stale.
    Listed(String),
}

/// The revocation path of a pinned certificate (`leaf`, decoded as `certificate`): the
/// certificate with the configured CA whose name and key issued it, or nothing when no
/// configured CRL names its issuer.
fn pinned_link(
    policy: &crate::policy::Policy,
    leaf: &[u8],
    certificate: &ClientCertificate,
    budget: &SignatureBudget,
) -> Result<Vec<PathLink>, Unjudged> {
    let unconfirmed = |why: String| Unjudged::Unconfirmed(why);
    let signed = SignedCertificate::from_der(leaf).map_err(|e| unconfirmed(format!("the certificate: {e}")))?;
    let issuer_content = crate::trust::strip_sequence(&signed.issuer_der).to_vec();
    let issuer = match policy.trust.issuer_of(&signed, budget) {
        Ok(Some(issuer)) => issuer,
        Ok(None) if policy.crls.iter().any(|c| c.is_from_name(&issuer_content) && c.lists(&certificate.serial)) => {
            return Err(Unjudged::Listed(
                "a configured CRL from a CA of its issuer's name lists its serial (no configured CA of that name \
                 verifiably signed it)"
                    .into(),
            ))
        }
        Ok(None) if policy.crls.iter().any(|c| c.is_from_name(&issuer_content)) => {
            return Err(unconfirmed(
                "a configured CRL names its issuer, but no configured CA of that name verifies its signature, so \
                 whether that CRL applies is unknown"
                    .into(),
            ))
        }
        Ok(None) => return Ok(Vec::new()),
        Err(_) => {
            return Err(Unjudged::Budget(format!(
                "its issuer could not be found among the configured CAs within {MAX_SIGNATURE_CHECKS} signature \
                 checks, so its revocation is unknown"
            )))
        }
    };
    Ok(vec![PathLink {
        der: leaf.to_vec(),
        issuer_content,
        serial: certificate.serial.clone(),
        issuer_spki: issuer.signed.spki_der.clone(),
    }])
}

/// Authenticate a request at `now` (Unix seconds).
pub fn authenticate(config: &Config, headers: &dyn RequestHeaders, now: i64) -> Result<Identity, Denial> {
    let policy = &config.policy;
    let settings = &config.extraction;
    let cert_lines = headers.get_all(&settings.header);
    // Proof of origin first: nothing from an unauthenticated sender is parsed.
    if let Some(secret) = &policy.shared_secret {
        secret.check(&headers.get_all(&secret.header))?;
    }
    if let Some(signature) = &policy.signature {
        signature.check(&headers.get_all(&signature.header), &cert_lines, now, config.clock_skew_seconds)?;
    }
    for verdict in &policy.verdicts {
        verdict.check(&headers.get_all(&verdict.header))?;
    }
    // A certificate the terminator dropped as too large is not a missing one.
    if let Some(flag) = &settings.too_large_flag {
        flag.check(&headers.get_all(&flag.header)).map_err(Refusal::from)?;
    }

    let chain_lines = match &settings.chain_header {
        Some(h) => headers.get_all(h),
        None => Vec::new(),
    };
    let forwarded = extract(settings, &cert_lines, &chain_lines).map_err(Refusal::from)?;
    if let Some(digest_header) = &settings.digest_header {
        check_digest(digest_header, &headers.get_all(digest_header), &forwarded.leaf).map_err(Refusal::from)?;
    }
    let certificate = ClientCertificate::from_der(&forwarded.leaf).map_err(Refusal::from)?;
    let deny = |reason: Reason, detail: String, certificate: ClientCertificate| Denial {
        refusal: Refusal::new(reason, detail),
        certificate: Some(Box::new(certificate)),
    };
    let mut chain = Vec::with_capacity(forwarded.chain.len());
    for (i, der) in forwarded.chain.iter().enumerate() {
        match ClientCertificate::from_der(der) {
            Ok(c) => chain.push(c),
            Err(e) => {
                let detail = format!("chain certificate {}: {e}", i + 1);
                return Err(deny(Reason::CertificateMalformed, detail, certificate));
            }
        }
    }
    // Two forwarded certificates with one subject: never needed by a real chain, and the
    // shape that makes path building try every combination.
    for (i, c) in chain.iter().enumerate() {
        if c.subject == certificate.subject || chain[..i].iter().any(|earlier| earlier.subject == c.subject) {
            let detail = format!("forwarded certificate {} repeats the subject of an earlier one", i + 2);
            return Err(deny(Reason::CertificateAmbiguous, detail, certificate));
        }
    }
    let budget = SignatureBudget::default();
    let listed = &forwarded.chain[..forwarded.inline_count.min(forwarded.chain.len())];
    let inline = if listed.is_empty() {
        None
    } else {
        match InlineList::read(&forwarded.leaf, listed) {
            Ok(list) => Some(list),
            Err(detail) => return Err(Denial { refusal: inline_refusal(detail), certificate: Some(Box::new(certificate)) }),
        }
    };

    let skew = i64::try_from(config.clock_skew_seconds).unwrap_or(0);
    if now.saturating_add(skew) < certificate.not_before {
        let detail = format!("not valid before {}", rfc3339(certificate.not_before));
        return Err(deny(Reason::CertificateNotYetValid, detail, certificate));
    }
    if now.saturating_sub(skew) > certificate.not_after {
        let detail = format!("expired at {}", rfc3339(certificate.not_after));
        return Err(deny(Reason::CertificateExpired, detail, certificate));
    }

    let mut warnings = Vec::new();
    if let Some(detail) = policy.denylist.check(&certificate, &forwarded.leaf) {
        return Err(deny(Reason::CertificateRevoked, detail, certificate));
    }

    // Trust, and the path whose revocation is then checked: for a pinned certificate, the
    // certificate alone with the configured CA whose key issued it (if any); for a chain,
    // every certificate below the anchor.
    let found = pins::find(&policy.thumbprints, var::ALLOWED_THUMBPRINTS, &policy.pins, &certificate, now);
    let (trusted_by, links, anchor_der) = match found {
        PinMatch::Active(pin) => {
            if let Some(end) = pin.not_after {
                if end - now <= policy.pin_warning_seconds {
                    warnings.push(format!("{} ends at {}", pin.describe(), rfc3339(end)));
                }
            }
            let links = if policy.crls.is_empty() {
                Vec::new()
            } else {
                match pinned_link(policy, &forwarded.leaf, &certificate, &budget) {
                    Ok(links) => links,
                    Err(Unjudged::Budget(detail)) => return Err(deny(Reason::CertificateUntrusted, detail, certificate)),
                    Err(Unjudged::Listed(detail)) => return Err(deny(Reason::CertificateRevoked, detail, certificate)),
                    // Judged as a list that cannot be confirmed current: `crl_when_stale` decides.
                    Err(Unjudged::Unconfirmed(detail)) if policy.when_stale == WhenStale::Deny => {
                        return Err(deny(Reason::RevocationListStale, detail, certificate))
                    }
                    Err(Unjudged::Unconfirmed(detail)) => {
                        warnings.push(format!("{detail}; allowed by crl_when_stale = allow"));
                        Vec::new()
                    }
                }
            };
            (TrustedBy::Pin(pin), links, None)
        }
        unmatched if !policy.trust.is_empty() => {
            // Within the skew the chain is judged at a time inside the leaf's own window
            // (`from_der` refuses a window that ends before it begins; max-then-min cannot
            // panic even if one reached here, where `clamp` would).
            let at = now.max(certificate.not_before).min(certificate.not_after);
            match policy.trust.verify(&forwarded.leaf, &forwarded.chain, at, policy.eku, &budget) {
                Ok(verified) => {
                    if certificate.digital_signature_allowed == Some(false) {
                        let detail = "keyUsage does not allow digitalSignature".to_string();
                        return Err(deny(Reason::CertificateWrongUsage, detail, certificate));
                    }
                    (TrustedBy::Anchor(verified.anchor), verified.links, Some(verified.anchor_der))
                }
                Err(e) => {
                    let (reason, mut detail) = match e {
                        ChainError::WrongUsage(d) => (Reason::CertificateWrongUsage, d),
                        ChainError::Untrusted(d) => (Reason::CertificateUntrusted, d),
                        ChainError::Expired => {
                            (Reason::CertificateUntrusted, "a certificate on the path has expired".into())
                        }
                        ChainError::NotYetValid => {
                            (Reason::CertificateUntrusted, "a certificate on the path is not valid yet".into())
                        }
                        ChainError::TooMuchWork => (
                            Reason::CertificateUntrusted,
                            format!("no path found within the budget of {MAX_SIGNATURE_CHECKS} signature checks"),
                        ),
                    };
                    if let PinMatch::Inactive(pin) = unmatched {
                        detail.push_str(&format!("; {}", pins::inactive_detail(&pin, now)));
                    }
                    return Err(deny(reason, detail, certificate));
                }
            }
        }
        PinMatch::Inactive(pin) => {
            let detail = pins::inactive_detail(&pin, now);
            return Err(deny(Reason::CertificateNotAllowed, detail, certificate));
        }
        PinMatch::None => {
            let detail = format!("no configured pin matches (sha256 {})", certificate.sha256_hex());
            return Err(deny(Reason::CertificateNotAllowed, detail, certificate));
        }
    };

    // Trusted: only now does a list's chain of signatures matter (see `InlineList`). On the
    // anchor path the list must be made of the path's own certificates; for a pin, its links
    // are verified within their own small budget.
    if let Some(list) = &inline {
        let checked = match &anchor_der {
            Some(anchor) => InlineList::within_path(listed, &links, anchor),
            None => list.verify_signatures(&SignatureBudget::new(MAX_LIST_SIGNATURE_CHECKS)),
        };
        if let Err(detail) = checked {
            return Err(Denial { refusal: inline_refusal(detail), certificate: Some(Box::new(certificate)) });
        }
    }

    // Revocation of every certificate on that path: thumbprints of its CA certificates on
    // the denylist, then each certificate against its own issuer's CRLs.
    for der in links.iter().skip(1).map(|l| l.der.as_slice()).chain(anchor_der.as_deref()) {
        if let Some(detail) = policy.denylist.check_ca(der) {
            return Err(deny(Reason::CertificateRevoked, detail, certificate));
        }
    }
    match crl_status(&policy.crls, &links, now) {
        CrlStatus::Revoked(detail) => return Err(deny(Reason::CertificateRevoked, detail, certificate)),
        CrlStatus::Stale(detail) if policy.when_stale == WhenStale::Deny => {
            return Err(deny(Reason::RevocationListStale, detail, certificate))
        }
        CrlStatus::Stale(detail) => warnings.push(format!("{detail}; allowed by crl_when_stale = allow")),
        CrlStatus::Good | CrlStatus::NoList => {}
    }

    if !policy.names.is_empty() && !policy.names.iter().any(|rule| rule.matches(&certificate)) {
        let detail = "no name rule matches the certificate's subject CN, DNS, email, URI or SPIFFE ID".to_string();
        return Err(deny(Reason::CertificateNameNotAllowed, detail, certificate));
    }
    Ok(Identity { certificate, chain, format: forwarded.format, trusted_by, warnings })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::var;
    use crate::extract::XfccElements;
    use certgate_testkit::{encode, Ca, Issued, KeyKind, LeafOptions};

    fn now() -> i64 {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
    }

    fn config(pins: &str, extra: &[(&str, &str)]) -> Config {
        let mut vars: Vec<(&str, &str)> = vec![(var::ALLOWED_THUMBPRINTS, pins)];
        vars.extend_from_slice(extra);
        Config::load(&vars.as_slice()).unwrap()
    }

    fn lines(config: &Config, cert: &[Vec<u8>], chain: &[Vec<u8>]) -> Vec<(String, Vec<u8>)> {
        let mut h: Vec<(String, Vec<u8>)> =
            cert.iter().map(|l| (config.extraction.header.clone(), l.clone())).collect();
        if let Some(ch) = &config.extraction.chain_header {
            h.extend(chain.iter().map(|l| (ch.clone(), l.clone())));
        }
        h
    }

    fn authenticate_lines(config: &Config, cert: &[Vec<u8>], chain: &[Vec<u8>], now: i64) -> Result<Identity, Denial> {
        authenticate(config, &lines(config, cert, chain), now)
    }

    fn run(config: &Config, value: &str) -> Result<Identity, Denial> {
        authenticate_lines(config, &[value.as_bytes().to_vec()], &[], now())
    }

    fn pin_of(id: &Identity) -> &Pin {
        match &id.trusted_by {
            TrustedBy::Pin(p) => p,
            other => panic!("trusted by {other:?}"),
        }
    }

    fn thumbprint_algorithm(id: &Identity) -> crate::thumbprint::Algorithm {
        match &pin_of(id).value {
            crate::policy::pins::PinValue::Thumbprint(t) => t.algorithm,
            other => panic!("{other:?}"),
        }
    }

    fn reason(config: &Config, value: &str) -> Reason {
        run(config, value).unwrap_err().refusal.reason
    }

    #[test]
    fn every_format_and_key_kind_authenticates() {
        let ca = Ca::new("Test Root");
        for kind in [KeyKind::Rsa2048, KeyKind::EcdsaP256, KeyKind::EcdsaP384, KeyKind::Ed25519] {
            let leaf = ca.issue(&LeafOptions::named("svc").key(kind).dns("svc.example").uri("spiffe://t/ns/a"));
            let cfg = config(&leaf.sha256_hex(), &[]);
            let encodings: Vec<(String, Format)> = vec![
                (encode::base64_der(&leaf.der), Format::Base64Der),
                (format!("\"{}\"", encode::base64_der(&leaf.der)), Format::Base64Der),
                (encode::pem(&leaf.der), Format::Pem),
                (encode::pem_apache(&leaf.der), Format::Pem),
                (encode::pem_tab_continued(&leaf.der), Format::Pem),
                (encode::url_pem_nginx(&leaf.der), Format::UrlPem),
                (encode::url_pem_alb(&leaf.der), Format::UrlPem),
                (encode::rfc9440(&leaf.der), Format::Rfc9440),
                (encode::xfcc_element(&leaf.der, &[], "CN=svc"), Format::Xfcc),
                (encode::traefik_chain(&[&leaf.der, &ca.certificate.der]), Format::Base64Der),
            ];
            for (value, format) in encodings {
                // Auto-detected and explicitly configured.
                for cfg in [cfg.clone(), config(&leaf.sha256_hex(), &[(var::CERTIFICATE_FORMAT, format.name())])] {
                    let id = run(&cfg, &value).unwrap_or_else(|e| panic!("{kind:?} {format:?}: {e:?}"));
                    assert_eq!(id.format, format);
                    assert_eq!(id.certificate.sha256_hex(), leaf.sha256_hex());
                    assert_eq!(id.certificate.dns_names, vec!["svc.example"]);
                    assert_eq!(id.certificate.uris, vec!["spiffe://t/ns/a"]);
                    assert_eq!(pin_of(&id).entry, 1);
                }
            }
        }
    }

    #[test]
    fn identity_fields() {
        let ca = Ca::new("Test Root");
        let mut opts = LeafOptions::named("alice").email("alice@example.com").dns("a.example");
        opts.serial = Some(vec![0x0a, 0xbc, 0xde]);
        let leaf = ca.issue(&opts);
        let cfg = config(&format!("{};sha1:{}", "00".repeat(32), leaf.sha1_hex().to_uppercase()), &[]);
        let id = run(&cfg, &encode::base64_der(&leaf.der)).unwrap();
        assert_eq!(id.certificate.subject, "CN=alice");
        assert_eq!(id.certificate.issuer, "CN=Test Root");
        assert_eq!(id.certificate.serial_hex, "0abcde");
        assert_eq!(id.certificate.emails, vec!["alice@example.com"]);
        assert_eq!(id.certificate.sha1_hex(), leaf.sha1_hex());
        assert_eq!(pin_of(&id).entry, 2);
        assert_eq!(thumbprint_algorithm(&id), crate::thumbprint::Algorithm::Sha1);
        assert!(id.certificate.not_before < now() && now() < id.certificate.not_after);
    }

    #[test]
    fn validity_window_and_skew() {
        let ca = Ca::new("Test Root");
        let expired = ca.issue(&LeafOptions::named("old").expired());
        let future = ca.issue(&LeafOptions::named("new").not_yet_valid());
        let pins = format!("{};{}", expired.sha256_hex(), future.sha256_hex());
        let cfg = config(&pins, &[]);
        let denial = run(&cfg, &encode::base64_der(&expired.der)).unwrap_err();
        assert_eq!(denial.refusal.reason, Reason::CertificateExpired);
        assert!(denial.certificate.is_some(), "the log gets the thumbprint of a decoded certificate");
        assert_eq!(reason(&cfg, &encode::base64_der(&future.der)), Reason::CertificateNotYetValid);
        // Expired beats not-allowed: the reason says what is wrong with the certificate itself.
        let cfg_other = config(&"ab".repeat(32), &[]);
        assert_eq!(reason(&cfg_other, &encode::base64_der(&expired.der)), Reason::CertificateExpired);
        // Skew: a certificate that expired (or starts) an hour away passes with a day of
        // tolerance and fails with the default minute.
        let mut opts = LeafOptions::named("edge");
        opts.not_after = certgate_testkit::OffsetDateTime::now_utc() - certgate_testkit::Duration::hours(1);
        let just_expired = ca.issue(&opts);
        let mut opts = LeafOptions::named("edge");
        opts.not_before = certgate_testkit::OffsetDateTime::now_utc() + certgate_testkit::Duration::hours(1);
        let almost_valid = ca.issue(&opts);
        let pins = format!("{};{}", just_expired.sha256_hex(), almost_valid.sha256_hex());
        let strict = config(&pins, &[]);
        assert_eq!(reason(&strict, &encode::base64_der(&just_expired.der)), Reason::CertificateExpired);
        assert_eq!(reason(&strict, &encode::base64_der(&almost_valid.der)), Reason::CertificateNotYetValid);
        let lenient = config(&pins, &[(var::CLOCK_SKEW_SECONDS, "86400")]);
        assert!(run(&lenient, &encode::base64_der(&just_expired.der)).is_ok());
        assert!(run(&lenient, &encode::base64_der(&almost_valid.der)).is_ok());
    }

    #[test]
    fn validity_boundaries_are_inclusive_with_skew() {
        let ca = Ca::new("Test Root");
        let leaf = ca.issue(&LeafOptions::named("edge"));
        let cfg = config(&leaf.sha256_hex(), &[]);
        let c = crate::certificate::ClientCertificate::from_der(&leaf.der).unwrap();
        let skew = cfg.clock_skew_seconds as i64;
        let at = |t: i64| authenticate_lines(&cfg, &[encode::base64_der(&leaf.der).into_bytes()], &[], t);
        assert!(at(c.not_before - skew).is_ok(), "first valid second (with skew)");
        assert_eq!(at(c.not_before - skew - 1).unwrap_err().refusal.reason, Reason::CertificateNotYetValid);
        assert!(at(c.not_after + skew).is_ok(), "last valid second (with skew)");
        assert_eq!(at(c.not_after + skew + 1).unwrap_err().refusal.reason, Reason::CertificateExpired);
    }

    #[test]
    fn not_allowed_and_sha1_sha256_pins() {
        let ca = Ca::new("Test Root");
        let a = ca.issue(&LeafOptions::named("a"));
        let b = ca.issue(&LeafOptions::named("b"));
        let cfg = config(&a.sha1_hex(), &[]);
        assert!(run(&cfg, &encode::base64_der(&a.der)).is_ok());
        let denial = run(&cfg, &encode::base64_der(&b.der)).unwrap_err();
        assert_eq!(denial.refusal.reason, Reason::CertificateNotAllowed);
        assert!(denial.refusal.detail.contains(&b.sha256_hex()));
    }

    #[test]
    fn malformed_ambiguous_missing_and_large() {
        let ca = Ca::new("Test Root");
        let leaf = ca.issue(&LeafOptions::named("a"));
        let cfg = config(&leaf.sha256_hex(), &[]);
        let b64 = encode::base64_der(&leaf.der);
        assert_eq!(reason(&cfg, &b64[..b64.len() / 2]), Reason::CertificateMalformed, "truncated");
        assert_eq!(reason(&cfg, &encode::base64_der(b"not a certificate")), Reason::CertificateMalformed);
        let mut trailing = leaf.der.clone();
        trailing.push(0);
        assert_eq!(reason(&cfg, &encode::base64_der(&trailing)), Reason::CertificateMalformed, "trailing byte");
        let double = encode::url_pem_nginx(&leaf.der).replace('%', "%25");
        assert_eq!(reason(&cfg, &double), Reason::CertificateMalformed, "double-encoded");
        assert_eq!(reason(&cfg, ""), Reason::CertificateMissing);
        assert_eq!(reason(&cfg, "(null)"), Reason::CertificateMissing);
        let twice = authenticate_lines(&cfg, &[b64.clone().into_bytes(), b64.clone().into_bytes()], &[], now());
        assert_eq!(twice.unwrap_err().refusal.reason, Reason::CertificateAmbiguous);
        let rsa = ca.issue(&LeafOptions::named("rsa").key(KeyKind::Rsa2048));
        let rsa_b64 = encode::base64_der(&rsa.der);
        assert!(rsa_b64.len() > 512);
        let small = config(&rsa.sha256_hex(), &[(var::MAX_HEADER_BYTES, "512")]);
        assert_eq!(reason(&small, &rsa_b64), Reason::CertificateTooLarge);
        // Two leaves in one value (a client copy merged with the terminator's) are not a
        // chain: refused, whichever comes first.
        let bob = ca.issue(&LeafOptions::named("bob"));
        let merged = format!("{b64},{}", encode::base64_der(&bob.der));
        assert_eq!(reason(&cfg, &merged), Reason::CertificateAmbiguous);
        let merged_pem = format!("{}{}", encode::pem(&leaf.der), encode::pem(&bob.der));
        assert_eq!(reason(&cfg, &merged_pem), Reason::CertificateAmbiguous);
        let in_order = format!("{b64},{}", encode::base64_der(&ca.certificate.der));
        assert_eq!(run(&cfg, &in_order).unwrap().chain.len(), 1);
        // A chain certificate that does not decode makes the whole header malformed.
        let bad_chain = format!("{b64},{}", encode::base64_der(b"junk"));
        assert_eq!(reason(&cfg, &bad_chain), Reason::CertificateMalformed);
    }

    #[test]
    fn xfcc_elements_and_chain() {
        let ca = Ca::new("Test Root");
        let inter = ca.intermediate("Test Intermediate");
        let leaf = inter.issue(&LeafOptions::named("mesh"));
        let other = inter.issue(&LeafOptions::named("spoofed"));
        let cfg = config(&leaf.sha256_hex(), &[(var::PLATFORM, "envoy")]);
        let good = encode::xfcc_element(&leaf.der, &[&inter.certificate.der], "CN=mesh");
        let id = run(&cfg, &good).unwrap();
        assert_eq!(id.chain.len(), 1);
        assert_eq!(id.chain[0].subject, "CN=Test Intermediate");
        // A client-supplied element first, the nearest proxy's last.
        let two = format!("{},{}", encode::xfcc_element(&other.der, &[], "CN=spoofed"), good);
        assert_eq!(reason(&cfg, &two), Reason::CertificateAmbiguous);
        let mut last = cfg.clone();
        last.extraction.xfcc_elements = XfccElements::Last;
        assert_eq!(run(&last, &two).unwrap().certificate.sha256_hex(), leaf.sha256_hex());
        // Two header lines are one list.
        let lines = [encode::xfcc_element(&other.der, &[], "CN=x").into_bytes(), good.clone().into_bytes()];
        assert_eq!(
            authenticate_lines(&cfg, &lines, &[], now()).unwrap_err().refusal.reason,
            Reason::CertificateAmbiguous
        );
        assert_eq!(authenticate_lines(&last, &lines, &[], now()).unwrap().certificate.sha256_hex(), leaf.sha256_hex());
    }

    #[test]
    fn rfc9440_chain_header() {
        let ca = Ca::new("Test Root");
        let inter = ca.intermediate("Test Intermediate");
        let leaf = inter.issue(&LeafOptions::named("a"));
        let cfg = config(&leaf.sha256_hex(), &[(var::PLATFORM, "rfc9440")]);
        let chain = format!("{}, {}", encode::rfc9440(&inter.certificate.der), encode::rfc9440(&ca.certificate.der));
        let id =
            authenticate_lines(&cfg, &[encode::rfc9440(&leaf.der).into_bytes()], &[chain.into_bytes()], now()).unwrap();
        assert_eq!(id.chain.len(), 2);
        let dup = [b":AQID:".to_vec(), b":AQID:".to_vec()];
        let denial = authenticate_lines(&cfg, &[encode::rfc9440(&leaf.der).into_bytes()], &dup, now()).unwrap_err();
        assert_eq!(denial.refusal.reason, Reason::CertificateAmbiguous);
    }

    #[test]
    fn large_certificate_passes_default_limit_in_every_format() {
        let ca = Ca::new("Test Root");
        let leaf: Issued = ca.issue(&LeafOptions::named("big").large());
        assert!(leaf.der.len() > 5000, "large certificate is {} bytes", leaf.der.len());
        let cfg = config(&leaf.sha256_hex(), &[]);
        for value in [
            encode::base64_der(&leaf.der),
            encode::url_pem_nginx(&leaf.der),
            encode::rfc9440(&leaf.der),
            encode::xfcc_element(&leaf.der, &[&ca.certificate.der], "CN=big"),
        ] {
            let id = run(&cfg, &value).unwrap_or_else(|e| panic!("{e:?}"));
            assert_eq!(id.certificate.dns_names.len(), 100);
        }
    }
}
