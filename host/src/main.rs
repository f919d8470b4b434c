//! `certgate-host`: serve certgate.wasm on 127.0.0.1:3000 like `spin up`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use certgate_host::{
    build, devpki, keyvalue, server, KeyValueStores, Runtime, RuntimeConfig, RuntimeOptions, Variables,
};
use clap::{ArgAction, Parser, Subcommand};

/// How long the first wasmtime compile of certgate.wasm takes in the debug host on a
/// 2-core machine (measured 17 s idle and 35 s under load).
const COMPILE_ESTIMATE: &str = "about 20-40 s";

/// Serve certgate.wasm locally the way `spin up` does.
#[derive(Debug, Parser)]
#[command(name = "certgate-host", args_override_self = true, args_conflicts_with_subcommands = true)]
struct Args {
    #[command(subcommand)]
    command: Option<Command>,
    /// Address to listen on
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:3000")]
    listen: SocketAddr,
    /// spin.toml to read variables from
    #[arg(
        long = "from",
        short = 'f',
        value_name = "PATH",
        default_value_os_t = build::workspace_root().join("spin.toml")
    )]
    manifest: PathBuf,
    /// Set an application variable (repeatable); SPIN_VARIABLE_<NAME> environment variables
    /// work too, as with Spin
    #[arg(long = "variable", value_name = "NAME=VALUE", value_parser = name_value)]
    variables: Vec<(String, String)>,
    /// Serve this .wasm instead of building certgate.wasm (a WASI 0.3 component is served
    /// on reused instances, as Spin 4 serves it)
    #[arg(long, value_name = "PATH")]
    component: Option<PathBuf>,
    /// Build and serve certgate-p3.wasm (WASI 0.3, for Spin 4) instead of certgate.wasm:
    /// instances reused as Spin 4.0.2 reuses them (128 requests each, 16 at once, dropped
    /// after 1 s idle)
    #[arg(long, conflicts_with = "component")]
    p3: bool,
    /// Do not create a development certificate when no trust source is set (the service
    /// then reports configuration_error, as the component does)
    #[arg(long = "no-dev-certificate", action = ArgAction::SetFalse)]
    dev_certificate: bool,
    /// Benchmark mode: make every variable read cost what it costs under `spin up`, where
    /// Spin's environment provider resolves each declared variable on each read inside
    /// `tokio::task::block_in_place` (docs/reports/spin-upstream.md)
    #[arg(long = "spin-lookups")]
    spin_lookups: bool,
    /// Spin runtime config file (as `spin up --runtime-config-file`): its
    /// `[key_value_store.<label>]` tables put a key-value label on SQLite (`type = "spin"`,
    /// `path` relative to the file) or Redis (`type = "redis"`, `url`); without one, the
    /// label `default` is `.spin/sqlite_key_value.db` beside the manifest
    #[arg(long = "runtime-config-file", value_name = "PATH")]
    runtime_config_file: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print a spin.toml that declares only the named variables (on Spin every declared
    /// variable costs a provider lookup on each request; an undeclared one reads as unset)
    Manifest {
        /// Variables to declare, e.g. `allowed_thumbprints platform` (docs/configuration.md)
        #[arg(required = true, value_name = "VARIABLE")]
        variables: Vec<String>,
        /// The component's `source`
        #[arg(long, default_value = "target/wasm32-wasip2/release/certgate.wasm")]
        source: String,
    },
}

fn name_value(v: &str) -> Result<(String, String), String> {
    let (name, value) = v.split_once('=').ok_or("takes NAME=VALUE")?;
    Ok((name.to_string(), value.to_string()))
}

/// The command line; a usage error exits 1 (as every other error here), `--help` exits 0.
fn parse_args() -> Args {
    Args::try_parse().unwrap_or_else(|e| {
        let _ = e.print();
        std::process::exit(if e.use_stderr() { 1 } else { 0 })
    })
}

/// The component whose variables to serve: `certgate`, or the only one a manifest has
/// (so `--from examples/inventory/spin.toml` serves that example's).
fn component_id(manifest: &std::path::Path) -> Result<String> {
    let text = std::fs::read_to_string(manifest).with_context(|| format!("reading {}", manifest.display()))?;
    let doc: toml::Table = text.parse().with_context(|| format!("{} is not valid TOML", manifest.display()))?;
    let ids: Vec<&String> =
        doc.get("component").and_then(|c| c.as_table()).map(|t| t.keys().collect()).unwrap_or_default();
    Ok(match ids.as_slice() {
        [only] => only.to_string(),
        _ => "certgate".to_string(),
    })
}

/// The key-value stores of the served component, as `spin up` sets them up: the labels
/// its `key_value_stores` lists, the default store beside the manifest, and what the runtime
/// config file (if any) configures. Says on stdout what backs each label; a label with no
/// store answers `no-such-store` here (`spin up` refuses to start with one).
fn key_value_stores(args: &Args, component_id: &str) -> Result<KeyValueStores> {
    let runtime_config = args.runtime_config_file.as_deref().map(RuntimeConfig::from_file).transpose()?;
    let text =
        std::fs::read_to_string(&args.manifest).with_context(|| format!("reading {}", args.manifest.display()))?;
    let labels = keyvalue::manifest_key_value_stores(&text, component_id)
        .with_context(|| format!("key_value_stores of [component.{component_id}] in {}", args.manifest.display()))?;
    let stores = KeyValueStores::for_app(&args.manifest, runtime_config.as_ref(), &labels)?;
    for label in stores.allowed() {
        match stores.store(label) {
            Some(store) => println!("Key-value store {label:?}: {store}"),
            None => eprintln!(
                "certgate-host: key_value_stores lists {label:?}, which no runtime config file backs: opening it \
                 answers no-such-store (spin up refuses to start)"
            ),
        }
    }
    Ok(stores)
}

#[tokio::main]
async fn main() {
    if let Err(e) = run().await {
        eprintln!("Error: {e:#}");
        std::process::exit(1);
    }
}

async fn run() -> Result<()> {
    let args = parse_args();
    if let Some(Command::Manifest { variables, source }) = &args.command {
        print!("{}", certgate_host::variables::manifest_declaring(variables, source)?);
        return Ok(());
    }
    let component_id = component_id(&args.manifest)?;
    let key_value = key_value_stores(&args, &component_id)?;
    let mut variables = Variables::from_manifest(&args.manifest, &component_id)?;
    variables.provide_from_env(std::env::vars());
    for (name, value) in &args.variables {
        variables.provide(name, value)?;
    }

    let mut curl_hint = None;
    // No trust source at all (spin.toml's defaults are empty, which means unset).
    let unset = |name: &str| variables.value(name).is_none_or(|v| v.trim().is_empty());
    let no_trust_source = ["allowed_thumbprints", "allowed_key_pins", "pins", "trust_anchors"].into_iter().all(unset);
    if no_trust_source && args.dev_certificate {
        let dir = args.manifest.parent().map(|p| p.join(".certgate-dev")).unwrap_or_else(|| ".certgate-dev".into());
        let dev = devpki::load_or_create(&dir)?;
        variables.provide("allowed_thumbprints", &dev.sha256_hex())?;
        let header = variables
            .value("certificate_header")
            .filter(|h| !h.is_empty())
            .unwrap_or(certgate::internals::DEFAULT_HEADER);
        eprintln!("################################################################################");
        eprintln!("# DEVELOPMENT CERTIFICATE IN USE: allowed_thumbprints was not set, so this local");
        eprintln!(
            "# host {} a development client certificate in {}",
            if dev.created { "created" } else { "reuses" },
            dir.display()
        );
        eprintln!("# and allows ONLY that one (sha256 {}).", dev.sha256_hex());
        eprintln!("# Set SPIN_VARIABLE_ALLOWED_THUMBPRINTS (or --variable) for anything real.");
        eprintln!("################################################################################");
        curl_hint = Some((header.to_string(), dev.client_pem()));
    }
    let missing = variables.missing_required();
    if !missing.is_empty() {
        bail!("required variable(s) not set: {} (use SPIN_VARIABLE_<NAME> or --variable)", missing.join(", "));
    }
    let config = Arc::new(variables.resolve()?);

    let component = match &args.component {
        Some(p) => p.clone(),
        None if args.p3 => build::build_wasm("certgate-p3", "certgate_p3.wasm")?,
        None => build::build_component()?,
    };
    let listener = server::bind(args.listen).await.with_context(|| format!("binding {}", args.listen))?;
    let addr = listener.local_addr()?;
    let started = std::time::Instant::now();
    eprintln!(
        "certgate-host: loading {} (the first time, wasmtime compiles it to native code: {COMPILE_ESTIMATE} in \
         this debug build; later runs reuse the result, cached beside it)",
        component.display()
    );
    let (mut runtime, cached) = Runtime::new_cached(&component, &RuntimeOptions::default())?;
    if args.spin_lookups {
        runtime = runtime.with_spin_lookups(Arc::new(variables.provider_lookups()));
    }
    let manifest_text =
        std::fs::read_to_string(&args.manifest).with_context(|| format!("reading {}", args.manifest.display()))?;
    let allowed = certgate_host::AllowedHosts::from_manifest_text(&manifest_text, &component_id)
        .with_context(|| format!("allowed_outbound_hosts of [component.{component_id}]"))?;
    if allowed.wants_service_chaining() {
        eprintln!(
            "certgate-host: allowed_outbound_hosts names Spin's service chaining (self, *.spin.internal): this host \
             serves one component, so those requests are refused; use spin up, or an upstream URL"
        );
    }
    runtime = runtime.with_allowed_outbound_hosts(allowed).with_key_value(key_value);
    let how = if cached { "loaded from cache" } else { "compiled" };
    let reuse = if runtime.is_wasi_0_3() {
        let r = certgate_host::InstanceReuse::default();
        format!(
            "WASI 0.3: up to {} requests an instance, {} at once, dropped after {} ms idle",
            r.max_requests,
            r.max_concurrent,
            r.idle.as_millis()
        )
    } else {
        "WASI 0.2: a fresh instance per request".to_string()
    };
    println!("Serving http://{addr} (component {how} in {} ms; {reuse})", started.elapsed().as_millis());
    println!("Available Routes:");
    println!("  certgate: http://{addr} (wildcard)");
    if let Some(hint) = curl_hint {
        println!("Try it with the development certificate:");
        let (header, pem) = hint;
        println!(
            "  curl -s -H \"{header}: $(grep -v -- ----- {} | tr -d '\\n')\" http://{addr}/api/values",
            pem.display()
        );
    }
    tokio::select! {
        r = server::serve(listener, runtime, config) => r,
        _ = tokio::signal::ctrl_c() => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Args, clap::Error> {
        Args::try_parse_from(std::iter::once("certgate-host").chain(args.iter().copied()))
    }

    #[test]
    fn no_arguments_serve_the_repository_on_port_3000() {
        let args = parse(&[]).unwrap();
        assert_eq!(args.listen, "127.0.0.1:3000".parse::<SocketAddr>().unwrap());
        assert_eq!(args.manifest, build::workspace_root().join("spin.toml"));
        assert!(args.variables.is_empty() && args.component.is_none() && args.dev_certificate);
    }

    #[test]
    fn every_flag_and_the_last_of_a_repeated_one() {
        let args = parse(&[
            "--listen",
            "127.0.0.1:1",
            "--listen",
            "[::1]:2",
            "-f",
            "a/spin.toml",
            "--from",
            "b/spin.toml",
            "--variable",
            "a=b=c",
            "--variable",
            "d=",
            "--component",
            "c.wasm",
            "--no-dev-certificate",
        ])
        .unwrap();
        assert_eq!(args.listen, "[::1]:2".parse::<SocketAddr>().unwrap());
        assert_eq!(args.manifest, PathBuf::from("b/spin.toml"));
        assert_eq!(args.variables, [("a".to_string(), "b=c".to_string()), ("d".to_string(), String::new())]);
        assert_eq!(args.component, Some(PathBuf::from("c.wasm")));
        assert!(!args.dev_certificate && !args.p3);
    }

    #[test]
    fn p3_serves_the_wasi_0_3_artifact_and_excludes_a_component() {
        assert!(parse(&["--p3"]).unwrap().p3);
        assert!(!parse(&[]).unwrap().p3);
        assert!(parse(&["--p3", "--component", "c.wasm"]).is_err());
    }

    #[test]
    fn usage_errors() {
        for bad in [&["--bogus"][..], &["--variable", "x"], &["--listen"], &["--listen", "nope"], &["extra"]] {
            assert!(parse(bad).unwrap_err().use_stderr(), "{bad:?}");
        }
        assert!(!parse(&["--help"]).unwrap_err().use_stderr());
        assert!(!parse(&["-h"]).unwrap_err().use_stderr());
    }

    #[test]
    fn manifest_declares_only_the_named_variables_and_serves_them() {
        let args = parse(&["manifest", "platform", "proxy_secret", "allowed_thumbprints"]).unwrap();
        let Some(Command::Manifest { variables, source }) = args.command else { panic!("not the manifest command") };
        let text = certgate_host::variables::manifest_declaring(&variables, &source).unwrap();
        // The local host reads it as Spin would: three declarations, secrets kept secret,
        // in the table's order, and nothing else declared.
        let mut vars = certgate_host::Variables::from_manifest_text(&text, "certgate").unwrap();
        let names: Vec<&String> = vars.declarations().keys().collect();
        assert_eq!(names, ["allowed_thumbprints", "platform", "proxy_secret"]);
        assert!(vars.declarations()["proxy_secret"].secret);
        assert!(!vars.declarations()["platform"].secret);
        vars.provide("platform", "nginx").unwrap();
        assert!(vars.provide("clock_skew_seconds", "5").is_err(), "undeclared");
        let resolved = vars.resolve().unwrap();
        assert_eq!(resolved.get("platform").map(String::as_str), Some("nginx"));
        assert_eq!(resolved.len(), 3);
        assert!(text.contains("source = \"target/wasm32-wasip2/release/certgate.wasm\""));
        // Each component variable costs one provider lookup per read on Spin.
        let lookups = vars.provider_lookups();
        assert_eq!(lookups["platform"], ["platform"]);
        assert_eq!(lookups.len(), 3);
    }

    #[test]
    fn manifest_refuses_unknown_names_and_needs_at_least_one() {
        let err =
            certgate_host::variables::manifest_declaring(&["platform".to_string(), "plattform".to_string()], "x.wasm")
                .unwrap_err();
        assert!(err.to_string().contains("plattform"), "{err}");
        assert!(parse(&["manifest"]).unwrap_err().use_stderr());
        // A subcommand and the serve flags do not mix.
        assert!(parse(&["--listen", "127.0.0.1:1", "manifest", "platform"]).is_err());
    }

    #[test]
    fn runtime_config_file_is_a_path() {
        let args = parse(&["--runtime-config-file", "rc.toml"]).unwrap();
        assert_eq!(args.runtime_config_file, Some(PathBuf::from("rc.toml")));
        assert!(parse(&[]).unwrap().runtime_config_file.is_none());
        assert!(parse(&["--runtime-config-file"]).unwrap_err().use_stderr());
    }

    #[test]
    fn spin_lookups_is_a_flag() {
        assert!(parse(&["--spin-lookups"]).unwrap().spin_lookups);
        assert!(!parse(&[]).unwrap().spin_lookups);
    }
}
