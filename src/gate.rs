//! [`Gate`]: a configuration read and validated once, then used for every request.

use crate::config::{Config, ConfigError, VariableSource};
use crate::decision::{self, Denial, Denied, Identity, RequestHeaders};
use crate::store::{KeyValue, NoKeyValue};
use std::sync::Arc;

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

    /// Authenticate a request with the key-value store that `keyvalue_store` names (see
    /// [`KeyValue`]). [`Gate::authenticate`] gives none: a configuration that names a
    /// store then refuses every request with `store_unavailable`.
    pub fn authenticate_with<H: RequestHeaders + ?Sized>(
        &self,
        headers: &H,
        now: i64,
        kv: &dyn KeyValue,
    ) -> Result<Identity, Denied> {
        self.decide_with(headers, now, kv).map_err(|denial| denial.denied)
    }

    /// As [`Gate::authenticate`], keeping the decoded certificate of a denial (for logs
    /// and report-only mode).
    pub fn decide<H: RequestHeaders + ?Sized>(&self, headers: &H, now: i64) -> Result<Identity, Denial> {
        self.decide_with(headers, now, &NoKeyValue)
    }

    /// As [`Gate::authenticate_with`], keeping the decoded certificate of a denial.
    pub fn decide_with<H: RequestHeaders + ?Sized>(
        &self,
        headers: &H,
        now: i64,
        kv: &dyn KeyValue,
    ) -> Result<Identity, Denial> {
        decision::authenticate(&self.config, &headers, now, kv)
    }

    /// The label of the key-value store the configuration reads (`keyvalue_store`), if any.
    pub fn store_label(&self) -> Option<&str> {
        self.config.policy.store.as_deref()
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

/// A configuration kept by an instance that serves many requests (a WASI 0.3 component on
/// Spin 4, a long-running native server): [`KeptGate::at`] builds the [`Gate`] on first
/// use and hands the same one out until it is `config_refresh_seconds` old, then builds it
/// again, so a changed variable is seen within that window. A configuration that does not
/// load is never kept: every request reads it again (and is refused while it stays broken),
/// and the first request after it is fixed is served by it. A clock that steps back ends
/// the window; `config_refresh_seconds = 0` reads for every request.
///
/// ```
/// use certgate::KeptGate;
///
/// let mut kept = KeptGate::default();
/// let variables = [("allowed_thumbprints", "6f2d8a0c2b7a4e1f9d3c5b8a7e6f4d2c1b0a9e8d7c6b5a4f3e2d1c0b9a8f7e6d")];
/// let first = kept.at(1_800_000_000, || certgate::Gate::from_source(&variables));
/// let again = kept.at(1_800_000_009, || unreachable!("kept for the default 10 s"));
/// assert!(std::sync::Arc::ptr_eq(&first, &again));
/// ```
#[derive(Debug, Default)]
pub struct KeptGate {
    kept: Option<(i64, Arc<Result<Gate, ConfigError>>)>,
}

impl KeptGate {
    /// The configuration for a request at `now` (Unix seconds): the kept one while it is
    /// fresh, else what `read` builds (kept when it loaded).
    pub fn at(&mut self, now: i64, read: impl FnOnce() -> Result<Gate, ConfigError>) -> Arc<Result<Gate, ConfigError>> {
        if let Some((read_at, gate)) = &self.kept {
            if let Ok(g) = gate.as_ref() {
                let window = g.config.config_refresh_seconds;
                if window > 0 && now >= *read_at && now.abs_diff(*read_at) < window {
                    return Arc::clone(gate);
                }
            }
        }
        let gate = Arc::new(read());
        self.kept = gate.is_ok().then(|| (now, Arc::clone(&gate)));
        gate
    }
}

#[cfg(test)]
mod store_tests;

#[cfg(test)]
mod chain_cache_tests;

#[cfg(test)]
mod kept_tests {
    use super::*;
    use std::cell::Cell;

    const PIN: &str = "6f2d8a0c2b7a4e1f9d3c5b8a7e6f4d2c1b0a9e8d7c6b5a4f3e2d1c0b9a8f7e6d";

    /// A source that counts how often the configuration is read.
    fn reader<'a>(reads: &'a Cell<u32>, refresh: &'a str) -> impl Fn() -> Result<Gate, ConfigError> + 'a {
        move || {
            reads.set(reads.get() + 1);
            Gate::from_source(&[("allowed_thumbprints", PIN), ("config_refresh_seconds", refresh)])
        }
    }

    #[test]
    fn kept_within_the_window_and_read_again_after_it() {
        let reads = Cell::new(0);
        let read = reader(&reads, "10");
        let mut kept = KeptGate::default();
        let t = 1_800_000_000;
        let first = kept.at(t, &read);
        assert!(first.is_ok());
        for dt in [0, 1, 9] {
            assert!(Arc::ptr_eq(&first, &kept.at(t + dt, &read)), "{dt} s later");
        }
        assert_eq!(reads.get(), 1);
        let later = kept.at(t + 10, &read);
        assert_eq!(reads.get(), 2, "10 s is the end of the window");
        assert!(!Arc::ptr_eq(&first, &later));
        assert!(Arc::ptr_eq(&later, &kept.at(t + 19, &read)));
        assert_eq!(reads.get(), 2);
    }

    #[test]
    fn zero_reads_for_every_request() {
        let reads = Cell::new(0);
        let read = reader(&reads, "0");
        let mut kept = KeptGate::default();
        for _ in 0..3 {
            assert!(kept.at(1_800_000_000, &read).is_ok());
        }
        assert_eq!(reads.get(), 3);
    }

    #[test]
    fn a_clock_that_steps_back_ends_the_window() {
        let reads = Cell::new(0);
        let read = reader(&reads, "3600");
        let mut kept = KeptGate::default();
        kept.at(1_800_000_000, &read);
        kept.at(1_799_999_999, &read);
        assert_eq!(reads.get(), 2);
        // ... and the far future too (no overflow at the ends of i64).
        kept.at(i64::MAX, &read);
        kept.at(i64::MIN, &read);
        assert_eq!(reads.get(), 4);
    }

    #[test]
    fn a_broken_configuration_is_never_kept() {
        let reads = Cell::new(0);
        let mut kept = KeptGate::default();
        let broken = || {
            reads.set(reads.get() + 1);
            Gate::from_source(&[("allowed_thumbprints", "not-a-pin")])
        };
        assert!(kept.at(1_800_000_000, broken).is_err());
        assert!(kept.at(1_800_000_000, broken).is_err());
        assert_eq!(reads.get(), 2, "read again while broken");
        // Fixed: served at once, and kept from then on.
        let fixed = reader(&reads, "10");
        assert!(kept.at(1_800_000_000, &fixed).is_ok());
        assert!(kept.at(1_800_000_001, &fixed).is_ok());
        assert_eq!(reads.get(), 3);
    }

    #[test]
    fn a_configuration_that_breaks_is_seen_when_the_window_ends() {
        let reads = Cell::new(0);
        let mut kept = KeptGate::default();
        assert!(kept.at(1_800_000_000, reader(&reads, "5")).is_ok());
        let broken = || Gate::from_source(&[("allowed_thumbprints", "")]);
        assert!(kept.at(1_800_000_004, broken).is_ok(), "still the kept one");
        assert!(kept.at(1_800_000_005, broken).is_err(), "the window ended: fail closed");
    }
}

#[cfg(test)]
mod remembered_signature_tests {
    use super::*;
    use crate::reason::Reason;
    use certgate_testkit::{encode, Ca, LeafOptions};

    fn now() -> i64 {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
    }

    fn authenticate(gate: &Gate, leaf: &[u8], chain: &[&[u8]]) -> Result<Identity, Reason> {
        let chain = chain.iter().map(|c| encode::rfc9440(c)).collect::<Vec<_>>();
        let headers = [("client-cert", encode::rfc9440(leaf)), ("client-cert-chain", chain.join(", "))];
        let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        gate.authenticate(&headers[..], now()).map_err(|d| d.reason())
    }

    /// A kept configuration checks a client's signatures once; what it remembers matches
    /// only that exact check, so a certificate changed after its signature, or one from a
    /// CA that only shares the names, is still refused.
    #[test]
    fn a_kept_gate_checks_a_chain_by_signature_once_and_is_not_fooled_by_what_it_remembers() {
        let root = Ca::new("memo root");
        let issuing = root.intermediate("memo issuing");
        let leaf = issuing.issue(&LeafOptions::named("client"));
        let root_pem = root.certificate.pem();
        let gate = Gate::from_source(&[("trust_anchors", root_pem.as_str()), ("platform", "rfc9440")]).unwrap();
        let verified = &gate.config().policy.trust.verified;
        assert!(verified.is_empty());
        assert!(authenticate(&gate, &leaf.der, &[&issuing.certificate.der]).is_ok());
        let remembered = verified.len();
        assert_eq!(remembered, 2, "the leaf's and the intermediate's signatures");
        assert!(authenticate(&gate, &leaf.der, &[&issuing.certificate.der]).is_ok());
        assert_eq!(verified.len(), remembered, "nothing new to check");

        // The leaf with one byte of its signed part changed (its name), signature kept.
        let mut altered = leaf.der.clone();
        let at = altered.windows(6).rposition(|w| w == b"client").expect("the CN");
        altered[at + 5] = b'u';
        assert_eq!(authenticate(&gate, &altered, &[&issuing.certificate.der]), Err(Reason::CertificateUntrusted));

        // A CA with the same names and its own key, issuing a leaf with the same name.
        let impostor_root = Ca::new("memo root");
        let impostor = impostor_root.intermediate("memo issuing");
        let forged = impostor.issue(&LeafOptions::named("client"));
        assert_eq!(authenticate(&gate, &forged.der, &[&impostor.certificate.der]), Err(Reason::CertificateUntrusted));
        assert_eq!(authenticate(&gate, &forged.der, &[&issuing.certificate.der]), Err(Reason::CertificateUntrusted));
        assert!(authenticate(&gate, &leaf.der, &[&issuing.certificate.der]).is_ok(), "the real one still is");

        // Each load starts with nothing remembered.
        let again = Gate::from_source(&[("trust_anchors", root_pem.as_str()), ("platform", "rfc9440")]).unwrap();
        assert!(again.config().policy.trust.verified.is_empty());
    }

    /// What a request may spend on signatures never depends on earlier ones: a chain that
    /// needs more than the budget is refused on every request of a kept configuration, as
    /// with a configuration read per request, even though its signatures were checked before.
    #[test]
    fn a_chain_over_the_budget_stays_refused_when_its_signatures_are_remembered() {
        use certgate_testkit::KeyKind;
        let root = Ca::with_key("memo p384 root", KeyKind::EcdsaP384);
        let issuing = root.intermediate_with_key("memo p384 issuing", KeyKind::EcdsaP384);
        let leaf = issuing.issue(&LeafOptions::named("client"));
        // Roots of the same name tried first, each a failed P-384 check (4 units of 24).
        let gate_with = |decoys: usize| {
            let mut anchors: String =
                (0..decoys).map(|_| Ca::with_key("memo p384 root", KeyKind::EcdsaP384).certificate.pem()).collect();
            anchors.push_str(&root.certificate.pem());
            Gate::from_source(&[("trust_anchors", anchors.as_str()), ("platform", "rfc9440")]).unwrap()
        };
        // Four decoys: 16 + 4 + 4 = 24 units, within the budget, on every request.
        let within = gate_with(4);
        for _ in 0..3 {
            assert!(authenticate(&within, &leaf.der, &[&issuing.certificate.der]).is_ok());
        }
        // Five: 28 units. Refused the first time, and every time after.
        let over = gate_with(5);
        for _ in 0..3 {
            assert_eq!(authenticate(&over, &leaf.der, &[&issuing.certificate.der]), Err(Reason::CertificateUntrusted));
        }
        assert!(!over.config().policy.trust.verified.is_empty(), "its good signatures were remembered");
    }
}
