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
    if std::env::var("TARGET").is_ok_and(|t| t.starts_with("wasm32")) {
        // CERTGATE_STACK_BYTES overrides it, to measure the headroom.
        let size = std::env::var("CERTGATE_STACK_BYTES").ok().and_then(|s| s.parse().ok()).unwrap_or(STACK_BYTES);
        println!("cargo:rustc-link-arg-cdylib=-zstack-size={size}");
    }
}
