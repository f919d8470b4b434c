//! `certgate-host`: serve certgate.wasm on 127.0.0.1:3000 like `spin up`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{anyhow, bail, Context, Result};
use certgate_host::{build, devpki, server, Runtime, RuntimeOptions, Variables};

const USAGE: &str = "\
Usage: certgate-host [OPTIONS]

Serve certgate.wasm locally the way `spin up` does.

Options:
  --listen ADDR            address to listen on (default 127.0.0.1:3000)
  --from PATH              spin.toml to read variables from (default: the repository's)
  --variable NAME=VALUE    set an application variable (repeatable); SPIN_VARIABLE_<NAME>
                           environment variables work too, as with Spin
  --component PATH         serve this .wasm instead of building certgate.wasm
  --no-dev-certificate     do not create a development certificate when
                           allowed_thumbprints is unset (the service then reports
                           configuration_error, as the component does)
  -h, --help               show this help
";

/// How long the first wasmtime compile of certgate.wasm takes in the debug host on a
/// 2-core machine (measured 17 s idle and 35 s under load).
const COMPILE_ESTIMATE: &str = "about 20-40 s";

struct Args {
    listen: SocketAddr,
    manifest: PathBuf,
    variables: Vec<(String, String)>,
    component: Option<PathBuf>,
    dev_certificate: bool,
}

fn parse_args() -> Result<Args> {
    let mut args = Args {
        listen: "127.0.0.1:3000".parse()?,
        manifest: build::workspace_root().join("spin.toml"),
        variables: Vec::new(),
        component: None,
        dev_certificate: true,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().ok_or_else(|| anyhow!("{name} needs a value"));
        match arg.as_str() {
            "--listen" => args.listen = value("--listen")?.parse().context("--listen takes HOST:PORT")?,
            "--from" | "-f" => args.manifest = PathBuf::from(value("--from")?),
            "--variable" => {
                let v = value("--variable")?;
                let (name, val) = v.split_once('=').ok_or_else(|| anyhow!("--variable takes NAME=VALUE"))?;
                args.variables.push((name.to_string(), val.to_string()));
            }
            "--component" => args.component = Some(PathBuf::from(value("--component")?)),
            "--no-dev-certificate" => args.dev_certificate = false,
            "-h" | "--help" => {
                print!("{USAGE}");
                std::process::exit(0);
            }
            other => bail!("unknown argument `{other}`\n\n{USAGE}"),
        }
    }
    Ok(args)
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

#[tokio::main]
async fn main() {
    if let Err(e) = run().await {
        eprintln!("Error: {e:#}");
        std::process::exit(1);
    }
}

async fn run() -> Result<()> {
    let args = parse_args()?;
    let component_id = component_id(&args.manifest)?;
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
        let header = variables.value("certificate_header").filter(|h| !h.is_empty()).unwrap_or("X-ARR-ClientCert");
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
    let (runtime, cached) = Runtime::new_cached(&component, &RuntimeOptions::default())?;
    let how = if cached { "loaded from cache" } else { "compiled" };
    println!("Serving http://{addr} (component {how} in {} ms)", started.elapsed().as_millis());
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
