//! Compiling a component once and running it the way Spin 4.0.2 does, on the wasmtime
//! Spin 4.0.2 embeds (44): a WASI 0.2 component (`certgate.wasm`) in a fresh instance per
//! request, a WASI 0.3 one (`certgate-p3.wasm`, `wasi:http/handler@0.3.0-rc-2026-03-15`) in
//! instances reused under Spin's limits ([`InstanceReuse`]). The draft `wasi:config/store`
//! is bound to a map of configuration values, and `wasi:keyvalue/store@0.2.0-draft2` to the
//! runtime's [`KeyValueStores`] (crate::keyvalue).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{anyhow, Context, Result};
use bytes::Bytes;
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full};
use wasmtime::component::{Component, HasSelf, Linker, ResourceTable};
use wasmtime::{Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::handler::{HandlerState, Proxy, ProxyHandler, StoreBundle};
use wasmtime_wasi_http::p2::bindings::http::types::Scheme;
use wasmtime_wasi_http::p2::bindings::ProxyPre;
use wasmtime_wasi_http::p3::bindings::ServicePre;
use wasmtime_wasi_http::{p2, p3, WasiHttpCtx};

use crate::keyvalue::{KeyValueCtx, KeyValueStores};
use crate::outbound::AllowedHosts;

/// Host side of `wasi:config/store@0.2.0-draft-2024-09-27`, the version Spin 3 and 4
/// provide (the `wasmtime-wasi-config` crate implements a later, incompatible one).
mod draft_config {
    wasmtime::component::bindgen!({
        path: "../wit/deps/wasi-config",
        world: "wasi:config/imports",
    });
}
use draft_config::wasi::config::store as config_store;

/// Host side of `fermyon:spin/variables@2.0.0` (spin-sdk's `variables::get`), answering
/// from the same values, for components built on certgate the library.
mod spin_variables {
    wasmtime::component::bindgen!({
        path: "wit/spin-variables",
        world: "fermyon:spin/imports",
    });
}
use spin_variables::fermyon::spin::variables as spin_vars;

/// Configuration values the component reads, by component variable name.
pub type ConfigValues = Arc<BTreeMap<String, String>>;

/// How to run instances.
#[derive(Clone, Debug)]
pub struct RuntimeOptions {
    /// Use the pooling allocator (as Spin does) rather than on-demand allocation.
    pub pooling: bool,
    /// Concurrent instances the pool holds.
    pub max_instances: u32,
}

impl Default for RuntimeOptions {
    fn default() -> Self {
        RuntimeOptions { pooling: true, max_instances: 64 }
    }
}

/// Per-request store data.
pub struct HostState {
    wasi: WasiCtx,
    http: WasiHttpCtx,
    table: ResourceTable,
    hooks: Outbound,
    config: ConfigValues,
    lookups: Option<ProviderLookups>,
    kv: KeyValueCtx,
}

/// For each component variable, the application variables its template refers to: what
/// Spin's resolver looks up through its providers each time the guest reads it.
pub type ProviderLookups = Arc<BTreeMap<String, Vec<String>>>;

impl HostState {
    /// Spin resolves a component variable on every read: each `{{ name }}` in its template
    /// goes through the providers, and `spin up`'s environment provider (the one that
    /// answers `SPIN_VARIABLE_*` and, by falling through, every default) formats the key
    /// and reads the process environment inside `tokio::task::block_in_place`. In the
    /// Spin-like mode (`--spin-lookups`) this host does the same work per read.
    fn spin_lookups(&self, key: &str) {
        let Some(lookups) = &self.lookups else { return };
        for name in lookups.get(key).into_iter().flatten() {
            let env_key = format!("SPIN_VARIABLE_{}", name.to_ascii_uppercase());
            let _ = std::hint::black_box(tokio::task::block_in_place(|| std::env::var(&env_key)));
        }
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

impl p2::WasiHttpView for HostState {
    fn http(&mut self) -> p2::WasiHttpCtxView<'_> {
        p2::WasiHttpCtxView { ctx: &mut self.http, table: &mut self.table, hooks: &mut self.hooks }
    }
}

impl p3::WasiHttpView for HostState {
    fn http(&mut self) -> p3::WasiHttpCtxView<'_> {
        p3::WasiHttpCtxView { ctx: &mut self.http, table: &mut self.table, hooks: &mut self.hooks }
    }
}

impl config_store::Host for HostState {
    fn get(&mut self, key: String) -> Result<Option<String>, config_store::Error> {
        self.spin_lookups(&key);
        Ok(self.config.get(&key).cloned())
    }

    fn get_all(&mut self) -> Result<Vec<(String, String)>, config_store::Error> {
        for key in self.config.keys() {
            self.spin_lookups(key);
        }
        Ok(self.config.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
    }
}

impl spin_vars::Host for HostState {
    fn get(&mut self, name: String) -> Result<String, spin_vars::Error> {
        self.spin_lookups(&name);
        // As Spin: a name that is not a component variable is `undefined`.
        self.config.get(&name).cloned().ok_or_else(|| spin_vars::Error::Undefined(format!("no variable for {name:?}")))
    }
}

/// Outgoing requests, as Spin allows them: to the component's `allowed_outbound_hosts`
/// only (none by default); any other is refused with `HttpRequestDenied` and a line on the
/// host's stderr, as Spin does.
struct Outbound {
    allowed: Arc<AllowedHosts>,
}

impl p2::WasiHttpHooks for Outbound {
    fn send_request(
        &mut self,
        request: hyper::Request<p2::body::HyperOutgoingBody>,
        config: p2::types::OutgoingRequestConfig,
    ) -> p2::HttpResult<p2::types::HostFutureIncomingResponse> {
        let uri = request.uri();
        let scheme = if config.use_tls { "https" } else { "http" };
        let host = uri.host().unwrap_or_default().trim_start_matches('[').trim_end_matches(']');
        let bracketed = if host.contains(':') { format!("[{host}]") } else { host.to_string() };
        if !self.allowed.allows(scheme, &bracketed, uri.port_u16()) {
            let chaining = if host.ends_with(".spin.internal") {
                " (service chaining to another component needs Spin: certgate-host serves one component)"
            } else {
                ""
            };
            eprintln!(
                "certgate-host: refused an outgoing request to {scheme}://{}: not in allowed_outbound_hosts{chaining}",
                uri.authority().map(|a| a.as_str()).unwrap_or_default()
            );
            return Err(p2::bindings::http::types::ErrorCode::HttpRequestDenied.into());
        }
        Ok(p2::default_send_request(request, config))
    }
}

type P3Body = UnsyncBoxBody<Bytes, p3::bindings::http::types::ErrorCode>;
type P3Io = Box<dyn std::future::Future<Output = Result<(), p3::bindings::http::types::ErrorCode>> + Send>;

impl p3::WasiHttpHooks for Outbound {
    fn send_request(
        &mut self,
        _request: http::Request<P3Body>,
        _options: Option<p3::RequestOptions>,
        _fut: P3Io,
    ) -> Box<
        dyn std::future::Future<
                Output = Result<
                    (http::Response<P3Body>, P3Io),
                    wasmtime_wasi::TrappableError<p3::bindings::http::types::ErrorCode>,
                >,
            > + Send,
    > {
        Box::new(async { Err(p3::bindings::http::types::ErrorCode::HttpRequestDenied.into()) })
    }
}

/// Where the guest's stderr goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stderr {
    Inherit,
    Capture,
}

/// How long a WASI 0.3 instance lives: Spin 4.0.2's defaults (`crates/trigger-http`, the
/// `--max-instance-reuse-count`, `--max-instance-concurrent-reuse-count` and
/// `--idle-instance-timeout` flags of `spin up`), applied by wasmtime-wasi-http's
/// `ProxyHandler` as in Spin. A WASI 0.2 component always gets a fresh instance per request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InstanceReuse {
    /// Most requests one instance serves.
    pub max_requests: usize,
    /// Most requests one instance serves at once.
    pub max_concurrent: usize,
    /// An instance with nothing to do is dropped after this long.
    pub idle: Duration,
}

impl Default for InstanceReuse {
    fn default() -> Self {
        InstanceReuse { max_requests: 128, max_concurrent: 16, idle: Duration::from_secs(1) }
    }
}

/// The body of a response from either kind of component.
pub type ResponseBody = UnsyncBoxBody<Bytes, anyhow::Error>;

/// Resolves when the guest's work for a request is done (an error if it trapped).
pub type Finished = std::pin::Pin<Box<dyn std::future::Future<Output = Result<()>> + Send>>;

/// What [`Runtime::handle`] gives: the response as soon as the guest sets it, the guest's
/// stderr for the request when captured, and what resolves when its work is done.
pub type Handled = (hyper::Response<ResponseBody>, Option<CapturedStderr>, Finished);

/// The guest's stderr for one request, when captured.
pub enum CapturedStderr {
    /// A fresh instance's own stderr.
    Instance(MemoryOutputPipe),
    /// A reused instance's, from where this request's writes begin.
    Shared { log: SharedLog, from: usize },
}

impl CapturedStderr {
    /// What the guest wrote from the start of the request until now.
    pub fn text(&self) -> String {
        match self {
            CapturedStderr::Instance(pipe) => String::from_utf8_lossy(&pipe.contents()).into_owned(),
            CapturedStderr::Shared { log, from } => log.text_from(*from),
        }
    }
}

/// The captured stderr of a set of reused instances: appended to, its length known without
/// copying it (a request reads only what it wrote). Holds at most [`P3_CAPTURE_LIMIT`]
/// bytes; the set of instances is replaced before that.
#[derive(Clone, Default)]
pub struct SharedLog(Arc<Mutex<Vec<u8>>>);

impl SharedLog {
    /// Everything in it, as text.
    pub fn text(&self) -> String {
        self.text_from(0)
    }

    /// Add `text` at the end.
    pub fn append(&self, text: &str) {
        if let Ok(mut log) = self.0.lock() {
            log.extend_from_slice(text.as_bytes());
        }
    }

    fn len(&self) -> usize {
        self.0.lock().map_or(0, |log| log.len())
    }

    fn text_from(&self, from: usize) -> String {
        self.0.lock().map_or_else(
            |_| String::new(),
            |log| String::from_utf8_lossy(log.get(from..).unwrap_or_default()).into_owned(),
        )
    }
}

impl wasmtime_wasi::cli::IsTerminal for SharedLog {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl wasmtime_wasi::cli::StdoutStream for SharedLog {
    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

impl tokio::io::AsyncWrite for SharedLog {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        if let Ok(mut log) = self.0.lock() {
            // Past the limit the bytes are dropped (the set is replaced before it is reached).
            if log.len() + buf.len() <= 2 * P3_CAPTURE_LIMIT {
                log.extend_from_slice(buf);
            }
        }
        std::task::Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
}

/// Which `wasi:http` export the component has.
#[derive(Clone)]
enum Export {
    /// `wasi:http/incoming-handler@0.2`: a fresh instance per request.
    P2(ProxyPre<HostState>),
    /// `wasi:http/handler@0.3.0-rc-2026-03-15`: reused instances.
    P3(ServicePre<HostState>),
}

/// A compiled component, ready to instantiate per request.
#[derive(Clone)]
pub struct Runtime {
    export: Export,
    component: Component,
    env: Arc<Vec<(String, String)>>,
    lookups: Option<ProviderLookups>,
    allowed: Arc<AllowedHosts>,
    /// The key-value stores every request shares.
    kv: Arc<KeyValueStores>,
    reuse: InstanceReuse,
    /// WASI 0.3: the instances serving each configuration (most recent last).
    p3: Arc<Mutex<Vec<P3Instances>>>,
}

/// What serves one configuration of a WASI 0.3 component: Spin's reuse policy over one
/// pre-instantiated component.
#[derive(Clone)]
struct P3Instances {
    config: ConfigValues,
    stderr: Stderr,
    /// Shared by every instance of this entry when captured.
    pipe: Option<SharedLog>,
    handler: ProxyHandler<P3State>,
}

/// How many configurations keep their WASI 0.3 instances at once (tests send many).
const P3_CONFIGURATIONS: usize = 8;

/// A captured stderr starts a new set of instances when it holds this much.
const P3_CAPTURE_LIMIT: usize = 4 << 20;

struct P3State {
    engine: Engine,
    env: Arc<Vec<(String, String)>>,
    config: ConfigValues,
    lookups: Option<ProviderLookups>,
    allowed: Arc<AllowedHosts>,
    kv: Arc<KeyValueStores>,
    pipe: Option<SharedLog>,
    reuse: InstanceReuse,
    instances: std::sync::atomic::AtomicU64,
}

impl HandlerState for P3State {
    type StoreData = HostState;

    fn new_store(&self, _req_id: Option<u64>) -> wasmtime::Result<StoreBundle<HostState>> {
        self.instances.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let stderr: Option<Box<dyn wasmtime_wasi::cli::StdoutStream + Sync>> =
            self.pipe.clone().map(|p| Box::new(p) as Box<dyn wasmtime_wasi::cli::StdoutStream + Sync>);
        let state = HostState::new(
            &self.env,
            stderr,
            self.config.clone(),
            self.lookups.clone(),
            self.allowed.clone(),
            self.kv.clone(),
        );
        Ok(StoreBundle { store: Store::new(&self.engine, state), write_profile: Box::new(|_| ()) })
    }

    fn request_timeout(&self) -> Duration {
        Duration::MAX
    }

    fn idle_instance_timeout(&self) -> Duration {
        self.reuse.idle
    }

    fn max_instance_reuse_count(&self) -> usize {
        self.reuse.max_requests
    }

    fn max_instance_concurrent_reuse_count(&self) -> usize {
        self.reuse.max_concurrent
    }

    fn handle_worker_error(&self, error: wasmtime::Error) {
        eprintln!("certgate-host: a WASI 0.3 instance failed: {error:?}");
    }
}

impl HostState {
    fn new(
        env: &[(String, String)],
        stderr: Option<Box<dyn wasmtime_wasi::cli::StdoutStream + Sync>>,
        config: ConfigValues,
        lookups: Option<ProviderLookups>,
        allowed: Arc<AllowedHosts>,
        kv: Arc<KeyValueStores>,
    ) -> Self {
        let mut wasi = WasiCtx::builder();
        wasi.envs(env);
        match stderr {
            Some(stream) => {
                wasi.stderr(stream);
            }
            None => {
                wasi.inherit_stderr();
            }
        }
        HostState {
            wasi: wasi.build(),
            http: WasiHttpCtx::new(),
            table: ResourceTable::new(),
            hooks: Outbound { allowed },
            config,
            lookups,
            kv: KeyValueCtx::new(kv),
        }
    }
}

/// A response body that says when it is dropped (hyper has sent it, or given up): a WASI
/// 0.3 guest writes its body while its instance's event loop runs, so the request's task
/// stays in that loop until then, as in Spin.
struct NotifyOnDrop {
    body: P3Body,
    _done: tokio::sync::oneshot::Sender<()>,
}

impl hyper::body::Body for NotifyOnDrop {
    type Data = Bytes;
    type Error = p3::bindings::http::types::ErrorCode;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Bytes>, Self::Error>>> {
        std::pin::Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.body.size_hint()
    }
}

/// A fully collected response (tests, benchmarks).
#[derive(Debug)]
pub struct Collected {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: Bytes,
    /// The guest's stderr when captured.
    pub stderr: String,
}

impl Collected {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The body as JSON.
    pub fn json(&self) -> Result<serde_json::Value> {
        Ok(serde_json::from_slice(&self.body)?)
    }

    /// The guest's stderr lines parsed as JSON (lines that are not JSON are skipped).
    pub fn log_lines(&self) -> Vec<serde_json::Value> {
        self.stderr.lines().filter_map(|l| serde_json::from_str(l).ok()).collect()
    }
}

impl Runtime {
    /// Compile a component file.
    pub fn new(path: &Path, options: &RuntimeOptions) -> Result<Self> {
        let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        Self::from_bytes(&bytes, options)
    }

    pub fn from_bytes(bytes: &[u8], options: &RuntimeOptions) -> Result<Self> {
        let engine = Self::new_engine(options)?;
        let component =
            Component::from_binary(&engine, bytes).map_err(anyhow::Error::from).context("compiling the component")?;
        Self::link(&engine, component)
    }

    /// Compile a component file, or load the native code a previous call compiled from
    /// the same bytes with the same wasmtime and settings: `<name>.<hash>.cwasm` beside it.
    /// Compiling certgate.wasm takes seconds (tens in a debug build of this host);
    /// loading takes milliseconds. Returns whether the cache was used.
    pub fn new_cached(path: &Path, options: &RuntimeOptions) -> Result<(Self, bool)> {
        use sha2::{Digest, Sha256};
        use std::hash::{Hash, Hasher};

        let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        let engine = Self::new_engine(options)?;
        let mut compat = std::collections::hash_map::DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut compat);
        let mut digest = Sha256::new();
        digest.update(compat.finish().to_le_bytes());
        digest.update(&bytes);
        let key = hex::encode(&digest.finalize()[..8]);
        let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        let cached = path.with_file_name(format!("{stem}.{key}.cwasm"));
        if cached.is_file() {
            // SAFETY: the file is native code that `serialize` below wrote for these exact
            // bytes, engine settings and wasmtime version (the key covers all three) into
            // the build's own target directory; wasmtime checks the version and settings
            // again and refuses a mismatch, and then we compile afresh.
            if let Ok(component) = unsafe { Component::deserialize_file(&engine, &cached) } {
                return Ok((Self::link(&engine, component)?, true));
            }
        }
        let component =
            Component::from_binary(&engine, &bytes).map_err(anyhow::Error::from).context("compiling the component")?;
        // The cache is an optimisation: failing to write it changes nothing else.
        if let Ok(native) = component.serialize() {
            if let Some(dir) = cached.parent() {
                let prefix = format!("{stem}.");
                for old in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                    let name = old.file_name().to_string_lossy().into_owned();
                    if name.starts_with(&prefix) && name.ends_with(".cwasm") {
                        let _ = std::fs::remove_file(old.path());
                    }
                }
            }
            let tmp = cached.with_extension("cwasm.tmp");
            if std::fs::write(&tmp, native).is_ok() {
                let _ = std::fs::rename(&tmp, &cached);
            }
        }
        Ok((Self::link(&engine, component)?, false))
    }

    fn new_engine(options: &RuntimeOptions) -> Result<Engine> {
        let mut config = wasmtime::Config::new();
        // As Spin 4 (`crates/core`): the component model's async ABI, which WASI 0.3 needs.
        config.wasm_component_model_async(true);
        if options.pooling {
            let mut pool = PoolingAllocationConfig::default();
            pool.total_component_instances(options.max_instances)
                .total_core_instances(options.max_instances * 4)
                .total_memories(options.max_instances * 2)
                .total_tables(options.max_instances * 4)
                .max_memory_size(256 << 20)
                // Keep the pages a request touches resident between instances instead of
                // zeroing them with madvise and faulting them back in on every request.
                .linear_memory_keep_resident(2 << 20)
                .table_keep_resident(1 << 16);
            config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        }
        // `CERTGATE_WASM_PROFILER=perfmap` writes /tmp/perf-<pid>.map so `perf record` names
        // the guest's compiled functions (as `wasmtime serve --profile=perfmap`).
        if std::env::var("CERTGATE_WASM_PROFILER").as_deref() == Ok("perfmap") {
            config.profiler(wasmtime::ProfilingStrategy::PerfMap);
        }
        Ok(Engine::new(&config)?)
    }

    fn link(engine: &Engine, component: Component) -> Result<Self> {
        let mut linker: Linker<HostState> = Linker::new(engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
        p2::add_only_http_to_linker_async(&mut linker)?;
        wasmtime_wasi::p3::add_to_linker(&mut linker)?;
        p3::add_to_linker(&mut linker)?;
        config_store::add_to_linker::<HostState, HasSelf<HostState>>(&mut linker, |s| s)?;
        spin_vars::add_to_linker::<HostState, HasSelf<HostState>>(&mut linker, |s| s)?;
        crate::keyvalue::add_to_linker(&mut linker, |s| &mut s.kv)?;
        let pre = linker.instantiate_pre(&component)?;
        // As Spin's trigger: a WASI 0.3 export if there is one, else WASI 0.2.
        let export = match ServicePre::new(pre.clone()) {
            Ok(p3) => Export::P3(p3),
            Err(_) => Export::P2(ProxyPre::new(pre).map_err(anyhow::Error::from).context(
                "the component exports neither wasi:http/incoming-handler@0.2 nor \
                 wasi:http/handler@0.3.0-rc-2026-03-15",
            )?),
        };
        Ok(Runtime {
            export,
            component,
            env: Arc::new(Vec::new()),
            lookups: None,
            allowed: Arc::new(AllowedHosts::default()),
            kv: Arc::new(KeyValueStores::default()),
            reuse: InstanceReuse::default(),
            p3: Arc::new(Mutex::new(Vec::new())),
        })
    }

    /// Give every instance these environment variables (as `wasmtime serve --env` does).
    pub fn with_env(mut self, env: Vec<(String, String)>) -> Self {
        self.env = Arc::new(env);
        self
    }

    /// Make every variable read cost what it costs under `spin up` with its environment
    /// provider (see [`HostState`]'s `spin_lookups`); the values stay those resolved at start.
    /// Needs tokio's multi-threaded runtime, as Spin's (`block_in_place` panics elsewhere).
    pub fn with_spin_lookups(mut self, lookups: ProviderLookups) -> Self {
        self.lookups = Some(lookups);
        self
    }

    /// Let the component make outgoing requests to these hosts (Spin's
    /// `allowed_outbound_hosts`); by default it may make none.
    pub fn with_allowed_outbound_hosts(mut self, allowed: AllowedHosts) -> Self {
        self.allowed = Arc::new(allowed);
        self
    }

    /// Back `wasi:keyvalue/store` with these stores, shared by every request (Spin's
    /// `key_value_stores` and runtime config; see [`KeyValueStores::for_app`]). By default
    /// the component may open no store: every `open` answers `access-denied`. The result
    /// starts with no WASI 0.3 instances of its own, so none of them keeps other stores.
    pub fn with_key_value(mut self, stores: KeyValueStores) -> Self {
        self.kv = Arc::new(stores);
        self.p3 = Arc::new(Mutex::new(Vec::new()));
        self
    }

    /// Reuse WASI 0.3 instances under these limits instead of Spin 4.0.2's defaults. The
    /// result starts with no instances of its own (and counts only its own).
    pub fn with_instance_reuse(mut self, reuse: InstanceReuse) -> Self {
        self.reuse = reuse;
        self.p3 = Arc::new(Mutex::new(Vec::new()));
        self
    }

    /// Whether the component is a WASI 0.3 one (served on reused instances).
    pub fn is_wasi_0_3(&self) -> bool {
        matches!(self.export, Export::P3(_))
    }

    /// How many WASI 0.3 instances have been created so far (0 for a WASI 0.2 component).
    pub fn instances_created(&self) -> u64 {
        let sets = self.p3.lock().map(|sets| sets.clone()).unwrap_or_default();
        sets.iter().map(|set| set.handler.state().instances.load(std::sync::atomic::Ordering::Relaxed)).sum()
    }

    pub fn engine(&self) -> &Engine {
        self.component.engine()
    }

    /// The component's import names (e.g. `wasi:config/store@0.2.0-draft-2024-09-27`).
    pub fn imports(&self) -> Vec<String> {
        let ty = self.component.component_type();
        ty.imports(self.engine()).map(|(name, _)| name.to_string()).collect()
    }

    /// The component's export names.
    pub fn exports(&self) -> Vec<String> {
        let ty = self.component.component_type();
        ty.exports(self.engine()).map(|(name, _)| name.to_string()).collect()
    }

    /// Run one request: in a fresh instance (WASI 0.2), or on an instance of the
    /// configuration's reused ones (WASI 0.3). Returns the response as soon as the guest
    /// sets it, the guest's stderr for it when captured, and what resolves when the guest's
    /// work for it is done.
    ///
    /// WASI 0.3 instances are tasks of the tokio runtime that started them and are reused
    /// by later requests to this `Runtime` (and its clones): call it from one tokio runtime
    /// that outlives it. A request handed to an instance whose runtime has shut down is
    /// never answered.
    pub async fn handle<B>(&self, request: hyper::Request<B>, config: ConfigValues, stderr: Stderr) -> Result<Handled>
    where
        B: hyper::body::Body<Data = Bytes, Error = hyper::Error> + Send + 'static,
    {
        match &self.export {
            Export::P2(pre) => self.handle_p2(pre, request, config, stderr).await,
            Export::P3(pre) => self.handle_p3(pre, request, config, stderr).await,
        }
    }

    async fn handle_p2<B>(
        &self,
        pre: &ProxyPre<HostState>,
        request: hyper::Request<B>,
        config: ConfigValues,
        stderr: Stderr,
    ) -> Result<Handled>
    where
        B: hyper::body::Body<Data = Bytes, Error = hyper::Error> + Send + 'static,
    {
        use p2::WasiHttpView as _;
        let pipe = (stderr == Stderr::Capture).then(|| MemoryOutputPipe::new(1 << 20));
        let stream: Option<Box<dyn wasmtime_wasi::cli::StdoutStream + Sync>> =
            pipe.clone().map(|p| Box::new(p) as Box<dyn wasmtime_wasi::cli::StdoutStream + Sync>);
        let state =
            HostState::new(&self.env, stream, config, self.lookups.clone(), self.allowed.clone(), self.kv.clone());
        let mut store = Store::new(pre.engine(), state);
        let (sender, receiver) = tokio::sync::oneshot::channel();
        let request = request.map(|body| body.map_err(p2::hyper_request_error));
        let req = store.data_mut().http().new_incoming_request(Scheme::Http, request)?;
        let out = store.data_mut().http().new_response_outparam(sender)?;
        let pre = pre.clone();
        let task = tokio::task::spawn(async move {
            let proxy = pre.instantiate_async(&mut store).await?;
            proxy.wasi_http_incoming_handler().call_handle(&mut store, req, out).await?;
            Ok::<_, anyhow::Error>(())
        });
        let captured = pipe.map(CapturedStderr::Instance);
        match receiver.await {
            Ok(Ok(response)) => {
                let finished: Finished = Box::pin(async move { task.await.map_err(|e| anyhow!("guest task: {e}"))? });
                Ok((response.map(|b| b.map_err(|e| anyhow!("{e:?}")).boxed_unsync()), captured, finished))
            }
            Ok(Err(e)) => Err(anyhow!("the guest returned an error code: {e:?}")),
            Err(_) => {
                let detail = match task.await {
                    Ok(Ok(())) => anyhow!("the guest never set a response"),
                    Ok(Err(e)) => e.context("the guest trapped before setting a response"),
                    Err(e) => anyhow!("the guest task failed: {e}"),
                };
                Err(detail)
            }
        }
    }

    /// The reused instances for `config` (a new set when none serves it yet).
    fn p3_instances(&self, pre: &ServicePre<HostState>, config: &ConfigValues, stderr: Stderr) -> Result<P3Instances> {
        let mut sets = self.p3.lock().map_err(|_| anyhow!("instance sets poisoned"))?;
        let full = |set: &P3Instances| set.pipe.as_ref().is_some_and(|p| p.len() > P3_CAPTURE_LIMIT);
        sets.retain(|set| !full(set));
        if let Some(i) = sets
            .iter()
            .position(|set| set.stderr == stderr && (Arc::ptr_eq(&set.config, config) || set.config == *config))
        {
            let set = sets.remove(i);
            sets.push(set.clone());
            return Ok(set);
        }
        let pipe = (stderr == Stderr::Capture).then(SharedLog::default);
        let state = P3State {
            engine: self.engine().clone(),
            env: self.env.clone(),
            config: config.clone(),
            lookups: self.lookups.clone(),
            allowed: self.allowed.clone(),
            kv: self.kv.clone(),
            pipe: pipe.clone(),
            reuse: self.reuse,
            instances: std::sync::atomic::AtomicU64::new(0),
        };
        let handler = ProxyHandler::new(state, wasmtime_wasi_http::handler::ProxyPre::P3(pre.clone()));
        let set = P3Instances { config: config.clone(), stderr, pipe, handler };
        if sets.len() >= P3_CONFIGURATIONS {
            sets.remove(0);
        }
        sets.push(set.clone());
        Ok(set)
    }

    async fn handle_p3<B>(
        &self,
        pre: &ServicePre<HostState>,
        request: hyper::Request<B>,
        config: ConfigValues,
        stderr: Stderr,
    ) -> Result<Handled>
    where
        B: hyper::body::Body<Data = Bytes, Error = hyper::Error> + Send + 'static,
    {
        let set = self.p3_instances(pre, &config, stderr)?;
        let captured = set.pipe.clone().map(|log| {
            let from = log.len();
            CapturedStderr::Shared { log, from }
        });
        let request = with_scheme_and_authority(request)
            .map(|body| body.map_err(p3::bindings::http::types::ErrorCode::from_hyper_request_error));
        let (response_tx, response_rx) = tokio::sync::oneshot::channel::<Result<hyper::Response<ResponseBody>>>();
        let (finished_tx, finished_rx) = tokio::sync::oneshot::channel::<()>();
        set.handler.spawn(
            None,
            Box::new(move |accessor, proxy| {
                Box::pin(async move {
                    let Proxy::P3(service) = proxy else {
                        let _ = response_tx.send(Err(anyhow!("not a WASI 0.3 instance")));
                        return;
                    };
                    let (request, io) = p3::Request::from_http(request);
                    let response = match service.handle(accessor, request).await {
                        Ok(Ok(response)) => accessor
                            .with(|mut access| response.into_http(&mut access, io))
                            .map_err(|e| anyhow!("{e:?}").context("the guest's response is not valid")),
                        Ok(Err(code)) => Err(anyhow!("the guest returned an error code: {code:?}")),
                        Err(trap) => Err(anyhow!("{trap:?}").context("the guest trapped before setting a response")),
                    };
                    match response {
                        Ok(response) => {
                            let (done_tx, done_rx) = tokio::sync::oneshot::channel::<()>();
                            let response = response.map(|body| {
                                NotifyOnDrop { body, _done: done_tx }.map_err(|e| anyhow!("{e:?}")).boxed_unsync()
                            });
                            if response_tx.send(Ok(response)).is_ok() {
                                let _ = done_rx.await;
                            }
                        }
                        Err(e) => {
                            let _ = response_tx.send(Err(e));
                        }
                    }
                    let _ = finished_tx.send(());
                })
            }),
        );
        let response =
            response_rx.await.map_err(|_| anyhow!("the instance stopped before the guest set a response"))??;
        let finished: Finished = Box::pin(async move {
            finished_rx.await.map_err(|_| anyhow!("the instance stopped before the guest finished the request"))
        });
        Ok((response, captured, finished))
    }

    /// Run one request and collect everything (body, the guest's stderr). A trap after
    /// the response was set is an error too.
    pub async fn call(&self, request: hyper::Request<Full<Bytes>>, config: ConfigValues) -> Result<Collected> {
        let request = request.map(|b| b.map_err(|never: std::convert::Infallible| -> hyper::Error { match never {} }));
        let (response, captured, finished) = self.handle(request, config, Stderr::Capture).await?;
        let (parts, body) = response.into_parts();
        let body = body.collect().await.map_err(|e| anyhow!("reading the response body: {e:?}"))?.to_bytes();
        finished.await?;
        let stderr = captured.map(|c| c.text()).unwrap_or_default();
        Ok(Collected { status: parts.status.as_u16(), headers: parts.headers, body, stderr })
    }
}

/// A request as Spin hands it to a WASI 0.3 guest: the URI with a scheme and authority
/// (the `Host` header's, else `localhost`), which hyper's server leaves out.
fn with_scheme_and_authority<B>(request: hyper::Request<B>) -> hyper::Request<B> {
    let (mut parts, body) = request.into_parts();
    if parts.uri.scheme().is_none() {
        let authority = parts
            .headers
            .get(http::header::HOST)
            .and_then(|h| h.to_str().ok())
            .and_then(|h| h.parse::<http::uri::Authority>().ok())
            .unwrap_or_else(|| http::uri::Authority::from_static("localhost"));
        let mut uri = http::uri::Parts::from(parts.uri.clone());
        uri.scheme = Some(http::uri::Scheme::HTTP);
        uri.authority = Some(authority);
        if uri.path_and_query.is_none() {
            uri.path_and_query = Some(http::uri::PathAndQuery::from_static("/"));
        }
        if let Ok(full) = http::Uri::from_parts(uri) {
            parts.uri = full;
        }
    }
    hyper::Request::from_parts(parts, body)
}
