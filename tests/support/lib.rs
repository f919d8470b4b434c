//! The harness shared by certgate's integration tests.
//!
//! A [`Target`] answers one [`Request`]: [`Native`] calls the library
//! (`certgate::service::handle`), [`Wasm`] runs the built `certgate.wasm` (made by this
//! crate's build.rs) in wasmtime through certgate-host, a fresh instance per request, as
//! Spin does, and [`WasmP3`] runs `certgate-p3.wasm` (WASI 0.3) on instances reused as Spin
//! 4 reuses them. Tests that must hold on all three loop over [`targets()`] (or are
//! written once for each with `on_every_target!`); [`Req`] builds a request
//! and sends it to one target ([`Req::on`]) or to the component ([`Req::send`]).
//! [`tool`] finds an external program (a terminator, curl, check-jsonschema, wac) or
//! reports why the test is skipped.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use certgate_host::{Runtime, RuntimeOptions};
use http_body_util::Full;

/// A free loopback port (bound once and released; the caller's server takes it next).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("free port")
}

/// A child process, with a name for messages, stopped by PID (SIGTERM, then SIGKILL after
/// 5 s) when dropped.
pub struct Running(pub std::process::Child, pub &'static str);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = std::process::Command::new("kill").arg("-TERM").arg(self.0.id().to_string()).status();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while std::time::Instant::now() < deadline {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A small Python app of `tests/apps` (not certgate) on a free loopback port, started with
/// `ECHO_LOG` naming a file it appends one line to per request it receives, so a test can
/// tell whether a request reached it at all. Stopped by PID when dropped.
pub struct PythonApp {
    _running: Running,
    /// Its port.
    pub port: u16,
    log: PathBuf,
}

impl PythonApp {
    /// Start `tests/apps/<script>` in `dir` and wait (at most 10 s) until it listens.
    pub fn start(script: &str, dir: &Path) -> PythonApp {
        let port = free_port();
        let log = dir.join(format!("{script}.log"));
        std::fs::write(&log, "").expect("app log");
        let child = std::process::Command::new(find_program("python3").expect("python3"))
            .arg(root().join("tests/apps").join(script))
            .arg(port.to_string())
            .env("ECHO_LOG", &log)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(dir.join(format!("{script}.out"))).expect("app output"))
            .spawn()
            .expect("starting the app");
        let mut running = Running(child, "python app");
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = running.0.try_wait() {
                let out = std::fs::read_to_string(dir.join(format!("{script}.out"))).unwrap_or_default();
                panic!("{script} exited ({status}) before listening:\n{out}");
            }
            assert!(std::time::Instant::now() < deadline, "{script} did not listen on {port} within 10 s");
            std::thread::sleep(Duration::from_millis(50));
        }
        PythonApp { _running: running, port, log }
    }

    /// The lines it logged: one per request that reached it.
    pub fn reached(&self) -> Vec<String> {
        std::fs::read_to_string(&self.log).unwrap_or_default().lines().map(str::to_string).collect()
    }
}

/// One HTTP/1.1 exchange on a kept-alive connection: status and body (read to its length).
pub fn exchange(reader: &mut BufReader<TcpStream>, path: &str, headers: &[(&str, &str)]) -> (u16, String) {
    let mut request = format!("GET {path} HTTP/1.1\r\nHost: spin.test\r\n");
    for (k, v) in headers {
        request.push_str(&format!("{k}: {v}\r\n"));
    }
    request.push_str("\r\n");
    reader.get_mut().write_all(request.as_bytes()).expect("send");
    let mut status_line = String::new();
    reader.read_line(&mut status_line).expect("status line");
    let status = status_line.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let mut length = None;
    let mut chunked = false;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).expect("header line");
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':').unwrap_or((line, ""));
        if name.eq_ignore_ascii_case("content-length") {
            length = value.trim().parse::<usize>().ok();
        }
        if name.eq_ignore_ascii_case("transfer-encoding") && value.to_ascii_lowercase().contains("chunked") {
            chunked = true;
        }
    }
    assert!(!chunked, "{path}: certgate announces its length, the response must not be chunked");
    let mut body = vec![0; length.expect("content-length")];
    reader.read_exact(&mut body).expect("body");
    (status, String::from_utf8_lossy(&body).into_owned())
}

pub fn connect(port: u16) -> BufReader<TcpStream> {
    let stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
    BufReader::new(stream)
}

/// The workspace root (where `spin.toml` lives).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_default()
}

/// The `certgate.wasm` build.rs built for this test run.
pub fn component_path() -> PathBuf {
    PathBuf::from(env!("CERTGATE_WASM"))
}

/// The config-env adapter build.rs built (composed with certgate.wasm into the standalone variant).
pub fn config_env_adapter_path() -> PathBuf {
    PathBuf::from(env!("CERTGATE_CONFIG_ENV_WASM"))
}

/// The `certgate-middleware.wasm` (composed in front of another component) build.rs built.
pub fn middleware_path() -> PathBuf {
    PathBuf::from(env!("CERTGATE_MIDDLEWARE_WASM"))
}

/// The `certgate-p3.wasm` (WASI 0.3, for Spin 4) build.rs built for this test run.
pub fn p3_component_path() -> PathBuf {
    PathBuf::from(env!("CERTGATE_P3_WASM"))
}

/// `certgate-p3.wasm`, compiled once per test binary; certgate-host serves it on instances
/// reused as Spin 4.0.2 reuses them (128 requests, 16 at once, 1 s idle), one set of
/// instances per configuration. Its instances are tasks of the tokio runtime that started
/// them, so every call goes through [`p3_tokio`], not the calling test's own runtime.
pub fn p3_runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        Runtime::new(&p3_component_path(), &RuntimeOptions { pooling: true, max_instances: 128 })
            .expect("compile certgate-p3.wasm")
    })
}

/// The one tokio runtime that runs every request to [`p3_runtime`], for the whole test
/// binary. Each `#[tokio::test]` has a runtime of its own that ends with the test; an
/// instance started there and reused by another test's request would end with it, and
/// the request queued for it would wait forever (seen as a CI run that hung).
pub fn p3_tokio() -> &'static tokio::runtime::Runtime {
    static TOKIO: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    TOKIO.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("certgate-p3")
            .enable_all()
            .build()
            .expect("the WASI 0.3 instances' tokio runtime")
    })
}

/// `certgate.wasm`, compiled once per test binary.
pub fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        Runtime::new(&component_path(), &RuntimeOptions { pooling: true, max_instances: 16 })
            .expect("compile certgate.wasm")
    })
}

/// One HTTP request: method, path with query, header lines, and the variables
/// (Spin variables for the component, a map for the library).
#[derive(Clone, Debug, Default)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, Vec<u8>)>,
    pub vars: BTreeMap<String, String>,
}

/// A complete response, and the log lines written for it.
#[derive(Clone, Debug)]
pub struct Response {
    pub status: u16,
    /// Header names in lower case.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The log lines as the component writes them to stderr, one JSON object a line.
    pub stderr: String,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The body as JSON.
    pub fn json(&self) -> serde_json::Result<serde_json::Value> {
        serde_json::from_slice(&self.body)
    }

    /// The log lines parsed as JSON (lines that are not JSON are skipped).
    pub fn log_lines(&self) -> Vec<serde_json::Value> {
        self.stderr.lines().filter_map(|l| serde_json::from_str(l).ok()).collect()
    }

    /// The reason code ("" for 200).
    pub fn reason(&self) -> String {
        reason_of(self.status, &self.body)
    }
}

/// What a [`Target`] returns: the response, once the request has run.
pub type Answer<'a> = Pin<Box<dyn Future<Output = Response> + 'a>>;

/// Something that answers certgate's HTTP contract.
pub trait Target: Sync {
    /// "native" or "wasm", for failure messages.
    fn name(&self) -> &'static str;
    /// Answer one request at the current time. A trap is a test failure, not a response.
    fn handle<'a>(&'a self, request: &'a Request) -> Answer<'a>;
}

/// The library itself: `certgate::service::handle` with the current time.
pub struct Native;

/// The built `certgate.wasm` in wasmtime, one fresh instance per request.
pub struct Wasm;

/// The built `certgate-p3.wasm` in wasmtime, on reused instances (see [`p3_runtime`]).
pub struct WasmP3;

/// Every target, native first.
pub fn targets() -> [&'static dyn Target; 3] {
    [&Native, &Wasm, &WasmP3]
}

/// The current Unix time, as the component reads it.
pub fn now() -> i64 {
    certgate_testkit::OffsetDateTime::now_utc().unix_timestamp()
}

impl Target for Native {
    fn name(&self) -> &'static str {
        "native"
    }

    fn handle<'a>(&'a self, request: &'a Request) -> Answer<'a> {
        let vars: HashMap<String, String> = request.vars.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        let outcome = certgate::service::handle(&request.method, &request.path, &request.headers, &vars, now());
        let stderr = outcome.logs.iter().map(|l| format!("{}\n", l.render())).collect();
        let response = outcome.response;
        Box::pin(std::future::ready(Response {
            status: response.status,
            headers: response.headers.into_iter().map(|(k, v)| (k.to_ascii_lowercase(), v)).collect(),
            body: response.body,
            stderr,
        }))
    }
}

impl Target for Wasm {
    fn name(&self) -> &'static str {
        "wasm"
    }

    fn handle<'a>(&'a self, request: &'a Request) -> Answer<'a> {
        Box::pin(call_component(runtime(), request))
    }
}

impl Target for WasmP3 {
    fn name(&self) -> &'static str {
        "wasm-p3"
    }

    fn handle<'a>(&'a self, request: &'a Request) -> Answer<'a> {
        // One request at a time: a set of reused instances shares one captured stderr, and
        // a request's log lines are what the set wrote while it ran, so two requests of one
        // configuration at once (from two tests) would each see the other's lines.
        static ONE_AT_A_TIME: OnceLock<tokio::sync::Mutex<()>> = OnceLock::new();
        let request = request.clone();
        let call = p3_tokio().spawn(async move {
            let _alone = ONE_AT_A_TIME.get_or_init(|| tokio::sync::Mutex::new(())).lock().await;
            call_component(p3_runtime(), &request).await
        });
        Box::pin(async move {
            match call.await {
                Ok(response) => response,
                Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                Err(e) => panic!("the WASI 0.3 call did not finish: {e}"),
            }
        })
    }
}

async fn call_component(runtime: &Runtime, request: &Request) -> Response {
    let mut builder =
        hyper::Request::builder().method(request.method.as_str()).uri(format!("http://certgate.test{}", request.path));
    for (name, value) in &request.headers {
        let value = hyper::header::HeaderValue::from_bytes(value).expect("header value");
        builder = builder.header(name.as_str(), value);
    }
    let http = builder.body(Full::new(Bytes::new())).expect("request");
    let collected =
        runtime.call(http, Arc::new(request.vars.clone())).await.expect("the component answered without trapping");
    Response {
        status: collected.status,
        headers: collected
            .headers
            .iter()
            .map(|(k, v)| (k.as_str().to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
            .collect(),
        body: collected.body.to_vec(),
        stderr: collected.stderr,
    }
}

/// A request under construction.
pub struct Req(Request);

pub fn get(path: &str) -> Req {
    request("GET", path)
}

pub fn request(method: &str, path: &str) -> Req {
    Req(Request { method: method.into(), path: path.into(), ..Request::default() })
}

impl Req {
    pub fn header(mut self, name: &str, value: impl Into<Vec<u8>>) -> Self {
        self.0.headers.push((name.into(), value.into()));
        self
    }

    pub fn var(mut self, name: &str, value: &str) -> Self {
        self.0.vars.insert(name.into(), value.into());
        self
    }

    pub fn pins(self, pins: &str) -> Self {
        self.var("allowed_thumbprints", pins)
    }

    /// The request as built.
    pub fn build(self) -> Request {
        self.0
    }

    /// Send it to one target.
    pub async fn on(self, target: &dyn Target) -> Response {
        target.handle(&self.0).await
    }

    /// Send it to the component: to certgate.wasm and to certgate-p3.wasm, which must give
    /// the same status and body; certgate.wasm's response is returned.
    pub async fn send(self) -> Response {
        let p2 = Wasm.handle(&self.0).await;
        let p3 = WasmP3.handle(&self.0).await;
        assert_eq!(
            (p2.status, String::from_utf8_lossy(&p2.body)),
            (p3.status, String::from_utf8_lossy(&p3.body)),
            "certgate.wasm and certgate-p3.wasm differ on {} {}",
            self.0.method,
            self.0.path
        );
        p2
    }
}

/// Assert a problem+json refusal with a reason, and return its body.
pub fn assert_problem(response: &Response, status: u16, reason: &str) -> serde_json::Value {
    assert_eq!(response.status, status, "body: {}", String::from_utf8_lossy(&response.body));
    assert_eq!(response.header("content-type"), Some("application/problem+json"));
    assert_eq!(response.header("cache-control"), Some("no-store"));
    let body = response.json().expect("problem body is JSON");
    assert_eq!(body["reason"], reason, "body: {body}");
    assert_eq!(body["status"], status);
    assert!(body["title"].is_string() && body["detail"].is_string() && body["type"].is_string());
    body
}

/// The single decision log line of a response.
pub fn decision_line(response: &Response) -> serde_json::Value {
    let lines: Vec<_> = response.log_lines().into_iter().filter(|l| l["event"] == "decision").collect();
    assert_eq!(lines.len(), 1, "stderr: {}", response.stderr);
    lines.into_iter().next().unwrap_or_default()
}

/// One request: variables, headers and the reason it must get ("" for 200).
pub struct Case {
    pub name: String,
    pub vars: Vec<(String, String)>,
    pub headers: Vec<(String, Vec<u8>)>,
    pub want: &'static str,
}

pub fn case(name: &str, vars: &[(&str, &str)], headers: &[(&str, &str)], want: &'static str) -> Case {
    Case {
        name: name.into(),
        vars: vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        headers: headers.iter().map(|(k, v)| (k.to_ascii_lowercase(), v.as_bytes().to_vec())).collect(),
        want,
    }
}

/// The reason code of a response ("" for 200).
pub fn reason_of(status: u16, body: &[u8]) -> String {
    if status == 200 {
        return String::new();
    }
    let body: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    body["reason"].as_str().unwrap_or("?").to_string()
}

/// Run every case (GET /api/whoami) on every target: each must give the stated reason and
/// write its decision line (the component, then, answered rather than trapped).
pub async fn check(cases: Vec<Case>) {
    for c in &cases {
        let request = Request {
            method: "GET".into(),
            path: "/api/whoami".into(),
            headers: c.headers.clone(),
            vars: c.vars.iter().cloned().collect(),
        };
        for target in targets() {
            let response = target.handle(&request).await;
            let got = response.reason();
            assert_eq!(got, c.want, "{}, {}: {}", target.name(), c.name, String::from_utf8_lossy(&response.body));
            assert!(
                response.stderr.contains("\"event\":\"decision\""),
                "{}, {}: {}",
                target.name(),
                c.name,
                response.stderr
            );
        }
    }
}

/// `X509Certificate.GetRawCertDataString()` as .NET implements it (what the ASP.NET docs'
/// sample client sends): every byte as two upper-case hex digits, no separators. Written
/// out here rather than through the `hex` crate, so the tests do not share an encoder with
/// anything they check.
pub fn get_raw_cert_data_string(der: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
    der.iter().flat_map(|b| [DIGITS[usize::from(b >> 4)] as char, DIGITS[usize::from(b & 15)] as char]).collect()
}

/// Set to `1` (scripts/test and CI do) to make a missing external tool fail its test
/// instead of skipping it.
pub const REQUIRE_TOOLS: &str = "CERTGATE_REQUIRE_TERMINATORS";

/// Where an external program is installed: PATH, the sbin directories Debian's daemons
/// live in (often not on a user's PATH), and cargo's bin directory.
pub fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").map(|p| std::env::split_paths(&p).collect::<Vec<_>>()).unwrap_or_default();
    let cargo_bin = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .map(|h| h.join("bin"));
    let fixed = ["/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin"].map(PathBuf::from);
    path.into_iter().chain(fixed).chain(cargo_bin).map(|d| d.join(name)).find(|p| p.is_file())
}

/// `Some(path)` when `program` is installed. When it is not: `None` after telling the
/// terminal that `test` is skipped and why, or a panic when [`REQUIRE_TOOLS`] is `1`.
pub fn tool(test: &str, program: &str) -> Option<PathBuf> {
    let found = find_program(program);
    if found.is_none() {
        missing(test, &format!("`{program}` is not installed"));
    }
    found
}

/// Report a missing tool: skip (with a message the test harness does not capture), or
/// fail when [`REQUIRE_TOOLS`] is `1`.
pub fn missing(test: &str, what: &str) {
    let hint = "scripts/test installs it";
    if std::env::var(REQUIRE_TOOLS).is_ok_and(|v| v == "1") {
        panic!("{test}: {what} ({hint}), and {REQUIRE_TOOLS}=1 requires it");
    }
    // Written to the process's stderr directly: libtest captures only print!/eprint!.
    let _ =
        writeln!(std::io::stderr(), "SKIPPED {test}: {what} ({hint}; set {REQUIRE_TOOLS}=1 to make this a failure)");
}

/// Run each named `async fn name(target: &dyn Target)` once per target, as the tests
/// `name::native` and `name::wasm`:
///
/// ```ignore
/// async fn healthz(target: &dyn Target) { let r = get("/healthz").on(target).await; ... }
/// on_every_target!(healthz);
/// ```
#[macro_export]
macro_rules! on_every_target {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test]
                async fn native() {
                    super::$name(&$crate::Native).await
                }

                #[tokio::test]
                async fn wasm() {
                    super::$name(&$crate::Wasm).await
                }

                #[tokio::test]
                async fn wasm_p3() {
                    super::$name(&$crate::WasmP3).await
                }
            }
        )*
    };
}
