//! [`Gate`]: a configuration read and validated once, then used for every request.

use crate::config::{Config, ConfigError, VariableSource};
use crate::decision::{self, Denial, Denied, Identity, RequestHeaders};

/// A validated configuration, ready to authenticate requests: header and format settings,
/// pins, parsed trust anchors and intermediates, signature-checked CRLs, name rules and
/// proof-of-origin keys. Build it once with [`Gate::from_source`] and call
/// [`Gate::authenticate`] per request; building is where every variable is read and
/// checked, so a `Gate` that exists is a configuration that is valid.
///
/// ```
/// use certgate::{Gate, Reason};
///
/// let variables = [("allowed_thumbprints", "6f2d8a0c2b7a4e1f9d3c5b8a7e6f4d2c1b0a9e8d7c6b5a4f3e2d1c0b9a8f7e6d")];
/// let gate = Gate::from_source(&variables)?;
///
/// // A request without a forwarded certificate.
/// let headers: [(&str, &str); 0] = [];
/// let denied = gate.authenticate(&headers[..], 1_800_000_000).unwrap_err();
/// assert_eq!(denied.reason(), Reason::CertificateMissing);
/// # Ok::<(), certgate::ConfigError>(())
/// ```
#[derive(Clone, Debug)]
pub struct Gate {
    config: Config,
}

impl Gate {
    /// Read and validate every variable from `source`. Anything missing, empty or
    /// malformed is a [`ConfigError`] naming the variable (and entry), never its value.
    pub fn from_source<S: VariableSource + ?Sized>(source: &S) -> Result<Gate, ConfigError> {
        // `&S` is itself a (sized) source, so it coerces to `&dyn VariableSource`.
        Config::load(&source).map(|config| Gate { config })
    }

    /// Authenticate a request from its headers at `now` (Unix seconds).
    pub fn authenticate<H: RequestHeaders + ?Sized>(&self, headers: &H, now: i64) -> Result<Identity, Denied> {
        self.decide(headers, now).map_err(|denial| denial.denied)
    }

    /// As [`Gate::authenticate`], keeping the decoded certificate of a denial (for logs
    /// and report-only mode).
    pub fn decide<H: RequestHeaders + ?Sized>(&self, headers: &H, now: i64) -> Result<Identity, Denial> {
        decision::authenticate(&self.config, &headers, now)
    }

    /// Whether `mode = report-only`: denials are logged and let through.
    pub fn report_only(&self) -> bool {
        self.config.policy.report_only
    }

    /// The platform preset in force, if any.
    pub fn platform(&self) -> Option<&'static str> {
        self.config.platform
    }

    /// The validated configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }
}
