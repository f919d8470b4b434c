//! certgate-kv against Redis, end to end, on a redis-server of the test's own (skipped,
//! with the reason printed, when redis-server is not installed): the SQLite round trip
//! again, read back by certgate over a reader of its own, a 100,000-line import, and
//! writers racing on the same buckets.

mod common;

use std::time::Instant;

use certgate::store::{open, Entry, EntryKey, Marker, MARKER_KEY};
use certgate::{ClientCertificate, Reason};
use certgate_testkit::{Ca, Duration, LeafOptions, OffsetDateTime};
use common::{
    decide, kv, kv_err, kv_ok, pin_from_four_writers_at_once, sha256, thumbprints, write_lines, RedisKv, RedisServer,
};

fn marker(kv: &RedisKv) -> Marker {
    Marker::parse(&certgate::store::KeyValue::get(kv, MARKER_KEY).unwrap().unwrap()).unwrap()
}

#[test]
fn the_round_trip_reads_back_through_certgate_in_both_layouts() {
    let Some(server) = RedisServer::start() else { return };
    let url = server.url.as_str();
    let db = RedisKv::open(url);
    let ca = Ca::new("Fleet CA");
    let a = ca.issue(&LeafOptions::named("device-a"));
    let b = ca.issue(&LeafOptions::named("device-b"));
    let mut options = LeafOptions::named("device-c");
    options.serial = Some(vec![0x00, 0x99, 0x01]);
    let c = ca.issue(&options);
    let now = OffsetDateTime::now_utc();
    let crl = ca.crl(&[&[0x99, 0x01]], now - Duration::hours(1), now + Duration::days(1));
    for layout in [&["--layout", "direct"][..], &["--layout", "bucketed", "--bucket-digits", "1"][..]] {
        db.flush();
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(d.join("ab.pem"), format!("{}{}", a.pem(), b.pem())).unwrap();
        std::fs::write(d.join("crl.pem"), &crl).unwrap();
        let mut pin = vec!["pin", "--redis", url, "--label", "fleet"];
        pin.extend_from_slice(layout);
        pin.push("ab.pem");
        let summary = kv_ok(d, &pin);
        assert!(summary.starts_with("pinned 2 certificates by thumbprint in Redis 127.0.0.1:"), "{summary}");
        assert!(!summary.contains("redis://"), "{summary}");
        let once = db.dump();
        kv_ok(d, &pin);
        assert_eq!(db.dump(), once, "idempotent");
        for leaf in [&a, &b] {
            let key = EntryKey::Certificate(sha256(&leaf.der));
            assert_eq!(open(&db).unwrap().lookup(&key).unwrap(), Some(Entry::pinned().labelled(Some("fleet".into()))));
            assert!(decide(&db, leaf, None).is_ok());
        }

        kv_ok(d, &["revoke", "--redis", url, "ab.pem"]);
        assert_eq!(decide(&db, &a, Some(&ca.certificate)), Err(Reason::CertificateRevoked));
        kv_ok(d, &["pin", "--redis", url, "ab.pem"]);
        assert!(decide(&db, &a, None).is_ok(), "restored");
        let summary = kv_ok(d, &["remove", "--redis", url, "ab.pem"]);
        assert!(summary.starts_with("removed the entries of 2 of 2 certificates"), "{summary}");
        assert_eq!(decide(&db, &a, None), Err(Reason::CertificateNotAllowed));

        assert!(decide(&db, &c, Some(&ca.certificate)).is_ok());
        kv_ok(d, &["revoke-crl", "--redis", url, "crl.pem"]);
        let cert = ClientCertificate::from_der(&c.der).unwrap();
        assert_eq!(marker(&db).serial_issuers, vec![hex::encode(cert.issuer_sha256)]);
        assert_eq!(decide(&db, &c, Some(&ca.certificate)), Err(Reason::CertificateRevoked));

        kv_ok(d, &["pin", "--redis", url, "--by", "key", "ab.pem"]);
        assert!(marker(&db).key_entries);
        let out = kv(d, &["show", "--redis", url, "--by", "key", &cert_spki_b64(&a)]);
        let shown = String::from_utf8(out.stdout).unwrap();
        assert!(shown.starts_with("certgate/v1/key/") && shown.ends_with(" {\"state\":\"pinned\"}\n"), "{shown}");

        // A bad line in the second file, and a layout the store does not have: nothing written.
        std::fs::write(d.join("bad.txt"), format!("{}\n{}\n", hex::encode([7u8; 32]), "a".repeat(40))).unwrap();
        let before = db.dump();
        assert!(kv_err(d, &["revoke", "--redis", url, "ab.pem", "bad.txt"]).contains("bad.txt line 2: a SHA-1"));
        let other = if layout[1] == "direct" { "bucketed" } else { "direct" };
        assert!(kv_err(d, &["revoke", "--redis", url, "--layout", other, "ab.pem"]).contains("layout"));
        assert_eq!(db.dump(), before);
        // --store names SQLite rows; a Redis store is its database.
        assert!(kv_err(d, &["pin", "--redis", url, "--store", "x", "ab.pem"]).contains("whole database"));

        // Exported from Redis as from SQLite.
        let out = kv(d, &["export-fermyon-script", "--redis", url, "--app", "fleet"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let script = String::from_utf8(out.stdout).unwrap();
        let sets: Vec<&str> = script.lines().filter(|l| l.starts_with("spin cloud key-value set")).collect();
        assert!(sets.last().unwrap().contains(&format!("'{MARKER_KEY}={{")), "the marker last");
    }
}

fn cert_spki_b64(leaf: &certgate_testkit::Issued) -> String {
    format!("sha256/{}", leaf.key_sha256_b64())
}

#[test]
fn a_store_that_lost_its_marker_is_not_written_over() {
    let Some(server) = RedisServer::start() else { return };
    let db = RedisKv::open(&server.url);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write_lines(&d.join("t.txt"), &thumbprints("lost", 3));
    assert!(kv_err(d, &["remove", "--redis", &server.url, "t.txt"]).contains("no certgate/v1 marker"));
    assert_eq!(db.dbsize(), 0);
    db.set("certgate/v1/bucket/ab", b"");
    let refused = kv_err(d, &["pin", "--redis", &server.url, "t.txt"]);
    assert!(refused.contains("no certgate/v1 marker"), "{refused}");
    assert_eq!(db.dbsize(), 1);
}

#[test]
fn a_hundred_thousand_lines_import_in_one_batch() {
    let Some(server) = RedisServer::start() else { return };
    let db = RedisKv::open(&server.url);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let digests = thumbprints("hundred thousand", 100_000);
    write_lines(&d.join("t.txt"), &digests);
    let started = Instant::now();
    kv_ok(d, &["pin", "--redis", &server.url, "t.txt"]);
    eprintln!("100,000 thumbprints into Redis: {:?} (debug build)", started.elapsed());
    assert_eq!(db.dbsize(), 100_001);
    let opened = open(&db).unwrap();
    for digest in digests.iter().step_by(997) {
        assert_eq!(opened.lookup(&EntryKey::Certificate(*digest)).unwrap(), Some(Entry::pinned()));
    }
    let summary = kv_ok(d, &["remove", "--redis", &server.url, "t.txt"]);
    assert!(summary.starts_with("removed the entries of 100000 of 100000"), "{summary}");
    assert_eq!(db.dbsize(), 1, "the marker stays");
}

#[test]
fn concurrent_writers_lose_nothing() {
    let Some(server) = RedisServer::start() else { return };
    let db = RedisKv::open(&server.url);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    kv_ok(d, &["init", "--redis", &server.url, "--layout", "bucketed", "--bucket-digits", "1"]);
    // Every writer rewrites all 16 buckets: each EXEC that lands makes the others plan again.
    let sets = pin_from_four_writers_at_once(d, &["--redis", &server.url]);
    let opened = open(&db).unwrap();
    for digest in sets.iter().flatten() {
        assert_eq!(opened.lookup(&EntryKey::Certificate(*digest)).unwrap(), Some(Entry::pinned()));
    }
}

#[test]
#[ignore = "a million lines; run with --ignored (--release for the real figure)"]
fn a_million_thumbprints_in_one_multi_exec() {
    let Some(server) = RedisServer::start() else { return };
    let db = RedisKv::open(&server.url);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write_lines(&d.join("m.txt"), &thumbprints("million", 1_000_000));
    let started = Instant::now();
    let summary = kv_ok(d, &["pin", "--redis", &server.url, "m.txt"]);
    eprintln!("{}: {:?}", summary.trim(), started.elapsed());
    assert!(started.elapsed() < std::time::Duration::from_secs(60));
    assert_eq!(db.dbsize(), 1_000_001);
}

#[test]
fn clear_chain_cache_removes_what_certgate_cached_in_redis_and_nothing_else() {
    let Some(server) = RedisServer::start() else { return };
    let url = server.url.as_str();
    let db = RedisKv::open(url);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let pinned = Ca::new("Other CA").issue(&LeafOptions::named("pinned"));
    std::fs::write(d.join("pinned.pem"), pinned.pem()).unwrap();
    kv_ok(d, &["pin", "--redis", url, "pinned.pem"]);
    let (gate, headers) = common::chain_fleet();
    assert_eq!(common::chain_decision(&gate, &headers, &db), Ok(false));
    assert_eq!(common::chain_decision(&gate, &headers, &db), Ok(true));
    // More entries than one SCAN step returns, and keys that only look like the cache's.
    for i in 0..2500 {
        db.set(&format!("certgate/v1/chain/{i:064x}/{i:064x}"), b"{}");
    }
    db.set("certgate/v1/chain", b"x");
    db.set("certgate/v1/chainx/1", b"x");
    let before = db.dump();
    let summary = kv_ok(d, &["clear-chain-cache", "--redis", url]);
    assert!(summary.starts_with("removed 2501 chain cache entries from Redis"), "{summary}");
    let mut expected = before;
    expected.retain(|k, _| !k.starts_with("certgate/v1/chain/"));
    assert_eq!(db.dump(), expected);
    assert_eq!(common::chain_decision(&gate, &headers, &db), Ok(false));
    assert_eq!(common::chain_decision(&gate, &headers, &db), Ok(true));
}
