//! Finding, and if needed building, `certgate.wasm`.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

/// The workspace root (where `spin.toml` lives).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(d) if !d.is_empty() => PathBuf::from(d),
        _ => workspace_root().join("target"),
    }
}

/// Where `cargo build --target wasm32-wasip2 --release` puts the component.
pub fn component_path() -> PathBuf {
    target_dir()
        .join("wasm32-wasip2")
        .join("release")
        .join("certgate.wasm")
}

/// Run `cargo build --target wasm32-wasip2 --release -p certgate` (a no-op when up to
/// date) and return the component's path.
pub fn build_component() -> Result<PathBuf> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .current_dir(workspace_root())
        .args([
            "build",
            "--quiet",
            "--target",
            "wasm32-wasip2",
            "--release",
            "-p",
            "certgate",
        ])
        .status()
        .context("could not run cargo to build certgate.wasm")?;
    if !status.success() {
        bail!("building certgate.wasm failed ({status})");
    }
    let path = component_path();
    if !path.exists() {
        bail!("cargo succeeded but {} does not exist", path.display());
    }
    Ok(path)
}
