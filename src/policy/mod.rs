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
    pub trust: TrustStore,
    pub eku: EkuPolicy,
    pub names: Vec<NameRule>,
    pub denylist: Denylist,
    pub crls: Vec<Crl>,
    pub when_stale: WhenStale,
    pub report_only: bool,
    pub shared_secret: Option<SharedSecret>,
    pub signature: Option<Signature>,
    /// The terminator's verdict headers: each must carry one of its accepted values.
    pub verdicts: Vec<Verdict>,
    pub pin_warning_seconds: i64,
}

