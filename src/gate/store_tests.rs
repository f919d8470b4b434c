//! The key-value store as a trust source, end to end through [`Gate`]: what it allows,
//! what its revocations deny whatever else trusts the certificate, how many reads a
//! request costs, and that every way the store can fail refuses.

use std::cell::Cell;
use std::collections::BTreeMap;

use certgate_testkit::{encode, Ca, Issued, KeyKind, LeafOptions};
use sha2::{Digest, Sha256};

use super::Gate;
use crate::decision::Denied;
use crate::policy::{PolicyDenial, TrustedBy};
use crate::reason::Reason;
use crate::store::{Entry, EntryKey, KeyValue, Layout};

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

/// A store written as certgate-kv writes one, counting reads.
struct Store {
    kv: BTreeMap<String, Vec<u8>>,
    reads: Cell<usize>,
    down: Cell<bool>,
}

impl KeyValue for Store {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, String> {
        self.reads.set(self.reads.get() + 1);
        if self.down.get() {
            return Err("connection refused".into());
        }
        Ok(self.kv.get(key).cloned())
    }
}

impl Store {
    fn new(layout: Layout, entries: &[(EntryKey, Entry)]) -> Store {
        Store { kv: crate::store::written(layout, entries), reads: Cell::new(0), down: Cell::new(false) }
    }

    fn reads(&self) -> usize {
        self.reads.replace(0)
    }
}

fn cert_key(leaf: &Issued) -> EntryKey {
    EntryKey::Certificate(Sha256::digest(&leaf.der).into())
}

/// The issuer Name's DER hash and the serial, read with x509-parser (an independent
/// decoder), as certgate-kv keys a revocation by serial.
fn serial_key(leaf: &Issued) -> EntryKey {
    let (_, cert) = x509_parser::parse_x509_certificate(&leaf.der).unwrap();
    EntryKey::serial(Sha256::digest(cert.issuer().as_raw()).into(), cert.raw_serial())
}

fn spki_key(leaf: &Issued) -> EntryKey {
    let (_, cert) = x509_parser::parse_x509_certificate(&leaf.der).unwrap();
    EntryKey::Key(Sha256::digest(cert.public_key().raw).into())
}

fn gate(vars: &[(&str, &str)]) -> Gate {
    let mut all = vec![("keyvalue_store", "default")];
    all.extend_from_slice(vars);
    Gate::from_source(&all.as_slice()).unwrap()
}

fn headers(leaf: &Issued) -> Vec<(String, Vec<u8>)> {
    vec![("x-arr-clientcert".into(), encode::base64_der(&leaf.der).into_bytes())]
}

fn reason(gate: &Gate, leaf: &Issued, store: &Store) -> Result<TrustedBy, Reason> {
    gate.authenticate_with(&headers(leaf), now(), store).map(|id| id.trusted_by).map_err(|d| d.reason())
}

#[test]
fn a_store_pin_allows_and_says_it_came_from_the_store_in_three_reads() {
    let ca = Ca::new("Fleet CA");
    let device = ca.issue(&LeafOptions::named("device-1"));
    let stranger = ca.issue(&LeafOptions::named("stranger"));
    for layout in [Layout::Direct, Layout::Bucketed { digits: 2 }] {
        let store = Store::new(layout, &[(cert_key(&device), Entry::pinned().labelled(Some("device 1".into())))]);
        let g = gate(&[]);
        match reason(&g, &device, &store) {
            Ok(TrustedBy::Pin(pin)) => {
                assert_eq!((pin.source, pin.entry, pin.label.as_deref()), ("keyvalue_store", 0, Some("device 1")));
                assert_eq!(pin.describe(), "pin \"device 1\" (keyvalue_store)");
            }
            other => panic!("{layout:?}: {other:?}"),
        }
        // The marker, the certificate's entry and its ECDSA twin's (the CA signs with P-256).
        assert_eq!(store.reads(), 3, "the marker, the certificate's entry and its twin's");
        assert_eq!(reason(&g, &stranger, &store), Err(Reason::CertificateNotAllowed));
    }
}

#[test]
fn a_store_revocation_denies_what_a_variable_pins_or_a_chain_trusts() {
    let ca = Ca::new("Fleet CA");
    let leaf = ca.issue(&LeafOptions::named("device-2"));
    let store = Store::new(Layout::Direct, &[(cert_key(&leaf), Entry::revoked().labelled(Some("lost".into())))]);
    let pinned = gate(&[("allowed_thumbprints", &leaf.sha256_hex())]);
    let denied = pinned.authenticate_with(&headers(&leaf), now(), &store).unwrap_err();
    assert_eq!(denied.reason(), Reason::CertificateRevoked);
    assert_eq!(denied.to_string(), "the certificate is revoked by the key-value store's thumbprint entry \"lost\"");
    let chaining = gate(&[("trust_anchors", &ca.certificate.pem())]);
    assert_eq!(reason(&chaining, &leaf, &store), Err(Reason::CertificateRevoked));
    // Without the entry, both allow: the revocation is what denied.
    let empty = Store::new(Layout::Direct, &[]);
    assert!(reason(&pinned, &leaf, &empty).is_ok() && reason(&chaining, &leaf, &empty).is_ok());
}

#[test]
fn an_ecdsa_twin_of_a_revoked_certificate_is_revoked_too() {
    let ca = Ca::new("Fleet CA");
    let leaf = ca.issue(&LeafOptions::named("device-3"));
    let twins = crate::trust::issuer::ecdsa_twins(&leaf.der);
    assert!(!twins.is_empty(), "a P-256 CA's certificate has a twin");
    let chaining = gate(&[("trust_anchors", &ca.certificate.pem())]);
    let store = Store::new(Layout::Direct, &[(cert_key(&leaf), Entry::revoked())]);
    let empty = Store::new(Layout::Direct, &[]);
    let mut chaining_twins = 0;
    for twin in twins {
        let twin = Issued { der: twin, key_pem: String::new() };
        assert_ne!(twin.sha256_hex(), leaf.sha256_hex());
        // Only the twin for the issuer's curve has a valid signature.
        if reason(&chaining, &twin, &empty).is_ok() {
            chaining_twins += 1;
            assert_eq!(reason(&chaining, &twin, &store), Err(Reason::CertificateRevoked));
        }
    }
    assert_eq!(chaining_twins, 1, "the twin for the CA's own curve chains like the original");
    // A key pin trusts the twin too (same key): its revocation still holds.
    let key_pinned = gate(&[("allowed_key_pins", &leaf.key_sha256_b64())]);
    let twin = Issued { der: crate::trust::issuer::ecdsa_twins(&leaf.der).remove(0), key_pem: String::new() };
    assert!(reason(&key_pinned, &twin, &empty).is_ok());
    assert_eq!(reason(&key_pinned, &twin, &store), Err(Reason::CertificateRevoked));
}

/// The store revokes one form of an ECDSA certificate and the other is pinned (its own
/// thumbprint, in a variable or in the store): the pin does not let the revoked
/// certificate in, as the `revoked` variable does not. The revoked thumbprint may well be
/// the twin's: the form the client once sent and the decision log showed (found by a
/// review: the twin was not looked up for a thumbprint pin).
#[test]
fn a_store_revocation_of_one_form_denies_the_other_form_pinned() {
    let ca = Ca::new("Fleet CA");
    let leaf = ca.issue(&LeafOptions::named("device-twin"));
    let twin = Issued { der: certgate_testkit::reencode::ecdsa_p256_twin(&leaf.der), key_pem: String::new() };
    // The variable denylist, for comparison.
    let vars = [("allowed_thumbprints", leaf.sha256_hex()), ("revoked", twin.sha256_hex())];
    let by_variables = Gate::from_source(&vars.iter().map(|(k, v)| (*k, v.as_str())).collect::<Vec<_>>().as_slice());
    let empty = Store::new(Layout::Direct, &[]);
    assert_eq!(reason(&by_variables.unwrap(), &leaf, &empty), Err(Reason::CertificateRevoked));
    // The store revokes the twin; a variable pins the original.
    let pinned = gate(&[("allowed_thumbprints", &leaf.sha256_hex())]);
    assert!(reason(&pinned, &leaf, &empty).is_ok());
    for layout in [Layout::Direct, Layout::Bucketed { digits: 1 }] {
        let store = Store::new(layout, &[(cert_key(&twin), Entry::revoked().labelled(Some("lost".into())))]);
        assert_eq!(reason(&pinned, &leaf, &store), Err(Reason::CertificateRevoked), "{layout:?}: variable pin");
        // The store itself pins one form and revokes the other, both ways round.
        for (pinned_form, revoked_form) in [(&leaf, &twin), (&twin, &leaf)] {
            let store = Store::new(
                layout,
                &[(cert_key(pinned_form), Entry::pinned()), (cert_key(revoked_form), Entry::revoked())],
            );
            assert_eq!(
                reason(&gate(&[]), pinned_form, &store),
                Err(Reason::CertificateRevoked),
                "{layout:?}: store pin"
            );
        }
    }
}

/// An RSASSA-PSS signature has one valid form: `s + n` (as long as `s`) verified under the
/// rsa crate's PSS check, so a leaf or a CA certificate on the path had a second DER that
/// chained, with another thumbprint that no revocation named (found by a review; an
/// ECDSA signature's other form is looked up instead, as its twin). It no longer chains.
#[test]
fn an_rsa_pss_signature_plus_the_modulus_does_not_chain() {
    use certgate_testkit::reencode::rsa_pss_signed_and_plus_modulus;
    let send = |gate: &Gate, leaf: &[u8], chain: Option<&[u8]>| {
        let mut headers = vec![("client-cert".to_string(), encode::rfc9440(leaf).into_bytes())];
        headers.extend(chain.map(|c| ("client-cert-chain".to_string(), encode::rfc9440(c).into_bytes())));
        let empty = Store::new(Layout::Direct, &[]);
        gate.authenticate_with(&headers, now(), &empty).map(drop).map_err(|d| d.reason())
    };
    let root = Ca::with_key("PSS Root", KeyKind::Rsa2048);
    let (leaf, leaf_plus_n) =
        rsa_pss_signed_and_plus_modulus(&root.issue(&LeafOptions::named("lost-device")).der, &root.certificate.key_pem);
    assert_ne!(Sha256::digest(&leaf), Sha256::digest(&leaf_plus_n));
    let issuing = root.intermediate("PSS Issuing CA");
    let (intermediate, intermediate_plus_n) =
        rsa_pss_signed_and_plus_modulus(&issuing.certificate.der, &root.certificate.key_pem);
    let issued = issuing.issue(&LeafOptions::named("device"));
    let anchors = root.certificate.pem();
    let chaining = gate(&[("trust_anchors", &anchors), ("platform", "rfc9440")]);
    assert_eq!(send(&chaining, &leaf, None), Ok(()), "a PSS-signed leaf chains");
    assert_eq!(send(&chaining, &leaf_plus_n, None), Err(Reason::CertificateUntrusted));
    assert_eq!(send(&chaining, &issued.der, Some(&intermediate)), Ok(()), "under a PSS-signed intermediate");
    assert_eq!(send(&chaining, &issued.der, Some(&intermediate_plus_n)), Err(Reason::CertificateUntrusted));
    // The identifier the testkit writes is the one rustls-webpki verifies as PSS-SHA256.
    assert_eq!(&certgate_testkit::reencode::RSA_PSS_SHA256[2..], pki_types::alg_id::RSA_PSS_SHA256.as_ref());
}

/// An RSA key under the X.500 identifier id-ea-rsa (2.5.8.1.1), which OpenSSL reads as
/// rsaEncryption (`openssl pkey -pubin -pubout` writes the usual SPKI) and finishes TLS
/// 1.2 and 1.3 handshakes with, is the same key: a revocation by key denies it, in the
/// `revoked` variable and in the store (found by a review: it was compared as spelled).
#[test]
fn an_rsa_key_under_the_x500_identifier_is_revoked_with_the_key() {
    use certgate_testkit::reencode::{parse, with_spki, write, Node};
    let ca = Ca::new("Key CA");
    let leaf = ca.issue(&LeafOptions::named("lost-device").key(KeyKind::Rsa2048));
    let Node::Constructed(_, spki) = parse(x509_parser::parse_x509_certificate(&leaf.der).unwrap().1.public_key().raw)
    else {
        panic!("spki")
    };
    let x500 = Node::Constructed(
        0x30,
        vec![Node::Primitive(0x06, vec![0x55, 0x08, 0x01, 0x01]), Node::Primitive(0x05, vec![])],
    );
    let respelled = write(&Node::Constructed(0x30, vec![x500, spki[1].clone()]));
    let reissued = Issued { der: with_spki(&leaf.der, &respelled, &ca.certificate.key_pem), key_pem: String::new() };
    assert_ne!(spki_key(&leaf), spki_key(&reissued));
    let anchors = ca.certificate.pem();
    let empty = Store::new(Layout::Direct, &[]);
    let chaining = gate(&[("trust_anchors", &anchors)]);
    assert!(reason(&chaining, &reissued, &empty).is_ok(), "it chains");
    let revoked = format!("key:{}", leaf.key_sha256_b64());
    let by_variable = gate(&[("trust_anchors", &anchors), ("revoked", &revoked)]);
    let by_store = Store::new(Layout::Direct, &[(spki_key(&leaf), Entry::revoked())]);
    for cert in [&leaf, &reissued] {
        assert_eq!(reason(&by_variable, cert, &empty), Err(Reason::CertificateRevoked), "revoked variable");
        assert_eq!(reason(&chaining, cert, &by_store), Err(Reason::CertificateRevoked), "store");
    }
}

/// A CA that copies the key from the CSR as written issues a certificate for a revoked key
/// with its point compressed: another SubjectPublicKeyInfo, the same key. A revocation by
/// key denies it, in the `revoked` variable and in the store, while a pin of the usual
/// spelling does not trust it (found by a review: the key was compared as spelled).
#[test]
fn a_revoked_key_is_revoked_however_the_certificate_spells_it() {
    let ca = Ca::new("Key CA");
    let leaf = ca.issue(&LeafOptions::named("lost-device"));
    let reissued = Issued {
        der: certgate_testkit::reencode::with_compressed_point(&leaf.der, &ca.certificate.key_pem),
        key_pem: String::new(),
    };
    let point = |der: &[u8]| {
        let (_, c) = x509_parser::parse_x509_certificate(der).unwrap();
        p256::PublicKey::from_sec1_bytes(&c.public_key().subject_public_key.data).unwrap()
    };
    assert_eq!(point(&leaf.der), point(&reissued.der), "one key, two spellings");
    assert_ne!(spki_key(&leaf), spki_key(&reissued));
    let anchors = ca.certificate.pem();
    let empty = Store::new(Layout::Direct, &[]);
    let chaining = gate(&[("trust_anchors", &anchors)]);
    assert!(reason(&chaining, &reissued, &empty).is_ok(), "it chains");
    let revoked = format!("key:{}", leaf.key_sha256_b64());
    let by_variable = gate(&[("trust_anchors", &anchors), ("revoked", &revoked)]);
    for cert in [&leaf, &reissued] {
        assert_eq!(reason(&by_variable, cert, &empty), Err(Reason::CertificateRevoked), "revoked variable");
    }
    for layout in [Layout::Direct, Layout::Bucketed { digits: 1 }] {
        let store = Store::new(layout, &[(spki_key(&leaf), Entry::revoked())]);
        for cert in [&leaf, &reissued] {
            assert_eq!(reason(&chaining, cert, &store), Err(Reason::CertificateRevoked), "{layout:?}: store");
        }
        // Revoked by the compressed spelling's digest: that spelling is denied too.
        let store = Store::new(layout, &[(spki_key(&reissued), Entry::revoked())]);
        assert_eq!(reason(&chaining, &reissued, &store), Err(Reason::CertificateRevoked), "{layout:?}");
        // A store pin of the usual spelling does not trust the other one.
        let pinned = Store::new(layout, &[(spki_key(&leaf), Entry::pinned())]);
        assert!(reason(&gate(&[]), &leaf, &pinned).is_ok());
        assert_eq!(reason(&gate(&[]), &reissued, &pinned), Err(Reason::CertificateNotAllowed), "{layout:?}");
    }
    // Curve parameters that are not a named curve: refused, whatever trusts the certificate.
    let explicit = {
        use certgate_testkit::reencode::{parse, write, Node};
        let Node::Constructed(tag, mut parts) = parse(&leaf.der) else { panic!() };
        let Node::Constructed(tbs_tag, mut tbs) = parts[0].clone() else { panic!() };
        let Node::Constructed(_, mut spki) = tbs[6].clone() else { panic!() };
        let Node::Constructed(_, mut algorithm) = spki[0].clone() else { panic!() };
        algorithm[1] = Node::Constructed(0x30, vec![Node::Primitive(0x02, vec![1])]);
        spki[0] = Node::Constructed(0x30, algorithm);
        tbs[6] = Node::Constructed(0x30, spki);
        parts[0] = Node::Constructed(tbs_tag, tbs);
        Issued { der: write(&Node::Constructed(tag, parts)), key_pem: String::new() }
    };
    let pinned = gate(&[("allowed_thumbprints", &explicit.sha256_hex())]);
    assert_eq!(reason(&pinned, &explicit, &empty), Err(Reason::CertificateMalformed));
}

#[test]
fn serial_revocations_match_every_serial_high_bit_or_not_and_only_that_issuers() {
    let ca = Ca::new("Fleet CA");
    let other_ca = Ca::new("Other CA");
    let chaining = gate(&[("trust_anchors", &format!("{}{}", ca.certificate.pem(), other_ca.certificate.pem()))]);
    for serial in [vec![0x01], vec![0x7f, 0xff], vec![0x00, 0x80], vec![0x00, 0xff, 0x01, 0x02], vec![0x12; 20]] {
        let mut options = LeafOptions::named("device");
        options.serial = Some(serial.clone());
        let leaf = ca.issue(&options);
        let same_serial_elsewhere = other_ca.issue(&options);
        let store = Store::new(Layout::Bucketed { digits: 1 }, &[(serial_key(&leaf), Entry::revoked())]);
        assert_eq!(reason(&chaining, &leaf, &store), Err(Reason::CertificateRevoked), "serial {serial:02x?}");
        assert!(reason(&chaining, &same_serial_elsewhere, &store).is_ok(), "another issuer's serial {serial:02x?}");
        // That issuer has serials: marker, certificate, serial. The other: no serial read
        // (and its twin's thumbprint).
        store.reads();
        reason(&chaining, &leaf, &store).ok();
        assert_eq!(store.reads(), 3);
        reason(&chaining, &same_serial_elsewhere, &store).ok();
        assert_eq!(store.reads(), 2 + 1);
    }
}

#[test]
fn an_intermediate_revoked_by_serial_in_the_store_denies_its_leaves() {
    let root = Ca::new("Fleet Root");
    let issuing = root.intermediate("Fleet Issuing CA");
    let leaf = issuing.issue(&LeafOptions::named("device-4"));
    let chaining = gate(&[("trust_anchors", &root.certificate.pem()), ("intermediates", &issuing.certificate.pem())]);
    let store = Store::new(Layout::Direct, &[(serial_key(&issuing.certificate), Entry::revoked())]);
    let denied = chaining.authenticate_with(&headers(&leaf), now(), &store).unwrap_err();
    assert_eq!(denied.reason(), Reason::CertificateRevoked);
    assert!(denied.to_string().starts_with("CA certificate 1 on the path is revoked"), "{denied}");
}

#[test]
fn key_entries_pin_and_revoke_every_certificate_with_the_key() {
    let ca = Ca::new("Fleet CA");
    let first = ca.issue(&LeafOptions::named("device-5").key(KeyKind::Ed25519));
    let renewed = ca.issue(&LeafOptions::named("device-5").same_key_as(&first));
    let pinned = Store::new(Layout::Direct, &[(spki_key(&first), Entry::pinned())]);
    let g = gate(&[]);
    for leaf in [&first, &renewed] {
        assert!(matches!(reason(&g, leaf, &pinned), Ok(TrustedBy::Pin(p)) if p.kind() == "key"));
    }
    // Marker, certificate and key, and the twin thumbprint of the CA's ECDSA signature.
    assert_eq!(pinned.reads(), 2 * 4);
    let revoked =
        Store::new(Layout::Direct, &[(cert_key(&first), Entry::pinned()), (spki_key(&first), Entry::revoked())]);
    assert_eq!(reason(&g, &first, &revoked), Err(Reason::CertificateRevoked));
}

#[test]
fn windows_are_honoured_and_an_inactive_store_pin_is_reported() {
    let ca = Ca::new("Fleet CA");
    let leaf = ca.issue(&LeafOptions::named("device-6"));
    let later = Entry { not_before: Some(now() + 3600), ..Entry::pinned() };
    let store = Store::new(Layout::Direct, &[(cert_key(&leaf), later)]);
    let denied = gate(&[]).authenticate_with(&headers(&leaf), now(), &store).unwrap_err();
    assert!(matches!(denied, Denied::Policy(PolicyDenial::PinInactive(_))), "{denied:?}");
    assert_eq!(denied.reason(), Reason::CertificateNotAllowed);
}

#[test]
fn every_failure_of_the_store_refuses_with_its_reason() {
    let ca = Ca::new("Fleet CA");
    let leaf = ca.issue(&LeafOptions::named("device-7"));
    let pinned_by_variable = gate(&[("allowed_thumbprints", &leaf.sha256_hex())]);
    // Down: even a certificate a variable pins is refused (its revocation is unknown).
    let store = Store::new(Layout::Direct, &[(cert_key(&leaf), Entry::pinned())]);
    store.down.set(true);
    assert_eq!(reason(&pinned_by_variable, &leaf, &store), Err(Reason::StoreUnavailable));
    store.down.set(false);
    assert!(reason(&pinned_by_variable, &leaf, &store).is_ok(), "and allowed again once it is back");
    // No marker: an emptied store is not an empty denylist.
    let mut emptied = Store::new(Layout::Direct, &[]);
    emptied.kv.clear();
    assert_eq!(reason(&pinned_by_variable, &leaf, &emptied), Err(Reason::StoreInvalid));
    // A malformed entry, and a serial entry that claims to pin.
    let mut malformed = Store::new(Layout::Direct, &[]);
    malformed.kv.insert(cert_key(&leaf).name(), b"{\"state\":\"pinned\",".to_vec());
    assert_eq!(reason(&pinned_by_variable, &leaf, &malformed), Err(Reason::StoreInvalid));
    let serial_pin = Store::new(Layout::Direct, &[(serial_key(&leaf), Entry::pinned())]);
    assert_eq!(reason(&pinned_by_variable, &leaf, &serial_pin), Err(Reason::StoreInvalid));
    // A host that gives no store at all.
    let denied = pinned_by_variable.authenticate(&headers(&leaf)[..], now()).unwrap_err();
    assert_eq!(denied.reason(), Reason::StoreUnavailable);
    // Without keyvalue_store nothing is read.
    let plain = Gate::from_source(&[("allowed_thumbprints", leaf.sha256_hex().as_str())]).unwrap();
    assert!(plain.authenticate_with(&headers(&leaf)[..], now(), &store).is_ok());
    assert_eq!(store.reads(), 3 + 1, "the three reads above and the down one; none for `plain`");
}

#[test]
fn the_store_label_is_checked_and_is_a_trust_source() {
    assert!(Gate::from_source(&[("keyvalue_store", "default")]).is_ok());
    for bad in ["Default", "a b", "-x", &"x".repeat(65)] {
        let e = Gate::from_source(&[("keyvalue_store", bad)]).unwrap_err();
        assert_eq!(e.variable, "keyvalue_store", "{bad}");
    }
}

#[test]
fn the_issuer_hash_is_the_issuer_names_der_as_another_decoder_reads_it() {
    let ca = Ca::new("Fleet CA, with a comma");
    for kind in [KeyKind::EcdsaP256, KeyKind::Rsa2048, KeyKind::Ed25519] {
        let leaf = ca.issue(&LeafOptions::named("x").key(kind));
        let (_, parsed) = x509_parser::parse_x509_certificate(&leaf.der).unwrap();
        let decoded = crate::certificate::ClientCertificate::from_der(&leaf.der).unwrap();
        assert_eq!(decoded.issuer_sha256, <[u8; 32]>::from(Sha256::digest(parsed.issuer().as_raw())));
    }
}

/// A CA whose Name has an RDN written out of DER order (CN before O): the signed bytes are
/// what certgate hashes for the client certificate, for the CA certificates on its chain
/// and for a CRL's issuer (certgate-kv's key), so a revocation by serial matches at every
/// depth. Re-encoding would re-sort the RDN and miss them (found by a review).
#[test]
fn an_issuer_name_written_out_of_order_is_keyed_by_its_signed_bytes_at_every_depth() {
    use certgate_testkit::reencode::{unsorted_name, with_names};
    let root = Ca::new("Fleet Root");
    let name = unsorted_name("Fleet Mid", "Fleet");
    let mid = root.intermediate("Fleet Mid");
    let mid_der = with_names(&mid.certificate.der, None, Some(&name), &root.certificate.key_pem);
    let issuing = mid.intermediate("Fleet Issuing CA");
    let issuing_der = with_names(&issuing.certificate.der, Some(&name), None, &mid.certificate.key_pem);
    let leaf = Issued {
        der: with_names(&mid.issue(&LeafOptions::named("d")).der, Some(&name), None, &mid.certificate.key_pem),
        key_pem: String::new(),
    };
    let (_, parsed) = x509_parser::parse_x509_certificate(&issuing_der).unwrap();
    let raw: [u8; 32] = Sha256::digest(parsed.issuer().as_raw()).into();
    let decoded = crate::certificate::ClientCertificate::from_der(&issuing_der).unwrap();
    assert_eq!(decoded.issuer_sha256, raw, "the issuer as signed, not re-encoded");
    // The CRL's issuer, read as certgate-kv reads it, is that same digest.
    let now = certgate_testkit::OffsetDateTime::now_utc();
    let crl_pem = mid.crl(&[&[1]], now, now + certgate_testkit::Duration::days(1));
    let crl_der =
        crate::extract::decode_base64(&crl_pem.lines().filter(|l| !l.starts_with("-----")).collect::<String>())
            .unwrap();
    let crl_issuer = crate::store::crl_issuer_sha256(&crl_der).unwrap();
    let (_, parsed_crl) = x509_parser::parse_x509_crl(&crl_der).unwrap();
    assert_eq!(crl_issuer, <[u8; 32]>::from(Sha256::digest(parsed_crl.issuer().as_raw())));

    let intermediates = format!("{}{}", encode::pem(&mid_der), encode::pem(&issuing_der));
    let chaining = gate(&[("trust_anchors", &root.certificate.pem()), ("intermediates", &intermediates)]);
    let device = issuing.issue(&LeafOptions::named("device-1"));
    assert!(reason(&chaining, &device, &Store::new(Layout::Direct, &[])).is_ok());
    let serial = parsed.raw_serial().to_vec();
    let store = Store::new(Layout::Direct, &[(EntryKey::serial(raw, &serial), Entry::revoked())]);
    assert_eq!(reason(&chaining, &device, &store), Err(Reason::CertificateRevoked), "the issuing CA, depth 1");
    // And a leaf whose own issuer is that name, pinned: its serial entry matches at depth 0.
    let pinned = gate(&[("allowed_thumbprints", &leaf.sha256_hex())]);
    let leaf_serial = x509_parser::parse_x509_certificate(&leaf.der).unwrap().1.raw_serial().to_vec();
    let store = Store::new(Layout::Direct, &[(EntryKey::serial(raw, &leaf_serial), Entry::revoked())]);
    assert_eq!(reason(&pinned, &leaf, &store), Err(Reason::CertificateRevoked), "the leaf, depth 0");
}

/// A revoked key reissued with its point in SEC 1 hybrid form (06/07 || X || Y):
/// OpenSSL reads it (`openssl ec -conv_form hybrid`, and `openssl x509 -req` copies it from
/// the CSR; an OpenSSL 3.0 TLS 1.3 server accepted such a client certificate), the same key.
/// A revocation by key must deny it, as it does the compressed spelling.
#[test]
fn a_revoked_key_in_hybrid_form_is_revoked() {
    let ca = Ca::new("Key CA");
    let leaf = ca.issue(&LeafOptions::named("lost-device"));
    let reissued = Issued {
        der: certgate_testkit::reencode::with_hybrid_point(&leaf.der, &ca.certificate.key_pem),
        key_pem: String::new(),
    };
    assert_ne!(spki_key(&leaf), spki_key(&reissued));
    let anchors = ca.certificate.pem();
    let empty = Store::new(Layout::Direct, &[]);
    let chaining = gate(&[("trust_anchors", &anchors)]);
    assert!(reason(&chaining, &reissued, &empty).is_ok(), "it chains");
    let revoked = format!("key:{}", leaf.key_sha256_b64());
    let by_variable = gate(&[("trust_anchors", &anchors), ("revoked", &revoked)]);
    assert_eq!(reason(&by_variable, &leaf, &empty), Err(Reason::CertificateRevoked));
    assert_eq!(reason(&by_variable, &reissued, &empty), Err(Reason::CertificateRevoked), "revoked variable");
    let store = Store::new(Layout::Direct, &[(spki_key(&leaf), Entry::revoked())]);
    assert_eq!(reason(&chaining, &reissued, &store), Err(Reason::CertificateRevoked), "store");
}

/// A P-521 key (which TLS stacks accept for client certificates and certgate lets chain):
/// revoked as written; its compressed spelling, which certgate cannot decompress to compare,
/// is refused rather than let escape a revocation of the usual one (found by a review).
#[test]
fn a_p521_key_is_revoked_as_written_and_refused_compressed() {
    // One P-521 key (openssl ecparam -name secp521r1), as `openssl pkey -pubout` writes it
    // and with `-conv_form compressed`.
    let usual = hex::decode("30819b301006072a8648ce3d020106052b810400230381860004001c96ef21428192ef8295d547392257a6b575ed0c06ca09aa844ad4ef788cd3af9b6710a0d5003d9b86d8ada549c5bf1a6863e1dee7f4e8ed244bdb436e515b622b01dee629798cef696dd2b8d9447085e5d25b2684daa965a219e8d889af89aadae74b10f8be732b9b964b7042b122aaeb8644acd46234ae4cd2c481352f69a1a9402b").unwrap();
    let compressed = hex::decode("3058301006072a8648ce3d020106052b8104002303440003001c96ef21428192ef8295d547392257a6b575ed0c06ca09aa844ad4ef788cd3af9b6710a0d5003d9b86d8ada549c5bf1a6863e1dee7f4e8ed244bdb436e515b622b").unwrap();
    let ca = Ca::new("Key CA");
    let template = ca.issue(&LeafOptions::named("lost-device"));
    let issue = |spki: &[u8]| Issued {
        der: certgate_testkit::reencode::with_spki(&template.der, spki, &ca.certificate.key_pem),
        key_pem: String::new(),
    };
    let (first, reissued) = (issue(&usual), issue(&compressed));
    let anchors = ca.certificate.pem();
    let empty = Store::new(Layout::Direct, &[]);
    let chaining = gate(&[("trust_anchors", &anchors)]);
    assert!(reason(&chaining, &first, &empty).is_ok(), "a P-521 leaf chains");
    // certgate cannot decompress a P-521 point, so it refuses that spelling outright.
    assert_eq!(reason(&chaining, &reissued, &empty), Err(Reason::CertificateMalformed), "compressed P-521");
    let digest = encode::base64_der(&Sha256::digest(&usual));
    let revoked = format!("key:{digest}");
    let by_variable = gate(&[("trust_anchors", &anchors), ("revoked", &revoked)]);
    assert_eq!(reason(&by_variable, &first, &empty), Err(Reason::CertificateRevoked));
    let store = Store::new(Layout::Direct, &[(spki_key(&first), Entry::revoked())]);
    assert_eq!(reason(&chaining, &first, &store), Err(Reason::CertificateRevoked), "store");
}

/// A revoked RSA key reissued with a leading zero byte before its modulus (a BER
/// spelling of the same INTEGER): OpenSSL 3.0 reads it (its BIGNUM decoder ignores the
/// padding; an OpenSSL TLS 1.3 server finished a handshake with such a client certificate),
/// the same key. Not strict DER, so certgate cannot tell it is the revoked key: refused
/// outright (found by a review: it escaped the revocation).
#[test]
fn an_rsa_key_that_is_not_strict_der_is_refused() {
    use certgate_testkit::reencode::{parse, write, Node};
    let ca = Ca::new("Key CA");
    let leaf = ca.issue(&LeafOptions::named("lost-device").key(KeyKind::Rsa2048));
    let (_, parsed) = x509_parser::parse_x509_certificate(&leaf.der).unwrap();
    let Node::Constructed(_, spki) = parse(parsed.public_key().raw) else { panic!() };
    let Node::Primitive(0x03, bits) = &spki[1] else { panic!() };
    let Node::Constructed(_, mut rsa) = parse(&bits[1..]) else { panic!() };
    let Node::Primitive(0x02, n) = &rsa[0] else { panic!() };
    rsa[0] = Node::Primitive(0x02, [&[0u8][..], n].concat());
    let respell = |key: Vec<u8>| {
        let spki =
            write(&Node::Constructed(0x30, vec![spki[0].clone(), Node::Primitive(0x03, [vec![0], key].concat())]));
        Issued {
            der: certgate_testkit::reencode::with_spki(&leaf.der, &spki, &ca.certificate.key_pem),
            key_pem: String::new(),
        }
    };
    // The modulus with a leading zero; and the key as written followed by two zero bytes
    // (OpenSSL 3.0's d2i reads one RSAPublicKey and ignores what follows).
    let padded = respell(write(&Node::Constructed(0x30, rsa)));
    let trailing = respell([&bits[1..], &[0u8, 0][..]].concat());
    let anchors = ca.certificate.pem();
    let empty = Store::new(Layout::Direct, &[]);
    let chaining = gate(&[("trust_anchors", &anchors)]);
    let revoked = format!("key:{}", leaf.key_sha256_b64());
    let by_variable = gate(&[("trust_anchors", &anchors), ("revoked", &revoked)]);
    let store = Store::new(Layout::Direct, &[(spki_key(&leaf), Entry::revoked())]);
    assert_eq!(reason(&by_variable, &leaf, &empty), Err(Reason::CertificateRevoked));
    assert!(reason(&chaining, &leaf, &empty).is_ok());
    // Not strict DER: refused outright, so no spelling of the key escapes its revocation.
    for (name, reissued) in [("padded modulus", padded), ("trailing bytes", trailing)] {
        for (gate, store) in [(&chaining, &empty), (&by_variable, &empty), (&chaining, &store)] {
            assert_eq!(reason(gate, &reissued, store), Err(Reason::CertificateMalformed), "{name}");
        }
    }
}

/// A revoked P-256 key reissued with its key BIT STRING declaring an unused bit
/// (the point's last bit, zero, as padding): OpenSSL 3.0 reads the same point from it.
/// Refused outright (found by a review: it escaped the revocation).
#[test]
fn a_key_whose_bit_string_declares_unused_bits_is_refused() {
    use certgate_testkit::reencode::{parse, write, Node};
    let ca = Ca::new("Key CA");
    let leaf = (0..64)
        .map(|_| ca.issue(&LeafOptions::named("lost-device")))
        .find(|l| {
            let (_, c) = x509_parser::parse_x509_certificate(&l.der).unwrap();
            c.public_key().subject_public_key.data.last().unwrap() & 1 == 0
        })
        .unwrap();
    let (_, parsed) = x509_parser::parse_x509_certificate(&leaf.der).unwrap();
    let Node::Constructed(_, mut spki) = parse(parsed.public_key().raw) else { panic!() };
    let Node::Primitive(0x03, mut bits) = spki[1].clone() else { panic!() };
    bits[0] = 1;
    spki[1] = Node::Primitive(0x03, bits);
    let respelled = write(&Node::Constructed(0x30, spki));
    let reissued = Issued {
        der: certgate_testkit::reencode::with_spki(&leaf.der, &respelled, &ca.certificate.key_pem),
        key_pem: String::new(),
    };
    let anchors = ca.certificate.pem();
    let empty = Store::new(Layout::Direct, &[]);
    let chaining = gate(&[("trust_anchors", &anchors)]);
    assert!(reason(&chaining, &leaf, &empty).is_ok());
    // An unused bit in the key's BIT STRING: refused outright, whatever trusts it.
    assert_eq!(reason(&chaining, &reissued, &empty), Err(Reason::CertificateMalformed));
    let pinned = gate(&[("allowed_thumbprints", &reissued.sha256_hex())]);
    assert_eq!(reason(&pinned, &reissued, &empty), Err(Reason::CertificateMalformed));
}
