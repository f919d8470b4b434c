//! Build what the tests drive: `certgate.wasm` and the config-env adapter
//! (`certgate_config_env.wasm`, for the standalone composition), for wasm32-wasip2 in
//! release, exactly as `cargo build --target wasm32-wasip2 --release` makes them, and pass
//! their paths to the tests as `CERTGATE_WASM` and `CERTGATE_CONFIG_ENV_WASM`.
//!
//! The nested cargo uses a target directory of its own, `<target>/certgate-tests-wasm/<key>`:
//! the outer cargo holds the lock on its own, so building there would wait forever. The key
//! names this checkout: when checkouts share a target directory (.ci/run does), cargo may
//! find its build fresh yet leave `release/certgate.wasm` linked to another checkout's.

use std::path::{Path, PathBuf};
use std::process::Command;

const TARGET: &str = "wasm32-wasip2";

fn main() {
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let root = manifest_dir.parent().expect("tests/ lives in the workspace root").to_path_buf();
    for input in
        ["src", "wit", "build.rs", "Cargo.toml", "Cargo.lock", "rust-toolchain.toml", "adapters/config-env", "examples", "p3", "middleware"]
    {
        println!("cargo:rerun-if-changed={}", root.join(input).display());
    }
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=CERTGATE_STACK_BYTES");
    // Cargo names this package's units by its path inside the workspace, so two checkouts
    // sharing a target directory share this script's output too: without this, a test
    // build in a second checkout finds the first checkout's run fresh (its inputs are the
    // first checkout's files) and tests the first checkout's certgate.wasm. The directory
    // cargo was started in tells the checkouts apart.
    println!("cargo:rerun-if-env-changed=PWD");

    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR"));
    let target_dir = wasm_target_dir(&out_dir, &root);
    check_target_installed();

    // One package per invocation, as `cargo build -p certgate` does, so features are not
    // unified with the adapter's and the component is byte for byte the one users build.
    // The example first: it builds certgate as a library (without its HTTP export), and
    // cargo writes that library's own certgate.wasm too; building certgate next puts the
    // component back in its place. The WASI 0.3 artifact (certgate-p3) uses the library
    // the same way, so it goes first too.
    for package in ["certgate-example-inventory", "certgate-p3", "certgate-middleware", "certgate", "certgate-config-env"] {
        build(&root, &target_dir, package);
    }
    let release = target_dir.join(TARGET).join("release");
    for (var, file) in [
        ("CERTGATE_WASM", "certgate.wasm"),
        ("CERTGATE_CONFIG_ENV_WASM", "certgate_config_env.wasm"),
        ("CERTGATE_EXAMPLE_WASM", "certgate_example_inventory.wasm"),
        ("CERTGATE_P3_WASM", "certgate_p3.wasm"),
        ("CERTGATE_MIDDLEWARE_WASM", "certgate_middleware.wasm"),
    ] {
        let path = release.join(file);
        assert!(path.is_file(), "the build succeeded but {} does not exist", path.display());
        println!("cargo:rustc-env={var}={}", path.display());
    }
    // The component, not the example's library build of it (a few kilobytes, no export).
    let component = std::fs::metadata(release.join("certgate.wasm")).map(|m| m.len()).unwrap_or(0);
    assert!(component > 100_000, "certgate.wasm is {component} bytes: not the component");
}

fn build(root: &Path, target_dir: &Path, package: &str) {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .current_dir(root)
        .args(["build", "--locked", "--release", "--target", TARGET, "-p", package])
        .arg("--manifest-path")
        .arg(root.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(target_dir)
        // Flags cargo encoded for this (native) build must not reach the wasm build.
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_TARGET_DIR")
        .status()
        .unwrap_or_else(|e| panic!("could not run cargo to build {package}: {e}"));
    if !status.success() {
        panic!("building {package} for {TARGET} failed ({status}); the errors are above");
    }
}

/// `<target>/certgate-tests-wasm/<key>`, where `<target>` is the directory cargo tagged with
/// CACHEDIR.TAG above OUT_DIR (the same for every profile, so debug and release tests share
/// one wasm build; OUT_DIR itself if there is none) and `<key>` a hash of the checkout's path.
fn wasm_target_dir(out_dir: &Path, root: &Path) -> PathBuf {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    root.hash(&mut hasher);
    let key = format!("{:016x}", hasher.finish());
    let base = out_dir.ancestors().find(|d| d.join("CACHEDIR.TAG").is_file()).unwrap_or(out_dir);
    base.join("certgate-tests-wasm").join(key)
}

/// Fail with the command to run, rather than rustc's "can't find crate for `core`".
fn check_target_installed() {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let sysroot = Command::new(rustc).args(["--print", "sysroot"]).output().ok().filter(|o| o.status.success());
    if let Some(out) = sysroot {
        let lib = Path::new(String::from_utf8_lossy(&out.stdout).trim()).join("lib/rustlib").join(TARGET);
        if !lib.is_dir() {
            panic!(
                "the {TARGET} target is not installed for this toolchain ({} is missing): run `rustup target add {TARGET}`",
                lib.display()
            );
        }
    }
}
