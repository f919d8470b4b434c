//! The one refusal type: every way a request can fail maps to a stable [`Reason`].

use std::fmt;

/// Stable, documented reason codes. The string form (`code`) is part of the public
/// contract: it appears in problem+json bodies and in logs and never changes meaning.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Reason {
    /// No certificate header, an empty one, or a terminator's "no certificate" sentinel.
    CertificateMissing,
    /// The header is present but its value cannot be decoded into an X.509 certificate.
    CertificateMalformed,
    /// The header occurs more than once, or carries more than one candidate leaf.
    CertificateAmbiguous,
    /// The header, or the chain it carries, is over the configured limits.
    CertificateTooLarge,
    /// notAfter (plus the allowed clock skew) has passed.
    CertificateExpired,
    /// notBefore (minus the allowed clock skew) is still in the future.
    CertificateNotYetValid,
    /// The certificate decodes and is in its validity window but matches no pin (and no
    /// trust anchor is configured).
    CertificateNotAllowed,
    /// On the denylist, or revoked by a configured CRL.
    CertificateRevoked,
    /// No valid path to a configured trust anchor (unknown issuer, bad signature, name or
    /// path-length constraint violated).
    CertificateUntrusted,
    /// Chains to an anchor but is not for client authentication (EKU, keyUsage, a CA).
    CertificateWrongUsage,
    /// Trusted, but no name rule (CN, DNS, email, URI, SPIFFE ID) allows it.
    CertificateNameNotAllowed,
    /// The CRL for the certificate's issuer is past its nextUpdate (and the policy fails closed).
    RevocationListStale,
    /// The proxy's shared secret or signature is missing or wrong.
    ProxyUnauthenticated,
    /// The terminator's verification header does not say the certificate verified.
    TerminatorRejected,
    /// The deployment's configuration is missing or invalid: everything is refused.
    ConfigurationError,
    /// The configured key-value store (`keyvalue_store`) could not be opened or read: the
    /// certificate's pins and revocations there are unknown, so it is refused.
    StoreUnavailable,
    /// The configured key-value store answered, but not in certgate's format: no version
    /// marker, an unsupported one, or a malformed entry.
    StoreInvalid,
    /// Authenticated, but no such route.
    NotFound,
    /// Authenticated (or a public route), but the method is not served there.
    MethodNotAllowed,
    /// Authenticated, but will not be forwarded as sent: a gateway's target with a `.` or
    /// `..` segment (plain or percent-encoded) or that is not a path, or a request carrying
    /// identity-named headers that a middleware cannot remove.
    RequestNotForwardable,
    /// Authenticated, but the request body is over the gateway's limit.
    RequestBodyTooLarge,
    /// Authenticated, but the gateway could not get an answer from the upstream.
    UpstreamUnavailable,
    /// Authenticated, but the upstream did not connect or answer in time.
    UpstreamTimeout,
}

impl Reason {
    /// Every reason, in documentation order.
    pub const ALL: [Reason; 23] = [
        Reason::ProxyUnauthenticated,
        Reason::TerminatorRejected,
        Reason::CertificateMissing,
        Reason::CertificateMalformed,
        Reason::CertificateAmbiguous,
        Reason::CertificateTooLarge,
        Reason::CertificateExpired,
        Reason::CertificateNotYetValid,
        Reason::CertificateRevoked,
        Reason::RevocationListStale,
        Reason::CertificateNotAllowed,
        Reason::CertificateUntrusted,
        Reason::CertificateWrongUsage,
        Reason::CertificateNameNotAllowed,
        Reason::ConfigurationError,
        Reason::StoreUnavailable,
        Reason::StoreInvalid,
        Reason::NotFound,
        Reason::MethodNotAllowed,
        Reason::RequestNotForwardable,
        Reason::RequestBodyTooLarge,
        Reason::UpstreamUnavailable,
        Reason::UpstreamTimeout,
    ];

    /// The stable machine-readable code.
    pub fn code(self) -> &'static str {
        match self {
            Reason::CertificateMissing => "certificate_missing",
            Reason::CertificateMalformed => "certificate_malformed",
            Reason::CertificateAmbiguous => "certificate_ambiguous",
            Reason::CertificateTooLarge => "certificate_too_large",
            Reason::CertificateExpired => "certificate_expired",
            Reason::CertificateNotYetValid => "certificate_not_yet_valid",
            Reason::CertificateNotAllowed => "certificate_not_allowed",
            Reason::CertificateRevoked => "certificate_revoked",
            Reason::CertificateUntrusted => "certificate_untrusted",
            Reason::CertificateWrongUsage => "certificate_wrong_usage",
            Reason::CertificateNameNotAllowed => "certificate_name_not_allowed",
            Reason::RevocationListStale => "revocation_list_stale",
            Reason::ProxyUnauthenticated => "proxy_unauthenticated",
            Reason::TerminatorRejected => "terminator_rejected",
            Reason::ConfigurationError => "configuration_error",
            Reason::StoreUnavailable => "store_unavailable",
            Reason::StoreInvalid => "store_invalid",
            Reason::NotFound => "not_found",
            Reason::MethodNotAllowed => "method_not_allowed",
            Reason::RequestNotForwardable => "request_not_forwardable",
            Reason::RequestBodyTooLarge => "request_body_too_large",
            Reason::UpstreamUnavailable => "upstream_unavailable",
            Reason::UpstreamTimeout => "upstream_timeout",
        }
    }

    /// The HTTP status this reason is answered with (outside `/healthz`).
    pub fn status(self) -> u16 {
        match self {
            Reason::ConfigurationError => 500,
            Reason::StoreUnavailable | Reason::StoreInvalid => 503,
            Reason::NotFound => 404,
            Reason::MethodNotAllowed => 405,
            Reason::RequestNotForwardable => 400,
            Reason::RequestBodyTooLarge => 413,
            Reason::UpstreamUnavailable => 502,
            Reason::UpstreamTimeout => 504,
            _ => 403,
        }
    }

    /// A short human-readable summary, used as the problem+json `title`.
    pub fn title(self) -> &'static str {
        match self {
            Reason::CertificateMissing => "No client certificate was forwarded",
            Reason::CertificateMalformed => "The forwarded client certificate could not be decoded",
            Reason::CertificateAmbiguous => "More than one client certificate was forwarded",
            Reason::CertificateTooLarge => "The forwarded client certificate is over the size limits",
            Reason::CertificateExpired => "The client certificate has expired",
            Reason::CertificateNotYetValid => "The client certificate is not valid yet",
            Reason::CertificateNotAllowed => "The client certificate is not allowed",
            Reason::CertificateRevoked => "The client certificate is revoked",
            Reason::CertificateUntrusted => "The client certificate does not chain to a trusted CA",
            Reason::CertificateWrongUsage => "The client certificate is not for client authentication",
            Reason::CertificateNameNotAllowed => "The client certificate's names are not allowed",
            Reason::RevocationListStale => "The revocation list for the client certificate is out of date",
            Reason::ProxyUnauthenticated => "The request did not come through the trusted proxy",
            Reason::TerminatorRejected => "The TLS terminator did not verify the client certificate",
            Reason::ConfigurationError => "The service is not configured correctly",
            Reason::StoreUnavailable => "The key-value store could not be read",
            Reason::StoreInvalid => "The key-value store is not in certgate's format",
            Reason::NotFound => "Not found",
            Reason::MethodNotAllowed => "Method not allowed",
            Reason::RequestNotForwardable => "The request cannot be forwarded as sent",
            Reason::RequestBodyTooLarge => "The request body is too large",
            Reason::UpstreamUnavailable => "The upstream service could not be reached",
            Reason::UpstreamTimeout => "The upstream service did not answer in time",
        }
    }

    /// What the client is told by default: generic text that says what kind of problem
    /// it is without anything of the configuration (see [`Refusal`]).
    pub const fn public_detail(self) -> &'static str {
        match self {
            Reason::CertificateMissing => "the request carries no forwarded client certificate",
            Reason::CertificateMalformed => "the forwarded client certificate could not be decoded",
            Reason::CertificateAmbiguous => {
                "the request carries more than one candidate client certificate, or conflicting ones"
            }
            Reason::CertificateTooLarge => "the forwarded certificates are over the size limits",
            Reason::CertificateExpired => "the client certificate's validity period has ended",
            Reason::CertificateNotYetValid => "the client certificate's validity period has not begun",
            Reason::CertificateNotAllowed => "the client certificate is not on the allow list",
            Reason::CertificateRevoked => "the client certificate has been revoked",
            Reason::CertificateUntrusted => "the client certificate does not chain to a trusted CA",
            Reason::CertificateWrongUsage => "the client certificate is not for client authentication",
            Reason::CertificateNameNotAllowed => "no name rule allows the client certificate",
            Reason::RevocationListStale => "the revocation status of the client certificate cannot be confirmed",
            Reason::ProxyUnauthenticated => "the request did not carry valid proof that it came through the proxy",
            Reason::TerminatorRejected => "the TLS terminator did not report a verified client certificate",
            Reason::ConfigurationError => "certgate's configuration is missing or invalid; see the service log",
            Reason::StoreUnavailable => "certgate could not read its key-value store; try again later",
            Reason::StoreInvalid => "certgate's key-value store is not usable; see the service log",
            Reason::NotFound => "no such resource",
            Reason::MethodNotAllowed => "use GET or HEAD",
            Reason::RequestNotForwardable => "the request cannot be forwarded as sent",
            Reason::RequestBodyTooLarge => "the request body is over the size limit",
            Reason::UpstreamUnavailable => "the upstream service could not be reached or failed to answer",
            Reason::UpstreamTimeout => "the upstream service did not answer in time",
        }
    }

    /// Whether this reason is a refusal to authenticate (as opposed to routing).
    pub fn is_authentication_failure(self) -> bool {
        self.status() == 403
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A refusal: a stable reason, a detail for the operator and a detail for the client.
///
/// `detail` goes to the decision log only: it may name configuration (pin labels and
/// windows, CRL issuers and their dates, configured header names, library error text).
/// The client is told `public_detail`, which is a `&'static str`: fixed text chosen where
/// the refusal is made, so nothing computed at run time (configuration or request data)
/// can reach a response body through it. It defaults to [`Reason::public_detail`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// The stable reason code.
    pub reason: Reason,
    /// The operator's detail, for the decision log only.
    pub detail: String,
    /// The client's detail, fixed text.
    pub public_detail: &'static str,
}

impl Refusal {
    /// A refusal for `reason`, logging `detail` and telling the client [`Reason::public_detail`].
    pub fn new(reason: Reason, detail: impl Into<String>) -> Self {
        Refusal { reason, detail: detail.into(), public_detail: reason.public_detail() }
    }

    /// The same refusal, telling the client `text` (fixed text about the request itself,
    /// never about configuration).
    pub fn public(mut self, text: &'static str) -> Self {
        self.public_detail = text;
        self
    }

    /// A [`Reason::CertificateMissing`] refusal.
    pub fn missing(detail: impl Into<String>) -> Self {
        Self::new(Reason::CertificateMissing, detail)
    }

    /// A [`Reason::CertificateMalformed`] refusal.
    pub fn malformed(detail: impl Into<String>) -> Self {
        Self::new(Reason::CertificateMalformed, detail)
    }

    /// A [`Reason::CertificateAmbiguous`] refusal.
    pub fn ambiguous(detail: impl Into<String>) -> Self {
        Self::new(Reason::CertificateAmbiguous, detail)
    }

    /// A [`Reason::CertificateTooLarge`] refusal.
    pub fn too_large(detail: impl Into<String>) -> Self {
        Self::new(Reason::CertificateTooLarge, detail)
    }

    /// A [`Reason::ConfigurationError`] refusal.
    pub fn configuration(detail: impl Into<String>) -> Self {
        Self::new(Reason::ConfigurationError, detail)
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.reason.code(), self.detail)
    }
}

impl std::error::Error for Refusal {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_are_unique_sentences_and_display_is_the_code() {
        let mut seen = std::collections::HashSet::new();
        for r in Reason::ALL {
            let title = r.title();
            assert!(seen.insert(title), "duplicate title {title}");
            assert!(title.starts_with(|c: char| c.is_ascii_uppercase()) && !title.ends_with('.'), "{title}");
            assert_eq!(r.to_string(), r.code());
        }
        assert_eq!(Reason::CertificateNotAllowed.title(), "The client certificate is not allowed");
        assert_eq!(Reason::MethodNotAllowed.title(), "Method not allowed");
        let refusal = Refusal::malformed("not base64");
        assert_eq!(refusal.to_string(), "certificate_malformed: not base64");
        assert_eq!(refusal.public_detail, "the forwarded client certificate could not be decoded");
        assert_eq!(refusal.public("invalid base64").public_detail, "invalid base64");
    }

    #[test]
    fn codes_are_unique_snake_case() {
        let mut seen = std::collections::HashSet::new();
        for r in Reason::ALL {
            assert!(seen.insert(r.code()), "duplicate code {}", r.code());
            assert!(r.code().chars().all(|c| c.is_ascii_lowercase() || c == '_'));
        }
    }

    #[test]
    fn statuses() {
        assert_eq!(Reason::CertificateNotAllowed.status(), 403);
        assert_eq!(Reason::ConfigurationError.status(), 500);
        assert_eq!(Reason::NotFound.status(), 404);
        assert_eq!(Reason::MethodNotAllowed.status(), 405);
        assert_eq!(Reason::RequestNotForwardable.status(), 400);
        assert_eq!(Reason::RequestBodyTooLarge.status(), 413);
        assert_eq!(Reason::UpstreamUnavailable.status(), 502);
        assert_eq!(Reason::UpstreamTimeout.status(), 504);
        assert_eq!(Reason::StoreUnavailable.status(), 503);
        assert_eq!(Reason::StoreInvalid.status(), 503);
        assert!(!Reason::StoreUnavailable.is_authentication_failure());
        assert!(!Reason::UpstreamTimeout.is_authentication_failure());
        assert!(Reason::CertificateExpired.is_authentication_failure());
        assert!(!Reason::ConfigurationError.is_authentication_failure());
    }
}
