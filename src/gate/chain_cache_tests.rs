//! The chain cache (`chain_cache_seconds`) end to end through [`Gate`]: a validated path is
//! kept and reused, it decides exactly as validation does, and nothing about it can be
//! stretched: not to another certificate, another trust configuration, a certificate of the
//! path that has since expired, a chain that lacks the path's certificates, or past its
//! lifetime; revocation is judged on every request; and a client cannot mint entries.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap};

use certgate_testkit::{encode, Ca, Issued, LeafOptions, OffsetDateTime};
use sha2::{Digest, Sha256};

use super::Gate;
use crate::decision::{Denied, Identity};
use crate::reason::Reason;
use crate::store::chain::{self, CachedChain};
use crate::store::{Entry, EntryKey, KeyValue, Layout};

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

fn at(t: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(t).unwrap()
}

/// A writable store as certgate-kv leaves one, counting reads and writes; it can be made
/// to fail on the chain cache's keys only, or to refuse writes.
struct Kv {
    map: RefCell<BTreeMap<String, Vec<u8>>>,
    reads: Cell<usize>,
    writes: Cell<usize>,
    cache_down: Cell<bool>,
    read_only: Cell<bool>,
}

impl KeyValue for Kv {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, String> {
        self.reads.set(self.reads.get() + 1);
        if self.cache_down.get() && key.starts_with(chain::PREFIX) {
            return Err("connection reset".into());
        }
        Ok(self.map.borrow().get(key).cloned())
    }

    fn set(&self, key: &str, value: &[u8]) -> Result<(), String> {
        if self.read_only.get() {
            return Err("read-only replica".into());
        }
        self.writes.set(self.writes.get() + 1);
        self.map.borrow_mut().insert(key.to_string(), value.to_vec());
        Ok(())
    }
}

impl Kv {
    fn with(entries: &[(EntryKey, Entry)]) -> Kv {
        Kv {
            map: RefCell::new(crate::store::written(Layout::Direct, entries)),
            reads: Cell::new(0),
            writes: Cell::new(0),
            cache_down: Cell::new(false),
            read_only: Cell::new(false),
        }
    }

    fn new() -> Kv {
        Kv::with(&[])
    }

    fn cache_keys(&self) -> Vec<String> {
        self.map.borrow().keys().filter(|k| k.starts_with(chain::PREFIX)).cloned().collect()
    }

    fn writes(&self) -> usize {
        self.writes.replace(0)
    }
}

/// A root, an issuing CA under it and a client certificate it issued.
struct Fleet {
    root: Ca,
    issuing: Ca,
    leaf: Issued,
}

fn fleet() -> Fleet {
    let root = Ca::new("Fleet Root");
    let issuing = root.intermediate("Fleet Issuing");
    let leaf = issuing.issue(&LeafOptions::named("device-1"));
    Fleet { root, issuing, leaf }
}

fn gate(root: &Ca, extra: &[(&str, &str)]) -> Gate {
    let anchors = root.certificate.pem();
    let mut vars: Vec<(&str, &str)> = vec![
        ("keyvalue_store", "default"),
        ("trust_anchors", &anchors),
        ("platform", "rfc9440"),
        ("chain_cache_seconds", "300"),
    ];
    for (name, value) in extra {
        vars.retain(|(n, _)| n != name);
        vars.push((name, value));
    }
    vars.retain(|(_, v)| !v.is_empty());
    Gate::from_source(&vars.as_slice()).unwrap()
}

fn headers(leaf: &Issued, chain: &[&Issued]) -> Vec<(String, Vec<u8>)> {
    let mut h = vec![("client-cert".to_string(), encode::rfc9440(&leaf.der).into_bytes())];
    if !chain.is_empty() {
        let list: Vec<String> = chain.iter().map(|c| encode::rfc9440(&c.der)).collect();
        h.push(("client-cert-chain".to_string(), list.join(", ").into_bytes()));
    }
    h
}

fn send(gate: &Gate, kv: &Kv, leaf: &Issued, chain: &[&Issued], t: i64) -> Result<Identity, Denied> {
    gate.authenticate_with(&headers(leaf, chain), t, kv)
}

/// The reason a request was refused for (`None`: allowed).
fn reason(result: &Result<Identity, Denied>) -> Option<Reason> {
    result.as_ref().err().map(Denied::reason)
}

fn sha256(der: &[u8]) -> [u8; 32] {
    Sha256::digest(der).into()
}

#[test]
fn a_validated_path_is_kept_and_the_next_request_uses_it() {
    let f = fleet();
    let gate = gate(&f.root, &[]);
    let kv = Kv::new();
    let t = now();
    let first = send(&gate, &kv, &f.leaf, &[&f.issuing.certificate], t).unwrap();
    assert!(!first.path_from_cache);
    assert_eq!(kv.writes(), 1);
    let keys = kv.cache_keys();
    assert_eq!(keys.len(), 1);
    // The entry names the path by digests, under this trust configuration and leaf.
    let trust = gate.config().policy.trust.digest(gate.config().policy.eku);
    assert_eq!(keys[0], chain::key(&trust, &sha256(&f.leaf.der)));
    let entry = CachedChain::parse(&kv.map.borrow()[&keys[0]], &trust, &sha256(&f.leaf.der)).unwrap();
    assert_eq!(entry.path, vec![sha256(&f.issuing.certificate.der)]);
    assert_eq!(entry.anchor, sha256(&f.root.certificate.der));
    assert_eq!(entry.verified_at, t);

    // The path rebuilt from the entry is the one validation returns, link for link (the
    // issuer keys and names revocation is checked against included).
    let policy = &gate.config().policy;
    let forwarded = vec![f.issuing.certificate.der.clone()];
    let budget = crate::trust::SignatureBudget::default();
    let validated = policy.trust.verify(&f.leaf.der, &forwarded, t, policy.eku, &budget).unwrap();
    let rebuilt = policy.trust.cached(&f.leaf.der, &forwarded, &entry.path, &entry.anchor, t).unwrap();
    assert_eq!(rebuilt, validated);

    kv.reads.set(0);
    let second = send(&gate, &kv, &f.leaf, &[&f.issuing.certificate], t + 1).unwrap();
    assert!(second.path_from_cache);
    assert_eq!(kv.writes(), 0, "a hit writes nothing");
    // The marker, the leaf's own entry, its ECDSA twins' entries and the cache entry.
    assert!(kv.reads.get() <= 5, "{} reads", kv.reads.get());
    assert_eq!(second.trusted_by, first.trusted_by);
    // A gate without the cache never reads or writes one.
    let plain = self::gate(&f.root, &[("chain_cache_seconds", "")]);
    let plain_kv = Kv::new();
    let identity = send(&plain, &plain_kv, &f.leaf, &[&f.issuing.certificate], t).unwrap();
    assert!(!identity.path_from_cache);
    assert!(plain_kv.cache_keys().is_empty());
    assert_eq!(plain_kv.writes(), 0);
}

#[test]
fn a_cached_path_decides_as_validation_does_for_every_chain_case() {
    let t = now();
    let mut compared = 0;
    for case in certgate_testkit::chain_cases(t) {
        if !case.variables.iter().any(|(k, _)| k == "trust_anchors") {
            continue;
        }
        let mut vars: HashMap<String, String> = case.variables.iter().cloned().collect();
        let plain = Gate::from_source(&vars).unwrap();
        vars.insert("keyvalue_store".into(), "default".into());
        vars.insert("chain_cache_seconds".into(), "300".into());
        let cached = Gate::from_source(&vars).unwrap();
        let kv = Kv::new();
        let judge = |gate: &Gate, kv: &dyn KeyValue| {
            gate.authenticate_with(&case.headers, t, kv).map(|id| (id.trusted_by, id.path_from_cache))
        };
        let expected = plain.authenticate(&case.headers, t).map(|id| id.trusted_by).map_err(|d| d.reason());
        assert_eq!(expected.is_ok(), case.allowed, "{}", case.name);
        let first = judge(&cached, &kv);
        let second = judge(&cached, &kv);
        for (n, got) in [(1, &first), (2, &second)] {
            let got = got.clone().map(|(by, _)| by).map_err(|d| d.reason());
            assert_eq!(got, expected, "{} request {n}", case.name);
        }
        let by_anchor = matches!(&expected, Ok(crate::policy::TrustedBy::Anchor(_)));
        if by_anchor {
            assert_eq!(first.as_ref().map(|(_, hit)| *hit), Ok(false), "{}", case.name);
            assert_eq!(second.as_ref().map(|(_, hit)| *hit), Ok(true), "{} second request", case.name);
        }
        compared += usize::from(by_anchor);
    }
    assert!(compared >= 8, "only {compared} cases allowed on the anchor path");
}

#[test]
fn revocation_is_judged_on_every_request_from_a_cached_path() {
    let f = fleet();
    let t = now();
    let (_, issuing) = x509_parser::parse_x509_certificate(&f.issuing.certificate.der).unwrap();
    let root_name = sha256(issuing.issuer().as_raw());
    let issuing_serial = issuing.raw_serial().to_vec();
    let chain = [&f.issuing.certificate];

    // The leaf revoked in the store after its path was cached.
    let gate = gate(&f.root, &[]);
    let kv = Kv::new();
    assert!(send(&gate, &kv, &f.leaf, &chain, t).is_ok());
    let leaf_key = EntryKey::Certificate(sha256(&f.leaf.der)).name();
    kv.map.borrow_mut().insert(leaf_key.clone(), Entry::revoked().to_json());
    assert_eq!(reason(&send(&gate, &kv, &f.leaf, &chain, t + 1)), Some(Reason::CertificateRevoked));
    kv.map.borrow_mut().remove(&leaf_key);
    assert!(send(&gate, &kv, &f.leaf, &chain, t + 2).unwrap().path_from_cache);

    // The issuing CA revoked by serial in the store: the cached path still names it.
    let serial_entry = (EntryKey::serial(root_name, &issuing_serial), Entry::revoked());
    let revoked_kv = Kv::with(&[serial_entry]);
    revoked_kv.map.borrow_mut().extend(kv.cache_keys().into_iter().map(|k| {
        let v = kv.map.borrow()[&k].clone();
        (k, v)
    }));
    assert_eq!(reason(&send(&gate, &revoked_kv, &f.leaf, &chain, t + 3)), Some(Reason::CertificateRevoked));

    // The issuing CA on the root's CRL: a CRL is not part of the trust digest, so the entry
    // made before the CRL was configured is the one read, and the CRL still denies.
    let crl = f.root.crl(&[&issuing_serial], at(t - 60), at(t + 3600));
    let with_crl = self::gate(&f.root, &[("crls", &crl)]);
    let before = kv.cache_keys();
    kv.writes();
    let revoked = send(&with_crl, &kv, &f.leaf, &chain, t + 4);
    assert_eq!(reason(&revoked), Some(Reason::CertificateRevoked));
    assert_eq!(kv.cache_keys(), before, "the same entry, not a new one");
    assert_eq!(kv.writes(), 0, "the path came from the cache");
}

#[test]
fn an_entry_never_outlives_its_trust_configuration() {
    let f = fleet();
    let t = now();
    let chain = [&f.issuing.certificate];
    let kv = Kv::new();
    assert!(send(&gate(&f.root, &[]), &kv, &f.leaf, &chain, t).is_ok());
    let cached = kv.cache_keys();

    // Another anchor: the entry is under another digest, so the leaf is judged afresh.
    let other = Ca::new("Other Root");
    let moved = gate(&other, &[]);
    assert_eq!(reason(&send(&moved, &kv, &f.leaf, &chain, t + 1)), Some(Reason::CertificateUntrusted));
    // Even with the old entry copied under the new configuration's key, it is refused.
    let new_trust = moved.config().policy.trust.digest(moved.config().policy.eku);
    let copied = chain::key(&new_trust, &sha256(&f.leaf.der));
    let value = kv.map.borrow()[&cached[0]].clone();
    kv.map.borrow_mut().insert(copied, value);
    let refused = moved.authenticate_with(&headers(&f.leaf, &chain), t + 2, &kv);
    assert_eq!(reason(&refused), Some(Reason::CertificateUntrusted));

    // Configured intermediates are part of the digest: adding one starts afresh.
    let issuing_pem = f.issuing.certificate.pem();
    let with_intermediates = gate(&f.root, &[("intermediates", &issuing_pem)]);
    let identity = send(&with_intermediates, &kv, &f.leaf, &[], t + 3).unwrap();
    assert!(!identity.path_from_cache);

    // A leaf without clientAuth, cached while the EKU was not required, is refused once it is.
    let mut server_only = LeafOptions::named("device-2");
    server_only.client_auth = false;
    server_only.server_auth = true;
    let server_leaf = f.issuing.issue(&server_only);
    let any_eku = gate(&f.root, &[("require_client_auth_eku", "false")]);
    assert!(send(&any_eku, &kv, &server_leaf, &chain, t + 4).is_ok());
    assert!(send(&any_eku, &kv, &server_leaf, &chain, t + 5).unwrap().path_from_cache);
    let strict = gate(&f.root, &[]);
    assert_eq!(reason(&send(&strict, &kv, &server_leaf, &chain, t + 6)), Some(Reason::CertificateWrongUsage));
}

#[test]
fn a_path_certificate_past_its_validity_is_validated_again() {
    let t = now();
    let root = Ca::new("Fleet Root");
    // An issuing CA that expires a minute from now, over a leaf valid for a year.
    let issuing = root.intermediate_valid("Fleet Issuing", at(t - 86_400), at(t + 60));
    let mut o = LeafOptions::named("device-1");
    o.not_after = at(t + 365 * 86_400);
    let leaf = issuing.issue(&o);
    let gate = gate(&root, &[("chain_cache_seconds", "3600")]);
    let kv = Kv::new();
    let chain = [&issuing.certificate];
    assert!(send(&gate, &kv, &leaf, &chain, t).is_ok());
    assert!(send(&gate, &kv, &leaf, &chain, t + 59).unwrap().path_from_cache);
    // Within the entry's lifetime, but past the issuing CA's notAfter: as validation says.
    assert_eq!(reason(&send(&gate, &kv, &leaf, &chain, t + 120)), Some(Reason::CertificateUntrusted));
    let plain = self::gate(&root, &[("chain_cache_seconds", "")]);
    assert_eq!(reason(&send(&plain, &Kv::new(), &leaf, &chain, t + 120)), Some(Reason::CertificateUntrusted));
}

#[test]
fn the_lifetime_bounds_an_entry_and_a_stale_one_is_replaced() {
    let f = fleet();
    let gate = gate(&f.root, &[("chain_cache_seconds", "60")]);
    let kv = Kv::new();
    let t = now();
    let chain = [&f.issuing.certificate];
    assert!(!send(&gate, &kv, &f.leaf, &chain, t).unwrap().path_from_cache);
    assert!(send(&gate, &kv, &f.leaf, &chain, t + 59).unwrap().path_from_cache);
    kv.writes();
    assert!(!send(&gate, &kv, &f.leaf, &chain, t + 60).unwrap().path_from_cache, "the lifetime is over");
    assert_eq!(kv.writes(), 1, "validated again and written back");
    assert!(send(&gate, &kv, &f.leaf, &chain, t + 61).unwrap().path_from_cache);
    // An entry from the future (another instance's clock far ahead) is not trusted either.
    assert!(!send(&gate, &kv, &f.leaf, &chain, t - 3600).unwrap().path_from_cache);
}

#[test]
fn an_entry_is_used_only_with_the_certificates_of_its_path_and_one_serves_every_spelling() {
    let f = fleet();
    let gate = gate(&f.root, &[]);
    let kv = Kv::new();
    let t = now();
    let junk: Vec<Issued> = (0..3).map(|i| Ca::new(&format!("Unrelated {i}")).certificate).collect();
    assert!(send(&gate, &kv, &f.leaf, &[&f.issuing.certificate], t).is_ok());
    // Without the issuing CA the path cannot be built, cached or not.
    assert_eq!(reason(&send(&gate, &kv, &f.leaf, &[], t)), Some(Reason::CertificateUntrusted));
    assert_eq!(reason(&send(&gate, &kv, &f.leaf, &[&junk[0]], t)), Some(Reason::CertificateUntrusted));
    // Padded and reordered chains: all allowed from the one entry, none writes another.
    kv.writes();
    for chain in [
        vec![&f.issuing.certificate, &junk[0]],
        vec![&junk[1], &f.issuing.certificate],
        vec![&junk[2], &junk[0], &f.issuing.certificate, &junk[1]],
    ] {
        assert!(send(&gate, &kv, &f.leaf, &chain, t).unwrap().path_from_cache);
    }
    assert_eq!(kv.writes(), 0);
    assert_eq!(kv.cache_keys().len(), 1);
}

#[test]
fn an_entry_that_cannot_be_used_is_validated_again_and_rewritten() {
    let f = fleet();
    let gate = gate(&f.root, &[]);
    let kv = Kv::new();
    let t = now();
    let chain = [&f.issuing.certificate];
    assert!(send(&gate, &kv, &f.leaf, &chain, t).is_ok());
    let key = kv.cache_keys().remove(0);
    let trust = gate.config().policy.trust.digest(gate.config().policy.eku);
    let good = kv.map.borrow()[&key].clone();
    let leaf_sha = sha256(&f.leaf.der);
    let mut entry = CachedChain::parse(&good, &trust, &leaf_sha).unwrap();
    let unrelated = Ca::new("Fleet Issuing"); // the issuing CA's name, another key
    let forged_paths = [
        vec![],                                   // the leaf straight under the root: names do not chain
        vec![sha256(&unrelated.certificate.der)], // a CA that is neither forwarded nor configured
        vec![sha256(&f.root.certificate.der)],    // the anchor as its own intermediate
    ];
    for (i, path) in forged_paths.into_iter().enumerate() {
        entry.path = path;
        entry.verified_at = t;
        kv.map.borrow_mut().insert(key.clone(), entry.to_json());
        // Validated instead; a fresh entry is replaced only once it is a minute old, so a
        // client alternating between two valid paths cannot make every request a write.
        let identity = send(&gate, &kv, &f.leaf, &chain, t + 1).unwrap();
        assert!(!identity.path_from_cache, "forged path {i}");
        assert_eq!(kv.map.borrow()[&key], entry.to_json(), "forged path {i}: kept while fresh");
        let identity = send(&gate, &kv, &f.leaf, &chain, t + 60).unwrap();
        assert!(!identity.path_from_cache, "forged path {i}");
        let rewritten = CachedChain::parse(&kv.map.borrow()[&key], &trust, &leaf_sha).unwrap();
        assert_eq!((rewritten.path.len(), rewritten.verified_at), (1, t + 60), "forged path {i}");
    }
    // An entry naming an anchor that is not configured.
    entry.path = vec![sha256(&f.issuing.certificate.der)];
    entry.verified_at = t - 120;
    entry.anchor = sha256(&unrelated.certificate.der);
    kv.map.borrow_mut().insert(key.clone(), entry.to_json());
    assert!(!send(&gate, &kv, &f.leaf, &chain, t + 1).unwrap().path_from_cache);
    // Garbage: validated again, warned of, and rewritten.
    kv.map.borrow_mut().insert(key.clone(), b"{\"format\":\"certgate-chain\"".to_vec());
    let identity = send(&gate, &kv, &f.leaf, &chain, t + 1).unwrap();
    assert!(!identity.path_from_cache);
    assert!(identity.warnings.iter().any(|w| w.contains("chain cache entry") && w.contains("validated again")));
    assert_eq!(kv.map.borrow()[&key], {
        let mut fresh = CachedChain::parse(&good, &trust, &leaf_sha).unwrap();
        fresh.verified_at = t + 1;
        fresh.to_json()
    });
    // The entry does not make a certificate of another issuer trusted: its leaf is not this one.
    let stranger = Ca::new("Stranger").issue(&LeafOptions::named("device-1"));
    assert_eq!(reason(&send(&gate, &kv, &stranger, &chain, t + 2)), Some(Reason::CertificateUntrusted));
}

#[test]
fn a_refused_request_writes_nothing() {
    let f = fleet();
    let t = now();
    let chain = [&f.issuing.certificate];
    let (_, issuing) = x509_parser::parse_x509_certificate(&f.issuing.certificate.der).unwrap();
    let crl = f.root.crl(&[issuing.raw_serial()], at(t - 60), at(t + 3600));
    // Each chains to the anchor and is refused after: by a name rule, by the root's CRL
    // revoking the issuing CA, by the store.
    for (why, extra) in [("names", ("allowed_names", "cn:someone-else")), ("crl", ("crls", crl.as_str()))] {
        let gate = gate(&f.root, &[extra]);
        let kv = Kv::new();
        assert!(send(&gate, &kv, &f.leaf, &chain, t).is_err(), "{why}");
        assert!(send(&gate, &kv, &f.leaf, &chain, t + 1).is_err(), "{why}");
        assert_eq!((kv.writes(), kv.cache_keys().len()), (0, 0), "{why}");
    }
    let kv = Kv::with(&[(EntryKey::Certificate(sha256(&f.leaf.der)), Entry::revoked())]);
    assert_eq!(reason(&send(&gate(&f.root, &[]), &kv, &f.leaf, &chain, t)), Some(Reason::CertificateRevoked));
    assert_eq!(kv.writes(), 0);
    // Many distinct refused certificates: still nothing written.
    let names = gate(&f.root, &[("allowed_names", "cn:device-1")]);
    let kv = Kv::new();
    for i in 0..20 {
        let other = f.issuing.issue(&LeafOptions::named(&format!("intruder-{i}")));
        assert_eq!(reason(&send(&names, &kv, &other, &chain, t)), Some(Reason::CertificateNameNotAllowed));
    }
    assert_eq!(kv.writes(), 0);
    assert!(send(&names, &kv, &f.leaf, &chain, t).is_ok());
    assert_eq!(kv.cache_keys().len(), 1, "only the allowed certificate's path");
}

#[test]
fn the_trust_digest_names_the_build_and_is_computed_once() {
    let f = fleet();
    let gate = gate(&f.root, &[]);
    let trust = &gate.config().policy.trust;
    let client_auth = trust.digest(crate::trust::EkuPolicy::ClientAuth);
    assert_eq!(trust.digest(crate::trust::EkuPolicy::ClientAuth), client_auth);
    assert_ne!(trust.digest(crate::trust::EkuPolicy::Any), client_auth);
    // Another store with the same CAs has the same digest; a clone keeps it.
    let again = self::gate(&f.root, &[]);
    assert_eq!(again.config().policy.trust.digest(crate::trust::EkuPolicy::ClientAuth), client_auth);
    assert_eq!(trust.clone().digest(crate::trust::EkuPolicy::ClientAuth), client_auth);
    assert_eq!(&again.config().policy.trust, trust, "a memo, not configuration");
    assert_eq!(env!("CERTGATE_LOCK_HASH").len(), 16);
    assert_ne!(env!("CERTGATE_LOCK_HASH"), "0000000000000000", "the workspace's Cargo.lock was read");
}

#[test]
fn the_store_failing_on_the_cache_refuses_and_a_refused_write_only_warns() {
    let f = fleet();
    let gate = gate(&f.root, &[]);
    let t = now();
    let chain = [&f.issuing.certificate];
    let kv = Kv::new();
    kv.cache_down.set(true);
    assert_eq!(reason(&send(&gate, &kv, &f.leaf, &chain, t)), Some(Reason::StoreUnavailable));
    kv.cache_down.set(false);
    kv.read_only.set(true);
    let identity = send(&gate, &kv, &f.leaf, &chain, t).unwrap();
    assert!(!identity.path_from_cache);
    assert!(identity.warnings.iter().any(|w| w.contains("could not be written") && w.contains("read-only replica")));
    assert!(kv.cache_keys().is_empty());
}

#[test]
fn the_cache_needs_a_store_and_anchors_and_a_bounded_lifetime() {
    let f = fleet();
    let anchors = f.root.certificate.pem();
    let pin = f.leaf.sha256_hex();
    let cases: [(&[(&str, &str)], &str); 5] = [
        (&[("trust_anchors", &anchors), ("chain_cache_seconds", "60")], "needs keyvalue_store"),
        (
            &[("keyvalue_store", "default"), ("allowed_thumbprints", &pin), ("chain_cache_seconds", "60")],
            "needs trust_anchors",
        ),
        (&[("keyvalue_store", "default"), ("trust_anchors", &anchors), ("chain_cache_seconds", "0")], "1"),
        (&[("keyvalue_store", "default"), ("trust_anchors", &anchors), ("chain_cache_seconds", "86401")], "86400"),
        (&[("keyvalue_store", "default"), ("trust_anchors", &anchors), ("chain_cache_seconds", "soon")], "number"),
    ];
    for (vars, says) in cases {
        let error = Gate::from_source(&vars).unwrap_err();
        assert_eq!(error.variable, "chain_cache_seconds", "{vars:?}");
        assert!(error.to_string().contains(says), "{error}");
    }
    let ok = [("keyvalue_store", "default"), ("trust_anchors", anchors.as_str()), ("chain_cache_seconds", "86400")];
    assert_eq!(Gate::from_source(&ok.as_slice()).unwrap().config().policy.chain_cache_seconds, Some(86_400));
}
