//! certgate: authenticate clients by the TLS client certificate that a terminator
//! forwards in a request header.
//!
//! A [`Gate`] is a configuration read and validated once ([`Gate::from_source`]) and
//! used for every request ([`Gate::authenticate`]): it reads the configured header in the
//! terminator's format, decodes the certificate, checks proof of origin, validity, pins,
//! the chain to configured CAs, revocation and name rules, and answers an [`Identity`] or
//! a [`Denied`] whose [`Reason`] is a stable code.
//!
//! ```
//! use certgate::{Gate, Reason};
//!
//! let gate = Gate::from_source(&[("allowed_thumbprints", "00112233445566778899aabbccddeeff00112233")])?;
//! let headers = [("x-arr-clientcert", "not a certificate")];
//! let denied = gate.authenticate(&headers[..], 1_800_000_000).unwrap_err();
//! assert_eq!(denied.reason(), Reason::CertificateMalformed);
//! # Ok::<(), certgate::ConfigError>(())
//! ```
//!
//! The data path runs through private modules, one per concern: `extract` (header to
//! DER), `certificate` (DER to a decoded certificate), `policy` and `trust` (pins, chain,
//! revocation, names), `decision` (the order of checks) and [`service`] (the HTTP
//! contract the component serves); [`upstream`] writes the identity headers a shell passes
//! on to another application. `config` reads every variable of the table
//! [`vars::VARS`]. None of them binds to a host: the `wasi:http` glue is compiled only
//! for WebAssembly.

mod certificate;
mod config;
mod decision;
mod extract;
mod gate;
mod key_identity;
pub mod gateway;
mod log;
mod name_identity;
pub mod middleware;
pub mod platform;
mod policy;
mod reason;
pub mod service;
pub mod store;
mod thumbprint;
mod trust;
pub mod upstream;

pub use certificate::limits as certificate_limits;
pub use certificate::{CertificateError, ClientCertificate, DecodeBudget, DerError};
pub use config::{vars, ConfigError, GatewaySettings, Problem, Service, UpstreamOrigin, VariableSource};
pub use decision::{Denial, Denied, Identity, RequestHeaders};
pub use extract::{
    Base64Problem, Counted, ExtractError, Format, HeaderRole, JsonKeyProblem, JsonType, XfccForm, XfccJsonProblem,
    XfccSyntax,
};
pub use gate::{Gate, KeptGate};
pub use policy::pins::{Pin, PinValue};
pub use policy::proxy::{sign as proxy_signature, OriginDenial};
pub use policy::revocation::{crl_issuer_digests, Revocation, Staleness};
pub use policy::{InactivePin, InlineListError, PinWindow, PolicyDenial, TrustedBy};
pub use reason::{Reason, Refusal};
pub use thumbprint::{Algorithm, Thumbprint};
pub use trust::ChainError;

/// Entry points for certgate's own fuzzers, benchmarks and tests. Not a stable API: use
/// the items at the crate root.
#[doc(hidden)]
pub mod internals {
    pub use crate::certificate::rfc3339;
    pub use crate::config::{Config, DEFAULT_HEADER};
    pub use crate::decision::authenticate;
    pub use crate::extract::{extract, ExtractionSettings, XfccElements, MAX_CERTIFICATES};
    pub use crate::log::LogLine;
    pub use crate::policy::names::parse_rules;
    pub use crate::policy::pins::parse_pins_json;
    pub use crate::policy::revocation::Denylist;
    pub use crate::policy::Policy;
    pub use crate::thumbprint::{parse_entry, ThumbprintList};
    pub use crate::trust::issuer::{ecdsa_twins, signed_parts};
    pub use crate::trust::{
        CaCertificate, EkuPolicy, SignatureBudget, SignedCertificate, TrustStore, VerifiedSignatures,
        MAX_REMEMBERED_SIGNATURES,
    };
}

#[cfg(all(target_arch = "wasm32", feature = "component"))]
#[allow(unsafe_code)]
mod component;
