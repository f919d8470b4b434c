//! `service = gateway` end to end: certgate.wasm in the local host (outgoing requests to its
//! `allowed_outbound_hosts` only, as Spin) in front of a real upstream on loopback
//! (tests/apps/upstream.py, not certgate), driven with curl: identity passed on and nothing
//! spoofable passed through, bodies streamed both ways, the body limit, and upstreams that
//! are down, slow, silent or break off.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use certgate_host::runtime::SharedLog;
use certgate_host::AllowedHosts;
use certgate_testkit::{encode, Ca, Issued, LeafOptions};
use certgate_tests::{self as support, free_port, PythonApp};
use sha2::{Digest, Sha256};

const SECRET: &str = "gateway-test-proxy-secret";

/// The upstream app (tests/apps/upstream.py) on a free port.
fn upstream(dir: &Path) -> PythonApp {
    PythonApp::start("upstream.py", dir)
}

/// certgate in gateway mode on a free port, in front of `upstream`.
struct Gateway {
    addr: SocketAddr,
    log: SharedLog,
    alice: Issued,
    bob: Issued,
    _server: tokio::task::JoinHandle<()>,
}

impl Gateway {
    async fn start(upstream: &str, allowed: &[&str], extra: &[(&str, &str)]) -> Gateway {
        let ca = Ca::new("gateway test CA");
        let alice = ca.issue(&LeafOptions::named("alice").dns("alice.example").email("alice@example.com"));
        let bob = ca.issue(&LeafOptions::named("bob"));
        let mut vars = BTreeMap::new();
        vars.insert("allowed_thumbprints".to_string(), alice.sha256_hex());
        vars.insert("service".to_string(), "gateway".to_string());
        vars.insert("upstream".to_string(), upstream.to_string());
        vars.insert("proxy_secret".to_string(), SECRET.to_string());
        for (k, v) in extra {
            vars.insert(k.to_string(), v.to_string());
        }
        let allowed = AllowedHosts::parse(&allowed.iter().map(|h| h.to_string()).collect::<Vec<_>>()).unwrap();
        let runtime = support::runtime().clone().with_allowed_outbound_hosts(allowed);
        let listener = certgate_host::server::bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let log = SharedLog::default();
        let sink = log.clone();
        let server = tokio::spawn(async move {
            let _ = certgate_host::server::serve_logged(listener, runtime, Arc::new(vars), sink).await;
        });
        Gateway { addr, log, alice, bob, _server: server }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The guest's log lines so far.
    fn lines(&self) -> Vec<serde_json::Value> {
        self.log.text().lines().filter_map(|l| serde_json::from_str(l).ok()).collect()
    }

    /// The first log line with this `event` (and `outcome`, if given), waiting up to 10 s:
    /// a request's lines arrive when the guest's work for it is done.
    fn line(&self, event: &str, outcome: Option<&str>) -> serde_json::Value {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let found =
                self.lines().into_iter().find(|l| l["event"] == event && outcome.is_none_or(|o| l["outcome"] == o));
            if let Some(line) = found {
                return line;
            }
            assert!(Instant::now() < deadline, "no {event} line: {}", self.log.text());
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// What curl got: status, headers (lower-case names), body, exit code, seconds taken.
struct Got {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    exit: i32,
    seconds: f64,
}

impl Got {
    fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&self.body)))
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// The header lines the upstream received (from its JSON echo).
    fn upstream_saw(&self) -> Vec<(String, String)> {
        self.json()["headers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|pair| (pair[0].as_str().unwrap().to_string(), pair[1].as_str().unwrap().to_string()))
            .collect()
    }
}

/// Run curl with these arguments (bounded by `--max-time 60`).
fn curl(dir: &Path, args: &[&str]) -> Got {
    let head = dir.join(format!("head-{}", free_port()));
    let out = dir.join(format!("body-{}", free_port()));
    let started = Instant::now();
    let status = Command::new("curl")
        .args(["-s", "--max-time", "60", "-D"])
        .arg(&head)
        .arg("-o")
        .arg(&out)
        .args(args)
        .status()
        .expect("curl");
    let seconds = started.elapsed().as_secs_f64();
    let head_text = std::fs::read_to_string(&head).unwrap_or_default();
    // The last head: an upload first gets `100 Continue`.
    let last = match head_text.rfind("\nHTTP/") {
        Some(i) => &head_text[i + 1..],
        None => head_text.as_str(),
    };
    let mut lines = last.lines();
    let code = lines.next().and_then(|l| l.split(' ').nth(1)).and_then(|s| s.parse().ok()).unwrap_or(0);
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let body = std::fs::read(&out).unwrap_or_default();
    Got { status: code, headers, body, exit: status.code().unwrap_or(-1), seconds }
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("certgate-gateway-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn cert_header(c: &Issued) -> String {
    format!("X-ARR-ClientCert: {}", encode::base64_der(&c.der))
}

const PROOF: &str = "X-Certgate-Proxy-Secret: gateway-test-proxy-secret";

/// The fixed byte pattern tests/apps/upstream.py serves, and its SHA-256.
fn pattern_sha256(n: usize) -> String {
    let block: Vec<u8> = (0..=255u8).cycle().take(65_536).collect();
    let mut h = Sha256::new();
    let mut left = n;
    while left > 0 {
        let take = left.min(block.len());
        h.update(&block[..take]);
        left -= take;
    }
    hex::encode(h.finalize())
}

fn tools_present(test: &str) -> bool {
    ["curl", "python3"].iter().all(|p| support::tool(test, p).is_some())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_allowed_client_reaches_the_upstream_with_certgates_identity_and_nothing_spoofed() {
    if !tools_present("gateway identity") {
        return;
    }
    let dir = scratch("identity");
    let up = upstream(&dir);
    let origin = format!("http://127.0.0.1:{}", up.port);
    let gw =
        Gateway::start(&format!("{origin}/base"), &[&origin], &[("identity_signing_key", "gateway-signing-key-0123")])
            .await;
    let alice = cert_header(&gw.alice);
    let got = curl(
        &dir,
        &[
            "-X",
            "PATCH",
            "-H",
            &alice,
            "-H",
            PROOF,
            "-H",
            "X-Certgate-Client-Subject: CN=admin",
            "-H",
            "X-Certgate-Client_Matched: admin",
            "-H",
            "x-certgate-client-email: root@example.com",
            "-H",
            "X_ARR_ClientCert: spoof",
            "-H",
            "X-Request-Id: r-7",
            "--data-binary",
            "hello",
            &gw.url("/orders/42?x=1"),
        ],
    );
    assert_eq!(got.status, 200, "{}", String::from_utf8_lossy(&got.body));
    let echo = got.json();
    assert_eq!(echo["method"], "PATCH");
    assert_eq!(echo["path"], "/base/orders/42?x=1");
    assert_eq!(
        (echo["body_bytes"].as_u64(), echo["body_sha256"].as_str()),
        (Some(5), Some(&*hex::encode(Sha256::digest(b"hello"))))
    );
    let saw = got.upstream_saw();
    let values = |name: &str| saw.iter().filter(|(n, _)| n == name).map(|(_, v)| v.as_str()).collect::<Vec<_>>();
    assert_eq!(values("x-certgate-client-subject"), ["CN=alice"], "{saw:?}");
    assert_eq!(values("x-certgate-client-sha256"), [gw.alice.sha256_hex().as_str()]);
    assert_eq!(values("x-certgate-client-email"), ["alice@example.com"], "{saw:?}");
    assert_eq!(values("x-certgate-client-dns"), ["alice.example"]);
    assert_eq!(values("x-certgate-client-matched-kind"), ["thumbprint"]);
    assert_eq!(values("x-request-id"), ["r-7"]);
    assert_eq!(values("x-forwarded-host"), [gw.addr.to_string().as_str()], "the authority curl sent");
    // The signature checks with the key, over the identity headers as they arrived.
    let identity: Vec<(String, String)> = saw
        .iter()
        .filter(|(n, _)| n.starts_with("x-certgate-client-") && n != "x-certgate-client-signature")
        .cloned()
        .collect();
    assert_eq!(identity.len(), certgate::upstream::FIELDS.len());
    let mac = certgate::upstream::sign(b"gateway-signing-key-0123", &identity);
    assert_eq!(values("x-certgate-client-signature"), [format!("v1={mac}").as_str()]);
    for (name, _) in &saw {
        assert!(
            !["x-arr-clientcert", "x_arr_clientcert", "x-certgate-proxy-secret", "x-certgate-client_matched"]
                .contains(&name.as_str()),
            "{name} reached the upstream: {saw:?}"
        );
    }
    let allow = gw.line("decision", None);
    assert_eq!((allow["outcome"].as_str(), allow["status"].as_u64()), (Some("allow"), Some(200)), "{allow}");

    // Response headers: the upstream's own pass, hop-by-hop ones do not.
    let hop = curl(&dir, &["-H", &alice, "-H", PROOF, &gw.url("/hop")]);
    assert_eq!(hop.status, 200);
    assert_eq!(hop.header("x-upstream"), Some("kept"), "{:?}", hop.headers);
    assert_eq!((hop.header("connection"), hop.header("keep-alive")), (None, None), "{:?}", hop.headers);
    // A header the upstream's `Connection` names passes: wasi:http hosts (wasmtime's, so
    // Spin's too) take `Connection` away before the guest sees it (docs/gateway.md).
    assert_eq!(hop.header("x-internal"), Some("secret"));
    // HEAD goes as HEAD, and its length is not held against the empty body.
    let head = curl(&dir, &["-I", "-H", &alice, "-H", PROOF, &gw.url("/big?bytes=1000")]);
    assert_eq!((head.status, head.exit), (200, 0), "{:?}", head.headers);
    assert!(up.reached().contains(&"HEAD /base/big?bytes=1000".to_string()), "{:?}", up.reached());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_requests_never_reach_the_upstream() {
    if !tools_present("gateway refusals") {
        return;
    }
    let dir = scratch("refused");
    let up = upstream(&dir);
    let origin = format!("http://127.0.0.1:{}", up.port);
    let gw = Gateway::start(&origin, &[&origin], &[("max_request_body_bytes", "1000")]).await;
    let (alice, bob) = (cert_header(&gw.alice), cert_header(&gw.bob));
    for (args, status, reason) in [
        (vec!["-H", bob.as_str(), "-H", PROOF], 403, "certificate_not_allowed"),
        (vec!["-H", PROOF], 403, "certificate_missing"),
        (vec!["-H", alice.as_str()], 403, "proxy_unauthenticated"),
        (vec!["-H", alice.as_str(), "-H", PROOF, "--data-binary", &"x".repeat(1001)], 413, "request_body_too_large"),
    ] {
        let mut args = args.clone();
        let url = gw.url("/x");
        args.push(&url);
        let got = curl(&dir, &args);
        assert_eq!((got.status, got.json()["reason"].as_str()), (status, Some(reason)), "{args:?}");
    }
    let dots = curl(&dir, &["--path-as-is", "-H", &alice, "-H", PROOF, &gw.url("/a/%2e%2e/admin")]);
    assert_eq!((dots.status, dots.json()["reason"].as_str()), (400, Some("request_not_forwardable")));
    // /healthz is certgate's own.
    assert_eq!(curl(&dir, &[&gw.url("/healthz")]).status, 200);
    assert_eq!(up.reached(), Vec::<String>::new(), "a refused request reached the upstream");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_stream_both_ways_and_a_growing_body_is_cut_off_at_the_limit() {
    if !tools_present("gateway streaming") {
        return;
    }
    let dir = scratch("stream");
    let up = upstream(&dir);
    let origin = format!("http://127.0.0.1:{}", up.port);
    let limit = 48 << 20;
    let gw = Gateway::start(&origin, &[&origin], &[("max_request_body_bytes", &limit.to_string())]).await;
    let alice = cert_header(&gw.alice);
    // 32 MiB up, with a length and chunked.
    let big = dir.join("big.bin");
    let data: Vec<u8> = (0..32u32 << 20).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect();
    std::fs::write(&big, &data).unwrap();
    let want = hex::encode(Sha256::digest(&data));
    let at_big = format!("@{}", big.display());
    for chunked in [false, true] {
        let mut args = vec!["-H", alice.as_str(), "-H", PROOF, "--data-binary", at_big.as_str()];
        if chunked {
            args.extend(["-H", "Transfer-Encoding: chunked"]);
        }
        let url = gw.url("/upload");
        args.push(&url);
        let got = curl(&dir, &args);
        assert_eq!(got.status, 200, "chunked {chunked}: {}", String::from_utf8_lossy(&got.body));
        assert_eq!(
            (got.json()["body_bytes"].as_u64(), got.json()["body_sha256"].as_str()),
            (Some(32 << 20), Some(want.as_str()))
        );
    }
    // 64 MiB down.
    let n = 64 << 20;
    let got = curl(&dir, &["-H", &alice, "-H", PROOF, &gw.url(&format!("/big?bytes={n}"))]);
    assert_eq!((got.status, got.exit, got.body.len()), (200, 0, n));
    assert_eq!(hex::encode(Sha256::digest(&got.body)), pattern_sha256(n));
    // A chunked body that grows past the limit: refused, and the upstream never gets it whole.
    let over = dir.join("over.bin");
    std::fs::write(&over, vec![7u8; limit + (1 << 20)]).unwrap();
    let at_over = format!("@{}", over.display());
    let before = up.reached().len();
    let got = curl(
        &dir,
        &["-H", &alice, "-H", PROOF, "-H", "Transfer-Encoding: chunked", "--data-binary", &at_over, &gw.url("/over")],
    );
    assert_eq!((got.status, got.json()["reason"].as_str()), (413, Some("request_body_too_large")));
    let after: Vec<String> = up.reached()[before..].to_vec();
    assert!(after.iter().all(|l| l.starts_with("POST /over") || l.starts_with("CUT POST /over")), "{after:?}");
    // The upstream read the head and then lost the body: it never answered a whole request.
    let deadline = Instant::now() + Duration::from_secs(10);
    while !up.reached().iter().any(|l| l == "CUT POST /over") && !after.is_empty() {
        assert!(Instant::now() < deadline, "the upstream was not cut off: {:?}", up.reached());
        std::thread::sleep(Duration::from_millis(100));
    }
    // An upstream that answers before taking the body is relayed as it answered.
    let early = curl(&dir, &["-H", &alice, "-H", PROOF, "--data-binary", &at_big, &gw.url("/early")]);
    assert_eq!((early.status, early.json()["upstream"].as_str()), (413, Some("too large")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upstreams_that_are_down_slow_silent_or_break_off_are_reasoned_answers() {
    if !tools_present("gateway failures") {
        return;
    }
    let dir = scratch("failures");
    let up = upstream(&dir);
    let origin = format!("http://127.0.0.1:{}", up.port);
    let gw = Gateway::start(&origin, &[&origin], &[("upstream_timeout_seconds", "1")]).await;
    let alice = cert_header(&gw.alice);
    let ask = |path: &str| curl(&dir, &["-H", &alice, "-H", PROOF, &gw.url(path)]);

    let slow = ask("/slow?s=4");
    assert_eq!((slow.status, slow.json()["reason"].as_str()), (504, Some("upstream_timeout")));
    assert!(slow.seconds < 3.5, "the timeout is 1 s, the answer took {:.1} s", slow.seconds);
    let closed = ask("/close");
    assert_eq!((closed.status, closed.json()["reason"].as_str()), (502, Some("upstream_unavailable")));
    // Headers went out, then the body stalled: the response is cut off, never completed.
    let stalled = ask("/stall");
    assert_eq!(stalled.status, 200);
    assert_ne!(stalled.exit, 0, "curl saw a complete response");
    assert!(
        stalled.body.len() < 100_000 && stalled.seconds < 10.0,
        "{} bytes in {:.1} s",
        stalled.body.len(),
        stalled.seconds
    );
    let cut = gw.line("response_cut_off", None);
    assert!(cut["detail"].as_str().unwrap().contains("stalled"), "{cut}");
    // A small body that stalls before certgate sent anything: a clean 502, not a cut-off 200.
    let small = ask("/stall-small");
    assert_eq!((small.status, small.json()["reason"].as_str()), (502, Some("upstream_unavailable")));
    let body = String::from_utf8_lossy(&slow.body).to_string() + &String::from_utf8_lossy(&closed.body);
    assert!(!body.contains("127.0.0.1") && !body.contains(&up.port.to_string()), "{body}");

    // Nothing listens there.
    let gone_port = free_port();
    let gone = format!("http://127.0.0.1:{gone_port}");
    let gw2 = Gateway::start(&gone, &[&gone], &[]).await;
    let got = curl(&dir, &["-H", &cert_header(&gw2.alice), "-H", PROOF, &gw2.url("/x")]);
    assert_eq!((got.status, got.json()["reason"].as_str()), (502, Some("upstream_unavailable")));
    let line = gw2.line("decision", None);
    assert_eq!(line["outcome"], "upstream_error");
    assert!(line["detail"].as_str().unwrap().contains("ConnectionRefused"), "{line}");

    // Not in allowed_outbound_hosts: the host refuses, as Spin does.
    let gw3 = Gateway::start(&origin, &["http://127.0.0.1:1"], &[]).await;
    let got = curl(&dir, &["-H", &cert_header(&gw3.alice), "-H", PROOF, &gw3.url("/x")]);
    assert_eq!((got.status, got.json()["reason"].as_str()), (502, Some("upstream_unavailable")));
    let line = gw3.line("decision", None);
    assert!(line["detail"].as_str().unwrap().contains("HttpRequestDenied"), "{line}");
    assert!(!up.reached().iter().any(|l| l.contains("/x")), "{:?}", up.reached());
}
