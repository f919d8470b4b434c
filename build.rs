//! The guest's stack size. Rust's wasm32 default is 1 MiB, placed below the data in linear
//! memory; a host that keeps pooled memory resident between instances (certgate-host, or
//! wasmtime with `linear_memory_keep_resident`) zeroes all of it after every request, though
//! certgate uses a few KiB. 256 KiB is eight times what the whole test suite needs: it passes
//! with 32 KiB, RSA-4096 chains included; with 16 KiB only the deepest JSON `pins` (127
//! nested arrays, serde_json's limit) overflows, and `tests/wasm.rs` has that case. A
//! stack overflow in wasm32 runs below address 0 and traps; it cannot overwrite data.

const STACK_BYTES: u32 = 256 * 1024;

fn main() {
    println!("cargo:rerun-if-env-changed=CERTGATE_STACK_BYTES");
    // What the chain cache's trust digest names as "this build": the exact dependency set
    // (rustls-webpki, RustCrypto) from Cargo.lock when this crate is built in its own
    // workspace, so a dependency update starts the cache afresh even without a new version.
    let lock = std::path::Path::new(&std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default()).join("Cargo.lock");
    println!("cargo:rerun-if-changed={}", lock.display());
    let lock_hash = std::fs::read(&lock).map(|bytes| fnv1a(&bytes)).unwrap_or(0);
    println!("cargo:rustc-env=CERTGATE_LOCK_HASH={lock_hash:016x}");
    if std::env::var("TARGET").is_ok_and(|t| t.starts_with("wasm32")) {
        // CERTGATE_STACK_BYTES overrides it, to measure the headroom.
        let size = std::env::var("CERTGATE_STACK_BYTES").ok().and_then(|s| s.parse().ok()).unwrap_or(STACK_BYTES);
        println!("cargo:rustc-link-arg-cdylib=-zstack-size={size}");
    }
}

/// FNV-1a, 64 bits: a label for the lock file's contents (a cache discriminator, not a
/// security boundary: the digest it feeds is SHA-256 over the configuration itself).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3))
}
