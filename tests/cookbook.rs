//! The policy cookbook (docs/cookbook.md), read from that file itself and run through the built
//! component: every recipe works exactly as written. Plus the policy reasons the recipes
//! do not reach, through the component too.

use certgate_tests as support;

use std::collections::BTreeMap;
use std::sync::OnceLock;

use certgate_testkit::{encode, Ca, Duration, Issued, LeafOptions, OffsetDateTime};
use support::{assert_problem, get, get_raw_cert_data_string};

struct Pki {
    ca: Ca,
    client: Issued,
    next: Issued,
    payments: Issued,
    web: Issued,
    lost: Issued,
    crl_revoked: Issued,
    outsider: Issued,
    secret: String,
}

fn pki() -> &'static Pki {
    static PKI: OnceLock<Pki> = OnceLock::new();
    PKI.get_or_init(|| {
        let ca = Ca::new("Cookbook Root");
        let with_serial = |name: &str, serial: &[u8]| {
            let mut o = LeafOptions::named(name);
            o.serial = Some(serial.to_vec());
            ca.issue(&o)
        };
        Pki {
            client: ca.issue(&LeafOptions::named("client")),
            next: ca.issue(&LeafOptions::named("client-next")),
            payments: ca.issue(&LeafOptions::named("api").uri("spiffe://prod.example/ns/payments/sa/api")),
            web: ca.issue(&LeafOptions::named("web").uri("spiffe://prod.example/ns/web/sa/web")),
            lost: with_serial("lost-laptop", &[0x1a, 0x57]),
            crl_revoked: with_serial("stolen", &[0x5f, 0x01]),
            outsider: Ca::new("Somebody Else")
                .issue(&LeafOptions::named("api").uri("spiffe://prod.example/ns/payments/sa/api")),
            secret: "Q2x1c3Rlci1zZWNyZXQtZm9yLXRlc3Rz".into(),
            ca,
        }
    })
}

/// The document holding the cookbook, relative to the workspace root.
const COOKBOOK: &str = "docs/cookbook.md";

/// The cookbook blocks of [`COOKBOOK`]: name -> (variable -> value as written).
fn recipes() -> BTreeMap<String, BTreeMap<String, String>> {
    let path = support::root().join(COOKBOOK);
    let readme = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut out = BTreeMap::new();
    for block in readme.split("```toml\n").skip(1) {
        let block = block.split("```").next().unwrap();
        let Some(name) = block.lines().next().and_then(|l| l.strip_prefix("# cookbook: ")) else {
            continue;
        };
        let table: toml::Table = block.parse().unwrap_or_else(|e| panic!("recipe {name} is not valid TOML: {e}"));
        let vars = table
            .into_iter()
            .map(|(k, v)| (k, v.as_str().unwrap_or_else(|| panic!("{name}: values are strings")).to_string()))
            .collect();
        out.insert(name.trim().to_string(), vars);
    }
    out
}

fn fill(text: &str, crl: &str) -> String {
    let p = pki();
    let t = OffsetDateTime::now_utc().unix_timestamp();
    let filled = text
        .replace("<sha256 of client.pem>", &p.client.sha256_hex())
        .replace("<sha1 of client.pem, as .NET prints it>", &p.client.sha1_hex().to_uppercase())
        .replace("<sha256 of next.pem>", &p.next.sha256_hex())
        .replace("<contents of ca.pem>", &p.ca.certificate.pem())
        .replace("<serial of lost-laptop.pem>", "1A:57")
        .replace("<contents of crl.pem>", crl)
        .replace("<in 30 days>", &certgate::internals::rfc3339(t + 30 * 86_400))
        .replace("<in 20 days>", &certgate::internals::rfc3339(t + 20 * 86_400))
        .replace("<a long random secret>", &p.secret);
    assert!(!filled.contains('<'), "unfilled placeholder in {text}");
    filled
}

fn fresh_crl() -> String {
    let t = OffsetDateTime::now_utc();
    pki().ca.crl(&[&[0x5f, 0x01]], t - Duration::hours(1), t + Duration::days(7))
}

/// A request configured by one recipe.
fn with_recipe(name: &str, path: &str, crl: &str) -> support::Req {
    let recipes = recipes();
    let vars = recipes.get(name).unwrap_or_else(|| panic!("docs/cookbook.md has no cookbook recipe `{name}`"));
    let mut req = get(path);
    for (k, v) in vars {
        req = req.var(k, &fill(v, crl));
    }
    req
}

fn b64(c: &Issued) -> String {
    encode::base64_der(&c.der)
}

#[test]
fn the_readme_has_all_seven_recipes() {
    let names: Vec<String> = recipes().into_keys().collect();
    assert_eq!(
        names,
        [
            "behind-cloudflare",
            "ca-with-denylist-and-crl",
            "migrating-from-aspnet-sample",
            "pin-one-certificate",
            "private-ca-and-spiffe",
            "report-only-rollout",
            "rotation"
        ]
    );
}

#[tokio::test]
async fn migrating_from_aspnet_sample() {
    let p = pki();
    let r = |value: String| {
        with_recipe("migrating-from-aspnet-sample", "/api/whoami", "").header("X-ARR-ClientCert", value)
    };
    let ok = r(get_raw_cert_data_string(&p.client.der)).send().await;
    assert_eq!(ok.status, 200, "{}", String::from_utf8_lossy(&ok.body));
    let body = ok.json().unwrap();
    assert_eq!(body["format"], "hex-der");
    assert_eq!(body["matched"]["algorithm"], "sha1");
    assert_problem(&r(get_raw_cert_data_string(&p.next.der)).send().await, 403, "certificate_not_allowed");
    // The same certificate as App Service forwards it still works: nothing else to change.
    assert_eq!(r(b64(&p.client)).send().await.status, 200);
}

#[tokio::test]
async fn pin_one_certificate() {
    let p = pki();
    let ok =
        with_recipe("pin-one-certificate", "/api/values", "").header("X-ARR-ClientCert", b64(&p.client)).send().await;
    assert_eq!(ok.status, 200);
    let other =
        with_recipe("pin-one-certificate", "/api/values", "").header("X-ARR-ClientCert", b64(&p.next)).send().await;
    assert_problem(&other, 403, "certificate_not_allowed");
}

#[tokio::test]
async fn private_ca_and_spiffe() {
    let p = pki();
    let r = |c: &Issued| with_recipe("private-ca-and-spiffe", "/api/whoami", "").header("X-ARR-ClientCert", b64(c));
    let ok = r(&p.payments).send().await;
    assert_eq!(ok.status, 200, "{}", String::from_utf8_lossy(&ok.body));
    assert_eq!(ok.json().unwrap()["matched"]["anchor"], "CN=Cookbook Root");
    assert_problem(&r(&p.web).send().await, 403, "certificate_name_not_allowed");
    assert_problem(&r(&p.outsider).send().await, 403, "certificate_untrusted");
}

#[tokio::test]
async fn ca_with_denylist_and_crl() {
    let p = pki();
    let crl = fresh_crl();
    let r = |c: &Issued, crl: &str| {
        with_recipe("ca-with-denylist-and-crl", "/api/values", crl).header("X-ARR-ClientCert", b64(c))
    };
    assert_eq!(r(&p.client, &crl).send().await.status, 200);
    assert_problem(&r(&p.lost, &crl).send().await, 403, "certificate_revoked");
    assert_problem(&r(&p.crl_revoked, &crl).send().await, 403, "certificate_revoked");
    let t = OffsetDateTime::now_utc();
    let stale = p.ca.crl(&[], t - Duration::days(9), t - Duration::days(2));
    assert_problem(&r(&p.client, &stale).send().await, 403, "revocation_list_stale");
    // A CRL that is not from the configured CA is refused when read.
    let forged = Ca::new("Cookbook Root").crl(&[], t - Duration::hours(1), t + Duration::days(7));
    assert_problem(&r(&p.client, &forged).send().await, 500, "configuration_error");
}

#[tokio::test]
async fn rotation() {
    let p = pki();
    let current = with_recipe("rotation", "/api/whoami", "").header("X-ARR-ClientCert", b64(&p.client)).send().await;
    assert_eq!(current.status, 200);
    assert_eq!(current.json().unwrap()["matched"]["label"], "current");
    let early = with_recipe("rotation", "/api/whoami", "").header("X-ARR-ClientCert", b64(&p.next)).send().await;
    let body = assert_problem(&early, 403, "certificate_not_allowed");
    // The pin's label and window are for the operator's log, not the client.
    assert!(!body.to_string().contains("next"), "{body}");
    let logged = support::decision_line(&early)["detail"].as_str().unwrap_or_default().to_string();
    assert!(logged.contains("\"next\"") && logged.contains("not active until"), "{logged}");
}

#[tokio::test]
async fn report_only_rollout() {
    let p = pki();
    let r =
        with_recipe("report-only-rollout", "/api/values", "").header("X-ARR-ClientCert", b64(&p.outsider)).send().await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("certgate-report-only"), Some("would-deny; reason=certificate_untrusted"));
    let log = support::decision_line(&r);
    assert_eq!(log["outcome"], "report_only");
    assert_eq!(log["reason"], "certificate_untrusted");
    let good =
        with_recipe("report-only-rollout", "/api/values", "").header("X-ARR-ClientCert", b64(&p.client)).send().await;
    assert_eq!(good.status, 200);
    assert_eq!(good.header("certgate-report-only"), None);
}

#[tokio::test]
async fn behind_cloudflare() {
    let p = pki();
    let r =
        || with_recipe("behind-cloudflare", "/api/values", "").header("Client-Cert", encode::rfc9440(&p.client.der));
    let verdict = "X-Certgate-Cert-Verified";
    let ok = r().header("X-Certgate-Proxy-Secret", p.secret.clone()).header(verdict, "true").send().await;
    assert_eq!(ok.status, 200, "{}", String::from_utf8_lossy(&ok.body));
    assert_problem(&r().header(verdict, "true").send().await, 403, "proxy_unauthenticated");
    let forged =
        r().header("X-Certgate-Proxy-Secret", "a-guess-of-sufficient-length").header(verdict, "true").send().await;
    assert_problem(&forged, 403, "proxy_unauthenticated");
    let unverified = r().header("X-Certgate-Proxy-Secret", p.secret.clone()).send().await;
    assert_problem(&unverified, 403, "terminator_rejected");
    assert!(!unverified.stderr.contains(&p.secret), "the secret is never logged");
}

#[tokio::test]
async fn wrong_usage_and_key_pins_through_the_component() {
    let p = pki();
    let server_only = p.ca.issue(&LeafOptions::named("web-server").server_only());
    let anchors = p.ca.certificate.pem();
    let r =
        get("/api/values").var("trust_anchors", &anchors).header("X-ARR-ClientCert", b64(&server_only)).send().await;
    assert_problem(&r, 403, "certificate_wrong_usage");
    let relaxed = get("/api/values")
        .var("trust_anchors", &anchors)
        .var("require_client_auth_eku", "false")
        .header("X-ARR-ClientCert", b64(&server_only))
        .send()
        .await;
    assert_eq!(relaxed.status, 200);
    let renewed = p.ca.issue(&LeafOptions::named("client").same_key_as(&p.client));
    let me = get("/api/whoami").pins(&p.client.sha256_hex()).header("X-ARR-ClientCert", b64(&p.client)).send().await;
    let key = me.json().unwrap()["key_sha256"].as_str().unwrap().to_string();
    let pinned =
        get("/api/whoami").var("allowed_key_pins", &key).header("X-ARR-ClientCert", b64(&renewed)).send().await;
    assert_eq!(pinned.status, 200);
    assert_eq!(pinned.json().unwrap()["matched"]["kind"], "key");
}
