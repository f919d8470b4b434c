//! certgate: authenticate clients by the TLS client certificate that a terminator
//! forwards in a request header.
//!
//! The modules below are pure logic (no host bindings), tested natively and fuzzed;
//! `component` is the thin `wasi:http` glue compiled only for WebAssembly.

pub mod certificate;
pub mod config;
pub mod decision;
pub mod extract;
pub mod gate;
pub mod log;
pub mod platform;
pub mod policy;
pub mod reason;
pub mod service;
pub mod thumbprint;
pub mod trust;

pub use config::{ConfigError, VariableSource};
pub use decision::{Denied, Identity, RequestHeaders, TrustedBy};
pub use gate::Gate;
pub use reason::{Reason, Refusal};

#[cfg(all(target_arch = "wasm32", feature = "component"))]
mod component;
