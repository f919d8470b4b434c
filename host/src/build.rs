//! Finding, and if needed building, `certgate.wasm` and its standalone variant.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{anyhow, bail, Context, Result};

/// The workspace root (where `spin.toml` lives).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_default()
}

fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(d) if !d.is_empty() => PathBuf::from(d),
        _ => workspace_root().join("target"),
    }
}

fn release_dir() -> PathBuf {
    target_dir().join("wasm32-wasip2").join("release")
}

/// Where `cargo build --target wasm32-wasip2 --release` puts the component.
pub fn component_path() -> PathBuf {
    release_dir().join("certgate.wasm")
}

/// Where the composed standalone variant goes.
pub fn standalone_path() -> PathBuf {
    release_dir().join("certgate-standalone.wasm")
}

fn cargo_build_wasm(package: &str) -> Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .current_dir(workspace_root())
        .args(["build", "--quiet", "--target", "wasm32-wasip2", "--release", "-p", package])
        .status()
        .with_context(|| format!("could not run cargo to build {package}"))?;
    if !status.success() {
        bail!("building {package} for wasm32-wasip2 failed ({status})");
    }
    Ok(())
}

fn existing(path: PathBuf) -> Result<PathBuf> {
    if !path.exists() {
        bail!("the build succeeded but {} does not exist", path.display());
    }
    Ok(path)
}

/// Run `cargo build --target wasm32-wasip2 --release -p certgate` (a no-op when up to
/// date) and return the component's path.
pub fn build_component() -> Result<PathBuf> {
    cargo_build_wasm("certgate")?;
    existing(component_path())
}

/// Find the `wac` CLI (crates.io `wac-cli`) on PATH or in cargo's bin directory.
fn wac() -> Result<PathBuf> {
    let on_path = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).map(|d| d.join("wac")).collect::<Vec<_>>())
        .unwrap_or_default();
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")));
    on_path
        .into_iter()
        .chain(cargo_home.map(|h| h.join("bin").join("wac")))
        .find(|p| p.is_file())
        .ok_or_else(|| anyhow!("`wac` not found: `cargo install wac-cli --locked` (scripts/test does)"))
}

/// Build certgate.wasm and the config-env adapter and compose them with `wac plug` into
/// certgate-standalone.wasm, which needs no `wasi:config` from its host.
pub fn build_standalone() -> Result<PathBuf> {
    let certgate = build_component()?;
    cargo_build_wasm("certgate-config-env")?;
    let adapter = existing(release_dir().join("certgate_config_env.wasm"))?;
    let out = standalone_path();
    let status = Command::new(wac()?)
        .arg("plug")
        .arg(&certgate)
        .arg("--plug")
        .arg(&adapter)
        .arg("-o")
        .arg(&out)
        .status()
        .context("could not run wac")?;
    if !status.success() {
        bail!("wac plug failed ({status})");
    }
    existing(out)
}
