//! Native tests of reading the trust policy's variables and of what the policy then
//! decides, through the whole HTTP contract (`service::handle`),
//! with certificates, chains and CRLs generated here.

use certgate_testkit::{encode, Ca, Duration, Issued, KeyKind, LeafOptions, OffsetDateTime};
use serde_json::Value;

use crate::config::var;
use crate::service::{handle, Outcome};

fn now() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

struct Req {
    vars: Vec<(String, String)>,
    headers: Vec<(String, Vec<u8>)>,
    path: &'static str,
}

fn req(vars: &[(&str, &str)]) -> Req {
    Req {
        vars: vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        headers: vec![],
        path: "/api/whoami",
    }
}

impl Req {
    fn cert(mut self, c: &Issued) -> Self {
        self.headers.push(("x-arr-clientcert".into(), encode::base64_der(&c.der).into_bytes()));
        self
    }
    fn chain(mut self, leaf: &Issued, chain: &[&Issued]) -> Self {
        let mut certs: Vec<&[u8]> = vec![&leaf.der];
        certs.extend(chain.iter().map(|c| c.der.as_slice()));
        self.headers.push(("x-arr-clientcert".into(), encode::traefik_chain(&certs).into_bytes()));
        self
    }
    fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_ascii_lowercase(), value.as_bytes().to_vec()));
        self
    }
    fn send_at(self, at: i64) -> Outcome {
        let vars: std::collections::HashMap<String, String> = self.vars.into_iter().collect();
        handle("GET", self.path, &self.headers, &vars, at)
    }
    fn send(self) -> Outcome {
        self.send_at(now())
    }
}

fn reason(o: &Outcome) -> String {
    let body: Value = serde_json::from_slice(&o.response.body).unwrap_or_default();
    if o.response.status == 200 {
        return "ok".into();
    }
    body["reason"].as_str().unwrap_or("?").to_string()
}

fn body(o: &Outcome) -> Value {
    serde_json::from_slice(&o.response.body).unwrap()
}

#[test]
fn key_pins_survive_renewal_with_the_same_key() {
    let ca = Ca::new("Root");
    let old = ca.issue(&LeafOptions::named("svc"));
    let renewed = ca.issue(&LeafOptions::named("svc").same_key_as(&old));
    let rekeyed = ca.issue(&LeafOptions::named("svc"));
    assert_ne!(old.sha256_hex(), renewed.sha256_hex());
    let key_pin = {
        let o = req(&[(var::ALLOWED_THUMBPRINTS, &old.sha256_hex())]).cert(&old).send();
        body(&o)["key_sha256"].as_str().unwrap().to_string()
    };
    let b64 = encode::base64_der(&hex::decode(&key_pin).unwrap());
    for pin in [key_pin.clone(), b64.clone(), format!("sha256/{b64}")] {
        let vars = [(var::ALLOWED_KEY_PINS, pin.as_str())];
        assert_eq!(reason(&req(&vars).cert(&renewed).send()), "ok", "{pin}");
        assert_eq!(reason(&req(&vars).cert(&rekeyed).send()), "certificate_not_allowed");
    }
    let o = req(&[(var::ALLOWED_KEY_PINS, &key_pin)]).cert(&renewed).send();
    assert_eq!(body(&o)["matched"]["kind"], "key");
    assert_eq!(body(&o)["matched"]["key_sha256"], key_pin);
}

#[test]
fn chains_to_a_private_ca() {
    let root = Ca::new("Private Root");
    let inter = root.intermediate("Private Issuing CA");
    let leaf = inter.issue(&LeafOptions::named("client").key(KeyKind::Rsa2048));
    let anchors = root.certificate.pem();
    // Forwarded chain supplies the intermediate.
    let o = req(&[(var::TRUST_ANCHORS, &anchors)]).chain(&leaf, &[&inter.certificate]).send();
    assert_eq!(reason(&o), "ok", "{}", String::from_utf8_lossy(&o.response.body));
    assert_eq!(body(&o)["matched"], serde_json::json!({"kind": "trust_anchor", "anchor": "CN=Private Root"}));
    // Or configuration does.
    let inters = inter.certificate.pem();
    assert_eq!(reason(&req(&[(var::TRUST_ANCHORS, &anchors), (var::INTERMEDIATES, &inters)]).cert(&leaf).send()), "ok");
    // Without the intermediate there is no path.
    assert_eq!(reason(&req(&[(var::TRUST_ANCHORS, &anchors)]).cert(&leaf).send()), "certificate_untrusted");
    // A certificate from another CA with the same names does not chain.
    let impostor_root = Ca::new("Private Root");
    let impostor = impostor_root.intermediate("Private Issuing CA").issue(&LeafOptions::named("client"));
    assert_eq!(
        reason(&req(&[(var::TRUST_ANCHORS, &anchors), (var::INTERMEDIATES, &inters)]).cert(&impostor).send()),
        "certificate_untrusted"
    );
    // Other key kinds along the path.
    for kind in [KeyKind::EcdsaP384, KeyKind::Ed25519, KeyKind::EcdsaP256] {
        let ca = Ca::with_key("Root", kind);
        let leaf = ca.issue(&LeafOptions::named("x").key(kind));
        assert_eq!(reason(&req(&[(var::TRUST_ANCHORS, &ca.certificate.pem())]).cert(&leaf).send()), "ok", "{kind:?}");
    }
    let rsa_ca = Ca::with_key("RSA Root", KeyKind::Rsa2048);
    let leaf = rsa_ca.issue(&LeafOptions::named("x"));
    assert_eq!(reason(&req(&[(var::TRUST_ANCHORS, &rsa_ca.certificate.pem())]).cert(&leaf).send()), "ok");
}

#[test]
fn client_auth_eku_is_required_by_default_and_switchable() {
    let root = Ca::new("Root");
    let server_only = root.issue(&LeafOptions::named("web").server_only());
    let mut no_eku = LeafOptions::named("legacy");
    no_eku.no_eku = true;
    let no_eku = root.issue(&no_eku);
    let anchors = root.certificate.pem();
    assert_eq!(reason(&req(&[(var::TRUST_ANCHORS, &anchors)]).cert(&server_only).send()), "certificate_wrong_usage");
    assert_eq!(
        reason(&req(&[(var::TRUST_ANCHORS, &anchors)]).cert(&no_eku).send()),
        "ok",
        "no EKU means any (RFC 5280)"
    );
    let relaxed = [(var::TRUST_ANCHORS, anchors.as_str()), (var::REQUIRE_CLIENT_AUTH_EKU, "false")];
    assert_eq!(reason(&req(&relaxed).cert(&server_only).send()), "ok");
    // A CA certificate is not a client certificate.
    assert_eq!(
        reason(&req(&[(var::TRUST_ANCHORS, &anchors)]).cert(&root.certificate).send()),
        "certificate_wrong_usage"
    );
}

#[test]
fn name_constraints_on_the_path_are_enforced() {
    let root = Ca::new("Root");
    let team = root.constrained_intermediate("Team CA", "team.example");
    let inside = team.issue(&LeafOptions::named("a").dns("api.team.example"));
    let outside = team.issue(&LeafOptions::named("b").dns("bank.example"));
    let vars = [(var::TRUST_ANCHORS, root.certificate.pem())];
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(reason(&req(&vars).chain(&inside, &[&team.certificate]).send()), "ok");
    assert_eq!(reason(&req(&vars).chain(&outside, &[&team.certificate]).send()), "certificate_untrusted");
}

#[test]
fn name_rules_with_chain_validation() {
    let root = Ca::new("Root");
    let pay = root.issue(&LeafOptions::named("api").uri("spiffe://prod.example/ns/payments/sa/api"));
    let web = root.issue(&LeafOptions::named("web").uri("spiffe://prod.example/ns/web/sa/web"));
    let anchors = root.certificate.pem();
    let vars = [(var::TRUST_ANCHORS, anchors.as_str()), (var::ALLOWED_NAMES, "spiffe://prod.example/ns/payments/*")];
    assert_eq!(reason(&req(&vars).cert(&pay).send()), "ok");
    assert_eq!(reason(&req(&vars).cert(&web).send()), "certificate_name_not_allowed");
    let by_cn = [(var::TRUST_ANCHORS, anchors.as_str()), (var::ALLOWED_NAMES, "cn:web; dns:nothing.example")];
    assert_eq!(reason(&req(&by_cn).cert(&web).send()), "ok");
    // Names never replace trust: a matching name from an unknown CA is still untrusted.
    let other = Ca::new("Other").issue(&LeafOptions::named("api").uri("spiffe://prod.example/ns/payments/sa/api"));
    assert_eq!(reason(&req(&vars).cert(&other).send()), "certificate_untrusted");
}

#[test]
fn denylist_and_crls() {
    let root = Ca::new("Root");
    let good = root.issue(&LeafOptions::named("good"));
    let mut bad_opts = LeafOptions::named("bad");
    bad_opts.serial = Some(vec![0x0b, 0xad]);
    let bad = root.issue(&bad_opts);
    let anchors = root.certificate.pem();
    let pins = format!("{};{}", good.sha256_hex(), bad.sha256_hex());

    // Denylist by serial and by thumbprint, even for pinned certificates.
    assert_eq!(
        reason(&req(&[(var::ALLOWED_THUMBPRINTS, &pins), (var::REVOKED, "serial:0B:AD")]).cert(&bad).send()),
        "certificate_revoked"
    );
    assert_eq!(
        reason(&req(&[(var::ALLOWED_THUMBPRINTS, &pins), (var::REVOKED, &bad.sha1_hex())]).cert(&bad).send()),
        "certificate_revoked"
    );
    assert_eq!(
        reason(&req(&[(var::ALLOWED_THUMBPRINTS, &pins), (var::REVOKED, "serial:0B:AD")]).cert(&good).send()),
        "ok"
    );

    let t = OffsetDateTime::now_utc();
    let fresh = root.crl(&[&[0x0b, 0xad]], t - Duration::hours(1), t + Duration::days(7));
    let vars = [(var::TRUST_ANCHORS, anchors.as_str()), (var::CRLS, fresh.as_str())];
    assert_eq!(reason(&req(&vars).cert(&bad).send()), "certificate_revoked");
    assert_eq!(reason(&req(&vars).cert(&good).send()), "ok");
    // A pinned certificate revoked by its issuer's CRL is refused too.
    let pinned = [
        (var::ALLOWED_THUMBPRINTS, pins.as_str()),
        (var::TRUST_ANCHORS, anchors.as_str()),
        (var::CRLS, fresh.as_str()),
    ];
    assert_eq!(reason(&req(&pinned).cert(&bad).send()), "certificate_revoked");

    // Stale: fail closed by default, fail open when chosen (with a warning in the log).
    let stale = root.crl(&[], t - Duration::days(10), t - Duration::days(1));
    let closed = [(var::TRUST_ANCHORS, anchors.as_str()), (var::CRLS, stale.as_str())];
    assert_eq!(reason(&req(&closed).cert(&good).send()), "revocation_list_stale");
    let open = [(var::TRUST_ANCHORS, anchors.as_str()), (var::CRLS, stale.as_str()), (var::CRL_WHEN_STALE, "allow")];
    let o = req(&open).cert(&good).send();
    assert_eq!(reason(&o), "ok");
    assert!(o.logs[0].get("warnings").is_some(), "{:?}", o.logs);

    // A CRL signed by someone else, or from an issuer not configured, is a configuration error.
    let forged = Ca::new("Root").crl(&[], t - Duration::hours(1), t + Duration::days(7));
    assert_eq!(
        reason(&req(&[(var::TRUST_ANCHORS, anchors.as_str()), (var::CRLS, forged.as_str())]).cert(&good).send()),
        "configuration_error"
    );
    let foreign = Ca::new("Elsewhere").crl(&[], t - Duration::hours(1), t + Duration::days(7));
    assert_eq!(
        reason(&req(&[(var::TRUST_ANCHORS, anchors.as_str()), (var::CRLS, foreign.as_str())]).cert(&good).send()),
        "configuration_error"
    );
    assert_eq!(
        reason(&req(&[(var::TRUST_ANCHORS, anchors.as_str()), (var::CRLS, "garbage")]).cert(&good).send()),
        "configuration_error"
    );
}

#[test]
fn rotation_windows_labels_and_expiry_warnings() {
    let ca = Ca::new("Root");
    let current = ca.issue(&LeafOptions::named("svc"));
    let next = ca.issue(&LeafOptions::named("svc"));
    let t = now();
    let pins = serde_json::json!([
        {"label": "current", "sha256": current.sha256_hex(), "not_after": crate::certificate::rfc3339(t + 5 * 86_400)},
        {"label": "next", "sha256": next.sha256_hex(), "not_before": crate::certificate::rfc3339(t + 86_400)},
    ])
    .to_string();
    let o = req(&[(var::PINS, &pins)]).cert(&current).send();
    assert_eq!(reason(&o), "ok");
    assert_eq!(body(&o)["matched"]["label"], "current");
    let warnings = o.logs[0].get("warnings").expect("the current pin ends within 14 days").to_string();
    assert!(warnings.contains("current"), "{warnings}");
    // Far from its end, a pin gives no warning.
    let calm = serde_json::json!([{"label": "calm", "sha256": current.sha256_hex(), "not_after": crate::certificate::rfc3339(t + 60 * 86_400)}]).to_string();
    let o = req(&[(var::PINS, &calm)]).cert(&current).send();
    assert_eq!(reason(&o), "ok");
    assert!(o.logs[0].get("warnings").is_none(), "{:?}", o.logs[0]);
    let o = req(&[(var::PINS, &pins)]).cert(&next).send();
    assert_eq!(reason(&o), "certificate_not_allowed");
    // The window and the label go to the log; the client learns only the reason.
    let logged = o.logs[0].get("detail").unwrap().as_str().unwrap().to_string();
    assert!(logged.contains("not active until") && logged.contains("next"), "{logged}");
    let shown = body(&o)["detail"].as_str().unwrap().to_string();
    assert_eq!(shown, "the client certificate is not on the allow list");
    // Two days on, both are active (the overlap); a week on, only "next".
    assert_eq!(reason(&req(&[(var::PINS, &pins)]).cert(&next).send_at(t + 2 * 86_400)), "ok");
    assert_eq!(reason(&req(&[(var::PINS, &pins)]).cert(&current).send_at(t + 2 * 86_400)), "ok");
    let later = req(&[(var::PINS, &pins)]).cert(&current).send_at(t + 7 * 86_400);
    assert_eq!(reason(&later), "certificate_not_allowed");
    assert!(later.logs[0].get("detail").unwrap().as_str().unwrap().contains("ended"));
    assert!(!body(&later).to_string().contains("current"), "no pin label in the body");
    // The simple list keeps working alongside.
    let both = [(var::PINS, pins.as_str()), (var::ALLOWED_THUMBPRINTS, &current.sha1_hex())];
    assert_eq!(reason(&req(&both).cert(&current).send_at(t + 7 * 86_400)), "ok");
}

#[test]
fn report_only_lets_denials_through_and_says_so() {
    let ca = Ca::new("Root");
    let stranger = ca.issue(&LeafOptions::named("stranger"));
    let pin = "ab".repeat(32);
    let vars = [(var::ALLOWED_THUMBPRINTS, pin.as_str()), (var::MODE, "report-only")];
    let o = req(&vars).cert(&stranger).send();
    assert_eq!(o.response.status, 200);
    assert_eq!(o.response.header("certgate-report-only"), Some("would-deny; reason=certificate_not_allowed"));
    assert_eq!(body(&o)["would_deny"], "certificate_not_allowed");
    assert_eq!(body(&o)["subject"], "CN=stranger");
    assert_eq!(o.logs[0].get("outcome").unwrap(), "report_only");
    let missing = req(&vars).send();
    assert_eq!(missing.response.status, 200);
    assert_eq!(body(&missing)["authenticated"], false);
    let mut values = req(&vars);
    values.path = "/api/values";
    assert_eq!(values.send().response.status, 200);
    // Configuration errors are never let through.
    let broken = [(var::ALLOWED_THUMBPRINTS, "nope"), (var::MODE, "report-only")];
    assert_eq!(req(&broken).cert(&stranger).send().response.status, 500);
    assert_eq!(
        reason(&req(&[(var::ALLOWED_THUMBPRINTS, pin.as_str()), (var::MODE, "audit")]).send()),
        "configuration_error"
    );
}

#[test]
fn proxy_proof_comes_before_any_parsing() {
    let ca = Ca::new("Root");
    let alice = ca.issue(&LeafOptions::named("alice"));
    let secret = "s3cret-between-proxy-and-certgate";
    let vars = [(var::ALLOWED_THUMBPRINTS, alice.sha256_hex()), (var::PROXY_SECRET, secret.to_string())];
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(reason(&req(&vars).cert(&alice).send()), "proxy_unauthenticated");
    assert_eq!(
        reason(&req(&vars).cert(&alice).header("X-Certgate-Proxy-Secret", "guess-guess-guess-guess").send()),
        "proxy_unauthenticated"
    );
    assert_eq!(
        reason(&req(&vars).header("X-Certgate-Proxy-Secret", "x").header("X-ARR-ClientCert", "garbage").send()),
        "proxy_unauthenticated"
    );
    assert_eq!(reason(&req(&vars).cert(&alice).header("X-Certgate-Proxy-Secret", secret).send()), "ok");
    let custom = [vars[0], vars[1], (var::PROXY_SECRET_HEADER, "X-From-Edge")];
    assert_eq!(reason(&req(&custom).cert(&alice).header("X-From-Edge", secret).send()), "ok");
    assert_eq!(reason(&req(&[vars[0], (var::PROXY_SECRET, "short")]).send()), "configuration_error");

    // HMAC over a timestamp and the certificate header.
    let key = "0123456789abcdef0123456789abcdef";
    let vars = [(var::ALLOWED_THUMBPRINTS, alice.sha256_hex()), (var::PROXY_HMAC_KEY, key.to_string())];
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let cert_value = encode::base64_der(&alice.der);
    let t = now();
    let good = crate::policy::proxy::sign(key.as_bytes(), t, cert_value.as_bytes());
    assert_eq!(reason(&req(&vars).cert(&alice).header("X-Certgate-Signature", &good).send()), "ok");
    let old = crate::policy::proxy::sign(key.as_bytes(), t - 600, cert_value.as_bytes());
    assert_eq!(reason(&req(&vars).cert(&alice).header("X-Certgate-Signature", &old).send()), "proxy_unauthenticated");
    let other = ca.issue(&LeafOptions::named("mallory"));
    assert_eq!(
        reason(&req(&vars).cert(&other).header("X-Certgate-Signature", &good).send()),
        "proxy_unauthenticated",
        "a signature is bound to its certificate"
    );
}

#[test]
fn terminator_verdict() {
    let ca = Ca::new("Root");
    let alice = ca.issue(&LeafOptions::named("alice"));
    let vars = [
        (var::ALLOWED_THUMBPRINTS, alice.sha256_hex()),
        (var::TERMINATOR_VERIFY_HEADER, "ssl-client-verify".to_string()),
    ];
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(reason(&req(&vars).cert(&alice).header("ssl-client-verify", "SUCCESS").send()), "ok");
    assert_eq!(
        reason(&req(&vars).cert(&alice).header("ssl-client-verify", "FAILED:certificate has expired").send()),
        "terminator_rejected"
    );
    assert_eq!(reason(&req(&vars).cert(&alice).send()), "terminator_rejected");
    let cf = [vars[0], (var::TERMINATOR_VERIFY_HEADER, "cf-cert-verified"), (var::TERMINATOR_VERIFY_VALUES, "true")];
    assert_eq!(reason(&req(&cf).cert(&alice).header("cf-cert-verified", "true").send()), "ok");
    assert_eq!(reason(&req(&cf).cert(&alice).header("cf-cert-verified", "false").send()), "terminator_rejected");
}

#[test]
fn rich_configuration_fails_closed() {
    let pin = "ab".repeat(32);
    for (name, value) in [
        (var::TRUST_ANCHORS, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----"),
        (var::TRUST_ANCHORS, "not pem"),
        (var::INTERMEDIATES, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----"),
        (var::ALLOWED_KEY_PINS, "tooshort"),
        (var::PINS, "{\"sha256\": 1}"),
        (var::ALLOWED_NAMES, "ip:10.0.0.1"),
        (var::REVOKED, "serial:zz"),
        (var::CRL_WHEN_STALE, "maybe"),
        (var::REQUIRE_CLIENT_AUTH_EKU, "perhaps"),
        (var::PROXY_HMAC_KEY, "short"),
        (var::TERMINATOR_VERIFY_VALUES, "SUCCESS"),
        (var::PIN_EXPIRY_WARNING_DAYS, "-3"),
    ] {
        let o = req(&[(var::ALLOWED_THUMBPRINTS, pin.as_str()), (name, value)]).send();
        assert_eq!(reason(&o), "configuration_error", "{name}={value}");
        let problem = o.logs[0].get("problem").unwrap().as_str().unwrap().to_string();
        assert!(problem.contains(name), "{problem}");
    }
    // Any one trust source suffices, and one is required.
    let ca = Ca::new("Root");
    let leaf = ca.issue(&LeafOptions::named("x"));
    assert_eq!(
        reason(&req(&[(var::ALLOWED_THUMBPRINTS, ""), (var::TRUST_ANCHORS, &ca.certificate.pem())]).cert(&leaf).send()),
        "ok"
    );
    assert_eq!(reason(&req(&[(var::ALLOWED_THUMBPRINTS, "")]).cert(&leaf).send()), "configuration_error");
}

#[test]
fn limits_on_configuration_size() {
    let too_many = vec!["ab".repeat(20); super::MAX_LIST_ENTRIES + 1].join(";");
    let o = req(&[(var::ALLOWED_THUMBPRINTS, &too_many)]).send();
    assert_eq!(reason(&o), "configuration_error");
    assert!(o.logs[0].get("problem").unwrap().as_str().unwrap().contains("limit"));
    let huge = "x".repeat(super::MAX_VARIABLE_BYTES + 1);
    for name in [var::ALLOWED_THUMBPRINTS, var::TRUST_ANCHORS, var::PINS, var::ALLOWED_NAMES] {
        let o = req(&[(var::ALLOWED_THUMBPRINTS, &"ab".repeat(32)), (name, &huge)]).send();
        assert_eq!(reason(&o), "configuration_error", "{name}");
        assert!(o.logs[0].get("problem").unwrap().as_str().unwrap().contains("limit"), "{name}");
    }
    // 10,000 pins are fine.
    let ten_thousand: Vec<String> = (0..10_000u32).map(|i| format!("{:064x}", i)).collect();
    assert_eq!(reason(&req(&[(var::ALLOWED_THUMBPRINTS, &ten_thousand.join(";"))]).send()), "certificate_missing");
}

/// The configuration's numeric limits are inclusive, and every documented spelling of a
/// switch is read (straight through `Policy::load`, without a request).
#[test]
fn configuration_limits_are_inclusive_and_every_spelling_is_read() {
    use super::{ConfigError, MAX_LIST_ENTRIES, MAX_VARIABLE_BYTES};
    use crate::policy::Policy;
    use crate::trust::EkuPolicy;
    fn load(vars: &[(&str, &str)]) -> Result<Policy, ConfigError> {
        super::Config::load(&vars).map(|c| c.policy)
    }
    fn problem(vars: &[(&str, &str)]) -> String {
        load(vars).unwrap_err().to_string()
    }
    let pin = "ab".repeat(32);
    let pin = pin.as_str();
    assert_eq!(MAX_VARIABLE_BYTES, 4_194_304);
    assert_eq!(MAX_LIST_ENTRIES, 100_000);

    // Variable size: exactly the limit is read, one byte more is refused. Padding is white
    // space, which does not change the value.
    let padded = |value: &str, len: usize| format!("{value}{}", " ".repeat(len - value.len()));
    let mode = padded("enforce", MAX_VARIABLE_BYTES);
    assert!(!load(&[(var::ALLOWED_THUMBPRINTS, pin), (var::MODE, &mode)]).unwrap().report_only);
    let mode = padded("enforce", MAX_VARIABLE_BYTES + 1);
    let p = problem(&[(var::ALLOWED_THUMBPRINTS, pin), (var::MODE, &mode)]);
    assert!(p.contains("`mode`: is 4194305 bytes; the limit is 4194304"), "{p}");
    let list = padded(pin, MAX_VARIABLE_BYTES);
    assert_eq!(load(&[(var::ALLOWED_THUMBPRINTS, &list)]).unwrap().thumbprints.len(), 1);
    let list = padded(pin, MAX_VARIABLE_BYTES + 1);
    assert!(problem(&[(var::ALLOWED_THUMBPRINTS, &list)]).contains("is 4194305 bytes"));

    // Entries: 100,000 in all, over the three pin variables together.
    let sha1_pins = |n: usize| (0..n).map(|i| format!("{i:040x}")).collect::<Vec<_>>().join(";");
    let key_pin = "cd".repeat(32);
    assert_eq!(load(&[(var::ALLOWED_THUMBPRINTS, &sha1_pins(MAX_LIST_ENTRIES))]).unwrap().thumbprints.len(), 100_000);
    let p = problem(&[(var::ALLOWED_THUMBPRINTS, &sha1_pins(MAX_LIST_ENTRIES + 1))]);
    assert!(p.contains("has 100001 entries; the limit is 100000"), "{p}");
    let almost = sha1_pins(MAX_LIST_ENTRIES - 1);
    let policy = load(&[(var::ALLOWED_THUMBPRINTS, &almost), (var::ALLOWED_KEY_PINS, &key_pin)]).unwrap();
    assert_eq!((policy.thumbprints.len(), policy.pins.len()), (99_999, 1));
    let full = sha1_pins(MAX_LIST_ENTRIES);
    let p = problem(&[(var::ALLOWED_THUMBPRINTS, &full), (var::ALLOWED_KEY_PINS, &key_pin)]);
    assert!(p.contains("together") && p.contains("has 100001 entries"), "{p}");

    // Switches.
    let eku = |value: &str| load(&[(var::ALLOWED_THUMBPRINTS, pin), (var::REQUIRE_CLIENT_AUTH_EKU, value)]);
    for value in ["true", "yes", "on", "1", "TRUE", " Yes "] {
        assert_eq!(eku(value).unwrap().eku, EkuPolicy::ClientAuth, "{value}");
    }
    for value in ["false", "no", "off", "0", "False", " OFF "] {
        assert_eq!(eku(value).unwrap().eku, EkuPolicy::Any, "{value}");
    }
    assert_eq!(eku("2").unwrap_err().problem, super::Problem::NotABool);
    let mode = |value: &str| load(&[(var::ALLOWED_THUMBPRINTS, pin), (var::MODE, value)]);
    for (value, report_only) in [("enforce", false), ("Enforce", false), ("report-only", true), ("REPORT-ONLY", true)] {
        assert_eq!(mode(value).unwrap().report_only, report_only, "{value}");
    }
    assert_eq!(mode("report_only").unwrap_err().to_string(), "variable `mode`: must be `enforce` or `report-only`");

    // Whole numbers with a ceiling.
    let days = |value: &str| load(&[(var::ALLOWED_THUMBPRINTS, pin), (var::PIN_EXPIRY_WARNING_DAYS, value)]);
    assert_eq!(days("3650").unwrap().pin_warning_seconds, 3650 * 86_400);
    assert_eq!(days("0").unwrap().pin_warning_seconds, 0);
    assert_eq!(days("3651").unwrap_err().problem, super::Problem::OutOfRange { min: 0, max: 3650 });
    assert_eq!(days("1.5").unwrap_err().problem, super::Problem::NotANumber);
    let key = "0123456789abcdef0123456789abcdef";
    let age = |value: &str| {
        load(&[
            (var::ALLOWED_THUMBPRINTS, pin),
            (var::PROXY_HMAC_KEY, key),
            (var::PROXY_SIGNATURE_MAX_AGE_SECONDS, value),
        ])
    };
    assert!(age("86400").unwrap().signature.is_some());
    assert_eq!(age("86401").unwrap_err().problem, super::Problem::OutOfRange { min: 0, max: 86_400 });
}

#[test]
fn the_anchor_a_path_ends_at_is_the_one_reported() {
    let first = Ca::new("First Root");
    let second = Ca::new("Second Root");
    let leaf = second.issue(&LeafOptions::named("svc"));
    let anchors = format!("{}{}", first.certificate.pem(), second.certificate.pem());
    let o = req(&[(var::TRUST_ANCHORS, &anchors)]).cert(&leaf).send();
    assert_eq!(reason(&o), "ok");
    assert_eq!(body(&o)["matched"], serde_json::json!({"kind": "trust_anchor", "anchor": "CN=Second Root"}));
    let leaf = first.issue(&LeafOptions::named("svc"));
    let o = req(&[(var::TRUST_ANCHORS, &anchors)]).cert(&leaf).send();
    assert_eq!(body(&o)["matched"]["anchor"], "CN=First Root");
}

#[test]
fn a_malformed_extended_key_usage_is_refused_whatever_the_eku_policy() {
    let root = Ca::new("Root");
    let mut options = LeafOptions::named("odd");
    options.no_eku = true;
    // extendedKeyUsage whose SEQUENCE holds an INTEGER where a purpose OID belongs.
    options.extensions.push((vec![2, 5, 29, 37], vec![0x30, 0x03, 0x02, 0x01, 0x01]));
    let odd = root.issue(&options);
    let anchors = root.certificate.pem();
    for eku in ["true", "false"] {
        let o = req(&[(var::TRUST_ANCHORS, &anchors), (var::REQUIRE_CLIENT_AUTH_EKU, eku)]).cert(&odd).send();
        assert_ne!(reason(&o), "ok", "require_client_auth_eku={eku}");
    }
}

/// A long CRL is looked up by binary search over its sorted serials: every serial it lists
/// is found, whatever order the CA wrote them in, whatever their length or top bit, and a
/// serial it does not list (a neighbour of a listed one) is not.
#[test]
fn long_crl_finds_every_listed_serial_in_any_order() {
    let root = Ca::new("Root");
    let t = OffsetDateTime::now_utc();
    // Scrambled order, high-bit serials (DER adds a 0x00 sign byte), short and long ones.
    let mut serials: Vec<Vec<u8>> =
        (0u32..600).map(|i| (i.wrapping_mul(2_654_435_761) | 1).to_be_bytes().to_vec()).collect();
    serials.extend([vec![0x80], vec![0xff, 0xff], vec![0x01], vec![0x7f; 20], vec![0xc3; 19]]);
    let refs: Vec<&[u8]> = serials.iter().map(Vec::as_slice).collect();
    let crl = root.crl(&refs, t - Duration::hours(1), t + Duration::days(7));
    let anchors = root.certificate.pem();
    let vars = [(var::TRUST_ANCHORS, anchors.as_str()), (var::CRLS, crl.as_str())];
    for (i, serial) in serials.iter().enumerate().filter(|(i, _)| i % 97 == 0 || *i >= 600) {
        let mut o = LeafOptions::named(&format!("listed {i}"));
        o.serial = Some(serial.clone());
        assert_eq!(reason(&req(&vars).cert(&root.issue(&o)).send()), "certificate_revoked", "serial {serial:02x?}");
    }
    for unlisted in [vec![0x02], vec![0x80, 0x00], vec![0x7f; 19], vec![0x00, 0x00, 0x00, 0x02]] {
        assert!(!serials.contains(&unlisted));
        let mut o = LeafOptions::named("unlisted");
        o.serial = Some(unlisted.clone());
        assert_eq!(reason(&req(&vars).cert(&root.issue(&o)).send()), "ok", "serial {unlisted:02x?}");
    }
}

/// A CA whose Name has an RDN written out of DER order (CN before O; some CAs write names
/// so): its certificates name it by those bytes, and so does its CRL. A decoder re-sorts
/// the SET OF when it re-encodes, so a CRL read that way named another issuer than the
/// path's certificates, and a revoked certificate was allowed (found by a review). Checked
/// on the chain path, for a pinned certificate, and with such a name as the anchor's.
#[test]
fn a_crl_from_a_ca_whose_name_is_written_out_of_order_revokes() {
    use certgate_testkit::reencode::{crl_with_issuer, unsorted_name, with_names};
    let t = OffsetDateTime::now_utc();
    let root = Ca::new("Fleet Root");
    let name = unsorted_name("Fleet Issuing", "Fleet");
    let mid = root.intermediate("Fleet Issuing");
    let mid_der = with_names(&mid.certificate.der, None, Some(&name), &root.certificate.key_pem);
    let issue = |serial: u8| {
        let mut o = LeafOptions::named(&format!("device {serial}"));
        o.serial = Some(vec![0x80 | serial, serial]);
        let der = with_names(&mid.issue(&o).der, Some(&name), None, &mid.certificate.key_pem);
        Issued { der, key_pem: String::new() }
    };
    let (listed, unlisted) = (issue(1), issue(2));
    let crl_der = |serials: &[&[u8]]| {
        let pem = mid.crl(serials, t - Duration::hours(1), t + Duration::days(7));
        let der = crate::extract::decode_pem_blocks(&pem, "X509 CRL", 1 << 16).unwrap().remove(0);
        crl_with_issuer(&der, &name, &mid.certificate.key_pem)
    };
    let crl = crl_pem(&crl_der(&[&[0x81, 1]]));
    let anchors = root.certificate.pem();
    let intermediates = encode::pem(&mid_der);
    let chain = [(var::TRUST_ANCHORS, anchors.as_str()), (var::INTERMEDIATES, &intermediates), (var::CRLS, &crl)];
    assert_eq!(reason(&req(&chain).cert(&unlisted).send()), "ok", "the path builds and the CRL is current");
    assert_eq!(reason(&req(&chain).cert(&listed).send()), "certificate_revoked", "chain path");
    let pin = listed.sha256_hex();
    let pinned = [
        (var::ALLOWED_THUMBPRINTS, pin.as_str()),
        (var::TRUST_ANCHORS, &anchors),
        (var::INTERMEDIATES, &intermediates),
        (var::CRLS, &crl),
    ];
    assert_eq!(reason(&req(&pinned).cert(&listed).send()), "certificate_revoked", "pinned");

    // The anchor itself named out of order: the path ends at it and its CRL applies.
    let root_der = with_names(&root.certificate.der, Some(&name), Some(&name), &root.certificate.key_pem);
    let under_root = |serial: u8| {
        let mut o = LeafOptions::named(&format!("direct {serial}"));
        o.serial = Some(vec![serial]);
        Issued {
            der: with_names(&root.issue(&o).der, Some(&name), None, &root.certificate.key_pem),
            key_pem: String::new(),
        }
    };
    let root_crl = {
        let pem = root.crl(&[&[1]], t - Duration::hours(1), t + Duration::days(7));
        let der = crate::extract::decode_pem_blocks(&pem, "X509 CRL", 1 << 16).unwrap().remove(0);
        crl_pem(&crl_with_issuer(&der, &name, &root.certificate.key_pem))
    };
    let anchored = [(var::TRUST_ANCHORS, encode::pem(&root_der)), (var::CRLS, root_crl)];
    let anchored: Vec<(&str, &str)> = anchored.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(reason(&req(&anchored).cert(&under_root(2)).send()), "ok", "an anchor named out of order");
    assert_eq!(reason(&req(&anchored).cert(&under_root(1)).send()), "certificate_revoked", "its CRL");
}

/// A CRL scoped by its issuingDistributionPoint speaks only for what it covers: a fresh
/// list for CA certificates (an ARL) or for another distribution point does not make a
/// client certificate's stale list current, and alone it leaves the certificate
/// unconfirmed (`crl_when_stale` decides); a list for the certificate's own distribution
/// point does (found by a review: any list of the issuer was taken as its whole status).
#[test]
fn a_crl_speaks_only_for_the_certificates_its_distribution_point_covers() {
    let t = OffsetDateTime::now_utc();
    let ca = Ca::new("Scoped CA");
    // cRLDistributionPoints naming http://crl.example/a.crl (a full name, one URI).
    let uri = b"http://crl.example/a.crl";
    let mut dp = vec![0x86, uri.len() as u8];
    dp.extend_from_slice(uri);
    let wrap = |tag: u8, body: Vec<u8>| [vec![tag, body.len() as u8], body].concat();
    let crl_dp = wrap(0x30, wrap(0x30, wrap(0xa0, wrap(0xa0, dp))));
    let mut options = LeafOptions::named("partitioned");
    options.extensions.push((vec![2, 5, 29, 31], crl_dp));
    let leaf = ca.issue(&options);
    let plain_leaf = ca.issue(&LeafOptions::named("no distribution point"));
    let stale_full = ca.crl(&[], t - Duration::days(10), t - Duration::days(1));
    let day = |d: i64| t + Duration::days(d);
    let fresh_arl = ca.distribution_point_crl(&[], "http://crl.example/arl.crl", true, t - Duration::hours(1), day(30));
    let fresh_b = ca.distribution_point_crl(&[], "http://crl.example/b.crl", false, t - Duration::hours(1), day(30));
    let fresh_a = ca.distribution_point_crl(&[], "http://crl.example/a.crl", false, t - Duration::hours(1), day(30));
    let anchors = ca.certificate.pem();
    let decide = |crls: String, cert: &Issued, when_stale: &str| {
        let vars = [(var::TRUST_ANCHORS, anchors.as_str()), (var::CRLS, &crls), (var::CRL_WHEN_STALE, when_stale)];
        reason(&req(&vars).cert(cert).send())
    };
    assert_eq!(decide(stale_full.clone(), &leaf, "deny"), "revocation_list_stale", "the stale full list alone");
    for (name, fresh) in [("ARL", &fresh_arl), ("another partition", &fresh_b)] {
        assert_eq!(decide(format!("{stale_full}{fresh}"), &leaf, "deny"), "revocation_list_stale", "{name}");
        assert_eq!(decide(fresh.to_string(), &leaf, "deny"), "revocation_list_stale", "{name} alone");
        assert_eq!(decide(fresh.to_string(), &leaf, "allow"), "ok", "{name} alone, crl_when_stale = allow");
    }
    assert_eq!(decide(format!("{stale_full}{fresh_a}"), &leaf, "deny"), "ok", "its own partition is current");
    assert_eq!(decide(fresh_a.clone(), &plain_leaf, "deny"), "revocation_list_stale", "a certificate naming no point");
    // A partition's serials revoke whatever it covers.
    let mut o = LeafOptions::named("listed");
    o.serial = Some(vec![0x42]);
    let listed = ca.issue(&o);
    let listing =
        ca.distribution_point_crl(&[&[0x42]], "http://crl.example/b.crl", false, t - Duration::hours(1), day(30));
    assert_eq!(decide(listing, &listed, "allow"), "certificate_revoked");
}

fn crl_pem(der: &[u8]) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    format!("-----BEGIN X509 CRL-----\n{b64}\n-----END X509 CRL-----\n")
}

/// An issuing CA renewed with the same key, where the renewal spells that key another way
/// (its point compressed, as a CA that copies the key as written does). Both certificates
/// are configured, the old one first (it has expired), with the CA's CRL. The CRL was
/// bound to the old certificate's key bytes; path building uses the renewal, so no list
/// was found for the leaf's issuer and a revoked leaf was allowed (found by a review). The
/// key is compared in its canonical form now.
#[test]
fn a_crl_applies_whichever_spelling_of_its_issuers_key_the_path_uses() {
    use certgate_testkit::reencode::{parse, with_compressed_point, write, Node};
    let t = OffsetDateTime::now_utc();
    let root = Ca::new("Fleet Root");
    let old = root.intermediate_valid("Fleet Issuing", t - Duration::days(400), t - Duration::days(1));
    let current = root.intermediate("Fleet Issuing");
    // The renewal: the old certificate with a current validity and another serial, its key
    // (the same key) written compressed, signed by the root.
    let Node::Constructed(tag, mut parts) = parse(&old.certificate.der) else { panic!("certificate") };
    let Node::Constructed(tbs_tag, mut tbs) = parts[0].clone() else { panic!("tbs") };
    let Node::Constructed(_, current_parts) = parse(&current.certificate.der) else { panic!("certificate") };
    let Node::Constructed(_, current_tbs) = current_parts[0].clone() else { panic!("tbs") };
    tbs[1] = Node::Primitive(0x02, vec![0x33, 0x44]);
    tbs[4] = current_tbs[4].clone();
    parts[0] = Node::Constructed(tbs_tag, tbs);
    let renewed_same_bytes = write(&Node::Constructed(tag, parts));
    let renewed = with_compressed_point(&renewed_same_bytes, &root.certificate.key_pem);

    let mut o = LeafOptions::named("lost device");
    o.serial = Some(vec![0x42]);
    let revoked_leaf = old.issue(&o);
    let crl = old.crl(&[&[0x42]], t - Duration::hours(1), t + Duration::days(7));
    let anchors = root.certificate.pem();
    let decide = |intermediates: String| {
        let vars = [(var::TRUST_ANCHORS, anchors.as_str()), (var::INTERMEDIATES, &intermediates), (var::CRLS, &crl)];
        reason(&req(&vars).cert(&revoked_leaf).send())
    };
    // Control: the renewal alone (the CRL is bound to its spelling), revoked.
    assert_eq!(decide(encode::pem(&renewed)), "certificate_revoked", "the renewal alone");
    // Old (expired) first, then the renewal: the path uses the renewal, the CRL the old one.
    let both = format!("{}{}", old.certificate.pem(), encode::pem(&renewed));
    assert_eq!(decide(both), "certificate_revoked", "old and renewed CA certificates configured");
}

/// A pinned certificate whose issuer field spells its CA's name with another string type
/// than the CA's own subject (PrintableString for UTF8String; RFC 5280 4.1.2.6 says a CA
/// must not, X.520 matching makes the two the same name, OpenSSL compares them as equal).
/// Its CA revokes it in a configured CRL. The issuer was looked for by its bytes only, so
/// neither the CA nor a CRL "of its name" was found and it was allowed (found by a
/// review): a list of a name that reads the same now judges it, listed or unknown.
#[test]
fn a_pinned_certificate_whose_issuer_is_spelled_otherwise_is_still_judged_by_its_cas_crl() {
    use certgate_testkit::reencode::{subject_of, with_names, with_other_string_type};
    let t = OffsetDateTime::now_utc();
    let ca = Ca::new("Pinned Issuing");
    // The CA's subject as rcgen writes it, with the CN's string tag changed.
    let subject = subject_of(&ca.certificate.der);
    let respelled = with_other_string_type(&subject);
    assert_ne!(respelled, subject);
    let mut o = LeafOptions::named("pinned device");
    o.serial = Some(vec![0x42]);
    let issued = ca.issue(&o);
    let leaf = Issued {
        der: with_names(&issued.der, Some(&respelled), None, &ca.certificate.key_pem),
        key_pem: issued.key_pem.clone(),
    };
    let crl = ca.crl(&[&[0x42]], t - Duration::hours(1), t + Duration::days(7));
    let anchors = ca.certificate.pem();
    let pin = leaf.sha256_hex();
    let vars = [(var::ALLOWED_THUMBPRINTS, pin.as_str()), (var::TRUST_ANCHORS, &anchors), (var::CRLS, &crl)];
    // Control: the same certificate with its issuer spelled as the CA's subject is revoked.
    let control = [
        (var::ALLOWED_THUMBPRINTS, issued.sha256_hex()),
        (var::TRUST_ANCHORS, anchors.clone()),
        (var::CRLS, crl.clone()),
    ];
    let control: Vec<(&str, &str)> = control.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(reason(&req(&control).cert(&issued).send()), "certificate_revoked", "control");
    assert_eq!(reason(&req(&vars).cert(&leaf).send()), "certificate_revoked", "issuer respelled");
    // Not listed: its status is unknown (that CRL may or may not be its CA's), so stale.
    let other = ca.crl(&[&[0x43]], t - Duration::hours(1), t + Duration::days(7));
    let vars = [(var::ALLOWED_THUMBPRINTS, pin.as_str()), (var::TRUST_ANCHORS, &anchors), (var::CRLS, &other)];
    assert_eq!(reason(&req(&vars).cert(&leaf).send()), "revocation_list_stale", "issuer respelled, not listed");
}

/// Two issuing CAs share a name (a rollover to a new key), both configured, and only the
/// new key's CRL is: a certificate of the old key has no list of its own, but its issuer's
/// name has one, so its status is unknown (`crl_when_stale`), never "no list" (found by a
/// review: it was allowed in silence).
#[test]
fn a_crl_of_another_key_of_the_issuers_name_leaves_the_status_unknown() {
    let t = OffsetDateTime::now_utc();
    let root = Ca::new("Fleet Root");
    let old = root.intermediate("Fleet Issuing");
    let new = root.intermediate("Fleet Issuing");
    let leaf = old.issue(&LeafOptions::named("old-key device"));
    let crl = new.crl(&[&[0x42]], t - Duration::hours(1), t + Duration::days(7));
    let anchors = root.certificate.pem();
    let intermediates = format!("{}{}", old.certificate.pem(), new.certificate.pem());
    let mut vars =
        vec![(var::TRUST_ANCHORS, anchors.as_str()), (var::INTERMEDIATES, &intermediates), (var::CRLS, &crl)];
    assert_eq!(reason(&req(&vars).cert(&leaf).send()), "revocation_list_stale");
    vars.push((var::CRL_WHEN_STALE, "allow"));
    assert_eq!(reason(&req(&vars).cert(&leaf).send()), "ok");
    // With the old key's own list as well, it is judged by that list.
    let own = old.crl(&[], t - Duration::hours(1), t + Duration::days(7));
    let both = format!("{crl}{own}");
    let vars = [(var::TRUST_ANCHORS, anchors.as_str()), (var::INTERMEDIATES, &intermediates), (var::CRLS, &both)];
    assert_eq!(reason(&req(&vars).cert(&leaf).send()), "ok");
}

/// A pinned certificate whose issuer field spells its CA's name otherwise than the CA's
/// subject, in every way X.520 matching and OpenSSL's X509_NAME_cmp (every DirectoryString
/// type to UTF-8, case folded, white space collapsed) take as the same name, is judged by
/// its CA's CRL (found by a review: the RFC 4514 text was compared, which misses a
/// BMPString, a VisibleString and white space).
#[test]
fn a_pinned_certificate_is_judged_by_its_cas_crls_however_its_issuer_spells_the_name() {
    let t = OffsetDateTime::now_utc();
    let ca = Ca::new("Pinned Issuing");
    let subject = certgate_testkit::reencode::subject_of(&ca.certificate.der);
    let bmp: Vec<u8> = "Pinned Issuing".encode_utf16().flat_map(|u| u.to_be_bytes()).collect();
    let crl = ca.crl(&[&[0x42]], t - Duration::hours(1), t + Duration::days(7));
    let anchors = ca.certificate.pem();
    let mut failures = Vec::new();
    for (what, tag, value) in [
        ("PrintableString (the case fixed)", 0x13u8, b"Pinned Issuing".to_vec()),
        ("UTF8String, other case (the case fixed)", 0x0c, b"PINNED ISSUING".to_vec()),
        ("BMPString", 0x1e, bmp),
        ("VisibleString", 0x1a, b"Pinned Issuing".to_vec()),
        ("UTF8String, two spaces", 0x0c, b"Pinned  Issuing".to_vec()),
        ("UTF8String, trailing space", 0x0c, b"Pinned Issuing ".to_vec()),
    ] {
        let respelled = certgate_testkit::reencode::with_first_value(&subject, tag, value);
        assert_ne!(respelled, subject);
        let mut o = LeafOptions::named("pinned device");
        o.serial = Some(vec![0x42]);
        let issued = ca.issue(&o);
        let leaf = Issued {
            der: certgate_testkit::reencode::with_names(&issued.der, Some(&respelled), None, &ca.certificate.key_pem),
            key_pem: issued.key_pem.clone(),
        };
        let pin = leaf.sha256_hex();
        let vars = [(var::ALLOWED_THUMBPRINTS, pin.as_str()), (var::TRUST_ANCHORS, &anchors), (var::CRLS, &crl)];
        let got = reason(&req(&vars).cert(&leaf).send());
        if got != "certificate_revoked" {
            failures.push(format!("{what}: {got}"));
        }
    }
    assert!(failures.is_empty(), "revoked pinned certificates let through: {failures:?}");
}

/// A certificate of the old key of a rolled-over CA whose serial the new key's CRL lists
/// (RFC 5280 lets a CA's new key sign CRLs for its old key's certificates) is revoked,
/// pinned or chaining, whichever CA certificates are configured, even with
/// `crl_when_stale = allow` (found by a review: with both configured it was "unknown").
#[test]
fn a_serial_listed_by_another_key_of_the_issuers_name_is_revoked() {
    let t = OffsetDateTime::now_utc();
    let root = Ca::new("Fleet Root");
    let old = root.intermediate("Fleet Issuing");
    let new = root.intermediate("Fleet Issuing");
    let mut o = LeafOptions::named("old-key device");
    o.serial = Some(vec![0x42]);
    let leaf = old.issue(&o);
    let crl = new.crl(&[&[0x42]], t - Duration::hours(1), t + Duration::days(7));
    let anchors = root.certificate.pem();
    let both = format!("{}{}", old.certificate.pem(), new.certificate.pem());
    let pin = leaf.sha256_hex();
    let new_only = format!("{}{}", root.certificate.pem(), new.certificate.pem());
    // Pinned, only the new CA certificate configured: the same-name list revokes it.
    let pinned_new_only = [
        (var::ALLOWED_THUMBPRINTS, pin.as_str()),
        (var::TRUST_ANCHORS, new_only.as_str()),
        (var::CRLS, &crl),
        (var::CRL_WHEN_STALE, "allow"),
    ];
    assert_eq!(reason(&req(&pinned_new_only).cert(&leaf).send()), "certificate_revoked", "pinned, new CA only");
    // Pinned, both CA certificates configured.
    let pinned_both = [
        (var::ALLOWED_THUMBPRINTS, pin.as_str()),
        (var::TRUST_ANCHORS, anchors.as_str()),
        (var::INTERMEDIATES, &both),
        (var::CRLS, &crl),
        (var::CRL_WHEN_STALE, "allow"),
    ];
    let pinned = reason(&req(&pinned_both).cert(&leaf).send());
    // Chaining, both configured.
    let chaining = [
        (var::TRUST_ANCHORS, anchors.as_str()),
        (var::INTERMEDIATES, &both),
        (var::CRLS, &crl),
        (var::CRL_WHEN_STALE, "allow"),
    ];
    let chained = reason(&req(&chaining).cert(&leaf).send());
    assert_eq!((pinned.as_str(), chained.as_str()), ("certificate_revoked", "certificate_revoked"));
}

/// An issuing CA renewed with the same key whose renewal writes its name with another
/// string type, both certificates configured with the CA's CRL: a revoked certificate whose
/// issuer field is written as the renewal writes it chains through the renewal and is
/// still judged by the CA's list (found by a review: the names were compared by bytes and
/// it found "no list").
#[test]
fn a_renewal_that_respells_its_name_keeps_its_lists_on_the_chain_path() {
    use certgate_testkit::reencode::with_names;
    let t = OffsetDateTime::now_utc();
    let root = Ca::new("Fleet Root");
    let issuing = root.intermediate("Fleet Issuing");
    let subject = certgate_testkit::reencode::subject_of(&issuing.certificate.der);
    let respelled = certgate_testkit::reencode::with_first_value(&subject, 0x13, b"Fleet Issuing".to_vec());
    assert_ne!(respelled, subject);
    // The renewal: the same certificate (same key), subject PrintableString, signed by the root.
    let renewed = with_names(&issuing.certificate.der, None, Some(&respelled), &root.certificate.key_pem);
    let mut o = LeafOptions::named("lost device");
    o.serial = Some(vec![0x42]);
    let usual = issuing.issue(&o);
    let leaf = Issued {
        der: with_names(&usual.der, Some(&respelled), None, &issuing.certificate.key_pem),
        key_pem: usual.key_pem.clone(),
    };
    let crl = issuing.crl(&[&[0x42]], t - Duration::hours(1), t + Duration::days(7));
    let anchors = root.certificate.pem();
    let intermediates = format!("{}{}", issuing.certificate.pem(), encode::pem(&renewed));
    let vars =
        [(var::TRUST_ANCHORS, anchors.as_str()), (var::INTERMEDIATES, intermediates.as_str()), (var::CRLS, &crl)];
    assert_eq!(reason(&req(&vars).cert(&usual).send()), "certificate_revoked", "control");
    assert_eq!(reason(&req(&vars).cert(&leaf).send()), "certificate_revoked", "issued under the renewal's spelling");
}

/// A rolled-over CA whose old key still has a (fresh) CRL configured beside the new key's:
/// a serial of an old-key certificate that only the new key's CRL lists is revoked (found
/// by a review: once a list of the issuer's own key existed, lists of other keys were
/// never consulted, so configuring one more CRL weakened revocation).
#[test]
fn a_serial_listed_by_another_key_is_revoked_even_beside_the_old_keys_own_list() {
    let t = OffsetDateTime::now_utc();
    let root = Ca::new("Fleet Root");
    let old = root.intermediate("Fleet Issuing");
    let new = root.intermediate("Fleet Issuing");
    let mut o = LeafOptions::named("old-key device");
    o.serial = Some(vec![0x42]);
    let leaf = old.issue(&o);
    // The old key's last CRL (still current, does not list 0x42) and the new key's (lists it).
    let old_crl = old.crl(&[&[0x07]], t - Duration::days(2), t + Duration::days(30));
    let new_crl = new.crl(&[&[0x42]], t - Duration::hours(1), t + Duration::days(7));
    let crls = format!("{old_crl}{new_crl}");
    let anchors = root.certificate.pem();
    let both = format!("{}{}", old.certificate.pem(), new.certificate.pem());
    let pin = leaf.sha256_hex();
    let chaining = [(var::TRUST_ANCHORS, anchors.as_str()), (var::INTERMEDIATES, &both), (var::CRLS, &crls)];
    let pinned = [
        (var::ALLOWED_THUMBPRINTS, pin.as_str()),
        (var::TRUST_ANCHORS, anchors.as_str()),
        (var::INTERMEDIATES, &both),
        (var::CRLS, &crls),
    ];
    // Control: the new key's list alone revokes it.
    let new_only = [(var::TRUST_ANCHORS, anchors.as_str()), (var::INTERMEDIATES, &both), (var::CRLS, &new_crl)];
    assert_eq!(reason(&req(&new_only).cert(&leaf).send()), "certificate_revoked", "control");
    let got = (reason(&req(&chaining).cert(&leaf).send()), reason(&req(&pinned).cert(&leaf).send()));
    assert_eq!((got.0.as_str(), got.1.as_str()), ("certificate_revoked", "certificate_revoked"));
}

/// A rolled-over CA (new key) that also respells its name (PrintableString to UTF8String):
/// its new key's CRL lists an old-key certificate. The `crls` variable revokes it, and
/// what `certgate-kv revoke-crl --ca old.pem new.pem` files includes the old certificates'
/// issuer spelling, so the store does too (found by a review: only CA subjects of the
/// CRL's own key were filed).
#[test]
fn revoke_crl_files_a_rollovers_serials_under_the_old_keys_spelling_too() {
    use certgate_testkit::reencode::with_names;
    let t = OffsetDateTime::now_utc();
    let root = Ca::new("Fleet Root");
    let old = root.intermediate("Fleet Issuing");
    let new = root.intermediate("Fleet Issuing");
    // The old CA certificate wrote its name as a PrintableString; the new one as UTF8String.
    let respelled = certgate_testkit::reencode::with_first_value(
        &certgate_testkit::reencode::subject_of(&old.certificate.der),
        0x13,
        b"Fleet Issuing".to_vec(),
    );
    assert_ne!(respelled, certgate_testkit::reencode::subject_of(&new.certificate.der));
    let old_der = with_names(&old.certificate.der, None, Some(&respelled), &root.certificate.key_pem);
    let mut o = LeafOptions::named("old-key device");
    o.serial = Some(vec![0x42]);
    let issued = old.issue(&o);
    let leaf = Issued {
        der: with_names(&issued.der, Some(&respelled), None, &old.certificate.key_pem),
        key_pem: issued.key_pem,
    };
    let crl = new.crl(&[&[0x42]], t - Duration::hours(1), t + Duration::days(7));
    let anchors = root.certificate.pem();
    let both = format!("{}{}", encode::pem(&old_der), new.certificate.pem());
    let vars = [(var::TRUST_ANCHORS, anchors.as_str()), (var::INTERMEDIATES, &both), (var::CRLS, &crl)];
    assert_eq!(reason(&req(&vars).cert(&leaf).send()), "certificate_revoked", "the crls variable revokes it");
    // What revoke-crl --ca files: the store looks the leaf up by its issuer field's digest.
    let crl_der = crate::extract::decode_pem_blocks(&crl, "X509 CRL", 10).unwrap().remove(0);
    let filed = crate::crl_issuer_digests(&crl_der, &[old_der.clone(), new.certificate.der.clone()]).unwrap();
    let looked_up = crate::ClientCertificate::from_der(&leaf.der).unwrap().issuer_sha256;
    assert!(filed.contains(&looked_up), "the store misses what the crls variable revokes");
}
