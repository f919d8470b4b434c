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

/// The target certgate and its adapters are built for.
pub const WASM_TARGET: &str = "wasm32-wasip2";

/// About how long a cold `cargo build --target wasm32-wasip2 --release -p certgate` takes
/// on a 2-core machine: 118 s of CPU (measured), so one to two minutes idle and several
/// under load (6 min 55 s measured with four other builds running). Later builds reuse it.
pub const FIRST_BUILD_ESTIMATE: &str = "1-2 minutes on two idle cores, longer when they are busy";

/// What [`ensure_target`] asks of the Rust toolchain; a trait so tests can stand in for
/// rustc and rustup.
pub trait Toolchain {
    /// Whether the toolchain that `cargo build` will use has the standard library for `target`.
    fn has_target(&self, target: &str) -> Result<bool>;
    /// Whether rustup is there to add a target.
    fn has_rustup(&self) -> bool;
    /// Run `rustup target add <target>` for that toolchain.
    fn add_target(&self, target: &str) -> Result<()>;
}

/// The toolchain `cargo build` picks in the workspace root (rust-toolchain.toml, or
/// `RUSTUP_TOOLCHAIN`/`RUSTC` when set), asked through `rustc` and `rustup` there.
pub struct ActiveToolchain {
    dir: PathBuf,
}

impl ActiveToolchain {
    /// The toolchain active in `dir`.
    pub fn in_dir(dir: PathBuf) -> Self {
        ActiveToolchain { dir }
    }
}

impl Toolchain for ActiveToolchain {
    fn has_target(&self, target: &str) -> Result<bool> {
        let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
        let out = Command::new(&rustc)
            .current_dir(&self.dir)
            .args(["--print", "target-libdir", "--target", target])
            .output()
            .with_context(|| format!("could not run {}", Path::new(&rustc).display()))?;
        if !out.status.success() {
            // A rustc that does not know the target at all has no standard library for it.
            return Ok(false);
        }
        let libdir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        // rustc prints the directory whether or not it exists; it holds libcore-*.rlib
        // once the target's rust-std is installed.
        Ok(std::fs::read_dir(&libdir)
            .map(|entries| entries.flatten().any(|e| e.file_name().to_string_lossy().starts_with("libcore-")))
            .unwrap_or(false))
    }

    fn has_rustup(&self) -> bool {
        Command::new("rustup")
            .current_dir(&self.dir)
            .arg("--version")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(false)
    }

    fn add_target(&self, target: &str) -> Result<()> {
        let status = Command::new("rustup")
            .current_dir(&self.dir)
            .args(["target", "add", target])
            .status()
            .context("could not run rustup")?;
        if !status.success() {
            bail!("`rustup target add {target}` failed ({status})");
        }
        Ok(())
    }
}

/// Make sure `toolchain` can build for `target`: nothing when it can; when it cannot and
/// rustup is there, say so on `log` and run `rustup target add` (rustup installs the
/// targets rust-toolchain.toml lists only when it installs the toolchain itself, so a
/// toolchain that was already there lacks them); otherwise fail with what to run.
pub fn ensure_target(toolchain: &impl Toolchain, target: &str, log: &mut impl std::io::Write) -> Result<()> {
    if toolchain.has_target(target)? {
        return Ok(());
    }
    let command = format!("rustup target add {target}");
    if !toolchain.has_rustup() {
        bail!(
            "the Rust toolchain has no standard library for {target}, and rustup is not on PATH to add it; \
             with rustup, run `{command}` in {}; otherwise install your toolchain's {target} rust-std",
            workspace_root().display()
        );
    }
    let _ = writeln!(
        log,
        "certgate-host: running `{command}`: the component is built for {target}, which this toolchain lacks \
         (rustup adds rust-toolchain.toml's targets only when it installs the toolchain)"
    );
    toolchain
        .add_target(target)
        .with_context(|| format!("run `{command}` in {} and try again", workspace_root().display()))?;
    if !toolchain.has_target(target)? {
        bail!("`{command}` succeeded but the toolchain still has no {target} standard library");
    }
    Ok(())
}

/// Build one workspace package for wasm32-wasip2 in release mode (a no-op when up to date)
/// and return `<target>/wasm32-wasip2/release/<artifact>`. The first build of an artifact
/// says what it is doing and about how long it takes, and shows cargo's progress.
pub fn build_wasm(package: &str, artifact: &str) -> Result<PathBuf> {
    ensure_target(&ActiveToolchain::in_dir(workspace_root()), WASM_TARGET, &mut std::io::stderr())?;
    let path = release_dir().join(artifact);
    let first = !path.exists();
    let mut args = vec!["build", "--target", WASM_TARGET, "--release", "-p", package];
    if first {
        eprintln!(
            "certgate-host: building {artifact} (cargo {}); the first build takes {FIRST_BUILD_ESTIMATE}, \
             later ones reuse it",
            args.join(" ")
        );
    } else {
        args.insert(1, "--quiet");
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .current_dir(workspace_root())
        .args(&args)
        .status()
        .with_context(|| format!("could not run cargo to build {package}"))?;
    if !status.success() {
        bail!("building {package} for {WASM_TARGET} failed ({status})");
    }
    existing(path)
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
    build_wasm("certgate", "certgate.wasm")
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
    let adapter = build_wasm("certgate-config-env", "certgate_config_env.wasm")?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    /// A toolchain whose target is installed or not, with or without rustup.
    struct Fake {
        installed: Cell<bool>,
        rustup: bool,
        add_installs: bool,
        add_fails: bool,
        adds: Cell<u32>,
    }

    fn fake(installed: bool, rustup: bool) -> Fake {
        Fake { installed: Cell::new(installed), rustup, add_installs: true, add_fails: false, adds: Cell::new(0) }
    }

    impl Toolchain for Fake {
        fn has_target(&self, target: &str) -> Result<bool> {
            assert_eq!(target, WASM_TARGET);
            Ok(self.installed.get())
        }
        fn has_rustup(&self) -> bool {
            self.rustup
        }
        fn add_target(&self, target: &str) -> Result<()> {
            assert_eq!(target, WASM_TARGET);
            self.adds.set(self.adds.get() + 1);
            if self.add_fails {
                bail!("`rustup target add {target}` failed (exit status: 1)");
            }
            if self.add_installs {
                self.installed.set(true);
            }
            Ok(())
        }
    }

    fn ensure(toolchain: &Fake) -> (Result<()>, String) {
        let mut log = Vec::new();
        let result = ensure_target(toolchain, WASM_TARGET, &mut log);
        (result, String::from_utf8(log).unwrap())
    }

    #[test]
    fn an_installed_target_needs_nothing() {
        let toolchain = fake(true, true);
        let (result, log) = ensure(&toolchain);
        result.unwrap();
        assert_eq!(toolchain.adds.get(), 0);
        assert_eq!(log, "");
    }

    #[test]
    fn a_missing_target_is_added_through_rustup_saying_so() {
        let toolchain = fake(false, true);
        let (result, log) = ensure(&toolchain);
        result.unwrap();
        assert_eq!(toolchain.adds.get(), 1);
        assert!(toolchain.installed.get());
        assert_eq!(log.lines().count(), 1, "{log}");
        assert!(log.starts_with("certgate-host: running `rustup target add wasm32-wasip2`: "), "{log}");
    }

    #[test]
    fn without_rustup_the_error_names_the_command() {
        let toolchain = fake(false, false);
        let (result, log) = ensure(&toolchain);
        let message = format!("{:#}", result.unwrap_err());
        assert!(message.contains("run `rustup target add wasm32-wasip2` in "), "{message}");
        assert_eq!(toolchain.adds.get(), 0);
        assert_eq!(log, "");
    }

    #[test]
    fn a_failing_rustup_leaves_the_command_to_run() {
        let mut toolchain = fake(false, true);
        toolchain.add_fails = true;
        let message = format!("{:#}", ensure(&toolchain).0.unwrap_err());
        assert!(message.starts_with("run `rustup target add wasm32-wasip2` in "), "{message}");
        assert!(message.ends_with("failed (exit status: 1)"), "{message}");
    }

    #[test]
    fn a_target_still_missing_after_rustup_is_an_error() {
        let mut toolchain = fake(false, true);
        toolchain.add_installs = false;
        let message = format!("{:#}", ensure(&toolchain).0.unwrap_err());
        assert!(message.contains("still has no wasm32-wasip2 standard library"), "{message}");
        assert_eq!(toolchain.adds.get(), 1);
    }

    #[test]
    fn the_real_toolchain_has_its_own_target_and_not_a_made_up_one() {
        let toolchain = ActiveToolchain::in_dir(workspace_root());
        let native = std::env::consts::ARCH.to_string() + "-unknown-linux-gnu";
        if cfg!(target_os = "linux") && cfg!(target_env = "gnu") {
            assert!(toolchain.has_target(&native).unwrap());
        }
        assert!(!toolchain.has_target("wasm32-no-such-target").unwrap());
    }
}
