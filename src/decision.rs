//! The decision: from the request's headers and the configuration to an authenticated
//! identity or a [`Denied`] with its reason. Order: proof the header came from the proxy,
//! the terminator's verdicts, the too-large flag, extraction and decoding, the
//! terminator's digest, the validity window, then the policy ([`Policy::evaluate`]:
//! denylist, trust, revocation, names).
//!
//! [`Policy::evaluate`]: crate::policy::Policy::evaluate

use std::fmt;

use crate::certificate::{rfc3339, CertificateError, ClientCertificate};
use crate::config::{Config, ConfigError};
use crate::extract::{check_digest, extract, ExtractError, Format};
use crate::policy::proxy::OriginDenial;
use crate::policy::{InlineList, InlineListError, PolicyDenial, Presented};
use crate::reason::{Reason, Refusal};
use crate::store::KeyValue;

pub(crate) use crate::policy::TrustedBy;

/// Read access to the request's header lines.
pub trait RequestHeaders {
    /// Every line of the header `name` (lowercase), in order; empty when absent.
    fn get_all(&self, name: &str) -> Vec<Vec<u8>>;
}

impl RequestHeaders for [(String, Vec<u8>)] {
    fn get_all(&self, name: &str) -> Vec<Vec<u8>> {
        self.iter().filter(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.clone()).collect()
    }
}

impl RequestHeaders for Vec<(String, Vec<u8>)> {
    fn get_all(&self, name: &str) -> Vec<Vec<u8>> {
        self.iter().filter(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.clone()).collect()
    }
}

impl RequestHeaders for [(&str, &str)] {
    fn get_all(&self, name: &str) -> Vec<Vec<u8>> {
        self.iter().filter(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_bytes().to_vec()).collect()
    }
}

impl<T: RequestHeaders + ?Sized> RequestHeaders for &T {
    fn get_all(&self, name: &str) -> Vec<Vec<u8>> {
        (**self).get_all(name)
    }
}

/// A successfully authenticated client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    /// The client certificate.
    pub certificate: ClientCertificate,
    /// The rest of the forwarded chain, decoded (leaf excluded).
    pub chain: Vec<ClientCertificate>,
    /// The format the certificate was read in.
    pub format: Format,
    /// What trusted it.
    pub trusted_by: TrustedBy,
    /// Things an operator should know (a pin nearing its end, a stale CRL let through).
    pub warnings: Vec<String>,
    /// Whether the path to the anchor came from the chain cache (`chain_cache_seconds`).
    pub path_from_cache: bool,
}

/// Why a request was not authenticated. [`Denied::reason`] is the stable code,
/// [`Denied::public_detail`] what the client may be told, and `Display` the detail for the
/// operator's log (it may name configuration, never a secret).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Denied {
    /// The configuration is missing or invalid: everything is refused.
    Config(ConfigError),
    /// The proof of origin or the terminator's verdict.
    Origin(OriginDenial),
    /// The certificate header is missing, repeated, too large, or could not be decoded
    /// into DER; or a side header (too-large flag, digest) says so.
    Extract(ExtractError),
    /// The leaf is not a usable X.509 certificate.
    Certificate(CertificateError),
    /// A forwarded chain certificate (1-based position after the leaf) is not.
    ChainCertificate {
        /// Its position after the leaf.
        position: usize,
        /// Why.
        error: CertificateError,
    },
    /// A forwarded certificate (1-based position, the leaf being 1) repeats an earlier one's subject.
    RepeatedSubject {
        /// Its position.
        position: usize,
    },
    /// Several certificates forwarded in one value are not a chain, leaf first.
    InlineList(InlineListError),
    /// notBefore, less the clock skew, is in the future.
    NotYetValid {
        /// notBefore (Unix seconds).
        not_before: i64,
    },
    /// notAfter, plus the clock skew, has passed.
    Expired {
        /// notAfter (Unix seconds).
        not_after: i64,
    },
    /// The policy refused it.
    Policy(PolicyDenial),
}

impl Denied {
    /// The stable reason code.
    pub fn reason(&self) -> Reason {
        match self {
            Denied::Config(_) => Reason::ConfigurationError,
            Denied::Origin(o) => o.reason(),
            Denied::Extract(e) => e.reason(),
            Denied::Certificate(e) => e.reason(),
            Denied::ChainCertificate { .. } => Reason::CertificateMalformed,
            Denied::RepeatedSubject { .. } | Denied::InlineList(_) => Reason::CertificateAmbiguous,
            Denied::NotYetValid { .. } => Reason::CertificateNotYetValid,
            Denied::Expired { .. } => Reason::CertificateExpired,
            Denied::Policy(p) => p.reason(),
        }
    }

    /// What the client is told: fixed text about the kind of problem, never configuration.
    pub fn public_detail(&self) -> &'static str {
        match self {
            Denied::Extract(e) => e.public_detail(),
            Denied::Certificate(e) => e.public_detail(),
            Denied::InlineList(_) => InlineListError::PUBLIC_DETAIL,
            Denied::Policy(p) => p.public_detail(),
            other => other.reason().public_detail(),
        }
    }

    /// The reason, the operator's detail and the client's detail together.
    pub fn refusal(&self) -> Refusal {
        Refusal { reason: self.reason(), detail: self.to_string(), public_detail: self.public_detail() }
    }
}

impl fmt::Display for Denied {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Denied::Config(e) => write!(f, "{e}"),
            Denied::Origin(o) => write!(f, "{o}"),
            Denied::Extract(e) => write!(f, "{e}"),
            Denied::Certificate(e) => write!(f, "{e}"),
            Denied::ChainCertificate { position, error } => write!(f, "chain certificate {position}: {error}"),
            Denied::RepeatedSubject { position } => {
                write!(f, "forwarded certificate {position} repeats the subject of an earlier one")
            }
            Denied::InlineList(e) => write!(f, "{e}"),
            Denied::NotYetValid { not_before } => write!(f, "not valid before {}", rfc3339(*not_before)),
            Denied::Expired { not_after } => write!(f, "expired at {}", rfc3339(*not_after)),
            Denied::Policy(p) => write!(f, "{p}"),
        }
    }
}

impl std::error::Error for Denied {}

impl From<ConfigError> for Denied {
    fn from(e: ConfigError) -> Self {
        Denied::Config(e)
    }
}

impl From<OriginDenial> for Denied {
    fn from(e: OriginDenial) -> Self {
        Denied::Origin(e)
    }
}

impl From<ExtractError> for Denied {
    fn from(e: ExtractError) -> Self {
        Denied::Extract(e)
    }
}

impl From<CertificateError> for Denied {
    fn from(e: CertificateError) -> Self {
        Denied::Certificate(e)
    }
}

impl From<PolicyDenial> for Denied {
    fn from(e: PolicyDenial) -> Self {
        Denied::Policy(e)
    }
}

/// A denial with the certificate, when it was decoded (for the decision log and
/// report-only mode).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Denial {
    /// Why.
    pub denied: Denied,
    /// The client certificate, when it was decoded.
    pub certificate: Option<Box<ClientCertificate>>,
}

impl<T: Into<Denied>> From<T> for Denial {
    fn from(denied: T) -> Self {
        Denial { denied: denied.into(), certificate: None }
    }
}

/// Authenticate a request at `now` (Unix seconds), with the key-value store `kv` (read
/// only when `keyvalue_store` is configured).
pub fn authenticate(
    config: &Config,
    headers: &dyn RequestHeaders,
    now: i64,
    kv: &dyn KeyValue,
) -> Result<Identity, Denial> {
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
        flag.check(&headers.get_all(&flag.header))?;
    }

    let chain_lines = match &settings.chain_header {
        Some(h) => headers.get_all(h),
        None => Vec::new(),
    };
    let forwarded = extract(settings, &cert_lines, &chain_lines)?;
    if let Some(digest_header) = &settings.digest_header {
        check_digest(digest_header, &headers.get_all(digest_header), &forwarded.leaf)?;
    }
    // One budget for every certificate the request carries: each is bounded on its own,
    // and together they may not cost many times one.
    let mut budget = crate::certificate::DecodeBudget::default();
    let certificate = ClientCertificate::from_der_within(&forwarded.leaf, &mut budget)?;
    let deny =
        |denied: Denied, certificate: ClientCertificate| Denial { denied, certificate: Some(Box::new(certificate)) };
    let mut chain = Vec::with_capacity(forwarded.chain.len());
    for (i, der) in forwarded.chain.iter().enumerate() {
        match ClientCertificate::from_der_within(der, &mut budget) {
            Ok(c) => chain.push(c),
            Err(error) => return Err(deny(Denied::ChainCertificate { position: i + 1, error }, certificate)),
        }
    }
    // Two forwarded certificates with one subject: never needed by a real chain, and the
    // shape that makes path building try every combination.
    for (i, c) in chain.iter().enumerate() {
        if c.subject == certificate.subject || chain[..i].iter().any(|earlier| earlier.subject == c.subject) {
            return Err(deny(Denied::RepeatedSubject { position: i + 2 }, certificate));
        }
    }
    let listed = &forwarded.chain[..forwarded.inline_count.min(forwarded.chain.len())];
    let inline = if listed.is_empty() {
        None
    } else {
        match InlineList::read(&forwarded.leaf, listed) {
            Ok(list) => Some((listed, list)),
            Err(e) => return Err(deny(Denied::InlineList(e), certificate)),
        }
    };

    let skew = i64::try_from(config.clock_skew_seconds).unwrap_or(0);
    if now.saturating_add(skew) < certificate.not_before {
        return Err(deny(Denied::NotYetValid { not_before: certificate.not_before }, certificate));
    }
    if now.saturating_sub(skew) > certificate.not_after {
        return Err(deny(Denied::Expired { not_after: certificate.not_after }, certificate));
    }

    let presented = Presented { leaf: &forwarded.leaf, certificate: &certificate, chain: &forwarded.chain, inline };
    match policy.evaluate(&presented, now, kv) {
        Ok(trusted) => Ok(Identity {
            certificate,
            chain,
            format: forwarded.format,
            trusted_by: trusted.trusted_by,
            warnings: trusted.warnings,
            path_from_cache: trusted.path_from_cache,
        }),
        Err(denial) => Err(deny(Denied::Policy(denial), certificate)),
    }
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
        authenticate(config, &lines(config, cert, chain), now, &crate::store::NoKeyValue)
    }

    fn run(config: &Config, value: &str) -> Result<Identity, Denial> {
        authenticate_lines(config, &[value.as_bytes().to_vec()], &[], now())
    }

    fn pin_of(id: &Identity) -> &crate::policy::pins::Pin {
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
        run(config, value).unwrap_err().denied.reason()
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
        let not_after = crate::certificate::ClientCertificate::from_der(&expired.der).unwrap().not_after;
        assert_eq!(denial.denied, Denied::Expired { not_after });
        assert_eq!(denial.denied.to_string(), format!("expired at {}", rfc3339(not_after)));
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
        assert_eq!(at(c.not_before - skew - 1).unwrap_err().denied, Denied::NotYetValid { not_before: c.not_before });
        assert!(at(c.not_after + skew).is_ok(), "last valid second (with skew)");
        assert_eq!(at(c.not_after + skew + 1).unwrap_err().denied, Denied::Expired { not_after: c.not_after });
    }

    #[test]
    fn not_allowed_and_sha1_sha256_pins() {
        let ca = Ca::new("Test Root");
        let a = ca.issue(&LeafOptions::named("a"));
        let b = ca.issue(&LeafOptions::named("b"));
        let cfg = config(&a.sha1_hex(), &[]);
        assert!(run(&cfg, &encode::base64_der(&a.der)).is_ok());
        let denial = run(&cfg, &encode::base64_der(&b.der)).unwrap_err();
        assert_eq!(
            denial.denied,
            Denied::Policy(PolicyDenial::NoPinMatches {
                sha256: crate::certificate::ClientCertificate::from_der(&b.der).unwrap().sha256
            })
        );
        assert_eq!(denial.denied.reason(), Reason::CertificateNotAllowed);
        assert_eq!(denial.denied.to_string(), format!("no configured pin matches (sha256 {})", b.sha256_hex()));
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
        assert_eq!(twice.unwrap_err().denied.reason(), Reason::CertificateAmbiguous);
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
            authenticate_lines(&cfg, &lines, &[], now()).unwrap_err().denied.reason(),
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
        assert_eq!(denial.denied.reason(), Reason::CertificateAmbiguous);
    }

    /// Each forwarded certificate is bounded on its own, and together they are bounded as
    /// one request's: a chain of certificates each with 32-RDN names (allowed one by one)
    /// cost 17 to 38 times a normal request to decode, a pinned one included, and so did
    /// the earlier elements of an XFCC value (found by a review). Past the request's
    /// budget the chain certificate that crosses it is `certificate_malformed`.
    #[test]
    fn the_certificates_of_one_request_are_bounded_together() {
        use crate::certificate::{limits, CertificateError};
        let ca = Ca::new("Test Root");
        let leaf = ca.issue(&LeafOptions::named("a"));
        let wide = |tag: usize| certgate_testkit::reencode::ca_with_wide_names(tag, limits::NAME_RDNS);
        let cfg = config(&leaf.sha256_hex(), &[(var::PLATFORM, "rfc9440")]);
        let send = |chain: &[Vec<u8>]| {
            let chain = chain.iter().map(|c| encode::rfc9440(c)).collect::<Vec<_>>().join(", ");
            authenticate_lines(&cfg, &[encode::rfc9440(&leaf.der).into_bytes()], &[chain.into_bytes()], now())
        };
        let one = wide(1);
        assert!(crate::certificate::ClientCertificate::from_der(&one).is_ok(), "one is within its own limits");
        assert!(send(std::slice::from_ref(&one)).is_ok(), "the leaf and one wide certificate");
        let denial = send(&[one, wide(2)]).unwrap_err();
        match &denial.denied {
            Denied::ChainCertificate { position: 2, error: CertificateError::Oversized { part, .. } } => {
                assert!(part.contains("together"), "{part}");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(denial.denied.reason(), Reason::CertificateMalformed);
        // The earlier elements of an XFCC value (`xfcc_elements = last`): bounded together too.
        let cfg = config(&leaf.sha256_hex(), &[(var::PLATFORM, "envoy"), (var::XFCC_ELEMENTS, "last")]);
        let element = |der: &[u8]| encode::xfcc_element(der, &[], "");
        let value = |earlier: &[Vec<u8>]| {
            let mut elements: Vec<String> = earlier.iter().map(|c| element(c)).collect();
            elements.push(element(&leaf.der));
            elements.join(",")
        };
        assert!(run(&cfg, &value(&[wide(3)])).is_ok(), "one wide earlier element");
        assert_eq!(reason(&cfg, &value(&[wide(3), wide(4)])), Reason::CertificateMalformed);
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
