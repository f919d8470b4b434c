//! certgate-kv against Spin's SQLite file, end to end: every command through the built
//! binary, every result read back by certgate's own reader (`open`, `lookup`, and a whole
//! [`certgate::Gate`]) over a reader of the table written here, in both layouts.

mod common;

use std::path::Path;

use certgate::store::{open, Entry, EntryKey, Marker, MARKER_KEY, MAX_BUCKET_BYTES};
use certgate::{ClientCertificate, Reason, TrustedBy};
use certgate_testkit::{Ca, Duration, Issued, LeafOptions, OffsetDateTime};
use common::{decide, kv, kv_err, kv_ok, pin_from_four_writers_at_once, sha256, thumbprints, write_lines, SqliteKv};

const DB: &str = ".spin/sqlite_key_value.db";

/// The layouts every round trip runs in, as `--layout` arguments.
const LAYOUTS: [&[&str]; 3] = [
    &["--layout", "direct"],
    &["--layout", "bucketed", "--bucket-digits", "1"],
    &["--layout", "bucketed", "--bucket-digits", "2"],
];

fn args<'a>(head: &[&'a str], layout: &[&'a str], tail: &[&'a str]) -> Vec<&'a str> {
    head.iter().chain(layout).chain(tail).copied().collect()
}

fn reader(dir: &Path) -> SqliteKv {
    SqliteKv::open(&dir.join(DB), "default")
}

fn lookup(dir: &Path, key: &EntryKey) -> Option<Entry> {
    let kv = reader(dir);
    let opened = open(&kv).expect("the store opens");
    opened.lookup(key).expect("the entry reads")
}

fn marker(dir: &Path) -> Marker {
    Marker::parse(&certgate::store::KeyValue::get(&reader(dir), MARKER_KEY).unwrap().unwrap()).unwrap()
}

fn cert_key(leaf: &Issued) -> EntryKey {
    EntryKey::Certificate(sha256(&leaf.der))
}

fn spki_key(leaf: &Issued) -> EntryKey {
    EntryKey::Key(ClientCertificate::from_der(&leaf.der).unwrap().spki_sha256)
}

fn dump(dir: &Path) -> std::collections::BTreeMap<(String, String), Vec<u8>> {
    SqliteKv::dump(&dir.join(DB))
}

#[test]
fn init_writes_the_marker_once_and_refuses_another_layout() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let summary = kv_ok(d, &["init", "--sqlite", DB]);
    assert_eq!(summary.trim(), format!("initialised store \"default\" (direct layout, new store) of {DB}"));
    assert_eq!(marker(d), Marker::new(certgate::store::Layout::Direct));
    // Spin's schema, exactly, so `spin up` reads the same table.
    let conn = rusqlite::Connection::open(d.join(DB)).unwrap();
    let sql: String =
        conn.query_row("SELECT sql FROM sqlite_master WHERE name = 'spin_key_value'", [], |r| r.get(0)).unwrap();
    assert_eq!(
        sql,
        "CREATE TABLE spin_key_value (store TEXT NOT NULL, key TEXT NOT NULL, value BLOB NOT NULL, PRIMARY KEY (store, key))"
    );
    let before = dump(d);
    assert!(kv_ok(d, &["init", "--sqlite", DB]).contains("already initialised"));
    let refused = kv_err(d, &["init", "--sqlite", DB, "--layout", "bucketed"]);
    assert!(refused.contains("the store has the direct layout, not the bucketed layout"), "{refused}");
    assert_eq!(dump(d), before);

    // Another label is another store in the same file.
    kv_ok(d, &["init", "--sqlite", DB, "--store", "fleet", "--layout", "bucketed", "--bucket-digits", "3"]);
    let fleet = SqliteKv::open(&d.join(DB), "fleet");
    let fleet_marker = Marker::parse(&certgate::store::KeyValue::get(&fleet, MARKER_KEY).unwrap().unwrap()).unwrap();
    assert_eq!(fleet_marker.layout().unwrap(), certgate::store::Layout::Bucketed { digits: 3 });
    assert_eq!(marker(d).layout().unwrap(), certgate::store::Layout::Direct);
    // `--layout bucketed` without digits matches any bucketed store.
    assert!(kv_ok(d, &["init", "--sqlite", DB, "--store", "fleet", "--layout", "bucketed"]).contains("already"));
    kv_err(d, &["init", "--sqlite", DB, "--store", "fleet", "--layout", "bucketed", "--bucket-digits", "2"]);
}

#[test]
fn pin_revoke_restore_remove_read_back_by_certgate_in_every_layout() {
    let ca = Ca::new("Fleet CA");
    let a = ca.issue(&LeafOptions::named("device-a"));
    let b = ca.issue(&LeafOptions::named("device-b"));
    let c = ca.issue(&LeafOptions::named("device-c"));
    let stranger = ca.issue(&LeafOptions::named("stranger"));
    for layout in LAYOUTS {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        // A bundle as OpenSSL prints it, text between the blocks, and a thumbprint file.
        std::fs::write(d.join("ab.pem"), format!("subject=CN=device-a\n{}\nsubject=CN=device-b\n{}", a.pem(), b.pem()))
            .unwrap();
        let c_hex = hex::encode_upper(sha256(&c.der));
        let c_pairs: Vec<&str> = (0..32).map(|i| &c_hex[2 * i..2 * i + 2]).collect();
        std::fs::write(d.join("c.txt"), format!("# device c\n\n  {}  \n", c_pairs.join(":"))).unwrap();

        let summary = kv_ok(d, &args(&["pin", "--sqlite", DB, "--label", "fleet"], layout, &["ab.pem", "c.txt"]));
        assert!(summary.starts_with("pinned 3 certificates by thumbprint in store \"default\" ("), "{summary}");
        assert!(summary.contains("new store"), "{summary}");
        for leaf in [&a, &b, &c] {
            assert_eq!(lookup(d, &cert_key(leaf)), Some(Entry::pinned().labelled(Some("fleet".into()))));
            match decide(&reader(d), leaf, None) {
                Ok(TrustedBy::Pin(pin)) => assert_eq!(pin.label.as_deref(), Some("fleet")),
                other => panic!("{layout:?}: {other:?}"),
            }
        }
        assert_eq!(decide(&reader(d), &stranger, None), Err(Reason::CertificateNotAllowed));

        // Revoke over a pin; certgate denies even with a chain that trusts it.
        let summary = kv_ok(d, &["revoke", "--sqlite", DB, "--label", "lost", "ab.pem"]);
        assert!(summary.starts_with("revoked 2 certificates by thumbprint"), "{summary}");
        assert!(!summary.contains("new store"), "{summary}");
        for leaf in [&a, &b] {
            assert_eq!(lookup(d, &cert_key(leaf)), Some(Entry::revoked().labelled(Some("lost".into()))));
            assert_eq!(decide(&reader(d), leaf, Some(&ca.certificate)), Err(Reason::CertificateRevoked));
        }
        assert!(decide(&reader(d), &c, None).is_ok());

        // Pin again: restored.
        kv_ok(d, &["pin", "--sqlite", DB, "ab.pem"]);
        assert_eq!(lookup(d, &cert_key(&a)), Some(Entry::pinned()));
        assert!(decide(&reader(d), &a, None).is_ok());

        // Remove: gone, the others stay.
        let summary = kv_ok(d, &["remove", "--sqlite", DB, "ab.pem"]);
        assert!(summary.starts_with("removed the entries of 2 of 2 certificates by thumbprint from"), "{summary}");
        let summary = kv_ok(d, &["remove", "--sqlite", DB, "ab.pem"]);
        assert!(summary.starts_with("removed the entries of 0 of 2 certificates"), "{summary}");
        assert_eq!(lookup(d, &cert_key(&a)), None);
        assert_eq!(decide(&reader(d), &a, None), Err(Reason::CertificateNotAllowed));
        assert_eq!(lookup(d, &cert_key(&c)), Some(Entry::pinned().labelled(Some("fleet".into()))));
        assert!(!marker(d).key_entries);

        // By key: the marker now says so, and a renewal with the same key is pinned too.
        kv_ok(d, &["pin", "--sqlite", DB, "--by", "key", "ab.pem"]);
        assert!(marker(d).key_entries);
        assert_eq!(lookup(d, &spki_key(&a)), Some(Entry::pinned()));
        let renewed = ca.issue(&LeafOptions::named("device-a").same_key_as(&a));
        assert!(decide(&reader(d), &renewed, None).is_ok());
        kv_ok(d, &["revoke", "--sqlite", DB, "--by", "key", "ab.pem"]);
        assert_eq!(decide(&reader(d), &renewed, None), Err(Reason::CertificateRevoked));
    }
}

#[test]
fn pin_windows_are_what_certgate_reads() {
    let ca = Ca::new("Fleet CA");
    let leaf = ca.issue(&LeafOptions::named("device"));
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("leaf.pem"), leaf.pem()).unwrap();
    let window = ["--not-before", "2020-01-01T02:00:00+02:00", "--not-after", "2099-12-31T23:59:59Z"];
    kv_ok(d, &args(&["pin", "--sqlite", DB], &window, &["leaf.pem"]));
    let entry = lookup(d, &cert_key(&leaf)).unwrap();
    assert_eq!((entry.not_before, entry.not_after), (Some(1_577_836_800), Some(4_102_444_799)));
    assert!(decide(&reader(d), &leaf, None).is_ok());
    // A window that has ended: certgate no longer allows.
    kv_ok(d, &["pin", "--sqlite", DB, "--not-after", "2021-01-01T00:00:00Z", "leaf.pem"]);
    assert!(decide(&reader(d), &leaf, None).is_err());
    let before = dump(d);
    assert!(kv_err(d, &["pin", "--sqlite", DB, "--not-after", "tomorrow", "leaf.pem"]).contains("--not-after"));
    let inverted = ["--not-before", "2030-01-01T00:00:00Z", "--not-after", "2029-01-01T00:00:00Z"];
    assert!(kv_err(d, &args(&["pin", "--sqlite", DB], &inverted, &["leaf.pem"])).contains("not_before is after"));
    assert!(kv_err(d, &["pin", "--sqlite", DB, "--label", "tab\there", "leaf.pem"]).contains("--label"));
    assert_eq!(dump(d), before);
}

fn pem_to_der(pem: &str) -> Vec<u8> {
    use base64::Engine;
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    base64::engine::general_purpose::STANDARD.decode(body).unwrap()
}

#[test]
fn revoke_crl_revokes_every_serial_of_that_issuer_only() {
    let ca = Ca::new("Fleet CA");
    let other = Ca::new("Other CA");
    let serials: [&[u8]; 4] = [&[0x01], &[0x00, 0x80], &[0x7f, 0xff, 0x01], &[0x12; 20]];
    let leaves: Vec<(Issued, Issued)> = serials
        .iter()
        .map(|s| {
            let mut options = LeafOptions::named("device");
            options.serial = Some(s.to_vec());
            (ca.issue(&options), other.issue(&options))
        })
        .collect();
    let now = OffsetDateTime::now_utc();
    let crl = ca.crl(&serials, now - Duration::hours(1), now + Duration::days(7));
    let empty_crl = other.crl(&[], now - Duration::hours(1), now + Duration::days(7));
    for layout in LAYOUTS {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(d.join("crl.pem"), &crl).unwrap();
        std::fs::write(d.join("crl.der"), pem_to_der(&crl)).unwrap();
        std::fs::write(d.join("other.pem"), &empty_crl).unwrap();
        let summary =
            kv_ok(d, &args(&["revoke-crl", "--sqlite", DB, "--label", "CRL 1"], layout, &["crl.pem", "other.pem"]));
        assert!(summary.starts_with("revoked 4 serials of 1 issuer (2 CRLs) in store"), "{summary}");
        let issuer = ClientCertificate::from_der(&leaves[0].0.der).unwrap().issuer_sha256;
        assert_eq!(marker(d).serial_issuers, vec![hex::encode(issuer)]);
        for (leaf, same_serial_elsewhere) in &leaves {
            let cert = ClientCertificate::from_der(&leaf.der).unwrap();
            assert_eq!(
                lookup(d, &EntryKey::serial(cert.issuer_sha256, &cert.serial)),
                Some(Entry::revoked().labelled(Some("CRL 1".into())))
            );
            assert_eq!(decide(&reader(d), leaf, Some(&ca.certificate)), Err(Reason::CertificateRevoked));
            assert!(decide(&reader(d), same_serial_elsewhere, Some(&other.certificate)).is_ok());
        }
        // The DER form of the same CRL writes the same store.
        let before = dump(d);
        kv_ok(d, &["revoke-crl", "--sqlite", DB, "--label", "CRL 1", "crl.der"]);
        assert_eq!(dump(d), before);
        // A CRL where a certificate is expected, and the reverse, are refused.
        assert!(kv_err(d, &["pin", "--sqlite", DB, "crl.pem"]).contains("a CRL: give it to revoke-crl"));
        std::fs::write(d.join("leaf.pem"), leaves[0].0.pem()).unwrap();
        assert!(kv_err(d, &["revoke-crl", "--sqlite", DB, "leaf.pem"]).contains("give X509 CRL blocks"));
        assert_eq!(dump(d), before);
    }
}

/// With `--ca`, a CRL is written only if one of the given CA certificates issued it, named
/// as its certificates name their issuer: a CA whose CRL writes its name with another
/// string type than its certificates' issuer field would be filed under a digest no
/// certificate carries and revoke nothing (found by a review), so it is refused, as are
/// a CRL of another CA and one signed by another key of the same name.
#[test]
fn revoke_crl_with_ca_writes_only_crls_that_ca_issued_as_its_certificates_name_it() {
    use certgate_testkit::reencode::{crl_with_issuer, subject_of, with_other_string_type};
    let ca = Ca::new("Fleet CA");
    let impostor = Ca::new("Fleet CA");
    let other = Ca::new("Other CA");
    let mut options = LeafOptions::named("lost device");
    options.serial = Some(vec![0x42]);
    let leaf = ca.issue(&options);
    let now = OffsetDateTime::now_utc();
    let crl = pem_to_der(&ca.crl(&[&[0x42]], now - Duration::hours(1), now + Duration::days(7)));
    // The CA's own name with its CN's string type changed.
    let respelled_name = with_other_string_type(&subject_of(&ca.certificate.der));
    let respelled = crl_with_issuer(&crl, &respelled_name, &ca.certificate.key_pem);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("ca.pem"), format!("{}{}", other.certificate.pem(), ca.certificate.pem())).unwrap();
    std::fs::write(d.join("crl.der"), &crl).unwrap();
    std::fs::write(d.join("respelled.der"), &respelled).unwrap();
    std::fs::write(d.join("impostor.pem"), impostor.crl(&[&[0x43]], now, now + Duration::days(1))).unwrap();
    std::fs::write(d.join("other.pem"), other.crl(&[&[0x44]], now, now + Duration::days(1))).unwrap();
    std::fs::write(d.join("not-a-ca.pem"), leaf.pem()).unwrap();
    // Without --ca the respelled CRL is taken as given, and revokes nothing.
    kv_ok(d, &["revoke-crl", "--sqlite", DB, "respelled.der"]);
    assert!(decide(&reader(d), &leaf, Some(&ca.certificate)).is_ok(), "filed where no certificate looks");
    let before = dump(d);
    let error = kv_err(d, &["revoke-crl", "--sqlite", DB, "--ca", "ca.pem", "respelled.der"]);
    assert!(error.contains("is not, byte for byte, the subject of any CA certificate given"), "{error}");
    let error = kv_err(d, &["revoke-crl", "--sqlite", DB, "--ca", "ca.pem", "crl.der", "impostor.pem"]);
    assert!(
        error.contains("impostor.pem line 1: the CRL from CN=Fleet CA: the key of no CA certificate given"),
        "{error}"
    );
    let error = kv_err(d, &["revoke-crl", "--sqlite", DB, "--ca", "not-a-ca.pem", "crl.der"]);
    assert!(error.contains("CA certificate 1:") && error.contains("not a CA certificate"), "{error}");
    assert_eq!(dump(d), before, "a refused batch writes nothing");
    // The CA's own CRL, and another given CA's, are written.
    let summary = kv_ok(d, &["revoke-crl", "--sqlite", DB, "--ca", "ca.pem", "crl.der", "other.pem"]);
    assert!(summary.starts_with("revoked 2 serials of 2 issuers (2 CRLs)"), "{summary}");
    assert_eq!(decide(&reader(d), &leaf, Some(&ca.certificate)), Err(Reason::CertificateRevoked));

    // The CA renewed with the same key and its name written with the other string type:
    // given with --ca, its spelling gets the serials too, so a certificate it names so
    // (chaining through the renewal) is revoked as well; a CA of another key and the same
    // name gets nothing.
    let renewal = Issued {
        der: certgate_testkit::reencode::with_names(
            &ca.certificate.der,
            Some(&respelled_name),
            Some(&respelled_name),
            &ca.certificate.key_pem,
        ),
        key_pem: ca.certificate.key_pem.clone(),
    };
    let under_renewal = Issued {
        der: certgate_testkit::reencode::with_names(&leaf.der, Some(&respelled_name), None, &ca.certificate.key_pem),
        key_pem: leaf.key_pem.clone(),
    };
    let fresh = tempfile::tempdir().unwrap();
    let d = fresh.path();
    std::fs::write(d.join("crl.der"), &crl).unwrap();
    std::fs::write(d.join("ca.pem"), ca.certificate.pem()).unwrap();
    kv_ok(d, &["revoke-crl", "--sqlite", DB, "--ca", "ca.pem", "crl.der"]);
    assert!(decide(&reader(d), &under_renewal, Some(&renewal)).is_ok(), "filed under the CRL's spelling only");
    let cas = format!("{}{}{}", ca.certificate.pem(), renewal.pem(), impostor.certificate.pem());
    std::fs::write(d.join("cas.pem"), cas).unwrap();
    let summary = kv_ok(d, &["revoke-crl", "--sqlite", DB, "--ca", "cas.pem", "crl.der"]);
    assert!(summary.starts_with("revoked 2 serials of 2 issuers (1 CRL)"), "{summary}");
    assert_eq!(decide(&reader(d), &under_renewal, Some(&renewal)), Err(Reason::CertificateRevoked));
    assert_eq!(decide(&reader(d), &leaf, Some(&ca.certificate)), Err(Reason::CertificateRevoked));
    assert_eq!(marker(d).serial_issuers.len(), 2, "the impostor's name got nothing of its own");
}

#[test]
fn the_store_is_named_before_or_after_the_subcommand_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write_lines(&d.join("t.txt"), &thumbprints("placement", 5));
    kv_ok(d, &["--sqlite", "before.db", "pin", "t.txt"]);
    kv_ok(d, &["pin", "t.txt", "--sqlite", "after.db"]);
    assert_eq!(SqliteKv::dump(&d.join("before.db")), SqliteKv::dump(&d.join("after.db")));
    assert!(kv_err(d, &["pin", "t.txt"]).contains("name the store: --sqlite PATH or --redis URL"));
    assert!(kv_err(d, &["--sqlite", "x.db", "--redis", "redis://127.0.0.1:1", "pin", "t.txt"]).contains("name one"));
    assert!(!d.join("x.db").exists());
    // A malformed command line is exit code 2, as clap has it.
    assert_eq!(kv(d, &["pin", "--sqlite", "x.db"]).status.code(), Some(2));
    assert_eq!(kv(d, &["pin", "--sqlite", "x.db", "--bucket-digits", "2", "t.txt"]).status.code(), Some(2));
    assert_eq!(
        kv(d, &["init", "--sqlite", "x.db", "--layout", "bucketed", "--bucket-digits", "4"]).status.code(),
        Some(2)
    );
    assert!(!d.join("x.db").exists());
}

#[test]
fn show_prints_the_entry_certgate_reads() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let t = thumbprints("show", 2);
    write_lines(&d.join("one.txt"), &t[..1]);
    assert!(kv_err(d, &["show", "--sqlite", DB, &hex::encode(t[0])]).contains("no such file"));
    kv_ok(d, &["revoke", "--sqlite", DB, "--label", "lost laptop", "one.txt"]);
    let out = kv(d, &["show", "--sqlite", DB, &hex::encode_upper(t[0])]);
    assert!(out.status.success());
    let name = EntryKey::Certificate(t[0]).name();
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        format!("{name} {{\"state\":\"revoked\",\"label\":\"lost laptop\"}}\n")
    );
    let out = kv(d, &["show", "--sqlite", DB, &hex::encode(t[1])]);
    assert_eq!(String::from_utf8(out.stdout).unwrap(), format!("{} no entry\n", EntryKey::Certificate(t[1]).name()));
    assert!(kv_err(d, &["show", "--sqlite", DB, &hex::encode(&t[0][..20])]).contains("SHA-1"));
    // Another label of the same file has no store yet.
    assert!(kv_err(d, &["show", "--sqlite", DB, "--store", "other", &hex::encode(t[0])]).contains("no certgate/v1"));
}

#[test]
fn every_command_run_twice_leaves_the_same_store() {
    let ca = Ca::new("Fleet CA");
    let leaf = ca.issue(&LeafOptions::named("device"));
    let now = OffsetDateTime::now_utc();
    let crl = ca.crl(&[&[0x05], &[0x06]], now - Duration::hours(1), now + Duration::days(7));
    for layout in LAYOUTS {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        write_lines(&d.join("t.txt"), &thumbprints("twice", 500));
        std::fs::write(d.join("leaf.pem"), leaf.pem()).unwrap();
        std::fs::write(d.join("crl.pem"), &crl).unwrap();
        let commands: [Vec<&str>; 6] = [
            args(&["init", "--sqlite", DB], layout, &[]),
            vec!["pin", "--sqlite", DB, "--label", "a", "t.txt", "leaf.pem"],
            vec!["revoke", "--sqlite", DB, "--by", "key", "leaf.pem"],
            vec!["revoke-crl", "--sqlite", DB, "crl.pem"],
            vec!["revoke", "--sqlite", DB, "t.txt"],
            vec!["remove", "--sqlite", DB, "t.txt"],
        ];
        for command in &commands {
            kv_ok(d, command);
            let once = dump(d);
            kv_ok(d, command);
            assert_eq!(dump(d), once, "{command:?} in {layout:?}");
        }
    }
}

#[test]
fn a_bad_line_in_the_second_file_writes_nothing() {
    for layout in LAYOUTS {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let t = thumbprints("atomic", 300);
        write_lines(&d.join("first.txt"), &t[..100]);
        write_lines(&d.join("good.txt"), &t[100..200]);
        let mut bad = String::new();
        for d in &t[200..202] {
            bad.push_str(&hex::encode(d));
            bad.push('\n');
        }
        bad.push_str("not a thumbprint\n");
        std::fs::write(d.join("bad.txt"), bad).unwrap();

        // Into a store that does not exist yet: no file is left behind.
        let refused = kv_err(d, &args(&["pin", "--sqlite", DB], layout, &["good.txt", "bad.txt"]));
        assert!(refused.contains("bad.txt line 3: not a SHA-256 thumbprint"), "{refused}");
        assert!(!d.join(DB).exists());

        kv_ok(d, &args(&["pin", "--sqlite", DB], layout, &["first.txt"]));
        let before = dump(d);
        for command in ["pin", "revoke", "remove"] {
            let refused = kv_err(d, &[command, "--sqlite", DB, "good.txt", "bad.txt"]);
            assert!(refused.contains("bad.txt line 3"), "{refused}");
            assert!(!refused.contains("not a thumbprint\n"), "the line is not echoed: {refused}");
            assert_eq!(dump(d), before, "{command} in {layout:?}");
        }
        // A store error after the inputs were read (another layout) writes nothing either.
        let other = if layout[1] == "direct" { ["--layout", "bucketed"] } else { ["--layout", "direct"] };
        assert!(kv_err(d, &args(&["pin", "--sqlite", DB], &other, &["good.txt"])).contains("layout"));
        assert_eq!(dump(d), before);
        // And one missing input, the other good.
        assert!(kv_err(d, &["pin", "--sqlite", DB, "good.txt", "missing.txt"]).contains("missing.txt: cannot be read"));
        assert_eq!(dump(d), before);
    }
}

#[test]
fn a_bucket_over_the_limit_is_refused_and_nothing_written() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let label = "x".repeat(certgate::store::MAX_LABEL_BYTES);
    // 16 buckets of about 6,250 lines of about 240 bytes: about 1.5 MB each.
    write_lines(&d.join("many.txt"), &thumbprints("overflow", 100_000));
    write_lines(&d.join("few.txt"), &thumbprints("few", 10));
    let bucketed = ["--layout", "bucketed", "--bucket-digits", "1"];
    let refused = kv_err(d, &args(&["pin", "--sqlite", DB, "--label", &label], &bucketed, &["many.txt"]));
    assert!(refused.contains(&format!("would be over {MAX_BUCKET_BYTES} bytes")), "{refused}");
    assert!(!d.join(DB).exists(), "a new store that was refused leaves no file");
    kv_ok(d, &args(&["pin", "--sqlite", DB], &bucketed, &["few.txt"]));
    let before = dump(d);
    kv_err(d, &["pin", "--sqlite", DB, "--label", &label, "many.txt"]);
    assert_eq!(dump(d), before);
    // The same import fits the direct layout and two digits.
    kv_ok(d, &["pin", "--sqlite", "direct.db", "--label", &label, "many.txt"]);
    kv_ok(
        d,
        &["pin", "--sqlite", "two.db", "--layout", "bucketed", "--bucket-digits", "2", "--label", &label, "many.txt"],
    );
}

#[test]
fn a_store_that_lost_its_marker_is_not_written_over() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write_lines(&d.join("t.txt"), &thumbprints("lost", 3));
    kv_ok(d, &["revoke", "--sqlite", DB, "--layout", "bucketed", "t.txt"]);
    let conn = rusqlite::Connection::open(d.join(DB)).unwrap();
    conn.execute("DELETE FROM spin_key_value WHERE key = ?1", [MARKER_KEY]).unwrap();
    let before = dump(d);
    let refused = kv_err(d, &["pin", "--sqlite", DB, "t.txt"]);
    assert!(refused.contains("no certgate/v1 marker"), "{refused}");
    assert_eq!(dump(d), before);
    // And removal needs a store.
    let empty = tempfile::tempdir().unwrap();
    write_lines(&empty.path().join("t.txt"), &thumbprints("lost", 3));
    assert!(kv_err(empty.path(), &["remove", "--sqlite", DB, "t.txt"]).contains("no certgate/v1 marker"));
    assert!(!empty.path().join(DB).exists());
}

/// Run an exported script with `spin` replaced by a function that records its arguments;
/// each call's arguments.
fn run_script(dir: &Path, script: &str) -> Vec<Vec<String>> {
    std::fs::write(dir.join("export.sh"), script).unwrap();
    let syntax = std::process::Command::new("sh").arg("-n").arg(dir.join("export.sh")).status().unwrap();
    assert!(syntax.success(), "sh -n");
    let record = dir.join("calls");
    let _ = std::fs::remove_file(&record);
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg(r#"spin() { printf '%s\0' "$#" "$@" >> "$RECORD"; }; . "$1""#)
        .arg("sh")
        .arg(dir.join("export.sh"))
        .env("RECORD", &record)
        .status()
        .unwrap();
    assert!(status.success());
    let bytes = std::fs::read(&record).unwrap();
    let mut fields = bytes.split(|b| *b == 0).map(|f| String::from_utf8(f.to_vec()).unwrap());
    let mut calls = Vec::new();
    while let Some(count) = fields.next() {
        if count.is_empty() {
            break;
        }
        let n: usize = count.parse().unwrap();
        calls.push((0..n).map(|_| fields.next().unwrap()).collect());
    }
    calls
}

#[test]
fn the_fermyon_script_sets_every_value_exactly_and_the_marker_last() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // Bucket values hold newlines; the label puts quotes and shell syntax in them too.
    let label = r#"it's "quoted" $HOME `id` \ end"#;
    write_lines(&d.join("t.txt"), &thumbprints("export", 200));
    kv_ok(d, &["pin", "--sqlite", DB, "--layout", "bucketed", "--bucket-digits", "1", "--label", label, "t.txt"]);
    let out = kv(d, &["export-fermyon-script", "--sqlite", DB, "--app", "my app's"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let script = String::from_utf8(out.stdout).unwrap();
    assert!(script.starts_with("#!/bin/sh\n") && script.contains("\nset -e\n"));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(!stderr.contains("warning"), "{stderr}");

    let rows: Vec<(String, Vec<u8>)> =
        dump(d).into_iter().filter(|((store, _), _)| store == "default").map(|((_, k), v)| (k, v)).collect();
    assert_eq!(rows.len(), 17, "16 buckets and the marker");
    assert!(rows.iter().any(|(_, v)| v.contains(&b'\'') && v.iter().filter(|b| **b == b'\n').count() > 1));
    let calls = run_script(d, &script);
    assert_eq!(calls.len(), rows.len());
    for (call, (key, value)) in calls.iter().zip(rows.iter().filter(|(k, _)| k != MARKER_KEY)) {
        let pair = format!("{key}={}", String::from_utf8(value.clone()).unwrap());
        assert_eq!(call, &["cloud", "key-value", "set", "--app", "my app's", "--label", "default", pair.as_str()]);
    }
    let last = calls.last().unwrap();
    assert!(last[7].starts_with(&format!("{MARKER_KEY}={{")), "the marker last: {last:?}");

    // By cloud store name.
    let out = kv(d, &["export-fermyon-script", "--sqlite", DB, "--cloud-store", "fleet-kv"]);
    let calls = run_script(d, &String::from_utf8(out.stdout).unwrap());
    assert_eq!(&calls[0][..5], &["cloud", "key-value", "set", "--store", "fleet-kv"]);
}

#[test]
fn the_fermyon_script_warns_past_the_cloud_key_limit() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write_lines(&d.join("t.txt"), &thumbprints("limit", 1024));
    kv_ok(d, &["pin", "--sqlite", DB, "t.txt"]);
    let out = kv(d, &["export-fermyon-script", "--sqlite", DB, "--app", "fleet"]);
    assert!(out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("warning: 1025 keys (direct layout): a Fermyon Cloud store holds at most 1024"),
        "{stderr}"
    );
    assert_eq!(String::from_utf8(out.stdout).unwrap().lines().filter(|l| l.starts_with("spin ")).count(), 1025);
    // A store without a marker has nothing to export.
    assert!(kv_err(d, &["export-fermyon-script", "--sqlite", DB, "--store", "x", "--app", "a"]).contains("marker"));
}

#[test]
fn concurrent_writers_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    kv_ok(d, &["init", "--sqlite", DB, "--layout", "bucketed", "--bucket-digits", "1"]);
    let sets = pin_from_four_writers_at_once(d, &["--sqlite", DB]);
    let kv = reader(d);
    let opened = open(&kv).unwrap();
    for digest in sets.iter().flatten() {
        assert_eq!(opened.lookup(&EntryKey::Certificate(*digest)).unwrap(), Some(Entry::pinned()));
    }
}

#[test]
#[ignore = "a million lines; run with --ignored (--release for the real figure)"]
fn a_million_thumbprints_in_one_transaction() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let digests = thumbprints("million", 1_000_000);
    write_lines(&d.join("m.txt"), &digests);
    let started = std::time::Instant::now();
    let summary = kv_ok(d, &["pin", "--sqlite", DB, "m.txt"]);
    eprintln!("{}: {:?}", summary.trim(), started.elapsed());
    assert!(started.elapsed() < std::time::Duration::from_secs(60));
    let kv = reader(d);
    let opened = open(&kv).unwrap();
    for digest in digests.iter().step_by(9973) {
        assert_eq!(opened.lookup(&EntryKey::Certificate(*digest)).unwrap(), Some(Entry::pinned()));
    }
}

#[test]
fn clear_chain_cache_removes_what_certgate_cached_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let pinned = Ca::new("Other CA").issue(&LeafOptions::named("pinned"));
    std::fs::write(d.join("pinned.pem"), pinned.pem()).unwrap();
    kv_ok(d, &["pin", "--sqlite", DB, "pinned.pem"]);
    kv_ok(d, &["pin", "--sqlite", DB, "--store", "other", "pinned.pem"]);
    // certgate writes its chain cache entry into the same file, through Spin's schema.
    let (gate, headers) = common::chain_fleet();
    let store = reader(d);
    assert_eq!(common::chain_decision(&gate, &headers, &store), Ok(false));
    assert_eq!(common::chain_decision(&gate, &headers, &store), Ok(true));
    // The Fermyon Cloud export leaves the cache behind.
    let script = String::from_utf8(kv(d, &["export-fermyon-script", "--sqlite", DB, "--app", "fleet"]).stdout).unwrap();
    assert!(script.contains("certgate/v1/cert/") && !script.contains("certgate/v1/chain/"), "{script}");
    // Keys that only look like the cache's, and the cache key of another label's store.
    let conn = rusqlite::Connection::open(d.join(DB)).unwrap();
    for (label, key) in
        [("default", "certgate/v1/chain"), ("default", "certgate/v1/chain0"), ("other", "certgate/v1/chain/x/y")]
    {
        conn.execute("INSERT INTO spin_key_value VALUES (?1, ?2, x'00')", (label, key)).unwrap();
    }
    let before = dump(d);
    let cached: Vec<_> = before.keys().filter(|(l, k)| l == "default" && k.starts_with("certgate/v1/chain/")).collect();
    assert_eq!(cached.len(), 1, "{before:?}");

    let summary = kv_ok(d, &["clear-chain-cache", "--sqlite", DB]);
    assert_eq!(summary.trim(), format!("removed 1 chain cache entries from store \"default\" of {DB}"));
    let mut expected = before.clone();
    expected.retain(|(l, k), _| !(l == "default" && k.starts_with("certgate/v1/chain/")));
    assert_eq!(dump(d), expected);
    // The next request validates again and writes the entry back; the pin is untouched.
    assert_eq!(common::chain_decision(&gate, &headers, &store), Ok(false));
    assert_eq!(common::chain_decision(&gate, &headers, &store), Ok(true));
    assert_eq!(lookup(d, &cert_key(&pinned)), Some(Entry::pinned()));
    assert!(kv_ok(d, &["clear-chain-cache", "--sqlite", DB]).contains("removed 1 "));
    assert!(kv_ok(d, &["clear-chain-cache", "--sqlite", DB]).contains("removed 0 "));
}
