//! Real TLS terminators in front of certgate, driven by real `curl --cert` clients.
//! Each test renders the exact config file under deploy/, starts the terminator on a
//! free loopback port in front of certgate-host (serving the built certgate.wasm), and
//! checks: the allowed certificate, another valid one, an expired one, none, and forged
//! headers. nginx, HAProxy, Caddy and Apache httpd come from Debian packages
//! (scripts/test installs them). A test whose terminator (or curl) is not installed is
//! skipped with a message; with CERTGATE_REQUIRE_TERMINATORS=1 (scripts/test, CI) it fails.

use certgate_tests as support;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use certgate_host::runtime::Stderr;
use certgate_host::server::serve_with;
use certgate_testkit::{encode, Ca, Issued, LeafOptions};
use support::{free_port, PythonApp, Running};

/// The secret each terminator config sets and certgate requires.
const PROXY_SECRET: &str = "terminator-test-secret-0123456789";

/// Everything one terminator test needs: certificates on disk and a running certgate.
struct Fixture {
    dir: PathBuf,
    alice: Issued,
    bob: Issued,
    upstream: SocketAddr,
    _server: tokio::task::JoinHandle<()>,
}

fn scratch_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("certgate-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    // Terminator workers may drop privileges; let them traverse the directory.
    let _ = Command::new("chmod").arg("755").arg(&dir).status();
    dir
}

async fn fixture(name: &str, platform: &str, extra: &[(&str, &str)]) -> Fixture {
    let dir = scratch_dir(name);
    let ca = Ca::new("terminator test CA");
    let server = ca.issue(&LeafOptions::named("localhost").server());
    server.write_pem_files(&dir, "server").unwrap();
    std::fs::write(dir.join("server-with-key.pem"), format!("{}{}", server.pem(), server.key_pem)).unwrap();
    std::fs::write(dir.join("client-ca.pem"), ca.certificate.pem()).unwrap();
    let alice = ca.issue(&LeafOptions::named("alice").dns("alice.example"));
    let bob = ca.issue(&LeafOptions::named("bob"));
    let expired = ca.issue(&LeafOptions::named("expired").expired());
    alice.write_pem_files(&dir, "alice").unwrap();
    bob.write_pem_files(&dir, "bob").unwrap();
    expired.write_pem_files(&dir, "expired").unwrap();

    // The expired certificate is pinned too: only validity checks may stop it.
    let mut vars = BTreeMap::new();
    vars.insert("allowed_thumbprints".to_string(), format!("{};{}", alice.sha256_hex(), expired.sha256_hex()));
    vars.insert("platform".to_string(), platform.to_string());
    vars.insert("proxy_secret".to_string(), PROXY_SECRET.to_string());
    for (k, v) in extra {
        vars.insert(k.to_string(), v.to_string());
    }
    let listener = certgate_host::server::bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let upstream = listener.local_addr().unwrap();
    let runtime = support::runtime().clone();
    let server = tokio::spawn(async move {
        let _ = serve_with(listener, runtime, Arc::new(vars), Stderr::Capture).await;
    });
    Fixture { dir, alice, bob, upstream, _server: server }
}

/// Fill the `${CERTGATE_*}` placeholders of a deploy/ config.
fn render(template: &Path, out: &Path, vars: &[(&str, String)]) {
    let mut text = std::fs::read_to_string(template).unwrap_or_else(|e| panic!("{}: {e}", template.display()));
    for (k, v) in vars {
        text = text.replace(&format!("${{{k}}}"), v);
    }
    let unfilled = text
        .match_indices("${CERTGATE_")
        .any(|(i, m)| text[i + m.len()..].starts_with(|c: char| c.is_ascii_uppercase()));
    assert!(!unfilled, "unfilled placeholder in {}", template.display());
    std::fs::write(out, text).unwrap();
}

/// The installed program (present: `scenario` checked before starting anything).
fn require(binary: &str) -> PathBuf {
    support::find_program(binary).unwrap_or_else(|| panic!("`{binary}` is not installed"))
}

/// The program a terminator test runs.
fn program_of(name: &str) -> &'static str {
    match name {
        "nginx" | "nginx-forward-auth" => "nginx",
        "haproxy" | "haproxy-hex" | "haproxy-forward-auth" => "haproxy",
        "caddy" | "caddy-forward-auth" => "caddy",
        "apache" => "apache2",
        other => panic!("unknown terminator {other}"),
    }
}

fn start(name: &'static str, dir: &Path, upstream: SocketAddr, port: u16) -> Running {
    start_with_app(name, dir, upstream, None, port)
}

fn start_with_app(name: &'static str, dir: &Path, upstream: SocketAddr, app: Option<u16>, port: u16) -> Running {
    let vars = [
        ("CERTGATE_LISTEN_PORT", port.to_string()),
        ("CERTGATE_UPSTREAM", upstream.to_string()),
        ("CERTGATE_TLS_DIR", dir.display().to_string()),
        ("CERTGATE_RUN_DIR", dir.display().to_string()),
        ("CERTGATE_PROXY_SECRET", PROXY_SECRET.to_string()),
        ("CERTGATE_APP", format!("127.0.0.1:{}", app.unwrap_or(0))),
    ];
    let deploy = support::root().join("deploy");
    let mut command = match name {
        "nginx-forward-auth" => {
            render(&deploy.join("nginx/forward-auth.conf"), &dir.join("nginx.conf"), &vars);
            let mut c = Command::new(require("nginx"));
            c.arg("-p").arg(dir).arg("-e").arg(dir.join("nginx-early.log"));
            c.arg("-c").arg(dir.join("nginx.conf")).arg("-g").arg("daemon off;");
            c
        }
        "haproxy-forward-auth" => {
            render(&deploy.join("haproxy/forward-auth.cfg"), &dir.join("haproxy.cfg"), &vars);
            std::fs::copy(deploy.join("haproxy/certgate-auth.lua"), dir.join("certgate-auth.lua")).unwrap();
            let mut c = Command::new(require("haproxy"));
            c.arg("-db").arg("-f").arg(dir.join("haproxy.cfg"));
            c
        }
        "caddy-forward-auth" => {
            render(&deploy.join("caddy/forward-auth.Caddyfile"), &dir.join("Caddyfile"), &vars);
            let mut c = Command::new(require("caddy"));
            c.args(["run", "--adapter", "caddyfile", "--config"]).arg(dir.join("Caddyfile"));
            c.env("HOME", dir).env("XDG_DATA_HOME", dir).env("XDG_CONFIG_HOME", dir);
            c
        }
        "nginx" => {
            render(&deploy.join("nginx/nginx.conf"), &dir.join("nginx.conf"), &vars);
            let mut c = Command::new(require("nginx"));
            c.arg("-p").arg(dir).arg("-e").arg(dir.join("nginx-early.log"));
            c.arg("-c").arg(dir.join("nginx.conf")).arg("-g").arg("daemon off;");
            c
        }
        "haproxy" | "haproxy-hex" => {
            render(&deploy.join("haproxy/haproxy.cfg"), &dir.join("haproxy.cfg"), &vars);
            if name == "haproxy-hex" {
                // The same config forwarding `ssl_c_der,hex` (upper-case hex DER) instead.
                let cfg = std::fs::read_to_string(dir.join("haproxy.cfg")).unwrap();
                assert!(cfg.contains("%[ssl_c_der,base64]"));
                std::fs::write(dir.join("haproxy.cfg"), cfg.replace("%[ssl_c_der,base64]", "%[ssl_c_der,hex]"))
                    .unwrap();
            }
            let mut c = Command::new(require("haproxy"));
            c.arg("-db").arg("-f").arg(dir.join("haproxy.cfg"));
            c
        }
        "caddy" => {
            render(&deploy.join("caddy/Caddyfile"), &dir.join("Caddyfile"), &vars);
            let mut c = Command::new(require("caddy"));
            c.args(["run", "--adapter", "caddyfile", "--config"]).arg(dir.join("Caddyfile"));
            c.env("HOME", dir).env("XDG_DATA_HOME", dir).env("XDG_CONFIG_HOME", dir);
            c
        }
        "apache" => {
            render(&deploy.join("apache/apache2.conf"), &dir.join("apache2.conf"), &vars);
            let mut c = Command::new(require("apache2"));
            c.arg("-f").arg(dir.join("apache2.conf")).arg("-DFOREGROUND");
            if is_root() {
                c.arg("-DCERTGATE_AS_ROOT");
            }
            c
        }
        other => panic!("unknown terminator {other}"),
    };
    let log = std::fs::File::create(dir.join(format!("{name}.out"))).unwrap();
    let child = command
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap_or_else(|e| panic!("starting {name}: {e}"));
    let mut running = Running(child, name);
    wait_for_port(&mut running, port, dir);
    running
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().map(|o| o.stdout.starts_with(b"0")).unwrap_or(false)
}

fn wait_for_port(running: &mut Running, port: u16, dir: &Path) {
    for _ in 0..200 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        if let Ok(Some(status)) = running.0.try_wait() {
            let out = std::fs::read_to_string(dir.join(format!("{}.out", running.1))).unwrap_or_default();
            panic!("{} exited ({status}) before listening:\n{out}", running.1);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("{} did not listen on port {port} within 10 s", running.1);
}

/// The result of one curl run.
#[derive(Debug)]
enum Curl {
    /// An HTTP response: status and body.
    Response(u16, String),
    /// curl failed before a response (e.g. the terminator ended the TLS handshake).
    Failed(i32, String),
}

impl Curl {
    fn json(&self) -> serde_json::Value {
        match self {
            Curl::Response(_, body) => serde_json::from_str(body).unwrap_or_else(|_| panic!("not JSON: {body}")),
            Curl::Failed(code, err) => panic!("curl failed ({code}): {err}"),
        }
    }
    fn status(&self) -> Option<u16> {
        match self {
            Curl::Response(s, _) => Some(*s),
            Curl::Failed(..) => None,
        }
    }
}

fn curl(dir: &Path, port: u16, path: &str, client: Option<&str>, extra_headers: &[(&str, String)]) -> Curl {
    let mut c = Command::new(require("curl"));
    c.args(["-sS", "--max-time", "10", "--noproxy", "*", "--cacert"]).arg(dir.join("client-ca.pem"));
    if let Some(stem) = client {
        c.arg("--cert").arg(dir.join(format!("{stem}.pem"))).arg("--key").arg(dir.join(format!("{stem}.key")));
    }
    for (name, value) in extra_headers {
        c.arg("-H").arg(format!("{name}: {value}"));
    }
    c.arg("--resolve").arg(format!("localhost:{port}:127.0.0.1"));
    c.args(["-w", "\n%{http_code}"]).arg(format!("https://localhost:{port}{path}"));
    let out = c.output().expect("running curl");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() {
        return Curl::Failed(out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stderr).into_owned());
    }
    let (body, code) = stdout.rsplit_once('\n').unwrap_or(("", &stdout));
    Curl::Response(code.trim().parse().unwrap_or(0), body.to_string())
}

/// The whole scenario against one terminator.
async fn scenario(name: &'static str, platform: &str, header: &'static str, extra: &[(&str, &str)]) {
    for program in [program_of(name), "curl"] {
        if support::tool(&format!("terminators ({name})"), program).is_none() {
            return;
        }
    }
    let fx = fixture(name, platform, extra).await;
    let (dir, upstream) = (fx.dir.clone(), fx.upstream);
    let (alice, bob) = (fx.alice.clone(), fx.bob.clone());
    // curl and the terminator are blocking processes; certgate keeps serving on the runtime.
    let checks = tokio::task::spawn_blocking(move || {
        let port = free_port();
        let _terminator = start(name, &dir, upstream, port);
        run_checks(name, &dir, port, header, &alice, &bob);
        bypass_is_refused(name, upstream, header, &alice);
    })
    .await;
    if let Err(e) = checks {
        std::panic::resume_unwind(e.into_panic());
    }
    let _ = std::fs::remove_dir_all(&fx.dir);
}

/// Going around the terminator, straight to certgate, with a forged header: refused for
/// want of the proxy's secret, before the certificate is even read.
fn bypass_is_refused(name: &str, upstream: SocketAddr, header: &str, alice: &Issued) {
    let out = Command::new(require("curl"))
        .args(["-sS", "--max-time", "10", "--noproxy", "*", "-H"])
        .arg(format!("{header}: {}", encode::base64_der(&alice.der)))
        .arg(format!("http://{upstream}/api/values"))
        .output()
        .expect("curl");
    let body = String::from_utf8_lossy(&out.stdout);
    assert!(body.contains("proxy_unauthenticated"), "{name}: bypass answered {body}");
}

fn run_checks(name: &str, dir: &Path, port: u16, header: &str, alice: &Issued, bob: &Issued) {
    // Health probes pass without a certificate.
    assert_eq!(curl(dir, port, "/healthz", None, &[]).status(), Some(200), "{name}: /healthz");

    // The allowed certificate: 200 and the right identity.
    let me = curl(dir, port, "/api/whoami", Some("alice"), &[]);
    assert_eq!(me.status(), Some(200), "{name}: alice: {me:?}");
    let me = me.json();
    assert_eq!(me["thumbprint_sha256"], alice.sha256_hex(), "{name}");
    assert_eq!(me["subject"], "CN=alice");
    if name == "haproxy-hex" {
        assert_eq!(me["format"], "hex-der", "{name}: the hex value was detected as such");
    }
    assert_eq!(me["dns_names"], serde_json::json!(["alice.example"]));
    let values = curl(dir, port, "/api/values", Some("alice"), &[]);
    assert_eq!(values.json(), serde_json::json!(["value1", "value2"]), "{name}");

    // Another valid certificate from the same CA: certgate refuses it.
    let other = curl(dir, port, "/api/values", Some("bob"), &[]);
    assert_eq!(other.status(), Some(403), "{name}: bob: {other:?}");
    assert_eq!(other.json()["reason"], "certificate_not_allowed");

    // An expired certificate (pinned!) never gets through: the terminator refuses it, or
    // certgate does with certificate_expired.
    match curl(dir, port, "/api/values", Some("expired"), &[]) {
        Curl::Failed(..) => {}
        Curl::Response(status, body) => {
            assert_ne!(status, 200, "{name}: expired certificate authenticated: {body}");
            if body.contains("\"reason\"") {
                assert!(body.contains("certificate_expired"), "{name}: {body}");
            }
        }
    }

    // No certificate: certgate says so.
    let none = curl(dir, port, "/api/values", None, &[]);
    assert_eq!(none.status(), Some(403), "{name}: {none:?}");
    assert_eq!(none.json()["reason"], "certificate_missing", "{name}");

    // Forged headers in every encoding, with no certificate and with bob's: the forged
    // value (alice's certificate) must never authenticate.
    for forged in [
        encode::base64_der(&alice.der),
        encode::hex_der_upper(&alice.der),
        encode::url_pem_nginx(&alice.der),
        encode::pem_apache(&alice.der),
        encode::xfcc_element(&alice.der, &[], "CN=alice"),
    ] {
        for (client, reason) in [(None, "certificate_missing"), (Some("bob"), "certificate_not_allowed")] {
            let r = curl(
                dir,
                port,
                "/api/whoami",
                client,
                &[(header, forged.clone()), ("X-ARR-ClientCert", forged.clone())],
            );
            assert_eq!(r.status(), Some(403), "{name}: forged header with {client:?}: {r:?}");
            assert_eq!(r.json()["reason"], reason, "{name}: forged header with {client:?}");
        }
    }
    // A client cannot replace the proxy's secret with its own guess.
    let r = curl(dir, port, "/api/values", Some("alice"), &[("X-Certgate-Proxy-Secret", "guess".into())]);
    assert_eq!(r.status(), Some(200), "{name}: {r:?}");

    // bob's own certificate is what was forwarded, not the forged alice (pinned): refused as
    // not allowed, not missing, and never 200.
    let r = curl(dir, port, "/api/values", Some("bob"), &[(header, encode::base64_der(&alice.der))]);
    assert_eq!(r.status(), Some(403), "{name}: {r:?}");
    assert_eq!(r.json()["reason"], "certificate_not_allowed", "{name}: bob ({}): {r:?}", bob.sha256_hex());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nginx_forwards_url_encoded_pem() {
    scenario("nginx", "nginx", "X-SSL-Client-Cert", &[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn haproxy_forwards_base64_der() {
    scenario("haproxy", "haproxy", "X-SSL-Client-Cert", &[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn caddy_forwards_base64_der() {
    scenario("caddy", "caddy", "X-Client-Cert", &[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apache_forwards_pem_with_spaces() {
    scenario("apache", "apache", "X-SSL-Client-Cert", &[]).await;
}

/// HAProxy forwarding `%[ssl_c_der,hex]`: a real terminator's upper-case hex DER, read by
/// `auto` detection with the haproxy preset's header.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn haproxy_forwards_hex_der() {
    scenario("haproxy-hex", "haproxy", "X-SSL-Client-Cert", &[("certificate_format", "auto")]).await;
}

/// certgate as the proxy's authorization service in front of the echo app: the allowed
/// client reaches the app with certgate's identity headers (signed), refused clients never
/// reach it, and headers a client sends under certgate's prefix never reach it as sent.
async fn forward_auth_scenario(name: &'static str, platform: &str) {
    for program in [program_of(name), "curl", "python3"] {
        if support::tool(&format!("forward-auth ({name})"), program).is_none() {
            return;
        }
    }
    const KEY: &str = "forward-auth-test-signing-key";
    let fx = fixture(name, platform, &[("service", "forward-auth"), ("identity_signing_key", KEY)]).await;
    let (dir, upstream) = (fx.dir.clone(), fx.upstream);
    let (alice, bob) = (fx.alice.clone(), fx.bob.clone());
    let checks = tokio::task::spawn_blocking(move || {
        let app = PythonApp::start("echo.py", &dir);
        let port = free_port();
        let _proxy = start_with_app(name, &dir, upstream, Some(app.port), port);

        // The allowed client, with its own claims under certgate's prefix.
        let spoofed = [
            ("X-Certgate-Client-Sha256", bob.sha256_hex()),
            ("X-Certgate-Client-Subject", "CN=admin".to_string()),
            ("X-Certgate-Client-Signature", "v1=forged".to_string()),
            ("X-Certgate-Client-Role", "admin".to_string()),
            ("X-Certgate-Client_Subject", "CN=admin".to_string()),
            ("Connection", "keep-alive, X-Certgate-Client-Subject, X-Certgate-Client-Signature".to_string()),
        ];
        let r = curl(&dir, port, "/orders/42?full=1", Some("alice"), &spoofed);
        assert_eq!(r.status(), Some(200), "{name}: alice: {r:?}");
        let echoed = r.json();
        assert_eq!(echoed["path"], "/orders/42?full=1", "{name}: the app sees the original request");
        let headers = &echoed["headers"];
        // One value each (never the client's beside certgate's); nginx sends no header for an
        // empty value, which the app reads as empty (as the signature does).
        let one = |field: &str| -> String {
            let values = headers[format!("x-certgate-client-{field}")].as_array().cloned().unwrap_or_default();
            assert!(values.len() <= 1, "{name}: {field}: {values:?}");
            values.first().and_then(|v| v.as_str()).unwrap_or_default().to_string()
        };
        assert_eq!(one("sha256"), alice.sha256_hex(), "{name}: certgate's identity, not the client's");
        assert_eq!(one("subject"), "CN=alice");
        assert_eq!(one("dns"), "alice.example");
        assert_eq!(one("matched-kind"), "thumbprint");
        // The signature checks with the key over exactly the headers certgate wrote.
        let signed: Vec<(String, String)> = certgate::upstream::FIELDS
            .iter()
            .map(|f| (format!("x-certgate-client-{}", f.to_ascii_lowercase()), one(&f.to_ascii_lowercase())))
            .collect();
        assert_eq!(one("signature"), format!("v1={}", certgate::upstream::sign(KEY.as_bytes(), &signed)), "{name}");
        // A header under the prefix that certgate does not write: Caddy removes it by prefix;
        // nginx cannot remove headers by prefix (docs/forward-auth.md: the app reads only
        // the names certgate writes, which the signature covers).
        if name.starts_with("caddy") || name.starts_with("haproxy") {
            assert!(headers.get("x-certgate-client-role").is_none(), "{name}: {headers}");
        }
        // The same name with `_` (CGI-style apps read it as the same variable) never arrives.
        assert!(headers.get("x-certgate-client_subject").is_none(), "{name}: {headers}");
        // What only certgate needs stays with certgate.
        assert!(headers.get("x-certgate-proxy-secret").is_none(), "{name}: {headers}");
        let reached = app.reached().len();
        assert_eq!(reached, 1, "{name}");

        // Refused: another valid certificate, none, and /healthz (the client's own path):
        // none of them reaches the app.
        let other = curl(&dir, port, "/orders/42", Some("bob"), &[]);
        assert_eq!(other.status(), Some(403), "{name}: bob: {other:?}");
        let none = curl(&dir, port, "/orders/42", None, &[("X-Certgate-Client-Sha256", alice.sha256_hex())]);
        assert_eq!(none.status(), Some(403), "{name}: no certificate: {none:?}");
        let health = curl(&dir, port, "/healthz", None, &[]);
        assert_eq!(health.status(), Some(403), "{name}: /healthz through the proxy: {health:?}");
        let forged = curl(
            &dir,
            port,
            "/",
            None,
            &[
                ("X-SSL-Client-Cert", encode::url_pem_nginx(&alice.der)),
                ("X-Client-Cert", encode::base64_der(&alice.der)),
            ],
        );
        assert_eq!(forged.status(), Some(403), "{name}: a forged certificate header: {forged:?}");
        assert_eq!(app.reached().len(), reached, "{name}: a refused request reached the app");
    })
    .await;
    if let Err(e) = checks {
        std::panic::resume_unwind(e.into_panic());
    }
    let _ = std::fs::remove_dir_all(&fx.dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nginx_auth_request_asks_certgate_in_front_of_another_app() {
    forward_auth_scenario("nginx-forward-auth", "nginx").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn haproxy_lua_asks_certgate_in_front_of_another_app() {
    forward_auth_scenario("haproxy-forward-auth", "haproxy").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn caddy_forward_auth_asks_certgate_in_front_of_another_app() {
    forward_auth_scenario("caddy-forward-auth", "caddy").await;
}
