//! Trust policy beyond a thumbprint list: pins with labels and windows, key pins, chain
//! validation to private CAs, name rules, offline revocation, report-only mode, proof
//! that the header came from the terminator, and the terminator's own verdict. Every
//! part is validated when read; anything invalid is a configuration error.

mod evaluate;
pub(crate) mod names;
pub(crate) mod pins;
pub(crate) mod proxy;
pub(crate) mod revocation;

pub use evaluate::{InactivePin, InlineListError, PinWindow, PolicyDenial, TrustedBy};
pub(crate) use evaluate::{InlineList, Presented};

use crate::thumbprint::ThumbprintList;
use crate::trust::{EkuPolicy, TrustStore};
use names::NameRule;
use pins::Pin;
use proxy::{SharedSecret, Signature, Verdict};
use revocation::{Crl, Denylist, WhenStale};

/// Most PEM blocks in one configured bundle (anchors, intermediates, CRLs).
pub(crate) const MAX_BUNDLE: usize = 256;

/// The trust policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    /// `allowed_thumbprints`, kept compact (33 bytes an entry): with thousands of entries,
    /// every request of a fresh instance rebuilds it.
    pub thumbprints: ThumbprintList,
    /// The variable `thumbprints` came from (pins name their source).
    pub thumbprints_source: &'static str,
    /// Key pins and the JSON `pins`.
    pub pins: Vec<Pin>,
    /// `trust_anchors` and `intermediates`: the CAs a chain is validated to (none: no chain check).
    pub trust: TrustStore,
    /// Which extended key usages a chain-validated leaf must allow (`require_client_auth_eku`).
    pub eku: EkuPolicy,
    /// `allowed_names`: the leaf must match one of these (empty: any name).
    pub names: Vec<NameRule>,
    /// `revoked`: denied serial numbers and thumbprints.
    pub denylist: Denylist,
    /// `crls`: CRLs, each already checked against the configured CA that issued it.
    pub crls: Vec<Crl>,
    /// What a CRL past its nextUpdate means (`crl_when_stale`).
    pub when_stale: WhenStale,
    /// `mode = report-only`: log the denial and let the request through.
    pub report_only: bool,
    /// `proxy_secret`: the shared secret the terminator must send, if configured.
    pub shared_secret: Option<SharedSecret>,
    /// `proxy_hmac_key`: the terminator's HMAC over the certificate header, if configured.
    pub signature: Option<Signature>,
    /// The terminator's verdict headers: each must carry one of its accepted values.
    pub verdicts: Vec<Verdict>,
    /// `pin_expiry_warning_days`, in seconds: a matched pin whose window ends this soon is warned of.
    pub pin_warning_seconds: i64,
    /// `keyvalue_store`: the label of the store with more pins and revocations, if configured.
    pub store: Option<String>,
    /// `chain_cache_seconds`: how long a validated path kept in the store may be used
    /// (none: every request validates its path).
    pub chain_cache_seconds: Option<u64>,
}
