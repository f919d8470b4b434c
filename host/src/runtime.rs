//! Compiling `certgate.wasm` once and running one fresh instance per request, with the
//! draft `wasi:config/store` bound to a per-request map of configuration values.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use anyhow::{anyhow, Context, Result};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use wasmtime::component::{Component, HasSelf, Linker, ResourceTable};
use wasmtime::{Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::p2::bindings::http::types::Scheme;
use wasmtime_wasi_http::p2::bindings::ProxyPre;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpHooks, WasiHttpView};

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
    hooks: DenyOutbound,
    config: ConfigValues,
    lookups: Option<ProviderLookups>,
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

impl WasiHttpView for HostState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView { ctx: &mut self.http, table: &mut self.table, hooks: &mut self.hooks }
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

/// certgate makes no outgoing requests; any attempt is refused.
struct DenyOutbound;

impl WasiHttpHooks for DenyOutbound {
    fn send_request(
        &mut self,
        _request: http::Request<wasmtime_wasi_http::WasiBody>,
        _options: Option<wasmtime_wasi_http::RequestOptions>,
        _fut: Box<dyn std::future::Future<Output = Result<(), wasmtime_wasi_http::Error>> + Send>,
    ) -> Box<
        dyn std::future::Future<
                Output = Result<
                    (
                        http::Response<wasmtime_wasi_http::WasiBody>,
                        Box<dyn std::future::Future<Output = Result<(), wasmtime_wasi_http::Error>> + Send>,
                    ),
                    wasmtime_wasi_http::Error,
                >,
            > + Send,
    > {
        Box::new(async { Err(wasmtime_wasi_http::Error::HttpRequestDenied) })
    }
}

/// Where the guest's stderr goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stderr {
    Inherit,
    Capture,
}

/// A compiled component, ready to instantiate per request.
#[derive(Clone)]
pub struct Runtime {
    pre: ProxyPre<HostState>,
    component: Component,
    env: Arc<Vec<(String, String)>>,
    lookups: Option<ProviderLookups>,
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
        wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)?;
        config_store::add_to_linker::<HostState, HasSelf<HostState>>(&mut linker, |s| s)?;
        spin_vars::add_to_linker::<HostState, HasSelf<HostState>>(&mut linker, |s| s)?;
        let pre = ProxyPre::new(linker.instantiate_pre(&component)?)
            .map_err(anyhow::Error::from)
            .context("the component does not export wasi:http/incoming-handler")?;
        Ok(Runtime { pre, component, env: Arc::new(Vec::new()), lookups: None })
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

    pub fn engine(&self) -> &Engine {
        self.pre.engine()
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

    /// Run one request in a fresh instance. Returns the response as soon as the guest
    /// sets it, plus a pipe holding the guest's stderr when captured, and the task
    /// that finishes the guest's work.
    pub async fn handle<B>(
        &self,
        request: hyper::Request<B>,
        config: ConfigValues,
        stderr: Stderr,
    ) -> Result<(hyper::Response<HyperOutgoingBody>, Option<MemoryOutputPipe>, tokio::task::JoinHandle<Result<()>>)>
    where
        B: hyper::body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<wasmtime_wasi_http::Error>,
    {
        let mut wasi = WasiCtx::builder();
        wasi.envs(&self.env);
        let pipe = match stderr {
            Stderr::Inherit => {
                wasi.inherit_stderr();
                None
            }
            Stderr::Capture => {
                let pipe = MemoryOutputPipe::new(1 << 20);
                wasi.stderr(pipe.clone());
                Some(pipe)
            }
        };
        let state = HostState {
            wasi: wasi.build(),
            http: WasiHttpCtx::new(),
            table: ResourceTable::new(),
            hooks: DenyOutbound,
            config,
            lookups: self.lookups.clone(),
        };
        let mut store = Store::new(self.pre.engine(), state);
        let (sender, receiver) = tokio::sync::oneshot::channel();
        let req = store.data_mut().http().new_incoming_request(Scheme::Http, request)?;
        let out = store.data_mut().http().new_response_outparam(sender)?;
        let pre = self.pre.clone();
        let task = tokio::task::spawn(async move {
            let proxy = pre.instantiate_async(&mut store).await?;
            proxy.wasi_http_incoming_handler().call_handle(&mut store, req, out).await?;
            Ok(())
        });
        match receiver.await {
            Ok(Ok(response)) => Ok((response, pipe, task)),
            Ok(Err(e)) => Err(anyhow!("the guest returned an error code: {e:?}")),
            Err(_) => {
                let detail = match task.await {
                    Ok(Ok(())) => anyhow!("the guest never set a response"),
                    Ok(Err(e)) => anyhow::Error::from(e).context("the guest trapped before setting a response"),
                    Err(e) => anyhow!("the guest task failed: {e}"),
                };
                Err(detail)
            }
        }
    }

    /// Run one request and collect everything (body, the guest's stderr). A trap after
    /// the response was set is an error too.
    pub async fn call(&self, request: hyper::Request<Full<Bytes>>, config: ConfigValues) -> Result<Collected> {
        let request = request.map(|b| b.map_err(|never: std::convert::Infallible| -> hyper::Error { match never {} }));
        let (response, pipe, task) = self.handle(request, config, Stderr::Capture).await?;
        let (parts, body) = response.into_parts();
        let body = body.collect().await.map_err(|e| anyhow!("reading the response body: {e:?}"))?.to_bytes();
        task.await.map_err(|e| anyhow!("guest task: {e}"))??;
        let stderr = pipe.map(|p| String::from_utf8_lossy(&p.contents()).into_owned()).unwrap_or_default();
        Ok(Collected { status: parts.status.as_u16(), headers: parts.headers, body, stderr })
    }
}
